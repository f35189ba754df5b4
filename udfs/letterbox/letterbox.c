/* letterbox: fits uint8 HWC images into a fixed width × height without
 * distorting them: scale s = min(width / W, height / H), resize to
 * max(1, round(W·s)) × max(1, round(H·s)) (bilinear or nearest, see
 * udfs_image.h), and pad the rest with pad (114, YOLO's grey); the image
 * sits centred (placement "center": offsets (width - w') / 2 and
 * (height - h') / 2, rounded down) or at the top left ("topleft").
 *
 * A second column, frame (default "letterbox"), holds float32 [s, pad_x,
 * pad_y] per row, so that a box found in the letterboxed image maps back
 * with x = (x' - pad_x) / s, y = (y' - pad_y) / s. A null image gives a null
 * row of zeros and a null frame.
 *
 * The image column replaces the input column when they have the same name
 * (the default), else it is added after every input column; the frame
 * column comes last.
 *
 * Config: width (640), height (640), pad (114), placement ("center" or
 * "topleft"), interpolation ("bilinear" or "nearest"), column ("image"),
 * output (the column's name), frame ("letterbox"). */
#define WASINFER_IMPLEMENTATION
#define WASINFER_HAS_INIT
#include "wasinfer.h"
#include "udfs.h"
#include "udfs_image.h"

WASINFER_DESCRIBE("{\"name\":\"letterbox\",\"version\":\"1.0.0\",\"language\":\"c\"}")

static char g_column[UDFS_MAX_NAME] = "image";
static char g_output[UDFS_MAX_NAME] = "image";
static char g_frame[UDFS_MAX_NAME] = "letterbox";
static int64_t g_width = 640, g_height = 640, g_pad = 114;
static int g_center = 1, g_nearest = 0;

int wasinfer_udf_init(const char* config, size_t len) {
  char column[UDFS_MAX_NAME] = "image", output[UDFS_MAX_NAME] = "", frame[UDFS_MAX_NAME] = "letterbox";
  char placement[16] = "center", interp[16] = "bilinear";
  int64_t width = 640, height = 640, pad = 114;
  int st = WASINFER_OK, r;
  wasinfer_json_object it;
  wasinfer_json_object_init(&it, config, len);
  while ((r = wasinfer_json_object_next(&it)) == 1) {
    if (strcmp(it.key, "column") == 0) st = udfs_config_string(&it, column, sizeof column);
    else if (strcmp(it.key, "output") == 0) st = udfs_config_string(&it, output, sizeof output);
    else if (strcmp(it.key, "frame") == 0) st = udfs_config_string(&it, frame, sizeof frame);
    else if (strcmp(it.key, "width") == 0) st = udfs_config_int(&it, 1, 16384, &width);
    else if (strcmp(it.key, "height") == 0) st = udfs_config_int(&it, 1, 16384, &height);
    else if (strcmp(it.key, "pad") == 0) st = udfs_config_int(&it, 0, 255, &pad);
    else if (strcmp(it.key, "placement") == 0) {
      if (wasinfer_json_string(it.value, it.value_len, placement, sizeof placement, NULL) != 0 ||
          (strcmp(placement, "center") != 0 && strcmp(placement, "topleft") != 0))
        st = udfs_config_error(&it, "\"center\" or \"topleft\"");
    } else if (strcmp(it.key, "interpolation") == 0) {
      if (wasinfer_json_string(it.value, it.value_len, interp, sizeof interp, NULL) != 0 ||
          (strcmp(interp, "bilinear") != 0 && strcmp(interp, "nearest") != 0))
        st = udfs_config_error(&it, "\"bilinear\" or \"nearest\"");
    } else
      st = udfs_config_unknown(&it, "width, height, pad, placement, interpolation, column, output, frame");
    if (st != WASINFER_OK) return st;
  }
  if (r < 0) return udfs_config_malformed(&it);
  if (strcmp(frame, output[0] ? output : column) == 0)
    return wasinfer_set_error_status(WASINFER_INVALID_CONFIG, "invalid config: \"frame\" and the image column are both \"%s\"", frame);
  memcpy(g_column, column, sizeof column);
  memcpy(g_output, output[0] ? output : column, sizeof output);
  memcpy(g_frame, frame, sizeof frame);
  g_width = width, g_height = height, g_pad = pad;
  g_center = strcmp(placement, "center") == 0;
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
  double sx = (double)g_width / (double)w, sy = (double)g_height / (double)h;
  double s = sx < sy ? sx : sy;
  int64_t nw = (int64_t)floor((double)w * s + 0.5), nh = (int64_t)floor((double)h * s + 0.5);
  if (nw < 1) nw = 1;
  if (nh < 1) nh = 1;
  if (nw > g_width) nw = g_width;
  if (nh > g_height) nh = g_height;
  int64_t px = g_center ? (g_width - nw) / 2 : 0, py = g_center ? (g_height - nh) / 2 : 0;

  wasinfer_builder b;
  wasinfer_builder_init(&b, out_schema, out, rows, in_schema->metadata);
  int replace = strcmp(g_output, g_column) == 0;
  wasinfer_column col, fcol;
  uint8_t* dst = NULL;
  for (int64_t k = 0; k < in_schema->n_children; k++) {
    if (k == j && replace) dst = (uint8_t*)udfs_add_tensor(&b, &col, g_output, "C", 1, shape, 3, rows);
    else wasinfer_builder_pass(&b, in_schema, in, k);
  }
  if (!replace) dst = (uint8_t*)udfs_add_tensor(&b, &col, g_output, "C", 1, shape, 3, rows);
  const int64_t fshape[1] = {3};
  float* frame = (float*)udfs_add_tensor(&b, &fcol, g_frame, "f", 4, fshape, 1, rows);
  uint8_t* valid = list->buffers[0] ? wasinfer_column_validity(col) : NULL;
  uint8_t* fvalid = list->buffers[0] ? wasinfer_column_validity(fcol) : NULL;
  if (b.status != WASINFER_OK) return wasinfer_builder_finish(&b);
  int64_t nulls = 0;
  for (int64_t r = 0; r < rows; r++) {
    uint8_t* o = dst + r * on;
    float* f = frame + r * 3;
    if (valid && !wasinfer_bit_get(list->buffers[0], row0 + r)) {
      memset(o, 0, (size_t)on);
      f[0] = f[1] = f[2] = 0;
      wasinfer_bit_set(valid, r, 0);
      wasinfer_bit_set(fvalid, r, 0);
      nulls++;
      continue;
    }
    memset(o, (int)g_pad, (size_t)on);
    if (!udfs_resize(values + (row0 + r) * n, h, w, c, o + (py * g_width + px) * c, nh, nw, g_width, g_nearest)) {
      wasinfer_builder_abort(&b);
      return wasinfer_set_error_status(WASINFER_OUT_OF_MEMORY, "out of memory resizing row %lld", (long long)r);
    }
    f[0] = (float)s;
    f[1] = (float)px;
    f[2] = (float)py;
  }
  if (valid) col.array->null_count = nulls, fcol.array->null_count = nulls;
  return wasinfer_builder_finish(&b);
}
