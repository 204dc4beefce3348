/* progress.c: a one-line progress meter and human-readable units. */
#include "lib/common/compat.h"

#include <math.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "lib/common/progress.h"

/* Redraw at most this often: fast enough to look live, slow enough that
 * drawing never shows up in a profile of the copy loop. */
#define REDRAW_INTERVAL 0.25

double
monotonic_seconds (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

void
format_bytes (char *buf, size_t len, uint64_t bytes)
{
  static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB",
                                       "EiB" };
  double v = (double) bytes / 1024.0;
  size_t u = 0;

  if (bytes < 1024) {
    snprintf (buf, len, "%u B", (unsigned) bytes);
    return;
  }
  /* Promote before %.1f would round up to "1024.0". */
  while (v >= 1023.95 && u + 1 < sizeof units / sizeof units[0]) {
    v /= 1024.0;
    u++;
  }
  snprintf (buf, len, "%.1f %s", v, units[u]);
}

void
format_duration (char *buf, size_t len, double seconds)
{
  unsigned long long s;

  if (!isfinite (seconds) || seconds < 0 || seconds >= 1e12) {
    snprintf (buf, len, "--:--");
    return;
  }
  s = (unsigned long long) (seconds + 0.5);
  if (s >= 3600)
    snprintf (buf, len, "%llu:%02llu:%02llu", s / 3600, s / 60 % 60, s % 60);
  else
    snprintf (buf, len, "%llu:%02llu", s / 60, s % 60);
}

void
progress_start (struct progress *p, const char *label, uint64_t total,
                bool quiet)
{
  p->label = label;
  p->total = total;
  p->done = 0;
  p->start = monotonic_seconds ();
  p->last_draw = p->start - 1.0;    /* the first update draws at once */
  p->out = stderr;
  p->enabled = !quiet && isatty (fileno (stderr));
}

/* "512.0 KiB/1.0 MiB" or just "512.0 KiB" when the total is unknown. */
static void
format_amount (const struct progress *p, char *buf, size_t len)
{
  char d[32], t[32];

  format_bytes (d, sizeof d, p->done);
  if (p->total == 0) {
    snprintf (buf, len, "%s", d);
    return;
  }
  format_bytes (t, sizeof t, p->total);
  snprintf (buf, len, "%s/%s", d, t);
}

/* "ETA 0:12" while running, "in 1:02" once finished, "" if unknowable. */
static void
format_time (const struct progress *p, double elapsed, double rate,
             bool final, char *buf, size_t len)
{
  char dur[32];

  if (final) {
    format_duration (dur, sizeof dur, elapsed);
    snprintf (buf, len, " in %s", dur);
  }
  else if (p->total > 0) {
    double left = p->done < p->total ? (double) (p->total - p->done) : 0;
    format_duration (dur, sizeof dur, rate > 0 ? left / rate : NAN);
    snprintf (buf, len, " ETA %s", dur);
  }
  else
    buf[0] = '\0';
}

static void
progress_draw (struct progress *p, double now, bool final)
{
  double elapsed = now - p->start;
  double rate = elapsed > 0 ? (double) p->done / elapsed : 0;
  char amount[80], when[48], pct[16] = "";

  if (p->total > 0) {
    double f = (double) p->done / (double) p->total;
    snprintf (pct, sizeof pct, " %5.1f%%", 100.0 * (f > 1 ? 1 : f));
  }
  format_amount (p, amount, sizeof amount);
  format_time (p, elapsed, rate, final, when, sizeof when);
  /* \r returns to column 0, \033[K clears what a longer line left behind. */
  fprintf (p->out, "\r%s:%s %s %.1f MiB/s%s\033[K%s",
           p->label ? p->label : "progress", pct, amount,
           rate / (1024.0 * 1024.0), when, final ? "\n" : "");
  fflush (p->out);
  p->last_draw = now;
}

void
progress_update (struct progress *p, uint64_t done)
{
  double now;

  p->done = done;
  if (!p->enabled)
    return;
  now = monotonic_seconds ();
  if (now - p->last_draw < REDRAW_INTERVAL)
    return;
  progress_draw (p, now, false);
}

void
progress_finish (struct progress *p)
{
  /* Sparse regions may be skipped without an update: finishing means all. */
  if (p->total > 0 && p->done < p->total)
    p->done = p->total;
  if (!p->enabled)
    return;
  progress_draw (p, monotonic_seconds (), true);
}
