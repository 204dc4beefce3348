/* convert.c: `ferry convert` — make a guest boot on kvm, xen or native
 * hardware, in place or into a new image (the input is then never written). */
#include "lib/common/compat.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "lib/common/error.h"
#include "lib/common/json.h"
#include "lib/common/outfile.h"
#include "lib/common/strbuf.h"
#include "lib/guest/convert.h"
#include "lib/guest/convert-windows.h"
#include "lib/guest/inspect.h"
#include "lib/guest/overlay.h"
#include "lib/guest/session.h"
#include "lib/image/copy.h"

static const char usage_text[] =
  "usage: ferry convert IMAGE --to kvm|xen|native (--in-place | -o OUT)\n"
  "                     [-O FORMAT] [--root DEV|ask] [--drivers DIR] [--json] [-v]\n\n"
  "Rewrite a guest's boot path for new hardware: a kernel with the drivers,\n"
  "an initramfs holding them, fstab/GRUB by UUID, the serial console, MAC\n"
  "pins dropped (static addresses kept), foreign guest tools removed.\n\n"
  "  --to TARGET     kvm (virtio), xen (PV drivers) or native (generic)\n"
  "  -o OUT          write the converted guest to OUT; IMAGE is only read\n"
  "  -O FORMAT       OUT's format: qcow2 (default unless OUT's extension\n"
  "                  says), raw, vhd, vmdk\n"
  "  --in-place      edit IMAGE itself (raw or qcow2 only)\n"
  "  --root DEV      the root to convert when there are several; `ask`\n"
  "                  asks on the terminal\n"
  "  --drivers DIR   Windows: the target's drivers (.inf/.sys/.cat, e.g.\n"
  "                  virtio-win's viostor, or Xen PV); the storage driver\n"
  "                  is made boot-start, the rest staged for Plug and Play\n"
  "  --force         replace OUT if it exists\n"
  "  --json          print the report as JSON on stdout\n"
  "  -v, --verbose   say how the appliance ran (kvm or tcg) and the steps\n";

struct convert_args {
  const char *image, *target, *output, *format, *root, *drivers;
  bool in_place, json, verbose, force;
};

static int
check_args (struct convert_args *a)
{
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
  static const struct option longopts[] = {
    { "to", required_argument, NULL, 't' },
    { "root", required_argument, NULL, 'r' },
    { "drivers", required_argument, NULL, 'd' },
    { "in-place", no_argument, NULL, 'i' },
    { "force", no_argument, NULL, 'F' },
    { "json", no_argument, NULL, 'j' },
    { "verbose", no_argument, NULL, 'v' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  int c;

  while ((c = getopt_long (argc, argv, "o:O:vh", longopts, NULL)) != -1) {
    switch (c) {
    case 't':
      a->target = optarg;
      break;
    case 'r':
      a->root = optarg;
      break;
    case 'd':
      a->drivers = optarg;
      break;
    case 'i':
      a->in_place = true;
      break;
    case 'o':
      a->output = optarg;
      break;
    case 'O':
      a->format = optarg;
      break;
    case 'F':
      a->force = true;
      break;
    case 'j':
      a->json = true;
      break;
    case 'v':
      a->verbose = true;
      break;
    case 'h':
      fputs (usage_text, stdout);
      return -1;
    default: return cmd_usage_error ("convert", "bad option");
    }
  }
  if (optind != argc - 1)
    return cmd_usage_error ("convert", "expected one IMAGE");
  a->image = argv[optind];
  return check_args (a);
}

static void
say (const struct convert_args *a, const char *fmt, const char *s1,
     const char *s2)
{
  if (a->verbose)
    fprintf (stderr, fmt, s1, s2);
}

/* qemu/libguestfs format names for Ferry's. */
static const char *
qemu_format (const char *ferry)
{
  return strcmp (ferry, "vhd") == 0 ? "vpc" : ferry;
}

/* The image's format, refusing what cannot be edited. */
static const char *
probe_format (const struct convert_args *a, uint64_t *size)
{
  struct image *img = image_open (a->image, 0);
  const char *fmt;

  if (img == NULL)
    return NULL;
  fmt = image_format (img);
  *size = img->size;
  image_close (img);
  if (strcmp (fmt, "nbd") == 0) {
    error_set ("'%s': convert works on image files, not NBD", a->image);
    return NULL;
  }
  if (a->in_place && strcmp (fmt, "raw") && strcmp (fmt, "qcow2")) {
    error_set ("'%s': in-place conversion of %s images is not supported "
               "(not safely writable by qemu): use -o OUT", a->image, fmt);
    return NULL;
  }
  return qemu_format (fmt);
}

/* Ask on the terminal which root to convert. */
static int
ask_root (const guest_root_vector *roots)
{
  char line[64];
  size_t i;
  unsigned long n;

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

static int
pick_root (guestfs_h *g, const struct convert_args *a,
           const guest_root_vector *roots)
{
  const struct guest_root *r;
  int i;

  if (roots->len == 0)
    return guest_explain_no_root (g, a->image);
  if (a->root && strcmp (a->root, "ask") == 0 && roots->len > 1)
    i = ask_root (roots);
  else
    i = guest_choose_root (roots, a->root && strcmp (a->root, "ask")
                           ? a->root : NULL);
  if (i == -1)
    return -1;
  r = &roots->ptr[i];
  if (strcmp (r->type, "linux") != 0 && strcmp (r->type, "windows") != 0)
    return error_set ("'%s': %s (%s) is neither Linux nor Windows: it "
                      "cannot be converted", a->image, r->device, r->type);
  return i;
}

/* Inspect, choose, mount and convert; the report goes to *rep. */
static int
convert_guest (const struct convert_args *a, struct guest_session *s,
               struct convert_report *rep, char **root_desc)
{
  guestfs_h *g = guest_session_handle (s);
  guest_root_vector roots = empty_vector;
  const struct guest_root *r;
  int i, ret = -1;

  if (guest_inspect (g, &roots) == -1 || (i = pick_root (g, a, &roots)) == -1)
    goto out;
  r = &roots.ptr[i];
  *root_desc = xasprintf ("%s (%s %d.%d)", r->device, r->distro, r->major,
                          r->minor);
  say (a, "ferry convert: root %s%s\n", *root_desc ? *root_desc : "", "");
  if (strcmp (r->type, "windows") == 0) {
    if (convert_windows (g, r, a->target, a->drivers, rep) == -1) {
      error_prefix ("'%s': ", a->image);
      goto out;
    }
  } else if (convert_linux_preflight (g, r, a->target) == -1 ||
             guest_mount_root (g, r, false) == -1 ||
             convert_linux (g, r, a->target, rep) == -1)
    goto out;
  ret = guest_session_shutdown (s);
out:
  guest_roots_free (&roots);
  return ret;
}

static struct guest_session *
launch (const struct convert_args *a, const char *path, const char *fmt)
{
  struct guest_disk disk = { path, fmt, false };
  struct guest_session *s = guest_session_open (&disk, 1);
  char secs[32];

  if (s == NULL || guest_session_launch (s) == -1) {
    guest_session_close (s);
    return NULL;
  }
  /* The reason says whether KVM failed just now or was skipped because a
   * failure is remembered (session.h exposes no flag to tell them apart);
   * either way the appliance ran on TCG, and only that is claimed. */
  if (*guest_session_fallback_reason (s))
    say (a, "ferry convert: %s; using %s\n",
         guest_session_fallback_reason (s), "tcg");
  snprintf (secs, sizeof secs, "%.1f", guest_session_launch_seconds (s));
  say (a, "ferry convert: appliance running on %s (launched in %s s)\n",
       guest_session_accel (s), secs);
  return s;
}

static void
print_report (const struct convert_args *a, const struct convert_report *rep,
              const char *root, const char *accel)
{
  struct json j;
  size_t i;

  if (!a->json) {
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
  json_object_end (&j);
  json_finish (&j);
}

struct convert_result {
  struct convert_report rep;
  char *root;
  char accel[8];
};

/* Convert `path` (IMAGE itself or the overlay) in one appliance. */
static int
run (const struct convert_args *a, const char *path, const char *fmt,
     struct convert_result *res)
{
  struct guest_session *s = launch (a, path, fmt);
  int r;

  if (s == NULL)
    return -1;
  snprintf (res->accel, sizeof res->accel, "%s", guest_session_accel (s));
  r = convert_guest (a, s, &res->rep, &res->root);
  guest_session_close (s);
  return r;
}

/* In place through an overlay beside IMAGE (guest/overlay.h): IMAGE is
 * written only once the whole conversion succeeded. */
static int
convert_in_place (const struct convert_args *a, const char *fmt,
                  uint64_t size, struct convert_result *res)
{
  struct guest_overlay ov = { 0 };
  int r = -1;

  if (guest_overlay_begin (&ov, a->image, fmt, size) == -1)
    return -1;
  say (a, "ferry convert: writes go to the overlay %s%s\n", ov.path, "");
  if (run (a, ov.path, "qcow2", res) == 0) {
    say (a, "ferry convert: writing the changes back into %s%s\n", a->image,
         "");
    r = guest_overlay_commit (&ov);
  }
  guest_overlay_abort (&ov);
  return r;
}

/* The overlay's name comes from outfile_begin on OUT: hidden beside OUT,
 * removed on failure or SIGINT/SIGTERM, and OUT refused if it exists. */
static int
convert_to_output (const struct convert_args *a, const char *fmt,
                   uint64_t size, struct convert_result *res)
{
  struct outfile ov = { 0 };
  struct image *img = NULL;
  struct copy_opts copts = { .quiet = true, .strict = true };
  struct copy_stats stats = { 0 };
  char *base = realpath (a->image, NULL);
  int r = -1;

  if (base == NULL) {
    error_errno ("'%s'", a->image);
    return -1;
  }
  if (outfile_begin (&ov, a->output, a->force) == -1)
    goto out;
  img = image_create ("qcow2", ov.tmp, size, &(struct image_create_opts) {
      .backing = base, .backing_format = fmt });
  if (img == NULL || image_close (img) == -1) {
    error_prefix ("overlay: ");
    goto out;
  }
  say (a, "ferry convert: writes go to the overlay %s%s\n", ov.tmp, "");
  if (run (a, ov.tmp, "qcow2", res) == -1 ||
      (img = image_open (ov.tmp, 0)) == NULL)
    goto out;
  say (a, "ferry convert: writing %s (%s)\n", a->output, a->format);
  r = image_convert (img, a->format, a->output, NULL, &copts, a->force,
                     &stats);
  image_close (img);
  free (stats.bad.ptr);
out:
  outfile_abort (&ov);
  free (base);
  return r;
}

int
cmd_convert (int argc, char **argv)
{
  struct convert_args a = { 0 };
  struct convert_result res = { 0 };
  const char *fmt;
  uint64_t size;
  int r;

  if ((r = parse_args (argc, argv, &a)) != 0)
    return r == -1 ? EXIT_OK : r;
  outfile_install_signal_handlers ();
  if ((fmt = probe_format (&a, &size)) == NULL ||
      (a.drivers && windows_drivers_check (a.drivers, a.target) == -1))
    return cmd_fail ();
  r = a.in_place ? convert_in_place (&a, fmt, size, &res)
    : convert_to_output (&a, fmt, size, &res);
  if (r == 0)
    print_report (&a, &res.rep, res.root, res.accel);
  convert_report_free (&res.rep);
  free (res.root);
  return r == 0 ? EXIT_OK : cmd_fail ();
}
