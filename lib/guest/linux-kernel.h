/* linux-kernel.h: a Linux guest's kernels and their modules — version
 * order, which drivers a kernel lacks, initramfs module lists and
 * modules.dep closures.  Pure string functions; see linux-text.h for the
 * conventions.
 */
#ifndef FERRY_GUEST_LINUX_KERNEL_H
#define FERRY_GUEST_LINUX_KERNEL_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/common/strv.h"

struct strbuf;

/* /etc/initramfs-tools/modules: append the modules not listed yet. */
char *lkernel_modules_file_add (const char *text, const char *const *mods,
                                const char *comment, int *changed);

/* Compare kernel versions ("6.1.0-27-amd64" < "6.1.0-28-amd64" <
 * "6.10.0-1-amd64"): numeric runs compared as numbers. */
int lkernel_version_cmp (const char *a, const char *b);

/* Which of `drivers` (names as "virtio_blk" or "xen-blkfront": '-' and '_'
 * are the same) are neither among `module_paths` (any path ending in
 * NAME.ko, NAME.ko.xz, .ko.zst, .ko.gz) nor in `builtin` (the text of
 * modules.builtin).  Appends the missing names, comma-separated, to
 * *missing; returns how many are missing. */
int lkernel_missing_drivers (const char *const *module_paths, size_t n,
                             const char *builtin,
                             const char *const *drivers,
                             struct strbuf *missing);

/* modules.dep text ("kernel/a/x.ko: kernel/b/y.ko ...", paths relative to
 * /lib/modules/KVER): append to *out the paths of the modules `names`
 * (NULL-terminated; '-' and '_' alike, any .ko[.xz|.zst|.gz]) and of all
 * they depend on, dependencies first as depmod lists them, without
 * duplicates.  The text is the guest's, so hostile: a path that is
 * absolute, holds ".." or odd characters is an error; so is a name
 * without a line ("module 'x' is not in modules.dep"). */
/* Whether module path `path` (".../NAME.ko[.xz|.zst|.gz]") is driver
 * `drv` ('-' and '_' alike). */
bool lkernel_path_is (const char *path, const char *drv);

/* Every module modules.dep lists (the path before each ':'), appended to
 * *out in its order; hostile paths as above are an error.  Returns how
 * many, or -1. */
int lkernel_moddep_paths (const char *moddep, strv_vector *out);

int lkernel_moddep_closure (const char *moddep, const char *const *names,
                            strv_vector *out);

#endif
