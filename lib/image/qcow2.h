/* qcow2.h: private interface shared by the qcow2 driver's files —
 * qcow2.c (vtable, open, read, extents, info), qcow2-header.c (header
 * parsing and validation, backing file), qcow2-write.c (create, write,
 * allocation, refcounts) and qcow2-check.c (`ferry check`).
 * The on-disk format is QEMU's docs/interop/qcow2.txt; all numbers are
 * big-endian on disk and host-endian in these structs' in-memory copies.
 */
#ifndef FERRY_QCOW2_H
#define FERRY_QCOW2_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/image/image.h"

struct strbuf;

#define QCOW2_MAGIC 0x514649fbu          /* "QFI\xfb" */

/* The fixed header: 72 bytes for version 2, 104 or more for version 3. */
struct qcow2_header {
  uint32_t magic;
  uint32_t version;
  uint64_t backing_file_offset;
  uint32_t backing_file_size;
  uint32_t cluster_bits;
  uint64_t size;
  uint32_t crypt_method;
  uint32_t l1_size;
  uint64_t l1_table_offset;
  uint64_t refcount_table_offset;
  uint32_t refcount_table_clusters;
  uint32_t nb_snapshots;
  uint64_t snapshots_offset;
  /* version 3 */
  uint64_t incompatible_features;
  uint64_t compatible_features;
  uint64_t autoclear_features;
  uint32_t refcount_order;
  uint32_t header_length;
  /* optional, present when header_length > 104 */
  uint8_t compression_type;
  uint8_t padding[7];
} __attribute__ ((packed));
_Static_assert (sizeof (struct qcow2_header) == 112, "qcow2 header size");

#define QCOW2_V2_HEADER_LEN 72
#define QCOW2_V3_HEADER_LEN 104

/* Header extension types. */
#define QCOW2_EXT_END            0x00000000u
#define QCOW2_EXT_BACKING_FORMAT 0xe2792acau
#define QCOW2_EXT_FEATURE_TABLE  0x6803f857u
#define QCOW2_EXT_BITMAPS        0x23852875u
#define QCOW2_EXT_CRYPTO         0x0537be77u
#define QCOW2_EXT_DATA_FILE      0x44415441u

/* Incompatible feature bits. */
#define QCOW2_INCOMPAT_DIRTY       (1ull << 0)
#define QCOW2_INCOMPAT_CORRUPT     (1ull << 1)
#define QCOW2_INCOMPAT_DATA_FILE   (1ull << 2)
#define QCOW2_INCOMPAT_COMPRESSION (1ull << 3)
#define QCOW2_INCOMPAT_EXTL2       (1ull << 4)
#define QCOW2_INCOMPAT_KNOWN       0x1full

/* L1/L2/refcount table entries. */
#define QCOW2_OFFSET_MASK   0x00fffffffffffe00ull   /* bits 9-55 */
#define QCOW2_OFLAG_COPIED  (1ull << 63)
#define QCOW2_OFLAG_COMPRESSED (1ull << 62)
#define QCOW2_OFLAG_ZERO    1ull
#define QCOW2_L1_RESERVED   0x7f000000000001ffull
#define QCOW2_L2_RESERVED   0x3f000000000001feull

/* Limits.  QEMU refuses L1 tables above 32 MiB and refcount tables above
 * 8 MiB; we use the same caps so that hostile headers cannot make us
 * allocate without bound, and never accept what QEMU would not. */
#define QCOW2_MAX_L1_BYTES  (32u * 1024 * 1024)
#define QCOW2_MAX_RT_BYTES  (8u * 1024 * 1024)
#define QCOW2_MAX_SNAPSHOTS 65536u
#define QCOW2_MAX_BACKING_NAME 1023u
#define QCOW2_MAX_VSIZE     (1ull << 61)
/* Host offsets must fit in bits 9-55. */
#define QCOW2_MAX_HOST      (1ull << 56)

/* How a range of the virtual disk is stored (qcow2_map). */
enum qcow2_kind {
  QCOW2_UNALLOCATED,          /* read from backing, or zeros */
  QCOW2_ZERO,                 /* reads as zeros */
  QCOW2_DATA,                 /* host clusters, contiguous */
  QCOW2_COMPRESSED,           /* one compressed cluster */
};

struct qcow2_map {
  enum qcow2_kind kind;
  uint64_t len;               /* bytes from the asked offset */
  uint64_t host;              /* DATA: host offset of the asked offset */
  uint64_t desc;              /* COMPRESSED: the L2 entry */
};

/* One cached L2 table, entries host-endian. */
struct qcow2_l2_slot {
  uint64_t offset;            /* host offset of the table; 0 = empty */
  uint64_t *table;
  uint64_t last_use;
  bool dirty;
};

#define QCOW2_L2_SLOTS 16

struct qcow2 {
  struct image img;
  int fd;
  uint64_t file_size;         /* writable: end of the last allocated cluster */

  /* Header facts. */
  unsigned version;
  unsigned cluster_bits;
  uint64_t cluster_size;
  unsigned l2_bits;           /* log2 of entries per L2 table */
  bool extl2;                 /* extended L2 entries (16 bytes, subclusters) */
  unsigned sc_bits;           /* extl2: log2 of the subcluster size */
  unsigned refcount_order;
  uint32_t header_length;
  uint64_t incompat, compat, autoclear;
  uint32_t l1_size;
  uint64_t l1_offset;
  uint64_t rt_offset;
  uint32_t rt_clusters;
  uint32_t nb_snapshots;
  uint64_t snapshots_offset;
  char *backing_name;         /* as stored in the header, or NULL */
  char *backing_format;       /* from the header extension, or NULL */
  bool has_bitmaps;

  uint64_t *l1;               /* l1_size entries, host-endian */
  bool l1_dirty;

  struct qcow2_l2_slot l2[QCOW2_L2_SLOTS];
  uint64_t l2_clock;
  unsigned l2_last;           /* slot of the last hit */

  /* Last decompressed cluster, so sub-cluster reads do not inflate again. */
  uint8_t *cbuf;
  uint64_t cbuf_desc;         /* L2 entry of cbuf's contents; 0 = none */

  /* Writing (created images only). */
  uint64_t *rt;               /* refcount table, rt_clusters * cs / 8 */
  uint64_t rc_flushed;        /* clusters whose refcounts are on disk */
  uint8_t *cow;               /* one cluster, for copy-on-write */
};

/* qcow2-header.c */
int qcow2_parse (struct qcow2 *q);
int qcow2_open_backing (struct qcow2 *q, unsigned depth);

/* qcow2.c */
int qcow2_l2_get (struct qcow2 *q, uint64_t offset, struct qcow2_l2_slot **slot);
int qcow2_l2_write (struct qcow2 *q, struct qcow2_l2_slot *slot);
int qcow2_l2_evict (struct qcow2 *q, struct qcow2_l2_slot **slot);
int qcow2_map (struct qcow2 *q, uint64_t offset, uint64_t max_len,
               struct qcow2_map *m);
int qcow2_read_backing (struct qcow2 *q, void *buf, size_t count,
                        uint64_t offset);
void qcow2_free (struct qcow2 *q);
int qcow2_pread (struct image *img, void *buf, size_t count, uint64_t offset);
int qcow2_extents (struct image *img, uint64_t offset, uint64_t length,
                   extent_vector *out);
uint64_t qcow2_l2_entries (const struct qcow2 *q);

/* qcow2-write.c */
struct image *qcow2_create (const char *path, uint64_t size,
                            const struct image_create_opts *opts);
int qcow2_pwrite (struct image *img, const void *buf, size_t count,
                  uint64_t offset);
int qcow2_flush (struct image *img);

/* qcow2-check.c */
int qcow2_check (struct image *img, struct strbuf *report);

/* Compressed cluster descriptor fields (qcow2.c). */
void qcow2_compressed_range (const struct qcow2 *q, uint64_t desc,
                             uint64_t *offset, uint64_t *len);

#endif
