/* ovf-write.c: the OVF writer (ovf.h) — struct vm to a VMware, VirtualBox
 * or XenServer flavoured OVF 1.0 descriptor. */
#include "lib/common/compat.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/xmlstring.h>

#include "lib/common/error.h"
#include "lib/common/ids.h"
#include "lib/common/strbuf.h"
#include "ova/ovf-int.h"
#include "ova/xml.h"

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
  struct strbuf sb;             /* the document, copied out on success */
  struct xml_writer x;          /* appends to sb */
  struct place place[VM_MAX_DISKS];
  struct wctrl ctrls[VM_MAX_DISKS];
  size_t nctrls;
  unsigned next_id;
};

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
    unsigned index = p->unit / ovf_bus_slots (p->bus);

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
  char tag[48];
  size_t i;

  /* Each entry starts with its name pointer, so sorting entries by their
   * first member sorts by rasd local name. */
  qsort (it->f, it->n, sizeof it->f[0], field_cmp);
  xml_add (&w->x, "      <Item>\n");
  for (i = 0; i < it->n; i++) {
    snprintf (tag, sizeof tag, "rasd:%s", it->f[i].name);
    xml_add_elem (&w->x, "        ", tag, it->f[i].value);
  }
  xml_add (&w->x, "      </Item>\n");
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
  unsigned a = p->unit % ovf_bus_slots (p->bus);

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
               ctrl_id (w, p->bus, p->unit / ovf_bus_slots (p->bus)));
  item_addf (&it, "ResourceType", "%d", RT_DISK);
  item_emit (w, &it);
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
    ids_mac_format (n->mac, mac);
    item_add (&it, "Address", mac);
  }
  item_add (&it, "AutomaticAllocation", "true");
  item_add (&it, "Connection", nic_network (n));
  item_addf (&it, "ElementName", "Network adapter %zu", i + 1);
  item_addf (&it, "InstanceID", "%u", w->next_id++);
  item_add (&it, "ResourceSubType", ovf_nic_subtype (w->fl, n->model));
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
  xml_add (&w->x, "  <References>\n");
  for (i = 0; i < d->len; i++) {
    xml_add (&w->x, "    <File ovf:href=\"");
    xml_add_attr (&w->x, d->ptr[i].file);
    xml_add (&w->x, "\" ovf:id=\"file%zu\"", i + 1);
    if (d->ptr[i].file_size)
      xml_add (&w->x, " ovf:size=\"%llu\"",
               (unsigned long long) d->ptr[i].file_size);
    xml_add (&w->x, "/>\n");
  }
  xml_add (&w->x, "  </References>\n");
  if (d->len == 0)
    return 0;
  xml_add (&w->x, "  <DiskSection>\n"
           "    <Info>Virtual disk information</Info>\n");
  for (i = 0; i < d->len; i++)
    xml_add (&w->x, "    <Disk ovf:capacity=\"%llu\" "
             "ovf:capacityAllocationUnits=\"byte\" ovf:diskId=\"vmdisk%zu\" "
             "ovf:fileRef=\"file%zu\" "
             "ovf:format=\"%s\"/>\n", (unsigned long long) d->ptr[i].capacity,
             i + 1, i + 1, format_uri (w->fl, d->ptr[i].format));
  xml_add (&w->x, "  </DiskSection>\n");
  return 0;
}

static void
write_networks (struct writer *w)
{
  const vm_nic_vector *n = &w->vm->nics;
  size_t i, j;

  if (n->len == 0)
    return;
  xml_add (&w->x, "  <NetworkSection>\n"
           "    <Info>The list of logical networks</Info>\n");
  for (i = 0; i < n->len; i++) {
    const char *name = nic_network (&n->ptr[i]);
    for (j = 0; j < i; j++)
      if (strcmp (nic_network (&n->ptr[j]), name) == 0)
        break;
    if (j < i)
      continue;                 /* one Network per distinct name */
    xml_add (&w->x, "    <Network ovf:name=\"");
    xml_add_attr (&w->x, name);
    xml_add (&w->x, "\">\n      <Description>The ");
    xml_add_attr (&w->x, name);
    xml_add (&w->x, " network</Description>\n    </Network>\n");
  }
  xml_add (&w->x, "  </NetworkSection>\n");
}

static void
write_os (struct writer *w)
{
  const struct ovf_os *os = ovf_os_ids (w->vm->os);

  xml_add (&w->x, "    <OperatingSystemSection ovf:id=\"%u\"", os->cim);
  if (w->fl == OVF_VMWARE)
    xml_add (&w->x, " vmw:osType=\"%s\"", os->vmw);
  xml_add (&w->x, ">\n      <Info>The kind of installed guest operating system"
           "</Info>\n      <Description>%s</Description>\n", os->desc);
  if (w->fl == OVF_VIRTUALBOX)
    xml_add (&w->x, "      <vbox:OSType ovf:required=\"false\">%s"
             "</vbox:OSType>\n", os->vbox);
  xml_add (&w->x, "    </OperatingSystemSection>\n");
}

static void
write_config (struct writer *w, const char *key, const char *value)
{
  xml_add (&w->x, "      <vmw:Config ovf:required=\"false\" vmw:key=\"%s\" "
           "vmw:value=\"%s\"/>\n", key, value);
}

static void
write_hardware (struct writer *w)
{
  size_t i;
  char uuid[37];

  xml_add (&w->x, "    <VirtualHardwareSection>\n"
           "      <Info>Virtual hardware requirements</Info>\n"
           "      <System>\n"
           "        <vssd:ElementName>Virtual Hardware Family"
           "</vssd:ElementName>\n"
           "        <vssd:InstanceID>0</vssd:InstanceID>\n");
  xml_add_elem (&w->x, "        ", "vssd:VirtualSystemIdentifier",
                w->vm->name);
  xml_add_elem (&w->x, "        ", "vssd:VirtualSystemType", w->system_type);
  xml_add (&w->x, "      </System>\n");
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
    ids_uuid_format (w->vm->uuid, uuid);
    write_config (w, "uuid", uuid);
  }
  if (w->fl == OVF_XENSERVER && w->vm->firmware == VM_FW_UEFI)
    xml_add (&w->x, "      <xenovf:VirtualSystemOtherConfigurationData "
             "Name=\"HVM_boot_params\">\n"
             "        <Value>order=dc;firmware=uefi</Value>\n"
             "      </xenovf:VirtualSystemOtherConfigurationData>\n");
  xml_add (&w->x, "    </VirtualHardwareSection>\n");
}

static void
write_envelope_start (struct writer *w)
{
  xml_add (&w->x, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
           "<Envelope xmlns=\"" NS_OVF1 "\" xmlns:ovf=\"" NS_OVF1 "\"\n"
           "          xmlns:rasd=\"" NS_RASD "\"\n"
           "          xmlns:vmw=\"" NS_VMW "\"\n"
           "          xmlns:vssd=\"" NS_VSSD "\"\n"
           "          xmlns:xsi=\"" NS_XSI "\"");
  if (w->fl == OVF_VIRTUALBOX)
    xml_add (&w->x, "\n          xmlns:vbox=\"" NS_VBOX "\"");
  if (w->fl == OVF_XENSERVER)
    xml_add (&w->x, "\n          xmlns:xenovf=\"" NS_XENOVF "\"");
  xml_add (&w->x, ">\n");
}

static int
write_document (struct writer *w)
{
  const struct vm *vm = w->vm;

  write_envelope_start (w);
  if (write_references_disks (w) == -1)
    return -1;
  write_networks (w);
  xml_add (&w->x, "  <VirtualSystem ovf:id=\"");
  xml_add_attr (&w->x, vm->name);
  xml_add (&w->x, "\">\n    <Info>A virtual machine</Info>\n");
  xml_add_elem (&w->x, "    ", "Name", vm->name);
  write_os (w);
  write_hardware (w);
  if (vm->description && vm->description[0]) {
    xml_add (&w->x, "    <AnnotationSection ovf:required=\"false\">\n"
             "      <Info>A human-readable annotation</Info>\n");
    xml_add_elem (&w->x, "      ", "Annotation", vm->description);
    xml_add (&w->x, "    </AnnotationSection>\n");
  }
  xml_add (&w->x, "  </VirtualSystem>\n</Envelope>\n");
  return w->x.failed ? -1 : 0;
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
  int r;

  w.system_type = o->system_type ? o->system_type
    : default_system_type (o->flavour);
  if (vm_validate (vm, "ovf") == -1 || check_strings (vm) == -1 ||
      check_text ("the system type", w.system_type) == -1)
    return -1;
  w.x = (struct xml_writer) {
    .sb = &w.sb, .who = "ovf", .doing = "vasprintf",
  };
  place_disks (&w);
  /* InstanceIDs: 1 CPU, 2 memory, then controllers, disks, NICs. */
  w.next_id = 3;
  collect_controllers (&w);
  r = write_document (&w);
  if (r == 0 && strbuf_add (out, w.sb.buf, w.sb.len) == -1)
    r = -1;
  strbuf_release (&w.sb);
  return r;
}

int
ovf_write (const struct vm *vm, enum ovf_flavour flavour, struct strbuf *out)
{
  struct ovf_write_options o = { .flavour = flavour };

  return ovf_write_opts (vm, &o, out);
}
