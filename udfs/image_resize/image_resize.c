/* image_resize: resizes uint8 HWC image tensors to one fixed size, bilinear
 * (default) or nearest, with pixel centres at +0.5 (see udfs_image.h for
 * the exact arithmetic). The channel count is kept. A null image gives a
 * null row of zeros.
 *
 * The output column replaces the input column in place when they have the
 * same name (the default), else it is added after every input column.
 *
 * Config: width (224), height (224), interpolation ("bilinear" or
 * "nearest"), column ("image"), output (the column's name). */
#define WASINFER_IMPLEMENTATION
#define WASINFER_HAS_INIT
#include "wasinfer.h"
#include "udfs.h"
#include "udfs_image.h"

WASINFER_DESCRIBE("{\"name\":\"image_resize\",\"version\":\"1.0.0\",\"language\":\"c\"}")

static char g_column[UDFS_MAX_NAME] = "image";
static char g_output[UDFS_MAX_NAME] = "";
static int64_t g_width = 224, g_height = 224;
static int g_nearest = 0;

int wasinfer_udf_init(const char* config, size_t len) {
  char column[UDFS_MAX_NAME] = "image", output[UDFS_MAX_NAME] = "", interp[16] = "bilinear";
  int64_t width = 224, height = 224;
  int st = WASINFER_OK, r;
  wasinfer_json_object it;
  wasinfer_json_object_init(&it, config, len);
  while ((r = wasinfer_json_object_next(&it)) == 1) {
    if (strcmp(it.key, "column") == 0) st = udfs_config_string(&it, column, sizeof column);
    else if (strcmp(it.key, "output") == 0) st = udfs_config_string(&it, output, sizeof output);
    else if (strcmp(it.key, "width") == 0) st = udfs_config_int(&it, 1, 16384, &width);
    else if (strcmp(it.key, "height") == 0) st = udfs_config_int(&it, 1, 16384, &height);
    else if (strcmp(it.key, "interpolation") == 0) {
      if (wasinfer_json_string(it.value, it.value_len, interp, sizeof interp, NULL) != 0 ||
          (strcmp(interp, "bilinear") != 0 && strcmp(interp, "nearest") != 0))
        st = udfs_config_error(&it, "\"bilinear\" or \"nearest\"");
    } else
      st = udfs_config_unknown(&it, "width, height, interpolation, column, output");
    if (st != WASINFER_OK) return st;
  }
  if (r < 0) return udfs_config_malformed(&it);
  memcpy(g_column, column, sizeof column);
  memcpy(g_output, output[0] ? output : column, sizeof output);
  g_width = width;
  g_height = height;
  g_nearest = strcmp(interp, "nearest") == 0;
  return WASINFER_OK;
}

int wasinfer_udf_transform(const struct ArrowSchema* in_schema, const struct ArrowArray* in,
                           struct ArrowSchema* out_schema, struct ArrowArray* out) {
  int64_t j;
  int st = udfs_find(in_schema, g_column, &j);
  if (st != WASINFER_OK) return st;
  udfs_tensor t;
  if ((st = udfs_read_tensor(in_schema->children[j], g_column, "C", 3, &t)) != WASINFER_OK) return st;
  const int64_t h = t.shape[0], w = t.shape[1], c = t.shape[2], n = t.size;
  const struct ArrowArray* list = in->children[j];
  const uint8_t* values = (const uint8_t*)list->children[0]->buffers[1] + list->children[0]->offset;
  const int64_t rows = in->length, row0 = list->offset + in->offset;
  const int64_t shape[3] = {g_height, g_width, c}, on = g_height * g_width * c;

  wasinfer_builder b;
  wasinfer_builder_init(&b, out_schema, out, rows, in_schema->metadata);
  int replace = strcmp(g_output, g_column) == 0;
  wasinfer_column col;
  uint8_t* dst = NULL;
  for (int64_t k = 0; k < in_schema->n_children; k++) {
    if (k == j && replace) dst = (uint8_t*)udfs_add_tensor(&b, &col, g_output, "C", 1, shape, 3, rows);
    else wasinfer_builder_pass(&b, in_schema, in, k);
  }
  if (!replace) dst = (uint8_t*)udfs_add_tensor(&b, &col, g_output, "C", 1, shape, 3, rows);
  uint8_t* valid = list->buffers[0] ? wasinfer_column_validity(col) : NULL;
  if (b.status != WASINFER_OK) return wasinfer_builder_finish(&b);
  int64_t nulls = 0;
  for (int64_t r = 0; r < rows; r++) {
    uint8_t* o = dst + r * on;
    if (valid && !wasinfer_bit_get(list->buffers[0], row0 + r)) {
      memset(o, 0, (size_t)on);
      wasinfer_bit_set(valid, r, 0);
      nulls++;
      continue;
    }
    if (!udfs_resize(values + (row0 + r) * n, h, w, c, o, g_height, g_width, g_width, g_nearest)) {
      wasinfer_builder_abort(&b);
      return wasinfer_set_error_status(WASINFER_OUT_OF_MEMORY, "out of memory resizing row %lld", (long long)r);
    }
  }
  if (valid) col.array->null_count = nulls;
  return wasinfer_builder_finish(&b);
}
