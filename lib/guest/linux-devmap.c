/* linux-devmap.c: Linux device names (sdX, hdX, xvdX, vdX, nvmeCnN) and
 * their map to filesystem UUIDs; fstab and crypttab rewritten through it
 * (see linux-devmap.h). */
#include "lib/common/compat.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "lib/common/error.h"
#include "lib/common/strbuf.h"
#include "lib/guest/linux-devmap.h"
#include "lib/guest/linux-text.h"

void
devmap_free (devmap *m)
{
  size_t i;

  for (i = 0; i < m->len; i++)
    free (m->ptr[i].uuid);
  devmap_reset (m);
}

/* "a" -> 0, "z" -> 25, "aa" -> 26; returns the letters consumed. */
static size_t
parse_letters (const char *s, unsigned *disk)
{
  size_t n = 0;
  unsigned v = 0;

  while (s[n] >= 'a' && s[n] <= 'z' && n < 3)
    v = v * 26 + (unsigned) (s[n++] - 'a' + 1);
  *disk = v - 1;
  return n;
}

/* Digits only (possibly none: *v = 0); -1 on anything else. */
static int
parse_number_tail (const char *s, unsigned *v)
{
  char *end;
  unsigned long n;

  if (*s == '\0') {
    *v = 0;
    return 0;
  }
  if (!isdigit ((unsigned char) *s))
    return -1;
  n = strtoul (s, &end, 10);
  if (*end || n > 4096)
    return -1;
  *v = (unsigned) n;
  return 0;
}

static int
parse_nvme (const char *s, unsigned *disk, unsigned *part)
{
  unsigned ctrl, ns;
  int used = 0;

  if (sscanf (s, "%u n%u%n", &ctrl, &ns, &used) < 2 || used == 0 ||
      !isdigit ((unsigned char) s[0]) || ns == 0)
    return -1;
  *disk = ctrl;
  s += used;
  if (*s == '\0') {
    *part = 0;
    return 0;
  }
  if (*s != 'p' || s[1] == '\0')
    return -1;
  return parse_number_tail (s + 1, part);
}

int
devmap_parse_name (const char *name, unsigned *disk, unsigned *part)
{
  static const char *const prefixes[] = { "/dev/sd", "/dev/hd", "/dev/xvd",
                                          "/dev/vd" };
  size_t i, n;

  if (str_has_prefix (name, "/dev/nvme"))
    return parse_nvme (name + 9, disk, part);
  for (i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
    if (!str_has_prefix (name, prefixes[i]))
      continue;
    n = parse_letters (name + strlen (prefixes[i]), disk);
    if (n == 0)
      return -1;
    return parse_number_tail (name + strlen (prefixes[i]) + n, part);
  }
  return -1;
}

const char *
devmap_lookup (const devmap *m, const char *name)
{
  unsigned disk, part;
  size_t i;

  if (devmap_parse_name (name, &disk, &part) == -1)
    return NULL;
  for (i = 0; i < m->len; i++)
    if (m->ptr[i].disk == disk && m->ptr[i].part == part)
      return m->ptr[i].uuid;
  return NULL;
}

struct table_ctx {
  int field;
  const devmap *m;
  int *changed;
};

static int
table_line (const char *line, size_t len, void *opaque, struct strbuf *out)
{
  struct table_ctx *c = opaque;
  size_t s, e;
  char *dev;
  const char *uuid = NULL;

  if (!ltext_blank_or_comment (line, len) &&
      ltext_find_field (line, len, c->field, &s, &e)) {
    if ((dev = strndup (line + s, e - s)) == NULL)
      return error_errno ("rewrite");
    uuid = devmap_lookup (c->m, dev);
    free (dev);
  }
  if (uuid == NULL)
    return strbuf_add (out, line, len);
  (*c->changed)++;
  if (strbuf_add (out, line, s) == -1 ||
      strbuf_addf (out, "UUID=%s", uuid) == -1)
    return -1;
  return strbuf_add (out, line + e, len - e);
}

char *
devmap_rewrite_table (const char *text, int field, const devmap *m,
                      int *changed)
{
  struct table_ctx c = { field, m, changed };

  return ltext_each_line (text, table_line, &c);
}
