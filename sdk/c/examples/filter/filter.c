/* filter: keep the rows whose int64 column is greater than a threshold.
 *
 * Shows a UDF that changes the row count: every column is copied, row by row,
 * into new buffers owned by the output, while the output's fields alias the
 * input's (same names, types, nullability and metadata).
 *
 * Config (all optional): {"column": "value", "min": 0}
 *   column  the int64 column to test (default "value")
 *   min     keep row r when column[r] > min (default 0); a null never passes
 *
 * Columns of these types are filtered: null, boolean, every fixed-width type
 * (integers, floats, decimals, fixed_size_binary, dates, times, timestamps,
 * durations), binary/utf8 and their large variants, and dictionaries of any of
 * them (the dictionary itself is passed through). A batch with any other type
 * (lists, structs, maps) is refused with UNSUPPORTED_INPUT naming the column.
 */
#define WASINFER_IMPLEMENTATION
#define WASINFER_HAS_INIT
#include "wasinfer.h"

#include <stdlib.h>

WASINFER_DESCRIBE(
    "{\"name\":\"filter\",\"version\":\"1.0.0\",\"language\":\"c\","
    "\"description\":\"Keeps the rows where the int64 column (config column, default value) is "
    "greater than config min (default 0).\","
    "\"input\":[{\"name\":\"value\",\"type\":\"int64\"}]}")

#define MAX_NAME 1024

static char g_column[MAX_NAME] = "value";
static int64_t g_min = 0;

int wasinfer_udf_init(const char* config, size_t len) {
  char column[MAX_NAME] = "value";
  int64_t min = 0;
  int seen_column = 0, seen_min = 0;
  wasinfer_json_object it;
  wasinfer_json_object_init(&it, config, len);
  int r;
  while ((r = wasinfer_json_object_next(&it)) == 1) {
    int* seen;
    if (strcmp(it.key, "column") == 0) {
      seen = &seen_column;
      int s = wasinfer_json_string(it.value, it.value_len, column, sizeof column, NULL);
      if (s != 0 || column[0] == 0)
        return wasinfer_set_error_status(WASINFER_INVALID_CONFIG,
                                         "invalid config: \"column\" must be a non-empty string of at "
                                         "most 1023 bytes");
    } else if (strcmp(it.key, "min") == 0) {
      seen = &seen_min;
      if (wasinfer_json_int64(it.value, it.value_len, &min) != 0)
        return wasinfer_set_error_status(WASINFER_INVALID_CONFIG,
                                         "invalid config: \"min\" must be an integer within int64, got %.*s",
                                         (int)(it.value_len > 200 ? 200 : it.value_len), it.value);
    } else {
      return wasinfer_set_error_status(WASINFER_INVALID_CONFIG,
                                       "invalid config: unknown key \"%s\" (known: column, min)", it.key);
    }
    if (*seen)
      return wasinfer_set_error_status(WASINFER_INVALID_CONFIG, "invalid config: duplicate key \"%s\"",
                                       it.key);
    *seen = 1;
  }
  if (r < 0)
    return wasinfer_set_error_status(WASINFER_INVALID_CONFIG,
                                     "invalid config: not a JSON object: %s at byte %zu", it.error,
                                     it.error_at);
  memcpy(g_column, column, sizeof column);
  g_min = min;
  return WASINFER_OK;
}

/* Value layouts the filter copies. */
enum layout { L_NULL, L_BOOL, L_FIXED, L_BINARY32, L_BINARY64, L_UNSUPPORTED };

static enum layout layout_of(const struct ArrowSchema* s, int64_t* width) {
  const char* f = s->format;
  *width = wasinfer_format_byte_width(f);
  if (s->n_children != 0) return L_UNSUPPORTED;
  if (*width > 0) return L_FIXED; /* includes dictionary indices */
  if (s->dictionary != NULL) return L_UNSUPPORTED;
  if (strcmp(f, "n") == 0) return L_NULL;
  if (strcmp(f, "b") == 0) return L_BOOL;
  if (strcmp(f, "z") == 0 || strcmp(f, "u") == 0) return L_BINARY32;
  if (strcmp(f, "Z") == 0 || strcmp(f, "U") == 0) return L_BINARY64;
  return L_UNSUPPORTED;
}

static int64_t load_i64(const void* p, int64_t i) {
  int64_t v;
  memcpy(&v, (const char*)p + i * 8, 8);
  return v;
}

static int64_t load_offset(const void* p, int64_t i, int wide) {
  if (p == NULL) return 0; /* allowed when the array is empty */
  if (wide) return load_i64(p, i);
  int32_t v;
  memcpy(&v, (const char*)p + i * 4, 4);
  return v;
}

/* Copies rows sel[0..k) of the input column (s, a), whose row r is element
 * base + r of its buffers, into col. */
static void copy_rows(wasinfer_column col, const struct ArrowSchema* s, const struct ArrowArray* a,
                      int64_t base, const int64_t* sel, int64_t k) {
  int64_t w;
  enum layout lay = layout_of(s, &w);
  col.array->length = k;
  if (lay == L_NULL) {
    col.array->null_count = k;
    return;
  }
  if (a->buffers[0] != NULL) {
    uint8_t* valid = wasinfer_column_validity(col);
    if (valid == NULL) return;
    int64_t nulls = 0;
    for (int64_t i = 0; i < k; i++) {
      if (!wasinfer_bit_get(a->buffers[0], base + sel[i])) {
        wasinfer_bit_set(valid, i, 0);
        nulls++;
      }
    }
    col.array->null_count = nulls;
  }
  col.array->dictionary = a->dictionary; /* borrowed, like the schema */
  const uint8_t* src = (const uint8_t*)a->buffers[1];
  switch (lay) {
    case L_BOOL: {
      uint8_t* dst = (uint8_t*)wasinfer_column_calloc_buffer(col, 1, (k + 7) / 8);
      if (dst == NULL) return;
      for (int64_t i = 0; i < k; i++)
        if (wasinfer_bit_get(src, base + sel[i])) wasinfer_bit_set(dst, i, 1);
      return;
    }
    case L_FIXED: {
      uint8_t* dst = (uint8_t*)wasinfer_column_alloc_buffer(col, 1, k * w);
      if (dst == NULL) return;
#define COPY_WIDTH(W)                                                                  \
  for (int64_t i = 0; i < k; i++) memcpy(dst + i * (W), src + (base + sel[i]) * (W), (size_t)(W)); \
  return;
      switch (w) {
        case 1: COPY_WIDTH(1)
        case 2: COPY_WIDTH(2)
        case 4: COPY_WIDTH(4)
        case 8: COPY_WIDTH(8)
        case 16: COPY_WIDTH(16)
        default: COPY_WIDTH(w)
      }
#undef COPY_WIDTH
    }
    case L_BINARY32:
    case L_BINARY64: {
      const int wide = lay == L_BINARY64;
      const void* off = a->buffers[1];
      const uint8_t* data = (const uint8_t*)a->buffers[2];
      int64_t total = 0;
      for (int64_t i = 0; i < k; i++)
        total += load_offset(off, base + sel[i] + 1, wide) - load_offset(off, base + sel[i], wide);
      uint8_t* out_off = (uint8_t*)wasinfer_column_alloc_buffer(col, 1, (k + 1) * (wide ? 8 : 4));
      uint8_t* out_data = (uint8_t*)wasinfer_column_alloc_buffer(col, 2, total);
      if (out_off == NULL || out_data == NULL) return;
      int64_t pos = 0;
      for (int64_t i = 0;; i++) {
        if (wide) {
          memcpy(out_off + i * 8, &pos, 8);
        } else {
          int32_t p32 = (int32_t)pos; /* pos <= the input's last offset, an int32 */
          memcpy(out_off + i * 4, &p32, 4);
        }
        if (i == k) break;
        int64_t start = load_offset(off, base + sel[i], wide);
        int64_t len = load_offset(off, base + sel[i] + 1, wide) - start;
        if (len > 0) memcpy(out_data + pos, data + start, (size_t)len);
        pos += len;
      }
      return;
    }
    default:
      return;
  }
}

int wasinfer_udf_transform(const struct ArrowSchema* in_schema, const struct ArrowArray* in,
                           struct ArrowSchema* out_schema, struct ArrowArray* out) {
  int64_t j = wasinfer_child_index(in_schema, g_column);
  if (j < 0)
    return wasinfer_set_error_status(WASINFER_UNSUPPORTED_INPUT, "column \"%s\": not in the input batch",
                                     g_column);
  const struct ArrowSchema* key = in_schema->children[j];
  if (strcmp(key->format, "l") != 0 || key->dictionary != NULL)
    return wasinfer_set_error_status(WASINFER_UNSUPPORTED_INPUT,
                                     "column \"%s\": format \"%s\"%s is not int64 (\"l\")", g_column,
                                     key->format, key->dictionary ? " (dictionary)" : "");
  for (int64_t i = 0; i < in_schema->n_children; i++) {
    int64_t w;
    const struct ArrowSchema* s = in_schema->children[i];
    if (layout_of(s, &w) == L_UNSUPPORTED)
      return wasinfer_set_error_status(WASINFER_UNSUPPORTED_INPUT,
                                       "column \"%s\": type with format \"%s\" is not supported by filter "
                                       "(supported: null, bool, fixed-width, binary and utf8 types, and "
                                       "dictionaries of those)",
                                       s->name ? s->name : "", s->format);
  }

  /* Select the rows. */
  const int64_t n = in->length;
  const struct ArrowArray* ka = in->children[j];
  const int64_t kbase = ka->offset + in->offset;
  if ((uint64_t)n > SIZE_MAX / sizeof(int64_t))
    return wasinfer_set_error_status(WASINFER_OUT_OF_MEMORY, "out of memory: %lld rows", (long long)n);
  int64_t* sel = (int64_t*)malloc(n > 0 ? (size_t)n * sizeof(int64_t) : 1);
  if (sel == NULL)
    return wasinfer_set_error_status(WASINFER_OUT_OF_MEMORY,
                                     "out of memory: a selection vector of %lld rows", (long long)n);
  int64_t k = 0;
  for (int64_t r = 0; r < n; r++) {
    if (ka->buffers[0] != NULL && !wasinfer_bit_get(ka->buffers[0], kbase + r)) continue;
    if (load_i64(ka->buffers[1], kbase + r) > g_min) sel[k++] = r;
  }

  /* Copy every column's selected rows. */
  wasinfer_builder b;
  wasinfer_builder_init(&b, out_schema, out, k, in_schema->metadata);
  for (int64_t i = 0; i < in_schema->n_children && b.status == WASINFER_OK; i++) {
    const struct ArrowArray* a = in->children[i];
    wasinfer_column col = wasinfer_builder_add_like(&b, in_schema->children[i]);
    if (col.array != NULL) copy_rows(col, in_schema->children[i], a, a->offset + in->offset, sel, k);
  }
  free(sel);
  return wasinfer_builder_finish(&b);
}
