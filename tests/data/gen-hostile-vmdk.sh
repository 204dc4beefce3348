#!/bin/bash
# gen-hostile-vmdk.sh DIR: write small hostile VMDK files into DIR, each
# named for what is wrong with it (tests/data/hostile-vmdk.expect says which
# error each must produce), plus valid-stream.vmdk, the well-formed image
# they are all variations of.
#
# The base image is a canonical VMware stream of 1 MiB (2048 sectors):
#   0 header (gdOffset = all ones)   1-20 descriptor
#   21 grain 0: marker + zlib stream of 64 KiB of 0x55
#   22 GT marker, 23-26 GT           27 GD marker, 28 GD
#   29 footer marker, 30 footer (gdOffset = 28), 31 end-of-stream
set -euo pipefail

dir=${1:?usage: gen-hostile-vmdk.sh DIR}
mkdir -p "$dir"

bytes () { local b; for b in "$@"; do printf "\\x$(printf %02x "$b")"; done; }
le16 () { bytes $(( $1 & 255 )) $(( $1 >> 8 & 255 )); }
le32 () { bytes $(( $1 & 255 )) $(( $1 >> 8 & 255 )) $(( $1 >> 16 & 255 )) $(( $1 >> 24 & 255 )); }
le64 () { le32 $(( $1 & 0xffffffff )); le32 $(( $1 >> 32 & 0xffffffff )); }
hex () { local h=$1 i; for (( i = 0; i < ${#h}; i += 2 )); do printf "\\x${h:i:2}"; done; }
zeros () { head -c "$1" /dev/zero; }
# put FILE SECTOR < data
put () { dd of="$1" bs=512 seek="$2" conv=notrunc status=none; }

# Header fields; a variant overrides some of these before calling build.
set_defaults () {
    MAGIC=KDMV VERSION=3 FLAGS=$(( 0x30001 )) CAPACITY=2048 GRAIN=128
    DESC_OFF=1 DESC_SIZE=20 GTES=512 GD_AT_END=-1 GD=28 OVERHEAD=21
    NL_MODE=good COMPRESS=1
    EXTENT_SECTORS=$CAPACITY PARENT=ffffffff
    GD_ENTRY=23 GD_ENTRY2=0 GT_ENTRY=21 MARKER_LBA=0
    GRAIN_DATA=55aa     # tag: the 85-byte zlib stream of 64 KiB of 0x55
}

header () {     # header GD_OFFSET
    printf '%s' "$MAGIC"; le32 "$VERSION"; le32 "$FLAGS"; le64 "$CAPACITY"
    le64 "$GRAIN"; le64 "$DESC_OFF"; le64 "$DESC_SIZE"; le32 "$GTES"
    le64 0; le64 "$1"; le64 "$OVERHEAD"; bytes 0
    # Check bytes; a text-mode transfer turns "\r\n" into "\n\n".
    case $NL_MODE in good) printf '\n \r\n' ;; *) printf '\n \n\n' ;; esac
    le16 "$COMPRESS"; zeros 433
}

descriptor () {
    printf '# Disk DescriptorFile\nversion=1\nCID=1234abcd\nparentCID=%s\n' "$PARENT"
    printf 'createType="streamOptimized"\n\n# Extent description\n'
    printf 'RW %s SPARSE "valid-stream.vmdk"\n\n# The Disk Data Base\n#DDB\n\n' "$EXTENT_SECTORS"
    printf 'ddb.adapterType = "lsilogic"\nddb.virtualHWVersion = "4"\n'
}

grain_data () {
    case $GRAIN_DATA in
        55aa)    hex 78daedc181000000008020cafd5516a90a; zeros 63; hex 6a27e704fc ;;
        # 256 KiB of zeros in 277 bytes: four times what a grain may hold.
        bomb)    hex 78daedc13101000000c2a0f54fed6d07a0; zeros 254; hex de00003c0001 ;;
        garbage) head -c 85 /dev/zero | tr '\0' 'Z' ;;
    esac
}

grain_size_field () { case $GRAIN_DATA in bomb) echo 277 ;; *) echo 85 ;; esac; }

marker () { le64 "$1"; le32 0; le32 "$2"; zeros 496; }   # NUM_SECTORS TYPE

build () {
    local f=$1
    rm -f "$f"
    header "$GD_AT_END" | put "$f" 0
    descriptor | put "$f" 1
    zeros 512 | put "$f" 20
    { le64 "$MARKER_LBA"; le32 "${MARKER_SIZE:-$(grain_size_field)}"; grain_data; } | put "$f" 21
    marker 4 1 | put "$f" 22
    { le32 "$GT_ENTRY"; zeros 2044; } | put "$f" 23
    marker 1 2 | put "$f" 27
    { le32 "$GD_ENTRY"; le32 "$GD_ENTRY2"; zeros 504; } | put "$f" 28
    marker 1 3 | put "$f" 29
    header "$GD" | put "$f" 30
    marker 0 0 | put "$f" 31
}

variant () {    # variant NAME [VAR=VALUE ...]
    local name=$1; shift
    ( set_defaults; local kv; for kv in "$@"; do eval "$kv"; done; build "$dir/$name" )
}

variant valid-stream.vmdk
variant bad-version.vmdk VERSION=99
variant grain-size-not-pow2.vmdk GRAIN=100
variant capacity-absurd.vmdk 'CAPACITY=$(( 1 << 60 ))'
variant descriptor-size-absurd.vmdk 'DESC_SIZE=$(( 1 << 40 ))'
variant gtes-per-gt-huge.vmdk 'GTES=$(( 1 << 30 ))'
variant text-mode-damaged.vmdk NL_MODE=damaged
variant compress-algo-unknown.vmdk COMPRESS=7
variant gd-past-eof.vmdk GD=1000000
variant gt-past-eof.vmdk GD_ENTRY=1000000
variant gte-past-eof.vmdk GT_ENTRY=1000000
# 64 MiB needs two grain tables; both entries name the same one.
variant gt-overlap.vmdk CAPACITY=131072 EXTENT_SECTORS=131072 GD_ENTRY2=23
variant marker-size-huge.vmdk 'MARKER_SIZE=$(( 0x7fffffff ))'
variant marker-lba-wrong.vmdk MARKER_LBA=128
variant zlib-bomb.vmdk GRAIN_DATA=bomb
variant zlib-garbage.vmdk GRAIN_DATA=garbage
variant capacity-mismatch.vmdk EXTENT_SECTORS=4096
variant embedded-parent.vmdk PARENT=0badcafe

# Truncations: inside the header, and a stream cut before its footer.
head -c 300 "$dir/valid-stream.vmdk" > "$dir/truncated-header.vmdk"
head -c $(( 24 * 512 )) "$dir/valid-stream.vmdk" > "$dir/truncated-stream.vmdk"

# Text descriptors: two extents; a delta disk; an extent that is not VMDK.
desc_file () {  # desc_file NAME EXTENT_LINES [EXTRA]
    printf '# Disk DescriptorFile\nversion=1\nCID=1234abcd\nparentCID=ffffffff\n' > "$dir/$1"
    printf 'createType="monolithicFlat"\n%s\n%s' "$2" "${3:-}" >> "$dir/$1"
}
truncate -s 1M "$dir/descfile-flat.bin"
desc_file descfile-two-extents.vmdk $'RW 2048 FLAT "descfile-flat.bin" 0\nRW 2048 FLAT "descfile-flat.bin" 0'
desc_file descfile-delta.vmdk 'RW 2048 FLAT "descfile-flat.bin" 0' $'parentFileNameHint="base.vmdk"\n'
desc_file descfile-escapes.vmdk 'RW 2048 FLAT "../../etc/passwd" 0'
desc_file descfile-flat-short.vmdk 'RW 4096 FLAT "descfile-flat.bin" 0'
head -c 512 /dev/urandom | { printf 'XXXX'; tail -c 508; } > "$dir/descfile-bad-magic-s001.bin"
desc_file descfile-bad-magic.vmdk 'RW 2048 SPARSE "descfile-bad-magic-s001.bin"'
