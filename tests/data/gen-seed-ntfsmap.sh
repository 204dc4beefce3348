#!/bin/bash
# gen-seed-ntfsmap.sh DIR: seeds for tests/fuzz/fuzz-ntfsmap.c (gen-hostile-fsmap.sh).
exec "$(dirname "$0")/gen-hostile-fsmap.sh" ntfs "$@"
