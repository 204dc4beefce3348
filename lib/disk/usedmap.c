/* usedmap.c: build the used-range map of a source disk (usedmap.h). */
#include "lib/common/compat.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <blkid/blkid.h>
#include <parted/parted.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/common/checked.h"
#include "lib/common/error.h"
#include "lib/common/fullrw.h"
#include "lib/image/copy.h"
#include "lib/disk/parttable.h"
#include "lib/disk/usedmap.h"

#define MiB (1024 * 1024)
#define MAX_TABLE_PASSES 64   /* EBR chains are followed this deep */

/* A sparse file the size of the source holding only the sectors a
 * partition table lives in.  libparted opens what it is given read-write,
 * so it is given this copy, never the source. */
struct shadow {
  char path[4096];
  int fd;
  struct image *src;
  unsigned retries;
};

static int
shadow_copy (struct shadow *sh, uint64_t off, uint64_t len)
{
  unsigned char *buf;
  int r;

  if (off >= sh->src->size)
    return 0;
  len = MIN (len, sh->src->size - off);
  buf = malloc (len ? len : 1);
  if (buf == NULL)
    return error_errno ("malloc");
  r = image_pread_retry (sh->src, buf, len, off, sh->retries);
  if (r == -1 && is_media_error (errno))
    r = 0;                    /* unreadable table sectors: leave zeros */
  else if (r == 0)
    r = full_pwrite (sh->fd, buf, len, off, sh->path);
  free (buf);
  return r;
}

/* The sector at off of the shadow, as an MBR or EBR with its signature;
 * false if it has none or cannot be read. */
static bool
shadow_read_mbr (struct shadow *sh, uint64_t off, struct parttable_mbr *m)
{
  return full_pread (sh->fd, m, sizeof *m, off, sh->path) == 0 &&
    le16toh (m->signature) == PARTTABLE_MBR_SIGNATURE;
}

/* libparted refuses a whole MBR table whose first EBR it cannot read, so
 * the shadow gets each extended partition's EBR chain before libparted
 * looks: every EBR (1 MiB from it on, the start of its logical partition
 * included) in chain order.  A chain pointing backwards, outside its
 * extended partition, or longer than MAX_TABLE_PASSES just stops; what
 * libparted then makes of it decides. */
static int
shadow_copy_ebrs (struct shadow *sh)
{
  struct parttable_mbr mbr, ebr;
  unsigned slot, n;

  if (!shadow_read_mbr (sh, 0, &mbr))
    return 0;
  for (slot = 0; slot < 4; slot++) {
    const struct parttable_mbr_entry *e = &mbr.entries[slot];
    uint64_t ext = le32toh (e->first_lba), len = le32toh (e->sectors);
    uint64_t at = ext, next;

    if (!parttable_mbr_extended (e->type) || ext == 0)
      continue;
    for (n = 0; n < MAX_TABLE_PASSES; n++) {
      if (at * 512 >= sh->src->size || shadow_copy (sh, at * 512, MiB) == -1)
        return at * 512 >= sh->src->size ? 0 : -1;
      if (!shadow_read_mbr (sh, at * 512, &ebr) ||
          !parttable_mbr_extended (ebr.entries[1].type))
        break;
      next = ext + le32toh (ebr.entries[1].first_lba);
      if (next <= at || next >= ext + len)
        break;
      at = next;
    }
  }
  return 0;
}

static int
shadow_open (struct shadow *sh, struct image *src)
{
  const char *tmpdir = getenv ("TMPDIR");

  if (tmpdir == NULL || *tmpdir == '\0' ||
      strlen (tmpdir) > sizeof sh->path - 32)
    tmpdir = "/tmp";
  snprintf (sh->path, sizeof sh->path, "%s/ferry-ptable-XXXXXX", tmpdir);
  sh->src = src;
  sh->fd = mkstemp (sh->path);
  if (sh->fd == -1)
    return error_errno ("'%s': create", sh->path);
  if (ftruncate (sh->fd, (off_t) src->size) == -1)
    return error_errno ("'%s': truncate", sh->path);
  /* MBR, GPT header and entries, and the GPT backup at the end. */
  if (shadow_copy (sh, 0, MiB) == -1 ||
      (src->size > MiB && shadow_copy (sh, src->size - MiB, MiB) == -1))
    return -1;
  return shadow_copy_ebrs (sh);
}

static void
shadow_close (struct shadow *sh)
{
  if (sh->fd >= 0) {
    close (sh->fd);
    unlink (sh->path);
  }
  sh->fd = -1;
}

/* libparted prints exceptions on its own; make it quiet and let us decide. */
static PedExceptionOption
quiet_handler (PedException *ex)
{
  (void) ex;
  return PED_EXCEPTION_CANCEL;
}

/* Pull in the sectors around extended and logical partitions so that the
 * next pass can follow the EBR chain.  Returns the partition count. */
static int
shadow_follow_ebrs (struct shadow *sh, PedDisk *disk, int *count)
{
  PedPartition *p;
  uint64_t ss = (uint64_t) disk->dev->sector_size;

  *count = 0;
  for (p = ped_disk_next_partition (disk, NULL); p;
       p = ped_disk_next_partition (disk, p)) {
    uint64_t start = (uint64_t) p->geom.start * ss;
    uint64_t end = ((uint64_t) p->geom.end + 1) * ss;

    if (p->num <= 0)
      continue;
    (*count)++;
    if (p->type & PED_PARTITION_EXTENDED) {
      if (shadow_copy (sh, start, MiB) == -1)
        return -1;
    }
    else if (p->type & PED_PARTITION_LOGICAL) {
      if (shadow_copy (sh, start > MiB ? start - MiB : 0, MiB) == -1 ||
          shadow_copy (sh, end, MiB) == -1)
        return -1;
    }
  }
  return 0;
}

static int
add_part (struct usedmap *map, int num, uint64_t off, uint64_t len)
{
  return usedmap_part_vector_append (&map->parts, (struct usedmap_part) {
      .number = num, .offset = off, .length = len, .policy = USEDMAP_ALL });
}

static int
collect_parts (PedDisk *disk, struct usedmap *map)
{
  PedPartition *p;
  uint64_t ss = (uint64_t) disk->dev->sector_size;

  snprintf (map->table, sizeof map->table, "%s", disk->type->name);
  for (p = ped_disk_next_partition (disk, NULL); p;
       p = ped_disk_next_partition (disk, p)) {
    if (p->num <= 0 || (p->type & PED_PARTITION_EXTENDED))
      continue;
    if (add_part (map, strcmp (disk->type->name, "loop") == 0 ? 0 : p->num,
                  (uint64_t) p->geom.start * ss,
                  (uint64_t) p->geom.length * ss) == -1)
      return -1;
  }
  return 0;
}

/* Read the partition table, following EBR chains until they stop growing. */
static int
read_table (struct image *src, unsigned retries, struct usedmap *map)
{
  struct shadow sh = { .fd = -1, .retries = retries };
  PedDevice *dev = NULL;
  PedDisk *disk = NULL;
  int pass, count, last = -1, r = -1;

  ped_exception_set_handler (quiet_handler);
  if (shadow_open (&sh, src) == -1)
    goto out;
  for (pass = 0; pass < MAX_TABLE_PASSES; pass++) {
    if (disk)
      ped_disk_destroy (disk);
    if (dev)
      ped_device_destroy (dev);
    disk = NULL;
    dev = ped_device_get (sh.path);
    if (dev == NULL || ped_disk_probe (dev) == NULL ||
        (disk = ped_disk_new (dev)) == NULL) {
      snprintf (map->table, sizeof map->table, "none");
      r = 0;
      goto out;
    }
    if (shadow_follow_ebrs (&sh, disk, &count) == -1)
      goto out;
    if (count == last)
      break;
    last = count;
  }
  r = collect_parts (disk, map);
 out:
  if (disk)
    ped_disk_destroy (disk);
  if (dev)
    ped_device_destroy (dev);
  shadow_close (&sh);
  return r;
}

/* The swap header's page size (4/8/16/64 KiB, by where its signature
 * lies), or 0 if none. */
static uint64_t
swap_header_size (struct image *src, unsigned retries, uint64_t offset,
                  uint64_t length)
{
  static const uint64_t pages[] = { 4096, 8192, 16384, 65536 };
  char magic[10];
  size_t i;

  for (i = 0; i < sizeof pages / sizeof pages[0]; i++) {
    if (length < pages[i] ||
        image_pread_retry (src, magic, 10, offset + pages[i] - 10,
                           retries) == -1)
      continue;
    if (memcmp (magic, "SWAPSPACE2", 10) == 0 ||
        memcmp (magic, "SWAP-SPACE", 10) == 0)
      return pages[i];
  }
  return 0;
}

int
swapmap_used (struct image *src, uint64_t offset, uint64_t length,
              unsigned retries, extent_vector *keep)
{
  uint64_t page = swap_header_size (src, retries, offset, length);

  if (page == 0)
    return 1;
  return extent_add (keep, offset, page, EXTENT_DATA) == -1 ? -1 : 0;
}

/* Total bytes in the map (ranges merge, so count totals, not entries). */
static uint64_t
keep_bytes (const extent_vector *keep)
{
  uint64_t n = 0;
  size_t i;

  for (i = 0; i < keep->len; i++)
    n += keep->ptr[i].length;
  return n;
}

/* What libblkid calls a region: its TYPE, "" if nothing (or several
 * contradicting signatures: then nothing is trusted).  libblkid reads a
 * file descriptor, and a source may be qcow2, VHD or NBD: so it is given a
 * sparse memfd the size of the region holding only its first and last
 * MiB, where every superblock it probes for lives (xfs, ext, btrfs at
 * 64 KiB, FAT, exFAT, NTFS, swap's last-page signature, LVM's label in
 * sectors 0-3). */
#define PROBE_HEAD MiB
#define PROBE_TAIL MiB

/* [off, off+len) of the source into the probe's memfd at dst, in 4 KiB
 * pieces when the whole read fails (a dying disk): what stays unreadable
 * reads as zeros there, so a bad sector near a superblock does not hide
 * the filesystem (its map then decides).  buf holds len bytes.  -1 only
 * when the memfd cannot be written. */
static int
probe_copy (struct shadow *sh, unsigned char *buf, uint64_t off,
            uint64_t len, uint64_t dst)
{
  uint64_t i, n;

  memset (buf, 0, len);
  if (image_pread_retry (sh->src, buf, len, off, sh->retries) == -1)
    for (i = 0; i < len; i += n) {
      n = MIN (len - i, (uint64_t) 4096);
      if (image_pread_retry (sh->src, buf + i, n, off + i, sh->retries) == -1)
        memset (buf + i, 0, n);
    }
  error_clear ();
  return full_pwrite (sh->fd, buf, len, dst, sh->path);
}

static int
probe_type (struct image *src, unsigned retries, uint64_t offset,
            uint64_t length, char *type, size_t type_size)
{
  struct shadow sh = { .fd = -1, .src = src, .retries = retries };
  unsigned char *buf = NULL, boot[512] = { 0 };
  blkid_probe pr = NULL;
  const char *value;
  uint64_t chunk;
  int r = -1;

  type[0] = '\0';
  snprintf (sh.path, sizeof sh.path, "memfd:ferry-probe");
  sh.fd = memfd_create ("ferry-probe", MFD_CLOEXEC);
  if (sh.fd == -1 || ftruncate (sh.fd, (off_t) length) == -1) {
    r = 0;                    /* no memfd: identify nothing, copy all */
    goto out;
  }
  chunk = MIN (length, (uint64_t) PROBE_HEAD);
  if ((buf = malloc (PROBE_HEAD)) == NULL) {
    error_errno ("malloc");
    goto out;
  }
  if (probe_copy (&sh, buf, offset, chunk, 0) == -1)
    goto out;
  memcpy (boot, buf, MIN (chunk, sizeof boot));
  if (length > PROBE_HEAD) {
    uint64_t tail = MIN (length - PROBE_HEAD, (uint64_t) PROBE_TAIL);

    if (probe_copy (&sh, buf, offset + length - tail, tail,
                    length - tail) == -1)
      goto out;
  }
  /* NTFS: libblkid also reads the $MFT's first records, which lie
   * anywhere: bring in the 64 KiB there (its offset is bounded). */
  if (memcmp (boot, "\xeb\x52\x90NTFS    ", 11) == 0) {
    uint64_t ss = (uint64_t) boot[0x0b] | (uint64_t) boot[0x0c] << 8;
    uint64_t spc = boot[0x0d], lcn = 0, mft;
    int k;

    for (k = 7; k >= 0; k--)
      lcn = lcn << 8 | boot[0x30 + k];
    /* (spc > 0x80 means 2^(256-spc) sectors: huge clusters, left out.) */
    if (ss && spc && spc <= 0x80 && lcn < length / ss / spc) {
      mft = lcn * ss * spc;
      chunk = MIN (length - mft, (uint64_t) 65536);
      if (probe_copy (&sh, buf, offset + mft, chunk, mft) == -1)
        goto out;
    }
  }
  r = 0;
  pr = blkid_new_probe ();
  if (pr == NULL || blkid_probe_set_device (pr, sh.fd, 0, 0) != 0)
    goto out;
  blkid_probe_enable_superblocks (pr, 1);
  blkid_probe_set_superblocks_flags (pr, BLKID_SUBLKS_TYPE);
  blkid_probe_enable_partitions (pr, 0);
  if (blkid_do_safeprobe (pr) == 0 &&
      blkid_probe_lookup_value (pr, "TYPE", &value, NULL) == 0)
    snprintf (type, type_size, "%s", value);
 out:
  if (pr)
    blkid_free_probe (pr);
  free (buf);
  if (sh.fd >= 0)
    close (sh.fd);
  return r;
}

/* The maps, by libblkid's TYPE.  Merging another map is one row (and its
 * prototype in usedmap.h).  LVM2_member is handled apart (it maps each
 * LV through this same table, once: no LVM inside LVM). */
struct fsmap {
  const char *type;         /* libblkid's TYPE */
  usedmap_fn *fn;
  enum usedmap_policy policy;
  const char *method;
};

static const struct fsmap fsmaps[] = {
  { "ext2", extmap_used, USEDMAP_EXT, "ext-bitmap" },
  { "ext3", extmap_used, USEDMAP_EXT, "ext-bitmap" },
  { "ext4", extmap_used, USEDMAP_EXT, "ext-bitmap" },
  { "xfs", xfsmap_used, USEDMAP_XFS, "xfs-bnobt" },
  { "swap", swapmap_used, USEDMAP_SWAP, "swap-header" },
  { "vfat", fatmap_used, USEDMAP_FAT, "fat" },
  { "exfat", exfatmap_used, USEDMAP_EXFAT, "exfat" },
  { "ntfs", ntfsmap_used, USEDMAP_NTFS, "ntfs" },
  { "btrfs", btrfsmap_used, USEDMAP_BTRFS, "btrfs" },
};

static const struct fsmap *
fsmap_for (const char *type)
{
  size_t i;

  for (i = 0; i < sizeof fsmaps / sizeof fsmaps[0]; i++)
    if (strcmp (fsmaps[i].type, type) == 0)
      return &fsmaps[i];
  return NULL;
}

/* One filesystem at [offset, offset+length): identify and map it.
 * Returns 0 (mapped: *mapped set, or not: copy in full), -1 on errors. */
static int
map_fs (struct image *src, unsigned retries, uint64_t offset,
        uint64_t length, extent_vector *keep, char *type, size_t type_size,
        const struct fsmap **mapped, char *note, size_t note_size)
{
  const struct fsmap *m;
  int r;

  *mapped = NULL;
  if (probe_type (src, retries, offset, length, type, type_size) == -1)
    return -1;
  if ((m = fsmap_for (type)) == NULL)
    return 0;
  error_clear ();
  r = m->fn (src, offset, length, retries, keep);
  if (r == -1)
    return -1;
  if (r == 0)
    *mapped = m;
  else if (note && strcmp (error_get (), "unknown error") != 0)
    snprintf (note, note_size, "%s: %s: copied in full", type, error_get ());
  error_clear ();
  return 0;
}

/* An LV's contents, seen through lvmmap's view of its segments. */
static int
map_lv (struct image *lv, unsigned retries, extent_vector *keep,
        char *method, size_t method_size)
{
  const struct fsmap *m;
  char type[32], note[128] = "";

  if (map_fs (lv, retries, 0, lv->size, keep, type, sizeof type, &m,
              note, sizeof note) == -1)
    return -1;
  if (m == NULL) {
    snprintf (method, method_size, "%s%s", type[0] ? type : "unknown",
              note[0] ? "(dirty):full" : ":full");
    return 1;
  }
  snprintf (method, method_size, "%s", m->method);
  return 0;
}

/* Decide the policy of one partition and add its ranges to the map. */
static int
map_partition (struct image *src, unsigned retries, struct usedmap *map,
               struct usedmap_part *p)
{
  uint64_t before = keep_bytes (&map->keep);
  const struct fsmap *m;
  char *type = p->fstype;
  int r;

  if (map_fs (src, retries, p->offset, p->length, &map->keep, type,
              sizeof p->fstype, &m, p->note, sizeof p->note) == -1)
    return -1;
  if (m) {
    p->policy = m->policy;
    snprintf (p->method, sizeof p->method, "%s", m->method);
  }
  else if (strcmp (type, "LVM2_member") == 0 &&
           (r = lvmmap_used (src, p->offset, p->length, retries,
                             &map->keep, map_lv, p->note,
                             sizeof p->note)) != 1) {
    if (r == -1)
      return -1;
    p->policy = USEDMAP_LVM;
    snprintf (p->method, sizeof p->method, "lvm2");
  }
  else {
    if (strcmp (type, "LVM2_member") == 0 && p->note[0] == '\0')
      snprintf (p->note, sizeof p->note, "LVM2_member: %s: copied in full",
                error_get ());
    error_clear ();
    snprintf (p->method, sizeof p->method, "all");
    if (extent_add (&map->keep, p->offset, p->length, EXTENT_DATA) == -1)
      return -1;
  }
  p->used_bytes = keep_bytes (&map->keep) - before;
  return 0;
}

const char *
usedmap_policy_name (enum usedmap_policy p)
{
  return p == USEDMAP_ALL ? "non-zero" : p == USEDMAP_SWAP ? "swap-header"
    : "used-blocks";
}

static int
compare_parts (const void *a, const void *b)
{
  const struct usedmap_part *x = a, *y = b;

  return x->offset < y->offset ? -1 : x->offset > y->offset;
}

int
usedmap_build (struct image *src, unsigned retries, struct usedmap *map)
{
  uint64_t pos = 0;
  size_t i;

  memset (map, 0, sizeof *map);
  if (read_table (src, retries, map) == -1)
    return -1;
  if (map->parts.len == 0 && add_part (map, 0, 0, src->size) == -1)
    return -1;
  qsort (map->parts.ptr, map->parts.len, sizeof *map->parts.ptr,
         compare_parts);
  for (i = 0; i < map->parts.len; i++) {
    struct usedmap_part *p = &map->parts.ptr[i];

    if (p->offset < pos || p->offset + p->length > src->size)
      continue;               /* overlapping or beyond the disk: keep all */
    /* The gap before it (MBR, GPT, boot loader) is copied in full. */
    if (extent_add (&map->keep, pos, p->offset - pos, EXTENT_DATA) == -1 ||
        map_partition (src, retries, map, p) == -1)
      return -1;
    pos = p->offset + p->length;
  }
  return extent_add (&map->keep, pos, src->size - pos, EXTENT_DATA);
}

void
usedmap_free (struct usedmap *map)
{
  usedmap_part_vector_reset (&map->parts);
  extent_vector_reset (&map->keep);
}

int
usedmap_copy (struct image *src, const char *format, const char *path,
              struct copy_opts po, struct copy_stats *st)
{
  struct usedmap map = { .table = "" };
  struct image_create_opts co = { .subformat = NULL };
  int r = -1;

  memset (st, 0, sizeof *st);
  if (usedmap_build (src, 2, &map) == 0) {
    po.mask = &map.keep;
    po.strict = true;         /* fail before publishing, never zero-fill */
    r = image_convert (src, format, path, &co, &po, false, st);
    extent_vector_reset (&st->bad);
    if (r == 0 && st->bytes_bad)
      r = error_set ("'%s': the source disk has unreadable ranges", path);
  }
  usedmap_free (&map);
  return r;
}
