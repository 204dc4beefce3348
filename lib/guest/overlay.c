/* overlay.c: in-place guest edits through a qcow2 overlay backed by the
 * image, written back only once the whole edit succeeded. */
#include "lib/common/compat.h"

#include <signal.h>
#include <stdio.h>
#include <libnbd.h>
#include <stdlib.h>
#include <string.h>

#include "lib/common/error.h"
#include "lib/common/strbuf.h"
#include "lib/guest/overlay.h"
#include "lib/image/image.h"

#define CHUNK (1u << 20)      /* well below NBD's request limits */

int
guest_overlay_begin (struct guest_overlay *o, const char *image,
                     const char *format, uint64_t size)
{
  struct image *img;
  char *base;

  if (strcmp (format, "raw") && strcmp (format, "qcow2"))
    return error_set ("'%s': in-place edits of %s images are not supported",
                      image, format);
  if ((base = realpath (image, NULL)) == NULL)
    return error_errno ("'%s'", image);
  o->image = xstrdup (image);
  o->format = xstrdup (format);
  /* The final name is IMAGE itself: outfile only lends its hidden
   * temporary name and its signal cleanup; the overlay is never renamed. */
  if (o->image == NULL || o->format == NULL ||
      outfile_begin (&o->of, image, true) == -1)
    goto fail;
  o->path = o->of.tmp;
  img = image_create ("qcow2", o->of.tmp, size, &(struct image_create_opts) {
      .backing = base, .backing_format = format });
  if (img == NULL || image_close (img) == -1) {
    error_prefix ("overlay: ");
    goto fail;
  }
  free (base);
  return 0;
fail:
  free (base);
  guest_overlay_abort (o);
  return -1;
}

int
guest_overlay_written (struct image *ov, extent_vector *out)
{
  struct image *backing = ov->backing;
  extent_vector all = empty_vector;
  struct extent *last;
  size_t i;
  int r;

  ov->backing = NULL;
  r = image_extents (ov, 0, ov->size, &all);
  ov->backing = backing;
  for (i = 0; r == 0 && i < all.len; i++) {
    if (all.ptr[i].type == EXTENT_HOLE)
      continue;
    last = out->len ? &out->ptr[out->len - 1] : NULL;
    if (last && last->offset + last->length == all.ptr[i].offset)
      last->length += all.ptr[i].length;
    else if (extent_vector_append (out, (struct extent) {
          all.ptr[i].offset, all.ptr[i].length, EXTENT_DATA }) == -1)
      r = error_errno ("overlay extents");
  }
  extent_vector_reset (&all);
  return r;
}

int
guest_overlay_union (const extent_vector *a, const extent_vector *b,
                     extent_vector *out)
{
  size_t i = 0, j = 0;

  while (i < a->len || j < b->len) {
    const struct extent *e =
      j >= b->len || (i < a->len && a->ptr[i].offset <= b->ptr[j].offset)
      ? &a->ptr[i++] : &b->ptr[j++];
    struct extent *last = out->len ? &out->ptr[out->len - 1] : NULL;
    if (e->length == 0)
      continue;
    if (last && e->offset <= last->offset + last->length) {
      if (e->offset + e->length > last->offset + last->length)
        last->length = e->offset + e->length - last->offset;
      continue;
    }
    if (extent_vector_append (out, (struct extent) {
          e->offset, e->length, EXTENT_DATA }) == -1)
      return error_errno ("extents");
  }
  return 0;
}

/* Where the written ranges go: the raw image, or a qemu-nbd serving the
 * qcow2 image (QEMU's block layer writes qcow2 in place; Ferry's qcow2
 * driver only creates files). */
struct sink {
  struct image *raw;
  struct nbd_handle *nbd;
};

static int
sink_write (struct sink *k, const char *buf, size_t n, uint64_t off)
{
  if (k->raw)
    return image_pwrite (k->raw, buf, n, off);
  if (nbd_pwrite (k->nbd, buf, n, off, 0) == -1)
    return error_set ("qemu-nbd: write: %s", nbd_get_error ());
  return 0;
}

static int
copy_written (struct image *ov, struct sink *k)
{
  extent_vector ext = empty_vector;
  char *buf = malloc (CHUNK);
  uint64_t off, end;
  size_t i, n;
  int r = buf ? guest_overlay_written (ov, &ext) : error_errno ("malloc");

  for (i = 0; r == 0 && i < ext.len; i++) {
    end = ext.ptr[i].offset + ext.ptr[i].length;
    for (off = ext.ptr[i].offset; r == 0 && off < end; off += n) {
      n = end - off < CHUNK ? (size_t) (end - off) : CHUNK;
      r = image_pread (ov, buf, n, off) == -1 ? -1 : sink_write (k, buf, n,
                                                                 off);
    }
  }
  extent_vector_reset (&ext);
  free (buf);
  return r;
}

static int
commit_raw (struct guest_overlay *o, struct image *ov)
{
  struct sink k = { .raw = image_open (o->image, IMAGE_OPEN_RDWR) };
  int r;

  if (k.raw == NULL)
    return -1;
  if (strcmp (image_format (k.raw), "raw") != 0 ||
      k.raw->size != ov->size) {
    image_close (k.raw);
    return error_set ("'%s': changed during the conversion", o->image);
  }
  r = copy_written (ov, &k);
  if (r == 0)
    r = image_flush (k.raw);
  if (image_close (k.raw) == -1)
    r = -1;
  return r;
}

/* qemu-nbd on IMAGE, started with the signals held so that an interrupt
 * cannot kill it half-way through the write-back (it exits by itself
 * once disconnected). */
static struct nbd_handle *
open_qcow2 (const char *image, uint64_t size)
{
  char *argv[] = { (char *) "qemu-nbd", (char *) "-f", (char *) "qcow2",
                   (char *) image, NULL };
  struct nbd_handle *h = nbd_create ();
  int64_t got;

  if (h == NULL) {
    error_set ("qemu-nbd: %s", nbd_get_error ());
    return NULL;
  }
  if (nbd_connect_systemd_socket_activation (h, argv) == -1) {
    error_set ("qemu-nbd: %s", nbd_get_error ());
    goto fail;
  }
  if (nbd_is_read_only (h) != 0) {
    error_set ("qemu-nbd: the image is read-only");
    goto fail;
  }
  if ((got = nbd_get_size (h)) == -1 || (uint64_t) got != size) {
    error_set ("'%s': changed during the conversion", image);
    goto fail;
  }
  return h;
fail:
  nbd_close (h);
  return NULL;
}

static int
commit_qcow2 (struct guest_overlay *o, struct image *ov)
{
  struct sink k = { .nbd = open_qcow2 (o->image, ov->size) };
  int r;

  if (k.nbd == NULL)
    return -1;
  r = copy_written (ov, &k);
  if (r == 0 && nbd_flush (k.nbd, 0) == -1)
    r = error_set ("qemu-nbd: flush: %s", nbd_get_error ());
  if (nbd_shutdown (k.nbd, 0) == -1 && r == 0)
    r = error_set ("qemu-nbd: %s", nbd_get_error ());
  nbd_close (k.nbd);
  return r;
}

int
guest_overlay_commit (struct guest_overlay *o)
{
  struct image *ov;
  sigset_t hold, old;
  int r;

  if ((ov = image_open (o->path, 0)) == NULL)
    return -1;
  sigemptyset (&hold);
  sigaddset (&hold, SIGINT);
  sigaddset (&hold, SIGTERM);
  sigaddset (&hold, SIGHUP);
  sigprocmask (SIG_BLOCK, &hold, &old);
  r = strcmp (o->format, "qcow2") == 0 ? commit_qcow2 (o, ov)
    : commit_raw (o, ov);
  if (r == 0) {
    image_close (ov);
    ov = NULL;
    guest_overlay_abort (o);  /* written back: the overlay goes */
  }
  sigprocmask (SIG_SETMASK, &old, NULL);
  if (r == -1)
    error_prefix ("'%s': writing the changes back: ", o->image);
  image_close (ov);
  return r;
}

void
guest_overlay_abort (struct guest_overlay *o)
{
  outfile_abort (&o->of);
  o->path = NULL;
  free (o->image);
  free (o->format);
  o->image = o->format = NULL;
}

/* The overlay's backing: qemu opens it read-only. */
static char *
backing_name (const char *image)
{
  char *real;

  if (strstr (image, "://"))
    return xstrdup (image);
  if ((real = realpath (image, NULL)) == NULL)
    error_errno ("'%s'", image);
  return real;
}

int
guest_overlay_create (const char *path, const char *image, const char *fmt,
                uint64_t size)
{
  char *base = backing_name (image);
  struct image *img = NULL;
  int r = -1;

  if (base == NULL)
    return -1;
  img = image_create ("qcow2", path, size, &(struct image_create_opts) {
      .backing = base, .backing_format = fmt });
  if (img != NULL && image_close (img) == 0)
    r = 0;
  else
    error_prefix ("overlay: ");
  free (base);
  return r;
}
