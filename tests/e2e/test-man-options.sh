#!/bin/bash
# Every command's option table (`ferry CMD --list-options`, the table the
# command parses with and prints --help from) and its man page's OPTIONS
# section name the same options, both ways: an option added to a command
# without its man page entry, or documented but gone, fails here.
source "$(dirname "$0")/../functions.sh"
top=$(cd "$TESTS_DIR/.." && pwd)

# The options a man page's OPTIONS section defines (the line after each
# .TP), one per line: --long or -S.
man_options () {
    awk '/^\.SH/ { sec = $0 } sec ~ /^\.SH OPTIONS/ && prev == ".TP" { print }
         { prev = $0 }' "$1" |
        sed -e 's/\\f[BIRP]//g' -e 's/\\-/-/g' |
        grep -oE '(^|[^A-Za-z0-9-])--?[A-Za-z][A-Za-z0-9-]*' |
        sed 's/^[^-]*//' | sort -u
}

# The options of the command's table, one per line, --help aside.
table_options () {
    "$FERRY" "$1" --list-options |
        awk -F'\t' '$1 != "--help" { if ($1 != "-") print $1; if ($2 != "-") print $2 }' |
        sort -u
}

checked=0
for man in "$top"/docs/ferry-*.1; do
    cmd=$(basename "$man" .1)
    cmd=${cmd#ferry-}
    table=$(table_options "$cmd") || fail "ferry $cmd --list-options failed"
    [ -n "$table" ] || fail "ferry $cmd --list-options listed nothing"
    doc=$(man_options "$man")
    [ -n "$doc" ] || fail "$man: no options found in its OPTIONS section"
    missing=$(comm -23 <(echo "$table") <(echo "$doc"))
    extra=$(comm -13 <(echo "$table") <(echo "$doc"))
    [ -z "$missing" ] || fail "$man does not document: $(echo $missing)"
    [ -z "$extra" ] || fail "$man documents options ferry $cmd does not have: $(echo $extra)"
    checked=$((checked + 1))
done
[ "$checked" -ge 9 ] || fail "only $checked man pages checked"
# --help is generated from the same table: every option is in it.
for cmd in agent capture check clone convert copy export import info; do
    help=$("$FERRY" "$cmd" --help)
    while IFS= read -r o; do
        grep -qE -- "(^|[ ,])$o([ ,]|$)" <<<"$help" || fail "ferry $cmd --help lacks $o"
    done < <(table_options "$cmd")
done
echo ok
