/* import.c: `ferry import`'s job — a verified package restored for a
 * target into DIR, and for libvirt targets defined and started through
 * libvirt's API (import.h). */
#include "lib/common/compat.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/common/cleanup.h"
#include "lib/common/error.h"
#include "lib/common/outfile.h"
#include "lib/common/strbuf.h"
#include "ova/hyperv.h"
#include "ova/import.h"
#include "ova/libvirt.h"
#include "ova/ova-write.h"
#include "ova/virt.h"
#include "ova/xva-read.h"

/* What a run holds besides the job it reports into. */
struct run {
  const struct ova_import_opts *o;
  struct ova_import *job;
  struct virt *virt;                    /* with o->connect */
  enum libvirt_flavour flavour;         /* libvirt targets */
  struct strbuf xml;                    /* the domain XML written */
};

/* ---- libvirt ------------------------------------------------------------- */

/* --connect and --start only make sense for a libvirt domain. */
static int
check_opts (const struct ova_import_opts *o)
{
  if (o->connect && o->target->out != OVA_OUT_LIBVIRT)
    return error_set ("import: --connect '%s': only a libvirt domain is "
                      "defined in libvirt (--to libvirt, raw or xen), not "
                      "--to %s", o->connect, o->target->name);
  if (o->start && o->connect == NULL)
    return error_set ("import: --start needs --connect URI (the libvirt "
                      "to define and start the domain in)");
  return 0;
}

/* The connection: a URI that does not answer fails here. */
static int
open_virt (struct run *r)
{
  if (r->o->connect == NULL)
    return 0;
  if ((r->virt = virt_open (r->o->connect)) == NULL ||
      (r->job->connect = xstrdup (virt_uri (r->virt))) == NULL)
    return -1;
  return 0;
}

/* The domain type: a KVM domain becomes a QEMU (TCG) one where libvirt
 * offers no KVM (a kvm domain cannot start on a host without KVM), a Xen
 * PV domain is defined only where libvirt drives Xen (libxl).  Without a
 * connection the host is unknown: kvm, what libvirt hosts run. */
static int
pick_flavour (struct run *r)
{
  const char *type;

  r->flavour = r->o->target->libvirt;
  if (r->o->target->out != OVA_OUT_LIBVIRT)
    return 0;
  r->job->domain_type = r->flavour == LIBVIRT_XEN ? "xen" : "kvm";
  if (r->virt == NULL)
    return 0;
  if (r->flavour == LIBVIRT_XEN)
    return virt_check_offers (r->virt, "xen", "x86_64", "xen");
  if ((type = virt_hvm_type (r->virt, "x86_64")) == NULL)
    return -1;
  if (strcmp (type, "qemu") == 0)
    r->flavour = LIBVIRT_QEMU;
  r->job->domain_type = type;
  return 0;
}

/* Before anything is written: the name and UUID are free in libvirt. */
static int
check_free (struct run *r)
{
  const struct vm *vm = &r->job->pkg.vm;

  if (r->virt == NULL)
    return 0;
  if (vm->name == NULL || vm->name[0] == '\0')
    return error_set ("import: '%s': the VM has no name to define it by",
                      r->o->package);
  return virt_check_free (r->virt, vm->name, vm->uuid);
}

/* Before DIR and its staging are made: a name (or UUID) libvirt has is
 * refused without extracting a disk, when the descriptor can be read
 * alone.  check_free decides again from what ova_read verified. */
static int
check_free_early (struct run *r)
{
  struct vm vm;
  int ret = 0;

  if (r->virt == NULL)
    return 0;
  vm_init (&vm);
  if (ova_import_peek (r->o->package, &vm) && vm.name && vm.name[0])
    ret = virt_check_free (r->virt, vm.name, vm.has_uuid &&
                           !r->o->new_identity ? vm.uuid : NULL);
  vm_free (&vm);
  return ret;
}

/* Define the published domain, then start it. */
static int
define (struct run *r)
{
  struct ova_import *job = r->job;
  const char *name = job->pkg.vm.name;

  if (r->virt == NULL)
    return 0;
  if (virt_define (r->virt, r->xml.buf, name, job->pkg.vm.uuid) == -1)
    return error_prefix ("import: made, not defined (define '%s' by "
                         "hand): ", job->descriptor);
  job->defined = true;
  if (!r->o->start)
    return 0;
  if (virt_start (r->virt, name) == -1)
    return error_prefix ("import: defined, not started: ");
  job->started = true;
  return 0;
}

/* ---- the files ----------------------------------------------------------- */

static int
convert_disk (struct run *r, size_t i)
{
  struct ova_import *job = r->job;
  const struct ova_target *t = r->o->target;
  struct vm_disk *d = &job->pkg.vm.disks.ptr[i];
  CLEANUP_FREE char *file = xasprintf ("%s-disk%zu.%s", job->stem, i + 1,
                                       t->ext);

  if (file == NULL ||
      ova_stage_disk (&job->sd, &(struct ova_stage_disk) {
          .src = job->pkg.disks[i], .file = file, .format = t->format,
          .subformat = t->subformat, .label = d->file, .quiet = r->o->quiet,
        }, &job->written[i], &job->paths[i]) == -1)
    return error_prefix ("import: ");
  free (d->format);
  d->format = xstrdup (t->format);
  return d->format ? 0 : -1;
}

/* STAGE/STEM.xml, naming the disks by their final absolute paths; the
 * XML stays in r->xml for the define. */
static int
write_domain (struct run *r)
{
  struct ova_import *job = r->job;
  CLEANUP_FREE char *path = xasprintf ("%s/%s.xml", job->sd.path, job->stem);

  job->descriptor = xasprintf ("%s/%s.xml", job->sd.final, job->stem);
  if (path == NULL || job->descriptor == NULL ||
      libvirt_write (&job->pkg.vm, r->flavour,
                     (const char *const *) job->paths, &r->xml) == -1 ||
      outfile_write_new (path, r->xml.buf, r->xml.len) == -1)
    return error_prefix ("import: ");
  return 0;
}

static int
write_ps1 (struct ova_import *job)
{
  if (hyperv_write_script (&job->sd, job->stem, &job->pkg.vm,
                           (const char *const *) job->paths,
                           &job->descriptor) == -1)
    return error_prefix ("import: ");
  return 0;
}

/* vmware/virtualbox: the disks go straight into NAME.ova as
 * streamOptimized VMDKs; there is no separate disk file. */
static int
write_ova (struct run *r)
{
  struct ova_import *job = r->job;
  struct ova_write_opts oo = { .flavour = r->o->target->ovf,
                               .manifest = HASH_SHA256, .stem = job->stem,
                               .quiet = r->o->quiet };
  struct ova_export_opts eo = { .stem = job->stem, .format = "vmdk",
                                .all_blocks = true, .srcs = job->pkg.disks };
  static struct ova_result res;
  CLEANUP_FREE char *path = xasprintf ("%s/%s.ova", job->sd.path, job->stem);
  size_t i;

  job->descriptor = xasprintf ("%s/%s.ova", job->sd.final, job->stem);
  if (path == NULL || job->descriptor == NULL ||
      ova_export_disks_open (&job->disks, &job->pkg.vm, &eo) == -1)
    return -1;
  if (ova_write (path, &job->pkg.vm, job->disks.in, &oo, &res) == -1)
    return error_prefix ("import: ");
  for (i = 0; i < job->pkg.vm.disks.len && i + 1 < res.n_members; i++)
    job->written[i] = res.members[i + 1].size;
  return 0;
}

static int
write_target (struct run *r)
{
  const struct ova_target *t = r->o->target;
  size_t i;

  if (t->out == OVA_OUT_OVA)
    return write_ova (r);
  for (i = 0; i < r->job->pkg.vm.disks.len; i++)
    if (convert_disk (r, i) == -1)
      return -1;
  return t->out == OVA_OUT_PS1 ? write_ps1 (r->job) : write_domain (r);
}

/* ---- the output directory ------------------------------------------------ */

bool
ova_import_dir_is_empty (const char *path)
{
  DIR *d = opendir (path);
  struct dirent *de;
  bool empty = true;

  if (d == NULL)
    return false;
  while (empty && (de = readdir (d)) != NULL)
    empty = !strcmp (de->d_name, ".") || !strcmp (de->d_name, "..");
  closedir (d);
  return empty;
}

/* An existing DIR (virt-v2v -os wants one): staged inside it, so that the
 * renames publishing its files stay on its file system. */
static int
begin_existing (const struct ova_import_opts *o, struct ova_import *job)
{
  CLEANUP_FREE char *inner = NULL;
  char *final;

  if (!o->force && !ova_import_dir_is_empty (o->output))
    return error_set ("import: '%s': a directory that is not empty (use "
                      "--force to import into it)", o->output);
  if ((final = realpath (o->output, NULL)) == NULL)
    return error_errno ("import: '%s'", o->output);
  inner = xasprintf ("%s/.import", final);
  if (inner == NULL ||
      stagedir_begin (&job->sd, inner, "import", 0700, true) == -1) {
    free (final);
    return -1;
  }
  free (job->sd.final);
  job->sd.final = final;
  job->into_existing = true;
  return 0;
}

/* A new DIR is staged beside it and renamed into place at the end. */
static int
begin_output (const struct ova_import_opts *o, struct ova_import *job)
{
  struct stat st;

  if (stat (o->output, &st) == 0 && S_ISDIR (st.st_mode))
    return begin_existing (o, job);
  return stagedir_begin (&job->sd, o->output, "import", 0755, false);
}

/* The output files' final paths, the disks before the descriptor that
 * names them, and their count.  The vmware and virtualbox targets have
 * the descriptor only. */
static size_t
output_files (const struct ova_import *job, const char **out)
{
  size_t i, n = 0;

  for (i = 0; i < VM_MAX_DISKS; i++)
    if (job->paths[i])
      out[n++] = job->paths[i];
  out[n++] = job->descriptor;
  return n;
}

/* Whether final path `to` may be published: free, or with --force a
 * regular file to replace.  Checked for every file before any moves. */
static int
check_target (bool force, const char *to)
{
  struct stat st;

  if (lstat (to, &st) == -1)
    return errno == ENOENT ? 0 : error_errno ("import: '%s'", to);
  if (!force)
    return error_set ("import: '%s': already exists (use --force to "
                      "replace it)", to);
  if (!S_ISREG (st.st_mode))
    return error_set ("import: '%s': exists and is not a regular file", to);
  return 0;
}

/* Move one staged file onto `to`: replacing only with --force; else no
 * replace (renameat2, or link + unlink where the file system lacks it). */
static int
move_in (bool force, const struct ova_import *job, const char *to)
{
  const char *base = strrchr (to, '/') + 1;
  CLEANUP_FREE char *from = xasprintf ("%s/%s", job->sd.path, base);
  int r;

  if (from == NULL)
    return -1;
  if (force)
    r = rename (from, to);
  else if ((r = renameat2 (AT_FDCWD, from, AT_FDCWD, to,
                           RENAME_NOREPLACE)) == -1 &&
           (errno == EINVAL || errno == ENOSYS))
    r = link (from, to) == -1 ? -1 : unlink (from);
  return r == -1 ? error_errno ("import: '%s'", to) : 0;
}

static int
fsync_dir (const char *path)
{
  CLEANUP_CLOSE int fd = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

  if (fd == -1 || fsync (fd) == -1)
    return error_errno ("import: fsync '%s'", path);
  return 0;
}

/* Rename every output file from the staging directory into DIR, each one
 * whole: nothing is renamed unless every name may be taken. */
static int
publish_existing (bool force, struct ova_import *job)
{
  const char *files[VM_MAX_DISKS + 1];
  size_t i, n = output_files (job, files);

  if (fsync_dir (job->sd.path) == -1)
    return -1;
  for (i = 0; i < n; i++)
    if (check_target (force, files[i]) == -1)
      return -1;
  for (i = 0; i < n; i++)
    if (move_in (force, job, files[i]) == -1)
      return -1;
  return fsync_dir (job->sd.final);
}

/* The staging directory becomes DIR, never replacing anything; or its
 * files are renamed into an existing DIR. */
static int
publish (const struct ova_import_opts *o, struct ova_import *job)
{
  if (job->into_existing)
    return publish_existing (o->force, job);
  if (stagedir_commit (&job->sd) == -1)
    return error_prefix ("import: ");
  return 0;
}

/* ---- the job ------------------------------------------------------------- */

static int
read_package (const struct ova_import_opts *o, struct ova_import *job)
{
  job->xva = xva_probe (o->package);
  return job->xva ? xva_read (o->package, job->sd.path, &job->pkg)
    : ova_read (o->package, job->sd.path, &job->pkg);
}

static int
run (struct run *r)
{
  const struct ova_import_opts *o = r->o;
  struct ova_import *job = r->job;

  if (check_opts (o) == -1 || open_virt (r) == -1 ||
      check_free_early (r) == -1 || pick_flavour (r) == -1 ||
      begin_output (o, job) == -1 || read_package (o, job) == -1)
    return -1;
  /* A restore keeps UUID and MACs (filling in only what is missing); a
   * new identity replaces them all, with the target's vendor prefix. */
  if (vm_new_identity (&job->pkg.vm, ova_target_mac_prefix (o->target),
                       o->new_identity) == -1 ||
      check_free (r) == -1)
    return -1;
  vm_make_stem (job->pkg.vm.name, SIZE_MAX, job->stem, sizeof job->stem);
  if (write_target (r) == -1 || publish (o, job) == -1)
    return -1;
  return define (r);
}

int
ova_import_run (struct ova_import *job, const struct ova_import_opts *o)
{
  struct run r = { .o = o, .job = job, .xml = STRBUF_INIT };
  int ret;

  ret = run (&r);
  strbuf_release (&r.xml);
  virt_close (r.virt);
  return ret;
}

uint64_t
ova_import_disk_size (const struct ova_import *job, size_t i)
{
  const struct image *img = job->pkg.disks[i] ? job->pkg.disks[i]
    : job->disks.in[i].src;

  return img ? img->size : 0;
}

void
ova_import_free (struct ova_import *job)
{
  size_t i;

  ova_export_disks_close (&job->disks);
  ova_pkg_free (&job->pkg);
  stagedir_abort (&job->sd);
  for (i = 0; i < VM_MAX_DISKS; i++)
    free (job->paths[i]);
  free (job->descriptor);
  free (job->connect);
  memset (job, 0, sizeof *job);
}
