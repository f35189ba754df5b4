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


/* ---- taking rows (filter, explode, repeat) --------------------------------------- */

/* udfs_take copies chosen rows of an input column into a new output column.
 *
 * Rows are copied as runs: batch rows that follow each other (r, r + 1, ...)
 * are one run, and a run of rows is a run of elements in every array below
 * the column. A fixed-width column's run is one memcpy; a fixed_size_list's
 * (a tensor's) is a run of N times as many child elements, so a tensor row,
 * or a run of them, is one memcpy however deep the nesting; a list's run is
 * the run of child elements its offsets span; a struct's is the same run in
 * every child. Only offsets (rebased element by element) and bitmaps
 * (validity, booleans: a byte at a time, memcpy when the bits line up) are
 * rewritten. The work space is one run per chosen row and level.
 *
 * Copies: null, boolean, fixed-width (integers, floats, decimals,
 * fixed_size_binary, temporal types), binary and utf8 and their large
 * variants, lists and large lists, fixed_size_lists (tensors) and structs
 * of any of these, nested up to UDFS_TAKE_MAX_DEPTH levels, and
 * dictionary-encoded columns at the top level (the dictionary is aliased).
 * Not: maps, unions, views, run-end encoding, dictionaries inside nested
 * columns (udfs_take_check says which). */

#define UDFS_TAKE_MAX_DEPTH 16
#define UDFS_TAKE_SUPPORTED                                                                                    \
  "null, boolean, fixed-width, binary, utf8, lists, fixed size lists and tensors, structs, and dictionaries at " \
  "the top level"

/* Elements [start, start + count) of an array, counted from its offset
 * (which the copy adds). */
typedef struct udfs_run {
  int64_t start, count;
} udfs_run;

/* Returns NULL when the column (at nesting depth) can be copied, else the
 * format that cannot be, or "" when it is nested too deeply. */
static const char* udfs__take_bad(const struct ArrowSchema* f, int depth) {
  const char* fmt = f->format;
  if (depth > UDFS_TAKE_MAX_DEPTH) return "";
  if (f->dictionary != NULL) return depth == 0 && f->n_children == 0 && wasinfer_format_byte_width(fmt) > 0 ? NULL : fmt;
  if (strncmp(fmt, "+w:", 3) == 0) {
    char* end;
    long long n = strtoll(fmt + 3, &end, 10);
    if (*end != 0 || n <= 0 || f->n_children != 1) return fmt;
    return udfs__take_bad(f->children[0], depth + 1);
  }
  if (strcmp(fmt, "+l") == 0 || strcmp(fmt, "+L") == 0)
    return f->n_children == 1 ? udfs__take_bad(f->children[0], depth + 1) : fmt;
  if (strcmp(fmt, "+s") == 0) {
    for (int64_t k = 0; k < f->n_children; k++) {
      const char* bad = udfs__take_bad(f->children[k], depth + 1);
      if (bad != NULL) return bad;
    }
    return NULL;
  }
  if (f->n_children != 0) return fmt;
  if (strcmp(fmt, "n") == 0 || strcmp(fmt, "b") == 0 || strcmp(fmt, "u") == 0 || strcmp(fmt, "z") == 0 ||
      strcmp(fmt, "U") == 0 || strcmp(fmt, "Z") == 0 || wasinfer_format_byte_width(fmt) > 0)
    return NULL;
  return fmt;
}

/* WASINFER_OK when udfs_take can copy a column of schema f; else
 * UNSUPPORTED_INPUT with a message that names the column and the format.
 * Cost: a walk of f's children. */
UDFS_FN int udfs_take_check(const struct ArrowSchema* f) {
  const char* name = f->name ? f->name : "";
  const char* bad = udfs__take_bad(f, 0);
  if (bad == NULL) return WASINFER_OK;
  if (bad[0] == 0)
    return wasinfer_set_error_status(WASINFER_UNSUPPORTED_INPUT,
                                     "column \"%s\": nested more than %d levels deep, which cannot be copied: drop the "
                                     "column before this stage",
                                     name, UDFS_TAKE_MAX_DEPTH);
  return wasinfer_set_error_status(WASINFER_UNSUPPORTED_INPUT,
                                   "column \"%s\": format \"%s\"%s cannot be copied (supported: " UDFS_TAKE_SUPPORTED
                                   "): drop the column before this stage",
                                   name, bad, bad == f->format ? "" : " inside it");
}

/* Copies n bits of src from bit spos to dst from bit dpos; returns how many
 * of them are 0. */
static int64_t udfs__copy_bits(uint8_t* dst, int64_t dpos, const uint8_t* src, int64_t spos, int64_t n) {
  int64_t zeros = 0;
  for (; n > 0 && (dpos & 7) != 0; n--, dpos++, spos++) {
    int v = wasinfer_bit_get(src, spos);
    wasinfer_bit_set(dst, dpos, v);
    zeros += !v;
  }
  int64_t bytes = n >> 3;
  if (bytes > 0) {
    uint8_t* d = dst + (dpos >> 3);
    const uint8_t* s = src + (spos >> 3);
    const int sh = (int)(spos & 7);
    if (sh == 0) memcpy(d, s, (size_t)bytes);
    else
      for (int64_t i = 0; i < bytes; i++) d[i] = (uint8_t)((s[i] >> sh) | (s[i + 1] << (8 - sh)));
    for (int64_t i = 0; i < bytes; i++) zeros += 8 - __builtin_popcount(d[i]);
    dpos += bytes * 8, spos += bytes * 8, n -= bytes * 8;
  }
  for (; n > 0; n--, dpos++, spos++) {
    int v = wasinfer_bit_get(src, spos);
    wasinfer_bit_set(dst, dpos, v);
    zeros += !v;
  }
  return zeros;
}

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
                      const udfs_run* runs, int64_t nruns, int64_t total, const char* path);

/* Adds child k of f to col, like f's (name, format, flags, metadata), and
 * fills it with the runs of a's child k. */
static int udfs__child(wasinfer_column col, const struct ArrowSchema* f, const struct ArrowArray* a, int64_t k,
                       const udfs_run* runs, int64_t nruns, int64_t total, const char* path) {
  const struct ArrowSchema* cf = f->children[k];
  wasinfer_column c = wasinfer_column_add_child(col, cf->name ? cf->name : "", cf->format, cf->flags);
  if (c.array == NULL) return col.builder->status;
  udfs_copy_metadata(c, cf->metadata);
  return udfs__fill(c, cf, a->children[k], runs, nruns, total, path);
}

/* Element i's offset in buffer 1 of a variable-width array. */
static inline int64_t udfs__offset(const void* offs, int large, int64_t i) {
  if (offs == NULL) return 0; /* allowed when offset + length is 0 */
  return large ? ((const int64_t*)offs)[i] : (int64_t)((const int32_t*)offs)[i];
}

/* Fills col (new, like f, checked by udfs__take_bad) with the runs of a;
 * total is the sum of their counts. */
static int udfs__fill(wasinfer_column col, const struct ArrowSchema* f, const struct ArrowArray* a,
                      const udfs_run* runs, int64_t nruns, int64_t total, const char* path) {
  wasinfer_builder* b = col.builder;
  const char* fmt = f->format;
  const int64_t off = a->offset;
  col.array->length = total;
  if (strcmp(fmt, "n") == 0) {
    col.array->null_count = total;
    return b->status;
  }
  if (a->n_buffers > 0 && a->buffers[0] != NULL) {
    uint8_t* v = wasinfer_column_validity(col);
    if (v == NULL) return b->status;
    int64_t nulls = 0, pos = 0;
    for (int64_t i = 0; i < nruns; i++) {
      nulls += udfs__copy_bits(v, pos, (const uint8_t*)a->buffers[0], off + runs[i].start, runs[i].count);
      pos += runs[i].count;
    }
    col.array->null_count = nulls;
  }
  if (f->dictionary != NULL) col.array->dictionary = a->dictionary; /* aliased, lives until release */
  if (strcmp(fmt, "b") == 0) {
    uint8_t* d = (uint8_t*)wasinfer_column_calloc_buffer(col, 1, (total + 7) / 8);
    if (d == NULL) return b->status;
    for (int64_t i = 0, pos = 0; i < nruns; pos += runs[i].count, i++)
      udfs__copy_bits(d, pos, (const uint8_t*)a->buffers[1], off + runs[i].start, runs[i].count);
    return b->status;
  }
  int64_t w = wasinfer_format_byte_width(fmt);
  if (w > 0 && f->n_children == 0) {
    uint8_t* d = (uint8_t*)wasinfer_column_alloc_buffer(col, 1, total * w);
    if (d == NULL) return b->status;
    const uint8_t* s = (const uint8_t*)a->buffers[1];
    for (int64_t i = 0, pos = 0; i < nruns; pos += runs[i].count, i++)
      memcpy(d + pos * w, s + (off + runs[i].start) * w, (size_t)(runs[i].count * w));
    return b->status;
  }
  if (strncmp(fmt, "+w:", 3) == 0 || strcmp(fmt, "+s") == 0) {
    const int64_t size = fmt[1] == 'w' ? strtoll(fmt + 3, NULL, 10) : 1;
    udfs_run* sub = (udfs_run*)malloc((size_t)(nruns ? nruns : 1) * sizeof(udfs_run));
    if (sub == NULL) return wasinfer_set_error_status(WASINFER_OUT_OF_MEMORY, "column \"%s\": out of memory", path);
    for (int64_t i = 0; i < nruns; i++) sub[i].start = (off + runs[i].start) * size, sub[i].count = runs[i].count * size;
    int st = b->status;
    for (int64_t k = 0; k < f->n_children && st == WASINFER_OK; k++)
      st = udfs__child(col, f, a, k, sub, nruns, total * size, path);
    free(sub);
    return st;
  }
  /* Variable width: utf8, binary and lists, with 32- or 64-bit offsets. */
  const int large = strcmp(fmt, "U") == 0 || strcmp(fmt, "Z") == 0 || strcmp(fmt, "+L") == 0;
  const int list = fmt[0] == '+';
  const void* offs = a->buffers[1];
  int64_t elems = 0;
  for (int64_t i = 0; i < nruns; i++)
    elems += udfs__offset(offs, large, off + runs[i].start + runs[i].count) - udfs__offset(offs, large, off + runs[i].start);
  if (!large && elems > INT32_MAX)
    return wasinfer_set_error_status(WASINFER_UNSUPPORTED_INPUT,
                                     "column \"%s\": the rows taken hold %lld %s, more than 32-bit offsets can address "
                                     "(use the large_ type)",
                                     path, (long long)elems, list ? "elements" : "bytes");
  uint8_t* o = (uint8_t*)wasinfer_column_alloc_buffer(col, 1, (total + 1) * (large ? 8 : 4));
  if (o == NULL) return b->status;
  int64_t pos = 0, at = 0;
  for (int64_t i = 0; i < nruns; i++) {
    const int64_t first = off + runs[i].start, base = udfs__offset(offs, large, first);
    for (int64_t e = 0; e < runs[i].count; e++, at++) {
      int64_t v = pos + udfs__offset(offs, large, first + e) - base;
      if (large) ((int64_t*)o)[at] = v;
      else ((int32_t*)o)[at] = (int32_t)v;
    }
    pos += udfs__offset(offs, large, first + runs[i].count) - base;
  }
  if (large) ((int64_t*)o)[at] = pos;
  else ((int32_t*)o)[at] = (int32_t)pos;
  if (!list) {
    uint8_t* d = (uint8_t*)wasinfer_column_alloc_buffer(col, 2, elems);
    if (d == NULL) return b->status;
    const uint8_t* s = (const uint8_t*)a->buffers[2];
    for (int64_t i = 0, p = 0; i < nruns; i++) {
      const int64_t s0 = udfs__offset(offs, large, off + runs[i].start);
      const int64_t len = udfs__offset(offs, large, off + runs[i].start + runs[i].count) - s0;
      if (len > 0) memcpy(d + p, s + s0, (size_t)len);
      p += len;
    }
    return b->status;
  }
  udfs_run* sub = (udfs_run*)malloc((size_t)(nruns ? nruns : 1) * sizeof(udfs_run));
  if (sub == NULL) return wasinfer_set_error_status(WASINFER_OUT_OF_MEMORY, "column \"%s\": out of memory", path);
  int64_t ns = 0;
  for (int64_t i = 0; i < nruns; i++) {
    const int64_t s0 = udfs__offset(offs, large, off + runs[i].start);
    const int64_t len = udfs__offset(offs, large, off + runs[i].start + runs[i].count) - s0;
    if (len > 0) sub[ns].start = s0, sub[ns].count = len, ns++;
  }
  int st = udfs__child(col, f, a, 0, sub, ns, elems, path);
  free(sub);
  return st;
}

/* Appends to b a copy of input column f (schema) / a (array) holding the
 * batch rows rows[0..n): a filter (increasing rows), an explode (rows
 * repeated) or any other selection; the batch's offset `base` (in->offset)
 * is added. Consecutive rows are copied as one run (see above). The output
 * column has f's name, format, flags and metadata. Returns b->status; a
 * column udfs_take_check refuses fails b with its message. */
UDFS_FN int udfs_take(wasinfer_builder* b, const struct ArrowSchema* f, const struct ArrowArray* a, int64_t base,
                      const int64_t* rows, int64_t n) {
  if (b->status != WASINFER_OK) return b->status;
  int st = udfs_take_check(f);
  if (st != WASINFER_OK) return b->status = st;
  udfs_run* runs = (udfs_run*)malloc((size_t)(n ? n : 1) * sizeof(udfs_run));
  if (runs == NULL)
    return b->status = wasinfer_set_error_status(WASINFER_OUT_OF_MEMORY, "column \"%s\": out of memory for %lld rows",
                                                 f->name ? f->name : "", (long long)n);
  int64_t nruns = 0;
  for (int64_t i = 0; i < n; i++) {
    const int64_t e = base + rows[i];
    if (nruns > 0 && runs[nruns - 1].start + runs[nruns - 1].count == e) runs[nruns - 1].count++;
    else runs[nruns].start = e, runs[nruns].count = 1, nruns++;
  }
  wasinfer_column col;
  if (f->n_children == 0) {
    col = wasinfer_builder_add_like(b, f);
  } else {
    col = wasinfer_builder_add(b, f->name, f->format, f->flags);
    udfs_copy_metadata(col, f->metadata);
  }
  st = col.array ? udfs__fill(col, f, a, runs, nruns, n, f->name ? f->name : "") : b->status;
  free(runs);
  if (st != WASINFER_OK && b->status == WASINFER_OK) b->status = st;
  return st;
}

#endif /* UDFS_H */
