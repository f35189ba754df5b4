/* poison: a test UDF for the scheduler's failure policy. It passes its input
 * through unchanged unless the batch holds a poisoned row: a row whose int64
 * column `column` is a multiple of `every` (nulls never are). Then it fails
 * the whole batch, with an error status naming the row (bad data), or by
 * trapping when `trap` is true (the host replaces the instance: a transient
 * failure that fails again on retry).
 *
 * Config (all optional): {"column": "x", "every": 1000, "trap": false, "work": 0}
 *   every 1000 poisons 0.1 % of consecutive values, 100 1 %, 10 10 %;
 *         0 poisons nothing.
 *   work  rounds of integer hashing per row, to make the UDF CPU-bound for
 *         the scaling benchmark (default 0)
 */
#define WASINFER_IMPLEMENTATION
#define WASINFER_HAS_INIT
#include "wasinfer.h"

WASINFER_DESCRIBE("{\"name\":\"poison\",\"version\":\"1.0.0\",\"language\":\"c\"}")

static char g_column[256] = "x";
static int64_t g_every = 1000;
static int g_trap = 0;
static int64_t g_work = 0;
volatile uint64_t wasinfer_poison_sink; /* keeps the work from being optimized away */

int wasinfer_udf_init(const char* config, size_t len) {
  wasinfer_json_object it;
  wasinfer_json_object_init(&it, config, len);
  int r;
  while ((r = wasinfer_json_object_next(&it)) == 1) {
    if (strcmp(it.key, "column") == 0) {
      if (wasinfer_json_string(it.value, it.value_len, g_column, sizeof g_column, NULL) != 0 || g_column[0] == 0)
        return wasinfer_set_error_status(WASINFER_INVALID_CONFIG, "invalid config: \"column\" must be a non-empty string");
    } else if (strcmp(it.key, "every") == 0) {
      if (wasinfer_json_int64(it.value, it.value_len, &g_every) != 0 || g_every < 0)
        return wasinfer_set_error_status(WASINFER_INVALID_CONFIG, "invalid config: \"every\" must be an integer >= 0");
    } else if (strcmp(it.key, "work") == 0) {
      if (wasinfer_json_int64(it.value, it.value_len, &g_work) != 0 || g_work < 0)
        return wasinfer_set_error_status(WASINFER_INVALID_CONFIG, "invalid config: \"work\" must be an integer >= 0");
    } else if (strcmp(it.key, "trap") == 0) {
      if (it.value_len == 4 && memcmp(it.value, "true", 4) == 0) {
        g_trap = 1;
      } else if (it.value_len == 5 && memcmp(it.value, "false", 5) == 0) {
        g_trap = 0;
      } else {
        return wasinfer_set_error_status(WASINFER_INVALID_CONFIG, "invalid config: \"trap\" must be true or false");
      }
    } else {
      return wasinfer_set_error_status(WASINFER_INVALID_CONFIG, "invalid config: unknown key \"%s\" (known: column, every, trap, work)", it.key);
    }
  }
  if (r < 0)
    return wasinfer_set_error_status(WASINFER_INVALID_CONFIG, "invalid config: not a JSON object: %s at byte %zu", it.error, it.error_at);
  return WASINFER_OK;
}

int wasinfer_udf_transform(const struct ArrowSchema* in_schema, const struct ArrowArray* in,
                           struct ArrowSchema* out_schema, struct ArrowArray* out) {
  int64_t j = wasinfer_child_index(in_schema, g_column);
  if (j < 0 || strcmp(in_schema->children[j]->format, "l") != 0)
    return wasinfer_set_error_status(WASINFER_UNSUPPORTED_INPUT, "column \"%s\": missing or not int64", g_column);
  const struct ArrowArray* col = in->children[j];
  const int64_t* v = (const int64_t*)col->buffers[1];
  for (int64_t r = 0; r < in->length; r++) {
    int64_t i = col->offset + in->offset + r;
    if (!wasinfer_array_is_valid(col, in->offset + r)) continue;
    int64_t x;
    memcpy(&x, v + i, 8);
    uint64_t h = (uint64_t)x;
    for (int64_t k = 0; k < g_work; k++) h = (h ^ (h >> 29)) * 0xbf58476d1ce4e5b9ULL + (uint64_t)k;
    if (g_work) wasinfer_poison_sink += h;
    if (g_every != 0 && x % g_every == 0) {
      if (g_trap) __builtin_trap();
      return wasinfer_set_error_status(WASINFER_ERROR, "column \"%s\": row %lld: value %lld is poisoned", g_column,
                                       (long long)r, (long long)x);
    }
  }
  return wasinfer_passthrough(in_schema, in, out_schema, out);
}
