/* capture.c: `ferry capture` — image source disks, used blocks only. */
#include "lib/common/compat.h"

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd/cmd.h"
#include "cmd/options.h"
#include "cmd/report.h"
#include "lib/common/error.h"
#include "lib/common/json.h"
#include "lib/common/outfile.h"
#include "lib/common/progress.h"
#include "lib/common/strbuf.h"
#include "p2v/capture.h"

struct capture_args {
  const char *output;
  struct capture_opts opts;
  bool json;
  char **sources;
  int nr_sources;
};

static int
opt_create (void *args, const char *value)
{
  struct capture_args *a = args;

  return cmd_parse_create_opts ((char *) value, &a->opts.create);
}

static const char *const convert_targets[] = { "kvm", "xen", NULL };

static const struct cmd_option capture_options[] = {
  CMD_OPT_STRING ('o', NULL, struct capture_args, output, "OUTPUT",
                  "the image (one SOURCE) or a directory (several)"),
  CMD_OPT_STRING_OF ('O', NULL, struct capture_args, opts.format, "FORMAT",
                     cmd_image_formats, "vhd (default), vmdk, qcow2 or raw"),
  CMD_OPT_CHOICE (0, "convert", struct capture_args, opts.convert, "TARGET",
                  convert_targets,
                  "kvm or xen: convert the guest (Linux or Windows)\n"
                  "on the way (one SOURCE), as `ferry convert`\n"
                  "does; the source is still only read: the\n"
                  "changes go to a temporary overlay copied into\n"
                  "OUTPUT with the used blocks"),
  CMD_OPT_STRING (0, "root", struct capture_args, opts.root, "DEV",
                  "the root to convert when there are several"),
  CMD_OPT_STRING (0, "drivers", struct capture_args, opts.drivers, "DIR",
                  "Windows: the target's drivers (.inf/.sys/.cat, e.g.\n"
                  "virtio-win's viostor, or Xen PV); the storage\n"
                  "driver is made boot-start, the rest staged for\n"
                  "Plug and Play"),
  CMD_OPT_BOOL (0, "verify-boot", struct capture_args, opts.verify_boot,
                "with --convert kvm: boot OUTPUT on virtio under qemu\n"
                "before it is written, to its login prompt; a boot\n"
                "that fails writes nothing"),
  CMD_OPT_FN (0, "opt", opt_create, "KEY=VALUE", NULL,
              "image options, as `ferry copy -o`"),
  CMD_OPT_BOOL (0, "all-blocks", struct capture_args, opts.all_blocks,
                "copy every non-zero block, ignoring filesystems"),
  CMD_OPT_BOOL (0, "strict", struct capture_args, opts.strict,
                "stop at the first unreadable sector"),
  CMD_OPT_UINT (0, "retries", struct capture_args, opts.retries, "N", 100,
                "extra read attempts before a sector is given up\n"
                "(default 2); unreadable sectors become zeros and\n"
                "are listed in the report"),
  CMD_OPT_BOOL (0, "force", struct capture_args, opts.overwrite,
                "replace existing outputs"),
  CMD_OPT_BOOL ('q', "quiet", struct capture_args, opts.quiet,
                "no progress meter or summary"),
  CMD_OPT_BOOL (0, "json", struct capture_args, json,
                "print a JSON report on stdout"),
  CMD_OPT_END
};

static const struct cmd_spec capture_spec = {
  "capture",
  "usage: ferry capture SOURCE... -o OUTPUT [-O FORMAT] [options]\n\n"
  "Image disks into virtual disk images.  SOURCE is a block device, a file\n"
  "standing in for one, or an nbd:// / nbd+unix:// URI; it is only read.\n"
  "ext2/3/4 and xfs partitions are captured by their used blocks (free\n"
  "blocks, deleted data included, become zeros), swap by its header only,\n"
  "LVM2 physical volumes by their logical volumes' extents (each through\n"
  "its filesystem's map), the rest with all-zero blocks skipped.  With one SOURCE, OUTPUT is the image file;\n"
  "with several, OUTPUT is a directory receiving one image per source.\n\n",
  capture_options,
};

static int
parse_args (int argc, char **argv, struct capture_args *a)
{
  int r, first;

  a->opts.retries = 2;
  if ((r = cmd_options_parse (&capture_spec, argc, argv, a, &first)) != 0)
    return r;
  a->sources = argv + first;
  a->nr_sources = argc - first;
  if (a->nr_sources < 1)
    return cmd_usage_error ("capture", "no SOURCE given");
  if (a->output == NULL)
    return cmd_usage_error ("capture", "no output given (-o OUTPUT)");
  if (a->opts.format == NULL &&
      (a->nr_sources > 1 ||
       (a->opts.format = cmd_format_from_name (a->output)) == NULL))
    a->opts.format = "vhd";
  if (image_format_by_name (a->opts.format) == NULL)
    return cmd_usage_error ("capture", "%s", error_get ());
  if (a->opts.convert && a->nr_sources != 1)
    return cmd_usage_error ("capture", "--convert takes one SOURCE");
  if (a->opts.root && a->opts.convert == NULL)
    return cmd_usage_error ("capture", "--root needs --convert");
  if (a->opts.drivers && a->opts.convert == NULL)
    return cmd_usage_error ("capture", "--drivers needs --convert");
  if (a->opts.verify_boot && a->opts.convert == NULL)
    return cmd_usage_error ("capture", "--verify-boot needs --convert");
  if (a->opts.verify_boot && strcmp (a->opts.convert, "xen") == 0)
    return cmd_usage_error ("capture", "--verify-boot: a xen guest cannot "
                            "be booted here (no Xen hypervisor); it boots "
                            "kvm results");
  return 0;
}

/* With several sources, OUTPUT is a directory: DIR/<source name>.<ext>. */
static char *
output_for (const struct capture_args *a, int i)
{
  const char *ext = strcmp (a->opts.format, "raw") == 0 ? "img"
    : a->opts.format;
  char *copy, *name, *r;

  if (a->nr_sources == 1)
    return xstrdup (a->output);
  if (mkdir (a->output, 0755) == -1 && errno != EEXIST) {
    error_errno ("'%s': create directory", a->output);
    return NULL;
  }
  if (strstr (a->sources[i], "://"))
    return xasprintf ("%s/disk%d.%s", a->output, i + 1, ext);
  copy = xstrdup (a->sources[i]);
  if (copy == NULL)
    return NULL;
  name = basename (copy);
  r = xasprintf ("%s/%s.%s", a->output, name, ext);
  free (copy);
  return r;
}

static void
text_convert (const struct capture_args *a, const struct capture_result *res)
{
  const struct convert_report *rep = &res->convert;
  size_t i;

  if (rep->kernel)
    printf ("converted %s for %s: kernel %s, initramfs by %s (appliance on "
            "%s)\n", res->root, a->opts.convert, rep->kernel,
            rep->initrd_tool, res->accel);
  else
    printf ("converted %s for %s (appliance on %s)\n", res->root,
            a->opts.convert, res->accel);
  for (i = 0; i < rep->changes.len; i++)
    printf ("  %-10s %s%s%s\n", rep->changes.ptr[i].what,
            rep->changes.ptr[i].path, *rep->changes.ptr[i].path ? ": " : "",
            rep->changes.ptr[i].detail);
}

static void
text_result (const char *src, const char *out, const struct capture_result *res)
{
  char what[4200];

  size_t i;

  snprintf (what, sizeof what, "capture '%s' -> '%s'", src, out);
  report_stats_text (stderr, what, &res->stats);
  /* Which map each partition went through, and why one was copied in
   * full when its filesystem was known (a dirty xfs log, ...). */
  for (i = 0; i < res->map.parts.len; i++) {
    const struct usedmap_part *p = &res->map.parts.ptr[i];

    fprintf (stderr, "  partition %d: %s, %s, %llu bytes kept%s%s\n",
             p->number, p->fstype[0] ? p->fstype : "unknown",
             p->method[0] ? p->method : "all",
             (unsigned long long) p->used_bytes, p->note[0] ? ": " : "",
             p->note);
  }
}

/* A filesystem known but not trusted (dirty, hibernated) was copied whole:
 * say so even with --quiet or --json, naming the partition. */
static void
warn_unmapped (const char *src, const struct capture_result *res)
{
  size_t i;

  for (i = 0; i < res->map.parts.len; i++) {
    const struct usedmap_part *p = &res->map.parts.ptr[i];

    if (p->policy == USEDMAP_ALL && p->note[0])
      fprintf (stderr, "ferry: warning: '%s' partition %d: %s\n", src,
               p->number, p->note);
  }
}

/* A result that did not boot was not written: say what its boot showed. */
static void
boots_failed (const struct capture_args *a, struct json *j, const char *src,
              const struct capture_result *res)
{
  if (!a->json) {
    report_boots_text (stdout, &res->boots);
    return;
  }
  json_object_begin (j);
  json_key_string (j, "source", src);
  json_key (j, "output");
  json_null (j);
  guest_pipeline_boots_json (j, &res->boots);
  json_object_end (j);
}

static int
capture_all (struct capture_args *a, struct json *j)
{
  int i, failed = 0;

  for (i = 0; i < a->nr_sources; i++) {
    struct capture_result res = { 0 };
    char *out = output_for (a, i);

    if (out == NULL || capture_one (a->sources[i], out, &a->opts, &res) == -1) {
      if (out && res.boots.failed)
        boots_failed (a, j, a->sources[i], &res);
      cmd_fail ();
      failed = 1;
      free (out);
      break;
    }
    warn_unmapped (a->sources[i], &res);
    if (a->json)
      capture_result_json (j, a->sources[i], out, a->opts.format,
                           a->opts.convert, &res);
    else if (!a->opts.quiet) {
      if (a->opts.convert)
        text_convert (a, &res);
      report_boots_text (stdout, &res.boots);
      text_result (a->sources[i], out, &res);
    }
    capture_result_free (&res);
    free (out);
  }
  return failed;
}

int
cmd_capture (int argc, char **argv)
{
  struct capture_args a = { 0 };
  struct json j;
  int r, failed;

  if ((r = parse_args (argc, argv, &a)) != 0)
    return r == -1 ? EXIT_OK : r;
  outfile_install_signal_handlers ();
  if (a.json) {
    a.opts.quiet = true;
    json_init (&j, stdout);
    json_object_begin (&j);
    json_key (&j, "captures");
    json_array_begin (&j);
  }
  failed = capture_all (&a, &j);
  if (a.json) {
    json_array_end (&j);
    json_key_bool (&j, "ok", !failed);
    json_object_end (&j);
    json_finish (&j);
  }
  return failed ? EXIT_FAIL : EXIT_OK;
}
