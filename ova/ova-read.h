/* ova-read.h: read an OVA package — a plain, gzip- or xz-compressed tar,
 * or an unpacked directory holding one .ovf — as hostile input: verify it
 * and hand back the VM and its disks, opened.
 *
 * Checks, each failing with one line "ova: 'PKG': ...": member names must
 * be plain (no "..", no absolute or nested names, no control characters),
 * members must be regular files (no links, devices, fifos), no duplicate
 * names, at most OVA_MAX_MEMBERS members, exactly one .ovf which comes
 * first and is at most OVF_MAX_SIZE bytes, a well-formed manifest (.mf,
 * SHA1 or SHA256 lines) that covers every member but itself and the .cert
 * and matches each (a mismatch is fatal), every file the OVF references
 * present and no larger than its ovf:size, every disk of the declared
 * format, without backing file, and no larger than its OVF capacity.
 * A .cert (sign.h) must come with a manifest and its signature over the
 * manifest must verify with the certificate's public key (a mismatch or a
 * malformed .cert is fatal); the certificate chain is checked against a
 * trust store only with a CA file (ova_read_ca), otherwise not at all.
 *
 * Disks are not read in place: the image layer opens paths only (no byte
 * offset), and a compressed tar has no offsets anyway.  So each disk member
 * is extracted, sparse, into `workdir` (a fresh directory the caller owns,
 * inside the import's own temporary output), hashed on the way, opened,
 * and unlinked at once: the open image keeps the data, and no copy is
 * left behind whatever happens next.  Without an ovf:size, a member is
 * capped at ova_extract_bound() of its declared capacity; a member whose
 * size is known is extracted only if the workdir has room for it.
 *
 * ova_inspect() walks a package once for `ferry info`: members are hashed
 * as they stream past, only the .ovf/ova.xml, manifest, .cert and each
 * disk's first block are kept, and nothing is extracted.
 */
#ifndef FERRY_OVA_READ_H
#define FERRY_OVA_READ_H

#include <stdbool.h>

#include "lib/common/hash.h"
#include "lib/image/image.h"
#include "ova/sign.h"
#include "ova/vm.h"

#define OVA_MAX_MEMBERS 1024
#define OVA_MAX_MANIFEST (1u << 20)

struct ova_pkg {
  struct vm vm;                         /* from the .ovf */
  struct image *disks[VM_MAX_DISKS];    /* disk i of vm, open read-only */
  bool manifest;                        /* a manifest was verified */
  bool compressed;                      /* the tar was gzip/xz/... */
  bool directory;                       /* an unpacked directory */
  bool signature;                       /* a .cert was present, verified */
  bool chain_checked;                   /* ...and chains to the CA file */
  char signer[OVA_SUBJECT_MAX];         /* its certificate's subject */
};

/* Read and verify `path` into *pkg (initialised by the call), extracting
 * the disks into `workdir`.  0, or -1 with the error set and *pkg empty. */
int ova_read (const char *path, const char *workdir, struct ova_pkg *pkg);
/* The same, also checking the .cert's certificate against the PEM CA
 * certificates of ca_file (NULL: not checked, as ova_read). */
int ova_read_ca (const char *path, const char *workdir, const char *ca_file,
                 struct ova_pkg *pkg);
/* Close the disks and free the VM.  NULL-safe. */
void ova_pkg_free (struct ova_pkg *pkg);

/* The largest a disk member of `format` with `capacity` virtual bytes may
 * be: the capacity plus room for the format's metadata (VMDK grain
 * markers and tables, VHD bitmaps and BAT, qcow2 tables); raw: exactly the
 * capacity.  Saturates instead of overflowing. */
uint64_t ova_extract_bound (const char *format, uint64_t capacity);
/* 0 if the filesystem of `dir` has `need` bytes free for an unprivileged
 * writer, else -1 + "not enough space in 'DIR' to extract 'NAME': ...". */
int ova_check_space (const char *dir, const char *name, uint64_t need);

/* ---- probing ----------------------------------------------------------- */

/* Headers ova_probe reads at most (a "./" entry, then the first member). */
#define OVA_PROBE_HEADERS 4

/* Whether `path` is a package `ferry import` reads, told the way its
 * readers open it (libarchive, so any tar it reads: ustar, GNU, pax and
 * pre-POSIX v7 as xva-img writes; plain or compressed): a directory
 * holding an .ovf; an XVA (xva_probe); or a regular file whose tar starts
 * with an .ovf or the .mf ova_read lets precede it.  A tar starting
 * otherwise, or not a tar at all (a raw image whose first block is zero
 * reads as an empty tar), is "no": the importer would refuse it.  Cheap:
 * one stat, and a few headers read, never member data. */
bool ova_probe (const char *path);

/* ---- inspecting (ferry info) ------------------------------------------- */

enum pkg_kind { PKG_OVA, PKG_XVA };

struct pkg_disk {
  bool present;                         /* its member(s) were found */
  uint64_t bytes;                       /* bytes in the package */
  uint64_t chunks;                      /* XVA: data chunks of the VDI */
  const char *detected;                 /* format by magic, "" if unknown */
  uint64_t header_capacity;             /* from that header; 0: unknown */
};

struct pkg_info {
  enum pkg_kind kind;
  const char *flavour;                  /* vmware, virtualbox, xenserver,
                                           unknown; "xva" for XVA */
  struct ova_pkg pkg;                   /* vm, compressed, directory,
                                           signature, signer; no disks */
  struct pkg_disk disks[VM_MAX_DISKS];
  size_t members;                       /* members in the archive */
  uint64_t member_bytes;                /* their bytes, headers excluded */
  bool manifest;                        /* a manifest is present */
  enum hash_kind manifest_kind;
  bool manifest_ok;                     /* ...and every member matches it */
  bool cert;                            /* a .cert is present */
  char *problem;                        /* why manifest or signature failed;
                                           NULL if none */
};

/* Inspect the package at `path` (OVA: tar, gzip/xz tar, directory; XVA:
 * tar) into *info.  Hostile structure (names, links, sizes, OVF) is an
 * error as in ova_read; a manifest or signature that does not verify is
 * not: manifest_ok/signature stay false and `problem` says why.  ca_file
 * as in ova_read_ca.  0, or -1 + error. */
int ova_inspect (const char *path, const char *ca_file,
                 struct pkg_info *info);
void pkg_info_free (struct pkg_info *info);         /* NULL-safe */

#endif
