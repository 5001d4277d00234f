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
    otap_array_view_reset(&cols[i].gview);
    otap_array_release(&cols[i].gdict);
    otap_free(cols[i].gbase);
    otap_free(cols[i].remap);
    otap_free(cols[i].stamp);
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
  otap_bitmap_copy(out->data, 0, src, off, n);
  return 0;
}

// Index width of a dictionary index format ('C', 'c', 'S', 's', 'I', 'i'), 0 otherwise.
static int index_width(const char* f) {
  switch (f[0]) {
    case 'C':
    case 'c':
      return 1;
    case 'S':
    case 's':
      return 2;
    case 'I':
    case 'i':
      return 4;
    default:
      return 0;
  }
}

static int64_t read_index(const uint8_t* p, int w, bool sgn, int64_t i) {
  switch (w) {
    case 1:
      return sgn ? (int64_t)(int8_t)p[i] : (int64_t)p[i];
    case 2: {
      uint16_t v;
      memcpy(&v, p + 2 * i, 2);
      return sgn ? (int64_t)(int16_t)v : (int64_t)v;
    }
    default: {
      uint32_t v;
      memcpy(&v, p + 4 * i, 4);
      return sgn ? (int64_t)(int32_t)v : (int64_t)v;
    }
  }
}

// Children of struct column `name` for every input (NULL when absent) and their bases.
struct srcs {
  const struct ArrowSchema** s;
  const struct ArrowArray** a;
  int64_t* base;
};

static int build_dicts_rec(struct otap__ucol* cols, int64_t ncols, const struct ArrowSchema* ws,
                           const struct ArrowSchema* const* ss,
                           const struct ArrowArray* const* aa, const int64_t* base,
                           const int64_t* nrows, int64_t n_in, struct otap_error* err) {
  int rc = 0;
  struct srcs sub = {otap_calloc((size_t)n_in + 1, sizeof(void*)),
                     otap_calloc((size_t)n_in + 1, sizeof(void*)),
                     otap_calloc((size_t)n_in + 1, sizeof(int64_t))};
  struct ArrowArray* parts = otap_calloc((size_t)n_in + 1, sizeof(struct ArrowArray));
  const struct ArrowArray** ptrs = otap_calloc((size_t)n_in + 1, sizeof(void*));
  if (!sub.s || !sub.a || !sub.base || !parts || !ptrs) {
    rc = otap_error_set(err, ENOMEM, "batch: out of memory (dictionaries)");
    goto done;
  }
  for (int64_t i = 0; i < ncols; i++) {
    struct otap__ucol* c = &cols[i];
    if (!c->is_struct && !c->dict) continue;
    for (int64_t k = 0; k < n_in; k++) {
      int64_t j = ss[k] ? child_index(ss[k], c->name) : -1;
      sub.s[k] = j >= 0 ? ss[k]->children[j] : NULL;
      sub.a[k] = j >= 0 ? aa[k]->children[j] : NULL;
      sub.base[k] = j >= 0 ? base[k] : 0;
    }
    if (c->is_struct) {
      for (int64_t k = 0; k < n_in; k++) {
        if (sub.a[k]) sub.base[k] = sub.a[k]->offset + base[k];
      }
      OTAP_GOTO_NOT_OK(rc, build_dicts_rec(c->children, c->n_children, ws->children[i], sub.s,
                                           sub.a, sub.base, nrows, n_in, err));
      continue;
    }
    otap_free(c->gbase);
    c->gbase = otap_calloc((size_t)n_in + 1, sizeof(int64_t));
    if (!c->gbase) {
      rc = otap_error_set(err, ENOMEM, "batch: out of memory (dictionaries)");
      goto done;
    }
    int64_t np = 0, total = 0;
    for (int64_t k = 0; k < n_in; k++) {
      c->gbase[k] = total;
      if (!sub.a[k]) continue;
      if (sub.s[k]->dictionary) {
        rc = otap_array_ref(sub.a[k]->dictionary, &parts[np], err);
      } else {
        rc = otap_array_slice(sub.a[k], sub.base[k], nrows[k], &parts[np], err);
      }
      if (rc) {
        for (int64_t q = 0; q < np; q++) otap_array_release(&parts[q]);
        goto done;
      }
      total += parts[np].length;
      ptrs[np] = &parts[np];
      np++;
    }
    const struct ArrowSchema* vs = ws->children[i]->dictionary;
    otap_array_release(&c->gdict);
    if (np > 0) {
      rc = otap__batch_concat(vs, ptrs, np, &c->gdict, err);
    } else {
      rc = otap_array_init_from_schema(&c->gdict, vs, err);
      if (rc == 0) rc = otap_array_finish(&c->gdict, OTAP_VALIDATE_NONE, vs, err);
    }
    for (int64_t q = 0; q < np; q++) otap_array_release(&parts[q]);
    if (rc) goto done;
    otap_array_view_reset(&c->gview);
    c->gview_ready = false;
    OTAP_GOTO_NOT_OK(rc, otap_array_view_init(&c->gview, vs, err));
    c->gview_ready = true;
    OTAP_GOTO_NOT_OK(rc, otap_array_view_set(&c->gview, &c->gdict, OTAP_VALIDATE_DEFAULT, err));
  }
done:
  otap_free(sub.s);
  otap_free(sub.a);
  otap_free(sub.base);
  otap_free(parts);
  otap_free(ptrs);
  return rc;
}

int otap__utable_build_dicts(struct otap__utable* u, const struct ArrowSchema* const* ss,
                             const struct ArrowArray* const* aa, int64_t n_in,
                             struct otap_error* err) {
  int64_t* base = otap_calloc((size_t)n_in + 1, sizeof(int64_t));
  int64_t* nrows = otap_calloc((size_t)n_in + 1, sizeof(int64_t));
  int rc = 0;
  if (!base || !nrows) {
    rc = otap_error_set(err, ENOMEM, "batch: out of memory (dictionaries)");
  } else {
    for (int64_t k = 0; k < n_in; k++) {
      base[k] = aa[k] ? aa[k]->offset : 0;
      nrows[k] = aa[k] ? aa[k]->length : 0;
    }
    rc = build_dicts_rec(u->cols, u->n_cols, &u->working, ss, aa, base, nrows, n_in, err);
  }
  otap_free(base);
  otap_free(nrows);
  return rc;
}

// Dictionary column of one input as int32 indices into the global dictionary.
static int conform_dict(const struct otap__ucol* c, const struct ArrowSchema* ws,
                        int64_t input, const struct ArrowSchema* is,
                        const struct ArrowArray* ia, int64_t base, int64_t n,
                        struct ArrowArray* out, struct otap_error* err) {
  struct otap_buffer idx, bits;
  otap_buffer_init(&idx);
  otap_buffer_init(&bits);
  struct ArrowArray dref;
  memset(&dref, 0, sizeof(dref));
  int rc = otap_buffer_resize(&idx, n * 4, false);
  if (rc) return otap_error_set(err, rc, "batch: out of memory (column %s)", c->name);
  int32_t* o = (int32_t*)idx.data;
  int64_t gb = c->gbase[input];
  int64_t pos = ia->offset + base;
  const uint8_t* valid = ia->n_buffers > 0 ? ia->buffers[0] : NULL;
  if (is->dictionary) {
    int w = index_width(is->format);
    bool sgn = is->format[0] == 'c' || is->format[0] == 's' || is->format[0] == 'i';
    int64_t dlen = ia->dictionary ? ia->dictionary->length : 0;
    const uint8_t* p = ia->buffers[1];
    if (w == 0 || (n > 0 && !p)) {
      rc = otap_error_set(err, EINVAL, "batch: input %lld, column %s: bad dictionary indices",
                          (long long)input, c->name);
      goto done;
    }
    bool nulls = valid && ia->null_count != 0;
    int64_t bad_row = -1;
    if (!nulls && w == 2 && !sgn) {
      const uint16_t* q = (const uint16_t*)p + pos;
      uint16_t mx = 0;
      for (int64_t r = 0; r < n; r++) {
        o[r] = (int32_t)(gb + q[r]);
        mx = q[r] > mx ? q[r] : mx;
      }
      if (n > 0 && mx >= dlen) {
        for (bad_row = 0; q[bad_row] < dlen; bad_row++) {
        }
      }
    } else if (!nulls && w == 1 && !sgn) {
      const uint8_t* q = p + pos;
      uint8_t mx = 0;
      for (int64_t r = 0; r < n; r++) {
        o[r] = (int32_t)(gb + q[r]);
        mx = q[r] > mx ? q[r] : mx;
      }
      if (n > 0 && mx >= dlen) {
        for (bad_row = 0; q[bad_row] < dlen; bad_row++) {
        }
      }
    } else if (nulls && (w == 1 || w == 2) && !sgn) {
      // With nulls: null slots get 0, valid slots must be in range.
      for (int64_t r = 0; r < n; r++) {
        int64_t k = w == 2 ? ((const uint16_t*)p)[pos + r] : p[pos + r];
        bool ok = otap_bit_get(valid, pos + r);
        if (ok && k >= dlen && bad_row < 0) bad_row = r;
        o[r] = ok ? (int32_t)(gb + k) : 0;
      }
    } else {
      bad_row = -2;  // generic loop below
    }
    if (bad_row >= 0) {
      int64_t k = read_index(p, w, sgn, pos + bad_row);
      rc = otap_error_set(err, EINVAL,
                          "batch: input %lld, column %s, row %lld: dictionary index %lld out "
                          "of range (dictionary length %lld)",
                          (long long)input, c->name, (long long)bad_row, (long long)k,
                          (long long)dlen);
      goto done;
    }
    for (int64_t r = 0; bad_row == -2 && r < n; r++) {
      int64_t k = read_index(p, w, sgn, pos + r);
      bool ok = !valid || otap_bit_get(valid, pos + r);
      if (ok && (k < 0 || k >= dlen)) {
        rc = otap_error_set(err, EINVAL,
                            "batch: input %lld, column %s, row %lld: dictionary index %lld out "
                            "of range (dictionary length %lld)",
                            (long long)input, c->name, (long long)r, (long long)k,
                            (long long)dlen);
        goto done;
      }
      o[r] = ok ? (int32_t)(gb + k) : 0;
    }
  } else {
    for (int64_t r = 0; r < n; r++) o[r] = (int32_t)(gb + r);
  }
  bool any_null = valid && ia->null_count != 0 && otap_bitmap_count_set(valid, pos, n) != n;
  if (any_null) {
    OTAP_GOTO_NOT_OK(rc, copy_bits(valid, pos, n, &bits));
  }
  OTAP_GOTO_NOT_OK(rc, otap_array_init_from_schema(out, ws, err));
  rc = otap_array_set_buffer(out, 1, &idx);
  if (rc == 0 && any_null) rc = otap_array_set_buffer(out, 0, &bits);
  if (rc) goto done;
  out->length = n;
  // Finished before the global dictionary is attached, so finishing does not recount the
  // null bits of the whole global dictionary for every input (it is already finished).
  OTAP_GOTO_NOT_OK(rc, otap_array_finish(out, OTAP_VALIDATE_NONE, ws, err));
  OTAP_GOTO_NOT_OK(rc, otap_array_ref(&c->gdict, &dref, err));
  otap_array_release(out->dictionary);
  otap_array_move(&dref, out->dictionary);
done:
  if (rc) otap_array_release(out);
  otap_buffer_reset(&idx);
  otap_buffer_reset(&bits);
  otap_array_release(&dref);
  return rc;
}

// Points the dictionaries of null-filled dictionary columns (a single column when `self`, else
// the children of struct `a`) at the global dictionaries, so every input shares them.
static int use_global_dicts(const struct otap__ucol* cols, int64_t ncols, struct ArrowArray* a,
                            bool self, struct otap_error* err) {
  for (int64_t i = 0; i < ncols; i++) {
    const struct otap__ucol* c = &cols[i];
    struct ArrowArray* col = self ? a : a->children[i];
    if (c->is_struct) {
      OTAP_RETURN_NOT_OK(use_global_dicts(c->children, c->n_children, col, false, err));
    } else if (c->dict && col->dictionary) {
      struct ArrowArray dref;
      OTAP_RETURN_NOT_OK(otap_array_ref(&c->gdict, &dref, err));
      otap_array_release(col->dictionary);
      otap_array_move(&dref, col->dictionary);
    }
  }
  return 0;
}

// Fills `out` (already initialized from ws, a struct schema) with the conformed columns.
static int conform_struct(const struct otap__ucol* cols, int64_t ncols,
                          const struct ArrowSchema* ws, int64_t input,
                          const struct ArrowSchema* is, const struct ArrowArray* ia,
                          int64_t base, int64_t n, struct ArrowArray* out,
                          struct otap_error* err) {
  for (int64_t i = 0; i < ncols; i++) {
    const struct otap__ucol* c = &cols[i];
    const struct ArrowSchema* wc = ws->children[i];
    int64_t j = child_index(is, c->name);
    struct ArrowArray col;
    memset(&col, 0, sizeof(col));
    if (j < 0 || !ia) {
      OTAP_RETURN_NOT_OK(make_nulls(wc, n, &col, err));
      int rc = use_global_dicts(c, 1, &col, true, err);
      if (rc) {
        otap_array_release(&col);
        return rc;
      }
    } else if (c->is_struct) {
      const struct ArrowArray* ic = ia->children[j];
      OTAP_RETURN_NOT_OK(otap_array_init_from_schema(&col, wc, err));
      int rc = 0;
      if (ic->n_buffers > 0 && ic->buffers[0]) {
        struct otap_buffer bits;
        rc = copy_bits(ic->buffers[0], ic->offset + base, n, &bits);
        if (rc == 0) rc = otap_array_set_buffer(&col, 0, &bits);
        otap_buffer_reset(&bits);
        if (rc) rc = otap_error_set(err, rc, "batch: out of memory (struct validity)");
      }
      col.length = n;
      // Finished while its children are still empty placeholders: the conformed children
      // moved in below are finished already and are not recounted.
      if (rc == 0) rc = otap_array_finish(&col, OTAP_VALIDATE_NONE, wc, err);
      if (rc == 0) {
        rc = conform_struct(c->children, c->n_children, wc, input, is->children[j], ic,
                            ic->offset + base, n, &col, err);
      }
      if (rc) {
        otap_array_release(&col);
        return rc;
      }
    } else if (c->dict) {
      OTAP_RETURN_NOT_OK(conform_dict(c, wc, input, is->children[j], ia->children[j], base, n,
                                      &col, err));
    } else {
      OTAP_RETURN_NOT_OK(otap_array_slice(ia->children[j], base, n, &col, err));
    }
    otap_array_release(out->children[i]);
    otap_array_move(&col, out->children[i]);
  }
  return 0;
}

int otap__utable_conform(const struct otap__utable* u, int64_t input,
                         const struct ArrowSchema* s, const struct ArrowArray* a, int64_t n,
                         struct ArrowArray* out, struct otap_error* err) {
  OTAP_RETURN_NOT_OK(otap_array_init_from_schema(out, &u->working, err));
  out->length = n;
  // Finished first (children still empty placeholders), then filled with finished columns,
  // so no column's null bits are counted twice.
  int rc = otap_array_finish(out, OTAP_VALIDATE_NONE, &u->working, err);
  if (rc == 0) {
    rc = conform_struct(u->cols, u->n_cols, &u->working, input, a ? s : NULL, a,
                        a ? a->offset : 0, n, out, err);
  }
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

// Bytes of global dictionary entry k (fixed-width values as their bytes); false when null.
static inline bool gvalue(const struct otap_array_view* v, int64_t k, const uint8_t** p,
                          int64_t* len) {
  if (otap_view_is_null(v, k)) {
    *p = NULL;
    *len = 0;
    return false;
  }
  switch (v->storage_type) {
    case OTAP_TYPE_STRING:
    case OTAP_TYPE_BINARY: {
      const int32_t* o = (const int32_t*)v->buffers[1] + v->offset + k;
      *p = v->buffers[2] ? v->buffers[2] + o[0] : (const uint8_t*)"";
      *len = o[1] > o[0] ? (int64_t)o[1] - o[0] : 0;  // monotonic after our concat
      return true;
    }
    case OTAP_TYPE_LARGE_STRING:
    case OTAP_TYPE_LARGE_BINARY:
    case OTAP_TYPE_FIXED_SIZE_BINARY:
    case OTAP_TYPE_STRING_VIEW:
    case OTAP_TYPE_BINARY_VIEW:
      otap_view_get_bytes(v, k, p, len);
      return true;
    default: {
      int64_t w = v->schema.bit_width / 8;
      *p = v->buffers[1] + (v->offset + k) * w;
      *len = w;
      return true;
    }
  }
}

uint64_t otap__batch_hash(const void* data, int64_t len);

// Compacts a gathered dictionary<int32> column (indices into the global dictionary) to the
// distinct referenced values, in first-use order, and picks the key width: u8 up to 256
// distinct values (unless the column is u16-only), u16 up to 65,536, else native values.
static int finalize_dict(struct otap__ucol* c, struct ArrowSchema* fs,
                         struct ArrowArray* col, struct otap_error* err) {
  int64_t n = col->length;
  const int32_t* idx = (const int32_t*)col->buffers[1] + col->offset;
  const uint8_t* bits = col->n_buffers > 0 ? col->buffers[0] : NULL;
  // The gathered column normally shares the global dictionary; use its own in any case.
  struct otap_array_view own;
  memset(&own, 0, sizeof(own));
  const struct otap_array_view* gv = &c->gview;
  const struct ArrowArray* gd = &c->gdict;
  if (!col->dictionary) {
    return otap_error_set(err, EINVAL, "batch: internal: column %s lost its dictionary", c->name);
  }
  if (col->dictionary->length != c->gdict.length || col->dictionary->n_buffers < 2 ||
      col->dictionary->buffers[1] != c->gdict.buffers[1] ||
      col->dictionary->offset != c->gdict.offset) {
    int vrc = otap_array_view_init(&own, fs->dictionary, err);
    if (vrc == 0) vrc = otap_array_view_set(&own, col->dictionary, OTAP_VALIDATE_DEFAULT, err);
    if (vrc) {
      otap_array_view_reset(&own);
      return vrc;
    }
    gv = &own;
    gd = col->dictionary;
  }
  int64_t dlen = gd->length;
  // remap/stamp: the column's persistent scratch for the global dictionary, else temporary.
  bool own_scratch = gd != &c->gdict;
  int32_t* remap = NULL;
  int32_t* stamp = NULL;
  int32_t gen = 1;
  if (own_scratch) {
    remap = otap_malloc((size_t)(dlen > 0 ? dlen : 1) * sizeof(int32_t));
    stamp = otap_calloc((size_t)(dlen > 0 ? dlen : 1), sizeof(int32_t));
  } else {
    if (!c->stamp) {
      c->remap = otap_malloc((size_t)(dlen > 0 ? dlen : 1) * sizeof(int32_t));
      c->stamp = otap_calloc((size_t)(dlen > 0 ? dlen : 1), sizeof(int32_t));
      c->gen = 0;
      if (!c->remap || !c->stamp) {
        otap_free(c->remap);
        otap_free(c->stamp);
        c->remap = NULL;
        c->stamp = NULL;
      }
    }
    remap = c->remap;
    stamp = c->stamp;
    gen = ++c->gen;
  }
  int64_t* kept = otap_malloc((size_t)(n > 0 ? n : 1) * sizeof(int64_t));
  int64_t* distinct = NULL;
  int32_t* slots = NULL;
  uint64_t* hashes = NULL;
  struct ArrowArray vals, out;
  struct ArrowSchema os;
  struct otap_buffer ib, vb;
  memset(&vals, 0, sizeof(vals));
  memset(&out, 0, sizeof(out));
  memset(&os, 0, sizeof(os));
  otap_buffer_init(&ib);
  otap_buffer_init(&vb);
  int rc = 0;
  if (!remap || !stamp || !kept) {
    rc = otap_error_set(err, ENOMEM, "batch: out of memory (dictionary %s)", c->name);
    goto done;
  }
  // One pass over the rows: each global entry seen for the first time in this output is
  // merged with equal values (hash + compare, table grown at half load) and gets its compact
  // id; every row's key is written at once (u16, narrowed to u8 afterwards when it fits).
  if (col->null_count == 0) bits = NULL;
  int64_t cap = 1024, nd = 0;
  distinct = kept;  // at most one distinct entry per row
  kept = NULL;
  slots = otap_malloc((size_t)cap * sizeof(int32_t));
  hashes = otap_malloc((size_t)cap * sizeof(uint64_t));
  if (!slots || !hashes || otap_buffer_resize(&ib, (n > 0 ? n : 1) * 2, false)) {
    rc = otap_error_set(err, ENOMEM, "batch: out of memory (dictionary %s)", c->name);
    goto done;
  }
  memset(slots, 0xff, (size_t)cap * sizeof(int32_t));
  uint16_t* k16 = (uint16_t*)ib.data;
  for (int64_t i = 0; i < n; i++) {
    if (bits && !otap_bit_get(bits, col->offset + i)) {
      k16[i] = 0;
      continue;
    }
    int32_t k = idx[i];
    if (k < 0 || k >= dlen) {
      rc = otap_error_set(err, EINVAL, "batch: column %s: dictionary index %d out of range",
                          c->name, (int)k);
      goto done;
    }
    if (stamp[k] != gen) {
      stamp[k] = gen;
      if (2 * (nd + 1) > cap) {
        int64_t ncap = cap * 2;
        int32_t* ns = otap_malloc((size_t)ncap * sizeof(int32_t));
        uint64_t* nh = otap_malloc((size_t)ncap * sizeof(uint64_t));
        if (!ns || !nh) {
          otap_free(ns);
          otap_free(nh);
          rc = otap_error_set(err, ENOMEM, "batch: out of memory (dictionary %s)", c->name);
          goto done;
        }
        memset(ns, 0xff, (size_t)ncap * sizeof(int32_t));
        for (int64_t q = 0; q < cap; q++) {
          if (slots[q] < 0) continue;
          int64_t t = (int64_t)(hashes[q] & (uint64_t)(ncap - 1));
          while (ns[t] >= 0) t = (t + 1) & (ncap - 1);
          ns[t] = slots[q];
          nh[t] = hashes[q];
        }
        otap_free(slots);
        otap_free(hashes);
        slots = ns;
        hashes = nh;
        cap = ncap;
      }
      const uint8_t* p;
      int64_t len;
      bool present = gvalue(gv, k, &p, &len);
      uint64_t h = present ? otap__batch_hash(p, len) : 0x5bd1e995ULL;
      int64_t sl = (int64_t)(h & (uint64_t)(cap - 1));
      int32_t found = -1;
      while (slots[sl] >= 0) {
        if (hashes[sl] == h) {
          const uint8_t* q;
          int64_t qlen;
          bool qp = gvalue(gv, distinct[slots[sl]], &q, &qlen);
          if (qp == present && qlen == len && (len == 0 || memcmp(p, q, (size_t)len) == 0)) {
            found = slots[sl];
            break;
          }
        }
        sl = (sl + 1) & (cap - 1);
      }
      if (found < 0) {
        found = (int32_t)nd;
        distinct[nd++] = k;
        slots[sl] = found;
        hashes[sl] = h;
      }
      remap[k] = found;
    }
    k16[i] = (uint16_t)remap[k];
  }
  const struct ArrowSchema* vschema = fs->dictionary;
  if (nd > 65536) {
    // Native values: gather the referenced entries row by row.
    OTAP_GOTO_NOT_OK(rc, otap_buffer_resize(&vb, n * 8, false));
    int64_t* rows = (int64_t*)vb.data;
    for (int64_t i = 0; i < n; i++) {
      rows[i] = (bits && !otap_bit_get(bits, col->offset + i)) ? -1 : idx[i];
    }
    OTAP_GOTO_NOT_OK(rc, otap_array_take(vschema, gd, rows, n, &out, err));
    OTAP_GOTO_NOT_OK(rc, otap_schema_deep_copy(vschema, &os, err));
    rc = otap_schema_set_name(&os, fs->name);
    if (rc == 0) rc = otap_schema_set_metadata(&os, NULL);
    if (rc) goto nomem;
  } else {
    bool u8 = nd <= 256 && !c->u16_only;
    OTAP_GOTO_NOT_OK(rc, otap__batch_take(vschema, gd, distinct, nd, &vals, err));
    OTAP_GOTO_NOT_OK(rc, otap_schema_deep_copy(fs, &os, err));
    rc = otap_schema_set_format(&os, u8 ? "C" : "S");
    if (rc) goto nomem;
    if (u8) {  // narrow in place (byte i is written after element i was read)
      uint8_t* o8 = ib.data;
      for (int64_t i = 0; i < n; i++) o8[i] = (uint8_t)k16[i];
    }
    ib.size = n * (u8 ? 1 : 2);
    OTAP_GOTO_NOT_OK(rc, otap_array_init_from_schema(&out, &os, err));
    rc = otap_array_set_buffer(&out, 1, &ib);
    if (rc == 0 && bits && col->null_count != 0) {
      rc = copy_bits(bits, col->offset, n, &vb);
      if (rc == 0) rc = otap_array_set_buffer(&out, 0, &vb);
    }
    if (rc) goto nomem;
    otap_array_release(out.dictionary);
    otap_array_move(&vals, out.dictionary);
    out.length = n;
    OTAP_GOTO_NOT_OK(rc, otap_array_finish(&out, OTAP_VALIDATE_NONE, &os, err));
  }
  otap_schema_release(fs);
  otap_schema_move(&os, fs);
  otap_array_release(col);
  otap_array_move(&out, col);
  goto done;
nomem:
  rc = otap_error_set(err, ENOMEM, "batch: out of memory (dictionary %s)", c->name);
done:
  otap_array_release(&vals);
  otap_array_release(&out);
  otap_schema_release(&os);
  otap_buffer_reset(&ib);
  otap_buffer_reset(&vb);
  if (own_scratch) {
    otap_free(remap);
    otap_free(stamp);
  }
  otap_free(kept);
  otap_free(distinct);
  otap_free(slots);
  otap_free(hashes);
  otap_array_view_reset(&own);
  return rc;
}

static int finalize_struct(struct otap__ucol* cols, int64_t ncols, struct ArrowSchema* s,
                           struct ArrowArray* a, const struct otap__idcols* ids,
                           struct otap_error* err) {
  OTAP_RETURN_IF(a->offset != 0, err, EINVAL, "batch: internal: gathered struct has an offset");
  for (int64_t i = 0; i < ncols; i++) {
    struct otap__ucol* c = &cols[i];
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

int otap__utable_finalize(struct otap__utable* u, struct ArrowArray* in,
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
