/* fuzz-vhd.c: libFuzzer harness for the VHD reader — open, walk the extents,
 * read their data in bounded chunks, run check, close. */
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
/* A hostile header may describe a petabyte of data; reading all of it
 * would only measure memset speed.  Parsing bugs show up long before. */
#define READ_LIMIT (64ull << 20)

static char path[64];

static void
remove_input (void)
{
  unlink (path);
}

static int
write_input (const uint8_t *data, size_t size)
{
  int fd;

  if (path[0] == '\0') {
    snprintf (path, sizeof path, "/dev/shm/fuzz-vhd.%ld.vhd", (long) getpid ());
    atexit (remove_input);
  }
  fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd == -1)
    return -1;
  if (write (fd, data, size) != (ssize_t) size) {
    close (fd);
    return -1;
  }
  return close (fd);
}

static void
read_extents (struct image *img, const extent_vector *ev, uint8_t *buf)
{
  uint64_t done = 0, off, end, n;
  size_t i;

  for (i = 0; i < ev->len && done < READ_LIMIT; i++) {
    end = ev->ptr[i].offset + ev->ptr[i].length;
    for (off = ev->ptr[i].offset; off < end && done < READ_LIMIT; off += n) {
      n = end - off < CHUNK ? end - off : CHUNK;
      if (image_pread (img, buf, (size_t) n, off) == -1)
        return;
      done += n;
    }
  }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static uint8_t *buf;
  extent_vector ev = empty_vector;
  struct strbuf report = STRBUF_INIT;
  struct image *img;

  if (buf == NULL && (buf = malloc (CHUNK)) == NULL)
    abort ();
  if (write_input (data, size) == -1)
    abort ();
  img = image_open (path, 0);
  if (img == NULL)
    return 0;
  if (image_extents (img, 0, img->size, &ev) == 0)
    read_extents (img, &ev, buf);
  if (img->ops->check)
    img->ops->check (img, &report);
  if (img->ops->info)
    img->ops->info (img, &report);
  strbuf_release (&report);
  free (ev.ptr);
  image_close (img);
  return 0;
}
