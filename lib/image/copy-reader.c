/* copy-reader.c: the copy engine's reader thread — walks extents and the
 * used-block mask, reads chunks (retrying, salvaging unreadable sectors)
 * and publishes them in order to the writer (copy-int.h). */
#include "lib/common/compat.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/common/checked.h"
#include "lib/common/error.h"
#include "lib/image/copy-int.h"

/* Wait for a free ring slot; NULL when the writer has stopped. */
static struct item *
slot_acquire (struct copier *c)
{
  struct ring *r = &c->ring;
  struct item *it = NULL;

  pthread_mutex_lock (&r->lock);
  while (r->tail - r->head == RING && !r->stop)
    pthread_cond_wait (&r->cond, &r->lock);
  if (!r->stop)
    it = &r->items[r->tail % RING];
  pthread_mutex_unlock (&r->lock);
  return it;
}

static void
slot_publish (struct copier *c)
{
  pthread_mutex_lock (&c->ring.lock);
  c->ring.tail++;
  pthread_cond_broadcast (&c->ring.cond);
  pthread_mutex_unlock (&c->ring.lock);
}

static int
emit (struct copier *c, enum item_kind kind, uint64_t off, uint64_t len)
{
  struct item *it = slot_acquire (c);

  if (it == NULL)
    return -1;
  it->kind = kind;
  it->off = off;
  it->len = len;
  it->bad = c->stats->bytes_bad;
  slot_publish (c);
  return 0;
}

static int
try_read (struct copier *c, void *buf, size_t len, uint64_t off)
{
  unsigned attempt;

  for (attempt = 0; ; attempt++) {
    if (image_pread (c->src, buf, len, off) == 0)
      return 0;
    if (!is_media_error (errno))
      return -1;
    if (attempt >= c->opts->retries)
      return 1;
  }
}

static int
record_bad (struct copier *c, void *buf, size_t len, uint64_t off)
{
  memset (buf, 0, len);
  c->stats->bytes_bad += len;
  return extent_add (&c->stats->bad, off, len, EXTENT_DATA);
}

/* Read a range that failed as a whole: narrow down to sectors, zero-fill
 * the ones that stay unreadable. */
static int
read_salvage (struct copier *c, unsigned char *buf, size_t len, uint64_t off,
              size_t unit)
{
  size_t i;

  for (i = 0; i < len; i += unit) {
    size_t n = MIN (unit, len - i);
    int r = try_read (c, buf + i, n, off + i);

    if (r == -1)
      return -1;
    if (r == 0)
      continue;
    if (unit > SECTOR && n > SECTOR) {
      if (read_salvage (c, buf + i, n, off + i, SECTOR) == -1)
        return -1;
    }
    else if (record_bad (c, buf + i, n, off + i) == -1)
      return -1;
  }
  return 0;
}

static int
read_chunk (struct copier *c, unsigned char *buf, size_t len, uint64_t off)
{
  int r = try_read (c, buf, len, off);

  if (r <= 0)
    return r;
  if (c->opts->strict)
    return error_prefix ("unreadable source (--strict): ");
  return read_salvage (c, buf, len, off, BLOCK);
}

static int
read_data_run (struct copier *c, uint64_t off, uint64_t len)
{
  uint64_t end = off + len;

  while (off < end) {
    /* Keep chunks aligned so targets see aligned writes. */
    uint64_t next = (off / CHUNK + 1) * CHUNK;
    size_t n = (size_t) (MIN (next, end) - off);
    struct item *it = slot_acquire (c);

    if (it == NULL)
      return -1;
    if (next < end)
      image_prefetch (c->src, next, MIN ((uint64_t) CHUNK, end - next));
    if (read_chunk (c, it->buf, n, off) == -1)
      return -1;
    c->stats->bytes_read += n;
    it->kind = ITEM_DATA;
    it->off = off;
    it->len = n;
    /* bytes_bad is the reader's; the writer sees it through the item. */
    it->bad = c->stats->bytes_bad;
    slot_publish (c);
    off += n;
  }
  return 0;
}

static int
read_extent (struct copier *c, const struct extent *e)
{
  extent_vector runs = empty_vector;
  size_t i;
  int r = 0;

  if (e->type != EXTENT_DATA)
    return emit (c, ITEM_ZERO, e->offset, e->length);
  if (c->opts->mask == NULL)
    return read_data_run (c, e->offset, e->length);
  if (mask_split (c->opts->mask, e->offset, e->length, &runs) == -1)
    return -1;
  for (i = 0; r == 0 && i < runs.len; i++)
    r = runs.ptr[i].type == EXTENT_DATA
      ? read_data_run (c, runs.ptr[i].offset, runs.ptr[i].length)
      : emit (c, ITEM_ZERO, runs.ptr[i].offset, runs.ptr[i].length);
  extent_vector_reset (&runs);
  return r;
}

static int
read_window (struct copier *c, uint64_t off, uint64_t len)
{
  extent_vector ext = empty_vector;
  size_t i;
  int r;

  r = image_extents (c->src, off, len, &ext);
  for (i = 0; r == 0 && i < ext.len; i++)
    r = read_extent (c, &ext.ptr[i]);
  extent_vector_reset (&ext);
  return r;
}

void *
copy_reader_run (void *arg)
{
  struct copier *c = arg;
  uint64_t off;
  struct item *it;
  int r = 0;

  for (off = 0; r == 0 && off < c->size; off += WINDOW)
    r = read_window (c, off, MIN (WINDOW, c->size - off));
  if (r == 0)
    emit (c, ITEM_END, c->size, 0);
  else if ((it = slot_acquire (c)) != NULL) {
    /* Errors are thread-local: carry the message over to the writer. */
    it->kind = ITEM_ERROR;
    it->bad = c->stats->bytes_bad;
    it->err = strdup (error_get ());
    slot_publish (c);
  }
  return NULL;
}
