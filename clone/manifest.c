/* manifest.c: the rows of a clone batch (plan.h) from a CSV or JSON
 * manifest or from --count/--name, every value validated before anything
 * is written, every refusal one line naming the file, the row and the
 * field. */
#include "lib/common/compat.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "lib/common/checked.h"
#include "lib/common/error.h"
#include "lib/common/ids.h"
#include "lib/common/strbuf.h"
#include "lib/common/vector.h"
#include "ova/vm.h"
#include "clone/plan.h"

/* Bytes of one value: a dns list of 16 IPv6 addresses is under 1 KiB. */
#define FIELD_MAX 4096
/* Known columns: name, hostname, cpus, memory, and four per NIC; a header
 * with more has a duplicate or an unknown one, so reading stops there. */
#define MAX_COLUMNS (4 + 4 * CLONE_MAX_NICS)
#define MAX_DNS 16              /* servers in one dns list */
#define SHOW_MAX 48             /* bytes of a value quoted in an error */

DEFINE_VECTOR_TYPE (size_vector, size_t);

enum col_kind {
  COL_NAME, COL_HOSTNAME, COL_CPUS, COL_MEMORY,
  COL_MAC, COL_IP, COL_GATEWAY, COL_DNS,
};

struct column {
  enum col_kind kind;
  unsigned nic;               /* 0-based, for the per-NIC kinds */
  char name[16];              /* canonical: "mac", "mac2", "cpus" */
};

static const struct {
  const char *name;
  enum col_kind kind;
  bool per_nic;
} column_table[] = {
  { "name", COL_NAME, false },
  { "hostname", COL_HOSTNAME, false },
  { "cpus", COL_CPUS, false },
  { "memory", COL_MEMORY, false },
  { "mac", COL_MAC, true },
  { "ip", COL_IP, true },
  { "gateway", COL_GATEWAY, true },
  { "dns", COL_DNS, true },
};
#define N_COLUMN_TABLE (sizeof column_table / sizeof column_table[0])

/* Where a row came from, for the prefix of its errors. */
struct where {
  const char *path;
  size_t row;                 /* 1-based data row */
};

/* ---- small helpers ---------------------------------------------------- */

/* `s` made safe to quote inside a one-line error: non-printable bytes as
 * \xNN, cut after SHOW_MAX bytes. */
static const char *
show (const char *s, char *buf, size_t size)
{
  size_t o = 0, i;

  for (i = 0; s[i] && o + 8 < size; i++) {
    unsigned char c = (unsigned char) s[i];

    if (i == SHOW_MAX) {
      snprintf (buf + o, size - o, "...");
      return buf;
    }
    if (c >= 0x20 && c < 0x7f && c != '\\')
      buf[o++] = (char) c;
    else
      o += (size_t) snprintf (buf + o, size - o, "\\x%02x", c);
  }
  buf[o] = '\0';
  return buf;
}

#define SHOW_BUF (SHOW_MAX * 4 + 16)
#define SHOWN(s) show ((s), (char[SHOW_BUF]) { 0 }, SHOW_BUF)

static char
lower (char c)
{
  return c >= 'A' && c <= 'Z' ? (char) (c - 'A' + 'a') : c;
}

static bool
is_digit (char c)
{
  return c >= '0' && c <= '9';
}

static bool
is_alnum (char c)
{
  return is_digit (c) || (lower (c) >= 'a' && lower (c) <= 'z');
}

static bool
is_blank (char c)
{
  return c == ' ' || c == '\t';
}

/* `s` without blanks around it, in `buf` (which holds FIELD_MAX + 1). */
static const char *
trimmed (const char *s, char *buf)
{
  size_t len;

  while (is_blank (*s))
    s++;
  len = strnlen (s, FIELD_MAX);
  while (len > 0 && is_blank (s[len - 1]))
    len--;
  memcpy (buf, s, len);
  buf[len] = '\0';
  return buf;
}

/* A decimal number of at most `max_digits` digits, nothing else. */
static int
parse_decimal (const char *s, size_t max_digits, uint64_t *out)
{
  uint64_t v = 0;
  size_t i;

  for (i = 0; is_digit (s[i]); i++) {
    if (i == max_digits)
      return -1;
    v = v * 10 + (uint64_t) (s[i] - '0');
  }
  if (i == 0 || s[i] != '\0')
    return -1;
  *out = v;
  return 0;
}

/* How many of the first `len` bytes of `p` are in `set` (no NUL). */
static size_t
blanks (const char *p, size_t len, const char *set)
{
  size_t i = 0;

  while (i < len && p[i] && strchr (set, p[i]))
    i++;
  return i;
}

static int
set_str (char **dst, const char *s)
{
  char *copy = xstrdup (s);

  if (copy == NULL)
    return -1;
  free (*dst);
  *dst = copy;
  return 0;
}

/* ---- columns ---------------------------------------------------------- */

/* The NIC number after a per-NIC column's base name: none or "1" is the
 * first NIC.  Returns 1 for "not a NIC suffix" (an unknown column). */
static int
nic_suffix (const char *digits, unsigned *nic)
{
  uint64_t n;

  if (*digits == '\0') {
    *nic = 0;
    return 0;
  }
  if (digits[0] == '0' || strspn (digits, "0123456789") != strlen (digits))
    return 1;
  if (parse_decimal (digits, 6, &n) == -1 || n > CLONE_MAX_NICS)
    return error_set ("more NICs than a VM may have (at most %d)",
                      CLONE_MAX_NICS);
  *nic = (unsigned) n - 1;
  return 0;
}

/* A column (or JSON key) by name, case-insensitively. */
static int
column_parse (const char *key, struct column *col)
{
  char low[16];
  size_t i, len = strnlen (key, sizeof low);

  if (len == sizeof low)
    return error_set ("unknown column");
  for (i = 0; i <= len; i++)
    low[i] = lower (key[i]);
  for (i = 0; i < N_COLUMN_TABLE; i++) {
    size_t n = strlen (column_table[i].name);
    int r;

    if (strncmp (low, column_table[i].name, n) != 0 ||
        (!column_table[i].per_nic && low[n] != '\0'))
      continue;
    col->kind = column_table[i].kind;
    col->nic = 0;
    r = column_table[i].per_nic ? nic_suffix (low + n, &col->nic) : 0;
    if (r == -1)
      return -1;
    if (r == 1)
      continue;
    if (col->nic == 0)
      snprintf (col->name, sizeof col->name, "%s", column_table[i].name);
    else
      snprintf (col->name, sizeof col->name, "%s%u", column_table[i].name,
                col->nic + 1);
    return 0;
  }
  return error_set ("unknown column");
}

/* ---- values ----------------------------------------------------------- */

/* A VM name becomes a file stem in DIR: nothing may climb out of it. */
static int
check_name (const char *s)
{
  size_t i, len = strlen (s);

  for (i = 0; i < len; i++)
    if ((unsigned char) s[i] < 0x20 || s[i] == 0x7f)
      return error_set ("'%s' contains a control character", SHOWN (s));
  if (strchr (s, '/'))
    return error_set ("'%s' contains '/'", SHOWN (s));
  if (strstr (s, ".."))
    return error_set ("'%s' contains '..'", SHOWN (s));
  if (s[0] == '.' || s[0] == '-')
    return error_set ("'%s' starts with '%c'", SHOWN (s), s[0]);
  if (len > CLONE_MAX_NAME)
    return error_set ("'%s' is longer than %d bytes", SHOWN (s),
                      CLONE_MAX_NAME);
  for (i = 0; i < len; i++)
    if (!is_alnum (s[i]) && !strchr ("._-", s[i]))
      return error_set ("'%s' contains '%s' (a name holds letters, digits, "
                        "'.', '_' and '-')", SHOWN (s),
                        SHOWN (((char[2]) { s[i], 0 })));
  return 0;
}

static int
check_label (const char *s, const char *label, size_t len)
{
  size_t i;

  if (len == 0)
    return error_set ("'%s' has an empty label", SHOWN (s));
  if (len > 63)
    return error_set ("'%s' has a label longer than 63 bytes", SHOWN (s));
  if (label[0] == '-' || label[len - 1] == '-')
    return error_set ("'%s' has a label starting or ending with '-'",
                      SHOWN (s));
  for (i = 0; i < len; i++)
    if (!is_alnum (label[i]) && label[i] != '-')
      return error_set ("'%s' is not a valid hostname (RFC 1123: letters, "
                        "digits and '-' in dot-separated labels)", SHOWN (s));
  return 0;
}

/* RFC 1123 host name, possibly fully qualified. */
static int
check_hostname (const char *s)
{
  const char *label = s, *dot;
  bool numeric = true;

  if (strlen (s) > 253)
    return error_set ("'%s' is longer than 253 bytes", SHOWN (s));
  for (;;) {
    size_t len;

    dot = strchr (label, '.');
    len = dot ? (size_t) (dot - label) : strlen (label);
    if (check_label (s, label, len) == -1)
      return -1;
    numeric = strspn (label, "0123456789") >= len;
    if (dot == NULL)
      break;
    label = dot + 1;
  }
  if (numeric && label != s)
    return error_set ("'%s' is not a valid hostname (its last label is all "
                      "digits)", SHOWN (s));
  return 0;
}

static int
parse_mac (const char *s, uint8_t mac[6])
{
  static const uint8_t zero[6];
  char text[18];

  if (ids_mac_parse (s, mac) == -1)
    return error_set ("'%s' is not a MAC address (like 52:54:00:12:34:56)",
                      SHOWN (s));
  ids_mac_format (mac, text);
  if (mac[0] & 0x01)
    return error_set ("%s is a multicast address", text);
  if (memcmp (mac, zero, 6) == 0)
    return error_set ("%s is not a usable address", text);
  return 0;
}

/* An address with no prefix: AF_INET or AF_INET6, or -1. */
static int
parse_address (const char *s, uint8_t addr[16])
{
  if (strlen (s) < INET6_ADDRSTRLEN) {
    if (inet_pton (AF_INET, s, addr) == 1)
      return AF_INET;
    if (inet_pton (AF_INET6, s, addr) == 1)
      return AF_INET6;
  }
  return error_set ("'%s' is not an IPv4 or IPv6 address", SHOWN (s));
}

static bool
bit_set (const uint8_t *addr, unsigned bit)
{
  return addr[bit / 8] & (0x80 >> (bit % 8));
}

/* Whether the bits of `addr` from `from` to `to` (exclusive) all equal
 * `value`. */
static bool
bits_all (const uint8_t *addr, unsigned from, unsigned to, bool value)
{
  unsigned b;

  for (b = from; b < to; b++)
    if (bit_set (addr, b) != value)
      return false;
  return true;
}

/* Unspecified, loopback and multicast addresses cannot be a NIC's. */
static bool
is_host_address (int af, const uint8_t *a)
{
  static const uint8_t v6_loopback[16] = { [15] = 1 };

  if (af == AF_INET)
    return a[0] != 0 && a[0] != 127 && a[0] < 224;
  return !bits_all (a, 0, 128, false) && memcmp (a, v6_loopback, 16) != 0 &&
    a[0] != 0xff;
}

struct cidr {
  int af;
  uint8_t addr[16];
  unsigned prefix;
};

static int
cidr_split (const char *s, char *addr_text, unsigned *prefix)
{
  const char *slash = strchr (s, '/');
  uint64_t p;

  if (slash == NULL)
    return error_set ("'%s' has no prefix length (CIDR, like "
                      "192.0.2.10/24)", SHOWN (s));
  if ((size_t) (slash - s) >= INET6_ADDRSTRLEN)
    return error_set ("'%s' is not an IPv4 or IPv6 address", SHOWN (s));
  memcpy (addr_text, s, (size_t) (slash - s));
  addr_text[slash - s] = '\0';
  if (parse_decimal (slash + 1, 3, &p) == -1)
    return error_set ("'%s' has an invalid prefix length", SHOWN (s));
  *prefix = (unsigned) p;
  return 0;
}

static int
cidr_parse (const char *s, struct cidr *c)
{
  char text[INET6_ADDRSTRLEN];
  unsigned bits;

  if (cidr_split (s, text, &c->prefix) == -1)
    return -1;
  c->af = parse_address (text, c->addr);
  if (c->af == -1)
    return error_set ("'%s' is not an IPv4 or IPv6 address", SHOWN (s));
  bits = c->af == AF_INET ? 32 : 128;
  if (c->prefix < 1 || c->prefix > bits)
    return error_set ("'%s': prefix length /%u is out of range (1-%u)",
                      SHOWN (s), c->prefix, bits);
  if (!is_host_address (c->af, c->addr))
    return error_set ("'%s' is not a host address", SHOWN (s));
  /* IPv4 subnets of 4 or more addresses lose their first and last. */
  if (c->af == AF_INET && c->prefix <= 30 &&
      (bits_all (c->addr, c->prefix, 32, false) ||
       bits_all (c->addr, c->prefix, 32, true)))
    return error_set ("'%s' is the subnet's network or broadcast address",
                      SHOWN (s));
  return 0;
}

static int
address_text (int af, const uint8_t *addr, char out[INET6_ADDRSTRLEN])
{
  if (inet_ntop (af, addr, out, INET6_ADDRSTRLEN) == NULL)
    return error_errno ("inet_ntop");
  return 0;
}

static int
parse_ip (const char *s, char **out)
{
  char text[INET6_ADDRSTRLEN + 8];
  struct cidr c;

  if (cidr_parse (s, &c) == -1 || address_text (c.af, c.addr, text) == -1)
    return -1;
  snprintf (text + strlen (text), 8, "/%u", c.prefix);
  return set_str (out, text);
}

static int
parse_gateway (const char *s, char **out)
{
  char text[INET6_ADDRSTRLEN];
  uint8_t addr[16];
  int af;

  if (strchr (s, '/'))
    return error_set ("'%s': a gateway is an address, without a prefix "
                      "length", SHOWN (s));
  af = parse_address (s, addr);
  if (af == -1)
    return -1;
  if (!is_host_address (af, addr))
    return error_set ("'%s' is not a host address", SHOWN (s));
  if (address_text (af, addr, text) == -1)
    return -1;
  return set_str (out, text);
}

static int
dns_add (struct strbuf *sb, const char *tok, size_t len, size_t *n)
{
  char text[INET6_ADDRSTRLEN];
  uint8_t addr[16];
  int af;

  if (len >= INET6_ADDRSTRLEN) {
    char cut[INET6_ADDRSTRLEN];

    memcpy (cut, tok, sizeof cut - 1);
    cut[sizeof cut - 1] = '\0';
    return error_set ("'%s...' is not an IPv4 or IPv6 address", SHOWN (cut));
  }
  memcpy (text, tok, len);
  text[len] = '\0';
  af = parse_address (text, addr);
  if (af == -1 || address_text (af, addr, text) == -1)
    return -1;
  if (++*n > MAX_DNS)
    return error_set ("more than %d servers", MAX_DNS);
  if ((sb->len > 0 && strbuf_adds (sb, ",") == -1) ||
      strbuf_adds (sb, text) == -1)
    return -1;
  return 0;
}

/* Addresses separated by blanks, commas or semicolons, written back
 * comma-separated. */
static int
parse_dns (const char *s, char **out)
{
  static const char seps[] = " \t,;";
  struct strbuf sb = STRBUF_INIT;
  size_t n = 0;

  for (;;) {
    size_t len;

    s += strspn (s, seps);
    len = strcspn (s, seps);
    if (len == 0)
      break;
    if (dns_add (&sb, s, len, &n) == -1) {
      strbuf_release (&sb);
      return -1;
    }
    s += len;
  }
  if (n == 0)
    return error_set ("no address");
  free (*out);
  *out = strbuf_detach (&sb);
  return 0;
}

static int
parse_cpus (const char *s, unsigned *cpus)
{
  uint64_t v;

  if (parse_decimal (s, 5, &v) == -1 || v < 1 || v > VM_MAX_CPUS)
    return error_set ("'%s' is not a CPU count (1-%d)", SHOWN (s),
                      VM_MAX_CPUS);
  *cpus = (unsigned) v;
  return 0;
}

static int
memory_unit (const char *unit, uint64_t *mul)
{
  static const struct { const char *name; uint64_t mib; } units[] = {
    { "", 1 }, { "m", 1 }, { "mib", 1 }, { "g", 1024 }, { "gib", 1024 },
    { "t", 1024 * 1024 }, { "tib", 1024 * 1024 },
  };
  size_t i;

  for (i = 0; i < sizeof units / sizeof units[0]; i++)
    if (strcasecmp (unit, units[i].name) == 0) {
      *mul = units[i].mib;
      return 0;
    }
  return -1;
}

/* MiB, or with a binary unit: 512M, 2G, 2GiB, 1T. */
static int
parse_memory (const char *s, uint64_t *mib)
{
  char digits[24];
  size_t n = strspn (s, "0123456789");
  const char *unit = s + n;
  uint64_t v, mul;

  while (is_blank (*unit))
    unit++;
  if (n == 0 || n > 19)
    return error_set ("'%s' is not a memory size (MiB, or with a unit: "
                      "512M, 2G, 1T)", SHOWN (s));
  memcpy (digits, s, n);
  digits[n] = '\0';
  if (memory_unit (unit, &mul) == -1)
    return error_set ("'%s': unknown unit (M, MiB, G, GiB, T, TiB)",
                      SHOWN (s));
  if (parse_decimal (digits, 20, &v) == -1 || MUL_OVERFLOW (v, mul, &v) ||
      v < 1 || v > VM_MAX_MEMORY_MIB)
    return error_set ("'%s' is out of range (1 MiB to %llu TiB)", SHOWN (s),
                      VM_MAX_MEMORY_MIB >> 20);
  *mib = v;
  return 0;
}

/* ---- rows ------------------------------------------------------------- */

static int
where_prefix (const struct where *w, const char *field)
{
  return error_prefix ("%s: row %zu, field '%s': ", w->path, w->row, field);
}

static int
field_store (struct clone_spec *s, const struct column *col, const char *v)
{
  struct clone_nic *nic = &s->nics[col->nic];

  switch (col->kind) {
  case COL_NAME:
    return check_name (v) == -1 ? -1 : set_str (&s->name, v);
  case COL_HOSTNAME:
    return check_hostname (v) == -1 ? -1 : set_str (&s->hostname, v);
  case COL_CPUS:
    return parse_cpus (v, &s->cpus);
  case COL_MEMORY:
    return parse_memory (v, &s->memory_mib);
  case COL_MAC:
    nic->mac_given = true;
    return parse_mac (v, nic->mac);
  case COL_IP:
    return parse_ip (v, &nic->ip);
  case COL_GATEWAY:
    return parse_gateway (v, &nic->gateway);
  case COL_DNS:
    return parse_dns (v, &nic->dns);
  }
  return error_set ("unknown column");
}

/* One value of a row; blank means "not given". */
static int
row_set (const struct where *w, struct clone_spec *s,
         const struct column *col, const char *value)
{
  char buf[FIELD_MAX + 1];
  const char *v;

  if (strlen (value) > FIELD_MAX)
    return error_set ("%s: row %zu, field '%s': longer than %d bytes",
                      w->path, w->row, col->name, FIELD_MAX);
  v = trimmed (value, buf);
  if (*v == '\0')
    return 0;
  if (field_store (s, col, v) == -1)
    return where_prefix (w, col->name);
  if (col->kind >= COL_MAC)
    s->n_nics = MAX (s->n_nics, (size_t) col->nic + 1);
  return 0;
}

static void
nic_field (char *out, size_t size, const char *base, size_t i)
{
  if (i == 0)
    snprintf (out, size, "%s", base);
  else
    snprintf (out, size, "%s%zu", base, i + 1);
}

/* Whether gateway `gw` is on the subnet of `ip`: inside the prefix, or
 * an IPv6 link-local router (what router advertisements announce). */
static int
check_gateway (const char *ip, const char *gw)
{
  struct cidr c;
  uint8_t g[16];
  int af = parse_address (gw, g);

  if (cidr_parse (ip, &c) == -1 || af == -1)
    return -1;
  if (af != c.af)
    return error_set ("%s is not of the same family as ip %s", gw, ip);
  if (memcmp (g, c.addr, af == AF_INET ? 4 : 16) == 0)
    return error_set ("%s is the ip itself", gw);
  if (af == AF_INET6 && g[0] == 0xfe && (g[1] & 0xc0) == 0x80)
    return 0;
  for (unsigned b = 0; b < c.prefix; b++)
    if (bit_set (g, b) != bit_set (c.addr, b))
      return error_set ("%s is outside the subnet of ip %s", gw, ip);
  if (af == AF_INET && c.prefix <= 30 &&
      (bits_all (g, c.prefix, 32, false) || bits_all (g, c.prefix, 32, true)))
    return error_set ("%s is the network or broadcast address of ip %s",
                      gw, ip);
  return 0;
}

static int
nic_finish (const struct where *w, const struct clone_nic *nic, size_t i)
{
  char field[32];

  nic_field (field, sizeof field, "gateway", i);
  if (nic->gateway && nic->ip == NULL)
    return error_set ("%s: row %zu, field '%s': a gateway needs an ip "
                      "(column '%s%s')", w->path, w->row, field, "ip",
                      field + 7);
  if (nic->gateway && check_gateway (nic->ip, nic->gateway) == -1)
    return where_prefix (w, field);
  nic_field (field, sizeof field, "dns", i);
  if (nic->dns && nic->ip == NULL)
    return error_set ("%s: row %zu, field '%s': dns servers need an ip "
                      "(a DHCP NIC takes them from DHCP)", w->path, w->row,
                      field);
  return 0;
}

/* What a row needs once all its values are in: a name, a hostname (the
 * name by default), gateways and dns only beside an ip. */
static int
row_finish (const struct where *w, struct clone_spec *s)
{
  size_t i;

  s->row = w->row;
  if (s->name == NULL)
    return error_set ("%s: row %zu, field 'name': missing (every row needs "
                      "a name)", w->path, w->row);
  if (s->hostname == NULL) {
    if (check_hostname (s->name) == -1)
      return error_set ("%s: row %zu, field 'name': '%s' is no hostname: "
                        "give the row a 'hostname'", w->path, w->row,
                        SHOWN (s->name));
    if (set_str (&s->hostname, s->name) == -1)
      return -1;
  }
  for (i = 0; i < s->n_nics; i++)
    if (nic_finish (w, &s->nics[i], i) == -1)
      return -1;
  return 0;
}

/* A new zeroed row at the end of the plan. */
static struct clone_spec *
plan_add (struct clone_plan *plan, size_t *cap)
{
  if (plan->n == CLONE_MAX_ROWS) {
    error_set ("%s: more than %d rows", plan->source, CLONE_MAX_ROWS);
    return NULL;
  }
  if (generic_vector_reserve ((void **) &plan->specs, cap, plan->n, 1,
                              sizeof *plan->specs) == -1)
    return NULL;
  memset (&plan->specs[plan->n], 0, sizeof *plan->specs);
  return &plan->specs[plan->n++];
}

/* ---- duplicates across the batch -------------------------------------- */

struct key {
  const char *s;              /* a name or a hostname, or NULL */
  const uint8_t *mac;         /* or a MAC */
  size_t row;
  size_t nic;
};

static int
key_cmp (const void *pa, const void *pb)
{
  const struct key *a = pa, *b = pb;
  int c = a->s ? strcasecmp (a->s, b->s) : memcmp (a->mac, b->mac, 6);

  if (c != 0)
    return c;
  if (a->row != b->row)
    return a->row < b->row ? -1 : 1;
  return a->nic < b->nic ? -1 : a->nic > b->nic;
}

static bool
key_same (const struct key *a, const struct key *b)
{
  return a->s ? strcasecmp (a->s, b->s) == 0 : memcmp (a->mac, b->mac, 6) == 0;
}

static bool
row_before (const struct key *a, const struct key *b)
{
  return a->row != b->row ? a->row < b->row : a->nic < b->nic;
}

/* Sort the keys; the first duplicate in row order (the later of a pair)
 * in *dup, the earliest of its kind in *first.  false: none. */
static bool
find_duplicate (struct key *k, size_t n, const struct key **dup,
                const struct key **first)
{
  size_t i, group = 0;

  *dup = NULL;
  qsort (k, n, sizeof *k, key_cmp);
  for (i = 1; i < n; i++) {
    if (!key_same (&k[i - 1], &k[i])) {
      group = i;
      continue;
    }
    if (*dup == NULL || row_before (&k[i], *dup)) {
      *dup = &k[i];
      *first = &k[group];
    }
  }
  return *dup != NULL;
}

static int
check_unique_strings (const struct clone_plan *plan, struct key *k,
                      bool hostnames)
{
  const char *what = hostnames ? "hostname" : "name";
  const struct key *dup, *first;
  size_t i;

  for (i = 0; i < plan->n; i++)
    k[i] = (struct key) {
      hostnames ? plan->specs[i].hostname : plan->specs[i].name, NULL,
      plan->specs[i].row, 0 };
  if (!find_duplicate (k, plan->n, &dup, &first))
    return 0;
  return error_set ("%s: row %zu, field '%s': '%s' is also the %s of row %zu"
                    "%s", plan->source, dup->row, what, SHOWN (dup->s), what,
                    first->row, hostnames ? "" : " (names are file names: "
                    "case does not count)");
}

static int
check_unique_macs (const struct clone_plan *plan, struct key *k)
{
  const struct key *dup, *first;
  char text[18], f1[32], f2[32];
  size_t i, j, n = 0;

  for (i = 0; i < plan->n; i++)
    for (j = 0; j < plan->specs[i].n_nics; j++)
      if (plan->specs[i].nics[j].mac_given)
        k[n++] = (struct key) { NULL, plan->specs[i].nics[j].mac,
                                plan->specs[i].row, j };
  if (!find_duplicate (k, n, &dup, &first))
    return 0;
  ids_mac_format (dup->mac, text);
  nic_field (f1, sizeof f1, "mac", dup->nic);
  nic_field (f2, sizeof f2, "mac", first->nic);
  return error_set ("%s: row %zu, field '%s': %s is also the MAC of row %zu "
                    "(field '%s')", plan->source, dup->row, f1, text,
                    first->row, f2);
}

/* Names (they are file names: case-insensitive), hostnames and MACs
 * must be unique within the batch. */
static int
check_unique (const struct clone_plan *plan)
{
  struct key *k = calloc (plan->n * CLONE_MAX_NICS + 1, sizeof *k);
  int r;

  if (k == NULL)
    return error_errno ("manifest");
  r = check_unique_strings (plan, k, false);
  if (r == 0)
    r = check_unique_strings (plan, k, true);
  if (r == 0)
    r = check_unique_macs (plan, k);
  free (k);
  return r;
}

/* ---- CSV -------------------------------------------------------------- */

/* The reader of one CSV text (RFC 4180): each record's values are kept
 * NUL-terminated in `buf`, starting at the offsets in `offs`. */
struct csv {
  const char *path;
  const char *p, *end;
  size_t line;
  struct strbuf buf;
  size_vector offs;
  bool blank;                 /* the last record was an empty line */
};

static int
csv_error (const struct csv *c, size_t line)
{
  return error_prefix ("%s: line %zu: ", c->path, line);
}

static int
csv_add (struct csv *c, const char *run, size_t len)
{
  size_t start = c->offs.ptr[c->offs.len - 1];

  if (c->buf.len - start + len > FIELD_MAX) {
    error_set ("a field longer than %d bytes", FIELD_MAX);
    return csv_error (c, c->line);
  }
  return strbuf_add (&c->buf, run, len);
}

/* An unquoted field: up to ',' or the end of the line. */
static int
csv_plain (struct csv *c)
{
  const char *q = c->p;

  while (q < c->end && !strchr (",\n\r\"", *q) && *q != '\0')
    q++;
  if (csv_add (c, c->p, (size_t) (q - c->p)) == -1)
    return -1;
  c->p = q;
  if (q == c->end || *q == ',' || *q == '\n' ||
      (*q == '\r' && q + 1 < c->end && q[1] == '\n'))
    return 0;
  if (*q == '"')
    error_set ("a quote inside an unquoted field (quote the whole field "
               "and double the quotes inside)");
  else if (*q == '\r')
    error_set ("a carriage return without a line feed");
  else
    error_set ("a NUL byte");
  return csv_error (c, c->line);
}

static size_t
count_lines (const char *p, size_t len)
{
  size_t n = 0;
  const char *nl;

  while ((nl = memchr (p, '\n', len)) != NULL) {
    n++;
    len -= (size_t) (nl + 1 - p);
    p = nl + 1;
  }
  return n;
}

/* A quoted field; c->p is on its opening quote. */
static int
csv_quoted (struct csv *c)
{
  size_t opened = c->line;

  c->p++;
  for (;;) {
    const char *q = memchr (c->p, '"', (size_t) (c->end - c->p));
    size_t len = q ? (size_t) (q - c->p) : 0;

    if (q == NULL) {
      error_set ("unterminated quoted field");
      return csv_error (c, opened);
    }
    if (memchr (c->p, '\0', len)) {
      error_set ("a NUL byte");
      return csv_error (c, c->line);
    }
    c->line += count_lines (c->p, len);
    if (csv_add (c, c->p, len) == -1)
      return -1;
    c->p = q + 1;
    if (c->p == c->end || *c->p != '"')
      break;
    if (csv_add (c, "\"", 1) == -1)
      return -1;
    c->p++;
  }
  if (c->p == c->end || *c->p == ',' || *c->p == '\n' ||
      (*c->p == '\r' && c->p + 1 < c->end && c->p[1] == '\n'))
    return 0;
  error_set ("a character after a closing quote");
  return csv_error (c, c->line);
}

static int
csv_field (struct csv *c)
{
  int r;

  if (c->offs.len == MAX_COLUMNS) {
    error_set ("more than %d fields", MAX_COLUMNS);
    return csv_error (c, c->line);
  }

  if (size_vector_append (&c->offs, c->buf.len) == -1)
    return -1;
  r = c->p < c->end && *c->p == '"' ? csv_quoted (c) : csv_plain (c);
  if (r == -1)
    return -1;
  return strbuf_add (&c->buf, "", 1);
}

/* Read one record: 1, or 0 at the end of the text, or -1. */
static int
csv_record (struct csv *c)
{
  const char *start = c->p;

  c->buf.len = 0;
  c->offs.len = 0;
  if (c->p == c->end)
    return 0;
  for (;;) {
    if (csv_field (c) == -1)
      return -1;
    if (c->p < c->end && *c->p == ',') {
      c->p++;
      continue;
    }
    break;
  }
  c->blank = c->p == start;
  if (c->p < c->end) {
    c->p += *c->p == '\r' ? 2 : 1;
    c->line++;
  }
  return 1;
}

static const char *
csv_value (const struct csv *c, size_t i)
{
  return c->buf.buf + c->offs.ptr[i];
}

static int
csv_header (struct csv *c, struct column *cols, size_t *ncols)
{
  size_t i, j;
  int r = csv_record (c);

  if (r == -1)
    return -1;
  if (r == 0 || c->blank) {
    error_set ("no header row");
    return csv_error (c, 1);
  }
  for (i = 0; i < c->offs.len; i++) {
    char buf[FIELD_MAX + 1];
    const char *key = trimmed (csv_value (c, i), buf);

    if (column_parse (key, &cols[i]) == -1)
      return error_prefix ("%s: line 1, field '%s': ", c->path, SHOWN (key));
    for (j = 0; j < i; j++)
      if (strcmp (cols[j].name, cols[i].name) == 0)
        return error_set ("%s: line 1, field '%s': column given twice",
                          c->path, SHOWN (key));
  }
  for (i = 0; i < c->offs.len; i++)
    if (cols[i].kind == COL_NAME)
      break;
  if (i == c->offs.len) {
    error_set ("no 'name' column");
    return csv_error (c, 1);
  }
  *ncols = c->offs.len;
  return 0;
}

/* A blank line ends the rows: only blank lines may follow it. */
static int
csv_blank_end (struct csv *c)
{
  size_t line = c->line - 1;

  if (blanks (c->p, (size_t) (c->end - c->p), "\r\n") <
      (size_t) (c->end - c->p)) {
    error_set ("a blank line between rows");
    return csv_error (c, line);
  }
  c->p = c->end;
  return 0;
}

static int
csv_row (struct csv *c, struct clone_plan *plan, size_t *cap,
         const struct column *cols, size_t ncols)
{
  struct where w = { c->path, plan->n + 1 };
  struct clone_spec *s;
  size_t i;

  if (c->offs.len != ncols)
    return error_set ("%s: row %zu: %zu fields where the header has %zu",
                      c->path, w.row, c->offs.len, ncols);
  s = plan_add (plan, cap);
  if (s == NULL)
    return -1;
  for (i = 0; i < ncols; i++)
    if (row_set (&w, s, &cols[i], csv_value (c, i)) == -1)
      return -1;
  return row_finish (&w, s);
}

static int
csv_parse (const char *path, const char *text, size_t len,
           struct clone_plan *plan)
{
  struct csv c = { path, text, text + len, 1, STRBUF_INIT, empty_vector,
                   false };
  struct column cols[MAX_COLUMNS];
  size_t ncols = 0, cap = 0;
  int r;

  r = csv_header (&c, cols, &ncols);
  while (r == 0 && (r = csv_record (&c)) == 1)
    r = c.blank ? csv_blank_end (&c) : csv_row (&c, plan, &cap, cols, ncols);
  strbuf_release (&c.buf);
  size_vector_reset (&c.offs);
  return r;
}

/* ---- JSON ------------------------------------------------------------- */

/* Bound what json-c will build before it builds it: an array of at most
 * CLONE_MAX_ROWS elements, each an object of at most MAX_COLUMNS scalar
 * members.  The count is of separators outside strings; a text that is
 * not JSON is refused by the parser afterwards. */
struct prescan {
  int depth;
  size_t rows, members;
  bool in_string, escaped;
};

static int
prescan_byte (struct prescan *s, char ch)
{
  if (s->in_string) {
    s->escaped = !s->escaped && ch == '\\';
    s->in_string = s->escaped || ch != '"';
    return 0;
  }
  if (ch == '"')
    s->in_string = true;
  else if (ch == '[' || ch == '{') {
    if (++s->depth > 2)
      return error_set ("row %zu: a value is an array or an object (values "
                        "are strings or numbers)", s->rows + 1);
    s->members = 0;
  }
  else if (ch == ']' || ch == '}')
    s->depth--;
  else if (ch == ',' && s->depth == 1 && ++s->rows >= CLONE_MAX_ROWS)
    return error_set ("more than %d rows", CLONE_MAX_ROWS);
  else if (ch == ',' && s->depth == 2 && ++s->members >= MAX_COLUMNS)
    return error_set ("row %zu: more than %d fields", s->rows + 1,
                      MAX_COLUMNS);
  return 0;
}

static int
json_prescan (const char *path, const char *text, size_t len)
{
  struct prescan s = { 0, 0, 0, false, false };
  size_t i;

  for (i = 0; i < len; i++)
    if (prescan_byte (&s, text[i]) == -1)
      return error_prefix ("%s: ", path);
  return 0;
}

/* The text of a JSON value for column `col`, or NULL (null: not given). */
static int
json_text (json_object *v, const struct column *col, char num[32],
           const char **out)
{
  bool numeric = col->kind == COL_CPUS || col->kind == COL_MEMORY;

  *out = NULL;
  switch (json_object_get_type (v)) {
  case json_type_null:
    return 0;
  case json_type_string:
    *out = json_object_get_string (v);
    if (strlen (*out) != (size_t) json_object_get_string_len (v))
      return error_set ("a NUL character");
    return 0;
  case json_type_int:
    if (!numeric)
      break;
    snprintf (num, 32, "%" PRId64, json_object_get_int64 (v));
    *out = num;
    return 0;
  default:
    break;
  }
  return error_set (numeric ? "not a string or a whole number" :
                    "not a string");
}

/* Where a column sits in a row's `seen` flags. */
static size_t
column_slot (const struct column *col)
{
  return col->kind < COL_MAC ? (size_t) col->kind :
    COL_MAC + (size_t) (col->kind - COL_MAC) * CLONE_MAX_NICS + col->nic;
}

static int
json_member (const struct where *w, struct clone_spec *s, const char *key,
             json_object *v, bool *seen)
{
  struct column col;
  const char *text;
  char num[32];

  if (column_parse (key, &col) == -1)
    return where_prefix (w, SHOWN (key));
  /* json-c keeps "mac" and "MAC" (or "mac1") apart: one column. */
  if (seen[column_slot (&col)])
    return error_set ("%s: row %zu, field '%s': given twice", w->path,
                      w->row, SHOWN (key));
  seen[column_slot (&col)] = true;
  if (json_text (v, &col, num, &text) == -1)
    return where_prefix (w, col.name);
  return text ? row_set (w, s, &col, text) : 0;
}

static int
json_row (const char *path, json_object *o, struct clone_plan *plan,
          size_t *cap)
{
  struct where w = { path, plan->n + 1 };
  struct json_object_iterator it, end;
  bool seen[MAX_COLUMNS] = { false };
  struct clone_spec *s;

  if (!json_object_is_type (o, json_type_object))
    return error_set ("%s: row %zu: not an object", path, w.row);
  s = plan_add (plan, cap);
  if (s == NULL)
    return -1;
  it = json_object_iter_begin (o);
  end = json_object_iter_end (o);
  while (!json_object_iter_equal (&it, &end)) {
    if (json_member (&w, s, json_object_iter_peek_name (&it),
                     json_object_iter_peek_value (&it), seen) == -1)
      return -1;
    json_object_iter_next (&it);
  }
  return row_finish (&w, s);
}

/* The whole text through json-c, strictly; NULL + error. */
static json_object *
json_read (const char *path, const char *text, size_t len)
{
  json_tokener *tok = json_tokener_new_ex (3);
  json_object *root;
  enum json_tokener_error err;
  size_t end;

  if (tok == NULL) {
    error_set ("%s: out of memory", path);
    return NULL;
  }
  json_tokener_set_flags (tok, JSON_TOKENER_STRICT |
                          JSON_TOKENER_VALIDATE_UTF8);
  root = json_tokener_parse_ex (tok, text, (int) len);
  err = json_tokener_get_error (tok);
  end = json_tokener_get_parse_end (tok);
  json_tokener_free (tok);
  if (root && err == json_tokener_success &&
      end <= len && blanks (text + end, len - end, " \t\r\n") == len - end)
    return root;
  json_object_put (root);
  error_set ("%s: line %zu: invalid JSON (%s)", path,
             1 + count_lines (text, MIN (end, len)),
             err == json_tokener_continue ? "unexpected end" :
             err == json_tokener_success ? "text after the array" :
             json_tokener_error_desc (err));
  return NULL;
}

static int
json_parse (const char *path, const char *text, size_t len,
            struct clone_plan *plan)
{
  json_object *root;
  size_t i, n, cap = 0;
  int r = 0;

  if (json_prescan (path, text, len) == -1)
    return -1;
  root = json_read (path, text, len);
  if (root == NULL)
    return -1;
  if (!json_object_is_type (root, json_type_array))
    r = error_set ("%s: a JSON manifest is an array of objects", path);
  n = r == 0 ? json_object_array_length (root) : 0;
  for (i = 0; i < n && r == 0; i++)
    r = json_row (path, json_object_array_get_idx (root, i), plan, &cap);
  json_object_put (root);
  return r;
}

/* ---- entry points ----------------------------------------------------- */

static int
manifest_parse (const char *path, const char *text, size_t len,
                struct clone_plan *plan)
{
  size_t skip;
  int r;

  if (len > CLONE_MAX_MANIFEST)
    return error_set ("%s: %zu bytes is too large (at most %u)", path, len,
                      CLONE_MAX_MANIFEST);
  if (len >= 3 && memcmp (text, "\xef\xbb\xbf", 3) == 0) {
    text += 3;
    len -= 3;
  }
  skip = blanks (text, len, " \t\r\n");
  if (skip == len)
    return error_set ("%s: empty manifest", path);
  r = text[skip] == '[' || text[skip] == '{' ? json_parse (path, text, len, plan) :
    csv_parse (path, text, len, plan);
  if (r == -1)
    return -1;
  if (plan->n == 0)
    return error_set ("%s: no rows", path);
  return check_unique (plan);
}

int
clone_manifest_parse (const char *path, const char *text, size_t len,
                      struct clone_plan *plan)
{
  memset (plan, 0, sizeof *plan);
  plan->source = xstrdup (path);
  if (plan->source == NULL || manifest_parse (path, text, len, plan) == -1) {
    clone_plan_free (plan);
    return -1;
  }
  return 0;
}

/* The length of the one integer conversion at `p` (just after '%'):
 * flags among "-+ 0", a width and a precision of at most two digits, then
 * d, i or u; 0 if it is none. */
static size_t
pattern_conversion (const char *p)
{
  size_t i = strspn (p, "-+ 0"), w;

  w = strspn (p + i, "0123456789");
  if (w > 2)
    return 0;
  i += w;
  if (p[i] == '.') {
    w = strspn (p + i + 1, "0123456789");
    if (w > 2)
      return 0;
    i += 1 + w;
  }
  return p[i] && strchr ("diu", p[i]) ? i + 1 : 0;
}

static int
pattern_check (const char *pattern)
{
  const char *p;
  size_t convs = 0, n;

  if (strlen (pattern) > CLONE_MAX_NAME)
    return error_set ("name pattern '%s': longer than %d bytes",
                      SHOWN (pattern), CLONE_MAX_NAME);
  for (p = strchr (pattern, '%'); p; p = strchr (p, '%')) {
    if (p[1] == '%') {
      p += 2;
      continue;
    }
    n = pattern_conversion (p + 1);
    if (n == 0 || ++convs > 1)
      return error_set ("name pattern '%s': one integer conversion (%%d, "
                        "%%02d, %%i, %%u) and no other %%", SHOWN (pattern));
    p += 1 + n;
  }
  if (convs == 0)
    return error_set ("name pattern '%s': no %%d to number the clones",
                      SHOWN (pattern));
  return 0;
}

static int
count_row (const char *pattern, unsigned i, struct clone_spec *s)
{
  char name[CLONE_MAX_NAME + 2];
  int len;

  len = snprintf (name, sizeof name, pattern, i);
  if (len < 0 || (size_t) len >= sizeof name)
    return error_set ("name pattern '%s': clone %u: name longer than %d "
                      "bytes", SHOWN (pattern), i, CLONE_MAX_NAME);
  if (check_name (name) == -1 || check_hostname (name) == -1)
    return error_prefix ("name pattern '%s': clone %u: ", SHOWN (pattern),
                         i);
  s->row = 0;
  if (set_str (&s->name, name) == -1 || set_str (&s->hostname, name) == -1)
    return -1;
  return 0;
}

int
clone_plan_count (unsigned count, const char *pattern,
                  struct clone_plan *plan)
{
  unsigned i;

  memset (plan, 0, sizeof *plan);
  if (count < 1 || count > CLONE_MAX_ROWS)
    return error_set ("clone count %u is out of range (1-%d)", count,
                      CLONE_MAX_ROWS);
  if (pattern_check (pattern) == -1)
    return -1;
  plan->specs = calloc (count, sizeof *plan->specs);
  if (plan->specs == NULL)
    return error_errno ("clone plan");
  /* Distinct integers print distinct names: no duplicate check needed. */
  for (i = 1; i <= count; i++) {
    plan->n = i;
    if (count_row (pattern, i, &plan->specs[i - 1]) == -1) {
      clone_plan_free (plan);
      return -1;
    }
  }
  return 0;
}
