/* strv.c: NULL-terminated string arrays (see strv.h). */
#include "lib/common/compat.h"

#include <stdlib.h>

#include "lib/common/strv.h"

void
strv_free (char **v)
{
  size_t i;

  if (v == NULL)
    return;
  for (i = 0; v[i]; i++)
    free (v[i]);
  free (v);
}
