/* cleanup.c: helpers behind the CLEANUP_* attributes. */
#include "lib/common/compat.h"

#include <stdlib.h>
#include <unistd.h>

#include "lib/common/cleanup.h"

void
cleanup_free (void *ptr)
{
  free (*(void **) ptr);
}

void
cleanup_close (int *fd)
{
  if (*fd >= 0)
    close (*fd);
}

void
cleanup_fclose (FILE **fp)
{
  if (*fp)
    fclose (*fp);
}
