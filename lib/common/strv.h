/* strv.h: NULL-terminated arrays of strings (char **), the shape
 * libguestfs returns lists in ("guestfs_list_partitions" and kin).
 */
#ifndef FERRY_STRV_H
#define FERRY_STRV_H

/* Free every string of `v`, then `v` itself; NULL is accepted. */
void strv_free (char **v);

#endif
