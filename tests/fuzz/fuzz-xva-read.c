/* fuzz-xva-read.c: libFuzzer harness for the XVA package reader — tar
 * members, ova.xml, chunk names, order and checksums, the sequential
 * rebuild of each disk — all through xva_read. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ova/xva-read.h"

static char input[80], workdir[80];

static void
cleanup (void)
{
  unlink (input);
  rmdir (workdir);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct ova_pkg pkg;
  FILE *fp;

  if (input[0] == '\0') {
    snprintf (input, sizeof input, "/dev/shm/fuzz-xva-read.%ld.xva",
              (long) getpid ());
    snprintf (workdir, sizeof workdir, "/dev/shm/fuzz-xva-read.%ld.d",
              (long) getpid ());
    if (mkdir (workdir, 0700) == -1)
      abort ();
    atexit (cleanup);
  }
  fp = fopen (input, "wb");
  if (fp == NULL || fwrite (data, 1, size, fp) != size || fclose (fp) != 0)
    abort ();
  (void) xva_probe (input);
  /* Rebuilt disks are unlinked by xva_read as soon as they are open, and
   * on every error: the work directory must stay empty. */
  if (xva_read (input, workdir, &pkg) == 0)
    ova_pkg_free (&pkg);
  else
    ova_pkg_free (&pkg);
  if (rmdir (workdir) == -1 || mkdir (workdir, 0700) == -1)
    abort ();
  return 0;
}
