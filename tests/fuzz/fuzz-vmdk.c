/* fuzz-vmdk.c: libFuzzer harness for the VMDK reader — open the input as
 * an image, read every data extent in bounded chunks, run check, close.
 * Seed with the files tests/data/gen-hostile-vmdk.sh writes. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fullrw.h"
#include "common/strbuf.h"
#include "image/image.h"

#define CHUNK (256 * 1024)
#define WINDOW (1ull << 30)     /* extents asked per call, as ferry info */
/* A tiny file may claim a huge disk; cap what one input scans and reads so
 * every run stays fast (the reader itself must not need the caps). */
#define SCAN_BUDGET (64ull << 30)
#define READ_BUDGET (64ull << 20)

static int
read_data (struct image *img, const struct extent *e, uint64_t *budget)
{
  static uint8_t buf[CHUNK];
  uint64_t off = e->offset, end = e->offset + e->length;

  for (; off < end && *budget > 0; off += CHUNK) {
    size_t n = end - off < CHUNK ? (size_t) (end - off) : CHUNK;
    if (image_pread (img, buf, n, off) == -1)
      return -1;
    *budget -= n < *budget ? n : *budget;
  }
  return 0;
}

static void
read_extents (struct image *img)
{
  uint64_t budget = READ_BUDGET, off;
  int r = 0;

  for (off = 0; r == 0 && off < img->size && off < SCAN_BUDGET;
       off += WINDOW) {
    extent_vector ext = empty_vector;
    uint64_t len = img->size - off < WINDOW ? img->size - off : WINDOW;
    size_t i;

    r = image_extents (img, off, len, &ext);
    for (i = 0; r == 0 && i < ext.len; i++)
      if (ext.ptr[i].type == EXTENT_DATA)
        r = read_data (img, &ext.ptr[i], &budget);
    free (ext.ptr);
  }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  char path[64];
  struct strbuf report = STRBUF_INIT;
  struct image *img;
  int fd;

  snprintf (path, sizeof path, "/dev/shm/fuzz-vmdk-%d.vmdk", (int) getpid ());
  fd = open (path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd == -1)
    abort ();
  if (full_pwrite (fd, data, size, 0, path) == -1)
    abort ();
  close (fd);
  img = image_open (path, 0);
  if (img) {
    if (strcmp (image_format (img), "vmdk") == 0) {
      read_extents (img);
      img->ops->check (img, &report);
      img->ops->info (img, &report);
    }
    image_close (img);
  }
  strbuf_release (&report);
  unlink (path);
  return 0;
}
