/* nbd.c: NBD sources through libnbd ("nbd://host/export",
 * "nbd+unix:///export?socket=/path") — remote disks, and nbdkit's error
 * filter standing in for a dying disk in the tests.  Read-mostly: the
 * capture path only reads; writes are passed through when opened RDWR. */
#include "lib/common/compat.h"

#include <errno.h>
#include <inttypes.h>
#include <libnbd.h>
#include <stdlib.h>
#include <string.h>

#include "lib/common/error.h"
#include "lib/common/strbuf.h"
#include "lib/image/image.h"

struct nbd {
  struct image img;
  struct nbd_handle *h;
  bool can_extents;
};

/* NBD requests are capped (libnbd refuses > 64 MiB; servers often 32 MiB). */
#define NBD_MAX_REQUEST (32 * 1024 * 1024)

static int
nbd_err (struct image *img, const char *what)
{
  int e = nbd_get_errno ();

  errno = e ? e : EIO;
  return error_set ("nbd: '%s': %s: %s", img->path, what, nbd_get_error ());
}

static struct image *
nbd_open_uri (const char *uri, unsigned flags, unsigned depth)
{
  struct nbd *n = calloc (1, sizeof *n);
  int64_t size;

  (void) depth;
  if (n == NULL) {
    error_errno ("malloc");
    return NULL;
  }
  n->h = nbd_create ();
  if (n->h == NULL) {
    error_set ("nbd: '%s': %s", uri, nbd_get_error ());
    goto err;
  }
  nbd_add_meta_context (n->h, LIBNBD_CONTEXT_BASE_ALLOCATION);
  if (nbd_connect_uri (n->h, uri) == -1) {
    error_set ("nbd: '%s': connect: %s", uri, nbd_get_error ());
    goto err;
  }
  size = nbd_get_size (n->h);
  if (size < 0) {
    error_set ("nbd: '%s': size: %s", uri, nbd_get_error ());
    goto err;
  }
  if ((flags & IMAGE_OPEN_RDWR) && nbd_is_read_only (n->h) == 1) {
    error_set ("nbd: '%s': export is read-only", uri);
    goto err;
  }
  n->can_extents =
    nbd_can_meta_context (n->h, LIBNBD_CONTEXT_BASE_ALLOCATION) == 1;
  if (image_init (&n->img, &nbd_ops, uri, (uint64_t) size,
                  flags & IMAGE_OPEN_RDWR) == -1)
    goto err;
  return &n->img;

 err:
  if (n->h)
    nbd_close (n->h);
  free (n);
  return NULL;
}

static int
nbd_image_pread (struct image *img, void *buf, size_t count, uint64_t offset)
{
  struct nbd *n = (struct nbd *) img;
  char *p = buf;

  while (count > 0) {
    size_t len = count < NBD_MAX_REQUEST ? count : NBD_MAX_REQUEST;
    if (nbd_pread (n->h, p, len, offset, 0) == -1)
      return nbd_err (img, "read");
    p += len;
    offset += len;
    count -= len;
  }
  return 0;
}

static int
nbd_image_pwrite (struct image *img, const void *buf, size_t count,
                  uint64_t offset)
{
  struct nbd *n = (struct nbd *) img;
  const char *p = buf;

  while (count > 0) {
    size_t len = count < NBD_MAX_REQUEST ? count : NBD_MAX_REQUEST;
    if (nbd_pwrite (n->h, p, len, offset, 0) == -1)
      return nbd_err (img, "write");
    p += len;
    offset += len;
    count -= len;
  }
  return 0;
}

struct extents_ctx {
  extent_vector *out;
  uint64_t pos, end;
  int failed;
};

static int
extent_cb (void *user_data, const char *metacontext, uint64_t offset,
           uint32_t *entries, size_t nr_entries, int *error)
{
  struct extents_ctx *ctx = user_data;
  size_t i;

  (void) offset;
  (void) error;
  if (strcmp (metacontext, LIBNBD_CONTEXT_BASE_ALLOCATION) != 0)
    return 0;
  for (i = 0; i + 1 < nr_entries; i += 2) {
    uint64_t len;
    uint32_t flags, type;

    len = entries[i];
    flags = entries[i + 1];
    if (len > ctx->end - ctx->pos)
      len = ctx->end - ctx->pos;
    if (len == 0)
      break;
    if (flags & LIBNBD_STATE_HOLE)
      type = EXTENT_HOLE;
    else if (flags & LIBNBD_STATE_ZERO)
      type = EXTENT_ZERO;
    else
      type = EXTENT_DATA;
    if (extent_add (ctx->out, ctx->pos, len, type) == -1) {
      ctx->failed = 1;
      return -1;
    }
    ctx->pos += len;
  }
  return 0;
}

static int
nbd_image_extents (struct image *img, uint64_t offset, uint64_t length,
                   extent_vector *out)
{
  struct nbd *n = (struct nbd *) img;
  struct extents_ctx ctx = { .out = out, .pos = offset,
                             .end = offset + length };

  if (!n->can_extents)
    return extent_add (out, offset, length, EXTENT_DATA);
  while (ctx.pos < ctx.end) {
    uint64_t before = ctx.pos;
    uint64_t len = ctx.end - ctx.pos;

    if (len > 1u << 30)
      len = 1u << 30;
    if (nbd_block_status (n->h, len, ctx.pos,
                          (nbd_extent_callback) { .callback = extent_cb,
                                                  .user_data = &ctx }, 0) == -1) {
      if (ctx.failed)
        return -1;
      return nbd_err (img, "block status");
    }
    if (ctx.pos == before)      /* server made no progress: treat as data */
      return extent_add (out, ctx.pos, ctx.end - ctx.pos, EXTENT_DATA);
  }
  return 0;
}

static int
nbd_image_flush (struct image *img)
{
  struct nbd *n = (struct nbd *) img;

  if (nbd_can_flush (n->h) == 1 && nbd_flush (n->h, 0) == -1)
    return nbd_err (img, "flush");
  return 0;
}

static int
nbd_image_close (struct image *img)
{
  struct nbd *n = (struct nbd *) img;
  int ret = 0;

  if (img->writable && nbd_image_flush (img) == -1)
    ret = -1;
  nbd_shutdown (n->h, 0);
  nbd_close (n->h);
  image_fini (img);
  free (n);
  return ret;
}

static int
nbd_image_info (struct image *img, struct strbuf *out)
{
  struct nbd *n = (struct nbd *) img;
  const char *name = nbd_get_export_name (n->h);
  int r = strbuf_addf (out, "export\t%s\n", name ? name : "");

  free ((char *) name);
  return r;
}

const struct image_ops nbd_ops = {
  .name = "nbd",
  .open = nbd_open_uri,
  .pread = nbd_image_pread,
  .pwrite = nbd_image_pwrite,
  .extents = nbd_image_extents,
  .flush = nbd_image_flush,
  .close = nbd_image_close,
  .info = nbd_image_info,
};
