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
# Environment:
#   BOOT_MAC       MAC address of the NIC (default: qemu's 52:54:00:12:34:56)
#   BOOT_MEM       guest memory in MiB (default 1024)
#   BOOT_LOG_DIR   where console logs go (default $BUILDDIR/boot-logs, kept
#                  after the test for post-mortems)
#
# boot_guest_log: the path of the last boot's serial console log.
#
# Always TCG: nested KVM is not usable on the test machines.

_BOOT_LOG=
_BOOT_PID=

boot_guest_log () { echo "$_BOOT_LOG"; }

# _boot_kill: stop the running qemu, if any (also registered as a cleanup).
_boot_kill () {
    local pid=$_BOOT_PID
    _BOOT_PID=
    stop_pid "$pid"
}

_boot_cleanup_registered=
boot_guest () {
    local image=$1 bus=$2 timeout=${3:-${BOOT_TIMEOUT:-300}}
    shift 2
    [ $# -eq 0 ] || shift
    local fmt disk nic logdir log t0 now state=timeout

    [ -f "$image" ] || { echo "boot_guest: no such image: $image" >&2; return 1; }
    command -v qemu-system-x86_64 >/dev/null || { echo "SKIP: qemu-system-x86_64 not installed"; exit 77; }
    # -U: read the header even while another test's qemu holds a lock on it.
    fmt=$(qemu-img info -U "$image" | awk -F': ' '/^file format:/ { print $2; exit }')
    [ -n "$fmt" ] || { echo "boot_guest: cannot detect the format of $image" >&2; return 1; }

    local mac=${BOOT_MAC:+,mac=$BOOT_MAC}
    case "$bus" in
        ahci)   disk=(-device ahci,id=ahci -device ide-hd,bus=ahci.0,drive=d)
                nic=(-device "e1000,netdev=n$mac") ;;
        ide)    disk=(-device ide-hd,bus=ide.0,unit=0,drive=d)
                nic=(-device "e1000,netdev=n$mac") ;;
        virtio) disk=(-device virtio-blk-pci,drive=d)
                nic=(-device "virtio-net-pci,netdev=n$mac") ;;
        scsi)   disk=(-device virtio-scsi-pci,id=scsi -device scsi-hd,bus=scsi.0,drive=d)
                nic=(-device "virtio-net-pci,netdev=n$mac") ;;
        nvme)   disk=(-device nvme,serial=ferry0001,drive=d)
                nic=(-device "e1000,netdev=n$mac") ;;
        *) echo "boot_guest: unknown bus '$bus' (ahci|ide|virtio|scsi|nvme)" >&2; return 1 ;;
    esac

    logdir=${BOOT_LOG_DIR:-${BUILDDIR:-${TMPDIR:-/var/tmp}}/boot-logs}
    mkdir -p "$logdir"
    log=$(mktemp "$logdir/$(basename "$image" | tr -c 'A-Za-z0-9_.\n-' _)-$bus.XXXXXX.log")
    _BOOT_LOG=$log

    if [ -z "$_boot_cleanup_registered" ] && declare -F cleanup_fn >/dev/null; then
        cleanup_fn _boot_kill
        _boot_cleanup_registered=1
    fi

    # -nographic with the serial port sent to the log and no monitor: qemu
    # does not touch the test's stdin/stdout.
    qemu-system-x86_64 -accel tcg -machine pc -m "${BOOT_MEM:-1024}" \
        -nographic -monitor none -serial "file:$log" \
        -snapshot -drive "file=$image,format=$fmt,if=none,id=d" "${disk[@]}" \
        -netdev user,id=n "${nic[@]}" \
        "$@" </dev/null >"$log.qemu" 2>&1 &
    _BOOT_PID=$!

    t0=$(date +%s)
    echo "boot_guest: $(basename "$image") ($fmt) on $bus, timeout ${timeout}s, log $log" >&2
    while :; do
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
        echo "boot_guest: login prompt after $(( now - t0 ))s" >&2
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
