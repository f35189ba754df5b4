/*
 * memory_bomb_c: a C guest (wasi-libc's malloc, no wasinfer SDK header) whose
 * wasinfer_transform mallocs and touches 1 MiB blocks until malloc returns
 * NULL at the instance's memory limit, frees them all, and returns 4
 * (OUT_OF_MEMORY) with the message
 * "memory_bomb_c: malloc failed after N MiB".
 *
 * Expected: kind "memory", status OUT_OF_MEMORY, that message (N depends on
 * the memory limit); the instance is replaced. Use a small WithMemoryLimit
 * (e.g. 16 MiB) to keep it fast.
 *
 * Built with: clang-14 --target=wasm32-wasi -O2 -mexec-model=reactor
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define EXPORT(name) __attribute__((export_name(name)))

enum { STATUS_OK = 0, STATUS_OUT_OF_MEMORY = 4 };

static char message[64];
static uint32_t message_len;

EXPORT("wasinfer_abi_v1") void wasinfer_abi_v1(void) {}

EXPORT("wasinfer_alloc") void *wasinfer_alloc(uint32_t size, uint32_t align) {
  void *p = NULL;
  if (align < sizeof(void *)) align = sizeof(void *);
  if (posix_memalign(&p, align, size ? size : 1) != 0) return NULL;
  return p;
}

EXPORT("wasinfer_free") void wasinfer_free(void *ptr, uint32_t size, uint32_t align) {
  (void)size;
  (void)align;
  free(ptr);
}

EXPORT("wasinfer_release") void wasinfer_release(void *out_schema, void *out_array) {
  (void)out_schema;
  (void)out_array;
}

EXPORT("wasinfer_last_error") uint64_t wasinfer_last_error(void) {
  return message_len ? (uint64_t)(uintptr_t)message << 32 | message_len : 0;
}

/* append copies s to the message. */
static void append(const char *s) {
  while (*s && message_len < sizeof message) message[message_len++] = *s++;
}

/* append_u32 appends v in decimal. */
static void append_u32(uint32_t v) {
  char digits[11];
  int n = 0;
  do {
    digits[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  while (n && message_len < sizeof message) message[message_len++] = digits[--n];
}

EXPORT("wasinfer_transform")
int32_t wasinfer_transform(void *in_schema, void *in_array, void *out_schema, void *out_array) {
  (void)in_schema;
  (void)in_array;
  (void)out_schema;
  (void)out_array;
  enum { BLOCK = 1 << 20 };
  void *head = NULL; /* blocks form a list through their first word */
  uint32_t mib = 0;
  for (;;) {
    void **block = malloc(BLOCK);
    if (block == NULL) break;
    memset(block, 0xab, BLOCK); /* touch every page */
    *block = head;
    head = block;
    mib++;
  }
  while (head != NULL) {
    void *next = *(void **)head;
    free(head);
    head = next;
  }
  message_len = 0;
  append("memory_bomb_c: malloc failed after ");
  append_u32(mib);
  append(" MiB");
  return STATUS_OUT_OF_MEMORY;
}
