#!/bin/bash
# Ctrl-C (SIGINT) and SIGTERM during `ferry import` leave neither the
# output directory nor the hidden staging directory (nor any extracted
# disk in it).  The package comes through a FIFO whose writer stalls half
# way, so the import is reliably inside the extraction when the signal
# arrives: no timing guesses.
source "$(dirname "$0")/../functions.sh"
requires mkfifo
t=$(mktmpdir)
truncate -s 16M "$t/disk.img"
head -c 12M /dev/urandom | dd of="$t/disk.img" conv=notrunc status=none
"$FERRY" export -q --all-blocks "$t/disk.img" -o "$t/vm.ova" --name vm

for sig in INT TERM; do
    mkdir "$t/$sig"
    mkfifo "$t/$sig/pkg.ova"
    # 4 MiB of the package, then the writer holds the pipe open, silent.
    ( head -c 4M "$t/vm.ova"; exec sleep 60 ) > "$t/$sig/pkg.ova" &
    writer=$!
    cleanup_fn "kill $writer 2>/dev/null"
    "$FERRY" import -q "$t/$sig/pkg.ova" --to libvirt -o "$t/$sig/out" &
    pid=$!
    # Wait until the disk is being extracted into the staging directory.
    for _ in $(seq 100); do
        compgen -G "$t/$sig/.out.ferry-import-*/.disk1" >/dev/null && break
        sleep 0.1
    done
    compgen -G "$t/$sig/.out.ferry-import-*/.disk1" >/dev/null ||
        fail "SIG$sig: the import never started extracting"
    kill -"$sig" "$pid"
    rc=0; wait "$pid" || rc=$?
    [ "$rc" -ge 128 ] || fail "SIG$sig: the import did not die of the signal (exit $rc)"
    kill "$writer" 2>/dev/null || true
    left=$(ls -A "$t/$sig")
    [ "$left" = pkg.ova ] || fail "SIG$sig left '$left' behind"
done

# The same package through a regular file imports fine (the FIFO was the
# only reason the import was waiting).
"$FERRY" import -q "$t/vm.ova" --to libvirt -o "$t/ok"
qemu_compare "$t/disk.img" "$t/ok/vm-disk1.qcow2"
echo "PASS: test-import-interrupt"
