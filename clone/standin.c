/* standin.c: TEMPORARY, REPLACED AT MERGE — minimal stand-ins for the
 * batch plan (clone/plan.h, branch clone-plan), so that `ferry clone
 * --count N` links and runs before it lands (the identity stand-in went
 * when clone-ident was merged).  Each block goes when
 * its branch is merged; nothing else may call into this file's details.
 */
#include "lib/common/compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* identity.h names struct clone_identity_result in a parameter list
 * before declaring it; declared here first so that it compiles. */
struct clone_identity_result;

#include "clone/identity.h"
#include "clone/plan.h"
#include "lib/common/error.h"
#include "lib/common/hash.h"
#include "lib/common/strbuf.h"

/* ---- plan.h (temporary, replaced at merge of clone-plan) ---------------- */

int
clone_manifest_parse (const char *path, const char *text, size_t len,
                      struct clone_plan *plan)
{
  (void) text;
  (void) len;
  (void) plan;
  return error_set ("'%s': manifests are not built yet (use --count)", path);
}

/* One %[flags][width]{d,i,u} and no other % but "%%". */
static int
pattern_ok (const char *p)
{
  int conv = 0;

  for (; *p; p++) {
    if (*p != '%')
      continue;
    if (p[1] == '%') {
      p++;
      continue;
    }
    p++;
    p += strspn (p, "-0 +#");
    p += strspn (p, "0123456789");
    if (*p != 'd' && *p != 'i' && *p != 'u')
      return -1;
    conv++;
  }
  return conv == 1 ? 0 : -1;
}

static int
name_ok (const char *n)
{
  size_t len = strlen (n);

  if (len == 0 || len > CLONE_MAX_NAME || n[0] == '.' || n[0] == '-')
    return -1;
  return strspn (n, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                 "0123456789._-") == len ? 0 : -1;
}

int
clone_plan_count (unsigned count, const char *pattern,
                  struct clone_plan *plan)
{
  char name[256];
  unsigned i;

  if (count == 0 || count > CLONE_MAX_ROWS)
    return error_set ("--count: %u is not 1-%d", count, CLONE_MAX_ROWS);
  if (pattern_ok (pattern) == -1)
    return error_set ("--name: '%s' needs one %%d (or %%i, %%u)", pattern);
  if ((plan->specs = calloc (count, sizeof *plan->specs)) == NULL)
    return error_errno ("malloc");
  for (i = 0; i < count; i++) {
    snprintf (name, sizeof name, pattern, (int) i + 1);
    if (name_ok (name) == -1)
      return error_set ("--name: '%s' is not a valid clone name", name);
    if ((plan->specs[i].name = xstrdup (name)) == NULL ||
        (plan->specs[i].hostname = xstrdup (name)) == NULL)
      return -1;
    plan->n = i + 1;
  }
  return 0;
}

/* SHA-256 of "seed/what/name/index" as bytes. */
static int
derive (const char *seed, const char *what, const char *name, unsigned idx,
        uint8_t out[32])
{
  char hex[HASH_HEX_MAX];
  char *s = xasprintf ("%s/%s/%s/%u", seed, what, name, idx);
  int i;

  if (s == NULL)
    return -1;
  if (hash_buffer_hex (HASH_SHA256, s, strlen (s), hex, false) == -1) {
    free (s);
    return -1;
  }
  free (s);
  for (i = 0; i < 32; i++)
    sscanf (hex + 2 * i, "%2hhx", &out[i]);
  return 0;
}

static bool
mac_taken (const struct clone_plan *plan, size_t upto, size_t nic,
           const struct clone_golden_nics *golden, const uint8_t mac[6])
{
  size_t i, j;

  for (i = 0; i < golden->n_macs; i++)
    if (memcmp (golden->macs[i], mac, 6) == 0)
      return true;
  for (i = 0; i <= upto && i < plan->n; i++)
    for (j = 0; j < plan->specs[i].n_nics && (i < upto || j < nic); j++)
      if (memcmp (plan->specs[i].nics[j].mac, mac, 6) == 0)
        return true;
  return false;
}

static int
derive_spec (struct clone_plan *plan, size_t i, const char *seed,
             const struct clone_golden_nics *golden)
{
  struct clone_spec *s = &plan->specs[i];
  uint8_t d[32];
  unsigned ctr;
  size_t j;

  if (derive (seed, "uuid", s->name, 0, d) == -1)
    return -1;
  memcpy (s->uuid, d, 16);
  s->uuid[6] = (uint8_t) ((s->uuid[6] & 0x0f) | 0x40);
  s->uuid[8] = (uint8_t) ((s->uuid[8] & 0x3f) | 0x80);
  if (derive (seed, "machine-id", s->name, 0, d) == -1)
    return -1;
  memcpy (s->machine_id, d, 16);
  s->machine_id[0] |= 1;
  if (s->n_nics < golden->n)
    s->n_nics = golden->n;
  for (j = 0; j < s->n_nics; j++) {
    if (s->nics[j].mac_given)
      continue;
    for (ctr = 0;; ctr++) {
      if (derive (seed, "mac", s->name, (unsigned) j * 65536 + ctr, d) == -1)
        return -1;
      memcpy (s->nics[j].mac, golden->prefix, 3);
      memcpy (s->nics[j].mac + 3, d, 3);
      if (!mac_taken (plan, i, j, golden, s->nics[j].mac))
        break;
    }
  }
  return 0;
}

int
clone_plan_derive (struct clone_plan *plan, const char *seed,
                   const struct clone_golden_nics *golden)
{
  size_t i;

  for (i = 0; i < plan->n; i++)
    if (derive_spec (plan, i, seed, golden) == -1)
      return -1;
  return 0;
}

bool
clone_plan_in_shard (size_t index, unsigned k, unsigned n)
{
  return n == 0 || index % n == k - 1;
}

int
clone_shard_parse (const char *s, unsigned *k, unsigned *n)
{
  char tail;

  if (sscanf (s, "%u/%u%c", k, n, &tail) != 2 || *k < 1 || *k > *n ||
      *n > 1000)
    return error_set ("'%s' is not K/N with 1 <= K <= N <= 1000", s);
  return 0;
}

void
clone_plan_free (struct clone_plan *plan)
{
  size_t i, j;

  if (plan == NULL)
    return;
  for (i = 0; i < plan->n; i++) {
    free (plan->specs[i].name);
    free (plan->specs[i].hostname);
    for (j = 0; j < CLONE_MAX_NICS; j++) {
      free (plan->specs[i].nics[j].ip);
      free (plan->specs[i].nics[j].gateway);
      free (plan->specs[i].nics[j].dns);
    }
  }
  free (plan->specs);
  plan->specs = NULL;
  plan->n = 0;
}
