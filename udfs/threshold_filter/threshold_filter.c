/* threshold_filter: keeps the rows whose score passes a threshold.
 *
 * The score column is float32, float64 or any integer type; a row is kept
 * when `score OP threshold` holds (OP one of > >= < <= == !=, compared in
 * float64). A null score, or NaN, is never kept. Every column of the kept
 * rows is copied (null, boolean, fixed-width, binary and utf8, lists, fixed
 * size lists and tensors, structs, dictionaries), in order, with its
 * metadata; the row count changes.
 *
 * Config (all optional): column ("score"), threshold (0.5), op (">="). */
#define WASINFER_IMPLEMENTATION
#define WASINFER_HAS_INIT
#include "wasinfer.h"
#include "udfs.h"

WASINFER_DESCRIBE("{\"name\":\"threshold_filter\",\"version\":\"1.0.0\",\"language\":\"c\"}")

enum op { GT, GE, LT, LE, EQ, NE };
static const char* const op_names[] = {">", ">=", "<", "<=", "==", "!="};

static char g_column[UDFS_MAX_NAME] = "score";
static double g_threshold = 0.5;
static enum op g_op = GE;

int wasinfer_udf_init(const char* config, size_t len) {
  char column[UDFS_MAX_NAME] = "score", op[8] = ">=";
  double threshold = 0.5;
  int st = WASINFER_OK, r;
  wasinfer_json_object it;
  wasinfer_json_object_init(&it, config, len);
  while ((r = wasinfer_json_object_next(&it)) == 1) {
    if (strcmp(it.key, "column") == 0) st = udfs_config_string(&it, column, sizeof column);
    else if (strcmp(it.key, "threshold") == 0) st = udfs_config_number(&it, -1.7976931348623157e308, 1.7976931348623157e308, &threshold);
    else if (strcmp(it.key, "op") == 0) {
      if (wasinfer_json_string(it.value, it.value_len, op, sizeof op, NULL) != 0) op[0] = 0;
      int found = 0;
      for (int i = 0; i < 6; i++) found |= strcmp(op, op_names[i]) == 0;
      if (!found) st = udfs_config_error(&it, "one of \">\", \">=\", \"<\", \"<=\", \"==\", \"!=\"");
    } else
      st = udfs_config_unknown(&it, "column, threshold, op");
    if (st != WASINFER_OK) return st;
  }
  if (r < 0) return udfs_config_malformed(&it);
  memcpy(g_column, column, sizeof column);
  g_threshold = threshold;
  for (int i = 0; i < 6; i++)
    if (strcmp(op, op_names[i]) == 0) g_op = (enum op)i;
  return WASINFER_OK;
}

static int passes(double x) {
  if (x != x) return 0;
  switch (g_op) {
    case GT: return x > g_threshold;
    case GE: return x >= g_threshold;
    case LT: return x < g_threshold;
    case LE: return x <= g_threshold;
    case EQ: return x == g_threshold;
    case NE: return x != g_threshold;
  }
  return 0;
}

/* The score of physical element i of column a with format fmt. */
static double score(const char* fmt, const struct ArrowArray* a, int64_t i) {
  const void* v = a->buffers[1];
  switch (fmt[0]) {
    case 'f': return ((const float*)v)[i];
    case 'g': return ((const double*)v)[i];
    case 'c': return ((const int8_t*)v)[i];
    case 'C': return ((const uint8_t*)v)[i];
    case 's': return ((const int16_t*)v)[i];
    case 'S': return ((const uint16_t*)v)[i];
    case 'i': return ((const int32_t*)v)[i];
    case 'I': return ((const uint32_t*)v)[i];
    case 'l': return (double)((const int64_t*)v)[i];
    default: return (double)((const uint64_t*)v)[i];
  }
}

int wasinfer_udf_transform(const struct ArrowSchema* in_schema, const struct ArrowArray* in,
                           struct ArrowSchema* out_schema, struct ArrowArray* out) {
  int64_t j;
  int st = udfs_find(in_schema, g_column, &j);
  if (st != WASINFER_OK) return st;
  const char* fmt = in_schema->children[j]->format;
  if (strlen(fmt) != 1 || strchr("fgcCsSiIlL", fmt[0]) == NULL || in_schema->children[j]->dictionary != NULL)
    return wasinfer_set_error_status(WASINFER_UNSUPPORTED_INPUT,
                                     "column \"%s\": format \"%s\"; want float32, float64 or an integer type",
                                     g_column, fmt);
  const struct ArrowArray* s = in->children[j];
  int64_t* keep = (int64_t*)malloc((size_t)(in->length ? in->length : 1) * sizeof(int64_t));
  if (keep == NULL) return wasinfer_set_error_status(WASINFER_OUT_OF_MEMORY, "out of memory for %lld rows", (long long)in->length);
  int64_t n = 0;
  for (int64_t r = 0; r < in->length; r++) {
    int64_t i = s->offset + in->offset + r;
    if (wasinfer_array_is_valid(s, in->offset + r) && passes(score(fmt, s, i))) keep[n++] = r;
  }
  wasinfer_builder b;
  wasinfer_builder_init(&b, out_schema, out, n, in_schema->metadata);
  for (int64_t k = 0; k < in_schema->n_children && b.status == WASINFER_OK; k++)
    udfs_take(&b, in_schema->children[k], in->children[k], in->offset, keep, n);
  free(keep);
  return wasinfer_builder_finish(&b);
}
