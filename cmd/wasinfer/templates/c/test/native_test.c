/* native_test.c: runs __NAME__.c natively, the way the host calls a module
 * (make native-test): zeroed output structures, wasinfer_transform, then
 * wasinfer_release. Built with AddressSanitizer (every output must be freed
 * by its release callbacks) and UBSan. The input batches live in a region
 * that is read-only while the UDF runs, so a write to the borrowed input
 * crashes the test, and their columns have non-zero offsets, as the host's
 * may.
 */
#define _DEFAULT_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "../wasinfer.h"

static int failures;

#define CHECK(cond, ...)                                                       \
  do {                                                                         \
    if (!(cond)) {                                                             \
      failures++;                                                              \
      fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
      fprintf(stderr, __VA_ARGS__);                                            \
      fputc('\n', stderr);                                                     \
    }                                                                          \
  } while (0)

/* ---- input batches, built by hand in a region that can be made read-only ---- */

#define REGION_SIZE (1u << 20)
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

static const char* str(const char* s) { return strcpy((char*)R(strlen(s) + 1), s); }

static struct ArrowSchema* field(const char* format, const char* name) {
  struct ArrowSchema* s = (struct ArrowSchema*)R(sizeof *s);
  s->format = str(format);
  s->name = str(name);
  s->flags = ARROW_FLAG_NULLABLE;
  return s;
}

/* A column of n 8-byte values at offset off (junk before), with nulls where
 * valid[i] == 0 (valid == NULL: no validity buffer). */
static struct ArrowArray* column8(const void* values, int64_t n, int64_t off, const int* valid) {
  struct ArrowArray* a = (struct ArrowArray*)R(sizeof *a);
  unsigned char* v = (unsigned char*)R((size_t)(n + off) * 8);
  memset(v, 0xAB, (size_t)off * 8);
  memcpy(v + off * 8, values, (size_t)n * 8);
  a->buffers = (const void**)R(2 * sizeof(void*));
  a->buffers[1] = v;
  if (valid != NULL) {
    uint8_t* bits = (uint8_t*)R((size_t)(n + off + 7) / 8);
    for (int64_t i = 0; i < n; i++) wasinfer_bit_set(bits, off + i, valid[i]);
    a->buffers[0] = bits;
  }
  a->length = n;
  a->offset = off;
  a->null_count = valid != NULL ? -1 : 0;
  a->n_buffers = 2;
  return a;
}

/* A batch of two columns: "id" (int64, no nulls) and the given one. */
static void batch(struct ArrowSchema** is, struct ArrowArray** ia, const char* name, const char* format,
                  struct ArrowArray* col) {
  static const int64_t ids[] = {1, 2, 3, 4, 5, 6};
  *is = field("+s", "");
  (*is)->flags = 0;
  (*is)->n_children = 2;
  (*is)->children = (struct ArrowSchema**)R(2 * sizeof(void*));
  (*is)->children[0] = field("l", "id");
  (*is)->children[1] = field(format, name);
  *ia = (struct ArrowArray*)R(sizeof **ia);
  (*ia)->length = col->length;
  (*ia)->n_buffers = 1;
  (*ia)->buffers = (const void**)R(sizeof(void*));
  (*ia)->n_children = 2;
  (*ia)->children = (struct ArrowArray**)R(2 * sizeof(void*));
  (*ia)->children[0] = column8(ids, col->length, 1, NULL);
  (*ia)->children[1] = col;
}

/* ---- the host's call sequence ---- */

static int configure(const char* config) {
  int st = wasinfer_init(config, strlen(config));
  CHECK(st == WASINFER_OK, "init %s: status %d: %s", config, st, wasinfer_error_message(NULL));
  return st;
}

static int transform(struct ArrowSchema* is, struct ArrowArray* ia, struct ArrowSchema* os, struct ArrowArray* oa) {
  memset(os, 0, sizeof *os);
  memset(oa, 0, sizeof *oa);
  mprotect(region, REGION_SIZE, PROT_READ);
  int st = wasinfer_transform(is, ia, os, oa);
  mprotect(region, REGION_SIZE, PROT_READ | PROT_WRITE);
  if (st != WASINFER_OK) CHECK(os->release == NULL && oa->release == NULL, "output left after status %d", st);
  return st;
}

static void release(struct ArrowSchema* os, struct ArrowArray* oa) {
  wasinfer_release(os, oa);
  CHECK(os->release == NULL && oa->release == NULL, "release did not mark the output released");
}

/* Checks that the output is the input plus `name` = want (NAN: null). */
static void check_output(const struct ArrowSchema* is, const struct ArrowArray* ia, const struct ArrowSchema* os,
                         const struct ArrowArray* oa, const char* name, const double* want) {
  CHECK(os->n_children == 3 && oa->n_children == 3, "%lld columns, want 3", (long long)os->n_children);
  if (os->n_children != 3 || oa->n_children != 3) return;
  for (int j = 0; j < 2; j++)
    CHECK(os->children[j] == is->children[j] && oa->children[j] == ia->children[j], "column %d was copied", j);
  const struct ArrowSchema* s = os->children[2];
  const struct ArrowArray* a = oa->children[2];
  CHECK(strcmp(s->name, name) == 0 && strcmp(s->format, "g") == 0, "new column %s (%s)", s->name, s->format);
  CHECK(a->length == ia->length && oa->length == ia->length, "length %lld", (long long)a->length);
  for (int64_t r = 0; r < a->length; r++) {
    int valid = wasinfer_array_is_valid(a, r);
    double got = ((const double*)a->buffers[1])[a->offset + r];
    if (isnan(want[r]))
      CHECK(!valid, "row %lld: %g, want null", (long long)r, got);
    else
      CHECK(valid && got == want[r], "row %lld: %g (valid %d), want %g", (long long)r, got, valid, want[r]);
  }
}

static void test_scales_int64(void) {
  static const int64_t values[] = {3, -2, 0, 10, 1500};
  static const int valid[] = {1, 1, 0, 1, 1};
  const double want[] = {7.5, -5, NAN, 25, 3750};
  struct ArrowSchema *is, os;
  struct ArrowArray *ia, oa;
  configure("{\"factor\": 2.5}");
  batch(&is, &ia, "value", "l", column8(values, 5, 3, valid));
  CHECK(transform(is, ia, &os, &oa) == WASINFER_OK, "%s", wasinfer_error_message(NULL));
  check_output(is, ia, &os, &oa, "value_out", want);
  release(&os, &oa);
}

static void test_scales_float64(void) {
  static const double values[] = {0.5, -1.25, 2, 3.75};
  const double want[] = {-1, 2.5, -4, -7.5};
  struct ArrowSchema *is, os;
  struct ArrowArray *ia, oa;
  configure("{\"column\": \"score\", \"factor\": -2}");
  batch(&is, &ia, "score", "g", column8(values, 4, 2, NULL));
  CHECK(transform(is, ia, &os, &oa) == WASINFER_OK, "%s", wasinfer_error_message(NULL));
  check_output(is, ia, &os, &oa, "score_out", want);
  release(&os, &oa);
}

static void test_errors(void) {
  static const int64_t values[] = {1, 2, 1000};
  static const struct {
    const char* config;
    const char* name;
    const char* format;
    int status;
    const char* message;
  } cases[] = {
      {"{\"factor\": 1e306}", "value", "l", WASINFER_ERROR, "column \"value\": row 2: value * factor is not finite"},
      {"{}", "other", "l", WASINFER_UNSUPPORTED_INPUT,
       "column \"value\": not found in the input (columns: \"id\", \"other\")"},
      {"{}", "value", "i", WASINFER_UNSUPPORTED_INPUT, "column \"value\": want int64 or float64, got format \"i\""},
      {"{\"column\": \"id\"}", "id_out", "l", WASINFER_UNSUPPORTED_INPUT, "column \"id_out\": already in the input"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct ArrowSchema *is, os;
    struct ArrowArray *ia, oa;
    configure(cases[i].config);
    batch(&is, &ia, cases[i].name, cases[i].format, column8(values, 3, 1, NULL));
    int st = transform(is, ia, &os, &oa);
    const char* msg = wasinfer_error_message(NULL);
    CHECK(st == cases[i].status && strcmp(msg, cases[i].message) == 0, "case %zu: status %d, message \"%s\"", i, st,
          msg);
  }
}

static void test_config_errors(void) {
  static const struct {
    const char* config;
    const char* message;
  } cases[] = {
      {"{\"factr\": 2}", "config: unknown key \"factr\" (known keys: column, factor)"},
      {"{\"factor\": \"2\"}", "config: \"factor\" must be a number, got a string"},
      {"{\"column\": 7}", "config: \"column\" must be a string, got a number"},
      {"{\"column\": \"\"}", "config: \"column\" must not be empty"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    int st = wasinfer_init(cases[i].config, strlen(cases[i].config));
    const char* msg = wasinfer_error_message(NULL);
    CHECK(st == WASINFER_INVALID_CONFIG && strcmp(msg, cases[i].message) == 0, "%s: status %d, message \"%s\"",
          cases[i].config, st, msg);
  }
}

int main(void) {
  region = (unsigned char*)mmap(NULL, REGION_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (region == MAP_FAILED) {
    perror("mmap");
    return 2;
  }
  test_scales_int64();
  test_scales_float64();
  test_errors();
  test_config_errors();
  if (failures) {
    fprintf(stderr, "native_test: %d checks failed\n", failures);
    return 1;
  }
  printf("native_test: ok\n");
  return 0;
}
