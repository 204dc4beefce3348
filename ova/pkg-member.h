/* pkg-member.h: what the OVA and XVA readers (ova-read.c, xva-read.c) share
 * about tar members: the name checks, the name as tar gives it, the
 * one-line refusal naming a member, and sparse extraction. */
#ifndef FERRY_OVA_PKG_MEMBER_H
#define FERRY_OVA_PKG_MEMBER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <archive_entry.h>

/* Why member name `n` is refused ("an absolute member name:", ...), or
 * NULL.  Names in subdirectories pass only with `subdirs` (XVA chunks live
 * in "Ref:N/"); "..", absolute names and control characters never do. */
const char *pkg_name_problem (const char *n, bool subdirs);

/* The entry's name without "./" prefixes (tar -C dir .); "" then means the
 * directory itself, as does a missing name. */
const char *pkg_entry_name (struct archive_entry *e);

/* Set "KIND: 'WHAT': WHY 'NAME'" with NAME cut short and made printable,
 * so the message stays one line; returns -1. */
int pkg_fail (const char *kind, const char *what, const char *why,
              const char *name);

/* pwrite n bytes at off of fd, leaving all-zero 64 KiB blocks as holes.
 * -1 with errno set on a failed or short write. */
int pkg_put_sparse (int fd, const unsigned char *p, size_t n, uint64_t off);

#endif
