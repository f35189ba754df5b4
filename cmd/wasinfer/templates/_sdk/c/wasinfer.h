/* wasinfer.h - C guest SDK for wasinfer UDFs, ABI v1. Single header, no dependencies
 * beyond the C standard library (wasi-libc on wasm32).
 *
 * The contract this header implements is abi/spec.md (ABI v1). Read it once; this
 * comment is the short version.
 *
 * ============================================================================
 * USING IT
 * ============================================================================
 *
 * In exactly ONE .c file of your UDF:
 *
 *     #define WASINFER_IMPLEMENTATION
 *     #include "wasinfer.h"
 *
 * That file then defines every export the host needs (spec section 2):
 * wasinfer_abi_v1, wasinfer_alloc, wasinfer_free, wasinfer_transform,
 * wasinfer_release, wasinfer_last_error, and - when you opt in - wasinfer_init.
 * You write one function:
 *
 *     int wasinfer_udf_transform(const struct ArrowSchema* in_schema,
 *                                const struct ArrowArray* in,
 *                                struct ArrowSchema* out_schema,
 *                                struct ArrowArray* out);
 *
 * Other files may include the header without WASINFER_IMPLEMENTATION to get the
 * declarations.
 *
 * Options (define before the #include that has WASINFER_IMPLEMENTATION):
 *
 *   WASINFER_HAS_INIT   export wasinfer_init and forward it to your
 *                           int wasinfer_udf_init(const char* config, size_t len);
 *                       `config` is the stage's JSON configuration (an object, not
 *                       NUL-terminated, "" with len 0 when the stage has none). It is
 *                       freed by the host after the call: copy what you keep. Return
 *                       WASINFER_OK or WASINFER_INVALID_CONFIG (with a message).
 *                       Without this option the module has no wasinfer_init export,
 *                       and the host refuses, at load, any stage that gives the UDF a
 *                       configuration - which is what a UDF without settings wants.
 *
 *   WASINFER_DESCRIBE("{...}")   (a macro, used once at file scope, after the include)
 *                       export wasinfer_describe returning this JSON (spec section 10):
 *                       WASINFER_DESCRIBE("{\"name\":\"identity\",\"version\":\"1.0.0\"}")
 *
 * ============================================================================
 * TUTORIAL: a complete UDF
 * ============================================================================
 *
 * Adds an int32 column "len" holding the byte length of the utf8 column "text";
 * every input column is passed through without a copy. A null text gives a null len.
 *
 *     #define WASINFER_IMPLEMENTATION
 *     #include "wasinfer.h"
 *
 *     WASINFER_DESCRIBE("{\"name\":\"strlen\",\"version\":\"1.0.0\",\"language\":\"c\"}")
 *
 *     int wasinfer_udf_transform(const struct ArrowSchema* in_schema,
 *                                const struct ArrowArray* in,
 *                                struct ArrowSchema* out_schema,
 *                                struct ArrowArray* out) {
 *       int64_t j = wasinfer_child_index(in_schema, "text");
 *       if (j < 0 || strcmp(in_schema->children[j]->format, "u") != 0)
 *         return wasinfer_set_error_status(WASINFER_UNSUPPORTED_INPUT,
 *                                          "column \"text\": missing or not utf8");
 *       const struct ArrowArray* text = in->children[j];
 *       const int32_t* offsets = (const int32_t*)text->buffers[1];
 *       int64_t base = text->offset + in->offset;   // row r is element base + r
 *
 *       wasinfer_builder b;
 *       wasinfer_builder_init(&b, out_schema, out, in->length, in_schema->metadata);
 *       wasinfer_builder_pass_all(&b, in_schema, in, -1);      // alias every input column
 *       wasinfer_column len = wasinfer_builder_add(&b, "len", "i", ARROW_FLAG_NULLABLE);
 *       int32_t* v = (int32_t*)wasinfer_column_alloc_buffer(len, 1, in->length * 4);
 *       uint8_t* valid = text->buffers[0] ? wasinfer_column_validity(len) : NULL;
 *       if (b.status != WASINFER_OK) return wasinfer_builder_finish(&b); // out of memory
 *       for (int64_t r = 0; r < in->length; r++) {
 *         v[r] = offsets[base + r + 1] - offsets[base + r];
 *         if (valid && !wasinfer_array_is_valid(text, in->offset + r))
 *           wasinfer_bit_set(valid, r, 0);
 *       }
 *       return wasinfer_builder_finish(&b);
 *     }
 *
 * Build (Debian packages clang-14 lld-14 wasi-libc libclang-rt-14-dev-wasm32):
 *
 *     clang-14 --target=wasm32-wasi -O2 -mexec-model=reactor -Wl,--strip-debug \
 *              -I path/to/sdk/c -o strlen.wasm strlen.c
 *
 * Add -msimd128 to let clang use WebAssembly SIMD (the host supports it).
 * -mexec-model=reactor is required: a module with _start and no _initialize is
 * refused. Test it natively too: the header compiles with any C11 compiler for the
 * host (the exports become ordinary functions you call from a test; see
 * sdk/c/test/native_test.c).
 *
 * ============================================================================
 * OWNERSHIP RULES
 * ============================================================================
 *
 * - The input (in_schema, in and everything they point to) is BORROWED from the
 *   host: never write to it, free it, or call its release callbacks (they are
 *   NULL), and keep no pointer into it after wasinfer_udf_transform returns.
 * - The output may point into the input (pass a column through by aliasing its
 *   ArrowSchema/ArrowArray): the host copies the output before it reuses the input.
 * - On WASINFER_OK you have filled *out_schema and *out_array (a "+s" struct batch,
 *   top-level offset 0, one child per column) and set their release callbacks. The
 *   host calls wasinfer_release after it has copied the output, which calls the two
 *   release callbacks. The builder below does all of this for you.
 * - On any other status the host never reads the output. Free what you built
 *   (wasinfer_builder_abort); as a safety net wasinfer_transform calls the output's
 *   release callbacks itself when they are set and your status is not OK.
 * - Row r of input column j is element (in->offset + r) of in->children[j], which
 *   is at physical index in->children[j]->offset + in->offset + r of its buffers.
 *   The host sends in->offset == 0 and small (< 8) column offsets; always add them.
 * - No state that changes answers between batches: any batch may go to any
 *   instance, and instances are replaced at any time.
 * - The host calls one instance from one thread at a time: no locking needed.
 *
 * ============================================================================
 * HELPERS (all documented at their declarations below)
 * ============================================================================
 *
 *   errors     wasinfer_set_error, wasinfer_set_error_status, WASINFER_* statuses
 *   reading    wasinfer_child_index, wasinfer_metadata_get, wasinfer_array_is_valid,
 *              wasinfer_bit_get/set, wasinfer_format_n_buffers/byte_width
 *   writing    wasinfer_passthrough; wasinfer_builder_* and wasinfer_column_* build an
 *              output batch of aliased input columns and new, owned columns
 *   config     wasinfer_json_object_* iterate a flat JSON object; wasinfer_json_number,
 *              _int64, _string, _number_array read its values; wasinfer_json_find
 *
 * Allocation uses malloc/aligned_alloc/free; new column buffers are 64-byte aligned.
 */
#ifndef WASINFER_H
#define WASINFER_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------
 * Arrow C Data Interface (https://arrow.apache.org/docs/format/CDataInterface.html),
 * guarded like the official header so nanoarrow or Arrow C++ may be included too.
 * ------------------------------------------------------------------------- */
#ifndef ARROW_C_DATA_INTERFACE
#define ARROW_C_DATA_INTERFACE

#define ARROW_FLAG_DICTIONARY_ORDERED 1
#define ARROW_FLAG_NULLABLE 2
#define ARROW_FLAG_MAP_KEYS_SORTED 4

struct ArrowSchema {
  /* Array type description */
  const char* format;
  const char* name;
  const char* metadata;
  int64_t flags;
  int64_t n_children;
  struct ArrowSchema** children;
  struct ArrowSchema* dictionary;

  /* Release callback */
  void (*release)(struct ArrowSchema*);
  /* Opaque producer-specific data */
  void* private_data;
};

struct ArrowArray {
  /* Array data description */
  int64_t length;
  int64_t null_count;
  int64_t offset;
  int64_t n_buffers;
  int64_t n_children;
  const void** buffers;
  struct ArrowArray** children;
  struct ArrowArray* dictionary;

  /* Release callback */
  void (*release)(struct ArrowArray*);
  /* Opaque producer-specific data */
  void* private_data;
};

#endif /* ARROW_C_DATA_INTERFACE */

/* The layout of spec section 4. Only meaningful on wasm32 (4-byte pointers); a
 * native build has 8-byte pointers and is used for tests only. */
#if defined(__wasm32__)
#ifdef __cplusplus
#define WASINFER__STATIC_ASSERT(c, m) static_assert(c, m)
#define WASINFER__ALIGNOF(t) alignof(t)
#else
#define WASINFER__STATIC_ASSERT(c, m) _Static_assert(c, m)
#define WASINFER__ALIGNOF(t) _Alignof(t)
#endif
WASINFER__STATIC_ASSERT(sizeof(void*) == 4, "wasm32 pointers are 4 bytes");
WASINFER__STATIC_ASSERT(sizeof(struct ArrowSchema) == 48, "ArrowSchema is 48 bytes (spec 4)");
WASINFER__STATIC_ASSERT(WASINFER__ALIGNOF(struct ArrowSchema) == 8, "ArrowSchema aligned to 8");
WASINFER__STATIC_ASSERT(offsetof(struct ArrowSchema, format) == 0, "ArrowSchema.format");
WASINFER__STATIC_ASSERT(offsetof(struct ArrowSchema, name) == 4, "ArrowSchema.name");
WASINFER__STATIC_ASSERT(offsetof(struct ArrowSchema, metadata) == 8, "ArrowSchema.metadata");
WASINFER__STATIC_ASSERT(offsetof(struct ArrowSchema, flags) == 16, "ArrowSchema.flags");
WASINFER__STATIC_ASSERT(offsetof(struct ArrowSchema, n_children) == 24, "ArrowSchema.n_children");
WASINFER__STATIC_ASSERT(offsetof(struct ArrowSchema, children) == 32, "ArrowSchema.children");
WASINFER__STATIC_ASSERT(offsetof(struct ArrowSchema, dictionary) == 36, "ArrowSchema.dictionary");
WASINFER__STATIC_ASSERT(offsetof(struct ArrowSchema, release) == 40, "ArrowSchema.release");
WASINFER__STATIC_ASSERT(offsetof(struct ArrowSchema, private_data) == 44, "ArrowSchema.private_data");
WASINFER__STATIC_ASSERT(sizeof(struct ArrowArray) == 64, "ArrowArray is 64 bytes (spec 4)");
WASINFER__STATIC_ASSERT(WASINFER__ALIGNOF(struct ArrowArray) == 8, "ArrowArray aligned to 8");
WASINFER__STATIC_ASSERT(offsetof(struct ArrowArray, length) == 0, "ArrowArray.length");
WASINFER__STATIC_ASSERT(offsetof(struct ArrowArray, null_count) == 8, "ArrowArray.null_count");
WASINFER__STATIC_ASSERT(offsetof(struct ArrowArray, offset) == 16, "ArrowArray.offset");
WASINFER__STATIC_ASSERT(offsetof(struct ArrowArray, n_buffers) == 24, "ArrowArray.n_buffers");
WASINFER__STATIC_ASSERT(offsetof(struct ArrowArray, n_children) == 32, "ArrowArray.n_children");
WASINFER__STATIC_ASSERT(offsetof(struct ArrowArray, buffers) == 40, "ArrowArray.buffers");
WASINFER__STATIC_ASSERT(offsetof(struct ArrowArray, children) == 44, "ArrowArray.children");
WASINFER__STATIC_ASSERT(offsetof(struct ArrowArray, dictionary) == 48, "ArrowArray.dictionary");
WASINFER__STATIC_ASSERT(offsetof(struct ArrowArray, release) == 52, "ArrowArray.release");
WASINFER__STATIC_ASSERT(offsetof(struct ArrowArray, private_data) == 56, "ArrowArray.private_data");
#endif

/* ---------------------------------------------------------------------------
 * Status codes (spec section 8) and limits
 * ------------------------------------------------------------------------- */
#define WASINFER_OK 0                /* success */
#define WASINFER_ERROR 1             /* this batch could not be transformed (bad data) */
#define WASINFER_INVALID_CONFIG 2    /* wasinfer_udf_init rejected the configuration */
#define WASINFER_UNSUPPORTED_INPUT 3 /* the input schema is not one this UDF accepts (fatal) */
#define WASINFER_OUT_OF_MEMORY 4     /* an allocation failed */

#define WASINFER_ABI_VERSION 1
#define WASINFER_MAX_ERROR 65536 /* the host keeps at most this many bytes of a message */
#define WASINFER_EXTENSION_NAME "ARROW:extension:name"
#define WASINFER_EXTENSION_METADATA "ARROW:extension:metadata"

#if defined(__wasm__)
#define WASINFER_EXPORT(name) __attribute__((export_name(name)))
#else
#define WASINFER_EXPORT(name) __attribute__((visibility("default")))
#endif

#if defined(__GNUC__) || defined(__clang__)
#define WASINFER__PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define WASINFER__PRINTF(f, a)
#endif

/* ---------------------------------------------------------------------------
 * What you write
 * ------------------------------------------------------------------------- */

/* Transform one batch. See "OWNERSHIP RULES" above. Return WASINFER_OK, or a
 * status with a message set by wasinfer_set_error / wasinfer_set_error_status. */
int wasinfer_udf_transform(const struct ArrowSchema* in_schema, const struct ArrowArray* in,
                           struct ArrowSchema* out_schema, struct ArrowArray* out);

/* Receive the configuration (only with WASINFER_HAS_INIT; see the top). */
int wasinfer_udf_init(const char* config, size_t len);

/* ---------------------------------------------------------------------------
 * The exports (spec section 2), defined by WASINFER_IMPLEMENTATION. You do not
 * call them from a UDF; a native test calls them as the host would.
 * ------------------------------------------------------------------------- */
void wasinfer_abi_v1(void);
void* wasinfer_alloc(size_t size, size_t align);
void wasinfer_free(void* ptr, size_t size, size_t align);
int32_t wasinfer_transform(struct ArrowSchema* in_schema, struct ArrowArray* in_array,
                           struct ArrowSchema* out_schema, struct ArrowArray* out_array);
void wasinfer_release(struct ArrowSchema* out_schema, struct ArrowArray* out_array);
/* (ptr << 32) | len of the last error message; 0 when none. On a native build the
 * pointer half is truncated: use wasinfer_error_message instead. */
uint64_t wasinfer_last_error(void);
int32_t wasinfer_init(const char* config, size_t len); /* with WASINFER_HAS_INIT */
uint64_t wasinfer_describe(void);                      /* with WASINFER_DESCRIBE */

/* ---------------------------------------------------------------------------
 * Errors
 * ------------------------------------------------------------------------- */

/* Set the message the host reports for the status you return (printf format,
 * UTF-8, at most WASINFER_MAX_ERROR bytes kept). Name the column and the row.
 * Returns WASINFER_ERROR, so `return wasinfer_set_error("...", ...);` works. */
int wasinfer_set_error(const char* fmt, ...) WASINFER__PRINTF(1, 2);
/* Same, returning `status`. */
int wasinfer_set_error_status(int status, const char* fmt, ...) WASINFER__PRINTF(2, 3);
int wasinfer_vset_error_status(int status, const char* fmt, va_list ap);
/* The current message (NUL-terminated, *len without the NUL); "" when none. */
const char* wasinfer_error_message(size_t* len);
void wasinfer_clear_error(void);

/* ---------------------------------------------------------------------------
 * Reading the input
 * ------------------------------------------------------------------------- */

/* Index of the first child of `schema` named `name`, or -1. */
int64_t wasinfer_child_index(const struct ArrowSchema* schema, const char* name);

/* Look `key` up in binary-encoded metadata (spec section 4; NULL = no metadata).
 * Returns 1 and sets *value (not NUL-terminated) and *value_len when found, else 0. */
int wasinfer_metadata_get(const char* metadata, const char* key, const char** value,
                          size_t* value_len);

/* Buffers per array for a format of spec section 4.2 (e.g. 2 for "i", 3 for "u",
 * 1 for "+s", 0 for "n"); -1 for a format ABI v1 does not have. */
int wasinfer_format_n_buffers(const char* format);

/* Bytes per value of a fixed-width format ("c"->1 ... "g"->8, "w:16"->16,
 * "d:10,2"->16, temporal types, dictionary index formats); 0 for anything else,
 * including "b" (bit-packed), variable-width and nested formats. */
int64_t wasinfer_format_byte_width(const char* format);

/* Bit i of an LSB-first bitmap. */
static inline int wasinfer_bit_get(const void* bits, int64_t i) {
  return (((const uint8_t*)bits)[i >> 3] >> (i & 7)) & 1;
}
static inline void wasinfer_bit_set(void* bits, int64_t i, int value) {
  uint8_t* b = (uint8_t*)bits + (i >> 3);
  uint8_t m = (uint8_t)(1u << (i & 7));
  *b = value ? (uint8_t)(*b | m) : (uint8_t)(*b & ~m);
}

/* Whether element i (counted from a->offset, which this adds) is valid. An array
 * without a validity buffer is all valid; a null-type array ("n", no buffers) is
 * all null. For a batch column, pass i = in->offset + row. */
static inline int wasinfer_array_is_valid(const struct ArrowArray* a, int64_t i) {
  if (a->n_buffers == 0) return 0;
  if (a->buffers[0] == NULL) return 1;
  return wasinfer_bit_get(a->buffers[0], a->offset + i);
}

/* ---------------------------------------------------------------------------
 * Writing the output
 * ------------------------------------------------------------------------- */

/* Output == input without a copy: copies the two top-level structures and sets
 * release callbacks that free nothing. Always returns WASINFER_OK (unless the
 * input has a non-zero top-level offset, which needs small allocations). */
int wasinfer_passthrough(const struct ArrowSchema* in_schema, const struct ArrowArray* in,
                         struct ArrowSchema* out_schema, struct ArrowArray* out);

/* An output batch under construction. Every builder and column call records its
 * first failure in `status` (with the error message set) and turns later calls
 * into no-ops, so you may check once, at wasinfer_builder_finish. */
typedef struct wasinfer_builder {
  struct ArrowSchema* schema; /* the out_schema given to init */
  struct ArrowArray* array;   /* the out_array given to init */
  int status;                 /* WASINFER_OK, or the first failure */
} wasinfer_builder;

/* A column (or a child of one) being built. After a failure both pointers are
 * NULL and the column functions do nothing. You may set array->length,
 * array->null_count, array->offset and array->dictionary (borrowed) directly. */
typedef struct wasinfer_column {
  struct ArrowSchema* schema;
  struct ArrowArray* array;
  wasinfer_builder* builder;
} wasinfer_column;

/* Start an empty struct batch of `length` rows in *out_schema / *out_array (the
 * zeroed structures the host passed). `metadata` (binary encoded, may be NULL) is
 * the schema-level metadata; it is borrowed: pass in_schema->metadata to keep the
 * input's, or a pointer that lives until release. Returns b->status. */
int wasinfer_builder_init(wasinfer_builder* b, struct ArrowSchema* out_schema,
                          struct ArrowArray* out_array, int64_t length, const char* metadata);

/* Append input column `index` as an output column, aliased: no copy, nothing to
 * free. Returns b->status. */
int wasinfer_builder_pass(wasinfer_builder* b, const struct ArrowSchema* in_schema,
                          const struct ArrowArray* in, int64_t index);

/* Append every input column except `skip` (-1: none), aliased. */
int wasinfer_builder_pass_all(wasinfer_builder* b, const struct ArrowSchema* in_schema,
                              const struct ArrowArray* in, int64_t skip);

/* Append a new column with its own schema (copies of name and format) and array
 * (length = the batch length, offset 0, null_count 0, no buffers yet: allocate
 * them with wasinfer_column_alloc_buffer, add children with
 * wasinfer_column_add_child). */
wasinfer_column wasinfer_builder_add(wasinfer_builder* b, const char* name, const char* format,
                                     int64_t flags);

/* Append a new array for an existing field: the schema `field` is aliased (same
 * name, type, flags, metadata, dictionary type), the array is new as above. For
 * fields without children only. For a dictionary field, set
 * col.array->dictionary to a dictionary array that lives until release (e.g. the
 * input column's). */
wasinfer_column wasinfer_builder_add_like(wasinfer_builder* b, const struct ArrowSchema* field);

/* Add a child to a new column (e.g. "item" of a "+w:N" list): new schema and array
 * with length 0; set child.array->length. */
wasinfer_column wasinfer_column_add_child(wasinfer_column parent, const char* name,
                                          const char* format, int64_t flags);

/* Allocate buffer `i` of the column (64-byte aligned, `size` bytes, never NULL even
 * for size 0), owned by the output and freed on release. _alloc_ leaves it
 * uninitialised, _calloc_ zeroes it. Returns NULL on failure (status set). */
void* wasinfer_column_alloc_buffer(wasinfer_column c, int64_t i, int64_t size);
void* wasinfer_column_calloc_buffer(wasinfer_column c, int64_t i, int64_t size);

/* Use `data` as buffer `i` without copying or freeing it (borrowed; e.g. an input
 * buffer, with array->offset set to match). */
void wasinfer_column_set_buffer(wasinfer_column c, int64_t i, const void* data);

/* Allocate the validity bitmap (buffer 0) for offset + length bits, all set
 * (valid), and set null_count to -1 (unknown; set it if you count). Clear bit
 * (offset + row) with wasinfer_bit_set(v, row, 0) for each null. */
uint8_t* wasinfer_column_validity(wasinfer_column c);

/* Append a key/value pair to the column's field metadata (copied). Only for
 * columns made by wasinfer_builder_add / wasinfer_column_add_child. */
int wasinfer_column_add_metadata(wasinfer_column c, const char* key, const char* value);
int wasinfer_column_add_metadata_n(wasinfer_column c, const char* key, size_t key_len,
                                   const char* value, size_t value_len);

/* Check the new columns (buffers allocated, children present) and return
 * b->status. On failure everything built is released, so
 * `return wasinfer_builder_finish(&b);` is always correct. */
int wasinfer_builder_finish(wasinfer_builder* b);

/* Release everything built (for an error found while building). */
void wasinfer_builder_abort(wasinfer_builder* b);

/* ---------------------------------------------------------------------------
 * Minimal JSON, for configuration and extension metadata
 * ------------------------------------------------------------------------- */

#define WASINFER_JSON_MAX_KEY 256

/* Iterates the members of one JSON object:
 *
 *     wasinfer_json_object it;
 *     wasinfer_json_object_init(&it, config, len);
 *     int r;
 *     while ((r = wasinfer_json_object_next(&it)) == 1) {
 *       if (strcmp(it.key, "mean") == 0) ... it.value, it.value_len ...
 *       else return wasinfer_set_error_status(WASINFER_INVALID_CONFIG,
 *                                             "unknown config key \"%s\"", it.key);
 *     }
 *     if (r < 0) return wasinfer_set_error_status(WASINFER_INVALID_CONFIG,
 *                    "config is not a JSON object: %s at byte %zu", it.error, it.error_at);
 *
 * Empty text (len 0 or only whitespace) is an empty object. Values of any kind are
 * validated and skipped (nesting up to 64 levels); `value` is the value's text. */
typedef struct wasinfer_json_object {
  const char* text;
  const char* p;
  const char* end;
  int state;                       /* internal */
  char key[WASINFER_JSON_MAX_KEY]; /* the current key, unescaped, NUL-terminated */
  const char* value;               /* the current value's JSON text */
  size_t value_len;
  const char* error; /* after next() returned -1: what was wrong */
  size_t error_at;   /* and the byte offset in text */
} wasinfer_json_object;

void wasinfer_json_object_init(wasinfer_json_object* it, const char* text, size_t len);
/* 1: a member is in key/value; 0: end of the object; -1: malformed (see error). */
int wasinfer_json_object_next(wasinfer_json_object* it);

/* Find member `key` of the object in text. 1 found (value/value_len set), 0 not
 * found, -1 malformed JSON. */
int wasinfer_json_find(const char* text, size_t len, const char* key, const char** value,
                       size_t* value_len);

/* Value readers; each takes one value's text (surrounding whitespace allowed) and
 * returns 0 on success, -1 when it is not of that kind. */
/* A JSON number, correctly rounded (strtod); -1 also for a value out of range. */
int wasinfer_json_number(const char* v, size_t n, double* out);
/* A JSON number with an integral value within int64 (exact for integer text). */
int wasinfer_json_int64(const char* v, size_t n, int64_t* out);
/* A string, unescaped into out (cap bytes including the NUL); -2 if it does not
 * fit. Strings containing \u0000 are refused (-1). *len may be NULL. */
int wasinfer_json_string(const char* v, size_t n, char* out, size_t cap, size_t* len);
/* An array of numbers; -2 if it has more than cap elements. *count may be NULL. */
int wasinfer_json_number_array(const char* v, size_t n, double* out, size_t cap, size_t* count);

/* ---------------------------------------------------------------------------
 * wasinfer_describe (spec section 10)
 * ------------------------------------------------------------------------- */
static inline uint64_t wasinfer_pack_ptr_len(const void* p, size_t len) {
  return ((uint64_t)(uintptr_t)p << 32) | (uint64_t)(uint32_t)len;
}

#define WASINFER_DESCRIBE(json)                                                  \
  static const char wasinfer__description[] = json;                             \
  const char* wasinfer_description(size_t* len) {                               \
    if (len) *len = sizeof(wasinfer__description) - 1;                          \
    return wasinfer__description;                                               \
  }                                                                             \
  WASINFER_EXPORT("wasinfer_describe") uint64_t wasinfer_describe(void) {       \
    return wasinfer_pack_ptr_len(wasinfer__description,                         \
                                 sizeof(wasinfer__description) - 1);            \
  }
/* Defined by WASINFER_DESCRIBE: the description text, for native tests. */
const char* wasinfer_description(size_t* len);

#ifdef __cplusplus
}
#endif

#endif /* WASINFER_H */

/* =========================================================================
 * IMPLEMENTATION
 * ========================================================================= */
#if defined(WASINFER_IMPLEMENTATION) && !defined(WASINFER_IMPLEMENTATION_DONE)
#define WASINFER_IMPLEMENTATION_DONE

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- errors ---------------------------------------------------------------- */

static char* wasinfer__err;        /* heap message, or NULL */
static size_t wasinfer__err_len;   /* bytes, without the NUL */
static char wasinfer__err_fallback[256];

void wasinfer_clear_error(void) {
  if (wasinfer__err != wasinfer__err_fallback) free(wasinfer__err);
  wasinfer__err = NULL;
  wasinfer__err_len = 0;
}

const char* wasinfer_error_message(size_t* len) {
  if (len) *len = wasinfer__err_len;
  return wasinfer__err ? wasinfer__err : "";
}

/* Cut s to at most max bytes without splitting a UTF-8 sequence. */
static size_t wasinfer__utf8_cut(const char* s, size_t len, size_t max) {
  if (len <= max) return len;
  len = max;
  while (len > 0 && (((unsigned char)s[len]) & 0xC0) == 0x80) len--;
  return len;
}

int wasinfer_vset_error_status(int status, const char* fmt, va_list ap) {
  /* The arguments may point into the current message: replace it only at the end. */
  char* old = wasinfer__err;
  char small[256];
  va_list ap2;
  va_copy(ap2, ap);
  int n = vsnprintf(small, sizeof small, fmt, ap);
  char* buf = n < 0 ? NULL : (char*)malloc((size_t)n + 1);
  size_t len;
  if (buf != NULL) {
    len = (size_t)n;
    if (len < sizeof small) {
      memcpy(buf, small, len + 1);
    } else {
      vsnprintf(buf, len + 1, fmt, ap2);
    }
    len = wasinfer__utf8_cut(buf, len, WASINFER_MAX_ERROR);
  } else {
    /* Formatting or allocation failed: keep what fitted in the small buffer. */
    if (n < 0) strcpy(small, "error message could not be formatted");
    buf = wasinfer__err_fallback;
    memcpy(buf, small, sizeof small);
    len = wasinfer__utf8_cut(buf, strlen(buf), sizeof wasinfer__err_fallback - 1);
  }
  va_end(ap2);
  buf[len] = 0;
  if (old != NULL && old != wasinfer__err_fallback && old != buf) free(old);
  wasinfer__err = buf;
  wasinfer__err_len = len;
  return status;
}

int wasinfer_set_error_status(int status, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  wasinfer_vset_error_status(status, fmt, ap);
  va_end(ap);
  return status;
}

int wasinfer_set_error(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  wasinfer_vset_error_status(WASINFER_ERROR, fmt, ap);
  va_end(ap);
  return WASINFER_ERROR;
}

/* ---- exports ----------------------------------------------------------------- */

WASINFER_EXPORT("wasinfer_abi_v1") void wasinfer_abi_v1(void) {}

WASINFER_EXPORT("wasinfer_alloc") void* wasinfer_alloc(size_t size, size_t align) {
  if (align == 0) align = 1;
  if ((align & (align - 1)) != 0 || align > 64) return NULL;
  if (align < sizeof(void*)) align = sizeof(void*);
  if (size == 0) size = align;
  if (size > SIZE_MAX - (align - 1)) return NULL;
  size = (size + align - 1) & ~(align - 1); /* aligned_alloc wants a multiple */
  return aligned_alloc(align, size);
}

WASINFER_EXPORT("wasinfer_free") void wasinfer_free(void* ptr, size_t size, size_t align) {
  (void)size;
  (void)align;
  free(ptr);
}

WASINFER_EXPORT("wasinfer_release")
void wasinfer_release(struct ArrowSchema* out_schema, struct ArrowArray* out_array) {
  if (out_array && out_array->release) out_array->release(out_array);
  if (out_schema && out_schema->release) out_schema->release(out_schema);
}

WASINFER_EXPORT("wasinfer_transform")
int32_t wasinfer_transform(struct ArrowSchema* in_schema, struct ArrowArray* in_array,
                           struct ArrowSchema* out_schema, struct ArrowArray* out_array) {
  wasinfer_clear_error();
  int status = wasinfer_udf_transform(in_schema, in_array, out_schema, out_array);
  if (status != WASINFER_OK) {
    /* The host never reads or releases the output after an error. */
    wasinfer_release(out_schema, out_array);
    if (wasinfer__err_len == 0)
      wasinfer_set_error_status(status, "wasinfer_udf_transform returned status %d without a message",
                                status);
  }
  return status;
}

WASINFER_EXPORT("wasinfer_last_error") uint64_t wasinfer_last_error(void) {
  if (wasinfer__err_len == 0) return 0;
  return wasinfer_pack_ptr_len(wasinfer__err, wasinfer__err_len);
}

#ifdef WASINFER_HAS_INIT
WASINFER_EXPORT("wasinfer_init") int32_t wasinfer_init(const char* config, size_t len) {
  wasinfer_clear_error();
  if (config == NULL) {
    config = "";
    len = 0;
  }
  int status = wasinfer_udf_init(config, len);
  if (status != WASINFER_OK && wasinfer__err_len == 0)
    wasinfer_set_error_status(status, "wasinfer_udf_init returned status %d without a message", status);
  return status;
}
#endif

/* ---- reading ------------------------------------------------------------------ */

int64_t wasinfer_child_index(const struct ArrowSchema* schema, const char* name) {
  if (schema == NULL || name == NULL) return -1;
  for (int64_t i = 0; i < schema->n_children; i++) {
    const char* n = schema->children[i]->name;
    if (n != NULL && strcmp(n, name) == 0) return i;
  }
  return -1;
}

static int32_t wasinfer__read_i32(const char* p) {
  int32_t v;
  memcpy(&v, p, sizeof v);
  return v;
}

int wasinfer_metadata_get(const char* metadata, const char* key, const char** value,
                          size_t* value_len) {
  if (metadata == NULL || key == NULL) return 0;
  size_t klen = strlen(key);
  int32_t count = wasinfer__read_i32(metadata);
  const char* p = metadata + 4;
  for (int32_t i = 0; i < count; i++) {
    int32_t kl = wasinfer__read_i32(p);
    const char* k = p + 4;
    p = k + kl;
    int32_t vl = wasinfer__read_i32(p);
    const char* v = p + 4;
    p = v + vl;
    if ((size_t)kl == klen && memcmp(k, key, klen) == 0) {
      if (value) *value = v;
      if (value_len) *value_len = (size_t)vl;
      return 1;
    }
  }
  return 0;
}

/* Parses a positive decimal integer at s (no sign, no leading zeros except "0")
 * that ends at a character in `stops` (NUL always stops). Returns the value, or
 * -1; *end receives the stop position. */
static int64_t wasinfer__parse_count(const char* s, const char* stops, const char** end) {
  int64_t v = 0;
  const char* p = s;
  if (*p < '0' || *p > '9') return -1;
  if (*p == '0' && p[1] >= '0' && p[1] <= '9') return -1;
  for (; *p >= '0' && *p <= '9'; p++) {
    if (v > (INT64_MAX - 9) / 10) return -1;
    v = v * 10 + (*p - '0');
  }
  if (*p != 0 && strchr(stops, *p) == NULL) return -1;
  if (end) *end = p;
  return v;
}

int64_t wasinfer_format_byte_width(const char* f) {
  if (f == NULL || f[0] == 0) return 0;
  if (f[1] == 0) {
    switch (f[0]) {
      case 'c': case 'C': return 1;
      case 's': case 'S': case 'e': return 2;
      case 'i': case 'I': case 'f': return 4;
      case 'l': case 'L': case 'g': return 8;
      default: return 0;
    }
  }
  const char* end;
  if (f[0] == 'w' && f[1] == ':') {
    int64_t w = wasinfer__parse_count(f + 2, "", &end);
    return w > 0 && *end == 0 ? w : 0;
  }
  if (f[0] == 'd' && f[1] == ':') { /* d:P,S or d:P,S,128 or d:P,S,256 */
    int64_t prec = wasinfer__parse_count(f + 2, ",", &end);
    if (prec <= 0 || *end != ',') return 0;
    const char* s = end + 1;
    if (*s == '-') s++;
    if (wasinfer__parse_count(s, ",", &end) < 0) return 0;
    if (*end == 0 || strcmp(end, ",128") == 0) return 16;
    if (strcmp(end, ",256") == 0) return 32;
    return 0;
  }
  if (f[0] == 't') {
    if (strcmp(f, "tdD") == 0 || strcmp(f, "tts") == 0 || strcmp(f, "ttm") == 0) return 4;
    if (strcmp(f, "tdm") == 0 || strcmp(f, "ttu") == 0 || strcmp(f, "ttn") == 0) return 8;
    if (f[1] == 'D' && strchr("smun", f[2]) != NULL && f[2] != 0 && f[3] == 0) return 8;
    if (f[1] == 's' && f[2] != 0 && strchr("smun", f[2]) != NULL && f[3] == ':') return 8;
  }
  return 0;
}

int wasinfer_format_n_buffers(const char* f) {
  if (f == NULL || f[0] == 0) return -1;
  if (f[1] == 0) {
    switch (f[0]) {
      case 'n': return 0;
      case 'b': return 2;
      case 'z': case 'u': case 'Z': case 'U': return 3;
      default: break;
    }
  }
  if (wasinfer_format_byte_width(f) > 0) return 2;
  if (f[0] == '+') {
    if ((f[1] == 'l' || f[1] == 'L' || f[1] == 'm') && f[2] == 0) return 2;
    if (f[1] == 's' && f[2] == 0) return 1;
    if (f[1] == 'w' && f[2] == ':') {
      const char* end;
      int64_t n = wasinfer__parse_count(f + 3, "", &end);
      return n > 0 && *end == 0 ? 1 : -1;
    }
  }
  return -1;
}

/* ---- output: release callbacks ----------------------------------------------- */

/* private_data of every schema node the builder makes (top level included). */
typedef struct wasinfer__schema_private {
  char* format; /* owned copies; NULL when the pointer in the struct is static */
  char* name;
  char* metadata; /* owned encoded metadata, or NULL */
  size_t metadata_len;
  struct ArrowSchema** children;
  unsigned char* child_owned; /* 1: children[i] was allocated here */
  int64_t n, cap;
} wasinfer__schema_private;

typedef struct wasinfer__array_private {
  const void* buffers[3]; /* what ArrowArray.buffers points at */
  void* owned[3];         /* buffers allocated here */
  struct ArrowArray** children;
  unsigned char* child_owned;
  int64_t n, cap;
} wasinfer__array_private;

static void wasinfer__schema_release(struct ArrowSchema* s) {
  wasinfer__schema_private* p = (wasinfer__schema_private*)s->private_data;
  if (p != NULL) {
    for (int64_t i = 0; i < p->n; i++) {
      if (!p->child_owned[i]) continue; /* borrowed from the input */
      struct ArrowSchema* c = p->children[i];
      if (c->release) c->release(c);
      free(c);
    }
    free(p->children);
    free(p->child_owned);
    free(p->format);
    free(p->name);
    free(p->metadata);
    free(p);
  }
  s->private_data = NULL;
  s->release = NULL;
}

static void wasinfer__array_release(struct ArrowArray* a) {
  wasinfer__array_private* p = (wasinfer__array_private*)a->private_data;
  if (p != NULL) {
    for (int64_t i = 0; i < p->n; i++) {
      if (!p->child_owned[i]) continue;
      struct ArrowArray* c = p->children[i];
      if (c->release) c->release(c);
      free(c);
    }
    for (int i = 0; i < 3; i++) free(p->owned[i]);
    free(p->children);
    free(p->child_owned);
    free(p);
  }
  a->private_data = NULL;
  a->release = NULL;
}

/* For structures whose contents are all borrowed. */
static void wasinfer__schema_release_noop(struct ArrowSchema* s) { s->release = NULL; }
static void wasinfer__array_release_noop(struct ArrowArray* a) { a->release = NULL; }

/* ---- output: builder ------------------------------------------------------------ */

/* Records the first failure of a builder. */
WASINFER__PRINTF(3, 4)
static void wasinfer__fail(wasinfer_builder* b, int status, const char* fmt, ...) {
  if (b->status != WASINFER_OK) return;
  b->status = status;
  va_list ap;
  va_start(ap, fmt);
  wasinfer_vset_error_status(status, fmt, ap);
  va_end(ap);
}

static const char* wasinfer__name(const struct ArrowSchema* s) {
  return s && s->name ? s->name : "";
}

static void* wasinfer__malloc(wasinfer_builder* b, size_t size, const char* what,
                              const struct ArrowSchema* s) {
  void* p = malloc(size ? size : 1);
  if (p == NULL)
    wasinfer__fail(b, WASINFER_OUT_OF_MEMORY, "out of memory: %zu bytes for %s of column \"%s\"",
                   size, what, wasinfer__name(s));
  return p;
}

static char* wasinfer__strdup(wasinfer_builder* b, const char* s, const char* what) {
  size_t n = strlen(s) + 1;
  char* p = (char*)malloc(n);
  if (p == NULL) {
    wasinfer__fail(b, WASINFER_OUT_OF_MEMORY, "out of memory: %zu bytes for %s \"%s\"", n, what, s);
    return NULL;
  }
  memcpy(p, s, n);
  return p;
}

/* Grows a children list (pointers + owned flags) to hold one more. */
static int wasinfer__grow(wasinfer_builder* b, void*** children, unsigned char** owned, int64_t n,
                          int64_t* cap, const struct ArrowSchema* s) {
  if (n < *cap) return 1;
  int64_t nc = *cap ? *cap * 2 : 8;
  void** c = (void**)realloc(*children, (size_t)nc * sizeof(void*));
  if (c == NULL) {
    wasinfer__fail(b, WASINFER_OUT_OF_MEMORY, "out of memory: children of column \"%s\"",
                   wasinfer__name(s));
    return 0;
  }
  *children = c;
  unsigned char* o = (unsigned char*)realloc(*owned, (size_t)nc);
  if (o == NULL) {
    wasinfer__fail(b, WASINFER_OUT_OF_MEMORY, "out of memory: children of column \"%s\"",
                   wasinfer__name(s));
    return 0;
  }
  *owned = o;
  *cap = nc;
  return 1;
}

static int wasinfer__schema_push(wasinfer_builder* b, struct ArrowSchema* parent,
                                 struct ArrowSchema* child, int owned) {
  wasinfer__schema_private* p = (wasinfer__schema_private*)parent->private_data;
  if (!wasinfer__grow(b, (void***)&p->children, &p->child_owned, p->n, &p->cap, parent)) return 0;
  p->children[p->n] = child;
  p->child_owned[p->n] = (unsigned char)owned;
  p->n++;
  parent->children = p->children;
  parent->n_children = p->n;
  return 1;
}

static int wasinfer__array_push(wasinfer_builder* b, struct ArrowArray* parent,
                                struct ArrowArray* child, int owned, const struct ArrowSchema* s) {
  wasinfer__array_private* p = (wasinfer__array_private*)parent->private_data;
  if (!wasinfer__grow(b, (void***)&p->children, &p->child_owned, p->n, &p->cap, s)) return 0;
  p->children[p->n] = child;
  p->child_owned[p->n] = (unsigned char)owned;
  p->n++;
  parent->children = p->children;
  parent->n_children = p->n;
  return 1;
}

/* Fills s as a builder-owned node. format/name are copied unless `static_strings`. */
static int wasinfer__schema_setup(wasinfer_builder* b, struct ArrowSchema* s, const char* format,
                                  const char* name, int64_t flags, int static_strings) {
  memset(s, 0, sizeof *s);
  wasinfer__schema_private* p =
      (wasinfer__schema_private*)wasinfer__malloc(b, sizeof *p, "the schema", NULL);
  if (p == NULL) return 0;
  memset(p, 0, sizeof *p);
  s->private_data = p;
  s->release = wasinfer__schema_release;
  if (static_strings) {
    s->format = format;
    s->name = name;
  } else {
    p->format = wasinfer__strdup(b, format, "format");
    p->name = wasinfer__strdup(b, name, "column name");
    if (p->format == NULL || p->name == NULL) return 0;
    s->format = p->format;
    s->name = p->name;
  }
  s->flags = flags;
  return 1;
}

static int wasinfer__array_setup(wasinfer_builder* b, struct ArrowArray* a, int64_t n_buffers,
                                 int64_t length, const struct ArrowSchema* s) {
  memset(a, 0, sizeof *a);
  wasinfer__array_private* p =
      (wasinfer__array_private*)wasinfer__malloc(b, sizeof *p, "the array", s);
  if (p == NULL) return 0;
  memset(p, 0, sizeof *p);
  a->private_data = p;
  a->release = wasinfer__array_release;
  a->length = length;
  a->n_buffers = n_buffers;
  a->buffers = p->buffers;
  return 1;
}

int wasinfer_builder_init(wasinfer_builder* b, struct ArrowSchema* out_schema,
                          struct ArrowArray* out_array, int64_t length, const char* metadata) {
  b->schema = out_schema;
  b->array = out_array;
  b->status = WASINFER_OK;
  memset(out_schema, 0, sizeof *out_schema);
  memset(out_array, 0, sizeof *out_array);
  if (length < 0) {
    wasinfer__fail(b, WASINFER_ERROR, "wasinfer_builder_init: negative length %lld", (long long)length);
    return b->status;
  }
  if (!wasinfer__schema_setup(b, out_schema, "+s", "", 0, 1) ||
      !wasinfer__array_setup(b, out_array, 1, length, NULL)) {
    wasinfer_release(out_schema, out_array);
    return b->status;
  }
  out_schema->metadata = metadata;
  return b->status;
}

int wasinfer_builder_pass(wasinfer_builder* b, const struct ArrowSchema* in_schema,
                          const struct ArrowArray* in, int64_t index) {
  if (b->status != WASINFER_OK) return b->status;
  if (index < 0 || index >= in_schema->n_children || index >= in->n_children) {
    wasinfer__fail(b, WASINFER_ERROR, "wasinfer_builder_pass: no input column %lld (the batch has %lld)",
                   (long long)index, (long long)in_schema->n_children);
    return b->status;
  }
  struct ArrowSchema* s = in_schema->children[index];
  struct ArrowArray* a = in->children[index];
  if (in->offset == 0) {
    if (wasinfer__schema_push(b, b->schema, s, 0)) wasinfer__array_push(b, b->array, a, 0, s);
    return b->status;
  }
  /* The batch itself is sliced: the output's top level must have offset 0, so
   * alias the column through a copy of its ArrowArray with the offset folded in. */
  struct ArrowArray* c = (struct ArrowArray*)wasinfer__malloc(b, sizeof *c, "the array", s);
  if (c == NULL) return b->status;
  *c = *a;
  c->offset = a->offset + in->offset;
  c->length = a->length - in->offset;
  c->release = wasinfer__array_release_noop;
  c->private_data = NULL;
  if (!wasinfer__schema_push(b, b->schema, s, 0) || !wasinfer__array_push(b, b->array, c, 1, s))
    free(c); /* not attached to the output */
  return b->status;
}

int wasinfer_builder_pass_all(wasinfer_builder* b, const struct ArrowSchema* in_schema,
                              const struct ArrowArray* in, int64_t skip) {
  for (int64_t i = 0; i < in_schema->n_children && b->status == WASINFER_OK; i++)
    if (i != skip) wasinfer_builder_pass(b, in_schema, in, i);
  return b->status;
}

/* Makes a new owned (schema, array) pair; `field` non-NULL aliases that schema. */
static wasinfer_column wasinfer__new_column(wasinfer_builder* b, const struct ArrowSchema* field,
                                            const char* name, const char* format, int64_t flags,
                                            int64_t length) {
  wasinfer_column col = {NULL, NULL, b};
  if (b->status != WASINFER_OK) return col;
  const char* f = field ? field->format : format;
  const char* n = field ? field->name : name;
  int nb = wasinfer_format_n_buffers(f);
  if (nb < 0) {
    wasinfer__fail(b, WASINFER_ERROR, "column \"%s\": format \"%s\" is not in ABI v1", n ? n : "",
                   f ? f : "(null)");
    return col;
  }
  struct ArrowSchema* s = (struct ArrowSchema*)field;
  if (s == NULL) {
    s = (struct ArrowSchema*)wasinfer__malloc(b, sizeof *s, "the schema", NULL);
    if (s == NULL) return col;
    if (!wasinfer__schema_setup(b, s, format, name ? name : "", flags, 0)) {
      if (s->release) s->release(s);
      free(s);
      return col;
    }
  }
  struct ArrowArray* a = (struct ArrowArray*)wasinfer__malloc(b, sizeof *a, "the array", s);
  if (a == NULL || !wasinfer__array_setup(b, a, nb, length, s)) {
    if (a && a->release) a->release(a);
    free(a);
    if (field == NULL) {
      s->release(s);
      free(s);
    }
    return col;
  }
  col.schema = s;
  col.array = a;
  return col;
}

wasinfer_column wasinfer_builder_add(wasinfer_builder* b, const char* name, const char* format,
                                     int64_t flags) {
  wasinfer_column col = wasinfer__new_column(b, NULL, name, format, flags, b->array->length);
  if (col.schema == NULL) return col;
  int ok_s = wasinfer__schema_push(b, b->schema, col.schema, 1);
  if (!ok_s) {
    col.schema->release(col.schema);
    free(col.schema);
  }
  int ok_a = ok_s && wasinfer__array_push(b, b->array, col.array, 1, col.schema);
  if (!ok_a) {
    col.array->release(col.array);
    free(col.array);
    col.schema = NULL;
    col.array = NULL;
  }
  return col;
}

wasinfer_column wasinfer_builder_add_like(wasinfer_builder* b, const struct ArrowSchema* field) {
  wasinfer_column col = {NULL, NULL, b};
  if (b->status != WASINFER_OK) return col;
  if (field->n_children != 0) {
    wasinfer__fail(b, WASINFER_ERROR,
                   "wasinfer_builder_add_like: column \"%s\" (format \"%s\") has children; "
                   "build nested columns with wasinfer_builder_add",
                   wasinfer__name(field), field->format);
    return col;
  }
  col = wasinfer__new_column(b, field, NULL, NULL, 0, b->array->length);
  if (col.schema == NULL) return col;
  if (!wasinfer__schema_push(b, b->schema, col.schema, 0) ||
      !wasinfer__array_push(b, b->array, col.array, 1, col.schema)) {
    col.array->release(col.array);
    free(col.array);
    col.schema = NULL;
    col.array = NULL;
  }
  return col;
}

static int wasinfer__owns_schema(const struct ArrowSchema* s) {
  return s != NULL && s->release == wasinfer__schema_release;
}

wasinfer_column wasinfer_column_add_child(wasinfer_column parent, const char* name,
                                          const char* format, int64_t flags) {
  wasinfer_column col = {NULL, NULL, parent.builder};
  wasinfer_builder* b = parent.builder;
  if (parent.schema == NULL || b->status != WASINFER_OK) return col;
  if (!wasinfer__owns_schema(parent.schema)) {
    wasinfer__fail(b, WASINFER_ERROR,
                   "wasinfer_column_add_child: column \"%s\" has a borrowed schema "
                   "(from wasinfer_builder_add_like)",
                   wasinfer__name(parent.schema));
    return col;
  }
  col = wasinfer__new_column(b, NULL, name, format, flags, 0);
  if (col.schema == NULL) return col;
  int ok_s = wasinfer__schema_push(b, parent.schema, col.schema, 1);
  if (!ok_s) {
    col.schema->release(col.schema);
    free(col.schema);
  }
  if (!ok_s || !wasinfer__array_push(b, parent.array, col.array, 1, col.schema)) {
    col.array->release(col.array);
    free(col.array);
    col.schema = NULL;
    col.array = NULL;
  }
  return col;
}

static void* wasinfer__buffer(wasinfer_column c, int64_t i, int64_t size, int zero) {
  wasinfer_builder* b = c.builder;
  if (c.array == NULL || b->status != WASINFER_OK) return NULL;
  if (i < 0 || i >= c.array->n_buffers) {
    wasinfer__fail(b, WASINFER_ERROR, "column \"%s\": format \"%s\" has no buffer %lld",
                   wasinfer__name(c.schema), c.schema->format, (long long)i);
    return NULL;
  }
  if (size < 0 || (uint64_t)size > (uint64_t)(SIZE_MAX - 64)) {
    wasinfer__fail(b, WASINFER_OUT_OF_MEMORY,
                   "out of memory: buffer %lld of column \"%s\" would be %lld bytes", (long long)i,
                   wasinfer__name(c.schema), (long long)size);
    return NULL;
  }
  size_t n = ((size_t)size + 63) & ~(size_t)63;
  if (n == 0) n = 64;
  void* p = aligned_alloc(64, n);
  if (p == NULL) {
    wasinfer__fail(b, WASINFER_OUT_OF_MEMORY, "out of memory: %lld bytes for buffer %lld of column \"%s\"",
                   (long long)size, (long long)i, wasinfer__name(c.schema));
    return NULL;
  }
  if (zero) memset(p, 0, n);
  wasinfer__array_private* pr = (wasinfer__array_private*)c.array->private_data;
  free(pr->owned[i]);
  pr->owned[i] = p;
  pr->buffers[i] = p;
  return p;
}

void* wasinfer_column_alloc_buffer(wasinfer_column c, int64_t i, int64_t size) {
  return wasinfer__buffer(c, i, size, 0);
}

void* wasinfer_column_calloc_buffer(wasinfer_column c, int64_t i, int64_t size) {
  return wasinfer__buffer(c, i, size, 1);
}

void wasinfer_column_set_buffer(wasinfer_column c, int64_t i, const void* data) {
  wasinfer_builder* b = c.builder;
  if (c.array == NULL || b->status != WASINFER_OK) return;
  if (i < 0 || i >= c.array->n_buffers) {
    wasinfer__fail(b, WASINFER_ERROR, "column \"%s\": format \"%s\" has no buffer %lld",
                   wasinfer__name(c.schema), c.schema->format, (long long)i);
    return;
  }
  wasinfer__array_private* pr = (wasinfer__array_private*)c.array->private_data;
  free(pr->owned[i]);
  pr->owned[i] = NULL;
  pr->buffers[i] = data;
}

uint8_t* wasinfer_column_validity(wasinfer_column c) {
  if (c.array == NULL) return NULL;
  int64_t bits = c.array->offset + c.array->length;
  uint8_t* v = (uint8_t*)wasinfer__buffer(c, 0, (bits + 7) / 8, 0);
  if (v == NULL) return NULL;
  memset(v, 0xFF, (size_t)((bits + 7) / 8));
  c.array->null_count = -1;
  return v;
}

int wasinfer_column_add_metadata_n(wasinfer_column c, const char* key, size_t key_len,
                                   const char* value, size_t value_len) {
  wasinfer_builder* b = c.builder;
  if (c.schema == NULL || b->status != WASINFER_OK) return b->status;
  if (!wasinfer__owns_schema(c.schema)) {
    wasinfer__fail(b, WASINFER_ERROR,
                   "wasinfer_column_add_metadata: column \"%s\" has a borrowed schema "
                   "(from wasinfer_builder_add_like)",
                   wasinfer__name(c.schema));
    return b->status;
  }
  if (key_len > INT32_MAX || value_len > INT32_MAX) {
    wasinfer__fail(b, WASINFER_ERROR, "column \"%s\": metadata entry too large", wasinfer__name(c.schema));
    return b->status;
  }
  wasinfer__schema_private* p = (wasinfer__schema_private*)c.schema->private_data;
  size_t old = p->metadata_len ? p->metadata_len : 4;
  size_t add = 8 + key_len + value_len;
  if (add > SIZE_MAX - old) {
    wasinfer__fail(b, WASINFER_OUT_OF_MEMORY, "column \"%s\": metadata too large", wasinfer__name(c.schema));
    return b->status;
  }
  char* md = (char*)realloc(p->metadata, old + add);
  if (md == NULL) {
    wasinfer__fail(b, WASINFER_OUT_OF_MEMORY, "out of memory: metadata of column \"%s\"",
                   wasinfer__name(c.schema));
    return b->status;
  }
  int32_t count = 0;
  if (p->metadata_len) memcpy(&count, md, 4);
  count++;
  memcpy(md, &count, 4);
  char* q = md + old;
  int32_t kl = (int32_t)key_len, vl = (int32_t)value_len;
  memcpy(q, &kl, 4);
  if (key_len) memcpy(q + 4, key, key_len);
  memcpy(q + 4 + key_len, &vl, 4);
  if (value_len) memcpy(q + 8 + key_len, value, value_len);
  p->metadata = md;
  p->metadata_len = old + add;
  c.schema->metadata = md;
  return b->status;
}

int wasinfer_column_add_metadata(wasinfer_column c, const char* key, const char* value) {
  return wasinfer_column_add_metadata_n(c, key, strlen(key), value, strlen(value));
}

/* Checks a builder-made column tree; returns 0 and fails b on a problem. */
static int wasinfer__check(wasinfer_builder* b, const struct ArrowSchema* s, const struct ArrowArray* a,
                           int depth) {
  if (a->release != wasinfer__array_release) return 1; /* aliased: the host validates it */
  if (depth > 32) {
    wasinfer__fail(b, WASINFER_ERROR, "column \"%s\": nested deeper than 32 levels", wasinfer__name(s));
    return 0;
  }
  for (int64_t i = 1; i < a->n_buffers; i++) {
    if (a->buffers[i] == NULL) {
      wasinfer__fail(b, WASINFER_ERROR,
                     "column \"%s\" (format \"%s\"): buffer %lld was never set "
                     "(wasinfer_column_alloc_buffer)",
                     wasinfer__name(s), s->format, (long long)i);
      return 0;
    }
  }
  if (a->n_children != s->n_children) {
    wasinfer__fail(b, WASINFER_ERROR, "column \"%s\": the schema has %lld children, the array %lld",
                   wasinfer__name(s), (long long)s->n_children, (long long)a->n_children);
    return 0;
  }
  if ((a->dictionary == NULL) != (s->dictionary == NULL)) {
    wasinfer__fail(b, WASINFER_ERROR,
                   "column \"%s\": dictionary set in only one of schema and array "
                   "(set col.array->dictionary)",
                   wasinfer__name(s));
    return 0;
  }
  for (int64_t i = 0; i < a->n_children; i++)
    if (!wasinfer__check(b, s->children[i], a->children[i], depth + 1)) return 0;
  return 1;
}

int wasinfer_builder_finish(wasinfer_builder* b) {
  if (b->status == WASINFER_OK) {
    for (int64_t i = 0; i < b->array->n_children; i++)
      if (!wasinfer__check(b, b->schema->children[i], b->array->children[i], 1)) break;
  }
  if (b->status != WASINFER_OK) wasinfer_builder_abort(b);
  return b->status;
}

void wasinfer_builder_abort(wasinfer_builder* b) { wasinfer_release(b->schema, b->array); }

int wasinfer_passthrough(const struct ArrowSchema* in_schema, const struct ArrowArray* in,
                         struct ArrowSchema* out_schema, struct ArrowArray* out) {
  if (in->offset != 0) {
    wasinfer_builder b;
    wasinfer_builder_init(&b, out_schema, out, in->length, in_schema->metadata);
    wasinfer_builder_pass_all(&b, in_schema, in, -1);
    return wasinfer_builder_finish(&b);
  }
  *out_schema = *in_schema;
  out_schema->release = wasinfer__schema_release_noop;
  out_schema->private_data = NULL;
  *out = *in;
  out->release = wasinfer__array_release_noop;
  out->private_data = NULL;
  return WASINFER_OK;
}

/* ---- JSON ------------------------------------------------------------------------ */

static const char* wasinfer__ws(const char* p, const char* end) {
  while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
  return p;
}

/* Scans a JSON number; returns its end or NULL. */
static const char* wasinfer__json_scan_number(const char* p, const char* end) {
  if (p < end && *p == '-') p++;
  if (p >= end) return NULL;
  if (*p == '0') {
    p++;
  } else if (*p >= '1' && *p <= '9') {
    while (p < end && *p >= '0' && *p <= '9') p++;
  } else {
    return NULL;
  }
  if (p < end && *p == '.') {
    p++;
    if (p >= end || *p < '0' || *p > '9') return NULL;
    while (p < end && *p >= '0' && *p <= '9') p++;
  }
  if (p < end && (*p == 'e' || *p == 'E')) {
    p++;
    if (p < end && (*p == '+' || *p == '-')) p++;
    if (p >= end || *p < '0' || *p > '9') return NULL;
    while (p < end && *p >= '0' && *p <= '9') p++;
  }
  return p;
}

static int wasinfer__hex4(const char* p, const char* end, uint32_t* out) {
  if (end - p < 4) return 0;
  uint32_t v = 0;
  for (int i = 0; i < 4; i++) {
    char c = p[i];
    v <<= 4;
    if (c >= '0' && c <= '9') v |= (uint32_t)(c - '0');
    else if (c >= 'a' && c <= 'f') v |= (uint32_t)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') v |= (uint32_t)(c - 'A' + 10);
    else return 0;
  }
  *out = v;
  return 1;
}

/* Scans (and, when out != NULL, unescapes) a JSON string starting at the quote.
 * Returns the position after the closing quote, or NULL (*err says why; *err
 * "too long" when it does not fit cap bytes with the NUL). */
static const char* wasinfer__json_string(const char* p, const char* end, char* out, size_t cap,
                                         size_t* len, const char** err) {
  size_t n = 0;
  if (p >= end || *p != '"') {
    *err = "expected a string";
    return NULL;
  }
  p++;
#define WASINFER__PUT(ch)                         \
  do {                                            \
    if (out) {                                    \
      if (n + 1 >= cap) {                         \
        *err = "too long";                        \
        return NULL;                              \
      }                                           \
      out[n] = (char)(ch);                        \
    }                                             \
    n++;                                          \
  } while (0)
  while (p < end && *p != '"') {
    unsigned char c = (unsigned char)*p;
    if (c < 0x20) {
      *err = "control character in a string";
      return NULL;
    }
    if (c != '\\') {
      WASINFER__PUT(c);
      p++;
      continue;
    }
    p++;
    if (p >= end) break;
    char e = *p++;
    uint32_t cp;
    switch (e) {
      case '"': WASINFER__PUT('"'); continue;
      case '\\': WASINFER__PUT('\\'); continue;
      case '/': WASINFER__PUT('/'); continue;
      case 'b': WASINFER__PUT('\b'); continue;
      case 'f': WASINFER__PUT('\f'); continue;
      case 'n': WASINFER__PUT('\n'); continue;
      case 'r': WASINFER__PUT('\r'); continue;
      case 't': WASINFER__PUT('\t'); continue;
      case 'u':
        if (!wasinfer__hex4(p, end, &cp)) {
          *err = "bad \\u escape";
          return NULL;
        }
        p += 4;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          uint32_t lo;
          if (end - p < 6 || p[0] != '\\' || p[1] != 'u' || !wasinfer__hex4(p + 2, end, &lo) ||
              lo < 0xDC00 || lo > 0xDFFF) {
            *err = "unpaired surrogate in \\u escape";
            return NULL;
          }
          p += 6;
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
          *err = "unpaired surrogate in \\u escape";
          return NULL;
        }
        if (cp == 0) {
          *err = "\\u0000 in a string";
          return NULL;
        }
        if (cp < 0x80) {
          WASINFER__PUT(cp);
        } else if (cp < 0x800) {
          WASINFER__PUT(0xC0 | (cp >> 6));
          WASINFER__PUT(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
          WASINFER__PUT(0xE0 | (cp >> 12));
          WASINFER__PUT(0x80 | ((cp >> 6) & 0x3F));
          WASINFER__PUT(0x80 | (cp & 0x3F));
        } else {
          WASINFER__PUT(0xF0 | (cp >> 18));
          WASINFER__PUT(0x80 | ((cp >> 12) & 0x3F));
          WASINFER__PUT(0x80 | ((cp >> 6) & 0x3F));
          WASINFER__PUT(0x80 | (cp & 0x3F));
        }
        continue;
      default:
        *err = "bad escape in a string";
        return NULL;
    }
  }
#undef WASINFER__PUT
  if (p >= end) {
    *err = "unterminated string";
    return NULL;
  }
  if (out) out[n] = 0;
  if (len) *len = n;
  return p + 1;
}

/* Skips one JSON value at p (no leading whitespace). Returns its end or NULL. */
static const char* wasinfer__json_skip(const char* p, const char* end, int depth, const char** err) {
  if (depth > 64) {
    *err = "nested deeper than 64 levels";
    return NULL;
  }
  if (p >= end) {
    *err = "expected a value";
    return NULL;
  }
  switch (*p) {
    case '"':
      return wasinfer__json_string(p, end, NULL, 0, NULL, err);
    case '{':
    case '[': {
      char close = *p == '{' ? '}' : ']';
      p = wasinfer__ws(p + 1, end);
      if (p < end && *p == close) return p + 1;
      for (;;) {
        if (close == '}') {
          p = wasinfer__json_string(p, end, NULL, 0, NULL, err);
          if (p == NULL) {
            *err = "expected a member name";
            return NULL;
          }
          p = wasinfer__ws(p, end);
          if (p >= end || *p != ':') {
            *err = "expected ':'";
            return NULL;
          }
          p = wasinfer__ws(p + 1, end);
        }
        p = wasinfer__json_skip(p, end, depth + 1, err);
        if (p == NULL) return NULL;
        p = wasinfer__ws(p, end);
        if (p < end && *p == ',') {
          p = wasinfer__ws(p + 1, end);
          continue;
        }
        if (p < end && *p == close) return p + 1;
        *err = close == '}' ? "expected ',' or '}'" : "expected ',' or ']'";
        return NULL;
      }
    }
    case 't':
      if (end - p >= 4 && memcmp(p, "true", 4) == 0) return p + 4;
      break;
    case 'f':
      if (end - p >= 5 && memcmp(p, "false", 5) == 0) return p + 5;
      break;
    case 'n':
      if (end - p >= 4 && memcmp(p, "null", 4) == 0) return p + 4;
      break;
    default: {
      const char* q = wasinfer__json_scan_number(p, end);
      if (q != NULL) return q;
      break;
    }
  }
  *err = "expected a value";
  return NULL;
}

void wasinfer_json_object_init(wasinfer_json_object* it, const char* text, size_t len) {
  memset(it, 0, sizeof *it);
  it->text = text ? text : "";
  it->p = it->text;
  it->end = it->text + (text ? len : 0);
}

static int wasinfer__json_err(wasinfer_json_object* it, const char* at, const char* msg) {
  it->state = -1;
  it->error = msg;
  it->error_at = (size_t)(at - it->text);
  return -1;
}

int wasinfer_json_object_next(wasinfer_json_object* it) {
  const char* p = wasinfer__ws(it->p, it->end);
  const char* err = NULL;
  switch (it->state) {
    case -1:
      return -1;
    case 2:
      return 0;
    case 0:
      if (p == it->end) { /* empty text: an empty object */
        it->state = 2;
        return 0;
      }
      if (*p != '{') return wasinfer__json_err(it, p, "expected '{'");
      p = wasinfer__ws(p + 1, it->end);
      if (p < it->end && *p == '}') goto close;
      break;
    default: /* after a member */
      if (p < it->end && *p == ',') {
        p = wasinfer__ws(p + 1, it->end);
        break;
      }
      if (p < it->end && *p == '}') goto close;
      return wasinfer__json_err(it, p, "expected ',' or '}'");
  }
  {
    const char* q = wasinfer__json_string(p, it->end, it->key, sizeof it->key, NULL, &err);
    if (q == NULL) {
      if (strcmp(err, "too long") == 0) err = "member name longer than 255 bytes";
      if (strcmp(err, "expected a string") == 0) err = "expected a member name";
      return wasinfer__json_err(it, p, err);
    }
    p = wasinfer__ws(q, it->end);
    if (p >= it->end || *p != ':') return wasinfer__json_err(it, p, "expected ':'");
    p = wasinfer__ws(p + 1, it->end);
    q = wasinfer__json_skip(p, it->end, 1, &err);
    if (q == NULL) return wasinfer__json_err(it, p, err);
    it->value = p;
    it->value_len = (size_t)(q - p);
    it->p = q;
    it->state = 1;
    return 1;
  }
close:
  p = wasinfer__ws(p + 1, it->end);
  if (p != it->end) return wasinfer__json_err(it, p, "unexpected text after the object");
  it->p = p;
  it->state = 2;
  return 0;
}

int wasinfer_json_find(const char* text, size_t len, const char* key, const char** value,
                       size_t* value_len) {
  wasinfer_json_object it;
  wasinfer_json_object_init(&it, text, len);
  int r, found = 0;
  while ((r = wasinfer_json_object_next(&it)) == 1) {
    if (!found && strcmp(it.key, key) == 0) {
      found = 1;
      if (value) *value = it.value;
      if (value_len) *value_len = it.value_len;
    }
  }
  return r < 0 ? -1 : found;
}

/* Trims whitespace around one value's text. */
static void wasinfer__trim(const char** v, size_t* n) {
  const char* p = wasinfer__ws(*v, *v + *n);
  const char* e = *v + *n;
  while (e > p && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r')) e--;
  *v = p;
  *n = (size_t)(e - p);
}

/* Parses the number at [p, q) (already scanned). */
static int wasinfer__strtod(const char* p, const char* q, double* out) {
  char small[64];
  size_t n = (size_t)(q - p);
  char* buf = n < sizeof small ? small : (char*)malloc(n + 1);
  if (buf == NULL) return -1;
  memcpy(buf, p, n);
  buf[n] = 0;
  double d = strtod(buf, NULL);
  if (buf != small) free(buf);
  if (isinf(d) || isnan(d)) return -1;
  *out = d;
  return 0;
}

int wasinfer_json_number(const char* v, size_t n, double* out) {
  wasinfer__trim(&v, &n);
  const char* q = wasinfer__json_scan_number(v, v + n);
  if (q == NULL || q != v + n) return -1;
  return wasinfer__strtod(v, q, out);
}

int wasinfer_json_int64(const char* v, size_t n, int64_t* out) {
  wasinfer__trim(&v, &n);
  const char* q = wasinfer__json_scan_number(v, v + n);
  if (q == NULL || q != v + n) return -1;
  const char* p = v;
  int neg = *p == '-';
  if (neg) p++;
  int plain = 1;
  for (const char* r = p; r < q; r++)
    if (*r < '0' || *r > '9') plain = 0;
  if (plain) { /* exact, with overflow checks */
    uint64_t acc = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; p < q; p++) {
      uint64_t d = (uint64_t)(*p - '0');
      if (acc > (lim - d) / 10) return -1;
      acc = acc * 10 + d;
    }
    *out = neg ? (int64_t)(0 - acc) : (int64_t)acc;
    return 0;
  }
  double d; /* 1e3, 2.0: integral and exactly representable only */
  if (wasinfer__strtod(v, q, &d) != 0 || d != floor(d) || fabs(d) > 9007199254740992.0) return -1;
  *out = (int64_t)d;
  return 0;
}

int wasinfer_json_string(const char* v, size_t n, char* out, size_t cap, size_t* len) {
  wasinfer__trim(&v, &n);
  const char* err = NULL;
  if (cap == 0) return -2;
  const char* q = wasinfer__json_string(v, v + n, out, cap, len, &err);
  if (q == NULL) return strcmp(err, "too long") == 0 ? -2 : -1;
  return q == v + n ? 0 : -1;
}

int wasinfer_json_number_array(const char* v, size_t n, double* out, size_t cap, size_t* count) {
  wasinfer__trim(&v, &n);
  const char* p = v;
  const char* end = v + n;
  size_t k = 0;
  if (p >= end || *p != '[') return -1;
  p = wasinfer__ws(p + 1, end);
  if (p < end && *p == ']') {
    p++;
  } else {
    for (;;) {
      const char* q = wasinfer__json_scan_number(p, end);
      if (q == NULL) return -1;
      if (k >= cap) return -2;
      if (wasinfer__strtod(p, q, &out[k]) != 0) return -1;
      k++;
      p = wasinfer__ws(q, end);
      if (p < end && *p == ',') {
        p = wasinfer__ws(p + 1, end);
        continue;
      }
      if (p < end && *p == ']') {
        p++;
        break;
      }
      return -1;
    }
  }
  if (p != end) return -1;
  if (count) *count = k;
  return 0;
}

#ifdef __cplusplus
}
#endif

#endif /* WASINFER_IMPLEMENTATION */
