/* report.c: the summary printed after a copy or capture (text or JSON). */
#include "lib/common/compat.h"

#include <stdio.h>

#include "cmd/report.h"
#include "lib/guest/pipeline.h"
#include "lib/common/progress.h"

void
report_stats_json (struct json *j, const struct copy_stats *s)
{
  copy_stats_json (j, s);
}

void
report_stats_text (FILE *fp, const char *what, const struct copy_stats *s)
{
  char r[32], w[32], k[32], t[32];
  size_t i;

  format_bytes (r, sizeof r, s->bytes_read);
  format_bytes (w, sizeof w, s->bytes_written);
  format_bytes (k, sizeof k, s->bytes_skipped);
  format_duration (t, sizeof t, s->seconds);
  fprintf (fp, "%s: read %s, wrote %s, skipped %s in %s\n", what, r, w, k, t);
  if (s->bad.len == 0)
    return;
  format_bytes (r, sizeof r, s->bytes_bad);
  fprintf (fp, "%s: WARNING: %s unreadable, written as zeros:\n", what, r);
  for (i = 0; i < s->bad.len; i++)
    fprintf (fp, "  bytes %llu-%llu (sectors %llu-%llu)\n",
             (unsigned long long) s->bad.ptr[i].offset,
             (unsigned long long) (s->bad.ptr[i].offset
                                   + s->bad.ptr[i].length - 1),
             (unsigned long long) (s->bad.ptr[i].offset / 512),
             (unsigned long long) ((s->bad.ptr[i].offset
                                    + s->bad.ptr[i].length - 1) / 512));
}

void
report_boots_text (FILE *fp, const struct guest_pipeline_boots *b)
{
  size_t i;

  for (i = 0; i < b->n; i++)
    fprintf (fp, "verify-boot: %s on %s in %.0f s (%s): %s\n",
             bootcheck_outcome_name (b->r[i].outcome),
             bootcheck_bus_name (b->bus[i]), b->r[i].seconds, b->r[i].accel,
             b->r[i].evidence);
}
