/* sign.h: the .cert member of an OVA — a signature over the manifest and
 * the signer's certificate, made and checked with libcrypto.
 *
 * The member is what VMware ovftool writes and the OVF spec describes:
 *
 *   SHA256(NAME.mf)= <hex of the signature of the manifest's bytes>
 *   -----BEGIN CERTIFICATE-----
 *   ...
 *   -----END CERTIFICATE-----
 *
 * (SHA1 for SHA-1 manifests).  Keys are RSA (PKCS#1 v1.5) or EC (ECDSA,
 * DER signature), PEM, unencrypted.  Verification checks the signature
 * against the public key of the first certificate; the certificate chain
 * is checked against a trust store only when the caller passes a CA file
 * (ova_cert_verify's ca_file): without one, "verified" means "signed by
 * whoever holds this certificate's key", not "signed by someone trusted".
 */
#ifndef FERRY_OVA_SIGN_H
#define FERRY_OVA_SIGN_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/common/hash.h"
#include "lib/common/strbuf.h"

/* Largest .cert member read (a certificate chain is a few KiB). */
#define OVA_MAX_CERT (256u << 10)
/* Room for a certificate's subject, one line (RFC 2253). */
#define OVA_SUBJECT_MAX 256

/* A private key and its certificate, loaded and checked to match. */
struct ova_signer;

/* Load the PEM private key at key_path and the PEM certificate at
 * cert_path.  Refused, with one line "sign: 'PATH': ...": a missing or
 * unreadable file, an encrypted key, a key that is not RSA or EC, a key
 * that does not belong to the certificate.  NULL + error. */
struct ova_signer *ova_signer_load (const char *key_path,
                                    const char *cert_path);
void ova_signer_free (struct ova_signer *s);          /* NULL-safe */

/* Append the .cert member's text for the `len` bytes of the manifest
 * called mf_name to `out`: the signature line (digest `kind`: HASH_SHA1 or
 * HASH_SHA256) and the certificate in PEM.  0, or -1 + error. */
int ova_sign_manifest (const struct ova_signer *s, enum hash_kind kind,
                       const char *mf_name, const void *mf, size_t len,
                       struct strbuf *out);

struct ova_sig_info {
  enum hash_kind kind;                  /* the signature's digest */
  char subject[OVA_SUBJECT_MAX];        /* the signer, printable */
  bool signature_ok;                    /* the signature verified (set
                                           even if the chain then fails) */
  bool chain_checked;                   /* verified against ca_file too */
};

/* Check the .cert text (`len` bytes, hostile) against the manifest bytes:
 * one signature line naming mf_name, then at least one PEM certificate
 * (more are taken as intermediates); the signature must verify with the
 * first certificate's public key.  With ca_file (PEM CA certificates) the
 * first certificate must also chain to one of them.  0 with *info filled,
 * or -1 + error ("signature ...", "malformed .cert: ...", no prefix: the
 * caller names the package). */
int ova_cert_verify (const char *cert, size_t len, const char *mf_name,
                     const void *mf, size_t mflen, const char *ca_file,
                     struct ova_sig_info *info);

#endif
