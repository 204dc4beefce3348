/* report.h: summaries of copy_stats for the command layer. */
#ifndef FERRY_REPORT_H
#define FERRY_REPORT_H

#include <stdio.h>

#include "lib/image/copy.h"

struct json;
struct guest_pipeline_boots;
/* One line per boot check: "verify-boot: booted on virtio in 31 s
 * (tcg): ferry-ref login:". */
void report_boots_text (FILE *fp, const struct guest_pipeline_boots *b);
void report_stats_json (struct json *j, const struct copy_stats *s);
void report_stats_text (FILE *fp, const char *what,
                        const struct copy_stats *s);

#endif
