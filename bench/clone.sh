#!/bin/bash
# clone.sh: `ferry clone` of 10 and of 50 clones (full Linux identity,
# --cow qcow2, --to libvirt, --seed) against the per-clone cost of today's
# tools, `virt-customize --hostname` plus `virt-sysprep --operations
# machine-id,ssh-hostkeys,dhcp-client-state,net-hwaddr` on one qcow2
# overlay, from one run; all with the libguestfs appliance under TCG
# (LIBGUESTFS_BACKEND_SETTINGS=force_tcg, what Ferry falls back to).
# Prints wall and per-clone times, the per-clone time ratios and Ferry's
# peak memory.  The golden: a qcow2 overlay of the reference guest of
# tests/guests.sh (or $BENCH_DISK, raw) with SSH host keys planted, as
# tests/e2e/test-clone-boot.sh does.
# Targets: per-clone ratio <= 0.1 at 10 clones, <= 0.04 at 50; peak
# memory < 100 MiB.  Exits non-zero when a run fails; a missed target is
# printed as missed.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${FERRY:=$PWD/build/ferry}" "${BUILDDIR:=$PWD/build}"
export FERRY BUILDDIR LIBGUESTFS_BACKEND_SETTINGS=force_tcg
disk=${BENCH_DISK:-$(tests/guests.sh "$BUILDDIR" debian12-ahci)}
for c in virt-customize virt-sysprep guestfish qemu-img ssh-keygen python3; do
    command -v "$c" >/dev/null || { echo "$c not installed"; exit 1; }
done
source tests/functions.sh       # golden_with_host_keys, mktmpdir
t=$(mktmpdir)

# run NAME CMD...: wall seconds and peak RSS (KiB) into $t/NAME.{wall,rss},
# output in $t/NAME.out.  /usr/bin/time's %M is the largest of the process
# and the children it waited for (the appliance's qemu among them), so the
# command's own peak (VmHWM, sampled until it exits) goes into $t/NAME.hwm.
run () {
    local name=$1 wall rss tp cp="" hwm=0 v; shift
    sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
    /usr/bin/time -f '%e %M' -o "$t/$name.time" "$@" > "$t/$name.out" 2>&1 &
    tp=$!
    while kill -0 "$tp" 2>/dev/null; do
        [ -n "$cp" ] || cp=$(pgrep -P "$tp" | head -1) || true
        v=$( [ -z "$cp" ] || awk '/^VmHWM:/ { print $2 }' "/proc/$cp/status" 2>/dev/null) || true
        [ -z "$v" ] || hwm=$v
        sleep 0.2
    done
    wait "$tp" || { echo "$name failed:"; tail -20 "$t/$name.out"; exit 1; }
    read -r wall rss < "$t/$name.time"
    echo "$wall" > "$t/$name.wall"; echo "$rss" > "$t/$name.rss"; echo "$hwm" > "$t/$name.hwm"
}
div () { awk -v a="$1" -v b="$2" -v f="${3:-%.3f}" 'BEGIN { printf f, (b > 0 ? a / b : 0) }'; }
le () { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }
met () { if le "$1" "$2"; then echo met; else echo MISSED; fi; }

# The golden: the reference guest with SSH host keys of three types.
golden_with_host_keys "$disk" "$t/golden.qcow2" "$t/keys" > /dev/null

load=$(cut -d' ' -f1-3 /proc/loadavg)
for n in 10 50; do
    run "ferry$n" "$FERRY" clone "$t/golden.qcow2" -o "$t/out$n" --count "$n" \
        --name "bench$n-%02d" --cow qcow2 --to libvirt --seed bench --json
    python3 - "$t/ferry$n.out" "$n" <<'PY' || { echo "ferry clone of $n: a clone failed"; exit 1; }
import json, sys
out = open(sys.argv[1]).read()
r = json.loads(out[out.index("{"):])
assert r["ok"] and r["identity"] is True, "batch not ok"
assert len(r["clones"]) == int(sys.argv[2]), "clone count"
for c in r["clones"]:
    assert c["ok"], (c["name"], c["error"])
    assert len(c["ssh_host_keys"]) == 3, (c["name"], "ssh keys")
PY
    rm -rf "$t/out$n"
done
qemu-img create -q -f qcow2 -b "$t/golden.qcow2" -F qcow2 "$t/peer.qcow2"
run customize virt-customize -a "$t/peer.qcow2" --hostname peer01
run sysprep virt-sysprep -a "$t/peer.qcow2" \
    --operations machine-id,ssh-hostkeys,dhcp-client-state,net-hwaddr

cw=$(cat "$t/customize.wall"); sw=$(cat "$t/sysprep.wall")
peer=$(awk -v a="$cw" -v b="$sw" 'BEGIN { printf "%.2f", a + b }')
echo "reference disk: $disk ($(stat -c %s "$disk") bytes), load average before: $load"
echo "peers on one qcow2 overlay: virt-customize --hostname ${cw}s + virt-sysprep ${sw}s = ${peer}s per clone"
printf '%-28s %8s %12s %10s %9s %10s\n' run wall_s per_clone_s ratio target result
for n in 10 50; do
    w=$(cat "$t/ferry$n.wall"); per=$(div "$w" "$n" %.2f); r=$(div "$per" "$peer")
    tg=$([ "$n" = 10 ] && echo 0.1 || echo 0.04)
    printf '%-28s %8s %12s %10s %9s %10s\n' "ferry clone --count $n" "$w" "$per" \
        "$r" "<= $tg" "$(met "$r" "$tg")"
done
mib () { echo $(( $(cat "$t/$1") / 1024 )); }
own=$(( $(sort -n "$t"/ferry*.hwm | tail -1) / 1024 ))
echo "ferry peak memory (its own VmHWM): $own MiB (10 clones $(mib ferry10.hwm) MiB, 50 clones $(mib ferry50.hwm) MiB)   target < 100 MiB: $(met "$own" 99)"
echo "  with the appliance (/usr/bin/time %M, the largest of ferry and its qemu children): 10 clones $(mib ferry10.rss) MiB, 50 clones $(mib ferry50.rss) MiB"
echo "targets: per-clone ratio (ferry / peers) <= 0.1 at 10 clones, <= 0.04 at 50; memory < 100 MiB"
