#!/bin/bash
# A real consumer: virt-v2v -i ova accepts Ferry's VMware-flavour OVA of
# the reference guest (manifest verified, OVF parsed, streamOptimized disk
# read in place from the tar) and converts it, with -o null.  ~4 minutes
# under TCG.
source "$(dirname "$0")/../functions.sh"
requires virt-v2v
src=$("$TESTS_DIR/guests.sh" "$BUILDDIR" debian12-ahci)
t=$(mktmpdir)
export LIBGUESTFS_BACKEND=${LIBGUESTFS_BACKEND:-direct}

"$FERRY" export -q "$src" -o "$t/ref.ova" --os debian64 --memory 1024 --cpus 2
virt-v2v -i ova "$t/ref.ova" -o null > "$t/v2v.log" 2>&1 ||
    fail "virt-v2v refused the OVA: $(tail -5 "$t/v2v.log")"
grep -q "Finishing off" "$t/v2v.log" || fail "virt-v2v did not finish: $(tail -5 "$t/v2v.log")"
echo ok
