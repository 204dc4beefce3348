#!/bin/bash
# The bash completion (completion/ferry.bash) driven as bash drives it
# (COMP_WORDS, COMP_CWORD, COMP_LINE, COMP_POINT, then the function that
# `complete -p ferry` names), with bash-completion loaded and without it:
# the command names, a command's options, an option's choices (also in
# the --opt=value form), files for a file argument and for operands,
# directories for a DIR argument, nothing for a number, and -- so that it
# cannot drift -- every option of every command in ferry's own tables.
source "$(dirname "$0")/../functions.sh"
export LC_ALL=C     # the sort of the candidates
top=$(cd "$TESTS_DIR/.." && pwd)
t=$(mktmpdir)

# `ferry` on PATH is the binary under test.
mkdir "$t/bin" "$t/files" "$t/files/abdir"
ln -s "$FERRY" "$t/bin/ferry"
: >"$t/files/abc.vhd"
: >"$t/files/abd.ova"

# The driver: `comp LINE` prints the sorted candidates for the end of LINE,
# its words split as bash splits them (COMP_WORDBREAKS: "--to=li" is the
# three words "--to" "=" "li").
cat >"$t/driver.sh" <<'EOF'
[ "$1" = with ] && source /usr/share/bash-completion/bash_completion
source "$2"
spec=$(complete -p ferry) || exit 1
[ "$spec" = "complete -F _ferry ferry" ] || { echo "spec: $spec" >&2; exit 1; }
comp () {
    local line=$1
    COMP_LINE=$line
    COMP_POINT=${#line}
    read -ra COMP_WORDS <<<"${line//=/ = }"
    [[ $line == *[\ =] ]] && COMP_WORDS+=("")
    COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
    COMPREPLY=()
    _ferry ferry "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
    printf '%s\n' "${COMPREPLY[@]}" | sed '/^$/d' | sort | tr '\n' ' ' | sed 's/ $//'
    echo
}
while IFS= read -r line; do comp "$line"; done
EOF

# run MODE LINE...: one line of candidates per LINE.
run () {
    local mode=$1
    shift
    printf '%s\n' "$@" | (cd "$t/files" && PATH="$t/bin:$PATH" \
        bash "$t/driver.sh" "$mode" "$top/completion/ferry.bash")
}

# expect MODE LINE WANT: the candidates for LINE are exactly WANT.
expect () {
    local got
    got=$(run "$1" "$2") || fail "$1: the completion does not load"
    [ "$got" = "$3" ] || fail "$1: '$2<Tab>' gives '$got', not '$3'"
}

commands=$("$FERRY" --list-commands | cut -f1 | sort | tr '\n' ' ')
modes=(without)
[ -f /usr/share/bash-completion/bash_completion ] && modes+=(with)
for m in "${modes[@]}"; do
    expect "$m" "ferry " "--help --version ${commands% }"
    expect "$m" "ferry co" "convert copy"
    expect "$m" "ferry export --fl" "--flavour"
    expect "$m" "ferry export --flavour " "virtualbox vmware xenserver"
    expect "$m" "ferry export --flavour v" "virtualbox vmware"
    expect "$m" "ferry capture -q -O q" "qcow2"
    expect "$m" "ferry import pkg.ova --to=li" "libvirt"
    expect "$m" "ferry clone --cow " "auto full qcow2 reflink vhd"
    expect "$m" "ferry import --to=" "hyperv libvirt raw virtualbox vmware xen"
    expect "$m" "ferry info ab" "abc.vhd abd.ova abdir"
    expect "$m" "ferry import --to raw abd" "abd.ova abdir"
    expect "$m" "ferry export --sign ab" "abc.vhd abd.ova abdir"
    expect "$m" "ferry clone -o ab" "abdir"
    expect "$m" "ferry export --cpus " ""
    expect "$m" "ferry nosuchcommand -" ""

    # Every option of every command's table, long and short.
    lines=() wants=()
    while IFS= read -r cmd; do
        lines+=("ferry $cmd -")
        wants+=("$("$FERRY" "$cmd" --list-options |
            awk -F'\t' '$1 != "-" { print $1 } $2 != "-" { print $2 }' |
            sort | tr '\n' ' ' | sed 's/ $//')")
    done < <("$FERRY" --list-commands | cut -f1)
    mapfile -t got < <(run "$m" "${lines[@]}")
    [ "${#got[@]}" -eq "${#lines[@]}" ] || fail "$m: ${#got[@]} answers for ${#lines[@]} commands"
    for i in "${!lines[@]}"; do
        [ "${got[i]}" = "${wants[i]}" ] ||
            fail "$m: '${lines[i]}<Tab>' gives '${got[i]}', not '${wants[i]}'"
        [ -n "${got[i]}" ] || fail "$m: '${lines[i]}<Tab>' gives nothing"
    done
    echo "$m bash-completion: ${#lines[@]} commands' options complete"
done
echo ok
