#!/bin/bash
# The capture ISO itself boots, from the CD-ROM drive, with SeaBIOS (El
# Torito, GRUB i386-pc) and with OVMF (UEFI, GRUB from the EFI image): the
# GRUB menu shows on the serial console, its serial entry (hotkey s) boots
# the live system from the squashfs, and systemd starts the agent on ttyS0
# (ferry-agent-generator: ferry.console=ttyS0) -- up to the agent's first
# screen once `ferry agent` exists, until then up to the start of
# `ferry agent` by the ISO's service.
source "$(dirname "$0")/../functions.sh"
source "$(dirname "$0")/../iso.sh"
iso_requirements

iso=$(iso_build) || fail "the ISO does not build (boot-iso/build.sh)"
logdir=$BUILDDIR/boot-logs
mkdir -p "$logdir"

if agent_landed; then
    # The TUI's first screen (capture or deploy): its title line
    # (p2v/agent-tui.c).
    ready='Ferry agent - Job'
else
    ready='ferry-iso: starting ferry agent on ttyS0'
fi

for fw in bios uefi; do
    log=$logdir/iso-boot-$fw.log
    t0=$(date +%s)
    iso_boot "$iso" "$fw" "$log"
    iso_wait "$log" "Ferry capture on serial console" 240 ||
        fail "$fw: no GRUB menu on the serial console"
    iso_serial_send s
    iso_wait "$log" "$ready" 600 || fail "$fw: the ISO does not reach the agent"
    # The live system really runs from the ISO's squashfs, as root, on ttyS0.
    if iso_log_has "$log" 'Kernel panic|Unable to find a medium|emergency mode'; then
        fail "$fw: boot errors on the console"
    fi
    iso_kill
    echo "$fw: agent reached in $(( $(date +%s) - t0 ))s"
done
echo "PASS"
