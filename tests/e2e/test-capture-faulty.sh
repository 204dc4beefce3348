#!/bin/bash
# Dying disks, served over NBD: nbdkit's error filter (transient errors are
# retried away; permanent ones fail --strict), and a disk whose sectors
# 2056..2063 are unreadable (nbdkit eval plugin): the capture completes,
# zero-fills exactly those, and lists them.  No output is left on failure.
source "$(dirname "$0")/../functions.sh"
requires nbdkit qemu-img
t=$(mktmpdir)
"$TESTS_DIR/make-demo-disk.sh" "$t/disk.img"
"$FERRY" capture -q "$t/disk.img" -o "$t/clean.raw" -O raw

serve () {   # serve SOCKET nbdkit-args...
    local sock=$1; shift
    nbdkit -U "$sock" -P "$sock.pid" "$@"
    cleanup_fn "kill \$(cat '$sock.pid') 2>/dev/null"
    for _ in $(seq 50); do [ -S "$sock" ] && return; sleep 0.1; done
    fail "nbdkit did not start"
}

# 1. Transient errors on 40% of reads: retries recover everything.
serve "$t/flaky.sock" --filter=error file "$t/disk.img" error-pread-rate=40% error-pread=EIO
"$FERRY" capture --retries 40 --json "nbd+unix:///?socket=$t/flaky.sock" -o "$t/flaky.raw" -O raw > "$t/flaky.json"
grep -q '"bytes_unreadable":0' "$t/flaky.json" || fail "transient errors left holes: $(cat "$t/flaky.json")"
cmp "$t/clean.raw" "$t/flaky.raw" || fail "capture through transient errors differs"

# 2. Every read fails: --strict stops at once and leaves no output.
serve "$t/dead.sock" --filter=error file "$t/disk.img" error-pread-rate=100%
expect_fail "unreadable source \(--strict\)" \
    "$FERRY" capture --strict "nbd+unix:///?socket=$t/dead.sock" -o "$t/dead.vhd"
[ ! -e "$t/dead.vhd" ] || fail "--strict left an output"
[ -z "$(ls -A "$t" | grep ferry-tmp || true)" ] || fail "temporary file left behind"

# 3. A bad range: sectors 2056..2063 (bytes 1052672..1056767).
serve "$t/bad.sock" eval get_size="stat -c %s '$t/disk.img'" pread='
if [ $4 -lt 1056768 ] && [ $(($4 + $3)) -gt 1052672 ]; then
    echo "EIO bad sector" >&2; exit 1; fi
dd if='"'$t/disk.img'"' iflag=skip_bytes,count_bytes skip=$4 count=$3 status=none'
"$FERRY" capture --json "nbd+unix:///?socket=$t/bad.sock" -o "$t/bad.qcow2" > "$t/bad.json"
grep -q '"unreadable_ranges":\[{"offset":1052672,"length":4096}\]' "$t/bad.json" ||
    fail "bad range not reported exactly: $(cat "$t/bad.json")"
qemu-img convert -O raw "$t/bad.qcow2" "$t/bad.raw"
cmp -n 1052672 "$t/clean.raw" "$t/bad.raw" || fail "data before the bad range differs"
[ "$(dd if="$t/bad.raw" bs=512 skip=2056 count=8 status=none | tr -d '\0' | wc -c)" -eq 0 ] ||
    fail "bad sectors not zero-filled"
cmp -i 1056768 "$t/clean.raw" "$t/bad.raw" || fail "data after the bad range differs"
echo ok
