// Record assembly: definition/repetition levels + dense leaf values -> Arrow arrays.
//
// Every Arrow node has a slot context: a level entry i opens a slot of node N when
// rep[i] <= N.rep and def[i] >= N.slot_def (scanning any leaf below N gives the same slots),
// and the slot is non-null when def[i] >= N.def. List elements are the slots of the child.
#include "parquet/parquet_internal.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

static const uint8_t kPopcount[256] = {
#define B2(n) n, n + 1, n + 1, n + 2
#define B4(n) B2(n), B2(n + 1), B2(n + 1), B2(n + 2)
#define B6(n) B4(n), B4(n + 1), B4(n + 1), B4(n + 2)
    B6(0), B6(1), B6(1), B6(2)
#undef B2
#undef B4
#undef B6
};

static int nomem(struct otap_error* err) { return otap_error_set(err, ENOMEM, "out of memory"); }

/// Scans the slots of node n: returns their count, fills a validity bitmap (dropped when no
/// slot is null) and the null count.
static int scan_slots(const struct pq_node* n, const struct pq_leaf_data* L, struct otap_buffer* validity,
                      int64_t* n_slots, int64_t* null_count, struct otap_error* err) {
  const int16_t* def = L->def;
  const int16_t* rep = L->rep;
  int64_t nl = L->n_levels;
  otap_buffer_init(validity);
  if (!rep && n->slot_def == 0) {
    *n_slots = nl;
    if (!def || n->def == 0) {
      *null_count = 0;
      return 0;
    }
    if (otap__pq_out_resize(validity, otap_bytes_for_bits(nl), true)) return nomem(err);
    int64_t nulls = 0;
    uint8_t* bits = validity->data;
    int16_t d0 = n->def;
    int64_t full = nl & ~(int64_t)7;
#if defined(__SSE2__)
    const __m128i thr = _mm_set1_epi16((short)(d0 - 1));
    for (int64_t i = 0; i < full; i += 8) {
      __m128i v = _mm_loadu_si128((const __m128i*)(const void*)(def + i));
      __m128i m = _mm_cmpgt_epi16(v, thr);
      unsigned byte = (unsigned)_mm_movemask_epi8(_mm_packs_epi16(m, m)) & 0xffu;
      bits[i >> 3] = (uint8_t)byte;
      nulls += 8 - kPopcount[byte];
    }
#else
    for (int64_t i = 0; i < full; i += 8) {
      unsigned byte = 0;
      for (int k = 0; k < 8; k++) byte |= (unsigned)(def[i + k] >= d0) << k;
      bits[i >> 3] = (uint8_t)byte;
      nulls += 8 - kPopcount[byte];
    }
#endif
    for (int64_t i = full; i < nl; i++) {
      bool v = def[i] >= d0;
      bits[i >> 3] |= (uint8_t)((unsigned)v << (i & 7));
      nulls += !v;
    }
    *null_count = nulls;
    if (nulls == 0) otap_buffer_reset(validity);
    return 0;
  }
  if (otap__pq_out_resize(validity, otap_bytes_for_bits(nl), true)) return nomem(err);
  uint8_t* bits = validity->data;
  int64_t k = 0, nulls = 0;
  for (int64_t i = 0; i < nl; i++) {
    int16_t d = def ? def[i] : 0, r = rep ? rep[i] : 0;
    if (r <= n->rep && d >= n->slot_def) {
      bool v = d >= n->def;
      bits[k >> 3] |= (uint8_t)((unsigned)v << (k & 7));
      nulls += !v;
      k++;
    }
  }
  *n_slots = k;
  *null_count = nulls;
  if (nulls == 0) otap_buffer_reset(validity);
  return 0;
}

static void put_decimal(uint8_t* dst, int bytes, const uint8_t* be, int64_t len) {
  // Big-endian two's complement -> little-endian, sign-extended to `bytes`.
  uint8_t fill = (len > 0 && (be[0] & 0x80)) ? 0xff : 0x00;
  for (int64_t i = 0; i < bytes; i++) dst[i] = i < len ? be[len - 1 - i] : fill;
}

static void put_int_decimal(uint8_t* dst, int bytes, int64_t v) {
  uint8_t fill = v < 0 ? 0xff : 0;
  for (int i = 0; i < bytes; i++) dst[i] = i < 8 ? (uint8_t)((uint64_t)v >> (8 * i)) : fill;
}

static int64_t int96_value(const uint8_t* p, enum otap_time_unit unit) {
  // Nanoseconds of the day are read as a signed value (some writers store wrapped values);
  // sums wrap instead of overflowing.
  int64_t nanos = (int64_t)otap_load_u64le(p);
  int64_t days = (int64_t)(int32_t)otap_load_u32le(p + 8) - 2440588;
  switch (unit) {
    case OTAP_TIME_UNIT_SECOND: return (int64_t)((uint64_t)days * 86400u + (uint64_t)(nanos / 1000000000));
    case OTAP_TIME_UNIT_MILLI: return (int64_t)((uint64_t)days * 86400000u + (uint64_t)(nanos / 1000000));
    case OTAP_TIME_UNIT_MICRO: return (int64_t)((uint64_t)days * UINT64_C(86400000000) + (uint64_t)(nanos / 1000));
    default: return (int64_t)((uint64_t)days * UINT64_C(86400000000000) + (uint64_t)nanos);
  }
}

/// Builds the value array of a leaf from dense values (src_fixed or src_bin, n_values of
/// them) spread over n_slots slots with `validity` (moved in; NULL data = all valid).
static int build_leaf_values(const struct pq_node* n, int pw, struct otap_buffer* src_fixed,
                             struct pq_binary* src_bin, int64_t n_values, struct otap_buffer* validity,
                             int64_t n_slots, int64_t null_count, struct ArrowArray* out,
                             struct otap_error* err) {
  const uint8_t* bits = validity->data;
  struct otap_buffer bufs[3];
  for (int i = 0; i < 3; i++) otap_buffer_init(&bufs[i]);
  otap_buffer_move(validity, &bufs[0]);
  bits = bufs[0].data;
  int rc = 0;
  if (n_slots - null_count > n_values) {
    rc = otap_error_set(err, EINVAL, "column %s: %lld values for %lld non-null slots", n->name,
                        (long long)n_values, (long long)(n_slots - null_count));
    goto fail;
  }
  n_values = n_slots - null_count;  // the values this batch uses (the rest stays buffered)
  switch (n->conv) {
    case PQ_CONV_NULL:
      otap_buffer_reset(&bufs[0]);
      return otap__pq_array_make(out, n_slots, n_slots, 0, NULL, 0, false) ? nomem(err) : 0;
    case PQ_CONV_BINARY: {
      if (otap__pq_out_resize(&bufs[1], (n_slots + 1) * 4, false)) goto oom;
      int32_t* o = (int32_t*)bufs[1].data;
      // Offsets are absolute into src_bin->data (the first value may not start at 0).
      const int64_t* so = (const int64_t*)(const void*)src_bin->offsets.data;
      int64_t base = n_values ? so[0] : 0;
      if (n_values > 0 && so[n_values] - base > INT32_MAX) {
        rc = otap_error_set(err, ENOTSUP, "column %s: more than 2 GiB of byte array data in one batch", n->name);
        goto fail;
      }
      o[0] = 0;
      if (!bits) {
        for (int64_t i = 0; i < n_slots; i++) o[i + 1] = (int32_t)(so[i + 1] - base);
      } else {
        int64_t v = 0;
        for (int64_t i = 0; i < n_slots; i++) {
          if (otap_bit_get(bits, i)) v++;
          o[i + 1] = n_values ? (int32_t)(so[v] - base) : 0;
        }
      }
      int64_t nbytes = n_values ? so[n_values] - base : 0;
      if (otap__pq_out_append(&bufs[2], nbytes ? src_bin->data.data + base : (const uint8_t*)"", nbytes)) goto oom;
      if (!bufs[2].data && otap__pq_out_resize(&bufs[2], 1, true)) goto oom;
      return otap__pq_array_make(out, n_slots, null_count, 3, bufs, 0, false) ? nomem(err) : 0;
    }
    case PQ_CONV_BOOL: {
      if (otap__pq_out_resize(&bufs[1], otap_bytes_for_bits(n_slots), true)) goto oom;
      const uint8_t* s = src_fixed->data;
      uint8_t* b = bufs[1].data;
      int64_t v = 0;
      for (int64_t i = 0; i < n_slots; i++) {
        if (!bits || otap_bit_get(bits, i)) {
          if (s[v++]) otap_bit_set(b, i);
        }
      }
      return otap__pq_array_make(out, n_slots, null_count, 2, bufs, 0, false) ? nomem(err) : 0;
    }
    default:
      break;
  }
  // Fixed-width outputs.
  int vw = n->value_width;
  if (n->conv == PQ_CONV_COPY && !bits) {
    if (otap__pq_out_append(&bufs[1], n_values ? src_fixed->data : (const uint8_t*)"", n_values * pw)) goto oom;
    if (!bufs[1].data && otap__pq_out_resize(&bufs[1], 1, true)) goto oom;
    return otap__pq_array_make(out, n_slots, null_count, 2, bufs, 0, false) ? nomem(err) : 0;
  }
  if (otap__pq_out_resize(&bufs[1], n_slots * vw + 1, n->conv != PQ_CONV_COPY)) goto oom;
  uint8_t* dst = bufs[1].data;
  const uint8_t* s = src_fixed->data;
  const int64_t* so = src_bin ? (const int64_t*)src_bin->offsets.data : NULL;
  int64_t v = 0;
  if (n->conv == PQ_CONV_COPY) {
    // Scatter the dense values over the slots; null slots are zeroed.
    if (vw == 4) {
      uint32_t* d4 = (uint32_t*)dst;
      for (int64_t i = 0; i < n_slots; i++) {
        if (otap_bit_get(bits, i)) memcpy(&d4[i], s + 4 * v++, 4);
        else d4[i] = 0;
      }
    } else if (vw == 8) {
      uint64_t* d8 = (uint64_t*)dst;
      for (int64_t i = 0; i < n_slots; i++) {
        if (otap_bit_get(bits, i)) memcpy(&d8[i], s + 8 * v++, 8);
        else d8[i] = 0;
      }
    } else {
      for (int64_t i = 0; i < n_slots; i++) {
        if (otap_bit_get(bits, i)) memcpy(dst + i * vw, s + (v++) * vw, (size_t)vw);
        else memset(dst + i * vw, 0, (size_t)vw);
      }
    }
    bufs[1].size = n_slots * vw;
    return otap__pq_array_make(out, n_slots, null_count, 2, bufs, 0, false) ? nomem(err) : 0;
  }
  for (int64_t i = 0; i < n_slots; i++) {
    if (bits && !otap_bit_get(bits, i)) continue;
    uint8_t* d = dst + i * vw;
    switch (n->conv) {
      case PQ_CONV_COPY: memcpy(d, s + v * pw, (size_t)vw); break;
      case PQ_CONV_I32_TO_I8: *d = (uint8_t)otap_load_u32le(s + v * 4); break;
      case PQ_CONV_I32_TO_I16: otap_store_u16le(d, (uint16_t)otap_load_u32le(s + v * 4)); break;
      case PQ_CONV_INT96: otap_store_u64le(d, (uint64_t)int96_value(s + v * 12, n->int96_unit)); break;
      case PQ_CONV_DEC_I32: put_int_decimal(d, vw, (int32_t)otap_load_u32le(s + v * 4)); break;
      case PQ_CONV_DEC_I64: put_int_decimal(d, vw, (int64_t)otap_load_u64le(s + v * 8)); break;
      case PQ_CONV_DEC_BYTES: {
        const uint8_t* be;
        int64_t len;
        if (so) {
          be = src_bin->data.data ? src_bin->data.data + so[v] : (const uint8_t*)"";
          len = so[v + 1] - so[v];
        } else {
          be = s + v * pw;
          len = pw;
        }
        while (len > vw && (be[0] == 0x00 || be[0] == 0xff) && ((be[0] & 0x80) == (be[1] & 0x80))) {
          be++;
          len--;
        }
        if (len > vw) {
          rc = otap_error_set(err, EINVAL, "column %s: decimal value of %lld bytes does not fit", n->name, (long long)len);
          goto fail;
        }
        put_decimal(d, vw, be, len);
        break;
      }
      default: break;
    }
    v++;
  }
  bufs[1].size = n_slots * vw;
  return otap__pq_array_make(out, n_slots, null_count, 2, bufs, 0, false) ? nomem(err) : 0;
oom:
  rc = nomem(err);
fail:
  for (int i = 0; i < 3; i++) otap_buffer_reset(&bufs[i]);
  return rc;
}

static int physical_width(const struct pq_node* n) {
  switch (n->elem->type) {
    case OTAP_PARQUET_BOOLEAN: return 1;
    case OTAP_PARQUET_INT32: case OTAP_PARQUET_FLOAT: return 4;
    case OTAP_PARQUET_INT64: case OTAP_PARQUET_DOUBLE: return 8;
    case OTAP_PARQUET_INT96: return 12;
    case OTAP_PARQUET_FIXED_LEN_BYTE_ARRAY: return n->elem->type_length;
    default: return 0;
  }
}

/// Dictionary-encoded values into plain output in one pass: strings and same-width values
/// are gathered straight from the dictionary; other conversions materialize first.
static int gather_from_dict(const struct pq_node* n, int pw, struct pq_leaf_data* L, struct otap_buffer* validity,
                            int64_t n_slots, int64_t null_count, struct ArrowArray* out, struct otap_error* err) {
  const uint32_t* idx = (const uint32_t*)L->indices.data;
  int64_t nv = L->n_values;
  const uint8_t* bits = validity->data;
  if (n_slots - null_count > nv) {
    otap_buffer_reset(validity);
    return otap_error_set(err, EINVAL, "column %s: %lld values for %lld non-null slots", n->name, (long long)nv,
                          (long long)(n_slots - null_count));
  }
  nv = n_slots - null_count;
  struct otap_buffer bufs[3];
  for (int i = 0; i < 3; i++) otap_buffer_init(&bufs[i]);
  otap_buffer_move(validity, &bufs[0]);
  if (n->conv == PQ_CONV_BINARY) {
    const int64_t* doff = (const int64_t*)L->dict_bin.offsets.data;
    const uint8_t* dd = L->dict_bin.data.data;
    if (otap__pq_out_resize(&bufs[1], (n_slots + 1) * 4, false)) goto oom;
    int32_t* o = (int32_t*)bufs[1].data;
    int64_t cur = 0, v = 0;
    o[0] = 0;
    for (int64_t i = 0; i < n_slots; i++) {
      if (!bits || otap_bit_get(bits, i)) {
        uint32_t k = idx[v++];
        cur += doff[k + 1] - doff[k];
        if (cur > INT32_MAX) {
          for (int j = 0; j < 3; j++) otap_buffer_reset(&bufs[j]);
          return otap_error_set(err, ENOTSUP, "column %s: more than 2 GiB of strings in one batch", n->name);
        }
      }
      o[i + 1] = (int32_t)cur;
    }
    // 16-byte strides: the destination has 16 spare bytes and the dictionary data is padded
    // by 16 bytes (pq_column.c), so short strings cost one or two vector moves.
    if (otap__pq_out_resize(&bufs[2], cur + 16, false)) goto oom;
    uint8_t* dst = bufs[2].data;
    for (int64_t j = 0, pos = 0; j < nv; j++) {
      uint32_t k = idx[j];
      int64_t len = doff[k + 1] - doff[k];
      const uint8_t* src = dd + doff[k];
      for (int64_t b = 0; b < len; b += 16) memcpy(dst + pos + b, src + b, 16);
      pos += len;
    }
    bufs[2].size = cur;
    return otap__pq_array_make(out, n_slots, null_count, 3, bufs, 0, false) ? nomem(err) : 0;
  }
  if (n->conv == PQ_CONV_COPY && n->value_width == pw) {
    const uint8_t* dict = L->dict_fixed.data;
    if (otap__pq_out_resize(&bufs[1], n_slots * pw + 1, false)) goto oom;
    uint8_t* dst = bufs[1].data;
    int64_t v = 0;
    for (int64_t i = 0; i < n_slots; i++) {
      if (!bits || otap_bit_get(bits, i)) {
        memcpy(dst + i * pw, dict + (size_t)idx[v++] * (size_t)pw, (size_t)pw);
      } else {
        memset(dst + i * pw, 0, (size_t)pw);
      }
    }
    bufs[1].size = n_slots * pw;
    return otap__pq_array_make(out, n_slots, null_count, 2, bufs, 0, false) ? nomem(err) : 0;
  }
  if ((n->conv == PQ_CONV_I32_TO_I8 || n->conv == PQ_CONV_I32_TO_I16) && pw == 4) {
    const uint8_t* dict = L->dict_fixed.data;
    int vw = n->value_width;
    if (otap__pq_out_resize(&bufs[1], n_slots * vw + 1, true)) goto oom;
    uint8_t* dst = bufs[1].data;
    int64_t v = 0;
    for (int64_t i = 0; i < n_slots; i++) {
      if (bits && !otap_bit_get(bits, i)) continue;
      uint32_t x = otap_load_u32le(dict + (size_t)idx[v++] * 4);
      if (vw == 1) dst[i] = (uint8_t)x;
      else otap_store_u16le(dst + 2 * i, (uint16_t)x);
    }
    bufs[1].size = n_slots * vw;
    return otap__pq_array_make(out, n_slots, null_count, 2, bufs, 0, false) ? nomem(err) : 0;
  }
  // Other conversions: materialize the values, then convert.
  {
    struct otap_buffer fixed;
    struct pq_binary bin;
    otap_buffer_init(&fixed);
    memset(&bin, 0, sizeof(bin));
    int rc = 0;
    if (pw) {
      if (otap_buffer_resize(&fixed, nv * pw + 1, false)) rc = nomem(err);
      for (int64_t j = 0; rc == 0 && j < nv; j++)
        memcpy(fixed.data + j * pw, L->dict_fixed.data + (size_t)idx[j] * (size_t)pw, (size_t)pw);
    } else {
      const int64_t* doff = (const int64_t*)L->dict_bin.offsets.data;
      int64_t zero = 0;
      if (otap_buffer_append(&bin.offsets, &zero, 8)) rc = nomem(err);
      for (int64_t j = 0; rc == 0 && j < nv; j++) {
        uint32_t k = idx[j];
        if (otap_buffer_append(&bin.data, L->dict_bin.data.data + doff[k], doff[k + 1] - doff[k]) ||
            otap_buffer_append(&bin.offsets, &bin.data.size, 8))
          rc = nomem(err);
      }
    }
    if (rc == 0) rc = build_leaf_values(n, pw, &fixed, &bin, nv, &bufs[0], n_slots, null_count, out, err);
    else otap_buffer_reset(&bufs[0]);
    otap_buffer_reset(&fixed);
    otap_buffer_reset(&bin.offsets);
    otap_buffer_reset(&bin.data);
    return rc;
  }
oom:
  for (int i = 0; i < 3; i++) otap_buffer_reset(&bufs[i]);
  return nomem(err);
}

static int assemble_leaf(const struct pq_node* n, struct pq_leaf_data* L, struct ArrowArray* out,
                         struct otap_error* err) {
  struct otap_buffer validity;
  int64_t n_slots, nulls;
  OTAP_RETURN_NOT_OK(scan_slots(n, L, &validity, &n_slots, &nulls, err));
  L->used_values = n_slots - nulls;
  int pw = physical_width(n);
  if (!n->as_dictionary && L->dict_mode) {
    return gather_from_dict(n, pw, L, &validity, n_slots, nulls, out, err);
  }
  if (!n->as_dictionary) {
    return build_leaf_values(n, pw, &L->fixed, &L->bin, L->n_values, &validity, n_slots, nulls, out, err);
  }
  // dictionary<index, values>; the index type is int32 unless the ARROW:schema hint chose one.
  char ifmt = n->index_format[0] ? n->index_format[0] : 'i';
  int iw = (ifmt == 'c' || ifmt == 'C') ? 1 : (ifmt == 's' || ifmt == 'S') ? 2 : (ifmt == 'l' || ifmt == 'L') ? 8 : 4;
  int64_t imax = ifmt == 'c' ? 127 : ifmt == 'C' ? 255 : ifmt == 's' ? 32767 : ifmt == 'S' ? 65535 : INT32_MAX;
  struct otap_buffer bufs[2];
  otap_buffer_init(&bufs[1]);
  otap_buffer_move(&validity, &bufs[0]);
  int rc = 0;
  int32_t* remap = NULL;
  uint32_t* order = NULL;
  int64_t n_used = 0;
  struct otap_buffer cfixed;
  struct pq_binary cbin;
  otap_buffer_init(&cfixed);
  memset(&cbin, 0, sizeof(cbin));
  if (n_slots - nulls > L->n_values) {
    rc = otap_error_set(err, EINVAL, "column %s: value count mismatch", n->name);
    goto fail;
  }
  const uint32_t* src = L->dict_mode ? (const uint32_t*)L->indices.data : NULL;
  int64_t nv = n_slots - nulls;
  bool compact = false;
  if (L->dict_mode && L->dict_len - 1 > imax) {
    // The chunk's dictionary is too large for the index type: this batch gets a dictionary
    // of the entries it uses, in first-use order.
    compact = true;
    remap = otap_malloc((size_t)(L->dict_len > 0 ? L->dict_len : 1) * sizeof(int32_t));
    order = otap_malloc((size_t)(nv > 0 ? nv : 1) * sizeof(uint32_t));
    if (!remap || !order) goto oom;
    memset(remap, 0xff, (size_t)L->dict_len * sizeof(int32_t));
    for (int64_t j = 0; j < nv; j++) {
      if (remap[src[j]] < 0) {
        order[n_used] = src[j];
        remap[src[j]] = (int32_t)n_used++;
      }
    }
  } else if (!L->dict_mode) {
    n_used = nv;
  }
  if (compact ? n_used - 1 > imax : (!L->dict_mode && nv - 1 > imax)) {
    rc = otap_error_set(err, ERANGE,
                        "column %s: %lld dictionary values do not fit the index type '%c' of the ARROW:schema hint "
                        "(open with use_arrow_schema_hint = false)",
                        n->name, (long long)(compact ? n_used : nv), ifmt);
    goto fail;
  }
  if (otap__pq_out_resize(&bufs[1], n_slots * iw + 8, true)) goto oom;
  {
    uint8_t* ib = bufs[1].data;
    int64_t v = 0;
    for (int64_t i = 0; i < n_slots; i++) {
      if (bufs[0].data && !otap_bit_get(bufs[0].data, i)) continue;
      int64_t k = src ? (compact ? remap[src[v]] : (int64_t)src[v]) : v;
      v++;
      switch (iw) {
        case 1: ib[i] = (uint8_t)k; break;
        case 2: otap_store_u16le(ib + 2 * i, (uint16_t)k); break;
        case 8: otap_store_u64le(ib + 8 * i, (uint64_t)k); break;
        default: otap_store_u32le(ib + 4 * i, (uint32_t)k); break;
      }
    }
  }
  bufs[1].size = n_slots * iw;
  if (otap__pq_array_make(out, n_slots, nulls, 2, bufs, 0, true)) {
    rc = nomem(err);
    goto done;
  }
  struct otap_buffer none;
  otap_buffer_init(&none);
  if (compact) {
    // Gather the used entries, then build them as plain values.
    if (pw) {
      if (otap_buffer_resize(&cfixed, n_used * pw + 1, false)) rc = nomem(err);
      for (int64_t j = 0; rc == 0 && j < n_used; j++)
        memcpy(cfixed.data + j * pw, L->dict_fixed.data + (size_t)order[j] * (size_t)pw, (size_t)pw);
    } else {
      const int64_t* doff = (const int64_t*)L->dict_bin.offsets.data;
      int64_t zero = 0;
      if (otap_buffer_append(&cbin.offsets, &zero, 8)) rc = nomem(err);
      for (int64_t j = 0; rc == 0 && j < n_used; j++) {
        uint32_t k = order[j];
        if (otap_buffer_append(&cbin.data, L->dict_bin.data.data + doff[k], doff[k + 1] - doff[k]) ||
            otap_buffer_append(&cbin.offsets, &cbin.data.size, 8))
          rc = nomem(err);
      }
    }
    if (rc == 0) rc = build_leaf_values(n, pw, &cfixed, &cbin, n_used, &none, n_used, 0, out->dictionary, err);
  } else if (L->dict_mode) {
    // The chunk's dictionary is built once and shared by every batch of the chunk.
    if (!L->dict_array.release)
      rc = build_leaf_values(n, pw, &L->dict_fixed, &L->dict_bin, L->dict_len, &none, L->dict_len, 0, &L->dict_array, err);
    if (rc == 0 && otap__pq_array_slice(&L->dict_array, 0, L->dict_array.length, out->dictionary)) rc = nomem(err);
  } else {
    rc = build_leaf_values(n, pw, &L->fixed, &L->bin, L->used_values, &none, L->used_values, 0, out->dictionary, err);
  }
  if (rc) out->release(out);
  goto done;
oom:
  rc = nomem(err);
fail:
  otap_buffer_reset(&bufs[0]);
  otap_buffer_reset(&bufs[1]);
done:
  otap_free(remap);
  otap_free(order);
  otap_buffer_reset(&cfixed);
  otap_buffer_reset(&cbin.offsets);
  otap_buffer_reset(&cbin.data);
  return rc;
}

static int assemble_struct(const struct pq_node* n, struct pq_leaf_data** leaves, struct ArrowArray* out,
                           struct otap_error* err) {
  struct otap_buffer validity;
  int64_t n_slots, nulls;
  OTAP_RETURN_NOT_OK(scan_slots(n, leaves[n->leaf], &validity, &n_slots, &nulls, err));
  if (otap__pq_array_make(out, n_slots, nulls, 1, &validity, n->n_children, false)) return nomem(err);
  for (int32_t k = 0; k < n->n_children; k++) {
    int rc = otap__pq_assemble(n->children[k], leaves, out->children[k], err);
    if (rc == 0 && out->children[k]->length != n_slots)
      rc = otap_error_set(err, EINVAL, "struct %s: child %s has %lld values, the struct %lld", n->name,
                          n->children[k]->name, (long long)out->children[k]->length, (long long)n_slots);
    if (rc) {
      out->release(out);
      return rc;
    }
  }
  return 0;
}

static int assemble_list(const struct pq_node* n, struct pq_leaf_data** leaves, struct ArrowArray* out,
                         struct otap_error* err) {
  const struct pq_leaf_data* L = leaves[n->leaf];
  const struct pq_node* e = n->children[0];
  const int16_t* def = L->def;
  const int16_t* rep = L->rep;
  struct otap_buffer bufs[2];
  otap_buffer_init(&bufs[0]);
  otap_buffer_init(&bufs[1]);
  if (otap__pq_out_resize(&bufs[0], otap_bytes_for_bits(L->n_levels) + 1, true) ||
      otap__pq_out_resize(&bufs[1], (L->n_levels + 1) * 4, false)) {
    otap_buffer_reset(&bufs[0]);
    otap_buffer_reset(&bufs[1]);
    return nomem(err);
  }
  uint8_t* bits = bufs[0].data;
  int32_t* off = (int32_t*)bufs[1].data;
  int64_t k = 0, nulls = 0, elems = 0;
  for (int64_t i = 0; i < L->n_levels; i++) {
    int16_t d = def ? def[i] : 0, r = rep ? rep[i] : 0;
    if (r <= n->rep && d >= n->slot_def) {
      bool v = d >= n->def;
      if (v) otap_bit_set(bits, k);
      nulls += !v;
      off[k++] = (int32_t)elems;
    }
    if (r <= e->rep && d >= e->slot_def) {
      if (k == 0 || elems >= INT32_MAX) {
        otap_buffer_reset(&bufs[0]);
        otap_buffer_reset(&bufs[1]);
        return otap_error_set(err, EINVAL, "list %s: element before the first list or too many elements", n->name);
      }
      elems++;
    }
  }
  off[k] = (int32_t)elems;
  bufs[1].size = (k + 1) * 4;
  if (nulls == 0) otap_buffer_reset(&bufs[0]);
  if (otap__pq_array_make(out, k, nulls, 2, bufs, 1, false)) return nomem(err);
  int rc = otap__pq_assemble(e, leaves, out->children[0], err);
  if (rc == 0 && out->children[0]->length != elems)
    rc = otap_error_set(err, EINVAL, "list %s: %lld elements expected, child has %lld", n->name,
                        (long long)elems, (long long)out->children[0]->length);
  if (rc) out->release(out);
  return rc;
}

int otap__pq_assemble(const struct pq_node* n, struct pq_leaf_data** leaves, struct ArrowArray* out,
                      struct otap_error* err) {
  switch (n->kind) {
    case PQ_NODE_LEAF: return assemble_leaf(n, leaves[n->leaf], out, err);
    case PQ_NODE_STRUCT: return assemble_struct(n, leaves, out, err);
    case PQ_NODE_LIST:
    case PQ_NODE_MAP: return assemble_list(n, leaves, out, err);
  }
  return otap_error_set(err, EINVAL, "bad node");
}
