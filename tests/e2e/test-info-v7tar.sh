#!/bin/bash
# `ferry info` tells packages the way `ferry import` opens them
# (libarchive), not by the ustar magic: an XVA rewritten as a pre-POSIX
# (v7) tar, as xva-img writes them, is an XVA in text and JSON, gzip'd
# too, and still imports; so is a v7-tar OVA.  A v7 tar of other files is
# no package (the importer would refuse it): it stays an image.
source "$(dirname "$0")/../functions.sh"
requires tar gzip python3
t=$(mktmpdir)
make_test_disk "$t/disk.img" 5
libvirt_domain_xml v7vm "$t/disk.img" > "$t/dom.xml"

# v7 SRC DST: the members of tar SRC, in its order, as a v7 tar DST.
v7 () {
    local src=$1 dst=$2 m
    m=$(mktemp -d "$t/m.XXXXXX")
    tar xf "$src" -C "$m"
    tar tf "$src" > "$m.list"
    tar --format=v7 --no-recursion -cf "$dst" -C "$m" -T "$m.list"
    python3 - "$dst" <<'PY' || fail "'$dst' has a ustar magic: not a v7 tar"
import sys
assert open(sys.argv[1], "rb").read(512)[257:262] != b"ustar"
PY
}

"$FERRY" export -q --from-libvirt "$t/dom.xml" -o "$t/vm.xva"
v7 "$t/vm.xva" "$t/v7.xva"
gzip -c "$t/v7.xva" > "$t/v7gz.xva"
for p in v7.xva v7gz.xva; do
    "$FERRY" info "$t/$p" > "$t/$p.txt" || fail "info '$p'"
    grep -q "^kind  *XVA (XenServer export)" "$t/$p.txt" ||
        fail "info '$p' is no XVA: $(cat "$t/$p.txt")"
    "$FERRY" info --json "$t/$p" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["package"] == "xva" and d["vm"]["name"] == "v7vm", d
assert len(d["disks"]) == 1 and d["disks"][0]["present"], d
assert d["problem"] is None, d' || fail "info --json '$p'"
    "$FERRY" import -q "$t/$p" --to raw -o "$t/out-$p" || fail "import '$p'"
    cmp "$t/disk.img" "$t/out-$p/v7vm-disk1.img" || fail "import '$p': disk differs"
done

# An OVA as a v7 tar: an OVA.
"$FERRY" export -q --from-libvirt "$t/dom.xml" -o "$t/vm.ova"
v7 "$t/vm.ova" "$t/v7.ova"
"$FERRY" info --json "$t/v7.ova" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["package"] == "ova" and d["manifest"]["verified"], d' ||
    fail "info --json v7.ova"

# A v7 tar that is no package stays an image, as before.
( cd "$t" && tar --format=v7 -cf other.tar disk.img dom.xml )
"$FERRY" info --json "$t/other.tar" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["format"] == "raw", d' || fail "info other.tar"
# So does an image whose first block is zero (libarchive: an empty tar).
truncate -s 1M "$t/zero.img"
"$FERRY" info --json "$t/zero.img" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["format"] == "raw" and d["virtual_size"] == 1 << 20, d' ||
    fail "info zero.img"
echo PASS
