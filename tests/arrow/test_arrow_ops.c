// Tests of otap_array_take, otap_array_concat and the otap_dict_* utilities: seeded random
// property tests against an element-wise reference read through views, hostile indices,
// sliced inputs, nested types, foreign inputs and allocation failures.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "otap/arrow.h"
#include "testutil.h"

// ---------------------------------------------------------------------------------------------
// PRNG (xorshift64*), seeded per test so failures reproduce.

static uint64_t g_rng;
static void rng_seed(uint64_t s) { g_rng = s * 0x9E3779B97F4A7C15ull + 1; }
static uint64_t rng_next(void) {
  g_rng ^= g_rng >> 12;
  g_rng ^= g_rng << 25;
  g_rng ^= g_rng >> 27;
  return g_rng * 0x2545F4914F6CDD1Dull;
}
static int64_t rng_below(int64_t n) { return n <= 0 ? 0 : (int64_t)(rng_next() % (uint64_t)n); }

// ---------------------------------------------------------------------------------------------
// Schemas

// Makes a schema node with `format`, `name` and n children (given as already-built schemas,
// moved in).
static void schema_make(struct ArrowSchema* out, const char* format, const char* name, int n,
                        ...) {
  memset(out, 0, sizeof(*out));
  assert_int_equal(otap_schema_init(out, format), 0);
  if (name) assert_int_equal(otap_schema_set_name(out, name), 0);
  if (n > 0) {
    assert_int_equal(otap_schema_allocate_children(out, n), 0);
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++) {
      struct ArrowSchema* c = va_arg(ap, struct ArrowSchema*);
      otap_schema_move(c, out->children[i]);
    }
    va_end(ap);
  }
}

static void schema_leaf(struct ArrowSchema* out, const char* format, const char* name) {
  schema_make(out, format, name, 0);
}

// Dictionary schema: index format with values of value_format.
static void schema_dict(struct ArrowSchema* out, const char* index_format,
                        const char* value_format, const char* name) {
  schema_leaf(out, index_format, name);
  assert_int_equal(otap_schema_allocate_dictionary(out), 0);
  assert_int_equal(otap_schema_init(out->dictionary, value_format), 0);
}

// ---------------------------------------------------------------------------------------------
// Random array generation through the public builder API

static int64_t fixed_bytes(const struct otap_schema_view* sv) {
  if (sv->storage_type == OTAP_TYPE_FIXED_SIZE_BINARY) return sv->fixed_size;
  return sv->bit_width >= 8 ? sv->bit_width / 8 : 0;
}

static void gen_value(const struct ArrowSchema* schema, struct ArrowArray* a, int null_pct,
                      int card);

static void gen_random_bytes(uint8_t* buf, int64_t len, bool text, int card) {
  // Low cardinality: derive bytes from a small seed so values repeat.
  uint64_t seed = card > 0 ? (uint64_t)rng_below(card) : rng_next();
  uint64_t s = seed * 7919 + 17;
  for (int64_t i = 0; i < len; i++) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    uint8_t b = (uint8_t)(s >> 56);
    buf[i] = text ? (uint8_t)('a' + b % 26) : b;
  }
}

static void gen_value(const struct ArrowSchema* schema, struct ArrowArray* a, int null_pct,
                      int card) {
  struct otap_schema_view sv;
  assert_int_equal(otap_schema_view_init(&sv, schema, NULL), 0);
  if (sv.type == OTAP_TYPE_NA) {
    assert_int_equal(otap_array_append_null(a, 1), 0);
    return;
  }
  if (rng_below(100) < null_pct) {
    assert_int_equal(otap_array_append_null(a, 1), 0);
    return;
  }
  if (sv.type == OTAP_TYPE_DICTIONARY) {
    if (a->dictionary->length == 0) {
      // Nested dictionary columns get their dictionary on first use.
      int64_t want = 1 + rng_below(20);
      for (int64_t k = 0; k < want; k++) gen_value(schema->dictionary, a->dictionary, 10, card);
    }
    int64_t dlen = a->dictionary->length;
    assert_int_equal(otap_array_append_int(a, rng_below(dlen)), 0);
    return;
  }
  switch (sv.storage_type) {
    case OTAP_TYPE_BOOL:
      assert_int_equal(otap_array_append_int(a, rng_below(2)), 0);
      return;
    case OTAP_TYPE_STRING: case OTAP_TYPE_LARGE_STRING: case OTAP_TYPE_BINARY:
    case OTAP_TYPE_LARGE_BINARY: case OTAP_TYPE_STRING_VIEW: case OTAP_TYPE_BINARY_VIEW: {
      uint8_t buf[40];
      bool text = sv.storage_type == OTAP_TYPE_STRING ||
                  sv.storage_type == OTAP_TYPE_LARGE_STRING ||
                  sv.storage_type == OTAP_TYPE_STRING_VIEW;
      int64_t len;
      if (card > 0) {
        // Length derived from the value so equal seeds give equal values.
        uint64_t save = g_rng;
        int64_t pick = rng_below(card);
        g_rng = save;
        len = (pick * 7) % 30;
      } else {
        len = rng_below(30);
      }
      gen_random_bytes(buf, len, text, card);
      assert_int_equal(otap_array_append_bytes(a, buf, len), 0);
      return;
    }
    case OTAP_TYPE_STRUCT:
      for (int64_t c = 0; c < schema->n_children; c++) {
        gen_value(schema->children[c], a->children[c], null_pct, card);
      }
      assert_int_equal(otap_array_finish_element(a), 0);
      return;
    case OTAP_TYPE_LIST: case OTAP_TYPE_LARGE_LIST: case OTAP_TYPE_MAP:
    case OTAP_TYPE_LIST_VIEW: case OTAP_TYPE_LARGE_LIST_VIEW: {
      int64_t len = rng_below(5);
      for (int64_t k = 0; k < len; k++) {
        if (sv.storage_type == OTAP_TYPE_MAP) {
          gen_value(schema->children[0], a->children[0], 0, card);  // entries are not null
        } else {
          gen_value(schema->children[0], a->children[0], null_pct, card);
        }
      }
      assert_int_equal(otap_array_finish_element(a), 0);
      return;
    }
    case OTAP_TYPE_FIXED_SIZE_LIST:
      for (int64_t k = 0; k < sv.fixed_size; k++) {
        gen_value(schema->children[0], a->children[0], null_pct, card);
      }
      assert_int_equal(otap_array_finish_element(a), 0);
      return;
    default:
      break;
  }
  int64_t w = fixed_bytes(&sv);
  assert_true(w > 0);
  // Any fixed-width type: append a zero, then overwrite its bytes.
  assert_int_equal(otap_array_append_empty(a, 1), 0);
  struct otap_buffer* b = otap_array_buffer(a, 1);
  assert_non_null(b);
  int64_t pos = a->length - 1;
  assert_true(b->size >= (pos + 1) * w);
  gen_random_bytes(b->data + pos * w, w, false, card);
  if (sv.storage_type == OTAP_TYPE_HALF_FLOAT || sv.storage_type == OTAP_TYPE_FLOAT ||
      sv.storage_type == OTAP_TYPE_DOUBLE) {
    // Keep floats ordinary (compare by bits anyway).
    memset(b->data + pos * w + w - 1, 0x3f, 1);
  }
}

// Builds a random array of n rows (dictionary arrays get a dictionary of dict_len values).
static void gen_array(const struct ArrowSchema* schema, int64_t n, int null_pct, int card,
                      struct ArrowArray* out) {
  memset(out, 0, sizeof(*out));
  assert_int_equal(otap_array_init_from_schema(out, schema, NULL), 0);
  if (schema->dictionary) {
    int64_t dlen = 1 + rng_below(20);
    for (int64_t i = 0; i < dlen; i++) {
      gen_value(schema->dictionary, out->dictionary, 10, card);
    }
  }
  for (int64_t i = 0; i < n; i++) gen_value(schema, out, null_pct, card);
  struct otap_error err;
  int rc = otap_array_finish(out, OTAP_VALIDATE_FULL, schema, &err);
  if (rc != 0) fail_msg("gen_array: %s", err.message);
}

// ---------------------------------------------------------------------------------------------
// Reference comparison through views

static void view_open(struct otap_array_view* v, const struct ArrowSchema* s,
                      const struct ArrowArray* a) {
  struct otap_error err;
  memset(v, 0, sizeof(*v));
  assert_int_equal(otap_array_view_init(v, s, NULL), 0);
  int rc = otap_array_view_set(v, a, OTAP_VALIDATE_FULL, &err);
  if (rc != 0) fail_msg("view_set: %s", err.message);
}

// Logical equality of a[i] and b[j]; dictionaries are resolved on either side.
static bool elem_equal(const struct otap_array_view* a, int64_t i,
                       const struct otap_array_view* b, int64_t j) {
  if (a->dictionary) {
    if (otap_view_is_null(a, i)) return b->dictionary ? otap_view_is_null(b, j) || otap_view_is_null(b->dictionary, otap_view_get_int(b, j)) : otap_view_is_null(b, j);
    return elem_equal(a->dictionary, otap_view_get_int(a, i), b, j);
  }
  if (b->dictionary) {
    if (otap_view_is_null(b, j)) return otap_view_is_null(a, i);
    return elem_equal(a, i, b->dictionary, otap_view_get_int(b, j));
  }
  if (a->storage_type != b->storage_type) return false;
  if (a->storage_type == OTAP_TYPE_NA) return true;
  bool na = otap_view_is_null(a, i), nb = otap_view_is_null(b, j);
  if (na || nb) return na == nb;
  switch (a->storage_type) {
    case OTAP_TYPE_BOOL:
      return otap_view_get_int(a, i) == otap_view_get_int(b, j);
    case OTAP_TYPE_STRING: case OTAP_TYPE_LARGE_STRING: case OTAP_TYPE_BINARY:
    case OTAP_TYPE_LARGE_BINARY: case OTAP_TYPE_STRING_VIEW: case OTAP_TYPE_BINARY_VIEW: {
      const uint8_t *pa, *pb;
      int64_t la, lb;
      otap_view_get_bytes(a, i, &pa, &la);
      otap_view_get_bytes(b, j, &pb, &lb);
      return la == lb && (la == 0 || memcmp(pa, pb, (size_t)la) == 0);
    }
    case OTAP_TYPE_STRUCT:
      if (a->n_children != b->n_children) return false;
      for (int64_t c = 0; c < a->n_children; c++) {
        if (!elem_equal(a->children[c], a->offset + i, b->children[c], b->offset + j)) {
          return false;
        }
      }
      return true;
    case OTAP_TYPE_LIST: case OTAP_TYPE_LARGE_LIST: case OTAP_TYPE_MAP:
    case OTAP_TYPE_FIXED_SIZE_LIST: case OTAP_TYPE_LIST_VIEW: case OTAP_TYPE_LARGE_LIST_VIEW: {
      int64_t sa, ea, sb, eb;
      otap_view_get_list_range(a, i, &sa, &ea);
      otap_view_get_list_range(b, j, &sb, &eb);
      if (ea - sa != eb - sb) return false;
      for (int64_t k = 0; k < ea - sa; k++) {
        if (!elem_equal(a->children[0], sa + k, b->children[0], sb + k)) return false;
      }
      return true;
    }
    default: {
      int64_t w = fixed_bytes(&a->schema);
      if (w <= 0) return false;
      return memcmp(a->buffers[1] + (a->offset + i) * w, b->buffers[1] + (b->offset + j) * w,
                    (size_t)w) == 0;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Test schemas

#define N_FLAT 33
static const char* const k_flat_formats[N_FLAT] = {
    "n",      "b",      "c",      "C",      "s",      "S",       "i",     "I",     "l",
    "L",      "e",      "f",      "g",      "d:10,2", "d:5,1,32", "d:15,2,64", "d:40,2,256",
    "w:5",    "tdD",    "tdm",    "tts",    "ttn",    "tsn:UTC", "tDu",   "tiM",   "tiD",
    "tin",    "u",      "U",      "z",      "Z",      "vu",      "vz"};

// Nested schemas used by the random tests.
static void make_nested(int which, struct ArrowSchema* out) {
  struct ArrowSchema a, b, c, d, e;
  switch (which) {
    case 0:  // struct<id: int32, name: utf8, tags: list<utf8>>
      schema_leaf(&a, "i", "id");
      schema_leaf(&b, "u", "name");
      schema_leaf(&d, "u", "item");
      schema_make(&c, "+l", "tags", 1, &d);
      schema_make(out, "+s", "rec", 3, &a, &b, &c);
      return;
    case 1:  // list<struct<k: large_utf8, v: int64>>
      schema_leaf(&a, "U", "k");
      schema_leaf(&b, "l", "v");
      schema_make(&c, "+s", "item", 2, &a, &b);
      schema_make(out, "+l", "kvs", 1, &c);
      return;
    case 2:  // large_list<fixed_size_list<int16, 3>>
      schema_leaf(&a, "s", "x");
      schema_make(&b, "+w:3", "item", 1, &a);
      schema_make(out, "+L", "ll", 1, &b);
      return;
    case 3:  // map<utf8, double>
      schema_leaf(&a, "u", "key");
      a.flags = 0;
      schema_leaf(&b, "g", "value");
      schema_make(&c, "+s", "entries", 2, &a, &b);
      c.flags = 0;
      schema_make(out, "+m", "attrs", 1, &c);
      return;
    case 4:  // struct<s: struct<b: bool, v: utf8_view>, d: dictionary<int16, utf8>>
      schema_leaf(&a, "b", "b");
      schema_leaf(&b, "vu", "v");
      schema_make(&c, "+s", "s", 2, &a, &b);
      schema_dict(&d, "s", "u", "d");
      schema_make(out, "+s", "outer", 2, &c, &d);
      return;
    case 5:  // list_view<int32>
      schema_leaf(&a, "i", "item");
      schema_make(out, "+vl", "lv", 1, &a);
      return;
    case 6:  // dictionary<uint8, utf8>
      schema_dict(out, "C", "u", "dict");
      return;
    case 7:  // dictionary<int32, fixed_size_binary(4)>
      schema_dict(out, "i", "w:4", "dictf");
      return;
    case 8:  // struct<l: list<struct<a: int8, n: null>>>
      schema_leaf(&a, "c", "a");
      schema_leaf(&e, "n", "n");
      schema_make(&b, "+s", "item", 2, &a, &e);
      schema_make(&c, "+l", "l", 1, &b);
      schema_make(out, "+s", "top", 1, &c);
      return;
    default:
      fail();
  }
}
#define N_NESTED 9

// Calls fn(schema) for every flat and nested test schema.
static void for_each_schema(void (*fn)(const struct ArrowSchema*)) {
  for (int i = 0; i < N_FLAT; i++) {
    struct ArrowSchema s;
    schema_leaf(&s, k_flat_formats[i], k_flat_formats[i]);
    fn(&s);
    otap_schema_release(&s);
  }
  for (int i = 0; i < N_NESTED; i++) {
    struct ArrowSchema s;
    make_nested(i, &s);
    fn(&s);
    otap_schema_release(&s);
  }
}

// Random input, maybe sliced: returns the array to operate on in *use (owned).
static void gen_input(const struct ArrowSchema* s, int64_t n, struct ArrowArray* use) {
  struct ArrowArray full;
  gen_array(s, n, (int)rng_below(40), 0, &full);
  if (n > 2 && rng_below(2)) {
    int64_t off = rng_below(n / 2);
    int64_t len = rng_below(n - off + 1);
    assert_int_equal(otap_array_slice(&full, off, len, use, NULL), 0);
    otap_array_release(&full);
  } else {
    otap_array_move(&full, use);
  }
}

// ---------------------------------------------------------------------------------------------
// take

static void check_take(const struct ArrowSchema* s) {
  char type[256];
  otap_schema_format_type(s, type, sizeof(type));
  for (int round = 0; round < 6; round++) {
    rng_seed(1000 + (uint64_t)round * 31 + strlen(type));
    int64_t n = round == 0 ? 0 : round == 5 ? 1500 + rng_below(1500) : rng_below(120);
    struct ArrowArray in, out;
    gen_input(s, n, &in);
    int64_t m = round == 5 ? 2000 + rng_below(100) : rng_below(150);
    int64_t* idx = malloc((size_t)(m + 1) * sizeof(int64_t));
    for (int64_t i = 0; i < m; i++) {
      idx[i] = (in.length == 0 || rng_below(10) == 0) ? -1 : rng_below(in.length);
    }
    struct otap_error err;
    int rc = otap_array_take(s, &in, idx, m, &out, &err);
    if (rc != 0) fail_msg("take %s: %s", type, err.message);
    struct otap_array_view vi, vo;
    view_open(&vi, s, &in);
    view_open(&vo, s, &out);
    assert_int_equal(vo.length, m);
    for (int64_t i = 0; i < m; i++) {
      if (idx[i] < 0) {
        if (s->dictionary || vo.storage_type != OTAP_TYPE_NA) assert_true(otap_view_is_null(&vo, i));
        continue;
      }
      if (!elem_equal(&vo, i, &vi, idx[i])) {
        fail_msg("take %s: row %lld (index %lld) differs", type, (long long)i,
                 (long long)idx[i]);
      }
    }
    if (s->dictionary) {
      // The dictionary is shared, not copied.
      assert_ptr_equal(vo.dictionary->buffers[1], vi.dictionary->buffers[1]);
    }
    otap_array_view_reset(&vi);
    otap_array_view_reset(&vo);
    otap_array_release(&out);
    otap_array_release(&in);
    free(idx);
  }
}

static void test_take_all_types(void** state) {
  (void)state;
  for_each_schema(check_take);
}

static void test_take_hostile_indices(void** state) {
  (void)state;
  struct ArrowSchema s;
  schema_leaf(&s, "u", "body");
  rng_seed(7);
  struct ArrowArray in, out;
  gen_array(&s, 10, 20, 0, &in);
  const int64_t bad[][3] = {{0, 10, 1}, {INT64_MAX, 0, 0}, {3, -5, 10}};
  const int64_t bad_pos[] = {1, 0, 2};
  for (int t = 0; t < 3; t++) {
    struct otap_error err;
    memset(&out, 0, sizeof(out));
    int rc = otap_array_take(&s, &in, bad[t], 3, &out, &err);
    assert_int_equal(rc, EINVAL);
    assert_null(out.release);
    char want[64];
    snprintf(want, sizeof(want), "position %lld", (long long)bad_pos[t]);
    assert_non_null(strstr(err.message, want));
    assert_non_null(strstr(err.message, "body"));
  }
  // INT64_MIN is a negative index: a null row.
  const int64_t neg[2] = {INT64_MIN, 0};
  assert_int_equal(otap_array_take(&s, &in, neg, 2, &out, NULL), 0);
  assert_int_equal(out.length, 2);
  assert_int_equal(out.null_count >= 1, 1);
  otap_array_release(&out);
  // Bad arguments.
  assert_int_equal(otap_array_take(&s, &in, NULL, 3, &out, NULL), EINVAL);
  assert_int_equal(otap_array_take(&s, &in, neg, -1, &out, NULL), EINVAL);
  otap_array_release(&in);
  otap_schema_release(&s);
}

// A foreign int32 + utf8 struct array with static buffers (its own release).
static int g_foreign_releases;
static void foreign_release(struct ArrowArray* a) {
  for (int64_t i = 0; i < a->n_children; i++) {
    if (a->children[i]->release) a->children[i]->release(a->children[i]);
  }
  if (a->dictionary && a->dictionary->release) a->dictionary->release(a->dictionary);
  g_foreign_releases++;
  a->release = NULL;
}

static void test_take_foreign_corrupt_offsets(void** state) {
  (void)state;
  struct ArrowSchema s;
  schema_leaf(&s, "u", "msg");
  // Offsets: 0, 3, 1 (decreasing), 5. DEFAULT validation only checks the ends.
  static const int32_t offs[4] = {0, 3, 1, 5};
  static const char data[] = "abcde";
  const void* bufs[3] = {NULL, offs, data};
  struct ArrowArray a = {.length = 3, .null_count = 0, .offset = 0, .n_buffers = 3,
                         .buffers = bufs, .release = foreign_release};
  int64_t idx[2] = {0, 1};
  struct ArrowArray out;
  struct otap_error err;
  int rc = otap_array_take(&s, &a, idx, 2, &out, &err);
  assert_int_equal(rc, EINVAL);
  assert_non_null(strstr(err.message, "msg"));
  // The good rows of a foreign array work.
  idx[1] = 0;
  assert_int_equal(otap_array_take(&s, &a, idx, 2, &out, &err), 0);
  struct otap_array_view v;
  view_open(&v, &s, &out);
  const uint8_t* p;
  int64_t len;
  otap_view_get_bytes(&v, 1, &p, &len);
  assert_int_equal(len, 3);
  assert_memory_equal(p, "abc", 3);
  otap_array_view_reset(&v);
  otap_array_release(&out);
  g_foreign_releases = 0;
  a.release(&a);
  assert_int_equal(g_foreign_releases, 1);
  otap_schema_release(&s);
}

static void test_take_foreign_dictionary(void** state) {
  (void)state;
  struct ArrowSchema s;
  schema_dict(&s, "c", "u", "sev");
  static const int32_t doffs[3] = {0, 4, 9};
  static const char ddata[] = "INFOERROR";
  const void* dbufs[3] = {NULL, doffs, ddata};
  struct ArrowArray dict = {.length = 2, .n_buffers = 3, .buffers = dbufs,
                            .release = foreign_release};
  static const int8_t ind[4] = {1, 0, 1, 1};
  const void* bufs[2] = {NULL, ind};
  struct ArrowArray a = {.length = 4, .n_buffers = 2, .buffers = bufs, .dictionary = &dict,
                         .release = foreign_release};
  int64_t idx[3] = {3, -1, 1};
  struct ArrowArray out;
  struct otap_error err;
  int rc = otap_array_take(&s, &a, idx, 3, &out, &err);
  if (rc != 0) fail_msg("%s", err.message);
  struct otap_array_view vi, vo;
  view_open(&vi, &s, &a);
  view_open(&vo, &s, &out);
  assert_true(elem_equal(&vo, 0, &vi, 3));
  assert_true(otap_view_is_null(&vo, 1));
  assert_true(elem_equal(&vo, 2, &vi, 1));
  otap_array_view_reset(&vi);
  otap_array_view_reset(&vo);
  // The output outlives the foreign input (its dictionary was copied).
  g_foreign_releases = 0;
  a.release(&a);
  assert_int_equal(g_foreign_releases, 2);
  view_open(&vo, &s, &out);
  const uint8_t* p;
  int64_t len;
  otap_view_get_bytes(vo.dictionary, otap_view_get_int(&vo, 0), &p, &len);
  assert_int_equal(len, 5);
  assert_memory_equal(p, "ERROR", 5);
  otap_array_view_reset(&vo);
  otap_array_release(&out);
  otap_schema_release(&s);
}


// Struct whose children are themselves sliced (child offsets != 0) under a sliced parent: the
// parent's offset applies on top of each child's own offset.
static void test_take_struct_child_offsets(void** state) {
  (void)state;
  struct ArrowSchema a, b, s;
  schema_leaf(&a, "i", "a");
  schema_leaf(&b, "u", "b");
  schema_make(&s, "+s", "st", 2, &a, &b);
  rng_seed(55);
  struct ArrowArray ca, cb, sa, sb;
  gen_array(s.children[0], 50, 20, 0, &ca);
  gen_array(s.children[1], 50, 20, 0, &cb);
  assert_int_equal(otap_array_slice(&ca, 3, 40, &sa, NULL), 0);
  assert_int_equal(otap_array_slice(&cb, 7, 40, &sb, NULL), 0);
  struct ArrowArray* kids[2] = {&sa, &sb};
  static const uint8_t valid[5] = {0xff, 0xf7, 0xff, 0xff, 0xff};  // row 11 null
  const void* bufs[1] = {valid};
  struct ArrowArray parent = {.length = 30, .null_count = -1, .offset = 8, .n_buffers = 1,
                              .buffers = bufs, .n_children = 2, .children = kids,
                              .release = foreign_release};
  int64_t idx[6] = {0, 3, 29, -1, 10, 3};
  struct ArrowArray out;
  struct otap_error err;
  int rc = otap_array_take(&s, &parent, idx, 6, &out, &err);
  if (rc != 0) fail_msg("%s", err.message);
  struct otap_array_view vp, vo, va, vb;
  view_open(&vp, &s, &parent);
  view_open(&vo, &s, &out);
  view_open(&va, s.children[0], &ca);
  view_open(&vb, s.children[1], &cb);
  for (int i = 0; i < 6; i++) {
    if (idx[i] < 0) {
      assert_true(otap_view_is_null(&vo, i));
      continue;
    }
    assert_true(elem_equal(&vo, i, &vp, idx[i]));
    assert_int_equal(otap_view_is_null(&vo, i), idx[i] == 3);
    // Against the unsliced children directly: row r of the struct is child row
    // child_offset + parent_offset + r.
    assert_true(elem_equal(vo.children[0], vo.offset + i, &va, 3 + 8 + idx[i]));
    assert_true(elem_equal(vo.children[1], vo.offset + i, &vb, 7 + 8 + idx[i]));
  }
  otap_array_view_reset(&vp);
  otap_array_view_reset(&vo);
  otap_array_view_reset(&va);
  otap_array_view_reset(&vb);
  otap_array_release(&out);
  // concat of the same struct twice
  const struct ArrowArray* two[2] = {&parent, &parent};
  rc = otap_array_concat(&s, two, 2, &out, &err);
  if (rc != 0) fail_msg("%s", err.message);
  view_open(&vp, &s, &parent);
  view_open(&vo, &s, &out);
  for (int64_t i = 0; i < 60; i++) assert_true(elem_equal(&vo, i, &vp, i % 30));
  otap_array_view_reset(&vp);
  otap_array_view_reset(&vo);
  otap_array_release(&out);
  otap_array_release(&sa);
  otap_array_release(&sb);
  otap_array_release(&ca);
  otap_array_release(&cb);
  otap_schema_release(&s);
}

// No nulls in, no negative index: no validity bitmap out. Unions and run-end encoded: ENOTSUP.
static void test_take_validity_and_unsupported(void** state) {
  (void)state;
  struct ArrowSchema s;
  schema_leaf(&s, "l", "x");
  rng_seed(5);
  struct ArrowArray in, out;
  gen_array(&s, 100, 0, 0, &in);
  int64_t idx[3] = {1, 99, 0};
  assert_int_equal(otap_array_take(&s, &in, idx, 3, &out, NULL), 0);
  assert_null(out.buffers[0]);
  assert_int_equal(out.null_count, 0);
  otap_array_release(&out);
  idx[1] = -1;
  assert_int_equal(otap_array_take(&s, &in, idx, 3, &out, NULL), 0);
  assert_non_null(out.buffers[0]);
  assert_int_equal(out.null_count, 1);
  otap_array_release(&out);
  otap_array_release(&in);
  otap_schema_release(&s);

  const char* formats[2] = {"+us:0,1", "+r"};
  for (int f = 0; f < 2; f++) {
    struct ArrowSchema c0, c1;
    if (f == 0) {
      schema_leaf(&c0, "i", "a");
      schema_leaf(&c1, "u", "b");
    } else {
      schema_leaf(&c0, "i", "run_ends");
      c0.flags = 0;
      schema_leaf(&c1, "u", "values");
    }
    schema_make(&s, formats[f], "u", 2, &c0, &c1);
    struct ArrowArray e;
    assert_int_equal(otap_array_init_from_schema(&e, &s, NULL), 0);
    assert_int_equal(otap_array_finish(&e, OTAP_VALIDATE_DEFAULT, &s, NULL), 0);
    struct otap_error err;
    assert_int_equal(otap_array_take(&s, &e, idx, 0, &out, &err), ENOTSUP);
    assert_non_null(strstr(err.message, "not supported"));
    const struct ArrowArray* one[1] = {&e};
    assert_int_equal(otap_array_concat(&s, one, 1, &out, &err), ENOTSUP);
    otap_array_release(&e);
    otap_schema_release(&s);
  }
}

// 32-bit offsets that would overflow: list<null> rows of 1.5e9 elements (a null child needs no
// memory). take and concat answer ERANGE before allocating anything that large.
static void test_offsets_overflow(void** state) {
  (void)state;
  struct ArrowSchema c, s;
  schema_leaf(&c, "n", "item");
  schema_make(&s, "+l", "big", 1, &c);
  struct ArrowArray child = {.length = 1500000000, .null_count = 1500000000, .n_buffers = 0,
                             .release = foreign_release};
  struct ArrowArray* kids[1] = {&child};
  static const int32_t offs[2] = {0, 1500000000};
  const void* bufs[2] = {NULL, offs};
  struct ArrowArray a = {.length = 1, .n_buffers = 2, .buffers = bufs, .n_children = 1,
                         .children = kids, .release = foreign_release};
  struct ArrowArray out;
  struct otap_error err;
  const int64_t idx[2] = {0, 0};
  memset(&out, 0, sizeof(out));
  assert_int_equal(otap_array_take(&s, &a, idx, 2, &out, &err), ERANGE);
  assert_non_null(strstr(err.message, "large_"));
  const struct ArrowArray* two[2] = {&a, &a};
  assert_int_equal(otap_array_concat(&s, two, 2, &out, &err), ERANGE);
  assert_non_null(strstr(err.message, "big"));
  assert_null(out.release);
  // A single input fits (concat of a null child needs no memory per element).
  const struct ArrowArray* one[1] = {&a};
  int rc = otap_array_concat(&s, one, 1, &out, &err);
  if (rc != 0) fail_msg("%s", err.message);
  assert_int_equal(out.length, 1);
  assert_int_equal(out.children[0]->length, 1500000000);
  otap_array_release(&out);
  otap_schema_release(&s);
}

// Hostile foreign inputs that DEFAULT validation lets through: decreasing offsets inside the
// array and dictionary indices past the dictionary. Every operation reports EINVAL.
static void test_hostile_foreign_inputs(void** state) {
  (void)state;
  struct ArrowSchema s;
  schema_leaf(&s, "u", "msg");
  static const int32_t offs[4] = {0, 4, 2, 5};
  static const char data[] = "abcde";
  const void* bufs[3] = {NULL, offs, data};
  struct ArrowArray a = {.length = 3, .n_buffers = 3, .buffers = bufs, .release = foreign_release};
  const struct ArrowArray* two[2] = {&a, &a};
  struct ArrowArray out;
  struct otap_error err;
  memset(&out, 0, sizeof(out));
  assert_int_equal(otap_array_concat(&s, two, 2, &out, &err), EINVAL);
  assert_non_null(strstr(err.message, "msg"));
  assert_null(out.release);
  struct ArrowSchema ds;
  assert_int_equal(otap_dict_encode(&s, &a, OTAP_TYPE_INT32, &ds, &out, &err), EINVAL);
  assert_null(out.release);

  // dictionary<int8, utf8> with index 7 into a dictionary of 2 values (and a negative one).
  struct ArrowSchema d;
  schema_dict(&d, "c", "u", "sev");
  static const int32_t doffs[3] = {0, 4, 9};
  static const char ddata[] = "INFOERROR";
  const void* dbufs[3] = {NULL, doffs, ddata};
  struct ArrowArray dict = {.length = 2, .n_buffers = 3, .buffers = dbufs,
                            .release = foreign_release};
  static const int8_t bad_ind[3] = {1, 7, 0};
  static const int8_t neg_ind[3] = {1, -3, 0};
  const int8_t* cases[2] = {bad_ind, neg_ind};
  for (int c = 0; c < 2; c++) {
    const void* ibufs[2] = {NULL, cases[c]};
    // (release set so the array counts as live; never called: dict is released once below)
    struct ArrowArray x = {.length = 3, .n_buffers = 2, .buffers = ibufs, .dictionary = &dict,
                           .release = foreign_release};
    const struct ArrowArray* xx[2] = {&x, &x};
    assert_int_equal(otap_dict_decode(&d, &x, &out, &err), EINVAL);
    if (!strstr(err.message, "row 1")) fail_msg("%s", err.message);
    assert_int_equal(otap_dict_compact(&d, &x, &out, &err), EINVAL);
    int64_t remap[2] = {0, 1};
    struct ArrowArray nd;
    struct ArrowSchema rs;
    struct ArrowSchema vs;
    schema_leaf(&vs, "u", NULL);
    gen_array(&vs, 2, 0, 0, &nd);
    assert_int_equal(
        otap_dict_remap_indices(&d, &x, remap, 2, OTAP_TYPE_INT16, &nd, &rs, &out, &err), EINVAL);
    otap_array_release(&nd);
    otap_schema_release(&vs);
    // Concat with the same dictionary (shared, indices copied) and with distinct dictionaries
    // (merged, indices remapped): bad indices are reported either way.
    assert_int_equal(otap_array_concat(&d, xx, 2, &out, &err), EINVAL);
    assert_non_null(strstr(err.message, "dictionary index"));
    struct ArrowArray dict2 = dict;
    struct ArrowArray y = x;
    y.dictionary = &dict2;
    const struct ArrowArray* xy[2] = {&x, &y};
    static const int32_t doffs2[3] = {0, 3, 9};
    const void* dbufs2[3] = {NULL, doffs2, ddata};
    dict2.buffers = dbufs2;
    assert_int_equal(otap_array_concat(&d, xy, 2, &out, &err), EINVAL);
    assert_non_null(strstr(err.message, "dictionary index"));
  }
  g_foreign_releases = 0;
  dict.release(&dict);
  a.release(&a);
  assert_int_equal(g_foreign_releases, 2);
  otap_schema_release(&d);
  otap_schema_release(&s);
}

// ---------------------------------------------------------------------------------------------
// concat

static void check_concat(const struct ArrowSchema* s) {
  char type[256];
  otap_schema_format_type(s, type, sizeof(type));
  for (int round = 0; round < 5; round++) {
    rng_seed(2000 + (uint64_t)round * 17 + strlen(type));
    int64_t n = round == 0 ? 0 : round == 4 ? 2000 + rng_below(999) : rng_below(150);
    struct ArrowArray full;
    gen_array(s, n, (int)rng_below(40), 0, &full);
    // Cut into k slices (some empty), concat, compare with the original.
    int64_t k = 1 + rng_below(5);
    struct ArrowArray parts[6];
    const struct ArrowArray* ptrs[6];
    int64_t pos = 0;
    for (int64_t p = 0; p < k; p++) {
      int64_t len = p == k - 1 ? n - pos : rng_below(n - pos + 1);
      assert_int_equal(otap_array_slice(&full, pos, len, &parts[p], NULL), 0);
      ptrs[p] = &parts[p];
      pos += len;
    }
    struct ArrowArray out;
    struct otap_error err;
    int rc = otap_array_concat(s, ptrs, k, &out, &err);
    if (rc != 0) fail_msg("concat %s: %s", type, err.message);
    struct otap_array_view vf, vo;
    view_open(&vf, s, &full);
    view_open(&vo, s, &out);
    assert_int_equal(vo.length, n);
    for (int64_t i = 0; i < n; i++) {
      if (!elem_equal(&vo, i, &vf, i)) fail_msg("concat %s: row %lld differs", type, (long long)i);
    }
    otap_array_view_reset(&vf);
    otap_array_view_reset(&vo);
    otap_array_release(&out);
    for (int64_t p = 0; p < k; p++) otap_array_release(&parts[p]);
    otap_array_release(&full);

    // Independent arrays (distinct dictionaries): concat equals each piece in order.
    int64_t na = rng_below(60), nb = rng_below(60);
    struct ArrowArray a, b;
    gen_input(s, na, &a);
    gen_input(s, nb, &b);
    const struct ArrowArray* two[2] = {&a, &b};
    rc = otap_array_concat(s, two, 2, &out, &err);
    if (rc != 0) fail_msg("concat2 %s: %s", type, err.message);
    struct otap_array_view va, vb;
    view_open(&va, s, &a);
    view_open(&vb, s, &b);
    view_open(&vo, s, &out);
    assert_int_equal(vo.length, va.length + vb.length);
    for (int64_t i = 0; i < va.length; i++) assert_true(elem_equal(&vo, i, &va, i));
    for (int64_t i = 0; i < vb.length; i++) assert_true(elem_equal(&vo, va.length + i, &vb, i));
    otap_array_view_reset(&va);
    otap_array_view_reset(&vb);
    otap_array_view_reset(&vo);
    otap_array_release(&out);
    otap_array_release(&a);
    otap_array_release(&b);
  }
}

static void test_concat_all_types(void** state) {
  (void)state;
  for_each_schema(check_concat);
}

static void test_concat_empty_and_overflow(void** state) {
  (void)state;
  struct ArrowSchema s;
  schema_dict(&s, "c", "i", "code");
  struct ArrowArray out;
  // Zero inputs: an empty array.
  assert_int_equal(otap_array_concat(&s, NULL, 0, &out, NULL), 0);
  assert_int_equal(out.length, 0);
  otap_array_release(&out);
  // Two int8-indexed dictionaries of 100 distinct values each: 200 > 128 -> ERANGE.
  struct ArrowArray a[2];
  for (int k = 0; k < 2; k++) {
    assert_int_equal(otap_array_init_from_schema(&a[k], &s, NULL), 0);
    for (int j = 0; j < 100; j++) {
      assert_int_equal(otap_array_append_int(a[k].dictionary, k * 1000 + j), 0);
      assert_int_equal(otap_array_append_int(&a[k], j), 0);
    }
    assert_int_equal(otap_array_finish(&a[k], OTAP_VALIDATE_FULL, &s, NULL), 0);
  }
  const struct ArrowArray* ptrs[2] = {&a[0], &a[1]};
  struct otap_error err;
  memset(&out, 0, sizeof(out));
  assert_int_equal(otap_array_concat(&s, ptrs, 2, &out, &err), ERANGE);
  assert_non_null(strstr(err.message, "code"));
  assert_null(out.release);
  // Same values twice: merges to 100 values, fits.
  const struct ArrowArray* same[2] = {&a[0], &a[0]};
  assert_int_equal(otap_array_concat(&s, same, 2, &out, &err), 0);
  assert_int_equal(out.length, 200);
  assert_int_equal(out.dictionary->length, 100);
  otap_array_release(&out);
  otap_array_release(&a[0]);
  otap_array_release(&a[1]);
  otap_schema_release(&s);
}

// ---------------------------------------------------------------------------------------------
// dictionaries

static const char* const k_dict_value_formats[] = {"u", "U", "z", "vu", "i", "l", "g", "b",
                                                   "w:3", "d:12,2", "C"};
static const enum otap_type k_index_types[] = {OTAP_TYPE_INT8,  OTAP_TYPE_UINT8,
                                               OTAP_TYPE_INT16, OTAP_TYPE_UINT16,
                                               OTAP_TYPE_INT32, OTAP_TYPE_UINT64};

static void test_dict_encode_decode(void** state) {
  (void)state;
  for (size_t f = 0; f < sizeof(k_dict_value_formats) / sizeof(*k_dict_value_formats); f++) {
    struct ArrowSchema s;
    schema_leaf(&s, k_dict_value_formats[f], "v");
    for (int round = 0; round < 4; round++) {
      rng_seed(3000 + f * 13 + (uint64_t)round);
      int64_t n = round == 0 ? 0 : rng_below(300);
      struct ArrowArray in;
      struct ArrowArray full;
      gen_array(&s, n, (int)rng_below(30), 1 + (int)rng_below(50), &full);
      if (n > 4 && round % 2) {
        assert_int_equal(otap_array_slice(&full, 2, n - 4, &in, NULL), 0);
        otap_array_release(&full);
      } else {
        otap_array_move(&full, &in);
      }
      enum otap_type it = k_index_types[round % 6];
      struct ArrowSchema ds;
      struct ArrowArray enc, dec;
      struct otap_error err;
      int rc = otap_dict_encode(&s, &in, it, &ds, &enc, &err);
      if (rc != 0) fail_msg("encode %s: %s", k_dict_value_formats[f], err.message);
      assert_non_null(ds.dictionary);
      struct otap_schema_view sv;
      assert_int_equal(otap_schema_view_init(&sv, &ds, NULL), 0);
      assert_int_equal(sv.type, OTAP_TYPE_DICTIONARY);
      assert_int_equal(sv.storage_type, it);
      struct otap_array_view vi, ve;
      view_open(&vi, &s, &in);
      view_open(&ve, &ds, &enc);
      // Distinct values in first-appearance order; nulls are null indices.
      int64_t next = 0;
      for (int64_t i = 0; i < vi.length; i++) {
        assert_int_equal(otap_view_is_null(&ve, i), otap_view_is_null(&vi, i));
        if (otap_view_is_null(&vi, i)) continue;
        assert_true(elem_equal(&ve, i, &vi, i));
        int64_t x = otap_view_get_int(&ve, i);
        assert_true(x <= next);
        if (x == next) next++;
      }
      assert_int_equal(ve.dictionary->length, next);
      for (int64_t p = 0; p < next; p++) {
        for (int64_t q = p + 1; q < next; q++) assert_false(elem_equal(ve.dictionary, p, ve.dictionary, q));
      }
      rc = otap_dict_decode(&ds, &enc, &dec, &err);
      if (rc != 0) fail_msg("decode: %s", err.message);
      struct otap_array_view vd;
      view_open(&vd, &s, &dec);
      assert_int_equal(vd.length, vi.length);
      for (int64_t i = 0; i < vi.length; i++) assert_true(elem_equal(&vd, i, &vi, i));
      otap_array_view_reset(&vd);
      otap_array_view_reset(&vi);
      otap_array_view_reset(&ve);
      otap_array_release(&dec);
      otap_array_release(&enc);
      otap_array_release(&in);
      otap_schema_release(&ds);
    }
    otap_schema_release(&s);
  }
}

static void test_dict_encode_overflow(void** state) {
  (void)state;
  struct ArrowSchema s, ds;
  schema_leaf(&s, "i", "n");
  struct ArrowArray in, enc;
  assert_int_equal(otap_array_init_from_schema(&in, &s, NULL), 0);
  for (int i = 0; i < 300; i++) assert_int_equal(otap_array_append_int(&in, i % 256), 0);
  assert_int_equal(otap_array_finish(&in, OTAP_VALIDATE_FULL, &s, NULL), 0);
  struct otap_error err;
  memset(&enc, 0, sizeof(enc));
  memset(&ds, 0, sizeof(ds));
  assert_int_equal(otap_dict_encode(&s, &in, OTAP_TYPE_INT8, &ds, &enc, &err), ERANGE);
  assert_non_null(strstr(err.message, "int8"));
  assert_null(enc.release);
  assert_null(ds.release);
  assert_int_equal(otap_dict_encode(&s, &in, OTAP_TYPE_UINT8, &ds, &enc, &err), 0);
  assert_int_equal(enc.dictionary->length, 256);
  otap_array_release(&enc);
  otap_schema_release(&ds);
  assert_int_equal(otap_dict_encode(&s, &in, OTAP_TYPE_DOUBLE, &ds, &enc, &err), EINVAL);
  otap_array_release(&in);
  otap_schema_release(&s);
}

static void test_dict_merge_remap_compact(void** state) {
  (void)state;
  const char* vf[] = {"u", "l", "vz", "w:4"};
  for (int f = 0; f < 4; f++) {
    struct ArrowSchema s;
    schema_dict(&s, "C", vf[f], "d");
    for (int round = 0; round < 4; round++) {
      rng_seed(4000 + (uint64_t)f * 7 + (uint64_t)round);
      int64_t k = round == 0 ? 1 : 1 + rng_below(4);
      struct ArrowArray in[4];
      const struct ArrowArray* ptrs[4];
      for (int64_t p = 0; p < k; p++) {
        memset(&in[p], 0, sizeof(in[p]));
        assert_int_equal(otap_array_init_from_schema(&in[p], &s, NULL), 0);
        int64_t dlen = rng_below(30);
        for (int64_t j = 0; j < dlen; j++) gen_value(s.dictionary, in[p].dictionary, 5, 12);
        int64_t n = rng_below(80);
        for (int64_t i = 0; i < n; i++) {
          if (dlen == 0 || rng_below(8) == 0) {
            assert_int_equal(otap_array_append_null(&in[p], 1), 0);
          } else {
            assert_int_equal(otap_array_append_int(&in[p], rng_below(dlen)), 0);
          }
        }
        assert_int_equal(otap_array_finish(&in[p], OTAP_VALIDATE_FULL, &s, NULL), 0);
        ptrs[p] = &in[p];
      }
      struct ArrowArray merged;
      int64_t* remaps[4];
      struct otap_error err;
      int rc = otap_dict_merge(&s, ptrs, k, &merged, remaps, &err);
      if (rc != 0) fail_msg("merge: %s", err.message);
      struct otap_array_view vm;
      view_open(&vm, s.dictionary, &merged);
      // Distinct values; every old value maps to an equal merged value.
      for (int64_t p = 0; p < vm.length; p++) {
        for (int64_t q = p + 1; q < vm.length; q++) assert_false(elem_equal(&vm, p, &vm, q));
      }
      for (int64_t p = 0; p < k; p++) {
        struct otap_array_view vp;
        view_open(&vp, &s, &in[p]);
        for (int64_t j = 0; j < vp.dictionary->length; j++) {
          assert_true(remaps[p][j] >= 0 && remaps[p][j] < vm.length);
          assert_true(elem_equal(&vm, remaps[p][j], vp.dictionary, j));
        }
        // Remap the indices onto the merged dictionary with uint16 indices.
        struct ArrowArray md, re, cp;
        assert_int_equal(otap_array_ref(&merged, &md, NULL), 0);
        struct ArrowSchema rs;
        rc = otap_dict_remap_indices(&s, &in[p], remaps[p], vp.dictionary->length,
                                     OTAP_TYPE_UINT16, &md, &rs, &re, &err);
        if (rc != 0) fail_msg("remap: %s", err.message);
        assert_null(md.release);
        struct otap_array_view vr;
        view_open(&vr, &rs, &re);
        assert_int_equal(vr.storage_type, OTAP_TYPE_UINT16);
        assert_int_equal(vr.length, vp.length);
        for (int64_t i = 0; i < vp.length; i++) assert_true(elem_equal(&vr, i, &vp, i));
        // Compact drops what this input does not use, keeping order.
        rc = otap_dict_compact(&rs, &re, &cp, &err);
        if (rc != 0) fail_msg("compact: %s", err.message);
        struct otap_array_view vc;
        view_open(&vc, &rs, &cp);
        int64_t used = 0;
        for (int64_t j = 0; j < vr.dictionary->length; j++) {
          bool u = false;
          for (int64_t i = 0; i < vr.length && !u; i++) {
            u = !otap_view_is_null(&vr, i) && otap_view_get_int(&vr, i) == j;
          }
          if (u) {
            assert_true(used < vc.dictionary->length);
            assert_true(elem_equal(vc.dictionary, used, vr.dictionary, j));
            used++;
          }
        }
        assert_int_equal(vc.dictionary->length, used);
        for (int64_t i = 0; i < vp.length; i++) assert_true(elem_equal(&vc, i, &vp, i));
        otap_array_view_reset(&vc);
        otap_array_view_reset(&vr);
        otap_array_view_reset(&vp);
        otap_array_release(&cp);
        otap_array_release(&re);
        otap_schema_release(&rs);
        otap_free(remaps[p]);
      }
      otap_array_view_reset(&vm);
      otap_array_release(&merged);
      for (int64_t p = 0; p < k; p++) otap_array_release(&in[p]);
    }
    otap_schema_release(&s);
  }
}

static void test_dict_remap_errors(void** state) {
  (void)state;
  struct ArrowSchema s, rs;
  schema_dict(&s, "C", "u", "d");
  struct ArrowArray in, nd, out;
  assert_int_equal(otap_array_init_from_schema(&in, &s, NULL), 0);
  for (int j = 0; j < 3; j++) assert_int_equal(otap_array_append_bytes(in.dictionary, "xyz", j), 0);
  for (int i = 0; i < 6; i++) assert_int_equal(otap_array_append_int(&in, i % 3), 0);
  assert_int_equal(otap_array_finish(&in, OTAP_VALIDATE_FULL, &s, NULL), 0);
  // A dictionary of 400 values for the new indices.
  struct ArrowSchema vs;
  schema_leaf(&vs, "u", NULL);
  gen_array(&vs, 400, 0, 0, &nd);
  const int64_t big[3] = {0, 1, 300};
  struct otap_error err;
  memset(&out, 0, sizeof(out));
  assert_int_equal(otap_dict_remap_indices(&s, &in, big, 3, OTAP_TYPE_UINT8, &nd, &rs, &out, &err),
                   ERANGE);
  assert_non_null(strstr(err.message, "uint8"));
  assert_non_null(nd.release);  // not consumed on failure
  assert_null(out.release);
  const int64_t shortmap[2] = {0, 1};
  assert_int_equal(
      otap_dict_remap_indices(&s, &in, shortmap, 2, OTAP_TYPE_UINT8, &nd, &rs, &out, &err), EINVAL);
  // uint8 -> uint16 widening with a negative entry: those rows become null.
  const int64_t ok[3] = {399, -1, 5};
  assert_int_equal(otap_dict_remap_indices(&s, &in, ok, 3, OTAP_TYPE_UINT16, &nd, &rs, &out, &err),
                   0);
  assert_null(nd.release);
  struct otap_array_view v;
  view_open(&v, &rs, &out);
  assert_int_equal(otap_view_get_int(&v, 0), 399);
  assert_true(otap_view_is_null(&v, 1));
  assert_int_equal(otap_view_get_int(&v, 5), 5);
  assert_int_equal(v.null_count, 2);
  otap_array_view_reset(&v);
  otap_array_release(&out);
  otap_schema_release(&rs);
  otap_array_release(&in);
  otap_schema_release(&vs);
  otap_schema_release(&s);
}

// ---------------------------------------------------------------------------------------------
// Allocation failure: every failing allocation gives ENOMEM and leaks nothing.

static void run_ops_once(const struct ArrowSchema* s, const struct ArrowArray* in,
                         const struct ArrowSchema* vs, const struct ArrowArray* vin, int* rcs) {
  static const int64_t idx[7] = {3, -1, 0, 5, 5, 1, 2};
  struct ArrowArray out;
  rcs[0] = otap_array_take(s, in, idx, 7, &out, NULL);
  if (rcs[0] == 0) otap_array_release(&out);
  const struct ArrowArray* two[2] = {in, in};
  rcs[1] = otap_array_concat(s, two, 2, &out, NULL);
  if (rcs[1] == 0) otap_array_release(&out);
  struct ArrowSchema ds;
  struct ArrowArray enc;
  rcs[2] = otap_dict_encode(vs, vin, OTAP_TYPE_INT16, &ds, &enc, NULL);
  if (rcs[2] == 0) {
    rcs[3] = otap_dict_decode(&ds, &enc, &out, NULL);
    if (rcs[3] == 0) otap_array_release(&out);
    rcs[4] = otap_dict_compact(&ds, &enc, &out, NULL);
    if (rcs[4] == 0) otap_array_release(&out);
    const struct ArrowArray* e2[2] = {&enc, &enc};
    int64_t* remaps[2];
    rcs[5] = otap_dict_merge(&ds, e2, 2, &out, remaps, NULL);
    if (rcs[5] == 0) {
      struct ArrowSchema rs;
      struct ArrowArray re;
      struct otap_array_view dv;
      memset(&dv, 0, sizeof(dv));
      int64_t dlen = enc.dictionary->length;
      rcs[6] = otap_dict_remap_indices(&ds, &enc, remaps[0], dlen, OTAP_TYPE_UINT32, &out, &rs,
                                       &re, NULL);
      if (rcs[6] == 0) {
        otap_array_release(&re);
        otap_schema_release(&rs);
      }
      otap_array_release(&out);
      otap_free(remaps[0]);
      otap_free(remaps[1]);
    }
    otap_array_release(&enc);
    otap_schema_release(&ds);
  }
}

static void check_alloc_failures(int nested) {
  otap_test_install_allocator();
  struct ArrowSchema s, vs;
  make_nested(nested, &s);
  schema_leaf(&vs, "u", "v");
  rng_seed(99);
  struct ArrowArray in, vin;
  gen_array(&s, 8, 20, 0, &in);
  gen_array(&vs, 40, 20, 6, &vin);
  // Referencing an otap array turns its owned buffers into shared blocks once (allocations
  // that live as long as the input): do it before taking the baseline.
  struct ArrowArray r;
  assert_int_equal(otap_array_ref(&in, &r, NULL), 0);
  otap_array_release(&r);
  assert_int_equal(otap_array_ref(&vin, &r, NULL), 0);
  otap_array_release(&r);
  long base = otap_test_live_allocations();
  bool all_ok = false;
  for (long nfail = 0; nfail < 5000 && !all_ok; nfail++) {
    int rcs[7] = {-1, -1, -1, -1, -1, -1, -1};
    otap_test_fail_alloc_after(nfail);
    run_ops_once(&s, &in, &vs, &vin, rcs);
    otap_test_fail_alloc_after(-1);
    all_ok = true;
    for (int i = 0; i < 7; i++) {
      if (rcs[i] != 0 && rcs[i] != -1) assert_int_equal(rcs[i], ENOMEM);
      all_ok = all_ok && rcs[i] == 0;
    }
    if (otap_test_live_allocations() != base) {
      fail_msg("leak after failing allocation %ld: rcs %d %d %d %d %d %d %d", nfail, rcs[0],
               rcs[1], rcs[2], rcs[3], rcs[4], rcs[5], rcs[6]);
    }
  }
  assert_true(all_ok);
  otap_array_release(&in);
  otap_array_release(&vin);
  otap_schema_release(&s);
  otap_schema_release(&vs);
  otap_set_allocator(NULL);
}

static void test_alloc_failures(void** state) {
  (void)state;
  check_alloc_failures(4);  // struct with nested struct, views and a dictionary
  check_alloc_failures(0);  // struct with a list of strings
  check_alloc_failures(2);  // large list of fixed-size lists
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_take_all_types),
      cmocka_unit_test(test_take_hostile_indices),
      cmocka_unit_test(test_take_foreign_corrupt_offsets),
      cmocka_unit_test(test_take_foreign_dictionary),
      cmocka_unit_test(test_hostile_foreign_inputs),
      cmocka_unit_test(test_offsets_overflow),
      cmocka_unit_test(test_take_struct_child_offsets),
      cmocka_unit_test(test_take_validity_and_unsupported),
      cmocka_unit_test(test_concat_all_types),
      cmocka_unit_test(test_concat_empty_and_overflow),
      cmocka_unit_test(test_dict_encode_decode),
      cmocka_unit_test(test_dict_encode_overflow),
      cmocka_unit_test(test_dict_merge_remap_compact),
      cmocka_unit_test(test_dict_remap_errors),
      cmocka_unit_test(test_alloc_failures),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
