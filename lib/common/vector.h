/* vector.h: one growable array type for the whole project.
 *
 *   DEFINE_VECTOR_TYPE (uint64_vector, uint64_t);
 *   uint64_vector v = empty_vector;
 *   if (uint64_vector_append (&v, 42) == -1) ...   // sets error on ENOMEM
 *   free (v.ptr);                                   // the vector owns ptr
 *
 * The caller owns the vector; `ptr` is freed with free() or NAME_reset().
 */
#ifndef FERRY_VECTOR_H
#define FERRY_VECTOR_H

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* Grow storage to hold at least n more items. Returns -1 on overflow/ENOMEM. */
int generic_vector_reserve (void **ptr, size_t *cap, size_t len, size_t n,
                            size_t itemsize);

#define DEFINE_VECTOR_TYPE(name, type)                                  \
  typedef struct {                                                      \
    type *ptr;                                                          \
    size_t len;                                                         \
    size_t cap;                                                         \
  } name;                                                               \
                                                                        \
  static inline __attribute__ ((__unused__)) int                        \
  name##_reserve (name *v, size_t n)                                    \
  {                                                                     \
    return generic_vector_reserve ((void **) &v->ptr, &v->cap, v->len,  \
                                   n, sizeof (type));                   \
  }                                                                     \
                                                                        \
  static inline __attribute__ ((__unused__)) int                        \
  name##_append (name *v, type elem)                                    \
  {                                                                     \
    if (v->len >= v->cap && name##_reserve (v, 1) == -1)                \
      return -1;                                                        \
    v->ptr[v->len++] = elem;                                            \
    return 0;                                                           \
  }                                                                     \
                                                                        \
  static inline __attribute__ ((__unused__)) void                       \
  name##_reset (name *v)                                                \
  {                                                                     \
    free (v->ptr);                                                      \
    v->ptr = NULL;                                                      \
    v->len = v->cap = 0;                                                \
  }

#define empty_vector { .ptr = NULL, .len = 0, .cap = 0 }

#endif
