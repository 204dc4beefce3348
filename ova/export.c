/* export.c: a VM's disks opened for a package, each with its used-block
 * map (export.h). */
#include "lib/common/compat.h"

#include <stdlib.h>

#include "lib/common/checked.h"
#include "lib/common/cleanup.h"
#include "lib/common/error.h"
#include "lib/common/stagedir.h"
#include "lib/common/strbuf.h"
#include "lib/image/copy.h"
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

int
ova_stage_disk (const struct stagedir *sd, const struct ova_stage_disk *d,
                uint64_t *written, char **final_path)
{
  CLEANUP_FREE char *tmp = xasprintf ("%s/%s", sd->path, d->file);
  struct image_create_opts co = { .subformat = d->subformat };
  struct copy_opts po = { .label = d->label, .quiet = d->quiet,
                          .mask = d->mask };
  struct copy_stats st = { .bytes_read = 0 };
  int r;

  *final_path = NULL;
  if (tmp == NULL)
    return -1;
  r = image_convert (d->src, d->format, tmp, &co, &po, false, &st);
  extent_vector_reset (&st.bad);
  if (r == -1)
    return error_prefix ("'%s': ", d->file);
  if (st.bytes_bad)
    return error_set ("'%s': unreadable ranges", d->file);
  *written = st.bytes_written;
  *final_path = xasprintf ("%s/%s", sd->final, d->file);
  return *final_path ? 0 : -1;
}
