/* clone.c: `ferry clone` — make N machines from a golden image (clone/):
 * options in, the batch report out (text or JSON). */
#include "lib/common/compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clone/clone.h"
#include "cmd/cmd.h"
#include "cmd/options.h"
#include "lib/common/error.h"
#include "lib/common/ids.h"
#include "lib/common/json.h"

struct clone_args {
  struct clone_opts o;
  const char *cow, *to, *shard;
  bool json, tty;
};

static const char *const cows[] = { "auto", "qcow2", "vhd", "reflink",
                                    "full", NULL };
static const char *const tos[] = { "libvirt", "libvirt-xen", "ova", "xva",
                                   "none", NULL };

static const struct cmd_option clone_options[] = {
  CMD_OPT_STRING ('o', NULL, struct clone_args, o.dir, "DIR",
                  "the directory of the clones (made if missing;\n"
                  "existing clone files are never overwritten)"),
  CMD_OPT_UINT (0, "count", struct clone_args, o.count, "N", CLONE_MAX_ROWS,
                "make N clones, named by --name"),
  CMD_OPT_STRING (0, "name", struct clone_args, o.name_pattern, "PATTERN",
                  "clone names with one %d (default: GOLDEN-%02d)"),
  CMD_OPT_STRING (0, "manifest", struct clone_args, o.manifest, "FILE",
                  "one clone per row of a CSV or JSON manifest"),
  CMD_OPT_CHOICE (0, "cow", struct clone_args, cow, "METHOD", cows,
                  "auto (default), qcow2, vhd, reflink or full"),
  CMD_OPT_CHOICE (0, "to", struct clone_args, to, "TARGET", tos,
                  "each clone's definition: libvirt (default),\n"
                  "libvirt-xen, ova, xva or none (disks only)"),
  CMD_OPT_STRING (0, "connect", struct clone_args, o.connect, "URI",
                  "also define each clone in this libvirt\n"
                  "(--to libvirt or libvirt-xen)"),
  CMD_OPT_BOOL (0, "from-libvirt", struct clone_args, o.from_libvirt,
                "GOLDEN is a libvirt domain XML"),
  CMD_OPT_STRING (0, "seed", struct clone_args, o.seed, "S",
                  "derive UUIDs, MACs and machine-ids from S\n"
                  "(default: a random seed, reported)"),
  CMD_OPT_STRING (0, "shard", struct clone_args, shard, "K/N",
                  "make only shard K of N (needs --seed)"),
  CMD_OPT_BOOL (0, "no-identity", struct clone_args, o.no_identity,
                "disks and definitions only, no in-guest changes"),
  CMD_OPT_STRING (0, "root", struct clone_args, o.root, "DEV",
                  "the golden's root filesystem, if it has several"),
  CMD_OPT_BOOL (0, "unattend", struct clone_args, o.unattend,
                "Windows: add an Unattend.xml for Sysprep"),
  CMD_OPT_BOOL ('q', "quiet", struct clone_args, o.quiet,
                "no progress or summary"),
  CMD_OPT_BOOL (0, "json", struct clone_args, json,
                "print the batch report as JSON on stdout"),
  CMD_OPT_END
};

static const struct cmd_spec clone_spec = {
  "clone",
  "usage: ferry clone GOLDEN -o DIR (--count N [--name PATTERN] | "
  "--manifest FILE)\n"
  "                   [--cow METHOD] [--to TARGET] [--connect URI] "
  "[--seed S]\n"
  "                   [--shard K/N] [options]\n\n"
  "Make clones of a golden VM (a disk image, a libvirt domain XML with\n"
  "--from-libvirt, or an OVA/XVA): copy-on-write disks, a new name,\n"
  "UUID and MACs each, and each clone's identity inside the guest.\n\n",
  clone_options,
};

static int
check_args (struct clone_args *a, int n_golden)
{
  if (n_golden != 1)
    return cmd_usage_error ("clone", "give one GOLDEN");
  if (a->o.dir == NULL)
    return cmd_usage_error ("clone", "no output directory given (-o DIR)");
  if ((a->o.count > 0) == (a->o.manifest != NULL))
    return cmd_usage_error ("clone", "give --count N or --manifest FILE");
  if (a->o.manifest && a->o.name_pattern)
    return cmd_usage_error ("clone", "--name goes with --count, not "
                            "--manifest");
  if (a->shard && a->o.seed == NULL)
    return cmd_usage_error ("clone", "--shard needs --seed (every shard "
                            "must derive the same identities)");
  if (a->shard &&
      clone_shard_parse (a->shard, &a->o.shard_k, &a->o.shard_n) == -1)
    return cmd_usage_error ("clone", "--shard: %s", error_get ());
  if (a->cow && cow_method_parse (a->cow, &a->o.cow) == -1)
    return cmd_usage_error ("clone", "--cow: %s", error_get ());
  if (a->to && clone_to_parse (a->to, &a->o.to) == -1)
    return cmd_usage_error ("clone", "--to: %s", error_get ());
  if (a->o.connect && a->o.to != CLONE_TO_LIBVIRT &&
      a->o.to != CLONE_TO_LIBVIRT_XEN)
    return cmd_usage_error ("clone", "--connect goes with --to libvirt or "
                            "libvirt-xen");
  return 0;
}

/* ---- the report ---------------------------------------------------------- */

static void
json_identity (struct json *j, const struct clone_identity_result *id)
{
  size_t i;

  json_key_string (j, "os", id ? id->os : NULL);
  json_key_string (j, "machine_id", id && id->ok ? id->machine_id : NULL);
  json_key (j, "ssh_host_keys");
  json_array_begin (j);
  for (i = 0; id && id->ssh_host_keys && id->ssh_host_keys[i]; i++)
    json_string (j, id->ssh_host_keys[i]);
  json_array_end (j);
  json_key (j, "changes");
  json_array_begin (j);
  for (i = 0; id && i < id->changes.len; i++) {
    json_object_begin (j);
    json_key_string (j, "what", id->changes.ptr[i].what);
    json_key_string (j, "path", id->changes.ptr[i].path);
    json_key_string (j, "detail", id->changes.ptr[i].detail);
    json_object_end (j);
  }
  json_array_end (j);
}

static void
json_clone (struct json *j, const struct clone_result *c)
{
  char s[40];
  size_t i;

  json_object_begin (j);
  json_key_string (j, "name", c->spec->name);
  json_key_uint (j, "row", c->spec->row);
  json_key_uint (j, "index", c->index);
  json_key_bool (j, "ok", c->ok);
  json_key_string (j, "error", c->error);
  json_key (j, "files");
  json_array_begin (j);
  for (i = 0; i < c->n_files; i++)
    json_string (j, c->files[i]);
  json_array_end (j);
  json_key_string (j, "definition", c->definition);
  json_key_bool (j, "defined", c->defined);
  ids_uuid_format (c->spec->uuid, s);
  json_key_string (j, "uuid", s);
  json_key (j, "macs");
  json_array_begin (j);
  for (i = 0; i < c->spec->n_nics; i++) {
    ids_mac_format (c->spec->nics[i].mac, s);
    json_string (j, s);
  }
  json_array_end (j);
  /* Each NIC as the clone gets it: what the manifest gave, null where
   * the golden's configuration (DHCP) is kept. */
  json_key_string (j, "hostname", c->spec->hostname);
  json_key (j, "nics");
  json_array_begin (j);
  for (i = 0; i < c->spec->n_nics; i++) {
    const struct clone_nic *nic = &c->spec->nics[i];

    json_object_begin (j);
    ids_mac_format (nic->mac, s);
    json_key_string (j, "mac", s);
    json_key_bool (j, "mac_given", nic->mac_given);
    json_key_string (j, "ip", nic->ip);
    json_key_string (j, "gateway", nic->gateway);
    json_key_string (j, "dns", nic->dns);
    json_object_end (j);
  }
  json_array_end (j);
  json_identity (j, c->identity);
  json_key (j, "seconds");
  json_double (j, c->seconds);
  json_object_end (j);
}

static void
json_golden (struct json *j, const struct clone_report *r)
{
  size_t i;

  json_key (j, "golden");
  json_object_begin (j);
  json_key_string (j, "path", r->golden);
  json_key_string (j, "kind", r->golden_kind);
  json_key (j, "disks");
  json_array_begin (j);
  for (i = 0; i < r->n_disks; i++) {
    json_object_begin (j);
    json_key_string (j, "path", r->disks[i].path);
    json_key_string (j, "format", r->disks[i].format);
    json_key_uint (j, "chain_depth", r->disks[i].depth);
    json_key_string (j, "staged_copy", r->disks[i].staged);
    json_key_string (j, "cow", cow_method_name (r->disks[i].method));
    json_key_string (j, "cow_why", r->disks[i].why);
    json_object_end (j);
  }
  json_array_end (j);
  json_object_end (j);
}

static void
print_json (const struct clone_report *r)
{
  struct json j;
  size_t i;

  json_init (&j, stdout);
  json_object_begin (&j);
  json_key_string (&j, "seed", r->seed);
  json_key_bool (&j, "seed_random", r->seed_random);
  json_key_string (&j, "dir", r->dir);
  json_key_string (&j, "to", clone_to_name (r->to));
  json_key_string (&j, "connect", r->connect);
  json_key_string (&j, "domain_type", r->domain_type);
  json_key_bool (&j, "identity", r->identity_run);
  json_golden (&j, r);
  if (r->shard_n)
    json_key_uint (&j, "shard", r->shard_k);
  json_key_uint (&j, "shards", r->shard_n ? r->shard_n : 1);
  json_key (&j, "clones");
  json_array_begin (&j);
  for (i = 0; i < r->n; i++)
    json_clone (&j, &r->clones[i]);
  json_array_end (&j);
  json_key_uint (&j, "planned", r->plan.n);
  json_key_uint (&j, "made", r->n_ok);
  json_key_uint (&j, "failed", r->n_failed);
  json_key (&j, "seconds");
  json_double (&j, r->seconds);
  json_key_bool (&j, "ok", r->n_failed == 0);
  json_object_end (&j);
  json_finish (&j);
}

static void
print_text (const struct clone_report *r, bool quiet)
{
  size_t i;

  for (i = 0; i < r->n && quiet; i++)
    if (!r->clones[i].ok)
      fprintf (stderr, "clone: %s: failed: %s\n", r->clones[i].spec->name,
               r->clones[i].error ? r->clones[i].error : "?");
  if (quiet)
    return;
  if (r->connect)
    fprintf (stderr, "clone: libvirt '%s': domains of type %s%s\n",
             r->connect, r->domain_type, strcmp (r->domain_type, "qemu")
             ? "" : " (it offers no kvm: QEMU's emulation)");
  for (i = 0; i < r->n_disks; i++)
    fprintf (stderr, "clone: disk %zu: %s (%s)\n", i + 1,
             cow_method_name (r->disks[i].method), r->disks[i].why);
  for (i = 0; i < r->n; i++)
    if (!r->clones[i].ok)
      fprintf (stderr, "clone: %s: failed: %s\n", r->clones[i].spec->name,
               r->clones[i].error ? r->clones[i].error : "?");
  fprintf (stderr, "clone: %zu of %zu clones made%s in %s (%.1f s)%s%s\n",
           r->n_ok, r->n, r->connect ? " and defined" : "", r->dir,
           r->seconds,
           r->seed_random ? "; seed " : "", r->seed_random ? r->seed : "");
}

/* On a terminal, a line per clone as it is done. */
static void
on_clone (void *opaque, const struct clone_result *c, size_t done,
          size_t total)
{
  const struct clone_args *a = opaque;

  if (!a->tty)
    return;
  fprintf (stderr, "clone: [%zu/%zu] %s %s\n", done, total, c->spec->name,
           c->ok ? "done" : "failed");
}

int
cmd_clone (int argc, char **argv)
{
  static struct clone_args a;
  static struct clone_report r;
  int rc, first;

  if ((rc = cmd_options_parse (&clone_spec, argc, argv, &a, &first)) != 0)
    return rc == -1 ? EXIT_OK : rc;
  if ((rc = check_args (&a, argc - first)) != 0)
    return rc;
  a.o.golden = argv[first];
  a.o.quiet = a.o.quiet || a.json;
  a.tty = !a.o.quiet && isatty (STDERR_FILENO);
  a.o.on_clone = on_clone;
  a.o.opaque = &a;
  if (clone_run (&a.o, &r) == -1)
    return cmd_fail ();
  if (a.json)
    print_json (&r);
  else
    print_text (&r, a.o.quiet);
  rc = r.n_failed ? EXIT_FAIL : EXIT_OK;
  clone_report_free (&r);
  return rc;
}
