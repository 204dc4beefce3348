#!/bin/bash
# gen-seed-exfatmap.sh DIR: seeds for tests/fuzz/fuzz-exfatmap.c (gen-hostile-fsmap.sh).
exec "$(dirname "$0")/gen-hostile-fsmap.sh" exfat "$@"
