/* clone-make.c: each clone's file names (refusing any that exist), its
 * disks made under hidden temporary names, and the identity step over
 * every clone of the batch in one call. */
#include "lib/common/compat.h"

#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clone/clone-int.h"
#include "lib/common/error.h"
#include "lib/common/outfile.h"
#include "lib/common/progress.h"
#include "lib/common/strbuf.h"

/* ---- temporaries removed on a signal ------------------------------------- */

/* The batch's temporaries, for the signal handler (async-signal-safe:
 * it only reads the array and unlinks). */
static char **volatile sig_tmp;
static volatile size_t sig_n;

static void
on_signal (void)
{
  size_t i;

  for (i = 0; sig_tmp && i < sig_n; i++)
    if (sig_tmp[i])
      unlink (sig_tmp[i]);
}

/* ---- names --------------------------------------------------------------- */

const char *
clone_disk_format (const struct clone_batch *b, size_t j)
{
  if (b->package && b->g[j].img == NULL)
    return clone_package_format (b->o->cow);
  return cow_clone_format (&b->g[j]);
}

static const char *
definition_ext (enum clone_to to)
{
  return to == CLONE_TO_OVA ? "ova" : to == CLONE_TO_XVA ? "xva"
    : to == CLONE_TO_NONE ? NULL : "xml";
}

static int
name_slot (struct clone_batch *b, size_t slot, const char *file, bool final)
{
  const char *dir = b->r->dir;

  b->tmp[slot] = xasprintf ("%s/.%s.ferry-clone-%ld", dir, file,
                            (long) getpid ());
  if (b->tmp[slot] == NULL)
    return -1;
  if (final && (b->final[slot] = xasprintf ("%s/%s", dir, file)) == NULL)
    return -1;
  return 0;
}

/* Disks STEM-diskN.FORMAT (temporaries only when a package holds them),
 * then the definition STEM.xml / STEM.ova / STEM.xva. */
static int
name_clone (struct clone_batch *b, size_t c)
{
  const char *ext = definition_ext (b->o->to);
  bool pkg = b->o->to == CLONE_TO_OVA || b->o->to == CLONE_TO_XVA;
  size_t base = c * (b->k + 1), j;
  char stem[CLONE_MAX_NAME + 1], file[CLONE_MAX_NAME + 32];

  vm_make_stem (b->r->clones[c].spec->name, SIZE_MAX, stem, sizeof stem);
  for (j = 0; j < b->k; j++) {
    snprintf (file, sizeof file, "%s-disk%zu.%s", stem, j + 1,
              clone_disk_format (b, j));
    if (name_slot (b, base + j, file, !pkg) == -1)
      return -1;
  }
  if (ext == NULL)
    return 0;
  snprintf (file, sizeof file, "%s.%s", stem, ext);
  return name_slot (b, base + b->k, file, true);
}

static int
refuse_existing (const char *path, const char *what)
{
  struct stat st;

  if (lstat (path, &st) == 0)
    return error_set ("'%s' exists (%s): refusing to overwrite it; pick "
                      "other names or another DIR", path, what);
  if (errno != ENOENT)
    return error_errno ("'%s'", path);
  return 0;
}

static int
check_names (struct clone_batch *b)
{
  size_t slots = b->r->n * (b->k + 1), i, j;
  char *p;

  for (i = 0; i < slots; i++)
    if ((b->final[i] &&
         refuse_existing (b->final[i], b->r->clones[i / (b->k + 1)]
                          .spec->name) == -1) ||
        (b->tmp[i] && refuse_existing (b->tmp[i], "a temporary") == -1))
      return -1;
  for (j = 0; j < b->k && b->package; j++) {
    if ((p = clone_golden_copy_path (b, j)) == NULL)
      return -1;
    i = (size_t) refuse_existing (p, "a golden copy");
    free (p);
    if (i)
      return -1;
  }
  return 0;
}

int
clone_names_make (struct clone_batch *b)
{
  size_t slots = b->r->n * (b->k + 1), c;

  b->final = calloc (slots + 1, sizeof *b->final);
  b->tmp = calloc (slots + 1, sizeof *b->tmp);
  b->made = calloc (b->r->n + 1, sizeof *b->made);
  if (b->final == NULL || b->tmp == NULL || b->made == NULL)
    return error_errno ("malloc");
  for (c = 0; c < b->r->n; c++)
    if (name_clone (b, c) == -1)
      return -1;
  if (check_names (b) == -1)
    return -1;
  sig_tmp = b->tmp;
  sig_n = slots;
  return outfile_on_signal (on_signal);
}

void
clone_names_free (struct clone_batch *b)
{
  size_t slots = b->r->n * (b->k + 1), i;

  sig_n = 0;
  sig_tmp = NULL;
  for (i = 0; b->final && i < slots; i++)
    free (b->final[i]);
  for (i = 0; b->tmp && i < slots; i++) {
    if (b->tmp[i])
      unlink (b->tmp[i]);
    free (b->tmp[i]);
  }
  free (b->final);
  free (b->tmp);
  free (b->made);
  b->final = b->tmp = NULL;
  b->made = NULL;
}

/* ---- making -------------------------------------------------------------- */

void
clone_drop_temps (struct clone_batch *b, size_t c)
{
  size_t j;
  char *p;

  for (j = 0; j <= b->k; j++) {
    p = b->tmp[c * (b->k + 1) + j];
    if (p == NULL)
      continue;
    unlink (p);
    b->tmp[c * (b->k + 1) + j] = NULL;
    free (p);
  }
}

void
clone_fail (struct clone_batch *b, size_t c)
{
  struct clone_result *cr = &b->r->clones[c];

  cr->ok = false;
  free (cr->error);
  cr->error = xstrdup (error_get ());
  clone_drop_temps (b, c);
  b->made[c] = false;
  if (b->o->on_clone)
    b->o->on_clone (b->o->opaque, cr, c + 1, b->r->n);
}

static int
make_clone (struct clone_batch *b, size_t c)
{
  struct clone_result *cr = &b->r->clones[c];
  size_t j, slot;
  struct cow_made made;

  for (j = 0; j < b->k; j++) {
    slot = c * (b->k + 1) + j;
    struct cow_make_opts mo = {
      .label = b->final[slot] ? b->final[slot] : cr->spec->name,
      .quiet = b->o->quiet,
    };
    if (cow_make (&b->g[j], b->tmp[slot], &mo, &made) == -1)
      return error_prefix ("%s: disk %zu: ", cr->spec->name, j + 1);
    cr->methods[j] = made.method;
  }
  return 0;
}

void
clone_make_all (struct clone_batch *b)
{
  size_t c;
  double t;

  for (c = 0; c < b->r->n; c++) {
    t = monotonic_seconds ();
    if (make_clone (b, c) == -1)
      clone_fail (b, c);
    else
      b->made[c] = true;
    b->r->clones[c].seconds += monotonic_seconds () - t;
  }
}

/* ---- identity ------------------------------------------------------------ */

struct ident_job {
  struct clone_spec *specs;
  const char **paths;
  const char *formats[VM_MAX_DISKS];
  size_t *which;              /* job index -> clone index */
  size_t m;
};

static int
ident_job_build (struct clone_batch *b, struct ident_job *jb)
{
  size_t c, j;

  jb->specs = calloc (b->r->n + 1, sizeof *jb->specs);
  jb->paths = calloc ((b->r->n + 1) * b->k, sizeof *jb->paths);
  jb->which = calloc (b->r->n + 1, sizeof *jb->which);
  if (jb->specs == NULL || jb->paths == NULL || jb->which == NULL)
    return error_errno ("malloc");
  for (j = 0; j < b->k; j++)
    jb->formats[j] = clone_disk_format (b, j);
  for (c = 0; c < b->r->n; c++) {
    if (!b->made[c])
      continue;
    jb->specs[jb->m] = *b->r->clones[c].spec;
    for (j = 0; j < b->k; j++)
      jb->paths[jb->m * b->k + j] = b->tmp[c * (b->k + 1) + j];
    jb->which[jb->m++] = c;
  }
  return 0;
}

static void
ident_apply (struct clone_batch *b, struct ident_job *jb, int rc)
{
  struct clone_identity_result *res = b->r->identity;
  size_t i, c;

  for (i = 0; i < jb->m; i++) {
    c = jb->which[i];
    if (rc == 0)
      b->r->clones[c].identity = &res[i];
    b->r->clones[c].seconds += rc == 0 ? res[i].seconds : 0;
    if (rc == 0 && res[i].ok)
      continue;
    if (rc == 0)
      error_set ("%s: identity: %s", b->r->clones[c].spec->name,
                 res[i].error ? res[i].error : "failed");
    clone_fail (b, c);
  }
}

void
clone_identity_all (struct clone_batch *b)
{
  struct ident_job jb = { .m = 0 };
  struct clone_identity_opts io = {
    .root = b->o->root, .unattend = b->o->unattend,
    .golden_macs = (const uint8_t (*)[6]) b->golden_macs,
  };
  size_t i;
  int rc = -1;

  if (b->o->no_identity)
    return;
  for (i = 0; i < b->vm.nics.len && i < VM_MAX_NICS; i++)
    io.n_golden_macs += b->vm.nics.ptr[i].has_mac;
  if (ident_job_build (b, &jb) == 0 && jb.m > 0 &&
      (b->r->identity = calloc (jb.m, sizeof *b->r->identity)) != NULL) {
    b->r->n_identity = jb.m;
    b->r->identity_run = true;
    rc = clone_identity_batch (jb.specs, jb.m, jb.paths, jb.formats, b->k,
                               &io, b->r->identity);
    if (rc == -1)
      error_prefix ("identity: ");
  } else if (jb.m > 0 && b->r->identity == NULL)
    error_errno ("malloc");
  if (jb.m > 0)
    ident_apply (b, &jb, rc);
  free (jb.specs);
  free (jb.paths);
  free (jb.which);
}
