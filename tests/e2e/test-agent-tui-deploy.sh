#!/bin/bash
# `ferry agent` TUI in tmux at 80x25, the deploy job: choose deploy on the
# first screen, then network, source, disks to erase and confirmation,
# read with capture-pane.  Bad input stays on its screen with one line: a
# bad scheme, a missing directory, going on from a directory without
# choosing an image, no disk chosen.  The source is a directory of the
# live system (file:DIR/): its images are listed with format and size and
# picked with Right.  The fake machine (sysfs, /dev) has one disk, sdb,
# with a model and serial that the disk screen and the confirmation show.
# The image chosen has a GPT made for 4096-byte sectors: the deploy's own
# target checks refuse it for sdb's 512-byte sectors after the agent's
# confirmation, the TUI shows why on the confirmation screen, and sdb is
# untouched (no appliance needed).
source "$(dirname "$0")/../functions.sh"
requires tmux sfdisk mkfs.ext4 losetup
t=$(mktmpdir)
mkdir -p "$t/images" "$t/mnt"
# Two images in the directory, and a file that is none.
truncate -s 16M "$t/images/blank.img"
echo 'start=2048, type=83' | sfdisk -q "$t/images/blank.img"
mkfs.ext4 -q -F -E offset=1048576 "$t/images/blank.img" 15M
qemu-img create -q -f qcow2 "$t/images/other.qcow2" 1G
truncate -s 16M "$t/images/k4.img"
loop=$(losetup -f --show -b 4096 "$t/images/k4.img")
printf 'label: gpt\n,,L\n' | sfdisk -q "$loop" 2>/dev/null || true
losetup -d "$loop"
head -c 4104 "$t/images/k4.img" | tail -c 8 | grep -q 'EFI PART' || fail "no 4Kn GPT made"
echo notes > "$t/images/README"
# The fake machine: sysfs and /dev with one disk, sdb (64 MiB of old data).
mkdir -p "$t/sys/block/sdb/device" "$t/sys/block/sdb/queue" "$t/sys/class/net" \
    "$t/dev" "$t/proc"
echo 131072 > "$t/sys/block/sdb/size"
echo 0 > "$t/sys/block/sdb/removable"
echo 'Fast SSD 64' > "$t/sys/block/sdb/device/model"
echo 'SN-4242' > "$t/sys/block/sdb/device/serial"
: > "$t/proc/mounts"
head -c 64M /dev/urandom > "$t/dev/sdb"
sum=$(sha256sum < "$t/dev/sdb")

sock=$t/tmux.sock
tm () { tmux -S "$sock" "$@"; }
cleanup_fn "tmux -S '$sock' kill-server 2>/dev/null"
tm new-session -d -s agent -x 80 -y 25 \
    "TERM=screen '$FERRY' agent --no-post --no-network --status '$t/status' --mount-dir '$t/mnt' --sysfs '$t/sys' --dev '$t/dev' --proc '$t/proc' --cmdline 'quiet'; echo \"EXIT=\$?\" > '$t/exit'; sleep 60"

screen_text () { tm capture-pane -p -t agent; }
snap () { [ -z "${SNAP:-}" ] || screen_text >> "$SNAP"; }
# wait_for REGEXP [SECONDS]: the screen shows it in time (default 10 s).
wait_for () {
    local i
    for i in $(seq $(( ${2:-10} * 10 ))); do
        screen_text | grep -Eq -- "$1" && return 0
        sleep 0.1
    done
    fail "screen never showed /$1/:
$(screen_text)"
}
on_screen () {
    wait_for "$1"
    screen_text | head -1 | grep -Eq -- "$1" || fail "title is not '$1': $(screen_text | head -1)"
    snap
}
keys () { tm send-keys -t agent "$@"; }
type_text () { tm send-keys -t agent -l "$1"; }
set_field () { keys Enter C-u; type_text "$1"; keys Enter; }

# 1. The job: deploy.
on_screen "Job \(1/9\)"
keys Right
wait_for 'Job +: deploy'
wait_for 'This machine: 1 disk\(s\)'
keys n

# 2. Network (the source is on a share, usually).
on_screen "Network \(2/8\)"
wait_for 'IP +: dhcp'
keys n

# 3. Source: bad scheme, a missing directory, then the directory: listed.
on_screen "Source \(3/8\)"
wait_for 'Source +: *$'
wait_for 'SSH key file'
set_field "ftp://host/x.img"
wait_for "ferry.source: 'ftp://host/x.img': expected file:"
set_field "file:$t/nowhere/"
wait_for "nowhere': No such file or directory"
keys n
on_screen "Source \(3/8\)"
set_field "file:$t/images/"
wait_for 'Images and packages here'
wait_for '  blank.img +raw +disk 16.0 MiB'
wait_for '  k4.img +raw +disk 16.0 MiB'
wait_for '  other.qcow2 +qcow2 +disk 1.0 GiB'
screen_text | grep -q README && fail "a file that is no image was listed"
keys n
wait_for 'Choose an image or package: Left/Right'
on_screen "Source \(3/8\)"
keys Right
wait_for "> blank.img"
keys Right Right
wait_for "> other.qcow2"
keys Left
wait_for "> k4.img"
wait_for "Source +: file:${t:0:30}"
keys n

# 4. The disks to erase: none chosen to start with; model, serial, size.
on_screen "Disks to erase \(4/8\)"
wait_for '\[ \] sdb +64.0 MiB +Fast SSD 64 +SN-4242'
keys n
wait_for 'Choose at least one disk'
keys Space
wait_for '\[x\] sdb'
keys n

# 5. The deploy options: root, boot here, fit; set from the table.
on_screen "Deploy options \(5/8\)"
wait_for 'Root to convert :'
wait_for 'Make bootable +: 1'
wait_for 'Fit to disks +: 1'
keys n

# 6. Confirmation names what will be erased; the deploy then refuses (a
#    4096-byte-sector image for a 512-byte disk) and comes back here with
#    the reason.
on_screen "Confirmation \(6/8\)"
wait_for "Deploy file:$t/images/k4.img"
wait_for 'EVERYTHING on these disks will be ERASED'
wait_for 'The partitions are fitted to the disks'
wait_for 'The system is made to boot on this hardware'
wait_for '  sdb +64.0 MiB +Fast SSD 64 +serial SN-4242'
keys y
wait_for "^Failed: "
wait_for "made for 4096-byte sectors"
on_screen "Confirmation \(6/8\)"
[ "$(sha256sum < "$t/dev/sdb")" = "$sum" ] || fail "sdb was written"
grep -q "^1 .*made for 4096-byte sectors" "$t/status" || fail "status: $(cat "$t/status")"
grep -q "target 1: $t/dev/sdb (Fast SSD 64, serial SN-4242, 64.0 MiB)" \
    "$t/ferry-deploy.log" || fail "log: $(cat "$t/ferry-deploy.log")"
grep -q '"ok":false' "$t/ferry-deploy.json" || fail "report"

# 7. Back to the source; quit.
keys b b b
on_screen "Source \(3/8\)"
keys q
for _ in $(seq 50); do [ -s "$t/exit" ] && break; sleep 0.1; done
[ "$(cat "$t/exit")" = "EXIT=0" ] || fail "agent exit: $(cat "$t/exit")"
echo ok
