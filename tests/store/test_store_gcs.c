// Tests of the GCS JSON API backend: the JSON parser offline, then every operation against
// tests/interop/gcs_server.mjs (a JSON API server of ours, itself checked with Google's
// official Node client in tests/interop/store_gcs_client.mjs) on 127.0.0.1: pagination over
// more than 1000 objects, ranges and generation pinning, simple and resumable uploads
// (308 handling, cancel on failure), JSON error bodies, retries, bearer-token redaction,
// fault injection through the proxy, allocation failures and `otap ls` / `otap cp`.
// cmocka.h needs these first.
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "otap/store.h"
#include "store/store_internal.h"
#include "store_harness.h"
#include "testutil.h"

#define TOKEN "ya29.TEST-SECRET-BEARER-9f8e7d"

static uint8_t pattern_byte(uint64_t i) {
  return (uint8_t)((i * 131u) ^ (i >> 9) ^ (i >> 17));
}

static uint8_t* make_data(size_t n) {
  uint8_t* d = malloc(n ? n : 1);
  for (size_t i = 0; i < n; i++) d[i] = pattern_byte(i);
  return d;
}

// ---------------------------------------------------------------------------------------------
// JSON parser (offline)

struct collect {
  char log[4096];
};

static int collect_cb(void* ctx, const char* path, enum otap__json_event ev,
                      const char* text, size_t n) {
  struct collect* c = ctx;
  static const char* names[] = {"{", "}", "[", "]", "s", "n", "t", "f", "null"};
  size_t l = strlen(c->log);
  snprintf(c->log + l, sizeof(c->log) - l, "%s %s%s%.*s;", path[0] ? path : ".",
           names[ev], text ? "=" : "", text ? (int)n : 0, text ? text : "");
  return 0;
}

static void test_json_events(void** state) {
  (void)state;
  struct collect c = {{0}};
  struct otap_error err;
  const char* doc =
      " {\"a\": [1, -2.5e3, \"x\\\"y\\u00e9\\ud83d\\ude00\"], \"b\": {\"c\": true, \"d\": "
      "null}, \"e\": false, \"f/g\": 0} ";
  assert_int_equal(otap__json_parse(doc, strlen(doc), collect_cb, &c, &err), 0);
  assert_string_equal(c.log,
                      ". {;a [;a[] n=1;a[] n=-2.5e3;a[] s=x\"y\xc3\xa9\xf0\x9f\x98\x80;a ];"
                      "b {;b/c t=true;b/d null=null;b };e f=false;? n=0;. };");
  static const struct {
    const char* doc;
    const char* expect;
  } bad[] = {
      {"{\"a\":1,}", "expected member name"},
      {"{\"a\":1} x", "trailing data"},
      {"[1 2]", "expected ',' or ']'"},
      {"\"abc", "unterminated string"},
      {"\"a\\q\"", "bad escape"},
      {"\"\\ud800x\"", "lone high surrogate"},
      {"\"\\u0000\"", "NUL in string"},
      {"01", "trailing data"},
      {"-", "bad number"},
      {"1.", "bad fraction"},
      {"tru", "unexpected character"},
      {"\"a\tb\"", "control character"},
      {"", "expected a value"},
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    c.log[0] = '\0';
    int rc = otap__json_parse(bad[i].doc, strlen(bad[i].doc), collect_cb, &c, &err);
    assert_int_equal(rc, EINVAL);
    if (!strstr(err.message, bad[i].expect) || !strstr(err.message, "at byte"))
      fail_msg("case %zu: %s", i, err.message);
  }
  // Depth and length caps.
  char deep[200];
  memset(deep, '[', 40);
  deep[40] = '\0';
  assert_int_equal(otap__json_parse(deep, 40, collect_cb, &c, &err), EINVAL);
  assert_non_null(strstr(err.message, "nesting too deep"));
  size_t big = OTAP_JSON_MAX_TEXT + 10;
  char* s = malloc(big + 2);
  s[0] = '"';
  memset(s + 1, 'a', big);
  s[big + 1] = '"';
  assert_int_equal(otap__json_parse(s, big + 2, collect_cb, &c, &err), EINVAL);
  assert_non_null(strstr(err.message, "string too long"));
  free(s);
}

static void test_json_gcs_replies(void** state) {
  (void)state;
  struct otap_error err;
  const char* page_doc =
      "{\"kind\":\"storage#objects\",\"nextPageToken\":\"tok=\",\"prefixes\":[\"p/dir/\"],"
      "\"items\":[{\"name\":\"p/b\",\"size\":\"12\",\"updated\":\"2024-01-02T03:04:05.123Z\","
      "\"metadata\":{\"name\":\"nested, ignored\"}},{\"name\":\"p/a\",\"size\":\"0\"}]}";
  struct otap_store_list list = {0};
  struct otap__list_page page;
  memset(&page, 0, sizeof(page));
  page.list = &list;
  page.strip = "p/";
  assert_int_equal(otap__json_parse_gcs_list(page_doc, strlen(page_doc), &page, &err), 0);
  assert_true(page.truncated);
  assert_string_equal(page.next_token, "tok=");
  assert_int_equal(list.count, 3);
  assert_string_equal(list.items[0].key, "dir/");
  assert_true(list.items[0].is_prefix);
  assert_string_equal(list.items[1].key, "b");
  assert_int_equal(list.items[1].size, 12);
  assert_int_equal(list.items[1].mtime, 1704164645);
  assert_string_equal(list.items[2].key, "a");
  assert_int_equal(list.items[2].size, 0);
  otap_free(page.next_token);
  otap_free(page.cur_key);
  otap_store_list_reset(&list);
  // An item outside the prefix, one without a size.
  const char* bad1 = "{\"items\":[{\"name\":\"q/x\",\"size\":\"1\"}]}";
  const char* bad2 = "{\"items\":[{\"name\":\"p/x\"}]}";
  memset(&page, 0, sizeof(page));
  page.list = &list;
  page.strip = "p/";
  assert_int_equal(otap__json_parse_gcs_list(bad1, strlen(bad1), &page, &err), EINVAL);
  assert_non_null(strstr(err.message, "outside the prefix"));
  assert_int_equal(otap__json_parse_gcs_list(bad2, strlen(bad2), &page, &err), EINVAL);
  otap_free(page.next_token);
  otap_free(page.cur_key);
  otap_store_list_reset(&list);

  struct otap__gcs_meta m;
  const char* meta = "{\"name\":\"k\",\"size\":\"987654321012\",\"generation\":\"17\"}";
  assert_int_equal(otap__json_parse_gcs_object(meta, strlen(meta), &m, &err), 0);
  assert_int_equal(m.size, 987654321012LL);
  assert_int_equal(m.generation, 17);
  assert_int_equal(otap__json_parse_gcs_object("{\"name\":\"k\"}", 12, &m, &err), EINVAL);

  char code[64], msg[128];
  const char* e =
      "{\"error\":{\"code\":403,\"message\":\"a\\nb forbidden\",\"errors\":[{\"reason\":"
      "\"forbidden\"},{\"reason\":\"second\"}]}}";
  otap__json_parse_error(e, strlen(e), code, sizeof(code), msg, sizeof(msg));
  assert_string_equal(code, "forbidden");
  assert_string_equal(msg, "a b forbidden");
  otap__json_parse_error("{\"error\":{\"message\":\"cut", 24, code, sizeof(code), msg,
                         sizeof(msg));
  assert_string_equal(code, "");
}

static void test_gcs_api_selection(void** state) {
  (void)state;
  struct otap_store_options o;
  otap_store_options_init(&o);
  o.ignore_env = true;
  o.bearer_token = TOKEN;
  o.endpoint = "http://127.0.0.1:1";
  struct otap_store* s = NULL;
  struct otap_error err;
  assert_int_equal(otap_store_open(&s, "gs://bkt/pre", &o, &err), 0);
  assert_true(s->gcs_json);
  assert_int_equal(s->auth, OTAP_AUTH_BEARER);
  assert_string_equal(s->base_url, "http://127.0.0.1:1");
  assert_int_equal(s->part_size % (256 << 10), 0);
  otap_store_free(s);
  // HMAC keys keep the XML API; gcs_api overrides either way.
  o.access_key_id = "GOOGID";
  o.secret_access_key = "secret";
  assert_int_equal(otap_store_open(&s, "gs://bkt", &o, &err), 0);
  assert_false(s->gcs_json);
  assert_int_equal(s->auth, OTAP_AUTH_SIGV4);
  otap_store_free(s);
  o.gcs_api = "json";
  assert_int_equal(otap_store_open(&s, "gs://bkt", &o, &err), 0);
  assert_true(s->gcs_json);
  otap_store_free(s);
  o.gcs_api = "rest";
  assert_int_equal(otap_store_open(&s, "gs://bkt", &o, &err), EINVAL);
  o.gcs_api = "json";
  o.endpoint = "ftp://x";
  assert_int_equal(otap_store_open(&s, "gs://bkt", &o, &err), EINVAL);
  // Default endpoint; the environment variable is honoured.
  otap_store_options_init(&o);
  setenv("GOOGLE_OAUTH_ACCESS_TOKEN", TOKEN, 1);
  unsetenv("GCS_HMAC_ACCESS_ID");
  unsetenv("GCS_ENDPOINT_URL");
  assert_int_equal(otap_store_open(&s, "gs://bkt", &o, &err), 0);
  assert_true(s->gcs_json);
  assert_string_equal(s->base_url, "https://storage.googleapis.com");
  assert_string_equal(s->bearer, TOKEN);
  otap_store_free(s);
  unsetenv("GOOGLE_OAUTH_ACCESS_TOKEN");
}

// ---------------------------------------------------------------------------------------------
// Against gcs_server.mjs

static struct store_server g_gcs;
static struct fault_proxy g_proxy;

static int gcs_setup(void** state) {
  (void)state;
  if (store_server_start_gcs(&g_gcs, TOKEN) != 0) return -1;
  if (fault_proxy_start(&g_proxy, g_gcs.port) != 0) return -1;
  return 0;
}

static int gcs_teardown(void** state) {
  (void)state;
  fault_proxy_stop(&g_proxy);
  store_server_stop(&g_gcs);
  return 0;
}

static struct otap_store* open_gcs(const char* url, const char* endpoint,
                                   const char* token) {
  struct otap_store_options o;
  otap_store_options_init(&o);
  o.ignore_env = true;
  o.endpoint = endpoint ? endpoint : g_gcs.endpoint;
  o.bearer_token = token;
  o.gcs_api = "json";
  o.retry_base_ms = 5;
  o.retry_max_ms = 20;
  struct otap_store* s = NULL;
  struct otap_error err;
  if (otap_store_open(&s, url, &o, &err) != 0) fail_msg("open %s: %s", url, err.message);
  return s;
}

static size_t on_body(char* p, size_t size, size_t n, void* ud) {
  struct otap_buffer* b = ud;
  if (b && otap_buffer_append(b, p, (int64_t)(size * n)) != 0) return 0;
  return size * n;
}

// Test hook of gcs_server.mjs (POST /_test/...), or GET /_test/stats into `out`.
static void server_hook(const char* what, struct otap_buffer* out) {
  char url[256];
  snprintf(url, sizeof(url), "%s/_test/%s", g_gcs.endpoint, what);
  CURL* e = curl_easy_init();
  curl_easy_setopt(e, CURLOPT_URL, url);
  if (!out) curl_easy_setopt(e, CURLOPT_POSTFIELDS, "");
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, out);
  assert_int_equal(curl_easy_perform(e), CURLE_OK);
  curl_easy_cleanup(e);
  if (out) assert_int_equal(otap_buffer_append(out, "", 1), 0);
}

static void test_gcs_operations(void** state) {
  (void)state;
  struct otap_store* s = open_gcs("gs://otap-gcs/ops", NULL, TOKEN);
  struct otap_error err;
  size_t n = 100000;
  uint8_t* data = make_data(n);
  const char* keys[] = {"b/x.bin", "a.bin", "b/c/deep.bin", "sp ace+%/é.bin"};
  for (size_t i = 0; i < 4; i++) {
    if (otap_store_put(s, keys[i], data, n - i, &err)) fail_msg("%s", err.message);
  }
  assert_int_equal(otap_store_put(s, "empty", NULL, 0, &err), 0);
  struct otap_store_object obj;
  assert_int_equal(otap_store_head(s, "sp ace+%/é.bin", &obj, &err), 0);
  assert_int_equal(obj.size, (int64_t)n - 3);
  assert_true(obj.mtime > 1600000000);
  otap_store_object_reset(&obj);
  assert_int_equal(otap_store_head(s, "empty", &obj, &err), 0);
  assert_int_equal(obj.size, 0);
  otap_store_object_reset(&obj);
  // Whole gets (HEAD + ranged GETs) and the plain media GET.
  struct otap_buffer buf;
  otap_buffer_init(&buf);
  assert_int_equal(otap_store_get(s, "b/c/deep.bin", &buf, &err), 0);
  assert_int_equal(buf.size, (int64_t)n - 2);
  assert_memory_equal(buf.data, data, n - 2);
  buf.size = 0;
  assert_int_equal(otap_store_get(s, "empty", &buf, &err), 0);
  assert_int_equal(buf.size, 0);
  assert_int_equal(s->ops->get(s, "ops/a.bin", &buf, &err), 0);
  assert_int_equal(buf.size, (int64_t)n - 1);
  assert_memory_equal(buf.data, data, n - 1);
  otap_buffer_reset(&buf);
  // Listing: delimited and recursive, keys relative to the prefix, sorted.
  struct otap_store_list l;
  assert_int_equal(otap_store_list(s, "", false, &l, &err), 0);
  assert_int_equal(l.count, 4);
  assert_string_equal(l.items[0].key, "a.bin");
  assert_int_equal(l.items[0].size, (int64_t)n - 1);
  assert_string_equal(l.items[1].key, "b/");
  assert_true(l.items[1].is_prefix);
  assert_string_equal(l.items[2].key, "empty");
  assert_string_equal(l.items[3].key, "sp ace+%/");
  otap_store_list_reset(&l);
  assert_int_equal(otap_store_list(s, "b/", true, &l, &err), 0);
  assert_int_equal(l.count, 2);
  assert_string_equal(l.items[0].key, "b/c/deep.bin");
  assert_string_equal(l.items[1].key, "b/x.bin");
  otap_store_list_reset(&l);
  // Missing objects: ENOENT with the service's reason and message.
  assert_int_equal(otap_store_head(s, "nope", &obj, &err), ENOENT);
  assert_non_null(strstr(err.message, "head gs://otap-gcs/ops/nope: HTTP 404 notFound"));
  assert_int_equal(otap_store_get(s, "nope", &buf, &err), ENOENT);
  assert_non_null(strstr(err.message, "No such object"));
  assert_non_null(strstr(err.message, "request id gcs-test-"));
  // Delete; deleting a missing key succeeds.
  assert_int_equal(otap_store_delete(s, "a.bin", &err), 0);
  assert_int_equal(otap_store_delete(s, "a.bin", &err), 0);
  assert_int_equal(otap_store_head(s, "a.bin", &obj, &err), ENOENT);
  assert_null(strstr(err.message, TOKEN));
  otap_store_free(s);
  free(data);
}

static void test_gcs_pagination(void** state) {
  (void)state;
  struct otap_store* s = open_gcs("gs://otap-gcs/many", NULL, TOKEN);
  struct otap_error err;
  s->max_parallel = 8;
  const int count = 1037;
  for (int i = 0; i < count; i++) {
    char k[64];
    snprintf(k, sizeof(k), "%s/o%05d", i % 3 ? "d" : "e", i);
    if (otap_store_put(s, k, (const uint8_t*)k, strlen(k), &err)) fail_msg("%s", err.message);
  }
  int64_t before = s->n_requests;
  struct otap_store_list l;
  assert_int_equal(otap_store_list(s, "", true, &l, &err), 0);
  assert_int_equal(l.count, (size_t)count);
  assert_int_equal(s->n_requests - before, 2);  // 1000 per page (the server's maximum)
  for (size_t i = 1; i < l.count; i++) assert_true(strcmp(l.items[i - 1].key, l.items[i].key) < 0);
  assert_int_equal(l.items[0].size, 8);
  otap_store_list_reset(&l);
  // Small pages, delimited: prefixes are not repeated across pages.
  s->list_page_size = 100;
  before = s->n_requests;
  assert_int_equal(otap_store_list(s, "d/", false, &l, &err), 0);
  assert_int_equal(l.count, 691);
  assert_int_equal(s->n_requests - before, 7);
  otap_store_list_reset(&l);
  // A service whose page token does not move: an error, not an endless loop.
  server_hook("stucktoken?count=1", NULL);
  assert_int_equal(otap_store_list(s, "d/", false, &l, &err), EIO);
  assert_non_null(strstr(err.message, "repeats the previous page token"));
  assert_int_equal(l.count, 0);
  s->list_page_size = 1;
  assert_int_equal(otap_store_list(s, "", false, &l, &err), 0);
  assert_int_equal(l.count, 2);
  assert_string_equal(l.items[0].key, "d/");
  assert_string_equal(l.items[1].key, "e/");
  otap_store_list_reset(&l);
  otap_store_free(s);
}

static void test_gcs_ranges_and_generation(void** state) {
  (void)state;
  struct otap_store* s = open_gcs("gs://otap-gcs/ranges", NULL, TOKEN);
  struct otap_error err;
  size_t n = 3 << 20;
  uint8_t* data = make_data(n);
  assert_int_equal(otap_store_put(s, "obj", data, n, &err), 0);
  uint8_t* got = malloc(n);
  assert_int_equal(otap_store_get_range(s, "obj", 12345, 70000, got, &err), 0);
  assert_memory_equal(got, data + 12345, 70000);
  // Past the end: the server's 416 is EINVAL.
  assert_int_equal(otap_store_get_range(s, "obj", n, 10, got, &err), EINVAL);
  assert_non_null(strstr(err.message, "HTTP 416"));
  // Many ranges at once (coalesced and parallel).
  struct otap_store_range r[5];
  for (int i = 0; i < 5; i++) {
    r[i] = (struct otap_store_range){(uint64_t)i * 600000 + 7, 1000 + (size_t)i, got + i * 4096};
  }
  assert_int_equal(otap_store_get_ranges(s, "obj", r, 5, &err), 0);
  for (int i = 0; i < 5; i++) assert_memory_equal(got + i * 4096, data + i * 600000 + 7, 1000 + i);
  // Sources pin the generation: a same-size replacement mid-read fails with "changed".
  struct otap_source src;
  assert_int_equal(otap_store_open_source(s, "obj", &src, &err), 0);
  assert_int_equal(src.read_at(&src, 100, got, 200000, &err), 0);
  assert_memory_equal(got, data + 100, 200000);
  uint8_t* other = make_data(n);
  other[0] ^= 1;
  assert_int_equal(otap_store_put(s, "obj", other, n, &err), 0);
  int rc = src.read_at(&src, 1 << 20, got, 200000, &err);
  assert_int_equal(rc, EIO);
  if (!strstr(err.message, "changed") || !strstr(err.message, "HTTP 412"))
    fail_msg("unexpected: %s", err.message);
  otap_source_release(&src);
  // A sized source (no HEAD) is not pinned by generation, only by size.
  assert_int_equal(otap_store_open_source_sized(s, "obj", n, &src, &err), 0);
  assert_int_equal(src.read_at(&src, 0, got, 100, &err), 0);
  assert_memory_equal(got, other, 100);
  otap_source_release(&src);
  assert_int_equal(otap_store_open_source_sized(s, "obj", n + 5, &src, &err), 0);
  assert_int_not_equal(src.read_at(&src, 0, got, 200000, &err), 0);
  otap_source_release(&src);
  otap_store_free(s);
  free(other);
  free(got);
  free(data);
}

static bool stats_has(const char* needle) {
  struct otap_buffer b;
  otap_buffer_init(&b);
  server_hook("stats", &b);
  bool found = strstr((const char*)b.data, needle) != NULL;
  otap_buffer_reset(&b);
  return found;
}

static void test_gcs_resumable(void** state) {
  (void)state;
  struct otap_store* s = open_gcs("gs://otap-gcs/big", NULL, TOKEN);
  s->multipart_threshold = 1 << 20;
  s->part_size = 256 << 10;
  struct otap_error err;
  size_t n = (5 << 20) / 2 + 333;  // 10 full chunks and a short final one
  uint8_t* data = make_data(n);
  int64_t before = s->n_requests;
  assert_int_equal(otap_store_put(s, "up.bin", data, n, &err), 0);
  assert_int_equal(s->n_requests - before, 1 + 11);  // session start + 11 chunks
  struct otap_buffer buf;
  otap_buffer_init(&buf);
  assert_int_equal(otap_store_get(s, "up.bin", &buf, &err), 0);
  assert_int_equal(buf.size, (int64_t)n);
  assert_memory_equal(buf.data, data, n);
  // A session that keeps only part of a chunk (308 with a shorter Range): the rest is
  // sent again.
  server_hook("short308?count=3", NULL);
  before = s->n_requests;
  assert_int_equal(otap_store_put(s, "up2.bin", data + 1, n - 1, &err), 0);
  assert_int_equal(s->n_requests - before, 1 + 11 + 3);
  buf.size = 0;
  assert_int_equal(otap_store_get(s, "up2.bin", &buf, &err), 0);
  assert_int_equal(buf.size, (int64_t)n - 1);
  assert_memory_equal(buf.data, data + 1, n - 1);
  otap_buffer_reset(&buf);
  // Exactly a multiple of the chunk size: the final chunk is a full one with the total.
  assert_int_equal(otap_store_put(s, "exact.bin", data, 6 << 18, &err), 0);
  struct otap_store_object obj;
  assert_int_equal(otap_store_head(s, "exact.bin", &obj, &err), 0);
  assert_int_equal(obj.size, 6 << 18);
  otap_store_object_reset(&obj);
  // Failure mid-upload: the session is cancelled (DELETE) and nothing becomes visible.
  assert_false(stats_has("\"DELETE /upload/storage/v1\""));
  struct otap_sink sink;
  assert_int_equal(otap_store_open_sink(s, "aborted.bin", &sink, &err), 0);
  assert_int_equal(sink.write(&sink, data, 2 << 20, &err), 0);  // session open, chunks sent
  server_hook("fault?status=403&count=1", NULL);
  int rc = sink.write(&sink, data, 2 << 20, &err);
  assert_int_equal(rc, EACCES);
  assert_non_null(strstr(err.message, "HTTP 403 injected: Injected failure 403"));
  assert_non_null(strstr(err.message, "resumable"));
  sink.release(&sink);
  assert_true(stats_has("\"DELETE /upload/storage/v1\":1"));
  assert_int_equal(otap_store_head(s, "aborted.bin", &obj, &err), ENOENT);
  // A session URI on another host is refused: the token is only ever sent to the endpoint.
  server_hook("foreignlocation?count=1", NULL);
  assert_int_equal(otap_store_put(s, "foreign.bin", data, n, &err), EIO);
  assert_non_null(strstr(err.message, "no session URI on the endpoint's host"));
  assert_null(strstr(err.message, "example.invalid"));
  assert_int_equal(otap_store_head(s, "foreign.bin", &obj, &err), ENOENT);
  // Released without finish (no failure): cancelled too.
  assert_int_equal(otap_store_open_sink(s, "dropped.bin", &sink, &err), 0);
  assert_int_equal(sink.write(&sink, data, 2 << 20, &err), 0);
  sink.release(&sink);
  assert_true(stats_has("\"DELETE /upload/storage/v1\":2"));
  assert_int_equal(otap_store_head(s, "dropped.bin", &obj, &err), ENOENT);
  otap_store_free(s);
  free(data);
}

static void test_gcs_errors_and_redaction(void** state) {
  (void)state;
  struct otap_error err;
  // Wrong and missing tokens: 401 with the JSON error's reason and message.
  struct otap_store* s = open_gcs("gs://otap-gcs/ops", NULL, "ya29.WRONG-" TOKEN);
  struct otap_store_list l;
  assert_int_equal(otap_store_list(s, "", true, &l, &err), EACCES);
  assert_non_null(strstr(err.message, "list gs://otap-gcs/ops/: HTTP 401 authError: "
                                      "Invalid Credentials, request id gcs-test-"));
  assert_null(strstr(err.message, "ya29"));
  assert_int_equal(otap_store_put(s, "k", (const uint8_t*)"x", 1, &err), EACCES);
  assert_null(strstr(err.message, "ya29"));
  otap_store_free(s);
  s = open_gcs("gs://otap-gcs/ops", NULL, NULL);
  assert_int_equal(s->auth, OTAP_AUTH_NONE);
  assert_int_equal(otap_store_delete(s, "k", &err), EACCES);
  otap_store_free(s);
  // Throttling and server errors are retried; persistent ones report the tries.
  s = open_gcs("gs://otap-gcs/err", NULL, TOKEN);
  s->max_retries = 3;
  assert_int_equal(otap_store_put(s, "k", (const uint8_t*)"abc", 3, &err), 0);
  server_hook("fault?status=429&count=2", NULL);
  uint8_t b[3];
  assert_int_equal(otap_store_get_range(s, "k", 0, 3, b, &err), 0);
  assert_memory_equal(b, "abc", 3);
  server_hook("fault?status=503&count=100", NULL);
  assert_int_equal(otap_store_get_range(s, "k", 0, 3, b, &err), EIO);
  assert_non_null(strstr(err.message, "HTTP 503 backendError: Injected failure 503"));
  assert_non_null(strstr(err.message, "after 4 tries"));
  assert_null(strstr(err.message, TOKEN));
  server_hook("fault?status=503&count=0", NULL);
  // A non-JSON error body still gives the status.
  server_hook("fault?status=400&count=1", NULL);
  assert_int_equal(otap_store_delete(s, "k", &err), EINVAL);
  assert_non_null(strstr(err.message, "HTTP 400"));
  otap_store_free(s);
}

// Transport faults through the proxy: transient ones are retried, persistent ones fail.
static void test_gcs_faults(void** state) {
  (void)state;
  struct otap_store* s = open_gcs("gs://otap-gcs/faults", g_proxy.endpoint, TOKEN);
  s->max_retries = 3;
  struct otap_error err;
  size_t n = 300000;
  uint8_t* data = make_data(n);
  assert_int_equal(otap_store_put(s, "obj", data, n, &err), 0);
  uint8_t* got = malloc(n);
  static const enum proxy_fault faults[] = {PROXY_STATUS_500, PROXY_STATUS_503,
                                            PROXY_RESET_MIDBODY, PROXY_TRUNCATE,
                                            PROXY_SHORT_LIE};
  for (size_t i = 0; i < sizeof(faults) / sizeof(faults[0]); i++) {
    fault_proxy_set(&g_proxy, faults[i], 2);
    memset(got, 0, n);
    int rc = otap_store_get_range(s, "obj", 500, n - 1000, got, &err);
    if (rc) fail_msg("fault %zu transient: %s", i, err.message);
    assert_memory_equal(got, data + 500, n - 1000);
    fault_proxy_set(&g_proxy, faults[i], 1000);
    struct otap_buffer buf;
    otap_buffer_init(&buf);
    rc = otap_store_get(s, "obj", &buf, &err);
    // Never a short or corrupt body as success, whatever the fault.
    if (rc == 0) fail_msg("fault %zu: whole-object get succeeded under a persistent fault", i);
    assert_int_equal(buf.size, 0);
    if (!strstr(err.message, "gs://otap-gcs/faults/obj") || strstr(err.message, TOKEN))
      fail_msg("fault %zu: %s", i, err.message);
    otap_buffer_reset(&buf);
    fault_proxy_set(&g_proxy, PROXY_PASS, 0);
  }
  otap_store_free(s);
  free(got);
  free(data);
}

static void test_gcs_alloc_failures(void** state) {
  (void)state;
  uint8_t* data = make_data(5000);
  otap_test_install_allocator();
  int completed = 0;
  for (long k = 0; k < 2000 && !completed; k += (k < 150 ? 1 : 5)) {
    long live = otap_test_live_allocations();
    otap_test_fail_alloc_after(k);
    struct otap_store_options o;
    otap_store_options_init(&o);
    o.ignore_env = true;
    o.endpoint = g_gcs.endpoint;
    o.bearer_token = TOKEN;
    o.multipart_threshold = 1000;
    o.part_size = 1000;
    struct otap_store* s = NULL;
    struct otap_error err;
    int rc = otap_store_open(&s, "gs://otap-gcs/alloc", &o, &err);
    if (rc == 0) rc = otap_store_put(s, "x/a.bin", data, 500, &err);
    if (rc == 0) rc = otap_store_put(s, "x/b.bin", data, 5000, &err);  // resumable
    struct otap_store_list l = {0};
    if (rc == 0) rc = otap_store_list(s, "", false, &l, &err);
    otap_store_list_reset(&l);
    struct otap_buffer buf;
    otap_buffer_init(&buf);
    if (rc == 0) rc = otap_store_get(s, "x/b.bin", &buf, &err);
    otap_buffer_reset(&buf);
    struct otap_source src = {0};
    if (rc == 0) rc = otap_store_open_source(s, "x/a.bin", &src, &err);
    uint8_t b[16];
    if (rc == 0) rc = src.read_at(&src, 10, b, 16, &err);
    otap_source_release(&src);
    if (rc == 0) rc = otap_store_delete(s, "x/a.bin", &err);
    otap_store_free(s);
    otap_test_fail_alloc_after(-1);
    assert_int_equal(otap_test_live_allocations(), live);
    if (rc == 0) {
      completed = 1;
    } else if (rc != ENOMEM) {
      fail_msg("k=%ld: rc %d: %s", k, rc, err.message);
    }
  }
  otap_set_allocator(NULL);
  assert_true(completed);
  free(data);
}

static int run_cli(const char* args, char* out, size_t cap) {
  char cmd[4096];
  snprintf(cmd, sizeof(cmd), "%s/otap %s 2>&1", OTAP_BINARY_DIR, args);
  FILE* f = popen(cmd, "r");
  assert_non_null(f);
  size_t n = fread(out, 1, cap - 1, f);
  out[n] = '\0';
  int st = pclose(f);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_gcs_cli(void** state) {
  (void)state;
  char dir[] = "/tmp/otap-gcs-cli-XXXXXX";
  assert_non_null(mkdtemp(dir));
  char path[256], back[256], args[2048], out[8192];
  snprintf(path, sizeof(path), "%s/in.bin", dir);
  snprintf(back, sizeof(back), "%s/back.bin", dir);
  size_t n = (17 << 20) + 5;  // above the 16 MiB threshold: a resumable upload
  uint8_t* data = make_data(n);
  FILE* f = fopen(path, "wb");
  assert_int_equal(fwrite(data, 1, n, f), n);
  fclose(f);
  setenv("GCS_ENDPOINT_URL", g_gcs.endpoint, 1);
  setenv("GOOGLE_OAUTH_ACCESS_TOKEN", TOKEN, 1);
  unsetenv("GCS_HMAC_ACCESS_ID");
  unsetenv("GCS_HMAC_SECRET");
  setenv("OTAP_NO_PROGRESS", "1", 1);
  snprintf(args, sizeof(args), "cp '%s' gs://otap-gcs/cli/dir/in.bin", path);
  if (run_cli(args, out, sizeof(out)) != 0) fail_msg("%s", out);
  assert_int_equal(run_cli("ls gs://otap-gcs/cli --json", out, sizeof(out)), 0);
  assert_non_null(strstr(out, "\"key\":\"dir/\",\"size\":-1"));
  assert_int_equal(run_cli("ls gs://otap-gcs/cli --recursive --json", out, sizeof(out)), 0);
  char want[128];
  snprintf(want, sizeof(want), "\"key\":\"dir/in.bin\",\"size\":%zu", n);
  assert_non_null(strstr(out, want));
  snprintf(args, sizeof(args), "cp gs://otap-gcs/cli/dir/in.bin '%s'", back);
  assert_int_equal(run_cli(args, out, sizeof(out)), 0);
  snprintf(args, sizeof(args), "cmp '%s' '%s'", path, back);
  assert_int_equal(system(args), 0);
  setenv("GOOGLE_OAUTH_ACCESS_TOKEN", "ya29.CLI-WRONG-" TOKEN, 1);
  assert_int_equal(run_cli("ls gs://otap-gcs/cli", out, sizeof(out)), 1);
  assert_non_null(strstr(out, "401"));
  assert_null(strstr(out, "ya29"));
  unsetenv("GCS_ENDPOINT_URL");
  unsetenv("GOOGLE_OAUTH_ACCESS_TOKEN");
  unlink(path);
  unlink(back);
  rmdir(dir);
  free(data);
}

int main(void) {
  const struct CMUnitTest offline[] = {
      cmocka_unit_test(test_json_events),
      cmocka_unit_test(test_json_gcs_replies),
      cmocka_unit_test(test_gcs_api_selection),
  };
  const struct CMUnitTest gcs[] = {
      cmocka_unit_test(test_gcs_operations),
      cmocka_unit_test(test_gcs_pagination),
      cmocka_unit_test(test_gcs_ranges_and_generation),
      cmocka_unit_test(test_gcs_resumable),
      cmocka_unit_test(test_gcs_errors_and_redaction),
      cmocka_unit_test(test_gcs_faults),
      cmocka_unit_test(test_gcs_alloc_failures),
      cmocka_unit_test(test_gcs_cli),
  };
  int failed = cmocka_run_group_tests_name("gcs json offline", offline, NULL, NULL);
  failed += cmocka_run_group_tests_name("gcs json server", gcs, gcs_setup, gcs_teardown);
  return failed ? 1 : 0;
}
