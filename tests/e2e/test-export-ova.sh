#!/bin/bash
# `ferry export` to an OVA in each flavour: the tar holds the .ovf first,
# the disks, the manifest last; the manifest, the ovf:size fields and the
# tar sizes match what tar extracts; the disks are sound (qemu-img, ferry
# check), hold the used blocks only (deleted data gone, ext4 clean) or,
# with --all-blocks, the source exactly; > 8 GiB virtual disks work; an
# interrupted export leaves nothing; --from-libvirt takes disks and MACs.
source "$(dirname "$0")/../functions.sh"
requires qemu-img xmllint e2fsck debugfs tar sha256sum sha1sum
t=$(mktmpdir)
"$TESTS_DIR/make-demo-disk.sh" "$t/disk.img"
grep -q FERRY-DELETED-SECRET "$t/disk.img" || fail "demo disk lacks its deleted data"

# Extract partition N of a raw disk (offsets from sfdisk's dump).
part () {
    local start size
    read -r start size < <(/sbin/sfdisk -d "$1" | awk -v n="$2" '$1 ~ n" *:$" || $1 ~ "[a-z]"n"$" {
        for (i = 1; i <= NF; i++) { if ($i == "start=") s = $(i+1); if ($i == "size=") z = $(i+1) }
        gsub(",", "", s); gsub(",", "", z); print s, z }')
    dd if="$1" of="$3" bs=512 skip="$start" count="$size" status=none
}
fs_sums () {
    local f
    for f in /etc/hostname /home/demo/README /home/demo/photo.bin /home/demo/numbers.txt; do
        debugfs -R "cat $f" "$1" 2>/dev/null | sha256sum
    done
}
part "$t/disk.img" 1 "$t/src-p1.img"
want_sums=$(fs_sums "$t/src-p1.img")

# check_package OVA STEM EXT HASH: layout, manifest, sizes, XML; extracts
# into $t/x.
check_package () {
    local ova=$1 stem=$2 ext=$3 sum=${4:-sha256} names f size
    rm -rf "$t/x"; mkdir "$t/x"
    names=$(tar tf "$ova")
    [ "$(echo "$names" | head -1)" = "$stem.ovf" ] || fail "$ova: .ovf is not first: $names"
    [ "$(echo "$names" | tail -1)" = "$stem.mf" ] || fail "$ova: .mf is not last: $names"
    [ "$(echo "$names" | sed -n '2,$p' | sed '$d')" = \
      "$(grep -o 'ovf:href="[^"]*"' <(tar xOf "$ova" "$stem.ovf") | cut -d'"' -f2)" ] ||
        fail "$ova: disks are not in References order: $names"
    echo "$names" | sed -n '2,$p' | sed '$d' | grep -qv "\.$ext\$" && fail "$ova: a disk is not .$ext"
    tar xf "$ova" -C "$t/x"
    xmllint --noout "$t/x/$stem.ovf" || fail "$ova: the .ovf is not well-formed"
    local up=${sum^^}
    [ "$(wc -l < "$t/x/$stem.mf")" -eq "$(( $(echo "$names" | wc -l) - 1 ))" ] ||
        fail "$ova: manifest does not list every other member"
    (cd "$t/x" && sed -E "s/^$up\((.*)\)= ([0-9a-f]+)\$/\2  \1/" "$stem.mf" | "${sum}sum" -c --quiet) ||
        fail "$ova: manifest mismatch"
    # ovf:size = the extracted size, for every File.
    grep -o 'ovf:href="[^"]*" ovf:id="[^"]*" ovf:size="[0-9]*"' "$t/x/$stem.ovf" |
    while IFS='"' read -r _ f _ _ _ size _; do
        [ "$(stat -c %s "$t/x/$f")" = "$size" ] || fail "$ova: ovf:size of $f is $size"
    done
}

# check_disk FILE QFMT: structure, and back to raw in $t/back.raw.
check_disk () {
    [ "$2" = vmdk ] && { qemu-img check -q -f vmdk "$1" || fail "qemu-img check '$1'"; }
    "$FERRY" check "$1" >/dev/null || fail "ferry check '$1'"
    qemu-img convert -f "$2" -O raw "$1" "$t/back.raw"
}

# check_used_only: the extracted disk has the files, not the deleted data.
check_used_only () {
    cmp -n 1048576 "$t/disk.img" "$t/back.raw" || fail "$1: partition table area differs"
    part "$t/back.raw" 1 "$t/p1.img"
    e2fsck -fn "$t/p1.img" >/dev/null 2>&1 || fail "$1: exported ext4 is not clean"
    [ "$(fs_sums "$t/p1.img")" = "$want_sums" ] || fail "$1: file contents differ"
    ! grep -q FERRY-DELETED-SECRET "$t/back.raw" || fail "$1: deleted data was exported"
}

for fl in vmware:vmdk:vmdk:00:50:56 virtualbox:vmdk:vmdk:08:00:27 xenserver:vhd:vpc:00:16:3e; do
    IFS=: read -r flavour ext qfmt prefix <<< "$fl"
    "$FERRY" export -q "$t/disk.img" -o "$t/$flavour.ova" --flavour "$flavour" \
        --name "demo $flavour" --cpus 2 --memory 512 --os debian64 --json > "$t/$flavour.json"
    grep -q '"ok":true' "$t/$flavour.json" || fail "$flavour: JSON summary"
    check_package "$t/$flavour.ova" "$flavour" "$ext"
    grep -q "<rasd:Address>$prefix" "$t/x/$flavour.ovf" || fail "$flavour: generated MAC lacks prefix $prefix"
    check_disk "$t/x/$flavour-disk1.$ext" "$qfmt"
    check_used_only "$flavour"
    # --all-blocks: identical to the source.
    "$FERRY" export -q --all-blocks "$t/disk.img" -o "$t/all-$flavour.ova" --flavour "$flavour"
    check_package "$t/all-$flavour.ova" "all-$flavour" "$ext"
    qemu-img compare -q -f raw -F "$qfmt" "$t/disk.img" "$t/x/all-$flavour-disk1.$ext" ||
        fail "$flavour --all-blocks: the disk differs from the source"
done

# Two disks, SHA-1 manifest, explicit NICs.
make_test_disk "$t/data.img" 40
"$FERRY" export -q --all-blocks --manifest sha1 "$t/disk.img" "$t/data.img" -o "$t/two.ova" \
    --nic 00:50:56:01:02:03,network=lan,model=vmxnet3 --nic auto
check_package "$t/two.ova" two vmdk sha1
qemu_compare "$t/data.img" "$t/x/two-disk2.vmdk"
grep -qi "00:50:56:01:02:03" "$t/x/two.ovf" || fail "given MAC lost"
[ "$(grep -c '<rasd:Address>00:50:56' "$t/x/two.ovf")" -eq 2 ] || fail "expected two VMware MACs"

# A sparse disk larger than 8 GiB (virtual), data at both ends.
truncate -s 9G "$t/big.img"
printf 'start' | dd of="$t/big.img" conv=notrunc status=none
printf 'end' | dd of="$t/big.img" bs=1 seek=$(( (9 << 30) - 3 )) conv=notrunc status=none
for fl in vmware:vmdk:vmdk xenserver:vhd:vpc; do
    IFS=: read -r flavour ext qfmt <<< "$fl"
    "$FERRY" export -q --all-blocks "$t/big.img" -o "$t/big-$flavour.ova" --flavour "$flavour"
    check_package "$t/big-$flavour.ova" "big-$flavour" "$ext"
    grep -q 'ovf:capacity="9663676416"' "$t/x/big-$flavour.ovf" || fail "big: capacity"
    qemu-img compare -q -f raw -F "$qfmt" "$t/big.img" "$t/x/big-$flavour-disk1.$ext" ||
        fail "big $flavour: the disk differs"
done

# --from-libvirt: disks from the domain's source files, its MAC kept.
qemu-img convert -f raw -O qcow2 "$t/data.img" "$t/data.qcow2"
cat > "$t/dom.xml" <<XML
<domain type='kvm'>
  <name>web01</name>
  <uuid>8f3e5d2a-1b4c-4d6e-9f70-123456789abc</uuid>
  <memory unit='KiB'>2097152</memory>
  <vcpu>2</vcpu>
  <os><type arch='x86_64' machine='q35'>hvm</type></os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='$t/disk.img'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='$t/data.qcow2'/>
      <target dev='vdb' bus='virtio'/>
    </disk>
    <interface type='bridge'>
      <mac address='52:54:00:aa:bb:cc'/>
      <source bridge='br0'/>
      <model type='virtio'/>
    </interface>
  </devices>
</domain>
XML
"$FERRY" export -q --from-libvirt "$t/dom.xml" -o "$t/web.ova"
check_package "$t/web.ova" web vmdk
grep -q '<Name>web01</Name>' "$t/x/web.ovf" || fail "libvirt: VM name lost"
grep -qi '52:54:00:aa:bb:cc' "$t/x/web.ovf" || fail "libvirt: MAC lost"
grep -q 'ovf:capacity="41943040"' "$t/x/web.ovf" || fail "libvirt: capacity not from the image"
check_disk "$t/x/web-disk1.vmdk" vmdk
check_used_only libvirt
qemu_compare "$t/data.img" "$t/x/web-disk2.vmdk"

# Refusals.
expect_fail "already exists" "$FERRY" export -q "$t/disk.img" -o "$t/vmware.ova"
expect_fail "must end in .ova or .xva" "$FERRY" export -q "$t/disk.img" -o "$t/x.tar"
expect_fail "not a MAC address" "$FERRY" export -q "$t/disk.img" -o "$t/n.ova" --nic 11:22
expect_fail "give one of IMAGE" "$FERRY" export -q "$t/disk.img" --from-libvirt "$t/dom.xml" -o "$t/n.ova"
[ ! -e "$t/n.ova" ] || fail "a refused export left an output"

# Ctrl-C / SIGTERM: no output, no temporary (needs a slow source).
if command -v nbdkit >/dev/null 2>&1; then
    nbdkit -U "$t/slow.sock" -P "$t/slow.pid" --filter=delay file "$t/data.img" rdelay=300ms
    cleanup_fn "kill \$(cat '$t/slow.pid') 2>/dev/null"
    for _ in $(seq 50); do [ -S "$t/slow.sock" ] && break; sleep 0.1; done
    for sig in INT TERM; do
        mkdir "$t/int-$sig"
        "$FERRY" export -q --all-blocks "nbd+unix:///?socket=$t/slow.sock" -o "$t/int-$sig/vm.ova" &
        pid=$!
        sleep 1.5
        kill -"$sig" "$pid"
        wait "$pid" && fail "export survived SIG$sig"
        [ -z "$(ls -A "$t/int-$sig")" ] || fail "SIG$sig left '$(ls -A "$t/int-$sig")'"
    done
else
    echo "note: nbdkit missing, interrupt case not run"
fi
echo ok
