/* test-sign.c: the .cert signer and verifier (ova/sign.c), with keys and
 * self-signed certificates made by libcrypto in the scratch directory. */
#include "tests/unit/unit.h"

#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "lib/common/error.h"
#include "lib/common/strbuf.h"
#include "ova/sign.h"

static char dir[] = "/tmp/ferry-test-sign.XXXXXX";
static const char mf[] = "SHA256(vm.ovf)= 00\nSHA256(vm-disk1.vmdk)= 11\n";

static char *
path_of (const char *name)
{
  static char buf[8][256];
  static int k;

  k = (k + 1) % 8;
  snprintf (buf[k], sizeof buf[k], "%s/%s", dir, name);
  return buf[k];
}

/* Write a key (encrypted with a passphrase if `encrypt`) and a self-signed
 * certificate for it, subject CN=cn. */
static void
make_pair (EVP_PKEY *k, const char *cn, const char *key_name,
           const char *cert_name, int encrypt)
{
  X509 *c = X509_new ();
  X509_NAME *n;
  FILE *fp;

  assert_non_null (k);
  assert_non_null (c);
  X509_set_version (c, 2);
  ASN1_INTEGER_set (X509_get_serialNumber (c), 1);
  X509_gmtime_adj (X509_getm_notBefore (c), -60);
  X509_gmtime_adj (X509_getm_notAfter (c), 86400);
  X509_set_pubkey (c, k);
  n = X509_get_subject_name (c);
  X509_NAME_add_entry_by_txt (n, "CN", MBSTRING_ASC,
                              (const unsigned char *) cn, -1, -1, 0);
  X509_set_issuer_name (c, n);
  /* Ed25519 signs without a separate digest. */
  assert_true (X509_sign (c, k, EVP_PKEY_get_base_id (k) == EVP_PKEY_ED25519
                          ? NULL : EVP_sha256 ()) > 0);
  assert_non_null (fp = fopen (path_of (key_name), "w"));
  assert_int_equal (PEM_write_PrivateKey (fp, k, encrypt ? EVP_aes_256_cbc ()
                                          : NULL, NULL, 0, NULL,
                                          encrypt ? "secret" : NULL), 1);
  fclose (fp);
  assert_non_null (fp = fopen (path_of (cert_name), "w"));
  assert_int_equal (PEM_write_X509 (fp, c), 1);
  fclose (fp);
  X509_free (c);
}

static int
setup (void **state)
{
  EVP_PKEY *rsa = EVP_PKEY_Q_keygen (NULL, NULL, "RSA", (size_t) 2048);
  EVP_PKEY *ec = EVP_PKEY_Q_keygen (NULL, NULL, "EC", "P-256");
  EVP_PKEY *other = EVP_PKEY_Q_keygen (NULL, NULL, "EC", "P-256");
  EVP_PKEY *ed = EVP_PKEY_Q_keygen (NULL, NULL, "ED25519");

  (void) state;
  make_pair (rsa, "Ferry RSA", "rsa.key", "rsa.crt", 0);
  make_pair (ec, "Ferry EC", "ec.key", "ec.crt", 0);
  make_pair (other, "Other", "other.key", "other.crt", 0);
  make_pair (rsa, "Ferry RSA", "enc.key", "enc.crt", 1);
  make_pair (ed, "Ed", "ed.key", "ed.crt", 0);
  EVP_PKEY_free (rsa);
  EVP_PKEY_free (ec);
  EVP_PKEY_free (other);
  EVP_PKEY_free (ed);
  return 0;
}

/* Sign mf with key/cert; the .cert text goes into *out. */
static void
sign (const char *key, const char *cert, enum hash_kind kind,
      struct strbuf *out)
{
  struct ova_signer *s = ova_signer_load (path_of (key), path_of (cert));

  assert_non_null (s);
  assert_int_equal (ova_sign_manifest (s, kind, "vm.mf", mf, strlen (mf),
                                       out), 0);
  ova_signer_free (s);
}

static void
test_rsa_round_trip (void **state)
{
  struct strbuf c = STRBUF_INIT;
  struct ova_sig_info si;

  (void) state;
  sign ("rsa.key", "rsa.crt", HASH_SHA256, &c);
  assert_true (str_has_prefix (c.buf, "SHA256(vm.mf)= "));
  assert_non_null (strstr (c.buf, "\n-----BEGIN CERTIFICATE-----\n"));
  /* RSA 2048: 256 signature bytes, 512 hex digits. */
  assert_int_equal (strchr (c.buf, '\n') - c.buf, 15 + 512);
  assert_int_equal (ova_cert_verify (c.buf, c.len, "vm.mf", mf, strlen (mf),
                                     NULL, &si), 0);
  assert_int_equal (si.kind, HASH_SHA256);
  assert_string_equal (si.subject, "CN=Ferry RSA");
  assert_false (si.chain_checked);
  strbuf_release (&c);
}

static void
test_ec_sha1 (void **state)
{
  struct strbuf c = STRBUF_INIT;
  struct ova_sig_info si;

  (void) state;
  sign ("ec.key", "ec.crt", HASH_SHA1, &c);
  assert_true (str_has_prefix (c.buf, "SHA1(vm.mf)= "));
  assert_int_equal (ova_cert_verify (c.buf, c.len, "vm.mf", mf, strlen (mf),
                                     NULL, &si), 0);
  assert_int_equal (si.kind, HASH_SHA1);
  assert_string_equal (si.subject, "CN=Ferry EC");
  strbuf_release (&c);
}

static void
test_tampered (void **state)
{
  struct strbuf c = STRBUF_INIT;
  struct ova_sig_info si;
  char *bad = strdup (mf);
  char *nl;

  (void) state;
  sign ("rsa.key", "rsa.crt", HASH_SHA256, &c);
  bad[16] = '1';                        /* the manifest changed */
  assert_int_equal (ova_cert_verify (c.buf, c.len, "vm.mf", bad, strlen (bad),
                                     NULL, &si), -1);
  assert_non_null (strstr (error_get (), "signature mismatch"));
  /* Signed for another manifest name. */
  assert_int_equal (ova_cert_verify (c.buf, c.len, "other.mf", mf,
                                     strlen (mf), NULL, &si), -1);
  assert_non_null (strstr (error_get (), "not over 'other.mf'"));
  /* A flipped signature digit. */
  nl = strchr (c.buf, '\n');
  nl[-1] = nl[-1] == '0' ? '1' : '0';
  assert_int_equal (ova_cert_verify (c.buf, c.len, "vm.mf", mf, strlen (mf),
                                     NULL, &si), -1);
  assert_non_null (strstr (error_get (), "signature mismatch"));
  free (bad);
  strbuf_release (&c);
}

static void
expect_malformed (const char *text, size_t len, const char *why)
{
  struct ova_sig_info si;

  assert_int_equal (ova_cert_verify (text, len, "vm.mf", mf, strlen (mf),
                                     NULL, &si), -1);
  assert_non_null (strstr (error_get (), why));
}

static void
test_malformed (void **state)
{
  struct strbuf c = STRBUF_INIT;
  char *nul;

  (void) state;
  expect_malformed ("", 0, "no certificate");
  expect_malformed ("SHA256(vm.mf)= 00ff", 19, "no certificate");
  expect_malformed ("MD5(vm.mf)= 00ff\nx", 18, "unknown signature digest");
  expect_malformed ("SHA256(vm.mf)= 0g\nx", 19, "not hex");
  expect_malformed ("SHA256(vm.mf)= 0ff\nx", 20, "bad signature length");
  expect_malformed ("SHA256(vm.mf) 00\nx", 18, "no '='");
  expect_malformed ("SHA256(vm.mf)= 00ff\nnot a certificate\n", 38,
                    "no valid PEM certificate");
  sign ("rsa.key", "rsa.crt", HASH_SHA256, &c);
  expect_malformed (c.buf, c.len - 200, "no valid PEM certificate");
  expect_malformed (c.buf, OVA_MAX_CERT + 1, "too large");
  nul = strstr (c.buf, "BEGIN");
  *nul = '\0';
  expect_malformed (c.buf, c.len, "binary");
  strbuf_release (&c);
}

static void
test_ca (void **state)
{
  struct strbuf c = STRBUF_INIT;
  struct ova_sig_info si;

  (void) state;
  sign ("rsa.key", "rsa.crt", HASH_SHA256, &c);
  assert_int_equal (ova_cert_verify (c.buf, c.len, "vm.mf", mf, strlen (mf),
                                     path_of ("rsa.crt"), &si), 0);
  assert_true (si.chain_checked);
  assert_int_equal (ova_cert_verify (c.buf, c.len, "vm.mf", mf, strlen (mf),
                                     path_of ("other.crt"), &si), -1);
  assert_non_null (strstr (error_get (), "does not chain to"));
  assert_int_equal (ova_cert_verify (c.buf, c.len, "vm.mf", mf, strlen (mf),
                                     path_of ("absent.crt"), &si), -1);
  assert_non_null (strstr (error_get (), "cannot load CA file"));
  strbuf_release (&c);
}

static void
test_load_refused (void **state)
{
  (void) state;
  assert_null (ova_signer_load (path_of ("other.key"), path_of ("rsa.crt")));
  assert_non_null (strstr (error_get (), "does not belong"));
  assert_null (ova_signer_load (path_of ("enc.key"), path_of ("enc.crt")));
  assert_non_null (strstr (error_get (), "encrypted"));
  assert_null (ova_signer_load (path_of ("absent.key"), path_of ("rsa.crt")));
  assert_non_null (strstr (error_get (), "absent.key"));
  assert_null (ova_signer_load (path_of ("rsa.key"), path_of ("absent.crt")));
  assert_non_null (strstr (error_get (), "absent.crt"));
  assert_null (ova_signer_load (path_of ("rsa.crt"), path_of ("rsa.crt")));
  assert_non_null (strstr (error_get (), "not a PEM private key"));
  assert_null (ova_signer_load (path_of ("rsa.key"), path_of ("rsa.key")));
  assert_non_null (strstr (error_get (), "not a PEM certificate"));
  assert_null (ova_signer_load (path_of ("ed.key"), path_of ("ed.crt")));
  assert_non_null (strstr (error_get (), "only RSA and EC"));
  ova_signer_free (NULL);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup (test_rsa_round_trip, setup),
    cmocka_unit_test (test_ec_sha1),
    cmocka_unit_test (test_tampered),
    cmocka_unit_test (test_malformed),
    cmocka_unit_test (test_ca),
    cmocka_unit_test (test_load_refused),
  };

  return UNIT_RUN_IN_TMPDIR (tests, dir);
}
