/* vhd-create.c: creating a VHD — fixed, dynamic or differencing, in its
 * own file or inside an open one (the OVA sink). */
#include "lib/common/compat.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/common/checked.h"
#include "lib/common/cleanup.h"
#include "lib/common/error.h"
#include "lib/common/ids.h"
#include "lib/image/vhd-int.h"

#define MAX_CREATE_SIZE (2040ull << 30)   /* QEMU and Hyper-V refuse more */

static int
create_fixed (struct vhd *v)
{
  if (ftruncate (v->fd, (off_t) (v->img.size + 512)) == -1)
    return error_errno ("vhd: '%s': truncate", v->img.path);
  return vhd_write_at (v, &v->footer, 512, v->img.size);
}

static int
create_dynamic (struct vhd *v, const char *parent, uint32_t block_size)
{
  uint64_t bat_bytes;
  CLEANUP_FREE uint8_t *ff = NULL;

  vhd_header_init (v, v->img.size, block_size);
  bat_bytes = DIV_ROUND_UP ((uint64_t) v->n_entries * 4, VHD_SECTOR)
    * VHD_SECTOR;
  v->bat = malloc ((size_t) v->n_entries * 4 + 4);
  v->bitmap = malloc (v->bitmap_size);
  ff = malloc (bat_bytes + 1);
  if (v->bat == NULL || v->bitmap == NULL || ff == NULL)
    return error_errno ("vhd: malloc");
  memset (v->bat, 0xff, (size_t) v->n_entries * 4);
  memset (ff, 0xff, bat_bytes);
  if (vhd_write_at (v, ff, bat_bytes, v->bat_offset) == -1)
    return -1;
  v->next_free = v->bat_offset + bat_bytes;
  if (parent && vhd_parent_describe (v, parent) == -1)
    return -1;
  v->header.checksum = htobe32 (vhd_header_checksum (&v->header));
  v->meta_dirty = true;
  v->img.writable = true;
  return vhd_meta_store (v);
}

static int
create_type (const char *path, const struct image_create_opts *opts,
             uint32_t *type)
{
  const char *sub = opts->subformat;

  if (sub == NULL || strcmp (sub, "dynamic") == 0)
    *type = opts->backing ? VHD_DIFF : VHD_DYNAMIC;
  else if (strcmp (sub, "fixed") == 0 && opts->backing == NULL)
    *type = VHD_FIXED;
  else if (strcmp (sub, "fixed") == 0)
    return error_set ("vhd: '%s': a differencing disk cannot be fixed", path);
  else
    return error_set ("vhd: '%s': unknown subformat '%s' (known: dynamic, "
                      "fixed)", path, sub);
  return 0;
}

static int
create_size_ok (const char *path, uint64_t size)
{
  if (size % VHD_SECTOR != 0)
    return error_set ("vhd: '%s': size %llu is not a multiple of 512", path,
                      (unsigned long long) size);
  if (size > MAX_CREATE_SIZE)
    return error_set ("vhd: '%s': size %llu exceeds the VHD limit of 2040 "
                      "GiB", path, (unsigned long long) size);
  return 0;
}

/* The block size asked for, or a differencing disk's parent's (a
 * differencing disk whose blocks straddle its parent's is legal but
 * Hyper-V never writes one), or the default. */
static int
create_block_size (const struct vhd *v, const char *path,
                   const struct image_create_opts *opts, uint32_t *bs)
{
  const struct vhd *parent = (const struct vhd *) v->img.backing;

  if (opts->block_size == 0) {
    *bs = parent ? parent->block_size : VHD_DEFAULT_BLOCK_SIZE;
    return 0;
  }
  if (!is_power_of_2 (opts->block_size) ||
      opts->block_size < VHD_MIN_CREATE_BLOCK_SIZE ||
      opts->block_size > VHD_MAX_CREATE_BLOCK_SIZE)
    return error_set ("vhd: '%s': block size %" PRIu32 " is not 512K, 1M or "
                      "2M (what Hyper-V and blktap read)", path,
                      opts->block_size);
  *bs = opts->block_size;
  return 0;
}

static int
create_body (struct vhd *v, uint32_t type, const char *parent,
             uint32_t block_size)
{
  uint8_t uuid[16];

  if (ids_uuid_generate (uuid) == -1)
    return -1;
  vhd_footer_init (v, type, v->img.size, uuid);
  if (type == VHD_FIXED)
    return create_fixed (v);
  return create_dynamic (v, parent, block_size);
}

/* The sink (opts->use_fd) shares a file with other data, so it takes
 * only the layout that stays inside [fd_offset, end): no ftruncate (fixed)
 * and no locators naming a parent's directory.  A hash of the bytes as
 * written would be wrong: the BAT and header are rewritten at close. */
static int
create_sink_ok (const char *path, uint32_t type,
                const struct image_create_opts *opts)
{
  if (opts->hash)
    return error_set ("vhd: '%s': cannot hash while writing (the header "
                      "and BAT are rewritten at close)", path);
  if (opts->use_fd && type != VHD_DYNAMIC)
    return error_set ("vhd: '%s': only a dynamic VHD without a parent can "
                      "be written into an open file", path);
  return 0;
}

static int
create_open (struct vhd *v, const char *path,
             const struct image_create_opts *opts)
{
  v->out_length = opts->out_length;
  if (opts->use_fd) {
    v->fd = opts->fd;
    v->borrowed_fd = true;
    v->base = opts->fd_offset;
    return 0;
  }
  v->fd = open (path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (v->fd == -1)
    return error_errno ("vhd: '%s'", path);
  return 0;
}

struct image *
vhd_create (const char *path, uint64_t size,
            const struct image_create_opts *opts)
{
  uint32_t type = VHD_DYNAMIC, block_size = VHD_DEFAULT_BLOCK_SIZE;
  struct vhd *v;

  if (create_type (path, opts, &type) == -1 ||
      create_sink_ok (path, type, opts) == -1 ||
      create_size_ok (path, size) == -1 || (v = vhd_alloc (path)) == NULL)
    return NULL;
  v->img.size = size;
  v->type = type;
  if (opts->backing &&
      vhd_parent_open_new (v, opts->backing, &v->parent_path) == -1)
    goto err;
  if (create_block_size (v, path, opts, &block_size) == -1 ||
      create_open (v, path, opts) == -1)
    goto err;
  if (create_body (v, type, v->parent_path, block_size) == -1) {
    if (!v->borrowed_fd)
      unlink (path);
    goto err;
  }
  v->img.writable = true;
  return &v->img;

 err:
  vhd_free (v);
  return NULL;
}
