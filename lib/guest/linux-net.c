/* linux-net.c: network configuration of a Linux guest — MAC pins removed
 * from networkd, ifcfg, NetworkManager and netplan files, ifupdown's
 * static interfaces (see linux-net.h). */
#include "lib/common/compat.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/common/error.h"
#include "lib/common/ids.h"
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

/* ---- a clone's network ---- */

static bool
mac_eq (const uint8_t a[6], const uint8_t b[6])
{
  return memcmp (a, b, 6) == 0;
}

/* A clone NIC for the u-th unknown MAC: one the golden lacked, else one no
 * pin has claimed; SIZE_MAX if none. */
static size_t
macmap_free_nic (const struct lnet_macmap *m)
{
  size_t j, n = m->n_clone < LNET_MACMAP_MAX ? m->n_clone : LNET_MACMAP_MAX;

  for (j = m->n_golden; j < n; j++)
    if (!m->claimed[j])
      return j;
  for (j = 0; j < n && j < m->n_golden; j++)
    if (!m->claimed[j])
      return j;
  return SIZE_MAX;
}

int
lnet_macmap_map (struct lnet_macmap *m, const uint8_t in[6], uint8_t out[6])
{
  size_t j;

  for (j = 0; j < m->n_golden; j++)
    if (mac_eq (m->golden[j], in)) {
      if (j >= m->n_clone || j >= LNET_MACMAP_MAX)
        return -1;
      m->claimed[j] = true;
      memcpy (out, m->clone[j], 6);
      return 0;
    }
  for (j = 0; j < m->n_seen; j++)
    if (mac_eq (m->seen[j], in)) {
      memcpy (out, m->clone[m->seen_to[j]], 6);
      return 0;
    }
  if (m->n_seen == LNET_MACMAP_MAX || (j = macmap_free_nic (m)) == SIZE_MAX)
    return -1;
  memcpy (m->seen[m->n_seen], in, 6);
  m->seen_to[m->n_seen++] = j;
  m->claimed[j] = true;
  memcpy (out, m->clone[j], 6);
  return 0;
}

/* The keys that pin MACs, per format. */
static const char *const *
pin_keys (enum lnet_format fmt)
{
  static const char *const networkd[] = { "MACAddress", "PermanentMACAddress",
                                          NULL };
  static const char *const ifcfg[] = { "HWADDR", "MACADDR", NULL };
  static const char *const nm[] = { "mac-address", "cloned-mac-address",
                                    NULL };
  static const char *const netplan[] = { "macaddress", NULL };

  switch (fmt) {
  case LNET_NETWORKD: return networkd;
  case LNET_IFCFG: return ifcfg;
  case LNET_NMKEYFILE: return nm;
  case LNET_NETPLAN: return netplan;
  default: return NULL;
  }
}

/* The offset of the value when the line assigns one of `keys` (after
 * blanks, "KEY=" or, with colon, "KEY:"), else 0. */
static size_t
key_value_at (const char *line, size_t len, const char *const *keys,
              bool colon)
{
  size_t i = 0, k, j;

  while (i < len && isspace ((unsigned char) line[i]))
    i++;
  if (i < len && line[i] == '#')
    return 0;
  for (j = 0; keys && keys[j]; j++) {
    k = strlen (keys[j]);
    if (len - i > k && strncmp (line + i, keys[j], k) == 0 &&
        line[i + k] == (colon ? ':' : '=')) {
      i += k + 1;
      while (colon && i < len && line[i] == ' ')
        i++;
      return i;
    }
  }
  return 0;
}

static bool
mac_char (char c)
{
  return isxdigit ((unsigned char) c) || c == ':' || c == '-';
}

/* Write `mac` in the style of `orig` (separator, letter case). */
static int
add_mac_like (struct strbuf *out, const uint8_t mac[6], const char *orig)
{
  bool upper = false;
  char sep = orig[2], buf[18];
  size_t i;

  for (i = 0; i < 17; i++)
    upper |= isupper ((unsigned char) orig[i]) != 0;
  ids_mac_format (mac, buf);
  for (i = 0; i < 17; i++)
    if (buf[i] == ':')
      buf[i] = sep;
    else if (upper)
      buf[i] = (char) toupper ((unsigned char) buf[i]);
  return strbuf_add (out, buf, 17);
}

struct pins_ctx {
  const char *const *keys;
  bool colon;
  struct lnet_macmap *m;
  int *changed;
};

/* Each 17-character MAC token of the value is mapped. */
static int
pins_value (struct pins_ctx *c, const char *v, size_t len, struct strbuf *out)
{
  size_t i = 0, t;
  uint8_t in[6], mac[6];
  char tok[18];

  while (i < len) {
    for (t = i; t < len && mac_char (v[t]); t++)
      ;
    if (t - i == 17) {
      memcpy (tok, v + i, 17);
      tok[17] = '\0';
      if (ids_mac_parse (tok, in) == 0 && lnet_macmap_map (c->m, in, mac) == 0) {
        if (!mac_eq (in, mac))
          (*c->changed)++;
        if (add_mac_like (out, mac, tok) == -1)
          return -1;
        i = t;
        continue;
      }
      if (ids_mac_parse (tok, in) == 0)
        c->m->unmapped++;
    }
    if (t == i)
      t++;
    if (strbuf_add (out, v + i, t - i) == -1)
      return -1;
    i = t;
  }
  return 0;
}

static int
pins_line (const char *line, size_t len, void *opaque, struct strbuf *out)
{
  struct pins_ctx *c = opaque;
  size_t at = key_value_at (line, len, c->keys, c->colon);

  if (at == 0)
    return strbuf_add (out, line, len);
  if (strbuf_add (out, line, at) == -1)
    return -1;
  return pins_value (c, line + at, len - at, out);
}

char *
lnet_pins_rewrite (const char *text, enum lnet_format fmt,
                   struct lnet_macmap *m, int *changed)
{
  struct pins_ctx c = { .keys = pin_keys (fmt), .colon = fmt == LNET_NETPLAN,
                        .m = m, .changed = changed };

  if (c.keys == NULL) {
    error_set ("network: no MAC pins in this format");
    return NULL;
  }
  return ltext_each_line (text, pins_line, &c);
}

struct values_ctx {
  const char *const *keys;
  const strv_vector *olds, *news;
  int *changed;
};

static int
values_line (const char *line, size_t len, void *opaque, struct strbuf *out)
{
  struct values_ctx *c = opaque;
  size_t at = key_value_at (line, len, c->keys, false), vs = at, ve = len, i;

  if (at == 0)
    return strbuf_add (out, line, len);
  while (ve > vs && isspace ((unsigned char) line[ve - 1]))
    ve--;
  if (ve - vs >= 2 && (line[vs] == '"' || line[vs] == '\'') &&
      line[ve - 1] == line[vs]) {
    vs++;
    ve--;
  }
  for (i = 0; i < c->olds->len && i < c->news->len; i++)
    if (strlen (c->olds->ptr[i]) == ve - vs &&
        strncasecmp (line + vs, c->olds->ptr[i], ve - vs) == 0) {
      (*c->changed)++;
      return strbuf_addf (out, "%.*s%s%.*s", (int) vs, line, c->news->ptr[i],
                          (int) (len - ve), line + ve);
    }
  return strbuf_add (out, line, len);
}

char *
lnet_values_replace (const char *text, const char *const *keys,
                     const strv_vector *olds, const strv_vector *news,
                     int *changed)
{
  struct values_ctx c = { .keys = keys, .olds = olds, .news = news,
                          .changed = changed };

  return ltext_each_line (text, values_line, &c);
}

/* Append a copy of [s, s+n) to v unless it is there already. */
static int
strv_add_unique (strv_vector *v, const char *s, size_t n)
{
  char *d = strndup (s, n);

  if (d == NULL)
    return error_errno ("network");
  if (n == 0 || strv_vector_has (v, d)) {
    free (d);
    return 0;
  }
  if (strv_vector_append (v, d) == -1) {
    free (d);
    return -1;
  }
  return 0;
}

/* The value after `KEY=` or `KEY:` on a line, quotes and blanks cut. */
static bool
value_of (const char *line, size_t len, const char *key, bool colon,
          size_t *vs, size_t *ve)
{
  const char *const keys[] = { key, NULL };
  size_t at = key_value_at (line, len, keys, colon);

  if (at == 0)
    return false;
  *vs = at;
  *ve = len;
  while (*vs < *ve && isspace ((unsigned char) line[*vs]))
    (*vs)++;
  while (*ve > *vs && isspace ((unsigned char) line[*ve - 1]))
    (*ve)--;
  if (*ve - *vs >= 2 && (line[*vs] == '"' || line[*vs] == '\'') &&
      line[*ve - 1] == line[*vs]) {
    (*vs)++;
    (*ve)--;
  }
  return true;
}

int
lnet_values_of (const char *text, const char *key, strv_vector *out)
{
  const char *p = text;
  size_t len, vs, ve;

  while (*p) {
    len = strcspn (p, "\n");
    if (value_of (p, len, key, false, &vs, &ve) &&
        strv_add_unique (out, p + vs, ve - vs) == -1)
      return -1;
    p += len + (p[len] == '\n');
  }
  return 0;
}

static bool
is_wildcard (const char *s, size_t n)
{
  size_t i;

  for (i = 0; i < n; i++)
    if (strchr ("*?[!", s[i]))
      return true;
  return false;
}

/* ifupdown: `iface NAME ...`, lo left out. */
static int
names_ifupdown (const char *p, size_t len, strv_vector *names)
{
  size_t s1, e1, s2, e2, n;

  if (ltext_blank_or_comment (p, len) ||
      !ltext_find_field (p, len, 0, &s1, &e1) || e1 - s1 != 5 ||
      strncmp (p + s1, "iface", 5) != 0 ||
      !ltext_find_field (p, len, 1, &s2, &e2))
    return 0;
  n = strcspn (p + s2, ":.");
  if (n > e2 - s2)
    n = e2 - s2;
  if (n == 2 && strncmp (p + s2, "lo", 2) == 0)
    return 0;
  return strv_add_unique (names, p + s2, n);
}

/* networkd [Match] Name=: each name without wildcards. */
static int
names_networkd (const char *p, size_t len, bool in_match, strv_vector *names)
{
  size_t vs, ve, s, e;
  int k;

  if (!in_match || !value_of (p, len, "Name", false, &vs, &ve))
    return 0;
  for (k = 0; ltext_find_field (p + vs, ve - vs, k, &s, &e); k++)
    if (!is_wildcard (p + vs + s, e - s) &&
        strv_add_unique (names, p + vs + s, e - s) == -1)
      return -1;
  return 0;
}

/* netplan: set-name:, and ids under ethernets: whose entry has no match:
 * (an id is then the interface name). */
struct netplan_names {
  long eth_indent, id_indent;   /* -1: outside */
  char *id;                     /* the pending id, until its entry ends */
  bool id_matched;
};

static int
netplan_flush_id (struct netplan_names *st, strv_vector *names)
{
  int r = 0;

  if (st->id && !st->id_matched)
    r = strv_add_unique (names, st->id, strlen (st->id));
  free (st->id);
  st->id = NULL;
  return r;
}

static int
names_netplan (const char *p, size_t len, struct netplan_names *st,
               strv_vector *names)
{
  long ind = (long) indent_of (p, len);
  size_t vs, ve, n;

  if (ltext_blank_or_comment (p, len))
    return 0;
  if (st->id && ind <= st->id_indent && netplan_flush_id (st, names) == -1)
    return -1;
  if (st->eth_indent >= 0 && ind <= st->eth_indent)
    st->eth_indent = -1;
  if (line_key_is (p, len, "ethernets:")) {
    st->eth_indent = ind;
    st->id_indent = -1;
    return 0;
  }
  if (st->eth_indent >= 0 && (st->id_indent == -1 || ind == st->id_indent) &&
      ind > st->eth_indent && p[len - 1] == ':') {
    st->id_indent = ind;
    n = len - 1 - (size_t) ind;
    if (n > 1 && (p[ind] == '"' || p[ind] == '\'') && p[len - 2] == p[ind])
      st->id = strndup (p + ind + 1, n - 2);
    else
      st->id = strndup (p + ind, n);
    st->id_matched = false;
    return st->id ? 0 : error_errno ("network");
  }
  if (line_key_is (p, len, "match:"))
    st->id_matched = true;
  if (value_of (p, len, "set-name", true, &vs, &ve))
    return strv_add_unique (names, p + vs, ve - vs);
  return 0;
}

static int
names_line (const char *p, size_t len, enum lnet_format fmt, bool *in_match,
            struct netplan_names *np, strv_vector *names)
{
  size_t vs, ve;

  switch (fmt) {
  case LNET_IFUPDOWN:
    return names_ifupdown (p, len, names);
  case LNET_NETWORKD:
    if (is_section (p, len))
      *in_match = line_key_is (p, len, "[Match]");
    return names_networkd (p, len, *in_match, names);
  case LNET_IFCFG:
    if (value_of (p, len, "DEVICE", false, &vs, &ve) &&
        !(ve - vs == 2 && strncmp (p + vs, "lo", 2) == 0))
      return strv_add_unique (names, p + vs, ve - vs);
    return 0;
  case LNET_NMKEYFILE:
    if (value_of (p, len, "interface-name", false, &vs, &ve))
      return strv_add_unique (names, p + vs, ve - vs);
    return 0;
  case LNET_NETPLAN:
    return names_netplan (p, len, np, names);
  }
  return 0;
}

int
lnet_names_add (const char *text, enum lnet_format fmt, strv_vector *names)
{
  struct netplan_names np = { .eth_indent = -1, .id_indent = -1 };
  const char *p = text;
  bool in_match = false;
  size_t len;
  int r = 0;

  while (*p && r == 0) {
    len = strcspn (p, "\n");
    r = names_line (p, len, fmt, &in_match, &np, names);
    p += len + (p[len] == '\n');
  }
  if (r == 0)
    r = netplan_flush_id (&np, names);
  free (np.id);
  return r;
}

/* Each DNS server of a comma-separated list, formatted with `fmt` (one
 * %.*s). */
static int
add_each_dns (struct strbuf *sb, const char *dns, const char *fmt)
{
  const char *p = dns;
  size_t n;

  while (p && *p) {
    n = strcspn (p, ",");
    if (n && strbuf_addf (sb, fmt, (int) n, p) == -1)
      return -1;
    p += n + (p[n] == ',');
  }
  return 0;
}

static char *
finish (struct strbuf *sb, int r)
{
  if (r == -1) {
    strbuf_release (sb);
    return NULL;
  }
  return strbuf_detach (sb);
}

char *
lnet_networkd_nic (const struct lnet_nic *n)
{
  struct strbuf sb = STRBUF_INIT;
  int r;

  r = strbuf_addf (&sb, "# Written by ferry clone: the NIC with MAC %s.\n"
                   "[Match]\nMACAddress=%s\n\n[Network]\n", n->mac, n->mac);
  if (r == 0 && n->ip == NULL)
    r = strbuf_adds (&sb, "DHCP=yes\n");
  if (r == 0 && n->ip)
    r = strbuf_addf (&sb, "Address=%s\n", n->ip);
  if (r == 0 && n->ip && n->gateway)
    r = strbuf_addf (&sb, "Gateway=%s\n", n->gateway);
  if (r == 0 && n->ip)
    r = add_each_dns (&sb, n->dns, "DNS=%.*s\n");
  return finish (&sb, r);
}

char *
lnet_netplan_nic (const struct lnet_nic *n, const char *id)
{
  struct strbuf sb = STRBUF_INIT;
  int r;

  r = strbuf_addf (&sb, "# Written by ferry clone: the NIC with MAC %s.\n"
                   "network:\n  version: 2\n  ethernets:\n    %s:\n"
                   "      match:\n        macaddress: \"%s\"\n",
                   n->mac, id, n->mac);
  if (r == 0 && n->name)
    r = strbuf_addf (&sb, "      set-name: %s\n", n->name);
  if (r == 0)
    r = strbuf_addf (&sb, "      dhcp4: %s\n", n->ip ? "false" : "true");
  if (r == 0 && n->ip)
    r = strbuf_addf (&sb, "      addresses: [\"%s\"]\n", n->ip);
  if (r == 0 && n->ip && n->gateway)
    r = strbuf_addf (&sb, "      routes:\n        - to: default\n"
                     "          via: %s\n", n->gateway);
  if (r == 0 && n->ip && n->dns)
    r = strbuf_adds (&sb, "      nameservers:\n        addresses: [");
  if (r == 0 && n->ip && n->dns)
    r = add_each_dns (&sb, n->dns, "\"%.*s\", ");
  if (r == 0 && n->ip && n->dns) {
    sb.len -= 2;                /* the last ", " */
    r = strbuf_adds (&sb, "]\n");
  }
  return finish (&sb, r);
}

char *
lnet_nmkeyfile_nic (const struct lnet_nic *n, const char *id,
                    const char *uuid)
{
  struct strbuf sb = STRBUF_INIT;
  int r;

  r = strbuf_addf (&sb, "# Written by ferry clone: the NIC with MAC %s.\n"
                   "[connection]\nid=%s\nuuid=%s\ntype=ethernet\n"
                   "autoconnect-priority=50\n\n[ethernet]\nmac-address=%s\n"
                   "\n[ipv4]\n", n->mac, id, uuid, n->mac);
  if (r == 0 && n->ip == NULL)
    r = strbuf_adds (&sb, "method=auto\n");
  if (r == 0 && n->ip)
    r = strbuf_addf (&sb, "method=manual\naddress1=%s%s%s\n", n->ip,
                     n->gateway ? "," : "", n->gateway ? n->gateway : "");
  if (r == 0 && n->ip && n->dns)
    r = strbuf_adds (&sb, "dns=");
  if (r == 0 && n->ip && n->dns)
    r = add_each_dns (&sb, n->dns, "%.*s;");
  if (r == 0 && n->ip && n->dns)
    r = strbuf_adds (&sb, "\n");
  if (r == 0)
    r = strbuf_adds (&sb, "\n[ipv6]\nmethod=auto\n");
  return finish (&sb, r);
}

char *
lnet_link_nic (const struct lnet_nic *n)
{
  if (n->name == NULL) {
    error_set ("network: the NIC with MAC %s has no name to pin", n->mac);
    return NULL;
  }
  return xasprintf ("# Written by ferry clone: the NIC with MAC %s is %s, "
                    "whatever slot or model it gets.\n[Match]\n"
                    "MACAddress=%s\n\n[Link]\nName=%s\n", n->mac, n->name,
                    n->mac, n->name);
}

/* Drop KEY= lines whose key starts with one of `prefixes` and is followed
 * only by digits (IPADDR, IPADDR0, IPADDR1 ...). */
struct dropkeys_ctx {
  const char *const *prefixes;
  int *changed;
};

static int
dropkeys_line (const char *line, size_t len, void *opaque, struct strbuf *out)
{
  struct dropkeys_ctx *c = opaque;
  size_t i, k, eq = strcspn (line, "=");

  for (i = 0; eq < len && c->prefixes[i]; i++) {
    k = strlen (c->prefixes[i]);
    if (eq >= k && strncmp (line, c->prefixes[i], k) == 0 &&
        strspn (line + k, "0123456789") == eq - k) {
      (*c->changed)++;
      if (out->len && out->buf[out->len - 1] == '\n')
        out->buf[--out->len] = '\0';
      return 0;
    }
  }
  return strbuf_add (out, line, len);
}

/* Set key=value on *text (replacing it), NULL value: nothing. */
static int
kv_step (char **text, const char *key, const char *value, int *changed)
{
  char *n;

  if (value == NULL)
    return 0;
  n = ltext_kv_set (*text, key, value, changed);
  if (n == NULL)
    return -1;
  free (*text);
  *text = n;
  return 0;
}

static int
ifcfg_dns (char **text, const char *dns, int *changed)
{
  const char *p = dns;
  char key[16], *v;
  size_t n, k = 1;
  int r = 0;

  while (p && *p && r == 0 && k < 10) {
    n = strcspn (p, ",");
    snprintf (key, sizeof key, "DNS%zu", k++);
    v = strndup (p, n);
    r = v ? kv_step (text, key, v, changed) : error_errno ("network");
    free (v);
    p += n + (p[n] == ',');
  }
  return r;
}

static int
ifcfg_address (char **text, const struct lnet_nic *n, int *changed)
{
  const char *slash = strchr (n->ip, '/');
  char *addr = strndup (n->ip, slash ? (size_t) (slash - n->ip)
                        : strlen (n->ip));
  int r;

  if (addr == NULL)
    return error_errno ("network");
  r = kv_step (text, "BOOTPROTO", "none", changed);
  if (r == 0)
    r = kv_step (text, "IPADDR", addr, changed);
  if (r == 0 && slash)
    r = kv_step (text, "PREFIX", slash + 1, changed);
  if (r == 0)
    r = kv_step (text, "GATEWAY", n->gateway, changed);
  if (r == 0)
    r = ifcfg_dns (text, n->dns, changed);
  free (addr);
  return r;
}

char *
lnet_ifcfg_nic (const char *text, const struct lnet_nic *n, int *changed)
{
  static const char *const old[] = { "IPADDR", "PREFIX", "NETMASK",
                                     "GATEWAY", "DNS", NULL };
  struct dropkeys_ctx dc = { .prefixes = old, .changed = changed };
  char *t = n->ip ? ltext_each_line (text, dropkeys_line, &dc) : xstrdup (text);
  int r = t ? 0 : -1;

  if (r == 0)
    r = kv_step (&t, "DEVICE", n->name, changed);
  if (r == 0)
    r = kv_step (&t, "HWADDR", n->mac, changed);
  if (r == 0)
    r = kv_step (&t, "TYPE", "Ethernet", changed);
  if (r == 0)
    r = kv_step (&t, "ONBOOT", "yes", changed);
  if (r == 0 && n->ip == NULL)
    r = kv_step (&t, "BOOTPROTO", "dhcp", changed);
  if (r == 0 && n->ip)
    r = ifcfg_address (&t, n, changed);
  if (r == -1) {
    free (t);
    return NULL;
  }
  return t;
}

/* ifupdown: the top-level keywords that end a stanza. */
static bool
ifupdown_keyword (const char *p, size_t len)
{
  static const char *const kw[] = { "iface", "auto", "allow-", "mapping",
                                     "source", "no-auto-down", "no-scripts",
                                     "rename", NULL };
  size_t s, e, i;

  if (!ltext_find_field (p, len, 0, &s, &e))
    return false;
  for (i = 0; kw[i]; i++)
    if (strncmp (p + s, kw[i], strlen (kw[i])) == 0 &&
        (kw[i][strlen (kw[i]) - 1] == '-' || e - s == strlen (kw[i])))
      return true;
  return false;
}

/* Field k of the line equals `w`. */
static bool
field_is (const char *p, size_t len, int k, const char *w)
{
  size_t s, e;

  return ltext_find_field (p, len, k, &s, &e) && e - s == strlen (w) &&
    strncmp (p + s, w, e - s) == 0;
}

/* An auto/allow-* line naming `name` among its fields. */
static bool
names_auto (const char *p, size_t len, const char *name)
{
  size_t s, e;
  int k;

  if (!ltext_find_field (p, len, 0, &s, &e) ||
      !((e - s == 4 && strncmp (p + s, "auto", 4) == 0) ||
        (e - s > 6 && strncmp (p + s, "allow-", 6) == 0)))
    return false;
  for (k = 1; k < 64; k++)
    if (field_is (p, len, k, name))
      return true;
  return false;
}

struct ifupdown_ctx {
  const char *name;
  bool skipping, has_auto;
  int *changed;
};

static int
ifupdown_line (const char *p, size_t len, void *opaque, struct strbuf *out)
{
  struct ifupdown_ctx *c = opaque;
  bool blank = ltext_blank_or_comment (p, len);

  if (!blank && ifupdown_keyword (p, len))
    c->skipping = field_is (p, len, 0, "iface") &&
      field_is (p, len, 1, c->name) && field_is (p, len, 2, "inet");
  if (!blank && names_auto (p, len, c->name))
    c->has_auto = true;
  if (!c->skipping)
    return strbuf_add (out, p, len);
  (*c->changed)++;
  if (out->len && out->buf[out->len - 1] == '\n')
    out->buf[--out->len] = '\0';
  return 0;
}

char *
lnet_ifupdown_nic (const char *text, const struct lnet_nic *n, int *changed)
{
  struct ifupdown_ctx c = { .name = n->name, .changed = changed };
  struct strbuf sb = STRBUF_INIT;
  char *t;
  int r;

  if (n->name == NULL) {
    error_set ("network: the NIC with MAC %s has no name for "
               "/etc/network/interfaces", n->mac);
    return NULL;
  }
  if ((t = ltext_each_line (text, ifupdown_line, &c)) == NULL)
    return NULL;
  r = strbuf_adds (&sb, t);
  free (t);
  if (r == 0 && sb.len && sb.buf[sb.len - 1] != '\n')
    r = strbuf_adds (&sb, "\n");
  if (r == 0)
    r = strbuf_addf (&sb, "\n# Written by ferry clone: the NIC with MAC %s.\n",
                     n->mac);
  if (r == 0 && !c.has_auto)
    r = strbuf_addf (&sb, "auto %s\n", n->name);
  if (r == 0)
    r = strbuf_addf (&sb, "iface %s inet %s\n", n->name,
                     n->ip ? "static" : "dhcp");
  if (r == 0 && n->ip)
    r = strbuf_addf (&sb, "    address %s\n", n->ip);
  if (r == 0 && n->ip && n->gateway)
    r = strbuf_addf (&sb, "    gateway %s\n", n->gateway);
  if (r == 0 && n->ip && n->dns)
    r = add_each_dns (&sb, n->dns, "    dns-nameserver %.*s\n");
  (*changed)++;
  return finish (&sb, r);
}
