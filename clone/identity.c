/* identity.c: a batch of clones' identities applied in one appliance per
 * CLONE_DISKS_PER_LAUNCH disks — the golden's root found once, then each
 * clone's own filesystems mounted alone (see identity.h). */
#include "lib/common/compat.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clone/identity-int.h"
#include "lib/common/error.h"
#include "lib/common/progress.h"
#include "lib/common/strbuf.h"
#include "lib/common/strv.h"
#include "lib/guest/guest-edit.h"
#include "lib/guest/inspect.h"
#include "lib/guest/linux-devmap.h"
#include "lib/guest/session.h"

struct batch {
  const struct clone_spec *specs;
  size_t n, k;
  const char *const *paths, *const *formats;
  const struct clone_identity_opts *opts;
  struct clone_identity_result *results;
  struct guest_root root;     /* the golden's, from the first clone */
  bool have_root, lvm;
  double setup;               /* seconds of clone 0's own appliance */
  bool spread;                /* this group's overhead goes into setup */
  struct clone_keygen *keys;  /* SSH host keys made ahead */
  char tmpdir[64];
};

/* Batches of more clones than this inspect the golden in an appliance of
 * its own over the first clone's disks only, which then edits that clone:
 * libguestfs inspects every root it sees (about 9 s each under TCG for the
 * reference guest, against 13 s for a launch), and every clone holds one.
 * The other clones' appliance launches meanwhile, in a thread (one
 * libguestfs handle per thread; the two share no disk, so qemu's image
 * locks never meet). */
#define CLONE_INSPECT_ALONE_ABOVE 2

/* Clone `base`'s name for a device of the golden's root: /dev/sdXN (also
 * inside btrfsvol:) on appliance disk d becomes the same partition of
 * appliance disk base + d % k.  Inspection may name another clone's
 * partition (the clones share the golden's filesystem UUIDs, and fstab's
 * UUID= resolves to any of them): the clones being copies, the position
 * within the clone is what counts.  LVM and md names are the same in
 * every clone (LVM is filtered to one clone's disks). */
static char *
map_device (const char *dev, char *const *devs, size_t ndevs, size_t base,
            size_t k)
{
  const char *pfx = str_has_prefix (dev, "btrfsvol:") ? "btrfsvol:" : "";
  const char *d = dev + strlen (pfx), *rest;
  unsigned disk, part;
  char *name;
  int r;

  if (!str_has_prefix (d, "/dev/"))
    return xstrdup (dev);
  rest = d + 5 + strcspn (d + 5, "/");
  if ((name = strndup (d, (size_t) (rest - d))) == NULL) {
    error_errno ("identity");
    return NULL;
  }
  r = devmap_parse_name (name, &disk, &part);
  free (name);
  if (r == -1)
    return xstrdup (dev);
  disk %= (unsigned) k;
  if (base + disk >= ndevs) {
    error_set ("%s: no such disk in the appliance", dev);
    return NULL;
  }
  if (part == 0)
    return xasprintf ("%s%s%s", pfx, devs[base + disk], rest);
  return xasprintf ("%s%s%u%s", pfx, devs[base + disk], part, rest);
}

static void
free_mounts (guest_mount_vector *v)
{
  size_t i;

  for (i = 0; i < v->len; i++) {
    free (v->ptr[i].mountpoint);
    free (v->ptr[i].device);
  }
  free (v->ptr);
  v->ptr = NULL;
  v->len = v->cap = 0;
}

/* The golden root's mounts on clone `c` of the session. */
static int
map_mounts (const struct batch *b, char *const *devs, size_t ndevs, size_t c,
            guest_mount_vector *out)
{
  size_t i;

  for (i = 0; i < b->root.mounts.len; i++) {
    const struct guest_mount *m = &b->root.mounts.ptr[i];
    struct guest_mount nm = { xstrdup (m->mountpoint),
                              map_device (m->device, devs, ndevs, c * b->k,
                                          b->k) };
    if (nm.mountpoint == NULL || nm.device == NULL ||
        guest_mount_vector_append (out, nm) == -1) {
      free (nm.mountpoint);
      free (nm.device);
      free_mounts (out);
      return -1;
    }
  }
  return 0;
}

/* LVM sees only clone c's disks (the golden's PVs are on every clone). */
static int
lvm_only (guestfs_h *g, char **devs, size_t c, size_t k)
{
  char **sel = calloc (k + 1, sizeof *sel);
  int r;

  if (sel == NULL)
    return error_errno ("lvm");
  memcpy (sel, devs + c * k, k * sizeof *sel);
  r = guestfs_vg_activate_all (g, 0);
  if (r == 0)
    r = guestfs_lvm_set_filter (g, sel);
  if (r == 0)
    r = guestfs_vg_activate_all (g, 1);
  free (sel);
  return r == -1 ? guest_error (g, "lvm: filter to one clone's disks") : 0;
}

/* A root is the first clone's when its device is (LVM names are: the
 * filter shows only the first clone's PVs during inspection). */
static bool
on_first_clone (const char *dev, size_t k)
{
  const char *d = str_has_prefix (dev, "btrfsvol:") ? dev + 9 : dev;
  unsigned disk, part;
  char *name;
  bool r = true;

  if (!str_has_prefix (d, "/dev/"))
    return true;
  name = strndup (d, 5 + strcspn (d + 5, "/"));
  if (name && devmap_parse_name (name, &disk, &part) == 0)
    r = disk < k;
  free (name);
  return r;
}

static int
choose_root (struct batch *b, guestfs_h *g, guest_root_vector *roots)
{
  guest_root_vector mine = empty_vector;
  size_t i;
  int idx = -1;

  if (b->opts && b->opts->root)
    return guest_choose_root (roots, b->opts->root);
  for (i = 0; i < roots->len; i++)
    if (on_first_clone (roots->ptr[i].device, b->k) &&
        guest_root_vector_append (&mine, roots->ptr[i]) == -1) {
      free (mine.ptr);
      return -1;
    }
  if (mine.len == 0)
    idx = guest_explain_no_root (g, b->paths[0]);
  else if ((idx = guest_choose_root (&mine, NULL)) >= 0) {
    for (i = 0; i < roots->len; i++)
      if (roots->ptr[i].device == mine.ptr[idx].device)
        idx = (int) i;
  }
  free (mine.ptr);
  return idx;
}

/* Errors about the golden name it, not the first clone's temporary disk
 * through which it was seen: "'DISK': why" becomes "the golden image:
 * why".  Returns -1. */
static int
golden_error (const char *disk)
{
  const char *e = error_get ();
  size_t n = strlen (disk);
  char *why;

  if (e[0] != '\'' || strncmp (e + 1, disk, n) != 0 ||
      strncmp (e + 1 + n, "': ", 3) != 0)
    return error_prefix ("the golden image: ");
  why = xstrdup (e + n + 4);
  if (why == NULL)
    return -1;
  error_set ("the golden image: %s", why);
  free (why);
  return -1;
}

/* Inspect the first clone: its root, the OS family, its mounts. */
static int
find_golden_root (struct batch *b, guestfs_h *g, char **devs, size_t ndevs)
{
  guest_root_vector roots = empty_vector;
  guest_mount_vector check = empty_vector;
  int idx;

  if (b->lvm && lvm_only (g, devs, 0, b->k) == -1)
    return golden_error (b->paths[0]);
  if (guest_inspect (g, &roots) == -1)
    return golden_error (b->paths[0]);
  if (roots.len == 0) {
    guest_roots_free (&roots);
    guest_explain_no_root (g, b->paths[0]);
    return golden_error (b->paths[0]);
  }
  if ((idx = choose_root (b, g, &roots)) < 0) {
    guest_roots_free (&roots);
    return golden_error (b->paths[0]);
  }
  b->root = roots.ptr[idx];
  memset (&roots.ptr[idx], 0, sizeof roots.ptr[idx]);
  guest_roots_free (&roots);
  if (strcmp (b->root.type, "linux") != 0 &&
      strcmp (b->root.type, "windows") != 0)
    return error_set ("the golden image: unsupported operating system: %s "
                      "(%s); clone identity knows Linux and Windows",
                      b->root.type, b->root.product);
  if (map_mounts (b, devs, ndevs, 0, &check) == -1)
    return golden_error (b->paths[0]);
  free_mounts (&check);
  b->have_root = true;
  if (strcmp (b->root.type, "windows") == 0) {
    clone_keygen_stop (b->keys);      /* no SSH host keys to give */
    b->keys = NULL;
  }
  return 0;
}

static char *
os_name (const struct guest_root *r)
{
  if (strcmp (r->type, "windows") == 0)
    return xasprintf ("windows %d.%d", r->major, r->minor);
  return xasprintf ("%s %d", r->distro, r->major);
}

static void
fail_result (struct clone_identity_result *res)
{
  res->ok = false;
  free (res->error);
  res->error = xstrdup (error_get ());
}

/* Mount clone c alone, apply its identity, unmount. */
static int
edit_clone (struct batch *b, guestfs_h *g, char **devs, size_t ndevs,
            size_t c, size_t i)
{
  struct guest_root cr = b->root;
  struct clone_id_job job = { .g = g, .root = &b->root, .spec = &b->specs[i],
                              .opts = b->opts, .res = &b->results[i],
                              .tmpdir = b->tmpdir, .keys = b->keys,
                              .index = i };
  int r;

  cr.mounts = (guest_mount_vector) empty_vector;
  if (guestfs_umount_all (g) == -1)
    return guest_error (g, "unmount");
  if (b->lvm && lvm_only (g, devs, c, b->k) == -1)
    return -1;
  if (map_mounts (b, devs, ndevs, c, &cr.mounts) == -1)
    return -1;
  r = guest_mount_root (g, &cr, false);
  free_mounts (&cr.mounts);
  if (r == 0)
    r = strcmp (b->root.type, "windows") == 0 ? clone_id_windows (&job)
      : clone_id_linux (&job);
  /* Always unmount: the next clone's filesystems carry the same UUIDs. */
  if (guestfs_umount_all (g) == -1 && r == 0)
    r = guest_error (g, "unmount");
  if (b->lvm && guestfs_vg_activate_all (g, 0) == -1 && r == 0)
    r = guest_error (g, "lvm: deactivate");
  return r;
}

static void
edit_group (struct batch *b, guestfs_h *g, char **devs, size_t ndevs,
            size_t first, size_t count)
{
  size_t c;
  double t;

  for (c = 0; c < count; c++) {
    struct clone_identity_result *res = &b->results[first + c];
    t = monotonic_seconds ();
    res->os = os_name (&b->root);
    res->ok = edit_clone (b, g, devs, ndevs, c, first + c) == 0;
    if (!res->ok)
      fail_result (res);
    res->seconds = monotonic_seconds () - t;
  }
}

/* Results of a group whose appliance failed (launch or shutdown). */
static void
fail_group (struct batch *b, size_t first, size_t count, const char *why)
{
  char *w = xstrdup (why);
  size_t c;

  for (c = first; c < first + count; c++) {
    if (!b->results[c].ok && b->results[c].error)
      continue;
    error_set ("%s", w ? w : "out of memory");
    fail_result (&b->results[c]);
  }
  free (w);
}

static struct guest_session *
open_group (struct batch *b, size_t first, size_t count)
{
  struct guest_disk *disks = calloc (count * b->k, sizeof *disks);
  struct guest_session *s;
  size_t d;

  if (disks == NULL) {
    error_errno ("identity");
    return NULL;
  }
  for (d = 0; d < count * b->k; d++) {
    disks[d].path = b->paths[first * b->k + d];
    disks[d].format = b->formats[d % b->k];
  }
  s = guest_session_open (disks, count * b->k);
  free (disks);
  if (s && guest_session_launch (s) == -1) {
    guest_session_close (s);
    s = NULL;
  }
  return s;
}

static bool
has_vgs (guestfs_h *g)
{
  char **vgs = guestfs_vgs (g);
  bool r = vgs && vgs[0];

  strv_free (vgs);
  return r;
}

/* An appliance launched in a thread while another works. */
struct prelaunch {
  struct batch *b;
  size_t first, count;
  pthread_t th;
  bool started;
  struct guest_session *s;
  char *err;                  /* the thread's error when s is NULL */
};

static void *
prelaunch_run (void *opaque)
{
  struct prelaunch *pl = opaque;

  if ((pl->s = open_group (pl->b, pl->first, pl->count)) == NULL)
    pl->err = xstrdup (error_get ());
  return NULL;
}

static void
prelaunch_start (struct prelaunch *pl)
{
  pl->started = pthread_create (&pl->th, NULL, prelaunch_run, pl) == 0;
}

/* The launched session (launched here if the thread never started), or
 * NULL with the error set. */
static struct guest_session *
prelaunch_join (struct prelaunch *pl)
{
  if (!pl->started)
    return open_group (pl->b, pl->first, pl->count);
  pthread_join (pl->th, NULL);
  pl->started = false;
  if (pl->s == NULL)
    error_set ("%s", pl->err ? pl->err : "appliance launch failed");
  free (pl->err);
  pl->err = NULL;
  return pl->s;
}

/* One appliance for clones first .. first+count-1, launched here or in
 * `pre`; once it is up, `next` starts launching in its thread.  -1 only
 * while the golden is not known yet (nothing was changed). */
static int
run_group (struct batch *b, size_t first, size_t count,
           struct prelaunch *pre, struct prelaunch *next)
{
  double t0 = monotonic_seconds (), t1, t2, share;
  struct guest_session *s = pre ? prelaunch_join (pre)
    : open_group (b, first, count);
  guestfs_h *g;
  char **devs = NULL;
  size_t ndevs = 0, c;
  int r = 0;

  if (s == NULL && !b->have_root)
    return -1;
  if (s == NULL) {
    fail_group (b, first, count, error_get ());
    return 0;
  }
  if (next)
    prelaunch_start (next);
  g = guest_session_handle (s);
  if ((devs = guestfs_list_devices (g)) == NULL)
    r = guest_error (g, "list devices");
  while (devs && devs[ndevs])
    ndevs++;
  if (r == 0 && !b->have_root) {
    b->lvm = has_vgs (g);
    r = find_golden_root (b, g, devs, ndevs);
  }
  if (r == 0 && ndevs != count * b->k)
    r = error_set ("the appliance shows %zu disks, not %zu", ndevs,
                   count * b->k);
  if (r == -1 && !b->have_root) {
    strv_free (devs);
    guest_session_close (s);
    return -1;
  }
  t1 = monotonic_seconds ();
  if (r == 0)
    edit_group (b, g, devs, ndevs, first, count);
  else
    fail_group (b, first, count, error_get ());
  t2 = monotonic_seconds ();
  if (guest_session_shutdown (s) == -1)
    fail_group (b, first, count, error_get ());
  guest_session_close (s);
  strv_free (devs);
  share = (t1 - t0 + monotonic_seconds () - t2) / (double) count;
  if (b->spread) {
    b->setup += share * (double) count;
    share = 0;
  }
  share += b->setup / (double) b->n;
  for (c = first; c < first + count; c++)
    b->results[c].seconds += share;
  return 0;
}

static void
remove_tmpdir (const char *dir)
{
  DIR *d = opendir (dir);
  struct dirent *e;
  char path[512];

  while (d && (e = readdir (d)) != NULL)
    if (strcmp (e->d_name, ".") && strcmp (e->d_name, "..") &&
        snprintf (path, sizeof path, "%s/%s", dir, e->d_name) <
        (int) sizeof path)
      unlink (path);
  if (d)
    closedir (d);
  rmdir (dir);
}

static int
make_tmpdir (struct batch *b)
{
  const char *t = getenv ("TMPDIR");

  if (t == NULL || *t == '\0' || strlen (t) > 40)
    t = "/tmp";
  snprintf (b->tmpdir, sizeof b->tmpdir, "%s/ferry-keys.XXXXXX", t);
  if (mkdtemp (b->tmpdir) == NULL)
    return error_errno ("identity: temporary directory '%s'", b->tmpdir);
  return 0;
}

/* The golden's root (all zero when none was found: freeing is safe). */
static void
free_root (struct guest_root *root)
{
  guest_root_vector one = { .ptr = root, .len = 1, .cap = 0 };

  guest_roots_free (&one);
}

static void
report_done (const struct batch *b, size_t first, size_t count)
{
  size_t c;

  if (b->opts == NULL || b->opts->done == NULL)
    return;
  for (c = first; c < first + count; c++)
    b->opts->done (c, &b->results[c], b->opts->opaque);
}

/* Clone 0 in an appliance of its own (which inspects the golden), the
 * next group's appliance launching meanwhile. */
static int
first_apart (struct batch *b, size_t per)
{
  struct prelaunch pl = { .b = b, .first = 1,
                          .count = b->n - 1 < per ? b->n - 1 : per };
  struct guest_session *s;
  int r;

  b->spread = true;
  r = run_group (b, 0, 1, NULL, &pl);
  b->spread = false;
  if (r == -1) {               /* nothing was changed: say why */
    char *why = xstrdup (error_get ());
    s = pl.started ? prelaunch_join (&pl) : NULL;
    guest_session_close (s);
    error_set ("%s", why ? why : "out of memory");
    free (why);
    return -1;
  }
  report_done (b, 0, 1);
  r = run_group (b, 1, pl.count, &pl, NULL);
  if (r == 0)
    report_done (b, 1, pl.count);
  return r;
}

int
clone_identity_batch (const struct clone_spec *specs, size_t n,
                      const char *const *paths, const char *const *formats,
                      size_t k, const struct clone_identity_opts *opts,
                      struct clone_identity_result *results)
{
  struct batch b = { .specs = specs, .n = n, .k = k, .paths = paths,
                     .formats = formats, .opts = opts, .results = results };
  size_t first, per, count;
  int r = 0;

  if (k == 0 || k > CLONE_DISKS_PER_LAUNCH)
    return error_set ("identity: %zu disks per clone (1 to %d)", k,
                      CLONE_DISKS_PER_LAUNCH);
  if (n == 0)
    return 0;
  if (make_tmpdir (&b) == -1)
    return -1;
  /* Host keys are made while the appliances start. */
  b.keys = clone_keygen_start (b.tmpdir, specs, n);
  per = CLONE_DISKS_PER_LAUNCH / k;
  first = 0;
  if (n > CLONE_INSPECT_ALONE_ABOVE) {
    r = first_apart (&b, per);
    first = r == 0 ? 1 + (n - 1 < per ? n - 1 : per) : n;
  }
  for (; first < n && r == 0; first += count) {
    count = n - first < per ? n - first : per;
    r = run_group (&b, first, count, NULL, NULL);
    if (r == 0)
      report_done (&b, first, count);
  }
  clone_keygen_stop (b.keys);
  remove_tmpdir (b.tmpdir);
  free_root (&b.root);
  return r;
}

void
clone_identity_results_free (struct clone_identity_result *r, size_t n)
{
  size_t i;

  if (r == NULL)
    return;
  for (i = 0; i < n; i++) {
    free (r[i].error);
    free (r[i].os);
    strv_free (r[i].ssh_host_keys);
    guest_changes_free (&r[i].changes);
  }
  free (r);
}
