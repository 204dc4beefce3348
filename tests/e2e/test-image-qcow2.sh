#!/bin/bash
# test-image-qcow2.sh: ferry reads and writes qcow2 the way QEMU does —
# qemu-img and qemu-io are the judges: ferry's output must pass
# `qemu-img check` with no errors or leaks and compare equal; QEMU's
# output (plain, compressed, v2, extended L2, overlays) must read back
# identically through ferry; hostile images must be refused in one line.
source "$(dirname "$0")/../functions.sh"
requires qemu-img qemu-io python3

t=$(mktmpdir)
cd "$t"

qemu_check_clean () {
    qemu-img check "$1" > qcheck.log 2>&1 || fail "qemu-img check '$1': $(cat qcheck.log)"
    grep -q "No errors were found" qcheck.log || fail "qemu-img check '$1': $(cat qcheck.log)"
    ! grep -qi "leak" qcheck.log || fail "qemu-img check '$1' reports leaks: $(cat qcheck.log)"
}

ferry_check_clean () {
    "$FERRY" check "$1" > fcheck.log 2>&1 || fail "ferry check '$1': $(cat fcheck.log)"
}

make_test_disk disk.raw 200

# --- ferry writes qcow2 ---------------------------------------------------
"$FERRY" copy -q disk.raw out.qcow2 -O qcow2
qemu_check_clean out.qcow2
qemu_compare disk.raw out.qcow2
ferry_check_clean out.qcow2
qemu-img info out.qcow2 | grep -q "compat: 1.1" || fail "not qcow2 v3"
"$FERRY" info out.qcow2 | grep -Eq "cluster_size +65536" || fail "ferry info: cluster size"
"$FERRY" info out.qcow2 --json | grep -q '"format": *"qcow2"' || fail "ferry info --json"
# Sparse: a 200 MiB disk with ~2 MiB of data must not come out fat.
[ "$(stat -c %s out.qcow2)" -lt $((8 * 1048576)) ] || fail "out.qcow2 is not sparse"

# An odd virtual size (not a whole number of clusters).
head -c 1000000 /dev/urandom > odd.raw
truncate -s 1000448 odd.raw
"$FERRY" copy -q odd.raw odd.qcow2 -O qcow2
qemu_check_clean odd.qcow2
qemu_compare odd.raw odd.qcow2

# --- ferry reads what QEMU writes -----------------------------------------
for opts in "" "-c" "-o compat=0.10" "-o extended_l2=on" \
            "-o cluster_size=512" "-o cluster_size=2M" "-o refcount_bits=1" \
            "-c -o cluster_size=4k"; do
    rm -f q.qcow2 back.raw
    # shellcheck disable=SC2086
    qemu-img convert $opts -O qcow2 disk.raw q.qcow2
    "$FERRY" copy -q q.qcow2 back.raw -O raw
    cmp -s disk.raw back.raw || fail "qemu-img convert $opts: ferry read differs"
    ferry_check_clean q.qcow2
done

# --- an overlay written by QEMU: ferry flattens the chain -----------------
qemu-img convert -O qcow2 disk.raw base.qcow2
qemu-img create -q -f qcow2 -b base.qcow2 -F qcow2 ov.qcow2
qemu-io -c 'write -P 0xaa 0 4k' -c 'write -P 0xbb 1M 100k' \
        -c 'write -z 5M 1M' -c 'write -z -u 17M 64k' \
        -c 'write -P 0xcc 199M 1M' -c 'write -P 0xdd 150M 7k' ov.qcow2 >/dev/null
"$FERRY" copy -q ov.qcow2 ov-ferry.raw -O raw
qemu-img convert -O raw ov.qcow2 ov-qemu.raw
cmp -s ov-ferry.raw ov-qemu.raw || fail "overlay: ferry and qemu-img disagree"
ferry_check_clean ov.qcow2
# Same with subclusters (extended L2 entries).
qemu-img create -q -f qcow2 -o extended_l2=on -b base.qcow2 -F qcow2 ove.qcow2
qemu-io -c 'write -P 0xaa 4k 4k' -c 'write -P 0xbb 1M 10k' \
        -c 'write -z 5M 8k' -c 'write -z 33M 3k' ove.qcow2 >/dev/null
"$FERRY" copy -q ove.qcow2 ove-ferry.raw -O raw
qemu-img convert -O raw ove.qcow2 ove-qemu.raw
cmp -s ove-ferry.raw ove-qemu.raw || fail "extended L2 overlay: ferry and qemu-img disagree"
ferry_check_clean ove.qcow2

# --- an overlay written by ferry ------------------------------------------
cp disk.raw modified.raw
printf 'hello' | dd of=modified.raw bs=1 seek=1000000 conv=notrunc status=none
head -c 200000 /dev/urandom | dd of=modified.raw bs=1 seek=70000000 conv=notrunc status=none
dd if=/dev/zero of=modified.raw bs=64K seek=16 count=2 conv=notrunc status=none
for b in "backing=base.qcow2,backing_format=qcow2" "backing=base.qcow2" \
         "backing=disk.raw,backing_format=raw"; do
    rm -f fov.qcow2
    "$FERRY" copy -q modified.raw fov.qcow2 -O qcow2 -o "$b"
    qemu_check_clean fov.qcow2
    qemu_compare fov.qcow2 modified.raw
    ferry_check_clean fov.qcow2
    want=${b#backing=}; want=${want%%,*}
    qemu-img info fov.qcow2 | grep -q "^backing file: $want\$" ||
        fail "$b: backing file not in header"
    # Only what differs is stored.
    [ "$(stat -c %s fov.qcow2)" -lt $((2 * 1048576)) ] || fail "$b: overlay too big"
done

# --- hostile images -------------------------------------------------------
"$TESTS_DIR/data/gen-hostile-qcow2.sh" hostile
n=0
while IFS=$'\t' read -r f re; do
    [ -n "$f" ] || continue
    [ -f "hostile/$f" ] || fail "generator did not write $f"
    rc=0
    case "$f" in
    check-*)
        "$FERRY" info "hostile/$f" >/dev/null || fail "$f: info should open it"
        out=$("$FERRY" check "hostile/$f" 2>&1) || rc=$?
        [ "$rc" -eq 1 ] || fail "$f: ferry check exit $rc, want 1 :: $out"
        echo "$out" | grep -Eq -- "$re" || fail "$f: expected /$re/ :: $out" ;;
    read-*)
        ferry_check_clean "hostile/$f"
        expect_fail "$re" "$FERRY" copy -q "hostile/$f" "read-$n.raw" -O raw ;;
    *)
        expect_fail "$re" "$FERRY" info "hostile/$f"
        "$FERRY" check "hostile/$f" >/dev/null 2>&1 || rc=$?
        [ "$rc" -ne 0 ] && [ "$rc" -lt 128 ] || fail "$f: ferry check exit $rc" ;;
    esac
    n=$((n + 1))
done < "$TESTS_DIR/data/hostile-qcow2.expect"
for f in hostile/*.qcow2; do
    case "$(basename "$f")" in valid-*) ferry_check_clean "$f"; continue ;; esac
    grep -q "^$(basename "$f")	" "$TESTS_DIR/data/hostile-qcow2.expect" ||
        fail "$f has no line in hostile-qcow2.expect"
done
echo "PASS: test-image-qcow2 ($n hostile images refused)"
