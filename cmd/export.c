/* export.c: `ferry export` — package disk images and VM settings (from
 * options, a libvirt domain or another package) as an OVA, a XenServer
 * XVA or a libvirt domain directory. */
#include "lib/common/compat.h"

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
#include "lib/common/json.h"
#include "lib/common/outfile.h"
#include "lib/common/progress.h"
#include "lib/common/stagedir.h"
#include "lib/common/strbuf.h"
#include "lib/image/copy.h"
#include "ova/export.h"
#include "ova/libvirt.h"
#include "ova/ova-read.h"
#include "ova/ova-write.h"
#include "ova/target.h"
#include "ova/virt.h"
#include "ova/xva-read.h"
#include "ova/xva-write.h"

struct export_args {
  const char *output, *from_libvirt, *from_pkg, *name, *to, *connect;
  const char *sign_key, *sign_cert;
  enum ovf_flavour flavour;
  enum libvirt_flavour lv;      /* with `libvirt` */
  bool xva, libvirt, all_blocks, json, quiet, force;
  bool has_cpus, has_memory, has_firmware, has_os, has_flavour, has_manifest;
  struct vm_options opt;        /* cpus, memory, firmware, os from options */
  enum hash_kind manifest;
  char *nics[VM_MAX_NICS];
  size_t n_nics;
  char **images;
  int n_images;
};

struct export_job {
  struct vm vm;
  char stem[64];
  struct ova_export_disks disks;    /* the sources, their maps */
  struct ova_signer *signer;
  struct ova_pkg pkg;           /* --from: the package read */
  struct stagedir sd;           /* beside OUT or DIR; .path NULL: none */
  char *paths[VM_MAX_DISKS];    /* libvirt: final absolute disk paths */
  uint64_t written[VM_MAX_DISKS];   /* libvirt: bytes written per disk */
  char *descriptor;             /* libvirt: final path of NAME.xml */
};

/* ---- options ----------------------------------------------------------- */

static int
opt_cpus (void *args, const char *v)
{
  struct export_args *a = args;
  uint64_t n;

  if (cmd_parse_uint (v, VM_MAX_CPUS, &n) == -1 || n == 0)
    return error_set ("'%s' is not 1-%d", v, VM_MAX_CPUS);
  a->opt.cpus = (unsigned) n;
  a->has_cpus = true;
  return 0;
}

static int
opt_memory (void *args, const char *v)
{
  struct export_args *a = args;
  uint64_t n;

  if (cmd_parse_uint (v, VM_MAX_MEMORY_MIB, &n) == -1 || n == 0)
    return error_set ("'%s' is not a size in MiB", v);
  a->opt.memory_mib = n;
  a->has_memory = true;
  return 0;
}

static const char *const firmwares[] = { "bios", "uefi", NULL };

static int
opt_firmware (void *args, const char *v)
{
  struct export_args *a = args;

  if (strcmp (v, "bios") && strcmp (v, "uefi"))
    return error_set ("bios or uefi");
  a->opt.firmware = strcmp (v, "uefi") == 0 ? VM_FW_UEFI : VM_FW_BIOS;
  a->has_firmware = true;
  return 0;
}

static const char *const oses[] = {
  "other", "linux", "linux64", "debian64", "ubuntu64", "rhel64", "sles64",
  "windows64", NULL,
};

static int
opt_os (void *args, const char *v)
{
  struct export_args *a = args;

  if (vm_os_parse (v, &a->opt.os) == -1)
    return -1;
  a->has_os = true;
  return 0;
}

static const char *const manifests[] = { "sha256", "sha1", NULL };

static int
opt_manifest (void *args, const char *v)
{
  struct export_args *a = args;

  if (strcmp (v, "sha256") && strcmp (v, "sha1"))
    return error_set ("sha256 or sha1");
  a->manifest = strcmp (v, "sha1") == 0 ? HASH_SHA1 : HASH_SHA256;
  a->has_manifest = true;
  return 0;
}

static const char *const libvirt_targets[] = { "libvirt", "libvirt-xen",
                                               NULL };

static int
opt_to (void *args, const char *v)
{
  struct export_args *a = args;

  if (strcmp (v, "libvirt") && strcmp (v, "libvirt-xen"))
    return error_set ("libvirt or libvirt-xen");
  a->to = v;
  a->libvirt = true;
  a->lv = strcmp (v, "libvirt-xen") == 0 ? LIBVIRT_XEN : LIBVIRT_KVM;
  return 0;
}

static const char *const flavours[] = { "vmware", "virtualbox", "xenserver",
                                        NULL };

static int
opt_flavour (void *args, const char *v)
{
  struct export_args *a = args;

  if (ovf_flavour_parse (v, &a->flavour) == -1)
    return -1;
  a->has_flavour = true;
  return 0;
}

static int
opt_nic (void *args, const char *v)
{
  struct export_args *a = args;

  if (a->n_nics == VM_MAX_NICS)
    return error_set ("too many (limit %d)", VM_MAX_NICS);
  a->nics[a->n_nics++] = (char *) v;
  return 0;
}

static const struct cmd_option export_options[] = {
  CMD_OPT_STRING ('o', NULL, struct export_args, output, "OUT",
                  "OUT.ova or OUT.xva (the kind is the extension),\n"
                  "or a new directory DIR with --to"),
  CMD_OPT_FN (0, "to", opt_to, "TARGET", libvirt_targets,
              "libvirt or libvirt-xen: a libvirt KVM or Xen (libxl)\n"
              "domain in DIR"),
  CMD_OPT_FN (0, "flavour", opt_flavour, "F", flavours,
              "vmware (default), virtualbox or xenserver (OVA)"),
  CMD_OPT_FN (0, "flavor", opt_flavour, "F", flavours, NULL),
  CMD_OPT_STRING (0, "from-libvirt", struct export_args, from_libvirt,
                  "FILE|NAME",
                  "VM settings and disks from a domain XML FILE,\n"
                  "or with --connect the shut-off domain NAME"),
  CMD_OPT_STRING (0, "connect", struct export_args, connect, "URI",
                  "--from-libvirt names a domain defined in this\n"
                  "libvirt (e.g. qemu:///system), not a file"),
  CMD_OPT_STRING (0, "from", struct export_args, from_pkg, "PACKAGE",
                  "the VM and its disks from an OVA (tar, gzip/xz\n"
                  "tar or directory) or an XVA, verified first;\n"
                  "the options below override its settings"),
  CMD_OPT_STRING (0, "name", struct export_args, name, "NAME",
                  "VM name (default: OUT without extension)"),
  CMD_OPT_FN (0, "cpus", opt_cpus, "N", NULL, "virtual CPUs (default 1)"),
  CMD_OPT_FN (0, "memory", opt_memory, "MIB", NULL,
              "memory in MiB (default 1024)"),
  CMD_OPT_FN (0, "firmware", opt_firmware, "FW", firmwares,
              "bios (default) or uefi"),
  CMD_OPT_FN (0, "os", opt_os, "OS", oses,
              "other (default), linux, linux64, debian64,\n"
              "ubuntu64, rhel64, sles64, windows64"),
  CMD_OPT_FN (0, "nic", opt_nic, "[MAC][,network=NET][,model=M]", NULL,
              "a NIC (repeatable); without a MAC one is generated\n"
              "with the flavour's prefix; default: one NIC; with\n"
              "--from they replace the package's NICs"),
  CMD_OPT_BOOL (0, "all-blocks", struct export_args, all_blocks,
                "copy every non-zero block, ignoring filesystems"),
  CMD_OPT_FN (0, "manifest", opt_manifest, "HASH", manifests,
              "sha256 (default) or sha1"),
  CMD_OPT_STRING (0, "sign", struct export_args, sign_key, "KEY",
                  "sign the manifest (OVA only) with KEY (PEM, RSA or\n"
                  "EC); NAME.cert holds the signature and --cert"),
  CMD_OPT_STRING (0, "cert", struct export_args, sign_cert, "CERT",
                  "the certificate of --sign's KEY (PEM)"),
  CMD_OPT_BOOL (0, "force", struct export_args, force,
                "replace OUT if it exists"),
  CMD_OPT_BOOL ('q', "quiet", struct export_args, quiet,
                "no progress meter or summary"),
  CMD_OPT_BOOL (0, "json", struct export_args, json,
                "print a JSON summary on stdout"),
  CMD_OPT_END
};

static const struct cmd_spec export_spec = {
  "export",
  "usage: ferry export IMAGE... -o OUT.ova|OUT.xva [options]\n"
  "       ferry export --from-libvirt DOMAIN.xml -o OUT.ova|OUT.xva "
  "[options]\n"
  "       ferry export --from-libvirt NAME --connect URI -o OUT.ova|OUT.xva "
  "[options]\n"
  "       ferry export --from PACKAGE -o OUT.ova|OUT.xva [options]\n"
  "       ferry export ... --to libvirt|libvirt-xen -o DIR [options]\n\n"
  "Package disk images and a VM definition as an OVA (OVF + disks + SHA\n"
  "manifest), a XenServer XVA, or a libvirt domain (DIR with qcow2 disks\n"
  "and NAME.xml).  Disks are streamed into the package:\n"
  "ext2/3/4 partitions by their used blocks (free blocks become zeros),\n"
  "swap by its header, the rest with zero blocks skipped.\n\n"
  "With --connect, --from-libvirt names a domain of that libvirt, read\n"
  "through its API; a domain that is not shut off (running, paused) is\n"
  "refused.\n\n",
  export_options,
};

/* Exactly one source: images, a domain XML or a package. */
static int
check_sources (const struct export_args *a)
{
  if ((a->n_images > 0) + (a->from_libvirt != NULL) + (a->from_pkg != NULL)
      != 1)
    return cmd_usage_error ("export", "give one of IMAGE..., "
                            "--from-libvirt FILE|NAME or --from PACKAGE");
  if (a->connect && a->from_libvirt == NULL)
    return cmd_usage_error ("export", "--connect goes with --from-libvirt "
                            "NAME (the domain to read)");
  if (a->n_images > VM_MAX_DISKS)
    return cmd_usage_error ("export", "too many images (limit %d)",
                            VM_MAX_DISKS);
  return 0;
}

/* --to libvirt makes a directory: package-only options contradict it. */
static int
check_libvirt_args (const struct export_args *a)
{
  if (str_has_suffix (a->output, ".ova") || str_has_suffix (a->output, ".xva"))
    return cmd_usage_error ("export", "--to %s makes a directory, not the "
                            "package '%s'", a->to, a->output);
  if (a->has_flavour || a->has_manifest || a->sign_key || a->sign_cert)
    return cmd_usage_error ("export", "--flavour, --manifest and --sign are "
                            "for packages, not --to %s", a->to);
  if (a->force)
    return cmd_usage_error ("export", "--to %s makes a new directory: "
                            "--force does not apply", a->to);
  return check_sources (a);
}

static int
parse_args (int argc, char **argv, struct export_args *a)
{
  int r, first;

  a->opt.cpus = VM_DEFAULT_CPUS;
  a->opt.memory_mib = VM_DEFAULT_MEMORY_MIB;
  a->manifest = HASH_SHA256;
  if ((r = cmd_options_parse (&export_spec, argc, argv, a, &first)) != 0)
    return r;
  a->images = argv + first;
  a->n_images = argc - first;
  if (a->output == NULL)
    return cmd_usage_error ("export", "no output given (-o OUT.ova)");
  if (a->libvirt)
    return check_libvirt_args (a);
  a->xva = str_has_suffix (a->output, ".xva");
  if (!a->xva && !str_has_suffix (a->output, ".ova"))
    return cmd_usage_error ("export", "'%s': the output must end in .ova "
                            "or .xva (or give --to libvirt)", a->output);
  if (a->xva && a->has_flavour && a->flavour != OVF_XENSERVER)
    return cmd_usage_error ("export", "an XVA has no flavour but xenserver");
  if ((a->sign_key != NULL) != (a->sign_cert != NULL))
    return cmd_usage_error ("export", "--sign KEY and --cert CERT go "
                            "together");
  if (a->xva && a->sign_key)
    return cmd_usage_error ("export", "only an OVA can be signed "
                            "(--sign), not an XVA");
  return check_sources (a);
}

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
make_stage (const struct export_args *a, struct export_job *job)
{
  return stagedir_begin (&job->sd, a->output, "export",
                         a->libvirt ? 0755 : 0700, a->force);
}

/* Where the package is written: inside the staging directory when there
 * is one, so that its temporary goes with it. */
static char *
package_path (const struct export_args *a, const struct export_job *job)
{
  CLEANUP_FREE char *c = xstrdup (a->output);

  if (job->sd.path == NULL)
    return xstrdup (a->output);
  return c ? xasprintf ("%s/%s", job->sd.path, basename (c)) : NULL;
}

/* Move the staged output into place: the package file (replacing OUT only
 * with --force), or the whole directory (never replacing anything). */
static int
commit_stage (const struct export_args *a, struct export_job *job)
{
  CLEANUP_FREE char *c = xstrdup (a->output);

  if (c == NULL)
    return -1;
  if ((a->libvirt ? stagedir_commit (&job->sd)
       : stagedir_commit_file (&job->sd, basename (c), a->force)) == -1)
    return error_prefix ("export: ");
  return 0;
}

/* ---- the VM ------------------------------------------------------------ */

/* The output as a hypervisor target (ova/target.h), which chooses the
 * bus of new disks and the prefix of new MACs. */
static struct ova_target
output_target (const struct export_args *a)
{
  struct ova_target t = { .libvirt = a->lv, .ovf = a->flavour };

  t.out = a->libvirt ? OVA_OUT_LIBVIRT : a->xva ? OVA_OUT_XVA : OVA_OUT_OVA;
  return t;
}

static enum vm_bus
default_bus (const struct export_args *a)
{
  struct ova_target t = output_target (a);

  return ova_target_bus (&t);
}

static int
vm_from_args (const struct export_args *a, struct vm *vm)
{
  struct vm_options o = a->opt;

  o.bus = default_bus (a);
  o.images = (const char *const *) a->images;
  o.n_images = (size_t) a->n_images;
  o.nics = (const char *const *) a->nics;
  o.n_nics = a->n_nics;
  return vm_from_options (vm, &o);
}

static int
read_small_file (const char *path, size_t max, struct strbuf *sb)
{
  CLEANUP_FCLOSE FILE *fp = fopen (path, "re");
  char buf[65536];
  size_t n;

  if (fp == NULL)
    return error_errno ("'%s'", path);
  while ((n = fread (buf, 1, sizeof buf, fp)) > 0) {
    if (sb->len + n > max)
      return error_set ("'%s': larger than %zu bytes", path, max);
    if (strbuf_add (sb, buf, n) == -1)
      return -1;
  }
  if (ferror (fp))
    return error_errno ("'%s': read", path);
  return 0;
}

static void
apply_overrides (const struct export_args *a, struct vm *vm)
{
  if (a->has_cpus) vm->cpus = a->opt.cpus;
  if (a->has_memory) vm->memory_mib = a->opt.memory_mib;
  if (a->has_firmware) vm->firmware = a->opt.firmware;
  if (a->has_os) vm->os = a->opt.os;
}

/* The domain's definition: a file, or with --connect the domain of that
 * name, read through libvirt's API while it is shut off. */
static int
read_domain (const struct export_args *a, struct vm *vm)
{
  struct strbuf sb = STRBUF_INIT;
  struct virt *v;
  int r;

  if (a->connect) {
    if ((v = virt_open (a->connect)) == NULL)
      return -1;
    r = virt_read_vm (v, a->from_libvirt, vm);
    virt_close (v);
    return r;
  }
  r = read_small_file (a->from_libvirt, LIBVIRT_MAX_XML, &sb);
  if (r == 0)
    r = libvirt_parse (sb.buf ? sb.buf : "", sb.len, a->from_libvirt, vm);
  strbuf_release (&sb);
  return r;
}

static int
vm_from_libvirt (const struct export_args *a, struct vm *vm)
{
  size_t i;

  if (read_domain (a, vm) == -1)
    return -1;
  if (vm->disks.len == 0)
    return error_set ("'%s': the domain has no disks", a->from_libvirt);
  for (i = 0; i < a->n_nics; i++)
    if (vm_add_nic_spec (vm, a->nics[i]) == -1)
      return -1;
  apply_overrides (a, vm);
  return 0;
}

/* The package's VM and disks move into the job: the disks are already
 * extracted into the staging directory and unlinked (ova-read.h).  Its
 * UUID and MACs are kept; options override the rest, --nic replaces the
 * NICs.  Disks move to the bus of a Xen output, or off the xen bus for
 * any other. */
static int
vm_from_package (const struct export_args *a, struct export_job *job)
{
  struct vm *vm = &job->vm;
  size_t i;

  if ((xva_probe (a->from_pkg)
       ? xva_read (a->from_pkg, job->sd.path, &job->pkg)
       : ova_read (a->from_pkg, job->sd.path, &job->pkg)) == -1)
    return -1;
  vm_free (vm);
  *vm = job->pkg.vm;
  vm_init (&job->pkg.vm);
  for (i = 0; i < vm->disks.len; i++)
    if (default_bus (a) == VM_BUS_XEN || vm->disks.ptr[i].bus == VM_BUS_XEN)
      vm->disks.ptr[i].bus = default_bus (a);
  if (a->n_nics > 0) {
    for (i = 0; i < vm->nics.len; i++) {
      free (vm->nics.ptr[i].network);
      free (vm->nics.ptr[i].model);
    }
    vm->nics.len = 0;
  }
  for (i = 0; i < a->n_nics; i++)
    if (vm_add_nic_spec (vm, a->nics[i]) == -1)
      return -1;
  apply_overrides (a, vm);
  return 0;
}

static int
build_vm (const struct export_args *a, struct export_job *job)
{
  CLEANUP_FREE char *c = xstrdup (a->output);
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
  vm_make_stem (base, n - (!a->libvirt && n >= 4 ? 4 : 0), job->stem,
                 sizeof job->stem);
  if (a->from_pkg)
    r = vm_from_package (a, job);
  else if (a->from_libvirt)
    r = vm_from_libvirt (a, &job->vm);
  else
    r = vm_from_args (a, &job->vm);
  if (r == -1)
    return -1;
  if (a->name || job->vm.name == NULL) {
    free (job->vm.name);
    if ((job->vm.name = xstrdup (a->name ? a->name : job->stem)) == NULL)
      return -1;
  }
  /* NICs without a MAC get one with the flavour's prefix. */
  t = output_target (a);
  return vm_fill_macs (&job->vm, ova_target_mac_prefix (&t), false);
}

/* ---- the disks --------------------------------------------------------- */

/* Each disk's source (its host path, or the package's extracted disk,
 * moved) opened with its used-block map; the disk becomes a package
 * member: file = member name, format = the package's, capacity from the
 * image (whole sectors). */
static int
open_disks (const struct export_args *a, struct export_job *job)
{
  struct ova_export_opts o = {
    .stem = job->stem, .all_blocks = a->all_blocks,
    .format = a->libvirt ? "qcow2" : a->xva ? "raw"
      : a->flavour == OVF_XENSERVER ? "vhd" : "vmdk",
    .srcs = a->from_pkg ? job->pkg.disks : NULL,
  };

  return ova_export_disks_open (&job->disks, &job->vm, &o);
}

static void
job_free (struct export_job *job)
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
}

/* ---- libvirt ----------------------------------------------------------- */

/* Disk i becomes DIR/STEM-diskN.qcow2, through the copy engine with the
 * used-block mask (or every non-zero block with --all-blocks). */
static int
convert_disk (const struct export_args *a, struct export_job *job, size_t i)
{
  if (ova_stage_disk (&job->sd, &(struct ova_stage_disk) {
          .src = job->disks.in[i].src, .file = job->vm.disks.ptr[i].file,
          .format = "qcow2", .label = job->disks.in[i].src->path,
          .mask = job->disks.in[i].mask, .quiet = a->quiet || a->json,
        }, &job->written[i], &job->paths[i]) == -1)
    return error_prefix ("export: ");
  return 0;
}

/* DIR/NAME.xml naming the disks by their final absolute paths. */
static int
write_libvirt (const struct export_args *a, struct export_job *job)
{
  char stem[64];
  size_t i;

  for (i = 0; i < job->vm.disks.len; i++)
    if (convert_disk (a, job, i) == -1)
      return -1;
  vm_make_stem (job->vm.name, SIZE_MAX, stem, sizeof stem);
  if (libvirt_write_domain (&job->sd, stem, &job->vm, a->lv,
                            (const char *const *) job->paths,
                            &job->descriptor) == -1)
    return error_prefix ("export: ");
  return 0;
}

/* ---- reporting --------------------------------------------------------- */

static void
json_ova (struct json *j, const struct ova_result *r)
{
  size_t i;

  json_key (j, "members");
  json_array_begin (j);
  for (i = 0; i < r->n_members; i++) {
    const struct ova_member *m = &r->members[i];
    json_object_begin (j);
    json_key_string (j, "name", m->name);
    json_key_uint (j, "size", m->size);
    json_key_string (j, "hash", m->hash[0] ? m->hash : NULL);
    json_object_end (j);
  }
  json_array_end (j);
}

static void
json_xva (struct json *j, const struct xva_result *r)
{
  size_t i;

  json_key (j, "vdis");
  json_array_begin (j);
  for (i = 0; i < r->n_disks; i++) {
    const struct xva_disk_result *d = &r->disks[i];
    json_object_begin (j);
    json_key_string (j, "ref", d->ref);
    json_key_uint (j, "chunks_written", d->chunks_written);
    json_key_uint (j, "chunks_skipped", d->chunks_skipped);
    json_key_uint (j, "bytes_read", d->bytes_read);
    json_object_end (j);
  }
  json_array_end (j);
}

static void
json_libvirt (struct json *j, const struct export_job *job)
{
  size_t i;

  json_key_string (j, "domain", job->descriptor);
  json_key (j, "disks");
  json_array_begin (j);
  for (i = 0; i < job->vm.disks.len; i++) {
    json_object_begin (j);
    json_key_string (j, "path", job->paths[i]);
    json_key_uint (j, "bytes_written", job->written[i]);
    json_object_end (j);
  }
  json_array_end (j);
}

static void
print_json (const struct export_args *a, const struct export_job *job,
            const struct ova_result *ova, const struct xva_result *xva)
{
  struct json j;

  json_init (&j, stdout);
  json_object_begin (&j);
  json_key_string (&j, "output", a->output);
  json_key_string (&j, "package", a->libvirt ? a->to : a->xva ? "xva" : "ova");
  if (a->libvirt)
    json_libvirt (&j, job);
  else if (a->xva)
    json_xva (&j, xva);
  else {
    json_key_string (&j, "flavour", ovf_flavour_name (a->flavour));
    json_key_string (&j, "manifest",
                     a->manifest == HASH_SHA1 ? "sha1" : "sha256");
    json_key_bool (&j, "signed", a->sign_key != NULL);
    json_ova (&j, ova);
  }
  json_key_bool (&j, "ok", true);
  json_object_end (&j);
  json_finish (&j);
}

static void
print_text (const struct export_args *a, const struct export_job *job,
            const struct ova_result *ova, const struct xva_result *xva)
{
  char sz[32];
  size_t i;

  if (a->libvirt) {
    for (i = 0; i < job->vm.disks.len; i++) {
      format_bytes (sz, sizeof sz, job->written[i]);
      fprintf (stderr, "export: %-40s %10s\n", job->paths[i], sz);
    }
    fprintf (stderr, "export: %s (%s)\n", job->descriptor, job->vm.name);
    return;
  }
  if (a->xva) {
    for (i = 0; i < xva->n_disks; i++)
      fprintf (stderr, "export: %s: %llu chunks stored, %llu zero chunks "
               "left out\n", xva->disks[i].ref,
               (unsigned long long) xva->disks[i].chunks_written,
               (unsigned long long) xva->disks[i].chunks_skipped);
    return;
  }
  for (i = 0; i < ova->n_members; i++) {
    format_bytes (sz, sizeof sz, ova->members[i].size);
    fprintf (stderr, "export: %-40s %10s\n", ova->members[i].name, sz);
  }
}

/* ---- the command ------------------------------------------------------- */

static int
run (const struct export_args *a, struct export_job *job)
{
  struct ova_write_opts oo = {
    .flavour = a->flavour, .manifest = a->manifest, .stem = job->stem,
    .overwrite = a->force, .quiet = a->quiet || a->json,
  };
  struct xva_write_opts xo = { .overwrite = a->force,
                               .quiet = a->quiet || a->json };
  static struct ova_result ova;
  static struct xva_result xva;
  CLEANUP_FREE char *path = NULL;

  if (a->sign_key &&
      (job->signer = ova_signer_load (a->sign_key, a->sign_cert)) == NULL)
    return -1;
  oo.signer = job->signer;
  if ((a->from_pkg || a->libvirt) && make_stage (a, job) == -1)
    return -1;
  if (build_vm (a, job) == -1 || open_disks (a, job) == -1)
    return -1;
  if (a->libvirt) {
    if (write_libvirt (a, job) == -1)
      return -1;
  } else {
    /* Inside the staging directory the package's own name is new. */
    oo.overwrite = xo.overwrite = a->force && job->sd.path == NULL;
    if ((path = package_path (a, job)) == NULL ||
        (a->xva ? xva_write (path, &job->vm, job->disks.in, &xo, &xva)
         : ova_write (path, &job->vm, job->disks.in, &oo, &ova)) == -1)
      return -1;
  }
  if (job->sd.path && commit_stage (a, job) == -1)
    return -1;
  if (a->json)
    print_json (a, job, &ova, &xva);
  else if (!a->quiet)
    print_text (a, job, &ova, &xva);
  return 0;
}

int
cmd_export (int argc, char **argv)
{
  static struct export_args a;
  static struct export_job job;
  int r;

  if ((r = parse_args (argc, argv, &a)) != 0)
    return r == -1 ? EXIT_OK : r;
  outfile_install_signal_handlers ();
  vm_init (&job.vm);
  r = run (&a, &job);
  job_free (&job);
  return r == -1 ? cmd_fail () : EXIT_OK;
}
