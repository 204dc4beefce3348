#!/bin/bash
# run-e2e.sh [TEST...]: run the end-to-end tests (default: all of
# tests/e2e/test-*.sh), each with a time limit, logging to
# $BUILDDIR/e2e-logs/.  Exit 77 from a test means skipped.
set -u
cd "$(dirname "$0")/.."
: "${FERRY:?}" "${BUILDDIR:?}"
export FERRY BUILDDIR
logs=$BUILDDIR/e2e-logs
mkdir -p "$logs"
tests=("$@")
[ ${#tests[@]} -gt 0 ] || tests=(tests/e2e/test-*.sh)
pass=0 fail=0 skip=0 failed=()
for t in "${tests[@]}"; do
    name=$(basename "$t" .sh)
    start=$(date +%s)
    timeout --kill-after=30 "${E2E_TIMEOUT:-1800}" bash "$t" >"$logs/$name.log" 2>&1
    rc=$?
    secs=$(( $(date +%s) - start ))
    case $rc in
        0) pass=$((pass + 1)); echo "PASS: $name (${secs}s)" ;;
        77) skip=$((skip + 1)); echo "SKIP: $name ($(tail -1 "$logs/$name.log"))" ;;
        *) fail=$((fail + 1)); failed+=("$name")
           echo "FAIL: $name (exit $rc, ${secs}s); last lines of $logs/$name.log:"
           tail -25 "$logs/$name.log" | sed 's/^/    /' ;;
    esac
done
echo "e2e: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
