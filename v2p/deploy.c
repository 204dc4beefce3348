/* deploy.c: `ferry deploy` — the source's disks (an image, or a package's
 * disks staged once), every target checked before anything is written,
 * the confirmation, then disk 1 fitted and converted in one appliance over
 * an overlay and each disk written onto its target (write.c). */
#include "lib/common/compat.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/param.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/common/cleanup.h"
#include "lib/common/error.h"
#include "lib/common/json.h"
#include "lib/common/progress.h"
#include "lib/common/spawn.h"
#include "lib/common/stagedir.h"
#include "lib/common/strbuf.h"
#include "lib/disk/usedmap.h"
#include "lib/guest/overlay.h"
#include "ova/libvirt.h"
#include "ova/ova-read.h"
#include "ova/xva-read.h"
#include "v2p/deploy-int.h"

/* The job's state: the disks' images, and the staging directory holding
 * the overlay and a package's staged disks. */
struct deploy_job {
  const struct deploy_opts *o;
  struct deploy_result *res;
  struct stagedir sd;
  struct image *src[DEPLOY_MAX_TARGETS];
  char *src_path[DEPLOY_MAX_TARGETS];   /* what qemu opens as backing */
  size_t n;
};

int
deploy_note (const struct deploy_fit *f, strv_vector *v, const char *fmt, ...)
{
  va_list ap;
  char *line;
  int n;

  va_start (ap, fmt);
  n = vasprintf (&line, fmt, ap);
  va_end (ap);
  if (n < 0)
    return error_errno ("deploy");
  if (f->o->on_step)
    f->o->on_step (f->o->opaque, line);
  if (strv_vector_append (v, line) == -1) {
    free (line);
    return error_errno ("deploy");
  }
  return 0;
}

static void
step (const struct deploy_opts *o, const char *fmt, ...)
  __attribute__ ((format (printf, 2, 3)));

static void
step (const struct deploy_opts *o, const char *fmt, ...)
{
  va_list ap;
  char *line;

  if (o->on_step == NULL)
    return;
  va_start (ap, fmt);
  if (vasprintf (&line, fmt, ap) >= 0) {
    o->on_step (o->opaque, line);
    free (line);
  }
  va_end (ap);
}

/* ---- the source ----------------------------------------------------------- */

static const char *
source_kind (const struct deploy_opts *o)
{
  if (o->from_libvirt)
    return "libvirt";
  if (strstr (o->source, "://"))
    return "image";
  if (xva_probe (o->source))
    return "xva";
  if (ova_probe (o->source))
    return "ova";
  return "image";
}

static int
add_image (struct deploy_job *j, const char *path)
{
  if (j->n == DEPLOY_MAX_TARGETS)
    return error_set ("more than %d disks", DEPLOY_MAX_TARGETS);
  if ((j->src[j->n] = image_open (path, 0)) == NULL ||
      (j->src_path[j->n] = xstrdup (path)) == NULL)
    return -1;
  j->n++;
  return 0;
}

static int
load_libvirt (struct deploy_job *j)
{
  struct vm vm;
  size_t i;
  int r;

  vm_init (&vm);
  r = libvirt_parse_file (j->o->source, &vm);
  for (i = 0; r == 0 && i < vm.disks.len; i++)
    r = add_image (j, vm.disks.ptr[i].file);
  vm_free (&vm);
  return r;
}

/* A package's disk i, staged as qcow2 (used blocks only) in the job's
 * directory: qemu needs a file to back the overlay with. */
static int
stage_disk (struct deploy_job *j, struct image *disk, size_t i)
{
  struct copy_opts c = { .quiet = true, .strict = true };
  struct copy_stats st;
  char *path = xasprintf ("%s/disk%zu.qcow2", j->sd.path, i + 1);
  int r;

  if (path == NULL)
    return -1;
  if (j->o->copy)
    c.on_progress = j->o->copy->on_progress, c.opaque = j->o->copy->opaque;
  step (j->o, "staging the package's disk %zu", i + 1);
  r = usedmap_copy (disk, "qcow2", path, c, &st);
  if (r == 0)
    r = add_image (j, path);
  free (path);
  return r;
}

static int
load_package (struct deploy_job *j, bool xva)
{
  struct ova_pkg pkg;
  CLEANUP_FREE char *work = xasprintf ("%s/package", j->sd.path);
  size_t i;
  int r;

  if (work == NULL || mkdir (work, 0700) == -1)
    return error_errno ("'%s'", work ? work : "");
  r = xva ? xva_read (j->o->source, work, &pkg)
    : ova_read (j->o->source, work, &pkg);
  if (r == -1)
    return -1;
  for (i = 0; r == 0 && i < pkg.vm.disks.len; i++)
    r = stage_disk (j, pkg.disks[i], i);
  ova_pkg_free (&pkg);
  return r;
}

static int
load_source (struct deploy_job *j)
{
  const char *kind = source_kind (j->o);

  step (j->o, "source %s (%s)", j->o->source, kind);
  if (strcmp (kind, "image") == 0)
    return add_image (j, j->o->source);
  if (strcmp (kind, "libvirt") == 0)
    return load_libvirt (j);
  return load_package (j, strcmp (kind, "xva") == 0);
}

/* ---- checks ------------------------------------------------------------- */

static int
check_target (struct deploy_job *j, size_t i)
{
  struct deploy_disk_result *d = &j->res->disks[i];
  struct image *src = j->src[i];
  const char *path = j->o->targets[i];
  unsigned ss;

  if (deploy_target_check (path, j->src_path[i], "/sys", "/proc",
                           &d->target) == -1)
    return -1;
  d->source = xstrdup (j->src_path[i]);
  d->source_size = src->size;
  ss = deploy_image_sector_size (src);
  if (ss != d->target.sector_size)
    return error_set ("'%s' has %u-byte sectors and the image's partition "
                      "table was made for %u-byte sectors: its partitions "
                      "would land elsewhere; deploy onto a %u-byte-sector "
                      "disk", path, d->target.sector_size, ss, ss);
  if (d->target.size < src->size && (i > 0 || j->o->no_grow))
    return error_set ("'%s' (%" PRIu64 " bytes) is smaller than the image "
                      "(%" PRIu64 " bytes)%s", path, d->target.size,
                      src->size, j->o->no_grow ? " and --no-grow keeps its "
                      "layout" : ": only the system disk is shrunk");
  return d->source ? 0 : -1;
}

static int
check_all (struct deploy_job *j)
{
  size_t i, k;

  if (j->o->n_targets != j->n)
    return error_set ("'%s' has %zu disk%s and %zu target%s were given: one "
                      "target per disk, in order", j->o->source, j->n,
                      j->n == 1 ? "" : "s", j->o->n_targets,
                      j->o->n_targets == 1 ? "" : "s");
  for (i = 0; i < j->n; i++) {
    for (k = 0; k < i; k++)
      if (strcmp (j->o->targets[i], j->o->targets[k]) == 0)
        return error_set ("'%s' is given twice", j->o->targets[i]);
    j->res->n_disks = i + 1;
    if (check_target (j, i) == -1)
      return -1;
  }
  return 0;
}

/* ---- the work ------------------------------------------------------------ */

static int
hook_fit (void *opaque, guestfs_h *g, const struct guest_root *root)
{
  return deploy_fit_disk (g, root, opaque);
}

static int
hook_boot (void *opaque, guestfs_h *g, const struct guest_root *root)
{
  return deploy_fit_boot (g, root, opaque);
}

static void
pipeline_step (void *opaque, const char *line)
{
  struct deploy_fit *f = opaque;

  if (f->o->on_step)
    f->o->on_step (f->o->opaque, line);
}

static const char *
qemu_format (struct image *img)
{
  const char *f = image_format (img);

  return strcmp (f, "vhd") == 0 ? "vpc" : strcmp (f, "nbd") == 0 ? "raw" : f;
}

/* Disk 1: fitted and converted in the appliance over an overlay of the
 * target's size (the image's when it shrinks), then written. */
static int
deploy_boot_disk (struct deploy_job *j, struct image *dst)
{
  struct deploy_disk_result *d = &j->res->disks[0];
  struct deploy_fit f = { .o = j->o, .d = d, .res = j->res,
                          .disk_size = d->target.size,
                          .image_size = j->src[0]->size, .boot_disk = true,
                          .src = j->src[0] };
  bool grow = !j->o->no_grow && f.disk_size > f.image_size;
  CLEANUP_FREE char *ov = xasprintf ("%s/overlay.qcow2", j->sd.path);
  struct guest_pipeline_opts p = {
    .target = j->o->convert, .root = j->o->root, .overlay = ov,
    .before_convert = hook_fit, .after_convert = hook_boot,
    .on_step = pipeline_step, .opaque = &f,
  };
  struct image *img;
  int r;

  if (strcmp (j->o->convert, "none") == 0 && j->o->no_grow) {
    deploy_note (&f, &d->layout, "layout kept (--no-grow), not converted "
                 "(--convert none): no appliance");
    return deploy_write (j->src[0], j->src[0]->size, dst, &f);
  }
  if (ov == NULL ||
      guest_overlay_create (ov, j->src_path[0], qemu_format (j->src[0]),
                            grow ? f.disk_size : f.image_size) == -1 ||
      guest_pipeline_run (j->src_path[0], &p, &j->res->conv) == -1)
    return -1;
  if ((img = image_open (ov, 0)) == NULL)
    return -1;
  r = deploy_write (img, MIN (img->size, dst->size), dst, &f);
  image_close (img);
  return r;
}

static int
deploy_data_disk (struct deploy_job *j, size_t i, struct image *dst)
{
  struct deploy_fit f = { .o = j->o, .d = &j->res->disks[i], .res = j->res,
                          .disk_size = dst->size,
                          .image_size = j->src[i]->size };

  deploy_note (&f, &f.d->layout, "disk %zu: layout kept", i + 1);
  return deploy_write (j->src[i], j->src[i]->size, dst, &f);
}

static int
deploy_disks (struct deploy_job *j)
{
  size_t i;
  int r = 0;

  for (i = 0; r == 0 && i < j->n; i++) {
    struct image *dst = image_open (j->o->targets[i],
                                    IMAGE_OPEN_RAW | IMAGE_OPEN_RDWR);
    if (dst == NULL)
      return -1;
    r = i == 0 ? deploy_boot_disk (j, dst) : deploy_data_disk (j, i, dst);
    if (image_close (dst) == -1)
      r = -1;
    if (r == -1)
      error_prefix ("'%s': ", j->o->targets[i]);
  }
  return r;
}

/* A firmware boot entry for a UEFI disk, only where this system booted
 * in UEFI mode and can write EFI variables (the ISO on the hardware);
 * otherwise the disk boots through its fallback loader, and the report
 * says so. */
static int
firmware_entry (struct deploy_job *j)
{
  struct deploy_result *res = j->res;
  struct deploy_fit f = { .o = j->o, .res = res };
  char part[16], label[64];
  const char *argv[] = { "efibootmgr", "-q", "-c", "-d",
                         res->disks[0].target.path, "-p", part, "-L", label,
                         "-l", res->efi_loader, NULL };

  if (res->efi_loader == NULL)
    return 0;
  if (!res->disks[0].target.device ||
      access ("/sys/firmware/efi/efivars", W_OK) == -1 || res->esp_part <= 0)
    return deploy_note (&f, &res->boot, "no firmware boot entry: this "
                        "system %s; the firmware boots the disk through "
                        "\\EFI\\BOOT\\BOOTX64.EFI",
                        res->disks[0].target.device
                        ? "cannot write EFI variables (not booted in UEFI "
                        "mode)" : "writes a file, not a disk");
  snprintf (part, sizeof part, "%d", res->esp_part);
  snprintf (label, sizeof label, "Ferry deploy (%s)",
            res->conv.root ? res->conv.root : "system");
  if (spawn_run (argv, NULL, NULL) == -1)
    return deploy_note (&f, &res->boot, "no firmware boot entry (%s): the "
                        "firmware boots the disk through "
                        "\\EFI\\BOOT\\BOOTX64.EFI", error_get ());
  return deploy_note (&f, &res->boot, "firmware boot entry '%s' for %s on "
                      "partition %d", label, res->efi_loader, res->esp_part);
}

static int
begin_workdir (struct deploy_job *j)
{
  const char *tmp = j->o->tmpdir ? j->o->tmpdir : getenv ("TMPDIR");
  /* a private ".ferry-deploy.ferry-deploy-PID" there, never published */
  CLEANUP_FREE char *path = xasprintf ("%s/ferry-deploy",
                                       tmp && *tmp ? tmp : "/var/tmp");

  if (path == NULL)
    return -1;
  return stagedir_begin (&j->sd, path, "deploy", 0700, true);
}

int
deploy_run (const struct deploy_opts *o, struct deploy_result *res)
{
  struct deploy_job j = { .o = o, .res = res };
  struct deploy_opts local = *o;
  double start = monotonic_seconds ();
  size_t i;
  int r = -1;

  if (local.convert == NULL)
    local.convert = "native";
  j.o = &local;
  if (strcmp (local.convert, "native") && strcmp (local.convert, "none"))
    return error_set ("--convert: '%s' is neither native nor none",
                      local.convert);
  if (o->n_targets == 0 || o->n_targets > DEPLOY_MAX_TARGETS)
    return error_set ("one to %d targets", DEPLOY_MAX_TARGETS);
  if (begin_workdir (&j) == -1 || load_source (&j) == -1 ||
      check_all (&j) == -1)
    goto out;
  if (o->confirm && o->confirm (o->opaque, res) == -1)
    goto out;
  r = deploy_disks (&j);
  if (r == 0)
    r = firmware_entry (&j);
 out:
  for (i = 0; i < j.n; i++) {
    image_close (j.src[i]);
    free (j.src_path[i]);
  }
  stagedir_abort (&j.sd);
  res->seconds = monotonic_seconds () - start;
  return r;
}

void
deploy_result_free (struct deploy_result *res)
{
  size_t i;

  for (i = 0; i < res->n_disks && i < DEPLOY_MAX_TARGETS; i++) {
    deploy_target_free (&res->disks[i].target);
    free (res->disks[i].source);
    strv_vector_free (&res->disks[i].layout);
    extent_vector_reset (&res->disks[i].stats.bad);
  }
  guest_pipeline_result_free (&res->conv);
  strv_vector_free (&res->boot);
  free (res->efi_loader);
  res->efi_loader = NULL;
}

static void
strings_json (struct json *j, const char *key, const strv_vector *v)
{
  size_t i;

  json_key (j, key);
  json_array_begin (j);
  for (i = 0; i < v->len; i++)
    json_string (j, v->ptr[i]);
  json_array_end (j);
}

static void
disk_json (struct json *j, const struct deploy_disk_result *d)
{
  json_object_begin (j);
  json_key_string (j, "target", d->target.path ? d->target.path : "");
  json_key_string (j, "kind", d->target.device ? "device" : "file");
  json_key_string (j, "model", d->target.model);
  json_key_string (j, "serial", d->target.serial);
  json_key_uint (j, "size", d->target.size);
  json_key_uint (j, "sector_size", d->target.sector_size);
  json_key_string (j, "source", d->source ? d->source : "");
  json_key_uint (j, "source_size", d->source_size);
  json_key_string (j, "table", d->table);
  strings_json (j, "layout", &d->layout);
  copy_stats_json (j, &d->stats);
  json_object_end (j);
}

void
deploy_result_json (struct json *j, const struct deploy_result *res)
{
  size_t i;

  json_key (j, "disks");
  json_array_begin (j);
  for (i = 0; i < res->n_disks; i++)
    disk_json (j, &res->disks[i]);
  json_array_end (j);
  if (res->conv.root)
    json_key_string (j, "root", res->conv.root);
  if (res->conv.accel[0])
    json_key_string (j, "appliance", res->conv.accel);
  json_key (j, "changes");
  json_array_begin (j);
  for (i = 0; i < res->conv.report.changes.len; i++) {
    const struct guest_change *c = &res->conv.report.changes.ptr[i];
    json_object_begin (j);
    json_key_string (j, "what", c->what);
    json_key_string (j, "path", c->path);
    json_key_string (j, "detail", c->detail);
    json_object_end (j);
  }
  json_array_end (j);
  strings_json (j, "boot", &res->boot);
  json_key (j, "seconds");
  json_double (j, res->seconds);
}
