/* copy-int.h: the copy engine's private parts, shared by copy.c (the
 * writer side and the public API) and copy-reader.c (the reader thread).
 *
 * The reader walks the source's extents (and the used-block mask), reads
 * data chunks and hands them over in order through a small ring of
 * buffers; the calling thread writes them.  Reading (often from a cold
 * disk) and writing (page cache, compression) then overlap.
 */
#ifndef FERRY_COPY_INT_H
#define FERRY_COPY_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/common/progress.h"
#include "lib/image/copy.h"

#define CHUNK (4u * 1024 * 1024)      /* read size */
#define BLOCK (64u * 1024)            /* zero-detection / write unit */
#define SECTOR 512u
#define WINDOW (1ull << 30)           /* extents asked per call */
#define RING 4                        /* chunks in flight */

enum item_kind { ITEM_DATA, ITEM_ZERO, ITEM_END, ITEM_ERROR };

struct item {
  enum item_kind kind;
  uint64_t off, len;
  uint64_t bad;                       /* the reader's bytes_bad so far */
  unsigned char *buf;                 /* CHUNK bytes, owned by the ring */
  char *err;                          /* ITEM_ERROR: the reader's message */
};

struct ring {
  pthread_mutex_t lock;
  pthread_cond_t cond;
  struct item items[RING];
  uint64_t head, tail;                /* consumed / published counts */
  bool stop;                          /* the writer gave up */
};

struct copier {
  struct image *src, *dst;
  const struct copy_opts *opts;
  uint64_t size;                      /* bytes copied: opts->length or
                                         the source's size */
  uint64_t zeroed_to;                 /* writer, dirty_target: the target
                                         holds no old data before this */
  struct copy_stats *stats;           /* reader: bytes_read, bytes_bad, bad;
                                         writer: the rest */
  struct progress progress;
  uint64_t bad_seen;                  /* writer: last item's .bad */
  unsigned char *zerobuf, *basebuf;   /* writer side, overlay mode only */
  struct ring ring;
};

/* Reader thread body (copy-reader.c): publishes items until ITEM_END or
 * ITEM_ERROR, or until ring.stop is set. */
void *copy_reader_run (void *copier);

#endif
