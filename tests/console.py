#!/usr/bin/env python3
"""console.py: log in on a guest's serial console and run commands there.

    console.py SOCKET LOG TIMEOUT USER PASSWORD < COMMANDS > OUTPUT

SOCKET is qemu's serial port as a listening unix socket (-serial
unix:SOCKET,server=on,wait=off).  Everything the guest prints is appended
to LOG.  Waits up to TIMEOUT seconds for the login prompt, logs in as
USER/PASSWORD, turns terminal echo off, runs COMMANDS (shell lines, read
from stdin) and prints their output, exactly, on stdout, then exits 0.
Exits 1 with one line on stderr on a timeout, a kernel panic, an
initramfs shell, a refused login or a closed socket.  Used by tests/boot.sh
(boot_guest_login); the console is the unit of proof.
"""
import os
import re
import socket
import sys
import time

FAILURES = re.compile(rb"Kernel panic|\(initramfs\)|Gave up waiting for root|ALERT! ")
BEGIN = "__FERRY_BEGIN__"
END = "__FERRY_END__"


class Console:
    def __init__(self, path, log, deadline):
        self.buf = b""
        self.log = log
        self.deadline = deadline
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        while True:
            try:
                self.sock.connect(path)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                if time.monotonic() > deadline:
                    raise SystemExit("console.py: qemu's serial socket %s never opened" % path)
                time.sleep(0.2)
        self.sock.settimeout(1.0)

    def send(self, text):
        self.sock.sendall(text.encode())

    def expect(self, pattern, what):
        """Read until `pattern` (bytes regex) matches the unread buffer;
        consume through the match and return what came before it."""
        rx = re.compile(pattern)
        while True:
            m = rx.search(self.buf)
            if m:
                before = self.buf[:m.start()]
                self.buf = self.buf[m.end():]
                return before
            if FAILURES.search(self.buf):
                raise SystemExit("console.py: the guest failed while waiting for %s: %s"
                                 % (what, FAILURES.search(self.buf).group(0).decode()))
            if time.monotonic() > self.deadline:
                tail = self.buf[-200:].decode(errors="replace").replace("\r", "")
                raise SystemExit("console.py: timed out waiting for %s; last output: %r" % (what, tail))
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            if not data:
                raise SystemExit("console.py: the console closed while waiting for %s" % what)
            self.log.write(data)
            self.log.flush()
            self.buf += data


def main():
    if len(sys.argv) != 6:
        raise SystemExit("usage: console.py SOCKET LOG TIMEOUT USER PASSWORD < COMMANDS")
    path, logpath, timeout, user, password = sys.argv[1:]
    commands = sys.stdin.read()
    deadline = time.monotonic() + float(timeout)
    with open(logpath, "ab") as log:
        c = Console(path, log, deadline)
        c.expect(rb"login: *$", "the login prompt")
        c.send(user + "\n")
        c.expect(rb"Password: *$", "the password prompt")
        c.send(password + "\n")
        c.expect(rb"(# |\$ )$", "a shell prompt (login refused?)")
        # No echo, no colours, a prompt that cannot be confused with output.
        c.send("stty -echo; export TERM=dumb PS1='ferry-console# '\n")
        c.expect(rb"ferry-console# $", "the new prompt")
        c.send("echo %s\n" % BEGIN)
        for line in commands.splitlines():
            c.send(line + "\n")
        c.send("echo %s\n" % END)
        c.expect(BEGIN.encode() + rb"\r?\n", "the commands to start")
        out = c.expect(rb"(ferry-console# )*" + END.encode() + rb"\r?\n", "the commands to finish")
        out = re.sub(rb"ferry-console# ", b"", out).replace(b"\r\n", b"\n")
        sys.stdout.write(out.decode(errors="replace"))
        c.send("poweroff -f\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
