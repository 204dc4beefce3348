/* export.c: `ferry export` — package disk images and VM settings (from
 * options, a libvirt domain or another package) as an OVA, a XenServer
 * XVA or a libvirt domain directory: the options, the job
 * (ova/export-job.h), the summary. */
#include "lib/common/compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/options.h"
#include "lib/common/error.h"
#include "lib/common/json.h"
#include "lib/common/outfile.h"
#include "lib/common/progress.h"
#include "lib/common/strbuf.h"
#include "ova/export-job.h"

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
json_libvirt (struct json *j, const struct ova_export_job *job)
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
print_json (const struct export_args *a, const struct ova_export_job *job)
{
  struct json j;

  json_init (&j, stdout);
  json_object_begin (&j);
  json_key_string (&j, "output", a->output);
  json_key_string (&j, "package", a->libvirt ? a->to : a->xva ? "xva" : "ova");
  if (a->libvirt)
    json_libvirt (&j, job);
  else if (a->xva)
    json_xva (&j, &job->xva);
  else {
    json_key_string (&j, "flavour", ovf_flavour_name (a->flavour));
    json_key_string (&j, "manifest",
                     a->manifest == HASH_SHA1 ? "sha1" : "sha256");
    json_key_bool (&j, "signed", a->sign_key != NULL);
    json_ova (&j, &job->ova);
  }
  json_key_bool (&j, "ok", true);
  json_object_end (&j);
  json_finish (&j);
}

static void
print_text (const struct export_args *a, const struct ova_export_job *job)
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
    for (i = 0; i < job->xva.n_disks; i++)
      fprintf (stderr, "export: %s: %llu chunks stored, %llu zero chunks "
               "left out\n", job->xva.disks[i].ref,
               (unsigned long long) job->xva.disks[i].chunks_written,
               (unsigned long long) job->xva.disks[i].chunks_skipped);
    return;
  }
  for (i = 0; i < job->ova.n_members; i++) {
    format_bytes (sz, sizeof sz, job->ova.members[i].size);
    fprintf (stderr, "export: %-40s %10s\n", job->ova.members[i].name, sz);
  }
}

/* ---- the command ------------------------------------------------------- */

/* ---- the command ------------------------------------------------------- */

static int
run (const struct export_args *a, struct ova_export_job *job)
{
  struct ova_export_job_opts o = {
    .output = a->output,
    .out = a->libvirt ? OVA_OUT_LIBVIRT : a->xva ? OVA_OUT_XVA : OVA_OUT_OVA,
    .flavour = a->flavour, .lv = a->lv, .manifest = a->manifest,
    .sign_key = a->sign_key, .sign_cert = a->sign_cert,
    .images = (const char *const *) a->images,
    .n_images = (size_t) a->n_images,
    .from_libvirt = a->from_libvirt, .connect = a->connect,
    .from_pkg = a->from_pkg, .name = a->name, .opt = a->opt,
    .has_cpus = a->has_cpus, .has_memory = a->has_memory,
    .has_firmware = a->has_firmware, .has_os = a->has_os,
    .nics = (const char *const *) a->nics, .n_nics = a->n_nics,
    .all_blocks = a->all_blocks, .force = a->force,
    .quiet = a->quiet || a->json,
  };

  size_t i, k;

  if (ova_export_job_run (job, &o) == -1)
    return -1;
  /* A known filesystem copied in full (a log that needs recovery, ...)
   * is worth a warning, as capture gives. */
  for (i = 0; i < job->disks.n; i++)
    for (k = 0; k < job->disks.maps[i].parts.len; k++) {
      const struct usedmap_part *p = &job->disks.maps[i].parts.ptr[k];

      if (p->policy == USEDMAP_ALL && p->note[0])
        fprintf (stderr, "warning: disk %zu, partition %d: %s\n", i + 1,
                 p->number, p->note);
    }
  if (a->json)
    print_json (a, job);
  else if (!a->quiet)
    print_text (a, job);
  return 0;
}

int
cmd_export (int argc, char **argv)
{
  static struct export_args a;
  static struct ova_export_job job;
  int r;

  if ((r = parse_args (argc, argv, &a)) != 0)
    return r == -1 ? EXIT_OK : r;
  outfile_install_signal_handlers ();
  r = run (&a, &job);
  ova_export_job_free (&job);
  return r == -1 ? cmd_fail () : EXIT_OK;
}
