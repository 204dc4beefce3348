#!/bin/bash
# `ferry clone` of a multi-disk VM (a libvirt domain whose first disk holds
# data and whose second holds the root) clones the VM whole: each clone
# has both disks, overlaying the golden's, in the domain's order, its domain
# XML names both, and the identity lands on the disk that holds the root
# (read back with guestfish), the data disk staying byte-identical in
# content.  A golden whose root is encrypted (LUKS) is refused with a line
# saying so, and nothing is made.
source "$(dirname "$0")/../functions.sh"
requires guestfish qemu-img python3 virt-xml-validate
ref=$("$TESTS_DIR/guests.sh" "$BUILDDIR" debian12-ahci)
t=$(mktmpdir)
cd "$t" || exit 1

# The golden VM: data.qcow2 (an ext4 with a file) + root.qcow2 (an
# overlay of the reference guest), as a libvirt domain.
qemu-img create -q -f qcow2 data.qcow2 64M
guestfish -a data.qcow2 <<'GF'
run
mkfs ext4 /dev/sda label:ferry-data
mount /dev/sda /
write /data.txt "the data disk\n"
GF
qemu-img create -q -f qcow2 -b "$ref" -F raw root.qcow2
"$FERRY" export data.qcow2 root.qcow2 --to libvirt -o vm --name vm -q ||
    fail "cannot make the golden domain"
[ "$(grep -c '<disk ' vm/vm.xml)" -eq 2 ] || fail "the golden domain has not two disks: $(cat vm/vm.xml)"
sums=$(sha256sum vm/*.qcow2)

"$FERRY" clone --from-libvirt vm/vm.xml -o out --count 2 --name m%d --cow qcow2 \
    --to libvirt --seed multi --json > r.json || fail "clone failed: $(cat r.json)"
[ "$(sha256sum vm/*.qcow2)" = "$sums" ] || fail "the golden's disks were written"
python3 - r.json > facts <<'PY' || fail "report: $(cat r.json)"
import json, sys
r = json.load(open(sys.argv[1]))
for c in r["clones"]:
    assert c["ok"], c
    assert len(c["files"]) == 2, c["files"]
    assert c["machine_id"], c
    print(c["name"], c["machine_id"], *c["files"])
PY
cat facts
while read -r name mid d1 d2; do
    virt-xml-validate "out/$name.xml" domain > /dev/null || fail "$name: virt-xml-validate"
    # The domain's disks, in order, are the clone's two files.
    grep -o "<source file=['\"][^'\"]*" "out/$name.xml" | sed "s/.*=['\"]//" > "$name.sources"
    [ "$(cat "$name.sources")" = "$(printf '%s\n%s' "$d1" "$d2")" ] ||
        fail "$name: the domain's disks are not its files in order: $(cat "$name.sources")"
    qemu-img info "$d1" | grep -q "^backing file: .*vm-disk1.qcow2" || fail "$name: disk 1 does not overlay the golden's disk 1"
    qemu-img info "$d2" | grep -q "^backing file: .*vm-disk2.qcow2" || fail "$name: disk 2 does not overlay the golden's disk 2"
    qemu-img compare -q "$d1" vm/vm-disk1.qcow2 || fail "$name: the data disk changed"
    got=$(guestfish --ro -a "$d1" -a "$d2" <<'GF'
run
mount-ro /dev/sdb1 /
cat /etc/hostname
cat /etc/machine-id
GF
)
    got=$(echo "$got" | grep -v '^$')
    [ "$got" = "$(printf '%s\n%s' "$name" "$mid")" ] || fail "$name: the root disk holds '$got'"
    echo "$name: both disks cloned, identity on disk 2 ($mid)"
done < facts

# An encrypted root: refused, with the reason, nothing made.
if command -v cryptsetup > /dev/null; then
    truncate -s 64M luks.img
    printf secret > key
    cryptsetup luksFormat --batch-mode --type luks2 --pbkdf pbkdf2 \
        --pbkdf-force-iterations 1000 --key-file key luks.img ||
        fail "cannot make the LUKS golden"
    expect_fail "encrypted \(LUKS\) and no key was given" \
        "$FERRY" clone -q luks.img -o lout --count 1 --cow full --to none
    [ -z "$(ls -A lout 2> /dev/null)" ] || fail "a refused encrypted golden left files: $(ls -A lout)"
    echo "encrypted golden refused"
else
    echo "no cryptsetup here: the encrypted golden is not tested"
fi
echo ok
