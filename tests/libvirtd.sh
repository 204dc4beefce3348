# shellcheck shell=bash
# libvirtd.sh: a libvirtd of the test's own, for tests sourcing it after
# functions.sh (no systemd on the test machines: the daemon is started
# directly).  Its sockets, state and config live under DIR, bind-mounted
# in a mount namespace of its own, with a network namespace of its own
# holding the bridge ferrybr0 of its network 'default', and a /dev without
# kvm (nested KVM is broken on the test machines, and libvirt would offer
# kvm: /dev/kvm opens), so it offers QEMU (TCG) domains only.  QEMU runs
# as root without relabelling, its stdio to files (no virtlogd).
#
#   libvirtd_start DIR      sets $uri (its socket) and $lv (DIR); the
#                           daemon, and the domains left running, are
#                           stopped by the cleanup traps
#   libvirtd_console NAME LOG PATTERN
#                           read NAME's serial console (a pty) into LOG
#                           until PATTERN: 0, or 1 with $console_state
#                           (failed, timeout, not running)
# Needs root; the caller `requires` libvirtd virsh unshare mknod ip stty.

libvirtd_conf () {
    mkdir -p "$lv"/{sock,etc,lib,run,cache,log,pts}
    cat > "$lv/libvirtd.conf" <<CONF
unix_sock_dir = "$lv/sock"
unix_sock_rw_perms = "0700"
auth_unix_rw = "none"
auth_unix_ro = "none"
log_outputs = "3:file:$lv/libvirtd.log"
CONF
    cat > "$lv/etc/qemu.conf" <<CONF
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
security_driver = "none"
stdio_handler = "file"
namespaces = [ ]
cgroup_controllers = [ ]
CONF
    # libvirtd parses its built-in QEMU user (libvirt-qemu) before it
    # reads qemu.conf: the namespace's /etc/passwd and /etc/group know it.
    { cat /etc/passwd; echo "libvirt-qemu:x:64055:64055::/nonexistent:/usr/sbin/nologin"; } > "$lv/passwd"
    { cat /etc/group; echo "libvirt-qemu:x:64055:"; } > "$lv/group"
}

libvirtd_stop_domains () {
    local p
    for p in "$lv"/run/qemu/*.pid; do
        [ -f "$p" ] && stop_pid "$(cat "$p")"
    done
}

libvirtd_start () {
    lv=$1
    libvirtd_conf
    unshare -m -n --propagation private sh -c '
        set -e
        d=$1
        mount --bind "$d/etc" /etc/libvirt
        mount --bind "$d/passwd" /etc/passwd
        mount --bind "$d/group" /etc/group
        for p in /var/lib /var/cache /var/log /run; do mount -t tmpfs tmpfs $p; done
        mkdir /var/lib/libvirt /var/cache/libvirt /var/log/libvirt /run/libvirt
        mount --bind "$d/lib" /var/lib/libvirt
        mount --bind "$d/cache" /var/cache/libvirt
        mount --bind "$d/log" /var/log/libvirt
        mount --bind "$d/run" /run/libvirt
        mount --bind /dev/pts "$d/pts"
        mount -t tmpfs -o mode=755 tmpfs /dev
        mknod -m 666 /dev/null c 1 3
        mknod -m 666 /dev/zero c 1 5
        mknod -m 666 /dev/full c 1 7
        mknod -m 666 /dev/random c 1 8
        mknod -m 666 /dev/urandom c 1 9
        mknod -m 666 /dev/tty c 5 0
        mknod -m 666 /dev/ptmx c 5 2
        mkdir /dev/net /dev/pts /dev/shm
        mknod -m 666 /dev/net/tun c 10 200
        mount --move "$d/pts" /dev/pts
        mount -t tmpfs tmpfs /dev/shm
        ln -s /proc/self/fd /dev/fd
        ip link set lo up
        ip link add ferrybr0 type bridge
        ip link set ferrybr0 up
        exec libvirtd --config "$d/libvirtd.conf" --pid-file "$d/libvirtd.pid"
    ' sh "$lv" > "$lv/libvirtd.out" 2>&1 &
    # Traps run last-registered first: the domains, then the daemon.
    cleanup_fn "stop_pid $!"
    cleanup_fn libvirtd_stop_domains
    uri="qemu+unix:///system?socket=$lv/sock/libvirt-sock"
    for _ in $(seq 100); do [ -S "$lv/sock/libvirt-sock" ] && break; sleep 0.1; done
    [ -S "$lv/sock/libvirt-sock" ] ||
        fail "libvirtd did not start: $(cat "$lv/libvirtd.out"; tail -5 "$lv/libvirtd.log")"
    virsh -c "$uri" capabilities > "$lv/caps.xml" || fail "virsh capabilities"
    grep -q "<domain type='kvm'" "$lv/caps.xml" && fail "the test's libvirtd offers kvm"
    echo "<network><name>default</name><forward mode='bridge'/><bridge name='ferrybr0'/></network>" > "$lv/net.xml"
    virsh -q -c "$uri" net-define "$lv/net.xml" >/dev/null
    virsh -q -c "$uri" net-start default >/dev/null
}

libvirtd_console () {
    local name=$1 log=$2 pattern=$3 pty catpid
    pty=$(virsh -c "$uri" ttyconsole "$name")
    [ -c "$pty" ] || fail "$name: no console pty: '$pty'"
    # Raw and without echo: the console's output is read, nothing goes back.
    stty -F "$pty" raw -echo
    cat "$pty" > "$log" 2>/dev/null & catpid=$!
    cleanup_fn "stop_pid $catpid"
    console_state=timeout
    for _ in $(seq "${BOOT_TIMEOUT:-300}"); do
        sleep 1
        if grep -q "$pattern" "$log"; then console_state=ok; break; fi
        if grep -Eq 'Kernel panic|\(initramfs\)|Gave up waiting for root' "$log"; then console_state=failed; break; fi
        [ "$(virsh -c "$uri" domstate "$name")" = running ] || { console_state="not running"; break; }
    done
    stop_pid $catpid
    [ "$console_state" = ok ]
}
