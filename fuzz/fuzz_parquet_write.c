// Round-trip fuzz target of the Parquet writer: the input chooses writer options (codec, page
// version, dictionary, encodings, page/row-group/dictionary limits) and the rows of a batch
// (values and nulls of flat, nested, list and dictionary columns). A valid batch must always
// write, and the otap reader must read back equal values; anything else aborts.
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "otap/parquet.h"
#include "otap/parquet_writer.h"

struct rd {
  const uint8_t* p;
  size_t n;
};
static uint8_t take(struct rd* r) {
  if (!r->n) return 0;
  r->n--;
  return *r->p++;
}

#define REQUIRE(x)                                                     \
  do {                                                                 \
    if (!(x)) {                                                        \
      fprintf(stderr, "fuzz_parquet_write: %s failed: %s\n", #x, err.message); \
      abort();                                                         \
    }                                                                  \
  } while (0)

static struct otap_error err;

static void field(struct ArrowSchema* s, const char* format, const char* name, bool nullable) {
  REQUIRE(otap_schema_init(s, format) == 0);
  REQUIRE(otap_schema_set_name(s, name) == 0);
  if (!nullable) s->flags &= ~ARROW_FLAG_NULLABLE;
}

static bool same(const struct otap_array_view* a, int64_t i, const struct otap_array_view* b,
                 int64_t j) {
  bool an = otap_view_is_null(a, i), bn = otap_view_is_null(b, j);
  if (an != bn) return false;
  if (an) return true;
  if (a->dictionary) return same(a->dictionary, otap_view_get_int(a, i), b, j);
  if (b->dictionary) return same(a, i, b->dictionary, otap_view_get_int(b, j));
  switch (a->storage_type) {
    case OTAP_TYPE_INT32: case OTAP_TYPE_UINT16: case OTAP_TYPE_INT64:
      return otap_view_get_uint(a, i) == otap_view_get_uint(b, j);
    case OTAP_TYPE_DOUBLE: {
      double x = otap_view_get_double(a, i), y = otap_view_get_double(b, j);
      return (isnan(x) && isnan(y)) || memcmp(&x, &y, 8) == 0;
    }
    case OTAP_TYPE_STRUCT:
      for (int64_t k = 0; k < a->n_children; k++) {
        if (!same(a->children[k], a->offset + i, b->children[k], b->offset + j)) return false;
      }
      return true;
    case OTAP_TYPE_LIST: case OTAP_TYPE_LARGE_LIST: {
      int64_t s1, e1, s2, e2;
      otap_view_get_list_range(a, i, &s1, &e1);
      otap_view_get_list_range(b, j, &s2, &e2);
      if (e1 - s1 != e2 - s2) return false;
      for (int64_t k = 0; k < e1 - s1; k++) {
        if (!same(a->children[0], s1 + k, b->children[0], s2 + k)) return false;
      }
      return true;
    }
    default: {
      const uint8_t *p1, *p2;
      int64_t l1, l2;
      otap_view_get_bytes(a, i, &p1, &l1);
      otap_view_get_bytes(b, j, &p2, &l2);
      return l1 == l2 && (l1 == 0 || memcmp(p1, p2, (size_t)l1) == 0);
    }
  }
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  struct rd r = {data, size};
  static const enum otap_parquet_codec codecs[] = {
      OTAP_PARQUET_CODEC_UNCOMPRESSED, OTAP_PARQUET_CODEC_SNAPPY, OTAP_PARQUET_CODEC_GZIP,
      OTAP_PARQUET_CODEC_BROTLI,       OTAP_PARQUET_CODEC_ZSTD,   OTAP_PARQUET_CODEC_LZ4_RAW,
      OTAP_PARQUET_CODEC_LZ4};
  struct otap_parquet_write_options o;
  otap_parquet_write_options_init(&o);
  o.codec = codecs[take(&r) % 7];
  o.page_version = 1 + take(&r) % 2;
  uint8_t flags = take(&r);
  o.dictionary = flags & 1;
  o.data_page_size = 64 + (int64_t)take(&r) * 8;
  o.data_page_rows = 1 + take(&r);
  o.row_group_rows = 1 + (int64_t)take(&r) * 2;
  o.dictionary_page_size = 16 + (int64_t)take(&r) * 8;
  static const int str_enc[] = {OTAP_PARQUET_ENC_PLAIN, OTAP_PARQUET_ENC_DELTA_LENGTH_BYTE_ARRAY,
                                OTAP_PARQUET_ENC_DELTA_BYTE_ARRAY};
  static const int int_enc[] = {OTAP_PARQUET_ENC_PLAIN, OTAP_PARQUET_ENC_DELTA_BINARY_PACKED,
                                OTAP_PARQUET_ENC_BYTE_STREAM_SPLIT};
  o.default_encoding = str_enc[(flags >> 1) % 3];
  struct otap_parquet_column_options co[2] = {{"i", -1, int_enc[(flags >> 3) % 3]},
                                              {"f", (flags >> 5) & 1, int_enc[(flags >> 6) % 3] ==
                                                   OTAP_PARQUET_ENC_DELTA_BINARY_PACKED ? 0 : int_enc[(flags >> 6) % 3]}};
  o.columns = co;
  o.n_columns = 2;

  struct ArrowSchema s;
  REQUIRE(otap_schema_init(&s, "+s") == 0);
  REQUIRE(otap_schema_allocate_children(&s, 6) == 0);
  field(s.children[0], "i", "i", true);
  field(s.children[1], "u", "s", true);
  field(s.children[2], "+l", "l", true);
  REQUIRE(otap_schema_allocate_children(s.children[2], 1) == 0);
  field(s.children[2]->children[0], "l", "item", true);
  field(s.children[3], "+s", "st", true);
  REQUIRE(otap_schema_allocate_children(s.children[3], 2) == 0);
  field(s.children[3]->children[0], "S", "u", true);
  field(s.children[3]->children[1], "z", "b", false);
  field(s.children[4], "c", "d", true);
  REQUIRE(otap_schema_allocate_dictionary(s.children[4]) == 0);
  field(s.children[4]->dictionary, "u", "", true);
  field(s.children[5], "g", "f", true);

  struct ArrowArray b;
  REQUIRE(otap_array_init_from_schema(&b, &s, &err) == 0);
  static const char* words[] = {"", "a", "ab", "abc", "zz", "\xc3\xa9t\xc3\xa9", "long string value"};
  for (int k = 0; k < 7; k++) {
    REQUIRE(otap_array_append_bytes(b.children[4]->dictionary, words[k], (int64_t)strlen(words[k])) == 0);
  }
  int rows = take(&r) % 200;
  struct ArrowArray** c = b.children;
  for (int row = 0; row < rows; row++) {
    uint8_t nulls = take(&r);
    uint8_t v = take(&r);
    if (nulls & 1) {
      REQUIRE(otap_array_append_null(c[0], 1) == 0);
    } else {
      REQUIRE(otap_array_append_int(c[0], (int32_t)((uint32_t)v << (v % 25)) - 1000) == 0);
    }
    if (nulls & 2) {
      REQUIRE(otap_array_append_null(c[1], 1) == 0);
    } else {
      const char* w = words[v % 7];
      REQUIRE(otap_array_append_bytes(c[1], w, (int64_t)strlen(w)) == 0);
    }
    if (nulls & 4) {
      REQUIRE(otap_array_append_null(c[2], 1) == 0);
    } else {
      int n = v % 5;
      for (int k = 0; k < n; k++) {
        uint8_t x = take(&r);
        if (x == 0) {
          REQUIRE(otap_array_append_null(c[2]->children[0], 1) == 0);
        } else {
          REQUIRE(otap_array_append_int(c[2]->children[0], (int64_t)x * 1000003 - 70000) == 0);
        }
      }
      REQUIRE(otap_array_finish_element(c[2]) == 0);
    }
    if (nulls & 8) {
      REQUIRE(otap_array_append_null(c[3], 1) == 0);
    } else {
      if (nulls & 16) {
        REQUIRE(otap_array_append_null(c[3]->children[0], 1) == 0);
      } else {
        REQUIRE(otap_array_append_uint(c[3]->children[0], (uint64_t)v * 257) == 0);
      }
      uint8_t bytes[4] = {v, nulls, (uint8_t)row, 0};
      REQUIRE(otap_array_append_bytes(c[3]->children[1], bytes, v % 5) == 0);
      REQUIRE(otap_array_finish_element(c[3]) == 0);
    }
    if (nulls & 32) {
      REQUIRE(otap_array_append_null(c[4], 1) == 0);
    } else {
      REQUIRE(otap_array_append_int(c[4], v % 7) == 0);
    }
    if (nulls & 64) {
      REQUIRE(otap_array_append_null(c[5], 1) == 0);
    } else {
      double d = v == 255 ? NAN : v == 254 ? -0.0 : (double)v / 4.0 - 10.0;
      REQUIRE(otap_array_append_double(c[5], d) == 0);
    }
    REQUIRE(otap_array_finish_element(&b) == 0);
  }
  REQUIRE(otap_array_finish(&b, OTAP_VALIDATE_FULL, &s, &err) == 0);

  struct otap_buffer file;
  otap_buffer_init(&file);
  struct otap_sink sink;
  REQUIRE(otap_sink_init_buffer(&sink, &file, &err) == 0);
  struct otap_parquet_writer* w = NULL;
  REQUIRE(otap_parquet_writer_open(&w, &sink, &s, &o, &err) == 0);
  REQUIRE(otap_parquet_writer_write(w, &b, &err) == 0);
  REQUIRE(otap_parquet_writer_close(w, &err) == 0);
  otap_parquet_writer_free(w);
  otap_sink_release(&sink);

  // Read back and compare every row.
  struct otap_source src;
  REQUIRE(otap_source_init_memory(&src, file.data, (size_t)file.size, "fuzz", &err) == 0);
  struct otap_parquet_reader* rd = NULL;
  // Plain Arrow types: with the ARROW:schema hint the reader rebuilds dictionary<int8> from
  // PLAIN fallback pages and may run out of int8 indices (a reader limitation, not a bad file).
  struct otap_parquet_reader_options ro;
  otap_parquet_reader_options_init(&ro);
  ro.use_arrow_schema_hint = false;
  REQUIRE(otap_parquet_reader_open(&rd, &src, &ro, &err) == 0);
  struct otap_array_view wv, rv;
  REQUIRE(otap_array_view_init(&wv, &s, &err) == 0);
  REQUIRE(otap_array_view_set(&wv, &b, OTAP_VALIDATE_DEFAULT, &err) == 0);
  REQUIRE(otap_array_view_init(&rv, otap_parquet_reader_schema(rd), &err) == 0);
  int64_t row = 0;
  for (;;) {
    struct ArrowArray got;
    REQUIRE(otap_parquet_reader_next(rd, &got, &err) == 0);
    if (!got.release) break;
    REQUIRE(otap_array_view_set(&rv, &got, OTAP_VALIDATE_FULL, &err) == 0);
    for (int64_t k = 0; k < got.length; k++, row++) {
      REQUIRE(row < rows);
      for (int col = 0; col < 6; col++) {
        REQUIRE(same(wv.children[col], wv.offset + row, rv.children[col], rv.offset + k));
      }
    }
    got.release(&got);
  }
  REQUIRE(row == rows);
  otap_array_view_reset(&wv);
  otap_array_view_reset(&rv);
  otap_parquet_reader_free(rd);
  otap_source_release(&src);
  otap_buffer_reset(&file);
  otap_array_release(&b);
  otap_schema_release(&s);
  return 0;
}
