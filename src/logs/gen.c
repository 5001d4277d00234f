// Deterministic seeded generator of OTAP logs payloads (tests, benchmarks, `otap gen logs`).
//
// Values are first produced per column into plain C vectors (strings in an arena), then each
// column is built as a native or dictionary Arrow array (distinct counts decide key widths).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logs/logs_internal.h"

// ---------------------------------------------------------------------------------------------
// Random numbers (splitmix64: tiny, seedable, identical everywhere)

struct rng {
  uint64_t s;
};
static uint64_t rng_next(struct rng* r) {
  uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
static uint64_t mix(uint64_t a, uint64_t b) {
  struct rng r = {a ^ (b * 0xd6e8feb86659fd93ull)};
  return rng_next(&r);
}
static int64_t rng_below(struct rng* r, int64_t n) { return n <= 0 ? 0 : (int64_t)(rng_next(r) % (uint64_t)n); }
static bool rng_percent(struct rng* r, int32_t pct) { return rng_below(r, 100) < pct; }

// ---------------------------------------------------------------------------------------------
// Column vectors

enum gkind { GK_STR, GK_BIN, GK_FSB, GK_I64, GK_U, GK_F64, GK_BOOL };

struct gval {
  int64_t i;   // ints, bools, arena offset for bytes
  double d;
  int32_t len; // bytes length
  uint8_t null;
};

struct gcol {
  const char* name;
  const char* format;        // native format
  enum otap__logs_dict dict;  // allowed dictionary keys
  enum gkind kind;
  const char* encoding;      // field metadata `encoding` value or NULL
  struct gval* v;
  int64_t n, cap;
  bool present;
  // Struct columns: children.
  struct gcol* children;
  int n_children;
};

struct gctx {
  struct rng rng;
  const struct otap_logs_gen_options* o;
  struct otap_buffer arena;
  int err_rc;
};

static int gcol_push(struct gcol* c, struct gval v) {
  if (c->n == c->cap) {
    int64_t nc = c->cap ? c->cap * 2 : 64;
    void* p = otap_realloc(c->v, (size_t)nc * sizeof(*c->v));
    if (!p) return ENOMEM;
    c->v = p;
    c->cap = nc;
  }
  c->v[c->n++] = v;
  return 0;
}

static int push_null(struct gcol* c) {
  struct gval v = {0, 0, 0, 1};
  return gcol_push(c, v);
}
static int push_int(struct gcol* c, int64_t x) {
  struct gval v = {x, 0, 0, 0};
  return gcol_push(c, v);
}
static int push_double(struct gcol* c, double x) {
  struct gval v = {0, x, 0, 0};
  return gcol_push(c, v);
}
static int push_bytes(struct gctx* g, struct gcol* c, const void* data, int64_t len) {
  struct gval v = {g->arena.size, 0, (int32_t)len, 0};
  OTAP_RETURN_NOT_OK(otap_buffer_append(&g->arena, data, len));
  return gcol_push(c, v);
}
static int push_str(struct gctx* g, struct gcol* c, const char* s) {
  return push_bytes(g, c, s, (int64_t)strlen(s));
}

static void gcol_free(struct gcol* c) {
  otap_free(c->v);
  for (int i = 0; i < c->n_children; i++) gcol_free(&c->children[i]);
  c->v = NULL;
}

// ---------------------------------------------------------------------------------------------
// Distinct counting (open addressing over value bytes)

struct gset {
  uint64_t* hashes;
  int64_t* rows;  // representative row + 1 (0 = empty)
  int64_t cap, n;
};

static uint64_t hash_bytes(const uint8_t* p, int64_t n) {
  uint64_t h = 1469598103934665603ull ^ (uint64_t)n;
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    memcpy(&w, p + i, 8);
    h = (h ^ w) * 0x9e3779b97f4a7c15ull;
    h ^= h >> 32;
  }
  for (; i < n; i++) h = (h ^ p[i]) * 1099511628211ull;
  return h ^ (h >> 29);
}

static bool gval_eq(const struct gctx* g, enum gkind k, const struct gval* a, const struct gval* b) {
  if (k == GK_STR || k == GK_BIN || k == GK_FSB) {
    return a->len == b->len &&
           memcmp(g->arena.data + a->i, g->arena.data + b->i, (size_t)a->len) == 0;
  }
  if (k == GK_F64) return memcmp(&a->d, &b->d, sizeof(double)) == 0;
  return a->i == b->i;
}
static uint64_t gval_hash(const struct gctx* g, enum gkind k, const struct gval* a) {
  if (k == GK_STR || k == GK_BIN || k == GK_FSB) return hash_bytes(g->arena.data + a->i, a->len);
  if (k == GK_F64) return hash_bytes((const uint8_t*)&a->d, 8);
  return hash_bytes((const uint8_t*)&a->i, 8);
}

// Looks up row r's value; inserts when new. Returns the dictionary index of the value.
static int gset_index(struct gctx* g, struct gset* s, const struct gcol* c, int64_t r,
                      int64_t* index_of_row, int64_t* out) {
  if ((s->n + 1) * 2 > s->cap) {
    int64_t nc = s->cap ? s->cap * 2 : 1024;
    uint64_t* nh = otap_calloc((size_t)nc, sizeof(uint64_t));
    int64_t* nr = otap_calloc((size_t)nc, sizeof(int64_t));
    if (!nh || !nr) {
      otap_free(nh);
      otap_free(nr);
      return ENOMEM;
    }
    for (int64_t i = 0; i < s->cap; i++) {
      if (!s->rows[i]) continue;
      int64_t j = (int64_t)(s->hashes[i] & (uint64_t)(nc - 1));
      while (nr[j]) j = (j + 1) & (nc - 1);
      nh[j] = s->hashes[i];
      nr[j] = s->rows[i];
    }
    otap_free(s->hashes);
    otap_free(s->rows);
    s->hashes = nh;
    s->rows = nr;
    s->cap = nc;
  }
  uint64_t h = gval_hash(g, c->kind, &c->v[r]);
  int64_t j = (int64_t)(h & (uint64_t)(s->cap - 1));
  while (s->rows[j]) {
    int64_t rr = s->rows[j] - 1;
    if (s->hashes[j] == h && gval_eq(g, c->kind, &c->v[rr], &c->v[r])) {
      *out = index_of_row[rr];
      return 0;
    }
    j = (j + 1) & (s->cap - 1);
  }
  s->hashes[j] = h;
  s->rows[j] = r + 1;
  *out = s->n++;
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Building Arrow arrays from column vectors

static int append_value(struct gctx* g, struct ArrowArray* a, const struct gcol* c,
                        const struct gval* v) {
  if (v->null) return otap_array_append_null(a, 1);
  switch (c->kind) {
    case GK_STR:
    case GK_BIN:
    case GK_FSB:
      return otap_array_append_bytes(a, g->arena.data + v->i, v->len);
    case GK_F64:
      return otap_array_append_double(a, v->d);
    case GK_U:
      return otap_array_append_uint(a, (uint64_t)v->i);
    default:
      return otap_array_append_int(a, v->i);
  }
}

// Chooses native / u8 / u16 dictionary for a column; fills index_of_row and n_distinct.
static int choose_dict(struct gctx* g, const struct gcol* c, int64_t** index_of_row,
                       int64_t* n_distinct, const char** key_format) {
  *key_format = NULL;
  *index_of_row = NULL;
  if (c->dict == OTAP__DICT_NO || g->o->dict == OTAP_LOGS_GEN_DICT_NEVER) return 0;
  int choice = 2;  // 0 native, 1 smallest, 2 u16
  if (g->o->dict == OTAP_LOGS_GEN_DICT_AUTO) {
    choice = (int)rng_below(&g->rng, 3);
    if (choice == 0) return 0;
  } else {
    choice = 1;
  }
  int64_t* idx = otap_malloc((size_t)(c->n ? c->n : 1) * sizeof(int64_t));
  struct gset s = {0};
  if (!idx) return ENOMEM;
  int rc = 0;
  for (int64_t r = 0; r < c->n; r++) {
    idx[r] = -1;
    if (c->v[r].null) continue;
    OTAP_GOTO_NOT_OK(rc, gset_index(g, &s, c, r, idx, &idx[r]));
  }
  *n_distinct = s.n;
  if (s.n <= 256 && c->dict == OTAP__DICT_U8 && choice == 1) {
    *key_format = "C";
  } else if (s.n <= 65536) {
    *key_format = "S";
  }
done:
  otap_free(s.hashes);
  otap_free(s.rows);
  if (rc || !*key_format) {
    otap_free(idx);
    idx = NULL;
    *key_format = NULL;
  }
  *index_of_row = idx;
  return rc;
}

// Initializes field schema `f` for column c (chooses the dictionary encoding) and remembers the
// choice in *idx_out / *key_out.
static int column_schema(struct gctx* g, const struct gcol* c, struct ArrowSchema* f,
                         int64_t** idx_out, int64_t* n_distinct) {
  int rc = 0;
  if (c->children) {
    OTAP_RETURN_NOT_OK(otap_schema_init(f, "+s"));
    OTAP_GOTO_NOT_OK(rc, otap_schema_set_name(f, c->name));
    int n = 0;
    for (int i = 0; i < c->n_children; i++) n += c->children[i].present;
    OTAP_GOTO_NOT_OK(rc, otap_schema_allocate_children(f, n));
    return 0;
  }
  const char* key;
  OTAP_RETURN_NOT_OK(choose_dict(g, c, idx_out, n_distinct, &key));
  OTAP_RETURN_NOT_OK(otap_schema_init(f, key ? key : c->format));
  OTAP_GOTO_NOT_OK(rc, otap_schema_set_name(f, c->name));
  if (key) {
    OTAP_GOTO_NOT_OK(rc, otap_schema_allocate_dictionary(f));
    OTAP_GOTO_NOT_OK(rc, otap_schema_init(f->dictionary, c->format));
  }
  if (c->encoding) OTAP_GOTO_NOT_OK(rc, otap__set_encoding_metadata(f, c->encoding));
  if (strcmp(c->name, "type") == 0 || strcmp(c->name, "parent_id") == 0 ||
      strcmp(c->name, "key") == 0) {
    f->flags &= ~(int64_t)ARROW_FLAG_NULLABLE;
  }
  return 0;
done:
  otap_free(*idx_out);
  *idx_out = NULL;
  return rc;
}

#define MAX_STRUCT_CHILDREN 16

// Appends row r of column c; for dictionary columns (idx set) a value's first appearance also
// appends it to the dictionary (*next counts the dictionary values so far).
static int append_row(struct gctx* g, const struct gcol* c, struct ArrowArray* a,
                      const int64_t* idx, int64_t r, int64_t* next) {
  if (!idx) return append_value(g, a, c, &c->v[r]);
  if (c->v[r].null) return otap_array_append_null(a, 1);
  if (idx[r] == *next) {
    OTAP_RETURN_NOT_OK(append_value(g, a->dictionary, c, &c->v[r]));
    (*next)++;
  }
  return otap_array_append_int(a, idx[r]);
}

static int fill_column(struct gctx* g, const struct gcol* c, struct ArrowArray* a,
                       const int64_t* idx) {
  int64_t next = 0;
  for (int64_t r = 0; r < c->n; r++) OTAP_RETURN_NOT_OK(append_row(g, c, a, idx, r, &next));
  return 0;
}

// A struct column row by row: a null row appends nulls to every child (whose own values are
// null there, so dictionaries skip them), a valid row the children's values.
static int fill_struct(struct gctx* g, const struct gcol* c, struct ArrowArray* a,
                       int64_t* const* idx, int64_t n_rows) {
  int64_t next[MAX_STRUCT_CHILDREN] = {0};
  for (int64_t r = 0; r < n_rows; r++) {
    if (c->v[r].null) {
      OTAP_RETURN_NOT_OK(otap_array_append_null(a, 1));
      continue;
    }
    int kk = 0;
    for (int j = 0; j < c->n_children; j++) {
      if (!c->children[j].present) continue;
      OTAP_RETURN_NOT_OK(append_row(g, &c->children[j], a->children[kk++], idx[j], r, &next[j]));
    }
    OTAP_RETURN_NOT_OK(otap_array_finish_element(a));
  }
  return 0;
}

#define MAX_COLS 16

// Builds one record batch from the present columns of cols (n rows).
static int build_table(struct gctx* g, struct gcol* cols, int n_cols, int64_t n_rows,
                       struct ArrowSchema* out_schema, struct ArrowArray* out,
                       struct otap_error* err) {
  struct ArrowSchema schema;
  struct ArrowArray array;
  memset(&schema, 0, sizeof(schema));
  memset(&array, 0, sizeof(array));
  int64_t* idx[MAX_COLS][MAX_COLS + 1];
  memset(idx, 0, sizeof(idx));
  int rc = otap_schema_init(&schema, "+s");
  if (rc) return otap_error_set(err, rc, "out of memory building a generated table");
  int n_present = 0;
  for (int i = 0; i < n_cols; i++) n_present += cols[i].present;
  OTAP_GOTO_NOT_OK(rc, otap_schema_allocate_children(&schema, n_present));
  int k = 0;
  for (int i = 0; i < n_cols; i++) {
    struct gcol* c = &cols[i];
    if (!c->present) continue;
    int64_t nd;
    OTAP_GOTO_NOT_OK(rc, column_schema(g, c, schema.children[k], &idx[i][0], &nd));
    int kk = 0;
    for (int j = 0; j < c->n_children; j++) {
      if (!c->children[j].present) continue;
      OTAP_GOTO_NOT_OK(rc, column_schema(g, &c->children[j], schema.children[k]->children[kk],
                                         &idx[i][j + 1], &nd));
      kk++;
    }
    k++;
  }
  OTAP_GOTO_NOT_OK(rc, otap_array_init_from_schema(&array, &schema, err));
  OTAP_GOTO_NOT_OK(rc, otap_array_reserve(&array, n_rows));
  k = 0;
  for (int i = 0; i < n_cols; i++) {
    struct gcol* c = &cols[i];
    if (!c->present) continue;
    struct ArrowArray* a = array.children[k++];
    if (!c->children) {
      OTAP_GOTO_NOT_OK(rc, fill_column(g, c, a, idx[i][0]));
      continue;
    }
    OTAP_GOTO_NOT_OK(rc, fill_struct(g, c, a, &idx[i][1], n_rows));
  }
  for (int64_t r = 0; r < n_rows; r++) OTAP_GOTO_NOT_OK(rc, otap_array_finish_element(&array));
  OTAP_GOTO_NOT_OK(rc, otap_array_finish(&array, OTAP_VALIDATE_DEFAULT, &schema, err));
  otap_schema_move(&schema, out_schema);
  otap_array_move(&array, out);
done:
  for (int i = 0; i < MAX_COLS; i++) {
    for (int j = 0; j <= MAX_COLS; j++) otap_free(idx[i][j]);
  }
  otap_array_release(&array);
  otap_schema_release(&schema);
  if (rc && err && !err->message[0]) otap_error_set(err, rc, "building a generated table failed");
  return rc;
}

// ---------------------------------------------------------------------------------------------
// Content

static const char* const kWords[] = {
    "request", "completed", "user",   "login",   "failed", "timeout", "retry",  "cache",
    "miss",    "hit",       "db",     "query",   "slow",   "payment", "order",  "created",
    "shipped", "error",     "warning", "connection", "reset", "upstream", "latency", "ok"};
#define N_WORDS ((int)(sizeof(kWords) / sizeof(kWords[0])))

struct gattr {
  uint16_t parent;
  uint8_t type;
  int64_t key_off;
  int32_t key_len;
  int64_t val_off;  // bytes values (arena) or the integer / bool
  int32_t val_len;
  double d;
};

struct gattrs {
  struct gattr* a;
  int64_t n, cap;
};

static int attrs_push(struct gattrs* s, struct gattr a) {
  if (s->n == s->cap) {
    int64_t nc = s->cap ? s->cap * 2 : 64;
    void* p = otap_realloc(s->a, (size_t)nc * sizeof(*s->a));
    if (!p) return ENOMEM;
    s->a = p;
    s->cap = nc;
  }
  s->a[s->n++] = a;
  return 0;
}

static int arena_str(struct gctx* g, const char* s, int64_t* off, int32_t* len) {
  *off = g->arena.size;
  *len = (int32_t)strlen(s);
  return otap_buffer_append(&g->arena, s, *len);
}

// Emits one attribute (key name, type chosen by the key unless vary) with a value drawn from r.
static int gen_attr(struct gctx* g, struct gattrs* out, uint16_t parent, const char* key,
                    uint8_t type, struct rng* r) {
  struct gattr a;
  memset(&a, 0, sizeof(a));
  a.parent = parent;
  a.type = type;
  OTAP_RETURN_NOT_OK(arena_str(g, key, &a.key_off, &a.key_len));
  char buf[96];
  switch (type) {
    case OTAP_ANY_STR:
      snprintf(buf, sizeof(buf), "%s-%u", kWords[rng_below(r, N_WORDS)], (unsigned)rng_below(r, 50));
      OTAP_RETURN_NOT_OK(arena_str(g, buf, &a.val_off, &a.val_len));
      break;
    case OTAP_ANY_INT:
      a.val_off = rng_below(r, 1000) - 100;
      break;
    case OTAP_ANY_DOUBLE:
      a.d = (double)rng_below(r, 100000) / 128.0;
      break;
    case OTAP_ANY_BOOL:
      a.val_off = rng_below(r, 2);
      break;
    case OTAP_ANY_BYTES:
    case OTAP_ANY_MAP:
    case OTAP_ANY_SLICE: {
      int n = 1 + (int)rng_below(r, 8);
      uint8_t b[16];
      // Small valid CBOR for maps ({"k": n}) and slices ([n, n]); random bytes otherwise.
      if (type == OTAP_ANY_MAP) {
        b[0] = 0xa1, b[1] = 0x61, b[2] = 'k', b[3] = (uint8_t)(n & 0x17);
        n = 4;
      } else if (type == OTAP_ANY_SLICE) {
        b[0] = 0x82, b[1] = (uint8_t)(n & 0x17), b[2] = (uint8_t)((n + 1) & 0x17);
        n = 3;
      } else {
        for (int i = 0; i < n; i++) b[i] = (uint8_t)rng_next(r);
      }
      a.val_off = g->arena.size;
      a.val_len = n;
      OTAP_RETURN_NOT_OK(otap_buffer_append(&g->arena, b, n));
      break;
    }
    default:
      break;
  }
  return attrs_push(out, a);
}

struct keydef {
  const char* key;
  uint8_t type;
};
static const struct keydef kLogKeys[] = {
    {"http.method", OTAP_ANY_STR},   {"http.status_code", OTAP_ANY_INT},
    {"user.id", OTAP_ANY_STR},       {"duration_ms", OTAP_ANY_DOUBLE},
    {"success", OTAP_ANY_BOOL},      {"payload", OTAP_ANY_BYTES},
    {"tags", OTAP_ANY_SLICE},        {"ctx", OTAP_ANY_MAP},
    {"marker", OTAP_ANY_EMPTY},      {"thread.name", OTAP_ANY_STR}};
#define N_LOG_KEYS ((int)(sizeof(kLogKeys) / sizeof(kLogKeys[0])))
static const char* const kResKeys[] = {"service.name", "host.name", "service.version",
                                       "deployment.environment", "process.pid", "k8s.pod.uid"};
static const char* const kScopeKeys[] = {"library.language", "otel.scope.kind", "sampler"};

static uint8_t vary_type(struct gctx* g, struct rng* r, uint8_t t) {
  if (g->o->vary_schema && rng_percent(r, 10)) return (uint8_t)(1 + rng_below(r, 7));
  return t;
}

static int gen_level_attrs(struct gctx* g, struct gattrs* out, uint16_t parent, int64_t count,
                           const char* const* keys, int nkeys, uint64_t content_seed,
                           bool str_only) {
  struct rng r = {content_seed};
  char kb[48];
  for (int64_t a = 0; a < count; a++) {
    const char* key = kb;
    if (a < nkeys) {
      key = keys[a];
    } else {
      snprintf(kb, sizeof(kb), "attr.%lld", (long long)a);
    }
    uint8_t type = OTAP_ANY_STR;
    if (!str_only && a % 5 == 4) type = OTAP_ANY_INT;
    type = vary_type(g, &r, type);
    OTAP_RETURN_NOT_OK(gen_attr(g, out, parent, key, type, &r));
  }
  return 0;
}

// Orders attribute rows by (type, key, value, parent) for quasi-delta encoding.
static _Thread_local const struct gctx* g_sort_ctx;  // qsort context (C11 has no qsort_r)
static int cmp_attr(const void* pa, const void* pb) {
  const struct gattr* a = pa;
  const struct gattr* b = pb;
  const uint8_t* arena = g_sort_ctx->arena.data;
  if (a->type != b->type) return a->type < b->type ? -1 : 1;
  int32_t ml = a->key_len < b->key_len ? a->key_len : b->key_len;
  int c = memcmp(arena + a->key_off, arena + b->key_off, (size_t)ml);
  if (c) return c;
  if (a->key_len != b->key_len) return a->key_len < b->key_len ? -1 : 1;
  switch (a->type) {
    case OTAP_ANY_STR:
    case OTAP_ANY_BYTES:
    case OTAP_ANY_MAP:
    case OTAP_ANY_SLICE:
      ml = a->val_len < b->val_len ? a->val_len : b->val_len;
      c = memcmp(arena + a->val_off, arena + b->val_off, (size_t)ml);
      if (c) return c;
      if (a->val_len != b->val_len) return a->val_len < b->val_len ? -1 : 1;
      break;
    case OTAP_ANY_INT:
    case OTAP_ANY_BOOL:
      if (a->val_off != b->val_off) return a->val_off < b->val_off ? -1 : 1;
      break;
    case OTAP_ANY_DOUBLE:
      if (a->d != b->d) return a->d < b->d ? -1 : 1;
      break;
    default:
      break;
  }
  if (a->parent != b->parent) return a->parent < b->parent ? -1 : 1;
  return 0;
}

static bool attr_same_run(const struct gctx* g, const struct gattr* a, const struct gattr* b) {
  if (a->type != b->type || a->type == OTAP_ANY_EMPTY || a->type == OTAP_ANY_MAP ||
      a->type == OTAP_ANY_SLICE)
    return false;
  const uint8_t* arena = g->arena.data;
  if (a->key_len != b->key_len || memcmp(arena + a->key_off, arena + b->key_off, (size_t)a->key_len))
    return false;
  switch (a->type) {
    case OTAP_ANY_STR:
    case OTAP_ANY_BYTES:
      return a->val_len == b->val_len &&
             memcmp(arena + a->val_off, arena + b->val_off, (size_t)a->val_len) == 0;
    case OTAP_ANY_DOUBLE:
      return memcmp(&a->d, &b->d, sizeof(double)) == 0;
    default:
      return a->val_off == b->val_off;
  }
}

static int build_attrs(struct gctx* g, struct gattrs* s, bool encoded, struct rng* shuffle,
                       struct ArrowSchema* out_schema, struct ArrowArray* out,
                       struct otap_error* err) {
  if (encoded) {
    g_sort_ctx = g;
    qsort(s->a, (size_t)s->n, sizeof(*s->a), cmp_attr);
    // Encode back to front so each delta uses the previous plain value.
    for (int64_t i = s->n - 1; i >= 1; i--) {
      if (attr_same_run(g, &s->a[i - 1], &s->a[i])) s->a[i].parent -= s->a[i - 1].parent;
    }
  } else if (shuffle) {
    for (int64_t i = s->n - 1; i >= 1; i--) {
      int64_t j = rng_below(shuffle, i + 1);
      struct gattr t = s->a[i];
      s->a[i] = s->a[j];
      s->a[j] = t;
    }
  }
  struct gcol cols[9];
  memset(cols, 0, sizeof(cols));
  static const struct {
    const char* name;
    const char* format;
    enum otap__logs_dict dict;
    enum gkind kind;
  } kDefs[9] = {{"parent_id", "S", OTAP__DICT_NO, GK_U},   {"key", "u", OTAP__DICT_U8, GK_STR},
                {"type", "C", OTAP__DICT_NO, GK_U},        {"str", "u", OTAP__DICT_U16, GK_STR},
                {"int", "l", OTAP__DICT_U16, GK_I64},      {"double", "g", OTAP__DICT_NO, GK_F64},
                {"bool", "b", OTAP__DICT_NO, GK_BOOL},     {"bytes", "z", OTAP__DICT_U16, GK_BIN},
                {"ser", "z", OTAP__DICT_U16, GK_BIN}};
  bool used[9] = {true, true, true, false, false, false, false, false, false};
  for (int64_t i = 0; i < s->n; i++) {
    switch (s->a[i].type) {
      case OTAP_ANY_STR: used[3] = true; break;
      case OTAP_ANY_INT: used[4] = true; break;
      case OTAP_ANY_DOUBLE: used[5] = true; break;
      case OTAP_ANY_BOOL: used[6] = true; break;
      case OTAP_ANY_BYTES: used[7] = true; break;
      case OTAP_ANY_MAP:
      case OTAP_ANY_SLICE: used[8] = true; break;
      default: break;
    }
  }
  int rc = 0;
  for (int c = 0; c < 9; c++) {
    cols[c].name = kDefs[c].name;
    cols[c].format = kDefs[c].format;
    cols[c].dict = kDefs[c].dict;
    cols[c].kind = kDefs[c].kind;
    cols[c].present = used[c];
  }
  cols[0].encoding = encoded ? NULL : "plain";
  for (int64_t i = 0; i < s->n && !rc; i++) {
    const struct gattr* a = &s->a[i];
    struct gval kv = {a->key_off, 0, a->key_len, 0};
    rc = push_int(&cols[0], a->parent);
    if (!rc) rc = gcol_push(&cols[1], kv);
    if (!rc) rc = push_int(&cols[2], a->type);
    for (int c = 3; c < 9 && !rc; c++) {
      if (!cols[c].present) continue;
      bool active = (c == 3 && a->type == OTAP_ANY_STR) || (c == 4 && a->type == OTAP_ANY_INT) ||
                    (c == 5 && a->type == OTAP_ANY_DOUBLE) || (c == 6 && a->type == OTAP_ANY_BOOL) ||
                    (c == 7 && a->type == OTAP_ANY_BYTES) ||
                    (c == 8 && (a->type == OTAP_ANY_MAP || a->type == OTAP_ANY_SLICE));
      if (!active) {
        rc = push_null(&cols[c]);
      } else if (c == 3 || c == 7 || c == 8) {
        struct gval v = {a->val_off, 0, a->val_len, 0};
        rc = gcol_push(&cols[c], v);
      } else if (c == 5) {
        rc = push_double(&cols[c], a->d);
      } else {
        rc = push_int(&cols[c], a->val_off);
      }
    }
  }
  if (rc) {
    rc = otap_error_set(err, rc, "out of memory generating attributes");
  } else {
    rc = build_table(g, cols, 9, s->n, out_schema, out, err);
  }
  for (int c = 0; c < 9; c++) gcol_free(&cols[c]);
  return rc;
}

// ---------------------------------------------------------------------------------------------

void otap_logs_gen_options_init(struct otap_logs_gen_options* o) {
  memset(o, 0, sizeof(*o));
  o->seed = 1;
  o->records = 100;
  o->resources = 2;
  o->scopes = 2;
  o->log_attrs = 3;
  o->resource_attrs = 4;
  o->scope_attrs = 2;
  o->body_bytes = 64;
  o->trace_fanout = 4;
  o->no_attr_percent = 20;
  o->body_mixed_percent = 10;
  o->dict = OTAP_LOGS_GEN_DICT_AUTO;
  o->shared_pool = true;
}

static int check_options(const struct otap_logs_gen_options* o, struct otap_error* err) {
  // Ranges first, so the products below cannot overflow.
  OTAP_RETURN_IF(o->records < 0 || o->records > 65536, err, EINVAL,
                 "logs generator: records must be 0..65536 (got %lld)", (long long)o->records);
  OTAP_RETURN_IF(o->resources < 1 || o->resources > 65536 || o->scopes < 1 || o->scopes > 65536 ||
                     o->resources * o->scopes > 65536,
                 err, EINVAL, "logs generator: resources and scopes must be >= 1 with resources*scopes <= 65536");
  OTAP_RETURN_IF(o->log_attrs < 0 || o->log_attrs > 1000 || o->resource_attrs < 0 ||
                     o->resource_attrs > 1000 || o->scope_attrs < 0 || o->scope_attrs > 1000,
                 err, EINVAL, "logs generator: attributes per level must be 0..1000");
  OTAP_RETURN_IF(o->body_bytes < 0 || o->body_bytes > (1 << 20), err, EINVAL,
                 "logs generator: body bytes must be 0..1048576");
  OTAP_RETURN_IF(o->records * o->log_attrs > (1 << 24) ||
                     o->resources * o->resource_attrs > (1 << 24) ||
                     o->resources * o->scopes * o->scope_attrs > (1 << 24),
                 err, EINVAL, "logs generator: at most 16777216 attribute rows per table");
  OTAP_RETURN_IF(o->records * o->body_bytes > ((int64_t)1 << 31), err, EINVAL,
                 "logs generator: records * body bytes must stay under 2 GiB");
  OTAP_RETURN_IF(o->trace_fanout < 0, err, EINVAL, "logs generator: trace fan-out must be >= 0");
  OTAP_RETURN_IF(o->no_attr_percent < 0 || o->no_attr_percent > 100 || o->body_mixed_percent < 0 ||
                     o->body_mixed_percent > 100,
                 err, EINVAL, "logs generator: percentages must be 0..100");
  OTAP_RETURN_IF((unsigned)o->dict > OTAP_LOGS_GEN_DICT_NEVER, err, EINVAL,
                 "logs generator: unknown dictionary policy %d", (int)o->dict);
  return 0;
}

enum {
  L_ID, L_RESOURCE, L_SCOPE, L_SCHEMA_URL, L_TIME, L_OBSERVED, L_TRACE, L_SPAN, L_SEVNUM, L_SEVTEXT,
  L_BODY, L_DROPPED, L_FLAGS, L_EVENT, L_N
};

// State of one payload being generated.
struct gpayload {
  struct gctx g;
  const struct otap_logs_gen_options* o;
  int64_t index, n, R, S, n_scope;
  bool enc;
  struct gcol cols[L_N], res[3], scope[4], body[7];
  struct gattrs res_attrs, scope_attrs, log_attrs;
  bool want_res_attrs, want_scope_attrs, want_log_attrs;
  uint64_t pool_seed;
  int64_t *res_content, *scope_content;
  uint8_t *used_res, *used_scope;
  // Running state of the rows.
  int64_t next_id, prev_id, prev_res, prev_scope;
  bool first_id;
  uint64_t base_time;
};

static void init_columns(struct gpayload* gp) {
  static const struct {
    const char* name;
    const char* format;
    enum otap__logs_dict dict;
    enum gkind kind;
  } kL[L_N] = {{"id", "S", OTAP__DICT_NO, GK_U},
               {"resource", "+s", OTAP__DICT_NO, GK_U},
               {"scope", "+s", OTAP__DICT_NO, GK_U},
               {"schema_url", "u", OTAP__DICT_U8, GK_STR},
               {"time_unix_nano", "tsn:", OTAP__DICT_NO, GK_I64},
               {"observed_time_unix_nano", "tsn:", OTAP__DICT_NO, GK_I64},
               {"trace_id", "w:16", OTAP__DICT_U8, GK_FSB},
               {"span_id", "w:8", OTAP__DICT_U8, GK_FSB},
               {"severity_number", "i", OTAP__DICT_U8, GK_I64},
               {"severity_text", "u", OTAP__DICT_U8, GK_STR},
               {"body", "+s", OTAP__DICT_NO, GK_U},
               {"dropped_attributes_count", "I", OTAP__DICT_NO, GK_U},
               {"flags", "I", OTAP__DICT_NO, GK_U},
               {"event_name", "u", OTAP__DICT_U8, GK_STR}};
  const char* id_meta = gp->enc ? NULL : "plain";
  for (int c = 0; c < L_N; c++) {
    gp->cols[c].name = kL[c].name;
    gp->cols[c].format = kL[c].format;
    gp->cols[c].dict = kL[c].dict;
    gp->cols[c].kind = kL[c].kind;
    gp->cols[c].present = true;
  }
  gp->cols[L_ID].encoding = id_meta;
  const struct gcol rdef[3] = {
      {"id", "S", OTAP__DICT_NO, GK_U, id_meta, NULL, 0, 0, true, NULL, 0},
      {"schema_url", "u", OTAP__DICT_U8, GK_STR, NULL, NULL, 0, 0, true, NULL, 0},
      {"dropped_attributes_count", "I", OTAP__DICT_NO, GK_U, NULL, NULL, 0, 0, true, NULL, 0}};
  const struct gcol sdef[4] = {
      {"id", "S", OTAP__DICT_NO, GK_U, id_meta, NULL, 0, 0, true, NULL, 0},
      {"name", "u", OTAP__DICT_U8, GK_STR, NULL, NULL, 0, 0, true, NULL, 0},
      {"version", "u", OTAP__DICT_U8, GK_STR, NULL, NULL, 0, 0, true, NULL, 0},
      {"dropped_attributes_count", "I", OTAP__DICT_NO, GK_U, NULL, NULL, 0, 0, true, NULL, 0}};
  const struct gcol bdef[7] = {
      {"type", "C", OTAP__DICT_NO, GK_U, NULL, NULL, 0, 0, true, NULL, 0},
      {"str", "u", OTAP__DICT_U16, GK_STR, NULL, NULL, 0, 0, true, NULL, 0},
      {"int", "l", OTAP__DICT_U16, GK_I64, NULL, NULL, 0, 0, true, NULL, 0},
      {"double", "g", OTAP__DICT_NO, GK_F64, NULL, NULL, 0, 0, true, NULL, 0},
      {"bool", "b", OTAP__DICT_NO, GK_BOOL, NULL, NULL, 0, 0, true, NULL, 0},
      {"bytes", "z", OTAP__DICT_U16, GK_BIN, NULL, NULL, 0, 0, true, NULL, 0},
      {"ser", "z", OTAP__DICT_U16, GK_BIN, NULL, NULL, 0, 0, true, NULL, 0}};
  memcpy(gp->res, rdef, sizeof(rdef));
  memcpy(gp->scope, sdef, sizeof(sdef));
  memcpy(gp->body, bdef, sizeof(bdef));
  gp->cols[L_RESOURCE].children = gp->res;
  gp->cols[L_RESOURCE].n_children = 3;
  gp->cols[L_SCOPE].children = gp->scope;
  gp->cols[L_SCOPE].n_children = 4;
  gp->cols[L_BODY].children = gp->body;
  gp->cols[L_BODY].n_children = 7;
}

// Which optional columns and tables this payload has (seeded when vary_schema).
static void choose_shape(struct gpayload* gp) {
  const struct otap_logs_gen_options* o = gp->o;
  struct rng* rng = &gp->g.rng;
  gp->want_res_attrs = o->resource_attrs > 0;
  gp->want_scope_attrs = o->scope_attrs > 0;
  gp->want_log_attrs = o->log_attrs > 0;
  if (o->trace_fanout == 0) gp->cols[L_TRACE].present = gp->cols[L_SPAN].present = false;
  if (o->body_bytes == 0 && o->body_mixed_percent == 0) gp->cols[L_BODY].present = false;
  if (!o->vary_schema) return;
  static const int kOptional[] = {L_SCHEMA_URL, L_OBSERVED, L_SEVTEXT, L_DROPPED,
                                  L_FLAGS,      L_EVENT,    L_SPAN,    L_BODY};
  for (size_t k = 0; k < sizeof(kOptional) / sizeof(kOptional[0]); k++) {
    if (rng_percent(rng, 25)) gp->cols[kOptional[k]].present = false;
  }
  if (rng_percent(rng, 20)) gp->res[1].present = false;
  if (rng_percent(rng, 20)) gp->scope[2].present = false;
  if (rng_percent(rng, 20)) gp->want_res_attrs = false;
  if (rng_percent(rng, 20)) gp->want_scope_attrs = false;
  if (rng_percent(rng, 20)) gp->want_log_attrs = false;
}

// Content index of each resource and scope (duplicates repeat the previous content).
static int choose_pool(struct gpayload* gp) {
  const struct otap_logs_gen_options* o = gp->o;
  gp->pool_seed = o->shared_pool ? mix(o->seed, 0xabcdef)
                                 : mix(o->seed, (uint64_t)gp->index * 7919 + 13);
  gp->res_content = otap_malloc((size_t)gp->R * sizeof(int64_t));
  gp->scope_content = otap_malloc((size_t)gp->n_scope * sizeof(int64_t));
  gp->used_res = otap_calloc((size_t)gp->R, 1);
  gp->used_scope = otap_calloc((size_t)gp->n_scope, 1);
  if (!gp->res_content || !gp->scope_content || !gp->used_res || !gp->used_scope) return ENOMEM;
  for (int64_t r = 0; r < gp->R; r++) {
    bool dup = o->duplicate_resources && r > 0 && rng_percent(&gp->g.rng, 30);
    gp->res_content[r] = dup ? gp->res_content[r - 1] : r;
  }
  for (int64_t s = 0; s < gp->n_scope; s++) {
    bool dup = o->duplicate_resources && s > 0 && rng_percent(&gp->g.rng, 30);
    gp->scope_content[s] = dup ? gp->scope_content[s - 1] : s % gp->S;
  }
  return 0;
}

// The body of one record: a string of words, or (mixed) another AnyValue type. With
// vary_schema, half of the Empty bodies are null body rows instead (the same meaning).
static int gen_body(struct gpayload* gp, struct rng* rr, bool* null_row) {
  const struct otap_logs_gen_options* o = gp->o;
  struct gcol* body = gp->body;
  uint8_t bt = OTAP_ANY_STR;
  if (o->body_bytes == 0 || rng_percent(rr, o->body_mixed_percent)) bt = (uint8_t)rng_below(rr, 8);
  if (bt == OTAP_ANY_STR && o->body_bytes == 0) bt = OTAP_ANY_INT;
  *null_row = o->vary_schema && bt == OTAP_ANY_EMPTY && rng_percent(rr, 50);
  if (*null_row) {
    int rc = 0;
    for (int c = 0; c < 7; c++) rc |= push_null(&body[c]);
    return rc ? ENOMEM : 0;
  }
  int rc = push_int(&body[0], bt);
  for (int c = 1; c < 7; c++) rc |= push_null(&body[c]);
  if (rc) return ENOMEM;
  struct otap_buffer* arena = &gp->g.arena;
  switch (bt) {
    case OTAP_ANY_STR: {
      struct gval* v = &body[1].v[body[1].n - 1];
      v->null = 0;
      v->i = arena->size;
      int64_t len = 0;
      while (len < o->body_bytes && !rc) {
        const char* w = kWords[rng_below(rr, N_WORDS)];
        int64_t wl = (int64_t)strlen(w);
        if (len + wl + 1 > o->body_bytes) wl = o->body_bytes - len - (len ? 1 : 0);
        if (wl <= 0) break;
        if (len) rc |= otap_buffer_append(arena, " ", 1), len++;
        rc |= otap_buffer_append(arena, w, wl);
        len += wl;
      }
      v->len = (int32_t)len;
      break;
    }
    case OTAP_ANY_INT:
      body[2].v[body[2].n - 1] = (struct gval){rng_below(rr, 100000), 0, 0, 0};
      break;
    case OTAP_ANY_DOUBLE:
      body[3].v[body[3].n - 1] = (struct gval){0, (double)rng_below(rr, 1000) / 8.0, 0, 0};
      break;
    case OTAP_ANY_BOOL:
      body[4].v[body[4].n - 1] = (struct gval){rng_below(rr, 2), 0, 0, 0};
      break;
    case OTAP_ANY_BYTES:
    case OTAP_ANY_MAP:
    case OTAP_ANY_SLICE: {
      uint8_t b[4] = {0x82, 0x01, 0x02, (uint8_t)rng_below(rr, 256)};
      int c = bt == OTAP_ANY_BYTES ? 5 : 6;
      struct gval* v = &body[c].v[body[c].n - 1];
      v->null = 0;
      v->i = arena->size;
      v->len = bt == OTAP_ANY_SLICE ? 3 : 4;
      if (bt == OTAP_ANY_MAP) b[0] = 0xa1, b[1] = 0x61, b[2] = 'x', b[3] = 0x05;
      rc |= otap_buffer_append(arena, b, v->len);
      break;
    }
    default:
      break;
  }
  return rc ? ENOMEM : 0;
}

// The id and attributes of record i (row draws from rr).
static int gen_record_attrs(struct gpayload* gp, int64_t i, struct rng* rr) {
  const struct otap_logs_gen_options* o = gp->o;
  int64_t nattrs = 0;
  if (gp->want_log_attrs && !rng_percent(rr, o->no_attr_percent)) {
    nattrs = o->fixed_log_attrs ? o->log_attrs : 1 + rng_below(rr, o->log_attrs);
  }
  if (nattrs == 0 || gp->next_id > 65535) return push_null(&gp->cols[L_ID]);
  int64_t id = gp->next_id++;
  int rc = push_int(&gp->cols[L_ID], gp->enc ? (gp->first_id ? id : id - gp->prev_id) : id);
  gp->prev_id = id;
  gp->first_id = false;
  for (int64_t a = 0; a < nattrs && !rc; a++) {
    char kb[48];
    const char* key = kb;
    uint8_t type = OTAP_ANY_STR;
    if (a < N_LOG_KEYS) {
      int64_t kk = (a + i) % N_LOG_KEYS;
      key = kLogKeys[kk].key;
      type = kLogKeys[kk].type;
    } else {
      snprintf(kb, sizeof(kb), "log.attr.%lld", (long long)a);
    }
    type = vary_type(&gp->g, rr, type);
    rc = gen_attr(&gp->g, &gp->log_attrs, (uint16_t)id, key, type, rr);
  }
  return rc;
}

// One log record: row i of the (resource, scope)-ordered sequence.
static int gen_record(struct gpayload* gp, int64_t i) {
  const struct otap_logs_gen_options* o = gp->o;
  struct gctx* g = &gp->g;
  struct gcol* cols = gp->cols;
  int64_t grp = gp->n_scope > 0 ? i * gp->n_scope / (gp->n ? gp->n : 1) : 0;
  int64_t r = grp / gp->S, s = grp;
  gp->used_res[r] = 1;
  gp->used_scope[s] = 1;
  struct rng rr = {mix(g->rng.s, (uint64_t)i)};
  int64_t rid = r, sid = s;
  if (gp->enc) {
    rid = r - gp->prev_res;
    sid = s - gp->prev_scope;
    gp->prev_res = r;
    gp->prev_scope = s;
  }
  int rc = push_int(&gp->res[0], rid);
  char buf[160];
  snprintf(buf, sizeof(buf), "https://opentelemetry.io/schemas/1.%lld.0",
           (long long)(gp->res_content[r] % 3 + 20));
  rc |= push_str(g, &gp->res[1], buf);
  rc |= push_int(&gp->res[2], gp->res_content[r] % 4 == 3 ? 1 : 0);
  rc |= push_int(&gp->scope[0], sid);
  snprintf(buf, sizeof(buf), "io.otap.lib%lld", (long long)gp->scope_content[s]);
  rc |= push_str(g, &gp->scope[1], buf);
  snprintf(buf, sizeof(buf), "1.%lld.0", (long long)(gp->scope_content[s] % 5));
  rc |= push_str(g, &gp->scope[2], buf);
  rc |= push_int(&gp->scope[3], 0);
  rc |= push_int(&cols[L_RESOURCE], 0);
  rc |= push_int(&cols[L_SCOPE], 0);
  rc |= rng_percent(&rr, 20)
            ? push_null(&cols[L_SCHEMA_URL])
            : push_str(g, &cols[L_SCHEMA_URL], "https://opentelemetry.io/schemas/1.21.0");
  rc |= push_int(&cols[L_TIME], (int64_t)(gp->base_time + (uint64_t)i * 1000));
  rc |= push_int(&cols[L_OBSERVED], (int64_t)(gp->base_time + (uint64_t)i * 1000 + 250));
  if (o->trace_fanout > 0) {
    uint8_t tid[16], spid[8];
    uint64_t t = mix(mix(o->seed, (uint64_t)gp->index), (uint64_t)(i / o->trace_fanout) + 77);
    for (int b = 0; b < 16; b++) tid[b] = (uint8_t)(mix(t, (uint64_t)b) >> 7);
    uint64_t sp = mix(t, (uint64_t)i + 1000);
    for (int b = 0; b < 8; b++) spid[b] = (uint8_t)(sp >> (8 * b));
    rc |= push_bytes(g, &cols[L_TRACE], tid, 16);
    rc |= push_bytes(g, &cols[L_SPAN], spid, 8);
  } else {
    rc |= push_null(&cols[L_TRACE]);
    rc |= push_null(&cols[L_SPAN]);
  }
  static const int32_t kSev[4] = {9, 13, 17, 5};
  static const char* const kSevText[4] = {"INFO", "WARN", "ERROR", "DEBUG"};
  int64_t sv = rng_below(&rr, 10);
  int sev = sv < 6 ? 0 : sv < 8 ? 1 : sv < 9 ? 2 : 3;
  rc |= push_int(&cols[L_SEVNUM], kSev[sev]);
  rc |= push_str(g, &cols[L_SEVTEXT], kSevText[sev]);
  if (rc) return ENOMEM;
  bool null_body = false;
  OTAP_RETURN_NOT_OK(gen_body(gp, &rr, &null_body));
  rc |= null_body ? push_null(&cols[L_BODY]) : push_int(&cols[L_BODY], 0);
  rc |= push_int(&cols[L_DROPPED], rng_percent(&rr, 5) ? 1 : 0);
  rc |= push_int(&cols[L_FLAGS], o->trace_fanout > 0 ? 1 : 0);
  if (rng_percent(&rr, 30)) {
    snprintf(buf, sizeof(buf), "app.event%lld", (long long)rng_below(&rr, 5));
    rc |= push_str(g, &cols[L_EVENT], buf);
  } else {
    rc |= push_null(&cols[L_EVENT]);
  }
  if (rc) return ENOMEM;
  return gen_record_attrs(gp, i, &rr);
}

// Attributes of the resources and scopes that records use.
static int gen_shared_attrs(struct gpayload* gp) {
  const struct otap_logs_gen_options* o = gp->o;
  int rc = 0;
  if (gp->want_res_attrs) {
    for (int64_t r = 0; r < gp->R && !rc; r++) {
      if (!gp->used_res[r]) continue;
      rc = gen_level_attrs(&gp->g, &gp->res_attrs, (uint16_t)r, o->resource_attrs, kResKeys, 6,
                           mix(gp->pool_seed, (uint64_t)gp->res_content[r] * 2 + 1), false);
    }
  }
  if (gp->want_scope_attrs) {
    for (int64_t s = 0; s < gp->n_scope && !rc; s++) {
      if (!gp->used_scope[s]) continue;
      rc = gen_level_attrs(&gp->g, &gp->scope_attrs, (uint16_t)s, o->scope_attrs, kScopeKeys, 3,
                           mix(gp->pool_seed, (uint64_t)gp->scope_content[s] * 2 + 2), true);
    }
  }
  return rc;
}

// Builds the Arrow tables into out.
static int emit_tables(struct gpayload* gp, struct otap_logs_payload* out, struct otap_error* err) {
  if (gp->n == 0) return 0;
  struct ArrowSchema sch;
  struct ArrowArray arr;
  memset(&sch, 0, sizeof(sch));
  memset(&arr, 0, sizeof(arr));
  OTAP_RETURN_NOT_OK(build_table(&gp->g, gp->cols, L_N, gp->n, &sch, &arr, err));
  otap_logs_payload_set_table(out, OTAP_LOGS_LOGS, &sch, &arr);
  struct rng sh = {mix(gp->g.rng.s, 99)};
  struct {
    struct gattrs* s;
    enum otap_logs_table t;
  } tabs[3] = {{&gp->res_attrs, OTAP_LOGS_RESOURCE_ATTRS},
               {&gp->scope_attrs, OTAP_LOGS_SCOPE_ATTRS},
               {&gp->log_attrs, OTAP_LOGS_LOG_ATTRS}};
  for (int k = 0; k < 3; k++) {
    if (tabs[k].s->n == 0) continue;
    memset(&sch, 0, sizeof(sch));
    memset(&arr, 0, sizeof(arr));
    OTAP_RETURN_NOT_OK(build_attrs(&gp->g, tabs[k].s, gp->enc, gp->o->shuffle_rows ? &sh : NULL,
                                   &sch, &arr, err));
    otap_logs_payload_set_table(out, tabs[k].t, &sch, &arr);
  }
  return 0;
}

static void gpayload_free(struct gpayload* gp) {
  for (int c = 0; c < L_N; c++) otap_free(gp->cols[c].v);
  for (int c = 0; c < 3; c++) otap_free(gp->res[c].v);
  for (int c = 0; c < 4; c++) otap_free(gp->scope[c].v);
  for (int c = 0; c < 7; c++) otap_free(gp->body[c].v);
  otap_free(gp->res_attrs.a);
  otap_free(gp->scope_attrs.a);
  otap_free(gp->log_attrs.a);
  otap_free(gp->res_content);
  otap_free(gp->scope_content);
  otap_free(gp->used_res);
  otap_free(gp->used_scope);
  otap_buffer_reset(&gp->g.arena);
}

int otap_logs_gen(const struct otap_logs_gen_options* o, int64_t index,
                  struct otap_logs_payload* out, struct otap_error* err) {
  OTAP_RETURN_NOT_OK(check_options(o, err));
  otap_logs_payload_init(out);
  struct gpayload* gp = otap_calloc(1, sizeof(*gp));
  if (!gp) return otap_error_set(err, ENOMEM, "out of memory generating logs");
  gp->o = o;
  gp->g.o = o;
  gp->g.rng.s = mix(o->seed, (uint64_t)index + 1);
  otap_buffer_init(&gp->g.arena);
  gp->index = index;
  gp->n = o->records;
  gp->R = o->resources;
  gp->S = o->scopes;
  gp->n_scope = gp->R * gp->S;
  gp->enc = o->encoded_ids;
  gp->first_id = true;
  gp->base_time = 1700000000000000000ull + (uint64_t)index * 1000000000ull;
  init_columns(gp);
  choose_shape(gp);
  int rc = choose_pool(gp);
  // Rows in (resource, scope) order unless shuffled (encoded ids need that order).
  int64_t* order = rc ? NULL : otap_malloc((size_t)(gp->n ? gp->n : 1) * sizeof(int64_t));
  if (!order) rc = ENOMEM;
  if (!rc) {
    for (int64_t i = 0; i < gp->n; i++) order[i] = i;
    if (o->shuffle_rows && !gp->enc) {
      for (int64_t i = gp->n - 1; i >= 1; i--) {
        int64_t j = rng_below(&gp->g.rng, i + 1);
        int64_t t = order[i];
        order[i] = order[j];
        order[j] = t;
      }
    }
    for (int64_t k = 0; k < gp->n && !rc; k++) rc = gen_record(gp, order[k]);
  }
  otap_free(order);
  if (!rc) rc = gen_shared_attrs(gp);
  if (rc) {
    rc = otap_error_set(err, ENOMEM, "out of memory generating logs");
  } else {
    if (gp->next_id == 0) gp->cols[L_ID].present = false;  // as upstream: omit all-null ids
    rc = emit_tables(gp, out, err);
  }
  if (rc) otap_logs_payload_reset(out);
  gpayload_free(gp);
  otap_free(gp);
  return rc;
}
