/* libvirt.c: libvirt domain XML (KVM and Xen/libxl) to and from struct vm
 * (libvirt.h). */
#include "lib/common/compat.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "lib/common/error.h"
#include "lib/common/cleanup.h"
#include "lib/common/ids.h"
#include "lib/common/outfile.h"
#include "lib/common/stagedir.h"
#include "lib/common/strbuf.h"
#include "ova/libvirt.h"
#include "ova/xml.h"

#define MiB (1ull << 20)

/* "a".."z", "aa".. : the suffix libvirt and Linux give the n-th disk. */
static void
dev_name (const char *prefix, unsigned idx, char *out, size_t outlen)
{
  char rev[8];
  size_t n = 0, i, p = strlen (prefix);

  idx++;
  while (idx && n < sizeof rev) {
    idx--;
    rev[n++] = (char) ('a' + idx % 26);
    idx /= 26;
  }
  snprintf (out, outlen, "%s", prefix);
  for (i = 0; i < n && p + i + 1 < outlen; i++)
    out[p + i] = rev[n - 1 - i];
  out[p + i] = '\0';
}

/* KVM has no Xen PV disks, and libvirt 9 no NVMe disk bus: both become
 * virtio, which every modern guest drives. */
static enum vm_bus
kvm_bus (enum vm_bus b)
{
  return b == VM_BUS_IDE || b == VM_BUS_SATA || b == VM_BUS_SCSI
    ? b : VM_BUS_VIRTIO;
}

static bool
vm_uses_bus (const struct vm *vm, enum vm_bus bus)
{
  size_t i;

  for (i = 0; i < vm->disks.len; i++)
    if (kvm_bus (vm->disks.ptr[i].bus) == bus)
      return true;
  return false;
}

/* Our format names to QEMU's driver types. */
static const char *
driver_type (const char *format)
{
  if (format == NULL)
    return "raw";
  if (strcmp (format, "vhd") == 0)
    return "vpc";
  return format;
}

/* Disk i's target dev and bus for the flavour; counters[] numbers each
 * prefix family so that SATA and SCSI disks (both "sd") never collide. */
static const char *
disk_target (enum libvirt_flavour f, enum vm_bus bus, unsigned counters[4],
             char *dev, size_t devlen)
{
  static const char *const prefix[] = { "vd", "sd", "hd", "xvd" };
  int fam;

  if (f == LIBVIRT_XEN)
    fam = 3;
  else
    fam = bus == VM_BUS_VIRTIO ? 0 : bus == VM_BUS_IDE ? 2 : 1;
  dev_name (prefix[fam], counters[fam]++, dev, devlen);
  return f == LIBVIRT_XEN ? "xen" : vm_bus_name (bus);
}

static void
write_disks (struct xml_writer *w, const struct vm *vm,
             enum libvirt_flavour f, const char *const *disk_paths)
{
  unsigned counters[4] = { 0 };
  char dev[16];
  size_t i;

  for (i = 0; i < vm->disks.len; i++) {
    const struct vm_disk *d = &vm->disks.ptr[i];
    const char *path = disk_paths && disk_paths[i] ? disk_paths[i] : d->file;
    const char *bus = disk_target (f, kvm_bus (d->bus), counters, dev,
                                   sizeof dev);

    if (path == NULL) {
      w->failed = error_set ("libvirt: disk %zu has no path", i);
      return;
    }
    xml_add (w, "    <disk type='file' device='disk'>\n"
             "      <driver name='qemu' type='");
    xml_add_attr (w, driver_type (d->format));
    xml_add (w, "'/>\n      <source file='");
    xml_add_attr (w, path);
    xml_add (w, "'/>\n      <target dev='%s' bus='%s'/>\n    </disk>\n",
             dev, bus);
  }
  if (f != LIBVIRT_XEN && vm_uses_bus (vm, VM_BUS_SCSI))
    xml_add (w, "    <controller type='scsi' index='0' "
             "model='virtio-scsi'/>\n");
}

/* NIC models QEMU emulates; anything else (netfront, unknown) → virtio. */
static const char *
kvm_model (const char *model)
{
  static const char *const known[] = {
    "virtio", "e1000", "e1000e", "rtl8139", "vmxnet3", "ne2k_pci", "pcnet",
  };
  size_t i;

  for (i = 0; model && i < sizeof known / sizeof known[0]; i++)
    if (strcmp (model, known[i]) == 0)
      return known[i];
  return "virtio";
}

static void
write_nic (struct xml_writer *w, const struct vm_nic *n,
           enum libvirt_flavour f)
{
  const char *net = n->network;
  bool bridge = f == LIBVIRT_XEN || vm_network_is_bridge (net);
  char mac[18];

  if (f == LIBVIRT_XEN && !vm_network_is_bridge (net))
    net = "xenbr0";
  else if (net == NULL)
    net = "default";
  xml_add (w, "    <interface type='%s'>\n", bridge ? "bridge" : "network");
  if (n->has_mac) {
    ids_mac_format (n->mac, mac);
    xml_add (w, "      <mac address='%s'/>\n", mac);
  }
  xml_add (w, "      <source %s='", bridge ? "bridge" : "network");
  xml_add_attr (w, net);
  xml_add (w, "'/>\n      <model type='%s'/>\n    </interface>\n",
           f == LIBVIRT_XEN ? "netfront" : kvm_model (n->model));
}

/* libosinfo ids: virt-manager and virt-install read them to pick devices. */
static const char *
osinfo_id (enum vm_os os)
{
  switch (os) {
  case VM_OS_LINUX: case VM_OS_LINUX64:
    return "http://libosinfo.org/linux/2022";
  case VM_OS_DEBIAN64: return "http://debian.org/debian/12";
  case VM_OS_UBUNTU64: return "http://ubuntu.com/ubuntu/22.04";
  case VM_OS_RHEL64: return "http://redhat.com/rhel/9.0";
  case VM_OS_SLES64: return "http://suse.com/sles/15.4";
  case VM_OS_WINDOWS64: return "http://microsoft.com/win/10";
  default: return NULL;
  }
}

static void
write_header (struct xml_writer *w, const struct vm *vm,
              enum libvirt_flavour f)
{
  char uuid[37];
  const char *os = osinfo_id (vm->os);

  xml_add (w, "<domain type='%s'>\n", f == LIBVIRT_XEN ? "xen"
           : f == LIBVIRT_QEMU ? "qemu" : "kvm");
  xml_add_elem (w, "  ", "name", vm->name ? vm->name : "");
  if (vm->has_uuid) {
    ids_uuid_format (vm->uuid, uuid);
    xml_add (w, "  <uuid>%s</uuid>\n", uuid);
  }
  if (vm->description)
    xml_add_elem (w, "  ", "description", vm->description);
  if (os)
    xml_add (w, "  <metadata>\n    <libosinfo:libosinfo xmlns:libosinfo="
             "'http://libosinfo.org/xmlns/libvirt/domain/1.0'>\n"
             "      <libosinfo:os id='%s'/>\n    </libosinfo:libosinfo>\n"
             "  </metadata>\n", os);
  xml_add (w, "  <memory unit='MiB'>%llu</memory>\n"
           "  <currentMemory unit='MiB'>%llu</currentMemory>\n"
           "  <vcpu placement='static'>%u</vcpu>\n",
           (unsigned long long) vm->memory_mib,
           (unsigned long long) vm->memory_mib, vm->cpus);
}

static void
write_os (struct xml_writer *w, const struct vm *vm,
          enum libvirt_flavour f)
{
  if (f == LIBVIRT_XEN) {
    xml_add (w, "  <bootloader>pygrub</bootloader>\n"
             "  <os>\n    <type arch='x86_64' machine='xenpv'>linux</type>\n"
             "  </os>\n");
    return;
  }
  /* q35 has no IDE controller: IDE disks need the i440fx machine. */
  xml_add (w, "  <os%s>\n    <type arch='x86_64' machine='%s'>hvm</type>\n"
           "    <boot dev='hd'/>\n  </os>\n"
           "  <features>\n    <acpi/>\n    <apic/>\n  </features>\n",
           vm->firmware == VM_FW_UEFI ? " firmware='efi'" : "",
           vm_uses_bus (vm, VM_BUS_IDE) ? "pc" : "q35");
}

static void
write_consoles (struct xml_writer *w, enum libvirt_flavour f)
{
  if (f == LIBVIRT_XEN) {
    xml_add (w, "    <console type='pty'>\n"
             "      <target type='xen' port='0'/>\n    </console>\n");
    return;
  }
  xml_add (w, "    <serial type='pty'>\n      <target port='0'/>\n"
           "    </serial>\n    <console type='pty'>\n"
           "      <target type='serial' port='0'/>\n    </console>\n"
           "    <graphics type='vnc' port='-1' autoport='yes'>\n"
           "      <listen type='address' address='127.0.0.1'/>\n"
           "    </graphics>\n");
}

int
libvirt_write (const struct vm *vm, enum libvirt_flavour f,
               const char *const *disk_paths, struct strbuf *out)
{
  struct xml_writer w = {
    .sb = out, .who = "libvirt", .doing = "writing the domain XML",
  };
  size_t i;

  if (f != LIBVIRT_KVM && f != LIBVIRT_XEN && f != LIBVIRT_QEMU)
    return error_set ("libvirt: unknown flavour %d", (int) f);
  write_header (&w, vm, f);
  write_os (&w, vm, f);
  xml_add (&w, "  <clock offset='utc'/>\n  <on_poweroff>destroy</on_poweroff>\n"
           "  <on_reboot>restart</on_reboot>\n  <on_crash>destroy</on_crash>\n"
           "  <devices>\n");
  write_disks (&w, vm, f, disk_paths);
  for (i = 0; i < vm->nics.len; i++)
    write_nic (&w, &vm->nics.ptr[i], f);
  write_consoles (&w, f);
  xml_add (&w, "  </devices>\n</domain>\n");
  return w.failed ? -1 : 0;
}

int
libvirt_write_domain (const struct stagedir *sd, const char *stem,
                      const struct vm *vm, enum libvirt_flavour f,
                      const char *const *disk_paths, char **descriptor)
{
  struct strbuf xml = STRBUF_INIT;
  CLEANUP_FREE char *path = xasprintf ("%s/%s.xml", sd->path, stem);
  int r = -1;

  *descriptor = xasprintf ("%s/%s.xml", sd->final, stem);
  if (path && *descriptor && libvirt_write (vm, f, disk_paths, &xml) == 0)
    r = outfile_write_new (path, xml.buf, xml.len);
  strbuf_release (&xml);
  return r;
}

/* ------------------------------------------------------------------ */
/* Reading. */

static const struct xml_rules rules = {
  .max_size = LIBVIRT_MAX_XML,
  .too_large = "%zu bytes is too large for a domain XML (limit %zu)",
  .doctype = "DOCTYPE declarations are refused (entities, external DTDs)",
  .malformed = "malformed XML (%s)",
};

/* An attribute (any namespace) as an xmlFree()d copy, or NULL. */
static char *
prop (const xmlNode *n, const char *name)
{
  return n ? (char *) xmlGetProp (n, (const xmlChar *) name) : NULL;
}

static char *
child_text (const xmlNode *parent, const char *name)
{
  xmlNode *c = xml_child (parent, name);

  return c ? (char *) xmlNodeGetContent (c) : NULL;
}

/* libvirt's scaled units (virScaleInteger): KiB when absent. */
static int
unit_scale (const char *unit, uint64_t *scale)
{
  static const struct { const char *name; uint64_t scale; } units[] = {
    { "b", 1 }, { "bytes", 1 },
    { "KB", 1000ull }, { "k", 1ull << 10 }, { "KiB", 1ull << 10 },
    { "MB", 1000000ull }, { "M", 1ull << 20 }, { "MiB", 1ull << 20 },
    { "GB", 1000000000ull }, { "G", 1ull << 30 }, { "GiB", 1ull << 30 },
    { "TB", 1000000000000ull }, { "T", 1ull << 40 }, { "TiB", 1ull << 40 },
    { "PB", 1000000000000000ull }, { "P", 1ull << 50 }, { "PiB", 1ull << 50 },
    { "EB", 1000000000000000000ull }, { "E", 1ull << 60 },
    { "EiB", 1ull << 60 },
  };
  size_t i;

  if (unit == NULL) {
    *scale = 1024;
    return 0;
  }
  for (i = 0; i < sizeof units / sizeof units[0]; i++)
    if (strcasecmp (unit, units[i].name) == 0) {
      *scale = units[i].scale;
      return 0;
    }
  return -1;
}

static int
parse_memory (const xmlNode *dom, const char *pfx, struct vm *vm)
{
  xmlNode *m = xml_child (dom, "memory");
  CLEANUP_XFREE xmlChar *text = m ? xmlNodeGetContent (m) : NULL;
  CLEANUP_XFREE xmlChar *unit = (xmlChar *) prop (m, "unit");
  uint64_t v, scale, bytes;

  if (m == NULL)
    return error_set ("%s: no <memory> element", pfx);
  if (unit_scale ((char *) unit, &scale) == -1)
    return error_set ("%s: unknown memory unit '%.32s'", pfx, (char *) unit);
  if (text == NULL || xml_parse_u64 ((char *) text, &v) == -1 ||
      __builtin_mul_overflow (v, scale, &bytes))
    return error_set ("%s: invalid memory size '%.32s'", pfx,
                      text ? (char *) text : "");
  /* Round up: a guest never gets less memory than it had. */
  vm->memory_mib = bytes / MiB + (bytes % MiB != 0);
  return 0;
}

static int
parse_vcpu (const xmlNode *dom, const char *pfx, struct vm *vm)
{
  CLEANUP_XFREE xmlChar *text = (xmlChar *) child_text (dom, "vcpu");

  if (text == NULL)
    return 0;                   /* libvirt's default: one vCPU */
  if (xml_parse_range ((char *) text, 1, VM_MAX_CPUS, &vm->cpus) == -1)
    return error_set ("%s: invalid vcpu count '%.32s' (1-%d)", pfx,
                      (char *) text, VM_MAX_CPUS);
  return 0;
}

static int
parse_identity (const xmlNode *dom, const char *pfx, struct vm *vm)
{
  CLEANUP_XFREE xmlChar *name = (xmlChar *) child_text (dom, "name");
  CLEANUP_XFREE xmlChar *uuid = (xmlChar *) child_text (dom, "uuid");
  CLEANUP_XFREE xmlChar *desc = (xmlChar *) child_text (dom, "description");

  if (name == NULL)
    return error_set ("%s: no <name> element", pfx);
  if (uuid) {
    if (ids_uuid_parse ((char *) uuid, vm->uuid) == -1)
      return error_set ("%s: invalid UUID '%.40s'", pfx, (char *) uuid);
    vm->has_uuid = true;
  }
  free (vm->name);
  free (vm->description);
  vm->name = xstrdup ((char *) name);
  vm->description = desc ? xstrdup ((char *) desc) : NULL;
  if (vm->name == NULL || (desc && vm->description == NULL))
    return -1;
  return 0;
}

static void
parse_firmware (const xmlNode *dom, struct vm *vm)
{
  xmlNode *os = xml_child (dom, "os");
  CLEANUP_XFREE xmlChar *fw = (xmlChar *) prop (os, "firmware");
  CLEANUP_XFREE xmlChar *loader =
    (xmlChar *) prop (xml_child (os, "loader"), "type");

  if ((fw && strcmp ((char *) fw, "efi") == 0) ||
      (loader && strcmp ((char *) loader, "pflash") == 0))
    vm->firmware = VM_FW_UEFI;
}

/* The libosinfo id virt-install records, mapped to our OS families. */
static void
parse_os_type (const xmlNode *dom, struct vm *vm)
{
  static const struct { const char *needle; enum vm_os os; } map[] = {
    { "microsoft.com/win", VM_OS_WINDOWS64 }, { "debian", VM_OS_DEBIAN64 },
    { "ubuntu", VM_OS_UBUNTU64 }, { "redhat.com/rhel", VM_OS_RHEL64 },
    { "centos", VM_OS_RHEL64 }, { "rocky", VM_OS_RHEL64 },
    { "almalinux", VM_OS_RHEL64 }, { "suse.com/sles", VM_OS_SLES64 },
    { "libosinfo.org/linux", VM_OS_LINUX64 }, { "fedora", VM_OS_LINUX64 },
  };
  xmlNode *meta = xml_child (dom, "metadata");
  xmlNode *osi = xml_child (xml_child (meta, "libosinfo"), "os");
  CLEANUP_XFREE xmlChar *id = (xmlChar *) prop (osi, "id");
  size_t i;

  for (i = 0; id && i < sizeof map / sizeof map[0]; i++)
    if (strstr ((char *) id, map[i].needle)) {
      vm->os = map[i].os;
      return;
    }
}

/* QEMU driver types we can read the disk of; "vpc" is QEMU's VHD. */
static const char *
format_of_driver (const char *type)
{
  static const char *const ok[] = { "raw", "qcow2", "vmdk", "vdi", "qed" };
  size_t i;

  if (type == NULL)
    return "raw";
  if (strcmp (type, "vpc") == 0)
    return "vhd";
  for (i = 0; i < sizeof ok / sizeof ok[0]; i++)
    if (strcmp (type, ok[i]) == 0)
      return ok[i];
  return NULL;
}

/* Bus from a target dev prefix, when the bus attribute is missing. */
static int
bus_of_dev (const char *dev, enum vm_bus *bus, const char **letters)
{
  static const struct { const char *prefix; enum vm_bus bus; } map[] = {
    { "xvd", VM_BUS_XEN }, { "vd", VM_BUS_VIRTIO }, { "sd", VM_BUS_SCSI },
    { "hd", VM_BUS_IDE }, { "nvme", VM_BUS_NVME },
  };
  size_t i;

  for (i = 0; i < sizeof map / sizeof map[0]; i++)
    if (str_has_prefix (dev, map[i].prefix)) {
      *bus = map[i].bus;
      *letters = dev + strlen (map[i].prefix);
      return 0;
    }
  return -1;
}

/* "a" → 0, "z" → 25, "aa" → 26; -1 if not 1-3 lower-case letters. */
static int
dev_index (const char *letters)
{
  int v = 0;
  size_t i, n = strlen (letters);

  if (n < 1 || n > 3)
    return -1;
  for (i = 0; i < n; i++) {
    if (letters[i] < 'a' || letters[i] > 'z')
      return -1;
    v = v * 26 + (letters[i] - 'a' + 1);
  }
  return v - 1;
}

static int
disk_bus (const char *pfx, size_t idx, const char *dev, const char *busname,
          enum vm_bus *bus, int *unit)
{
  const char *letters = "";
  enum vm_bus from_dev;

  if (dev == NULL || strlen (dev) > 32)
    return error_set ("%s: disk %zu has no valid target dev", pfx, idx);
  if (bus_of_dev (dev, &from_dev, &letters) == 0)
    *bus = from_dev;
  else if (busname == NULL)
    return error_set ("%s: disk %zu: cannot tell the bus of target '%s'",
                      pfx, idx, dev);
  if (busname && vm_bus_parse (busname, bus) == -1)
    return error_set ("%s: disk %zu: unsupported disk bus '%.32s'", pfx, idx,
                      busname);
  *unit = dev_index (letters);
  return 0;
}

static const char *
disk_source (const xmlNode *src, char **owned)
{
  static const char *const attrs[] = { "file", "dev", "volume", "name" };
  size_t i;

  for (i = 0; src && i < sizeof attrs / sizeof attrs[0]; i++)
    if ((*owned = prop (src, attrs[i])) != NULL)
      return *owned;
  return NULL;
}

static int
check_unique_target (const struct vm *vm, const char *pfx, const char *dev)
{
  size_t i;

  for (i = 0; i < vm->disks.len; i++)
    if (vm->disks.ptr[i].target_dev &&
        strcmp (vm->disks.ptr[i].target_dev, dev) == 0)
      return error_set ("%s: two disks use target '%s'", pfx, dev);
  return 0;
}

static int
parse_disk (const xmlNode *disk, const char *pfx, struct vm *vm)
{
  xmlNode *target = xml_child (disk, "target");
  CLEANUP_XFREE xmlChar *src = NULL;
  CLEANUP_XFREE xmlChar *type =
    (xmlChar *) prop (xml_child (disk, "driver"), "type");
  CLEANUP_XFREE xmlChar *dev = (xmlChar *) prop (target, "dev");
  CLEANUP_XFREE xmlChar *busname = (xmlChar *) prop (target, "bus");
  size_t idx = vm->disks.len;
  const char *file = disk_source (xml_child (disk, "source"), (char **) &src);
  const char *format = format_of_driver ((char *) type);
  struct vm_disk *d;
  enum vm_bus bus = VM_BUS_VIRTIO;
  int unit;

  if (idx >= VM_MAX_DISKS)
    return error_set ("%s: more than %d disks", pfx, VM_MAX_DISKS);
  if (file == NULL || *file == '\0')
    return error_set ("%s: disk %zu has no source", pfx, idx);
  if (format == NULL)
    return error_set ("%s: disk %zu: unsupported format '%.32s'", pfx, idx,
                      (char *) type);
  if (disk_bus (pfx, idx, (char *) dev, (char *) busname, &bus, &unit) == -1 ||
      check_unique_target (vm, pfx, (char *) dev) == -1 ||
      vm_add_disk (vm, file, format, 0, bus) == -1)
    return -1;
  d = &vm->disks.ptr[idx];
  if (unit >= 0)
    d->unit = (unsigned) unit;
  d->target_dev = xstrdup ((char *) dev);
  return d->target_dev ? 0 : -1;
}

static int
parse_nic (const xmlNode *nic, const char *pfx, struct vm *vm)
{
  xmlNode *src = xml_child (nic, "source");
  CLEANUP_XFREE xmlChar *mac =
    (xmlChar *) prop (xml_child (nic, "mac"), "address");
  CLEANUP_XFREE xmlChar *model =
    (xmlChar *) prop (xml_child (nic, "model"), "type");
  CLEANUP_XFREE xmlChar *net = (xmlChar *) prop (src, "network");
  CLEANUP_XFREE xmlChar *bridge = (xmlChar *) prop (src, "bridge");
  CLEANUP_XFREE xmlChar *dev = (xmlChar *) prop (src, "dev");
  const xmlChar *name = net ? net : bridge ? bridge : dev;
  uint8_t addr[6];

  if (vm->nics.len >= VM_MAX_NICS)
    return error_set ("%s: more than %d network interfaces", pfx,
                      VM_MAX_NICS);
  if (mac && ids_mac_parse ((char *) mac, addr) == -1)
    return error_set ("%s: interface %zu has an invalid MAC address "
                      "'%.32s'", pfx, vm->nics.len, (char *) mac);
  return vm_add_nic (vm, mac ? addr : NULL, (const char *) name,
                     (const char *) model);
}

static int
parse_devices (const xmlNode *dom, const char *pfx, struct vm *vm)
{
  xmlNode *c;

  for (c = xml_first_elem (xml_child (dom, "devices")); c;
       c = xml_next_elem (c)) {
    if (xml_is_elem (c, "disk")) {
      CLEANUP_XFREE xmlChar *device = (xmlChar *) prop (c, "device");
      if ((device == NULL || strcmp ((char *) device, "disk") == 0) &&
          parse_disk (c, pfx, vm) == -1)
        return -1;
    }
    else if (xml_is_elem (c, "interface") &&
             parse_nic (c, pfx, vm) == -1)
      return -1;
  }
  return 0;
}

/* vm_validate() wants disk capacities, which domain XML does not have:
 * check everything else (disk count was capped while parsing). */
static int
validate (const struct vm *vm, const char *pfx)
{
  struct vm shallow = *vm;

  shallow.disks.len = 0;
  return vm_validate (&shallow, pfx);
}

int
libvirt_parse (const char *xml, size_t len, const char *what, struct vm *vm)
{
  char pfx[300];
  xmlDocPtr doc;
  xmlNode *dom;
  int r = -1;

  snprintf (pfx, sizeof pfx, "libvirt: '%s'", what);
  if ((doc = xml_read_hostile (xml, len, &rules, pfx)) == NULL)
    return -1;
  dom = xmlDocGetRootElement (doc);
  if (dom == NULL || strcmp ((const char *) dom->name, "domain") != 0)
    error_set ("%s: not a libvirt domain (root element '%.32s')", pfx,
               dom ? (const char *) dom->name : "");
  else if (parse_identity (dom, pfx, vm) == 0 &&
           parse_memory (dom, pfx, vm) == 0 &&
           parse_vcpu (dom, pfx, vm) == 0 &&
           parse_devices (dom, pfx, vm) == 0) {
    parse_firmware (dom, vm);
    parse_os_type (dom, vm);
    r = validate (vm, pfx);
  }
  xmlFreeDoc (doc);
  return r;
}

int
libvirt_parse_file (const char *path, struct vm *vm)
{
  CLEANUP_FCLOSE FILE *fp = fopen (path, "re");
  struct strbuf sb = STRBUF_INIT;
  char buf[65536];
  size_t n;
  int r = 0;

  if (fp == NULL)
    return error_errno ("'%s'", path);
  while (r == 0 && (n = fread (buf, 1, sizeof buf, fp)) > 0)
    r = sb.len + n > LIBVIRT_MAX_XML
      ? error_set ("'%s': larger than %u bytes", path, LIBVIRT_MAX_XML)
      : strbuf_add (&sb, buf, n);
  if (r == 0 && ferror (fp))
    r = error_errno ("'%s': read", path);
  if (r == 0)
    r = libvirt_parse (sb.buf ? sb.buf : "", sb.len, path, vm);
  strbuf_release (&sb);
  return r;
}
