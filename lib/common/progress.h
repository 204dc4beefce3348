/* progress.h: a progress meter for long work.
 * On a terminal (stderr is a tty) it redraws one line at most ~4 times a
 * second: label, percent, bytes done/total, rate, ETA.  Not on a terminal,
 * or with `quiet`, it prints nothing.  The meter never fails.
 */
#ifndef FERRY_PROGRESS_H
#define FERRY_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct progress {
  const char *label;      /* borrowed */
  uint64_t total;         /* bytes; 0 = unknown */
  uint64_t done;
  double start;           /* monotonic seconds */
  double last_draw;
  bool enabled;
  FILE *out;              /* stderr */
};

/* enabled = !quiet && isatty (fileno (stderr)). */
void progress_start (struct progress *p, const char *label, uint64_t total,
                     bool quiet);
/* Set the absolute amount done; redraws when due. Thread-safe callers only. */
void progress_update (struct progress *p, uint64_t done);
/* Draw the final 100% line and a newline (if enabled). */
void progress_finish (struct progress *p);

/* Format helpers, also used by reports: "1.5 GiB", "12.3 MiB/s", "1:02:03". */
void format_bytes (char *buf, size_t len, uint64_t bytes);
void format_duration (char *buf, size_t len, double seconds);
double monotonic_seconds (void);

#endif
