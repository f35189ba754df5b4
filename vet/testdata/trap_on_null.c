/* trap_on_null: a broken UDF for vet's tests. It adds column "y" = 2 * x
 * (int64 "x"), and traps (unreachable) when "x" holds a null: the
 * robustness sweep must catch it. */
#define WASINFER_IMPLEMENTATION
#include "wasinfer.h"

int wasinfer_udf_transform(const struct ArrowSchema* in_schema, const struct ArrowArray* in,
                           struct ArrowSchema* out_schema, struct ArrowArray* out) {
  int64_t j = wasinfer_child_index(in_schema, "x");
  if (j < 0 || strcmp(in_schema->children[j]->format, "l") != 0)
    return wasinfer_set_error_status(WASINFER_UNSUPPORTED_INPUT, "column \"x\": missing or not int64");
  const struct ArrowArray* x = in->children[j];
  const int64_t* v = (const int64_t*)x->buffers[1] + x->offset + in->offset;
  wasinfer_builder b;
  wasinfer_builder_init(&b, out_schema, out, in->length, in_schema->metadata);
  wasinfer_builder_pass_all(&b, in_schema, in, -1);
  wasinfer_column y = wasinfer_builder_add(&b, "y", "l", ARROW_FLAG_NULLABLE);
  int64_t* o = (int64_t*)wasinfer_column_alloc_buffer(y, 1, in->length * 8);
  if (b.status != WASINFER_OK) return wasinfer_builder_finish(&b);
  for (int64_t r = 0; r < in->length; r++) {
    if (!wasinfer_array_is_valid(x, in->offset + r)) __builtin_trap();
    o[r] = v[r] * 2;
  }
  return wasinfer_builder_finish(&b);
}
