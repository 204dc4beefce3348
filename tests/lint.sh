#!/bin/bash
# lint.sh: the checks the compiler cannot make (run by `make lint`).
#
#   1. No banned calls (strcpy, strcat, sprintf, vsprintf, strtok, gets) in
#      lib/ p2v/ cmd/ ferry.c: banned.h only catches files that include it.
#      Comments and string literals are ignored; snprintf, strtok_r, fgets
#      and friends are different words and pass.
#   2. Every .c file there starts with a purpose comment: "/* name.c: ...",
#      and its first #include is "lib/common/compat.h" (which brings
#      banned.h to every file, as git's git-compat-util.h does).
#   3. Include arrows point down.  The floors come from the Makefile (`make
#      print-floors`, ground first): a file includes only headers of its own
#      folder or of folders on lower floors, so nothing in lib/ includes a
#      capability folder, capabilities (p2v/, v2p/, clone/) never include
#      each other, and only ferry.c and cmd/ include cmd/.  Includes are
#      spelled from the top of the tree; a spelling that names no folder of
#      the list is refused too.
#   4. One statement per line: no code after a ';' that ends a statement
#      (for (;;) headers, comments and literals aside).
#
#   tests/lint.sh [ROOT]      ROOT: the tree to check (default: this one)
#
# Prints file:line: message for each problem and exits 1, else "lint: ok".
set -uo pipefail
cd "${1:-$(dirname "$0")/..}" || exit 1

# Floor of each folder, from the Makefile's one list.
declare -A floor
n=0
while IFS= read -r line; do
    for d in $line; do floor[$d]=$n; done
    n=$((n + 1))
done < <(make --no-print-directory -s print-floors)
if [ "${#floor[@]}" -eq 0 ]; then
    echo "lint: 'make print-floors' listed no folders" >&2
    exit 1
fi
top_floor=$((n - 1))

BANNED='strcpy|strcat|sprintf|vsprintf|strtok|gets'

# All .c/.h files in scope, NUL-separated, sorted for stable output.
sources () {
    local d
    { for d in "${!floor[@]}"; do
          [ -d "$d" ] && find "$d" -maxdepth 1 -type f \
                             \( -name '*.c' -o -name '*.h' \) -print0
      done
      [ -f ferry.c ] && printf '%s\0' ferry.c
    } | sort -z
}

# The folder of a file ("lib/image/vhd.c" -> lib/image), or "" for one
# outside every floor (ferry.c, which sits above them all).
folder_of () {
    local d=${1%/*}
    [ "$d" != "$1" ] && [ -n "${floor[$d]+x}" ] && echo "$d"
}

# Report includes that point up or sideways, or that are not spelled from
# the top of the tree.
check_includes () {
    local f=$1 from to lineno inc ff tf status=0
    from=$(folder_of "$f")
    ff=$((top_floor + 1))
    [ -n "$from" ] && ff=${floor[$from]}
    while IFS=: read -r lineno inc; do
        to=$(folder_of "$inc")
        if [ -z "$to" ] || [ ! -f "$inc" ]; then
            echo "$f:$lineno: include \"$inc\" is not spelled from the top of the tree (\"lib/common/error.h\", \"ova/vm.h\")"
            status=1
            continue
        fi
        [ "$to" = "$from" ] && continue
        tf=${floor[$to]}
        if [ "$tf" -ge "$ff" ]; then
            echo "$f:$lineno: $from/ (floor $ff) must not include $inc ($to/, floor $tf): includes point down (Makefile FLOOR*)"
            status=1
        fi
    done < <(grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f" |
             sed 's/^\([0-9]*\):.*"\(.*\)".*/\1:\2/')
    return $status
}

# Report a .c file whose first #include is not compat.h.
check_compat () {
    local first
    first=$(grep -m1 '^[[:space:]]*#[[:space:]]*include' "$1")
    if [[ "$first" != '#include "lib/common/compat.h"' ]]; then
        echo "$1:1: the first #include must be \"lib/common/compat.h\""
        return 1
    fi
}

# awk: each line of a C file with comments and string/char literals blanked
# out (the `code` variable), for the checks below.
STRIP='
BEGIN { incomment = 0 }
function strip(line,    out, i, n, c, c2, q) {
    out = ""; i = 1; n = length(line)
    while (i <= n) {
        c = substr(line, i, 1); c2 = substr(line, i, 2)
        if (incomment) {
            if (c2 == "*/") { incomment = 0; i += 2 } else i++
            continue
        }
        if (c2 == "/*") { incomment = 1; i += 2; out = out " "; continue }
        if (c2 == "//") break
        if (c == "\"" || c == "\047") {
            q = c; i++
            while (i <= n && substr(line, i, 1) != q)
                i += substr(line, i, 1) == "\\" ? 2 : 1
            i++; out = out " \"\" "; continue
        }
        out = out c; i++
    }
    return out
}
{ code = strip($0) }
'

# Report banned calls in one file, outside comments and literals.
check_banned () {
    awk -v file="$1" -v banned="$BANNED" "$STRIP"'
    {
        out = code
        re = "(^|[^A-Za-z0-9_])(" banned ")[ \t]*\\("
        while (match(out, re)) {
            name = substr(out, RSTART, RLENGTH)
            sub(/^[^A-Za-z_]/, "", name); sub(/[ \t]*\($/, "", name)
            printf "%s:%d: banned call %s() (see lib/common/banned.h)\n", \
                   file, NR, name
            bad = 1
            out = substr(out, RSTART + RLENGTH)
        }
    }
    END { exit bad }' "$1"
}

# Report a line holding code after a statement's ';' (outside parentheses,
# so for (;;) passes; preprocessor lines are skipped).
check_statements () {
    awk -v file="$1" "$STRIP"'
    /^[ \t]*#/ { macro = 1 }
    {
        if (macro) { macro = ($0 ~ /\\$/); next }
        # struct { int a; int b; } on one line declares, it does not run
        if (code ~ /(struct|union)[ \t]*[A-Za-z0-9_]*[ \t]*\{/) next
        depth = 0; n = length(code)
        for (i = 1; i <= n; i++) {
            c = substr(code, i, 1)
            if (c == "(") depth++
            else if (c == ")") depth--
            else if (c == ";" && depth == 0) {
                rest = substr(code, i + 1)
                if (rest !~ /^[ \t}]*$/) {
                    printf "%s:%d: one statement per line\n", file, NR
                    bad = 1
                    break
                }
            }
        }
    }
    END { exit bad }' "$1"
}

# Report a .c file whose first line is not a "/* ..." purpose comment.
check_purpose () {
    local first
    IFS= read -r first < "$1" || true
    if [[ "$first" != "/* "?* ]]; then
        echo "$1:1: missing purpose comment (\"/* $(basename "$1"): ...\")"
        return 1
    fi
}

status=0
while IFS= read -r -d '' f; do
    if [ "$f" != lib/common/banned.h ]; then
        check_banned "$f" || status=1
    fi
    if [[ "$f" == *.c ]]; then
        check_purpose "$f" || status=1
        check_compat "$f" || status=1
    fi
    check_includes "$f" || status=1
    check_statements "$f" || status=1
done < <(sources)

if [ "$status" -ne 0 ]; then
    echo "lint: FAILED" >&2
    exit 1
fi
echo "lint: ok"
