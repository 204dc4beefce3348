/* export-job.c: `ferry export`'s job — the VM built from images, a
 * libvirt domain or a package, its disks streamed into an OVA, an XVA or
 * a libvirt domain directory (export-job.h). */
#include "lib/common/compat.h"

#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/common/cleanup.h"
#include "lib/common/error.h"
#include "lib/common/strbuf.h"
#include "ova/export-job.h"
#include "ova/sign.h"
#include "ova/virt.h"
#include "ova/xva-read.h"

#define LIBVIRT_OUT(o) ((o)->out == OVA_OUT_LIBVIRT)
#define XVA_OUT(o) ((o)->out == OVA_OUT_XVA)

/* ---- the staging directory --------------------------------------------- */

/* A package's disks are extracted, and a libvirt DIR is built, in a
 * private directory ".BASE.ferry-export-PID" beside the output; the
 * output appears only when complete, and everything else goes with the
 * directory on success, failure or signal (common/stagedir.h).
 *
 * OUT made absolute (a domain XML names disks by absolute path) and the
 * staging directory beside it.  An existing OUT is refused unless it is
 * a package replaced with --force.  A package's staging stays private; a
 * libvirt DIR is the output. */
static int
make_stage (const struct ova_export_job_opts *o, struct ova_export_job *job)
{
  return stagedir_begin (&job->sd, o->output, "export",
                         LIBVIRT_OUT (o) ? 0755 : 0700, o->force);
}

/* Where the package is written: inside the staging directory when there
 * is one, so that its temporary goes with it. */
static char *
package_path (const struct ova_export_job_opts *o,
              const struct ova_export_job *job)
{
  CLEANUP_FREE char *c = xstrdup (o->output);

  if (job->sd.path == NULL)
    return xstrdup (o->output);
  return c ? xasprintf ("%s/%s", job->sd.path, basename (c)) : NULL;
}

/* Move the staged output into place: the package file (replacing OUT only
 * with --force), or the whole directory (never replacing anything). */
static int
commit_stage (const struct ova_export_job_opts *o,
              struct ova_export_job *job)
{
  CLEANUP_FREE char *c = xstrdup (o->output);

  if (c == NULL)
    return -1;
  if ((LIBVIRT_OUT (o) ? stagedir_commit (&job->sd)
       : stagedir_commit_file (&job->sd, basename (c), o->force)) == -1)
    return error_prefix ("export: ");
  return 0;
}

/* ---- the VM ------------------------------------------------------------ */

/* The output as a hypervisor target (ova/target.h), which chooses the
 * bus of new disks and the prefix of new MACs. */
static struct ova_target
output_target (const struct ova_export_job_opts *o)
{
  struct ova_target t = { .libvirt = o->lv, .ovf = o->flavour,
                          .out = o->out };

  return t;
}

static enum vm_bus
default_bus (const struct ova_export_job_opts *o)
{
  struct ova_target t = output_target (o);

  return ova_target_bus (&t);
}

static int
vm_from_args (const struct ova_export_job_opts *o, struct vm *vm)
{
  struct vm_options vo = o->opt;

  vo.bus = default_bus (o);
  vo.images = o->images;
  vo.n_images = o->n_images;
  vo.nics = o->nics;
  vo.n_nics = o->n_nics;
  return vm_from_options (vm, &vo);
}

static void
apply_overrides (const struct ova_export_job_opts *o, struct vm *vm)
{
  if (o->has_cpus) vm->cpus = o->opt.cpus;
  if (o->has_memory) vm->memory_mib = o->opt.memory_mib;
  if (o->has_firmware) vm->firmware = o->opt.firmware;
  if (o->has_os) vm->os = o->opt.os;
}

/* The domain's definition: a file, or with --connect the domain of that
 * name, read through libvirt's API while it is shut off. */
static int
read_domain (const struct ova_export_job_opts *o, struct vm *vm)
{
  struct virt *v;
  int r;

  if (o->connect) {
    if ((v = virt_open (o->connect)) == NULL)
      return -1;
    r = virt_read_vm (v, o->from_libvirt, vm);
    virt_close (v);
    return r;
  }
  return libvirt_parse_file (o->from_libvirt, vm);
}

static int
vm_from_libvirt (const struct ova_export_job_opts *o, struct vm *vm)
{
  size_t i;

  if (read_domain (o, vm) == -1)
    return -1;
  if (vm->disks.len == 0)
    return error_set ("'%s': the domain has no disks", o->from_libvirt);
  for (i = 0; i < o->n_nics; i++)
    if (vm_add_nic_spec (vm, o->nics[i]) == -1)
      return -1;
  apply_overrides (o, vm);
  return 0;
}

/* The package's VM and disks move into the job: the disks are already
 * extracted into the staging directory and unlinked (ova-read.h).  Its
 * UUID and MACs are kept; options override the rest, --nic replaces the
 * NICs.  Disks move to the bus of a Xen output, or off the xen bus for
 * any other. */
static int
vm_from_package (const struct ova_export_job_opts *o,
                 struct ova_export_job *job)
{
  struct vm *vm = &job->vm;
  size_t i;

  if ((xva_probe (o->from_pkg)
       ? xva_read (o->from_pkg, job->sd.path, &job->pkg)
       : ova_read (o->from_pkg, job->sd.path, &job->pkg)) == -1)
    return -1;
  vm_free (vm);
  *vm = job->pkg.vm;
  vm_init (&job->pkg.vm);
  for (i = 0; i < vm->disks.len; i++)
    if (default_bus (o) == VM_BUS_XEN || vm->disks.ptr[i].bus == VM_BUS_XEN)
      vm->disks.ptr[i].bus = default_bus (o);
  if (o->n_nics > 0) {
    for (i = 0; i < vm->nics.len; i++) {
      free (vm->nics.ptr[i].network);
      free (vm->nics.ptr[i].model);
    }
    vm->nics.len = 0;
  }
  for (i = 0; i < o->n_nics; i++)
    if (vm_add_nic_spec (vm, o->nics[i]) == -1)
      return -1;
  apply_overrides (o, vm);
  return 0;
}

static int
build_vm (const struct ova_export_job_opts *o, struct ova_export_job *job)
{
  CLEANUP_FREE char *c = xstrdup (o->output);
  struct ova_target t;
  const char *base;
  size_t n;
  int r;

  if (c == NULL)
    return -1;
  /* Member names are built from the output's name (a package's without
   * its ".ova"/".xva", or the libvirt directory's). */
  base = basename (c);
  n = strlen (base);
  vm_make_stem (base, n - (!LIBVIRT_OUT (o) && n >= 4 ? 4 : 0), job->stem,
                 sizeof job->stem);
  if (o->from_pkg)
    r = vm_from_package (o, job);
  else if (o->from_libvirt)
    r = vm_from_libvirt (o, &job->vm);
  else
    r = vm_from_args (o, &job->vm);
  if (r == -1)
    return -1;
  if (o->name || job->vm.name == NULL) {
    free (job->vm.name);
    if ((job->vm.name = xstrdup (o->name ? o->name : job->stem)) == NULL)
      return -1;
  }
  /* NICs without a MAC get one with the flavour's prefix. */
  t = output_target (o);
  return vm_fill_macs (&job->vm, ova_target_mac_prefix (&t), false);
}

/* ---- the disks --------------------------------------------------------- */

/* Each disk's source (its host path, or the package's extracted disk,
 * moved) opened with its used-block map; the disk becomes a package
 * member: file = member name, format = the package's, capacity from the
 * image (whole sectors). */
static int
open_disks (const struct ova_export_job_opts *o, struct ova_export_job *job)
{
  struct ova_export_opts eo = {
    .stem = job->stem, .all_blocks = o->all_blocks,
    .format = LIBVIRT_OUT (o) ? "qcow2" : XVA_OUT (o) ? "raw"
      : o->flavour == OVF_XENSERVER ? "vhd" : "vmdk",
    .srcs = o->from_pkg ? job->pkg.disks : NULL,
  };

  return ova_export_disks_open (&job->disks, &job->vm, &eo);
}

/* ---- libvirt ----------------------------------------------------------- */

/* Disk i becomes DIR/STEM-diskN.qcow2, through the copy engine with the
 * used-block mask (or every non-zero block with --all-blocks). */
static int
convert_disk (const struct ova_export_job_opts *o, struct ova_export_job *job,
              size_t i)
{
  if (ova_stage_disk (&job->sd, &(struct ova_stage_disk) {
          .src = job->disks.in[i].src, .file = job->vm.disks.ptr[i].file,
          .format = "qcow2", .label = job->disks.in[i].src->path,
          .mask = job->disks.in[i].mask, .quiet = o->quiet,
        }, &job->written[i], &job->paths[i]) == -1)
    return error_prefix ("export: ");
  return 0;
}

/* DIR/NAME.xml naming the disks by their final absolute paths. */
static int
write_libvirt (const struct ova_export_job_opts *o, struct ova_export_job *job)
{
  char stem[64];
  size_t i;

  for (i = 0; i < job->vm.disks.len; i++)
    if (convert_disk (o, job, i) == -1)
      return -1;
  vm_make_stem (job->vm.name, SIZE_MAX, stem, sizeof stem);
  if (libvirt_write_domain (&job->sd, stem, &job->vm, o->lv,
                            (const char *const *) job->paths,
                            &job->descriptor) == -1)
    return error_prefix ("export: ");
  return 0;
}

static int
run (const struct ova_export_job_opts *o, struct ova_export_job *job)
{
  struct ova_write_opts oo = {
    .flavour = o->flavour, .manifest = o->manifest, .stem = job->stem,
    .overwrite = o->force, .quiet = o->quiet,
  };
  struct xva_write_opts xo = { .overwrite = o->force, .quiet = o->quiet };
  CLEANUP_FREE char *path = NULL;

  if (o->sign_key &&
      (job->signer = ova_signer_load (o->sign_key, o->sign_cert)) == NULL)
    return -1;
  oo.signer = job->signer;
  if ((o->from_pkg || LIBVIRT_OUT (o)) && make_stage (o, job) == -1)
    return -1;
  if (build_vm (o, job) == -1 || open_disks (o, job) == -1)
    return -1;
  if (LIBVIRT_OUT (o)) {
    if (write_libvirt (o, job) == -1)
      return -1;
  } else {
    /* Inside the staging directory the package's own name is new. */
    oo.overwrite = xo.overwrite = o->force && job->sd.path == NULL;
    if ((path = package_path (o, job)) == NULL ||
        (XVA_OUT (o) ? xva_write (path, &job->vm, job->disks.in, &xo,
                             &job->xva)
         : ova_write (path, &job->vm, job->disks.in, &oo, &job->ova)) == -1)
      return -1;
  }
  if (job->sd.path && commit_stage (o, job) == -1)
    return -1;
  return 0;
}

int
ova_export_job_run (struct ova_export_job *job,
                    const struct ova_export_job_opts *o)
{
  vm_init (&job->vm);
  return run (o, job);
}

void
ova_export_job_free (struct ova_export_job *job)
{
  size_t i;

  ova_export_disks_close (&job->disks);
  vm_free (&job->vm);
  ova_signer_free (job->signer);
  ova_pkg_free (&job->pkg);
  stagedir_abort (&job->sd);
  for (i = 0; i < VM_MAX_DISKS; i++)
    free (job->paths[i]);
  free (job->descriptor);
  memset (job, 0, sizeof *job);
}

