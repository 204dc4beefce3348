#!/bin/bash
# test-image-vmdk.sh: VMDK with qemu-img as the judge — ferry's
# streamOptimized output (VMware's footer layout) reads back identical in
# qemu-img and checks clean; qemu-img's streamOptimized and monolithicSparse
# images convert back to the source; every hostile image is refused with
# its one-line error and fails `ferry check`.
source "$(dirname "$0")/../functions.sh"
requires qemu-img

t=$(mktmpdir)
data="$TESTS_DIR/data"

# desc_has FILE STRING: the embedded descriptor (sectors 1-20) holds STRING.
desc_has () {
    head -c 11264 "$1" > "$t/desc.txt"
    grep -aqF -- "$2" "$t/desc.txt"
}

# ---- ferry writes, qemu-img judges --------------------------------------
make_test_disk "$t/src.raw" 130
for adapter in lsilogic ide; do
    "$FERRY" copy -q "$t/src.raw" "$t/$adapter.vmdk" -O vmdk \
        -o subformat=streamOptimized -o adapter_type=$adapter
    qemu_compare "$t/src.raw" "$t/$adapter.vmdk"
    qemu-img check -q "$t/$adapter.vmdk" || fail "qemu-img check: $adapter.vmdk"
    "$FERRY" check "$t/$adapter.vmdk" >/dev/null || fail "ferry check: $adapter.vmdk"
    qemu-img info --output=json "$t/$adapter.vmdk" > "$t/qinfo.json"
    grep -q '"create-type": "streamOptimized"' "$t/qinfo.json" ||
        fail "qemu-img does not see streamOptimized in $adapter.vmdk"
    desc_has "$t/$adapter.vmdk" "ddb.adapterType = \"$adapter\"" ||
        fail "$adapter.vmdk: descriptor lacks adapter $adapter"
done
"$FERRY" info "$t/lsilogic.vmdk" > "$t/info.txt"
grep -Eq '^subformat +streamOptimized$' "$t/info.txt" || fail "ferry info: subformat"
"$FERRY" info --json "$t/lsilogic.vmdk" > "$t/info.json"
grep -q '"compressed":"yes"' "$t/info.json" || fail "ferry info --json: compressed"
# The extent line names the final file, not the copy's temporary name.
desc_has "$t/lsilogic.vmdk" 'RW 266240 SPARSE "lsilogic.vmdk"' ||
    fail "lsilogic.vmdk: extent line"

# A size that is not a multiple of 64 KiB (nor of 512): the last grain is
# partial and the capacity rounds up to a whole sector.
head -c 1000000 /dev/urandom > "$t/odd.raw"
"$FERRY" copy -q "$t/odd.raw" "$t/odd.vmdk" -O vmdk
truncate -s 1000448 "$t/odd.raw"
qemu_compare "$t/odd.raw" "$t/odd.vmdk"

# ---- qemu-img writes, ferry reads ---------------------------------------
for sub in streamOptimized monolithicSparse; do
    qemu-img convert -O vmdk -o subformat=$sub "$t/src.raw" "$t/q-$sub.vmdk"
    "$FERRY" info "$t/q-$sub.vmdk" > "$t/info.txt"
    grep -Eq "^subformat +$sub\$" "$t/info.txt" || fail "ferry info: q-$sub.vmdk subformat"
    "$FERRY" check "$t/q-$sub.vmdk" >/dev/null || fail "ferry check: q-$sub.vmdk"
    "$FERRY" copy -q "$t/q-$sub.vmdk" "$t/back-$sub.raw" -O raw
    cmp "$t/src.raw" "$t/back-$sub.raw" || fail "q-$sub.vmdk reads back different"
done
# ferry reads its own output too (and a stream into a stream).
"$FERRY" copy -q "$t/lsilogic.vmdk" "$t/again.vmdk" -O vmdk
"$FERRY" copy -q "$t/again.vmdk" "$t/again.raw" -O raw
cmp "$t/src.raw" "$t/again.raw" || fail "vmdk -> vmdk -> raw differs"

# ---- hostile images -----------------------------------------------------
# Header, descriptor, GD and GT problems stop `ferry info`; a broken grain
# (marker, zlib bomb) is found when its data is read, as in QEMU.
read_all () {
    "$FERRY" info "$1" >/dev/null && "$FERRY" copy -q --force "$1" "$t/h.raw" -O raw
}
bash "$data/gen-hostile-vmdk.sh" "$t/h"
"$FERRY" check "$t/h/valid-stream.vmdk" >/dev/null || fail "valid-stream.vmdk is not clean"
head -c 65536 /dev/zero | tr '\0' 'U' > "$t/valid.raw"
truncate -s 1M "$t/valid.raw"
qemu_compare "$t/valid.raw" "$t/h/valid-stream.vmdk"
n=0
while IFS=$'\t' read -r name re; do
    case $name in ''|'#'*) continue ;; esac
    expect_fail "$re" read_all "$t/h/$name"
    rc=0; "$FERRY" check "$t/h/$name" >/dev/null 2>&1 || rc=$?
    [ "$rc" -ne 0 ] && [ "$rc" -lt 128 ] || fail "ferry check $name: exit $rc"
    n=$((n + 1))
done < "$data/hostile-vmdk.expect"
[ "$n" -ge 20 ] || fail "only $n hostile images replayed"
echo "PASS: test-image-vmdk ($n hostile images refused)"
