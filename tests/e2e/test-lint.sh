#!/bin/bash
# The lint of the tree (tests/lint.sh) is itself tested: on a copy of the
# sources it passes, and each kind of fault planted in the copy makes it
# fail with a line naming the file: an include pointing up a floor, one
# between two capability folders, one into cmd/ from below, a spelling
# not from the top of the tree, a .c file that does not start with
# compat.h, a banned call, and two statements on one line.
source "$(dirname "$0")/../functions.sh"
t=$(mktmpdir)
top=$(cd "$TESTS_DIR/.." && pwd)

fresh () {
    rm -rf "$t/tree"
    mkdir -p "$t/tree"
    (cd "$top" && tar cf - Makefile ferry.c tests/lint.sh \
        $(make --no-print-directory -s print-floors | tr ' ' '\n' |
          while read -r d; do [ -d "$d" ] && echo "$d"; done) cmd) |
        tar xf - -C "$t/tree"
}

# lint_fails REGEXP: lint on the planted tree must fail and say REGEXP.
lint_fails () {
    local out rc=0
    out=$(bash "$t/tree/tests/lint.sh" "$t/tree" 2>&1) || rc=$?
    [ "$rc" -ne 0 ] || fail "lint passed a tree with a planted fault ($1)"
    echo "$out" | grep -Eq -- "$1" || fail "lint did not say /$1/: $out"
}

fresh
out=$(bash "$t/tree/tests/lint.sh" "$t/tree") || fail "lint fails on a copy of the tree: $out"
[ "$out" = "lint: ok" ] || fail "lint on the clean copy said: $out"

# lib/ includes a capability folder: upward.
sed -i '0,/^#include "lib\/common\/error.h"/s//&\n#include "p2v\/capture.h"/' \
    "$t/tree/lib/image/raw.c"
grep -q '"p2v/capture.h"' "$t/tree/lib/image/raw.c" || fail "could not plant the include"
lint_fails '^lib/image/raw.c:[0-9]+: lib/image/ \(floor 1\) must not include p2v/capture.h'

# ova/ includes lib/guest: down, allowed; lib/image includes lib/guest: up.
fresh
printf '#include "lib/guest/session.h"\n' >> "$t/tree/lib/image/raw.c"
lint_fails '^lib/image/raw.c:[0-9]+: .*must not include lib/guest/session.h'

# Capability folders never include each other (clone/ next to p2v/).
fresh
mkdir -p "$t/tree/clone"
printf '/* x.c: planted */\n#include "lib/common/compat.h"\n#include "p2v/agent.h"\n' \
    > "$t/tree/clone/x.c"
lint_fails '^clone/x.c:3: clone/ \(floor 4\) must not include p2v/agent.h'

# Only ferry.c and cmd/ include cmd/.
fresh
printf '#include "cmd/cmd.h"\n' >> "$t/tree/ova/vm.c"
lint_fails '^ova/vm.c:[0-9]+: ova/ .*must not include cmd/cmd.h'

# One include spelling: from the top of the tree.
fresh
sed -i 's|#include "lib/common/error.h"|#include "error.h"|' "$t/tree/lib/common/json.c"
lint_fails '^lib/common/json.c:[0-9]+: include "error.h" is not spelled from the top'

# compat.h first (it brings banned.h).
fresh
sed -i '/#include "lib\/common\/compat.h"/d' "$t/tree/lib/common/json.c"
lint_fails '^lib/common/json.c:1: the first #include must be "lib/common/compat.h"'

# A banned call, even in a file that includes banned.h.
fresh
printf 'void f (char *a) { strcpy (a, "x"); }\n' >> "$t/tree/lib/common/json.c"
lint_fails '^lib/common/json.c:[0-9]+: banned call strcpy\(\)'

# One statement per line (a for header and a struct on one line pass).
fresh
printf 'static void g (int *a) {\n  for (int i = 0; i < 2; i++)\n    a[i] = 0;\n}\nstruct pt { int x; int y; };\n' \
    >> "$t/tree/lib/common/json.c"
out=$(bash "$t/tree/tests/lint.sh" "$t/tree" 2>&1) || fail "lint refused a for header or a one-line struct: $out"
printf 'static void h (int *a) {\n  a[0] = 1; a[1] = 2;\n}\n' >> "$t/tree/lib/common/json.c"
lint_fails '^lib/common/json.c:[0-9]+: one statement per line'
echo ok
