// Batch schema unification: union of columns over inputs, conforming each input to a working
// schema (dictionary columns as dictionary<int32, value>), and finalizing gathered outputs
// (dictionary compaction and key width, id replacement, body.type fill, metadata).
#include <errno.h>
#include <string.h>

#include "batch/batch_internal.h"

// ---------------------------------------------------------------------------------------------
// Column roles and key-width rules (OTAP spec section 5)

static enum otap__col_role role_of(enum otap_logs_table t, const char* parent, const char* name) {
  if (t == OTAP_LOGS_LOGS) {
    if (!parent && strcmp(name, "id") == 0) return OTAP__ROLE_LOG_ID;
    if (parent && strcmp(parent, "resource") == 0 && strcmp(name, "id") == 0)
      return OTAP__ROLE_RESOURCE_ID;
    if (parent && strcmp(parent, "scope") == 0 && strcmp(name, "id") == 0)
      return OTAP__ROLE_SCOPE_ID;
    if (parent && strcmp(parent, "body") == 0 && strcmp(name, "type") == 0)
      return OTAP__ROLE_BODY_TYPE;
    return OTAP__ROLE_NONE;
  }
  if (!parent && strcmp(name, "parent_id") == 0) return OTAP__ROLE_PARENT_ID;
  return OTAP__ROLE_NONE;
}

static bool is_u16_only(enum otap_logs_table t, const char* parent, const char* name) {
  static const char* const kU16[] = {"str", "int", "bytes", "ser"};
  bool scope_ok = t == OTAP_LOGS_LOGS ? (parent && strcmp(parent, "body") == 0) : !parent;
  if (!scope_ok) return false;
  for (size_t i = 0; i < sizeof(kU16) / sizeof(kU16[0]); i++) {
    if (strcmp(name, kU16[i]) == 0) return true;
  }
  return false;
}

static const char* value_format(const struct ArrowSchema* s) {
  return s->dictionary ? s->dictionary->format : s->format;
}

static bool formats_compatible(const char* a, const char* b) {
  if (strncmp(a, "tsn:", 4) == 0 && strncmp(b, "tsn:", 4) == 0) return true;
  return strcmp(a, b) == 0;
}

// ---------------------------------------------------------------------------------------------
// Union

static void ucols_free(struct otap__ucol* cols, int64_t n) {
  for (int64_t i = 0; i < n; i++) {
    otap_free(cols[i].name);
    otap_free(cols[i].format);
    ucols_free(cols[i].children, cols[i].n_children);
  }
  otap_free(cols);
}

void otap__utable_init(struct otap__utable* u, enum otap_logs_table t) {
  memset(u, 0, sizeof(*u));
  u->table = t;
}

void otap__utable_reset(struct otap__utable* u) {
  ucols_free(u->cols, u->n_cols);
  otap_schema_release(&u->working);
  enum otap_logs_table t = u->table;
  memset(u, 0, sizeof(*u));
  u->table = t;
}

static int add_cols(struct otap__ucol** cols, int64_t* n, enum otap_logs_table t,
                    const char* parent, const struct ArrowSchema* s, int64_t input,
                    struct otap_error* err) {
  for (int64_t i = 0; i < s->n_children; i++) {
    const struct ArrowSchema* c = s->children[i];
    const char* name = c->name ? c->name : "";
    const char* vf = value_format(c);
    bool is_struct = strcmp(c->format, "+s") == 0;
    struct otap__ucol* u = NULL;
    for (int64_t j = 0; j < *n; j++) {
      if (strcmp((*cols)[j].name, name) == 0) u = &(*cols)[j];
    }
    if (u) {
      if (u->is_struct != is_struct || (!is_struct && !formats_compatible(u->format, vf))) {
        return otap_error_set(err, EINVAL,
                              "batch: input %lld, table %s, column %s%s%s: type '%s' conflicts "
                              "with '%s' of an earlier input",
                              (long long)input, otap_logs_table_name(t), parent ? parent : "",
                              parent ? "." : "", name, vf, u->format);
      }
      if (c->dictionary) u->dict = true;
    } else {
      struct otap__ucol* grown = otap_realloc(*cols, (size_t)(*n + 1) * sizeof(**cols));
      OTAP_RETURN_IF(!grown, err, ENOMEM, "batch: out of memory (schema union)");
      *cols = grown;
      u = &grown[*n];
      memset(u, 0, sizeof(*u));
      (*n)++;
      u->name = otap_strdup(name);
      u->format = otap_strdup(vf);
      OTAP_RETURN_IF(!u->name || !u->format, err, ENOMEM, "batch: out of memory (schema union)");
      u->is_struct = is_struct;
      u->dict = c->dictionary != NULL;
      u->role = role_of(t, parent, name);
      u->u16_only = is_u16_only(t, parent, name);
    }
    if (is_struct) {
      OTAP_RETURN_IF(parent != NULL, err, ENOTSUP,
                     "batch: input %lld, table %s, column %s.%s: nested structs are not OTAP",
                     (long long)input, otap_logs_table_name(t), parent, name);
      OTAP_RETURN_NOT_OK(add_cols(&u->children, &u->n_children, t, name, c, input, err));
    }
  }
  return 0;
}

int otap__utable_add(struct otap__utable* u, const struct ArrowSchema* s, int64_t input,
                     struct otap_error* err) {
  OTAP_RETURN_IF(strcmp(s->format, "+s") != 0, err, EINVAL,
                 "batch: input %lld, table %s: not a struct record batch (format '%s')",
                 (long long)input, otap_logs_table_name(u->table), s->format);
  u->present = true;
  return add_cols(&u->cols, &u->n_cols, u->table, NULL, s, input, err);
}

static int build_schema(const struct otap__ucol* cols, int64_t n, struct ArrowSchema* out) {
  OTAP_RETURN_NOT_OK(otap_schema_init(out, "+s"));
  OTAP_RETURN_NOT_OK(otap_schema_allocate_children(out, n));
  for (int64_t i = 0; i < n; i++) {
    const struct otap__ucol* c = &cols[i];
    struct ArrowSchema* f = out->children[i];
    if (c->is_struct) {
      OTAP_RETURN_NOT_OK(build_schema(c->children, c->n_children, f));
    } else if (c->dict) {
      OTAP_RETURN_NOT_OK(otap_schema_init(f, "i"));
      OTAP_RETURN_NOT_OK(otap_schema_allocate_dictionary(f));
      OTAP_RETURN_NOT_OK(otap_schema_init(f->dictionary, c->format));
    } else {
      OTAP_RETURN_NOT_OK(otap_schema_init(f, c->format));
    }
    OTAP_RETURN_NOT_OK(otap_schema_set_name(f, c->name));
  }
  return 0;
}

int otap__utable_build(struct otap__utable* u, struct otap_error* err) {
  otap_schema_release(&u->working);
  int rc = build_schema(u->cols, u->n_cols, &u->working);
  if (rc) {
    otap_schema_release(&u->working);
    return otap_error_set(err, rc, "batch: cannot build the unified %s schema",
                          otap_logs_table_name(u->table));
  }
  u->working.flags = 0;
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Conform

static int make_nulls(const struct ArrowSchema* ws, int64_t n, struct ArrowArray* out,
                      struct otap_error* err) {
  OTAP_RETURN_NOT_OK(otap_array_init_from_schema(out, ws, err));
  int rc = otap_array_append_null(out, n);
  if (rc == 0) rc = otap_array_finish(out, OTAP_VALIDATE_NONE, ws, err);
  if (rc) {
    otap_array_release(out);
    return otap_error_set(err, rc, "batch: cannot build a null column '%s'",
                          ws->name ? ws->name : "");
  }
  return 0;
}

static int64_t child_index(const struct ArrowSchema* s, const char* name) {
  if (!s) return -1;
  for (int64_t i = 0; i < s->n_children; i++) {
    if (s->children[i]->name && strcmp(s->children[i]->name, name) == 0) return i;
  }
  return -1;
}

static int copy_bits(const uint8_t* src, int64_t off, int64_t n, struct otap_buffer* out) {
  otap_buffer_init(out);
  OTAP_RETURN_NOT_OK(otap_buffer_resize(out, otap_bytes_for_bits(n), true));
  for (int64_t i = 0; i < n; i++) {
    if (otap_bit_get(src, off + i)) otap_bit_set(out->data, i);
  }
  return 0;
}

static int conform_leaf(const struct otap__ucol* c, const struct ArrowSchema* ws,
                        const struct ArrowSchema* is, const struct ArrowArray* ia, int64_t base,
                        int64_t n, struct ArrowArray* out, struct otap_error* err) {
  struct ArrowArray sl;
  memset(&sl, 0, sizeof(sl));
  OTAP_RETURN_NOT_OK(otap_array_slice(ia, base, n, &sl, err));
  int rc = 0;
  struct ArrowSchema tmp_schema;
  memset(&tmp_schema, 0, sizeof(tmp_schema));
  struct ArrowArray dict;
  memset(&dict, 0, sizeof(dict));
  int64_t* remap = NULL;
  if (!c->dict) {
    otap_array_move(&sl, out);
    return 0;
  }
  if (!is->dictionary) {
    rc = otap_dict_encode(is, &sl, OTAP_TYPE_INT32, &tmp_schema, out, err);
  } else if (strcmp(is->format, "i") == 0) {
    otap_array_move(&sl, out);
  } else {
    int64_t dlen = sl.dictionary ? sl.dictionary->length : 0;
    remap = otap_malloc((size_t)(dlen > 0 ? dlen : 1) * sizeof(int64_t));
    if (!remap) {
      rc = otap_error_set(err, ENOMEM, "batch: out of memory (dictionary keys)");
      goto done;
    }
    for (int64_t j = 0; j < dlen; j++) remap[j] = j;
    OTAP_GOTO_NOT_OK(rc, otap_array_ref(sl.dictionary, &dict, err));
    rc = otap_dict_remap_indices(is, &sl, remap, dlen, OTAP_TYPE_INT32, &dict, &tmp_schema, out,
                                 err);
  }
  (void)ws;
done:
  otap_free(remap);
  otap_array_release(&dict);
  otap_array_release(&sl);
  otap_schema_release(&tmp_schema);
  return rc;
}

// Fills `out` (already initialized from ws, a struct schema) with the conformed columns.
static int conform_struct(const struct otap__ucol* cols, int64_t ncols,
                          const struct ArrowSchema* ws, const struct ArrowSchema* is,
                          const struct ArrowArray* ia, int64_t base, int64_t n,
                          struct ArrowArray* out, struct otap_error* err) {
  for (int64_t i = 0; i < ncols; i++) {
    const struct otap__ucol* c = &cols[i];
    const struct ArrowSchema* wc = ws->children[i];
    int64_t j = child_index(is, c->name);
    struct ArrowArray col;
    memset(&col, 0, sizeof(col));
    if (j < 0 || !ia) {
      OTAP_RETURN_NOT_OK(make_nulls(wc, n, &col, err));
    } else if (c->is_struct) {
      const struct ArrowArray* ic = ia->children[j];
      OTAP_RETURN_NOT_OK(otap_array_init_from_schema(&col, wc, err));
      int rc = conform_struct(c->children, c->n_children, wc, is->children[j], ic,
                              ic->offset + base, n, &col, err);
      if (rc == 0 && ic->n_buffers > 0 && ic->buffers[0]) {
        struct otap_buffer bits;
        rc = copy_bits(ic->buffers[0], ic->offset + base, n, &bits);
        if (rc == 0) rc = otap_array_set_buffer(&col, 0, &bits);
        otap_buffer_reset(&bits);
        if (rc) rc = otap_error_set(err, rc, "batch: out of memory (struct validity)");
      }
      col.length = n;
      if (rc == 0) rc = otap_array_finish(&col, OTAP_VALIDATE_NONE, wc, err);
      if (rc) {
        otap_array_release(&col);
        return rc;
      }
    } else {
      OTAP_RETURN_NOT_OK(
          conform_leaf(c, wc, is->children[j], ia->children[j], base, n, &col, err));
    }
    otap_array_release(out->children[i]);
    otap_array_move(&col, out->children[i]);
  }
  return 0;
}

int otap__utable_conform(const struct otap__utable* u, const struct ArrowSchema* s,
                         const struct ArrowArray* a, int64_t n, struct ArrowArray* out,
                         struct otap_error* err) {
  OTAP_RETURN_NOT_OK(otap_array_init_from_schema(out, &u->working, err));
  int rc = conform_struct(u->cols, u->n_cols, &u->working, a ? s : NULL, a,
                          a ? a->offset : 0, n, out, err);
  out->length = n;
  if (rc == 0) rc = otap_array_finish(out, OTAP_VALIDATE_NONE, &u->working, err);
  if (rc) otap_array_release(out);
  return rc;
}

// ---------------------------------------------------------------------------------------------
// Finalize

static int set_plain(struct ArrowSchema* f) {
  struct otap_buffer buf;
  otap_buffer_init(&buf);
  struct otap_metadata_entry e = {"encoding", 8, "plain", 5};
  int rc = otap_metadata_encode(&buf, &e, 1);
  if (rc == 0) rc = otap_schema_set_metadata(f, (const char*)buf.data);
  otap_buffer_reset(&buf);
  return rc;
}

static int make_u16(const uint16_t* values, const uint8_t* valid, int64_t n,
                    struct ArrowArray* out, struct otap_error* err) {
  struct ArrowSchema s;
  int rc = otap_schema_init(&s, "S");
  if (rc) return otap_error_set(err, rc, "batch: out of memory (id column)");
  rc = otap_array_init_from_schema(out, &s, err);
  if (rc) goto done;
  struct otap_buffer vals, bits;
  otap_buffer_init(&vals);
  otap_buffer_init(&bits);
  rc = otap_buffer_append(&vals, values, n * 2);
  bool any_null = false;
  if (valid) {
    for (int64_t i = 0; i < n && !any_null; i++) any_null = !valid[i];
  }
  if (rc == 0 && any_null) {
    rc = otap_buffer_resize(&bits, otap_bytes_for_bits(n), true);
    for (int64_t i = 0; rc == 0 && i < n; i++) {
      if (valid[i]) otap_bit_set(bits.data, i);
    }
  }
  if (rc == 0) rc = otap_array_set_buffer(out, 1, &vals);
  if (rc == 0 && any_null) rc = otap_array_set_buffer(out, 0, &bits);
  otap_buffer_reset(&vals);
  otap_buffer_reset(&bits);
  if (rc) {
    rc = otap_error_set(err, rc, "batch: out of memory (id column)");
  } else {
    out->length = n;
    rc = otap_array_finish(out, OTAP_VALIDATE_NONE, &s, err);
  }
  if (rc) otap_array_release(out);
done:
  otap_schema_release(&s);
  return rc;
}

static int fill_body_type(struct ArrowArray* col, struct otap_error* err) {
  if (col->null_count == 0 || col->n_buffers < 2 || !col->buffers[0]) return 0;
  const uint8_t* v = (const uint8_t*)col->buffers[1] + col->offset;
  const uint8_t* bits = col->buffers[0];
  int64_t n = col->length;
  uint8_t* tmp = otap_malloc((size_t)(n > 0 ? n : 1));
  OTAP_RETURN_IF(!tmp, err, ENOMEM, "batch: out of memory (body.type)");
  for (int64_t i = 0; i < n; i++) tmp[i] = otap_bit_get(bits, col->offset + i) ? v[i] : 0;
  struct ArrowSchema s;
  struct ArrowArray a;
  memset(&a, 0, sizeof(a));
  int rc = otap_schema_init(&s, "C");
  if (rc == 0) rc = otap_array_init_from_schema(&a, &s, err);
  struct otap_buffer vals;
  otap_buffer_init(&vals);
  if (rc == 0) rc = otap_buffer_append(&vals, tmp, n);
  if (rc == 0) rc = otap_array_set_buffer(&a, 1, &vals);
  if (rc == 0) {
    a.length = n;
    rc = otap_array_finish(&a, OTAP_VALIDATE_NONE, &s, err);
  }
  otap_buffer_reset(&vals);
  otap_free(tmp);
  otap_schema_release(&s);
  if (rc) {
    otap_array_release(&a);
    return otap_error_set(err, rc, "batch: cannot rebuild body.type");
  }
  otap_array_release(col);
  otap_array_move(&a, col);
  return 0;
}

// Compacts a dictionary<int32> column to its referenced values (first-use order) and picks
// the key width; fs (the output field schema) is replaced accordingly.
static int finalize_dict(const struct otap__ucol* c, struct ArrowSchema* fs,
                         struct ArrowArray* col, struct otap_error* err) {
  int64_t n = col->length;
  const int32_t* idx = (const int32_t*)col->buffers[1] + col->offset;
  const uint8_t* bits = col->buffers[0];
  int64_t dlen = col->dictionary ? col->dictionary->length : 0;
  int64_t* remap = otap_malloc((size_t)(dlen > 0 ? dlen : 1) * sizeof(int64_t));
  int64_t* keep = otap_malloc((size_t)(dlen > 0 ? dlen : 1) * sizeof(int64_t));
  struct ArrowArray dict, out;
  struct ArrowSchema out_schema;
  memset(&dict, 0, sizeof(dict));
  memset(&out, 0, sizeof(out));
  memset(&out_schema, 0, sizeof(out_schema));
  int rc = 0;
  if (!remap || !keep) {
    rc = otap_error_set(err, ENOMEM, "batch: out of memory (dictionary %s)", c->name);
    goto done;
  }
  for (int64_t j = 0; j < dlen; j++) remap[j] = -1;
  int64_t kept = 0;
  for (int64_t i = 0; i < n; i++) {
    if (bits && !otap_bit_get(bits, col->offset + i)) continue;
    int32_t k = idx[i];
    if (k < 0 || k >= dlen) {
      rc = otap_error_set(err, EINVAL, "batch: column %s: dictionary index %d out of range",
                          c->name, (int)k);
      goto done;
    }
    if (remap[k] < 0) {
      remap[k] = kept;
      keep[kept++] = k;
    }
  }
  OTAP_GOTO_NOT_OK(rc, otap_array_take(fs->dictionary, col->dictionary, keep, kept, &dict, err));
  if (kept > 65536) {
    struct ArrowArray dec;
    memset(&dec, 0, sizeof(dec));
    OTAP_GOTO_NOT_OK(rc, otap_dict_decode(fs, col, &dec, err));
    OTAP_GOTO_NOT_OK(rc, otap_schema_deep_copy(fs->dictionary, &out_schema, err));
    otap_array_move(&dec, &out);
    const char* name = fs->name;
    if (name) {
      rc = otap_schema_set_name(&out_schema, name);
      if (rc) goto done;
    }
  } else {
    enum otap_type kt = (kept <= 256 && !c->u16_only) ? OTAP_TYPE_UINT8 : OTAP_TYPE_UINT16;
    OTAP_GOTO_NOT_OK(rc, otap_dict_remap_indices(fs, col, remap, dlen, kt, &dict, &out_schema,
                                                 &out, err));
  }
  otap_schema_release(fs);
  otap_schema_move(&out_schema, fs);
  otap_array_release(col);
  otap_array_move(&out, col);
done:
  otap_array_release(&dict);
  otap_array_release(&out);
  otap_schema_release(&out_schema);
  otap_free(remap);
  otap_free(keep);
  return rc;
}

static int finalize_struct(const struct otap__ucol* cols, int64_t ncols, struct ArrowSchema* s,
                           struct ArrowArray* a, const struct otap__idcols* ids,
                           struct otap_error* err) {
  OTAP_RETURN_IF(a->offset != 0, err, EINVAL, "batch: internal: gathered struct has an offset");
  for (int64_t i = 0; i < ncols; i++) {
    const struct otap__ucol* c = &cols[i];
    struct ArrowSchema* fs = s->children[i];
    struct ArrowArray* col = a->children[i];
    if (c->is_struct) {
      OTAP_RETURN_NOT_OK(finalize_struct(c->children, c->n_children, fs, col, ids, err));
      continue;
    }
    bool is_id = c->role == OTAP__ROLE_LOG_ID || c->role == OTAP__ROLE_RESOURCE_ID ||
                 c->role == OTAP__ROLE_SCOPE_ID || c->role == OTAP__ROLE_PARENT_ID;
    if (is_id && ids && ids->values[c->role]) {
      struct ArrowArray fresh;
      OTAP_RETURN_NOT_OK(
          make_u16(ids->values[c->role], ids->valid[c->role], a->length, &fresh, err));
      otap_array_release(col);
      otap_array_move(&fresh, col);
    }
    if (is_id) {
      OTAP_RETURN_IF(set_plain(fs) != 0, err, ENOMEM, "batch: out of memory (metadata)");
      continue;
    }
    OTAP_RETURN_IF(otap_schema_set_metadata(fs, NULL) != 0, err, ENOMEM,
                   "batch: out of memory (metadata)");
    if (c->role == OTAP__ROLE_BODY_TYPE) {
      OTAP_RETURN_NOT_OK(fill_body_type(col, err));
      fs->flags &= ~(int64_t)ARROW_FLAG_NULLABLE;
    }
    if (c->dict) OTAP_RETURN_NOT_OK(finalize_dict(c, fs, col, err));
  }
  return 0;
}

int otap__utable_finalize(const struct otap__utable* u, struct ArrowArray* in,
                          const struct otap__idcols* ids, const char* table_meta,
                          struct ArrowSchema* out_schema, struct ArrowArray* out,
                          struct otap_error* err) {
  struct ArrowSchema s;
  memset(&s, 0, sizeof(s));
  int rc = otap_schema_deep_copy(&u->working, &s, err);
  if (rc) {
    otap_array_release(in);
    return rc;
  }
  rc = finalize_struct(u->cols, u->n_cols, &s, in, ids, err);
  if (rc == 0 && table_meta) {
    rc = otap_schema_set_metadata(&s, table_meta);
    if (rc) rc = otap_error_set(err, rc, "batch: out of memory (metadata)");
  }
  if (rc == 0) rc = otap_array_finish(in, OTAP_VALIDATE_NONE, &s, err);
  if (rc) {
    otap_schema_release(&s);
    otap_array_release(in);
    return rc;
  }
  otap_schema_move(&s, out_schema);
  otap_array_move(in, out);
  return 0;
}
