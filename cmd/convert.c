/* convert.c: `ferry convert` — make a guest boot on kvm, xen or native
 * hardware, in place or into a new image (the input is then never written). */
#include "lib/common/compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/options.h"
#include "cmd/report.h"
#include "lib/common/error.h"
#include "lib/common/json.h"
#include "lib/common/outfile.h"
#include "lib/disk/parttable.h"
#include "lib/guest/pipeline.h"

struct convert_args {
  const char *image, *target, *output, *format, *root, *drivers;
  bool in_place, json, verbose, force, verify_boot;
};

static const char *const targets[] = { "kvm", "xen", "native", NULL };

static const struct cmd_option convert_options[] = {
  CMD_OPT_STRING_OF (0, "to", struct convert_args, target, "TARGET", targets,
                     "kvm (virtio), xen (PV drivers) or native (generic)"),
  CMD_OPT_STRING ('o', NULL, struct convert_args, output, "OUT",
                  "write the converted guest to OUT; IMAGE is only read"),
  CMD_OPT_STRING_OF ('O', NULL, struct convert_args, format, "FORMAT",
                     cmd_image_formats,
                     "OUT's format: qcow2 (default unless OUT's extension\n"
                     "says), raw, vhd, vmdk"),
  CMD_OPT_BOOL (0, "in-place", struct convert_args, in_place,
                "edit IMAGE itself (raw or qcow2 only)"),
  CMD_OPT_STRING (0, "root", struct convert_args, root, "DEV",
                  "the root to convert when there are several; `ask`\n"
                  "asks on the terminal"),
  CMD_OPT_STRING (0, "drivers", struct convert_args, drivers, "DIR",
                  "Windows: the target's drivers (.inf/.sys/.cat, e.g.\n"
                  "virtio-win's viostor, or Xen PV); the storage driver\n"
                  "is made boot-start, the rest staged for Plug and Play"),
  CMD_OPT_BOOL (0, "verify-boot", struct convert_args, verify_boot,
                "boot OUT under qemu before it is written (kvm:\n"
                "virtio; native: AHCI, then NVMe) to its login prompt;\n"
                "a boot that fails writes nothing (not for xen)"),
  CMD_OPT_BOOL (0, "force", struct convert_args, force,
                "replace OUT if it exists"),
  CMD_OPT_BOOL (0, "json", struct convert_args, json,
                "print the report as JSON on stdout"),
  CMD_OPT_BOOL ('v', "verbose", struct convert_args, verbose,
                "say how the appliance ran (kvm or tcg) and the steps"),
  CMD_OPT_END
};

static const struct cmd_spec convert_spec = {
  "convert",
  "usage: ferry convert IMAGE --to kvm|xen|native (--in-place | -o OUT)\n"
  "                     [-O FORMAT] [--root DEV|ask] [--drivers DIR]\n"
  "                     [--verify-boot] [--json] [-v]\n\n"
  "Rewrite a guest's boot path for new hardware: a kernel with the drivers,\n"
  "an initramfs holding them, fstab/GRUB by UUID, the serial console, MAC\n"
  "pins dropped (static addresses kept), foreign guest tools removed.\n\n",
  convert_options,
};

static int
check_args (struct convert_args *a)
{
  if (a->verify_boot && a->in_place)
    return cmd_usage_error ("convert", "--verify-boot needs -o OUT: an "
                            "in-place conversion has no output to hold "
                            "back");
  if (a->verify_boot && a->target && strcmp (a->target, "xen") == 0)
    return cmd_usage_error ("convert", "--verify-boot: a xen guest cannot "
                            "be booted here (no Xen hypervisor); it boots "
                            "kvm and native results");
  if (a->target == NULL)
    return cmd_usage_error ("convert", "--to kvm|xen|native is required");
  if (convert_target_check (a->target) == -1)
    return cmd_usage_error ("convert", "%s", error_get ());
  if (a->in_place == (a->output != NULL))
    return cmd_usage_error ("convert", "give either --in-place or -o OUT");
  if (a->in_place && a->format)
    return cmd_usage_error ("convert", "-O needs -o");
  if (a->output && a->format == NULL &&
      (a->format = cmd_format_from_name (a->output)) == NULL)
    a->format = "qcow2";
  return 0;
}

static int
parse_args (int argc, char **argv, struct convert_args *a)
{
  int r, first;

  if ((r = cmd_options_parse (&convert_spec, argc, argv, a, &first)) != 0)
    return r;
  if (first != argc - 1)
    return cmd_usage_error ("convert", "expected one IMAGE");
  a->image = argv[first];
  return check_args (a);
}

/* -v: the pipeline's steps. */
static void
say (void *opaque, const char *line)
{
  (void) opaque;
  fprintf (stderr, "ferry convert: %s\n", line);
}

/* Ask on the terminal which root to convert. */
static int
ask_root (void *opaque, const guest_root_vector *roots)
{
  char line[64];
  size_t i;
  unsigned long n;

  (void) opaque;
  if (!isatty (STDIN_FILENO) || !isatty (STDERR_FILENO))
    return error_set ("--root ask needs a terminal; use --root DEV");
  /* Copies of one system differ only in their hostname: show it. */
  for (i = 0; i < roots->len; i++)
    fprintf (stderr, "  %zu) %s  %s %s, hostname %s\n", i + 1,
             roots->ptr[i].device, roots->ptr[i].distro,
             roots->ptr[i].product, roots->ptr[i].hostname);
  fprintf (stderr, "convert which root? [1-%zu] ", roots->len);
  if (fgets (line, sizeof line, stdin) == NULL ||
      (n = strtoul (line, NULL, 10)) < 1 || n > roots->len)
    return error_set ("no root chosen");
  return (int) (n - 1);
}

static void
print_report (const struct convert_args *a,
              const struct guest_pipeline_result *res, bool ok)
{
  const struct convert_report *rep = &res->report;
  const char *root = res->root, *accel = res->accel;
  struct json j;
  size_t i;

  if (!a->json) {
    report_boots_text (stdout, &res->boots);
    if (!ok)
      return;
    if (rep->kernel)
      printf ("converted %s for %s: kernel %s, initramfs by %s\n", root,
              a->target, rep->kernel, rep->initrd_tool);
    else
      printf ("converted %s for %s\n", root, a->target);
    for (i = 0; i < rep->changes.len; i++)
      printf ("  %-10s %s%s%s\n", rep->changes.ptr[i].what,
              rep->changes.ptr[i].path, *rep->changes.ptr[i].path ? ": " : "",
              rep->changes.ptr[i].detail);
    return;
  }
  json_init (&j, stdout);
  json_object_begin (&j);
  json_key_bool (&j, "ok", ok);
  json_key_string (&j, "image", a->image);
  json_key_string (&j, "output", a->output ? a->output : a->image);
  json_key_string (&j, "target", a->target);
  json_key_string (&j, "root", root);
  if (rep->kernel) {
    json_key_string (&j, "kernel", rep->kernel);
    json_key_string (&j, "initramfs_tool", rep->initrd_tool);
  }
  json_key_string (&j, "accelerator", accel);
  json_key (&j, "changes");
  json_array_begin (&j);
  for (i = 0; i < rep->changes.len; i++) {
    json_object_begin (&j);
    json_key_string (&j, "what", rep->changes.ptr[i].what);
    json_key_string (&j, "path", rep->changes.ptr[i].path);
    json_key_string (&j, "detail", rep->changes.ptr[i].detail);
    json_object_end (&j);
  }
  json_array_end (&j);
  guest_pipeline_boots_json (&j, &res->boots);
  json_object_end (&j);
  json_finish (&j);
}

int
cmd_convert (int argc, char **argv)
{
  struct convert_args a = { 0 };
  struct guest_pipeline_result res = { 0 };
  enum bootcheck_bus buses[2];
  enum parttable_firmware fw = PARTTABLE_BIOS;
  size_t n_verify = 0;
  bool ask;
  int r;

  if ((r = parse_args (argc, argv, &a)) != 0)
    return r == -1 ? EXIT_OK : r;
  if (a.verify_boot) {
    n_verify = guest_pipeline_verify_buses (a.target, buses);
    if (parttable_image_firmware (a.image, 0, &fw) == -1)
      return cmd_fail ();
  }
  outfile_install_signal_handlers ();
  ask = a.root && strcmp (a.root, "ask") == 0;
  r = guest_pipeline_run (a.image, &(struct guest_pipeline_opts) {
      .target = a.target, .drivers = a.drivers,
      .root = ask ? NULL : a.root, .choose_root = ask ? ask_root : NULL,
      .in_place = a.in_place, .output = a.output, .output_format = a.format,
      .overwrite = a.force, .on_step = a.verbose ? say : NULL,
      .verify_buses = buses, .n_verify = n_verify,
      .verify_uefi = fw == PARTTABLE_UEFI,
    }, &res);
  if (r == 0 || res.boots.failed)
    print_report (&a, &res, r == 0);
  guest_pipeline_result_free (&res);
  return r == 0 ? EXIT_OK : cmd_fail ();
}
