/* copy.c: `ferry copy` — convert an image from one format to another. */
#include "lib/common/compat.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/report.h"
#include "lib/common/error.h"
#include "lib/common/json.h"
#include "lib/common/outfile.h"
#include "lib/image/copy.h"

static const char usage_text[] =
  "usage: ferry copy SRC DST [-O FORMAT] [-o KEY=VALUE,...] [options]\n\n"
  "Copy the virtual disk SRC (raw, vhd, vmdk, qcow2, nbd:// URI) into a new\n"
  "image DST, reading only allocated data and writing sparse.\n\n"
  "  -O FORMAT     raw, vhd, vmdk or qcow2 (default: from DST's extension)\n"
  "  -o subformat=fixed|dynamic          (vhd)\n"
  "  -o subformat=streamOptimized, adapter_type=lsilogic|ide|...  (vmdk)\n"
  "  -o backing=FILE[,backing_format=FMT]  write an overlay (qcow2) or a\n"
  "                differencing disk (vhd) holding only what differs\n"
  "  -o threads=N  compression threads (vmdk; default: all cores)\n"
  "  -f            treat SRC as raw, without probing\n"
  "  --force       replace DST if it exists\n"
  "  -q, --quiet   no progress meter\n"
  "  --json        print a JSON summary\n";

struct copy_args {
  const char *src, *dst, *format;
  struct image_create_opts create;
  bool json, quiet, force, raw;
};

static int
parse_args (int argc, char **argv, struct copy_args *a)
{
  static const struct option longopts[] = {
    { "json", no_argument, NULL, 'j' }, { "quiet", no_argument, NULL, 'q' },
    { "force", no_argument, NULL, 'F' }, { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  int c;

  while ((c = getopt_long (argc, argv, "O:o:fqh", longopts, NULL)) != -1) {
    switch (c) {
    case 'O':
      a->format = optarg;
      break;
    case 'o':
      if (cmd_parse_create_opts (optarg, &a->create) == -1)
        return cmd_usage_error ("copy", "%s", error_get ());
      break;
    case 'f':
      a->raw = true;
      break;
    case 'q':
      a->quiet = true;
      break;
    case 'j':
      a->json = true;
      break;
    case 'F':
      a->force = true;
      break;
    case 'h':
      fputs (usage_text, stdout);
      return -1;
    default: return cmd_usage_error ("copy", "bad option");
    }
  }
  if (optind != argc - 2)
    return cmd_usage_error ("copy", "expected SRC and DST");
  a->src = argv[optind];
  a->dst = argv[optind + 1];
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
