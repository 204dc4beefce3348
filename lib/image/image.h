/* image.h: the disk image vtable.  Every format is one driver (raw.c,
 * nbd.c; vhd, vmdk and qcow2 as NAME.c with NAME-*.c split by concern)
 * exporting one `const struct image_ops`, registered in registry.c, which
 * probes by magic.  The copy engine (copy.c) and the commands only ever
 * see `struct image`.
 *
 * Ownership: image_open/image_create return an image the caller closes
 * with image_close (NULL is accepted).  All functions return 0 / -1 (or
 * NULL) and set the thread-local error (lib/common/error.h) with the path:
 *   "vhd: 'disk.vhd': BAT entry 7 points past end of file"
 */
#ifndef FERRY_IMAGE_H
#define FERRY_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/common/vector.h"

struct strbuf;
struct json;
struct hash;

/* A run of the virtual disk.  Extents returned by ->extents are sorted,
 * contiguous and cover exactly the range asked for. */
#define EXTENT_DATA 0      /* allocated, may hold data */
#define EXTENT_ZERO 1      /* reads as zeros (allocated or not) */
#define EXTENT_HOLE 3      /* unallocated: reads as zeros, or from backing */

struct extent {
  uint64_t offset;
  uint64_t length;
  uint32_t type;            /* EXTENT_DATA / EXTENT_ZERO / EXTENT_HOLE */
};
DEFINE_VECTOR_TYPE (extent_vector, struct extent);

/* Options for ->create.  Zero-initialise and set what you need. */
struct image_create_opts {
  const char *subformat;      /* vhd: "dynamic" (default) | "fixed";
                                 vmdk: "streamOptimized" (default);
                                 qcow2, raw: NULL */
  const char *backing;        /* parent/backing file (vhd differencing,
                                 qcow2 backing); NULL for none */
  const char *backing_format; /* qcow2 backing format, e.g. "qcow2", "raw" */
  const char *adapter_type;   /* vmdk ddb.adapterType: "lsilogic" (default),
                                 "ide", "buslogic", "pvscsi" */
  unsigned threads;           /* worker threads for compression; 0 = nproc */
  uint32_t block_size;        /* vhd dynamic/differencing: 512 KiB, 1 or
                                 2 MiB; 0 = the parent's, else 512 KiB */
  /* Sink (the OVA writer): with use_fd, create the image inside the
   * already-open, seekable `fd` from byte `fd_offset` on instead of
   * creating `path`, which then only names the image in messages (and in
   * a VMDK's descriptor).  The driver never closes the fd nor removes
   * anything on failure; fd = 0 is a valid descriptor, which is why
   * use_fd and not fd says whether the sink is used.  Supported by vmdk
   * (streamOptimized) and vhd (dynamic, no backing); others ignore it. */
  bool use_fd;
  int fd;
  uint64_t fd_offset;
  /* If not NULL, a successful close stores the image file's final length
   * in bytes (vmdk, vhd). */
  uint64_t *out_length;
  /* If not NULL, every byte of the image file is fed to it in file order
   * as it is written.  Only append-only writers can do that (vmdk); vhd
   * rewrites its header and BAT at close and refuses it. */
  struct hash *hash;
};

/* Flags for image_open. */
#define IMAGE_OPEN_RDWR   1u  /* default is read-only */
#define IMAGE_OPEN_RAW    2u  /* do not probe: treat as raw */

struct image_ops;

/* Common part of every open image.  A format embeds it as the FIRST
 * member of its own struct and casts (`struct vhd *v = (struct vhd *) img`). */
struct image {
  const struct image_ops *ops;
  char *path;                 /* as given by the user; owned */
  uint64_t size;              /* virtual size in bytes */
  bool writable;
  struct image *backing;      /* opened parent/backing, owned; or NULL */
};

struct image_ops {
  const char *name;           /* "raw", "vhd", "vmdk", "qcow2", "nbd" */

  /* Return true if this format recognises the file.  `head` holds the first
   * head_len bytes (up to 64 KiB, fewer for short files), `tail` the last
   * tail_len bytes (up to 512); file_size is the whole file's size.
   * NULL for formats that are never probed (raw is the fallback, nbd is
   * chosen by URI). */
  bool (*probe) (const uint8_t *head, size_t head_len,
                 const uint8_t *tail, size_t tail_len, uint64_t file_size);

  /* Open an existing image.  `depth` counts backing levels already opened
   * (image_open passes 0); a format opening its parent calls
   * image_open_backing (path, depth + 1) which refuses loops/deep chains. */
  struct image *(*open) (const char *path, unsigned flags, unsigned depth);

  /* Create a new image of `size` bytes at `path` (the file must not exist;
   * O_EXCL).  NULL if the format cannot be written. */
  struct image *(*create) (const char *path, uint64_t size,
                           const struct image_create_opts *opts);

  /* Read/write `count` bytes at `offset`; offset+count <= size is checked
   * by the image_* wrappers before these are called. */
  int (*pread) (struct image *img, void *buf, size_t count, uint64_t offset);
  int (*pwrite) (struct image *img, const void *buf, size_t count,
                 uint64_t offset);

  /* Append extents describing [offset, offset+length) to *out. */
  int (*extents) (struct image *img, uint64_t offset, uint64_t length,
                  extent_vector *out);

  /* Make [offset, offset+length) read as zeros on the medium, cheaply
   * where it can (raw: BLKZEROOUT on a block device, which uses the
   * device's write-zeroes or writes zeros itself; a hole punched in a
   * file).  0, -1, or 1 when the medium cannot here: image_zero then
   * writes zero buffers, as it does when this is NULL. */
  int (*zero) (struct image *img, uint64_t offset, uint64_t length);

  /* Make all written data durable: write metadata (BAT, GT/GD, refcounts,
   * footers), then fsync. */
  int (*flush) (struct image *img);

  /* Release everything; flushes first if writable.  Returns -1 if the final
   * flush failed (the object is freed regardless).  NULL is accepted by the
   * image_close wrapper. */
  int (*close) (struct image *img);

  /* Structural validation for `ferry check`.  Append one line per problem
   * to *report ("BAT entry 3 overlaps the BAT").  Return 0 when clean, 1
   * when problems were found, -1 on an I/O error.  May be NULL (no checks
   * beyond open). */
  int (*check) (struct image *img, struct strbuf *report);

  /* Hint that [offset, offset+length) will be read soon, so the kernel
   * can read it while the caller writes the previous chunk.  May be NULL. */
  void (*prefetch) (struct image *img, uint64_t offset, uint64_t length);

  /* Extra format-specific facts for `ferry info` as "key\tvalue\n" lines
   * appended to *out (e.g. "subformat\tdynamic\nblock_size\t2097152\n").
   * May be NULL. */
  int (*info) (struct image *img, struct strbuf *out);
};

/* Registry (registry.c). */
const struct image_ops *image_format_by_name (const char *name);
/* Open: "nbd://…"/"nbd+unix://…" go to the nbd driver; otherwise probe. */
struct image *image_open (const char *path, unsigned flags);
/* For formats opening a parent: refuses depth > IMAGE_MAX_CHAIN. */
#define IMAGE_MAX_CHAIN 64
struct image *image_open_backing (const char *path, unsigned depth);
struct image *image_create (const char *format, const char *path,
                            uint64_t size,
                            const struct image_create_opts *opts);

/* Bounds-checked wrappers around the vtable. */
int image_pread (struct image *img, void *buf, size_t count, uint64_t offset);
int image_pwrite (struct image *img, const void *buf, size_t count,
                  uint64_t offset);
int image_extents (struct image *img, uint64_t offset, uint64_t length,
                   extent_vector *out);
/* Zeros over [offset, offset+length), through ->zero or written. */
int image_zero (struct image *img, uint64_t offset, uint64_t length);
int image_flush (struct image *img);
void image_prefetch (struct image *img, uint64_t offset, uint64_t length);
int image_close (struct image *img);   /* NULL ok */
const char *image_format (const struct image *img);

/* Helpers for format implementations. */
/* Fill in the common part; returns -1 on ENOMEM. */
int image_init (struct image *img, const struct image_ops *ops,
                const char *path, uint64_t size, bool writable);
/* Free the common part (path; closes backing). */
void image_fini (struct image *img);
/* Append an extent, merging with the previous one when types match. */
int extent_add (extent_vector *v, uint64_t offset, uint64_t length,
                uint32_t type);

extern const struct image_ops raw_ops, vhd_ops, vmdk_ops, qcow2_ops,
  nbd_ops;

#endif
