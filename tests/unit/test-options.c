/* test-options.c: the declarative option tables of cmd/ (cmd/options.h). */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/unit.h"
#include "cmd/cmd.h"
#include "cmd/options.h"
#include "lib/common/error.h"

struct t_args {
  const char *out, *to;
  bool quiet, json;
  unsigned retries;
  int n_items;
};

static int
t_item (void *args, const char *value)
{
  struct t_args *a = args;

  if (strcmp (value, "bad") == 0)
    return error_set ("'%s' is bad", value);
  a->n_items++;
  return 0;
}

static const char *const t_targets[] = { "kvm", "xen", "native", NULL };

static const struct cmd_option t_options[] = {
  CMD_OPT_STRING ('o', "output", struct t_args, out, "FILE", "the output"),
  CMD_OPT_CHOICE (0, "to", struct t_args, to, "TARGET", t_targets,
                  "kvm, xen or native"),
  CMD_OPT_UINT (0, "retries", struct t_args, retries, "N", 100,
                "extra reads\nbefore giving up"),
  CMD_OPT_FN (0, "item", t_item, "X", NULL, "repeatable"),
  CMD_OPT_BOOL ('q', "quiet", struct t_args, quiet, "be quiet"),
  CMD_OPT_BOOL (0, "json", struct t_args, json, NULL),       /* hidden */
  CMD_OPT_END
};

static const struct cmd_spec t_spec = { "t", "usage: ferry t\n\n", t_options };

/* Parse a NULL-terminated list of words (argv[0] is added). */
static int
parse (struct t_args *a, int *first, ...)
{
  char *argv[16] = { (char *) "t" };
  int argc = 1;
  va_list ap;
  char *w;

  va_start (ap, first);
  while ((w = va_arg (ap, char *)) != NULL && argc < 15)
    argv[argc++] = w;
  va_end (ap);
  memset (a, 0, sizeof *a);
  optind = 0;                   /* glibc: start a new scan */
  opterr = 0;
  return cmd_options_parse (&t_spec, argc, argv, a, first);
}

static void
test_values (void **state)
{
  struct t_args a;
  int first;

  (void) state;
  assert_int_equal (parse (&a, &first, "-o", "x.img", "--to", "xen",
                           "src", "--retries", "7", "-q", "--item", "a",
                           "--item", "b", "--json", NULL), 0);
  assert_string_equal (a.out, "x.img");
  assert_string_equal (a.to, "xen");
  assert_int_equal (a.retries, 7);
  assert_true (a.quiet);
  assert_true (a.json);
  assert_int_equal (a.n_items, 2);
  /* getopt moves the operand behind the options */
  assert_int_equal (first, 13);
}

static void
test_refusals (void **state)
{
  struct t_args a;
  int first;

  (void) state;
  /* a choice outside the list, a number out of bounds or junk, a
   * callback's refusal, an unknown option: usage errors, nothing stored
   * past the bad one */
  assert_int_equal (parse (&a, &first, "--to", "vmware", NULL), EXIT_USAGE);
  assert_null (a.to);
  assert_int_equal (parse (&a, &first, "--retries", "101", NULL),
                    EXIT_USAGE);
  assert_int_equal (parse (&a, &first, "--retries", "-1", NULL), EXIT_USAGE);
  assert_int_equal (parse (&a, &first, "--retries", "7x", NULL), EXIT_USAGE);
  assert_int_equal (parse (&a, &first, "--item", "bad", "-q", NULL),
                    EXIT_USAGE);
  assert_false (a.quiet);
  assert_int_equal (parse (&a, &first, "--nope", NULL), EXIT_USAGE);
  assert_int_equal (parse (&a, &first, "-o", NULL), EXIT_USAGE);
}

/* The output of fn (spec, fp) as a string; the caller frees it. */
static char *
capture (void (*fn) (const struct cmd_spec *, FILE *))
{
  char *buf = NULL;
  size_t len = 0;
  FILE *fp = open_memstream (&buf, &len);

  assert_non_null (fp);
  fn (&t_spec, fp);
  assert_int_equal (fclose (fp), 0);
  return buf;
}

static void
test_help (void **state)
{
  char *help = capture (cmd_options_help);

  (void) state;
  assert_string_equal (help,
    "usage: ferry t\n\n"
    "  -o, --output FILE  the output\n"
    "  --to TARGET        kvm, xen or native\n"
    "  --retries N        extra reads\n"
    "                     before giving up\n"
    "  --item X           repeatable\n"
    "  -q, --quiet        be quiet\n");
  free (help);
}

static void
test_list (void **state)
{
  char *list = capture (cmd_options_list);

  (void) state;
  assert_string_equal (list,
    "--output\t-o\tFILE\t-\n"
    "--to\t-\tTARGET\tkvm,xen,native\n"
    "--retries\t-\tN\t-\n"
    "--item\t-\tX\t-\n"
    "--quiet\t-q\t-\t-\n"
    "--help\t-\t-\t-\n");
  free (list);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_values),
    cmocka_unit_test (test_refusals),
    cmocka_unit_test (test_help),
    cmocka_unit_test (test_list),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
