#include <string.h>

#include "otap/common.h"

int64_t otap_bitmap_count_set(const uint8_t* bits, int64_t offset, int64_t length) {
  int64_t count = 0;
  int64_t i = offset;
  int64_t end = offset + length;
  while (i < end && (i & 7)) count += otap_bit_get(bits, i++);
  while (i + 64 <= end) {
    uint64_t w;
    memcpy(&w, bits + (i >> 3), 8);
    count += __builtin_popcountll(w);
    i += 64;
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
  if (((dst_offset | src_offset) & 7) == 0) {
    int64_t whole = length >> 3;
    memcpy(dst + (dst_offset >> 3), src + (src_offset >> 3), (size_t)whole);
    for (int64_t i = whole * 8; i < length; i++) {
      otap_bit_set_to(dst, dst_offset + i, otap_bit_get(src, src_offset + i));
    }
    return;
  }
  for (int64_t i = 0; i < length; i++) {
    otap_bit_set_to(dst, dst_offset + i, otap_bit_get(src, src_offset + i));
  }
}
