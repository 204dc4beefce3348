/* convert-linux.c: convert a mounted Linux root for kvm, xen or native:
 * checks first (free space, a kernel with the drivers), then edits. */
#include "lib/common/compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/common/error.h"
#include "lib/common/strbuf.h"
#include "lib/common/strv.h"
#include "lib/guest/convert-linux.h"
#include "lib/guest/initrd.h"
#include "lib/guest/linux-kernel.h"
#include "lib/guest/session.h"

#define MIN_FREE_MIB 64

/* What a kernel must have for the target to boot at all. */
static const char *const need_kvm[] = { "virtio_pci", "virtio_blk",
                                        "virtio_scsi", "virtio_net", NULL };
static const char *const need_xen[] = { "xen-blkfront", "xen-netfront", NULL };
static const char *const need_native[] = { "ahci", "sd_mod", NULL };

/* What goes into the initramfs when the kernel has it as a module. */
static const char *const add_kvm[] = { "virtio_pci", "virtio_blk",
                                       "virtio_scsi", "virtio_net", "sd_mod",
                                       NULL };
static const char *const add_xen[] = { "xen-blkfront", "xen-netfront", NULL };
static const char *const add_native[] = { "ahci", "nvme", "sd_mod",
                                          "ata_piix", "e1000", "e1000e",
                                          "igb", "r8169", NULL };

static const struct initrd_ops *const initrd_table[] = {
  &initrd_dracut_ops, &initrd_tools_ops,
};

int
convert_target_check (const char *target)
{
  if (strcmp (target, "kvm") && strcmp (target, "xen") &&
      strcmp (target, "native"))
    return error_set ("unknown target '%s' (kvm, xen or native)", target);
  return 0;
}

void
convert_report_free (struct convert_report *rep)
{
  guest_changes_free (&rep->changes);
  free (rep->kernel);
  rep->kernel = NULL;
}

static const char *const *
target_list (const char *target, bool add)
{
  if (strcmp (target, "kvm") == 0)
    return add ? add_kvm : need_kvm;
  if (strcmp (target, "xen") == 0)
    return add ? add_xen : need_xen;
  return add ? add_native : need_native;
}

static int
check_free (guestfs_h *g, const char *dir)
{
  struct guestfs_statvfs *st;
  unsigned long long mib;

  if (guestfs_is_dir (g, dir) <= 0)
    return 0;
  if ((st = guestfs_statvfs (g, dir)) == NULL)
    return guest_error (g, dir);
  mib = (unsigned long long) st->bavail * (unsigned long long) st->bsize >> 20;
  guestfs_free_statvfs (st);
  if (mib < MIN_FREE_MIB)
    return error_set ("not enough free space in the guest: '%s' has %llu MiB "
                      "free, %d MiB needed to rebuild the initramfs", dir,
                      mib, MIN_FREE_MIB);
  return 0;
}

static size_t
count_strings (char **v)
{
  size_t n = 0;

  while (v && v[n])
    n++;
  return n;
}

/* One installed kernel and its module files. */
struct kernel {
  char *kver;
  char **modules;             /* paths under /lib/modules/KVER */
  char *builtin;              /* modules.builtin text, or NULL */
};

/* modules.dep still lists a module whose file was deleted: each listed
 * file of the drivers `target` needs or adds must exist, or it leaves the
 * list (a few is_file calls). */
static int
drop_missing (guestfs_h *g, const char *dir, const char *target,
              strv_vector *v)
{
  const char *const *lists[2] = { target_list (target, false),
                                  target_list (target, true) };
  size_t i, n = 0, l, d;

  for (i = 0; i < v->len; i++) {
    bool keep = true;
    for (l = 0; keep && l < 2; l++)
      for (d = 0; keep && lists[l][d]; d++)
        if (lkernel_path_is (v->ptr[i], lists[l][d])) {
          char *f = xasprintf ("%s/%s", dir, v->ptr[i]);
          int r = f ? guestfs_is_file (g, f) : -1;
          free (f);
          if (r == -1)
            return guest_error (g, dir);
          keep = r > 0;
        }
    if (keep)
      v->ptr[n++] = v->ptr[i];
    else
      free (v->ptr[i]);
  }
  v->len = n;
  return 0;
}

/* The kernel's modules as modules.dep lists them (one read; listing the
 * tree costs ~0.7 s under TCG), those of the target's drivers checked
 * on disk; *mods stays NULL without a usable modules.dep (absent,
 * empty), and the caller lists the tree. */
static int
modules_from_dep (guestfs_h *g, const char *dir, const char *target,
                  char ***mods)
{
  char *path = xasprintf ("%s/modules.dep", dir), *text = NULL;
  strv_vector v = empty_vector;
  size_t size;
  int n = 0;

  *mods = NULL;
  if (path == NULL)
    return -1;
  if (guestfs_is_file (g, path) > 0 &&
      (text = guest_read_file (g, path, &size)) == NULL)
    n = guest_error (g, path);
  if (text && lkernel_moddep_paths (text, &v) > 0) {
    if ((n = drop_missing (g, dir, target, &v)) == 0) {
      if (strv_vector_append (&v, NULL) == -1)
        n = error_errno ("%s", path);
      else {
        *mods = v.ptr;                  /* NULL-terminated: a strv */
        v = (strv_vector) empty_vector;
      }
    }
  }
  else if (text)
    error_clear ();             /* empty or odd: the tree is listed */
  strv_vector_free (&v);
  free (text);
  free (path);
  return n < 0 ? -1 : 0;
}

static int
kernel_load (guestfs_h *g, const char *kver, const char *target,
             struct kernel *k)
{
  char *dir = xasprintf ("/lib/modules/%s", kver), *bi;
  size_t size;

  k->kver = xstrdup (kver);
  if (dir == NULL || k->kver == NULL)
    goto fail;
  if (modules_from_dep (g, dir, target, &k->modules) == -1)
    goto fail;
  if (k->modules == NULL && (k->modules = guestfs_find (g, dir)) == NULL) {
    guest_error (g, dir);
    goto fail;
  }
  bi = xasprintf ("%s/modules.builtin", dir);
  if (bi && guestfs_is_file (g, bi) > 0)
    k->builtin = guest_read_file (g, bi, &size);
  free (bi);
  free (dir);
  return 0;
fail:
  free (dir);
  return -1;
}

static void
kernel_free (struct kernel *k)
{
  free (k->kver);
  strv_free (k->modules);
  free (k->builtin);
  memset (k, 0, sizeof *k);
}

static int
missing (const struct kernel *k, const char *const *drivers,
         struct strbuf *sb)
{
  return lkernel_missing_drivers ((const char *const *) k->modules,
                                  count_strings (k->modules), k->builtin,
                                  drivers, sb);
}

static int
by_version_desc (const void *a, const void *b)
{
  return -lkernel_version_cmp (*(char *const *) a, *(char *const *) b);
}

/* Installed kernels (with a /boot/vmlinuz-KVER), newest first. */
static char **
list_kernels (guestfs_h *g)
{
  char **dirs = guestfs_ls (g, "/lib/modules");
  size_t i, n = 0;

  if (dirs == NULL) {
    guest_error (g, "/lib/modules");
    return NULL;
  }
  for (i = 0; dirs[i]; i++) {
    char *vm = xasprintf ("/boot/vmlinuz-%s", dirs[i]);
    if (vm && guestfs_is_file_opts (g, vm, GUESTFS_IS_FILE_OPTS_FOLLOWSYMLINKS,
                                    1, -1) > 0)
      dirs[n++] = dirs[i];
    else
      free (dirs[i]);
    free (vm);
  }
  dirs[n] = NULL;
  qsort (dirs, n, sizeof *dirs, by_version_desc);
  return dirs;
}

static const char *
kernel_package_hint (const struct guest_root *root)
{
  const char *d = root->distro;

  if (strcmp (d, "debian") == 0)
    return "install linux-image-amd64";
  if (strcmp (d, "ubuntu") == 0)
    return "install linux-image-generic";
  if (strcmp (d, "sles") == 0 || strcmp (d, "opensuse") == 0)
    return "install kernel-default";
  if (strcmp (root->package_format, "rpm") == 0)
    return "install kernel-core and kernel-modules";
  return "install a kernel built with them";
}

static int
no_kernel_error (const struct guest_root *root, const char *target,
                 char **kvers, struct strbuf *why)
{
  const char *const *need = target_list (target, false);
  struct strbuf list = STRBUF_INIT;
  size_t i;

  for (i = 0; need[i]; i++)
    strbuf_addf (&list, "%s%s", i ? ", " : "", need[i]);
  error_set ("no installed kernel has the %s drivers (%s)%s%s: %s", target,
             list.buf, kvers[0] ? "; " : "; no kernel found",
             why->buf ? why->buf : "", kernel_package_hint (root));
  strbuf_release (&list);
  return -1;
}

/* Pick the newest kernel with the target's drivers into *k. */
static int
choose_kernel (guestfs_h *g, const struct guest_root *root,
               const char *target, struct kernel *k, bool *newest)
{
  char **kvers = list_kernels (g);
  struct strbuf why = STRBUF_INIT;
  size_t i;
  int r = -1;

  if (kvers == NULL)
    return -1;
  for (i = 0; kvers[i]; i++) {
    if (kernel_load (g, kvers[i], target, k) == -1) {
      kernel_free (k);
      goto out;
    }
    strbuf_addf (&why, "%s%s lacks ", i ? ", " : "", kvers[i]);
    if (missing (k, target_list (target, false), &why) == 0) {
      *newest = i == 0;
      r = 0;
      goto out;
    }
    kernel_free (k);
  }
  no_kernel_error (root, target, kvers, &why);
out:
  strbuf_release (&why);
  strv_free (kvers);
  return r;
}

/* The target's initramfs modules this kernel has as loadable modules. */
static const char **
modules_to_add (const struct kernel *k, const char *target)
{
  const char *const *want = target_list (target, true);
  const char **out;
  size_t i, n = 0;
  struct strbuf sb = STRBUF_INIT;

  out = calloc (16, sizeof *out);
  if (out == NULL)
    return NULL;
  for (i = 0; want[i] && n < 15; i++) {
    const char *one[] = { want[i], NULL };
    struct kernel mods_only = { .modules = k->modules };
    if (missing (&mods_only, one, &sb) == 0)
      out[n++] = want[i];
  }
  strbuf_release (&sb);
  return out;
}

static const struct initrd_ops *
detect_initrd (guestfs_h *g)
{
  size_t i;

  for (i = 0; i < sizeof initrd_table / sizeof initrd_table[0]; i++)
    if (initrd_table[i]->detect (g))
      return initrd_table[i];
  error_set ("no supported initramfs builder in the guest "
             "(initramfs-tools or dracut)");
  return NULL;
}

static int
backup_initrd (guestfs_h *g, const char *path, struct guest_changes *ch)
{
  char *bak = xasprintf ("%s.pre-ferry", path);
  int r = 0;

  if (bak == NULL)
    return -1;
  if (guestfs_is_file (g, path) > 0 && guestfs_exists (g, bak) == 0) {
    if (guestfs_cp (g, path, bak) == -1)
      r = guest_error (g, bak);
    else
      r = guest_changes_add (ch, "initramfs", bak, "previous initramfs "
                             "kept");
  }
  free (bak);
  return r;
}

static int
rebuild_initrd (guestfs_h *g, const struct guest_root *root,
                const struct initrd_ops *ops, const struct kernel *k,
                const char *target, struct guest_changes *ch)
{
  const char **mods = modules_to_add (k, target);
  char *path = NULL, *list = NULL, *why = NULL, *bak = NULL;
  struct strbuf sb = STRBUF_INIT;
  size_t i, kept = 0;
  int r = -1, fast;

  if (mods == NULL || (path = ops->path (g, root, k->kver)) == NULL)
    goto out;
  for (i = 0; mods[i]; i++)
    strbuf_addf (&sb, "%s%s", i ? " " : "", mods[i]);
  list = strbuf_detach (&sb);
  if (ops->configure (g, target, mods, ch) == -1 ||
      backup_initrd (g, path, ch) == -1 ||
      (fast = initrd_fast_add (g, k->kver, path, mods, &why)) == -1)
    goto out;
  if (fast == 1) {
    r = guest_changes_add (ch, "initramfs", path, "%s for %s: %s", list,
                           k->kver, why);
    goto out;
  }
  if (ops->rebuild (g, k->kver, path, target, mods) == -1)
    goto out;
  /* the builder's result gets the same proof as the fast path's */
  if ((bak = xasprintf ("%s.pre-ferry", path)) == NULL ||
      initrd_check_built (g, k->kver, path, bak, mods, &kept) == -1) {
    error_prefix ("%s: the image %s built fails its check: ", path,
                  ops->name);
    goto out;
  }
  r = guest_changes_add (ch, "initramfs", path, "rebuilt by %s for %s "
                         "with %s (no fast path: %s), checked (%zu modules "
                         "still loadable, the target's and the root "
                         "filesystem's resolve)", ops->name, k->kver, list,
                         why, kept);
out:
  free (mods);
  free (path);
  free (list);
  free (why);
  free (bak);
  return r;
}

/* Checks first (free space, an initramfs builder, a kernel with the
 * target's drivers), then the changes: a guest that cannot be converted
 * is refused before its first change (the overlay under it takes what
 * the read-write mount itself writes). */
int
convert_linux (guestfs_h *g, const struct guest_root *root,
               const char *target, struct convert_report *rep)
{
  struct guest_changes *ch = &rep->changes;
  const struct initrd_ops *ops;
  struct kernel k = { 0 };
  bool newest = true;
  int r = -1;

  if (convert_target_check (target) == -1 ||
      check_free (g, "/") == -1 || check_free (g, "/boot") == -1 ||
      (ops = detect_initrd (g)) == NULL ||
      choose_kernel (g, root, target, &k, &newest) == -1)
    return -1;
  rep->initrd_tool = ops->name;
  if ((rep->kernel = xstrdup (k.kver)) == NULL)
    goto out;
  if (linux_remove_foreign_tools (g, root, target, ch) == -1 ||
      linux_edit_devices (g, target, ch) == -1 ||
      linux_edit_network (g, target, ch) == -1 ||
      rebuild_initrd (g, root, ops, &k, target, ch) == -1 ||
      linux_update_bootloader (g, root, k.kver, newest, target, ch) == -1)
    goto out;
  r = 0;
out:
  kernel_free (&k);
  return r;
}
