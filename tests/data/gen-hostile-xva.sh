#!/bin/bash
# gen-hostile-xva.sh DIR: copy the sample XVA ova.xml into DIR as
# valid-ova.xml and write hostile ova.xml files beside it, each named for
# what is wrong with it.  tests/unit/test-xva-xml.c holds the expected
# errors (and checks that every file written here has one);
# tests/fuzz/fuzz-xva.c is seeded with DIR.  Needs python3 only.
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$1"
cp "$here/xva/ova.xml" "$1/valid-ova.xml"
exec python3 - "$1" <<'EOF'
import os, sys

out = sys.argv[1]

def write(name, text, enc='utf-8'):
    with open(os.path.join(out, name), 'wb') as fp:
        fp.write(text.encode(enc))

def v(x):
    """An XML-RPC value: str, bool, list (array) or dict (struct)."""
    if isinstance(x, bool):
        return '<value><boolean>%d</boolean></value>' % x
    if isinstance(x, list):
        return '<value><array><data>%s</data></array></value>' % ''.join(
            v(i) for i in x)
    if isinstance(x, dict):
        return '<value><struct>%s</struct></value>' % ''.join(
            '<member><name>%s</name>%s</member>' % (k, v(i))
            for k, i in x.items())
    return '<value>%s</value>' % x

def vm(vbds=('Ref:1',), vifs=('Ref:3',), **kw):
    r = dict(uuid='e4f5a6b7-c8d9-4e0f-a1b2-c3d4e5f60718', name_label='vm',
             name_description='', memory_static_max='1073741824',
             VCPUs_max='1', VCPUs_at_startup='1', is_a_snapshot=False,
             is_control_domain=False, VBDs=list(vbds), VIFs=list(vifs),
             HVM_boot_params={'order': 'dc'}, other_config={})
    r.update(kw)
    return r

def vbd(vdi='Ref:2', ud='0', typ='Disk', **kw):
    r = dict(VM='Ref:0', VDI=vdi, userdevice=ud, type=typ, device='',
             mode='RW', bootable=True)
    r.update(kw)
    return r

def vdi(size='1073741824', **kw):
    r = dict(virtual_size=size, SR='Ref:4', type='user', read_only=False)
    r.update(kw)
    return r

def vif(net='Ref:5', mac='52:54:00:00:00:01', dev='0'):
    return dict(device=dev, MAC=mac, network=net, VM='Ref:0', MTU='1500')

NET = dict(name_label='Pool-wide network associated with eth0',
           bridge='xenbr0')
SR = dict(name_label='Local storage', content_type='user')

def doc(objs):
    version = dict(hostname='h', date='2024-01-01', product_version='8.2.1',
                   product_brand='XCP-ng', build_number='1', xapi_major='1',
                   xapi_minor='20', export_vsn='2')
    return ('<value><struct><member><name>version</name>%s</member>'
            '<member><name>objects</name>%s</member></struct></value>\n' % (
                v(version),
                v([dict([('class', c), ('id', i), ('snapshot', s)])
                   for c, i, s in objs])))

def base(vm_=None, vbd_=None, vdi_=None, vif_=None, extra=()):
    return doc([('VM', 'Ref:0', vm_ or vm()), ('VBD', 'Ref:1', vbd_ or vbd()),
                ('VDI', 'Ref:2', vdi_ or vdi()), ('VIF', 'Ref:3', vif_ or vif()),
                ('SR', 'Ref:4', SR), ('network', 'Ref:5', NET)] + list(extra))

write('valid-minimal.xml', base())
lol = '<!ENTITY l0 "lol">' + ''.join(
    '<!ENTITY l%d "%s">' % (i, ('&l%d;' % (i - 1)) * 10) for i in range(1, 10))
write('billion-laughs.xml', '<!DOCTYPE value [%s]>\n' % lol
      + base(vm_=vm(name_label='&l9;')))
write('xxe-file.xml', '<!DOCTYPE value [<!ENTITY x SYSTEM '
      '"file:///etc/passwd">]>\n' + base(vm_=vm(name_label='&x;')))
write('xxe-external-dtd.xml', '<!DOCTYPE value SYSTEM '
      '"http://127.0.0.1:9/evil.dtd">\n' + base())
write('doctype-utf16.xml', '<?xml version="1.0" encoding="UTF-16"?>'
      '<!DOCTYPE value [<!ENTITY x "y">]>' + base(), 'utf-16')
write('malformed.xml', base()[:-30])
write('empty.xml', '')
write('not-xmlrpc.xml', "<domain type='kvm'><name>x</name></domain>\n")
write('no-objects.xml', '<value><struct><member><name>version</name>'
      '<value><struct/></value></member></struct></value>\n')
write('objects-not-array.xml', '<value><struct><member><name>objects'
      '</name><value>Ref:0</value></member></struct></value>\n')
write('object-without-class.xml', base().replace(
    '<member><name>class</name><value>SR</value></member>', ''))
write('null-ref-object.xml', base().replace(
    '<value>Ref:4</value></member><member><name>snapshot',
    '<value>OpaqueRef:NULL</value></member><member><name>snapshot'))
write('duplicate-ref.xml', base(extra=[('SR', 'Ref:2', SR)]))
write('missing-vbd.xml', base(vm_=vm(vbds=('Ref:99',))))
write('null-vbd.xml', base(vm_=vm(vbds=('OpaqueRef:NULL',))))
write('missing-vdi.xml', base(vbd_=vbd(vdi='Ref:99')))
write('vbd-points-to-sr.xml', base(vbd_=vbd(vdi='Ref:4')))
write('missing-network.xml', base(vif_=vif(net='Ref:99')))
write('vdi-size-absurd.xml', base(vdi_=vdi(size='1152921504606846976')))
write('vdi-size-overflow.xml', base(vdi_=vdi(size='99999999999999999999')))
write('vdi-size-negative.xml', base(vdi_=vdi(size='-1')))
write('vdi-size-zero.xml', base(vdi_=vdi(size='0')))
write('several-vms.xml', base(extra=[('VM', 'Ref:6', vm(vbds=(), vifs=()))]))
write('only-snapshots.xml', base(vm_=vm(is_a_snapshot=True)))
deep = 'x'
for i in range(40):
    deep = {'k': deep}
write('deep-structs.xml', base(vm_=vm(other_config=deep)))
write('too-many-vbds.xml', base(
    vm_=vm(vbds=['Ref:1'] + ['Ref:%d' % (100 + i) for i in range(300)]),
    extra=[('VBD', 'Ref:%d' % (100 + i), vbd(vdi='OpaqueRef:NULL', typ='CD',
                                              ud=str(3 + i)))
           for i in range(300)]))
write('too-many-disks.xml', doc(
    [('VM', 'Ref:0', vm(vbds=['Ref:b%d' % i for i in range(65)], vifs=()))]
    + [('VBD', 'Ref:b%d' % i, vbd(vdi='Ref:d%d' % i, ud=str(i)))
       for i in range(65)]
    + [('VDI', 'Ref:d%d' % i, vdi()) for i in range(65)]
    + [('SR', 'Ref:4', SR)]))
write('too-many-vifs.xml', doc(
    [('VM', 'Ref:0', vm(vbds=(), vifs=['Ref:v%d' % i for i in range(65)]))]
    + [('VIF', 'Ref:v%d' % i, vif(mac='52:54:00:00:01:%02x' % i, dev=str(i)))
       for i in range(65)]
    + [('network', 'Ref:5', NET)]))
write('bad-mac.xml', base(vif_=vif(mac='52:54:00:zz:00:01')))
write('multicast-mac.xml', base(vif_=vif(mac='01:00:5e:00:00:01')))
write('duplicate-mac.xml', base(
    vm_=vm(vifs=('Ref:3', 'Ref:6')), extra=[('VIF', 'Ref:6', vif(dev='1'))]))
write('bad-uuid.xml', base(vm_=vm(uuid='not-a-uuid')))
write('vcpus-zero.xml', base(vm_=vm(VCPUs_at_startup='0')))
write('vcpus-overflow.xml', base(vm_=vm(VCPUs_at_startup='18446744073709551617')))
write('no-memory.xml', base(vm_=vm(memory_static_max='')))
write('memory-absurd.xml', base(vm_=vm(memory_static_max='18446744073709551615')))
write('duplicate-userdevice.xml', base(
    vm_=vm(vbds=('Ref:1', 'Ref:6')),
    extra=[('VBD', 'Ref:6', vbd(vdi='Ref:7')), ('VDI', 'Ref:7', vdi())]))
write('vdi-attached-twice.xml', base(
    vm_=vm(vbds=('Ref:1', 'Ref:6')), extra=[('VBD', 'Ref:6', vbd(ud='1'))]))
write('bad-userdevice.xml', base(vbd_=vbd(ud='autodetect')))
write('name-not-text.xml', base(vm_=vm(name_label='<!-- x -->')))
EOF
