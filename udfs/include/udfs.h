/* udfs.h: helpers shared by the C modules of the wasinfer UDF library
 * (udfs/). Include after wasinfer.h, in the one file that defines
 * WASINFER_IMPLEMENTATION. Everything is static: each module carries only
 * what it uses.
 *
 * The SDK (sdk/c/wasinfer.h) reads JSON and builds columns; these helpers
 * add what every image module repeats: reading an arrow.fixed_shape_tensor
 * field's shape, adding a tensor output column, and reading typed
 * configuration values with uniform error messages.
 */
#ifndef UDFS_H
#define UDFS_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* Helpers are static and may go unused in a module. */
#define UDFS_FN static __attribute__((unused))

#define UDFS_MAX_NAME 256
#define UDFS_MAX_DIMS 8
#define UDFS_TENSOR "arrow.fixed_shape_tensor"

/* A tensor column: shape and the physical layout. */
typedef struct udfs_tensor {
  int ndim;
  int64_t shape[UDFS_MAX_DIMS];
  int64_t size; /* product of shape = the list size N of "+w:N" */
} udfs_tensor;

UDFS_FN int udfs_clip(size_t n) { return (int)(n > 200 ? 200 : n); }

/* Reads the tensor type of field f (column name col, for messages): storage
 * "+w:N" over value format vfmt ("C" uint8, "f" float32, ...), metadata
 * ARROW:extension:name = arrow.fixed_shape_tensor and a "shape" of ndim
 * dimensions (ndim 0: any number up to UDFS_MAX_DIMS). Returns WASINFER_OK
 * or UNSUPPORTED_INPUT with the message set. */
UDFS_FN int udfs_read_tensor(const struct ArrowSchema* f, const char* col, const char* vfmt, int ndim,
                            udfs_tensor* t) {
  if (strncmp(f->format, "+w:", 3) != 0 || f->n_children != 1 || strcmp(f->children[0]->format, vfmt) != 0 ||
      f->dictionary != NULL)
    return wasinfer_set_error_status(WASINFER_UNSUPPORTED_INPUT,
                                     "column \"%s\": format \"%s\" is not an arrow.fixed_shape_tensor of \"%s\"",
                                     col, f->format, vfmt);
  char* end;
  long long n = strtoll(f->format + 3, &end, 10);
  if (*end != 0 || n <= 0)
    return wasinfer_set_error_status(WASINFER_UNSUPPORTED_INPUT, "column \"%s\": bad format \"%s\"", col,
                                     f->format);
  const char* v;
  size_t vl;
  if (!wasinfer_metadata_get(f->metadata, WASINFER_EXTENSION_NAME, &v, &vl) || vl != strlen(UDFS_TENSOR) ||
      memcmp(v, UDFS_TENSOR, vl) != 0)
    return wasinfer_set_error_status(WASINFER_UNSUPPORTED_INPUT,
                                     "column \"%s\": not an arrow.fixed_shape_tensor (field metadata %s)", col,
                                     WASINFER_EXTENSION_NAME);
  if (!wasinfer_metadata_get(f->metadata, WASINFER_EXTENSION_METADATA, &v, &vl))
    return wasinfer_set_error_status(WASINFER_UNSUPPORTED_INPUT, "column \"%s\": tensor has no %s", col,
                                     WASINFER_EXTENSION_METADATA);
  const char* sv;
  size_t sl;
  if (wasinfer_json_find(v, vl, "shape", &sv, &sl) != 1)
    return wasinfer_set_error_status(WASINFER_UNSUPPORTED_INPUT, "column \"%s\": tensor metadata has no \"shape\": %.*s",
                                     col, udfs_clip(vl), v);
  const char* pv;
  size_t pl;
  if (wasinfer_json_find(v, vl, "permutation", &pv, &pl) == 1) {
    double p[UDFS_MAX_DIMS];
    size_t k = 0;
    int identity = wasinfer_json_number_array(pv, pl, p, UDFS_MAX_DIMS, &k) == 0;
    for (size_t i = 0; identity && i < k; i++) identity = p[i] == (double)i;
    if (!identity)
      return wasinfer_set_error_status(WASINFER_UNSUPPORTED_INPUT,
                                       "column \"%s\": tensor permutation %.*s is not supported (only the row-major layout)",
                                       col, udfs_clip(pl), pv);
  }
  double d[UDFS_MAX_DIMS];
  size_t k = 0;
  int r = wasinfer_json_number_array(sv, sl, d, UDFS_MAX_DIMS, &k);
  int ok = r == 0 && (ndim == 0 || k == (size_t)ndim);
  int64_t prod = 1;
  for (size_t i = 0; ok && i < k; i++) {
    ok = d[i] >= 1 && d[i] <= (double)n && d[i] == (double)(int64_t)d[i];
    if (ok) prod *= (int64_t)d[i];
  }
  if (!ok || prod != n) {
    if (ndim)
      return wasinfer_set_error_status(WASINFER_UNSUPPORTED_INPUT,
                                       "column \"%s\": tensor shape %.*s is not %d positive sizes whose product is %lld",
                                       col, udfs_clip(sl), sv, ndim, n);
    return wasinfer_set_error_status(WASINFER_UNSUPPORTED_INPUT,
                                     "column \"%s\": tensor shape %.*s does not match the list size %lld", col,
                                     udfs_clip(sl), sv, n);
  }
  t->ndim = (int)k;
  for (size_t i = 0; i < k; i++) t->shape[i] = (int64_t)d[i];
  t->size = n;
  return WASINFER_OK;
}

/* Finds input column `name`; UNSUPPORTED_INPUT when it is missing. */
UDFS_FN int udfs_find(const struct ArrowSchema* in_schema, const char* name, int64_t* index) {
  *index = wasinfer_child_index(in_schema, name);
  if (*index < 0)
    return wasinfer_set_error_status(WASINFER_UNSUPPORTED_INPUT, "column \"%s\": not in the input batch", name);
  return WASINFER_OK;
}

/* Adds a nullable tensor column `name` of `rows` rows with value format vfmt
 * ("f", "C", ...) and element size esize, shape[ndim], row-major. Returns the
 * values buffer (rows * size elements, uninitialised) or NULL when the
 * builder failed (b->status set). */
UDFS_FN void* udfs_add_tensor(wasinfer_builder* b, wasinfer_column* col, const char* name, const char* vfmt,
                             int64_t esize, const int64_t* shape, int ndim, int64_t rows) {
  int64_t size = 1;
  char meta[160];
  int pos = snprintf(meta, sizeof meta, "{\"shape\":[");
  for (int i = 0; i < ndim; i++) {
    size *= shape[i];
    pos += snprintf(meta + pos, sizeof meta - (size_t)pos, "%s%lld", i ? "," : "", (long long)shape[i]);
  }
  snprintf(meta + pos, sizeof meta - (size_t)pos, "]}");
  char format[32];
  snprintf(format, sizeof format, "+w:%lld", (long long)size);
  *col = wasinfer_builder_add(b, name, format, ARROW_FLAG_NULLABLE);
  wasinfer_column_add_metadata(*col, WASINFER_EXTENSION_NAME, UDFS_TENSOR);
  wasinfer_column_add_metadata(*col, WASINFER_EXTENSION_METADATA, meta);
  wasinfer_column item = wasinfer_column_add_child(*col, "item", vfmt, ARROW_FLAG_NULLABLE);
  if (item.array) item.array->length = rows * size;
  return wasinfer_column_alloc_buffer(item, 1, rows * size * esize);
}

/* ---- configuration ----------------------------------------------------------------- */

UDFS_FN int udfs_config_error(const wasinfer_json_object* it, const char* want) {
  return wasinfer_set_error_status(WASINFER_INVALID_CONFIG, "invalid config: \"%s\" must be %s, got %.*s", it->key,
                                   want, udfs_clip(it->value_len), it->value);
}

UDFS_FN int udfs_config_string(const wasinfer_json_object* it, char* out, size_t cap) {
  int r = wasinfer_json_string(it->value, it->value_len, out, cap, NULL);
  if (r != 0 || out[0] == 0) return udfs_config_error(it, "a non-empty string (at most 255 bytes)");
  return WASINFER_OK;
}

UDFS_FN int udfs_config_int(const wasinfer_json_object* it, int64_t lo, int64_t hi, int64_t* out) {
  int64_t v;
  if (wasinfer_json_int64(it->value, it->value_len, &v) != 0 || v < lo || v > hi) {
    char want[96];
    snprintf(want, sizeof want, "an integer from %lld to %lld", (long long)lo, (long long)hi);
    return udfs_config_error(it, want);
  }
  *out = v;
  return WASINFER_OK;
}

UDFS_FN int udfs_config_number(const wasinfer_json_object* it, double lo, double hi, double* out) {
  double v;
  if (wasinfer_json_number(it->value, it->value_len, &v) != 0 || !(v >= lo && v <= hi)) {
    char want[96];
    snprintf(want, sizeof want, "a number from %g to %g", lo, hi);
    return udfs_config_error(it, want);
  }
  *out = v;
  return WASINFER_OK;
}

UDFS_FN int udfs_config_bool(const wasinfer_json_object* it, int* out) {
  if (it->value_len == 4 && memcmp(it->value, "true", 4) == 0) *out = 1;
  else if (it->value_len == 5 && memcmp(it->value, "false", 5) == 0) *out = 0;
  else return udfs_config_error(it, "true or false");
  return WASINFER_OK;
}

UDFS_FN int udfs_config_unknown(const wasinfer_json_object* it, const char* known) {
  return wasinfer_set_error_status(WASINFER_INVALID_CONFIG, "invalid config: unknown key \"%s\" (known: %s)", it->key,
                                   known);
}

UDFS_FN int udfs_config_malformed(const wasinfer_json_object* it) {
  return wasinfer_set_error_status(WASINFER_INVALID_CONFIG, "invalid config: not a JSON object: %s at byte %zu",
                                   it->error, it->error_at);
}

/* Row r's validity for a column whose batch row is `row` (adds offsets). */
static inline int udfs_valid(const struct ArrowArray* col, const struct ArrowArray* batch, int64_t r) {
  return wasinfer_array_is_valid(col, batch->offset + r);
}


/* ---- taking rows (filter, repeat) ------------------------------------------------- */

/* Copies the binary-encoded field metadata md to col. */
UDFS_FN void udfs_copy_metadata(wasinfer_column col, const char* md) {
  if (md == NULL) return;
  int32_t n;
  memcpy(&n, md, 4);
  const char* p = md + 4;
  for (int32_t i = 0; i < n; i++) {
    int32_t kl, vl;
    memcpy(&kl, p, 4);
    const char* k = p + 4;
    memcpy(&vl, k + kl, 4);
    const char* v = k + kl + 4;
    wasinfer_column_add_metadata_n(col, k, (size_t)kl, v, (size_t)vl);
    p = v + vl;
  }
}

static int udfs__fill(wasinfer_column col, const struct ArrowSchema* f, const struct ArrowArray* a,
                      const int64_t* idx, int64_t n, const char* path, int depth);

/* Adds the children of f to col, like f's (name, format, flags), and fills
 * them from a's children at the element indices idx (n of them). */
static int udfs__child(wasinfer_column col, const struct ArrowSchema* f, const struct ArrowArray* a, int64_t k,
                       const int64_t* idx, int64_t n, const char* path, int depth) {
  wasinfer_column c = wasinfer_column_add_child(col, f->children[k]->name, f->children[k]->format,
                                                f->children[k]->flags);
  if (c.array == NULL) return col.builder->status;
  udfs_copy_metadata(c, f->children[k]->metadata);
  c.array->length = n;
  return udfs__fill(c, f->children[k], a->children[k], idx, n, path, depth + 1);
}

/* Fills col (new, like f) with the elements idx[0..n) of a (logical
 * indices: a->offset is added). */
static int udfs__fill(wasinfer_column col, const struct ArrowSchema* f, const struct ArrowArray* a,
                      const int64_t* idx, int64_t n, const char* path, int depth) {
  wasinfer_builder* b = col.builder;
  const char* fmt = f->format;
  if (depth > 16)
    return wasinfer_set_error_status(WASINFER_UNSUPPORTED_INPUT, "column \"%s\": nested too deeply", path);
  if (strcmp(fmt, "n") == 0) return b->status;
  if (a->n_buffers > 0 && a->buffers[0] != NULL) {
    uint8_t* v = wasinfer_column_validity(col);
    if (v == NULL) return b->status;
    int64_t nulls = 0;
    for (int64_t i = 0; i < n; i++)
      if (!wasinfer_bit_get(a->buffers[0], a->offset + idx[i])) wasinfer_bit_set(v, i, 0), nulls++;
    col.array->null_count = nulls;
  }
  int64_t w = wasinfer_format_byte_width(fmt);
  if (f->dictionary != NULL) col.array->dictionary = a->dictionary; /* aliased, lives until release */
  if (strcmp(fmt, "b") == 0) {
    uint8_t* d = (uint8_t*)wasinfer_column_calloc_buffer(col, 1, (n + 7) / 8);
    if (d == NULL) return b->status;
    for (int64_t i = 0; i < n; i++)
      if (wasinfer_bit_get(a->buffers[1], a->offset + idx[i])) wasinfer_bit_set(d, i, 1);
    return b->status;
  }
  if (w > 0 && f->n_children == 0) {
    uint8_t* d = (uint8_t*)wasinfer_column_alloc_buffer(col, 1, n * w);
    if (d == NULL) return b->status;
    const uint8_t* s = (const uint8_t*)a->buffers[1];
    for (int64_t i = 0; i < n; i++) memcpy(d + i * w, s + (a->offset + idx[i]) * w, (size_t)w);
    return b->status;
  }
  int large = strcmp(fmt, "U") == 0 || strcmp(fmt, "Z") == 0 || strcmp(fmt, "+L") == 0;
  if (strcmp(fmt, "u") == 0 || strcmp(fmt, "z") == 0 || strcmp(fmt, "U") == 0 || strcmp(fmt, "Z") == 0 ||
      strcmp(fmt, "+l") == 0 || strcmp(fmt, "+L") == 0) {
    int list = fmt[0] == '+';
#define UDFS_OFF(i) (large ? ((const int64_t*)a->buffers[1])[a->offset + (i)] : (int64_t)((const int32_t*)a->buffers[1])[a->offset + (i)])
    int64_t total = 0;
    for (int64_t i = 0; i < n; i++) total += UDFS_OFF(idx[i] + 1) - UDFS_OFF(idx[i]);
    void* off = wasinfer_column_alloc_buffer(col, 1, (n + 1) * (large ? 8 : 4));
    if (off == NULL) return b->status;
    int64_t pos = 0;
    for (int64_t i = 0; i <= n; i++) {
      if (large) ((int64_t*)off)[i] = pos;
      else ((int32_t*)off)[i] = (int32_t)pos;
      if (i < n) pos += UDFS_OFF(idx[i] + 1) - UDFS_OFF(idx[i]);
    }
    if (!list) {
      uint8_t* d = (uint8_t*)wasinfer_column_alloc_buffer(col, 2, total);
      if (d == NULL) return b->status;
      const uint8_t* s = (const uint8_t*)a->buffers[2];
      for (int64_t i = 0, p = 0; i < n; i++) {
        int64_t st = UDFS_OFF(idx[i]), len = UDFS_OFF(idx[i] + 1) - st;
        memcpy(d + p, s + st, (size_t)len);
        p += len;
      }
      return b->status;
    }
    int64_t* cidx = (int64_t*)malloc((size_t)(total ? total : 1) * sizeof(int64_t));
    if (cidx == NULL) return wasinfer_set_error_status(WASINFER_OUT_OF_MEMORY, "column \"%s\": out of memory", path);
    for (int64_t i = 0, p = 0; i < n; i++)
      for (int64_t e = UDFS_OFF(idx[i]); e < UDFS_OFF(idx[i] + 1); e++) cidx[p++] = e;
#undef UDFS_OFF
    int st = udfs__child(col, f, a, 0, cidx, total, path, depth);
    free(cidx);
    return st;
  }
  if (strncmp(fmt, "+w:", 3) == 0) {
    int64_t size = strtoll(fmt + 3, NULL, 10), total = n * size;
    int64_t* cidx = (int64_t*)malloc((size_t)(total ? total : 1) * sizeof(int64_t));
    if (cidx == NULL) return wasinfer_set_error_status(WASINFER_OUT_OF_MEMORY, "column \"%s\": out of memory", path);
    for (int64_t i = 0; i < n; i++)
      for (int64_t k = 0; k < size; k++) cidx[i * size + k] = (a->offset + idx[i]) * size + k;
    int st = udfs__child(col, f, a, 0, cidx, total, path, depth);
    free(cidx);
    return st;
  }
  if (strcmp(fmt, "+s") == 0) {
    int64_t* cidx = (int64_t*)malloc((size_t)(n ? n : 1) * sizeof(int64_t));
    if (cidx == NULL) return wasinfer_set_error_status(WASINFER_OUT_OF_MEMORY, "column \"%s\": out of memory", path);
    for (int64_t i = 0; i < n; i++) cidx[i] = a->offset + idx[i];
    int st = b->status;
    for (int64_t k = 0; k < f->n_children && st == WASINFER_OK; k++) st = udfs__child(col, f, a, k, cidx, n, path, depth);
    free(cidx);
    return st;
  }
  return wasinfer_set_error_status(WASINFER_UNSUPPORTED_INPUT,
                                   "column \"%s\": format \"%s\" cannot be copied (maps and nested dictionaries "
                                   "are not supported)",
                                   path, fmt);
}

/* Appends to b a copy of input column j (schema f, array a) holding the
 * batch rows rows[0..n): a filter (increasing rows) or a repetition. The
 * batch's offset `base` (in->offset) is added. Returns b->status. */
UDFS_FN int udfs_take(wasinfer_builder* b, const struct ArrowSchema* f, const struct ArrowArray* a, int64_t base,
                      const int64_t* rows, int64_t n) {
  if (b->status != WASINFER_OK) return b->status;
  int64_t* idx = (int64_t*)malloc((size_t)(n ? n : 1) * sizeof(int64_t));
  if (idx == NULL) return wasinfer_set_error_status(WASINFER_OUT_OF_MEMORY, "out of memory");
  for (int64_t i = 0; i < n; i++) idx[i] = base + rows[i];
  wasinfer_column col;
  if (f->n_children == 0) {
    col = wasinfer_builder_add_like(b, f);
  } else {
    col = wasinfer_builder_add(b, f->name, f->format, f->flags);
    udfs_copy_metadata(col, f->metadata);
  }
  int st = col.array ? udfs__fill(col, f, a, idx, n, f->name, 0) : b->status;
  free(idx);
  if (st != WASINFER_OK && b->status == WASINFER_OK) b->status = st;
  return st;
}

#endif /* UDFS_H */
