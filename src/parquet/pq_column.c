// Column chunk decoding: page headers, CRC, decompression, levels and values of one leaf
// column of one row group into a pq_leaf_data (dense non-null values + levels).
#include <stdio.h>
#include <sys/mman.h>

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


static int level_bits(int max_level) {
  int b = 0;
  while ((1 << b) <= max_level) b++;
  return b;
}

static int ctx_fail(struct pq_chunk* c, int rc) {
  return otap_error_prefix(c->err, rc, "%s: row group %d, column %s, page at byte offset %lld: ",
                           c->r->name, c->rg, c->desc->path, (long long)c->page_offset);
}

static int check_budget(struct pq_chunk* c, int64_t more) {
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

static int append_fixed_from_dict(struct pq_chunk* c, const uint32_t* idx, int64_t n) {
  struct pq_leaf_data* d = c->out;
  if (n == 0) return 0;
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
    if (l) memcpy(dst + cur, src + s, (size_t)l);
    cur += l;
    offs[i] = cur;
  }
  d->bin.offsets.size += 8 * n;
  d->bin.data.size = cur;
  return 0;
}

/// Leaves dictionary mode: materializes the indices collected so far.
static int materialize_dict(struct pq_chunk* c) {
  struct pq_leaf_data* d = c->out;
  if (!d->dict_mode) return 0;
  d->dict_mode = false;
  int64_t n = d->indices.size / 4;
  int rc = append_fixed_from_dict(c, (const uint32_t*)d->indices.data, n);
  d->indices.size = 0;
  return rc;
}

static int decode_dict_indices(struct pq_chunk* c, const uint8_t* p, size_t n, int64_t nn) {
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

static int append_binary_as_fixed(struct pq_chunk* c, struct pq_binary* b, int64_t nn) {
  const int64_t* off = (const int64_t*)b->offsets.data;
  for (int64_t i = 0; i < nn; i++)
    if (off[i + 1] - off[i] != c->pw) return otap_error_set(c->err, EINVAL, "FIXED_LEN_BYTE_ARRAY value %lld has %lld bytes, expected %d", (long long)i, (long long)(off[i + 1] - off[i]), c->pw);
  if (otap_buffer_append(&c->out->fixed, b->data.data, nn * c->pw)) return otap_error_set(c->err, ENOMEM, "out of memory");
  return 0;
}

static int decode_values(struct pq_chunk* c, int32_t enc, const uint8_t* p, size_t n, int64_t nn) {
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

static int decode_dictionary_page(struct pq_chunk* c, const struct pq_page_header* h,
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
    if (otap_buffer_reserve(&d->dict_bin.data, 16)) return otap_error_set(c->err, ENOMEM, "out of memory");
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
  // Indices are kept (not materialized) while every data page is dictionary-encoded: the
  // assembler gathers values straight into the output, or emits a dictionary array.
  if (c->levels_total == 0) d->dict_mode = true;
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Levels

static int decode_levels_v1(struct pq_chunk* c, int32_t enc, const uint8_t** p, size_t* n,
                            int16_t max_level, int64_t count, int16_t* out, int64_t* n_max) {
  *n_max = count;
  if (max_level == 0) return 0;
  int bw = level_bits(max_level);
  if (enc == OTAP_PARQUET_ENC_RLE) {
    if (*n < 4) return otap_error_set(c->err, EINVAL, "level length prefix truncated");
    uint32_t len = otap_load_u32le(*p);
    if (len > *n - 4) return otap_error_set(c->err, EINVAL, "levels (%u bytes) exceed the page", len);
    struct pq_rle rle;
    otap__pq_rle_init(&rle, *p + 4, len, bw);
    OTAP_RETURN_NOT_OK(otap__pq_rle_get_levels(&rle, out, count, max_level, n_max, c->err));
    *p += 4 + len;
    *n -= 4 + len;
    return 0;
  }
  if (enc == OTAP_PARQUET_ENC_BIT_PACKED) {
    size_t used;
    OTAP_RETURN_NOT_OK(otap__pq_bitpacked_levels(*p, *n, bw, out, count, max_level, &used, c->err));
    *n_max = 0;
    for (int64_t i = 0; i < count; i++) *n_max += out[i] == max_level;
    *p += used;
    *n -= used;
    return 0;
  }
  return otap_error_set(c->err, ENOTSUP, "level encoding %d is not supported", enc);
}

static int reserve_levels(struct pq_chunk* c, int64_t count, int16_t** def, int16_t** rep) {
  struct pq_leaf_data* d = c->out;
  *def = *rep = NULL;
  int64_t bytes = count * 2 * ((c->desc->max_def > 0) + (c->desc->max_rep > 0));
  OTAP_RETURN_NOT_OK(check_budget(c, bytes));
  if (c->desc->max_def > 0) {
    if (otap_buffer_reserve(&d->def_buf, count * 2 + 2)) return otap_error_set(c->err, ENOMEM, "out of memory");
    *def = (int16_t*)(d->def_buf.data + d->def_buf.size);
  }
  if (c->desc->max_rep > 0) {
    if (otap_buffer_reserve(&d->rep_buf, count * 2 + 2)) return otap_error_set(c->err, ENOMEM, "out of memory");
    *rep = (int16_t*)(d->rep_buf.data + d->rep_buf.size);
  }
  return 0;
}

static void commit_levels(struct pq_chunk* c, int64_t count) {
  if (c->desc->max_def > 0) c->out->def_buf.size += count * 2;
  if (c->desc->max_rep > 0) c->out->rep_buf.size += count * 2;
  c->out->n_levels += count;
}

// ---------------------------------------------------------------------------------------------
// Pages

static int get_page_data(struct pq_chunk* c, const uint8_t* src, size_t src_len, size_t dst_len,
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

static int data_page(struct pq_chunk* c, const struct pq_page_header* h, const uint8_t* body,
                     size_t body_len) {
  int64_t count = h->num_values;
  int64_t nn = count;  // non-null values (levels at max_def)
  int16_t *def, *rep;
  OTAP_RETURN_NOT_OK(reserve_levels(c, count, &def, &rep));
  const uint8_t* p;
  size_t n;
  if (h->has_data_v1) {
    OTAP_RETURN_NOT_OK(get_page_data(c, body, body_len, (size_t)h->uncompressed_page_size, &p));
    n = (size_t)h->uncompressed_page_size;
    int64_t unused;
    OTAP_RETURN_NOT_OK(decode_levels_v1(c, h->rep_encoding, &p, &n, c->desc->max_rep, count, rep, &unused));
    OTAP_RETURN_NOT_OK(decode_levels_v1(c, h->def_encoding, &p, &n, c->desc->max_def, count, def, &nn));
  } else {
    size_t lv = (size_t)h->rep_length + (size_t)h->def_length;
    if (lv > body_len || lv > (size_t)h->uncompressed_page_size)
      return otap_error_set(c->err, EINVAL, "v2 page levels (%zu bytes) exceed the page", lv);
    if (c->desc->max_rep > 0) {
      struct pq_rle rle;
      otap__pq_rle_init(&rle, body, (size_t)h->rep_length, level_bits(c->desc->max_rep));
      OTAP_RETURN_NOT_OK(otap__pq_rle_get_levels(&rle, rep, count, c->desc->max_rep, NULL, c->err));
    }
    if (c->desc->max_def > 0) {
      struct pq_rle rle;
      otap__pq_rle_init(&rle, body + h->rep_length, (size_t)h->def_length, level_bits(c->desc->max_def));
      OTAP_RETURN_NOT_OK(otap__pq_rle_get_levels(&rle, def, count, c->desc->max_def, &nn, c->err));
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
  if (rep && count > 0 && c->levels_total == 0 && rep[0] != 0)
    return otap_error_set(c->err, EINVAL, "first repetition level is %d, must be 0", rep[0]);
  if (h->has_data_v2 && h->num_nulls != count - nn && c->desc->max_rep == 0)
    return otap_error_set(c->err, EINVAL, "v2 page says %d nulls, levels say %lld", h->num_nulls, (long long)(count - nn));
  OTAP_RETURN_NOT_OK(decode_values(c, h->encoding, p, n, nn));
  c->out->n_values += nn;
  int64_t starts = count;
  if (rep) {
    starts = 0;
    for (int64_t i = 0; i < count; i++) starts += rep[i] == 0;
  }
  commit_levels(c, count);
  c->levels_total += count;
  c->rows_total += starts;
  c->row_starts += starts;
  return 0;
}

int otap__pq_chunk_open(struct otap_parquet_reader* r, int32_t rg, int32_t col,
                        const struct pq_node* leaf_node, struct pq_chunk* c, struct otap_error* err) {
  const struct otap_parquet_row_group* g = &r->meta.row_groups[rg];
  const struct otap_parquet_column_chunk* cc = &g->columns[col];
  const struct pq_column_desc* desc = &r->leaves[col];
  memset(c, 0, sizeof(*c));
  c->out = &c->d;
  c->r = r;
  c->cc = cc;
  c->desc = desc;
  c->node = leaf_node;
  c->rg = rg;
  c->col = col;
  if (cc->encrypted)
    return otap_error_set(err, ENOTSUP, "%s: column %s is encrypted (Parquet modular encryption is not supported)", r->name, desc->path);
  if (!cc->has_meta_data)
    return otap_error_set(err, EINVAL, "%s: row group %d column %s has no ColumnMetaData", r->name, rg, desc->path);
  if (cc->file_path && cc->file_path[0])
    return otap_error_set(err, ENOTSUP, "%s: row group %d column %s: data stored in another file (%s) is not supported",
                          r->name, rg, desc->path, cc->file_path);
  switch (desc->elem->type) {
    case OTAP_PARQUET_BOOLEAN: c->pw = 1; break;
    case OTAP_PARQUET_INT32: case OTAP_PARQUET_FLOAT: c->pw = 4; break;
    case OTAP_PARQUET_INT64: case OTAP_PARQUET_DOUBLE: c->pw = 8; break;
    case OTAP_PARQUET_INT96: c->pw = 12; break;
    case OTAP_PARQUET_FIXED_LEN_BYTE_ARRAY: c->pw = desc->elem->type_length; break;
    default: c->pw = 0;
  }
  if (cc->num_values < 0)
    return otap_error_set(err, EINVAL, "%s: row group %d column %s: negative num_values", r->name, rg, desc->path);
  c->open = true;
  if (cc->num_values == 0) return 0;
  int64_t start = cc->data_page_offset;
  if (cc->has_dictionary_page_offset && cc->dictionary_page_offset > 0 && cc->dictionary_page_offset < start)
    start = cc->dictionary_page_offset;
  int64_t len = cc->total_compressed_size;
  uint64_t limit = r->file_size - 8 - (uint64_t)r->meta.footer_length;
  if (start < 4 || len < 0 || (uint64_t)start > limit || (uint64_t)len > limit - (uint64_t)start)
    return otap_error_set(err, EINVAL, "%s: row group %d column %s: chunk [%lld, +%lld) lies outside the data area", r->name, rg, desc->path, (long long)start, (long long)len);
  if (len > r->opts.max_chunk_size)
    return otap_error_set(err, ENOTSUP, "%s: column %s chunk of %lld bytes exceeds max_chunk_size", r->name, desc->path, (long long)len);
  if (r->source->view_at) {
    OTAP_RETURN_NOT_OK(r->source->view_at(r->source, (uint64_t)start, (size_t)len, &c->data, err));
#if defined(MADV_POPULATE_READ)
    // Mapped sources: map the whole chunk in one call instead of one fault per 4 KiB page
    // (a hint: failures, e.g. on memory sources or old kernels, are ignored).
    if (len >= (1 << 16)) {
      uintptr_t a = (uintptr_t)c->data & ~(uintptr_t)4095;
      (void)madvise((void*)a, (size_t)((uintptr_t)c->data + (uintptr_t)len - a), MADV_POPULATE_READ);
    }
#endif
  } else {
    if (otap_buffer_resize(&c->own, len, false)) return otap_error_set(err, ENOMEM, "out of memory for a %lld byte column chunk", (long long)len);
    OTAP_RETURN_NOT_OK(r->source->read_at(r->source, (uint64_t)start, c->own.data, (size_t)len, err));
    c->data = c->own.data;
  }
  c->start = start;
  c->len = len;
  return 0;
}

static int64_t complete_rows(const struct pq_chunk* c) {
  bool exhausted = c->levels_total >= c->cc->num_values;
  if (c->desc->max_rep == 0 || exhausted || c->row_starts == 0) return c->row_starts;
  return c->row_starts - 1;  // the last row may continue on the next page
}

static void compact(struct pq_chunk* c);
static void set_level_views(struct pq_chunk* c);

static int next_page(struct pq_chunk* c, struct otap_error* err) {
  struct otap_parquet_reader* r = c->r;
  int64_t want = c->cc->num_values;
  int rc = 0;
  compact(c);
  c->err = err;
  c->page_offset = c->start + c->pos;
  if (c->pos >= c->len) {
    rc = otap_error_set(err, EINVAL, "column chunk ends after %lld values, ColumnMetaData says %lld", (long long)c->levels_total, (long long)want);
    goto done;
  }
  struct pq_page_header h;
  size_t hl;
  size_t avail = (size_t)(c->len - c->pos);
  if (avail > (size_t)PQ_MAX_PAGE_HEADER_SIZE) avail = (size_t)PQ_MAX_PAGE_HEADER_SIZE;
  OTAP_GOTO_NOT_OK(rc, otap__pq_decode_page_header(c->data + c->pos, avail, c->start + c->pos, &h, &hl, err));
  c->pos += (int64_t)hl;
  if ((int64_t)h.compressed_page_size > c->len - c->pos) {
    rc = otap_error_set(err, EINVAL, "page of %d bytes exceeds the column chunk", h.compressed_page_size);
    goto done;
  }
  const uint8_t* body = c->data + c->pos;
  size_t body_len = (size_t)h.compressed_page_size;
  c->pos += h.compressed_page_size;
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
    OTAP_GOTO_NOT_OK(rc, get_page_data(c, body, body_len, (size_t)h.uncompressed_page_size, &p));
    OTAP_GOTO_NOT_OK(rc, decode_dictionary_page(c, &h, p, (size_t)h.uncompressed_page_size));
  } else if (h.type == OTAP_PARQUET_PAGE_DATA || h.type == OTAP_PARQUET_PAGE_DATA_V2) {
    if ((h.type == OTAP_PARQUET_PAGE_DATA && !h.has_data_v1) || (h.type == OTAP_PARQUET_PAGE_DATA_V2 && !h.has_data_v2)) {
      rc = otap_error_set(err, EINVAL, "data page without its header struct");
      goto done;
    }
    if (h.num_values > want - c->levels_total) {
      rc = otap_error_set(err, EINVAL, "page has %d values, more than the %lld left in the chunk", h.num_values, (long long)(want - c->levels_total));
      goto done;
    }
    OTAP_GOTO_NOT_OK(rc, data_page(c, &h, body, body_len));
  }
  // INDEX_PAGE and unknown page types are skipped.
done:
  if (rc && rc != ENOMEM) ctx_fail(c, rc);
  return rc;
}

int otap__pq_chunk_fill(struct pq_chunk* c, int64_t rows, struct otap_error* err) {
  while (complete_rows(c) < rows) {
    if (c->levels_total >= c->cc->num_values) {
      return otap_error_set(err, EINVAL, "%s: row group %d column %s: the chunk holds %lld rows, the row group has more",
                            c->r->name, c->rg, c->desc->path, (long long)c->rows_total);
    }
    OTAP_RETURN_NOT_OK(next_page(c, err));
  }
  set_level_views(c);
  return 0;
}

void otap__pq_chunk_span(const struct pq_chunk* c, int64_t rows, int64_t* n_levels) {
  const struct pq_leaf_data* d = &c->d;
  int64_t L = rows;
  if (c->desc->max_rep > 0) {
    const int16_t* rep = d->rep;
    int64_t seen = 0;
    L = d->n_levels;
    for (int64_t i = 0; i < d->n_levels; i++) {
      if (rep[i] == 0 && seen++ == rows) {
        L = i;
        break;
      }
    }
  }
  *n_levels = L;
}

static void shift(struct otap_buffer* b, int64_t bytes) {
  if (bytes <= 0) return;
  if (bytes >= b->size) {
    b->size = 0;
    return;
  }
  memmove(b->data, b->data + bytes, (size_t)(b->size - bytes));
  b->size -= bytes;
}

static void set_level_views(struct pq_chunk* c) {
  struct pq_leaf_data* d = &c->d;
  d->def = c->desc->max_def > 0 ? (int16_t*)(void*)(d->def_buf.data + d->head_levels * 2) : NULL;
  d->rep = c->desc->max_rep > 0 ? (int16_t*)(void*)(d->rep_buf.data + d->head_levels * 2) : NULL;
}

// Consumed levels and values stay at the front of the buffers (consume is O(1)); they are
// dropped once per decoded page, so the moves are linear in the chunk, whatever the batch size.
void otap__pq_chunk_consume(struct pq_chunk* c, int64_t rows, int64_t L, int64_t V) {
  struct pq_leaf_data* d = &c->d;
  d->head_levels += L;
  d->head_values += V;
  d->n_levels -= L;
  d->n_values -= V;
  c->row_starts -= rows;
  set_level_views(c);
}

static void compact(struct pq_chunk* c) {
  struct pq_leaf_data* d = &c->d;
  int64_t L = d->head_levels, V = d->head_values;
  if (L == 0 && V == 0) return;
  shift(&d->def_buf, L * 2);
  shift(&d->rep_buf, L * 2);
  if (d->dict_mode) {
    shift(&d->indices, V * 4);
  } else if (c->pw) {
    shift(&d->fixed, V * c->pw);
  } else if (d->bin.offsets.size > 0) {
    int64_t* off = (int64_t*)(void*)d->bin.offsets.data;
    int64_t n = d->bin.offsets.size / 8 - 1;  // values buffered, consumed ones included
    int64_t base = off[V];
    for (int64_t i = 0; i + V <= n; i++) off[i] = off[i + V] - base;
    d->bin.offsets.size = (n - V + 1) * 8;
    shift(&d->bin.data, base);
  }
  d->head_levels = 0;
  d->head_values = 0;
  set_level_views(c);
}

void otap__pq_chunk_view(struct pq_chunk* c, bool on) {
  struct pq_leaf_data* d = &c->d;
  int64_t sign = on ? 1 : -1;
  int64_t V = d->head_values * sign;
  if (d->head_values == 0) return;
  if (d->dict_mode) {
    d->indices.data += V * 4;
    d->indices.size -= V * 4;
  } else if (c->pw) {
    d->fixed.data += V * c->pw;
    d->fixed.size -= V * c->pw;
  } else if (d->bin.offsets.data) {
    d->bin.offsets.data += V * 8;  // offsets stay absolute into bin.data
    d->bin.offsets.size -= V * 8;
  }
}

int otap__pq_chunk_finish(struct pq_chunk* c, struct otap_error* err) {
  const struct otap_parquet_row_group* g = &c->r->meta.row_groups[c->rg];
  // Pages after the last row would add rows: decode whatever remains, then check totals.
  while (c->levels_total < c->cc->num_values) OTAP_RETURN_NOT_OK(next_page(c, err));
  if (c->rows_total != g->num_rows || c->d.n_levels != 0)
    return otap_error_set(err, EINVAL, "%s: row group %d column %s: the chunk holds %lld rows, the row group has %lld",
                          c->r->name, c->rg, c->desc->path, (long long)c->rows_total, (long long)g->num_rows);
  return 0;
}

void otap__pq_chunk_close(struct pq_chunk* c) {
  if (!c->open) return;
  if (c->d.dict_array.release) c->d.dict_array.release(&c->d.dict_array);
  otap__pq_leaf_data_reset(&c->d);
  otap_buffer_reset(&c->own);
  c->open = false;
}
