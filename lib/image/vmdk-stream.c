/* vmdk-stream.c: the streamOptimized writer — VMware's canonical stream
 * layout (header with the GD "at end", descriptor, ascending grains, a GT
 * after each 32 MiB group, GD, footer, end-of-stream), written strictly by
 * appending so it could feed a pipe, with grains compressed in parallel.
 *
 * Grains are collected into a batch; a full batch is compressed by worker
 * threads while the caller fills the other batch, then written in order.
 */
#include "lib/common/compat.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <libdeflate.h>
#include <libgen.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/common/checked.h"
#include "lib/common/cleanup.h"
#include "lib/common/error.h"
#include "lib/common/fullrw.h"
#include "lib/common/hash.h"
#include "lib/common/strbuf.h"
#include "lib/image/vmdk.h"

#define GRAIN_SECTORS 128u                    /* 64 KiB, what VMware writes */
#define GRAIN_BYTES (GRAIN_SECTORS * VMDK_SECTOR)
#define GTES 512u                             /* one GT covers 32 MiB */
#define GT_SECTORS (GTES * 4 / VMDK_SECTOR)
#define DESC_SECTORS 20u
#define OVERHEAD_SECTORS 128u      /* VMware streams start grains at 64 KiB */
#define GRAINS_PER_WORKER 8u       /* per batch: amortises thread start-up */
#define MAX_WORKERS 64u
/* libdeflate level 1: zlib-format output like zlib's, at 2-3x the speed of
 * zlib's own fastest level. */
#define DEFLATE_LEVEL 1
/* Incompressible-grain test: deflate 4 slices of 1 KiB first. */
#define SAMPLE_SLICES 4u
#define SAMPLE_SLICE 1024u
#define SAMPLE_BYTES (SAMPLE_SLICES * SAMPLE_SLICE)

struct slot {
  uint64_t grain;
  uint8_t *in;                  /* GRAIN_BYTES, zero-padded */
  uint8_t *out;                 /* marker + zlib stream + sector padding */
  size_t out_len;
  bool failed;                  /* deflate failed (reported by the writer) */
};

struct batch {
  struct slot *slots;
  uint8_t *mem;                 /* backs every slot's in and out */
  size_t n;                     /* slots filled */
  size_t out_cap;               /* bytes of each slot's out */
  atomic_size_t next;           /* next slot a worker takes */
  bool running;                 /* workers started and not yet joined */
};

struct worker {
  struct batch *b;
  pthread_t tid;
  bool started;
  struct libdeflate_compressor *fast, *store; /* DEFLATE_LEVEL, level 0 */
  uint8_t sample[SAMPLE_BYTES];
  uint8_t sample_out[SAMPLE_BYTES + 64];
};

struct vmdk_stream {
  int fd;
  bool borrowed_fd;             /* opts->use_fd: the caller's, never closed */
  uint64_t base;                /* file offset of the image's byte 0 */
  struct hash *hash;            /* fed every appended byte; may be NULL */
  uint64_t *out_length;         /* receives pos at a successful finish */
  const char *path;             /* borrowed from the image */
  uint64_t pos;                 /* bytes written so far: we only append */
  uint64_t disk_bytes;          /* capacity in bytes */
  uint64_t n_gd;
  uint64_t write_end;           /* a write may not start before this */
  struct vmdk_header hdr;       /* host order */
  struct batch batch[2];
  unsigned cur;                 /* the batch being filled */
  size_t batch_cap, out_cap;
  unsigned n_workers;
  struct worker *workers;
  uint8_t *partial;             /* a grain written piecewise */
  uint64_t partial_grain;
  bool partial_open;
  uint32_t *gd;                 /* n_gd sector offsets, host order */
  uint32_t gt[GTES];
  uint64_t gt_index;
  bool gt_used;
  bool failed;                  /* after any error the stream is dead */
};

/* ---- appending to the file -------------------------------------------- */

static int
fail (struct vmdk_stream *s)
{
  s->failed = true;
  return -1;
}

/* Positioned writes rather than write(): the image may start at `base`
 * inside a file shared with other members (an OVA being written). */
static int
append (struct vmdk_stream *s, const void *buf, size_t len)
{
  const uint8_t *p = buf;

  if (s->hash && hash_update (s->hash, buf, len) == -1)
    return fail (s);
  while (len > 0) {
    ssize_t r = pwrite (s->fd, p, len, (off_t) (s->base + s->pos));
    if (r == -1) {
      if (errno == EINTR)
        continue;
      error_errno ("vmdk: '%s': write at offset %llu", s->path,
                   (unsigned long long) s->pos);
      return fail (s);
    }
    p += r;
    len -= (size_t) r;
    s->pos += (uint64_t) r;
  }
  return 0;
}

/* Where the next append lands, as the u32 sector GT/GD entries hold. */
static int
next_sector (struct vmdk_stream *s, uint32_t *sector)
{
  uint64_t sec = s->pos / VMDK_SECTOR;

  if (sec > UINT32_MAX) {
    error_set ("vmdk: '%s': image exceeds the 2 TiB of data a sparse VMDK "
               "can address", s->path);
    return fail (s);
  }
  *sector = (uint32_t) sec;
  return 0;
}

static int
append_marker (struct vmdk_stream *s, uint64_t num_sectors, uint32_t type)
{
  struct vmdk_meta_marker m;

  memset (&m, 0, sizeof m);
  m.num_sectors = htole64 (num_sectors);
  m.type = htole32 (type);
  return append (s, &m, sizeof m);
}

/* Append n u32 entries as little-endian, zero-padded to whole sectors. */
static int
append_table (struct vmdk_stream *s, const uint32_t *t, uint64_t n,
              uint64_t sectors)
{
  CLEANUP_FREE uint32_t *le = calloc (sectors, VMDK_SECTOR);
  uint64_t i;

  if (le == NULL) {
    error_errno ("malloc");
    return fail (s);
  }
  for (i = 0; i < n; i++)
    le[i] = htole32 (t[i]);
  return append (s, le, sectors * VMDK_SECTOR);
}

/* ---- compression (worker threads) ------------------------------------- */

/* Grains of already-compressed data (media, archives, encrypted disks)
 * cost a full deflate and shrink by nothing.  Deflating a 4 KiB sample
 * first costs 1/16 of that; when the sample does not shrink by 3% the
 * grain is stored (level 0, still a valid zlib stream) — btrfs's
 * compression heuristic follows the same idea. */
static bool
incompressible (struct worker *w, const uint8_t *in)
{
  unsigned i;
  size_t n;

  for (i = 0; i < SAMPLE_SLICES; i++)
    memcpy (w->sample + i * SAMPLE_SLICE,
            in + i * (GRAIN_BYTES / SAMPLE_SLICES), SAMPLE_SLICE);
  n = libdeflate_zlib_compress (w->fast, w->sample, SAMPLE_BYTES,
                                w->sample_out, sizeof w->sample_out);
  return n == 0 || n >= SAMPLE_BYTES - SAMPLE_BYTES / 32;
}

static void
compress_slot (struct worker *w, struct slot *sl, size_t out_cap)
{
  struct libdeflate_compressor *c =
    incompressible (w, sl->in) ? w->store : w->fast;
  struct vmdk_grain_marker m;
  size_t n, len;

  sl->failed = true;
  n = libdeflate_zlib_compress (c, sl->in, GRAIN_BYTES, sl->out + sizeof m,
                                out_cap - sizeof m - VMDK_SECTOR);
  if (n == 0)
    return;
  m.lba = htole64 (sl->grain * GRAIN_SECTORS);
  m.size = htole32 ((uint32_t) n);
  memcpy (sl->out, &m, sizeof m);
  len = sizeof m + n;
  sl->out_len = (len + VMDK_SECTOR - 1) & ~(size_t) (VMDK_SECTOR - 1);
  memset (sl->out + len, 0, sl->out_len - len);
  sl->failed = false;
}

static void *
worker_run (void *arg)
{
  struct worker *w = arg;
  struct batch *b = w->b;
  size_t i;

  while ((i = atomic_fetch_add (&b->next, 1)) < b->n)
    compress_slot (w, &b->slots[i], b->out_cap);
  return NULL;
}

static void
batch_start (struct vmdk_stream *s, struct batch *b)
{
  unsigned i, n = (unsigned) MIN ((size_t) s->n_workers, b->n);
  bool any = false;

  atomic_store (&b->next, 0);
  for (i = 0; i < n; i++) {
    s->workers[i].b = b;
    s->workers[i].started =
      pthread_create (&s->workers[i].tid, NULL, worker_run,
                      &s->workers[i]) == 0;
    any |= s->workers[i].started;
  }
  if (!any)                     /* no threads to be had: do it ourselves */
    worker_run (&s->workers[0]);
  b->running = true;
}

static void
batch_join (struct vmdk_stream *s, struct batch *b)
{
  unsigned i;

  for (i = 0; s->workers && i < s->n_workers; i++)
    if (s->workers[i].started && s->workers[i].b == b) {
      pthread_join (s->workers[i].tid, NULL);
      s->workers[i].started = false;
    }
  b->running = false;
}

/* ---- grain tables and the grain directory ----------------------------- */

static int
emit_gt (struct vmdk_stream *s)
{
  uint32_t sector;

  if (!s->gt_used)
    return 0;
  if (append_marker (s, GT_SECTORS, VMDK_MARKER_GT) == -1 ||
      next_sector (s, &sector) == -1 ||
      append_table (s, s->gt, GTES, GT_SECTORS) == -1)
    return -1;
  s->gd[s->gt_index] = sector;
  memset (s->gt, 0, sizeof s->gt);
  s->gt_used = false;
  return 0;
}

static int
write_slot (struct vmdk_stream *s, const struct slot *sl)
{
  uint64_t t = sl->grain / GTES;
  uint32_t sector;

  if (sl->failed) {
    error_set ("vmdk: '%s': compressing grain %llu failed", s->path,
               (unsigned long long) sl->grain);
    return fail (s);
  }
  if (s->gt_used && t != s->gt_index && emit_gt (s) == -1)
    return -1;
  if (next_sector (s, &sector) == -1)
    return -1;
  s->gt[sl->grain % GTES] = sector;
  s->gt_index = t;
  s->gt_used = true;
  return append (s, sl->out, sl->out_len);
}

/* Join a batch's workers and append its grains in order. */
static int
batch_finish (struct vmdk_stream *s, struct batch *b)
{
  size_t i;

  if (!b->running)
    return 0;
  batch_join (s, b);
  for (i = 0; i < b->n && !s->failed; i++)
    write_slot (s, &b->slots[i]);
  b->n = 0;
  return s->failed ? -1 : 0;
}

/* Hand the filling batch to the workers and fill the other one, which
 * first has to be written out. */
static int
submit (struct vmdk_stream *s)
{
  struct batch *b = &s->batch[s->cur], *other = &s->batch[!s->cur];

  if (b->n == 0)
    return 0;
  if (batch_finish (s, other) == -1)
    return -1;
  batch_start (s, b);
  s->cur = !s->cur;
  return 0;
}

static int
drain (struct vmdk_stream *s)
{
  int r = submit (s);

  if (batch_finish (s, &s->batch[!s->cur]) == -1)
    r = -1;
  if (batch_finish (s, &s->batch[s->cur]) == -1)
    r = -1;
  return r;
}

/* ---- accepting writes ------------------------------------------------- */

static uint64_t
grain_len (const struct vmdk_stream *s, uint64_t g)
{
  return MIN ((uint64_t) GRAIN_BYTES, s->disk_bytes - g * GRAIN_BYTES);
}

/* A complete grain: queue it unless it is all zeros. */
static int
add_grain (struct vmdk_stream *s, uint64_t g, const uint8_t *data,
           size_t len)
{
  struct batch *b = &s->batch[s->cur];
  struct slot *sl;

  if (is_zero (data, len))
    return 0;
  sl = &b->slots[b->n++];
  sl->grain = g;
  memcpy (sl->in, data, len);
  memset (sl->in + len, 0, GRAIN_BYTES - len);
  if (b->n == s->batch_cap)
    return submit (s);
  return 0;
}

static int
close_partial (struct vmdk_stream *s)
{
  if (!s->partial_open)
    return 0;
  s->partial_open = false;
  return add_grain (s, s->partial_grain, s->partial,
                    grain_len (s, s->partial_grain));
}

static int
write_partial (struct vmdk_stream *s, uint64_t g, size_t in,
               const uint8_t *p, size_t n)
{
  if (s->partial_open && s->partial_grain != g && close_partial (s) == -1)
    return -1;
  if (!s->partial_open) {
    memset (s->partial, 0, GRAIN_BYTES);
    s->partial_open = true;
    s->partial_grain = g;
  }
  memcpy (s->partial + in, p, n);
  if (in + n == grain_len (s, g))
    return close_partial (s);
  return 0;
}

int
vmdk_stream_pwrite (struct vmdk *v, const void *buf, size_t count,
                    uint64_t offset)
{
  struct vmdk_stream *s = v->w;
  const uint8_t *p = buf;

  if (s->failed)
    return error_set ("vmdk: '%s': an earlier write failed; the image is "
                      "incomplete", s->path);
  if (offset < s->write_end)
    return error_set ("vmdk: '%s': streamOptimized writes must be sequential "
                      "(write at %llu after one ending at %llu)", s->path,
                      (unsigned long long) offset,
                      (unsigned long long) s->write_end);
  s->write_end = offset + count;
  while (count > 0) {
    uint64_t g = offset / GRAIN_BYTES, glen = grain_len (s, g);
    size_t in = (size_t) (offset % GRAIN_BYTES);
    size_t n = (size_t) MIN ((uint64_t) count, glen - in);
    bool whole = in == 0 && n == glen &&
      !(s->partial_open && s->partial_grain == g);

    if (whole && close_partial (s) == -1)
      return -1;
    if ((whole ? add_grain (s, g, p, n) : write_partial (s, g, in, p, n)) == -1)
      return -1;
    p += n;
    offset += n;
    count -= n;
  }
  return 0;
}

/* Everything complete so far reaches the disk; a partly written grain
 * stays buffered, since later writes may still fill it. */
int
vmdk_stream_flush (struct vmdk *v)
{
  struct vmdk_stream *s = v->w;

  if (s->failed)
    return error_set ("vmdk: '%s': an earlier write failed; the image is "
                      "incomplete", s->path);
  if (drain (s) == -1)
    return -1;
  if (fsync (s->fd) == -1)
    return error_errno ("vmdk: '%s': fsync", s->path);
  return 0;
}

/* ---- the tail: last GT, GD, footer, end-of-stream --------------------- */

static void
header_to_disk (const struct vmdk_header *h, struct vmdk_header *d)
{
  *d = *h;
  d->magic = htole32 (h->magic);
  d->version = htole32 (h->version);
  d->flags = htole32 (h->flags);
  d->capacity = htole64 (h->capacity);
  d->grain_size = htole64 (h->grain_size);
  d->desc_offset = htole64 (h->desc_offset);
  d->desc_size = htole64 (h->desc_size);
  d->num_gtes_per_gt = htole32 (h->num_gtes_per_gt);
  d->rgd_offset = htole64 (h->rgd_offset);
  d->gd_offset = htole64 (h->gd_offset);
  d->overhead = htole64 (h->overhead);
  d->compress_algorithm = htole16 (h->compress_algorithm);
}

static int
write_tail (struct vmdk_stream *s)
{
  uint64_t gd_sectors = MAX (1, DIV_ROUND_UP (s->n_gd * 4, VMDK_SECTOR));
  struct vmdk_header footer;
  uint32_t gd_sector;

  if (close_partial (s) == -1 || drain (s) == -1 || emit_gt (s) == -1)
    return -1;
  if (append_marker (s, gd_sectors, VMDK_MARKER_GD) == -1 ||
      next_sector (s, &gd_sector) == -1 ||
      append_table (s, s->gd, s->n_gd, gd_sectors) == -1)
    return -1;
  s->hdr.gd_offset = gd_sector;
  header_to_disk (&s->hdr, &footer);
  if (append_marker (s, 1, VMDK_MARKER_FOOTER) == -1 ||
      append (s, &footer, sizeof footer) == -1 ||
      append_marker (s, 0, VMDK_MARKER_EOS) == -1)
    return -1;
  if (fsync (s->fd) == -1) {
    error_errno ("vmdk: '%s': fsync", s->path);
    return fail (s);
  }
  return 0;
}

static void
stream_free (struct vmdk_stream *s)
{
  unsigned i;

  if (s == NULL)
    return;
  batch_join (s, &s->batch[0]);
  batch_join (s, &s->batch[1]);
  for (i = 0; s->workers && i < s->n_workers; i++) {
    libdeflate_free_compressor (s->workers[i].fast);
    libdeflate_free_compressor (s->workers[i].store);
  }
  for (i = 0; i < 2; i++) {
    free (s->batch[i].slots);
    free (s->batch[i].mem);
  }
  free (s->workers);
  free (s->partial);
  free (s->gd);
  if (s->fd >= 0 && !s->borrowed_fd)
    close (s->fd);
  free (s);
}

int
vmdk_stream_finish (struct vmdk *v)
{
  struct vmdk_stream *s = v->w;
  int r = -1;

  if (s->failed)
    error_set ("vmdk: '%s': an earlier write failed; the image is "
               "incomplete", s->path);
  else
    r = write_tail (s);
  if (!s->borrowed_fd && close (s->fd) == -1 && r == 0)
    r = error_errno ("vmdk: '%s': close", s->path);
  s->fd = -1;
  if (r == 0 && s->out_length)
    *s->out_length = s->pos;
  stream_free (s);
  v->w = NULL;
  return r;
}

/* ---- creating --------------------------------------------------------- */

static int
check_opts (const char *path, uint64_t size,
            const struct image_create_opts *opts)
{
  if (opts->subformat && strcmp (opts->subformat, "streamOptimized") != 0)
    return error_set ("vmdk: '%s': subformat '%s' cannot be written (only "
                      "streamOptimized)", path, opts->subformat);
  if (opts->backing)
    return error_set ("vmdk: '%s': streamOptimized images cannot have a "
                      "backing file", path);
  if (size > VMDK_MAX_CAPACITY * VMDK_SECTOR)
    return error_set ("vmdk: '%s': %llu bytes is too large for a VMDK",
                      path, (unsigned long long) size);
  return vmdk_adapter_ok (opts->adapter_type, path);
}

/* The name the descriptor's extent line gives: the file's own name.  The
 * copy engine writes to ".NAME.ferry-tmp-PID-N" and renames it to NAME
 * when done (outfile.h), so name the final file. */
static char *
extent_name (const char *path)
{
  CLEANUP_FREE char *copy = xstrdup (path);
  char *base, *tmp;

  if (copy == NULL)
    return NULL;
  base = basename (copy);
  tmp = strstr (base, ".ferry-tmp-");
  if (base[0] == '.' && tmp && tmp > base + 1) {
    *tmp = '\0';
    base++;
  }
  if (strlen (base) >= VMDK_NAME_MAX)
    base[VMDK_NAME_MAX - 1] = '\0';
  return xstrdup (base);
}

static int
init_workers (struct vmdk_stream *s, unsigned threads)
{
  long n = threads ? (long) threads : sysconf (_SC_NPROCESSORS_ONLN);
  unsigned i;

  s->n_workers = (unsigned) MIN ((long) MAX_WORKERS, MAX (1L, n));
  s->workers = calloc (s->n_workers, sizeof *s->workers);
  if (s->workers == NULL)
    return error_errno ("malloc");
  for (i = 0; i < s->n_workers; i++) {
    struct worker *w = &s->workers[i];
    w->fast = libdeflate_alloc_compressor (DEFLATE_LEVEL);
    w->store = libdeflate_alloc_compressor (0);
    if (w->fast == NULL || w->store == NULL)
      return error_set ("vmdk: '%s': deflate initialisation failed", s->path);
  }
  return 0;
}

static int
init_batch (struct vmdk_stream *s, struct batch *b)
{
  size_t i, per = GRAIN_BYTES + s->out_cap;

  b->slots = calloc (s->batch_cap, sizeof *b->slots);
  b->mem = malloc (s->batch_cap * per);
  if (b->slots == NULL || b->mem == NULL)
    return error_errno ("malloc");
  b->out_cap = s->out_cap;
  for (i = 0; i < s->batch_cap; i++) {
    b->slots[i].in = b->mem + i * per;
    b->slots[i].out = b->slots[i].in + GRAIN_BYTES;
  }
  return 0;
}

static int
init_buffers (struct vmdk_stream *s, uint64_t capacity)
{
  uint64_t n_grains = DIV_ROUND_UP (capacity, GRAIN_SECTORS);

  s->n_gd = DIV_ROUND_UP (n_grains, GTES);
  s->gd = calloc (s->n_gd ? s->n_gd : 1, sizeof *s->gd);
  s->partial = malloc (GRAIN_BYTES);
  if (s->gd == NULL || s->partial == NULL)
    return error_errno ("malloc");
  /* Marker, the worst deflate expansion (either library's bound), sector
   * padding. */
  s->out_cap = sizeof (struct vmdk_grain_marker)
    + MAX ((size_t) compressBound (GRAIN_BYTES),
           libdeflate_zlib_compress_bound (NULL, GRAIN_BYTES))
    + VMDK_SECTOR;
  s->batch_cap = (size_t) s->n_workers * GRAINS_PER_WORKER;
  if (init_batch (s, &s->batch[0]) == -1 || init_batch (s, &s->batch[1]) == -1)
    return -1;
  return 0;
}

static void
init_header (struct vmdk_header *h, uint64_t capacity)
{
  memset (h, 0, sizeof *h);
  h->magic = VMDK_MAGIC;
  h->version = 3;                 /* ESXi refuses version 1 streams */
  h->flags = VMDK_FLAG_NL_DETECT | VMDK_FLAG_COMPRESSED | VMDK_FLAG_MARKERS;
  h->capacity = capacity;
  h->grain_size = GRAIN_SECTORS;
  h->desc_offset = 1;
  h->desc_size = DESC_SECTORS;
  h->num_gtes_per_gt = GTES;
  h->gd_offset = VMDK_GD_AT_END;
  h->overhead = OVERHEAD_SECTORS;
  h->nl_single = '\n';
  h->nl_non = ' ';
  h->nl_double1 = '\r';
  h->nl_double2 = '\n';
  h->compress_algorithm = VMDK_COMPRESS_DEFLATE;
}

/* Header, descriptor and padding up to the first grain, in one append. */
static int
write_head (struct vmdk_stream *s, const char *adapter)
{
  CLEANUP_FREE char *name = extent_name (s->path);
  CLEANUP_FREE char *desc = NULL;
  CLEANUP_FREE uint8_t *head = calloc (OVERHEAD_SECTORS, VMDK_SECTOR);
  size_t len;

  if (name == NULL || head == NULL)
    return error_errno ("malloc");
  desc = vmdk_desc_make (name, s->hdr.capacity, adapter);
  if (desc == NULL)
    return -1;
  len = strlen (desc);
  if (len >= DESC_SECTORS * VMDK_SECTOR)
    return error_set ("vmdk: '%s': descriptor does not fit", s->path);
  header_to_disk (&s->hdr, (struct vmdk_header *) head);
  memcpy (head + VMDK_SECTOR, desc, len);
  return append (s, head, OVERHEAD_SECTORS * VMDK_SECTOR);
}

static int
stream_open (struct vmdk *v, uint64_t size,
             const struct image_create_opts *opts)
{
  struct vmdk_stream *s = calloc (1, sizeof *s);

  if (s == NULL)
    return error_errno ("malloc");
  v->w = s;
  s->path = v->img.path;
  s->hash = opts->hash;
  s->out_length = opts->out_length;
  s->borrowed_fd = opts->use_fd;
  s->base = opts->use_fd ? opts->fd_offset : 0;
  s->fd = opts->use_fd ? opts->fd
    : open (s->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (s->fd == -1)
    return error_errno ("vmdk: '%s'", s->path);
  init_header (&s->hdr, DIV_ROUND_UP (size, VMDK_SECTOR));
  s->disk_bytes = s->hdr.capacity * VMDK_SECTOR;
  if (init_workers (s, opts->threads) == -1 ||
      init_buffers (s, s->hdr.capacity) == -1 ||
      write_head (s, opts->adapter_type) == -1) {
    if (!s->borrowed_fd)
      unlink (s->path);
    return -1;
  }
  return 0;
}

static void
describe (struct vmdk *v, const struct image_create_opts *opts,
          uint64_t size)
{
  snprintf (v->subformat, sizeof v->subformat, "streamOptimized");
  snprintf (v->adapter_type, sizeof v->adapter_type, "%s",
            opts->adapter_type ? opts->adapter_type : "lsilogic");
  v->version = 3;
  v->compressed = v->markers = true;
  v->capacity = DIV_ROUND_UP (size, VMDK_SECTOR);
  v->grain_sectors = GRAIN_SECTORS;
  v->grain_bytes = GRAIN_BYTES;
  v->gtes = GTES;
}

struct image *
vmdk_stream_create (const char *path, uint64_t size,
                    const struct image_create_opts *opts)
{
  struct vmdk *v;

  if (check_opts (path, size, opts) == -1)
    return NULL;
  v = vmdk_new ();
  if (v == NULL || image_init (&v->img, &vmdk_ops, path, size, true) == -1)
    goto err;
  describe (v, opts, size);
  if (stream_open (v, size, opts) == -1)
    goto err;
  return &v->img;

 err:
  if (v && v->w) {
    stream_free (v->w);
    v->w = NULL;
  }
  vmdk_free (v);
  return NULL;
}
