// The OTAP logs batcher: decode, index, dedup, order, split, gather, reindex, finalize.
//
// Data flow: every input is copied (zero-copy references) and its transport-encoded ids are
// decoded (which validates it). Each LOGS row gets a global row number g; per row we record
// its input, its plain LOGS.id, and resource/scope "classes" (content identity when dedup is
// on, (input, id) otherwise). Attribute tables are indexed by parent_id (counting sort).
// Every table is conformed to the unified working schema. The row order is the input order
// (CONCAT) or a stable radix sort over fixed-width keys (SORT). Output k takes rows
// [k*max, (k+1)*max) of that order: LOGS by concat of input slices (CONCAT) or take from the
// combined table (SORT); attribute rows by take from the combined attribute tables in new
// parent order. New ids are dense per output and replace the id columns in finalize.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch/batch_internal.h"

// ---------------------------------------------------------------------------------------------
// Column access over validated views (native or dictionary, inside an optional struct)

struct col {
  const struct otap_array_view* v;  // NULL: column absent
  int64_t base;                     // element of row i is base + i
  const struct otap_array_view* parent;
  int64_t pbase;
};

static inline int64_t view_int(const struct otap_array_view* v, int64_t i);

static inline bool col_null(const struct col* c, int64_t i) {
  if (!c->v) return true;
  if (c->parent && otap_view_is_null(c->parent, c->pbase + i)) return true;
  if (otap_view_is_null(c->v, c->base + i)) return true;
  if (c->v->dictionary) {
    int64_t k = view_int(c->v, c->base + i);
    return otap_view_is_null(c->v->dictionary, k);
  }
  return false;
}

// Integer element i of a view: common storage types read inline, others via the view API.
static inline int64_t view_int(const struct otap_array_view* v, int64_t i) {
  const uint8_t* b = v->buffers[1];
  int64_t j = v->offset + i;
  switch (v->storage_type) {
    case OTAP_TYPE_UINT8:
      return b[j];
    case OTAP_TYPE_UINT16: {
      uint16_t x;
      memcpy(&x, b + 2 * j, 2);
      return x;
    }
    case OTAP_TYPE_UINT32: {
      uint32_t x;
      memcpy(&x, b + 4 * j, 4);
      return x;
    }
    case OTAP_TYPE_INT32: {
      int32_t x;
      memcpy(&x, b + 4 * j, 4);
      return x;
    }
    case OTAP_TYPE_INT64:
    case OTAP_TYPE_TIMESTAMP: {
      int64_t x;
      memcpy(&x, b + 8 * j, 8);
      return x;
    }
    default:
      return otap_view_get_int(v, i);
  }
}

// Integer value (0 when null); returns false when null.
static inline bool col_int(const struct col* c, int64_t i, int64_t* out) {
  *out = 0;
  if (col_null(c, i)) return false;
  if (c->v->dictionary) {
    *out = view_int(c->v->dictionary, view_int(c->v, c->base + i));
  } else {
    *out = view_int(c->v, c->base + i);
  }
  return true;
}

static inline bool col_double(const struct col* c, int64_t i, double* out) {
  *out = 0;
  if (col_null(c, i)) return false;
  *out = otap_view_get_double(c->v, c->base + i);
  return true;
}

// Bytes of element i of a view: string/binary (int32 offsets) read inline, the same reads as
// otap_view_get_bytes; other types through it.
static inline void view_bytes(const struct otap_array_view* v, int64_t i, const uint8_t** p,
                              int64_t* len) {
  if (v->storage_type == OTAP_TYPE_STRING || v->storage_type == OTAP_TYPE_BINARY) {
    const uint8_t* ob = v->buffers[1] + 4 * (v->offset + i);
    int32_t s, e;
    memcpy(&s, ob, 4);
    memcpy(&e, ob + 4, 4);
    *p = v->buffers[2] ? v->buffers[2] + s : (const uint8_t*)"";
    *len = (int64_t)e - s;
    return;
  }
  otap_view_get_bytes(v, i, p, len);
}

static inline bool col_bytes(const struct col* c, int64_t i, const uint8_t** p, int64_t* len) {
  *p = (const uint8_t*)"";
  *len = 0;
  if (col_null(c, i)) return false;
  if (c->v->dictionary) {
    view_bytes(c->v->dictionary, view_int(c->v, c->base + i), p, len);
  } else {
    view_bytes(c->v, c->base + i, p, len);
  }
  return true;
}

static int64_t field_index(const struct ArrowSchema* s, const char* name) {
  if (!s) return -1;
  for (int64_t i = 0; i < s->n_children; i++) {
    if (s->children[i]->name && strcmp(s->children[i]->name, name) == 0) return i;
  }
  return -1;
}

// Column `name` of the table (top level), or `child` of struct column `name`.
static struct col find_col(const struct otap_array_view* t, const struct ArrowSchema* s,
                           const char* name, const char* child) {
  struct col c;
  memset(&c, 0, sizeof(c));
  int64_t j = field_index(s, name);
  if (j < 0) return c;
  const struct otap_array_view* v = t->children[j];
  if (!child) {
    c.v = v;
    c.base = t->offset;
    return c;
  }
  int64_t k = field_index(s->children[j], child);
  if (k < 0) return c;
  c.v = v->children[k];
  c.base = t->offset + v->offset;
  c.parent = v;
  c.pbase = t->offset;
  return c;
}

// ---------------------------------------------------------------------------------------------
// Attribute tables: parent index and canonical attribute sets

enum { K_LOG = 0, K_RES = 1, K_SCOPE = 2, K_N = 3 };
static const enum otap_logs_table kAttrTable[K_N] = {OTAP_LOGS_LOG_ATTRS,
                                                     OTAP_LOGS_RESOURCE_ATTRS,
                                                     OTAP_LOGS_SCOPE_ATTRS};

struct attr_index {
  int64_t n;          // rows
  int32_t max_id;     // largest parent_id (-1 when empty)
  int32_t* start;     // max_id + 2 entries: rows of parent p are rows[start[p]..start[p+1])
  int32_t* rows;      // row numbers ordered by parent_id (stable)
  struct col parent_id, key, type, str, int_, dbl, boolean, bytes, ser;
  int32_t* aset;      // per parent id: interned canonical attribute set (-1 = not yet)
};

struct input {
  struct otap_logs_payload p;  // decoded private copy
  struct otap_array_view view[OTAP_LOGS_N_TABLES];
  bool has[OTAP_LOGS_N_TABLES];
  int64_t n_logs;
  int64_t row0;  // global row number of the first LOGS row
  struct attr_index ai[K_N];
  int64_t attr_row0[K_N];  // row offset in the combined attribute table
  struct ArrowArray conformed_logs;
};

struct ctx {
  const struct otap_batch_options* o;
  struct otap_batch_stats* st;
  struct input* in;
  int64_t n_in;
  int64_t n_rows;
  int32_t* row_input;
  int32_t* log_id;     // plain LOGS.id, -1 = null
  int32_t* local[2];   // resource / scope local id, -1 = null
  int32_t* cls[2];     // resource / scope class
  struct otap__bintern asets;       // canonical attribute sets
  struct otap__bintern classes[2];  // resource / scope class keys
  int64_t* rep_input[2];            // per class: representative input and local id
  int32_t* rep_local[2];
  int64_t rep_cap[2];
  struct otap__utable u[OTAP_LOGS_N_TABLES];
  struct ArrowArray combined[OTAP_LOGS_N_TABLES];  // LOGS only for SORT
  int32_t* order;      // row order (global row numbers)
  struct otap_buffer scratch;
  char sort_text[256];
};

static const char* key_col_name(enum otap_logs_table t) {
  (void)t;
  return "parent_id";
}

static int index_attrs(struct input* in, int kind, int64_t input_no, struct otap_error* err) {
  struct attr_index* a = &in->ai[kind];
  a->max_id = -1;
  enum otap_logs_table t = kAttrTable[kind];
  if (!in->has[t]) return 0;
  const struct otap_array_view* v = &in->view[t];
  const struct ArrowSchema* s = &in->p.schema[t];
  a->n = v->length;
  a->parent_id = find_col(v, s, key_col_name(t), NULL);
  a->key = find_col(v, s, "key", NULL);
  a->type = find_col(v, s, "type", NULL);
  a->str = find_col(v, s, "str", NULL);
  a->int_ = find_col(v, s, "int", NULL);
  a->dbl = find_col(v, s, "double", NULL);
  a->boolean = find_col(v, s, "bool", NULL);
  a->bytes = find_col(v, s, "bytes", NULL);
  a->ser = find_col(v, s, "ser", NULL);
  OTAP_RETURN_IF(!a->parent_id.v && a->n > 0, err, EINVAL,
                 "batch: input %lld, table %s: no parent_id column", (long long)input_no,
                 otap_logs_table_name(t));
  OTAP_RETURN_IF(a->n > INT32_MAX - 2, err, EINVAL,
                 "batch: input %lld, table %s: too many rows (%lld)", (long long)input_no,
                 otap_logs_table_name(t), (long long)a->n);
  // Plain u16 parent ids without nulls (the usual case) are read directly.
  const struct otap_array_view* pv = a->parent_id.v;
  const uint16_t* p16 = NULL;
  if (pv && !a->parent_id.parent && !pv->dictionary && pv->storage_type == OTAP_TYPE_UINT16 &&
      pv->null_count == 0 && a->n > 0) {
    p16 = (const uint16_t*)pv->buffers[1] + pv->offset + a->parent_id.base;
  }
  if (p16) {
    uint16_t mx = 0;
    for (int64_t i = 0; i < a->n; i++) mx = p16[i] > mx ? p16[i] : mx;
    a->max_id = mx;
  }
  for (int64_t i = 0; !p16 && i < a->n; i++) {
    int64_t pid;
    OTAP_RETURN_IF(!col_int(&a->parent_id, i, &pid), err, EINVAL,
                   "batch: input %lld, table %s, row %lld: null parent_id", (long long)input_no,
                   otap_logs_table_name(t), (long long)i);
    if (pid > a->max_id) a->max_id = (int32_t)pid;
  }
  int64_t nb = (int64_t)a->max_id + 2;
  a->start = otap_calloc((size_t)nb, sizeof(int32_t));
  a->rows = otap_malloc((size_t)(a->n > 0 ? a->n : 1) * sizeof(int32_t));
  a->aset = otap_malloc((size_t)nb * sizeof(int32_t));
  OTAP_RETURN_IF(!a->start || !a->rows || !a->aset, err, ENOMEM,
                 "batch: out of memory (attribute index)");
  for (int64_t p = 0; p < nb; p++) a->aset[p] = -1;
  if (p16) {
    for (int64_t i = 0; i < a->n; i++) a->start[p16[i] + 1]++;
  }
  for (int64_t i = 0; !p16 && i < a->n; i++) {
    int64_t pid;
    (void)col_int(&a->parent_id, i, &pid);
    a->start[pid + 1]++;
  }
  for (int64_t p = 1; p < nb; p++) a->start[p] += a->start[p - 1];
  // Counting sort: fill using a moving cursor per parent (start[p] is the cursor, restored).
  int32_t* cur = otap_malloc((size_t)nb * sizeof(int32_t));
  OTAP_RETURN_IF(!cur, err, ENOMEM, "batch: out of memory (attribute index)");
  memcpy(cur, a->start, (size_t)nb * sizeof(int32_t));
  if (p16) {
    for (int64_t i = 0; i < a->n; i++) a->rows[cur[p16[i]]++] = (int32_t)i;
  }
  for (int64_t i = 0; !p16 && i < a->n; i++) {
    int64_t pid;
    (void)col_int(&a->parent_id, i, &pid);
    a->rows[cur[pid]++] = (int32_t)i;
  }
  otap_free(cur);
  return 0;
}

static inline int32_t attr_count(const struct attr_index* a, int64_t pid) {
  if (pid < 0 || pid > a->max_id) return 0;
  return a->start[pid + 1] - a->start[pid];
}

struct entry {
  const uint8_t* p;
  int64_t len;
};

static int cmp_entry(const void* pa, const void* pb) {
  const struct entry* a = pa;
  const struct entry* b = pb;
  int64_t m = a->len < b->len ? a->len : b->len;
  int c = memcmp(a->p, b->p, (size_t)m);
  if (c) return c;
  return (a->len > b->len) - (a->len < b->len);
}

static int put_u32(struct otap_buffer* b, uint32_t v) { return otap_buffer_append(b, &v, 4); }

// Appends one attribute row as a typed canonical entry: key, type, value presence and bytes.
static int encode_attr(const struct attr_index* a, int64_t r, struct otap_buffer* b) {
  const uint8_t* kp;
  int64_t kl;
  (void)col_bytes(&a->key, r, &kp, &kl);
  int64_t type = 0;
  (void)col_int(&a->type, r, &type);
  int rc = put_u32(b, (uint32_t)kl);
  if (rc == 0) rc = otap_buffer_append(b, kp, kl);
  uint8_t t8 = (uint8_t)type;
  if (rc == 0) rc = otap_buffer_append(b, &t8, 1);
  if (rc) return rc;
  uint8_t present = 0;
  uint8_t num[8];
  const uint8_t* vp = num;
  int64_t vl = 0;
  switch (type) {
    case OTAP_ANY_STR:
      present = col_bytes(&a->str, r, &vp, &vl);
      break;
    case OTAP_ANY_INT: {
      int64_t x;
      present = col_int(&a->int_, r, &x);
      memcpy(num, &x, 8);
      vl = present ? 8 : 0;
      break;
    }
    case OTAP_ANY_DOUBLE: {
      double x;
      present = col_double(&a->dbl, r, &x);
      memcpy(num, &x, 8);
      vl = present ? 8 : 0;
      break;
    }
    case OTAP_ANY_BOOL: {
      int64_t x;
      present = col_int(&a->boolean, r, &x);
      num[0] = (uint8_t)(x != 0);
      vl = present ? 1 : 0;
      break;
    }
    case OTAP_ANY_MAP:
    case OTAP_ANY_SLICE:
      present = col_bytes(&a->ser, r, &vp, &vl);
      break;
    case OTAP_ANY_BYTES:
      present = col_bytes(&a->bytes, r, &vp, &vl);
      break;
    default:
      break;
  }
  rc = otap_buffer_append(b, &present, 1);
  if (rc == 0) rc = put_u32(b, (uint32_t)vl);
  if (rc == 0 && vl > 0) rc = otap_buffer_append(b, vp, vl);
  return rc;
}

// Interned id of the canonical attribute set of parent `pid` (sorted typed entries).
static int attr_set(struct ctx* c, struct attr_index* a, int64_t pid, int32_t* out,
                    struct otap_error* err) {
  if (pid >= 0 && pid <= a->max_id && a->aset[pid] >= 0) {
    *out = a->aset[pid];
    return 0;
  }
  int32_t n = attr_count(a, pid);
  struct otap_buffer* b = &c->scratch;
  b->size = 0;
  int rc = 0;
  int64_t* ends = otap_malloc((size_t)(n + 1) * sizeof(int64_t));
  struct entry* e = otap_malloc((size_t)(n + 1) * sizeof(struct entry));
  struct otap_buffer joined;
  otap_buffer_init(&joined);
  if (!ends || !e) {
    rc = otap_error_set(err, ENOMEM, "batch: out of memory (attribute set)");
    goto done;
  }
  for (int32_t k = 0; k < n; k++) {
    rc = encode_attr(a, a->rows[a->start[pid] + k], b);
    if (rc) goto nomem;
    ends[k] = b->size;
  }
  for (int32_t k = 0; k < n; k++) {
    int64_t s = k ? ends[k - 1] : 0;
    e[k].p = b->data + s;
    e[k].len = ends[k] - s;
  }
  if (n > 1) qsort(e, (size_t)n, sizeof(*e), cmp_entry);
  rc = put_u32(&joined, (uint32_t)n);
  for (int32_t k = 0; rc == 0 && k < n; k++) {
    rc = put_u32(&joined, (uint32_t)e[k].len);
    if (rc == 0) rc = otap_buffer_append(&joined, e[k].p, e[k].len);
  }
  if (rc) goto nomem;
  OTAP_GOTO_NOT_OK(rc, otap__bintern_get(&c->asets, joined.data, joined.size, out, NULL, err));
  if (pid >= 0 && pid <= a->max_id) a->aset[pid] = *out;
  goto done;
nomem:
  rc = otap_error_set(err, ENOMEM, "batch: out of memory (attribute set)");
done:
  otap_free(ends);
  otap_free(e);
  otap_buffer_reset(&joined);
  return rc;
}

// ---------------------------------------------------------------------------------------------
// Inputs

static int needs_decode(const struct otap_logs_payload* p) {
  struct otap_error e;
  for (int t = 0; t < OTAP_LOGS_N_TABLES; t++) {
    if (!otap_logs_payload_has_table(p, (enum otap_logs_table)t)) continue;
    const struct ArrowSchema* s = &p->schema[t];
    enum otap_id_encoding enc;
    if (t == OTAP_LOGS_LOGS) {
      int64_t j = field_index(s, "id");
      if (j >= 0 && (otap_logs_field_id_encoding(s->children[j], OTAP_ID_DELTA, &enc, &e) ||
                     enc != OTAP_ID_PLAIN))
        return 1;
      static const char* const kS[2] = {"resource", "scope"};
      for (int k = 0; k < 2; k++) {
        int64_t sj = field_index(s, kS[k]);
        int64_t cj = sj >= 0 ? field_index(s->children[sj], "id") : -1;
        if (cj >= 0 && (otap_logs_field_id_encoding(s->children[sj]->children[cj],
                                                    OTAP_ID_DELTA, &enc, &e) ||
                        enc != OTAP_ID_PLAIN))
          return 1;
      }
    } else {
      int64_t j = field_index(s, "parent_id");
      if (j >= 0 && (otap_logs_field_id_encoding(s->children[j], OTAP_ID_QUASI_DELTA, &enc, &e) ||
                     enc != OTAP_ID_PLAIN))
        return 1;
    }
  }
  return 0;
}

// New references to every table (schemas deep-copied); on failure nothing is left behind.
static int copy_payload(const struct otap_logs_payload* src, struct otap_logs_payload* dst,
                        struct otap_error* err) {
  otap_logs_payload_init(dst);
  for (int t = 0; t < OTAP_LOGS_N_TABLES; t++) {
    if (!otap_logs_payload_has_table(src, (enum otap_logs_table)t)) continue;
    struct ArrowSchema s;
    struct ArrowArray a;
    memset(&s, 0, sizeof(s));
    memset(&a, 0, sizeof(a));
    int rc = otap_schema_deep_copy(&src->schema[t], &s, err);
    if (rc == 0) rc = otap_array_ref(&src->batch[t], &a, err);
    if (rc == ENOTSUP) {  // foreign arrays: import a reference-less wrapper is not possible
      rc = otap_error_set(err, ENOTSUP, "table %s is not an otap-built array (import it first)",
                          otap_logs_table_name((enum otap_logs_table)t));
    }
    if (rc) {
      otap_schema_release(&s);
      otap_array_release(&a);
      otap_logs_payload_reset(dst);
      return rc;
    }
    otap_logs_payload_set_table(dst, (enum otap_logs_table)t, &s, &a);
  }
  return 0;
}

static int prepare_input(struct ctx* c, int64_t i, const struct otap_logs_payload* src,
                         struct otap_error* err) {
  struct input* in = &c->in[i];
  int rc = copy_payload(src, &in->p, err);
  if (rc) return otap_error_prefix(err, rc, "batch: input %lld: ", (long long)i);
  if (needs_decode(&in->p)) c->st->decoded_inputs++;
  rc = otap_logs_decode_ids(&in->p, err);
  if (rc) return otap_error_prefix(err, rc, "batch: input %lld: ", (long long)i);
  for (int t = 0; t < OTAP_LOGS_N_TABLES; t++) {
    if (!otap_logs_payload_has_table(&in->p, (enum otap_logs_table)t)) continue;
    OTAP_RETURN_NOT_OK(otap_array_view_init(&in->view[t], &in->p.schema[t], err));
    in->has[t] = true;
    rc = otap_array_view_set(&in->view[t], &in->p.batch[t], OTAP_VALIDATE_DEFAULT, err);
    if (rc) return otap_error_prefix(err, rc, "batch: input %lld: ", (long long)i);
    OTAP_RETURN_NOT_OK(otap__utable_add(&c->u[t], &in->p.schema[t], i, err));
  }
  in->n_logs = in->has[OTAP_LOGS_LOGS] ? in->view[OTAP_LOGS_LOGS].length : 0;
  for (int k = 0; k < K_N; k++) OTAP_RETURN_NOT_OK(index_attrs(in, k, i, err));
  return 0;
}

static int push_rep(struct ctx* c, int kind, int32_t cls, int64_t input, int32_t local,
                    struct otap_error* err) {
  if (cls >= c->rep_cap[kind]) {
    int64_t nc = c->rep_cap[kind] ? c->rep_cap[kind] * 2 : 64;
    while (nc <= cls) nc *= 2;
    int64_t* ri = otap_realloc(c->rep_input[kind], (size_t)nc * sizeof(int64_t));
    if (ri) c->rep_input[kind] = ri;
    int32_t* rl = ri ? otap_realloc(c->rep_local[kind], (size_t)nc * sizeof(int32_t)) : NULL;
    if (rl) c->rep_local[kind] = rl;
    OTAP_RETURN_IF(!ri || !rl, err, ENOMEM, "batch: out of memory (classes)");
    c->rep_cap[kind] = nc;
  }
  c->rep_input[kind][cls] = input;
  c->rep_local[kind][cls] = local;
  return 0;
}

static int put_field_bytes(struct otap_buffer* b, const struct col* cl, int64_t r) {
  const uint8_t* p;
  int64_t len;
  uint8_t present = col_bytes(cl, r, &p, &len);
  int rc = otap_buffer_append(b, &present, 1);
  if (rc == 0) rc = put_u32(b, (uint32_t)len);
  if (rc == 0 && len) rc = otap_buffer_append(b, p, len);
  return rc;
}

static int put_field_int(struct otap_buffer* b, const struct col* cl, int64_t r) {
  int64_t x;
  uint8_t present = col_int(cl, r, &x);
  int rc = otap_buffer_append(b, &present, 1);
  if (rc == 0) rc = otap_buffer_append(b, &x, 8);
  return rc;
}

// Per LOGS row: input, plain id, resource and scope local ids and classes. Also checks
// duplicate LOGS.id values and counts orphan attribute rows.
static int index_rows(struct ctx* c, int64_t i, uint8_t* seen, struct otap_error* err) {
  struct input* in = &c->in[i];
  if (in->n_logs == 0) {
    c->st->empty_inputs++;
    c->st->orphan_log_attrs += in->ai[K_LOG].n;
    c->st->orphan_resource_attrs += in->ai[K_RES].n;
    c->st->orphan_scope_attrs += in->ai[K_SCOPE].n;
    return 0;
  }
  const struct otap_array_view* v = &in->view[OTAP_LOGS_LOGS];
  const struct ArrowSchema* s = &in->p.schema[OTAP_LOGS_LOGS];
  struct col id = find_col(v, s, "id", NULL);
  static const char* const kStruct[2] = {"resource", "scope"};
  struct col sid[2], url[2], dropped[2], sname, sversion;
  for (int k = 0; k < 2; k++) {
    sid[k] = find_col(v, s, kStruct[k], "id");
    dropped[k] = find_col(v, s, kStruct[k], "dropped_attributes_count");
  }
  url[0] = find_col(v, s, "resource", "schema_url");
  memset(&url[1], 0, sizeof(url[1]));
  sname = find_col(v, s, "scope", "name");
  sversion = find_col(v, s, "scope", "version");
  // seen: 3 bitmaps of 65536 bits (log ids, resource ids, scope ids).
  memset(seen, 0, 3 * 8192);
  struct otap_buffer* key = &c->scratch;
  for (int64_t r = 0; r < in->n_logs; r++) {
    int64_t g = in->row0 + r;
    c->row_input[g] = (int32_t)i;
    int64_t x;
    if (col_int(&id, r, &x)) {
      OTAP_RETURN_IF(otap_bit_get(seen, x), err, EINVAL,
                     "batch: input %lld, table LOGS, row %lld: duplicate id %lld (ids must be "
                     "unique within a payload)",
                     (long long)i, (long long)r, (long long)x);
      otap_bit_set(seen, x);
      c->log_id[g] = (int32_t)x;
    } else {
      c->log_id[g] = -1;
    }
    for (int k = 0; k < 2; k++) {
      int32_t local = col_int(&sid[k], r, &x) ? (int32_t)x : -1;
      c->local[k][g] = local;
      if (local >= 0 && !otap_bit_get(seen + 8192 * (k + 1), local)) {
        otap_bit_set(seen + 8192 * (k + 1), local);
        if (k == 0) c->st->input_resources++; else c->st->input_scopes++;
      }
      // Same identity fields as the previous row: same class.
      if (r > 0 && local == c->local[k][g - 1]) {
        bool same = true;
        int64_t a1, a2;
        bool n1 = col_int(&dropped[k], r, &a1), n2 = col_int(&dropped[k], r - 1, &a2);
        same = n1 == n2 && a1 == a2;
        const struct col* bc[2] = {k == 0 ? &url[0] : &sname, k == 0 ? NULL : &sversion};
        for (int q = 0; q < 2 && same; q++) {
          if (!bc[q]) continue;
          const uint8_t *p1, *p2;
          int64_t l1, l2;
          bool b1 = col_bytes(bc[q], r, &p1, &l1), b2 = col_bytes(bc[q], r - 1, &p2, &l2);
          same = b1 == b2 && l1 == l2 && (p1 == p2 || memcmp(p1, p2, (size_t)l1) == 0);
        }
        if (same) {
          c->cls[k][g] = c->cls[k][g - 1];
          continue;
        }
      }
      key->size = 0;
      int rc = 0;
      if (c->o->dedup) {
        int32_t aset;
        OTAP_RETURN_NOT_OK(attr_set(c, &in->ai[k == 0 ? K_RES : K_SCOPE], local, &aset, err));
        key->size = 0;  // attr_set used the scratch buffer
        rc = put_u32(key, (uint32_t)aset);
      } else {
        int64_t hdr[2] = {i, local};
        rc = otap_buffer_append(key, hdr, sizeof(hdr));
      }
      if (k == 0) {
        if (rc == 0) rc = put_field_bytes(key, &url[0], r);
      } else {
        if (rc == 0) rc = put_field_bytes(key, &sname, r);
        if (rc == 0) rc = put_field_bytes(key, &sversion, r);
      }
      if (rc == 0) rc = put_field_int(key, &dropped[k], r);
      OTAP_RETURN_IF(rc, err, ENOMEM, "batch: out of memory (class key)");
      int32_t cl;
      bool added;
      OTAP_RETURN_NOT_OK(otap__bintern_get(&c->classes[k], key->data, key->size, &cl, &added, err));
      if (added) OTAP_RETURN_NOT_OK(push_rep(c, k, cl, i, local, err));
      c->cls[k][g] = cl;
    }
  }
  // Orphans: attribute rows whose parent id no LOGS row uses.
  int64_t* counters[K_N] = {&c->st->orphan_log_attrs, &c->st->orphan_resource_attrs,
                            &c->st->orphan_scope_attrs};
  for (int k = 0; k < K_N; k++) {
    const struct attr_index* a = &in->ai[k];
    for (int64_t p = 0; p <= a->max_id; p++) {
      if (!otap_bit_get(seen + 8192 * k, p)) *counters[k] += attr_count(a, p);
    }
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Sort keys

static inline uint64_t be64(const uint8_t* p) {
  uint64_t v = 0;
  for (int b = 0; b < 8; b++) v = (v << 8) | p[b];
  return v;
}

// Distinct event names sorted by bytes (entries carry their data: qsort needs no context, so
// concurrent calls stay independent).
struct name_entry {
  const uint8_t* p;
  int64_t len;
  int32_t id;
};

static int cmp_name(const void* pa, const void* pb) {
  const struct name_entry* a = pa;
  const struct name_entry* b = pb;
  int64_t m = a->len < b->len ? a->len : b->len;
  int c = m > 0 ? memcmp(a->p, b->p, (size_t)m) : 0;
  if (c) return c;
  return (a->len > b->len) - (a->len < b->len);
}

static int key_words(enum otap_batch_key k) { return k == OTAP_BATCH_KEY_TRACE_ID ? 2 : 1; }

static int build_order(struct ctx* c, struct otap_error* err) {
  int64_t n = c->n_rows;
  c->order = otap_malloc((size_t)(n > 0 ? n : 1) * sizeof(int32_t));
  OTAP_RETURN_IF(!c->order, err, ENOMEM, "batch: out of memory (row order)");
  if (c->o->n_sort_keys == 0) {
    for (int64_t g = 0; g < n; g++) c->order[g] = (int32_t)g;
    return 0;
  }
  int32_t words = 0;
  for (int32_t k = 0; k < c->o->n_sort_keys; k++) words += key_words(c->o->sort_keys[k].key);
  uint64_t* keys = otap_calloc((size_t)(n > 0 ? n : 1) * (size_t)words, sizeof(uint64_t));
  OTAP_RETURN_IF(!keys, err, ENOMEM, "batch: out of memory (sort keys)");
  struct otap__bintern names;
  otap__bintern_init(&names);
  int32_t* rank = NULL;
  struct name_entry* ents = NULL;
  int rc = 0;
  int32_t w0 = 0;
  for (int32_t ki = 0; ki < c->o->n_sort_keys; ki++) {
    enum otap_batch_key key = c->o->sort_keys[ki].key;
    for (int64_t i = 0; i < c->n_in; i++) {
      struct input* in = &c->in[i];
      if (in->n_logs == 0) continue;
      const struct otap_array_view* v = &in->view[OTAP_LOGS_LOGS];
      const struct ArrowSchema* s = &in->p.schema[OTAP_LOGS_LOGS];
      static const char* const kCol[OTAP_BATCH_KEY_COUNT_] = {
          NULL, NULL, "trace_id", "span_id", "event_name", "severity_number",
          "time_unix_nano", "observed_time_unix_nano"};
      struct col cl = kCol[key] ? find_col(v, s, kCol[key], NULL) : (struct col){0};
      for (int64_t r = 0; r < in->n_logs; r++) {
        int64_t g = in->row0 + r;
        uint64_t* kw = keys + g * words + w0;
        int64_t x;
        const uint8_t* p;
        int64_t len;
        switch (key) {
          case OTAP_BATCH_KEY_RESOURCE: kw[0] = (uint64_t)c->cls[0][g]; break;
          case OTAP_BATCH_KEY_SCOPE: kw[0] = (uint64_t)c->cls[1][g]; break;
          case OTAP_BATCH_KEY_TRACE_ID:
          case OTAP_BATCH_KEY_SPAN_ID: {
            uint8_t buf[16] = {0};
            if (col_bytes(&cl, r, &p, &len)) memcpy(buf, p, (size_t)(len > 16 ? 16 : len));
            kw[0] = be64(buf);
            if (key == OTAP_BATCH_KEY_TRACE_ID) kw[1] = be64(buf + 8);
            break;
          }
          case OTAP_BATCH_KEY_EVENT_NAME: {
            if (!col_bytes(&cl, r, &p, &len)) {
              kw[0] = 0;
              break;
            }
            int32_t id;
            OTAP_GOTO_NOT_OK(rc, otap__bintern_get(&names, p, len, &id, NULL, err));
            kw[0] = (uint64_t)id + 1;  // replaced by the rank below
            break;
          }
          default:  // signed integers: null smallest, then value order
            kw[0] = col_int(&cl, r, &x) ? ((uint64_t)x ^ 0x8000000000000000ULL) : 0;
            break;
        }
      }
    }
    if (key == OTAP_BATCH_KEY_EVENT_NAME && names.n > 0) {
      ents = otap_malloc((size_t)names.n * sizeof(*ents));
      rank = otap_malloc((size_t)names.n * sizeof(int32_t));
      if (!ents || !rank) {
        rc = otap_error_set(err, ENOMEM, "batch: out of memory (event name ranks)");
        goto done;
      }
      for (int32_t j = 0; j < names.n; j++) {
        ents[j].p = otap__bintern_data(&names, j, &ents[j].len);
        ents[j].id = j;
      }
      qsort(ents, (size_t)names.n, sizeof(*ents), cmp_name);
      for (int32_t j = 0; j < names.n; j++) rank[ents[j].id] = j + 1;
      for (int64_t g = 0; g < n; g++) {
        uint64_t* kw = keys + g * words + w0;
        if (kw[0]) kw[0] = (uint64_t)rank[kw[0] - 1];
      }
    }
    if (c->o->sort_keys[ki].descending) {
      int kwn = key_words(key);
      for (int64_t g = 0; g < n; g++) {
        for (int q = 0; q < kwn; q++) keys[g * words + w0 + q] = ~keys[g * words + w0 + q];
      }
    }
    w0 += key_words(key);
  }
  rc = otap__radix_sort(keys, n, words, c->order, err);
done:
  otap_free(keys);
  otap_free(rank);
  otap_free(ents);
  otap__bintern_reset(&names);
  return rc;
}

// ---------------------------------------------------------------------------------------------
// Outputs

struct out_scratch {
  uint16_t* v[OTAP__ROLE_COUNT_];
  uint8_t* valid[OTAP__ROLE_COUNT_];
  int32_t* stamp[2];  // per class: output number + 1 that assigned new_id
  int32_t* new_id[2];
  int32_t* used[2];   // classes used by the current output, in new id order
  int64_t n_used[2];
  int64_t* take[K_N];  // combined attribute rows to take
  uint16_t* pid[K_N];  // their new parent ids
  int64_t n_take[K_N];
  int64_t cap_take[K_N];
  int64_t* rows;  // global rows of the output (SORT take indices)
};

static void out_scratch_free(struct out_scratch* s) {
  for (int r = 0; r < OTAP__ROLE_COUNT_; r++) {
    otap_free(s->v[r]);
    otap_free(s->valid[r]);
  }
  for (int k = 0; k < 2; k++) {
    otap_free(s->stamp[k]);
    otap_free(s->new_id[k]);
    otap_free(s->used[k]);
  }
  for (int k = 0; k < K_N; k++) {
    otap_free(s->take[k]);
    otap_free(s->pid[k]);
  }
  otap_free(s->rows);
}

static int push_attrs(struct ctx* c, struct out_scratch* s, int kind, int64_t input,
                      int32_t local, uint16_t new_pid, struct otap_error* err) {
  const struct attr_index* a = &c->in[input].ai[kind];
  int32_t cnt = attr_count(a, local);
  if (cnt == 0) return 0;
  if (s->n_take[kind] + cnt > s->cap_take[kind]) {
    int64_t nc = s->cap_take[kind] ? s->cap_take[kind] * 2 : 1024;
    while (nc < s->n_take[kind] + cnt) nc *= 2;
    int64_t* t = otap_realloc(s->take[kind], (size_t)nc * sizeof(int64_t));
    if (t) s->take[kind] = t;
    uint16_t* p = t ? otap_realloc(s->pid[kind], (size_t)nc * sizeof(uint16_t)) : NULL;
    if (p) s->pid[kind] = p;
    OTAP_RETURN_IF(!t || !p, err, ENOMEM, "batch: out of memory (attribute gather)");
    s->cap_take[kind] = nc;
  }
  int64_t base = c->in[input].attr_row0[kind];
  const int32_t* rows = a->rows + a->start[local];
  int64_t* t = s->take[kind] + s->n_take[kind];
  uint16_t* p = s->pid[kind] + s->n_take[kind];
  for (int32_t q = 0; q < cnt; q++) {
    t[q] = base + rows[q];
    p[q] = new_pid;
  }
  s->n_take[kind] += cnt;
  return 0;
}

static int emit_attrs(struct ctx* c, struct out_scratch* s, int kind,
                      struct otap_logs_payload* out, struct otap_error* err) {
  enum otap_logs_table t = kAttrTable[kind];
  if (s->n_take[kind] == 0) return 0;
  struct ArrowArray taken;
  memset(&taken, 0, sizeof(taken));
  OTAP_RETURN_NOT_OK(otap__batch_take(&c->u[t].working, &c->combined[t], s->take[kind],
                                     s->n_take[kind], &taken, err));
  struct otap__idcols ids;
  memset(&ids, 0, sizeof(ids));
  ids.values[OTAP__ROLE_PARENT_ID] = s->pid[kind];
  struct ArrowSchema os;
  struct ArrowArray oa;
  OTAP_RETURN_NOT_OK(otap__utable_finalize(&c->u[t], &taken, &ids, NULL, &os, &oa, err));
  otap_logs_payload_set_table(out, t, &os, &oa);
  return 0;
}

static int emit_logs_table(struct ctx* c, struct out_scratch* s, int64_t start, int64_t n,
                           const char* meta, struct otap_logs_payload* out,
                           struct otap_error* err) {
  struct otap__utable* u = &c->u[OTAP_LOGS_LOGS];
  struct ArrowArray gathered;
  memset(&gathered, 0, sizeof(gathered));
  int rc = 0;
  bool concat = c->combined[OTAP_LOGS_LOGS].release == NULL;
  if (!concat) {
    OTAP_RETURN_NOT_OK(
        otap__batch_take(&u->working, &c->combined[OTAP_LOGS_LOGS], s->rows, n, &gathered, err));
  } else {
    // Slices of every input overlapping [start, start + n).
    struct ArrowArray* pieces = otap_calloc((size_t)c->n_in, sizeof(struct ArrowArray));
    const struct ArrowArray** ptrs = otap_calloc((size_t)c->n_in, sizeof(*ptrs));
    int64_t np = 0;
    if (!pieces || !ptrs) rc = otap_error_set(err, ENOMEM, "batch: out of memory (pieces)");
    for (int64_t i = 0; rc == 0 && i < c->n_in; i++) {
      struct input* in = &c->in[i];
      int64_t lo = in->row0 > start ? in->row0 : start;
      int64_t hi = in->row0 + in->n_logs < start + n ? in->row0 + in->n_logs : start + n;
      if (hi <= lo) continue;
      rc = otap_array_slice(&in->conformed_logs, lo - in->row0, hi - lo, &pieces[np], err);
      if (rc == 0) ptrs[np] = &pieces[np], np++;
    }
    if (rc == 0) rc = otap__batch_concat(&u->working, ptrs, np, &gathered, err);
    for (int64_t q = 0; q < np; q++) otap_array_release(&pieces[q]);
    otap_free(pieces);
    otap_free(ptrs);
    if (rc) return rc;
  }
  struct otap__idcols ids;
  memset(&ids, 0, sizeof(ids));
  for (int r = OTAP__ROLE_LOG_ID; r <= OTAP__ROLE_SCOPE_ID; r++) {
    ids.values[r] = s->v[r];
    ids.valid[r] = s->valid[r];
  }
  struct ArrowSchema os;
  struct ArrowArray oa;
  OTAP_RETURN_NOT_OK(otap__utable_finalize(u, &gathered, &ids, meta, &os, &oa, err));
  otap_logs_payload_set_table(out, OTAP_LOGS_LOGS, &os, &oa);
  return rc;
}

static int emit_output(struct ctx* c, struct out_scratch* s, int64_t k, int64_t start,
                       int64_t n, const char* meta, struct otap_logs_payload* out,
                       struct otap_error* err) {
  for (int q = 0; q < K_N; q++) s->n_take[q] = 0;
  s->n_used[0] = s->n_used[1] = 0;
  int32_t next_log = 0;
  for (int64_t j = 0; j < n; j++) {
    int64_t g = c->order[start + j];
    s->rows[j] = g;
    int64_t input = c->row_input[g];
    int32_t old = c->log_id[g];
    if (old >= 0) {
      s->v[OTAP__ROLE_LOG_ID][j] = (uint16_t)next_log;
      s->valid[OTAP__ROLE_LOG_ID][j] = 1;
      OTAP_RETURN_NOT_OK(push_attrs(c, s, K_LOG, input, old, (uint16_t)next_log, err));
      next_log++;
    } else {
      s->v[OTAP__ROLE_LOG_ID][j] = 0;
      s->valid[OTAP__ROLE_LOG_ID][j] = 0;
    }
    for (int q = 0; q < 2; q++) {
      int role = q == 0 ? OTAP__ROLE_RESOURCE_ID : OTAP__ROLE_SCOPE_ID;
      int32_t cl = c->cls[q][g];
      if (s->stamp[q][cl] != (int32_t)k + 1) {
        s->stamp[q][cl] = (int32_t)k + 1;
        s->new_id[q][cl] = (int32_t)s->n_used[q];
        s->used[q][s->n_used[q]++] = cl;
      }
      bool valid = c->local[q][g] >= 0;
      s->v[role][j] = valid ? (uint16_t)s->new_id[q][cl] : 0;
      s->valid[role][j] = valid;
    }
  }
  for (int q = 0; q < 2; q++) {
    int kind = q == 0 ? K_RES : K_SCOPE;
    for (int64_t m = 0; m < s->n_used[q]; m++) {
      int32_t cl = s->used[q][m];
      int32_t local = c->rep_local[q][cl];
      if (local < 0) continue;
      OTAP_RETURN_NOT_OK(
          push_attrs(c, s, kind, c->rep_input[q][cl], local, (uint16_t)m, err));
    }
  }
  c->st->output_resources += s->n_used[0];
  c->st->output_scopes += s->n_used[1];
  OTAP_RETURN_NOT_OK(emit_logs_table(c, s, start, n, meta, out, err));
  for (int q = 0; q < K_N; q++) OTAP_RETURN_NOT_OK(emit_attrs(c, s, q, out, err));
  return 0;
}

// Conforms every input table and builds the combined tables (attributes always; LOGS only for
// SORT). Attribute row offsets per input are recorded.
static int build_tables(struct ctx* c, bool combine_logs, struct otap_error* err) {
  int rc = 0;
  struct ArrowArray* parts = otap_calloc((size_t)(c->n_in > 0 ? c->n_in : 1), sizeof(*parts));
  const struct ArrowArray** ptrs = otap_calloc((size_t)(c->n_in > 0 ? c->n_in : 1),
                                               sizeof(*ptrs));
  if (!parts || !ptrs) {
    rc = otap_error_set(err, ENOMEM, "batch: out of memory (tables)");
    goto done;
  }
  for (int t = 0; t < OTAP_LOGS_N_TABLES; t++) {
    struct otap__utable* u = &c->u[t];
    if (!u->present) continue;
    OTAP_GOTO_NOT_OK(rc, otap__utable_build(u, err));
    {
      const struct ArrowSchema** ss = otap_calloc((size_t)c->n_in + 1, sizeof(*ss));
      const struct ArrowArray** aa = otap_calloc((size_t)c->n_in + 1, sizeof(*aa));
      if (!ss || !aa) rc = otap_error_set(err, ENOMEM, "batch: out of memory (dictionaries)");
      for (int64_t i = 0; rc == 0 && i < c->n_in; i++) {
        struct input* in = &c->in[i];
        if (!in->has[t] || (t == OTAP_LOGS_LOGS && in->n_logs == 0)) continue;
        ss[i] = &in->p.schema[t];
        aa[i] = &in->p.batch[t];
      }
      if (rc == 0) rc = otap__utable_build_dicts(u, ss, aa, c->n_in, err);
      otap_free(ss);
      otap_free(aa);
      if (rc) goto done;
    }
    bool logs = t == OTAP_LOGS_LOGS;
    int kind = -1;
    for (int q = 0; q < K_N; q++) {
      if (kAttrTable[q] == (enum otap_logs_table)t) kind = q;
    }
    int64_t np = 0, rows = 0;
    for (int64_t i = 0; i < c->n_in; i++) {
      struct input* in = &c->in[i];
      if (!in->has[t] || (logs && in->n_logs == 0)) continue;
      int64_t n = in->view[t].length;
      if (!logs) in->attr_row0[kind] = rows;
      rows += n;
      struct ArrowArray* dst = logs ? &in->conformed_logs : &parts[np];
      rc = otap__utable_conform(u, i, &in->p.schema[t], &in->p.batch[t], n, dst, err);
      if (rc) {
        otap_error_prefix(err, rc, "batch: input %lld, table %s: ", (long long)i,
                          otap_logs_table_name((enum otap_logs_table)t));
        for (int64_t q = 0; q < np && !logs; q++) otap_array_release(&parts[q]);
        goto done;
      }
      ptrs[np++] = dst;
    }
    if (logs && !combine_logs) continue;
    rc = otap__batch_concat(&u->working, ptrs, np, &c->combined[t], err);
    for (int64_t q = 0; q < np && !logs; q++) otap_array_release(&parts[q]);
    if (rc) goto done;
    if (logs) {
      for (int64_t i = 0; i < c->n_in; i++) otap_array_release(&c->in[i].conformed_logs);
    }
  }
done:
  otap_free(parts);
  otap_free(ptrs);
  return rc;
}

static int encode_meta(struct ctx* c, struct otap_buffer* meta) {
  otap_batch_format_sort(c->o, c->sort_text, sizeof(c->sort_text));
  struct otap_metadata_entry e[2] = {
      {"otap.batch.sort", 15, c->sort_text, (int32_t)strlen(c->sort_text)},
      {"otap.batch.dedup", 16, c->o->dedup ? "true" : "false", c->o->dedup ? 4 : 5},
  };
  return otap_metadata_encode(meta, e, 2);
}

static void ctx_free(struct ctx* c) {
  for (int64_t i = 0; c->in && i < c->n_in; i++) {
    struct input* in = &c->in[i];
    for (int k = 0; k < K_N; k++) {
      otap_free(in->ai[k].start);
      otap_free(in->ai[k].rows);
      otap_free(in->ai[k].aset);
    }
    for (int t = 0; t < OTAP_LOGS_N_TABLES; t++) otap_array_view_reset(&in->view[t]);
    otap_array_release(&in->conformed_logs);
    otap_logs_payload_reset(&in->p);
  }
  otap_free(c->in);
  otap_free(c->row_input);
  otap_free(c->log_id);
  for (int k = 0; k < 2; k++) {
    otap_free(c->local[k]);
    otap_free(c->cls[k]);
    otap_free(c->rep_input[k]);
    otap_free(c->rep_local[k]);
    otap__bintern_reset(&c->classes[k]);
  }
  otap__bintern_reset(&c->asets);
  for (int t = 0; t < OTAP_LOGS_N_TABLES; t++) {
    otap__utable_reset(&c->u[t]);
    otap_array_release(&c->combined[t]);
  }
  otap_free(c->order);
  otap_buffer_reset(&c->scratch);
}

static int check_options(const struct otap_batch_options* o, struct otap_error* err) {
  OTAP_RETURN_IF(o->max_items < 1 || o->max_items > OTAP_BATCH_MAX_ITEMS, err, EINVAL,
                 "batch: max_items %lld out of range 1..%d", (long long)o->max_items,
                 OTAP_BATCH_MAX_ITEMS);
  OTAP_RETURN_IF(o->n_sort_keys < 0 || o->n_sort_keys > OTAP_BATCH_MAX_SORT_KEYS, err, EINVAL,
                 "batch: %d sort keys (at most %d)", (int)o->n_sort_keys,
                 OTAP_BATCH_MAX_SORT_KEYS);
  for (int32_t i = 0; i < o->n_sort_keys; i++) {
    OTAP_RETURN_IF(!otap_batch_key_name(o->sort_keys[i].key), err, EINVAL,
                   "batch: sort key %d: unknown key %d", (int)i, (int)o->sort_keys[i].key);
    for (int32_t j = 0; j < i; j++) {
      OTAP_RETURN_IF(o->sort_keys[i].key == o->sort_keys[j].key, err, EINVAL,
                     "batch: sort key '%s' repeated", otap_batch_key_name(o->sort_keys[i].key));
    }
  }
  OTAP_RETURN_IF(o->strategy == OTAP_BATCH_STRATEGY_CONCAT && o->n_sort_keys > 0, err, EINVAL,
                 "batch: the concat strategy keeps the input order; it cannot apply sort keys "
                 "(use the sort strategy)");
  OTAP_RETURN_IF((int)o->strategy < 0 || o->strategy > OTAP_BATCH_STRATEGY_SORT, err, EINVAL,
                 "batch: unknown strategy %d", (int)o->strategy);
  return 0;
}

int otap_batch_logs(const struct otap_logs_payload* in, int64_t n_in,
                    const struct otap_batch_options* options, struct otap_logs_payload** out,
                    int64_t* n_out, struct otap_batch_stats* stats, struct otap_error* err) {
  OTAP_RETURN_IF(!out || !n_out || n_in < 0 || (n_in > 0 && !in), err, EINVAL,
                 "batch: invalid arguments");
  *out = NULL;
  *n_out = 0;
  struct otap_batch_options defaults;
  if (!options) {
    otap_batch_options_init(&defaults);
    options = &defaults;
  }
  OTAP_RETURN_NOT_OK(check_options(options, err));
  struct otap_batch_stats local_stats;
  if (!stats) stats = &local_stats;
  memset(stats, 0, sizeof(*stats));
  stats->inputs = n_in;
  struct ctx c;
  memset(&c, 0, sizeof(c));
  c.o = options;
  c.st = stats;
  c.n_in = n_in;
  for (int t = 0; t < OTAP_LOGS_N_TABLES; t++) otap__utable_init(&c.u[t], (enum otap_logs_table)t);
  otap__bintern_init(&c.asets);
  otap__bintern_init(&c.classes[0]);
  otap__bintern_init(&c.classes[1]);
  struct otap_logs_payload* outs = NULL;
  int64_t k_out = 0, n_outs = 0;
  struct out_scratch s;
  memset(&s, 0, sizeof(s));
  uint8_t* seen = NULL;
  struct otap_buffer meta;
  otap_buffer_init(&meta);
  int rc = 0;
  c.in = otap_calloc((size_t)(n_in > 0 ? n_in : 1), sizeof(struct input));
  seen = otap_malloc(3 * 8192);
  if (!c.in || !seen) {
    rc = otap_error_set(err, ENOMEM, "batch: out of memory (%lld inputs)", (long long)n_in);
    goto done;
  }
  for (int64_t i = 0; i < n_in; i++) {
    OTAP_GOTO_NOT_OK(rc, prepare_input(&c, i, &in[i], err));
    c.in[i].row0 = c.n_rows;
    c.n_rows += c.in[i].n_logs;
    if (c.n_rows > INT32_MAX) {
      rc = otap_error_set(err, EINVAL, "batch: more than %d log records in one call", INT32_MAX);
      goto done;
    }
  }
  stats->input_records = c.n_rows;
  int64_t n = c.n_rows;
  size_t rn = (size_t)(n > 0 ? n : 1);
  c.row_input = otap_malloc(rn * sizeof(int32_t));
  c.log_id = otap_malloc(rn * sizeof(int32_t));
  for (int k = 0; k < 2; k++) {
    c.local[k] = otap_malloc(rn * sizeof(int32_t));
    c.cls[k] = otap_malloc(rn * sizeof(int32_t));
  }
  if (!c.row_input || !c.log_id || !c.local[0] || !c.local[1] || !c.cls[0] || !c.cls[1]) {
    rc = otap_error_set(err, ENOMEM, "batch: out of memory (%lld rows)", (long long)n);
    goto done;
  }
  for (int64_t i = 0; i < n_in; i++) OTAP_GOTO_NOT_OK(rc, index_rows(&c, i, seen, err));
  if (n == 0) goto done;
  enum otap_batch_strategy strat = options->strategy;
  if (strat == OTAP_BATCH_STRATEGY_AUTO) {
    strat = options->n_sort_keys ? OTAP_BATCH_STRATEGY_SORT : OTAP_BATCH_STRATEGY_CONCAT;
  }
  OTAP_GOTO_NOT_OK(rc, build_tables(&c, strat == OTAP_BATCH_STRATEGY_SORT, err));
  OTAP_GOTO_NOT_OK(rc, build_order(&c, err));
  if (encode_meta(&c, &meta)) {
    rc = otap_error_set(err, ENOMEM, "batch: out of memory (metadata)");
    goto done;
  }
  // Scratch for outputs.
  int64_t max = options->max_items;
  int64_t per = n < max ? n : max;
  for (int r = OTAP__ROLE_LOG_ID; r <= OTAP__ROLE_SCOPE_ID; r++) {
    s.v[r] = otap_malloc((size_t)per * sizeof(uint16_t));
    s.valid[r] = otap_malloc((size_t)per);
    if (!s.v[r] || !s.valid[r]) rc = ENOMEM;
  }
  for (int q = 0; q < 2; q++) {
    int64_t nc = c.classes[q].n > 0 ? c.classes[q].n : 1;
    s.stamp[q] = otap_calloc((size_t)nc, sizeof(int32_t));
    s.new_id[q] = otap_malloc((size_t)nc * sizeof(int32_t));
    s.used[q] = otap_malloc((size_t)nc * sizeof(int32_t));
    if (!s.stamp[q] || !s.new_id[q] || !s.used[q]) rc = ENOMEM;
  }
  s.rows = otap_malloc((size_t)per * sizeof(int64_t));
  n_outs = (n + max - 1) / max;
  outs = otap_calloc((size_t)n_outs, sizeof(*outs));
  if (rc || !s.rows || !outs) {
    rc = otap_error_set(err, ENOMEM, "batch: out of memory (output scratch)");
    goto done;
  }
  for (k_out = 0; k_out < n_outs; k_out++) {
    int64_t start = k_out * max;
    int64_t cnt = n - start < max ? n - start : max;
    rc = emit_output(&c, &s, k_out, start, cnt, (const char*)meta.data, &outs[k_out], err);
    if (rc) {
      otap_error_prefix(err, rc, "batch: output %lld: ", (long long)k_out);
      goto done;
    }
    stats->output_records += cnt;
  }
  stats->outputs = n_outs;
done:
  if (rc) {
    otap_logs_payloads_free(outs, n_outs);
    memset(stats, 0, sizeof(*stats));
  } else if (outs) {
    *out = outs;
    *n_out = n_outs;
  }
  out_scratch_free(&s);
  otap_free(seen);
  otap_buffer_reset(&meta);
  ctx_free(&c);
  return rc;
}
