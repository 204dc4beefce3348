/* xva-write.c: the XVA writer (xva-write.h).  Each VDI is copied by the
 * copy engine into a "chunk sink", an image whose writes arrive in
 * ascending order and which emits finished 1 MiB chunks into the tar. */
#include "lib/common/compat.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/common/checked.h"
#include "lib/common/cleanup.h"
#include "lib/common/error.h"
#include "lib/common/fullrw.h"
#include "lib/common/hash.h"
#include "lib/common/outfile.h"
#include "lib/common/strbuf.h"
#include "lib/image/copy.h"
#include "ova/xva-write.h"
#include "ova/xva-xml.h"

struct xva_out {
  struct archive *a;
  const char *what;             /* the output path, for errors */
  time_t mtime;
};

struct chunk_sink {
  struct image img;             /* first: the copy engine's target */
  struct xva_out *out;
  struct xva_disk_result *res;
  uint8_t *buf;                 /* XVA_CHUNK bytes: chunk `cur` */
  uint64_t cur;
  bool dirty;                   /* buf holds written data */
  bool failed;                  /* do not finish the VDI on close */
};

/* ---- tar members through libarchive ----------------------------------- */

static int
put_member (struct xva_out *o, const char *name, const void *data,
            size_t len)
{
  struct archive_entry *e = archive_entry_new ();
  int r = 0;

  if (e == NULL)
    return error_set ("xva: out of memory");
  archive_entry_set_pathname (e, name);
  archive_entry_set_filetype (e, AE_IFREG);
  archive_entry_set_perm (e, 0644);
  archive_entry_set_size (e, (la_int64_t) len);
  archive_entry_set_mtime (e, o->mtime, 0);
  if (archive_write_header (o->a, e) != ARCHIVE_OK ||
      (len && archive_write_data (o->a, data, len) != (la_ssize_t) len))
    r = error_set ("xva: '%s': %s: %s", o->what, name,
                   archive_error_string (o->a));
  archive_entry_free (e);
  return r;
}

static int
emit_chunk (struct chunk_sink *s)
{
  uint64_t len = MIN ((uint64_t) XVA_CHUNK, s->img.size - s->cur * XVA_CHUNK);
  char name[64], hex[HASH_HEX_MAX];

  if (hash_buffer_hex (HASH_XXH64, s->buf, (size_t) len, hex, true) == -1)
    return -1;
  snprintf (name, sizeof name, "%s/%08" PRIu64, s->res->ref, s->cur);
  if (put_member (s->out, name, s->buf, (size_t) len) == -1)
    return -1;
  snprintf (name, sizeof name, "%s/%08" PRIu64 ".xxhash", s->res->ref,
            s->cur);
  s->res->chunks_written++;
  return put_member (s->out, name, hex, strlen (hex));
}

/* ---- the chunk sink ---------------------------------------------------- */

/* Leave chunk cur for chunk k > cur: store cur if it has data or is the
 * first; the chunks in between are all zeros and left out. */
static int
move_to (struct chunk_sink *s, uint64_t k)
{
  bool keep = s->cur == 0 || (s->dirty && !is_zero (s->buf, XVA_CHUNK));

  if (keep && emit_chunk (s) == -1)
    return -1;
  s->res->chunks_skipped += (k - s->cur - 1) + !keep;
  memset (s->buf, 0, XVA_CHUNK);
  s->cur = k;
  s->dirty = false;
  return 0;
}

static int
sink_pwrite (struct image *img, const void *buf, size_t count,
             uint64_t offset)
{
  struct chunk_sink *s = (struct chunk_sink *) img;
  const uint8_t *p = buf;

  while (count > 0) {
    uint64_t k = offset / XVA_CHUNK;
    size_t in = (size_t) (offset % XVA_CHUNK);
    size_t n = MIN (count, (size_t) XVA_CHUNK - in);

    if (k < s->cur)
      return error_set ("xva: '%s': writes must ascend", img->path);
    if (k > s->cur && move_to (s, k) == -1)
      return -1;
    memcpy (s->buf + in, p, n);
    s->dirty = true;
    p += n;
    offset += n;
    count -= n;
  }
  return 0;
}

static int
sink_flush (struct image *img)
{
  (void) img;
  return 0;
}

/* The last chunk is always stored: it tells the importer where the VDI
 * ends. */
static int
sink_close (struct image *img)
{
  struct chunk_sink *s = (struct chunk_sink *) img;
  uint64_t last = (img->size - 1) / XVA_CHUNK;
  int r = 0;

  if (!s->failed && ((s->cur < last && move_to (s, last) == -1) ||
                     emit_chunk (s) == -1))
    r = -1;
  free (s->buf);
  s->buf = NULL;
  image_fini (img);
  return r;
}

static const struct image_ops chunk_sink_ops = {
  .name = "xva-chunks",
  .pwrite = sink_pwrite,
  .flush = sink_flush,
  .close = sink_close,
};

/* ---- the package ------------------------------------------------------- */

static int
put_disk (struct xva_out *o, const struct vm_disk *d,
          const struct ova_disk_in *in, bool quiet,
          struct xva_disk_result *res)
{
  struct chunk_sink s = { .out = o, .res = res };
  struct copy_opts co = {
    .label = res->ref, .quiet = quiet, .mask = in->mask, .strict = true,
    .retries = 2,
  };
  struct copy_stats st;
  int r;

  s.buf = calloc (1, XVA_CHUNK);
  if (s.buf == NULL)
    return error_errno ("malloc");
  if (image_init (&s.img, &chunk_sink_ops, res->ref, d->capacity, true) == -1) {
    free (s.buf);
    return -1;
  }
  r = image_copy (in->src, &s.img, &co, &st);
  res->bytes_read = st.bytes_read;
  res->bytes_skipped = st.bytes_skipped;
  res->seconds = st.seconds;
  extent_vector_reset (&st.bad);
  s.failed = r == -1;
  if (image_close (&s.img) == -1)
    r = -1;
  return r;
}

static int
put_xml (struct xva_out *o, const struct vm *vm)
{
  uint64_t sizes[VM_MAX_DISKS];
  struct strbuf sb = STRBUF_INIT;
  size_t i;
  int r;

  for (i = 0; i < vm->disks.len; i++)
    sizes[i] = vm->disks.ptr[i].capacity;
  r = xva_xml_write (vm, sizes, &sb);
  if (r == 0)
    r = put_member (o, "ova.xml", sb.buf, sb.len);
  strbuf_release (&sb);
  return r;
}

/* Disk indices sorted by their refs as strings, the order xapi expects. */
static void
ref_order (const struct xva_result *res, size_t n, size_t *order)
{
  size_t i, j;

  for (i = 0; i < n; i++)
    order[i] = i;
  for (i = 1; i < n; i++)
    for (j = i; j > 0 && strcmp (res->disks[order[j - 1]].ref,
                                 res->disks[order[j]].ref) > 0; j--) {
      size_t t = order[j];
      order[j] = order[j - 1];
      order[j - 1] = t;
    }
}

static int
write_all (struct xva_out *o, const struct vm *vm,
           const struct ova_disk_in *disks, const struct xva_write_opts *opt,
           struct xva_result *res)
{
  size_t order[VM_MAX_DISKS], i, n = vm->disks.len;

  res->n_disks = n;
  for (i = 0; i < n; i++)
    xva_xml_vdi_ref (i, n, res->disks[i].ref, sizeof res->disks[i].ref);
  ref_order (res, n, order);
  if (put_xml (o, vm) == -1)
    return -1;
  for (i = 0; i < n; i++)
    if (put_disk (o, &vm->disks.ptr[order[i]], &disks[order[i]], opt->quiet,
                  &res->disks[order[i]]) == -1)
      return -1;
  if (archive_write_close (o->a) != ARCHIVE_OK)
    return error_set ("xva: '%s': %s", o->what, archive_error_string (o->a));
  return 0;
}

static int
write_fd (int fd, const char *path, const struct vm *vm,
          const struct ova_disk_in *disks, const struct xva_write_opts *opt,
          struct xva_result *res)
{
  struct xva_out o = { .a = archive_write_new (), .what = path,
                       .mtime = time (NULL) };
  int r = -1;

  if (o.a == NULL)
    return error_set ("xva: out of memory");
  if (archive_write_set_format_gnutar (o.a) != ARCHIVE_OK ||
      archive_write_open_fd (o.a, fd) != ARCHIVE_OK)
    error_set ("xva: '%s': %s", path, archive_error_string (o.a));
  else if (write_all (&o, vm, disks, opt, res) == 0)
    r = 0;
  if (r == -1)
    archive_write_fail (o.a);
  archive_write_free (o.a);
  if (r == 0 && fsync (fd) == -1)
    r = error_errno ("xva: '%s': fsync", path);
  return r;
}

int
xva_write (const char *path, const struct vm *vm,
           const struct ova_disk_in *disks, const struct xva_write_opts *o,
           struct xva_result *res)
{
  struct outfile out;
  int fd, r;

  memset (res, 0, sizeof *res);
  if (vm->disks.len > VM_MAX_DISKS)
    return error_set ("xva: too many disks (limit %d)", VM_MAX_DISKS);
  if (outfile_begin (&out, path, o->overwrite) == -1)
    return -1;
  fd = open (out.tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd == -1) {
    error_errno ("xva: '%s'", path);
    outfile_abort (&out);
    return -1;
  }
  r = write_fd (fd, path, vm, disks, o, res);
  if (close (fd) == -1 && r == 0)
    r = error_errno ("xva: '%s': close", path);
  if (r == 0)
    return outfile_commit (&out);
  outfile_abort (&out);
  return -1;
}
