/* import.h: `ferry import`'s job — a verified OVA or XVA restored for a
 * target (target.h) into a directory DIR whose files appear only when
 * complete, and for the libvirt targets optionally defined (and started)
 * in a running libvirt through its API (virt.h).
 *
 *   static struct ova_import job;             (zeroed: empty)
 *   if (ova_import_run (&job, &(struct ova_import_opts) {
 *         .package = "web.ova", .output = "/srv/vms/web",
 *         .target = ova_target_find ("libvirt"),
 *         .connect = "qemu:///system", .start = true }) == -1)
 *     ... error_get ()
 *   ... job.descriptor, job.paths[i], job.defined, job.started ...
 *   ova_import_free (&job);
 *
 * DIR is new (staged beside it as ".DIR.ferry-import-PID" and renamed
 * into place) or an existing directory, empty unless `force` (staged
 * inside it; its files renamed in, never replacing one unless `force`).
 *
 * With `connect` the order makes every refusal leave nothing behind: the
 * connection and the host's domain type first (a URI that does not answer
 * fails before anything is made; a KVM domain becomes a QEMU (TCG) one
 * where libvirt offers no KVM), the name and UUID of the package's
 * descriptor looked up (ova_import_peek: a domain libvirt has is refused
 * before DIR or its staging is made), then the package is read and
 * verified into the staging directory, the domain's name and UUID checked
 * free again (a domain is never replaced), and only then are the disks and
 * NAME.xml written and published into DIR.  The domain is defined from
 * that same XML once its disks are at their final absolute paths in DIR,
 * then started with `start`.  A define or start that fails after the
 * files are published leaves them in DIR and says so in the error:
 * "made, not defined (define 'DIR/NAME.xml' by hand): libvirt ...".
 * The disks are written on this machine: `connect` must be a libvirt that
 * sees this machine's file system (qemu:///system, a local socket).
 */
#ifndef FERRY_OVA_IMPORT_H
#define FERRY_OVA_IMPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/common/stagedir.h"
#include "ova/export.h"
#include "ova/ova-read.h"
#include "ova/target.h"

struct ova_import_opts {
  const char *package;                  /* OVA (tar or directory) or XVA */
  const char *output;                   /* DIR */
  const struct ova_target *target;
  const char *connect;                  /* libvirt URI; NULL: files only */
  bool start;                           /* start the domain (connect) */
  bool new_identity;                    /* new UUID and MACs */
  bool force;                           /* a DIR not empty; replace files */
  bool quiet;                           /* no progress meter */
};

/* The job and what it made; every pointer owned, freed by
 * ova_import_free.  Zeroed is empty. */
struct ova_import {
  struct ova_pkg pkg;                   /* pkg.vm: the VM as restored */
  struct ova_export_disks disks;        /* OVA targets: pkg's disks, taken */
  bool xva;                             /* the package is an XVA */
  struct stagedir sd;                   /* sd.final: DIR, absolute */
  bool into_existing;                   /* DIR existed: files renamed in */
  char stem[64];                        /* file names' stem, from the VM */
  char *descriptor;                     /* final path of NAME.xml/.ps1/.ova */
  char *paths[VM_MAX_DISKS];            /* final absolute disk paths; NULL
                                           for the .ova targets */
  uint64_t written[VM_MAX_DISKS];       /* bytes written per disk */
  const char *domain_type;              /* libvirt targets: "kvm", "qemu"
                                           or "xen"; static */
  char *connect;                        /* the URI as libvirt names it */
  bool defined, started;
};

/* Run the import (above).  0, or -1 with the error set; what was made
 * stays described in *job either way, for the caller to report. */
int ova_import_run (struct ova_import *job, const struct ova_import_opts *o);

/* Disk i's virtual size (the package's image, or the one taken for an
 * OVA target). */
uint64_t ova_import_disk_size (const struct ova_import *job, size_t i);

/* Remove what is left of the staging, close and free everything; the job
 * is empty afterwards.  Safe on an empty job. */
void ova_import_free (struct ova_import *job);

/* The VM the package at `path` describes, from its descriptor alone (an
 * unpacked OVA's .ovf, a tar's first member past "./" and a manifest: its
 * .ovf or an XVA's ova.xml), parsed as hostile as ova_read parses it but
 * nothing else read or verified: true with `vm` (vm_init()ed; the caller
 * vm_free()s it either way) filled.  False for anything else, including a
 * pipe (read once: only ova_read reads it).  Lets `connect` look the name
 * up before any disk is extracted; the name is looked up again after
 * ova_read, which alone is trusted. */
bool ova_import_peek (const char *path, struct vm *vm);

/* Whether the directory `path` holds no entry but "." and "..": false
 * also when it cannot be read.  Exposed for tests. */
bool ova_import_dir_is_empty (const char *path);

#endif
