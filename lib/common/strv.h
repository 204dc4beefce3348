/* strv.h: lists of strings — NULL-terminated arrays (char **), the shape
 * libguestfs returns lists in ("guestfs_list_partitions" and kin), and
 * strv_vector, a growable vector (vector.h) of malloc'd strings it owns
 * (module paths, archive entry names).
 */
#ifndef FERRY_STRV_H
#define FERRY_STRV_H

#include <stdbool.h>

#include "lib/common/vector.h"

/* Free every string of `v`, then `v` itself; NULL is accepted. */
void strv_free (char **v);

/* The vector owns its strings: strv_vector_free frees each and the
 * storage (strv_vector_reset frees only the storage). */
DEFINE_VECTOR_TYPE (strv_vector, char *);
void strv_vector_free (strv_vector *v);
bool strv_vector_has (const strv_vector *v, const char *s);

#endif
