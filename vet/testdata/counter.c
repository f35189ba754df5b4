/* counter: a nondeterministic UDF for vet's tests. It adds column "n",
 * int64, the number of batches this instance has transformed before: two
 * instances that served different numbers of batches disagree, which the
 * determinism check must catch. */
#define WASINFER_IMPLEMENTATION
#include "wasinfer.h"

static int64_t calls;

int wasinfer_udf_transform(const struct ArrowSchema* in_schema, const struct ArrowArray* in,
                           struct ArrowSchema* out_schema, struct ArrowArray* out) {
  wasinfer_builder b;
  wasinfer_builder_init(&b, out_schema, out, in->length, in_schema->metadata);
  wasinfer_builder_pass_all(&b, in_schema, in, -1);
  wasinfer_column n = wasinfer_builder_add(&b, "n", "l", 0);
  int64_t* o = (int64_t*)wasinfer_column_alloc_buffer(n, 1, in->length * 8);
  if (b.status != WASINFER_OK) return wasinfer_builder_finish(&b);
  for (int64_t r = 0; r < in->length; r++) o[r] = calls;
  calls++;
  return wasinfer_builder_finish(&b);
}
