#!/bin/bash
# gen-seed-fatmap.sh DIR: seeds for tests/fuzz/fuzz-fatmap.c (gen-hostile-fsmap.sh).
exec "$(dirname "$0")/gen-hostile-fsmap.sh" fat "$@"
