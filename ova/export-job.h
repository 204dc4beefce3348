/* export-job.h: `ferry export`'s job — a VM built from disk images and
 * settings, a libvirt domain (an XML file, or a shut-off domain read
 * through libvirt's API, virt.h) or another package, written as an OVA,
 * an XVA or a libvirt domain directory that appears only when complete.
 *
 *   static struct ova_export_job job;         (zeroed: empty)
 *   if (ova_export_job_run (&job, &opts) == -1) ... error_get ()
 *   ... job.vm, job.ova / job.xva / job.paths[i] ...
 *   ova_export_job_free (&job);
 *
 * A package's disks are extracted, and a libvirt DIR is built, in a
 * private staging directory ".BASE.ferry-export-PID" beside the output
 * (stagedir.h); an OVA or XVA made from images or a domain is written
 * straight to OUT (its writer makes it appear whole).  An existing OUT is
 * refused unless it is a package replaced with `force`; a DIR never
 * replaces anything.
 */
#ifndef FERRY_OVA_EXPORT_JOB_H
#define FERRY_OVA_EXPORT_JOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/common/hash.h"
#include "lib/common/stagedir.h"
#include "ova/export.h"
#include "ova/libvirt.h"
#include "ova/ova-read.h"
#include "ova/ova-write.h"
#include "ova/ovf.h"
#include "ova/target.h"
#include "ova/vm.h"
#include "ova/xva-write.h"

/* Exactly one source: images, from_libvirt or from_pkg (the caller
 * checks). */
struct ova_export_job_opts {
  const char *output;                   /* OUT.ova, OUT.xva, or DIR */
  enum ova_out out;                     /* OVA_OUT_OVA, _XVA or _LIBVIRT */
  enum ovf_flavour flavour;             /* an OVA's */
  enum libvirt_flavour lv;              /* a DIR's domain */
  enum hash_kind manifest;              /* an OVA's */
  const char *sign_key, *sign_cert;     /* sign an OVA's manifest */
  const char *const *images;            /* the disks, in order */
  size_t n_images;
  const char *from_libvirt;             /* a domain XML file, or with
                                           `connect` a domain's name */
  const char *connect;                  /* libvirt URI */
  const char *from_pkg;                 /* an OVA or XVA */
  const char *name;                     /* the VM's name; NULL: the
                                           source's, else OUT's stem */
  struct vm_options opt;                /* cpus, memory, firmware, os */
  bool has_cpus, has_memory, has_firmware, has_os;  /* given: override
                                           a domain's or package's */
  const char *const *nics;              /* --nic specs */
  size_t n_nics;
  bool all_blocks;                      /* every non-zero block */
  bool force;                           /* replace a package OUT */
  bool quiet;                           /* no progress meter */
};

/* Every pointer owned, freed by ova_export_job_free; zeroed is empty. */
struct ova_export_job {
  struct vm vm;                         /* the VM written */
  char stem[64];                        /* member names' stem, from OUT */
  struct ova_export_disks disks;        /* the sources, their maps */
  struct ova_signer *signer;
  struct ova_pkg pkg;                   /* from_pkg: the package read */
  struct stagedir sd;                   /* .path NULL: none */
  char *paths[VM_MAX_DISKS];            /* DIR: final absolute disk paths */
  uint64_t written[VM_MAX_DISKS];       /* DIR: bytes written per disk */
  char *descriptor;                     /* DIR: final path of NAME.xml */
  struct ova_result ova;                /* an OVA's members */
  struct xva_result xva;                /* an XVA's disks */
};

/* Run the export.  0, or -1 with the error set (nothing of the output
 * left behind). */
int ova_export_job_run (struct ova_export_job *job,
                        const struct ova_export_job_opts *o);

/* Close and free everything, removing what is left of the staging; the
 * job is empty afterwards.  Safe on an empty job. */
void ova_export_job_free (struct ova_export_job *job);

#endif
