/* import.c: `ferry import` — verify an OVA package and restore its VM as a
 * libvirt KVM domain with qcow2 (or raw) disks in a new directory. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/fullrw.h"
#include "common/ids.h"
#include "common/json.h"
#include "common/outfile.h"
#include "common/progress.h"
#include "common/strbuf.h"
#include "image/copy.h"
#include "ova/libvirt.h"
#include "ova/ova-read.h"

static const char usage_text[] =
  "usage: ferry import PACKAGE --to libvirt|raw -o DIR [options]\n\n"
  "Verify an OVA (plain, gzip- or xz-compressed tar, or an unpacked\n"
  "directory) and restore its VM into the new directory DIR: the disks\n"
  "converted (qcow2 for libvirt, raw for raw) and a libvirt KVM domain\n"
  "NAME.xml naming them.  DIR appears only when everything is done.\n\n"
  "  --to libvirt|raw       the target (disk format)\n"
  "  -o DIR                 the output directory (must not exist)\n"
  "  --new-identity         a new UUID and new MACs (52:54:00:...) instead\n"
  "                         of the package's own (a restore keeps them)\n"
  "  -q, --quiet            no progress meter or summary\n"
  "  --json                 print a JSON summary on stdout\n";

struct import_args {
  const char *package, *output, *to;
  bool raw, new_identity, json, quiet;
};

struct import_job {
  struct ova_pkg pkg;
  char *final;                          /* absolute DIR */
  char *stage;                          /* temporary directory beside it */
  char stem[64];
  char *paths[VM_MAX_DISKS];            /* final absolute disk paths */
  uint64_t written[VM_MAX_DISKS];
};

/* ---- options ----------------------------------------------------------- */

static int
parse_opts (int argc, char **argv, struct import_args *a)
{
  static const struct option longopts[] = {
    { "to", required_argument, NULL, 't' },
    { "new-identity", no_argument, NULL, 'N' },
    { "quiet", no_argument, NULL, 'q' },
    { "json", no_argument, NULL, 'j' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  int c;

  while ((c = getopt_long (argc, argv, "o:qh", longopts, NULL)) != -1) {
    switch (c) {
    case 'o': a->output = optarg; break;
    case 't': a->to = optarg; break;
    case 'N': a->new_identity = true; break;
    case 'q': a->quiet = true; break;
    case 'j': a->json = true; break;
    case 'h': fputs (usage_text, stdout); return -1;
    default: return cmd_usage_error ("import", "bad option");
    }
  }
  return 0;
}

static int
parse_args (int argc, char **argv, struct import_args *a)
{
  int r;

  if ((r = parse_opts (argc, argv, a)) != 0)
    return r;
  if (argc - optind != 1)
    return cmd_usage_error ("import", "give one PACKAGE");
  a->package = argv[optind];
  if (a->output == NULL)
    return cmd_usage_error ("import", "no output directory given (-o DIR)");
  if (a->to == NULL)
    return cmd_usage_error ("import", "no target given (--to libvirt|raw)");
  if (strcmp (a->to, "libvirt") && strcmp (a->to, "raw"))
    return cmd_usage_error ("import", "--to: '%s' is not supported yet "
                            "(libvirt, raw)", a->to);
  a->raw = strcmp (a->to, "raw") == 0;
  return 0;
}

/* ---- the output directory ---------------------------------------------- */

/* DIR made absolute (the domain XML names disks by absolute path) and the
 * staging directory ".BASE.ferry-import-PID" beside it. */
static int
make_stage (const char *output, struct import_job *job)
{
  CLEANUP_FREE char *c1 = xstrdup (output), *c2 = xstrdup (output);
  char parent[PATH_MAX];
  const char *base;

  if (c1 == NULL || c2 == NULL)
    return -1;
  base = basename (c2);
  if (!strcmp (base, "/") || !strcmp (base, ".") || !strcmp (base, ".."))
    return error_set ("import: '%s': not a name for a new directory", output);
  if (access (output, F_OK) == 0 || errno != ENOENT)
    return error_set ("import: '%s': already exists", output);
  if (realpath (dirname (c1), parent) == NULL)
    return error_errno ("import: '%s'", output);
  job->final = xasprintf ("%s/%s", strcmp (parent, "/") ? parent : "", base);
  job->stage = xasprintf ("%s/.%s.ferry-import-%ld", parent, base,
                          (long) getpid ());
  if (job->final == NULL || job->stage == NULL)
    return -1;
  if (mkdir (job->stage, 0755) == -1) {
    free (job->stage);
    job->stage = NULL;
    return error_errno ("import: '%s'", output);
  }
  return 0;
}

/* Remove the staging directory and the plain files Ferry put in it. */
static void
remove_stage (const char *stage)
{
  DIR *d = opendir (stage);
  struct dirent *de;

  if (d == NULL)
    return;
  while ((de = readdir (d)) != NULL)
    if (strcmp (de->d_name, ".") && strcmp (de->d_name, ".."))
      unlinkat (dirfd (d), de->d_name, 0);
  closedir (d);
  rmdir (stage);
}

static int
fsync_path (const char *path, int flags)
{
  CLEANUP_CLOSE int fd = open (path, flags | O_RDONLY | O_CLOEXEC);

  if (fd == -1 || fsync (fd) == -1)
    return error_errno ("import: fsync '%s'", path);
  return 0;
}

/* The staging directory becomes DIR, never replacing anything there. */
static int
commit_stage (struct import_job *job)
{
  CLEANUP_FREE char *c = xstrdup (job->final);

  if (c == NULL || fsync_path (job->stage, O_DIRECTORY) == -1)
    return -1;
  if (renameat2 (AT_FDCWD, job->stage, AT_FDCWD, job->final,
                 RENAME_NOREPLACE) == -1)
    return error_errno ("import: '%s'", job->final);
  free (job->stage);
  job->stage = NULL;
  return fsync_path (dirname (c), O_DIRECTORY);
}

/* ---- identity ---------------------------------------------------------- */

static const uint8_t *const prefix_kvm = MAC_PREFIX_KVM;

/* A restore keeps UUID and MACs (filling in only what is missing); a new
 * identity replaces them all, MACs unique within the VM. */
static int
set_identity (struct vm *vm, bool fresh)
{
  uint8_t avoid[VM_MAX_NICS][6];
  size_t i, n = 0;

  if ((fresh || !vm->has_uuid) && uuid_generate (vm->uuid) == -1)
    return -1;
  vm->has_uuid = true;
  for (i = 0; i < vm->nics.len && i < VM_MAX_NICS; i++)
    if (vm->nics.ptr[i].has_mac && !fresh)
      memcpy (avoid[n++], vm->nics.ptr[i].mac, 6);
  for (i = 0; i < vm->nics.len && i < VM_MAX_NICS; i++) {
    struct vm_nic *nic = &vm->nics.ptr[i];
    if (nic->has_mac && !fresh)
      continue;
    if (mac_generate (prefix_kvm, (const uint8_t (*)[6]) avoid, n,
                      nic->mac) == -1)
      return -1;
    nic->has_mac = true;
    memcpy (avoid[n++], nic->mac, 6);
  }
  return 0;
}

/* ---- disks and the domain ---------------------------------------------- */

/* A file-name-friendly form of the VM name. */
static void
make_stem (const char *name, char *stem, size_t len)
{
  size_t i;

  for (i = 0; name && name[i] && i < len - 1; i++)
    stem[i] = strchr ("-._", name[i]) || (name[i] >= '0' && name[i] <= '9')
      || ((name[i] | 0x20) >= 'a' && (name[i] | 0x20) <= 'z') ? name[i] : '_';
  stem[i] = '\0';
  if (i == 0)
    snprintf (stem, len, "vm");
  else if (stem[0] == '.')
    stem[0] = '_';
}

static int
convert_disk (const struct import_args *a, struct import_job *job, size_t i)
{
  struct vm_disk *d = &job->pkg.vm.disks.ptr[i];
  const char *fmt = a->raw ? "raw" : "qcow2";
  CLEANUP_FREE char *file = xasprintf ("%s-disk%zu.%s", job->stem, i + 1,
                                       a->raw ? "img" : "qcow2");
  CLEANUP_FREE char *tmp = file ? xasprintf ("%s/%s", job->stage, file) : 0;
  struct image_create_opts co = { .subformat = NULL };
  struct copy_opts po = { .label = d->file, .quiet = a->quiet || a->json };
  struct copy_stats st = { .bytes_read = 0 };
  int r;

  if (tmp == NULL)
    return -1;
  r = image_convert (job->pkg.disks[i], fmt, tmp, &co, &po, false, &st);
  free (st.bad.ptr);
  if (r == -1)
    return error_prefix ("import: '%s': ", d->file);
  if (st.bytes_bad)
    return error_set ("import: '%s': unreadable ranges", d->file);
  job->written[i] = st.bytes_written;
  job->paths[i] = xasprintf ("%s/%s", job->final, file);
  free (d->format);
  d->format = xstrdup (fmt);
  return job->paths[i] && d->format ? 0 : -1;
}

static int
write_file (const char *path, const char *data, size_t len)
{
  int fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

  if (fd == -1)
    return error_errno ("import: '%s'", path);
  if (full_pwrite (fd, data, len, 0, path) == -1 ||
      (fsync (fd) == -1 && error_errno ("import: '%s'", path))) {
    close (fd);
    return -1;
  }
  if (close (fd) == -1)
    return error_errno ("import: '%s'", path);
  return 0;
}

static int
write_domain (struct import_job *job)
{
  struct strbuf xml = STRBUF_INIT;
  CLEANUP_FREE char *path = xasprintf ("%s/%s.xml", job->stage, job->stem);
  int r = -1;

  if (path && libvirt_write (&job->pkg.vm, LIBVIRT_KVM,
                             (const char *const *) job->paths, &xml) == 0)
    r = write_file (path, xml.buf, xml.len);
  strbuf_release (&xml);
  return r;
}

/* ---- reporting --------------------------------------------------------- */

static void
print_json (const struct import_args *a, const struct import_job *job)
{
  const struct vm *vm = &job->pkg.vm;
  char uuid[37], mac[18];
  struct json j;
  size_t i;

  uuid_format (vm->uuid, uuid);
  json_init (&j, stdout);
  json_object_begin (&j);
  json_key_string (&j, "output", job->final);
  json_key_string (&j, "target", a->to);
  json_key_string (&j, "name", vm->name);
  json_key_string (&j, "uuid", uuid);
  json_key_bool (&j, "manifest_verified", job->pkg.manifest);
  json_key (&j, "disks");
  json_array_begin (&j);
  for (i = 0; i < vm->disks.len; i++) {
    json_object_begin (&j);
    json_key_string (&j, "path", job->paths[i]);
    json_key_string (&j, "format", vm->disks.ptr[i].format);
    json_key_uint (&j, "size", job->pkg.disks[i]->size);
    json_key_uint (&j, "bytes_written", job->written[i]);
    json_object_end (&j);
  }
  json_array_end (&j);
  json_key (&j, "macs");
  json_array_begin (&j);
  for (i = 0; i < vm->nics.len; i++) {
    mac_format (vm->nics.ptr[i].mac, mac);
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

  for (i = 0; i < job->pkg.vm.disks.len; i++) {
    format_bytes (sz, sizeof sz, job->pkg.disks[i]->size);
    fprintf (stderr, "import: %-50s %10s\n", job->paths[i], sz);
  }
  fprintf (stderr, "import: %s/%s.xml (%s%s)\n", job->final, job->stem,
           job->pkg.vm.name,
           job->pkg.manifest ? ", manifest verified" : ", no manifest");
}

/* ---- the command ------------------------------------------------------- */

static int
run (const struct import_args *a, struct import_job *job)
{
  size_t i;

  if (make_stage (a->output, job) == -1 ||
      ova_read (a->package, job->stage, &job->pkg) == -1 ||
      set_identity (&job->pkg.vm, a->new_identity) == -1)
    return -1;
  make_stem (job->pkg.vm.name, job->stem, sizeof job->stem);
  for (i = 0; i < job->pkg.vm.disks.len; i++)
    if (convert_disk (a, job, i) == -1)
      return -1;
  if (write_domain (job) == -1 || commit_stage (job) == -1)
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

  ova_pkg_free (&job->pkg);
  if (job->stage)
    remove_stage (job->stage);
  for (i = 0; i < VM_MAX_DISKS; i++)
    free (job->paths[i]);
  free (job->stage);
  free (job->final);
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
