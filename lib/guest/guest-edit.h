/* guest-edit.h: editing a guest inside the appliance — running its
 * commands, rewriting its text files — and the list of changes made, the
 * record every guest edit keeps (conversion, clone's identity edits).
 *
 *   struct guest_changes ch = { 0 };
 *   if (guest_edit_file (g, "/etc/fstab", fn, ctx, &ch, "fstab",
 *                        "device names to UUID") == -1) ... error_get ()
 *   for (i = 0; i < ch.len; i++) ... ch.ptr[i].what ...
 *   guest_changes_free (&ch);
 *
 * The guest's filesystems must be mounted (guest_mount_root).
 */
#ifndef FERRY_GUEST_EDIT_H
#define FERRY_GUEST_EDIT_H

#include <stddef.h>

#include <guestfs.h>

struct guest_change {
  char *what;                 /* "initramfs", "fstab", "registry", ... */
  char *path;                 /* file in the guest, or "" */
  char *detail;               /* one line */
};

/* Every change made to a guest, in the order made; vector.h's shape (the
 * list owns ptr and the strings: guest_changes_free). */
struct guest_changes {
  struct guest_change *ptr;
  size_t len;
  size_t cap;
};

/* Append a change (copies the strings). */
int guest_changes_add (struct guest_changes *ch, const char *what,
                       const char *path, const char *fmt, ...)
  __attribute__ ((format (printf, 4, 5)));

void guest_changes_free (struct guest_changes *ch);

/* A guest file's bytes, NUL added after them (*size excludes it), or NULL
 * with libguestfs's error.  A file of up to GUEST_READ_ONE bytes comes in
 * one pread call (guestfs_read_file goes through a download, ~0.13 s
 * each under TCG); larger ones through guestfs_read_file. */
#define GUEST_READ_ONE (2u << 20)
char *guest_read_file (guestfs_h *g, const char *path, size_t *size);

/* Copy guest file `from` to host file `to` (created, 0644), the same way:
 * one call for a small file.  Returns 0 or -1 with the error set. */
int guest_fetch_file (guestfs_h *g, const char *from, const char *to);

/* Run a shell command in the guest; output discarded.  On failure the
 * error is "WHAT: <libguestfs error>". */
int guest_sh (guestfs_h *g, const char *what, const char *cmd);

/* A text transform for guest_edit_file: the new text (caller frees) or
 * NULL with an error; *changed > 0 when it differs from `text`. */
typedef char *(*guest_text_fn) (const char *text, void *ctx, int *changed);

/* Replace a guest file's text through `fn` and add (what, path, detail)
 * to *ch when it changed.  A missing file is not an error (nothing to
 * do). */
int guest_edit_file (guestfs_h *g, const char *path, guest_text_fn fn,
                     void *ctx, struct guest_changes *ch, const char *what,
                     const char *detail);

#endif
