// Payload-level transport id decoding (and encoding) for the four logs tables.
#include <stdlib.h>
#include <string.h>

#include "logs/logs_internal.h"

int otap__make_u16_array(const uint16_t* values, const uint8_t* valid, int64_t n,
                         struct ArrowArray* out, struct otap_error* err) {
  struct ArrowSchema s;
  memset(&s, 0, sizeof(s));
  int rc = otap_schema_init(&s, "S");
  if (rc) return otap_error_set(err, rc, "out of memory building an id column");
  rc = otap_array_init_from_schema(out, &s, err);
  if (!rc) rc = otap_array_reserve(out, n);
  for (int64_t i = 0; i < n && !rc; i++) {
    rc = valid[i] ? otap_array_append_uint(out, values[i]) : otap_array_append_null(out, 1);
  }
  if (!rc) rc = otap_array_finish(out, OTAP_VALIDATE_DEFAULT, &s, err);
  if (rc) {
    otap_array_release(out);
    if (rc == ENOMEM) otap_error_set(err, rc, "out of memory building an id column");
  }
  otap_schema_release(&s);
  return rc;
}

// Replaces child `child` (an array inside batch) by the decoded ids (child-local rows).
static int replace_ids(struct ArrowArray* child, const struct otap__ids* ids,
                       struct otap_error* err) {
  struct ArrowArray fresh;
  memset(&fresh, 0, sizeof(fresh));
  OTAP_RETURN_NOT_OK(otap__make_u16_array(ids->values, ids->valid, ids->n, &fresh, err));
  if (child->release) child->release(child);
  memcpy(child, &fresh, sizeof(fresh));
  return 0;
}

// Decodes one u16 id column of the LOGS table given its (child-local) array and schema.
static int decode_logs_id(struct ArrowSchema* field, struct ArrowArray* child,
                          enum otap_id_encoding def, const char* what, bool* changed,
                          struct otap_error* err) {
  enum otap_id_encoding enc;
  OTAP_RETURN_NOT_OK(otap_logs_field_id_encoding(field, def, &enc, err));
  if (enc == OTAP_ID_PLAIN) return 0;
  struct otap_array_view v;
  memset(&v, 0, sizeof(v));
  struct otap__ids ids;
  memset(&ids, 0, sizeof(ids));
  int rc = otap_array_view_init(&v, field, err);
  if (!rc) rc = otap_array_view_set(&v, child, OTAP_VALIDATE_DEFAULT, err);
  if (!rc) rc = otap__plain_ids_from_view(&v, 0, NULL, 0, child->length, enc, &ids, what, err);
  if (!rc) rc = replace_ids(child, &ids, err);
  if (!rc) *changed = true;
  otap__ids_reset(&ids);
  otap_array_view_reset(&v);
  return rc;
}

int otap_logs_decode_ids(struct otap_logs_payload* p, struct otap_error* err) {
  struct otap_logs_validate_options vo;
  otap_logs_validate_options_init(&vo);
  vo.level = OTAP_VALIDATE_DEFAULT;
  OTAP_RETURN_NOT_OK(otap_logs_validate(p, &vo, err));
  int rc = 0;
  struct ArrowSchema copy;
  for (int t = 0; t < OTAP_LOGS_N_TABLES; t++) {
    if (!otap_logs_payload_has_table(p, (enum otap_logs_table)t)) continue;
    struct ArrowSchema* s = &p->schema[t];
    struct ArrowArray* b = &p->batch[t];
    memset(&copy, 0, sizeof(copy));
    OTAP_RETURN_NOT_OK(otap_schema_deep_copy(s, &copy, err));
    bool changed = false;
    if (t == OTAP_LOGS_LOGS) {
      int64_t i = otap__logs_child_index(s, "id");
      if (i >= 0) {
        rc = decode_logs_id(s->children[i], b->children[i], OTAP_ID_DELTA, "id", &changed, err);
        if (!rc) rc = otap__set_encoding_metadata(copy.children[i], "plain");
      }
      static const char* const kStructs[2] = {"resource", "scope"};
      for (int k = 0; k < 2 && !rc; k++) {
        int64_t si = otap__logs_child_index(s, kStructs[k]);
        if (si < 0) continue;
        int64_t ci = otap__logs_child_index(s->children[si], "id");
        if (ci < 0) continue;
        rc = decode_logs_id(s->children[si]->children[ci], b->children[si]->children[ci],
                            OTAP_ID_DELTA, kStructs[k], &changed, err);
        if (!rc) rc = otap__set_encoding_metadata(copy.children[si]->children[ci], "plain");
      }
    } else {
      struct otap__attrs a;
      rc = otap__attrs_init(&a, s, b, OTAP_VALIDATE_NONE, otap_logs_table_name((enum otap_logs_table)t), err);
      if (!rc) {
        int64_t pi = otap__logs_child_index(s, "parent_id");
        if (a.parent_encoding != OTAP_ID_PLAIN) {
          if (b->offset != 0 || b->children[pi]->offset != 0 || b->children[pi]->length != b->length) {
            rc = otap_error_set(err, ENOTSUP, "%s: cannot decode parent_id of a sliced table",
                                otap_logs_table_name((enum otap_logs_table)t));
          } else {
            struct otap__ids ids;
            rc = otap__attrs_plain_parent_ids(&a, &ids, otap_logs_table_name((enum otap_logs_table)t), err);
            otap__attrs_reset(&a);
            if (!rc) {
              rc = replace_ids(b->children[pi], &ids, err);
              otap__ids_reset(&ids);
              changed = true;
            }
          }
        }
        otap__attrs_reset(&a);
        if (!rc) rc = otap__set_encoding_metadata(copy.children[pi], "plain");
      }
    }
    if (rc) {
      otap_schema_release(&copy);
      return rc;
    }
    (void)changed;
    otap_schema_release(s);
    otap_schema_move(&copy, s);
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Encoding

// Runs of equal non-null ids (in row order) get new ids 0, 1, 2, ...: new[i] for each row,
// run_old[k] = the old id of run k. EINVAL past 65536 runs.
static int renumber_runs(const struct otap__ids* ids, uint16_t* new_ids, uint16_t* run_old,
                         int64_t* n_runs, const char* what, struct otap_error* err) {
  int64_t runs = 0;
  int32_t prev = -1;
  for (int64_t i = 0; i < ids->n; i++) {
    new_ids[i] = 0;
    if (!ids->valid[i]) continue;
    if (ids->values[i] != prev) {
      if (runs == 65536) {
        return otap_error_set(err, EINVAL, "LOGS: more than 65536 distinct runs of '%s'", what);
      }
      run_old[runs++] = ids->values[i];
      prev = ids->values[i];
    }
    new_ids[i] = (uint16_t)(runs - 1);
  }
  *n_runs = runs;
  return 0;
}

struct sort_ctx {
  const struct otap__ids* keys[3];
};
static _Thread_local const struct sort_ctx* g_sort;  // qsort contexts
static int cmp_rows(const void* pa, const void* pb) {
  int64_t a = *(const int64_t*)pa, b = *(const int64_t*)pb;
  for (int k = 0; k < 3; k++) {
    const struct otap__ids* x = g_sort->keys[k];
    if (!x) continue;
    int32_t va = x->valid[a] ? x->values[a] : 65536, vb = x->valid[b] ? x->values[b] : 65536;
    if (va != vb) return va < vb ? -1 : 1;
  }
  return a < b ? -1 : a > b;
}

static _Thread_local const struct otap__attrs* g_attrs;
static int cmp_bytes(const struct otap_array_view* v, int64_t i, int64_t j) {
  const uint8_t *d1, *d2;
  int64_t l1, l2;
  bool n1, n2;
  otap__view_bytes(v, i, &d1, &l1, &n1);
  otap__view_bytes(v, j, &d2, &l2, &n2);
  if (n1 || n2) return n1 == n2 ? 0 : n1 ? 1 : -1;
  int64_t m = l1 < l2 ? l1 : l2;
  int c = m ? memcmp(d1, d2, (size_t)m) : 0;
  if (c) return c;
  return l1 < l2 ? -1 : l1 > l2;
}
// Orders (index, new parent) pairs of an attributes table by type, key, value, parent.
struct attr_ref {
  int64_t row;
  uint16_t parent;
};
static int cmp_attr_rows(const void* pa, const void* pb) {
  const struct attr_ref* x = pa;
  const struct attr_ref* y = pb;
  const struct otap__attrs* a = g_attrs;
  int64_t i = x->row, j = y->row, ri = a->base + i, rj = a->base + j;
  uint8_t ti = otap__attrs_type(a, i), tj = otap__attrs_type(a, j);
  if (ti != tj) return ti < tj ? -1 : 1;
  int c = cmp_bytes(a->key, ri, rj);
  if (c) return c;
  const struct otap_array_view* v = NULL;
  switch (ti) {
    case OTAP_ANY_STR: v = a->str; break;
    case OTAP_ANY_BYTES: v = a->bytes; break;
    case OTAP_ANY_MAP:
    case OTAP_ANY_SLICE: v = a->ser; break;
    default: break;
  }
  if (v) {
    c = cmp_bytes(v, ri, rj);
  } else if ((ti == OTAP_ANY_INT && a->int_) || (ti == OTAP_ANY_BOOL && a->boolean)) {
    int64_t p = 0, q = 0;
    bool np = !otap__view_int(ti == OTAP_ANY_INT ? a->int_ : a->boolean, ri, &p);
    bool nq = !otap__view_int(ti == OTAP_ANY_INT ? a->int_ : a->boolean, rj, &q);
    c = np != nq ? (np ? 1 : -1) : p < q ? -1 : p > q;
  } else if (ti == OTAP_ANY_DOUBLE && a->dbl) {
    bool np = otap_view_is_null(a->dbl, ri), nq = otap_view_is_null(a->dbl, rj);
    double p = np ? 0 : otap_view_get_double(a->dbl, ri), q = nq ? 0 : otap_view_get_double(a->dbl, rj);
    uint64_t bp, bq;
    memcpy(&bp, &p, 8);
    memcpy(&bq, &q, 8);
    c = np != nq ? (np ? 1 : -1) : bp < bq ? -1 : bp > bq;
  }
  if (c) return c;
  if (x->parent != y->parent) return x->parent < y->parent ? -1 : 1;
  return i < j ? -1 : i > j;
}

// Rebuilds an attributes table: rows of each old parent id copied once per run that maps to it
// (new parent = run index), sorted by (type, key, value, parent) and quasi-delta encoded.
static int encode_attrs(struct otap_logs_payload* p, enum otap_logs_table t,
                        const uint16_t* run_old, int64_t n_runs, struct otap_error* err) {
  if (!otap_logs_payload_has_table(p, t)) return 0;
  const char* table = otap_logs_table_name(t);
  struct otap__attrs a;
  struct otap__ids pids;
  memset(&pids, 0, sizeof(pids));
  int64_t *count = NULL, *rows_by_parent = NULL, *take = NULL;
  struct attr_ref* refs = NULL;
  uint8_t* same = NULL;
  uint16_t* enc = NULL;
  struct ArrowArray out;
  memset(&out, 0, sizeof(out));
  struct ArrowSchema schema;
  memset(&schema, 0, sizeof(schema));
  int rc = otap__attrs_init(&a, &p->schema[t], &p->batch[t], OTAP_VALIDATE_NONE, table, err);
  if (rc) return rc;
  OTAP_GOTO_NOT_OK(rc, otap__attrs_plain_parent_ids(&a, &pids, table, err));
  count = otap_calloc(65537, sizeof(int64_t));
  rows_by_parent = otap_malloc((size_t)(a.n ? a.n : 1) * sizeof(int64_t));
  if (!count || !rows_by_parent) goto oom;
  for (int64_t i = 0; i < a.n; i++) count[pids.values[i] + 1]++;
  for (int64_t k = 0; k < 65536; k++) count[k + 1] += count[k];
  {
    int64_t* fill = otap_malloc(65536 * sizeof(int64_t));
    if (!fill) goto oom;
    memcpy(fill, count, 65536 * sizeof(int64_t));
    for (int64_t i = 0; i < a.n; i++) rows_by_parent[fill[pids.values[i]]++] = i;
    otap_free(fill);
  }
  int64_t total = 0;
  for (int64_t k = 0; k < n_runs; k++) total += count[run_old[k] + 1] - count[run_old[k]];
  refs = otap_malloc((size_t)(total ? total : 1) * sizeof(*refs));
  take = otap_malloc((size_t)(total ? total : 1) * sizeof(int64_t));
  same = otap_malloc((size_t)(total ? total : 1));
  enc = otap_malloc((size_t)(total ? total : 1) * sizeof(uint16_t));
  if (!refs || !take || !same || !enc) goto oom;
  int64_t m = 0;
  for (int64_t k = 0; k < n_runs; k++) {
    for (int64_t j = count[run_old[k]]; j < count[run_old[k] + 1]; j++) {
      refs[m].row = rows_by_parent[j];
      refs[m].parent = (uint16_t)k;
      m++;
    }
  }
  g_attrs = &a;
  qsort(refs, (size_t)total, sizeof(*refs), cmp_attr_rows);
  for (int64_t i = 0; i < total; i++) {
    take[i] = refs[i].row;
    enc[i] = refs[i].parent;
    same[i] = i > 0 && otap__attrs_same_run(&a, refs[i - 1].row, refs[i].row);
  }
  OTAP_GOTO_NOT_OK(rc, otap_ids_quasi_delta_encode(enc, same, total, err));
  if (total == 0) {
    otap__attrs_reset(&a);
    otap_logs_payload_set_table(p, t, NULL, NULL);
    goto done;
  }
  {
    OTAP_GOTO_NOT_OK(rc, otap_array_take(&p->schema[t], &p->batch[t], take, total, &out, err));
    int64_t pi = otap__logs_child_index(&p->schema[t], "parent_id");
    uint8_t* valid = same;  // reuse as an all-ones validity
    memset(valid, 1, (size_t)total);
    struct ArrowArray ids;
    memset(&ids, 0, sizeof(ids));
    OTAP_GOTO_NOT_OK(rc, otap__make_u16_array(enc, valid, total, &ids, err));
    if (out.children[pi]->release) out.children[pi]->release(out.children[pi]);
    memcpy(out.children[pi], &ids, sizeof(ids));
    OTAP_GOTO_NOT_OK(rc, otap_schema_deep_copy(&p->schema[t], &schema, err));
    OTAP_GOTO_NOT_OK(rc, otap__set_encoding_metadata(schema.children[pi], "quasidelta"));
    otap__attrs_reset(&a);
    otap_logs_payload_set_table(p, t, &schema, &out);
  }
  goto done;
oom:
  rc = otap_error_set(err, ENOMEM, "out of memory encoding %s ids", table);
done:
  otap__attrs_reset(&a);
  otap__ids_reset(&pids);
  otap_free(count);
  otap_free(rows_by_parent);
  otap_free(refs);
  otap_free(take);
  otap_free(same);
  otap_free(enc);
  otap_array_release(&out);
  otap_schema_release(&schema);
  return rc;
}

int otap_logs_encode_ids(struct otap_logs_payload* p, struct otap_error* err) {
  OTAP_RETURN_NOT_OK(otap_logs_decode_ids(p, err));
  if (!otap_logs_payload_has_table(p, OTAP_LOGS_LOGS)) return 0;
  struct ArrowSchema* s = &p->schema[OTAP_LOGS_LOGS];
  const struct ArrowArray* b = &p->batch[OTAP_LOGS_LOGS];
  int64_t n = b->length;
  struct otap_array_view view;
  memset(&view, 0, sizeof(view));
  struct otap__ids ids[3], sorted[3];
  memset(ids, 0, sizeof(ids));
  memset(sorted, 0, sizeof(sorted));
  int64_t* perm = NULL;
  uint16_t* run_old[3] = {NULL, NULL, NULL};
  uint16_t* new_ids[3] = {NULL, NULL, NULL};
  int64_t n_runs[3] = {0, 0, 0};
  struct ArrowArray taken;
  memset(&taken, 0, sizeof(taken));
  struct ArrowSchema schema;
  memset(&schema, 0, sizeof(schema));
  int rc = otap_array_view_init(&view, s, err);
  if (!rc) rc = otap_array_view_set(&view, b, OTAP_VALIDATE_NONE, err);
  if (rc) goto done;
  // Plain ids of resource.id (0), scope.id (1), id (2) per table row.
  static const char* const kParents[3] = {"resource", "scope", NULL};
  int64_t col_index[3][2];
  for (int k = 0; k < 3; k++) {
    col_index[k][0] = col_index[k][1] = -1;
    const struct otap_array_view *v = NULL, *parent = NULL;
    int64_t vbase = b->offset;
    if (kParents[k]) {
      int64_t si = otap__logs_child_index(s, kParents[k]);
      if (si < 0) continue;
      int64_t ci = otap__logs_child_index(s->children[si], "id");
      if (ci < 0) continue;
      parent = view.children[si];
      v = parent->children[ci];
      vbase += parent->offset;
      col_index[k][0] = si;
      col_index[k][1] = ci;
    } else {
      int64_t ci = otap__logs_child_index(s, "id");
      if (ci < 0) continue;
      v = view.children[ci];
      col_index[k][1] = ci;
    }
    OTAP_GOTO_NOT_OK(rc, otap__plain_ids_from_view(v, vbase, parent, b->offset, n, OTAP_ID_PLAIN,
                                                   &ids[k], kParents[k] ? kParents[k] : "id", err));
  }
  perm = otap_malloc((size_t)(n ? n : 1) * sizeof(int64_t));
  if (!perm) goto oom;
  for (int64_t i = 0; i < n; i++) perm[i] = i;
  struct sort_ctx ctx = {{ids[0].values ? &ids[0] : NULL, ids[1].values ? &ids[1] : NULL, NULL}};
  g_sort = &ctx;
  qsort(perm, (size_t)n, sizeof(int64_t), cmp_rows);
  OTAP_GOTO_NOT_OK(rc, otap_array_take(s, b, perm, n, &taken, err));
  OTAP_GOTO_NOT_OK(rc, otap_schema_deep_copy(s, &schema, err));
  static const enum otap_logs_table kChild[3] = {OTAP_LOGS_RESOURCE_ATTRS, OTAP_LOGS_SCOPE_ATTRS,
                                                 OTAP_LOGS_LOG_ATTRS};
  for (int k = 0; k < 3; k++) {
    if (!ids[k].values) {
      // No parent column: every child row is an orphan (part of no record).
      otap_logs_payload_set_table(p, kChild[k], NULL, NULL);
      continue;
    }
    // Ids in the sorted row order.
    struct otap__ids* so = &sorted[k];
    so->n = n;
    so->values = otap_malloc((size_t)(n ? n : 1) * sizeof(uint16_t));
    so->valid = otap_malloc((size_t)(n ? n : 1));
    run_old[k] = otap_malloc(65536 * sizeof(uint16_t));
    new_ids[k] = otap_malloc((size_t)(n ? n : 1) * sizeof(uint16_t));
    if (!so->values || !so->valid || !run_old[k] || !new_ids[k]) goto oom;
    for (int64_t i = 0; i < n; i++) {
      so->values[i] = ids[k].values[perm[i]];
      so->valid[i] = ids[k].valid[perm[i]];
    }
    OTAP_GOTO_NOT_OK(rc, renumber_runs(so, new_ids[k], run_old[k], &n_runs[k],
                                       kParents[k] ? kParents[k] : "id", err));
    uint16_t prev = 0;
    for (int64_t i = 0; i < n; i++) {
      if (!so->valid[i]) continue;
      uint16_t v = new_ids[k][i];
      new_ids[k][i] = (uint16_t)(v - prev);
      prev = v;
    }
    // Null rows keep value 0 under a cleared validity bit.
    struct ArrowArray fresh;
    memset(&fresh, 0, sizeof(fresh));
    OTAP_GOTO_NOT_OK(rc, otap__make_u16_array(new_ids[k], so->valid, n, &fresh, err));
    struct ArrowArray* slot;
    struct ArrowSchema* field;
    if (kParents[k]) {
      slot = taken.children[col_index[k][0]]->children[col_index[k][1]];
      field = schema.children[col_index[k][0]]->children[col_index[k][1]];
    } else {
      slot = taken.children[col_index[k][1]];
      field = schema.children[col_index[k][1]];
    }
    if (slot->release) slot->release(slot);
    memcpy(slot, &fresh, sizeof(fresh));
    OTAP_GOTO_NOT_OK(rc, otap__set_encoding_metadata(field, "delta"));
  }
  otap_array_view_reset(&view);
  for (int k = 0; k < 3; k++) {
    if (ids[k].values) OTAP_GOTO_NOT_OK(rc, encode_attrs(p, kChild[k], run_old[k], n_runs[k], err));
  }
  otap_logs_payload_set_table(p, OTAP_LOGS_LOGS, &schema, &taken);
  goto done;
oom:
  rc = otap_error_set(err, ENOMEM, "out of memory encoding ids");
done:
  otap_array_view_reset(&view);
  for (int k = 0; k < 3; k++) {
    otap__ids_reset(&ids[k]);
    otap__ids_reset(&sorted[k]);
    otap_free(run_old[k]);
    otap_free(new_ids[k]);
  }
  otap_free(perm);
  otap_array_release(&taken);
  otap_schema_release(&schema);
  return rc;
}
