#!/bin/bash
# test-image-vhd.sh: VHDs written by ferry read exactly by qemu-img, VHDs
# written by qemu-img read exactly by ferry, differencing chains, and the
# hostile corpus refused with one-line errors.
source "$(dirname "$0")/../functions.sh"
requires qemu-img python3

t=$(mktmpdir)
# mktmpdir registers its cleanup inside the $(...) subshell, where it is lost.
cleanup_fn "rm -rf '$t'"
cd "$t"
MIB=1048576

qemu_size () {
    qemu-img info -f vpc --output=json "$1" |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["virtual-size"])'
}

# qemu-img check exits 63 for formats without checks (vpc); anything else
# but 0 is a failure.
qemu_check () {
    local rc=0
    qemu-img check -f vpc "$1" >/dev/null 2>&1 || rc=$?
    [ "$rc" -eq 0 ] || [ "$rc" -eq 63 ] || fail "qemu-img check '$1' exit $rc"
}

make_test_disk src.raw 130

echo "== ferry writes fixed and dynamic VHDs; qemu-img reads them"
for sub in dynamic fixed; do
    $FERRY copy src.raw "$sub.vhd" -O vhd -o subformat="$sub" -q
    # qemu probes VHD by the footer copy at offset 0, which fixed disks lack.
    qemu-img compare -q -f raw -F vpc src.raw "$sub.vhd" ||
        fail "qemu-img compare: src.raw and $sub.vhd differ"
    [ "$(qemu_size "$sub.vhd")" -eq $((130 * MIB)) ] ||
        fail "$sub.vhd: qemu sees $(qemu_size "$sub.vhd") bytes"
    qemu_check "$sub.vhd"
    $FERRY check "$sub.vhd" >/dev/null || fail "ferry check $sub.vhd"
    $FERRY info "$sub.vhd" | grep -Eq "^subformat[[:space:]]+$sub$" ||
        fail "ferry info $sub.vhd: no subformat $sub"
    $FERRY info --json "$sub.vhd" | python3 -c '
import json, sys
j = json.load(sys.stdin)
assert j["format"] == "vhd" and j["virtual_size"] == 130 * 1048576, j' ||
        fail "ferry info --json $sub.vhd"
done
qemu_compare src.raw dynamic.vhd      # dynamic ones are found by probing too

echo "== qemu-img writes VHDs; ferry reads them as qemu does"
for opts in "" "force_size=on" "subformat=fixed" "subformat=fixed,force_size=on"; do
    rm -f q.vhd q.raw
    qemu-img convert -f raw -O vpc ${opts:+-o "$opts"} src.raw q.vhd
    $FERRY check q.vhd >/dev/null || fail "ferry check of qemu's vpc ($opts)"
    $FERRY copy q.vhd q.raw -O raw -q
    qsize=$(qemu_size q.vhd)
    [ "$(stat -c %s q.raw)" -eq "$qsize" ] ||
        fail "($opts) ferry reads $(stat -c %s q.raw) bytes, qemu $qsize"
    qemu-img compare -q -f vpc -F raw q.vhd q.raw ||
        fail "($opts) ferry's read of q.vhd differs from qemu's"
    if [ "$qsize" -eq $((130 * MIB)) ]; then
        cmp src.raw q.raw || fail "($opts) q.raw differs from src.raw"
    else
        # Without force_size qemu rounds the size up to CHS; the prefix
        # is the source and the excess reads as zeros.
        cmp -n $((130 * MIB)) src.raw q.raw || fail "($opts) prefix differs"
        qemu-img compare -q -f raw -F raw src.raw q.raw ||
            fail "($opts) excess not zero"
    fi
done

echo "== differencing chain made by ferry"
make_test_disk parent.raw 40
cp parent.raw child.raw
# New data (partial sectors), zeroed data that the parent has, a new block.
head -c 5000 /dev/urandom | dd of=child.raw bs=1 seek=3000001 conv=notrunc status=none
dd if=/dev/zero of=child.raw bs=4096 count=8 seek=$((5 * 256)) conv=notrunc status=none
head -c 70000 /dev/urandom | dd of=child.raw bs=1 seek=$((25 * MIB + 3)) conv=notrunc status=none
$FERRY copy parent.raw parent.vhd -O vhd -q
$FERRY copy child.raw child.vhd -O vhd -o backing=parent.vhd -q
$FERRY check child.vhd >/dev/null || fail "ferry check child.vhd"
$FERRY info child.vhd | grep -Eq '^subformat[[:space:]]+differencing$' ||
    fail "child.vhd is not differencing"
[ "$(stat -c %s child.vhd)" -lt $((12 * MIB)) ] ||
    fail "child.vhd holds more than the differences"
$FERRY copy child.vhd flat.raw -O raw -q
cmp child.raw flat.raw || fail "flattened chain differs from child.raw"

# qemu-img has no VHD differencing support: it reads a child as a plain
# dynamic disk.  Its view must hold the child's data wherever the child
# differs from the parent, and only child data or zeros elsewhere.
qemu_check child.vhd
qemu-img convert -f vpc -O raw child.vhd qview.raw
python3 - <<'EOF' || fail "qemu's view of child.vhd is wrong"
p, c, q = (open(n, 'rb').read() for n in ('parent.raw', 'child.raw', 'qview.raw'))
assert len(q) == len(c), (len(q), len(c))
z = bytes(512)
for o in range(0, len(c), 512):
    cs, qs = c[o:o + 512], q[o:o + 512]
    if cs != p[o:o + 512]:
        assert qs == cs, "sector %d: child data missing" % (o // 512)
    else:
        assert qs in (cs, z), "sector %d: stray data" % (o // 512)
EOF

# Moved together, the chain is found again through the relative locator.
mkdir moved
cp parent.vhd child.vhd moved/
mv parent.vhd parent.vhd.away
$FERRY copy moved/child.vhd moved.raw -O raw -q
cmp child.raw moved.raw || fail "moved chain differs"
expect_fail "parent 'parent\.vhd' not found" $FERRY info child.vhd
# A different parent under the right name is refused by its unique id.
$FERRY copy parent.raw parent.vhd -O vhd -q
expect_fail "parent '.*parent\.vhd' has unique id .*, expected " $FERRY info child.vhd

echo "== sizes"
truncate -s 2041G huge.raw
expect_fail "vhd: '.*huge\.vhd[^']*': size [0-9]+ exceeds the VHD limit of 2040 GiB" \
    $FERRY copy huge.raw huge.vhd -O vhd -q
[ ! -e huge.vhd ] || fail "huge.vhd left behind"

echo "== block sizes"
# 512 KiB by default (as Azure's tools write), 1 or 2 MiB on request
# (2 MiB: what Hyper-V and qemu-img make); each read back by qemu.
$FERRY info dynamic.vhd | grep -q "^block_size *524288$" || fail "default block size: $($FERRY info dynamic.vhd)"
for bs in 1M:1048576 2M:2097152; do
    $FERRY copy -q -o block_size="${bs%:*}" src.raw "bs-${bs%:*}.vhd"
    $FERRY info "bs-${bs%:*}.vhd" | grep -q "^block_size *${bs#*:}$" || fail "block_size=${bs%:*} not written"
    qemu-img compare -q -f raw -F vpc src.raw "bs-${bs%:*}.vhd" || fail "block_size=${bs%:*}: differs"
done
expect_fail "block size 3145728 is not 512K, 1M or 2M" $FERRY copy -q -o block_size=3M src.raw bad.vhd
expect_fail "'2X' is not a size" $FERRY copy -q -o block_size=2X src.raw bad.vhd
[ ! -e bad.vhd ] || fail "a refused block size left bad.vhd"

echo "== hostile corpus"
bash "$TESTS_DIR/data/gen-hostile-vhd.sh" hostile
n=0
while IFS=$'\t' read -r f re; do
    [ -n "$f" ] || continue
    expect_fail "$re" $FERRY info "hostile/$f"
    rc=0
    $FERRY check "hostile/$f" >/dev/null 2>&1 || rc=$?
    [ "$rc" -ne 0 ] && [ "$rc" -lt 128 ] ||
        fail "ferry check hostile/$f: exit $rc"
    n=$((n + 1))
done < "$TESTS_DIR/data/hostile-vhd.expect"
[ "$n" -ge 9 ] || fail "only $n hostile files replayed"

echo "PASS: test-image-vhd ($n hostile files)"
