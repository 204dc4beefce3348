#!/bin/bash
# gen-seed-ova.sh DIR: seeds for the OVA reader's fuzzer — a small valid
# OVA of each flavour made by `ferry export` ($FERRY, default build/ferry)
# and the hostile variations of gen-hostile-ova.sh.
set -euo pipefail
dir=$1
ferry=${FERRY:-build/ferry}
mkdir -p "$dir"
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
truncate -s 256K "$t/disk.raw"
printf 'ferry seed' | dd of="$t/disk.raw" bs=1 seek=70000 conv=notrunc status=none
for f in vmware virtualbox xenserver; do
    "$ferry" export -q "$t/disk.raw" -o "$dir/seed-$f.ova" --flavour "$f"
done
"$(dirname "$0")/gen-hostile-ova.sh" "$dir" "$dir/seed-vmware.ova" >/dev/null
