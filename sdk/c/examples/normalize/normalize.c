/* normalize: image normalization, uint8 HWC -> float32 CHW (the shared example
 * transform every wasinfer SDK implements bit-identically).
 *
 * Input: the column named by config "column" (default "image"), an
 * arrow.fixed_shape_tensor of uint8 with shape [H, W, C] (storage "+w:N" over
 * "C", N = H*W*C, 1 <= C <= 4).
 * Output: every other input column, aliased (no copy), then a column named by
 * config "output" (default "tensor"): an arrow.fixed_shape_tensor of float32 with
 * shape [C, H, W] where
 *
 *     out[r][c*H*W + y*W + x] = (float)in[r][(y*W + x)*C + c] * scale[c] + bias[c]
 *     scale[c] = (float)(1.0 / (255.0 * std[c])),  bias[c] = (float)(-mean[c] / std[c])
 *
 * (a float32 multiply then a float32 add, each rounded: no fused multiply-add).
 * A null input row gives a null output row of zeros.
 *
 * Config (all optional): {"column": "image", "output": "tensor",
 *   "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}
 * mean/std have 1 to 4 numbers; channel c uses element c, or the last one when
 * c is past the end; every std must be > 0. Unknown keys are refused.
 *
 * Build with -msimd128: the inner loop then processes 16 pixels at a time
 * (deinterleave with i8x16.shuffle, widen u8 -> u32, convert, mul, add), with
 * a scalar tail. Without SIMD (e.g. the native test) the scalar loop is used;
 * both give the same bits.
 */
#define WASINFER_IMPLEMENTATION
#define WASINFER_HAS_INIT
#include "wasinfer.h"

#include <stdio.h>
#include <stdlib.h>

#ifdef __wasm_simd128__
#include <wasm_simd128.h>
#endif

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF /* exact float32 mul then add; also -ffp-contract=off */
#endif

WASINFER_DESCRIBE(
    "{\"name\":\"normalize\",\"version\":\"1.0.0\",\"language\":\"c\","
    "\"description\":\"uint8 HWC image tensor to float32 CHW, (x/255 - mean) / std per channel\","
    "\"input\":[{\"name\":\"image\",\"type\":\"arrow.fixed_shape_tensor<uint8>[H,W,C]\"}],"
    "\"output\":[{\"name\":\"tensor\",\"type\":\"arrow.fixed_shape_tensor<float32>[C,H,W]\"}]}")

#define MAX_NAME 1024
#define MAX_CHANNELS 4

/* The configuration, set once per instance by wasinfer_udf_init. */
static char g_column[MAX_NAME] = "image";
static char g_output[MAX_NAME] = "tensor";
static double g_mean[MAX_CHANNELS] = {0.485, 0.456, 0.406};
static size_t g_n_mean = 3;
static double g_std[MAX_CHANNELS] = {0.229, 0.224, 0.225};
static size_t g_n_std = 3;

static int config_error(const char* fmt, const char* key) {
  return wasinfer_set_error_status(WASINFER_INVALID_CONFIG, fmt, key);
}

static int read_name(const wasinfer_json_object* it, char* out) {
  int r = wasinfer_json_string(it->value, it->value_len, out, MAX_NAME, NULL);
  if (r == -2) return config_error("invalid config: \"%s\" is longer than 1023 bytes", it->key);
  if (r != 0 || out[0] == 0) return config_error("invalid config: \"%s\" must be a non-empty string", it->key);
  return WASINFER_OK;
}

static int read_numbers(const wasinfer_json_object* it, double* out, size_t* n) {
  int r = wasinfer_json_number_array(it->value, it->value_len, out, MAX_CHANNELS, n);
  if (r != 0 || *n == 0)
    return wasinfer_set_error_status(WASINFER_INVALID_CONFIG,
                                     "invalid config: \"%s\" must be an array of 1 to 4 numbers, got %.*s",
                                     it->key, (int)(it->value_len > 200 ? 200 : it->value_len), it->value);
  return WASINFER_OK;
}

int wasinfer_udf_init(const char* config, size_t len) {
  char column[MAX_NAME] = "image", output[MAX_NAME] = "tensor";
  double mean[MAX_CHANNELS] = {0.485, 0.456, 0.406}, std[MAX_CHANNELS] = {0.229, 0.224, 0.225};
  size_t n_mean = 3, n_std = 3;
  int seen_column = 0, seen_output = 0, seen_mean = 0, seen_std = 0;

  wasinfer_json_object it;
  wasinfer_json_object_init(&it, config, len);
  int r, st;
  while ((r = wasinfer_json_object_next(&it)) == 1) {
    int* seen;
    if (strcmp(it.key, "column") == 0) {
      seen = &seen_column;
      st = read_name(&it, column);
    } else if (strcmp(it.key, "output") == 0) {
      seen = &seen_output;
      st = read_name(&it, output);
    } else if (strcmp(it.key, "mean") == 0) {
      seen = &seen_mean;
      st = read_numbers(&it, mean, &n_mean);
    } else if (strcmp(it.key, "std") == 0) {
      seen = &seen_std;
      st = read_numbers(&it, std, &n_std);
      for (size_t i = 0; st == WASINFER_OK && i < n_std; i++) {
        if (!(std[i] > 0))
          st = wasinfer_set_error_status(WASINFER_INVALID_CONFIG,
                                         "invalid config: \"std\"[%zu] is %g; every std must be > 0", i,
                                         std[i]);
      }
    } else {
      return config_error("invalid config: unknown key \"%s\" (known: column, output, mean, std)", it.key);
    }
    if (st != WASINFER_OK) return st;
    if (*seen) return config_error("invalid config: duplicate key \"%s\"", it.key);
    *seen = 1;
  }
  if (r < 0)
    return wasinfer_set_error_status(WASINFER_INVALID_CONFIG,
                                     "invalid config: not a JSON object: %s at byte %zu", it.error,
                                     it.error_at);
  memcpy(g_column, column, sizeof column);
  memcpy(g_output, output, sizeof output);
  memcpy(g_mean, mean, sizeof mean);
  memcpy(g_std, std, sizeof std);
  g_n_mean = n_mean;
  g_n_std = n_std;
  return WASINFER_OK;
}

/* ---- the kernel ------------------------------------------------------------- */

#ifdef __wasm_simd128__
/* The scalar loop only runs the last < 16 pixels: not worth vectorising. */
#define TAIL_LOOP _Pragma("clang loop vectorize(disable) interleave(disable)")
#else
#define TAIL_LOOP
#endif

/* One row: src holds hw pixels of c interleaved channels; dst[ch] receives the hw
 * values of channel ch (dst[ch] = out + ch*hw). */
static void normalize_row(const uint8_t* src, float* const* dst, int64_t hw, int c, const float* scale,
                          const float* bias) {
  int64_t p = 0;
#ifdef __wasm_simd128__
  /* u8 lanes 4q..4q+3 -> float32x4. Widening with a shuffle against zero (not
   * the extend instructions) keeps clang-14 from scalarising the conversion. */
  const v128_t zero = wasm_i32x4_const(0, 0, 0, 0);
#define QUAD(u8, q)                                                                                  \
  wasm_f32x4_convert_i32x4(wasm_i8x16_shuffle(u8, zero, 4 * (q), 16, 16, 16, 4 * (q) + 1, 16, 16, 16, \
                                              4 * (q) + 2, 16, 16, 16, 4 * (q) + 3, 16, 16, 16))
#define PUT16(d, u8, s, b)                                                        \
  do {                                                                            \
    wasm_v128_store((d) + 0, wasm_f32x4_add(wasm_f32x4_mul(QUAD(u8, 0), s), b));  \
    wasm_v128_store((d) + 4, wasm_f32x4_add(wasm_f32x4_mul(QUAD(u8, 1), s), b));  \
    wasm_v128_store((d) + 8, wasm_f32x4_add(wasm_f32x4_mul(QUAD(u8, 2), s), b));  \
    wasm_v128_store((d) + 12, wasm_f32x4_add(wasm_f32x4_mul(QUAD(u8, 3), s), b)); \
  } while (0)
  v128_t s0 = wasm_f32x4_splat(scale[0]), b0 = wasm_f32x4_splat(bias[0]);
  v128_t s1 = wasm_f32x4_splat(scale[c > 1 ? 1 : 0]), b1 = wasm_f32x4_splat(bias[c > 1 ? 1 : 0]);
  v128_t s2 = wasm_f32x4_splat(scale[c > 2 ? 2 : 0]), b2 = wasm_f32x4_splat(bias[c > 2 ? 2 : 0]);
  v128_t s3 = wasm_f32x4_splat(scale[c > 3 ? 3 : 0]), b3 = wasm_f32x4_splat(bias[c > 3 ? 3 : 0]);
  switch (c) {
    case 1:
      for (; p + 16 <= hw; p += 16) {
        v128_t v = wasm_v128_load(src + p);
        PUT16(dst[0] + p, v, s0, b0);
      }
      break;
    case 2:
      for (; p + 16 <= hw; p += 16) {
        const uint8_t* s = src + 2 * p;
        v128_t v0 = wasm_v128_load(s), v1 = wasm_v128_load(s + 16);
        v128_t r0 = wasm_i8x16_shuffle(v0, v1, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        v128_t r1 = wasm_i8x16_shuffle(v0, v1, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
        PUT16(dst[0] + p, r0, s0, b0);
        PUT16(dst[1] + p, r1, s1, b1);
      }
      break;
    case 3:
      for (; p + 16 <= hw; p += 16) {
        const uint8_t* s = src + 3 * p;
        v128_t v0 = wasm_v128_load(s), v1 = wasm_v128_load(s + 16), v2 = wasm_v128_load(s + 32);
        /* channel k of pixel i is byte 3i+k of the 48: the first shuffle takes the
         * bytes in v0|v1, the second the rest from v2. */
        v128_t t0 = wasm_i8x16_shuffle(v0, v1, 0, 3, 6, 9, 12, 15, 18, 21, 24, 27, 30, 0, 0, 0, 0, 0);
        v128_t r0 = wasm_i8x16_shuffle(t0, v2, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 17, 20, 23, 26, 29);
        v128_t t1 = wasm_i8x16_shuffle(v0, v1, 1, 4, 7, 10, 13, 16, 19, 22, 25, 28, 31, 0, 0, 0, 0, 0);
        v128_t r1 = wasm_i8x16_shuffle(t1, v2, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 18, 21, 24, 27, 30);
        v128_t t2 = wasm_i8x16_shuffle(v0, v1, 2, 5, 8, 11, 14, 17, 20, 23, 26, 29, 0, 0, 0, 0, 0, 0);
        v128_t r2 = wasm_i8x16_shuffle(t2, v2, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 16, 19, 22, 25, 28, 31);
        PUT16(dst[0] + p, r0, s0, b0);
        PUT16(dst[1] + p, r1, s1, b1);
        PUT16(dst[2] + p, r2, s2, b2);
      }
      break;
    case 4:
      for (; p + 16 <= hw; p += 16) {
        const uint8_t* s = src + 4 * p;
        v128_t v0 = wasm_v128_load(s), v1 = wasm_v128_load(s + 16);
        v128_t v2 = wasm_v128_load(s + 32), v3 = wasm_v128_load(s + 48);
#define DEINTERLEAVE4(k)                                                                                  \
  wasm_i8x16_shuffle(                                                                                     \
      wasm_i8x16_shuffle(v0, v1, k, k + 4, k + 8, k + 12, k + 16, k + 20, k + 24, k + 28, 0, 0, 0, 0, 0, \
                         0, 0, 0),                                                                        \
      wasm_i8x16_shuffle(v2, v3, k, k + 4, k + 8, k + 12, k + 16, k + 20, k + 24, k + 28, 0, 0, 0, 0, 0, \
                         0, 0, 0),                                                                        \
      0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23)
        PUT16(dst[0] + p, DEINTERLEAVE4(0), s0, b0);
        PUT16(dst[1] + p, DEINTERLEAVE4(1), s1, b1);
        PUT16(dst[2] + p, DEINTERLEAVE4(2), s2, b2);
        PUT16(dst[3] + p, DEINTERLEAVE4(3), s3, b3);
#undef DEINTERLEAVE4
      }
      break;
  }
#undef PUT16
#undef QUAD
#endif
  /* The scalar loop: everything without SIMD, and the tail (< 16 pixels) with. */
  for (int ch = 0; ch < c; ch++) {
    const float sc = scale[ch], bi = bias[ch];
    float* d = dst[ch];
    const uint8_t* s = src + ch;
    TAIL_LOOP
    for (int64_t q = p; q < hw; q++) {
      float x = (float)s[q * c];
      x = x * sc; /* separate statements: no contraction into an FMA */
      d[q] = x + bi;
    }
  }
}

/* ---- the input column ------------------------------------------------------- */

/* Checks that field is a uint8 fixed_shape_tensor of shape [H, W, C] and reads
 * the shape. Returns WASINFER_OK or UNSUPPORTED_INPUT with the message set. */
static int read_tensor_field(const struct ArrowSchema* f, int64_t* h, int64_t* w, int64_t* c, int64_t* n) {
  const char* col = g_column;
  if (strncmp(f->format, "+w:", 3) != 0 || wasinfer_format_n_buffers(f->format) != 1 || f->n_children != 1 ||
      strcmp(f->children[0]->format, "C") != 0 || f->dictionary != NULL)
    return wasinfer_set_error_status(WASINFER_UNSUPPORTED_INPUT,
                                     "column \"%s\": format \"%s\" is not a fixed_size_list of uint8 "
                                     "(want an arrow.fixed_shape_tensor of uint8)",
                                     col, f->format);
  char* end;
  long long list_size = strtoll(f->format + 3, &end, 10);
  if (*end != 0 || list_size <= 0)
    return wasinfer_set_error_status(WASINFER_UNSUPPORTED_INPUT, "column \"%s\": bad format \"%s\"", col,
                                     f->format);
  const char* v;
  size_t vl;
  if (!wasinfer_metadata_get(f->metadata, WASINFER_EXTENSION_NAME, &v, &vl))
    return wasinfer_set_error_status(WASINFER_UNSUPPORTED_INPUT,
                                     "column \"%s\": not an arrow.fixed_shape_tensor (no %s in the "
                                     "field metadata)",
                                     col, WASINFER_EXTENSION_NAME);
  if (vl != strlen("arrow.fixed_shape_tensor") || memcmp(v, "arrow.fixed_shape_tensor", vl) != 0)
    return wasinfer_set_error_status(WASINFER_UNSUPPORTED_INPUT,
                                     "column \"%s\": extension type \"%.*s\" is not arrow.fixed_shape_tensor",
                                     col, (int)(vl > 200 ? 200 : vl), v);
  if (!wasinfer_metadata_get(f->metadata, WASINFER_EXTENSION_METADATA, &v, &vl))
    return wasinfer_set_error_status(WASINFER_UNSUPPORTED_INPUT,
                                     "column \"%s\": tensor has no %s (want {\"shape\":[H,W,C]})", col,
                                     WASINFER_EXTENSION_METADATA);
  const char* sv;
  size_t sl;
  int found = wasinfer_json_find(v, vl, "shape", &sv, &sl);
  if (found < 0)
    return wasinfer_set_error_status(WASINFER_UNSUPPORTED_INPUT,
                                     "column \"%s\": tensor metadata is not a JSON object: %.*s", col,
                                     (int)(vl > 200 ? 200 : vl), v);
  if (found == 0)
    return wasinfer_set_error_status(WASINFER_UNSUPPORTED_INPUT,
                                     "column \"%s\": tensor metadata has no \"shape\": %.*s", col,
                                     (int)(vl > 200 ? 200 : vl), v);
  double d[3];
  size_t k = 0;
  int ok = wasinfer_json_number_array(sv, sl, d, 3, &k) == 0 && k == 3;
  for (size_t i = 0; ok && i < 3; i++) ok = d[i] >= 1 && d[i] <= (double)list_size && d[i] == (double)(int64_t)d[i];
  if (!ok)
    return wasinfer_set_error_status(WASINFER_UNSUPPORTED_INPUT,
                                     "column \"%s\": tensor shape %.*s is not 3 positive integers [H,W,C]",
                                     col, (int)(sl > 200 ? 200 : sl), sv);
  *h = (int64_t)d[0];
  *w = (int64_t)d[1];
  *c = (int64_t)d[2];
  if (*c > MAX_CHANNELS)
    return wasinfer_set_error_status(WASINFER_UNSUPPORTED_INPUT,
                                     "column \"%s\": tensor shape [%lld,%lld,%lld] has %lld channels; want 1 to 4",
                                     col, (long long)*h, (long long)*w, (long long)*c, (long long)*c);
  if (*h * *w > list_size || *h * *w * *c != list_size)
    return wasinfer_set_error_status(WASINFER_UNSUPPORTED_INPUT,
                                     "column \"%s\": tensor shape [%lld,%lld,%lld] does not match the list "
                                     "size %lld",
                                     col, (long long)*h, (long long)*w, (long long)*c, list_size);
  *n = list_size;
  return WASINFER_OK;
}

/* ---- transform ------------------------------------------------------------------ */

int wasinfer_udf_transform(const struct ArrowSchema* in_schema, const struct ArrowArray* in,
                           struct ArrowSchema* out_schema, struct ArrowArray* out) {
  int64_t j = wasinfer_child_index(in_schema, g_column);
  if (j < 0)
    return wasinfer_set_error_status(WASINFER_UNSUPPORTED_INPUT, "column \"%s\": not in the input batch",
                                     g_column);
  int64_t h, w, c, n;
  int st = read_tensor_field(in_schema->children[j], &h, &w, &c, &n);
  if (st != WASINFER_OK) return st;

  float scale[MAX_CHANNELS], bias[MAX_CHANNELS];
  for (int64_t ch = 0; ch < c; ch++) {
    double m = g_mean[(size_t)ch < g_n_mean ? (size_t)ch : g_n_mean - 1];
    double s = g_std[(size_t)ch < g_n_std ? (size_t)ch : g_n_std - 1];
    scale[ch] = (float)(1.0 / (255.0 * s));
    bias[ch] = (float)(-m / s);
  }

  const struct ArrowArray* list = in->children[j];
  const struct ArrowArray* items = list->children[0];
  const uint8_t* values = (const uint8_t*)items->buffers[1];
  const int64_t rows = in->length, hw = h * w;
  const int64_t row0 = list->offset + in->offset; /* physical index of row 0 in the list */
  const int has_validity = list->buffers[0] != NULL;
  if (rows > 0 && values == NULL)
    return wasinfer_set_error("column \"%s\": values buffer is NULL", g_column);

  char format[32], shape[96];
  snprintf(format, sizeof format, "+w:%lld", (long long)n);
  snprintf(shape, sizeof shape, "{\"shape\":[%lld,%lld,%lld]}", (long long)c, (long long)h, (long long)w);

  wasinfer_builder b;
  wasinfer_builder_init(&b, out_schema, out, rows, in_schema->metadata);
  wasinfer_builder_pass_all(&b, in_schema, in, j);
  wasinfer_column t = wasinfer_builder_add(&b, g_output, format, ARROW_FLAG_NULLABLE);
  wasinfer_column_add_metadata(t, WASINFER_EXTENSION_NAME, "arrow.fixed_shape_tensor");
  wasinfer_column_add_metadata(t, WASINFER_EXTENSION_METADATA, shape);
  wasinfer_column item = wasinfer_column_add_child(t, "item", "f", 0);
  if (item.array) item.array->length = rows * n;
  float* dst = (float*)wasinfer_column_alloc_buffer(item, 1, rows * n * (int64_t)sizeof(float));
  uint8_t* valid = has_validity ? wasinfer_column_validity(t) : NULL;
  if (b.status != WASINFER_OK) return wasinfer_builder_finish(&b);

  int64_t nulls = 0;
  for (int64_t r = 0; r < rows; r++) {
    float* row = dst + r * n;
    if (has_validity && !wasinfer_bit_get(list->buffers[0], row0 + r)) {
      memset(row, 0, (size_t)n * sizeof(float));
      wasinfer_bit_set(valid, r, 0);
      nulls++;
      continue;
    }
    float* planes[MAX_CHANNELS];
    for (int64_t ch = 0; ch < c; ch++) planes[ch] = row + ch * hw;
    normalize_row(values + items->offset + (row0 + r) * n, planes, hw, (int)c, scale, bias);
  }
  if (has_validity) t.array->null_count = nulls;
  return wasinfer_builder_finish(&b);
}
