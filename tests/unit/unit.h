/* unit.h: what every cmocka unit test includes. */
#ifndef FERRY_UNIT_H
#define FERRY_UNIT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#endif
