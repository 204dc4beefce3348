/* sign.c: make and check an OVA's .cert signature with libcrypto (sign.h). */
#include "lib/common/compat.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "lib/common/cleanup.h"
#include "lib/common/error.h"
#include "ova/sign.h"

/* Largest key or certificate file read (PEM files are a few KiB). */
#define PEM_MAX (1u << 20)
/* Largest signature (RSA 16384 bits is 2 KiB; ECDSA P-521 under 140 B). */
#define SIG_MAX 4096

struct ova_signer {
  EVP_PKEY *key;
  X509 *cert;
};

/* libcrypto's first queued complaint as text (queue cleared). */
static const char *
ssl_why (void)
{
  static _Thread_local char buf[160];
  unsigned long e = ERR_get_error ();

  ERR_clear_error ();
  if (e == 0)
    return "not valid PEM";
  ERR_error_string_n (e, buf, sizeof buf);
  return buf;
}

static const EVP_MD *
md_of (enum hash_kind kind)
{
  return kind == HASH_SHA1 ? EVP_sha1 () : EVP_sha256 ();
}

/* ---- loading ----------------------------------------------------------- */

static int
read_pem (const char *path, struct strbuf *sb)
{
  CLEANUP_FCLOSE FILE *fp = fopen (path, "re");
  char buf[8192];
  size_t n;

  if (fp == NULL)
    return error_errno ("sign: '%s'", path);
  while ((n = fread (buf, 1, sizeof buf, fp)) > 0) {
    if (sb->len + n > PEM_MAX)
      return error_set ("sign: '%s': larger than %u bytes", path, PEM_MAX);
    if (strbuf_add (sb, buf, n) == -1)
      return -1;
  }
  if (ferror (fp))
    return error_errno ("sign: '%s': read", path);
  return 0;
}

/* Refuse to prompt: an encrypted key is an error, not a question. */
static int
no_password (char *buf, int size, int rw, void *u)
{
  (void) buf;
  (void) size;
  (void) rw;
  (void) u;
  return -1;
}

static EVP_PKEY *
load_key (const char *path)
{
  struct strbuf sb = STRBUF_INIT;
  EVP_PKEY *k = NULL;
  BIO *b;

  if (read_pem (path, &sb) == -1)
    goto out;
  if (sb.buf && strstr (sb.buf, "ENCRYPTED")) {
    error_set ("sign: '%s': the private key is encrypted (decrypt it "
               "first: openssl pkey -in KEY -out PLAIN)", path);
    goto out;
  }
  if ((b = BIO_new_mem_buf (sb.buf ? sb.buf : "", (int) sb.len)) != NULL) {
    k = PEM_read_bio_PrivateKey (b, NULL, no_password, NULL);
    BIO_free (b);
  }
  if (k == NULL)
    error_set ("sign: '%s': not a PEM private key: %s", path, ssl_why ());
  else if (EVP_PKEY_get_base_id (k) != EVP_PKEY_RSA &&
           EVP_PKEY_get_base_id (k) != EVP_PKEY_EC) {
    error_set ("sign: '%s': only RSA and EC keys can sign", path);
    EVP_PKEY_free (k);
    k = NULL;
  }
 out:
  strbuf_release (&sb);
  return k;
}

static X509 *
load_cert (const char *path)
{
  struct strbuf sb = STRBUF_INIT;
  X509 *c = NULL;
  BIO *b;

  if (read_pem (path, &sb) == 0 &&
      (b = BIO_new_mem_buf (sb.buf ? sb.buf : "", (int) sb.len)) != NULL) {
    c = PEM_read_bio_X509 (b, NULL, no_password, NULL);
    BIO_free (b);
    if (c == NULL)
      error_set ("sign: '%s': not a PEM certificate: %s", path, ssl_why ());
  }
  strbuf_release (&sb);
  return c;
}

struct ova_signer *
ova_signer_load (const char *key_path, const char *cert_path)
{
  struct ova_signer *s = calloc (1, sizeof *s);

  if (s == NULL) {
    error_errno ("sign: calloc");
    return NULL;
  }
  if ((s->key = load_key (key_path)) == NULL ||
      (s->cert = load_cert (cert_path)) == NULL)
    goto fail;
  if (X509_check_private_key (s->cert, s->key) != 1) {
    ERR_clear_error ();
    error_set ("sign: '%s': the key does not belong to the certificate "
               "'%s'", key_path, cert_path);
    goto fail;
  }
  return s;
 fail:
  ova_signer_free (s);
  return NULL;
}

void
ova_signer_free (struct ova_signer *s)
{
  if (s == NULL)
    return;
  EVP_PKEY_free (s->key);
  X509_free (s->cert);
  free (s);
}

/* ---- signing ----------------------------------------------------------- */

static int
add_hex (struct strbuf *out, const unsigned char *p, size_t n)
{
  size_t i;

  for (i = 0; i < n; i++)
    if (strbuf_addf (out, "%02x", p[i]) == -1)
      return -1;
  return 0;
}

static int
add_cert_pem (struct strbuf *out, X509 *cert)
{
  BIO *b = BIO_new (BIO_s_mem ());
  char *p;
  long n;
  int r = -1;

  if (b && PEM_write_bio_X509 (b, cert) == 1 &&
      (n = BIO_get_mem_data (b, &p)) > 0)
    r = strbuf_add (out, p, (size_t) n);
  else
    error_set ("sign: cannot write the certificate: %s", ssl_why ());
  BIO_free (b);
  return r;
}

int
ova_sign_manifest (const struct ova_signer *s, enum hash_kind kind,
                   const char *mf_name, const void *mf, size_t len,
                   struct strbuf *out)
{
  EVP_MD_CTX *ctx = EVP_MD_CTX_new ();
  unsigned char sig[SIG_MAX];
  size_t n = sizeof sig;
  int r = -1;

  if (ctx == NULL ||
      EVP_DigestSignInit (ctx, NULL, md_of (kind), NULL, s->key) != 1 ||
      EVP_DigestSign (ctx, NULL, &n, mf, len) != 1 || n > sizeof sig ||
      EVP_DigestSign (ctx, sig, &n, mf, len) != 1)
    error_set ("sign: signing the manifest: %s", ssl_why ());
  else if (strbuf_addf (out, "%s(%s)= ", hash_name (kind), mf_name) == 0 &&
           add_hex (out, sig, n) == 0 && strbuf_adds (out, "\n") == 0)
    r = add_cert_pem (out, s->cert);
  EVP_MD_CTX_free (ctx);
  return r;
}

/* ---- verifying --------------------------------------------------------- */

static int
hexval (char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  c = (char) (c | 0x20);
  return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* "KIND(NAME)= HEX" in line[0..n): kind, and the signature bytes. */
static int
parse_sig_line (const char *line, size_t n, const char *mf_name,
                enum hash_kind *kind, unsigned char *sig, size_t *siglen)
{
  const char *open = memchr (line, '(', n), *end = line + n, *p;
  size_t namelen = strlen (mf_name), i;

  if (open == NULL)
    return error_set ("malformed .cert: no signature line");
  if (open - line == 4 && strncasecmp (line, "SHA1", 4) == 0)
    *kind = HASH_SHA1;
  else if (open - line == 6 && strncasecmp (line, "SHA256", 6) == 0)
    *kind = HASH_SHA256;
  else
    return error_set ("malformed .cert: unknown signature digest");
  p = open + 1;
  if ((size_t) (end - p) < namelen + 2 || memcmp (p, mf_name, namelen) ||
      p[namelen] != ')')
    return error_set ("malformed .cert: the signature is not over '%s'",
                      mf_name);
  for (p += namelen + 1; p < end && *p == ' '; p++) ;
  if (p == end || *p++ != '=')
    return error_set ("malformed .cert: no '=' in the signature line");
  for (; p < end && *p == ' '; p++) ;
  if ((end - p) % 2 || end == p || (size_t) (end - p) / 2 > SIG_MAX)
    return error_set ("malformed .cert: bad signature length");
  for (i = 0; p < end; p += 2, i++) {
    int hi = hexval (p[0]), lo = hexval (p[1]);
    if (hi < 0 || lo < 0)
      return error_set ("malformed .cert: the signature is not hex");
    sig[i] = (unsigned char) (hi << 4 | lo);
  }
  *siglen = i;
  return 0;
}

static void
subject_of (X509 *c, char *out, size_t len)
{
  BIO *b = BIO_new (BIO_s_mem ());
  char *p = NULL;
  long n = 0;
  size_t i;

  out[0] = '\0';
  if (b && X509_NAME_print_ex (b, X509_get_subject_name (c), 0,
                               XN_FLAG_RFC2253) >= 0)
    n = BIO_get_mem_data (b, &p);
  if (n > 0)
    snprintf (out, len, "%.*s", (int) n, p);
  for (i = 0; out[i]; i++)
    if ((unsigned char) out[i] < 0x20 || out[i] == 0x7f)
      out[i] = '?';
  BIO_free (b);
}

/* The first certificate chains to a CA of ca_file (others: untrusted). */
static int
check_chain (X509 *leaf, STACK_OF (X509) *rest, const char *ca_file)
{
  X509_STORE *store = X509_STORE_new ();
  X509_STORE_CTX *ctx = X509_STORE_CTX_new ();
  int r = -1;

  if (store == NULL || ctx == NULL)
    error_set ("signature: out of memory");
  else if (X509_STORE_load_file (store, ca_file) != 1)
    error_set ("signature: cannot load CA file '%s': %s", ca_file,
               ssl_why ());
  else if (X509_STORE_CTX_init (ctx, store, leaf, rest) != 1 ||
           X509_verify_cert (ctx) != 1)
    error_set ("signature: the certificate does not chain to '%s': %s",
               ca_file, X509_verify_cert_error_string
               (X509_STORE_CTX_get_error (ctx)));
  else
    r = 0;
  ERR_clear_error ();
  X509_STORE_CTX_free (ctx);
  X509_STORE_free (store);
  return r;
}

static int
verify_sig (X509 *c, enum hash_kind kind, const unsigned char *sig,
            size_t siglen, const void *mf, size_t mflen)
{
  EVP_PKEY *pub = X509_get0_pubkey (c);
  EVP_MD_CTX *ctx = EVP_MD_CTX_new ();
  int ok = ctx && pub &&
    EVP_DigestVerifyInit (ctx, NULL, md_of (kind), NULL, pub) == 1 &&
    EVP_DigestVerify (ctx, sig, siglen, mf, mflen) == 1;

  EVP_MD_CTX_free (ctx);
  ERR_clear_error ();
  return ok ? 0 : error_set ("signature mismatch: the manifest's signature "
                             "does not verify with the certificate");
}

/* Every certificate after the first, for chain building. */
static STACK_OF (X509) *
read_rest (BIO *b)
{
  STACK_OF (X509) *st = sk_X509_new_null ();
  X509 *c;

  while (st && sk_X509_num (st) < 16 &&
         (c = PEM_read_bio_X509 (b, NULL, no_password, NULL)) != NULL)
    if (sk_X509_push (st, c) == 0)
      X509_free (c);
  ERR_clear_error ();
  return st;
}

int
ova_cert_verify (const char *cert, size_t len, const char *mf_name,
                 const void *mf, size_t mflen, const char *ca_file,
                 struct ova_sig_info *info)
{
  const char *nl = memchr (cert, '\n', len);
  CLEANUP_FREE unsigned char *sig = malloc (SIG_MAX);
  STACK_OF (X509) *rest = NULL;
  size_t siglen = 0, linelen;
  X509 *leaf = NULL;
  BIO *b = NULL;
  int r = -1;

  memset (info, 0, sizeof *info);
  if (sig == NULL)
    return error_errno ("signature: malloc");
  if (len > OVA_MAX_CERT || memchr (cert, '\0', len))
    return error_set ("malformed .cert: too large or binary");
  if (nl == NULL)
    return error_set ("malformed .cert: no certificate after the "
                      "signature line");
  linelen = (size_t) (nl - cert) - (nl > cert && nl[-1] == '\r');
  if (parse_sig_line (cert, linelen, mf_name, &info->kind, sig,
                      &siglen) == -1)
    return -1;
  b = BIO_new_mem_buf (nl + 1, (int) (len - (size_t) (nl + 1 - cert)));
  if (b == NULL || (leaf = PEM_read_bio_X509 (b, NULL, no_password,
                                              NULL)) == NULL) {
    error_set ("malformed .cert: no valid PEM certificate: %s", ssl_why ());
    goto out;
  }
  subject_of (leaf, info->subject, sizeof info->subject);
  if (verify_sig (leaf, info->kind, sig, siglen, mf, mflen) == -1)
    goto out;
  info->signature_ok = true;
  if (ca_file) {
    if ((rest = read_rest (b)) == NULL ||
        check_chain (leaf, rest, ca_file) == -1)
      goto out;
    info->chain_checked = true;
  }
  r = 0;
 out:
  sk_X509_pop_free (rest, X509_free);
  X509_free (leaf);
  BIO_free (b);
  return r;
}
