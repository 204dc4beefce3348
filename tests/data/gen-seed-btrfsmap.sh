#!/bin/bash
# gen-seed-btrfsmap.sh DIR: seeds for tests/fuzz/fuzz-btrfsmap.c (gen-hostile-fsmap.sh).
exec "$(dirname "$0")/gen-hostile-fsmap.sh" btrfs "$@"
