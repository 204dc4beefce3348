/* options.h: one declarative option table per command (git's
 * parse-options habit).
 *
 * A command describes each option once — names, argument, where the value
 * goes in its own args struct, the choices it accepts and its help — and
 * the same table drives the getopt_long parse, the --help text and the
 * machine-readable list `ferry CMD --list-options` prints (the man page
 * test compares docs/ferry-CMD.1 with it; shell completion reads it).
 *
 *   static const struct cmd_option capture_options[] = {
 *     CMD_OPT_STRING ('o', NULL, struct capture_args, output, "OUTPUT",
 *                     "the image (one SOURCE) or a directory"),
 *     CMD_OPT_BOOL ('q', "quiet", struct capture_args, quiet,
 *                   "no progress meter or summary"),
 *     CMD_OPT_END
 *   };
 *
 * --help and --list-options are implicit in every table.
 */
#ifndef FERRY_CMD_OPTIONS_H
#define FERRY_CMD_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum cmd_opt_kind {
  CMD_OPT_KIND_BOOL,            /* no argument; sets a bool to true */
  CMD_OPT_KIND_STRING,          /* const char * = the argument */
  CMD_OPT_KIND_CHOICE,          /* a STRING that must be one of `choices` */
  CMD_OPT_KIND_UINT,            /* unsigned in 0..max */
  CMD_OPT_KIND_FN,              /* `fn` parses the argument */
};

struct cmd_option {
  char short_name;              /* 0: long name only */
  const char *long_name;        /* NULL: short name only */
  enum cmd_opt_kind kind;
  size_t offset;                /* of the field in the args struct */
  const char *arg;              /* argument name in the help ("FILE") */
  const char *const *choices;   /* CHOICE (NULL-terminated); for the others
                                 * the values completion may offer */
  unsigned max;                 /* UINT */
  /* FN: store `value` in `args`; -1 with the error set (the parser
   * prints "ferry CMD: --NAME: <error>").  FN options without `arg` take
   * no argument and get value NULL. */
  int (*fn) (void *args, const char *value);
  const char *help;             /* lines separated by "\n"; NULL: hidden */
};

#define CMD_OPT_BOOL(s, l, type, field, help)                              \
  { (s), (l), CMD_OPT_KIND_BOOL, offsetof (type, field), NULL, NULL, 0,     \
    NULL, (help) }
#define CMD_OPT_STRING(s, l, type, field, arg, help)                       \
  { (s), (l), CMD_OPT_KIND_STRING, offsetof (type, field), (arg), NULL, 0,  \
    NULL, (help) }
/* A STRING another layer checks, with the usual values for completion. */
#define CMD_OPT_STRING_OF(s, l, type, field, arg, values, help)            \
  { (s), (l), CMD_OPT_KIND_STRING, offsetof (type, field), (arg),          \
    (values), 0, NULL, (help) }
#define CMD_OPT_CHOICE(s, l, type, field, arg, choices, help)              \
  { (s), (l), CMD_OPT_KIND_CHOICE, offsetof (type, field), (arg),          \
    (choices), 0, NULL, (help) }
#define CMD_OPT_UINT(s, l, type, field, arg, max, help)                    \
  { (s), (l), CMD_OPT_KIND_UINT, offsetof (type, field), (arg), NULL,      \
    (max), NULL, (help) }
#define CMD_OPT_FN(s, l, fn, arg, choices, help)                           \
  { (s), (l), CMD_OPT_KIND_FN, 0, (arg), (choices), 0, (fn), (help) }
#define CMD_OPT_END { 0, NULL, 0, 0, NULL, NULL, 0, NULL, NULL }

struct cmd_spec {
  const char *name;             /* "capture" */
  /* Everything --help prints before the options: the usage lines and the
   * description, ending with an empty line. */
  const char *usage;
  const struct cmd_option *options;
};

/* Parse argv[1..] into `args` by `spec`.  Returns 0 with *first set to the
 * index of the first operand; -1 after printing --help or --list-options
 * (the command exits 0); EXIT_USAGE after printing a usage error. */
int cmd_options_parse (const struct cmd_spec *spec, int argc, char **argv,
                       void *args, int *first);

/* The --help text: usage, then one entry per visible option. */
void cmd_options_help (const struct cmd_spec *spec, FILE *fp);

/* The table for tools, one visible option per line, tab-separated:
 * "--LONG" or "-", "-S" or "-", the argument name or "-", the choices
 * joined by "," or "-". */
void cmd_options_list (const struct cmd_spec *spec, FILE *fp);

#endif
