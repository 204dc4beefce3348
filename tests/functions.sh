# functions.sh: the shell library every end-to-end test sources.
#
#   source "$(dirname "$0")/../functions.sh"
#   requires qemu-img            # skip (exit 77) if an optional peer is missing
#   t=$(mktmpdir)                # removed at exit
#   cleanup_fn kill_server       # run at exit, in reverse order
#   expect_fail "message regexp" $FERRY info bad.vhd
#
# Environment (set by `make check-e2e`): FERRY (the binary), BUILDDIR (the
# build tree, where cached guest images live), FERRY_NO_BOOT (set under
# check-asan: skip guest boots).

set -euo pipefail

: "${FERRY:?FERRY must point at the ferry binary (run through make check)}"
: "${BUILDDIR:?BUILDDIR must be set (run through make check)}"
export LIBGUESTFS_BACKEND_SETTINGS="${LIBGUESTFS_BACKEND_SETTINGS:-force_tcg}"
TESTS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

_cleanups=()
cleanup_fn () { _cleanups+=("$*"); }
_run_cleanups () {
    local i
    for (( i=${#_cleanups[@]}-1; i>=0; i-- )); do eval "${_cleanups[$i]}" || true; done
}
trap _run_cleanups EXIT

# requires CMD...: skip the test when an optional peer tool is missing.
requires () {
    local c
    for c in "$@"; do
        command -v "$c" >/dev/null 2>&1 || { echo "SKIP: $c not installed"; exit 77; }
    done
}

# One scratch directory per test, made here in the main shell so that its
# removal is registered (mktmpdir runs in $(...) subshells).
_TEST_TMP=$(mktemp -d "${TMPDIR:-/var/tmp}/ferry-test.XXXXXX")
cleanup_fn "rm -rf '$_TEST_TMP'"
mktmpdir () { mktemp -d "$_TEST_TMP/d.XXXXXX"; }

fail () { echo "FAIL: $*" >&2; exit 1; }

# expect_fail REGEXP CMD...: CMD must exit non-zero (not crash: exit < 128)
# and print REGEXP on stderr, in one line.
expect_fail () {
    local re=$1 out rc=0; shift
    out=$("$@" 2>&1 >/dev/null) || rc=$?
    [ "$rc" -ne 0 ] || fail "expected failure: $*"
    [ "$rc" -lt 128 ] || fail "crashed (exit $rc): $* :: $out"
    echo "$out" | grep -Eq -- "$re" || fail "expected /$re/ from: $* :: got: $out"
    [ "$(echo "$out" | wc -l)" -le 2 ] || fail "error not on one line: $out"
}

# make_test_disk FILE SIZE_MIB: a raw file with data at scattered places
# and holes between them.
make_test_disk () {
    local f=$1 mib=$2 i
    truncate -s "${mib}M" "$f"
    for i in 0 1 5 17 33 $((mib - 1)); do
        [ "$i" -lt "$mib" ] || continue
        head -c 300000 /dev/urandom | dd of="$f" bs=1M seek="$i" conv=notrunc status=none
    done
    # A block that is allocated but all zeros, and an odd-sized tail write.
    dd if=/dev/zero of="$f" bs=64K count=2 seek=100 conv=notrunc status=none
    printf 'tail' | dd of="$f" bs=1 seek=$((mib * 1048576 - 4)) conv=notrunc status=none
}

# free_port: a TCP port on 127.0.0.1 that nothing listens on right now.
free_port () {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# stop_pid PID: TERM, up to 5 s for it to exit, then KILL, and reap it.
# Nothing to do for an empty PID or one already gone.
stop_pid () {
    local pid=$1 i
    [ -n "$pid" ] || return 0
    kill "$pid" 2>/dev/null || return 0
    for (( i = 0; i < 50; i++ )); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

# qemu_compare A B: qemu-img must say the two disks are identical.
# start_sshd DIR: an sshd of the test's own on 127.0.0.1 and a free port
# (set in $port), with its config, host key and log in DIR; DIR/id is the
# only key it accepts (public-key logins only, root included).  Stopped by
# the test's cleanup.
start_sshd () {
    local d=$1
    mkdir -p /run/sshd
    ssh-keygen -q -t ed25519 -N '' -f "$d/hostkey"
    ssh-keygen -q -t ed25519 -N '' -f "$d/id"
    cp "$d/id.pub" "$d/authorized_keys"
    port=$(free_port)
    cat > "$d/sshd_config" <<CONF
ListenAddress 127.0.0.1
Port $port
HostKey $d/hostkey
AuthorizedKeysFile $d/authorized_keys
PidFile $d/sshd.pid
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
StrictModes no
LogLevel VERBOSE
Subsystem sftp internal-sftp
CONF
    /usr/sbin/sshd -f "$d/sshd_config" -E "$d/sshd.log"
    cleanup_fn "kill \$(cat '$d/sshd.pid') 2>/dev/null"
    for _ in $(seq 50); do [ -s "$d/sshd.pid" ] && break; sleep 0.1; done
    [ -s "$d/sshd.pid" ] || fail "sshd did not start: $(cat "$d/sshd.log")"
}

qemu_compare () {
    qemu-img compare -q "$1" "$2" || fail "qemu-img compare: '$1' and '$2' differ"
}

# golden_with_host_keys RAW OUT KEYDIR: OUT, a qcow2 overlay of the raw
# guest image RAW with SSH host keys of three types (made in KEYDIR) in
# /etc/ssh, modes as sshd's packages set them: a clone golden as a machine
# running sshd has it (the test guests have no sshd).  Prints the golden's
# /etc/machine-id.
golden_with_host_keys () {
    local raw=$1 out=$2 keys=$3 k
    qemu-img create -q -f qcow2 -b "$raw" -F raw "$out"
    mkdir -p "$keys"
    for k in ed25519 rsa ecdsa; do
        ssh-keygen -q -t "$k" -N '' -C root@ferry-ref -f "$keys/ssh_host_${k}_key"
    done
    {
        echo "mkdir-p /etc/ssh"
        for k in ed25519 rsa ecdsa; do
            echo "upload $keys/ssh_host_${k}_key /etc/ssh/ssh_host_${k}_key"
            echo "chmod 0600 /etc/ssh/ssh_host_${k}_key"
            echo "upload $keys/ssh_host_${k}_key.pub /etc/ssh/ssh_host_${k}_key.pub"
            echo "chmod 0644 /etc/ssh/ssh_host_${k}_key.pub"
        done
        echo "cat /etc/machine-id"
    } > "$keys/golden.gf"
    guestfish --rw -a "$out" -i -f "$keys/golden.gf"
}

# libvirt_domain_xml NAME DISK: a minimal KVM domain (256 MiB, one vCPU)
# whose one virtio disk is the raw DISK, on stdout.
libvirt_domain_xml () {
    cat <<XML
<domain type='kvm'>
  <name>$1</name>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type></os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='$2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
  </devices>
</domain>
XML
}

# deb_build: build (or reuse, when nothing it is made of changed) the Debian
# package with `make deb` into BUILDDIR/deb/, under a lock (the package
# test and the ISO build may want it at once); prints the .deb's path.
deb_build () {
    local top deb
    top=$(cd "$TESTS_DIR/.." && pwd)
    mkdir -p "$BUILDDIR"
    flock "$BUILDDIR/.deb.lock" make -C "$top" --no-print-directory -s B="$BUILDDIR" deb >&2 ||
        fail "make deb failed (see $BUILDDIR/deb/build.log)"
    deb=$(make -C "$top" --no-print-directory -s B="$BUILDDIR" print-deb)
    [ -f "$deb" ] || fail "make deb made no $deb"
    echo "$deb"
}
