# shellcheck shell=bash disable=SC2054
# (SC2054: qemu -device arguments are meant to contain commas.)
# boot.sh: boot a guest disk under qemu (TCG) and watch its serial console.
# Sourced by end-to-end tests, after functions.sh:
#
#   source "$(dirname "$0")/../functions.sh"
#   source "$(dirname "$0")/../boot.sh"
#   boot_guest "$img" virtio || fail "converted guest does not boot"
#   grep -q 'ferry-clone login:' "$(boot_guest_log)" || fail "wrong hostname"
#
# boot_guest IMAGE BUS [TIMEOUT] [EXTRA QEMU ARGS...]
#   BUS      ahci    AHCI controller + ide-hd (SATA disk), e1000 NIC
#            ide     PIIX IDE (the pc machine's ide.0), e1000 NIC
#            virtio  virtio-blk-pci, virtio-net-pci NIC
#            scsi    virtio-scsi-pci + scsi-hd, virtio-net-pci NIC
#            nvme    NVMe controller, e1000 NIC
#   TIMEOUT  seconds until the login prompt (default $BOOT_TIMEOUT or 300)
#   The disk format (raw, qcow2, vpc, vmdk, vhdx...) is detected with qemu-img.
#   The guest runs with -snapshot: the image is never modified.
#   Returns 0 when the serial console shows "login:", 1 on a kernel panic,
#   an initramfs shell, a root device that never appears, qemu exiting, or
#   the timeout; qemu is always killed before returning.  On failure the
#   last 30 lines of the console log go to stderr.
#
# boot_guest_login IMAGE BUS TIMEOUT USER PASSWORD [EXTRA QEMU ARGS...]
#   Boots as boot_guest does, logs in on the serial console (tests/
#   console.py), runs the shell lines read from stdin and prints their
#   output on stdout; returns 1 as boot_guest does, or when the login is
#   refused.  The console log is boot_guest_log's.
#
# Environment:
#   BOOT_MAC       MAC address of the NIC (default: qemu's 52:54:00:12:34:56)
#   BOOT_NICS      several NICs: their MACs, space-separated (the bus's NIC
#                  model, each on its own user-mode network); overrides
#                  BOOT_MAC
#   BOOT_MEM       guest memory in MiB (default 1024)
#   BOOT_LOG_DIR   where console logs go (default $BUILDDIR/boot-logs, kept
#                  after the test for post-mortems)
#
# boot_guest_log: the path of the last boot's serial console log.
#
# Always TCG: nested KVM is not usable on the test machines.

_BOOT_LOG=
_BOOT_PID=
_BOOT_LOGIN=
_BOOT_LOGIN_IN=
_BOOT_LOGIN_OUT=

boot_guest_login () {
    local image=$1 bus=$2 timeout=$3 user=$4 password=$5 rc=0 d
    shift 5
    d=$(mktemp -d "${TMPDIR:-/tmp}/ferry-login.XXXXXX")
    cat > "$d/in"
    _BOOT_LOGIN="$user $password" _BOOT_LOGIN_IN=$d/in _BOOT_LOGIN_OUT=$d/out \
        boot_guest "$image" "$bus" "$timeout" "$@" || rc=$?
    [ "$rc" -ne 0 ] || cat "$d/out"
    rm -rf "$d"
    return "$rc"
}

boot_guest_log () { echo "$_BOOT_LOG"; }

# _boot_kill: stop the running qemu, if any (also registered as a cleanup).
_boot_kill () {
    local pid=$_BOOT_PID
    _BOOT_PID=
    stop_pid "$pid"
}

_boot_cleanup_registered=
# Under TCG on a loaded host, Linux's check of the timer interrupt can
# fail before anything of the guest has run ("IO-APIC + timer doesn't
# work!" panic): that boot is tried once more, and the retry logged.
boot_guest () {
    local rc=0
    _boot_guest_once "$@" || rc=$?
    if [ "$rc" -ne 0 ] && grep -q "IO-APIC + timer doesn't work" "$_BOOT_LOG" 2>/dev/null; then
        echo "boot_guest: the emulated timer check failed (host too loaded for TCG); booting once more" >&2
        rc=0
        _boot_guest_once "$@" || rc=$?
    fi
    return "$rc"
}

_boot_guest_once () {
    local image=$1 bus=$2 timeout=${3:-${BOOT_TIMEOUT:-300}}
    shift 2
    [ $# -eq 0 ] || shift
    local fmt disk nic logdir log t0 now state=timeout

    [ -f "$image" ] || { echo "boot_guest: no such image: $image" >&2; return 1; }
    command -v qemu-system-x86_64 >/dev/null || { echo "SKIP: qemu-system-x86_64 not installed"; exit 77; }
    # -U: read the header even while another test's qemu holds a lock on it.
    fmt=$(qemu-img info -U "$image" | awk -F': ' '/^file format:/ { print $2; exit }')
    [ -n "$fmt" ] || { echo "boot_guest: cannot detect the format of $image" >&2; return 1; }

    local model
    case "$bus" in
        ahci)   disk=(-device ahci,id=ahci -device ide-hd,bus=ahci.0,drive=d)
                model=e1000 ;;
        ide)    disk=(-device ide-hd,bus=ide.0,unit=0,drive=d)
                model=e1000 ;;
        virtio) disk=(-device virtio-blk-pci,drive=d)
                model=virtio-net-pci ;;
        scsi)   disk=(-device virtio-scsi-pci,id=scsi -device scsi-hd,bus=scsi.0,drive=d)
                model=virtio-net-pci ;;
        nvme)   disk=(-device nvme,serial=ferry0001,drive=d)
                model=e1000 ;;
        *) echo "boot_guest: unknown bus '$bus' (ahci|ide|virtio|scsi|nvme)" >&2; return 1 ;;
    esac
    local macs=${BOOT_NICS:-${BOOT_MAC:-}} m i=0
    nic=()
    if [ -z "$macs" ]; then
        nic=(-netdev user,id=n0 -device "$model,netdev=n0")
    else
        for m in $macs; do
            nic+=(-netdev "user,id=n$i" -device "$model,netdev=n$i,mac=$m")
            i=$(( i + 1 ))
        done
    fi

    logdir=${BOOT_LOG_DIR:-${BUILDDIR:-${TMPDIR:-/var/tmp}}/boot-logs}
    mkdir -p "$logdir"
    log=$(mktemp "$logdir/$(basename "$image" | tr -c 'A-Za-z0-9_.\n-' _)-$bus.XXXXXX.log")
    _BOOT_LOG=$log

    if [ -z "$_boot_cleanup_registered" ] && declare -F cleanup_fn >/dev/null; then
        cleanup_fn _boot_kill
        _boot_cleanup_registered=1
    fi

    # -nographic with the serial port sent to the log (or, to log in, a
    # socket console.py talks to) and no monitor: qemu does not touch the
    # test's stdin/stdout.
    local serial=file:$log
    [ -z "$_BOOT_LOGIN" ] || serial=unix:$log.sock,server=on,wait=off
    qemu-system-x86_64 -accel tcg -machine pc -m "${BOOT_MEM:-1024}" \
        -nographic -monitor none -serial "$serial" \
        -snapshot -drive "file=$image,format=$fmt,if=none,id=d" "${disk[@]}" \
        "${nic[@]}" "$@" </dev/null >"$log.qemu" 2>&1 &
    _BOOT_PID=$!

    t0=$(date +%s)
    echo "boot_guest: $(basename "$image") ($fmt) on $bus, timeout ${timeout}s, log $log" >&2
    if [ -n "$_BOOT_LOGIN" ]; then
        # shellcheck disable=SC2086
        if python3 "$TESTS_DIR/console.py" "$log.sock" "$log" "$timeout" $_BOOT_LOGIN \
               < "$_BOOT_LOGIN_IN" > "$_BOOT_LOGIN_OUT" 2> "$log.console"; then
            state=ok
        else
            state="console: $(tail -n 1 "$log.console")"
        fi
    fi
    while [ -z "$_BOOT_LOGIN" ]; do
        sleep 1
        if grep -q 'login:' "$log" 2>/dev/null; then state=ok; break; fi
        if grep -Eq 'Kernel panic|\(initramfs\)|Gave up waiting for root|ALERT! ' "$log" 2>/dev/null; then
            state=failed; sleep 1; break
        fi
        if ! kill -0 "$_BOOT_PID" 2>/dev/null; then state="qemu exited"; break; fi
        now=$(date +%s)
        [ $(( now - t0 )) -lt "$timeout" ] || break
    done
    _boot_kill
    now=$(date +%s)
    if [ "$state" = ok ]; then
        echo "boot_guest: login prompt after $(( now - t0 ))s${_BOOT_LOGIN:+ (logged in, commands run)}" >&2
        return 0
    fi
    echo "boot_guest: no login prompt ($state) after $(( now - t0 ))s; last lines of $log:" >&2
    # (repeated lines, e.g. initramfs-tools' "Running /scripts/local-block",
    # are shown once)
    tr -d '\r' <"$log" | sed 's/\x1b\[[0-9;?]*[A-Za-z]//g; s/^/  | /' | uniq | tail -n 30 >&2
    echo >&2
    if [ -s "$log.qemu" ]; then sed 's/^/  qemu: /' "$log.qemu" >&2; fi
    return 1
}
