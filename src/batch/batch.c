// The OTAP logs batcher: validate, index, dedup, order, place, write, emit.
//
// Data flow: inputs are read in place (a private copy is made only when ids are
// transport-encoded and must be decoded). Each LOGS row gets a global row number g; per row we
// record its input, its plain LOGS.id and resource/scope "classes" (content identity when
// dedup is on, (input, id) otherwise). Attribute tables are indexed by parent_id (counting
// sort). The row order is the input order (CONCAT) or a stable radix sort over fixed-width
// keys (SORT). Output k takes rows [k*max, (k+1)*max) of that order. One pass over the order
// assigns every row its output position, its new ids and the positions of its attribute rows;
// each input then becomes a list of copy runs per table, and the column writers
// (batch_cols.c) copy every column of every input once, straight into the buffers of all
// outputs.
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
  struct otap_logs_payload dec;       // decoded private copy (transport-encoded ids only)
  const struct otap_logs_payload* p;  // the tables read: the caller's or dec
  struct otap_array_view view[OTAP_LOGS_N_TABLES];
  bool has[OTAP_LOGS_N_TABLES];
  int64_t n_logs;
  int64_t row0;  // global row number of the first LOGS row
  struct attr_index ai[K_N];
  int32_t* id2row;  // LOGS.id -> table row (-1: none); max_id + 1 entries
  int32_t max_id;
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
  int32_t* memo_cls[2];  // per local id + 1 (memo_cap entries): class of the memo row, -1 unset
  int32_t* memo_row[2];
  int64_t memo_cap[2];
  struct otap__tcols* tc[OTAP_LOGS_N_TABLES];
  int32_t* order;      // row order (global row numbers)
  struct otap_buffer scratch;
  struct otap_buffer joined;   // attr_set: the canonical set
  struct otap_buffer entries;  // attr_set: the sorted entries
  struct otap_buffer prev_eq;  // index_rows: per row, equal to the previous row
  char sort_text[256];
};

static const char* key_col_name(enum otap_logs_table t) {
  (void)t;
  return "parent_id";
}

// Checks the int32 offsets of a string/binary column (its dictionary when it has one) over
// the whole view: from >= 0, in order, ending inside the data. The readers of single values
// (resource/scope classes, attribute sets) rely on it; the column writers check what they copy.
static int check_col_offsets(const struct col* cl, int64_t input, const char* table,
                             const char* name, struct otap_error* err) {
  if (!cl->v) return 0;
  const struct otap_array_view* v = cl->v->dictionary ? cl->v->dictionary : cl->v;
  if ((v->storage_type != OTAP_TYPE_STRING && v->storage_type != OTAP_TYPE_BINARY) ||
      v->length == 0)
    return 0;
  const int32_t* o = (const int32_t*)(const void*)v->buffers[1] + v->offset;
  OTAP_RETURN_IF(otap__offsets_bad(o, v->length, v->buffer_sizes[2]), err, EINVAL, "batch: input %lld, table %s, column %s%s: string offsets "
                 "out of order or out of bounds", (long long)input, table, name,
                 cl->v->dictionary ? " (dictionary)" : "");
  return 0;
}

static int index_attrs(struct input* in, int kind, int64_t input_no, struct otap_error* err) {
  struct attr_index* a = &in->ai[kind];
  a->max_id = -1;
  enum otap_logs_table t = kAttrTable[kind];
  if (!in->has[t]) return 0;
  const struct otap_array_view* v = &in->view[t];
  const struct ArrowSchema* s = &in->p->schema[t];
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
  if (kind != K_LOG) {  // resource and scope attributes are read value by value (attr_set)
    const struct col* sc[4] = {&a->key, &a->str, &a->bytes, &a->ser};
    static const char* const kNames[4] = {"key", "str", "bytes", "ser"};
    for (int j = 0; j < 4; j++) {
      OTAP_RETURN_NOT_OK(check_col_offsets(sc[j], input_no, otap_logs_table_name(t), kNames[j],
                                           err));
    }
  }
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
  bool sorted = false;
  if (p16) {  // branch-free scans (they vectorize)
    uint16_t mx = p16[0];
    int32_t desc = 0;  // number of descents (0: already ordered by parent_id)
    for (int64_t i = 1; i < a->n; i++) {
      mx = p16[i] > mx ? p16[i] : mx;
      desc += p16[i] < p16[i - 1];
    }
    a->max_id = mx;
    sorted = desc == 0;
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
  if (p16 && sorted) {  // start[p]: the first row whose parent is p or more
    int64_t i = 0;
    for (int64_t p = 0; p < nb; p++) {
      while (i < a->n && p16[i] < p) i++;
      a->start[p] = (int32_t)i;
    }
    for (int32_t i32 = 0; i32 < (int32_t)a->n; i32++) a->rows[i32] = i32;
    return 0;
  }
  if (p16) {
    for (int64_t i = 0; i < a->n; i++) a->start[p16[i] + 1]++;
  }
  for (int64_t i = 0; !p16 && i < a->n; i++) {
    int64_t pid;
    (void)col_int(&a->parent_id, i, &pid);
    a->start[pid + 1]++;
  }
  for (int64_t p = 1; p < nb; p++) a->start[p] += a->start[p - 1];
  if (sorted) {  // rows already grouped by parent, in order
    for (int64_t i = 0; i < a->n; i++) a->rows[i] = (int32_t)i;
    return 0;
  }
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
  struct otap_buffer* joined = &c->joined;
  b->size = 0;
  joined->size = 0;
  // Entries of the encoded attributes (pointers taken once b stops growing).
  int rc = otap_buffer_resize(&c->entries, (int64_t)(n + 1) * (int64_t)sizeof(struct entry),
                              false);
  if (rc) return otap_error_set(err, ENOMEM, "batch: out of memory (attribute set)");
  struct entry* e = (struct entry*)(void*)c->entries.data;
  for (int32_t k = 0; k < n; k++) {
    int64_t s0 = b->size;
    rc = encode_attr(a, a->rows[a->start[pid] + k], b);
    if (rc) return otap_error_set(err, ENOMEM, "batch: out of memory (attribute set)");
    e[k].len = b->size - s0;
  }
  int64_t at = 0;
  for (int32_t k = 0; k < n; k++) {
    e[k].p = b->data + at;
    at += e[k].len;
  }
  // Sets are small: insertion sort (canonical order whatever the input order).
  for (int32_t k = 1; k < n; k++) {
    struct entry x = e[k];
    int32_t j = k;
    for (; j > 0 && cmp_entry(&e[j - 1], &x) > 0; j--) e[j] = e[j - 1];
    e[j] = x;
  }
  rc = put_u32(joined, (uint32_t)n);
  for (int32_t k = 0; rc == 0 && k < n; k++) {
    rc = put_u32(joined, (uint32_t)e[k].len);
    if (rc == 0) rc = otap_buffer_append(joined, e[k].p, e[k].len);
  }
  if (rc) return otap_error_set(err, ENOMEM, "batch: out of memory (attribute set)");
  OTAP_RETURN_NOT_OK(otap__bintern_get(&c->asets, joined->data, joined->size, out, NULL, err));
  if (pid >= 0 && pid <= a->max_id) a->aset[pid] = *out;
  return 0;
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
  int rc = 0;
  otap_logs_payload_init(&in->dec);
  in->p = src;
  if (needs_decode(src)) {
    rc = copy_payload(src, &in->dec, err);
    if (rc) return otap_error_prefix(err, rc, "batch: input %lld: ", (long long)i);
    c->st->decoded_inputs++;
    rc = otap_logs_decode_ids(&in->dec, err);  // validates (structure, OTAP schema)
    if (rc) return otap_error_prefix(err, rc, "batch: input %lld: ", (long long)i);
    in->p = &in->dec;
  }
  // Views at DEFAULT level (buffer sizes, first/last offsets); every offset and dictionary key
  // the writers read is checked as it is read. The OTAP checks (schema, required columns,
  // type values) run over the same views.
  const struct otap_array_view* views[OTAP_LOGS_N_TABLES] = {NULL, NULL, NULL, NULL};
  for (int t = 0; t < OTAP_LOGS_N_TABLES; t++) {
    if (!otap_logs_payload_has_table(in->p, (enum otap_logs_table)t)) continue;
    OTAP_RETURN_NOT_OK(otap_array_view_init(&in->view[t], &in->p->schema[t], err));
    in->has[t] = true;
    rc = otap_array_view_set(&in->view[t], &in->p->batch[t], OTAP_VALIDATE_DEFAULT, err);
    if (rc) {
      return otap_error_prefix(err, rc, "batch: input %lld, table %s: ", (long long)i,
                               otap_logs_table_name((enum otap_logs_table)t));
    }
    views[t] = &in->view[t];
  }
  if (in->p == src) {
    struct otap_logs_validate_options vo;
    otap_logs_validate_options_init(&vo);
    vo.level = OTAP_VALIDATE_DEFAULT;
    rc = otap_logs_validate_views(src, views, &vo, err);
    if (rc) return otap_error_prefix(err, rc, "batch: input %lld: ", (long long)i);
  }
  for (int t = 0; t < OTAP_LOGS_N_TABLES; t++) {
    if (!in->has[t]) continue;
    if (!c->tc[t]) OTAP_RETURN_NOT_OK(otap__tcols_new(&c->tc[t], (enum otap_logs_table)t,
                                                      c->n_in, err));
    OTAP_RETURN_NOT_OK(otap__tcols_add(c->tc[t], i, &in->p->schema[t], err));
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

// Equal values of one column at rows r1 and r2 (both null counts as equal).
static inline bool col_same(const struct col* c, int64_t r1, int64_t r2, bool bytes) {
  if (!c->v) return true;
  const struct otap_array_view* v = c->v;
  if (!c->parent && !v->dictionary && !v->buffers[0]) {
    if (!bytes) return view_int(v, c->base + r1) == view_int(v, c->base + r2);
  } else if (v->dictionary && !c->parent && !v->buffers[0] && !v->dictionary->buffers[0]) {
    if (view_int(v, c->base + r1) == view_int(v, c->base + r2)) return true;
  }
  if (bytes) {
    const uint8_t *p1, *p2;
    int64_t l1, l2;
    bool b1 = col_bytes(c, r1, &p1, &l1), b2 = col_bytes(c, r2, &p2, &l2);
    return b1 == b2 && l1 == l2 && (p1 == p2 || memcmp(p1, p2, (size_t)l1) == 0);
  }
  int64_t a1, a2;
  bool n1 = col_int(c, r1, &a1), n2 = col_int(c, r2, &a2);
  return n1 == n2 && a1 == a2;
}

// Fast equality of one identity field between two rows of one input (typed, no nulls), or
// the generic col_same.
enum fkind { F_ABSENT, F_U32, F_KEY8, F_KEY16, F_STR, F_GENERIC };
struct fcmp {
  enum fkind kind;
  const struct col* c;
  const uint8_t* p;     // values / keys at row 0
  const int32_t* o;     // F_STR offsets at row 0
  const uint8_t* data;  // F_STR bytes
  bool bytes;
};

static void fcmp_init(struct fcmp* f, const struct col* c, bool bytes) {
  memset(f, 0, sizeof(*f));
  f->c = c;
  f->bytes = bytes;
  f->kind = F_GENERIC;
  const struct otap_array_view* v = c->v;
  if (!v) {
    f->kind = F_ABSENT;
    return;
  }
  if ((c->parent && c->parent->buffers[0] && c->parent->null_count > 0) ||
      (v->buffers[0] && v->null_count > 0))
    return;
  int64_t e0 = v->offset + c->base;
  if (v->dictionary) {
    if (v->storage_type == OTAP_TYPE_UINT8) {
      f->kind = F_KEY8;
      f->p = v->buffers[1] + e0;
    } else if (v->storage_type == OTAP_TYPE_UINT16) {
      f->kind = F_KEY16;
      f->p = v->buffers[1] + 2 * e0;
    }
    return;
  }
  if (!bytes && v->storage_type == OTAP_TYPE_UINT32) {
    f->kind = F_U32;
    f->p = v->buffers[1] + 4 * e0;
  } else if (bytes &&
             (v->storage_type == OTAP_TYPE_STRING || v->storage_type == OTAP_TYPE_BINARY)) {
    f->kind = F_STR;
    f->o = (const int32_t*)(const void*)v->buffers[1] + e0;
    f->data = v->buffers[2] ? v->buffers[2] : (const uint8_t*)"";
  }
}

#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline bool fcmp_eq(const struct fcmp* f, int64_t r1, int64_t r2) {
  switch (f->kind) {
    case F_ABSENT:
      return true;
    case F_U32: {
      uint32_t a, b;
      memcpy(&a, f->p + 4 * r1, 4);
      memcpy(&b, f->p + 4 * r2, 4);
      return a == b;
    }
    case F_KEY8:
      if (f->p[r1] == f->p[r2]) return true;
      break;
    case F_KEY16: {
      uint16_t a, b;
      memcpy(&a, f->p + 2 * r1, 2);
      memcpy(&b, f->p + 2 * r2, 2);
      if (a == b) return true;
      break;
    }
    case F_STR: {
      int32_t s1 = f->o[r1], l1 = f->o[r1 + 1] - s1, s2 = f->o[r2], l2 = f->o[r2 + 1] - s2;
      return l1 == l2 && (s1 == s2 || otap__same_bytes(f->data + s1, f->data + s2, l1));
    }
    default:
      break;
  }
  return col_same(f->c, r1, r2, f->bytes);
}

// eq[r] &= (field of row r == field of row r-1), for r in [1, n). Strings: rows r-1 .. e-1 of
// one length L hold equal values iff their bytes equal themselves shifted by L, so a run of
// equal values costs one memcmp over its bytes (offsets were checked: check_col_offsets).
static void fcmp_prev(const struct fcmp* f, int64_t n, uint8_t* eq) {
  if (f->kind == F_ABSENT) return;
  if (f->kind == F_U32) {  // branch-free, so it vectorizes
    const uint8_t* restrict p = f->p;
    uint8_t* restrict q = eq;
    for (int64_t r = 1; r < n; r++) {
      uint32_t a, b;
      memcpy(&a, p + 4 * r, 4);
      memcpy(&b, p + 4 * (r - 1), 4);
      q[r] &= (uint8_t)(a == b);
    }
    return;
  }
  if (f->kind != F_STR) {
    for (int64_t r = 1; r < n; r++) {
      if (eq[r]) eq[r] = fcmp_eq(f, r, r - 1);
    }
    return;
  }
  const int32_t* o = f->o;
  const uint8_t* d = f->data;
  int64_t r = 1;
  while (r < n) {
    if (!eq[r]) {
      r++;
      continue;
    }
    int32_t len = o[r] - o[r - 1];
    int64_t e = r;
    while (e < n && eq[e] && o[e + 1] - o[e] == len) e++;
    if (e > r && len > 0 &&
        memcmp(d + o[r - 1], d + o[r], (size_t)((int64_t)o[e] - o[r])) != 0) {
      for (int64_t x = r; x < e; x++) eq[x] = fcmp_eq(f, x, x - 1);
    }
    if (e < n && eq[e]) eq[e] = 0;  // stopped at a different length
    r = e + 1;
  }
}

// Reads a u16 id column (struct child or top level) into out (-1 = null); returns the largest
// id (-1 when every row is null).
static int32_t read_ids(const struct col* cl, int64_t n, int32_t* out) {
  const struct otap_array_view* v = cl->v;
  if (!v) {
    for (int64_t r = 0; r < n; r++) out[r] = -1;
  } else if (!v->dictionary && v->storage_type == OTAP_TYPE_UINT16) {
    const uint16_t* p = (const uint16_t*)(const void*)v->buffers[1] + v->offset + cl->base;
    for (int64_t r = 0; r < n; r++) out[r] = p[r];
    const uint8_t* vb = v->buffers[0];
    if (vb && v->null_count > 0) {
      for (int64_t r = 0; r < n; r++) {
        if (!otap_bit_get(vb, v->offset + cl->base + r)) out[r] = -1;
      }
    }
    if (cl->parent && cl->parent->buffers[0] && cl->parent->null_count > 0) {
      for (int64_t r = 0; r < n; r++) {
        if (otap_view_is_null(cl->parent, cl->pbase + r)) out[r] = -1;
      }
    }
  } else {
    for (int64_t r = 0; r < n; r++) {
      int64_t x;
      out[r] = col_int(cl, r, &x) ? (int32_t)x : -1;
    }
  }
  int32_t mx = -1;
  for (int64_t r = 0; r < n; r++) mx = out[r] > mx ? out[r] : mx;
  return mx;
}

// Class of row r (local id `local`) of resource (k = 0) or scope (k = 1) by content.
static int slow_class(struct ctx* c, int64_t i, int k, int64_t r, int32_t local,
                      const struct col* url, const struct col* sname, const struct col* sversion,
                      const struct col* dropped, int32_t* out, struct otap_error* err) {
  struct input* in = &c->in[i];
  struct otap_buffer* key = &c->scratch;
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
    if (rc == 0) rc = put_field_bytes(key, url, r);
  } else {
    if (rc == 0) rc = put_field_bytes(key, sname, r);
    if (rc == 0) rc = put_field_bytes(key, sversion, r);
  }
  if (rc == 0) rc = put_field_int(key, dropped, r);
  OTAP_RETURN_IF(rc, err, ENOMEM, "batch: out of memory (class key)");
  bool added;
  OTAP_RETURN_NOT_OK(otap__bintern_get(&c->classes[k], key->data, key->size, out, &added, err));
  if (added) OTAP_RETURN_NOT_OK(push_rep(c, k, *out, i, local, err));
  return 0;
}

// Makes the resource/scope memo (k) hold local ids up to n - 2 (entry = local id + 1); new
// entries start unset.
static int memo_reserve(struct ctx* c, int k, int64_t n, struct otap_error* err) {
  if (n <= c->memo_cap[k]) return 0;
  int64_t cap = c->memo_cap[k] ? c->memo_cap[k] : 64;
  while (cap < n) cap *= 2;
  int32_t* mc = otap_realloc(c->memo_cls[k], (size_t)cap * sizeof(int32_t));
  if (mc) c->memo_cls[k] = mc;
  int32_t* mr = mc ? otap_realloc(c->memo_row[k], (size_t)cap * sizeof(int32_t)) : NULL;
  if (mr) c->memo_row[k] = mr;
  OTAP_RETURN_IF(!mr, err, ENOMEM, "batch: out of memory (class memo)");
  for (int64_t q = c->memo_cap[k]; q < cap; q++) mc[q] = -1;
  c->memo_cap[k] = cap;
  return 0;
}

// Per LOGS row: input, plain id, resource and scope local ids and classes; the input's
// id -> row map (duplicate ids rejected); orphan attribute rows counted. `seen` (three id
// bitmaps) is zero on entry and left zero.
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
  const struct ArrowSchema* s = &in->p->schema[OTAP_LOGS_LOGS];
  int64_t n = in->n_logs, g0 = in->row0;
  struct col id = find_col(v, s, "id", NULL);
  static const char* const kStruct[2] = {"resource", "scope"};
  struct col sid[2], dropped[2];
  for (int k = 0; k < 2; k++) {
    sid[k] = find_col(v, s, kStruct[k], "id");
    dropped[k] = find_col(v, s, kStruct[k], "dropped_attributes_count");
  }
  struct col url = find_col(v, s, "resource", "schema_url");
  struct col sname = find_col(v, s, "scope", "name");
  struct col sversion = find_col(v, s, "scope", "version");
  OTAP_RETURN_NOT_OK(check_col_offsets(&url, i, "LOGS", "resource.schema_url", err));
  OTAP_RETURN_NOT_OK(check_col_offsets(&sname, i, "LOGS", "scope.name", err));
  OTAP_RETURN_NOT_OK(check_col_offsets(&sversion, i, "LOGS", "scope.version", err));
  int32_t maxl_seen[2] = {-1, -1};  // largest resource / scope local id
  // LOGS.id -> row.
  int32_t* lid = c->log_id + g0;
  int32_t mx = read_ids(&id, n, lid);
  in->max_id = mx;
  in->id2row = otap_malloc((size_t)(mx + 2) * sizeof(int32_t));
  OTAP_RETURN_IF(!in->id2row, err, ENOMEM, "batch: out of memory (id index)");
  for (int32_t q = 0; q <= mx; q++) in->id2row[q] = -1;
  for (int64_t r = 0; r < n; r++) {
    int32_t x = lid[r];
    c->row_input[g0 + r] = (int32_t)i;
    if (x < 0) continue;
    OTAP_RETURN_IF(in->id2row[x] >= 0, err, EINVAL,
                   "batch: input %lld, table LOGS, row %lld: duplicate id %lld (ids must be "
                   "unique within a payload)",
                   (long long)i, (long long)r, (long long)x);
    in->id2row[x] = (int32_t)r;
    otap_bit_set(seen, x);
  }
  // Resource and scope classes: the previous row, then a memo per local id, decide most rows
  // without hashing.
  for (int k = 0; k < 2; k++) {
    int32_t* loc = c->local[k] + g0;
    int32_t* cls = c->cls[k] + g0;
    int32_t maxl = read_ids(&sid[k], n, loc);
    maxl_seen[k] = maxl;
    OTAP_RETURN_NOT_OK(memo_reserve(c, k, (int64_t)maxl + 2, err));
    int32_t* mc = c->memo_cls[k];
    int32_t* mr = c->memo_row[k];
    struct fcmp f1, f2, f3;
    fcmp_init(&f1, k == 0 ? &url : &sname, true);
    fcmp_init(&f2, &sversion, true);
    if (k == 0) f2.kind = F_ABSENT;
    fcmp_init(&f3, &dropped[k], false);
    // Rows equal to the previous one (same local id and fields), field by field.
    OTAP_RETURN_IF(otap_buffer_resize(&c->prev_eq, n > 0 ? n : 1, false), err, ENOMEM,
                   "batch: out of memory (classes)");
    uint8_t* eq = c->prev_eq.data;
    eq[0] = 0;
    for (int64_t r = 1; r < n; r++) eq[r] = loc[r] == loc[r - 1];
    fcmp_prev(&f1, n, eq);
    fcmp_prev(&f2, n, eq);
    fcmp_prev(&f3, n, eq);
    for (int64_t r = 0; r < n; r++) {
      int32_t local = loc[r];
      if (eq[r]) {
        cls[r] = cls[r - 1];
        continue;
      }
      int32_t m = local + 1;
      if (mc[m] >= 0) {
        int64_t r0 = mr[m];
        if (fcmp_eq(&f1, r, r0) && fcmp_eq(&f2, r, r0) && fcmp_eq(&f3, r, r0)) {
          cls[r] = mc[m];
          continue;
        }
      }
      if (local >= 0 && !otap_bit_get(seen + 8192 * (k + 1), local)) {
        otap_bit_set(seen + 8192 * (k + 1), local);
        if (k == 0) c->st->input_resources++; else c->st->input_scopes++;
      }
      int32_t cl;
      OTAP_RETURN_NOT_OK(slow_class(c, i, k, r, local, &url, &sname, &sversion, &dropped[k],
                                    &cl, err));
      cls[r] = cl;
      mc[m] = cl;
      mr[m] = (int32_t)r;
    }
    // Reset the memo entries this input set.
    for (int64_t r = 0; r < n; r++) mc[loc[r] + 1] = -1;
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
  // Leave the bitmaps zero for the next input: only the bytes of the ids set here.
  int32_t top[K_N] = {mx, maxl_seen[0], maxl_seen[1]};
  for (int k = 0; k < K_N; k++) {
    if (top[k] >= 0) memset(seen + 8192 * k, 0, (size_t)(top[k] >> 3) + 1);
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
      const struct ArrowSchema* s = &in->p->schema[OTAP_LOGS_LOGS];
      static const char* const kCol[OTAP_BATCH_KEY_COUNT_] = {
          NULL, NULL, "trace_id", "span_id", "event_name", "severity_number",
          "time_unix_nano", "observed_time_unix_nano"};
      struct col cl = kCol[key] ? find_col(v, s, kCol[key], NULL) : (struct col){0};
      if (kCol[key]) OTAP_GOTO_NOT_OK(rc, check_col_offsets(&cl, i, "LOGS", kCol[key], err));
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
// Placement: output positions, new ids, copy runs

int otap__runs_add(struct otap__runs* rs, int64_t src, int64_t dst, int32_t len,
                   struct otap_error* err) {
  if (rs->n == rs->cap) {
    int64_t nc = rs->cap ? rs->cap * 2 : 16;
    struct otap__run* g = otap_realloc(rs->r, (size_t)nc * sizeof(*g));
    OTAP_RETURN_IF(!g, err, ENOMEM, "batch: out of memory (copy runs)");
    rs->r = g;
    rs->cap = nc;
  }
  rs->r[rs->n].src = (int32_t)src;
  rs->r[rs->n].len = len;
  rs->r[rs->n].dst = dst;
  rs->n++;
  return 0;
}

static int region_init(struct otap__region* r, int64_t k, const int64_t* n,
                       struct otap_error* err) {
  r->k = k;
  r->n = otap_malloc((size_t)(k + 1) * sizeof(int64_t));
  r->pstart = otap_malloc((size_t)(k + 1) * sizeof(int64_t));
  OTAP_RETURN_IF(!r->n || !r->pstart, err, ENOMEM, "batch: out of memory (regions)");
  int64_t total = 0;
  for (int64_t q = 0; q < k; q++) {
    r->n[q] = n[q];
    r->pstart[q] = total;
    total += (n[q] + 1 + OTAP__REGION_ALIGN - 1) & ~(int64_t)(OTAP__REGION_ALIGN - 1);
  }
  r->total = total;
  r->kblock = otap_malloc((size_t)(total / OTAP__REGION_ALIGN + 1) * sizeof(int32_t));
  OTAP_RETURN_IF(!r->kblock, err, ENOMEM, "batch: out of memory (regions)");
  for (int64_t q = 0; q < k; q++) {
    int64_t b0 = r->pstart[q] / OTAP__REGION_ALIGN;
    int64_t b1 = (q + 1 < k ? r->pstart[q + 1] : total) / OTAP__REGION_ALIGN;
    for (int64_t b = b0; b < b1; b++) r->kblock[b] = (int32_t)q;
  }
  return 0;
}

static void region_free(struct otap__region* r) {
  otap_free(r->n);
  otap_free(r->pstart);
  otap_free(r->kblock);
  memset(r, 0, sizeof(*r));
}

struct place {
  struct otap__region reg[OTAP_LOGS_N_TABLES];
  struct otap__runs* runs[OTAP_LOGS_N_TABLES];  // per input
  int64_t* n_rows[OTAP_LOGS_N_TABLES];          // rows per output
  int64_t* plog;   // per global row: output position
  int32_t* newid;  // per global row: new LOGS.id (-1 null)
  int64_t* acur;   // per global row: first log attribute position within its output
  int32_t* stamp[2];
  int32_t* newc[2];
  int32_t* used[2];      // classes used, output after output
  int64_t* used_off[2];  // K + 1 offsets into used
};

static void place_free(struct place* pl, int64_t n_in) {
  for (int t = 0; t < OTAP_LOGS_N_TABLES; t++) {
    region_free(&pl->reg[t]);
    for (int64_t i = 0; pl->runs[t] && i < n_in; i++) otap_free(pl->runs[t][i].r);
    otap_free(pl->runs[t]);
    otap_free(pl->n_rows[t]);
  }
  otap_free(pl->plog);
  otap_free(pl->newid);
  otap_free(pl->acur);
  for (int q = 0; q < 2; q++) {
    otap_free(pl->stamp[q]);
    otap_free(pl->newc[q]);
    otap_free(pl->used[q]);
    otap_free(pl->used_off[q]);
  }
}

static int place_logs(struct ctx* c, struct place* pl, int64_t K, int64_t max,
                      struct otap_error* err) {
  int64_t n = c->n_rows;
  struct otap__tcols* tc = c->tc[OTAP_LOGS_LOGS];
  for (int64_t k = 0; k < K; k++) {
    pl->n_rows[OTAP_LOGS_LOGS][k] = n - k * max < max ? n - k * max : max;
  }
  OTAP_RETURN_NOT_OK(region_init(&pl->reg[OTAP_LOGS_LOGS], K, pl->n_rows[OTAP_LOGS_LOGS], err));
  const struct otap__region* reg = &pl->reg[OTAP_LOGS_LOGS];
  for (int64_t i = 0; i < c->n_in; i++) {
    struct input* in = &c->in[i];
    if (in->n_logs > 0) otap__tcols_bind(tc, i, &in->view[OTAP_LOGS_LOGS],
                                         &in->p->schema[OTAP_LOGS_LOGS]);
  }
  OTAP_RETURN_NOT_OK(otap__tcols_alloc(tc, reg, err));
  uint16_t* ids[3];
  uint8_t* bits[3] = {NULL, NULL, NULL};
  static const enum otap__col_role kRoles[3] = {OTAP__ROLE_LOG_ID, OTAP__ROLE_RESOURCE_ID,
                                                OTAP__ROLE_SCOPE_ID};
  for (int q = 0; q < 3; q++) ids[q] = otap__tcols_id_values(tc, kRoles[q]);
  for (int q = 0; q < 2; q++) {
    int64_t nc = c->classes[q].n > 0 ? c->classes[q].n : 1;
    pl->stamp[q] = otap_calloc((size_t)nc, sizeof(int32_t));
    pl->newc[q] = otap_malloc((size_t)nc * sizeof(int32_t));
    pl->used[q] = otap_malloc((size_t)(n + 1) * sizeof(int32_t));
    pl->used_off[q] = otap_calloc((size_t)K + 1, sizeof(int64_t));
    OTAP_RETURN_IF(!pl->stamp[q] || !pl->newc[q] || !pl->used[q] || !pl->used_off[q], err,
                   ENOMEM, "batch: out of memory (classes)");
  }
  int64_t* n_la = pl->n_rows[OTAP_LOGS_LOG_ATTRS];
  int64_t n_used[2] = {0, 0};
  for (int64_t k = 0; k < K; k++) {
    int64_t p0 = reg->pstart[k], nk = reg->n[k];
    const int32_t* ord = c->order + k * max;
    int32_t next = 0;
    int64_t acnt = 0;
    int32_t tag = (int32_t)k + 1;
    for (int64_t j = 0; j < nk; j++) {
      int64_t g = ord[j];
      int64_t P = p0 + j;
      pl->plog[g] = P;
      int32_t old = c->log_id[g];
      if (old >= 0) {
        const struct attr_index* a = &c->in[c->row_input[g]].ai[K_LOG];
        pl->newid[g] = next;
        if (ids[0]) ids[0][P] = (uint16_t)next;
        next++;
        pl->acur[g] = acnt;
        acnt += attr_count(a, old);
      } else {
        pl->newid[g] = -1;
        if (ids[0]) {
          ids[0][P] = 0;
          if (!bits[0]) bits[0] = otap__tcols_id_bits(tc, kRoles[0], true);
          OTAP_RETURN_IF(!bits[0], err, ENOMEM, "batch: out of memory (id validity)");
          otap_bit_clear(bits[0], P);
        }
      }
      for (int q = 0; q < 2; q++) {
        int32_t cl = c->cls[q][g];
        if (pl->stamp[q][cl] != tag) {
          pl->stamp[q][cl] = tag;
          pl->newc[q][cl] = (int32_t)(n_used[q] - pl->used_off[q][k]);
          pl->used[q][n_used[q]++] = cl;
        }
        if (!ids[q + 1]) continue;
        if (c->local[q][g] >= 0) {
          ids[q + 1][P] = (uint16_t)pl->newc[q][cl];
        } else {
          ids[q + 1][P] = 0;
          if (!bits[q + 1]) bits[q + 1] = otap__tcols_id_bits(tc, kRoles[q + 1], true);
          OTAP_RETURN_IF(!bits[q + 1], err, ENOMEM, "batch: out of memory (id validity)");
          otap_bit_clear(bits[q + 1], P);
        }
      }
    }
    n_la[k] = acnt;
    for (int q = 0; q < 2; q++) {
      pl->used_off[q][k + 1] = n_used[q];
      int64_t cnt = 0;
      for (int64_t m = pl->used_off[q][k]; m < n_used[q]; m++) {
        int32_t cl = pl->used[q][m];
        int32_t local = c->rep_local[q][cl];
        if (local >= 0) {
          cnt += attr_count(&c->in[c->rep_input[q][cl]].ai[q == 0 ? K_RES : K_SCOPE], local);
        }
      }
      pl->n_rows[q == 0 ? OTAP_LOGS_RESOURCE_ATTRS : OTAP_LOGS_SCOPE_ATTRS][k] = cnt;
    }
    c->st->output_resources += pl->used_off[0][k + 1] - pl->used_off[0][k];
    c->st->output_scopes += pl->used_off[1][k + 1] - pl->used_off[1][k];
  }
  // Copy runs of every input's LOGS rows.
  struct otap__runs* runs = pl->runs[OTAP_LOGS_LOGS];
  for (int64_t i = 0; i < c->n_in; i++) {
    struct input* in = &c->in[i];
    const int64_t* P = pl->plog + in->row0;
    for (int64_t r = 0; r < in->n_logs; r++) {
      OTAP_RETURN_NOT_OK(otap__runs_push(&runs[i], r, P[r], err));
    }
  }
  return 0;
}

static int place_attrs(struct ctx* c, struct place* pl, int kind, int64_t K,
                       struct otap_error* err) {
  enum otap_logs_table t = kAttrTable[kind];
  struct otap__tcols* tc = c->tc[t];
  if (!tc) return 0;
  OTAP_RETURN_NOT_OK(region_init(&pl->reg[t], K, pl->n_rows[t], err));
  const struct otap__region* reg = &pl->reg[t];
  for (int64_t i = 0; i < c->n_in; i++) {
    struct input* in = &c->in[i];
    if (in->has[t] && in->n_logs > 0) otap__tcols_bind(tc, i, &in->view[t], &in->p->schema[t]);
  }
  OTAP_RETURN_NOT_OK(otap__tcols_alloc(tc, reg, err));
  uint16_t* pid = otap__tcols_id_values(tc, OTAP__ROLE_PARENT_ID);
  OTAP_RETURN_IF(!pid, err, EINVAL, "batch: table %s has no parent_id column",
                 otap_logs_table_name(t));
  struct otap__runs* runs = pl->runs[t];
  if (kind == K_LOG) {
    for (int64_t i = 0; i < c->n_in; i++) {
      struct input* in = &c->in[i];
      const struct attr_index* a = &in->ai[K_LOG];
      if (!in->has[t] || in->n_logs == 0) continue;
      for (int64_t p = 0; p <= a->max_id; p++) {
        int32_t cnt = attr_count(a, p);
        if (cnt == 0 || p > in->max_id || in->id2row[p] < 0) continue;
        int64_t g = in->row0 + in->id2row[p];
        int64_t kg = pl->reg[OTAP_LOGS_LOGS].kblock[pl->plog[g] >> OTAP__REGION_SHIFT];
        int64_t base = reg->pstart[kg] + pl->acur[g];
        uint16_t np = (uint16_t)pl->newid[g];
        const int32_t* rows = a->rows + a->start[p];
        for (int32_t q = 0; q < cnt; q++) pid[base + q] = np;
        if (rows[cnt - 1] - rows[0] == cnt - 1) {  // increasing rows: consecutive ones
          OTAP_RETURN_NOT_OK(otap__runs_push_n(&runs[i], rows[0], base, cnt, err));
          continue;
        }
        for (int32_t q = 0; q < cnt; q++) {
          OTAP_RETURN_NOT_OK(otap__runs_push(&runs[i], rows[q], base + q, err));
        }
      }
    }
    return 0;
  }
  int q = kind == K_RES ? 0 : 1;
  for (int64_t k = 0; k < K; k++) {
    int64_t pos = reg->pstart[k];
    for (int64_t m = pl->used_off[q][k]; m < pl->used_off[q][k + 1]; m++) {
      int32_t cl = pl->used[q][m];
      int32_t local = c->rep_local[q][cl];
      if (local < 0) continue;
      int64_t i = c->rep_input[q][cl];
      const struct attr_index* a = &c->in[i].ai[kind];
      int32_t cnt = attr_count(a, local);
      if (cnt == 0) continue;
      const int32_t* rows = a->rows + a->start[local];
      uint16_t np = (uint16_t)(m - pl->used_off[q][k]);
      for (int32_t x = 0; x < cnt; x++, pos++) {
        OTAP_RETURN_NOT_OK(otap__runs_push(&runs[i], rows[x], pos, err));
        pid[pos] = np;
      }
    }
  }
  return 0;
}

static int encode_meta(struct ctx* c, struct otap_buffer* meta) {
  otap_batch_format_sort(c->o, c->sort_text, sizeof(c->sort_text));
  struct otap_metadata_entry e[2] = {
      {"otap.batch.sort", 15, c->sort_text, (int32_t)strlen(c->sort_text)},
      {"otap.batch.dedup", 16, c->o->dedup ? "true" : "false", c->o->dedup ? 4 : 5},
  };
  return otap_metadata_encode(meta, e, 2);
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

static void ctx_free(struct ctx* c) {
  for (int64_t i = 0; c->in && i < c->n_in; i++) {
    struct input* in = &c->in[i];
    for (int k = 0; k < K_N; k++) {
      otap_free(in->ai[k].start);
      otap_free(in->ai[k].rows);
      otap_free(in->ai[k].aset);
    }
    for (int t = 0; t < OTAP_LOGS_N_TABLES; t++) otap_array_view_reset(&in->view[t]);
    otap_free(in->id2row);
    otap_logs_payload_reset(&in->dec);
  }
  otap_free(c->in);
  otap_free(c->row_input);
  otap_free(c->log_id);
  for (int k = 0; k < 2; k++) {
    otap_free(c->local[k]);
    otap_free(c->cls[k]);
    otap_free(c->rep_input[k]);
    otap_free(c->rep_local[k]);
    otap_free(c->memo_cls[k]);
    otap_free(c->memo_row[k]);
    otap__bintern_reset(&c->classes[k]);
  }
  otap__bintern_reset(&c->asets);
  for (int t = 0; t < OTAP_LOGS_N_TABLES; t++) otap__tcols_free(c->tc[t]);
  otap_free(c->order);
  otap_buffer_reset(&c->scratch);
  otap_buffer_reset(&c->joined);
  otap_buffer_reset(&c->entries);
  otap_buffer_reset(&c->prev_eq);
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
  otap__bintern_init(&c.asets);
  otap__bintern_init(&c.classes[0]);
  otap__bintern_init(&c.classes[1]);
  struct otap_logs_payload* outs = NULL;
  int64_t n_outs = 0;
  struct place pl;
  memset(&pl, 0, sizeof(pl));
  uint8_t* seen = NULL;
  struct otap_buffer meta;
  otap_buffer_init(&meta);
  int rc = 0;
  c.in = otap_calloc((size_t)(n_in > 0 ? n_in : 1), sizeof(struct input));
  seen = otap_calloc(3, 8192);  // index_rows clears what it sets
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
  OTAP_GOTO_NOT_OK(rc, build_order(&c, err));
  if (encode_meta(&c, &meta)) {
    rc = otap_error_set(err, ENOMEM, "batch: out of memory (metadata)");
    goto done;
  }
  int64_t max = options->max_items;
  n_outs = (n + max - 1) / max;
  for (int t = 0; t < OTAP_LOGS_N_TABLES; t++) {
    pl.runs[t] = otap_calloc((size_t)(n_in > 0 ? n_in : 1), sizeof(struct otap__runs));
    pl.n_rows[t] = otap_calloc((size_t)n_outs + 1, sizeof(int64_t));
    if (!pl.runs[t] || !pl.n_rows[t]) rc = ENOMEM;
  }
  pl.plog = otap_malloc(rn * sizeof(int64_t));
  pl.newid = otap_malloc(rn * sizeof(int32_t));
  pl.acur = otap_malloc(rn * sizeof(int64_t));
  outs = otap_calloc((size_t)n_outs, sizeof(*outs));
  if (rc || !pl.plog || !pl.newid || !pl.acur || !outs) {
    rc = otap_error_set(err, ENOMEM, "batch: out of memory (output placement)");
    goto done;
  }
  OTAP_GOTO_NOT_OK(rc, place_logs(&c, &pl, n_outs, max, err));
  for (int kind = 0; kind < K_N; kind++) {
    OTAP_GOTO_NOT_OK(rc, place_attrs(&c, &pl, kind, n_outs, err));
  }
  for (int t = 0; t < OTAP_LOGS_N_TABLES; t++) {
    if (!c.tc[t] || !pl.reg[t].n) continue;
    OTAP_GOTO_NOT_OK(rc, otap__tcols_write(c.tc[t], pl.runs[t], c.o->exact_dictionaries, err));
  }
  for (int64_t k = 0; k < n_outs; k++) {
    for (int t = 0; t < OTAP_LOGS_N_TABLES; t++) {
      if (!c.tc[t] || !pl.reg[t].n || pl.reg[t].n[k] == 0) continue;
      struct ArrowSchema os;
      struct ArrowArray oa;
      rc = otap__tcols_emit(c.tc[t], k, t == OTAP_LOGS_LOGS ? (const char*)meta.data : NULL, &os,
                            &oa, err);
      if (rc) {
        otap_error_prefix(err, rc, "batch: output %lld: ", (long long)k);
        goto done;
      }
      otap_logs_payload_set_table(&outs[k], (enum otap_logs_table)t, &os, &oa);
    }
    stats->output_records += pl.reg[OTAP_LOGS_LOGS].n[k];
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
  place_free(&pl, n_in);
  otap_free(seen);
  otap_buffer_reset(&meta);
  ctx_free(&c);
  return rc;
}
