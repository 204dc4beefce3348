/* plan.h: a clone batch — the rows of a manifest (CSV with a header row,
 * or JSON: an array of objects with the same keys) or of --count/--name,
 * validated, and each clone's outside identity (VM UUID, MACs) and
 * machine-id derived from a seed, so that every host of a sharded batch
 * computes exactly what one run would.
 *
 *   struct clone_plan plan = { 0 };
 *   if (clone_manifest_parse ("m.csv", text, len, &plan) == -1 ||
 *       clone_plan_derive (&plan, seed, &golden) == -1) ... error_get ()
 *   for (i = 0; i < plan.n; i++)
 *     if (clone_plan_in_shard (i, k, nshards)) ... plan.specs[i] ...
 *   clone_plan_free (&plan);
 *
 * Manifests are hostile input: every refusal happens here, before
 * anything is written, as one line naming the file, the row and the field
 * ("m.csv: row 3, field 'mac': 01:00:5e:00:00:01 is a multicast address").
 */
#ifndef FERRY_CLONE_PLAN_H
#define FERRY_CLONE_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CLONE_MAX_ROWS 10000          /* clones in one batch */
#define CLONE_MAX_NICS 16             /* NICs per clone (mac, mac2 ... mac16) */
#define CLONE_MAX_MANIFEST (16u << 20) /* bytes of a manifest file */
#define CLONE_MAX_NAME 63             /* a VM name: also a file stem in DIR */

struct clone_nic {
  uint8_t mac[6];
  bool mac_given;             /* from the manifest (else derived) */
  char *ip;                   /* "192.0.2.10/24" (normalised CIDR), or NULL:
                                 keep what the golden does (DHCP stays DHCP) */
  char *gateway;              /* inside ip's subnet, or NULL */
  char *dns;                  /* "192.0.2.1,192.0.2.2" (normalised), or NULL */
};

struct clone_spec {
  size_t row;                 /* 1-based data row of the manifest (0: --count) */
  char *name;                 /* VM name and file stem: [A-Za-z0-9._-], not
                                 starting with '.' or '-', <= CLONE_MAX_NAME */
  char *hostname;             /* RFC 1123 (labels 1-63 of [A-Za-z0-9-], not
                                 starting/ending with '-', total <= 253);
                                 may be an FQDN; defaults to name */
  unsigned cpus;              /* 0: the golden's */
  uint64_t memory_mib;        /* 0: the golden's */
  uint8_t uuid[16];           /* the VM's UUID (derived) */
  uint8_t machine_id[16];     /* /etc/machine-id (derived; never all zero) */
  struct clone_nic nics[CLONE_MAX_NICS];
  size_t n_nics;              /* after clone_plan_derive: max (the golden's
                                 NIC count, the row's highest NIC index) */
};

struct clone_plan {
  struct clone_spec *specs;
  size_t n;
  char *source;               /* the manifest's path, for errors of
                                 clone_plan_derive; NULL for --count */
};

/* What derivation needs to know of the golden VM. */
struct clone_golden_nics {
  size_t n;                   /* NICs of the golden VM (1 for a bare disk) */
  const uint8_t (*macs)[6];   /* its MACs (never given to a clone); may be NULL */
  size_t n_macs;
  const uint8_t *prefix;      /* the target's vendor prefix (3 bytes) */
};

/* Parse a manifest; `path` names it in errors.  JSON when the first
 * non-blank byte is '[' (or '{', to say it must be an array), else CSV (RFC 4180 quoting; a UTF-8 BOM is
 * skipped).  Columns/keys: name (required), hostname, mac, ip, gateway,
 * dns, macN/ipN/gatewayN/dnsN (N = 2..CLONE_MAX_NICS; "mac1" is "mac"),
 * cpus, memory (MiB, or with a binary unit: 512M, 2G, 2GiB, 1T).  Column
 * names are case-insensitive; blanks around values are ignored; an empty
 * CSV cell or a JSON null is "not given"; JSON cpus and memory may be
 * numbers.  ip is CIDR (IPv4 or IPv6), gateway a plain address on ip's
 * subnet (or IPv6 link-local), dns addresses separated by blanks, commas
 * or semicolons; gateway and dns need an ip.  Unknown columns, duplicate
 * names (case-insensitively: they are file names), hostnames or MACs, a
 * name that is no hostname when no hostname is given, and every invalid
 * value are refused.  *plan is overwritten; on error it is left empty.
 * Rows of CSV and JSON alike are numbered from 1, the header not counted;
 * CSV syntax errors name the line instead ("m.csv: line 4: ..."). */
int clone_manifest_parse (const char *path, const char *text, size_t len,
                          struct clone_plan *plan);

/* --count N --name PATTERN: PATTERN holds one printf integer conversion
 * (%d, %02d, %i, %u, with flags "-+ 0", width and precision of at most
 * two digits; no other %, "%%" allowed), names numbered from 1.  Each
 * name is validated as a manifest's would be (and must be a hostname).
 * *plan is overwritten; on error it is left empty. */
int clone_plan_count (unsigned count, const char *pattern,
                      struct clone_plan *plan);

/* Fill what rows left out: MACs (prefix + 3 bytes derived from seed, the
 * clone's name and the NIC index by HMAC-SHA256; a collision with any MAC
 * of the batch, given or derived, or with the golden's, is resolved by a
 * counter in the derivation, processing clones in manifest order, so
 * every host computes the same), the VM UUIDs (version 4 layout) and the
 * machine-ids, from the same seed and name.  Refuses a given MAC equal to
 * one of the golden's.  `seed` is any string (the command makes a random
 * one when --seed is absent and reports it).
 *
 * The HMAC key is the seed; the messages are "mac\0NAME\0NIC\0COUNTER"
 * (NIC 1-based, NIC and COUNTER in decimal, COUNTER from 0), "uuid\0NAME"
 * and "machine-id\0NAME"; the first 3 (MAC), 16 (UUID, machine-id) bytes
 * of the digest are used.  Given MACs (all rows) are taken first, then
 * MACs are derived clone by clone, NIC by NIC.  Call it on the whole
 * plan, then pick a shard's clones: a derived MAC depends on every row
 * before it.  A NULL prefix gives locally administered unicast MACs (6
 * derived bytes, 0x02 set and 0x01 clear in the first).  Re-running it
 * on a derived plan gives the same result. */
int clone_plan_derive (struct clone_plan *plan, const char *seed,
                       const struct clone_golden_nics *golden);

/* --shard K/N: whether clone `index` (0-based, manifest order) belongs to
 * shard K (1-based) of N: index % N == K - 1. */
bool clone_plan_in_shard (size_t index, unsigned k, unsigned n);
/* Parse "K/N" (1 <= K <= N <= 1000); -1 + error otherwise. */
int clone_shard_parse (const char *s, unsigned *k, unsigned *n);

void clone_plan_free (struct clone_plan *plan);

#endif
