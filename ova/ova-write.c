/* ova-write.c: the OVA writer (ova-write.h): .ovf, streamed disks patched
 * in place, manifest. */
#include "lib/common/compat.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/common/checked.h"
#include "lib/common/cleanup.h"
#include "lib/common/error.h"
#include "lib/common/fullrw.h"
#include "lib/common/outfile.h"
#include "lib/common/strbuf.h"
#include "lib/image/copy.h"
#include "ova/ova-write.h"

#define HASH_BACK_CHUNK (4u << 20)

struct ova_ctx {
  struct vm *vm;
  const struct ova_disk_in *disks;
  const struct ova_write_opts *o;
  struct ova_result *res;
  struct tar_out t;
  struct strbuf ovf;
  size_t slots[VM_MAX_DISKS];
  uint64_t ovf_off;             /* where the .ovf's bytes start */
};

/* ---- fixed-width size fields ------------------------------------------ */

void
ova_size_patch (char *field, uint64_t value)
{
  char buf[OVA_SIZE_WIDTH + 8];
  int n = snprintf (buf, sizeof buf, "%" PRIu64 "\"", value);

  memset (field, ' ', OVA_SIZE_WIDTH);
  memcpy (field, buf, (size_t) n);
}

static char *
find_field (char *xml, size_t len, const char *needle)
{
  size_t nl = strlen (needle);
  char *p = memmem (xml, len, needle, nl);

  if (p && memmem (p + nl, len - (size_t) (p + nl - xml), needle, nl))
    return NULL;
  return p ? p + nl - OVA_SIZE_WIDTH : NULL;
}

int
ova_size_slots (char *xml, size_t len, size_t n, size_t *slots)
{
  char needle[64];
  size_t i;
  char *f;

  for (i = 0; i < n; i++) {
    snprintf (needle, sizeof needle, "ovf:size=\"%" PRIu64 "\"",
              (uint64_t) OVA_SIZE_SENTINEL (i));
    if ((f = find_field (xml, len, needle)) == NULL)
      return error_set ("ova: the descriptor does not hold one size field "
                        "for disk %zu", i);
    slots[i] = (size_t) (f - xml);
    ova_size_patch (f, 0);
  }
  return 0;
}

/* ---- members ---------------------------------------------------------- */

static struct ova_member *
add_member (struct ova_ctx *c, const char *name)
{
  struct ova_member *m = &c->res->members[c->res->n_members++];

  memset (m, 0, sizeof *m);
  snprintf (m->name, sizeof m->name, "%s", name);
  return m;
}

static int
make_ovf (struct ova_ctx *c)
{
  size_t i, n = c->vm->disks.len;

  for (i = 0; i < n; i++)
    c->vm->disks.ptr[i].file_size = OVA_SIZE_SENTINEL (i);
  if (ovf_write (c->vm, c->o->flavour, &c->ovf) == -1)
    return -1;
  return ova_size_slots (c->ovf.buf, c->ovf.len, n, c->slots);
}

static int
put_ovf (struct ova_ctx *c)
{
  CLEANUP_FREE char *name = xasprintf ("%s.ovf", c->o->stem);

  if (name == NULL || make_ovf (c) == -1)
    return -1;
  c->ovf_off = c->t.pos + TAR_BLOCK;
  add_member (c, name)->size = c->ovf.len;
  return tar_put (&c->t, name, c->ovf.buf, c->ovf.len);
}

/* The sizes are known now: patch them into the .ovf in the archive (its
 * length is unchanged) and hash the final text. */
static int
patch_ovf (struct ova_ctx *c)
{
  size_t i;

  for (i = 0; i < c->vm->disks.len; i++)
    ova_size_patch (c->ovf.buf + c->slots[i], c->vm->disks.ptr[i].file_size);
  if (full_pwrite (c->t.fd, c->ovf.buf, c->ovf.len, c->ovf_off,
                   c->t.what) == -1)
    return error_prefix ("ova: ");
  return hash_buffer_hex (c->o->manifest, c->ovf.buf, c->ovf.len,
                          c->res->members[0].hash, false);
}

/* ---- disks ------------------------------------------------------------ */

/* A dynamic VHD's header and BAT are rewritten when it is closed, so its
 * bytes cannot be hashed as they are written: read the member back. */
static int
hash_back (struct ova_ctx *c, uint64_t off, uint64_t len, struct hash *h)
{
  CLEANUP_FREE uint8_t *buf = malloc (HASH_BACK_CHUNK);
  uint64_t done;

  if (buf == NULL)
    return error_errno ("malloc");
  for (done = 0; done < len; done += HASH_BACK_CHUNK) {
    size_t n = (size_t) MIN ((uint64_t) HASH_BACK_CHUNK, len - done);
    if (full_pread (c->t.fd, buf, n, off + done, c->t.what) == -1)
      return error_prefix ("ova: ");
    if (hash_update (h, buf, n) == -1)
      return -1;
  }
  return 0;
}

static int
copy_disk (struct ova_ctx *c, size_t i, struct image *dst,
           struct ova_member *m)
{
  struct copy_opts co = {
    .label = c->vm->disks.ptr[i].file, .quiet = c->o->quiet,
    .mask = c->disks[i].mask, .strict = true, .retries = 2,
  };
  struct copy_stats st;
  int r = image_copy (c->disks[i].src, dst, &co, &st);

  m->bytes_read = st.bytes_read;
  m->bytes_skipped = st.bytes_skipped;
  m->seconds = st.seconds;
  extent_vector_reset (&st.bad);
  return r;
}

/* Create the disk image inside the archive, copy into it, close it. */
static int
stream_disk (struct ova_ctx *c, size_t i, uint64_t off, struct hash *h,
             uint64_t *len)
{
  const struct vm_disk *d = &c->vm->disks.ptr[i];
  bool vmdk = strcmp (d->format, "vmdk") == 0;
  struct image_create_opts co = {
    .use_fd = true, .fd = c->t.fd, .fd_offset = off, .out_length = len,
    .hash = vmdk ? h : NULL, .threads = c->o->threads,
    .adapter_type = vmdk && d->bus == VM_BUS_IDE ? "ide" : NULL,
  };
  struct image *dst = image_create (d->format, d->file, d->capacity, &co);
  struct ova_member *m = &c->res->members[c->res->n_members - 1];

  if (dst == NULL)
    return -1;
  if (copy_disk (c, i, dst, m) == -1) {
    CLEANUP_FREE char *first = xstrdup (error_get ());
    image_close (dst);
    if (first)
      error_set ("%s", first);
    return -1;
  }
  if (image_close (dst) == -1)
    return -1;
  return vmdk ? 0 : hash_back (c, off, *len, h);
}

static int
put_disk (struct ova_ctx *c, size_t i)
{
  struct vm_disk *d = &c->vm->disks.ptr[i];
  struct hash *h = hash_new (c->o->manifest);
  struct ova_member *m = add_member (c, d->file);
  uint64_t off, len = 0;
  int r = -1;

  if (h == NULL)
    return -1;
  if (strcmp (d->format, "vmdk") != 0 && strcmp (d->format, "vhd") != 0)
    error_set ("ova: disk '%s': format '%s' cannot go in an OVA", d->file,
               d->format);
  else if (tar_begin (&c->t, d->file, &off) == 0 &&
           stream_disk (c, i, off, h, &len) == 0 &&
           hash_final_hex (h, m->hash, false) == 0 &&
           tar_end (&c->t, d->file, off, len) == 0) {
    d->file_size = m->size = len;
    r = 0;
  }
  hash_free (h);
  return r;
}

/* ---- manifest and the whole ------------------------------------------- */

/* NAME.cert: the manifest's signature and the certificate (sign.h). */
static int
put_cert (struct ova_ctx *c, const char *mf_name, const struct strbuf *mf)
{
  CLEANUP_FREE char *name = xasprintf ("%s.cert", c->o->stem);
  struct strbuf cert = STRBUF_INIT;
  int r = -1;

  if (name && ova_sign_manifest (c->o->signer, c->o->manifest, mf_name,
                                 mf->buf ? mf->buf : "", mf->len,
                                 &cert) == 0) {
    add_member (c, name)->size = cert.len;
    r = tar_put (&c->t, name, cert.buf, cert.len);
  }
  strbuf_release (&cert);
  return r;
}

static int
put_manifest (struct ova_ctx *c)
{
  CLEANUP_FREE char *name = xasprintf ("%s.mf", c->o->stem);
  struct strbuf mf = STRBUF_INIT;
  const char *kind = hash_name (c->o->manifest);
  size_t i, n = c->res->n_members;
  int r = -1;

  if (name == NULL)
    return -1;
  for (i = 0; i < n; i++)
    if (strbuf_addf (&mf, "%s(%s)= %s\n", kind, c->res->members[i].name,
                     c->res->members[i].hash) == -1)
      goto out;
  add_member (c, name)->size = mf.len;
  r = tar_put (&c->t, name, mf.buf, mf.len);
  if (r == 0 && c->o->signer)
    r = put_cert (c, name, &mf);
 out:
  strbuf_release (&mf);
  return r;
}

static int
write_all (struct ova_ctx *c)
{
  size_t i;

  if (put_ovf (c) == -1)
    return -1;
  for (i = 0; i < c->vm->disks.len; i++)
    if (put_disk (c, i) == -1)
      return -1;
  if (patch_ovf (c) == -1 || put_manifest (c) == -1 ||
      tar_finish (&c->t) == -1)
    return -1;
  if (fsync (c->t.fd) == -1)
    return error_errno ("ova: '%s': fsync", c->t.what);
  return 0;
}

static int
check_args (const struct vm *vm, const struct ova_write_opts *o)
{
  if (vm->disks.len > VM_MAX_DISKS)
    return error_set ("ova: too many disks (limit %d)", VM_MAX_DISKS);
  if (o->stem == NULL || strlen (o->stem) + 4 > TAR_NAME_MAX ||
      strchr (o->stem, '/'))
    return error_set ("ova: bad package name '%s'", o->stem ? o->stem : "");
  return 0;
}

int
ova_write (const char *path, struct vm *vm, const struct ova_disk_in *disks,
           const struct ova_write_opts *o, struct ova_result *res)
{
  struct ova_ctx c = {
    .vm = vm, .disks = disks, .o = o, .res = res, .ovf = STRBUF_INIT,
    .t = { .fd = -1, .mtime = time (NULL), .what = path },
  };
  struct outfile out;
  int r = -1;

  memset (res, 0, sizeof *res);
  if (check_args (vm, o) == -1 ||
      outfile_begin (&out, path, o->overwrite) == -1)
    return -1;
  c.t.fd = open (out.tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (c.t.fd == -1)
    error_errno ("ova: '%s'", path);
  else if (write_all (&c) == 0)
    r = 0;
  if (c.t.fd >= 0 && close (c.t.fd) == -1 && r == 0)
    r = error_errno ("ova: '%s': close", path);
  strbuf_release (&c.ovf);
  if (r == 0)
    return outfile_commit (&out);
  outfile_abort (&out);
  return -1;
}
