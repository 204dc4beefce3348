/* registry.c: the table of formats, probing by magic, and the bounds-checked
 * wrappers every caller goes through (image.h). */
#include "lib/common/compat.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/common/checked.h"
#include "lib/common/cleanup.h"
#include "lib/common/error.h"
#include "lib/common/fullrw.h"
#include "lib/common/strbuf.h"
#include "lib/image/image.h"

/* Probe order matters: formats with a magic at offset 0 first; VHD fixed is
 * recognised by its footer; raw is the fallback. */
static const struct image_ops *const formats[] = {
  &qcow2_ops, &vmdk_ops, &vhd_ops, &raw_ops, &nbd_ops,
};

#define PROBE_HEAD (64 * 1024)
#define PROBE_TAIL 512

const struct image_ops *
image_format_by_name (const char *name)
{
  size_t i;

  if (strcmp (name, "vpc") == 0)   /* qemu's name for VHD */
    name = "vhd";
  for (i = 0; i < sizeof formats / sizeof formats[0]; i++)
    if (strcmp (formats[i]->name, name) == 0)
      return formats[i];
  error_set ("unknown image format '%s' (known: raw, vhd, vmdk, qcow2)", name);
  return NULL;
}

static int
is_nbd_uri (const char *path)
{
  return strncmp (path, "nbd://", 6) == 0 ||
    strncmp (path, "nbd+unix://", 11) == 0 ||
    strncmp (path, "nbds://", 7) == 0 ||
    strncmp (path, "nbds+unix://", 12) == 0;
}

static const struct image_ops *
probe_file (const char *path)
{
  CLEANUP_CLOSE int fd = open (path, O_RDONLY | O_CLOEXEC);
  CLEANUP_FREE uint8_t *head = NULL;
  uint8_t tail[PROBE_TAIL];
  size_t head_len, tail_len = 0;
  uint64_t size;
  struct stat st;
  size_t i;

  if (fd == -1) {
    error_errno ("'%s'", path);
    return NULL;
  }
  if (fstat (fd, &st) == -1) {
    error_errno ("'%s': stat", path);
    return NULL;
  }
  if (S_ISBLK (st.st_mode) || S_ISCHR (st.st_mode))
    return &raw_ops;            /* devices hold raw disks */
  if (!S_ISREG (st.st_mode)) {
    error_set ("'%s': not a regular file or block device", path);
    return NULL;
  }
  size = (uint64_t) st.st_size;
  head_len = size < PROBE_HEAD ? (size_t) size : PROBE_HEAD;
  head = malloc (head_len ? head_len : 1);
  if (head == NULL) {
    error_errno ("malloc");
    return NULL;
  }
  if (full_pread (fd, head, head_len, 0, path) == -1)
    return NULL;
  if (size >= PROBE_TAIL) {
    tail_len = PROBE_TAIL;
    if (full_pread (fd, tail, tail_len, size - PROBE_TAIL, path) == -1)
      return NULL;
  }
  for (i = 0; i < sizeof formats / sizeof formats[0]; i++)
    if (formats[i]->probe &&
        formats[i]->probe (head, head_len, tail, tail_len, size))
      return formats[i];
  return &raw_ops;
}

static struct image *
open_depth (const char *path, unsigned flags, unsigned depth)
{
  const struct image_ops *ops;

  if (depth > IMAGE_MAX_CHAIN) {
    error_set ("'%s': backing chain longer than %d images (a loop?)",
               path, IMAGE_MAX_CHAIN);
    return NULL;
  }
  if (is_nbd_uri (path))
    ops = &nbd_ops;
  else if (flags & IMAGE_OPEN_RAW)
    ops = &raw_ops;
  else
    ops = probe_file (path);
  if (ops == NULL)
    return NULL;
  return ops->open (path, flags, depth);
}

struct image *
image_open (const char *path, unsigned flags)
{
  return open_depth (path, flags, 0);
}

struct image *
image_open_backing (const char *path, unsigned depth)
{
  return open_depth (path, 0, depth);
}

struct image *
image_create (const char *format, const char *path, uint64_t size,
              const struct image_create_opts *opts)
{
  const struct image_ops *ops = image_format_by_name (format);
  struct image_create_opts none = { 0 };

  if (ops == NULL)
    return NULL;
  if (ops->create == NULL) {
    error_set ("%s: creating images is not supported", ops->name);
    return NULL;
  }
  return ops->create (path, size, opts ? opts : &none);
}

static int
check_range (struct image *img, size_t count, uint64_t offset)
{
  uint64_t end;

  if (__builtin_add_overflow (offset, (uint64_t) count, &end) ||
      end > img->size)
    return error_set ("%s: '%s': access at %llu+%zu beyond the virtual size %llu",
                      img->ops->name, img->path,
                      (unsigned long long) offset, count,
                      (unsigned long long) img->size);
  return 0;
}

int
image_pread (struct image *img, void *buf, size_t count, uint64_t offset)
{
  if (check_range (img, count, offset) == -1)
    return -1;
  if (count == 0)
    return 0;
  return img->ops->pread (img, buf, count, offset);
}

int
image_pwrite (struct image *img, const void *buf, size_t count,
              uint64_t offset)
{
  if (!img->writable)
    return error_set ("%s: '%s': image is read-only", img->ops->name,
                      img->path);
  if (check_range (img, count, offset) == -1)
    return -1;
  if (count == 0)
    return 0;
  return img->ops->pwrite (img, buf, count, offset);
}

int
image_extents (struct image *img, uint64_t offset, uint64_t length,
               extent_vector *out)
{
  if (check_range (img, 0, offset) == -1 ||
      length > img->size - offset)
    return error_set ("%s: '%s': extents request beyond the virtual size",
                      img->ops->name, img->path);
  if (length == 0)
    return 0;
  if (img->ops->extents == NULL)
    return extent_add (out, offset, length, EXTENT_DATA);
  return img->ops->extents (img, offset, length, out);
}

int
image_zero (struct image *img, uint64_t offset, uint64_t length)
{
  static const unsigned char zeros[65536];
  int r;

  if (!img->writable)
    return error_set ("%s: '%s': image is read-only", img->ops->name,
                      img->path);
  if (offset > img->size || length > img->size - offset)
    return error_set ("%s: '%s': zeroing %llu bytes at %llu: past the end",
                      img->ops->name, img->path,
                      (unsigned long long) length,
                      (unsigned long long) offset);
  if (length == 0)
    return 0;
  if (img->ops->zero && (r = img->ops->zero (img, offset, length)) <= 0)
    return r;
  while (length) {
    size_t n = length < sizeof zeros ? (size_t) length : sizeof zeros;
    if (img->ops->pwrite (img, zeros, n, offset) == -1)
      return -1;
    offset += n;
    length -= n;
  }
  return 0;
}

int
image_flush (struct image *img)
{
  if (!img->writable || img->ops->flush == NULL)
    return 0;
  return img->ops->flush (img);
}

void
image_prefetch (struct image *img, uint64_t offset, uint64_t length)
{
  if (img->ops->prefetch && offset < img->size)
    img->ops->prefetch (img, offset, MIN (length, img->size - offset));
}

int
image_close (struct image *img)
{
  if (img == NULL)
    return 0;
  return img->ops->close (img);
}

const char *
image_format (const struct image *img)
{
  return img->ops->name;
}

int
image_init (struct image *img, const struct image_ops *ops,
            const char *path, uint64_t size, bool writable)
{
  img->ops = ops;
  img->size = size;
  img->writable = writable;
  img->backing = NULL;
  img->path = xstrdup (path);
  return img->path ? 0 : -1;
}

void
image_fini (struct image *img)
{
  free (img->path);
  img->path = NULL;
  image_close (img->backing);
  img->backing = NULL;
}

int
extent_add (extent_vector *v, uint64_t offset, uint64_t length,
            uint32_t type)
{
  struct extent *last;

  if (length == 0)
    return 0;
  if (v->len > 0) {
    last = &v->ptr[v->len - 1];
    if (last->type == type && last->offset + last->length == offset) {
      last->length += length;
      return 0;
    }
  }
  return extent_vector_append (v, (struct extent) {
      .offset = offset, .length = length, .type = type });
}
