/* fit.c: a deployed disk fitted to the physical disk, inside the
 * appliance over the overlay: the partition holding the root (or its LVM
 * PV, then the root LV) grown to fill the disk at 1 MiB alignment, or
 * shrunk with its ext filesystem (and LV and PV) onto a smaller disk;
 * swap partitions
 * after it moved to the disk's end (recreated with the same UUID, label,
 * type and partition GUID, since fstab names them); the filesystem grown
 * (ext offline, xfs and btrfs mounted, NTFS with ntfsresize).  Then the
 * bootloader for the hardware. */
#include "lib/common/compat.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/common/error.h"
#include "lib/common/checked.h"
#include "lib/common/cleanup.h"
#include "lib/common/strbuf.h"
#include "lib/common/strv.h"
#include "lib/disk/parttable.h"
#include "lib/guest/guest-edit.h"
#include "lib/guest/session.h"
#include "v2p/deploy-int.h"

#define SECTOR 512ull                 /* the appliance's disk */
#define MIB_S (MIB / SECTOR)
#define MBR_LIMIT_S (1ull << 32)      /* MBR addresses 2^32 sectors */
#define MAX_MOVED 8
#define DISK "/dev/sda"
/* What a shell command in the appliance names the disk by: libguestfs
 * translates "/dev/sda" in its API calls only, and the kernel may
 * enumerate the appliance's own disk first (seen under load: the disk
 * was sdb, and grub-install went for the appliance).  The daemon itself
 * finds disk 1 by this serial; a libguestfs without serials keeps the
 * order. */
#define DISK_SH_PICK \
  "d=/dev/disk/by-id/scsi-0QEMU_QEMU_HARDDISK_hd0; [ -e \"$d\" ] || d=" DISK "; "

/* A swap partition (or the extended one holding swap) after the root. */
struct moved {
  int num;
  bool extended, logical;
  uint64_t size_s;                    /* sectors, whole MiB */
  uint64_t start_s, end_s;            /* the new place */
  int mbr_id;
  char *gpt_type, *gpt_guid, *name, *uuid, *label;
};

struct layout {
  char *parttype;                     /* "msdos", "gpt" */
  int root_num;
  uint64_t root_start_s, root_end_s;  /* now */
  uint64_t new_end_s;
  struct moved mv[MAX_MOVED];
  size_t n_mv;
};

static void
layout_free (struct layout *l)
{
  size_t i;

  for (i = 0; i < l->n_mv; i++) {
    free (l->mv[i].gpt_type);
    free (l->mv[i].gpt_guid);
    free (l->mv[i].name);
    free (l->mv[i].uuid);
    free (l->mv[i].label);
  }
  free (l->parttype);
}

static char *
human (uint64_t bytes, char *buf, size_t len)
{
  if (bytes >= (1ull << 30))
    snprintf (buf, len, "%.1f GiB", (double) bytes / (1ull << 30));
  else
    snprintf (buf, len, "%" PRIu64 " MiB", (uint64_t) (bytes / MIB));
  return buf;
}

/* ---- where the root lives ------------------------------------------------ */

/* "/dev/VG/LV" split; false if it is not that shape. */
static bool
split_lv (const char *canon, char *vg, size_t vglen, const char **name)
{
  const char *slash;

  if (strncmp (canon, "/dev/", 5) != 0 ||
      (slash = strchr (canon + 5, '/')) == NULL ||
      (size_t) (slash - (canon + 5)) >= vglen)
    return false;
  memcpy (vg, canon + 5, (size_t) (slash - (canon + 5)));
  vg[slash - (canon + 5)] = '\0';
  *name = slash + 1;
  return true;
}

/* The one PV of the VG holding lv, as an appliance device (vgpvuuids and
 * pvuuid both spell UUIDs with dashes). */
static char *
lv_pv (guestfs_h *g, const char *lv)
{
  char *canon = guestfs_lvm_canonical_lv_name (g, lv), vg[256];
  char **uuids = NULL, **pvs = NULL, *pv = NULL, *u;
  const char *name;
  size_t i;

  if (canon == NULL || !split_lv (canon, vg, sizeof vg, &name)) {
    error_set ("'%s': not an LVM logical volume name", lv);
    goto out;
  }
  if ((uuids = guestfs_vgpvuuids (g, vg)) == NULL ||
      (pvs = guestfs_pvs (g)) == NULL) {
    guest_error (g, vg);
    goto out;
  }
  if (uuids[0] == NULL || uuids[1] != NULL) {
    error_set ("volume group %s spans several physical volumes: only a VG "
               "on one PV is grown", vg);
    goto out;
  }
  for (i = 0; pvs[i] && pv == NULL; i++) {
    if ((u = guestfs_pvuuid (g, pvs[i])) != NULL && strcmp (u, uuids[0]) == 0)
      pv = xstrdup (pvs[i]);
    free (u);
  }
  if (pv == NULL)
    error_set ("volume group %s: its PV was not found", vg);
 out:
  free (canon);
  strv_free (uuids);
  strv_free (pvs);
  return pv;
}

/* ---- the partitions after the root ---------------------------------------- */

/* A partition after the root must hold swap (moved, then made again with
 * its UUID and label); data would have to be copied. */
static int
swap_facts (guestfs_h *g, struct moved *m)
{
  char dev[64];
  char *type;
  int r = 0;

  snprintf (dev, sizeof dev, DISK "%d", m->num);
  if ((type = guestfs_vfs_type (g, dev)) == NULL || strcmp (type, "swap"))
    r = error_set ("partition %d (%s) follows the root and holds data: "
                   "it cannot be moved", m->num,
                   type && *type ? type : "unknown contents");
  free (type);
  if (r == -1)
    return -1;
  m->uuid = guestfs_vfs_uuid (g, dev);
  m->label = guestfs_vfs_label (g, dev);
  if (m->size_s < MIB_S)
    m->size_s = MIB_S;
  return 0;
}

/* The same from the source on the host, where the partition still lies
 * (one read instead of three blkid runs in the appliance): a Linux swap
 * header of 4 KiB pages ("SWAPSPACE2" at 4086, UUID at 1036, label at
 * 1052).  1 when it is not one (swap_facts then says what it holds). */
static int
swap_facts_host (struct image *src, uint64_t offset, uint64_t length,
                 struct moved *m)
{
  uint8_t page[4096];
  const uint8_t *u = page + 1036;
  char label[17];

  if (length < sizeof page || offset > src->size ||
      src->size - offset < sizeof page)
    return 1;
  if (image_pread (src, page, sizeof page, offset) == -1)
    return -1;
  if (memcmp (page + 4086, "SWAPSPACE2", 10) != 0)
    return 1;
  memcpy (label, page + 1052, 16);
  label[16] = '\0';
  m->label = xstrdup (label);
  m->uuid = xasprintf ("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
                       "%02x%02x%02x%02x%02x%02x", u[0], u[1], u[2], u[3],
                       u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11],
                       u[12], u[13], u[14], u[15]);
  if (m->label == NULL || m->uuid == NULL)
    return -1;
  if (m->size_s < MIB_S)
    m->size_s = MIB_S;
  return 0;
}

static int
record_moved (guestfs_h *g, const struct guestfs_partition *p, bool gpt,
              struct layout *l)
{
  struct moved *m;

  if (l->n_mv == MAX_MOVED)
    return error_set ("more than %d partitions follow the root", MAX_MOVED);
  m = &l->mv[l->n_mv];
  memset (m, 0, sizeof *m);
  m->num = p->part_num;
  m->size_s = p->part_size / MIB * MIB_S;
  if (!gpt) {
    m->mbr_id = guestfs_part_get_mbr_id (g, DISK, p->part_num);
    m->extended = p->part_num <= 4 && m->mbr_id > 0 &&
      parttable_mbr_extended ((unsigned) m->mbr_id);
    m->logical = p->part_num > 4;
  }
  l->n_mv++;
  if (m->extended)
    return 0;
  if (swap_facts (g, m) == -1)
    return -1;
  if (gpt) {
    m->gpt_type = guestfs_part_get_gpt_type (g, DISK, p->part_num);
    m->gpt_guid = guestfs_part_get_gpt_guid (g, DISK, p->part_num);
    m->name = guestfs_part_get_name (g, DISK, p->part_num);
  }
  return 0;
}

static int
read_layout (guestfs_h *g, int root_num, struct layout *l)
{
  struct guestfs_partition_list *pl;
  const struct guestfs_partition *root = NULL;
  size_t i;
  int r = 0;

  if ((l->parttype = guestfs_part_get_parttype (g, DISK)) == NULL ||
      (pl = guestfs_part_list (g, DISK)) == NULL)
    return guest_error (g, DISK);
  for (i = 0; i < pl->len; i++)
    if (pl->val[i].part_num == root_num)
      root = &pl->val[i];
  if (root == NULL)
    r = error_set ("partition %d is not in the table", root_num);
  else {
    l->root_num = root_num;
    l->root_start_s = root->part_start / SECTOR;
    l->root_end_s = root->part_end / SECTOR;
  }
  for (i = 0; r == 0 && i < pl->len; i++)
    if (pl->val[i].part_start > root->part_start)
      r = record_moved (g, &pl->val[i], strcmp (l->parttype, "gpt") == 0, l);
  guestfs_free_partition_list (pl);
  return r;
}

/* ---- the new layout -------------------------------------------------------- */

static uint64_t
align_down (uint64_t s)
{
  return s / MIB_S * MIB_S;
}

/* Moved partitions go to the end, in their order; logical ones each
 * after a 1 MiB gap for their EBR, inside an extended one. */
static int
plan_layout (struct deploy_fit *f, struct layout *l)
{
  bool gpt = strcmp (l->parttype, "gpt") == 0;
  uint64_t sectors = f->disk_size / SECTOR, end, cursor;
  size_t i;
  struct moved *ext = NULL;

  end = gpt ? sectors - 33 : sectors;         /* exclusive */
  if (!gpt && end > MBR_LIMIT_S) {
    end = MBR_LIMIT_S;
    deploy_note (f, &f->d->layout, "an MBR disk addresses 2 TiB: the "
                 "space past it stays unused (convert the table to GPT to "
                 "use it)");
  }
  cursor = align_down (end);
  for (i = l->n_mv; i-- > 0; ) {
    struct moved *m = &l->mv[i];
    if (m->extended) {
      ext = m;
      continue;
    }
    if (cursor < m->size_s + MIB_S)
      return error_set ("no room for the moved partitions");
    m->end_s = cursor - 1;
    m->start_s = cursor - m->size_s;
    cursor = m->start_s;
    if (m->logical)
      cursor -= MIB_S;                        /* room for its EBR */
  }
  if (ext) {
    ext->start_s = cursor;
    ext->end_s = end - 1;
  }
  if (cursor <= l->root_start_s + MIB_S)
    return error_set ("no room for the root partition");
  l->new_end_s = cursor - 1;
  return 0;
}

/* ---- filesystems ----------------------------------------------------------- */

static int
mounted_op (guestfs_h *g, const char *dev, const char *type)
{
  int r;

  if (guestfs_mount (g, dev, "/") == -1)
    return guest_error (g, dev);
  r = strcmp (type, "xfs") == 0 ? guestfs_xfs_growfs (g, "/", -1)
    : guestfs_btrfs_filesystem_resize (g, "/", -1);
  if (guestfs_umount (g, "/") == -1 || r == -1)
    return guest_error (g, dev);
  return 0;
}

static int
grow_fs (guestfs_h *g, const char *dev, struct deploy_fit *f)
{
  char *type = guestfs_vfs_type (g, dev);
  int r = 0;

  if (type == NULL)
    return guest_error (g, dev);
  if (strncmp (type, "ext", 3) == 0)
    r = guestfs_e2fsck (g, dev, GUESTFS_E2FSCK_CORRECT, 1, GUESTFS_E2FSCK_FORCEALL, 0, -1) == -1 || guestfs_resize2fs (g, dev) == -1
      ? guest_error (g, dev) : 0;
  else if (strcmp (type, "xfs") == 0 || strcmp (type, "btrfs") == 0)
    r = mounted_op (g, dev, type);
  else if (strcmp (type, "ntfs") == 0)
    r = guestfs_ntfsresize (g, dev) == -1 ? guest_error (g, dev) : 0;
  else {
    r = deploy_note (f, &f->d->layout, "%s on %s: not grown (Ferry grows "
                     "ext2/3/4, xfs, btrfs and NTFS)", type, dev);
    free (type);
    return r;
  }
  if (r == 0)
    r = deploy_note (f, &f->d->layout, "%s on %s grown to fill it%s", type,
                     dev, strcmp (type, "ntfs") == 0
                     ? " (Windows runs chkdsk at its next boot)" : "");
  free (type);
  return r;
}

/* Shrink dev's filesystem to `bytes`: ext only, never below its
 * minimum plus a margin for what the system writes at first boot. */
static int
shrink_fs (guestfs_h *g, const char *dev, uint64_t bytes,
           struct deploy_fit *f)
{
  char *type = guestfs_vfs_type (g, dev);
  char a[32], b[32];
  int64_t min;
  int r = -1;

  if (type == NULL)
    return guest_error (g, dev);
  if (strncmp (type, "ext", 3) != 0) {
    error_set ("the target is smaller than the image and %s on %s cannot "
               "shrink%s: use a disk of at least the image's size", type,
               dev, strcmp (type, "xfs") == 0 ? " (xfs never shrinks)" : "");
    goto out;
  }
  if (guestfs_e2fsck (g, dev, GUESTFS_E2FSCK_CORRECT, 1, GUESTFS_E2FSCK_FORCEALL, 0, -1) == -1 ||
      (min = guestfs_vfs_minimum_size (g, dev)) == -1) {
    guest_error (g, dev);
    goto out;
  }
  if ((uint64_t) min + (uint64_t) min / 20 + 64 * MIB > bytes) {
    error_set ("target too small for the data: %s on %s needs at least %s "
               "(its data) plus room to boot, %s is available", type, dev,
               human ((uint64_t) min + (uint64_t) min / 20 + 64 * MIB, a,
                      sizeof a), human (bytes, b, sizeof b));
    goto out;
  }
  if (guestfs_resize2fs_size (g, dev, (int64_t) bytes) == -1) {
    guest_error (g, dev);
    goto out;
  }
  r = deploy_note (f, &f->d->layout, "%s on %s shrunk to %s", type, dev,
                   human (bytes, a, sizeof a));
 out:
  free (type);
  return r;
}

/* ---- swap, moved or made again --------------------------------------------- */

/* mkswap on dev with the UUID and label the swap had: fstab and resume=
 * name it by them. */
static int
remake_swap (guestfs_h *g, const char *dev, const char *label,
             const char *uuid)
{
  if (guestfs_mkswap_opts (g, dev, GUESTFS_MKSWAP_OPTS_LABEL,
                           label ? label : "", GUESTFS_MKSWAP_OPTS_UUID,
                           uuid ? uuid : "", -1) == -1)
    return guest_error (g, dev);
  return 0;
}

/* ---- a root in LVM onto a smaller disk ------------------------------------ */

/* A swap LV of the root's VG: removed while the PV shrinks, made again
 * after the root LV with the same name, size, UUID and label. */
struct swap_lv {
  char *dev, *name, *uuid, *label;
  uint64_t extents;
};

#define MAX_SWAP_LVS 8

struct vg_facts {
  char vg[256];
  uint64_t extent;                    /* bytes */
  uint64_t pe_start;                  /* bytes */
  struct swap_lv swap[MAX_SWAP_LVS];
  size_t n_swap;
};

static void
vg_facts_free (struct vg_facts *v)
{
  size_t i;

  for (i = 0; i < v->n_swap; i++) {
    free (v->swap[i].dev);
    free (v->swap[i].name);
    free (v->swap[i].uuid);
    free (v->swap[i].label);
  }
}

/* pvs_full's 32 UUID characters (not NUL-terminated) equal to pvuuid's
 * dashed spelling. */
static bool
same_uuid (const char raw[32], const char *dashed)
{
  size_t i = 0;

  for (; *dashed; dashed++) {
    if (*dashed == '-')
      continue;
    if (i == 32 || raw[i++] != *dashed)
      return false;
  }
  return i == 32;
}

/* The VG's extent size, the PV's first extent, and its other LVs, which
 * must all be swap (anything else would have to move).  The PV is found
 * in pvs_full by its UUID: the name LVM reports there may be any of the
 * device's aliases (a /dev/disk/by-id link), unlike pvs's. */
static int
read_vg (guestfs_h *g, const char *canon, const char *pvdev,
         struct vg_facts *v)
{
  struct guestfs_lvm_vg_list *vgs = NULL;
  struct guestfs_lvm_pv_list *pvs = NULL;
  char **lvs = NULL, other[256], *type = NULL, *uuid = NULL;
  const char *name;
  size_t i;
  int r = -1;

  if (!split_lv (canon, v->vg, sizeof v->vg, &name))
    return error_set ("'%s': not an LVM logical volume name", canon);
  if ((vgs = guestfs_vgs_full (g)) == NULL ||
      (pvs = guestfs_pvs_full (g)) == NULL || (lvs = guestfs_lvs (g)) == NULL ||
      (uuid = guestfs_pvuuid (g, pvdev)) == NULL) {
    guest_error (g, v->vg);
    goto out;
  }
  for (i = 0; i < vgs->len; i++)
    if (strcmp (vgs->val[i].vg_name, v->vg) == 0)
      v->extent = vgs->val[i].vg_extent_size;
  for (i = 0; i < pvs->len; i++)
    if (same_uuid (pvs->val[i].pv_uuid, uuid))
      v->pe_start = pvs->val[i].pe_start;
  if (v->extent == 0 || v->extent % MIB != 0) {
    error_set ("volume group %s: its extent size (%" PRIu64 " bytes) is "
               "not a whole number of MiB", v->vg, v->extent);
    goto out;
  }
  if (v->pe_start == 0) {
    error_set ("volume group %s: LVM does not list the first extent of "
               "%s (PV %s)", v->vg, pvdev, uuid);
    goto out;
  }
  for (i = 0; lvs[i]; i++) {
    struct swap_lv *sw;
    const char *oname;
    int64_t size;

    if (strcmp (lvs[i], canon) == 0 ||
        !split_lv (lvs[i], other, sizeof other, &oname) ||
        strcmp (other, v->vg) != 0)
      continue;
    free (type);
    if ((type = guestfs_vfs_type (g, lvs[i])) == NULL) {
      guest_error (g, lvs[i]);
      goto out;
    }
    if (strcmp (type, "swap") != 0) {
      error_set ("target too small: the root's volume group %s also holds "
                 "%s (%s), which would have to move; only a VG whose other "
                 "LVs are swap is shrunk", v->vg, lvs[i],
                 *type ? type : "unknown contents");
      goto out;
    }
    if (v->n_swap == MAX_SWAP_LVS) {
      error_set ("volume group %s: more than %d swap LVs", v->vg,
                 MAX_SWAP_LVS);
      goto out;
    }
    if ((size = guestfs_blockdev_getsize64 (g, lvs[i])) == -1) {
      guest_error (g, lvs[i]);
      goto out;
    }
    sw = &v->swap[v->n_swap++];
    sw->dev = xstrdup (lvs[i]);
    sw->name = xstrdup (oname);
    sw->uuid = guestfs_vfs_uuid (g, lvs[i]);
    sw->label = guestfs_vfs_label (g, lvs[i]);
    sw->extents = DIV_ROUND_UP ((uint64_t) size, v->extent);
  }
  r = 0;
 out:
  free (type);
  free (uuid);
  strv_free (lvs);
  if (vgs)
    guestfs_free_lvm_vg_list (vgs);
  if (pvs)
    guestfs_free_lvm_pv_list (pvs);
  return r;
}

/* The root LV's filesystem and the LV shrunk so that it and the VG's swap
 * LVs fill a PV of part_bytes; the swap LVs removed and made again after
 * it, so that no extent lies past the PV's new end; the PV shrunk. */
static int
shrink_lvm (guestfs_h *g, const char *lv, const char *pvdev,
            uint64_t part_bytes, struct deploy_fit *f)
{
  CLEANUP_FREE char *canon = guestfs_lvm_canonical_lv_name (g, lv);
  struct vg_facts v = { .n_swap = 0 };
  uint64_t usable, swap = 0, root;
  char a[32], b[32];
  size_t i;
  int r = -1;

  if (canon == NULL)
    return guest_error (g, lv);
  if (read_vg (g, canon, pvdev, &v) == -1)
    goto out;
  usable = part_bytes > v.pe_start ? (part_bytes - v.pe_start) / v.extent : 0;
  for (i = 0; i < v.n_swap; i++)
    swap += v.swap[i].extents;
  if (usable <= swap) {
    error_set ("target too small: the swap LVs of %s alone fill it", v.vg);
    goto out;
  }
  root = (usable - swap) * v.extent;
  if (shrink_fs (g, lv, root, f) == -1)
    goto out;
  if (guestfs_lvresize (g, lv, (int) (root / MIB)) == -1) {
    guest_error (g, lv);
    goto out;
  }
  for (i = 0; i < v.n_swap; i++)
    if (guestfs_lvremove (g, v.swap[i].dev) == -1) {
      guest_error (g, v.swap[i].dev);
      goto out;
    }
  if (guestfs_pvresize_size (g, pvdev, (int64_t) part_bytes) == -1) {
    guest_error (g, pvdev);
    goto out;
  }
  for (i = 0; i < v.n_swap; i++) {
    struct swap_lv *sw = &v.swap[i];
    if (guestfs_lvcreate (g, sw->name, v.vg,
                          (int) (sw->extents * v.extent / MIB)) == -1) {
      guest_error (g, sw->dev);
      goto out;
    }
    if (remake_swap (g, sw->dev, sw->label, sw->uuid) == -1)
      goto out;
    if (deploy_note (f, &f->d->layout, "swap LV %s made again after the "
                     "root LV, same size, UUID and label", sw->dev) == -1)
      goto out;
  }
  r = deploy_note (f, &f->d->layout, "LVM: LV %s shrunk to %s, PV %s to %s",
                   lv, human (root, a, sizeof a), pvdev,
                   human (part_bytes, b, sizeof b));
 out:
  vg_facts_free (&v);
  return r;
}

/* The root partition's end written into the table by hand: parted would
 * delete and re-add it, which the kernel refuses while the VG holds it
 * (and lvm2's udev rules re-activate a VG as soon as it reappears).
 * Moving the swap partitions afterwards makes parted tell the kernel,
 * which lets a partition in use shrink in place. */
static int
set_root_end (guestfs_h *g, const struct layout *l)
{
  int64_t disk = guestfs_blockdev_getsize64 (g, DISK);
  size_t len = 0;
  char *head;
  int r;

  if (disk == -1)
    return guest_error (g, DISK);
  head = guestfs_pread_device (g, DISK, (int) MIN ((uint64_t) disk, 65536),
                               0, &len);
  if (head == NULL)
    return guest_error (g, DISK);
  r = parttable_set_end ((uint8_t *) head, len, SECTOR, (uint64_t) disk,
                         (unsigned) l->root_num, l->new_end_s);
  if (r == 0 && guestfs_pwrite_device (g, DISK, head, len, 0) != (int) len)
    r = guest_error (g, DISK);
  free (head);
  return r;
}

/* The report's lines for the root's partition and a moved swap, the same
 * whichever way the table was changed. */
static int
note_root (struct deploy_fit *f, const struct layout *l)
{
  uint64_t now = (l->root_end_s - l->root_start_s + 1) * SECTOR;
  uint64_t want = (l->new_end_s - l->root_start_s + 1) * SECTOR;
  char a[32], b[32];

  return deploy_note (f, &f->d->layout, "partition %d %s from %s to %s",
                      l->root_num, want < now ? "shrunk" : "grown",
                      human (now, a, sizeof a), human (want, b, sizeof b));
}

static int
note_moved (struct deploy_fit *f, const struct moved *m)
{
  char a[32];

  return deploy_note (f, &f->d->layout, "swap partition %d (%s) moved to "
                      "the end of the disk, same UUID and label", m->num,
                      human (m->size_s * SECTOR, a, sizeof a));
}

/* ---- the table fitted on the host ----------------------------------------- */

/* The common case — a primary MBR or GPT partition holding the root
 * outside LVM, growing, only primary swap partitions after it — needs no
 * parted run per change (~0.8 s each under TCG): the table is read from
 * the source (the overlay's table is the source's until now), fitted on
 * the host (parttable.h), written in one go with the GPT's backup at the
 * disk's end, and re-read by the kernel (nothing on the disk is open
 * after inspection).  Returns 1 where it does not apply (parted then). */
static int
read_layout_host (guestfs_h *g, const struct deploy_fit *f, int root_num,
                  struct layout *l)
{
  struct parttable_disk disk = { .img = f->src };
  struct parttable pt;
  const struct parttable_part *root = NULL;
  size_t i;
  int r;

  if (f->src == NULL || f->disk_size <= f->image_size)
    return 1;
  if ((r = parttable_read_gpt (&disk, &pt)) == 1)
    r = parttable_read_mbr (&disk, &pt);
  if (r != 0 || pt.sector_size != SECTOR) {
    parttable_free (&pt);
    return 1;                   /* parted reads it (or says why not) */
  }
  for (i = 0; i < pt.parts.len; i++) {
    if (pt.kind == PARTTABLE_MBR &&
        parttable_mbr_extended (pt.parts.ptr[i].mbr_type))
      goto not_here;            /* logical partitions: parted */
    if (pt.parts.ptr[i].number == (unsigned) root_num)
      root = &pt.parts.ptr[i];
  }
  if (root == NULL)
    goto not_here;
  if ((l->parttype = xstrdup (pt.kind == PARTTABLE_GPT ? "gpt" : "msdos"))
      == NULL)
    goto fail;
  l->root_num = root_num;
  l->root_start_s = root->offset / SECTOR;
  l->root_end_s = (root->offset + root->length) / SECTOR - 1;
  for (i = 0; i < pt.parts.len; i++) {
    const struct parttable_part *p = &pt.parts.ptr[i];
    struct moved *m = &l->mv[l->n_mv];
    if (p->offset <= root->offset)
      continue;
    if (l->n_mv == MAX_MOVED) {
      error_set ("more than %d partitions follow the root", MAX_MOVED);
      goto fail;
    }
    memset (m, 0, sizeof *m);
    m->num = (int) p->number;
    m->size_s = p->length / MIB * MIB_S;
    m->mbr_id = p->mbr_type;
    l->n_mv++;
    if ((r = swap_facts_host (f->src, p->offset, p->length, m)) == -1 ||
        (r == 1 && swap_facts (g, m) == -1))
      goto fail;
  }
  parttable_free (&pt);
  return 0;
 not_here:
  parttable_free (&pt);
  return 1;
 fail:
  parttable_free (&pt);
  return -1;
}

/* The planned layout written over the overlay's table, the kernel told;
 * on a failed write the table as it was put back.  1 when the table
 * cannot be fitted here (an entry array past the bytes held, ...):
 * nothing was written, and parted tries. */
static int
write_table_host (guestfs_h *g, const struct deploy_fit *f,
                  const struct layout *l)
{
  const size_t head_len = 64 * 1024;
  struct parttable_disk disk = { .img = f->src };
  bool gpt = strcmp (l->parttype, "gpt") == 0;
  uint8_t *head = NULL, *orig = NULL, *tail = NULL, *zeros = NULL;
  size_t tail_len = 0, len, i;
  uint64_t tail_off = 0;
  int r = -1;

  if (f->src->size < head_len)
    return 1;
  if ((head = malloc (head_len)) == NULL || (orig = malloc (head_len)) == NULL)
    goto out_errno;
  if (image_pread (f->src, orig, head_len, 0) == -1)
    goto out;
  memcpy (head, orig, head_len);
  r = 1;
  if (gpt) {
    if (parttable_gpt_fit (&disk, head, head_len, f->disk_size, &tail,
                           &tail_len, &tail_off) != 0)
      goto not_here;
    free (tail);
    tail = NULL;
  }
  for (i = l->n_mv; i-- > 0; )            /* the last one first */
    if (parttable_set_range (head, head_len, SECTOR, f->disk_size,
                             (unsigned) l->mv[i].num, l->mv[i].start_s,
                             l->mv[i].end_s) == -1)
      goto not_here;
  if (parttable_set_end (head, head_len, SECTOR, f->disk_size,
                         (unsigned) l->root_num, l->new_end_s) == -1 ||
      (gpt && parttable_gpt_backup (head, head_len, SECTOR, f->disk_size,
                                    &tail, &tail_len, &tail_off) != 0))
    goto not_here;
  r = -1;
  for (len = head_len; len > 0 && head[len - 1] == orig[len - 1]; len--)
    ;
  if (guestfs_pwrite_device (g, DISK, (char *) head, len, 0) != (int) len ||
      (tail && guestfs_pwrite_device (g, DISK, (char *) tail, tail_len,
                                      (int64_t) tail_off) != (int) tail_len) ||
      guestfs_blockdev_rereadpt (g, DISK) == -1) {
    guest_error (g, "writing the fitted partition table");
    /* put back what was: the old table, no backup GPT at the end */
    if ((zeros = calloc (1, tail_len ? tail_len : 1)) == NULL ||
        guestfs_pwrite_device (g, DISK, (char *) orig, len, 0) != (int) len ||
        (tail && guestfs_pwrite_device (g, DISK, (char *) zeros, tail_len,
                                        (int64_t) tail_off) != (int) tail_len)
        || guestfs_blockdev_rereadpt (g, DISK) == -1)
      error_set ("%s; and the old table could not be put back (%s)",
                 "writing the fitted partition table failed",
                 guestfs_last_error (g) ? guestfs_last_error (g) : "?");
    goto out;
  }
  r = 0;
  goto out;
 not_here:
  error_clear ();
  goto out;
 out_errno:
  error_errno ("the partition table");
 out:
  free (head);
  free (orig);
  free (tail);
  free (zeros);
  return r;
}

/* Grow the root's partition through the host-fitted table, then its
 * filesystem; the swap partitions made again where they now lie.  1
 * where the fast way does not apply. */
static int
fit_fast (guestfs_h *g, const char *fsdev, int num, struct deploy_fit *f)
{
  struct layout l = { .parttype = NULL };
  char dev[64];
  size_t i;
  int r;

  if ((r = read_layout_host (g, f, num, &l)) != 0)
    goto out;
  if ((r = plan_layout (f, &l)) == -1)
    goto out;
  if (l.new_end_s < l.root_end_s) {
    r = 1;                      /* it would shrink: parted */
    goto out;
  }
  if ((r = write_table_host (g, f, &l)) != 0)
    goto out;                   /* 1: parted */
  r = -1;
  if (note_root (f, &l) == -1 || grow_fs (g, fsdev, f) == -1)
    goto out;
  for (i = 0; i < l.n_mv; i++) {
    snprintf (dev, sizeof dev, DISK "%d", l.mv[i].num);
    if (remake_swap (g, dev, l.mv[i].label, l.mv[i].uuid) == -1 ||
        note_moved (f, &l.mv[i]) == -1)
      goto out;
  }
  r = 0;
 out:
  layout_free (&l);
  return r;
}

/* ---- doing it -------------------------------------------------------------- */

static int
delete_moved (guestfs_h *g, const struct layout *l)
{
  bool gone[MAX_MOVED] = { false };
  size_t i, j, best;

  /* Highest number first: parted renumbers the logical partitions after
   * a deleted one, and an extended partition goes after its logicals. */
  for (i = 0; i < l->n_mv; i++) {
    best = SIZE_MAX;
    for (j = 0; j < l->n_mv; j++)
      if (!gone[j] && (best == SIZE_MAX || l->mv[j].num > l->mv[best].num))
        best = j;
    gone[best] = true;
    if (guestfs_part_del (g, DISK, l->mv[best].num) == -1)
      return guest_error (g, "deleting a partition");
  }
  return 0;
}

static int
recreate_one (guestfs_h *g, const struct moved *m, bool gpt)
{
  char dev[64];

  if (guestfs_part_add (g, DISK, m->extended ? "e" : m->logical ? "l" : "p",
                        (int64_t) m->start_s, (int64_t) m->end_s) == -1)
    return guest_error (g, "adding a partition");
  if (m->extended)
    return 0;
  if (gpt) {
    if ((m->gpt_type &&
         guestfs_part_set_gpt_type (g, DISK, m->num, m->gpt_type) == -1) ||
        (m->gpt_guid && *m->gpt_guid &&
         guestfs_part_set_gpt_guid (g, DISK, m->num, m->gpt_guid) == -1) ||
        (m->name && *m->name &&
         guestfs_part_set_name (g, DISK, m->num, m->name) == -1))
      return guest_error (g, "setting a partition's type");
  }
  else if (guestfs_part_set_mbr_id (g, DISK, m->num, m->mbr_id) == -1)
    return guest_error (g, "setting a partition's type");
  snprintf (dev, sizeof dev, DISK "%d", m->num);
  return remake_swap (g, dev, m->label, m->uuid);
}

static int
recreate_moved (guestfs_h *g, const struct layout *l, struct deploy_fit *f)
{
  bool gpt = strcmp (l->parttype, "gpt") == 0;
  size_t i;

  /* the extended partition before the logical ones inside it */
  for (i = 0; i < l->n_mv; i++)
    if (l->mv[i].extended && recreate_one (g, &l->mv[i], gpt) == -1)
      return -1;
  for (i = 0; i < l->n_mv; i++) {
    if (l->mv[i].extended)
      continue;
    if (recreate_one (g, &l->mv[i], gpt) == -1 ||
        note_moved (f, &l->mv[i]) == -1)
      return -1;
  }
  return 0;
}

/* parted asks before it shrinks a partition, and libguestfs runs it
 * without a terminal: the entry is deleted and added again at the same
 * start instead (data untouched), its type, GUID, name, attributes or
 * boot flag restored. */
static int
shrink_part (guestfs_h *g, const struct layout *l)
{
  bool gpt = strcmp (l->parttype, "gpt") == 0;
  int n = l->root_num, boot = 0, id = 0, r = -1;
  char *type = NULL, *guid = NULL, *name = NULL;
  int64_t attrs = 0;

  if (gpt) {
    if ((type = guestfs_part_get_gpt_type (g, DISK, n)) == NULL ||
        (guid = guestfs_part_get_gpt_guid (g, DISK, n)) == NULL ||
        (name = guestfs_part_get_name (g, DISK, n)) == NULL ||
        (attrs = guestfs_part_get_gpt_attributes (g, DISK, n)) == -1)
      goto err;
  }
  else if ((boot = guestfs_part_get_bootable (g, DISK, n)) == -1 ||
           (id = guestfs_part_get_mbr_id (g, DISK, n)) == -1)
    goto err;
  if (guestfs_part_del (g, DISK, n) == -1 ||
      guestfs_part_add (g, DISK, n > 4 && !gpt ? "l" : "p",
                        (int64_t) l->root_start_s,
                        (int64_t) l->new_end_s) == -1)
    goto err;
  if (gpt ? guestfs_part_set_gpt_type (g, DISK, n, type) == -1 ||
      guestfs_part_set_gpt_guid (g, DISK, n, guid) == -1 ||
      (*name && guestfs_part_set_name (g, DISK, n, name) == -1) ||
      guestfs_part_set_gpt_attributes (g, DISK, n, attrs) == -1
      : guestfs_part_set_mbr_id (g, DISK, n, id) == -1 ||
      guestfs_part_set_bootable (g, DISK, n, boot) == -1)
    goto err;
  r = 0;
  goto out;
 err:
  guest_error (g, "shrinking the root's partition");
 out:
  free (type);
  free (guid);
  free (name);
  return r;
}

/* The holder of the root (partition or PV) gets new_end; then what it
 * holds (the PV, the LV, the filesystem) follows. */
static int
resize_root (guestfs_h *g, const char *fsdev, const char *lv,
             const char *pvdev, struct layout *l, struct deploy_fit *f)
{
  uint64_t now = (l->root_end_s - l->root_start_s + 1) * SECTOR;
  uint64_t want = (l->new_end_s - l->root_start_s + 1) * SECTOR;

  if (want < now && lv) {
    if (strcmp (l->parttype, "gpt") != 0 && l->root_num > 4)
      return error_set ("target too small: the root's PV is logical "
                        "partition %d, and only a primary or GPT partition "
                        "holding LVM is shrunk", l->root_num);
    if (shrink_lvm (g, lv, pvdev, want, f) == -1 ||
        set_root_end (g, l) == -1)
      return -1;
  }
  else if (want < now) {
    if (shrink_fs (g, fsdev, want, f) == -1 || shrink_part (g, l) == -1)
      return -1;
  }
  else if (guestfs_part_resize (g, DISK, l->root_num,
                                (int64_t) l->new_end_s) == -1)
    return guest_error (g, DISK);
  if (note_root (f, l) == -1)
    return -1;
  if (want < now)
    return 0;
  if (lv) {
    if (guestfs_pvresize (g, pvdev) == -1 ||
        guestfs_lvresize_free (g, lv, 100) == -1)
      return guest_error (g, lv);
    if (deploy_note (f, &f->d->layout, "LVM: PV %s and LV %s grown", pvdev,
                     lv) == -1)
      return -1;
  }
  return grow_fs (g, fsdev, f);
}

/* The root's device, its LV (or NULL) and the partition holding it. */
/* "/dev/sdXN": a partition as libguestfs names them, never an LV. */
static bool
is_partition_name (const char *dev)
{
  size_t n;

  if (strncmp (dev, "/dev/sd", 7) != 0)
    return false;
  n = 7 + strspn (dev + 7, "abcdefghijklmnopqrstuvwxyz");
  return n > 7 && dev[n] >= '1' && dev[n] <= '9' &&
    dev[n + strspn (dev + n, "0123456789")] == '\0';
}

static int
root_holder (guestfs_h *g, const char *fsdev, char **lv, char **part)
{
  int r = is_partition_name (fsdev) ? 0 : guestfs_is_lv (g, fsdev);

  *lv = *part = NULL;
  if (r == -1)
    return guest_error (g, fsdev);
  if (r == 1) {
    if ((*lv = xstrdup (fsdev)) == NULL || (*part = lv_pv (g, fsdev)) == NULL)
      return -1;
    return 0;
  }
  return (*part = xstrdup (fsdev)) ? 0 : -1;
}

static int
fit_partition (guestfs_h *g, const char *fsdev, struct deploy_fit *f)
{
  struct layout l = { .parttype = NULL };
  char *lv = NULL, *part = NULL, *disk = NULL;
  int num, r = -1;

  if (root_holder (g, fsdev, &lv, &part) == -1)
    goto out;
  if ((disk = guestfs_part_to_dev (g, part)) == NULL ||
      strcmp (disk, DISK) != 0 ||
      (num = guestfs_part_to_partnum (g, part)) == -1) {
    /* a filesystem (or PV) on the whole disk, no partition table */
    error_set ("%s is not a partition of the disk: growing a whole-disk "
               "filesystem is not supported yet", part);
    goto out;
  }
  if (lv == NULL && (r = fit_fast (g, fsdev, num, f)) != 1)
    goto out;
  r = -1;
  if (read_layout (g, num, &l) == -1 || plan_layout (f, &l) == -1)
    goto out;
  if (strcmp (l.parttype, "gpt") == 0 && f->disk_size > f->image_size &&
      guestfs_part_expand_gpt (g, DISK) == -1) {
    guest_error (g, DISK);
    goto out;
  }
  if (delete_moved (g, &l) == 0 &&
      resize_root (g, fsdev, lv, part, &l, f) == 0 &&
      recreate_moved (g, &l, f) == 0)
    r = 0;
 out:
  layout_free (&l);
  free (lv);
  free (part);
  free (disk);
  return r;
}

int
deploy_fit_disk (guestfs_h *g, const struct guest_root *root,
                 struct deploy_fit *f)
{
  const char *fsdev = f->o->root ? f->o->root : root ? root->device : NULL;
  bool smaller = f->disk_size < f->image_size;

  if (f->o->no_grow) {
    if (smaller)
      return error_set ("target too small: %" PRIu64 " bytes for an image of "
                        "%" PRIu64 " with --no-grow", f->disk_size,
                        f->image_size);
    return deploy_note (f, &f->d->layout, "layout kept (--no-grow)");
  }
  if (fsdev == NULL) {
    if (smaller)
      return error_set ("target too small, and no root filesystem was found "
                        "to shrink");
    return deploy_note (f, &f->d->layout, "no root filesystem found: "
                        "layout kept");
  }
  if (f->disk_size - f->image_size < MIB && !smaller)
    return deploy_note (f, &f->d->layout, "the disk is the image's size: "
                        "layout kept");
  if (fit_partition (g, fsdev, f) == -1) {
    if (smaller)
      return -1;
    /* growing is a bonus: a layout that cannot grow still deploys */
    return deploy_note (f, &f->d->layout, "layout kept: %s", error_get ());
  }
  return 0;
}

/* ---- the bootloader ------------------------------------------------------- */

static bool
has (guestfs_h *g, const char *path)
{
  return guestfs_exists (g, path) > 0;
}

/* The distribution's loader (shim first) and the ESP's partition number,
 * for a firmware boot entry where the host can write one. */
static int
efi_loader (guestfs_h *g, const struct guest_root *root,
            struct deploy_fit *f)
{
  static const char *const loaders[] = { "shimx64.efi", "grubx64.efi" };
  char **dirs = guestfs_ls (g, "/boot/efi/EFI"), path[512];
  size_t i, j, k;

  if (dirs == NULL)
    return guest_error (g, "/boot/efi/EFI");
  for (j = 0; j < 2 && f->res->efi_loader == NULL; j++)
    for (i = 0; dirs[i] && f->res->efi_loader == NULL; i++) {
      if (strcasecmp (dirs[i], "BOOT") == 0)
        continue;
      snprintf (path, sizeof path, "/boot/efi/EFI/%s/%s", dirs[i],
                loaders[j]);
      if (guestfs_is_file (g, path) > 0)
        f->res->efi_loader = xasprintf ("\\EFI\\%s\\%s", dirs[i],
                                        loaders[j]);
    }
  strv_free (dirs);
  for (k = 0; k < root->mounts.len; k++)
    if (strcmp (root->mounts.ptr[k].mountpoint, "/boot/efi") == 0)
      f->res->esp_part = guestfs_part_to_partnum (g,
                                                  root->mounts.ptr[k].device);
  if (f->res->esp_part <= 0)
    f->res->esp_part = 0;
  return 0;
}

/* GRUB for i386-pc, Debian's names and the RHEL family's. */
struct grub {
  const char *install, *setup, *dir;
};

static const struct grub grubs[] = {
  { "grub-install", "grub-bios-setup", "/boot/grub/i386-pc" },
  { "grub2-install", "grub2-bios-setup", "/boot/grub2/i386-pc" },
};

static bool
has_in (guestfs_h *g, const char *dir, const char *name)
{
  char path[256];

  snprintf (path, sizeof path, "%s/%s", dir, name);
  return has (g, path);
}

/* The command writing GRUB's boot sector and the core image embedded
 * after it: from the guest's own core.img and boot.img (what its last
 * install made, matching the modules beside them) by the setup tool —
 * the installer's last step, without rebuilding and copying every module
 * again (~1.3 s instead of ~3.5 s under TCG) — and the installer itself
 * where those files are missing or setup fails. */
static char *
grub_command (guestfs_h *g, const struct grub *gr)
{
  if (has_in (g, "/usr/sbin", gr->setup) && has_in (g, gr->dir, "core.img")
      && has_in (g, gr->dir, "boot.img"))
    return xasprintf (DISK_SH_PICK "%s -d %s \"$d\" 1>&2 || "
                      "%s --target=i386-pc \"$d\" 1>&2", gr->setup, gr->dir,
                      gr->install);
  return xasprintf (DISK_SH_PICK "%s --target=i386-pc \"$d\" 1>&2",
                    gr->install);
}

int
deploy_fit_boot (guestfs_h *g, const struct guest_root *root,
                 struct deploy_fit *f)
{
  const struct grub *gr = NULL;
  char *install;
  size_t i;
  int r;

  if (root == NULL || strcmp (f->o->convert, "none") == 0)
    return 0;
  if (strcmp (root->type, "linux") != 0)
    return deploy_note (f, &f->res->boot, "%s: its boot manager is left as "
                        "it is", root->type);
  if (has (g, "/boot/efi/EFI")) {
    if (efi_loader (g, root, f) == -1)
      return -1;
    if (has (g, "/boot/efi/EFI/BOOT/BOOTX64.EFI"))
      return deploy_note (f, &f->res->boot, "UEFI: the fallback loader "
                          "\\EFI\\BOOT\\BOOTX64.EFI boots the disk");
    return deploy_note (f, &f->res->boot, "UEFI: no fallback loader: the "
                        "firmware needs a boot entry");
  }
  for (i = 0; gr == NULL && i < sizeof grubs / sizeof grubs[0]; i++)
    if (has_in (g, "/usr/sbin", grubs[i].install) &&
        has (g, "/usr/lib/grub/i386-pc"))
      gr = &grubs[i];
  /* (its output to stderr: libguestfs puts a failed command's stderr in
   * the error, and drops its stdout) */
  if (gr == NULL)
    return deploy_note (f, &f->res->boot, "BIOS: no GRUB for i386-pc in the "
                        "guest: its boot sector is the image's");
  if ((install = grub_command (g, gr)) == NULL)
    return -1;
  r = guest_sh (g, "grub-install", install);
  free (install);
  if (r == -1)
    return -1;
  return deploy_note (f, &f->res->boot, "BIOS: GRUB reinstalled to the "
                      "disk's boot sector");
}
