/* cow.h: clone disks made from a golden disk — a qcow2 overlay, a VHD
 * differencing disk, a reflink (FICLONE) or an independent copy of the
 * golden's used blocks — without ever writing the golden.
 *
 *   struct cow_golden g = { 0 };
 *   if (cow_golden_open (&g, "golden.qcow2") == -1 ||
 *       cow_plan (&g, COW_AUTO) == -1) ... error_get ()
 *   for each clone: cow_make (&g, ".web-01-disk1.qcow2.tmp", &o, &made)
 *   cow_golden_close (&g);
 *
 * Overlays name the golden by its canonical absolute path (realpath):
 * clone directories are moved apart from their golden (a template store
 * and a per-project DIR), libvirt definitions name disks absolutely, and a
 * symlink the user later points at a new golden must not change the base
 * under existing clones.  The golden is named as it is: its own backing
 * chain (one the user built) is kept, never flattened, until it is
 * COW_MAX_CHAIN images deep.
 *
 * Ownership: struct cow_golden owns its path, image and used-block map;
 * cow_golden_close releases them (safe on a zeroed struct).
 */
#ifndef FERRY_CLONE_COW_H
#define FERRY_CLONE_COW_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/disk/usedmap.h"
#include "lib/image/image.h"

enum cow_method {
  COW_AUTO = 0,       /* by the golden: qcow2, vhd, reflink (raw) or full */
  COW_QCOW2,          /* qcow2 overlay, backing format recorded */
  COW_VHD,            /* VHD differencing disk (XenServer fast clone) */
  COW_REFLINK,        /* ioctl (FICLONE): shared extents, same filesystem */
  COW_FULL,           /* independent copy of the used blocks */
};

/* xapi's cap on VHD chains: a golden whose chain already holds this many
 * images is flattened (full copies) rather than overlaid once more. */
#define COW_MAX_CHAIN 30

struct cow_golden {
  char *path;               /* canonical absolute path */
  struct image *img;        /* open read-only, with its whole chain */
  unsigned depth;           /* images in the chain: 1 = no backing file */
  enum cow_method method;   /* what its clones get (cow_plan) */
  const char *why;          /* one phrase saying why (static) */
  bool may_fall_back;       /* auto reflink: copy when refused */
  struct usedmap map;       /* full copies: built at the first one */
  bool has_map;
};

const char *cow_method_name (enum cow_method m);    /* "qcow2", ... */
int cow_method_parse (const char *s, enum cow_method *m);

/* Open `path` read-only as a golden.  Refuses a golden another process
 * holds open for writing (a running VM: qemu's image locks, below). */
int cow_golden_open (struct cow_golden *g, const char *path);
void cow_golden_close (struct cow_golden *g);

/* Whether another process holds `path` with write permission by qemu's
 * locking protocol (block/file-posix.c): each permission bit i has a
 * lock byte at 100 + i, which a holder of the permission locks shared;
 * BLK_PERM_WRITE is bit 1, so a writer holds byte 101.  Tested with
 * F_OFD_GETLK (qemu's own test), which takes no lock.  1 yes, 0 no, -1
 * with the error set. */
int cow_file_write_locked (const char *path);

/* Decide the method for `want` and set g->method and g->why.  -1 with the
 * error set when `want` cannot apply: vhd for a golden that is no VHD,
 * reflink for a golden that is not one plain file.  A golden already
 * COW_MAX_CHAIN deep gets full copies whatever is asked, and why says so. */
int cow_plan (struct cow_golden *g, enum cow_method want);

/* The image format of the clone disks g->method makes ("qcow2", "vhd",
 * "raw"); full copies keep raw, qcow2 and VHD goldens' formats and make
 * qcow2 of the others. */
const char *cow_clone_format (const struct cow_golden *g);

struct cow_make_opts {
  const char *label;        /* progress label of a full copy */
  bool quiet;               /* no progress meter */
};

struct cow_made {
  enum cow_method method;   /* what was done for this disk */
  uint64_t bytes_written;   /* full copies: data bytes; else 0 */
};

/* Make the clone disk `path` (which must not exist) from g.  An automatic
 * reflink that the filesystem refuses (EOPNOTSUPP, EXDEV, EINVAL: no
 * reflinks here, another filesystem) turns g into full copies, with the
 * reason in g->why, for this disk and the next.  Nothing is left at
 * `path` on failure.  0, or -1 with the error set. */
int cow_make (struct cow_golden *g, const char *path,
              const struct cow_make_opts *o, struct cow_made *made);

#endif
