/* vhd-int.h: private to the VHD driver — the on-disk layout (packed, with
 * compile-time size checks; big-endian on disk) and the state shared by
 * vhd.c (vtable, open, close, info), vhd-header.c (footer and dynamic
 * header: checksums, geometry, loading, building), vhd-io.c (BAT, block
 * bitmaps, read, write, extents), vhd-parent.c (parent locators and the
 * parent of a differencing disk), vhd-create.c and vhd-check.c.
 * On-disk facts: /work/shared/FORMATS.md. */
#ifndef FERRY_VHD_INT_H
#define FERRY_VHD_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/image/image.h"

struct strbuf;

#define VHD_SECTOR 512u
#define VHD_EPOCH 946684800           /* 2000-01-01T00:00:00Z as Unix time */
#define VHD_BAT_UNUSED 0xFFFFFFFFu
/* 512 KiB, as Microsoft's Azure VHD tools write: a used-block image then
 * carries at most 512 KiB of zeros around each run of data instead of
 * 2 MiB.  Hyper-V, QEMU, VirtualBox and blktap read any power of two up
 * to 2 MiB; -o block_size=2M writes what Hyper-V itself creates. */
#define VHD_DEFAULT_BLOCK_SIZE (512u << 10)
#define VHD_MIN_CREATE_BLOCK_SIZE (512u << 10)
#define VHD_MAX_CREATE_BLOCK_SIZE (2u << 20)
#define VHD_N_LOCATORS 8

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
  struct vhd_locator locators[VHD_N_LOCATORS];
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


#define VHD_ERR(v, fmt, ...) \
  error_set ("vhd: '%s': " fmt, (v)->img.path, ##__VA_ARGS__)

/* vhd.c */
int vhd_read_at (struct vhd *v, void *buf, size_t count, uint64_t offset);
int vhd_write_at (struct vhd *v, const void *buf, size_t count,
                  uint64_t offset);
struct vhd *vhd_alloc (const char *path);
void vhd_free (struct vhd *v);

/* vhd-header.c */
uint32_t vhd_footer_checksum (const struct vhd_footer *f);
uint32_t vhd_header_checksum (const struct vhd_header *h);
int vhd_footer_load (struct vhd *v);
int vhd_header_load (struct vhd *v);
int vhd_header_validate (struct vhd *v);
uint64_t vhd_locator_space (const struct vhd_locator *loc);
bool vhd_locator_used (const struct vhd_locator *loc);
void vhd_footer_init (struct vhd *v, uint32_t type, uint64_t size,
                      const uint8_t *uuid);
void vhd_header_init (struct vhd *v, uint64_t size, uint32_t block_size);

/* vhd-io.c */
int vhd_bat_load (struct vhd *v);
int vhd_meta_store (struct vhd *v);
int vhd_pread (struct image *img, void *buf, size_t count, uint64_t offset);
int vhd_pwrite (struct image *img, const void *buf, size_t count,
                uint64_t offset);
int vhd_extents (struct image *img, uint64_t offset, uint64_t length,
                 extent_vector *out);

/* vhd-parent.c */
int vhd_parent_open (struct vhd *v, unsigned depth);
int vhd_parent_open_new (struct vhd *v, const char *backing, char **used);
int vhd_parent_describe (struct vhd *v, const char *parent);

/* vhd-create.c */
struct image *vhd_create (const char *path, uint64_t size,
                          const struct image_create_opts *opts);

/* vhd-check.c */
int vhd_check (struct image *img, struct strbuf *report);

#endif
