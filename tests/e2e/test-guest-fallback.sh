#!/bin/bash
# The appliance's KVM -> TCG fallback, with TCG not forced: the first launch
# tries KVM and, where KVM fails (nested KVM here hangs in the firmware),
# says why and runs on TCG; the failure is remembered for this boot of the
# host, so the next launch goes straight to TCG; forcing TCG through
# LIBGUESTFS_BACKEND_SETTINGS skips KVM without touching the memory.  A
# blank disk is enough: the appliance launches, then inspection refuses.
source "$(dirname "$0")/../functions.sh"
requires qemu-img
t=$(mktmpdir)
truncate -s 64M "$t/blank.img"
export XDG_CACHE_HOME=$t/cache
mkdir -p "$XDG_CACHE_HOME"

run_v () {   # run_v LOG [env...]: a convert that must fail on "no OS"
    local log=$1; shift
    if env "$@" "$FERRY" convert "$t/blank.img" --to kvm -o "$t/out.qcow2" -v \
           >"$log" 2>&1; then
        fail "a blank disk was converted"
    fi
    grep -q 'no operating system' "$log" || { cat "$log"; fail "$log: not the no-OS refusal"; }
    [ ! -e "$t/out.qcow2" ] || fail "output left behind"
}

run_v "$t/first.log" -u LIBGUESTFS_BACKEND_SETTINGS
cat "$t/first.log"
if grep -q 'appliance running on kvm' "$t/first.log"; then
    echo "KVM works on this host: nothing to fall back from"
else
    grep -q 'appliance running on tcg' "$t/first.log" || fail "first: no accelerator named"
    grep -v 'appliance running' "$t/first.log" | grep -qi 'kvm.*using tcg' ||
        fail "first: the KVM failure is not reported"
    [ -s "$XDG_CACHE_HOME/ferry-kvm-failed" ] || fail "the KVM failure is not remembered"

    run_v "$t/second.log" -u LIBGUESTFS_BACKEND_SETTINGS
    cat "$t/second.log"
    grep -q 'appliance running on tcg' "$t/second.log" || fail "second: not on tcg"
    grep -qi 'earlier' "$t/second.log" || fail "second: KVM was tried again"
fi

rm -rf "$XDG_CACHE_HOME"; mkdir -p "$XDG_CACHE_HOME"
run_v "$t/forced.log" LIBGUESTFS_BACKEND_SETTINGS=force_tcg
cat "$t/forced.log"
grep -q 'forces tcg' "$t/forced.log" || fail "forced: KVM not skipped"
[ ! -e "$XDG_CACHE_HOME/ferry-kvm-failed" ] || fail "forced: a KVM failure was recorded"
echo PASS
