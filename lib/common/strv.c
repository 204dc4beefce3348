/* strv.c: lists of strings, NULL-terminated or vectors (see strv.h). */
#include "lib/common/compat.h"

#include <stdlib.h>
#include <string.h>

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

void
strv_vector_free (strv_vector *v)
{
  size_t i;

  for (i = 0; i < v->len; i++)
    free (v->ptr[i]);
  strv_vector_reset (v);
}

bool
strv_vector_has (const strv_vector *v, const char *s)
{
  size_t i;

  for (i = 0; i < v->len; i++)
    if (strcmp (v->ptr[i], s) == 0)
      return true;
  return false;
}
