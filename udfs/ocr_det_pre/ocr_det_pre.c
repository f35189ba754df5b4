/* ocr_det_pre: an image (uint8 HWC tensor) -> the input of a text detector
 * such as PaddleOCR's DB model: resized to one fixed size whose sides are
 * multiples of the model's stride, normalized, float32 CHW; plus the frame
 * that maps the detector's coordinates back to the image.
 *
 * Every row of a batch becomes the same shape (a model runs a batch as one
 * tensor), whatever the image's size:
 *
 *   letterbox (default)  scale by s = min(width / w, height / h), keeping the
 *                        aspect ratio; the image fills the top-left
 *                        round(w*s) × round(h*s) pixels, the rest is padding
 *                        (0 after normalization: the mean colour)
 *   stretch              scale each axis to width × height
 *
 * Resampling is bilinear with pixel centres at +0.5 (OpenCV's INTER_LINEAR
 * convention). Then, per output channel c (from input channel c, or 2 - c
 * with "bgr"; gray images are repeated to three channels, alpha is dropped):
 *
 *   out = v * scale[c] + bias[c],  scale[c] = (float)(1 / (range * std[c])),
 *                                  bias[c]  = (float)(-mean[c] / std[c])
 *
 * where v is the interpolated value (float32 arithmetic throughout). The
 * frame column is float32 [4]: sx, sy, w, h, such that image x = det x * sx,
 * image y = det y * sy, inside the w × h image.
 *
 * A null image gives a null row of zeros and a null frame. Every input
 * column passes through; the two new columns come last.
 *
 * Config (all optional): column ("image"), output ("det_input"), frame
 * ("det_frame"), width (640), height (640), stride (32: width and height
 * must be multiples), resize ("letterbox" or "stretch"), mean
 * ([0.485, 0.456, 0.406]), std ([0.229, 0.224, 0.225]), range (255), bgr
 * (true: PaddleOCR's models were trained on OpenCV's BGR order). */
#define WASINFER_IMPLEMENTATION
#define WASINFER_HAS_INIT
#include "wasinfer.h"
#include "udfs.h"

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

WASINFER_DESCRIBE("{\"name\":\"ocr_det_pre\",\"version\":\"1.0.0\",\"language\":\"c\"}")

#define MAX_SIDE 8192

typedef struct cfg {
  char column[UDFS_MAX_NAME], output[UDFS_MAX_NAME], frame[UDFS_MAX_NAME];
  int64_t width, height, stride;
  int stretch, bgr;
  double mean[3], std[3], range;
} cfg;

static cfg g = {"image", "det_input", "det_frame", 640, 640, 32, 0, 1, {0.485, 0.456, 0.406}, {0.229, 0.224, 0.225}, 255};

static int read3(const wasinfer_json_object* it, double* out, int positive) {
  double v[3];
  size_t n = 0;
  if (wasinfer_json_number_array(it->value, it->value_len, v, 3, &n) != 0 || n == 0)
    return udfs_config_error(it, "an array of 1 to 3 numbers");
  for (size_t i = 0; i < n; i++)
    if (!isfinite(v[i]) || (positive && !(v[i] > 0)))
      return udfs_config_error(it, positive ? "finite numbers, each > 0" : "finite numbers");
  for (size_t i = 0; i < 3; i++) out[i] = v[i < n ? i : n - 1];
  return WASINFER_OK;
}

int wasinfer_udf_init(const char* config, size_t len) {
  cfg c = g;
  char resize[16] = "letterbox";
  int st = WASINFER_OK, r;
  wasinfer_json_object it;
  wasinfer_json_object_init(&it, config, len);
  while ((r = wasinfer_json_object_next(&it)) == 1) {
    if (strcmp(it.key, "column") == 0) st = udfs_config_string(&it, c.column, sizeof c.column);
    else if (strcmp(it.key, "output") == 0) st = udfs_config_string(&it, c.output, sizeof c.output);
    else if (strcmp(it.key, "frame") == 0) st = udfs_config_string(&it, c.frame, sizeof c.frame);
    else if (strcmp(it.key, "width") == 0) st = udfs_config_int(&it, 1, MAX_SIDE, &c.width);
    else if (strcmp(it.key, "height") == 0) st = udfs_config_int(&it, 1, MAX_SIDE, &c.height);
    else if (strcmp(it.key, "stride") == 0) st = udfs_config_int(&it, 1, 1024, &c.stride);
    else if (strcmp(it.key, "mean") == 0) st = read3(&it, c.mean, 0);
    else if (strcmp(it.key, "std") == 0) st = read3(&it, c.std, 1);
    else if (strcmp(it.key, "range") == 0) st = udfs_config_number(&it, 1e-6, 1e12, &c.range);
    else if (strcmp(it.key, "bgr") == 0) st = udfs_config_bool(&it, &c.bgr);
    else if (strcmp(it.key, "resize") == 0) {
      if (wasinfer_json_string(it.value, it.value_len, resize, sizeof resize, NULL) != 0 ||
          (strcmp(resize, "letterbox") != 0 && strcmp(resize, "stretch") != 0))
        st = udfs_config_error(&it, "\"letterbox\" or \"stretch\"");
    } else
      st = udfs_config_unknown(&it, "column, output, frame, width, height, stride, resize, mean, std, range, bgr");
    if (st != WASINFER_OK) return st;
  }
  if (r < 0) return udfs_config_malformed(&it);
  if (c.width % c.stride != 0 || c.height % c.stride != 0)
    return wasinfer_set_error_status(WASINFER_INVALID_CONFIG,
                                     "invalid config: width %lld and height %lld must be multiples of stride %lld "
                                     "(the detector downsamples by it)",
                                     (long long)c.width, (long long)c.height, (long long)c.stride);
  if (strcmp(c.output, c.frame) == 0)
    return wasinfer_set_error_status(WASINFER_INVALID_CONFIG, "invalid config: output and frame are both \"%s\"",
                                     c.output);
  c.stretch = strcmp(resize, "stretch") == 0;
  g = c;
  return WASINFER_OK;
}

/* Bilinear taps along one axis: output i of n reads source i0 and i0 + 1
 * (clamped to [0, size)) with weight f on the second. */
typedef struct tap {
  int32_t i0, i1;
  float f;
} tap;

static void taps(tap* t, int64_t n, int64_t size, float ratio) {
  for (int64_t i = 0; i < n; i++) {
    float s = ((float)i + 0.5f) * ratio - 0.5f;
    if (s < 0) s = 0;
    int64_t i0 = (int64_t)s;
    if (i0 > size - 1) i0 = size - 1;
    float f = s - (float)i0;
    int64_t i1 = i0 + 1 < size ? i0 + 1 : size - 1;
    if (i1 == i0) f = 0;
    t[i].i0 = (int32_t)i0;
    t[i].i1 = (int32_t)i1;
    t[i].f = f;
  }
}

int wasinfer_udf_transform(const struct ArrowSchema* in_schema, const struct ArrowArray* in,
                           struct ArrowSchema* out_schema, struct ArrowArray* out) {
  int64_t j;
  int st = udfs_find(in_schema, g.column, &j);
  if (st != WASINFER_OK) return st;
  udfs_tensor t;
  if ((st = udfs_read_tensor(in_schema->children[j], g.column, "C", 3, &t)) != WASINFER_OK) return st;
  const int64_t h = t.shape[0], w = t.shape[1], c = t.shape[2], n = t.size;
  if (c != 1 && c != 3 && c != 4)
    return wasinfer_set_error_status(WASINFER_UNSUPPORTED_INPUT,
                                     "column \"%s\": %lld channels; want 1 (gray), 3 (RGB) or 4 (RGBA)", g.column,
                                     (long long)c);
  if (h > 65536 || w > 65536)
    return wasinfer_set_error_status(WASINFER_UNSUPPORTED_INPUT, "column \"%s\": image %lld × %lld is too large",
                                     g.column, (long long)w, (long long)h);
  const int64_t W = g.width, H = g.height, plane = W * H;
  int64_t nw = W, nh = H;
  if (!g.stretch) {
    double s = (double)W / (double)w < (double)H / (double)h ? (double)W / (double)w : (double)H / (double)h;
    nw = (int64_t)floor((double)w * s + 0.5);
    nh = (int64_t)floor((double)h * s + 0.5);
    if (nw < 1) nw = 1;
    if (nh < 1) nh = 1;
    if (nw > W) nw = W;
    if (nh > H) nh = H;
  }
  const float rx = (float)((double)w / (double)nw), ry = (float)((double)h / (double)nh);
  float scale[3], bias[3];
  for (int k = 0; k < 3; k++) {
    scale[k] = (float)(1.0 / (g.range * g.std[k]));
    bias[k] = (float)(-g.mean[k] / g.std[k]);
  }
  /* The input channel of output channel k. */
  int64_t from[3];
  for (int k = 0; k < 3; k++) {
    int64_t ch = g.bgr ? 2 - k : k;
    from[k] = c == 1 ? 0 : ch;
  }

  const struct ArrowArray* list = in->children[j];
  const struct ArrowArray* items = list->children[0];
  const uint8_t* values = (const uint8_t*)items->buffers[1];
  const int64_t rows = in->length, row0 = list->offset + in->offset;

  tap* tx = (tap*)malloc((size_t)nw * sizeof(tap));
  tap* ty = (tap*)malloc((size_t)nh * sizeof(tap));
  if (tx == NULL || ty == NULL) {
    free(tx);
    free(ty);
    return wasinfer_set_error_status(WASINFER_OUT_OF_MEMORY, "out of memory: resampling taps");
  }
  taps(tx, nw, w, rx);
  taps(ty, nh, h, ry);

  int64_t shape[3] = {3, H, W};
  wasinfer_builder b;
  wasinfer_builder_init(&b, out_schema, out, rows, in_schema->metadata);
  wasinfer_builder_pass_all(&b, in_schema, in, -1);
  wasinfer_column col, fcol;
  float* dst = (float*)udfs_add_tensor(&b, &col, g.output, "f", 4, shape, 3, rows);
  int64_t fshape[1] = {4};
  float* frame = (float*)udfs_add_tensor(&b, &fcol, g.frame, "f", 4, fshape, 1, rows);
  uint8_t* valid = list->buffers[0] ? wasinfer_column_validity(col) : NULL;
  uint8_t* fvalid = list->buffers[0] ? wasinfer_column_validity(fcol) : NULL;
  if (b.status != WASINFER_OK) {
    free(tx);
    free(ty);
    return wasinfer_builder_finish(&b);
  }
  int64_t nulls = 0;
  for (int64_t r = 0; r < rows; r++) {
    float* o = dst + r * 3 * plane;
    float* fr = frame + r * 4;
    if (valid && !wasinfer_bit_get(list->buffers[0], row0 + r)) {
      memset(o, 0, (size_t)(3 * plane) * sizeof(float));
      memset(fr, 0, 4 * sizeof(float));
      wasinfer_bit_set(valid, r, 0);
      wasinfer_bit_set(fvalid, r, 0);
      nulls++;
      continue;
    }
    fr[0] = rx;
    fr[1] = ry;
    fr[2] = (float)w;
    fr[3] = (float)h;
    const uint8_t* src = values + items->offset + (row0 + r) * n;
    for (int k = 0; k < 3; k++) {
      float* d = o + k * plane;
      const uint8_t* s = src + from[k];
      const float sc = scale[k], bi = bias[k];
      for (int64_t y = 0; y < H; y++) {
        float* line = d + y * W;
        if (y >= nh) {
          memset(line, 0, (size_t)W * sizeof(float));
          continue;
        }
        const uint8_t* r0 = s + (int64_t)ty[y].i0 * w * c;
        const uint8_t* r1 = s + (int64_t)ty[y].i1 * w * c;
        const float fy = ty[y].f, gy = 1.0f - fy;
        for (int64_t x = 0; x < nw; x++) {
          const int64_t a = (int64_t)tx[x].i0 * c, bb = (int64_t)tx[x].i1 * c;
          const float fx = tx[x].f, gx = 1.0f - fx;
          float top = (float)r0[a] * gx + (float)r0[bb] * fx;
          float bot = (float)r1[a] * gx + (float)r1[bb] * fx;
          float v = top * gy + bot * fy;
          float x1 = v * sc;
          line[x] = x1 + bi;
        }
        if (nw < W) memset(line + nw, 0, (size_t)(W - nw) * sizeof(float));
      }
    }
  }
  if (valid) {
    col.array->null_count = nulls;
    fcol.array->null_count = nulls;
  }
  free(tx);
  free(ty);
  return wasinfer_builder_finish(&b);
}
