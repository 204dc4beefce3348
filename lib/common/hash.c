/* hash.c: SHA-1/SHA-256 via OpenSSL EVP, XXH64 via libxxhash (hash.h). */
#include "lib/common/compat.h"

#include <stdlib.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <xxhash.h>

#include "lib/common/error.h"
#include "lib/common/hash.h"

struct hash {
  enum hash_kind kind;
  EVP_MD_CTX *md;             /* SHA-1, SHA-256 */
  XXH64_state_t *xxh;         /* XXH64 */
  bool finished;
};

const char *
hash_name (enum hash_kind kind)
{
  switch (kind) {
  case HASH_SHA1: return "SHA1";
  case HASH_SHA256: return "SHA256";
  case HASH_XXH64: return "XXH64";
  }
  return "unknown";
}

/* Record an OpenSSL failure with its own reason when it has one. */
static int
ssl_error (const struct hash *h, const char *what)
{
  unsigned long e = ERR_get_error ();
  char reason[256];

  ERR_clear_error ();
  if (e == 0)
    return error_set ("hash: %s: %s failed", hash_name (h->kind), what);
  ERR_error_string_n (e, reason, sizeof reason);
  return error_set ("hash: %s: %s: %s", hash_name (h->kind), what, reason);
}

static int
hash_init_md (struct hash *h)
{
  const EVP_MD *type = h->kind == HASH_SHA1 ? EVP_sha1 () : EVP_sha256 ();

  h->md = EVP_MD_CTX_new ();
  if (h->md == NULL)
    return ssl_error (h, "EVP_MD_CTX_new");
  if (EVP_DigestInit_ex (h->md, type, NULL) != 1)
    return ssl_error (h, "EVP_DigestInit_ex");
  return 0;
}

static int
hash_init_xxh (struct hash *h)
{
  h->xxh = XXH64_createState ();
  if (h->xxh == NULL)
    return error_set ("hash: XXH64: out of memory");
  if (XXH64_reset (h->xxh, 0) != XXH_OK)
    return error_set ("hash: XXH64: reset failed");
  return 0;
}

struct hash *
hash_new (enum hash_kind kind)
{
  struct hash *h;
  int r;

  if (kind != HASH_SHA1 && kind != HASH_SHA256 && kind != HASH_XXH64) {
    error_set ("hash: unknown hash kind %d", (int) kind);
    return NULL;
  }
  h = calloc (1, sizeof *h);
  if (h == NULL) {
    error_errno ("hash: calloc");
    return NULL;
  }
  h->kind = kind;
  r = kind == HASH_XXH64 ? hash_init_xxh (h) : hash_init_md (h);
  if (r == -1) {
    hash_free (h);
    return NULL;
  }
  return h;
}

int
hash_update (struct hash *h, const void *buf, size_t len)
{
  if (h->finished)
    return error_set ("hash: %s: update after final", hash_name (h->kind));
  if (len == 0)
    return 0;
  if (h->kind == HASH_XXH64) {
    if (XXH64_update (h->xxh, buf, len) != XXH_OK)
      return error_set ("hash: XXH64: update failed");
    return 0;
  }
  if (EVP_DigestUpdate (h->md, buf, len) != 1)
    return ssl_error (h, "EVP_DigestUpdate");
  return 0;
}

static void
to_hex (const unsigned char *d, size_t n, bool upper, char *out)
{
  const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  size_t i;

  for (i = 0; i < n; i++) {
    *out++ = digits[d[i] >> 4];
    *out++ = digits[d[i] & 15];
  }
  *out = '\0';
}

int
hash_final_hex (struct hash *h, char out[HASH_HEX_MAX], bool upper)
{
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  XXH64_canonical_t canon;

  if (h->finished)
    return error_set ("hash: %s: final called twice", hash_name (h->kind));
  h->finished = true;
  if (h->kind == HASH_XXH64) {
    XXH64_canonicalFromHash (&canon, XXH64_digest (h->xxh));
    to_hex (canon.digest, sizeof canon.digest, upper, out);
    return 0;
  }
  if (EVP_DigestFinal_ex (h->md, md, &n) != 1)
    return ssl_error (h, "EVP_DigestFinal_ex");
  to_hex (md, n, upper, out);
  return 0;
}

void
hash_free (struct hash *h)
{
  if (h == NULL)
    return;
  EVP_MD_CTX_free (h->md);
  if (h->xxh)
    XXH64_freeState (h->xxh);
  free (h);
}

int
hash_buffer_hex (enum hash_kind kind, const void *buf, size_t len,
                 char out[HASH_HEX_MAX], bool upper)
{
  struct hash *h = hash_new (kind);
  int r;

  if (h == NULL)
    return -1;
  r = hash_update (h, buf, len);
  if (r == 0)
    r = hash_final_hex (h, out, upper);
  hash_free (h);
  return r;
}
