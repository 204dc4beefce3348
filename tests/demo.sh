#!/bin/bash
# demo.sh: `make demo` — build a small "physical" disk (MBR, ext4 with
# files and deleted data, swap), capture it to VHD, show the result.
set -euo pipefail
: "${FERRY:?}" "${BUILDDIR:?}"
dir=$BUILDDIR/demo
mkdir -p "$dir"
rm -f "$dir/disk.img" "$dir/disk.vhd"
echo "== building the demo disk: $dir/disk.img"
"$(dirname "$0")/make-demo-disk.sh" "$dir/disk.img"
/sbin/sfdisk -l "$dir/disk.img" 2>/dev/null | sed -n '/^Device/,$p' || true
echo "   deleted secret still in the disk's free blocks: $(grep -c FERRY-DELETED-SECRET "$dir/disk.img") lines"
echo
echo "== ferry capture $dir/disk.img -o $dir/disk.vhd"
"$FERRY" capture "$dir/disk.img" -o "$dir/disk.vhd"
echo
echo "== ferry info $dir/disk.vhd"
"$FERRY" info "$dir/disk.vhd"
echo
echo "== ferry check $dir/disk.vhd"
"$FERRY" check "$dir/disk.vhd"
echo
src_kib=$(du -k "$dir/disk.img" | cut -f1)
vhd_kib=$(du -k "$dir/disk.vhd" | cut -f1)
echo "source disk uses ${src_kib} KiB, the VHD ${vhd_kib} KiB;"
echo "deleted secret in the VHD: $(grep -c FERRY-DELETED-SECRET "$dir/disk.vhd" || true) lines"
