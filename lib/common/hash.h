/* hash.h: streaming hashes through real libraries — SHA-1 and SHA-256 from
 * OpenSSL libcrypto (EVP), XXH64 from libxxhash.  No hand-written hashes.
 *
 *   struct hash *h = hash_new (HASH_SHA256);
 *   hash_update (h, buf, len); ...
 *   char hex[HASH_HEX_MAX]; hash_final_hex (h, hex, false);  hash_free (h);
 */
#ifndef FERRY_HASH_H
#define FERRY_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum hash_kind { HASH_SHA1, HASH_SHA256, HASH_XXH64 };

#define HASH_HEX_MAX 65       /* 64 hex digits + NUL (SHA-256) */

struct hash;

struct hash *hash_new (enum hash_kind kind);    /* NULL + error */
int hash_update (struct hash *h, const void *buf, size_t len);
/* Lower-case hex unless `upper` (XVA's .xxhash files are upper-case);
 * XXH64 is printed as 16 hex digits of the canonical big-endian value.
 * After final the object may only be freed. */
int hash_final_hex (struct hash *h, char out[HASH_HEX_MAX], bool upper);
void hash_free (struct hash *h);                /* NULL ok */
const char *hash_name (enum hash_kind kind);     /* "SHA1", "SHA256", "XXH64" */
/* One-shot convenience. */
int hash_buffer_hex (enum hash_kind kind, const void *buf, size_t len,
                     char out[HASH_HEX_MAX], bool upper);

#endif
