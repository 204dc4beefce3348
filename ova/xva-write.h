/* xva-write.h: write a XenServer XVA (`xe vm-export` format) — ova.xml,
 * then each VDI as 1 MiB chunks with XXH64 checksums.
 *
 * The tar holds ova.xml first, then per VDI, in lexicographic order of the
 * refs ("Ref:10" before "Ref:2"), `Ref:N/%08d` chunks each followed by its
 * `.xxhash` (16 upper-case hex digits).  All-zero chunks are left out
 * except the first and the last (which may be short): xapi's importer
 * counts each missing number as one zero chunk.  The disks come through
 * the copy engine, so the used-block mask and zero detection decide what
 * is read; every chunk's size is known when it is written, so the archive
 * streams through libarchive.  The output appears atomically (outfile.h).
 */
#ifndef FERRY_XVA_WRITE_H
#define FERRY_XVA_WRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ova/ova-write.h"
#include "ova/vm.h"

#define XVA_CHUNK (1u << 20)

struct xva_write_opts {
  bool overwrite, quiet;
};

struct xva_disk_result {
  char ref[24];                 /* the VDI's "Ref:N", its directory */
  uint64_t chunks_written;      /* chunks stored (first and last included) */
  uint64_t chunks_skipped;      /* all-zero chunks left out */
  uint64_t bytes_read, bytes_skipped;
  double seconds;
};

struct xva_result {
  struct xva_disk_result disks[VM_MAX_DISKS];  /* in vm->disks order */
  size_t n_disks;
};

/* Write `vm` with its disks (disks[i] is the source of vm->disks.ptr[i],
 * whose capacity is the VDI's virtual size, at least the source's size)
 * to `path`.  0, or -1 with the error set and nothing left at `path`. */
int xva_write (const char *path, const struct vm *vm,
               const struct ova_disk_in *disks,
               const struct xva_write_opts *o, struct xva_result *res);

#endif
