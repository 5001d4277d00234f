// Transport-optimized id encodings (spec 6.4): delta and quasi-delta on raw u16 buffers, the
// attributes accessor that decides quasi-delta runs, and payload-level decoding.
#include <string.h>

#include "logs/logs_internal.h"

static bool valid_at(const uint8_t* validity, int64_t off, int64_t i) {
  return !validity || otap_bit_get(validity, off + i);
}

int otap_ids_delta_decode(uint16_t* ids, const uint8_t* validity, int64_t validity_offset,
                          int64_t n, struct otap_error* err) {
  uint32_t prev = 0;
  for (int64_t i = 0; i < n; i++) {
    if (!valid_at(validity, validity_offset, i)) continue;
    uint32_t v = prev + ids[i];
    if (v > 0xffff) {
      return otap_error_set(err, EINVAL,
                            "delta-encoded id at row %lld decodes to %u, past 65535", (long long)i,
                            v);
    }
    ids[i] = (uint16_t)v;
    prev = v;
  }
  return 0;
}

int otap_ids_delta_encode(uint16_t* ids, const uint8_t* validity, int64_t validity_offset,
                          int64_t n, struct otap_error* err) {
  uint16_t prev = 0;
  for (int64_t i = 0; i < n; i++) {
    if (!valid_at(validity, validity_offset, i)) continue;
    uint16_t v = ids[i];
    if (v < prev) {
      return otap_error_set(err, EINVAL,
                            "id %u at row %lld is smaller than the previous id %u: delta encoding "
                            "needs non-decreasing ids (sort first)",
                            v, (long long)i, prev);
    }
    ids[i] = (uint16_t)(v - prev);
    prev = v;
  }
  return 0;
}

int otap_ids_delta_encode_remapped(uint16_t* ids, const uint8_t* validity, int64_t validity_offset,
                                   int64_t n, uint16_t* remap, int64_t* remap_len,
                                   struct otap_error* err) {
  uint8_t* seen = otap_calloc(65536, 1);
  if (!seen) return otap_error_set(err, ENOMEM, "out of memory delta-encoding ids");
  int rc = 0;
  int64_t max_old = -1;
  uint32_t next = 0;
  int64_t last = -1;  // previous non-null old id
  for (int64_t i = 0; i < n; i++) {
    if (!valid_at(validity, validity_offset, i)) continue;
    uint16_t old = ids[i];
    if (old == last) {
      ids[i] = remap[old];
      continue;
    }
    if (seen[old]) {
      rc = otap_error_set(err, EINVAL,
                          "id %u at row %lld reappears after other ids: each id must form one "
                          "contiguous run (sort first)",
                          old, (long long)i);
      goto done;
    }
    seen[old] = 1;
    remap[old] = (uint16_t)next++;
    if (old > max_old) max_old = old;
    ids[i] = remap[old];
    last = old;
  }
  for (int64_t k = 0; k <= max_old; k++) {
    if (!seen[k]) remap[k] = 0;
  }
  *remap_len = max_old + 1;
  rc = otap_ids_delta_encode(ids, validity, validity_offset, n, err);
done:
  otap_free(seen);
  return rc;
}

int otap_ids_quasi_delta_decode(uint16_t* parent_ids, const uint8_t* same_as_prev, int64_t n,
                                struct otap_error* err) {
  for (int64_t i = 1; i < n; i++) {
    if (!same_as_prev[i]) continue;
    uint32_t v = (uint32_t)parent_ids[i - 1] + parent_ids[i];
    if (v > 0xffff) {
      return otap_error_set(err, EINVAL,
                            "quasi-delta parent_id at row %lld decodes to %u, past 65535",
                            (long long)i, v);
    }
    parent_ids[i] = (uint16_t)v;
  }
  return 0;
}

int otap_ids_quasi_delta_encode(uint16_t* parent_ids, const uint8_t* same_as_prev, int64_t n,
                                struct otap_error* err) {
  for (int64_t i = n - 1; i >= 1; i--) {
    if (!same_as_prev[i]) continue;
    if (parent_ids[i] < parent_ids[i - 1]) {
      return otap_error_set(err, EINVAL,
                            "parent_id %u at row %lld is smaller than %u in the same (type, key, "
                            "value) run: quasi-delta needs sorted runs",
                            parent_ids[i], (long long)i, parent_ids[i - 1]);
    }
    parent_ids[i] = (uint16_t)(parent_ids[i] - parent_ids[i - 1]);
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Attributes accessor

void otap__ids_reset(struct otap__ids* ids) {
  otap_free(ids->values);
  otap_free(ids->valid);
  memset(ids, 0, sizeof(*ids));
}

static int attrs_columns(struct otap__attrs* a, const struct ArrowSchema* schema,
                         const struct ArrowArray* batch, const struct otap_array_view* v,
                         const char* table, struct otap_error* err);

int otap__attrs_bind(struct otap__attrs* a, const struct ArrowSchema* schema,
                     const struct ArrowArray* batch, const struct otap_array_view* view,
                     const char* table, struct otap_error* err) {
  memset(a, 0, sizeof(*a));
  return attrs_columns(a, schema, batch, view, table, err);
}

int otap__attrs_init(struct otap__attrs* a, const struct ArrowSchema* schema,
                     const struct ArrowArray* batch, enum otap_validation level, const char* table,
                     struct otap_error* err) {
  memset(a, 0, sizeof(*a));
  int rc = otap_array_view_init(&a->view, schema, err);
  if (rc) return otap_error_prefix(err, rc, "%s: ", table);
  a->view_ready = true;
  rc = otap_array_view_set(&a->view, batch, level, err);
  if (rc) {
    otap__attrs_reset(a);
    return otap_error_prefix(err, rc, "%s: ", table);
  }
  return attrs_columns(a, schema, batch, &a->view, table, err);
}

static int attrs_columns(struct otap__attrs* a, const struct ArrowSchema* schema,
                         const struct ArrowArray* batch, const struct otap_array_view* v,
                         const char* table, struct otap_error* err) {
  int rc;
  a->n = batch->length;
  a->base = batch->offset;
  a->parent_id = otap__view_child(v, schema, "parent_id");
  a->key = otap__view_child(v, schema, "key");
  a->type = otap__view_child(v, schema, "type");
  a->str = otap__view_child(v, schema, "str");
  a->int_ = otap__view_child(v, schema, "int");
  a->dbl = otap__view_child(v, schema, "double");
  a->boolean = otap__view_child(v, schema, "bool");
  a->bytes = otap__view_child(v, schema, "bytes");
  a->ser = otap__view_child(v, schema, "ser");
  if (!a->parent_id || !a->key || !a->type) {
    otap__attrs_reset(a);
    return otap_error_set(err, EINVAL, "%s: required column '%s' is missing", table,
                          !a->parent_id ? "parent_id" : !a->key ? "key" : "type");
  }
  int64_t pi = otap__logs_child_index(schema, "parent_id");
  rc = otap_logs_field_id_encoding(schema->children[pi], OTAP_ID_QUASI_DELTA, &a->parent_encoding,
                                   err);
  if (rc) {
    otap__attrs_reset(a);
    return otap_error_prefix(err, rc, "%s: ", table);
  }
  return 0;
}

void otap__attrs_reset(struct otap__attrs* a) {
  if (a->view_ready) otap_array_view_reset(&a->view);
  memset(a, 0, sizeof(*a));
}

uint8_t otap__attrs_type(const struct otap__attrs* a, int64_t i) {
  int64_t r = a->base + i;
  if (otap_view_is_null(a->type, r)) return 0;
  return (uint8_t)otap_view_get_uint(a->type, r);
}

static const struct otap_array_view* active_column(const struct otap__attrs* a, uint8_t type) {
  switch (type) {
    case OTAP_ANY_STR:
      return a->str;
    case OTAP_ANY_INT:
      return a->int_;
    case OTAP_ANY_DOUBLE:
      return a->dbl;
    case OTAP_ANY_BOOL:
      return a->boolean;
    case OTAP_ANY_MAP:
    case OTAP_ANY_SLICE:
      return a->ser;
    case OTAP_ANY_BYTES:
      return a->bytes;
    default:
      return NULL;
  }
}

bool otap__attrs_value_present(const struct otap__attrs* a, int64_t i) {
  const struct otap_array_view* v = active_column(a, otap__attrs_type(a, i));
  return v && !otap__view_is_null_any(v, a->base + i);
}

static bool bytes_equal(const struct otap_array_view* v, int64_t i, int64_t j) {
  const uint8_t *d1, *d2;
  int64_t l1, l2;
  bool n1, n2;
  otap__view_bytes(v, i, &d1, &l1, &n1);
  otap__view_bytes(v, j, &d2, &l2, &n2);
  if (n1 || n2) return false;
  return l1 == l2 && (l1 == 0 || memcmp(d1, d2, (size_t)l1) == 0);
}

bool otap__attrs_same_run(const struct otap__attrs* a, int64_t i, int64_t j) {
  uint8_t t = otap__attrs_type(a, i);
  if (t != otap__attrs_type(a, j)) return false;
  if (t == OTAP_ANY_EMPTY || t == OTAP_ANY_MAP || t == OTAP_ANY_SLICE || t > 7) return false;
  const struct otap_array_view* v = active_column(a, t);
  if (!v) return false;
  int64_t ri = a->base + i, rj = a->base + j;
  if (!bytes_equal(a->key, ri, rj)) return false;
  switch (t) {
    case OTAP_ANY_STR:
    case OTAP_ANY_BYTES:
      return bytes_equal(v, ri, rj);
    case OTAP_ANY_INT:
    case OTAP_ANY_BOOL: {
      int64_t x, y;
      if (!otap__view_int(v, ri, &x) || !otap__view_int(v, rj, &y)) return false;
      return x == y;
    }
    case OTAP_ANY_DOUBLE: {
      if (otap_view_is_null(v, ri) || otap_view_is_null(v, rj)) return false;
      double x = otap_view_get_double(v, ri), y = otap_view_get_double(v, rj);
      return memcmp(&x, &y, sizeof(x)) == 0;
    }
    default:
      return false;
  }
}

static int ids_alloc(struct otap__ids* out, int64_t n, struct otap_error* err) {
  memset(out, 0, sizeof(*out));
  out->values = otap_malloc((size_t)(n ? n : 1) * sizeof(uint16_t));
  out->valid = otap_malloc((size_t)(n ? n : 1));
  if (!out->values || !out->valid) {
    otap__ids_reset(out);
    return otap_error_set(err, ENOMEM, "out of memory decoding ids");
  }
  out->n = n;
  return 0;
}

int otap__attrs_plain_parent_ids(const struct otap__attrs* a, struct otap__ids* out,
                                 const char* table, struct otap_error* err) {
  OTAP_RETURN_NOT_OK(ids_alloc(out, a->n, err));
  for (int64_t i = 0; i < a->n; i++) {
    int64_t r = a->base + i;
    out->valid[i] = !otap_view_is_null(a->parent_id, r);
    out->values[i] = out->valid[i] ? (uint16_t)otap_view_get_uint(a->parent_id, r) : 0;
  }
  if (a->parent_encoding == OTAP_ID_PLAIN) return 0;
  int rc = 0;
  if (a->parent_encoding == OTAP_ID_DELTA) {
    uint32_t prev = 0;
    for (int64_t i = 0; i < a->n; i++) {
      uint32_t v = prev + out->values[i];
      if (v > 0xffff) {
        rc = otap_error_set(err, EINVAL, "%s: delta parent_id at row %lld decodes past 65535",
                            table, (long long)i);
        break;
      }
      out->values[i] = (uint16_t)v;
      prev = v;
    }
  } else {
    uint8_t* same = otap_malloc((size_t)(a->n ? a->n : 1));
    if (!same) {
      rc = otap_error_set(err, ENOMEM, "out of memory decoding parent ids");
    } else {
      if (a->n) same[0] = 0;
      for (int64_t i = 1; i < a->n; i++) same[i] = otap__attrs_same_run(a, i - 1, i);
      rc = otap_ids_quasi_delta_decode(out->values, same, a->n, err);
      if (rc) otap_error_prefix(err, rc, "%s: ", table);
      otap_free(same);
    }
  }
  if (rc) otap__ids_reset(out);
  return rc;
}

int otap__plain_ids_from_view(const struct otap_array_view* v, int64_t base,
                              const struct otap_array_view* parent, int64_t parent_base,
                              int64_t n, enum otap_id_encoding enc, struct otap__ids* out,
                              const char* what, struct otap_error* err) {
  OTAP_RETURN_NOT_OK(ids_alloc(out, n, err));
  // Delta sums run over the column's own non-null values (as a whole-column decode does);
  // rows whose parent struct is null are null ids afterwards.
  for (int64_t i = 0; i < n; i++) {
    bool ok = !otap_view_is_null(v, base + i);
    out->valid[i] = ok;
    out->values[i] = ok ? (uint16_t)otap_view_get_uint(v, base + i) : 0;
  }
  if (enc != OTAP_ID_PLAIN) {
    uint32_t prev = 0;
    for (int64_t i = 0; i < n; i++) {
      if (!out->valid[i]) continue;
      uint32_t x = prev + out->values[i];
      if (x > 0xffff) {
        otap__ids_reset(out);
        return otap_error_set(err, EINVAL,
                              "LOGS: delta-encoded '%s' at row %lld decodes past 65535", what,
                              (long long)i);
      }
      out->values[i] = (uint16_t)x;
      prev = x;
    }
  }
  if (parent) {
    for (int64_t i = 0; i < n; i++) {
      if (otap_view_is_null(parent, parent_base + i)) out->valid[i] = 0;
    }
  }
  return 0;
}
