/* sysfs.h: small attribute files of sysfs and procfs (a disk's model,
 * serial, size), read the way the agent's discovery and deploy's target
 * checks both need them. */
#ifndef FERRY_SYSFS_H
#define FERRY_SYSFS_H

#include <stddef.h>
#include <stdint.h>

/* The first line of DIR/NAME, trailing blanks removed, into buf (len > 0);
 * "" when the file is absent or unreadable. */
void sysfs_read (const char *dir, const char *name, char *buf, size_t len);
/* The same as a decimal number; 0 when absent. */
uint64_t sysfs_read_u64 (const char *dir, const char *name);

#endif
