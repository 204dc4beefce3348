/* copy.c: `ferry copy` — convert an image from one format to another. */
#include "lib/common/compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/options.h"
#include "cmd/report.h"
#include "lib/common/error.h"
#include "lib/common/json.h"
#include "lib/common/outfile.h"
#include "lib/image/copy.h"

struct copy_args {
  const char *src, *dst, *format;
  struct image_create_opts create;
  bool json, quiet, force, raw;
};

static int
opt_create (void *args, const char *value)
{
  struct copy_args *a = args;
  char *spec = (char *) value;  /* argv is writable; the parser splits it */

  return cmd_parse_create_opts (spec, &a->create);
}

static const struct cmd_option copy_options[] = {
  CMD_OPT_STRING_OF ('O', NULL, struct copy_args, format, "FORMAT",
                     cmd_image_formats,
                     "raw, vhd, vmdk or qcow2 (default: from DST's "
                     "extension)"),
  CMD_OPT_FN ('o', NULL, opt_create, "KEY=VALUE,...", NULL,
              "image options (repeatable):\n"
              "subformat=fixed|dynamic  (vhd)\n"
              "block_size=512K|1M|2M  (vhd; default 512K)\n"
              "subformat=streamOptimized,\n"
              "  adapter_type=lsilogic|ide|...  (vmdk)\n"
              "backing=FILE[,backing_format=FMT]  write an overlay (qcow2)\n"
              "  or a differencing disk (vhd) holding only what differs\n"
              "threads=N  compression threads (vmdk; default: all cores)"),
  CMD_OPT_BOOL ('f', NULL, struct copy_args, raw,
                "treat SRC as raw, without probing"),
  CMD_OPT_BOOL (0, "force", struct copy_args, force,
                "replace DST if it exists"),
  CMD_OPT_BOOL ('q', "quiet", struct copy_args, quiet, "no progress meter"),
  CMD_OPT_BOOL (0, "json", struct copy_args, json, "print a JSON summary"),
  CMD_OPT_END
};

static const struct cmd_spec copy_spec = {
  "copy",
  "usage: ferry copy SRC DST [-O FORMAT] [-o KEY=VALUE,...] [options]\n\n"
  "Copy the virtual disk SRC (raw, vhd, vmdk, qcow2, nbd:// URI) into a new\n"
  "image DST, reading only allocated data and writing sparse.\n\n",
  copy_options,
};

static int
parse_args (int argc, char **argv, struct copy_args *a)
{
  int r, first;

  if ((r = cmd_options_parse (&copy_spec, argc, argv, a, &first)) != 0)
    return r;
  if (first != argc - 2)
    return cmd_usage_error ("copy", "expected SRC and DST");
  a->src = argv[first];
  a->dst = argv[first + 1];
  if (a->format == NULL && (a->format = cmd_format_from_name (a->dst)) == NULL)
    return cmd_usage_error ("copy", "cannot tell the format of '%s': use -O",
                            a->dst);
  return 0;
}

static void
print_summary (const struct copy_args *a, const struct copy_stats *s)
{
  struct json j;

  if (!a->json) {
    if (!a->quiet)
      report_stats_text (stderr, "copy", s);
    return;
  }
  json_init (&j, stdout);
  json_object_begin (&j);
  json_key_string (&j, "source", a->src);
  json_key_string (&j, "output", a->dst);
  json_key_string (&j, "format", a->format);
  report_stats_json (&j, s);
  json_object_end (&j);
  json_finish (&j);
}

int
cmd_copy (int argc, char **argv)
{
  struct copy_args a = { 0 };
  struct copy_opts opts = { .retries = 2 };
  struct copy_stats stats = { 0 };
  struct image *src;
  int r;

  if ((r = parse_args (argc, argv, &a)) != 0)
    return r == -1 ? EXIT_OK : r;
  outfile_install_signal_handlers ();
  src = image_open (a.src, a.raw ? IMAGE_OPEN_RAW : 0);
  if (src == NULL)
    return cmd_fail ();
  opts.quiet = a.quiet || a.json;
  opts.strict = true;         /* a copy between images never zero-fills */
  r = image_convert (src, a.format, a.dst, &a.create, &opts, a.force, &stats);
  image_close (src);
  if (r == -1) {
    free (stats.bad.ptr);
    return cmd_fail ();
  }
  print_summary (&a, &stats);
  free (stats.bad.ptr);
  return EXIT_OK;
}
