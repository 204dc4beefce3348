#!/bin/bash
# The ISO's SSH target: the ISO's kernel and initramfs booted directly
# (qemu -kernel/-initrd, the ISO as CD-ROM so live-boot finds the squashfs)
# with qemu's user-mode network, an unattended capture to an sshd of the
# test's own on the host's 127.0.0.1 (its config, host key and authorized
# key in a temp dir, as in test-agent-ssh.sh), which the guest reaches as
# 10.0.2.2 (slirp maps it to the host's loopback; nothing else of the host's
# network is used).  The private key reaches the live system through qemu's
# firmware config (-fw_cfg name=opt/ferry/id): the ISO's agent-start copies
# it to /run/ferry/id for ferry.sshkey=.  The network comes from DHCP
# (ferry.ip=dhcp, slirp's server).  On the host the image must pass
# qemu-img check and equal the source, the report, log and status files
# must be there, sshd must have accepted the key, and the source (attached
# read-only) must be unchanged.  A small test disk is the source: the
# capture of the 2 GiB reference guest over sshfs under TCG would dominate
# the run and prove nothing more (test-iso-unattended.sh captures it).
source "$(dirname "$0")/../functions.sh"
source "$(dirname "$0")/../iso.sh"
iso_requirements
requires qemu-img ssh-keygen python3
[ -x /usr/sbin/sshd ] || { echo "SKIP: sshd not installed"; exit 77; }
agent_landed || { echo "SKIP: ferry agent does not exist yet"; exit 77; }

iso=$(iso_build) || fail "the ISO does not build (boot-iso/build.sh)"
t=$(mktmpdir)
chmod 700 "$t"
name=sshcap

# The sshd: root logs in with the test's key only.
mkdir -p "$t/remote"
start_sshd "$t"

src=$t/src.raw
make_test_disk "$src" 64
src_sum=$(sha256sum "$src" | cut -d' ' -f1)

cmdline="ferry.disks=vda ferry.target=ssh://root@10.0.2.2:$port$t/remote ferry.sshkey=/run/ferry/id"
cmdline+=" ferry.format=qcow2 ferry.name=$name ferry.ip=dhcp ferry.post=poweroff ferry.yes"
log=$BUILDDIR/boot-logs/iso-ssh.log
t0=$(date +%s)
iso_boot_direct "$iso" "$log" "$cmdline" \
    -fw_cfg "name=opt/ferry/id,file=$t/id" \
    -drive "file=$src,format=raw,if=none,id=src,readonly=on" -device virtio-blk-pci,drive=src \
    -netdev user,id=net0 -device virtio-net-pci,netdev=net0
iso_wait_poweroff "$log" 900
iso_kill
echo "ssh capture: $(( $(date +%s) - t0 ))s"
iso_log_has "$log" 'ferry-iso: firmware file opt/ferry/id in /run/ferry/id' ||
    fail "the key from -fw_cfg did not reach /run/ferry/id"
iso_log_has "$log" 'ferry-iso: starting ferry agent on ttyS0' || fail "the agent did not start"
iso_log_has "$log" "ferry agent: done: 1 image" ||
    { iso_wait "$log" 'no such line' 1 || true; fail "the agent did not finish the capture; sshd: $(tail -5 "$t/sshd.log")"; }
grep -q "Accepted publickey for root from 127.0.0.1" "$t/sshd.log" ||
    fail "sshd did not accept the key: $(tail -5 "$t/sshd.log")"
[ "$(sha256sum "$src" | cut -d' ' -f1)" = "$src_sum" ] || fail "the source disk changed"

iso_check_result "$t/remote" "$name" "$name-vda.qcow2" "$src"
echo "PASS"
