/* fuzz-fs.h: the body shared by the filesystem used-block map harnesses
 * (fuzz-fatmap.c, fuzz-exfatmap.c, fuzz-ntfsmap.c, fuzz-btrfsmap.c).
 *
 * A filesystem's metadata lies megabytes apart (btrfs's superblock at
 * 64 KiB, its trees tens of MiB in), so the input is a sparse disk:
 * records of (u32 LE page number in 4 KiB units, u32 LE byte count, the
 * bytes), written into a FUZZ_DISK-byte sparse file in /dev/shm
 * (tests/data/fsmap-sparse.py makes them from real images).  The map must
 * return -1, 0, 1 or USEDMAP_UNSAFE, and what it keeps must be sorted,
 * apart and inside the partition. */
#ifndef FERRY_FUZZ_FS_H
#define FERRY_FUZZ_FS_H

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/common/error.h"
#include "lib/disk/usedmap.h"
#include "lib/image/image.h"

#define FUZZ_DISK (256ull << 20)
#define FUZZ_PART (1ull << 20)          /* the partition starts at 1 MiB */

typedef int (*fuzz_map_fn) (struct image *, uint64_t, uint64_t, unsigned,
                            extent_vector *);

static char fuzz_disk[80];

static void
fuzz_remove_disk (void)
{
  unlink (fuzz_disk);
}

static uint32_t
fuzz_le32 (const uint8_t *p)
{
  return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16
    | (uint32_t) p[3] << 24;
}

/* Write the records as a sparse disk; the partition is [FUZZ_PART, end). */
static int
fuzz_write_disk (const char *name, const uint8_t *data, size_t size,
                 void (*fix) (uint8_t *, size_t, uint64_t))
{
  size_t pos = 0;
  int fd;

  if (fuzz_disk[0] == '\0') {
    snprintf (fuzz_disk, sizeof fuzz_disk, "/dev/shm/fuzz-%s.%ld.img", name,
              (long) getpid ());
    atexit (fuzz_remove_disk);
  }
  fd = open (fuzz_disk, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd == -1 || ftruncate (fd, (off_t) FUZZ_DISK) == -1)
    abort ();
  while (pos + 8 <= size) {
    uint64_t off = (uint64_t) fuzz_le32 (data + pos) * 4096 + FUZZ_PART;
    size_t len = fuzz_le32 (data + pos + 4);
    uint8_t *copy;

    pos += 8;
    if (len > size - pos)
      len = size - pos;
    if (off < FUZZ_DISK && len <= FUZZ_DISK - off) {
      if ((copy = malloc (len ? len : 1)) == NULL)
        abort ();
      memcpy (copy, data + pos, len);
      if (fix)
        fix (copy, len, off - FUZZ_PART);
      if (pwrite (fd, copy, len, (off_t) off) != (ssize_t) len)
        abort ();
      free (copy);
    }
    pos += len;
  }
  return close (fd);
}

static void
fuzz_check (const extent_vector *keep, int r, const char *name)
{
  uint64_t end = FUZZ_PART;
  size_t i;

  if (r < -1 || r > USEDMAP_UNSAFE || (r != 0 && keep->len != 0)) {
    fprintf (stderr, "%s: returned %d with %zu ranges\n", name, r, keep->len);
    abort ();
  }
  for (i = 0; i < keep->len; i++) {
    const struct extent *e = &keep->ptr[i];

    if (e->length == 0 || e->offset < end || e->offset > FUZZ_DISK ||
        e->length > FUZZ_DISK - e->offset) {
      fprintf (stderr, "%s: range %zu (%llu+%llu) unsorted or outside the "
               "partition\n", name, i, (unsigned long long) e->offset,
               (unsigned long long) e->length);
      abort ();
    }
    end = e->offset + e->length;
  }
}

static int
fuzz_fs (const char *name, fuzz_map_fn map, const uint8_t *data, size_t size,
         void (*fix) (uint8_t *, size_t, uint64_t))
{
  unsigned pass;

  for (pass = 0; pass < (fix ? 2u : 1u); pass++) {
    extent_vector keep = empty_vector;
    struct image *img;
    int r;

    fuzz_write_disk (name, data, size, pass ? fix : NULL);
    if ((img = image_open (fuzz_disk, IMAGE_OPEN_RAW)) == NULL)
      abort ();
    r = map (img, FUZZ_PART, FUZZ_DISK - FUZZ_PART, 0, &keep);
    fuzz_check (&keep, r, name);
    free (keep.ptr);
    image_close (img);
    error_clear ();
  }
  return 0;
}

#endif
