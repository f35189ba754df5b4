/* image_crop: crops uint8 HWC image tensors to a fixed width × height: the
 * centred window (mode "center", the default: its top-left corner is
 * ((W - width) / 2, (H - height) / 2), rounded down; negative when the image
 * is smaller) or the window whose top-left corner is (x, y) (mode "at").
 * Pixels of the window outside the image get the value pad (0). The
 * channel count is kept. A null image gives a null row of zeros.
 *
 * The output column replaces the input column when they have the same name
 * (the default), else it is added after every input column.
 *
 * Config: width (224), height (224), mode ("center" or "at"), x (0), y (0),
 * pad (0 to 255, default 0), column ("image"), output (the column's name). */
#define WASINFER_IMPLEMENTATION
#define WASINFER_HAS_INIT
#include "wasinfer.h"
#include "udfs.h"

WASINFER_DESCRIBE("{\"name\":\"image_crop\",\"version\":\"1.0.0\",\"language\":\"c\"}")

static char g_column[UDFS_MAX_NAME] = "image";
static char g_output[UDFS_MAX_NAME] = "image";
static int64_t g_width = 224, g_height = 224, g_x = 0, g_y = 0, g_pad = 0;
static int g_center = 1;

int wasinfer_udf_init(const char* config, size_t len) {
  char column[UDFS_MAX_NAME] = "image", output[UDFS_MAX_NAME] = "", mode[16] = "center";
  int64_t width = 224, height = 224, x = 0, y = 0, pad = 0;
  int st = WASINFER_OK, r;
  wasinfer_json_object it;
  wasinfer_json_object_init(&it, config, len);
  while ((r = wasinfer_json_object_next(&it)) == 1) {
    if (strcmp(it.key, "column") == 0) st = udfs_config_string(&it, column, sizeof column);
    else if (strcmp(it.key, "output") == 0) st = udfs_config_string(&it, output, sizeof output);
    else if (strcmp(it.key, "width") == 0) st = udfs_config_int(&it, 1, 16384, &width);
    else if (strcmp(it.key, "height") == 0) st = udfs_config_int(&it, 1, 16384, &height);
    else if (strcmp(it.key, "x") == 0) st = udfs_config_int(&it, -65536, 65536, &x);
    else if (strcmp(it.key, "y") == 0) st = udfs_config_int(&it, -65536, 65536, &y);
    else if (strcmp(it.key, "pad") == 0) st = udfs_config_int(&it, 0, 255, &pad);
    else if (strcmp(it.key, "mode") == 0) {
      if (wasinfer_json_string(it.value, it.value_len, mode, sizeof mode, NULL) != 0 ||
          (strcmp(mode, "center") != 0 && strcmp(mode, "at") != 0))
        st = udfs_config_error(&it, "\"center\" or \"at\"");
    } else
      st = udfs_config_unknown(&it, "width, height, mode, x, y, pad, column, output");
    if (st != WASINFER_OK) return st;
  }
  if (r < 0) return udfs_config_malformed(&it);
  memcpy(g_column, column, sizeof column);
  memcpy(g_output, output[0] ? output : column, sizeof output);
  g_width = width, g_height = height, g_x = x, g_y = y, g_pad = pad;
  g_center = strcmp(mode, "center") == 0;
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
  /* The window's top-left corner (floor division, also for negatives). */
  int64_t x0 = g_x, y0 = g_y;
  if (g_center) {
    int64_t dx = w - g_width, dy = h - g_height;
    x0 = dx >= 0 ? dx / 2 : -((-dx + 1) / 2);
    y0 = dy >= 0 ? dy / 2 : -((-dy + 1) / 2);
  }

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
    memset(o, (int)g_pad, (size_t)on);
    const uint8_t* src = values + (row0 + r) * n;
    /* The part of the window inside the image. */
    int64_t xa = x0 > 0 ? x0 : 0, xb = x0 + g_width < w ? x0 + g_width : w;
    int64_t ya = y0 > 0 ? y0 : 0, yb = y0 + g_height < h ? y0 + g_height : h;
    for (int64_t yy = ya; xa < xb && yy < yb; yy++)
      memcpy(o + ((yy - y0) * g_width + (xa - x0)) * c, src + (yy * w + xa) * c, (size_t)((xb - xa) * c));
  }
  if (valid) col.array->null_count = nulls;
  return wasinfer_builder_finish(&b);
}
