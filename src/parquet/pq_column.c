// Column chunk decoding: page headers, CRC, decompression, levels and values of one leaf
// column of one row group into a pq_leaf_data (dense non-null values + levels).
#include <stdio.h>

#include "parquet/parquet_internal.h"

void otap__pq_leaf_data_reset(struct pq_leaf_data* d) {
  otap_buffer_reset(&d->fixed);
  otap_buffer_reset(&d->bin.offsets);
  otap_buffer_reset(&d->bin.data);
  otap_buffer_reset(&d->indices);
  otap_buffer_reset(&d->dict_fixed);
  otap_buffer_reset(&d->dict_bin.offsets);
  otap_buffer_reset(&d->dict_bin.data);
  otap_buffer_reset(&d->def_buf);
  otap_buffer_reset(&d->rep_buf);
  memset(d, 0, sizeof(*d));
}

struct chunk_ctx {
  struct otap_parquet_reader* r;
  const struct otap_parquet_column_chunk* cc;
  const struct pq_column_desc* desc;
  const struct pq_node* node;
  struct pq_leaf_data* out;
  int32_t rg, col;
  int pw;          // physical value width in bytes (BYTE_ARRAY: 0)
  bool has_dict;
  int64_t page_offset;  // file offset of the current page (messages)
  struct otap_error* err;
};

static int level_bits(int max_level) {
  int b = 0;
  while ((1 << b) <= max_level) b++;
  return b;
}

static int ctx_fail(struct chunk_ctx* c, int rc) {
  return otap_error_prefix(c->err, rc, "%s: row group %d, column %s, page at byte offset %lld: ",
                           c->r->name, c->rg, c->desc->path, (long long)c->page_offset);
}

static int check_budget(struct chunk_ctx* c, int64_t more) {
  const struct pq_leaf_data* d = c->out;
  int64_t used = d->def_buf.size + d->rep_buf.size + d->fixed.size + d->bin.data.size +
                 d->bin.offsets.size + d->indices.size;
  if (more < 0 || used + more > c->r->opts.max_chunk_size)
    return otap_error_set(c->err, ENOTSUP,
                          "decoded column chunk exceeds the reader's max_chunk_size (%lld bytes)",
                          (long long)c->r->opts.max_chunk_size);
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Values

static int append_fixed_from_dict(struct chunk_ctx* c, const uint32_t* idx, int64_t n) {
  struct pq_leaf_data* d = c->out;
  if (c->pw) {
    size_t w = (size_t)c->pw;
    OTAP_RETURN_NOT_OK(check_budget(c, n * c->pw));
    if (otap_buffer_reserve(&d->fixed, n * c->pw)) return otap_error_set(c->err, ENOMEM, "out of memory");
    uint8_t* dst = d->fixed.data + d->fixed.size;
    const uint8_t* src = d->dict_fixed.data;
    if (w == 4) {
      for (int64_t i = 0; i < n; i++) memcpy(dst + 4 * i, src + 4 * (size_t)idx[i], 4);
    } else if (w == 8) {
      for (int64_t i = 0; i < n; i++) memcpy(dst + 8 * i, src + 8 * (size_t)idx[i], 8);
    } else {
      for (int64_t i = 0; i < n; i++) memcpy(dst + w * (size_t)i, src + w * idx[i], w);
    }
    d->fixed.size += n * c->pw;
    return 0;
  }
  const int64_t* doff = (const int64_t*)d->dict_bin.offsets.data;
  int64_t bytes = 0;
  for (int64_t i = 0; i < n; i++) bytes += doff[idx[i] + 1] - doff[idx[i]];
  OTAP_RETURN_NOT_OK(check_budget(c, bytes + 8 * n));
  if (d->bin.offsets.size == 0) {
    int64_t z = 0;
    if (otap_buffer_append(&d->bin.offsets, &z, 8)) return otap_error_set(c->err, ENOMEM, "out of memory");
  }
  if (otap_buffer_reserve(&d->bin.offsets, 8 * n) || otap_buffer_reserve(&d->bin.data, bytes))
    return otap_error_set(c->err, ENOMEM, "out of memory");
  int64_t* offs = (int64_t*)(d->bin.offsets.data + d->bin.offsets.size);
  int64_t cur = d->bin.data.size;
  uint8_t* dst = d->bin.data.data;
  const uint8_t* src = d->dict_bin.data.data;
  for (int64_t i = 0; i < n; i++) {
    int64_t s = doff[idx[i]], l = doff[idx[i] + 1] - s;
    memcpy(dst + cur, src + s, (size_t)l);
    cur += l;
    offs[i] = cur;
  }
  d->bin.offsets.size += 8 * n;
  d->bin.data.size = cur;
  return 0;
}

/// Leaves dictionary mode: materializes the indices collected so far.
static int materialize_dict(struct chunk_ctx* c) {
  struct pq_leaf_data* d = c->out;
  if (!d->dict_mode) return 0;
  d->dict_mode = false;
  int64_t n = d->indices.size / 4;
  int rc = append_fixed_from_dict(c, (const uint32_t*)d->indices.data, n);
  d->indices.size = 0;
  return rc;
}

static int decode_dict_indices(struct chunk_ctx* c, const uint8_t* p, size_t n, int64_t nn) {
  struct pq_leaf_data* d = c->out;
  if (!c->has_dict) return otap_error_set(c->err, EINVAL, "dictionary-encoded page without a dictionary page");
  if (nn == 0) return 0;
  if (n < 1) return otap_error_set(c->err, EINVAL, "dictionary indices missing");
  int bw = p[0];
  if (bw > 32) return otap_error_set(c->err, EINVAL, "dictionary index bit width %d", bw);
  OTAP_RETURN_NOT_OK(check_budget(c, nn * 4));
  size_t base = (size_t)d->indices.size;
  if (otap_buffer_reserve(&d->indices, nn * 4)) return otap_error_set(c->err, ENOMEM, "out of memory");
  uint32_t* idx = (uint32_t*)(d->indices.data + base);
  struct pq_rle rle;
  otap__pq_rle_init(&rle, p + 1, n - 1, bw);
  OTAP_RETURN_NOT_OK(otap__pq_rle_get(&rle, idx, nn, c->err));
  uint32_t lim = (uint32_t)d->dict_len, bad = 0;
  for (int64_t i = 0; i < nn; i++) bad |= idx[i] >= lim;
  if (bad) return otap_error_set(c->err, EINVAL, "dictionary index out of range (dictionary has %lld values)", (long long)d->dict_len);
  if (d->dict_mode) {
    d->indices.size += nn * 4;
    return 0;
  }
  return append_fixed_from_dict(c, idx, nn);
}

static int append_binary_as_fixed(struct chunk_ctx* c, struct pq_binary* b, int64_t nn) {
  const int64_t* off = (const int64_t*)b->offsets.data;
  for (int64_t i = 0; i < nn; i++)
    if (off[i + 1] - off[i] != c->pw) return otap_error_set(c->err, EINVAL, "FIXED_LEN_BYTE_ARRAY value %lld has %lld bytes, expected %d", (long long)i, (long long)(off[i + 1] - off[i]), c->pw);
  if (otap_buffer_append(&c->out->fixed, b->data.data, nn * c->pw)) return otap_error_set(c->err, ENOMEM, "out of memory");
  return 0;
}

static int decode_values(struct chunk_ctx* c, int32_t enc, const uint8_t* p, size_t n, int64_t nn) {
  struct pq_leaf_data* d = c->out;
  int32_t type = c->desc->elem->type;
  if (enc == OTAP_PARQUET_ENC_PLAIN_DICTIONARY || enc == OTAP_PARQUET_ENC_RLE_DICTIONARY)
    return decode_dict_indices(c, p, n, nn);
  OTAP_RETURN_NOT_OK(materialize_dict(c));
  if (nn == 0) return 0;
  int64_t width = c->pw;
  switch (enc) {
    case OTAP_PARQUET_ENC_PLAIN:
      if (type == OTAP_PARQUET_BYTE_ARRAY) {
        size_t used;
        OTAP_RETURN_NOT_OK(check_budget(c, (int64_t)n + 8 * nn));
        return otap__pq_plain_binary_decode(p, n, nn, &d->bin, &used, c->err);
      }
      OTAP_RETURN_NOT_OK(check_budget(c, nn * width));
      if (otap_buffer_reserve(&d->fixed, nn * width)) return otap_error_set(c->err, ENOMEM, "out of memory");
      if (type == OTAP_PARQUET_BOOLEAN) {
        OTAP_RETURN_NOT_OK(otap__pq_plain_bool_decode(p, n, nn, d->fixed.data + d->fixed.size, c->err));
      } else {
        if ((uint64_t)nn * (uint64_t)width > n)
          return otap_error_set(c->err, EINVAL, "PLAIN page holds %zu bytes, %lld values of %lld bytes expected", n, (long long)nn, (long long)width);
        memcpy(d->fixed.data + d->fixed.size, p, (size_t)(nn * width));
      }
      d->fixed.size += nn * width;
      return 0;
    case OTAP_PARQUET_ENC_RLE: {
      if (type != OTAP_PARQUET_BOOLEAN) return otap_error_set(c->err, ENOTSUP, "RLE encoding for non-boolean values");
      if (n < 4) return otap_error_set(c->err, EINVAL, "RLE boolean length prefix truncated");
      uint32_t len = otap_load_u32le(p);
      if (len > n - 4) return otap_error_set(c->err, EINVAL, "RLE boolean data exceeds the page");
      OTAP_RETURN_NOT_OK(check_budget(c, nn * 5));
      uint32_t* tmp = otap_malloc((size_t)nn * 4);
      if (!tmp || otap_buffer_reserve(&d->fixed, nn)) {
        otap_free(tmp);
        return otap_error_set(c->err, ENOMEM, "out of memory");
      }
      struct pq_rle rle;
      otap__pq_rle_init(&rle, p + 4, len, 1);
      int rc = otap__pq_rle_get(&rle, tmp, nn, c->err);
      if (rc == 0) {
        for (int64_t i = 0; i < nn; i++) d->fixed.data[d->fixed.size + i] = (uint8_t)tmp[i];
        d->fixed.size += nn;
      }
      otap_free(tmp);
      return rc;
    }
    case OTAP_PARQUET_ENC_DELTA_BINARY_PACKED: {
      if (type != OTAP_PARQUET_INT32 && type != OTAP_PARQUET_INT64)
        return otap_error_set(c->err, EINVAL, "DELTA_BINARY_PACKED on a non-integer column");
      OTAP_RETURN_NOT_OK(check_budget(c, nn * 8));
      if (otap_buffer_reserve(&d->fixed, nn * 8)) return otap_error_set(c->err, ENOMEM, "out of memory");
      int64_t* dst = (int64_t*)(d->fixed.data + d->fixed.size);
      size_t used;
      OTAP_RETURN_NOT_OK(otap__pq_delta_binary_decode(p, n, dst, nn, type == OTAP_PARQUET_INT32, &used, c->err));
      if (type == OTAP_PARQUET_INT32) {
        int32_t* d32 = (int32_t*)dst;
        for (int64_t i = 0; i < nn; i++) d32[i] = (int32_t)dst[i];
        d->fixed.size += nn * 4;
      } else {
        d->fixed.size += nn * 8;
      }
      return 0;
    }
    case OTAP_PARQUET_ENC_DELTA_LENGTH_BYTE_ARRAY:
    case OTAP_PARQUET_ENC_DELTA_BYTE_ARRAY: {
      if (type != OTAP_PARQUET_BYTE_ARRAY && type != OTAP_PARQUET_FIXED_LEN_BYTE_ARRAY)
        return otap_error_set(c->err, EINVAL, "%s on a column that is not a byte array", otap_parquet_encoding_name(enc));
      OTAP_RETURN_NOT_OK(check_budget(c, (int64_t)n + 8 * nn));
      if (type == OTAP_PARQUET_BYTE_ARRAY) {
        return enc == OTAP_PARQUET_ENC_DELTA_BYTE_ARRAY
                   ? otap__pq_delta_byte_array_decode(p, n, nn, &d->bin, c->err)
                   : otap__pq_delta_length_decode(p, n, nn, &d->bin, c->err);
      }
      struct pq_binary tmp;
      memset(&tmp, 0, sizeof(tmp));
      int rc = enc == OTAP_PARQUET_ENC_DELTA_BYTE_ARRAY
                   ? otap__pq_delta_byte_array_decode(p, n, nn, &tmp, c->err)
                   : otap__pq_delta_length_decode(p, n, nn, &tmp, c->err);
      if (rc == 0) rc = append_binary_as_fixed(c, &tmp, nn);
      otap_buffer_reset(&tmp.offsets);
      otap_buffer_reset(&tmp.data);
      return rc;
    }
    case OTAP_PARQUET_ENC_BYTE_STREAM_SPLIT:
      if (type == OTAP_PARQUET_BOOLEAN || type == OTAP_PARQUET_BYTE_ARRAY || type == OTAP_PARQUET_INT96)
        return otap_error_set(c->err, EINVAL, "BYTE_STREAM_SPLIT on an unsupported type");
      OTAP_RETURN_NOT_OK(check_budget(c, nn * width));
      if (otap_buffer_reserve(&d->fixed, nn * width)) return otap_error_set(c->err, ENOMEM, "out of memory");
      OTAP_RETURN_NOT_OK(otap__pq_byte_stream_split_decode(p, n, (int)width, nn, d->fixed.data + d->fixed.size, c->err));
      d->fixed.size += nn * width;
      return 0;
    default:
      return otap_error_set(c->err, ENOTSUP, "encoding %s (%d) is not supported for data pages",
                            otap_parquet_encoding_name(enc), (int)enc);
  }
}

static int decode_dictionary_page(struct chunk_ctx* c, const struct pq_page_header* h,
                                  const uint8_t* p, size_t n) {
  struct pq_leaf_data* d = c->out;
  if (c->has_dict) return otap_error_set(c->err, EINVAL, "second dictionary page in a column chunk");
  if (h->encoding != OTAP_PARQUET_ENC_PLAIN && h->encoding != OTAP_PARQUET_ENC_PLAIN_DICTIONARY)
    return otap_error_set(c->err, ENOTSUP, "dictionary page encoding %d", h->encoding);
  int64_t nv = h->num_values;
  if (c->desc->elem->type == OTAP_PARQUET_BYTE_ARRAY) {
    size_t used;
    if ((uint64_t)nv > n / 4) return otap_error_set(c->err, EINVAL, "dictionary page: %lld values cannot fit in %zu bytes", (long long)nv, n);
    OTAP_RETURN_NOT_OK(otap__pq_plain_binary_decode(p, n, nv, &d->dict_bin, &used, c->err));
    if (nv == 0 && d->dict_bin.offsets.size == 0) {
      int64_t z = 0;
      if (otap_buffer_append(&d->dict_bin.offsets, &z, 8)) return otap_error_set(c->err, ENOMEM, "out of memory");
    }
  } else if (c->desc->elem->type == OTAP_PARQUET_BOOLEAN) {
    if (otap_buffer_resize(&d->dict_fixed, nv, false)) return otap_error_set(c->err, ENOMEM, "out of memory");
    OTAP_RETURN_NOT_OK(otap__pq_plain_bool_decode(p, n, nv, d->dict_fixed.data, c->err));
  } else {
    if ((uint64_t)nv * (uint64_t)c->pw > n) return otap_error_set(c->err, EINVAL, "dictionary page truncated");
    if (otap_buffer_append(&d->dict_fixed, p, nv * c->pw)) return otap_error_set(c->err, ENOMEM, "out of memory");
  }
  d->dict_len = nv;
  c->has_dict = true;
  if (c->node && c->node->as_dictionary && d->indices.size == 0 && d->fixed.size == 0 &&
      d->bin.data.size == 0 && d->bin.offsets.size <= 8)
    d->dict_mode = true;
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Levels

static int64_t non_null(const int16_t* def, int64_t n, int16_t max_def) {
  if (!def || max_def == 0) return n;
  int64_t k = 0;
  for (int64_t i = 0; i < n; i++) k += def[i] == max_def;
  return k;
}

static int decode_levels_v1(struct chunk_ctx* c, int32_t enc, const uint8_t** p, size_t* n,
                            int16_t max_level, int64_t count, int16_t* out) {
  if (max_level == 0) return 0;
  int bw = level_bits(max_level);
  if (enc == OTAP_PARQUET_ENC_RLE) {
    if (*n < 4) return otap_error_set(c->err, EINVAL, "level length prefix truncated");
    uint32_t len = otap_load_u32le(*p);
    if (len > *n - 4) return otap_error_set(c->err, EINVAL, "levels (%u bytes) exceed the page", len);
    struct pq_rle rle;
    otap__pq_rle_init(&rle, *p + 4, len, bw);
    OTAP_RETURN_NOT_OK(otap__pq_rle_get_levels(&rle, out, count, max_level, c->err));
    *p += 4 + len;
    *n -= 4 + len;
    return 0;
  }
  if (enc == OTAP_PARQUET_ENC_BIT_PACKED) {
    size_t used;
    OTAP_RETURN_NOT_OK(otap__pq_bitpacked_levels(*p, *n, bw, out, count, max_level, &used, c->err));
    *p += used;
    *n -= used;
    return 0;
  }
  return otap_error_set(c->err, ENOTSUP, "level encoding %d is not supported", enc);
}

static int reserve_levels(struct chunk_ctx* c, int64_t count, int16_t** def, int16_t** rep) {
  struct pq_leaf_data* d = c->out;
  *def = *rep = NULL;
  int64_t bytes = count * 2 * ((c->desc->max_def > 0) + (c->desc->max_rep > 0));
  OTAP_RETURN_NOT_OK(check_budget(c, bytes));
  if (c->desc->max_def > 0) {
    if (otap_buffer_reserve(&d->def_buf, count * 2)) return otap_error_set(c->err, ENOMEM, "out of memory");
    *def = (int16_t*)(d->def_buf.data + d->def_buf.size);
  }
  if (c->desc->max_rep > 0) {
    if (otap_buffer_reserve(&d->rep_buf, count * 2)) return otap_error_set(c->err, ENOMEM, "out of memory");
    *rep = (int16_t*)(d->rep_buf.data + d->rep_buf.size);
  }
  return 0;
}

static void commit_levels(struct chunk_ctx* c, int64_t count) {
  if (c->desc->max_def > 0) c->out->def_buf.size += count * 2;
  if (c->desc->max_rep > 0) c->out->rep_buf.size += count * 2;
  c->out->n_levels += count;
}

// ---------------------------------------------------------------------------------------------
// Pages

static int get_page_data(struct chunk_ctx* c, const uint8_t* src, size_t src_len, size_t dst_len,
                         const uint8_t** out) {
  if (c->cc->codec == OTAP_PARQUET_CODEC_UNCOMPRESSED) {
    if (src_len != dst_len)
      return otap_error_set(c->err, EINVAL, "uncompressed page: compressed size %zu differs from uncompressed size %zu", src_len, dst_len);
    *out = src;
    return 0;
  }
  if ((int64_t)dst_len > c->r->opts.max_page_size)
    return otap_error_set(c->err, ENOTSUP, "page decompresses to %zu bytes, above max_page_size", dst_len);
  if (dst_len == 0) {
    *out = src;
    return 0;
  }
  if (otap_buffer_resize(&c->r->scratch, (int64_t)dst_len, false)) return otap_error_set(c->err, ENOMEM, "out of memory for a %zu byte page", dst_len);
  OTAP_RETURN_NOT_OK(otap__pq_decompress(c->cc->codec, src, src_len, c->r->scratch.data, dst_len, c->err));
  *out = c->r->scratch.data;
  return 0;
}

static int data_page(struct chunk_ctx* c, const struct pq_page_header* h, const uint8_t* body,
                     size_t body_len) {
  int64_t count = h->num_values;
  int16_t *def, *rep;
  OTAP_RETURN_NOT_OK(reserve_levels(c, count, &def, &rep));
  const uint8_t* p;
  size_t n;
  if (h->has_data_v1) {
    OTAP_RETURN_NOT_OK(get_page_data(c, body, body_len, (size_t)h->uncompressed_page_size, &p));
    n = (size_t)h->uncompressed_page_size;
    OTAP_RETURN_NOT_OK(decode_levels_v1(c, h->rep_encoding, &p, &n, c->desc->max_rep, count, rep));
    OTAP_RETURN_NOT_OK(decode_levels_v1(c, h->def_encoding, &p, &n, c->desc->max_def, count, def));
  } else {
    size_t lv = (size_t)h->rep_length + (size_t)h->def_length;
    if (lv > body_len || lv > (size_t)h->uncompressed_page_size)
      return otap_error_set(c->err, EINVAL, "v2 page levels (%zu bytes) exceed the page", lv);
    if (c->desc->max_rep > 0) {
      struct pq_rle rle;
      otap__pq_rle_init(&rle, body, (size_t)h->rep_length, level_bits(c->desc->max_rep));
      OTAP_RETURN_NOT_OK(otap__pq_rle_get_levels(&rle, rep, count, c->desc->max_rep, c->err));
    }
    if (c->desc->max_def > 0) {
      struct pq_rle rle;
      otap__pq_rle_init(&rle, body + h->rep_length, (size_t)h->def_length, level_bits(c->desc->max_def));
      OTAP_RETURN_NOT_OK(otap__pq_rle_get_levels(&rle, def, count, c->desc->max_def, c->err));
    }
    const uint8_t* vsrc = body + lv;
    size_t vlen = body_len - lv, ulen = (size_t)h->uncompressed_page_size - lv;
    if (!h->is_compressed || c->cc->codec == OTAP_PARQUET_CODEC_UNCOMPRESSED) {
      if (vlen != ulen) return otap_error_set(c->err, EINVAL, "uncompressed v2 page: sizes differ");
      p = vsrc;
    } else if (vlen == 0 && ulen == 0) {
      p = vsrc;
    } else {
      OTAP_RETURN_NOT_OK(get_page_data(c, vsrc, vlen, ulen, &p));
    }
    n = ulen;
  }
  if (rep && count > 0 && c->out->n_levels == 0 && rep[0] != 0)
    return otap_error_set(c->err, EINVAL, "first repetition level is %d, must be 0", rep[0]);
  int64_t nn = non_null(def, count, c->desc->max_def);
  if (h->has_data_v2 && h->num_nulls != count - nn && c->desc->max_rep == 0)
    return otap_error_set(c->err, EINVAL, "v2 page says %d nulls, levels say %lld", h->num_nulls, (long long)(count - nn));
  OTAP_RETURN_NOT_OK(decode_values(c, h->encoding, p, n, nn));
  c->out->n_values += nn;
  commit_levels(c, count);
  return 0;
}

int otap__pq_read_chunk(struct otap_parquet_reader* r, int32_t rg, int32_t col,
                        const struct pq_node* leaf_node, struct pq_leaf_data* out,
                        struct otap_error* err) {
  const struct otap_parquet_row_group* g = &r->meta.row_groups[rg];
  const struct otap_parquet_column_chunk* cc = &g->columns[col];
  const struct pq_column_desc* desc = &r->leaves[col];
  struct chunk_ctx c = {r, cc, desc, leaf_node, out, rg, col, 0, false, 0, err};
  memset(out, 0, sizeof(*out));
  if (cc->encrypted)
    return otap_error_set(err, ENOTSUP, "%s: column %s is encrypted (Parquet modular encryption is not supported)", r->name, desc->path);
  if (!cc->has_meta_data)
    return otap_error_set(err, EINVAL, "%s: row group %d column %s has no ColumnMetaData", r->name, rg, desc->path);
  switch (desc->elem->type) {
    case OTAP_PARQUET_BOOLEAN: c.pw = 1; break;
    case OTAP_PARQUET_INT32: case OTAP_PARQUET_FLOAT: c.pw = 4; break;
    case OTAP_PARQUET_INT64: case OTAP_PARQUET_DOUBLE: c.pw = 8; break;
    case OTAP_PARQUET_INT96: c.pw = 12; break;
    case OTAP_PARQUET_FIXED_LEN_BYTE_ARRAY: c.pw = desc->elem->type_length; break;
    default: c.pw = 0;
  }
  if (cc->num_values == 0) {
    if (g->num_rows != 0)
      return otap_error_set(err, EINVAL, "%s: row group %d column %s: no values for %lld rows", r->name, rg, desc->path, (long long)g->num_rows);
    return 0;
  }
  int64_t start = cc->data_page_offset;
  if (cc->has_dictionary_page_offset && cc->dictionary_page_offset > 0 && cc->dictionary_page_offset < start)
    start = cc->dictionary_page_offset;
  int64_t len = cc->total_compressed_size;
  uint64_t limit = r->file_size - 8 - (uint64_t)r->meta.footer_length;
  if (start < 4 || len < 0 || (uint64_t)start > limit || (uint64_t)len > limit - (uint64_t)start)
    return otap_error_set(err, EINVAL, "%s: row group %d column %s: chunk [%lld, +%lld) lies outside the data area", r->name, rg, desc->path, (long long)start, (long long)len);
  if (len > r->opts.max_chunk_size)
    return otap_error_set(err, ENOTSUP, "%s: column %s chunk of %lld bytes exceeds max_chunk_size", r->name, desc->path, (long long)len);
  const uint8_t* data = NULL;
  int rc = 0;
  if (r->source->view_at) {
    OTAP_RETURN_NOT_OK(r->source->view_at(r->source, (uint64_t)start, (size_t)len, &data, err));
  } else {
    if (otap_buffer_resize(&r->chunk, len, false)) return otap_error_set(err, ENOMEM, "out of memory for a %lld byte column chunk", (long long)len);
    OTAP_RETURN_NOT_OK(r->source->read_at(r->source, (uint64_t)start, r->chunk.data, (size_t)len, err));
    data = r->chunk.data;
  }
  int64_t pos = 0;
  int64_t want = cc->num_values;
  // Pre-size the level and value buffers from the footer (bounded by the chunk's own size
  // and the decode budget) so pages append without reallocation.
  if (want > 0 && want <= (int64_t)INT32_MAX) {
    int64_t lv = want * 2;
    int64_t vals = c.pw ? want * (c.pw == 12 ? 12 : c.pw) : 0;
    int64_t cap = r->opts.max_chunk_size / 4;
    if (desc->max_def > 0 && lv <= cap && otap_buffer_reserve(&out->def_buf, lv)) goto oom;
    if (desc->max_rep > 0 && lv <= cap && otap_buffer_reserve(&out->rep_buf, lv)) goto oom;
    if (vals > 0 && vals <= cap && otap_buffer_reserve(&out->fixed, vals)) goto oom;
    if (!c.pw && want * 8 <= cap && otap_buffer_reserve(&out->bin.offsets, want * 8 + 8)) goto oom;
    if (!c.pw && cc->total_uncompressed_size > 0 && cc->total_uncompressed_size <= cap &&
        otap_buffer_reserve(&out->bin.data, cc->total_uncompressed_size)) goto oom;
  }
  while (pos < len && out->n_levels < want) {
    c.page_offset = start + pos;
    struct pq_page_header h;
    size_t hl;
    size_t avail = (size_t)(len - pos);
    if (avail > (size_t)PQ_MAX_PAGE_HEADER_SIZE) avail = (size_t)PQ_MAX_PAGE_HEADER_SIZE;
    OTAP_GOTO_NOT_OK(rc, otap__pq_decode_page_header(data + pos, avail, start + pos, &h, &hl, err));
    pos += (int64_t)hl;
    if ((int64_t)h.compressed_page_size > len - pos) {
      rc = otap_error_set(err, EINVAL, "page of %d bytes exceeds the column chunk", h.compressed_page_size);
      goto done;
    }
    const uint8_t* body = data + pos;
    size_t body_len = (size_t)h.compressed_page_size;
    pos += h.compressed_page_size;
    if (r->opts.verify_page_crc && h.has_crc) {
      uint32_t crc = otap__pq_crc32(body, body_len);
      if (crc != h.crc) {
        rc = otap_error_set(err, EIO, "page CRC mismatch (stored 0x%08x, computed 0x%08x)", h.crc, crc);
        goto done;
      }
    }
    if (h.type == OTAP_PARQUET_PAGE_DICTIONARY) {
      if (!h.has_dict) {
        rc = otap_error_set(err, EINVAL, "dictionary page without DictionaryPageHeader");
        goto done;
      }
      const uint8_t* p;
      OTAP_GOTO_NOT_OK(rc, get_page_data(&c, body, body_len, (size_t)h.uncompressed_page_size, &p));
      OTAP_GOTO_NOT_OK(rc, decode_dictionary_page(&c, &h, p, (size_t)h.uncompressed_page_size));
    } else if (h.type == OTAP_PARQUET_PAGE_DATA || h.type == OTAP_PARQUET_PAGE_DATA_V2) {
      if ((h.type == OTAP_PARQUET_PAGE_DATA && !h.has_data_v1) || (h.type == OTAP_PARQUET_PAGE_DATA_V2 && !h.has_data_v2)) {
        rc = otap_error_set(err, EINVAL, "data page without its header struct");
        goto done;
      }
      if (h.num_values > want - out->n_levels) {
        rc = otap_error_set(err, EINVAL, "page has %d values, more than the %lld left in the chunk", h.num_values, (long long)(want - out->n_levels));
        goto done;
      }
      OTAP_GOTO_NOT_OK(rc, data_page(&c, &h, body, body_len));
    }
    // INDEX_PAGE and unknown page types are skipped.
  }
  if (out->n_levels != want) {
    rc = otap_error_set(err, EINVAL, "column chunk holds %lld values, ColumnMetaData says %lld", (long long)out->n_levels, (long long)want);
    goto done;
  }
  // Rows: one per entry with repetition level 0.
  int64_t rows = out->n_levels;
  if (desc->max_rep > 0) {
    const int16_t* rep = (const int16_t*)out->rep_buf.data;
    rows = 0;
    for (int64_t i = 0; i < out->n_levels; i++) rows += rep[i] == 0;
  }
  if (rows != g->num_rows) {
    rc = otap_error_set(err, EINVAL, "column chunk holds %lld rows, the row group has %lld", (long long)rows, (long long)g->num_rows);
    goto done;
  }
  out->def = desc->max_def > 0 ? (int16_t*)out->def_buf.data : NULL;
  out->rep = desc->max_rep > 0 ? (int16_t*)out->rep_buf.data : NULL;
  return 0;
oom:
  rc = otap_error_set(err, ENOMEM, "out of memory for column %s", desc->path);
done:
  otap__pq_leaf_data_reset(out);
  if (rc != ENOMEM) ctx_fail(&c, rc);
  return rc;
}
