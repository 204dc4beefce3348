/* clone-publish.c: each made clone's VM (the golden's settings with the
 * clone's name, UUID, MACs, CPUs, memory and disks), its definition
 * (libvirt domain XML, OVA or XVA) and the rename of its files into DIR,
 * never over an existing file. */
#include "lib/common/compat.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clone/clone-int.h"
#include "lib/common/checked.h"
#include "lib/common/error.h"
#include "lib/common/outfile.h"
#include "lib/common/progress.h"
#include "lib/common/strbuf.h"
#include "ova/export.h"
#include "ova/libvirt.h"
#include "ova/ova-write.h"
#include "ova/xva-write.h"

/* ---- the clone's VM ------------------------------------------------------ */

static int
clone_nics (struct vm *vm, const struct clone_spec *s)
{
  const char *net = vm->nics.len ? vm->nics.ptr[0].network : NULL;
  const char *model = vm->nics.len ? vm->nics.ptr[0].model : NULL;
  size_t j;

  for (j = 0; j < s->n_nics && j < vm->nics.len; j++) {
    memcpy (vm->nics.ptr[j].mac, s->nics[j].mac, 6);
    vm->nics.ptr[j].has_mac = true;
  }
  for (; j < s->n_nics; j++)
    if (vm_add_nic (vm, s->nics[j].mac, net, model) == -1)
      return -1;
  return 0;
}

static int
clone_disks (struct clone_batch *b, size_t c, struct vm *vm)
{
  size_t j, slot;
  struct vm_disk *d;
  const char *file;

  for (j = 0; j < b->k; j++) {
    slot = c * (b->k + 1) + j;
    d = &vm->disks.ptr[j];
    file = b->final[slot] ? b->final[slot] : b->tmp[slot];
    free (d->file);
    free (d->format);
    d->file = xstrdup (file);
    d->format = xstrdup (clone_disk_format (b, j));
    d->capacity = DIV_ROUND_UP (b->g[j].img->size, 512) * 512;
    d->file_size = 0;
    if (d->file == NULL || d->format == NULL)
      return -1;
  }
  return 0;
}

static int
clone_vm (struct clone_batch *b, size_t c, struct vm *vm)
{
  const struct clone_spec *s = b->r->clones[c].spec;

  if (vm_copy (vm, &b->vm) == -1)
    return -1;
  free (vm->name);
  if ((vm->name = xstrdup (s->name)) == NULL)
    return -1;
  memcpy (vm->uuid, s->uuid, 16);
  vm->has_uuid = true;
  if (s->cpus)
    vm->cpus = s->cpus;
  if (s->memory_mib)
    vm->memory_mib = s->memory_mib;
  if (clone_nics (vm, s) == -1 || clone_disks (b, c, vm) == -1)
    return -1;
  return vm_validate (vm, s->name);
}

/* ---- definitions (under their temporary names) --------------------------- */

static int
write_domain (struct clone_batch *b, size_t c, const struct vm *vm)
{
  size_t base = c * (b->k + 1);
  struct strbuf sb = STRBUF_INIT;
  int r;

  r = libvirt_write (vm, b->o->to == CLONE_TO_LIBVIRT_XEN ? LIBVIRT_XEN
                     : LIBVIRT_KVM, (const char *const *) &b->final[base],
                     &sb);
  if (r == 0)
    r = outfile_write_new (b->tmp[base + b->k], sb.buf ? sb.buf : "",
                           sb.len);
  strbuf_release (&sb);
  return r;
}

/* The package of the clone, its disks read through their used-block maps
 * (identity may have written blocks the golden's map calls free). */
static int
write_package (struct clone_batch *b, size_t c, struct vm *vm)
{
  struct ova_export_disks x = { .n = 0 };
  struct ova_export_opts eo = {
    .stem = vm->name, .format = b->o->to == CLONE_TO_XVA ? "raw" : "vmdk",
  };
  struct ova_write_opts oo = {
    .flavour = OVF_VMWARE, .manifest = HASH_SHA256, .stem = vm->name,
    .quiet = b->o->quiet,
  };
  struct xva_write_opts xo = { .quiet = b->o->quiet };
  struct ova_result *ores = calloc (1, sizeof *ores);
  struct xva_result *xres = calloc (1, sizeof *xres);
  const char *out = b->tmp[c * (b->k + 1) + b->k];
  int r = -1;

  if (ores == NULL || xres == NULL)
    error_errno ("malloc");
  else if (ova_export_disks_open (&x, vm, &eo) == 0)
    r = b->o->to == CLONE_TO_XVA ? xva_write (out, vm, x.in, &xo, xres)
      : ova_write (out, vm, x.in, &oo, ores);
  ova_export_disks_close (&x);
  free (ores);
  free (xres);
  return r;
}

/* ---- publishing ---------------------------------------------------------- */

/* Rename tmp onto final, never replacing (link + unlink where the
 * filesystem has no RENAME_NOREPLACE). */
static int
publish_file (const char *tmp, const char *final)
{
  if (renameat2 (AT_FDCWD, tmp, AT_FDCWD, final, RENAME_NOREPLACE) == 0)
    return 0;
  if (errno != EINVAL && errno != ENOSYS)
    return error_errno ("'%s': publish", final);
  if (link (tmp, final) == -1)
    return error_errno ("'%s': publish", final);
  unlink (tmp);
  return 0;
}

/* Disks first, the definition last: a definition in DIR means a whole
 * clone.  A clone whose publishing fails takes back what it published. */
static int
publish_files (struct clone_batch *b, size_t c)
{
  struct clone_result *cr = &b->r->clones[c];
  size_t base = c * (b->k + 1), j, slot;
  char *tmp;

  for (j = 0; j <= b->k; j++) {
    slot = base + j;
    if (b->final[slot] == NULL || b->tmp[slot] == NULL)
      continue;
    if (publish_file (b->tmp[slot], b->final[slot]) == -1)
      goto undo;
    tmp = b->tmp[slot];
    b->tmp[slot] = NULL;
    free (tmp);
    if (j < b->k)
      cr->files[cr->n_files++] = xstrdup (b->final[slot]);
    else
      cr->definition = xstrdup (b->final[slot]);
  }
  return clone_fsync_dir (b->r->dir);

 undo:
  for (j = 0; j < cr->n_files; j++) {
    unlink (cr->files[j]);
    free (cr->files[j]);
  }
  cr->n_files = 0;
  return -1;
}

static int
publish_one (struct clone_batch *b, size_t c)
{
  bool pkg = b->o->to == CLONE_TO_OVA || b->o->to == CLONE_TO_XVA;
  struct vm vm;
  int r;

  vm_init (&vm);
  r = clone_vm (b, c, &vm);
  if (r == 0 && pkg)
    r = write_package (b, c, &vm);
  else if (r == 0 && b->o->to != CLONE_TO_NONE)
    r = write_domain (b, c, &vm);
  vm_free (&vm);
  if (r == 0)
    r = publish_files (b, c);
  if (r == -1)
    return error_prefix ("%s: ", b->r->clones[c].spec->name);
  if (pkg)
    clone_drop_temps (b, c);
  return 0;
}

void
clone_publish_all (struct clone_batch *b)
{
  struct clone_result *cr;
  size_t c;
  double t;

  for (c = 0; c < b->r->n; c++) {
    if (!b->made[c])
      continue;
    cr = &b->r->clones[c];
    t = monotonic_seconds ();
    if (publish_one (b, c) == -1) {
      clone_fail (b, c);
      continue;
    }
    cr->ok = true;
    b->made[c] = false;
    cr->seconds += monotonic_seconds () - t;
    if (b->o->on_clone)
      b->o->on_clone (b->o->opaque, cr, c + 1, b->r->n);
  }
}
