// The Parquet writer: levels from Arrow views, dictionary / PLAIN / DELTA / BYTE_STREAM_SPLIT
// pages, statistics, row groups, page indexes and the footer.
#include <limits.h>
#include <math.h>
#include <stdio.h>

#include "parquet/pqw_writer_internal.h"

// The ARROW:schema key-value is encoded by the ipc module (otap_ipc_schema_encode).
// (the parquet module's CMakeLists defines OTAP_PARQUET_HAVE_IPC when it links ipc).
#ifndef OTAP_PQW_ARROW_SCHEMA
#ifdef OTAP_PARQUET_HAVE_IPC
#define OTAP_PQW_ARROW_SCHEMA 1
#else
#define OTAP_PQW_ARROW_SCHEMA 0
#endif
#endif
#if OTAP_PQW_ARROW_SCHEMA
#include "otap/ipc.h"
#endif

struct pqw_chunk_meta {
  int64_t start, data_page_offset, dict_page_offset;
  int64_t num_values, total_uncompressed, total_compressed;
  int64_t null_count;
  bool has_mm;
  uint8_t* min;
  uint8_t* max;
  int32_t min_len, max_len;
  uint32_t encodings;  // bit per enum otap_parquet_encoding
  int64_t n_dict_data_pages, n_plain_data_pages, n_empty_plain_pages;
  bool has_dict_page;
  enum otap_parquet_encoding plain_encoding;
  int64_t n_pages;
  struct pqw_page_location* locs;
  bool ci_valid;
  bool* null_pages;
  int64_t* null_counts;
  uint8_t* bounds;
  int64_t* bound_offsets;  // 4 per page: min start, min len, max start, max len
  enum pqw_boundary_order order;
  int64_t ci_offset, oi_offset;
  int32_t ci_len, oi_len;
};

struct pqw_row_group {
  int64_t num_rows, file_offset, total_byte_size, total_compressed;
  struct pqw_chunk_meta* chunks;
};

struct otap_parquet_writer {
  struct otap_sink* sink;
  struct otap_parquet_write_options opt;
  char* created_by;
  char* root_name;
  struct otap_metadata_entry* md;
  int32_t n_md;
  struct ArrowSchema schema;
  struct pqw_node root;
  struct pqw_column* cols;
  int n_cols;
  struct otap_array_view view;
  bool view_ready;
  int64_t pos;
  int64_t rg_rows, total_rows;
  struct pqw_row_group* rgs;
  int64_t n_rgs, cap_rgs;
  struct otap_buffer lv_def, lv_rep, lv_idx;
  struct otap_buffer page, comp, hdr, vbuf, tmp;
  struct otap_buffer gfix;
  const uint8_t* gptr[PQW_GATHER];
  int64_t glen[PQW_GATHER];
  int64_t gidx[PQW_GATHER];
  struct pqw_codec_ctx codec_ctx;
  bool closed, failed;
};

// ---------------------------------------------------------------------------------------------
// Options and names

void otap_parquet_write_options_init(struct otap_parquet_write_options* o) {
  memset(o, 0, sizeof(*o));
  o->codec = OTAP_PARQUET_CODEC_UNCOMPRESSED;
  o->compression_level = INT32_MIN;
  o->row_group_rows = 1048576;
  o->data_page_size = 1 << 20;
  o->data_page_rows = 20000;
  o->page_version = 1;
  o->dictionary = true;
  o->dictionary_page_size = 1 << 20;
  o->dictionary_max_ratio = 0.75;
  o->default_encoding = OTAP_PARQUET_ENC_PLAIN;
  o->write_statistics = true;
  o->write_page_index = true;
  o->write_arrow_schema = true;
  o->statistics_truncate = 64;
  o->validation = OTAP_VALIDATE_DEFAULT;
}

static const char* const codec_names[] = {"none", "snappy", "gzip",   "lzo",
                                          "brotli", "lz4",  "zstd", "lz4_raw"};

const char* otap_parquet_writer_codec_name(enum otap_parquet_codec codec) {
  if ((int)codec < 0 || (int)codec > 7) return "unknown";
  return codec_names[codec];
}

int otap_parquet_writer_codec_from_name(const char* name, enum otap_parquet_codec* out) {
  if (!name) return ENOTSUP;
  if (strcmp(name, "uncompressed") == 0) {
    *out = OTAP_PARQUET_CODEC_UNCOMPRESSED;
    return 0;
  }
  for (int i = 0; i < 8; i++) {
    if (i != OTAP_PARQUET_CODEC_LZO && strcmp(name, codec_names[i]) == 0) {
      *out = (enum otap_parquet_codec)i;
      return 0;
    }
  }
  return ENOTSUP;
}

// ---------------------------------------------------------------------------------------------
// Small helpers

static int oom(struct otap_error* err, const char* what) {
  return otap_error_set(err, ENOMEM, "parquet writer: out of memory (%s)", what);
}

static int sink_write(struct otap_parquet_writer* w, const void* data, int64_t n,
                      struct otap_error* err) {
  if (n == 0) return 0;
  int rc = w->sink->write(w->sink, data, (size_t)n, err);
  if (rc) return otap_error_prefix(err, rc, "parquet writer: writing %lld bytes at offset %lld: ",
                                   (long long)n, (long long)w->pos);
  w->pos += n;
  return 0;
}

static int set_bytes(struct otap_buffer* b, const uint8_t* p, int64_t n) {
  b->size = 0;
  return otap_buffer_append(b, p, n);
}

static uint64_t hash_bytes(const uint8_t* p, int64_t n) {
  uint64_t h = 0x9E3779B97F4A7C15ull ^ (uint64_t)n;
  while (n >= 8) {
    uint64_t k;
    memcpy(&k, p, 8);
    h = (h ^ k) * 0xff51afd7ed558ccdull;
    h ^= h >> 32;
    p += 8;
    n -= 8;
  }
  uint64_t k = 0;
  if (n > 0) memcpy(&k, p, (size_t)n);
  h = (h ^ k) * 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 29;
  return h;
}

static float half_to_float(uint16_t h) {
  int s = h >> 15, e = (h >> 10) & 0x1f, m = h & 0x3ff;
  float v;
  if (e == 0) {
    v = ldexpf((float)m, -24);
  } else if (e == 31) {
    v = m ? NAN : INFINITY;
  } else {
    v = ldexpf((float)(m | 0x400), e - 25);
  }
  return s ? -v : v;
}

// Compares two physical values under the column order (<0, 0, >0).
static int cmp_vals(enum pqw_order o, const uint8_t* a, int64_t al, const uint8_t* b, int64_t bl) {
  switch (o) {
    case PQW_ORD_BOOL:
      return (int)a[0] - (int)b[0];
    case PQW_ORD_I32: {
      int32_t x, y;
      memcpy(&x, a, 4);
      memcpy(&y, b, 4);
      return (x > y) - (x < y);
    }
    case PQW_ORD_U32: {
      uint32_t x, y;
      memcpy(&x, a, 4);
      memcpy(&y, b, 4);
      return (x > y) - (x < y);
    }
    case PQW_ORD_I64: {
      int64_t x, y;
      memcpy(&x, a, 8);
      memcpy(&y, b, 8);
      return (x > y) - (x < y);
    }
    case PQW_ORD_U64: {
      uint64_t x, y;
      memcpy(&x, a, 8);
      memcpy(&y, b, 8);
      return (x > y) - (x < y);
    }
    case PQW_ORD_F32: {
      float x, y;
      memcpy(&x, a, 4);
      memcpy(&y, b, 4);
      return (x > y) - (x < y);
    }
    case PQW_ORD_F64: {
      double x, y;
      memcpy(&x, a, 8);
      memcpy(&y, b, 8);
      return (x > y) - (x < y);
    }
    case PQW_ORD_F16: {
      float x = half_to_float(otap_load_u16le(a)), y = half_to_float(otap_load_u16le(b));
      return (x > y) - (x < y);
    }
    case PQW_ORD_DEC_BE: {
      if (al > 0 && bl > 0 && a[0] != b[0]) return (int8_t)a[0] < (int8_t)b[0] ? -1 : 1;
      int c = al > 1 ? memcmp(a + 1, b + 1, (size_t)(al - 1)) : 0;
      return c;
    }
    case PQW_ORD_BYTES: {
      int64_t n = al < bl ? al : bl;
      int c = n ? memcmp(a, b, (size_t)n) : 0;
      if (c) return c;
      return (al > bl) - (al < bl);
    }
    default:
      return 0;
  }
}

static bool is_nan_val(enum pqw_order o, const uint8_t* p) {
  if (o == PQW_ORD_F32) {
    float x;
    memcpy(&x, p, 4);
    return isnan(x);
  }
  if (o == PQW_ORD_F64) {
    double x;
    memcpy(&x, p, 8);
    return isnan(x);
  }
  if (o == PQW_ORD_F16) return isnan(half_to_float(otap_load_u16le(p)));
  return false;
}

// Writes the final (normalized) form of a min or max value into out.
static int stat_output(enum pqw_order o, const uint8_t* v, int64_t n, bool is_max,
                       struct otap_buffer* out) {
  OTAP_RETURN_NOT_OK(set_bytes(out, v, n));
  if (o == PQW_ORD_F32) {
    float x;
    memcpy(&x, v, 4);
    if (x == 0) {
      x = is_max ? 0.0f : -0.0f;
      memcpy(out->data, &x, 4);
    }
  } else if (o == PQW_ORD_F64) {
    double x;
    memcpy(&x, v, 8);
    if (x == 0) {
      x = is_max ? 0.0 : -0.0;
      memcpy(out->data, &x, 8);
    }
  } else if (o == PQW_ORD_F16) {
    if ((otap_load_u16le(v) & 0x7fff) == 0) otap_store_u16le(out->data, is_max ? 0 : 0x8000);
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Column setup and teardown

static void column_reset_page(struct pqw_column* c) {
  c->def.size = c->rep.size = c->idx.size = c->vals.size = c->lens.size = 0;
  c->page_levels = c->page_values = c->page_rows = 0;
  c->page_has_mm = false;
}

static void column_reset_chunk(struct pqw_column* c) {
  column_reset_page(c);
  c->chunk.size = 0;
  c->chunk_uncompressed = c->chunk_levels = c->chunk_nulls = c->chunk_rows = 0;
  c->chunk_has_mm = false;
  c->plain_data_pages = 0;
  c->empty_plain_pages = 0;
  c->pi_locs.size = c->pi_null.size = c->pi_nulls.size = c->pi_bounds.size = 0;
  c->pi_offsets.size = 0;
  c->pi_valid = c->leaf->order != PQW_ORD_NONE;
  c->dict_mode = c->dict_enabled;
  c->n_dict = 0;
  c->dict_values.size = 0;
  c->dict_offsets.size = 0;
  c->dict_data_pages = 0;
  c->dict_seen = 0;
  if (c->slots) memset(c->slots, 0, (size_t)c->slot_cap * sizeof(uint64_t));
}

static void column_free(struct pqw_column* c) {
  for (int i = 0; i < c->n_parts; i++) otap_free(c->parts[i]);
  otap_free(c->parts);
  otap_free(c->path);
  otap_free(c->slots);
  otap_free(c->entry_hash);
  struct otap_buffer* bufs[] = {&c->dict_values, &c->dict_offsets, &c->def,       &c->rep,
                                &c->idx,         &c->vals,         &c->lens,      &c->page_min,
                                &c->page_max,    &c->chunk,        &c->chunk_min, &c->chunk_max,
                                &c->pi_locs,     &c->pi_null,      &c->pi_nulls,  &c->pi_bounds,
                                &c->pi_offsets,  &c->remap,        &c->remap_gen};
  for (size_t i = 0; i < sizeof(bufs) / sizeof(bufs[0]); i++) otap_buffer_reset(bufs[i]);
}

static bool encoding_fits(enum otap_parquet_physical_type t, int enc) {
  switch (enc) {
    case OTAP_PARQUET_ENC_PLAIN:
      return true;
    case OTAP_PARQUET_ENC_DELTA_BINARY_PACKED:
      return t == OTAP_PARQUET_INT32 || t == OTAP_PARQUET_INT64;
    case OTAP_PARQUET_ENC_DELTA_LENGTH_BYTE_ARRAY:
      return t == OTAP_PARQUET_BYTE_ARRAY;
    case OTAP_PARQUET_ENC_DELTA_BYTE_ARRAY:
      return t == OTAP_PARQUET_BYTE_ARRAY || t == OTAP_PARQUET_FIXED_LEN_BYTE_ARRAY;
    case OTAP_PARQUET_ENC_BYTE_STREAM_SPLIT:
      return t == OTAP_PARQUET_FLOAT || t == OTAP_PARQUET_DOUBLE || t == OTAP_PARQUET_INT32 ||
             t == OTAP_PARQUET_INT64 || t == OTAP_PARQUET_FIXED_LEN_BYTE_ARRAY;
    default:
      return false;
  }
}

struct path_state {
  const struct pqw_node* nodes[PQW_MAX_DEPTH];
  int pos[PQW_MAX_DEPTH];
  int n;
};

static int add_column(struct otap_parquet_writer* w, const struct path_state* ps,
                      struct otap_error* err) {
  struct pqw_column* c = &w->cols[w->n_cols];
  memset(c, 0, sizeof(*c));
  c->n_nodes = ps->n;
  int16_t def = 0, rep = 0;
  const char* parts[PQW_MAX_DEPTH * 2];
  int np = 0;
  for (int k = 0; k < ps->n; k++) {
    const struct pqw_node* n = ps->nodes[k];
    c->nodes[k] = n;
    c->child_pos[k] = ps->pos[k];
    if (n->nullable) def++;
    bool skip_name = k > 0 && ps->nodes[k - 1]->kind == PQW_MAP;
    if (!skip_name) parts[np++] = n->name;
    if (n->kind == PQW_LIST || n->kind == PQW_MAP) {
      def++;
      rep++;
      parts[np++] = n->kind == PQW_LIST ? "list" : "key_value";
    }
  }
  c->max_def = def;
  c->max_rep = rep;
  c->leaf = ps->nodes[ps->n - 1];
  w->n_cols++;  // owned from here on (freed by column_free)
  c->parts = otap_calloc((size_t)np, sizeof(char*));
  if (!c->parts) return oom(err, "column path");
  c->n_parts = np;
  size_t total = 1;
  for (int i = 0; i < np; i++) {
    c->parts[i] = otap_strdup(parts[i]);
    if (!c->parts[i]) return oom(err, "column path");
    total += strlen(parts[i]) + 1;
  }
  c->path = otap_malloc(total);
  if (!c->path) return oom(err, "column path");
  c->path[0] = 0;
  for (int i = 0; i < np; i++) {
    if (i) strcat(c->path, ".");
    strcat(c->path, parts[i]);
  }
  const struct pqw_node* leaf = c->leaf;
  switch (leaf->ptype) {
    case OTAP_PARQUET_BOOLEAN:
      c->width = 1;
      break;
    case OTAP_PARQUET_INT32:
    case OTAP_PARQUET_FLOAT:
      c->width = 4;
      break;
    case OTAP_PARQUET_INT64:
    case OTAP_PARQUET_DOUBLE:
      c->width = 8;
      break;
    case OTAP_PARQUET_FIXED_LEN_BYTE_ARRAY:
      c->width = leaf->type_length;
      break;
    default:
      c->width = 0;
  }
  bool dict = w->opt.dictionary && leaf->ptype != OTAP_PARQUET_BOOLEAN &&
              leaf->ptype != OTAP_PARQUET_FIXED_LEN_BYTE_ARRAY && leaf->src != PQW_SRC_NULL;
  int enc = encoding_fits(leaf->ptype, w->opt.default_encoding) ? w->opt.default_encoding
                                                                 : OTAP_PARQUET_ENC_PLAIN;
  for (int32_t i = 0; i < w->opt.n_columns; i++) {
    const struct otap_parquet_column_options* co = &w->opt.columns[i];
    if (!co->path) continue;
    if (strcmp(co->path, c->path) != 0 && strcmp(co->path, c->parts[0]) != 0) continue;
    if (co->dictionary >= 0) {
      dict = co->dictionary && leaf->ptype != OTAP_PARQUET_BOOLEAN && leaf->src != PQW_SRC_NULL;
    }
    if (co->encoding >= 0) {
      if (!encoding_fits(leaf->ptype, co->encoding)) {
        return otap_error_set(err, ENOTSUP,
                              "parquet writer: column %s: encoding %d does not apply to its "
                              "physical type %d",
                              c->path, co->encoding, (int)leaf->ptype);
      }
      enc = co->encoding;
    }
  }
  c->dict_enabled = dict;
  c->plain_encoding = (enum otap_parquet_encoding)enc;
  c->step = w->opt.data_page_size / (c->width > 0 ? c->width : 16);
  if (c->step > PQW_GATHER) c->step = PQW_GATHER;
  if (c->step < 32) c->step = 32;
  column_reset_chunk(c);
  return 0;
}

static int collect_columns(struct otap_parquet_writer* w, struct path_state* ps,
                           const struct pqw_node* n, int pos, struct otap_error* err) {
  if (ps->n >= PQW_MAX_DEPTH) {
    return otap_error_set(err, ENOTSUP, "parquet writer: schema nests too deeply");
  }
  ps->nodes[ps->n] = n;
  ps->pos[ps->n] = pos;
  ps->n++;
  int rc = 0;
  if (n->kind == PQW_LEAF) {
    rc = add_column(w, ps, err);
  } else {
    for (int i = 0; i < n->n_children && rc == 0; i++) {
      rc = collect_columns(w, ps, &n->children[i], i, err);
    }
  }
  ps->n--;
  return rc;
}

static int count_leaves(const struct pqw_node* n) {
  if (n->kind == PQW_LEAF) return 1;
  int c = 0;
  for (int i = 0; i < n->n_children; i++) c += count_leaves(&n->children[i]);
  return c;
}

// ---------------------------------------------------------------------------------------------
// Levels

struct lvctx {
  struct otap_parquet_writer* w;
  const struct pqw_column* c;
  const struct otap_array_view* const* views;
  int64_t n, nv;
  struct otap_error* err;
};

static inline int emit(struct lvctx* x, int d, int r, int64_t idx) {
  struct otap_parquet_writer* w = x->w;
  if (OTAP_UNLIKELY((x->n + 1) * 2 > w->lv_def.capacity || (x->n + 1) * 2 > w->lv_rep.capacity ||
                    (x->nv + 1) * 8 > w->lv_idx.capacity)) {
    w->lv_def.size = w->lv_rep.size = x->n * 2;
    w->lv_idx.size = x->nv * 8;
    if (otap_buffer_reserve(&w->lv_def, 2 + x->n) || otap_buffer_reserve(&w->lv_rep, 2 + x->n) ||
        otap_buffer_reserve(&w->lv_idx, 8 + x->nv * 8)) {
      return oom(x->err, "levels");
    }
  }
  ((uint16_t*)w->lv_def.data)[x->n] = (uint16_t)d;
  ((uint16_t*)w->lv_rep.data)[x->n] = (uint16_t)r;
  x->n++;
  if (d == x->c->max_def) ((int64_t*)w->lv_idx.data)[x->nv++] = idx;
  return 0;
}

static int null_in_required(struct lvctx* x, int k, int64_t idx) {
  return otap_error_set(x->err, EINVAL,
                        "parquet writer: column %s: null at element %lld of non-nullable field %s",
                        x->c->path, (long long)idx, x->c->nodes[k]->name);
}

static int rec_levels(struct lvctx* x, int k, int64_t idx, int d, int r, int rep_here) {
  const struct pqw_node* n = x->c->nodes[k];
  const struct otap_array_view* v = x->views[k];
  if (n->kind == PQW_LEAF && n->src == PQW_SRC_NULL) return emit(x, d, r, -1);
  if (otap_view_is_null(v, idx)) {
    if (!n->nullable) return null_in_required(x, k, idx);
    return emit(x, d, r, -1);
  }
  if (n->nullable) d++;
  switch (n->kind) {
    case PQW_LEAF:
      return emit(x, d, r, idx);
    case PQW_STRUCT:
      return rec_levels(x, k + 1, v->offset + idx, d, r, rep_here);
    case PQW_LIST:
    case PQW_MAP: {
      int64_t s, e;
      otap_view_get_list_range(v, idx, &s, &e);
      if (OTAP_UNLIKELY(s < 0 || e < s || e > x->views[k + 1]->length)) {
        return otap_error_set(x->err, EINVAL,
                              "parquet writer: column %s: list element %lld spans %lld..%lld, "
                              "outside its %lld child values",
                              x->c->path, (long long)idx, (long long)s, (long long)e,
                              (long long)x->views[k + 1]->length);
      }
      if (s == e) return emit(x, d, r, -1);
      for (int64_t i = s; i < e; i++) {
        OTAP_RETURN_NOT_OK(rec_levels(x, k + 1, i, d + 1, i == s ? r : rep_here + 1, rep_here + 1));
      }
      return 0;
    }
  }
  return 0;
}

// Levels and value indices of rows [a, b) of column c into w->lv_*.
static int gen_levels(struct otap_parquet_writer* w, const struct pqw_column* c,
                      const struct otap_array_view* const* views, int64_t base, int64_t a,
                      int64_t b, int64_t* n_levels, int64_t* n_vals, struct otap_error* err) {
  if (c->max_rep == 0) {
    int64_t n = b - a;
    w->lv_def.size = w->lv_idx.size = 0;
    if (otap_buffer_reserve(&w->lv_def, n * 2) || otap_buffer_reserve(&w->lv_idx, n * 8)) {
      return oom(err, "levels");
    }
    uint16_t* def = (uint16_t*)w->lv_def.data;
    int64_t* vi = (int64_t*)w->lv_idx.data;
    int64_t nv = 0;
    const struct otap_array_view* v0 = views[0];
    if (c->n_nodes == 1 && c->leaf->src != PQW_SRC_NULL &&
        (!v0->buffers[0] || v0->null_count == 0)) {
      for (int64_t r = 0; r < n; r++) {
        def[r] = (uint16_t)c->max_def;
        vi[r] = base + a + r;
      }
      *n_levels = *n_vals = n;
      return 0;
    }
    if (c->n_nodes == 1 && c->leaf->src != PQW_SRC_NULL && c->leaf->nullable) {
      // Flat nullable column: definition level = validity bit (branch-free).
      const uint8_t* valid = v0->buffers[0];
      int64_t off = v0->offset;
      for (int64_t r = 0; r < n; r++) {
        int64_t idx = base + a + r;
        uint16_t ok = (uint16_t)otap_bit_get(valid, off + idx);
        def[r] = ok;
        vi[nv] = idx;
        nv += ok;
      }
      *n_levels = n;
      *n_vals = nv;
      return 0;
    }
    for (int64_t r = 0; r < n; r++) {
      int64_t idx = base + a + r;
      int d = 0;
      bool present = true;
      for (int k = 0; k < c->n_nodes; k++) {
        const struct pqw_node* nd = c->nodes[k];
        const struct otap_array_view* v = views[k];
        if (nd->kind == PQW_LEAF && nd->src == PQW_SRC_NULL) {
          present = false;
          break;
        }
        if (otap_view_is_null(v, idx)) {
          if (!nd->nullable) {
            return otap_error_set(err, EINVAL,
                                  "parquet writer: column %s: null in non-nullable field %s at "
                                  "row %lld",
                                  c->path, nd->name, (long long)(a + r));
          }
          present = false;
          break;
        }
        if (nd->nullable) d++;
        if (nd->kind == PQW_STRUCT) idx = v->offset + idx;
      }
      def[r] = (uint16_t)d;
      if (present) vi[nv++] = idx;
    }
    *n_levels = n;
    *n_vals = nv;
    return 0;
  }
  struct lvctx x = {w, c, views, 0, 0, err};
  for (int64_t r = a; r < b; r++) OTAP_RETURN_NOT_OK(rec_levels(&x, 0, base + r, 0, 0, 0));
  *n_levels = x.n;
  *n_vals = x.nv;
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Values: gather -> statistics -> dictionary or raw page values

static int gather(struct otap_parquet_writer* w, const struct pqw_column* c,
                  const struct otap_array_view* v, const int64_t* ids, int64_t m,
                  struct otap_error* err) {
  const struct pqw_node* leaf = c->leaf;
  const uint8_t* b = v->buffers[1];
  int64_t off = v->offset;
  uint8_t* o = w->gfix.data;
  switch (leaf->src) {
    case PQW_SRC_BOOL:
      for (int64_t j = 0; j < m; j++) o[j] = otap_bit_get(b, off + ids[j]);
      break;
    case PQW_SRC_I8:
      for (int64_t j = 0; j < m; j++) {
        int32_t x = ((const int8_t*)b)[off + ids[j]];
        memcpy(o + 4 * j, &x, 4);
      }
      break;
    case PQW_SRC_U8:
      for (int64_t j = 0; j < m; j++) {
        int32_t x = b[off + ids[j]];
        memcpy(o + 4 * j, &x, 4);
      }
      break;
    case PQW_SRC_I16:
      for (int64_t j = 0; j < m; j++) {
        int16_t s;
        memcpy(&s, b + 2 * (off + ids[j]), 2);
        int32_t x = s;
        memcpy(o + 4 * j, &x, 4);
      }
      break;
    case PQW_SRC_U16:
      for (int64_t j = 0; j < m; j++) {
        uint16_t s;
        memcpy(&s, b + 2 * (off + ids[j]), 2);
        int32_t x = s;
        memcpy(o + 4 * j, &x, 4);
      }
      break;
    case PQW_SRC_I32:
      for (int64_t j = 0; j < m; j++) memcpy(o + 4 * j, b + 4 * (off + ids[j]), 4);
      break;
    case PQW_SRC_I64:
      for (int64_t j = 0; j < m; j++) memcpy(o + 8 * j, b + 8 * (off + ids[j]), 8);
      break;
    case PQW_SRC_F16:
      for (int64_t j = 0; j < m; j++) memcpy(o + 2 * j, b + 2 * (off + ids[j]), 2);
      break;
    case PQW_SRC_DATE64:
      for (int64_t j = 0; j < m; j++) {
        int64_t ms;
        memcpy(&ms, b + 8 * (off + ids[j]), 8);
        int64_t days = ms / 86400000;
        if (ms % 86400000 < 0) days--;
        int32_t x = (int32_t)days;
        memcpy(o + 4 * j, &x, 4);
      }
      break;
    case PQW_SRC_I32_X1000:
      for (int64_t j = 0; j < m; j++) {
        uint32_t x;
        memcpy(&x, b + 4 * (off + ids[j]), 4);
        x *= 1000u;
        memcpy(o + 4 * j, &x, 4);
      }
      break;
    case PQW_SRC_I64_X1000:
      for (int64_t j = 0; j < m; j++) {
        uint64_t x;
        memcpy(&x, b + 8 * (off + ids[j]), 8);
        x *= 1000u;
        memcpy(o + 8 * j, &x, 8);
      }
      break;
    case PQW_SRC_DECIMAL: {
      int sw = leaf->src_width, L = leaf->type_length;
      for (int64_t j = 0; j < m; j++) {
        const uint8_t* s = b + (int64_t)sw * (off + ids[j]);
        uint8_t* d = o + (int64_t)L * j;
        for (int i = 0; i < L; i++) d[i] = s[L - 1 - i];
      }
      break;
    }
    case PQW_SRC_FSB: {
      int wd = leaf->src_width;
      for (int64_t j = 0; j < m; j++) memcpy(o + (int64_t)wd * j, b + (int64_t)wd * (off + ids[j]), (size_t)wd);
      break;
    }
    case PQW_SRC_BYTES:
      if (v->storage_type == OTAP_TYPE_STRING || v->storage_type == OTAP_TYPE_BINARY) {
        static const uint8_t no_data[1] = {0};
        const uint8_t* data = v->buffers[2] ? v->buffers[2] : no_data;  // all values empty
        int64_t size = v->buffers[2] ? v->buffer_sizes[2] : 0;
        for (int64_t j = 0; j < m; j++) {
          int32_t s0, s1;
          memcpy(&s0, b + 4 * (off + ids[j]), 4);
          memcpy(&s1, b + 4 * (off + ids[j]) + 4, 4);
          if (OTAP_UNLIKELY(s0 < 0 || s1 < s0 || s1 > size)) {
            return otap_error_set(err, EINVAL,
                                  "parquet writer: column %s: element %lld has offsets %d..%d "
                                  "outside its %lld-byte data buffer",
                                  c->path, (long long)ids[j], s0, s1, (long long)size);
          }
          w->gptr[j] = data + s0;
          w->glen[j] = s1 - s0;
        }
      } else {
        for (int64_t j = 0; j < m; j++) {
          otap_view_get_bytes(v, ids[j], &w->gptr[j], &w->glen[j]);
          if (OTAP_UNLIKELY(w->glen[j] < 0)) {
            return otap_error_set(err, EINVAL, "parquet writer: column %s: element %lld has a "
                                  "negative length", c->path, (long long)ids[j]);
          }
        }
      }
      break;
    case PQW_SRC_NULL:
      break;
  }
  return 0;
}

static int update_stats(struct otap_parquet_writer* w, struct pqw_column* c, int64_t m) {
  enum pqw_order o = c->leaf->order;
  if (o == PQW_ORD_NONE || m == 0) return 0;
  int64_t lo = -1, hi = -1;
  const uint8_t* g = w->gfix.data;
  int wd = c->width;
#define PQW_MINMAX(T)                       \
  {                                         \
    T mn, mx;                               \
    memcpy(&mn, g, sizeof(T));              \
    mx = mn;                                \
    lo = hi = 0;                            \
    for (int64_t j = 1; j < m; j++) {       \
      T x;                                  \
      memcpy(&x, g + j * sizeof(T), sizeof(T)); \
      if (x < mn) {                         \
        mn = x;                             \
        lo = j;                             \
      }                                     \
      if (x > mx) {                         \
        mx = x;                             \
        hi = j;                             \
      }                                     \
    }                                       \
  }
  switch (o) {
    case PQW_ORD_BOOL:
      PQW_MINMAX(uint8_t);
      break;
    case PQW_ORD_I32:
      PQW_MINMAX(int32_t);
      break;
    case PQW_ORD_U32:
      PQW_MINMAX(uint32_t);
      break;
    case PQW_ORD_I64:
      PQW_MINMAX(int64_t);
      break;
    case PQW_ORD_U64:
      PQW_MINMAX(uint64_t);
      break;
    default:
      if (c->width == 0) {
        lo = hi = 0;
        for (int64_t j = 1; j < m; j++) {
          const uint8_t* p = w->gptr[j];
          // Most values lie strictly between the current bounds on their first byte.
          if (w->glen[j] > 0 && w->glen[lo] > 0 && w->glen[hi] > 0 && p[0] > w->gptr[lo][0] &&
              p[0] < w->gptr[hi][0]) {
            continue;
          }
          if (cmp_vals(o, p, w->glen[j], w->gptr[lo], w->glen[lo]) < 0) lo = j;
          if (cmp_vals(o, p, w->glen[j], w->gptr[hi], w->glen[hi]) > 0) hi = j;
        }
        break;
      }
      for (int64_t j = 0; j < m; j++) {
        const uint8_t* p = g + j * wd;
        if (is_nan_val(o, p)) continue;
        if (lo < 0) {
          lo = hi = j;
          continue;
        }
        if (cmp_vals(o, p, wd, g + lo * wd, wd) < 0) lo = j;
        if (cmp_vals(o, p, wd, g + hi * wd, wd) > 0) hi = j;
      }
      break;
  }
#undef PQW_MINMAX
  if (lo < 0) return 0;
  const uint8_t* pl = c->width ? g + lo * wd : w->gptr[lo];
  const uint8_t* ph = c->width ? g + hi * wd : w->gptr[hi];
  int64_t ll = c->width ? wd : w->glen[lo];
  int64_t lh = c->width ? wd : w->glen[hi];
  if (!c->page_has_mm) {
    if (set_bytes(&c->page_min, pl, ll) || set_bytes(&c->page_max, ph, lh)) return ENOMEM;
    c->page_has_mm = true;
    return 0;
  }
  if (cmp_vals(o, pl, ll, c->page_min.data, c->page_min.size) < 0) {
    OTAP_RETURN_NOT_OK(set_bytes(&c->page_min, pl, ll));
  }
  if (cmp_vals(o, ph, lh, c->page_max.data, c->page_max.size) > 0) {
    OTAP_RETURN_NOT_OK(set_bytes(&c->page_max, ph, lh));
  }
  return 0;
}

static inline uint64_t hash_u64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ull;
  x ^= x >> 33;
  return x;
}

static inline uint64_t hash_value(const struct pqw_column* c, const uint8_t* p, int64_t n) {
  if (c->width == 4) return hash_u64(otap_load_u32le(p));
  if (c->width == 8) return hash_u64(otap_load_u64le(p));
  return hash_bytes(p, n);
}

#define PQW_SLOT_TAG(h) ((h) & 0xFFFFFFFF00000000ull)

static int dict_grow(struct pqw_column* c) {
  int64_t cap = c->slot_cap ? c->slot_cap * 2 : 4096;
  uint64_t* slots = otap_calloc((size_t)cap, sizeof(uint64_t));
  if (!slots) return ENOMEM;
  for (int64_t e = 0; e < c->n_dict; e++) {
    uint64_t h = c->entry_hash[e];
    int64_t s = (int64_t)(h & (uint64_t)(cap - 1));
    while (slots[s]) s = (s + 1) & (cap - 1);
    slots[s] = PQW_SLOT_TAG(h) | (uint64_t)(e + 1);
  }
  otap_free(c->slots);
  c->slots = slots;
  c->slot_cap = cap;
  return 0;
}

// Appends a new entry (value p, n bytes, hash h) at slot s; returns its index or -1 (ENOMEM).
static int64_t dict_insert(struct pqw_column* c, const uint8_t* p, int64_t n, uint64_t h, int64_t s) {
  if (c->n_dict >= c->entry_cap) {
    int64_t cap = c->entry_cap ? c->entry_cap * 2 : 1024;
    uint64_t* eh = otap_realloc(c->entry_hash, (size_t)cap * sizeof(uint64_t));
    if (!eh) return -1;
    c->entry_hash = eh;
    c->entry_cap = cap;
  }
  if (c->width) {
    if (otap_buffer_append(&c->dict_values, p, n)) return -1;
  } else {
    int64_t start = c->dict_values.size;
    uint8_t len[4];
    otap_store_u32le(len, (uint32_t)n);
    if (otap_buffer_append(&c->dict_offsets, &start, 8) ||
        otap_buffer_reserve(&c->dict_values, 4 + n)) {
      return -1;
    }
    otap_buffer_append_unsafe(&c->dict_values, len, 4);
    if (n) otap_buffer_append_unsafe(&c->dict_values, p, n);
  }
  c->entry_hash[c->n_dict] = h;
  c->slots[s] = PQW_SLOT_TAG(h) | (uint64_t)(c->n_dict + 1);
  return c->n_dict++;
}

// Index of value (p, n) in the column's dictionary, inserting it when new; -1 on ENOMEM.
static inline int64_t dict_lookup(struct pqw_column* c, const uint8_t* p, int64_t n) {
  uint64_t h = hash_value(c, p, n);
  if (OTAP_UNLIKELY((c->n_dict + 1) * 2 > c->slot_cap) && dict_grow(c)) return -1;
  int64_t mask = c->slot_cap - 1;
  int64_t s = (int64_t)(h & (uint64_t)mask);
  uint64_t tag = PQW_SLOT_TAG(h);
  const uint8_t* dv = c->dict_values.data;
  for (;;) {
    uint64_t slot = c->slots[s];
    if (!slot) break;
    if ((slot & 0xFFFFFFFF00000000ull) == tag) {
      int64_t e = (int64_t)(slot & 0xFFFFFFFFu) - 1;
      switch (c->width) {
        case 0: {
          const uint8_t* q = dv + ((const int64_t*)c->dict_offsets.data)[e];
          if (otap_load_u32le(q) == (uint32_t)n && memcmp(q + 4, p, (size_t)n) == 0) return e;
          break;
        }
        case 4:
          if (otap_load_u32le(dv + 4 * e) == otap_load_u32le(p)) return e;
          break;
        case 8:
          if (otap_load_u64le(dv + 8 * e) == otap_load_u64le(p)) return e;
          break;
        default:
          if (memcmp(dv + e * c->width, p, (size_t)n) == 0) return e;
      }
    }
    s = (s + 1) & mask;
  }
  return dict_insert(c, p, n, h, s);
}

// Dictionary-encoded Arrow leaf in dictionary mode: each Arrow dictionary entry is gathered,
// hashed and folded into the page statistics once per page, then found through c->remap.
static int append_dict_src(struct otap_parquet_writer* w, struct pqw_column* c,
                           const struct otap_array_view* leafv, const int64_t* vidx, int64_t nv,
                           struct otap_error* err) {
  const struct otap_array_view* dv = leafv->dictionary;
  int64_t dict_len = dv->length;
  int64_t* remap = (int64_t*)c->remap.data;
  int64_t* gen = (int64_t*)c->remap_gen.data;
  if (otap_buffer_reserve(&c->idx, nv * 4)) return oom(err, "dictionary indices");
  uint32_t* out = (uint32_t*)(c->idx.data + c->idx.size);
  for (int64_t j = 0; j < nv; j++) {
    int64_t k = otap_view_get_int(leafv, vidx[j]);
    if (OTAP_UNLIKELY(k < 0 || k >= dict_len)) {
      return otap_error_set(err, EINVAL,
                            "parquet writer: column %s: dictionary index %lld of element %lld "
                            "outside the %lld-entry dictionary",
                            c->path, (long long)k, (long long)vidx[j], (long long)dict_len);
    }
    int64_t e = remap[k];
    if (OTAP_UNLIKELY(e < 0 || gen[k] != c->page_gen)) {
      OTAP_RETURN_NOT_OK(gather(w, c, dv, &k, 1, err));
      if (update_stats(w, c, 1)) return oom(err, "statistics");
      if (e < 0) {
        e = c->width ? dict_lookup(c, w->gfix.data, c->width)
                     : dict_lookup(c, w->gptr[0], w->glen[0]);
        if (e < 0) return oom(err, "dictionary");
        remap[k] = e;
      }
      gen[k] = c->page_gen;
    }
    out[j] = (uint32_t)e;
  }
  c->idx.size += nv * 4;
  return 0;
}

static int append_values(struct otap_parquet_writer* w, struct pqw_column* c,
                         const struct otap_array_view* leafv, const int64_t* vidx, int64_t nv,
                         struct otap_error* err) {
  if (c->leaf->dict_src && c->dict_mode && c->remap.size > 0) {
    return append_dict_src(w, c, leafv, vidx, nv, err);
  }
  for (int64_t s = 0; s < nv; s += PQW_GATHER) {
    int64_t m = nv - s < PQW_GATHER ? nv - s : PQW_GATHER;
    const int64_t* ids = vidx + s;
    const struct otap_array_view* v = leafv;
    if (c->leaf->dict_src) {
      int64_t dict_len = leafv->dictionary->length;
      for (int64_t j = 0; j < m; j++) {
        int64_t k = otap_view_get_int(leafv, ids[j]);
        if (OTAP_UNLIKELY(k < 0 || k >= dict_len)) {
          return otap_error_set(err, EINVAL,
                                "parquet writer: column %s: dictionary index %lld of element "
                                "%lld outside the %lld-entry dictionary",
                                c->path, (long long)k, (long long)ids[j], (long long)dict_len);
        }
        w->gidx[j] = k;
      }
      ids = w->gidx;
      v = leafv->dictionary;
    }
    OTAP_RETURN_NOT_OK(gather(w, c, v, ids, m, err));
    if (update_stats(w, c, m)) return oom(err, "statistics");
    if (c->dict_mode) {
      if (otap_buffer_reserve(&c->idx, m * 4)) return oom(err, "dictionary indices");
      uint32_t* out = (uint32_t*)(c->idx.data + c->idx.size);
      if (c->width == 4 || c->width == 8) {
        // Runs of equal values (repeated parent ids, sorted keys) skip the hash table.
        const uint8_t* g = w->gfix.data;
        uint64_t last = 0;
        int64_t last_e = -1;
        for (int64_t j = 0; j < m; j++) {
          uint64_t x = c->width == 4 ? otap_load_u32le(g + 4 * j) : otap_load_u64le(g + 8 * j);
          if (x == last && last_e >= 0) {
            out[j] = (uint32_t)last_e;
            continue;
          }
          int64_t e = dict_lookup(c, g + j * c->width, c->width);
          if (e < 0) return oom(err, "dictionary");
          out[j] = (uint32_t)e;
          last = x;
          last_e = e;
        }
      } else if (c->width) {
        for (int64_t j = 0; j < m; j++) {
          int64_t e = dict_lookup(c, w->gfix.data + j * c->width, c->width);
          if (e < 0) return oom(err, "dictionary");
          out[j] = (uint32_t)e;
        }
      } else {
        // Runs of equal strings (sorted or repeated attributes) skip the hash table.
        const uint8_t* last = NULL;
        int64_t last_len = -1, last_e = 0;
        for (int64_t j = 0; j < m; j++) {
          const uint8_t* p = w->gptr[j];
          int64_t len = w->glen[j];
          if (len == last_len && (p == last || memcmp(p, last, (size_t)len) == 0)) {
            out[j] = (uint32_t)last_e;
            continue;
          }
          int64_t e = dict_lookup(c, p, len);
          if (e < 0) return oom(err, "dictionary");
          out[j] = (uint32_t)e;
          last = p;
          last_len = len;
          last_e = e;
        }
      }
      c->idx.size += m * 4;
      continue;
    }
    if (c->width) {
      if (otap_buffer_append(&c->vals, w->gfix.data, m * c->width)) return oom(err, "page values");
      continue;
    }
    if (c->plain_encoding == OTAP_PARQUET_ENC_PLAIN) {
      int64_t total = 4 * m;
      for (int64_t j = 0; j < m; j++) total += w->glen[j];
      if (otap_buffer_reserve(&c->vals, total)) return oom(err, "page values");
      for (int64_t j = 0; j < m; j++) {
        uint8_t len[4];
        otap_store_u32le(len, (uint32_t)w->glen[j]);
        otap_buffer_append_unsafe(&c->vals, len, 4);
        if (w->glen[j]) otap_buffer_append_unsafe(&c->vals, w->gptr[j], w->glen[j]);
      }
    } else {
      if (otap_buffer_reserve(&c->lens, 4 * m)) return oom(err, "page values");
      for (int64_t j = 0; j < m; j++) {
        if (w->glen[j] > INT32_MAX) {
          return otap_error_set(err, EINVAL, "parquet writer: column %s: value of %lld bytes",
                                c->path, (long long)w->glen[j]);
        }
        int32_t l = (int32_t)w->glen[j];
        otap_buffer_append_unsafe(&c->lens, &l, 4);
        if (otap_buffer_append(&c->vals, w->gptr[j], l)) return oom(err, "page values");
      }
    }
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Pages

static int encode_page_values(struct otap_parquet_writer* w, struct pqw_column* c, bool use_dict,
                              struct otap_buffer* out) {
  int64_t n = c->page_values;
  if (use_dict) {
    int bw = otap__pqw_bit_width((uint64_t)(c->n_dict - 1));
    if (bw == 0) bw = 1;
    uint8_t b = (uint8_t)bw;
    OTAP_RETURN_NOT_OK(otap_buffer_append(out, &b, 1));
    return otap__pqw_rle_encode_u32(out, (const uint32_t*)c->idx.data, n, bw);
  }
  enum otap_parquet_physical_type t = c->leaf->ptype;
  switch (c->plain_encoding) {
    case OTAP_PARQUET_ENC_DELTA_BINARY_PACKED:
      if (t == OTAP_PARQUET_INT32) {
        return otap__pqw_delta_encode_i32(out, (const int32_t*)c->vals.data, n);
      }
      return otap__pqw_delta_encode_i64(out, (const int64_t*)c->vals.data, n);
    case OTAP_PARQUET_ENC_DELTA_LENGTH_BYTE_ARRAY:
      return otap__pqw_delta_length_encode(out, (const int32_t*)c->lens.data, c->vals.data, n);
    case OTAP_PARQUET_ENC_DELTA_BYTE_ARRAY:
      if (c->width) {
        w->tmp.size = 0;
        OTAP_RETURN_NOT_OK(otap_buffer_reserve(&w->tmp, 4 * n));
        for (int64_t i = 0; i < n; i++) ((int32_t*)w->tmp.data)[i] = c->width;
        return otap__pqw_delta_byte_array_encode(out, (const int32_t*)w->tmp.data, c->vals.data, n);
      }
      return otap__pqw_delta_byte_array_encode(out, (const int32_t*)c->lens.data, c->vals.data, n);
    case OTAP_PARQUET_ENC_BYTE_STREAM_SPLIT:
      return otap__pqw_byte_stream_split(out, c->vals.data, n, c->width);
    default:
      if (t == OTAP_PARQUET_BOOLEAN) return otap__pqw_plain_bool(out, c->vals.data, n);
      return otap_buffer_append(out, c->vals.data, c->vals.size);
  }
}

static int rle_levels(struct otap_buffer* out, const struct otap_buffer* lv, int64_t n, int16_t max,
                      bool prefix) {
  int64_t at = out->size;
  if (prefix) OTAP_RETURN_NOT_OK(otap_buffer_append_fill(out, 0, 4));
  OTAP_RETURN_NOT_OK(
      otap__pqw_rle_encode_u16(out, (const uint16_t*)lv->data, n, otap__pqw_bit_width((uint64_t)max)));
  if (prefix) otap_store_u32le(out->data + at, (uint32_t)(out->size - at - 4));
  return 0;
}

static void truncate_bounds(const struct otap_parquet_writer* w, const struct pqw_column* c,
                            struct otap_buffer* mn, struct otap_buffer* mx) {
  int64_t t = w->opt.statistics_truncate;
  if (c->leaf->order != PQW_ORD_BYTES || c->width != 0 || t <= 0) return;
  if (mn->size > t) mn->size = t;
  if (mx->size > t) {
    for (int64_t i = t - 1; i >= 0; i--) {
      if (mx->data[i] != 0xFF) {
        mx->data[i]++;
        mx->size = i + 1;
        return;
      }
    }
  }
}

static int flush_page(struct otap_parquet_writer* w, struct pqw_column* c, struct otap_error* err) {
  if (c->page_levels == 0) return 0;
  int rc = 0;
  // A dictionary-mode page without values (all null or empty lists) is an empty PLAIN page:
  // no index bit width byte for readers to trip over.
  bool use_dict = c->dict_mode && c->n_dict > 0 && c->page_values > 0;
  enum otap_parquet_encoding enc = use_dict ? OTAP_PARQUET_ENC_RLE_DICTIONARY : c->plain_encoding;
  if (c->dict_mode && !use_dict) enc = OTAP_PARQUET_ENC_PLAIN;
  w->vbuf.size = w->page.size = w->comp.size = w->hdr.size = 0;
  if (!(c->dict_mode && !use_dict)) {
    OTAP_GOTO_NOT_OK(rc, encode_page_values(w, c, use_dict, &w->vbuf));
  }
  struct pqw_page_header h;
  memset(&h, 0, sizeof(h));
  h.num_values = (int32_t)c->page_levels;
  h.encoding = enc;
  const uint8_t* body;
  int64_t body_len;
  enum otap_parquet_codec codec = w->opt.codec;
  if (w->opt.page_version == 2) {
    if (c->max_rep > 0) OTAP_GOTO_NOT_OK(rc, rle_levels(&w->page, &c->rep, c->page_levels, c->max_rep, false));
    h.rep_levels_len = (int32_t)w->page.size;
    if (c->max_def > 0) OTAP_GOTO_NOT_OK(rc, rle_levels(&w->page, &c->def, c->page_levels, c->max_def, false));
    h.def_levels_len = (int32_t)w->page.size - h.rep_levels_len;
    int64_t levels = w->page.size;
    // An empty values section stays uncompressed: some readers cannot decode the compressed
    // form of zero bytes (e.g. a one-byte LZ4 block).
    bool compress = codec != OTAP_PARQUET_CODEC_UNCOMPRESSED && w->vbuf.size > 0;
    rc = otap__pqw_compress_ctx(&w->codec_ctx, compress ? codec : OTAP_PARQUET_CODEC_UNCOMPRESSED,
                            w->opt.compression_level, w->vbuf.data, w->vbuf.size, &w->page, err);
    if (rc) goto done_err;
    h.type = OTAP_PARQUET_PAGE_DATA_V2;
    h.num_nulls = (int32_t)(c->page_levels - c->page_values);
    h.num_rows = (int32_t)c->page_rows;
    h.is_compressed = compress;
    h.uncompressed_size = (int32_t)(levels + w->vbuf.size);
    body = w->page.data;
    body_len = w->page.size;
  } else {
    if (c->max_rep > 0) OTAP_GOTO_NOT_OK(rc, rle_levels(&w->page, &c->rep, c->page_levels, c->max_rep, true));
    if (c->max_def > 0) OTAP_GOTO_NOT_OK(rc, rle_levels(&w->page, &c->def, c->page_levels, c->max_def, true));
    OTAP_GOTO_NOT_OK(rc, otap_buffer_append(&w->page, w->vbuf.data, w->vbuf.size));
    h.type = OTAP_PARQUET_PAGE_DATA;
    h.uncompressed_size = (int32_t)w->page.size;
    if (codec == OTAP_PARQUET_CODEC_UNCOMPRESSED) {
      body = w->page.data;
      body_len = w->page.size;
    } else {
      rc = otap__pqw_compress_ctx(&w->codec_ctx, codec, w->opt.compression_level, w->page.data,
                                  w->page.size, &w->comp, err);
      if (rc) goto done_err;
      body = w->comp.data;
      body_len = w->comp.size;
    }
  }
  if (h.uncompressed_size < 0 || body_len > INT32_MAX) {
    return otap_error_set(err, EINVAL, "parquet writer: column %s: page larger than 2 GiB", c->path);
  }
  h.compressed_size = (int32_t)body_len;
  OTAP_GOTO_NOT_OK(rc, otap__pqw_write_page_header(&w->hdr, &h));
  struct pqw_page_location loc = {c->chunk.size, (int32_t)(w->hdr.size + body_len), c->chunk_rows};
  OTAP_GOTO_NOT_OK(rc, otap_buffer_append(&c->pi_locs, &loc, sizeof(loc)));
  OTAP_GOTO_NOT_OK(rc, otap_buffer_append(&c->chunk, w->hdr.data, w->hdr.size));
  OTAP_GOTO_NOT_OK(rc, otap_buffer_append(&c->chunk, body, body_len));
  c->chunk_uncompressed += w->hdr.size + h.uncompressed_size;
  // Page index entry.
  bool null_page = c->page_values == 0;
  int64_t nulls = c->page_levels - c->page_values;
  OTAP_GOTO_NOT_OK(rc, otap_buffer_append(&c->pi_null, &null_page, 1));
  OTAP_GOTO_NOT_OK(rc, otap_buffer_append(&c->pi_nulls, &nulls, 8));
  int64_t offs[4] = {c->pi_bounds.size, 0, 0, 0};
  if (c->page_has_mm) {
    enum pqw_order o = c->leaf->order;
    OTAP_GOTO_NOT_OK(rc, stat_output(o, c->page_min.data, c->page_min.size, false, &w->tmp));
    OTAP_GOTO_NOT_OK(rc, stat_output(o, c->page_max.data, c->page_max.size, true, &w->comp));
    truncate_bounds(w, c, &w->tmp, &w->comp);
    offs[1] = w->tmp.size;
    offs[2] = offs[0] + w->tmp.size;
    offs[3] = w->comp.size;
    OTAP_GOTO_NOT_OK(rc, otap_buffer_append(&c->pi_bounds, w->tmp.data, w->tmp.size));
    OTAP_GOTO_NOT_OK(rc, otap_buffer_append(&c->pi_bounds, w->comp.data, w->comp.size));
    // Chunk statistics.
    if (!c->chunk_has_mm) {
      OTAP_GOTO_NOT_OK(rc, set_bytes(&c->chunk_min, c->page_min.data, c->page_min.size));
      OTAP_GOTO_NOT_OK(rc, set_bytes(&c->chunk_max, c->page_max.data, c->page_max.size));
      c->chunk_has_mm = true;
    } else {
      if (cmp_vals(o, c->page_min.data, c->page_min.size, c->chunk_min.data, c->chunk_min.size) < 0) {
        OTAP_GOTO_NOT_OK(rc, set_bytes(&c->chunk_min, c->page_min.data, c->page_min.size));
      }
      if (cmp_vals(o, c->page_max.data, c->page_max.size, c->chunk_max.data, c->chunk_max.size) > 0) {
        OTAP_GOTO_NOT_OK(rc, set_bytes(&c->chunk_max, c->page_max.data, c->page_max.size));
      }
    }
  } else if (!null_page) {
    c->pi_valid = false;
  }
  OTAP_GOTO_NOT_OK(rc, otap_buffer_append(&c->pi_offsets, offs, sizeof(offs)));
  if (use_dict) {
    c->dict_data_pages++;
  } else if (enc == c->plain_encoding) {
    c->plain_data_pages++;
  } else {
    c->empty_plain_pages++;
  }
  c->chunk_rows += c->page_rows;
  c->chunk_levels += c->page_levels;
  c->chunk_nulls += nulls;
  c->page_gen++;
  column_reset_page(c);
  return 0;
done:
  return oom(err, "page");
done_err:
  return rc;
}

static int64_t page_estimate(const struct pqw_column* c) {
  int64_t est = c->vals.size + c->lens.size;
  if (c->dict_mode) {
    est += (c->idx.size / 4 * (otap__pqw_bit_width((uint64_t)c->n_dict) + 1) + 7) / 8;
  }
  est += c->page_levels * (otap__pqw_bit_width((uint64_t)c->max_def) +
                           otap__pqw_bit_width((uint64_t)c->max_rep)) / 8;
  return est;
}

// Rows [a, b) of column c into its pages.
static int write_slice(struct otap_parquet_writer* w, struct pqw_column* c,
                       const struct otap_array_view* const* views, int64_t base, int64_t a,
                       int64_t b, struct otap_error* err) {
  int64_t n = 0, nv = 0;
  OTAP_RETURN_NOT_OK(gen_levels(w, c, views, base, a, b, &n, &nv, err));
  const uint16_t* def = (const uint16_t*)w->lv_def.data;
  const uint16_t* rep = (const uint16_t*)w->lv_rep.data;
  const int64_t* vidx = (const int64_t*)w->lv_idx.data;
  const struct otap_array_view* leafv = views[c->n_nodes - 1];
  c->remap.size = c->remap_gen.size = 0;
  if (c->leaf->dict_src && c->dict_mode && leafv->dictionary && leafv->dictionary->length > 0) {
    int64_t dl = leafv->dictionary->length;
    if (otap_buffer_resize(&c->remap, dl * 8, false) ||
        otap_buffer_resize(&c->remap_gen, dl * 8, false)) {
      return oom(err, "dictionary remap");
    }
    memset(c->remap.data, 0xff, (size_t)(dl * 8));
  }
  int64_t p = 0, vc = 0;
  while (p < n) {
    // Never more levels than rows left in this page (levels >= rows), so pages hold at most
    // data_page_rows rows.
    int64_t step = c->step;
    int64_t rows_left = w->opt.data_page_rows - c->page_rows;
    if (rows_left < step) step = rows_left > 0 ? rows_left : 1;
    int64_t q = n - p < step ? n : p + step;
    if (c->max_rep > 0) {
      while (q < n && rep[q] != 0) q++;
    }
    int64_t cnt = q - p, rows = q - p;
    if (c->max_def > 0) {
      cnt = 0;
      for (int64_t i = p; i < q; i++) cnt += def[i] == c->max_def;
      if (otap_buffer_append(&c->def, def + p, (q - p) * 2)) return oom(err, "levels");
    }
    if (c->max_rep > 0) {
      rows = 0;
      for (int64_t i = p; i < q; i++) rows += rep[i] == 0;
      if (otap_buffer_append(&c->rep, rep + p, (q - p) * 2)) return oom(err, "levels");
    }
    c->page_levels += q - p;
    c->page_values += cnt;
    c->page_rows += rows;
    OTAP_RETURN_NOT_OK(append_values(w, c, leafv, vidx + vc, cnt, err));
    vc += cnt;
    if (c->dict_mode) c->dict_seen += cnt;
    if (c->dict_mode && (c->dict_values.size > w->opt.dictionary_page_size ||
                         c->n_dict >= ((int64_t)1 << 30) ||
                         (w->opt.dictionary_max_ratio > 0 && c->dict_seen >= 16384 &&
                          (double)c->n_dict > w->opt.dictionary_max_ratio * (double)c->dict_seen))) {
      OTAP_RETURN_NOT_OK(flush_page(w, c, err));
      c->dict_mode = false;  // fall back to the plain encoding for the rest of the chunk
    } else if (page_estimate(c) >= w->opt.data_page_size || c->page_rows >= w->opt.data_page_rows ||
               c->page_levels >= ((int64_t)1 << 30)) {  // page header counts are int32
      OTAP_RETURN_NOT_OK(flush_page(w, c, err));
    }
    p = q;
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Row groups

static void chunk_meta_free(struct pqw_chunk_meta* m) {
  otap_free(m->min);
  otap_free(m->max);
  otap_free(m->locs);
  otap_free(m->null_pages);
  otap_free(m->null_counts);
  otap_free(m->bounds);
  otap_free(m->bound_offsets);
}

static void* dup_mem(const void* p, int64_t n) {
  void* q = otap_malloc((size_t)(n ? n : 1));
  if (q && n) memcpy(q, p, (size_t)n);
  return q;
}

static enum pqw_boundary_order boundary_order(const struct pqw_column* c, const struct pqw_chunk_meta* m) {
  bool asc = true, desc = true;
  int64_t prev = -1;
  for (int64_t i = 0; i < m->n_pages; i++) {
    if (m->null_pages[i]) continue;
    if (prev >= 0) {
      const int64_t* a = m->bound_offsets + 4 * prev;
      const int64_t* b = m->bound_offsets + 4 * i;
      int cmin = cmp_vals(c->leaf->order, m->bounds + a[0], a[1], m->bounds + b[0], b[1]);
      int cmax = cmp_vals(c->leaf->order, m->bounds + a[2], a[3], m->bounds + b[2], b[3]);
      if (cmin > 0 || cmax > 0) asc = false;
      if (cmin < 0 || cmax < 0) desc = false;
    }
    prev = i;
  }
  return asc ? PQW_ASCENDING : desc ? PQW_DESCENDING : PQW_UNORDERED;
}

static int finish_chunk(struct otap_parquet_writer* w, struct pqw_column* c, struct pqw_chunk_meta* m,
                        struct otap_error* err) {
  int rc = 0;
  m->start = w->pos;
  m->dict_page_offset = -1;
  m->plain_encoding = c->plain_encoding;
  if (c->n_dict > 0 && c->dict_data_pages > 0) {
    w->comp.size = w->hdr.size = 0;
    OTAP_RETURN_NOT_OK(otap__pqw_compress_ctx(&w->codec_ctx, w->opt.codec, w->opt.compression_level,
                                          c->dict_values.data, c->dict_values.size, &w->comp, err));
    if (c->dict_values.size > INT32_MAX || w->comp.size > INT32_MAX) {
      return otap_error_set(err, EINVAL, "parquet writer: column %s: dictionary over 2 GiB", c->path);
    }
    struct pqw_page_header h;
    memset(&h, 0, sizeof(h));
    h.type = OTAP_PARQUET_PAGE_DICTIONARY;
    h.uncompressed_size = (int32_t)c->dict_values.size;
    h.compressed_size = (int32_t)w->comp.size;
    h.num_values = (int32_t)c->n_dict;
    h.encoding = OTAP_PARQUET_ENC_PLAIN;
    if (otap__pqw_write_page_header(&w->hdr, &h)) return oom(err, "page header");
    m->dict_page_offset = w->pos;
    m->has_dict_page = true;
    OTAP_RETURN_NOT_OK(sink_write(w, w->hdr.data, w->hdr.size, err));
    OTAP_RETURN_NOT_OK(sink_write(w, w->comp.data, w->comp.size, err));
    m->total_uncompressed += w->hdr.size + c->dict_values.size;
    m->total_compressed += w->hdr.size + w->comp.size;
    m->encodings |= 1u << OTAP_PARQUET_ENC_PLAIN;
    m->encodings |= 1u << OTAP_PARQUET_ENC_RLE_DICTIONARY;
  }
  m->data_page_offset = w->pos;
  OTAP_RETURN_NOT_OK(sink_write(w, c->chunk.data, c->chunk.size, err));
  m->total_uncompressed += c->chunk_uncompressed;
  m->total_compressed += c->chunk.size;
  m->num_values = c->chunk_levels;
  m->null_count = c->chunk_nulls;
  m->n_dict_data_pages = c->dict_data_pages;
  m->n_plain_data_pages = c->plain_data_pages;
  m->n_empty_plain_pages = c->empty_plain_pages;
  if (c->empty_plain_pages > 0) m->encodings |= 1u << OTAP_PARQUET_ENC_PLAIN;
  if (c->plain_data_pages > 0) {
    m->encodings |= 1u << c->plain_encoding;
    m->encodings |= 1u << OTAP_PARQUET_ENC_PLAIN;
  }
  m->encodings |= 1u << OTAP_PARQUET_ENC_RLE;
  if (c->chunk_has_mm) {
    OTAP_GOTO_NOT_OK(rc, stat_output(c->leaf->order, c->chunk_min.data, c->chunk_min.size, false, &w->tmp));
    m->min = dup_mem(w->tmp.data, w->tmp.size);
    m->min_len = (int32_t)w->tmp.size;
    OTAP_GOTO_NOT_OK(rc, stat_output(c->leaf->order, c->chunk_max.data, c->chunk_max.size, true, &w->tmp));
    m->max = dup_mem(w->tmp.data, w->tmp.size);
    m->max_len = (int32_t)w->tmp.size;
    if (!m->min || !m->max) goto done;
    m->has_mm = true;
  }
  m->n_pages = c->pi_locs.size / (int64_t)sizeof(struct pqw_page_location);
  m->locs = dup_mem(c->pi_locs.data, c->pi_locs.size);
  m->null_pages = dup_mem(c->pi_null.data, c->pi_null.size);
  m->null_counts = dup_mem(c->pi_nulls.data, c->pi_nulls.size);
  m->bounds = dup_mem(c->pi_bounds.data, c->pi_bounds.size);
  m->bound_offsets = dup_mem(c->pi_offsets.data, c->pi_offsets.size);
  if (!m->locs || !m->null_pages || !m->null_counts || !m->bounds || !m->bound_offsets) goto done;
  for (int64_t i = 0; i < m->n_pages; i++) m->locs[i].offset += m->data_page_offset;
  m->ci_valid = c->pi_valid;
  if (m->ci_valid) m->order = boundary_order(c, m);
  column_reset_chunk(c);
  return 0;
done:
  return oom(err, "chunk metadata");
}

static int flush_row_group(struct otap_parquet_writer* w, struct otap_error* err) {
  if (w->rg_rows == 0) return 0;
  for (int i = 0; i < w->n_cols; i++) OTAP_RETURN_NOT_OK(flush_page(w, &w->cols[i], err));
  if (w->n_rgs == w->cap_rgs) {
    int64_t cap = w->cap_rgs ? w->cap_rgs * 2 : 8;
    struct pqw_row_group* r = otap_realloc(w->rgs, (size_t)cap * sizeof(*r));
    if (!r) return oom(err, "row groups");
    w->rgs = r;
    w->cap_rgs = cap;
  }
  struct pqw_row_group* rg = &w->rgs[w->n_rgs];
  memset(rg, 0, sizeof(*rg));
  rg->chunks = otap_calloc((size_t)(w->n_cols ? w->n_cols : 1), sizeof(struct pqw_chunk_meta));
  if (!rg->chunks) return oom(err, "row groups");
  w->n_rgs++;
  rg->num_rows = w->rg_rows;
  rg->file_offset = w->pos;
  for (int i = 0; i < w->n_cols; i++) {
    OTAP_RETURN_NOT_OK(finish_chunk(w, &w->cols[i], &rg->chunks[i], err));
    rg->total_byte_size += rg->chunks[i].total_uncompressed;
    rg->total_compressed += rg->chunks[i].total_compressed;
  }
  w->rg_rows = 0;
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Footer

#if OTAP_PQW_ARROW_SCHEMA
static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int base64(struct otap_buffer* out, const uint8_t* p, int64_t n) {
  OTAP_RETURN_NOT_OK(otap_buffer_reserve(out, (n + 2) / 3 * 4 + 1));
  char* o = (char*)out->data + out->size;
  int64_t j = 0;
  for (int64_t i = 0; i < n; i += 3) {
    uint32_t v = (uint32_t)p[i] << 16;
    if (i + 1 < n) v |= (uint32_t)p[i + 1] << 8;
    if (i + 2 < n) v |= p[i + 2];
    o[j++] = b64[(v >> 18) & 63];
    o[j++] = b64[(v >> 12) & 63];
    o[j++] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
    o[j++] = i + 2 < n ? b64[v & 63] : '=';
  }
  out->size += j;
  return 0;
}
#endif

static int write_footer(struct otap_parquet_writer* w, struct otap_error* err) {
  int rc = 0;
  struct otap_buffer fb, arrow_b64;
  otap_buffer_init(&fb);
  otap_buffer_init(&arrow_b64);
#if OTAP_PQW_ARROW_SCHEMA
  if (w->opt.write_arrow_schema) {
    struct otap_buffer ipc;
    otap_buffer_init(&ipc);
    rc = otap_ipc_schema_encode(&w->schema, &ipc, err);
    if (!rc) rc = base64(&arrow_b64, ipc.data, ipc.size);
    otap_buffer_reset(&ipc);
    if (rc) goto done;
  }
#endif
  struct pqw_thrift t;
  otap__pqw_tw_init(&t, &fb);
  otap__pqw_tw_i32(&t, 1, w->opt.page_version == 2 ? 2 : 1);
  otap__pqw_write_schema(&t, 2, &w->root, w->root_name);
  otap__pqw_tw_i64(&t, 3, w->total_rows);
  otap__pqw_tw_list_begin(&t, 4, PQW_T_STRUCT, w->n_rgs);
  for (int64_t r = 0; r < w->n_rgs; r++) {
    const struct pqw_row_group* rg = &w->rgs[r];
    otap__pqw_tw_struct_begin(&t, 0);
    otap__pqw_tw_list_begin(&t, 1, PQW_T_STRUCT, w->n_cols);
    for (int i = 0; i < w->n_cols; i++) {
      const struct pqw_chunk_meta* m = &rg->chunks[i];
      const struct pqw_column* c = &w->cols[i];
      otap__pqw_tw_struct_begin(&t, 0);
      otap__pqw_tw_i64(&t, 2, m->start);
      otap__pqw_tw_struct_begin(&t, 3);
      otap__pqw_tw_i32(&t, 1, c->leaf->ptype);
      int n_enc = __builtin_popcount(m->encodings);
      otap__pqw_tw_list_begin(&t, 2, PQW_T_I32, n_enc);
      for (int e = 0; e < 32; e++) {
        if (m->encodings & (1u << e)) otap__pqw_tw_elem_i32(&t, e);
      }
      otap__pqw_tw_list_begin(&t, 3, PQW_T_BINARY, c->n_parts);
      for (int p = 0; p < c->n_parts; p++) {
        otap__pqw_tw_elem_binary(&t, c->parts[p], (int64_t)strlen(c->parts[p]));
      }
      otap__pqw_tw_i32(&t, 4, w->opt.codec);
      otap__pqw_tw_i64(&t, 5, m->num_values);
      otap__pqw_tw_i64(&t, 6, m->total_uncompressed);
      otap__pqw_tw_i64(&t, 7, m->total_compressed);
      otap__pqw_tw_i64(&t, 9, m->data_page_offset);
      if (m->has_dict_page) otap__pqw_tw_i64(&t, 11, m->dict_page_offset);
      if (w->opt.write_statistics) {
        struct pqw_statistics s = {true, m->null_count, m->has_mm, m->min, m->min_len, m->max, m->max_len};
        otap__pqw_write_statistics(&t, 12, &s);
      }
      int n_es = (m->has_dict_page ? 1 : 0) + (m->n_dict_data_pages ? 1 : 0) +
                 (m->n_plain_data_pages ? 1 : 0) + (m->n_empty_plain_pages ? 1 : 0);
      otap__pqw_tw_list_begin(&t, 13, PQW_T_STRUCT, n_es);
      if (m->has_dict_page) {
        otap__pqw_tw_struct_begin(&t, 0);
        otap__pqw_tw_i32(&t, 1, OTAP_PARQUET_PAGE_DICTIONARY);
        otap__pqw_tw_i32(&t, 2, OTAP_PARQUET_ENC_PLAIN);
        otap__pqw_tw_i32(&t, 3, 1);
        otap__pqw_tw_struct_end(&t);
      }
      int dpt = w->opt.page_version == 2 ? OTAP_PARQUET_PAGE_DATA_V2 : OTAP_PARQUET_PAGE_DATA;
      if (m->n_dict_data_pages) {
        otap__pqw_tw_struct_begin(&t, 0);
        otap__pqw_tw_i32(&t, 1, dpt);
        otap__pqw_tw_i32(&t, 2, OTAP_PARQUET_ENC_RLE_DICTIONARY);
        otap__pqw_tw_i32(&t, 3, (int32_t)m->n_dict_data_pages);
        otap__pqw_tw_struct_end(&t);
      }
      if (m->n_plain_data_pages) {
        otap__pqw_tw_struct_begin(&t, 0);
        otap__pqw_tw_i32(&t, 1, dpt);
        otap__pqw_tw_i32(&t, 2, m->plain_encoding);
        otap__pqw_tw_i32(&t, 3, (int32_t)m->n_plain_data_pages);
        otap__pqw_tw_struct_end(&t);
      }
      if (m->n_empty_plain_pages) {
        otap__pqw_tw_struct_begin(&t, 0);
        otap__pqw_tw_i32(&t, 1, dpt);
        otap__pqw_tw_i32(&t, 2, OTAP_PARQUET_ENC_PLAIN);
        otap__pqw_tw_i32(&t, 3, (int32_t)m->n_empty_plain_pages);
        otap__pqw_tw_struct_end(&t);
      }
      otap__pqw_tw_struct_end(&t);  // ColumnMetaData
      if (m->oi_len > 0) {
        otap__pqw_tw_i64(&t, 4, m->oi_offset);
        otap__pqw_tw_i32(&t, 5, m->oi_len);
      }
      if (m->ci_len > 0) {
        otap__pqw_tw_i64(&t, 6, m->ci_offset);
        otap__pqw_tw_i32(&t, 7, m->ci_len);
      }
      otap__pqw_tw_struct_end(&t);  // ColumnChunk
    }
    otap__pqw_tw_i64(&t, 2, rg->total_byte_size);
    otap__pqw_tw_i64(&t, 3, rg->num_rows);
    otap__pqw_tw_i64(&t, 5, rg->file_offset);
    otap__pqw_tw_i64(&t, 6, rg->total_compressed);
    otap__pqw_tw_field(&t, 7, PQW_T_I16);
    otap__pqw_tw_varint(&t, ((uint64_t)r << 1));
    otap__pqw_tw_struct_end(&t);
  }
  int32_t n_kv = w->n_md + (arrow_b64.size > 0 ? 1 : 0);
  if (n_kv > 0) {
    otap__pqw_tw_list_begin(&t, 5, PQW_T_STRUCT, n_kv);
    for (int32_t i = 0; i < w->n_md; i++) {
      otap__pqw_tw_struct_begin(&t, 0);
      otap__pqw_tw_binary(&t, 1, w->md[i].key, w->md[i].key_len);
      if (w->md[i].value) otap__pqw_tw_binary(&t, 2, w->md[i].value, w->md[i].value_len);
      otap__pqw_tw_struct_end(&t);
    }
    if (arrow_b64.size > 0) {
      otap__pqw_tw_struct_begin(&t, 0);
      otap__pqw_tw_string(&t, 1, "ARROW:schema");
      otap__pqw_tw_binary(&t, 2, arrow_b64.data, arrow_b64.size);
      otap__pqw_tw_struct_end(&t);
    }
  }
  otap__pqw_tw_string(&t, 6, w->created_by);
  otap__pqw_tw_list_begin(&t, 7, PQW_T_STRUCT, w->n_cols);
  for (int i = 0; i < w->n_cols; i++) {
    otap__pqw_tw_struct_begin(&t, 0);
    otap__pqw_tw_struct_begin(&t, 1);
    otap__pqw_tw_struct_end(&t);
    otap__pqw_tw_struct_end(&t);
  }
  otap__pqw_tw_stop(&t);
  if (t.rc) {
    rc = oom(err, "footer");
    goto done;
  }
  if (fb.size > INT32_MAX) {
    rc = otap_error_set(err, EINVAL, "parquet writer: footer over 2 GiB");
    goto done;
  }
  uint8_t tail[8];
  otap_store_u32le(tail, (uint32_t)fb.size);
  memcpy(tail + 4, "PAR1", 4);
  OTAP_GOTO_NOT_OK(rc, sink_write(w, fb.data, fb.size, err));
  OTAP_GOTO_NOT_OK(rc, sink_write(w, tail, 8, err));
done:
  otap_buffer_reset(&fb);
  otap_buffer_reset(&arrow_b64);
  return rc;
}

static int write_page_indexes(struct otap_parquet_writer* w, struct otap_error* err) {
  int rc = 0;
  struct otap_buffer b;
  otap_buffer_init(&b);
  const uint8_t** mins = NULL;
  const uint8_t** maxs = NULL;
  int32_t* min_lens = NULL;
  int32_t* max_lens = NULL;
  for (int64_t r = 0; r < w->n_rgs; r++) {
    for (int i = 0; i < w->n_cols; i++) {
      struct pqw_chunk_meta* m = &w->rgs[r].chunks[i];
      if (!m->ci_valid || m->n_pages == 0) continue;
      mins = otap_calloc((size_t)m->n_pages, sizeof(*mins));
      maxs = otap_calloc((size_t)m->n_pages, sizeof(*maxs));
      min_lens = otap_calloc((size_t)m->n_pages, sizeof(*min_lens));
      max_lens = otap_calloc((size_t)m->n_pages, sizeof(*max_lens));
      if (!mins || !maxs || !min_lens || !max_lens) {
        rc = oom(err, "column index");
        goto done;
      }
      for (int64_t p = 0; p < m->n_pages; p++) {
        const int64_t* o = m->bound_offsets + 4 * p;
        mins[p] = m->bounds + o[0];
        min_lens[p] = (int32_t)o[1];
        maxs[p] = m->bounds + o[2];
        max_lens[p] = (int32_t)o[3];
      }
      b.size = 0;
      if (otap__pqw_write_column_index(&b, m->null_pages, mins, min_lens, maxs, max_lens,
                                       m->null_counts, m->n_pages, m->order)) {
        rc = oom(err, "column index");
        goto done;
      }
      m->ci_offset = w->pos;
      m->ci_len = (int32_t)b.size;
      OTAP_GOTO_NOT_OK(rc, sink_write(w, b.data, b.size, err));
      otap_free(mins);
      otap_free(maxs);
      otap_free(min_lens);
      otap_free(max_lens);
      mins = maxs = NULL;
      min_lens = max_lens = NULL;
    }
  }
  for (int64_t r = 0; r < w->n_rgs; r++) {
    for (int i = 0; i < w->n_cols; i++) {
      struct pqw_chunk_meta* m = &w->rgs[r].chunks[i];
      if (m->n_pages == 0) continue;
      b.size = 0;
      if (otap__pqw_write_offset_index(&b, m->locs, m->n_pages)) {
        rc = oom(err, "offset index");
        goto done;
      }
      m->oi_offset = w->pos;
      m->oi_len = (int32_t)b.size;
      OTAP_GOTO_NOT_OK(rc, sink_write(w, b.data, b.size, err));
    }
  }
done:
  otap_free(mins);
  otap_free(maxs);
  otap_free(min_lens);
  otap_free(max_lens);
  otap_buffer_reset(&b);
  return rc;
}

// ---------------------------------------------------------------------------------------------
// Public API

void otap_parquet_writer_free(struct otap_parquet_writer* w) {
  if (!w) return;
  for (int i = 0; i < w->n_cols; i++) column_free(&w->cols[i]);
  otap_free(w->cols);
  for (int64_t r = 0; r < w->n_rgs; r++) {
    for (int i = 0; i < w->n_cols; i++) chunk_meta_free(&w->rgs[r].chunks[i]);
    otap_free(w->rgs[r].chunks);
  }
  otap_free(w->rgs);
  otap__pqw_node_free(&w->root);
  otap_array_view_reset(&w->view);
  otap_schema_release(&w->schema);
  for (int32_t i = 0; i < w->n_md; i++) {
    otap_free((void*)w->md[i].key);
    otap_free((void*)w->md[i].value);
  }
  otap_free(w->md);
  otap_free(w->created_by);
  otap_free(w->root_name);
  otap__pqw_codec_ctx_reset(&w->codec_ctx);
  struct otap_buffer* bufs[] = {&w->lv_def, &w->lv_rep, &w->lv_idx, &w->page, &w->comp,
                                &w->hdr,    &w->vbuf,   &w->tmp,    &w->gfix};
  for (size_t i = 0; i < sizeof(bufs) / sizeof(bufs[0]); i++) otap_buffer_reset(bufs[i]);
  otap_free(w);
}

int otap_parquet_writer_open(struct otap_parquet_writer** out, struct otap_sink* sink,
                             const struct ArrowSchema* schema,
                             const struct otap_parquet_write_options* options,
                             struct otap_error* err) {
  *out = NULL;
  int rc = 0;
  struct otap_parquet_writer* w = otap_calloc(1, sizeof(*w));
  if (!w) return oom(err, "writer");
  w->sink = sink;
  if (options) {
    w->opt = *options;
  } else {
    otap_parquet_write_options_init(&w->opt);
  }
  struct otap_parquet_write_options* o = &w->opt;
  if (o->codec == OTAP_PARQUET_CODEC_LZO || (int)o->codec < 0 || (int)o->codec > 7) {
    rc = otap_error_set(err, ENOTSUP, "parquet writer: codec %s is not supported for writing",
                        otap_parquet_writer_codec_name(o->codec));
    goto done;
  }
  if (o->page_version != 1 && o->page_version != 2) {
    rc = otap_error_set(err, EINVAL, "parquet writer: page_version must be 1 or 2, got %d",
                        o->page_version);
    goto done;
  }
  if (o->row_group_rows <= 0) o->row_group_rows = 1048576;
  if (o->data_page_size <= 0) o->data_page_size = 1 << 20;
  if (o->data_page_rows <= 0) o->data_page_rows = INT64_MAX;
  if (o->dictionary_page_size <= 0) o->dictionary_page_size = 1 << 20;
  char cb[64];
  snprintf(cb, sizeof(cb), "otap version %s", otap_version());
  w->created_by = otap_strdup(o->created_by ? o->created_by : cb);
  w->root_name = otap_strdup(o->root_name ? o->root_name : "arrow_schema");
  if (!w->created_by || !w->root_name) {
    rc = oom(err, "options");
    goto done;
  }
  if (o->n_metadata > 0) {
    w->md = otap_calloc((size_t)o->n_metadata, sizeof(*w->md));
    if (!w->md) {
      rc = oom(err, "metadata");
      goto done;
    }
    for (int32_t i = 0; i < o->n_metadata; i++) {
      const struct otap_metadata_entry* e = &o->metadata[i];
      w->n_md++;
      w->md[i].key = otap_strndup(e->key, (size_t)e->key_len);
      w->md[i].key_len = e->key_len;
      w->md[i].value = e->value ? otap_strndup(e->value, (size_t)e->value_len) : NULL;
      w->md[i].value_len = e->value_len;
      if (!w->md[i].key || (e->value && !w->md[i].value)) {
        rc = oom(err, "metadata");
        goto done;
      }
    }
  }
  o->metadata = NULL;
  o->created_by = o->root_name = NULL;
  OTAP_GOTO_NOT_OK(rc, otap_schema_deep_copy(schema, &w->schema, err));
  OTAP_GOTO_NOT_OK(rc, otap__pqw_build_tree(&w->root, &w->schema, err));
  int n_leaves = count_leaves(&w->root);
  w->cols = otap_calloc((size_t)(n_leaves ? n_leaves : 1), sizeof(struct pqw_column));
  if (!w->cols) {
    rc = oom(err, "columns");
    goto done;
  }
  struct path_state ps;
  ps.n = 0;
  for (int i = 0; i < w->root.n_children; i++) {
    OTAP_GOTO_NOT_OK(rc, collect_columns(w, &ps, &w->root.children[i], i, err));
  }
  o->columns = NULL;
  o->n_columns = 0;
  int max_width = 32;
  for (int i = 0; i < w->n_cols; i++) {
    if (w->cols[i].width > max_width) max_width = w->cols[i].width;
  }
  if (otap_buffer_resize(&w->gfix, (int64_t)max_width * PQW_GATHER, false)) {
    rc = oom(err, "buffers");
    goto done;
  }
  OTAP_GOTO_NOT_OK(rc, otap_array_view_init(&w->view, &w->schema, err));
  w->view_ready = true;
  OTAP_GOTO_NOT_OK(rc, sink_write(w, "PAR1", 4, err));
  *out = w;
  return 0;
done:
  otap_parquet_writer_free(w);
  return rc;
}

int otap_parquet_writer_write(struct otap_parquet_writer* w, const struct ArrowArray* batch,
                              struct otap_error* err) {
  if (w->closed || w->failed) {
    return otap_error_set(err, EINVAL, "parquet writer: write after %s",
                          w->closed ? "close" : "an earlier failure");
  }
  int rc = otap_array_view_set(&w->view, batch, w->opt.validation, err);
  if (rc) {
    w->failed = true;
    return otap_error_prefix(err, rc, "parquet writer: batch does not match the schema: ");
  }
  const struct otap_array_view* views[PQW_MAX_DEPTH];
  int64_t rows = batch->length, r = 0;
  int64_t base = w->view.offset;
  while (r < rows) {
    int64_t take = w->opt.row_group_rows - w->rg_rows;
    if (take > rows - r) take = rows - r;
    for (int i = 0; i < w->n_cols; i++) {
      struct pqw_column* c = &w->cols[i];
      views[0] = w->view.children[c->child_pos[0]];
      for (int k = 1; k < c->n_nodes; k++) views[k] = views[k - 1]->children[c->child_pos[k]];
      rc = write_slice(w, c, views, base, r, r + take, err);
      if (rc) {
        w->failed = true;
        return rc;
      }
    }
    w->rg_rows += take;
    w->total_rows += take;
    r += take;
    if (w->rg_rows >= w->opt.row_group_rows) {
      rc = flush_row_group(w, err);
      if (rc) {
        w->failed = true;
        return rc;
      }
    }
  }
  return 0;
}

int otap_parquet_writer_flush(struct otap_parquet_writer* w, struct otap_error* err) {
  if (w->closed || w->failed) return otap_error_set(err, EINVAL, "parquet writer: flush after close/failure");
  int rc = flush_row_group(w, err);
  if (rc) w->failed = true;
  return rc;
}

int otap_parquet_writer_close(struct otap_parquet_writer* w, struct otap_error* err) {
  if (w->closed || w->failed) return otap_error_set(err, EINVAL, "parquet writer: close after close/failure");
  int rc = flush_row_group(w, err);
  if (!rc && w->opt.write_page_index) rc = write_page_indexes(w, err);
  if (!rc) rc = write_footer(w, err);
  if (!rc && w->sink->finish) rc = w->sink->finish(w->sink, err);
  if (rc) {
    w->failed = true;
    return rc;
  }
  w->closed = true;
  return 0;
}

int64_t otap_parquet_writer_num_rows(const struct otap_parquet_writer* w) { return w->total_rows; }

int otap_parquet_write_stream(struct otap_sink* sink, struct ArrowArrayStream* stream,
                              const struct otap_parquet_write_options* options,
                              struct otap_error* err) {
  struct ArrowSchema schema;
  memset(&schema, 0, sizeof(schema));
  struct ArrowArray batch;
  memset(&batch, 0, sizeof(batch));
  struct otap_parquet_writer* w = NULL;
  int rc = stream->get_schema(stream, &schema);
  if (rc) {
    const char* m = stream->get_last_error ? stream->get_last_error(stream) : NULL;
    return otap_error_set(err, rc, "parquet writer: input stream schema: %s", m ? m : "failed");
  }
  OTAP_GOTO_NOT_OK(rc, otap_parquet_writer_open(&w, sink, &schema, options, err));
  for (;;) {
    rc = stream->get_next(stream, &batch);
    if (rc) {
      const char* m = stream->get_last_error ? stream->get_last_error(stream) : NULL;
      rc = otap_error_set(err, rc, "parquet writer: input stream: %s", m ? m : "failed");
      goto done;
    }
    if (!batch.release) break;
    rc = otap_parquet_writer_write(w, &batch, err);
    batch.release(&batch);
    if (rc) goto done;
  }
  rc = otap_parquet_writer_close(w, err);
done:
  otap_parquet_writer_free(w);
  if (schema.release) schema.release(&schema);
  return rc;
}
