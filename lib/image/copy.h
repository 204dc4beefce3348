/* copy.h: the copy engine — moves a virtual disk from one image to another
 * without knowing either format.  It reads only what the source's extents
 * (and an optional used-block mask) say holds data, skips all-zero blocks,
 * writes sparse, retries failed reads and, unless strict, zero-fills what
 * stays unreadable and reports it.
 */
#ifndef FERRY_COPY_H
#define FERRY_COPY_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/image/image.h"

struct copy_opts {
  const char *label;          /* progress label; NULL = source path */
  bool quiet;                 /* no progress meter even on a terminal */
  /* Only these ranges (sorted, non-overlapping) are read; everything else
   * is treated as zeros ("used-block" capture).  NULL = the whole disk. */
  const extent_vector *mask;
  /* The target already reads as this image (an overlay on its backing):
   * write only the chunks whose content differs from it.  NULL = the target
   * is fresh and reads as zeros. */
  struct image *base;
  /* The target holds old data (a disk deployed onto): every byte of it
   * the copy does not write is zeroed (image_zero: BLKZEROOUT on a
   * device), except in the ranges of keep_old (sorted, non-overlapping),
   * whose old contents no reader of the result ever sees (filesystems'
   * free space) or which the caller writes itself afterwards.  So the
   * result reads exactly as the source wherever it matters, however
   * dirty the disk was.  Not with base. */
  bool dirty_target;
  const extent_vector *keep_old;
  /* Copy only the first `length` bytes of the source (0: all of it): a
   * deploy onto a disk smaller than the image, whose data the caller has
   * moved in front of it. */
  uint64_t length;
  bool strict;                /* first unreadable range is fatal */
  unsigned retries;           /* extra attempts per failed read (default 2) */
  /* Called after each chunk with the bytes done and the bytes found
   * unreadable (zero-filled) so far, for callers that report progress
   * themselves (the capture agent's TUI).  Runs on the calling thread.
   * May be NULL. */
  void (*on_progress) (void *opaque, uint64_t done, uint64_t bad,
                       uint64_t total);
  void *opaque;
  /* image_convert: called with the finished and closed output, under its
   * temporary name, before it is published; -1 (error set) and nothing is
   * published (a boot check of the result).  May be NULL. */
  int (*before_publish) (void *publish_opaque, const char *tmp_path,
                         const char *format);
  void *publish_opaque;
};

struct copy_stats {
  uint64_t bytes_read;        /* read from the source */
  uint64_t bytes_written;     /* written to the target */
  uint64_t bytes_skipped;     /* holes, masked-out and all-zero ranges */
  uint64_t bytes_bad;         /* unreadable, written as zeros */
  uint64_t bytes_zeroed;      /* dirty_target: old data zeroed */
  extent_vector bad;          /* the unreadable ranges; caller frees .ptr */
  double seconds;
};

/* The stats as the JSON members every report shares ("bytes_read" ...
 * "unreadable_ranges", "seconds"), inside an object the caller opened. */
struct json;
void copy_stats_json (struct json *j, const struct copy_stats *s);

/* Copy src onto dst (same virtual size, or dst larger).  Returns 0 or -1.
 * stats is filled in either case (free stats->bad.ptr). */
int image_copy (struct image *src, struct image *dst,
                const struct copy_opts *opts, struct copy_stats *stats);

/* Split [offset, offset+length) into runs inside (EXTENT_DATA) and outside
 * (EXTENT_HOLE) the mask, appended to *out.  Exposed for the unit tests. */
int mask_split (const extent_vector *mask, uint64_t offset, uint64_t length,
                extent_vector *out);


/* image_pread, retried up to `retries` more times on media errors (EIO and
 * kin) — for metadata reads from dying disks. */
int image_pread_retry (struct image *img, void *buf, size_t count,
                       uint64_t offset, unsigned retries);
bool is_media_error (int err);

/* Create `path` as a new `format` image the size of src and copy src into
 * it, atomically: the data goes to a temporary name, is fsynced and renamed
 * into place only on success; on any failure (including ENOSPC) nothing is
 * left at `path`.  With create->backing the copy writes only what differs
 * from the backing.  `overwrite` allows replacing an existing file. */
int image_convert (struct image *src, const char *format, const char *path,
                   const struct image_create_opts *create,
                   const struct copy_opts *opts, bool overwrite,
                   struct copy_stats *stats);
#endif
