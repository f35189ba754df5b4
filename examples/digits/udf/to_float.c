/* to_float: a uint8 tensor column -> a float32 tensor column, each value
 * multiplied by a scale, reshaped to the shape a model wants. The digits
 * example uses it to turn the 8×8 scans (values 0..16) into the model's
 * input: float32 [1, 8, 8], pixel / 16.
 *
 *   out[i] = (float)x[i] * (float)scale
 *
 * Config (all optional):
 *   column  the input column, an arrow.fixed_shape_tensor<uint8> (default "pixels")
 *   output  the output column (default "input")
 *   scale   the factor (default 1)
 *   shape   the output's per-row shape, whose product must be the input's
 *           element count (default: the input's shape with a leading 1, a
 *           channel axis)
 *
 * Every input column passes through; the new column comes last. A null row
 * gives a null row of zeros. */
#define WASINFER_IMPLEMENTATION
#define WASINFER_HAS_INIT
#include "wasinfer.h"

#include <stdio.h>

WASINFER_DESCRIBE("{\"name\":\"to_float\",\"version\":\"1.0.0\",\"language\":\"c\"}")

#define MAX_NAME 256
#define MAX_DIMS 8

static char g_column[MAX_NAME] = "pixels";
static char g_output[MAX_NAME] = "input";
static double g_scale = 1;
static int64_t g_shape[MAX_DIMS];
static int g_ndim = 0; /* 0: the input's shape with a leading 1 */

static int bad(const wasinfer_json_object* it, const char* want) {
  return wasinfer_set_error_status(WASINFER_INVALID_CONFIG, "invalid config: \"%s\" must be %s, got %.*s", it->key,
                                   want, (int)(it->value_len > 200 ? 200 : it->value_len), it->value);
}

int wasinfer_udf_init(const char* config, size_t len) {
  char column[MAX_NAME] = "pixels", output[MAX_NAME] = "input";
  double scale = 1, dims[MAX_DIMS];
  size_t ndim = 0;
  wasinfer_json_object it;
  wasinfer_json_object_init(&it, config, len);
  int r;
  while ((r = wasinfer_json_object_next(&it)) == 1) {
    if (strcmp(it.key, "column") == 0) {
      if (wasinfer_json_string(it.value, it.value_len, column, sizeof column, NULL) != 0 || !column[0])
        return bad(&it, "a non-empty string of at most 255 bytes");
    } else if (strcmp(it.key, "output") == 0) {
      if (wasinfer_json_string(it.value, it.value_len, output, sizeof output, NULL) != 0 || !output[0])
        return bad(&it, "a non-empty string of at most 255 bytes");
    } else if (strcmp(it.key, "scale") == 0) {
      if (wasinfer_json_number(it.value, it.value_len, &scale) != 0 || !(scale > -1e30 && scale < 1e30))
        return bad(&it, "a finite number");
    } else if (strcmp(it.key, "shape") == 0) {
      if (wasinfer_json_number_array(it.value, it.value_len, dims, MAX_DIMS, &ndim) != 0 || ndim == 0)
        return bad(&it, "an array of 1 to 8 positive integers");
      for (size_t i = 0; i < ndim; i++)
        if (!(dims[i] >= 1 && dims[i] <= 1 << 30) || dims[i] != (double)(int64_t)dims[i])
          return bad(&it, "an array of 1 to 8 positive integers");
    } else {
      return wasinfer_set_error_status(WASINFER_INVALID_CONFIG,
                                       "invalid config: unknown key \"%s\" (known: column, output, scale, shape)",
                                       it.key);
    }
  }
  if (r < 0)
    return wasinfer_set_error_status(WASINFER_INVALID_CONFIG, "invalid config: not a JSON object: %s at byte %zu",
                                     it.error, it.error_at);
  memcpy(g_column, column, sizeof column);
  memcpy(g_output, output, sizeof output);
  g_scale = scale;
  g_ndim = (int)ndim;
  for (size_t i = 0; i < ndim; i++) g_shape[i] = (int64_t)dims[i];
  return WASINFER_OK;
}

/* Reads the input tensor's shape from its field metadata; returns the
 * number of dimensions, or -1 with the error set. */
static int input_shape(const struct ArrowSchema* f, int64_t n, int64_t* shape) {
  const char *v, *sv;
  size_t vl, sl;
  if (!wasinfer_metadata_get(f->metadata, WASINFER_EXTENSION_METADATA, &v, &vl) ||
      wasinfer_json_find(v, vl, "shape", &sv, &sl) != 1) {
    shape[0] = n; /* a plain fixed_size_list: one dimension */
    return 1;
  }
  double d[MAX_DIMS - 1];
  size_t k = 0;
  if (wasinfer_json_number_array(sv, sl, d, MAX_DIMS - 1, &k) != 0 || k == 0) {
    wasinfer_set_error_status(WASINFER_UNSUPPORTED_INPUT, "column \"%s\": tensor shape %.*s: want 1 to 7 sizes",
                              g_column, (int)(sl > 200 ? 200 : sl), sv);
    return -1;
  }
  int64_t prod = 1;
  for (size_t i = 0; i < k; i++) {
    shape[i] = (int64_t)d[i];
    prod *= shape[i];
  }
  if (prod != n) {
    wasinfer_set_error_status(WASINFER_UNSUPPORTED_INPUT, "column \"%s\": tensor shape %.*s does not hold %lld values",
                              g_column, (int)(sl > 200 ? 200 : sl), sv, (long long)n);
    return -1;
  }
  return (int)k;
}

int wasinfer_udf_transform(const struct ArrowSchema* in_schema, const struct ArrowArray* in,
                           struct ArrowSchema* out_schema, struct ArrowArray* out) {
  int64_t j = wasinfer_child_index(in_schema, g_column);
  if (j < 0)
    return wasinfer_set_error_status(WASINFER_UNSUPPORTED_INPUT, "column \"%s\": not in the input batch", g_column);
  const struct ArrowSchema* f = in_schema->children[j];
  char* end;
  long long n = strncmp(f->format, "+w:", 3) == 0 ? strtoll(f->format + 3, &end, 10) : 0;
  if (n <= 0 || f->n_children != 1 || strcmp(f->children[0]->format, "C") != 0)
    return wasinfer_set_error_status(WASINFER_UNSUPPORTED_INPUT,
                                     "column \"%s\": format \"%s\" is not a tensor (fixed_size_list) of uint8",
                                     g_column, f->format);
  int64_t shape[MAX_DIMS];
  int ndim = g_ndim;
  if (ndim > 0) {
    int64_t prod = 1;
    for (int i = 0; i < ndim; i++) prod *= (shape[i] = g_shape[i]);
    if (prod != n)
      return wasinfer_set_error_status(WASINFER_UNSUPPORTED_INPUT,
                                       "column \"%s\": %lld values per row, but config shape holds %lld", g_column,
                                       n, (long long)prod);
  } else {
    shape[0] = 1;
    if ((ndim = input_shape(f, n, shape + 1)) < 0) return WASINFER_UNSUPPORTED_INPUT;
    ndim++;
  }

  char meta[200], format[32];
  int pos = snprintf(meta, sizeof meta, "{\"shape\":[");
  for (int i = 0; i < ndim; i++)
    pos += snprintf(meta + pos, sizeof meta - (size_t)pos, "%s%lld", i ? "," : "", (long long)shape[i]);
  snprintf(meta + pos, sizeof meta - (size_t)pos, "]}");
  snprintf(format, sizeof format, "+w:%lld", n);

  const struct ArrowArray* list = in->children[j];
  const struct ArrowArray* items = list->children[0];
  const int64_t rows = in->length, row0 = list->offset + in->offset;
  const uint8_t* src = (const uint8_t*)items->buffers[1] + items->offset + row0 * n;
  const float scale = (float)g_scale;

  wasinfer_builder b;
  wasinfer_builder_init(&b, out_schema, out, rows, in_schema->metadata);
  wasinfer_builder_pass_all(&b, in_schema, in, -1);
  wasinfer_column col = wasinfer_builder_add(&b, g_output, format, ARROW_FLAG_NULLABLE);
  wasinfer_column_add_metadata(col, WASINFER_EXTENSION_NAME, "arrow.fixed_shape_tensor");
  wasinfer_column_add_metadata(col, WASINFER_EXTENSION_METADATA, meta);
  wasinfer_column item = wasinfer_column_add_child(col, "item", "f", ARROW_FLAG_NULLABLE);
  if (item.array) item.array->length = rows * n;
  float* dst = (float*)wasinfer_column_alloc_buffer(item, 1, rows * n * 4);
  uint8_t* valid = list->buffers[0] ? wasinfer_column_validity(col) : NULL;
  if (b.status != WASINFER_OK) return wasinfer_builder_finish(&b);
  int64_t nulls = 0;
  for (int64_t r = 0; r < rows; r++) {
    float* o = dst + r * n;
    if (valid && !wasinfer_bit_get(list->buffers[0], row0 + r)) {
      memset(o, 0, (size_t)n * sizeof(float));
      wasinfer_bit_set(valid, r, 0);
      nulls++;
      continue;
    }
    const uint8_t* x = src + r * n;
    for (int64_t i = 0; i < n; i++) o[i] = (float)x[i] * scale;
  }
  if (valid) col.array->null_count = nulls;
  return wasinfer_builder_finish(&b);
}
