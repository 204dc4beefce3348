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
#include "lib/common/json.h"
#include "lib/image/image.h"
#include "ova/export.h"
#include "ova/ova-write.h"
#include "ova/target.h"
#include "ova/xva-write.h"

struct package {
  struct vm vm;
  struct ova_export_disks disks;
};

static void
package_free (struct package *p)
{
  ova_export_disks_close (&p->disks);
  vm_free (&p->vm);
}

/* The VM (name, CPUs, memory, firmware, one NIC with the target's MAC
 * prefix) and its disks, the sources opened raw with their used-block
 * maps. */
static int
build_vm (struct package *p, const struct agent_settings *s,
          const char *const *sources, size_t n, bool xva, bool uefi)
{
  struct ova_target t = { .out = xva ? OVA_OUT_XVA : OVA_OUT_OVA,
                          .ovf = OVF_VMWARE };
  struct vm_options vo = {
    .cpus = (unsigned) strtoul (agent_get (s, AK_CPUS), NULL, 10),
    .memory_mib = strtoull (agent_get (s, AK_MEMORY), NULL, 10),
    .firmware = uefi ? VM_FW_UEFI : VM_FW_BIOS, .os = VM_OS_OTHER,
    .bus = ova_target_bus (&t), .images = sources, .n_images = n,
  };
  struct ova_export_opts eo = { .stem = agent_get (s, AK_NAME),
                                .format = xva ? "raw" : "vmdk",
                                .open_flags = IMAGE_OPEN_RAW };

  if ((p->vm.name = xstrdup (agent_get (s, AK_NAME))) == NULL ||
      vm_from_options (&p->vm, &vo) == -1 ||
      vm_fill_macs (&p->vm, ova_target_mac_prefix (&t), false) == -1)
    return -1;
  return ova_export_disks_open (&p->disks, &p->vm, &eo);
}

/* One "captures" entry per disk, from the package writer's numbers. */
static void
report (struct json *j, const struct package *p, const char *const *sources,
        const char *path, const char *format, const uint64_t (*n)[3],
        const double *secs)
{
  size_t i;

  for (i = 0; i < p->disks.n; i++) {
    struct capture_result r = { .source_size = p->disks.in[i].src->size,
                                .map = p->disks.maps[i] };
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
  if (ova_write (path, &p->vm, p->disks.in, &o, res) == -1) {
    free (res);
    return -1;
  }
  for (i = 0; i < p->disks.n; i++) {         /* members: .ovf, disks, .mf */
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
  if (xva_write (path, &p->vm, p->disks.in, &o, res) == -1) {
    free (res);
    return -1;
  }
  for (i = 0; i < p->disks.n; i++) {
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
  int r = -1;

  if (p == NULL)
    return error_set ("out of memory");
  vm_init (&p->vm);
  if (build_vm (p, s, sources, n, xva, uefi) == -1)
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
