/* json.h: a small streaming JSON writer for `--json` output.
 *
 *   struct json j; json_init (&j, stdout);
 *   json_object_begin (&j);
 *   json_key_string (&j, "format", "vhd");
 *   json_key_uint (&j, "size", 1048576);
 *   json_key (&j, "extents"); json_array_begin (&j); ... json_array_end (&j);
 *   json_object_end (&j);  json_finish (&j);   // newline + fflush
 *
 * Commas and string escaping (quotes, backslash, control characters as
 * \u00XX; invalid UTF-8 bytes replaced by U+FFFD) are handled here.
 * Output is compact, one document per line.  Errors writing the stream are
 * reported by json_finish (returns -1 with the error set).  So is misuse:
 * nesting deeper than JSON_MAX_DEPTH (the too-deep value is written as null
 * and everything inside it ignored), unbalanced begin/end.
 */
#ifndef FERRY_JSON_H
#define FERRY_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 32

struct json {
  FILE *fp;
  int depth;
  bool need_comma[JSON_MAX_DEPTH];
  bool after_key;
  int skip;               /* levels opened beyond JSON_MAX_DEPTH: ignored */
  const char *misuse;     /* first misuse seen; json_finish reports it */
};

void json_init (struct json *j, FILE *fp);
void json_object_begin (struct json *j);
void json_object_end (struct json *j);
void json_array_begin (struct json *j);
void json_array_end (struct json *j);
void json_key (struct json *j, const char *key);
void json_string (struct json *j, const char *s);   /* NULL -> null */
void json_uint (struct json *j, uint64_t v);
void json_int (struct json *j, int64_t v);
void json_double (struct json *j, double v);
void json_bool (struct json *j, bool v);
void json_null (struct json *j);
void json_key_string (struct json *j, const char *key, const char *s);
void json_key_uint (struct json *j, const char *key, uint64_t v);
void json_key_int (struct json *j, const char *key, int64_t v);
void json_key_bool (struct json *j, const char *key, bool v);
int json_finish (struct json *j);

#endif
