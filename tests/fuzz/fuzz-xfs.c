/* fuzz-xfs.c: libFuzzer harness for the xfs map (lib/disk/xfsmap.c).  The
 * input describes a sparse 32 MiB disk as records (4-byte little-endian
 * offset, 2-byte length, that many bytes), so that a seed holds only the
 * non-zero sectors of a real filesystem (tests/data/gen-hostile-xfs.sh)
 * and mutations land in its superblock, AGFs, btrees and log.  Whatever is
 * kept must lie inside the disk, sorted and apart. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/common/error.h"
#include "lib/disk/usedmap.h"

#define DISK (32u << 20)

static char path[80];

static void
remove_disk (void)
{
  unlink (path);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  extent_vector keep = empty_vector;
  struct image *img;
  size_t pos = 0, i;
  int fd;

  if (path[0] == '\0') {
    snprintf (path, sizeof path, "/dev/shm/fuzz-xfs.%ld", (long) getpid ());
    atexit (remove_disk);
  }
  fd = open (path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd == -1 || ftruncate (fd, DISK) == -1)
    abort ();
  while (pos + 6 <= size) {
    uint32_t off = (uint32_t) data[pos] | (uint32_t) data[pos + 1] << 8 |
      (uint32_t) data[pos + 2] << 16 | (uint32_t) data[pos + 3] << 24;
    size_t len = (size_t) data[pos + 4] | (size_t) data[pos + 5] << 8;

    pos += 6;
    len = len < size - pos ? len : size - pos;
    off %= DISK;
    if (len > DISK - off)
      len = DISK - off;
    if (pwrite (fd, data + pos, len, off) != (ssize_t) len)
      abort ();
    pos += len;
  }
  close (fd);
  img = image_open (path, 2 /* IMAGE_OPEN_RAW */);
  if (img == NULL)
    abort ();
  if (xfsmap_used (img, 0, img->size, 0, &keep) == 0) {
    for (i = 0; i < keep.len; i++)
      if (keep.ptr[i].offset + keep.ptr[i].length > img->size ||
          (i > 0 && keep.ptr[i].offset <
           keep.ptr[i - 1].offset + keep.ptr[i - 1].length)) {
        fprintf (stderr, "keep %zu (%llu+%llu) outside or out of order\n", i,
                 (unsigned long long) keep.ptr[i].offset,
                 (unsigned long long) keep.ptr[i].length);
        abort ();
      }
  }
  extent_vector_reset (&keep);
  image_close (img);
  error_clear ();
  return 0;
}
