/* raw.c: raw disk images — regular files and block devices.
 * Extents come from SEEK_DATA/SEEK_HOLE; writes of all-zero blocks punch
 * nothing and simply are not made, so outputs stay sparse. */
#include "lib/common/compat.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/common/error.h"
#include "lib/common/fullrw.h"
#include "lib/common/strbuf.h"
#include "lib/image/image.h"

struct raw {
  struct image img;
  int fd;
  bool is_device;
  bool seek_data_ok;          /* SEEK_DATA supported on this file */
};

static struct image *
raw_wrap (int fd, const char *path, bool writable)
{
  struct raw *r = calloc (1, sizeof *r);
  struct stat st;
  uint64_t size;

  if (r == NULL) {
    error_errno ("malloc");
    goto err;
  }
  if (fstat (fd, &st) == -1) {
    error_errno ("raw: '%s': stat", path);
    goto err;
  }
  r->is_device = S_ISBLK (st.st_mode);
  if (r->is_device) {
    if (ioctl (fd, BLKGETSIZE64, &size) == -1) {
      error_errno ("raw: '%s': BLKGETSIZE64", path);
      goto err;
    }
  }
  else if (S_ISREG (st.st_mode))
    size = (uint64_t) st.st_size;
  else {
    error_set ("raw: '%s': not a regular file or block device", path);
    goto err;
  }
  r->fd = fd;
  r->seek_data_ok = !r->is_device;
  if (image_init (&r->img, &raw_ops, path, size, writable) == -1)
    goto err;
  return &r->img;

 err:
  free (r);
  close (fd);
  return NULL;
}

static struct image *
raw_open (const char *path, unsigned flags, unsigned depth)
{
  bool rw = flags & IMAGE_OPEN_RDWR;
  /* O_EXCL without O_CREAT claims a block device for us alone (EBUSY
   * while it is mounted or held by LVM/md); files ignore it. */
  int fd = open (path, (rw ? O_RDWR | O_EXCL : O_RDONLY) | O_CLOEXEC);

  (void) depth;
  if (fd == -1 && errno == EBUSY) {
    error_set ("raw: '%s': in use (mounted, or held by another program)",
               path);
    return NULL;
  }
  if (fd == -1) {
    error_errno ("raw: '%s'", path);
    return NULL;
  }
  return raw_wrap (fd, path, rw);
}

static struct image *
raw_create (const char *path, uint64_t size,
            const struct image_create_opts *opts)
{
  int fd;

  if (opts->backing)
    return error_set ("raw: '%s': raw images cannot have a backing file",
                      path), NULL;
  fd = open (path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd == -1) {
    error_errno ("raw: '%s'", path);
    return NULL;
  }
  if (ftruncate (fd, (off_t) size) == -1) {
    error_errno ("raw: '%s': truncate to %llu bytes", path,
                 (unsigned long long) size);
    close (fd);
    unlink (path);
    return NULL;
  }
  return raw_wrap (fd, path, true);
}

static int
raw_pread (struct image *img, void *buf, size_t count, uint64_t offset)
{
  struct raw *r = (struct raw *) img;

  return full_pread (r->fd, buf, count, offset, img->path);
}

static int
raw_pwrite (struct image *img, const void *buf, size_t count,
            uint64_t offset)
{
  struct raw *r = (struct raw *) img;

  return full_pwrite (r->fd, buf, count, offset, img->path);
}

/* A block device zeroes with BLKZEROOUT (the kernel uses the device's
 * write-zeroes command where there is one and writes zeros otherwise: the
 * range reads as zeros either way, unlike a discard); a file gets a hole
 * of the same size, or zeros written where it cannot have holes. */
static int
raw_zero (struct image *img, uint64_t offset, uint64_t length)
{
  struct raw *r = (struct raw *) img;
  uint64_t range[2] = { offset, length };

  if (r->is_device) {
    if ((offset | length) % 512)
      return 1;                 /* BLKZEROOUT takes whole sectors */
    if (ioctl (r->fd, BLKZEROOUT, range) == -1)
      return error_errno ("raw: '%s': zeroing %llu bytes at %llu", img->path,
                          (unsigned long long) length,
                          (unsigned long long) offset);
    return 0;
  }
  if (fallocate (r->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                 (off_t) offset, (off_t) length) == 0)
    return 0;
  if (errno == EOPNOTSUPP)
    return 1;
  return error_errno ("raw: '%s': punching %llu bytes at %llu", img->path,
                      (unsigned long long) length,
                      (unsigned long long) offset);
}

static int
raw_extents (struct image *img, uint64_t offset, uint64_t length,
             extent_vector *out)
{
  struct raw *r = (struct raw *) img;
  uint64_t end = offset + length;
  off_t data, hole;

  if (!r->seek_data_ok)
    return extent_add (out, offset, length, EXTENT_DATA);

  while (offset < end) {
    data = lseek (r->fd, (off_t) offset, SEEK_DATA);
    if (data == -1) {
      if (errno == ENXIO)       /* no data until end of file */
        return extent_add (out, offset, end - offset, EXTENT_HOLE);
      if (errno == EINVAL || errno == EOPNOTSUPP) {
        r->seek_data_ok = false;
        return extent_add (out, offset, end - offset, EXTENT_DATA);
      }
      return error_errno ("raw: '%s': SEEK_DATA", img->path);
    }
    if ((uint64_t) data >= end)
      return extent_add (out, offset, end - offset, EXTENT_HOLE);
    if (extent_add (out, offset, (uint64_t) data - offset, EXTENT_HOLE) == -1)
      return -1;
    hole = lseek (r->fd, data, SEEK_HOLE);
    if (hole == -1)
      return error_errno ("raw: '%s': SEEK_HOLE", img->path);
    if ((uint64_t) hole > end)
      hole = (off_t) end;
    if (extent_add (out, (uint64_t) data, (uint64_t) (hole - data),
                    EXTENT_DATA) == -1)
      return -1;
    offset = (uint64_t) hole;
  }
  return 0;
}

static void
raw_prefetch (struct image *img, uint64_t offset, uint64_t length)
{
  struct raw *r = (struct raw *) img;

  /* Asynchronous readahead: the kernel reads while we write. */
  posix_fadvise (r->fd, (off_t) offset, (off_t) length, POSIX_FADV_WILLNEED);
}

static int
raw_flush (struct image *img)
{
  struct raw *r = (struct raw *) img;

  if (fsync (r->fd) == -1)
    return error_errno ("raw: '%s': fsync", img->path);
  return 0;
}

static int
raw_close (struct image *img)
{
  struct raw *r = (struct raw *) img;
  int ret = 0;

  if (img->writable && raw_flush (img) == -1)
    ret = -1;
  if (close (r->fd) == -1 && ret == 0)
    ret = error_errno ("raw: '%s': close", img->path);
  image_fini (img);
  free (r);
  return ret;
}

static int
raw_info (struct image *img, struct strbuf *out)
{
  struct raw *r = (struct raw *) img;

  return strbuf_addf (out, "device\t%s\n", r->is_device ? "yes" : "no");
}

const struct image_ops raw_ops = {
  .name = "raw",
  .probe = NULL,
  .open = raw_open,
  .create = raw_create,
  .pread = raw_pread,
  .pwrite = raw_pwrite,
  .extents = raw_extents,
  .zero = raw_zero,
  .flush = raw_flush,
  .close = raw_close,
  .check = NULL,
  .prefetch = raw_prefetch,
  .info = raw_info,
};
