#!/bin/bash
# run.sh fuzz-X.c...: build each libFuzzer harness with clang (ASan+UBSan)
# and run it for $FUZZ_TIME seconds, seeded with the hostile corpus of its
# format (tests/data/gen-hostile-X.sh) and small valid images from qemu-img.
set -euo pipefail
cd "$(dirname "$0")/../.."
B=${B:-build/fuzz}
FUZZ_TIME=${FUZZ_TIME:-20}
mkdir -p "$B"
pkgs="zlib libdeflate libcrypto libxxhash libnbd libxml-2.0 libarchive json-c libntfs-3g"
srcs=${FUZZ_LIB:?run through make fuzz, which lists the library sources}
export FERRY=${FERRY:-$PWD/build/ferry}
failed=0
for h in "$@"; do
    name=$(basename "$h" .c)          # fuzz-vhd
    fmt=${name#fuzz-}
    bin=$B/$name
    echo "fuzz: building $bin"
    # A harness may name sources of its own: /* fuzz-sources: a.c b.c */
    extra=$(sed -n 's|^/\* fuzz-sources: \(.*\) \*/$|\1|p' "$h")
    clang -std=c11 -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -g -O1 \
        -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
        -I. -o "$bin" "$h" $srcs $extra $(pkg-config --cflags --libs $pkgs) -lpthread
    corpus=$B/corpus-$fmt
    rm -rf "$corpus"; mkdir -p "$corpus"
    if [ -x "tests/data/gen-seed-$fmt.sh" ]; then
        "tests/data/gen-seed-$fmt.sh" "$corpus" >/dev/null
    elif [ -x "tests/data/gen-hostile-$fmt.sh" ]; then
        "tests/data/gen-hostile-$fmt.sh" "$corpus" >/dev/null
    fi
    qfmt=$fmt; [ "$fmt" = vhd ] && qfmt=vpc
    truncate -s 1M "$B/seed.raw"; printf 'ferry' | dd of="$B/seed.raw" bs=1 seek=70000 conv=notrunc status=none
    qemu-img convert -f raw -O "$qfmt" "$B/seed.raw" "$corpus/valid-seed" 2>/dev/null || true
    rm -f "$B/seed.raw"
    echo "fuzz: running $name for ${FUZZ_TIME}s"
    # A library's own leaks on hostile input, which Ferry cannot free, are
    # named in tests/fuzz/NAME.supp (full stacks, so that the entry can
    # name the library function and no more).
    supp=tests/fuzz/$name.supp
    if [ -f "$supp" ]; then
        export LSAN_OPTIONS="suppressions=$PWD/$supp:print_suppressions=0"
        export ASAN_OPTIONS="fast_unwind_on_malloc=0"
    else
        unset LSAN_OPTIONS ASAN_OPTIONS
    fi
    if ! "$bin" -max_total_time="$FUZZ_TIME" -timeout=10 -rss_limit_mb=2048 \
            -artifact_prefix="$B/$name-" -print_final_stats=0 "$corpus" \
            > "$B/$name.log" 2>&1; then
        echo "FAIL: $name found a crash; see $B/$name.log"; tail -30 "$B/$name.log"
        failed=1
    else
        echo "PASS: $name ($(grep -c . "$B/$name.log") log lines, no crash)"
    fi
done
exit $failed
