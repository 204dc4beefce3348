#!/bin/bash
# `ferry import PACKAGE -o DIR` into a DIR that exists, as virt-v2v -os
# wants: an empty one is taken (files renamed in, the domain names them
# there, no staging left); a non-empty one is refused with one line naming
# DIR and nothing written; --force imports into it, replacing files of
# the same names and leaving the others; a same-named directory is still
# refused before anything is renamed.
source "$(dirname "$0")/../functions.sh"
requires python3
t=$(mktmpdir)
make_test_disk "$t/disk.img" 6
libvirt_domain_xml exist "$t/disk.img" > "$t/dom.xml"
"$FERRY" export -q --from-libvirt "$t/dom.xml" -o "$t/vm.ova"
listing () { (cd "$1" && find . -mindepth 1 | sort | tr '\n' ' '); }

# An existing empty directory.
mkdir "$t/empty"
chmod 0750 "$t/empty"
"$FERRY" import -q "$t/vm.ova" --to raw -o "$t/empty" || fail "import into an empty DIR"
[ "$(listing "$t/empty")" = "./exist-disk1.img ./exist.xml " ] ||
    fail "empty DIR holds: $(listing "$t/empty")"
cmp "$t/disk.img" "$t/empty/exist-disk1.img" || fail "disk differs"
grep -qF "<source file='$t/empty/exist-disk1.img'/>" "$t/empty/exist.xml" ||
    fail "domain does not name the disk in DIR: $(cat "$t/empty/exist.xml")"
[ "$(stat -c %a "$t/empty")" = 750 ] || fail "DIR itself was replaced"
[ -z "$(ls -A "$t" | grep ferry-import)" ] || fail "staging left beside DIR"

# Not empty: refused, one line naming DIR, nothing written.
mkdir "$t/full"
echo keep > "$t/full/notes.txt"
before=$(listing "$t/full")
expect_fail "^ferry: import: '$t/full': a directory that is not empty .use --force" \
    "$FERRY" import -q "$t/vm.ova" --to raw -o "$t/full"
[ "$(listing "$t/full")" = "$before" ] || fail "refusal wrote: $(listing "$t/full")"
# A second import into the first DIR is refused the same way.
expect_fail "^ferry: import: '$t/empty': a directory that is not empty" \
    "$FERRY" import -q "$t/vm.ova" --to raw -o "$t/empty"

# --force: imported beside the other files, same names replaced.
echo old > "$t/full/exist.xml"
"$FERRY" import -q --force "$t/vm.ova" --to raw -o "$t/full" || fail "import --force"
[ "$(listing "$t/full")" = "./exist-disk1.img ./exist.xml ./notes.txt " ] ||
    fail "--force DIR holds: $(listing "$t/full")"
[ "$(cat "$t/full/notes.txt")" = keep ] || fail "--force touched another file"
grep -q "<domain" "$t/full/exist.xml" || fail "--force did not replace exist.xml"
cmp "$t/disk.img" "$t/full/exist-disk1.img" || fail "--force: disk differs"
# Again over its own output.
"$FERRY" import -q --force "$t/vm.ova" --to raw -o "$t/full" || fail "import --force again"
cmp "$t/disk.img" "$t/full/exist-disk1.img" || fail "--force again: disk differs"

# A directory in the way of a file: refused before anything is renamed.
mkdir "$t/blocked" "$t/blocked/exist.xml"
expect_fail "^ferry: import: '$t/blocked/exist.xml': exists and is not a regular file" \
    "$FERRY" import -q --force "$t/vm.ova" --to raw -o "$t/blocked"
[ "$(listing "$t/blocked")" = "./exist.xml " ] ||
    fail "blocked DIR holds: $(listing "$t/blocked")"

# A file where DIR should be is still refused.
echo x > "$t/afile"
expect_fail "^ferry: import: '$t/afile': already exists" \
    "$FERRY" import -q "$t/vm.ova" --to raw -o "$t/afile"
echo PASS
