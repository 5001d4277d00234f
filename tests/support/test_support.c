// Tests of the test-support code: the strict JSON parser, the integration JSON loader and the
// deep array comparison.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "otap/common.h"
#include "support/json.h"
#include "testutil.h"

static struct otap_test_json* parse_ok(const char* text) {
  struct otap_test_json* root = NULL;
  struct otap_error err;
  int rc = otap_test_json_parse(text, strlen(text), &root, &err);
  if (rc != 0) fail_msg("parse of '%s' failed: %s", text, err.message);
  return root;
}

static void test_json_values(void** state) {
  (void)state;
  struct otap_test_json* r = parse_ok(
      " { \"a\" : [1, -2.5e3, true, false, null, \"x\\n\\u00e9\\ud83d\\ude00\"],"
      "\"b\": {}, \"c\": [], \"big\": 9223372036854775807, \"neg\": \"-9223372036854775808\","
      "\"u\": 18446744073709551615 } ");
  assert_int_equal(r->type, OTAP_TEST_JSON_OBJECT);
  assert_int_equal(r->n_items, 6);
  const struct otap_test_json* a = otap_test_json_get(r, "a");
  assert_non_null(a);
  assert_int_equal(a->type, OTAP_TEST_JSON_ARRAY);
  assert_int_equal(a->n_items, 6);
  assert_int_equal(a->items[0].type, OTAP_TEST_JSON_NUMBER);
  assert_true(a->items[0].number == 1.0);
  assert_true(a->items[1].number == -2500.0);
  assert_string_equal(a->items[1].text, "-2.5e3");
  assert_true(a->items[2].type == OTAP_TEST_JSON_BOOL && a->items[2].boolean);
  assert_true(a->items[3].type == OTAP_TEST_JSON_BOOL && !a->items[3].boolean);
  assert_int_equal(a->items[4].type, OTAP_TEST_JSON_NULL);
  assert_int_equal(a->items[5].type, OTAP_TEST_JSON_STRING);
  assert_int_equal(a->items[5].text_len, 2 + 2 + 4);
  assert_memory_equal(a->items[5].text, "x\n\xc3\xa9\xf0\x9f\x98\x80", 8);
  assert_int_equal(otap_test_json_get(r, "b")->n_items, 0);
  assert_int_equal(otap_test_json_get(r, "c")->type, OTAP_TEST_JSON_ARRAY);
  assert_null(otap_test_json_get(r, "missing"));
  assert_null(otap_test_json_get(a, "a"));

  int64_t i64;
  uint64_t u64;
  double d;
  struct otap_error err;
  assert_int_equal(otap_test_json_int64(otap_test_json_get(r, "big"), &i64, &err), 0);
  assert_true(i64 == INT64_MAX);
  assert_int_equal(otap_test_json_int64(otap_test_json_get(r, "neg"), &i64, &err), 0);
  assert_true(i64 == INT64_MIN);
  assert_int_equal(otap_test_json_int64(otap_test_json_get(r, "u"), &i64, &err), ERANGE);
  assert_int_equal(otap_test_json_uint64(otap_test_json_get(r, "u"), &u64, &err), 0);
  assert_true(u64 == UINT64_MAX);
  assert_int_equal(otap_test_json_int64(&a->items[1], &i64, &err), EINVAL);
  assert_int_equal(otap_test_json_uint64(&a->items[1], &u64, &err), EINVAL);
  assert_int_equal(otap_test_json_int64(&a->items[4], &i64, &err), EINVAL);
  assert_int_equal(otap_test_json_double(&a->items[1], &d, &err), 0);
  assert_true(d == -2500.0);
  assert_int_equal(otap_test_json_double(&a->items[5], &d, &err), EINVAL);
  otap_test_json_free(r);

  r = parse_ok("[\"NaN\", \"-Infinity\", \"1.5\", 0, -0, 0.25]");
  assert_int_equal(otap_test_json_double(&r->items[0], &d, &err), 0);
  assert_true(d != d);
  assert_int_equal(otap_test_json_double(&r->items[1], &d, &err), 0);
  assert_true(d < 0 && d * 0 != 0);
  assert_int_equal(otap_test_json_double(&r->items[2], &d, &err), 0);
  assert_true(d == 1.5);
  assert_int_equal(otap_test_json_int64(&r->items[4], &i64, &err), 0);
  assert_true(i64 == 0);
  assert_int_equal(otap_test_json_uint64(&r->items[4], &u64, &err), 0);
  otap_test_json_free(r);

  // A NUL escaped inside a string is kept (text_len counts it).
  r = parse_ok("\"a\\u0000b\"");
  assert_int_equal(r->text_len, 3);
  assert_memory_equal(r->text, "a\0b", 3);
  otap_test_json_free(r);
  otap_test_json_free(NULL);
}

static void test_json_rejects(void** state) {
  (void)state;
  static const char* bad[] = {
      "", " ", "[1,]", "{\"a\":1,}", "[01]", "[-]", "[1.]", "[.5]", "[1e]", "[+1]", "NaN",
      "[nul]", "tru", "{\"a\" 1}", "{a:1}", "{'a':1}", "[1 2]", "[1] x", "\"abc", "\"\\x\"",
      "\"\\u12g4\"", "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"", "\"a\tb\"",
      "\"\xc3\x28\"", "\"\xed\xa0\x80\"", "\"\xf5\x80\x80\x80\"", "\"\xc0\xaf\"",
      "/* c */ 1", "[1] // c", "{\"a\":}", "[", "{", "]", "\"\\u12\"", "[1,,2]", "{,}",
      "[\"a\" \"b\"]", "-01", "1e+", "0x10", "[Infinity]",
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    struct otap_test_json* r = NULL;
    struct otap_error err;
    err.message[0] = 0;
    int rc = otap_test_json_parse(bad[i], strlen(bad[i]), &r, &err);
    if (rc != EINVAL) fail_msg("'%s' gave %d, expected EINVAL", bad[i], rc);
    assert_null(r);
    assert_non_null(strstr(err.message, "at byte"));
  }
  // Embedded NUL byte in the document.
  struct otap_test_json* r = NULL;
  assert_int_equal(otap_test_json_parse("[1]\0", 4, &r, NULL), EINVAL);
  // Nesting cap: 600 '[' fail, 500 pass.
  char deep[1300];
  for (int depth = 500; depth <= 600; depth += 100) {
    int n = 0;
    for (int i = 0; i < depth; i++) deep[n++] = '[';
    for (int i = 0; i < depth; i++) deep[n++] = ']';
    int rc = otap_test_json_parse(deep, (size_t)n, &r, NULL);
    assert_int_equal(rc, depth <= OTAP_TEST_JSON_MAX_DEPTH ? 0 : EINVAL);
    otap_test_json_free(r);
    r = NULL;
  }
}

static void test_json_error_offset(void** state) {
  (void)state;
  struct otap_test_json* r = NULL;
  struct otap_error err;
  const char* doc = "{\"a\": [1, 2, x]}";
  assert_int_equal(otap_test_json_parse(doc, strlen(doc), &r, &err), EINVAL);
  assert_non_null(strstr(err.message, "byte 13"));
}

static void test_json_alloc_failures(void** state) {
  (void)state;
  const char* doc = "{\"k\": [1, \"two\", {\"three\": [3.0, null, true]}], \"s\": \"\\u00e9\"}";
  otap_test_install_allocator();
  long base = otap_test_live_allocations();
  int successes = 0;
  for (long n = 0; n < 200; n++) {
    otap_test_fail_alloc_after(n);
    struct otap_test_json* r = NULL;
    struct otap_error err;
    int rc = otap_test_json_parse(doc, strlen(doc), &r, &err);
    otap_test_fail_alloc_after(-1);
    assert_true(rc == 0 || rc == ENOMEM);
    if (rc == 0) {
      successes++;
      assert_string_equal(otap_test_json_get(r, "s")->text, "\xc3\xa9");
      otap_test_json_free(r);
    } else {
      assert_null(r);
    }
    assert_int_equal(otap_test_live_allocations(), base);
  }
  assert_true(successes > 0);
  otap_set_allocator(NULL);
}

// Mutated documents (byte flips, insertions, truncations) never crash or leak: each parse
// either succeeds or fails with EINVAL (run under ASan in CI).
static void test_json_mutations(void** state) {
  (void)state;
  const char* doc =
      "{\"schema\": {\"fields\": [{\"name\": \"a\\u00e9\", \"nullable\": true, \"n\": -1.5e-3}]},"
      " \"batches\": [{\"count\": 2, \"DATA\": [\"-9223372036854775808\", 0, true, null]}]}";
  size_t len = strlen(doc);
  char* buf = malloc(len + 2);
  assert_non_null(buf);
  uint64_t x = 0x9E3779B97F4A7C15ull;
  static const char kChars[] = "{}[]\",:\\ 0-9eE.tfnu\x01\x80\xc3\xff";
  int ok = 0;
  for (int iter = 0; iter < 20000; iter++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    memcpy(buf, doc, len);
    size_t n = len;
    size_t at = (size_t)(x % len);
    switch ((x >> 32) % 3) {
      case 0: buf[at] = kChars[(x >> 40) % (sizeof(kChars) - 1)]; break;
      case 1: n = at; break;
      default:
        memmove(buf + at + 1, buf + at, len - at);
        buf[at] = kChars[(x >> 40) % (sizeof(kChars) - 1)];
        n = len + 1;
        break;
    }
    struct otap_test_json* r = NULL;
    int rc = otap_test_json_parse(buf, n, &r, NULL);
    assert_true(rc == 0 || rc == EINVAL);
    if (rc == 0) ok++;
    otap_test_json_free(r);
  }
  free(buf);
  assert_true(ok > 0);
}

#ifdef OTAP_TEST_HAVE_ARROW
#include <dirent.h>

#include "support/arrow_compare.h"
#include "support/integration_json.h"

// A small integration document covering the loader's buffer kinds.
static const char* kDoc =
    "{\"schema\": {\"fields\": ["
    " {\"name\": \"i\", \"type\": {\"name\": \"int\", \"isSigned\": true, \"bitWidth\": 64},"
    "  \"nullable\": true, \"children\": [], \"metadata\": [{\"key\": \"k\", \"value\": \"v\"}]},"
    " {\"name\": \"s\", \"type\": {\"name\": \"utf8\"}, \"nullable\": true, \"children\": []},"
    " {\"name\": \"l\", \"type\": {\"name\": \"list\"}, \"nullable\": true, \"children\": ["
    "   {\"name\": \"item\", \"type\": {\"name\": \"floatingpoint\", \"precision\": \"SINGLE\"},"
    "    \"nullable\": true, \"children\": []}]},"
    " {\"name\": \"d\", \"type\": {\"name\": \"utf8\"}, \"nullable\": true, \"children\": [],"
    "  \"dictionary\": {\"id\": 7, \"indexType\": {\"name\": \"int\", \"isSigned\": true,"
    "   \"bitWidth\": 8}, \"isOrdered\": false}},"
    " {\"name\": \"dec\", \"type\": {\"name\": \"decimal\", \"precision\": 20, \"scale\": 2},"
    "  \"nullable\": true, \"children\": []},"
    " {\"name\": \"b\", \"type\": {\"name\": \"fixedsizebinary\", \"byteWidth\": 2},"
    "  \"nullable\": false, \"children\": []}"
    "], \"metadata\": [{\"key\": \"top\", \"value\": \"1\"}]},"
    "\"batches\": [{\"count\": 3, \"columns\": ["
    " {\"name\": \"i\", \"count\": 3, \"VALIDITY\": [1, 0, 1],"
    "  \"DATA\": [\"-9223372036854775808\", \"5\", \"9223372036854775807\"]},"
    " {\"name\": \"s\", \"count\": 3, \"VALIDITY\": [1, 1, 0], \"OFFSET\": [0, 2, 5, 6],"
    "  \"DATA\": [\"ab\", \"\\u00e9c\", \"z\"]},"
    " {\"name\": \"l\", \"count\": 3, \"VALIDITY\": [1, 0, 1], \"OFFSET\": [0, 2, 2, 3],"
    "  \"children\": [{\"name\": \"item\", \"count\": 3, \"VALIDITY\": [1, 1, 0],"
    "   \"DATA\": [1.5, -0.1, 3]}]},"
    " {\"name\": \"d\", \"count\": 3, \"VALIDITY\": [1, 1, 0], \"DATA\": [1, 0, 1]},"
    " {\"name\": \"dec\", \"count\": 3, \"VALIDITY\": [1, 1, 1],"
    "  \"DATA\": [\"-1\", \"12345678901234567890\", \"0\"]},"
    " {\"name\": \"b\", \"count\": 3, \"VALIDITY\": [1, 1, 1], \"DATA\": [\"00FF\", \"ab01\", \"0000\"]}"
    "]}],"
    "\"dictionaries\": [{\"id\": 7, \"data\": {\"count\": 2, \"columns\": [{\"name\": \"DICT7\","
    " \"count\": 2, \"VALIDITY\": [1, 1], \"OFFSET\": [0, 1, 3], \"DATA\": [\"x\", \"yz\"]}]}}]}";

static void load_doc(const char* doc, struct otap_test_integration* it) {
  struct otap_error err;
  int rc = otap_test_integration_load(doc, strlen(doc), it, &err);
  if (rc != 0) fail_msg("load failed: %s", err.message);
}

static void test_loader_builds_arrays(void** state) {
  (void)state;
  struct otap_test_integration it;
  load_doc(kDoc, &it);
  assert_int_equal(it.n_batches, 1);
  assert_string_equal(it.schema.format, "+s");
  assert_int_equal(it.schema.n_children, 6);
  assert_string_equal(it.schema.children[0]->format, "l");
  assert_string_equal(it.schema.children[3]->format, "c");
  assert_non_null(it.schema.children[3]->dictionary);
  assert_int_equal(it.n_dictionary_ids, 1);
  assert_int_equal(it.dictionary_ids[0], 7);
  assert_string_equal(it.schema.children[3]->dictionary->format, "u");
  assert_string_equal(it.schema.children[4]->format, "d:20,2");
  assert_int_equal(it.schema.children[5]->flags & ARROW_FLAG_NULLABLE, 0);
  const char* v;
  int32_t vlen;
  assert_int_equal(otap_metadata_find(it.schema.metadata, "top", &v, &vlen), 0);
  assert_int_equal(vlen, 1);
  assert_int_equal(otap_metadata_find(it.schema.children[0]->metadata, "k", &v, &vlen), 0);

  const struct ArrowArray* b = &it.batches[0];
  assert_int_equal(b->length, 3);
  const struct ArrowArray* i = b->children[0];
  assert_int_equal(i->null_count, 1);
  const int64_t* iv = (const int64_t*)i->buffers[1];
  assert_true(iv[i->offset + 0] == INT64_MIN);
  assert_true(iv[i->offset + 2] == INT64_MAX);
  const struct ArrowArray* s = b->children[1];
  const int32_t* so = (const int32_t*)s->buffers[1];
  assert_int_equal(so[s->offset + 2] - so[s->offset + 1], 3);
  assert_memory_equal((const char*)s->buffers[2] + so[s->offset + 1], "\xc3\xa9" "c", 3);
  const struct ArrowArray* l = b->children[2];
  const float* lf = (const float*)l->children[0]->buffers[1];
  assert_true(lf[l->children[0]->offset + 1] == (float)-0.1);
  const struct ArrowArray* d = b->children[3];
  assert_non_null(d->dictionary);
  assert_int_equal(d->dictionary->length, 2);
  const uint8_t* dec = (const uint8_t*)b->children[4]->buffers[1] + 16 * b->children[4]->offset;
  for (int k = 0; k < 16; k++) assert_int_equal(dec[k], 0xFF);  // -1
  // 12345678901234567890 = 0xAB54A98CEB1F0AD2
  assert_int_equal(dec[16], 0xD2);
  assert_int_equal(dec[23], 0xAB);
  assert_int_equal(dec[24], 0);
  const uint8_t* fb = (const uint8_t*)b->children[5]->buffers[1] + 2 * b->children[5]->offset;
  assert_int_equal(fb[1], 0xFF);
  assert_int_equal(fb[2], 0xAB);
  otap_test_integration_reset(&it);
  otap_test_integration_reset(&it);
}

static void test_loader_half_floats(void** state) {
  (void)state;
  const char* doc =
      "{\"schema\": {\"fields\": [{\"name\": \"h\", \"type\": {\"name\": \"floatingpoint\","
      " \"precision\": \"HALF\"}, \"nullable\": false, \"children\": []}]},"
      " \"batches\": [{\"count\": 7, \"columns\": [{\"name\": \"h\", \"count\": 7,"
      " \"VALIDITY\": [1, 1, 1, 1, 1, 1, 1],"
      " \"DATA\": [1.5, -2, 65504, 0.1, 6e-8, 1e6, \"NaN\"]}]}]}";
  struct otap_test_integration it;
  load_doc(doc, &it);
  const struct ArrowArray* h = it.batches[0].children[0];
  const uint16_t* v = (const uint16_t*)h->buffers[1] + h->offset;
  assert_int_equal(v[0], 0x3E00);
  assert_int_equal(v[1], 0xC000);
  assert_int_equal(v[2], 0x7BFF);
  assert_int_equal(v[3], 0x2E66);
  assert_int_equal(v[4], 0x0001);
  assert_int_equal(v[5], 0x7C00);  // overflow rounds to infinity
  assert_true((v[6] & 0x7C00) == 0x7C00 && (v[6] & 0x3FF) != 0);
  otap_test_integration_reset(&it);
}

static void test_loader_rejects(void** state) {
  (void)state;
  static const char* bad[] = {
      "{}",
      "{\"schema\": {\"fields\": []}}",
      "{\"schema\": {\"fields\": [{\"name\": \"x\", \"type\": {\"name\": \"int\", \"bitWidth\": 8,"
      " \"isSigned\": true}, \"nullable\": true, \"children\": []}]}, \"batches\": [{\"count\": 2,"
      " \"columns\": [{\"name\": \"x\", \"count\": 2, \"VALIDITY\": [1, 1], \"DATA\": [1, 300]}]}]}",
      "{\"schema\": {\"fields\": [{\"name\": \"x\", \"type\": {\"name\": \"utf8\"}, \"nullable\":"
      " true, \"children\": []}]}, \"batches\": [{\"count\": 1, \"columns\": [{\"name\": \"x\","
      " \"count\": 1, \"VALIDITY\": [1], \"OFFSET\": [0, 5], \"DATA\": [\"ab\"]}]}]}",
      ("{\"schema\": {\"fields\": [{\"name\": \"x\", \"type\": {\"name\": \"quux\"}, \"nullable\":"
       " true, \"children\": []}]}, \"batches\": []}"),
  };
  for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
    struct otap_test_integration it;
    struct otap_error err;
    int rc = otap_test_integration_load(bad[k], strlen(bad[k]), &it, &err);
    if (rc == 0) fail_msg("document %zu loaded but is invalid", k);
    assert_true(rc == EINVAL || rc == ENOTSUP || rc == ERANGE);
    assert_int_equal(it.n_batches, 0);
  }
}

static char* replace_once(const char* s, const char* from, const char* to) {
  const char* p = strstr(s, from);
  assert_non_null(p);
  size_t n = strlen(s) - strlen(from) + strlen(to) + 1;
  char* out = malloc(n);
  assert_non_null(out);
  snprintf(out, n, "%.*s%s%s", (int)(p - s), s, to, p + strlen(from));
  return out;
}

static void expect_diff(const char* doc, const char* what) {
  struct otap_test_integration a, b;
  load_doc(kDoc, &a);
  load_doc(doc, &b);
  struct otap_test_diff diff;
  bool eq = otap_test_schema_equal(&a.schema, &b.schema, NULL, &diff) &&
            otap_test_array_equal(&a.schema, &a.batches[0], &b.schema, &b.batches[0], NULL, &diff);
  if (eq) fail_msg("no difference found, expected one at %s", what);
  if (!strstr(diff.message, what)) fail_msg("diff '%s' does not mention '%s'", diff.message, what);
  otap_test_integration_reset(&a);
  otap_test_integration_reset(&b);
}

static void test_compare(void** state) {
  (void)state;
  struct otap_test_integration a, b;
  load_doc(kDoc, &a);
  load_doc(kDoc, &b);
  struct otap_test_diff diff;
  assert_true(otap_test_schema_equal(&a.schema, &b.schema, NULL, &diff));
  assert_true(otap_test_array_equal(&a.schema, &a.batches[0], &b.schema, &b.batches[0], NULL,
                                    &diff));
  assert_string_equal(diff.message, "");
  otap_test_integration_reset(&a);
  otap_test_integration_reset(&b);

  // Values in null slots are ignored.
  char* doc = replace_once(kDoc, "\"5\"", "\"6\"");
  load_doc(kDoc, &a);
  load_doc(doc, &b);
  assert_true(otap_test_array_equal(&a.schema, &a.batches[0], &b.schema, &b.batches[0], NULL,
                                    &diff));
  otap_test_integration_reset(&a);
  otap_test_integration_reset(&b);
  free(doc);

  doc = replace_once(kDoc, "\"9223372036854775807\"", "\"9223372036854775806\"");
  expect_diff(doc, "column 'i' row 2");
  free(doc);
  doc = replace_once(kDoc, "[1.5, -0.1, 3]", "[1.5, -0.2, 3]");
  expect_diff(doc, "column 'l' row 0 > item[1]");
  free(doc);
  doc = replace_once(kDoc, "\"DATA\": [\"x\", \"yz\"]", "\"DATA\": [\"x\", \"yy\"]");
  expect_diff(doc, "column 'd'");
  free(doc);
  doc = replace_once(kDoc, "\"value\": \"1\"", "\"value\": \"2\"");
  expect_diff(doc, "metadata entry 'top'='1'");
  free(doc);
  doc = replace_once(kDoc, "\"bitWidth\": 64", "\"bitWidth\": 32");
  char* doc2 = replace_once(doc, "[\"-9223372036854775808\", \"5\", \"9223372036854775807\"]",
                            "[1, 2, 3]");
  expect_diff(doc2, "format 'i', expected 'l'");
  free(doc);
  free(doc2);
  doc = replace_once(kDoc, "\"VALIDITY\": [1, 0, 1], \"OFFSET\"", "\"VALIDITY\": [1, 1, 1], \"OFFSET\"");
  expect_diff(doc, "column 'l' row 1");
  free(doc);
}

// Slices exercise offsets in the comparison for every type of the corpus (unions, run-end
// encoded, views, list views, dictionaries): a slice equals an identical slice, and a slice
// shifted by one row differs (random gold data), with the row reported.
static void test_compare_slices(void** state) {
  (void)state;
  static const char* kFiles[] = {
      "cpp-21.0.0/generated_union", "cpp-21.0.0/generated_run_end_encoded",
      "cpp-21.0.0/generated_binary_view", "cpp-21.0.0/generated_list_view",
      "cpp-21.0.0/generated_nested", "cpp-21.0.0/generated_dictionary",
      "cpp-21.0.0/generated_map", "cpp-21.0.0/generated_decimal256",
      "cpp-21.0.0/generated_interval_mdn", "cpp-21.0.0/generated_primitive",
  };
  for (size_t f = 0; f < sizeof(kFiles) / sizeof(kFiles[0]); f++) {
    char rel[256];
    snprintf(rel, sizeof(rel), "arrow-testing/data/arrow-ipc-stream/integration/%s.json.gz",
             kFiles[f]);
    struct otap_test_integration it;
    struct otap_error err;
    if (otap_test_integration_load_file(otap_test_data_path(rel), &it, &err) != 0) {
      fail_msg("%s", err.message);
    }
    int shifted = 0, differing = 0;
    for (int64_t b = 0; b < it.n_batches; b++) {
      int64_t n = it.batches[b].length;
      if (n < 3) continue;
      struct ArrowArray s1, s2, s3;
      assert_int_equal(otap_array_slice(&it.batches[b], 1, n - 2, &s1, &err), 0);
      assert_int_equal(otap_array_slice(&it.batches[b], 1, n - 2, &s2, &err), 0);
      assert_int_equal(otap_array_slice(&it.batches[b], 2, n - 2, &s3, &err), 0);
      struct otap_test_diff diff;
      if (!otap_test_array_equal(&it.schema, &s1, &it.schema, &s2, NULL, &diff)) {
        fail_msg("%s batch %lld: equal slices differ: %s", kFiles[f], (long long)b,
                 diff.message);
      }
      shifted++;
      if (!otap_test_array_equal(&it.schema, &s1, &it.schema, &s3, NULL, &diff)) {
        differing++;
        assert_non_null(strstr(diff.message, " row "));
      }
      otap_array_release(&s1);
      otap_array_release(&s2);
      otap_array_release(&s3);
    }
    if (shifted > 0 && differing == 0) fail_msg("%s: no shifted slice differs", kFiles[f]);
    otap_test_integration_reset(&it);
  }
}

// Mutated integration documents (a digit, bracket or quote changed) never crash the loader:
// it fails cleanly, or builds arrays that passed otap's FULL validation and compare with
// themselves.
static void test_loader_mutations(void** state) {
  (void)state;
  static const char* kFiles[] = {"cpp-21.0.0/generated_union", "cpp-21.0.0/generated_map",
                                 "cpp-21.0.0/generated_dictionary",
                                 "cpp-21.0.0/generated_run_end_encoded"};
  uint64_t x = 0xD1B54A32D192ED03ull;
  int loaded = 0, rejected = 0;
  for (size_t f = 0; f < sizeof(kFiles) / sizeof(kFiles[0]); f++) {
    char rel[256];
    snprintf(rel, sizeof(rel), "arrow-testing/data/arrow-ipc-stream/integration/%s.json.gz",
             kFiles[f]);
    struct otap_buffer doc;
    struct otap_error err;
    otap_buffer_init(&doc);
    if (otap_test_read_gzip_file(otap_test_data_path(rel), &doc, &err) != 0) {
      fail_msg("%s", err.message);
    }
    char* buf = malloc((size_t)doc.size);
    assert_non_null(buf);
    static const char kSubst[] = "0123456789-[]{}\",\"x";
    for (int iter = 0; iter < 250; iter++) {
      memcpy(buf, doc.data, (size_t)doc.size);
      for (int k = 0; k < 2; k++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        size_t at = (size_t)(x % (uint64_t)doc.size);
        // Prefer digits: they keep the document parseable and change counts/offsets/values.
        while (at < (size_t)doc.size && !(buf[at] >= '0' && buf[at] <= '9') && (x >> 60) < 12) {
          at++;
        }
        if (at >= (size_t)doc.size) at = (size_t)(x % (uint64_t)doc.size);
        buf[at] = kSubst[(x >> 32) % (sizeof(kSubst) - 1)];
      }
      struct otap_test_integration it;
      int rc = otap_test_integration_load(buf, (size_t)doc.size, &it, &err);
      if (rc == 0) {
        struct otap_test_diff diff;
        for (int64_t b = 0; b < it.n_batches; b++) {
          assert_true(otap_test_array_equal(&it.schema, &it.batches[b], &it.schema,
                                            &it.batches[b], NULL, &diff));
        }
        otap_test_integration_reset(&it);
        loaded++;
      } else {
        assert_true(rc == EINVAL || rc == ERANGE || rc == ENOTSUP);
        rejected++;
      }
    }
    free(buf);
    otap_buffer_reset(&doc);
  }
  printf("loader mutations: %d loaded and validated, %d rejected cleanly\n", loaded, rejected);
  assert_true(loaded > 0 && rejected > 0);
}

static void test_gold_file_loads(void** state) {
  (void)state;
  // Every integration JSON of the corpus loads (FULL validation by otap_array_finish) and
  // compares equal to itself.
  static const char* kDirs[] = {"0.14.1", "1.0.0-bigendian", "2.0.0-compression",
                                "4.0.0-shareddict", "cpp-21.0.0"};
  int loaded = 0, failed = 0;
  for (size_t d = 0; d < sizeof(kDirs) / sizeof(kDirs[0]); d++) {
    char dir[1024];
    int n = snprintf(dir, sizeof(dir), "%s/%s",
                     otap_test_data_path("arrow-testing/data/arrow-ipc-stream/integration"),
                     kDirs[d]);
    if (n < 0 || (size_t)n >= sizeof(dir)) fail_msg("path too long");
    DIR* dh = opendir(dir);
    if (!dh) fail_msg("cannot open %s", dir);
    struct dirent* e;
    while ((e = readdir(dh)) != NULL) {
      size_t len = strlen(e->d_name);
      if (len < 8 || strcmp(e->d_name + len - 8, ".json.gz") != 0) continue;
      char path[2048];
      int m = snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
      if (m < 0 || (size_t)m >= sizeof(path)) fail_msg("path too long");
      struct otap_test_integration it;
      struct otap_error err;
      int rc = otap_test_integration_load_file(path, &it, &err);
      if (rc != 0) {
        printf("load failed: %s\n", err.message);
        failed++;
        continue;
      }
      struct otap_test_diff diff;
      assert_true(otap_test_schema_equal(&it.schema, &it.schema, NULL, &diff));
      for (int64_t i = 0; i < it.n_batches; i++) {
        if (!otap_test_array_equal(&it.schema, &it.batches[i], &it.schema, &it.batches[i], NULL,
                                   &diff)) {
          printf("%s: self-compare failed: %s\n", path, diff.message);
          failed++;
        }
      }
      loaded++;
      otap_test_integration_reset(&it);
    }
    closedir(dh);
  }
  assert_int_equal(failed, 0);
  assert_true(loaded >= 38);  // the corpus has 38 integration JSON files
  struct otap_test_integration it;
  struct otap_error err;
  assert_int_equal(otap_test_integration_load_file("/nonexistent/x.json.gz", &it, &err) != 0, 1);
}
#endif

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_json_values),
      cmocka_unit_test(test_json_rejects),
      cmocka_unit_test(test_json_error_offset),
      cmocka_unit_test(test_json_alloc_failures),
      cmocka_unit_test(test_json_mutations),
#ifdef OTAP_TEST_HAVE_ARROW
      cmocka_unit_test(test_loader_builds_arrays),
      cmocka_unit_test(test_loader_half_floats),
      cmocka_unit_test(test_loader_rejects),
      cmocka_unit_test(test_compare),
      cmocka_unit_test(test_gold_file_loads),
      cmocka_unit_test(test_compare_slices),
      cmocka_unit_test(test_loader_mutations),
#endif
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
