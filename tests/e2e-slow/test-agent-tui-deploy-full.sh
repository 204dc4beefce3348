#!/bin/bash
# `ferry agent` TUI in tmux, a deploy carried through: the reference guest
# (debian12-ahci as qcow2) picked from a file: directory, the fake
# machine's disk sdb (an 8 GiB file with old data) chosen and confirmed,
# the progress screen until "Deploy complete", then the summary naming the
# source, the disk and the report; status "0 ok".  The result is the one
# test-agent-deploy.sh boots on NVMe: it is checked here with sfdisk only
# (the root partition fills the disk).  test-agent-tui-deploy.sh covers the
# bad input on each screen.
source "$(dirname "$0")/../functions.sh"
requires tmux sfdisk qemu-img guestfish
ref=$("$TESTS_DIR/guests.sh" "$BUILDDIR" debian12-ahci)
t=$(mktmpdir)
mkdir -p "$t/images" "$t/mnt"
qemu-img convert -O qcow2 "$ref" "$t/images/debian12.qcow2"
mkdir -p "$t/sys/block/sdb/device" "$t/sys/block/sdb/queue" "$t/sys/class/net" \
    "$t/dev" "$t/proc"
echo $(( 8 << 21 )) > "$t/sys/block/sdb/size"
echo 0 > "$t/sys/block/sdb/removable"
echo 'Big Disk 8' > "$t/sys/block/sdb/device/model"
echo 'SN-8' > "$t/sys/block/sdb/device/serial"
: > "$t/proc/mounts"
truncate -s 8G "$t/dev/sdb"
head -c 1M /dev/urandom | dd of="$t/dev/sdb" conv=notrunc status=none

sock=$t/tmux.sock
tm () { tmux -S "$sock" "$@"; }
cleanup_fn "tmux -S '$sock' kill-server 2>/dev/null"
tm new-session -d -s agent -x 80 -y 25 \
    "TERM=screen '$FERRY' agent --no-post --no-network --status '$t/status' --mount-dir '$t/mnt' --sysfs '$t/sys' --dev '$t/dev' --proc '$t/proc' --cmdline 'ferry.mode=deploy'; echo \"EXIT=\$?\" > '$t/exit'; sleep 60"

screen_text () { tm capture-pane -p -t agent; }
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
}
keys () { tm send-keys -t agent "$@"; }
type_text () { tm send-keys -t agent -l "$1"; }

# ferry.mode=deploy on the command line: the job screen shows it.
on_screen "Job \(1/8\)"
wait_for 'Job +: deploy'
keys n
on_screen "Network \(2/8\)"
keys n
on_screen "Source \(3/8\)"
keys Enter C-u; type_text "file:$t/images/"; keys Enter
wait_for '  debian12.qcow2 +qcow2 +disk 1.5 GiB'
keys Right
wait_for '> debian12.qcow2'
keys n
on_screen "Disks to erase \(4/8\)"
keys Space n
on_screen "Deploy options \(5/8\)"
keys n
on_screen "Confirmation \(6/8\)"
wait_for '  sdb +8.0 GiB +Big Disk 8 +serial SN-8'
s=$(date +%s)
keys y
on_screen "Deploying \(7/8\)"
wait_for 'Deploy complete: press Enter for the summary' 900
echo "TUI deploy took $(( $(date +%s) - s ))s"
wait_for 'disk 1/1 sdb +\[#{40}\] 100%'
keys Enter
on_screen "Summary \(8/8\)"
wait_for "Done.  Deployed"
wait_for "    file:$t/images/debian12.qcow2"
wait_for "    $t/dev/sdb"
wait_for "Report: $t/ferry-deploy.json"
wait_for 'Remove the boot medium and restart'
keys q
for _ in $(seq 50); do [ -s "$t/exit" ] && break; sleep 0.1; done
[ "$(cat "$t/exit")" = "EXIT=0" ] || fail "agent exit: $(cat "$t/exit")"
[ "$(cat "$t/status")" = "0 ok" ] || fail "status: $(cat "$t/status")"
grep -q '"ok":true' "$t/ferry-deploy.json" || fail "report"
sfdisk -J "$t/dev/sdb" | python3 -c '
import json, sys
p = json.load(sys.stdin)["partitiontable"]["partitions"]
assert p[1]["start"] + p[1]["size"] == (8 << 30) // 512, p
assert p[0]["size"] > 15000000, p' || fail "the root partition does not fill sdb"
echo ok
