/* ids.h: UUIDs and MAC addresses.
 * Randomness comes from getrandom(2).  All return 0 / -1 with error set.
 */
#ifndef FERRY_IDS_H
#define FERRY_IDS_H

#include <stddef.h>
#include <stdint.h>

/* Random (version 4, RFC 4122 variant) UUID. */
int ids_uuid_generate (uint8_t uuid[16]);
/* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" lower-case; out must hold 37 bytes. */
void ids_uuid_format (const uint8_t uuid[16], char out[37]);
/* Parse either form (with or without dashes, any case); -1 if invalid. */
int ids_uuid_parse (const char *s, uint8_t uuid[16]);

/* MAC addresses: 6 bytes.  `prefix` is a vendor OUI (3 bytes) such as
 * IDS_MAC_PREFIX_XEN, or NULL for a random locally-administered unicast address.
 * `avoid` is a list of n_avoid MACs already in use (previous clones, known
 * VMs); the result differs from all of them.  Generating a batch: append
 * each result to `avoid` before generating the next. */
#define IDS_MAC_PREFIX_XEN        ((const uint8_t[3]) { 0x00, 0x16, 0x3e })
#define IDS_MAC_PREFIX_KVM        ((const uint8_t[3]) { 0x52, 0x54, 0x00 })
#define IDS_MAC_PREFIX_VMWARE     ((const uint8_t[3]) { 0x00, 0x50, 0x56 })
#define IDS_MAC_PREFIX_HYPERV     ((const uint8_t[3]) { 0x00, 0x15, 0x5d })
#define IDS_MAC_PREFIX_VIRTUALBOX ((const uint8_t[3]) { 0x08, 0x00, 0x27 })
int ids_mac_generate (const uint8_t *prefix, const uint8_t (*avoid)[6],
                  size_t n_avoid, uint8_t mac[6]);
/* "52:54:00:12:34:56"; out must hold 18 bytes. */
void ids_mac_format (const uint8_t mac[6], char out[18]);
/* Accepts ':' or '-' separators, any case; -1 if invalid. */
int ids_mac_parse (const char *s, uint8_t mac[6]);

#endif
