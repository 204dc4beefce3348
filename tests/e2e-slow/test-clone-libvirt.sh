#!/bin/bash
# `ferry clone --connect URI`: clones defined in a real libvirtd through
# libvirt's API.  The test starts a libvirtd of its own (no systemd here;
# tests/libvirtd.sh): its sockets in $t, its state and config dirs
# bind-mounted from $t in a mount namespace of its own, a network
# namespace of its own holding the
# bridge of its network 'default', and a /dev without kvm (nested KVM is
# broken on the test machines, and libvirt would offer kvm: /dev/kvm
# opens), so it offers QEMU (TCG) domains only.  Proved: a URI that does
# not answer fails with one line before anything is made; two clones of
# the converted reference guest are defined, `virsh list --all` shows
# them and `virsh dumpxml` has the report's UUIDs, MACs and disks, of
# domain type qemu (the host has no KVM); one of them, started with
# `virsh start`, reaches its login prompt on its serial console (a pty);
# a domain name libvirt already has is refused before anything is
# written; a clone whose define fails keeps its files and is reported
# failed and not defined.
source "$(dirname "$0")/../functions.sh"
source "$TESTS_DIR/libvirtd.sh"
requires libvirtd virsh unshare mknod ip qemu-system-x86_64 qemu-img python3 stty
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (libvirtd in a mount namespace)"; exit 77; }
t=$(mktmpdir)
cd "$t"

jget () {   # jget FILE PYTHON-EXPR (on j, the report)
    python3 -c 'import json, sys; j = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# ---- a libvirtd of the test's own (tests/libvirtd.sh) -----------------------

libvirtd_start "$t/libvirt"

# ---- a URI that does not answer: one line, before anything is made ----
qemu-img create -q -f qcow2 small.qcow2 64M
expect_fail "^ferry: libvirt 'qemu\+unix:///system\?socket=$t/nothing': cannot connect: " \
    $FERRY clone small.qcow2 -o d0 --count 1 --no-identity --connect "qemu+unix:///system?socket=$t/nothing"
[ ! -e d0 ] || fail "a URI that does not answer left d0"
expect_fail "--connect goes with --to libvirt or libvirt-xen" \
    $FERRY clone small.qcow2 -o d0 --count 1 --no-identity --to ova --connect "$uri"

# ---- the golden: the reference guest converted for KVM (virtio), so
# that the q35/virtio-blk domain of a `--to libvirt` clone boots ----
ref=$("$TESTS_DIR/guests.sh" "$BUILDDIR" debian12-ahci)
$FERRY convert "$ref" --to kvm -o golden.qcow2 || fail "ferry convert --to kvm"
gsum=$(sha256sum golden.qcow2)

# ---- two clones, defined ----
$FERRY clone golden.qcow2 -o vms --count 2 --name web-%02d --cow qcow2 --to libvirt \
    --connect "$uri" --no-identity --json > r.json || fail "clone --connect: $(cat r.json)"
[ "$(jget r.json 'j["made"]')" = 2 ] || fail "not 2 clones: $(cat r.json)"
[ "$(jget r.json '[c["defined"] for c in j["clones"]]')" = "[True, True]" ] || fail "not defined: $(cat r.json)"
[ "$(jget r.json 'j["domain_type"]')" = qemu ] || fail "domain type: $(cat r.json)"
[ "$(jget r.json 'j["connect"]')" = "$uri" ] || fail "connect: $(jget r.json 'j["connect"]')"
list=$(virsh -c "$uri" list --all --name | sed '/^$/d' | sort)
[ "$list" = "$(printf 'web-01\nweb-02')" ] || fail "virsh list --all: $list"
for i in 0 1; do
    n=$(jget r.json "j['clones'][$i]['name']")
    virsh -c "$uri" dumpxml "$n" > "$n.dump.xml"
    grep -q "<uuid>$(jget r.json "j['clones'][$i]['uuid']")</uuid>" "$n.dump.xml" || fail "$n: UUID not the report's"
    grep -q "<mac address='$(jget r.json "j['clones'][$i]['macs'][0]")'/>" "$n.dump.xml" || fail "$n: MAC not the report's"
    grep -q "<source file='$(jget r.json "j['clones'][$i]['files'][0]")'" "$n.dump.xml" || fail "$n: disk not the report's"
    grep -q "<domain type='qemu'>" "$n.dump.xml" || fail "$n: not a qemu domain: $(head -1 "$n.dump.xml")"
    grep -q "<domain type='qemu'>" "vms/$n.xml" || fail "vms/$n.xml is not the definition libvirt got"
done

# ---- a name libvirt already has: refused before anything is written ----
expect_fail "^ferry: libvirt '.*': domain 'web-01' is already defined: refusing to replace it" \
    $FERRY clone small.qcow2 -o d1 --count 3 --name web-%02d --no-identity --connect "$uri"
[ ! -e d1 ] || fail "a refused batch left d1: $(ls -A d1)"

# ---- a define that fails: the clone's files stay, it is not defined ----
rc=0
FERRY_TEST_DEFINE_FAIL=db-02 $FERRY clone small.qcow2 -o d2 --count 3 --name db-%02d \
    --no-identity --connect "$uri" --json > r2.json || rc=$?
[ "$rc" = 1 ] || fail "a failed define did not fail the run (exit $rc)"
[ "$(jget r2.json '[(c["ok"], c["defined"]) for c in j["clones"]]')" = \
  "[(True, True), (False, False), (True, True)]" ] || fail "report: $(cat r2.json)"
jget r2.json 'j["clones"][1]["error"]' | grep -q "^db-02: made, not defined (define '$t/d2/db-02.xml' by hand): libvirt '.*': domain 'db-02': define: " ||
    fail "define error: $(jget r2.json 'j["clones"][1]["error"]')"
[ "$(ls -A d2 | tr '\n' ' ')" = "db-01-disk1.qcow2 db-01.xml db-02-disk1.qcow2 db-02.xml db-03-disk1.qcow2 db-03.xml " ] ||
    fail "d2 holds $(ls -A d2)"
virsh -q -c "$uri" dominfo db-02 >/dev/null 2>&1 && fail "db-02 defined"
virsh -q -c "$uri" define d2/db-02.xml >/dev/null || fail "db-02.xml cannot be defined by hand"

[ "$(sha256sum golden.qcow2)" = "$gsum" ] || fail "the golden changed"

# ---- start one with virsh: its login prompt on the serial console ----
if [ -n "${FERRY_NO_BOOT:-}" ]; then
    echo "FERRY_NO_BOOT: the boot is skipped"
    exit 0
fi
virsh -q -c "$uri" start web-02 >/dev/null || fail "virsh start web-02: $(tail -5 "$lv/log/qemu/web-02.log")"
libvirtd_console web-02 console.log 'ferry-ref login:' ||
    fail "web-02: no login prompt ($console_state): $(tr -d '\r' < console.log | tail -20)"
echo "web-02 (virsh start, domain type qemu): login prompt"
virsh -q -c "$uri" destroy web-02 >/dev/null
