// Dictionary utilities: encode, decode, merge, remap, compact. Written against the public
// builder/view API of otap/arrow.h plus take/concat (arrow_ops.c). Values are hashed by their
// bytes (fixed-width values by their bit pattern, so -0.0 and 0.0 are distinct values).
#include <limits.h>
#include <string.h>

#include "arrow/arrow_ops_internal.h"

// ---------------------------------------------------------------------------------------------
// Index types

int otap__dict_index_width(enum otap_type t) {
  switch (t) {
    case OTAP_TYPE_INT8: case OTAP_TYPE_UINT8: return 1;
    case OTAP_TYPE_INT16: case OTAP_TYPE_UINT16: return 2;
    case OTAP_TYPE_INT32: case OTAP_TYPE_UINT32: return 4;
    case OTAP_TYPE_INT64: case OTAP_TYPE_UINT64: return 8;
    default: return 0;
  }
}

int64_t otap__dict_index_max(enum otap_type t) {
  switch (t) {
    case OTAP_TYPE_INT8: return INT8_MAX;
    case OTAP_TYPE_UINT8: return UINT8_MAX;
    case OTAP_TYPE_INT16: return INT16_MAX;
    case OTAP_TYPE_UINT16: return UINT16_MAX;
    case OTAP_TYPE_INT32: return INT32_MAX;
    case OTAP_TYPE_UINT32: return UINT32_MAX;
    case OTAP_TYPE_INT64: case OTAP_TYPE_UINT64: return INT64_MAX;
    default: return -1;
  }
}

const char* otap__dict_index_format(enum otap_type t) {
  switch (t) {
    case OTAP_TYPE_INT8: return "c";
    case OTAP_TYPE_UINT8: return "C";
    case OTAP_TYPE_INT16: return "s";
    case OTAP_TYPE_UINT16: return "S";
    case OTAP_TYPE_INT32: return "i";
    case OTAP_TYPE_UINT32: return "I";
    case OTAP_TYPE_INT64: return "l";
    case OTAP_TYPE_UINT64: return "L";
    default: return NULL;
  }
}

#define READ_IDX(T)                                                  \
  for (int64_t i = 0; i < len; i++) {                                \
    T x;                                                             \
    memcpy(&x, src + i * (int64_t)sizeof(T), sizeof(T));             \
    dst[i] = (int64_t)x;                                             \
  }

void otap__dict_read_indices(const struct otap_array_view* v, int64_t start, int64_t len,
                             int64_t* dst) {
  int w = otap__dict_index_width(v->storage_type);
  const uint8_t* src = v->buffers[1] + (v->offset + start) * w;
  switch (v->storage_type) {
    case OTAP_TYPE_INT8: READ_IDX(int8_t) break;
    case OTAP_TYPE_UINT8: READ_IDX(uint8_t) break;
    case OTAP_TYPE_INT16: READ_IDX(int16_t) break;
    case OTAP_TYPE_UINT16: READ_IDX(uint16_t) break;
    case OTAP_TYPE_INT32: READ_IDX(int32_t) break;
    case OTAP_TYPE_UINT32: READ_IDX(uint32_t) break;
    case OTAP_TYPE_INT64: READ_IDX(int64_t) break;
    case OTAP_TYPE_UINT64:
      for (int64_t i = 0; i < len; i++) {
        uint64_t x;
        memcpy(&x, src + i * 8, 8);
        dst[i] = x > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)x;
      }
      break;
    default:
      for (int64_t i = 0; i < len; i++) dst[i] = INT64_MAX;
      return;
  }
  // Negative signed indices are invalid, not null: make them out of range.
  for (int64_t i = 0; i < len; i++) {
    if (dst[i] < 0) dst[i] = INT64_MAX;
  }
  const uint8_t* vb = v->buffers[0];
  if (vb && v->null_count != 0) {
    for (int64_t i = 0; i < len; i++) {
      if (!otap_bit_get(vb, v->offset + start + i)) dst[i] = -1;
    }
  }
}

int64_t otap__dict_first_bad_index(const struct otap_array_view* v, int64_t start, int64_t len,
                                   int64_t dict_len) {
  int64_t chunk[512];
  for (int64_t done = 0; done < len; done += 512) {
    int64_t m = len - done < 512 ? len - done : 512;
    otap__dict_read_indices(v, start + done, m, chunk);
    for (int64_t i = 0; i < m; i++) {
      if (chunk[i] >= dict_len) return done + i;
    }
  }
  return -1;
}

#define WRITE_IDX(T)                                           \
  for (int64_t i = 0; i < n; i++) {                            \
    T x = (T)(src[i] < 0 ? 0 : src[i]);                        \
    memcpy(dst + i * (int64_t)sizeof(T), &x, sizeof(T));       \
  }

void otap__dict_write_indices(enum otap_type t, const int64_t* src, int64_t n, uint8_t* dst) {
  switch (otap__dict_index_width(t)) {
    case 1: WRITE_IDX(uint8_t) break;
    case 2: WRITE_IDX(uint16_t) break;
    case 4: WRITE_IDX(uint32_t) break;
    case 8: WRITE_IDX(uint64_t) break;
    default: break;
  }
}

// ---------------------------------------------------------------------------------------------
// Keys: the bytes of value i of a view

enum key_kind { KEY_FIXED, KEY_BOOL, KEY_BIN32, KEY_BIN64, KEY_VIEW };

struct key_source {
  const struct otap_array_view* v;
  enum key_kind kind;
  int64_t width;
};

static const uint8_t k_bool_bytes[2] = {0, 1};

static int key_source_init(struct key_source* ks, const struct ArrowSchema* schema,
                           const struct otap_array_view* v, struct otap_error* err) {
  ks->v = v;
  ks->width = 0;
  switch (v->storage_type) {
    case OTAP_TYPE_BOOL: ks->kind = KEY_BOOL; return 0;
    case OTAP_TYPE_STRING: case OTAP_TYPE_BINARY: ks->kind = KEY_BIN32; return 0;
    case OTAP_TYPE_LARGE_STRING: case OTAP_TYPE_LARGE_BINARY: ks->kind = KEY_BIN64; return 0;
    case OTAP_TYPE_STRING_VIEW: case OTAP_TYPE_BINARY_VIEW: ks->kind = KEY_VIEW; return 0;
    case OTAP_TYPE_FIXED_SIZE_BINARY:
      ks->kind = KEY_FIXED;
      ks->width = v->schema.fixed_size;
      return 0;
    default:
      break;
  }
  if (v->schema.bit_width >= 8 && v->schema.bit_width % 8 == 0 && v->n_children == 0 &&
      !v->dictionary) {
    ks->kind = KEY_FIXED;
    ks->width = v->schema.bit_width / 8;
    return 0;
  }
  return otap_error_set(err, ENOTSUP, "dictionary: column '%s': values of type %s cannot be "
                        "dictionary-encoded", otap__schema_name(schema),
                        otap_type_name(v->schema.type));
}

// Bytes of logical value i. Offsets are checked against the data size: EINVAL when corrupt.
static inline bool key_get(const struct key_source* ks, int64_t i, const uint8_t** p,
                           int64_t* len) {
  const struct otap_array_view* v = ks->v;
  int64_t j = v->offset + i;
  switch (ks->kind) {
    case KEY_FIXED:
      *p = v->buffers[1] + j * ks->width;
      *len = ks->width;
      return true;
    case KEY_BOOL:
      *p = &k_bool_bytes[otap_bit_get(v->buffers[1], j)];
      *len = 1;
      return true;
    case KEY_BIN32: case KEY_BIN64: {
      int64_t s, e;
      if (ks->kind == KEY_BIN32) {
        s = otap__ld_i32(v->buffers[1] + j * 4);
        e = otap__ld_i32(v->buffers[1] + j * 4 + 4);
      } else {
        s = otap__ld_i64(v->buffers[1] + j * 8);
        e = otap__ld_i64(v->buffers[1] + j * 8 + 8);
      }
      if (s < 0 || e < s || e > v->buffer_sizes[2]) return false;
      *p = v->buffers[2] + s;
      *len = e - s;
      return true;
    }
    case KEY_VIEW:
      otap_view_get_bytes(v, i, p, len);
      return true;
  }
  return false;
}

static uint64_t hash_bytes(const uint8_t* p, int64_t n) {
  const uint64_t m = 0x9E3779B97F4A7C15ull;
  uint64_t h = (uint64_t)n * m + 0x2545F4914F6CDD1Dull;
  while (n >= 8) {
    uint64_t w;
    memcpy(&w, p, 8);
    h = (h ^ w) * m;
    h ^= h >> 29;
    p += 8;
    n -= 8;
  }
  if (n > 0) {
    uint64_t w = 0;
    memcpy(&w, p, (size_t)n);
    h = (h ^ w) * m;
  }
  h ^= h >> 32;
  h *= 0xD6E8FEB86659FD93ull;
  h ^= h >> 32;
  return h;
}

// ---------------------------------------------------------------------------------------------
// Hash table of distinct keys: open addressing, linear probing; a slot holds the key's hash
// and its distinct index + 1 (0 = empty), so most probes touch one cache line.

struct dict_slot {
  uint64_t hash;
  int64_t index1;
};

struct dict_key {
  const uint8_t* p;
  int64_t len;  // -1 for the null key
};

struct dict_table {
  struct dict_slot* slots;
  int64_t cap;  // power of two
  struct dict_key* keys;
  int64_t count;  // distinct keys (the null key included)
  int64_t kcap;
  int64_t null_index;  // distinct index of the null key, -1 if none
};

static void table_free(struct dict_table* t) {
  otap_free(t->slots);
  otap_free(t->keys);
  memset(t, 0, sizeof(*t));
}

static int table_init(struct dict_table* t, int64_t expected) {
  memset(t, 0, sizeof(*t));
  t->null_index = -1;
  int64_t cap = 64;
  while (cap < expected * 2 && cap < ((int64_t)1 << 40)) cap *= 2;
  t->cap = cap;
  t->slots = otap_calloc((size_t)cap, sizeof(*t->slots));
  if (!t->slots) {
    table_free(t);
    return ENOMEM;
  }
  return 0;
}

static int table_grow(struct dict_table* t) {
  int64_t cap = t->cap * 2;
  struct dict_slot* slots = otap_calloc((size_t)cap, sizeof(*slots));
  if (!slots) return ENOMEM;
  for (int64_t s = 0; s < t->cap; s++) {
    if (!t->slots[s].index1) continue;
    int64_t p = (int64_t)(t->slots[s].hash & (uint64_t)(cap - 1));
    while (slots[p].index1) p = (p + 1) & (cap - 1);
    slots[p] = t->slots[s];
  }
  otap_free(t->slots);
  t->slots = slots;
  t->cap = cap;
  return 0;
}

static int table_push_key(struct dict_table* t, const uint8_t* p, int64_t len) {
  if (t->count == t->kcap) {
    int64_t nc = t->kcap ? t->kcap * 2 : 64;
    struct dict_key* k = otap_realloc(t->keys, (size_t)nc * sizeof(*k));
    if (!k) return ENOMEM;
    t->keys = k;
    t->kcap = nc;
  }
  t->keys[t->count].p = p;
  t->keys[t->count].len = len;
  t->count++;
  return 0;
}

// Finds or inserts key (p, len): *index = its distinct index, *inserted when new.
static int table_find_or_insert(struct dict_table* t, const uint8_t* p, int64_t len,
                                int64_t* index, bool* inserted) {
  uint64_t h = hash_bytes(p, len);
  int64_t mask = t->cap - 1;
  int64_t s = (int64_t)(h & (uint64_t)mask);
  for (;;) {
    const struct dict_slot* e = &t->slots[s];
    if (!e->index1) break;
    if (e->hash == h) {
      const struct dict_key* k = &t->keys[e->index1 - 1];
      if (k->len == len && (len == 0 || memcmp(k->p, p, (size_t)len) == 0)) {
        *index = e->index1 - 1;
        *inserted = false;
        return 0;
      }
    }
    s = (s + 1) & mask;
  }
  OTAP_RETURN_NOT_OK(table_push_key(t, p, len));
  t->slots[s].index1 = t->count;
  t->slots[s].hash = h;
  *index = t->count - 1;
  *inserted = true;
  if (t->count * 2 > t->cap) OTAP_RETURN_NOT_OK(table_grow(t));
  return 0;
}

static int table_find_or_insert_null(struct dict_table* t, int64_t* index, bool* inserted) {
  if (t->null_index >= 0) {
    *index = t->null_index;
    *inserted = false;
    return 0;
  }
  OTAP_RETURN_NOT_OK(table_push_key(t, NULL, -1));
  t->null_index = t->count - 1;
  *index = t->null_index;
  *inserted = true;
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Helpers

static int nomem(struct otap_error* err, const char* what) {
  return otap_error_set(err, ENOMEM, "dictionary: out of memory allocating %s", what);
}

struct i64_list {
  int64_t* data;
  int64_t size, cap;
};

static int list_push(struct i64_list* l, int64_t x) {
  if (l->size == l->cap) {
    int64_t nc = l->cap ? l->cap * 2 : 64;
    int64_t* d = otap_realloc(l->data, (size_t)nc * sizeof(int64_t));
    if (!d) return ENOMEM;
    l->data = d;
    l->cap = nc;
  }
  l->data[l->size++] = x;
  return 0;
}

static int view_open(struct otap_array_view* view, const struct ArrowSchema* schema,
                     const struct ArrowArray* array, struct otap_error* err) {
  memset(view, 0, sizeof(*view));
  int rc = otap_array_view_init(view, schema, err);
  if (rc == 0) rc = otap_array_view_set(view, array, OTAP_VALIDATE_DEFAULT, err);
  if (rc != 0) otap_array_view_reset(view);
  return rc;
}

static int require_dictionary(const struct ArrowSchema* schema, const struct ArrowArray* in,
                              const char* fn, struct otap_error* err) {
  OTAP_RETURN_IF(!schema || !schema->dictionary, err, EINVAL,
                 "%s: schema of column '%s' is not dictionary-encoded", fn,
                 otap__schema_name(schema));
  OTAP_RETURN_IF(in && !in->dictionary, err, EINVAL, "%s: column '%s': array has no dictionary",
                 fn, otap__schema_name(schema));
  return 0;
}

// Output validity from int64 indices (valid where >= 0); no buffer when all valid.
static int write_index_validity(struct ArrowArray* out, const int64_t* idx, int64_t n,
                                int64_t* null_count, struct otap_error* err) {
  int64_t nulls = 0;
  for (int64_t i = 0; i < n; i++) nulls += idx[i] < 0;
  *null_count = nulls;
  if (nulls == 0) return 0;
  struct otap_buffer* vb = otap_array_buffer(out, 0);
  if (!vb) return otap_error_set(err, EINVAL, "internal: validity buffer not writable");
  vb->size = 0;
  if (otap_buffer_resize(vb, otap_bytes_for_bits(n), true) != 0) return nomem(err, "validity");
  for (int64_t i = 0; i < n; i++) {
    if (idx[i] >= 0) otap_bit_set(vb->data, i);
  }
  return 0;
}

// Builds an otap array of `schema` (a dictionary schema whose index type is index_type) from
// int64 indices (-1 = null) and a dictionary (moved in on success).
static int build_indexed(const struct ArrowSchema* schema, enum otap_type index_type,
                         const int64_t* idx, int64_t n, struct ArrowArray* dict,
                         struct ArrowArray* out, struct otap_error* err) {
  struct ArrowArray tmp;
  memset(&tmp, 0, sizeof(tmp));
  int rc = otap_array_init_from_schema(&tmp, schema, err);
  if (rc != 0) return rc;
  int64_t null_count = 0;
  OTAP_GOTO_NOT_OK(rc, write_index_validity(&tmp, idx, n, &null_count, err));
  struct otap_buffer* ib = otap_array_buffer(&tmp, 1);
  if (!ib) {
    rc = otap_error_set(err, EINVAL, "internal: index buffer not writable");
    goto done;
  }
  ib->size = 0;
  if (otap_buffer_resize(ib, n * otap__dict_index_width(index_type), false) != 0) {
    rc = nomem(err, "indices");
    goto done;
  }
  otap__dict_write_indices(index_type, idx, n, ib->data);
  tmp.length = n;
  tmp.null_count = null_count;
  otap__arrow_install_dictionary(&tmp, dict);
  rc = otap_array_finish(&tmp, OTAP_VALIDATE_DEFAULT, schema, err);
  if (rc != 0) {
    otap_array_move(tmp.dictionary, dict);  // give the dictionary back
    goto done;
  }
  otap_array_move(&tmp, out);
  return 0;
done:
  otap_array_release(&tmp);
  return rc;
}

// ---------------------------------------------------------------------------------------------
// encode

static int make_dict_schema(const struct ArrowSchema* value_schema, enum otap_type index_type,
                            struct ArrowSchema* out, struct otap_error* err) {
  memset(out, 0, sizeof(*out));
  int rc = otap_schema_init(out, otap__dict_index_format(index_type));
  if (rc != 0) return nomem(err, "schema");
  if (value_schema->name) OTAP_GOTO_NOT_OK(rc, otap_schema_set_name(out, value_schema->name));
  out->flags = value_schema->flags & ARROW_FLAG_NULLABLE;
  OTAP_GOTO_NOT_OK(rc, otap_schema_allocate_dictionary(out));
  OTAP_GOTO_NOT_OK(rc, otap_schema_deep_copy(value_schema, out->dictionary, err));
  OTAP_GOTO_NOT_OK(rc, otap_schema_set_name(out->dictionary, NULL));
  return 0;
done:
  otap_schema_release(out);
  return rc == ENOMEM ? nomem(err, "schema") : rc;
}

int otap_dict_encode(const struct ArrowSchema* value_schema, const struct ArrowArray* values,
                     enum otap_type index_type, struct ArrowSchema* out_schema,
                     struct ArrowArray* out, struct otap_error* err) {
  OTAP_RETURN_IF(!value_schema || !values || !out_schema || !out, err, EINVAL,
                 "dict_encode: invalid arguments");
  int64_t imax = otap__dict_index_max(index_type);
  OTAP_RETURN_IF(imax < 0, err, EINVAL, "dict_encode: index type %s is not an integer type",
                 otap_type_name(index_type));
  OTAP_RETURN_IF(value_schema->dictionary, err, EINVAL,
                 "dict_encode: column '%s' is already dictionary-encoded",
                 otap__schema_name(value_schema));
  struct otap_array_view view;
  OTAP_RETURN_NOT_OK(view_open(&view, value_schema, values, err));
  struct key_source ks;
  struct dict_table t;
  struct i64_list firsts = {0};
  int64_t* idx = NULL;
  struct ArrowSchema sch;
  struct ArrowArray dict;
  memset(&t, 0, sizeof(t));
  memset(&sch, 0, sizeof(sch));
  memset(&dict, 0, sizeof(dict));
  int64_t n = view.length;
  int rc = key_source_init(&ks, value_schema, &view, err);
  if (rc != 0) goto done;
  if (table_init(&t, n < 1024 ? n : 1024) != 0) {
    rc = nomem(err, "hash table");
    goto done;
  }
  idx = otap_malloc((size_t)(n > 0 ? n : 1) * sizeof(int64_t));
  if (!idx) {
    rc = nomem(err, "indices");
    goto done;
  }
  for (int64_t i = 0; i < n; i++) {
    if (otap_view_is_null(&view, i)) {
      idx[i] = -1;
      continue;
    }
    const uint8_t* p;
    int64_t len;
    if (!key_get(&ks, i, &p, &len)) {
      rc = otap_error_set(err, EINVAL, "dict_encode: column '%s': corrupt offsets at row %lld",
                          otap__schema_name(value_schema), (long long)i);
      goto done;
    }
    bool inserted;
    if (table_find_or_insert(&t, p, len, &idx[i], &inserted) != 0 ||
        (inserted && list_push(&firsts, i) != 0)) {
      rc = nomem(err, "distinct values");
      goto done;
    }
    if (OTAP_UNLIKELY(idx[i] > imax)) {
      rc = otap_error_set(err, ERANGE,
                          "dict_encode: column '%s': more than %lld distinct values (at row "
                          "%lld) overflow index type %s",
                          otap__schema_name(value_schema), (long long)imax + 1, (long long)i,
                          otap_type_name(index_type));
      goto done;
    }
  }
  OTAP_GOTO_NOT_OK(rc, otap__arrow_take_view(value_schema, &view, firsts.data ? firsts.data : idx,
                                             firsts.size, &dict, err));
  OTAP_GOTO_NOT_OK(rc, make_dict_schema(value_schema, index_type, &sch, err));
  OTAP_GOTO_NOT_OK(rc, build_indexed(&sch, index_type, idx, n, &dict, out, err));
  otap_schema_move(&sch, out_schema);
done:
  otap_array_release(&dict);
  otap_schema_release(&sch);
  otap_free(idx);
  otap_free(firsts.data);
  table_free(&t);
  otap_array_view_reset(&view);
  return rc;
}

// ---------------------------------------------------------------------------------------------
// decode

// Reads all indices of a dictionary view, checking them against the dictionary length.
static int read_checked_indices(const char* fn, const struct ArrowSchema* schema,
                                const struct otap_array_view* v, int64_t** out,
                                struct otap_error* err) {
  int64_t n = v->length;
  int64_t* idx = otap_malloc((size_t)(n > 0 ? n : 1) * sizeof(int64_t));
  if (!idx) return nomem(err, "indices");
  otap__dict_read_indices(v, 0, n, idx);
  int64_t dlen = v->dictionary->length;
  for (int64_t i = 0; i < n; i++) {
    if (idx[i] >= dlen) {
      int rc = otap_error_set(err, EINVAL,
                              "%s: column '%s': index at row %lld is out of range for a "
                              "dictionary of length %lld",
                              fn, otap__schema_name(schema), (long long)i, (long long)dlen);
      otap_free(idx);
      return rc;
    }
  }
  *out = idx;
  return 0;
}

int otap_dict_decode(const struct ArrowSchema* schema, const struct ArrowArray* in,
                     struct ArrowArray* out, struct otap_error* err) {
  OTAP_RETURN_IF(!in || !out, err, EINVAL, "dict_decode: invalid arguments");
  OTAP_RETURN_NOT_OK(require_dictionary(schema, in, "dict_decode", err));
  struct otap_array_view view;
  OTAP_RETURN_NOT_OK(view_open(&view, schema, in, err));
  int64_t* idx = NULL;
  int rc = read_checked_indices("dict_decode", schema, &view, &idx, err);
  if (rc == 0) {
    rc = otap__arrow_take_view(schema->dictionary, view.dictionary, idx, view.length, out, err);
  }
  otap_free(idx);
  otap_array_view_reset(&view);
  return rc;
}

// ---------------------------------------------------------------------------------------------
// merge

int otap__dict_merge_views(const struct ArrowSchema* dict_schema,
                           const struct otap_array_view* const* dicts, int64_t n,
                           struct ArrowArray* out_dict, int64_t** remaps,
                           struct otap_error* err) {
  struct dict_table t;
  struct key_source ks;
  int64_t* firsts = NULL;  // per input: start in `order` of its new values
  struct i64_list order = {0};
  struct ArrowArray* parts = NULL;
  struct otap_array_view* pviews = NULL;
  const struct otap_array_view** pptrs = NULL;
  int64_t n_parts = 0;
  int rc = 0;
  memset(&t, 0, sizeof(t));
  for (int64_t k = 0; k < n; k++) remaps[k] = NULL;
  int64_t expected = 0;
  for (int64_t k = 0; k < n; k++) expected += dicts[k]->length;
  if (table_init(&t, expected < (1 << 20) ? expected : (1 << 20)) != 0) {
    rc = nomem(err, "hash table");
    goto done;
  }
  firsts = otap_calloc((size_t)n + 1, sizeof(int64_t));
  if (!firsts) {
    rc = nomem(err, "merge state");
    goto done;
  }
  for (int64_t k = 0; k < n; k++) {
    const struct otap_array_view* d = dicts[k];
    OTAP_GOTO_NOT_OK(rc, key_source_init(&ks, dict_schema, d, err));
    remaps[k] = otap_malloc((size_t)(d->length > 0 ? d->length : 1) * sizeof(int64_t));
    if (!remaps[k]) {
      rc = nomem(err, "remap table");
      goto done;
    }
    firsts[k] = order.size;
    for (int64_t j = 0; j < d->length; j++) {
      bool inserted;
      int r;
      if (otap_view_is_null(d, j)) {
        r = table_find_or_insert_null(&t, &remaps[k][j], &inserted);
      } else {
        const uint8_t* p;
        int64_t len;
        if (!key_get(&ks, j, &p, &len)) {
          rc = otap_error_set(err, EINVAL,
                              "dict_merge: dictionary %lld: corrupt offsets at value %lld",
                              (long long)k, (long long)j);
          goto done;
        }
        r = table_find_or_insert(&t, p, len, &remaps[k][j], &inserted);
      }
      if (r != 0 || (inserted && list_push(&order, j) != 0)) {
        rc = nomem(err, "distinct values");
        goto done;
      }
    }
  }
  firsts[n] = order.size;
  // The merged dictionary: the new values of each input, in order, then concatenated.
  parts = otap_calloc((size_t)(n > 0 ? n : 1), sizeof(*parts));
  pviews = otap_calloc((size_t)(n > 0 ? n : 1), sizeof(*pviews));
  pptrs = otap_calloc((size_t)(n > 0 ? n : 1), sizeof(*pptrs));
  if (!parts || !pviews || !pptrs) {
    rc = nomem(err, "merge parts");
    goto done;
  }
  int64_t last = -1;
  for (int64_t k = 0; k < n; k++) {
    if (firsts[k + 1] == firsts[k] && !(k == n - 1 && n_parts == 0)) continue;
    OTAP_GOTO_NOT_OK(rc, otap__arrow_take_view(dict_schema, dicts[k], order.data + firsts[k],
                                               firsts[k + 1] - firsts[k], &parts[n_parts], err));
    n_parts++;
    last = k;
  }
  (void)last;
  if (n_parts == 0) {
    OTAP_GOTO_NOT_OK(rc, otap_array_init_from_schema(out_dict, dict_schema, err));
    out_dict->length = 0;
    out_dict->null_count = 0;
    rc = otap_array_finish(out_dict, OTAP_VALIDATE_DEFAULT, dict_schema, err);
    if (rc != 0) otap_array_release(out_dict);
  } else if (n_parts == 1) {
    otap_array_move(&parts[0], out_dict);
  } else {
    for (int64_t p = 0; p < n_parts; p++) {
      OTAP_GOTO_NOT_OK(rc, view_open(&pviews[p], dict_schema, &parts[p], err));
      pptrs[p] = &pviews[p];
    }
    rc = otap__arrow_concat_views(dict_schema, pptrs, n_parts, out_dict, err);
  }
done:
  if (pviews) {
    for (int64_t p = 0; p < n_parts; p++) otap_array_view_reset(&pviews[p]);
  }
  if (parts) {
    for (int64_t p = 0; p < n_parts; p++) otap_array_release(&parts[p]);
  }
  otap_free(parts);
  otap_free(pviews);
  otap_free(pptrs);
  otap_free(firsts);
  otap_free(order.data);
  table_free(&t);
  if (rc != 0) {
    for (int64_t k = 0; k < n; k++) {
      otap_free(remaps[k]);
      remaps[k] = NULL;
    }
  }
  return rc;
}

int otap_dict_merge(const struct ArrowSchema* schema, const struct ArrowArray* const* in,
                    int64_t n, struct ArrowArray* out_dictionary, int64_t** remaps,
                    struct otap_error* err) {
  OTAP_RETURN_IF(!out_dictionary || !remaps || n < 0 || (n > 0 && !in), err, EINVAL,
                 "dict_merge: invalid arguments");
  OTAP_RETURN_NOT_OK(require_dictionary(schema, NULL, "dict_merge", err));
  struct otap_array_view* views = otap_calloc((size_t)(n > 0 ? n : 1), sizeof(*views));
  const struct otap_array_view** dicts = otap_calloc((size_t)(n > 0 ? n : 1), sizeof(*dicts));
  int64_t opened = 0;
  int rc = 0;
  if (!views || !dicts) {
    rc = nomem(err, "views");
    goto done;
  }
  for (int64_t k = 0; k < n; k++) {
    if (!in[k] || !in[k]->dictionary) {
      rc = otap_error_set(err, EINVAL, "dict_merge: input %lld has no dictionary", (long long)k);
      goto done;
    }
    rc = view_open(&views[k], schema, in[k], err);
    if (rc != 0) {
      otap_error_prefix(err, rc, "dict_merge: input %lld: ", (long long)k);
      goto done;
    }
    opened = k + 1;
    dicts[k] = views[k].dictionary;
  }
  rc = otap__dict_merge_views(schema->dictionary, dicts, n, out_dictionary, remaps, err);
done:
  for (int64_t k = 0; k < opened; k++) otap_array_view_reset(&views[k]);
  otap_free(views);
  otap_free(dicts);
  return rc;
}

// ---------------------------------------------------------------------------------------------
// remap and compact

// Maps the indices of v through remap into int64 (-1 = null); checks ranges.
static int remap_indices(const char* fn, const struct ArrowSchema* schema,
                         const struct otap_array_view* v, const int64_t* remap,
                         int64_t remap_len, int64_t new_max, int64_t new_dict_len,
                         enum otap_type new_type, int64_t** out, struct otap_error* err) {
  int64_t n = v->length;
  int64_t* idx = otap_malloc((size_t)(n > 0 ? n : 1) * sizeof(int64_t));
  if (!idx) return nomem(err, "indices");
  otap__dict_read_indices(v, 0, n, idx);
  int rc = 0;
  for (int64_t i = 0; i < n; i++) {
    int64_t x = idx[i];
    if (x < 0) continue;
    if (x >= remap_len) {
      rc = otap_error_set(err, EINVAL,
                          "%s: column '%s': index at row %lld is outside the remap table "
                          "(length %lld)",
                          fn, otap__schema_name(schema), (long long)i, (long long)remap_len);
      break;
    }
    int64_t y = remap[x];
    if (y < 0) {
      idx[i] = -1;
      continue;
    }
    if (y > new_max) {
      rc = otap_error_set(err, ERANGE,
                          "%s: column '%s': new index %lld at row %lld does not fit index "
                          "type %s",
                          fn, otap__schema_name(schema), (long long)y, (long long)i,
                          otap_type_name(new_type));
      break;
    }
    if (y >= new_dict_len) {
      rc = otap_error_set(err, EINVAL,
                          "%s: column '%s': new index %lld at row %lld is outside the new "
                          "dictionary (length %lld)",
                          fn, otap__schema_name(schema), (long long)y, (long long)i,
                          (long long)new_dict_len);
      break;
    }
    idx[i] = y;
  }
  if (rc != 0) {
    otap_free(idx);
    return rc;
  }
  *out = idx;
  return 0;
}

int otap_dict_remap_indices(const struct ArrowSchema* schema, const struct ArrowArray* in,
                            const int64_t* remap, int64_t remap_len,
                            enum otap_type new_index_type, struct ArrowArray* new_dictionary,
                            struct ArrowSchema* out_schema, struct ArrowArray* out,
                            struct otap_error* err) {
  OTAP_RETURN_IF(!in || !out || !out_schema || !new_dictionary || !new_dictionary->release ||
                     remap_len < 0 || (remap_len > 0 && !remap),
                 err, EINVAL, "dict_remap_indices: invalid arguments");
  OTAP_RETURN_NOT_OK(require_dictionary(schema, in, "dict_remap_indices", err));
  int64_t new_max = otap__dict_index_max(new_index_type);
  OTAP_RETURN_IF(new_max < 0, err, EINVAL,
                 "dict_remap_indices: index type %s is not an integer type",
                 otap_type_name(new_index_type));
  struct otap_array_view view;
  OTAP_RETURN_NOT_OK(view_open(&view, schema, in, err));
  struct ArrowSchema sch;
  struct ArrowArray dict;
  memset(&sch, 0, sizeof(sch));
  memset(&dict, 0, sizeof(dict));
  int64_t* idx = NULL;
  int rc = remap_indices("dict_remap_indices", schema, &view, remap, remap_len, new_max,
                         new_dictionary->length, new_index_type, &idx, err);
  if (rc != 0) goto done;
  OTAP_GOTO_NOT_OK(rc, otap_schema_deep_copy(schema, &sch, err));
  rc = otap_schema_set_format(&sch, otap__dict_index_format(new_index_type));
  if (rc != 0) {
    rc = otap_error_set(err, rc, "dict_remap_indices: cannot set the index format");
    goto done;
  }
  // The new dictionary is wrapped (moved) into an otap array first, so foreign dictionaries
  // work too; build_indexed consumes it only on success.
  OTAP_GOTO_NOT_OK(rc, otap_array_import(schema->dictionary, new_dictionary,
                                         OTAP_VALIDATE_DEFAULT, &dict, err));
  OTAP_GOTO_NOT_OK(rc, build_indexed(&sch, new_index_type, idx, view.length, &dict, out, err));
  otap_schema_move(&sch, out_schema);
done:
  // On failure the caller keeps its dictionary (as the otap wrapper when it was imported).
  if (dict.release) otap_array_move(&dict, new_dictionary);
  otap_schema_release(&sch);
  otap_free(idx);
  otap_array_view_reset(&view);
  return rc;
}

int otap_dict_compact(const struct ArrowSchema* schema, const struct ArrowArray* in,
                      struct ArrowArray* out, struct otap_error* err) {
  OTAP_RETURN_IF(!in || !out, err, EINVAL, "dict_compact: invalid arguments");
  OTAP_RETURN_NOT_OK(require_dictionary(schema, in, "dict_compact", err));
  struct otap_array_view view;
  OTAP_RETURN_NOT_OK(view_open(&view, schema, in, err));
  int64_t* idx = NULL;
  int64_t* remap = NULL;
  int64_t* keep = NULL;
  struct ArrowArray dict;
  memset(&dict, 0, sizeof(dict));
  int64_t dlen = view.dictionary->length;
  int rc = read_checked_indices("dict_compact", schema, &view, &idx, err);
  if (rc != 0) goto done;
  remap = otap_malloc((size_t)(dlen > 0 ? dlen : 1) * sizeof(int64_t));
  keep = otap_malloc((size_t)(dlen > 0 ? dlen : 1) * sizeof(int64_t));
  if (!remap || !keep) {
    rc = nomem(err, "remap table");
    goto done;
  }
  for (int64_t j = 0; j < dlen; j++) remap[j] = -1;
  for (int64_t i = 0; i < view.length; i++) {
    if (idx[i] >= 0) remap[idx[i]] = 0;
  }
  int64_t kept = 0;
  for (int64_t j = 0; j < dlen; j++) {
    if (remap[j] == 0) {
      keep[kept] = j;
      remap[j] = kept++;
    }
  }
  for (int64_t i = 0; i < view.length; i++) {
    if (idx[i] >= 0) idx[i] = remap[idx[i]];
  }
  OTAP_GOTO_NOT_OK(rc, otap__arrow_take_view(schema->dictionary, view.dictionary, keep, kept,
                                             &dict, err));
  rc = build_indexed(schema, view.storage_type, idx, view.length, &dict, out, err);
done:
  otap_array_release(&dict);
  otap_free(idx);
  otap_free(remap);
  otap_free(keep);
  otap_array_view_reset(&view);
  return rc;
}
