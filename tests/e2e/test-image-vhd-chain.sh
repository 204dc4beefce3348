#!/bin/bash
# test-image-vhd-chain.sh: ferry reads VHD differencing chains that it did
# not write.  qemu-img cannot read VHD chains (its vpc driver ignores
# parents), so the parent is a dynamic VHD from qemu-img and the children
# are built by tests/data/make-vhd-child.py, written from Microsoft's spec
# independently of ferry.
source "$(dirname "$0")/../functions.sh"
requires python3 qemu-img

MKCHILD="$TESTS_DIR/data/make-vhd-child.py"
t=$(mktmpdir)
# mktmpdir registers its cleanup inside the $(...) subshell, where it is lost.
cleanup_fn "rm -rf '$t'"
cd "$t"
MIB=1048576
MB=41                       # not a whole number of 2 MiB blocks

# put FILE OFFSET COUNT [SOURCE]: overwrite COUNT bytes of FILE at byte
# OFFSET with random data (or with SOURCE, e.g. /dev/zero).
put () {
    head -c "$3" "${4:-/dev/urandom}" |
        dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

json_field () {       # json_field FILE FIELD: one field of `ferry info --json`
    $FERRY info --json "$1" |
        python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$2"
}

# check_chain VHD RAW PARENT: ferry reads VHD as RAW, names PARENT as its
# backing file, and finds nothing wrong with it.
check_chain () {
    local vhd=$1 raw=$2 parent=$3
    rm -f out.raw
    $FERRY copy "$vhd" out.raw -O raw -q || fail "ferry copy $vhd"
    cmp "$raw" out.raw || fail "ferry's read of $vhd differs from $raw"
    $FERRY check "$vhd" >/dev/null || fail "ferry check $vhd"
    $FERRY info --json "$vhd" | python3 -c '
import json, os, sys
j = json.load(sys.stdin)
parent, pid, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
assert j["format"] == "vhd" and j["subformat"] == "differencing", j
assert j["virtual_size"] == size, j
assert os.path.realpath(j["backing"]) == os.path.realpath(parent), j
assert j["parent_unique_id"] == pid, (j, pid)' \
        "$parent" "$(json_field "$parent" unique_id)" "$(stat -c %s "$raw")" ||
        fail "ferry info --json $vhd: wrong backing or parent"
}

echo "== parent: a dynamic VHD written by qemu-img"
make_test_disk parent.raw $MB
qemu-img convert -f raw -O vpc -o subformat=dynamic,force_size=on parent.raw parent.vhd
qemu_compare parent.raw parent.vhd
[ "$(json_field parent.vhd subformat)" = dynamic ] || fail "parent.vhd not dynamic"

echo "== child content"
cp parent.raw child.raw
put child.raw $((MIB + 1000)) 3000                       # changes inside parent data
put child.raw $((5 * MIB + 65536)) 32768 /dev/zero       # zeros over parent data
put child.raw $((9 * MIB + 3)) 70000                     # new data in a parent hole
put child.raw $((17 * MIB + 200000)) 1536                # a few sectors of a block
dd if=/dev/zero bs=512 count=3 status=none | tr '\0' 'x' |
    dd of=child.raw bs=512 seek=$((6553600 / 512 + 7)) conv=notrunc status=none
put child.raw $((MB * MIB - 10000)) 100                  # the partial last block
dd if=parent.raw of=child.raw bs=4096 skip=256 seek=256 count=16 \
    conv=notrunc status=none                              # rewritten unchanged
cmp -s parent.raw child.raw && fail "child.raw equals parent.raw"

for shape in sparse all; do
    echo "== child made by make-vhd-child.py (bitmap: $shape)"
    opts=()
    [ "$shape" = all ] && opts=(--bitmap-all --macx --swap-units --reverse-blocks)
    python3 "$MKCHILD" "${opts[@]}" parent.vhd child.raw child-$shape.vhd >/dev/null ||
        fail "make-vhd-child.py ($shape)"
    check_chain child-$shape.vhd child.raw parent.vhd
    # The script's output is a well-formed sparse VHD to qemu-img too, which
    # reads a child as a plain dynamic disk: child data wherever the bitmap
    # is set, and never data the chain does not hold.
    qemu-img convert -f vpc -O raw child-$shape.vhd qview.raw
    python3 - parent.raw child.raw qview.raw $shape <<'EOF' ||
import sys
p, c, q = (open(n, 'rb').read() for n in sys.argv[1:4])
assert len(q) == len(c), (len(q), len(c))
for o in range(0, len(c), 512):
    cs, ps, qs = c[o:o + 512], p[o:o + 512], q[o:o + 512]
    if cs != ps:
        assert qs == cs, "sector %d: child data missing" % (o // 512)
    elif sys.argv[4] == "all":
        assert qs in (cs, bytes(512)), "sector %d: stray data" % (o // 512)
EOF
        fail "qemu-img's view of child-$shape.vhd is wrong"
done

echo "== parent found through one locator alone"
# Child copied elsewhere, parent left in place: only the absolute W2ku
# locator leads to it (data space in sectors for 'sparse', bytes for 'all').
# Run from a directory without a parent.vhd: a lookup relative to the
# working directory must not be what finds it.
mkdir elsewhere
for shape in sparse all; do
    cp child-$shape.vhd elsewhere/
    (cd elsewhere && check_chain child-$shape.vhd ../child.raw ../parent.vhd)
done
# Parent one directory up: only the relative W2ru locator "..\parent.vhd"
# leads to it once the tree is moved (data space in sectors here).
mkdir -p rel/sub
cp parent.vhd rel/
python3 "$MKCHILD" --swap-units rel/parent.vhd child.raw rel/sub/child.vhd >/dev/null ||
    fail "make-vhd-child.py (rel)"
mv rel rel2
(cd rel2/sub && check_chain child.vhd ../../child.raw ../parent.vhd)
# A chain made on Windows (as Hyper-V lays it out: W2ku first, holding a
# drive-letter path, as does the parent name): only W2ru can lead there.
mkdir win
cp parent.vhd win/
python3 "$MKCHILD" --w2ku-first --w2ku-path 'C:\Hyper-V\Disks\parent.vhd' \
    --parent-name 'C:\Hyper-V\Disks\parent.vhd' win/parent.vhd child.raw win/child.vhd \
    >/dev/null || fail "make-vhd-child.py (win)"
(cd elsewhere && check_chain ../win/child.vhd ../child.raw ../win/parent.vhd)

echo "== chain moved to another directory: found through the relative locator"
mkdir moved
cp parent.vhd child-sparse.vhd moved/
mv parent.vhd parent.vhd.away
check_chain moved/child-sparse.vhd child.raw moved/parent.vhd
expect_fail "parent.*parent\.vhd.*not found" $FERRY info child-sparse.vhd
mv parent.vhd.away parent.vhd

echo "== a parent with another unique id is refused"
python3 "$MKCHILD" --parent-uuid 01234567-89ab-cdef-0123-456789abcdef \
    parent.vhd child.raw bad-uuid.vhd >/dev/null || fail "make-vhd-child.py (bad uuid)"
expect_fail "parent '.*parent\.vhd' has unique id .*, expected 01234567-89ab-cdef-0123-456789abcdef" \
    $FERRY info bad-uuid.vhd
expect_fail "unique id" $FERRY copy bad-uuid.vhd bad.raw -O raw -q
rc=0
$FERRY check bad-uuid.vhd >/dev/null 2>&1 || rc=$?
[ "$rc" -ne 0 ] && [ "$rc" -lt 128 ] || fail "ferry check bad-uuid.vhd: exit $rc"

echo "== three-level chain: grandchild on top of the child"
cp child.raw grand.raw
put grand.raw $((MIB + 2048)) 512                        # over child data
put grand.raw $((9 * MIB)) 4096 /dev/zero                # zeros over child-only data
put grand.raw $((33 * MIB + 777)) 9000                   # where only the parent has data
put grand.raw $((13 * MIB)) 2097152                      # a whole block, everywhere a hole
dd if=parent.raw of=grand.raw bs=1 count=1536 skip=$((17 * MIB + 200000)) \
    seek=$((17 * MIB + 200000)) conv=notrunc status=none     # child change undone
for shape in sparse all; do
    opts=()
    [ "$shape" = all ] && opts=(--bitmap-all --reverse-blocks)
    python3 "$MKCHILD" "${opts[@]}" child-$shape.vhd grand.raw grand-$shape.vhd >/dev/null ||
        fail "make-vhd-child.py (grandchild, $shape)"
    check_chain grand-$shape.vhd grand.raw child-$shape.vhd
done
# The grandchild's chain, moved together, is still found.
mkdir moved3
cp parent.vhd child-sparse.vhd grand-sparse.vhd moved3/
mv parent.vhd parent.vhd.away
mv child-sparse.vhd child-sparse.vhd.away
check_chain moved3/grand-sparse.vhd grand.raw moved3/child-sparse.vhd
mv parent.vhd.away parent.vhd
mv child-sparse.vhd.away child-sparse.vhd

echo "PASS: test-image-vhd-chain"
