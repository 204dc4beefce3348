#!/bin/bash
# The Debian package (make deb, debian/): lintian reports no errors; its
# control names the tools ferry runs; unpacked into a fresh directory root
# (dpkg -x) it holds the binary, one manual page per command and ferry(1),
# the bash completion where bash-completion looks, and the copyright; the
# installed binary reports the Makefile's version and makes a real capture
# (qcow2, checked by qemu-img and compared with the source).
source "$(dirname "$0")/../functions.sh"
requires dpkg-deb lintian qemu-img
top=$(cd "$TESTS_DIR/.." && pwd)
t=$(mktmpdir)

s=$(date +%s)
deb=$(deb_build)
echo "package: $deb ($(( $(date +%s) - s ))s to build or reuse)"

# lintian: errors fail; warnings are printed (the package's overrides
# hide what does not apply outside Debian's archive).
rc=0
lintian --fail-on error --tag-display-limit 0 "$deb" >"$t/lintian" 2>&1 || rc=$?
cat "$t/lintian"
if grep -E '^E: ' "$t/lintian" || [ "$rc" -ne 0 ]; then
    fail "lintian: errors, or it did not run (exit $rc)"
fi

# The control: the version of the tree, and the tools ferry runs.
version=$(sed -n 's/^VERSION *:= *//p' "$top/Makefile")
[ "$(dpkg-deb -f "$deb" Package)" = ferry ] || fail "not the ferry package"
[[ $(dpkg-deb -f "$deb" Version) == "$version"-* ]] ||
    fail "package version $(dpkg-deb -f "$deb" Version), Makefile $version"
depends=$(dpkg-deb -f "$deb" Depends)
for p in qemu-utils qemu-system-x86 libguestfs0 libguestfs-xfs openssh-client kmod libc6; do
    grep -qE "(^|, )$p( |,|$)" <<<"$depends" || fail "Depends lacks $p: $depends"
done

# A fresh directory root.
root=$t/root
dpkg -x "$deb" "$root"
ferry=$root/usr/bin/ferry
[ -x "$ferry" ] || fail "no /usr/bin/ferry in the package"
[ "$("$ferry" --version)" = "ferry $version" ] ||
    fail "installed ferry --version: $("$ferry" --version)"
comp=$root/usr/share/bash-completion/completions/ferry
[ -f "$comp" ] || fail "no bash completion at /usr/share/bash-completion/completions/ferry"
cmp -s "$comp" "$top/completion/ferry.bash" || fail "the installed completion is not completion/ferry.bash"
# bash-completion's own loader finds it there (XDG_DATA_DIRS: the root's
# /usr/share instead of the host's).
if [ -f /usr/share/bash-completion/bash_completion ]; then
    spec=$(XDG_DATA_DIRS=$root/usr/share bash -c \
        'source /usr/share/bash-completion/bash_completion; __load_completion ferry; complete -p ferry') ||
        fail "bash-completion does not load the installed completion"
    [ "$spec" = "complete -F _ferry ferry" ] || fail "completion spec: $spec"
fi
[ -f "$root/usr/share/doc/ferry/copyright" ] || fail "no copyright file"
[ -f "$root/usr/share/man/man1/ferry.1.gz" ] || fail "no ferry(1)"
n=0
while IFS=$'\t' read -r cmd _; do
    man=$root/usr/share/man/man1/ferry-$cmd.1.gz
    [ -f "$man" ] || fail "no manual page for ferry $cmd"
    zcat "$man" | grep -q '^\.TH' || fail "ferry-$cmd.1.gz is not a manual page"
    n=$((n + 1))
done < <("$ferry" --list-commands)
[ "$n" -ge 9 ] || fail "only $n commands listed"
# Nothing outside /usr.
extra=$(dpkg-deb -c "$deb" | awk '{ print $6 }' | grep -vE '^\./(usr/.*)?$' || true)
[ -z "$extra" ] || fail "files outside /usr: $extra"

# One real capture with the installed binary.
make_test_disk "$t/src.raw" 40
"$ferry" capture -q "$t/src.raw" -o "$t/cap.qcow2" -O qcow2
qemu-img check -q "$t/cap.qcow2" || fail "qemu-img check of the installed ferry's capture"
qemu_compare "$t/src.raw" "$t/cap.qcow2"
"$ferry" check "$t/cap.qcow2" >/dev/null || fail "ferry check of its own capture"
echo "ok ($n commands, each with its manual page)"
