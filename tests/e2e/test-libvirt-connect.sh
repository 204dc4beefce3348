#!/bin/bash
# libvirt through its API, without a guest boot, against a libvirtd the
# test starts on its own socket (tests/libvirtd.sh: QEMU/TCG only).
# Proved: `ferry export --from-libvirt NAME --connect URI` reads a shut-off
# domain defined there (the exported disk is the domain's, bit for bit)
# and refuses it while running and while paused, one line naming the
# domain and its state, no package written; `ferry import --to libvirt
# --connect URI --start` defines the restored domain (type qemu: no KVM
# here; the package's UUID and MACs; disks at their absolute paths in DIR)
# and starts it (`virsh list --all`, dominfo); refused with one line and
# nothing left behind (no DIR, an existing empty DIR still empty, nothing
# defined): a domain of the same name (from an OVA and an XVA, looked up
# before DIR is made), another domain with the same UUID, a URI that does
# not answer, a Xen domain on a libvirt without Xen, --connect for a
# target libvirt does not define, --start without --connect.
source "$(dirname "$0")/../functions.sh"
source "$TESTS_DIR/libvirtd.sh"
requires libvirtd virsh unshare mknod ip qemu-img python3 stty
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (libvirtd in a mount namespace)"; exit 77; }
t=$(mktmpdir)
cd "$t"
libvirtd_start "$t/libvirt"
bad="qemu+unix:///system?socket=$t/nothing"
jget () { python3 -c 'import json, sys; j = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"; }
nothing_here () { [ "$(ls -A "$t" | grep -Ev '^(libvirt|src\.img|src\.xml|src\.ova|src\.xva|other\.ova|ref)$' || true)" = "" ] ||
                      fail "$1: left $(ls -A "$t")"; }

# ---- a shut-off domain, read by name ----
make_test_disk src.img 64
mac=52:54:00:fe:01:02
libvirt_domain_xml src "$t/src.img" | sed -e "s/type='kvm'/type='qemu'/" \
    -e "s|</devices>|<interface type='network'><mac address='$mac'/><source network='default'/><model type='virtio'/></interface></devices>|" > src.xml
virsh -q -c "$uri" define src.xml >/dev/null || fail "virsh define src"
uuid=$(virsh -c "$uri" domuuid src | sed '/^$/d')
expect_fail "^ferry: libvirt 'qemu\+unix:///system\?socket=$t/nothing': cannot connect: " \
    "$FERRY" export --from-libvirt src --connect "$bad" -o x.ova
expect_fail "^ferry: libvirt '.*': domain 'nosuch': no such domain" \
    "$FERRY" export --from-libvirt nosuch --connect "$uri" -o x.ova
expect_fail "--connect goes with --from-libvirt" "$FERRY" export src.img --connect "$uri" -o x.ova
[ ! -e x.ova ] || fail "a refused export left x.ova"
"$FERRY" export -q --from-libvirt src --connect "$uri" -o src.ova || fail "export --from-libvirt src --connect"
"$FERRY" export -q --from-libvirt src --connect "$uri" --name other -o other.ova
"$FERRY" export -q --from-libvirt src --connect "$uri" -o src.xva
"$FERRY" import -q src.ova --to raw -o ref || fail "import of the exported package"
cmp src.img ref/src-disk1.img || fail "the exported disk is not the domain's"
grep -q "<uuid>$uuid</uuid>" ref/src.xml || fail "the domain's UUID was not kept"

# ---- import --connect: refusals first, nothing left behind ----
expect_fail "^ferry: libvirt '.*': domain 'src' is already defined: refusing to replace it" \
    "$FERRY" import src.ova --to libvirt -o vm --connect "$uri"
nothing_here "an existing name"
expect_fail "^ferry: libvirt '.*': domain 'src' is already defined: refusing to replace it" \
    "$FERRY" import src.xva --to raw -o vm --connect "$uri"
nothing_here "an existing name (XVA)"
# Looked up from the descriptor, before DIR's staging is made (here it
# could not be: DIR's parent does not exist).
expect_fail "^ferry: libvirt '.*': domain 'src' is already defined: refusing to replace it" \
    "$FERRY" import src.ova --to libvirt -o "$t/no/vm" --connect "$uri"
mkdir empty
expect_fail "^ferry: libvirt '.*': domain 'src' is already defined: refusing to replace it" \
    "$FERRY" import src.ova --to libvirt -o empty --connect "$uri"
[ -z "$(ls -A empty)" ] || fail "a refused import left $(ls -A empty) in an existing DIR"
rmdir empty
expect_fail "^ferry: libvirt '.*': domain 'other': UUID $uuid belongs to domain 'src': refusing to replace it" \
    "$FERRY" import other.ova --to libvirt -o vm --connect "$uri"
expect_fail "^ferry: libvirt 'qemu\+unix:///system\?socket=$t/nothing': cannot connect: " \
    "$FERRY" import src.ova --to libvirt -o vm --connect "$bad" --start
expect_fail "only a libvirt domain is defined in libvirt" \
    "$FERRY" import src.ova --to hyperv -o vm --connect "$uri"
expect_fail "--start needs --connect" "$FERRY" import src.ova --to libvirt -o vm --start
nothing_here "the refusals"
[ "$(virsh -c "$uri" list --all --name | sed '/^$/d')" = src ] || fail "a refused import defined something"

# ---- import --connect --start: the source undefined, its package restored ----
virsh -q -c "$uri" undefine src >/dev/null
expect_fail "^ferry: libvirt '.*': offers no x86_64 xen guests in domains of type xen$" \
    "$FERRY" import src.ova --to xen -o vm --connect "$uri"
nothing_here "a Xen domain"
"$FERRY" import src.ova --to libvirt -o vm --connect "$uri" --start --json > r.json ||
    fail "import --connect --start: $(cat r.json)"
[ "$(jget r.json '(j["defined"], j["started"], j["domain_type"], j["connect"])')" = "(True, True, 'qemu', '$uri')" ] ||
    fail "report: $(cat r.json)"
[ "$(virsh -c "$uri" list --all --name | sed '/^$/d')" = src ] || fail "virsh list --all: $(virsh -c "$uri" list --all)"
virsh -c "$uri" dominfo src > dominfo.txt
grep -Eq "^State: +running" dominfo.txt || fail "not running: $(cat dominfo.txt)"
grep -Eq "^UUID: +$uuid" dominfo.txt || fail "not the package's UUID: $(cat dominfo.txt)"
grep -Eq "^Persistent: +yes" dominfo.txt || fail "not persistent: $(cat dominfo.txt)"
virsh -c "$uri" dumpxml --inactive src > dump.xml
grep -q "<domain type='qemu'>" dump.xml || fail "not a qemu domain: $(head -1 dump.xml)"
grep -q "<source file='$t/vm/src-disk1.qcow2'/>" dump.xml || fail "the disk is not vm/src-disk1.qcow2"
[ "$(jget r.json 'j["macs"]')" = "['$mac']" ] || fail "MACs: $(jget r.json 'j["macs"]')"
grep -q "<mac address='$mac'/>" dump.xml || fail "the domain's MAC was not kept"
grep -q "<domain type='qemu'>" vm/src.xml || fail "vm/src.xml is not the definition libvirt got"
[ "$(ls -A vm | tr '\n' ' ')" = "src-disk1.qcow2 src.xml " ] || fail "vm holds $(ls -A vm)"

# ---- a running, then a paused domain is not exported ----
expect_fail "^ferry: libvirt '.*': domain 'src' is running: shut it down first" \
    "$FERRY" export --from-libvirt src --connect "$uri" -o run.ova
virsh -q -c "$uri" suspend src >/dev/null
expect_fail "^ferry: libvirt '.*': domain 'src' is paused: shut it down first" \
    "$FERRY" export --from-libvirt src --connect "$uri" -o run.ova
[ ! -e run.ova ] || fail "a refused export left run.ova"
[ -z "$(ls -A | grep ferry-export)" ] || fail "a refused export left its staging"
virsh -q -c "$uri" destroy src >/dev/null
"$FERRY" export -q --from-libvirt src --connect "$uri" -o run.ova || fail "export once shut off"

# ---- a definition libvirt refuses (a name with '/'): the files stay ----
"$FERRY" export -q --from-libvirt src --connect "$uri" --name 'a/b' -o slash.ova
expect_fail "^ferry: import: made, not defined \(define '$t/slash/a_b.xml' by hand\): libvirt '.*': domain 'a/b': define: " \
    "$FERRY" import slash.ova --to raw -o slash --connect "$uri" --new-identity
[ "$(ls -A slash | tr '\n' ' ')" = "a_b-disk1.img a_b.xml " ] || fail "slash holds $(ls -A slash)"
[ "$(virsh -c "$uri" list --all --name | sed '/^$/d')" = src ] || fail "a refused define defined something"

echo "PASS: test-libvirt-connect"
