#!/bin/bash
# `ferry clone --manifest` of the reference guest (three rows: a static
# address with a given MAC, a name only, a second NIC with its own static
# address) gives every clone its own identity inside the guest, read back
# with guestfish: hostname files, machine-id (the report's, distinct, not
# the golden's; D-Bus's agrees), new SSH host keys (the report's
# fingerprints, modes and groups kept), no leases or persistent-net rules,
# cloud-init and the random seed cleared, MAC pins rewritten, .link and
# .network files naming each clone's MACs and addresses; the golden is
# unchanged.  Then a golden without an OS is refused; phony Windows clones
# get their computer names (and Unattend.xml), and a name too long for
# NetBIOS fails that clone.  (xfs and LVM goldens, twice in one batch:
# tests/e2e-slow/test-clone-goldens.sh.)
source "$(dirname "$0")/../functions.sh"
requires guestfish qemu-img ssh-keygen python3
ref=$("$TESTS_DIR/guests.sh" "$BUILDDIR" debian12-ahci)
t=$(mktmpdir)

# The golden: an overlay of the reference guest with the state a used
# machine has (the reference guest has no sshd, no D-Bus, no leases).
qemu-img create -q -f qcow2 -b "$ref" -F raw "$t/golden.qcow2"
mkdir "$t/plant"
ssh-keygen -q -t ed25519 -N '' -C root@ferry-ref -f "$t/plant/ssh_host_ed25519_key"
ssh-keygen -q -t rsa -b 2048 -N '' -C root@ferry-ref -f "$t/plant/ssh_host_rsa_key"
golden_id=0123456789abcdef0123456789abcdef
cat > "$t/plant/pin.network" <<'NET'
[Match]
MACAddress=52:54:00:de:ad:01

[Network]
DHCP=yes
NET
guestfish --rw -a "$t/golden.qcow2" -i <<GF
mkdir-p /etc/ssh
upload $t/plant/ssh_host_ed25519_key /etc/ssh/ssh_host_ed25519_key
upload $t/plant/ssh_host_ed25519_key.pub /etc/ssh/ssh_host_ed25519_key.pub
upload $t/plant/ssh_host_rsa_key /etc/ssh/ssh_host_rsa_key
upload $t/plant/ssh_host_rsa_key.pub /etc/ssh/ssh_host_rsa_key.pub
chmod 0600 /etc/ssh/ssh_host_ed25519_key
chmod 0640 /etc/ssh/ssh_host_rsa_key
chown 0 101 /etc/ssh/ssh_host_rsa_key
write /etc/machine-id "$golden_id\n"
mkdir-p /var/lib/dbus
write /var/lib/dbus/machine-id "$golden_id\n"
mkdir-p /var/lib/dhcp
write /var/lib/dhcp/dhclient.eth0.leases "lease { fixed-address 192.0.2.99; }\n"
write /etc/udev/rules.d/70-persistent-net.rules "SUBSYSTEM==\"net\", ATTR{address}==\"52:54:00:de:ad:01\", NAME=\"eth0\"\n"
mkdir-p /var/lib/cloud/instances/i-golden
ln-s /var/lib/cloud/instances/i-golden /var/lib/cloud/instance
mkdir-p /var/lib/cloud/data
write /var/lib/cloud/data/instance-id "i-golden\n"
write /var/lib/systemd/random-seed "not random at all"
upload $t/plant/pin.network /etc/systemd/network/15-pin.network
GF
ref_sum=$(sha256sum < "$ref")
golden_sum=$(sha256sum < "$t/golden.qcow2")

cat > "$t/m.csv" <<'CSV'
name,hostname,mac,ip,gateway,dns,mac2,ip2
web1,web1.example.com,52:54:00:12:34:01,192.0.2.11/24,192.0.2.1,192.0.2.53,,
web2,,,,,,,
web3,,,,,,52:54:00:12:34:32,198.51.100.3/24
CSV
s=$(date +%s)
"$FERRY" clone "$t/golden.qcow2" -o "$t/out" --manifest "$t/m.csv" \
    --cow qcow2 --to libvirt --seed s --json > "$t/report.json"
echo "clone of 3 took $(( $(date +%s) - s ))s"
cat "$t/report.json"
[ "$(sha256sum < "$ref")" = "$ref_sum" ] || fail "the reference image was modified"
[ "$(sha256sum < "$t/golden.qcow2")" = "$golden_sum" ] || fail "the golden was modified"

# The report, one line per clone: name disk machine-id macs... (and the
# fingerprints in NAME.fps).
python3 - "$t/report.json" "$t" > "$t/clones" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["ok"], r
for c in r["clones"]:
    assert c["ok"], c
    open("%s/%s.fps" % (sys.argv[2], c["name"]), "w").write(
        "".join(k + "\n" for k in c["ssh_host_keys"]))
    print(c["name"], c["files"][0], c["machine_id"], *c["macs"])
PY
cat "$t/clones"
[ "$(wc -l < "$t/clones")" -eq 3 ] || fail "not three clones"
[ "$(awk '{print $3}' "$t/clones" | sort -u | wc -l)" -eq 3 ] || fail "machine-ids not distinct"
grep -q "$golden_id" "$t/clones" && fail "a clone kept the golden's machine-id"

# Read every clone back in one appliance, one clone mounted at a time.
args=() script=""
dev=a
while read -r name disk mid macs; do
    args+=(-a "$disk")
    mkdir "$t/$name"
    script+="mount-ro /dev/sd${dev}1 /
echo ==$name hostname
cat /etc/hostname
echo ==$name hosts
cat /etc/hosts
echo ==$name machine-id
cat /etc/machine-id
echo ==$name dbus
readlink /var/lib/dbus/machine-id
echo ==$name gone
exists /var/lib/dhcp/dhclient.eth0.leases
exists /etc/udev/rules.d/70-persistent-net.rules
exists /var/lib/cloud/instances/i-golden
exists /var/lib/cloud/instance
exists /var/lib/cloud/data
exists /var/lib/systemd/random-seed
echo ==$name modes
lstatns /etc/ssh/ssh_host_ed25519_key
lstatns /etc/ssh/ssh_host_rsa_key
lstatns /etc/ssh/ssh_host_rsa_key.pub
echo ==$name net
glob-expand /etc/systemd/network/*
echo ==$name pin
cat /etc/systemd/network/15-pin.network
echo ==$name end
download /etc/ssh/ssh_host_ed25519_key.pub $t/$name/ed25519.pub
download /etc/ssh/ssh_host_rsa_key.pub $t/$name/rsa.pub
copy-out /etc/systemd/network $t/$name
umount /
"
    dev=$(echo "$dev" | tr a-y b-z)
done < "$t/clones"
guestfish --ro "${args[@]}" > "$t/gf.out" <<GF
run
$script
GF
section () { sed -n "/^==$1 $2\$/,/^==$1 /p" "$t/gf.out" | sed '1d;$d'; }

while read -r name disk mid mac1 mac2; do
    host=$name
    [ "$name" = web1 ] && host=web1.example.com
    [ "$(section "$name" hostname)" = "$host" ] || fail "$name: /etc/hostname: $(section "$name" hostname)"
    section "$name" hosts | grep -qP "^127\.0\.1\.1\t$host( ${host%%.*})?\$" ||
        fail "$name: /etc/hosts: $(section "$name" hosts)"
    section "$name" hosts | grep -q ferry-ref && fail "$name: old name in /etc/hosts"
    [ "$(section "$name" machine-id)" = "$mid" ] || fail "$name: machine-id $(section "$name" machine-id) != report $mid"
    [ "$(section "$name" dbus)" = /etc/machine-id ] || fail "$name: dbus machine-id: $(section "$name" dbus)"
    [ "$(section "$name" gone | sort -u)" = false ] || fail "$name: state left: $(section "$name" gone)"
    # Modes and groups: 0600 root:root, 0600 root:101 (as the golden's), 0644.
    section "$name" modes | grep -E '^st_(mode|gid):' | tr '\n' ' ' > "$t/$name/modes"
    [ "$(cat "$t/$name/modes")" = "st_mode: 33152 st_gid: 0 st_mode: 33152 st_gid: 101 st_mode: 33188 st_gid: 0 " ] ||
        fail "$name: key modes/groups: $(cat "$t/$name/modes")"
    # Keys: new, and as the report says.
    for ty in ed25519 rsa; do
        cmp -s "$t/$name/$ty.pub" "$t/plant/ssh_host_${ty}_key.pub" && fail "$name: golden's $ty key kept"
        fp=$(ssh-keygen -l -f "$t/$name/$ty.pub" | awk '{print $2}')
        grep -q "^${ty^^} $fp /etc/ssh/ssh_host_${ty}_key.pub\$" "$t/$name.fps" ||
            fail "$name: $ty fingerprint $fp not in the report: $(cat "$t/$name.fps")"
        echo "$fp" >> "$t/all-fps"
    done
    # Network: the pin follows the clone's first MAC, each NIC named by its MAC.
    section "$name" pin | grep -qx "MACAddress=$mac1" || fail "$name: pin not rewritten: $(section "$name" pin)"
    n=1
    for mac in $mac1 $mac2; do
        link=$t/$name/network/00-ferry-nic$n.link
        [ -f "$link" ] || fail "$name: no $link"
        grep -qx "MACAddress=$mac" "$link" || fail "$name: $link: $(cat "$link")"
        grep -qx "Name=enx$(echo "$mac" | tr -d :)" "$link" || fail "$name: $link: $(cat "$link")"
        n=$((n + 1))
    done
done < "$t/clones"
[ "$(sort -u "$t/all-fps" | wc -l)" -eq 6 ] || fail "host keys shared between clones: $(cat "$t/all-fps")"

# Addresses: web1's first NIC static, web2 none (DHCP as the golden),
# web3's second NIC static.
net=$t/web1/network/00-ferry-nic1.network
grep -qx "MACAddress=$(awk '$1=="web1"{print $4}' "$t/clones")" "$net" || fail "web1: $(cat "$net")"
[ "$(awk '$1=="web1"{print $4}' "$t/clones")" = 52:54:00:12:34:01 ] || fail "web1: the manifest's MAC not used"
grep -qx "Address=192.0.2.11/24" "$net" && grep -qx "Gateway=192.0.2.1" "$net" &&
    grep -qx "DNS=192.0.2.53" "$net" || fail "web1: $(cat "$net")"
ls "$t/web2/network" | grep -q '\.network$' && ls "$t/web2/network" | grep -q 'ferry.*\.network$' &&
    fail "web2: a .network written for a DHCP NIC: $(ls "$t/web2/network")"
net=$t/web3/network/00-ferry-nic2.network
grep -qx "MACAddress=52:54:00:12:34:32" "$net" && grep -qx "Address=198.51.100.3/24" "$net" ||
    fail "web3: second NIC: $(cat "$net" 2>&1)"
[ -f "$t/web3/network/00-ferry-nic1.network" ] && fail "web3: first NIC got a .network"

# A golden without an operating system is refused, nothing made.
truncate -s 64M "$t/blank.img"
expect_fail "the golden image: no operating system" \
    "$FERRY" clone -q "$t/blank.img" -o "$t/blank" --count 1 --cow qcow2 --to none
[ -z "$(ls -A "$t/blank" 2>/dev/null)" ] || fail "a refused golden left clones: $(ls -A "$t/blank")"

# Windows (phony guests, as the conversion's tests build them): the
# computer name in the ControlSet in use (win7's is ControlSet002) and an
# Unattend.xml; a name longer than NetBIOS allows is refused per clone.
requires hivexget hivexregedit ntfscat sfdisk
"$TESTS_DIR/data/make-windows-disk.sh" "$t/w" > "$t/w.log" 2>&1 ||
    { cat "$t/w.log"; fail "could not build the phony Windows disks"; }
source "$TESTS_DIR/windows.sh"
w_sum=$(sha256sum < "$t/w/win7.img")
"$FERRY" clone "$t/w/win7.img" -o "$t/wout" --count 2 --name win-%d \
    --cow qcow2 --to none --unattend --seed s --json > "$t/w.json"
[ "$(sha256sum < "$t/w/win7.img")" = "$w_sum" ] || fail "the Windows golden was modified"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["ok"], r
for c in r["clones"]: print(c["name"], c["files"][0])' "$t/w.json" > "$t/wclones"
while read -r name disk; do
    qemu-img convert -O raw "$disk" "$t/$name.raw"
    start=$(sfdisk -J "$t/$name.raw" | python3 -c \
        'import json,sys; print(json.load(sys.stdin)["partitiontable"]["partitions"][0]["start"])')
    dd if="$t/$name.raw" of="$t/$name.ntfs" bs=512 skip="$start" status=none
    rm -f "$t/$name.raw"
    ntfscat "$t/$name.ntfs" /Windows/System32/config/SYSTEM > "$t/$name.SYSTEM"
    nb=${name^^}
    val "$t/$name.SYSTEM" '\ControlSet002\Control\ComputerName\ComputerName' ComputerName "$nb"
    val "$t/$name.SYSTEM" '\ControlSet002\Control\ComputerName\ActiveComputerName' ComputerName "$nb"
    val "$t/$name.SYSTEM" '\ControlSet002\Services\Tcpip\Parameters' Hostname "$name"
    val "$t/$name.SYSTEM" '\ControlSet002\Services\Tcpip\Parameters' 'NV Hostname' "$name"
    [ "$(hivexget "$t/$name.SYSTEM" '\ControlSet001\Control\ComputerName\ComputerName' ComputerName 2>/dev/null)" = "$nb" ] &&
        fail "$name: the decoy ControlSet001 was edited"
    ntfscat "$t/$name.ntfs" /Windows/Panther/Unattend.xml | grep -q "<ComputerName>$nb</ComputerName>" ||
        fail "$name: no Unattend.xml naming $nb"
done < "$t/wclones"
[ "$(wc -l < "$t/wclones")" -eq 2 ] || fail "not two Windows clones"
rc=0
"$FERRY" clone "$t/w/win7.img" -o "$t/wlong" --count 1 --name windows-clone-%02d \
    --cow qcow2 --to none --json > "$t/wl.json" 2> "$t/wl.err" || rc=$?
[ "$rc" -ne 0 ] && [ "$rc" -lt 128 ] || fail "a 16-character computer name was not refused (exit $rc)"
grep -q "longer than 15 characters" "$t/wl.json" "$t/wl.err" ||
    fail "no NetBIOS reason: $(cat "$t/wl.err")"
echo ok
