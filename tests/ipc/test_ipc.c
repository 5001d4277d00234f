// Tests of the ipc module: flatbuffers layer, schema codec, stream/file round trips with every
// codec, dictionaries (delta, replacement), push decoder with arbitrary splits, legacy framing,
// malformed input (truncation, flipped bytes), file random access, Arrow-JS-style files
// without a leading Schema message, version/endianness rejection, allocation failure.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "ipc/flatbuf.h"
#include "ipc/ipc_internal.h"
#include "otap/arrow.h"
#include "otap/ipc.h"
#include "support/arrow_compare.h"
#include "support/integration_json.h"
#include "testutil.h"

#define OK(expr)                                                          \
  do {                                                                    \
    struct otap_error e_;                                                 \
    e_.message[0] = 0;                                                    \
    int rc_ = (expr);                                                     \
    if (rc_ != 0) fail_msg("%s failed: %d %s", #expr, rc_, e_.message);   \
  } while (0)

static struct otap_error g_err;
#define E (&g_err)
#define CHECK(expr)                                                                  \
  do {                                                                               \
    g_err.message[0] = 0;                                                            \
    int rc_ = (expr);                                                                \
    if (rc_ != 0) fail_msg("%s failed: %s: %s", #expr, otap_errno_name(rc_), g_err.message); \
  } while (0)

// ---------------------------------------------------------------------------------------------
// Helpers

struct batches {
  struct ArrowSchema schema;
  int64_t n;
  struct ArrowArray arrays[64];
};

static void batches_reset(struct batches* b) {
  for (int64_t i = 0; i < b->n; i++) otap_array_release(&b->arrays[i]);
  otap_schema_release(&b->schema);
  memset(b, 0, sizeof(*b));
}

static int read_stream(struct ArrowArrayStream* s, struct batches* out) {
  memset(out, 0, sizeof(*out));
  int rc = s->get_schema(s, &out->schema);
  while (!rc) {
    struct ArrowArray a;
    memset(&a, 0, sizeof(a));
    rc = s->get_next(s, &a);
    if (rc || !a.release) break;
    if (out->n == 64) {
      a.release(&a);
      rc = E2BIG;
      break;
    }
    otap_array_move(&a, &out->arrays[out->n++]);
  }
  if (rc) snprintf(g_err.message, sizeof(g_err.message), "%s", s->get_last_error(s));
  s->release(s);
  return rc;
}

// Files apply every dictionary block (deltas included) before the first batch, so batches
// read from a file may carry a longer dictionary: compare decoded values then.
static bool g_exact_dictionaries = true;

static void assert_same(const struct batches* exp, const struct batches* got) {
  struct otap_test_diff diff;
  struct otap_test_compare_options o;
  otap_test_compare_options_init(&o);
  o.exact_dictionaries = g_exact_dictionaries;
  if (!otap_test_schema_equal(&exp->schema, &got->schema, &o, &diff))
    fail_msg("schema differs: %s", diff.message);
  assert_int_equal(exp->n, got->n);
  for (int64_t i = 0; i < exp->n; i++) {
    if (!otap_test_array_equal(&exp->schema, &exp->arrays[i], &got->schema, &got->arrays[i], &o,
                               &diff))
      fail_msg("batch %lld differs: %s", (long long)i, diff.message);
  }
}

static int write_all(const struct batches* b, enum otap_ipc_format fmt,
                     const struct otap_ipc_write_options* opts, struct otap_buffer* out) {
  struct otap_sink sink;
  int rc = otap_sink_init_buffer(&sink, out, E);
  if (rc) return rc;
  struct otap_ipc_writer* w = NULL;
  rc = otap_ipc_writer_new(&w, &sink, fmt, &b->schema, opts, E);
  for (int64_t i = 0; !rc && i < b->n; i++) rc = otap_ipc_writer_write(w, &b->arrays[i], E);
  if (!rc) rc = otap_ipc_writer_finish(w, E);
  otap_ipc_writer_free(w);
  otap_sink_release(&sink);
  return rc;
}

static int read_memory(const struct otap_buffer* buf, struct batches* out) {
  struct ArrowArrayStream s;
  int rc = otap_ipc_reader_open_memory(&s, buf->data, (size_t)buf->size, NULL, NULL, E);
  if (rc) return rc;
  return read_stream(&s, out);
}

// Pushes `data` in pieces given by `split` (piece sizes cycling) through a decoder.
static int read_pushed(const uint8_t* data, size_t n, const size_t* split, int n_split,
                       struct batches* out) {
  memset(out, 0, sizeof(*out));
  struct otap_ipc_decoder* d;
  int rc = otap_ipc_decoder_new(&d, NULL, E);
  if (rc) return rc;
  size_t pos = 0;
  int k = 0;
  bool ended = false;
  while (!rc && !ended) {
    if (pos < n) {
      size_t piece = split[k++ % n_split];
      if (piece > n - pos) piece = n - pos;
      rc = otap_ipc_decoder_push(d, data + pos, piece, E);
      pos += piece;
    }
    for (;;) {
      if (rc) break;
      enum otap_ipc_event ev;
      struct ArrowArray a;
      memset(&a, 0, sizeof(a));
      rc = otap_ipc_decoder_pull(d, &ev, &a, E);
      if (rc || ev == OTAP_IPC_EVENT_NEED_MORE) break;
      if (ev == OTAP_IPC_EVENT_END) {
        ended = true;
        break;
      }
      if (ev == OTAP_IPC_EVENT_BATCH) otap_array_move(&a, &out->arrays[out->n++]);
    }
    if (!rc && pos >= n && !ended) {
      rc = otap_ipc_decoder_finish(d, E);
      break;
    }
  }
  if (!rc) rc = otap_ipc_decoder_get_schema(d, &out->schema, E);
  otap_ipc_decoder_free(d);
  return rc;
}

// An OTAP-like batch: u16 id (with nulls), timestamp[ns], 16-byte trace id, dictionary<u8,
// utf8> severity text, utf8 body, list<int32>.
static void make_schema(struct ArrowSchema* s) {
  assert_int_equal(otap_schema_init(s, "+s"), 0);
  assert_int_equal(otap_schema_allocate_children(s, 6), 0);
  const char* fmts[6] = {"S", "tsn:UTC", "w:16", "C", "u", "+l"};
  const char* names[6] = {"id", "time_unix_nano", "trace_id", "severity_text", "body", "list"};
  for (int i = 0; i < 6; i++) {
    assert_int_equal(otap_schema_init(s->children[i], fmts[i]), 0);
    assert_int_equal(otap_schema_set_name(s->children[i], names[i]), 0);
  }
  assert_int_equal(otap_schema_allocate_dictionary(s->children[3]), 0);
  assert_int_equal(otap_schema_init(s->children[3]->dictionary, "u"), 0);
  assert_int_equal(otap_schema_allocate_children(s->children[5], 1), 0);
  assert_int_equal(otap_schema_init(s->children[5]->children[0], "i"), 0);
  assert_int_equal(otap_schema_set_name(s->children[5]->children[0], "item"), 0);
  struct otap_buffer md;
  otap_buffer_init(&md);
  struct otap_metadata_entry e[2] = {{"otap.schema", 11, "logs", 4}, {"k2", 2, "v2", 2}};
  assert_int_equal(otap_metadata_encode(&md, e, 2), 0);
  assert_int_equal(otap_schema_set_metadata(s, (const char*)md.data), 0);
  assert_int_equal(otap_schema_set_metadata(s->children[4], (const char*)md.data), 0);
  otap_buffer_reset(&md);
}

// rows rows starting at `seed`; dictionary words given.
static void make_batch(const struct ArrowSchema* s, int64_t rows, int seed, const char* const* words,
                       int n_words, struct ArrowArray* out) {
  CHECK(otap_array_init_from_schema(out, s, E));
  struct ArrowArray** c = out->children;
  for (int i = 0; i < n_words; i++)
    CHECK(otap_array_append_bytes(c[3]->dictionary, words[i], (int64_t)strlen(words[i])));
  for (int64_t r = 0; r < rows; r++) {
    int64_t v = seed + r;
    if (v % 7 == 3)
      CHECK(otap_array_append_null(c[0], 1));
    else
      CHECK(otap_array_append_uint(c[0], (uint64_t)(v % 65536)));
    CHECK(otap_array_append_int(c[1], 1700000000000000000LL + v * 1000));
    uint8_t tid[16];
    for (int k = 0; k < 16; k++) tid[k] = (uint8_t)(v * 31 + k);
    CHECK(otap_array_append_bytes(c[2], tid, 16));
    if (v % 5 == 0)
      CHECK(otap_array_append_null(c[3], 1));
    else
      CHECK(otap_array_append_int(c[3], v % n_words));
    char body[64];
    int bl = snprintf(body, sizeof(body), "log line %lld %s", (long long)v, v % 3 ? "ok" : "");
    CHECK(otap_array_append_bytes(c[4], body, bl));
    for (int k = 0; k < (int)(v % 4); k++) CHECK(otap_array_append_int(c[5]->children[0], v + k));
    CHECK(otap_array_finish_element(c[5]));
    CHECK(otap_array_finish_element(out));
  }
  CHECK(otap_array_finish(out, OTAP_VALIDATE_FULL, s, E));
}

static const char* kWords[] = {"INFO", "WARN", "ERROR", "DEBUG"};

static void make_batches(struct batches* b, int n, int64_t rows) {
  memset(b, 0, sizeof(*b));
  make_schema(&b->schema);
  for (int i = 0; i < n; i++) make_batch(&b->schema, rows, i * 1000, kWords, 4, &b->arrays[i]);
  b->n = n;
}

// ---------------------------------------------------------------------------------------------
// Flatbuffers

static void build_sample(struct otap__fbb* b, const uint8_t** data, uint32_t* size) {
  otap__fbb_init(b);
  uint32_t s = otap__fbb_string(b, "hello", 5);
  int64_t pairs[4] = {1, 2, 3, 4};
  uint32_t v = otap__fbb_vector(b, pairs, 2, 16, 8);
  otap__fbb_start(b);
  otap__fbb_add_i32(b, 0, 42);
  uint32_t child = otap__fbb_end(b);
  uint32_t kids[2] = {child, child};
  uint32_t tv = otap__fbb_offset_vector(b, kids, 2);
  otap__fbb_start(b);
  otap__fbb_add_i16(b, 0, -5);
  otap__fbb_add_offset(b, 1, s);
  otap__fbb_add_offset(b, 2, v);
  otap__fbb_add_offset(b, 3, child);
  otap__fbb_add_offset(b, 4, tv);
  otap__fbb_add_i64(b, 5, -123456789012345LL);
  otap__fbb_add_u8(b, 7, 1);
  uint32_t root = otap__fbb_end(b);
  assert_int_equal(otap__fbb_finish(b, root, data, size), 0);
  assert_int_equal(*size % 8, 0);
}

// Reads every field of the sample; returns the first error (never crashes).
static int read_sample(const uint8_t* data, uint32_t size, bool check) {
  struct otap__fb fb = {data, size, 0, "test"};
  struct otap__fb_table t, c;
  struct otap__fb_vec v;
  int16_t i16;
  int32_t i32;
  int64_t i64;
  bool flag;
  const char* s;
  uint32_t n;
  OTAP_RETURN_NOT_OK(otap__fb_root(&fb, &t, E));
  OTAP_RETURN_NOT_OK(otap__fb_i16(&t, 0, 0, &i16, E));
  OTAP_RETURN_NOT_OK(otap__fb_string(&t, 1, &s, &n, E));
  if (check) {
    assert_int_equal(i16, -5);
    assert_int_equal(n, 5);
    assert_memory_equal(s, "hello", 5);
  }
  OTAP_RETURN_NOT_OK(otap__fb_vector(&t, 2, 16, &v, E));
  if (check) {
    assert_int_equal(v.len, 2);
    assert_int_equal((int64_t)otap_load_u64le(otap__fb_vec_elem(&v, 1, 16) + 8), 4);
  }
  OTAP_RETURN_NOT_OK(otap__fb_table(&t, 3, &c, E));
  OTAP_RETURN_NOT_OK(otap__fb_i32(&c, 0, 0, &i32, E));
  if (check) assert_int_equal(i32, 42);
  OTAP_RETURN_NOT_OK(otap__fb_vector(&t, 4, 4, &v, E));
  for (uint32_t i = 0; i < v.len; i++) {
    OTAP_RETURN_NOT_OK(otap__fb_vec_table(&v, i, &c, E));
    OTAP_RETURN_NOT_OK(otap__fb_i32(&c, 0, 0, &i32, E));
    if (check) assert_int_equal(i32, 42);
  }
  OTAP_RETURN_NOT_OK(otap__fb_i64(&t, 5, 7, &i64, E));
  if (check) assert_true(i64 == -123456789012345LL);
  OTAP_RETURN_NOT_OK(otap__fb_i32(&t, 6, 99, &i32, E));  // absent: default
  if (check) assert_int_equal(i32, 99);
  OTAP_RETURN_NOT_OK(otap__fb_bool(&t, 7, false, &flag, E));
  if (check) assert_true(flag);
  OTAP_RETURN_NOT_OK(otap__fb_i32(&t, 30, 5, &i32, E));  // beyond the vtable: default
  if (check) assert_int_equal(i32, 5);
  return 0;
}

static void test_flatbuf_roundtrip(void** state) {
  (void)state;
  struct otap__fbb b;
  const uint8_t* data;
  uint32_t size;
  build_sample(&b, &data, &size);
  assert_int_equal(read_sample(data, size, true), 0);
  // Every truncation and every flipped byte: EINVAL or success, never an out-of-bounds read
  // (buffers are exact-size heap copies so ASan sees any overrun).
  for (uint32_t cut = 0; cut < size; cut++) {
    uint8_t* copy = malloc(cut ? cut : 1);
    memcpy(copy, data, cut);
    int rc = read_sample(copy, cut, false);
    assert_true(rc == 0 || rc == EINVAL);
    if (cut < 8) assert_int_equal(rc, EINVAL);
    free(copy);
  }
  for (uint32_t i = 0; i < size; i++) {
    for (int bit = 0; bit < 8; bit += 3) {
      uint8_t* copy = malloc(size);
      memcpy(copy, data, size);
      copy[i] ^= (uint8_t)(0x81 << (bit % 2)) | (uint8_t)(1 << bit);
      int rc = read_sample(copy, size, false);
      assert_true(rc == 0 || rc == EINVAL);
      if (rc) assert_non_null(strstr(g_err.message, "byte offset"));
      free(copy);
    }
  }
  otap__fbb_reset(&b);
}

// ---------------------------------------------------------------------------------------------
// Schema codec

static void add_child(struct ArrowSchema* parent, int64_t i, const char* fmt, const char* name) {
  assert_int_equal(otap_schema_init(parent->children[i], fmt), 0);
  assert_int_equal(otap_schema_set_name(parent->children[i], name), 0);
}

static void test_schema_all_types(void** state) {
  (void)state;
  static const char* flat[] = {"n", "b", "c", "C", "s", "S", "i", "I", "l", "L", "e", "f", "g",
                               "d:10,2", "d:40,3,256", "d:5,1,32", "d:12,2,64", "u", "U", "z",
                               "Z", "w:16", "tdD", "tdm", "tts", "ttm", "ttu", "ttn", "tsn:UTC",
                               "tsu:", "tss:Europe/Paris", "tDs", "tDn", "tiM", "tiD", "tin",
                               "vu", "vz"};
  int nf = (int)(sizeof(flat) / sizeof(flat[0]));
  int extra = 10;
  struct ArrowSchema s;
  assert_int_equal(otap_schema_init(&s, "+s"), 0);
  assert_int_equal(otap_schema_allocate_children(&s, nf + extra), 0);
  char name[32];
  for (int i = 0; i < nf; i++) {
    snprintf(name, sizeof(name), "f%d", i);
    add_child(&s, i, flat[i], name);
    if (i % 3 == 0) s.children[i]->flags &= ~(int64_t)ARROW_FLAG_NULLABLE;
  }
  struct ArrowSchema* c;
  const char* nested[] = {"+l", "+L", "+w:3", "+vl", "+vL"};
  for (int k = 0; k < 5; k++) {
    c = s.children[nf + k];
    add_child(&s, nf + k, nested[k], nested[k]);
    assert_int_equal(otap_schema_allocate_children(c, 1), 0);
    add_child(c, 0, k == 1 ? "U" : "i", "item");
  }
  c = s.children[nf + 5];
  add_child(&s, nf + 5, "+s", "struct");
  assert_int_equal(otap_schema_allocate_children(c, 2), 0);
  add_child(c, 0, "i", "a");
  add_child(c, 1, "u", "b");
  c = s.children[nf + 6];
  add_child(&s, nf + 6, "+m", "map");
  c->flags |= ARROW_FLAG_MAP_KEYS_SORTED;
  assert_int_equal(otap_schema_allocate_children(c, 1), 0);
  add_child(c, 0, "+s", "entries");
  c->children[0]->flags &= ~(int64_t)ARROW_FLAG_NULLABLE;
  assert_int_equal(otap_schema_allocate_children(c->children[0], 2), 0);
  add_child(c->children[0], 0, "u", "key");
  c->children[0]->children[0]->flags &= ~(int64_t)ARROW_FLAG_NULLABLE;
  add_child(c->children[0], 1, "i", "value");
  c = s.children[nf + 7];
  add_child(&s, nf + 7, "+ud:0,1", "dense");
  assert_int_equal(otap_schema_allocate_children(c, 2), 0);
  add_child(c, 0, "i", "x");
  add_child(c, 1, "u", "y");
  c = s.children[nf + 8];
  add_child(&s, nf + 8, "+us:3,7", "sparse");
  assert_int_equal(otap_schema_allocate_children(c, 2), 0);
  add_child(c, 0, "f", "x");
  add_child(c, 1, "b", "y");
  c = s.children[nf + 9];
  add_child(&s, nf + 9, "+r", "ree");
  assert_int_equal(otap_schema_allocate_children(c, 2), 0);
  add_child(c, 0, "i", "run_ends");
  c->children[0]->flags &= ~(int64_t)ARROW_FLAG_NULLABLE;
  add_child(c, 1, "u", "values");
  // dictionary with ordering + field metadata
  assert_int_equal(otap_schema_allocate_dictionary(s.children[6]), 0);
  assert_int_equal(otap_schema_init(s.children[6]->dictionary, "u"), 0);
  s.children[6]->flags |= ARROW_FLAG_DICTIONARY_ORDERED;
  struct otap_buffer md;
  otap_buffer_init(&md);
  struct otap_metadata_entry e[1] = {{"key", 3, "value with spaces", 17}};
  assert_int_equal(otap_metadata_encode(&md, e, 1), 0);
  assert_int_equal(otap_schema_set_metadata(s.children[2], (const char*)md.data), 0);
  assert_int_equal(otap_schema_set_metadata(&s, (const char*)md.data), 0);
  otap_buffer_reset(&md);

  struct otap_buffer buf;
  otap_buffer_init(&buf);
  CHECK(otap_ipc_schema_encode(&s, &buf, E));
  assert_int_equal(buf.size % 8, 0);
  struct ArrowSchema back;
  CHECK(otap_ipc_schema_decode(buf.data, (size_t)buf.size, &back, E));
  struct otap_test_diff diff;
  if (!otap_test_schema_equal(&s, &back, NULL, &diff)) fail_msg("schema differs: %s", diff.message);
  for (int64_t i = 0; i < s.n_children; i++) {
    if (!otap_schema_equal(s.children[i], back.children[i], true))
      fail_msg("field %lld (%s) differs: format %s vs %s, flags %lld vs %lld", (long long)i,
               s.children[i]->name, s.children[i]->format, back.children[i]->format,
               (long long)s.children[i]->flags, (long long)back.children[i]->flags);
  }
  s.flags = back.flags;  // the root struct's flags have no place in the IPC format
  assert_true(otap_schema_equal(&s, &back, true));
  otap_schema_release(&back);
  // a truncated schema message fails cleanly
  for (int64_t cut = 0; cut < buf.size; cut += 7) {
    memset(&back, 0, sizeof(back));
    uint8_t* copy = malloc((size_t)(cut ? cut : 1));
    memcpy(copy, buf.data, (size_t)cut);
    int rc = otap_ipc_schema_decode(copy, (size_t)cut, &back, E);
    assert_int_not_equal(rc, 0);
    free(copy);
  }
  otap_buffer_reset(&buf);
  otap_schema_release(&s);
}

// ---------------------------------------------------------------------------------------------
// Round trips

static void roundtrip_all_ways(const struct batches* src) {
  enum otap_ipc_compression codecs[3] = {OTAP_IPC_COMPRESSION_NONE, OTAP_IPC_COMPRESSION_LZ4_FRAME,
                                         OTAP_IPC_COMPRESSION_ZSTD};
  for (int f = 0; f < 2; f++) {
    for (int c = 0; c < 3; c++) {
      struct otap_ipc_write_options o;
      otap_ipc_write_options_init(&o);
      o.compression = codecs[c];
      struct otap_buffer buf;
      otap_buffer_init(&buf);
      CHECK(write_all(src, f ? OTAP_IPC_FORMAT_FILE : OTAP_IPC_FORMAT_STREAM, &o, &buf));
      assert_int_equal(otap_ipc_detect_format(buf.data, (size_t)buf.size),
                       f ? OTAP_IPC_FORMAT_FILE : OTAP_IPC_FORMAT_STREAM);
      struct batches got;
      CHECK(read_memory(&buf, &got));
      assert_same(src, &got);
      batches_reset(&got);
      if (!f) {
        size_t split[3] = {1, 3, 4096};
        CHECK(read_pushed(buf.data, (size_t)buf.size, split, 3, &got));
        assert_same(src, &got);
        batches_reset(&got);
      }
      otap_buffer_reset(&buf);
    }
  }
}

static void test_roundtrip_otap_like(void** state) {
  (void)state;
  struct batches b;
  make_batches(&b, 3, 300);
  roundtrip_all_ways(&b);
  batches_reset(&b);
}

static void test_roundtrip_sliced(void** state) {
  (void)state;
  struct batches b, sliced;
  make_batches(&b, 1, 200);
  memset(&sliced, 0, sizeof(sliced));
  CHECK(otap_schema_deep_copy(&b.schema, &sliced.schema, E));
  // offsets not multiples of 8 exercise bitmap shifting and offset rebasing
  CHECK(otap_array_slice(&b.arrays[0], 13, 101, &sliced.arrays[0], E));
  CHECK(otap_array_slice(&b.arrays[0], 0, 0, &sliced.arrays[1], E));
  CHECK(otap_array_slice(&b.arrays[0], 190, 10, &sliced.arrays[2], E));
  sliced.n = 3;
  roundtrip_all_ways(&sliced);
  batches_reset(&sliced);
  batches_reset(&b);
}

static void test_roundtrip_integration_files(void** state) {
  (void)state;
  static const char* names[] = {
      "generated_primitive", "generated_primitive_no_batches", "generated_primitive_zerolength",
      "generated_binary", "generated_binary_view", "generated_large_binary", "generated_datetime",
      "generated_decimal", "generated_decimal256", "generated_decimal32", "generated_decimal64",
      "generated_duration", "generated_interval", "generated_interval_mdn", "generated_nested",
      "generated_nested_large_offsets", "generated_list_view", "generated_map", "generated_union",
      "generated_run_end_encoded", "generated_recursive_nested", "generated_custom_metadata",
      "generated_dictionary", "generated_dictionary_unsigned", "generated_nested_dictionary",
      "generated_null", "generated_null_trivial", "generated_duplicate_fieldnames",
      "generated_extension", "generated_map_non_canonical"};
  int done = 0;
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
    char rel[256];
    snprintf(rel, sizeof(rel), "arrow-testing/data/arrow-ipc-stream/integration/cpp-21.0.0/%s.json.gz",
             names[i]);
    const char* path = otap_test_data_path(rel);
    if (access(path, R_OK) != 0) continue;
    struct otap_test_integration it;
    memset(&it, 0, sizeof(it));
    if (otap_test_integration_load_file(path, &it, E) != 0) {
      print_message("skip %s: loader: %s\n", names[i], g_err.message);
      otap_test_integration_reset(&it);
      continue;
    }
    struct batches b;
    memset(&b, 0, sizeof(b));
    otap_schema_move(&it.schema, &b.schema);
    assert_true(it.n_batches <= 64);
    for (int64_t k = 0; k < it.n_batches; k++) otap_array_move(&it.batches[k], &b.arrays[k]);
    b.n = it.n_batches;
    otap_test_integration_reset(&it);
    roundtrip_all_ways(&b);
    batches_reset(&b);
    done++;
  }
  assert_true(done >= 20);
}

// Reads an arrow-testing gold stream and its file twin and compares them with the JSON.
static void test_read_gold_files(void** state) {
  (void)state;
  static const char* names[] = {"generated_primitive", "generated_dictionary", "generated_nested",
                                "generated_union", "generated_binary_view", "generated_map"};
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
    char rel[256];
    snprintf(rel, sizeof(rel), "arrow-testing/data/arrow-ipc-stream/integration/cpp-21.0.0/%s.json.gz",
             names[i]);
    struct otap_test_integration it;
    memset(&it, 0, sizeof(it));
    CHECK(otap_test_integration_load_file(otap_test_data_path(rel), &it, E));
    struct batches exp;
    memset(&exp, 0, sizeof(exp));
    otap_schema_move(&it.schema, &exp.schema);
    for (int64_t k = 0; k < it.n_batches; k++) otap_array_move(&it.batches[k], &exp.arrays[k]);
    exp.n = it.n_batches;
    otap_test_integration_reset(&it);
    const char* ext[2] = {"stream", "arrow_file"};
    for (int f = 0; f < 2; f++) {
      snprintf(rel, sizeof(rel), "arrow-testing/data/arrow-ipc-stream/integration/cpp-21.0.0/%s.%s",
               names[i], ext[f]);
      struct otap_source src;
      CHECK(otap_source_open_file(&src, otap_test_data_path(rel), E));
      struct ArrowArrayStream s;
      CHECK(otap_ipc_reader_open_source(&s, &src, NULL, E));
      struct batches got;
      CHECK(read_stream(&s, &got));
      assert_same(&exp, &got);
      batches_reset(&got);
    }
    batches_reset(&exp);
  }
}

static void test_fd_reader_pipe(void** state) {
  (void)state;
  struct batches b;
  make_batches(&b, 2, 500);
  struct otap_buffer buf;
  otap_buffer_init(&buf);
  CHECK(write_all(&b, OTAP_IPC_FORMAT_STREAM, NULL, &buf));
  FILE* tmp = tmpfile();
  assert_non_null(tmp);
  assert_int_equal(fwrite(buf.data, 1, (size_t)buf.size, tmp), (size_t)buf.size);
  fflush(tmp);
  rewind(tmp);
  struct ArrowArrayStream s;
  CHECK(otap_ipc_reader_open_fd(&s, dup(fileno(tmp)), true, NULL, E));
  struct batches got;
  CHECK(read_stream(&s, &got));
  assert_same(&b, &got);
  batches_reset(&got);
  fclose(tmp);
  // a real pipe (small enough to fit the pipe buffer)
  int p[2];
  assert_int_equal(pipe(p), 0);
  struct batches small;
  make_batches(&small, 1, 20);
  struct otap_buffer sb;
  otap_buffer_init(&sb);
  CHECK(write_all(&small, OTAP_IPC_FORMAT_STREAM, NULL, &sb));
  assert_true(sb.size < 60000);
  assert_int_equal(write(p[1], sb.data, (size_t)sb.size), sb.size);
  close(p[1]);
  CHECK(otap_ipc_reader_open_fd(&s, p[0], true, NULL, E));
  CHECK(read_stream(&s, &got));
  assert_same(&small, &got);
  batches_reset(&got);
  batches_reset(&small);
  otap_buffer_reset(&sb);
  otap_buffer_reset(&buf);
  batches_reset(&b);
}

// A multi-megabyte stream through a pipe fed by a child process: the fd reader sees short
// reads and messages split across its 1 MiB chunks.
static void test_fd_reader_large_pipe(void** state) {
  (void)state;
  struct batches b;
  make_batches(&b, 4, 20000);
  struct otap_buffer buf;
  otap_buffer_init(&buf);
  struct otap_ipc_write_options o;
  otap_ipc_write_options_init(&o);
  o.compression = OTAP_IPC_COMPRESSION_LZ4_FRAME;
  CHECK(write_all(&b, OTAP_IPC_FORMAT_STREAM, &o, &buf));
  int p[2];
  assert_int_equal(pipe(p), 0);
  fflush(stdout);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    close(p[0]);
    int64_t off = 0;
    while (off < buf.size) {
      int64_t n = buf.size - off < 4093 ? buf.size - off : 4093;  // odd-sized writes
      ssize_t w = write(p[1], buf.data + off, (size_t)n);
      if (w <= 0) _exit(1);
      off += w;
    }
    close(p[1]);
    _exit(0);
  }
  close(p[1]);
  struct ArrowArrayStream s;
  CHECK(otap_ipc_reader_open_fd(&s, p[0], true, NULL, E));
  struct batches got;
  CHECK(read_stream(&s, &got));
  int status = 0;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  assert_same(&b, &got);
  batches_reset(&got);
  otap_buffer_reset(&buf);
  batches_reset(&b);
}

// ---------------------------------------------------------------------------------------------
// Compression details: the -1 marker path

// Walks a stream's messages and counts buffers stored with the -1 prefix / compressed.
static void count_prefixes(const struct otap_buffer* buf, int* raw, int* compressed) {
  *raw = *compressed = 0;
  int64_t pos = 0;
  while (pos + 8 <= buf->size) {
    uint32_t prefix;
    int64_t meta_len;
    bool legacy;
    assert_int_equal(otap__ipc_parse_prefix(buf->data + pos, (size_t)(buf->size - pos), pos,
                                            1 << 26, &prefix, &meta_len, &legacy, E),
                     0);
    if (meta_len == 0) break;
    struct otap__fb fb = {buf->data + pos + prefix, (uint32_t)meta_len, pos + prefix, "Message"};
    struct otap__ipc_message msg;
    CHECK(otap__ipc_message_decode(&fb, &msg, E));
    const uint8_t* body = buf->data + pos + prefix + meta_len;
    for (uint32_t i = 0; i < msg.batch.n_buffers; i++) {
      int64_t off = (int64_t)otap_load_u64le(msg.batch.buffers + 16 * i);
      int64_t len = (int64_t)otap_load_u64le(msg.batch.buffers + 16 * i + 8);
      if (len == 0) continue;
      int64_t p = (int64_t)otap_load_u64le(body + off);
      if (p == -1)
        (*raw)++;
      else
        (*compressed)++;
    }
    pos += prefix + meta_len + msg.body_length;
  }
}

static void test_compression_uncompressed_marker(void** state) {
  (void)state;
  struct ArrowSchema s;
  assert_int_equal(otap_schema_init(&s, "+s"), 0);
  assert_int_equal(otap_schema_allocate_children(&s, 2), 0);
  add_child(&s, 0, "z", "random");
  add_child(&s, 1, "L", "zeros");
  struct batches b;
  memset(&b, 0, sizeof(b));
  otap_schema_move(&s, &b.schema);
  CHECK(otap_array_init_from_schema(&b.arrays[0], &b.schema, E));
  uint32_t x = 12345;
  for (int r = 0; r < 200; r++) {
    uint8_t v[64];
    for (int k = 0; k < 64; k++) {
      x = x * 1103515245u + 12345u;
      v[k] = (uint8_t)(x >> 16);
    }
    CHECK(otap_array_append_bytes(b.arrays[0].children[0], v, 64));
    CHECK(otap_array_append_uint(b.arrays[0].children[1], 0));
    CHECK(otap_array_finish_element(&b.arrays[0]));
  }
  CHECK(otap_array_finish(&b.arrays[0], OTAP_VALIDATE_FULL, &b.schema, E));
  b.n = 1;
  for (int c = 1; c <= 2; c++) {
    struct otap_ipc_write_options o;
    otap_ipc_write_options_init(&o);
    o.compression = (enum otap_ipc_compression)c;
    struct otap_buffer buf;
    otap_buffer_init(&buf);
    CHECK(write_all(&b, OTAP_IPC_FORMAT_STREAM, &o, &buf));
    int raw, comp;
    count_prefixes(&buf, &raw, &comp);
    assert_true(raw >= 1);   // random bytes do not compress: stored with -1
    assert_true(comp >= 1);  // zeros compress
    struct batches got;
    CHECK(read_memory(&buf, &got));
    assert_same(&b, &got);
    batches_reset(&got);
    otap_buffer_reset(&buf);
    // min_compress_size above every buffer: everything stored raw
    o.min_compress_size = 1 << 30;
    CHECK(write_all(&b, OTAP_IPC_FORMAT_STREAM, &o, &buf));
    count_prefixes(&buf, &raw, &comp);
    assert_int_equal(comp, 0);
    CHECK(read_memory(&buf, &got));
    assert_same(&b, &got);
    batches_reset(&got);
    otap_buffer_reset(&buf);
  }
  batches_reset(&b);
}

// ---------------------------------------------------------------------------------------------
// Dictionaries

static void test_dictionary_delta_and_replacement(void** state) {
  (void)state;
  struct batches b;
  memset(&b, 0, sizeof(b));
  make_schema(&b.schema);
  const char* w1[] = {"a", "b"};
  const char* w2[] = {"a", "b", "c"};
  const char* w3[] = {"x", "y"};
  make_batch(&b.schema, 50, 0, w1, 2, &b.arrays[0]);
  make_batch(&b.schema, 50, 50, w1, 2, &b.arrays[1]);  // same dictionary: nothing written
  make_batch(&b.schema, 50, 100, w2, 3, &b.arrays[2]);  // delta
  make_batch(&b.schema, 50, 150, w3, 2, &b.arrays[3]);  // replacement
  b.n = 4;
  struct otap_buffer buf;
  otap_buffer_init(&buf);
  CHECK(write_all(&b, OTAP_IPC_FORMAT_STREAM, NULL, &buf));
  // event sequence: schema, dict, batch, batch, delta dict, batch, dict (replacement), batch, end
  struct otap_ipc_decoder* d;
  CHECK(otap_ipc_decoder_new(&d, NULL, E));
  CHECK(otap_ipc_decoder_push(d, buf.data, (size_t)buf.size, E));
  enum otap_ipc_event expect[] = {OTAP_IPC_EVENT_SCHEMA, OTAP_IPC_EVENT_DICTIONARY,
                                  OTAP_IPC_EVENT_BATCH,  OTAP_IPC_EVENT_BATCH,
                                  OTAP_IPC_EVENT_DICTIONARY, OTAP_IPC_EVENT_BATCH,
                                  OTAP_IPC_EVENT_DICTIONARY, OTAP_IPC_EVENT_BATCH,
                                  OTAP_IPC_EVENT_END};
  bool delta[] = {false, false, false, false, true, false, false, false, false};
  for (size_t i = 0; i < sizeof(expect) / sizeof(expect[0]); i++) {
    enum otap_ipc_event ev;
    struct ArrowArray a;
    memset(&a, 0, sizeof(a));
    CHECK(otap_ipc_decoder_pull(d, &ev, &a, E));
    assert_int_equal(ev, expect[i]);
    if (ev == OTAP_IPC_EVENT_DICTIONARY) {
      assert_int_equal(otap_ipc_decoder_last_message(d)->is_delta, delta[i]);
      assert_int_equal(otap_ipc_decoder_last_message(d)->dictionary_id, 0);
      assert_int_equal(otap_ipc_decoder_last_message(d)->rows, delta[i] ? 1 : 2);
    }
    if (ev == OTAP_IPC_EVENT_BATCH) a.release(&a);
  }
  const int64_t* ids;
  assert_int_equal(otap_ipc_decoder_dictionary_ids(d, &ids), 1);
  assert_int_equal(ids[0], 0);
  otap_ipc_decoder_free(d);
  struct batches got;
  CHECK(read_memory(&buf, &got));
  assert_same(&b, &got);
  batches_reset(&got);
  otap_buffer_reset(&buf);
  // REPLACE mode never writes deltas
  struct otap_ipc_write_options o;
  otap_ipc_write_options_init(&o);
  o.dictionary_mode = OTAP_IPC_DICTIONARY_REPLACE;
  CHECK(write_all(&b, OTAP_IPC_FORMAT_STREAM, &o, &buf));
  CHECK(read_memory(&buf, &got));
  assert_same(&b, &got);
  batches_reset(&got);
  otap_buffer_reset(&buf);
  // files: the delta is fine, the replacement is refused
  b.n = 3;
  CHECK(write_all(&b, OTAP_IPC_FORMAT_FILE, NULL, &buf));
  CHECK(read_memory(&buf, &got));
  g_exact_dictionaries = false;
  assert_same(&b, &got);
  g_exact_dictionaries = true;
  batches_reset(&got);
  otap_buffer_reset(&buf);
  b.n = 4;
  assert_int_equal(write_all(&b, OTAP_IPC_FORMAT_FILE, NULL, &buf), EINVAL);
  assert_non_null(strstr(g_err.message, "dictionar"));
  otap_buffer_reset(&buf);
  batches_reset(&b);
}

// Two fields sharing one dictionary id (as the shared-dict gold file does) read correctly.
static void test_shared_dictionary_gold(void** state) {
  (void)state;
  const char* rel = "arrow-testing/data/arrow-ipc-stream/integration/4.0.0-shareddict/generated_shared_dict.stream";
  struct otap_buffer buf;
  otap_buffer_init(&buf);
  CHECK(otap_read_file(otap_test_data_path(rel), &buf, E));
  struct batches got;
  CHECK(read_memory(&buf, &got));
  assert_true(got.n >= 1);
  struct otap_test_integration it;
  memset(&it, 0, sizeof(it));
  char jrel[256];
  snprintf(jrel, sizeof(jrel), "%s", rel);
  strcpy(strstr(jrel, ".stream"), ".json.gz");
  CHECK(otap_test_integration_load_file(otap_test_data_path(jrel), &it, E));
  struct batches exp;
  memset(&exp, 0, sizeof(exp));
  otap_schema_move(&it.schema, &exp.schema);
  for (int64_t k = 0; k < it.n_batches; k++) otap_array_move(&it.batches[k], &exp.arrays[k]);
  exp.n = it.n_batches;
  otap_test_integration_reset(&it);
  assert_same(&exp, &got);
  batches_reset(&exp);
  batches_reset(&got);
  otap_buffer_reset(&buf);
}

// ---------------------------------------------------------------------------------------------
// Push decoder, legacy framing, malformed input

static void test_push_decoder_splits(void** state) {
  (void)state;
  struct batches b;
  make_batches(&b, 3, 100);
  struct otap_buffer buf;
  otap_buffer_init(&buf);
  struct otap_ipc_write_options o;
  otap_ipc_write_options_init(&o);
  o.compression = OTAP_IPC_COMPRESSION_ZSTD;
  CHECK(write_all(&b, OTAP_IPC_FORMAT_STREAM, &o, &buf));
  struct batches got;
  size_t one = 1;
  CHECK(read_pushed(buf.data, (size_t)buf.size, &one, 1, &got));
  assert_same(&b, &got);
  batches_reset(&got);
  srand(7);
  for (int round = 0; round < 20; round++) {
    size_t split[16];
    for (int i = 0; i < 16; i++) split[i] = 1 + (size_t)(rand() % 300);
    CHECK(read_pushed(buf.data, (size_t)buf.size, split, 16, &got));
    assert_same(&b, &got);
    batches_reset(&got);
  }
  // without the EOS marker the stream still ends cleanly
  CHECK(read_pushed(buf.data, (size_t)buf.size - 8, &one, 1, &got));
  assert_same(&b, &got);
  batches_reset(&got);
  otap_buffer_reset(&buf);
  batches_reset(&b);
}

// Rewrites a stream into the pre-0.15 framing (int32 length, no continuation marker).
static void to_legacy(const struct otap_buffer* in, struct otap_buffer* out) {
  int64_t pos = 0;
  while (pos + 8 <= in->size) {
    assert_int_equal(otap_load_u32le(in->data + pos), 0xFFFFFFFFu);
    int32_t len = (int32_t)otap_load_u32le(in->data + pos + 4);
    if (len == 0) {
      uint8_t z[4] = {0, 0, 0, 0};
      assert_int_equal(otap_buffer_append(out, z, 4), 0);
      return;
    }
    struct otap__fb fb = {in->data + pos + 8, (uint32_t)len, 0, "Message"};
    struct otap__ipc_message msg;
    CHECK(otap__ipc_message_decode(&fb, &msg, E));
    assert_int_equal(otap_buffer_append(out, in->data + pos + 4, 4 + len + msg.body_length), 0);
    pos += 8 + len + msg.body_length;
  }
}

static void test_legacy_framing(void** state) {
  (void)state;
  struct batches b;
  make_batches(&b, 2, 64);
  struct otap_buffer buf, legacy;
  otap_buffer_init(&buf);
  otap_buffer_init(&legacy);
  CHECK(write_all(&b, OTAP_IPC_FORMAT_STREAM, NULL, &buf));
  to_legacy(&buf, &legacy);
  assert_int_equal(otap_ipc_detect_format(legacy.data, (size_t)legacy.size), OTAP_IPC_FORMAT_STREAM);
  struct batches got;
  CHECK(read_memory(&legacy, &got));
  assert_same(&b, &got);
  batches_reset(&got);
  size_t split[2] = {5, 77};
  CHECK(read_pushed(legacy.data, (size_t)legacy.size, split, 2, &got));
  assert_same(&b, &got);
  batches_reset(&got);
  // message info reports the legacy framing
  struct otap_ipc_decoder* d;
  CHECK(otap_ipc_decoder_new(&d, NULL, E));
  CHECK(otap_ipc_decoder_push(d, legacy.data, (size_t)legacy.size, E));
  enum otap_ipc_event ev;
  struct ArrowArray a;
  CHECK(otap_ipc_decoder_pull(d, &ev, &a, E));
  assert_int_equal(ev, OTAP_IPC_EVENT_SCHEMA);
  assert_true(otap_ipc_decoder_last_message(d)->legacy_framing);
  otap_ipc_decoder_free(d);
  otap_buffer_reset(&legacy);
  otap_buffer_reset(&buf);
  batches_reset(&b);
}

static int decode_bytes(const uint8_t* data, size_t n) {
  struct batches got;
  size_t all = n ? n : 1;
  int rc = read_pushed(data, n, &all, 1, &got);
  batches_reset(&got);
  return rc;
}

static void test_malformed_stream(void** state) {
  (void)state;
  struct batches b;
  make_batches(&b, 2, 40);
  struct otap_buffer buf;
  otap_buffer_init(&buf);
  struct otap_ipc_write_options o;
  otap_ipc_write_options_init(&o);
  o.compression = OTAP_IPC_COMPRESSION_LZ4_FRAME;
  CHECK(write_all(&b, OTAP_IPC_FORMAT_STREAM, &o, &buf));
  int einval = 0;
  for (int64_t cut = 0; cut < buf.size; cut++) {
    uint8_t* copy = malloc((size_t)(cut ? cut : 1));
    memcpy(copy, buf.data, (size_t)cut);
    int rc = decode_bytes(copy, (size_t)cut);
    assert_true(rc == 0 || rc == EINVAL);
    if (rc) {
      einval++;
      if (!strstr(g_err.message, "offset")) fail_msg("no offset in: %s", g_err.message);
    }
    free(copy);
  }
  assert_true(einval > buf.size / 2);
  for (int64_t i = 0; i < buf.size; i++) {
    uint8_t* copy = malloc((size_t)buf.size);
    memcpy(copy, buf.data, (size_t)buf.size);
    copy[i] ^= 0xA5;
    int rc = decode_bytes(copy, (size_t)buf.size);
    assert_true(rc == 0 || rc == EINVAL || rc == ENOTSUP);
    free(copy);
  }
  otap_buffer_reset(&buf);
  batches_reset(&b);
}

static void test_malformed_file(void** state) {
  (void)state;
  struct batches b;
  make_batches(&b, 2, 40);
  struct otap_buffer buf;
  otap_buffer_init(&buf);
  CHECK(write_all(&b, OTAP_IPC_FORMAT_FILE, NULL, &buf));
  for (int64_t cut = 0; cut < buf.size; cut += 3) {
    uint8_t* copy = malloc((size_t)(cut ? cut : 1));
    memcpy(copy, buf.data, (size_t)cut);
    struct otap_source src;
    CHECK(otap_source_init_memory(&src, copy, (size_t)cut, "cut", E));
    struct otap_ipc_file_reader* r = NULL;
    int rc = otap_ipc_file_reader_open(&r, &src, NULL, E);
    assert_int_equal(rc, EINVAL);
    free(copy);
  }
  for (int64_t i = 0; i < buf.size; i++) {
    uint8_t* copy = malloc((size_t)buf.size);
    memcpy(copy, buf.data, (size_t)buf.size);
    copy[i] ^= 0x5A;
    struct ArrowArrayStream s;
    int rc = otap_ipc_reader_open_memory(&s, copy, (size_t)buf.size, NULL, NULL, E);
    if (!rc) {
      struct batches got;
      rc = read_stream(&s, &got);
      batches_reset(&got);
    }
    assert_true(rc == 0 || rc == EINVAL || rc == ENOTSUP);
    free(copy);
  }
  otap_buffer_reset(&buf);
  batches_reset(&b);
}

// ---------------------------------------------------------------------------------------------
// File format

static void test_file_random_access(void** state) {
  (void)state;
  struct batches b;
  make_batches(&b, 5, 77);
  struct otap_buffer buf;
  otap_buffer_init(&buf);
  struct otap_ipc_write_options o;
  otap_ipc_write_options_init(&o);
  o.compression = OTAP_IPC_COMPRESSION_ZSTD;
  CHECK(write_all(&b, OTAP_IPC_FORMAT_FILE, &o, &buf));
  struct otap_source src;
  CHECK(otap_source_init_memory(&src, buf.data, (size_t)buf.size, "mem", E));
  struct otap_ipc_file_reader* r;
  CHECK(otap_ipc_file_reader_open(&r, &src, NULL, E));
  assert_int_equal(otap_ipc_file_reader_num_batches(r), 5);
  assert_int_equal(otap_ipc_file_reader_num_dictionaries(r), 1);
  struct otap_test_diff diff;
  int order[5] = {3, 0, 4, 1, 3};
  for (int k = 0; k < 5; k++) {
    struct ArrowArray a;
    CHECK(otap_ipc_file_reader_read_batch(r, order[k], &a, E));
    if (!otap_test_array_equal(&b.schema, &b.arrays[order[k]], otap_ipc_file_reader_schema(r), &a,
                               NULL, &diff))
      fail_msg("batch %d: %s", order[k], diff.message);
    a.release(&a);
  }
  struct otap_ipc_message_info info;
  CHECK(otap_ipc_file_reader_block_info(r, false, 2, &info, E));
  assert_int_equal(info.rows, 77);
  assert_int_equal(info.compression, OTAP_IPC_COMPRESSION_ZSTD);
  CHECK(otap_ipc_file_reader_block_info(r, true, 0, &info, E));
  assert_int_equal(info.dictionary_id, 0);
  struct ArrowArray a;
  assert_int_equal(otap_ipc_file_reader_read_batch(r, 5, &a, E), EINVAL);
  assert_int_equal(otap_ipc_file_reader_read_batch(r, -1, &a, E), EINVAL);
  otap_ipc_file_reader_free(r);
  otap_buffer_reset(&buf);
  batches_reset(&b);
}

// Builds a file as Arrow JS writes it: magic, dictionary and record batch messages (no Schema
// message), EOS, footer.
static void test_file_without_schema_message(void** state) {
  (void)state;
  struct batches b;
  make_batches(&b, 2, 33);
  struct otap_buffer stream, file;
  otap_buffer_init(&stream);
  otap_buffer_init(&file);
  CHECK(write_all(&b, OTAP_IPC_FORMAT_STREAM, NULL, &stream));
  assert_int_equal(otap_buffer_append(&file, "ARROW1\0\0", 8), 0);
  uint8_t dblocks[4][24], bblocks[4][24];
  uint32_t nd = 0, nb = 0;
  int64_t pos = 0;
  while (pos + 8 <= stream.size) {
    int32_t len = (int32_t)otap_load_u32le(stream.data + pos + 4);
    if (len == 0) break;
    struct otap__fb fb = {stream.data + pos + 8, (uint32_t)len, 0, "Message"};
    struct otap__ipc_message msg;
    CHECK(otap__ipc_message_decode(&fb, &msg, E));
    int64_t total = 8 + len + msg.body_length;
    if (msg.header_type != OTAP__MH_SCHEMA) {
      uint8_t* blk = msg.header_type == OTAP__MH_DICTIONARY ? dblocks[nd++] : bblocks[nb++];
      otap_store_u64le(blk, (uint64_t)file.size);
      otap_store_u32le(blk + 8, (uint32_t)(8 + len));
      otap_store_u32le(blk + 12, 0);
      otap_store_u64le(blk + 16, (uint64_t)msg.body_length);
      assert_int_equal(otap_buffer_append(&file, stream.data + pos, total), 0);
    }
    pos += total;
  }
  assert_int_equal(otap_buffer_append(&file, "\xff\xff\xff\xff\0\0\0\0", 8), 0);
  struct otap__fbb fbb;
  otap__fbb_init(&fbb);
  uint32_t sref;
  CHECK(otap__ipc_schema_build(&fbb, &b.schema, NULL, &sref, E));
  uint32_t dv = otap__fbb_vector(&fbb, dblocks, nd, 24, 8);
  uint32_t bv = otap__fbb_vector(&fbb, bblocks, nb, 24, 8);
  otap__fbb_start(&fbb);
  otap__fbb_add_i16(&fbb, 0, OTAP__IPC_V5);
  otap__fbb_add_offset(&fbb, 1, sref);
  otap__fbb_add_offset(&fbb, 2, dv);
  otap__fbb_add_offset(&fbb, 3, bv);
  uint32_t root = otap__fbb_end(&fbb);
  const uint8_t* fdata;
  uint32_t fsize;
  assert_int_equal(otap__fbb_finish(&fbb, root, &fdata, &fsize), 0);
  assert_int_equal(otap_buffer_append(&file, fdata, fsize), 0);
  uint8_t tail[10];
  otap_store_u32le(tail, fsize);
  memcpy(tail + 4, "ARROW1", 6);
  assert_int_equal(otap_buffer_append(&file, tail, 10), 0);
  otap__fbb_reset(&fbb);
  struct batches got;
  CHECK(read_memory(&file, &got));
  assert_same(&b, &got);
  batches_reset(&got);
  otap_buffer_reset(&file);
  otap_buffer_reset(&stream);
  batches_reset(&b);
}

// ---------------------------------------------------------------------------------------------
// Rejections

static void message_with(int16_t version, uint8_t header_type, int16_t endianness,
                         struct otap_buffer* out) {
  struct otap__fbb b;
  otap__fbb_init(&b);
  uint32_t fields = otap__fbb_offset_vector(&b, NULL, 0);
  otap__fbb_start(&b);
  otap__fbb_add_i16(&b, 0, endianness);
  otap__fbb_add_offset(&b, 1, fields);
  uint32_t hdr = otap__fbb_end(&b);
  otap__fbb_start(&b);
  otap__fbb_add_i16(&b, 0, version);
  otap__fbb_add_u8(&b, 1, header_type);
  otap__fbb_add_offset(&b, 2, hdr);
  otap__fbb_add_i64(&b, 3, 0);
  uint32_t root = otap__fbb_end(&b);
  const uint8_t* d;
  uint32_t n;
  assert_int_equal(otap__fbb_finish(&b, root, &d, &n), 0);
  CHECK(otap__ipc_frame(out, d, n, E));
  otap__fbb_reset(&b);
}

static void test_rejections(void** state) {
  (void)state;
  struct otap_buffer buf;
  otap_buffer_init(&buf);
  message_with(5, OTAP__MH_SCHEMA, 0, &buf);  // V6
  assert_int_equal(decode_bytes(buf.data, (size_t)buf.size), ENOTSUP);
  assert_non_null(strstr(g_err.message, "V6"));
  buf.size = 0;
  message_with(OTAP__IPC_V5, OTAP__MH_SCHEMA, 1, &buf);  // big-endian
  assert_int_equal(decode_bytes(buf.data, (size_t)buf.size), ENOTSUP);
  assert_non_null(strstr(g_err.message, "big-endian"));
  buf.size = 0;
  message_with(OTAP__IPC_V5, OTAP__MH_TENSOR, 0, &buf);
  assert_int_equal(decode_bytes(buf.data, (size_t)buf.size), ENOTSUP);
  assert_non_null(strstr(g_err.message, "Tensor"));
  buf.size = 0;
  // a record batch before any schema
  message_with(OTAP__IPC_V5, OTAP__MH_SCHEMA, 0, &buf);
  CHECK(decode_bytes(buf.data, (size_t)buf.size));
  otap_buffer_reset(&buf);
  // the arrow-testing V6 schema file
  const char* v6 = otap_test_data_path("arrow-testing/data/forward-compatibility/schema_v6.arrow");
  if (access(v6, R_OK) == 0) {
    otap_buffer_init(&buf);
    CHECK(otap_read_file(v6, &buf, E));
    assert_int_equal(decode_bytes(buf.data, (size_t)buf.size), ENOTSUP);
    otap_buffer_reset(&buf);
  }
  // big-endian gold file: rejected with ENOTSUP
  const char* be = otap_test_data_path(
      "arrow-testing/data/arrow-ipc-stream/integration/1.0.0-bigendian/generated_primitive.stream");
  otap_buffer_init(&buf);
  CHECK(otap_read_file(be, &buf, E));
  assert_int_equal(decode_bytes(buf.data, (size_t)buf.size), ENOTSUP);
  otap_buffer_reset(&buf);
}

// Writer options (extra schema metadata, no EOS marker) and reader caps.
static void test_options_and_caps(void** state) {
  (void)state;
  struct batches b;
  make_batches(&b, 1, 5000);
  struct otap_buffer md;
  otap_buffer_init(&md);
  struct otap_metadata_entry e[1] = {{"extra", 5, "yes", 3}};
  assert_int_equal(otap_metadata_encode(&md, e, 1), 0);
  struct otap_ipc_write_options o;
  otap_ipc_write_options_init(&o);
  o.metadata = (const char*)md.data;
  o.write_eos = false;
  o.compression = OTAP_IPC_COMPRESSION_ZSTD;
  struct otap_buffer buf;
  otap_buffer_init(&buf);
  CHECK(write_all(&b, OTAP_IPC_FORMAT_STREAM, &o, &buf));
  assert_int_not_equal(otap_load_u32le(buf.data + buf.size - 8), 0xFFFFFFFFu);  // no EOS
  struct batches got;
  CHECK(read_memory(&buf, &got));
  const char* v;
  int32_t vlen;
  assert_int_equal(otap_metadata_find(got.schema.metadata, "extra", &v, &vlen), 0);
  assert_memory_equal(v, "yes", 3);
  assert_int_equal(otap_metadata_find(got.schema.metadata, "otap.schema", &v, &vlen), 0);
  assert_int_equal(got.n, 1);
  batches_reset(&got);
  // caps: a tiny decompressed-size cap and a tiny metadata cap both refuse the input
  struct otap_ipc_read_options ro;
  otap_ipc_read_options_init(&ro);
  ro.max_decompressed_size = 1024;
  struct ArrowArrayStream s;
  CHECK(otap_ipc_reader_open_memory(&s, buf.data, (size_t)buf.size, NULL, &ro, E));
  assert_int_equal(read_stream(&s, &got), EINVAL);
  assert_non_null(strstr(g_err.message, "uncompressed bytes"));
  batches_reset(&got);
  otap_ipc_read_options_init(&ro);
  ro.max_metadata_size = 64;
  CHECK(otap_ipc_reader_open_memory(&s, buf.data, (size_t)buf.size, NULL, &ro, E));
  assert_int_equal(read_stream(&s, &got), EINVAL);
  assert_non_null(strstr(g_err.message, "exceeds the cap"));
  batches_reset(&got);
  otap_buffer_reset(&buf);
  otap_buffer_reset(&md);
  batches_reset(&b);
}

// ---------------------------------------------------------------------------------------------
// Allocation failure

static void test_allocation_failure(void** state) {
  (void)state;
  struct batches b;
  make_batches(&b, 2, 30);
  struct otap_buffer buf;
  otap_buffer_init(&buf);
  CHECK(write_all(&b, OTAP_IPC_FORMAT_STREAM, NULL, &buf));
  long base = otap_test_live_allocations();
  bool succeeded = false;
  for (long n = 0; n < 5000 && !succeeded; n++) {
    otap_test_fail_alloc_after(n);
    struct batches got;
    size_t all = (size_t)buf.size;
    int rc = read_pushed(buf.data, (size_t)buf.size, &all, 1, &got);
    otap_test_fail_alloc_after(-1);
    batches_reset(&got);
    assert_true(rc == 0 || rc == ENOMEM);
    if (rc == 0) succeeded = true;
    assert_int_equal(otap_test_live_allocations(), base);
  }
  assert_true(succeeded);
  succeeded = false;
  for (long n = 0; n < 5000 && !succeeded; n++) {
    struct otap_buffer out;
    otap_buffer_init(&out);
    otap_test_fail_alloc_after(n);
    int rc = write_all(&b, OTAP_IPC_FORMAT_FILE, NULL, &out);
    otap_test_fail_alloc_after(-1);
    otap_buffer_reset(&out);
    assert_true(rc == 0 || rc == ENOMEM);
    if (rc == 0) succeeded = true;
    assert_int_equal(otap_test_live_allocations(), base);
  }
  assert_true(succeeded);
  otap_buffer_reset(&buf);
  batches_reset(&b);
}

int main(int argc, char** argv) {
  otap_test_install_allocator();
  if (argc > 1) cmocka_set_test_filter(argv[1]);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_flatbuf_roundtrip),
      cmocka_unit_test(test_schema_all_types),
      cmocka_unit_test(test_roundtrip_otap_like),
      cmocka_unit_test(test_roundtrip_sliced),
      cmocka_unit_test(test_roundtrip_integration_files),
      cmocka_unit_test(test_read_gold_files),
      cmocka_unit_test(test_fd_reader_pipe),
      cmocka_unit_test(test_fd_reader_large_pipe),
      cmocka_unit_test(test_compression_uncompressed_marker),
      cmocka_unit_test(test_dictionary_delta_and_replacement),
      cmocka_unit_test(test_shared_dictionary_gold),
      cmocka_unit_test(test_push_decoder_splits),
      cmocka_unit_test(test_legacy_framing),
      cmocka_unit_test(test_malformed_stream),
      cmocka_unit_test(test_malformed_file),
      cmocka_unit_test(test_file_random_access),
      cmocka_unit_test(test_file_without_schema_message),
      cmocka_unit_test(test_rejections),
      cmocka_unit_test(test_options_and_caps),
      cmocka_unit_test(test_allocation_failure),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
