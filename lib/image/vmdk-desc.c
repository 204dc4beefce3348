/* vmdk-desc.c: the VMDK text descriptor — parsing what readers need from
 * it (createType, extents, adapter, parent) and writing the one a
 * streamOptimized image embeds. */
#include "lib/common/compat.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "lib/common/checked.h"
#include "lib/common/cleanup.h"
#include "lib/common/error.h"
#include "lib/common/strbuf.h"
#include "lib/image/vmdk.h"

/* Copy into a fixed field, refusing (not truncating) what does not fit. */
static int
set_field (char *dst, size_t cap, const char *val, const char *what,
           const char *path)
{
  size_t n = strlen (val);

  if (n >= cap)
    return error_set ("vmdk: '%s': descriptor %s is too long", path, what);
  memcpy (dst, val, n + 1);
  return 0;
}

static int
parse_u64 (const char *s, uint64_t *out)
{
  uint64_t v = 0;

  if (*s == '\0')
    return -1;
  for (; *s; s++) {
    if (*s < '0' || *s > '9' ||
        MUL_OVERFLOW (v, 10, &v) || ADD_OVERFLOW (v, (uint64_t) (*s - '0'), &v))
      return -1;
  }
  *out = v;
  return 0;
}

static int
parse_kv (char *line, char *eq, const char *path, struct vmdk_desc *d)
{
  char *key, *val;
  size_t n;

  *eq = '\0';
  key = str_trim (line);
  val = str_trim (eq + 1);
  n = strlen (val);
  if (n >= 2 && val[0] == '"' && val[n - 1] == '"') {
    val[n - 1] = '\0';
    val++;
  }
  if (strcmp (key, "createType") == 0)
    return set_field (d->create_type, sizeof d->create_type, val,
                      "createType", path);
  if (strcmp (key, "ddb.adapterType") == 0)
    return set_field (d->adapter_type, sizeof d->adapter_type, val,
                      "ddb.adapterType", path);
  if (strcmp (key, "parentCID") == 0 && strcasecmp (val, "ffffffff") != 0)
    d->has_parent = true;
  if (strcmp (key, "parentFileNameHint") == 0 && *val)
    d->has_parent = true;
  return 0;
}

/* "RW 41943040 SPARSE "disk.vmdk" [offset]"; ZERO extents have no file. */
static int
parse_extent (char *line, const char *path, struct vmdk_desc *d)
{
  char *save = NULL, *sectors, *type, *q1, *q2;
  uint64_t n, off = 0;

  q1 = strchr (line, '"');
  q2 = q1 ? strchr (q1 + 1, '"') : NULL;
  if (q1 && !q2)
    return error_set ("vmdk: '%s': descriptor extent line has an unterminated "
                      "file name", path);
  if (q1) {
    *q1 = *q2 = '\0';
    if (*str_trim (q2 + 1) && parse_u64 (str_trim (q2 + 1), &off) == -1)
      return error_set ("vmdk: '%s': descriptor extent offset is not a number",
                        path);
  }
  strtok_r (line, " \t", &save);            /* access: RW/RDONLY/NOACCESS */
  sectors = strtok_r (NULL, " \t", &save);
  type = strtok_r (NULL, " \t", &save);
  if (sectors == NULL || type == NULL || parse_u64 (sectors, &n) == -1)
    return error_set ("vmdk: '%s': descriptor extent line is malformed", path);
  if (ADD_OVERFLOW (d->total_sectors, n, &d->total_sectors))
    return error_set ("vmdk: '%s': descriptor extents overflow", path);
  if (d->n_extents++ > 0)
    return 0;
  d->extent_sectors = n;
  d->extent_offset = off;
  if (set_field (d->extent_type, sizeof d->extent_type, type, "extent type",
                 path) == -1)
    return -1;
  return set_field (d->extent_file, sizeof d->extent_file, q1 ? q1 + 1 : "",
                    "extent file name", path);
}

static bool
is_extent_line (const char *s)
{
  return str_has_prefix (s, "RW ") || str_has_prefix (s, "RDONLY ") ||
    str_has_prefix (s, "NOACCESS ") || str_has_prefix (s, "RW\t") ||
    str_has_prefix (s, "RDONLY\t") || str_has_prefix (s, "NOACCESS\t");
}

static int
parse_line (char *line, unsigned lineno, const char *path,
            struct vmdk_desc *d)
{
  char *s = str_trim (line), *eq;
  const unsigned char *p;

  if (*s == '\0' || *s == '#')
    return 0;
  for (p = (const unsigned char *) s; *p; p++)
    if (*p < 0x20 && *p != '\t')
      return error_set ("vmdk: '%s': descriptor line %u holds binary data",
                        path, lineno);
  if (is_extent_line (s))
    return parse_extent (s, path, d);
  eq = strchr (s, '=');
  if (eq == NULL)
    return error_set ("vmdk: '%s': descriptor line %u is not understood",
                      path, lineno);
  return parse_kv (s, eq, path, d);
}

int
vmdk_desc_parse (const char *text, size_t len, const char *path,
                 struct vmdk_desc *d)
{
  CLEANUP_FREE char *copy = NULL;
  char *line, *nl;
  unsigned lineno = 1;

  memset (d, 0, sizeof *d);
  len = strnlen (text, len);            /* embedded ones are NUL-padded */
  copy = malloc (len + 1);
  if (copy == NULL)
    return error_errno ("malloc");
  memcpy (copy, text, len);
  copy[len] = '\0';
  for (line = copy; line; line = nl, lineno++) {
    nl = strchr (line, '\n');
    if (nl)
      *nl++ = '\0';
    if (parse_line (line, lineno, path, d) == -1)
      return -1;
  }
  if (d->create_type[0] == '\0')
    return error_set ("vmdk: '%s': descriptor has no createType", path);
  return 0;
}

static const char *const adapters[] = {
  "ide", "buslogic", "lsilogic", "legacyESX", "pvscsi",
};

int
vmdk_adapter_ok (const char *adapter, const char *path)
{
  size_t i;

  if (adapter == NULL)
    return 0;
  for (i = 0; i < sizeof adapters / sizeof adapters[0]; i++)
    if (strcmp (adapter, adapters[i]) == 0)
      return 0;
  return error_set ("vmdk: '%s': unknown adapter type '%s' (known: ide, "
                    "buslogic, lsilogic, legacyESX, pvscsi)", path, adapter);
}

/* A random content ID: VMware reads ffffffff/fffffffe as "no parent". */
static uint32_t
random_u32 (void)
{
  uint32_t r = 0;

  while (getrandom (&r, sizeof r, 0) != (ssize_t) sizeof r && errno == EINTR)
    ;
  return r;
}

static uint32_t
random_cid (void)
{
  uint32_t cid;

  do
    cid = random_u32 ();
  while (cid >= 0xfffffffeu);
  return cid;
}

/* VMware's BIOS geometry: IDE disks 16 heads and at most 16383
 * cylinders; SCSI disks 255 heads and at most 65535. */
static void
geometry (uint64_t capacity, bool ide, unsigned *cyl, unsigned *heads)
{
  uint64_t c;

  *heads = ide ? 16 : 255;
  c = DIV_ROUND_UP (capacity, (uint64_t) *heads * 63);
  *cyl = (unsigned) MIN (c, ide ? 16383u : 65535u);
}

/* Quotes or newlines in the name would break the descriptor syntax. */
static void
sanitize_name (char *s)
{
  for (; *s; s++)
    if (*s == '"' || (unsigned char) *s < 0x20)
      *s = '_';
}

char *
vmdk_desc_make (const char *extent_name, uint64_t capacity,
                const char *adapter_type)
{
  const char *adapter = adapter_type ? adapter_type : "lsilogic";
  CLEANUP_FREE char *name = xstrdup (extent_name);
  uint32_t cid = random_cid ();
  unsigned cyl, heads;

  if (name == NULL)
    return NULL;
  sanitize_name (name);
  geometry (capacity, strcmp (adapter, "ide") == 0, &cyl, &heads);
  return xasprintf (
    "# Disk DescriptorFile\n"
    "version=1\n"
    "encoding=\"UTF-8\"\n"
    "CID=%08x\n"
    "parentCID=ffffffff\n"
    "createType=\"streamOptimized\"\n"
    "\n"
    "# Extent description\n"
    "RW %llu SPARSE \"%s\"\n"
    "\n"
    "# The Disk Data Base\n"
    "#DDB\n"
    "\n"
    "ddb.adapterType = \"%s\"\n"
    "ddb.geometry.cylinders = \"%u\"\n"
    "ddb.geometry.heads = \"%u\"\n"
    "ddb.geometry.sectors = \"63\"\n"
    "ddb.longContentID = \"%08x%08x%08x%08x\"\n"
    "ddb.toolsInstallType = \"4\"\n"
    "ddb.toolsVersion = \"2147483647\"\n"
    "ddb.virtualHWVersion = \"4\"\n",
    cid, (unsigned long long) capacity, name, adapter, cyl, heads,
    random_u32 (), random_u32 (), random_u32 (), cid);
}
