/* linux-text.h: the pure text transforms of Linux guest conversion, and
 * the line helpers they share.
 *
 * The transforms are split by concern, one prefix each:
 *   linux-devmap.h  devmap_   device names -> UUIDs, fstab/crypttab
 *   linux-boot.h    lboot_    kernel command line, GRUB
 *   linux-kernel.h  lkernel_  kernel versions, modules, modules.dep
 *   linux-net.h     lnet_     MAC pins, ifupdown
 *   linux-text.h    ltext_    line helpers, shell KEY=value files
 * Every function works on strings only (no appliance), so that the unit
 * tests (tests/unit/test-convert-linux.c) cover them.  Transforms take a
 * file's text and return a new malloc'd text the caller frees (NULL with
 * the error set on ENOMEM), and add the number of edits made to *changed
 * (0: the text is returned unchanged).
 */
#ifndef FERRY_GUEST_LINUX_TEXT_H
#define FERRY_GUEST_LINUX_TEXT_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/guest/linux-devmap.h"

struct strbuf;

/* Shell-style KEY=value lines (initramfs-tools conf.d/resume: RESUME=):
 * a device name value becomes UUID=... */
char *ltext_kv_rewrite_device (const char *text, const char *key,
                               const devmap *m, int *changed);

/* Set KEY=value (replacing the first uncommented KEY= line, else appended). */
char *ltext_kv_set (const char *text, const char *key, const char *value,
                    int *changed);

/* ---- line helpers for the linux-*.c transforms ---- */

/* Called on each line (without its '\n'); appends the new line to out. */
typedef int (*ltext_line_fn) (const char *line, size_t len, void *ctx,
                              struct strbuf *out);

/* Run fn over every line of text; the new text, or NULL with the error. */
char *ltext_each_line (const char *text, ltext_line_fn fn, void *ctx);

/* The line is empty, blank or a '#' comment. */
bool ltext_blank_or_comment (const char *line, size_t len);

/* Find whitespace-separated field k: [*start, *end). */
bool ltext_find_field (const char *line, size_t len, int k, size_t *start,
                       size_t *end);

/* Split `KEY=value` (value optionally quoted) of a shell assignment:
 * [*vstart, *vend) is the value inside its quotes, *quote the quote
 * character or '\0'.  False when the line does not assign KEY. */
bool ltext_split_assignment (const char *line, size_t len, const char *key,
                             size_t *vstart, size_t *vend, char *quote);

#endif
