#!/bin/bash
# gen-hostile-ova.sh DIR GOOD.ova [SIGNED.ova]: write hostile OVA packages
# into DIR, each a variation of the valid single-disk GOOD.ova (as `ferry
# export` writes it: NAME.ovf, NAME-disk1.*, NAME.mf with SHA256 lines) and
# named for what is wrong with it.  tests/e2e/test-import-ova.sh feeds each
# to `ferry import` and expects a one-line refusal.  With SIGNED.ova (the
# same, exported with --sign: NAME.cert last) the signature cases are
# written too (bad-signature, truncated-cert, cert-without-manifest,
# checked by tests/e2e/test-export-sign.sh).  Needs python3 only.
set -euo pipefail
[ $# -eq 2 ] || [ $# -eq 3 ] ||
    { echo "usage: $0 DIR GOOD.ova [SIGNED.ova]" >&2; exit 2; }
mkdir -p "$1"
exec python3 - "$@" <<'EOF'
import hashlib, io, os, re, sys, tarfile

out, good = sys.argv[1], sys.argv[2]
with tarfile.open(good) as t:
    members = [(m.name, t.extractfile(m).read()) for m in t.getmembers()]
ovf = next(m for m in members if m[0].endswith('.ovf'))
mf = next(m for m in members if m[0].endswith('.mf'))
disk = next(m for m in members if m not in (ovf, mf))

def manifest(files):
    return ''.join('SHA256(%s)= %s\n' % (n, hashlib.sha256(d).hexdigest())
                   for n, d in files).encode()

def entry(name, data=b'', kind=tarfile.REGTYPE, link=''):
    ti = tarfile.TarInfo(name)
    ti.size, ti.type, ti.linkname, ti.mode = len(data), kind, link, 0o644
    return ti, data

def write(name, entries):
    with tarfile.open(os.path.join(out, name + '.ova'), 'w',
                      format=tarfile.GNU_FORMAT) as t:
        for ti, data in entries:
            t.addfile(ti, io.BytesIO(data) if ti.isreg() else None)

def package(files, mf_files=None):
    """A package of (name, data) files and a manifest over mf_files."""
    mfd = manifest(mf_files if mf_files is not None else files)
    return [entry(n, d) for n, d in files] + [entry(mf[0], mfd)]

files = [ovf, disk]
write('traversal', package([ovf, ('../' + disk[0], disk[1])]))
write('absolute', package([ovf, ('/tmp/' + disk[0], disk[1])]))
write('symlink', [entry(ovf[0], ovf[1]),
                  entry(disk[0], kind=tarfile.SYMTYPE, link='/etc/passwd')])
write('hardlink', [entry(ovf[0], ovf[1]),
                   entry(disk[0], kind=tarfile.LNKTYPE, link=ovf[0])])
write('device', [entry(ovf[0], ovf[1]),
                 entry(disk[0], kind=tarfile.CHRTYPE)])
write('fifo', [entry(ovf[0], ovf[1]), entry(disk[0], kind=tarfile.FIFOTYPE)])
write('duplicate', package([ovf, disk, disk], files))
write('mismatch', package([ovf, (disk[0], disk[1][:-1] + b'\x01')], files))
write('missing', package([ovf], [ovf]))
write('not-in-manifest', package([ovf, disk, ('extra.txt', b'x')], files))
write('malformed-manifest', [entry(n, d) for n, d in files] +
      [entry(mf[0], b'SHA256 this is not a manifest line\n')])
write('empty-manifest', [entry(n, d) for n, d in files] + [entry(mf[0], b'')])
write('ovf-not-first', package([disk, ovf]))
write('two-ovf', package([ovf, ('second.ovf', ovf[1]), disk]))
write('too-many-members', package(
    [ovf, disk] + [('m%04d.txt' % i, b'') for i in range(1100)]))
small = re.sub(rb'ovf:size="\d+"', b'ovf:size="1024"', ovf[1])
write('larger-than-declared', package([(ovf[0], small), disk]))
tiny = re.sub(rb'ovf:capacity="\d+"', b'ovf:capacity="1048576"', ovf[1])
write('capacity-exceeded', package([(ovf[0], tiny), disk]))
write('descriptor-vmdk', package(
    [ovf, (disk[0], b'# Disk DescriptorFile\nRW 8 FLAT "/etc/passwd" 0\n')]))

if len(sys.argv) > 3:
    with tarfile.open(sys.argv[3]) as t:
        signed = [(m.name, t.extractfile(m).read()) for m in t.getmembers()]
    cert = next(m for m in signed if m[0].endswith('.cert'))
    rest = [m for m in signed if m is not cert]
    line, pem = cert[1].split(b'\n', 1)
    # Flip the signature's last hex digit: still well-formed, wrong.
    flip = line[:-1] + (b'0' if line[-1:] != b'0' else b'1')
    write('bad-signature', [entry(n, d) for n, d in rest] +
          [entry(cert[0], flip + b'\n' + pem)])
    write('truncated-cert', [entry(n, d) for n, d in rest] +
          [entry(cert[0], cert[1][:len(line) + 1 + len(pem) // 2])])
    write('cert-without-manifest',
          [entry(n, d) for n, d in rest if not n.endswith('.mf')] +
          [entry(cert[0], cert[1])])
EOF
