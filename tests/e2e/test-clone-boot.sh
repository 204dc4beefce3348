#!/bin/bash
# `ferry clone` of the reference guest, proven inside the booted clones
# (issue 11's proof).  Three clones from a CSV manifest: web1 with a static
# address, gateway, DNS and a given MAC; web2 with only a name; web3 given
# a second NIC (mac2, ip2) that the golden never had.  Two of them (web1,
# web3) boot under TCG with the MACs of their libvirt definitions; the test
# logs in on each serial console and reads, in the guest itself: the
# hostname, /etc/machine-id, the SSH host keys, each NIC's name, MAC and
# addresses once systemd-networkd has configured them.  They must match the
# batch report and the manifest, differ between clones and from the golden.
# Also: the golden is never written, every overlay passes qemu-img check
# and names the golden as its backing file, every domain XML passes
# virt-xml-validate.
# The golden: the reference guest plus SSH host keys (it has no sshd;
# Ferry makes new keys of every type the golden has).
source "$(dirname "$0")/../functions.sh"
source "$TESTS_DIR/boot.sh"
requires guestfish qemu-img ssh-keygen python3 virt-xml-validate
ref=$("$TESTS_DIR/guests.sh" "$BUILDDIR" debian12-ahci)
t=$(mktmpdir)

golden_mid=$(golden_with_host_keys "$ref" "$t/golden.qcow2" "$t/keys")
[ -n "$golden_mid" ] || fail "cannot read the golden's machine-id"
golden_sum=$(sha256sum < "$t/golden.qcow2")
ref_sum=$(sha256sum < "$ref")

cat > "$t/m.csv" <<'CSV'
name,hostname,mac,ip,gateway,dns,mac2,ip2
web1,web1.example.test,52:54:00:12:00:01,192.0.2.11/24,192.0.2.1,192.0.2.53,,
web2,,,,,,,
web3,,,,,,52:54:00:12:00:33,198.51.100.3/24
CSV
s=$(date +%s)
"$FERRY" clone "$t/golden.qcow2" -o "$t/out" --manifest "$t/m.csv" --cow qcow2 \
    --to libvirt --seed ferry-test --json > "$t/report.json" ||
    fail "ferry clone failed: $(cat "$t/report.json")"
echo "ferry clone of 3 took $(( $(date +%s) - s ))s"
python3 -m json.tool "$t/report.json"
[ "$(sha256sum < "$t/golden.qcow2")" = "$golden_sum" ] || fail "the golden was written"
[ "$(sha256sum < "$ref")" = "$ref_sum" ] || fail "the golden's backing file was written"

# The report, flattened: NAME FIELD VALUE... per line.
python3 - "$t/report.json" > "$t/facts" <<'PY' || fail "report: $(cat "$t/report.json")"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["identity"] is True, "identity not applied"
for c in r["clones"]:
    n = c["name"]
    assert c["ok"] is True, (n, c["error"])
    print(n, "machine_id", c["machine_id"])
    print(n, "macs", *c["macs"])
    print(n, "disk", c["files"][0])
    print(n, "xml", c["definition"])
    for k in c["ssh_host_keys"]:
        print(n, "key", k.split()[1])
PY
cat "$t/facts"
fact () { awk -v n="$1" -v f="$2" '$1 == n && $2 == f { $1 = ""; $2 = ""; sub(/^  /, ""); print }' "$t/facts"; }

# Outside the guests.
for n in web1 web2 web3; do
    disk=$(fact "$n" disk)
    qemu-img check -q "$disk" || fail "$n: qemu-img check"
    qemu-img info "$disk" | grep -q "^backing file: .*golden.qcow2" ||
        fail "$n: the overlay does not name the golden: $(qemu-img info "$disk")"
    qemu-img info "$disk" | grep -q '^backing file format: qcow2' ||
        fail "$n: no backing format recorded"
    virt-xml-validate "$(fact "$n" xml)" domain > /dev/null || fail "$n: virt-xml-validate"
    for m in $(fact "$n" macs); do
        grep -qi "<mac address=.$m" "$(fact "$n" xml)" || fail "$n: $m not in its domain XML"
    done
    [ "$(fact "$n" machine_id)" != "$golden_mid" ] || fail "$n: the golden's machine-id"
    [ "$(fact "$n" key | wc -l)" -eq 3 ] || fail "$n: not three new SSH host keys: $(fact "$n" key)"
done
[ "$(fact web1 macs)" = 52:54:00:12:00:01 ] || fail "web1: the manifest's MAC was not used"
[ "$(fact web3 macs | wc -w)" -eq 2 ] || fail "web3: not two NICs"
[ "$(fact web3 macs | cut -d' ' -f2)" = 52:54:00:12:00:33 ] || fail "web3: mac2 not used"
[ "$(for n in web1 web2 web3; do fact "$n" machine_id; done | sort -u | wc -l)" -eq 3 ] ||
    fail "machine-ids are not distinct"
golden_fps=$(for k in "$t"/keys/*.pub; do ssh-keygen -lf "$k" | cut -d' ' -f2; done)
all_fps=$( { for n in web1 web2 web3; do fact "$n" key; done; echo "$golden_fps"; } )
[ "$(echo "$all_fps" | sort -u | wc -l)" -eq 12 ] || fail "SSH host keys are shared between clones or with the golden"

# Inside: web1 and web3 booted side by side, each logged into.
cat > "$t/probe.sh" <<'SH'
/usr/lib/systemd/systemd-networkd-wait-online --timeout=90 >/dev/null 2>&1 || echo "wait-online timed out"
echo "hostname $(hostname) $(hostname -s)"
echo "machine-id $(cat /etc/machine-id)"
for f in /etc/ssh/ssh_host_*_key.pub; do echo "pubkey $(cat "$f")"; done
for n in /sys/class/net/*; do case ${n##*/} in lo) ;; *) echo "nic ${n##*/} $(cat "$n/address") $(cat "$n/operstate")";; esac; done
sed -n '2,$s/^/route /p' /proc/net/route
awk '/[|]--/ { a = $2 } /[/]32 host LOCAL/ { print "local", a }' /proc/net/fib_trie | sort -u
SH
boot_one () {
    local n=$1
    BOOT_NICS="$(fact "$n" macs)" boot_guest_login "$(fact "$n" disk)" ahci 400 root ferry \
        < "$t/probe.sh" > "$t/$n.console" 2> "$t/$n.boot" || { cat "$t/$n.boot"; return 1; }
}
boot_one web1 & p1=$!
boot_one web3 & p3=$!
wait "$p1" || fail "web1 does not boot to a login"
wait "$p3" || fail "web3 does not boot to a login"
for n in web1 web3; do echo "== $n"; cat "$t/$n.console"; done

# has_addr CONSOLE NIC ADDR/PREFIX [GATEWAY]: the guest's kernel holds ADDR
# as a local address, routes ADDR's subnet through NIC and, with GATEWAY,
# its default route goes through GATEWAY on NIC (read from /proc/net/route
# and /proc/net/fib_trie: the minimal guest has no ip(8), and networkctl
# needs D-Bus).
has_addr () {
    python3 - "$@" <<'PY'
import ipaddress, socket, struct, sys
console, nic, cidr = sys.argv[1:4]
gw = sys.argv[4] if len(sys.argv) > 4 else None
iface = ipaddress.ip_interface(cidr)
lines = open(console).read().splitlines()
local = {l.split()[1] for l in lines if l.startswith("local ")}
routes = []
for l in lines:
    f = l.split()
    if f[:1] == ["route"] and len(f) >= 9:
        h = lambda x: socket.inet_ntoa(struct.pack("<I", int(x, 16)))
        routes.append((f[1], h(f[2]), h(f[3]), h(f[8])))
def fail(why):
    print("%s: %s; local %s; routes %s" % (nic, why, sorted(local), routes))
    sys.exit(1)
if str(iface.ip) not in local:
    fail("%s is not a local address" % iface.ip)
net = iface.network
if not any(r[0] == nic and r[1] == str(net.network_address) and r[3] == str(net.netmask) for r in routes):
    fail("no route to %s through it" % net)
if gw and not any(r[0] == nic and r[1] == "0.0.0.0" and r[2] == gw for r in routes):
    fail("no default route via %s through it" % gw)
print("%s holds %s%s" % (nic, cidr, " via " + gw if gw else ""))
PY
}

check_guest () {
    local n=$1 short=$2 c=$t/$1.console mid fp m i nic
    grep -q "^hostname .* $short\$" "$c" || fail "$n: hostname is not $short: $(grep ^hostname "$c")"
    mid=$(sed -n 's/^machine-id //p' "$c")
    [ "$mid" = "$(fact "$n" machine_id)" ] || fail "$n: machine-id $mid, the report says $(fact "$n" machine_id)"
    sed -n 's/^pubkey //p' "$c" > "$t/$n.pubs"
    [ "$(wc -l < "$t/$n.pubs")" -eq 3 ] || fail "$n: not three host keys in the guest"
    for fp in $(ssh-keygen -lf "$t/$n.pubs" | cut -d' ' -f2); do
        fact "$n" key | grep -qx "$fp" || fail "$n: host key $fp in the guest is not the report's"
    done
    i=0
    for m in $(fact "$n" macs); do
        i=$(( i + 1 ))
        nic=$(awk -v m="$m" '$1 == "nic" && tolower($3) == tolower(m) { print $2 }' "$c")
        [ -n "$nic" ] || fail "$n: no NIC with the MAC $m in the guest"
        grep -q "^nic $nic $m up\$" "$c" || fail "$n: NIC $nic ($m) is not up"
        echo "$n: NIC $i $m is $nic"
        eval "nic_$i=$nic"
    done
}
check_guest web1 web1
# shellcheck disable=SC2154
r=$(has_addr "$t/web1.console" "$nic_1" 192.0.2.11/24 192.0.2.1) || fail "web1: $r"
echo "web1: $r"
check_guest web3 web3
# The first NIC keeps the golden's DHCP (qemu's user network: 10.0.2.15).
r=$(has_addr "$t/web3.console" "$nic_1" 10.0.2.15/24 10.0.2.2) || fail "web3: $r"
echo "web3: $r"
# shellcheck disable=SC2154
r=$(has_addr "$t/web3.console" "$nic_2" 198.51.100.3/24) || fail "web3: $r"
echo "web3: $r"
[ "$(sed -n 's/^machine-id //p' "$t/web1.console")" != "$(sed -n 's/^machine-id //p' "$t/web3.console")" ] ||
    fail "web1 and web3 share a machine-id"
echo ok
