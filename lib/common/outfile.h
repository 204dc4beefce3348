/* outfile.h: outputs appear only when complete.
 *
 * outfile_begin picks a temporary name beside the final one
 * (".NAME.ferry-tmp-PID-N"), which the caller creates and writes; the image
 * drivers fsync on close; outfile_commit renames it into place and fsyncs
 * the directory; outfile_abort (or SIGINT/SIGTERM/SIGHUP, once
 * outfile_install_signal_handlers ran) removes it.  A killed process leaves
 * at worst a hidden temporary, never a complete-looking output.
 */
#ifndef FERRY_OUTFILE_H
#define FERRY_OUTFILE_H

#include <stdbool.h>

struct outfile {
  char *final;            /* owned */
  char *tmp;              /* owned */
};

/* Refuses an existing final path unless `overwrite`. */
int outfile_begin (struct outfile *o, const char *final_path, bool overwrite);
int outfile_commit (struct outfile *o);
void outfile_abort (struct outfile *o);   /* safe after commit: no-op */
void outfile_install_signal_handlers (void);

#endif
