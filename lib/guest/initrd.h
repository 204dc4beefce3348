/* initrd.h: the initramfs builders of Linux guests behind one small
 * interface: initramfs-tools (Debian/Ubuntu) and dracut (Fedora/RHEL,
 * Debian with dracut); SUSE's mkinitrd would be a third table.
 *
 * All functions run inside the appliance on the mounted guest root.
 */
#ifndef FERRY_GUEST_INITRD_H
#define FERRY_GUEST_INITRD_H

#include <stdbool.h>
#include <stdint.h>

#include <guestfs.h>

#include "lib/guest/convert.h"
#include "lib/guest/linux-text.h"

struct initrd_ops {
  const char *name;
  /* Is this the guest's builder? */
  bool (*detect) (guestfs_h *g);
  /* The initramfs file of kernel `kver` (it may not exist yet); caller
   * frees. */
  char *(*path) (guestfs_h *g, const struct guest_root *root,
                 const char *kver);
  /* Record the modules (and, for native, a generic image) in the guest's
   * own configuration, so later kernel updates keep them. */
  int (*configure) (guestfs_h *g, const char *target,
                    const char *const *mods, struct guest_changes *ch);
  /* Build `path` for `kver` with `mods`. */
  int (*rebuild) (guestfs_h *g, const char *kver, const char *path,
                  const char *target, const char *const *mods);
};

extern const struct initrd_ops initrd_dracut_ops, initrd_tools_ops;

/* initrd-cpio.c: an initramfs file on the host (downloaded from the guest,
 * so hostile), read and rewritten with libarchive.  Layout: zero or more
 * uncompressed cpio archives (early microcode), kept byte for byte, then
 * one compressed cpio archive, the main one. */
struct initrd_image {
  uint64_t prefix_len;        /* bytes of the early archives */
  int filter;                 /* ARCHIVE_FILTER_* of the main archive */
  char *moddir;               /* "usr/lib/modules/KVER" or "lib/modules/KVER" */
  char *conf_modules;         /* initramfs-tools' conf/modules, or NULL */
  bool modules_load_d;        /* etc/modules-load.d exists (systemd) */
  path_vector names;          /* every entry of the main archive */
};

/* Read `path`: fill *im and extract the main archive's module tree of
 * kernel `kver` (regular files and directories only, securely) under
 * `stage`/lib/modules/KVER, for depmod -b.  Entries are bounded in number
 * and size; hard links (dracut makes them) are kept as links, within the
 * module tree only. */
int initrd_image_read (const char *path, const char *kver, const char *stage,
                       struct initrd_image *im);
void initrd_image_free (struct initrd_image *im);

struct initrd_add {
  const char *kver;
  const char *stage;          /* depmod -b STAGE ran on STAGE/lib/modules/KVER */
  const char *moddir;         /* where modules live in the image */
  path_vector modules;        /* new module files, relative to moddir */
  const char *conf_modules;   /* new conf/modules text, or NULL */
  const char *modules_load;   /* etc/modules-load.d/90-ferry.conf, or NULL */
};

/* Write `out` (created, must not exist): the early archives of `in`, then
 * its main archive with `add`'s modules (and missing parent directories),
 * depmod's outputs from the stage instead of the old ones and the
 * configuration files, compressed as before when that is gzip or zstd,
 * else with gzip; *compression names the one used. */
int initrd_image_write (const char *in, const struct initrd_image *im,
                        const struct initrd_add *add, const char *out,
                        const char **compression);

/* Every entry name of the main archive of `path` (for verification). */
int initrd_image_list (const char *path, path_vector *names);

/* initrd-fast.c: add the modules `mods` of kernel `kver` with their
 * dependencies to the guest's existing initramfs `path` without running
 * the guest's builder: download it, add the module files and depmod's
 * new indexes (host depmod -b over the image's modules plus the new
 * ones), the loader configuration (initramfs-tools conf/modules, systemd
 * modules-load.d), repack, check, upload.  Returns 1 when done (*detail:
 * what was added, caller frees), 0 when this fast path does not apply
 * (*detail: why; the caller then runs the builder), -1 on an error. */
int initrd_fast_add (guestfs_h *g, const char *kver, const char *path,
                     const char *const *mods, char **detail);

#endif
