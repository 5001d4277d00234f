// Public reader API: open (footer), row-group decoding, batches, page indexes, stream wrapper.
#include <stdio.h>

#include "parquet/parquet_internal.h"

// Row-group decoding state: the chunks of the projected leaves.
struct pq_rg_state {
  struct pq_chunk* chunks;        // n_leaves entries; only used leaves are open
  struct pq_leaf_data** leaves;   // n_leaves pointers (to chunks[c].d)
  bool* used;
};

static void rg_close(struct otap_parquet_reader* r, struct pq_rg_state* st);
int otap__pq_reader_next_raw(struct otap_parquet_reader* r, struct ArrowArray* out, struct otap_error* err);
static int validate_batch(struct otap_parquet_reader* r, struct ArrowArray* out, struct otap_error* err);

void otap_parquet_reader_options_init(struct otap_parquet_reader_options* o) {
  memset(o, 0, sizeof(*o));
  o->batch_size = 65536;
  o->use_arrow_schema_hint = true;
  o->int96_unit = OTAP_TIME_UNIT_NANO;
  o->validation = OTAP_VALIDATE_NONE;
  o->max_page_size = (int64_t)1 << 30;
  o->max_chunk_size = (int64_t)2 << 30;
}

static int read_footer(struct otap_parquet_reader* r, struct otap_error* err) {
  struct otap_source* s = r->source;
  OTAP_RETURN_NOT_OK(s->size(s, &r->file_size, err));
  if (r->file_size < 12)
    return otap_error_set(err, EINVAL, "%s: %llu bytes is too small for a Parquet file", r->name,
                          (unsigned long long)r->file_size);
  uint8_t tail[8], head[4];
  OTAP_RETURN_NOT_OK(s->read_at(s, r->file_size - 8, tail, 8, err));
  OTAP_RETURN_NOT_OK(s->read_at(s, 0, head, 4, err));
  if (memcmp(tail + 4, "PARE", 4) == 0)
    return otap_error_set(err, ENOTSUP, "%s: encrypted Parquet footer (PARE); Parquet modular encryption is not supported", r->name);
  if (memcmp(tail + 4, "PAR1", 4) != 0 || memcmp(head, "PAR1", 4) != 0)
    return otap_error_set(err, EINVAL, "%s: not a Parquet file (no PAR1 magic at start and end)", r->name);
  uint32_t flen = otap_load_u32le(tail);
  if ((uint64_t)flen > r->file_size - 12 || flen > PQ_MAX_FOOTER_SIZE)
    return otap_error_set(err, EINVAL, "%s: footer length %u exceeds the file (%llu bytes)", r->name, flen,
                          (unsigned long long)r->file_size);
  if (otap_buffer_resize(&r->footer, flen, false)) return otap_error_set(err, ENOMEM, "out of memory for the footer");
  uint64_t off = r->file_size - 8 - flen;
  OTAP_RETURN_NOT_OK(s->read_at(s, off, r->footer.data, flen, err));
  int rc = otap__pq_decode_file_metadata(r->footer.data, flen, (int64_t)off, &r->arena, &r->meta, err);
  if (rc) return otap_error_prefix(err, rc, "%s: ", r->name);
  r->meta.footer_length = flen;
  return 0;
}

int otap_parquet_reader_open(struct otap_parquet_reader** out, struct otap_source* source,
                             const struct otap_parquet_reader_options* opts, struct otap_error* err) {
  *out = NULL;
  struct otap_parquet_reader* r = otap_calloc(1, sizeof(*r));
  if (!r) return otap_error_set(err, ENOMEM, "out of memory");
  r->source = source;
  r->name = source->name ? source->name : "(parquet)";
  r->cur_rg = -1;
  r->rg = otap_calloc(1, sizeof(struct pq_rg_state));
  if (!r->rg || otap__pq_pool_new(&r->pool) != 0) {
    otap_free(r->rg);
    otap_free(r);
    return otap_error_set(err, ENOMEM, "out of memory");
  }
  if (opts) r->opts = *opts;
  else otap_parquet_reader_options_init(&r->opts);
  if (r->opts.batch_size <= 0) r->opts.batch_size = 65536;
  if (r->opts.max_page_size <= 0) r->opts.max_page_size = (int64_t)1 << 30;
  if (r->opts.max_chunk_size <= 0) r->opts.max_chunk_size = (int64_t)2 << 30;
  int rc;
  OTAP_GOTO_NOT_OK(rc, read_footer(r, err));
  OTAP_GOTO_NOT_OK(rc, otap__pq_schema_build(r, err));
  if (r->opts.row_groups) {
    r->rg_sel = otap__pq_arena_alloc(&r->arena, sizeof(int32_t) * ((size_t)r->opts.n_row_groups + 1));
    if (!r->rg_sel) {
      rc = otap_error_set(err, ENOMEM, "out of memory");
      goto done;
    }
    for (int32_t k = 0; k < r->opts.n_row_groups; k++) {
      int32_t g = r->opts.row_groups[k];
      if (g < 0 || g >= r->meta.n_row_groups) {
        rc = otap_error_set(err, EINVAL, "%s: row group %d does not exist (the file has %d)", r->name, g,
                            r->meta.n_row_groups);
        goto done;
      }
      r->rg_sel[k] = g;
    }
    r->n_rg_sel = r->opts.n_row_groups;
    r->opts.row_groups = NULL;
  } else {
    r->n_rg_sel = r->meta.n_row_groups;
  }
  r->opts.columns = NULL;  // not kept (caller memory)
  *out = r;
  return 0;
done:
  otap_parquet_reader_free(r);
  return rc;
}

void otap_parquet_reader_free(struct otap_parquet_reader* r) {
  if (!r) return;
  if (r->rg) rg_close(r, r->rg);
  otap_free(r->rg);
  otap__pq_pool_close(r->pool);
  if (r->schema.release) r->schema.release(&r->schema);
  if (r->hint_store.release) r->hint_store.release(&r->hint_store);
  otap_buffer_reset(&r->footer);
  otap_buffer_reset(&r->scratch);
  otap_buffer_reset(&r->chunk);
  otap__pq_arena_reset(&r->arena);
  otap_free(r);
}

const struct otap_parquet_file_metadata* otap_parquet_reader_metadata(const struct otap_parquet_reader* r) {
  return &r->meta;
}

const struct ArrowSchema* otap_parquet_reader_schema(const struct otap_parquet_reader* r) {
  return &r->schema;
}

static void collect_leaves(const struct pq_node* n, bool* used) {
  if (n->kind == PQ_NODE_LEAF) used[n->leaf] = true;
  for (int32_t k = 0; k < n->n_children; k++) collect_leaves(n->children[k], used);
}

static const struct pq_node* find_leaf_node(const struct pq_node* n, int32_t leaf) {
  if (n->kind == PQ_NODE_LEAF) return n->leaf == leaf ? n : NULL;
  for (int32_t k = 0; k < n->n_children; k++) {
    const struct pq_node* f = find_leaf_node(n->children[k], leaf);
    if (f) return f;
  }
  return NULL;
}

static void rg_close(struct otap_parquet_reader* r, struct pq_rg_state* st) {
  if (st->chunks) {
    for (int32_t c = 0; c < r->n_leaves; c++) otap__pq_chunk_close(&st->chunks[c]);
  }
  otap_free(st->chunks);
  otap_free(st->leaves);
  otap_free(st->used);
  memset(st, 0, sizeof(*st));
}

static int rg_open(struct otap_parquet_reader* r, int32_t g, struct pq_rg_state* st, struct otap_error* err) {
  memset(st, 0, sizeof(*st));
  const struct otap_parquet_row_group* rg = &r->meta.row_groups[g];
  if (rg->num_rows > INT32_MAX)
    return otap_error_set(err, ENOTSUP, "%s: row group %d has %lld rows (more than 2^31-1)", r->name, g, (long long)rg->num_rows);
  st->chunks = otap_calloc((size_t)r->n_leaves + 1, sizeof(*st->chunks));
  st->leaves = otap_calloc((size_t)r->n_leaves + 1, sizeof(*st->leaves));
  st->used = otap_calloc((size_t)r->n_leaves + 1, sizeof(bool));
  if (!st->chunks || !st->leaves || !st->used) {
    rg_close(r, st);
    return otap_error_set(err, ENOMEM, "out of memory");
  }
  for (int32_t k = 0; k < r->n_top; k++) collect_leaves(r->top[k], st->used);
  for (int32_t c = 0; c < r->n_leaves; c++) {
    st->leaves[c] = &st->chunks[c].d;
    if (!st->used[c]) continue;
    const struct pq_node* ln = NULL;
    for (int32_t k = 0; k < r->n_top && !ln; k++) ln = find_leaf_node(r->top[k], c);
    int rc = otap__pq_chunk_open(r, g, c, ln, &st->chunks[c], err);
    if (rc) {
      rg_close(r, st);
      return rc;
    }
  }
  return 0;
}

/// Decodes the next `rows` rows of the open row group into a struct array.
static int rg_batch(struct otap_parquet_reader* r, int32_t g, struct pq_rg_state* st, int64_t rows,
                    struct ArrowArray* out, struct otap_error* err) {
  memset(out, 0, sizeof(*out));
  int64_t *span_l = otap_calloc((size_t)r->n_leaves + 1, sizeof(int64_t)),
          *full_l = otap_calloc((size_t)r->n_leaves + 1, sizeof(int64_t));
  int rc = 0;
  if (!span_l || !full_l) {
    rc = otap_error_set(err, ENOMEM, "out of memory");
    goto done;
  }
  for (int32_t c = 0; c < r->n_leaves; c++) {
    if (!st->used[c]) continue;
    struct pq_chunk* ch = &st->chunks[c];
    OTAP_GOTO_NOT_OK(rc, otap__pq_chunk_fill(ch, rows, err));
    otap__pq_chunk_span(ch, rows, &span_l[c]);
    full_l[c] = ch->d.n_levels;
    ch->d.n_levels = span_l[c];
    ch->d.used_values = -1;
    otap__pq_chunk_view(ch, true);
  }
  otap__pq_current_pool = r->pool;
  if (otap__pq_array_make(out, rows, 0, 1, NULL, r->n_top, false)) {
    rc = otap_error_set(err, ENOMEM, "out of memory");
  } else {
    for (int32_t k = 0; k < r->n_top && rc == 0; k++) {
      rc = otap__pq_assemble(r->top[k], st->leaves, out->children[k], err);
      if (rc == 0 && out->children[k]->length != rows)
        rc = otap_error_set(err, EINVAL, "column %s has %lld rows, expected %lld", r->top[k]->name,
                            (long long)out->children[k]->length, (long long)rows);
    }
    if (rc) {
      otap_error_prefix(err, rc, "%s: row group %d: ", r->name, g);
      out->release(out);
    }
  }
  otap__pq_current_pool = NULL;
  for (int32_t c = 0; c < r->n_leaves; c++) {
    if (!st->used[c]) continue;
    struct pq_chunk* ch = &st->chunks[c];
    ch->d.n_levels = full_l[c];
    otap__pq_chunk_view(ch, false);
    if (rc == 0 && ch->d.used_values < 0)
      rc = otap_error_set(err, EINVAL, "%s: column %s was not assembled", r->name, r->leaves[c].path);
    if (rc == 0) otap__pq_chunk_consume(ch, rows, span_l[c], ch->d.used_values);
  }
done:
  otap_free(span_l);
  otap_free(full_l);
  return rc;
}

static int rg_finish(struct otap_parquet_reader* r, struct pq_rg_state* st, struct otap_error* err) {
  for (int32_t c = 0; c < r->n_leaves; c++) {
    if (st->used[c]) OTAP_RETURN_NOT_OK(otap__pq_chunk_finish(&st->chunks[c], err));
  }
  return 0;
}

int otap_parquet_reader_read_row_group(struct otap_parquet_reader* r, int32_t g, struct ArrowArray* out,
                                       struct otap_error* err) {
  memset(out, 0, sizeof(*out));
  if (g < 0 || g >= r->meta.n_row_groups)
    return otap_error_set(err, EINVAL, "%s: row group %d does not exist", r->name, g);
  struct pq_rg_state st;
  OTAP_RETURN_NOT_OK(rg_open(r, g, &st, err));
  int rc = rg_batch(r, g, &st, r->meta.row_groups[g].num_rows, out, err);
  if (rc == 0) {
    rc = rg_finish(r, &st, err);
    if (rc) out->release(out);
  }
  rg_close(r, &st);
  if (rc == 0) rc = validate_batch(r, out, err);
  return rc;
}

/// Optional validation of a produced batch with the arrow module's validator.
static int validate_batch(struct otap_parquet_reader* r, struct ArrowArray* out, struct otap_error* err) {
  if (r->opts.validation == OTAP_VALIDATE_NONE || !out->release) return 0;
#if defined(OTAP_PARQUET_HAVE_IPC)
  struct otap_array_view view;
  memset(&view, 0, sizeof(view));
  int rc = otap_array_view_init(&view, &r->schema, err);
  if (rc == 0) rc = otap_array_view_set(&view, out, r->opts.validation, err);
  otap_array_view_reset(&view);
  if (rc) {
    otap_error_prefix(err, rc, "%s: decoded batch failed validation: ", r->name);
    out->release(out);
  }
  return rc;
#else
  return 0;
#endif
}

int otap_parquet_reader_next(struct otap_parquet_reader* r, struct ArrowArray* out, struct otap_error* err) {
  if (r->failed) {
    memset(out, 0, sizeof(*out));
    return otap_error_set(err, r->failed, "%s: an earlier batch failed (%s); the reader cannot continue", r->name,
                          otap_errno_name(r->failed));
  }
  int rc = otap__pq_reader_next_raw(r, out, err);
  if (rc == 0) rc = validate_batch(r, out, err);
  if (rc) r->failed = rc;
  return rc;
}

int otap__pq_reader_next_raw(struct otap_parquet_reader* r, struct ArrowArray* out, struct otap_error* err) {
  memset(out, 0, sizeof(*out));
  struct pq_rg_state* st = r->rg;
  for (;;) {
    if (r->cur_rg >= 0 && r->rows_left > 0) {
      int64_t k = r->rows_left < r->opts.batch_size ? r->rows_left : r->opts.batch_size;
      int rc = rg_batch(r, r->cur_rg, st, k, out, err);
      if (rc == 0) {
        r->rows_left -= k;
        if (r->rows_left == 0) {
          rc = rg_finish(r, st, err);
          if (rc) out->release(out);
        }
      }
      if (rc) {
        rg_close(r, st);
        r->cur_rg = -1;
      }
      return rc;
    }
    if (r->cur_rg >= 0) {
      rg_close(r, st);
      r->cur_rg = -1;
    }
    if (r->rg_pos >= r->n_rg_sel) return 0;
    int32_t g = r->rg_sel ? r->rg_sel[r->rg_pos] : r->rg_pos;
    r->rg_pos++;
    OTAP_RETURN_NOT_OK(rg_open(r, g, st, err));
    r->cur_rg = g;
    r->rows_left = r->meta.row_groups[g].num_rows;
    if (r->rows_left == 0) {
      int rc = rg_finish(r, st, err);
      if (rc) {
        rg_close(r, st);
        r->cur_rg = -1;
        return rc;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Page index

static int read_index(struct otap_parquet_reader* r, int64_t off, int32_t len, struct otap_buffer* buf,
                      const char* what, struct otap_error* err) {
  if (len <= 0) return otap_error_set(err, ENOENT, "%s: no %s for this column chunk", r->name, what);
  if (off < 4 || (uint64_t)off + (uint64_t)len > r->file_size - 8)
    return otap_error_set(err, EINVAL, "%s: %s [%lld, +%d) lies outside the file", r->name, what, (long long)off, len);
  if (otap_buffer_resize(buf, len, false)) return otap_error_set(err, ENOMEM, "out of memory");
  return r->source->read_at(r->source, (uint64_t)off, buf->data, (size_t)len, err);
}

static int chunk_for(struct otap_parquet_reader* r, int32_t g, int32_t c,
                     const struct otap_parquet_column_chunk** out, struct otap_error* err) {
  if (g < 0 || g >= r->meta.n_row_groups || c < 0 || c >= r->meta.row_groups[g].n_columns)
    return otap_error_set(err, EINVAL, "%s: no column chunk (%d, %d)", r->name, g, c);
  *out = &r->meta.row_groups[g].columns[c];
  return 0;
}

int otap_parquet_reader_offset_index(struct otap_parquet_reader* r, int32_t g, int32_t c,
                                     struct otap_parquet_offset_index* out, struct otap_error* err) {
  memset(out, 0, sizeof(*out));
  const struct otap_parquet_column_chunk* cc;
  OTAP_RETURN_NOT_OK(chunk_for(r, g, c, &cc, err));
  struct otap_buffer buf;
  otap_buffer_init(&buf);
  int rc = read_index(r, cc->offset_index_offset, cc->offset_index_length, &buf, "OffsetIndex", err);
  if (rc == 0) rc = otap__pq_decode_offset_index(buf.data, (size_t)buf.size, cc->offset_index_offset, out, err);
  otap_buffer_reset(&buf);
  return rc;
}

int otap_parquet_reader_column_index(struct otap_parquet_reader* r, int32_t g, int32_t c,
                                     struct otap_parquet_column_index* out, struct otap_error* err) {
  memset(out, 0, sizeof(*out));
  const struct otap_parquet_column_chunk* cc;
  OTAP_RETURN_NOT_OK(chunk_for(r, g, c, &cc, err));
  struct otap_buffer buf;
  otap_buffer_init(&buf);
  int rc = read_index(r, cc->column_index_offset, cc->column_index_length, &buf, "ColumnIndex", err);
  if (rc == 0) rc = otap__pq_decode_column_index(buf.data, (size_t)buf.size, cc->column_index_offset, out, err);
  if (rc == 0) {
    out->storage = buf.data;  // min/max point into it
    otap_buffer_init(&buf);
  }
  otap_buffer_reset(&buf);
  return rc;
}

// ---------------------------------------------------------------------------------------------
// Stream

struct pq_stream {
  struct otap_parquet_reader* reader;
  struct otap_source* source;  // owned when non-NULL
  struct otap_error error;
};

static int stream_get_schema(struct ArrowArrayStream* s, struct ArrowSchema* out) {
  struct pq_stream* p = s->private_data;
  int rc = otap__pq_schema_copy(&p->reader->schema, out);
  if (rc) otap_error_set(&p->error, rc, "out of memory copying the schema");
  return rc;
}

static int stream_get_next(struct ArrowArrayStream* s, struct ArrowArray* out) {
  struct pq_stream* p = s->private_data;
  return otap_parquet_reader_next(p->reader, out, &p->error);
}

static const char* stream_last_error(struct ArrowArrayStream* s) {
  struct pq_stream* p = s->private_data;
  return p->error.message;
}

static void stream_release(struct ArrowArrayStream* s) {
  if (!s || !s->release) return;
  struct pq_stream* p = s->private_data;
  otap_parquet_reader_free(p->reader);
  if (p->source) {
    otap_source_release(p->source);
    otap_free(p->source);
  }
  otap_free(p);
  s->release = NULL;
}

int otap_parquet_reader_to_stream(struct otap_parquet_reader* reader, bool own_source,
                                  struct ArrowArrayStream* out, struct otap_error* err) {
  memset(out, 0, sizeof(*out));
  struct pq_stream* p = otap_calloc(1, sizeof(*p));
  if (!p) return otap_error_set(err, ENOMEM, "out of memory");
  p->reader = reader;
  p->source = own_source ? reader->source : NULL;
  out->get_schema = stream_get_schema;
  out->get_next = stream_get_next;
  out->get_last_error = stream_last_error;
  out->release = stream_release;
  out->private_data = p;
  return 0;
}

int otap_parquet_open_stream(const char* path, const struct otap_parquet_reader_options* opts,
                             struct ArrowArrayStream* out, struct otap_error* err) {
  memset(out, 0, sizeof(*out));
  struct otap_source* src = otap_calloc(1, sizeof(*src));
  if (!src) return otap_error_set(err, ENOMEM, "out of memory");
  int rc = otap_source_open_file(src, path, err);
  if (rc) {
    otap_free(src);
    return rc;
  }
  struct otap_parquet_reader* r;
  rc = otap_parquet_reader_open(&r, src, opts, err);
  if (rc == 0) rc = otap_parquet_reader_to_stream(r, true, out, err);
  if (rc) {
    if (rc && r && !out->release) otap_parquet_reader_free(r);
    otap_source_release(src);
    otap_free(src);
  }
  return rc;
}

// ---------------------------------------------------------------------------------------------
// Names

const char* otap_parquet_codec_name(int32_t c) {
  static const char* n[] = {"UNCOMPRESSED", "SNAPPY", "GZIP", "LZO", "BROTLI", "LZ4", "ZSTD", "LZ4_RAW"};
  return c >= 0 && c < 8 ? n[c] : "UNKNOWN";
}

const char* otap_parquet_encoding_name(int32_t e) {
  static const char* n[] = {"PLAIN", "GROUP_VAR_INT", "PLAIN_DICTIONARY", "RLE", "BIT_PACKED",
                            "DELTA_BINARY_PACKED", "DELTA_LENGTH_BYTE_ARRAY", "DELTA_BYTE_ARRAY",
                            "RLE_DICTIONARY", "BYTE_STREAM_SPLIT"};
  return e >= 0 && e < 10 ? n[e] : "UNKNOWN";
}

const char* otap_parquet_physical_type_name(int32_t t) {
  static const char* n[] = {"BOOLEAN", "INT32", "INT64", "INT96", "FLOAT", "DOUBLE", "BYTE_ARRAY",
                            "FIXED_LEN_BYTE_ARRAY"};
  return t >= 0 && t < 8 ? n[t] : "UNKNOWN";
}

const char* otap_parquet_converted_type_name(int32_t c) {
  static const char* n[] = {"UTF8", "MAP", "MAP_KEY_VALUE", "LIST", "ENUM", "DECIMAL", "DATE",
                            "TIME_MILLIS", "TIME_MICROS", "TIMESTAMP_MILLIS", "TIMESTAMP_MICROS",
                            "UINT_8", "UINT_16", "UINT_32", "UINT_64", "INT_8", "INT_16", "INT_32",
                            "INT_64", "JSON", "BSON", "INTERVAL"};
  return c >= 0 && c < 22 ? n[c] : (c == -1 ? "NONE" : "UNKNOWN");
}
