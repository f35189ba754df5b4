/* nms: non-maximum suppression of object detections, per row.
 *
 * Input: each row's detections, [x1, y1, x2, y2, score] or [x1, y1, x2, y2,
 * score, class], as a list<fixed_size_list<float32>[5 or 6]> or a float32
 * tensor [N, 5 or 6]. With box_format "cxcywh" the first four are centre
 * x, centre y, width, height (YOLO), and are kept so in the output.
 *
 * Per row: detections whose score is below score_threshold (or NaN) are
 * dropped; the rest are taken by decreasing score (ties: the lower index
 * first) and each is kept unless its IoU with a kept detection (of the same
 * class, with class_aware and 6 values) is above iou_threshold; at most
 * max_detections are kept (0: no limit). IoU = intersection / union in
 * float64, 0 when the union is not positive.
 *
 * Output, after every input column: `detections` (list<fixed_size_list<
 * float32>[5 or 6]>, the kept detections by decreasing score) and `keep`
 * (list<int32>, their indices in the row). A null row gives nulls.
 *
 * Config: column ("detections"), output ("nms"), keep ("keep"),
 * iou_threshold (0.5), score_threshold (0), max_detections (300),
 * class_aware (true), box_format ("xyxy" or "cxcywh"). */
#define WASINFER_IMPLEMENTATION
#define WASINFER_HAS_INIT
#include "wasinfer.h"
#include "udfs.h"

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

WASINFER_DESCRIBE("{\"name\":\"nms\",\"version\":\"1.0.0\",\"language\":\"c\"}")

static char g_column[UDFS_MAX_NAME] = "detections";
static char g_output[UDFS_MAX_NAME] = "nms";
static char g_keep[UDFS_MAX_NAME] = "keep";
static double g_iou = 0.5, g_score = 0;
static int64_t g_max = 300;
static int g_class_aware = 1, g_cxcywh = 0;

int wasinfer_udf_init(const char* config, size_t len) {
  char column[UDFS_MAX_NAME] = "detections", output[UDFS_MAX_NAME] = "nms", keep[UDFS_MAX_NAME] = "keep", fmt[16] = "xyxy";
  double iou = 0.5, score = 0;
  int64_t mx = 300;
  int aware = 1, st = WASINFER_OK, r;
  wasinfer_json_object it;
  wasinfer_json_object_init(&it, config, len);
  while ((r = wasinfer_json_object_next(&it)) == 1) {
    if (strcmp(it.key, "column") == 0) st = udfs_config_string(&it, column, sizeof column);
    else if (strcmp(it.key, "output") == 0) st = udfs_config_string(&it, output, sizeof output);
    else if (strcmp(it.key, "keep") == 0) st = udfs_config_string(&it, keep, sizeof keep);
    else if (strcmp(it.key, "iou_threshold") == 0) st = udfs_config_number(&it, 0, 1, &iou);
    else if (strcmp(it.key, "score_threshold") == 0) st = udfs_config_number(&it, -1e30, 1e30, &score);
    else if (strcmp(it.key, "max_detections") == 0) st = udfs_config_int(&it, 0, 1 << 24, &mx);
    else if (strcmp(it.key, "class_aware") == 0) st = udfs_config_bool(&it, &aware);
    else if (strcmp(it.key, "box_format") == 0) {
      if (wasinfer_json_string(it.value, it.value_len, fmt, sizeof fmt, NULL) != 0 ||
          (strcmp(fmt, "xyxy") != 0 && strcmp(fmt, "cxcywh") != 0))
        st = udfs_config_error(&it, "\"xyxy\" or \"cxcywh\"");
    } else
      st = udfs_config_unknown(&it, "column, output, keep, iou_threshold, score_threshold, max_detections, class_aware, box_format");
    if (st != WASINFER_OK) return st;
  }
  if (r < 0) return udfs_config_malformed(&it);
  if (strcmp(output, keep) == 0)
    return wasinfer_set_error_status(WASINFER_INVALID_CONFIG, "invalid config: \"output\" and \"keep\" are both \"%s\"", keep);
  memcpy(g_column, column, sizeof column);
  memcpy(g_output, output, sizeof output);
  memcpy(g_keep, keep, sizeof keep);
  g_iou = iou, g_score = score, g_max = mx, g_class_aware = aware;
  g_cxcywh = strcmp(fmt, "cxcywh") == 0;
  return WASINFER_OK;
}

/* Corners of detection d (width w floats). */
static void corners(const float* d, double* b) {
  if (g_cxcywh) {
    double hw = (double)d[2] / 2, hh = (double)d[3] / 2;
    b[0] = (double)d[0] - hw, b[1] = (double)d[1] - hh, b[2] = (double)d[0] + hw, b[3] = (double)d[1] + hh;
  } else {
    b[0] = d[0], b[1] = d[1], b[2] = d[2], b[3] = d[3];
  }
}

static double iou(const double* a, const double* b) {
  double ix = (a[2] < b[2] ? a[2] : b[2]) - (a[0] > b[0] ? a[0] : b[0]);
  double iy = (a[3] < b[3] ? a[3] : b[3]) - (a[1] > b[1] ? a[1] : b[1]);
  if (!(ix > 0) || !(iy > 0)) return 0;
  double inter = ix * iy;
  double wa = a[2] - a[0], ha = a[3] - a[1], wb = b[2] - b[0], hb = b[3] - b[1];
  double area_a = (wa > 0 ? wa : 0) * (ha > 0 ? ha : 0);
  double area_b = (wb > 0 ? wb : 0) * (hb > 0 ? hb : 0);
  double uni = area_a + area_b;
  uni = uni - inter;
  if (!(uni > 0)) return 0;
  return inter / uni;
}

/* The row being sorted: indices by decreasing score, then index. */
static const float* g_sort_rows;
static int64_t g_sort_w;
static int by_score(const void* x, const void* y) {
  int32_t i = *(const int32_t*)x, j = *(const int32_t*)y;
  float a = g_sort_rows[i * g_sort_w + 4], b = g_sort_rows[j * g_sort_w + 4];
  if (a > b) return -1;
  if (a < b) return 1;
  return i < j ? -1 : i > j;
}

int wasinfer_udf_transform(const struct ArrowSchema* in_schema, const struct ArrowArray* in,
                           struct ArrowSchema* out_schema, struct ArrowArray* out) {
  int64_t j;
  int st = udfs_find(in_schema, g_column, &j);
  if (st != WASINFER_OK) return st;
  const struct ArrowSchema* f = in_schema->children[j];
  const struct ArrowArray* a = in->children[j];
  const int64_t rows = in->length;
  int64_t w, fixed_n = -1;
  const float* vals;
  const int32_t* offs = NULL;
  int64_t row0 = a->offset + in->offset;
  if (strcmp(f->format, "+l") == 0 && f->n_children == 1 && strncmp(f->children[0]->format, "+w:", 3) == 0 &&
      f->children[0]->n_children == 1 && strcmp(f->children[0]->children[0]->format, "f") == 0) {
    w = strtoll(f->children[0]->format + 3, NULL, 10);
    const struct ArrowArray* fsl = a->children[0];
    vals = (const float*)fsl->children[0]->buffers[1] + fsl->children[0]->offset + fsl->offset * w;
    offs = (const int32_t*)a->buffers[1];
  } else {
    udfs_tensor t;
    if (strncmp(f->format, "+w:", 3) != 0 ||
        (st = udfs_read_tensor(f, g_column, "f", 2, &t)) != WASINFER_OK) {
      if (st == WASINFER_OK || strncmp(f->format, "+w:", 3) != 0)
        return wasinfer_set_error_status(WASINFER_UNSUPPORTED_INPUT,
                                         "column \"%s\": format \"%s\"; want list<fixed_size_list<float32>[5 or 6]> "
                                         "or a float32 tensor [N, 5 or 6]",
                                         g_column, f->format);
      return st;
    }
    w = t.shape[1];
    fixed_n = t.shape[0];
    vals = (const float*)a->children[0]->buffers[1] + a->children[0]->offset;
  }
  if (w != 5 && w != 6)
    return wasinfer_set_error_status(WASINFER_UNSUPPORTED_INPUT,
                                     "column \"%s\": %lld values per detection; want 5 (box, score) or 6 (box, score, class)",
                                     g_column, (long long)w);
  /* First pass: the kept indices of every row, in one array. */
  int64_t total = 0;
  for (int64_t r = 0; r < rows; r++) total += fixed_n >= 0 ? fixed_n : offs[row0 + r + 1] - offs[row0 + r];
  int32_t* kept = (int32_t*)malloc((size_t)(total ? total : 1) * sizeof(int32_t));
  int32_t* order = (int32_t*)malloc((size_t)(total ? total : 1) * sizeof(int32_t));
  double* box = (double*)malloc((size_t)(total ? total : 1) * 4 * sizeof(double));
  int32_t* counts = (int32_t*)malloc((size_t)(rows ? rows : 1) * sizeof(int32_t));
  if (!kept || !order || !box || !counts) {
    free(kept), free(order), free(box), free(counts);
    return wasinfer_set_error_status(WASINFER_OUT_OF_MEMORY, "out of memory for %lld detections", (long long)total);
  }
  int64_t nk = 0;
  for (int64_t r = 0; r < rows; r++) {
    counts[r] = 0;
    if (!wasinfer_array_is_valid(a, in->offset + r)) continue;
    int64_t start = fixed_n >= 0 ? (row0 + r) * fixed_n : offs[row0 + r];
    int64_t n = fixed_n >= 0 ? fixed_n : offs[row0 + r + 1] - start;
    const float* d = vals + start * w;
    int64_t m = 0;
    for (int64_t i = 0; i < n; i++)
      if (d[i * w + 4] >= g_score) order[m++] = (int32_t)i;
    g_sort_rows = d, g_sort_w = w;
    qsort(order, (size_t)m, sizeof(int32_t), by_score);
    for (int64_t i = 0; i < m && (g_max == 0 || counts[r] < g_max); i++) {
      double bi[4];
      corners(d + order[i] * w, bi);
      int ok = 1;
      for (int64_t k = 0; k < counts[r] && ok; k++) {
        int32_t q = kept[nk + k];
        if (g_class_aware && w == 6 && d[q * w + 5] != d[order[i] * w + 5]) continue;
        if (iou(box + (nk + k) * 4, bi) > g_iou) ok = 0;
      }
      if (!ok) continue;
      memcpy(box + (nk + counts[r]) * 4, bi, sizeof bi);
      kept[nk + counts[r]++] = order[i];
    }
    nk += counts[r];
  }
  free(order);
  free(box);

  wasinfer_builder b;
  wasinfer_builder_init(&b, out_schema, out, rows, in_schema->metadata);
  wasinfer_builder_pass_all(&b, in_schema, in, -1);
  char fmt[16];
  snprintf(fmt, sizeof fmt, "+w:%lld", (long long)w);
  wasinfer_column dc = wasinfer_builder_add(&b, g_output, "+l", ARROW_FLAG_NULLABLE);
  int32_t* doff = (int32_t*)wasinfer_column_alloc_buffer(dc, 1, (rows + 1) * 4);
  wasinfer_column di = wasinfer_column_add_child(dc, "item", fmt, ARROW_FLAG_NULLABLE);
  if (di.array) di.array->length = nk;
  wasinfer_column dv = wasinfer_column_add_child(di, "item", "f", ARROW_FLAG_NULLABLE);
  if (dv.array) dv.array->length = nk * w;
  float* dvals = (float*)wasinfer_column_alloc_buffer(dv, 1, nk * w * 4);
  wasinfer_column kc = wasinfer_builder_add(&b, g_keep, "+l", ARROW_FLAG_NULLABLE);
  int32_t* koff = (int32_t*)wasinfer_column_alloc_buffer(kc, 1, (rows + 1) * 4);
  wasinfer_column ki = wasinfer_column_add_child(kc, "item", "i", ARROW_FLAG_NULLABLE);
  if (ki.array) ki.array->length = nk;
  int32_t* kvals = (int32_t*)wasinfer_column_alloc_buffer(ki, 1, nk * 4);
  uint8_t* dvalid = a->buffers[0] ? wasinfer_column_validity(dc) : NULL;
  uint8_t* kvalid = a->buffers[0] ? wasinfer_column_validity(kc) : NULL;
  if (b.status != WASINFER_OK) {
    free(kept), free(counts);
    return wasinfer_builder_finish(&b);
  }
  int64_t p = 0;
  doff[0] = koff[0] = 0;
  for (int64_t r = 0; r < rows; r++) {
    int64_t start = fixed_n >= 0 ? (row0 + r) * fixed_n : (offs ? offs[row0 + r] : 0);
    const float* d = vals + start * w;
    for (int32_t k = 0; k < counts[r]; k++, p++) {
      kvals[p] = kept[p];
      memcpy(dvals + p * w, d + kept[p] * w, (size_t)w * sizeof(float));
    }
    doff[r + 1] = koff[r + 1] = (int32_t)p;
    if (dvalid && !wasinfer_array_is_valid(a, in->offset + r)) wasinfer_bit_set(dvalid, r, 0), wasinfer_bit_set(kvalid, r, 0);
  }
  free(kept), free(counts);
  return wasinfer_builder_finish(&b);
}
