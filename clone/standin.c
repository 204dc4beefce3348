/* standin.c: TEMPORARY, REPLACED AT MERGE — a stand-in for identity
 * (clone/identity.h, branch clone-ident), so that `ferry clone --count N
 * --no-identity` links and runs before it lands.  (The plan's stand-ins
 * went when branch clone-plan was merged.)  Delete this file when
 * clone-ident is merged.
 */
#include "lib/common/compat.h"

#include <stdlib.h>

/* identity.h names struct clone_identity_result in a parameter list
 * before declaring it; declared here first so that it compiles. */
struct clone_identity_result;

#include "clone/identity.h"
#include "lib/common/error.h"

/* ---- identity.h (temporary, replaced at merge of clone-ident) ----------- */

int
clone_identity_batch (const struct clone_spec *specs, size_t n,
                      const char *const *paths, const char *const *formats,
                      size_t k, const struct clone_identity_opts *opts,
                      struct clone_identity_result *results)
{
  (void) specs;
  (void) n;
  (void) paths;
  (void) formats;
  (void) k;
  (void) opts;
  (void) results;
  return error_set ("identity not built yet (use --no-identity)");
}

void
clone_identity_results_free (struct clone_identity_result *r, size_t n)
{
  size_t i, j;

  if (r == NULL)
    return;
  for (i = 0; i < n; i++) {
    free (r[i].error);
    free (r[i].os);
    for (j = 0; r[i].ssh_host_keys && r[i].ssh_host_keys[j]; j++)
      free (r[i].ssh_host_keys[j]);
    free (r[i].ssh_host_keys);
    guest_changes_free (&r[i].changes);
  }
  free (r);
}
