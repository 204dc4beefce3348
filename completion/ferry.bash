# ferry.bash: bash completion for ferry, asked of ferry itself at each Tab.
#
# Installed as /usr/share/bash-completion/completions/ferry (the package,
# `make install PREFIX=/usr`) or $PREFIX/share/bash-completion/completions/
# ferry, where bash-completion loads it on first use.  It holds no command
# or option names: the commands come from `ferry --list-commands` (name TAB
# summary) and a command's options from `ferry CMD --list-options`, the
# table the command parses (cmd/options.h: "--LONG" or "-", "-S" or "-",
# the argument name or "-", the choices joined by "," or "-"), so a new
# command or option completes with no change here.
#
#   ferry <Tab>                  the commands
#   ferry CMD -<Tab>             CMD's options
#   ferry CMD --to <Tab>         the option's choices (also --to=<Tab>)
#   ferry CMD -o <Tab>           files (directories for a DIR argument);
#                                nothing for numbers, names and URIs
#   ferry CMD <Tab>              files (the operands are images, disks and
#                                packages)

# _ferry_files [-d]: files (or directories) matching $cur, with
# bash-completion's _filedir when it is loaded.
_ferry_files ()
{
    if declare -F _filedir >/dev/null; then
        _filedir "$@"
    elif [ "${1:-}" = -d ]; then
        mapfile -t COMPREPLY < <(compgen -d -- "$cur")
    else
        mapfile -t COMPREPLY < <(compgen -f -- "$cur")
    fi
}

_ferry ()
{
    local cur prev words cword split=false
    if declare -F _init_completion >/dev/null; then
        _init_completion -s || return
    else
        cur=${COMP_WORDS[COMP_CWORD]}
        prev=${COMP_WORDS[COMP_CWORD - 1]}
        words=("${COMP_WORDS[@]}")
        cword=$COMP_CWORD
        # bash splits "--to=li" into "--to" "=" "li".
        if [ "$prev" = = ] && [[ ${words[cword - 2]} == --* ]]; then
            prev=${words[cword - 2]}
            split=true
        elif [ "$cur" = = ] && [[ $prev == --* ]]; then
            cur=
            split=true
        fi
    fi
    local ferry=${words[0]} cmd= i
    COMPREPLY=()

    # The command: the first word after ferry that is not an option.
    for ((i = 1; i < cword; i++)); do
        if [[ ${words[i]} != -* ]]; then
            cmd=${words[i]}
            break
        fi
    done
    if [ -z "$cmd" ]; then
        mapfile -t COMPREPLY < <(compgen -W "$("$ferry" --list-commands 2>/dev/null |
            cut -f1) --help --version" -- "$cur")
        return
    fi

    local table long short arg choices
    table=$("$ferry" "$cmd" --list-options 2>/dev/null) || return

    # The word before is an option taking an argument: its value.
    if [[ $prev == -* ]]; then
        while IFS=$'\t' read -r long short arg choices; do
            [ "$prev" = "$long" ] || [ "$prev" = "$short" ] || continue
            [ "$arg" = - ] && break            # a flag: fall through
            if [ "$choices" != - ]; then
                mapfile -t COMPREPLY < <(compgen -W "${choices//,/ }" -- "$cur")
            else
                case $arg in
                    DIR) _ferry_files -d ;;
                    N|MIB|NAME|S|PATTERN|K/N|URI|STRING|*=*|*,*|\[*) ;;
                    *) _ferry_files ;;
                esac
            fi
            return
        done <<<"$table"
    fi
    $split && return

    if [[ $cur == -* ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$(awk -F'\t' '
            $1 != "-" { print $1 } $2 != "-" { print $2 }' <<<"$table")" -- "$cur")
        return
    fi
    _ferry_files
}
complete -F _ferry ferry
