/* windows-inf.c: .inf parsing and the pure choices of Windows driver
 * injection (see windows-inf.h).  Every .inf comes from the user's driver
 * folder and is treated as hostile: its size is bounded before decoding,
 * tables are capped, fields are copied, never indexed blindly. */
#include "lib/common/compat.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/common/charset.h"
#include "lib/common/error.h"
#include "lib/common/strbuf.h"
#include "lib/guest/windows-inf.h"

/* One "key = value" line (or a bare line: value NULL) of a section. */
struct inf_line {
  char *section, *key, *value;
};
DEFINE_VECTOR_TYPE (inf_lines, struct inf_line);

char *
win_utf8 (const void *data, size_t len)
{
  return charset_utf16_to_utf8 (data, len, CHARSET_UTF16LE);
}

char *
win_utf16 (const char *s, size_t *len)
{
  char *out = charset_utf8_to_utf16 (s, CHARSET_UTF16LE, len);

  if (out)
    *len += 2;                /* the U+0000 after the text */
  return out;
}

char *
win_utf16_multi (const char *const *v, size_t n, size_t *len)
{
  struct strbuf sb = STRBUF_INIT;
  size_t i, one;
  char *u;

  for (i = 0; i < n; i++) {
    if ((u = win_utf16 (v[i], &one)) == NULL) {
      strbuf_release (&sb);
      return NULL;
    }
    strbuf_add (&sb, u, one);
    free (u);
  }
  strbuf_add (&sb, "\0\0", 2);
  *len = sb.len;
  return strbuf_detach (&sb);
}

/* The .inf as UTF-8 text: UTF-16LE by BOM or by its first character's
 * high byte being zero, UTF-8 by BOM, else ANSI (NULs become spaces so
 * they cannot cut the text short). */
static char *
inf_text (const unsigned char *p, size_t len)
{
  char *s, *out;
  size_t i;

  if (len > WIN_INF_MAX_SIZE) {
    error_set ("larger than %d bytes", WIN_INF_MAX_SIZE);
    return NULL;
  }
  if (len >= 2 && p[0] == 0xff && p[1] == 0xfe)
    return charset_utf16_to_utf8 (p + 2, len - 2, CHARSET_UTF16LE);
  if (len >= 2 && p[0] != 0 && p[1] == 0)
    return charset_utf16_to_utf8 (p, len, CHARSET_UTF16LE);
  if (len >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf)
    return charset_to_utf8 ("UTF-8", p + 3, len - 3);
  /* ANSI: the code page is unknown; Latin-1 maps every byte, so names
   * with accents stay valid UTF-8 for the registry. */
  if ((s = malloc (len + 1)) == NULL) {
    error_errno ("malloc");
    return NULL;
  }
  for (i = 0; i < len; i++)
    s[i] = p[i] ? (char) p[i] : ' ';
  out = charset_to_utf8 ("ISO-8859-1", s, len);
  free (s);
  return out;
}

/* Cut a ';' comment that is not inside double quotes. */
static void
strip_comment (char *s)
{
  bool quoted = false;

  for (; *s; s++) {
    if (*s == '"')
      quoted = !quoted;
    else if (*s == ';' && !quoted) {
      *s = '\0';
      return;
    }
  }
}

static int
add_line (inf_lines *lines, const char *section, char *line)
{
  struct inf_line l = { 0 };
  char *eq = strchr (line, '=');

  if (lines->len >= WIN_INF_MAX_LINES)
    return error_set ("more than %d lines", WIN_INF_MAX_LINES);

  if (eq)
    *eq = '\0';
  l.section = xstrdup (section);
  l.key = xstrdup (str_trim (line));
  l.value = eq ? xstrdup (str_trim (eq + 1)) : NULL;
  if (!l.section || !l.key || (eq && !l.value) ||
      inf_lines_append (lines, l) == -1) {
    free (l.section);
    free (l.key);
    free (l.value);
    return -1;
  }
  return 0;
}

/* Split the text into section lines; '\' at a line's end continues it. */
static int
split_lines (char *text, inf_lines *lines)
{
  char section[256] = "";
  char *line = text, *next, *s, *e;

  for (; line; line = next) {
    next = strchr (line, '\n');
    if (next)
      *next++ = '\0';
    strip_comment (line);
    s = str_trim (line);
    while (next && *s && s[strlen (s) - 1] == '\\') {
      e = strchr (next, '\n');
      if (e)
        *e++ = '\0';
      if (strlen (s) + strlen (next) > WIN_INF_MAX_LINE)
        return error_set ("a continued line longer than %d bytes",
                          WIN_INF_MAX_LINE);
      s[strlen (s) - 1] = ' ';
      memmove (s + strlen (s), next, strlen (next) + 1);
      strip_comment (s);
      s = str_trim (s);
      next = e;
    }
    if (*s == '\0')
      continue;
    if (*s == '[') {
      e = strchr (s, ']');
      if (e == NULL || (size_t) (e - s) >= sizeof section)
        return error_set ("bad section header '%.40s'", s);
      *e = '\0';
      snprintf (section, sizeof section, "%s", str_trim (s + 1));
      continue;
    }
    if (add_line (lines, section, s) == -1)
      return -1;
  }
  return 0;
}

static void
free_lines (inf_lines *lines)
{
  size_t i;

  for (i = 0; i < lines->len; i++) {
    free (lines->ptr[i].section);
    free (lines->ptr[i].key);
    free (lines->ptr[i].value);
  }
  inf_lines_reset (lines);
}

static const char *
lookup (const inf_lines *lines, const char *section, const char *key)
{
  size_t i;

  for (i = 0; i < lines->len; i++)
    if (strcasecmp (lines->ptr[i].section, section) == 0 &&
        strcasecmp (lines->ptr[i].key, key) == 0)
      return lines->ptr[i].value;
  return NULL;
}

/* The next ',' not inside double quotes ("Red Hat, Inc."), or NULL. */
static const char *
next_comma (const char *p)
{
  bool quoted = false;

  for (; *p; p++) {
    if (*p == '"')
      quoted = !quoted;
    else if (*p == ',' && !quoted)
      return p;
  }
  return NULL;
}

/* Field `n` of a comma-separated value, trimmed and unquoted ("" if
 * absent); with `lines`, %name% is replaced from [Strings] when the whole
 * field is one (a lookup is linear: only for the few named fields, never
 * for the hardware IDs, whose number the input chooses). */
static char *
field (const inf_lines *lines, const char *value, size_t n)
{
  const char *p = value ? value : "", *end, *s;
  char buf[512], *f;
  size_t len;

  for (; n > 0 && p; n--)
    if ((p = next_comma (p)) != NULL)
      p++;
  if (p == NULL)
    return xstrdup ("");
  end = next_comma (p);
  len = end ? (size_t) (end - p) : strlen (p);
  if (len >= sizeof buf)
    len = sizeof buf - 1;
  memcpy (buf, p, len);
  buf[len] = '\0';
  f = str_trim (buf);
  len = strlen (f);
  if (len >= 2 && f[0] == '"' && f[len - 1] == '"')
    f[len - 1] = '\0', f++, len -= 2;
  if (lines && len >= 3 && f[0] == '%' && f[len - 1] == '%') {
    f[len - 1] = '\0';
    if ((s = lookup (lines, "Strings", f + 1)) != NULL)
      return field (NULL, s, 0);     /* one level: no loops */
    f[len - 1] = '%';
  }
  return xstrdup (f);
}

/* A service or file name that is one plain path component: it becomes a
 * registry key and a file name in the guest. */
static bool
safe_name (const char *s)
{
  size_t n = strlen (s);

  return n > 0 && n <= 64 && s[0] != '.' &&
    strspn (s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
            "0123456789_-.") == n;
}

/* "NTamd64.10.0...", "NTx86", "NT" or "" → arch and minimum version. */
static int
parse_decoration (const char *d, struct win_models *m)
{
  static const struct { const char *name; unsigned arch; } arches[] = {
    { "amd64", WIN_ARCH_AMD64 }, { "x86", WIN_ARCH_X86 },
    { "arm64", WIN_ARCH_ARM64 }, { "ia64", 0 }, { "arm", 0 },
  };
  size_t i, n;

  m->arch = 0;
  m->major = m->minor = 0;
  if (*d == '\0')
    return 0;
  if (strncasecmp (d, "NT", 2) != 0)
    return -1;
  d += 2;
  for (i = 0; i < sizeof arches / sizeof arches[0]; i++) {
    n = strlen (arches[i].name);
    if (strncasecmp (d, arches[i].name, n) == 0 && (d[n] == '.' || !d[n])) {
      if (arches[i].arch == 0)
        return -1;              /* a platform we never convert */
      m->arch = arches[i].arch;
      d += n;
      break;
    }
  }
  if (*d != '\0' && *d != '.')
    return -1;                  /* an architecture we do not know */
  if (*d == '.')
    sscanf (d, ".%4d.%4d", &m->major, &m->minor);
  return 0;
}

/* A hardware ID that can name a registry key: printable ASCII, at most
 * 200 bytes, no empty '\'-separated component ("*PNP0A03" has none). */
static bool
valid_hwid (const char *id)
{
  size_t n = strlen (id), i;

  if (n == 0 || n > 200 || id[0] == '\\' || id[n - 1] == '\\' ||
      strstr (id, "\\\\"))
    return false;
  for (i = 0; i < n; i++)
    if (id[i] <= 0x20 || id[i] >= 0x7f || strchr (",;\"%", id[i]))
      return false;
  return true;
}

static int
add_hwids (const inf_lines *lines, const char *section, struct win_models *m)
{
  size_t i, k;
  char *id;

  for (i = 0; i < lines->len; i++) {
    if (strcasecmp (lines->ptr[i].section, section) != 0 ||
        lines->ptr[i].value == NULL)
      continue;
    if (m->install == NULL &&
        (m->install = field (NULL, lines->ptr[i].value, 0)) == NULL)
      return -1;
    if (!safe_name (m->install))
      return error_set ("[%s]: bad install section name '%.64s'", section,
                        m->install);
    for (k = 1; ; k++) {
      if ((id = field (NULL, lines->ptr[i].value, k)) == NULL)
        return -1;
      if (*id == '\0') {
        free (id);
        break;
      }
      if (!valid_hwid (id)) {     /* not one Ferry can use: skipped */
        free (id);
        continue;
      }
      if (m->hwids.len >= WIN_INF_MAX_HWIDS) {
        free (id);
        return error_set ("[%s]: more than %d hardware IDs", section,
                          WIN_INF_MAX_HWIDS);
      }
      if (strv_vector_append (&m->hwids, id) == -1) {
        free (id);
        return -1;
      }
    }
  }
  return 0;
}

/* One models section of a [Manufacturer] line: a decoration for a
 * platform Ferry never converts (ia64, arm) is skipped. */
static int
add_models (const inf_lines *lines, const char *base, const char *dec,
            struct win_inf *inf)
{
  struct win_models m = { 0 };
  char section[600];

  if (inf->models.len >= WIN_INF_MAX_MODELS)
    return error_set ("more than %d models sections", WIN_INF_MAX_MODELS);
  if (parse_decoration (dec, &m) == -1)
    return 0;
  snprintf (section, sizeof section, "%s%s%s", base, *dec ? "." : "", dec);
  if (add_hwids (lines, section, &m) == -1 ||
      win_models_vector_append (&inf->models, m) == -1) {
    strv_vector_free (&m.hwids);
    free (m.install);
    return -1;
  }
  return 0;
}

/* One [Manufacturer] line: "%Mfg% = base, NTamd64.6.1, NTx86"; no
 * decoration means the undecorated section "base". */
static int
parse_manufacturer (const inf_lines *lines, const char *value,
                    struct win_inf *inf)
{
  char *base = field (NULL, value, 0), *dec;
  size_t k;
  int r = 0;

  if (base == NULL)
    return -1;
  for (k = 1; r == 0; k++) {
    if ((dec = field (NULL, value, k)) == NULL) {
      r = -1;
      break;
    }
    if (*dec == '\0' && k > 1) {
      free (dec);
      break;
    }
    r = add_models (lines, base, dec, inf);
    free (dec);
  }
  free (base);
  return r;
}

/* The AddService of a "*.Services" section: the one flagged
 * SPSVCINST_ASSOCSERVICE (0x2) wins; its ServiceBinary names the .sys. */
static int
find_service (const inf_lines *lines, struct win_inf *inf)
{
  const char *chosen = NULL, *bin;
  size_t i, n;
  char *flags, *sect, *slash;

  for (i = 0; i < lines->len; i++) {
    n = strlen (lines->ptr[i].section);
    if (n < 9 || strcasecmp (lines->ptr[i].section + n - 9, ".Services") ||
        strcasecmp (lines->ptr[i].key, "AddService") ||
        !lines->ptr[i].value)
      continue;
    if ((flags = field (NULL, lines->ptr[i].value, 1)) == NULL)
      return -1;
    if (chosen == NULL || (strtoul (flags, NULL, 0) & 2))
      chosen = lines->ptr[i].value;
    free (flags);
  }
  if (chosen == NULL)
    return error_set ("no AddService line");
  if ((inf->service = field (lines, chosen, 0)) == NULL ||
      (sect = field (lines, chosen, 2)) == NULL)
    return -1;
  if (!safe_name (inf->service)) {
    free (sect);
    return error_set ("bad service name '%.64s'", inf->service);
  }
  bin = lookup (lines, sect, "ServiceBinary");
  free (sect);
  if (bin && (slash = strrchr (bin, '\\')) != NULL)
    bin = slash + 1;
  inf->sys = bin && *bin ? xstrdup (bin) : xasprintf ("%s.sys", inf->service);
  if (inf->sys && !safe_name (inf->sys))
    return error_set ("bad ServiceBinary '%.64s'", inf->sys);
  return inf->sys ? 0 : -1;
}

static int
parse_lines (const inf_lines *lines, struct win_inf *inf)
{
  size_t i;

  if (!(inf->class_name = field (lines, lookup (lines, "Version", "Class"), 0))
      || !(inf->class_guid = field (lines, lookup (lines, "Version",
                                                   "ClassGuid"), 0))
      || !(inf->provider = field (lines, lookup (lines, "Version",
                                                 "Provider"), 0))
      || !(inf->catalog = field (lines, lookup (lines, "Version",
                                                "CatalogFile"), 0)))
    return -1;
  for (i = 0; i < lines->len; i++)
    if (strcasecmp (lines->ptr[i].section, "Manufacturer") == 0 &&
        lines->ptr[i].value &&
        parse_manufacturer (lines, lines->ptr[i].value, inf) == -1)
      return -1;
  if (inf->models.len == 0)
    return error_set ("no [Manufacturer] models");
  return find_service (lines, inf);
}

int
win_inf_parse (const void *data, size_t len, struct win_inf *inf)
{
  inf_lines lines = empty_vector;
  char *text = inf_text (data, len);
  int r;

  memset (inf, 0, sizeof *inf);
  if (text == NULL)
    return -1;
  r = split_lines (text, &lines);
  free (text);
  if (r == 0)
    r = parse_lines (&lines, inf);
  free_lines (&lines);
  if (r == -1)
    win_inf_free (inf);
  return r;
}

void
win_inf_free (struct win_inf *inf)
{
  size_t i;

  if (inf == NULL)
    return;
  free (inf->class_name);
  free (inf->class_guid);
  free (inf->provider);
  free (inf->catalog);
  free (inf->service);
  free (inf->sys);
  for (i = 0; i < inf->models.len; i++) {
    free (inf->models.ptr[i].install);
    strv_vector_free (&inf->models.ptr[i].hwids);
  }
  win_models_vector_reset (&inf->models);
  memset (inf, 0, sizeof *inf);
}

bool
win_inf_is_storage (const struct win_inf *inf)
{
  return strcasecmp (inf->class_name, "SCSIAdapter") == 0 ||
    strcasecmp (inf->class_name, "hdc") == 0 ||
    strcasecmp (inf->class_guid,
                "{4D36E97B-E325-11CE-BFC1-08002BE10318}") == 0 ||
    strcasecmp (inf->class_guid,
                "{4D36E96A-E325-11CE-BFC1-08002BE10318}") == 0;
}

static bool
version_le (int amaj, int amin, int bmaj, int bmin)
{
  return amaj < bmaj || (amaj == bmaj && amin <= bmin);
}

const struct win_models *
win_inf_models_for (const struct win_inf *inf, unsigned arch, int major,
                    int minor)
{
  const struct win_models *best = NULL, *m;
  size_t i;

  for (i = 0; i < inf->models.len; i++) {
    m = &inf->models.ptr[i];
    if ((m->arch != 0 && m->arch != arch) ||
        !version_le (m->major, m->minor, major, minor))
      continue;
    if (best == NULL || version_le (best->major, best->minor, m->major,
                                    m->minor))
      best = m;
  }
  return best;
}

bool
win_hwid_for_target (const char *hwid, const char *target)
{
  if (strcmp (target, "kvm") == 0)
    return strncasecmp (hwid, "PCI\\VEN_1AF4&", 13) == 0;
  if (strcmp (target, "xen") == 0)
    return strncasecmp (hwid, "PCI\\VEN_5853&", 13) == 0 ||
      strncasecmp (hwid, "XENBUS\\", 7) == 0 ||
      strncasecmp (hwid, "XENVBD\\", 7) == 0;
  return false;
}

bool
win_inf_serves (const struct win_inf *inf, const char *target)
{
  size_t i, j;

  for (i = 0; i < inf->models.len; i++)
    for (j = 0; j < inf->models.ptr[i].hwids.len; j++)
      if (win_hwid_for_target (inf->models.ptr[i].hwids.ptr[j], target))
        return true;
  return false;
}

unsigned
win_arch_from_guest (const char *arch)
{
  if (arch == NULL)
    return 0;
  if (strcmp (arch, "x86_64") == 0)
    return WIN_ARCH_AMD64;
  if (strcmp (arch, "i386") == 0 || strcmp (arch, "i686") == 0)
    return WIN_ARCH_X86;
  if (strcmp (arch, "aarch64") == 0)
    return WIN_ARCH_ARM64;
  return 0;
}

const char *
win_arch_name (unsigned arch)
{
  return arch == WIN_ARCH_AMD64 ? "amd64" : arch == WIN_ARCH_X86 ? "x86"
    : arch == WIN_ARCH_ARM64 ? "arm64" : "any";
}

bool
win_needs_cddb (int major, int minor)
{
  return !version_le (6, 2, major, minor);
}

static int
add_unique (strv_vector *out, char *s)
{
  size_t i;

  if (s == NULL)
    return -1;
  for (i = 0; i < out->len; i++)
    if (strcmp (out->ptr[i], s) == 0) {
      free (s);
      return 0;
    }
  if (strv_vector_append (out, s) == -1) {
    free (s);
    return -1;
  }
  return 0;
}

int
win_cddb_keys (const char *hwid, strv_vector *out)
{
  char key[256], *p, *amp;
  size_t i, n = strlen (hwid);

  if (n == 0 || n >= sizeof key || strchr (hwid, '\\') == NULL)
    return error_set ("bad hardware ID '%.80s'", hwid);
  for (i = 0; i <= n; i++)
    key[i] = hwid[i] == '\\' ? '#' : (char) tolower ((unsigned char) hwid[i]);
  if (add_unique (out, xstrdup (key)) == -1)
    return -1;
  if (strncmp (key, "pci#", 4) != 0)
    return 0;
  if ((p = strstr (key, "&rev_")) != NULL) {
    *p = '\0';
    if (add_unique (out, xstrdup (key)) == -1)
      return -1;
  }
  /* vendor and device: "pci#ven_1af4&dev_1001" */
  if ((amp = strchr (key, '&')) != NULL &&
      (amp = strchr (amp + 1, '&')) != NULL) {
    *amp = '\0';
    if (add_unique (out, xstrdup (key)) == -1)
      return -1;
  }
  return 0;
}

char *
win_ddb_id (const char *hwid)
{
  char *s = xstrdup (hwid), *p;

  for (p = s; p && *p; p++)
    *p = (char) toupper ((unsigned char) *p);
  return s;
}

char *
win_devicepath_add (const char *old, const char *dir, bool *present)
{
  const char *p = old ? old : "", *end;
  size_t n = strlen (dir);

  *present = false;
  while (*p) {
    end = strchr (p, ';');
    if ((end ? (size_t) (end - p) : strlen (p)) == n &&
        strncasecmp (p, dir, n) == 0) {
      *present = true;
      return NULL;
    }
    if (end == NULL)
      break;
    p = end + 1;
  }
  if (old == NULL || *old == '\0')
    return xasprintf ("%%SystemRoot%%\\inf;%s", dir);
  return xasprintf ("%s%s%s", old, old[strlen (old) - 1] == ';' ? "" : ";",
                    dir);
}

uint32_t
win_next_tag (const void *list, size_t len)
{
  const unsigned char *p = list;
  uint32_t count, max = 0, t;
  size_t i;

  if (len < 4)
    return 1;
  count = (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 |
    (uint32_t) p[3] << 24;
  for (i = 0; i < count && 4 + 4 * i + 4 <= len; i++) {
    const unsigned char *q = p + 4 + 4 * i;
    t = (uint32_t) q[0] | (uint32_t) q[1] << 8 | (uint32_t) q[2] << 16 |
      (uint32_t) q[3] << 24;
    if (t > max)
      max = t;
  }
  return max >= 0xfffffffe ? 1 : max + 1;
}

int
win_guid_bytes (const char *guid, unsigned char out[16])
{
  unsigned a, b, c, d[8];
  int n = -1, i;

  if (strlen (guid) != 38 ||
      sscanf (guid, "{%8x-%4x-%4x-%2x%2x-%2x%2x%2x%2x%2x%2x}%n", &a, &b, &c,
              &d[0], &d[1], &d[2], &d[3], &d[4], &d[5], &d[6], &d[7],
              &n) != 11 || n != 38)
    return error_set ("bad GUID '%.40s'", guid);
  for (i = 0; i < 4; i++)
    out[i] = (unsigned char) (a >> (8 * i));
  out[4] = (unsigned char) b;
  out[5] = (unsigned char) (b >> 8);
  out[6] = (unsigned char) c;
  out[7] = (unsigned char) (c >> 8);
  for (i = 0; i < 8; i++)
    out[8 + i] = (unsigned char) d[i];
  return 0;
}
