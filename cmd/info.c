/* info.c: `ferry info` — an image's format, sizes and allocation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd/cmd.h"
#include "common/error.h"
#include "common/json.h"
#include "common/progress.h"
#include "common/strbuf.h"
#include "image/image.h"

static const char usage_text[] =
  "usage: ferry info IMAGE [--json]\n\n"
  "Show the format, virtual size, file size and allocated bytes of IMAGE\n"
  "(raw, vhd, vmdk, qcow2, or an nbd:// URI), plus format details.\n\n"
  "  --json   print one JSON object\n";

struct alloc {
  uint64_t data, zero, hole;
};

static int
count_allocation (struct image *img, struct alloc *a)
{
  const uint64_t window = 1ull << 32;
  uint64_t off;

  memset (a, 0, sizeof *a);
  for (off = 0; off < img->size; off += window) {
    extent_vector v = empty_vector;
    uint64_t len = img->size - off < window ? img->size - off : window;
    size_t i;

    if (image_extents (img, off, len, &v) == -1) {
      extent_vector_reset (&v);
      return -1;
    }
    for (i = 0; i < v.len; i++)
      *(v.ptr[i].type == EXTENT_DATA ? &a->data
        : v.ptr[i].type == EXTENT_ZERO ? &a->zero : &a->hole) += v.ptr[i].length;
    extent_vector_reset (&v);
  }
  return 0;
}

static bool
all_digits (const char *s)
{
  if (*s == '\0')
    return false;
  for (; *s; s++)
    if (*s < '0' || *s > '9')
      return false;
  return true;
}

/* Walk the driver's "key\tvalue\n" lines. */
static void
each_detail (char *details, void (*fn) (void *, const char *, const char *),
             void *opaque)
{
  char *save = NULL, *line;

  for (line = strtok_r (details, "\n", &save); line;
       line = strtok_r (NULL, "\n", &save)) {
    char *tab = strchr (line, '\t');
    if (tab) {
      *tab = '\0';
      fn (opaque, line, tab + 1);
    }
  }
}

static void
print_detail_json (void *opaque, const char *k, const char *v)
{
  if (all_digits (v) && strlen (v) < 20)
    json_key_uint (opaque, k, strtoull (v, NULL, 10));
  else
    json_key_string (opaque, k, v);
}

static void
print_detail_text (void *opaque, const char *k, const char *v)
{
  (void) opaque;
  printf ("%-16s %s\n", k, v);
}

static uint64_t
file_size (const char *path)
{
  struct stat st;

  return stat (path, &st) == 0 && S_ISREG (st.st_mode)
    ? (uint64_t) st.st_blocks * 512 : 0;
}

static int
print_json (struct image *img, const struct alloc *a, char *details)
{
  struct json j;

  json_init (&j, stdout);
  json_object_begin (&j);
  json_key_string (&j, "path", img->path);
  json_key_string (&j, "format", image_format (img));
  json_key_uint (&j, "virtual_size", img->size);
  json_key_uint (&j, "disk_usage", file_size (img->path));
  json_key_uint (&j, "data_bytes", a->data);
  json_key_uint (&j, "zero_bytes", a->zero);
  json_key_uint (&j, "unallocated_bytes", a->hole);
  json_key_string (&j, "backing", img->backing ? img->backing->path : NULL);
  each_detail (details, print_detail_json, &j);
  json_object_end (&j);
  return json_finish (&j);
}

static void
print_text (struct image *img, const struct alloc *a, char *details)
{
  char h[32];

  printf ("%-16s %s\n", "image", img->path);
  printf ("%-16s %s\n", "format", image_format (img));
  format_bytes (h, sizeof h, img->size);
  printf ("%-16s %s (%llu bytes)\n", "virtual size", h,
          (unsigned long long) img->size);
  format_bytes (h, sizeof h, file_size (img->path));
  printf ("%-16s %s\n", "disk usage", h);
  format_bytes (h, sizeof h, a->data);
  printf ("%-16s %s (%llu bytes)\n", "data", h, (unsigned long long) a->data);
  if (img->backing)
    printf ("%-16s %s\n", "backing file", img->backing->path);
  each_detail (details, print_detail_text, NULL);
}

int
cmd_info (int argc, char **argv)
{
  struct strbuf details = STRBUF_INIT;
  struct image *img;
  struct alloc a;
  bool json;
  int r;

  r = cmd_open_one_image ("info", usage_text, argc, argv, &img, &json);
  if (r != -1)
    return r;
  r = EXIT_OK;
  if (count_allocation (img, &a) == -1 ||
      (img->ops->info && img->ops->info (img, &details) == -1) ||
      strbuf_adds (&details, "") == -1)
    r = cmd_fail ();
  else if (json)
    r = print_json (img, &a, details.buf) == -1 ? cmd_fail () : EXIT_OK;
  else
    print_text (img, &a, details.buf);
  strbuf_release (&details);
  image_close (img);
  return r;
}
