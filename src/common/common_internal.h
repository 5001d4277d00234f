// Private helpers of the common module (never installed).
#ifndef OTAP_COMMON_INTERNAL_H
#define OTAP_COMMON_INTERNAL_H

#include "otap/common.h"

// Checked arithmetic for sizes read from untrusted input.
static inline bool otap__add_overflow_i64(int64_t a, int64_t b, int64_t* out) {
  return __builtin_add_overflow(a, b, out);
}
static inline bool otap__mul_overflow_i64(int64_t a, int64_t b, int64_t* out) {
  return __builtin_mul_overflow(a, b, out);
}

#endif
