#!/bin/bash
# gen-seed-xva-read.sh DIR: seeds for tests/fuzz/fuzz-xva-read.c — the
# hostile XVA package corpus (built from tiny disks when given only DIR).
exec "$(dirname "$0")/gen-hostile-xva-pkg.sh" "$@"
