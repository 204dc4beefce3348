/* stagedir.h: output directories that appear only when complete.
 *
 * stagedir_begin makes a staging directory ".BASE.ferry-TAG-PID" beside
 * the final path OUTPUT (OUTPUT made absolute in s->final) and registers
 * it for removal on SIGINT/SIGTERM/SIGHUP.  The caller fills it, then
 * either stagedir_commit renames the directory itself onto the final
 * path (never replacing anything), or stagedir_commit_file renames one
 * file from inside it onto the final path (a package built with its
 * temporaries beside it).  stagedir_abort removes what is left, files and
 * subdirectories (symlinks are removed, never followed).
 *
 * Signals: stagedir_begin installs outfile.h's one process-wide handler
 * (idempotent, in any order with outfile_install_signal_handlers) and
 * has it remove every registered staging directory, with
 * async-signal-safe calls only, before the process dies of the signal.
 * An ignored SIGHUP (nohup) stays ignored.
 */
#ifndef FERRY_STAGEDIR_H
#define FERRY_STAGEDIR_H

#include <stdbool.h>
#include <sys/types.h>

struct stagedir {
  char *final;            /* absolute final path; owned */
  char *path;             /* the staging directory; owned; NULL: none */
  int slot;               /* 1 + index in the signal registry; 0: none
                             (a zeroed struct stagedir is empty) */
};

/* At most this many staging directories are registered at once. */
#define STAGEDIR_MAX 8

/* Refuses an OUTPUT that exists unless `allow_existing`, and names that
 * cannot be new entries ("/", ".", "..").  `tag` ("export") goes in the
 * staging name; `mode` is the directory's (0700 private, 0755 when the
 * directory itself becomes the output).  -1 + error; s is then empty. */
int stagedir_begin (struct stagedir *s, const char *output, const char *tag,
                    mode_t mode, bool allow_existing);
/* fsync the staging directory, rename it onto s->final with no replace,
 * fsync the parent.  The staging name is gone afterwards (s->path NULL). */
int stagedir_commit (struct stagedir *s);
/* Rename s->path/NAME onto s->final (replacing an existing file only if
 * `replace`), fsync the parent.  The staging directory stays, for
 * stagedir_abort to remove. */
int stagedir_commit_file (struct stagedir *s, const char *name, bool replace);
/* Remove the staging directory (if any) and free s; safe after commit and
 * on an empty s. */
void stagedir_abort (struct stagedir *s);

/* Remove directory PATH and everything under it, not following symlinks,
 * at most 16 levels deep, async-signal-safe.  Exposed for tests. */
void stagedir_remove_tree (const char *path);

#endif
