/* vhd.c: Microsoft VHD images (fixed, dynamic, differencing): open, read,
 * write, create, check and info.  On-disk facts: /work/shared/FORMATS.md. */
#include "lib/common/compat.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/common/checked.h"
#include "lib/common/cleanup.h"
#include "lib/common/error.h"
#include "lib/common/fullrw.h"
#include "lib/common/ids.h"
#include "lib/common/strbuf.h"
#include "lib/image/image.h"

#define SECTOR 512u
#define VHD_EPOCH 946684800           /* 2000-01-01T00:00:00Z as Unix time */
#define BAT_UNUSED 0xFFFFFFFFu
#define DEFAULT_BLOCK_SIZE (2u << 20)
#define MAX_BLOCK_SIZE (256u << 20)
/* 2^22 entries (a 16 MiB BAT) cover 2040 GiB with 512 KiB blocks; more is
 * hostile or useless, and we must not allocate whatever a header asks. */
#define MAX_TABLE_ENTRIES (1u << 22)
#define MAX_CREATE_SIZE (2040ull << 30)   /* QEMU and Hyper-V refuse more */
#define MAX_GEOMETRY (65535ull * 16 * 255)
#define LOCATOR_MAX 8192u             /* a path, UTF-16: PATH_MAX * 2 */
#define N_LOCATORS 8
/* QEMU before 10.0 (Debian 12 ships 7.2) sizes a VHD by its CHS geometry
 * unless the creator is one it knows to use current_size ("win ", "qem2",
 * "d2v ", "CTXS", "tap\0"); a private tag like "fery" would make it read
 * our exact-size disks truncated.  So we write Hyper-V's tag. */
#define CREATOR_APP "win "
#define CREATOR_VERSION 0x000a0000u
#define CREATOR_OS "Wi2k"

enum { VHD_FIXED = 2, VHD_DYNAMIC = 3, VHD_DIFF = 4 };

struct vhd_footer {
  char cookie[8];                     /* "conectix" */
  uint32_t features;
  uint32_t version;
  uint64_t data_offset;
  uint32_t timestamp;
  char creator_app[4];
  uint32_t creator_version;
  char creator_os[4];
  uint64_t original_size;
  uint64_t current_size;
  uint16_t cylinders;
  uint8_t heads;
  uint8_t sectors_per_track;
  uint32_t disk_type;
  uint32_t checksum;
  uint8_t unique_id[16];
  uint8_t saved_state;
  uint8_t reserved[427];
} __attribute__ ((packed));
_Static_assert (sizeof (struct vhd_footer) == 512, "VHD footer is 512 bytes");

struct vhd_locator {
  char code[4];                       /* "W2ku", "W2ru", "MacX" */
  uint32_t data_space;                /* sectors per spec, bytes per MS */
  uint32_t data_length;
  uint32_t reserved;
  uint64_t data_offset;
} __attribute__ ((packed));
_Static_assert (sizeof (struct vhd_locator) == 24, "VHD locator is 24 bytes");

struct vhd_header {
  char cookie[8];                     /* "cxsparse" */
  uint64_t data_offset;
  uint64_t table_offset;
  uint32_t version;
  uint32_t max_table_entries;
  uint32_t block_size;
  uint32_t checksum;
  uint8_t parent_uuid[16];
  uint32_t parent_timestamp;
  uint32_t reserved1;
  uint8_t parent_name[512];           /* UTF-16BE */
  struct vhd_locator locators[N_LOCATORS];
  uint8_t reserved2[256];
} __attribute__ ((packed));
_Static_assert (sizeof (struct vhd_header) == 1024, "VHD header is 1024 bytes");

struct vhd {
  struct image img;
  int fd;
  bool borrowed_fd;                   /* opts->use_fd: never closed here */
  uint64_t base;                      /* file offset of the image's byte 0 */
  uint64_t *out_length;               /* set at a successful close */
  uint32_t type;
  struct vhd_footer footer;           /* on-disk byte order */
  struct vhd_header header;           /* on-disk byte order; not fixed */
  uint64_t file_size;                 /* at open */
  bool footer_at_end;                 /* the last 512 bytes are the footer */
  bool short_footer;                  /* 511-byte footer (old Virtual PC) */
  bool meta_dirty;                    /* footer must be rewritten */
  uint32_t block_size, bitmap_size, sectors_per_block;
  uint32_t n_entries;
  uint64_t header_offset, bat_offset;
  uint32_t *bat;                      /* host byte order */
  uint32_t bat_lo, bat_hi;            /* dirty entries [lo, hi) */
  uint64_t next_free;                 /* next block, and the footer, go here */
  uint32_t bm_block;                  /* block of the cached bitmap */
  uint8_t *bitmap;
  bool bm_dirty;
  char *parent_path;                  /* as resolved, for info */
};

#define VERR(v, fmt, ...) \
  error_set ("vhd: '%s': " fmt, (v)->img.path, ##__VA_ARGS__)

/* ---- small helpers ---- */

static uint32_t
vhd_checksum (const void *buf, size_t len, size_t csum_off)
{
  const uint8_t *p = buf;
  uint32_t sum = 0;
  size_t i;

  for (i = 0; i < len; i++)
    if (i < csum_off || i >= csum_off + 4)
      sum += p[i];
  return ~sum;
}

static uint32_t
footer_checksum (const struct vhd_footer *f)
{
  return vhd_checksum (f, sizeof *f, offsetof (struct vhd_footer, checksum));
}

static uint32_t
header_checksum (const struct vhd_header *h)
{
  return vhd_checksum (h, sizeof *h, offsetof (struct vhd_header, checksum));
}

static int
vpread (struct vhd *v, void *buf, size_t count, uint64_t offset)
{
  if (full_pread (v->fd, buf, count, v->base + offset, v->img.path) == -1)
    return error_prefix ("vhd: ");
  return 0;
}

static int
vpwrite (struct vhd *v, const void *buf, size_t count, uint64_t offset)
{
  if (full_pwrite (v->fd, buf, count, v->base + offset, v->img.path) == -1)
    return error_prefix ("vhd: ");
  return 0;
}

static bool
bit_test (const uint8_t *bm, uint32_t i)
{
  return bm[i >> 3] & (0x80 >> (i & 7));
}

static void
bit_set_range (uint8_t *bm, uint32_t first, uint32_t n)
{
  uint32_t i;

  for (i = first; i < first + n; i++)
    bm[i >> 3] |= 0x80 >> (i & 7);
}

/* Sectors from `first` (at most `limit`) whose bit equals bit `first`'s. */
static uint32_t
bit_run (const uint8_t *bm, uint32_t first, uint32_t limit)
{
  bool set = bit_test (bm, first);
  uint32_t i = first + 1;

  while (i < limit && bit_test (bm, i) == set)
    i++;
  return i - first;
}

/* CHS geometry exactly as the VHD specification (and QEMU, blktap) has it. */
static void
chs_geometry (uint64_t total_sectors, uint16_t *cyl, uint8_t *heads,
              uint8_t *spt)
{
  uint64_t ts = MIN (total_sectors, MAX_GEOMETRY);
  uint64_t cth, h, s;

  if (ts >= 65535ull * 16 * 63) {
    s = 255;
    h = 16;
    cth = ts / s;
  }
  else {
    s = 17;
    cth = ts / s;
    h = MAX (4, (cth + 1023) / 1024);
    if (cth >= h * 1024 || h > 16) {
      s = 31;
      h = 16;
      cth = ts / s;
    }
    if (cth >= h * 1024) {
      s = 63;
      h = 16;
      cth = ts / s;
    }
  }
  *cyl = (uint16_t) (cth / h);
  *heads = (uint8_t) h;
  *spt = (uint8_t) s;
}

/* Virtual PC and QEMU without force_size ("vpc ", "qemu") size the disk by
 * its CHS geometry; Hyper-V, Disk2vhd, XenServer, Azure and QEMU's "qem2"
 * by current_size.  This is QEMU's rule since 10.0 (vpc_ignore_current_size)
 * and agrees with 7.x on every known creator; a maximal geometry cannot
 * describe a larger disk, so it means "use current_size" too. */
static uint64_t
footer_virtual_size (const struct vhd_footer *f)
{
  uint64_t chs = (uint64_t) be16toh (f->cylinders) * f->heads *
    f->sectors_per_track;

  if ((memcmp (f->creator_app, "vpc ", 4) == 0 ||
       memcmp (f->creator_app, "qemu", 4) == 0) && chs != MAX_GEOMETRY)
    return chs * SECTOR;
  return be64toh (f->current_size) & ~(uint64_t) (SECTOR - 1);
}

/* ---- UTF-8 / UTF-16 for parent names and locators ---- */

static void
put16 (uint8_t *p, uint32_t u, bool be)
{
  p[be ? 0 : 1] = (uint8_t) (u >> 8);
  p[be ? 1 : 0] = (uint8_t) u;
}

/* Decode one UTF-8 sequence at *s; -1 if invalid. */
static int32_t
utf8_next (const unsigned char **s)
{
  const unsigned char *p = *s;
  int n = p[0] < 0x80 ? 0 : p[0] >= 0xf0 && p[0] < 0xf5 ? 3 :
    p[0] >= 0xe0 ? 2 : p[0] >= 0xc2 && p[0] < 0xe0 ? 1 : -1;
  int32_t c;
  int i;

  if (n < 0)
    return -1;
  c = n == 0 ? p[0] : p[0] & (0x3f >> n);
  for (i = 1; i <= n; i++) {
    if ((p[i] & 0xc0) != 0x80)
      return -1;
    c = (c << 6) | (p[i] & 0x3f);
  }
  if ((n == 2 && c < 0x800) || (n == 3 && (c < 0x10000 || c > 0x10ffff)) ||
      (c >= 0xd800 && c < 0xe000))
    return -1;
  *s = p + n + 1;
  return c;
}

/* UTF-8 to UTF-16 (big- or little-endian) into out[cap]; byte length or -1. */
static ssize_t
utf8_to_utf16 (const char *s, uint8_t *out, size_t cap, bool be)
{
  const unsigned char *p = (const unsigned char *) s;
  size_t n = 0;
  int32_t c;

  while (*p) {
    if ((c = utf8_next (&p)) == -1)
      return error_set ("vhd: path '%s' is not valid UTF-8", s);
    if (n + (c >= 0x10000 ? 4 : 2) > cap)
      return error_set ("vhd: path '%s' is too long for a VHD", s);
    if (c >= 0x10000) {
      c -= 0x10000;
      put16 (out + n, 0xd800 | (uint32_t) (c >> 10), be);
      put16 (out + n + 2, 0xdc00 | (uint32_t) (c & 0x3ff), be);
      n += 4;
    }
    else {
      put16 (out + n, (uint32_t) c, be);
      n += 2;
    }
  }
  return (ssize_t) n;
}

static void
put_utf8 (struct strbuf *sb, uint32_t c)
{
  char b[4];
  size_t n;

  if (c < 0x80) { b[0] = (char) c;
  n = 1; }
  else if (c < 0x800) {
    b[0] = (char) (0xc0 | c >> 6);
    b[1] = (char) (0x80 | (c & 0x3f));
    n = 2;
  }
  else if (c < 0x10000) {
    b[0] = (char) (0xe0 | c >> 12);
    b[1] = (char) (0x80 | ((c >> 6) & 0x3f));
    b[2] = (char) (0x80 | (c & 0x3f));
    n = 3;
  }
  else {
    b[0] = (char) (0xf0 | c >> 18);
    b[1] = (char) (0x80 | ((c >> 12) & 0x3f));
    b[2] = (char) (0x80 | ((c >> 6) & 0x3f));
    b[3] = (char) (0x80 | (c & 0x3f));
    n = 4;
  }
  strbuf_add (sb, b, n);
}

/* UTF-16 to a new UTF-8 string, stopping at U+0000; lone surrogates become
 * '?' (such a path will simply not be found).  NULL on ENOMEM. */
static char *
utf16_to_utf8 (const uint8_t *in, size_t len, bool be)
{
  struct strbuf sb = STRBUF_INIT;
  size_t i;
  uint32_t u, lo;

  strbuf_adds (&sb, "");
  for (i = 0; i + 1 < len; i += 2) {
    u = be ? (uint32_t) in[i] << 8 | in[i + 1] : (uint32_t) in[i + 1] << 8 | in[i];
    if (u == 0)
      break;
    if (u >= 0xd800 && u < 0xdc00 && i + 3 < len) {
      lo = be ? (uint32_t) in[i + 2] << 8 | in[i + 3]
        : (uint32_t) in[i + 3] << 8 | in[i + 2];
      if (lo >= 0xdc00 && lo < 0xe000) {
        put_utf8 (&sb, 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00));
        i += 2;
        continue;
      }
    }
    put_utf8 (&sb, u >= 0xd800 && u < 0xe000 ? '?' : u);
  }
  if (sb.buf == NULL)
    error_set ("vhd: out of memory");
  return sb.buf;
}

/* ---- paths ---- */

/* The directory part of `path` ("." when there is none); caller frees. */
static char *
dir_of (const char *path)
{
  const char *slash = strrchr (path, '/');

  if (slash == NULL)
    return xstrdup (".");
  if (slash == path)
    return xstrdup ("/");
  return xasprintf ("%.*s", (int) (slash - path), path);
}

static const char *
base_of (const char *path)
{
  const char *slash = strrchr (path, '/');

  return slash ? slash + 1 : path;
}

/* A parent path relative to the child's directory, as locators and QEMU's
 * backing files mean it; an absolute path is returned as is. */
static char *
relative_to (const char *child, const char *path)
{
  CLEANUP_FREE char *dir = NULL;

  if (path[0] == '/')
    return xstrdup (path);
  dir = dir_of (child);
  if (dir == NULL)
    return NULL;
  return xasprintf ("%s/%s", dir, path);
}

/* Relative path from directory `from` to file `to` (both canonical) with
 * Windows separators, as W2ru wants: ".\p.vhd", "..\d\p.vhd". */
static char *
windows_relative (const char *from, const char *to)
{
  struct strbuf sb = STRBUF_INIT;
  size_t i = 0, common = 0;
  const char *p, *up;

  while (from[i] && from[i] == to[i])
    if (from[i++] == '/')
      common = i;
  up = from + common;                 /* the part of `from` to climb out of */
  if (from[i] == '\0' && to[i] == '/') {
    common = i + 1;
    up = from + i;
  }
  strbuf_adds (&sb, "");
  for (p = up; *p; ) {
    strbuf_adds (&sb, "..\\");
    while (*p && *p != '/') p++;
    while (*p == '/') p++;
  }
  if (sb.len == 0)
    strbuf_adds (&sb, ".\\");
  for (p = to + common; *p; p++)
    strbuf_add (&sb, *p == '/' ? "\\" : p, 1);
  if (sb.buf == NULL)
    error_set ("vhd: out of memory");
  return sb.buf;
}

/* ---- construction and teardown ---- */

static struct vhd *
vhd_alloc (const char *path)
{
  struct vhd *v = calloc (1, sizeof *v);

  if (v == NULL) {
    error_errno ("vhd: malloc");
    return NULL;
  }
  v->fd = -1;
  v->bm_block = BAT_UNUSED;
  if (image_init (&v->img, &vhd_ops, path, 0, false) == -1) {
    free (v);
    return NULL;
  }
  return v;
}

static void
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

/* ---- opening: footer ---- */

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

/* Find the footer: at the end (512 or 511 bytes), else the copy at 0 of a
 * dynamic disk whose end was lost. */
static int
footer_find (struct vhd *v)
{
  uint8_t tail[512];

  if (v->file_size < 512)
    return VERR (v, "file too short for a VHD footer (%llu bytes)",
                 (unsigned long long) v->file_size);
  if (vpread (v, tail, 512, v->file_size - 512) == -1)
    return -1;
  if (memcmp (tail, "conectix", 8) == 0) {
    memcpy (&v->footer, tail, 512);
    v->footer_at_end = true;
  }
  else if (memcmp (tail + 1, "conectix", 8) == 0) {
    memset (&v->footer, 0, 512);
    memcpy (&v->footer, tail + 1, 511);
    v->short_footer = true;
  }
  else if (vpread (v, &v->footer, 512, 0) == -1)
    return -1;
  else if (memcmp (v->footer.cookie, "conectix", 8) != 0)
    return VERR (v, "no VHD footer found");
  return 0;
}

static int
footer_load (struct vhd *v)
{
  if (footer_find (v) == -1)
    return -1;
  if (footer_checksum (&v->footer) != be32toh (v->footer.checksum))
    return VERR (v, "footer checksum mismatch");
  v->type = be32toh (v->footer.disk_type);
  if (v->type != VHD_FIXED && v->type != VHD_DYNAMIC && v->type != VHD_DIFF)
    return VERR (v, "unsupported disk type %u", v->type);
  if (v->type == VHD_FIXED && !v->footer_at_end && !v->short_footer)
    return VERR (v, "fixed disk has no footer at the end of the file");
  if (v->type != VHD_FIXED && v->short_footer)
    return VERR (v, "511-byte footer on a dynamic disk");
  v->img.size = footer_virtual_size (&v->footer);
  return 0;
}

static int
fixed_setup (struct vhd *v)
{
  uint64_t data = v->file_size - (v->short_footer ? 511 : 512);

  if (v->img.size > data)
    return VERR (v, "virtual size %llu exceeds the %llu bytes of data "
                 "(truncated?)", (unsigned long long) v->img.size,
                 (unsigned long long) data);
  return 0;
}

/* ---- opening: dynamic header and BAT ---- */

static int
header_load (struct vhd *v)
{
  uint64_t off = be64toh (v->footer.data_offset);

  if (off > v->file_size || v->file_size - off < sizeof v->header)
    return VERR (v, "dynamic header at offset %llu is past end of file",
                 (unsigned long long) off);
  if (off % SECTOR != 0)
    return VERR (v, "dynamic header at unaligned offset %llu",
                 (unsigned long long) off);
  if (vpread (v, &v->header, sizeof v->header, off) == -1)
    return -1;
  if (memcmp (v->header.cookie, "cxsparse", 8) != 0)
    return VERR (v, "bad dynamic header cookie");
  if (header_checksum (&v->header) != be32toh (v->header.checksum))
    return VERR (v, "dynamic header checksum mismatch");
  v->header_offset = off;
  return 0;
}

static int
header_validate (struct vhd *v)
{
  uint64_t bs = be32toh (v->header.block_size), n, need, bat_end;

  if (!is_power_of_2 (bs) || bs < SECTOR || bs > MAX_BLOCK_SIZE)
    return VERR (v, "invalid block size %llu (must be a power of two from "
                 "512 bytes to 256 MiB)", (unsigned long long) bs);
  n = be32toh (v->header.max_table_entries);
  if (n > MAX_TABLE_ENTRIES)
    return VERR (v, "max table entries %llu exceeds the limit of %u",
                 (unsigned long long) n, MAX_TABLE_ENTRIES);
  need = DIV_ROUND_UP (v->img.size, bs);
  if (n < need)
    return VERR (v, "max table entries %llu too small for the virtual size "
                 "%llu (need %llu)", (unsigned long long) n,
                 (unsigned long long) v->img.size, (unsigned long long) need);
  v->bat_offset = be64toh (v->header.table_offset);
  if (v->bat_offset % SECTOR != 0 ||
      ADD_OVERFLOW (v->bat_offset, n * 4, &bat_end) || bat_end > v->file_size)
    return VERR (v, "BAT at offset %llu extends past end of file",
                 (unsigned long long) v->bat_offset);
  v->block_size = (uint32_t) bs;
  v->sectors_per_block = (uint32_t) (bs / SECTOR);
  v->bitmap_size = (uint32_t) (DIV_ROUND_UP (bs / SECTOR / 8, SECTOR) * SECTOR);
  v->n_entries = (uint32_t) n;
  return 0;
}

/* Metadata ranges a block must not overlap; returns how many, fills r/names. */
struct range { uint64_t start, end; char name[32]; };

static uint64_t
locator_space (const struct vhd_locator *loc)
{
  uint64_t ds = be32toh (loc->data_space);

  /* The spec says sectors, Microsoft writes bytes. */
  return ds < SECTOR ? ds * SECTOR : ds;
}

static bool
locator_used (const struct vhd_locator *loc)
{
  return loc->code[0] != 0 && be32toh (loc->data_length) != 0;
}

static size_t
metadata_ranges (const struct vhd *v, struct range r[3 + N_LOCATORS])
{
  size_t n = 0, i;
  const struct vhd_locator *loc;
  uint64_t len;

  r[n++] = (struct range) { 0, 512, "footer copy" };
  r[n++] = (struct range) { v->header_offset, v->header_offset + 1024,
                            "dynamic header" };
  r[n++] = (struct range) { v->bat_offset, v->bat_offset +
                            DIV_ROUND_UP ((uint64_t) v->n_entries * 4, SECTOR)
                            * SECTOR, "BAT" };
  for (i = 0; v->type == VHD_DIFF && i < N_LOCATORS; i++) {
    loc = &v->header.locators[i];
    len = be32toh (loc->data_length);
    if (!locator_used (loc) || be64toh (loc->data_offset) > v->file_size)
      continue;
    r[n] = (struct range) { be64toh (loc->data_offset),
                            be64toh (loc->data_offset) + len, "" };
    snprintf (r[n].name, sizeof r[n].name, "parent locator %zu", i);
    n++;
  }
  return n;
}

/* Bytes of block i that must exist in the file: its bitmap and the part of
 * its data inside the virtual disk (some writers trim the last block). */
static uint64_t
block_span (const struct vhd *v, uint32_t i)
{
  uint64_t start = (uint64_t) i * v->block_size;
  uint64_t data = start >= v->img.size ? 0 :
    MIN (v->block_size, v->img.size - start);

  return v->bitmap_size + data;
}

static int
bat_entry_validate (struct vhd *v, uint32_t i, const struct range *r,
                    size_t nr)
{
  uint64_t start = (uint64_t) v->bat[i] * SECTOR;
  uint64_t end = start + block_span (v, i);
  size_t k;

  for (k = 0; k < nr; k++)
    if (start < r[k].end && r[k].start < end)
      return VERR (v, "BAT entry %u overlaps the %s", i, r[k].name);
  if (end > v->file_size)
    return VERR (v, "BAT entry %u points past end of file", i);
  return 0;
}

static int
bat_load (struct vhd *v)
{
  struct range r[3 + N_LOCATORS];
  size_t nr = metadata_ranges (v, r), k;
  uint32_t i;
  uint64_t end = 0;

  v->bat = malloc ((size_t) v->n_entries * 4 + 4);
  v->bitmap = malloc (v->bitmap_size);
  if (v->bat == NULL || v->bitmap == NULL)
    return error_errno ("vhd: malloc");
  if (vpread (v, v->bat, (size_t) v->n_entries * 4, v->bat_offset) == -1)
    return -1;
  for (i = 0; i < v->n_entries; i++) {
    v->bat[i] = be32toh (v->bat[i]);
    if (v->bat[i] == BAT_UNUSED)
      continue;
    if (bat_entry_validate (v, i, r, nr) == -1)
      return -1;
    end = MAX (end, (uint64_t) v->bat[i] * SECTOR + v->bitmap_size +
               v->block_size);
  }
  for (k = 0; k < nr; k++)
    end = MAX (end, r[k].end);
  /* New blocks replace the footer at the end, or follow the last byte. */
  end = MAX (end, v->footer_at_end ? v->file_size - 512 : v->file_size);
  v->next_free = DIV_ROUND_UP (end, SECTOR) * SECTOR;
  return 0;
}

/* ---- opening: the parent of a differencing disk ---- */

/* The path a locator names, resolved against the child's directory; NULL
 * (no error) when the locator is unusable. */
static char *
locator_path (struct vhd *v, const struct vhd_locator *loc)
{
  uint64_t off = be64toh (loc->data_offset);
  uint32_t len = be32toh (loc->data_length);
  CLEANUP_FREE uint8_t *buf = NULL;
  CLEANUP_FREE char *s = NULL;
  char *p;

  if (len == 0 || len > LOCATOR_MAX || off > v->file_size ||
      v->file_size - off < len || (buf = calloc (1, len + 1)) == NULL ||
      vpread (v, buf, len, off) == -1)
    return NULL;
  if (memcmp (loc->code, "MacX", 4) == 0)
    s = xstrdup ((char *) buf);
  else
    s = utf16_to_utf8 (buf, len, false);
  if (s == NULL)
    return NULL;
  for (p = s; *p; p++)
    if (*p == '\\')
      *p = '/';
  p = s;
  if (str_has_prefix (p, "file://"))
    p += 7;
  if (str_has_prefix (p, "localhost/"))
    p += 9;
  while (str_has_prefix (p, "./"))
    p += 2;
  return *p ? relative_to (v->img.path, p) : NULL;
}

static int
parent_verify (struct vhd *v, struct image *p, const char *path)
{
  char want[37], got[37];
  const struct vhd *pv = (const struct vhd *) p;

  if (p->ops != &vhd_ops)
    return VERR (v, "parent '%s' is a %s image, not VHD", path,
                 image_format (p));
  if (memcmp (pv->footer.unique_id, v->header.parent_uuid, 16) != 0) {
    ids_uuid_format (v->header.parent_uuid, want);
    ids_uuid_format (pv->footer.unique_id, got);
    return VERR (v, "parent '%s' has unique id %s, expected %s", path, got,
                 want);
  }
  return 0;
}

static int
parent_attach (struct vhd *v, const char *path, unsigned depth)
{
  CLEANUP_FREE char *me = realpath (v->img.path, NULL);
  CLEANUP_FREE char *it = realpath (path, NULL);
  struct image *p;

  if (me && it && strcmp (me, it) == 0)
    return VERR (v, "parent locator points at the image itself");
  p = image_open_backing (path, depth + 1);
  if (p == NULL)
    return -1;
  if (parent_verify (v, p, path) == -1) {
    image_close (p);
    return -1;
  }
  v->img.backing = p;
  v->parent_path = xstrdup (path);
  return v->parent_path ? 0 : -1;
}

static int
parent_open (struct vhd *v, unsigned depth)
{
  static const char codes[][5] = { "W2ku", "W2ru", "MacX" };
  CLEANUP_FREE char *name = NULL;
  size_t c, i;

  for (c = 0; c < 3; c++)
    for (i = 0; i < N_LOCATORS; i++) {
      const struct vhd_locator *loc = &v->header.locators[i];
      CLEANUP_FREE char *path = NULL;

      if (memcmp (loc->code, codes[c], 4) != 0 ||
          (path = locator_path (v, loc)) == NULL || access (path, F_OK) != 0)
        continue;
      return parent_attach (v, path, depth);
    }
  name = utf16_to_utf8 (v->header.parent_name, sizeof v->header.parent_name,
                        true);
  return VERR (v, "parent '%s' not found (no parent locator names an "
               "existing file)", name ? name : "?");
}

static int
vhd_load (struct vhd *v, unsigned depth)
{
  struct stat st;

  if (fstat (v->fd, &st) == -1)
    return error_errno ("vhd: '%s': stat", v->img.path);
  if (!S_ISREG (st.st_mode) && !S_ISBLK (st.st_mode))
    return VERR (v, "not a regular file");
  v->file_size = (uint64_t) st.st_size;
  if (footer_load (v) == -1)
    return -1;
  if (v->type == VHD_FIXED)
    return fixed_setup (v);
  if (header_load (v) == -1 || header_validate (v) == -1 || bat_load (v) == -1)
    return -1;
  return v->type == VHD_DIFF ? parent_open (v, depth) : 0;
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

/* ---- block bitmaps ---- */

static uint64_t
block_data (const struct vhd *v, uint32_t blk)
{
  return (uint64_t) v->bat[blk] * SECTOR + v->bitmap_size;
}

static int
bitmap_store (struct vhd *v)
{
  if (!v->bm_dirty)
    return 0;
  if (vpwrite (v, v->bitmap, v->bitmap_size,
               (uint64_t) v->bat[v->bm_block] * SECTOR) == -1)
    return -1;
  v->bm_dirty = false;
  return 0;
}

static int
bitmap_load (struct vhd *v, uint32_t blk)
{
  if (v->bm_block == blk)
    return 0;
  if (bitmap_store (v) == -1)
    return -1;
  v->bm_block = BAT_UNUSED;
  if (vpread (v, v->bitmap, v->bitmap_size,
              (uint64_t) v->bat[blk] * SECTOR) == -1)
    return -1;
  v->bm_block = blk;
  return 0;
}

/* ---- reading ---- */

/* Sectors a differencing disk does not hold come from the parent (zero
 * past its end); a dynamic disk's read as zeros. */
static int
read_below (struct vhd *v, uint8_t *buf, size_t len, uint64_t offset)
{
  struct image *p = v->img.backing;
  size_t m = 0;

  if (p != NULL && offset < p->size) {
    m = (size_t) MIN ((uint64_t) len, p->size - offset);
    if (image_pread (p, buf, m, offset) == -1)
      return -1;
  }
  memset (buf + m, 0, len - m);
  return 0;
}

/* Read [offset, offset+len) lying inside one block. */
static int
read_block (struct vhd *v, uint8_t *buf, uint64_t offset, size_t len)
{
  uint32_t blk = (uint32_t) (offset / v->block_size);
  uint32_t in = (uint32_t) (offset % v->block_size), sec, run;
  size_t n;
  int r;

  if (blk >= v->n_entries || v->bat[blk] == BAT_UNUSED)
    return read_below (v, buf, len, offset);
  if (bitmap_load (v, blk) == -1)
    return -1;
  while (len > 0) {
    sec = in / SECTOR;
    run = bit_run (v->bitmap, sec, v->sectors_per_block);
    n = MIN (len, (size_t) (sec + run) * SECTOR - in);
    if (bit_test (v->bitmap, sec))
      r = vpread (v, buf, n, block_data (v, blk) + in);
    else
      r = read_below (v, buf, n, offset);
    if (r == -1)
      return -1;
    buf += n;
    offset += n;
    in += (uint32_t) n;
    len -= n;
  }
  return 0;
}

static int
vhd_pread (struct image *img, void *buf, size_t count, uint64_t offset)
{
  struct vhd *v = (struct vhd *) img;
  uint8_t *p = buf;
  size_t n;

  if (v->type == VHD_FIXED)
    return vpread (v, buf, count, offset);
  while (count > 0) {
    n = MIN (count, (size_t) (v->block_size - offset % v->block_size));
    if (read_block (v, p, offset, n) == -1)
      return -1;
    p += n;
    offset += n;
    count -= n;
  }
  return 0;
}

/* ---- writing ---- */

static int
footer_write (struct vhd *v)
{
  if (vpwrite (v, &v->footer, 512, v->next_free) == -1 ||
      vpwrite (v, &v->footer, 512, 0) == -1)
    return -1;
  return 0;
}

/* Append a block at the end of the file, the footer after it; the bitmap
 * (all clear) and the BAT are written later, on flush or block switch. */
static int
block_alloc (struct vhd *v, uint32_t blk)
{
  uint64_t pos = v->next_free;

  if (pos / SECTOR >= BAT_UNUSED)
    return VERR (v, "image file too large for the BAT");
  if (bitmap_store (v) == -1)
    return -1;
  v->bat[blk] = (uint32_t) (pos / SECTOR);
  v->bat_lo = v->bat_lo < v->bat_hi ? MIN (v->bat_lo, blk) : blk;
  v->bat_hi = MAX (v->bat_hi, blk + 1);
  v->next_free = pos + v->bitmap_size + v->block_size;
  memset (v->bitmap, 0, v->bitmap_size);
  v->bm_block = blk;
  v->bm_dirty = true;
  v->meta_dirty = true;
  /* The footer goes to the new end now, so the file always has one. */
  if (vpwrite (v, &v->footer, 512, v->next_free) == -1)
    return -1;
  return 0;
}

/* Write less than a sector inside sector `sec` of block `blk`: if the
 * sector is not yet ours, fill the rest from below first. */
static int
write_partial (struct vhd *v, uint32_t blk, uint32_t in, const uint8_t *buf,
               size_t n, uint64_t offset)
{
  uint8_t sector[SECTOR];
  uint32_t sec = in / SECTOR, skip = in % SECTOR;

  if (bit_test (v->bitmap, sec))
    return vpwrite (v, buf, n, block_data (v, blk) + in);
  if (read_below (v, sector, SECTOR, offset - skip) == -1)
    return -1;
  memcpy (sector + skip, buf, n);
  if (vpwrite (v, sector, SECTOR, block_data (v, blk) + sec * SECTOR) == -1)
    return -1;
  bit_set_range (v->bitmap, sec, 1);
  v->bm_dirty = true;
  return 0;
}

static int
write_block (struct vhd *v, const uint8_t *buf, uint64_t offset, size_t len)
{
  uint32_t blk = (uint32_t) (offset / v->block_size);
  uint32_t in = (uint32_t) (offset % v->block_size);
  size_t n;

  if (v->bat[blk] == BAT_UNUSED ? block_alloc (v, blk) == -1
      : bitmap_load (v, blk) == -1)
    return -1;
  if (in % SECTOR != 0 || len < SECTOR) {
    n = MIN (len, (size_t) (SECTOR - in % SECTOR));
    if (write_partial (v, blk, in, buf, n, offset) == -1)
      return -1;
    buf += n;
    offset += n;
    in += (uint32_t) n;
    len -= n;
  }
  n = len / SECTOR * SECTOR;
  if (n > 0) {
    if (vpwrite (v, buf, n, block_data (v, blk) + in) == -1)
      return -1;
    bit_set_range (v->bitmap, in / SECTOR, (uint32_t) (n / SECTOR));
    v->bm_dirty = true;
    buf += n;
    offset += n;
    in += (uint32_t) n;
    len -= n;
  }
  if (len > 0)
    return write_partial (v, blk, in, buf, len, offset);
  return 0;
}

static int
vhd_pwrite (struct image *img, const void *buf, size_t count, uint64_t offset)
{
  struct vhd *v = (struct vhd *) img;
  const uint8_t *p = buf;
  size_t n;

  if (v->type == VHD_FIXED)
    return vpwrite (v, buf, count, offset);
  while (count > 0) {
    n = MIN (count, (size_t) (v->block_size - offset % v->block_size));
    if (write_block (v, p, offset, n) == -1)
      return -1;
    p += n;
    offset += n;
    count -= n;
  }
  return 0;
}

/* ---- extents ---- */

static int
extents_below (struct vhd *v, uint64_t offset, uint64_t len,
               extent_vector *out)
{
  struct image *p = v->img.backing;
  uint64_t m;

  if (p == NULL || offset >= p->size)
    return extent_add (out, offset, len, EXTENT_HOLE);
  m = MIN (len, p->size - offset);
  if (image_extents (p, offset, m, out) == -1)
    return -1;
  return extent_add (out, offset + m, len - m, EXTENT_HOLE);
}

static int
extents_block (struct vhd *v, uint64_t offset, uint64_t len,
               extent_vector *out)
{
  uint32_t blk = (uint32_t) (offset / v->block_size);
  uint32_t in = (uint32_t) (offset % v->block_size), sec, run;
  uint64_t n;
  int r;

  if (blk >= v->n_entries || v->bat[blk] == BAT_UNUSED)
    return extents_below (v, offset, len, out);
  if (bitmap_load (v, blk) == -1)
    return -1;
  while (len > 0) {
    sec = in / SECTOR;
    run = bit_run (v->bitmap, sec, v->sectors_per_block);
    n = MIN (len, (uint64_t) (sec + run) * SECTOR - in);
    if (bit_test (v->bitmap, sec))
      r = extent_add (out, offset, n, EXTENT_DATA);
    else
      r = extents_below (v, offset, n, out);
    if (r == -1)
      return -1;
    offset += n;
    in += (uint32_t) n;
    len -= n;
  }
  return 0;
}

static int
vhd_extents (struct image *img, uint64_t offset, uint64_t length,
             extent_vector *out)
{
  struct vhd *v = (struct vhd *) img;
  uint64_t n;

  if (v->type == VHD_FIXED)
    return extent_add (out, offset, length, EXTENT_DATA);
  while (length > 0) {
    n = MIN (length, v->block_size - offset % v->block_size);
    if (extents_block (v, offset, n, out) == -1)
      return -1;
    offset += n;
    length -= n;
  }
  return 0;
}

/* ---- flush and close ---- */

static int
bat_store (struct vhd *v)
{
  CLEANUP_FREE uint32_t *be = NULL;
  uint32_t i, n = v->bat_hi - v->bat_lo;

  if (v->bat_lo >= v->bat_hi)
    return 0;
  be = malloc ((size_t) n * 4);
  if (be == NULL)
    return error_errno ("vhd: malloc");
  for (i = 0; i < n; i++)
    be[i] = htobe32 (v->bat[v->bat_lo + i]);
  if (vpwrite (v, be, (size_t) n * 4,
               v->bat_offset + (uint64_t) v->bat_lo * 4) == -1)
    return -1;
  v->bat_lo = v->bat_hi = 0;
  return 0;
}

static int
meta_store (struct vhd *v)
{
  if (v->type == VHD_FIXED || !v->img.writable)
    return 0;
  if (bitmap_store (v) == -1 || bat_store (v) == -1)
    return -1;
  if (!v->meta_dirty)
    return 0;
  if (vpwrite (v, &v->header, sizeof v->header, v->header_offset) == -1 ||
      footer_write (v) == -1)
    return -1;
  v->meta_dirty = false;
  return 0;
}

static int
vhd_flush (struct image *img)
{
  struct vhd *v = (struct vhd *) img;

  if (meta_store (v) == -1)
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

/* ---- creating ---- */

static void
footer_init (struct vhd *v, uint32_t type, uint64_t size, const uint8_t *uuid)
{
  struct vhd_footer *f = &v->footer;
  uint16_t c;
  uint8_t h, s;
  time_t now = time (NULL);

  memset (f, 0, sizeof *f);
  memcpy (f->cookie, "conectix", 8);
  f->features = htobe32 (2);
  f->version = htobe32 (0x00010000);
  f->data_offset = htobe64 (type == VHD_FIXED ? UINT64_MAX : 512);
  f->timestamp = htobe32 (now > VHD_EPOCH ? (uint32_t) (now - VHD_EPOCH) : 0);
  memcpy (f->creator_app, CREATOR_APP, 4);
  f->creator_version = htobe32 (CREATOR_VERSION);
  memcpy (f->creator_os, CREATOR_OS, 4);
  f->original_size = f->current_size = htobe64 (size);
  chs_geometry (size / SECTOR, &c, &h, &s);
  f->cylinders = htobe16 (c);
  f->heads = h;
  f->sectors_per_track = s;
  f->disk_type = htobe32 (type);
  memcpy (f->unique_id, uuid, 16);
  f->checksum = htobe32 (footer_checksum (f));
}

static int
create_fixed (struct vhd *v)
{
  if (ftruncate (v->fd, (off_t) (v->img.size + 512)) == -1)
    return error_errno ("vhd: '%s': truncate", v->img.path);
  return vpwrite (v, &v->footer, 512, v->img.size);
}

/* Write one parent locator's data at v->next_free and describe it. */
static int
locator_add (struct vhd *v, size_t i, const char *code, const void *data,
             size_t len)
{
  struct vhd_locator *loc = &v->header.locators[i];
  uint64_t space = DIV_ROUND_UP (MAX (len, 1), SECTOR) * SECTOR;

  memcpy (loc->code, code, 4);
  loc->data_space = htobe32 ((uint32_t) space);   /* bytes, as MS does */
  loc->data_length = htobe32 ((uint32_t) len);
  loc->data_offset = htobe64 (v->next_free);
  if (vpwrite (v, data, len, v->next_free) == -1)
    return -1;
  v->next_free += space;
  return 0;
}

static int
locator_add_utf16 (struct vhd *v, size_t i, const char *code, const char *s)
{
  uint8_t buf[LOCATOR_MAX];
  ssize_t n = utf8_to_utf16 (s, buf, sizeof buf, false);

  if (n < 0)
    return -1;
  return locator_add (v, i, code, buf, (size_t) n);
}

/* Name the parent: UUID, mtime, UTF-16BE file name, and three locators. */
static int
parent_describe (struct vhd *v, const char *parent)
{
  CLEANUP_FREE char *abs = realpath (parent, NULL);
  CLEANUP_FREE char *dir = NULL, *cdir = NULL, *rel = NULL, *url = NULL;
  const struct vhd *pv = (const struct vhd *) v->img.backing;
  struct stat st;

  if (abs == NULL || stat (abs, &st) == -1)
    return error_errno ("vhd: '%s'", parent);
  memcpy (v->header.parent_uuid, pv->footer.unique_id, 16);
  v->header.parent_timestamp =
    htobe32 (st.st_mtime > VHD_EPOCH ? (uint32_t) (st.st_mtime - VHD_EPOCH) : 0);
  if (utf8_to_utf16 (base_of (abs), v->header.parent_name,
                     sizeof v->header.parent_name, true) == -1)
    return -1;
  dir = dir_of (v->img.path);
  cdir = dir ? realpath (dir, NULL) : NULL;
  if (cdir == NULL)
    return error_errno ("vhd: '%s': directory", v->img.path);
  rel = windows_relative (cdir, abs);
  url = xasprintf ("file://%s", abs);
  if (rel == NULL || url == NULL ||
      locator_add_utf16 (v, 0, "W2ku", abs) == -1 ||
      locator_add_utf16 (v, 1, "W2ru", rel) == -1 ||
      locator_add (v, 2, "MacX", url, strlen (url)) == -1)
    return -1;
  return 0;
}

static void
header_init (struct vhd *v, uint64_t size)
{
  struct vhd_header *h = &v->header;

  memset (h, 0, sizeof *h);
  memcpy (h->cookie, "cxsparse", 8);
  h->data_offset = htobe64 (UINT64_MAX);
  h->table_offset = htobe64 (1536);
  h->version = htobe32 (0x00010000);
  v->block_size = DEFAULT_BLOCK_SIZE;
  v->sectors_per_block = DEFAULT_BLOCK_SIZE / SECTOR;
  v->bitmap_size = DIV_ROUND_UP (v->sectors_per_block / 8, SECTOR) * SECTOR;
  v->n_entries = (uint32_t) DIV_ROUND_UP (size, DEFAULT_BLOCK_SIZE);
  h->max_table_entries = htobe32 (v->n_entries);
  h->block_size = htobe32 (DEFAULT_BLOCK_SIZE);
  v->header_offset = 512;
  v->bat_offset = 1536;
}

static int
create_dynamic (struct vhd *v, const char *parent)
{
  uint64_t bat_bytes;
  CLEANUP_FREE uint8_t *ff = NULL;

  header_init (v, v->img.size);
  bat_bytes = DIV_ROUND_UP ((uint64_t) v->n_entries * 4, SECTOR) * SECTOR;
  v->bat = malloc ((size_t) v->n_entries * 4 + 4);
  v->bitmap = malloc (v->bitmap_size);
  ff = malloc (bat_bytes + 1);
  if (v->bat == NULL || v->bitmap == NULL || ff == NULL)
    return error_errno ("vhd: malloc");
  memset (v->bat, 0xff, (size_t) v->n_entries * 4);
  memset (ff, 0xff, bat_bytes);
  if (vpwrite (v, ff, bat_bytes, v->bat_offset) == -1)
    return -1;
  v->next_free = v->bat_offset + bat_bytes;
  if (parent && parent_describe (v, parent) == -1)
    return -1;
  v->header.checksum = htobe32 (header_checksum (&v->header));
  v->meta_dirty = true;
  v->img.writable = true;
  return meta_store (v);
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
  if (size % SECTOR != 0)
    return error_set ("vhd: '%s': size %llu is not a multiple of 512", path,
                      (unsigned long long) size);
  if (size > MAX_CREATE_SIZE)
    return error_set ("vhd: '%s': size %llu exceeds the VHD limit of 2040 "
                      "GiB", path, (unsigned long long) size);
  return 0;
}

/* Open the parent of a new differencing disk.  A relative path means
 * relative to the child's directory (as in locators and QEMU); if nothing
 * is there but the path names a file from the current directory, use it. */
static int
create_parent (struct vhd *v, const char *backing, char **used)
{
  char *path = relative_to (v->img.path, backing);
  struct image *p;

  if (path && access (path, F_OK) != 0 && access (backing, F_OK) == 0) {
    free (path);
    path = xstrdup (backing);
  }
  if (path == NULL)
    return -1;
  p = image_open_backing (path, 1);
  if (p == NULL || p->ops != &vhd_ops) {
    if (p)
      error_set ("vhd: '%s': parent '%s' is a %s image, not VHD",
                 v->img.path, path, image_format (p));
    image_close (p);
    free (path);
    return -1;
  }
  v->img.backing = p;
  *used = path;
  return 0;
}

static int
create_body (struct vhd *v, uint32_t type, const char *parent)
{
  uint8_t uuid[16];

  if (ids_uuid_generate (uuid) == -1)
    return -1;
  footer_init (v, type, v->img.size, uuid);
  if (type == VHD_FIXED)
    return create_fixed (v);
  return create_dynamic (v, parent);
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

static struct image *
vhd_create (const char *path, uint64_t size,
            const struct image_create_opts *opts)
{
  uint32_t type = VHD_DYNAMIC;
  struct vhd *v;

  if (create_type (path, opts, &type) == -1 ||
      create_sink_ok (path, type, opts) == -1 ||
      create_size_ok (path, size) == -1 || (v = vhd_alloc (path)) == NULL)
    return NULL;
  v->img.size = size;
  v->type = type;
  if (opts->backing &&
      create_parent (v, opts->backing, &v->parent_path) == -1)
    goto err;
  if (create_open (v, path, opts) == -1)
    goto err;
  if (create_body (v, type, v->parent_path) == -1) {
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

/* ---- check ---- */

static int
check_footers (struct vhd *v, struct strbuf *r)
{
  struct vhd_footer copy;
  int bad = 0;

  if (v->type == VHD_FIXED)
    return 0;
  if (!v->footer_at_end)
    bad += strbuf_addf (r, "no footer at the end of the file\n") == 0;
  if (vpread (v, &copy, 512, 0) == -1)
    return -1;
  if (footer_checksum (&copy) != be32toh (copy.checksum))
    bad += strbuf_addf (r, "footer copy at offset 0: checksum mismatch\n") == 0;
  else if (memcmp (&copy, &v->footer, 512) != 0)
    bad += strbuf_addf (r, "footer copy at offset 0 differs from the "
                        "footer\n") == 0;
  return bad;
}

struct bat_ent { uint64_t start; uint32_t idx; };

static int
bat_ent_cmp (const void *a, const void *b)
{
  const struct bat_ent *x = a, *y = b;

  return x->start < y->start ? -1 : x->start > y->start;
}

static int
check_bat_overlaps (struct vhd *v, struct strbuf *r)
{
  CLEANUP_FREE struct bat_ent *e = malloc ((size_t) v->n_entries * sizeof *e + 1);
  size_t n = 0, i;
  uint64_t span = (uint64_t) v->bitmap_size + v->block_size;
  int bad = 0;

  if (e == NULL)
    return error_errno ("vhd: malloc");
  for (i = 0; i < v->n_entries; i++)
    if (v->bat[i] != BAT_UNUSED)
      e[n++] = (struct bat_ent) { (uint64_t) v->bat[i] * SECTOR, (uint32_t) i };
  qsort (e, n, sizeof *e, bat_ent_cmp);
  for (i = 1; i < n && bad < 100; i++)
    if (e[i - 1].start + span > e[i].start)
      bad += strbuf_addf (r, "BAT entries %u and %u overlap\n",
                          e[i - 1].idx, e[i].idx) == 0;
  return bad;
}

static int
check_header (struct vhd *v, struct strbuf *r)
{
  uint64_t need = DIV_ROUND_UP (MAX (v->img.size,
                                     be64toh (v->footer.current_size)),
                                v->block_size);
  int bad = 0;
  size_t i;
  const struct vhd_locator *loc;

  /* QEMU writes one entry more than needed; more than that is waste. */
  if (v->n_entries > need + 1)
    bad += strbuf_addf (r, "max table entries %u inconsistent with the size "
                        "(%llu blocks needed)\n", v->n_entries,
                        (unsigned long long) need) == 0;
  for (i = 0; v->type == VHD_DIFF && i < N_LOCATORS; i++) {
    loc = &v->header.locators[i];
    if (locator_used (loc) &&
        (be64toh (loc->data_offset) > v->file_size ||
         v->file_size - be64toh (loc->data_offset) < be32toh (loc->data_length)
         || be32toh (loc->data_length) > locator_space (loc)))
      bad += strbuf_addf (r, "parent locator %zu lies outside the file or "
                          "its data space\n", i) == 0;
  }
  return bad;
}

static int
vhd_check (struct image *img, struct strbuf *report)
{
  struct vhd *v = (struct vhd *) img;
  int a, b = 0, c = 0;

  if (be32toh (v->footer.version) >> 16 != 1)
    c += strbuf_addf (report, "unknown footer version 0x%08x\n",
                      be32toh (v->footer.version)) == 0;
  if ((a = check_footers (v, report)) == -1)
    return -1;
  if (v->type != VHD_FIXED &&
      ((b = check_bat_overlaps (v, report)) == -1))
    return -1;
  if (v->type != VHD_FIXED)
    c += check_header (v, report);
  return a + b + c > 0;
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
    used += v->bat[i] != BAT_UNUSED;
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
