/* btrfsmap.c: the allocated extents of a single-device btrfs filesystem,
 * read from its own trees without mounting (the on-disk format as the
 * btrfs documentation's "On-disk format" describes it).
 *
 * The method is exact, not per block group: the superblock's
 * sys_chunk_array maps the chunk tree, the chunk tree maps every logical
 * address onto the device, the root tree names the extent tree, and every
 * EXTENT_ITEM and METADATA_ITEM of the extent tree (all data extents, all
 * tree blocks, free-space caches included) is kept at its physical
 * place(s) — both copies of DUP metadata.  Free space inside allocated
 * chunks, deleted data included, is not copied.  Also kept: the first MiB
 * (the superblock and a boot loader's area) and the superblock mirrors.
 *
 * Every block read is checked (crc32c when the filesystem uses it, the
 * header's own address and fsid, its level, its item table inside the
 * node); tree depth, node size (a power of two, 4-64 KiB) and the number
 * of nodes read are bounded.  Several devices, RAID profiles other than
 * DUP/RAID1, or a tree that fails a check: copy in full.  A log tree
 * awaiting replay or the error flag: copy in full with a warning. */
#include "lib/common/compat.h"

#include <stdbool.h>
#include <stdlib.h>

#include "lib/common/checked.h"
#include "lib/common/error.h"
#include "lib/disk/fsread.h"
#include "lib/disk/usedmap.h"

#define SB_OFFSET 0x10000ull
#define SB_SIZE 4096
#define SB_MAGIC "_BHRfS_M"
#define SB_SYS_ARRAY 811             /* offset of sys_chunk_array */
#define SB_SYS_ARRAY_MAX 2048
#define HEADER_SIZE 101
#define ITEM_SIZE 25                 /* key + offset + size */
#define KEYPTR_SIZE 33               /* key + blockptr + generation */
#define CHUNK_SIZE 48                /* a chunk item without its stripes */
#define STRIPE_SIZE 32
#define MAX_LEVEL 8
#define MAX_STRIPES 4
#define MAX_CHUNKS (1u << 20)

#define KEY_ROOT_ITEM 132
#define KEY_EXTENT_ITEM 168
#define KEY_METADATA_ITEM 169
#define KEY_CHUNK_ITEM 228
#define EXTENT_TREE_OBJECTID 2

#define SUPER_FLAG_ERROR (1ull << 2)
#define SUPER_FLAG_METADUMP (3ull << 33)
#define SUPER_FLAG_CHANGING_FSID (3ull << 35)
#define INCOMPAT_METADATA_UUID (1ull << 10)
#define INCOMPAT_EXTENT_TREE_V2 (1ull << 13)  /* another extent tree layout */
#define INCOMPAT_KNOWN ((1ull << 14) - 1)
#define BG_DUP (1ull << 5)
#define BG_RAID1_ALL ((1ull << 4) | (1ull << 9) | (1ull << 10))
#define BG_PROFILES 0x7f8ull             /* RAID0 .. RAID1C4 */

/* One stripe of one chunk: [logical, logical+length) at physical. */
struct mapping {
  uint64_t logical, length, physical;
};
DEFINE_VECTOR_TYPE (mapping_vector, struct mapping);

struct btrfs {
  const struct fsread *f;
  unsigned char fsid[16];
  uint32_t nodesize;
  uint64_t devid;
  bool crc32c;
  mapping_vector map;                /* sorted by logical: for reading */
  mapping_vector chunks;             /* the chunk tree's, as it is read */
  uint64_t budget;                   /* nodes still allowed to be read */
  /* The extents kept, merged per stripe index while they run on. */
  extent_vector *keep;
  struct mapping run[MAX_STRIPES];
};

static uint32_t
crc32c (const unsigned char *p, size_t n)
{
  static uint32_t table[256];
  uint32_t crc = 0xffffffffu;
  size_t i;

  if (table[1] == 0) {
    for (i = 0; i < 256; i++) {
      uint32_t c = (uint32_t) i;
      int k;

      for (k = 0; k < 8; k++)
        c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
      table[i] = c;
    }
  }
  for (i = 0; i < n; i++)
    crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
  return ~crc;
}

static bool
csum_ok (const struct btrfs *b, const unsigned char *blk, size_t n)
{
  return !b->crc32c || crc32c (blk + 32, n - 32) == fs_le32 (blk);
}

static int
compare_mappings (const void *x, const void *y)
{
  const struct mapping *a = x, *b = y;

  return a->logical < b->logical ? -1 : a->logical > b->logical;
}

/* Record a chunk item (at c, avail bytes) whose key offset is logical. */
static int
add_chunk (struct btrfs *b, mapping_vector *to, uint64_t logical,
           const unsigned char *c, size_t avail)
{
  uint64_t length = fs_le64 (c), type = fs_le64 (c + 24);
  unsigned n = avail >= CHUNK_SIZE ? fs_le16 (c + 44) : 0, i;

  if (avail < CHUNK_SIZE || n == 0 || n > MAX_STRIPES ||
      avail < CHUNK_SIZE + (size_t) n * STRIPE_SIZE || length == 0 ||
      logical > UINT64_MAX - length || to->len >= MAX_CHUNKS ||
      ((type & BG_PROFILES) & ~(BG_DUP | BG_RAID1_ALL)) != 0)
    return 1;
  for (i = 0; i < n; i++) {
    const unsigned char *s = c + CHUNK_SIZE + i * STRIPE_SIZE;
    struct mapping m = { logical, length, fs_le64 (s + 8) };

    if (fs_le64 (s) != b->devid)
      return 1;               /* a stripe on another device */
    if (m.physical > b->f->length || length > b->f->length - m.physical)
      return 1;
    if (mapping_vector_append (to, m) == -1)
      return -1;
  }
  return 0;
}

static void
sort_map (struct btrfs *b)
{
  qsort (b->map.ptr, b->map.len, sizeof *b->map.ptr, compare_mappings);
}

/* The index of the first stripe of the chunk that starts last at or
 * before logical, or map.len. */
static size_t
find_chunk (const struct btrfs *b, uint64_t logical)
{
  size_t lo = 0, hi = b->map.len, k;

  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;

    if (b->map.ptr[mid].logical <= logical)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo == 0)
    return b->map.len;
  for (k = lo - 1; k > 0 && b->map.ptr[k - 1].logical == b->map.ptr[k].logical;
       k--)
    ;
  return k;
}

/* Does stripe i hold [logical, logical+len)? */
static bool
holds (const struct btrfs *b, size_t i, uint64_t logical, uint64_t len)
{
  const struct mapping *m = &b->map.ptr[i];

  return logical >= m->logical && logical - m->logical <= m->length &&
    len <= m->length - (logical - m->logical);
}

/* Read the tree block at logical, expected at `level`, from the first
 * stripe whose copy passes every check.  0, or 1 when none does. */
static int
read_node (struct btrfs *b, uint64_t logical, unsigned level,
           unsigned char *buf)
{
  size_t i = find_chunk (b, logical);
  uint32_t n, room = b->nodesize - HEADER_SIZE;

  if (b->budget == 0)
    return 1;
  b->budget--;
  for (; i < b->map.len && holds (b, i, logical, b->nodesize); i++) {
    const struct mapping *m = &b->map.ptr[i];

    if (fs_read (b->f, buf, b->nodesize, m->physical + (logical - m->logical))
        == -1 || !csum_ok (b, buf, b->nodesize) ||
        fs_le64 (buf + 48) != logical || memcmp (buf + 32, b->fsid, 16) != 0 ||
        buf[100] != level)
      continue;
    n = fs_le32 (buf + 96);
    if (n <= room / (level ? KEYPTR_SIZE : ITEM_SIZE))
      return 0;
  }
  return 1;
}

/* Called with each leaf item: key, its data (size bytes). */
typedef int (*item_fn) (struct btrfs *b, uint64_t objectid, unsigned type,
                        uint64_t offset, const unsigned char *data,
                        uint32_t size, void *priv);

static int
walk_leaf (struct btrfs *b, const unsigned char *node, item_fn fn, void *priv)
{
  uint32_t n = fs_le32 (node + 96), room = b->nodesize - HEADER_SIZE, i;
  const unsigned char *items = node + HEADER_SIZE;
  int r;

  for (i = 0; i < n; i++) {
    const unsigned char *it = items + i * ITEM_SIZE;
    uint32_t off = fs_le32 (it + 17), size = fs_le32 (it + 21);

    if (off > room || size > room - off)
      return 1;
    if ((r = fn (b, fs_le64 (it), it[8], fs_le64 (it + 9), items + off, size,
                 priv)) != 0)
      return r;
  }
  return 0;
}

/* Depth first through the tree rooted at logical; one node buffer per
 * level, so at most MAX_LEVEL * 64 KiB at once. */
static int
walk_tree (struct btrfs *b, uint64_t logical, unsigned level, item_fn fn,
           void *priv)
{
  unsigned char *node;
  uint32_t n, i;
  int r;

  if (level >= MAX_LEVEL)
    return 1;
  if ((node = malloc (b->nodesize)) == NULL)
    return -1;
  r = read_node (b, logical, level, node);
  if (r == 0 && level == 0)
    r = walk_leaf (b, node, fn, priv);
  else if (r == 0) {
    n = fs_le32 (node + 96);
    for (i = 0; i < n && r == 0; i++)
      r = walk_tree (b, fs_le64 (node + HEADER_SIZE + i * KEYPTR_SIZE + 17),
                     level - 1, fn, priv);
  }
  free (node);
  return r;
}

static int
chunk_item (struct btrfs *b, uint64_t objectid, unsigned type,
            uint64_t offset, const unsigned char *data, uint32_t size,
            void *priv)
{
  (void) objectid;
  (void) priv;
  return type == KEY_CHUNK_ITEM ? add_chunk (b, &b->chunks, offset, data, size)
    : 0;
}

struct root_find {
  uint64_t bytenr;
  unsigned level;
  bool found;
};

static int
root_item (struct btrfs *b, uint64_t objectid, unsigned type,
           uint64_t offset, const unsigned char *data, uint32_t size,
           void *priv)
{
  struct root_find *rf = priv;

  (void) b;
  (void) offset;
  if (objectid != EXTENT_TREE_OBJECTID || type != KEY_ROOT_ITEM || size < 239)
    return 0;
  rf->bytenr = fs_le64 (data + 176);
  rf->level = data[238];
  rf->found = true;
  return 0;
}

/* Flush the run of stripe index k into the kept ranges. */
static int
flush_run (struct btrfs *b, unsigned k)
{
  struct mapping *run = &b->run[k];
  int r = 0;

  if (run->length)
    r = extent_vector_append (b->keep, (struct extent) {
        .offset = b->f->offset + run->physical, .length = run->length,
        .type = EXTENT_DATA });
  run->length = 0;
  return r;
}

static int
extent_item (struct btrfs *b, uint64_t objectid, unsigned type,
             uint64_t offset, const unsigned char *data, uint32_t size,
             void *priv)
{
  uint64_t len = type == KEY_EXTENT_ITEM ? offset : b->nodesize, base;
  size_t i = find_chunk (b, objectid);
  unsigned k;

  (void) data;
  (void) size;
  (void) priv;
  if (type != KEY_EXTENT_ITEM && type != KEY_METADATA_ITEM)
    return 0;
  if (i == b->map.len || len == 0)
    return 1;                 /* an extent outside every chunk */
  base = b->map.ptr[i].logical;
  for (k = 0; k < MAX_STRIPES; k++, i++) {
    uint64_t phys;
    struct mapping *run = &b->run[k];

    if (i == b->map.len || b->map.ptr[i].logical != base)
      break;
    phys = b->map.ptr[i].physical + (objectid - base);
    if (!holds (b, i, objectid, len))
      return 1;
    if (run->length && run->physical + run->length == phys) {
      run->length += len;
      continue;
    }
    if (flush_run (b, k) == -1)
      return -1;
    *run = (struct mapping) { .physical = phys, .length = len };
  }
  return 0;
}

/* The chunks of the sys_chunk_array: enough to read the chunk tree. */
static int
read_sys_array (struct btrfs *b, const unsigned char *sb)
{
  uint32_t size = fs_le32 (sb + 160), pos = 0;
  const unsigned char *a = sb + SB_SYS_ARRAY;
  int r;

  if (size > SB_SYS_ARRAY_MAX)
    return 1;
  while (pos + 17 + CHUNK_SIZE <= size) {
    uint32_t len;

    if (a[pos + 8] != KEY_CHUNK_ITEM)
      return 1;
    if ((r = add_chunk (b, &b->map, fs_le64 (a + pos + 9), a + pos + 17,
                        size - pos - 17)) != 0)
      return r;
    len = CHUNK_SIZE + fs_le16 (a + pos + 17 + 44) * STRIPE_SIZE;
    pos += 17 + len;
  }
  if (b->map.len == 0)
    return 1;
  sort_map (b);
  return 0;
}

static bool
is_pow2 (uint32_t x)
{
  return x && !(x & (x - 1));
}

/* Check the superblock and fill in what the walks need.  1 when this is
 * not a btrfs filesystem Ferry can map; USEDMAP_UNSAFE with a reason. */
static int
read_super (struct btrfs *b, const unsigned char *sb)
{
  uint64_t flags = fs_le64 (sb + 56), incompat = fs_le64 (sb + 188);
  uint16_t csum_type = fs_le16 (sb + 196);

  if (memcmp (sb + 64, SB_MAGIC, 8) != 0 || fs_le64 (sb + 48) != SB_OFFSET)
    return 1;
  b->crc32c = csum_type == 0;
  b->nodesize = fs_le32 (sb + 148);
  b->devid = fs_le64 (sb + 201);
  memcpy (b->fsid, incompat & INCOMPAT_METADATA_UUID ? sb + 571 : sb + 32, 16);
  if (!csum_ok (b, sb, SB_SIZE) || fs_le64 (sb + 136) != 1 ||
      !is_pow2 (b->nodesize) || b->nodesize < 4096 || b->nodesize > 65536 ||
      (flags & (SUPER_FLAG_METADUMP | SUPER_FLAG_CHANGING_FSID)) ||
      (incompat & (INCOMPAT_EXTENT_TREE_V2 | ~INCOMPAT_KNOWN)) ||
      fs_le64 (sb + 201 + 8) > b->f->length)
    return 1;
  if (fs_le64 (sb + 96) != 0) {
    error_set ("a log tree awaits replay (fsync'd data not yet "
               "committed)");
    return USEDMAP_UNSAFE;
  }
  if (flags & SUPER_FLAG_ERROR) {
    error_set ("the filesystem is marked as having errors");
    return USEDMAP_UNSAFE;
  }
  b->budget = b->f->length / b->nodesize + 1;
  return 0;
}

static int
compare_extents (const void *x, const void *y)
{
  const struct extent *a = x, *b = y;

  return a->offset < b->offset ? -1 : a->offset > b->offset;
}

/* Sort and coalesce: DUP's two copies interleave, and runs may touch. */
static void
normalize (extent_vector *v)
{
  size_t i, out = 0;

  if (v->len == 0)
    return;
  qsort (v->ptr, v->len, sizeof *v->ptr, compare_extents);
  for (i = 1; i < v->len; i++) {
    struct extent *last = &v->ptr[out];
    uint64_t end = v->ptr[i].offset + v->ptr[i].length;

    if (v->ptr[i].offset <= last->offset + last->length) {
      if (end > last->offset + last->length)
        last->length = end - last->offset;
    }
    else
      v->ptr[++out] = v->ptr[i];
  }
  v->len = out + 1;
}

/* The fixed places: the first MiB (superblock, boot loader) and the
 * superblock mirrors at 64 MiB and 256 GiB. */
static int
keep_fixed (struct btrfs *b)
{
  static const uint64_t mirrors[] = { 64ull << 20, 256ull << 30 };
  size_t i;

  if (extent_vector_append (b->keep, (struct extent) {
        .offset = b->f->offset, .length = MIN (1ull << 20, b->f->length) })
      == -1)
    return -1;
  for (i = 0; i < sizeof mirrors / sizeof mirrors[0]; i++)
    if (mirrors[i] + SB_SIZE <= b->f->length &&
        extent_vector_append (b->keep, (struct extent) {
            .offset = b->f->offset + mirrors[i], .length = SB_SIZE }) == -1)
      return -1;
  return 0;
}

static int
map_btrfs (struct btrfs *b, const unsigned char *sb)
{
  struct root_find rf = { 0 };
  unsigned k;
  int r;

  if ((r = read_super (b, sb)) != 0 || (r = read_sys_array (b, sb)) != 0)
    return r;
  /* The chunk tree, mapped by the sys_chunk_array; its SYSTEM chunks are
   * found again in it. */
  if ((r = walk_tree (b, fs_le64 (sb + 88), sb[199], chunk_item, NULL)) != 0)
    return r;
  if (b->chunks.len == 0)
    return 1;
  mapping_vector_reset (&b->map);
  b->map = b->chunks;
  b->chunks = (mapping_vector) empty_vector;
  sort_map (b);
  if ((r = walk_tree (b, fs_le64 (sb + 80), sb[198], root_item, &rf)) != 0)
    return r;
  if (!rf.found)
    return 1;
  if ((r = keep_fixed (b)) != 0 ||
      (r = walk_tree (b, rf.bytenr, rf.level, extent_item, NULL)) != 0)
    return r;
  for (k = 0; k < MAX_STRIPES; k++)
    if (flush_run (b, k) == -1)
      return -1;
  return 0;
}

int
btrfsmap_used (struct image *src, uint64_t offset, uint64_t length,
               unsigned retries, extent_vector *keep)
{
  struct fsread f = { .img = src, .offset = offset, .length = length,
                      .retries = retries };
  extent_vector mine = empty_vector;
  struct btrfs b = { .f = &f, .keep = &mine };
  unsigned char *sb = malloc (SB_SIZE);
  int r;

  if (sb == NULL)
    return -1;
  r = fs_read (&f, sb, SB_SIZE, SB_OFFSET) == -1 ? 1 : map_btrfs (&b, sb);
  if (r == 0) {
    normalize (&mine);
    r = fs_append (keep, &mine);
  }
  extent_vector_reset (&mine);
  mapping_vector_reset (&b.map);
  mapping_vector_reset (&b.chunks);
  free (sb);
  return r;
}
