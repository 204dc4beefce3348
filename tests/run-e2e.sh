#!/bin/bash
# run-e2e.sh [TEST...]: run the end-to-end tests (default: all of
# tests/e2e/test-*.sh), each with a time limit, logging to
# $BUILDDIR/e2e-logs/.  Exit 77 from a test means skipped.
#
# E2E_JOBS tests run at once (default: the number of CPUs, at most 2):
# most of a boot test's time is one TCG vCPU thread, so two of them share
# a 2-core machine well.  Shared caches (guest images, the ISO) are built
# under a lock by whichever test needs them first.
set -u
cd "$(dirname "$0")/.."
: "${FERRY:?}" "${BUILDDIR:?}"
export FERRY BUILDDIR
logs=$BUILDDIR/e2e-logs
mkdir -p "$logs"
tests=("$@")
[ ${#tests[@]} -gt 0 ] || tests=(tests/e2e/test-*.sh)
jobs=${E2E_JOBS:-$(nproc)}
[ "$jobs" -ge 1 ] 2>/dev/null || jobs=1
[ -n "${E2E_JOBS:-}" ] || [ "$jobs" -le 2 ] || jobs=2

# One test: its verdict line goes to $logs/NAME.result.
run_one () {
    local t=$1 name start rc secs
    name=$(basename "$t" .sh)
    start=$(date +%s)
    timeout --kill-after=30 "${E2E_TIMEOUT:-1800}" bash "$t" >"$logs/$name.log" 2>&1
    rc=$?
    secs=$(( $(date +%s) - start ))
    case $rc in
        0) echo "PASS: $name (${secs}s)" ;;
        77) echo "SKIP: $name ($(tail -1 "$logs/$name.log"))" ;;
        *) echo "FAIL: $name (exit $rc, ${secs}s); last lines of $logs/$name.log:"
           tail -25 "$logs/$name.log" | sed 's/^/    /' ;;
    esac > "$logs/$name.result"
    cat "$logs/$name.result"
}

# Longest first (from the previous run's times), so that the pool does
# not end with one long test running alone.
order=()
while IFS= read -r line; do order+=("${line#* }"); done < <(
    for t in "${tests[@]}"; do
        r=$logs/$(basename "$t" .sh).result
        s=$(sed -n '1s/.*[ (]\([0-9][0-9]*\)s[),].*/\1/p' "$r" 2>/dev/null)
        echo "${s:-9999} $t"
    done | sort -s -k1,1nr)

for t in "${tests[@]}"; do rm -f "$logs/$(basename "$t" .sh).result"; done
running=0
for t in "${order[@]}"; do
    if [ "$running" -ge "$jobs" ]; then
        wait -n
        running=$((running - 1))
    fi
    run_one "$t" &
    running=$((running + 1))
done
wait

pass=0 fail=0 skip=0
for t in "${tests[@]}"; do
    case $(head -c 4 "$logs/$(basename "$t" .sh).result" 2>/dev/null) in
        PASS) pass=$((pass + 1)) ;;
        SKIP) skip=$((skip + 1)) ;;
        *) fail=$((fail + 1)) ;;
    esac
done
echo "e2e: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
