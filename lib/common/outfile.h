/* outfile.h: outputs appear only when complete.
 *
 * outfile_begin picks a temporary name beside the final one
 * (".NAME.ferry-tmp-PID-N"), which the caller creates and writes; the image
 * drivers fsync on close; outfile_commit renames it into place and fsyncs
 * the directory; outfile_abort (or SIGINT/SIGTERM/SIGHUP, once
 * outfile_install_signal_handlers ran) removes it.
 *
 * Signals: one handler serves the whole process.  It runs the cleanups
 * registered with outfile_on_signal (stagedir.h's), removes pending
 * temporaries, then dies of the signal.  Installing it is idempotent and
 * may happen before or after any outfile_begin or stagedir_begin; an
 * ignored SIGHUP (nohup) stays ignored.  A killed process leaves
 * at worst a hidden temporary, never a complete-looking output.
 */
#ifndef FERRY_OUTFILE_H
#define FERRY_OUTFILE_H

#include <stdbool.h>
#include <stddef.h>

struct outfile {
  char *final;            /* owned */
  char *tmp;              /* owned */
};

/* Refuses an existing final path unless `overwrite`. */
int outfile_begin (struct outfile *o, const char *final_path, bool overwrite);
int outfile_commit (struct outfile *o);
void outfile_abort (struct outfile *o);   /* safe after commit: no-op */
void outfile_install_signal_handlers (void);
/* Have the handler call `fn` (async-signal-safe, no locks, no malloc)
 * first.  Registering the same fn again is a no-op; at most 4.  -1 +
 * error when full. */
int outfile_on_signal (void (*fn) (void));

/* Create PATH, which must not exist, holding the `len` bytes of `data`,
 * fsynced and closed: a small file written straight into a directory that
 * appears only when complete (stagedir.h).  -1 + error ("'PATH': ..."); a
 * file left behind goes with the staging directory. */
int outfile_write_new (const char *path, const void *data, size_t len);

#endif
