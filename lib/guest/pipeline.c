/* pipeline.c: the one conversion pipeline (pipeline.h): an overlay over
 * the image, one appliance that inspects, chooses and converts the root,
 * then the overlay written back or copied out with the image. */
#include "lib/common/compat.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/common/error.h"
#include "lib/common/json.h"
#include "lib/common/outfile.h"
#include "lib/common/strbuf.h"
#include "lib/guest/convert-windows.h"
#include "lib/guest/overlay.h"
#include "lib/guest/pipeline.h"
#include "lib/guest/session.h"

static void step (const struct guest_pipeline_opts *o, const char *fmt, ...)
  __attribute__ ((format (printf, 2, 3)));

static void
step (const struct guest_pipeline_opts *o, const char *fmt, ...)
{
  va_list ap;
  char *line;
  int n;

  if (o->on_step == NULL)
    return;
  va_start (ap, fmt);
  n = vasprintf (&line, fmt, ap);
  va_end (ap);
  if (n < 0)
    return;
  o->on_step (o->opaque, line);
  free (line);
}

int
guest_pipeline_check (const struct guest_pipeline_opts *o)
{
  if (o->target == NULL)
    return error_set ("convert: no target (kvm, xen or native)");
  if ((!o->overlay || strcmp (o->target, "none") != 0) &&
      convert_target_check (o->target) == -1)
    return -1;
  if (o->in_place + (o->output != NULL) + (o->overlay != NULL) != 1)
    return error_set ("convert: either in place, into an output or in an "
                      "overlay");
  if (o->output && o->output_format == NULL)
    return error_set ("convert: no output format");
  if (o->drivers && windows_drivers_check (o->drivers, o->target) == -1)
    return -1;
  if (o->n_verify && o->in_place)
    return error_set ("verify-boot: an in-place conversion has no output "
                      "to hold back; convert into a new image (-o)");
  if (o->n_verify && strcmp (o->target, "xen") == 0)
    return error_set ("verify-boot: a xen guest cannot be booted here (no "
                      "Xen hypervisor; Ferry boots kvm and native results "
                      "under qemu)");
  if (o->n_verify > GUEST_PIPELINE_MAX_BOOTS)
    return error_set ("verify-boot: at most %d boots",
                      GUEST_PIPELINE_MAX_BOOTS);
  return 0;
}

/* The image's format as qemu names it, refusing what cannot be edited. */
static const char *
probe_format (const char *image, const struct guest_pipeline_opts *o,
              uint64_t *size)
{
  struct image *img = image_open (image, o->raw ? IMAGE_OPEN_RAW : 0);
  const char *fmt;

  if (img == NULL)
    return NULL;
  fmt = o->raw ? "raw" : image_format (img);
  *size = img->size;
  image_close (img);
  if (strcmp (fmt, "nbd") == 0) {
    error_set ("'%s': convert works on image files, not NBD", image);
    return NULL;
  }
  if (o->in_place && strcmp (fmt, "raw") && strcmp (fmt, "qcow2")) {
    error_set ("'%s': in-place conversion of %s images is not supported "
               "(not safely writable by qemu): use -o OUT", image, fmt);
    return NULL;
  }
  return strcmp (fmt, "vhd") == 0 ? "vpc" : fmt;
}

static struct guest_session *
launch (const char *overlay, const struct guest_pipeline_opts *o,
        struct guest_pipeline_result *res)
{
  struct guest_disk disk = { overlay, "qcow2", false };
  struct guest_session *s = guest_session_open (&disk, 1);

  if (s == NULL || guest_session_launch (s) == -1) {
    guest_session_close (s);
    return NULL;
  }
  /* The reason says whether KVM failed just now or was skipped because a
   * failure is remembered (session.h exposes no flag to tell them apart);
   * either way the appliance ran on TCG, and only that is claimed. */
  if (*guest_session_fallback_reason (s))
    step (o, "%s; using tcg", guest_session_fallback_reason (s));
  step (o, "appliance running on %s (launched in %.1f s)",
        guest_session_accel (s), guest_session_launch_seconds (s));
  snprintf (res->accel, sizeof res->accel, "%s", guest_session_accel (s));
  return s;
}

static int
pick_root (guestfs_h *g, const char *image,
           const struct guest_pipeline_opts *o, const guest_root_vector *roots)
{
  const struct guest_root *r;
  int i;

  if (roots->len == 0)
    return guest_explain_no_root (g, image);
  if (o->root == NULL && o->choose_root && roots->len > 1)
    i = o->choose_root (o->opaque, roots);
  else
    i = guest_choose_root (roots, o->root);
  if (i == -1)
    return -1;
  if (i < 0 || (size_t) i >= roots->len)
    return error_set ("'%s': no root chosen", image);
  r = &roots->ptr[i];
  if (strcmp (r->type, "linux") != 0 && strcmp (r->type, "windows") != 0)
    return error_set ("'%s': %s (%s) is neither Linux nor Windows: it "
                      "cannot be converted", image, r->device, r->type);
  return i;
}

/* Windows mounts its root itself (read-only first, for hibernation);
 * Linux is mounted read-write at once: convert_linux checks (free space,
 * initramfs builder, kernel) before its first change, and the overlay
 * keeps a refused conversion from reaching the image (a read-only pass
 * first cost a second mount and module listing, ~1.5 s under TCG). */
static int
convert_root (guestfs_h *g, const char *image, const struct guest_root *r,
              const struct guest_pipeline_opts *o, struct convert_report *rep)
{
  if (strcmp (r->type, "windows") == 0) {
    if (convert_windows (g, r, o->target, o->drivers, rep) == -1)
      return error_prefix ("'%s': ", image);
    return 0;
  }
  if (guest_mount_root (g, r, false) == -1 ||
      convert_linux (g, r, o->target, rep) == -1)
    return -1;
  return 0;
}

/* Under target "none", an image without an OS is no error. */
static int
find_root (guestfs_h *g, const char *image,
           const struct guest_pipeline_opts *o, const guest_root_vector *roots,
           const struct guest_root **r, struct guest_pipeline_result *res)
{
  int i;

  *r = NULL;
  if (roots->len == 0 && strcmp (o->target, "none") == 0)
    return 0;
  if ((i = pick_root (g, image, o, roots)) == -1)
    return -1;
  *r = &roots->ptr[i];
  if ((res->root = xasprintf ("%s (%s %d.%d)", (*r)->device, (*r)->distro,
                              (*r)->major, (*r)->minor)) == NULL)
    return -1;
  step (o, "root %s", res->root);
  return 0;
}

/* The caller's hooks around the conversion (the root may be NULL only
 * under "none"). */
static int
convert_with_hooks (guestfs_h *g, const char *image,
                    const struct guest_root *r,
                    const struct guest_pipeline_opts *o,
                    struct guest_pipeline_result *res)
{
  if (o->before_convert && o->before_convert (o->opaque, g, r) == -1)
    return -1;
  if (r && strcmp (o->target, "none") != 0 &&
      convert_root (g, image, r, o, &res->report) == -1)
    return -1;
  if (o->after_convert && o->after_convert (o->opaque, g, r) == -1)
    return -1;
  return 0;
}

/* One appliance over the overlay: inspect, choose, convert, shut down. */
static int
convert_overlay (const char *image, const char *overlay,
                 const struct guest_pipeline_opts *o,
                 struct guest_pipeline_result *res)
{
  struct guest_session *s = launch (overlay, o, res);
  guest_root_vector roots = empty_vector;
  const struct guest_root *r;
  guestfs_h *g;
  int ret = -1;

  if (s == NULL)
    return -1;
  g = guest_session_handle (s);
  if (guest_inspect (g, &roots) == -1 ||
      find_root (g, image, o, &roots, &r, res) == -1)
    goto out;
  if (convert_with_hooks (g, image, r, o, res) == 0)
    ret = guest_session_shutdown (s);
out:
  guest_roots_free (&roots);
  guest_session_close (s);
  return ret;
}

/* The overlay beside the image (overlay.h): written back only once the
 * whole conversion succeeded. */
static int
run_in_place (const char *image, const char *fmt, uint64_t size,
              const struct guest_pipeline_opts *o,
              struct guest_pipeline_result *res)
{
  struct guest_overlay ov = { 0 };
  int r = -1;

  if (guest_overlay_begin (&ov, image, fmt, size) == -1)
    return -1;
  step (o, "writes go to the overlay %s", ov.path);
  if (convert_overlay (image, ov.path, o, res) == 0) {
    step (o, "writing the changes back into %s", image);
    r = guest_overlay_commit (&ov);
  }
  guest_overlay_abort (&ov);
  return r;
}

/* The qemu name of one of Ferry's formats. */
static const char *
qemu_format (const char *ferry)
{
  return strcmp (ferry, "vhd") == 0 ? "vpc" : ferry;
}

struct publish_ctx {
  const struct guest_pipeline_opts *o;
  struct guest_pipeline_result *res;
};

/* Before the output is published: boot it on every bus asked for. */
static int
verify_boot (void *opaque, const char *tmp_path, const char *format)
{
  struct publish_ctx *p = opaque;
  const struct guest_pipeline_opts *o = p->o;
  struct guest_pipeline_result *res = p->res;
  size_t i;

  for (i = 0; i < o->n_verify && i < GUEST_PIPELINE_MAX_BOOTS; i++) {
    struct bootcheck_opts b = { .image = tmp_path,
                                .format = qemu_format (format),
                                .bus = o->verify_buses[i],
                                .uefi = o->verify_uefi };
    struct bootcheck_result *r = &res->boots.r[res->boots.n];

    step (o, "booting the result on %s", bootcheck_bus_name (b.bus));
    if (bootcheck_run (&b, r) == -1)
      return error_prefix ("verify-boot: ");
    res->boots.bus[res->boots.n++] = b.bus;
    step (o, "%s on %s after %.0f s (%s): %s",
          bootcheck_outcome_name (r->outcome), bootcheck_bus_name (b.bus),
          r->seconds, r->accel, r->evidence);
    if (r->outcome != BOOTCHECK_BOOTED) {
      res->boots.failed = true;
      return error_set ("verify-boot: the result does not boot on %s "
                        "(%s after %.0f s: %s); nothing was written",
                        bootcheck_bus_name (b.bus),
                        bootcheck_outcome_name (r->outcome), r->seconds,
                        r->evidence);
    }
  }
  return 0;
}

/* Image + overlay into the output in one pass: all of it, or with a mask
 * the mask plus every cluster the conversion wrote. */
static int
copy_out (const char *overlay, const struct guest_pipeline_opts *o,
          struct guest_pipeline_result *res)
{
  struct copy_opts copy = o->copy ? *o->copy
    : (struct copy_opts) { .quiet = true, .strict = true };
  struct publish_ctx publish = { o, res };
  extent_vector written = empty_vector, mask = empty_vector;
  struct image *img = image_open (overlay, 0);
  int r = -1;

  if (img == NULL)
    return -1;
  if (copy.mask) {
    if (guest_overlay_written (img, &written) == -1 ||
        guest_overlay_union (copy.mask, &written, &mask) == -1)
      goto out;
    copy.mask = &mask;
  }
  if (o->n_verify) {
    copy.before_publish = verify_boot;
    copy.publish_opaque = &publish;
  }
  step (o, "writing %s (%s)", o->output, o->output_format);
  r = image_convert (img, o->output_format, o->output, o->create, &copy,
                     o->overwrite, &res->stats);
out:
  image_close (img);
  extent_vector_reset (&written);
  extent_vector_reset (&mask);
  return r;
}

/* The overlay's name comes from outfile_begin on the output: hidden beside
 * it, removed on failure or a signal, and an existing output refused
 * early (unless overwrite). */
static int
run_to_output (const char *image, const char *fmt, uint64_t size,
               const struct guest_pipeline_opts *o,
               struct guest_pipeline_result *res)
{
  struct outfile ov = { 0 };
  int r = -1;

  if (outfile_begin (&ov, o->output, o->overwrite) == -1 ||
      guest_overlay_create (ov.tmp, image, fmt, size) == -1)
    goto out;
  step (o, "writes go to the overlay %s", ov.tmp);
  if (convert_overlay (image, ov.tmp, o, res) == 0)
    r = copy_out (ov.tmp, o, res);
out:
  outfile_abort (&ov);
  return r;
}

int
guest_pipeline_run (const char *image, const struct guest_pipeline_opts *o,
                    struct guest_pipeline_result *res)
{
  const char *fmt;
  uint64_t size;

  if (guest_pipeline_check (o) == -1)
    return -1;
  if (o->overlay) {
    step (o, "writes go to the overlay %s", o->overlay);
    return convert_overlay (image, o->overlay, o, res);
  }
  if ((fmt = probe_format (image, o, &size)) == NULL)
    return -1;
  return o->in_place ? run_in_place (image, fmt, size, o, res)
    : run_to_output (image, fmt, size, o, res);
}

void
guest_pipeline_result_free (struct guest_pipeline_result *res)
{
  convert_report_free (&res->report);
  free (res->root);
  res->root = NULL;
  extent_vector_reset (&res->stats.bad);
}

size_t
guest_pipeline_verify_buses (const char *target, enum bootcheck_bus buses[2])
{
  if (strcmp (target, "kvm") == 0) {
    buses[0] = BOOTCHECK_VIRTIO;
    return 1;
  }
  if (strcmp (target, "native") == 0) {
    buses[0] = BOOTCHECK_AHCI;
    buses[1] = BOOTCHECK_NVME;
    return 2;
  }
  return 0;
}

void
guest_pipeline_boots_json (struct json *j,
                           const struct guest_pipeline_boots *b)
{
  size_t i;

  if (b->n == 0)
    return;
  json_key (j, "verify_boot");
  json_array_begin (j);
  for (i = 0; i < b->n; i++) {
    json_object_begin (j);
    json_key_string (j, "bus", bootcheck_bus_name (b->bus[i]));
    json_key_string (j, "outcome", bootcheck_outcome_name (b->r[i].outcome));
    json_key (j, "seconds");
    json_double (j, b->r[i].seconds);
    json_key_string (j, "accelerator", b->r[i].accel);
    json_key_string (j, "evidence", b->r[i].evidence);
    json_object_end (j);
  }
  json_array_end (j);
}
