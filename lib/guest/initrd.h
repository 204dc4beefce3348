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
#include "lib/common/strv.h"

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
 * uncompressed cpio archives (early microcode; on Debian 13 also the
 * kernel modules, already compressed .ko.xz/.ko.zst), then one compressed
 * cpio archive, the main one (gzip, xz, zstd, lz4...).  The kernel
 * unpacks them all, in order, into one rootfs: a later file replaces an
 * earlier one of the same name. */
struct archive;
struct archive_entry;

struct initrd_layout {
  uint64_t prefix_len;        /* bytes of the uncompressed archives */
  unsigned early;             /* how many uncompressed archives */
  bool has_main;              /* a compressed archive follows them */
  int filter;                 /* ARCHIVE_FILTER_* of the main archive */
};

/* Called for every entry of every archive, in the kernel's order; `name`
 * is cleaned ("./a", "/a" -> "a"; no ".."); `early`: in an uncompressed
 * archive.  fn may read the entry's data; -1 stops the walk. */
typedef int (*initrd_entry_fn) (struct archive *a, struct archive_entry *e,
                                const char *name, bool early, void *ctx);

/* Walk `path` (entries and unpacked bytes bounded); *lay says what was
 * found.  Returns 0 or -1 (error set). */
int initrd_image_walk (const char *path, initrd_entry_fn fn, void *ctx,
                       struct initrd_layout *lay);

/* The data of a (small, bounded) entry as a string into *out (replacing
 * and freeing the old one). */
int initrd_entry_text (struct archive *a, struct archive_entry *e,
                       const char *path, char **out);

/* For "usr/lib/modules/V/rest" or "lib/modules/V/rest": "rest" ("" for
 * the directory itself), with V in *kver (not terminated), *kver_len;
 * NULL for other names. */
const char *initrd_module_rel (const char *name, const char **kver,
                               size_t *kver_len);

struct initrd_image {
  uint64_t prefix_len;        /* bytes of the uncompressed archives */
  int filter;                 /* ARCHIVE_FILTER_* of the main archive */
  char *moddir;               /* "usr/lib/modules/KVER" or "lib/modules/KVER"
                               * (usr/ when both, through lib -> usr/lib) */
  char *conf_modules;         /* initramfs-tools' conf/modules, or NULL */
  bool modules_load_d;        /* etc/modules-load.d exists (systemd) */
  strv_vector names;          /* every entry of every archive, in order */
  size_t early_names;         /* names[0..early_names): uncompressed ones */
};

/* Read `path`: fill *im and extract the module tree of kernel `kver` of
 * EVERY archive (the union, later archives winning as in the kernel;
 * regular files and directories only, securely; old depmod outputs left
 * out) under `stage`/lib/modules/KVER, for depmod -b.  Entries are
 * bounded in number and size; hard links (dracut makes them) are kept as
 * links, within the module tree only.  Two spellings of the tree
 * (lib/modules and usr/lib/modules) are refused unless lib -> usr/lib. */
int initrd_image_read (const char *path, const char *kver, const char *stage,
                       struct initrd_image *im);
void initrd_image_free (struct initrd_image *im);

struct initrd_add {
  const char *kver;
  const char *stage;          /* depmod -b STAGE ran on STAGE/lib/modules/KVER */
  const char *moddir;         /* where modules live in the image */
  strv_vector modules;        /* new module files, relative to moddir */
  const char *conf_modules;   /* new conf/modules text, or NULL */
  const char *modules_load;   /* etc/modules-load.d/90-ferry.conf, or NULL */
};

/* Write `out` (created, must not exist): the uncompressed archives of `in`
 * byte for byte, then its main archive with `add`'s modules (and parent
 * directories no archive has), depmod's outputs from the stage instead of
 * the old ones and the configuration files, compressed as before when
 * that is gzip or zstd, else with gzip; *compression names the one used.
 *
 * Why everything new goes into the main archive, even when the guest's
 * modules sit in an uncompressed one (Debian 13): the kernel unpacks
 * every archive into one rootfs, so a module appended to the main
 * archive lands in the same directory as the early ones, and the indexes
 * written there come later than any old index in an early archive and
 * replace it (an early index depmod did not rewrite is refused: it would
 * stay stale).  initramfs-tools' unmkinitramfs/lsinitramfs and dracut's
 * lsinitrd read every archive, so the guest's tools see them too.  What
 * differs from the builder's own layout is only that a few already
 * compressed .ko.xz are compressed again; rewriting an uncompressed
 * archive instead would lose the byte-for-byte copy of the early part
 * (microcode) for no gain at boot.  The guest's next update-initramfs
 * puts them back where it wants them (configure recorded them). */
int initrd_image_write (const char *in, const struct initrd_image *im,
                        const struct initrd_add *add, const char *out,
                        const char **compression);

/* Every entry name of every archive of `path`, in order. */
int initrd_image_list (const char *path, strv_vector *names);

/* initrd-verify.c: the check before a conversion reports an initramfs.
 * From the NEW image file itself (every archive, as the kernel unpacks
 * them), prove for kernel `kver`:
 *  - the image has a module tree of `kver` with a modules.dep (and a
 *    modules.dep.bin when the old image had one);
 *  - every module the OLD image could load (its modules.dep closure over
 *    the module files present in it) is loadable from the new one: its
 *    line, its file and those of all it needs, recursively, are there,
 *    and modules.dep.bin, which modprobe reads, gives the same line;
 *  - each of `required` (names; '-' and '_' alike) is built in (the
 *    image's modules.builtin, else `builtin`) or loadable likewise.
 * Returns 0 (c->kept: how many old modules were proven still loadable),
 * or -1 with an error naming what failed ("initramfs check: ..."). */
struct initrd_check {
  const char *kver;
  const char *const *required;  /* NULL-terminated, or NULL */
  const char *builtin;          /* the kernel's modules.builtin, or NULL */
  size_t kept;                  /* out */
};
int initrd_verify (const char *old_path, const char *new_path,
                   struct initrd_check *c);

/* The module of the root filesystem in fstab text ("xfs"; ext2/ext3 ->
 * "ext4"), or NULL (no / line, "auto", odd names).  Caller frees. */
char *initrd_root_fs_module (const char *fstab);

/* initrd-fast.c: add the modules `mods` of kernel `kver` with their
 * dependencies to the guest's existing initramfs `path` without running
 * the guest's builder: download it, add the module files and depmod's
 * new indexes (host depmod -b over the image's modules plus the new
 * ones), the loader configuration (initramfs-tools conf/modules, systemd
 * modules-load.d), repack, check (initrd_verify on the repacked file:
 * old modules still loadable; `mods` and the root filesystem's module
 * from /etc/fstab resolve; the tree is kver's), upload.  Returns 1 when
 * done (*detail: what was added, caller frees), 0 when this fast path
 * does not apply or its result failed the check (*detail: why, starting
 * "the repacked image failed its check: " for the latter; nothing was
 * uploaded, and the caller then runs the builder), -1 on an error.
 * Test hook: FERRY_TEST_INITRD_DROP=NAME drops module NAME before depmod,
 * so that the check must fail. */
/* The builder's result gets the fast path's proof: `path` (the rebuilt
 * initramfs in the guest) must keep every module `old` (its *.pre-ferry
 * copy; NULL or missing: none) could load and resolve `mods` and the root
 * filesystem's module for `kver`.  0 with *kept (old modules still
 * loadable), or -1 with the error naming what is lost. */
int initrd_check_built (guestfs_h *g, const char *kver, const char *path,
                        const char *old, const char *const *mods,
                        size_t *kept);

/* Test hook: with FERRY_TEST_INITRD_DROP=NAME in the environment, remove
 * module NAME (any .ko*) from `stage` and from `added` (nothing
 * otherwise).  The fast path calls it before depmod. */
void initrd_test_drop (const char *stage, strv_vector *added);

/* Run the host's depmod -b STAGE KVER (quietly). */
int initrd_depmod (const char *stage, const char *kver);

int initrd_fast_add (guestfs_h *g, const char *kver, const char *path,
                     const char *const *mods, char **detail);

#endif
