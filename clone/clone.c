/* clone.c: a batch of clones — the golden VM read, the plan derived, each
 * clone's disks made under temporary names, identity applied to all of
 * them at once, each clone published when complete (clone.h). */
#include "lib/common/compat.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clone/clone-int.h"
#include "lib/common/cleanup.h"
#include "lib/common/error.h"
#include "lib/common/outfile.h"
#include "lib/common/progress.h"
#include "lib/common/strbuf.h"
#include "ova/libvirt.h"
#include "ova/ova-read.h"
#include "ova/xva-read.h"

static const char *const to_names[] = {
  [CLONE_TO_LIBVIRT] = "libvirt", [CLONE_TO_LIBVIRT_XEN] = "libvirt-xen",
  [CLONE_TO_OVA] = "ova", [CLONE_TO_XVA] = "xva", [CLONE_TO_NONE] = "none",
};

const char *
clone_to_name (enum clone_to t)
{
  if ((size_t) t >= sizeof to_names / sizeof to_names[0])
    return "?";
  return to_names[t];
}

int
clone_to_parse (const char *s, enum clone_to *t)
{
  size_t i;

  for (i = 0; i < sizeof to_names / sizeof to_names[0]; i++)
    if (strcmp (s, to_names[i]) == 0) {
      *t = (enum clone_to) i;
      return 0;
    }
  return error_set ("'%s' is not libvirt, libvirt-xen, ova, xva or none", s);
}

/* ---- the seed, the directory --------------------------------------------- */

static int
make_seed (const struct clone_opts *o, struct clone_report *r)
{
  uint8_t b[16];
  char hex[33];
  size_t i;

  if (o->seed) {
    r->seed = xstrdup (o->seed);
    return r->seed ? 0 : -1;
  }
  if (getrandom (b, sizeof b, 0) != (ssize_t) sizeof b)
    return error_errno ("getrandom");
  for (i = 0; i < sizeof b; i++)
    snprintf (hex + 2 * i, 3, "%02x", b[i]);
  r->seed = xstrdup (hex);
  r->seed_random = true;
  return r->seed ? 0 : -1;
}

/* DIR made if missing (its parent must exist), then made absolute. */
static int
ensure_dir (struct clone_batch *b)
{
  struct stat st;

  if (stat (b->o->dir, &st) == 0) {
    if (!S_ISDIR (st.st_mode))
      return error_set ("'%s' is not a directory", b->o->dir);
  } else if (errno != ENOENT)
    return error_errno ("'%s'", b->o->dir);
  else if (mkdir (b->o->dir, 0755) == -1)
    return error_errno ("'%s': mkdir", b->o->dir);
  else
    b->made_dir = true;
  if ((b->r->dir = realpath (b->o->dir, NULL)) == NULL)
    return error_errno ("'%s'", b->o->dir);
  return 0;
}

int
clone_fsync_dir (const char *dir)
{
  CLEANUP_CLOSE int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

  if (fd == -1 || fsync (fd) == -1)
    return error_errno ("'%s': fsync", dir);
  return 0;
}

/* ---- the plan ------------------------------------------------------------ */

static int
read_manifest (const char *path, struct strbuf *sb)
{
  CLEANUP_FCLOSE FILE *fp = fopen (path, "re");
  char buf[65536];
  size_t n;

  if (fp == NULL)
    return error_errno ("manifest '%s'", path);
  while ((n = fread (buf, 1, sizeof buf, fp)) > 0) {
    if (sb->len + n > CLONE_MAX_MANIFEST)
      return error_set ("manifest '%s': larger than %u bytes", path,
                        CLONE_MAX_MANIFEST);
    if (strbuf_add (sb, buf, n) == -1)
      return -1;
  }
  if (ferror (fp))
    return error_errno ("manifest '%s': read", path);
  return 0;
}

static int
plan_rows (struct clone_batch *b)
{
  struct strbuf sb = STRBUF_INIT;
  CLEANUP_FREE char *pattern = NULL;
  char stem[48];
  int r;

  if (b->o->manifest) {
    r = read_manifest (b->o->manifest, &sb);
    if (r == 0)
      r = clone_manifest_parse (b->o->manifest, sb.buf ? sb.buf : "", sb.len,
                                &b->r->plan);
    strbuf_release (&sb);
    return r;
  }
  if (b->o->name_pattern == NULL) {
    vm_make_stem (b->vm.name, SIZE_MAX, stem, sizeof stem);
    if ((pattern = xasprintf ("%s-%%02d", stem)) == NULL)
      return -1;
  }
  return clone_plan_count (b->o->count,
                           pattern ? pattern : b->o->name_pattern,
                           &b->r->plan);
}

static int
plan_derive (struct clone_batch *b)
{
  struct clone_golden_nics gn = {
    .n = b->vm.nics.len, .macs = (const uint8_t (*)[6]) b->golden_macs,
    .prefix = ova_target_mac_prefix (&b->target),
  };
  size_t i;

  for (i = 0; i < b->vm.nics.len && i < VM_MAX_NICS; i++)
    if (b->vm.nics.ptr[i].has_mac)
      memcpy (b->golden_macs[gn.n_macs++], b->vm.nics.ptr[i].mac, 6);
  return clone_plan_derive (&b->r->plan, b->r->seed, &gn);
}

static int
select_shard (struct clone_batch *b)
{
  struct clone_report *r = b->r;
  size_t i;

  r->clones = calloc (r->plan.n ? r->plan.n : 1, sizeof *r->clones);
  if (r->clones == NULL)
    return error_errno ("malloc");
  for (i = 0; i < r->plan.n; i++) {
    if (b->o->shard_n && !clone_plan_in_shard (i, b->o->shard_k,
                                               b->o->shard_n))
      continue;
    r->clones[r->n].index = i;
    r->clones[r->n].spec = &r->plan.specs[i];
    r->n++;
  }
  return 0;
}

/* ---- the batch ----------------------------------------------------------- */

static void
report_disks (struct clone_batch *b)
{
  size_t j;

  for (j = 0; j < b->k; j++) {
    b->r->disks[j].method = b->g[j].method;
    b->r->disks[j].why = b->g[j].why;
  }
}

static void
batch_free (struct clone_batch *b)
{
  size_t j;

  clone_names_free (b);
  for (j = 0; j < VM_MAX_DISKS; j++)
    cow_golden_close (&b->g[j]);
  ova_pkg_free (&b->pkg);
  stagedir_abort (&b->pkg_sd);
  vm_free (&b->vm);
}

/* Everything that can be refused is, before the first byte is written
 * (a package's disks go to a hidden staging directory, removed). */
static int
prepare (struct clone_batch *b)
{
  if (make_seed (b->o, b->r) == -1 || ensure_dir (b) == -1 ||
      clone_golden_load (b) == -1)
    return -1;
  if (plan_rows (b) == -1 || plan_derive (b) == -1 || select_shard (b) == -1)
    return -1;
  return clone_names_make (b);
}

static void
finish (struct clone_batch *b, double start)
{
  size_t i;

  report_disks (b);
  for (i = 0; i < b->r->n; i++) {
    if (b->r->clones[i].ok)
      b->r->n_ok++;
    else
      b->r->n_failed++;
  }
  b->r->seconds = monotonic_seconds () - start;
}

int
clone_run (const struct clone_opts *o, struct clone_report *r)
{
  struct clone_batch *b = calloc (1, sizeof *b);
  double start = monotonic_seconds ();
  int rc = -1;

  if (b == NULL)
    return error_errno ("malloc");
  b->o = o;
  b->r = r;
  r->to = o->to;
  r->shard_k = o->shard_k;
  r->shard_n = o->shard_n;
  vm_init (&b->vm);
  outfile_install_signal_handlers ();
  if (prepare (b) == 0 && clone_golden_stage (b) == 0) {
    clone_make_all (b);
    clone_identity_all (b);
    clone_publish_all (b);
    finish (b, start);
    rc = 0;
  }
  batch_free (b);
  if (rc == -1 && b->made_dir)
    rmdir (r->dir);
  free (b);
  return rc;
}

void
clone_report_free (struct clone_report *r)
{
  size_t i, j;

  if (r == NULL)
    return;
  for (i = 0; i < r->n; i++) {
    free (r->clones[i].error);
    for (j = 0; j < r->clones[i].n_files; j++)
      free (r->clones[i].files[j]);
    free (r->clones[i].definition);
  }
  free (r->clones);
  clone_identity_results_free (r->identity, r->n_identity);
  for (j = 0; j < r->n_disks; j++) {
    free (r->disks[j].path);
    free (r->disks[j].format);
    free (r->disks[j].staged);
  }
  clone_plan_free (&r->plan);
  free (r->seed);
  free (r->golden);
  free (r->dir);
  memset (r, 0, sizeof *r);
}
