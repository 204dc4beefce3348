/* deploy.c: `ferry deploy` — lay an image or a backup package onto
 * physical disks, fit it to them and make it boot on the hardware
 * (v2p/deploy.h); here the options, the confirmation and the report. */
#include "lib/common/compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/options.h"
#include "lib/common/error.h"
#include "lib/common/json.h"
#include "lib/common/outfile.h"
#include "v2p/deploy.h"

struct deploy_args {
  const char *source, *convert, *root, *tmpdir;
  const char *targets[DEPLOY_MAX_TARGETS];
  size_t n_targets;
  bool yes, no_grow, from_libvirt, json, quiet, verbose;
};

static const char *const converts[] = { "native", "none", NULL };

static const struct cmd_option deploy_options[] = {
  CMD_OPT_BOOL (0, "yes", struct deploy_args, yes,
                "erase the targets without asking (required without a\n"
                "terminal)"),
  CMD_OPT_CHOICE (0, "convert", struct deploy_args, convert, "HOW", converts,
                  "native (default): a generic initramfs (ahci, nvme,\n"
                  "common NICs), fstab and GRUB by UUID, the bootloader\n"
                  "reinstalled; none: copy and fit only"),
  CMD_OPT_BOOL (0, "no-grow", struct deploy_args, no_grow,
                "keep the image's partition layout (the backup GPT still\n"
                "moves to the disk's end)"),
  CMD_OPT_STRING (0, "root", struct deploy_args, root, "DEV",
                  "the root to fit and convert when there are several"),
  CMD_OPT_BOOL (0, "from-libvirt", struct deploy_args, from_libvirt,
                "SOURCE is a libvirt domain XML; its disks are deployed"),
  CMD_OPT_STRING (0, "tmpdir", struct deploy_args, tmpdir, "DIR",
                  "where the overlay and a package's staged disks go\n"
                  "(default $TMPDIR or /var/tmp)"),
  CMD_OPT_BOOL (0, "json", struct deploy_args, json,
                "print the report as JSON on stdout"),
  CMD_OPT_BOOL ('q', "quiet", struct deploy_args, quiet,
                "no progress meter"),
  CMD_OPT_BOOL ('v', "verbose", struct deploy_args, verbose,
                "say each step (appliance, layout, conversion, writes)"),
  CMD_OPT_END
};

static const struct cmd_spec deploy_spec = {
  "deploy",
  "usage: ferry deploy SOURCE TARGET... [--yes] [--convert native|none]\n"
  "                    [--no-grow] [--root DEV] [--from-libvirt]\n"
  "                    [--tmpdir DIR] [--json] [-q] [-v]\n\n"
  "Write an image (any format, or nbd://) or the disks of an OVA, XVA or\n"
  "libvirt domain onto physical disks, one TARGET per disk: the root's\n"
  "partition, LVM and filesystem grown to fill the disk (or shrunk onto a\n"
  "smaller one), the system made to boot on the hardware.  Everything the\n"
  "result could read is written or zeroed; the source is never written.\n\n",
  deploy_options,
};

static int
parse_args (int argc, char **argv, struct deploy_args *a)
{
  int r, first, i;

  if ((r = cmd_options_parse (&deploy_spec, argc, argv, a, &first)) != 0)
    return r;
  if (argc - first < 2)
    return cmd_usage_error ("deploy", "expected SOURCE and at least one "
                            "TARGET");
  if (argc - first - 1 > DEPLOY_MAX_TARGETS)
    return cmd_usage_error ("deploy", "at most %d targets",
                            DEPLOY_MAX_TARGETS);
  a->source = argv[first];
  for (i = first + 1; i < argc; i++)
    a->targets[a->n_targets++] = argv[i];
  return 0;
}

static void
say (void *opaque, const char *line)
{
  const struct deploy_args *a = opaque;

  if (a->verbose)
    fprintf (stderr, "ferry deploy: %s\n", line);
}

static void
describe (FILE *fp, const struct deploy_target *t)
{
  fprintf (fp, "  %s: %s%s%s%s%s, %.1f GiB, %u-byte sectors\n", t->path,
           t->device ? "disk" : "file",
           t->model[0] ? " " : "", t->model,
           t->serial[0] ? ", serial " : "", t->serial,
           (double) t->size / (1ull << 30), t->sector_size);
}

/* Name what will be erased and ask; without a terminal, --yes decides. */
static int
confirm (void *opaque, const struct deploy_result *res)
{
  const struct deploy_args *a = opaque;
  char line[16];
  size_t i;

  if (a->yes)
    return 0;
  if (!isatty (STDIN_FILENO))
    return error_set ("not a terminal and no --yes: refusing to erase %s%s",
                      res->disks[0].target.path,
                      res->n_disks > 1 ? " and the other targets" : "");
  fprintf (stderr, "ferry deploy: this ERASES everything on:\n");
  for (i = 0; i < res->n_disks; i++)
    describe (stderr, &res->disks[i].target);
  fprintf (stderr, "type 'yes' to continue: ");
  if (fgets (line, sizeof line, stdin) == NULL ||
      strcmp (line, "yes\n") != 0)
    return error_set ("not confirmed: nothing was written");
  return 0;
}

static void
print_text (const struct deploy_result *res)
{
  size_t i, k;

  for (i = 0; i < res->n_disks; i++) {
    const struct deploy_disk_result *d = &res->disks[i];
    printf ("deployed %s onto %s (%.1f GiB): %llu bytes written, %llu "
            "zeroed\n", d->source, d->target.path,
            (double) d->target.size / (1ull << 30),
            (unsigned long long) d->stats.bytes_written,
            (unsigned long long) d->stats.bytes_zeroed);
    for (k = 0; k < d->layout.len; k++)
      printf ("  %s\n", d->layout.ptr[k]);
  }
  if (res->conv.root)
    printf ("root %s: %zu change%s for native hardware\n", res->conv.root,
            res->conv.report.changes.len,
            res->conv.report.changes.len == 1 ? "" : "s");
  for (k = 0; k < res->boot.len; k++)
    printf ("  %s\n", res->boot.ptr[k]);
}

static void
print_json (const struct deploy_args *a, const struct deploy_result *res,
            bool ok)
{
  struct json j;

  json_init (&j, stdout);
  json_object_begin (&j);
  json_key_bool (&j, "ok", ok);
  json_key_string (&j, "source", a->source);
  json_key_string (&j, "convert", a->convert ? a->convert : "native");
  if (!ok)
    json_key_string (&j, "error", error_get ());
  deploy_result_json (&j, res);
  json_object_end (&j);
  json_finish (&j);
}

int
cmd_deploy (int argc, char **argv)
{
  struct deploy_args a = { 0 };
  struct deploy_result res = { .n_disks = 0 };
  struct copy_opts copy = { 0 };
  int r;

  if ((r = parse_args (argc, argv, &a)) != 0)
    return r == -1 ? EXIT_OK : r;
  outfile_install_signal_handlers ();
  copy.quiet = a.quiet || a.json;
  r = deploy_run (&(struct deploy_opts) {
      .source = a.source, .from_libvirt = a.from_libvirt,
      .targets = a.targets, .n_targets = a.n_targets, .convert = a.convert,
      .no_grow = a.no_grow, .root = a.root, .tmpdir = a.tmpdir,
      .confirm = confirm, .on_step = say, .opaque = &a, .copy = &copy,
    }, &res);
  if (a.json)
    print_json (&a, &res, r == 0);
  else if (r == 0)
    print_text (&res);
  deploy_result_free (&res);
  return r == 0 ? EXIT_OK : cmd_fail ();
}
