/* clone-golden.c: the golden VM of a clone batch — from a disk image, a
 * libvirt domain XML or an OVA/XVA (whose disks are staged once into DIR
 * as golden copies) — and its disks opened for cloning (cow.h). */
#include "lib/common/compat.h"

#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clone/clone-int.h"
#include "lib/common/cleanup.h"
#include "lib/common/error.h"
#include "lib/common/fullrw.h"
#include "lib/common/strbuf.h"
#include "lib/image/copy.h"
#include "ova/libvirt.h"
#include "ova/xva-read.h"

/* ---- what the golden is -------------------------------------------------- */

/* Packages are told as the readers open them (ova_probe: libarchive, so
 * ustar, GNU, pax and v7 tars, plain or compressed, and OVF
 * directories); XVAs by content (xva_probe); anything else is an image. */
static const char *
golden_kind (const char *path, bool from_libvirt)
{
  if (from_libvirt)
    return "libvirt";
  if (strstr (path, "://"))
    return "image";
  if (xva_probe (path))
    return "xva";
  if (ova_probe (path))
    return "ova";
  return "image";
}

static void
set_target (struct clone_batch *b)
{
  struct ova_target *t = &b->target;

  memset (t, 0, sizeof *t);
  t->out = b->o->to == CLONE_TO_OVA ? OVA_OUT_OVA
    : b->o->to == CLONE_TO_XVA ? OVA_OUT_XVA : OVA_OUT_LIBVIRT;
  t->libvirt = b->flavour;
  t->ovf = OVF_VMWARE;
}

/* ---- the VM -------------------------------------------------------------- */

static int
load_image (struct clone_batch *b)
{
  const char *images[1] = { b->o->golden };
  struct vm_options vo = {
    .bus = ova_target_bus (&b->target), .images = images, .n_images = 1,
  };
  CLEANUP_FREE char *c = xstrdup (b->o->golden);
  char *base, *dot;

  if (c == NULL || vm_from_options (&b->vm, &vo) == -1)
    return -1;
  base = basename (c);
  if ((dot = strrchr (base, '.')) != NULL && dot != base)
    *dot = '\0';
  b->vm.name = xstrdup (base);
  return b->vm.name ? 0 : -1;
}

static int
load_libvirt (struct clone_batch *b)
{
  return libvirt_parse_file (b->o->golden, &b->vm);
}

/* The package is read (verified, disks extracted and opened) into a
 * hidden staging directory in DIR, removed when the batch ends. */
static int
load_package (struct clone_batch *b, bool xva)
{
  CLEANUP_FREE char *out = xasprintf ("%s/golden-package", b->r->dir);

  if (out == NULL ||
      stagedir_begin (&b->pkg_sd, out, "clone", 0700, true) == -1)
    return -1;
  if ((xva ? xva_read (b->o->golden, b->pkg_sd.path, &b->pkg)
       : ova_read (b->o->golden, b->pkg_sd.path, &b->pkg)) == -1)
    return -1;
  vm_free (&b->vm);
  b->vm = b->pkg.vm;
  vm_init (&b->pkg.vm);
  b->package = true;
  return 0;
}

/* Disks go on the target's bus when it is Xen, and off the xen bus for
 * any other target (as export does). */
static void
fix_buses (struct clone_batch *b)
{
  enum vm_bus bus = ova_target_bus (&b->target);
  size_t i;

  for (i = 0; i < b->vm.disks.len; i++)
    if (bus == VM_BUS_XEN || b->vm.disks.ptr[i].bus == VM_BUS_XEN)
      b->vm.disks.ptr[i].bus = bus;
}

/* ---- the disks ----------------------------------------------------------- */

static int
open_golden (struct clone_batch *b, size_t j, const char *path)
{
  struct clone_golden_disk *d = &b->r->disks[j];

  if (cow_golden_open (&b->g[j], path) == -1 ||
      cow_plan (&b->g[j], b->o->cow) == -1)
    return error_prefix ("disk %zu: ", j + 1);
  if (d->path == NULL &&
      (d->path = xstrdup (b->g[j].path)) == NULL)
    return -1;
  free (d->format);
  d->format = xstrdup (image_format (b->g[j].img));
  d->depth = b->g[j].depth;
  d->method = b->g[j].method;
  d->why = b->g[j].why;
  return d->format ? 0 : -1;
}

int
clone_golden_load (struct clone_batch *b)
{
  const char *kind = golden_kind (b->o->golden, b->o->from_libvirt);
  size_t j;
  int r;

  set_target (b);
  b->r->golden_kind = kind;
  if ((b->r->golden = xstrdup (b->o->golden)) == NULL)
    return -1;
  if (strcmp (kind, "image") == 0)
    r = load_image (b);
  else if (strcmp (kind, "libvirt") == 0)
    r = load_libvirt (b);
  else
    r = load_package (b, strcmp (kind, "xva") == 0);
  if (r == -1)
    return error_prefix ("golden: ");
  if ((b->k = b->vm.disks.len) == 0)
    return error_set ("golden '%s': the VM has no disks", b->o->golden);
  b->r->n_disks = b->k;
  fix_buses (b);
  for (j = 0; j < b->k && !b->package; j++)
    if (open_golden (b, j, b->vm.disks.ptr[j].file) == -1)
      return -1;
  return 0;
}

/* ---- a package's golden copies ------------------------------------------- */

const char *
clone_package_format (enum cow_method cow)
{
  return cow == COW_VHD ? "vhd" : cow == COW_REFLINK ? "raw" : "qcow2";
}

char *
clone_golden_copy_path (const struct clone_batch *b, size_t j)
{
  char stem[48];

  vm_make_stem (b->vm.name, SIZE_MAX, stem, sizeof stem);
  return xasprintf ("%s/%s-golden-disk%zu.%s", b->r->dir, stem, j + 1,
                    clone_package_format (b->o->cow));
}

/* Disk j of the package copied (used blocks only) into DIR as a golden
 * copy of its own, published before any clone names it as backing. */
static int
stage_one (struct clone_batch *b, size_t j)
{
  struct copy_stats st;
  char *path = clone_golden_copy_path (b, j);

  if (path == NULL)
    return -1;
  b->r->disks[j].staged = path;
  if (usedmap_copy (b->pkg.disks[j], clone_package_format (b->o->cow), path,
                    (struct copy_opts) { .quiet = b->o->quiet,
                                         .label = path }, &st) == -1)
    return -1;
  return open_golden (b, j, path);
}

int
clone_golden_stage (struct clone_batch *b)
{
  size_t j;

  for (j = 0; j < b->k && b->package; j++) {
    if (stage_one (b, j) == -1)
      return error_prefix ("golden copy %zu: ", j + 1);
  }
  ova_pkg_free (&b->pkg);
  stagedir_abort (&b->pkg_sd);
  return 0;
}
