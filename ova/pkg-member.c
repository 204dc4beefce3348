/* pkg-member.c: tar member helpers shared by the OVA and XVA readers. */
#include "lib/common/compat.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "lib/common/error.h"
#include "lib/common/fullrw.h"
#include "ova/pkg-member.h"

#define ZERO_BLOCK 65536u

const char *
pkg_name_problem (const char *n, bool subdirs)
{
  if (n[0] == '\0')
    return "an empty member name:";
  if (n[0] == '/')
    return "an absolute member name:";
  if (strstr (n, ".."))
    return "a member name with '..':";
  if (!subdirs && (strchr (n, '/') || strchr (n, '\\')))
    return "a member in a subdirectory:";
  if (strlen (n) > 255)
    return "a member name too long:";
  for (; *n; n++)
    if ((unsigned char) *n < 0x20 || *n == 0x7f)
      return "a member name with control characters:";
  return NULL;
}

const char *
pkg_entry_name (struct archive_entry *e)
{
  const char *n = archive_entry_pathname (e);

  if (n == NULL)
    return "";
  while (n[0] == '.' && n[1] == '/')
    n += 2;
  return n;
}

int
pkg_fail (const char *kind, const char *what, const char *why,
          const char *name)
{
  char b[65];
  size_t i;

  for (i = 0; i < sizeof b - 1 && name[i]; i++)
    b[i] = (unsigned char) name[i] < 0x20 || name[i] == 0x7f ? '?' : name[i];
  b[i] = '\0';
  return error_set ("%s: '%s': %s '%s'", kind, what, why, b);
}

int
pkg_put_sparse (int fd, const unsigned char *p, size_t n, uint64_t off)
{
  size_t i, k;
  ssize_t w;

  for (i = 0; i < n; i += k) {
    k = n - i < ZERO_BLOCK ? n - i : ZERO_BLOCK;
    if (is_zero (p + i, k))
      continue;
    if ((w = pwrite (fd, p + i, k, (off_t) (off + i))) != (ssize_t) k) {
      if (w >= 0)
        errno = EIO;
      return -1;
    }
  }
  return 0;
}
