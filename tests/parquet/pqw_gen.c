// pqw_gen OUTDIR: writes deterministic Parquet files with the otap writer (every supported
// Arrow type, nulls everywhere, each codec, v1/v2 pages, dictionary/plain/delta encodings) plus
// OUTDIR/expected.jsonl (one JSON object per row, canonical values) and OUTDIR/manifest.json
// (files, column kinds) for tests/interop/parquet_write_check.mjs.
//
// Canonical values: ints and timestamps (ns since epoch) as decimal strings, dates as day
// counts (strings), times as ns since midnight (strings), floats as JSON numbers, binary as
// lower-case hex, decimals as strings with `scale` fraction digits, maps as [[k, v], ...].
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "otap/arrow.h"
#include "otap/parquet_writer.h"

#define CHECK(x)                                                                 \
  do {                                                                           \
    int rc_ = (x);                                                               \
    if (rc_) {                                                                   \
      fprintf(stderr, "pqw_gen: %s failed (%d) at line %d: %s\n", #x, rc_, __LINE__, \
              err.message);                                                      \
      exit(1);                                                                   \
    }                                                                            \
  } while (0)

__extension__ typedef __int128 i128;
__extension__ typedef unsigned __int128 u128;

static struct otap_error err;
static uint64_t rng = 0x1234567887654321ull;
static uint64_t next(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}
static bool chance(int pct) { return next() % 100 < (uint64_t)pct; }

// ---------------------------------------------------------------------------------------------
// Schema

static void field(struct ArrowSchema* s, const char* format, const char* name, bool nullable) {
  CHECK(otap_schema_init(s, format));
  CHECK(otap_schema_set_name(s, name));
  if (!nullable) s->flags &= ~ARROW_FLAG_NULLABLE;
}

struct col {
  const char* name;
  const char* format;
  const char* kind;
  bool nullable;
};

static const struct col cols[] = {
    {"id", "I", "int", true},
    {"u8", "C", "int", true},
    {"u16", "S", "int", true},
    {"u32", "I", "int", true},
    {"u64", "L", "int", true},
    {"i8", "c", "int", true},
    {"i16", "s", "int", true},
    {"i32", "i", "int", true},
    {"i64", "l", "int", true},
    {"f32", "f", "float", true},
    {"f64", "g", "float", true},
    {"b", "b", "bool", true},
    {"s", "u", "string", true},
    {"ls", "U", "string", true},
    {"bin", "z", "hex", true},
    {"lbin", "Z", "hex", true},
    {"fsb16", "w:16", "hex", true},
    {"fsb8", "w:8", "hex", true},
    {"ts_ns", "tsn:", "ts", true},
    {"ts_us_utc", "tsu:UTC", "ts", true},
    {"ts_ms", "tsm:", "ts", true},
    {"ts_s", "tss:", "ts", true},
    {"d32", "tdD", "date", true},
    {"d64", "tdm", "date", true},
    {"t32", "ttm", "time:6", true},
    {"t64us", "ttu", "time:3", true},
    {"dec", "d:10,2", "decimal:2", true},
    {"dec38", "d:38,5", "decimal:5", true},
    {"dur", "tDu", "int", true},
    {"dict_s", "", "string", true},  // dictionary<int16, utf8>
    {"st", "", "struct{a:int,b:string,inner:struct{c:float}}", true},    // struct<a: int32, b: utf8, inner: struct<c: double>>
    {"lst", "", "list<int>", true},   // list<int64>
    {"lls", "", "list<string>", true},   // large_list<utf8>
    {"mp", "", "map<string,int>", true},   // map<utf8, int32>
    {"nul", "n", "null", true},
    {"req_i32", "i", "int", false},
    {"req_s", "u", "string", false},
    {"f16", "e", "float", true},
    {"uuid", "w:16", "uuid", true},  // arrow.uuid extension -> FLBA(16) + UUID
    {"dec256", "d:50,4,256", "decimal:4", true},
    {"t64ns", "ttn", "time:0", true},
    {"fsl", "", "list<int>", true},  // fixed_size_list<int32>[3]
    {"dict_u8", "", "string", true},  // dictionary<uint8, utf8>
};
#define NCOLS ((int)(sizeof(cols) / sizeof(cols[0])))

static void build_schema(struct ArrowSchema* root) {
  CHECK(otap_schema_init(root, "+s"));
  CHECK(otap_schema_allocate_children(root, NCOLS));
  for (int i = 0; i < NCOLS; i++) {
    struct ArrowSchema* s = root->children[i];
    const char* n = cols[i].name;
    if (strcmp(n, "dict_s") == 0) {
      field(s, "s", n, true);
      CHECK(otap_schema_allocate_dictionary(s));
      field(s->dictionary, "u", "", true);
    } else if (strcmp(n, "st") == 0) {
      field(s, "+s", n, true);
      CHECK(otap_schema_allocate_children(s, 3));
      field(s->children[0], "i", "a", true);
      field(s->children[1], "u", "b", true);
      field(s->children[2], "+s", "inner", true);
      CHECK(otap_schema_allocate_children(s->children[2], 1));
      field(s->children[2]->children[0], "g", "c", true);
    } else if (strcmp(n, "lst") == 0) {
      field(s, "+l", n, true);
      CHECK(otap_schema_allocate_children(s, 1));
      field(s->children[0], "l", "item", true);
    } else if (strcmp(n, "fsl") == 0) {
      field(s, "+w:3", n, true);
      CHECK(otap_schema_allocate_children(s, 1));
      field(s->children[0], "i", "item", true);
    } else if (strcmp(n, "dict_u8") == 0) {
      field(s, "C", n, true);
      CHECK(otap_schema_allocate_dictionary(s));
      field(s->dictionary, "u", "", true);
    } else if (strcmp(n, "uuid") == 0) {
      field(s, "w:16", n, true);
      struct otap_buffer md;
      otap_buffer_init(&md);
      struct otap_metadata_entry e[2] = {{"ARROW:extension:name", 20, "arrow.uuid", 10},
                                         {"ARROW:extension:metadata", 24, "", 0}};
      CHECK(otap_metadata_encode(&md, e, 2));
      CHECK(otap_schema_set_metadata(s, (const char*)md.data));
      otap_buffer_reset(&md);
    } else if (strcmp(n, "lls") == 0) {
      field(s, "+L", n, true);
      CHECK(otap_schema_allocate_children(s, 1));
      field(s->children[0], "u", "item", true);
    } else if (strcmp(n, "mp") == 0) {
      field(s, "+m", n, true);
      CHECK(otap_schema_allocate_children(s, 1));
      field(s->children[0], "+s", "entries", false);
      CHECK(otap_schema_allocate_children(s->children[0], 2));
      field(s->children[0]->children[0], "u", "key", false);
      field(s->children[0]->children[1], "i", "value", true);
    } else {
      field(s, cols[i].format, n, cols[i].nullable);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// JSON helpers

static void json_str(FILE* f, const char* s, size_t n) {
  fputc('"', f);
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') {
      fprintf(f, "\\%c", c);
    } else if (c < 0x20) {
      fprintf(f, "\\u%04x", c);
    } else {
      fputc(c, f);
    }
  }
  fputc('"', f);
}

static void json_hex(FILE* f, const uint8_t* p, size_t n) {
  fputc('"', f);
  for (size_t i = 0; i < n; i++) fprintf(f, "%02x", p[i]);
  fputc('"', f);
}

static void json_i64(FILE* f, int64_t v) { fprintf(f, "\"%" PRId64 "\"", v); }
static void json_u64(FILE* f, uint64_t v) { fprintf(f, "\"%" PRIu64 "\"", v); }

// Decimal string of a 128-bit value with `scale` fraction digits.
static void json_dec(FILE* f, i128 v, int scale) {
  char digits[64];
  int n = 0;
  bool neg = v < 0;
  u128 u = neg ? (u128)(-v) : (u128)v;
  do {
    digits[n++] = (char)('0' + (int)(u % 10));
    u /= 10;
  } while (u);
  while (n <= scale) digits[n++] = '0';
  fputc('"', f);
  if (neg) fputc('-', f);
  for (int i = n - 1; i >= 0; i--) {
    fputc(digits[i], f);
    if (i == scale && scale > 0) fputc('.', f);
  }
  fputc('"', f);
}

// ---------------------------------------------------------------------------------------------
// Data

static const char* words[] = {"alpha", "beta", "gamma", "delta", "épsilon", "日本語", "", "zeta",
                              "a much longer string value that repeats", "x"};

static void rand_bytes(uint8_t* p, int n) {
  for (int i = 0; i < n; i++) p[i] = (uint8_t)next();
}

static int64_t g_row = 0;

// Appends one row to batch (struct array) and its JSON to f.
static void append_row(struct ArrowArray* batch, FILE* f) {
  int64_t r = g_row++;
  fputc('{', f);
  for (int i = 0; i < NCOLS; i++) {
    struct ArrowArray* a = batch->children[i];
    const char* n = cols[i].name;
    if (i) fputc(',', f);
    json_str(f, n, strlen(n));
    fputc(':', f);
    bool null = cols[i].nullable && chance(12);
    if (strcmp(n, "nul") == 0) null = true;
    if (null) {
      CHECK(otap_array_append_null(a, 1));
      fputs("null", f);
      continue;
    }
    if (strcmp(n, "id") == 0) {
      CHECK(otap_array_append_uint(a, (uint64_t)r));
      json_u64(f, (uint64_t)r);
    } else if (strcmp(n, "u8") == 0 || strcmp(n, "u16") == 0 || strcmp(n, "u32") == 0 ||
               strcmp(n, "u64") == 0) {
      int bits = n[1] == '8' ? 8 : n[1] == '1' ? 16 : n[1] == '3' ? 32 : 64;
      uint64_t v = next();
      if (bits < 64) v &= (UINT64_C(1) << bits) - 1;
      if (chance(20)) v = bits == 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1;
      CHECK(otap_array_append_uint(a, v));
      json_u64(f, v);
    } else if (n[0] == 'i' && (n[1] == '8' || n[1] == '1' || n[1] == '3' || n[1] == '6')) {
      int bits = n[1] == '8' ? 8 : n[1] == '1' ? 16 : n[1] == '3' ? 32 : 64;
      int64_t v = (int64_t)next();
      if (bits < 64) v = (int64_t)((uint64_t)v << (64 - bits)) >> (64 - bits);
      if (chance(5)) v = bits == 64 ? INT64_MIN : -(INT64_C(1) << (bits - 1));
      CHECK(otap_array_append_int(a, v));
      json_i64(f, v);
    } else if (strcmp(n, "f32") == 0) {
      double v = (double)(int64_t)(next() % 200000) * 0.25 - 25000.0;
      CHECK(otap_array_append_double(a, v));
      fprintf(f, "%.17g", v);
    } else if (strcmp(n, "f64") == 0) {
      double v = ((double)(int64_t)(next() % 2000000001) - 1000000000.0) / 1024.0;
      CHECK(otap_array_append_double(a, v));
      fprintf(f, "%.17g", v);
    } else if (strcmp(n, "b") == 0) {
      bool v = next() & 1;
      CHECK(otap_array_append_int(a, v));
      fputs(v ? "true" : "false", f);
    } else if (strcmp(n, "s") == 0 || strcmp(n, "dict_s") == 0 || strcmp(n, "req_s") == 0) {
      const char* w = words[next() % 10];
      if (strcmp(n, "dict_s") == 0) {
        // dictionary<int16, utf8>: the dictionary holds all words, index chosen here.
        int k = (int)(next() % 10);
        w = words[k];
        CHECK(otap_array_append_int(a, k));
      } else {
        CHECK(otap_array_append_bytes(a, w, (int64_t)strlen(w)));
      }
      json_str(f, w, strlen(w));
    } else if (strcmp(n, "ls") == 0) {
      char buf[64];
      int len = snprintf(buf, sizeof(buf), "row-%" PRId64 "-%" PRIu64, r, next() % 1000);
      CHECK(otap_array_append_bytes(a, buf, len));
      json_str(f, buf, (size_t)len);
    } else if (strcmp(n, "bin") == 0 || strcmp(n, "lbin") == 0) {
      uint8_t buf[40];
      int len = (int)(next() % 40);
      rand_bytes(buf, len);
      CHECK(otap_array_append_bytes(a, buf, len));
      json_hex(f, buf, (size_t)len);
    } else if (strcmp(n, "fsb16") == 0 || strcmp(n, "fsb8") == 0) {
      uint8_t buf[16];
      int len = n[3] == '1' ? 16 : 8;
      rand_bytes(buf, len);
      CHECK(otap_array_append_bytes(a, buf, len));
      json_hex(f, buf, (size_t)len);
    } else if (strncmp(n, "ts_", 3) == 0) {
      int64_t ns = 1700000000000000000 + (int64_t)(next() % 100000000000000000ull);
      int64_t v;
      if (strcmp(n, "ts_ns") == 0) {
        v = ns;
      } else if (strcmp(n, "ts_us_utc") == 0) {
        v = ns / 1000;
        ns = v * 1000;
      } else if (strcmp(n, "ts_ms") == 0) {
        v = ns / 1000000;
        ns = v * 1000000;
      } else {
        v = ns / 1000000000;
        ns = v * 1000000000;
      }
      if (chance(3)) {  // before the epoch
        v = -v;
        ns = -ns;
      }
      CHECK(otap_array_append_int(a, v));
      json_i64(f, ns);
    } else if (strcmp(n, "d32") == 0) {
      int64_t d = (int64_t)(next() % 40000) - 10000;
      CHECK(otap_array_append_int(a, d));
      json_i64(f, d);
    } else if (strcmp(n, "d64") == 0) {
      int64_t d = (int64_t)(next() % 40000) - 10000;
      CHECK(otap_array_append_int(a, d * 86400000));
      json_i64(f, d);
    } else if (strcmp(n, "t32") == 0) {
      int64_t ms = (int64_t)(next() % 86400000);
      CHECK(otap_array_append_int(a, ms));
      json_i64(f, ms * 1000000);
    } else if (strcmp(n, "t64us") == 0) {
      int64_t us = (int64_t)(next() % 86400000000ull);
      CHECK(otap_array_append_int(a, us));
      json_i64(f, us * 1000);
    } else if (strcmp(n, "dec") == 0 || strcmp(n, "dec38") == 0) {
      i128 v;
      if (n[3] == 0) {
        v = (i128)((int64_t)(next() % 19999999999ull) - 9999999999ll);
      } else {
        v = ((i128)(int64_t)next() * (i128)(int64_t)(next() >> 4));
      }
      uint8_t le[16];
      for (int k = 0; k < 16; k++) le[k] = (uint8_t)((u128)v >> (8 * k));
      CHECK(otap_array_append_bytes(a, le, 16));
      json_dec(f, v, n[3] == 0 ? 2 : 5);
    } else if (strcmp(n, "dur") == 0) {
      int64_t v = (int64_t)next() >> 8;
      CHECK(otap_array_append_int(a, v));
      json_i64(f, v);
    } else if (strcmp(n, "st") == 0) {
      // struct<a: int32, b: utf8, inner: struct<c: double>>
      struct ArrowArray* ca = a->children[0];
      struct ArrowArray* cb = a->children[1];
      struct ArrowArray* ci = a->children[2];
      fputs("{\"a\":", f);
      if (chance(15)) {
        CHECK(otap_array_append_null(ca, 1));
        fputs("null", f);
      } else {
        int32_t v = (int32_t)next();
        CHECK(otap_array_append_int(ca, v));
        json_i64(f, v);
      }
      fputs(",\"b\":", f);
      if (chance(15)) {
        CHECK(otap_array_append_null(cb, 1));
        fputs("null", f);
      } else {
        const char* w = words[next() % 10];
        CHECK(otap_array_append_bytes(cb, w, (int64_t)strlen(w)));
        json_str(f, w, strlen(w));
      }
      fputs(",\"inner\":", f);
      if (chance(15)) {
        CHECK(otap_array_append_null(ci, 1));
        fputs("null", f);
      } else {
        struct ArrowArray* cc = ci->children[0];
        fputs("{\"c\":", f);
        if (chance(15)) {
          CHECK(otap_array_append_null(cc, 1));
          fputs("null", f);
        } else {
          double v = (double)(int64_t)(next() % 1000000) / 8.0;
          CHECK(otap_array_append_double(cc, v));
          fprintf(f, "%.17g", v);
        }
        fputc('}', f);
        CHECK(otap_array_finish_element(ci));
      }
      fputc('}', f);
      CHECK(otap_array_finish_element(a));
    } else if (strcmp(n, "lst") == 0 || strcmp(n, "lls") == 0) {
      struct ArrowArray* item = a->children[0];
      int k = (int)(next() % 5);
      fputc('[', f);
      for (int j = 0; j < k; j++) {
        if (j) fputc(',', f);
        if (chance(10)) {
          CHECK(otap_array_append_null(item, 1));
          fputs("null", f);
        } else if (n[1] == 's') {
          int64_t v = (int64_t)next() >> 12;
          CHECK(otap_array_append_int(item, v));
          json_i64(f, v);
        } else {
          const char* w = words[next() % 10];
          CHECK(otap_array_append_bytes(item, w, (int64_t)strlen(w)));
          json_str(f, w, strlen(w));
        }
      }
      fputc(']', f);
      CHECK(otap_array_finish_element(a));
    } else if (strcmp(n, "mp") == 0) {
      struct ArrowArray* entries = a->children[0];
      int k = (int)(next() % 4);
      fputc('[', f);
      for (int j = 0; j < k; j++) {
        if (j) fputc(',', f);
        char key[16];
        int kl = snprintf(key, sizeof(key), "k%d", j);
        CHECK(otap_array_append_bytes(entries->children[0], key, kl));
        fputc('[', f);
        json_str(f, key, (size_t)kl);
        fputc(',', f);
        if (chance(20)) {
          CHECK(otap_array_append_null(entries->children[1], 1));
          fputs("null", f);
        } else {
          int32_t v = (int32_t)(next() % 100000);
          CHECK(otap_array_append_int(entries->children[1], v));
          json_i64(f, v);
        }
        fputc(']', f);
        CHECK(otap_array_finish_element(entries));
      }
      fputc(']', f);
      CHECK(otap_array_finish_element(a));
    } else if (strcmp(n, "f16") == 0) {
      double v = (double)((int64_t)(next() % 4000) - 2000) * 0.5;
      CHECK(otap_array_append_double(a, v));
      fprintf(f, "%.17g", v);
    } else if (strcmp(n, "uuid") == 0) {
      uint8_t buf[16];
      rand_bytes(buf, 16);
      CHECK(otap_array_append_bytes(a, buf, 16));
      json_hex(f, buf, 16);
    } else if (strcmp(n, "dec256") == 0) {
      i128 v = ((i128)(int64_t)next() * (i128)(int64_t)(next() >> 8));
      uint8_t le[32];
      for (int k = 0; k < 32; k++) le[k] = k < 16 ? (uint8_t)((u128)v >> (8 * k)) : (v < 0 ? 0xFF : 0);
      CHECK(otap_array_append_bytes(a, le, 32));
      json_dec(f, v, 4);
    } else if (strcmp(n, "t64ns") == 0) {
      int64_t ns = (int64_t)(next() % 86400000000ull) * 1000;
      CHECK(otap_array_append_int(a, ns));
      json_i64(f, ns);
    } else if (strcmp(n, "fsl") == 0) {
      struct ArrowArray* item = a->children[0];
      fputc('[', f);
      for (int j = 0; j < 3; j++) {
        if (j) fputc(',', f);
        if (chance(10)) {
          CHECK(otap_array_append_null(item, 1));
          fputs("null", f);
        } else {
          int32_t v = (int32_t)next();
          CHECK(otap_array_append_int(item, v));
          json_i64(f, v);
        }
      }
      fputc(']', f);
      CHECK(otap_array_finish_element(a));
    } else if (strcmp(n, "dict_u8") == 0) {
      int k = (int)(next() % 10);
      CHECK(otap_array_append_int(a, k));
      json_str(f, words[k], strlen(words[k]));
    } else if (strcmp(n, "req_i32") == 0) {
      int32_t v = (int32_t)(r % 1000);
      CHECK(otap_array_append_int(a, v));
      json_i64(f, v);
    } else {
      fprintf(stderr, "pqw_gen: no generator for %s\n", n);
      exit(1);
    }
  }
  fputs("}\n", f);
  CHECK(otap_array_finish_element(batch));
}

static void fill_dictionary(struct ArrowArray* batch) {
  for (int i = 0; i < NCOLS; i++) {
    if (strcmp(cols[i].name, "dict_s") != 0 && strcmp(cols[i].name, "dict_u8") != 0) continue;
    struct ArrowArray* d = batch->children[i]->dictionary;
    for (int k = 0; k < 10; k++) CHECK(otap_array_append_bytes(d, words[k], (int64_t)strlen(words[k])));
  }
}

// ---------------------------------------------------------------------------------------------
// Files

struct variant {
  const char* file;
  enum otap_parquet_codec codec;
  int page_version;
  bool dictionary;
  int encoding_ints, encoding_strings, encoding_floats;
  int64_t page_size, dict_size;
  const char* readers;  // comma-separated: duckdb,wasm,hyparquet
};

static const struct variant variants[] = {
    {"v1_none.parquet", OTAP_PARQUET_CODEC_UNCOMPRESSED, 1, true, -1, -1, -1, 0, 0, "duckdb,wasm,hyparquet"},
    {"v2_none.parquet", OTAP_PARQUET_CODEC_UNCOMPRESSED, 2, true, -1, -1, -1, 0, 0, "duckdb,wasm,hyparquet"},
    {"v1_snappy.parquet", OTAP_PARQUET_CODEC_SNAPPY, 1, true, -1, -1, -1, 0, 0, "duckdb,wasm,hyparquet"},
    {"v2_snappy.parquet", OTAP_PARQUET_CODEC_SNAPPY, 2, true, -1, -1, -1, 0, 0, "duckdb,wasm,hyparquet"},
    {"v1_gzip.parquet", OTAP_PARQUET_CODEC_GZIP, 1, true, -1, -1, -1, 0, 0, "duckdb,wasm,hyparquet"},
    {"v2_gzip.parquet", OTAP_PARQUET_CODEC_GZIP, 2, true, -1, -1, -1, 0, 0, "duckdb,wasm,hyparquet"},
    {"v1_zstd.parquet", OTAP_PARQUET_CODEC_ZSTD, 1, true, -1, -1, -1, 0, 0, "duckdb,wasm,hyparquet"},
    {"v2_zstd.parquet", OTAP_PARQUET_CODEC_ZSTD, 2, true, -1, -1, -1, 0, 0, "duckdb,wasm,hyparquet"},
    {"v1_lz4_raw.parquet", OTAP_PARQUET_CODEC_LZ4_RAW, 1, true, -1, -1, -1, 0, 0, "duckdb,wasm,hyparquet"},
    {"v2_lz4_raw.parquet", OTAP_PARQUET_CODEC_LZ4_RAW, 2, true, -1, -1, -1, 0, 0, "duckdb,wasm,hyparquet"},
    {"v1_brotli.parquet", OTAP_PARQUET_CODEC_BROTLI, 1, true, -1, -1, -1, 0, 0, "duckdb,wasm,hyparquet"},
    {"v2_brotli.parquet", OTAP_PARQUET_CODEC_BROTLI, 2, true, -1, -1, -1, 0, 0, "duckdb,wasm,hyparquet"},
    // Legacy Hadoop LZ4: DuckDB rejects the codec (peers.md).
    {"v1_lz4_hadoop.parquet", OTAP_PARQUET_CODEC_LZ4, 1, true, -1, -1, -1, 0, 0, "wasm,hyparquet"},
    {"v1_plain.parquet", OTAP_PARQUET_CODEC_UNCOMPRESSED, 1, false, -1, -1, -1, 0, 0, "duckdb,wasm,hyparquet"},
    {"v2_delta.parquet", OTAP_PARQUET_CODEC_ZSTD, 2, false, OTAP_PARQUET_ENC_DELTA_BINARY_PACKED,
     OTAP_PARQUET_ENC_DELTA_BYTE_ARRAY, OTAP_PARQUET_ENC_BYTE_STREAM_SPLIT, 0, 0, "duckdb,wasm,hyparquet"},
    {"v1_delta_length.parquet", OTAP_PARQUET_CODEC_SNAPPY, 1, false, OTAP_PARQUET_ENC_DELTA_BINARY_PACKED,
     OTAP_PARQUET_ENC_DELTA_LENGTH_BYTE_ARRAY, -1, 0, 0, "duckdb,wasm,hyparquet"},
    // Small pages and a tiny dictionary limit: many pages per chunk, dictionary fallback.
    {"v1_small_pages.parquet", OTAP_PARQUET_CODEC_UNCOMPRESSED, 1, true, -1, -1, -1, 512, 256,
     "duckdb,wasm,hyparquet"},
    {"v2_small_pages.parquet", OTAP_PARQUET_CODEC_SNAPPY, 2, true, -1, -1, -1, 700, 300,
     "duckdb,wasm,hyparquet"},
};
#define NVARIANTS ((int)(sizeof(variants) / sizeof(variants[0])))

#define NROWS 2000
#define BATCH_ROWS 450

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: pqw_gen OUTDIR\n");
    return 2;
  }
  const char* dir = argv[1];
  char path[4096];
  struct ArrowSchema schema;
  build_schema(&schema);
  // Build the batches once.
  int nb = (NROWS + BATCH_ROWS - 1) / BATCH_ROWS;
  struct ArrowArray batches[16];
  snprintf(path, sizeof(path), "%s/expected.jsonl", dir);
  FILE* jf = fopen(path, "w");
  if (!jf) {
    perror(path);
    return 1;
  }
  for (int b = 0; b < nb; b++) {
    CHECK(otap_array_init_from_schema(&batches[b], &schema, &err));
    fill_dictionary(&batches[b]);
    int rows = NROWS - b * BATCH_ROWS < BATCH_ROWS ? NROWS - b * BATCH_ROWS : BATCH_ROWS;
    for (int r = 0; r < rows; r++) append_row(&batches[b], jf);
    CHECK(otap_array_finish(&batches[b], OTAP_VALIDATE_FULL, &schema, &err));
  }
  fclose(jf);

  snprintf(path, sizeof(path), "%s/manifest.json", dir);
  FILE* mf = fopen(path, "w");
  if (!mf) {
    perror(path);
    return 1;
  }
  fprintf(mf, "{\"rows\":%d,\"columns\":[", NROWS);
  for (int i = 0; i < NCOLS; i++) {
    fprintf(mf, "%s{\"name\":\"%s\",\"kind\":\"%s\"}", i ? "," : "", cols[i].name, cols[i].kind);
  }
  fprintf(mf, "],\"files\":[");
  for (int v = 0; v < NVARIANTS; v++) {
    const struct variant* x = &variants[v];
    struct otap_parquet_write_options o;
    otap_parquet_write_options_init(&o);
    o.codec = x->codec;
    o.page_version = x->page_version;
    o.dictionary = x->dictionary;
    o.row_group_rows = 700;
    if (x->page_size) o.data_page_size = x->page_size;
    if (x->dict_size) o.dictionary_page_size = x->dict_size;
    struct otap_parquet_column_options co[8];
    int nco = 0;
    const char* ints[] = {"i32", "i64", "u32", "ts_ns", "req_i32"};
    const char* strs[] = {"s", "ls", "req_s"};
    const char* flts[] = {"f32", "f64"};
    if (x->encoding_ints >= 0) {
      for (int k = 0; k < 5 && nco < 8; k++) co[nco++] = (struct otap_parquet_column_options){ints[k], -1, x->encoding_ints};
    }
    (void)strs;
    if (x->encoding_strings >= 0) o.default_encoding = x->encoding_strings;
    if (x->encoding_floats >= 0) {
      for (int k = 0; k < 2 && nco < 8; k++) co[nco++] = (struct otap_parquet_column_options){flts[k], -1, x->encoding_floats};
    }
    o.columns = co;
    o.n_columns = nco;
    struct otap_metadata_entry kv = {"otap.test", 9, "pqw_gen", 7};
    o.metadata = &kv;
    o.n_metadata = 1;
    snprintf(path, sizeof(path), "%s/%s", dir, x->file);
    struct otap_sink sink;
    CHECK(otap_sink_open_file(&sink, path, &err));
    struct otap_parquet_writer* w;
    CHECK(otap_parquet_writer_open(&w, &sink, &schema, &o, &err));
    for (int b = 0; b < nb; b++) CHECK(otap_parquet_writer_write(w, &batches[b], &err));
    CHECK(otap_parquet_writer_close(w, &err));
    otap_parquet_writer_free(w);
    otap_sink_release(&sink);
    fprintf(mf, "%s{\"file\":\"%s\",\"readers\":\"%s\"}", v ? "," : "", x->file, x->readers);
  }
  fprintf(mf, "]}\n");
  fclose(mf);
  for (int b = 0; b < nb; b++) otap_array_release(&batches[b]);
  otap_schema_release(&schema);
  printf("pqw_gen: wrote %d files to %s\n", NVARIANTS, dir);
  return 0;
}
