/* linux-net.c: network configuration of a Linux guest — MAC pins removed
 * from networkd, ifcfg, NetworkManager and netplan files, ifupdown's
 * static interfaces (see linux-net.h). */
#include "lib/common/compat.h"

#include <ctype.h>
#include <string.h>

#include "lib/common/strbuf.h"
#include "lib/guest/linux-net.h"
#include "lib/guest/linux-text.h"

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
    /* ltext_each_line appends the '\n': take back the one before us
     * instead. */
    if (out->len && out->buf[out->len - 1] == '\n')
      out->buf[--out->len] = '\0';
    return 0;
  }
  if (c->in && !ltext_blank_or_comment (line, len))
    c->kept = true;
  return strbuf_add (out, line, len);
}

static char *
ini_drop (const char *text, struct ini_ctx *c)
{
  struct strbuf out = STRBUF_INIT;
  char *r = ltext_each_line (text, ini_line, c);

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
lnet_networkd_drop_mac (const char *text, int *changed)
{
  static const char *const sections[] = { "[Match]", NULL };
  static const char *const keys[] = { "MACAddress=", "PermanentMACAddress=",
                                      NULL };
  struct ini_ctx c = { .sections = sections, .keys = keys,
                       .changed = changed, .fill = "Name=en* eth*" };

  return ini_drop (text, &c);
}

char *
lnet_nmkeyfile_drop_mac (const char *text, int *changed)
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
lnet_ifcfg_drop_mac (const char *text, int *changed)
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
  bool blank = ltext_blank_or_comment (line, len);

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
lnet_netplan_drop_mac (const char *text, int *changed)
{
  struct netplan_ctx c = { .changed = changed };
  struct strbuf out = STRBUF_INIT;
  char *r = ltext_each_line (text, netplan_line, &c);

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
lnet_ifupdown_static_ifaces (const char *text, struct strbuf *names)
{
  const char *p = text;
  int count = 0;

  while (*p) {
    size_t len = strcspn (p, "\n"), s1, e1, s2, e2, s3, e3, n;
    if (!ltext_blank_or_comment (p, len) &&
        ltext_find_field (p, len, 0, &s1, &e1) &&
        e1 - s1 == 5 && strncmp (p + s1, "iface", 5) == 0 &&
        ltext_find_field (p, len, 1, &s2, &e2) &&
        ltext_find_field (p, len, 3, &s3, &e3) &&
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
