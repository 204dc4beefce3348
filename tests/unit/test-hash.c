/* test-hash.c: known vectors and streaming for SHA-1, SHA-256 and XXH64. */
#include <stdlib.h>
#include <string.h>

#include "tests/unit/unit.h"
#include "lib/common/error.h"
#include "lib/common/hash.h"

static void
check_oneshot (enum hash_kind kind, const char *in, const char *want,
               bool upper)
{
  char hex[HASH_HEX_MAX];

  assert_int_equal (hash_buffer_hex (kind, in, strlen (in), hex, upper), 0);
  assert_string_equal (hex, want);
}

static void
test_sha1_vectors (void **state)
{
  (void) state;
  check_oneshot (HASH_SHA1, "abc",
                 "a9993e364706816aba3e25717850c26c9cd0d89d", false);
  check_oneshot (HASH_SHA1, "", "da39a3ee5e6b4b0d3255bfef95601890afd80709",
                 false);
}

static void
test_sha256_vectors (void **state)
{
  (void) state;
  check_oneshot (HASH_SHA256, "abc",
                 "ba7816bf8f01cfea414140de5dae2223"
                 "b00361a396177a9cb410ff61f20015ad", false);
  check_oneshot (HASH_SHA256, "",
                 "e3b0c44298fc1c149afbf4c8996fb924"
                 "27ae41e4649b934ca495991b7852b855", false);
  check_oneshot (HASH_SHA256,
                 "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
                 "248d6a61d20638b8e5c026930c3e6039"
                 "a33ce45964ff2167f6ecedd419db06c1", false);
}

static void
test_xxh64_vectors (void **state)
{
  (void) state;
  check_oneshot (HASH_XXH64, "", "EF46DB3751D8E999", true);
  check_oneshot (HASH_XXH64, "", "ef46db3751d8e999", false);
  check_oneshot (HASH_XXH64, "abc", "44BC2CF5AD770999", true);
}

static void
test_upper_case (void **state)
{
  (void) state;
  check_oneshot (HASH_SHA1, "abc",
                 "A9993E364706816ABA3E25717850C26C9CD0D89D", true);
}

/* One million 'a's in uneven pieces equals the one-shot hash and the
 * published vectors (FIPS 180 for SHA, xxhsum for XXH64). */
static void
check_streaming (enum hash_kind kind, const char *want)
{
  const size_t total = 1000000;
  char *buf = malloc (total);
  char one[HASH_HEX_MAX], streamed[HASH_HEX_MAX];
  struct hash *h = hash_new (kind);
  size_t off = 0, piece = 1;

  assert_non_null (buf);
  assert_non_null (h);
  memset (buf, 'a', total);
  while (off < total) {
    size_t n = piece < total - off ? piece : total - off;

    assert_int_equal (hash_update (h, buf + off, n), 0);
    assert_int_equal (hash_update (h, buf + off, 0), 0);
    off += n;
    piece = piece * 3 + 1;        /* 1, 4, 13, 40, ... crosses every block */
  }
  assert_int_equal (hash_final_hex (h, streamed, false), 0);
  assert_int_equal (hash_buffer_hex (kind, buf, total, one, false), 0);
  assert_string_equal (streamed, one);
  assert_string_equal (streamed, want);
  hash_free (h);
  free (buf);
}

static void
test_streaming (void **state)
{
  (void) state;
  check_streaming (HASH_SHA1, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
  check_streaming (HASH_SHA256, "cdc76e5c9914fb9281a1c7e284d73e67"
                   "f1809a48a497200e046d39ccc7112cd0");
  check_streaming (HASH_XXH64, "dc483aaa9b4fdc40");
}

static void
test_byte_at_a_time (void **state)
{
  static const enum hash_kind kinds[] = { HASH_SHA1, HASH_SHA256, HASH_XXH64 };
  const char *msg = "the quick brown fox jumps over the lazy dog 0123456789";
  char one[HASH_HEX_MAX], streamed[HASH_HEX_MAX];
  size_t k, i;

  (void) state;
  for (k = 0; k < 3; k++) {
    struct hash *h = hash_new (kinds[k]);

    assert_non_null (h);
    for (i = 0; msg[i]; i++)
      assert_int_equal (hash_update (h, msg + i, 1), 0);
    assert_int_equal (hash_final_hex (h, streamed, true), 0);
    assert_int_equal (hash_buffer_hex (kinds[k], msg, strlen (msg), one,
                                       true), 0);
    assert_string_equal (streamed, one);
    hash_free (h);
  }
}

static void
test_after_final (void **state)
{
  char hex[HASH_HEX_MAX];
  struct hash *h = hash_new (HASH_SHA256);

  (void) state;
  assert_non_null (h);
  assert_int_equal (hash_final_hex (h, hex, false), 0);
  assert_int_equal (hash_update (h, "x", 1), -1);
  assert_non_null (strstr (error_get (), "SHA256"));
  assert_int_equal (hash_final_hex (h, hex, false), -1);
  hash_free (h);
}

static void
test_names_and_misuse (void **state)
{
  (void) state;
  assert_string_equal (hash_name (HASH_SHA1), "SHA1");
  assert_string_equal (hash_name (HASH_SHA256), "SHA256");
  assert_string_equal (hash_name (HASH_XXH64), "XXH64");
  assert_null (hash_new ((enum hash_kind) 99));
  assert_non_null (strstr (error_get (), "unknown"));
  hash_free (NULL);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_sha1_vectors),
    cmocka_unit_test (test_sha256_vectors),
    cmocka_unit_test (test_xxh64_vectors),
    cmocka_unit_test (test_upper_case),
    cmocka_unit_test (test_streaming),
    cmocka_unit_test (test_byte_at_a_time),
    cmocka_unit_test (test_after_final),
    cmocka_unit_test (test_names_and_misuse),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
