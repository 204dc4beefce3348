/* copy.c: the format-blind copy engine (copy.h). */
#include "lib/common/compat.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/common/checked.h"
#include "lib/common/error.h"
#include "lib/common/fullrw.h"
#include "lib/common/json.h"
#include "lib/common/outfile.h"
#include "lib/common/progress.h"
#include "lib/common/strbuf.h"
#include "lib/image/copy-int.h"

int
mask_split (const extent_vector *mask, uint64_t offset, uint64_t length,
            extent_vector *out)
{
  uint64_t end = offset + length, pos = offset;
  size_t lo = 0, hi = mask->len;

  /* First mask range that ends after offset (binary search). */
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (mask->ptr[mid].offset + mask->ptr[mid].length <= offset)
      lo = mid + 1;
    else
      hi = mid;
  }
  for (; lo < mask->len && pos < end; lo++) {
    const struct extent *m = &mask->ptr[lo];
    uint64_t s = MAX (m->offset, pos), e = MIN (m->offset + m->length, end);

    if (m->offset >= end)
      break;
    if (s > pos && extent_add (out, pos, s - pos, EXTENT_HOLE) == -1)
      return -1;
    if (e > s && extent_add (out, s, e - s, EXTENT_DATA) == -1)
      return -1;
    pos = MAX (pos, e);
  }
  if (pos < end)
    return extent_add (out, pos, end - pos, EXTENT_HOLE);
  return 0;
}

/* Errors that mean "this part of the medium is unreadable", as opposed to
 * a broken connection or a bug, which stay fatal. */
bool
is_media_error (int e)
{
  return e == EIO || e == ENODATA || e == EILSEQ || e == EBADMSG ||
    e == ENXIO || e == ETIMEDOUT;
}

int
image_pread_retry (struct image *img, void *buf, size_t count,
                   uint64_t offset, unsigned retries)
{
  unsigned attempt;

  for (attempt = 0; ; attempt++) {
    if (image_pread (img, buf, count, offset) == 0)
      return 0;
    if (!is_media_error (errno) || attempt >= retries)
      return -1;
  }
}

/* Does the target already read as `want` (or zeros if NULL) here? */
static int
target_has (struct copier *c, const unsigned char *want, size_t len,
            uint64_t off, bool *same)
{
  if (c->opts->base == NULL) {
    *same = want == NULL;
    return 0;
  }
  if (off + len > c->opts->base->size) {
    *same = false;
    return 0;
  }
  if (image_pread (c->opts->base, c->basebuf, len, off) == -1)
    return -1;
  *same = want ? memcmp (want, c->basebuf, len) == 0
    : is_zero (c->basebuf, len);
  return 0;
}

/* dirty_target: zero what lies in [c->zeroed_to, end) outside keep_old. */
static int
zero_until (struct copier *c, uint64_t end)
{
  extent_vector runs = empty_vector;
  uint64_t start = c->zeroed_to;
  size_t i;
  int r = 0;

  if (!c->opts->dirty_target || end <= start)
    return 0;
  c->zeroed_to = end;
  if (c->opts->keep_old == NULL)
    r = extent_add (&runs, start, end - start, EXTENT_HOLE);
  else
    r = mask_split (c->opts->keep_old, start, end - start, &runs);
  for (i = 0; r == 0 && i < runs.len; i++) {
    if (runs.ptr[i].type == EXTENT_DATA)
      continue;
    r = image_zero (c->dst, runs.ptr[i].offset, runs.ptr[i].length);
    c->stats->bytes_zeroed += runs.ptr[i].length;
  }
  extent_vector_reset (&runs);
  return r;
}

static int
write_run (struct copier *c, const unsigned char *data, size_t len,
           uint64_t off)
{
  if (zero_until (c, off) == -1)
    return -1;
  c->zeroed_to = off + len;
  if (image_pwrite (c->dst, data, len, off) == -1)
    return -1;
  c->stats->bytes_written += len;
  return 0;
}

/* Write the non-zero, changed blocks of buf[0..len) in as few calls as
 * possible, keeping writes ascending. */
static int
write_chunk (struct copier *c, const unsigned char *buf, size_t len,
             uint64_t off)
{
  size_t i = 0, run = 0, run_len = 0;

  for (i = 0; i < len; i += BLOCK) {
    size_t n = MIN (BLOCK, len - i);
    bool zero = is_zero (buf + i, n), same;

    if (target_has (c, zero ? NULL : buf + i, n, off + i, &same) == -1)
      return -1;
    if (same) {
      c->stats->bytes_skipped += n;
      if (run_len && write_run (c, buf + run, run_len, off + run) == -1)
        return -1;
      run_len = 0;
      continue;
    }
    if (run_len == 0)
      run = i;
    run_len += n;
  }
  if (run_len && write_run (c, buf + run, run_len, off + run) == -1)
    return -1;
  return 0;
}

static void
report_progress (struct copier *c, uint64_t done)
{
  progress_update (&c->progress, done);
  if (c->opts->on_progress)
    c->opts->on_progress (c->opts->opaque, done, c->bad_seen, c->size);
}

/* A run that reads as zeros in the source. */
static int
copy_zero_run (struct copier *c, uint64_t off, uint64_t len)
{
  uint64_t end = off + len;

  if (c->opts->base == NULL) {
    c->stats->bytes_skipped += len;
    report_progress (c, end);
    return 0;
  }
  while (off < end) {
    size_t n = (size_t) MIN ((uint64_t) CHUNK, end - off);
    if (write_chunk (c, c->zerobuf, n, off) == -1)
      return -1;
    off += n;
    report_progress (c, off);
  }
  return 0;
}

/* Take the next item the reader published (waits). */
static struct item *
ring_take (struct ring *r)
{
  struct item *it;

  pthread_mutex_lock (&r->lock);
  while (r->head == r->tail)
    pthread_cond_wait (&r->cond, &r->lock);
  it = &r->items[r->head % RING];
  pthread_mutex_unlock (&r->lock);
  return it;
}

static void
ring_release (struct ring *r, bool stop)
{
  pthread_mutex_lock (&r->lock);
  r->head++;
  r->stop |= stop;
  pthread_cond_broadcast (&r->cond);
  pthread_mutex_unlock (&r->lock);
}

/* Write what the reader publishes, in order, until the end or an error. */
static int
consume (struct copier *c)
{
  for (;;) {
    struct item *it = ring_take (&c->ring);
    enum item_kind kind = it->kind;
    int r = 0;

    c->bad_seen = it->bad;
    if (kind == ITEM_DATA) {
      r = write_chunk (c, it->buf, it->len, it->off);
      report_progress (c, it->off + it->len);
    }
    else if (kind == ITEM_ZERO)
      r = copy_zero_run (c, it->off, it->len);
    else if (kind == ITEM_ERROR) {
      error_set ("%s", it->err ? it->err : "copy: read failed");
      free (it->err);
      it->err = NULL;
      r = -1;
    }
    else if (kind == ITEM_END)
      r = zero_until (c, c->size);
    ring_release (&c->ring, r == -1);
    if (r == -1)
      return -1;
    if (kind == ITEM_END)
      return 0;
  }
}

static int
copier_init (struct copier *c)
{
  size_t i;

  pthread_mutex_init (&c->ring.lock, NULL);
  pthread_cond_init (&c->ring.cond, NULL);
  for (i = 0; i < RING; i++)
    if (posix_memalign ((void **) &c->ring.items[i].buf, 4096, CHUNK) != 0)
      goto nomem;
  if (c->opts->base &&
      (posix_memalign ((void **) &c->basebuf, 4096, CHUNK) != 0 ||
       (c->zerobuf = calloc (1, CHUNK)) == NULL))
    goto nomem;
  return 0;
 nomem:
  errno = ENOMEM;
  return error_errno ("copy: buffers");
}

static void
copier_fini (struct copier *c)
{
  size_t i;

  for (i = 0; i < RING; i++) {
    free (c->ring.items[i].buf);
    free (c->ring.items[i].err);  /* an error the writer never took */
  }
  free (c->basebuf);
  free (c->zerobuf);
  pthread_cond_destroy (&c->ring.cond);
  pthread_mutex_destroy (&c->ring.lock);
}

static int
run_pipeline (struct copier *c)
{
  pthread_t reader;
  int r, e;

  e = pthread_create (&reader, NULL, copy_reader_run, c);
  if (e != 0) {
    errno = e;
    return error_errno ("copy: starting the reader thread");
  }
  r = consume (c);
  pthread_join (reader, NULL);
  return r;
}

int
image_copy (struct image *src, struct image *dst,
            const struct copy_opts *opts, struct copy_stats *stats)
{
  struct copier c = { .src = src, .dst = dst, .opts = opts, .stats = stats,
                      .size = opts->length ? opts->length : src->size };
  double start = monotonic_seconds ();
  int r = -1;

  memset (stats, 0, sizeof *stats);
  if (c.size > src->size)
    return error_set ("copy: %llu bytes asked of source '%s' (%llu bytes)",
                      (unsigned long long) c.size, src->path,
                      (unsigned long long) src->size);
  if (dst->size < c.size)
    return error_set ("copy: target '%s' (%llu bytes) is smaller than "
                      "source '%s' (%llu bytes)", dst->path,
                      (unsigned long long) dst->size, src->path,
                      (unsigned long long) c.size);
  if (opts->dirty_target && opts->base)
    return error_set ("copy: a dirty target cannot have a base");
  if (copier_init (&c) == 0) {
    progress_start (&c.progress, opts->label ? opts->label : src->path,
                    c.size, opts->quiet);
    r = run_pipeline (&c);
    if (r == 0)
      progress_finish (&c.progress);
    else if (c.progress.enabled)
      fputc ('\n', stderr);
  }
  copier_fini (&c);
  stats->seconds = monotonic_seconds () - start;
  return r;
}

void
copy_stats_json (struct json *j, const struct copy_stats *s)
{
  size_t i;

  json_key_uint (j, "bytes_read", s->bytes_read);
  json_key_uint (j, "bytes_written", s->bytes_written);
  json_key_uint (j, "bytes_skipped", s->bytes_skipped);
  json_key_uint (j, "bytes_unreadable", s->bytes_bad);
  if (s->bytes_zeroed)
    json_key_uint (j, "bytes_zeroed", s->bytes_zeroed);
  json_key (j, "unreadable_ranges");
  json_array_begin (j);
  for (i = 0; i < s->bad.len; i++) {
    json_object_begin (j);
    json_key_uint (j, "offset", s->bad.ptr[i].offset);
    json_key_uint (j, "length", s->bad.ptr[i].length);
    json_object_end (j);
  }
  json_array_end (j);
  json_key (j, "seconds");
  json_double (j, s->seconds);
}

/* Users know the name they typed, not our temporary one: say that. */
static void
name_final_in_error (const struct outfile *out)
{
  const char *msg = error_get ();
  const char *at = strstr (msg, out->tmp);
  char *copy;

  if (at == NULL)
    return;
  copy = xasprintf ("%.*s%s%s", (int) (at - msg), msg, out->final,
                    at + strlen (out->tmp));
  if (copy) {
    error_set ("%s", copy);
    free (copy);
  }
}

int
image_convert (struct image *src, const char *format, const char *path,
               const struct image_create_opts *create,
               const struct copy_opts *opts, bool overwrite,
               struct copy_stats *stats)
{
  struct outfile out;
  struct copy_opts o = *opts;
  struct image *dst;

  memset (stats, 0, sizeof *stats);
  if (outfile_begin (&out, path, overwrite) == -1)
    return -1;
  dst = image_create (format, out.tmp, src->size, create);
  if (dst == NULL)
    goto err;
  /* An overlay already reads as its backing: write only the differences. */
  if (dst->backing && o.base == NULL)
    o.base = dst->backing;
  if (image_copy (src, dst, &o, stats) == -1) {
    /* Closing a half-written image fails too; the first error is the one
     * that explains it (ENOSPC, a bad sector...). */
    char *first = xstrdup (error_get ());
    image_close (dst);
    if (first)
      error_set ("%s", first);
    free (first);
    goto err;
  }
  if (image_close (dst) == -1 ||
      (o.before_publish &&
       o.before_publish (o.publish_opaque, out.tmp, format) == -1))
    goto err;
  return outfile_commit (&out);

 err:
  name_final_in_error (&out);
  outfile_abort (&out);
  return -1;
}
