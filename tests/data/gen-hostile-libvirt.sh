#!/bin/bash
# gen-hostile-libvirt.sh DIR: copy the sample domain XMLs into DIR as
# valid-*.xml and write hostile ones beside them, each named for what is
# wrong with it.  tests/unit/test-libvirt.c holds the expected errors (and
# checks that every file written here has one); tests/fuzz/fuzz-libvirt.c is
# seeded with DIR.  Needs python3 only.
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$1"
for f in "$here"/libvirt/*.xml; do cp "$f" "$1/valid-$(basename "$f")"; done
exec python3 - "$1" <<'EOF'
import os, sys

out = sys.argv[1]

def write(name, text, enc='utf-8'):
    with open(os.path.join(out, name), 'wb') as fp:
        fp.write(text.encode(enc))

def dom(body='', name='<name>vm</name>', mem="<memory unit='MiB'>512</memory>",
        devices=''):
    return ("<domain type='kvm'>%s%s<vcpu>1</vcpu>%s<devices>%s</devices>"
            "</domain>\n" % (name, mem, body, devices))

def disk(dev='vda', bus='virtio', src="<source file='/d.img'/>", fmt='raw'):
    return ("<disk type='file' device='disk'><driver name='qemu' type='%s'/>"
            "%s<target dev='%s' bus='%s'/></disk>" % (fmt, src, dev, bus))

def nic(mac='52:54:00:00:00:01'):
    return ("<interface type='network'><mac address='%s'/>"
            "<source network='default'/></interface>" % mac)

# Entities: all need a DOCTYPE, which is refused before it is read.
write('xxe-file.xml', '<?xml version="1.0"?>\n<!DOCTYPE domain [\n'
      '  <!ENTITY x SYSTEM "file:///etc/passwd">\n]>\n'
      + dom(name='<name>&x;</name>'))
write('xxe-external-dtd.xml', '<!DOCTYPE domain SYSTEM '
      '"http://127.0.0.1:9/evil.dtd">\n' + dom())
lol = '<!ENTITY l0 "lol">' + ''.join(
    '<!ENTITY l%d "%s">' % (i, ('&l%d;' % (i - 1)) * 10) for i in range(1, 10))
write('billion-laughs.xml', '<!DOCTYPE domain [%s]>\n' % lol
      + dom(name='<name>&l9;</name>'))
write('doctype-utf16.xml', '<?xml version="1.0" encoding="UTF-16"?>'
      '<!DOCTYPE domain [<!ENTITY x "y">]>' + dom(), 'utf-16')
write('undefined-entity.xml', dom(name='<name>&x;</name>'))
write('malformed.xml', "<domain type='kvm'><name>vm</domain>")
write('empty.xml', '')
write('not-a-domain.xml', "<network><name>default</name></network>\n")
write('no-name.xml', dom(name=''))
write('no-memory.xml', dom(mem=''))
write('memory-overflow.xml',
      dom(mem="<memory unit='KiB'>99999999999999999999</memory>"))
write('memory-unit-overflow.xml',
      dom(mem="<memory unit='EiB'>100</memory>"))
write('memory-negative.xml', dom(mem="<memory>-1</memory>"))
write('memory-bad-unit.xml', dom(mem="<memory unit='parsecs'>1</memory>"))
write('memory-absurd.xml', dom(mem="<memory unit='PiB'>1</memory>"))
write('vcpu-zero.xml', dom().replace('<vcpu>1</vcpu>', '<vcpu>0</vcpu>'))
write('vcpu-absurd.xml',
      dom().replace('<vcpu>1</vcpu>', '<vcpu>4294967297</vcpu>'))
write('bad-uuid.xml', dom(body='<uuid>not-a-uuid</uuid>'))
write('too-many-disks.xml', dom(devices=''.join(
    disk(dev='vd' + chr(97 + i // 26) + chr(97 + i % 26)) for i in range(65))))
write('too-many-nics.xml', dom(devices=''.join(
    nic('52:54:00:00:01:%02x' % i) for i in range(65))))
write('bad-mac.xml', dom(devices=nic('52:54:00:zz:00:01')))
write('multicast-mac.xml', dom(devices=nic('01:00:5e:00:00:01')))
write('duplicate-mac.xml', dom(devices=nic() + nic()))
write('duplicate-target.xml', dom(devices=disk() + disk()))
write('disk-no-source.xml', dom(devices=disk(src='')))
write('disk-bad-bus.xml', dom(devices=disk(dev='sda', bus='usb')))
write('disk-bad-format.xml', dom(devices=disk(fmt='dmg')))
write('disk-no-target.xml', dom(devices=disk().replace(
    "<target dev='vda' bus='virtio'/>", '')))
write('name-too-long.xml', dom(name='<name>%s</name>' % ('n' * 300)))
EOF
