/* check.c: `ferry check` — structural validation of an image. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "common/error.h"
#include "common/json.h"
#include "common/strbuf.h"
#include "image/image.h"

static const char usage_text[] =
  "usage: ferry check IMAGE [--json]\n\n"
  "Validate IMAGE's metadata (checksums, tables, offsets, refcounts).\n"
  "Exit 0 when clean, 1 when corrupt or unreadable.\n\n"
  "  --json   print one JSON object {\"clean\": bool, \"problems\": [...]}\n";

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
  static const struct option longopts[] = {
    { "json", no_argument, NULL, 'j' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  struct image *img;
  bool json = false;
  int c, r;

  while ((c = getopt_long (argc, argv, "h", longopts, NULL)) != -1) {
    if (c == 'j')
      json = true;
    else if (c == 'h')
      return fputs (usage_text, stdout), EXIT_OK;
    else
      return cmd_usage_error ("check", "bad option");
  }
  if (optind != argc - 1)
    return cmd_usage_error ("check", "expected exactly one IMAGE");
  img = image_open (argv[optind], 0);
  if (img == NULL) {
    /* A file we refuse to open is corrupt as far as check is concerned. */
    return cmd_fail ();
  }
  r = run_check (img, json);
  image_close (img);
  return r;
}
