/* fullrw.c: full pread/pwrite and zero detection (fullrw.h). */
#include "lib/common/compat.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "lib/common/error.h"
#include "lib/common/fullrw.h"

int
full_pread (int fd, void *buf, size_t count, uint64_t offset,
            const char *what)
{
  char *p = buf;

  while (count > 0) {
    ssize_t r = pread (fd, p, count, (off_t) offset);
    if (r == -1) {
      if (errno == EINTR)
        continue;
      return error_errno ("'%s': read at offset %llu", what,
                          (unsigned long long) offset);
    }
    if (r == 0) {
      errno = EIO;
      return error_set ("'%s': unexpected end of file at offset %llu",
                        what, (unsigned long long) offset);
    }
    p += r;
    count -= (size_t) r;
    offset += (uint64_t) r;
  }
  return 0;
}

int
full_pwrite (int fd, const void *buf, size_t count, uint64_t offset,
             const char *what)
{
  const char *p = buf;

  while (count > 0) {
    ssize_t r = pwrite (fd, p, count, (off_t) offset);
    if (r == -1) {
      if (errno == EINTR)
        continue;
      return error_errno ("'%s': write at offset %llu", what,
                          (unsigned long long) offset);
    }
    p += r;
    count -= (size_t) r;
    offset += (uint64_t) r;
  }
  return 0;
}

int
is_zero (const void *buf, size_t len)
{
  const unsigned char *p = buf;
  size_t i;

  /* Check the first 16 bytes, then compare the buffer with itself shifted:
   * memcmp is vectorised and this is the fastest portable test. */
  for (i = 0; i < len && i < 16; i++)
    if (p[i])
      return 0;
  if (len <= 16)
    return 1;
  return memcmp (p, p + 16, len - 16) == 0;
}
