#!/bin/bash
# The ISO's CIFS and NFS targets, in one boot: the ISO's kernel and
# initramfs booted directly (as in test-iso-ssh.sh) with qemu's user-mode
# network; the guest reaches the host's 127.0.0.1 as 10.0.2.2, where the
# test runs its own servers on free ports (the host kernel needs no nfs or
# cifs, the mounts happen in the live system):
#   - smbd (Samba) in the foreground with a private configuration, state
#     and log, one share, one password user (root in its own passdb) and
#     no guest access;
#   - ganesha.nfsd (NFS-Ganesha, FSAL VFS) serving NFSv4 only, with no
#     rpcbind, no NLM and no grace period.
# 1. Unattended from the kernel command line: a capture to
#    cifs://root@10.0.2.2:PORT/share/p2v with ferry.password (the PASSWD
#    path of mount.cifs) and a static ferry.ip (address, route and
#    resolv.conf checked on the console, no dhclient), then
#    ferry.post=shell.
# 2. Typed on the serial console: the same target with a wrong password
#    must stop with mount.cifs's one-line error in /run/ferry-agent.status,
#    exit 1, and write nothing on the share.
# 3. Typed on the serial console: a capture to nfs:10.0.2.2:PORT:/export/p2v
#    (VMDK this time).
# On the host each image must pass qemu-img check and equal the source,
# the report, log and ferry-status ("0 ok") must be in TARGET/NAME/, smbd
# must have logged the password login of root (and the refused one), the
# files must belong to root (a guest login would write as nobody), and the
# source (attached read-only) must be unchanged.
source "$(dirname "$0")/../functions.sh"
source "$(dirname "$0")/../iso.sh"
iso_requirements
requires qemu-img python3 smbpasswd
[ -x /usr/sbin/smbd ] || { echo "SKIP: samba not installed"; exit 77; }
requires ganesha.nfsd
agent_landed || { echo "SKIP: ferry agent does not exist yet"; exit 77; }

# wait_listen PORT WHAT LOG: until something accepts on 127.0.0.1:PORT.
wait_listen () {
    local i
    for (( i = 0; i < 100; i++ )); do
        python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $1), 1)" \
            2>/dev/null && return 0
        sleep 0.2
    done
    fail "$2 does not listen on port $1: $(tail -5 "$3")"
}

# start_smbd DIR: smbd on 127.0.0.1:$smb_port sharing DIR/share as "share"
# to root (password $smb_pw) only; its files in DIR/smb.
start_smbd () {
    local d=$1/smb
    mkdir -p "$d"/{private,lock,state,cache,pid,ncalrpc} "$1/share"
    smb_port=$(free_port)
    cat >"$d/smb.conf" <<CONF
[global]
  server role = standalone server
  workgroup = FERRYTEST
  netbios name = FERRYTEST
  interfaces = 127.0.0.1
  bind interfaces only = yes
  smb ports = $smb_port
  disable netbios = yes
  server min protocol = SMB2_10
  private dir = $d/private
  lock directory = $d/lock
  state directory = $d/state
  cache directory = $d/cache
  pid directory = $d/pid
  ncalrpc dir = $d/ncalrpc
  passdb backend = tdbsam:$d/private/passdb.tdb
  usershare path =
  map to guest = never
  restrict anonymous = 2
  load printers = no
  printing = bsd
  printcap name = /dev/null
  disable spoolss = yes
  logging = file
  log file = $d/smbd.log
  log level = 1 auth_audit:3
[share]
  path = $1/share
  read only = no
  guest ok = no
  valid users = root
CONF
    printf '%s\n%s\n' "$smb_pw" "$smb_pw" |
        smbpasswd -c "$d/smb.conf" -a -s root >"$d/smbpasswd.log" 2>&1 ||
        fail "smbpasswd: $(cat "$d/smbpasswd.log")"
    # Its own process group (the default): smbd signals its whole group
    # when it stops, which would take the test down with it.
    /usr/sbin/smbd --foreground -s "$d/smb.conf" \
        </dev/null >"$d/smbd.out" 2>&1 &
    cleanup_fn "kill $! 2>/dev/null"
    wait_listen "$smb_port" smbd "$d/smbd.out"
}

# start_ganesha DIR: NFSv4 on 127.0.0.1:$nfs_port exporting DIR/export
# as /export (root not squashed); its files in DIR/nfs.
start_ganesha () {
    local d=$1/nfs
    mkdir -p "$d/recovery" "$1/export"
    nfs_port=$(free_port)
    cat >"$d/ganesha.conf" <<CONF
NFS_CORE_PARAM {
  Protocols = 4;
  NFS_Port = $nfs_port;
  Bind_addr = 127.0.0.1;
  Enable_NLM = false;
  Enable_RQUOTA = false;
  Enable_UDP = false;
}
NFSV4 {
  Graceless = true;
  RecoveryBackend = fs;
  RecoveryRoot = $d/recovery;
}
NFS_KRB5 { Active_krb5 = false; }
EXPORT {
  Export_Id = 1;
  Path = $1/export;
  Pseudo = /export;
  Access_Type = RW;
  Squash = No_Root_Squash;
  SecType = sys;
  Protocols = 4;
  Transports = TCP;
  FSAL { Name = VFS; }
}
CONF
    ganesha.nfsd -F -L "$d/ganesha.log" -f "$d/ganesha.conf" -p "$d/ganesha.pid" \
        -N NIV_EVENT </dev/null >"$d/ganesha.out" 2>&1 &
    cleanup_fn "kill $! 2>/dev/null"
    wait_listen "$nfs_port" ganesha.nfsd "$d/ganesha.log"
}

# check_result DIR NAME IMAGE: iso_check_result, and the image belongs to
# root (a guest login would write as nobody).
check_result () {
    iso_check_result "$1" "$2" "$3" "$src"
    [ "$(stat -c %u "$1/$2/$3")" = 0 ] || fail "$2: '$1/$2/$3' does not belong to root"
}

iso=$(iso_build) || fail "the ISO does not build (boot-iso/build.sh)"
t=$(mktmpdir)

smb_pw=Ferry-s3cret
start_smbd "$t"
mkdir -p "$t/share/p2v"
start_ganesha "$t"
mkdir -p "$t/export/p2v"

src=$t/src.raw
make_test_disk "$src" 64
src_sum=$(sha256sum "$src" | cut -d' ' -f1)

cifs=cifs://root@10.0.2.2:$smb_port/share/p2v
cmdline="ferry.disks=vda ferry.target=$cifs ferry.password=$smb_pw"
# A static address (the ISO runs no DHCP client of its own, slirp accepts
# any address in 10.0.2.0/24): proves ferry.ip's static path; test-iso-ssh
# uses DHCP.
cmdline+=" ferry.format=qcow2 ferry.name=cifscap ferry.ip=10.0.2.77/24,gw=10.0.2.2,dns=10.0.2.3"
cmdline+=" ferry.post=shell ferry.yes"
log=$BUILDDIR/boot-logs/iso-share.log
t0=$(date +%s)
iso_boot_direct "$iso" "$log" "$cmdline" \
    -drive "file=$src,format=raw,if=none,id=src,readonly=on" -device virtio-blk-pci,drive=src \
    -netdev user,id=net0 -device virtio-net-pci,netdev=net0

# 1. CIFS, unattended from the kernel command line.
iso_wait "$log" 'ferry agent: shell' 900 || fail "the agent did not reach ferry.post=shell"
echo "cifs capture: $(( $(date +%s) - t0 ))s"
iso_log_has "$log" "ferry agent: done: 1 image" ||
    fail "the cifs capture failed; smbd: $(tail -5 "$t/smb/smbd.log")"
check_result "$t/share/p2v" cifscap cifscap-vda.qcow2
grep -Eq "Auth: .*user \[[A-Za-z]*\]\\\\\[root\].*status \[NT_STATUS_OK\]" "$t/smb/smbd.log" ||
    fail "smbd logged no password login of root: $(tail -5 "$t/smb/smbd.log")"
sleep 2     # the prompt of the shell
iso_serial_send "ip -4 -o addr show; ip route; cat /etc/resolv.conf; pgrep -x dhclient || echo NO-DHCLIENT; echo NET-DONE"$'\n'
iso_wait "$log" '^NET-DONE' 60 || fail "the network commands did not run"
iso_log_has "$log" 'inet 10\.0\.2\.77/24 ' || fail "ferry.ip: the static address is not set"
iso_log_has "$log" '^default via 10\.0\.2\.2 ' || fail "ferry.ip: no default route via gw="
iso_log_has "$log" '^nameserver 10\.0\.2\.3$' || fail "ferry.ip: dns= not in /etc/resolv.conf"
iso_log_has "$log" '^NO-DHCLIENT$' || fail "ferry.ip: a static address, yet dhclient runs"

# 2. A wrong password: one line in the status file, nothing on the share.
agent="ferry agent --no-network --no-post --cmdline"
iso_serial_send "$agent 'ferry.disks=vda ferry.target=$cifs ferry.password=wrong ferry.name=badpw ferry.yes'; echo BAD-RC=\$?; cat /run/ferry-agent.status"$'\n'
iso_wait "$log" 'BAD-RC=[0-9]+' 300 || fail "the wrong-password run did not end"
iso_log_has "$log" 'BAD-RC=1' || fail "a wrong password did not exit 1"
iso_log_has "$log" "^1 target '$cifs' is unreachable: mount.cifs failed: mount error\(13\): Permission denied$" ||
    fail "no one-line 'Permission denied' in /run/ferry-agent.status"
[ ! -e "$t/share/p2v/badpw" ] || fail "a run with a wrong password wrote on the share"
grep -q "NT_STATUS_WRONG_PASSWORD" "$t/smb/smbd.log" || fail "smbd did not see the wrong password"

# 3. NFSv4 on its own port, typed on the console.
t1=$(date +%s)
iso_serial_send "$agent 'ferry.disks=vda ferry.target=nfs:10.0.2.2:$nfs_port:/export/p2v ferry.format=vmdk ferry.name=nfscap ferry.yes'; echo NFS-RC=\$?"$'\n'
iso_wait "$log" 'NFS-RC=[0-9]+' 600 || fail "the nfs run did not end"
echo "nfs capture: $(( $(date +%s) - t1 ))s"
iso_log_has "$log" 'NFS-RC=0' ||
    fail "the nfs capture failed; ganesha: $(grep -v DBUS "$t/nfs/ganesha.log" | tail -5)"
iso_kill
check_result "$t/export/p2v" nfscap nfscap-vda.vmdk

[ "$(sha256sum "$src" | cut -d' ' -f1)" = "$src_sum" ] || fail "the source disk changed"
echo "PASS"
