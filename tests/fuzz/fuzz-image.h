/* fuzz-image.h: the body shared by the image-format libFuzzer harnesses —
 * write the input to a private file, open it through the registry (which
 * probes the format), read what its extents call data in bounded chunks,
 * run check and info, close. */
#ifndef FERRY_FUZZ_IMAGE_H
#define FERRY_FUZZ_IMAGE_H

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/common/error.h"
#include "lib/common/strbuf.h"
#include "lib/image/image.h"

#define FUZZ_CHUNK (1u << 20)
/* Headers may describe exabytes; a bounded read finds parsing bugs just as
 * well and keeps every run fast. */
#define FUZZ_READ_LIMIT (32ull << 20)
#define FUZZ_MAX_EXTENTS 100000

static char fuzz_input[80];

static void
fuzz_remove_input (void)
{
  unlink (fuzz_input);
}

/* One file per process in /dev/shm: parallel fuzzing jobs do not collide. */
static int
fuzz_save_input (const char *fmt, const uint8_t *data, size_t size)
{
  int fd;

  if (fuzz_input[0] == '\0') {
    snprintf (fuzz_input, sizeof fuzz_input, "/dev/shm/fuzz-%s.%ld.%s", fmt,
              (long) getpid (), fmt);
    atexit (fuzz_remove_input);
  }
  fd = open (fuzz_input, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd == -1)
    return -1;
  if (write (fd, data, size) != (ssize_t) size) {
    close (fd);
    return -1;
  }
  return close (fd);
}

static void
fuzz_read_data (struct image *img, const extent_vector *ev, uint8_t *buf)
{
  uint64_t budget = FUZZ_READ_LIMIT, off, end, n;
  size_t i;

  for (i = 0; i < ev->len && i < FUZZ_MAX_EXTENTS && budget; i++) {
    if (ev->ptr[i].type != EXTENT_DATA)
      continue;
    end = ev->ptr[i].offset + ev->ptr[i].length;
    for (off = ev->ptr[i].offset; off < end && budget; off += n) {
      n = end - off < FUZZ_CHUNK ? end - off : FUZZ_CHUNK;
      if (n > budget)
        n = budget;
      if (image_pread (img, buf, (size_t) n, off) == -1)
        return;
      budget -= n;
    }
  }
}

static int
fuzz_image (const char *fmt, const uint8_t *data, size_t size)
{
  static uint8_t *buf;
  extent_vector ev = empty_vector;
  struct strbuf report = STRBUF_INIT;
  struct image *img;

  if (buf == NULL && (buf = malloc (FUZZ_CHUNK)) == NULL)
    abort ();
  if (fuzz_save_input (fmt, data, size) == -1)
    abort ();
  img = image_open (fuzz_input, 0);
  if (img == NULL)
    return 0;
  if (image_extents (img, 0, img->size, &ev) == 0)
    fuzz_read_data (img, &ev, buf);
  if (img->ops->check)
    img->ops->check (img, &report);
  if (img->ops->info)
    img->ops->info (img, &report);
  strbuf_release (&report);
  free (ev.ptr);
  image_close (img);
  return 0;
}

#endif
