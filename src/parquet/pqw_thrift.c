// Thrift compact protocol encoder and the Parquet structures the writer serializes with it
// (PageHeader, ColumnIndex, OffsetIndex; FileMetaData is in pqw_writer.c).
#include "parquet/pqw_internal.h"

static void put_byte(struct pqw_thrift* t, uint8_t b) {
  if (t->rc) return;
  if (t->out->size < t->out->capacity) {
    t->out->data[t->out->size++] = b;
    return;
  }
  t->rc = otap_buffer_append(t->out, &b, 1);
}

void otap__pqw_tw_init(struct pqw_thrift* t, struct otap_buffer* out) {
  t->out = out;
  t->depth = 0;
  t->last_id[0] = 0;
  t->rc = 0;
}

void otap__pqw_tw_varint(struct pqw_thrift* t, uint64_t v) {
  uint8_t tmp[10];
  int n = 0;
  while (v >= 0x80) {
    tmp[n++] = (uint8_t)(v | 0x80);
    v >>= 7;
  }
  tmp[n++] = (uint8_t)v;
  if (t->rc) return;
  t->rc = otap_buffer_append(t->out, tmp, n);
}

static uint64_t zigzag64(int64_t v) { return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63); }

void otap__pqw_tw_field(struct pqw_thrift* t, int16_t id, enum pqw_ttype type) {
  int16_t last = t->last_id[t->depth];
  int delta = id - last;
  if (delta > 0 && delta <= 15) {
    put_byte(t, (uint8_t)((delta << 4) | type));
  } else {
    put_byte(t, (uint8_t)type);
    otap__pqw_tw_varint(t, zigzag64(id));
  }
  t->last_id[t->depth] = id;
}

void otap__pqw_tw_i32(struct pqw_thrift* t, int16_t id, int32_t v) {
  otap__pqw_tw_field(t, id, PQW_T_I32);
  otap__pqw_tw_varint(t, zigzag64(v));
}

void otap__pqw_tw_i64(struct pqw_thrift* t, int16_t id, int64_t v) {
  otap__pqw_tw_field(t, id, PQW_T_I64);
  otap__pqw_tw_varint(t, zigzag64(v));
}

void otap__pqw_tw_i8(struct pqw_thrift* t, int16_t id, int8_t v) {
  otap__pqw_tw_field(t, id, PQW_T_BYTE);
  put_byte(t, (uint8_t)v);
}

void otap__pqw_tw_bool(struct pqw_thrift* t, int16_t id, bool v) {
  otap__pqw_tw_field(t, id, v ? PQW_T_TRUE : PQW_T_FALSE);
}

void otap__pqw_tw_binary(struct pqw_thrift* t, int16_t id, const void* data, int64_t n) {
  otap__pqw_tw_field(t, id, PQW_T_BINARY);
  otap__pqw_tw_elem_binary(t, data, n);
}

void otap__pqw_tw_string(struct pqw_thrift* t, int16_t id, const char* s) {
  otap__pqw_tw_binary(t, id, s, (int64_t)strlen(s));
}

void otap__pqw_tw_struct_begin(struct pqw_thrift* t, int16_t id) {
  if (id > 0) otap__pqw_tw_field(t, id, PQW_T_STRUCT);
  if (t->depth + 1 >= PQW_THRIFT_MAX_DEPTH) {
    if (!t->rc) t->rc = EINVAL;
    return;
  }
  t->depth++;
  t->last_id[t->depth] = 0;
}

void otap__pqw_tw_struct_end(struct pqw_thrift* t) {
  put_byte(t, PQW_T_STOP);
  if (t->depth > 0) t->depth--;
}

void otap__pqw_tw_stop(struct pqw_thrift* t) { put_byte(t, PQW_T_STOP); }

void otap__pqw_tw_list_begin(struct pqw_thrift* t, int16_t id, enum pqw_ttype elem, int64_t n) {
  otap__pqw_tw_field(t, id, PQW_T_LIST);
  if (n < 15) {
    put_byte(t, (uint8_t)((n << 4) | elem));
  } else {
    put_byte(t, (uint8_t)(0xF0 | elem));
    otap__pqw_tw_varint(t, (uint64_t)n);
  }
}

void otap__pqw_tw_elem_i32(struct pqw_thrift* t, int32_t v) { otap__pqw_tw_varint(t, zigzag64(v)); }
void otap__pqw_tw_elem_i64(struct pqw_thrift* t, int64_t v) { otap__pqw_tw_varint(t, zigzag64(v)); }
void otap__pqw_tw_elem_bool(struct pqw_thrift* t, bool v) { put_byte(t, v ? 1 : 2); }

void otap__pqw_tw_elem_binary(struct pqw_thrift* t, const void* data, int64_t n) {
  otap__pqw_tw_varint(t, (uint64_t)n);
  if (t->rc || n == 0) return;
  t->rc = otap_buffer_append(t->out, data, n);
}

// ---------------------------------------------------------------------------------------------
// Structures

static void write_statistics(struct pqw_thrift* t, int16_t id, const struct pqw_statistics* s) {
  otap__pqw_tw_struct_begin(t, id);
  if (s->has_null_count) otap__pqw_tw_i64(t, 3, s->null_count);
  if (s->has_min_max) {
    otap__pqw_tw_binary(t, 5, s->max, s->max_len);
    otap__pqw_tw_binary(t, 6, s->min, s->min_len);
    // Chunk bounds are never truncated.
    otap__pqw_tw_bool(t, 7, true);
    otap__pqw_tw_bool(t, 8, true);
  }
  otap__pqw_tw_struct_end(t);
}

int otap__pqw_write_page_header(struct otap_buffer* out, const struct pqw_page_header* h) {
  struct pqw_thrift t;
  otap__pqw_tw_init(&t, out);
  otap__pqw_tw_i32(&t, 1, h->type);
  otap__pqw_tw_i32(&t, 2, h->uncompressed_size);
  otap__pqw_tw_i32(&t, 3, h->compressed_size);
  switch (h->type) {
    case OTAP_PARQUET_PAGE_DATA:
      otap__pqw_tw_struct_begin(&t, 5);
      otap__pqw_tw_i32(&t, 1, h->num_values);
      otap__pqw_tw_i32(&t, 2, h->encoding);
      otap__pqw_tw_i32(&t, 3, OTAP_PARQUET_ENC_RLE);
      otap__pqw_tw_i32(&t, 4, OTAP_PARQUET_ENC_RLE);
      otap__pqw_tw_struct_end(&t);
      break;
    case OTAP_PARQUET_PAGE_DICTIONARY:
      otap__pqw_tw_struct_begin(&t, 7);
      otap__pqw_tw_i32(&t, 1, h->num_values);
      otap__pqw_tw_i32(&t, 2, h->encoding);
      otap__pqw_tw_struct_end(&t);
      break;
    case OTAP_PARQUET_PAGE_DATA_V2:
      otap__pqw_tw_struct_begin(&t, 8);
      otap__pqw_tw_i32(&t, 1, h->num_values);
      otap__pqw_tw_i32(&t, 2, h->num_nulls);
      otap__pqw_tw_i32(&t, 3, h->num_rows);
      otap__pqw_tw_i32(&t, 4, h->encoding);
      otap__pqw_tw_i32(&t, 5, h->def_levels_len);
      otap__pqw_tw_i32(&t, 6, h->rep_levels_len);
      otap__pqw_tw_bool(&t, 7, h->is_compressed);
      otap__pqw_tw_struct_end(&t);
      break;
    default:
      return EINVAL;
  }
  otap__pqw_tw_stop(&t);
  return t.rc;
}

int otap__pqw_write_offset_index(struct otap_buffer* out, const struct pqw_page_location* locs,
                                 int64_t n) {
  struct pqw_thrift t;
  otap__pqw_tw_init(&t, out);
  otap__pqw_tw_list_begin(&t, 1, PQW_T_STRUCT, n);
  for (int64_t i = 0; i < n; i++) {
    otap__pqw_tw_struct_begin(&t, 0);
    otap__pqw_tw_i64(&t, 1, locs[i].offset);
    otap__pqw_tw_i32(&t, 2, locs[i].compressed_size);
    otap__pqw_tw_i64(&t, 3, locs[i].first_row_index);
    otap__pqw_tw_struct_end(&t);
  }
  otap__pqw_tw_stop(&t);
  return t.rc;
}

int otap__pqw_write_column_index(struct otap_buffer* out, const bool* null_pages,
                                 const uint8_t* const* mins, const int32_t* min_lens,
                                 const uint8_t* const* maxs, const int32_t* max_lens,
                                 const int64_t* null_counts, int64_t n,
                                 enum pqw_boundary_order order) {
  struct pqw_thrift t;
  otap__pqw_tw_init(&t, out);
  otap__pqw_tw_list_begin(&t, 1, PQW_T_TRUE, n);
  for (int64_t i = 0; i < n; i++) otap__pqw_tw_elem_bool(&t, null_pages[i]);
  otap__pqw_tw_list_begin(&t, 2, PQW_T_BINARY, n);
  for (int64_t i = 0; i < n; i++) {
    otap__pqw_tw_elem_binary(&t, mins[i], null_pages[i] ? 0 : min_lens[i]);
  }
  otap__pqw_tw_list_begin(&t, 3, PQW_T_BINARY, n);
  for (int64_t i = 0; i < n; i++) {
    otap__pqw_tw_elem_binary(&t, maxs[i], null_pages[i] ? 0 : max_lens[i]);
  }
  otap__pqw_tw_i32(&t, 4, order);
  if (null_counts) {
    otap__pqw_tw_list_begin(&t, 5, PQW_T_I64, n);
    for (int64_t i = 0; i < n; i++) otap__pqw_tw_elem_i64(&t, null_counts[i]);
  }
  otap__pqw_tw_stop(&t);
  return t.rc;
}

void otap__pqw_write_statistics(struct pqw_thrift* t, int16_t id, const struct pqw_statistics* s) {
  write_statistics(t, id, s);
}
