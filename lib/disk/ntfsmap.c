/* ntfsmap.c: the used clusters of an NTFS volume, read from its $Bitmap
 * through libntfs-3g, over a read-only ntfs_device whose operations read
 * Ferry's image layer at the partition's offset (so the same code serves
 * devices, files and NBD sources, and can never write).
 *
 * Kept: every cluster $Bitmap marks in use (the boot sector, $MFT, $LogFile
 * and the files) and the backup boot sector, the last sector of the
 * partition.  A volume marked dirty, or hibernated (Windows hibernation
 * or fast startup: hiberfil.sys with a live header), is copied in full. */
#include "lib/common/compat.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <ntfs-3g/types.h>
#include <ntfs-3g/attrib.h>
#include <ntfs-3g/device.h>
#include <ntfs-3g/layout.h>
#include <ntfs-3g/logging.h>
#include <ntfs-3g/volume.h>

#include "lib/common/checked.h"
#include "lib/common/error.h"
#include "lib/disk/fsread.h"
#include "lib/disk/usedmap.h"

#define NTFS_CHUNK (1 << 20)          /* $Bitmap bytes read at a time */

/* The device's private data: the partition and a file position. */
struct ntfsio {
  struct fsread f;
  int64_t pos;
};

static int
io_open (struct ntfs_device *dev, int flags)
{
  if ((flags & O_ACCMODE) != O_RDONLY) {
    errno = EROFS;
    return -1;
  }
  NDevSetOpen (dev);
  NDevSetReadOnly (dev);
  return 0;
}

static int
io_close (struct ntfs_device *dev)
{
  NDevClearOpen (dev);
  return 0;
}

static s64
io_seek (struct ntfs_device *dev, s64 offset, int whence)
{
  struct ntfsio *io = dev->d_private;
  int64_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? io->pos
    : (int64_t) io->f.length;

  if (whence != SEEK_SET && whence != SEEK_CUR && whence != SEEK_END) {
    errno = EINVAL;
    return -1;
  }
  if (offset < -base || offset > INT64_MAX - base) {
    errno = EINVAL;
    return -1;
  }
  io->pos = base + offset;
  return io->pos;
}

static s64
io_pread (struct ntfs_device *dev, void *buf, s64 count, s64 offset)
{
  struct ntfsio *io = dev->d_private;
  uint64_t n;

  if (count < 0 || offset < 0) {
    errno = EINVAL;
    return -1;
  }
  if ((uint64_t) offset >= io->f.length)
    return 0;                 /* end of the partition */
  n = MIN ((uint64_t) count, io->f.length - (uint64_t) offset);
  if (fs_read (&io->f, buf, n, (uint64_t) offset) == -1) {
    errno = EIO;
    return -1;
  }
  return (s64) n;
}

static s64
io_read (struct ntfs_device *dev, void *buf, s64 count)
{
  struct ntfsio *io = dev->d_private;
  s64 n = io_pread (dev, buf, count, io->pos);

  if (n > 0)
    io->pos += n;
  return n;
}

static s64
io_write (struct ntfs_device *dev, const void *buf, s64 count)
{
  (void) dev;
  (void) buf;
  (void) count;
  errno = EROFS;              /* a source is never written */
  return -1;
}

static s64
io_pwrite (struct ntfs_device *dev, const void *buf, s64 count, s64 offset)
{
  (void) offset;
  return io_write (dev, buf, count);
}

static int
io_sync (struct ntfs_device *dev)
{
  (void) dev;
  return 0;
}

static int
io_stat (struct ntfs_device *dev, struct stat *st)
{
  struct ntfsio *io = dev->d_private;

  memset (st, 0, sizeof *st);
  st->st_mode = S_IFREG | 0400;
  st->st_size = (off_t) io->f.length;
  return 0;
}

static int
io_ioctl (struct ntfs_device *dev, unsigned long request, void *argp)
{
  (void) dev;
  (void) request;
  (void) argp;
  errno = ENOTTY;
  return -1;
}

static struct ntfs_device_operations ntfsio_ops = {
  .open = io_open,
  .close = io_close,
  .seek = io_seek,
  .read = io_read,
  .write = io_write,
  .pread = io_pread,
  .pwrite = io_pwrite,
  .sync = io_sync,
  .stat = io_stat,
  .ioctl = io_ioctl,
};

/* Keep the clusters $Bitmap marks, reading it a chunk at a time. */
static int
keep_bitmap (ntfs_volume *vol, const struct fsread *f, extent_vector *mine)
{
  uint64_t clusters = (uint64_t) vol->nr_clusters, pos;
  uint64_t bytes = (clusters + 7) / 8;
  unsigned char *buf = malloc (NTFS_CHUNK);
  int r = 0;

  if (buf == NULL)
    return -1;
  for (pos = 0; pos < bytes && r == 0; pos += NTFS_CHUNK) {
    s64 n = (s64) MIN (bytes - pos, (uint64_t) NTFS_CHUNK);

    if (ntfs_attr_pread (vol->lcnbmp_na, (s64) pos, n, buf) != n)
      r = 1;
    else
      r = fs_keep_bits (f, mine, buf, pos * 8,
                        MIN ((uint64_t) n * 8, clusters - pos * 8), 0,
                        vol->cluster_size);
  }
  free (buf);
  return r;
}

/* Why the volume's bitmap cannot be trusted, or NULL. */
static const char *
unsafe_state (ntfs_volume *vol)
{
  if (vol->flags & VOLUME_IS_DIRTY)
    return "the volume is marked dirty (run chkdsk in Windows first)";
  if (ntfs_volume_check_hiberfile (vol, 0) == -1)
    return errno == EPERM
      ? "Windows is hibernated or fast startup left the volume in use"
      : "hiberfil.sys cannot be read";
  return NULL;
}

static int
map_volume (ntfs_volume *vol, const struct fsread *f, extent_vector *mine)
{
  uint64_t ss = vol->sector_size;
  const char *why = unsafe_state (vol);
  int r;

  if (why) {
    error_set ("%s", why);
    return USEDMAP_UNSAFE;
  }
  if (vol->nr_clusters <= 0 || vol->cluster_size == 0 ||
      (uint64_t) vol->nr_clusters > f->length / vol->cluster_size ||
      vol->lcnbmp_na == NULL)
    return 1;
  if ((r = keep_bitmap (vol, f, mine)) != 0)
    return r;
  /* The backup boot sector, which $Bitmap does not cover. */
  return f->length >= ss && ss ? fs_keep (f, mine, f->length - ss, ss) : 0;
}

/* libntfs-3g reports through its own logger, to stderr by default. */
static void
ntfs_quiet (void)
{
  ntfs_log_set_handler (ntfs_log_handler_null);
  ntfs_log_clear_levels (UINT32_MAX);
}

int
ntfsmap_used (struct image *src, uint64_t offset, uint64_t length,
              unsigned retries, extent_vector *keep)
{
  struct ntfsio io = { .f = { .img = src, .offset = offset,
                              .length = length, .retries = retries } };
  unsigned char boot[512];
  extent_vector mine = empty_vector;
  struct ntfs_device *dev;
  ntfs_volume *vol;
  int r;

  /* A quick look before libntfs-3g allocates anything. */
  if (fs_read (&io.f, boot, sizeof boot, 0) == -1 ||
      memcmp (boot + 3, "NTFS    ", 8) != 0)
    return 1;
  ntfs_quiet ();
  dev = ntfs_device_alloc ("ferry-source", 0, &ntfsio_ops, &io);
  if (dev == NULL)
    return -1;
  vol = ntfs_device_mount (dev, NTFS_MNT_RDONLY | NTFS_MNT_FORENSIC);
  if (vol == NULL) {
    ntfs_device_free (dev);
    return 1;                 /* not NTFS, or too damaged to trust */
  }
  r = map_volume (vol, &io.f, &mine);
  if (r == 0)
    r = fs_append (keep, &mine);
  extent_vector_reset (&mine);
  ntfs_umount (vol, FALSE);   /* frees dev */
  return r;
}
