// Private helpers of the arrow module (never installed).
#ifndef OTAP_ARROW_INTERNAL_H
#define OTAP_ARROW_INTERNAL_H

#include <stdatomic.h>

#include "otap/arrow.h"

// One physical buffer of an otap-built array: either owned and growable (`buf`) or a
// zero-copy range of a reference-counted block (`shared` != NULL).
struct otap__slot {
  struct otap_buffer buf;
  struct otap_shared* shared;
  const uint8_t* shared_data;
  int64_t shared_size;
};

// private_data of every ArrowArray made by otap.
struct otap__array_private {
  enum otap_type storage_type;  // layout of this node
  int32_t bit_width;            // fixed-width value width in bits (0 otherwise)
  int32_t fixed_size;           // fixed_size_list size
  bool has_validity;            // buffer 0 is a validity bitmap
  int8_t union_null_type_id;    // unions: type id of child 0 (what appended nulls point at)
  int64_t n_slots;              // C Data Interface buffers except the synthesized view sizes
  struct otap__slot* slots;
  const void** ptrs;            // published buffers pointers (n_slots + 1 for views)
  int64_t* variadic_sizes;      // views: synthesized sizes buffer
  struct ArrowArray** children; // owned child structs
  int64_t n_children;
  struct ArrowArray* dictionary;
  struct otap_shared* keepalive;  // imported arrays: the foreign producer's array
  // Sharing state for otap_array_ref/slice on this node (see arrow_share.c): 0 = slots may be
  // owned, 1 = one thread is converting owned slots to shared blocks, 2 = every non-empty slot
  // is shared (readers only look). Never copied by struct assignment.
  _Atomic int share_state;
};

void otap__array_release(struct ArrowArray* array);

static inline bool otap__array_is_otap(const struct ArrowArray* a) {
  return a->release == otap__array_release && a->private_data != NULL;
}

static inline const uint8_t* otap__slot_data(const struct otap__slot* s) {
  return s->shared ? s->shared_data : s->buf.data;
}
static inline int64_t otap__slot_size(const struct otap__slot* s) {
  return s->shared ? s->shared_size : s->buf.size;
}

// Known byte size of C Data Interface buffer i of an otap-built array, or -1 when unknown.
int64_t otap__array_known_buffer_size(const struct ArrowArray* array, int64_t i);

// True for layouts whose C Data Interface buffer 0 is a validity bitmap.
bool otap__type_has_validity(enum otap_type storage_type);

// Checked arithmetic.
static inline bool otap__add_ovf(int64_t a, int64_t b, int64_t* out) {
  return __builtin_add_overflow(a, b, out);
}
static inline bool otap__mul_ovf(int64_t a, int64_t b, int64_t* out) {
  return __builtin_mul_overflow(a, b, out);
}

// Half-float conversions.
double otap__half_to_double(uint16_t h);
uint16_t otap__double_to_half(double d);

#endif
