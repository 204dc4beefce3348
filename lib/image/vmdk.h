/* vmdk.h: private to the vmdk driver — the on-disk layout and the state
 * shared by vmdk.c (vtable, open, reading), vmdk-desc.c (descriptor text),
 * vmdk-check.c (`ferry check`) and vmdk-stream.c (streamOptimized writer).
 *
 * Facts from VMware's "Virtual Disk Format 5.0", QEMU block/vmdk.c and
 * VMware open-vmdk; all fields little-endian.
 */
#ifndef FERRY_VMDK_H
#define FERRY_VMDK_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <zlib.h>

#include "lib/image/image.h"

#define VMDK_SECTOR 512u
#define VMDK_MAGIC 0x564d444bu        /* "KDMV" read as a little-endian u32 */
#define VMDK_DESC_MAGIC "# Disk DescriptorFile"

/* Header flags. */
#define VMDK_FLAG_NL_DETECT  (1u << 0)  /* the check bytes below are valid */
#define VMDK_FLAG_RGD        (1u << 1)  /* a redundant GD exists (ignored) */
#define VMDK_FLAG_ZERO_GRAIN (1u << 2)  /* GT entry 1 means "zeroed grain" */
#define VMDK_FLAG_COMPRESSED (1u << 16)
#define VMDK_FLAG_MARKERS    (1u << 17)

#define VMDK_GD_AT_END UINT64_MAX      /* gdOffset: "read the footer" */
#define VMDK_COMPRESS_DEFLATE 1
#define VMDK_GTE_ZEROED 1u             /* GT entry: grain reads as zeros */

/* Metadata marker types (streamOptimized). */
#define VMDK_MARKER_EOS    0
#define VMDK_MARKER_GT     1
#define VMDK_MARKER_GD     2
#define VMDK_MARKER_FOOTER 3

/* Hostile-input limits, checked before anything is allocated.  QEMU caps
 * numGTEsPerGT at 512 and the GD at 128 Mi entries; we are stricter on the
 * grain (1 MiB, so a grain buffer is always small) and the capacity
 * (2^41 sectors = 1 PiB, far beyond VMware's 62 TiB). */
#define VMDK_MAX_GRAIN_SECTORS 2048u
#define VMDK_MAX_GTES          512u
#define VMDK_MAX_CAPACITY      (1ull << 41)
#define VMDK_MAX_DESC_BYTES    (1024u * 1024)
#define VMDK_MAX_GD_ENTRIES    (1u << 25)

/* The sparse extent header (SparseExtentHeader), one sector at offset 0;
 * a streamOptimized footer repeats it. */
struct vmdk_header {
  uint32_t magic;
  uint32_t version;
  uint32_t flags;
  uint64_t capacity;            /* sectors */
  uint64_t grain_size;          /* sectors */
  uint64_t desc_offset;         /* sectors; 0 = no embedded descriptor */
  uint64_t desc_size;           /* sectors */
  uint32_t num_gtes_per_gt;
  uint64_t rgd_offset;          /* sectors */
  uint64_t gd_offset;           /* sectors, or VMDK_GD_AT_END */
  uint64_t overhead;            /* sectors before the first grain */
  uint8_t unclean_shutdown;
  char nl_single;               /* '\n' */
  char nl_non;                  /* ' ' */
  char nl_double1;              /* '\r' */
  char nl_double2;              /* '\n' */
  uint16_t compress_algorithm;
  uint8_t pad[433];
} __attribute__ ((packed));
_Static_assert (sizeof (struct vmdk_header) == 512, "vmdk header size");

/* Precedes every compressed grain; data follows, padded to a sector. */
struct vmdk_grain_marker {
  uint64_t lba;                 /* first sector of the grain */
  uint32_t size;                /* compressed bytes that follow */
} __attribute__ ((packed));
_Static_assert (sizeof (struct vmdk_grain_marker) == 12, "grain marker");

/* A metadata marker: one sector, followed by num_sectors of GT/GD/footer. */
struct vmdk_meta_marker {
  uint64_t num_sectors;
  uint32_t size;                /* always 0: tells it from a grain marker */
  uint32_t type;                /* VMDK_MARKER_* */
  uint8_t pad[496];
} __attribute__ ((packed));
_Static_assert (sizeof (struct vmdk_meta_marker) == 512, "meta marker");

/* What we take from a descriptor (embedded or a separate text file). */
#define VMDK_NAME_MAX 256
struct vmdk_desc {
  char create_type[64];
  char adapter_type[32];        /* "" if absent */
  unsigned n_extents;
  uint64_t total_sectors;       /* sum of the extents' sizes */
  /* The first extent (the only one we can open from a descriptor file). */
  char extent_type[16];         /* "SPARSE", "FLAT", "VMFS" ... */
  char extent_file[VMDK_NAME_MAX];
  uint64_t extent_sectors;
  uint64_t extent_offset;       /* FLAT: sectors into the file */
  bool has_parent;              /* parentCID set or parentFileNameHint */
};

/* Parse `len` bytes of descriptor text (NUL padding allowed).  Errors
 * name `path`. */
int vmdk_desc_parse (const char *text, size_t len, const char *path,
                     struct vmdk_desc *d);
/* The descriptor a streamOptimized image embeds; caller frees. */
char *vmdk_desc_make (const char *extent_name, uint64_t capacity,
                      const char *adapter_type);
/* 0 if `adapter` is one VMware knows (NULL = the default), else -1. */
int vmdk_adapter_ok (const char *adapter, const char *path);

#define VMDK_GT_CACHE 16              /* grain tables kept decoded */

struct vmdk_gt_slot {
  uint64_t index;               /* GD index of the cached table */
  bool valid;
  uint32_t *entries;            /* num_gtes_per_gt, host order */
};

struct vmdk_stream;

struct vmdk {
  struct image img;
  int fd;                       /* the sparse extent or the flat file */
  uint64_t file_size;
  bool flat;                    /* a descriptor pointing at a flat file */
  uint64_t flat_offset;         /* bytes into the flat file */
  char subformat[64];
  char adapter_type[32];

  /* Sparse geometry, from the header (or footer). */
  uint32_t version, flags;
  uint64_t capacity;            /* sectors */
  uint64_t grain_sectors, grain_bytes;
  uint32_t gtes;                /* entries per grain table */
  uint64_t gd_offset;           /* sectors */
  uint64_t n_gd;                /* GD entries */
  uint64_t n_grains;
  bool compressed, markers, has_footer, unclean;
  uint32_t *gd;                 /* n_gd entries, host order */

  /* Reading state, under `lock` (the copy engine may read from threads). */
  pthread_mutex_t lock;
  struct vmdk_gt_slot gt_cache[VMDK_GT_CACHE];
  uint8_t *cbuf;                /* one compressed grain */
  size_t cbuf_cap;
  uint8_t *gbuf;                /* the last decompressed grain */
  uint64_t gbuf_grain;          /* its index, or UINT64_MAX */
  z_stream zs;
  bool zs_ready;

  struct vmdk_stream *w;        /* set when created for writing */
};

/* vmdk.c, shared with vmdk-check.c and vmdk-stream.c. */
struct vmdk *vmdk_new (void);          /* NULL + error */
void vmdk_free (struct vmdk *v);        /* NULL ok; not the writer */
/* Grain `g` decompressed into v->gbuf (compressed images); -1 + error. */
int vmdk_load_grain (struct vmdk *v, uint64_t g, uint32_t entry);
/* The GT entry of grain `g` (0 if its table is absent); -1 + error. */
int vmdk_lookup (struct vmdk *v, uint64_t g, uint32_t *entry);
/* Bytes of grain `g` inside the virtual disk (the last may be short). */
uint64_t vmdk_grain_len (const struct vmdk *v, uint64_t g);

/* vmdk-check.c */
int vmdk_check (struct image *img, struct strbuf *report);

/* vmdk-stream.c: the writer behind ->create / ->pwrite / ->flush. */
struct image *vmdk_stream_create (const char *path, uint64_t size,
                                  const struct image_create_opts *opts);
int vmdk_stream_pwrite (struct vmdk *v, const void *buf, size_t count,
                        uint64_t offset);
int vmdk_stream_flush (struct vmdk *v);
/* Write the tail (GT, GD, footer, EOS), fsync, close the fd, free. */
int vmdk_stream_finish (struct vmdk *v);

#endif
