/* image_normalize: uint8 HWC image tensor -> normalized float32 tensor, CHW
 * (default) or HWC, for a model's input.
 *
 *   out = (float)x * scale[c] + bias[c]     (a float32 multiply, then an add)
 *   scale[c] = (float)(1 / (range * std[c])),  bias[c] = (float)(-mean[c] / std[c])
 *
 * where c is the output channel and x the input channel c (or C-1-c with
 * "bgr": true, which swaps RGB and BGR). A null image gives a null row of
 * zeros. Every other input column passes through, aliased; the tensor
 * column comes last.
 *
 * Config (all optional): column ("image"), output ("tensor"), mean
 * ([0.485, 0.456, 0.406]), std ([0.229, 0.224, 0.225]), range (255: the
 * input value that maps to 1 before mean and std), layout ("CHW" or "HWC"),
 * bgr (false). mean and std have 1 to 4 numbers; channel c uses element c,
 * or the last one. */
#define WASINFER_IMPLEMENTATION
#define WASINFER_HAS_INIT
#include "wasinfer.h"
#include "udfs.h"

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

WASINFER_DESCRIBE("{\"name\":\"image_normalize\",\"version\":\"1.0.0\",\"language\":\"c\"}")

#define MAX_CH 4

static char g_column[UDFS_MAX_NAME] = "image";
static char g_output[UDFS_MAX_NAME] = "tensor";
static double g_mean[MAX_CH] = {0.485, 0.456, 0.406}, g_std[MAX_CH] = {0.229, 0.224, 0.225};
static size_t g_nmean = 3, g_nstd = 3;
static double g_range = 255;
static int g_hwc = 0, g_bgr = 0;

static int read_channels(const wasinfer_json_object* it, double* out, size_t* n, int positive) {
  if (wasinfer_json_number_array(it->value, it->value_len, out, MAX_CH, n) != 0 || *n == 0)
    return udfs_config_error(it, "an array of 1 to 4 numbers");
  for (size_t i = 0; i < *n; i++)
    if (!isfinite(out[i]) || (positive && !(out[i] > 0))) return udfs_config_error(it, "finite numbers, each > 0 for std");
  return WASINFER_OK;
}

int wasinfer_udf_init(const char* config, size_t len) {
  char column[UDFS_MAX_NAME] = "image", output[UDFS_MAX_NAME] = "tensor", layout[8] = "CHW";
  double mean[MAX_CH] = {0.485, 0.456, 0.406}, std[MAX_CH] = {0.229, 0.224, 0.225}, range = 255;
  size_t nmean = 3, nstd = 3;
  int bgr = 0, st = WASINFER_OK, r;
  wasinfer_json_object it;
  wasinfer_json_object_init(&it, config, len);
  while ((r = wasinfer_json_object_next(&it)) == 1) {
    if (strcmp(it.key, "column") == 0) st = udfs_config_string(&it, column, sizeof column);
    else if (strcmp(it.key, "output") == 0) st = udfs_config_string(&it, output, sizeof output);
    else if (strcmp(it.key, "mean") == 0) st = read_channels(&it, mean, &nmean, 0);
    else if (strcmp(it.key, "std") == 0) st = read_channels(&it, std, &nstd, 1);
    else if (strcmp(it.key, "range") == 0) st = udfs_config_number(&it, 1e-6, 1e12, &range);
    else if (strcmp(it.key, "bgr") == 0) st = udfs_config_bool(&it, &bgr);
    else if (strcmp(it.key, "layout") == 0) {
      if (wasinfer_json_string(it.value, it.value_len, layout, sizeof layout, NULL) != 0 ||
          (strcmp(layout, "CHW") != 0 && strcmp(layout, "HWC") != 0))
        st = udfs_config_error(&it, "\"CHW\" or \"HWC\"");
    } else
      st = udfs_config_unknown(&it, "column, output, mean, std, range, layout, bgr");
    if (st != WASINFER_OK) return st;
  }
  if (r < 0) return udfs_config_malformed(&it);
  memcpy(g_column, column, sizeof column);
  memcpy(g_output, output, sizeof output);
  memcpy(g_mean, mean, sizeof mean);
  memcpy(g_std, std, sizeof std);
  g_nmean = nmean;
  g_nstd = nstd;
  g_range = range;
  g_hwc = strcmp(layout, "HWC") == 0;
  g_bgr = bgr;
  return WASINFER_OK;
}

int wasinfer_udf_transform(const struct ArrowSchema* in_schema, const struct ArrowArray* in,
                           struct ArrowSchema* out_schema, struct ArrowArray* out) {
  int64_t j;
  int st = udfs_find(in_schema, g_column, &j);
  if (st != WASINFER_OK) return st;
  udfs_tensor t;
  if ((st = udfs_read_tensor(in_schema->children[j], g_column, "C", 3, &t)) != WASINFER_OK) return st;
  const int64_t h = t.shape[0], w = t.shape[1], c = t.shape[2], hw = h * w, n = t.size;
  if (c > MAX_CH)
    return wasinfer_set_error_status(WASINFER_UNSUPPORTED_INPUT, "column \"%s\": %lld channels; want 1 to 4",
                                     g_column, (long long)c);
  float scale[MAX_CH], bias[MAX_CH];
  for (int64_t ch = 0; ch < c; ch++) {
    double m = g_mean[(size_t)ch < g_nmean ? (size_t)ch : g_nmean - 1];
    double s = g_std[(size_t)ch < g_nstd ? (size_t)ch : g_nstd - 1];
    scale[ch] = (float)(1.0 / (g_range * s));
    bias[ch] = (float)(-m / s);
  }
  const struct ArrowArray* list = in->children[j];
  const struct ArrowArray* items = list->children[0];
  const uint8_t* values = (const uint8_t*)items->buffers[1];
  const int64_t rows = in->length, row0 = list->offset + in->offset;

  int64_t shape[3] = {c, h, w};
  if (g_hwc) shape[0] = h, shape[1] = w, shape[2] = c;
  wasinfer_builder b;
  wasinfer_builder_init(&b, out_schema, out, rows, in_schema->metadata);
  wasinfer_builder_pass_all(&b, in_schema, in, -1);
  wasinfer_column col;
  float* dst = (float*)udfs_add_tensor(&b, &col, g_output, "f", 4, shape, 3, rows);
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
    const uint8_t* src = values + items->offset + (row0 + r) * n;
    for (int64_t ch = 0; ch < c; ch++) {
      const int64_t from = g_bgr ? c - 1 - ch : ch;
      const float sc = scale[ch], bi = bias[ch];
      if (g_hwc) {
        for (int64_t p = 0; p < hw; p++) {
          float x = (float)src[p * c + from] * sc;
          o[p * c + ch] = x + bi;
        }
      } else {
        float* d = o + ch * hw;
        for (int64_t p = 0; p < hw; p++) {
          float x = (float)src[p * c + from] * sc;
          d[p] = x + bi;
        }
      }
    }
  }
  if (valid) col.array->null_count = nulls;
  return wasinfer_builder_finish(&b);
}
