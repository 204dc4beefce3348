/* cleanup.h: scope-exit cleanup for simple functions (nbdkit's habit).
 * Constructors with several resources use reverse-order labels instead.
 */
#ifndef FERRY_CLEANUP_H
#define FERRY_CLEANUP_H

#include <stdio.h>

void cleanup_free (void *ptr);
void cleanup_close (int *fd);
void cleanup_fclose (FILE **fp);

#define CLEANUP_FREE __attribute__ ((cleanup (cleanup_free)))
#define CLEANUP_CLOSE __attribute__ ((cleanup (cleanup_close)))
#define CLEANUP_FCLOSE __attribute__ ((cleanup (cleanup_fclose)))

#endif
