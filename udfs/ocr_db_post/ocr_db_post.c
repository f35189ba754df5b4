/* ocr_db_post: the post-processing of a DB text detector (PaddleOCR's
 * DBPostProcess): probability map -> text-line boxes. One image row becomes
 * one row per box found (none when it has no text), in reading order, and
 * every other input column is copied to each of its boxes' rows — so the
 * image itself travels on, for a crop stage (udfs_take in udfs.h: a tensor
 * row is one memcpy; every column type but maps, unions and views).
 *
 * Per image, on the map P (H × W, values clamped to [0, 1], NaN as 0):
 *
 *  1. binarize: P > thresh;
 *  2. connected components (8-neighbour), in row-major order of their
 *     first pixel;
 *  3. per component, the minimum-area rectangle of its pixels (rotating
 *     calipers over the convex hull of each pixel row's two ends; pixel
 *     (x, y) is the point (x, y)); its corners are ordered top-left,
 *     top-right, bottom-right, bottom-left as PaddleOCR's get_mini_boxes
 *     does; a rectangle whose short side is < min_size is dropped;
 *  4. score: the mean of P over the pixels whose point lies inside the
 *     rectangle; a box scoring < box_thresh is dropped;
 *  5. unclip: the rectangle grows by d = area * unclip_ratio / perimeter on
 *     every side (the minimum-area rectangle of the polygon offset by d,
 *     which is what PaddleOCR's pyclipper offset gives), and is dropped when
 *     its short side is < min_size + 2;
 *  6. to image coordinates with the frame (x * sx, y * sy; see
 *     ocr_det_pre), clipped to the w × h image;
 *  7. reading order: sorted by the top-left corner's (y, x), then a box whose
 *     top-left y is within 10 pixels of the previous box's and lies left of
 *     it moves before it (PaddleOCR's sorted_boxes).
 *
 * At most max_boxes boxes are kept per image (the first found). Outputs,
 * after the copied columns: box, float32 tensor [4, 2] (the corners, x and
 * y, in image pixels), box_score (float32) and line (int32, the box's
 * index in its image's reading order). The probability column is dropped.
 * A null map or a null frame gives no rows.
 *
 * Config (all optional): column ("prob"), frame ("det_frame"), box ("box"),
 * score ("box_score"), line ("line"), thresh (0.3), box_thresh (0.6),
 * unclip_ratio (1.5), min_size (3), max_boxes (1000). */
#define WASINFER_IMPLEMENTATION
#define WASINFER_HAS_INIT
#include "wasinfer.h"
#include "udfs.h"

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

WASINFER_DESCRIBE("{\"name\":\"ocr_db_post\",\"version\":\"1.0.0\",\"language\":\"c\"}")

typedef struct cfg {
  char column[UDFS_MAX_NAME], frame[UDFS_MAX_NAME], box[UDFS_MAX_NAME], score[UDFS_MAX_NAME], line[UDFS_MAX_NAME];
  double thresh, box_thresh, unclip_ratio, min_size;
  int64_t max_boxes;
} cfg;

static cfg g = {"prob", "det_frame", "box", "box_score", "line", 0.3, 0.6, 1.5, 3, 1000};

int wasinfer_udf_init(const char* config, size_t len) {
  cfg c = g;
  int st = WASINFER_OK, r;
  wasinfer_json_object it;
  wasinfer_json_object_init(&it, config, len);
  while ((r = wasinfer_json_object_next(&it)) == 1) {
    if (strcmp(it.key, "column") == 0) st = udfs_config_string(&it, c.column, sizeof c.column);
    else if (strcmp(it.key, "frame") == 0) st = udfs_config_string(&it, c.frame, sizeof c.frame);
    else if (strcmp(it.key, "box") == 0) st = udfs_config_string(&it, c.box, sizeof c.box);
    else if (strcmp(it.key, "score") == 0) st = udfs_config_string(&it, c.score, sizeof c.score);
    else if (strcmp(it.key, "line") == 0) st = udfs_config_string(&it, c.line, sizeof c.line);
    else if (strcmp(it.key, "thresh") == 0) st = udfs_config_number(&it, 0, 1, &c.thresh);
    else if (strcmp(it.key, "box_thresh") == 0) st = udfs_config_number(&it, 0, 1, &c.box_thresh);
    else if (strcmp(it.key, "unclip_ratio") == 0) st = udfs_config_number(&it, 0, 100, &c.unclip_ratio);
    else if (strcmp(it.key, "min_size") == 0) st = udfs_config_number(&it, 0, 1e6, &c.min_size);
    else if (strcmp(it.key, "max_boxes") == 0) st = udfs_config_int(&it, 1, 1000000, &c.max_boxes);
    else
      st = udfs_config_unknown(&it, "column, frame, box, score, line, thresh, box_thresh, unclip_ratio, min_size, max_boxes");
    if (st != WASINFER_OK) return st;
  }
  if (r < 0) return udfs_config_malformed(&it);
  if (strcmp(c.box, c.score) == 0 || strcmp(c.box, c.line) == 0 || strcmp(c.score, c.line) == 0)
    return wasinfer_set_error_status(WASINFER_INVALID_CONFIG, "invalid config: box, score and line must be three different column names");
  g = c;
  return WASINFER_OK;
}

/* ---- geometry ------------------------------------------------------------------- */

typedef struct pt {
  double x, y;
} pt;

/* A found box: corners tl, tr, br, bl in image pixels. */
typedef struct box {
  float p[8];
  float score;
  int64_t row; /* input row */
} box;

static double cross(pt o, pt a, pt b) { return (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x); }

static int pt_less(pt a, pt b) { return a.x < b.x || (a.x == b.x && a.y < b.y); }

/* Sorts p[0..n) by (x, y): a bottom-up merge sort, stable, O(n log n). */
static void sort_points(pt* p, int64_t n, pt* tmp) {
  for (int64_t width = 1; width < n; width *= 2) {
    for (int64_t i = 0; i < n; i += 2 * width) {
      int64_t a = i, am = i + width < n ? i + width : n, bm = i + 2 * width < n ? i + 2 * width : n, b = am, k = i;
      while (a < am && b < bm) tmp[k++] = pt_less(p[b], p[a]) ? p[b++] : p[a++];
      while (a < am) tmp[k++] = p[a++];
      while (b < bm) tmp[k++] = p[b++];
    }
    memcpy(p, tmp, (size_t)n * sizeof(pt));
  }
}

/* Andrew's monotone chain over sorted, distinct points; writes the hull
 * (counter-clockwise in a y-up frame) to h and returns its size. */
static int64_t hull(const pt* p, int64_t n, pt* h) {
  if (n < 3) {
    for (int64_t i = 0; i < n; i++) h[i] = p[i];
    return n;
  }
  int64_t k = 0;
  for (int64_t i = 0; i < n; i++) {
    while (k >= 2 && cross(h[k - 2], h[k - 1], p[i]) <= 0) k--;
    h[k++] = p[i];
  }
  for (int64_t i = n - 2, t = k + 1; i >= 0; i--) {
    while (k >= t && cross(h[k - 2], h[k - 1], p[i]) <= 0) k--;
    h[k++] = p[i];
  }
  return k - 1;
}

/* A rectangle: centre-free form, as extents along the unit axes u and v. */
typedef struct rect {
  double ux, uy;             /* u; v = (-uy, ux) */
  double u0, u1, v0, v1;     /* extents along u and v */
} rect;

/* The minimum-area rectangle around the hull h[0..n), n >= 3. */
static rect min_area_rect(const pt* h, int64_t n) {
  rect best = {1, 0, 0, 0, 0, 0};
  double best_area = -1;
  for (int64_t i = 0; i < n; i++) {
    pt a = h[i], b = h[(i + 1) % n];
    double ex = b.x - a.x, ey = b.y - a.y, len = sqrt(ex * ex + ey * ey);
    if (!(len > 0)) continue;
    double ux = ex / len, uy = ey / len;
    double u0 = INFINITY, u1 = -INFINITY, v0 = INFINITY, v1 = -INFINITY;
    for (int64_t k = 0; k < n; k++) {
      double du = h[k].x * ux + h[k].y * uy;
      double dv = h[k].y * ux - h[k].x * uy;
      if (du < u0) u0 = du;
      if (du > u1) u1 = du;
      if (dv < v0) v0 = dv;
      if (dv > v1) v1 = dv;
    }
    double area = (u1 - u0) * (v1 - v0);
    if (best_area < 0 || area < best_area) {
      best_area = area;
      best.ux = ux, best.uy = uy, best.u0 = u0, best.u1 = u1, best.v0 = v0, best.v1 = v1;
    }
  }
  return best;
}

static pt rect_corner(const rect* r, double u, double v) {
  pt p = {u * r->ux - v * r->uy, u * r->uy + v * r->ux};
  return p;
}

/* PaddleOCR's get_mini_boxes: the corners sorted by x (stably), then the
 * left pair and the right pair each split by y: out = tl, tr, br, bl. */
static void mini_box(const rect* r, pt out[4]) {
  pt c[4] = {rect_corner(r, r->u0, r->v0), rect_corner(r, r->u1, r->v0), rect_corner(r, r->u1, r->v1),
             rect_corner(r, r->u0, r->v1)};
  for (int i = 1; i < 4; i++) /* stable insertion sort by x */
    for (int k = i; k > 0 && c[k].x < c[k - 1].x; k--) {
      pt t = c[k];
      c[k] = c[k - 1];
      c[k - 1] = t;
    }
  if (c[1].y > c[0].y) out[0] = c[0], out[3] = c[1];
  else out[0] = c[1], out[3] = c[0];
  if (c[3].y > c[2].y) out[1] = c[2], out[2] = c[3];
  else out[1] = c[3], out[2] = c[2];
}

static float clamp01(float v) { return v > 0 ? (v < 1 ? v : 1) : 0; } /* NaN -> 0 */

/* The mean of P over the pixels whose point lies inside the convex quad q. */
static double quad_mean(const float* P, int64_t H, int64_t W, const pt q[4]) {
  double minx = q[0].x, maxx = q[0].x, miny = q[0].y, maxy = q[0].y;
  for (int i = 1; i < 4; i++) {
    if (q[i].x < minx) minx = q[i].x;
    if (q[i].x > maxx) maxx = q[i].x;
    if (q[i].y < miny) miny = q[i].y;
    if (q[i].y > maxy) maxy = q[i].y;
  }
  int64_t x0 = (int64_t)floor(minx), x1 = (int64_t)ceil(maxx), y0 = (int64_t)floor(miny), y1 = (int64_t)ceil(maxy);
  if (x0 < 0) x0 = 0;
  if (y0 < 0) y0 = 0;
  if (x1 > W - 1) x1 = W - 1;
  if (y1 > H - 1) y1 = H - 1;
  /* The quad's orientation, so "inside" is the same side of every edge. */
  double o = cross(q[0], q[1], q[2]) >= 0 ? 1 : -1;
  double sum = 0;
  int64_t n = 0;
  for (int64_t y = y0; y <= y1; y++)
    for (int64_t x = x0; x <= x1; x++) {
      pt p = {(double)x, (double)y};
      int in = 1;
      for (int i = 0; i < 4 && in; i++) in = o * cross(q[i], q[(i + 1) % 4], p) >= -1e-9;
      if (in) {
        sum += clamp01(P[y * W + x]);
        n++;
      }
    }
  return n ? sum / (double)n : 0;
}

/* ---- detection on one map -------------------------------------------------------- */

typedef struct work {
  uint8_t* mark; /* H*W: 0 background, 1 text, 2 visited */
  int32_t* stack;
  int32_t *rowmin, *rowmax; /* per row of the current component; -1 when untouched */
  int32_t* rows;            /* rows the component touches */
  pt *pts, *tmp, *hull;
  int64_t cap; /* pixels the buffers hold */
} work;

static void work_free(work* w) {
  free(w->mark);
  free(w->stack);
  free(w->rowmin);
  free(w->rowmax);
  free(w->rows);
  free(w->pts);
  free(w->tmp);
  free(w->hull);
  memset(w, 0, sizeof *w);
}

static int work_alloc(work* w, int64_t H, int64_t W) {
  int64_t n = H * W;
  w->mark = (uint8_t*)malloc((size_t)n);
  w->stack = (int32_t*)malloc((size_t)n * sizeof(int32_t));
  w->rowmin = (int32_t*)malloc((size_t)H * sizeof(int32_t));
  w->rowmax = (int32_t*)malloc((size_t)H * sizeof(int32_t));
  w->rows = (int32_t*)malloc((size_t)H * sizeof(int32_t));
  w->pts = (pt*)malloc((size_t)(2 * H + 1) * sizeof(pt));
  w->tmp = (pt*)malloc((size_t)(2 * H + 1) * sizeof(pt));
  w->hull = (pt*)malloc((size_t)(4 * H + 4) * sizeof(pt)); /* the chain holds up to 2 × the points */
  if (!w->mark || !w->stack || !w->rowmin || !w->rowmax || !w->rows || !w->pts || !w->tmp || !w->hull) {
    work_free(w);
    return 0;
  }
  for (int64_t y = 0; y < H; y++) w->rowmin[y] = w->rowmax[y] = -1;
  return 1;
}

/* Growable list of boxes. */
typedef struct boxes {
  box* v;
  int64_t n, cap;
} boxes;

static int boxes_push(boxes* b, const box* x) {
  if (b->n == b->cap) {
    int64_t cap = b->cap ? 2 * b->cap : 64;
    box* v = (box*)realloc(b->v, (size_t)cap * sizeof(box));
    if (v == NULL) return 0;
    b->v = v;
    b->cap = cap;
  }
  b->v[b->n++] = *x;
  return 1;
}

/* Finds the boxes of map P (H × W) of input row `row`, appends them to out
 * in reading order. frame: sx, sy, w, h. Returns 0 when out of memory. */
static int detect(const float* P, int64_t H, int64_t W, const float frame[4], int64_t row, work* w, boxes* out) {
  const float thr = (float)g.thresh;
  const int64_t n = H * W;
  for (int64_t i = 0; i < n; i++) w->mark[i] = P[i] > thr;
  const int64_t first = out->n;
  const double sx = frame[0], sy = frame[1], iw = frame[2], ih = frame[3];
  for (int64_t start = 0; start < n && out->n - first < g.max_boxes; start++) {
    if (w->mark[start] != 1) continue;
    /* Flood fill the component, recording each row's extremes. */
    int64_t sp = 0, nrows = 0;
    w->stack[sp++] = (int32_t)start;
    w->mark[start] = 2;
    while (sp > 0) {
      int32_t i = w->stack[--sp];
      int32_t y = (int32_t)(i / W), x = (int32_t)(i % W);
      if (w->rowmin[y] < 0) {
        w->rows[nrows++] = y;
        w->rowmin[y] = w->rowmax[y] = x;
      } else {
        if (x < w->rowmin[y]) w->rowmin[y] = x;
        if (x > w->rowmax[y]) w->rowmax[y] = x;
      }
      for (int dy = -1; dy <= 1; dy++) {
        int64_t yy = y + dy;
        if (yy < 0 || yy >= H) continue;
        for (int dx = -1; dx <= 1; dx++) {
          int64_t xx = x + dx;
          if ((dx == 0 && dy == 0) || xx < 0 || xx >= W) continue;
          int64_t k = yy * W + xx;
          if (w->mark[k] == 1) {
            w->mark[k] = 2;
            w->stack[sp++] = (int32_t)k;
          }
        }
      }
    }
    /* The rows' end points, sorted and distinct; reset the rows. */
    int64_t np = 0;
    for (int64_t k = 0; k < nrows; k++) {
      int32_t y = w->rows[k];
      pt a = {(double)w->rowmin[y], (double)y}, b = {(double)w->rowmax[y], (double)y};
      w->pts[np++] = a;
      if (b.x != a.x) w->pts[np++] = b;
      w->rowmin[y] = w->rowmax[y] = -1;
    }
    sort_points(w->pts, np, w->tmp);
    int64_t nh = hull(w->pts, np, w->hull);
    if (nh < 3) continue; /* a line or a point: no area */
    rect r = min_area_rect(w->hull, nh);
    if (r.u1 - r.u0 < g.min_size || r.v1 - r.v0 < g.min_size) continue;
    pt q[4];
    mini_box(&r, q);
    double score = quad_mean(P, H, W, q);
    if (!(score >= g.box_thresh)) continue;
    double bw = r.u1 - r.u0, bh = r.v1 - r.v0;
    double d = bw * bh * g.unclip_ratio / (2 * (bw + bh));
    r.u0 -= d, r.u1 += d, r.v0 -= d, r.v1 += d;
    if (r.u1 - r.u0 < g.min_size + 2 || r.v1 - r.v0 < g.min_size + 2) continue;
    mini_box(&r, q);
    box bx;
    for (int k = 0; k < 4; k++) {
      double x = q[k].x * sx, y = q[k].y * sy;
      x = x < 0 ? 0 : (x > iw ? iw : x);
      y = y < 0 ? 0 : (y > ih ? ih : y);
      bx.p[2 * k] = (float)x;
      bx.p[2 * k + 1] = (float)y;
    }
    bx.score = (float)score;
    bx.row = row;
    if (!boxes_push(out, &bx)) return 0;
  }
  /* Reading order. */
  box* v = out->v + first;
  int64_t k = out->n - first;
  for (int64_t i = 1; i < k; i++) /* stable insertion sort by (y, x) of the top-left corner */
    for (int64_t m = i; m > 0 && (v[m].p[1] < v[m - 1].p[1] || (v[m].p[1] == v[m - 1].p[1] && v[m].p[0] < v[m - 1].p[0])); m--) {
      box t = v[m];
      v[m] = v[m - 1];
      v[m - 1] = t;
    }
  for (int64_t i = 0; i + 1 < k; i++)
    for (int64_t m = i; m >= 0; m--) {
      if (fabsf(v[m + 1].p[1] - v[m].p[1]) < 10 && v[m + 1].p[0] < v[m].p[0]) {
        box t = v[m];
        v[m] = v[m + 1];
        v[m + 1] = t;
      } else
        break;
    }
  return 1;
}

/* ---- transform ------------------------------------------------------------------- */

int wasinfer_udf_transform(const struct ArrowSchema* in_schema, const struct ArrowArray* in,
                           struct ArrowSchema* out_schema, struct ArrowArray* out) {
  int64_t jp, jf;
  int st = udfs_find(in_schema, g.column, &jp);
  if (st == WASINFER_OK) st = udfs_find(in_schema, g.frame, &jf);
  if (st != WASINFER_OK) return st;
  udfs_tensor tp, tf;
  if ((st = udfs_read_tensor(in_schema->children[jp], g.column, "f", 0, &tp)) != WASINFER_OK) return st;
  int64_t H, W;
  if (tp.ndim == 3 && tp.shape[0] == 1) H = tp.shape[1], W = tp.shape[2];
  else if (tp.ndim == 2) H = tp.shape[0], W = tp.shape[1];
  else
    return wasinfer_set_error_status(WASINFER_UNSUPPORTED_INPUT,
                                     "column \"%s\": a probability map of shape [1, H, W] or [H, W] is required, not %d dimensions",
                                     g.column, tp.ndim);
  if (H * W > INT32_MAX)
    return wasinfer_set_error_status(WASINFER_UNSUPPORTED_INPUT, "column \"%s\": map %lld × %lld is too large", g.column,
                                     (long long)W, (long long)H);
  if ((st = udfs_read_tensor(in_schema->children[jf], g.frame, "f", 1, &tf)) != WASINFER_OK) return st;
  if (tf.size != 4)
    return wasinfer_set_error_status(WASINFER_UNSUPPORTED_INPUT, "column \"%s\": a frame of 4 values (sx, sy, w, h) is required, not %lld",
                                     g.frame, (long long)tf.size);
  for (int64_t i = 0; i < in_schema->n_children; i++) {
    const struct ArrowSchema* s = in_schema->children[i];
    const char* name = s->name ? s->name : "";
    if (i == jp) continue;
    if ((st = udfs_take_check(s)) != WASINFER_OK) return st;
    if (strcmp(name, g.box) == 0 || strcmp(name, g.score) == 0 || strcmp(name, g.line) == 0)
      return wasinfer_set_error_status(WASINFER_UNSUPPORTED_INPUT,
                                       "column \"%s\": the input already has a column of that name (rename the output in the config)",
                                       name);
  }

  const struct ArrowArray* pa = in->children[jp];
  const struct ArrowArray* fa = in->children[jf];
  const float* pv = (const float*)pa->children[0]->buffers[1] + pa->children[0]->offset;
  const float* fv = (const float*)fa->children[0]->buffers[1] + fa->children[0]->offset;
  const int64_t rows = in->length, prow0 = pa->offset + in->offset, frow0 = fa->offset + in->offset;

  work wk;
  memset(&wk, 0, sizeof wk);
  boxes found = {NULL, 0, 0};
  if (rows > 0 && !work_alloc(&wk, H, W))
    return wasinfer_set_error_status(WASINFER_OUT_OF_MEMORY, "out of memory: work space for a %lld × %lld map", (long long)W,
                                     (long long)H);
  for (int64_t r = 0; r < rows; r++) {
    if (!wasinfer_array_is_valid(pa, in->offset + r) || !wasinfer_array_is_valid(fa, in->offset + r)) continue;
    const float* fr = fv + (frow0 + r) * 4;
    if (!detect(pv + (prow0 + r) * H * W, H, W, fr, r, &wk, &found)) {
      work_free(&wk);
      free(found.v);
      return wasinfer_set_error_status(WASINFER_OUT_OF_MEMORY, "out of memory: boxes of row %lld", (long long)r);
    }
  }
  work_free(&wk);

  const int64_t k = found.n;
  int64_t* sel = (int64_t*)malloc((size_t)(k > 0 ? k : 1) * sizeof(int64_t));
  if (sel == NULL) {
    free(found.v);
    return wasinfer_set_error_status(WASINFER_OUT_OF_MEMORY, "out of memory: %lld boxes", (long long)k);
  }
  for (int64_t i = 0; i < k; i++) sel[i] = found.v[i].row;

  wasinfer_builder b;
  wasinfer_builder_init(&b, out_schema, out, k, in_schema->metadata);
  for (int64_t i = 0; i < in_schema->n_children; i++)
    if (i != jp) udfs_take(&b, in_schema->children[i], in->children[i], in->offset, sel, k);
  free(sel);
  wasinfer_column cb, cs, cl;
  int64_t shape[2] = {4, 2};
  float* bv = (float*)udfs_add_tensor(&b, &cb, g.box, "f", 4, shape, 2, k);
  cs = wasinfer_builder_add(&b, g.score, "f", 0);
  cl = wasinfer_builder_add(&b, g.line, "i", 0);
  float* sv = (float*)wasinfer_column_alloc_buffer(cs, 1, k * 4);
  int32_t* lv = (int32_t*)wasinfer_column_alloc_buffer(cl, 1, k * 4);
  if (b.status == WASINFER_OK) {
    int32_t line = 0;
    for (int64_t i = 0; i < k; i++) {
      memcpy(bv + i * 8, found.v[i].p, 8 * sizeof(float));
      sv[i] = found.v[i].score;
      line = i > 0 && found.v[i].row == found.v[i - 1].row ? line + 1 : 0;
      lv[i] = line;
    }
  }
  free(found.v);
  return wasinfer_builder_finish(&b);
}
