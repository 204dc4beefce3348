#!/bin/bash
# The hostile filesystem corpus (tests/data/gen-hostile-fsmap.sh: FAT,
# exFAT, NTFS and btrfs whose headers lie about sizes, counts, offsets,
# levels; dirty and log-awaiting states) captured whole-disk by `ferry
# capture`: never a crash or a failure; the valid seeds are mapped by their
# used blocks; whatever a map refuses is copied in full, identical to the
# source; the dirty exFAT says why in --json.
source "$(dirname "$0")/../functions.sh"
requires qemu-img mkfs.vfat mcopy mkfs.exfat mkntfs ntfscp mkfs.btrfs python3
t=$(mktmpdir)
for fs in fat exfat ntfs btrfs; do
    "$TESTS_DIR/data/gen-hostile-fsmap.sh" "$fs" "$t/$fs"
done
n=0
for f in "$t"/*/seed-*; do
    name=$(basename "$(dirname "$f")")-${f##*/seed-}
    "$TESTS_DIR/data/fsmap-sparse.py" -d "$f" "$t/src.raw" $((136 << 20))
    rc=0
    "$FERRY" capture --json "$t/src.raw" -o "$t/cap.qcow2" -O qcow2 \
        > "$t/out.json" 2> "$t/err" || rc=$?
    [ "$rc" -eq 0 ] || fail "$name: capture exit $rc :: $(cat "$t/err")"
    policy=$(python3 -c 'import json, sys
p = json.load(open(sys.argv[1]))["captures"][0]["partitions"][0]
why = p.get("warning") or p.get("note") or ""
print(p["policy"], p["filesystem"], "warned" if "dirty" in why else "-")' "$t/out.json")
    case $name in
        fat-fat12|fat-fat16|fat-fat32|exfat-exfat|ntfs-ntfs|btrfs-btrfs)
            [ "${policy%% *}" = used-blocks ] || fail "$name: valid, but $policy" ;;
        exfat-dirty)
            [ "$policy" = "non-zero exfat warned" ] || fail "$name: $policy" ;;
    esac
    if [ "${policy%% *}" != used-blocks ]; then
        qemu-img compare -q -f raw -F qcow2 "$t/src.raw" "$t/cap.qcow2" ||
            fail "$name: copied in full ($policy) but differs from the source"
    fi
    qemu-img check -q "$t/cap.qcow2" || fail "$name: qemu-img check"
    rm -f "$t/cap.qcow2" "$t/src.raw"
    n=$((n + 1))
done
[ "$n" -ge 25 ] || fail "only $n hostile images"
echo "ok ($n images)"
