/* compat.h: the first header of every .c file in lib/, the capability
 * folders, cmd/ and ferry.c (git's git-compat-util.h habit).
 *
 * It pulls in the system headers that declare the calls banned.h forbids,
 * so that those declarations are seen before the bans, then banned.h
 * itself: a file cannot forget the bans.  `make lint` checks that compat.h
 * comes first.
 */
#ifndef FERRY_COMPAT_H
#define FERRY_COMPAT_H

#include <stdio.h>
#include <string.h>

#include "lib/common/banned.h"

#endif
