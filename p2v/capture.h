/* capture.h: the capture pipeline — one source disk to one image, reading
 * only the blocks its filesystems use (usedmap.h), through the copy engine.
 */
#ifndef FERRY_CAPTURE_H
#define FERRY_CAPTURE_H

#include <stdbool.h>

#include "image/copy.h"
#include "image/image.h"
#include "usedmap.h"

struct capture_opts {
  const char *format;                 /* "vhd", "vmdk", "qcow2", "raw" */
  struct image_create_opts create;
  bool all_blocks;                    /* no used-block map: zero-skip only */
  bool strict;                        /* first unreadable sector is fatal */
  unsigned retries;
  bool quiet;                         /* no progress meter */
  bool overwrite;
};

struct capture_result {
  uint64_t source_size;
  struct usedmap map;                 /* empty with all_blocks */
  struct copy_stats stats;
};

/* Capture `source` (block device, file standing in for one, or nbd:// URI;
 * always opened read-only) into a new image at `output`.  The output
 * appears only when complete. */
int capture_one (const char *source, const char *output,
                 const struct capture_opts *opts, struct capture_result *res);
void capture_result_free (struct capture_result *res);

#endif
