#include <string.h>

#include "otap/common.h"

// Counts set bits of n 64-bit words. The portable build has no POPCNT instruction (gcc turns
// __builtin_popcountll into a libgcc call), so on x86-64 a POPCNT version is chosen at run time.
static int64_t count_words_generic(const uint8_t* p, int64_t n) {
  int64_t count = 0;
  for (int64_t i = 0; i < n; i++) {
    uint64_t w;
    memcpy(&w, p + 8 * i, 8);
    count += __builtin_popcountll(w);
  }
  return count;
}

#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("popcnt"))) static int64_t count_words_popcnt(const uint8_t* p, int64_t n) {
  int64_t count = 0;
  for (int64_t i = 0; i < n; i++) {
    uint64_t w;
    memcpy(&w, p + 8 * i, 8);
    count += __builtin_popcountll(w);
  }
  return count;
}
static int64_t count_words(const uint8_t* p, int64_t n) {
  return __builtin_cpu_supports("popcnt") ? count_words_popcnt(p, n) : count_words_generic(p, n);
}
#else
static int64_t count_words(const uint8_t* p, int64_t n) { return count_words_generic(p, n); }
#endif

int64_t otap_bitmap_count_set(const uint8_t* bits, int64_t offset, int64_t length) {
  int64_t count = 0;
  int64_t i = offset;
  int64_t end = offset + length;
  while (i < end && (i & 7)) count += otap_bit_get(bits, i++);
  int64_t words = (end - i) >> 6;
  if (words > 0) {
    count += count_words(bits + (i >> 3), words);
    i += words << 6;
  }
  while (i + 8 <= end) {
    count += __builtin_popcount(bits[i >> 3]);
    i += 8;
  }
  while (i < end) count += otap_bit_get(bits, i++);
  return count;
}

void otap_bitmap_copy(uint8_t* dst, int64_t dst_offset, const uint8_t* src, int64_t src_offset,
                      int64_t length) {
  if (length <= 0) return;
  if (length <= 32) {
    otap_bitmap_copy_short(dst, dst_offset, src, src_offset, length);
    return;
  }
  if (((dst_offset | src_offset) & 7) == 0) {
    int64_t whole = length >> 3;
    memcpy(dst + (dst_offset >> 3), src + (src_offset >> 3), (size_t)whole);
    for (int64_t i = whole * 8; i < length; i++) {
      otap_bit_set_to(dst, dst_offset + i, otap_bit_get(src, src_offset + i));
    }
    return;
  }
  int64_t i = 0;
  // Head: until the destination is byte aligned.
  for (; (dst_offset + i) & 7; i++) {
    otap_bit_set_to(dst, dst_offset + i, otap_bit_get(src, src_offset + i));
  }
  // Body: one destination byte from two source bytes (the second is read only when the shift
  // needs it, and then holds bits below src_offset + length).
  int sh = (int)((src_offset + i) & 7);
  for (; i + 8 <= length; i += 8) {
    int64_t sb = (src_offset + i) >> 3;
    unsigned lo = src[sb];
    unsigned hi = sh ? src[sb + 1] : 0;
    dst[(dst_offset + i) >> 3] = (uint8_t)((lo >> sh) | (hi << (8 - sh)));
  }
  for (; i < length; i++) {
    otap_bit_set_to(dst, dst_offset + i, otap_bit_get(src, src_offset + i));
  }
}
