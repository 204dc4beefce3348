/* ids.c: random UUIDs and MAC addresses from getrandom(2) (ids.h). */
#include "lib/common/compat.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/random.h>

#include "lib/common/error.h"
#include "lib/common/ids.h"

/* Random tries before giving up on finding a MAC outside `avoid`.  Even with
 * half of a vendor's 2^24 suffixes in use, 64 misses in a row has odds of
 * 2^-64; failing beats looping forever on an exhausted prefix. */
#define MAC_TRIES 64

static const char hexdigits[] = "0123456789abcdef";

static int
random_bytes (void *buf, size_t len)
{
  unsigned char *p = buf;

  while (len > 0) {
    ssize_t r = getrandom (p, len, 0);

    if (r == -1) {
      if (errno == EINTR)
        continue;
      return error_errno ("getrandom");
    }
    p += r;
    len -= (size_t) r;
  }
  return 0;
}

static int
hex_value (char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* Two hex digits at s into *out; -1 if either is not a hex digit. */
static int
hex_byte (const char *s, uint8_t *out)
{
  int hi = hex_value (s[0]), lo = hi == -1 ? -1 : hex_value (s[1]);

  if (hi == -1 || lo == -1)
    return -1;
  *out = (uint8_t) (hi << 4 | lo);
  return 0;
}

static char *
put_hex (char *out, uint8_t b)
{
  *out++ = hexdigits[b >> 4];
  *out++ = hexdigits[b & 15];
  return out;
}

int
ids_uuid_generate (uint8_t uuid[16])
{
  if (random_bytes (uuid, 16) == -1)
    return error_prefix ("uuid: ");
  uuid[6] = (uint8_t) ((uuid[6] & 0x0f) | 0x40);   /* version 4 */
  uuid[8] = (uint8_t) ((uuid[8] & 0x3f) | 0x80);   /* RFC 4122 variant */
  return 0;
}

static bool
uuid_dash_at (size_t i)
{
  return i == 4 || i == 6 || i == 8 || i == 10;
}

void
ids_uuid_format (const uint8_t uuid[16], char out[37])
{
  size_t i;

  for (i = 0; i < 16; i++) {
    if (uuid_dash_at (i))
      *out++ = '-';
    out = put_hex (out, uuid[i]);
  }
  *out = '\0';
}

int
ids_uuid_parse (const char *s, uint8_t uuid[16])
{
  size_t len = strlen (s), i;
  bool dashes = len == 36;
  const char *p = s;
  uint8_t u[16];

  if (len != 32 && len != 36)
    return error_set ("uuid: '%s': wrong length", s);
  for (i = 0; i < 16; i++) {
    if (dashes && uuid_dash_at (i) && *p++ != '-')
      return error_set ("uuid: '%s': misplaced '-'", s);
    if (hex_byte (p, &u[i]) == -1)
      return error_set ("uuid: '%s': not a hex digit", s);
    p += 2;
  }
  memcpy (uuid, u, sizeof u);
  return 0;
}

static bool
mac_in (const uint8_t mac[6], const uint8_t (*avoid)[6], size_t n_avoid)
{
  size_t i;

  for (i = 0; i < n_avoid; i++)
    if (memcmp (mac, avoid[i], 6) == 0)
      return true;
  return false;
}

static int
mac_random (const uint8_t *prefix, uint8_t mac[6])
{
  if (random_bytes (mac, 6) == -1)
    return error_prefix ("mac: ");
  if (prefix)
    memcpy (mac, prefix, 3);
  else
    mac[0] = (uint8_t) ((mac[0] & 0xfe) | 0x02);  /* unicast, local */
  return 0;
}

int
ids_mac_generate (const uint8_t *prefix, const uint8_t (*avoid)[6],
              size_t n_avoid, uint8_t mac[6])
{
  int i;

  if (prefix && (prefix[0] & 0x01))
    return error_set ("mac: prefix %02x:%02x:%02x is a multicast address",
                      prefix[0], prefix[1], prefix[2]);
  for (i = 0; i < MAC_TRIES; i++) {
    if (mac_random (prefix, mac) == -1)
      return -1;
    if (!mac_in (mac, avoid, n_avoid))
      return 0;
  }
  return error_set ("mac: no unused address found after %d tries",
                    MAC_TRIES);
}

void
ids_mac_format (const uint8_t mac[6], char out[18])
{
  size_t i;

  for (i = 0; i < 6; i++) {
    if (i > 0)
      *out++ = ':';
    out = put_hex (out, mac[i]);
  }
  *out = '\0';
}

int
ids_mac_parse (const char *s, uint8_t mac[6])
{
  uint8_t m[6];
  size_t i;

  if (strlen (s) != 17)
    return error_set ("mac: '%s': wrong length", s);
  if (s[2] != ':' && s[2] != '-')
    return error_set ("mac: '%s': separator must be ':' or '-'", s);
  for (i = 0; i < 6; i++) {
    const char *p = s + 3 * i;

    if (i > 0 && p[-1] != s[2])
      return error_set ("mac: '%s': mixed separators", s);
    if (hex_byte (p, &m[i]) == -1)
      return error_set ("mac: '%s': not a hex digit", s);
  }
  memcpy (mac, m, sizeof m);
  return 0;
}
