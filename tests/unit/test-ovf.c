/* test-ovf.c: the OVF codec — round trips per flavour, the shape of what
 * we write, real vendor samples, and the hostile corpus. */
#include "tests/unit/unit.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "lib/common/error.h"
#include "lib/common/ids.h"
#include "lib/common/strbuf.h"
#include "ova/ovf.h"

static char dir[] = "/tmp/ferry-test-ovf.XXXXXX";

static const char *
srcdir (void)
{
  const char *s = getenv ("FERRY_SRCDIR");
  return s ? s : ".";
}

static int
parse_file (const char *path, struct vm *vm)
{
  size_t len;
  char *xml = unit_slurp (path, &len);
  int r = ovf_parse (xml, len, path, vm);

  free (xml);
  return r;
}

static int
parse_sample (const char *name, struct vm *vm)
{
  char path[512];

  snprintf (path, sizeof path, "%s/tests/data/ovf/%s", srcdir (), name);
  return parse_file (path, vm);
}

/* ---- round trips -------------------------------------------------------- */

static void
add_disk (struct vm *vm, const char *file, const char *fmt, uint64_t cap,
          enum vm_bus bus, unsigned unit, uint64_t size)
{
  assert_int_equal (vm_add_disk (vm, file, fmt, cap, bus), 0);
  vm->disks.ptr[vm->disks.len - 1].unit = unit;
  vm->disks.ptr[vm->disks.len - 1].file_size = size;
}

static void
add_nic (struct vm *vm, const char *mac, const char *net, const char *model)
{
  uint8_t m[6];

  assert_int_equal (ids_mac_parse (mac, m), 0);
  assert_int_equal (vm_add_nic (vm, m, net, model), 0);
}

static void
make_vm (struct vm *vm, enum ovf_flavour f)
{
  const char *fmt = f == OVF_XENSERVER ? "vhd" : "vmdk";

  vm_init (vm);
  vm->name = strdup (f == OVF_VMWARE ? "web & db <01>" : "debian-12");
  vm->description = strdup ("line one\nline \"two\"\tend\r\n");
  assert_int_equal (ids_uuid_parse ("6f1c0a4e-8d2b-4c3a-9e7f-1a2b3c4d5e6f",
                                vm->uuid), 0);
  vm->has_uuid = true;
  vm->cpus = 4;
  vm->memory_mib = 6144;
  vm->firmware = f == OVF_VIRTUALBOX ? VM_FW_BIOS : VM_FW_UEFI;
  vm->os = f == OVF_XENSERVER ? VM_OS_RHEL64 : VM_OS_DEBIAN64;
  add_disk (vm, "disk1.x", fmt, 20ull << 30, VM_BUS_SCSI, 0, 123456789);
  add_disk (vm, "disk2.x", fmt, 1ull << 40, VM_BUS_SCSI, 9, 0);
  add_disk (vm, "data.x", fmt, 512 << 20, VM_BUS_SATA, 1, 4096);
  add_disk (vm, "ide.x", fmt, 3ull << 30, VM_BUS_IDE, 3, 1);
  if (f == OVF_XENSERVER)
    add_disk (vm, "xvdb.vhd", fmt, 7ull << 30, VM_BUS_XEN, 1, 99);
  if (f == OVF_VMWARE)
    add_disk (vm, "nvme.vmdk", fmt, 1ull << 30, VM_BUS_NVME, 16, 99);
  add_nic (vm, "00:50:56:AA:bb:01", "Prod LAN", "vmxnet3");
  add_nic (vm, "00:50:56:aa:bb:02", "Backup & DMZ", "e1000");
  add_nic (vm, "00:50:56:aa:bb:03", "Prod LAN",
           f == OVF_XENSERVER ? "netfront"
           : f == OVF_VIRTUALBOX ? "virtio" : "e1000e");
  if (f == OVF_VIRTUALBOX)
    free (vm->nics.ptr[0].model), vm->nics.ptr[0].model = strdup ("e1000");
}

static void
assert_same_vm (const struct vm *a, const struct vm *b)
{
  size_t i;

  assert_string_equal (a->name, b->name);
  assert_string_equal (a->description, b->description);
  assert_int_equal (a->has_uuid, b->has_uuid);
  assert_memory_equal (a->uuid, b->uuid, 16);
  assert_int_equal (a->cpus, b->cpus);
  assert_int_equal (a->memory_mib, b->memory_mib);
  assert_int_equal (a->firmware, b->firmware);
  assert_int_equal (a->os, b->os);
  assert_int_equal (a->disks.len, b->disks.len);
  for (i = 0; i < a->disks.len; i++) {
    const struct vm_disk *x = &a->disks.ptr[i], *y = &b->disks.ptr[i];
    assert_string_equal (x->file, y->file);
    assert_string_equal (x->format, y->format);
    assert_int_equal (x->capacity, y->capacity);
    assert_int_equal (x->file_size, y->file_size);
    assert_int_equal (x->bus, y->bus);
    assert_int_equal (x->unit, y->unit);
  }
  assert_int_equal (a->nics.len, b->nics.len);
  for (i = 0; i < a->nics.len; i++) {
    const struct vm_nic *x = &a->nics.ptr[i], *y = &b->nics.ptr[i];
    assert_int_equal (x->has_mac, y->has_mac);
    assert_memory_equal (x->mac, y->mac, 6);
    assert_string_equal (x->network, y->network);
    assert_string_equal (x->model, y->model);
  }
}

static void
round_trip (enum ovf_flavour f)
{
  struct strbuf out = STRBUF_INIT;
  struct vm a, b;

  make_vm (&a, f);
  assert_int_equal (ovf_write (&a, f, &out), 0);
  if (ovf_parse (out.buf, out.len, "rt.ovf", &b) == -1)
    fail_msg ("%s\n%s", error_get (), out.buf);
  assert_same_vm (&a, &b);
  vm_free (&a);
  vm_free (&b);
  strbuf_release (&out);
}

static void
test_round_trip_vmware (void **state)
{
  (void) state;
  round_trip (OVF_VMWARE);
}

static void
test_round_trip_virtualbox (void **state)
{
  (void) state;
  round_trip (OVF_VIRTUALBOX);
}

static void
test_round_trip_xenserver (void **state)
{
  (void) state;
  round_trip (OVF_XENSERVER);
}

/* Every OS family survives each flavour. */
static void
test_round_trip_os (void **state)
{
  struct strbuf out = STRBUF_INIT;
  struct vm a, b;
  int os, f;

  (void) state;
  for (f = OVF_VMWARE; f <= OVF_XENSERVER; f++)
    for (os = VM_OS_OTHER; os <= VM_OS_WINDOWS64; os++) {
      vm_init (&a);
      a.name = strdup ("os");
      a.os = (enum vm_os) os;
      assert_int_equal (ovf_write (&a, (enum ovf_flavour) f, &out), 0);
      assert_int_equal (ovf_parse (out.buf, out.len, "os", &b), 0);
      assert_int_equal (b.os, os);
      assert_int_equal (b.disks.len, 0);
      vm_free (&a);
      vm_free (&b);
      strbuf_release (&out);
    }
}

/* ---- the shape of what we write ------------------------------------------ */

static const char *
ns_of (xmlDocPtr doc, const char *prefix)
{
  xmlNsPtr ns = xmlSearchNs (doc, xmlDocGetRootElement (doc),
                             BAD_CAST prefix);
  return ns ? (const char *) ns->href : "";
}

static void
check_items_sorted (xmlNode *hw, size_t *items)
{
  xmlNode *it, *c;

  for (it = hw->children; it; it = it->next) {
    const char *prev = "";
    if (it->type != XML_ELEMENT_NODE || strcmp ((char *) it->name, "Item"))
      continue;
    (*items)++;
    for (c = it->children; c; c = c->next) {
      if (c->type != XML_ELEMENT_NODE)
        continue;
      assert_string_equal (c->ns->prefix, "rasd");
      if (strcmp (prev, (const char *) c->name) >= 0)
        fail_msg ("rasd:%s after rasd:%s", c->name, prev);
      prev = (const char *) c->name;
    }
  }
}

static xmlNode *
find (xmlNode *n, const char *name)
{
  xmlNode *c, *r;

  for (; n; n = n->next) {
    if (n->type == XML_ELEMENT_NODE && strcmp ((char *) n->name, name) == 0)
      return n;
    if ((c = n->children) && (r = find (c, name)))
      return r;
  }
  return NULL;
}

static void
test_written_shape (void **state)
{
  static const char *const want[][2] = {
    { "ovf", "http://schemas.dmtf.org/ovf/envelope/1" },
    { "rasd", "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/"
      "CIM_ResourceAllocationSettingData" },
    { "vssd", "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/"
      "CIM_VirtualSystemSettingData" },
    { "vmw", "http://www.vmware.com/schema/ovf" },
    { "xsi", "http://www.w3.org/2001/XMLSchema-instance" },
  };
  struct strbuf out = STRBUF_INIT;
  struct vm a;
  xmlDocPtr doc;
  size_t i, items;
  int f;

  (void) state;
  for (f = OVF_VMWARE; f <= OVF_XENSERVER; f++) {
    make_vm (&a, (enum ovf_flavour) f);
    assert_int_equal (ovf_write (&a, (enum ovf_flavour) f, &out), 0);
    doc = xmlReadMemory (out.buf, (int) out.len, NULL, NULL, XML_PARSE_NONET);
    assert_non_null (doc);
    for (i = 0; i < sizeof want / sizeof want[0]; i++)
      assert_string_equal (ns_of (doc, want[i][0]), want[i][1]);
    if (f == OVF_VIRTUALBOX)
      assert_string_equal (ns_of (doc, "vbox"),
                           "http://www.virtualbox.org/ovf/machine");
    items = 0;
    check_items_sorted (find (xmlDocGetRootElement (doc),
                              "VirtualHardwareSection"), &items);
    /* CPU, memory, controllers, disks, NICs. */
    assert_true (items >= 2 + a.disks.len + a.nics.len);
    xmlFreeDoc (doc);
    vm_free (&a);
    strbuf_release (&out);
  }
}

static void
test_written_flavour_details (void **state)
{
  struct strbuf out = STRBUF_INIT;
  struct ovf_write_options o = { .flavour = OVF_XENSERVER,
                                 .system_type = "xen-3.0-unknown" };
  struct vm a;

  (void) state;
  make_vm (&a, OVF_VMWARE);
  assert_int_equal (ovf_write (&a, OVF_VMWARE, &out), 0);
  assert_non_null (strstr (out.buf, "<vssd:VirtualSystemType>vmx-14<"));
  assert_non_null (strstr (out.buf, "vmw:key=\"firmware\" vmw:value=\"efi\""));
  assert_non_null (strstr (out.buf, "vmdk.html#streamOptimized"));
  assert_non_null (strstr (out.buf, "<rasd:ResourceSubType>VmxNet3<"));
  assert_non_null (strstr (out.buf, "<rasd:ResourceSubType>lsilogic<"));
  assert_non_null (strstr (out.buf, "<rasd:Address>00:50:56:aa:bb:01<"));
  assert_non_null (strstr (out.buf, "ovf:capacityAllocationUnits=\"byte\""));
  /* SCSI unit 9 is target 10 on controller 0: 7 belongs to the HBA. */
  assert_non_null (strstr (out.buf, "<rasd:AddressOnParent>10<"));
  /* "Prod LAN" once in the NetworkSection though two NICs use it. */
  assert_non_null (strstr (out.buf, "<Network ovf:name=\"Prod LAN\">"));
  assert_null (strstr (strstr (out.buf, "<Network ovf:name=\"Prod LAN\">") + 1,
                       "<Network ovf:name=\"Prod LAN\">"));
  vm_free (&a);
  strbuf_release (&out);

  make_vm (&a, OVF_XENSERVER);
  assert_int_equal (ovf_write_opts (&a, &o, &out), 0);
  assert_non_null (strstr (out.buf, ">xen-3.0-unknown<"));
  assert_non_null (strstr (out.buf, "vhdspec.mspx"));
  assert_non_null (strstr (out.buf, "firmware=uefi"));
  vm_free (&a);
  strbuf_release (&out);
}

/* Buses a flavour lacks are remapped onto free units; bad formats refused. */
static void
test_write_remaps_and_refuses (void **state)
{
  struct strbuf out = STRBUF_INIT;
  struct vm a, b;

  (void) state;
  vm_init (&a);
  a.name = strdup ("kvm-guest");
  add_disk (&a, "a.vmdk", "vmdk", 1 << 30, VM_BUS_SCSI, 0, 0);
  add_disk (&a, "b.vmdk", "vmdk", 1 << 30, VM_BUS_VIRTIO, 0, 0);
  add_nic (&a, "52:54:00:00:00:01", NULL, "virtio");
  assert_int_equal (ovf_write (&a, OVF_VMWARE, &out), 0);
  assert_int_equal (ovf_parse (out.buf, out.len, "remap", &b), 0);
  assert_int_equal (b.disks.ptr[1].bus, VM_BUS_SCSI);
  assert_int_equal (b.disks.ptr[1].unit, 1);
  assert_string_equal (b.nics.ptr[0].model, "e1000");
  assert_string_equal (b.nics.ptr[0].network, "VM Network");
  vm_free (&b);
  strbuf_release (&out);

  free (a.disks.ptr[0].format);
  a.disks.ptr[0].format = strdup ("vdi");
  assert_int_equal (ovf_write (&a, OVF_VMWARE, &out), -1);
  assert_non_null (strstr (error_get (), "format 'vdi' cannot"));
  assert_int_equal (out.len, 0);
  vm_free (&a);
}

/* qcow2 and raw volumes use the URIs oVirt/virt-v2v write; flavour names. */
static void
test_formats_and_flavours (void **state)
{
  static const char *const fmts[] = { "vmdk", "vhd", "qcow2", "raw" };
  struct strbuf out = STRBUF_INIT;
  enum ovf_flavour f;
  struct vm a, b;
  size_t i;

  (void) state;
  vm_init (&a);
  a.name = strdup ("fmt");
  for (i = 0; i < 4; i++)
    add_disk (&a, fmts[i], fmts[i], 1 << 20, VM_BUS_SATA, (unsigned) i, 0);
  assert_int_equal (ovf_write (&a, OVF_VIRTUALBOX, &out), 0);
  assert_int_equal (ovf_parse (out.buf, out.len, "fmt", &b), 0);
  for (i = 0; i < 4; i++)
    assert_string_equal (b.disks.ptr[i].format, fmts[i]);
  vm_free (&a);
  vm_free (&b);
  strbuf_release (&out);
  for (i = 0; i < 3; i++) {
    assert_int_equal (ovf_flavour_parse (ovf_flavour_name ((enum ovf_flavour)
                                                           i), &f), 0);
    assert_int_equal (f, i);
  }
  assert_int_equal (ovf_flavour_parse ("hyperv", &f), -1);
}

/* ---- real samples ---------------------------------------------------------- */

static void
test_sample_vmware (void **state)
{
  struct vm vm;
  char mac[18];

  (void) state;
  if (parse_sample ("vmware-ovftool.ovf", &vm) == -1)
    fail_msg ("%s", error_get ());
  assert_string_equal (vm.name, "web01");
  assert_string_equal (vm.description, "Front-end web server (nginx)");
  assert_int_equal (vm.cpus, 2);
  assert_int_equal (vm.memory_mib, 4096);
  assert_int_equal (vm.firmware, VM_FW_UEFI);
  assert_int_equal (vm.os, VM_OS_DEBIAN64);
  assert_int_equal (vm.disks.len, 2);
  assert_string_equal (vm.disks.ptr[0].file, "web01-disk1.vmdk");
  assert_string_equal (vm.disks.ptr[0].format, "vmdk");
  assert_int_equal (vm.disks.ptr[0].capacity, 16ull << 30);
  assert_int_equal (vm.disks.ptr[0].file_size, 1043328512);
  assert_int_equal (vm.disks.ptr[0].bus, VM_BUS_SCSI);
  assert_int_equal (vm.disks.ptr[1].capacity, 512ull << 20);
  assert_int_equal (vm.disks.ptr[1].bus, VM_BUS_SATA);
  assert_int_equal (vm.disks.ptr[1].unit, 1);
  assert_int_equal (vm.nics.len, 1);
  ids_mac_format (vm.nics.ptr[0].mac, mac);
  assert_string_equal (mac, "00:50:56:a1:3c:7e");
  assert_string_equal (vm.nics.ptr[0].network, "DPortGroup-VLAN20");
  assert_string_equal (vm.nics.ptr[0].model, "vmxnet3");
  assert_false (vm.has_uuid);
  vm_free (&vm);
}

static void
test_sample_virtualbox (void **state)
{
  struct vm vm;
  char mac[18], uuid[37];

  (void) state;
  if (parse_sample ("virtualbox7.ovf", &vm) == -1)
    fail_msg ("%s", error_get ());
  assert_string_equal (vm.name, "ubuntu2204");
  assert_int_equal (vm.cpus, 2);
  assert_int_equal (vm.memory_mib, 4096);
  assert_int_equal (vm.os, VM_OS_UBUNTU64);
  assert_int_equal (vm.firmware, VM_FW_UEFI);       /* from vbox:Machine */
  assert_int_equal (vm.disks.len, 1);
  assert_string_equal (vm.disks.ptr[0].file, "ubuntu2204-disk001.vmdk");
  assert_int_equal (vm.disks.ptr[0].capacity, 26843545600ull);
  assert_int_equal (vm.disks.ptr[0].bus, VM_BUS_SATA);
  assert_int_equal (vm.disks.ptr[0].file_size, 0);
  assert_int_equal (vm.nics.len, 1);
  assert_true (vm.nics.ptr[0].has_mac);             /* from vbox:Machine */
  ids_mac_format (vm.nics.ptr[0].mac, mac);
  assert_string_equal (mac, "08:00:27:8e:4f:21");
  assert_string_equal (vm.nics.ptr[0].network, "NAT");
  assert_string_equal (vm.nics.ptr[0].model, "e1000");
  assert_true (vm.has_uuid);
  ids_uuid_format (vm.uuid, uuid);
  assert_string_equal (uuid, "6f1c0a4e-8d2b-4c3a-9e7f-1a2b3c4d5e6f");
  vm_free (&vm);
}

static void
test_sample_virtualbox_ovf20 (void **state)
{
  struct vm vm;

  (void) state;
  if (parse_sample ("virtualbox7-ovf20.ovf", &vm) == -1)
    fail_msg ("%s", error_get ());
  assert_string_equal (vm.name, "debian12");
  assert_int_equal (vm.memory_mib, 2048);
  assert_int_equal (vm.os, VM_OS_DEBIAN64);
  assert_int_equal (vm.disks.len, 1);
  assert_int_equal (vm.disks.ptr[0].bus, VM_BUS_SATA);
  assert_int_equal (vm.disks.ptr[0].capacity, 20ull << 30);
  assert_int_equal (vm.nics.len, 1);
  assert_false (vm.nics.ptr[0].has_mac);
  assert_string_equal (vm.nics.ptr[0].model, "virtio");
  assert_string_equal (vm.nics.ptr[0].network, "Bridged");
  vm_free (&vm);
}

static void
test_sample_xencenter (void **state)
{
  struct vm vm;
  char mac[18];

  (void) state;
  if (parse_sample ("xencenter.ovf", &vm) == -1)
    fail_msg ("%s", error_get ());
  assert_string_equal (vm.name, "rocky9-db");
  assert_int_equal (vm.cpus, 4);
  assert_int_equal (vm.memory_mib, 8192);
  assert_int_equal (vm.os, VM_OS_RHEL64);
  assert_int_equal (vm.firmware, VM_FW_UEFI);
  assert_int_equal (vm.disks.len, 1);
  assert_string_equal (vm.disks.ptr[0].format, "vhd");
  assert_string_equal (vm.disks.ptr[0].file,
                       "8c5a2e44-2f0b-4c8e-9d4e-6a1b2c3d4e5f.vhd");
  assert_int_equal (vm.disks.ptr[0].capacity, 32ull << 30);
  assert_int_equal (vm.disks.ptr[0].bus, VM_BUS_XEN);
  assert_int_equal (vm.disks.ptr[0].unit, 0);
  assert_int_equal (vm.nics.len, 1);
  ids_mac_format (vm.nics.ptr[0].mac, mac);
  assert_string_equal (mac, "e2:14:6a:5c:09:d3");
  assert_null (vm.nics.ptr[0].model);
  vm_free (&vm);
}

/* Units in the wild: MegaBytes, byte * 2^30, GigaBytes, plain bytes. */
static void
test_units (void **state)
{
  static const struct { const char *units; uint64_t q, mib; } cases[] = {
    { "byte * 2^20", 512, 512 }, { "MegaBytes", 768, 768 },
    { "GigaBytes", 3, 3072 }, { "byte * 2^30", 2, 2048 },
    { "byte", 1ull << 30, 1024 }, { "byte", 1, 1 },
  };
  struct vm vm;
  char xml[1500];
  size_t i;

  (void) state;
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    snprintf (xml, sizeof xml,
              "<Envelope xmlns='http://schemas.dmtf.org/ovf/envelope/1' "
              "xmlns:ovf='http://schemas.dmtf.org/ovf/envelope/1' xmlns:rasd="
              "'http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/"
              "CIM_ResourceAllocationSettingData'><References/>"
              "<VirtualSystem ovf:id='u'><VirtualHardwareSection>"
              "<Item><rasd:ResourceType>3</rasd:ResourceType>"
              "<rasd:VirtualQuantity>1</rasd:VirtualQuantity></Item>"
              "<Item><rasd:AllocationUnits>%s</rasd:AllocationUnits>"
              "<rasd:ResourceType>4</rasd:ResourceType>"
              "<rasd:VirtualQuantity>%llu</rasd:VirtualQuantity></Item>"
              "</VirtualHardwareSection></VirtualSystem></Envelope>",
              cases[i].units, (unsigned long long) cases[i].q);
    if (ovf_parse (xml, strlen (xml), "units", &vm) == -1)
      fail_msg ("%s", error_get ());
    assert_int_equal (vm.memory_mib, cases[i].mib);
    vm_free (&vm);
  }
}

/* ---- hostile input ---------------------------------------------------------- */

static const struct { const char *file, *msg; } hostile[] = {
  { "bad-xxe-system-entity.ovf", "document type declarations" },
  { "bad-xxe-parameter-entity.ovf", "document type declarations" },
  { "bad-billion-laughs.ovf", "document type declarations" },
  { "bad-doctype.ovf", "document type declarations" },
  { "bad-href-dotdot.ovf", "file name '../../etc/passwd' in References "
    "contains '..'" },
  { "bad-href-absolute.ovf", "'/etc/shadow' in References is an absolute" },
  { "bad-href-url.ovf", "in References is a URL" },
  { "bad-href-backslash.ovf", "in References contains '..'" },
  { "bad-capacity-2-70.ovf", "disk 'vmdisk1' has a bad capacity "
    "'1180591620717411303424'" },
  { "bad-capacity-units-overflow.ovf", "disk 'vmdisk1' has an absurd "
    "capacity" },
  { "bad-capacity-negative.ovf", "has a bad capacity '-1'" },
  { "bad-10000-disks.ovf", "too many disks (10000, limit 64)" },
  { "bad-2000-items.ovf", "too many Items (2002, limit 1024)" },
  { "bad-missing-disk.ovf", "refers to disk 'nosuchdisk' which is not in "
    "the DiskSection" },
  { "bad-no-disk-section.ovf", "but there is no DiskSection" },
  { "bad-missing-file.ovf", "refers to file 'file1' which is not in "
    "References" },
  { "bad-duplicate-disk-id.ovf", "two disks have the id 'vmdisk1'" },
  { "bad-disk-attached-twice.ovf", "disk 'vmdisk1' is attached twice" },
  { "bad-missing-controller.ovf", "parent controller '99' not found" },
  { "bad-same-position.ovf", "disk 'vmdisk2' is at the same scsi position "
    "(0) as disk 0" },
  { "bad-memory-zero.ovf", "0 MiB of memory is out of range" },
  { "bad-memory-overflow.ovf", "bad memory size" },
  { "bad-cpus-absurd.ovf", "100000 CPUs is out of range" },
  { "bad-mac-not-hex.ovf", "NIC 0 has a bad MAC address '00:50:56:zz:00:01'" },
  { "bad-multicast-mac.ovf", "multicast MAC" },
  { "bad-no-hardware.ovf", "has no VirtualHardwareSection" },
  { "bad-not-ovf.ovf", "not an OVF envelope (root element 'domain')" },
  { "bad-not-xml.ovf", "not well-formed XML (line 1: " },
  { "bad-no-name.ovf", "the VirtualSystem has no name" },
  { "bad-encoding.ovf", "not well-formed XML (input conversion failed" },
};

static bool
expected (const char *name)
{
  size_t i;

  for (i = 0; i < sizeof hostile / sizeof hostile[0]; i++)
    if (strcmp (hostile[i].file, name) == 0)
      return true;
  return false;
}

static void
test_hostile_corpus (void **state)
{
  char path[600], cmd[700], prefix[620];
  struct vm vm;
  struct stat st;
  struct dirent *e;
  DIR *d;
  size_t i;
  int saved, quiet;

  (void) state;
  snprintf (cmd, sizeof cmd, "'%s/tests/data/gen-hostile-ovf.sh' '%s/corpus'",
            srcdir (), dir);
  assert_int_equal (system (cmd), 0);
  /* libxml2 must not print: everything goes through our one error line. */
  snprintf (path, sizeof path, "%s/stderr", dir);
  quiet = open (path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  saved = dup (2);
  dup2 (quiet, 2);
  for (i = 0; i < sizeof hostile / sizeof hostile[0]; i++) {
    snprintf (path, sizeof path, "%s/corpus/%s", dir, hostile[i].file);
    snprintf (prefix, sizeof prefix, "ovf: '%s': ", path);
    if (parse_file (path, &vm) != -1)
      fail_msg ("%s was accepted", hostile[i].file);
    if (!strstr (error_get (), hostile[i].msg) ||
        strncmp (error_get (), prefix, strlen (prefix)) ||
        strchr (error_get (), '\n'))
      fail_msg ("%s: got \"%s\", want \"%s\"", hostile[i].file, error_get (),
                hostile[i].msg);
    assert_null (vm.name);                    /* left empty on error */
  }
  dup2 (saved, 2);
  close (saved);
  assert_int_equal (fstat (quiet, &st), 0);
  assert_int_equal (st.st_size, 0);
  close (quiet);
  /* Every generated bad-* file has an expectation above. */
  snprintf (path, sizeof path, "%s/corpus", dir);
  assert_non_null (d = opendir (path));
  while ((e = readdir (d)) != NULL)
    if (strncmp (e->d_name, "bad-", 4) == 0 && !expected (e->d_name))
      fail_msg ("no expectation for %s", e->d_name);
  closedir (d);
}

static void
test_size_cap (void **state)
{
  size_t len = OVF_MAX_SIZE + 1;
  char *big = malloc (len);
  struct vm vm;

  (void) state;
  memset (big, ' ', len);
  assert_int_equal (ovf_parse (big, len, "big.ovf", &vm), -1);
  assert_non_null (strstr (error_get (), "ovf: 'big.ovf': the OVF is"));
  assert_int_equal (ovf_parse ("", 0, NULL, &vm), -1);
  assert_string_equal (error_get (), "ovf: '<memory>': empty document");
  free (big);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_round_trip_vmware),
    cmocka_unit_test (test_round_trip_virtualbox),
    cmocka_unit_test (test_round_trip_xenserver),
    cmocka_unit_test (test_round_trip_os),
    cmocka_unit_test (test_written_shape),
    cmocka_unit_test (test_written_flavour_details),
    cmocka_unit_test (test_write_remaps_and_refuses),
    cmocka_unit_test (test_formats_and_flavours),
    cmocka_unit_test (test_sample_vmware),
    cmocka_unit_test (test_sample_virtualbox),
    cmocka_unit_test (test_sample_virtualbox_ovf20),
    cmocka_unit_test (test_sample_xencenter),
    cmocka_unit_test (test_units),
    cmocka_unit_test (test_hostile_corpus),
    cmocka_unit_test (test_size_cap),
  };

  return UNIT_RUN_IN_TMPDIR (tests, dir);
}
