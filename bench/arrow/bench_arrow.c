// Arrow core throughput: appends (int64, 12-byte strings), finish + FULL validation, view reads,
// slices. Each figure is printed next to a reference loop doing the same memory work by hand
// (plain stores into preallocated arrays, memcpy, a UTF-8-free byte scan), measured in the
// same run; compare within one run only. Never fails on time.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

#include "otap/arrow.h"

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static volatile uint64_t g_sink;

#define CHECK(expr)                                                      \
  do {                                                                   \
    if ((expr) != 0) {                                                   \
      fprintf(stderr, "bench_arrow: %s failed at line %d\n", #expr, __LINE__); \
      exit(1);                                                           \
    }                                                                    \
  } while (0)

static void row(const char* what, double ours, double ref, const char* unit) {
  printf("%-44s %10.1f %-5s  reference %10.1f %-5s  (%.2fx)\n", what, ours, unit, ref, unit,
         ref > 0 ? ours / ref : 0.0);
}

int main(int argc, char** argv) {
  int64_t n = (argc > 1 ? atoll(argv[1]) : 5) * 1000000;
  struct utsname u;
  uname(&u);
  printf("bench_arrow: %lld rows, %s %s, otap %s\n", (long long)n, u.sysname, u.machine,
         otap_version());

  // int64 appends vs plain stores.
  struct ArrowSchema si, su;
  CHECK(otap_schema_init(&si, "l"));
  CHECK(otap_schema_init(&su, "u"));
  struct ArrowArray a;
  CHECK(otap_array_init_from_schema(&a, &si, NULL));
  CHECK(otap_array_reserve(&a, n));
  double t0 = now();
  for (int64_t i = 0; i < n; i++) CHECK(otap_array_append_int(&a, i));
  double t1 = now();
  int64_t* plain = malloc((size_t)n * sizeof(int64_t));
  memset(plain, 0, (size_t)n * sizeof(int64_t));
  double t2 = now();
  for (int64_t i = 0; i < n; i++) {
    plain[i] = i;
    __asm__ volatile("" ::: "memory");  // keep the loop a loop
  }
  double t3 = now();
  g_sink += (uint64_t)plain[n - 1];
  row("append_int int64 (reserved)", n / (t1 - t0) / 1e6, n / (t3 - t2) / 1e6, "M/s");
  t0 = now();
  CHECK(otap_array_finish(&a, OTAP_VALIDATE_FULL, &si, NULL));
  t1 = now();
  struct otap_array_view v;
  CHECK(otap_array_view_init(&v, &si, NULL));
  CHECK(otap_array_view_set(&v, &a, OTAP_VALIDATE_FULL, NULL));
  t2 = now();
  uint64_t acc = 0;
  for (int64_t i = 0; i < n; i++) acc += (uint64_t)otap_view_get_int(&v, i);
  t3 = now();
  uint64_t acc2 = 0;
  double t4 = now();
  for (int64_t i = 0; i < n; i++) acc2 += (uint64_t)plain[i];
  double t5 = now();
  g_sink += acc + acc2;
  row("view get_int int64", n / (t3 - t2) / 1e6, n / (t5 - t4) / 1e6, "M/s");
  printf("%-44s %10.3f ms\n", "finish + FULL validation int64", (t1 - t0) * 1e3);
  otap_array_view_reset(&v);
  otap_array_release(&a);
  free(plain);

  // 12-byte string appends vs memcpy into preallocated data + offsets.
  static const char kStr[] = "hello world!";
  CHECK(otap_array_init_from_schema(&a, &su, NULL));
  CHECK(otap_array_reserve(&a, n));
  t0 = now();
  for (int64_t i = 0; i < n; i++) CHECK(otap_array_append_bytes(&a, kStr, 12));
  t1 = now();
  char* data = malloc((size_t)n * 12);
  int32_t* offs = malloc((size_t)(n + 1) * sizeof(int32_t));
  memset(data, 0, (size_t)n * 12);
  memset(offs, 0, (size_t)(n + 1) * sizeof(int32_t));
  t2 = now();
  offs[0] = 0;
  for (int64_t i = 0; i < n; i++) {
    memcpy(data + offs[i], kStr, 12);
    offs[i + 1] = offs[i] + 12;
  }
  t3 = now();
  g_sink += (uint64_t)offs[n] + (uint64_t)data[5];
  row("append_bytes utf8 12 B (offsets reserved)", n / (t1 - t0) / 1e6, n / (t3 - t2) / 1e6,
      "M/s");
  CHECK(otap_array_finish(&a, OTAP_VALIDATE_NONE, &su, NULL));
  CHECK(otap_array_view_init(&v, &su, NULL));
  t0 = now();
  CHECK(otap_array_view_set(&v, &a, OTAP_VALIDATE_FULL, NULL));
  t1 = now();
  // Reference: one pass over the same bytes (sum) plus one over the offsets.
  t2 = now();
  uint64_t s = 0;
  for (int64_t i = 0; i < n * 12; i++) s += (uint8_t)data[i];
  for (int64_t i = 0; i <= n; i++) s += (uint64_t)offs[i];
  t3 = now();
  g_sink += s;
  double mb = (double)n * 12 / 1e6;
  row("FULL validation utf8 (offsets + UTF-8)", mb / (t1 - t0), mb / (t3 - t2), "MB/s");
  t0 = now();
  acc = 0;
  for (int64_t i = 0; i < n; i++) {
    const uint8_t* d;
    int64_t len;
    otap_view_get_bytes(&v, i, &d, &len);
    acc += (uint64_t)len + d[0];
  }
  t1 = now();
  t2 = now();
  acc2 = 0;
  for (int64_t i = 0; i < n; i++) acc2 += (uint64_t)(offs[i + 1] - offs[i]) + (uint8_t)data[offs[i]];
  t3 = now();
  g_sink += acc + acc2;
  row("view get_bytes utf8", n / (t1 - t0) / 1e6, n / (t3 - t2) / 1e6, "M/s");
  otap_array_view_reset(&v);
  free(data);
  free(offs);

  // Same with non-ASCII text (2- and 3-byte characters in every string): the UTF-8 multi-byte
  // path plus the "no element starts inside a character" pass. Reference: memcpy of the data.
  static const char kMixed[] = "caf\xc3\xa9 \xe2\x82\xac 12";  // 12 bytes
  struct ArrowArray m;
  CHECK(otap_array_init_from_schema(&m, &su, NULL));
  CHECK(otap_array_reserve(&m, n));
  for (int64_t i = 0; i < n; i++) CHECK(otap_array_append_bytes(&m, kMixed, 12));
  CHECK(otap_array_finish(&m, OTAP_VALIDATE_NONE, &su, NULL));
  struct otap_array_view mv;
  CHECK(otap_array_view_init(&mv, &su, NULL));
  t0 = now();
  CHECK(otap_array_view_set(&mv, &m, OTAP_VALIDATE_FULL, NULL));
  t1 = now();
  char* copy = malloc((size_t)n * 12);
  memset(copy, 1, (size_t)n * 12);
  t2 = now();
  memcpy(copy, mv.buffers[2], (size_t)n * 12);
  t3 = now();
  g_sink += (uint8_t)copy[n * 6];
  row("FULL validation utf8 non-ASCII (vs memcpy)", mb / (t1 - t0), mb / (t3 - t2), "MB/s");
  free(copy);
  otap_array_view_reset(&mv);
  otap_array_release(&m);

  // Zero-copy slices (refcounted buffers).
  int64_t k = 200000;
  t0 = now();
  for (int64_t i = 0; i < k; i++) {
    struct ArrowArray sl;
    CHECK(otap_array_slice(&a, i % (n / 2), 1000, &sl, NULL));
    otap_array_release(&sl);
  }
  t1 = now();
  printf("%-44s %10.1f ns\n", "slice + release (utf8 array)", (t1 - t0) / (double)k * 1e9);
  otap_array_release(&a);
  otap_schema_release(&si);
  otap_schema_release(&su);
  return g_sink == 42 ? 1 : 0;
}
