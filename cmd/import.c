/* import.c: `ferry import` — verify an OVA or XVA package and restore its
 * VM for a target (libvirt, raw, xen, hyperv, vmware, virtualbox) in a new
 * directory that appears only when complete. */
#include "lib/common/compat.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/options.h"
#include "lib/common/cleanup.h"
#include "lib/common/error.h"
#include "lib/common/ids.h"
#include "lib/common/json.h"
#include "lib/common/outfile.h"
#include "lib/common/progress.h"
#include "lib/common/stagedir.h"
#include "lib/common/strbuf.h"
#include "lib/image/copy.h"
#include "ova/export.h"
#include "ova/hyperv.h"
#include "ova/libvirt.h"
#include "ova/ova-read.h"
#include "ova/ova-write.h"
#include "ova/target.h"
#include "ova/xva-read.h"

struct import_args {
  const char *package, *output, *to;
  const struct ova_target *t;
  bool new_identity, json, quiet, force;
};

struct import_job {
  struct ova_pkg pkg;
  struct ova_export_disks disks;        /* OVA targets: pkg's disks, taken */
  bool xva;                             /* the package is an XVA */
  struct stagedir sd;                   /* ".DIR.ferry-import-PID" beside
                                           a new DIR, inside an existing
                                           one; .final: DIR, absolute (the
                                           domain XML names disks by it) */
  bool into_existing;                   /* DIR existed: files renamed in */
  char stem[64];
  char *descriptor;                     /* final path of NAME.xml/.ps1/.ova */
  char *paths[VM_MAX_DISKS];            /* final absolute disk paths */
  uint64_t written[VM_MAX_DISKS];
};

/* ---- options ----------------------------------------------------------- */

static const char *const import_targets[] = {
  "libvirt", "raw", "xen", "hyperv", "vmware", "virtualbox", NULL,
};

static const struct cmd_option import_options[] = {
  CMD_OPT_STRING_OF (0, "to", struct import_args, to, "TARGET",
                     import_targets, "the target (above)"),
  CMD_OPT_STRING ('o', NULL, struct import_args, output, "DIR",
                  "the output directory: new, or existing and empty"),
  CMD_OPT_BOOL (0, "new-identity", struct import_args, new_identity,
                "a new UUID and new MACs with the target's vendor\n"
                "prefix instead of the package's own (a restore\n"
                "keeps them)"),
  CMD_OPT_BOOL (0, "force", struct import_args, force,
                "import into a DIR that is not empty, replacing\n"
                "files of the same names once all is written"),
  CMD_OPT_BOOL ('q', "quiet", struct import_args, quiet,
                "no progress meter or summary"),
  CMD_OPT_BOOL (0, "json", struct import_args, json,
                "print a JSON summary on stdout"),
  CMD_OPT_END
};

static const struct cmd_spec import_spec = {
  "import",
  "usage: ferry import PACKAGE --to TARGET -o DIR [options]\n\n"
  "Verify an OVA (plain, gzip- or xz-compressed tar, or an unpacked\n"
  "directory) or a XenServer XVA (plain or gzip-compressed; told apart by\n"
  "content) and restore its VM into the directory DIR: a new one, or an\n"
  "existing empty one (not empty: only with --force).  Its files appear\n"
  "only when everything is done.  Targets:\n"
  "  libvirt      qcow2 disks and a libvirt KVM domain NAME.xml\n"
  "  raw          raw disks and a libvirt KVM domain NAME.xml\n"
  "  xen          dynamic VHD disks and a libvirt Xen (libxl) domain "
  "NAME.xml\n"
  "  hyperv       dynamic VHD disks and NAME.ps1, which creates the VM\n"
  "  vmware       NAME.ova, VMware flavour, streamOptimized VMDK disks\n"
  "  virtualbox   NAME.ova, VirtualBox flavour, streamOptimized VMDK disks"
  "\n\n",
  import_options,
};

static int
parse_args (int argc, char **argv, struct import_args *a)
{
  int r, first;

  if ((r = cmd_options_parse (&import_spec, argc, argv, a, &first)) != 0)
    return r;
  if (argc - first != 1)
    return cmd_usage_error ("import", "give one PACKAGE");
  a->package = argv[first];
  if (a->output == NULL)
    return cmd_usage_error ("import", "no output directory given (-o DIR)");
  if (a->to == NULL)
    return cmd_usage_error ("import", "no target given (--to TARGET)");
  a->t = ova_target_find (a->to);
  if (a->t == NULL)
    return cmd_usage_error ("import", "--to: unknown target '%s' (libvirt, "
                            "raw, xen, hyperv, vmware, virtualbox)", a->to);
  return 0;
}

/* ---- disks ------------------------------------------------------------- */

static int
convert_disk (const struct import_args *a, struct import_job *job, size_t i)
{
  struct vm_disk *d = &job->pkg.vm.disks.ptr[i];
  CLEANUP_FREE char *file = xasprintf ("%s-disk%zu.%s", job->stem, i + 1,
                                       a->t->ext);

  if (file == NULL ||
      ova_stage_disk (&job->sd, &(struct ova_stage_disk) {
          .src = job->pkg.disks[i], .file = file, .format = a->t->format,
          .subformat = a->t->subformat, .label = d->file,
          .quiet = a->quiet || a->json,
        }, &job->written[i], &job->paths[i]) == -1)
    return error_prefix ("import: ");
  free (d->format);
  d->format = xstrdup (a->t->format);
  return d->format ? 0 : -1;
}

/* ---- the descriptors --------------------------------------------------- */

static int
write_domain (const struct import_args *a, struct import_job *job)
{
  if (libvirt_write_domain (&job->sd, job->stem, &job->pkg.vm, a->t->libvirt,
                            (const char *const *) job->paths,
                            &job->descriptor) == -1)
    return error_prefix ("import: ");
  return 0;
}

static int
write_ps1 (struct import_job *job)
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
write_ova (const struct import_args *a, struct import_job *job)
{
  struct ova_write_opts oo = { .flavour = a->t->ovf, .manifest = HASH_SHA256,
                               .stem = job->stem,
                               .quiet = a->quiet || a->json };
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

/* ---- reporting --------------------------------------------------------- */

/* Disk i's size: its image is the package's, or taken for an OVA. */
static uint64_t
disk_size (const struct import_job *job, size_t i)
{
  const struct image *img = job->pkg.disks[i] ? job->pkg.disks[i]
    : job->disks.in[i].src;

  return img->size;
}

static void
print_json (const struct import_args *a, const struct import_job *job)
{
  const struct vm *vm = &job->pkg.vm;
  char uuid[37], mac[18];
  struct json j;
  size_t i;

  ids_uuid_format (vm->uuid, uuid);
  json_init (&j, stdout);
  json_object_begin (&j);
  json_key_string (&j, "output", job->sd.final);
  json_key_string (&j, "target", a->to);
  json_key_string (&j, "package", job->xva ? "xva" : "ova");
  json_key_string (&j, "name", vm->name);
  json_key_string (&j, "uuid", uuid);
  json_key_string (&j, "descriptor", job->descriptor);
  json_key_bool (&j, "manifest_verified", job->pkg.manifest);
  json_key (&j, "disks");
  json_array_begin (&j);
  for (i = 0; i < vm->disks.len; i++) {
    json_object_begin (&j);
    json_key_string (&j, "path", job->paths[i] ? job->paths[i]
                     : job->descriptor);
    json_key_string (&j, "format", vm->disks.ptr[i].format);
    json_key_uint (&j, "size", disk_size (job, i));
    json_key_uint (&j, "bytes_written", job->written[i]);
    json_object_end (&j);
  }
  json_array_end (&j);
  json_key (&j, "macs");
  json_array_begin (&j);
  for (i = 0; i < vm->nics.len; i++) {
    ids_mac_format (vm->nics.ptr[i].mac, mac);
    json_string (&j, mac);
  }
  json_array_end (&j);
  json_key_bool (&j, "ok", true);
  json_object_end (&j);
  json_finish (&j);
}

static void
print_text (const struct import_job *job)
{
  char sz[32];
  size_t i;

  for (i = 0; i < job->pkg.vm.disks.len && job->paths[i]; i++) {
    format_bytes (sz, sizeof sz, disk_size (job, i));
    fprintf (stderr, "import: %-50s %10s\n", job->paths[i], sz);
  }
  fprintf (stderr, "import: %s (%s%s)\n", job->descriptor, job->pkg.vm.name,
           !job->pkg.manifest ? ", no manifest"
           : job->xva ? ", chunk checksums verified" : ", manifest verified");
}

/* ---- the output directory ---------------------------------------------- */

static bool
dir_is_empty (const char *path)
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
begin_existing (const struct import_args *a, struct import_job *job)
{
  CLEANUP_FREE char *inner = NULL;
  char *final;

  if (!a->force && !dir_is_empty (a->output))
    return error_set ("import: '%s': a directory that is not empty (use "
                      "--force to import into it)", a->output);
  if ((final = realpath (a->output, NULL)) == NULL)
    return error_errno ("import: '%s'", a->output);
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
begin_output (const struct import_args *a, struct import_job *job)
{
  struct stat st;

  if (stat (a->output, &st) == 0 && S_ISDIR (st.st_mode))
    return begin_existing (a, job);
  return stagedir_begin (&job->sd, a->output, "import", 0755, false);
}

/* The output files' final paths, the disks before the descriptor that
 * names them, and their count.  The vmware and virtualbox targets have
 * the descriptor only. */
static size_t
output_files (const struct import_job *job, const char **out)
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
check_target (const struct import_args *a, const char *to)
{
  struct stat st;

  if (lstat (to, &st) == -1)
    return errno == ENOENT ? 0 : error_errno ("import: '%s'", to);
  if (!a->force)
    return error_set ("import: '%s': already exists (use --force to "
                      "replace it)", to);
  if (!S_ISREG (st.st_mode))
    return error_set ("import: '%s': exists and is not a regular file", to);
  return 0;
}

/* Move one staged file onto `to`: replacing only with --force; else no
 * replace (renameat2, or link + unlink where the file system lacks it). */
static int
move_in (const struct import_args *a, const struct import_job *job,
         const char *to)
{
  const char *base = strrchr (to, '/') + 1;
  CLEANUP_FREE char *from = xasprintf ("%s/%s", job->sd.path, base);
  int r;

  if (from == NULL)
    return -1;
  if (a->force)
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
publish_existing (const struct import_args *a, struct import_job *job)
{
  const char *files[VM_MAX_DISKS + 1];
  size_t i, n = output_files (job, files);

  if (fsync_dir (job->sd.path) == -1)
    return -1;
  for (i = 0; i < n; i++)
    if (check_target (a, files[i]) == -1)
      return -1;
  for (i = 0; i < n; i++)
    if (move_in (a, job, files[i]) == -1)
      return -1;
  return fsync_dir (job->sd.final);
}

static int
publish (const struct import_args *a, struct import_job *job)
{
  if (job->into_existing)
    return publish_existing (a, job);
  if (stagedir_commit (&job->sd) == -1)
    return error_prefix ("import: ");
  return 0;
}

/* ---- the command ------------------------------------------------------- */

static int
read_package (const struct import_args *a, struct import_job *job)
{
  job->xva = xva_probe (a->package);
  return job->xva ? xva_read (a->package, job->sd.path, &job->pkg)
    : ova_read (a->package, job->sd.path, &job->pkg);
}

static int
write_target (const struct import_args *a, struct import_job *job)
{
  size_t i;

  if (a->t->out == OVA_OUT_OVA)
    return write_ova (a, job);
  for (i = 0; i < job->pkg.vm.disks.len; i++)
    if (convert_disk (a, job, i) == -1)
      return -1;
  return a->t->out == OVA_OUT_PS1 ? write_ps1 (job) : write_domain (a, job);
}

static int
run (const struct import_args *a, struct import_job *job)
{
  /* A restore keeps UUID and MACs (filling in only what is missing); a
   * new identity replaces them all, with the target's vendor prefix. */
  if (begin_output (a, job) == -1 ||
      read_package (a, job) == -1 ||
      vm_new_identity (&job->pkg.vm, ova_target_mac_prefix (a->t),
                       a->new_identity) == -1)
    return -1;
  vm_make_stem (job->pkg.vm.name, SIZE_MAX, job->stem, sizeof job->stem);
  /* The staging directory becomes DIR, never replacing anything; or its
   * files are renamed into an existing DIR. */
  if (write_target (a, job) == -1 || publish (a, job) == -1)
    return -1;
  if (a->json)
    print_json (a, job);
  else if (!a->quiet)
    print_text (job);
  return 0;
}

static void
job_free (struct import_job *job)
{
  size_t i;

  ova_export_disks_close (&job->disks);
  ova_pkg_free (&job->pkg);
  stagedir_abort (&job->sd);
  for (i = 0; i < VM_MAX_DISKS; i++)
    free (job->paths[i]);
  free (job->descriptor);
}

int
cmd_import (int argc, char **argv)
{
  static struct import_args a;
  static struct import_job job;
  int r;

  if ((r = parse_args (argc, argv, &a)) != 0)
    return r == -1 ? EXIT_OK : r;
  outfile_install_signal_handlers ();
  vm_init (&job.pkg.vm);
  r = run (&a, &job);
  job_free (&job);
  return r == -1 ? cmd_fail () : EXIT_OK;
}
