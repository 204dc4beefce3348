#!/bin/bash
# `ferry clone --no-identity`: clone disks and definitions.  qcow2 goldens
# give overlays that qemu-img checks and whose chain names the golden with
# its format (a golden that is itself an overlay keeps its chain); VHD
# goldens give differencing disks that Ferry and tests/data/vhd-read.py
# (written from the VHD spec) read back equal to the
# golden; raw goldens a reflink or a full copy (the report says which);
# --cow full independent copies; libvirt XMLs that virt-xml-validate
# accepts, with distinct UUIDs and MACs; OVA packages ferry info reads;
# OVA and libvirt goldens; the golden never written; a golden qemu-nbd
# holds read-write refused; an existing clone refused with nothing
# written; a clone failing mid-batch leaves the others complete.
source "$(dirname "$0")/../functions.sh"
requires qemu-img qemu-nbd virt-xml-validate mkfs.ext4 debugfs python3 sha256sum
t=$(mktmpdir)
cd "$t"

# A golden with an ext4 filesystem and a file (no appliance needed).
truncate -s 64M g.img
mkfs.ext4 -q -F g.img
echo golden-data > hello
debugfs -w -R "write hello hello" g.img >/dev/null 2>&1
qemu-img convert -q -O qcow2 g.img g.qcow2
qemu-img convert -q -O vpc -o subformat=dynamic,force_size=on g.img g.vhd
qemu-img create -q -f qcow2 -b "$t/g.qcow2" -F qcow2 mid.qcow2
sums=$(sha256sum g.img g.qcow2 g.vhd mid.qcow2)

jget () {   # jget FILE PYTHON-EXPR (on j, the report)
    python3 -c 'import json, sys; j = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# ---- qcow2 golden -> overlays, libvirt definitions ----
$FERRY clone g.qcow2 -o d1 --count 3 --name web-%02d --seed s1 --no-identity --json > r1.json
[ "$(jget r1.json 'j["made"]')" = 3 ] || fail "not 3 clones: $(cat r1.json)"
[ "$(jget r1.json 'j["golden"]["disks"][0]["cow"]')" = qcow2 ] || fail "qcow2 golden not overlaid"
for i in 01 02 03; do
    d=d1/web-$i-disk1.qcow2
    qemu-img check -q "$d" || fail "qemu-img check $d"
    chain=$(qemu-img info --backing-chain "$d")
    echo "$chain" | grep -q "^backing file: $t/g.qcow2\$" || fail "$d does not name the golden: $chain"
    echo "$chain" | grep -q "^backing file format: qcow2\$" || fail "$d lacks the backing format"
    qemu-img compare -q "$d" g.qcow2 || fail "$d differs from the golden"
    virt-xml-validate d1/web-$i.xml domain >/dev/null || fail "virt-xml-validate web-$i.xml"
    grep -q "<source file='$t/d1/web-$i-disk1.qcow2'/>" d1/web-$i.xml || fail "web-$i.xml names another disk"
done
[ "$(grep -h '<uuid>' d1/*.xml | sort -u | wc -l)" = 3 ] || fail "UUIDs not distinct"
[ "$(grep -h '<mac address' d1/*.xml | sort -u | wc -l)" = 3 ] || fail "MACs not distinct"
grep -h '<mac address' d1/*.xml | grep -vq "52:54:00" && fail "a MAC without the KVM prefix"
ls -A d1 | grep -q '^\.' && fail "temporaries left in d1: $(ls -A d1)"

# The same seed gives the same identities.
$FERRY clone g.qcow2 -o d1b --count 3 --name web-%02d --seed s1 --no-identity --to none --json > r1b.json
[ "$(jget r1.json '[c["uuid"] + str(c["macs"]) for c in j["clones"]]')" = \
  "$(jget r1b.json '[c["uuid"] + str(c["macs"]) for c in j["clones"]]')" ] || fail "--seed not reproducible"
[ "$(ls d1b | wc -l)" = 3 ] || fail "--to none made more than disks: $(ls d1b)"

# ---- a golden that is an overlay keeps its chain ----
$FERRY clone mid.qcow2 -o d2 --count 1 --no-identity -q
chain=$(qemu-img info --backing-chain d2/mid-01-disk1.qcow2)
[ "$(echo "$chain" | grep -c '^image:')" = 3 ] || fail "chain not kept: $chain"
echo "$chain" | grep -q "^backing file: $t/mid.qcow2\$" || fail "overlay does not name mid.qcow2"
qemu-img check -q d2/mid-01-disk1.qcow2 || fail "qemu-img check (chain)"

# ---- VHD golden -> differencing disks (qemu-img cannot read VHD chains:
# Ferry and tests/data/vhd-read.py, a reader written from the VHD spec,
# read each clone; qemu-img compares with the golden) ----
vhdread="$TESTS_DIR/data/vhd-read.py"
python3 "$vhdread" g.vhd gold-vr.raw >/dev/null || fail "vhd-read.py cannot read the golden"
qemu-img compare -q -f raw gold-vr.raw g.vhd || fail "vhd-read.py misreads the golden"
$FERRY clone g.vhd -o d3 --count 2 --to libvirt-xen --no-identity --json > r3.json
[ "$(jget r3.json 'j["golden"]["disks"][0]["cow"]')" = vhd ] || fail "VHD golden not differenced"
for i in 01 02; do
    d=d3/g-$i-disk1.vhd
    $FERRY check "$d" >/dev/null || fail "ferry check $d"
    $FERRY info "$d" | grep -qi "differencing" || fail "$d is not differencing: $($FERRY info "$d")"
    $FERRY copy -q "$d" back-$i.raw -O raw
    qemu-img compare -q -f raw back-$i.raw g.vhd || fail "$d does not read as the golden"
    python3 "$vhdread" "$d" vr-$i.raw >/dev/null || fail "vhd-read.py cannot read $d"
    qemu-img compare -q -f raw -F raw vr-$i.raw gold-vr.raw || fail "$d read by vhd-read.py differs from the golden"
    grep -q "type='xen'" d3/g-$i.xml || fail "not a Xen domain"
    virt-xml-validate d3/g-$i.xml domain >/dev/null || fail "virt-xml-validate (xen)"
done
grep -h '<mac address' d3/*.xml | grep -vq "00:16:3e" && fail "a Xen MAC without the Xen prefix"
# A clone written to after cloning: as Xen would, by a child on top of it
# (tests/data/make-vhd-child.py, another independent writer: qemu-img
# cannot write into a differencing disk); both readers follow the 3-deep
# chain.  A child naming another parent UUID, and a bad checksum, refused.
cp gold-vr.raw w.raw
printf 'written-after-cloning' | dd of=w.raw bs=1 seek=$((40 * 1048576 + 7)) conv=notrunc 2>/dev/null
python3 "$TESTS_DIR/data/make-vhd-child.py" d3/g-02-disk1.vhd w.raw d3w.vhd >/dev/null
python3 "$vhdread" d3w.vhd w-vr.raw >/dev/null || fail "vhd-read.py cannot read the written clone"
cmp -s w-vr.raw w.raw || fail "the written clone reads wrong (vhd-read.py)"
$FERRY copy -q d3w.vhd w-f.raw -O raw
cmp -s w-f.raw w.raw || fail "the written clone reads wrong (ferry)"
python3 "$TESTS_DIR/data/make-vhd-child.py" --parent-uuid 0badc0de-0000-4000-8000-000000000000 \
    d3/g-02-disk1.vhd w.raw d3x.vhd >/dev/null
expect_fail "no parent with unique id 0badc0de" python3 "$vhdread" d3x.vhd x.raw
cp d3/g-01-disk1.vhd d3c.vhd
printf 'X' | dd of=d3c.vhd bs=1 seek=$(( $(stat -c %s d3c.vhd) - 400 )) conv=notrunc 2>/dev/null
expect_fail "footer: bad checksum" python3 "$vhdread" d3c.vhd x.raw
cp d3/g-01-disk1.vhd d3h.vhd
printf 'X' | dd of=d3h.vhd bs=1 seek=1400 conv=notrunc 2>/dev/null
expect_fail "dynamic header: bad checksum" python3 "$vhdread" d3h.vhd x.raw

# ---- raw golden: reflink, or a full copy where the filesystem has none ----
$FERRY clone g.img -o d4 --count 2 --to none --no-identity --json > r4.json
m=$(jget r4.json 'j["golden"]["disks"][0]["cow"]')
why=$(jget r4.json 'j["golden"]["disks"][0]["cow_why"]')
echo "raw golden on $(df --output=fstype . | tail -1): $m ($why)"
case $m in reflink|full) ;; *) fail "raw golden got '$m'";; esac
qemu-img compare -q -f raw -F raw d4/g-01-disk1.raw g.img || fail "raw clone differs"

# ---- a real reflink: the raw golden on an xfs filesystem (a loop mount
# of a file: a test filesystem, not a guest's) ----
if [ "$(id -u)" -eq 0 ] && command -v mkfs.xfs > /dev/null && command -v filefrag > /dev/null; then
    truncate -s 400M xfs.img
    mkfs.xfs -q xfs.img
    mkdir xfs
    if mount -o loop xfs.img xfs 2> /dev/null; then
        cleanup_fn "! mountpoint -q '$t/xfs' || umount -l '$t/xfs'"
        cp --sparse=always g.img xfs/g.img
        sync
        $FERRY clone xfs/g.img -o xfs/d --count 2 --cow reflink --to none --no-identity --json > rx.json
        [ "$(jget rx.json 'j["golden"]["disks"][0]["cow"]')" = reflink ] || fail "no reflink on xfs: $(cat rx.json)"
        qemu-img compare -q -f raw -F raw xfs/d/g-02-disk1.raw xfs/g.img || fail "reflinked clone differs"
        filefrag -v xfs/d/g-01-disk1.raw | grep -q shared || fail "the clone's extents are not shared: $(filefrag -v xfs/d/g-01-disk1.raw)"
        echo "xfs: --cow reflink shares the golden's extents ($(filefrag xfs/d/g-01-disk1.raw))"
        umount xfs
    else
        echo "no loop mount here: the real reflink is not tested"
    fi
fi

# ---- --cow full: independent copies of the used blocks ----
$FERRY clone g.qcow2 -o d5 --count 2 --cow full --to none --no-identity -q
qemu-img info d5/g-01-disk1.qcow2 | grep -q '^backing file' && fail "--cow full left a backing file"
qemu-img check -q d5/g-02-disk1.qcow2 || fail "qemu-img check (full)"
qemu-img compare -q d5/g-02-disk1.qcow2 g.qcow2 || fail "full copy differs"

# ---- --to ova ----
$FERRY clone g.qcow2 -o d6 --count 2 --to ova --no-identity -q
[ "$(ls -A d6)" = "$(printf 'g-01.ova\ng-02.ova')" ] || fail "d6 holds $(ls -A d6)"
$FERRY info d6/g-02.ova | grep -q "manifest .*verified" || fail "ferry info g-02.ova: $($FERRY info d6/g-02.ova)"

# ---- an OVA golden: staged once as a golden copy, then overlaid ----
$FERRY export g.qcow2 -o app.ova -q
$FERRY clone app.ova -o d7 --count 2 --no-identity --json > r7.json
[ -f d7/app-golden-disk1.qcow2 ] || fail "no golden copy: $(ls d7)"
qemu-img info --backing-chain d7/app-01-disk1.qcow2 | grep -q "^backing file: $t/d7/app-golden-disk1.qcow2\$" ||
    fail "OVA clone does not overlay the golden copy"
qemu-img compare -q d7/app-02-disk1.qcow2 g.qcow2 || fail "OVA clone differs"
ls -A d7 | grep -q '^\.' && fail "staging left in d7: $(ls -A d7)"

# ---- a libvirt golden ----
$FERRY export g.qcow2 --to libvirt -o lv -q
$FERRY clone --from-libvirt lv/lv.xml -o d8 --count 1 --no-identity -q
virt-xml-validate d8/lv-01.xml domain >/dev/null || fail "virt-xml-validate (from libvirt)"
qemu-img info --backing-chain d8/lv-01-disk1.qcow2 | grep -q "^backing file: $t/lv/lv-disk1.qcow2\$" ||
    fail "libvirt clone does not overlay the domain's disk"

# ---- a golden qemu-nbd holds read-write is refused; read-only is fine ----
qemu-nbd -k "$t/nbd.sock" -f qcow2 g.qcow2 & nbd=$!
cleanup_fn "stop_pid $nbd"
for _ in $(seq 50); do [ -S "$t/nbd.sock" ] && break; sleep 0.1; done
expect_fail "open for writing by another process" \
    $FERRY clone g.qcow2 -o d9 --count 1 --no-identity
[ ! -e d9 ] || fail "a refused golden left d9"
stop_pid $nbd
qemu-nbd -r -k "$t/nbd2.sock" -f qcow2 g.qcow2 & nbd=$!
cleanup_fn "stop_pid $nbd"
for _ in $(seq 50); do [ -S "$t/nbd2.sock" ] && break; sleep 0.1; done
$FERRY clone g.qcow2 -o d9 --count 1 --no-identity -q || fail "a read-only holder refused"
stop_pid $nbd

# ---- an existing clone in DIR: refused, nothing written ----
before=$(ls -A d1; sha256sum d1/*)
expect_fail "web-01-disk1.qcow2' exists \(web-01\)" \
    $FERRY clone g.qcow2 -o d1 --count 4 --name web-%02d --no-identity
[ "$(ls -A d1; sha256sum d1/*)" = "$before" ] || fail "a refused batch changed d1"

# ---- a clone failing mid-batch leaves the others complete ----
rc=0
FERRY_TEST_COW_FAIL=c-02 $FERRY clone g.qcow2 -o d10 --count 3 --name c-%02d \
    --no-identity --json > r10.json || rc=$?
[ "$rc" = 1 ] || fail "a failed clone did not fail the run (exit $rc)"
[ "$(jget r10.json '[c["ok"] for c in j["clones"]]')" = "[True, False, True]" ] ||
    fail "report: $(cat r10.json)"
[ "$(ls -A d10)" = "$(printf 'c-01-disk1.qcow2\nc-01.xml\nc-03-disk1.qcow2\nc-03.xml')" ] ||
    fail "d10 holds $(ls -A d10)"
virt-xml-validate d10/c-03.xml domain >/dev/null || fail "c-03.xml"

# ---- --shard: needs --seed; the shards together are the whole run ----
expect_fail "--shard needs --seed" $FERRY clone g.qcow2 -o d11 --count 3 --shard 1/2
$FERRY clone g.qcow2 -o d11 --count 3 --seed s2 --shard 1/2 --no-identity --to none --json > s1.json
$FERRY clone g.qcow2 -o d11 --count 3 --seed s2 --shard 2/2 --no-identity --to none --json > s2.json
$FERRY clone g.qcow2 -o d12 --count 3 --seed s2 --no-identity --to none --json > s0.json
[ "$(jget s1.json '[c["name"] for c in j["clones"]]')" = "['g-01', 'g-03']" ] || fail "shard 1/2"
[ "$( (jget s1.json 'chr(10).join(c["uuid"] for c in j["clones"])'; jget s2.json 'chr(10).join(c["uuid"] for c in j["clones"])') | sort)" = \
  "$(jget s0.json 'chr(10).join(c["uuid"] for c in j["clones"])' | sort)" ] || fail "shards differ from the whole run"

# ---- a manifest: its MACs, CPUs and memory; a bad one refused early ----
printf 'name,mac,cpus,memory\nweb-a,52:54:00:aa:bb:cc,2,2G\nweb-b,,,\n' > m.csv
$FERRY clone g.qcow2 -o d13 --manifest m.csv --no-identity -q
grep -q "<mac address='52:54:00:aa:bb:cc'/>" d13/web-a.xml || fail "manifest MAC not used"
grep -q "<vcpu placement='static'>2</vcpu>" d13/web-a.xml || fail "manifest cpus not used"
grep -q "<memory unit='MiB'>2048</memory>" d13/web-a.xml || fail "manifest memory not used"
printf 'name\nbad/name\n' > bad.csv
expect_fail "row 1, field 'name'" $FERRY clone g.qcow2 -o d14 --manifest bad.csv --no-identity
[ ! -e d14 ] || fail "a refused manifest left d14"

# ---- the goldens were never written ----
[ "$(sha256sum g.img g.qcow2 g.vhd mid.qcow2)" = "$sums" ] || fail "a golden changed"
echo ok
