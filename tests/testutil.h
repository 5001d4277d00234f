// Shared test helpers (header-only): a failing-allocator hook and path helpers.
#ifndef OTAP_TESTUTIL_H
#define OTAP_TESTUTIL_H

#include <stdio.h>
#include <stdlib.h>

#include "otap/common.h"

// Allocations counted through the otap hook; after `otap_test_fail_alloc_after(n)` the
// (n+1)-th allocation from now fails (n < 0: never).
static long otap_test_alloc_budget_ = -1;
static long otap_test_live_allocs_ = 0;

static void* otap_test_malloc_(size_t size, void* ud) {
  (void)ud;
  if (otap_test_alloc_budget_ == 0) return NULL;
  if (otap_test_alloc_budget_ > 0) otap_test_alloc_budget_--;
  void* p = malloc(size);
  if (p) otap_test_live_allocs_++;
  return p;
}
static void* otap_test_realloc_(void* p, size_t size, void* ud) {
  (void)ud;
  if (otap_test_alloc_budget_ == 0) return NULL;
  if (otap_test_alloc_budget_ > 0) otap_test_alloc_budget_--;
  return realloc(p, size);
}
static void otap_test_free_(void* p, void* ud) {
  (void)ud;
  if (p) otap_test_live_allocs_--;
  free(p);
}

static inline void otap_test_install_allocator(void) {
  static const struct otap_allocator a = {otap_test_malloc_, otap_test_realloc_, otap_test_free_,
                                          NULL};
  otap_set_allocator(&a);
}
static inline void otap_test_fail_alloc_after(long n) { otap_test_alloc_budget_ = n; }
static inline long otap_test_live_allocations(void) { return otap_test_live_allocs_; }

// Path of a file in ../shared/testdata (static buffer, overwritten per call).
static inline const char* otap_test_data_path(const char* rel) {
  static char buf[4096];
  snprintf(buf, sizeof(buf), "%s/%s", OTAP_TESTDATA_DIR, rel);
  return buf;
}

#endif
