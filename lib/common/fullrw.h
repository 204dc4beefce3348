/* fullrw.h: pread/pwrite that finish the job.
 * A short read past end of file is an error (EIO-like, message set), never
 * silently zero-filled.  All return 0 or -1 with the error set.
 */
#ifndef FERRY_FULLRW_H
#define FERRY_FULLRW_H

#include <stddef.h>
#include <stdint.h>

/* `what` names the file in the error message ("'disk.vhd'"). */
int full_pread (int fd, void *buf, size_t count, uint64_t offset,
                const char *what);
int full_pwrite (int fd, const void *buf, size_t count, uint64_t offset,
                 const char *what);
/* True if buf holds only zero bytes. */
int is_zero (const void *buf, size_t len);

#endif
