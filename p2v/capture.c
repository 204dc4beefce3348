/* capture.c: capture one source disk into an image (capture.h), and
 * convert it on the way (--convert) through a copy-on-write overlay. */
#include "lib/common/compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "p2v/capture.h"
#include "lib/common/error.h"
#include "lib/common/json.h"
#include "lib/common/outfile.h"
#include "lib/common/strbuf.h"
#include "lib/guest/inspect.h"
#include "lib/guest/overlay.h"
#include "lib/guest/session.h"

/* a ∪ b (each sorted, non-overlapping) into *out, merged. */
int
extents_union (const extent_vector *a, const extent_vector *b,
               extent_vector *out)
{
  size_t i = 0, j = 0;

  while (i < a->len || j < b->len) {
    const struct extent *e =
      j >= b->len || (i < a->len && a->ptr[i].offset <= b->ptr[j].offset)
      ? &a->ptr[i++] : &b->ptr[j++];
    struct extent *last = out->len ? &out->ptr[out->len - 1] : NULL;
    if (e->length == 0)
      continue;
    if (last && e->offset <= last->offset + last->length) {
      if (e->offset + e->length > last->offset + last->length)
        last->length = e->offset + e->length - last->offset;
      continue;
    }
    if (extent_vector_append (out, (struct extent) {
          e->offset, e->length, EXTENT_DATA }) == -1)
      return error_errno ("extents");
  }
  return 0;
}

static int
pick_linux_root (guestfs_h *g, const char *source, const char *want,
                 const guest_root_vector *roots)
{
  int i;

  if (roots->len == 0)
    return guest_explain_no_root (g, source);
  if ((i = guest_choose_root (roots, want)) == -1)
    return -1;
  if (strcmp (roots->ptr[i].type, "linux") != 0)
    return error_set ("'%s': %s (%s) is not Linux: only Linux guests can be "
                      "converted", source, roots->ptr[i].device,
                      roots->ptr[i].type);
  return i;
}

/* One appliance over the overlay: inspect, mount, convert, shut down. */
static int
convert_overlay (const char *source, const char *overlay,
                 const struct capture_opts *opts, struct capture_result *res)
{
  struct guest_disk disk = { overlay, "qcow2", false };
  struct guest_session *s = guest_session_open (&disk, 1);
  guest_root_vector roots = empty_vector;
  const struct guest_root *root;
  guestfs_h *g;
  int i, r = -1;

  if (s == NULL || guest_session_launch (s) == -1)
    goto out;
  g = guest_session_handle (s);
  snprintf (res->accel, sizeof res->accel, "%s", guest_session_accel (s));
  if (guest_inspect (g, &roots) == -1 ||
      (i = pick_linux_root (g, source, opts->root, &roots)) == -1)
    goto out;
  root = &roots.ptr[i];
  res->root = xasprintf ("%s (%s %d.%d)", root->device, root->distro,
                         root->major, root->minor);
  if (res->root == NULL || guest_mount_root (g, root, false) == -1 ||
      convert_linux (g, root, opts->convert, &res->convert) == -1)
    goto out;
  r = guest_session_shutdown (s);
out:
  guest_roots_free (&roots);
  guest_session_close (s);
  return r;
}

/* The overlay is backed by the source, which qemu opens read-only. */
static char *
backing_name (const char *source)
{
  char *real;

  if (strstr (source, "://"))
    return xstrdup (source);
  if ((real = realpath (source, NULL)) == NULL)
    error_errno ("'%s'", source);
  return real;
}

/* Convert in an overlay, then copy source + overlay into OUT in one pass:
 * the used blocks and everything the conversion wrote. */
static int
capture_converted (struct image *src, const char *source, const char *output,
                   const struct capture_opts *opts, struct copy_opts *copy,
                   struct capture_result *res)
{
  struct outfile ov = { 0 };
  struct image *img = NULL;
  extent_vector written = empty_vector, mask = empty_vector;
  char *base = backing_name (source);
  int r = -1;

  if (base == NULL || outfile_begin (&ov, output, opts->overwrite) == -1)
    goto out;
  img = image_create ("qcow2", ov.tmp, src->size, &(struct image_create_opts) {
      .backing = base, .backing_format = "raw" });
  r = img == NULL ? -1 : image_close (img);
  img = NULL;
  if (r == -1) {
    error_prefix ("overlay: ");
    goto out;
  }
  r = -1;
  if (convert_overlay (source, ov.tmp, opts, res) == -1 ||
      (img = image_open (ov.tmp, 0)) == NULL ||
      guest_overlay_written (img, &written) == -1)
    goto out;
  if (copy->mask) {
    if (extents_union (copy->mask, &written, &mask) == -1)
      goto out;
    copy->mask = &mask;
  }
  r = image_convert (img, opts->format, output, &opts->create, copy,
                     opts->overwrite, &res->stats);
out:
  image_close (img);
  outfile_abort (&ov);
  extent_vector_reset (&written);
  extent_vector_reset (&mask);
  copy->mask = NULL;
  free (base);
  return r;
}

int
capture_one (const char *source, const char *output,
             const struct capture_opts *opts, struct capture_result *res)
{
  struct copy_opts copy = {
    .label = source, .quiet = opts->quiet, .strict = opts->strict,
    .retries = opts->retries,
    .on_progress = opts->on_progress, .opaque = opts->opaque,
  };
  struct image *src;
  int r = -1;

  memset (res, 0, sizeof *res);
  if (opts->convert && convert_target_check (opts->convert) == -1)
    return error_prefix ("capture: ");
  /* A file stands in for a disk: never probe it as an image format. */
  src = image_open (source, IMAGE_OPEN_RAW);
  if (src == NULL)
    return error_prefix ("capture: ");
  res->source_size = src->size;
  if (!opts->all_blocks) {
    if (usedmap_build (src, opts->retries, &res->map) == -1) {
      error_prefix ("capture: '%s': ", source);
      goto out;
    }
    copy.mask = &res->map.keep;
  }
  if (opts->convert ? capture_converted (src, source, output, opts, &copy,
                                         res)
      : image_convert (src, opts->format, output, &opts->create, &copy,
                       opts->overwrite, &res->stats)) {
    error_prefix ("capture: ");
    goto out;
  }
  r = 0;
 out:
  image_close (src);
  if (r == -1)
    capture_result_free (res);
  return r;
}

void
capture_result_free (struct capture_result *res)
{
  usedmap_free (&res->map);
  extent_vector_reset (&res->stats.bad);
  convert_report_free (&res->convert);
  free (res->root);
  res->root = NULL;
}

static const char *
policy_name (enum part_policy p)
{
  return p == PART_EXT ? "used-blocks" : p == PART_SWAP ? "swap-header"
    : "non-zero";
}

static void
json_partitions (struct json *j, const struct usedmap *map)
{
  size_t i;

  json_key_string (j, "partition_table", map->table[0] ? map->table : NULL);
  json_key (j, "partitions");
  json_array_begin (j);
  for (i = 0; i < map->parts.len; i++) {
    const struct part_info *p = &map->parts.ptr[i];
    json_object_begin (j);
    json_key_int (j, "number", p->number);
    json_key_uint (j, "offset", p->offset);
    json_key_uint (j, "length", p->length);
    json_key_string (j, "filesystem", p->fstype[0] ? p->fstype : NULL);
    json_key_string (j, "policy", policy_name (p->policy));
    json_key_uint (j, "kept_bytes", p->used_bytes);
    json_object_end (j);
  }
  json_array_end (j);
}

static void
json_convert (struct json *j, const char *target,
              const struct capture_result *res)
{
  size_t i;

  json_key (j, "convert");
  json_object_begin (j);
  json_key_string (j, "target", target);
  json_key_string (j, "root", res->root);
  json_key_string (j, "kernel", res->convert.kernel);
  json_key_string (j, "initramfs_tool", res->convert.initrd_tool);
  json_key_string (j, "accelerator", res->accel);
  json_key (j, "changes");
  json_array_begin (j);
  for (i = 0; i < res->convert.changes.len; i++) {
    json_object_begin (j);
    json_key_string (j, "what", res->convert.changes.ptr[i].what);
    json_key_string (j, "path", res->convert.changes.ptr[i].path);
    json_key_string (j, "detail", res->convert.changes.ptr[i].detail);
    json_object_end (j);
  }
  json_array_end (j);
  json_object_end (j);
}

void
capture_result_json (struct json *j, const char *source, const char *output,
                     const char *format, const char *convert,
                     const struct capture_result *res)
{
  json_object_begin (j);
  json_key_string (j, "source", source);
  json_key_string (j, "output", output);
  json_key_string (j, "format", format);
  json_key_uint (j, "source_size", res->source_size);
  json_partitions (j, &res->map);
  copy_stats_json (j, &res->stats);
  if (convert)
    json_convert (j, convert, res);
  json_object_end (j);
}
