# shellcheck shell=bash disable=SC2054
# (SC2054: qemu -device arguments are meant to contain commas.)
# iso.sh: the capture ISO for the end-to-end tests, built once per build tree
# (BUILDDIR/iso/, by boot-iso/build.sh, which caches and locks) and booted
# under qemu (TCG).  Sourced by tests, after functions.sh:
#
#   source "$(dirname "$0")/../functions.sh"
#   source "$(dirname "$0")/../iso.sh"
#   iso=$(iso_build)                  # BUILDDIR/iso/ferry.iso, from make deb
#   iso_extract "$iso" /live/vmlinuz "$t/vmlinuz"
#   iso_boot "$iso" bios "$log" [QEMU ARGS...]   # qemu in the background,
#   iso_serial_send "s"                          # serial console to $log
#   iso_wait "$log" 'REGEXP' 300 || fail "..."
#   iso_log_has "$log" 'REGEXP' || fail "..."
#   iso_kill
#   iso_boot_direct "$iso" "$log" "ferry.k=v ..." [QEMU ARGS...]  # instead of
#       # iso_boot: the ISO's own kernel and initramfs with ferry.* settings
#   iso_wait_poweroff "$log" 900                 # qemu exits, or fail
#   iso_check_result DIR NAME IMAGE SOURCE       # a capture on a share
#
# The tests skip (77) when FERRY_NO_BOOT is set (the sanitizer runs: the ISO
# would carry an instrumented binary) and when not root (debootstrap).
# A build failure is a test failure.

_ISO_PID=
_ISO_DIR=

iso_requirements () {
    [ -z "${FERRY_NO_BOOT:-}" ] || { echo "SKIP: FERRY_NO_BOOT is set"; exit 77; }
    [ "$(id -u)" -eq 0 ] || { echo "SKIP: building the ISO needs root"; exit 77; }
    requires qemu-system-x86_64 xorriso
}

# iso_build: build (or reuse) the ISO with the Debian package built from
# this tree (deb_build: make deb); prints its path.
iso_build () {
    local top deb
    top=$(cd "$TESTS_DIR/.." && pwd)
    deb=$(deb_build) || return 1
    FERRY_DEB="$deb" BUILDDIR="$BUILDDIR" "$top/boot-iso/build.sh"
}

# iso_extract ISO PATH-ON-ISO FILE
iso_extract () {
    xorriso -osirrox on -indev "$1" -extract "$2" "$3" >/dev/null 2>&1 ||
        fail "xorriso: cannot extract $2 from $1"
    chmod u+w "$3"
}

# agent_landed: whether $FERRY has the agent (`ferry agent --help` works).
agent_landed () { "$FERRY" agent --help >/dev/null 2>&1; }

iso_kill () {
    local pid=$_ISO_PID
    _ISO_PID=
    stop_pid "$pid"
}

# iso_boot ISO FIRMWARE LOG [QEMU ARGS...]: start qemu (TCG, 2 GiB) with the
# ISO as its CD-ROM (or no CD when ISO is "-") and the first serial port
# on a pair of pipes: output copied to LOG, input fed by iso_serial_send.
# FIRMWARE: bios (SeaBIOS) or uefi (OVMF, with a private copy of its
# variable store).  Returns at once; the test waits with iso_wait.
iso_boot () {
    local iso=$1 fw=$2 log=$3 cd=() fwargs=()
    shift 3
    _ISO_DIR=$(mktmpdir)
    mkfifo "$_ISO_DIR/ser.in" "$_ISO_DIR/ser.out"
    case "$fw" in
        bios) ;;
        uefi) [ -r /usr/share/OVMF/OVMF_CODE.fd ] || { echo "SKIP: ovmf not installed"; exit 77; }
              cp /usr/share/OVMF/OVMF_VARS.fd "$_ISO_DIR/vars.fd"
              fwargs=(-drive if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE.fd
                      -drive "if=pflash,format=raw,file=$_ISO_DIR/vars.fd") ;;
        *) fail "iso_boot: unknown firmware '$fw'" ;;
    esac
    # The CD first: SeaBIOS would try the (absent) hard disk and floppy.
    [ "$iso" = - ] || cd=(-drive "file=$iso,format=raw,media=cdrom,readonly=on" -boot order=d)
    cleanup_fn iso_kill
    qemu-system-x86_64 -accel tcg -machine pc -m "${ISO_MEM:-2048}" \
        -nographic -monitor none -chardev "pipe,id=ser,path=$_ISO_DIR/ser" \
        -serial chardev:ser "${fwargs[@]}" "${cd[@]}" "$@" \
        </dev/null >"$log.qemu" 2>&1 &
    _ISO_PID=$!
    cat "$_ISO_DIR/ser.out" >"$log" &
    # Hold the input pipe open for the whole boot (qemu sees no EOF).
    exec 8>"$_ISO_DIR/ser.in"
    echo "iso_boot: $fw, $iso, console log $log" >&2
}

# iso_boot_direct ISO LOG "FERRY SETTINGS" [QEMU ARGS...]: boot the ISO's
# own kernel and initramfs directly (-kernel/-initrd: no firmware disk
# reads; the ISO is the CD-ROM where live-boot finds the squashfs) with
# SeaBIOS, the agent on the serial console (ttyS0) and the given ferry.*
# settings; -no-reboot, so qemu exits when the agent powers off.
iso_boot_direct () {
    local iso=$1 log=$2 settings=$3 d
    shift 3
    d=$(mktmpdir)
    iso_extract "$iso" /live/vmlinuz "$d/vmlinuz"
    iso_extract "$iso" /live/initrd.img "$d/initrd.img"
    mkdir -p "$(dirname "$log")"
    iso_boot "$iso" bios "$log" -kernel "$d/vmlinuz" -initrd "$d/initrd.img" \
        -append "boot=live live-media-path=/live quiet console=ttyS0,115200n8 ferry.console=ttyS0 $settings" \
        -no-reboot "$@"
}

# iso_check_result DIR NAME IMAGE SOURCE: what the agent left in DIR/NAME
# (a network target's directory, read on the host): status "0 ok", a
# report that says ok, a log of the capture of /dev/vda, no temporary
# file, and DIR/NAME/IMAGE passing qemu-img check and equal to SOURCE.
iso_check_result () {
    local out=$1/$2 img=$1/$2/$3 src=$4
    ls -la "$out" >&2
    [ "$(cat "$out/ferry-status" 2>/dev/null)" = "0 ok" ] ||
        fail "$2: status: $(cat "$out/ferry-status" 2>&1)"
    grep -q '"ok":true' "$out/$2.json" || fail "$2: the report does not say ok"
    grep -q "capturing '/dev/vda'" "$out/ferry-agent.log" || fail "$2: no capture of /dev/vda in the log"
    [ -z "$(find "$out" -name '*ferry-tmp*')" ] || fail "$2: a temporary file is left on the server"
    qemu-img check "$img" || fail "$2: qemu-img check fails on the captured image"
    qemu_compare "$src" "$img"
}

# iso_wait_poweroff LOG TIMEOUT: wait until qemu exits (the agent powered
# the machine off, -no-reboot); after TIMEOUT seconds fail, with the end
# of the console log.
iso_wait_poweroff () {
    local log=$1 timeout=$2 i
    for (( i = 0; i < timeout; i++ )); do
        kill -0 "$_ISO_PID" 2>/dev/null || return 0
        sleep 1
    done
    iso_wait "$log" 'no such line' 1 || true
    fail "no poweroff after ${timeout}s"
}

# iso_serial_send TEXT: type TEXT on the serial console.
iso_serial_send () { printf '%s' "$1" >&8; }

# iso_wait LOG REGEXP TIMEOUT: wait until the console log matches REGEXP
# (extended, after removing escape sequences).  1 on timeout, on a kernel
# panic or when qemu exits; then the last lines of the log go to stderr.
iso_wait () {
    local log=$1 re=$2 timeout=$3 t0 state=timeout
    t0=$(date +%s)
    while :; do
        if iso_log_has "$log" "$re"; then return 0; fi
        if grep -aq 'Kernel panic' "$log" 2>/dev/null; then state=panic; break; fi
        if [ -n "$_ISO_PID" ] && ! kill -0 "$_ISO_PID" 2>/dev/null; then state="qemu exited"; break; fi
        [ $(( $(date +%s) - t0 )) -lt "$timeout" ] || break
        sleep 1
    done
    echo "iso_wait: no /$re/ ($state) after $(( $(date +%s) - t0 ))s; last lines of $log:" >&2
    iso_clean_log "$log" | uniq | tail -n 30 | sed 's/^/  | /' >&2
    [ ! -s "$log.qemu" ] || sed 's/^/  qemu: /' "$log.qemu" >&2
    return 1
}

# iso_log_has LOG REGEXP: whether the cleaned console log matches.  (grep
# reads all of it: with -q it would stop early and pipefail would report
# the writer's SIGPIPE as a mismatch.)
iso_log_has () {
    iso_clean_log "$1" | grep -aEc -- "$2" >/dev/null
}

# iso_clean_log LOG: the console text without escape sequences and CRs.
iso_clean_log () {
    tr -d '\r' <"$1" 2>/dev/null | sed 's/\x1b\[[0-9;?]*[A-Za-z]//g; s/\x1b[()][0-9A-Za-z]//g'
}
