/* fuzz-ova.c: libFuzzer harness for the OVA package reader — tar members,
 * manifest, OVF and the disks inside, all through ova_read — and for the
 * one-pass walk of `ferry info PACKAGE` (ova_inspect, OVA and XVA). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ova/ova-read.h"

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
  struct pkg_info info;
  FILE *fp;

  if (input[0] == '\0') {
    snprintf (input, sizeof input, "/dev/shm/fuzz-ova.%ld.ova",
              (long) getpid ());
    snprintf (workdir, sizeof workdir, "/dev/shm/fuzz-ova.%ld.d",
              (long) getpid ());
    if (mkdir (workdir, 0700) == -1)
      abort ();
    atexit (cleanup);
  }
  fp = fopen (input, "wb");
  if (fp == NULL || fwrite (data, 1, size, fp) != size || fclose (fp) != 0)
    abort ();
  /* Extracted disks are unlinked by ova_read as soon as they are open. */
  if (ova_read (input, workdir, &pkg) == 0)
    ova_pkg_free (&pkg);
  if (ova_inspect (input, NULL, &info) == 0)
    pkg_info_free (&info);
  return 0;
}
