/* linux-net.h: a Linux guest's network configuration.  Pure string
 * functions; see linux-text.h for the conventions.
 */
#ifndef FERRY_GUEST_LINUX_NET_H
#define FERRY_GUEST_LINUX_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/common/strv.h"

struct strbuf;

/* MAC pins out, static addresses kept:
 *  networkd .network: [Match] MACAddress=/PermanentMACAddress= removed; a
 *    [Match] left without a condition gets "Name=en* eth*";
 *  ifcfg: HWADDR= removed;
 *  NetworkManager keyfile: [ethernet] mac-address= and [connection]
 *    interface-name= removed (the profile then applies to the new NIC);
 *  netplan: "macaddress:" and "set-name:" removed; an emptied "match:"
 *    gets `name: "e*"`. */
char *lnet_networkd_drop_mac (const char *text, int *changed);
char *lnet_ifcfg_drop_mac (const char *text, int *changed);
char *lnet_nmkeyfile_drop_mac (const char *text, int *changed);
char *lnet_netplan_drop_mac (const char *text, int *changed);

/* ifupdown (/etc/network/interfaces): the distinct interfaces with a
 * static stanza ("iface NAME inet static", lo and NAME:alias/NAME.vlan
 * counted as NAME), space-separated into *names.  Returns the count. */
int lnet_ifupdown_static_ifaces (const char *text, struct strbuf *names);

/* ---- a clone's network: pins rewritten, stanzas written ---- */

/* The configuration formats a Linux guest's network system reads. */
enum lnet_format {
  LNET_NETWORKD,              /* systemd-networkd .network and .link */
  LNET_IFCFG,                 /* /etc/sysconfig/network-scripts/ifcfg-* */
  LNET_NMKEYFILE,             /* NetworkManager keyfiles */
  LNET_NETPLAN,               /* /etc/netplan/ *.yaml */
  LNET_IFUPDOWN,              /* /etc/network/interfaces */
};

#define LNET_MACMAP_MAX 64    /* NICs and distinct pinned MACs tracked */

/* Where the MACs pinned in a golden's files go in a clone: a pin naming
 * golden MAC j becomes clone NIC j's MAC; pins naming other MACs take, in
 * order of first appearance (across every file given to the same map),
 * the clone NICs the golden did not have, then those no pin claimed yet.
 * Zero-initialise, then set golden/n_golden and clone/n_clone. */
struct lnet_macmap {
  const uint8_t (*golden)[6];
  size_t n_golden;
  const uint8_t (*clone)[6];
  size_t n_clone;
  /* state: */
  uint8_t seen[LNET_MACMAP_MAX][6];   /* unknown MACs, first appearance */
  size_t seen_to[LNET_MACMAP_MAX];
  size_t n_seen;
  bool claimed[LNET_MACMAP_MAX];      /* clone NICs some pin names */
  size_t unmapped;                    /* pins left as they were */
};

/* The clone MAC for a pinned MAC: 0, or -1 when no NIC is left for it. */
int lnet_macmap_map (struct lnet_macmap *m, const uint8_t in[6],
                     uint8_t out[6]);

/* Rewrite every MAC pin of a file through the map (the replacement keeps
 * the pin's separator and letter case):
 *  LNET_NETWORKD  MACAddress=, PermanentMACAddress= (lists too);
 *  LNET_IFCFG     HWADDR=, MACADDR=;
 *  LNET_NMKEYFILE mac-address=, cloned-mac-address=;
 *  LNET_NETPLAN   macaddress:.
 * A pin the map cannot place stays (m->unmapped counts it). */
char *lnet_pins_rewrite (const char *text, enum lnet_format fmt,
                         struct lnet_macmap *m, int *changed);

/* Replace whole values: a line `KEY=VALUE` (LNET_IFCFG: also quoted;
 * LNET_NMKEYFILE: any section) whose KEY is in `keys` and whose VALUE is
 * olds[i] (case-insensitive) gets news[i].  Used to renew connection
 * UUIDs (NM uuid=, master=, controller=, parent=; ifcfg UUID=). */
char *lnet_values_replace (const char *text, const char *const *keys,
                           const strv_vector *olds, const strv_vector *news,
                           int *changed);

/* The values of KEY= lines (LNET_NMKEYFILE uuid=, LNET_IFCFG UUID=),
 * appended to *out when not there yet.  Returns 0 or -1 (ENOMEM). */
int lnet_values_of (const char *text, const char *key, strv_vector *out);

/* Interface names a file expects, in order, appended to *names when not
 * already there: ifupdown `iface NAME` (not lo; NAME:alias and NAME.vlan
 * as NAME), ifcfg DEVICE=, networkd [Match] Name= without wildcards,
 * NetworkManager interface-name=, netplan set-name: and the ids of
 * `ethernets:` entries without a match:.  Returns 0 or -1. */
int lnet_names_add (const char *text, enum lnet_format fmt,
                    strv_vector *names);

/* One NIC's configuration in a clone. */
struct lnet_nic {
  const char *mac;            /* "52:54:00:12:34:56" */
  const char *name;           /* its interface name, or NULL if unknown */
  const char *ip;             /* "192.0.2.10/24", or NULL: DHCP */
  const char *gateway;        /* or NULL */
  const char *dns;            /* "192.0.2.1,192.0.2.2", or NULL */
};

/* Whole files for one NIC, matching it by MAC (the caller frees):
 * a networkd .network, a netplan YAML with the entry `id`, a
 * NetworkManager keyfile with connection id `id` and `uuid`. */
char *lnet_networkd_nic (const struct lnet_nic *n);
char *lnet_netplan_nic (const struct lnet_nic *n, const char *id);
char *lnet_nmkeyfile_nic (const struct lnet_nic *n, const char *id,
                          const char *uuid);
/* A systemd .link file naming the NIC with that MAC n->name. */
char *lnet_link_nic (const struct lnet_nic *n);

/* An ifcfg file (text: the existing one, or "") set for the NIC: DEVICE
 * (if named), HWADDR, TYPE, ONBOOT=yes, BOOTPROTO=none with IPADDR,
 * PREFIX, GATEWAY, DNS1.. (older address keys dropped), or BOOTPROTO=dhcp. */
char *lnet_ifcfg_nic (const char *text, const struct lnet_nic *n,
                      int *changed);

/* /etc/network/interfaces with the NIC's stanza (n->name required): an
 * existing `iface NAME inet` stanza is replaced, `auto NAME` added unless
 * an auto/allow-hotplug line names it already. */
char *lnet_ifupdown_nic (const char *text, const struct lnet_nic *n,
                         int *changed);

#endif
