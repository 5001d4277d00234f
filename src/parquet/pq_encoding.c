// Parquet value and level encodings: RLE/bit-packed hybrid, BIT_PACKED, PLAIN binary and
// booleans, DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY, BYTE_STREAM_SPLIT.
// Every read is bounded by the page bytes; counts come from the caller (page header).
#include "parquet/parquet_internal.h"

// Reads bit_width (<= 64) bits at bit position `bit` (LSB-first) of [p, end).
static inline uint64_t load_bits(const uint8_t* p, const uint8_t* end, uint64_t bit, int bw) {
  const uint8_t* q = p + (bit >> 3);
  unsigned shift = (unsigned)(bit & 7);
  uint64_t v;
  if (bw <= 56 && end - q >= 8) {
    v = otap_load_u64le(q) >> shift;
  } else {
    // Slow path: byte by byte (a 64-bit value at a non-zero shift spans 9 bytes).
    v = 0;
    int nbytes = (int)((shift + (unsigned)bw + 7) / 8);
    for (int i = 0; i < nbytes && q + i < end; i++) {
      int pos = 8 * i - (int)shift;
      if (pos >= 0) {
        if (pos < 64) v |= (uint64_t)q[i] << pos;
      } else {
        v |= (uint64_t)q[i] >> (-pos);
      }
    }
  }
  return bw == 64 ? v : (v & ((UINT64_C(1) << bw) - 1));
}

int otap__pq_unpack_bits(const uint8_t* data, size_t len, int bw, uint64_t* out, int64_t n,
                         struct otap_error* err) {
  if (bw < 0 || bw > 64) return otap_error_set(err, EINVAL, "bit width %d out of range", bw);
  if ((uint64_t)n * (uint64_t)bw > (uint64_t)len * 8)
    return otap_error_set(err, EINVAL, "bit-packed data truncated: %lld values of %d bits in %zu bytes",
                          (long long)n, bw, len);
  if (bw == 0) {
    memset(out, 0, (size_t)n * sizeof(uint64_t));
    return 0;
  }
  const uint8_t* end = data + len;
  for (int64_t i = 0; i < n; i++) out[i] = load_bits(data, end, (uint64_t)i * (uint64_t)bw, bw);
  return 0;
}

// ---------------------------------------------------------------------------------------------
// RLE / bit-packed hybrid

void otap__pq_rle_init(struct pq_rle* r, const uint8_t* data, size_t n, int bit_width) {
  memset(r, 0, sizeof(*r));
  r->p = data;
  r->end = data + n;
  r->bit_width = bit_width;
}

static int rle_next_run(struct pq_rle* r, struct otap_error* err) {
  uint64_t h = 0;
  int shift = 0;
  for (;;) {
    if (r->p >= r->end) return otap_error_set(err, EINVAL, "RLE data ends before all values");
    uint8_t b = *r->p++;
    if (shift >= 35) return otap_error_set(err, EINVAL, "RLE run header too long");
    h |= (uint64_t)(b & 0x7f) << shift;
    shift += 7;
    if (!(b & 0x80)) break;
  }
  int bw = r->bit_width;
  if (h & 1) {
    uint64_t groups = h >> 1;
    uint64_t bytes_avail = (uint64_t)(r->end - r->p);
    uint64_t bytes = groups * (uint64_t)bw;
    uint64_t count = groups * 8;
    if (bytes > bytes_avail) {
      // Last run may be cut short: keep the values that are fully present.
      count = bw ? (bytes_avail * 8) / (uint64_t)bw : count;
      bytes = bytes_avail;
    }
    if (count == 0) return otap_error_set(err, EINVAL, "empty bit-packed run");
    if (count > UINT32_MAX) count = UINT32_MAX;
    r->bp = r->p;
    r->bp_left = (uint32_t)count;
    r->bp_bit = 0;
    r->p += bytes;
  } else {
    uint64_t count = h >> 1;
    if (count == 0) return otap_error_set(err, EINVAL, "RLE run of length 0");
    int nbytes = (bw + 7) / 8;
    if (r->end - r->p < nbytes) return otap_error_set(err, EINVAL, "RLE run value truncated");
    uint32_t v = 0;
    for (int i = 0; i < nbytes; i++) v |= (uint32_t)r->p[i] << (8 * i);
    r->p += nbytes;
    if (bw < 32 && (v >> bw) != 0) return otap_error_set(err, EINVAL, "RLE value wider than bit width");
    if (count > UINT32_MAX) count = UINT32_MAX;
    r->rle_left = (uint32_t)count;
    r->rle_value = v;
  }
  return 0;
}

int otap__pq_rle_get(struct pq_rle* r, uint32_t* out, int64_t n, struct otap_error* err) {
  if (r->bit_width < 0 || r->bit_width > 32)
    return otap_error_set(err, EINVAL, "RLE bit width %d out of range", r->bit_width);
  int bw = r->bit_width;
  uint64_t mask = bw == 32 ? 0xffffffffu : ((UINT64_C(1) << bw) - 1);
  int64_t i = 0;
  while (i < n) {
    if (r->rle_left) {
      int64_t k = n - i < (int64_t)r->rle_left ? n - i : (int64_t)r->rle_left;
      uint32_t v = r->rle_value;
      for (int64_t j = 0; j < k; j++) out[i + j] = v;
      i += k;
      r->rle_left -= (uint32_t)k;
    } else if (r->bp_left) {
      int64_t k = n - i < (int64_t)r->bp_left ? n - i : (int64_t)r->bp_left;
      const uint8_t* bp = r->bp;
      const uint8_t* end = r->p;  // run ends where the next header starts
      uint64_t bit = r->bp_bit;
      if (bw == 0) {
        for (int64_t j = 0; j < k; j++) out[i + j] = 0;
      } else {
        int64_t j0 = 0;
        if (bw <= 8 && (bit & 7) == 0) {
          // Whole groups of 8 values (bw bytes) from one 64-bit load.
          for (; j0 + 8 <= k && end - (bp + (bit >> 3)) >= 8; j0 += 8, bit += 8u * (uint64_t)bw) {
            uint64_t w = otap_load_u64le(bp + (bit >> 3));
            for (int t = 0; t < 8; t++) out[i + j0 + t] = (uint32_t)(w >> (t * bw)) & (uint32_t)mask;
          }
        }
        for (int64_t j = j0; j < k; j++, bit += (uint64_t)bw) {
          const uint8_t* q = bp + (bit >> 3);
          uint64_t v;
          if (end - q >= 8) {
            v = otap_load_u64le(q) >> (bit & 7);
          } else {
            v = load_bits(bp, end, bit, bw);
          }
          out[i + j] = (uint32_t)(v & mask);
        }
      }
      r->bp_bit = (uint32_t)bit;
      i += k;
      r->bp_left -= (uint32_t)k;
    } else {
      OTAP_RETURN_NOT_OK(rle_next_run(r, err));
    }
  }
  return 0;
}

int otap__pq_rle_get_levels(struct pq_rle* r, int16_t* out, int64_t n, int16_t max_level,
                            int64_t* n_max, struct otap_error* err) {
  int64_t at_max = 0;
  if (r->bit_width < 0 || r->bit_width > 16)
    return otap_error_set(err, EINVAL, "level bit width %d out of range", r->bit_width);
  int bw = r->bit_width;
  uint32_t mask = (1u << bw) - 1;
  int64_t i = 0;
  while (i < n) {
    if (r->rle_left) {
      int64_t k = n - i < (int64_t)r->rle_left ? n - i : (int64_t)r->rle_left;
      if (r->rle_value > (uint32_t)max_level)
        return otap_error_set(err, EINVAL, "level %u above the maximum %d", r->rle_value, max_level);
      int16_t v = (int16_t)r->rle_value;
      for (int64_t j = 0; j < k; j++) out[i + j] = v;
      if (v == max_level) at_max += k;
      i += k;
      r->rle_left -= (uint32_t)k;
    } else if (r->bp_left) {
      int64_t k = n - i < (int64_t)r->bp_left ? n - i : (int64_t)r->bp_left;
      const uint8_t* bp = r->bp;
      const uint8_t* end = r->p;
      uint64_t bit = r->bp_bit;
      uint32_t bad = 0;
      int64_t j0 = 0;
      if (bw <= 8 && (bit & 7) == 0) {
        for (; j0 + 8 <= k && end - (bp + (bit >> 3)) >= 8; j0 += 8, bit += 8u * (uint64_t)bw) {
          uint64_t w = otap_load_u64le(bp + (bit >> 3));
          for (int t = 0; t < 8; t++) {
            uint32_t x = (uint32_t)(w >> (t * bw)) & mask;
            bad |= x > (uint32_t)max_level;
            at_max += x == (uint32_t)max_level;
            out[i + j0 + t] = (int16_t)x;
          }
        }
      }
      for (int64_t j = j0; j < k; j++, bit += (uint64_t)bw) {
        const uint8_t* q = bp + (bit >> 3);
        uint64_t v = end - q >= 8 ? otap_load_u64le(q) >> (bit & 7) : load_bits(bp, end, bit, bw);
        uint32_t x = (uint32_t)v & mask;
        bad |= x > (uint32_t)max_level;
        at_max += x == (uint32_t)max_level;
        out[i + j] = (int16_t)x;
      }
      if (bad) return otap_error_set(err, EINVAL, "level above the maximum %d", max_level);
      r->bp_bit = (uint32_t)bit;
      i += k;
      r->bp_left -= (uint32_t)k;
    } else {
      OTAP_RETURN_NOT_OK(rle_next_run(r, err));
    }
  }
  if (n_max) *n_max = at_max;
  return 0;
}

int otap__pq_bitpacked_levels(const uint8_t* data, size_t len, int bw, int16_t* out, int64_t n,
                              int16_t max_level, size_t* consumed, struct otap_error* err) {
  uint64_t bits = (uint64_t)n * (uint64_t)bw;
  uint64_t bytes = (bits + 7) / 8;
  if (bytes > len) return otap_error_set(err, EINVAL, "BIT_PACKED levels truncated");
  // MSB-first within each byte.
  for (int64_t i = 0; i < n; i++) {
    uint32_t v = 0;
    uint64_t b = (uint64_t)i * (uint64_t)bw;
    for (int k = 0; k < bw; k++, b++) v = (v << 1) | ((data[b >> 3] >> (7 - (b & 7))) & 1);
    if (v > (uint32_t)max_level) return otap_error_set(err, EINVAL, "level above the maximum");
    out[i] = (int16_t)v;
  }
  *consumed = (size_t)bytes;
  return 0;
}

// ---------------------------------------------------------------------------------------------
// PLAIN

int otap__pq_plain_bool_decode(const uint8_t* data, size_t len, int64_t n, uint8_t* out,
                               struct otap_error* err) {
  if ((uint64_t)(n + 7) / 8 > len) return otap_error_set(err, EINVAL, "PLAIN booleans truncated");
  for (int64_t i = 0; i < n; i++) out[i] = (data[i >> 3] >> (i & 7)) & 1;
  return 0;
}

static int binary_reserve(struct pq_binary* out, int64_t n, int64_t data_bytes,
                          struct otap_error* err) {
  if (out->offsets.size == 0) {
    int64_t zero = 0;
    if (otap_buffer_append(&out->offsets, &zero, 8)) return otap_error_set(err, ENOMEM, "out of memory");
  }
  if (otap_buffer_reserve(&out->offsets, n * 8) || otap_buffer_reserve(&out->data, data_bytes))
    return otap_error_set(err, ENOMEM, "out of memory for %lld byte array values", (long long)n);
  return 0;
}

int otap__pq_plain_binary_decode(const uint8_t* data, size_t len, int64_t n, struct pq_binary* out,
                                 size_t* consumed, struct otap_error* err) {
  if ((uint64_t)n > len / 4)
    return otap_error_set(err, EINVAL, "PLAIN byte arrays: %lld values cannot fit in %zu bytes",
                          (long long)n, len);
  OTAP_RETURN_NOT_OK(binary_reserve(out, n, (int64_t)len, err));
  size_t pos = 0;
  int64_t* offs = (int64_t*)(out->offsets.data + out->offsets.size);
  int64_t cur = ((int64_t*)out->offsets.data)[out->offsets.size / 8 - 1];
  uint8_t* dst = out->data.data;
  for (int64_t i = 0; i < n; i++) {
    if (len - pos < 4) return otap_error_set(err, EINVAL, "PLAIN byte array %lld: length truncated", (long long)i);
    uint32_t l = otap_load_u32le(data + pos);
    pos += 4;
    if (l > len - pos) return otap_error_set(err, EINVAL, "PLAIN byte array %lld: %u bytes exceed the page", (long long)i, l);
    if (l) memcpy(dst + cur, data + pos, l);
    pos += l;
    cur += l;
    offs[i] = cur;
  }
  out->offsets.size += n * 8;
  out->data.size = cur;
  *consumed = pos;
  return 0;
}

// ---------------------------------------------------------------------------------------------
// DELTA_BINARY_PACKED

static int uvarint(const uint8_t** p, const uint8_t* end, uint64_t* out, struct otap_error* err) {
  uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (*p >= end) return otap_error_set(err, EINVAL, "DELTA header truncated");
    uint8_t b = *(*p)++;
    v |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) {
      *out = v;
      return 0;
    }
  }
  return otap_error_set(err, EINVAL, "DELTA varint too long");
}

static int zvarint(const uint8_t** p, const uint8_t* end, int64_t* out, struct otap_error* err) {
  uint64_t u;
  OTAP_RETURN_NOT_OK(uvarint(p, end, &u, err));
  *out = (int64_t)((u >> 1) ^ (~(u & 1) + 1));
  return 0;
}

struct delta_hdr {
  uint64_t block_size, miniblocks, total;
  int64_t first;
};

static int delta_header(const uint8_t** p, const uint8_t* end, struct delta_hdr* h,
                        struct otap_error* err) {
  OTAP_RETURN_NOT_OK(uvarint(p, end, &h->block_size, err));
  OTAP_RETURN_NOT_OK(uvarint(p, end, &h->miniblocks, err));
  OTAP_RETURN_NOT_OK(uvarint(p, end, &h->total, err));
  OTAP_RETURN_NOT_OK(zvarint(p, end, &h->first, err));
  if (h->block_size == 0 || h->block_size % 128 != 0 || h->block_size > (1u << 20))
    return otap_error_set(err, EINVAL, "DELTA block size %llu is not a positive multiple of 128",
                          (unsigned long long)h->block_size);
  if (h->miniblocks == 0 || h->block_size % h->miniblocks != 0 ||
      (h->block_size / h->miniblocks) % 32 != 0)
    return otap_error_set(err, EINVAL, "DELTA miniblock count %llu invalid for block size %llu",
                          (unsigned long long)h->miniblocks, (unsigned long long)h->block_size);
  if (h->total > INT32_MAX) return otap_error_set(err, EINVAL, "DELTA value count too large");
  return 0;
}

int otap__pq_delta_binary_count(const uint8_t* data, size_t len, int64_t* count,
                                struct otap_error* err) {
  struct delta_hdr h;
  const uint8_t* p = data;
  OTAP_RETURN_NOT_OK(delta_header(&p, data + len, &h, err));
  *count = (int64_t)h.total;
  return 0;
}

int otap__pq_delta_binary_decode(const uint8_t* data, size_t len, int64_t* out, int64_t n,
                                 bool is_int32, size_t* consumed, struct otap_error* err) {
  const uint8_t* p = data;
  const uint8_t* end = data + len;
  struct delta_hdr h;
  OTAP_RETURN_NOT_OK(delta_header(&p, end, &h, err));
  if ((int64_t)h.total < n)
    return otap_error_set(err, EINVAL, "DELTA_BINARY_PACKED holds %llu values, %lld expected",
                          (unsigned long long)h.total, (long long)n);
  int64_t total = (int64_t)h.total;
  uint64_t per_mini = h.block_size / h.miniblocks;
  uint64_t last = (uint64_t)h.first;
  if (is_int32) last = (uint64_t)(int64_t)(int32_t)(uint32_t)last;
  if (n > 0) out[0] = (int64_t)last;
  int64_t got = total > 0 ? 1 : 0;
  int max_bw = is_int32 ? 32 : 64;
  while (got < total) {
    int64_t min_delta;
    OTAP_RETURN_NOT_OK(zvarint(&p, end, &min_delta, err));
    if ((uint64_t)(end - p) < h.miniblocks)
      return otap_error_set(err, EINVAL, "DELTA miniblock bit widths truncated");
    const uint8_t* widths = p;
    p += h.miniblocks;
    for (uint64_t m = 0; m < h.miniblocks && got < total; m++) {
      int bw = widths[m];
      if (bw > max_bw)
        return otap_error_set(err, EINVAL, "DELTA miniblock bit width %d exceeds %d", bw, max_bw);
      uint64_t bytes = per_mini * (uint64_t)bw / 8;
      uint64_t avail = (uint64_t)(end - p);
      int64_t take = total - got < (int64_t)per_mini ? total - got : (int64_t)per_mini;
      if ((uint64_t)take * (uint64_t)bw > avail * 8)
        return otap_error_set(err, EINVAL, "DELTA miniblock data truncated");
      if (got >= n) {
        // Values past the ones asked for are only skipped (their bytes still count).
        got += take;
        p += bytes < avail ? bytes : avail;
        continue;
      }
      for (int64_t j = 0; j < take; j++) {
        uint64_t d = bw ? load_bits(p, end, (uint64_t)j * (uint64_t)bw, bw) : 0;
        last = last + (uint64_t)min_delta + d;  // wrapping arithmetic
        if (is_int32) last = (uint64_t)(int64_t)(int32_t)(uint32_t)last;
        if (got < n) out[got] = (int64_t)last;
        got++;
      }
      p += bytes < avail ? bytes : avail;
    }
  }
  *consumed = (size_t)(p - data);
  return 0;
}

// ---------------------------------------------------------------------------------------------
// DELTA_LENGTH_BYTE_ARRAY and DELTA_BYTE_ARRAY

static int delta_lengths(const uint8_t* data, size_t len, int64_t n, int64_t** lens,
                         size_t* consumed, struct otap_error* err) {
  int64_t count;
  OTAP_RETURN_NOT_OK(otap__pq_delta_binary_count(data, len, &count, err));
  if (count < n)
    return otap_error_set(err, EINVAL, "DELTA lengths hold %lld values, %lld expected",
                          (long long)count, (long long)n);
  // A DELTA stream cannot encode more values than 32 x its byte size (bit width >= 0 -> the
  // only limit is the block count); cap against the page to bound allocation.
  if ((uint64_t)n > (uint64_t)len * 8 * 128 + 1)
    return otap_error_set(err, EINVAL, "DELTA value count exceeds page capacity");
  *lens = otap_malloc((size_t)(n > 0 ? n : 1) * sizeof(int64_t));
  if (!*lens) return otap_error_set(err, ENOMEM, "out of memory");
  int rc = otap__pq_delta_binary_decode(data, len, *lens, n, true, consumed, err);
  if (rc) {
    otap_free(*lens);
    *lens = NULL;
  }
  return rc;
}

int otap__pq_delta_length_decode(const uint8_t* data, size_t len, int64_t n, struct pq_binary* out,
                                 struct otap_error* err) {
  int64_t* lens = NULL;
  size_t used = 0;
  OTAP_RETURN_NOT_OK(delta_lengths(data, len, n, &lens, &used, err));
  int rc = 0;
  uint64_t total = 0;
  for (int64_t i = 0; i < n; i++) {
    if (lens[i] < 0) {
      rc = otap_error_set(err, EINVAL, "DELTA_LENGTH_BYTE_ARRAY: negative length at value %lld", (long long)i);
      goto done;
    }
    total += (uint64_t)lens[i];
  }
  if (total > len - used) {
    rc = otap_error_set(err, EINVAL, "DELTA_LENGTH_BYTE_ARRAY: %llu data bytes exceed the page",
                        (unsigned long long)total);
    goto done;
  }
  OTAP_GOTO_NOT_OK(rc, binary_reserve(out, n, (int64_t)total, err));
  int64_t* offs = (int64_t*)(out->offsets.data + out->offsets.size);
  int64_t cur = out->data.size;
  if (total) memcpy(out->data.data + cur, data + used, total);
  for (int64_t i = 0; i < n; i++) {
    cur += lens[i];
    offs[i] = cur;
  }
  out->offsets.size += n * 8;
  out->data.size = cur;
done:
  otap_free(lens);
  return rc;
}

int otap__pq_delta_byte_array_decode(const uint8_t* data, size_t len, int64_t n,
                                     struct pq_binary* out, struct otap_error* err) {
  int64_t *prefix = NULL, *suffix = NULL;
  size_t used1 = 0, used2 = 0;
  int rc = 0;
  OTAP_GOTO_NOT_OK(rc, delta_lengths(data, len, n, &prefix, &used1, err));
  OTAP_GOTO_NOT_OK(rc, delta_lengths(data + used1, len - used1, n, &suffix, &used2, err));
  const uint8_t* sdata = data + used1 + used2;
  size_t savail = len - used1 - used2;
  uint64_t stotal = 0, total = 0;
  int64_t prev_len = 0;
  for (int64_t i = 0; i < n; i++) {
    if (prefix[i] < 0 || suffix[i] < 0 || prefix[i] > prev_len) {
      rc = otap_error_set(err, EINVAL, "DELTA_BYTE_ARRAY: invalid prefix/suffix at value %lld", (long long)i);
      goto done;
    }
    stotal += (uint64_t)suffix[i];
    prev_len = prefix[i] + suffix[i];
    total += (uint64_t)prev_len;
    if (stotal > savail || total > (uint64_t)OTAP_BUFFER_DEFAULT_CAP) {
      rc = otap_error_set(err, EINVAL, "DELTA_BYTE_ARRAY: data exceeds the page at value %lld", (long long)i);
      goto done;
    }
  }
  OTAP_GOTO_NOT_OK(rc, binary_reserve(out, n, (int64_t)total, err));
  {
    int64_t* offs = (int64_t*)(out->offsets.data + out->offsets.size);
    int64_t start = out->data.size, cur = start, prev_start = start;
    uint8_t* dst = out->data.data;
    for (int64_t i = 0; i < n; i++) {
      int64_t vstart = cur;
      if (prefix[i]) memmove(dst + cur, dst + prev_start, (size_t)prefix[i]);
      cur += prefix[i];
      if (suffix[i]) memcpy(dst + cur, sdata, (size_t)suffix[i]);
      sdata += suffix[i];
      cur += suffix[i];
      offs[i] = cur;
      prev_start = vstart;
    }
    out->offsets.size += n * 8;
    out->data.size = cur;
  }
done:
  otap_free(prefix);
  otap_free(suffix);
  return rc;
}

// ---------------------------------------------------------------------------------------------
// BYTE_STREAM_SPLIT

int otap__pq_byte_stream_split_decode(const uint8_t* data, size_t len, int width, int64_t n,
                                      uint8_t* out, struct otap_error* err) {
  if (width <= 0) return otap_error_set(err, EINVAL, "BYTE_STREAM_SPLIT width %d", width);
  if ((uint64_t)n * (uint64_t)width > len)
    return otap_error_set(err, EINVAL, "BYTE_STREAM_SPLIT: %lld values of %d bytes exceed the page",
                          (long long)n, width);
  // Streams are len / width bytes long (values beyond n are padding, if any).
  size_t stream = len / (size_t)width;
  for (int k = 0; k < width; k++) {
    const uint8_t* s = data + (size_t)k * stream;
    for (int64_t i = 0; i < n; i++) out[(size_t)i * (size_t)width + (size_t)k] = s[i];
  }
  return 0;
}
