/* test-progress.c: byte/duration formats and what the meter draws. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/unit.h"
#include "lib/common/progress.h"

static void
check_bytes (uint64_t v, const char *want)
{
  char buf[32];

  format_bytes (buf, sizeof buf, v);
  assert_string_equal (buf, want);
}

static void
test_format_bytes (void **state)
{
  (void) state;
  check_bytes (0, "0 B");
  check_bytes (1, "1 B");
  check_bytes (1023, "1023 B");
  check_bytes (1024, "1.0 KiB");
  check_bytes (1536, "1.5 KiB");
  check_bytes (1048575, "1.0 MiB");           /* no "1024.0 KiB" */
  check_bytes (1048576, "1.0 MiB");
  check_bytes (10 * 1048576 + 314573, "10.3 MiB");
  check_bytes (3ULL << 29, "1.5 GiB");
  check_bytes (1ULL << 40, "1.0 TiB");
  check_bytes (5ULL << 50, "5.0 PiB");
  check_bytes (UINT64_MAX, "16.0 EiB");
}

static void
test_format_bytes_truncates (void **state)
{
  char buf[4];

  (void) state;
  memset (buf, 'x', sizeof buf);
  format_bytes (buf, sizeof buf, 3ULL << 29);
  assert_string_equal (buf, "1.5");
}

static void
check_duration (double s, const char *want)
{
  char buf[32];

  format_duration (buf, sizeof buf, s);
  assert_string_equal (buf, want);
}

static void
test_format_duration (void **state)
{
  (void) state;
  check_duration (0, "0:00");
  check_duration (0.4, "0:00");
  check_duration (59.4, "0:59");
  check_duration (59.6, "1:00");
  check_duration (62, "1:02");
  check_duration (3599, "59:59");
  check_duration (3600, "1:00:00");
  check_duration (3723, "1:02:03");
  check_duration (100 * 3600 + 1, "100:00:01");
  check_duration (-1, "--:--");
  check_duration (NAN, "--:--");
  check_duration (INFINITY, "--:--");
}

static void
test_monotonic (void **state)
{
  double a, b;

  (void) state;
  a = monotonic_seconds ();
  usleep (10000);
  b = monotonic_seconds ();
  assert_true (b - a >= 0.009);
  assert_true (b - a < 5);
}

/* Output of a meter whose stream is redirected into memory. */
struct capture {
  FILE *fp;
  char *buf;
  size_t len;
};

static void
capture_open (struct capture *c, struct progress *p)
{
  c->buf = NULL;
  c->fp = open_memstream (&c->buf, &c->len);
  assert_non_null (c->fp);
  p->out = c->fp;
}

static char *
capture_close (struct capture *c)
{
  assert_int_equal (fclose (c->fp), 0);
  return c->buf;
}

static void
test_quiet_prints_nothing (void **state)
{
  struct progress p;
  struct capture c;
  char *out;

  (void) state;
  progress_start (&p, "copy", 1 << 20, true);
  assert_false (p.enabled);
  capture_open (&c, &p);
  progress_update (&p, 1 << 19);
  progress_update (&p, 1 << 20);
  progress_finish (&p);
  out = capture_close (&c);
  assert_int_equal (c.len, 0);
  free (out);
}

static void
test_enabled_only_on_tty (void **state)
{
  struct progress p;

  (void) state;
  progress_start (&p, "copy", 100, false);
  assert_int_equal (p.enabled, isatty (fileno (stderr)) == 1);
  assert_ptr_equal (p.out, stderr);
  assert_int_equal (p.done, 0);
}

static void
test_draws_line (void **state)
{
  struct progress p;
  struct capture c;
  char *out;

  (void) state;
  progress_start (&p, "copy", 1 << 20, false);
  p.enabled = true;                   /* pretend stderr is a terminal */
  capture_open (&c, &p);
  progress_update (&p, 1 << 19);      /* first update draws */
  fflush (c.fp);
  assert_non_null (strstr (c.buf, "\rcopy:  50.0% 512.0 KiB/1.0 MiB "));
  assert_non_null (strstr (c.buf, " MiB/s ETA "));
  assert_non_null (strstr (c.buf, "\033[K"));
  assert_null (strchr (c.buf, '\n'));
  progress_finish (&p);
  out = capture_close (&c);
  assert_non_null (strstr (out, "\rcopy: 100.0% 1.0 MiB/1.0 MiB "));
  assert_non_null (strstr (out, " in 0:00\033[K\n"));
  assert_int_equal (out[c.len - 1], '\n');
  assert_int_equal (p.done, 1 << 20);
  free (out);
}

/* Updates closer together than 0.25 s draw once. */
static void
test_rate_limited (void **state)
{
  struct progress p;
  struct capture c;
  char *out, *s;
  int i, lines = 0;

  (void) state;
  progress_start (&p, "copy", 1000, false);
  p.enabled = true;
  capture_open (&c, &p);
  for (i = 1; i <= 100; i++)
    progress_update (&p, (uint64_t) i);
  out = capture_close (&c);
  for (s = out; (s = strchr (s, '\r')) != NULL; s++)
    lines++;
  assert_int_equal (lines, 1);
  assert_int_equal (p.done, 100);
  free (out);
}

static void
test_unknown_total (void **state)
{
  struct progress p;
  struct capture c;
  char *out;

  (void) state;
  progress_start (&p, "read", 0, false);
  p.enabled = true;
  capture_open (&c, &p);
  progress_update (&p, 3 << 20);
  progress_finish (&p);
  out = capture_close (&c);
  assert_non_null (strstr (out, "\rread: 3.0 MiB "));
  assert_null (strstr (out, "%"));
  assert_null (strstr (out, "ETA"));
  free (out);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_format_bytes),
    cmocka_unit_test (test_format_bytes_truncates),
    cmocka_unit_test (test_format_duration),
    cmocka_unit_test (test_monotonic),
    cmocka_unit_test (test_quiet_prints_nothing),
    cmocka_unit_test (test_enabled_only_on_tty),
    cmocka_unit_test (test_draws_line),
    cmocka_unit_test (test_rate_limited),
    cmocka_unit_test (test_unknown_total),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
