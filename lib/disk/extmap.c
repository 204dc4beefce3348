/* extmap.c: the used blocks of an ext2/3/4 filesystem, read through
 * libext2fs with an I/O manager over Ferry's image layer, so the same code
 * serves block devices, files and NBD sources and can never write. */
#include "lib/common/compat.h"

#include <errno.h>
#include <stdbool.h>
#include <ext2fs/ext2_fs.h>
#include <ext2fs/ext2fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/common/error.h"
#include "lib/image/copy.h"
#include "lib/disk/usedmap.h"

/* The channel's private data: which image, and where the fs starts. */
struct imgio {
  struct image *img;
  uint64_t offset, length;
  unsigned retries;
};

/* libext2fs opens channels by name; the name carries the pointer to a
 * struct imgio that lives on extmap_used's stack for the whole session. */
static errcode_t imgio_open (const char *name, int flags, io_channel *chan);

static errcode_t
imgio_close (io_channel chan)
{
  if (--chan->refcount > 0)
    return 0;
  free (chan->name);
  free (chan);
  return 0;
}

static errcode_t
imgio_set_blksize (io_channel chan, int blksize)
{
  chan->block_size = blksize;
  return 0;
}

static errcode_t
imgio_read_blk64 (io_channel chan, unsigned long long block, int count,
                  void *data)
{
  struct imgio *io = chan->private_data;
  uint64_t len = count < 0 ? (uint64_t) -count
    : (uint64_t) count * (uint64_t) chan->block_size;
  uint64_t off = block * (uint64_t) chan->block_size;

  if (off > io->length || len > io->length - off)
    return EXT2_ET_SHORT_READ;
  if (image_pread_retry (io->img, data, len, io->offset + off,
                         io->retries) == -1)
    return errno ? (errcode_t) errno : EXT2_ET_SHORT_READ;
  return 0;
}

static errcode_t
imgio_read_blk (io_channel chan, unsigned long block, int count, void *data)
{
  return imgio_read_blk64 (chan, block, count, data);
}

static errcode_t
imgio_write_blk64 (io_channel chan, unsigned long long block, int count,
                   const void *data)
{
  (void) chan;
  (void) block;
  (void) count;
  (void) data;
  return EXT2_ET_RO_FILSYS;   /* a source is never written */
}

static errcode_t
imgio_write_blk (io_channel chan, unsigned long block, int count,
                 const void *data)
{
  return imgio_write_blk64 (chan, block, count, data);
}

static errcode_t
imgio_flush (io_channel chan)
{
  (void) chan;
  return 0;
}

static errcode_t
imgio_set_option (io_channel chan, const char *option, const char *arg)
{
  (void) chan;
  (void) option;
  (void) arg;
  return EXT2_ET_INVALID_ARGUMENT;
}

static struct struct_io_manager imgio_manager = {
  .magic = EXT2_ET_MAGIC_IO_MANAGER,
  .name = "ferry image I/O manager",
  .open = imgio_open,
  .close = imgio_close,
  .set_blksize = imgio_set_blksize,
  .read_blk = imgio_read_blk,
  .write_blk = imgio_write_blk,
  .flush = imgio_flush,
  .set_option = imgio_set_option,
  .read_blk64 = imgio_read_blk64,
  .write_blk64 = imgio_write_blk64,
};

static errcode_t
imgio_open (const char *name, int flags, io_channel *chanp)
{
  struct imgio *io;
  io_channel chan;

  if (flags & IO_FLAG_RW)
    return EXT2_ET_RO_FILSYS;
  if (sscanf (name, "ferry:%p", (void **) &io) != 1 || io == NULL)
    return EXT2_ET_BAD_DEVICE_NAME;
  chan = calloc (1, sizeof *chan);
  if (chan == NULL)
    return ENOMEM;
  chan->magic = EXT2_ET_MAGIC_IO_CHANNEL;
  chan->manager = &imgio_manager;
  chan->name = strdup (name);
  chan->block_size = 1024;
  chan->refcount = 1;
  chan->private_data = io;
  if (chan->name == NULL) {
    free (chan);
    return ENOMEM;
  }
  *chanp = chan;
  return 0;
}

/* Append the runs of set bits in the block bitmap as byte ranges. */
static int
add_used_runs (ext2_filsys fs, const struct imgio *io, extent_vector *keep)
{
  blk64_t start = fs->super->s_first_data_block;
  blk64_t end = ext2fs_blocks_count (fs->super) - 1;
  uint64_t bs = fs->blocksize;

  /* Blocks before the first data block (the boot sector area of a 1 KiB
   * block filesystem) are not in the bitmap but belong to the disk. */
  if (extent_add (keep, io->offset, (start + 1) * bs, EXTENT_DATA) == -1)
    return -1;
  start++;
  while (start <= end) {
    blk64_t first, last;

    if (ext2fs_find_first_set_block_bitmap2 (fs->block_map, start, end,
                                             &first) != 0)
      break;
    if (ext2fs_find_first_zero_block_bitmap2 (fs->block_map, first, end,
                                              &last) != 0)
      last = end + 1;
    if (extent_add (keep, io->offset + first * bs, (last - first) * bs,
                    EXTENT_DATA) == -1)
      return -1;
    start = last;
  }
  return 0;
}

/* A clean journal (s_start == 0 in its big-endian superblock) is never
 * read at mount: only its first block matters.  Drop the rest from the
 * in-memory bitmap (the filesystem is open read-only; nothing is written).
 * Up to the journal's size (often 64-128 MiB) of stale transactions then
 * stays behind, which no peer tool manages. */
#define JBD2_MAGIC 0xc03b3998u

struct journal_walk {
  int64_t kept;               /* journal data blocks left marked (block 0) */
};

static int
unmark_journal_block (ext2_filsys fs, blk64_t *blocknr, e2_blkcnt_t blockcnt,
                      blk64_t ref_blk, int ref_offset, void *priv)
{
  struct journal_walk *w = priv;

  (void) ref_blk;
  (void) ref_offset;
  if (blockcnt == 0)
    w->kept++;                /* the journal superblock */
  else if (blockcnt > 0)
    ext2fs_unmark_block_bitmap2 (fs->block_map, *blocknr);
  return 0;
}

static uint32_t
be32_at (const unsigned char *p)
{
  return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8
    | p[3];
}

static bool
journal_is_clean (ext2_filsys fs, ext2_ino_t ino)
{
  unsigned char *buf = malloc (fs->blocksize);
  blk64_t first = 0;
  bool clean = false;

  if (buf && ext2fs_bmap2 (fs, ino, NULL, NULL, 0, 0, NULL, &first) == 0 &&
      first != 0 && io_channel_read_blk64 (fs->io, first, 1, buf) == 0)
    clean = be32_at (buf) == JBD2_MAGIC && be32_at (buf + 28) == 0;
  free (buf);
  return clean;
}

static void
drop_clean_journal (ext2_filsys fs)
{
  ext2_ino_t ino = fs->super->s_journal_inum;
  struct journal_walk w = { 0 };

  if (!ext2fs_has_feature_journal (fs->super) || ino == 0 ||
      !journal_is_clean (fs, ino))
    return;
  ext2fs_block_iterate3 (fs, ino, BLOCK_FLAG_DATA_ONLY | BLOCK_FLAG_READ_ONLY,
                         NULL, unmark_journal_block, &w);
}

int
extmap_used (struct image *src, uint64_t offset, uint64_t length,
             unsigned retries, extent_vector *keep)
{
  struct imgio io = { .img = src, .offset = offset, .length = length,
                      .retries = retries };
  char name[64];
  ext2_filsys fs = NULL;
  errcode_t err;
  int r;

  snprintf (name, sizeof name, "ferry:%p", (void *) &io);
  err = ext2fs_open2 (name, NULL, EXT2_FLAG_64BITS | EXT2_FLAG_SKIP_MMP,
                      0, 0, &imgio_manager, &fs);
  if (err)
    return 1;                 /* not ext, or too damaged to trust */
  if ((uint64_t) ext2fs_blocks_count (fs->super) * fs->blocksize > length) {
    ext2fs_close_free (&fs);
    return 1;                 /* fs claims more than its partition */
  }
  /* A journal awaiting replay may hold blocks the on-disk bitmap still
   * calls free: trust nothing, copy the whole partition. */
  if (ext2fs_has_feature_journal_needs_recovery (fs->super)) {
    ext2fs_close_free (&fs);
    return 1;
  }
  err = ext2fs_read_block_bitmap (fs);
  if (err) {
    ext2fs_close_free (&fs);
    return 1;
  }
  drop_clean_journal (fs);
  r = add_used_runs (fs, &io, keep);
  ext2fs_close_free (&fs);
  return r;
}
