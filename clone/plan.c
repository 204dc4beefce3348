/* plan.c: each clone's outside identity (plan.h) — MACs, VM UUID and
 * machine-id derived by HMAC-SHA256 keyed by the seed, collisions resolved
 * the same way on every host — and the shards of a batch. */
#include "lib/common/compat.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "lib/common/checked.h"
#include "lib/common/error.h"
#include "lib/common/ids.h"
#include "clone/plan.h"

#define SEED_MAX 4096           /* bytes of a seed (HMAC takes an int) */
#define GOLDEN_MACS_MAX 1024    /* MACs of the golden VM we look at */
/* Tries per derived MAC.  With every MAC of the largest batch in one
 * vendor prefix (160 000 of 2^24) a try fails with odds under 1%: this
 * bound is never reached short of a broken digest. */
#define COUNTER_MAX 100000

/* ---- a set of MACs (open addressing over 48-bit keys) ----------------- */

struct mac_set {
  uint64_t *slot;             /* key | USED, or 0 */
  size_t mask;
};

#define USED (1ull << 63)

static uint64_t
mac_key (const uint8_t mac[6])
{
  uint64_t k = 0;
  size_t i;

  for (i = 0; i < 6; i++)
    k = k << 8 | mac[i];
  return k | USED;
}

static size_t
mac_hash (uint64_t k)
{
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdull;
  k ^= k >> 33;
  return (size_t) k;
}

static int
mac_set_init (struct mac_set *s, size_t n)
{
  size_t cap = 16;

  while (cap < 2 * n)
    cap *= 2;
  s->slot = calloc (cap, sizeof *s->slot);
  s->mask = cap - 1;
  return s->slot ? 0 : error_errno ("clone plan");
}

/* Whether `mac` is in the set; with `add`, put it there. */
static bool
mac_set_has (struct mac_set *s, const uint8_t mac[6], bool add)
{
  uint64_t k = mac_key (mac);
  size_t i = mac_hash (k) & s->mask;

  while (s->slot[i] != 0) {
    if (s->slot[i] == k)
      return true;
    i = (i + 1) & s->mask;
  }
  if (add)
    s->slot[i] = k;
  return false;
}

/* ---- derivation ------------------------------------------------------- */

/* HMAC-SHA256 (key: seed) of `n` NUL-separated parts. */
static int
hmac (const char *seed, const char *const *parts, size_t n,
      uint8_t digest[32])
{
  uint8_t msg[256];
  unsigned dlen = 0;
  size_t len = 0, i;

  for (i = 0; i < n; i++) {
    size_t plen = strlen (parts[i]);

    if (len + plen + 1 > sizeof msg)
      return error_set ("clone plan: name too long to derive from");
    if (i > 0)
      msg[len++] = '\0';
    memcpy (msg + len, parts[i], plen);
    len += plen;
  }
  if (HMAC (EVP_sha256 (), seed, (int) strlen (seed), msg, len, digest,
            &dlen) == NULL || dlen != 32)
    return error_set ("clone plan: HMAC-SHA256 failed");
  return 0;
}

/* Version 4 layout (RFC 4122 variant), as systemd makes machine-ids. */
static void
make_v4 (uint8_t id[16])
{
  id[6] = (uint8_t) ((id[6] & 0x0f) | 0x40);
  id[8] = (uint8_t) ((id[8] & 0x3f) | 0x80);
}

static int
derive_id (const char *seed, const char *label, const char *name,
           uint8_t id[16])
{
  const char *parts[] = { label, name };
  uint8_t d[32];

  if (hmac (seed, parts, 2, d) == -1)
    return -1;
  memcpy (id, d, 16);
  make_v4 (id);
  return 0;
}

static int
derive_mac (const char *seed, const char *name, size_t nic, unsigned counter,
            const uint8_t *prefix, uint8_t mac[6])
{
  char nic_text[24], counter_text[16];
  const char *parts[] = { "mac", name, nic_text, counter_text };
  uint8_t d[32];

  snprintf (nic_text, sizeof nic_text, "%zu", nic + 1);
  snprintf (counter_text, sizeof counter_text, "%u", counter);
  if (hmac (seed, parts, 4, d) == -1)
    return -1;
  if (prefix) {
    memcpy (mac, prefix, 3);
    memcpy (mac + 3, d, 3);
  }
  else {
    memcpy (mac, d, 6);
    mac[0] = (uint8_t) ((mac[0] & 0xfc) | 0x02);
  }
  return 0;
}

static bool
mac_zero (const uint8_t mac[6])
{
  static const uint8_t zero[6];

  return memcmp (mac, zero, 6) == 0;
}

/* The first MAC of the counter sequence that no one has yet. */
static int
derive_free_mac (const char *seed, const struct clone_spec *s, size_t nic,
                 const uint8_t *prefix, struct mac_set *set, uint8_t mac[6])
{
  unsigned counter;

  for (counter = 0; counter < COUNTER_MAX; counter++) {
    if (derive_mac (seed, s->name, nic, counter, prefix, mac) == -1)
      return -1;
    if (!mac_zero (mac) && !mac_set_has (set, mac, true))
      return 0;
  }
  return error_set ("clone '%s': no free MAC address found for NIC %zu",
                    s->name, nic + 1);
}

static int
given_error (const struct clone_plan *plan, const struct clone_spec *s,
             size_t nic, const char *what)
{
  char text[18], field[32];

  ids_mac_format (s->nics[nic].mac, text);
  if (nic == 0)
    snprintf (field, sizeof field, "mac");
  else
    snprintf (field, sizeof field, "mac%zu", nic + 1);
  if (plan->source)
    return error_set ("%s: row %zu, field '%s': %s %s", plan->source, s->row,
                      field, text, what);
  return error_set ("clone '%s', NIC %zu: %s %s", s->name, nic + 1, text,
                    what);
}

static bool
is_golden (const struct clone_golden_nics *g, const uint8_t mac[6])
{
  size_t i;

  for (i = 0; g->macs && i < g->n_macs; i++)
    if (memcmp (g->macs[i], mac, 6) == 0)
      return true;
  return false;
}

/* The golden's MACs, then every given MAC of the batch, into the set. */
static int
take_given (const struct clone_plan *plan,
            const struct clone_golden_nics *g, struct mac_set *set)
{
  size_t i, j;

  for (i = 0; g->macs && i < g->n_macs; i++)
    mac_set_has (set, g->macs[i], true);
  for (i = 0; i < plan->n; i++)
    for (j = 0; j < plan->specs[i].n_nics; j++) {
      const struct clone_nic *nic = &plan->specs[i].nics[j];

      if (!nic->mac_given)
        continue;
      if (is_golden (g, nic->mac))
        return given_error (plan, &plan->specs[i], j,
                            "is the golden VM's MAC address");
      if (mac_set_has (set, nic->mac, true))
        return given_error (plan, &plan->specs[i], j,
                            "is given to two NICs of the batch");
    }
  return 0;
}

static int
derive_spec (struct clone_spec *s, const char *seed,
             const struct clone_golden_nics *g, struct mac_set *set)
{
  size_t j;

  if (s->name == NULL || strlen (s->name) > CLONE_MAX_NAME)
    return error_set ("clone plan: a clone without a valid name");
  s->n_nics = MAX (s->n_nics, g->n);
  for (j = 0; j < s->n_nics; j++)
    if (!s->nics[j].mac_given &&
        derive_free_mac (seed, s, j, g->prefix, set, s->nics[j].mac) == -1)
      return -1;
  if (derive_id (seed, "uuid", s->name, s->uuid) == -1 ||
      derive_id (seed, "machine-id", s->name, s->machine_id) == -1)
    return -1;
  return 0;
}

static int
check_inputs (const struct clone_plan *plan, const char *seed,
              const struct clone_golden_nics *g)
{
  if (seed == NULL || strlen (seed) > SEED_MAX)
    return error_set ("clone plan: the seed is missing or longer than %d "
                      "bytes", SEED_MAX);
  if (g->n > CLONE_MAX_NICS)
    return error_set ("clone plan: the golden VM has %zu NICs (at most %d)",
                      g->n, CLONE_MAX_NICS);
  if (g->n_macs > GOLDEN_MACS_MAX)
    return error_set ("clone plan: the golden VM has %zu MACs (at most %d)",
                      g->n_macs, GOLDEN_MACS_MAX);
  if (g->prefix && (g->prefix[0] & 0x01))
    return error_set ("clone plan: MAC prefix %02x:%02x:%02x is a multicast "
                      "address", g->prefix[0], g->prefix[1], g->prefix[2]);
  if (plan->n > CLONE_MAX_ROWS)
    return error_set ("clone plan: more than %d clones", CLONE_MAX_ROWS);
  return 0;
}

int
clone_plan_derive (struct clone_plan *plan, const char *seed,
                   const struct clone_golden_nics *golden)
{
  struct mac_set set;
  size_t i;
  int r;

  if (check_inputs (plan, seed, golden) == -1 ||
      mac_set_init (&set, plan->n * CLONE_MAX_NICS + golden->n_macs) == -1)
    return -1;
  r = take_given (plan, golden, &set);
  for (i = 0; i < plan->n && r == 0; i++)
    r = derive_spec (&plan->specs[i], seed, golden, &set);
  free (set.slot);
  return r;
}

/* ---- shards ----------------------------------------------------------- */

bool
clone_plan_in_shard (size_t index, unsigned k, unsigned n)
{
  return n > 0 && k >= 1 && index % n == k - 1;
}

/* A decimal of 1-4 digits without sign or leading zero; the rest in *end. */
static int
shard_number (const char *s, unsigned *v, const char **end)
{
  size_t n = strspn (s, "0123456789");
  unsigned x = 0;
  size_t i;

  if (n == 0 || n > 4 || s[0] == '0')
    return -1;
  for (i = 0; i < n; i++)
    x = x * 10 + (unsigned) (s[i] - '0');
  *v = x;
  *end = s + n;
  return 0;
}

int
clone_shard_parse (const char *s, unsigned *k, unsigned *n)
{
  const char *p;
  unsigned a, b;

  if (shard_number (s, &a, &p) == -1 || *p != '/' ||
      shard_number (p + 1, &b, &p) == -1 || *p != '\0')
    return error_set ("shard '%s': not K/N (like 2/8)", s);
  if (b > 1000 || a > b)
    return error_set ("shard '%s': K/N needs 1 <= K <= N <= 1000", s);
  *k = a;
  *n = b;
  return 0;
}

void
clone_plan_free (struct clone_plan *plan)
{
  size_t i, j;

  if (plan == NULL)
    return;
  for (i = 0; plan->specs && i < plan->n; i++) {
    struct clone_spec *s = &plan->specs[i];

    free (s->name);
    free (s->hostname);
    for (j = 0; j < CLONE_MAX_NICS; j++) {
      free (s->nics[j].ip);
      free (s->nics[j].gateway);
      free (s->nics[j].dns);
    }
  }
  free (plan->specs);
  free (plan->source);
  memset (plan, 0, sizeof *plan);
}
