/* checked.h: overflow-checked arithmetic for sizes read from hostile files.
 * Each macro evaluates to true when the result overflowed.
 */
#ifndef FERRY_CHECKED_H
#define FERRY_CHECKED_H

#include <stdbool.h>
#include <stdint.h>

#define ADD_OVERFLOW(a, b, r) __builtin_add_overflow ((a), (b), (r))
#define MUL_OVERFLOW(a, b, r) __builtin_mul_overflow ((a), (b), (r))
#define SUB_OVERFLOW(a, b, r) __builtin_sub_overflow ((a), (b), (r))

static inline bool
is_power_of_2 (uint64_t v)
{
  return v && !(v & (v - 1));
}

/* Round up to a multiple of a power of two; true on overflow. */
static inline bool
round_up_overflow (uint64_t v, uint64_t align, uint64_t *r)
{
  if (v > UINT64_MAX - (align - 1))
    return true;
  *r = (v + align - 1) & ~(align - 1);
  return false;
}

#define DIV_ROUND_UP(n, d) (((n) + (d) - 1) / (d))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

#endif
