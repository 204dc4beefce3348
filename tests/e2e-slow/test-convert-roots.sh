#!/bin/bash
# `ferry convert` of a disk with two Linux roots (a multi-boot machine:
# tests/data/make-convert-roots.sh puts a renamed copy of the reference root
# on partition 3).  Ferry never picks silently:
#   - without --root it refuses with a one-line list of both roots, and an
#     in-place request leaves the disk byte-identical;
#   - --root ask without a terminal refuses;
#   - --root /dev/sda3 -o OUT converts that root only: partition 1 of OUT is
#     byte-identical to the input's;
#   - --root ask on a terminal (tmux) lists the roots and converts the one
#     chosen, here in place on the raw disk (the in-place raw proof):
#     partition 3 stays byte-identical, partition 1 is converted.
# guestfish then reads both disks back with the guest's own lsinitramfs.
source "$(dirname "$0")/../functions.sh"
requires guestfish qemu-img tmux sfdisk debugfs tune2fs
ref=$("$TESTS_DIR/guests.sh" "$BUILDDIR" debian12-ahci)
t=$(mktmpdir)

s=$(date +%s)
read -r r1 r2 uuid2 < <("$TESTS_DIR/data/make-convert-roots.sh" "$ref" "$t/multi.img")
echo "multi-root disk: $r1 and $r2 (UUID $uuid2) in $(( $(date +%s) - s ))s"

# part_sum IMG N: sha256 of partition N's bytes (raw images).
part_sum () {
    local start size
    read -r start size < <(sfdisk -d "$1" | awk -F'[=,]' -v n="$2" '
        $0 ~ "^[^ ]*" n " : start=" { gsub(/ /, ""); print $2, $4 }')
    [ -n "$size" ] || fail "no partition $2 in $1"
    dd if="$1" bs=1M iflag=skip_bytes,count_bytes skip=$(( start * 512 )) \
        count=$(( size * 512 )) status=none | sha256sum
}
p1=$(part_sum "$t/multi.img" 1)
p3=$(part_sum "$t/multi.img" 3)
all=$(sha256sum < "$t/multi.img")

# 1. No --root: refused with both roots listed; in place, nothing written.
expect_fail "several operating systems found: $r1 \([^)]+\), $r2 \([^)]+\); choose one with --root DEV or --root ask" \
    "$FERRY" convert "$t/multi.img" --to kvm --in-place
[ "$(sha256sum < "$t/multi.img")" = "$all" ] || fail "refused in-place conversion wrote the disk"
echo "no --root: refused, disk unchanged"

# 2. --root ask without a terminal.
expect_fail "--root ask needs a terminal; use --root DEV" \
    "$FERRY" convert "$t/multi.img" --to kvm --root ask -o "$t/no.img" < /dev/null
[ ! -e "$t/no.img" ] || fail "output left behind by a refused --root ask"
echo "--root ask without a terminal: refused"

# 3. --root DEV into a new raw image: only that root changes.
s=$(date +%s)
"$FERRY" convert "$t/multi.img" --to kvm --root "$r2" -o "$t/out.img" -O raw \
    --json > "$t/out.json"
echo "convert --root $r2 took $(( $(date +%s) - s ))s"
cat "$t/out.json"
grep -q "\"root\":\"$r2 (debian 12[.0-9]*)\"" "$t/out.json" || fail "report does not name $r2"
[ "$(sha256sum < "$t/multi.img")" = "$all" ] || fail "the input was modified by -o"
[ "$(part_sum "$t/out.img" 1)" = "$p1" ] || fail "--root $r2 changed the other root $r1"
[ "$(part_sum "$t/out.img" 3)" != "$p3" ] || fail "--root $r2 did not change $r2"

# 4. --root ask on a terminal, in place on the raw disk.
tm=(tmux -S "$t/tmux.sock")
cleanup_fn "${tm[*]} kill-server 2>/dev/null"
"${tm[@]}" new-session -d -s ask -x 200 -y 50 \
    "'$FERRY' convert '$t/multi.img' --to kvm --root ask --in-place > '$t/ask.out'; echo \$? > '$t/ask.rc'; sleep 600"
for (( i = 0; i < 600; i++ )); do
    "${tm[@]}" capture-pane -p -t ask > "$t/pane"
    grep -q 'convert which root?' "$t/pane" && break
    [ ! -e "$t/ask.rc" ] || fail "no question asked: $(cat "$t/pane")"
    sleep 1
done
grep -q 'convert which root? \[1-2\]' "$t/pane" || fail "no question asked: $(cat "$t/pane")"
cat "$t/pane"
# Each root is offered with its distribution and hostname (the copies
# differ in nothing else).
n=$(sed -n "s|^ *\([0-9]\)) $r1  debian [0-9.]*, hostname ferry-ref *\$|\1|p" "$t/pane")
grep -q "^ *[0-9]) $r2  debian [0-9.]*, hostname ferry-second" "$t/pane" ||
    fail "$r2 not offered: $(cat "$t/pane")"
[ -n "$n" ] || fail "$r1 not offered: $(cat "$t/pane")"
s=$(date +%s)
"${tm[@]}" send-keys -t ask "$n" Enter
for (( i = 0; i < 1800; i++ )); do [ -s "$t/ask.rc" ] && break; sleep 1; done
"${tm[@]}" capture-pane -p -S -100 -t ask > "$t/pane"
[ "$(cat "$t/ask.rc" 2>/dev/null)" = 0 ] || fail "--root ask conversion failed: $(cat "$t/pane")"
echo "convert --root ask (answered $n = $r1) in place took $(( $(date +%s) - s ))s"
cat "$t/ask.out"
grep -q "^converted $r1 (debian 12[.0-9]*) for kvm" "$t/ask.out" || fail "report does not name $r1"
[ "$(part_sum "$t/multi.img" 3)" = "$p3" ] || fail "--root ask ($r1) changed the other root $r2"
[ "$(part_sum "$t/multi.img" 1)" != "$p1" ] || fail "in-place conversion did not change $r1"

# Read both disks back (through throwaway overlays: lsinitramfs writes /tmp).
qemu-img create -q -f qcow2 -b "$t/out.img" -F raw "$t/out-check.qcow2"
qemu-img create -q -f qcow2 -b "$t/multi.img" -F raw "$t/multi-check.qcow2"
guestfish --rw -a "$t/out-check.qcow2" -a "$t/multi-check.qcow2" > "$t/gf.out" <<'GF'
run
mount /dev/sda3 /
echo "==out sda3"
ls /boot
sh "for i in /boot/initrd.img-*[0-9a-z]; do lsinitramfs $i | grep -E '/virtio_blk[.]ko' | sed s,.*/,,; done | sort -u"
cat /etc/hostname
umount /
mount /dev/sda1 /
echo "==out sda1"
ls /boot
umount /
mount /dev/sdb1 /
echo "==inplace sda1"
ls /boot
sh "for i in /boot/initrd.img-*[0-9a-z]; do lsinitramfs $i | grep -E '/virtio_blk[.]ko' | sed s,.*/,,; done | sort -u"
cat /etc/hostname
umount /
mount /dev/sdb3 /
echo "==inplace sda3"
ls /boot
GF
section () { sed -n "/^==$1\$/,/^==/p" "$t/gf.out"; }
check_converted () {
    section "$1" | grep -q '\.pre-ferry$' || fail "$1: no initramfs kept as .pre-ferry: $(section "$1")"
    section "$1" | grep -q '^virtio_blk\.ko' || fail "$1: initramfs lacks virtio_blk: $(section "$1")"
    section "$1" | grep -qx "$2" || fail "$1: not the root with hostname $2: $(section "$1")"
}
check_untouched () {
    section "$1" | grep -q 'pre-ferry' && fail "$1 was converted: $(section "$1")"
    section "$1" | grep -q 'vmlinuz' || fail "$1 not read: $(section "$1")"
}
check_converted "out sda3" ferry-second
check_untouched "out sda1"
check_converted "inplace sda1" ferry-ref
check_untouched "inplace sda3"
echo ok
