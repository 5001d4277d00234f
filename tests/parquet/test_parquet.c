// Parquet reader tests: decoders with hand-made vectors, Thrift edge cases, codecs, and every
// Parquet file of ../shared/testdata/MANIFEST.md against its expectation code.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <dirent.h>
#include <lz4.h>
#include <math.h>
#include <snappy-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>
#include <brotli/encode.h>

#include "parquet/parquet_internal.h"
#include "pq_json_out.h"
#include "support/json.h"
#include "testutil.h"

#define PT "parquet-testing/data/"

// ---------------------------------------------------------------------------------------------
// Helpers

static int open_file(const char* rel, const struct otap_parquet_reader_options* opts,
                     struct otap_source* src, struct otap_parquet_reader** r, struct otap_error* err) {
  int rc = otap_source_open_file(src, otap_test_data_path(rel), err);
  if (rc) return rc;
  rc = otap_parquet_reader_open(r, src, opts, err);
  if (rc) otap_source_release(src);
  return rc;
}

/// Reads every batch of a file into a JSON array text (rows as objects).
static int read_json(const char* rel, const struct otap_parquet_reader_options* opts,
                     struct otap_buffer* out, int64_t* n_rows, struct otap_error* err) {
  struct otap_source src;
  struct otap_parquet_reader* r;
  int rc = open_file(rel, opts, &src, &r, err);
  if (rc) return rc;
  const struct ArrowSchema* s = otap_parquet_reader_schema(r);
  int64_t rows = 0;
  if (otap_buffer_append(out, "[", 1)) abort();
  for (;;) {
    struct ArrowArray a;
    rc = otap_parquet_reader_next(r, &a, err);
    if (rc || !a.release) break;
    for (int64_t i = 0; i < a.length; i++) {
      if (rows++ && otap_buffer_append(out, ",", 1)) abort();
      pq_test_json_row(out, s, &a, i);
    }
    a.release(&a);
  }
  if (otap_buffer_append(out, "]", 1)) abort();
  otap_parquet_reader_free(r);
  otap_source_release(&src);
  if (n_rows) *n_rows = rows;
  return rc;
}

static bool is_integral(const struct otap_test_json* v) {
  return v->type == OTAP_TEST_JSON_NUMBER && !strpbrk(v->text, ".eE");
}

static bool json_eq(const struct otap_test_json* e, const struct otap_test_json* g, char* where,
                    size_t wn) {
  enum otap_test_json_type et = e ? e->type : OTAP_TEST_JSON_NULL;
  enum otap_test_json_type gt = g ? g->type : OTAP_TEST_JSON_NULL;
  if (et != gt) {
    snprintf(where, wn, "type %s vs %s", otap_test_json_type_name(et), otap_test_json_type_name(gt));
    return false;
  }
  switch (et) {
    case OTAP_TEST_JSON_NULL: return true;
    case OTAP_TEST_JSON_BOOL: return e->boolean == g->boolean;
    case OTAP_TEST_JSON_STRING:
      if (e->text_len == g->text_len && memcmp(e->text, g->text, (size_t)e->text_len) == 0) return true;
      snprintf(where, wn, "'%s' vs '%s'", e->text, g->text);
      return false;
    case OTAP_TEST_JSON_NUMBER:
      if (is_integral(e) && is_integral(g)) {
        if (strcmp(e->text, g->text) == 0) return true;
      } else if (fabs(e->number - g->number) <= 1e-12 * fmax(1.0, fabs(e->number))) {
        return true;
      }
      snprintf(where, wn, "%s vs %s", e->text, g->text);
      return false;
    case OTAP_TEST_JSON_ARRAY:
      if (e->n_items != g->n_items) {
        snprintf(where, wn, "array of %lld vs %lld", (long long)e->n_items, (long long)g->n_items);
        return false;
      }
      for (int64_t i = 0; i < e->n_items; i++)
        if (!json_eq(&e->items[i], &g->items[i], where, wn)) return false;
      return true;
    case OTAP_TEST_JSON_OBJECT:
      // Absent keys mean null on either side.
      for (int64_t i = 0; i < e->n_items; i++)
        if (!json_eq(&e->items[i], otap_test_json_get(g, e->items[i].key), where, wn)) return false;
      for (int64_t i = 0; i < g->n_items; i++)
        if (!otap_test_json_get(e, g->items[i].key) && g->items[i].type != OTAP_TEST_JSON_NULL) {
          snprintf(where, wn, "unexpected key %s", g->items[i].key);
          return false;
        }
      return true;
  }
  return false;
}

static void check_expected_json(const char* parquet_rel, const char* json_rel, bool int96_micros) {
  struct otap_parquet_reader_options o;
  otap_parquet_reader_options_init(&o);
  if (int96_micros) o.int96_unit = OTAP_TIME_UNIT_MICRO;
  struct otap_error err = {{0}};
  struct otap_buffer got, want;
  otap_buffer_init(&got);
  otap_buffer_init(&want);
  int rc = read_json(parquet_rel, &o, &got, NULL, &err);
  if (rc) fail_msg("%s: %s", parquet_rel, err.message);
  assert_int_equal(otap_read_file(otap_test_data_path(json_rel), &want, &err), 0);
  struct otap_test_json *e = NULL, *g = NULL;
  assert_int_equal(otap_test_json_parse((const char*)want.data, (size_t)want.size, &e, &err), 0);
  if (otap_test_json_parse((const char*)got.data, (size_t)got.size, &g, &err))
    fail_msg("%s: our JSON does not parse: %s", parquet_rel, err.message);
  assert_int_equal(e->type, OTAP_TEST_JSON_ARRAY);
  assert_int_equal(e->n_items, g->n_items);
  for (int64_t i = 0; i < e->n_items; i++) {
    char where[256] = "";
    if (!json_eq(&e->items[i], &g->items[i], where, sizeof(where)))
      fail_msg("%s row %lld: %s", parquet_rel, (long long)i, where);
  }
  otap_test_json_free(e);
  otap_test_json_free(g);
  otap_buffer_reset(&got);
  otap_buffer_reset(&want);
}

/// Parses our JSON output of a file (array of rows).
static struct otap_test_json* read_rows(const char* rel, const struct otap_parquet_reader_options* o) {
  struct otap_error err = {{0}};
  struct otap_buffer got;
  otap_buffer_init(&got);
  if (read_json(rel, o, &got, NULL, &err)) fail_msg("%s: %s", rel, err.message);
  struct otap_test_json* g = NULL;
  assert_int_equal(otap_test_json_parse((const char*)got.data, (size_t)got.size, &g, &err), 0);
  otap_buffer_reset(&got);
  return g;
}

static const struct otap_test_json* cell(const struct otap_test_json* rows, int64_t row, const char* col) {
  assert_true(row < rows->n_items);
  return otap_test_json_get(&rows->items[row], col);
}

static void assert_cell_text(const struct otap_test_json* rows, int64_t row, const char* col, const char* text) {
  const struct otap_test_json* v = cell(rows, row, col);
  if (!text) {
    assert_true(!v || v->type == OTAP_TEST_JSON_NULL);
    return;
  }
  assert_non_null(v);
  assert_non_null(v->text);
  assert_string_equal(v->text, text);
}

// ---------------------------------------------------------------------------------------------
// Expected-content files

static void t_expected_json(void** state) {
  (void)state;
  static const char* names[] = {"alltypes_plain", "binary", "dict-page-offset-zero", "fixed_length_decimal",
                                "int32_decimal", "list_columns", "nullable.impala", "nulls.snappy",
                                "repeated_no_annotation", "single_nan"};
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
    char p[256], j[256];
    snprintf(p, sizeof(p), PT "%s.parquet", names[i]);
    snprintf(j, sizeof(j), "expected/" PT "%s.parquet.json", names[i]);
    check_expected_json(p, j, true);
  }
  check_expected_json("arrow-testing/data/parquet/generated_simple_numerics/blogs.parquet",
                      "arrow-testing/data/parquet/generated_simple_numerics/blogs.json", false);
}

// Minimal CSV reader: quoted fields, commas, no embedded newlines in these files.
static int csv_fields(char* line, char** f, int max) {
  int n = 0;
  char* p = line;
  while (*p && n < max) {
    char* out = p;
    f[n++] = out;
    if (*p == '"') {
      p++;
      for (;;) {
        if (*p == '"' && p[1] == '"') {
          *out++ = '"';
          p += 2;
        } else if (*p == '"') {
          p++;
          break;
        } else if (!*p) {
          break;
        } else {
          *out++ = *p++;
        }
      }
    } else {
      while (*p && *p != ',' && *p != '\n' && *p != '\r') *out++ = *p++;
    }
    char c = *p;
    *out = 0;
    if (c == ',') p++;
    else break;
  }
  return n;
}

static void check_csv(const char* parquet_rel, const char* csv_rel) {
  struct otap_test_json* rows = read_rows(parquet_rel, NULL);
  FILE* f = fopen(otap_test_data_path(csv_rel), "r");
  assert_non_null(f);
  static char line[1 << 16], hdr_line[1 << 16];
  char* hdr[128];
  char* val[128];
  assert_non_null(fgets(hdr_line, sizeof(hdr_line), f));
  int nh = csv_fields(hdr_line, hdr, 128);
  int64_t row = 0;
  while (fgets(line, sizeof(line), f)) {
    int nv = csv_fields(line, val, 128);
    assert_int_equal(nv, nh);
    for (int k = 0; k < nh; k++) {
      const char* name = hdr[k];
      while (*name == ' ') name++;  // header quirk: " c_customer_id"
      const struct otap_test_json* v = cell(rows, row, name);
      if (!v) v = cell(rows, row, hdr[k]);
      if (val[k][0] == 0) {
        if (v && v->type != OTAP_TEST_JSON_NULL) fail_msg("%s row %lld %s: want null, got %s", parquet_rel, (long long)row, name, v->text);
      } else {
        if (!v || !v->text || strcmp(v->text, val[k]) != 0)
          fail_msg("%s row %lld %s: want %s, got %s", parquet_rel, (long long)row, name, val[k], v && v->text ? v->text : "null");
      }
    }
    row++;
  }
  fclose(f);
  assert_int_equal(row, rows->n_items);
  otap_test_json_free(rows);
}

static void t_expected_csv(void** state) {
  (void)state;
  check_csv(PT "delta_binary_packed.parquet", PT "delta_binary_packed_expect.csv");
  check_csv(PT "delta_encoding_optional_column.parquet", PT "delta_encoding_optional_column_expect.csv");
}

static void t_quoted_values(void** state) {
  (void)state;
  struct otap_parquet_reader_options o;
  otap_parquet_reader_options_init(&o);
  o.int96_unit = OTAP_TIME_UNIT_MICRO;
  struct otap_test_json* r = read_rows(PT "int96_from_spark.parquet", &o);
  static const char* want96[] = {"1704141296123456", "1704070800000000", "253402225200000000",
                                 "1735599600000000", NULL, "9089380393200000000"};
  assert_int_equal(r->n_items, 6);
  for (int i = 0; i < 6; i++) assert_cell_text(r, i, "a", want96[i]);
  otap_test_json_free(r);

  // The LZ4 family: same 4 rows through LZ4_RAW and legacy LZ4 without Hadoop framing.
  const char* lz4[] = {PT "lz4_raw_compressed.parquet", PT "non_hadoop_lz4_compressed.parquet"};
  for (int k = 0; k < 2; k++) {
    r = read_rows(lz4[k], NULL);
    assert_int_equal(r->n_items, 4);
    assert_cell_text(r, 0, "c0", "1593604800");
    assert_cell_text(r, 3, "c0", "1593604801");
    assert_cell_text(r, 0, "c1", "0x616263");
    assert_cell_text(r, 1, "c1", "0x646566");
    assert_true(cell(r, 2, "v11")->number == 42.125);
    assert_true(cell(r, 1, "v11")->number == 7.7);
    otap_test_json_free(r);
  }
  r = read_rows(PT "hadoop_lz4_compressed_larger.parquet", NULL);
  assert_int_equal(r->n_items, 10000);
  assert_cell_text(r, 0, "a", "c7ce6bef-d5b0-4863-b199-8ea8c7fb117b");
  assert_cell_text(r, 1, "a", "e8fb9197-cb9f-4118-b67f-fbfa65f61843");
  assert_cell_text(r, 9998, "a", "ab52a0cc-c6bb-4d61-8a8f-166dc4b8b13c");
  assert_cell_text(r, 9999, "a", "85440778-460a-41ac-aa2e-ac3ee41696bf");
  otap_test_json_free(r);

  r = read_rows(PT "float16_nonzeros_and_nans.parquet", NULL);
  static const char* wantf16[] = {NULL, "1", "-2", "NaN", "0", "-1", "-0", "2"};
  assert_int_equal(r->n_items, 8);
  for (int i = 0; i < 8; i++) assert_cell_text(r, i, "x", wantf16[i]);
  otap_test_json_free(r);

  r = read_rows(PT "rle_boolean_encoding.parquet", NULL);
  assert_int_equal(r->n_items, 68);
  static const int nulls[] = {3, 16, 24, 39, 49, 61};
  for (int i = 0, k = 0; i < 68; i++) {
    const struct otap_test_json* v = cell(r, i, "datatype_boolean");
    bool is_null = k < 6 && nulls[k] == i + 1;
    if (is_null) k++;
    assert_int_equal(v->type, is_null ? OTAP_TEST_JSON_NULL : OTAP_TEST_JSON_BOOL);
  }
  static const int first8[] = {1, 0, -1, 1, 1, 0, 0, 1};
  for (int i = 0; i < 8; i++)
    if (first8[i] >= 0) assert_int_equal(cell(r, i, "datatype_boolean")->boolean, first8[i]);
  otap_test_json_free(r);

  r = read_rows(PT "null_list.parquet", NULL);
  assert_int_equal(r->n_items, 1);
  assert_int_equal(cell(r, 0, "emptylist")->type, OTAP_TEST_JSON_ARRAY);
  assert_int_equal(cell(r, 0, "emptylist")->n_items, 0);
  otap_test_json_free(r);

  r = read_rows(PT "old_list_structure.parquet", NULL);
  const struct otap_test_json* a = cell(r, 0, "a");
  assert_int_equal(a->n_items, 2);
  assert_string_equal(a->items[0].items[0].text, "1");
  assert_string_equal(a->items[0].items[1].text, "2");
  assert_string_equal(a->items[1].items[0].text, "3");
  assert_string_equal(a->items[1].items[1].text, "4");
  otap_test_json_free(r);

  r = read_rows(PT "byte_array_decimal.parquet", NULL);
  assert_int_equal(r->n_items, 24);
  for (int i = 0; i < 24; i++) {
    char want[16];
    snprintf(want, sizeof(want), "%d.00", i + 1);
    assert_cell_text(r, i, "value", want);
  }
  otap_test_json_free(r);

  r = read_rows(PT "fixed_length_byte_array.parquet", NULL);
  assert_int_equal(r->n_items, 1000);
  int64_t n_null = 0;
  for (int i = 0; i < 1000; i++) n_null += cell(r, i, "flba_field")->type == OTAP_TEST_JSON_NULL;
  assert_int_equal(n_null, 105);
  otap_test_json_free(r);

  r = read_rows(PT "int32_with_null_pages.parquet", NULL);
  assert_int_equal(r->n_items, 1000);
  n_null = 0;
  for (int i = 0; i < 1000; i++) n_null += cell(r, i, "int32_field")->type == OTAP_TEST_JSON_NULL;
  assert_int_equal(n_null, 275);
  otap_test_json_free(r);

  r = read_rows(PT "binary_truncated_min_max.parquet", NULL);
  assert_int_equal(r->n_items, 12);
  bool rocket = false, ffff = false;
  for (int i = 0; i < 12; i++) {
    for (int64_t k = 0; k < r->items[i].n_items; k++) {
      const struct otap_test_json* v = &r->items[i].items[k];
      if (v->text && strstr(v->text, "\xf0\x9f\x9a\x80Kevin Bacon")) rocket = true;
      if (v->text && strcmp(v->text, "0xffff0102") == 0) ffff = true;
    }
  }
  assert_true(rocket);
  assert_true(ffff);
  otap_test_json_free(r);

  // Shredded variant cases: the variant group reads as a nullable struct.
  r = read_rows("parquet-testing/shredded_variant/case-020.parquet", NULL);
  assert_string_equal(otap_test_json_get(cell(r, 0, "var"), "typed_value")->text, "1730982834123456");
  otap_test_json_free(r);
  r = read_rows("parquet-testing/shredded_variant/case-033.parquet", NULL);
  assert_string_equal(otap_test_json_get(cell(r, 0, "var"), "typed_value")->text, "1730982834123456789");
  otap_test_json_free(r);
  r = read_rows("parquet-testing/shredded_variant/case-035.parquet", NULL);
  assert_string_equal(otap_test_json_get(cell(r, 0, "var"), "typed_value")->text, "1730982834123456789");
  otap_test_json_free(r);
  r = read_rows("parquet-testing/shredded_variant/case-037.parquet", NULL);
  assert_string_equal(otap_test_json_get(cell(r, 0, "var"), "typed_value")->text,
                      "0xf24f9b6481fa49d1b74e8c09a6e31c56");
  otap_test_json_free(r);
  r = read_rows("parquet-testing/shredded_variant/case-001.parquet", NULL);
  const struct otap_test_json* tv = otap_test_json_get(cell(r, 0, "var"), "typed_value");
  assert_int_equal(tv->n_items, 2);
  assert_string_equal(otap_test_json_get(&tv->items[0], "typed_value")->text, "comedy");
  assert_string_equal(otap_test_json_get(&tv->items[1], "typed_value")->text, "drama");
  otap_test_json_free(r);
}

// Variant value bytes: metadata || value equals the .variant.bin file for case-001.
static void t_variant_bytes(void** state) {
  (void)state;
  struct otap_test_json* r = read_rows("parquet-testing/shredded_variant/case-020.parquet", NULL);
  const struct otap_test_json* var = cell(r, 0, "var");
  struct otap_buffer bin;
  otap_buffer_init(&bin);
  struct otap_error err;
  assert_int_equal(otap_read_file(otap_test_data_path("parquet-testing/shredded_variant/case-020_row-0.variant.bin"), &bin, &err), 0);
  const char* meta = otap_test_json_get(var, "metadata")->text;  // "0x..."
  char hex[64] = "0x";
  for (int64_t i = 0; i < bin.size && i < (int64_t)(strlen(meta) - 2) / 2; i++) snprintf(hex + 2 + 2 * i, 3, "%02x", bin.data[i]);
  assert_string_equal(meta, hex);
  otap_buffer_reset(&bin);
  otap_test_json_free(r);
}

// Twin equivalence: BYTE_STREAM_SPLIT columns equal their PLAIN twins.
static void t_byte_stream_split_twins(void** state) {
  (void)state;
  struct otap_test_json* r = read_rows(PT "byte_stream_split_extended.gzip.parquet", NULL);
  assert_int_equal(r->n_items, 200);
  int pairs = 0;
  const struct otap_test_json* row0 = &r->items[0];
  for (int64_t k = 0; k < row0->n_items; k++) {
    const char* name = row0->items[k].key;
    size_t nl = strlen(name);
    if (nl < 6 || strcmp(name + nl - 6, "_plain") != 0) continue;
    char twin[128];
    snprintf(twin, sizeof(twin), "%.*s_byte_stream_split", (int)(nl - 6), name);
    if (!otap_test_json_get(row0, twin)) continue;
    pairs++;
    for (int64_t i = 0; i < r->n_items; i++) {
      char where[256];
      if (!json_eq(otap_test_json_get(&r->items[i], name), otap_test_json_get(&r->items[i], twin), where, sizeof(where)))
        fail_msg("row %lld %s vs %s: %s", (long long)i, name, twin, where);
    }
  }
  assert_int_equal(pairs, 7);
  otap_test_json_free(r);
}

// The checksum pair: same values; CRC verification passes on one and fails on the other.
static void t_crc(void** state) {
  (void)state;
  struct otap_parquet_reader_options o;
  otap_parquet_reader_options_init(&o);
  o.verify_page_crc = true;
  struct otap_error err = {{0}};
  struct otap_buffer a, b;
  otap_buffer_init(&a);
  otap_buffer_init(&b);
  int64_t rows;
  assert_int_equal(read_json(PT "datapage_v1-uncompressed-checksum.parquet", &o, &a, &rows, &err), 0);
  assert_int_equal(rows, 5120);
  int rc = read_json(PT "datapage_v1-corrupt-checksum.parquet", &o, &b, NULL, &err);
  assert_int_equal(rc, EIO);
  assert_non_null(strstr(err.message, "CRC"));
  b.size = 0;
  assert_int_equal(read_json(PT "datapage_v1-corrupt-checksum.parquet", NULL, &b, &rows, &err), 0);
  assert_int_equal(rows, 5120);  // the corrupted pages hold different values, same layout
  // Every other file with page CRCs verifies.
  static const char* crc_ok[] = {PT "data_index_bloom_encoding_stats.parquet", PT "delta_length_byte_array.parquet",
                                 PT "fixed_length_byte_array.parquet", PT "hadoop_lz4_compressed_larger.parquet",
                                 PT "int32_with_null_pages.parquet", PT "int96_from_spark.parquet",
                                 PT "old_list_structure.parquet", PT "rle-dict-snappy-checksum.parquet",
                                 "parquet-testing/shredded_variant/case-001.parquet"};
  for (size_t i = 0; i < sizeof(crc_ok) / sizeof(crc_ok[0]); i++) {
    a.size = 0;
    if (read_json(crc_ok[i], &o, &a, NULL, &err)) fail_msg("%s: %s", crc_ok[i], err.message);
  }
  otap_buffer_reset(&a);
  otap_buffer_reset(&b);
}

// Every READ file of the manifest decodes with the row count of its footer.
static void t_read_all(void** state) {
  (void)state;
  static const struct {
    const char* rel;
    int64_t rows;
  } files[] = {
      {"arrow-testing/data/parquet/alltypes-java.parquet", 2},
      {PT "alltypes_plain.snappy.parquet", 2},
      {PT "alltypes_tiny_pages.parquet", 7300},
      {PT "column_chunk_key_value_metadata.parquet", 0},
      {PT "data_index_bloom_encoding_stats.parquet", 14},
      {PT "datapage_v2_empty_datapage.snappy.parquet", 1},
      {PT "delta_length_byte_array.parquet", 1000},
      {PT "geospatial/geospatial.parquet", 196},
      {PT "nested_maps.snappy.parquet", 6},
      {PT "nested_structs.rust.parquet", 1},
      {PT "rle-dict-snappy-checksum.parquet", 1000},
      {PT "unknown-logical-type.parquet", 3},
  };
  for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
    struct otap_buffer b;
    otap_buffer_init(&b);
    struct otap_error err = {{0}};
    int64_t rows = -1;
    if (read_json(files[i].rel, NULL, &b, &rows, &err)) fail_msg("%s: %s", files[i].rel, err.message);
    assert_int_equal(rows, files[i].rows);
    otap_buffer_reset(&b);
  }
}

static void t_reject(void** state) {
  (void)state;
  static const char* files[] = {
      "parquet-testing/bad_data/ARROW-GH-41321.parquet", "parquet-testing/bad_data/ARROW-GH-45185.parquet",
      "parquet-testing/bad_data/ARROW-RS-GH-6229-DICTHEADER.parquet", "parquet-testing/bad_data/PARQUET-1481.parquet",
      PT "nation.dict-malformed.parquet", PT "uniform_encryption.parquet.encrypted",
      PT "encrypt_columns_plaintext_footer.parquet.encrypted",
      // READ-OPT: a clean resource-limit error (1 GiB pages) is the accepted outcome.
      PT "large_string_map.brotli.parquet",
  };
  for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
    struct otap_buffer b;
    otap_buffer_init(&b);
    struct otap_error err = {{0}};
    int rc = read_json(files[i], NULL, &b, NULL, &err);
    if (rc == 0) fail_msg("%s: read succeeded, must be rejected", files[i]);
    assert_true(rc == EINVAL || rc == ENOTSUP || rc == EIO);
    assert_true(strlen(err.message) > 0);
    otap_buffer_reset(&b);
  }
  // After a failed batch the reader keeps failing (no silent end of data).
  {
    struct otap_source src;
    struct otap_parquet_reader* r;
    struct otap_error e2;
    assert_int_equal(open_file(PT "nation.dict-malformed.parquet", NULL, &src, &r, &e2), 0);
    struct ArrowArray a;
    int rc1 = otap_parquet_reader_next(r, &a, &e2);
    assert_int_not_equal(rc1, 0);
    assert_null(a.release);
    assert_int_equal(otap_parquet_reader_next(r, &a, &e2), rc1);
    assert_null(a.release);
    otap_parquet_reader_free(r);
    otap_source_release(&src);
  }
  struct otap_buffer b;
  otap_buffer_init(&b);
  struct otap_error err;
  assert_int_equal(read_json(PT "uniform_encryption.parquet.encrypted", NULL, &b, NULL, &err), ENOTSUP);
  assert_non_null(strstr(err.message, "encrypt"));
  otap_buffer_reset(&b);
}

// ---------------------------------------------------------------------------------------------
// Reader features: schema, batches, projection, row groups, dictionaries, page index, stats

static void t_schema_types(void** state) {
  (void)state;
  struct otap_source src;
  struct otap_parquet_reader* r;
  struct otap_error err;
  assert_int_equal(open_file("arrow-testing/data/parquet/alltypes-java.parquet", NULL, &src, &r, &err), 0);
  const struct ArrowSchema* s = otap_parquet_reader_schema(r);
  int found = 0;
  for (int64_t i = 0; i < s->n_children; i++) {
    const struct ArrowSchema* c = s->children[i];
    if (strcmp(c->name, "Utf8") == 0 || strcmp(c->name, "utf8") == 0) assert_string_equal(c->format, "u"), found++;
    if (strcmp(c->name, "UInt8") == 0 || strcmp(c->name, "uint8") == 0) assert_string_equal(c->format, "C"), found++;
    if (strcmp(c->name, "UInt16") == 0 || strcmp(c->name, "uint16") == 0) assert_string_equal(c->format, "S"), found++;
    if (strcmp(c->name, "UInt32") == 0 || strcmp(c->name, "uint32") == 0) assert_string_equal(c->format, "I"), found++;
    if (strcmp(c->name, "UInt64") == 0 || strcmp(c->name, "uint64") == 0) assert_string_equal(c->format, "L"), found++;
    if (strcmp(c->name, "Date") == 0 || strcmp(c->name, "date") == 0) assert_string_equal(c->format, "tdD"), found++;
  }
  assert_true(found >= 1);
  otap_parquet_reader_free(r);
  otap_source_release(&src);

  assert_int_equal(open_file("parquet-testing/shredded_variant/case-033.parquet", NULL, &src, &r, &err), 0);
  s = otap_parquet_reader_schema(r);
  assert_string_equal(s->children[1]->format, "+s");
  assert_true(s->children[1]->flags & ARROW_FLAG_NULLABLE);
  const struct ArrowSchema* tv = s->children[1]->children[2];
  assert_string_equal(tv->format, "tsn:UTC");
  otap_parquet_reader_free(r);
  otap_source_release(&src);

  assert_int_equal(open_file(PT "fixed_length_decimal.parquet", NULL, &src, &r, &err), 0);
  assert_string_equal(otap_parquet_reader_schema(r)->children[0]->format, "d:25,2");
  otap_parquet_reader_free(r);
  otap_source_release(&src);

  assert_int_equal(open_file(PT "nested_maps.snappy.parquet", NULL, &src, &r, &err), 0);
  s = otap_parquet_reader_schema(r);
  assert_string_equal(s->children[0]->format, "+m");
  assert_string_equal(s->children[0]->children[0]->children[1]->format, "+m");
  otap_parquet_reader_free(r);
  otap_source_release(&src);
}

static void t_batches_projection(void** state) {
  (void)state;
  struct otap_error err = {{0}};
  struct otap_buffer full, part;
  otap_buffer_init(&full);
  otap_buffer_init(&part);
  assert_int_equal(read_json(PT "alltypes_tiny_pages.parquet", NULL, &full, NULL, &err), 0);
  struct otap_parquet_reader_options o;
  otap_parquet_reader_options_init(&o);
  o.batch_size = 333;
  assert_int_equal(read_json(PT "alltypes_tiny_pages.parquet", &o, &part, NULL, &err), 0);
  assert_int_equal(full.size, part.size);
  assert_memory_equal(full.data, part.data, (size_t)full.size);

  // Batch sizes never exceed the request.
  struct otap_source src;
  struct otap_parquet_reader* r;
  assert_int_equal(open_file(PT "alltypes_tiny_pages.parquet", &o, &src, &r, &err), 0);
  int64_t total = 0, n = 0;
  for (;;) {
    struct ArrowArray a;
    assert_int_equal(otap_parquet_reader_next(r, &a, &err), 0);
    if (!a.release) break;
    assert_true(a.length <= 333 && a.length > 0);
    total += a.length;
    n++;
    a.release(&a);
  }
  assert_int_equal(total, 7300);
  assert_int_equal(n, (7300 + 332) / 333);
  otap_parquet_reader_free(r);
  otap_source_release(&src);

  // Projection by name keeps the requested columns in file order.
  const char* cols[] = {"string_col", "id"};
  otap_parquet_reader_options_init(&o);
  o.columns = cols;
  o.n_columns = 2;
  assert_int_equal(open_file(PT "alltypes_plain.parquet", &o, &src, &r, &err), 0);
  const struct ArrowSchema* s = otap_parquet_reader_schema(r);
  assert_int_equal(s->n_children, 2);
  assert_string_equal(s->children[0]->name, "id");
  assert_string_equal(s->children[1]->name, "string_col");
  otap_parquet_reader_free(r);
  otap_source_release(&src);
  const char* bad[] = {"nope"};
  o.columns = bad;
  o.n_columns = 1;
  assert_int_equal(open_file(PT "alltypes_plain.parquet", &o, &src, &r, &err), ENOENT);

  // Struct field paths keep only the selected children.
  const char* paths[] = {"reply.next_id", "blog_id"};
  otap_parquet_reader_options_init(&o);
  o.columns = paths;
  o.n_columns = 2;
  assert_int_equal(open_file("arrow-testing/data/parquet/generated_simple_numerics/blogs.parquet", &o, &src, &r, &err), 0);
  s = otap_parquet_reader_schema(r);
  assert_int_equal(s->n_children, 2);
  assert_string_equal(s->children[0]->name, "reply");
  assert_int_equal(s->children[0]->n_children, 1);
  assert_string_equal(s->children[0]->children[0]->name, "next_id");
  otap_parquet_reader_free(r);
  otap_source_release(&src);
  {
    struct otap_test_json* part_rows = read_rows("arrow-testing/data/parquet/generated_simple_numerics/blogs.parquet", &o);
    struct otap_test_json* all_rows = read_rows("arrow-testing/data/parquet/generated_simple_numerics/blogs.parquet", NULL);
    assert_int_equal(part_rows->n_items, all_rows->n_items);
    for (int64_t i = 0; i < all_rows->n_items; i++) {
      const struct otap_test_json* fr = cell(all_rows, i, "reply");
      const struct otap_test_json* pr = cell(part_rows, i, "reply");
      char where[256];
      assert_int_equal(fr->type, pr->type);
      if (fr->type == OTAP_TEST_JSON_OBJECT)
        assert_true(json_eq(otap_test_json_get(fr, "next_id"), otap_test_json_get(pr, "next_id"), where, sizeof(where)));
      assert_true(json_eq(cell(all_rows, i, "blog_id"), cell(part_rows, i, "blog_id"), where, sizeof(where)));
    }
    otap_test_json_free(part_rows);
    otap_test_json_free(all_rows);
  }
  const char* badpath[] = {"reply.nope"};
  o.columns = badpath;
  o.n_columns = 1;
  assert_int_equal(open_file("arrow-testing/data/parquet/generated_simple_numerics/blogs.parquet", &o, &src, &r, &err), ENOENT);

  // Row-group selection.
  int32_t groups[] = {30, 0};
  otap_parquet_reader_options_init(&o);
  o.row_groups = groups;
  o.n_row_groups = 2;
  assert_int_equal(open_file(PT "geospatial/geospatial.parquet", &o, &src, &r, &err), 0);
  const struct otap_parquet_file_metadata* m = otap_parquet_reader_metadata(r);
  assert_int_equal(m->n_row_groups, 31);
  int64_t want = m->row_groups[30].num_rows + m->row_groups[0].num_rows;
  total = 0;
  for (;;) {
    struct ArrowArray a;
    assert_int_equal(otap_parquet_reader_next(r, &a, &err), 0);
    if (!a.release) break;
    total += a.length;
    a.release(&a);
  }
  assert_int_equal(total, want);
  otap_parquet_reader_free(r);
  otap_source_release(&src);
  groups[0] = 31;
  assert_int_equal(open_file(PT "geospatial/geospatial.parquet", &o, &src, &r, &err), EINVAL);
  otap_buffer_reset(&full);
  otap_buffer_reset(&part);
}

static void t_dictionary_output(void** state) {
  (void)state;
  struct otap_parquet_reader_options o;
  otap_parquet_reader_options_init(&o);
  o.dictionary_as_arrow_dictionary = true;
  o.int96_unit = OTAP_TIME_UNIT_MICRO;
  struct otap_source src;
  struct otap_parquet_reader* r;
  struct otap_error err;
  assert_int_equal(open_file(PT "rle-dict-snappy-checksum.parquet", &o, &src, &r, &err), 0);
  const struct ArrowSchema* s = otap_parquet_reader_schema(r);
  assert_non_null(s->children[1]->dictionary);
  assert_string_equal(s->children[1]->format, "i");
  struct ArrowArray a;
  assert_int_equal(otap_parquet_reader_next(r, &a, &err), 0);
  assert_non_null(a.children[1]->dictionary);
  assert_true(a.children[1]->dictionary->length < a.length);  // not materialized
  a.release(&a);
  otap_parquet_reader_free(r);
  otap_source_release(&src);
  // Values equal the materialized read, for dictionary and fallback-to-plain chunks.
  static const char* files[] = {PT "rle-dict-snappy-checksum.parquet", PT "alltypes_plain.parquet",
                                PT "alltypes_tiny_pages.parquet", PT "delta_encoding_optional_column.parquet"};
  for (size_t i = 0; i < 4; i++) {
    struct otap_buffer x, y;
    otap_buffer_init(&x);
    otap_buffer_init(&y);
    struct otap_parquet_reader_options p;
    otap_parquet_reader_options_init(&p);
    p.int96_unit = OTAP_TIME_UNIT_MICRO;
    assert_int_equal(read_json(files[i], &o, &x, NULL, &err), 0);
    assert_int_equal(read_json(files[i], &p, &y, NULL, &err), 0);
    assert_int_equal(x.size, y.size);
    assert_memory_equal(x.data, y.data, (size_t)x.size);
    otap_buffer_reset(&x);
    otap_buffer_reset(&y);
  }
}

static void t_metadata_and_page_index(void** state) {
  (void)state;
  struct otap_source src;
  struct otap_parquet_reader* r;
  struct otap_error err;
  assert_int_equal(open_file(PT "int32_with_null_pages.parquet", NULL, &src, &r, &err), 0);
  const struct otap_parquet_file_metadata* m = otap_parquet_reader_metadata(r);
  assert_int_equal(m->num_rows, 1000);
  const struct otap_parquet_column_chunk* cc = &m->row_groups[0].columns[0];
  assert_true(cc->has_statistics);
  assert_true(cc->statistics.has_null_count);
  assert_int_equal(cc->statistics.null_count, 275);
  struct otap_parquet_offset_index oi;
  struct otap_parquet_column_index ci;
  assert_int_equal(otap_parquet_reader_offset_index(r, 0, 0, &oi, &err), 0);
  assert_int_equal(oi.n_pages, 10);
  assert_int_equal(oi.pages[0].first_row_index, 0);
  for (int32_t i = 1; i < oi.n_pages; i++) assert_true(oi.pages[i].first_row_index > oi.pages[i - 1].first_row_index);
  assert_int_equal(otap_parquet_reader_column_index(r, 0, 0, &ci, &err), 0);
  assert_int_equal(ci.n_pages, 10);
  assert_true(ci.null_pages[2]);  // the third page is entirely null
  assert_int_equal(ci.null_counts[2], 100);
  int64_t nulls = 0;
  for (int32_t i = 0; i < ci.n_pages; i++) nulls += ci.null_counts[i];
  assert_int_equal(nulls, 275);
  otap_parquet_offset_index_reset(&oi);
  otap_parquet_column_index_reset(&ci);
  otap_parquet_reader_free(r);
  otap_source_release(&src);

  assert_int_equal(open_file(PT "fixed_length_byte_array.parquet", NULL, &src, &r, &err), 0);
  assert_int_equal(otap_parquet_reader_column_index(r, 0, 0, &ci, &err), 0);
  assert_int_equal(ci.boundary_order, 2);  // DESCENDING
  otap_parquet_column_index_reset(&ci);
  otap_parquet_reader_free(r);
  otap_source_release(&src);

  assert_int_equal(open_file(PT "alltypes_plain.parquet", NULL, &src, &r, &err), 0);
  assert_int_equal(otap_parquet_reader_offset_index(r, 0, 0, &oi, &err), ENOENT);
  m = otap_parquet_reader_metadata(r);
  assert_int_equal(m->row_groups[0].columns[0].codec, OTAP_PARQUET_CODEC_UNCOMPRESSED);
  assert_string_equal(otap_parquet_physical_type_name(m->row_groups[0].columns[10].type), "INT96");
  otap_parquet_reader_free(r);
  otap_source_release(&src);

  assert_int_equal(open_file(PT "column_chunk_key_value_metadata.parquet", NULL, &src, &r, &err), 0);
  m = otap_parquet_reader_metadata(r);
  const struct otap_parquet_column_chunk* c0 = &m->row_groups[0].columns[0];
  assert_int_equal(c0->n_key_value, 2);
  assert_string_equal(c0->key_value[0].key, "foo");
  assert_string_equal(c0->key_value[0].value, "bar");
  assert_string_equal(c0->key_value[1].key, "thisiskeywithoutvalue");
  assert_null(c0->key_value[1].value);
  otap_parquet_reader_free(r);
  otap_source_release(&src);

  assert_int_equal(open_file(PT "repeated_no_annotation.parquet", NULL, &src, &r, &err), 0);
  assert_int_equal(otap_parquet_reader_metadata(r)->num_rows, 0);  // footer quirk
  otap_parquet_reader_free(r);
  otap_source_release(&src);
}

static int read_batches(const char* rel, const struct otap_parquet_reader_options* o, struct otap_error* err);

// Every batch the reader makes passes the arrow module's full validation (UTF-8, offsets,
// dictionary indices, children lengths).
static void t_full_validation(void** state) {
  (void)state;
  static const char* files[] = {PT "nullable.impala.parquet", PT "nested_maps.snappy.parquet",
                                PT "alltypes_tiny_pages.parquet", PT "delta_encoding_optional_column.parquet",
                                PT "rle-dict-snappy-checksum.parquet", PT "byte_stream_split_extended.gzip.parquet",
                                PT "list_columns.parquet", "arrow-testing/data/parquet/alltypes-java.parquet",
                                "parquet-testing/shredded_variant/case-001.parquet", PT "old_list_structure.parquet",
                                PT "repeated_no_annotation.parquet", PT "fixed_length_decimal.parquet"};
  for (int dict = 0; dict < 2; dict++) {
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
      struct otap_parquet_reader_options o;
      otap_parquet_reader_options_init(&o);
      o.validation = OTAP_VALIDATE_FULL;
      o.batch_size = 97;
      o.dictionary_as_arrow_dictionary = dict;
      struct otap_error err = {{0}};
      if (read_batches(files[i], &o, &err)) fail_msg("%s: %s", files[i], err.message);
    }
  }
}

// A source without view_at (as an object store's ranged reads): every byte comes through
// read_at, once per column chunk, and the values equal the mapped read.
struct counting_source {
  struct otap_source inner;
  int64_t reads;
  int64_t bytes;
};
static int cs_read_at(struct otap_source* self, uint64_t off, void* buf, size_t len, struct otap_error* err) {
  struct counting_source* c = self->private_data;
  c->reads++;
  c->bytes += (int64_t)len;
  return c->inner.read_at(&c->inner, off, buf, len, err);
}
static int cs_size(struct otap_source* self, uint64_t* out, struct otap_error* err) {
  struct counting_source* c = self->private_data;
  return c->inner.size(&c->inner, out, err);
}

static void t_read_at_source(void** state) {
  (void)state;
  static const char* files[] = {PT "alltypes_tiny_pages.parquet", PT "nested_maps.snappy.parquet",
                                PT "delta_length_byte_array.parquet"};
  for (size_t f = 0; f < 3; f++) {
    struct counting_source cs;
    memset(&cs, 0, sizeof(cs));
    struct otap_error err;
    assert_int_equal(otap_source_open_file(&cs.inner, otap_test_data_path(files[f]), &err), 0);
    struct otap_source src;
    memset(&src, 0, sizeof(src));
    src.read_at = cs_read_at;
    src.size = cs_size;
    src.name = "ranged";
    src.private_data = &cs;
    struct otap_parquet_reader* r;
    assert_int_equal(otap_parquet_reader_open(&r, &src, NULL, &err), 0);
    const struct otap_parquet_file_metadata* m = otap_parquet_reader_metadata(r);
    int64_t chunks = 0;
    for (int32_t g = 0; g < m->n_row_groups; g++) chunks += m->row_groups[g].n_columns;
    struct otap_buffer got, want;
    otap_buffer_init(&got);
    otap_buffer_init(&want);
    const struct ArrowSchema* s = otap_parquet_reader_schema(r);
    for (int64_t rows = 0;;) {
      struct ArrowArray a;
      assert_int_equal(otap_parquet_reader_next(r, &a, &err), 0);
      if (!a.release) break;
      for (int64_t i = 0; i < a.length; i++) {
        if (rows++ && otap_buffer_append(&got, ",", 1)) abort();
        pq_test_json_row(&got, s, &a, i);
      }
      a.release(&a);
    }
    // Footer: tail + head + footer reads; then one read per column chunk.
    assert_true(cs.reads <= 3 + chunks);
    otap_parquet_reader_free(r);
    otap_source_release(&cs.inner);
    int64_t n;
    assert_int_equal(read_json(files[f], NULL, &want, &n, &err), 0);
    // read_json wraps rows in [ ]: compare the inside.
    assert_int_equal(want.size, got.size + 2);
    assert_memory_equal(want.data + 1, got.data, (size_t)got.size);
    otap_buffer_reset(&got);
    otap_buffer_reset(&want);
  }
}

// Batches stay valid after the reader is freed (their buffers leave the reader's pool).
static void t_arrays_outlive_reader(void** state) {
  (void)state;
  struct otap_parquet_reader_options o;
  otap_parquet_reader_options_init(&o);
  o.batch_size = 1000;
  o.dictionary_as_arrow_dictionary = true;
  struct otap_source src;
  struct otap_parquet_reader* r;
  struct otap_error err;
  assert_int_equal(open_file(PT "alltypes_tiny_pages.parquet", &o, &src, &r, &err), 0);
  struct ArrowSchema schema;
  assert_int_equal(otap__pq_schema_copy(otap_parquet_reader_schema(r), &schema), 0);
  struct ArrowArray batches[8];
  int n = 0;
  for (; n < 8; n++) {
    assert_int_equal(otap_parquet_reader_next(r, &batches[n], &err), 0);
    if (!batches[n].release) break;
    if (n == 2) batches[n].release(&batches[n]);  // one goes back to the pool early
  }
  otap_parquet_reader_free(r);
  otap_source_release(&src);
  struct otap_buffer out;
  otap_buffer_init(&out);
  for (int i = 0; i < n; i++) {
    if (!batches[i].release) continue;
    out.size = 0;
    pq_test_json_row(&out, &schema, &batches[i], batches[i].length - 1);
    assert_true(out.size > 10);
    batches[i].release(&batches[i]);
  }
  otap_buffer_reset(&out);
  schema.release(&schema);
}

static void t_stream(void** state) {
  (void)state;
  struct ArrowArrayStream st;
  struct otap_error err;
  assert_int_equal(otap_parquet_open_stream(otap_test_data_path(PT "list_columns.parquet"), NULL, &st, &err), 0);
  struct ArrowSchema s;
  assert_int_equal(st.get_schema(&st, &s), 0);
  assert_string_equal(s.format, "+s");
  assert_int_equal(s.n_children, 2);
  assert_string_equal(s.children[0]->format, "+l");
  struct ArrowArray a;
  assert_int_equal(st.get_next(&st, &a), 0);
  assert_int_equal(a.length, 3);
  a.release(&a);
  assert_int_equal(st.get_next(&st, &a), 0);
  assert_null(a.release);
  s.release(&s);
  st.release(&st);
  assert_int_equal(otap_parquet_open_stream("/nonexistent.parquet", NULL, &st, &err), ENOENT);
}

// Allocation failures at every point leave nothing behind.
static int read_batches(const char* rel, const struct otap_parquet_reader_options* o, struct otap_error* err) {
  struct otap_source src;
  struct otap_parquet_reader* r;
  int rc = open_file(rel, o, &src, &r, err);
  if (rc) return rc;
  for (;;) {
    struct ArrowArray a;
    rc = otap_parquet_reader_next(r, &a, err);
    if (rc || !a.release) break;
    a.release(&a);
  }
  otap_parquet_reader_free(r);
  otap_source_release(&src);
  return rc;
}

static void t_alloc_failures(void** state) {
  (void)state;
  static const char* files[] = {PT "nullable.impala.parquet", PT "rle-dict-snappy-checksum.parquet"};
  for (int f = 0; f < 2; f++) {
    struct otap_parquet_reader_options o;
    otap_parquet_reader_options_init(&o);
    o.dictionary_as_arrow_dictionary = f == 1;
    o.batch_size = 100;
    bool done = false;
    for (long n = 0; n < 2000 && !done; n++) {
      long live = otap_test_live_allocations();
      otap_test_fail_alloc_after(n);
      struct otap_error err;
      int rc = read_batches(files[f], &o, &err);
      otap_test_fail_alloc_after(-1);
      assert_int_equal(otap_test_live_allocations(), live);
      if (rc == 0) done = true;
      else assert_int_equal(rc, ENOMEM);
    }
    assert_true(done);
  }
}

// ---------------------------------------------------------------------------------------------
// Decoder unit tests with hand-made vectors

static void t_rle_hybrid(void** state) {
  (void)state;
  struct otap_error err;
  uint32_t out[64];
  // RLE run: 10 x value 5 at width 3; then bit-packed group of 8 values 0..7.
  const uint8_t data[] = {10 << 1, 5, (1 << 1) | 1, 0x88, 0xc6, 0xfa};
  struct pq_rle r;
  otap__pq_rle_init(&r, data, sizeof(data), 3);
  assert_int_equal(otap__pq_rle_get(&r, out, 18, &err), 0);
  for (int i = 0; i < 10; i++) assert_int_equal(out[i], 5);
  for (int i = 0; i < 8; i++) assert_int_equal(out[10 + i], (uint32_t)i);
  otap__pq_rle_init(&r, data, sizeof(data), 3);
  assert_int_equal(otap__pq_rle_get(&r, out, 19, &err), EINVAL);  // runs out
  // RLE value wider than the bit width.
  const uint8_t wide[] = {2 << 1, 9};
  otap__pq_rle_init(&r, wide, sizeof(wide), 3);
  assert_int_equal(otap__pq_rle_get(&r, out, 2, &err), EINVAL);
  // Every bit width 0..32 round-trips a bit-packed group.
  for (int bw = 0; bw <= 32; bw++) {
    uint8_t buf[1 + 4 * 32];
    memset(buf, 0, sizeof(buf));
    buf[0] = (4 << 1) | 1;  // 4 groups = 32 values
    uint32_t want[32];
    uint64_t bit = 0;
    for (int i = 0; i < 32; i++) {
      uint64_t mask = bw == 32 ? 0xffffffffu : ((1ull << bw) - 1);
      want[i] = (uint32_t)((0x9e3779b97f4a7c15ull * (uint64_t)(i + 1)) >> 17) & (uint32_t)mask;
      for (int k = 0; k < bw; k++, bit++)
        if ((want[i] >> k) & 1) buf[1 + (bit >> 3)] |= (uint8_t)(1 << (bit & 7));
    }
    otap__pq_rle_init(&r, buf, 1 + (size_t)(4 * bw), bw);
    assert_int_equal(otap__pq_rle_get(&r, out, 32, &err), 0);
    assert_memory_equal(out, want, sizeof(want));
  }
  int16_t lv[4];
  const uint8_t lvl[] = {4 << 1, 3};
  otap__pq_rle_init(&r, lvl, sizeof(lvl), 2);
  assert_int_equal(otap__pq_rle_get_levels(&r, lv, 4, 2, NULL, &err), EINVAL);  // 3 > max 2
  // Levels at the maximum are counted: RLE run of 3 x 2, then bit-packed 2,0,1,2,2,0,0,0.
  const uint8_t lv2[] = {3 << 1, 2, (1 << 1) | 1, 0x92, 0x02};
  int16_t lvs[11];
  int64_t at_max = -1;
  otap__pq_rle_init(&r, lv2, sizeof(lv2), 2);
  assert_int_equal(otap__pq_rle_get_levels(&r, lvs, 11, 2, &at_max, &err), 0);
  assert_int_equal(at_max, 6);
  assert_int_equal(lvs[3], 2);
  assert_int_equal(lvs[5], 1);
  // Deprecated BIT_PACKED levels are MSB-first: 0b10 01 11 00 -> 2,1,3,0.
  const uint8_t bp[] = {0x9c};
  size_t used;
  assert_int_equal(otap__pq_bitpacked_levels(bp, 1, 2, lv, 4, 3, &used, &err), 0);
  assert_int_equal(lv[0], 2);
  assert_int_equal(lv[1], 1);
  assert_int_equal(lv[2], 3);
  assert_int_equal(lv[3], 0);
  assert_int_equal(used, 1);
}

// Writes a DELTA_BINARY_PACKED stream (block 128, 4 miniblocks) for tests.
static size_t put_uvarint(uint8_t* p, uint64_t v) {
  size_t n = 0;
  while (v >= 0x80) {
    p[n++] = (uint8_t)(v | 0x80);
    v >>= 7;
  }
  p[n++] = (uint8_t)v;
  return n;
}
static size_t delta_encode_bm(const int64_t* v, int64_t n, uint8_t* out, bool is32, int block, int minis) {
  size_t p = 0;
  int per = block / minis;
  p += put_uvarint(out + p, (uint64_t)block);
  p += put_uvarint(out + p, (uint64_t)minis);
  p += put_uvarint(out + p, (uint64_t)n);
  p += put_uvarint(out + p, ((uint64_t)v[0] << 1) ^ (uint64_t)(v[0] >> 63));
  static uint64_t d[1024];
  for (int64_t b = 1; b < n; b += block) {
    int64_t cnt = n - b < block ? n - b : block;
    int64_t min_delta = INT64_MAX;
    for (int64_t i = 0; i < cnt; i++) {
      int64_t delta = (int64_t)((uint64_t)v[b + i] - (uint64_t)v[b + i - 1]);
      if (is32) delta = (int32_t)(uint32_t)((uint32_t)v[b + i] - (uint32_t)v[b + i - 1]);
      if (delta < min_delta) min_delta = delta;
    }
    for (int64_t i = 0; i < cnt; i++) {
      d[i] = (uint64_t)v[b + i] - (uint64_t)v[b + i - 1] - (uint64_t)min_delta;
      if (is32) d[i] = (uint32_t)((uint32_t)v[b + i] - (uint32_t)v[b + i - 1] - (uint32_t)min_delta);
    }
    p += put_uvarint(out + p, ((uint64_t)min_delta << 1) ^ (uint64_t)(min_delta >> 63));
    uint8_t* widths = out + p;
    p += (size_t)minis;
    for (int m = 0; m < minis; m++) {
      int64_t s0 = (int64_t)m * per;
      int bw = 0;
      if (s0 < cnt) {
        for (int64_t i = s0; i < s0 + per && i < cnt; i++)
          while (bw < 64 && (d[i] >> bw) != 0) bw++;
      }
      widths[m] = (uint8_t)bw;
      if (s0 >= cnt) continue;
      memset(out + p, 0, (size_t)(per * bw / 8));
      uint64_t bit = 0;
      for (int64_t i = s0; i < s0 + per; i++) {
        uint64_t x = i < cnt ? d[i] : 0;
        for (int k = 0; k < bw; k++, bit++)
          if ((x >> k) & 1) out[p + (bit >> 3)] |= (uint8_t)(1 << (bit & 7));
      }
      p += (size_t)(per * bw / 8);
    }
  }
  return p;
}

static size_t delta_encode32(const int64_t* v, int64_t n, uint8_t* out, bool is32) {
  return delta_encode_bm(v, n, out, is32, 128, 4);
}

static size_t delta_encode(const int64_t* v, int64_t n, uint8_t* out) {
  return delta_encode32(v, n, out, false);
}

static void t_delta_binary(void** state) {
  (void)state;
  struct otap_error err;
  static uint8_t buf[1 << 16];
  static int64_t v[300], got[300];
  // Mixed: negative deltas, extremes (wrapping), constant runs.
  for (int i = 0; i < 300; i++) v[i] = (i % 7 == 0) ? INT64_MIN + i : (i % 5 == 0 ? INT64_MAX - i : -(int64_t)i * 1000);
  size_t n = delta_encode(v, 300, buf);
  size_t used;
  assert_int_equal(otap__pq_delta_binary_decode(buf, n, got, 300, false, &used, &err), 0);
  assert_memory_equal(got, v, sizeof(v));
  assert_int_equal(used, n);
  // Fewer values than asked: EINVAL. Truncated: EINVAL.
  assert_int_equal(otap__pq_delta_binary_decode(buf, n, got, 301, false, &used, &err), EINVAL);
  assert_int_equal(otap__pq_delta_binary_decode(buf, n / 2, got, 300, false, &used, &err), EINVAL);
  // Single value, and bit width 0 everywhere (constant).
  for (int i = 0; i < 200; i++) v[i] = 42;
  n = delta_encode(v, 200, buf);
  assert_int_equal(otap__pq_delta_binary_decode(buf, n, got, 200, false, &used, &err), 0);
  for (int i = 0; i < 200; i++) assert_int_equal(got[i], 42);
  n = delta_encode(v, 1, buf);
  assert_int_equal(otap__pq_delta_binary_decode(buf, n, got, 1, false, &used, &err), 0);
  assert_int_equal(got[0], 42);
  // int32 wraps at 32 bits.
  for (int i = 0; i < 100; i++) v[i] = (int32_t)(0x7fffffceu + (uint32_t)i * 7u);
  n = delta_encode32(v, 100, buf, true);
  assert_int_equal(otap__pq_delta_binary_decode(buf, n, got, 100, true, &used, &err), 0);
  for (int i = 0; i < 100; i++) assert_int_equal(got[i], v[i]);
  // A header announcing 2^31-1 values over bit-width-0 blocks: asking for 1 value returns at
  // once; the skipped blocks still have to be present (no hang, no huge loop).
  const uint8_t huge[] = {0x80, 0x08, 4, 0xfe, 0xff, 0xff, 0xff, 0x07, 0, 0, 0, 0, 0, 0};
  assert_int_equal(otap__pq_delta_binary_decode(huge, sizeof(huge), got, 1, false, &used, &err), EINVAL);
  // Other block / miniblock layouts: 256 x 8 (32 per miniblock), 128 x 1, 1024 x 8 (128 per).
  static const int layouts[][2] = {{256, 8}, {128, 1}, {1024, 8}, {128, 2}};
  for (int l = 0; l < 4; l++) {
    for (int i = 0; i < 300; i++) v[i] = (int64_t)((uint64_t)i * 0x9e3779b97f4a7c15ull >> (i % 64));
    n = delta_encode_bm(v, 300, buf, false, layouts[l][0], layouts[l][1]);
    assert_int_equal(otap__pq_delta_binary_decode(buf, n, got, 300, false, &used, &err), 0);
    assert_memory_equal(got, v, 300 * sizeof(int64_t));
    assert_int_equal(used, n);
  }
  // Bad headers: block size not a multiple of 128, miniblock count not dividing.
  const uint8_t bad1[] = {100, 4, 1, 0};
  assert_int_equal(otap__pq_delta_binary_decode(bad1, sizeof(bad1), got, 1, false, &used, &err), EINVAL);
  const uint8_t bad2[] = {0x80, 0x01, 3, 1, 0};
  assert_int_equal(otap__pq_delta_binary_decode(bad2, sizeof(bad2), got, 1, false, &used, &err), EINVAL);
}

static void t_byte_arrays(void** state) {
  (void)state;
  struct otap_error err;
  // DELTA_LENGTH_BYTE_ARRAY of "Hello", "World", "Foobar", "ABCDEF".
  int64_t lens[] = {5, 5, 6, 6};
  static uint8_t buf[4096];
  size_t n = delta_encode(lens, 4, buf);
  memcpy(buf + n, "HelloWorldFoobarABCDEF", 22);
  struct pq_binary b;
  memset(&b, 0, sizeof(b));
  assert_int_equal(otap__pq_delta_length_decode(buf, n + 22, 4, &b, &err), 0);
  const int64_t* off = (const int64_t*)b.offsets.data;
  assert_int_equal(off[4], 22);
  assert_memory_equal(b.data.data + off[2], "Foobar", 6);
  assert_int_equal(otap__pq_delta_length_decode(buf, n + 21, 4, &b, &err), EINVAL);  // data short
  otap_buffer_reset(&b.offsets);
  otap_buffer_reset(&b.data);
  // DELTA_BYTE_ARRAY: "axis", "axle", "babble", "babyhood" (prefixes 0,2,0,3).
  int64_t pre[] = {0, 2, 0, 3}, suf[] = {4, 2, 6, 5};
  size_t p = delta_encode(pre, 4, buf);
  p += delta_encode(suf, 4, buf + p);
  memcpy(buf + p, "axislebabbleyhood", 17);
  assert_int_equal(otap__pq_delta_byte_array_decode(buf, p + 17, 4, &b, &err), 0);
  off = (const int64_t*)b.offsets.data;
  assert_memory_equal(b.data.data + off[1], "axle", 4);
  assert_memory_equal(b.data.data + off[3], "babyhood", 8);
  otap_buffer_reset(&b.offsets);
  otap_buffer_reset(&b.data);
  // A prefix longer than the previous value is rejected.
  int64_t pre_bad[] = {0, 9};
  int64_t suf2[] = {1, 1};
  p = delta_encode(pre_bad, 2, buf);
  p += delta_encode(suf2, 2, buf + p);
  memcpy(buf + p, "ab", 2);
  assert_int_equal(otap__pq_delta_byte_array_decode(buf, p + 2, 2, &b, &err), EINVAL);
  otap_buffer_reset(&b.offsets);
  otap_buffer_reset(&b.data);
  // PLAIN byte arrays: lengths checked against the page.
  const uint8_t plain[] = {2, 0, 0, 0, 'h', 'i', 0, 0, 0, 0, 9, 0, 0, 0, 'x'};
  size_t used;
  assert_int_equal(otap__pq_plain_binary_decode(plain, 10, 2, &b, &used, &err), 0);
  assert_int_equal(used, 10);
  assert_int_equal(otap__pq_plain_binary_decode(plain, sizeof(plain), 3, &b, &used, &err), EINVAL);
  otap_buffer_reset(&b.offsets);
  otap_buffer_reset(&b.data);
  // BYTE_STREAM_SPLIT of two floats 1.0f (0x3f800000) and 2.0f (0x40000000).
  const uint8_t bss[] = {0, 0, 0, 0, 0x80, 0, 0x3f, 0x40};
  float f[2];
  assert_int_equal(otap__pq_byte_stream_split_decode(bss, 8, 4, 2, (uint8_t*)f, &err), 0);
  assert_true(f[0] == 1.0f && f[1] == 2.0f);
  assert_int_equal(otap__pq_byte_stream_split_decode(bss, 7, 4, 2, (uint8_t*)f, &err), EINVAL);
  uint8_t bits[10];
  const uint8_t pb[] = {0x05, 0x01};
  assert_int_equal(otap__pq_plain_bool_decode(pb, 2, 9, bits, &err), 0);
  assert_int_equal(bits[0], 1);
  assert_int_equal(bits[1], 0);
  assert_int_equal(bits[2], 1);
  assert_int_equal(bits[8], 1);
  assert_int_equal(otap__pq_plain_bool_decode(pb, 1, 9, bits, &err), EINVAL);
  // Unpacking at every width up to 64.
  uint64_t u[8];
  uint8_t ones[64];
  memset(ones, 0xff, sizeof(ones));
  for (int bw = 0; bw <= 64; bw++) {
    assert_int_equal(otap__pq_unpack_bits(ones, (size_t)bw, bw, u, 8, &err), 0);
    for (int i = 0; i < 8; i++) assert_true(u[i] == (bw == 64 ? UINT64_MAX : (1ull << bw) - 1));
  }
}

static void t_codecs(void** state) {
  (void)state;
  struct otap_error err;
  static uint8_t src[100000], comp[200000], out[100000];
  for (size_t i = 0; i < sizeof(src); i++) src[i] = (uint8_t)((i * 7) % 251 + (i / 1000));
  size_t n;
  // SNAPPY
  n = sizeof(comp);
  assert_int_equal(snappy_compress((const char*)src, sizeof(src), (char*)comp, &n), SNAPPY_OK);
  assert_int_equal(otap__pq_decompress(OTAP_PARQUET_CODEC_SNAPPY, comp, n, out, sizeof(src), &err), 0);
  assert_memory_equal(out, src, sizeof(src));
  assert_int_equal(otap__pq_decompress(OTAP_PARQUET_CODEC_SNAPPY, comp, n, out, sizeof(src) - 1, &err), EINVAL);
  // ZSTD
  n = ZSTD_compress(comp, sizeof(comp), src, sizeof(src), 1);
  assert_false(ZSTD_isError(n));
  assert_int_equal(otap__pq_decompress(OTAP_PARQUET_CODEC_ZSTD, comp, n, out, sizeof(src), &err), 0);
  assert_memory_equal(out, src, sizeof(src));
  assert_int_equal(otap__pq_decompress(OTAP_PARQUET_CODEC_ZSTD, comp, n / 2, out, sizeof(src), &err), EINVAL);
  // GZIP, two concatenated members.
  size_t half = sizeof(src) / 2, total = 0;
  for (int m = 0; m < 2; m++) {
    z_stream z;
    memset(&z, 0, sizeof(z));
    assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
    z.next_in = src + m * half;
    z.avail_in = (uInt)half;
    z.next_out = comp + total;
    z.avail_out = (uInt)(sizeof(comp) - total);
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    total += z.total_out;
    deflateEnd(&z);
  }
  assert_int_equal(otap__pq_decompress(OTAP_PARQUET_CODEC_GZIP, comp, total, out, sizeof(src), &err), 0);
  assert_memory_equal(out, src, sizeof(src));
  assert_int_equal(otap__pq_decompress(OTAP_PARQUET_CODEC_GZIP, comp, total - 10, out, sizeof(src), &err), EINVAL);
  // LZ4_RAW and LZ4 with Hadoop framing (two blocks) and the raw fallback.
  int c = LZ4_compress_default((const char*)src, (char*)comp, (int)sizeof(src), (int)sizeof(comp));
  assert_true(c > 0);
  assert_int_equal(otap__pq_decompress(OTAP_PARQUET_CODEC_LZ4_RAW, comp, (size_t)c, out, sizeof(src), &err), 0);
  assert_memory_equal(out, src, sizeof(src));
  assert_int_equal(otap__pq_decompress(OTAP_PARQUET_CODEC_LZ4, comp, (size_t)c, out, sizeof(src), &err), 0);
  assert_memory_equal(out, src, sizeof(src));
  size_t pos = 0;
  for (int m = 0; m < 2; m++) {
    int k = LZ4_compress_default((const char*)src + m * half, (char*)comp + pos + 8, (int)half, (int)(sizeof(comp) - pos - 8));
    uint32_t u = (uint32_t)half, cc = (uint32_t)k;
    uint8_t h[8] = {(uint8_t)(u >> 24), (uint8_t)(u >> 16), (uint8_t)(u >> 8), (uint8_t)u,
                    (uint8_t)(cc >> 24), (uint8_t)(cc >> 16), (uint8_t)(cc >> 8), (uint8_t)cc};
    memcpy(comp + pos, h, 8);
    pos += 8 + (size_t)k;
  }
  memset(out, 0, sizeof(out));
  assert_int_equal(otap__pq_decompress(OTAP_PARQUET_CODEC_LZ4, comp, pos, out, sizeof(src), &err), 0);
  assert_memory_equal(out, src, sizeof(src));
  // BROTLI
  n = sizeof(comp);
  assert_true(BrotliEncoderCompress(5, 22, BROTLI_MODE_GENERIC, sizeof(src), src, &n, comp));
  assert_int_equal(otap__pq_decompress(OTAP_PARQUET_CODEC_BROTLI, comp, n, out, sizeof(src), &err), 0);
  assert_memory_equal(out, src, sizeof(src));
  assert_int_equal(otap__pq_decompress(OTAP_PARQUET_CODEC_BROTLI, comp, n, out, sizeof(src) - 1, &err), EINVAL);
  // LZO and unknown codecs.
  assert_int_equal(otap__pq_decompress(OTAP_PARQUET_CODEC_LZO, comp, 1, out, 1, &err), ENOTSUP);
  assert_int_equal(otap__pq_decompress(42, comp, 1, out, 1, &err), ENOTSUP);
  // CRC32 check value.
  assert_int_equal(otap__pq_crc32((const uint8_t*)"123456789", 9), 0xcbf43926u);
}

static void t_thrift(void** state) {
  (void)state;
  struct otap_error err;
  struct pq_page_header h;
  size_t hl;
  // PageHeader: type=0, sizes 5/5, unknown fields 20..24 of several types, then field 5
  // (data_page_header) in the long form because its id goes backwards.
  const uint8_t fixed[] = {
      0x15, 0x00, 0x15, 0x0a, 0x15, 0x0a,  // 1..3: i32 0, 5, 5
      0x08, 0x28, 0x02, 'a', 'b',          // 20 (long form, zigzag 40): binary "ab"
      0x19, 0x2c, 0x00, 0x00,              // 21: list<struct> of 2 empty structs
      0x1b, 0x01, 0x55, 0x02, 0x04,        // 22: map<i32,i32> with 1 entry
      0x17, 0, 0, 0, 0, 0, 0, 0, 0,        // 23: double
      0x11,                                // 24: bool true
      0x0c, 0x0a,                          // 5 (long form): struct DataPageHeader
      0x15, 0x06, 0x15, 0x00, 0x15, 0x06, 0x15, 0x06, 0x00,
      0x00};
  size_t k = sizeof(fixed);
  assert_int_equal(otap__pq_decode_page_header(fixed, k, 0, &h, &hl, &err), 0);
  assert_int_equal(hl, k);
  assert_true(h.has_data_v1);
  assert_int_equal(h.num_values, 3);
  assert_int_equal(h.compressed_page_size, 5);
  // Every truncation fails cleanly.
  for (size_t t = 0; t < k; t++) assert_int_not_equal(otap__pq_decode_page_header(fixed, t, 0, &h, &hl, &err), 0);
  // Deep nesting is capped.
  uint8_t deep[300];
  memset(deep, 0xfc, sizeof(deep));  // field 15 (unknown): struct, whose field 15 is a struct...
  assert_int_equal(otap__pq_decode_page_header(deep, sizeof(deep), 0, &h, &hl, &err), EINVAL);
  assert_non_null(strstr(err.message, "deep"));
  // A list claiming more elements than bytes remain.
  const uint8_t biglist[] = {0x19, 0xf5, 0xff, 0xff, 0xff, 0x0f};
  assert_int_equal(otap__pq_decode_page_header(biglist, sizeof(biglist), 0, &h, &hl, &err), EINVAL);
  // Footer that is not a struct.
  struct pq_arena a = {0};
  struct otap_parquet_file_metadata m;
  const uint8_t junk[] = {0xff, 0xff, 0xff};
  assert_int_equal(otap__pq_decode_file_metadata(junk, sizeof(junk), 0, &a, &m, &err), EINVAL);
  otap__pq_arena_reset(&a);
}

// Hand-made files: footer and magic checks.
static void t_bad_files(void** state) {
  (void)state;
  struct otap_error err;
  struct otap_source src;
  struct otap_parquet_reader* r;
  const char* cases[] = {"", "PAR1", "PAR1PAR1", "PAR1\x01\x00\x00\x00\x00PAR1", "PAR1xxxx\xff\xff\xff\x7fPAR1",
                         "XXXX\x00\x00\x00\x00\x00\x00\x00\x00PAR1"};
  size_t lens[] = {0, 4, 8, 13, 16, 16};
  for (size_t i = 0; i < 6; i++) {
    assert_int_equal(otap_source_init_memory(&src, cases[i], lens[i], "mem", &err), 0);
    int rc = otap_parquet_reader_open(&r, &src, NULL, &err);
    assert_int_equal(rc, EINVAL);
    assert_null(r);
    otap_source_release(&src);
  }
}

int main(void) {
  otap_test_install_allocator();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(t_rle_hybrid),
      cmocka_unit_test(t_delta_binary),
      cmocka_unit_test(t_byte_arrays),
      cmocka_unit_test(t_codecs),
      cmocka_unit_test(t_thrift),
      cmocka_unit_test(t_bad_files),
      cmocka_unit_test(t_expected_json),
      cmocka_unit_test(t_expected_csv),
      cmocka_unit_test(t_quoted_values),
      cmocka_unit_test(t_variant_bytes),
      cmocka_unit_test(t_byte_stream_split_twins),
      cmocka_unit_test(t_crc),
      cmocka_unit_test(t_read_all),
      cmocka_unit_test(t_reject),
      cmocka_unit_test(t_schema_types),
      cmocka_unit_test(t_batches_projection),
      cmocka_unit_test(t_dictionary_output),
      cmocka_unit_test(t_metadata_and_page_index),
      cmocka_unit_test(t_stream),
      cmocka_unit_test(t_arrays_outlive_reader),
      cmocka_unit_test(t_read_at_source),
      cmocka_unit_test(t_full_validation),
      cmocka_unit_test(t_alloc_failures),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
