/* poison: a guest that tries to poison the batches after its failure.
 *
 * Every instance keeps a 256-byte table and a salt in its memory, set up by
 * _initialize. A batch without a column "fail" comes back whole (every input
 * column, aliased) plus a column "row_hash" (int64): for row r, an FNV-1a hash
 * of the table, the salt and r. The output therefore depends on the instance's
 * state, not only on the input.
 *
 * A batch with an int32 column "fail" whose row 0 holds mode m first corrupts
 * that state (overwrites the table, bumps the salt, leaks 1 MiB of heap), then
 * fails in mode m:
 *
 *   1 trap (unreachable)          2 loop forever           3 grow memory to the limit, then trap
 *   4 forged output (status 0)    5 proc_exit(7)           6 status ERROR (does NOT corrupt: the
 *   7 status OUT_OF_MEMORY        8 output of another schema  instance stays in service)
 *   9 status ERROR after corrupting: the control. The instance stays in service
 *     (a plain error does not replace it), so the next batch differs from a
 *     fresh instance's: this proves the test can see poisoning.
 *
 * Expected: the host replaces the instance after every mode but 6, so the next
 * batch on the same pool gives exactly the output of a fresh instance
 * (poison_test.go).
 */
#define WASINFER_IMPLEMENTATION
#include "wasinfer.h"

#include <stdlib.h>
#include <string.h>
#include <wasi/api.h>

static uint8_t g_table[256];
static uint64_t g_salt;

__attribute__((constructor)) static void setup(void) {
  for (int i = 0; i < 256; i++) g_table[i] = (uint8_t)(i * 37 + 11);
  g_salt = 0x9e3779b97f4a7c15ull;
}

static int64_t row_hash(int64_t r) {
  uint64_t h = 0xcbf29ce484222325ull ^ g_salt;
  for (int i = 0; i < 256; i++) h = (h ^ g_table[i]) * 0x100000001b3ull;
  for (int i = 0; i < 8; i++) h = (h ^ (uint8_t)(r >> (8 * i))) * 0x100000001b3ull;
  return (int64_t)h;
}

static void corrupt(void) {
  memset(g_table, 0xa5, sizeof g_table);
  g_salt++;
  volatile char* leak = malloc(1 << 20);
  if (leak) leak[0] = 1;
}

/* A static, forged output tree: one child whose array pointer is outside memory. */
static const char g_fmt_struct[] = "+s";
static const char g_fmt_int8[] = "c";
static const char g_name_x[] = "x";
static struct ArrowSchema* g_forged_children[1] = {(struct ArrowSchema*)0xfffffff0u};
static struct ArrowArray* g_forged_arrays[1] = {(struct ArrowArray*)0xfffffff0u};
static const void* g_no_buffers[2] = {NULL, NULL};
static int8_t g_int8_value[1] = {42};

int wasinfer_udf_transform(const struct ArrowSchema* in_schema, const struct ArrowArray* in,
                           struct ArrowSchema* out_schema, struct ArrowArray* out) {
  int64_t fi = wasinfer_child_index(in_schema, "fail");
  if (fi >= 0 && in->length > 0 && strcmp(in_schema->children[fi]->format, "i") == 0) {
    const struct ArrowArray* col = in->children[fi];
    int32_t mode = ((const int32_t*)col->buffers[1])[col->offset + in->offset];
    if (mode == 6) return wasinfer_set_error_status(WASINFER_ERROR, "poison: mode 6, a plain error");
    corrupt();
    switch (mode) {
      case 1:
        __builtin_trap();
      case 2:
        for (volatile int spin = 1; spin;) {
        }
        break;
      case 3:
        while (__builtin_wasm_memory_grow(0, 16) != (size_t)-1) {
        }
        while (__builtin_wasm_memory_grow(0, 1) != (size_t)-1) {
        }
        __builtin_trap();
      case 4:
        memset(out_schema, 0, sizeof *out_schema);
        memset(out, 0, sizeof *out);
        out_schema->format = g_fmt_struct;
        out_schema->n_children = 1;
        out_schema->children = g_forged_children;
        out->length = 1;
        out->n_buffers = 1;
        out->buffers = g_no_buffers;
        out->n_children = 1;
        out->children = g_forged_arrays;
        return WASINFER_OK;
      case 5:
        __wasi_proc_exit(7);
      case 9:
        return wasinfer_set_error_status(WASINFER_ERROR, "poison: mode 9, an error after corrupting");
      case 7:
        return wasinfer_set_error_status(WASINFER_OUT_OF_MEMORY, "poison: mode 7, out of memory");
      case 8: {
        wasinfer_builder b;
        wasinfer_builder_init(&b, out_schema, out, 1, NULL);
        wasinfer_column c = wasinfer_builder_add(&b, g_name_x, g_fmt_int8, 0);
        wasinfer_column_set_buffer(c, 1, g_int8_value);
        return wasinfer_builder_finish(&b);
      }
    }
    return wasinfer_set_error_status(WASINFER_ERROR, "poison: unknown mode %d", (int)mode);
  }

  wasinfer_builder b;
  wasinfer_builder_init(&b, out_schema, out, in->length, in_schema->metadata);
  wasinfer_builder_pass_all(&b, in_schema, in, -1);
  wasinfer_column h = wasinfer_builder_add(&b, "row_hash", "l", 0);
  int64_t* v = wasinfer_column_alloc_buffer(h, 1, in->length * 8);
  if (v)
    for (int64_t r = 0; r < in->length; r++) v[r] = row_hash(r);
  return wasinfer_builder_finish(&b);
}
