/* inspect.c: libguestfs inspection turned into Ferry's guest_root list,
 * root choice (never silent) and mounting a root inside the appliance. */
#include "lib/common/compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/common/error.h"
#include "lib/common/strbuf.h"
#include "lib/common/strv.h"
#include "lib/guest/inspect.h"
#include "lib/guest/session.h"
#include "lib/guest/windows-reg.h"

static char *
dup_or (char *s, const char *dflt)
{
  return s ? s : xstrdup (dflt);
}

static int
by_mountpoint_length (const void *a, const void *b)
{
  const struct guest_mount *x = a, *y = b;
  size_t lx = strlen (x->mountpoint), ly = strlen (y->mountpoint);

  return lx < ly ? -1 : lx > ly ? 1 : strcmp (x->mountpoint, y->mountpoint);
}

static int
get_mounts (guestfs_h *g, const char *dev, guest_mount_vector *mounts)
{
  char **mp = guestfs_inspect_get_mountpoints (g, dev);
  size_t i;

  if (mp == NULL)
    return guest_error (g, "inspection: mountpoints");
  for (i = 0; mp[i] && mp[i + 1]; i += 2) {
    struct guest_mount m = { .mountpoint = mp[i], .device = mp[i + 1] };
    if (guest_mount_vector_append (mounts, m) == -1) {
      strv_free (mp + i);
      return -1;
    }
  }
  free (mp);
  qsort (mounts->ptr, mounts->len, sizeof *mounts->ptr, by_mountpoint_length);
  return 0;
}

/* The build number lives only in the SOFTWARE hive (libguestfs 1.48 has
 * no inspect_get_build_id): mount the root read-only for a moment. */
static char *
windows_build (guestfs_h *g, const struct guest_root *r)
{
  char *build = NULL;
  int64_t node;
  bool found;

  if (guestfs_mount_ro (g, r->device, "/") == -1) {
    guest_error (g, "inspection: mount");
    return NULL;
  }
  if (win_reg_open (g, r->software_hive, false) == 0) {
    node = win_reg_key (g, "Microsoft\\Windows NT\\CurrentVersion", false);
    if (node > 0)
      build = win_reg_get_string (g, node, "CurrentBuildNumber", &found);
    if (node > 0 && build == NULL)
      build = win_reg_get_string (g, node, "CurrentBuild", &found);
    win_reg_close (g);
  }
  guestfs_umount_all (g);
  return dup_or (build, "");
}

/* Arch, system root, ControlSet in use (libguestfs reads SYSTEM's
 * Select\Current), hive paths and build of a Windows root. */
static int
inspect_windows (guestfs_h *g, struct guest_root *r)
{
  const char *dev = r->device;

  r->arch = dup_or (guestfs_inspect_get_arch (g, dev), "unknown");
  r->systemroot = guestfs_inspect_get_windows_systemroot (g, dev);
  r->control_set = guestfs_inspect_get_windows_current_control_set (g, dev);
  r->system_hive = guestfs_inspect_get_windows_system_hive (g, dev);
  r->software_hive = guestfs_inspect_get_windows_software_hive (g, dev);
  if (!r->arch || !r->systemroot || !r->control_set || !r->system_hive ||
      !r->software_hive)
    return guest_error (g, "inspection: windows");
  r->build = windows_build (g, r);
  return r->build ? 0 : -1;
}

static int
inspect_one (guestfs_h *g, char *dev, struct guest_root *r)
{
  r->device = dev;
  r->type = dup_or (guestfs_inspect_get_type (g, dev), "unknown");
  r->distro = dup_or (guestfs_inspect_get_distro (g, dev), "unknown");
  r->product = dup_or (guestfs_inspect_get_product_name (g, dev), "unknown");
  r->package_format = dup_or (guestfs_inspect_get_package_format (g, dev),
                              "unknown");
  r->hostname = dup_or (guestfs_inspect_get_hostname (g, dev), "unknown");
  r->major = guestfs_inspect_get_major_version (g, dev);
  r->minor = guestfs_inspect_get_minor_version (g, dev);
  if (!r->type || !r->distro || !r->product || !r->package_format ||
      !r->hostname)
    return -1;
  if (strcmp (r->type, "windows") == 0 && inspect_windows (g, r) == -1)
    return -1;
  return get_mounts (g, dev, &r->mounts);
}

int
guest_inspect (guestfs_h *g, guest_root_vector *roots)
{
  char **devs = guestfs_inspect_os (g);
  size_t i;

  if (devs == NULL)
    return guest_error (g, "inspection");
  for (i = 0; devs[i]; i++) {
    struct guest_root r = { 0 };
    int ok = inspect_one (g, devs[i], &r);
    devs[i] = NULL;
    if (ok == -1 || guest_root_vector_append (roots, r) == -1) {
      /* r is not in roots: free its strings (cap 0 keeps &r itself). */
      guest_root_vector tmp = { .ptr = &r, .len = 1, .cap = 0 };
      guest_roots_free (&tmp);
      strv_free (devs + i + 1);
      free (devs);
      return -1;
    }
  }
  free (devs);
  return 0;
}

/* The first LUKS container among `devs`, or NULL (caller frees). */
static char *
find_luks (guestfs_h *g, char **devs)
{
  size_t i;
  char *type;
  bool luks;

  for (i = 0; devs && devs[i]; i++) {
    type = guestfs_vfs_type (g, devs[i]);
    luks = type && strcmp (type, "crypto_LUKS") == 0;
    free (type);
    if (luks)
      return xstrdup (devs[i]);
  }
  return NULL;
}

int
guest_explain_no_root (guestfs_h *g, const char *image)
{
  char **parts = guestfs_list_partitions (g);
  char **devs = guestfs_list_devices (g);
  char *luks = find_luks (g, parts);

  if (luks == NULL)
    luks = find_luks (g, devs);
  strv_free (parts);
  strv_free (devs);
  if (luks == NULL)
    return error_set ("'%s': no operating system found", image);
  error_set ("'%s': %s is encrypted (LUKS) and no key was given: cannot "
             "inspect or convert an encrypted guest", image, luks);
  free (luks);
  return -1;
}

int
guest_choose_root (const guest_root_vector *roots, const char *want)
{
  struct strbuf sb = STRBUF_INIT;
  size_t i;

  for (i = 0; i < roots->len; i++)
    if (want ? strcmp (want, roots->ptr[i].device) == 0 : roots->len == 1)
      return (int) i;
  for (i = 0; i < roots->len; i++)
    /* Copies of one system differ only in their hostname: show it. */
    strbuf_addf (&sb, "%s%s (%s %s, hostname %s)", i ? ", " : "",
                 roots->ptr[i].device, roots->ptr[i].distro,
                 roots->ptr[i].product, roots->ptr[i].hostname);
  if (want)
    error_set ("no operating system root '%s' (roots: %s)", want,
               sb.buf ? sb.buf : "none");
  else
    error_set ("several operating systems found: %s; choose one with "
               "--root DEV or --root ask (ferry.root=DEV in the agent)",
               sb.buf ? sb.buf : "none");
  strbuf_release (&sb);
  return -1;
}

int
guest_mount_root (guestfs_h *g, const struct guest_root *root, bool readonly)
{
  size_t i;
  int r;

  for (i = 0; i < root->mounts.len; i++) {
    const struct guest_mount *m = &root->mounts.ptr[i];
    r = readonly ? guestfs_mount_ro (g, m->device, m->mountpoint)
                 : guestfs_mount (g, m->device, m->mountpoint);
    if (r == -1) {
      guest_error (g, "mount");
      return error_prefix ("%s on %s: ", m->device, m->mountpoint);
    }
  }
  return 0;
}

void
guest_roots_free (guest_root_vector *roots)
{
  size_t i, j;

  for (i = 0; i < roots->len; i++) {
    struct guest_root *r = &roots->ptr[i];
    free (r->device);
    free (r->type);
    free (r->distro);
    free (r->product);
    free (r->package_format);
    free (r->hostname);
    free (r->arch);
    free (r->systemroot);
    free (r->control_set);
    free (r->system_hive);
    free (r->software_hive);
    free (r->build);
    for (j = 0; j < r->mounts.len; j++) {
      free (r->mounts.ptr[j].mountpoint);
      free (r->mounts.ptr[j].device);
    }
    free (r->mounts.ptr);
  }
  if (roots->ptr != NULL && roots->cap != 0)
    free (roots->ptr);
  roots->ptr = NULL;
  roots->len = roots->cap = 0;
}
