#!/bin/bash
# test-deploy-matrix: the deploy proofs that take a guest boot each, two
# at a time (make check-slow; tests/e2e/test-deploy.sh is the reference
# guest onto a dirty 8 GiB disk):
#   uefi    debian13-uefi-ahci (GPT, ESP) onto 4 GiB: sfdisk --verify finds
#           a valid GPT with its backup header at the disk's end; it boots
#           from NVMe under OVMF with a fresh, empty variable store (only
#           the fallback \EFI\BOOT\BOOTX64.EFI can boot it)
#   lvm     debian13-lvm-ahci onto 4 GiB: PV, LV and ext4 grown; boots,
#           its root about 4 GiB
#   xfs     debian13-xfs-ahci onto 3 GiB: xfs grown mounted in the
#           appliance; boots, its root about 3 GiB
#   btrfs   debian13-btrfs-ahci onto 3 GiB: btrfs grown mounted in the
#           appliance; boots, its root about 3 GiB
#   shrink  debian12-ahci (1.5 GiB, 0.9 GiB of data) onto 1.4 GiB: ext4
#           shrunk, swap moved; e2fsck clean; boots
#   lvmshrink debian13-lvm-ahci (1.5 GiB) onto 1.4 GiB: ext4, root LV and
#           PV shrunk, the partition's entry rewritten, swap moved;
#           sfdisk --verify, e2fsck of the LV clean, the PV inside its
#           partition; boots
#   ova     an OVA exported by Ferry from debian12-ahci onto 3 GiB; boots
#   xva     an XVA exported by Ferry from debian12-ahci onto 3 GiB; boots
# Every result boots from an NVMe controller, which the AHCI-only sources
# cannot.
source "$(dirname "$0")/../functions.sh"
source "$TESTS_DIR/boot.sh"
requires guestfish qemu-img python3 sfdisk e2fsck losetup
ovmf_code=/usr/share/OVMF/OVMF_CODE_4M.fd ovmf_vars=/usr/share/OVMF/OVMF_VARS_4M.fd
[ -f "$ovmf_code" ] && [ -f "$ovmf_vars" ] || { echo "SKIP: ovmf not installed"; exit 77; }
t=$(mktmpdir)
cases="${FERRY_DEPLOY_CASES:-uefi lvm xfs btrfs shrink lvmshrink ova xva}"

ref=$("$TESTS_DIR/guests.sh" "$BUILDDIR" debian12-ahci)
for g in debian13-uefi-ahci debian13-lvm-ahci debian13-xfs-ahci debian13-btrfs-ahci; do
    "$TESTS_DIR/guests.sh" "$BUILDDIR" "$g" > "$t/$g.path" || fail "cannot build $g"
done

# deploy_one CASE SOURCE GUEST SIZE [ARGS]: deploy, report ok, the source
# unchanged.
deploy_one () {
    local c=$1 src=$2 size=$4 before s
    shift 4
    truncate -s "$size" "$t/$c.disk"
    before=$(sha256sum < "$src")
    s=$(date +%s)
    "$FERRY" deploy "$src" "$t/$c.disk" --yes --json -v "$@" > "$t/$c.json" ||
        fail "$c: deploy failed: $(cat "$t/$c.json")"
    echo "$c: deploy took $(( $(date +%s) - s ))s"
    cat "$t/$c.json"
    [ "$(sha256sum < "$src")" = "$before" ] || fail "$c: the source was modified"
}

layout_has () {
    python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); l=" / ".join(r["disks"][0]["layout"]); assert r["ok"] and sys.argv[2] in l, l' "$t/$1.json" "$2" ||
        fail "$1: the report's layout lacks '$2'"
}

# (not in $(...): boot_guest_log must see the boot's log)
boot_nvme () {
    local c=$1 min_mib=$2 out
    shift 2
    boot_guest_login "$t/$c.disk" nvme 600 root ferry "$@" > "$t/$c.guest" <<'SH' ||
df -B1M --output=size / | tail -1
SH
        fail "$c: the deployed disk does not boot on NVMe (log $(boot_guest_log))"
    out=$(tr -d ' \r' < "$t/$c.guest" | head -1)
    [ "$out" -ge "$min_mib" ] || fail "$c: root filesystem is $out MiB, expected >= $min_mib"
    echo "$c: boots on NVMe, root $out MiB"
}

one_case () (
    c=$1
    case $c in
    uefi)
        deploy_one uefi "$(cat "$t/debian13-uefi-ahci.path")" x 4G
        sfdisk --verify "$t/uefi.disk" || fail "uefi: sfdisk --verify"
        tail -c 512 "$t/uefi.disk" | head -c 8 | grep -q 'EFI PART' ||
            fail "uefi: no backup GPT header in the last sector"
        layout_has uefi "backup GPT at the disk's end"
        cp "$ovmf_vars" "$t/vars.fd"     # fresh: no boot entry at all
        boot_nvme uefi 3500 \
            -drive "if=pflash,format=raw,readonly=on,file=$ovmf_code" \
            -drive "if=pflash,format=raw,file=$t/vars.fd"
        grep -q 'efi: EFI v' "$(boot_guest_log)" || fail "uefi: not booted through UEFI"
        ;;
    lvm)
        deploy_one lvm "$(cat "$t/debian13-lvm-ahci.path")" x 4G
        layout_has lvm "LVM: PV"
        boot_nvme lvm 3500
        ;;
    xfs)
        deploy_one xfs "$(cat "$t/debian13-xfs-ahci.path")" x 3G
        layout_has xfs "xfs on /dev/sda1 grown"
        boot_nvme xfs 2500
        ;;
    btrfs)
        deploy_one btrfs "$(cat "$t/debian13-btrfs-ahci.path")" x 3G
        layout_has btrfs "btrfs on /dev/sda1 grown"
        boot_nvme btrfs 2500
        ;;
    shrink)
        deploy_one shrink "$ref" x 1400M
        layout_has shrink "ext4 on /dev/sda1 shrunk"
        layout_has shrink "swap partition 2"
        start=$(sfdisk -J "$t/shrink.disk" | python3 -c 'import json,sys; p=json.load(sys.stdin)["partitiontable"]["partitions"][0]; print(p["start"], p["size"])')
        set -- $start
        loop=$(losetup -r -f --show -o $(( $1 * 512 )) --sizelimit $(( $2 * 512 )) "$t/shrink.disk")
        e2fsck -fn "$loop"; rc=$?
        losetup -d "$loop"
        [ "$rc" = 0 ] || fail "shrink: e2fsck"
        boot_nvme shrink 900
        ;;
    lvmshrink)
        deploy_one lvmshrink "$(cat "$t/debian13-lvm-ahci.path")" x 1400M
        layout_has lvmshrink "LVM: LV /dev/ferryvg/root shrunk"
        layout_has lvmshrink "partition 1 shrunk"
        layout_has lvmshrink "swap partition 2"
        sfdisk --verify "$t/lvmshrink.disk" || fail "lvmshrink: sfdisk --verify"
        part=$(sfdisk -J "$t/lvmshrink.disk" | python3 -c 'import json,sys; p=json.load(sys.stdin)["partitiontable"]["partitions"][0]; print(p["size"] * 512)')
        guestfish --ro -a "$t/lvmshrink.disk" > "$t/lvmshrink.gf" <<'GF' || fail "lvmshrink: guestfish"
run
echo FSCK
fsck ext4 /dev/ferryvg/root
echo PV
pvs-full
GF
        [ "$(sed -n '/^FSCK/{n;p}' "$t/lvmshrink.gf")" = 0 ] || fail "lvmshrink: fsck of the root LV: $(cat "$t/lvmshrink.gf")"
        pv=$(awk '$1 == "pv_size:" {print $2}' "$t/lvmshrink.gf")
        [ -n "$pv" ] && [ "$pv" -le "$part" ] || fail "lvmshrink: PV of $pv bytes in a partition of $part"
        boot_nvme lvmshrink 900
        ;;
    ova|xva)
        "$FERRY" export -q "$ref" -o "$t/vm.$c" --name deploy-$c
        deploy_one "$c" "$t/vm.$c" x 3G
        boot_nvme "$c" 2500
        ;;
    esac
    echo "$c: ok"
)

declare -A pid_of
failed=()
for c in $cases; do
    while [ "$(jobs -rp | wc -l)" -ge 2 ]; do wait -n || true; done
    one_case "$c" > "$t/$c.log" 2>&1 &
    pid_of[$c]=$!
    echo "$c: started (log $t/$c.log)"
done
for c in $cases; do
    if wait "${pid_of[$c]}"; then
        grep -E "^$c: " "$t/$c.log"
    else
        failed+=("$c")
        echo "---- $c FAILED; its log:"
        sed 's/^/  | /' "$t/$c.log"
    fi
done
[ ${#failed[@]} -eq 0 ] || fail "cases that failed: ${failed[*]}"
echo ok
