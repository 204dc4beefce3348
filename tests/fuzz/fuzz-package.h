/* fuzz-package.h: what the package-reader libFuzzer harnesses share — the
 * input written to a private file under /dev/shm and a private work
 * directory for the disks a reader extracts, both removed at exit. */
#ifndef FERRY_FUZZ_PACKAGE_H
#define FERRY_FUZZ_PACKAGE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char fuzz_input[80], fuzz_workdir[80];

static void
fuzz_package_cleanup (void)
{
  unlink (fuzz_input);
  rmdir (fuzz_workdir);
}

/* Write the input to fuzz_input (named TAG.PID.EXT; fuzz_workdir beside
 * it, made on the first call).  Aborts on a host failure. */
static void
fuzz_package_write (const char *tag, const char *ext, const uint8_t *data,
                    size_t size)
{
  FILE *fp;

  if (fuzz_input[0] == '\0') {
    snprintf (fuzz_input, sizeof fuzz_input, "/dev/shm/%s.%ld.%s", tag,
              (long) getpid (), ext);
    snprintf (fuzz_workdir, sizeof fuzz_workdir, "/dev/shm/%s.%ld.d", tag,
              (long) getpid ());
    if (mkdir (fuzz_workdir, 0700) == -1)
      abort ();
    atexit (fuzz_package_cleanup);
  }
  fp = fopen (fuzz_input, "wb");
  if (fp == NULL || fwrite (data, 1, size, fp) != size || fclose (fp) != 0)
    abort ();
}

/* The reader must leave the work directory empty: rmdir fails otherwise. */
static void
fuzz_package_workdir_empty (void)
{
  if (rmdir (fuzz_workdir) == -1 || mkdir (fuzz_workdir, 0700) == -1)
    abort ();
}

#endif
