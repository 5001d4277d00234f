// Thrift compact protocol decoding of the Parquet footer, page headers and page indexes.
// Every length is checked against the bytes that remain; nesting is capped; unknown fields of
// every type are skipped.
#include <stdlib.h>

#include "parquet/parquet_internal.h"

// ---------------------------------------------------------------------------------------------
// Arena

struct pq_arena_block {
  struct pq_arena_block* next;
  size_t used, cap;
  _Alignas(16) uint8_t data[];
};

void* otap__pq_arena_alloc(struct pq_arena* a, size_t size) {
  size = (size + 15) & ~(size_t)15;
  if (size == 0) size = 16;
  struct pq_arena_block* b = a->head;
  if (!b || b->cap - b->used < size) {
    size_t cap = size > 16384 ? size : 16384;
    b = otap_malloc(sizeof(*b) + cap);
    if (!b) return NULL;
    b->used = 0;
    b->cap = cap;
    b->next = a->head;
    a->head = b;
  }
  void* p = b->data + b->used;
  b->used += size;
  memset(p, 0, size);
  return p;
}

char* otap__pq_arena_strndup(struct pq_arena* a, const uint8_t* s, size_t n) {
  char* p = otap__pq_arena_alloc(a, n + 1);
  if (!p) return NULL;
  if (n) memcpy(p, s, n);
  p[n] = 0;
  return p;
}

void otap__pq_arena_reset(struct pq_arena* a) {
  struct pq_arena_block* b = a->head;
  while (b) {
    struct pq_arena_block* n = b->next;
    otap_free(b);
    b = n;
  }
  a->head = NULL;
}

// ---------------------------------------------------------------------------------------------
// Primitive reads

void otap__pq_thrift_init(struct pq_thrift* t, const uint8_t* data, size_t n, int64_t base_offset,
                          const char* what, struct otap_error* err) {
  t->start = data;
  t->p = data;
  t->end = n ? data + n : data;
  t->depth = 0;
  t->base_offset = base_offset;
  t->what = what;
  t->err = err;
}

static int64_t pos(const struct pq_thrift* t) { return t->base_offset + (t->p - t->start); }

static int fail(struct pq_thrift* t, const char* msg) {
  return otap_error_set(t->err, EINVAL, "parquet %s: %s at byte offset %lld", t->what, msg,
                        (long long)pos(t));
}

static int rd_varint(struct pq_thrift* t, uint64_t* out) {
  uint64_t v = 0;
  for (int shift = 0; shift < 70; shift += 7) {
    if (t->p >= t->end) return fail(t, "truncated varint");
    uint8_t b = *t->p++;
    if (shift == 63 && (b & 0x7e)) return fail(t, "varint overflows 64 bits");
    v |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) {
      *out = v;
      return 0;
    }
  }
  return fail(t, "varint longer than 10 bytes");
}

static int rd_i64(struct pq_thrift* t, int64_t* out) {
  uint64_t u = 0;
  OTAP_RETURN_NOT_OK(rd_varint(t, &u));
  *out = (int64_t)((u >> 1) ^ (~(u & 1) + 1));
  return 0;
}

static int rd_i32(struct pq_thrift* t, int32_t* out) {
  int64_t v = 0;
  OTAP_RETURN_NOT_OK(rd_i64(t, &v));
  if (v < INT32_MIN || v > INT32_MAX) return fail(t, "i32 value out of range");
  *out = (int32_t)v;
  return 0;
}

static int rd_byte(struct pq_thrift* t, uint8_t* out) {
  if (t->p >= t->end) return fail(t, "truncated");
  *out = *t->p++;
  return 0;
}

static int rd_binary(struct pq_thrift* t, const uint8_t** data, int32_t* len) {
  uint64_t n;
  OTAP_RETURN_NOT_OK(rd_varint(t, &n));
  if (n > (uint64_t)(t->end - t->p)) return fail(t, "binary length exceeds the remaining bytes");
  *data = t->p;
  *len = (int32_t)n;
  t->p += n;
  return 0;
}

/// List/set header: element type and count (count checked against remaining bytes: every
/// element takes at least one byte, except bools... which also take one in lists).
static int rd_list(struct pq_thrift* t, int* elem_type, int32_t* count) {
  uint8_t h = 0;
  OTAP_RETURN_NOT_OK(rd_byte(t, &h));
  uint64_t n = h >> 4;
  if (n == 15) OTAP_RETURN_NOT_OK(rd_varint(t, &n));
  *elem_type = h & 0x0f;
  if (n > (uint64_t)(t->end - t->p) || n > INT32_MAX)
    return fail(t, "list size exceeds the remaining bytes");
  *count = (int32_t)n;
  return 0;
}

static int skip(struct pq_thrift* t, int type);

static int skip_struct(struct pq_thrift* t) {
  if (++t->depth > PQ_MAX_THRIFT_DEPTH) return fail(t, "nesting too deep");
  for (;;) {
    uint8_t h = 0;
    OTAP_RETURN_NOT_OK(rd_byte(t, &h));
    if (h == 0) break;
    if ((h >> 4) == 0) {
      int64_t id = 0;
      OTAP_RETURN_NOT_OK(rd_i64(t, &id));
    }
    OTAP_RETURN_NOT_OK(skip(t, h & 0x0f));
  }
  t->depth--;
  return 0;
}

static int skip(struct pq_thrift* t, int type) {
  uint64_t u = 0;
  const uint8_t* d = NULL;
  int32_t n = 0;
  uint8_t b = 0;
  switch (type) {
    case PQ_T_TRUE:
    case PQ_T_FALSE:
      return 0;  // value is in the field header
    case PQ_T_BYTE:
      return rd_byte(t, &b);
    case PQ_T_I16:
    case PQ_T_I32:
    case PQ_T_I64:
      return rd_varint(t, &u);
    case PQ_T_DOUBLE:
      if (t->end - t->p < 8) return fail(t, "truncated double");
      t->p += 8;
      return 0;
    case PQ_T_BINARY:
      return rd_binary(t, &d, &n);
    case PQ_T_LIST:
    case PQ_T_SET: {
      int et;
      OTAP_RETURN_NOT_OK(rd_list(t, &et, &n));
      if (++t->depth > PQ_MAX_THRIFT_DEPTH) return fail(t, "nesting too deep");
      for (int32_t i = 0; i < n; i++) {
        if (et == PQ_T_TRUE || et == PQ_T_FALSE) {
          OTAP_RETURN_NOT_OK(rd_byte(t, &b));
        } else {
          OTAP_RETURN_NOT_OK(skip(t, et));
        }
      }
      t->depth--;
      return 0;
    }
    case PQ_T_MAP: {
      OTAP_RETURN_NOT_OK(rd_varint(t, &u));
      if (u == 0) return 0;
      if (u > (uint64_t)(t->end - t->p)) return fail(t, "map size exceeds the remaining bytes");
      OTAP_RETURN_NOT_OK(rd_byte(t, &b));
      if (++t->depth > PQ_MAX_THRIFT_DEPTH) return fail(t, "nesting too deep");
      for (uint64_t i = 0; i < u; i++) {
        int kt = b >> 4, vt = b & 0x0f;
        if (kt == PQ_T_TRUE || kt == PQ_T_FALSE) OTAP_RETURN_NOT_OK(rd_byte(t, &b));
        else OTAP_RETURN_NOT_OK(skip(t, kt));
        if (vt == PQ_T_TRUE || vt == PQ_T_FALSE) {
          uint8_t x = 0;
          OTAP_RETURN_NOT_OK(rd_byte(t, &x));
        } else {
          OTAP_RETURN_NOT_OK(skip(t, vt));
        }
      }
      t->depth--;
      return 0;
    }
    case PQ_T_STRUCT:
      return skip_struct(t);
    default:
      return fail(t, "unknown Thrift type");
  }
}

// Struct field iteration: call field_begin/field_next in a loop.
struct pq_field {
  int16_t id;
  int type;
  int16_t last_id;
};

static int struct_begin(struct pq_thrift* t, struct pq_field* f) {
  if (++t->depth > PQ_MAX_THRIFT_DEPTH) return fail(t, "nesting too deep");
  f->last_id = 0;
  return 0;
}

/// Reads the next field header; f->type == PQ_T_STOP at the end.
static int field_next(struct pq_thrift* t, struct pq_field* f) {
  uint8_t h = 0;
  OTAP_RETURN_NOT_OK(rd_byte(t, &h));
  if (h == 0) {
    f->type = PQ_T_STOP;
    t->depth--;
    return 0;
  }
  f->type = h & 0x0f;
  int delta = h >> 4;
  if (delta) {
    f->id = (int16_t)(f->last_id + delta);
  } else {
    int64_t id = 0;
    OTAP_RETURN_NOT_OK(rd_i64(t, &id));
    if (id < INT16_MIN || id > INT16_MAX) return fail(t, "field id out of range");
    f->id = (int16_t)id;
  }
  f->last_id = f->id;
  return 0;
}

static int expect(struct pq_thrift* t, const struct pq_field* f, int type) {
  if (f->type == type) return 0;
  if (type == PQ_T_I32 && (f->type == PQ_T_I16 || f->type == PQ_T_BYTE)) return 0;
  if (type == PQ_T_I64 && (f->type == PQ_T_I32 || f->type == PQ_T_I16)) return 0;
  return otap_error_set(t->err, EINVAL,
                        "parquet %s: field %d has Thrift type %d, expected %d at byte offset %lld",
                        t->what, f->id, f->type, type, (long long)pos(t));
}

static int f_i32(struct pq_thrift* t, const struct pq_field* f, int32_t* out) {
  OTAP_RETURN_NOT_OK(expect(t, f, PQ_T_I32));
  if (f->type == PQ_T_BYTE) {
    uint8_t b = 0;
    OTAP_RETURN_NOT_OK(rd_byte(t, &b));
    *out = (int8_t)b;
    return 0;
  }
  return rd_i32(t, out);
}

static int f_i64(struct pq_thrift* t, const struct pq_field* f, int64_t* out) {
  OTAP_RETURN_NOT_OK(expect(t, f, PQ_T_I64));
  return rd_i64(t, out);
}

static int f_bool(struct pq_thrift* t, const struct pq_field* f, bool* out) {
  if (f->type == PQ_T_TRUE) *out = true;
  else if (f->type == PQ_T_FALSE) *out = false;
  else return expect(t, f, PQ_T_TRUE);
  return 0;
}

static int f_binary(struct pq_thrift* t, const struct pq_field* f, struct otap_parquet_bytes* out) {
  OTAP_RETURN_NOT_OK(expect(t, f, PQ_T_BINARY));
  return rd_binary(t, &out->data, &out->len);
}

static int f_string(struct pq_thrift* t, const struct pq_field* f, struct pq_arena* a,
                    const char** out) {
  struct otap_parquet_bytes b = {0};
  OTAP_RETURN_NOT_OK(f_binary(t, f, &b));
  char* s = otap__pq_arena_strndup(a, b.data, (size_t)b.len);
  if (!s) return otap_error_set(t->err, ENOMEM, "parquet %s: out of memory", t->what);
  *out = s;
  return 0;
}

static void* arena_array(struct pq_thrift* t, struct pq_arena* a, int32_t n, size_t elem) {
  void* p = otap__pq_arena_alloc(a, (size_t)n * elem);
  if (!p) otap_error_set(t->err, ENOMEM, "parquet %s: out of memory", t->what);
  return p;
}

// ---------------------------------------------------------------------------------------------
// Parquet structs

static int dec_statistics(struct pq_thrift* t, struct otap_parquet_statistics* s) {
  struct pq_field f;
  struct otap_parquet_bytes old_min = {0}, old_max = {0};
  bool has_old_min = false, has_old_max = false;
  OTAP_RETURN_NOT_OK(struct_begin(t, &f));
  for (;;) {
    OTAP_RETURN_NOT_OK(field_next(t, &f));
    if (f.type == PQ_T_STOP) break;
    switch (f.id) {
      case 1: OTAP_RETURN_NOT_OK(f_binary(t, &f, &old_max)); has_old_max = true; break;
      case 2: OTAP_RETURN_NOT_OK(f_binary(t, &f, &old_min)); has_old_min = true; break;
      case 3: OTAP_RETURN_NOT_OK(f_i64(t, &f, &s->null_count)); s->has_null_count = true; break;
      case 4:
        OTAP_RETURN_NOT_OK(f_i64(t, &f, &s->distinct_count));
        s->has_distinct_count = true;
        break;
      case 5: OTAP_RETURN_NOT_OK(f_binary(t, &f, &s->max)); s->has_max = true; break;
      case 6: OTAP_RETURN_NOT_OK(f_binary(t, &f, &s->min)); s->has_min = true; break;
      case 7: OTAP_RETURN_NOT_OK(f_bool(t, &f, &s->is_max_exact)); break;
      case 8: OTAP_RETURN_NOT_OK(f_bool(t, &f, &s->is_min_exact)); break;
      case 9: OTAP_RETURN_NOT_OK(f_i64(t, &f, &s->nan_count)); s->has_nan_count = true; break;
      default: OTAP_RETURN_NOT_OK(skip(t, f.type));
    }
  }
  if (!s->has_min && has_old_min) {
    s->min = old_min;
    s->has_min = true;
  }
  if (!s->has_max && has_old_max) {
    s->max = old_max;
    s->has_max = true;
  }
  return 0;
}

static int dec_time_unit(struct pq_thrift* t, int32_t* unit) {
  struct pq_field f;
  OTAP_RETURN_NOT_OK(struct_begin(t, &f));
  for (;;) {
    OTAP_RETURN_NOT_OK(field_next(t, &f));
    if (f.type == PQ_T_STOP) break;
    if (f.id >= 1 && f.id <= 3) *unit = f.id - 1;
    OTAP_RETURN_NOT_OK(skip(t, f.type));
  }
  return 0;
}

static int dec_logical_inner(struct pq_thrift* t, int id, struct otap_parquet_logical_type* lt) {
  struct pq_field f;
  OTAP_RETURN_NOT_OK(struct_begin(t, &f));
  for (;;) {
    OTAP_RETURN_NOT_OK(field_next(t, &f));
    if (f.type == PQ_T_STOP) break;
    if (id == OTAP_PARQUET_LT_DECIMAL && f.id == 1) {
      OTAP_RETURN_NOT_OK(f_i32(t, &f, &lt->decimal_scale));
    } else if (id == OTAP_PARQUET_LT_DECIMAL && f.id == 2) {
      OTAP_RETURN_NOT_OK(f_i32(t, &f, &lt->decimal_precision));
    } else if ((id == OTAP_PARQUET_LT_TIME || id == OTAP_PARQUET_LT_TIMESTAMP) && f.id == 1) {
      OTAP_RETURN_NOT_OK(f_bool(t, &f, &lt->is_adjusted_to_utc));
    } else if ((id == OTAP_PARQUET_LT_TIME || id == OTAP_PARQUET_LT_TIMESTAMP) && f.id == 2) {
      OTAP_RETURN_NOT_OK(expect(t, &f, PQ_T_STRUCT));
      OTAP_RETURN_NOT_OK(dec_time_unit(t, &lt->time_unit));
    } else if (id == OTAP_PARQUET_LT_INTEGER && f.id == 1) {
      OTAP_RETURN_NOT_OK(f_i32(t, &f, &lt->int_bit_width));
    } else if (id == OTAP_PARQUET_LT_INTEGER && f.id == 2) {
      OTAP_RETURN_NOT_OK(f_bool(t, &f, &lt->int_signed));
    } else {
      OTAP_RETURN_NOT_OK(skip(t, f.type));
    }
  }
  return 0;
}

static int dec_logical(struct pq_thrift* t, struct otap_parquet_logical_type* lt) {
  struct pq_field f;
  OTAP_RETURN_NOT_OK(struct_begin(t, &f));
  for (;;) {
    OTAP_RETURN_NOT_OK(field_next(t, &f));
    if (f.type == PQ_T_STOP) break;
    if (f.type != PQ_T_STRUCT) {
      OTAP_RETURN_NOT_OK(skip(t, f.type));
      continue;
    }
    bool known = (f.id >= 1 && f.id <= 8) || (f.id >= 10 && f.id <= 18);
    lt->kind = known ? (enum otap_parquet_logical_kind)f.id : OTAP_PARQUET_LT_OTHER;
    OTAP_RETURN_NOT_OK(dec_logical_inner(t, f.id, lt));
  }
  return 0;
}

static int dec_schema_element(struct pq_thrift* t, struct pq_arena* a,
                              struct otap_parquet_schema_element* e) {
  struct pq_field f;
  bool has_name = false;
  e->converted_type = -1;
  OTAP_RETURN_NOT_OK(struct_begin(t, &f));
  for (;;) {
    OTAP_RETURN_NOT_OK(field_next(t, &f));
    if (f.type == PQ_T_STOP) break;
    int32_t v;
    switch (f.id) {
      case 1:
        OTAP_RETURN_NOT_OK(f_i32(t, &f, &v));
        if (v < 0 || v > 7) return fail(t, "invalid physical type in SchemaElement");
        e->type = (enum otap_parquet_physical_type)v;
        e->has_type = true;
        break;
      case 2: OTAP_RETURN_NOT_OK(f_i32(t, &f, &e->type_length)); break;
      case 3:
        OTAP_RETURN_NOT_OK(f_i32(t, &f, &v));
        if (v < 0 || v > 3) return fail(t, "invalid repetition type in SchemaElement");
        if (v == 3) {
          return otap_error_set(t->err, ENOTSUP,
                                "parquet %s: VECTOR repetition is not supported (byte offset %lld)",
                                t->what, (long long)pos(t));
        }
        e->repetition = (enum otap_parquet_repetition)v;
        e->has_repetition = true;
        break;
      case 4: OTAP_RETURN_NOT_OK(f_string(t, &f, a, &e->name)); has_name = true; break;
      case 5:
        OTAP_RETURN_NOT_OK(f_i32(t, &f, &e->num_children));
        if (e->num_children < 0) return fail(t, "negative num_children");
        break;
      case 6: OTAP_RETURN_NOT_OK(f_i32(t, &f, &e->converted_type)); break;
      case 7: OTAP_RETURN_NOT_OK(f_i32(t, &f, &e->scale)); break;
      case 8: OTAP_RETURN_NOT_OK(f_i32(t, &f, &e->precision)); break;
      case 9: OTAP_RETURN_NOT_OK(f_i32(t, &f, &e->field_id)); e->has_field_id = true; break;
      case 10:
        OTAP_RETURN_NOT_OK(expect(t, &f, PQ_T_STRUCT));
        OTAP_RETURN_NOT_OK(dec_logical(t, &e->logical));
        break;
      default: OTAP_RETURN_NOT_OK(skip(t, f.type));
    }
  }
  if (!has_name) return fail(t, "SchemaElement without name");
  return 0;
}

static int dec_key_values(struct pq_thrift* t, struct pq_arena* a, const struct pq_field* lf,
                          const struct otap_parquet_key_value** out, int32_t* n_out) {
  int et;
  int32_t n = 0;
  OTAP_RETURN_NOT_OK(expect(t, lf, PQ_T_LIST));
  OTAP_RETURN_NOT_OK(rd_list(t, &et, &n));
  if (et != PQ_T_STRUCT) return fail(t, "key_value_metadata is not a list of structs");
  struct otap_parquet_key_value* kv = arena_array(t, a, n, sizeof(*kv));
  if (!kv) return ENOMEM;
  for (int32_t i = 0; i < n; i++) {
    struct pq_field f;
    bool has_key = false;
    OTAP_RETURN_NOT_OK(struct_begin(t, &f));
    for (;;) {
      OTAP_RETURN_NOT_OK(field_next(t, &f));
      if (f.type == PQ_T_STOP) break;
      if (f.id == 1) {
        OTAP_RETURN_NOT_OK(f_string(t, &f, a, &kv[i].key));
        has_key = true;
      } else if (f.id == 2) {
        struct otap_parquet_bytes b = {0};
        OTAP_RETURN_NOT_OK(f_binary(t, &f, &b));
        char* s = otap__pq_arena_strndup(a, b.data, (size_t)b.len);
        if (!s) return otap_error_set(t->err, ENOMEM, "out of memory");
        kv[i].value = s;
        kv[i].value_len = b.len;
      } else {
        OTAP_RETURN_NOT_OK(skip(t, f.type));
      }
    }
    if (!has_key) return fail(t, "KeyValue without key");
  }
  *out = kv;
  *n_out = n;
  return 0;
}

static int dec_column_meta(struct pq_thrift* t, struct pq_arena* a,
                           struct otap_parquet_column_chunk* c) {
  struct pq_field f;
  OTAP_RETURN_NOT_OK(struct_begin(t, &f));
  int seen = 0;
  for (;;) {
    OTAP_RETURN_NOT_OK(field_next(t, &f));
    if (f.type == PQ_T_STOP) break;
    int32_t v, n;
    int et;
    switch (f.id) {
      case 1:
        OTAP_RETURN_NOT_OK(f_i32(t, &f, &v));
        if (v < 0 || v > 7) return fail(t, "invalid physical type in ColumnMetaData");
        c->type = (enum otap_parquet_physical_type)v;
        seen |= 1;
        break;
      case 2: {
        OTAP_RETURN_NOT_OK(expect(t, &f, PQ_T_LIST));
        OTAP_RETURN_NOT_OK(rd_list(t, &et, &n));
        int32_t* enc = arena_array(t, a, n, sizeof(int32_t));
        if (!enc) return ENOMEM;
        for (int32_t i = 0; i < n; i++) {
          if (et == PQ_T_I32 || et == PQ_T_I16 || et == PQ_T_I64) {
            OTAP_RETURN_NOT_OK(rd_i32(t, &enc[i]));
          } else {
            return fail(t, "encodings is not a list of i32");
          }
        }
        c->encodings = enc;
        c->n_encodings = n;
        break;
      }
      case 3: {
        OTAP_RETURN_NOT_OK(expect(t, &f, PQ_T_LIST));
        OTAP_RETURN_NOT_OK(rd_list(t, &et, &n));
        if (et != PQ_T_BINARY) return fail(t, "path_in_schema is not a list of strings");
        const char** path = arena_array(t, a, n, sizeof(char*));
        if (!path) return ENOMEM;
        for (int32_t i = 0; i < n; i++) {
          const uint8_t* d = NULL;
          int32_t len = 0;
          OTAP_RETURN_NOT_OK(rd_binary(t, &d, &len));
          path[i] = otap__pq_arena_strndup(a, d, (size_t)len);
          if (!path[i]) return otap_error_set(t->err, ENOMEM, "out of memory");
        }
        c->path = path;
        c->n_path = n;
        seen |= 2;
        break;
      }
      case 4:
        OTAP_RETURN_NOT_OK(f_i32(t, &f, &v));
        c->codec = (enum otap_parquet_codec)v;
        break;
      case 5: OTAP_RETURN_NOT_OK(f_i64(t, &f, &c->num_values)); break;
      case 6: OTAP_RETURN_NOT_OK(f_i64(t, &f, &c->total_uncompressed_size)); break;
      case 7: OTAP_RETURN_NOT_OK(f_i64(t, &f, &c->total_compressed_size)); seen |= 4; break;
      case 8: OTAP_RETURN_NOT_OK(dec_key_values(t, a, &f, &c->key_value, &c->n_key_value)); break;
      case 9: OTAP_RETURN_NOT_OK(f_i64(t, &f, &c->data_page_offset)); seen |= 8; break;
      case 11:
        OTAP_RETURN_NOT_OK(f_i64(t, &f, &c->dictionary_page_offset));
        c->has_dictionary_page_offset = true;
        break;
      case 12:
        OTAP_RETURN_NOT_OK(expect(t, &f, PQ_T_STRUCT));
        OTAP_RETURN_NOT_OK(dec_statistics(t, &c->statistics));
        c->has_statistics = true;
        break;
      default: OTAP_RETURN_NOT_OK(skip(t, f.type));
    }
  }
  if ((seen & 15) != 15) return fail(t, "ColumnMetaData misses a required field");
  c->has_meta_data = true;
  return 0;
}

static int dec_column_chunk(struct pq_thrift* t, struct pq_arena* a,
                            struct otap_parquet_column_chunk* c) {
  struct pq_field f;
  OTAP_RETURN_NOT_OK(struct_begin(t, &f));
  for (;;) {
    OTAP_RETURN_NOT_OK(field_next(t, &f));
    if (f.type == PQ_T_STOP) break;
    switch (f.id) {
      case 1: OTAP_RETURN_NOT_OK(f_string(t, &f, a, &c->file_path)); break;
      case 3:
        OTAP_RETURN_NOT_OK(expect(t, &f, PQ_T_STRUCT));
        OTAP_RETURN_NOT_OK(dec_column_meta(t, a, c));
        break;
      case 4: OTAP_RETURN_NOT_OK(f_i64(t, &f, &c->offset_index_offset)); break;
      case 5: OTAP_RETURN_NOT_OK(f_i32(t, &f, &c->offset_index_length)); break;
      case 6: OTAP_RETURN_NOT_OK(f_i64(t, &f, &c->column_index_offset)); break;
      case 7: OTAP_RETURN_NOT_OK(f_i32(t, &f, &c->column_index_length)); break;
      case 8:
      case 9:
        c->encrypted = true;
        OTAP_RETURN_NOT_OK(skip(t, f.type));
        break;
      default: OTAP_RETURN_NOT_OK(skip(t, f.type));
    }
  }
  return 0;
}

static int dec_row_group(struct pq_thrift* t, struct pq_arena* a, struct otap_parquet_row_group* g) {
  struct pq_field f;
  bool has_cols = false, has_rows = false;
  OTAP_RETURN_NOT_OK(struct_begin(t, &f));
  for (;;) {
    OTAP_RETURN_NOT_OK(field_next(t, &f));
    if (f.type == PQ_T_STOP) break;
    switch (f.id) {
      case 1: {
        int et;
        int32_t n = 0;
        OTAP_RETURN_NOT_OK(expect(t, &f, PQ_T_LIST));
        OTAP_RETURN_NOT_OK(rd_list(t, &et, &n));
        if (et != PQ_T_STRUCT) return fail(t, "RowGroup.columns is not a list of structs");
        struct otap_parquet_column_chunk* cols = arena_array(t, a, n, sizeof(*cols));
        if (!cols) return ENOMEM;
        for (int32_t i = 0; i < n; i++) OTAP_RETURN_NOT_OK(dec_column_chunk(t, a, &cols[i]));
        g->columns = cols;
        g->n_columns = n;
        has_cols = true;
        break;
      }
      case 2: OTAP_RETURN_NOT_OK(f_i64(t, &f, &g->total_byte_size)); break;
      case 3: OTAP_RETURN_NOT_OK(f_i64(t, &f, &g->num_rows)); has_rows = true; break;
      case 6: OTAP_RETURN_NOT_OK(f_i64(t, &f, &g->total_compressed_size)); break;
      default: OTAP_RETURN_NOT_OK(skip(t, f.type));
    }
  }
  if (!has_cols || !has_rows) return fail(t, "RowGroup misses columns or num_rows");
  if (g->num_rows < 0) return fail(t, "negative RowGroup.num_rows");
  return 0;
}

int otap__pq_decode_file_metadata(const uint8_t* data, size_t n, int64_t base_offset,
                                  struct pq_arena* a, struct otap_parquet_file_metadata* out,
                                  struct otap_error* err) {
  struct pq_thrift t0, *t = &t0;
  otap__pq_thrift_init(t, data, n, base_offset, "footer", err);
  memset(out, 0, sizeof(*out));
  struct pq_field f;
  bool has_schema = false, has_rg = false;
  OTAP_RETURN_NOT_OK(struct_begin(t, &f));
  for (;;) {
    OTAP_RETURN_NOT_OK(field_next(t, &f));
    if (f.type == PQ_T_STOP) break;
    int et;
    int32_t cnt;
    switch (f.id) {
      case 1: OTAP_RETURN_NOT_OK(f_i32(t, &f, &out->version)); break;
      case 2: {
        OTAP_RETURN_NOT_OK(expect(t, &f, PQ_T_LIST));
        OTAP_RETURN_NOT_OK(rd_list(t, &et, &cnt));
        if (et != PQ_T_STRUCT) return fail(t, "schema is not a list of structs");
        struct otap_parquet_schema_element* s = arena_array(t, a, cnt, sizeof(*s));
        if (!s) return ENOMEM;
        for (int32_t i = 0; i < cnt; i++) OTAP_RETURN_NOT_OK(dec_schema_element(t, a, &s[i]));
        out->schema = s;
        out->n_schema = cnt;
        has_schema = true;
        break;
      }
      case 3: OTAP_RETURN_NOT_OK(f_i64(t, &f, &out->num_rows)); break;
      case 4: {
        OTAP_RETURN_NOT_OK(expect(t, &f, PQ_T_LIST));
        OTAP_RETURN_NOT_OK(rd_list(t, &et, &cnt));
        if (et != PQ_T_STRUCT) return fail(t, "row_groups is not a list of structs");
        struct otap_parquet_row_group* g = arena_array(t, a, cnt, sizeof(*g));
        if (!g) return ENOMEM;
        for (int32_t i = 0; i < cnt; i++) OTAP_RETURN_NOT_OK(dec_row_group(t, a, &g[i]));
        out->row_groups = g;
        out->n_row_groups = cnt;
        has_rg = true;
        break;
      }
      case 5:
        OTAP_RETURN_NOT_OK(dec_key_values(t, a, &f, &out->key_value, &out->n_key_value));
        break;
      case 6: OTAP_RETURN_NOT_OK(f_string(t, &f, a, &out->created_by)); break;
      case 8:
        out->encrypted = true;
        OTAP_RETURN_NOT_OK(skip(t, f.type));
        break;
      default: OTAP_RETURN_NOT_OK(skip(t, f.type));
    }
  }
  if (!has_schema || out->n_schema < 1) return fail(t, "FileMetaData has no schema");
  if (!has_rg) return fail(t, "FileMetaData has no row_groups");
  out->footer_length = (int64_t)n;
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Page header

static int dec_data_page_v1(struct pq_thrift* t, struct pq_page_header* h) {
  struct pq_field f;
  int seen = 0;
  OTAP_RETURN_NOT_OK(struct_begin(t, &f));
  for (;;) {
    OTAP_RETURN_NOT_OK(field_next(t, &f));
    if (f.type == PQ_T_STOP) break;
    switch (f.id) {
      case 1: OTAP_RETURN_NOT_OK(f_i32(t, &f, &h->num_values)); seen |= 1; break;
      case 2: OTAP_RETURN_NOT_OK(f_i32(t, &f, &h->encoding)); seen |= 2; break;
      case 3: OTAP_RETURN_NOT_OK(f_i32(t, &f, &h->def_encoding)); break;
      case 4: OTAP_RETURN_NOT_OK(f_i32(t, &f, &h->rep_encoding)); break;
      default: OTAP_RETURN_NOT_OK(skip(t, f.type));
    }
  }
  if ((seen & 3) != 3) return fail(t, "DataPageHeader misses num_values or encoding");
  return 0;
}

static int dec_data_page_v2(struct pq_thrift* t, struct pq_page_header* h) {
  struct pq_field f;
  int seen = 0;
  h->is_compressed = true;
  OTAP_RETURN_NOT_OK(struct_begin(t, &f));
  for (;;) {
    OTAP_RETURN_NOT_OK(field_next(t, &f));
    if (f.type == PQ_T_STOP) break;
    switch (f.id) {
      case 1: OTAP_RETURN_NOT_OK(f_i32(t, &f, &h->num_values)); seen |= 1; break;
      case 2: OTAP_RETURN_NOT_OK(f_i32(t, &f, &h->num_nulls)); seen |= 2; break;
      case 3: OTAP_RETURN_NOT_OK(f_i32(t, &f, &h->num_rows)); seen |= 4; break;
      case 4: OTAP_RETURN_NOT_OK(f_i32(t, &f, &h->encoding)); seen |= 8; break;
      case 5: OTAP_RETURN_NOT_OK(f_i32(t, &f, &h->def_length)); seen |= 16; break;
      case 6: OTAP_RETURN_NOT_OK(f_i32(t, &f, &h->rep_length)); seen |= 32; break;
      case 7: OTAP_RETURN_NOT_OK(f_bool(t, &f, &h->is_compressed)); break;
      default: OTAP_RETURN_NOT_OK(skip(t, f.type));
    }
  }
  if ((seen & 63) != 63) return fail(t, "DataPageHeaderV2 misses a required field");
  if (h->num_nulls < 0 || h->num_rows < 0 || h->def_length < 0 || h->rep_length < 0)
    return fail(t, "negative count or length in DataPageHeaderV2");
  return 0;
}

static int dec_dict_page(struct pq_thrift* t, struct pq_page_header* h) {
  struct pq_field f;
  int seen = 0;
  OTAP_RETURN_NOT_OK(struct_begin(t, &f));
  for (;;) {
    OTAP_RETURN_NOT_OK(field_next(t, &f));
    if (f.type == PQ_T_STOP) break;
    switch (f.id) {
      case 1: OTAP_RETURN_NOT_OK(f_i32(t, &f, &h->num_values)); seen |= 1; break;
      case 2: OTAP_RETURN_NOT_OK(f_i32(t, &f, &h->encoding)); seen |= 2; break;
      case 3: OTAP_RETURN_NOT_OK(f_bool(t, &f, &h->dict_sorted)); break;
      default: OTAP_RETURN_NOT_OK(skip(t, f.type));
    }
  }
  if ((seen & 3) != 3) return fail(t, "DictionaryPageHeader misses num_values or encoding");
  return 0;
}

int otap__pq_decode_page_header(const uint8_t* data, size_t n, int64_t base_offset,
                                struct pq_page_header* h, size_t* header_len,
                                struct otap_error* err) {
  struct pq_thrift t0, *t = &t0;
  otap__pq_thrift_init(t, data, n, base_offset, "page header", err);
  memset(h, 0, sizeof(*h));
  struct pq_field f;
  int seen = 0;
  OTAP_RETURN_NOT_OK(struct_begin(t, &f));
  for (;;) {
    OTAP_RETURN_NOT_OK(field_next(t, &f));
    if (f.type == PQ_T_STOP) break;
    int32_t v;
    switch (f.id) {
      case 1: OTAP_RETURN_NOT_OK(f_i32(t, &f, &h->type)); seen |= 1; break;
      case 2: OTAP_RETURN_NOT_OK(f_i32(t, &f, &h->uncompressed_page_size)); seen |= 2; break;
      case 3: OTAP_RETURN_NOT_OK(f_i32(t, &f, &h->compressed_page_size)); seen |= 4; break;
      case 4:
        OTAP_RETURN_NOT_OK(f_i32(t, &f, &v));
        h->crc = (uint32_t)v;
        h->has_crc = true;
        break;
      case 5:
        OTAP_RETURN_NOT_OK(expect(t, &f, PQ_T_STRUCT));
        OTAP_RETURN_NOT_OK(dec_data_page_v1(t, h));
        h->has_data_v1 = true;
        break;
      case 7:
        OTAP_RETURN_NOT_OK(expect(t, &f, PQ_T_STRUCT));
        OTAP_RETURN_NOT_OK(dec_dict_page(t, h));
        h->has_dict = true;
        break;
      case 8:
        OTAP_RETURN_NOT_OK(expect(t, &f, PQ_T_STRUCT));
        OTAP_RETURN_NOT_OK(dec_data_page_v2(t, h));
        h->has_data_v2 = true;
        break;
      default: OTAP_RETURN_NOT_OK(skip(t, f.type));
    }
  }
  if ((seen & 7) != 7) return fail(t, "PageHeader misses type or sizes");
  if (h->uncompressed_page_size < 0 || h->compressed_page_size < 0)
    return fail(t, "negative page size");
  if (h->num_values < 0) return fail(t, "negative num_values in page header");
  *header_len = (size_t)(t->p - t->start);
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Page index

void otap_parquet_offset_index_reset(struct otap_parquet_offset_index* idx) {
  if (!idx) return;
  otap_free(idx->pages);
  memset(idx, 0, sizeof(*idx));
}

void otap_parquet_column_index_reset(struct otap_parquet_column_index* idx) {
  if (!idx) return;
  otap_free(idx->null_pages);
  otap_free(idx->min_values);
  otap_free(idx->max_values);
  otap_free(idx->null_counts);
  otap_free(idx->storage);
  memset(idx, 0, sizeof(*idx));
}

int otap__pq_decode_offset_index(const uint8_t* data, size_t n, int64_t base_offset,
                                 struct otap_parquet_offset_index* out, struct otap_error* err) {
  struct pq_thrift t0, *t = &t0;
  otap__pq_thrift_init(t, data, n, base_offset, "offset index", err);
  memset(out, 0, sizeof(*out));
  struct pq_field f;
  int rc = 0;
  bool has_pages = false;
  OTAP_GOTO_NOT_OK(rc, struct_begin(t, &f));
  for (;;) {
    OTAP_GOTO_NOT_OK(rc, field_next(t, &f));
    if (f.type == PQ_T_STOP) break;
    if (f.id != 1 || has_pages) {
      OTAP_GOTO_NOT_OK(rc, skip(t, f.type));
      continue;
    }
    int et;
    int32_t cnt;
    OTAP_GOTO_NOT_OK(rc, expect(t, &f, PQ_T_LIST));
    OTAP_GOTO_NOT_OK(rc, rd_list(t, &et, &cnt));
    if (et != PQ_T_STRUCT) {
      rc = fail(t, "page_locations is not a list of structs");
      goto done;
    }
    out->pages = otap_calloc((size_t)cnt + 1, sizeof(*out->pages));
    if (!out->pages) {
      rc = otap_error_set(err, ENOMEM, "out of memory");
      goto done;
    }
    for (int32_t i = 0; i < cnt; i++) {
      struct pq_field g;
      OTAP_GOTO_NOT_OK(rc, struct_begin(t, &g));
      for (;;) {
        OTAP_GOTO_NOT_OK(rc, field_next(t, &g));
        if (g.type == PQ_T_STOP) break;
        if (g.id == 1) OTAP_GOTO_NOT_OK(rc, f_i64(t, &g, &out->pages[i].offset));
        else if (g.id == 2) OTAP_GOTO_NOT_OK(rc, f_i32(t, &g, &out->pages[i].compressed_page_size));
        else if (g.id == 3) OTAP_GOTO_NOT_OK(rc, f_i64(t, &g, &out->pages[i].first_row_index));
        else OTAP_GOTO_NOT_OK(rc, skip(t, g.type));
      }
    }
    out->n_pages = cnt;
    has_pages = true;
  }
  if (!has_pages) rc = fail(t, "OffsetIndex without page_locations");
done:
  if (rc) otap_parquet_offset_index_reset(out);
  return rc;
}

static int dec_binary_list(struct pq_thrift* t, struct otap_parquet_bytes** out, int32_t* n) {
  int et;
  OTAP_RETURN_NOT_OK(rd_list(t, &et, n));
  if (et != PQ_T_BINARY) return fail(t, "expected a list of binary");
  *out = otap_calloc((size_t)*n + 1, sizeof(**out));
  if (!*out) return otap_error_set(t->err, ENOMEM, "out of memory");
  for (int32_t i = 0; i < *n; i++) OTAP_RETURN_NOT_OK(rd_binary(t, &(*out)[i].data, &(*out)[i].len));
  return 0;
}

int otap__pq_decode_column_index(const uint8_t* data, size_t n, int64_t base_offset,
                                 struct otap_parquet_column_index* out, struct otap_error* err) {
  struct pq_thrift t0, *t = &t0;
  otap__pq_thrift_init(t, data, n, base_offset, "column index", err);
  memset(out, 0, sizeof(*out));
  struct pq_field f;
  int rc = 0;
  int32_t n_null = -1, n_min = -1, n_max = -1, n_counts = -1;
  OTAP_GOTO_NOT_OK(rc, struct_begin(t, &f));
  for (;;) {
    OTAP_GOTO_NOT_OK(rc, field_next(t, &f));
    if (f.type == PQ_T_STOP) break;
    int et;
    int32_t cnt;
    if (f.id == 1 && !out->null_pages) {
      OTAP_GOTO_NOT_OK(rc, expect(t, &f, PQ_T_LIST));
      OTAP_GOTO_NOT_OK(rc, rd_list(t, &et, &cnt));
      out->null_pages = otap_calloc((size_t)cnt + 1, sizeof(bool));
      if (!out->null_pages) {
        rc = otap_error_set(err, ENOMEM, "out of memory");
        goto done;
      }
      for (int32_t i = 0; i < cnt; i++) {
        uint8_t b = 0;
        if (et != PQ_T_TRUE && et != PQ_T_FALSE) {
          rc = fail(t, "null_pages is not a list of bool");
          goto done;
        }
        OTAP_GOTO_NOT_OK(rc, rd_byte(t, &b));
        out->null_pages[i] = (b == 1);
      }
      n_null = cnt;
    } else if (f.id == 2 && !out->min_values) {
      OTAP_GOTO_NOT_OK(rc, expect(t, &f, PQ_T_LIST));
      OTAP_GOTO_NOT_OK(rc, dec_binary_list(t, &out->min_values, &n_min));
    } else if (f.id == 3 && !out->max_values) {
      OTAP_GOTO_NOT_OK(rc, expect(t, &f, PQ_T_LIST));
      OTAP_GOTO_NOT_OK(rc, dec_binary_list(t, &out->max_values, &n_max));
    } else if (f.id == 4) {
      OTAP_GOTO_NOT_OK(rc, f_i32(t, &f, &out->boundary_order));
    } else if (f.id == 5 && !out->null_counts) {
      OTAP_GOTO_NOT_OK(rc, expect(t, &f, PQ_T_LIST));
      OTAP_GOTO_NOT_OK(rc, rd_list(t, &et, &cnt));
      out->null_counts = otap_calloc((size_t)cnt + 1, sizeof(int64_t));
      if (!out->null_counts) {
        rc = otap_error_set(err, ENOMEM, "out of memory");
        goto done;
      }
      for (int32_t i = 0; i < cnt; i++) OTAP_GOTO_NOT_OK(rc, rd_i64(t, &out->null_counts[i]));
      n_counts = cnt;
      out->has_null_counts = true;
    } else {
      OTAP_GOTO_NOT_OK(rc, skip(t, f.type));
    }
  }
  if (n_null < 0 || n_min != n_null || n_max != n_null || (n_counts >= 0 && n_counts != n_null)) {
    rc = fail(t, "ColumnIndex lists missing or of different lengths");
    goto done;
  }
  out->n_pages = n_null;
done:
  if (rc) otap_parquet_column_index_reset(out);
  return rc;
}
