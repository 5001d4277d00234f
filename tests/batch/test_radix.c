// The batcher's radix sort (batch_internal.h) against a stable comparison sort, over key
// shapes that exercise its paths: constant bytes, random keys ordered by their top bytes,
// groups equal in the top 8 varying bytes that differ below (recursion), small groups
// (insertion sort), duplicates (stability), one to four words.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "batch/batch_internal.h"

static uint64_t g_state;
static uint64_t rnd(void) {
  g_state += 0x9e3779b97f4a7c15ULL;
  uint64_t z = g_state;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static const uint64_t* g_keys;
static int32_t g_words;

// Full key, then row number: a stable order.
static int cmp_rows(const void* a, const void* b) {
  int32_t x = *(const int32_t*)a, y = *(const int32_t*)b;
  for (int32_t w = 0; w < g_words; w++) {
    uint64_t kx = g_keys[(int64_t)x * g_words + w], ky = g_keys[(int64_t)y * g_words + w];
    if (kx != ky) return kx < ky ? -1 : 1;
  }
  return (x > y) - (x < y);
}

enum shape { RANDOM, FEW_TOP, LOW_ONLY, CONSTANT, DUPLICATES, DESCENDING, SHAPES };

static void fill(uint64_t* k, int64_t n, int32_t words, enum shape sh) {
  for (int64_t i = 0; i < n; i++) {
    for (int32_t w = 0; w < words; w++) {
      uint64_t v = rnd();
      switch (sh) {
        case RANDOM: break;
        case FEW_TOP:  // 3 values in the top word, random below: big groups after 8 bytes
          if (w == 0) v = rnd() % 3;
          break;
        case LOW_ONLY: v = w == words - 1 ? (v & 0x0f0f) : 7; break;
        case CONSTANT: v = 0x0123456789abcdefULL; break;
        case DUPLICATES: v = (rnd() % 5) << (8 * (w % 8)); break;
        case DESCENDING: v = (uint64_t)(n - i) << 20; break;
        default: break;
      }
      k[i * words + w] = v;
    }
  }
}

static void check(int64_t n, int32_t words, enum shape sh) {
  uint64_t* k = malloc((size_t)(n > 0 ? n : 1) * (size_t)words * sizeof(uint64_t));
  int32_t* got = malloc((size_t)(n > 0 ? n : 1) * sizeof(int32_t));
  int32_t* want = malloc((size_t)(n > 0 ? n : 1) * sizeof(int32_t));
  assert_non_null(k);
  assert_non_null(got);
  assert_non_null(want);
  fill(k, n, words, sh);
  struct otap_error err;
  assert_int_equal(otap__radix_sort(k, n, words, got, &err), 0);
  for (int64_t i = 0; i < n; i++) want[i] = (int32_t)i;
  g_keys = k;
  g_words = words;
  qsort(want, (size_t)n, sizeof(int32_t), cmp_rows);
  for (int64_t i = 0; i < n; i++) {
    if (got[i] != want[i]) {
      fail_msg("n=%lld words=%d shape=%d: position %lld holds row %d, want %d", (long long)n,
               words, (int)sh, (long long)i, got[i], want[i]);
    }
  }
  free(k);
  free(got);
  free(want);
}

static void test_radix_matches_stable_sort(void** state) {
  (void)state;
  static const int64_t kSizes[] = {0, 1, 2, 23, 24, 25, 100, 1000, 70000};
  g_state = 42;
  for (size_t si = 0; si < sizeof(kSizes) / sizeof(kSizes[0]); si++) {
    for (int32_t words = 1; words <= 4; words++) {
      for (int sh = 0; sh < SHAPES; sh++) check(kSizes[si], words, (enum shape)sh);
    }
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_radix_matches_stable_sort),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
