#!/bin/bash
# `ferry agent` TUI in tmux at 80x25: walk every screen with send-keys, read
# them with capture-pane (title on the first line of each), get bad input
# refused on the screen (no disk chosen, a bad target, CPUs out of range, a
# target that does not exist after confirming), pick a local partition as
# the target with Left/Right (a fake sysfs disk "sdb", a USB disk with an
# ext4 partition, left out of the capture), then complete a capture to a
# file target and check the image.
source "$(dirname "$0")/../functions.sh"
requires qemu-img tmux
t=$(mktmpdir)
make_test_disk "$t/src.raw" 32
cp "$t/src.raw" "$t/src.orig"
mkdir "$t/out"
# The fake machine: sysfs and /dev with one USB disk, sdb (a file holding
# an MBR and an ext4 partition), no network interfaces, nothing mounted.
mkdir -p "$t/sys/block/sdb/device" "$t/sys/block/sdb/queue" "$t/sys/block/sdb/sdb1" \
    "$t/sys/class/net" "$t/dev" "$t/proc"
echo 65536 > "$t/sys/block/sdb/size"
echo 1 > "$t/sys/block/sdb/removable"
echo 'USB Backup' > "$t/sys/block/sdb/device/model"
echo 1 > "$t/sys/block/sdb/sdb1/partition"
: > "$t/proc/mounts"
truncate -s 32M "$t/dev/sdb"
echo 'start=2048, type=83' | sfdisk -q "$t/dev/sdb"
mkfs.ext4 -q -F -E offset=1048576 "$t/dev/sdb" 31M
sock=$t/tmux.sock
tm () { tmux -S "$sock" "$@"; }
cleanup_fn "tmux -S '$sock' kill-server 2>/dev/null"
tm new-session -d -s agent -x 80 -y 25 \
    "TERM=screen '$FERRY' agent --no-post --no-network --status '$t/status' --sysfs '$t/sys' --dev '$t/dev' --proc '$t/proc' --disk '$t/src.raw' --cmdline 'quiet'; echo \"EXIT=\$?\" > '$t/exit'; sleep 60"

screen_text () { tm capture-pane -p -t agent; }
# SNAP=FILE: append every screen reached to FILE (to look at them).
snap () { [ -z "${SNAP:-}" ] || screen_text >> "$SNAP"; }
# wait_for REGEXP: the screen shows it within 10 s.
wait_for () {
    local i
    for i in $(seq 100); do
        screen_text | grep -Eq -- "$1" && return 0
        sleep 0.1
    done
    fail "screen never showed /$1/:
$(screen_text)"
}
# on_screen TITLE: the first line is the title.
on_screen () {
    wait_for "$1"
    screen_text | head -1 | grep -Eq -- "$1" || fail "title is not '$1': $(screen_text | head -1)"
    snap
}
keys () { tm send-keys -t agent "$@"; }
type_text () { tm send-keys -t agent -l "$1"; }
# set_field TEXT: edit the current field: clear it, type, accept.
set_field () { keys Enter C-u; type_text "$1"; keys Enter; }

# 0. The job: capture (the default); Right shows deploy, Left back.
on_screen "Job \(1/9\)"
wait_for 'Job +: capture'
keys Right; wait_for 'Job +: deploy'; wait_for 'Job \(1/8\)'
keys Left; wait_for 'Job +: capture'; wait_for 'Job \(1/9\)'
keys n

# 1. Disks: chosen by default; none chosen is refused on the screen.
on_screen "Disks to capture \(2/9\)"
wait_for '\[x\] sdb'
wait_for '\[x\] src.raw'
keys Space; wait_for '\[ \] sdb'
keys Down Space; wait_for '\[ \] src.raw'
keys n; wait_for 'Choose at least one disk'
screen_text | head -1 | grep -q 'Disks to capture' || fail "left the disk screen"
keys Space n

# 2. Target: the partition of the disk left out is offered and picked with
#    Right; a bad target is refused, the screen stays.
on_screen "Target \(3/9\)"
wait_for 'Local partitions \(not on the disks being captured\)'
# (the test's long temporary path is cut on the list; /dev/sdb1 is not)
wait_for "  disk:${t:0:25}.* ext4 +31.0 MiB +USB Backup \(sdb\)"
keys Right
wait_for "Target +: ?disk:$t/dev/sdb1"
wait_for "> disk:${t:0:25}.* ext4 +31.0 MiB"
set_field "ftp://bad"
wait_for "ferry.target: 'ftp://bad': expected file:"
screen_text | head -1 | grep -q 'Target' || fail "left the target screen"
set_field "file:$t/nowhere"
keys n

# 3. Format and conversion: choices cycle with Right.
on_screen "Format and conversion \(4/9\)"
wait_for 'Format +: qcow2'
keys Right Right; wait_for 'Format +: vmdk'
keys n

# 4. VM: defaults from the hardware; CPUs out of range refused.
on_screen "Virtual machine \(5/9\)"
wait_for "CPUs +: $(nproc)"
set_field "tuivm"
wait_for 'VM name +: tuivm'
keys Down; set_field "0"
wait_for 'ferry.cpus: 0 is out of range'
wait_for "CPUs +: $(nproc)"
keys n

# 5. Network: DHCP by default, interfaces listed.
on_screen "Network \(6/9\)"
wait_for 'IP +: dhcp'
keys n

# 6. Confirmation; the missing target directory fails the run and comes
#    back to this screen with the reason, nothing written.
on_screen "Confirmation \(7/9\)"
wait_for "Target +file:$t/nowhere"
keys y
wait_for "Failed: target 'file:$t/nowhere'"
on_screen "Confirmation \(7/9\)"
[ ! -e "$t/nowhere" ] || fail "the missing target was created"
keys b b b b
on_screen "Target \(3/9\)"
set_field "file:$t/out"
keys n n n n
on_screen "Confirmation \(7/9\)"
wait_for "Target +file:$t/out"
keys y

# 7. Progress: stays with the final numbers until Enter.
on_screen "Capturing \(8/9\)"
wait_for 'press Enter for the summary'
wait_for 'disk 1/1 src.raw +\[#{40}\] 100%'
wait_for '32.0 MiB of 32.0 MiB .* bad sectors: 0 \(0 B\)'
wait_for "captured 'src.raw'"
keys Enter

# 8. The summary with the import commands.
on_screen "Summary \(9/9\)"
wait_for "Done.  The images are in $t/out/tuivm"
wait_for "virt-install --import --name tuivm"
screen_text > "$t/summary"
keys q
for _ in $(seq 50); do [ -s "$t/exit" ] && break; sleep 0.1; done
[ "$(cat "$t/exit")" = "EXIT=0" ] || fail "agent exit: $(cat "$t/exit")"

img=$t/out/tuivm/tuivm-src.raw.vmdk
qemu-img check -q "$img" || fail "qemu-img check"
qemu_compare "$t/src.raw" "$img"
cmp "$t/src.raw" "$t/src.orig" || fail "the source disk was written"
grep -q "capturing '$t/src.raw'" "$t/out/tuivm/ferry-agent.log" || fail "log"
grep -q '"ok":true' "$t/out/tuivm/tuivm.json" || fail "report"
echo ok
