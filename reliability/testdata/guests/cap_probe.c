/* cap_probe: reaches for every capability a sandboxed UDF must not have, both
 * through wasi-libc (what a C program sees) and through the raw WASI calls
 * (what the host answers), and returns what each call returned as one utf8
 * column "probe", one row per call: "<call>: <result>". It ignores its input.
 *
 * Expected (host defaults: no preopens, no environment, fake clocks,
 * deterministic random source, sleeping does not sleep): every file call fails
 * (no errno is 0 and no fd is returned), the environment and arguments are
 * empty, the clocks read 2022-01-01T00:00:00Z + 1 ms per read, and poll_oneoff
 * returns at once. The test that runs it (capability_test.go) checks each row
 * and writes the rows to the results as "what the guest saw". Imports of
 * sock_* are refused at load, so they are probed by the host corpus's
 * sock_import.wasm, not here.
 */
#define _POSIX_C_SOURCE 200809L
#define WASINFER_IMPLEMENTATION
#include "wasinfer.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <wasi/api.h>

#define MAX_ROWS 64
#define ROW_BYTES 160

static char rows[MAX_ROWS][ROW_BYTES];
static int n_rows;

static void row(const char* fmt, ...) {
  if (n_rows == MAX_ROWS) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(rows[n_rows++], ROW_BYTES, fmt, ap);
  va_end(ap);
}

static void libc_open(const char* path) {
  errno = 0;
  int fd = open(path, O_RDONLY);
  int e = errno;
  row("libc open(\"%s\"): fd=%d errno=%d (%s)", path, fd, e, strerror(e));
  if (fd >= 0) close(fd);
}

static void raw_open(int dirfd, const char* path) {
  __wasi_fd_t fd = 0;
  __wasi_errno_t e = __wasi_path_open((__wasi_fd_t)dirfd, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, path, 0,
                                      __WASI_RIGHTS_FD_READ, 0, 0, &fd);
  row("wasi path_open(%d, \"%s\"): errno=%d fd=%u", dirfd, path, e, (unsigned)fd);
}

static void probe(void) {
  n_rows = 0;
  /* Files, through wasi-libc. */
  libc_open("../x");
  libc_open("/etc/passwd");
  libc_open("link");
  libc_open(".");
  libc_open("/");
  errno = 0;
  DIR* d = opendir("/");
  row("libc opendir(\"/\"): %s errno=%d (%s)", d ? "opened" : "NULL", errno, strerror(errno));
  if (d) closedir(d);
  errno = 0;
  int r = symlink("/etc/passwd", "evil");
  row("libc symlink(\"/etc/passwd\", \"evil\"): %d errno=%d (%s)", r, errno, strerror(errno));
  errno = 0;
  FILE* f = fopen("out.txt", "w");
  row("libc fopen(\"out.txt\", \"w\"): %s errno=%d (%s)", f ? "opened" : "NULL", errno, strerror(errno));
  if (f) fclose(f);

  /* Files, through the raw calls: every descriptor a preopen could have. */
  for (int fd = 3; fd <= 5; fd++) {
    __wasi_prestat_t ps;
    __wasi_errno_t e = __wasi_fd_prestat_get((__wasi_fd_t)fd, &ps);
    row("wasi fd_prestat_get(%d): errno=%d", fd, e);
  }
  raw_open(3, "/etc/passwd");
  raw_open(3, "../x");
  raw_open(3, "link");
  raw_open(4, ".");
  {
    uint8_t buf[256];
    __wasi_size_t n = 0;
    __wasi_errno_t e = __wasi_fd_readdir(3, buf, sizeof buf, 0, &n);
    row("wasi fd_readdir(3): errno=%d bytes=%u", e, (unsigned)n);
    __wasi_filestat_t st;
    e = __wasi_path_filestat_get(3, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "link", &st);
    row("wasi path_filestat_get(3, \"link\"): errno=%d", e);
    e = __wasi_path_symlink("/etc/passwd", 3, "evil");
    row("wasi path_symlink(\"/etc/passwd\", 3, \"evil\"): errno=%d", e);
  }
  {
    uint8_t buf[64];
    __wasi_iovec_t iov = {buf, sizeof buf};
    __wasi_size_t n = 0;
    __wasi_errno_t e = __wasi_fd_read(0, &iov, 1, &n);
    row("wasi fd_read(0) (stdin): errno=%d bytes=%u", e, (unsigned)n);
  }

  /* Environment and arguments. */
  const char* home = getenv("HOME");
  const char* path = getenv("PATH");
  row("libc getenv(\"HOME\"): %s", home ? home : "NULL");
  row("libc getenv(\"PATH\"): %s", path ? path : "NULL");
  {
    __wasi_size_t count = 0, bytes = 0;
    __wasi_errno_t e = __wasi_environ_sizes_get(&count, &bytes);
    row("wasi environ_sizes_get: errno=%d count=%u bytes=%u", e, (unsigned)count, (unsigned)bytes);
    e = __wasi_args_sizes_get(&count, &bytes);
    row("wasi args_sizes_get: errno=%d count=%u bytes=%u", e, (unsigned)count, (unsigned)bytes);
  }

  /* Clocks. */
  {
    struct timespec ts;
    int r1 = clock_gettime(CLOCK_REALTIME, &ts);
    row("libc clock_gettime(REALTIME): %d %lld.%09ld", r1, (long long)ts.tv_sec, ts.tv_nsec);
    r1 = clock_gettime(CLOCK_MONOTONIC, &ts);
    row("libc clock_gettime(MONOTONIC): %d %lld.%09ld", r1, (long long)ts.tv_sec, ts.tv_nsec);
    row("libc time(NULL): %lld", (long long)time(NULL));
    __wasi_timestamp_t t = 0;
    __wasi_errno_t e = __wasi_clock_time_get(__WASI_CLOCKID_PROCESS_CPUTIME_ID, 1, &t);
    row("wasi clock_time_get(PROCESS_CPUTIME): errno=%d ns=%llu", e, (unsigned long long)t);
  }

  /* Randomness. */
  {
    uint8_t b[8];
    __wasi_errno_t e = __wasi_random_get(b, sizeof b);
    row("wasi random_get(8): errno=%d bytes=%02x%02x%02x%02x%02x%02x%02x%02x", e, b[0], b[1], b[2], b[3],
        b[4], b[5], b[6], b[7]);
  }

  /* Sleeping: a one-hour relative sleep on the monotonic clock. */
  {
    __wasi_timestamp_t before = 0, after = 0;
    (void)__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &before);
    __wasi_subscription_t sub;
    memset(&sub, 0, sizeof sub);
    sub.u.tag = __WASI_EVENTTYPE_CLOCK;
    sub.u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
    sub.u.u.clock.timeout = 3600ull * 1000000000ull;
    __wasi_event_t ev;
    __wasi_size_t n = 0;
    __wasi_errno_t e = __wasi_poll_oneoff(&sub, &ev, 1, &n);
    (void)__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &after);
    row("wasi poll_oneoff(sleep 1h): errno=%d events=%u monotonic advanced %llu ns", e, (unsigned)n,
        (unsigned long long)(after - before));
  }
  {
    __wasi_errno_t e = __wasi_sched_yield();
    row("wasi sched_yield: errno=%d", e);
  }
}

int wasinfer_udf_transform(const struct ArrowSchema* in_schema, const struct ArrowArray* in,
                           struct ArrowSchema* out_schema, struct ArrowArray* out) {
  (void)in_schema;
  (void)in;
  probe();
  int64_t total = 0;
  for (int i = 0; i < n_rows; i++) total += (int64_t)strlen(rows[i]);
  wasinfer_builder b;
  wasinfer_builder_init(&b, out_schema, out, n_rows, NULL);
  wasinfer_column c = wasinfer_builder_add(&b, "probe", "u", 0);
  int32_t* offsets = wasinfer_column_alloc_buffer(c, 1, (int64_t)(n_rows + 1) * 4);
  char* data = wasinfer_column_alloc_buffer(c, 2, total);
  if (offsets && data) {
    int32_t at = 0;
    for (int i = 0; i < n_rows; i++) {
      offsets[i] = at;
      size_t n = strlen(rows[i]);
      memcpy(data + at, rows[i], n);
      at += (int32_t)n;
    }
    offsets[n_rows] = at;
  }
  return wasinfer_builder_finish(&b);
}
