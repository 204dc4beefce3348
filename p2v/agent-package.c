/* agent-package.c: ferry.format=ova|xva — the selected disks streamed
 * straight into one package (ova/ova-write.h, ova/xva-write.h), used
 * blocks only, with the VM's name, CPUs, memory and one NIC; no temporary
 * copy of a disk is ever made. */
#include "lib/common/compat.h"

#include <stdlib.h>
#include <string.h>

#include "p2v/agent.h"
#include "p2v/capture.h"
#include "lib/common/error.h"
#include "lib/common/ids.h"
#include "lib/common/json.h"
#include "lib/image/image.h"
#include "ova/ova-write.h"
#include "ova/target.h"
#include "ova/xva-write.h"
#include "lib/disk/usedmap.h"

struct package {
  struct vm vm;
  struct ova_disk_in in[VM_MAX_DISKS];
  struct usedmap maps[VM_MAX_DISKS];
  size_t n_open;
};

static void
package_free (struct package *p)
{
  size_t i;

  for (i = 0; i < p->n_open; i++) {
    image_close (p->in[i].src);
    usedmap_free (&p->maps[i]);
  }
  vm_free (&p->vm);
}

static int
open_source (struct package *p, const char *source, const char *stem,
             bool xva)
{
  size_t i = p->n_open;
  char member[TAR_NAME_MAX + 1];
  struct image *src;

  if (i == VM_MAX_DISKS)
    return error_set ("too many disks for a package");
  if ((src = image_open (source, IMAGE_OPEN_RAW)) == NULL)
    return -1;
  p->in[i].src = src;
  p->n_open++;
  if (usedmap_build (src, 2, &p->maps[i]) == -1)
    return error_prefix ("'%s': ", source);
  p->in[i].mask = &p->maps[i].keep;
  if (agent_pathf (member, sizeof member, "%s-disk%zu.%s", stem, i + 1,
                   xva ? "raw" : "vmdk") == -1)
    return -1;
  return vm_add_disk (&p->vm, member, xva ? "raw" : "vmdk",
                      (src->size + 511) / 512 * 512,
                      xva ? VM_BUS_XEN : VM_BUS_SCSI);
}

static int
build_vm (struct package *p, const struct agent_settings *s, bool xva,
          bool uefi)
{
  struct ova_target t = { .out = xva ? OVA_OUT_XVA : OVA_OUT_OVA,
                         .ovf = OVF_VMWARE };
  uint8_t mac[6];

  if ((p->vm.name = xstrdup (agent_get (s, AK_NAME))) == NULL)
    return -1;
  p->vm.cpus = (unsigned) strtoul (agent_get (s, AK_CPUS), NULL, 10);
  p->vm.memory_mib = strtoull (agent_get (s, AK_MEMORY), NULL, 10);
  p->vm.firmware = uefi ? VM_FW_UEFI : VM_FW_BIOS;
  p->vm.os = VM_OS_OTHER;
  if (ids_mac_generate (ova_target_mac_prefix (&t), NULL, 0, mac) == -1)
    return -1;
  return vm_add_nic (&p->vm, mac, NULL, NULL);
}

/* One "captures" entry per disk, from the package writer's numbers. */
static void
report (struct json *j, const struct package *p, const char *const *sources,
        const char *path, const char *format, const uint64_t (*n)[3],
        const double *secs)
{
  size_t i;

  for (i = 0; i < p->n_open; i++) {
    struct capture_result r = { .source_size = p->in[i].src->size,
                                .map = p->maps[i] };
    char out[4400];
    r.stats.bytes_read = n[i][0];
    r.stats.bytes_written = n[i][1];
    r.stats.bytes_skipped = n[i][2];
    r.stats.seconds = secs[i];
    agent_textf (out, sizeof out, "%s/%s", path, p->vm.disks.ptr[i].file);
    capture_result_json (j, sources[i], out, format, NULL, &r);
  }
}

static int
write_ova (struct package *p, const char *path, const char *stem,
           const char *const *sources, struct json *j)
{
  struct ova_write_opts o = { .flavour = OVF_VMWARE, .manifest = HASH_SHA256,
                              .stem = stem, .quiet = true };
  struct ova_result *res = calloc (1, sizeof *res);
  uint64_t n[VM_MAX_DISKS][3];       /* read, stored, skipped */
  double secs[VM_MAX_DISKS];
  size_t i;

  if (res == NULL)
    return error_set ("out of memory");
  if (ova_write (path, &p->vm, p->in, &o, res) == -1) {
    free (res);
    return -1;
  }
  for (i = 0; i < p->n_open; i++) {         /* members: .ovf, disks, .mf */
    n[i][0] = res->members[i + 1].bytes_read;
    n[i][1] = res->members[i + 1].size;
    n[i][2] = res->members[i + 1].bytes_skipped;
    secs[i] = res->members[i + 1].seconds;
  }
  report (j, p, sources, path, "ova", n, secs);
  free (res);
  return 0;
}

static int
write_xva (struct package *p, const char *path, const char *const *sources,
           struct json *j)
{
  struct xva_write_opts o = { .quiet = true };
  struct xva_result *res = calloc (1, sizeof *res);
  uint64_t n[VM_MAX_DISKS][3];       /* read, stored, skipped */
  double secs[VM_MAX_DISKS];
  size_t i;

  if (res == NULL)
    return error_set ("out of memory");
  if (xva_write (path, &p->vm, p->in, &o, res) == -1) {
    free (res);
    return -1;
  }
  for (i = 0; i < p->n_open; i++) {
    n[i][0] = res->disks[i].bytes_read;
    n[i][1] = res->disks[i].chunks_written * XVA_CHUNK;
    n[i][2] = res->disks[i].bytes_skipped;
    secs[i] = res->disks[i].seconds;
  }
  report (j, p, sources, path, "xva", n, secs);
  free (res);
  return 0;
}

int
agent_package (const char *path, const struct agent_settings *s,
               const char *const *sources, size_t n, bool uefi,
               struct json *j)
{
  const char *stem = agent_get (s, AK_NAME);
  bool xva = strcmp (agent_get (s, AK_FORMAT), "xva") == 0;
  struct package *p = calloc (1, sizeof *p);
  size_t i;
  int r = -1;

  if (p == NULL)
    return error_set ("out of memory");
  vm_init (&p->vm);
  if (build_vm (p, s, xva, uefi) == -1)
    goto out;
  for (i = 0; i < n; i++)
    if (open_source (p, sources[i], stem, xva) == -1)
      goto out;
  r = xva ? write_xva (p, path, sources, j)
    : write_ova (p, path, stem, sources, j);
 out:
  if (r == -1)
    error_prefix ("package '%s': ", path);
  package_free (p);
  free (p);
  return r;
}
