/* report.h: summaries of copy_stats for the command layer. */
#ifndef FERRY_REPORT_H
#define FERRY_REPORT_H

#include <stdio.h>

#include "lib/image/copy.h"

struct json;
void report_stats_json (struct json *j, const struct copy_stats *s);
void report_stats_text (FILE *fp, const char *what,
                        const struct copy_stats *s);

#endif
