/* import.c: `ferry import` — verify an OVA or XVA package and restore its
 * VM for a target (libvirt, raw, xen, hyperv, vmware, virtualbox) in a
 * directory, optionally defined and started in libvirt: the options, the
 * job (ova/import.h), the summary. */
#include "lib/common/compat.h"

#include <stdio.h>
#include <stdlib.h>

#include "cmd/cmd.h"
#include "cmd/options.h"
#include "lib/common/error.h"
#include "lib/common/ids.h"
#include "lib/common/json.h"
#include "lib/common/outfile.h"
#include "lib/common/progress.h"
#include "ova/import.h"
#include "ova/target.h"

struct import_args {
  const char *package, *output, *to, *connect;
  const struct ova_target *t;
  bool new_identity, json, quiet, force, start;
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
  CMD_OPT_STRING (0, "connect", struct import_args, connect, "URI",
                  "define the domain in this libvirt (libvirt, raw\n"
                  "and xen targets), e.g. qemu:///system"),
  CMD_OPT_BOOL (0, "start", struct import_args, start,
                "start the defined domain (with --connect)"),
  CMD_OPT_BOOL ('q', "quiet", struct import_args, quiet,
                "no progress meter or summary"),
  CMD_OPT_BOOL (0, "json", struct import_args, json,
                "print a JSON summary on stdout"),
  CMD_OPT_END
};

static const struct cmd_spec import_spec = {
  "import",
  "usage: ferry import PACKAGE --to TARGET -o DIR [options]\n"
  "       ferry import PACKAGE --to libvirt -o DIR --connect URI [--start]"
  "\n\n"
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
  "\n\n"
  "With --connect URI the domain is also defined in that libvirt, from\n"
  "NAME.xml once the disks are in DIR (which they never leave), never\n"
  "replacing a domain of the same name or UUID (refused before anything\n"
  "is written); a KVM domain becomes a QEMU (TCG) one where libvirt\n"
  "offers no KVM.  The disks are written on this machine: URI must be a\n"
  "libvirt that sees its files (qemu:///system, a local socket).\n\n",
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
  if (a->start && a->connect == NULL)
    return cmd_usage_error ("import", "--start needs --connect URI");
  a->t = ova_target_find (a->to);
  if (a->t == NULL)
    return cmd_usage_error ("import", "--to: unknown target '%s' (libvirt, "
                            "raw, xen, hyperv, vmware, virtualbox)", a->to);
  return 0;
}

/* ---- reporting --------------------------------------------------------- */

static void
print_json (const struct import_args *a, const struct ova_import *job)
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
  json_key_string (&j, "domain_type", job->domain_type);
  json_key_string (&j, "connect", job->connect);
  json_key_bool (&j, "defined", job->defined);
  json_key_bool (&j, "started", job->started);
  json_key (&j, "disks");
  json_array_begin (&j);
  for (i = 0; i < vm->disks.len; i++) {
    json_object_begin (&j);
    json_key_string (&j, "path", job->paths[i] ? job->paths[i]
                     : job->descriptor);
    json_key_string (&j, "format", vm->disks.ptr[i].format);
    json_key_uint (&j, "size", ova_import_disk_size (job, i));
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
print_text (const struct ova_import *job)
{
  char sz[32];
  size_t i;

  for (i = 0; i < job->pkg.vm.disks.len && job->paths[i]; i++) {
    format_bytes (sz, sizeof sz, ova_import_disk_size (job, i));
    fprintf (stderr, "import: %-50s %10s\n", job->paths[i], sz);
  }
  fprintf (stderr, "import: %s (%s%s)\n", job->descriptor, job->pkg.vm.name,
           !job->pkg.manifest ? ", no manifest"
           : job->xva ? ", chunk checksums verified" : ", manifest verified");
  if (job->defined)
    fprintf (stderr, "import: domain '%s' (%s) defined in libvirt '%s'%s\n",
             job->pkg.vm.name, job->domain_type, job->connect,
             job->started ? ", started" : "");
}

/* ---- the command ------------------------------------------------------- */

static int
run (const struct import_args *a, struct ova_import *job)
{
  struct ova_import_opts o = {
    .package = a->package, .output = a->output, .target = a->t,
    .connect = a->connect, .start = a->start,
    .new_identity = a->new_identity, .force = a->force,
    .quiet = a->quiet || a->json,
  };

  if (ova_import_run (job, &o) == -1)
    return -1;
  if (a->json)
    print_json (a, job);
  else if (!a->quiet)
    print_text (job);
  return 0;
}

int
cmd_import (int argc, char **argv)
{
  static struct import_args a;
  static struct ova_import job;
  int r;

  if ((r = parse_args (argc, argv, &a)) != 0)
    return r == -1 ? EXIT_OK : r;
  outfile_install_signal_handlers ();
  r = run (&a, &job);
  ova_import_free (&job);
  return r == -1 ? cmd_fail () : EXIT_OK;
}
