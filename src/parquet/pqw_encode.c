// Parquet value and level encoders over raw C buffers: RLE/bit-packed hybrid, PLAIN booleans,
// DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY, BYTE_STREAM_SPLIT.
// Written from parquet-format Encodings.md.
#include "parquet/pqw_internal.h"

// Appends an unsigned LEB128 varint; out must have 10 bytes reserved.
static void varint_unsafe(struct otap_buffer* out, uint64_t v) {
  while (v >= 0x80) {
    out->data[out->size++] = (uint8_t)(v | 0x80);
    v >>= 7;
  }
  out->data[out->size++] = (uint8_t)v;
}

static uint64_t zigzag(int64_t v) { return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63); }

// Bit writer that appends to a buffer with enough reserved room.
struct bitw {
  uint8_t* p;
  uint64_t acc;
  int bits;
};

static inline void bitw_put(struct bitw* w, uint64_t v, int width) {
  while (width > 0) {
    int take = width > 32 ? 32 : width;
    uint64_t part = take == 64 ? v : (v & ((UINT64_C(1) << take) - 1));
    w->acc |= part << w->bits;
    w->bits += take;
    while (w->bits >= 8) {
      *w->p++ = (uint8_t)w->acc;
      w->acc >>= 8;
      w->bits -= 8;
    }
    v = take == 64 ? 0 : v >> take;
    width -= take;
  }
}

static inline void bitw_flush(struct bitw* w) {
  if (w->bits > 0) *w->p++ = (uint8_t)w->acc;
  w->acc = 0;
  w->bits = 0;
}

// ---------------------------------------------------------------------------------------------
// RLE / bit-packed hybrid

#define PQW_DEFINE_RLE(NAME, T)                                                                \
  int NAME(struct otap_buffer* out, const T* v, int64_t n, int bit_width) {                    \
    int value_bytes = (bit_width + 7) / 8;                                                     \
    int64_t i = 0;                                                                             \
    while (i < n) {                                                                            \
      int64_t j = i + 1;                                                                       \
      while (j < n && v[j] == v[i]) j++;                                                       \
      if (j - i >= 8) {                                                                        \
        OTAP_RETURN_NOT_OK(otap_buffer_reserve(out, 10 + value_bytes));                        \
        varint_unsafe(out, (uint64_t)(j - i) << 1);                                            \
        for (int b = 0; b < value_bytes; b++) out->data[out->size++] = (uint8_t)(v[i] >> (8 * b)); \
        i = j;                                                                                 \
        continue;                                                                              \
      }                                                                                        \
      int64_t start = i, groups = 0;                                                           \
      while (i < n) {                                                                          \
        if (groups > 0 && i + 8 <= n) {                                                        \
          int same = 1;                                                                        \
          for (int k = 1; k < 8; k++) same &= v[i + k] == v[i];                                \
          if (same) break;                                                                     \
        }                                                                                      \
        i += 8;                                                                                \
        groups++;                                                                              \
      }                                                                                        \
      if (i > n) i = n;                                                                        \
      OTAP_RETURN_NOT_OK(otap_buffer_reserve(out, 10 + groups * bit_width));                   \
      varint_unsafe(out, ((uint64_t)groups << 1) | 1);                                         \
      if (bit_width == 1) {                                                                    \
        /* levels of flat nullable columns: one byte per group of 8 */                         \
        uint8_t* o = out->data + out->size;                                                    \
        for (int64_t g = 0; g < groups; g++) {                                                 \
          int64_t k0 = start + g * 8;                                                          \
          unsigned byte = 0;                                                                   \
          if (k0 + 8 <= n) {                                                                   \
            for (int k = 0; k < 8; k++) byte |= (unsigned)(v[k0 + k] & 1) << k;                \
          } else {                                                                             \
            for (int k = 0; k0 + k < n; k++) byte |= (unsigned)(v[k0 + k] & 1) << k;           \
          }                                                                                    \
          o[g] = (uint8_t)byte;                                                                \
        }                                                                                      \
        out->size += groups;                                                                   \
        continue;                                                                              \
      }                                                                                        \
      struct bitw w = {out->data + out->size, 0, 0};                                           \
      for (int64_t k = start; k < start + groups * 8; k++) {                                   \
        bitw_put(&w, k < n ? (uint64_t)v[k] : 0, bit_width);                                   \
      }                                                                                        \
      bitw_flush(&w);                                                                          \
      out->size = w.p - out->data;                                                             \
    }                                                                                          \
    return 0;                                                                                  \
  }

PQW_DEFINE_RLE(otap__pqw_rle_encode_u16, uint16_t)
PQW_DEFINE_RLE(otap__pqw_rle_encode_u32, uint32_t)

int otap__pqw_plain_bool(struct otap_buffer* out, const uint8_t* v, int64_t n) {
  int64_t bytes = otap_bytes_for_bits(n);
  OTAP_RETURN_NOT_OK(otap_buffer_reserve(out, bytes));
  uint8_t* p = out->data + out->size;
  memset(p, 0, (size_t)bytes);
  for (int64_t i = 0; i < n; i++) {
    if (v[i]) p[i >> 3] |= (uint8_t)(1u << (i & 7));
  }
  out->size += bytes;
  return 0;
}

// ---------------------------------------------------------------------------------------------
// DELTA_BINARY_PACKED: blocks of 128 values, 4 miniblocks of 32.

#define PQW_DELTA_BLOCK 128
#define PQW_DELTA_MINI 4
#define PQW_DELTA_MINI_SIZE 32

static int delta_header(struct otap_buffer* out, int64_t n, int64_t first) {
  OTAP_RETURN_NOT_OK(otap_buffer_reserve(out, 40));
  varint_unsafe(out, PQW_DELTA_BLOCK);
  varint_unsafe(out, PQW_DELTA_MINI);
  varint_unsafe(out, (uint64_t)n);
  varint_unsafe(out, zigzag(first));
  return 0;
}

// Writes one block: deltas d[0..k) (already reduced by min_delta to unsigned), min_delta.
static int delta_block(struct otap_buffer* out, const uint64_t* d, int k, int64_t min_delta) {
  int widths[PQW_DELTA_MINI];
  int64_t body = 0;
  for (int m = 0; m < PQW_DELTA_MINI; m++) {
    uint64_t all = 0;
    for (int i = m * PQW_DELTA_MINI_SIZE; i < k && i < (m + 1) * PQW_DELTA_MINI_SIZE; i++) all |= d[i];
    widths[m] = m * PQW_DELTA_MINI_SIZE < k ? otap__pqw_bit_width(all) : 0;
    if (m * PQW_DELTA_MINI_SIZE < k) body += 4 * widths[m];
  }
  OTAP_RETURN_NOT_OK(otap_buffer_reserve(out, 10 + PQW_DELTA_MINI + body));
  varint_unsafe(out, zigzag(min_delta));
  for (int m = 0; m < PQW_DELTA_MINI; m++) out->data[out->size++] = (uint8_t)widths[m];
  struct bitw w = {out->data + out->size, 0, 0};
  for (int m = 0; m < PQW_DELTA_MINI && m * PQW_DELTA_MINI_SIZE < k; m++) {
    for (int i = m * PQW_DELTA_MINI_SIZE; i < (m + 1) * PQW_DELTA_MINI_SIZE; i++) {
      bitw_put(&w, i < k ? d[i] : 0, widths[m]);
    }
  }
  bitw_flush(&w);
  out->size = w.p - out->data;
  return 0;
}

int otap__pqw_delta_encode_i32(struct otap_buffer* out, const int32_t* v, int64_t n) {
  OTAP_RETURN_NOT_OK(delta_header(out, n, n > 0 ? v[0] : 0));
  uint64_t d[PQW_DELTA_BLOCK];
  int32_t raw[PQW_DELTA_BLOCK];
  for (int64_t i = 1; i < n; i += PQW_DELTA_BLOCK) {
    int k = (int)(n - i < PQW_DELTA_BLOCK ? n - i : PQW_DELTA_BLOCK);
    int32_t min = INT32_MAX;
    for (int j = 0; j < k; j++) {
      raw[j] = (int32_t)((uint32_t)v[i + j] - (uint32_t)v[i + j - 1]);
      if (raw[j] < min) min = raw[j];
    }
    for (int j = 0; j < k; j++) d[j] = (uint32_t)((uint32_t)raw[j] - (uint32_t)min);
    OTAP_RETURN_NOT_OK(delta_block(out, d, k, min));
  }
  return 0;
}

int otap__pqw_delta_encode_i64(struct otap_buffer* out, const int64_t* v, int64_t n) {
  OTAP_RETURN_NOT_OK(delta_header(out, n, n > 0 ? v[0] : 0));
  uint64_t d[PQW_DELTA_BLOCK];
  int64_t raw[PQW_DELTA_BLOCK];
  for (int64_t i = 1; i < n; i += PQW_DELTA_BLOCK) {
    int k = (int)(n - i < PQW_DELTA_BLOCK ? n - i : PQW_DELTA_BLOCK);
    int64_t min = INT64_MAX;
    for (int j = 0; j < k; j++) {
      raw[j] = (int64_t)((uint64_t)v[i + j] - (uint64_t)v[i + j - 1]);
      if (raw[j] < min) min = raw[j];
    }
    for (int j = 0; j < k; j++) d[j] = (uint64_t)raw[j] - (uint64_t)min;
    OTAP_RETURN_NOT_OK(delta_block(out, d, k, min));
  }
  return 0;
}

int otap__pqw_delta_length_encode(struct otap_buffer* out, const int32_t* lens, const uint8_t* data,
                                  int64_t n) {
  OTAP_RETURN_NOT_OK(otap__pqw_delta_encode_i32(out, lens, n));
  int64_t total = 0;
  for (int64_t i = 0; i < n; i++) total += lens[i];
  return otap_buffer_append(out, data, total);
}

int otap__pqw_delta_byte_array_encode(struct otap_buffer* out, const int32_t* lens,
                                      const uint8_t* data, int64_t n) {
  int rc = 0;
  struct otap_buffer prefixes, suffix_lens, suffixes;
  otap_buffer_init(&prefixes);
  otap_buffer_init(&suffix_lens);
  otap_buffer_init(&suffixes);
  OTAP_GOTO_NOT_OK(rc, otap_buffer_resize(&prefixes, n * 4, false));
  OTAP_GOTO_NOT_OK(rc, otap_buffer_resize(&suffix_lens, n * 4, false));
  int32_t* pre = (int32_t*)prefixes.data;
  int32_t* suf = (int32_t*)suffix_lens.data;
  const uint8_t* prev = NULL;
  int32_t prev_len = 0;
  const uint8_t* p = data;
  for (int64_t i = 0; i < n; i++) {
    int32_t l = lens[i], c = 0;
    int32_t lim = l < prev_len ? l : prev_len;
    while (c < lim && p[c] == prev[c]) c++;
    pre[i] = c;
    suf[i] = l - c;
    OTAP_GOTO_NOT_OK(rc, otap_buffer_append(&suffixes, p + c, l - c));
    prev = p;
    prev_len = l;
    p += l;
  }
  OTAP_GOTO_NOT_OK(rc, otap__pqw_delta_encode_i32(out, pre, n));
  OTAP_GOTO_NOT_OK(rc, otap__pqw_delta_encode_i32(out, suf, n));
  OTAP_GOTO_NOT_OK(rc, otap_buffer_append(out, suffixes.data, suffixes.size));
done:
  otap_buffer_reset(&prefixes);
  otap_buffer_reset(&suffix_lens);
  otap_buffer_reset(&suffixes);
  return rc;
}

int otap__pqw_byte_stream_split(struct otap_buffer* out, const uint8_t* v, int64_t n, int width) {
  int64_t total = n * width;
  OTAP_RETURN_NOT_OK(otap_buffer_reserve(out, total));
  uint8_t* o = out->data + out->size;
  for (int k = 0; k < width; k++) {
    uint8_t* s = o + (int64_t)k * n;
    for (int64_t i = 0; i < n; i++) s[i] = v[i * width + k];
  }
  out->size += total;
  return 0;
}
