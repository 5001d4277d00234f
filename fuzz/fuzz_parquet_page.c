// libFuzzer target: Parquet page decoding. The first bytes choose the decoder and its
// parameters (codec, bit width, value count, type width); the rest is the page body.
#include <stdint.h>
#include <string.h>

#include "parquet/parquet_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

#define IGNORE(x) \
  do {            \
    if (x) {      \
    }             \
  } while (0)

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  uint8_t which = data[0], p1 = data[1];
  int64_t n = (int64_t)(data[2] | (data[3] << 8));  // up to 65535 values
  data += 4;
  size -= 4;
  struct otap_error err;
  switch (which % 9) {
    case 0: {  // RLE/bit-packed hybrid (levels, dictionary indices)
      uint32_t* out = otap_malloc((size_t)n * 4 + 4);
      if (!out) return 0;
      struct pq_rle r;
      otap__pq_rle_init(&r, data, size, p1 % 33);
      IGNORE(otap__pq_rle_get(&r, out, n, &err));
      otap_free(out);
      break;
    }
    case 1: {  // DELTA_BINARY_PACKED
      int64_t* out = otap_malloc((size_t)n * 8 + 8);
      if (!out) return 0;
      size_t used;
      IGNORE(otap__pq_delta_binary_decode(data, size, out, n, p1 & 1, &used, &err));
      otap_free(out);
      break;
    }
    case 2:
    case 3:
    case 4: {  // byte arrays
      struct pq_binary b;
      memset(&b, 0, sizeof(b));
      size_t used;
      if (which % 9 == 2) IGNORE(otap__pq_plain_binary_decode(data, size, n, &b, &used, &err));
      if (which % 9 == 3) IGNORE(otap__pq_delta_length_decode(data, size, n, &b, &err));
      if (which % 9 == 4) IGNORE(otap__pq_delta_byte_array_decode(data, size, n, &b, &err));
      otap_buffer_reset(&b.offsets);
      otap_buffer_reset(&b.data);
      break;
    }
    case 5: {  // BYTE_STREAM_SPLIT
      int w = p1 % 17;
      uint8_t* out = otap_malloc((size_t)n * (size_t)(w ? w : 1) + 1);
      if (!out) return 0;
      IGNORE(otap__pq_byte_stream_split_decode(data, size, w, n, out, &err));
      otap_free(out);
      break;
    }
    case 6: {  // decompression into the announced size
      size_t want = (size_t)n * 16;
      uint8_t* out = otap_malloc(want + 1);
      if (!out) return 0;
      IGNORE(otap__pq_decompress(p1 % 9, data, size, out, want, &err));
      otap_free(out);
      break;
    }
    case 7: {  // deprecated BIT_PACKED levels
      int16_t* out = otap_malloc((size_t)n * 2 + 2);
      if (!out) return 0;
      size_t used;
      IGNORE(otap__pq_bitpacked_levels(data, size, p1 % 9, out, n, 255, &used, &err));
      otap_free(out);
      break;
    }
    default: {  // page header followed by its body
      struct pq_page_header h;
      size_t hl;
      IGNORE(otap__pq_decode_page_header(data, size, 0, &h, &hl, &err));
      break;
    }
  }
  return 0;
}
