/* options.c: the option table parser, help and list (options.h). */
#include "lib/common/compat.h"

#include <getopt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/options.h"
#include "lib/common/error.h"

/* getopt values of long-only options: past every char. */
#define LONG_BASE 256
#define VAL_HELP (LONG_BASE - 1)
#define VAL_LIST (LONG_BASE - 2)

/* The column help text starts in, unless a label is wider. */
#define HELP_COLUMN_MAX 25

static size_t
count_options (const struct cmd_option *o)
{
  size_t n = 0;

  while (o[n].short_name || o[n].long_name)
    n++;
  return n;
}

static bool
takes_arg (const struct cmd_option *o)
{
  return o->kind != CMD_OPT_KIND_BOOL && o->arg != NULL;
}

/* "-q, --quiet", "--json", "-O FORMAT", "--root DEV" into buf. */
static void
label (const struct cmd_option *o, char *buf, size_t len)
{
  const char *arg = takes_arg (o) ? o->arg : NULL;

  if (o->short_name && o->long_name)
    snprintf (buf, len, "-%c, --%s%s%s", o->short_name, o->long_name,
              arg ? " " : "", arg ? arg : "");
  else if (o->short_name)
    snprintf (buf, len, "-%c%s%s", o->short_name, arg ? " " : "",
              arg ? arg : "");
  else
    snprintf (buf, len, "--%s%s%s", o->long_name, arg ? " " : "",
              arg ? arg : "");
}

void
cmd_options_help (const struct cmd_spec *spec, FILE *fp)
{
  const struct cmd_option *o;
  size_t col = 0;
  char buf[96];

  fputs (spec->usage, fp);
  for (o = spec->options; o->short_name || o->long_name; o++) {
    if (o->help == NULL)
      continue;
    label (o, buf, sizeof buf);
    if (strlen (buf) + 2 > col && strlen (buf) + 2 <= HELP_COLUMN_MAX)
      col = strlen (buf) + 2;
  }
  for (o = spec->options; o->short_name || o->long_name; o++) {
    const char *line, *nl;
    int pad;

    if (o->help == NULL)
      continue;
    label (o, buf, sizeof buf);
    pad = (int) (col - strlen (buf));
    if (strlen (buf) + 2 > col)
      fprintf (fp, "  %s\n%*s", buf, (int) col + 2, "");
    else
      fprintf (fp, "  %s%*s", buf, pad, "");
    for (line = o->help; (nl = strchr (line, '\n')) != NULL; line = nl + 1)
      fprintf (fp, "%.*s\n%*s", (int) (nl - line), line, (int) col + 2, "");
    fprintf (fp, "%s\n", line);
  }
}

void
cmd_options_list (const struct cmd_spec *spec, FILE *fp)
{
  const struct cmd_option *o;
  const char *const *c;

  for (o = spec->options; o->short_name || o->long_name; o++) {
    if (o->help == NULL)
      continue;
    fprintf (fp, "%s%s\t", o->long_name ? "--" : "-",
             o->long_name ? o->long_name : "");
    if (o->short_name)
      fprintf (fp, "-%c\t", o->short_name);
    else
      fputs ("-\t", fp);
    fprintf (fp, "%s\t", takes_arg (o) ? o->arg : "-");
    if (o->choices == NULL || o->choices[0] == NULL)
      fputs ("-", fp);
    for (c = o->choices; c && *c; c++)
      fprintf (fp, "%s%s", c == o->choices ? "" : ",", *c);
    fputc ('\n', fp);
  }
  fputs ("--help\t-\t-\t-\n", fp);
}

/* "a, b or c" for a refusal. */
static void
choices_text (const char *const *choices, char *buf, size_t len)
{
  size_t used = 0;
  const char *const *c;

  buf[0] = '\0';
  for (c = choices; *c && used < len; c++) {
    const char *sep = c == choices ? "" : c[1] ? ", " : " or ";
    int n = snprintf (buf + used, len - used, "%s%s", sep, *c);

    if (n < 0)
      break;
    used += (size_t) n;
  }
}

/* Store one option's value; a usage error is printed here. */
static int
store (const struct cmd_spec *spec, const struct cmd_option *o,
       const char *value, void *args)
{
  char *field = (char *) args + o->offset;
  char name[64];
  uint64_t n;

  if (o->long_name)
    snprintf (name, sizeof name, "--%s", o->long_name);
  else
    snprintf (name, sizeof name, "-%c", o->short_name);
  switch (o->kind) {
  case CMD_OPT_KIND_BOOL:
    *(bool *) field = true;
    return 0;
  case CMD_OPT_KIND_STRING:
    *(const char **) field = value;
    return 0;
  case CMD_OPT_KIND_CHOICE:
    for (const char *const *c = o->choices; *c; c++) {
      if (strcmp (*c, value) == 0) {
        *(const char **) field = value;
        return 0;
      }
    }
    {
      char list[256];

      choices_text (o->choices, list, sizeof list);
      return cmd_usage_error (spec->name, "%s: '%s' is not %s", name, value,
                              list);
    }
  case CMD_OPT_KIND_UINT:
    if (cmd_parse_uint (value, o->max, &n) == -1)
      return cmd_usage_error (spec->name, "%s: %s", name, error_get ());
    *(unsigned *) field = (unsigned) n;
    return 0;
  case CMD_OPT_KIND_FN:
    if (o->fn (args, value) == -1)
      return cmd_usage_error (spec->name, "%s: %s", name, error_get ());
    return 0;
  }
  return cmd_usage_error (spec->name, "%s: unknown option kind", name);
}

/* getopt_long's tables from ours; the caller frees *longopts. */
static int
build_getopt (const struct cmd_option *opts, size_t n,
              struct option **longopts, char *shortopts, size_t len)
{
  struct option *lo = calloc (n + 3, sizeof *lo);
  size_t i, k = 0, s = 0;

  if (lo == NULL)
    return error_errno ("options: out of memory");
  for (i = 0; i < n; i++) {
    int val = opts[i].short_name ? opts[i].short_name : LONG_BASE + (int) i;

    if (opts[i].long_name) {
      lo[k].name = opts[i].long_name;
      lo[k].has_arg = takes_arg (&opts[i]) ? required_argument : no_argument;
      lo[k].val = val;
      k++;
    }
    if (opts[i].short_name && s + 3 < len) {
      shortopts[s++] = opts[i].short_name;
      if (takes_arg (&opts[i]))
        shortopts[s++] = ':';
    }
  }
  shortopts[s++] = 'h';
  shortopts[s] = '\0';
  lo[k++] = (struct option) { "help", no_argument, NULL, VAL_HELP };
  lo[k++] = (struct option) { "list-options", no_argument, NULL, VAL_LIST };
  *longopts = lo;
  return 0;
}

/* The table entry of getopt value `c`, or NULL. */
static const struct cmd_option *
find (const struct cmd_option *opts, size_t n, int c)
{
  size_t i;

  if (c >= LONG_BASE)
    return (size_t) (c - LONG_BASE) < n ? &opts[c - LONG_BASE] : NULL;
  for (i = 0; i < n; i++)
    if (opts[i].short_name == c)
      return &opts[i];
  return NULL;
}

int
cmd_options_parse (const struct cmd_spec *spec, int argc, char **argv,
                   void *args, int *first)
{
  size_t n = count_options (spec->options);
  struct option *longopts = NULL;
  char shortopts[128];
  int c, r = 0;

  if (build_getopt (spec->options, n, &longopts, shortopts,
                    sizeof shortopts) == -1)
    return cmd_fail ();
  while (r == 0 &&
         (c = getopt_long (argc, argv, shortopts, longopts, NULL)) != -1) {
    const struct cmd_option *o;

    if (c == 'h' || c == VAL_HELP) {
      cmd_options_help (spec, stdout);
      r = -1;
    }
    else if (c == VAL_LIST) {
      cmd_options_list (spec, stdout);
      r = -1;
    }
    else if ((o = find (spec->options, n, c)) == NULL)
      r = cmd_usage_error (spec->name, "bad option");
    else
      r = store (spec, o, takes_arg (o) ? optarg : NULL, args);
  }
  free (longopts);
  *first = optind;
  return r;
}
