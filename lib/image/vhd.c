/* vhd.c: Microsoft VHD images (fixed, dynamic, differencing): the vtable,
 * probing, open, flush, close and info; the rest is in vhd-*.c (see
 * vhd-int.h).  On-disk facts: /work/shared/FORMATS.md. */
#include "lib/common/compat.h"

#include <endian.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/common/error.h"
#include "lib/common/fullrw.h"
#include "lib/common/ids.h"
#include "lib/common/strbuf.h"
#include "lib/image/image.h"
#include "lib/image/vhd-int.h"

/* ---- file access ---- */

int
vhd_read_at (struct vhd *v, void *buf, size_t count, uint64_t offset)
{
  if (full_pread (v->fd, buf, count, v->base + offset, v->img.path) == -1)
    return error_prefix ("vhd: ");
  return 0;
}

int
vhd_write_at (struct vhd *v, const void *buf, size_t count, uint64_t offset)
{
  if (full_pwrite (v->fd, buf, count, v->base + offset, v->img.path) == -1)
    return error_prefix ("vhd: ");
  return 0;
}

/* ---- construction and teardown ---- */

struct vhd *
vhd_alloc (const char *path)
{
  struct vhd *v = calloc (1, sizeof *v);

  if (v == NULL) {
    error_errno ("vhd: malloc");
    return NULL;
  }
  v->fd = -1;
  v->bm_block = VHD_BAT_UNUSED;
  if (image_init (&v->img, &vhd_ops, path, 0, false) == -1) {
    free (v);
    return NULL;
  }
  return v;
}

void
vhd_free (struct vhd *v)
{
  if (v->fd >= 0 && !v->borrowed_fd)
    close (v->fd);
  free (v->bat);
  free (v->bitmap);
  free (v->parent_path);
  image_fini (&v->img);
  free (v);
}

/* ---- opening ---- */

static bool
vhd_probe (const uint8_t *head, size_t head_len, const uint8_t *tail,
           size_t tail_len, uint64_t file_size)
{
  (void) file_size;
  if (head_len >= 8 && memcmp (head, "conectix", 8) == 0)
    return true;
  if (tail_len == 512 && memcmp (tail, "conectix", 8) == 0)
    return true;
  /* Virtual PC before 2004 wrote 511-byte footers on fixed disks. */
  return tail_len == 512 && memcmp (tail + 1, "conectix", 8) == 0 &&
    be32toh (((const struct vhd_footer *) (tail + 1))->disk_type) == VHD_FIXED;
}

static int
fixed_setup (struct vhd *v)
{
  uint64_t data = v->file_size - (v->short_footer ? 511 : 512);

  if (v->img.size > data)
    return VHD_ERR (v, "virtual size %llu exceeds the %llu bytes of data "
                    "(truncated?)", (unsigned long long) v->img.size,
                    (unsigned long long) data);
  return 0;
}

static int
vhd_load (struct vhd *v, unsigned depth)
{
  struct stat st;

  if (fstat (v->fd, &st) == -1)
    return error_errno ("vhd: '%s': stat", v->img.path);
  if (!S_ISREG (st.st_mode) && !S_ISBLK (st.st_mode))
    return VHD_ERR (v, "not a regular file");
  v->file_size = (uint64_t) st.st_size;
  if (vhd_footer_load (v) == -1)
    return -1;
  if (v->type == VHD_FIXED)
    return fixed_setup (v);
  if (vhd_header_load (v) == -1 || vhd_header_validate (v) == -1 ||
      vhd_bat_load (v) == -1)
    return -1;
  return v->type == VHD_DIFF ? vhd_parent_open (v, depth) : 0;
}

static struct image *
vhd_open (const char *path, unsigned flags, unsigned depth)
{
  bool rw = flags & IMAGE_OPEN_RDWR;
  struct vhd *v = vhd_alloc (path);

  if (v == NULL)
    return NULL;
  v->fd = open (path, (rw ? O_RDWR : O_RDONLY) | O_CLOEXEC);
  if (v->fd == -1) {
    error_errno ("vhd: '%s'", path);
    vhd_free (v);
    return NULL;
  }
  if (vhd_load (v, depth) == -1) {
    vhd_free (v);
    return NULL;
  }
  v->img.writable = rw;
  return &v->img;
}

/* ---- flush and close ---- */

static int
vhd_flush (struct image *img)
{
  struct vhd *v = (struct vhd *) img;

  if (vhd_meta_store (v) == -1)
    return -1;
  if (fsync (v->fd) == -1)
    return error_errno ("vhd: '%s': fsync", img->path);
  return 0;
}

static int
vhd_close (struct image *img)
{
  struct vhd *v = (struct vhd *) img;
  int ret = 0;

  if (img->writable && vhd_flush (img) == -1)
    ret = -1;
  if (!v->borrowed_fd && close (v->fd) == -1 && ret == 0)
    ret = error_errno ("vhd: '%s': close", img->path);
  v->fd = -1;
  /* The footer copy at next_free is the last thing in a dynamic file. */
  if (ret == 0 && v->out_length)
    *v->out_length = v->type == VHD_FIXED ? img->size + 512
      : v->next_free + 512;
  vhd_free (v);
  return ret;
}

/* ---- info ---- */

static void
creator_text (const char app[4], char out[5])
{
  size_t i, n = 0;

  for (i = 0; i < 4 && app[i]; i++)
    out[n++] = app[i] >= 0x20 && app[i] < 0x7f ? app[i] : '?';
  while (n > 0 && out[n - 1] == ' ')
    n--;
  out[n] = '\0';
}

static int
info_dynamic (struct vhd *v, struct strbuf *out)
{
  uint32_t i, used = 0;
  char u[37];

  for (i = 0; i < v->n_entries; i++)
    used += v->bat[i] != VHD_BAT_UNUSED;
  if (strbuf_addf (out, "block_size\t%u\nmax_table_entries\t%u\n"
                   "allocated_blocks\t%u\n", v->block_size, v->n_entries,
                   used) == -1)
    return -1;
  if (v->type != VHD_DIFF)
    return 0;
  ids_uuid_format (v->header.parent_uuid, u);
  return strbuf_addf (out, "parent\t%s\nparent_unique_id\t%s\n",
                      v->parent_path ? v->parent_path : "", u);
}

static int
vhd_info (struct image *img, struct strbuf *out)
{
  struct vhd *v = (struct vhd *) img;
  static const char *const names[] = { "", "", "fixed", "dynamic",
                                       "differencing" };
  char app[5], u[37];

  creator_text (v->footer.creator_app, app);
  ids_uuid_format (v->footer.unique_id, u);
  if (strbuf_addf (out, "subformat\t%s\ncreator\t%s\ncurrent_size\t%llu\n"
                   "geometry\t%u/%u/%u\nunique_id\t%s\n", names[v->type], app,
                   (unsigned long long) be64toh (v->footer.current_size),
                   be16toh (v->footer.cylinders), v->footer.heads,
                   v->footer.sectors_per_track, u) == -1)
    return -1;
  return v->type == VHD_FIXED ? 0 : info_dynamic (v, out);
}

const struct image_ops vhd_ops = {
  .name = "vhd",
  .probe = vhd_probe,
  .open = vhd_open,
  .create = vhd_create,
  .pread = vhd_pread,
  .pwrite = vhd_pwrite,
  .extents = vhd_extents,
  .flush = vhd_flush,
  .close = vhd_close,
  .check = vhd_check,
  .info = vhd_info,
};
