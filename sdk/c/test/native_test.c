/* native_test.c: tests the C SDK and its examples natively, as the host would
 * call them (make native-test). Compiled once per example with -DTEST_IDENTITY,
 * -DTEST_NORMALIZE or -DTEST_FILTER and linked with that example, under
 * AddressSanitizer (leaks: every output must be freed by its release callbacks)
 * and UBSan.
 *
 * Input batches are built by hand in a region that is made read-only while the
 * UDF runs, so a write to the borrowed input crashes the test. They have nulls
 * and non-zero offsets at every level.
 */
#define _DEFAULT_SOURCE
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "wasinfer.h"

/* ---- checks ---------------------------------------------------------------- */

static int failures, checks;

#define CHECK(cond, ...)                                         \
  do {                                                           \
    checks++;                                                    \
    if (!(cond)) {                                               \
      failures++;                                                \
      fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
      fprintf(stderr, __VA_ARGS__);                              \
      fputc('\n', stderr);                                       \
    }                                                            \
  } while (0)

static const char* errmsg(void) { return wasinfer_error_message(NULL); }

/* ---- a read-only-able region for input batches ------------------------------ */

#define REGION_SIZE (8u << 20)
static unsigned char* region;
static size_t region_used;

static void* R(size_t n) {
  size_t at = (region_used + 63) & ~(size_t)63;
  if (at + n > REGION_SIZE) {
    fprintf(stderr, "test region full\n");
    exit(2);
  }
  region_used = at + n;
  memset(region + at, 0, n);
  return region + at;
}
static void freeze(void) { mprotect(region, REGION_SIZE, PROT_READ); }
static void thaw(void) { mprotect(region, REGION_SIZE, PROT_READ | PROT_WRITE); }
static void reset(void) { region_used = 0; }

static const char* str(const char* s) {
  char* p = (char*)R(strlen(s) + 1);
  strcpy(p, s);
  return p;
}

/* Binary metadata of n key/value pairs given as strings. */
static const char* MD(int n, ...) {
  va_list ap;
  size_t total = 4;
  va_start(ap, n);
  for (int i = 0; i < 2 * n; i++) total += 4 + strlen(va_arg(ap, const char*));
  va_end(ap);
  char* md = (char*)R(total);
  char* p = md;
  int32_t c = n;
  memcpy(p, &c, 4);
  p += 4;
  va_start(ap, n);
  for (int i = 0; i < 2 * n; i++) {
    const char* s = va_arg(ap, const char*);
    int32_t l = (int32_t)strlen(s);
    memcpy(p, &l, 4);
    memcpy(p + 4, s, (size_t)l);
    p += 4 + l;
  }
  va_end(ap);
  return md;
}

static inline size_t md_len(const char* md) {
  if (md == NULL) return 0;
  int32_t n, l;
  memcpy(&n, md, 4);
  const char* p = md + 4;
  for (int i = 0; i < 2 * n; i++) {
    memcpy(&l, p, 4);
    p += 4 + l;
  }
  return (size_t)(p - md);
}

static struct ArrowSchema* S(const char* fmt, const char* name, int64_t flags, const char* md, int n, ...) {
  struct ArrowSchema* s = (struct ArrowSchema*)R(sizeof *s);
  s->format = str(fmt);
  s->name = str(name);
  s->metadata = md;
  s->flags = flags;
  s->n_children = n;
  s->children = (struct ArrowSchema**)R(sizeof(void*) * (size_t)(n ? n : 1));
  va_list ap;
  va_start(ap, n);
  for (int i = 0; i < n; i++) s->children[i] = va_arg(ap, struct ArrowSchema*);
  va_end(ap);
  return s;
}

static struct ArrowArray* A(int64_t length, int64_t offset, int nbuf, const void* b0, const void* b1,
                            const void* b2, int n, ...) {
  struct ArrowArray* a = (struct ArrowArray*)R(sizeof *a);
  a->length = length;
  a->offset = offset;
  a->null_count = b0 ? -1 : 0;
  a->n_buffers = nbuf;
  a->buffers = (const void**)R(sizeof(void*) * 3);
  a->buffers[0] = b0;
  a->buffers[1] = b1;
  a->buffers[2] = b2;
  a->n_children = n;
  a->children = (struct ArrowArray**)R(sizeof(void*) * (size_t)(n ? n : 1));
  va_list ap;
  va_start(ap, n);
  for (int i = 0; i < n; i++) a->children[i] = va_arg(ap, struct ArrowArray*);
  va_end(ap);
  return a;
}

/* A validity bitmap for n logical rows at offset off; valid == NULL: none. Bits
 * before off are set to the opposite of row 0 to catch ignored offsets. */
static inline const uint8_t* bitmap(const int* valid, int64_t n, int64_t off) {
  if (valid == NULL) return NULL;
  uint8_t* b = (uint8_t*)R((size_t)((n + off + 7) / 8 + 1));
  for (int64_t i = 0; i < off; i++) wasinfer_bit_set(b, i, !valid[0]);
  for (int64_t i = 0; i < n; i++) wasinfer_bit_set(b, off + i, valid[i]);
  return b;
}

/* A fixed-width array: n logical values of `width` bytes at offset off, junk
 * (0xAB) before. */
static inline struct ArrowArray* fixed(const void* vals, int width, int64_t n, int64_t off, const int* valid) {
  uint8_t* v = (uint8_t*)R((size_t)((n + off) * width) + 1);
  memset(v, 0xAB, (size_t)(off * width));
  memcpy(v + off * width, vals, (size_t)(n * width));
  return A(n, off, 2, bitmap(valid, n, off), v, NULL, 0);
}

static inline struct ArrowArray* bools(const int* vals, int64_t n, int64_t off, const int* valid) {
  uint8_t* v = (uint8_t*)R((size_t)((n + off + 7) / 8 + 1));
  for (int64_t i = 0; i < off; i++) wasinfer_bit_set(v, i, 1);
  for (int64_t i = 0; i < n; i++) wasinfer_bit_set(v, off + i, vals[i]);
  return A(n, off, 2, bitmap(valid, n, off), v, NULL, 0);
}

/* utf8/binary with int32 (wide = 0) or int64 offsets; `off` junk strings first. */
static inline struct ArrowArray* strings(const char* const* vals, int64_t n, int64_t off, const int* valid, int wide) {
  size_t total = 0;
  for (int64_t i = 0; i < n; i++) total += strlen(vals[i]);
  total += (size_t)off * 3;
  uint8_t* offs = (uint8_t*)R((size_t)(n + off + 1) * (wide ? 8 : 4));
  char* data = (char*)R(total + 1);
  int64_t pos = 0;
  for (int64_t i = 0; i < n + off; i++) {
    if (wide) memcpy(offs + i * 8, &pos, 8);
    else {
      int32_t p = (int32_t)pos;
      memcpy(offs + i * 4, &p, 4);
    }
    const char* s = i < off ? "zzz" : vals[i - off];
    memcpy(data + pos, s, strlen(s));
    pos += (int64_t)strlen(s);
  }
  if (wide) memcpy(offs + (n + off) * 8, &pos, 8);
  else {
    int32_t p = (int32_t)pos;
    memcpy(offs + (n + off) * 4, &p, 4);
  }
  return A(n, off, 3, bitmap(valid, n, off), offs, data, 0);
}

/* The host's call sequence for one batch: zeroed outputs, transform, and on OK
 * the caller inspects the output, then calls done(). */
static int transform(struct ArrowSchema* is, struct ArrowArray* ia, struct ArrowSchema* os,
                     struct ArrowArray* oa) {
  memset(os, 0, sizeof *os);
  memset(oa, 0, sizeof *oa);
  freeze();
  int st = wasinfer_transform(is, ia, os, oa);
  thaw();
  if (st != WASINFER_OK) {
    CHECK(os->release == NULL && oa->release == NULL, "output not released after status %d", st);
    size_t len;
    const char* m = wasinfer_error_message(&len);
    CHECK(len > 0 && (uint32_t)wasinfer_last_error() == len, "status %d: last_error %llu, message \"%s\"", st,
          (unsigned long long)wasinfer_last_error(), m);
  }
  return st;
}

static void done(struct ArrowSchema* os, struct ArrowArray* oa) {
  CHECK(os->release != NULL && oa->release != NULL, "output release callbacks not set");
  freeze(); /* release must not touch the input either */
  wasinfer_release(os, oa);
  thaw();
  CHECK(os->release == NULL && oa->release == NULL, "release callbacks did not mark the output released");
}

static void check_batch_shape(const struct ArrowSchema* os, const struct ArrowArray* oa, int64_t ncol,
                              int64_t length) {
  CHECK(strcmp(os->format, "+s") == 0, "format %s", os->format);
  CHECK(os->name != NULL && os->name[0] == 0, "batch name");
  CHECK(os->n_children == ncol && oa->n_children == ncol, "columns %lld/%lld, want %lld",
        (long long)os->n_children, (long long)oa->n_children, (long long)ncol);
  CHECK(oa->length == length, "length %lld, want %lld", (long long)oa->length, (long long)length);
  CHECK(oa->offset == 0 && oa->null_count == 0 && oa->n_buffers == 1 && oa->buffers[0] == NULL,
        "top-level offset/null_count/validity");
}

static void test_alloc(void) {
  for (size_t align = 1; align <= 64; align *= 2) {
    for (size_t size = 0; size < 200; size += 37) {
      void* p = wasinfer_alloc(size, align);
      CHECK(p != NULL && ((uintptr_t)p % align) == 0, "alloc(%zu, %zu) = %p", size, align, p);
      if (p && size) memset(p, 1, size);
      wasinfer_free(p, size, align);
    }
  }
  CHECK(wasinfer_alloc(8, 3) == NULL, "alloc with align 3");
  CHECK(wasinfer_alloc(8, 128) == NULL, "alloc with align 128");
  CHECK(wasinfer_alloc((size_t)-1, 8) == NULL, "alloc of SIZE_MAX");
  wasinfer_free(NULL, 0, 1);
}

/* ======================================================================== */
#if defined(TEST_IDENTITY)

static void test_identity(void) {
  reset();
  static const int32_t ints[] = {1, -2, 3, 4, 5};
  static const int valid[] = {1, 0, 1, 1, 0};
  static const char* const strs[] = {"a", "", "ccc", "dd", "é"};
  struct ArrowSchema* is = S("+s", "", 0, MD(1, "k", "v"), 2,
                             S("i", "a", ARROW_FLAG_NULLABLE, MD(1, "x", "y"), 0),
                             S("u", "s", 0, NULL, 0));
  struct ArrowArray* ia = A(5, 0, 1, NULL, NULL, NULL, 2, fixed(ints, 4, 5, 3, valid),
                            strings(strs, 5, 2, NULL, 0));
  struct ArrowSchema os;
  struct ArrowArray oa;
  CHECK(transform(is, ia, &os, &oa) == WASINFER_OK, "identity: %s", errmsg());
  check_batch_shape(&os, &oa, 2, 5);
  CHECK(os.children == is->children && oa.children == ia->children, "identity copied the columns");
  CHECK(os.metadata == is->metadata, "identity lost the schema metadata");
  done(&os, &oa);

  /* A sliced batch (top-level offset 1): the output must have offset 0. */
  struct ArrowArray* sliced = A(4, 1, 1, NULL, NULL, NULL, 2, ia->children[0], ia->children[1]);
  CHECK(transform(is, sliced, &os, &oa) == WASINFER_OK, "identity of a slice: %s", errmsg());
  check_batch_shape(&os, &oa, 2, 4);
  for (int j = 0; j < 2 && oa.n_children == 2; j++) {
    const struct ArrowArray* c = oa.children[j];
    CHECK(c->offset == ia->children[j]->offset + 1, "column %d offset %lld", j, (long long)c->offset);
    CHECK(c->buffers == ia->children[j]->buffers, "column %d buffers copied", j);
    CHECK(os.children[j] == is->children[j], "column %d schema copied", j);
  }
  done(&os, &oa);

  size_t len;
  const char* d = wasinfer_description(&len);
  CHECK(strstr(d, "\"name\":\"identity\"") != NULL && (uint32_t)wasinfer_describe() == len, "describe: %s", d);
}

/* --- SDK helpers (compiled in with the identity example) --- */

static void test_json(void) {
  const char* cfg = " { \"a\" : [1, 2.5e1, -0.125] , \"b\\u00e9\\n\": {\"x\": [true, null, \"]\"]}, \"c\": \"q\\\"\" } ";
  wasinfer_json_object it;
  wasinfer_json_object_init(&it, cfg, strlen(cfg));
  int r = wasinfer_json_object_next(&it);
  CHECK(r == 1 && strcmp(it.key, "a") == 0, "first key: r=%d key=%s", r, it.key);
  double d[4];
  size_t n = 0;
  CHECK(wasinfer_json_number_array(it.value, it.value_len, d, 4, &n) == 0 && n == 3 && d[0] == 1 &&
            d[1] == 25 && d[2] == -0.125,
        "number array");
  CHECK(wasinfer_json_number_array(it.value, it.value_len, d, 2, &n) == -2, "cap");
  r = wasinfer_json_object_next(&it);
  CHECK(r == 1 && strcmp(it.key, "b\xc3\xa9\n") == 0, "escaped key: %s", it.key);
  CHECK(wasinfer_json_number_array(it.value, it.value_len, d, 4, &n) == -1, "object is not a number array");
  r = wasinfer_json_object_next(&it);
  char s[8];
  size_t sl;
  CHECK(r == 1 && wasinfer_json_string(it.value, it.value_len, s, sizeof s, &sl) == 0 && strcmp(s, "q\"") == 0 &&
            sl == 2,
        "string value");
  CHECK(wasinfer_json_string(it.value, it.value_len, s, 2, NULL) == -2, "string too long");
  CHECK(wasinfer_json_object_next(&it) == 0 && wasinfer_json_object_next(&it) == 0, "end");

  static const struct {
    const char* text;
    const char* error;
  } bad[] = {
      {"[]", "expected '{'"},
      {"{\"a\" 1}", "expected ':'"},
      {"{\"a\": 1,}", "expected a member name"},
      {"{\"a\": 01}", "expected ',' or '}'"},
      {"{\"a\": tru}", "expected a value"},
      {"{\"a\": 1} x", "unexpected text after the object"},
      {"{\"a\": \"\\ud800\"}", "unpaired surrogate in \\u escape"},
      {"{\"a\": [1, 2}", "expected ',' or ']'"},
      {"{\"a\": \"x", "unterminated string"},
      {"{\"a\": \"\x01\"}", "control character in a string"},
      {"{", "expected a member name"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    wasinfer_json_object_init(&it, bad[i].text, strlen(bad[i].text));
    while ((r = wasinfer_json_object_next(&it)) == 1) {
    }
    CHECK(r == -1 && it.error && strcmp(it.error, bad[i].error) == 0, "%s: r=%d error=%s", bad[i].text, r,
          it.error ? it.error : "(none)");
  }
  wasinfer_json_object_init(&it, "  \n", 3);
  CHECK(wasinfer_json_object_next(&it) == 0, "whitespace is an empty object");
  wasinfer_json_object_init(&it, NULL, 0);
  CHECK(wasinfer_json_object_next(&it) == 0, "no text is an empty object");
  wasinfer_json_object_init(&it, "{}", 2);
  CHECK(wasinfer_json_object_next(&it) == 0, "{}");

  int64_t v;
  CHECK(wasinfer_json_int64(" -9223372036854775808 ", 22, &v) == 0 && v == INT64_MIN, "int64 min");
  CHECK(wasinfer_json_int64("9223372036854775807", 19, &v) == 0 && v == INT64_MAX, "int64 max");
  CHECK(wasinfer_json_int64("9223372036854775808", 19, &v) == -1, "int64 overflow");
  CHECK(wasinfer_json_int64("1e3", 3, &v) == 0 && v == 1000, "1e3");
  CHECK(wasinfer_json_int64("1.5", 3, &v) == -1, "1.5");
  CHECK(wasinfer_json_int64("\"1\"", 3, &v) == -1, "string");
  double x;
  CHECK(wasinfer_json_number("0.1", 3, &x) == 0 && x == 0.1, "0.1");
  CHECK(wasinfer_json_number("1e999", 5, &x) == -1, "1e999 out of range");
  CHECK(wasinfer_json_number("+1", 2, &x) == -1 && wasinfer_json_number(".5", 2, &x) == -1 &&
            wasinfer_json_number("0x10", 4, &x) == -1 && wasinfer_json_number("NaN", 3, &x) == -1,
        "non-JSON numbers refused");
  const char* long_num = "0.1000000000000000055511151231257827021181583404541015625000000000000000000001";
  CHECK(wasinfer_json_number(long_num, strlen(long_num), &x) == 0 && x == 0.1, "long number");
  CHECK(wasinfer_json_string("\"a\\u0000b\"", 10, s, sizeof s, NULL) == -1, "NUL refused");
  CHECK(wasinfer_json_string("\"\\ud83d\\ude00\"", 14, s, sizeof s, &sl) == 0 && sl == 4 &&
            memcmp(s, "\xf0\x9f\x98\x80", 4) == 0,
        "surrogate pair");
  const char* val;
  size_t vl;
  const char* meta = "{\"dim_names\": [\"h\",\"w\",\"c\"], \"shape\" : [224, 224, 3]}";
  CHECK(wasinfer_json_find(meta, strlen(meta), "shape", &val, &vl) == 1 && vl == 13 &&
            memcmp(val, "[224, 224, 3]", 13) == 0,
        "find shape: %.*s", (int)vl, val);
  CHECK(wasinfer_json_find(meta, strlen(meta), "nope", &val, &vl) == 0, "find missing");
  CHECK(wasinfer_json_find("{\"shape\":[1]", 12, "shape", &val, &vl) == -1, "find in malformed JSON");
}

static void test_reading(void) {
  reset();
  const char* md = MD(2, "ARROW:extension:name", "t", "k2", "");
  const char* v;
  size_t vl;
  CHECK(wasinfer_metadata_get(md, "ARROW:extension:name", &v, &vl) == 1 && vl == 1 && v[0] == 't', "md get");
  CHECK(wasinfer_metadata_get(md, "k2", &v, &vl) == 1 && vl == 0, "md empty value");
  CHECK(wasinfer_metadata_get(md, "k", &v, &vl) == 0 && wasinfer_metadata_get(NULL, "k", &v, &vl) == 0, "md missing");

  static const struct {
    const char* f;
    int nb;
    int64_t w;
  } formats[] = {
      {"n", 0, 0},   {"b", 2, 0},       {"c", 2, 1},        {"S", 2, 2},         {"e", 2, 2},
      {"i", 2, 4},   {"g", 2, 8},       {"u", 3, 0},        {"Z", 3, 0},         {"w:7", 2, 7},
      {"w:0", -1, 0}, {"d:10,2", 2, 16}, {"d:38,-2,128", 2, 16}, {"d:76,3,256", 2, 32}, {"d:9,2,32", -1, 0},
      {"tdD", 2, 4}, {"tdm", 2, 8},     {"tts", 2, 4},      {"ttn", 2, 8},       {"tsu:", 2, 8},
      {"tsn:UTC", 2, 8}, {"tDm", 2, 8}, {"tiM", -1, 0},     {"+l", 2, 0},        {"+L", 2, 0},
      {"+m", 2, 0},  {"+s", 1, 0},      {"+w:3", 1, 0},     {"+w:", -1, 0},      {"+ud:1", -1, 0},
      {"vu", -1, 0}, {"ii", -1, 0},     {"", -1, 0},
  };
  for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
    CHECK(wasinfer_format_n_buffers(formats[i].f) == formats[i].nb, "n_buffers(%s) = %d", formats[i].f,
          wasinfer_format_n_buffers(formats[i].f));
    CHECK(wasinfer_format_byte_width(formats[i].f) == formats[i].w, "byte_width(%s) = %lld", formats[i].f,
          (long long)wasinfer_format_byte_width(formats[i].f));
  }

  static const int valid[] = {1, 0, 1, 1, 0, 0, 1, 1, 1, 0};
  static const int32_t ints[10] = {0};
  struct ArrowArray* a = fixed(ints, 4, 10, 5, valid);
  for (int i = 0; i < 10; i++) CHECK(wasinfer_array_is_valid(a, i) == valid[i], "is_valid(%d)", i);
  struct ArrowArray* nv = fixed(ints, 4, 10, 5, NULL);
  CHECK(wasinfer_array_is_valid(nv, 3) == 1, "no validity: valid");
  struct ArrowArray* nul = A(3, 0, 0, NULL, NULL, NULL, 0);
  CHECK(wasinfer_array_is_valid(nul, 0) == 0, "null type: null");
  struct ArrowSchema* s = S("+s", "", 0, NULL, 2, S("i", "x", 0, NULL, 0), S("i", "y", 0, NULL, 0));
  CHECK(wasinfer_child_index(s, "y") == 1 && wasinfer_child_index(s, "z") == -1, "child_index");
}

static void test_errors(void) {
  CHECK(wasinfer_set_error("column \"%s\": row %d", "a", 7) == WASINFER_ERROR &&
            strcmp(errmsg(), "column \"a\": row 7") == 0,
        "set_error: %s", errmsg());
  CHECK(wasinfer_set_error_status(WASINFER_INVALID_CONFIG, "x") == WASINFER_INVALID_CONFIG, "set_error_status");
  /* The arguments may be the current message. */
  wasinfer_set_error("%0300d", 5);
  char expect[400];
  snprintf(expect, sizeof expect, "wrapped: %s", errmsg());
  wasinfer_set_error("wrapped: %s", errmsg());
  CHECK(strcmp(errmsg(), expect) == 0, "self-referencing message");
  /* Longer than the host keeps: cut at WASINFER_MAX_ERROR, on a character boundary. */
  size_t big = WASINFER_MAX_ERROR + 10;
  char* m = (char*)malloc(big + 1);
  memset(m, 'a', big);
  m[WASINFER_MAX_ERROR - 1] = (char)0xC3; /* a 2-byte character straddling the limit */
  m[WASINFER_MAX_ERROR] = (char)0xA9;
  m[big] = 0;
  wasinfer_set_error("%s", m);
  size_t len;
  wasinfer_error_message(&len);
  CHECK(len == WASINFER_MAX_ERROR - 1, "long message cut to %zu bytes", len);
  free(m);
  wasinfer_clear_error();
  CHECK(wasinfer_last_error() == 0 && errmsg()[0] == 0, "clear_error");
}

/* The builder: aliased and new columns, metadata, children, failures. */
static void test_builder(void) {
  reset();
  static const int64_t longs[] = {10, 20, 30, 40};
  static const int valid[] = {1, 1, 0, 1};
  struct ArrowSchema* is = S("+s", "", 0, NULL, 2, S("l", "a", ARROW_FLAG_NULLABLE, NULL, 0),
                             S("l", "b", 0, MD(1, "m", "1"), 0));
  struct ArrowArray* ia = A(4, 0, 1, NULL, NULL, NULL, 2, fixed(longs, 8, 4, 2, valid), fixed(longs, 8, 4, 0, NULL));
  struct ArrowSchema os;
  struct ArrowArray oa;
  wasinfer_builder b;
  CHECK(wasinfer_builder_init(&b, &os, &oa, 4, is->metadata) == WASINFER_OK, "init");
  wasinfer_builder_pass(&b, is, ia, 1);
  wasinfer_column c = wasinfer_builder_add(&b, "new", "+w:2", ARROW_FLAG_NULLABLE);
  wasinfer_column_add_metadata(c, "k1", "v1");
  wasinfer_column_add_metadata_n(c, "k2", 2, "v\0x", 3);
  wasinfer_column item = wasinfer_column_add_child(c, "item", "s", 0);
  item.array->length = 8;
  int16_t* vals = (int16_t*)wasinfer_column_alloc_buffer(item, 1, 16);
  for (int i = 0; i < 8 && vals; i++) vals[i] = (int16_t)i;
  uint8_t* v = wasinfer_column_validity(c);
  if (v) wasinfer_bit_set(v, 2, 0);
  wasinfer_column like = wasinfer_builder_add_like(&b, is->children[0]);
  int64_t* lv = (int64_t*)wasinfer_column_calloc_buffer(like, 1, 32);
  CHECK(lv != NULL && ((uintptr_t)lv % 64) == 0 && lv[3] == 0, "calloc buffer aligned and zeroed");
  for (int i = 0; i < 100 && b.status == WASINFER_OK; i++) { /* grow the children list */
    wasinfer_column e = wasinfer_builder_add(&b, "e", "n", 0);
    CHECK(e.array && e.array->n_buffers == 0, "null column");
  }
  CHECK(wasinfer_builder_finish(&b) == WASINFER_OK, "finish: %s", errmsg());
  check_batch_shape(&os, &oa, 103, 4);
  CHECK(os.metadata == is->metadata, "schema metadata");
  CHECK(os.children[0] == is->children[1] && oa.children[0] == ia->children[1], "passed column aliased");
  const struct ArrowSchema* ns = os.children[1];
  CHECK(strcmp(ns->format, "+w:2") == 0 && strcmp(ns->name, "new") == 0 && ns->flags == ARROW_FLAG_NULLABLE,
        "new column schema");
  const char* expect_md = MD(2, "k1", "v1", "k2", "v\0x");
  /* MD used strlen, so only the bytes up to the second value's length agree. */
  CHECK(md_len(ns->metadata) == 29 && memcmp(ns->metadata, expect_md, 22) == 0,
        "metadata encoding");
  const char* mv;
  size_t ml;
  CHECK(wasinfer_metadata_get(ns->metadata, "k2", &mv, &ml) == 1 && ml == 3 && memcmp(mv, "v\0x", 3) == 0, "k2");
  CHECK(ns->n_children == 1 && strcmp(ns->children[0]->name, "item") == 0 && oa.children[1]->n_children == 1 &&
            oa.children[1]->children[0]->length == 8,
        "child");
  CHECK(oa.children[1]->null_count == -1 && oa.children[1]->buffers[0] == v, "validity");
  CHECK(os.children[2] == is->children[0] && oa.children[2]->release != NULL, "add_like aliases the schema only");
  done(&os, &oa);

  /* A missing buffer is reported by finish, which frees everything. */
  wasinfer_builder_init(&b, &os, &oa, 4, NULL);
  wasinfer_builder_pass_all(&b, is, ia, 0);
  wasinfer_column u = wasinfer_builder_add(&b, "text", "u", 0);
  wasinfer_column_alloc_buffer(u, 1, 20);
  CHECK(wasinfer_builder_finish(&b) == WASINFER_ERROR &&
            strcmp(errmsg(), "column \"text\" (format \"u\"): buffer 2 was never set (wasinfer_column_alloc_buffer)") == 0,
        "finish: %s", errmsg());
  CHECK(os.release == NULL && oa.release == NULL, "finish released the failed output");

  /* Misuse: sticky first error, later calls are no-ops. */
  wasinfer_builder_init(&b, &os, &oa, 4, NULL);
  wasinfer_column bad = wasinfer_builder_add(&b, "x", "+ud:1", 0);
  CHECK(bad.schema == NULL && b.status == WASINFER_ERROR &&
            strcmp(errmsg(), "column \"x\": format \"+ud:1\" is not in ABI v1") == 0,
        "bad format: %s", errmsg());
  CHECK(wasinfer_column_alloc_buffer(bad, 1, 8) == NULL, "no-op on a failed column");
  wasinfer_builder_add(&b, "y", "i", 0);
  CHECK(os.n_children == 0, "no column added after a failure");
  wasinfer_builder_abort(&b);
  CHECK(os.release == NULL, "abort");

  /* Out of memory is reported, not crashed on. */
  wasinfer_builder_init(&b, &os, &oa, 4, NULL);
  wasinfer_column huge = wasinfer_builder_add(&b, "h", "g", 0);
  CHECK(wasinfer_column_alloc_buffer(huge, 1, -1) == NULL && b.status == WASINFER_OUT_OF_MEMORY, "oom: %s",
        errmsg());
  CHECK(wasinfer_builder_finish(&b) == WASINFER_OUT_OF_MEMORY && os.release == NULL, "oom finish");
}

static void run_tests(void) {
  test_alloc();
  test_identity();
  test_json();
  test_reading();
  test_errors();
  test_builder();
}

/* ======================================================================== */
#elif defined(TEST_NORMALIZE)

static uint32_t rng = 12345;
static uint8_t next_byte(void) {
  rng = rng * 1103515245u + 12345u;
  return (uint8_t)(rng >> 16);
}

/* The reference formula of briefs/normalize.md, scalar. */
static float expect_value(uint8_t x, double mean, double std) {
  float scale = (float)(1.0 / (255.0 * std));
  float bias = (float)(-mean / std);
  volatile float p = (float)x * scale; /* rounded to float32 before the add */
  return p + bias;
}

static const char* tensor_md(int64_t h, int64_t w, int64_t c) {
  char shape[128];
  snprintf(shape, sizeof shape, "{ \"dim_names\": [\"H\",\"W\",\"C\"], \"shape\": [ %lld, %lld,%lld ] }",
           (long long)h, (long long)w, (long long)c);
  return MD(2, "ARROW:extension:name", "arrow.fixed_shape_tensor", "ARROW:extension:metadata", shape);
}

/* Builds [id int64 | image tensor (h,w,c) | label utf8] with nulls and offsets
 * at every level, runs normalize, and checks everything. */
static void run_case(int64_t rows, int64_t h, int64_t w, int64_t c, int64_t top_off, const double* mean,
                     int n_mean, const double* stdv, int n_std, const char* out_name) {
  reset();
  const int64_t n = h * w * c, list_off = 2, item_off = 5;
  const int64_t phys = top_off + rows; /* physical rows of each column */
  int* valid = (int*)R(sizeof(int) * (size_t)(phys + 1));
  int64_t* ids = (int64_t*)R(sizeof(int64_t) * (size_t)(phys + 1));
  const char** labels = (const char**)R(sizeof(char*) * (size_t)(phys + 1));
  for (int64_t i = 0; i < phys; i++) {
    valid[i] = (i % 3) != 1;
    ids[i] = i;
    labels[i] = i % 2 ? "odd" : "even";
  }
  size_t nbytes = (size_t)((item_off + (list_off + phys) * n));
  uint8_t* pixels = (uint8_t*)R(nbytes + 1);
  for (size_t i = 0; i < nbytes; i++) pixels[i] = next_byte();
  pixels[item_off + list_off * n] = 0;
  if (n > 1) pixels[item_off + list_off * n + 1] = 255;

  char fmt[32];
  snprintf(fmt, sizeof fmt, "+w:%lld", (long long)n);
  const char* schema_md = MD(1, "batch", "meta");
  struct ArrowSchema* is =
      S("+s", "", 0, schema_md, 3, S("l", "id", 0, NULL, 0),
        S(fmt, "image", ARROW_FLAG_NULLABLE, tensor_md(h, w, c), 1, S("C", "item", 0, NULL, 0)),
        S("u", "label", ARROW_FLAG_NULLABLE, MD(1, "a", "b"), 0));
  struct ArrowArray* items = A((list_off + phys) * n, item_off, 2, NULL, pixels, NULL, 0);
  struct ArrowArray* list = A(phys, list_off, 1, bitmap(valid, phys, list_off), NULL, NULL, 1, items);
  struct ArrowArray* ia = A(rows, top_off, 1, NULL, NULL, NULL, 3, fixed(ids, 8, phys, 1, NULL), list,
                            strings(labels, phys, 3, NULL, 0));
  struct ArrowSchema os;
  struct ArrowArray oa;
  int st = transform(is, ia, &os, &oa);
  CHECK(st == WASINFER_OK, "normalize %lldx%lldx%lld: %s", (long long)h, (long long)w, (long long)c, errmsg());
  if (st != WASINFER_OK) return;
  check_batch_shape(&os, &oa, 3, rows);
  CHECK(os.metadata == schema_md, "schema metadata kept");
  /* Passed-through columns are aliased (or re-based when the batch is sliced). */
  CHECK(os.children[0] == is->children[0] && os.children[1] == is->children[2], "passed columns' schemas aliased");
  if (top_off == 0) {
    CHECK(oa.children[0] == ia->children[0] && oa.children[1] == ia->children[2], "passed columns aliased");
  } else {
    CHECK(oa.children[0]->buffers == ia->children[0]->buffers && oa.children[0]->offset == 1 + top_off,
          "passed column re-based");
  }
  const struct ArrowSchema* ts = os.children[2];
  const struct ArrowArray* ta = oa.children[2];
  char want_shape[96];
  snprintf(want_shape, sizeof want_shape, "{\"shape\":[%lld,%lld,%lld]}", (long long)c, (long long)h, (long long)w);
  const char* want_md =
      MD(2, "ARROW:extension:name", "arrow.fixed_shape_tensor", "ARROW:extension:metadata", want_shape);
  CHECK(strcmp(ts->format, fmt) == 0 && strcmp(ts->name, out_name) == 0 && ts->flags == ARROW_FLAG_NULLABLE,
        "tensor field %s %s %lld", ts->format, ts->name, (long long)ts->flags);
  CHECK(md_len(ts->metadata) == md_len(want_md) && memcmp(ts->metadata, want_md, md_len(want_md)) == 0,
        "tensor metadata");
  CHECK(ts->n_children == 1 && strcmp(ts->children[0]->format, "f") == 0 &&
            strcmp(ts->children[0]->name, "item") == 0 && ts->children[0]->flags == 0,
        "item field");
  const struct ArrowArray* fa = ta->children[0];
  CHECK(ta->length == rows && ta->offset == 0 && fa->length == rows * n && fa->offset == 0 &&
            fa->buffers[0] == NULL && fa->null_count == 0,
        "tensor arrays");
  const float* out = (const float*)fa->buffers[1];
  int64_t bad = 0, nulls = 0;
  for (int64_t r = 0; r < rows; r++) {
    int ok = valid[top_off + r];
    if (!ok) nulls++;
    int got = ta->buffers[0] ? wasinfer_bit_get(ta->buffers[0], r) : 1;
    CHECK(got == ok, "row %lld validity %d, want %d", (long long)r, got, ok);
    const uint8_t* src = pixels + item_off + (list_off + top_off + r) * n;
    for (int64_t y = 0; y < h; y++)
      for (int64_t x = 0; x < w; x++)
        for (int64_t ch = 0; ch < c; ch++) {
          float want = 0.0f;
          if (ok)
            want = expect_value(src[(y * w + x) * c + ch], mean[ch < n_mean ? ch : n_mean - 1],
                                stdv[ch < n_std ? ch : n_std - 1]);
          float g = out[r * n + ch * h * w + y * w + x];
          if (memcmp(&g, &want, 4) != 0 && bad++ < 5)
            CHECK(0, "row %lld c=%lld y=%lld x=%lld: %.9g, want %.9g", (long long)r, (long long)ch, (long long)y,
                  (long long)x, g, want);
        }
  }
  CHECK(bad == 0, "%lld values differ", (long long)bad);
  CHECK(ta->null_count == nulls, "null_count %lld, want %lld", (long long)ta->null_count, (long long)nulls);
  done(&os, &oa);
}

static const double imagenet_mean[] = {0.485, 0.456, 0.406}, imagenet_std[] = {0.229, 0.224, 0.225};

static int init(const char* cfg) { return wasinfer_init(cfg, cfg ? strlen(cfg) : 0); }

static void test_values(void) {
  CHECK(init(NULL) == WASINFER_OK, "init(0, 0): %s", errmsg());
  run_case(7, 2, 17, 3, 0, imagenet_mean, 3, imagenet_std, 3, "tensor");
  run_case(5, 4, 4, 1, 0, imagenet_mean, 3, imagenet_std, 3, "tensor");
  run_case(5, 3, 11, 2, 1, imagenet_mean, 3, imagenet_std, 3, "tensor");
  run_case(4, 5, 7, 4, 3, imagenet_mean, 3, imagenet_std, 3, "tensor"); /* channel 3 uses the last value */
  run_case(0, 2, 2, 3, 0, imagenet_mean, 3, imagenet_std, 3, "tensor"); /* empty batch */
  run_case(3, 1, 1, 3, 0, imagenet_mean, 3, imagenet_std, 3, "tensor");

  static const double m[] = {0.5}, s[] = {0.25, 0.5};
  CHECK(init("{\"mean\": [0.5], \"std\": [0.25, 0.5], \"output\": \"pixels\", \"column\": \"image\"}") ==
            WASINFER_OK,
        "init: %s", errmsg());
  run_case(6, 3, 19, 3, 0, m, 1, s, 2, "pixels");
  run_case(6, 2, 8, 4, 2, m, 1, s, 2, "pixels");
  CHECK(init("{}") == WASINFER_OK, "init {}: %s", errmsg());
  run_case(2, 2, 16, 3, 0, imagenet_mean, 3, imagenet_std, 3, "tensor");
}

static void test_config_errors(void) {
  static const struct {
    const char* cfg;
    const char* msg;
  } cases[] = {
      {"{\"scale\": 1}", "invalid config: unknown key \"scale\" (known: column, output, mean, std)"},
      {"{\"std\": [0.2, 0]}", "invalid config: \"std\"[1] is 0; every std must be > 0"},
      {"{\"std\": [-1]}", "invalid config: \"std\"[0] is -1; every std must be > 0"},
      {"{\"mean\": [1,2,3,4,5]}", "invalid config: \"mean\" must be an array of 1 to 4 numbers, got [1,2,3,4,5]"},
      {"{\"mean\": []}", "invalid config: \"mean\" must be an array of 1 to 4 numbers, got []"},
      {"{\"mean\": 0.5}", "invalid config: \"mean\" must be an array of 1 to 4 numbers, got 0.5"},
      {"{\"column\": 3}", "invalid config: \"column\" must be a non-empty string"},
      {"{\"mean\": [1], \"mean\": [2]}", "invalid config: duplicate key \"mean\""},
      {"[1]", "invalid config: not a JSON object: expected '{' at byte 0"},
      {"{\"mean\": [1e999]}", "invalid config: \"mean\" must be an array of 1 to 4 numbers, got [1e999]"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    int st = init(cases[i].cfg);
    CHECK(st == WASINFER_INVALID_CONFIG && strcmp(errmsg(), cases[i].msg) == 0, "%s: status %d, message %s",
          cases[i].cfg, st, errmsg());
    CHECK((uint32_t)wasinfer_last_error() == strlen(cases[i].msg), "last_error length");
  }
  /* A rejected config leaves the previous one in place. */
  run_case(2, 2, 16, 3, 0, imagenet_mean, 3, imagenet_std, 3, "tensor");
}

static void expect_unsupported(struct ArrowSchema* is, struct ArrowArray* ia, const char* msg) {
  struct ArrowSchema os;
  struct ArrowArray oa;
  int st = transform(is, ia, &os, &oa);
  CHECK(st == WASINFER_UNSUPPORTED_INPUT && strcmp(errmsg(), msg) == 0, "status %d, message %s; want %s", st,
        errmsg(), msg);
}

static void test_unsupported(void) {
  CHECK(init(NULL) == WASINFER_OK, "init");
  reset();
  static const uint8_t px[12] = {0};
  struct ArrowArray* items = A(12, 0, 2, NULL, px, NULL, 0);
  struct ArrowArray* list = A(1, 0, 1, NULL, NULL, NULL, 1, items);
  struct ArrowArray* ia = A(1, 0, 1, NULL, NULL, NULL, 1, list);
  const char* ext = "ARROW:extension:name";
  const char* meta = "ARROW:extension:metadata";
  const char* tn = "arrow.fixed_shape_tensor";
#define IMG(fmt, child, md) S("+s", "", 0, NULL, 1, S(fmt, "image", 0, md, 1, S(child, "item", 0, NULL, 0)))
  expect_unsupported(S("+s", "", 0, NULL, 1, S("+w:12", "img", 0, NULL, 1, S("C", "item", 0, NULL, 0))), ia,
                     "column \"image\": not in the input batch");
  expect_unsupported(IMG("+w:12", "c", MD(2, ext, tn, meta, "{\"shape\":[2,2,3]}")), ia,
                     "column \"image\": format \"+w:12\" is not a fixed_size_list of uint8 (want an "
                     "arrow.fixed_shape_tensor of uint8)");
  expect_unsupported(IMG("+w:12", "C", NULL), ia,
                     "column \"image\": not an arrow.fixed_shape_tensor (no ARROW:extension:name in the field "
                     "metadata)");
  expect_unsupported(IMG("+w:12", "C", MD(1, ext, "other")), ia,
                     "column \"image\": extension type \"other\" is not arrow.fixed_shape_tensor");
  expect_unsupported(IMG("+w:12", "C", MD(1, ext, tn)), ia,
                     "column \"image\": tensor has no ARROW:extension:metadata (want {\"shape\":[H,W,C]})");
  expect_unsupported(IMG("+w:12", "C", MD(2, ext, tn, meta, "{\"dim_names\":[]}")), ia,
                     "column \"image\": tensor metadata has no \"shape\": {\"dim_names\":[]}");
  expect_unsupported(IMG("+w:12", "C", MD(2, ext, tn, meta, "{\"shape\":[2,2,3]")), ia,
                     "column \"image\": tensor metadata is not a JSON object: {\"shape\":[2,2,3]");
  expect_unsupported(IMG("+w:12", "C", MD(2, ext, tn, meta, "{\"shape\":[12]}")), ia,
                     "column \"image\": tensor shape [12] is not 3 positive integers [H,W,C]");
  expect_unsupported(IMG("+w:12", "C", MD(2, ext, tn, meta, "{\"shape\":[2,0,3]}")), ia,
                     "column \"image\": tensor shape [2,0,3] is not 3 positive integers [H,W,C]");
  expect_unsupported(IMG("+w:12", "C", MD(2, ext, tn, meta, "{\"shape\":[2,1.5,3]}")), ia,
                     "column \"image\": tensor shape [2,1.5,3] is not 3 positive integers [H,W,C]");
  expect_unsupported(IMG("+w:12", "C", MD(2, ext, tn, meta, "{\"shape\":[1,2,6]}")), ia,
                     "column \"image\": tensor shape [1,2,6] has 6 channels; want 1 to 4");
  expect_unsupported(IMG("+w:12", "C", MD(2, ext, tn, meta, "{\"shape\":[2,2,2]}")), ia,
                     "column \"image\": tensor shape [2,2,2] does not match the list size 12");
#undef IMG
}

static void run_tests(void) {
  test_alloc();
  test_values();
  test_config_errors();
  test_unsupported();
  size_t len;
  const char* d = wasinfer_description(&len);
  CHECK(strstr(d, "\"name\":\"normalize\"") != NULL, "describe");
}

/* ======================================================================== */
#elif defined(TEST_FILTER)

/* Checks that out row i equals in row sel[i] (input row r is element base + r). */
static void check_column(const struct ArrowSchema* s, const struct ArrowArray* in, int64_t base,
                         const struct ArrowArray* out, const int64_t* sel, int64_t k) {
  const char* name = s->name;
  CHECK(out->length == k, "column %s: length %lld, want %lld", name, (long long)out->length, (long long)k);
  CHECK(out->n_buffers == in->n_buffers && out->n_children == 0, "column %s: buffers", name);
  CHECK(out->dictionary == in->dictionary, "column %s: dictionary", name);
  if (out->length != k || out->n_buffers != in->n_buffers) return;
  int64_t w = wasinfer_format_byte_width(s->format);
  int64_t nulls = 0;
  for (int64_t i = 0; i < k; i++) {
    int64_t r = base + sel[i], o = out->offset + i;
    int vi = in->n_buffers == 0 ? 0 : in->buffers[0] ? wasinfer_bit_get(in->buffers[0], r) : 1;
    int vo = wasinfer_array_is_valid(out, i);
    CHECK(vi == vo, "column %s row %lld: validity %d, want %d", name, (long long)i, vo, vi);
    if (!vo) nulls++;
    if (!vi || in->n_buffers == 0) continue;
    if (strcmp(s->format, "b") == 0) {
      CHECK(wasinfer_bit_get(in->buffers[1], r) == wasinfer_bit_get(out->buffers[1], o), "column %s row %lld", name,
            (long long)i);
    } else if (w > 0) {
      CHECK(memcmp((const char*)in->buffers[1] + r * w, (const char*)out->buffers[1] + o * w, (size_t)w) == 0,
            "column %s row %lld: value", name, (long long)i);
    } else {
      int wide = s->format[0] == 'Z' || s->format[0] == 'U';
      int64_t a0, a1, b0, b1;
      if (wide) {
        memcpy(&a0, (const char*)in->buffers[1] + r * 8, 8);
        memcpy(&a1, (const char*)in->buffers[1] + r * 8 + 8, 8);
        memcpy(&b0, (const char*)out->buffers[1] + o * 8, 8);
        memcpy(&b1, (const char*)out->buffers[1] + o * 8 + 8, 8);
      } else {
        int32_t x[4];
        memcpy(&x[0], (const char*)in->buffers[1] + r * 4, 8);
        memcpy(&x[2], (const char*)out->buffers[1] + o * 4, 8);
        a0 = x[0], a1 = x[1], b0 = x[2], b1 = x[3];
      }
      CHECK(a1 - a0 == b1 - b0 &&
                memcmp((const char*)in->buffers[2] + a0, (const char*)out->buffers[2] + b0, (size_t)(a1 - a0)) == 0,
            "column %s row %lld: bytes", name, (long long)i);
    }
  }
  if (in->n_buffers > 0 && in->buffers[0] != NULL)
    CHECK(out->null_count == nulls, "column %s: null_count %lld, want %lld", name, (long long)out->null_count,
          (long long)nulls);
}

static struct ArrowSchema* g_is;
static struct ArrowArray* g_ia;

/* A batch of every supported type; rows (logical) = 8. value = [5,20,-3,11,10,100(null),0,50]. */
static void make_batch(int64_t top_off) {
  reset();
  const int64_t n = 8 + top_off;
  static const int64_t values[] = {7, 5, 20, -3, 11, 10, 100, 0, 50};
  static const int vvalid[] = {1, 1, 1, 1, 1, 1, 0, 1, 1};
  static const int bvals[] = {1, 0, 1, 1, 0, 1, 0, 1, 1};
  static const int bvalid[] = {1, 1, 0, 1, 1, 1, 1, 0, 1};
  static const double dbl[] = {0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5};
  static const char* const strs[] = {"x", "a", "bb", "", "ccc", "dddd", "é", "ff", "ggg"};
  static const int svalid[] = {1, 1, 0, 1, 1, 0, 1, 1, 1};
  static const int8_t idx[] = {0, 0, 1, 2, 0, 1, 2, 0, 1};
  static const char fsb[] = "aaabbbcccdddeeefffggghhhiii";
  static const char* const dict[] = {"x", "y", "z"};
  const int64_t* vp = values + 1 - top_off; /* so logical row 0 is always 5 */
  struct ArrowSchema* dict_schema = S("u", "", 0, NULL, 0);
  struct ArrowSchema* ds = S("c", "d", ARROW_FLAG_NULLABLE, NULL, 0);
  ds->dictionary = dict_schema;
  struct ArrowArray* da = fixed(idx, 1, n, 0, NULL);
  da->dictionary = strings(dict, 3, 0, NULL, 0);
  g_is = S("+s", "", 0, MD(1, "schema", "md"), 8, S("l", "value", ARROW_FLAG_NULLABLE, MD(1, "k", "v"), 0),
           S("b", "b", ARROW_FLAG_NULLABLE, NULL, 0), S("g", "g", 0, NULL, 0),
           S("u", "s", ARROW_FLAG_NULLABLE, NULL, 0), S("Z", "L", 0, NULL, 0), S("n", "n", ARROW_FLAG_NULLABLE, NULL, 0),
           ds, S("w:3", "w", 0, NULL, 0));
  g_ia = A(8, top_off, 1, NULL, NULL, NULL, 8, fixed(vp, 8, n, 1, vvalid + 1 - top_off), bools(bvals, n, 3, bvalid),
           fixed(dbl, 8, n, 0, NULL), strings(strs, n, 2, svalid, 0), strings(strs, n, 0, NULL, 1),
           A(n, 0, 0, NULL, NULL, NULL, 0), da, fixed(fsb, 3, n, 1, NULL));
}

static int init(const char* cfg) { return wasinfer_init(cfg, cfg ? strlen(cfg) : 0); }

static void run_filter(int64_t top_off, const int64_t* want, int64_t k) {
  make_batch(top_off);
  struct ArrowSchema os;
  struct ArrowArray oa;
  int st = transform(g_is, g_ia, &os, &oa);
  CHECK(st == WASINFER_OK, "filter: %s", errmsg());
  if (st != WASINFER_OK) return;
  check_batch_shape(&os, &oa, 8, k);
  CHECK(os.metadata == g_is->metadata, "schema metadata");
  int64_t sel[16];
  for (int64_t i = 0; i < k; i++) sel[i] = want[i] + top_off; /* rows of the unsliced columns */
  for (int64_t j = 0; j < 8 && oa.n_children == 8; j++) {
    CHECK(os.children[j] == g_is->children[j], "column %lld: field aliased", (long long)j);
    check_column(g_is->children[j], g_ia->children[j], g_ia->children[j]->offset, oa.children[j], sel, k);
  }
  done(&os, &oa);
}

static void test_filter(void) {
  CHECK(init(NULL) == WASINFER_OK, "init: %s", errmsg());
  static const int64_t min0[] = {0, 1, 3, 4, 7}; /* value > 0, row 5 null */
  run_filter(0, min0, 5);
  run_filter(1, min0, 5);
  CHECK(init("{\"min\": 10, \"column\": \"value\"}") == WASINFER_OK, "init: %s", errmsg());
  static const int64_t min10[] = {1, 3, 7};
  run_filter(0, min10, 3);
  CHECK(init("{\"min\": 1000}") == WASINFER_OK, "init: %s", errmsg());
  run_filter(0, NULL, 0);
  CHECK(init("{\"min\": -9223372036854775808}") == WASINFER_OK, "init: %s", errmsg());
  static const int64_t all[] = {0, 1, 2, 3, 4, 6, 7};
  run_filter(0, all, 7);
}

static void test_errors(void) {
  static const struct {
    const char* cfg;
    const char* msg;
  } cases[] = {
      {"{\"min\": 1.5}", "invalid config: \"min\" must be an integer within int64, got 1.5"},
      {"{\"min\": \"1\"}", "invalid config: \"min\" must be an integer within int64, got \"1\""},
      {"{\"max\": 1}", "invalid config: unknown key \"max\" (known: column, min)"},
      {"{\"column\": \"\"}", "invalid config: \"column\" must be a non-empty string of at most 1023 bytes"},
      {"{\"min\": 1, \"min\": 2}", "invalid config: duplicate key \"min\""},
      {"{\"min\": 1", "invalid config: not a JSON object: expected ',' or '}' at byte 9"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    int st = init(cases[i].cfg);
    CHECK(st == WASINFER_INVALID_CONFIG && strcmp(errmsg(), cases[i].msg) == 0, "%s: status %d, message %s",
          cases[i].cfg, st, errmsg());
  }
  struct ArrowSchema os;
  struct ArrowArray oa;
  CHECK(init("{\"column\": \"g\"}") == WASINFER_OK, "init");
  make_batch(0);
  CHECK(transform(g_is, g_ia, &os, &oa) == WASINFER_UNSUPPORTED_INPUT &&
            strcmp(errmsg(), "column \"g\": format \"g\" is not int64 (\"l\")") == 0,
        "%s", errmsg());
  CHECK(init("{\"column\": \"nope\"}") == WASINFER_OK, "init");
  CHECK(transform(g_is, g_ia, &os, &oa) == WASINFER_UNSUPPORTED_INPUT &&
            strcmp(errmsg(), "column \"nope\": not in the input batch") == 0,
        "%s", errmsg());
  CHECK(init(NULL) == WASINFER_OK, "init");
  struct ArrowSchema* ls = S("+l", "list", 0, NULL, 1, S("i", "item", 0, NULL, 0));
  struct ArrowSchema* is = S("+s", "", 0, NULL, 2, g_is->children[0], ls);
  struct ArrowArray* ia = A(8, 0, 1, NULL, NULL, NULL, 2, g_ia->children[0], g_ia->children[0]);
  CHECK(transform(is, ia, &os, &oa) == WASINFER_UNSUPPORTED_INPUT &&
            strcmp(errmsg(),
                   "column \"list\": type with format \"+l\" is not supported by filter (supported: null, bool, "
                   "fixed-width, binary and utf8 types, and dictionaries of those)") == 0,
        "%s", errmsg());
}

static void run_tests(void) {
  test_alloc();
  test_filter();
  test_errors();
  size_t len;
  CHECK(strstr(wasinfer_description(&len), "\"name\":\"filter\"") != NULL, "describe");
}

#else
#error "compile with -DTEST_IDENTITY, -DTEST_NORMALIZE or -DTEST_FILTER"
#endif

int main(void) {
  region = (unsigned char*)mmap(NULL, REGION_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (region == MAP_FAILED) {
    perror("mmap");
    return 2;
  }
  run_tests();
  wasinfer_clear_error();
  munmap(region, REGION_SIZE);
  const char* which =
#if defined(TEST_IDENTITY)
      "identity";
#elif defined(TEST_NORMALIZE)
      "normalize";
#else
      "filter";
#endif
  if (failures) {
    fprintf(stderr, "FAIL native_test %s: %d of %d checks failed\n", which, failures, checks);
    return 1;
  }
  printf("ok native_test %s: %d checks\n", which, checks);
  return 0;
}
