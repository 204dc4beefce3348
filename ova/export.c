/* export.c: a VM's disks opened for a package, each with its used-block
 * map (export.h). */
#include "lib/common/compat.h"

#include <stdlib.h>

#include "lib/common/checked.h"
#include "lib/common/cleanup.h"
#include "lib/common/error.h"
#include "lib/common/strbuf.h"
#include "ova/export.h"

/* Open disk i's source and turn the disk into its package member. */
static int
open_disk (struct ova_export_disks *x, struct vm *vm,
           const struct ova_export_opts *o, size_t i)
{
  struct vm_disk *d = &vm->disks.ptr[i];
  CLEANUP_FREE char *name = xasprintf ("%s-disk%zu.%s", o->stem, i + 1,
                                       o->format);
  struct image *src;

  if (name == NULL)
    return -1;
  if (d->file == NULL)
    return error_set ("disk %zu has no source file", i + 1);
  if (o->srcs && o->srcs[i]) {
    src = o->srcs[i];
    o->srcs[i] = NULL;
  } else if ((src = image_open (d->file, o->open_flags)) == NULL)
    return -1;
  x->in[i].src = src;
  x->n = i + 1;
  free (d->file);
  free (d->format);
  d->file = name;
  name = NULL;
  d->format = xstrdup (o->format);
  d->capacity = DIV_ROUND_UP (src->size, 512) * 512;
  d->file_size = 0;
  return d->format ? 0 : -1;
}

int
ova_export_disks_open (struct ova_export_disks *x, struct vm *vm,
                       const struct ova_export_opts *o)
{
  size_t i;

  for (i = 0; i < vm->disks.len; i++) {
    if (open_disk (x, vm, o, i) == -1)
      return -1;
    if (o->all_blocks)
      continue;
    if (usedmap_build (x->in[i].src, 2, &x->maps[i]) == -1)
      return error_prefix ("'%s': ", x->in[i].src->path);
    x->in[i].mask = &x->maps[i].keep;
  }
  return 0;
}

void
ova_export_disks_close (struct ova_export_disks *x)
{
  size_t i;

  if (x == NULL)
    return;
  for (i = 0; i < x->n; i++) {
    image_close (x->in[i].src);
    x->in[i].src = NULL;
    x->in[i].mask = NULL;
    usedmap_free (&x->maps[i]);
  }
  x->n = 0;
}
