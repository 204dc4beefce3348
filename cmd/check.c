/* check.c: `ferry check` — structural validation of an image. */
#include "lib/common/compat.h"

#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/options.h"
#include "lib/common/error.h"
#include "lib/common/json.h"
#include "lib/common/strbuf.h"
#include "lib/image/image.h"

struct check_args {
  bool json;
};

static const struct cmd_option check_options[] = {
  CMD_OPT_BOOL (0, "json", struct check_args, json,
                "print one JSON object {\"clean\": bool, \"problems\": "
                "[...]}"),
  CMD_OPT_END
};

static const struct cmd_spec check_spec = {
  "check",
  "usage: ferry check IMAGE [--json]\n\n"
  "Validate IMAGE's metadata (checksums, tables, offsets, refcounts).\n"
  "Exit 0 when clean, 1 when corrupt or unreadable.\n\n",
  check_options,
};

static void
print_json (const char *path, const char *format, int clean, char *report)
{
  struct json j;
  char *save = NULL, *line;

  json_init (&j, stdout);
  json_object_begin (&j);
  json_key_string (&j, "path", path);
  json_key_string (&j, "format", format);
  json_key_bool (&j, "clean", clean);
  json_key (&j, "problems");
  json_array_begin (&j);
  for (line = strtok_r (report, "\n", &save); line;
       line = strtok_r (NULL, "\n", &save))
    json_string (&j, line);
  json_array_end (&j);
  json_object_end (&j);
  json_finish (&j);
}

static int
run_check (struct image *img, bool json)
{
  struct strbuf report = STRBUF_INIT;
  int r = 0;

  if (img->ops->check)
    r = img->ops->check (img, &report);
  if (r == -1) {
    strbuf_release (&report);
    return cmd_fail ();
  }
  strbuf_adds (&report, "");
  if (json)
    print_json (img->path, image_format (img), r == 0, report.buf);
  else if (r == 0)
    printf ("%s: %s image is clean\n", img->path, image_format (img));
  else
    printf ("%s: %s image is corrupt:\n%s", img->path, image_format (img),
            report.buf);
  strbuf_release (&report);
  return r == 0 ? EXIT_OK : EXIT_FAIL;
}

int
cmd_check (int argc, char **argv)
{
  struct check_args args = { 0 };
  struct image *img;
  int r, first;

  if ((r = cmd_options_parse (&check_spec, argc, argv, &args, &first)) != 0)
    return r == -1 ? EXIT_OK : r;
  if (first != argc - 1)
    return cmd_usage_error ("check", "expected exactly one IMAGE");
  /* A file we refuse to open is corrupt as far as check is concerned:
   * reported, EXIT_FAIL. */
  if ((img = image_open (argv[first], 0)) == NULL)
    return cmd_fail ();
  r = run_check (img, args.json);
  image_close (img);
  return r;
}
