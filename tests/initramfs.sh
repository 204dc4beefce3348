# shellcheck shell=bash
# initramfs.sh: what a guest's initramfs images can load, read with the
# guest's own tools (unmkinitramfs, modprobe) inside the libguestfs
# appliance.  Sourced by end-to-end tests, after functions.sh:
#
#   initrd_inventory -k "$src" "$t/old"             # source (+ its kernel)
#   initrd_inventory "$t/out.qcow2" "$t/new" $(initrd_files "$t/old") virtio_blk
#   initrd_compare "$t/old" "$t/new" || fail "..."
#
# initrd_inventory [-k] IMAGE DIR [MODULE...]
#   Opens IMAGE on a throwaway qcow2 overlay (IMAGE is never written) and,
#   for each /boot/initrd.img-* of the guest (NAME: its file name), unpacks
#   its cpio archives with the guest's own tool (initramfs-tools:
#   unmkinitramfs; dracut: lsinitrd --unpackearly and --unpack), laid over
#   each other in boot order (early*, then main: a later file replaces an
#   earlier one, as the kernel does), then writes:
#     DIR/NAME.files     the modules present as files (*.ko, *.ko.xz,
#                        *.ko.zst...) anywhere in the merged tree
#     DIR/NAME.dep       the modules that the merged tree's modules.dep lists
#     DIR/NAME.probe     for each MODULE: "name ok" when the guest's own
#                        modprobe resolves it and its dependencies in the
#                        merged tree (binary indexes: what the initramfs
#                        really uses) to files that are there, else
#                        "name FAIL: why"
#     DIR/NAME.layout    each cpio archive with its count of module files
#                        and its modules.dep, then the kernel version
#   Module names are file names less .ko and the compression suffix, with
#   '-' read as '_' (as modprobe does), one per line, sorted.
#   DIR/images lists the NAMEs; DIR/initrd names the one the guest boots
#   (the last by name that is not a *.pre-ferry backup).  -k also downloads
#   it and its kernel to DIR/initrd.img and DIR/vmlinuz (for qemu
#   -kernel/-initrd).
#   An IMAGE that is a cached test guest (IMAGE.key beside it, see
#   guests.sh) has its inventory cached in IMAGE.initrd/, keyed by the
#   image's key, this inventory script and the arguments: the source side
#   of every conversion test pays its appliance run once.
#
# initrd_files DIR: the module names of DIR/initrd's image (for the probe
#   list of the next inventory).
#
# initrd_compare OLD NEW: every module OLD's image had as a file is still a
#   file in NEW's, listed in its modules.dep and loadable by modprobe;
#   prints one line per problem (naming the modules) and returns 1 if any.

_initrd_script () {
    cat <<'SH'
set -eu
export LC_ALL=C
if command -v unmkinitramfs >/dev/null; then
    tool=initramfs-tools
elif command -v lsinitrd >/dev/null; then
    tool=dracut
else
    echo "the guest has neither unmkinitramfs (initramfs-tools) nor lsinitrd (dracut)" >&2
    exit 1
fi
boot=$1
shift
# The modules to probe come in a file (a guestfish command line is too
# short for a distribution initramfs's 800 modules).
probe=$(cat "$1")
out=/tmp/ferry-initrd
rm -rf "$out"
mkdir -p "$out/x" "$out/m"
norm () { sed -e 's,.*/,,' -e 's/[.]ko\([.][a-z0-9]*\)\{0,1\}$//' -e 's/-/_/g'; }
for i in /boot/initrd.img-*; do
    n=${i##*/}
    rm -rf "$out/x" "$out/m"
    mkdir -p "$out/x" "$out/m"
    if [ "$tool" = dracut ]; then
        # lsinitrd: the early (uncompressed) archive, then the main one;
        # each listed as unmkinitramfs -v does (".", then paths).
        mkdir -p "$out/x/early" "$out/x/main"
        (cd "$out/x/early" && lsinitrd --unpackearly "$i") > "$out/v" 2>&1 ||
            { cat "$out/v" >&2; exit 1; }
        (cd "$out/x/main" && lsinitrd --unpack "$i") > "$out/v" 2>&1 ||
            { cat "$out/v" >&2; exit 1; }
        : > "$out/v"
        for s in early main; do
            if [ -n "$(ls -A "$out/x/$s")" ]; then
                (cd "$out/x/$s" && find . | sed 's,^[.]/,,') >> "$out/v"
            else
                rmdir "$out/x/$s"
            fi
        done
    else
        unmkinitramfs -v "$i" "$out/x" > "$out/v" 2>&1 ||
            { cat "$out/v" >&2; exit 1; }
    fi
    # Where things are: the verbose listing names each archive's files,
    # each archive starting with ".".
    awk -v n="$n" '
        $0 == "." { a++ }
        /[.]ko([.][a-z0-9]+)?$/ { ko[a]++ }
        /modules[.]dep$/ { dep[a] = dep[a] " " $0 }
        END { for (i = 1; i <= a; i++)
                  printf "L %s archive %d of %d: %d module files; modules.dep:%s\n",
                         n, i, a, ko[i], (i in dep) ? dep[i] : " none" }' "$out/v"
    # Debian 12's unmkinitramfs unpacks early archives to early, early2...
    # and the rest to main; Debian 13's unpacks them all in place, in order.
    if [ -d "$out/x/main" ]; then
        for s in $(cd "$out/x" && ls -d early* main); do cp -a "$out/x/$s/." "$out/m/"; done
    else
        rmdir "$out/m"
        mv "$out/x" "$out/m"
    fi
    find "$out/m" -name '*.ko*' -type f | norm | sort -u | sed "s/^/F $n /"
    dep=$(find "$out/m" -name modules.dep | head -n 1)
    if [ -n "$dep" ]; then
        sed -n 's/^\([^:]*\):.*/\1/p' "$dep" | norm | sort -u | sed "s/^/D $n /"
    fi
    kver=$(basename "$(dirname "${dep:-/x/none}")")
    echo "L $n kernel $kver"
    for m in $probe; do
        if r=$(modprobe -d "$out/m" -S "$kver" --show-depends --ignore-install "$m" 2>&1); then
            miss=$(echo "$r" | sed -n 's/^insmod \([^ ]*\).*/\1/p' |
                   while read -r f; do [ -e "$f" ] || echo "${f##*/}"; done | tr '\n' ' ')
            if [ -z "$miss" ]; then echo "P $n $m ok"; else echo "P $n $m FAIL: files missing: $miss"; fi
        else
            echo "P $n $m FAIL: $(echo "$r" | tail -n 1)"
        fi
    done
    case $n in *.pre-ferry) ;; *) newest=$n; nkver=$kver ;; esac
done
echo "I ${newest:-}"
if [ "$boot" = 1 ] && [ -n "${newest:-}" ]; then
    cp "/boot/$newest" "$out/initrd.img"
    cp "/boot/vmlinuz-$nkver" "$out/vmlinuz"
fi
rm -rf "$out/x" "$out/m"
SH
}

initrd_inventory () {
    local boot=0
    if [ "${1:-}" = -k ]; then boot=1; shift; fi
    local image=$1 dir=$2 fmt ovl ck= cache=
    shift 2
    mkdir -p "$dir"
    if [ -f "$image.key" ]; then
        cache=$image.initrd
        ck="$(cat "$image.key") $(_initrd_script | sha256sum | cut -c1-16) $boot $*"
        if [ "$(cat "$cache/key" 2>/dev/null)" = "$ck" ]; then
            cp -a "$cache/." "$dir/"
            rm -f "$dir/key"
            echo "initramfs of $(basename "$image"): cached in $cache" >&2
            _initrd_summary "$dir"
            return 0
        fi
    fi
    fmt=$(qemu-img info -U "$image" | awk -F': ' '/^file format:/ { print $2; exit }')
    ovl=$dir/overlay.qcow2
    qemu-img create -q -f qcow2 -b "$(cd "$(dirname "$image")" && pwd)/$(basename "$image")" \
        -F "$fmt" "$ovl"
    _initrd_script > "$dir/inventory.sh"
    printf '%s\n' "$@" > "$dir/probe.list"
    {
        echo "upload $dir/inventory.sh /tmp/ferry-inventory.sh"
        echo "upload $dir/probe.list /tmp/ferry-probe.list"
        echo "sh \"/bin/sh /tmp/ferry-inventory.sh $boot /tmp/ferry-probe.list\""
        if [ "$boot" = 1 ]; then
            echo "download /tmp/ferry-initrd/vmlinuz $dir/vmlinuz"
            echo "download /tmp/ferry-initrd/initrd.img $dir/initrd.img"
        fi
    } > "$dir/inventory.gf"
    guestfish --rw -a "$ovl" -i -f "$dir/inventory.gf" > "$dir/inventory.out" ||
        fail "initrd_inventory: guestfish failed on '$image': $(tail -n 3 "$dir/inventory.out")"
    rm -f "$ovl"
    awk -v d="$dir" '
        $1 == "L" && !seen[$2]++ { print $2 > (d "/images") }
        $1 == "F" { print $3 > (d "/" $2 ".files") }
        $1 == "D" { print $3 > (d "/" $2 ".dep") }
        $1 == "P" { n = $2; $1 = ""; $2 = ""; sub(/^  /, ""); print > (d "/" n ".probe") }
        $1 == "L" { n = $2; $1 = ""; $2 = ""; sub(/^  /, ""); print > (d "/" n ".layout") }
        $1 == "I" { print $2 > (d "/initrd") }' "$dir/inventory.out"
    [ -s "$dir/initrd" ] || fail "initrd_inventory: no initramfs in '$image': $(cat "$dir/inventory.out")"
    local n
    n=$(cat "$dir/initrd")
    touch "$dir/$n.files" "$dir/$n.dep" "$dir/$n.probe"
    if [ -n "$cache" ]; then
        # Published by rename; a concurrent test may win (mv -T fails).
        rm -rf "$cache.tmp.$$"
        cp -a "$dir" "$cache.tmp.$$" && echo "$ck" > "$cache.tmp.$$/key" &&
            rm -f "$cache.tmp.$$/inventory.out" && { rm -rf "$cache"; mv -T "$cache.tmp.$$" "$cache" 2>/dev/null; } ||
            rm -rf "$cache.tmp.$$"
    fi
    echo "initramfs of $(basename "$image"):" >&2
    _initrd_summary "$dir"
}

_initrd_summary () {
    local dir=$1 n
    while read -r n; do
        sed "s/^/  $n: /" "$dir/$n.layout" >&2
        echo "  $n: $(wc -l < "$dir/$n.files") module files, $(wc -l < "$dir/$n.dep" 2>/dev/null || echo 0) in modules.dep" >&2
    done < "$dir/images"
}

initrd_files () { cat "$1/$(cat "$1/initrd").files"; }

initrd_compare () {
    local old new bad=0 lost
    old=$1/$(cat "$1/initrd") new=$2/$(cat "$2/initrd")
    lost=$(comm -23 "$old.files" "$new.files" | tr '\n' ' ')
    if [ -n "$lost" ]; then echo "modules lost from the image: $lost"; bad=1; fi
    lost=$(comm -23 "$old.files" <(sort -u "$new.dep") | tr '\n' ' ')
    if [ -n "$lost" ]; then echo "modules missing from modules.dep: $lost"; bad=1; fi
    lost=$(grep -v ' ok$' "$new.probe" | cut -d' ' -f1 | tr '\n' ' ' || true)
    if [ -n "$lost" ]; then
        echo "modprobe cannot load: $lost(first: $(grep -v ' ok$' "$new.probe" | head -n 1))"
        bad=1
    fi
    return "$bad"
}

# initrd_prove OLD_IMAGE NEW_IMAGE DIR [MODULE...]: the module-by-module
# proof of a conversion in one call: inventories of both images in DIR/old
# and DIR/new (OLD_IMAGE's cached when it is a test guest), the new one
# probing every module the old image had plus MODULE... (the target's
# drivers); fails the test naming what was lost.
initrd_prove () {
    local old=$1 new=$2 dir=$3 cmp
    shift 3
    initrd_inventory "$old" "$dir/old"
    mapfile -t _oldmods < <(initrd_files "$dir/old")
    initrd_inventory "$new" "$dir/new" "${_oldmods[@]}" "$@"
    cmp=$(initrd_compare "$dir/old" "$dir/new") ||
        fail "initramfs of $(basename "$new") against $(basename "$old"): $cmp"
    echo "initramfs: all $(wc -l < "$dir/old/$(cat "$dir/old/initrd").files") modules of the source still load, and $*"
}
