/* export.c: `ferry export` — package disk images and VM settings (from
 * options or a libvirt domain) as an OVA or a XenServer XVA. */
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "common/checked.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/ids.h"
#include "common/json.h"
#include "common/outfile.h"
#include "common/progress.h"
#include "common/strbuf.h"
#include "ova/libvirt.h"
#include "ova/ova-write.h"
#include "ova/xva-write.h"
#include "p2v/usedmap.h"

static const char usage_text[] =
  "usage: ferry export IMAGE... -o OUT.ova|OUT.xva [options]\n"
  "       ferry export --from-libvirt DOMAIN.xml -o OUT.ova|OUT.xva [options]\n\n"
  "Package disk images and a VM definition as an OVA (OVF + disks + SHA\n"
  "manifest) or a XenServer XVA.  Disks are streamed into the package:\n"
  "ext2/3/4 partitions by their used blocks (free blocks become zeros),\n"
  "swap by its header, the rest with zero blocks skipped.\n\n"
  "  -o OUT                 OUT.ova or OUT.xva (the kind is the extension)\n"
  "  --flavour F            vmware (default), virtualbox or xenserver (OVA)\n"
  "  --from-libvirt FILE    VM settings and disks from a domain XML\n"
  "  --name NAME            VM name (default: OUT without extension)\n"
  "  --cpus N               virtual CPUs (default 1)\n"
  "  --memory MIB           memory in MiB (default 1024)\n"
  "  --firmware bios|uefi   (default bios)\n"
  "  --os OS                other (default), linux, linux64, debian64,\n"
  "                         ubuntu64, rhel64, sles64, windows64\n"
  "  --nic [MAC][,network=NET][,model=M]   a NIC (repeatable); without a\n"
  "                         MAC one is generated with the flavour's prefix;\n"
  "                         default: one NIC\n"
  "  --all-blocks           copy every non-zero block, ignoring filesystems\n"
  "  --manifest sha256|sha1 manifest hash (default sha256)\n"
  "  --sign KEY --cert CERT sign the manifest (OVA only): NAME.cert holds\n"
  "                         the signature and CERT (PEM, RSA or EC key)\n"
  "  --force                replace OUT if it exists\n"
  "  -q, --quiet            no progress meter or summary\n"
  "  --json                 print a JSON summary on stdout\n";

struct export_args {
  const char *output, *from_libvirt, *name;
  const char *sign_key, *sign_cert;
  enum ovf_flavour flavour;
  bool xva, all_blocks, json, quiet, force;
  bool has_cpus, has_memory, has_firmware, has_os, has_flavour;
  struct vm opt;                /* cpus, memory, firmware, os from options */
  enum hash_kind manifest;
  char *nics[VM_MAX_NICS];
  size_t n_nics;
  char **images;
  int n_images;
};

struct export_job {
  struct vm vm;
  char stem[64];
  struct ova_disk_in in[VM_MAX_DISKS];
  struct usedmap maps[VM_MAX_DISKS];
  size_t n_open;
  struct ova_signer *signer;
};

/* ---- options ----------------------------------------------------------- */

static int
parse_value (struct export_args *a, int c, const char *v)
{
  uint64_t n;

  switch (c) {
  case 'C':
    if (cmd_parse_uint (v, VM_MAX_CPUS, &n) == -1 || n == 0)
      return cmd_usage_error ("export", "--cpus: '%s' is not 1-%d", v,
                              VM_MAX_CPUS);
    a->opt.cpus = (unsigned) n; a->has_cpus = true; return 0;
  case 'M':
    if (cmd_parse_uint (v, VM_MAX_MEMORY_MIB, &n) == -1 || n == 0)
      return cmd_usage_error ("export", "--memory: '%s' is not a size in "
                              "MiB", v);
    a->opt.memory_mib = n; a->has_memory = true; return 0;
  case 'B':
    if (strcmp (v, "bios") && strcmp (v, "uefi"))
      return cmd_usage_error ("export", "--firmware: bios or uefi");
    a->opt.firmware = strcmp (v, "uefi") == 0 ? VM_FW_UEFI : VM_FW_BIOS;
    a->has_firmware = true; return 0;
  case 'S':
    if (vm_os_parse (v, &a->opt.os) == -1)
      return cmd_usage_error ("export", "--os: %s", error_get ());
    a->has_os = true; return 0;
  case 'H':
    if (strcmp (v, "sha256") && strcmp (v, "sha1"))
      return cmd_usage_error ("export", "--manifest: sha256 or sha1");
    a->manifest = strcmp (v, "sha1") == 0 ? HASH_SHA1 : HASH_SHA256;
    return 0;
  case 'f':
    if (ovf_flavour_parse (v, &a->flavour) == -1)
      return cmd_usage_error ("export", "--flavour: %s", error_get ());
    a->has_flavour = true; return 0;
  }
  return cmd_usage_error ("export", "bad option");
}

static int
parse_opts (int argc, char **argv, struct export_args *a)
{
  static const struct option longopts[] = {
    { "flavour", required_argument, NULL, 'f' },
    { "flavor", required_argument, NULL, 'f' },
    { "from-libvirt", required_argument, NULL, 'L' },
    { "name", required_argument, NULL, 'N' },
    { "cpus", required_argument, NULL, 'C' },
    { "memory", required_argument, NULL, 'M' },
    { "firmware", required_argument, NULL, 'B' },
    { "os", required_argument, NULL, 'S' },
    { "nic", required_argument, NULL, 'I' },
    { "all-blocks", no_argument, NULL, 'A' },
    { "manifest", required_argument, NULL, 'H' },
    { "sign", required_argument, NULL, 'K' },
    { "cert", required_argument, NULL, 'R' },
    { "force", no_argument, NULL, 'F' },
    { "quiet", no_argument, NULL, 'q' },
    { "json", no_argument, NULL, 'j' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  int c;

  while ((c = getopt_long (argc, argv, "o:qh", longopts, NULL)) != -1) {
    switch (c) {
    case 'o': a->output = optarg; break;
    case 'L': a->from_libvirt = optarg; break;
    case 'N': a->name = optarg; break;
    case 'K': a->sign_key = optarg; break;
    case 'R': a->sign_cert = optarg; break;
    case 'I':
      if (a->n_nics == VM_MAX_NICS)
        return cmd_usage_error ("export", "too many --nic (limit %d)",
                                VM_MAX_NICS);
      a->nics[a->n_nics++] = optarg;
      break;
    case 'A': a->all_blocks = true; break;
    case 'F': a->force = true; break;
    case 'q': a->quiet = true; break;
    case 'j': a->json = true; break;
    case 'h': fputs (usage_text, stdout); return -1;
    case '?': return cmd_usage_error ("export", "bad option");
    default:
      if (parse_value (a, c, optarg) != 0)
        return EXIT_USAGE;
    }
  }
  return 0;
}

static int
parse_args (int argc, char **argv, struct export_args *a)
{
  int r;

  a->opt.cpus = 1;
  a->opt.memory_mib = 1024;
  a->manifest = HASH_SHA256;
  if ((r = parse_opts (argc, argv, a)) != 0)
    return r;
  a->images = argv + optind;
  a->n_images = argc - optind;
  if (a->output == NULL)
    return cmd_usage_error ("export", "no output given (-o OUT.ova)");
  a->xva = str_has_suffix (a->output, ".xva");
  if (!a->xva && !str_has_suffix (a->output, ".ova"))
    return cmd_usage_error ("export", "'%s': the output must end in .ova "
                            "or .xva", a->output);
  if (a->xva && a->has_flavour && a->flavour != OVF_XENSERVER)
    return cmd_usage_error ("export", "an XVA has no flavour but xenserver");
  if ((a->sign_key != NULL) != (a->sign_cert != NULL))
    return cmd_usage_error ("export", "--sign KEY and --cert CERT go "
                            "together");
  if (a->xva && a->sign_key)
    return cmd_usage_error ("export", "only an OVA can be signed "
                            "(--sign), not an XVA");
  if ((a->n_images > 0) == (a->from_libvirt != NULL))
    return cmd_usage_error ("export", "give either IMAGE... or "
                            "--from-libvirt FILE");
  if (a->n_images > VM_MAX_DISKS)
    return cmd_usage_error ("export", "too many images (limit %d)",
                            VM_MAX_DISKS);
  return 0;
}

/* ---- the VM ------------------------------------------------------------ */

/* Member names are built from the output's name: keep it tar- and
 * shell-friendly and short enough for one tar header. */
static void
make_stem (const char *output, char *stem, size_t len)
{
  CLEANUP_FREE char *copy = xstrdup (output);
  const char *base = copy ? basename (copy) : "vm";
  size_t i, n = strlen (base) - 4;      /* minus ".ova" */

  if (n >= len)
    n = len - 1;
  for (i = 0; i < n; i++)
    stem[i] = strchr ("-._", base[i]) || (base[i] >= '0' && base[i] <= '9')
      || ((base[i] | 0x20) >= 'a' && (base[i] | 0x20) <= 'z') ? base[i] : '_';
  stem[i] = '\0';
  if (i == 0)
    snprintf (stem, len, "vm");
  else if (stem[0] == '.')              /* no hidden members */
    stem[0] = '_';
}

static enum vm_bus
default_bus (const struct export_args *a)
{
  if (a->xva || a->flavour == OVF_XENSERVER)
    return VM_BUS_XEN;
  return a->flavour == OVF_VIRTUALBOX ? VM_BUS_SATA : VM_BUS_SCSI;
}

static int
nic_option (struct vm *vm, char *spec)
{
  char *save = NULL, *item, *mac_s = NULL;
  const char *net = NULL, *model = NULL;
  uint8_t mac[6];

  for (item = strtok_r (spec, ",", &save); item;
       item = strtok_r (NULL, ",", &save)) {
    if (str_has_prefix (item, "network="))
      net = item + 8;
    else if (str_has_prefix (item, "model="))
      model = item + 6;
    else if (mac_s == NULL && item == spec)
      mac_s = item;
    else
      return error_set ("--nic: unknown item '%s'", item);
  }
  if (mac_s && strcmp (mac_s, "auto") != 0 && mac_parse (mac_s, mac) == -1)
    return error_set ("--nic: '%s' is not a MAC address", mac_s);
  return vm_add_nic (vm, mac_s && strcmp (mac_s, "auto") ? mac : NULL, net,
                     model);
}

static int
vm_from_options (const struct export_args *a, struct vm *vm)
{
  size_t i;
  int k;

  vm->cpus = a->opt.cpus;
  vm->memory_mib = a->opt.memory_mib;
  vm->firmware = a->opt.firmware;
  vm->os = a->opt.os;
  for (k = 0; k < a->n_images; k++)
    if (vm_add_disk (vm, a->images[k], NULL, 1, default_bus (a)) == -1)
      return -1;
  for (i = 0; i < a->n_nics; i++)
    if (nic_option (vm, a->nics[i]) == -1)
      return -1;
  if (a->n_nics == 0 && vm_add_nic (vm, NULL, NULL, NULL) == -1)
    return -1;
  return 0;
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

static int
vm_from_libvirt (const struct export_args *a, struct vm *vm)
{
  struct strbuf sb = STRBUF_INIT;
  size_t i;
  int r;

  r = read_small_file (a->from_libvirt, LIBVIRT_MAX_XML, &sb);
  if (r == 0)
    r = libvirt_parse (sb.buf ? sb.buf : "", sb.len, a->from_libvirt, vm);
  strbuf_release (&sb);
  if (r == -1)
    return -1;
  if (vm->disks.len == 0)
    return error_set ("'%s': the domain has no disks", a->from_libvirt);
  for (i = 0; i < a->n_nics; i++)
    if (nic_option (vm, a->nics[i]) == -1)
      return -1;
  if (a->has_cpus) vm->cpus = a->opt.cpus;
  if (a->has_memory) vm->memory_mib = a->opt.memory_mib;
  if (a->has_firmware) vm->firmware = a->opt.firmware;
  if (a->has_os) vm->os = a->opt.os;
  return 0;
}

/* At file scope ids.h's compound literals have static storage. */
static const uint8_t *const prefix_xen = MAC_PREFIX_XEN;
static const uint8_t *const prefix_vmware = MAC_PREFIX_VMWARE;
static const uint8_t *const prefix_vbox = MAC_PREFIX_VIRTUALBOX;

static const uint8_t *
mac_prefix (const struct export_args *a)
{
  if (a->xva || a->flavour == OVF_XENSERVER)
    return prefix_xen;
  return a->flavour == OVF_VIRTUALBOX ? prefix_vbox : prefix_vmware;
}

/* NICs without a MAC get one with the flavour's prefix, unique in the VM. */
static int
fill_macs (const struct export_args *a, struct vm *vm)
{
  uint8_t avoid[VM_MAX_NICS][6];
  size_t i, n = 0;

  for (i = 0; i < vm->nics.len && i < VM_MAX_NICS; i++)
    if (vm->nics.ptr[i].has_mac)
      memcpy (avoid[n++], vm->nics.ptr[i].mac, 6);
  for (i = 0; i < vm->nics.len && i < VM_MAX_NICS; i++) {
    struct vm_nic *nic = &vm->nics.ptr[i];
    if (nic->has_mac)
      continue;
    if (mac_generate (mac_prefix (a), (const uint8_t (*)[6]) avoid, n,
                      nic->mac) == -1)
      return -1;
    nic->has_mac = true;
    memcpy (avoid[n++], nic->mac, 6);
  }
  return 0;
}

static int
build_vm (const struct export_args *a, struct export_job *job)
{
  make_stem (a->output, job->stem, sizeof job->stem);
  if ((a->from_libvirt ? vm_from_libvirt (a, &job->vm)
       : vm_from_options (a, &job->vm)) == -1)
    return -1;
  if (a->name || job->vm.name == NULL) {
    free (job->vm.name);
    if ((job->vm.name = xstrdup (a->name ? a->name : job->stem)) == NULL)
      return -1;
  }
  return fill_macs (a, &job->vm);
}

/* ---- the disks --------------------------------------------------------- */

/* Open disk i's source (its host path) and turn the disk into a package
 * member: file = member name, format = the package's, capacity from the
 * image (whole sectors). */
static int
open_disk (const struct export_args *a, struct export_job *job, size_t i)
{
  struct vm_disk *d = &job->vm.disks.ptr[i];
  const char *fmt = a->xva ? "raw"
    : a->flavour == OVF_XENSERVER ? "vhd" : "vmdk";
  char *name = xasprintf ("%s-disk%zu.%s", job->stem, i + 1, fmt);
  struct image *src;

  if (name == NULL)
    return -1;
  if (d->file == NULL) {
    free (name);
    return error_set ("disk %zu has no source file", i + 1);
  }
  src = image_open (d->file, 0);
  if (src == NULL) {
    free (name);
    return -1;
  }
  job->in[i].src = src;
  job->n_open = i + 1;
  free (d->file);
  free (d->format);
  d->file = name;
  d->format = xstrdup (fmt);
  d->capacity = DIV_ROUND_UP (src->size, 512) * 512;
  return d->format ? 0 : -1;
}

static int
open_disks (const struct export_args *a, struct export_job *job)
{
  size_t i;

  for (i = 0; i < job->vm.disks.len; i++) {
    if (open_disk (a, job, i) == -1)
      return -1;
    if (a->all_blocks)
      continue;
    if (usedmap_build (job->in[i].src, 2, &job->maps[i]) == -1)
      return error_prefix ("export: '%s': ", job->in[i].src->path);
    job->in[i].mask = &job->maps[i].keep;
  }
  return 0;
}

static void
job_free (struct export_job *job)
{
  size_t i;

  for (i = 0; i < job->n_open; i++) {
    image_close (job->in[i].src);
    usedmap_free (&job->maps[i]);
  }
  vm_free (&job->vm);
  ova_signer_free (job->signer);
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
print_json (const struct export_args *a, const struct ova_result *ova,
            const struct xva_result *xva)
{
  struct json j;

  json_init (&j, stdout);
  json_object_begin (&j);
  json_key_string (&j, "output", a->output);
  json_key_string (&j, "package", a->xva ? "xva" : "ova");
  if (a->xva)
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
print_text (const struct export_args *a, const struct ova_result *ova,
            const struct xva_result *xva)
{
  char sz[32];
  size_t i;

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

  if (a->sign_key &&
      (job->signer = ova_signer_load (a->sign_key, a->sign_cert)) == NULL)
    return -1;
  oo.signer = job->signer;
  if (build_vm (a, job) == -1 || open_disks (a, job) == -1)
    return -1;
  if ((a->xva ? xva_write (a->output, &job->vm, job->in, &xo, &xva)
       : ova_write (a->output, &job->vm, job->in, &oo, &ova)) == -1)
    return -1;
  if (a->json)
    print_json (a, &ova, &xva);
  else if (!a->quiet)
    print_text (a, &ova, &xva);
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
