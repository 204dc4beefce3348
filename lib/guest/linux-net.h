/* linux-net.h: a Linux guest's network configuration.  Pure string
 * functions; see linux-text.h for the conventions.
 */
#ifndef FERRY_GUEST_LINUX_NET_H
#define FERRY_GUEST_LINUX_NET_H

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

#endif
