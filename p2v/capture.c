/* capture.c: capture one source disk into an image (capture.h). */
#include <string.h>

#include "capture.h"
#include "common/error.h"

int
capture_one (const char *source, const char *output,
             const struct capture_opts *opts, struct capture_result *res)
{
  struct copy_opts copy = {
    .label = source, .quiet = opts->quiet, .strict = opts->strict,
    .retries = opts->retries,
  };
  struct image *src;
  int r = -1;

  memset (res, 0, sizeof *res);
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
  if (image_convert (src, opts->format, output, &opts->create, &copy,
                     opts->overwrite, &res->stats) == -1) {
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
}
