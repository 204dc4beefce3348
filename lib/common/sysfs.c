/* sysfs.c: small attribute files of sysfs and procfs (sysfs.h). */
#include "lib/common/compat.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/common/sysfs.h"

void
sysfs_read (const char *dir, const char *name, char *buf, size_t len)
{
  char file[4200];
  ssize_t n;
  int fd, w;

  buf[0] = '\0';
  w = snprintf (file, sizeof file, "%s/%s", dir, name);
  if (w < 0 || (size_t) w >= sizeof file)
    return;
  if ((fd = open (file, O_RDONLY | O_CLOEXEC)) == -1)
    return;
  n = read (fd, buf, len - 1);
  close (fd);
  buf[n > 0 ? n : 0] = '\0';
  buf[strcspn (buf, "\n")] = '\0';
  n = (ssize_t) strlen (buf);
  while (n > 0 && (buf[n - 1] == ' ' || buf[n - 1] == '\t'))
    buf[--n] = '\0';
}

uint64_t
sysfs_read_u64 (const char *dir, const char *name)
{
  char buf[32];

  sysfs_read (dir, name, buf, sizeof buf);
  return strtoull (buf, NULL, 10);
}
