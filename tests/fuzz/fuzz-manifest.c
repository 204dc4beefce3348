/* fuzz-manifest.c: libFuzzer harness for clone manifests — parse the input
 * as CSV or JSON; when it is accepted, the plan must hold only safe names
 * and valid values, derive deterministically to distinct unicast MACs, and
 * survive a round trip through the CSV it describes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/common/error.h"
#include "lib/common/strbuf.h"
#include "clone/plan.h"

static const uint8_t prefix[3] = { 0x52, 0x54, 0x00 };
static const uint8_t golden_macs[1][6] = { { 0x52, 0x54, 0x00, 1, 2, 3 } };
static const struct clone_golden_nics golden = {
  .n = 1, .macs = golden_macs, .n_macs = 1, .prefix = prefix,
};

static void
die (const char *what)
{
  fprintf (stderr, "%s: %s\n", what, error_get ());
  abort ();
}

static void
add_nic_cells (struct strbuf *sb, const struct clone_nic *nic)
{
  char mac[18] = "";

  if (nic->mac_given)
    snprintf (mac, sizeof mac, "%02x:%02x:%02x:%02x:%02x:%02x", nic->mac[0],
              nic->mac[1], nic->mac[2], nic->mac[3], nic->mac[4], nic->mac[5]);
  strbuf_addf (sb, ",%s,%s,%s,\"%s\"", mac, nic->ip ? nic->ip : "",
               nic->gateway ? nic->gateway : "", nic->dns ? nic->dns : "");
}

/* The CSV manifest that says what `p` says. */
static void
write_csv (const struct clone_plan *p, struct strbuf *sb)
{
  size_t i, j;

  strbuf_adds (sb, "name,hostname,cpus,memory");
  for (j = 1; j <= CLONE_MAX_NICS; j++)
    strbuf_addf (sb, ",mac%zu,ip%zu,gateway%zu,dns%zu", j, j, j, j);
  strbuf_adds (sb, "\r\n");
  for (i = 0; i < p->n; i++) {
    const struct clone_spec *s = &p->specs[i];

    strbuf_addf (sb, "%s,%s,", s->name, s->hostname);
    if (s->cpus)
      strbuf_addf (sb, "%u", s->cpus);
    strbuf_adds (sb, ",");
    if (s->memory_mib)
      strbuf_addf (sb, "%llu", (unsigned long long) s->memory_mib);
    for (j = 0; j < CLONE_MAX_NICS; j++)
      add_nic_cells (sb, &s->nics[j]);
    strbuf_adds (sb, "\n");
  }
}

static int
str_differ (const char *a, const char *b)
{
  return (a == NULL) != (b == NULL) || (a && strcmp (a, b) != 0);
}

static void
check_same (const struct clone_spec *a, const struct clone_spec *b)
{
  size_t j;

  if (strcmp (a->name, b->name) != 0 || strcmp (a->hostname, b->hostname) ||
      a->cpus != b->cpus || a->memory_mib != b->memory_mib)
    die ("round trip changed a clone");
  for (j = 0; j < CLONE_MAX_NICS; j++)
    if (a->nics[j].mac_given != b->nics[j].mac_given ||
        (a->nics[j].mac_given && memcmp (a->nics[j].mac, b->nics[j].mac, 6)) ||
        str_differ (a->nics[j].ip, b->nics[j].ip) ||
        str_differ (a->nics[j].gateway, b->nics[j].gateway) ||
        str_differ (a->nics[j].dns, b->nics[j].dns))
      die ("round trip changed a NIC");
}

static void
round_trip (const struct clone_plan *p)
{
  struct strbuf sb = STRBUF_INIT;
  struct clone_plan again;
  size_t i;

  write_csv (p, &sb);
  if (clone_manifest_parse ("again.csv", sb.buf, sb.len, &again) == -1)
    die ("own CSV refused");
  if (again.n != p->n)
    die ("round trip changed the row count");
  for (i = 0; i < p->n; i++)
    check_same (&p->specs[i], &again.specs[i]);
  clone_plan_free (&again);
  strbuf_release (&sb);
}

static int
mac_cmp (const void *a, const void *b)
{
  return memcmp (a, b, 6);
}

/* Every MAC unicast, none the golden's, all distinct. */
static void
check_macs (const struct clone_plan *p)
{
  uint8_t (*all)[6] = calloc (p->n * CLONE_MAX_NICS + 1, 6);
  size_t i, j, n = 0;

  if (all == NULL)
    abort ();
  for (i = 0; i < p->n; i++)
    for (j = 0; j < p->specs[i].n_nics; j++) {
      const uint8_t *m = p->specs[i].nics[j].mac;

      if ((m[0] & 1) || memcmp (m, golden_macs[0], 6) == 0)
        die ("bad MAC derived");
      memcpy (all[n++], m, 6);
    }
  qsort (all, n, 6, mac_cmp);
  for (i = 1; i < n; i++)
    if (memcmp (all[i - 1], all[i], 6) == 0)
      die ("duplicate MAC");
  free (all);
}

static void
check_names (const struct clone_plan *p)
{
  size_t i;

  for (i = 0; i < p->n; i++) {
    const char *name = p->specs[i].name;

    if (name[0] == '.' || name[0] == '-' || strchr (name, '/') ||
        strstr (name, "..") || strlen (name) > CLONE_MAX_NAME ||
        strspn (name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                "0123456789._-") != strlen (name))
      die ("unsafe name accepted");
  }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct clone_plan p;
  uint8_t uuid[16];

  if (clone_manifest_parse ("fuzz", (const char *) data, size, &p) == -1) {
    if (strchr (error_get (), '\n'))
      die ("error of more than one line");
    return 0;
  }
  check_names (&p);
  /* Large plans are the unit test's; here they would only slow the
   * search down. */
  if (p.n > 64) {
    clone_plan_free (&p);
    return 0;
  }
  round_trip (&p);
  if (clone_plan_derive (&p, "fuzz", &golden) == -1) {
    clone_plan_free (&p);
    return 0;
  }
  check_macs (&p);
  memcpy (uuid, p.specs[0].uuid, 16);
  if (clone_plan_derive (&p, "fuzz", &golden) == -1 ||
      memcmp (uuid, p.specs[0].uuid, 16) != 0)
    die ("derivation not deterministic");
  clone_plan_free (&p);
  return 0;
}
