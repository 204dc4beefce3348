/* tar.h: tar members written at known offsets of a seekable file, for the
 * OVA writer, whose disk members are streamed before their sizes are known.
 *
 * Every header block comes from libarchive (GNU format: members of 8 GiB
 * or more get base-256 sizes, which vSphere and virt-v2v accept, where PAX
 * headers are refused by vSphere).  Only the header bytes are taken from
 * libarchive; Ferry places them itself, so a header can be written as a
 * placeholder, the member streamed after it, and the real header put back
 * over the placeholder once the size is known.
 */
#ifndef FERRY_TAR_H
#define FERRY_TAR_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define TAR_BLOCK 512u
/* Names of 100 bytes or more would need a LongLink block before the header,
 * which the patch-in-place scheme cannot hold: they are refused. */
#define TAR_NAME_MAX 99u
/* libarchive's end of archive: two zero blocks. */
#define TAR_TRAILER (2u * TAR_BLOCK)

/* The single 512-byte header block of a regular file `name` of `size`
 * bytes, mode 0644, owner 0:0, modified at `mtime`.  -1 + error if the name
 * is empty, too long, or libarchive produced anything but one block. */
int tar_header (const char *name, uint64_t size, time_t mtime,
                uint8_t out[TAR_BLOCK]);

/* The end-of-archive bytes libarchive writes (TAR_TRAILER bytes). */
int tar_trailer (uint8_t out[TAR_TRAILER]);

/* Zero bytes that follow a member of `size` bytes (0..511). */
static inline uint64_t
tar_pad (uint64_t size)
{
  return (TAR_BLOCK - size % TAR_BLOCK) % TAR_BLOCK;
}

/* A tar being written into an open file with positioned writes.  `pos` is
 * where the next header goes; `what` names the file in errors. */
struct tar_out {
  int fd;
  uint64_t pos;
  time_t mtime;
  const char *what;
};

/* Header, data and padding of a member whose bytes are all in memory. */
int tar_put (struct tar_out *t, const char *name, const void *data,
             size_t len);
/* Start a member of unknown size: a placeholder header goes at t->pos and
 * *data_off receives where the member's bytes start. */
int tar_begin (struct tar_out *t, const char *name, uint64_t *data_off);
/* The member started at data_off turned out `size` bytes long: pad it,
 * put the real header over the placeholder, advance t->pos past it. */
int tar_end (struct tar_out *t, const char *name, uint64_t data_off,
             uint64_t size);
/* Write the end-of-archive blocks at t->pos. */
int tar_finish (struct tar_out *t);

#endif
