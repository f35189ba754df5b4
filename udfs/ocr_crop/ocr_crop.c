/* ocr_crop: cut each row's text box out of its image and make it the input
 * of a text recognizer such as PaddleOCR's CRNN/SVTR: float32 CHW of a fixed
 * height, resized with its aspect ratio kept to at most `width` pixels, and
 * padded to `width` on the right, so that every row of every batch has one
 * shape (a model runs a batch as one tensor; a stage's schema is fixed).
 *
 * Per row, with the box's corners tl, tr, br, bl (image pixels):
 *
 *   bw = max(|tl tr|, |bl br|), bh = max(|tl bl|, |tr br|)
 *   a box with bh >= rotate * bw is read turned a quarter counter-clockwise
 *     (tr, br, bl, tl become tl, tr, br, bl; bw and bh swap), as PaddleOCR
 *     does for vertical text;
 *   out width  ow = min(width, max(1, ceil(height * bw / bh)))
 *   out pixel (x, y), x < ow, samples the image bilinearly (pixel centres at
 *     +0.5, edges replicated) at the point of the box
 *       (1-a)(1-b) tl + a(1-b) tr + a b br + (1-a) b bl,
 *       a = (x + 0.5) / ow, b = (y + 0.5) / height
 *     and is normalized as ocr_det_pre does: v * scale[c] + bias[c];
 *   pixels x >= ow are `pad` (0: the mean colour after normalization).
 *
 * The output columns are the crop, float32 [3, height, width], and its
 * valid width ow (int32). A null image or box gives a null crop (all pad)
 * and width 0; a box with a non-finite corner or a side shorter than 1
 * pixel gives an all-pad crop and width 0. The image column is dropped
 * (set keep_image to pass it on); every other input column passes through.
 *
 * Config (all optional): column ("image"), box ("box"), output ("crop"),
 * width_output ("crop_width"), height (48), width (320), rotate (1.5; 0: never),
 * mean ([0.5]), std ([0.5]), range (255), bgr (true), pad (0), keep_image
 * (false). */
#define WASINFER_IMPLEMENTATION
#define WASINFER_HAS_INIT
#include "wasinfer.h"
#include "udfs.h"

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

WASINFER_DESCRIBE("{\"name\":\"ocr_crop\",\"version\":\"1.0.0\",\"language\":\"c\"}")

typedef struct cfg {
  char column[UDFS_MAX_NAME], box[UDFS_MAX_NAME], output[UDFS_MAX_NAME], width_output[UDFS_MAX_NAME];
  int64_t height, width;
  double rotate, mean[3], std[3], range, pad;
  int bgr, keep_image;
} cfg;

static cfg g = {"image", "box", "crop", "crop_width", 48, 320, 1.5, {0.5, 0.5, 0.5}, {0.5, 0.5, 0.5}, 255, 0, 1, 0};

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
  int st = WASINFER_OK, r;
  wasinfer_json_object it;
  wasinfer_json_object_init(&it, config, len);
  while ((r = wasinfer_json_object_next(&it)) == 1) {
    if (strcmp(it.key, "column") == 0) st = udfs_config_string(&it, c.column, sizeof c.column);
    else if (strcmp(it.key, "box") == 0) st = udfs_config_string(&it, c.box, sizeof c.box);
    else if (strcmp(it.key, "output") == 0) st = udfs_config_string(&it, c.output, sizeof c.output);
    else if (strcmp(it.key, "width_output") == 0) st = udfs_config_string(&it, c.width_output, sizeof c.width_output);
    else if (strcmp(it.key, "height") == 0) st = udfs_config_int(&it, 1, 1024, &c.height);
    else if (strcmp(it.key, "width") == 0) st = udfs_config_int(&it, 1, 8192, &c.width);
    else if (strcmp(it.key, "rotate") == 0) st = udfs_config_number(&it, 0, 1e6, &c.rotate);
    else if (strcmp(it.key, "mean") == 0) st = read3(&it, c.mean, 0);
    else if (strcmp(it.key, "std") == 0) st = read3(&it, c.std, 1);
    else if (strcmp(it.key, "range") == 0) st = udfs_config_number(&it, 1e-6, 1e12, &c.range);
    else if (strcmp(it.key, "pad") == 0) st = udfs_config_number(&it, -1e30, 1e30, &c.pad);
    else if (strcmp(it.key, "bgr") == 0) st = udfs_config_bool(&it, &c.bgr);
    else if (strcmp(it.key, "keep_image") == 0) st = udfs_config_bool(&it, &c.keep_image);
    else
      st = udfs_config_unknown(&it, "column, box, output, width_output, height, width, rotate, mean, std, range, pad, bgr, keep_image");
    if (st != WASINFER_OK) return st;
  }
  if (r < 0) return udfs_config_malformed(&it);
  if (strcmp(c.output, c.width_output) == 0)
    return wasinfer_set_error_status(WASINFER_INVALID_CONFIG, "invalid config: output and width_output are both \"%s\"", c.output);
  g = c;
  return WASINFER_OK;
}

typedef struct pt {
  double x, y;
} pt;

static double dist(pt a, pt b) { return sqrt((a.x - b.x) * (a.x - b.x) + (a.y - b.y) * (a.y - b.y)); }

/* Reads box row r (8 floats: tl, tr, br, bl); 0 when a corner is not finite. */
static int read_box(const float* v, pt q[4]) {
  for (int k = 0; k < 4; k++) {
    if (!isfinite(v[2 * k]) || !isfinite(v[2 * k + 1])) return 0;
    q[k].x = v[2 * k];
    q[k].y = v[2 * k + 1];
  }
  return 1;
}

/* Clamps a sample coordinate to [0, n - 1]; NaN to 0. */
static double clampc(double s, int64_t n) { return s > 0 ? (s < (double)(n - 1) ? s : (double)(n - 1)) : 0; }

int wasinfer_udf_transform(const struct ArrowSchema* in_schema, const struct ArrowArray* in,
                           struct ArrowSchema* out_schema, struct ArrowArray* out) {
  int64_t ji, jb;
  int st = udfs_find(in_schema, g.column, &ji);
  if (st == WASINFER_OK) st = udfs_find(in_schema, g.box, &jb);
  if (st != WASINFER_OK) return st;
  udfs_tensor ti, tb;
  if ((st = udfs_read_tensor(in_schema->children[ji], g.column, "C", 3, &ti)) != WASINFER_OK) return st;
  const int64_t ih = ti.shape[0], iw = ti.shape[1], ic = ti.shape[2], n = ti.size;
  if (ic != 1 && ic != 3 && ic != 4)
    return wasinfer_set_error_status(WASINFER_UNSUPPORTED_INPUT, "column \"%s\": %lld channels; want 1 (gray), 3 (RGB) or 4 (RGBA)",
                                     g.column, (long long)ic);
  if ((st = udfs_read_tensor(in_schema->children[jb], g.box, "f", 0, &tb)) != WASINFER_OK) return st;
  if (tb.size != 8)
    return wasinfer_set_error_status(WASINFER_UNSUPPORTED_INPUT, "column \"%s\": a box of 4 corners (tensor [4, 2]) is required, not %lld values",
                                     g.box, (long long)tb.size);
  for (int64_t i = 0; i < in_schema->n_children; i++) {
    const char* name = in_schema->children[i]->name ? in_schema->children[i]->name : "";
    if ((i != ji || g.keep_image) && (strcmp(name, g.output) == 0 || strcmp(name, g.width_output) == 0))
      return wasinfer_set_error_status(WASINFER_UNSUPPORTED_INPUT,
                                       "column \"%s\": the input already has a column of that name (rename the output in the config)", name);
  }
  const int64_t OH = g.height, OW = g.width, plane = OH * OW;
  float scale[3], bias[3], pad = (float)g.pad;
  int64_t from[3];
  for (int k = 0; k < 3; k++) {
    scale[k] = (float)(1.0 / (g.range * g.std[k]));
    bias[k] = (float)(-g.mean[k] / g.std[k]);
    from[k] = ic == 1 ? 0 : (g.bgr ? 2 - k : k);
  }
  const struct ArrowArray* ia = in->children[ji];
  const struct ArrowArray* ba = in->children[jb];
  const uint8_t* iv = (const uint8_t*)ia->children[0]->buffers[1] + ia->children[0]->offset;
  const float* bv = (const float*)ba->children[0]->buffers[1] + ba->children[0]->offset;
  const int64_t rows = in->length, irow0 = ia->offset + in->offset, brow0 = ba->offset + in->offset;

  int64_t shape[3] = {3, OH, OW};
  wasinfer_builder b;
  wasinfer_builder_init(&b, out_schema, out, rows, in_schema->metadata);
  wasinfer_builder_pass_all(&b, in_schema, in, g.keep_image ? -1 : ji);
  wasinfer_column cc, cw;
  float* dst = (float*)udfs_add_tensor(&b, &cc, g.output, "f", 4, shape, 3, rows);
  cw = wasinfer_builder_add(&b, g.width_output, "i", ARROW_FLAG_NULLABLE);
  int32_t* wv = (int32_t*)wasinfer_column_alloc_buffer(cw, 1, rows * 4);
  const int nullable = ia->buffers[0] != NULL || ba->buffers[0] != NULL;
  uint8_t* valid = nullable ? wasinfer_column_validity(cc) : NULL;
  uint8_t* wvalid = nullable ? wasinfer_column_validity(cw) : NULL;
  if (b.status != WASINFER_OK) return wasinfer_builder_finish(&b);
  int64_t nulls = 0;
  for (int64_t r = 0; r < rows; r++) {
    float* o = dst + r * 3 * plane;
    wv[r] = 0;
    int ok = wasinfer_array_is_valid(ia, in->offset + r) && wasinfer_array_is_valid(ba, in->offset + r);
    if (!ok) {
      wasinfer_bit_set(valid, r, 0);
      wasinfer_bit_set(wvalid, r, 0);
      nulls++;
    }
    pt q[4];
    int64_t ow = 0;
    if (ok && read_box(bv + (brow0 + r) * 8, q)) {
      double bw = fmax(dist(q[0], q[1]), dist(q[3], q[2])), bh = fmax(dist(q[0], q[3]), dist(q[1], q[2]));
      if (g.rotate > 0 && bh >= g.rotate * bw) {
        pt t = q[0];
        q[0] = q[1], q[1] = q[2], q[2] = q[3], q[3] = t;
        double s = bw;
        bw = bh, bh = s;
      }
      if (bw >= 1 && bh >= 1 && isfinite(bw) && isfinite(bh)) {
        double want = ceil((double)OH * bw / bh);
        ow = want < 1 ? 1 : (want > (double)OW ? OW : (int64_t)want);
      }
    }
    for (int64_t i = 0; i < 3 * plane; i++) o[i] = pad;
    wv[r] = (int32_t)ow;
    if (ow == 0) continue;
    const uint8_t* src = iv + (irow0 + r) * n;
    for (int64_t y = 0; y < OH; y++) {
      const double bb = ((double)y + 0.5) / (double)OH;
      for (int64_t x = 0; x < ow; x++) {
        const double a = ((double)x + 0.5) / (double)ow;
        const double w0 = (1 - a) * (1 - bb), w1 = a * (1 - bb), w2 = a * bb, w3 = (1 - a) * bb;
        double px = w0 * q[0].x + w1 * q[1].x + w2 * q[2].x + w3 * q[3].x - 0.5;
        double py = w0 * q[0].y + w1 * q[1].y + w2 * q[2].y + w3 * q[3].y - 0.5;
        px = clampc(px, iw);
        py = clampc(py, ih);
        int64_t x0 = (int64_t)px, y0 = (int64_t)py;
        int64_t x1 = x0 + 1 < iw ? x0 + 1 : x0, y1 = y0 + 1 < ih ? y0 + 1 : y0;
        const float fx = (float)(px - (double)x0), fy = (float)(py - (double)y0);
        const uint8_t *p00 = src + (y0 * iw + x0) * ic, *p01 = src + (y0 * iw + x1) * ic;
        const uint8_t *p10 = src + (y1 * iw + x0) * ic, *p11 = src + (y1 * iw + x1) * ic;
        for (int k = 0; k < 3; k++) {
          const int64_t ch = from[k];
          float top = (float)p00[ch] * (1.0f - fx) + (float)p01[ch] * fx;
          float bot = (float)p10[ch] * (1.0f - fx) + (float)p11[ch] * fx;
          float v = top * (1.0f - fy) + bot * fy;
          float s = v * scale[k];
          o[k * plane + y * OW + x] = s + bias[k];
        }
      }
    }
  }
  if (nullable) {
    cc.array->null_count = nulls;
    cw.array->null_count = nulls;
  }
  return wasinfer_builder_finish(&b);
}
