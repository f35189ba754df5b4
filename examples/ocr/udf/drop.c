/* drop: pass every input column through except the ones named in the
 * config, without copying anything. The OCR example uses it to drop the
 * recognizer's per-step probabilities (100 × 6625 floats a row) after
 * decoding, so that they are not written to the output.
 *
 * Config: {"columns": ["probs", ...]}: the names to drop (required, 1 to
 * 64 names); a name that is not in the batch is an error, so a typo is not
 * silently ignored. */
#define WASINFER_IMPLEMENTATION
#define WASINFER_HAS_INIT
#include "wasinfer.h"

WASINFER_DESCRIBE("{\"name\":\"drop\",\"version\":\"1.0.0\",\"language\":\"c\"}")

#define MAX_DROP 64
#define MAX_NAME 256

static char g_drop[MAX_DROP][MAX_NAME];
static int g_n = 0;

/* Reads a JSON array of strings from v into names; returns the count or
 * -1. */
static int read_names(const char* v, size_t len, char names[MAX_DROP][MAX_NAME]) {
  const char *p = v, *end = v + len;
  while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
  if (p == end || *p != '[') return -1;
  p++;
  int n = 0;
  for (;;) {
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == ',')) p++;
    if (p < end && *p == ']') return n;
    if (p == end || *p != '"' || n == MAX_DROP) return -1;
    const char* s = p++;
    while (p < end && *p != '"') p += *p == '\\' ? 2 : 1;
    if (p >= end) return -1;
    p++;
    if (wasinfer_json_string(s, (size_t)(p - s), names[n], MAX_NAME, NULL) != 0 || names[n][0] == 0) return -1;
    n++;
  }
}

int wasinfer_udf_init(const char* config, size_t len) {
  char names[MAX_DROP][MAX_NAME];
  int n = -1;
  wasinfer_json_object it;
  wasinfer_json_object_init(&it, config, len);
  int r;
  while ((r = wasinfer_json_object_next(&it)) == 1) {
    if (strcmp(it.key, "columns") != 0)
      return wasinfer_set_error_status(WASINFER_INVALID_CONFIG, "invalid config: unknown key \"%s\" (known: columns)", it.key);
    if ((n = read_names(it.value, it.value_len, names)) <= 0)
      return wasinfer_set_error_status(WASINFER_INVALID_CONFIG,
                                       "invalid config: \"columns\" must be an array of 1 to 64 non-empty strings");
  }
  if (r < 0)
    return wasinfer_set_error_status(WASINFER_INVALID_CONFIG, "invalid config: not a JSON object: %s at byte %zu",
                                     it.error, it.error_at);
  if (n <= 0)
    return wasinfer_set_error_status(WASINFER_INVALID_CONFIG, "invalid config: \"columns\" (the columns to drop) is required");
  memcpy(g_drop, names, sizeof names);
  g_n = n;
  return WASINFER_OK;
}

int wasinfer_udf_transform(const struct ArrowSchema* in_schema, const struct ArrowArray* in,
                           struct ArrowSchema* out_schema, struct ArrowArray* out) {
  for (int k = 0; k < g_n; k++)
    if (wasinfer_child_index(in_schema, g_drop[k]) < 0)
      return wasinfer_set_error_status(WASINFER_UNSUPPORTED_INPUT, "column \"%s\": not in the input batch, so it cannot be dropped",
                                       g_drop[k]);
  wasinfer_builder b;
  wasinfer_builder_init(&b, out_schema, out, in->length, in_schema->metadata);
  for (int64_t i = 0; i < in_schema->n_children; i++) {
    const char* name = in_schema->children[i]->name ? in_schema->children[i]->name : "";
    int drop = 0;
    for (int k = 0; k < g_n && !drop; k++) drop = strcmp(name, g_drop[k]) == 0;
    if (!drop) wasinfer_builder_pass(&b, in_schema, in, i);
  }
  return wasinfer_builder_finish(&b);
}
