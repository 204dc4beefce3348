/* linux-text.c: pure string transforms for Linux guest conversion
 * (device names to UUIDs, kernel command lines, MAC pins, module lists). */
#include "lib/common/compat.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/common/error.h"
#include "lib/common/strbuf.h"
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
devname_parse (const char *name, unsigned *disk, unsigned *part)
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

  if (devname_parse (name, &disk, &part) == -1)
    return NULL;
  for (i = 0; i < m->len; i++)
    if (m->ptr[i].disk == disk && m->ptr[i].part == part)
      return m->ptr[i].uuid;
  return NULL;
}

/* Call fn on each line (without its '\n'); fn appends the new line. */
typedef int (*line_fn) (const char *line, size_t len, void *ctx,
                        struct strbuf *out);

static char *
each_line (const char *text, line_fn fn, void *ctx)
{
  struct strbuf out = STRBUF_INIT;
  const char *p = text, *nl;

  if (strbuf_add (&out, "", 0) == -1)
    return NULL;
  while (*p) {
    size_t len;
    nl = strchr (p, '\n');
    len = nl ? (size_t) (nl - p) : strlen (p);
    if (fn (p, len, ctx, &out) == -1 ||
        (nl && strbuf_add (&out, "\n", 1) == -1)) {
      strbuf_release (&out);
      return NULL;
    }
    p += len + (nl != NULL);
  }
  return strbuf_detach (&out);
}

static bool
is_blank_or_comment (const char *line, size_t len)
{
  size_t i = 0;

  while (i < len && isspace ((unsigned char) line[i]))
    i++;
  return i == len || line[i] == '#';
}

/* Find whitespace-separated field k: [*start, *end). */
static bool
find_field (const char *line, size_t len, int k, size_t *start, size_t *end)
{
  size_t i = 0;
  int f;

  for (f = 0; f <= k; f++) {
    while (i < len && isspace ((unsigned char) line[i]))
      i++;
    if (i == len)
      return false;
    *start = i;
    while (i < len && !isspace ((unsigned char) line[i]))
      i++;
    *end = i;
  }
  return true;
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

  if (!is_blank_or_comment (line, len) &&
      find_field (line, len, c->field, &s, &e)) {
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
table_rewrite_devices (const char *text, int field, const devmap *m,
                       int *changed)
{
  struct table_ctx c = { field, m, changed };

  return each_line (text, table_line, &c);
}

/* Kernel command lines as word vectors. */
DEFINE_VECTOR_TYPE (word_vector, char *);

static void
words_free (word_vector *w)
{
  size_t i;

  for (i = 0; i < w->len; i++)
    free (w->ptr[i]);
  word_vector_reset (w);
}

static int
words_split (const char *s, word_vector *w)
{
  while (*s) {
    size_t n;
    char *word;
    while (isspace ((unsigned char) *s))
      s++;
    if (*s == '\0')
      break;
    for (n = 0; s[n] && !isspace ((unsigned char) s[n]); n++)
      ;
    if ((word = strndup (s, n)) == NULL || word_vector_append (w, word) == -1) {
      free (word);
      return error_errno ("cmdline");
    }
    s += n;
  }
  return 0;
}

static char *
words_join (const word_vector *w)
{
  struct strbuf sb = STRBUF_INIT;
  size_t i;

  if (strbuf_add (&sb, "", 0) == -1)
    return NULL;
  for (i = 0; i < w->len; i++)
    if (w->ptr[i] && strbuf_addf (&sb, "%s%s", sb.len ? " " : "",
                                  w->ptr[i]) == -1) {
      strbuf_release (&sb);
      return NULL;
    }
  return strbuf_detach (&sb);
}

static int
rewrite_word (char **word, const devmap *m, int *changed)
{
  static const char *const keys[] = { "root=", "resume=" };
  const char *uuid;
  char *n;
  size_t i;

  for (i = 0; i < 2; i++) {
    if (!str_has_prefix (*word, keys[i]))
      continue;
    uuid = devmap_lookup (m, *word + strlen (keys[i]));
    if (uuid == NULL)
      return 0;
    if ((n = xasprintf ("%sUUID=%s", keys[i], uuid)) == NULL)
      return -1;
    free (*word);
    *word = n;
    (*changed)++;
  }
  return 0;
}

char *
cmdline_rewrite_devices (const char *cmdline, const devmap *m, int *changed)
{
  word_vector w = empty_vector;
  char *r = NULL;
  size_t i;

  if (words_split (cmdline, &w) == -1)
    goto out;
  for (i = 0; i < w.len; i++)
    if (rewrite_word (&w.ptr[i], m, changed) == -1)
      goto out;
  r = words_join (&w);
out:
  words_free (&w);
  return r;
}

static bool
is_pv_console (const char *w)
{
  return str_has_prefix (w, "console=hvc") || str_has_prefix (w, "console=xvc");
}

/* Remove words matching pred; returns how many were removed. */
static int
words_drop (word_vector *w, bool (*pred) (const char *))
{
  size_t i;
  int n = 0;

  for (i = 0; i < w->len; i++)
    if (w->ptr[i] && pred (w->ptr[i])) {
      free (w->ptr[i]);
      w->ptr[i] = NULL;
      n++;
    }
  return n;
}

static bool
is_serial_console (const char *w)
{
  return str_has_prefix (w, "console=ttyS");
}

static int
words_add (word_vector *w, const char *s)
{
  char *d = xstrdup (s);

  if (d == NULL || word_vector_append (w, d) == -1) {
    free (d);
    return -1;
  }
  return 0;
}

static int
set_console_words (word_vector *w, const char *target, int *changed)
{
  size_t i;
  bool has_serial = false, last_is_hvc0;
  int dropped;

  for (i = 0; i < w->len; i++)
    has_serial |= is_serial_console (w->ptr[i]);
  if (strcmp (target, "xen") == 0) {
    last_is_hvc0 = w->len > 0 &&
      strcmp (w->ptr[w->len - 1], "console=hvc0") == 0;
    if (last_is_hvc0)
      return 0;
    words_drop (w, is_pv_console);
    (*changed)++;
    return words_add (w, "console=hvc0");
  }
  dropped = words_drop (w, is_pv_console);
  *changed += dropped;
  if (has_serial)
    return 0;
  (*changed)++;
  return words_add (w, "console=ttyS0,115200n8");
}

char *
cmdline_set_console (const char *cmdline, const char *target, int *changed)
{
  word_vector w = empty_vector;
  char *r = NULL;

  if (words_split (cmdline, &w) == 0 &&
      set_console_words (&w, target, changed) == 0)
    r = words_join (&w);
  words_free (&w);
  return r;
}

/* Only drop foreign PV consoles (for GRUB_CMDLINE_LINUX_DEFAULT). */
static char *
cmdline_drop_pv_console (const char *cmdline, int *changed)
{
  word_vector w = empty_vector;
  char *r = NULL;

  if (words_split (cmdline, &w) == 0) {
    *changed += words_drop (&w, is_pv_console);
    r = words_join (&w);
  }
  words_free (&w);
  return r;
}

/* Split `KEY=value` (value optionally quoted) of a shell assignment. */
static bool
split_assignment (const char *line, size_t len, const char *key,
                  size_t *vstart, size_t *vend, char *quote)
{
  size_t k = strlen (key);

  if (len <= k || strncmp (line, key, k) != 0 || line[k] != '=')
    return false;
  *vstart = k + 1;
  *vend = len;
  *quote = '\0';
  if (*vstart < len && (line[*vstart] == '"' || line[*vstart] == '\'')) {
    *quote = line[*vstart];
    (*vstart)++;
    while (*vend > *vstart && line[*vend - 1] != *quote)
      (*vend)--;
    if (*vend > *vstart)
      (*vend)--;
  }
  return true;
}

struct grub_ctx {
  const char *target;
  const devmap *m;
  int *changed;
  bool seen_linux;
};

static int
grub_cmdline_line (const char *line, size_t len, struct grub_ctx *c,
                   const char *key, struct strbuf *out)
{
  size_t vs, ve;
  char q, *val, *a = NULL, *b = NULL;
  bool is_linux = strcmp (key, "GRUB_CMDLINE_LINUX") == 0;
  int r = -1;

  split_assignment (line, len, key, &vs, &ve, &q);
  if ((val = strndup (line + vs, ve - vs)) == NULL)
    return error_errno ("grub");
  if ((a = cmdline_rewrite_devices (val, c->m, c->changed)) == NULL)
    goto out;
  b = is_linux ? cmdline_set_console (a, c->target, c->changed)
    : strcmp (c->target, "xen") ? cmdline_drop_pv_console (a, c->changed)
    : xstrdup (a);
  if (b == NULL)
    goto out;
  r = strbuf_addf (out, "%s=\"%s\"", key, b);
out:
  free (val);
  free (a);
  free (b);
  return r;
}

static int
grub_line (const char *line, size_t len, void *opaque, struct strbuf *out)
{
  struct grub_ctx *c = opaque;
  size_t vs, ve;
  char q;

  if (split_assignment (line, len, "GRUB_CMDLINE_LINUX", &vs, &ve, &q)) {
    c->seen_linux = true;
    return grub_cmdline_line (line, len, c, "GRUB_CMDLINE_LINUX", out);
  }
  if (split_assignment (line, len, "GRUB_CMDLINE_LINUX_DEFAULT", &vs, &ve, &q))
    return grub_cmdline_line (line, len, c, "GRUB_CMDLINE_LINUX_DEFAULT", out);
  if (split_assignment (line, len, "GRUB_DISABLE_LINUX_UUID", &vs, &ve, &q) &&
      strncmp (line + vs, "true", 4) == 0) {
    (*c->changed)++;
    return strbuf_addf (out, "#%.*s  # disabled by ferry convert",
                        (int) len, line);
  }
  return strbuf_add (out, line, len);
}

char *
grub_default_edit (const char *text, const char *target, const devmap *m,
                   int *changed)
{
  struct grub_ctx c = { target, m, changed, false };
  char *r = each_line (text, grub_line, &c), *line, *n;
  size_t len;

  if (r == NULL || c.seen_linux)
    return r;
  if ((line = cmdline_set_console ("", target, changed)) == NULL) {
    free (r);
    return NULL;
  }
  len = strlen (r);
  n = xasprintf ("%s%sGRUB_CMDLINE_LINUX=\"%s\"\n", r,
                 len && r[len - 1] != '\n' ? "\n" : "", line);
  free (r);
  free (line);
  return n;
}

struct kv_ctx {
  const char *key, *value;
  const devmap *m;
  int *changed;
  bool done;
};

static int
kv_device_line (const char *line, size_t len, void *opaque, struct strbuf *out)
{
  struct kv_ctx *c = opaque;
  size_t vs, ve;
  char q, *val;
  const char *uuid = NULL;

  if (split_assignment (line, len, c->key, &vs, &ve, &q)) {
    if ((val = strndup (line + vs, ve - vs)) == NULL)
      return error_errno ("rewrite");
    uuid = devmap_lookup (c->m, val);
    free (val);
  }
  if (uuid == NULL)
    return strbuf_add (out, line, len);
  (*c->changed)++;
  return strbuf_addf (out, "%s=UUID=%s", c->key, uuid);
}

char *
kv_rewrite_device (const char *text, const char *key, const devmap *m,
                   int *changed)
{
  struct kv_ctx c = { .key = key, .m = m, .changed = changed };

  return each_line (text, kv_device_line, &c);
}

static int
kv_set_line (const char *line, size_t len, void *opaque, struct strbuf *out)
{
  struct kv_ctx *c = opaque;
  size_t vs, ve;
  char q;

  if (c->done || !split_assignment (line, len, c->key, &vs, &ve, &q))
    return strbuf_add (out, line, len);
  c->done = true;
  if (ve - vs == strlen (c->value) && !strncmp (line + vs, c->value, ve - vs))
    return strbuf_add (out, line, len);
  (*c->changed)++;
  return strbuf_addf (out, "%s=%s", c->key, c->value);
}

char *
kv_set (const char *text, const char *key, const char *value, int *changed)
{
  struct kv_ctx c = { .key = key, .value = value, .changed = changed };
  char *r = each_line (text, kv_set_line, &c), *n;
  size_t len;

  if (r == NULL || c.done)
    return r;
  (*changed)++;
  len = strlen (r);
  n = xasprintf ("%s%s%s=%s\n", r, len && r[len - 1] != '\n' ? "\n" : "",
                 key, value);
  free (r);
  return n;
}

/* Module names compare with '-' and '_' equal. */
static bool
modname_eq (const char *a, size_t alen, const char *b, size_t blen)
{
  size_t i;

  if (alen != blen)
    return false;
  for (i = 0; i < alen; i++) {
    char x = a[i] == '-' ? '_' : a[i], y = b[i] == '-' ? '_' : b[i];
    if (x != y)
      return false;
  }
  return true;
}

static bool
modules_file_has (const char *text, const char *mod)
{
  const char *p = text;

  while (*p) {
    size_t len = strcspn (p, "\n"), s, e;
    if (!is_blank_or_comment (p, len) && find_field (p, len, 0, &s, &e) &&
        modname_eq (p + s, e - s, mod, strlen (mod)))
      return true;
    p += len + (p[len] == '\n');
  }
  return false;
}

char *
modules_file_add (const char *text, const char *const *mods,
                  const char *comment, int *changed)
{
  struct strbuf sb = STRBUF_INIT;
  size_t i, len = strlen (text);
  bool first = true;

  if (strbuf_add (&sb, text, len) == -1)
    return NULL;
  if (len && text[len - 1] != '\n' && strbuf_add (&sb, "\n", 1) == -1)
    goto fail;
  for (i = 0; mods[i]; i++) {
    if (modules_file_has (text, mods[i]))
      continue;
    if (first && comment && strbuf_addf (&sb, "# %s\n", comment) == -1)
      goto fail;
    first = false;
    (*changed)++;
    if (strbuf_addf (&sb, "%s\n", mods[i]) == -1)
      goto fail;
  }
  return strbuf_detach (&sb);
fail:
  strbuf_release (&sb);
  return NULL;
}

/* Leading whitespace skipped; "key=" / "key:" prefix test. */
static bool
line_key_is (const char *line, size_t len, const char *key)
{
  size_t i = 0, k = strlen (key);

  while (i < len && isspace ((unsigned char) line[i]))
    i++;
  return len - i >= k && strncmp (line + i, key, k) == 0;
}

static bool
is_section (const char *line, size_t len)
{
  return len > 1 && line[0] == '[';
}

/* Sectioned INI files (networkd, NM keyfiles): drop keys in sections. */
struct ini_ctx {
  const char *const *sections;      /* NULL-terminated: where to drop */
  const char *const *keys;          /* "MACAddress=" ... */
  int *changed;
  bool in;                          /* inside a listed section */
  /* networkd only: restore a condition in an emptied [Match]. */
  const char *fill;
  size_t fill_at;                   /* where the section body starts */
  bool kept, dropped;
};

static void
ini_end_section (struct ini_ctx *c, struct strbuf *out)
{
  struct strbuf sb = STRBUF_INIT;

  if (c->in && c->fill && c->dropped && !c->kept &&
      strbuf_add (&sb, out->buf, c->fill_at) == 0 &&
      strbuf_addf (&sb, "%s\n", c->fill) == 0 &&
      strbuf_add (&sb, out->buf + c->fill_at, out->len - c->fill_at) == 0) {
    strbuf_release (out);
    *out = sb;
    (*c->changed)++;
    return;
  }
  strbuf_release (&sb);
}

static bool
ini_listed (const char *const *names, const char *line, size_t len)
{
  size_t i;

  for (i = 0; names[i]; i++)
    if (line_key_is (line, len, names[i]))
      return true;
  return false;
}

static int
ini_line (const char *line, size_t len, void *opaque, struct strbuf *out)
{
  struct ini_ctx *c = opaque;

  if (is_section (line, len)) {
    ini_end_section (c, out);
    c->in = ini_listed (c->sections, line, len);
    c->kept = c->dropped = false;
    c->fill_at = out->len + len + 1;
    return strbuf_add (out, line, len);
  }
  if (c->in && ini_listed (c->keys, line, len)) {
    (*c->changed)++;
    c->dropped = true;
    /* each_line appends the '\n': take back the one before us instead. */
    if (out->len && out->buf[out->len - 1] == '\n')
      out->buf[--out->len] = '\0';
    return 0;
  }
  if (c->in && !is_blank_or_comment (line, len))
    c->kept = true;
  return strbuf_add (out, line, len);
}

static char *
ini_drop (const char *text, struct ini_ctx *c)
{
  struct strbuf out = STRBUF_INIT;
  char *r = each_line (text, ini_line, c);

  if (r == NULL || !c->in)
    return r;
  out.buf = r;
  out.len = strlen (r);
  out.cap = out.len + 1;
  if (c->fill_at > out.len) {   /* header was the last line, no '\n' */
    if (strbuf_add (&out, "\n", 1) == -1) {
      strbuf_release (&out);
      return NULL;
    }
    c->fill_at = out.len;
  }
  ini_end_section (c, &out);
  return out.buf;
}

char *
networkd_drop_mac (const char *text, int *changed)
{
  static const char *const sections[] = { "[Match]", NULL };
  static const char *const keys[] = { "MACAddress=", "PermanentMACAddress=",
                                      NULL };
  struct ini_ctx c = { .sections = sections, .keys = keys,
                       .changed = changed, .fill = "Name=en* eth*" };

  return ini_drop (text, &c);
}

char *
nmkeyfile_drop_mac (const char *text, int *changed)
{
  static const char *const sections[] = { "[ethernet]", "[802-3-ethernet]",
                                          "[connection]", NULL };
  static const char *const keys[] = { "mac-address=", "interface-name=",
                                      NULL };
  struct ini_ctx c = { .sections = sections, .keys = keys,
                       .changed = changed };

  return ini_drop (text, &c);
}

char *
ifcfg_drop_mac (const char *text, int *changed)
{
  static const char *const sections[] = { "", NULL };
  static const char *const keys[] = { "HWADDR=", NULL };
  struct ini_ctx c = { .sections = sections, .keys = keys,
                       .changed = changed, .in = true };

  return ini_drop (text, &c);
}

/* netplan: YAML by indentation, without a YAML parser. */
struct netplan_ctx {
  int *changed;
  bool in_match;
  size_t match_indent, child_indent, fill_at;
  bool kept, dropped;
};

static size_t
indent_of (const char *line, size_t len)
{
  size_t i = 0;

  while (i < len && line[i] == ' ')
    i++;
  return i;
}

static int
netplan_end_match (struct netplan_ctx *c, struct strbuf *out)
{
  struct strbuf sb = STRBUF_INIT;
  int r = 0;

  if (c->in_match && c->dropped && !c->kept) {
    r = strbuf_add (&sb, out->buf, c->fill_at);
    if (r == 0)
      r = strbuf_addf (&sb, "%*sname: \"e*\"\n", (int) c->child_indent, "");
    if (r == 0)
      r = strbuf_add (&sb, out->buf + c->fill_at, out->len - c->fill_at);
    if (r == 0) {
      strbuf_release (out);
      *out = sb;
      (*c->changed)++;
    }
  }
  c->in_match = false;
  return r;
}

static int
netplan_line (const char *line, size_t len, void *opaque, struct strbuf *out)
{
  struct netplan_ctx *c = opaque;
  size_t ind = indent_of (line, len);
  bool blank = is_blank_or_comment (line, len);

  if (c->in_match && !blank && ind <= c->match_indent &&
      netplan_end_match (c, out) == -1)
    return -1;
  if (line_key_is (line, len, "macaddress:") ||
      line_key_is (line, len, "set-name:")) {
    (*c->changed)++;
    c->dropped |= c->in_match;
    if (c->in_match)
      c->child_indent = ind;
    if (out->len && out->buf[out->len - 1] == '\n')
      out->buf[--out->len] = '\0';
    return 0;
  }
  if (c->in_match && !blank)
    c->kept = true;
  if (line_key_is (line, len, "match:") && ind + 6 == len) {
    c->in_match = true;
    c->match_indent = ind;
    c->child_indent = ind + 2;
    c->kept = c->dropped = false;
    c->fill_at = out->len + len + 1;
  }
  return strbuf_add (out, line, len);
}

char *
netplan_drop_mac (const char *text, int *changed)
{
  struct netplan_ctx c = { .changed = changed };
  struct strbuf out = STRBUF_INIT;
  char *r = each_line (text, netplan_line, &c);

  if (r == NULL || !c.in_match)
    return r;
  out.buf = r;
  out.len = strlen (r);
  out.cap = out.len + 1;
  if (c.fill_at > out.len) {
    if (strbuf_add (&out, "\n", 1) == -1) {
      strbuf_release (&out);
      return NULL;
    }
    c.fill_at = out.len;
  }
  if (netplan_end_match (&c, &out) == -1) {
    strbuf_release (&out);
    return NULL;
  }
  return out.buf;
}

int
kernel_version_cmp (const char *a, const char *b)
{
  while (*a && *b) {
    if (isdigit ((unsigned char) *a) && isdigit ((unsigned char) *b)) {
      char *ea, *eb;
      unsigned long long x = strtoull (a, &ea, 10), y = strtoull (b, &eb, 10);
      if (x != y)
        return x < y ? -1 : 1;
      a = ea;
      b = eb;
      continue;
    }
    if (*a != *b)
      return (unsigned char) *a < (unsigned char) *b ? -1 : 1;
    a++;
    b++;
  }
  return *a ? 1 : *b ? -1 : 0;
}

/* The module name of a path: basename without .ko[.xz|.zst|.gz]. */
static bool
module_name_of (const char *path, size_t len, const char **name, size_t *n)
{
  static const char *const exts[] = { ".ko", ".ko.xz", ".ko.zst", ".ko.gz" };
  const char *base = path + len;
  size_t i, e;

  while (base > path && base[-1] != '/')
    base--;
  for (i = 0; i < 4; i++) {
    e = strlen (exts[i]);
    if ((size_t) (path + len - base) > e &&
        strncmp (path + len - e, exts[i], e) == 0) {
      *name = base;
      *n = (size_t) (path + len - base) - e;
      return true;
    }
  }
  return false;
}

static bool
driver_in_lines (const char *text, const char *drv)
{
  const char *p = text, *name;
  size_t n;

  while (p && *p) {
    size_t len = strcspn (p, "\n");
    if (module_name_of (p, len, &name, &n) &&
        modname_eq (name, n, drv, strlen (drv)))
      return true;
    p += len + (p[len] == '\n');
  }
  return false;
}

static bool
driver_in_paths (const char *const *paths, size_t np, const char *drv)
{
  const char *name;
  size_t i, n;

  for (i = 0; i < np; i++)
    if (module_name_of (paths[i], strlen (paths[i]), &name, &n) &&
        modname_eq (name, n, drv, strlen (drv)))
      return true;
  return false;
}

int
kernel_missing_drivers (const char *const *module_paths, size_t n,
                        const char *builtin, const char *const *drivers,
                        struct strbuf *missing)
{
  size_t i;
  int count = 0;

  for (i = 0; drivers[i]; i++) {
    if (driver_in_paths (module_paths, n, drivers[i]) ||
        (builtin && driver_in_lines (builtin, drivers[i])))
      continue;
    strbuf_addf (missing, "%s%s", count ? ", " : "", drivers[i]);
    count++;
  }
  return count;
}

static bool
word_in (const char *list, const char *w, size_t n)
{
  const char *p = list;

  while (p && *p) {
    size_t len = strcspn (p, " ");
    if (len == n && strncmp (p, w, n) == 0)
      return true;
    p += len + (p[len] == ' ');
  }
  return false;
}

int
ifupdown_static_ifaces (const char *text, struct strbuf *names)
{
  const char *p = text;
  int count = 0;

  while (*p) {
    size_t len = strcspn (p, "\n"), s1, e1, s2, e2, s3, e3, n;
    if (!is_blank_or_comment (p, len) && find_field (p, len, 0, &s1, &e1) &&
        e1 - s1 == 5 && strncmp (p + s1, "iface", 5) == 0 &&
        find_field (p, len, 1, &s2, &e2) &&
        find_field (p, len, 3, &s3, &e3) &&
        e3 - s3 == 6 && strncmp (p + s3, "static", 6) == 0) {
      n = strcspn (p + s2, ":.") < e2 - s2 ? strcspn (p + s2, ":.") : e2 - s2;
      if (!(n == 2 && strncmp (p + s2, "lo", 2) == 0) &&
          !word_in (names->buf, p + s2, n)) {
        strbuf_addf (names, "%s%.*s", count ? " " : "", (int) n, p + s2);
        count++;
      }
    }
    p += len + (p[len] == '\n');
  }
  return count;
}

void
path_vector_free (path_vector *v)
{
  size_t i;

  for (i = 0; i < v->len; i++)
    free (v->ptr[i]);
  path_vector_reset (v);
}

bool
path_vector_has (const path_vector *v, const char *s)
{
  size_t i;

  for (i = 0; i < v->len; i++)
    if (strcmp (v->ptr[i], s) == 0)
      return true;
  return false;
}

/* Module paths come from the guest and become file names on the host and
 * in the appliance: relative, no "..", a small character set. */
static bool
module_path_ok (const char *p, size_t n)
{
  size_t i;

  if (n == 0 || n > 512 || p[0] == '/')
    return false;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char) p[i];
    if (!isalnum (c) && !strchr ("_-+./", c))
      return false;
    if (c == '.' && i + 1 < n && p[i + 1] == '.')
      return false;
  }
  return true;
}

static int
add_path (path_vector *out, const char *p, size_t n)
{
  char *s;

  if (!module_path_ok (p, n))
    return error_set ("modules.dep: bad module path '%.*s'",
                      (int) (n > 80 ? 80 : n), p);
  if ((s = strndup (p, n)) == NULL)
    return error_errno ("modules.dep");
  if (path_vector_has (out, s)) {
    free (s);
    return 0;
  }
  if (path_vector_append (out, s) == -1) {
    free (s);
    return error_errno ("modules.dep");
  }
  return 0;
}

/* The modules.dep line of module `name`, or NULL; *len is its length. */
static const char *
moddep_line (const char *dep, const char *name, size_t *len)
{
  const char *p = dep, *mn;
  size_t n;

  while (*p) {
    size_t l = strcspn (p, "\n"), k = strcspn (p, ":\n");
    if (k < l && module_name_of (p, k, &mn, &n) &&
        modname_eq (mn, n, name, strlen (name))) {
      *len = l;
      return p;
    }
    p += l + (p[l] == '\n');
  }
  return NULL;
}

/* The words of one line after its ':' (depmod lists every dependency,
 * transitively, so one line is the whole closure of its module). */
static int
add_line (path_vector *out, const char *line, size_t len)
{
  size_t k = strcspn (line, ":"), s, e;

  if (add_path (out, line, k) == -1)
    return -1;
  for (s = k + 1; s < len; s = e) {
    while (s < len && (line[s] == ' ' || line[s] == '\t'))
      s++;
    for (e = s; e < len && line[e] != ' ' && line[e] != '\t'; e++)
      ;
    if (e > s && add_path (out, line + s, e - s) == -1)
      return -1;
  }
  return 0;
}

int
moddep_closure (const char *moddep, const char *const *names,
                path_vector *out)
{
  size_t i, len;

  for (i = 0; names[i]; i++) {
    const char *line = moddep_line (moddep, names[i], &len);
    if (line == NULL)
      return error_set ("module '%s' is not in modules.dep", names[i]);
    if (add_line (out, line, len) == -1)
      return -1;
  }
  return 0;
}

/* One kernel line of grub.cfg ("linux /vmlinuz-x root=... ro"): its
 * arguments after the kernel path, or NULL for other lines. */
static const char *
grub_kernel_args (const char *line, size_t len, size_t *alen)
{
  const char *p = line, *end = line + len;

  while (p < end && (*p == ' ' || *p == '\t'))
    p++;
  if (end - p < 6 || strncmp (p, "linux", 5) != 0)
    return NULL;
  while (p < end && *p != ' ' && *p != '\t')
    p++;                        /* linux, linux16, linuxefi */
  while (p < end && (*p == ' ' || *p == '\t'))
    p++;
  while (p < end && *p != ' ' && *p != '\t')
    p++;                        /* the kernel */
  *alen = (size_t) (end - p);
  return p;
}

static bool
args_ready (const char *args, size_t len, const char *target)
{
  word_vector w = empty_vector;
  char *s = strndup (args, len), *out = NULL;
  unsigned disk, part;
  int changed = 0;
  bool ok = s && words_split (s, &w) == 0;
  size_t i;

  for (i = 0; ok && i < w.len; i++) {
    const char *v = str_has_prefix (w.ptr[i], "root=") ? w.ptr[i] + 5
      : str_has_prefix (w.ptr[i], "resume=") ? w.ptr[i] + 7 : NULL;
    if (v && devname_parse (v, &disk, &part) == 0)
      ok = false;
  }
  if (ok)
    ok = (out = cmdline_set_console (s, target, &changed)) != NULL &&
      changed == 0;
  words_free (&w);
  free (out);
  free (s);
  return ok;
}

bool
grub_cfg_ready (const char *text, const char *target)
{
  const char *p = text, *args;
  size_t len, alen;
  int kernels = 0;

  while (*p) {
    len = strcspn (p, "\n");
    if ((args = grub_kernel_args (p, len, &alen)) != NULL) {
      if (!args_ready (args, alen, target))
        return false;
      kernels++;
    }
    p += len + (p[len] == '\n');
  }
  return kernels > 0;
}
