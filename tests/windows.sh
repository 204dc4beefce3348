# windows.sh: reading a converted phony Windows guest back on the host
# (no mount: ntfscat, hivexget), for the Windows conversion tests.
# Sourced after functions.sh; $t is the test's scratch directory.
#
#   fetch IMAGE NAME        the image's first (NTFS) partition as
#                           $t/NAME.ntfs, its hives as $t/NAME.SYSTEM and
#                           $t/NAME.SOFTWARE
#   val HIVE KEY VALUE EXPECTED   the registry value must be EXPECTED

fetch () {
    local start
    qemu-img check -q "$1" || fail "qemu-img check $1"
    qemu-img info "$1" | grep -q '^backing file' && fail "$1 has a backing file"
    qemu-img convert -O raw "$1" "$t/$2.raw"
    start=$(sfdisk -J "$t/$2.raw" | python3 -c \
        'import json,sys; print(json.load(sys.stdin)["partitiontable"]["partitions"][0]["start"])')
    dd if="$t/$2.raw" of="$t/$2.ntfs" bs=512 skip="$start" status=none
    rm -f "$t/$2.raw"
    ntfscat "$t/$2.ntfs" /Windows/System32/config/SYSTEM > "$t/$2.SYSTEM"
    ntfscat "$t/$2.ntfs" /Windows/System32/config/SOFTWARE > "$t/$2.SOFTWARE"
}

val () {
    local got
    got=$(hivexget "$1" "$2" "$3") || fail "$2\\$3 missing in $1"
    [ "$got" = "$4" ] || fail "$2\\$3 is '$got' in $1, expected '$4'"
}
