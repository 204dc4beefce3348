#!/bin/bash
# lint.sh: the checks the compiler cannot make (run by `make lint`).
#
#   1. No banned calls (strcpy, strcat, sprintf, vsprintf, strtok, gets) in
#      lib/ p2v/ cmd/ ferry.c: banned.h only catches files that include it.
#      Comments and string literals are ignored; snprintf, strtok_r, fgets
#      and friends are different words and pass.
#   2. Every .c file there starts with a purpose comment: "/* name.c: ...".
#
# Prints file:line: message for each problem and exits 1, else "lint: ok".
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

BANNED='strcpy|strcat|sprintf|vsprintf|strtok|gets'

# All .c/.h files in scope, NUL-separated, sorted for stable output.
sources () {
    { find lib p2v cmd -type f \( -name '*.c' -o -name '*.h' \) -print0 \
           2>/dev/null
      [ -f ferry.c ] && printf '%s\0' ferry.c
    } | sort -z
}

# Report banned calls in one file, outside comments and literals.
check_banned () {
    awk -v file="$1" -v banned="$BANNED" '
    BEGIN { re = "(^|[^A-Za-z0-9_])(" banned ")[ \t]*\\("; incomment = 0 }
    {
        line = $0; out = ""; i = 1; n = length(line)
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
    fi
done < <(sources)

if [ "$status" -ne 0 ]; then
    echo "lint: FAILED" >&2
    exit 1
fi
echo "lint: ok"
