#!/bin/bash
# Proof 6 of V2P: the ISO deploys unattended.  The ISO's kernel and
# initramfs booted directly (as test-iso-ssh.sh: qemu -kernel/-initrd, the
# ISO as CD-ROM for live-boot, user-mode network, the guest reaching the
# host's 127.0.0.1 as 10.0.2.2) with an empty 8 GiB NVMe disk and
#   ferry.mode=deploy ferry.source=ssh://root@10.0.2.2:PORT/.../debian12.qcow2
#   ferry.disks=nvme0n1 ferry.yes ferry.post=poweroff
# The image is the reference guest (debian12-ahci: MBR, initramfs with AHCI
# drivers only), as qcow2, on an sshd of the test's own (its key reaches
# the live system by -fw_cfg, as in test-iso-ssh.sh).  The agent must
# mount the share read-only, deploy (the appliance runs inside the ISO's
# VM), write "0 ok" to its status and power off; then the NVMe disk alone
# boots to its login prompt with its root filling the disk.  Before that a
# first boot with a wrong image name must stop with a clear line, leave
# the NVMe disk all zeros and power off (status "1 ...").
# Run time: TCG throughout (and the appliance under the live system's
# nested KVM or TCG): many minutes.  FERRY_ISO_DEPLOY_BAD=0 skips the
# first boot.
source "$(dirname "$0")/../functions.sh"
source "$(dirname "$0")/../iso.sh"
source "$(dirname "$0")/../boot.sh"
iso_requirements
requires qemu-img ssh-keygen python3
[ -x /usr/sbin/sshd ] || { echo "SKIP: sshd not installed"; exit 77; }
agent_landed || { echo "SKIP: ferry agent does not exist yet"; exit 77; }

ref=$("$TESTS_DIR/guests.sh" "$BUILDDIR" debian12-ahci)
iso=$(iso_build) || fail "the ISO does not build (boot-iso/build.sh)"
t=$(mktmpdir)
chmod 700 "$t"
mkdir -p "$t/remote"
start_sshd "$t"
qemu-img convert -O qcow2 "$ref" "$t/remote/debian12.qcow2"
before=$(sha256sum < "$t/remote/debian12.qcow2")
nvme=$t/nvme.img
truncate -s 8G "$nvme"
export ISO_MEM=${ISO_MEM:-3072}

# boot_deploy LOG SOURCE-NAME: the ISO with the NVMe disk, deploying
# ssh://.../SOURCE-NAME; returns when the machine has powered off.
boot_deploy () {
    local log=$1 cmdline
    cmdline="ferry.mode=deploy ferry.source=ssh://root@10.0.2.2:$port$t/remote/$2"
    cmdline+=" ferry.sshkey=/run/ferry/id ferry.disks=nvme0n1 ferry.ip=dhcp"
    cmdline+=" ferry.post=poweroff ferry.yes"
    iso_boot_direct "$iso" "$log" "$cmdline" \
        -fw_cfg "name=opt/ferry/id,file=$t/id" \
        -drive "file=$nvme,format=raw,if=none,id=nv" \
        -device nvme,drive=nv,serial=FERRY-NVME-1 \
        -netdev user,id=net0 -device virtio-net-pci,netdev=net0
    iso_wait_poweroff "$log" "${FERRY_ISO_DEPLOY_TIMEOUT:-3600}"
    iso_kill
}

# 1. A wrong image name: one clear line, nothing written, powered off.
if [ "${FERRY_ISO_DEPLOY_BAD:-1}" != 0 ]; then
    log=$BUILDDIR/boot-logs/iso-deploy-bad.log
    t0=$(date +%s)
    boot_deploy "$log" nosuch.qcow2
    echo "bad source run: $(( $(date +%s) - t0 ))s"
    iso_log_has "$log" "ferry agent: error: source 'ssh://.*nosuch.qcow2': 'nosuch.qcow2' on the share: No such file" ||
        fail "no clear line for a wrong source"
    # (sparse: any write would have allocated blocks)
    [ "$(du -k "$nvme" | cut -f1)" = 0 ] || fail "the NVMe disk was written"
fi

# 2. The deploy.
log=$BUILDDIR/boot-logs/iso-deploy.log
t0=$(date +%s)
boot_deploy "$log" debian12.qcow2
echo "unattended deploy: $(( $(date +%s) - t0 ))s"
iso_log_has "$log" 'ferry-iso: starting ferry agent on ttyS0' || fail "the agent did not start"
iso_log_has "$log" "ferry agent: target 1: /dev/nvme0n1 \\(.*serial FERRY-NVME-1, 8.0 GiB\\)" ||
    fail "the agent did not name the NVMe disk"
iso_log_has "$log" "ferry agent: BIOS: GRUB reinstalled" || fail "GRUB was not reinstalled"
iso_log_has "$log" "ferry agent: done: 'ssh://.*debian12.qcow2' deployed onto nvme0n1" ||
    fail "the agent did not finish the deploy"
grep -q "Accepted publickey for root from 127.0.0.1" "$t/sshd.log" ||
    fail "sshd did not accept the key: $(tail -5 "$t/sshd.log")"
[ "$(sha256sum < "$t/remote/debian12.qcow2")" = "$before" ] || fail "the source was modified"

# 3. The NVMe disk alone boots to its login prompt; the root fills it.
boot_guest_login "$nvme" nvme 600 root ferry > "$t/guest" <<'SH' ||
df -B1M --output=size / | tail -1
findmnt -no SOURCE /
SH
    fail "the deployed NVMe disk does not boot"
cat "$t/guest"
mib=$(sed -n 1p "$t/guest" | tr -d ' \r')
[ "$mib" -gt 7500 ] || fail "root filesystem is $mib MiB, not about 8 GiB"
grep -q '/dev/nvme0n1p1' "$t/guest" || fail "root not on nvme0n1p1"
echo PASS
