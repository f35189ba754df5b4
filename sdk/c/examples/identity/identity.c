/* identity: output == input, without copying anything.
 *
 * The smallest useful UDF: wasinfer_passthrough copies the two top-level
 * structures (format "+s", the children pointers, the buffers pointer) into the
 * output and sets release callbacks that free nothing; every column of the
 * output aliases the host's input block (spec 5.2), which the host copies out
 * before it reuses it.
 *
 * Build: make -C sdk/c udfs (clang-14 --target=wasm32-wasi -O2 -mexec-model=reactor).
 */
#define WASINFER_IMPLEMENTATION
#include "wasinfer.h"

WASINFER_DESCRIBE(
    "{\"name\":\"identity\",\"version\":\"1.0.0\",\"language\":\"c\","
    "\"description\":\"Returns every batch unchanged, without copying.\"}")

int wasinfer_udf_transform(const struct ArrowSchema* in_schema, const struct ArrowArray* in,
                           struct ArrowSchema* out_schema, struct ArrowArray* out) {
  return wasinfer_passthrough(in_schema, in, out_schema, out);
}
