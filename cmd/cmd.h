/* cmd.h: the command layer — option parsing, printing, exit codes.
 * Only this layer prints errors (lib code sets them, see error.h). */
#ifndef FERRY_CMD_H
#define FERRY_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Exit codes shared by every command. */
#define EXIT_OK 0
#define EXIT_FAIL 1           /* the job failed, or `check` found corruption */
#define EXIT_USAGE 2

int cmd_agent (int argc, char **argv);
int cmd_capture (int argc, char **argv);
int cmd_check (int argc, char **argv);
int cmd_clone (int argc, char **argv);
int cmd_convert (int argc, char **argv);
int cmd_deploy (int argc, char **argv);
int cmd_copy (int argc, char **argv);
int cmd_export (int argc, char **argv);
int cmd_import (int argc, char **argv);
int cmd_info (int argc, char **argv);

/* Print "ferry: <current error>" on stderr; returns EXIT_FAIL. */
int cmd_fail (void);
/* Print "ferry CMD: <msg>" and the usage hint; returns EXIT_USAGE. */
int cmd_usage_error (const char *cmd, const char *fmt, ...)
  __attribute__ ((format (printf, 2, 3)));
/* Parse "key=value,key=value" -o options for image creation. */
struct image_create_opts;
int cmd_parse_create_opts (char *spec, struct image_create_opts *opts);
/* The image formats Ferry writes, for option tables (-O). */
extern const char *const cmd_image_formats[];
/* Guess an output format from a file name (".vhd" -> "vhd"); NULL if none. */
const char *cmd_format_from_name (const char *path);
/* Parse a size/count, refusing junk. */
int cmd_parse_uint (const char *s, uint64_t max, uint64_t *out);
/* Parse bytes: a number with an optional K, M or G (powers of 1024). */
int cmd_parse_bytes (const char *s, uint64_t max, uint64_t *out);

#endif
