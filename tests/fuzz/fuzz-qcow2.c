/* fuzz-qcow2.c: libFuzzer harness for the qcow2 driver — write the input to
 * a private file, open it, read whatever its extents call data in bounded
 * chunks, run check and info, close. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "common/strbuf.h"
#include "image/image.h"

#define CHUNK (1u << 20)
/* Headers may describe exabytes; a bounded read finds parsing bugs just as
 * well and keeps every run fast. */
#define READ_LIMIT (32ull << 20)
#define MAX_EXTENTS 100000

static char input[80];

static void
remove_input (void)
{
  unlink (input);
}

/* One file per process in /dev/shm: parallel fuzzing jobs do not collide. */
static int
save_input (const uint8_t *data, size_t size)
{
  int fd;

  if (input[0] == '\0') {
    snprintf (input, sizeof input, "/dev/shm/fuzz-qcow2.%ld.qcow2",
              (long) getpid ());
    atexit (remove_input);
  }
  fd = open (input, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd == -1)
    return -1;
  if (write (fd, data, size) != (ssize_t) size) {
    close (fd);
    return -1;
  }
  return close (fd);
}

static void
read_data (struct image *img, const extent_vector *ev, uint8_t *buf)
{
  uint64_t budget = READ_LIMIT, off, end, n;
  size_t i;

  for (i = 0; i < ev->len && i < MAX_EXTENTS && budget; i++) {
    if (ev->ptr[i].type != EXTENT_DATA)
      continue;
    end = ev->ptr[i].offset + ev->ptr[i].length;
    for (off = ev->ptr[i].offset; off < end && budget; off += n) {
      n = end - off < CHUNK ? end - off : CHUNK;
      n = n < budget ? n : budget;
      if (image_pread (img, buf, (size_t) n, off) == -1)
        return;
      budget -= n;
    }
  }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static uint8_t *buf;
  extent_vector ev = empty_vector;
  struct strbuf out = STRBUF_INIT;
  struct image *img;

  if (buf == NULL && (buf = malloc (CHUNK)) == NULL)
    abort ();
  if (save_input (data, size) == -1)
    abort ();
  img = image_open (input, 0);
  if (img == NULL)
    return 0;
  if (image_extents (img, 0, img->size, &ev) == 0)
    read_data (img, &ev, buf);
  /* Unallocated ranges too: they go through the backing code. */
  if (img->size)
    image_pread (img, buf, img->size < CHUNK ? (size_t) img->size : CHUNK, 0);
  if (img->ops->check)
    img->ops->check (img, &out);
  if (img->ops->info)
    img->ops->info (img, &out);
  strbuf_release (&out);
  free (ev.ptr);
  image_close (img);
  return 0;
}
