/* ovf-read.c: the OVF reader (ovf.h) — OVF 1.x/2.0 envelopes from VMware,
 * VirtualBox, XenCenter and Ferry, read from hostile input into struct vm. */
#include "lib/common/compat.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlstring.h>

#include "lib/common/checked.h"
#include "lib/common/error.h"
#include "lib/common/ids.h"
#include "lib/common/strbuf.h"
#include "lib/common/vector.h"
#include "ova/ovf-int.h"
#include "ova/xml.h"

/* Caps on sections we only index (Disk is capped by VM_MAX_DISKS). */
#define MAX_FILES 256

static const struct xml_rules rules = {
  .max_size = OVF_MAX_SIZE,
  .too_large = "the OVF is %zu bytes, more than the %zu byte limit",
  .doctype = "document type declarations (DOCTYPE/ENTITY) are not allowed",
  .malformed = "not well-formed XML (%s)",
};

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

/* The first OVF-namespace child element called `local`, or NULL. */
static xmlNode *
child (const struct parse *p, const xmlNode *parent, const char *local)
{
  return xml_child_ns (parent, (const char *) p->ns, local);
}

static size_t
count_children (const struct parse *p, const xmlNode *parent,
                const char *local)
{
  const xmlNode *c;
  size_t n = 0;

  for (c = parent ? parent->children : NULL; c; c = c->next)
    n += xml_is_elem (c, local) && xml_in_ns (c, (const char *) p->ns);
  return n;
}

/* An attribute in the envelope's OVF namespace (or none). */
static const char *
oattr (const struct parse *p, const xmlNode *n, const char *name)
{
  return xml_attr (n, name, (const char *) p->ns);
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
    return fail (p, "file name '%s' in References %s", xml_show (b, href), why);
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
    return fail (p, "two files have the id '%s'", xml_show (b, f.id));
  if (check_href (p, f.href) == -1)
    return -1;
  if (size && xml_parse_u64 (size, &f.size) == -1)
    return fail (p, "file '%s' has a bad size '%s'", xml_show (b, f.id), size);
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
    if (xml_is_elem (c, "File") && xml_in_ns (c, (const char *) p->ns) &&
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

  if (xml_parse_u64 (cap, &d->capacity) == -1)
    return fail (p, "disk '%s' has a bad capacity '%s'", xml_show (b, d->id),
                 xml_show (c, cap));
  if (units && parse_units (units, &mult) == -1)
    return fail (p, "disk '%s' has unknown capacity units '%s'",
                 xml_show (b, d->id), xml_show (c, units));
  if (MUL_OVERFLOW (d->capacity, mult, &d->capacity) ||
      d->capacity > VM_MAX_CAPACITY)
    return fail (p, "disk '%s' has an absurd capacity (limit %llu bytes)",
                 xml_show (b, d->id), (unsigned long long) VM_MAX_CAPACITY);
  if (d->capacity == 0)
    return fail (p, "disk '%s' has zero capacity", xml_show (b, d->id));
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
      return fail (p, "two disks have the id '%s'", xml_show (b, d.id));
  if (disk_capacity (p, n, &d) == -1)
    return -1;
  d.file_ref = oattr (p, n, "fileRef");
  d.format_uri = oattr (p, n, "format");
  if (d.file_ref && find_file (p, d.file_ref, &d.file) == -1)
    return fail (p, "disk '%s' refers to file '%s' which is not in "
                 "References", xml_show (b, d.id), xml_show (c, d.file_ref));
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
    if (xml_is_elem (c, "Disk") && xml_in_ns (c, (const char *) p->ns) &&
        parse_disk (p, c) == -1)
      return -1;
  return 0;
}

/* ---- Items ------------------------------------------------------------- */

static bool
is_item (const struct parse *p, const xmlNode *n)
{
  /* OVF 2.0 adds StorageItem (sasd) and EthernetPortItem (epasd). */
  return xml_in_ns (n, (const char *) p->ns) &&
    (xml_is_elem (n, "Item") || xml_is_elem (n, "StorageItem") ||
     xml_is_elem (n, "EthernetPortItem"));
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
  if (xml_parse_u64 (it.f[F_RESOURCE_TYPE], &it.type) == -1)
    return fail (p, "Item %zu has a bad ResourceType '%s'",
                 p->items.len + 1, xml_show (b, it.f[F_RESOURCE_TYPE]));
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
                   xml_show (b, c.id));
    same += p->ctrls.ptr[i].bus == bus;
  }
  /* rasd:Address numbers the controller (IDE 0, IDE 1); without it the
   * document order does. */
  if (xml_parse_range (it->f[F_ADDRESS], 0, OVF_MAX_UNIT, &c.index) == -1)
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
  if (xml_parse_u64 (it->f[F_VIRTUAL_QUANTITY], &n) == -1)
    return fail (p, "bad number of CPUs '%s'",
                 xml_show (b, it->f[F_VIRTUAL_QUANTITY]));
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
  if (xml_parse_u64 (it->f[F_VIRTUAL_QUANTITY], &n) == -1)
    return fail (p, "bad memory size '%s'",
                 xml_show (b, it->f[F_VIRTUAL_QUANTITY]));
  if (units && parse_units (units, &mult) == -1)
    return fail (p, "unknown memory units '%s'", xml_show (b, units));
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
  if (ovf_nic_model (sub))
    return (*m = xstrdup (ovf_nic_model (sub))) ? 0 : -1;
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
  if (addr && addr[0] && ids_mac_parse (addr, mac) == -1)
    return fail (p, "NIC %zu has a bad MAC address '%s'",
                 p->vm->nics.len, xml_show (b, addr));
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
          xml_show (b, hr));
    return NULL;
  }
  id += 6;
  for (i = 0; i < p->disks.len; i++)
    if (strcmp (p->disks.ptr[i].id, id) == 0)
      return &p->disks.ptr[i];
  if (!p->has_disk_section)
    fail (p, "Item %zu refers to disk '%s' but there is no DiskSection",
          item, xml_show (b, id));
  else
    fail (p, "Item %zu refers to disk '%s' which is not in the DiskSection",
          item, xml_show (b, id));
  return NULL;
}

/* The file behind a disk, claimed once. */
static struct ofile *
disk_file (struct parse *p, struct odisk *d)
{
  struct ofile *f;
  char b[80];

  if (d->used) {
    fail (p, "disk '%s' is attached twice", xml_show (b, d->id));
    return NULL;
  }
  d->used = true;
  if (d->file_ref == NULL) {
    fail (p, "disk '%s' has no file (blank disks are not supported)",
          xml_show (b, d->id));
    return NULL;
  }
  f = &p->files.ptr[d->file];
  if (f->used) {
    fail (p, "file '%s' is used by two disks", xml_show (b, f->id));
    return NULL;
  }
  f->used = true;
  if (f->chunked || (f->compression && strcmp (f->compression, "identity"))) {
    fail (p, "file '%s' is chunked or compressed, which is not supported",
          xml_show (b, f->href));
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
  bool has_addr = xml_parse_range (it->f[F_ADDRESS_ON_PARENT], 0,
                                   OVF_MAX_UNIT, &addr) == 0;
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
                 xml_show (b, parent));
  if (c->bus == VM_BUS_SCSI && addr > 7)
    addr--;                     /* target 7 is the HBA's own */
  *bus = c->bus;
  *unit = c->index * ovf_bus_slots (c->bus) + addr;
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
                   "%zu", xml_show (b, d->id), vm_bus_name (bus), unit, i);
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
    return fail (p, "disk '%s' has an unknown format '%s'", xml_show (b, d->id),
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
    case RT_CPU:
      r = item_cpu (p, it);
      break;
    case RT_MEMORY:
      r = item_memory (p, it);
      break;
    case RT_ETHERNET:
      r = item_nic (p, it);
      break;
    case RT_DISK:
    case RT_STORAGE_EXTENT:
      r = item_disk (p, i + 1, it);
      break;
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
  const char *key = xml_attr (n, "key", NS_VMW);
  const char *value = xml_attr (n, "value", NS_VMW);
  char b[80];

  if (key == NULL || value == NULL)
    return 0;
  if (strcmp (key, "firmware") == 0 && strcasecmp (value, "efi") == 0)
    p->vm->firmware = VM_FW_UEFI;
  if (strcmp (key, "uuid") == 0) {
    if (ids_uuid_parse (value, p->vm->uuid) == -1)
      return fail (p, "bad VM UUID '%s'", xml_show (b, value));
    p->vm->has_uuid = true;
  }
  return 0;
}

/* XenCenter: <xenovf:VirtualSystemOtherConfigurationData
 * Name="HVM_boot_params"><Value>order=dc;firmware=uefi</Value>. */
static int
xen_config (struct parse *p, const xmlNode *n)
{
  const char *name = xml_attr (n, "Name", NULL);
  const xmlNode *v = xml_child (n, "Value");
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
  const xmlNode *t = xml_child (child (p, hw, "System"), "VirtualSystemType");
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
    if (xml_is_elem (c, "Config") && xml_in_ns (c, NS_VMW))
      r = vmw_config (p, c);
    else if (xml_is_elem (c, "VirtualSystemOtherConfigurationData"))
      r = xen_config (p, c);
  }
  return r;
}

/* ---- operating system --------------------------------------------------- */

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
  const char *id = oattr (p, sec, "id");
  const char *name = xml_attr (sec, "osType", NS_VMW);
  const xmlNode *vbox = xml_child (sec, "OSType");
  uint64_t cim;

  if (id && xml_parse_u64 (id, &cim) == 0)
    p->vm->os = ovf_os_from_cim (cim);
  if (p->vm->os != VM_OS_OTHER)
    return 0;
  if (name == NULL && vbox && xml_in_ns (vbox, NS_VBOX) &&
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
  return ids_mac_parse (colon, mac);
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
    if (!xml_is_elem (a, "Adapter"))
      continue;
    en = xml_attr (a, "enabled", NULL);
    if (en == NULL || strcmp (en, "true") != 0)
      continue;
    if (n == VM_MAX_NICS ||
        vbox_mac (xml_attr (a, "MACAddress", NULL), macs[n]) == -1)
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
  const xmlNode *hw = xml_child (m, "Hardware");
  const xmlNode *fw = xml_child (hw, "Firmware");
  const char *type = fw ? xml_attr (fw, "type", NULL) : NULL;
  const char *uuid = xml_attr (m, "uuid", NULL);
  char plain[37];

  if (type && strncasecmp (type, "EFI", 3) == 0)
    p->vm->firmware = VM_FW_UEFI;
  /* "{xxxxxxxx-...}"; a malformed one is VirtualBox's business only. */
  if (!p->vm->has_uuid && uuid && strlen (uuid) == 38 && uuid[0] == '{') {
    memcpy (plain, uuid + 1, 36);
    plain[36] = '\0';
    if (ids_uuid_parse (plain, p->vm->uuid) == 0)
      p->vm->has_uuid = true;
  }
  vbox_macs (p, xml_child (hw, "Network"));
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
    if (xml_is_elem (c, "Machine") && xml_in_ns (c, NS_VBOX))
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
  if (!xml_is_elem (root, "Envelope") ||
      !(xml_in_ns (root, NS_OVF1) || xml_in_ns (root, NS_OVF2)))
    return fail (p, "not an OVF envelope (root element '%s')",
                 xml_show (b, (const char *) root->name));
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
  char pfx[1024], ctx[300];     /* pfx: as long as error_set() keeps */
  xmlDocPtr doc;
  int r;

  vm_init (vm);
  snprintf (pfx, sizeof pfx, "ovf: '%s'", p.what);
  if (len == 0)
    return fail (&p, "empty document");
  if ((doc = xml_read_hostile (xml, len, &rules, pfx)) == NULL)
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
