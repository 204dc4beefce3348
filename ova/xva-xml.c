/* xva-xml.c: the XVA ova.xml (XML-RPC database export of xapi) to and from
 * struct vm (xva-xml.h). */
#include "lib/common/compat.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "lib/common/error.h"
#include "lib/common/ids.h"
#include "lib/common/strbuf.h"
#include "ova/xva-xml.h"
#include "ova/xml.h"

#define MiB (1ull << 20)
#define NULL_REF "OpaqueRef:NULL"
/* A VM holds CD drives besides its disks; anything past this is hostile. */
#define MAX_VM_DEVICES 256

/* ------------------------------------------------------------------ */
/* Writing. */

/* XML-RPC members, written without whitespace as xapi does. */
static void
m_begin (struct xml_writer *w, const char *name)
{
  xml_add (w, "<member><name>%s</name><value>", name);
}

static void
m_end (struct xml_writer *w)
{
  xml_add (w, "</value></member>");
}

static void
m_str (struct xml_writer *w, const char *name, const char *value)
{
  m_begin (w, name);
  xml_add_text (w, value);
  m_end (w);
}

static void
m_u64 (struct xml_writer *w, const char *name, uint64_t v)
{
  /* xapi sends int64 fields as strings: XML-RPC <int> is 32-bit. */
  xml_add (w, "<member><name>%s</name><value>%llu</value></member>", name,
           (unsigned long long) v);
}

static void
m_bool (struct xml_writer *w, const char *name, bool v)
{
  xml_add (w, "<member><name>%s</name><value><boolean>%d</boolean></value>"
           "</member>", name, v);
}

static void
m_ref (struct xml_writer *w, const char *name, size_t ref)
{
  xml_add (w, "<member><name>%s</name><value>Ref:%zu</value></member>", name,
           ref);
}

static void
m_empty (struct xml_writer *w, const char *name, bool array)
{
  xml_add (w, "<member><name>%s</name><value>%s</value></member>", name,
           array ? "<array><data/></array>" : "<struct/>");
}

/* Empty sets and maps that every record carries. */
static void
m_empties (struct xml_writer *w, const char *const *arrays,
           const char *const *maps)
{
  for (; arrays && *arrays; arrays++)
    m_empty (w, *arrays, true);
  for (; maps && *maps; maps++)
    m_empty (w, *maps, false);
}

static void
m_refs (struct xml_writer *w, const char *name, size_t first, size_t n)
{
  size_t i;

  if (n == 0) {
    m_empty (w, name, true);
    return;
  }
  xml_add (w, "<member><name>%s</name><value><array><data>", name);
  for (i = 0; i < n; i++)
    xml_add (w, "<value>Ref:%zu</value>", first + i);
  xml_add (w, "</data></array></value></member>");
}

/* A map of string pairs; `kv` is NULL-terminated key, value, key, ... */
static void
m_map (struct xml_writer *w, const char *name, const char *const *kv)
{
  xml_add (w, "<member><name>%s</name><value><struct>", name);
  for (; kv[0]; kv += 2)
    m_str (w, kv[0], kv[1]);
  xml_add (w, "</struct></value></member>");
}

static void
m_epoch (struct xml_writer *w, const char *name)
{
  xml_add (w, "<member><name>%s</name><value><dateTime.iso8601>"
           "19700101T00:00:00Z</dateTime.iso8601></value></member>", name);
}

static void
m_uuid (struct xml_writer *w, const uint8_t *given)
{
  uint8_t u[16];
  char s[37];

  if (given)
    memcpy (u, given, 16);
  else if (ids_uuid_generate (u) == -1) {
    w->failed = -1;
    return;
  }
  ids_uuid_format (u, s);
  m_str (w, "uuid", s);
}

static void
obj_begin (struct xml_writer *w, const char *cls, size_t ref)
{
  xml_add (w, "<value><struct><member><name>class</name><value>%s</value>"
           "</member><member><name>id</name><value>Ref:%zu</value></member>"
           "<member><name>snapshot</name><value><struct>", cls, ref);
}

static void
obj_end (struct xml_writer *w)
{
  xml_add (w, "</struct></value></member></struct></value>");
}

/* Where each object lives: VM Ref:0, then VBDs, VDIs, VIFs, the SR and
 * the networks, in that order. */
struct layout {
  size_t n_disks, n_nics, n_nets;
  size_t vbd, vdi, vif, sr, net;
  size_t nic_net[VM_MAX_NICS];          /* network index of each NIC */
  const char *net_name[VM_MAX_NICS];    /* NULL = the default network */
};

static bool
same_name (const char *a, const char *b)
{
  return a == b || (a && b && strcmp (a, b) == 0);
}

static int
make_layout (const struct vm *vm, struct layout *l)
{
  size_t i, k;

  if (vm->disks.len > VM_MAX_DISKS || vm->nics.len > VM_MAX_NICS)
    return error_set ("xva: too many disks or NICs");
  memset (l, 0, sizeof *l);
  l->n_disks = vm->disks.len;
  l->n_nics = vm->nics.len;
  for (i = 0; i < l->n_nics; i++) {
    const char *name = vm->nics.ptr[i].network;
    for (k = 0; k < l->n_nets && !same_name (l->net_name[k], name); k++)
      ;
    if (k == l->n_nets)
      l->net_name[l->n_nets++] = name;
    l->nic_net[i] = k;
  }
  l->vbd = 1;
  l->vdi = l->vbd + l->n_disks;
  l->vif = l->vdi + l->n_disks;
  l->sr = l->vif + l->n_nics;
  l->net = l->sr + 1;
  return 0;
}

void
xva_xml_vdi_ref (size_t i, size_t n_disks, char *out, size_t outlen)
{
  snprintf (out, outlen, "Ref:%zu", 1 + n_disks + i);
}

static void
write_version (struct xml_writer *w)
{
  char host[256] = "ferry", date[16] = "1970-01-01";
  time_t now = time (NULL);
  struct tm tm;

  if (gethostname (host, sizeof host - 1) == -1 || host[0] == '\0')
    snprintf (host, sizeof host, "ferry");
  host[sizeof host - 1] = '\0';
  if (gmtime_r (&now, &tm))
    strftime (date, sizeof date, "%Y-%m-%d", &tm);
  xml_add (w, "<member><name>version</name><value><struct>");
  m_str (w, "hostname", host);
  m_str (w, "date", date);
  m_str (w, "product_version", "8.2.1");
  m_str (w, "product_brand", "XCP-ng");
  m_str (w, "build_number", "release/yangtze/master/58");
  m_str (w, "xapi_major", "1");
  m_str (w, "xapi_minor", "20");
  m_str (w, "export_vsn", "2");
  xml_add (w, "</struct></value></member>");
}

static void
write_vm_memory (struct xml_writer *w, const struct vm *vm)
{
  /* Static and dynamic ranges collapse to one size: the VM gets exactly
   * what it had, and xapi's constraint min <= ... <= max holds. */
  uint64_t bytes = vm->memory_mib * MiB;

  m_u64 (w, "memory_overhead", 0);
  m_u64 (w, "memory_target", bytes);
  m_u64 (w, "memory_static_max", bytes);
  m_u64 (w, "memory_dynamic_max", bytes);
  m_u64 (w, "memory_dynamic_min", bytes);
  m_u64 (w, "memory_static_min", bytes);
  m_empty (w, "VCPUs_params", false);
  m_u64 (w, "VCPUs_max", vm->cpus);
  m_u64 (w, "VCPUs_at_startup", vm->cpus);
}

static void
write_vm_boot (struct xml_writer *w, const struct vm *vm)
{
  bool uefi = vm->firmware == VM_FW_UEFI;
  bool windows = vm->os == VM_OS_WINDOWS64;
  const char *const bios[] = { "order", "dc", NULL };
  const char *const efi[] = { "order", "dc", "firmware", "uefi", NULL };
  const char *const platform[] = {
    "timeoffset", "0", "nx", "true", "acpi", "1", "apic", "true",
    "pae", "true", "hpet", "true", "viridian", windows ? "true" : "false",
    "videoram", "8", "device-model", "qemu-upstream-compat",
    uefi ? "secureboot" : NULL, "false", NULL,
  };
  static const char *const pv[] = {
    "PV_bootloader", "PV_kernel", "PV_ramdisk", "PV_args",
    "PV_bootloader_args", "PV_legacy_args", NULL,
  };
  size_t i;

  for (i = 0; pv[i]; i++)
    m_str (w, pv[i], "");
  m_str (w, "HVM_boot_policy", "BIOS order");
  m_map (w, "HVM_boot_params", uefi ? efi : bios);
  xml_add (w, "<member><name>HVM_shadow_multiplier</name><value><double>1"
           "</double></value></member>");
  m_map (w, "platform", platform);
  m_str (w, "domain_type", "hvm");
}

static void
write_vm_other (struct xml_writer *w, const struct vm *vm)
{
  uint8_t seed[16];
  char seed_s[37];
  const char *const other[] = {
    "mac_seed", seed_s, "ferry-os", vm_os_name (vm->os), NULL,
  };

  if (ids_uuid_generate (seed) == -1) {
    w->failed = -1;
    return;
  }
  ids_uuid_format (seed, seed_s);
  m_map (w, "other_config", other);
}

/* Fields of no consequence for a halted VM, with the values xapi exports. */
static void
write_vm_defaults (struct xml_writer *w)
{
  static const char *const null_refs[] = {
    "suspend_VDI", "resident_on", "affinity", "metrics", "guest_metrics",
    "snapshot_of", "parent", "protection_policy", "snapshot_schedule",
    "appliance", "suspend_SR", NULL,
  };
  static const char *const arrays[] = {
    "allowed_operations", "consoles", "crash_dumps", "VTPMs", "snapshots",
    "tags", "children", "VGPUs", "attached_PCIs", "VUSBs",
    "pending_guidances", NULL,
  };
  static const char *const maps[] = {
    "current_operations", "last_boot_CPU_flags", "xenstore_data", "blobs",
    "blocked_operations", "snapshot_info", "bios_strings", "NVRAM", NULL,
  };
  static const char *const empty_strings[] = {
    "PCI_bus", "domarch", "last_booted_record", "recommendations",
    "ha_restart_priority", "transportable_snapshot_id", "snapshot_metadata",
    "generation_id", "reference_label", NULL,
  };
  static const char *const falses[] = {
    "is_a_template", "is_default_template", "is_control_domain",
    "ha_always_run", "is_a_snapshot", "is_snapshot_from_vmpp",
    "is_vmss_snapshot", "has_vendor_device", "requires_reboot", NULL,
  };
  size_t i;

  for (i = 0; null_refs[i]; i++)
    m_str (w, null_refs[i], NULL_REF);
  for (i = 0; empty_strings[i]; i++)
    m_str (w, empty_strings[i], "");
  m_empties (w, arrays, maps);
  m_str (w, "power_state", "Halted");
  m_str (w, "user_version", "1");
  m_str (w, "domid", "-1");
  m_str (w, "actions_after_shutdown", "destroy");
  m_str (w, "actions_after_reboot", "restart");
  m_str (w, "actions_after_crash", "restart");
  m_str (w, "start_delay", "0");
  m_str (w, "shutdown_delay", "0");
  m_str (w, "order", "0");
  m_str (w, "version", "0");
  m_str (w, "hardware_platform_version", "0");
  m_epoch (w, "snapshot_time");
  for (i = 0; falses[i]; i++)
    m_bool (w, falses[i], false);
}

static void
write_vm (struct xml_writer *w, const struct vm *vm, const struct layout *l)
{
  obj_begin (w, "VM", 0);
  m_uuid (w, vm->has_uuid ? vm->uuid : NULL);
  m_str (w, "name_label", vm->name ? vm->name : "");
  m_str (w, "name_description", vm->description ? vm->description : "");
  write_vm_memory (w, vm);
  write_vm_boot (w, vm);
  write_vm_other (w, vm);
  m_refs (w, "VBDs", l->vbd, l->n_disks);
  m_refs (w, "VIFs", l->vif, l->n_nics);
  write_vm_defaults (w);
  obj_end (w);
}

/* Members VBDs and VIFs share. */
static void
write_device_defaults (struct xml_writer *w)
{
  static const char *const arrays[] = {
    "allowed_operations", "qos_supported_algorithms", NULL,
  };
  static const char *const maps[] = {
    "current_operations", "runtime_properties", "qos_algorithm_params", NULL,
  };

  m_empties (w, arrays, maps);
  m_bool (w, "currently_attached", false);
  m_str (w, "status_code", "0");
  m_str (w, "status_detail", "");
  m_str (w, "qos_algorithm_type", "");
  m_str (w, "metrics", NULL_REF);
}

static void
write_vbd (struct xml_writer *w, const struct layout *l, size_t i)
{
  static const char *const owner[] = { "owner", "true", NULL };

  obj_begin (w, "VBD", l->vbd + i);
  m_uuid (w, NULL);
  m_ref (w, "VM", 0);
  m_ref (w, "VDI", l->vdi + i);
  m_str (w, "device", "");
  m_u64 (w, "userdevice", i);
  m_bool (w, "bootable", i == 0);
  m_str (w, "mode", "RW");
  m_str (w, "type", "Disk");
  m_bool (w, "unpluggable", false);
  m_bool (w, "storage_lock", false);
  m_bool (w, "empty", false);
  /* owner: the VDI is the VM's own and goes when the VM is destroyed. */
  m_map (w, "other_config", owner);
  write_device_defaults (w);
  obj_end (w);
}

static void
write_vdi (struct xml_writer *w, const struct vm *vm, const struct layout *l,
           size_t i, uint64_t size)
{
  static const char *const arrays[] = {
    "allowed_operations", "crash_dumps", "snapshots", "tags", NULL,
  };
  static const char *const maps[] = {
    "current_operations", "other_config", "xenstore_data", "sm_config", NULL,
  };
  char label[300];

  snprintf (label, sizeof label, "%s %zu", vm->name ? vm->name : "disk", i);
  obj_begin (w, "VDI", l->vdi + i);
  m_uuid (w, NULL);
  m_str (w, "name_label", label);
  m_str (w, "name_description", "");
  m_ref (w, "SR", l->sr);
  m_refs (w, "VBDs", l->vbd + i, 1);
  m_u64 (w, "virtual_size", size);
  m_u64 (w, "physical_utilisation", size);
  m_str (w, "type", "user");
  m_bool (w, "sharable", false);
  m_bool (w, "read_only", false);
  m_bool (w, "storage_lock", false);
  m_str (w, "location", "");
  m_bool (w, "managed", true);
  m_bool (w, "missing", false);
  m_str (w, "parent", NULL_REF);
  m_bool (w, "is_a_snapshot", false);
  m_str (w, "snapshot_of", NULL_REF);
  m_epoch (w, "snapshot_time");
  m_bool (w, "allow_caching", false);
  m_str (w, "on_boot", "persist");
  m_str (w, "metadata_of_pool", NULL_REF);
  m_bool (w, "metadata_latest", false);
  m_bool (w, "is_tools_iso", false);
  m_bool (w, "cbt_enabled", false);
  m_empties (w, arrays, maps);
  obj_end (w);
}

static void
write_vif (struct xml_writer *w, const struct vm *vm, const struct layout *l,
           size_t i)
{
  static const char *const arrays[] = {
    "ipv4_allowed", "ipv6_allowed", "ipv4_addresses", "ipv6_addresses", NULL,
  };
  const struct vm_nic *n = &vm->nics.ptr[i];
  char mac[18] = "";

  if (n->has_mac)
    ids_mac_format (n->mac, mac);
  obj_begin (w, "VIF", l->vif + i);
  m_uuid (w, NULL);
  m_u64 (w, "device", i);
  m_ref (w, "network", l->net + l->nic_net[i]);
  m_ref (w, "VM", 0);
  /* An empty MAC makes xapi generate one when it creates the VIF. */
  m_str (w, "MAC", mac);
  m_bool (w, "MAC_autogenerated", !n->has_mac);
  m_str (w, "MTU", "1500");
  m_empty (w, "other_config", false);
  m_str (w, "locking_mode", "network_default");
  m_str (w, "ipv4_configuration_mode", "None");
  m_str (w, "ipv4_gateway", "");
  m_str (w, "ipv6_configuration_mode", "None");
  m_str (w, "ipv6_gateway", "");
  m_empties (w, arrays, NULL);
  write_device_defaults (w);
  obj_end (w);
}

static void
write_sr (struct xml_writer *w, const struct layout *l, const uint64_t *sizes)
{
  static const char *const arrays[] = {
    "allowed_operations", "PBDs", "tags", NULL,
  };
  static const char *const maps[] = {
    "current_operations", "other_config", "sm_config", "blobs", NULL,
  };
  uint64_t total = 0;
  size_t i;

  for (i = 0; i < l->n_disks; i++)
    if (__builtin_add_overflow (total, sizes[i], &total))
      total = UINT64_MAX;
  obj_begin (w, "SR", l->sr);
  m_uuid (w, NULL);
  m_str (w, "name_label", "Local storage");
  m_str (w, "name_description", "");
  m_refs (w, "VDIs", l->vdi, l->n_disks);
  m_u64 (w, "virtual_allocation", total);
  m_u64 (w, "physical_utilisation", total);
  m_u64 (w, "physical_size", total);
  m_str (w, "type", "ext");
  /* "iso" would make xapi treat the disks as CDs and not stream them. */
  m_str (w, "content_type", "user");
  m_bool (w, "shared", false);
  m_bool (w, "local_cache_enabled", false);
  m_str (w, "introduced_by", NULL_REF);
  m_bool (w, "clustered", false);
  m_bool (w, "is_tools_sr", false);
  m_empties (w, arrays, maps);
  obj_end (w);
}

static void
write_network (struct xml_writer *w, const struct layout *l, size_t k)
{
  static const char *const arrays[] = { "allowed_operations", "PIFs",
                                        "tags", "purpose", NULL };
  static const char *const maps[] = { "current_operations", "other_config",
                                      "blobs", "assigned_ips", NULL };
  const char *name = l->net_name[k];
  size_t i, n = 0, first = 0;

  for (i = 0; i < l->n_nics; i++)
    if (l->nic_net[i] == k && n++ == 0)
      first = i;
  obj_begin (w, "network", l->net + k);
  m_uuid (w, NULL);
  m_str (w, "name_label",
         name ? name : "Pool-wide network associated with eth0");
  m_str (w, "name_description", "");
  /* The VIFs of one network are not always consecutive: list them all. */
  xml_add (w, "<member><name>VIFs</name><value><array><data>");
  for (i = first; i < l->n_nics; i++)
    if (l->nic_net[i] == k)
      xml_add (w, "<value>Ref:%zu</value>", l->vif + i);
  xml_add (w, "</data></array></value></member>");
  m_str (w, "MTU", "1500");
  m_str (w, "bridge", vm_network_is_bridge (name) ? name : "xenbr0");
  m_bool (w, "managed", true);
  m_str (w, "default_locking_mode", "unlocked");
  m_empties (w, arrays, maps);
  obj_end (w);
}

int
xva_xml_write (const struct vm *vm, const uint64_t *vdi_sizes,
               struct strbuf *out)
{
  struct xml_writer w = {
    .sb = out, .who = "xva", .doing = "writing ova.xml",
  };
  struct layout l = { 0 };
  size_t i;

  if (make_layout (vm, &l) == -1)
    return -1;
  xml_add (&w, "<value><struct>");
  write_version (&w);
  xml_add (&w, "<member><name>objects</name><value><array><data>");
  write_vm (&w, vm, &l);
  for (i = 0; i < l.n_disks; i++)
    write_vbd (&w, &l, i);
  for (i = 0; i < l.n_disks; i++)
    write_vdi (&w, vm, &l, i, vdi_sizes[i]);
  for (i = 0; i < l.n_nics; i++)
    write_vif (&w, vm, &l, i);
  write_sr (&w, &l, vdi_sizes);
  for (i = 0; i < l.n_nets; i++)
    write_network (&w, &l, i);
  xml_add (&w, "</data></array></value></member></struct></value>\n");
  return w.failed ? -1 : 0;
}

/* ------------------------------------------------------------------ */
/* Reading. */

static const struct xml_rules rules = {
  .max_size = XVA_MAX_XML,
  .too_large = "%zu bytes is too large for an ova.xml (limit %zu)",
  .doctype = "DOCTYPE declarations are refused (entities, external DTDs)",
  .malformed = "malformed XML (%s)",
};

/* ------------------------------------------------------------------ */
/* XML-RPC values, read in place from the document. */

/* Text of a node holding nothing but text ("" when empty); NULL when it
 * holds anything else (elements, comments): such values are refused. */
static const char *
node_text (const xmlNode *n)
{
  const xmlNode *c = n->children;

  if (c == NULL)
    return "";
  if (c->type == XML_TEXT_NODE && c->next == NULL)
    return (const char *) c->content;
  return NULL;
}

/* The scalar in <value>: bare text, or <string>/<int>/<boolean>/... */
static const char *
vstr (const xmlNode *value)
{
  xmlNode *e = xml_first_elem (value);

  if (value == NULL)
    return NULL;
  if (e == NULL)
    return node_text (value);
  if (xml_is_elem (e, "struct") || xml_is_elem (e, "array"))
    return NULL;
  return node_text (e);
}

static bool
vbool (const xmlNode *value)
{
  const char *s = vstr (value);

  return s && (strcmp (s, "1") == 0 || strcasecmp (s, "true") == 0);
}

/* The <struct> inside a <value>, or NULL. */
static xmlNode *
vstruct (const xmlNode *value)
{
  xmlNode *e = xml_first_elem (value);

  return xml_is_elem (e, "struct") ? e : NULL;
}

/* The first <value> of the array inside a <value>; iterate with
 * xml_next_elem(). */
static xmlNode *
varray (const xmlNode *value, bool *ok)
{
  xmlNode *a = xml_first_elem (value), *data = xml_first_elem (a);

  *ok = xml_is_elem (a, "array") &&
    (data == NULL || xml_is_elem (data, "data"));
  return *ok ? xml_first_elem (data) : NULL;
}

/* The <value> of member `name` of a <struct>. */
static xmlNode *
member (const xmlNode *st, const char *name)
{
  xmlNode *m, *n;
  const char *s;

  for (m = xml_first_elem (st); m; m = xml_next_elem (m)) {
    n = xml_first_elem (m);
    if (xml_is_elem (m, "member") && xml_is_elem (n, "name") &&
        (s = node_text (n)) != NULL && strcmp (s, name) == 0) {
      n = xml_next_elem (n);
      return xml_is_elem (n, "value") ? n : NULL;
    }
  }
  return NULL;
}

static const char *
mstr (const xmlNode *st, const char *name)
{
  return vstr (member (st, name));
}

/* Struct nesting is what a decoder recurses on: bound it, whatever our
 * own walk needs, so no consumer of this document can be driven deep. */
static int
check_depth (const xmlNode *n, unsigned structs, const char *pfx)
{
  const xmlNode *c;

  if (xml_is_elem (n, "struct") && ++structs > XVA_MAX_DEPTH)
    return error_set ("%s: structs nested deeper than %d", pfx,
                      XVA_MAX_DEPTH);
  for (c = n->children; c; c = c->next)
    if (c->type == XML_ELEMENT_NODE && check_depth (c, structs, pfx) == -1)
      return -1;
  return 0;
}

/* ------------------------------------------------------------------ */
/* The object table. */

struct xobj {
  const char *cls;
  const char *id;
  xmlNode *snap;                /* the record's <struct> */
};

struct xctx {
  const char *pfx;
  struct xobj *objs;
  size_t n;
};

static int
cmp_obj (const void *a, const void *b)
{
  return strcmp (((const struct xobj *) a)->id,
                 ((const struct xobj *) b)->id);
}

static int
read_object (struct xctx *x, const xmlNode *value, size_t i)
{
  xmlNode *st = vstruct (value);
  struct xobj *o = &x->objs[i];

  o->cls = mstr (st, "class");
  o->id = mstr (st, "id");
  o->snap = vstruct (member (st, "snapshot"));
  if (o->cls == NULL || o->id == NULL || o->snap == NULL)
    return error_set ("%s: object %zu lacks a class, id or snapshot record",
                      x->pfx, i);
  if (strcmp (o->id, NULL_REF) == 0 || o->id[0] == '\0')
    return error_set ("%s: object %zu has the null reference", x->pfx, i);
  return 0;
}

static int
read_objects (struct xctx *x, const xmlNode *root)
{
  xmlNode *objects = member (vstruct (root), "objects"), *v;
  size_t n = 0, i;
  bool ok;

  if (objects == NULL)
    return error_set ("%s: not an XVA ova.xml (no objects member)", x->pfx);
  for (v = varray (objects, &ok); v; v = xml_next_elem (v))
    if (++n > XVA_MAX_OBJECTS)
      return error_set ("%s: more than %d objects", x->pfx,
                        XVA_MAX_OBJECTS);
  if (!ok)
    return error_set ("%s: objects is not an array", x->pfx);
  if ((x->objs = calloc (n ? n : 1, sizeof *x->objs)) == NULL)
    return error_errno ("%s", x->pfx);
  for (v = varray (objects, &ok), i = 0; v; v = xml_next_elem (v), i++)
    if (read_object (x, v, i) == -1)
      return -1;
  x->n = n;
  qsort (x->objs, n, sizeof *x->objs, cmp_obj);
  for (i = 1; i < n; i++)
    if (strcmp (x->objs[i - 1].id, x->objs[i].id) == 0)
      return error_set ("%s: duplicate object reference '%.64s'", x->pfx,
                        x->objs[i].id);
  return 0;
}

/* The record of class `cls` that `ref` names; error if there is none. */
static xmlNode *
lookup (const struct xctx *x, const char *ref, const char *cls,
        const char *from)
{
  struct xobj key = { .id = ref }, *o = NULL;

  if (ref)
    o = bsearch (&key, x->objs, x->n, sizeof *x->objs, cmp_obj);
  if (o == NULL)
    return error_set ("%s: %s refers to a missing %s '%.64s'", x->pfx, from,
                      cls, ref ? ref : "(not a reference)"), NULL;
  if (strcmp (o->cls, cls) != 0)
    return error_set ("%s: %s refers to '%.64s', a %.32s, not a %s", x->pfx,
                      from, ref, o->cls, cls), NULL;
  return o->snap;
}

/* ------------------------------------------------------------------ */
/* The VM and its devices. */

static const xmlNode *
find_vm (const struct xctx *x)
{
  const xmlNode *vm = NULL;
  size_t i;

  for (i = 0; i < x->n; i++) {
    const xmlNode *s = x->objs[i].snap;
    if (strcmp (x->objs[i].cls, "VM") != 0 ||
        vbool (member (s, "is_a_snapshot")) ||
        vbool (member (s, "is_control_domain")))
      continue;
    if (vm)
      return error_set ("%s: several VM objects that are not snapshots",
                        x->pfx), NULL;
    vm = s;
  }
  if (vm == NULL)
    error_set ("%s: no VM object", x->pfx);
  return vm;
}

static int
read_vm_memory (const struct xctx *x, const xmlNode *s, struct vm *vm)
{
  const char *mem = mstr (s, "memory_static_max");
  const char *cpus = mstr (s, "VCPUs_at_startup");
  uint64_t bytes;

  if (cpus == NULL)
    cpus = mstr (s, "VCPUs_max");
  if (xml_parse_u64 (mem, &bytes) == -1)
    return error_set ("%s: VM has no valid memory_static_max", x->pfx);
  vm->memory_mib = bytes / MiB + (bytes % MiB != 0);
  if (xml_parse_range (cpus, 1, VM_MAX_CPUS, &vm->cpus) == -1)
    return error_set ("%s: VM has an invalid VCPU count '%.32s'", x->pfx,
                      cpus ? cpus : "");
  return 0;
}

/* The OS family: ours if we wrote it, else from the name of the template
 * the VM was made from ("Debian Bullseye 11", "Windows Server 2019"). */
static void
read_vm_os (const xmlNode *s, struct vm *vm)
{
  static const struct { const char *needle; enum vm_os os; } map[] = {
    { "Windows", VM_OS_WINDOWS64 }, { "Debian", VM_OS_DEBIAN64 },
    { "Ubuntu", VM_OS_UBUNTU64 }, { "Red Hat", VM_OS_RHEL64 },
    { "CentOS", VM_OS_RHEL64 }, { "Rocky", VM_OS_RHEL64 },
    { "Alma", VM_OS_RHEL64 }, { "Oracle", VM_OS_RHEL64 },
    { "SUSE", VM_OS_SLES64 },
  };
  const xmlNode *oc = vstruct (member (s, "other_config"));
  const char *os = mstr (oc, "ferry-os");
  const char *tmpl = mstr (oc, "base_template_name");
  const char *linux = mstr (oc, "linux_template");
  size_t i;

  if (os && vm_os_parse (os, &vm->os) == 0)
    return;
  vm->os = linux && strcmp (linux, "true") == 0 ? VM_OS_LINUX64 : VM_OS_OTHER;
  for (i = 0; tmpl && i < sizeof map / sizeof map[0]; i++)
    if (strstr (tmpl, map[i].needle)) {
      vm->os = map[i].os;
      return;
    }
}

static void
read_vm_firmware (const xmlNode *s, struct vm *vm)
{
  const char *fw = mstr (vstruct (member (s, "HVM_boot_params")),
                         "firmware");

  if (fw == NULL)
    fw = mstr (vstruct (member (s, "platform")), "firmware");
  if (fw && strcmp (fw, "uefi") == 0)
    vm->firmware = VM_FW_UEFI;
}

static int
read_vm_identity (const struct xctx *x, const xmlNode *s, struct vm *vm)
{
  const char *name = mstr (s, "name_label");
  const char *desc = mstr (s, "name_description");
  const char *uuid = mstr (s, "uuid");

  if (name == NULL)
    return error_set ("%s: VM has no name_label", x->pfx);
  if (uuid && ids_uuid_parse (uuid, vm->uuid) == -1)
    return error_set ("%s: VM has an invalid uuid '%.40s'", x->pfx, uuid);
  vm->has_uuid = uuid != NULL;
  free (vm->name);
  free (vm->description);
  vm->description = NULL;
  if ((vm->name = xstrdup (name)) == NULL)
    return -1;
  if (desc && *desc && (vm->description = xstrdup (desc)) == NULL)
    return -1;
  return 0;
}

struct xdisk {
  uint64_t userdevice;
  uint64_t size;
  const char *vdi;
  const char *device;
};

static int
cmp_disk (const void *a, const void *b)
{
  const struct xdisk *p = a, *q = b;

  return p->userdevice < q->userdevice ? -1 : p->userdevice > q->userdevice;
}

/* One VBD; *d->vdi stays NULL for CD and floppy drives. */
static int
read_vbd (const struct xctx *x, const char *ref, struct xdisk *d)
{
  const xmlNode *vbd = lookup (x, ref, "VBD", "the VM"), *vdi;
  const char *type, *vdi_ref, *size;

  if (vbd == NULL)
    return -1;
  type = mstr (vbd, "type");
  if (type == NULL || strcasecmp (type, "Disk") != 0)
    return 0;
  vdi_ref = mstr (vbd, "VDI");
  if ((vdi = lookup (x, vdi_ref, "VDI", "a VBD")) == NULL)
    return -1;
  if (xml_parse_u64 (mstr (vbd, "userdevice"), &d->userdevice) == -1)
    return error_set ("%s: VBD '%.64s' has an invalid userdevice", x->pfx,
                      ref);
  size = mstr (vdi, "virtual_size");
  if (xml_parse_u64 (size, &d->size) == -1 || d->size == 0 ||
      d->size > VM_MAX_CAPACITY)
    return error_set ("%s: VDI '%.64s' has an absurd virtual_size '%.32s'",
                      x->pfx, vdi_ref, size ? size : "");
  d->vdi = vdi_ref;
  d->device = mstr (vbd, "device");
  return 0;
}

static int
check_disk_list (const struct xctx *x, const struct xdisk *d, size_t n)
{
  size_t i, j;

  for (i = 0; i < n; i++)
    for (j = i + 1; j < n; j++) {
      if (d[i].userdevice == d[j].userdevice)
        return error_set ("%s: two disks on userdevice %llu", x->pfx,
                          (unsigned long long) d[i].userdevice);
      if (strcmp (d[i].vdi, d[j].vdi) == 0)
        return error_set ("%s: VDI '%.64s' is attached twice", x->pfx,
                          d[i].vdi);
    }
  return 0;
}

static int
add_disks (struct vm *vm, const struct xdisk *d, size_t n)
{
  size_t i;

  for (i = 0; i < n; i++) {
    struct vm_disk *vd;
    if (vm_add_disk (vm, d[i].vdi, "raw", d[i].size, VM_BUS_XEN) == -1)
      return -1;
    vd = &vm->disks.ptr[vm->disks.len - 1];
    vd->unit = (unsigned) (d[i].userdevice > 1000 ? 1000 : d[i].userdevice);
    if (d[i].device && *d[i].device &&
        (vd->target_dev = xstrdup (d[i].device)) == NULL)
      return -1;
  }
  return 0;
}

static int
read_disks (const struct xctx *x, const xmlNode *s, struct vm *vm)
{
  struct xdisk d[VM_MAX_DISKS + 1];
  size_t n = 0, seen = 0;
  xmlNode *v;
  bool ok;

  for (v = varray (member (s, "VBDs"), &ok); v; v = xml_next_elem (v)) {
    if (++seen > MAX_VM_DEVICES)
      return error_set ("%s: VM has more than %d VBDs", x->pfx,
                        MAX_VM_DEVICES);
    memset (&d[n], 0, sizeof d[n]);
    if (read_vbd (x, vstr (v), &d[n]) == -1)
      return -1;
    if (d[n].vdi && ++n > VM_MAX_DISKS)
      return error_set ("%s: more than %d disks", x->pfx, VM_MAX_DISKS);
  }
  qsort (d, n, sizeof d[0], cmp_disk);
  if (check_disk_list (x, d, n) == -1)
    return -1;
  return add_disks (vm, d, n);
}

struct xnic {
  uint64_t device;
  const char *ref;
  const xmlNode *vif;
};

static int
cmp_nic (const void *a, const void *b)
{
  const struct xnic *p = a, *q = b;

  return p->device < q->device ? -1 : p->device > q->device;
}

static int
add_nic (const struct xctx *x, const struct xnic *n, struct vm *vm)
{
  static const uint8_t zero[6];
  const char *mac = mstr (n->vif, "MAC"), *net = mstr (n->vif, "network");
  const xmlNode *nw = NULL;
  uint8_t addr[6];
  bool has_mac = mac && *mac;

  if (has_mac && ids_mac_parse (mac, addr) == -1)
    return error_set ("%s: VIF '%.64s' has an invalid MAC '%.32s'", x->pfx,
                      n->ref, mac);
  /* Templates carry 00:00:00:00:00:00: no address, not a real one. */
  if (has_mac && memcmp (addr, zero, 6) == 0)
    has_mac = false;
  if (net && strcmp (net, NULL_REF) != 0 &&
      (nw = lookup (x, net, "network", "a VIF")) == NULL)
    return -1;
  return vm_add_nic (vm, has_mac ? addr : NULL,
                     nw ? mstr (nw, "name_label") : NULL, NULL);
}

static int
read_nics (const struct xctx *x, const xmlNode *s, struct vm *vm)
{
  struct xnic nics[VM_MAX_NICS];
  size_t n = 0, i;
  xmlNode *v;
  bool ok;

  for (v = varray (member (s, "VIFs"), &ok); v; v = xml_next_elem (v)) {
    if (n == VM_MAX_NICS)
      return error_set ("%s: more than %d VIFs", x->pfx, VM_MAX_NICS);
    nics[n].ref = vstr (v);
    if ((nics[n].vif = lookup (x, nics[n].ref, "VIF", "the VM")) == NULL)
      return -1;
    if (xml_parse_u64 (mstr (nics[n].vif, "device"), &nics[n].device) == -1)
      return error_set ("%s: VIF '%.64s' has an invalid device", x->pfx,
                        nics[n].ref);
    n++;
  }
  qsort (nics, n, sizeof nics[0], cmp_nic);
  for (i = 0; i < n; i++)
    if (add_nic (x, &nics[i], vm) == -1)
      return -1;
  return 0;
}

static int
vdi_ref_list (const struct vm *vm, char ***out)
{
  char **refs = calloc (vm->disks.len + 1, sizeof *refs);
  size_t i;

  if (refs == NULL)
    return error_errno ("xva: VDI list");
  for (i = 0; i < vm->disks.len; i++)
    if ((refs[i] = xstrdup (vm->disks.ptr[i].file)) == NULL) {
      while (i > 0)
        free (refs[--i]);
      free (refs);
      return -1;
    }
  *out = refs;
  return 0;
}

static int
read_vm (struct xctx *x, const xmlNode *root, struct vm *vm)
{
  const xmlNode *s;

  if (!xml_is_elem (root, "value") || vstruct (root) == NULL)
    return error_set ("%s: not an XVA ova.xml (no <value><struct>)", x->pfx);
  if (check_depth (root, 0, x->pfx) == -1 ||
      read_objects (x, root) == -1 ||
      (s = find_vm (x)) == NULL)
    return -1;
  if (read_vm_identity (x, s, vm) == -1 || read_vm_memory (x, s, vm) == -1 ||
      read_disks (x, s, vm) == -1 || read_nics (x, s, vm) == -1)
    return -1;
  read_vm_firmware (s, vm);
  read_vm_os (s, vm);
  return vm_validate (vm, x->pfx);
}

int
xva_xml_parse (const char *xml, size_t len, const char *what,
               struct vm *vm, char ***vdi_refs)
{
  char pfx[300];
  struct xctx x = { .pfx = pfx };
  xmlDocPtr doc;
  int r;

  *vdi_refs = NULL;
  snprintf (pfx, sizeof pfx, "xva: '%s'", what);
  if ((doc = xml_read_hostile (xml, len, &rules, pfx)) == NULL)
    return -1;
  r = read_vm (&x, xmlDocGetRootElement (doc), vm);
  if (r == 0)
    r = vdi_ref_list (vm, vdi_refs);
  free (x.objs);
  xmlFreeDoc (doc);
  return r;
}
