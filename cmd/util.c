/* util.c: helpers shared by the command front-ends. */
#include "lib/common/compat.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "lib/common/cleanup.h"
#include "lib/common/error.h"
#include "lib/common/strbuf.h"
#include "lib/image/image.h"

int
cmd_fail (void)
{
  fprintf (stderr, "ferry: %s\n", error_get ());
  return EXIT_FAIL;
}

int
cmd_usage_error (const char *cmd, const char *fmt, ...)
{
  va_list ap;

  fprintf (stderr, "ferry %s: ", cmd);
  va_start (ap, fmt);
  vfprintf (stderr, fmt, ap);
  va_end (ap);
  fprintf (stderr, "\nsee 'ferry %s --help'\n", cmd);
  return EXIT_USAGE;
}

static int
set_create_opt (struct image_create_opts *opts, const char *key,
                const char *value)
{
  uint64_t n;

  if (strcmp (key, "subformat") == 0)
    opts->subformat = value;
  else if (strcmp (key, "backing") == 0 || strcmp (key, "backing_file") == 0)
    opts->backing = value;
  else if (strcmp (key, "backing_format") == 0 ||
           strcmp (key, "backing_fmt") == 0)
    opts->backing_format = value;
  else if (strcmp (key, "adapter_type") == 0)
    opts->adapter_type = value;
  else if (strcmp (key, "block_size") == 0) {
    if (cmd_parse_bytes (value, 1u << 30, &n) == -1)
      return -1;
    opts->block_size = (uint32_t) n;
  }
  else if (strcmp (key, "threads") == 0) {
    if (cmd_parse_uint (value, 256, &n) == -1)
      return -1;
    opts->threads = (unsigned) n;
  }
  else
    return error_set ("unknown option '%s' (known: subformat, backing, "
                      "backing_format, adapter_type, block_size, threads)", key);
  return 0;
}

int
cmd_parse_create_opts (char *spec, struct image_create_opts *opts)
{
  char *save = NULL, *item;

  for (item = strtok_r (spec, ",", &save); item;
       item = strtok_r (NULL, ",", &save)) {
    char *eq = strchr (item, '=');
    if (eq == NULL)
      return error_set ("'%s' needs a value (key=value)", item);
    *eq = '\0';
    if (set_create_opt (opts, item, eq + 1) == -1)
      return -1;
  }
  return 0;
}

const char *const cmd_image_formats[] = { "vhd", "vmdk", "qcow2", "raw",
                                          NULL };

const char *
cmd_format_from_name (const char *path)
{
  static const struct { const char *ext, *fmt; } map[] = {
    { ".vhd", "vhd" }, { ".vpc", "vhd" }, { ".vmdk", "vmdk" },
    { ".qcow2", "qcow2" }, { ".img", "raw" }, { ".raw", "raw" },
  };
  size_t i;

  for (i = 0; i < sizeof map / sizeof map[0]; i++)
    if (str_has_suffix (path, map[i].ext))
      return map[i].fmt;
  return NULL;
}

int
cmd_parse_uint (const char *s, uint64_t max, uint64_t *out)
{
  char *end;
  unsigned long long v;

  errno = 0;
  v = strtoull (s, &end, 10);
  if (errno || end == s || *end || s[0] == '-' || v > max)
    return error_set ("'%s' is not a number between 0 and %llu", s,
                      (unsigned long long) max);
  *out = v;
  return 0;
}

int
cmd_parse_bytes (const char *s, uint64_t max, uint64_t *out)
{
  static const char units[] = "KMG";
  const char *u;
  char *end;
  unsigned long long v;
  unsigned shift = 0;

  errno = 0;
  v = strtoull (s, &end, 10);
  if (!errno && end != s && s[0] != '-' && *end &&
      (u = strchr (units, *end)) != NULL && end[1] == '\0') {
    shift = 10 * (unsigned) (u - units + 1);
    end++;
  }
  if (errno || end == s || *end || s[0] == '-' || v > (max >> shift))
    return error_set ("'%s' is not a size between 0 and %llu bytes (a "
                      "number, then K, M or G)", s, (unsigned long long) max);
  *out = (uint64_t) v << shift;
  return 0;
}

