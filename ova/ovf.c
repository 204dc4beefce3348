/* ovf.c: the OVF descriptor codec (ovf.h) — writes VMware, VirtualBox and
 * XenServer flavoured OVF 1.0 and reads OVF 1.x/2.0 from hostile input. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlstring.h>

#include "common/checked.h"
#include "common/error.h"
#include "common/ids.h"
#include "common/strbuf.h"
#include "common/vector.h"
#include "ovf.h"
#include "common/banned.h"

#define NS_OVF1 "http://schemas.dmtf.org/ovf/envelope/1"
#define NS_OVF2 "http://schemas.dmtf.org/ovf/envelope/2"
#define NS_RASD "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/" \
  "CIM_ResourceAllocationSettingData"
#define NS_VSSD "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/" \
  "CIM_VirtualSystemSettingData"
#define NS_VMW "http://www.vmware.com/schema/ovf"
#define NS_XSI "http://www.w3.org/2001/XMLSchema-instance"
#define NS_VBOX "http://www.virtualbox.org/ovf/machine"
#define NS_XENOVF "http://schemas.citrix.com/ovf/envelope/1"
#define URI_VMDK \
  "http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized"
#define URI_VHD \
  "http://www.microsoft.com/technet/virtualserver/downloads/vhdspec.mspx"
/* The URIs oVirt and virt-v2v write for qcow2 and raw volumes. */
#define URI_QCOW2 "http://www.gnome.org/~markmc/qcow-image-format.html"
#define URI_RAW "http://en.wikipedia.org/wiki/Byte"

/* CIM ResourceType values (CIM_ResourceAllocationSettingData). */
enum {
  RT_CPU = 3, RT_MEMORY = 4, RT_IDE = 5, RT_SCSI = 6, RT_ETHERNET = 10,
  RT_DISK = 17, RT_STORAGE_EXTENT = 19, RT_OTHER_STORAGE = 20,
};

/* Caps on sections we only index (Disk is capped by VM_MAX_DISKS). */
#define MAX_FILES 256

#define NELEMS(a) (sizeof (a) / sizeof (a)[0])

/* ---- tables shared by both directions --------------------------------- */

/* OS families: CIM_OperatingSystem OSType (DSP1057 ValueMap), VMware
 * guestId, VirtualBox OSType.  103 is "Microsoft Windows Server 2008 R2",
 * the CIM id VMware itself writes for 64-bit Windows server guests. */
static const struct os_ids {
  enum vm_os os;
  unsigned cim;
  const char *vmw, *vbox, *desc;
} os_table[] = {
  { VM_OS_OTHER, 1, "otherGuest", "Other", "Other" },
  { VM_OS_LINUX, 36, "otherLinuxGuest", "Linux", "Linux" },
  { VM_OS_LINUX64, 101, "otherLinux64Guest", "Linux_64", "Linux 64-Bit" },
  { VM_OS_DEBIAN64, 96, "debian10_64Guest", "Debian_64", "Debian 64-Bit" },
  { VM_OS_UBUNTU64, 94, "ubuntu64Guest", "Ubuntu_64", "Ubuntu 64-Bit" },
  { VM_OS_RHEL64, 80, "rhel8_64Guest", "RedHat_64",
    "RedHat Enterprise Linux 64-Bit" },
  { VM_OS_SLES64, 85, "sles15_64Guest", "OpenSUSE_64", "SLES 64-Bit" },
  { VM_OS_WINDOWS64, 103, "windows9Server64Guest", "Windows2019_64",
    "Microsoft Windows Server 2008 R2" },
};

/* Other CIM ids real writers use, mapped to the nearest family. */
static const struct { unsigned cim; enum vm_os os; } cim_extra[] = {
  { 0, VM_OS_OTHER }, { 102, VM_OS_OTHER },
  { 79, VM_OS_LINUX }, { 82, VM_OS_LINUX }, { 84, VM_OS_LINUX },
  { 89, VM_OS_LINUX }, { 91, VM_OS_LINUX }, { 93, VM_OS_LINUX },
  { 95, VM_OS_LINUX }, { 97, VM_OS_LINUX }, { 99, VM_OS_LINUX },
  { 106, VM_OS_LINUX }, { 108, VM_OS_LINUX },
  { 83, VM_OS_LINUX64 }, { 90, VM_OS_LINUX64 }, { 92, VM_OS_LINUX64 },
  { 98, VM_OS_LINUX64 }, { 100, VM_OS_LINUX64 },
  { 107, VM_OS_RHEL64 }, { 109, VM_OS_RHEL64 },
  { 70, VM_OS_WINDOWS64 }, { 71, VM_OS_WINDOWS64 }, { 74, VM_OS_WINDOWS64 },
  { 77, VM_OS_WINDOWS64 }, { 113, VM_OS_WINDOWS64 },
  { 115, VM_OS_WINDOWS64 }, { 116, VM_OS_WINDOWS64 },
};

/* NIC models: our name, the ResourceSubType VMware/VirtualBox write, and
 * which of the two can emulate it. */
static const struct {
  const char *model, *subtype;
  bool vmware, vbox;
} nic_models[] = {
  { "e1000", "E1000", true, true }, { "e1000e", "E1000e", true, false },
  { "vmxnet3", "VmxNet3", true, false }, { "pcnet", "PCNet32", true, true },
  { "virtio", "virtio", false, true },
};

static const struct os_ids *
os_ids (enum vm_os os)
{
  size_t i;

  for (i = 0; i < NELEMS (os_table); i++)
    if (os_table[i].os == os)
      return &os_table[i];
  return &os_table[0];
}

/* Disks per controller: a disk's unit is index * slots + position. */
static unsigned
bus_slots (enum vm_bus bus)
{
  switch (bus) {
  case VM_BUS_IDE: return 2;
  case VM_BUS_SATA: return 30;
  default: return 15;
  }
}

const char *
ovf_flavour_name (enum ovf_flavour f)
{
  switch (f) {
  case OVF_VIRTUALBOX: return "virtualbox";
  case OVF_XENSERVER: return "xenserver";
  default: return "vmware";
  }
}

int
ovf_flavour_parse (const char *s, enum ovf_flavour *f)
{
  static const enum ovf_flavour all[] = {
    OVF_VMWARE, OVF_VIRTUALBOX, OVF_XENSERVER,
  };
  size_t i;

  for (i = 0; i < NELEMS (all); i++)
    if (strcmp (s, ovf_flavour_name (all[i])) == 0) {
      *f = all[i];
      return 0;
    }
  return error_set ("ovf: unknown flavour '%s' (vmware, virtualbox, "
                    "xenserver)", s);
}

/* ==== writer ============================================================ */

DEFINE_VECTOR_TYPE (str_vector, char *);

struct place {
  enum vm_bus bus;
  unsigned unit;
  bool parentless;              /* XenServer VBD: no controller Item */
  bool done;
};

struct wctrl {
  enum vm_bus bus;
  unsigned index;
  unsigned id;                  /* InstanceID */
};

struct writer {
  const struct vm *vm;
  enum ovf_flavour fl;
  const char *system_type;
  struct strbuf sb;
  str_vector pool;              /* escaped strings, freed at the end */
  bool failed;
  struct place place[VM_MAX_DISKS];
  struct wctrl ctrls[VM_MAX_DISKS];
  size_t nctrls;
  unsigned next_id;
};

static void emit (struct writer *w, const char *fmt, ...)
  __attribute__ ((format (printf, 2, 3)));

static void
emit (struct writer *w, const char *fmt, ...)
{
  va_list ap;
  char *s;
  int n;

  if (w->failed)
    return;
  va_start (ap, fmt);
  n = vasprintf (&s, fmt, ap);
  va_end (ap);
  if (n < 0) {
    error_errno ("ovf: vasprintf");
    w->failed = true;
    return;
  }
  if (strbuf_add (&w->sb, s, (size_t) n) == -1)
    w->failed = true;
  free (s);
}

static const char *
escape_entity (char c)
{
  switch (c) {
  case '&': return "&amp;";
  case '<': return "&lt;";
  case '>': return "&gt;";
  case '"': return "&quot;";
  case '\'': return "&apos;";
  /* As references so that attribute normalisation keeps them. */
  case '\t': return "&#9;";
  case '\n': return "&#10;";
  case '\r': return "&#13;";
  default: return NULL;
  }
}

/* Escape for both element text and attribute values; the result lives in
 * the writer's pool.  On ENOMEM the writer fails and "" is returned. */
static const char *
xe (struct writer *w, const char *s)
{
  struct strbuf e = STRBUF_INIT;
  const char *ent;
  int r = strbuf_add (&e, "", 0);

  for (; r == 0 && *s; s++) {
    ent = escape_entity (*s);
    r = ent ? strbuf_adds (&e, ent) : strbuf_add (&e, s, 1);
  }
  if (r == -1 || str_vector_append (&w->pool, e.buf) == -1) {
    strbuf_release (&e);
    w->failed = true;
    return "";
  }
  return e.buf;
}

/* XML 1.0 cannot carry most C0 controls even as references, nor bytes
 * that are not UTF-8: refuse them rather than write a broken document. */
static int
check_text (const char *field, const char *s)
{
  const unsigned char *p;

  if (s == NULL)
    return 0;
  if (!xmlCheckUTF8 ((const unsigned char *) s))
    return error_set ("ovf: %s is not valid UTF-8", field);
  for (p = (const unsigned char *) s; *p; p++)
    if (*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r')
      return error_set ("ovf: %s contains control characters", field);
  return 0;
}

static int
check_strings (const struct vm *vm)
{
  size_t i;

  if (check_text ("the VM name", vm->name) == -1 ||
      check_text ("the VM description", vm->description) == -1)
    return -1;
  for (i = 0; i < vm->disks.len; i++) {
    const struct vm_disk *d = &vm->disks.ptr[i];
    if (d->file == NULL || d->file[0] == '\0')
      return error_set ("ovf: disk %zu has no file name", i);
    if (check_text ("a disk file name", d->file) == -1)
      return -1;
    if (d->unit > OVF_MAX_UNIT)
      return error_set ("ovf: disk %zu: unit %u is out of range", i, d->unit);
  }
  for (i = 0; i < vm->nics.len; i++)
    if (check_text ("a network name", vm->nics.ptr[i].network) == -1 ||
        check_text ("a NIC model", vm->nics.ptr[i].model) == -1)
      return -1;
  return 0;
}

/* ---- placement: which controller and position each disk gets --------- */

static enum vm_bus
flavour_bus (enum ovf_flavour fl, enum vm_bus bus)
{
  if (bus == VM_BUS_IDE || bus == VM_BUS_SATA || bus == VM_BUS_SCSI)
    return bus;
  switch (fl) {
  case OVF_VMWARE: return bus == VM_BUS_NVME ? VM_BUS_NVME : VM_BUS_SCSI;
  case OVF_VIRTUALBOX: return VM_BUS_SATA;
  default: return VM_BUS_XEN;
  }
}

static bool
unit_taken (const struct writer *w, enum vm_bus bus, unsigned unit)
{
  size_t i;

  for (i = 0; i < w->vm->disks.len; i++)
    if (w->place[i].done && w->place[i].bus == bus &&
        w->place[i].unit == unit)
      return true;
  return false;
}

/* Disks on a bus the flavour has keep their unit; remapped disks take the
 * first free unit on their new bus so two disks never share a slot. */
static void
place_disks (struct writer *w)
{
  const vm_disk_vector *d = &w->vm->disks;
  size_t i;
  int pass;

  for (pass = 0; pass < 2; pass++)
    for (i = 0; i < d->len; i++) {
      enum vm_bus b = flavour_bus (w->fl, d->ptr[i].bus);
      struct place *p = &w->place[i];
      bool native = b == d->ptr[i].bus;

      if (native != (pass == 0))
        continue;
      p->bus = b;
      p->parentless = b == VM_BUS_XEN;
      p->unit = d->ptr[i].unit;
      if (!native)
        for (p->unit = 0; unit_taken (w, b, p->unit); p->unit++)
          ;
      p->done = true;
    }
}

static int
ctrl_cmp (const void *a, const void *b)
{
  const struct wctrl *x = a, *y = b;

  if (x->bus != y->bus)
    return x->bus < y->bus ? -1 : 1;
  return x->index < y->index ? -1 : x->index > y->index;
}

/* One controller Item per (bus, index) in use, in a stable order. */
static void
collect_controllers (struct writer *w)
{
  size_t i, j;

  for (i = 0; i < w->vm->disks.len; i++) {
    const struct place *p = &w->place[i];
    unsigned index = p->unit / bus_slots (p->bus);

    if (p->parentless)
      continue;
    for (j = 0; j < w->nctrls; j++)
      if (w->ctrls[j].bus == p->bus && w->ctrls[j].index == index)
        break;
    if (j == w->nctrls) {
      w->ctrls[j].bus = p->bus;
      w->ctrls[j].index = index;
      w->nctrls++;
    }
  }
  qsort (w->ctrls, w->nctrls, sizeof w->ctrls[0], ctrl_cmp);
  for (j = 0; j < w->nctrls; j++)
    w->ctrls[j].id = w->next_id++;
}

static unsigned
ctrl_id (const struct writer *w, enum vm_bus bus, unsigned index)
{
  size_t j;

  for (j = 0; j < w->nctrls; j++)
    if (w->ctrls[j].bus == bus && w->ctrls[j].index == index)
      return w->ctrls[j].id;
  return 0;
}

/* ---- Items: rasd children sorted by name, as VMware requires ---------- */

#define ITEM_FIELDS 12

struct item {
  size_t n;
  struct { const char *name, *value; } f[ITEM_FIELDS];
  char buf[ITEM_FIELDS][48];    /* storage for formatted values */
};

static void item_addf (struct item *it, const char *name, const char *fmt,
                       ...) __attribute__ ((format (printf, 3, 4)));

static void
item_add (struct item *it, const char *name, const char *value)
{
  if (value != NULL && it->n < ITEM_FIELDS) {
    it->f[it->n].name = name;
    it->f[it->n].value = value;
    it->n++;
  }
}

static void
item_addf (struct item *it, const char *name, const char *fmt, ...)
{
  va_list ap;

  if (it->n >= ITEM_FIELDS)
    return;
  va_start (ap, fmt);
  vsnprintf (it->buf[it->n], sizeof it->buf[0], fmt, ap);
  va_end (ap);
  item_add (it, name, it->buf[it->n]);
}

static int
field_cmp (const void *a, const void *b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

static void
item_emit (struct writer *w, struct item *it)
{
  size_t i;

  /* Each entry starts with its name pointer, so sorting entries by their
   * first member sorts by rasd local name. */
  qsort (it->f, it->n, sizeof it->f[0], field_cmp);
  emit (w, "      <Item>\n");
  for (i = 0; i < it->n; i++)
    emit (w, "        <rasd:%s>%s</rasd:%s>\n", it->f[i].name,
          xe (w, it->f[i].value), it->f[i].name);
  emit (w, "      </Item>\n");
}

static void
write_cpu_memory (struct writer *w)
{
  struct item cpu = { 0 }, mem = { 0 };

  if (w->fl == OVF_VMWARE)
    item_add (&cpu, "AllocationUnits", "hertz * 10^6");
  item_add (&cpu, "Description", "Number of Virtual CPUs");
  item_addf (&cpu, "ElementName", "%u virtual CPU(s)", w->vm->cpus);
  item_add (&cpu, "InstanceID", "1");
  item_addf (&cpu, "ResourceType", "%d", RT_CPU);
  item_addf (&cpu, "VirtualQuantity", "%u", w->vm->cpus);
  item_emit (w, &cpu);

  item_add (&mem, "AllocationUnits", "byte * 2^20");
  item_add (&mem, "Description", "Memory Size");
  item_addf (&mem, "ElementName", "%llu MB of memory",
             (unsigned long long) w->vm->memory_mib);
  item_add (&mem, "InstanceID", "2");
  item_addf (&mem, "ResourceType", "%d", RT_MEMORY);
  item_addf (&mem, "VirtualQuantity", "%llu",
             (unsigned long long) w->vm->memory_mib);
  item_emit (w, &mem);
}

static void
write_controller (struct writer *w, const struct wctrl *c)
{
  struct item it = { 0 };
  bool vmw = w->fl == OVF_VMWARE;

  item_addf (&it, "Address", "%u", c->index);
  item_addf (&it, "InstanceID", "%u", c->id);
  switch (c->bus) {
  case VM_BUS_IDE:
    item_add (&it, "Description", "IDE Controller");
    item_addf (&it, "ElementName", "IDE %u", c->index);
    item_add (&it, "ResourceSubType",
              w->fl == OVF_VIRTUALBOX ? "PIIX4" : NULL);
    item_addf (&it, "ResourceType", "%d", RT_IDE);
    break;
  case VM_BUS_SCSI:
    item_add (&it, "Description", "SCSI Controller");
    item_addf (&it, "ElementName", "SCSI controller %u", c->index);
    item_add (&it, "ResourceSubType", "lsilogic");
    item_addf (&it, "ResourceType", "%d", RT_SCSI);
    break;
  case VM_BUS_NVME:
    item_add (&it, "Description", "NVME Controller");
    item_addf (&it, "ElementName", "NVME controller %u", c->index);
    item_add (&it, "ResourceSubType", "vmware.nvme.controller");
    item_addf (&it, "ResourceType", "%d", RT_OTHER_STORAGE);
    break;
  default:
    item_add (&it, "Description", "SATA Controller");
    item_addf (&it, "ElementName", "SATA controller %u", c->index);
    item_add (&it, "ResourceSubType", vmw ? "vmware.sata.ahci" : "AHCI");
    item_addf (&it, "ResourceType", "%d", RT_OTHER_STORAGE);
    break;
  }
  item_emit (w, &it);
}

/* Position on the controller; VMware reserves SCSI target 7 for the HBA. */
static unsigned
disk_address (const struct place *p)
{
  unsigned a = p->unit % bus_slots (p->bus);

  if (p->parentless)
    return p->unit;
  if (p->bus == VM_BUS_SCSI && a >= 7)
    a++;
  return a;
}

static void
write_disk_item (struct writer *w, size_t i)
{
  const struct place *p = &w->place[i];
  struct item it = { 0 };

  item_addf (&it, "AddressOnParent", "%u", disk_address (p));
  item_addf (&it, "ElementName", "Hard disk %zu", i + 1);
  item_addf (&it, "HostResource", "ovf:/disk/vmdisk%zu", i + 1);
  item_addf (&it, "InstanceID", "%u", w->next_id++);
  if (!p->parentless)
    item_addf (&it, "Parent", "%u",
               ctrl_id (w, p->bus, p->unit / bus_slots (p->bus)));
  item_addf (&it, "ResourceType", "%d", RT_DISK);
  item_emit (w, &it);
}

static const char *
nic_subtype (enum ovf_flavour fl, const char *model)
{
  size_t i;

  if (fl == OVF_XENSERVER)
    return model;               /* XenCenter ignores it: keep ours */
  for (i = 0; model && i < NELEMS (nic_models); i++)
    if (strcasecmp (model, nic_models[i].model) == 0 &&
        (fl == OVF_VMWARE ? nic_models[i].vmware : nic_models[i].vbox))
      return nic_models[i].subtype;
  return "E1000";               /* every guest has a driver for it */
}

static const char *
nic_network (const struct vm_nic *n)
{
  return n->network && n->network[0] ? n->network : "VM Network";
}

static void
write_nic_item (struct writer *w, size_t i)
{
  const struct vm_nic *n = &w->vm->nics.ptr[i];
  struct item it = { 0 };
  char mac[18];

  if (n->has_mac) {
    mac_format (n->mac, mac);
    item_add (&it, "Address", mac);
  }
  item_add (&it, "AutomaticAllocation", "true");
  item_add (&it, "Connection", nic_network (n));
  item_addf (&it, "ElementName", "Network adapter %zu", i + 1);
  item_addf (&it, "InstanceID", "%u", w->next_id++);
  item_add (&it, "ResourceSubType", nic_subtype (w->fl, n->model));
  item_addf (&it, "ResourceType", "%d", RT_ETHERNET);
  item_emit (w, &it);
}

/* ---- sections ---------------------------------------------------------- */

static const char *
format_uri (enum ovf_flavour fl, const char *format)
{
  if (format == NULL)
    return fl == OVF_XENSERVER ? URI_VHD : URI_VMDK;
  if (strcmp (format, "vmdk") == 0)
    return URI_VMDK;
  if (strcmp (format, "vhd") == 0)
    return URI_VHD;
  if (strcmp (format, "qcow2") == 0)
    return URI_QCOW2;
  if (strcmp (format, "raw") == 0)
    return URI_RAW;
  return NULL;
}

static int
write_references_disks (struct writer *w)
{
  const vm_disk_vector *d = &w->vm->disks;
  size_t i;

  for (i = 0; i < d->len; i++)
    if (format_uri (w->fl, d->ptr[i].format) == NULL)
      return error_set ("ovf: disk %zu: format '%s' cannot be described in "
                        "OVF (vmdk, vhd, qcow2 or raw)", i, d->ptr[i].format);
  emit (w, "  <References>\n");
  for (i = 0; i < d->len; i++) {
    emit (w, "    <File ovf:href=\"%s\" ovf:id=\"file%zu\"",
          xe (w, d->ptr[i].file), i + 1);
    if (d->ptr[i].file_size)
      emit (w, " ovf:size=\"%llu\"",
            (unsigned long long) d->ptr[i].file_size);
    emit (w, "/>\n");
  }
  emit (w, "  </References>\n");
  if (d->len == 0)
    return 0;
  emit (w, "  <DiskSection>\n    <Info>Virtual disk information</Info>\n");
  for (i = 0; i < d->len; i++)
    emit (w, "    <Disk ovf:capacity=\"%llu\" ovf:capacityAllocationUnits="
          "\"byte\" ovf:diskId=\"vmdisk%zu\" ovf:fileRef=\"file%zu\" "
          "ovf:format=\"%s\"/>\n", (unsigned long long) d->ptr[i].capacity,
          i + 1, i + 1, format_uri (w->fl, d->ptr[i].format));
  emit (w, "  </DiskSection>\n");
  return 0;
}

static void
write_networks (struct writer *w)
{
  const vm_nic_vector *n = &w->vm->nics;
  size_t i, j;

  if (n->len == 0)
    return;
  emit (w, "  <NetworkSection>\n"
        "    <Info>The list of logical networks</Info>\n");
  for (i = 0; i < n->len; i++) {
    const char *name = nic_network (&n->ptr[i]);
    for (j = 0; j < i; j++)
      if (strcmp (nic_network (&n->ptr[j]), name) == 0)
        break;
    if (j < i)
      continue;                 /* one Network per distinct name */
    emit (w, "    <Network ovf:name=\"%s\">\n"
          "      <Description>The %s network</Description>\n"
          "    </Network>\n", xe (w, name), xe (w, name));
  }
  emit (w, "  </NetworkSection>\n");
}

static void
write_os (struct writer *w)
{
  const struct os_ids *os = os_ids (w->vm->os);

  emit (w, "    <OperatingSystemSection ovf:id=\"%u\"", os->cim);
  if (w->fl == OVF_VMWARE)
    emit (w, " vmw:osType=\"%s\"", os->vmw);
  emit (w, ">\n      <Info>The kind of installed guest operating system"
        "</Info>\n      <Description>%s</Description>\n", os->desc);
  if (w->fl == OVF_VIRTUALBOX)
    emit (w, "      <vbox:OSType ovf:required=\"false\">%s</vbox:OSType>\n",
          os->vbox);
  emit (w, "    </OperatingSystemSection>\n");
}

static void
write_config (struct writer *w, const char *key, const char *value)
{
  emit (w, "      <vmw:Config ovf:required=\"false\" vmw:key=\"%s\" "
        "vmw:value=\"%s\"/>\n", key, value);
}

static void
write_hardware (struct writer *w)
{
  size_t i;
  char uuid[37];

  emit (w, "    <VirtualHardwareSection>\n"
        "      <Info>Virtual hardware requirements</Info>\n"
        "      <System>\n"
        "        <vssd:ElementName>Virtual Hardware Family</vssd:ElementName>\n"
        "        <vssd:InstanceID>0</vssd:InstanceID>\n"
        "        <vssd:VirtualSystemIdentifier>%s</vssd:VirtualSystemIdentifier>\n"
        "        <vssd:VirtualSystemType>%s</vssd:VirtualSystemType>\n"
        "      </System>\n", xe (w, w->vm->name), xe (w, w->system_type));
  write_cpu_memory (w);
  for (i = 0; i < w->nctrls; i++)
    write_controller (w, &w->ctrls[i]);
  for (i = 0; i < w->vm->disks.len; i++)
    write_disk_item (w, i);
  for (i = 0; i < w->vm->nics.len; i++)
    write_nic_item (w, i);
  if (w->vm->firmware == VM_FW_UEFI)
    write_config (w, "firmware", "efi");
  if (w->vm->has_uuid) {
    uuid_format (w->vm->uuid, uuid);
    write_config (w, "uuid", uuid);
  }
  if (w->fl == OVF_XENSERVER && w->vm->firmware == VM_FW_UEFI)
    emit (w, "      <xenovf:VirtualSystemOtherConfigurationData "
          "Name=\"HVM_boot_params\">\n"
          "        <Value>order=dc;firmware=uefi</Value>\n"
          "      </xenovf:VirtualSystemOtherConfigurationData>\n");
  emit (w, "    </VirtualHardwareSection>\n");
}

static void
write_envelope_start (struct writer *w)
{
  emit (w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<Envelope xmlns=\"" NS_OVF1 "\" xmlns:ovf=\"" NS_OVF1 "\"\n"
        "          xmlns:rasd=\"" NS_RASD "\"\n"
        "          xmlns:vmw=\"" NS_VMW "\"\n"
        "          xmlns:vssd=\"" NS_VSSD "\"\n"
        "          xmlns:xsi=\"" NS_XSI "\"");
  if (w->fl == OVF_VIRTUALBOX)
    emit (w, "\n          xmlns:vbox=\"" NS_VBOX "\"");
  if (w->fl == OVF_XENSERVER)
    emit (w, "\n          xmlns:xenovf=\"" NS_XENOVF "\"");
  emit (w, ">\n");
}

static int
write_document (struct writer *w)
{
  const struct vm *vm = w->vm;

  write_envelope_start (w);
  if (write_references_disks (w) == -1)
    return -1;
  write_networks (w);
  emit (w, "  <VirtualSystem ovf:id=\"%s\">\n"
        "    <Info>A virtual machine</Info>\n"
        "    <Name>%s</Name>\n", xe (w, vm->name), xe (w, vm->name));
  write_os (w);
  write_hardware (w);
  if (vm->description && vm->description[0])
    emit (w, "    <AnnotationSection ovf:required=\"false\">\n"
          "      <Info>A human-readable annotation</Info>\n"
          "      <Annotation>%s</Annotation>\n"
          "    </AnnotationSection>\n", xe (w, vm->description));
  emit (w, "  </VirtualSystem>\n</Envelope>\n");
  return w->failed ? -1 : 0;
}

static const char *
default_system_type (enum ovf_flavour fl)
{
  switch (fl) {
  case OVF_VIRTUALBOX: return "virtualbox-2.2";
  case OVF_XENSERVER: return "hvm-3.0-unknown";
  default: return "vmx-14";
  }
}

int
ovf_write_opts (const struct vm *vm, const struct ovf_write_options *o,
                struct strbuf *out)
{
  struct writer w = { .vm = vm, .fl = o->flavour };
  size_t i;
  int r;

  w.system_type = o->system_type ? o->system_type
    : default_system_type (o->flavour);
  if (vm_validate (vm, "ovf") == -1 || check_strings (vm) == -1 ||
      check_text ("the system type", w.system_type) == -1)
    return -1;
  place_disks (&w);
  /* InstanceIDs: 1 CPU, 2 memory, then controllers, disks, NICs. */
  w.next_id = 3;
  collect_controllers (&w);
  r = write_document (&w);
  if (r == 0 && strbuf_add (out, w.sb.buf, w.sb.len) == -1)
    r = -1;
  for (i = 0; i < w.pool.len; i++)
    free (w.pool.ptr[i]);
  str_vector_reset (&w.pool);
  strbuf_release (&w.sb);
  return r;
}

int
ovf_write (const struct vm *vm, enum ovf_flavour flavour, struct strbuf *out)
{
  struct ovf_write_options o = { .flavour = flavour };

  return ovf_write_opts (vm, &o, out);
}

/* ==== reader ============================================================ */

struct ofile {
  const char *id, *href;
  uint64_t size;
  const char *compression;      /* NULL or "identity" = plain */
  bool chunked;
  bool used;
};
DEFINE_VECTOR_TYPE (ofile_vector, struct ofile);

struct odisk {
  const char *id;
  const char *file_ref;         /* NULL = blank disk */
  size_t file;                  /* index into files when file_ref set */
  const char *format_uri;
  uint64_t capacity;
  bool used;
};
DEFINE_VECTOR_TYPE (odisk_vector, struct odisk);

struct octrl {
  const char *id;               /* InstanceID; may be NULL */
  enum vm_bus bus;
  unsigned index;
};
DEFINE_VECTOR_TYPE (octrl_vector, struct octrl);

/* The rasd (or sasd/epasd in OVF 2.0) fields we read, by local name. */
enum field {
  F_ADDRESS, F_ADDRESS_ON_PARENT, F_ALLOCATION_UNITS, F_CONNECTION,
  F_HOST_RESOURCE, F_INSTANCE_ID, F_PARENT, F_RESOURCE_SUBTYPE,
  F_RESOURCE_TYPE, F_VIRTUAL_QUANTITY, NFIELDS
};
static const char *const field_names[NFIELDS] = {
  "Address", "AddressOnParent", "AllocationUnits", "Connection",
  "HostResource", "InstanceID", "Parent", "ResourceSubType",
  "ResourceType", "VirtualQuantity",
};

struct oitem {
  const char *f[NFIELDS];       /* trimmed text, NULL if absent */
  uint64_t type;
};
DEFINE_VECTOR_TYPE (oitem_vector, struct oitem);
DEFINE_VECTOR_TYPE (xstr_vector, xmlChar *);

struct parse {
  const char *what;
  const xmlChar *ns;            /* the envelope's OVF namespace */
  struct vm *vm;
  ofile_vector files;
  odisk_vector disks;
  octrl_vector ctrls;
  oitem_vector items;
  xstr_vector owned;            /* element texts, freed at the end */
  bool has_disk_section;
  bool xen;                     /* Xen system type: bare disks are VBDs */
  bool has_cpu, has_memory;
  unsigned bare_disks;
};

static int fail (struct parse *p, const char *fmt, ...)
  __attribute__ ((format (printf, 2, 3)));

static int
fail (struct parse *p, const char *fmt, ...)
{
  char msg[512];
  va_list ap;

  va_start (ap, fmt);
  vsnprintf (msg, sizeof msg, fmt, ap);
  va_end (ap);
  return error_set ("ovf: '%s': %s", p->what, msg);
}

/* A printable, bounded copy of hostile text for an error message, so that
 * the message stays one short line. */
static const char *
show (char buf[80], const char *s)
{
  size_t i, n = 0;

  if (s == NULL)
    s = "";
  for (i = 0; s[i] && n < 64; i++)
    buf[n++] = (unsigned char) s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
  if (s[i])
    buf[n++] = '.', buf[n++] = '.', buf[n++] = '.';
  buf[n] = '\0';
  return buf;
}

static int
parse_u64 (const char *s, uint64_t *v)
{
  unsigned long long r;
  char *end;

  if (s == NULL)
    return -1;
  while (isspace ((unsigned char) *s))
    s++;
  if (!isdigit ((unsigned char) *s))
    return -1;                  /* no sign, no empty string */
  errno = 0;
  r = strtoull (s, &end, 10);
  if (errno == ERANGE)
    return -1;
  while (isspace ((unsigned char) *end))
    end++;
  if (*end != '\0')
    return -1;
  *v = r;
  return 0;
}

/* "byte * 2^20", "byte * 10^9", "MegaBytes", "GB", "byte"... as a
 * multiplier in bytes; -1 if unknown or overflowing. */
static int
parse_units (const char *s, uint64_t *mult)
{
  static const struct { const char *name; uint64_t mult; } named[] = {
    { "byte", 1 }, { "bytes", 1 }, { "KiloBytes", 1ull << 10 },
    { "KB", 1ull << 10 }, { "MegaBytes", 1ull << 20 }, { "MB", 1ull << 20 },
    { "GigaBytes", 1ull << 30 }, { "GB", 1ull << 30 },
    { "TeraBytes", 1ull << 40 }, { "TB", 1ull << 40 },
  };
  unsigned long base, exp;
  uint64_t r = 1;
  char *end;
  size_t i;

  for (i = 0; i < NELEMS (named); i++)
    if (strcasecmp (s, named[i].name) == 0) {
      *mult = named[i].mult;
      return 0;
    }
  if (strncasecmp (s, "byte", 4) != 0)
    return -1;
  for (s += 4; *s == ' '; s++)
    ;
  if (*s++ != '*')
    return -1;
  while (*s == ' ')
    s++;
  if (!isdigit ((unsigned char) *s))
    return -1;
  base = strtoul (s, &end, 10);
  if (*end != '^' || !isdigit ((unsigned char) end[1]) ||
      (base != 2 && base != 10 && base != 1024))
    return -1;
  exp = strtoul (end + 1, &end, 10);
  while (*end == ' ')
    end++;
  if (*end != '\0' || exp > 64)
    return -1;
  for (i = 0; i < exp; i++)
    if (MUL_OVERFLOW (r, (uint64_t) base, &r))
      return -1;
  *mult = r;
  return 0;
}

/* ---- tree access ------------------------------------------------------- */

static bool
is_named (const xmlNode *n, const char *local)
{
  return n->type == XML_ELEMENT_NODE && strcmp ((const char *) n->name,
                                                local) == 0;
}

static bool
in_ns (const xmlNode *n, const char *href)
{
  return n->ns && n->ns->href &&
    strcmp ((const char *) n->ns->href, href) == 0;
}

/* The first OVF-namespace child element called `local`, or NULL. */
static xmlNode *
child (const struct parse *p, const xmlNode *parent, const char *local)
{
  xmlNode *c;

  for (c = parent ? parent->children : NULL; c; c = c->next)
    if (is_named (c, local) && in_ns (c, (const char *) p->ns))
      return c;
  return NULL;
}

/* Child in any namespace (vendor sections, rasd/sasd/epasd fields). */
static xmlNode *
child_any (const xmlNode *parent, const char *local)
{
  xmlNode *c;

  for (c = parent ? parent->children : NULL; c; c = c->next)
    if (is_named (c, local))
      return c;
  return NULL;
}

static size_t
count_children (const struct parse *p, const xmlNode *parent,
                const char *local)
{
  const xmlNode *c;
  size_t n = 0;

  for (c = parent ? parent->children : NULL; c; c = c->next)
    n += is_named (c, local) && in_ns (c, (const char *) p->ns);
  return n;
}

/* Attribute value in namespace `ns` (falling back to no namespace, which
 * some writers use), pointing into the tree.  No DTD is ever read, so an
 * attribute is one text node (entities are always expanded in values). */
static const char *
attr (const xmlNode *n, const char *name, const char *ns)
{
  xmlAttr *a = xmlHasNsProp (n, BAD_CAST name, BAD_CAST ns);

  if (a == NULL && ns != NULL)
    a = xmlHasNsProp (n, BAD_CAST name, NULL);
  if (a == NULL || a->type != XML_ATTRIBUTE_NODE)
    return NULL;
  if (a->children == NULL)
    return "";
  if (a->children->type != XML_TEXT_NODE || a->children->next != NULL)
    return NULL;
  return (const char *) a->children->content;
}

static const char *
oattr (const struct parse *p, const xmlNode *n, const char *name)
{
  return attr (n, name, (const char *) p->ns);
}

/* The text of an element, as an owned copy (text nodes may live in the
 * parser's dictionary, shared with other nodes: never edit them).
 * Leading and trailing white space is dropped if `trim`.  NULL + error
 * on ENOMEM only. */
static const char *
text (struct parse *p, const xmlNode *n, bool trim)
{
  xmlChar *s = xmlNodeGetContent (n);
  char *b, *e;

  if (s == NULL && (s = xmlStrdup (BAD_CAST "")) == NULL) {
    error_set ("ovf: out of memory");
    return NULL;
  }
  if (xstr_vector_append (&p->owned, s) == -1) {
    xmlFree (s);
    return NULL;
  }
  b = (char *) s;
  if (trim) {
    while (isspace ((unsigned char) *b))
      b++;
    for (e = b + strlen (b); e > b && isspace ((unsigned char) e[-1]); e--)
      ;
    *e = '\0';
  }
  return b;
}

/* ---- References and DiskSection ---------------------------------------- */

/* File names become member names and output paths: only plain names. */
static int
check_href (struct parse *p, const char *href)
{
  char b[80];
  const char *why = NULL;

  if (href[0] == '\0')
    why = "is empty";
  else if (href[0] == '/' || href[0] == '\\')
    why = "is an absolute path";
  else if (strchr (href, ':'))
    why = "is a URL";
  else if (strstr (href, ".."))
    why = "contains '..'";
  else if (strchr (href, '/') || strchr (href, '\\'))
    why = "contains a path separator";
  else if (strcmp (href, ".") == 0)
    why = "is not a file name";
  else if (strlen (href) > 255)
    why = "is longer than 255 bytes";
  else
    for (; *href && why == NULL; href++)
      if ((unsigned char) *href < 0x20)
        why = "contains control characters";
  if (why)
    return fail (p, "file name '%s' in References %s", show (b, href), why);
  return 0;
}

static int
find_file (const struct parse *p, const char *id, size_t *index)
{
  size_t i;

  for (i = 0; i < p->files.len; i++)
    if (strcmp (p->files.ptr[i].id, id) == 0) {
      *index = i;
      return 0;
    }
  return -1;
}

static int
parse_file (struct parse *p, const xmlNode *n)
{
  struct ofile f = { .id = oattr (p, n, "id"), .href = oattr (p, n, "href") };
  const char *size = oattr (p, n, "size");
  size_t dup;
  char b[80];

  if (f.id == NULL || f.href == NULL)
    return fail (p, "a File in References lacks ovf:id or ovf:href");
  if (find_file (p, f.id, &dup) == 0)
    return fail (p, "two files have the id '%s'", show (b, f.id));
  if (check_href (p, f.href) == -1)
    return -1;
  if (size && parse_u64 (size, &f.size) == -1)
    return fail (p, "file '%s' has a bad size '%s'", show (b, f.id), size);
  f.compression = oattr (p, n, "compression");
  f.chunked = oattr (p, n, "chunkSize") != NULL;
  return ofile_vector_append (&p->files, f);
}

static int
parse_references (struct parse *p, const xmlNode *refs)
{
  const xmlNode *c;
  size_t n = count_children (p, refs, "File");

  if (n > MAX_FILES)
    return fail (p, "too many files in References (%zu, limit %d)", n,
                 MAX_FILES);
  for (c = refs ? refs->children : NULL; c; c = c->next)
    if (is_named (c, "File") && in_ns (c, (const char *) p->ns) &&
        parse_file (p, c) == -1)
      return -1;
  return 0;
}

static int
disk_capacity (struct parse *p, const xmlNode *n, struct odisk *d)
{
  const char *cap = oattr (p, n, "capacity");
  const char *units = oattr (p, n, "capacityAllocationUnits");
  uint64_t mult = 1;
  char b[80], c[80];

  if (parse_u64 (cap, &d->capacity) == -1)
    return fail (p, "disk '%s' has a bad capacity '%s'", show (b, d->id),
                 show (c, cap));
  if (units && parse_units (units, &mult) == -1)
    return fail (p, "disk '%s' has unknown capacity units '%s'",
                 show (b, d->id), show (c, units));
  if (MUL_OVERFLOW (d->capacity, mult, &d->capacity) ||
      d->capacity > VM_MAX_CAPACITY)
    return fail (p, "disk '%s' has an absurd capacity (limit %llu bytes)",
                 show (b, d->id), (unsigned long long) VM_MAX_CAPACITY);
  if (d->capacity == 0)
    return fail (p, "disk '%s' has zero capacity", show (b, d->id));
  return 0;
}

static int
parse_disk (struct parse *p, const xmlNode *n)
{
  struct odisk d = { .id = oattr (p, n, "diskId") };
  size_t i;
  char b[80], c[80];

  if (d.id == NULL)
    return fail (p, "a Disk in DiskSection lacks ovf:diskId");
  for (i = 0; i < p->disks.len; i++)
    if (strcmp (p->disks.ptr[i].id, d.id) == 0)
      return fail (p, "two disks have the id '%s'", show (b, d.id));
  if (disk_capacity (p, n, &d) == -1)
    return -1;
  d.file_ref = oattr (p, n, "fileRef");
  d.format_uri = oattr (p, n, "format");
  if (d.file_ref && find_file (p, d.file_ref, &d.file) == -1)
    return fail (p, "disk '%s' refers to file '%s' which is not in "
                 "References", show (b, d.id), show (c, d.file_ref));
  return odisk_vector_append (&p->disks, d);
}

static int
parse_disk_section (struct parse *p, const xmlNode *sec)
{
  const xmlNode *c;
  size_t n = count_children (p, sec, "Disk");

  p->has_disk_section = sec != NULL;
  if (n > VM_MAX_DISKS)
    return fail (p, "too many disks (%zu, limit %d)", n, VM_MAX_DISKS);
  for (c = sec ? sec->children : NULL; c; c = c->next)
    if (is_named (c, "Disk") && in_ns (c, (const char *) p->ns) &&
        parse_disk (p, c) == -1)
      return -1;
  return 0;
}

/* ---- Items ------------------------------------------------------------- */

static bool
is_item (const struct parse *p, const xmlNode *n)
{
  /* OVF 2.0 adds StorageItem (sasd) and EthernetPortItem (epasd). */
  return in_ns (n, (const char *) p->ns) &&
    (is_named (n, "Item") || is_named (n, "StorageItem") ||
     is_named (n, "EthernetPortItem"));
}

static int
collect_item (struct parse *p, const xmlNode *n)
{
  struct oitem it = { .type = 0 };
  const xmlNode *c;
  size_t f;
  char b[80];

  for (c = n->children; c; c = c->next) {
    if (c->type != XML_ELEMENT_NODE)
      continue;
    for (f = 0; f < NFIELDS; f++)
      if (it.f[f] == NULL && strcmp ((const char *) c->name,
                                     field_names[f]) == 0 &&
          (it.f[f] = text (p, c, true)) == NULL)
        return -1;
  }
  if (parse_u64 (it.f[F_RESOURCE_TYPE], &it.type) == -1)
    return fail (p, "Item %zu has a bad ResourceType '%s'",
                 p->items.len + 1, show (b, it.f[F_RESOURCE_TYPE]));
  return oitem_vector_append (&p->items, it);
}

static int
collect_items (struct parse *p, const xmlNode *hw)
{
  const xmlNode *c;
  size_t n = 0;

  for (c = hw->children; c; c = c->next)
    n += is_item (p, c);
  if (n > OVF_MAX_ITEMS)
    return fail (p, "too many Items (%zu, limit %d)", n, OVF_MAX_ITEMS);
  for (c = hw->children; c; c = c->next)
    if (is_item (p, c) && collect_item (p, c) == -1)
      return -1;
  return 0;
}

/* A small number (address, index) or -1. */
static int
small (const char *s, unsigned *v)
{
  uint64_t u;

  if (parse_u64 (s, &u) == -1 || u > OVF_MAX_UNIT)
    return -1;
  *v = (unsigned) u;
  return 0;
}

static int
add_controller (struct parse *p, const struct oitem *it, enum vm_bus bus)
{
  struct octrl c = { .id = it->f[F_INSTANCE_ID], .bus = bus };
  size_t i;
  unsigned same = 0;
  char b[80];

  for (i = 0; i < p->ctrls.len; i++) {
    if (c.id && p->ctrls.ptr[i].id && strcmp (c.id, p->ctrls.ptr[i].id) == 0)
      return fail (p, "two controllers have the InstanceID '%s'",
                   show (b, c.id));
    same += p->ctrls.ptr[i].bus == bus;
  }
  /* rasd:Address numbers the controller (IDE 0, IDE 1); without it the
   * document order does. */
  if (small (it->f[F_ADDRESS], &c.index) == -1)
    c.index = same;
  return octrl_vector_append (&p->ctrls, c);
}

static int
collect_controllers_in (struct parse *p)
{
  size_t i;

  for (i = 0; i < p->items.len; i++) {
    const struct oitem *it = &p->items.ptr[i];
    const char *sub = it->f[F_RESOURCE_SUBTYPE];
    int r = 0;

    if (it->type == RT_IDE)
      r = add_controller (p, it, VM_BUS_IDE);
    else if (it->type == RT_SCSI)
      r = add_controller (p, it, VM_BUS_SCSI);
    else if (it->type == RT_OTHER_STORAGE)
      r = add_controller (p, it, sub && strcasestr (sub, "nvme")
                          ? VM_BUS_NVME : VM_BUS_SATA);
    if (r == -1)
      return -1;
  }
  return 0;
}

static int
item_cpu (struct parse *p, const struct oitem *it)
{
  uint64_t n;
  char b[80];

  if (p->has_cpu)
    return 0;                   /* the first CPU Item wins */
  p->has_cpu = true;
  if (parse_u64 (it->f[F_VIRTUAL_QUANTITY], &n) == -1)
    return fail (p, "bad number of CPUs '%s'",
                 show (b, it->f[F_VIRTUAL_QUANTITY]));
  if (n < 1 || n > VM_MAX_CPUS)
    return fail (p, "%llu CPUs is out of range (1-%d)",
                 (unsigned long long) n, VM_MAX_CPUS);
  p->vm->cpus = (unsigned) n;
  return 0;
}

static int
item_memory (struct parse *p, const struct oitem *it)
{
  const char *units = it->f[F_ALLOCATION_UNITS];
  uint64_t n, mult = 1ull << 20;
  char b[80];

  if (p->has_memory)
    return 0;
  p->has_memory = true;
  if (parse_u64 (it->f[F_VIRTUAL_QUANTITY], &n) == -1)
    return fail (p, "bad memory size '%s'",
                 show (b, it->f[F_VIRTUAL_QUANTITY]));
  if (units && parse_units (units, &mult) == -1)
    return fail (p, "unknown memory units '%s'", show (b, units));
  if (MUL_OVERFLOW (n, mult, &n))
    return fail (p, "memory size overflows");
  /* Whole MiB, rounding up a size given in smaller units. */
  p->vm->memory_mib = n / (1u << 20) + (n % (1u << 20) != 0);
  return 0;
}

/* Our model name for a ResourceSubType: the known ones mapped, others
 * lower-cased if they look like a model name, else none (*m = NULL). */
static int
lower_model (const char *sub, char **m)
{
  size_t i, n = strlen (sub);

  *m = NULL;
  for (i = 0; i < NELEMS (nic_models); i++)
    if (strcasecmp (sub, nic_models[i].subtype) == 0)
      return (*m = xstrdup (nic_models[i].model)) ? 0 : -1;
  if (n == 0 || n > 32)
    return 0;
  for (i = 0; i < n; i++)
    if (!isalnum ((unsigned char) sub[i]) && !strchr ("._-", sub[i]))
      return 0;
  if ((*m = xstrdup (sub)) == NULL)
    return -1;
  for (i = 0; i < n; i++)
    (*m)[i] = (char) tolower ((unsigned char) (*m)[i]);
  return 0;
}

static int
item_nic (struct parse *p, const struct oitem *it)
{
  const char *addr = it->f[F_ADDRESS], *net = it->f[F_CONNECTION];
  const char *sub = it->f[F_RESOURCE_SUBTYPE];
  uint8_t mac[6];
  char *model = NULL;
  char b[80];
  int r;

  if (p->vm->nics.len >= VM_MAX_NICS)
    return fail (p, "too many NICs (limit %d)", VM_MAX_NICS);
  if (addr && addr[0] && mac_parse (addr, mac) == -1)
    return fail (p, "NIC %zu has a bad MAC address '%s'",
                 p->vm->nics.len, show (b, addr));
  if (sub && lower_model (sub, &model) == -1)
    return -1;
  r = vm_add_nic (p->vm, addr && addr[0] ? mac : NULL,
                  net && net[0] ? net : NULL, model);
  free (model);
  return r;
}

static const char *
disk_format (const struct odisk *d, const char *href)
{
  const char *u = d->format_uri ? d->format_uri : "";

  if (strcasestr (u, "vmdk"))
    return "vmdk";
  if (strcasestr (u, "vhd"))
    return "vhd";
  if (strcasestr (u, "qcow"))
    return "qcow2";
  if (strcmp (u, URI_RAW) == 0)
    return "raw";
  if (str_has_suffix (href, ".vmdk"))
    return "vmdk";
  if (str_has_suffix (href, ".vhd"))
    return "vhd";
  if (str_has_suffix (href, ".qcow2"))
    return "qcow2";
  if (str_has_suffix (href, ".raw") || str_has_suffix (href, ".img"))
    return "raw";
  return NULL;
}

/* The disk a HostResource ("ovf:/disk/ID", or "/disk/ID" as VirtualBox
 * writes it) names; NULL + error if it names none. */
static struct odisk *
host_disk (struct parse *p, size_t item, const char *hr)
{
  const char *id = hr;
  char b[80];
  size_t i;

  if (str_has_prefix (id, "ovf:"))
    id += 4;
  if (!str_has_prefix (id, "/disk/")) {
    fail (p, "Item %zu: HostResource '%s' does not name a disk", item,
          show (b, hr));
    return NULL;
  }
  id += 6;
  for (i = 0; i < p->disks.len; i++)
    if (strcmp (p->disks.ptr[i].id, id) == 0)
      return &p->disks.ptr[i];
  if (!p->has_disk_section)
    fail (p, "Item %zu refers to disk '%s' but there is no DiskSection",
          item, show (b, id));
  else
    fail (p, "Item %zu refers to disk '%s' which is not in the DiskSection",
          item, show (b, id));
  return NULL;
}

/* The file behind a disk, claimed once. */
static struct ofile *
disk_file (struct parse *p, struct odisk *d)
{
  struct ofile *f;
  char b[80];

  if (d->used) {
    fail (p, "disk '%s' is attached twice", show (b, d->id));
    return NULL;
  }
  d->used = true;
  if (d->file_ref == NULL) {
    fail (p, "disk '%s' has no file (blank disks are not supported)",
          show (b, d->id));
    return NULL;
  }
  f = &p->files.ptr[d->file];
  if (f->used) {
    fail (p, "file '%s' is used by two disks", show (b, f->id));
    return NULL;
  }
  f->used = true;
  if (f->chunked || (f->compression && strcmp (f->compression, "identity"))) {
    fail (p, "file '%s' is chunked or compressed, which is not supported",
          show (b, f->href));
    return NULL;
  }
  return f;
}

static const struct octrl *
find_ctrl (const struct parse *p, const char *id)
{
  size_t i;

  for (i = 0; i < p->ctrls.len; i++)
    if (p->ctrls.ptr[i].id && strcmp (p->ctrls.ptr[i].id, id) == 0)
      return &p->ctrls.ptr[i];
  return NULL;
}

/* Bus and unit from the parent controller and AddressOnParent; the
 * inverse of the writer's disk_address(). */
static int
disk_position (struct parse *p, size_t item, const struct oitem *it,
               enum vm_bus *bus, unsigned *unit)
{
  const char *parent = it->f[F_PARENT];
  const struct octrl *c;
  unsigned addr = 0;
  bool has_addr = small (it->f[F_ADDRESS_ON_PARENT], &addr) == 0;
  char b[80];

  if (parent == NULL || parent[0] == '\0') {
    /* XenCenter writes VBDs without a controller. */
    *bus = p->xen ? VM_BUS_XEN : VM_BUS_IDE;
    *unit = has_addr ? addr : p->bare_disks;
    p->bare_disks++;
    return 0;
  }
  if ((c = find_ctrl (p, parent)) == NULL)
    return fail (p, "Item %zu: parent controller '%s' not found", item,
                 show (b, parent));
  if (c->bus == VM_BUS_SCSI && addr > 7)
    addr--;                     /* target 7 is the HBA's own */
  *bus = c->bus;
  *unit = c->index * bus_slots (c->bus) + addr;
  if (*unit > OVF_MAX_UNIT)
    return fail (p, "Item %zu: disk address is out of range", item);
  return 0;
}

/* Two disks in one slot cannot both be attached by any target. */
static int
check_position (struct parse *p, const struct odisk *d, enum vm_bus bus,
                unsigned unit)
{
  size_t i;
  char b[80];

  for (i = 0; i < p->vm->disks.len; i++)
    if (p->vm->disks.ptr[i].bus == bus && p->vm->disks.ptr[i].unit == unit)
      return fail (p, "disk '%s' is at the same %s position (%u) as disk "
                   "%zu", show (b, d->id), vm_bus_name (bus), unit, i);
  return 0;
}

static int
item_disk (struct parse *p, size_t item, const struct oitem *it)
{
  const char *hr = it->f[F_HOST_RESOURCE];
  struct odisk *d;
  struct ofile *f;
  const char *format;
  enum vm_bus bus = VM_BUS_IDE;
  unsigned unit = 0;
  char b[80];

  if (hr == NULL || hr[0] == '\0') {
    if (it->type == RT_STORAGE_EXTENT)
      return 0;
    return fail (p, "disk Item %zu has no HostResource", item);
  }
  if (it->type == RT_STORAGE_EXTENT && !strstr (hr, "/disk/"))
    return 0;
  if ((d = host_disk (p, item, hr)) == NULL || (f = disk_file (p, d)) == NULL)
    return -1;
  if ((format = disk_format (d, f->href)) == NULL)
    return fail (p, "disk '%s' has an unknown format '%s'", show (b, d->id),
                 d->format_uri ? d->format_uri : "");
  if (disk_position (p, item, it, &bus, &unit) == -1 ||
      check_position (p, d, bus, unit) == -1 ||
      vm_add_disk (p->vm, f->href, format, d->capacity, bus) == -1)
    return -1;
  p->vm->disks.ptr[p->vm->disks.len - 1].unit = unit;
  p->vm->disks.ptr[p->vm->disks.len - 1].file_size = f->size;
  return 0;
}

static int
process_items (struct parse *p)
{
  size_t i;

  if (collect_controllers_in (p) == -1)
    return -1;
  for (i = 0; i < p->items.len; i++) {
    const struct oitem *it = &p->items.ptr[i];
    int r = 0;

    switch (it->type) {
    case RT_CPU: r = item_cpu (p, it); break;
    case RT_MEMORY: r = item_memory (p, it); break;
    case RT_ETHERNET: r = item_nic (p, it); break;
    case RT_DISK: case RT_STORAGE_EXTENT: r = item_disk (p, i + 1, it); break;
    default: break;             /* CD-ROMs, USB, sound, video... */
    }
    if (r == -1)
      return -1;
  }
  if (!p->has_cpu)
    return fail (p, "no CPU Item in the VirtualHardwareSection");
  if (!p->has_memory)
    return fail (p, "no memory Item in the VirtualHardwareSection");
  return 0;
}

/* ---- VirtualHardwareSection extras: vmw:Config, XenCenter, System ----- */

static int
vmw_config (struct parse *p, const xmlNode *n)
{
  const char *key = attr (n, "key", NS_VMW), *value = attr (n, "value",
                                                            NS_VMW);
  char b[80];

  if (key == NULL || value == NULL)
    return 0;
  if (strcmp (key, "firmware") == 0 && strcasecmp (value, "efi") == 0)
    p->vm->firmware = VM_FW_UEFI;
  if (strcmp (key, "uuid") == 0) {
    if (uuid_parse (value, p->vm->uuid) == -1)
      return fail (p, "bad VM UUID '%s'", show (b, value));
    p->vm->has_uuid = true;
  }
  return 0;
}

/* XenCenter: <xenovf:VirtualSystemOtherConfigurationData
 * Name="HVM_boot_params"><Value>order=dc;firmware=uefi</Value>. */
static int
xen_config (struct parse *p, const xmlNode *n)
{
  const char *name = attr (n, "Name", NULL);
  const xmlNode *v = child_any (n, "Value");
  const char *value;

  if (name == NULL || strcmp (name, "HVM_boot_params") || v == NULL)
    return 0;
  if ((value = text (p, v, true)) == NULL)
    return -1;
  if (strstr (value, "firmware=uefi"))
    p->vm->firmware = VM_FW_UEFI;
  return 0;
}

static int
system_type (struct parse *p, const xmlNode *hw)
{
  const xmlNode *t = child_any (child (p, hw, "System"), "VirtualSystemType");
  const char *s;

  if (t == NULL)
    return 0;
  if ((s = text (p, t, true)) == NULL)
    return -1;
  /* "xen-3.0-unknown", "hvm-3.0-unknown", "DMTF:xen:pv"... */
  p->xen = str_has_prefix (s, "hvm") || strstr (s, "xen") != NULL;
  return 0;
}

static int
parse_hardware (struct parse *p, const xmlNode *hw)
{
  const xmlNode *c;
  int r = 0;

  if (system_type (p, hw) == -1 || collect_items (p, hw) == -1 ||
      process_items (p) == -1)
    return -1;
  for (c = hw->children; c && r == 0; c = c->next) {
    if (is_named (c, "Config") && in_ns (c, NS_VMW))
      r = vmw_config (p, c);
    else if (is_named (c, "VirtualSystemOtherConfigurationData"))
      r = xen_config (p, c);
  }
  return r;
}

/* ---- operating system --------------------------------------------------- */

static enum vm_os
os_from_cim (uint64_t id)
{
  size_t i;

  for (i = 0; i < NELEMS (os_table); i++)
    if (os_table[i].cim == id)
      return os_table[i].os;
  for (i = 0; i < NELEMS (cim_extra); i++)
    if (cim_extra[i].cim == id)
      return cim_extra[i].os;
  return VM_OS_OTHER;
}

/* VMware guestId ("debian10_64Guest") or VirtualBox OSType ("Debian_64"):
 * used when the CIM id is missing or only says "other". */
static enum vm_os
os_from_name (const char *s)
{
  bool b64 = strstr (s, "64") != NULL;

  if (strcasestr (s, "windows"))
    return b64 ? VM_OS_WINDOWS64 : VM_OS_OTHER;
  if (!b64)
    return strcasestr (s, "linux") || strcasestr (s, "debian") ||
      strcasestr (s, "ubuntu") || strcasestr (s, "rhel") ||
      strcasestr (s, "redhat") || strcasestr (s, "centos") ||
      strcasestr (s, "suse") ? VM_OS_LINUX : VM_OS_OTHER;
  if (strcasestr (s, "debian"))
    return VM_OS_DEBIAN64;
  if (strcasestr (s, "ubuntu"))
    return VM_OS_UBUNTU64;
  if (strcasestr (s, "rhel") || strcasestr (s, "redhat") ||
      strcasestr (s, "centos") || strcasestr (s, "oracle") ||
      strcasestr (s, "rocky") || strcasestr (s, "alma"))
    return VM_OS_RHEL64;
  if (strcasestr (s, "sles"))
    return VM_OS_SLES64;
  if (strcasestr (s, "linux") || strcasestr (s, "suse"))
    return VM_OS_LINUX64;
  return VM_OS_OTHER;
}

static int
parse_os (struct parse *p, const xmlNode *sec)
{
  const char *id = oattr (p, sec, "id"), *name = attr (sec, "osType",
                                                       NS_VMW);
  const xmlNode *vbox = child_any (sec, "OSType");
  uint64_t cim;

  if (id && parse_u64 (id, &cim) == 0)
    p->vm->os = os_from_cim (cim);
  if (p->vm->os != VM_OS_OTHER)
    return 0;
  if (name == NULL && vbox && in_ns (vbox, NS_VBOX) &&
      (name = text (p, vbox, true)) == NULL)
    return -1;
  if (name)
    p->vm->os = os_from_name (name);
  return 0;
}

/* ---- vbox:Machine: firmware, UUID and MACs VirtualBox keeps there ----- */

static int
vbox_mac (const char *s, uint8_t mac[6])
{
  char colon[18];
  size_t i;

  if (s == NULL || strlen (s) != 12)
    return -1;
  for (i = 0; i < 6; i++) {
    colon[3 * i] = s[2 * i];
    colon[3 * i + 1] = s[2 * i + 1];
    colon[3 * i + 2] = i < 5 ? ':' : '\0';
  }
  return mac_parse (colon, mac);
}

/* VirtualBox's OVF Items carry no MAC: take them from the enabled adapters
 * when there is exactly one per NIC, in slot order. */
static void
vbox_macs (struct parse *p, const xmlNode *net)
{
  uint8_t macs[VM_MAX_NICS][6];
  size_t n = 0, i;
  const xmlNode *a;
  const char *en;

  for (a = net ? net->children : NULL; a; a = a->next) {
    if (!is_named (a, "Adapter"))
      continue;
    en = attr (a, "enabled", NULL);
    if (en == NULL || strcmp (en, "true") != 0)
      continue;
    if (n == VM_MAX_NICS ||
        vbox_mac (attr (a, "MACAddress", NULL), macs[n]) == -1)
      return;
    n++;
  }
  if (n != p->vm->nics.len)
    return;
  for (i = 0; i < n; i++)
    if (!p->vm->nics.ptr[i].has_mac) {
      memcpy (p->vm->nics.ptr[i].mac, macs[i], 6);
      p->vm->nics.ptr[i].has_mac = true;
    }
}

static void
parse_vbox_machine (struct parse *p, const xmlNode *m)
{
  const xmlNode *hw = child_any (m, "Hardware");
  const xmlNode *fw = child_any (hw, "Firmware");
  const char *type = fw ? attr (fw, "type", NULL) : NULL;
  const char *uuid = attr (m, "uuid", NULL);
  char plain[37];

  if (type && strncasecmp (type, "EFI", 3) == 0)
    p->vm->firmware = VM_FW_UEFI;
  /* "{xxxxxxxx-...}"; a malformed one is VirtualBox's business only. */
  if (!p->vm->has_uuid && uuid && strlen (uuid) == 38 && uuid[0] == '{') {
    memcpy (plain, uuid + 1, 36);
    plain[36] = '\0';
    if (uuid_parse (plain, p->vm->uuid) == 0)
      p->vm->has_uuid = true;
  }
  vbox_macs (p, child_any (hw, "Network"));
}

/* ---- VirtualSystem and Envelope ----------------------------------------- */

static int
parse_name (struct parse *p, const xmlNode *vs)
{
  const xmlNode *n = child (p, vs, "Name");
  const xmlAttr *id = xmlHasNsProp (vs, BAD_CAST "id", p->ns);
  const char *name = NULL;
  const unsigned char *c;

  if (id == NULL)
    id = xmlHasNsProp (vs, BAD_CAST "id", NULL);

  /* <Name>, else ovf:id; trimmed either way, as the writer cannot keep
   * surrounding blanks in <Name>. */
  if ((n || id) && (name = text (p, n ? n : (const xmlNode *) id,
                                 true)) == NULL)
    return -1;
  if (name == NULL || name[0] == '\0')
    return fail (p, "the VirtualSystem has no name");
  for (c = (const unsigned char *) name; *c; c++)
    if (*c < 0x20)
      return fail (p, "the VM name contains control characters");
  return (p->vm->name = xstrdup (name)) ? 0 : -1;
}

static int
parse_annotation (struct parse *p, const xmlNode *vs)
{
  const xmlNode *a = child (p, child (p, vs, "AnnotationSection"),
                            "Annotation");
  const char *s;

  if (a == NULL)
    return 0;
  if ((s = text (p, a, false)) == NULL)
    return -1;
  if (s[0] && (p->vm->description = xstrdup (s)) == NULL)
    return -1;
  return 0;
}

static int
parse_virtual_system (struct parse *p, const xmlNode *vs)
{
  const xmlNode *hw = child (p, vs, "VirtualHardwareSection");
  const xmlNode *os = child (p, vs, "OperatingSystemSection");
  const xmlNode *c;

  if (hw == NULL)
    return fail (p, "the VirtualSystem has no VirtualHardwareSection");
  if (parse_name (p, vs) == -1 || parse_annotation (p, vs) == -1 ||
      (os && parse_os (p, os) == -1) || parse_hardware (p, hw) == -1)
    return -1;
  for (c = vs->children; c; c = c->next)
    if (is_named (c, "Machine") && in_ns (c, NS_VBOX))
      parse_vbox_machine (p, c);
  return 0;
}

static int
parse_envelope (struct parse *p, const xmlNode *root)
{
  const xmlNode *vs;
  char b[80];

  if (root == NULL)
    return fail (p, "empty document");
  if (!is_named (root, "Envelope") ||
      !(in_ns (root, NS_OVF1) || in_ns (root, NS_OVF2)))
    return fail (p, "not an OVF envelope (root element '%s')",
                 show (b, (const char *) root->name));
  p->ns = root->ns->href;
  if (child (p, root, "VirtualSystemCollection"))
    return fail (p, "multi-VM packages (VirtualSystemCollection) are not "
                 "supported");
  if ((vs = child (p, root, "VirtualSystem")) == NULL)
    return fail (p, "no VirtualSystem in the envelope");
  if (count_children (p, root, "VirtualSystem") > 1)
    return fail (p, "more than one VirtualSystem in the envelope");
  if (parse_references (p, child (p, root, "References")) == -1 ||
      parse_disk_section (p, child (p, root, "DiskSection")) == -1)
    return -1;
  return parse_virtual_system (p, vs);
}

/* ---- libxml2, locked down ------------------------------------------------ */

struct xml_guard {
  bool doctype;
  char first[200];              /* libxml2's first error, one line */
};

/* A DOCTYPE is where entities (XXE, billion laughs) are declared.  OVF
 * never needs one, so stop the parser before its internal subset. */
static void
on_doctype (void *ctx, const xmlChar *name, const xmlChar *eid,
            const xmlChar *sid)
{
  xmlParserCtxtPtr c = ctx;

  (void) name, (void) eid, (void) sid;
  ((struct xml_guard *) c->_private)->doctype = true;
  xmlStopParser (c);
}

static void
on_entity (void *ctx, const xmlChar *name, int type, const xmlChar *pid,
           const xmlChar *sid, xmlChar *content)
{
  (void) name, (void) type, (void) pid, (void) sid, (void) content;
  on_doctype (ctx, NULL, NULL, NULL);
}

/* Keep libxml2 quiet; remember its first complaint for our message. */
static void
on_error (void *ctx, xmlErrorPtr e)
{
  xmlParserCtxtPtr c = ctx;
  struct xml_guard *g = c->_private;
  char b[80];

  if (g->first[0] || e == NULL || e->level < XML_ERR_ERROR)
    return;
  if (e->line > 0)
    snprintf (g->first, sizeof g->first, "line %d: %s", e->line,
              show (b, e->message));
  else
    snprintf (g->first, sizeof g->first, "%s", show (b, e->message));
  /* libxml2 messages end in a newline, shown as '?'. */
  if (str_has_suffix (g->first, "?"))
    g->first[strlen (g->first) - 1] = '\0';
}

static xmlDocPtr
read_doc (struct parse *p, const char *xml, size_t len)
{
  struct xml_guard g = { .doctype = false };
  xmlStructuredErrorFunc old;
  xmlParserCtxtPtr c;
  void *old_data;
  xmlDocPtr doc;

  xmlInitParser ();
  if ((c = xmlNewParserCtxt ()) == NULL) {
    error_set ("ovf: out of memory");
    return NULL;
  }
  c->_private = &g;
  c->sax->internalSubset = on_doctype;
  c->sax->entityDecl = on_entity;
  c->sax->serror = on_error;
  /* Encoding and I/O errors bypass the context and would go to stderr:
   * catch them too, for this thread and this call only. */
  old = xmlStructuredError;
  old_data = xmlStructuredErrorContext;
  xmlSetStructuredErrorFunc (c, on_error);
  /* No NOENT, no DTDLOAD/DTDATTR: nothing is substituted or fetched. */
  doc = xmlCtxtReadMemory (c, xml, (int) len, NULL, NULL,
                           XML_PARSE_NONET | XML_PARSE_NOERROR |
                           XML_PARSE_NOWARNING | XML_PARSE_NOCDATA);
  xmlSetStructuredErrorFunc (old_data, old);
  if (doc && (g.doctype || doc->intSubset || doc->extSubset)) {
    xmlFreeDoc (doc);
    doc = NULL;
    g.doctype = true;
  }
  if (g.doctype)
    fail (p, "document type declarations (DOCTYPE/ENTITY) are not allowed");
  else if (doc == NULL)
    fail (p, "not well-formed XML (%s)", g.first[0] ? g.first : "unknown");
  xmlFreeParserCtxt (c);
  return doc;
}

static void
parse_release (struct parse *p)
{
  size_t i;

  for (i = 0; i < p->owned.len; i++)
    xmlFree (p->owned.ptr[i]);
  xstr_vector_reset (&p->owned);
  ofile_vector_reset (&p->files);
  odisk_vector_reset (&p->disks);
  octrl_vector_reset (&p->ctrls);
  oitem_vector_reset (&p->items);
}

int
ovf_parse (const char *xml, size_t len, const char *what, struct vm *vm)
{
  struct parse p = { .what = what ? what : "<memory>", .vm = vm };
  char ctx[300];
  xmlDocPtr doc;
  int r;

  vm_init (vm);
  if (len > OVF_MAX_SIZE)
    return fail (&p, "the OVF is %zu bytes, more than the %u byte limit",
                 len, OVF_MAX_SIZE);
  if (len == 0)
    return fail (&p, "empty document");
  if ((doc = read_doc (&p, xml, len)) == NULL)
    return -1;
  snprintf (ctx, sizeof ctx, "ovf: '%s'", p.what);
  r = parse_envelope (&p, xmlDocGetRootElement (doc));
  if (r == 0)
    r = vm_validate (vm, ctx);
  parse_release (&p);
  xmlFreeDoc (doc);
  if (r == -1)
    vm_free (vm);
  return r;
}
