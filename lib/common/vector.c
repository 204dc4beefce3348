/* vector.c: storage growth for vector.h. */
#include "lib/common/compat.h"

#include <errno.h>
#include <stdint.h>

#include "lib/common/error.h"
#include "lib/common/vector.h"

int
generic_vector_reserve (void **ptr, size_t *cap, size_t len, size_t n,
                        size_t itemsize)
{
  size_t want, newcap, bytes;
  void *p;

  if (__builtin_add_overflow (len, n, &want))
    return error_set ("vector: size overflow");
  if (want <= *cap)
    return 0;
  newcap = *cap < 8 ? 8 : *cap;
  while (newcap < want)
    if (__builtin_mul_overflow (newcap, 2, &newcap))
      return error_set ("vector: size overflow");
  if (__builtin_mul_overflow (newcap, itemsize, &bytes))
    return error_set ("vector: size overflow");
  p = realloc (*ptr, bytes);
  if (p == NULL)
    return error_errno ("vector: realloc");
  *ptr = p;
  *cap = newcap;
  return 0;
}
