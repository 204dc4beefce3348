/* capture.c: capture one source disk into an image (capture.h), and
 * convert it on the way (--convert) through the conversion pipeline. */
#include "lib/common/compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "p2v/capture.h"
#include "lib/common/error.h"
#include "lib/common/json.h"
#include "lib/disk/parttable.h"
#include "lib/guest/pipeline.h"

/* The pipeline's options for --convert: the source is a disk (raw, never
 * probed); `copy` carries the used-block mask once it is built. */
static void
convert_opts (const char *output, const struct capture_opts *opts,
              const struct copy_opts *copy, struct guest_pipeline_opts *po)
{
  *po = (struct guest_pipeline_opts) {
    .target = opts->convert, .raw = true, .root = opts->root,
    .drivers = opts->drivers, .output = output,
    .output_format = opts->format, .create = &opts->create,
    .overwrite = opts->overwrite, .copy = copy,
  };
}

/* Convert through the one pipeline (lib/guest/pipeline.h): its overlay
 * takes the writes, then source + overlay are copied into OUT in one
 * pass, the used blocks plus every cluster the conversion wrote. */
static int
capture_converted (const char *source, const struct guest_pipeline_opts *po,
                   struct capture_result *res)
{
  struct guest_pipeline_result pres = { 0 };
  int r = guest_pipeline_run (source, po, &pres);

  res->convert = pres.report;
  res->root = pres.root;
  memcpy (res->accel, pres.accel, sizeof res->accel);
  res->stats = pres.stats;
  res->boots = pres.boots;
  return r;
}

/* --verify-boot: the buses of the target, and the firmware the source's
 * partition table asks for. */
static int
verify_plan (struct image *src, const struct capture_opts *opts,
             enum bootcheck_bus buses[2], struct guest_pipeline_opts *po)
{
  struct parttable_disk d = { .img = src };
  enum parttable_firmware fw;

  if (parttable_firmware (&d, &fw) == -1)
    return error_prefix ("capture: verify-boot: ");
  po->verify_buses = buses;
  po->n_verify = guest_pipeline_verify_buses (opts->convert, buses);
  po->verify_uefi = fw == PARTTABLE_UEFI;
  return 0;
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
  struct guest_pipeline_opts conv;
  enum bootcheck_bus buses[2];
  struct image *src;
  int r = -1;

  memset (res, 0, sizeof *res);
  convert_opts (output, opts, &copy, &conv);
  if (opts->convert && guest_pipeline_check (&conv) == -1)
    return error_prefix ("capture: ");
  /* A file stands in for a disk: never probe it as an image format. */
  src = image_open (source, IMAGE_OPEN_RAW);
  if (src == NULL)
    return error_prefix ("capture: ");
  res->source_size = src->size;
  if (opts->convert && opts->verify_boot &&
      verify_plan (src, opts, buses, &conv) == -1)
    goto out;
  if (!opts->all_blocks) {
    if (usedmap_build (src, opts->retries, &res->map) == -1) {
      error_prefix ("capture: '%s': ", source);
      goto out;
    }
    copy.mask = &res->map.keep;
  }
  if (opts->convert ? capture_converted (source, &conv, res)
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

static void
json_partitions (struct json *j, const struct usedmap *map)
{
  size_t i;

  json_key_string (j, "partition_table", map->table[0] ? map->table : NULL);
  json_key (j, "partitions");
  json_array_begin (j);
  for (i = 0; i < map->parts.len; i++) {
    const struct usedmap_part *p = &map->parts.ptr[i];
    json_object_begin (j);
    json_key_int (j, "number", p->number);
    json_key_uint (j, "offset", p->offset);
    json_key_uint (j, "length", p->length);
    json_key_string (j, "filesystem", p->fstype[0] ? p->fstype : NULL);
    json_key_string (j, "policy", usedmap_policy_name (p->policy));
    json_key_string (j, "method", p->method[0] ? p->method : NULL);
    json_key_string (j, "note", p->note[0] ? p->note : NULL);
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
  guest_pipeline_boots_json (j, &res->boots);
  json_object_end (j);
}
