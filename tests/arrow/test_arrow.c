// Tests of the arrow module core: schemas, metadata, building, validation, views, sharing,
// imports, streams and allocation failure.
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "otap/arrow.h"
#include "testutil.h"

#define OK(expr) assert_int_equal((expr), 0)

// ---------------------------------------------------------------------------------------------
// Helpers

static void make_schema(struct ArrowSchema* s, const char* format, const char* name) {
  OK(otap_schema_init(s, format));
  OK(otap_schema_set_name(s, name));
}

// struct<children...> with the given formats and names.
static void make_struct(struct ArrowSchema* s, int n, const char* const* formats,
                        const char* const* names) {
  make_schema(s, "+s", NULL);
  OK(otap_schema_allocate_children(s, n));
  for (int i = 0; i < n; i++) make_schema(s->children[i], formats[i], names[i]);
}

// Finishes at FULL and opens a view; fails the test on error.
static void finish_view(struct ArrowArray* a, const struct ArrowSchema* s,
                        struct otap_array_view* v) {
  struct otap_error err;
  err.message[0] = 0;
  int rc = otap_array_finish(a, OTAP_VALIDATE_FULL, s, &err);
  if (rc) fprintf(stderr, "finish: %s\n", err.message);
  assert_int_equal(rc, 0);
  OK(otap_array_view_init(v, s, &err));
  rc = otap_array_view_set(v, a, OTAP_VALIDATE_FULL, &err);
  if (rc) fprintf(stderr, "view: %s\n", err.message);
  assert_int_equal(rc, 0);
}

// Validates (view_set at FULL) and expects EINVAL with `needle` in the message.
static void expect_invalid(const struct ArrowSchema* s, const struct ArrowArray* a,
                           const char* needle) {
  struct otap_array_view v;
  struct otap_error err;
  err.message[0] = 0;
  OK(otap_array_view_init(&v, s, &err));
  int rc = otap_array_view_set(&v, a, OTAP_VALIDATE_FULL, &err);
  if (rc != EINVAL || !strstr(err.message, needle)) {
    fprintf(stderr, "expected EINVAL with '%s', got %d: %s\n", needle, rc, err.message);
  }
  assert_int_equal(rc, EINVAL);
  assert_non_null(strstr(err.message, needle));
  otap_array_view_reset(&v);
}

static void assert_bytes(const struct otap_array_view* v, int64_t i, const char* want) {
  const uint8_t* d;
  int64_t n;
  otap_view_get_bytes(v, i, &d, &n);
  assert_int_equal(n, (int64_t)strlen(want));
  assert_memory_equal(d, want, (size_t)n);
}

// A foreign producer: one array node with caller-provided buffers; counts release calls.
struct fake {
  struct ArrowArray* children[4];
  struct ArrowArray* dictionary;
  int* released;
};

static void fake_release(struct ArrowArray* a) {
  struct fake* f = a->private_data;
  for (int64_t i = 0; i < a->n_children; i++) {
    if (a->children[i]->release) a->children[i]->release(a->children[i]);
  }
  if (a->dictionary && a->dictionary->release) a->dictionary->release(a->dictionary);
  (*f->released)++;
  free(f);
  a->release = NULL;
}

static void fake_init(struct ArrowArray* a, int64_t length, int64_t null_count, int64_t n_buffers,
                      const void** buffers, int* released) {
  memset(a, 0, sizeof(*a));
  struct fake* f = calloc(1, sizeof(*f));
  f->released = released;
  a->length = length;
  a->null_count = null_count;
  a->n_buffers = n_buffers;
  a->buffers = buffers;
  a->private_data = f;
  a->release = fake_release;
}

// ---------------------------------------------------------------------------------------------
// Schemas

static void test_type_names(void** state) {
  (void)state;
  assert_string_equal(otap_type_name(OTAP_TYPE_UINT16), "uint16");
  assert_string_equal(otap_type_name(OTAP_TYPE_FIXED_SIZE_BINARY), "fixed_size_binary");
  assert_string_equal(otap_type_name(OTAP_TYPE_DICTIONARY), "dictionary");
  assert_string_equal(otap_type_name(OTAP_TYPE_STRING), "utf8");
  for (int t = OTAP_TYPE_NA; t <= OTAP_TYPE_DICTIONARY; t++) {
    assert_string_not_equal(otap_type_name((enum otap_type)t), "unknown");
  }
}

struct fmt_case {
  const char* format;
  enum otap_type type;
  int32_t n_buffers;
  int32_t bit_width;
  int n_children;
};

static void test_schema_view_all_formats(void** state) {
  (void)state;
  static const struct fmt_case cases[] = {
      {"n", OTAP_TYPE_NA, 0, 0, 0},
      {"b", OTAP_TYPE_BOOL, 2, 1, 0},
      {"c", OTAP_TYPE_INT8, 2, 8, 0},
      {"C", OTAP_TYPE_UINT8, 2, 8, 0},
      {"s", OTAP_TYPE_INT16, 2, 16, 0},
      {"S", OTAP_TYPE_UINT16, 2, 16, 0},
      {"i", OTAP_TYPE_INT32, 2, 32, 0},
      {"I", OTAP_TYPE_UINT32, 2, 32, 0},
      {"l", OTAP_TYPE_INT64, 2, 64, 0},
      {"L", OTAP_TYPE_UINT64, 2, 64, 0},
      {"e", OTAP_TYPE_HALF_FLOAT, 2, 16, 0},
      {"f", OTAP_TYPE_FLOAT, 2, 32, 0},
      {"g", OTAP_TYPE_DOUBLE, 2, 64, 0},
      {"d:9,2,32", OTAP_TYPE_DECIMAL32, 2, 32, 0},
      {"d:18,3,64", OTAP_TYPE_DECIMAL64, 2, 64, 0},
      {"d:38,5", OTAP_TYPE_DECIMAL128, 2, 128, 0},
      {"d:12,-2,128", OTAP_TYPE_DECIMAL128, 2, 128, 0},
      {"d:76,10,256", OTAP_TYPE_DECIMAL256, 2, 256, 0},
      {"u", OTAP_TYPE_STRING, 3, 0, 0},
      {"U", OTAP_TYPE_LARGE_STRING, 3, 0, 0},
      {"z", OTAP_TYPE_BINARY, 3, 0, 0},
      {"Z", OTAP_TYPE_LARGE_BINARY, 3, 0, 0},
      {"vu", OTAP_TYPE_STRING_VIEW, 2, 0, 0},
      {"vz", OTAP_TYPE_BINARY_VIEW, 2, 0, 0},
      {"w:16", OTAP_TYPE_FIXED_SIZE_BINARY, 2, 128, 0},
      {"tdD", OTAP_TYPE_DATE32, 2, 32, 0},
      {"tdm", OTAP_TYPE_DATE64, 2, 64, 0},
      {"tts", OTAP_TYPE_TIME32, 2, 32, 0},
      {"ttm", OTAP_TYPE_TIME32, 2, 32, 0},
      {"ttu", OTAP_TYPE_TIME64, 2, 64, 0},
      {"ttn", OTAP_TYPE_TIME64, 2, 64, 0},
      {"tss:", OTAP_TYPE_TIMESTAMP, 2, 64, 0},
      {"tsm:UTC", OTAP_TYPE_TIMESTAMP, 2, 64, 0},
      {"tsu:Europe/Paris", OTAP_TYPE_TIMESTAMP, 2, 64, 0},
      {"tsn:+07:30", OTAP_TYPE_TIMESTAMP, 2, 64, 0},
      {"tDs", OTAP_TYPE_DURATION, 2, 64, 0},
      {"tDm", OTAP_TYPE_DURATION, 2, 64, 0},
      {"tDu", OTAP_TYPE_DURATION, 2, 64, 0},
      {"tDn", OTAP_TYPE_DURATION, 2, 64, 0},
      {"tiM", OTAP_TYPE_INTERVAL_MONTHS, 2, 32, 0},
      {"tiD", OTAP_TYPE_INTERVAL_DAY_TIME, 2, 64, 0},
      {"tin", OTAP_TYPE_INTERVAL_MONTH_DAY_NANO, 2, 128, 0},
      {"+s", OTAP_TYPE_STRUCT, 1, 0, 3},
      {"+l", OTAP_TYPE_LIST, 2, 0, 1},
      {"+L", OTAP_TYPE_LARGE_LIST, 2, 0, 1},
      {"+w:4", OTAP_TYPE_FIXED_SIZE_LIST, 1, 0, 1},
      {"+vl", OTAP_TYPE_LIST_VIEW, 3, 0, 1},
      {"+vL", OTAP_TYPE_LARGE_LIST_VIEW, 3, 0, 1},
      {"+ud:0,5", OTAP_TYPE_DENSE_UNION, 2, 0, 2},
      {"+us:3,1,2", OTAP_TYPE_SPARSE_UNION, 1, 0, 3},
      {"+ud:", OTAP_TYPE_DENSE_UNION, 2, 0, 0},
  };
  for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
    const struct fmt_case* c = &cases[k];
    struct ArrowSchema s;
    make_schema(&s, c->format, "x");
    if (c->n_children) {
      OK(otap_schema_allocate_children(&s, c->n_children));
      for (int i = 0; i < c->n_children; i++) make_schema(s.children[i], "i", "c");
    }
    struct otap_schema_view v;
    struct otap_error err;
    int rc = otap_schema_view_init(&v, &s, &err);
    if (rc) fprintf(stderr, "%s: %s\n", c->format, err.message);
    assert_int_equal(rc, 0);
    assert_int_equal(v.type, c->type);
    assert_int_equal(v.storage_type, c->type);
    assert_int_equal(v.n_buffers, c->n_buffers);
    assert_int_equal(v.bit_width, c->bit_width);
    otap_schema_release(&s);
  }
  // Parameters.
  struct ArrowSchema s;
  struct otap_schema_view v;
  make_schema(&s, "tsu:Europe/Paris", NULL);
  OK(otap_schema_view_init(&v, &s, NULL));
  assert_int_equal(v.time_unit, OTAP_TIME_UNIT_MICRO);
  assert_int_equal(v.timezone_len, 12);
  assert_memory_equal(v.timezone, "Europe/Paris", 12);
  otap_schema_release(&s);
  make_schema(&s, "d:12,-2,64", NULL);
  OK(otap_schema_view_init(&v, &s, NULL));
  assert_int_equal(v.decimal_precision, 12);
  assert_int_equal(v.decimal_scale, -2);
  assert_int_equal(v.decimal_bitwidth, 64);
  otap_schema_release(&s);
  make_schema(&s, "w:7", NULL);
  OK(otap_schema_view_init(&v, &s, NULL));
  assert_int_equal(v.fixed_size, 7);
  otap_schema_release(&s);
  make_schema(&s, "+us:3,1,2", NULL);
  OK(otap_schema_allocate_children(&s, 3));
  for (int i = 0; i < 3; i++) make_schema(s.children[i], "i", "c");
  OK(otap_schema_view_init(&v, &s, NULL));
  assert_int_equal(v.n_union_type_ids, 3);
  assert_int_equal(v.union_type_ids[0], 3);
  assert_int_equal(v.union_type_ids[2], 2);
  otap_schema_release(&s);
  // Map: entries struct<key, value>.
  make_schema(&s, "+m", "attrs");
  OK(otap_schema_allocate_children(&s, 1));
  const char* kv_f[] = {"u", "l"};
  const char* kv_n[] = {"key", "value"};
  make_struct(s.children[0], 2, kv_f, kv_n);
  OK(otap_schema_set_name(s.children[0], "entries"));
  OK(otap_schema_view_init(&v, &s, NULL));
  assert_int_equal(v.type, OTAP_TYPE_MAP);
  assert_int_equal(v.n_buffers, 2);
  otap_schema_release(&s);
  // Run-end encoded.
  make_schema(&s, "+r", NULL);
  OK(otap_schema_allocate_children(&s, 2));
  make_schema(s.children[0], "i", "run_ends");
  make_schema(s.children[1], "u", "values");
  OK(otap_schema_view_init(&v, &s, NULL));
  assert_int_equal(v.type, OTAP_TYPE_RUN_END_ENCODED);
  assert_int_equal(v.n_buffers, 0);
  otap_schema_release(&s);
  // Dictionary.
  make_schema(&s, "S", NULL);
  OK(otap_schema_allocate_dictionary(&s));
  OK(otap_schema_init(s.dictionary, "u"));
  OK(otap_schema_view_init(&v, &s, NULL));
  assert_int_equal(v.type, OTAP_TYPE_DICTIONARY);
  assert_int_equal(v.storage_type, OTAP_TYPE_UINT16);
  otap_schema_release(&s);
  // Extension name.
  struct otap_buffer md;
  otap_buffer_init(&md);
  struct otap_metadata_entry e = {"ARROW:extension:name", 20, "arrow.uuid", 10};
  OK(otap_metadata_encode(&md, &e, 1));
  make_schema(&s, "w:16", NULL);
  OK(otap_schema_set_metadata(&s, (const char*)md.data));
  OK(otap_schema_view_init(&v, &s, NULL));
  assert_int_equal(v.extension_name_len, 10);
  assert_memory_equal(v.extension_name, "arrow.uuid", 10);
  assert_int_equal(v.storage_type, OTAP_TYPE_FIXED_SIZE_BINARY);
  char buf[128];
  otap_schema_format_type(&s, buf, sizeof(buf));
  assert_string_equal(buf, "extension<arrow.uuid, fixed_size_binary[16]>");
  otap_schema_release(&s);
  otap_buffer_reset(&md);
}

static void test_schema_view_bad_formats(void** state) {
  (void)state;
  static const char* const invalid[] = {"",     "w:",     "w:x",  "d:",     "d:5",   "d:0,1",
                                        "d:40,2", "d:10,2,32", "tdx", "ttx", "tsx:", "tss",
                                        "tDx",  "tix",    "+w:",  "+w:-1",  "+ud",   "+us:1,",
                                        "+us:1,1", "+us:200", "+sx", "+lx"};
  for (size_t k = 0; k < sizeof(invalid) / sizeof(invalid[0]); k++) {
    struct ArrowSchema s;
    OK(otap_schema_init(&s, invalid[k]));
    struct otap_schema_view v;
    struct otap_error err;
    int rc = otap_schema_view_init(&v, &s, &err);
    if (strcmp(invalid[k], "tss") == 0) {
      assert_int_equal(rc, 0);  // timestamp without the ':' separator is accepted
    } else {
      if (rc != EINVAL) fprintf(stderr, "format '%s' -> %d\n", invalid[k], rc);
      assert_int_equal(rc, EINVAL);
      if (invalid[k][0]) assert_non_null(strstr(err.message, invalid[k]));
    }
    otap_schema_release(&s);
  }
  static const char* const unsupported[] = {"x", "vx", "+x", "d:5,1,48", "+vx"};
  for (size_t k = 0; k < sizeof(unsupported) / sizeof(unsupported[0]); k++) {
    struct ArrowSchema s;
    OK(otap_schema_init(&s, unsupported[k]));
    struct otap_schema_view v;
    assert_int_equal(otap_schema_view_init(&v, &s, NULL), ENOTSUP);
    otap_schema_release(&s);
  }
  // Structural errors: wrong children counts, dictionary with a non-integer index.
  struct ArrowSchema s;
  struct otap_schema_view v;
  struct otap_error err;
  make_schema(&s, "+l", NULL);
  assert_int_equal(otap_schema_view_init(&v, &s, &err), EINVAL);
  assert_non_null(strstr(err.message, "expected 1 children"));
  otap_schema_release(&s);
  make_schema(&s, "u", NULL);
  OK(otap_schema_allocate_dictionary(&s));
  OK(otap_schema_init(s.dictionary, "u"));
  assert_int_equal(otap_schema_view_init(&v, &s, &err), EINVAL);
  otap_schema_release(&s);
  make_schema(&s, "+r", NULL);
  OK(otap_schema_allocate_children(&s, 2));
  make_schema(s.children[0], "u", "run_ends");
  make_schema(s.children[1], "u", "values");
  assert_int_equal(otap_schema_view_init(&v, &s, &err), EINVAL);
  otap_schema_release(&s);
  memset(&s, 0, sizeof(s));
  assert_int_equal(otap_schema_view_init(&v, &s, &err), EINVAL);
}

static void test_schema_build_copy_equal(void** state) {
  (void)state;
  struct ArrowSchema s, copy;
  const char* f[] = {"l", "u", "+l"};
  const char* n[] = {"id", "body", "tags"};
  make_struct(&s, 3, f, n);
  OK(otap_schema_allocate_children(s.children[2], 1));
  make_schema(s.children[2]->children[0], "u", "item");
  OK(otap_schema_allocate_dictionary(s.children[1]));
  OK(otap_schema_init(s.children[1]->dictionary, "u"));
  OK(otap_schema_set_format(s.children[1], "C"));
  struct otap_buffer md;
  otap_buffer_init(&md);
  struct otap_metadata_entry e[2] = {{"k1", 2, "v1", 2}, {"key2", 4, "", 0}};
  OK(otap_metadata_encode(&md, e, 2));
  OK(otap_schema_set_metadata(&s, (const char*)md.data));
  OK(otap_schema_deep_copy(&s, &copy, NULL));
  assert_true(otap_schema_equal(&s, &copy, true));
  assert_string_equal(copy.children[1]->format, "C");
  assert_string_equal(copy.children[2]->children[0]->name, "item");
  assert_int_equal(otap_metadata_size(copy.metadata), md.size);
  char buf[256];
  int64_t need = otap_schema_format_type(&copy, buf, sizeof(buf));
  assert_string_equal(buf, "struct<id: int64, body: dictionary<uint8, utf8>, tags: list<utf8>>");
  assert_int_equal(need, (int64_t)strlen(buf));
  assert_int_equal(otap_schema_format_type(&copy, buf, 8), need);  // truncated, same length
  assert_string_equal(buf, "struct<");
  OK(otap_schema_set_name(copy.children[0], "other"));
  assert_false(otap_schema_equal(&s, &copy, false));
  OK(otap_schema_set_name(copy.children[0], "id"));
  OK(otap_schema_set_metadata(&copy, NULL));
  assert_true(otap_schema_equal(&s, &copy, false));
  assert_false(otap_schema_equal(&s, &copy, true));
  // Move.
  struct ArrowSchema moved;
  otap_schema_move(&copy, &moved);
  assert_null(copy.release);
  otap_schema_release(&copy);  // no-op
  assert_non_null(moved.release);
  // Moving a child out: the parent still frees the child struct, the moved one lives on.
  struct ArrowSchema child;
  otap_schema_move(moved.children[2], &child);
  otap_schema_release(&moved);
  assert_string_equal(child.children[0]->name, "item");
  otap_schema_release(&child);
  // format_type of various types.
  struct ArrowSchema t;
  make_schema(&t, "tsn:UTC", NULL);
  otap_schema_format_type(&t, buf, sizeof(buf));
  assert_string_equal(buf, "timestamp[ns, tz=UTC]");
  otap_schema_release(&t);
  make_schema(&t, "d:10,2", NULL);
  otap_schema_format_type(&t, buf, sizeof(buf));
  assert_string_equal(buf, "decimal128(10, 2)");
  otap_schema_release(&t);
  OK(otap_schema_init_type(&t, OTAP_TYPE_LARGE_LIST_VIEW));
  assert_string_equal(t.format, "+vL");
  otap_schema_release(&t);
  assert_int_equal(otap_schema_init_type(&t, OTAP_TYPE_TIMESTAMP), EINVAL);
  otap_schema_release(&s);
  otap_buffer_reset(&md);
  // set_* on a foreign schema.
  struct ArrowSchema foreign = {0};
  foreign.format = "i";
  foreign.release = (void (*)(struct ArrowSchema*))free;  // never called
  assert_int_equal(otap_schema_set_name(&foreign, "x"), ENOTSUP);
  OK(otap_schema_deep_copy(&foreign, &t, NULL));
  assert_string_equal(t.format, "i");
  otap_schema_release(&t);
}

static void test_metadata(void** state) {
  (void)state;
  struct otap_buffer md;
  otap_buffer_init(&md);
  struct otap_metadata_entry e[3] = {{"a", 1, "xyz", 3}, {"bb", 2, "", 0}, {"ccc", 3, "1", 1}};
  OK(otap_metadata_encode(&md, e, 3));
  assert_int_equal(otap_metadata_size((const char*)md.data), md.size);
  assert_int_equal(md.size, 4 + (4 + 1 + 4 + 3) + (4 + 2 + 4) + (4 + 3 + 4 + 1));
  int32_t n = 0;
  OK(otap_metadata_count((const char*)md.data, &n, NULL));
  assert_int_equal(n, 3);
  struct otap_metadata_entry got;
  OK(otap_metadata_get_entry((const char*)md.data, 2, &got, NULL));
  assert_int_equal(got.key_len, 3);
  assert_memory_equal(got.key, "ccc", 3);
  assert_memory_equal(got.value, "1", 1);
  assert_int_equal(otap_metadata_get_entry((const char*)md.data, 3, &got, NULL), EINVAL);
  const char* val;
  int32_t vlen;
  OK(otap_metadata_find((const char*)md.data, "a", &val, &vlen));
  assert_int_equal(vlen, 3);
  assert_memory_equal(val, "xyz", 3);
  assert_int_equal(otap_metadata_find((const char*)md.data, "zz", &val, &vlen), ENOENT);
  assert_int_equal(otap_metadata_find(NULL, "a", &val, &vlen), ENOENT);
  OK(otap_metadata_count(NULL, &n, NULL));
  assert_int_equal(n, 0);
  assert_int_equal(otap_metadata_size(NULL), 0);
  // Malformed: negative count / lengths.
  int32_t bad[3] = {-1, 0, 0};
  struct otap_error err;
  assert_int_equal(otap_metadata_count((const char*)bad, &n, &err), EINVAL);
  bad[0] = 1;
  bad[1] = -5;
  assert_int_equal(otap_metadata_count((const char*)bad, &n, &err), EINVAL);
  assert_non_null(strstr(err.message, "negative key length"));
  otap_buffer_reset(&md);
}

// ---------------------------------------------------------------------------------------------
// Round trips through build -> finish -> view

// Nulls appended to a union point at its first child's type id (not at 0).
static void test_union_append_null(void** state) {
  (void)state;
  static const char* const formats[] = {"+us:5,9", "+ud:5,9"};
  static const char* const kids[] = {"i", "u"};
  static const char* const names[] = {"a", "b"};
  for (int k = 0; k < 2; k++) {
    struct ArrowSchema s;
    make_schema(&s, formats[k], "v");
    OK(otap_schema_allocate_children(&s, 2));
    for (int i = 0; i < 2; i++) make_schema(s.children[i], kids[i], names[i]);
    struct ArrowArray a;
    OK(otap_array_init_from_schema(&a, &s, NULL));
    OK(otap_array_append_null(&a, 3));
    struct otap_array_view v;
    finish_view(&a, &s, &v);
    assert_int_equal(a.length, 3);
    const int8_t* ids = (const int8_t*)a.buffers[0];
    for (int i = 0; i < 3; i++) assert_int_equal(ids[i], 5);
    otap_array_view_reset(&v);
    a.release(&a);
    s.release(&s);
  }
}

static void test_roundtrip_primitives(void** state) {
  (void)state;
  static const char* const formats[] = {"c", "C", "s", "S", "i", "I", "l", "L", "tdD", "tdm",
                                        "tts", "ttm", "ttu", "ttn", "tsn:UTC", "tDu", "tiM",
                                        "d:9,0,32", "d:18,0,64", "d:30,0", "d:60,0,256"};
  for (size_t k = 0; k < sizeof(formats) / sizeof(formats[0]); k++) {
    struct ArrowSchema s;
    make_schema(&s, formats[k], "v");
    struct ArrowArray a;
    OK(otap_array_init_from_schema(&a, &s, NULL));
    OK(otap_array_reserve(&a, 10));
    OK(otap_array_append_int(&a, 1));
    OK(otap_array_append_null(&a, 2));
    OK(otap_array_append_int(&a, 100));
    OK(otap_array_append_empty(&a, 1));
    bool is_signed = formats[k][0] != 'C' && formats[k][0] != 'S' && formats[k][0] != 'I' &&
                     formats[k][0] != 'L';
    if (is_signed) OK(otap_array_append_int(&a, -7));
    else OK(otap_array_append_uint(&a, 7));
    struct otap_array_view v;
    finish_view(&a, &s, &v);
    assert_int_equal(a.length, 6);
    assert_int_equal(a.null_count, 2);
    assert_int_equal(v.null_count, 2);
    assert_false(otap_view_is_null(&v, 0));
    assert_true(otap_view_is_null(&v, 1));
    assert_true(otap_view_is_null(&v, 2));
    assert_int_equal(otap_view_get_int(&v, 0), 1);
    assert_int_equal(otap_view_get_int(&v, 3), 100);
    assert_int_equal(otap_view_get_int(&v, 4), 0);
    assert_int_equal(otap_view_get_int(&v, 5), is_signed ? -7 : 7);
    assert_true(otap_view_get_double(&v, 3) == 100.0);
    otap_array_view_reset(&v);
    otap_array_release(&a);
    assert_null(a.release);
    otap_schema_release(&s);
  }
  // Range errors.
  struct ArrowSchema s;
  struct ArrowArray a;
  make_schema(&s, "c", NULL);
  OK(otap_array_init_from_schema(&a, &s, NULL));
  assert_int_equal(otap_array_append_int(&a, 128), ERANGE);
  assert_int_equal(otap_array_append_int(&a, -129), ERANGE);
  assert_int_equal(otap_array_append_uint(&a, UINT64_MAX), ERANGE);
  assert_int_equal(otap_array_append_bytes(&a, "x", 1), 0);  // raw 1-byte value
  assert_int_equal(otap_array_append_bytes(&a, "xy", 2), EINVAL);
  assert_int_equal(otap_array_append_double(&a, 1.0), EINVAL);
  otap_array_release(&a);
  otap_schema_release(&s);
  make_schema(&s, "L", NULL);
  OK(otap_array_init_from_schema(&a, &s, NULL));
  OK(otap_array_append_uint(&a, UINT64_MAX));
  assert_int_equal(otap_array_append_int(&a, -1), ERANGE);
  struct otap_array_view v;
  finish_view(&a, &s, &v);
  assert_true(otap_view_get_uint(&v, 0) == UINT64_MAX);
  otap_array_view_reset(&v);
  otap_array_release(&a);
  otap_schema_release(&s);
  // Decimal128 sign extension.
  make_schema(&s, "d:20,2", NULL);
  OK(otap_array_init_from_schema(&a, &s, NULL));
  OK(otap_array_append_int(&a, -2));
  finish_view(&a, &s, &v);
  const uint8_t* d;
  int64_t len;
  otap_view_get_bytes(&v, 0, &d, &len);
  assert_int_equal(len, 16);
  for (int i = 0; i < 16; i++) assert_int_equal(d[i], i == 0 ? 0xfe : 0xff);
  otap_array_view_reset(&v);
  otap_array_release(&a);
  otap_schema_release(&s);
}

static void test_roundtrip_bool_float_fixed(void** state) {
  (void)state;
  struct ArrowSchema s;
  struct ArrowArray a;
  struct otap_array_view v;
  make_schema(&s, "b", NULL);
  OK(otap_array_init_from_schema(&a, &s, NULL));
  for (int i = 0; i < 70; i++) {
    if (i % 5 == 4) OK(otap_array_append_null(&a, 1));
    else OK(otap_array_append_int(&a, i % 3 == 0));
  }
  finish_view(&a, &s, &v);
  assert_int_equal(v.null_count, 14);
  for (int i = 0; i < 70; i++) {
    assert_int_equal(otap_view_is_null(&v, i), i % 5 == 4);
    if (i % 5 != 4) assert_int_equal(otap_view_get_int(&v, i), i % 3 == 0);
  }
  otap_array_view_reset(&v);
  otap_array_release(&a);
  otap_schema_release(&s);

  const char* ff[] = {"e", "f", "g"};
  for (int k = 0; k < 3; k++) {
    make_schema(&s, ff[k], NULL);
    OK(otap_array_init_from_schema(&a, &s, NULL));
    OK(otap_array_append_double(&a, 1.5));
    OK(otap_array_append_double(&a, -0.25));
    OK(otap_array_append_int(&a, 3));
    OK(otap_array_append_double(&a, INFINITY));
    OK(otap_array_append_double(&a, 65504.0));
    OK(otap_array_append_double(&a, 5.960464477539063e-08));  // smallest half subnormal
    finish_view(&a, &s, &v);
    assert_true(otap_view_get_double(&v, 0) == 1.5);
    assert_true(otap_view_get_double(&v, 1) == -0.25);
    assert_true(otap_view_get_double(&v, 2) == 3.0);
    assert_true(isinf(otap_view_get_double(&v, 3)));
    assert_true(otap_view_get_double(&v, 4) == 65504.0);
    assert_true(fabs(otap_view_get_double(&v, 5) - 5.960464477539063e-08) < 1e-12);
    otap_array_view_reset(&v);
    otap_array_release(&a);
    otap_schema_release(&s);
  }

  make_schema(&s, "w:3", NULL);
  OK(otap_array_init_from_schema(&a, &s, NULL));
  OK(otap_array_append_bytes(&a, "abc", 3));
  OK(otap_array_append_null(&a, 1));
  OK(otap_array_append_bytes(&a, "xyz", 3));
  assert_int_equal(otap_array_append_bytes(&a, "ab", 2), EINVAL);
  finish_view(&a, &s, &v);
  assert_bytes(&v, 0, "abc");
  assert_bytes(&v, 2, "xyz");
  assert_true(otap_view_is_null(&v, 1));
  otap_array_view_reset(&v);
  otap_array_release(&a);
  otap_schema_release(&s);

  // Zero-width fixed size binary.
  make_schema(&s, "w:0", NULL);
  OK(otap_array_init_from_schema(&a, &s, NULL));
  OK(otap_array_append_bytes(&a, NULL, 0));
  OK(otap_array_append_null(&a, 2));
  finish_view(&a, &s, &v);
  assert_int_equal(v.length, 3);
  assert_bytes(&v, 0, "");
  otap_array_view_reset(&v);
  otap_array_release(&a);
  otap_schema_release(&s);

  // Interval day_time (two int32) as raw bytes.
  make_schema(&s, "tiD", NULL);
  OK(otap_array_init_from_schema(&a, &s, NULL));
  int32_t dt[2] = {3, -4000};
  OK(otap_array_append_bytes(&a, dt, 8));
  assert_int_equal(otap_array_append_int(&a, 1), EINVAL);
  OK(otap_array_append_empty(&a, 1));
  finish_view(&a, &s, &v);
  const uint8_t* dtp;
  int64_t dtl;
  otap_view_get_bytes(&v, 0, &dtp, &dtl);
  assert_int_equal(dtl, 8);
  assert_memory_equal(dtp, dt, 8);
  otap_view_get_bytes(&v, 1, &dtp, &dtl);
  assert_int_equal(dtl, 8);
  assert_int_equal(dtp[0] | dtp[7], 0);
  otap_array_view_reset(&v);
  otap_array_release(&a);
  otap_schema_release(&s);

  // Intervals: fixed width raw bytes.
  make_schema(&s, "tin", NULL);
  OK(otap_array_init_from_schema(&a, &s, NULL));
  uint8_t mdn[16];
  for (int i = 0; i < 16; i++) mdn[i] = (uint8_t)i;
  OK(otap_array_append_bytes(&a, mdn, 16));
  OK(otap_array_append_null(&a, 1));
  finish_view(&a, &s, &v);
  const uint8_t* d;
  int64_t len;
  otap_view_get_bytes(&v, 0, &d, &len);
  assert_int_equal(len, 16);
  assert_memory_equal(d, mdn, 16);
  otap_array_view_reset(&v);
  otap_array_release(&a);
  otap_schema_release(&s);

  // Null type.
  make_schema(&s, "n", NULL);
  OK(otap_array_init_from_schema(&a, &s, NULL));
  OK(otap_array_append_null(&a, 5));
  OK(otap_array_append_empty(&a, 1));
  finish_view(&a, &s, &v);
  assert_int_equal(a.n_buffers, 0);
  assert_int_equal(a.length, 6);
  assert_int_equal(a.null_count, 6);
  assert_int_equal(v.null_count, 6);
  assert_true(otap_view_is_null(&v, 5));
  otap_array_view_reset(&v);
  otap_array_release(&a);
  otap_schema_release(&s);
}


// Every half-float bit pattern survives half -> double -> half (NaNs stay NaN).
static void test_half_float_exhaustive(void** state) {
  (void)state;
  struct ArrowSchema s;
  struct ArrowArray raw, back;
  struct otap_array_view v, vb;
  make_schema(&s, "e", NULL);
  OK(otap_array_init_from_schema(&raw, &s, NULL));
  OK(otap_array_init_from_schema(&back, &s, NULL));
  OK(otap_array_reserve(&raw, 65536));
  for (uint32_t h = 0; h < 65536; h++) {
    uint16_t x = (uint16_t)h;
    OK(otap_array_append_bytes(&raw, &x, 2));
  }
  finish_view(&raw, &s, &v);
  for (int64_t i = 0; i < 65536; i++) OK(otap_array_append_double(&back, otap_view_get_double(&v, i)));
  finish_view(&back, &s, &vb);
  const uint16_t* a = (const uint16_t*)v.buffers[1];
  const uint16_t* b = (const uint16_t*)vb.buffers[1];
  for (int64_t i = 0; i < 65536; i++) {
    bool nan = (a[i] & 0x7c00) == 0x7c00 && (a[i] & 0x3ff);
    if (nan) {
      assert_true(isnan(otap_view_get_double(&vb, i)));
    } else if (a[i] != b[i]) {
      fail_msg("half 0x%04x came back as 0x%04x", a[i], b[i]);
    }
  }
  // Rounding: 1 + 2^-11 is halfway between 1 and the next half: ties to even (1.0).
  struct ArrowArray r;
  OK(otap_array_init_from_schema(&r, &s, NULL));
  OK(otap_array_append_double(&r, 1.0 + ldexp(1.0, -11)));
  OK(otap_array_append_double(&r, 1.0 + 3 * ldexp(1.0, -11)));
  OK(otap_array_append_double(&r, 1e9));
  OK(otap_array_append_double(&r, -1e-12));
  OK(otap_array_finish(&r, OTAP_VALIDATE_FULL, &s, NULL));
  const uint16_t* rv = r.buffers[1];
  assert_int_equal(rv[0], 0x3c00);
  assert_int_equal(rv[1], 0x3c02);
  assert_int_equal(rv[2], 0x7c00);
  assert_int_equal(rv[3], 0x8000);
  otap_array_release(&r);
  otap_array_view_reset(&v);
  otap_array_view_reset(&vb);
  otap_array_release(&raw);
  otap_array_release(&back);
  otap_schema_release(&s);
}

static void test_roundtrip_strings(void** state) {
  (void)state;
  const char* formats[] = {"u", "U", "z", "Z", "vu", "vz"};
  for (int k = 0; k < 6; k++) {
    struct ArrowSchema s;
    struct ArrowArray a;
    struct otap_array_view v;
    make_schema(&s, formats[k], "body");
    OK(otap_array_init_from_schema(&a, &s, NULL));
    OK(otap_array_append_bytes(&a, "hello", 5));
    OK(otap_array_append_null(&a, 1));
    OK(otap_array_append_bytes(&a, "", 0));
    OK(otap_array_append_bytes(&a, "a string longer than twelve", 27));
    OK(otap_array_append_empty(&a, 1));
    OK(otap_array_append_bytes(&a, "h\xc3\xa9llo w\xc3\xb6rld, long enough", 26));
    finish_view(&a, &s, &v);
    assert_int_equal(v.length, 6);
    assert_int_equal(v.null_count, 1);
    assert_bytes(&v, 0, "hello");
    assert_true(otap_view_is_null(&v, 1));
    assert_bytes(&v, 2, "");
    assert_bytes(&v, 3, "a string longer than twelve");
    assert_bytes(&v, 4, "");
    assert_bytes(&v, 5, "h\xc3\xa9llo w\xc3\xb6rld, long enough");
    if (k >= 4) {
      assert_int_equal(a.n_buffers, 4);  // validity, views, 1 variadic, sizes
      assert_int_equal(v.n_variadic, 1);
      assert_int_equal(v.variadic_sizes[0], 27 + 26);
    } else {
      assert_int_equal(a.n_buffers, 3);
    }
    otap_array_view_reset(&v);
    otap_array_release(&a);
    otap_schema_release(&s);
  }
  // An empty string array publishes one zero offset.
  struct ArrowSchema s;
  struct ArrowArray a;
  make_schema(&s, "u", NULL);
  OK(otap_array_init_from_schema(&a, &s, NULL));
  OK(otap_array_finish(&a, OTAP_VALIDATE_FULL, &s, NULL));
  assert_non_null(a.buffers[1]);
  assert_int_equal(((const int32_t*)a.buffers[1])[0], 0);
  otap_array_release(&a);
  otap_schema_release(&s);
}

static void test_roundtrip_nested(void** state) {
  (void)state;
  struct otap_array_view v;
  // struct<id: int64, name: utf8>
  struct ArrowSchema s;
  struct ArrowArray a;
  const char* f[] = {"l", "u"};
  const char* n[] = {"id", "name"};
  make_struct(&s, 2, f, n);
  OK(otap_array_init_from_schema(&a, &s, NULL));
  OK(otap_array_append_int(a.children[0], 7));
  OK(otap_array_append_bytes(a.children[1], "seven", 5));
  OK(otap_array_finish_element(&a));
  OK(otap_array_append_null(&a, 1));
  OK(otap_array_append_int(a.children[0], 9));
  OK(otap_array_append_null(a.children[1], 1));
  OK(otap_array_finish_element(&a));
  finish_view(&a, &s, &v);
  assert_int_equal(v.length, 3);
  assert_int_equal(v.null_count, 1);
  assert_true(otap_view_is_null(&v, 1));
  assert_int_equal(otap_view_get_int(v.children[0], 2), 9);
  assert_true(otap_view_is_null(v.children[1], 2));
  assert_bytes(v.children[1], 0, "seven");
  otap_array_view_reset(&v);
  otap_array_release(&a);
  otap_schema_release(&s);

  // list<int32>, large_list<int32>, list_view, large_list_view, fixed_size_list[2]
  const char* lf[] = {"+l", "+L", "+vl", "+vL", "+w:2"};
  for (int k = 0; k < 5; k++) {
    make_schema(&s, lf[k], "l");
    OK(otap_schema_allocate_children(&s, 1));
    make_schema(s.children[0], "i", "item");
    OK(otap_array_init_from_schema(&a, &s, NULL));
    OK(otap_array_append_int(a.children[0], 1));
    OK(otap_array_append_int(a.children[0], 2));
    OK(otap_array_finish_element(&a));
    OK(otap_array_append_null(&a, 1));
    OK(otap_array_append_int(a.children[0], 3));
    OK(otap_array_append_int(a.children[0], 4));
    OK(otap_array_finish_element(&a));
    finish_view(&a, &s, &v);
    int64_t st, en;
    otap_view_get_list_range(&v, 0, &st, &en);
    assert_int_equal(st, 0);
    assert_int_equal(en, 2);
    assert_true(otap_view_is_null(&v, 1));
    otap_view_get_list_range(&v, 2, &st, &en);
    assert_int_equal(en - st, 2);
    assert_int_equal(otap_view_get_int(v.children[0], st), 3);
    assert_int_equal(otap_view_get_int(v.children[0], st + 1), 4);
    otap_array_view_reset(&v);
    otap_array_release(&a);
    otap_schema_release(&s);
  }

  // map<utf8, int64>
  make_schema(&s, "+m", "attrs");
  OK(otap_schema_allocate_children(&s, 1));
  const char* kf[] = {"u", "l"};
  const char* kn[] = {"key", "value"};
  make_struct(s.children[0], 2, kf, kn);
  s.children[0]->flags = 0;
  OK(otap_array_init_from_schema(&a, &s, NULL));
  struct ArrowArray* entries = a.children[0];
  OK(otap_array_append_bytes(entries->children[0], "k", 1));
  OK(otap_array_append_int(entries->children[1], 10));
  OK(otap_array_finish_element(entries));
  OK(otap_array_finish_element(&a));
  OK(otap_array_append_empty(&a, 1));
  finish_view(&a, &s, &v);
  int64_t st, en;
  otap_view_get_list_range(&v, 0, &st, &en);
  assert_int_equal(en - st, 1);
  assert_bytes(v.children[0]->children[0], 0, "k");
  otap_view_get_list_range(&v, 1, &st, &en);
  assert_int_equal(en - st, 0);
  otap_array_view_reset(&v);
  otap_array_release(&a);
  otap_schema_release(&s);

  // sparse and dense unions <i: int32, s: utf8> with type ids 5, 7
  const char* uf[] = {"+us:5,7", "+ud:5,7"};
  for (int k = 0; k < 2; k++) {
    make_schema(&s, uf[k], "u");
    OK(otap_schema_allocate_children(&s, 2));
    make_schema(s.children[0], "i", "i");
    make_schema(s.children[1], "u", "s");
    OK(otap_array_init_from_schema(&a, &s, NULL));
    OK(otap_array_append_null(&a, 2));  // type id 5, null child values
    OK(otap_array_append_empty(&a, 1));
    finish_view(&a, &s, &v);
    assert_int_equal(a.n_buffers, k == 0 ? 1 : 2);
    assert_int_equal(v.length, 3);
    assert_int_equal(v.buffers[1][0], 5);
    assert_null(v.buffers[0]);
    assert_true(otap_view_is_null(v.children[0], 0));
    otap_array_view_reset(&v);
    otap_array_release(&a);
    otap_schema_release(&s);
  }

  // run-end encoded<int32, utf8>
  make_schema(&s, "+r", "r");
  OK(otap_schema_allocate_children(&s, 2));
  make_schema(s.children[0], "i", "run_ends");
  s.children[0]->flags = 0;
  make_schema(s.children[1], "u", "values");
  OK(otap_array_init_from_schema(&a, &s, NULL));
  OK(otap_array_append_int(a.children[0], 3));
  OK(otap_array_append_bytes(a.children[1], "aaa", 3));
  OK(otap_array_append_int(a.children[0], 5));
  OK(otap_array_append_bytes(a.children[1], "b", 1));
  a.length = 5;
  OK(otap_array_append_null(&a, 2));  // one more run of 2 nulls
  finish_view(&a, &s, &v);
  assert_int_equal(v.length, 7);
  assert_int_equal(v.children[0]->length, 3);
  assert_int_equal(otap_view_get_int(v.children[0], 2), 7);
  assert_true(otap_view_is_null(v.children[1], 2));
  otap_array_view_reset(&v);
  otap_array_release(&a);
  otap_schema_release(&s);

  // dictionary<int8, utf8>
  make_schema(&s, "c", "sev");
  OK(otap_schema_allocate_dictionary(&s));
  OK(otap_schema_init(s.dictionary, "u"));
  OK(otap_array_init_from_schema(&a, &s, NULL));
  assert_non_null(a.dictionary);
  OK(otap_array_append_bytes(a.dictionary, "INFO", 4));
  OK(otap_array_append_bytes(a.dictionary, "WARN", 4));
  OK(otap_array_append_int(&a, 1));
  OK(otap_array_append_null(&a, 1));
  OK(otap_array_append_int(&a, 0));
  finish_view(&a, &s, &v);
  assert_int_equal(v.schema.type, OTAP_TYPE_DICTIONARY);
  assert_non_null(v.dictionary);
  assert_bytes(v.dictionary, otap_view_get_int(&v, 0), "WARN");
  assert_bytes(v.dictionary, otap_view_get_int(&v, 2), "INFO");
  assert_true(otap_view_is_null(&v, 1));
  otap_array_view_reset(&v);
  otap_array_release(&a);
  otap_schema_release(&s);
}

static void test_direct_buffers_and_shared(void** state) {
  (void)state;
  // A decoder fills buffers directly and points others at a shared block.
  struct ArrowSchema s;
  struct ArrowArray a;
  struct otap_array_view v;
  make_schema(&s, "u", "msg");
  OK(otap_array_init_from_schema(&a, &s, NULL));
  struct otap_buffer* offs = otap_array_buffer(&a, 1);
  assert_non_null(offs);
  int32_t o[4] = {0, 3, 3, 8};
  OK(otap_buffer_append(offs, o, sizeof(o)));
  uint8_t* block = otap_malloc(16);
  memcpy(block, "xxabcdefghxxxxxx", 16);
  struct otap_shared* sh;
  OK(otap_shared_new(&sh, block, 16, NULL, NULL));
  OK(otap_array_set_buffer_shared(&a, 2, sh, block + 2, 8));
  assert_int_equal(otap_array_set_buffer_shared(&a, 2, sh, block + 10, 8), EINVAL);  // past end
  otap_shared_unref(sh);  // the array holds its own reference
  assert_null(otap_array_buffer(&a, 2));  // shared buffers are not growable
  assert_null(otap_array_buffer(&a, 3));
  a.length = 3;
  finish_view(&a, &s, &v);
  assert_bytes(&v, 0, "abc");
  assert_bytes(&v, 1, "");
  assert_bytes(&v, 2, "defgh");
  otap_array_view_reset(&v);
  // set_buffer with a short data buffer fails validation at DEFAULT.
  struct otap_buffer small;
  otap_buffer_init(&small);
  OK(otap_buffer_append(&small, "abc", 3));
  OK(otap_array_set_buffer(&a, 2, &small));
  assert_null(small.data);
  struct otap_error err;
  assert_int_equal(otap_array_finish(&a, OTAP_VALIDATE_DEFAULT, &s, &err), EINVAL);
  assert_non_null(strstr(err.message, "data buffer"));
  assert_non_null(strstr(err.message, "msg"));
  otap_array_release(&a);
  otap_schema_release(&s);

  // Validity set directly: null_count computed by finish.
  make_schema(&s, "i", NULL);
  OK(otap_array_init_from_schema(&a, &s, NULL));
  int32_t vals[10] = {0};
  OK(otap_buffer_append(otap_array_buffer(&a, 1), vals, sizeof(vals)));
  uint8_t bits[2] = {0xf0, 0x03};
  OK(otap_buffer_append(otap_array_buffer(&a, 0), bits, 2));
  a.length = 10;
  OK(otap_array_finish(&a, OTAP_VALIDATE_FULL, &s, NULL));
  assert_int_equal(a.null_count, 4);
  a.length = 20;  // more than the buffers hold
  assert_int_equal(otap_array_finish(&a, OTAP_VALIDATE_DEFAULT, &s, &err), EINVAL);
  otap_array_release(&a);
  otap_schema_release(&s);
}


static void test_builder_details(void** state) {
  (void)state;
  struct ArrowSchema s;
  struct ArrowArray a;
  struct otap_array_view v;
  // finish_element_null on struct and list.
  const char* f[] = {"i"};
  const char* n[] = {"x"};
  make_struct(&s, 1, f, n);
  OK(otap_array_init_from_schema(&a, &s, NULL));
  OK(otap_array_append_int(a.children[0], 1));
  OK(otap_array_finish_element(&a));
  OK(otap_array_append_int(a.children[0], 0));  // placeholder
  OK(otap_array_finish_element_null(&a));
  finish_view(&a, &s, &v);
  assert_int_equal(v.null_count, 1);
  assert_true(otap_view_is_null(&v, 1));
  otap_array_view_reset(&v);
  // Appending after finish, then finishing again.
  OK(otap_array_append_int(a.children[0], 5));
  OK(otap_array_finish_element(&a));
  finish_view(&a, &s, &v);
  assert_int_equal(v.length, 3);
  assert_int_equal(otap_view_get_int(v.children[0], 2), 5);
  otap_array_view_reset(&v);
  // After a ref, the data is shared: appends to it fail, the ref stays intact.
  struct ArrowArray r;
  OK(otap_array_ref(&a, &r, NULL));
  assert_null(otap_array_buffer(a.children[0], 1));
  assert_int_equal(otap_array_append_int(a.children[0], 6), EINVAL);
  otap_array_release(&a);
  OK(otap_array_view_init(&v, &s, NULL));
  OK(otap_array_view_set(&v, &r, OTAP_VALIDATE_FULL, NULL));
  assert_int_equal(otap_view_get_int(v.children[0], 0), 1);
  otap_array_view_reset(&v);
  // Moving a child out of an otap array: the parent frees the struct, the child lives on.
  struct ArrowArray child;
  otap_array_move(r.children[0], &child);
  otap_array_release(&r);
  assert_int_equal(child.length, 3);
  otap_array_release(&child);
  otap_schema_release(&s);

  make_schema(&s, "+l", "l");
  OK(otap_schema_allocate_children(&s, 1));
  make_schema(s.children[0], "u", "item");
  OK(otap_array_init_from_schema(&a, &s, NULL));
  OK(otap_array_finish_element_null(&a));
  OK(otap_array_append_bytes(a.children[0], "z", 1));
  OK(otap_array_finish_element(&a));
  finish_view(&a, &s, &v);
  assert_true(otap_view_is_null(&v, 0));
  int64_t st, en;
  otap_view_get_list_range(&v, 1, &st, &en);
  assert_int_equal(st, 0);
  assert_int_equal(en, 1);
  otap_array_view_reset(&v);
  assert_int_equal(otap_array_finish_element(a.children[0]), EINVAL);  // not nested
  otap_array_release(&a);
  otap_schema_release(&s);

  // Decoder path for views: declare variadic buffers, fill the views directly.
  make_schema(&s, "vz", NULL);
  OK(otap_array_init_from_schema(&a, &s, NULL));
  OK(otap_array_set_variadic_count(&a, 2));
  assert_non_null(otap_array_buffer(&a, 3));
  assert_null(otap_array_buffer(&a, 4));
  OK(otap_buffer_append(otap_array_buffer(&a, 2), "AAAAAAAAAAAAAAAAAAAA", 20));
  OK(otap_buffer_append(otap_array_buffer(&a, 3), "BBBBBBBBBBBBBBBBBBBBBBBBB", 25));
  uint8_t views[32] = {0};
  int32_t len = 15, idx = 1, off = 5;
  memcpy(views, &len, 4);
  memcpy(views + 4, "BBBB", 4);
  memcpy(views + 8, &idx, 4);
  memcpy(views + 12, &off, 4);
  len = 2;
  memcpy(views + 16, &len, 4);
  memcpy(views + 20, "hi", 2);
  OK(otap_buffer_append(otap_array_buffer(&a, 1), views, 32));
  a.length = 2;
  finish_view(&a, &s, &v);
  assert_int_equal(a.n_buffers, 5);
  assert_int_equal(((const int64_t*)a.buffers[4])[1], 25);
  assert_bytes(&v, 0, "BBBBBBBBBBBBBBB");
  assert_bytes(&v, 1, "hi");
  otap_array_view_reset(&v);
  OK(otap_array_set_variadic_count(&a, 1));  // drop buffer 3: element 0 now invalid
  struct otap_error err;
  assert_int_equal(otap_array_finish(&a, OTAP_VALIDATE_FULL, &s, &err), EINVAL);
  assert_non_null(strstr(err.message, "view buffer index 1 out of range"));
  otap_array_release(&a);
  otap_schema_release(&s);

  // A foreign array with a non-zero offset.
  int released = 0;
  make_schema(&s, "s", NULL);
  int16_t vals[5] = {1, 2, 3, 4, 5};
  uint8_t bits = 0x1b;  // element 2 is null
  const void* bufs[2] = {&bits, vals};
  fake_init(&a, 3, -1, 2, bufs, &released);
  a.offset = 2;
  OK(otap_array_view_init(&v, &s, NULL));
  OK(otap_array_view_set(&v, &a, OTAP_VALIDATE_FULL, NULL));
  assert_int_equal(v.null_count, 1);
  assert_true(otap_view_is_null(&v, 0));
  assert_int_equal(otap_view_get_int(&v, 1), 4);
  otap_array_view_reset(&v);
  otap_array_release(&a);
  assert_int_equal(released, 1);
  otap_schema_release(&s);

  // Unsupported operations.
  assert_int_equal(otap_array_append_int(&a, 1), ENOTSUP);  // released / foreign
  make_schema(&s, "u", NULL);
  OK(otap_array_init_from_schema(&a, &s, NULL));
  assert_int_equal(otap_array_append_int(&a, 1), EINVAL);
  assert_int_equal(otap_array_append_double(&a, 1), EINVAL);
  assert_int_equal(otap_array_set_variadic_count(&a, 1), EINVAL);
  assert_int_equal(otap_array_append_null(&a, -1), EINVAL);
  a.length = -5;  // a caller-set length out of range is rejected, never used in arithmetic
  assert_int_equal(otap_array_append_bytes(&a, "x", 1), EINVAL);
  assert_int_equal(otap_array_append_null(&a, 1), EINVAL);
  a.length = INT64_MAX;
  assert_int_equal(otap_array_finish_element(&a), EINVAL);
  assert_int_equal(otap_array_finish(&a, OTAP_VALIDATE_DEFAULT, &s, NULL), EINVAL);
  a.length = 0;
  assert_null(otap_array_buffer(&a, 3));
  otap_array_release(&a);
  otap_schema_release(&s);
}

static void test_format_type_nested(void** state) {
  (void)state;
  struct ArrowSchema s;
  char buf[256];
  make_schema(&s, "+ud:1,4", NULL);
  OK(otap_schema_allocate_children(&s, 2));
  make_schema(s.children[0], "tDm", "d");
  make_schema(s.children[1], "+w:3", "f");
  OK(otap_schema_allocate_children(s.children[1], 1));
  make_schema(s.children[1]->children[0], "e", "item");
  otap_schema_format_type(&s, buf, sizeof(buf));
  assert_string_equal(buf, "dense_union<d: duration[ms], f: fixed_size_list[3]<half_float>>");
  otap_schema_release(&s);
  make_schema(&s, "+m", NULL);
  OK(otap_schema_allocate_children(&s, 1));
  const char* kf[] = {"vu", "ttn"};
  const char* kn[] = {"key", "value"};
  make_struct(s.children[0], 2, kf, kn);
  otap_schema_format_type(&s, buf, sizeof(buf));
  assert_string_equal(buf, "map<struct<key: utf8_view, value: time64[ns]>>");
  otap_schema_release(&s);
  make_schema(&s, "x", NULL);
  otap_schema_format_type(&s, buf, sizeof(buf));
  assert_string_equal(buf, "invalid<x>");
  otap_schema_release(&s);
}

// ---------------------------------------------------------------------------------------------
// Validation failures on hand-built arrays

static void test_validation_failures(void** state) {
  (void)state;
  int released = 0;
  struct ArrowSchema s;
  struct ArrowArray a;

  // Offsets out of order, offsets past the data (via a known-size otap buffer), bad UTF-8.
  make_schema(&s, "u", "body");
  int32_t off_bad[4] = {0, 5, 3, 6};
  const void* b1[3] = {NULL, off_bad, "abcdef"};
  fake_init(&a, 3, 0, 3, b1, &released);
  expect_invalid(&s, &a, "element 1: offset 3 after 5");
  otap_array_release(&a);
  int32_t off_neg[3] = {-1, 2, 3};
  const void* b2[3] = {NULL, off_neg, "abc"};
  fake_init(&a, 2, 0, 3, b2, &released);
  expect_invalid(&s, &a, "out of order or negative");
  otap_array_release(&a);
  int32_t off_ok[3] = {0, 2, 4};
  const void* b3[3] = {NULL, off_ok, "ab\xff\xfe"};
  fake_init(&a, 2, 0, 3, b3, &released);
  expect_invalid(&s, &a, "element 1: invalid UTF-8");
  otap_array_release(&a);
  const void* b3b[3] = {NULL, off_ok, "a\xc3\xa9z"};  // boundary splits a 2-byte character
  fake_init(&a, 2, 0, 3, b3b, &released);
  expect_invalid(&s, &a, "element 1: invalid UTF-8");
  otap_array_release(&a);
  const void* b3c[3] = {NULL, off_ok, "\xed\xa0\x80z"};  // surrogate
  fake_init(&a, 2, 0, 3, b3c, &released);
  expect_invalid(&s, &a, "element 0: invalid UTF-8");
  otap_array_release(&a);
  // Wrong buffer count; null count without bitmap; negative length.
  fake_init(&a, 2, 0, 2, b3, &released);
  expect_invalid(&s, &a, "2 buffers, 3 expected");
  otap_array_release(&a);
  fake_init(&a, 2, 1, 3, b3, &released);
  expect_invalid(&s, &a, "no validity bitmap");
  otap_array_release(&a);
  fake_init(&a, -1, 0, 3, b3, &released);
  expect_invalid(&s, &a, "bad length");
  otap_array_release(&a);
  // null_count disagreeing with the bitmap (FULL).
  uint8_t bm = 0x01;
  const void* b4[3] = {&bm, off_ok, "abcd"};
  fake_init(&a, 2, 0, 3, b4, &released);
  expect_invalid(&s, &a, "validity bitmap has 1 nulls");
  otap_array_release(&a);
  // Released array.
  memset(&a, 0, sizeof(a));
  expect_invalid(&s, &a, "released");
  otap_schema_release(&s);

  // Short buffer known to otap (otap-built, buffer replaced by a short one).
  make_schema(&s, "l", "x");
  OK(otap_array_init_from_schema(&a, &s, NULL));
  OK(otap_array_append_int(&a, 1));
  OK(otap_array_append_int(&a, 2));
  OK(otap_array_finish(&a, OTAP_VALIDATE_FULL, &s, NULL));
  otap_array_buffer(&a, 1)->size = 12;
  expect_invalid(&s, &a, "values buffer (buffer 1) has 12 bytes, 16 needed");
  otap_array_release(&a);
  otap_schema_release(&s);

  // Struct: child path and child lengths, dictionary index, missing dictionary.
  const char* f[] = {"+s"};
  const char* n[] = {"resource"};
  make_struct(&s, 1, f, n);
  OK(otap_schema_allocate_children(s.children[0], 1));
  make_schema(s.children[0]->children[0], "C", "id");
  OK(otap_schema_allocate_dictionary(s.children[0]->children[0]));
  OK(otap_schema_init(s.children[0]->children[0]->dictionary, "u"));
  OK(otap_array_init_from_schema(&a, &s, NULL));
  struct ArrowArray* id = a.children[0]->children[0];
  OK(otap_array_append_bytes(id->dictionary, "a", 1));
  OK(otap_array_append_int(id, 0));
  OK(otap_array_append_int(id, 5));  // out of range
  OK(otap_array_finish_element(a.children[0]));
  OK(otap_array_finish_element(a.children[0]));
  OK(otap_array_finish_element(&a));
  OK(otap_array_finish_element(&a));
  struct otap_error err;
  assert_int_equal(otap_array_finish(&a, OTAP_VALIDATE_FULL, &s, &err), EINVAL);
  assert_non_null(strstr(err.message, "resource.id"));
  assert_non_null(strstr(err.message, "element 1: dictionary index 5 out of range"));
  OK(otap_array_finish(&a, OTAP_VALIDATE_DEFAULT, &s, &err));  // O(1) checks pass
  otap_array_buffer(id, 1)->data[1] = 0;
  OK(otap_array_finish(&a, OTAP_VALIDATE_FULL, &s, &err));
  a.children[0]->length = 1;  // child shorter than parent
  expect_invalid(&s, &a, "has length 1, struct needs 2");
  a.children[0]->length = 2;
  struct ArrowArray* saved = id->dictionary;
  id->dictionary = NULL;
  expect_invalid(&s, &a, "missing its dictionary");
  id->dictionary = saved;
  a.n_children = 0;
  expect_invalid(&s, &a, "array has 0 children, schema has 1");
  a.n_children = 1;
  otap_array_release(&a);
  otap_schema_release(&s);

  // List: last offset past child.
  make_schema(&s, "+l", "tags");
  OK(otap_schema_allocate_children(&s, 1));
  make_schema(s.children[0], "i", "item");
  OK(otap_array_init_from_schema(&a, &s, NULL));
  OK(otap_array_append_int(a.children[0], 1));
  OK(otap_array_finish_element(&a));
  OK(otap_array_finish(&a, OTAP_VALIDATE_FULL, &s, NULL));
  a.children[0]->length = 0;
  expect_invalid(&s, &a, "last offset 1 exceeds child length 0");
  a.children[0]->length = 1;
  otap_array_release(&a);
  otap_schema_release(&s);

  // Unions: undeclared type id, dense offset out of range.
  make_schema(&s, "+ud:1,2", "u");
  OK(otap_schema_allocate_children(&s, 2));
  make_schema(s.children[0], "i", "a");
  make_schema(s.children[1], "i", "b");
  OK(otap_array_init_from_schema(&a, &s, NULL));
  OK(otap_array_append_empty(&a, 2));
  OK(otap_array_finish(&a, OTAP_VALIDATE_FULL, &s, NULL));
  ((int8_t*)otap_array_buffer(&a, 0)->data)[1] = 9;
  expect_invalid(&s, &a, "element 1: undeclared union type id 9");
  ((int8_t*)otap_array_buffer(&a, 0)->data)[1] = 1;
  ((int32_t*)otap_array_buffer(&a, 1)->data)[0] = 7;
  expect_invalid(&s, &a, "element 0: dense union offset 7");
  otap_array_release(&a);
  otap_schema_release(&s);

  // Run ends not increasing; last run end too short.
  make_schema(&s, "+r", "r");
  OK(otap_schema_allocate_children(&s, 2));
  make_schema(s.children[0], "s", "run_ends");
  make_schema(s.children[1], "l", "values");
  OK(otap_array_init_from_schema(&a, &s, NULL));
  OK(otap_array_append_int(a.children[0], 2));
  OK(otap_array_append_int(a.children[0], 2));
  OK(otap_array_append_int(a.children[1], 1));
  OK(otap_array_append_int(a.children[1], 2));
  a.length = 2;
  struct otap_error e2;
  assert_int_equal(otap_array_finish(&a, OTAP_VALIDATE_FULL, &s, &e2), EINVAL);
  assert_non_null(strstr(e2.message, "run 1: run end 2 is not positive and strictly increasing"));
  a.length = 3;
  assert_int_equal(otap_array_finish(&a, OTAP_VALIDATE_DEFAULT, &s, &e2), EINVAL);
  assert_non_null(strstr(e2.message, "last run end 2 < offset + length 3"));
  otap_array_release(&a);
  otap_schema_release(&s);

  // List view out of range.
  make_schema(&s, "+vl", "lv");
  OK(otap_schema_allocate_children(&s, 1));
  make_schema(s.children[0], "i", "item");
  OK(otap_array_init_from_schema(&a, &s, NULL));
  OK(otap_array_append_int(a.children[0], 1));
  OK(otap_array_finish_element(&a));
  OK(otap_array_finish(&a, OTAP_VALIDATE_FULL, &s, NULL));
  ((int32_t*)otap_array_buffer(&a, 2)->data)[0] = 4;
  expect_invalid(&s, &a, "element 0: list view [0, +4) outside child of length 1");
  otap_array_release(&a);
  otap_schema_release(&s);

  // String views: bad buffer index, bad range, prefix mismatch, bad UTF-8 inline.
  make_schema(&s, "vu", "sv");
  OK(otap_array_init_from_schema(&a, &s, NULL));
  OK(otap_array_append_bytes(&a, "0123456789abcdef", 16));
  OK(otap_array_append_bytes(&a, "short", 5));
  OK(otap_array_finish(&a, OTAP_VALIDATE_FULL, &s, NULL));
  uint8_t* views = otap_array_buffer(&a, 1)->data;
  views[8] = 3;
  expect_invalid(&s, &a, "element 0: view buffer index 3 out of range");
  views[8] = 0;
  views[12] = 4;
  expect_invalid(&s, &a, "element 0: view range [4, 20) exceeds variadic buffer 0");
  views[12] = 0;
  views[4] = 'X';
  expect_invalid(&s, &a, "element 0: view prefix does not match");
  views[4] = '0';
  views[16 + 5] = 0xff;
  expect_invalid(&s, &a, "element 1: invalid UTF-8");
  otap_array_release(&a);
  otap_schema_release(&s);

  // Fixed size list: child too short.
  make_schema(&s, "+w:3", "fsl");
  OK(otap_schema_allocate_children(&s, 1));
  make_schema(s.children[0], "i", "item");
  OK(otap_array_init_from_schema(&a, &s, NULL));
  OK(otap_array_append_int(a.children[0], 1));
  OK(otap_array_finish_element(&a));
  assert_int_equal(otap_array_finish(&a, OTAP_VALIDATE_DEFAULT, &s, &err), EINVAL);
  assert_non_null(strstr(err.message, "child length 1 < 3 needed"));
  otap_array_release(&a);
  otap_schema_release(&s);
  assert_true(released > 0);
}

// ---------------------------------------------------------------------------------------------
// Ownership: release once, moves, refs, slices, imports, streams

static void test_import_release_once(void** state) {
  (void)state;
  int released = 0;
  struct ArrowSchema s;
  const char* f[] = {"i", "u"};
  const char* n[] = {"n", "s"};
  make_struct(&s, 2, f, n);
  // Foreign struct array with two foreign children.
  static int32_t ints[3] = {10, 20, 30};
  static int32_t offs[4] = {0, 1, 3, 6};
  static const void* cb0[2] = {NULL, ints};
  static const void* cb1[3] = {NULL, offs, "abbccc"};
  static const void* pb[1] = {NULL};
  struct ArrowArray c0, c1, parent;
  fake_init(&c0, 3, 0, 2, cb0, &released);
  fake_init(&c1, 3, 0, 3, cb1, &released);
  fake_init(&parent, 3, 0, 1, pb, &released);
  struct ArrowArray* kids[2] = {&c0, &c1};
  parent.n_children = 2;
  parent.children = kids;

  // Import fails validation: nothing moved.
  struct ArrowSchema bad;
  make_schema(&bad, "+s", NULL);
  struct ArrowArray out;
  struct otap_error err;
  assert_int_equal(otap_array_import(&bad, &parent, OTAP_VALIDATE_FULL, &out, &err), EINVAL);
  assert_non_null(strstr(err.message, "array import"));
  assert_non_null(parent.release);
  otap_schema_release(&bad);

  OK(otap_array_import(&s, &parent, OTAP_VALIDATE_FULL, &out, NULL));
  assert_null(parent.release);
  assert_int_equal(released, 0);
  struct ArrowArray r, sl;
  OK(otap_array_ref(&out, &r, NULL));
  OK(otap_array_slice(&out, 1, 2, &sl, NULL));
  otap_array_release(&out);
  assert_int_equal(released, 0);
  otap_array_release(&r);
  assert_int_equal(released, 0);
  struct otap_array_view v;
  OK(otap_array_view_init(&v, &s, NULL));
  OK(otap_array_view_set(&v, &sl, OTAP_VALIDATE_FULL, NULL));
  assert_int_equal(v.length, 2);
  // Struct children are indexed at the parent's offset + i.
  assert_int_equal(v.offset, 1);
  assert_int_equal(otap_view_get_int(v.children[0], v.offset + 0), 20);
  assert_bytes(v.children[1], v.offset + 1, "ccc");
  otap_array_view_reset(&v);
  otap_array_release(&sl);
  // Parent + 2 children each released exactly once.
  assert_int_equal(released, 3);
  otap_array_release(&sl);  // second release is a no-op
  assert_int_equal(released, 3);
  // Foreign arrays cannot be referenced or sliced directly.
  fake_init(&c0, 3, 0, 2, cb0, &released);
  assert_int_equal(otap_array_ref(&c0, &r, &err), ENOTSUP);
  assert_int_equal(otap_array_slice(&c0, 0, 1, &r, &err), ENOTSUP);
  otap_array_release(&c0);
  assert_int_equal(released, 4);
  otap_schema_release(&s);
}


// A producer whose exported array holds a reference to a refcounted block the producer also
// holds: the producer drops its own handle right after the import, the imported array (and a
// slice of it) keep reading valid memory, and the block is freed exactly once at the end.
struct block {
  int refs;
  int* freed;
  int32_t offsets[4];
  char data[8];
};

static void block_unref(struct block* b) {
  if (--b->refs == 0) {
    (*b->freed)++;
    free(b);
  }
}

static void block_array_release(struct ArrowArray* a) {
  block_unref(a->private_data);
  free((void*)a->buffers);
  a->release = NULL;
}

static void test_import_outlives_producer(void** state) {
  (void)state;
  int freed = 0;
  struct block* b = calloc(1, sizeof(*b));
  b->refs = 1;  // the producer's own handle
  b->freed = &freed;
  int32_t o[4] = {0, 2, 5, 8};
  memcpy(b->offsets, o, sizeof(o));
  memcpy(b->data, "abcdefgh", 8);
  struct ArrowArray exported;
  memset(&exported, 0, sizeof(exported));
  const void** bufs = malloc(3 * sizeof(void*));
  bufs[0] = NULL;
  bufs[1] = b->offsets;
  bufs[2] = b->data;
  exported.length = 3;
  exported.n_buffers = 3;
  exported.buffers = bufs;
  exported.private_data = b;
  exported.release = block_array_release;
  b->refs++;  // the exported array's reference
  struct ArrowSchema s;
  make_schema(&s, "z", NULL);
  struct ArrowArray imported, sl;
  OK(otap_array_import(&s, &exported, OTAP_VALIDATE_FULL, &imported, NULL));
  block_unref(b);  // the producer goes away
  assert_int_equal(freed, 0);
  OK(otap_array_slice(&imported, 1, 2, &sl, NULL));
  otap_array_release(&imported);
  assert_int_equal(freed, 0);
  struct otap_array_view v;
  OK(otap_array_view_init(&v, &s, NULL));
  OK(otap_array_view_set(&v, &sl, OTAP_VALIDATE_FULL, NULL));
  assert_bytes(&v, 0, "cde");
  assert_bytes(&v, 1, "fgh");
  otap_array_view_reset(&v);
  otap_array_release(&sl);
  assert_int_equal(freed, 1);
  otap_schema_release(&s);
}

static void test_ref_slice_move(void** state) {
  (void)state;
  struct ArrowSchema s;
  make_schema(&s, "u", NULL);
  struct ArrowArray a;
  OK(otap_array_init_from_schema(&a, &s, NULL));
  for (int i = 0; i < 20; i++) {
    char b[16];
    int k = snprintf(b, sizeof(b), "v%d", i);
    if (i % 4 == 3) OK(otap_array_append_null(&a, 1));
    else OK(otap_array_append_bytes(&a, b, k));
  }
  OK(otap_array_finish(&a, OTAP_VALIDATE_FULL, &s, NULL));
  struct ArrowArray sl, sl2, moved;
  OK(otap_array_slice(&a, 5, 10, &sl, NULL));
  assert_int_equal(sl.offset, 5);
  assert_int_equal(sl.null_count, 2);  // elements 7 and 11
  assert_ptr_equal(sl.buffers[2], a.buffers[2]);  // zero copy
  OK(otap_array_slice(&sl, 2, 3, &sl2, NULL));
  assert_int_equal(sl2.offset, 7);
  assert_int_equal(otap_array_slice(&sl, 8, 3, &moved, NULL), EINVAL);
  otap_array_release(&a);  // slices outlive the original
  otap_array_move(&sl2, &moved);
  assert_null(sl2.release);
  struct otap_array_view v;
  OK(otap_array_view_init(&v, &s, NULL));
  OK(otap_array_view_set(&v, &moved, OTAP_VALIDATE_FULL, NULL));
  assert_true(otap_view_is_null(&v, 0));
  assert_bytes(&v, 1, "v8");
  assert_bytes(&v, 2, "v9");
  OK(otap_array_view_set(&v, &sl, OTAP_VALIDATE_FULL, NULL));
  assert_bytes(&v, 0, "v5");
  otap_array_view_reset(&v);
  otap_array_release(&sl);
  otap_array_release(&moved);
  otap_schema_release(&s);
}

static void test_stream(void** state) {
  (void)state;
  struct ArrowSchema s;
  make_schema(&s, "i", "x");
  struct ArrowArray arrays[3];
  for (int k = 0; k < 3; k++) {
    OK(otap_array_init_from_schema(&arrays[k], &s, NULL));
    for (int i = 0; i <= k; i++) OK(otap_array_append_int(&arrays[k], i));
    OK(otap_array_finish(&arrays[k], OTAP_VALIDATE_FULL, &s, NULL));
  }
  struct ArrowArrayStream st;
  OK(otap_array_stream_init(&st, &s, arrays, 3, NULL));
  assert_null(s.release);
  assert_null(arrays[0].release);
  struct ArrowSchema got;
  OK(st.get_schema(&st, &got));
  assert_string_equal(got.format, "i");
  otap_schema_release(&got);
  struct ArrowArray out;
  OK(st.get_next(&st, &out));
  assert_int_equal(out.length, 1);
  otap_array_release(&out);
  OK(st.get_next(&st, &out));
  assert_int_equal(out.length, 2);
  otap_array_release(&out);
  st.release(&st);  // releases the third array
  assert_null(st.release);
  // End of stream.
  make_schema(&s, "i", "x");
  OK(otap_array_stream_init(&st, &s, NULL, 0, NULL));
  OK(st.get_next(&st, &out));
  assert_null(out.release);
  assert_null(st.get_last_error(&st));
  st.release(&st);
}

// ---------------------------------------------------------------------------------------------
// Allocation failure

// Imports a foreign list<utf8> array and streams it; the producer's release must run exactly
// once whether or not an allocation fails on the way.
static int import_and_stream(void) {
  static int32_t offs[3] = {0, 1, 3};
  static int32_t list_offs[3] = {0, 2, 2};
  static const void* cb[3] = {NULL, offs, "abc"};
  static const void* pb[2] = {NULL, list_offs};
  int released = 0;
  struct ArrowArray c, parent, imported, out;
  struct ArrowSchema s;
  struct ArrowArrayStream st;
  memset(&imported, 0, sizeof(imported));
  memset(&st, 0, sizeof(st));
  fake_init(&c, 2, 0, 3, cb, &released);
  fake_init(&parent, 2, 0, 2, pb, &released);
  struct ArrowArray* kids[1] = {&c};
  parent.n_children = 1;
  parent.children = kids;
  int rc = otap_schema_init(&s, "+l");
  if (rc == 0) rc = otap_schema_allocate_children(&s, 1);
  if (rc == 0) rc = otap_schema_init(s.children[0], "u");
  if (rc == 0) rc = otap_array_import(&s, &parent, OTAP_VALIDATE_FULL, &imported, NULL);
  if (rc) {
    if (parent.release == NULL) return EIO;  // must not be moved on failure
    otap_array_release(&parent);
  }
  if (rc == 0) {
    rc = otap_array_stream_init(&st, &s, &imported, 1, NULL);
    if (rc == 0) {
      rc = st.get_next(&st, &out);
      if (rc == 0 && out.length != 2) rc = EIO;
      if (rc == 0) otap_array_release(&out);
      st.release(&st);
    }
  }
  otap_array_release(&imported);
  otap_schema_release(&s);
  if (released != 2) return EIO;  // parent and child released exactly once each
  return rc;
}

static int build_everything(void) {
  int rc = 0;
  struct ArrowSchema s, copy;
  struct ArrowArray a, r, sl;
  struct otap_array_view v;
  memset(&s, 0, sizeof(s));
  memset(&copy, 0, sizeof(copy));
  memset(&a, 0, sizeof(a));
  memset(&r, 0, sizeof(r));
  memset(&sl, 0, sizeof(sl));
  memset(&v, 0, sizeof(v));
  OTAP_GOTO_NOT_OK(rc, otap_schema_init(&s, "+s"));
  OTAP_GOTO_NOT_OK(rc, otap_schema_allocate_children(&s, 4));
  OTAP_GOTO_NOT_OK(rc, otap_schema_init(s.children[0], "l"));
  OTAP_GOTO_NOT_OK(rc, otap_schema_set_name(s.children[0], "id"));
  OTAP_GOTO_NOT_OK(rc, otap_schema_init(s.children[1], "vu"));
  OTAP_GOTO_NOT_OK(rc, otap_schema_init(s.children[2], "+l"));
  OTAP_GOTO_NOT_OK(rc, otap_schema_allocate_children(s.children[2], 1));
  OTAP_GOTO_NOT_OK(rc, otap_schema_init(s.children[2]->children[0], "u"));
  OTAP_GOTO_NOT_OK(rc, otap_schema_init(s.children[3], "S"));
  OTAP_GOTO_NOT_OK(rc, otap_schema_allocate_dictionary(s.children[3]));
  OTAP_GOTO_NOT_OK(rc, otap_schema_init(s.children[3]->dictionary, "u"));
  OTAP_GOTO_NOT_OK(rc, otap_schema_deep_copy(&s, &copy, NULL));
  OTAP_GOTO_NOT_OK(rc, otap_array_init_from_schema(&a, &copy, NULL));
  for (int i = 0; i < 40; i++) {
    OTAP_GOTO_NOT_OK(rc, otap_array_append_int(a.children[0], i));
    if (i % 3 == 0) {
      OTAP_GOTO_NOT_OK(rc, otap_array_append_null(a.children[1], 1));
    } else {
      OTAP_GOTO_NOT_OK(rc, otap_array_append_bytes(a.children[1], "long enough to be out of line", 29));
    }
    OTAP_GOTO_NOT_OK(rc, otap_array_append_bytes(a.children[2]->children[0], "t", 1));
    OTAP_GOTO_NOT_OK(rc, otap_array_finish_element(a.children[2]));
    OTAP_GOTO_NOT_OK(rc, otap_array_append_int(a.children[3], 0));
    OTAP_GOTO_NOT_OK(rc, otap_array_finish_element(&a));
  }
  OTAP_GOTO_NOT_OK(rc, otap_array_append_bytes(a.children[3]->dictionary, "d", 1));
  OTAP_GOTO_NOT_OK(rc, otap_array_finish(&a, OTAP_VALIDATE_FULL, &copy, NULL));
  OTAP_GOTO_NOT_OK(rc, otap_array_ref(&a, &r, NULL));
  OTAP_GOTO_NOT_OK(rc, otap_array_slice(&r, 3, 30, &sl, NULL));
  OTAP_GOTO_NOT_OK(rc, otap_array_view_init(&v, &copy, NULL));
  OTAP_GOTO_NOT_OK(rc, otap_array_view_set(&v, &sl, OTAP_VALIDATE_FULL, NULL));
  if (otap_view_get_int(v.children[0], v.offset) != 3) rc = EIO;
  OTAP_GOTO_NOT_OK(rc, import_and_stream());
done:
  otap_array_view_reset(&v);
  otap_array_release(&sl);
  otap_array_release(&r);
  otap_array_release(&a);
  otap_schema_release(&copy);
  otap_schema_release(&s);
  return rc;
}


// Builds one column of every remaining layout with appends; used under failing allocators.
static int build_layouts(void) {
  static const char* const formats[] = {"+ud:0,1", "+us:3,4", "+r", "+vl", "+w:2", "+m", "vz", "b",
                                        "n", "d:40,3,256", "tin"};
  int rc = 0;
  for (size_t k = 0; k < sizeof(formats) / sizeof(formats[0]) && rc == 0; k++) {
    struct ArrowSchema s;
    struct ArrowArray a, sl;
    struct otap_array_view v;
    memset(&a, 0, sizeof(a));
    memset(&sl, 0, sizeof(sl));
    memset(&v, 0, sizeof(v));
    const char* f = formats[k];
    OTAP_GOTO_NOT_OK(rc, otap_schema_init(&s, f));
    if (f[0] == '+' && f[1] == 'u') {
      OTAP_GOTO_NOT_OK(rc, otap_schema_allocate_children(&s, 2));
      OTAP_GOTO_NOT_OK(rc, otap_schema_init(s.children[0], "i"));
      OTAP_GOTO_NOT_OK(rc, otap_schema_init(s.children[1], "u"));
    } else if (strcmp(f, "+r") == 0) {
      OTAP_GOTO_NOT_OK(rc, otap_schema_allocate_children(&s, 2));
      OTAP_GOTO_NOT_OK(rc, otap_schema_init(s.children[0], "l"));
      OTAP_GOTO_NOT_OK(rc, otap_schema_init(s.children[1], "u"));
    } else if (strcmp(f, "+m") == 0) {
      OTAP_GOTO_NOT_OK(rc, otap_schema_allocate_children(&s, 1));
      OTAP_GOTO_NOT_OK(rc, otap_schema_init(s.children[0], "+s"));
      OTAP_GOTO_NOT_OK(rc, otap_schema_allocate_children(s.children[0], 2));
      OTAP_GOTO_NOT_OK(rc, otap_schema_init(s.children[0]->children[0], "u"));
      s.children[0]->children[0]->flags = 0;
      OTAP_GOTO_NOT_OK(rc, otap_schema_init(s.children[0]->children[1], "i"));
    } else if (f[0] == '+') {
      OTAP_GOTO_NOT_OK(rc, otap_schema_allocate_children(&s, 1));
      OTAP_GOTO_NOT_OK(rc, otap_schema_init(s.children[0], "c"));
    }
    OTAP_GOTO_NOT_OK(rc, otap_array_init_from_schema(&a, &s, NULL));
    for (int i = 0; i < 30; i++) {
      if (i % 4 == 0) {
        OTAP_GOTO_NOT_OK(rc, otap_array_append_null(&a, 2));
      } else if (i % 4 == 1) {
        if (strcmp(f, "+r") != 0) OTAP_GOTO_NOT_OK(rc, otap_array_append_empty(&a, 1));
      } else if (strcmp(f, "vz") == 0) {
        OTAP_GOTO_NOT_OK(rc, otap_array_append_bytes(&a, "a value longer than twelve bytes", 32));
      } else if (strcmp(f, "b") == 0) {
        OTAP_GOTO_NOT_OK(rc, otap_array_append_int(&a, i & 1));
      } else if (f[0] == 'd') {
        OTAP_GOTO_NOT_OK(rc, otap_array_append_int(&a, -i));
      } else if (strcmp(f, "tin") == 0) {
        OTAP_GOTO_NOT_OK(rc, otap_array_append_bytes(&a, "0123456789abcdef", 16));
      } else if (strcmp(f, "+vl") == 0 || strcmp(f, "+w:2") == 0) {
        OTAP_GOTO_NOT_OK(rc, otap_array_append_int(a.children[0], i));
        OTAP_GOTO_NOT_OK(rc, otap_array_append_int(a.children[0], -i));
        OTAP_GOTO_NOT_OK(rc, otap_array_finish_element(&a));
      } else if (strcmp(f, "+m") == 0) {
        OTAP_GOTO_NOT_OK(rc, otap_array_append_bytes(a.children[0]->children[0], "k", 1));
        OTAP_GOTO_NOT_OK(rc, otap_array_append_int(a.children[0]->children[1], i));
        OTAP_GOTO_NOT_OK(rc, otap_array_finish_element(a.children[0]));
        OTAP_GOTO_NOT_OK(rc, otap_array_finish_element(&a));
      } else {
        OTAP_GOTO_NOT_OK(rc, otap_array_append_null(&a, 1));
      }
    }
    OTAP_GOTO_NOT_OK(rc, otap_array_finish(&a, OTAP_VALIDATE_FULL, &s, NULL));
    OTAP_GOTO_NOT_OK(rc, otap_array_slice(&a, 1, a.length - 2, &sl, NULL));
    OTAP_GOTO_NOT_OK(rc, otap_array_view_init(&v, &s, NULL));
    OTAP_GOTO_NOT_OK(rc, otap_array_view_set(&v, &sl, OTAP_VALIDATE_FULL, NULL));
  done:
    otap_array_view_reset(&v);
    otap_array_release(&sl);
    otap_array_release(&a);
    otap_schema_release(&s);
  }
  return rc;
}

static void test_allocation_failure(void** state) {
  (void)state;
  long base = otap_test_live_allocations();
  assert_int_equal(build_everything(), 0);
  assert_int_equal(otap_test_live_allocations(), base);
  int failures = 0;
  for (long n = 0; n < 5000; n++) {
    otap_test_fail_alloc_after(n);
    int rc = build_everything();
    otap_test_fail_alloc_after(-1);
    assert_int_equal(otap_test_live_allocations(), base);
    if (rc == 0) break;
    if (rc != ENOMEM) fprintf(stderr, "fail at n=%ld rc=%d\n", n, rc);
    assert_int_equal(rc, ENOMEM);
    failures++;
  }
  assert_true(failures > 20);
  assert_int_equal(build_layouts(), 0);
  assert_int_equal(otap_test_live_allocations(), base);
  failures = 0;
  for (long n = 0; n < 20000; n++) {
    otap_test_fail_alloc_after(n);
    int rc = build_layouts();
    otap_test_fail_alloc_after(-1);
    assert_int_equal(otap_test_live_allocations(), base);
    if (rc == 0) break;
    if (rc != ENOMEM) fprintf(stderr, "layouts: fail at n=%ld rc=%d\n", n, rc);
    assert_int_equal(rc, ENOMEM);
    failures++;
  }
  assert_true(failures > 50);
}

// ---------------------------------------------------------------------------------------------
// FULL validation fast paths (UTF-8, offsets, dictionary indices) against exact slow-path
// messages, and ref/slice from several threads.

// Reference UTF-8 check, one code point at a time (decodes and range-checks the value).
static bool ref_utf8_ok(const uint8_t* s, int64_t n) {
  int64_t i = 0;
  while (i < n) {
    uint8_t b = s[i];
    int len;
    uint32_t cp;
    if (b < 0x80) { i++; continue; }
    if ((b & 0xe0) == 0xc0) { len = 2; cp = b & 0x1f; }
    else if ((b & 0xf0) == 0xe0) { len = 3; cp = b & 0x0f; }
    else if ((b & 0xf8) == 0xf0) { len = 4; cp = b & 0x07; }
    else return false;
    if (n - i < len) return false;
    for (int k = 1; k < len; k++) {
      if ((s[i + k] & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (s[i + k] & 0x3f);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
      return false;
    }
    i += len;
  }
  return true;
}

// Validates a fake utf8 array (FULL); returns the errno and copies the message.
static int validate_strings(const int32_t* offs, int64_t n, const uint8_t* data, char* msg,
                            size_t cap) {
  struct ArrowSchema s;
  struct ArrowArray a;
  struct otap_array_view v;
  struct otap_error err;
  int released = 0;
  make_schema(&s, "u", "body");
  const void* bufs[3] = {NULL, offs, data};
  fake_init(&a, n, 0, 3, bufs, &released);
  err.message[0] = 0;
  OK(otap_array_view_init(&v, &s, &err));
  int rc = otap_array_view_set(&v, &a, OTAP_VALIDATE_FULL, &err);
  snprintf(msg, cap, "%s", err.message);
  otap_array_view_reset(&v);
  otap_array_release(&a);
  otap_schema_release(&s);
  return rc;
}

static void test_utf8_fast_path_positions(void** state) {
  (void)state;
  static const char* const bad[] = {
      "\xff", "\x80", "\xbf", "\xc0\x80", "\xc1\xbf", "\xe0\x80\x80", "\xe0\x9f\xbf",
      "\xf0\x80\x80\x80", "\xf0\x8f\xbf\xbf", "\xed\xa0\x80", "\xed\xbf\xbf", "\xf4\x90\x80\x80",
      "\xf5\x80\x80\x80", "\xf8\x88\x80\x80\x80", "\xc3", "\xe2\x82", "\xf0\x9f\x98", "\xc3\x41",
      "\xe2\x41\xac", "\xf0\x9f\x41\x80"};
  static const char* const good[] = {"\xc2\x80", "\xc3\xa9", "\xdf\xbf", "\xe0\xa0\x80",
                                     "\xe2\x82\xac", "\xed\x9f\xbf", "\xee\x80\x80",
                                     "\xef\xbf\xbf", "\xf0\x90\x80\x80", "\xf0\x9f\x98\x80",
                                     "\xf4\x8f\xbf\xbf"};
  uint8_t data[96];
  char msg[512];
  char want[64];
  for (int pos = 0; pos < 72; pos++) {
    // Invalid sequences at every position relative to 8/16/32-byte blocks, in one string and
    // in strings of 5 bytes (the message names the element and the byte).
    for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
      size_t l = strlen(bad[k]);
      memset(data, 'a', sizeof(data));
      memcpy(data + pos, bad[k], l);
      int64_t total = pos + (int64_t)l + 8;
      bool truncated_at_end = k >= 14 && k <= 16;
      if (truncated_at_end) total = pos + (int64_t)l;  // truncated at the end of the buffer
      int32_t one[2] = {0, (int32_t)total};
      assert_int_equal(validate_strings(one, 1, data, msg, sizeof(msg)), EINVAL);
      snprintf(want, sizeof(want), "element 0: invalid UTF-8 at byte %d ", pos);
      if (!strstr(msg, want)) fprintf(stderr, "want '%s' got '%s'\n", want, msg);
      assert_non_null(strstr(msg, want));
      int32_t many[24];
      int64_t n = 0;
      many[0] = 0;
      while (many[n] < total) {
        many[n + 1] = many[n] + 5 < total ? many[n] + 5 : (int32_t)total;
        n++;
      }
      int rc = validate_strings(many, n, data, msg, sizeof(msg));
      assert_int_equal(rc, EINVAL);
      // Either the bad byte's element, or (a sequence cut by a boundary) a split character.
      snprintf(want, sizeof(want), "element %d: invalid UTF-8", pos / 5);
      if (!strstr(msg, want)) {
        snprintf(want, sizeof(want), "element %d: invalid UTF-8", pos / 5 + 1);
      }
      if (!strstr(msg, want)) fprintf(stderr, "pos %d seq %zu: got '%s'\n", pos, k, msg);
      assert_non_null(strstr(msg, want));
    }
    // Valid multi-byte characters at every position pass, alone and mixed with ASCII runs.
    for (size_t k = 0; k < sizeof(good) / sizeof(good[0]); k++) {
      size_t l = strlen(good[k]);
      memset(data, 'b', sizeof(data));
      memcpy(data + pos, good[k], l);
      int32_t one[2] = {0, (int32_t)(pos + (int64_t)l + 3)};
      assert_int_equal(validate_strings(one, 1, data, msg, sizeof(msg)), 0);
      // Offsets on both sides of the character are fine; one inside it is not.
      int32_t around[4] = {0, pos, (int32_t)(pos + (int64_t)l), (int32_t)(pos + (int64_t)l + 3)};
      assert_int_equal(validate_strings(around, 3, data, msg, sizeof(msg)), 0);
      for (size_t cut = 1; cut < l; cut++) {
        int32_t split[3] = {0, (int32_t)(pos + (int64_t)cut), (int32_t)(pos + (int64_t)l + 3)};
        assert_int_equal(validate_strings(split, 2, data, msg, sizeof(msg)), EINVAL);
        assert_non_null(strstr(msg, "element 1: invalid UTF-8"));
      }
    }
  }
}

// Random mixes of ASCII, valid and invalid pieces agree with the reference checker.
static void test_utf8_fast_path_random(void** state) {
  (void)state;
  static const char* const pieces[] = {
      "a", "hello world ", "0123456789abcdefghijklmnopqrstuv", "\xc3\xa9", "\xe2\x82\xac",
      "\xf0\x9f\x98\x80", "\xf4\x8f\xbf\xbf", "\xed\x9f\xbf", "\xc0\xaf", "\xed\xa0\x80",
      "\xf4\x90\x80\x80", "\x80", "\xe2\x82", "\xff"};
  uint64_t x = 0x9e3779b97f4a7c15ull;
  uint8_t data[512];
  char msg[512];
  for (int iter = 0; iter < 3000; iter++) {
    int64_t n = 0;
    bool any_bad = (iter % 3) == 0;
    while (n < 400) {
      x ^= x << 13; x ^= x >> 7; x ^= x << 17;
      size_t k = (size_t)(x % (any_bad ? 14 : 8));
      size_t l = strlen(pieces[k]);
      memcpy(data + n, pieces[k], l);
      n += (int64_t)l;
    }
    int32_t one[2] = {0, (int32_t)n};
    int rc = validate_strings(one, 1, data, msg, sizeof(msg));
    assert_int_equal(rc, ref_utf8_ok(data, n) ? 0 : EINVAL);
  }
}

static void test_offsets_fast_path_positions(void** state) {
  (void)state;
  enum { N = 4200 };  // crosses the 4096-offset block of the monotonic pass
  static int32_t offs[N + 1];
  static uint8_t data[N];
  memset(data, 'z', sizeof(data));
  char msg[512];
  char want[64];
  static const int at[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 31, 32, 33, 4094, 4095, 4096,
                           4097, 4098, 4099, N - 1};
  for (int64_t i = 0; i <= N; i++) offs[i] = (int32_t)i;
  assert_int_equal(validate_strings(offs, N, data, msg, sizeof(msg)), 0);
  for (size_t k = 0; k < sizeof(at) / sizeof(at[0]); k++) {
    int i = at[k];
    offs[i] = offs[i - 1] - 1 >= 0 ? offs[i - 1] - 1 : 0;
    if (offs[i] >= offs[i - 1]) offs[i - 1] = offs[i] + 1;  // i == 1: raise the one before
    if (i == 1) {
      offs[1] = 0;
      offs[0] = 0;
      offs[2] = 2;
      offs[1] = 3;  // 0, 3, 2: element 1 goes backwards
      i = 2;
    }
    assert_int_equal(validate_strings(offs, N, data, msg, sizeof(msg)), EINVAL);
    snprintf(want, sizeof(want), "element %d: offset", i - 1);
    if (!strstr(msg, want)) fprintf(stderr, "want '%s' got '%s'\n", want, msg);
    assert_non_null(strstr(msg, want));
    for (int64_t j = 0; j <= N; j++) offs[j] = (int32_t)j;
  }
  // Sliced (nonzero offset) arrays are checked from their own first offset.
  struct ArrowSchema s;
  struct ArrowArray a;
  struct otap_array_view v;
  struct otap_error err;
  int released = 0;
  make_schema(&s, "u", "body");
  offs[3] = 1;  // before the slice: ignored
  const void* bufs[3] = {NULL, offs, data};
  fake_init(&a, 100, 0, 3, bufs, &released);
  a.offset = 10;
  OK(otap_array_view_init(&v, &s, &err));
  OK(otap_array_view_set(&v, &a, OTAP_VALIDATE_FULL, &err));
  offs[50] = 5;
  assert_int_equal(otap_array_view_set(&v, &a, OTAP_VALIDATE_FULL, &err), EINVAL);
  assert_non_null(strstr(err.message, "element 39: offset 5 after 49"));
  otap_array_view_reset(&v);
  otap_array_release(&a);
  otap_schema_release(&s);
}

// dictionary<idx, utf8> with a 3-entry dictionary; index `bad` placed at `pos` of 40.
static int validate_dict(const char* fmt, int bytes, int pos, int64_t bad, bool null_there,
                         char* msg, size_t cap) {
  struct ArrowSchema s;
  struct ArrowArray a;
  struct ArrowArray dict_array;  // released through the parent's fake_release
  struct ArrowArray* d = &dict_array;
  struct otap_array_view v;
  struct otap_error err;
  int released = 0;
  make_schema(&s, fmt, "k");
  OK(otap_schema_allocate_dictionary(&s));
  OK(otap_schema_init(s.dictionary, "u"));
  static const int32_t doffs[4] = {0, 1, 2, 3};
  const void* dbufs[3] = {NULL, doffs, "xyz"};
  fake_init(d, 3, 0, 3, dbufs, &released);
  uint8_t idx[40 * 8];
  uint8_t valid[5];
  memset(valid, 0xff, sizeof(valid));
  for (int i = 0; i < 40; i++) {
    int64_t val = i == pos ? bad : i % 3;
    memcpy(idx + (size_t)i * (size_t)bytes, &val, (size_t)bytes);  // little endian
  }
  if (null_there) valid[pos / 8] &= (uint8_t) ~(1u << (pos % 8));
  const void* bufs[2] = {valid, idx};
  fake_init(&a, 40, null_there ? 1 : 0, 2, bufs, &released);
  a.dictionary = d;
  err.message[0] = 0;
  OK(otap_array_view_init(&v, &s, &err));
  int rc = otap_array_view_set(&v, &a, OTAP_VALIDATE_FULL, &err);
  snprintf(msg, cap, "%s", err.message);
  otap_array_view_reset(&v);
  otap_array_release(&a);
  otap_schema_release(&s);
  return rc;
}

static void test_dictionary_fast_path(void** state) {
  (void)state;
  static const struct { const char* fmt; int bytes; int64_t bad; } cases[] = {
      {"C", 1, 3}, {"C", 1, 255}, {"S", 2, 3}, {"S", 2, 65535}, {"I", 4, 3},
      {"L", 8, -1 /* 2^64 - 1 */}, {"c", 1, 3}, {"c", 1, -1}, {"s", 2, -128}, {"i", 4, 3},
      {"l", 8, -5}, {"l", 8, 3}};
  char msg[512];
  char want[64];
  for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
    for (int pos = 0; pos < 40; pos++) {
      int rc = validate_dict(cases[k].fmt, cases[k].bytes, pos, cases[k].bad, false, msg,
                             sizeof(msg));
      assert_int_equal(rc, EINVAL);
      snprintf(want, sizeof(want), "element %d: dictionary index ", pos);
      if (!strstr(msg, want)) fprintf(stderr, "%s pos %d: got '%s'\n", cases[k].fmt, pos, msg);
      assert_non_null(strstr(msg, want));
      assert_non_null(strstr(msg, "out of range (dictionary length 3)"));
      // Under a null the same index is accepted.
      assert_int_equal(validate_dict(cases[k].fmt, cases[k].bytes, pos, cases[k].bad, true, msg,
                                     sizeof(msg)), 0);
      // Index == length - 1 is fine.
      assert_int_equal(validate_dict(cases[k].fmt, cases[k].bytes, pos, 2, false, msg,
                                     sizeof(msg)), 0);
    }
  }
  assert_int_equal(validate_dict("C", 1, 7, 3, false, msg, sizeof(msg)), EINVAL);
  assert_non_null(strstr(msg, "element 7: dictionary index 3 out of range (dictionary length 3)"));
}

struct slicer {
  const struct ArrowArray* src;
  int64_t sum;
  int failures;
};

static void* slicer_main(void* arg) {
  struct slicer* t = arg;
  for (int r = 0; r < 300; r++) {
    struct ArrowArray out;
    int64_t off = r % 50;
    int rc = (r & 1) ? otap_array_slice(t->src, off, 10, &out, NULL)
                     : otap_array_ref(t->src, &out, NULL);
    if (rc) {
      t->failures++;
      continue;
    }
    const int64_t* vals = out.children[0]->buffers[1];
    t->sum += vals[out.offset];
    const int32_t* so = out.children[1]->buffers[1];
    const char* sd = out.children[1]->buffers[2];
    if (sd[so[out.offset]] != 's') t->failures++;
    otap_array_release(&out);
  }
  return NULL;
}

// Two threads ref and slice one finished array (whose buffers are still owned) at once.
static void test_ref_slice_threads(void** state) {
  (void)state;
  otap_set_allocator(NULL);  // the counting test allocator is single-threaded
  for (int round = 0; round < 20; round++) {
    struct ArrowSchema s;
    struct ArrowArray a;
    const char* f[] = {"l", "u"};
    const char* n[] = {"v", "s"};
    make_struct(&s, 2, f, n);
    OK(otap_array_init_from_schema(&a, &s, NULL));
    for (int i = 0; i < 64; i++) {
      OK(otap_array_append_int(a.children[0], i));
      OK(otap_array_append_bytes(a.children[1], "s-row", 5));
      OK(otap_array_finish_element(&a));
    }
    OK(otap_array_finish(&a, OTAP_VALIDATE_FULL, &s, NULL));
    struct slicer t[2] = {{&a, 0, 0}, {&a, 0, 0}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++) assert_int_equal(pthread_create(&th[i], NULL, slicer_main, &t[i]), 0);
    for (int i = 0; i < 2; i++) assert_int_equal(pthread_join(th[i], NULL), 0);
    int64_t want = 0;
    for (int r = 0; r < 300; r++) want += (r & 1) ? r % 50 : 0;
    for (int i = 0; i < 2; i++) {
      assert_int_equal(t[i].failures, 0);
      assert_int_equal(t[i].sum, want);
    }
    // The source is still intact and valid after sharing.
    struct otap_array_view v;
    struct otap_error err;
    OK(otap_array_view_init(&v, &s, &err));
    OK(otap_array_view_set(&v, &a, OTAP_VALIDATE_FULL, &err));
    assert_int_equal(otap_view_get_int(v.children[0], 63), 63);
    otap_array_view_reset(&v);
    otap_array_release(&a);
    otap_schema_release(&s);
  }
  otap_test_install_allocator();
}

int main(void) {
  otap_test_install_allocator();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_type_names),
      cmocka_unit_test(test_utf8_fast_path_positions),
      cmocka_unit_test(test_utf8_fast_path_random),
      cmocka_unit_test(test_offsets_fast_path_positions),
      cmocka_unit_test(test_dictionary_fast_path),
      cmocka_unit_test(test_ref_slice_threads),
      cmocka_unit_test(test_schema_view_all_formats),
      cmocka_unit_test(test_schema_view_bad_formats),
      cmocka_unit_test(test_schema_build_copy_equal),
      cmocka_unit_test(test_metadata),
      cmocka_unit_test(test_union_append_null),
      cmocka_unit_test(test_roundtrip_primitives),
      cmocka_unit_test(test_roundtrip_bool_float_fixed),
      cmocka_unit_test(test_half_float_exhaustive),
      cmocka_unit_test(test_roundtrip_strings),
      cmocka_unit_test(test_roundtrip_nested),
      cmocka_unit_test(test_direct_buffers_and_shared),
      cmocka_unit_test(test_builder_details),
      cmocka_unit_test(test_format_type_nested),
      cmocka_unit_test(test_validation_failures),
      cmocka_unit_test(test_import_release_once),
      cmocka_unit_test(test_import_outlives_producer),
      cmocka_unit_test(test_ref_slice_move),
      cmocka_unit_test(test_stream),
      cmocka_unit_test(test_allocation_failure),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
