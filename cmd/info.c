/* info.c: `ferry info` — an image's format, sizes and allocation, or what
 * a VM package (OVA, XVA) holds. */
#include "lib/common/compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd/cmd.h"
#include "cmd/options.h"
#include "lib/common/error.h"
#include "lib/common/ids.h"
#include "lib/common/json.h"
#include "lib/common/progress.h"
#include "lib/common/strbuf.h"
#include "lib/image/image.h"
#include "ova/ova-read.h"

struct info_args {
  bool json;
  const char *ca;
};

static const struct cmd_option info_options[] = {
  CMD_OPT_BOOL (0, "json", struct info_args, json, "print one JSON object"),
  CMD_OPT_STRING (0, "ca", struct info_args, ca, "FILE",
                  "PEM CA certificates the package's certificate must chain "
                  "to"),
  CMD_OPT_END
};

static const struct cmd_spec info_spec = {
  "info",
  "usage: ferry info IMAGE [--json]\n"
  "       ferry info PACKAGE [--json] [--ca FILE]\n\n"
  "Show the format, virtual size, file size and allocated bytes of IMAGE\n"
  "(raw, vhd, vmdk, qcow2, or an nbd:// URI), plus format details.\n"
  "For a PACKAGE (an OVA: tar, gzip/xz tar or a directory with an .ovf;\n"
  "or an XVA) show the VM, its disks and NICs, and whether the manifest\n"
  "and the signature verify; nothing is extracted.  A signature is checked\n"
  "against the certificate in the package only: whether that certificate\n"
  "is trusted is checked only with --ca.\n\n",
  info_options,
};

struct alloc {
  uint64_t data, zero, hole;
};

static int
count_allocation (struct image *img, struct alloc *a)
{
  const uint64_t window = 1ull << 32;
  uint64_t off;

  memset (a, 0, sizeof *a);
  for (off = 0; off < img->size; off += window) {
    extent_vector v = empty_vector;
    uint64_t len = img->size - off < window ? img->size - off : window;
    size_t i;

    if (image_extents (img, off, len, &v) == -1) {
      extent_vector_reset (&v);
      return -1;
    }
    for (i = 0; i < v.len; i++)
      *(v.ptr[i].type == EXTENT_DATA ? &a->data
        : v.ptr[i].type == EXTENT_ZERO ? &a->zero : &a->hole) += v.ptr[i].length;
    extent_vector_reset (&v);
  }
  return 0;
}

static bool
all_digits (const char *s)
{
  if (*s == '\0')
    return false;
  for (; *s; s++)
    if (*s < '0' || *s > '9')
      return false;
  return true;
}

/* Walk the driver's "key\tvalue\n" lines. */
static void
each_detail (char *details, void (*fn) (void *, const char *, const char *),
             void *opaque)
{
  char *save = NULL, *line;

  for (line = strtok_r (details, "\n", &save); line;
       line = strtok_r (NULL, "\n", &save)) {
    char *tab = strchr (line, '\t');
    if (tab) {
      *tab = '\0';
      fn (opaque, line, tab + 1);
    }
  }
}

static void
print_detail_json (void *opaque, const char *k, const char *v)
{
  if (all_digits (v) && strlen (v) < 20)
    json_key_uint (opaque, k, strtoull (v, NULL, 10));
  else
    json_key_string (opaque, k, v);
}

static void
print_detail_text (void *opaque, const char *k, const char *v)
{
  (void) opaque;
  printf ("%-16s %s\n", k, v);
}

static uint64_t
file_size (const char *path)
{
  struct stat st;

  return stat (path, &st) == 0 && S_ISREG (st.st_mode)
    ? (uint64_t) st.st_blocks * 512 : 0;
}

static int
print_json (struct image *img, const struct alloc *a, char *details)
{
  struct json j;

  json_init (&j, stdout);
  json_object_begin (&j);
  json_key_string (&j, "path", img->path);
  json_key_string (&j, "format", image_format (img));
  json_key_uint (&j, "virtual_size", img->size);
  json_key_uint (&j, "disk_usage", file_size (img->path));
  json_key_uint (&j, "data_bytes", a->data);
  json_key_uint (&j, "zero_bytes", a->zero);
  json_key_uint (&j, "unallocated_bytes", a->hole);
  json_key_string (&j, "backing", img->backing ? img->backing->path : NULL);
  each_detail (details, print_detail_json, &j);
  json_object_end (&j);
  return json_finish (&j);
}

static void
print_text (struct image *img, const struct alloc *a, char *details)
{
  char h[32];

  printf ("%-16s %s\n", "image", img->path);
  printf ("%-16s %s\n", "format", image_format (img));
  format_bytes (h, sizeof h, img->size);
  printf ("%-16s %s (%llu bytes)\n", "virtual size", h,
          (unsigned long long) img->size);
  format_bytes (h, sizeof h, file_size (img->path));
  printf ("%-16s %s\n", "disk usage", h);
  format_bytes (h, sizeof h, a->data);
  printf ("%-16s %s (%llu bytes)\n", "data", h, (unsigned long long) a->data);
  if (img->backing)
    printf ("%-16s %s\n", "backing file", img->backing->path);
  each_detail (details, print_detail_text, NULL);
}

/* ---- packages ---------------------------------------------------------- */

static const char *
container (const struct pkg_info *pi)
{
  return pi->pkg.directory ? "directory"
    : pi->pkg.compressed ? "compressed tar" : "tar";
}

static void
json_vm (struct json *j, const struct vm *vm)
{
  char u[37];

  if (vm->has_uuid)
    ids_uuid_format (vm->uuid, u);
  json_key (j, "vm");
  json_object_begin (j);
  json_key_string (j, "name", vm->name);
  json_key_string (j, "uuid", vm->has_uuid ? u : NULL);
  json_key_uint (j, "cpus", vm->cpus);
  json_key_uint (j, "memory_mib", vm->memory_mib);
  json_key_string (j, "firmware", vm->firmware == VM_FW_UEFI ? "uefi"
                   : "bios");
  json_key_string (j, "os", vm_os_name (vm->os));
  json_object_end (j);
}

static void
json_disks (struct json *j, const struct pkg_info *pi)
{
  size_t i;

  json_key (j, "disks");
  json_array_begin (j);
  for (i = 0; i < pi->pkg.vm.disks.len; i++) {
    const struct vm_disk *d = &pi->pkg.vm.disks.ptr[i];
    const struct pkg_disk *pd = &pi->disks[i];
    json_object_begin (j);
    json_key_string (j, "member", d->file);
    json_key_string (j, "format", d->format);
    json_key_string (j, "detected_format",
                     pd->detected && pd->detected[0] ? pd->detected : NULL);
    json_key_uint (j, "capacity", d->capacity);
    json_key_uint (j, "header_capacity", pd->header_capacity);
    json_key_uint (j, "bytes", pd->bytes);
    json_key_bool (j, "present", pd->present);
    if (pi->kind == PKG_XVA)
      json_key_uint (j, "chunks", pd->chunks);
    json_object_end (j);
  }
  json_array_end (j);
}

static void
json_nics (struct json *j, const struct vm *vm)
{
  char mac[18];
  size_t i;

  json_key (j, "nics");
  json_array_begin (j);
  for (i = 0; i < vm->nics.len; i++) {
    const struct vm_nic *n = &vm->nics.ptr[i];
    if (n->has_mac)
      ids_mac_format (n->mac, mac);
    json_object_begin (j);
    json_key_string (j, "mac", n->has_mac ? mac : NULL);
    json_key_string (j, "network", n->network);
    json_key_string (j, "model", n->model);
    json_object_end (j);
  }
  json_array_end (j);
}

static void
json_checks (struct json *j, const struct pkg_info *pi)
{
  json_key (j, "manifest");
  json_object_begin (j);
  json_key_bool (j, "present", pi->manifest);
  json_key_string (j, "algorithm", !pi->manifest ? NULL
                   : pi->manifest_kind == HASH_SHA1 ? "sha1" : "sha256");
  json_key_bool (j, "verified", pi->manifest_ok);
  json_object_end (j);
  json_key (j, "signature");
  json_object_begin (j);
  json_key_bool (j, "present", pi->cert);
  json_key_bool (j, "verified", pi->pkg.signature);
  json_key_string (j, "subject", pi->pkg.signature ? pi->pkg.signer : NULL);
  json_key_bool (j, "chain_checked", pi->pkg.chain_checked);
  json_object_end (j);
  json_key_string (j, "problem", pi->problem);
}

static int
package_json (const char *path, const struct pkg_info *pi)
{
  struct json j;

  json_init (&j, stdout);
  json_object_begin (&j);
  json_key_string (&j, "path", path);
  json_key_string (&j, "package", pi->kind == PKG_XVA ? "xva" : "ova");
  json_key_string (&j, "flavour", pi->flavour);
  json_key_string (&j, "container", container (pi));
  json_key_uint (&j, "members", pi->members);
  json_key_uint (&j, "member_bytes", pi->member_bytes);
  json_vm (&j, &pi->pkg.vm);
  json_disks (&j, pi);
  json_nics (&j, &pi->pkg.vm);
  json_checks (&j, pi);
  json_object_end (&j);
  return json_finish (&j);
}

static void
text_vm (const struct pkg_info *pi)
{
  const struct vm *vm = &pi->pkg.vm;
  char u[37], h[32], mac[18];
  size_t i;

  if (vm->has_uuid)
    ids_uuid_format (vm->uuid, u);
  printf ("%-16s %s, %u CPU, %llu MiB, %s, os %s\n", "vm", vm->name,
          vm->cpus, (unsigned long long) vm->memory_mib,
          vm->firmware == VM_FW_UEFI ? "uefi" : "bios", vm_os_name (vm->os));
  printf ("%-16s %s\n", "uuid", vm->has_uuid ? u : "(none)");
  for (i = 0; i < vm->disks.len; i++) {
    const struct pkg_disk *pd = &pi->disks[i];
    format_bytes (h, sizeof h, vm->disks.ptr[i].capacity);
    printf ("%-16s %s: %s, capacity %s, %llu bytes in the package%s\n",
            "disk", vm->disks.ptr[i].file,
            vm->disks.ptr[i].format ? vm->disks.ptr[i].format : "?", h,
            (unsigned long long) pd->bytes, pd->present ? "" : " (MISSING)");
  }
  for (i = 0; i < vm->nics.len; i++) {
    const struct vm_nic *n = &vm->nics.ptr[i];
    if (n->has_mac)
      ids_mac_format (n->mac, mac);
    printf ("%-16s %s, network %s, model %s\n", "nic",
            n->has_mac ? mac : "(none)", n->network ? n->network : "-",
            n->model ? n->model : "-");
  }
}

static void
package_text (const char *path, const struct pkg_info *pi)
{
  printf ("%-16s %s\n", "package", path);
  if (pi->kind == PKG_XVA)
    printf ("%-16s XVA (XenServer export), %s, %zu members\n", "kind",
            container (pi), pi->members);
  else
    printf ("%-16s OVA, %s flavour, %s, %zu members\n", "kind",
            pi->flavour, container (pi), pi->members);
  text_vm (pi);
  if (pi->kind == PKG_OVA)
    printf ("%-16s %s\n", "manifest", !pi->manifest ? "none"
            : pi->manifest_ok ? (pi->manifest_kind == HASH_SHA1
                                 ? "sha1, verified" : "sha256, verified")
            : "DOES NOT VERIFY");
  if (pi->cert)
    printf ("%-16s %s%s%s\n", "signature",
            pi->pkg.signature ? "verified, signed by " : "DOES NOT VERIFY",
            pi->pkg.signature ? pi->pkg.signer : "",
            !pi->pkg.signature ? ""
            : pi->pkg.chain_checked ? " (chains to the CA file)"
            : " (certificate not checked against a CA: use --ca)");
  else if (pi->kind == PKG_OVA)
    printf ("%-16s none\n", "signature");
  if (pi->problem)
    printf ("%-16s %s\n", "problem", pi->problem);
}

static int
cmd_info_package (const char *path, const struct info_args *a)
{
  struct pkg_info pi;
  int r;

  if (ova_inspect (path, a->ca, &pi) == -1)
    return cmd_fail ();
  if (a->json)
    r = package_json (path, &pi) == -1 ? cmd_fail () : EXIT_OK;
  else {
    package_text (path, &pi);
    r = EXIT_OK;
  }
  pkg_info_free (&pi);
  return r;
}

int
cmd_info (int argc, char **argv)
{
  struct strbuf details = STRBUF_INIT;
  struct info_args args = { 0 };
  struct image *img;
  struct alloc a;
  int r, first;

  if ((r = cmd_options_parse (&info_spec, argc, argv, &args, &first)) != 0)
    return r == -1 ? EXIT_OK : r;
  if (first != argc - 1)
    return cmd_usage_error ("info", "expected exactly one IMAGE or PACKAGE");
  if (ova_probe (argv[first]))
    return cmd_info_package (argv[first], &args);
  if (args.ca)
    return cmd_usage_error ("info", "--ca is for packages; '%s' is an image",
                            argv[first]);
  if ((img = image_open (argv[first], 0)) == NULL)
    return cmd_fail ();
  r = EXIT_OK;
  if (count_allocation (img, &a) == -1 ||
      (img->ops->info && img->ops->info (img, &details) == -1) ||
      strbuf_adds (&details, "") == -1)
    r = cmd_fail ();
  else if (args.json)
    r = print_json (img, &a, details.buf) == -1 ? cmd_fail () : EXIT_OK;
  else
    print_text (img, &a, details.buf);
  strbuf_release (&details);
  image_close (img);
  return r;
}
