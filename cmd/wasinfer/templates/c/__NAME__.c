/* __NAME__: a wasinfer UDF (ABI v1) in C, built on the SDK in wasinfer.h.
 *
 * It appends the float64 column "<column>_out" = <column> * factor to every
 * batch; the input columns pass through without a copy. A null stays null.
 *
 * Configuration (a JSON object; every key is optional):
 *   column  the int64 or float64 column to scale (default "value")
 *   factor  the number to multiply by (default 2)
 *
 * Errors, as the host reports them:
 *   INVALID_CONFIG     an unknown key, or a key of the wrong type
 *   UNSUPPORTED_INPUT  the column is missing or not int64/float64, or the
 *                      output column is already in the input
 *   ERROR              a product that is not finite, naming column and row
 *
 * Build: make (or wasinfer udf build). Test: make test.
 */
#define WASINFER_IMPLEMENTATION
#define WASINFER_HAS_INIT
#include "wasinfer.h"

#include <math.h>
#include <stdio.h>

WASINFER_DESCRIBE(
    "{\"name\":\"__NAME__\",\"version\":\"0.1.0\",\"language\":\"c\","
    "\"description\":\"appends <column>_out = <column> * factor (float64)\"}")

#define MAX_NAME 240 /* room for the "_out" suffix in WASINFER_JSON_MAX_KEY */

static char g_column[MAX_NAME] = "value";
static char g_output[MAX_NAME + 4] = "value_out";
static double g_factor = 2;

/* The JSON type of a value's text, for messages. */
static const char* json_kind(const char* v) {
  switch (v[0]) {
    case '"': return "a string";
    case '{': return "an object";
    case '[': return "an array";
    case 't': case 'f': return "a boolean";
    case 'n': return "null";
    default: return "a number";
  }
}

int wasinfer_udf_init(const char* config, size_t len) {
  char column[MAX_NAME] = "value";
  double factor = 2;
  wasinfer_json_object it;
  wasinfer_json_object_init(&it, config, len);
  int r;
  while ((r = wasinfer_json_object_next(&it)) == 1) {
    if (strcmp(it.key, "column") == 0) {
      int s = wasinfer_json_string(it.value, it.value_len, column, sizeof column, NULL);
      if (s == -1)
        return wasinfer_set_error_status(WASINFER_INVALID_CONFIG, "config: \"column\" must be a string, got %s",
                                         json_kind(it.value));
      if (s == -2)
        return wasinfer_set_error_status(WASINFER_INVALID_CONFIG,
                                         "config: \"column\" must be at most %d bytes", MAX_NAME - 1);
      if (column[0] == 0)
        return wasinfer_set_error_status(WASINFER_INVALID_CONFIG, "config: \"column\" must not be empty");
    } else if (strcmp(it.key, "factor") == 0) {
      if (wasinfer_json_number(it.value, it.value_len, &factor) != 0)
        return wasinfer_set_error_status(WASINFER_INVALID_CONFIG, "config: \"factor\" must be a number, got %s",
                                         json_kind(it.value));
    } else {
      return wasinfer_set_error_status(WASINFER_INVALID_CONFIG,
                                       "config: unknown key \"%s\" (known keys: column, factor)", it.key);
    }
  }
  if (r < 0)
    return wasinfer_set_error_status(WASINFER_INVALID_CONFIG, "config: invalid JSON: %s at byte %zu", it.error,
                                     it.error_at);
  memcpy(g_column, column, sizeof column);
  strcpy(g_output, column);
  strcat(g_output, "_out");
  g_factor = factor;
  return WASINFER_OK;
}

/* The UNSUPPORTED_INPUT error for a missing column, listing the batch's columns. */
static int missing_column(const struct ArrowSchema* in_schema) {
  char names[1024];
  size_t n = 0;
  names[0] = 0;
  for (int64_t i = 0; i < in_schema->n_children && n < sizeof names; i++)
    n += (size_t)snprintf(names + n, sizeof names - n, "%s\"%s\"", i ? ", " : "", in_schema->children[i]->name);
  return wasinfer_set_error_status(WASINFER_UNSUPPORTED_INPUT, "column \"%s\": not found in the input (columns: %s)",
                                   g_column, in_schema->n_children ? names : "none");
}

int wasinfer_udf_transform(const struct ArrowSchema* in_schema, const struct ArrowArray* in,
                           struct ArrowSchema* out_schema, struct ArrowArray* out) {
  int64_t j = wasinfer_child_index(in_schema, g_column);
  if (j < 0) return missing_column(in_schema);
  if (wasinfer_child_index(in_schema, g_output) >= 0)
    return wasinfer_set_error_status(WASINFER_UNSUPPORTED_INPUT, "column \"%s\": already in the input", g_output);
  const char* format = in_schema->children[j]->format;
  int is_int = strcmp(format, "l") == 0, is_float = strcmp(format, "g") == 0;
  if ((!is_int && !is_float) || in_schema->children[j]->dictionary != NULL)
    return wasinfer_set_error_status(WASINFER_UNSUPPORTED_INPUT,
                                     "column \"%s\": want int64 or float64, got format \"%s\"", g_column, format);

  /* Row r of the column is element base + r of its buffers (spec 4.3). */
  const struct ArrowArray* col = in->children[j];
  const int64_t rows = in->length, base = col->offset + in->offset;

  wasinfer_builder b;
  wasinfer_builder_init(&b, out_schema, out, rows, in_schema->metadata);
  wasinfer_builder_pass_all(&b, in_schema, in, -1); /* every input column, aliased */
  wasinfer_column o = wasinfer_builder_add(&b, g_output, "g", ARROW_FLAG_NULLABLE);
  double* v = (double*)wasinfer_column_alloc_buffer(o, 1, rows * 8);
  uint8_t* valid = col->buffers[0] != NULL ? wasinfer_column_validity(o) : NULL;
  if (b.status != WASINFER_OK) return wasinfer_builder_finish(&b); /* out of memory */
  int64_t nulls = 0;
  for (int64_t r = 0; r < rows; r++) {
    if (valid != NULL && !wasinfer_bit_get(col->buffers[0], base + r)) {
      wasinfer_bit_set(valid, r, 0);
      v[r] = 0;
      nulls++;
      continue;
    }
    double x;
    if (is_int) {
      int64_t i;
      memcpy(&i, (const char*)col->buffers[1] + (base + r) * 8, 8);
      x = (double)i;
    } else {
      memcpy(&x, (const char*)col->buffers[1] + (base + r) * 8, 8);
    }
    v[r] = x * g_factor;
    if (!isfinite(v[r])) {
      wasinfer_builder_abort(&b);
      return wasinfer_set_error("column \"%s\": row %lld: value * factor is not finite", g_column, (long long)r);
    }
  }
  if (valid != NULL) o.array->null_count = nulls;
  return wasinfer_builder_finish(&b);
}
