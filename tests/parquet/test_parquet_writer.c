// Tests of the Parquet writer: Thrift compact encoding vectors, encoder round trips through
// reference decoders written here from Encodings.md, every codec, whole files read back with
// the otap Parquet reader (values, statistics orderings, page indexes, dictionary fallback,
// row groups), error cases and allocation failure without leaks.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <unistd.h>
#include <cmocka.h>

#include <brotli/decode.h>
#include <lz4.h>
#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

#include "otap/ipc.h"
#include "otap/parquet.h"
#include "otap/parquet_writer.h"
#include "parquet/pqw_internal.h"
#include "testutil.h"

static uint64_t rng_state = 88172645463325252ull;
static uint64_t rnd(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}

// ---------------------------------------------------------------------------------------------
// Reference decoders (independent of the writer's code)

static uint64_t uvarint(const uint8_t** p) {
  uint64_t v = 0;
  int shift = 0;
  for (;;) {
    uint8_t b = *(*p)++;
    v |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) return v;
    shift += 7;
  }
}
static int64_t zz(uint64_t v) { return (int64_t)(v >> 1) ^ -(int64_t)(v & 1); }

// Reads `width` bits LSB-first at bit position *bitpos.
static uint64_t read_bits(const uint8_t* p, int64_t* bitpos, int width) {
  uint64_t v = 0;
  for (int i = 0; i < width; i++) {
    int64_t b = *bitpos + i;
    v |= (uint64_t)((p[b >> 3] >> (b & 7)) & 1) << i;
  }
  *bitpos += width;
  return v;
}

// Decodes n values of the RLE/bit-packed hybrid; returns bytes consumed.
static int64_t ref_rle_decode(const uint8_t* data, int width, int64_t n, uint32_t* out) {
  const uint8_t* p = data;
  int64_t got = 0;
  while (got < n) {
    uint64_t h = uvarint(&p);
    if (h & 1) {
      int64_t count = (int64_t)(h >> 1) * 8;
      int64_t bit = 0;
      for (int64_t i = 0; i < count; i++) {
        uint32_t v = (uint32_t)read_bits(p, &bit, width);
        if (got < n) out[got++] = v;
      }
      p += (int64_t)(h >> 1) * width;
    } else {
      int64_t count = (int64_t)(h >> 1);
      uint32_t v = 0;
      for (int b = 0; b < (width + 7) / 8; b++) v |= (uint32_t)p[b] << (8 * b);
      p += (width + 7) / 8;
      for (int64_t i = 0; i < count && got < n; i++) out[got++] = v;
    }
  }
  return p - data;
}

// DELTA_BINARY_PACKED into int64 (wrapping in 64 or 32 bits); returns bytes consumed.
static int64_t ref_delta_decode(const uint8_t* data, bool is32, int64_t* out, int64_t* n_out) {
  const uint8_t* p = data;
  uint64_t block = uvarint(&p), minis = uvarint(&p), total = uvarint(&p);
  int64_t v = zz(uvarint(&p));
  *n_out = (int64_t)total;
  if (total == 0) return p - data;
  out[0] = v;
  int64_t got = 1;
  uint64_t per_mini = block / minis;
  while (got < (int64_t)total) {
    int64_t min_delta = zz(uvarint(&p));
    const uint8_t* widths = p;
    p += minis;
    for (uint64_t m = 0; m < minis && got < (int64_t)total; m++) {
      int64_t bit = 0;
      for (uint64_t i = 0; i < per_mini; i++) {
        uint64_t d = read_bits(p, &bit, widths[m]);
        if (got < (int64_t)total) {
          uint64_t nv = (uint64_t)v + (uint64_t)min_delta + d;
          v = is32 ? (int64_t)(int32_t)(uint32_t)nv : (int64_t)nv;
          out[got++] = v;
        }
      }
      p += per_mini * widths[m] / 8;
    }
  }
  return p - data;
}

// ---------------------------------------------------------------------------------------------
// Thrift

static void test_thrift_vectors(void** state) {
  (void)state;
  struct otap_buffer b;
  otap_buffer_init(&b);
  struct pqw_thrift t;
  otap__pqw_tw_init(&t, &b);
  otap__pqw_tw_i32(&t, 1, 5);        // 0x15 0x0a
  otap__pqw_tw_bool(&t, 2, true);    // 0x11
  otap__pqw_tw_i64(&t, 20, -3);      // 0x06 0x28 0x05 (long form: delta 18)
  otap__pqw_tw_string(&t, 21, "ab");  // 0x18 0x02 'a' 'b'
  otap__pqw_tw_list_begin(&t, 22, PQW_T_I32, 3);  // 0x19 0x35
  otap__pqw_tw_elem_i32(&t, 1);
  otap__pqw_tw_elem_i32(&t, -1);
  otap__pqw_tw_elem_i32(&t, 64);  // 0x02 0x01 0x80 0x01
  otap__pqw_tw_struct_begin(&t, 23);  // 0x1c
  otap__pqw_tw_i32(&t, 1, 0);         // 0x15 0x00
  otap__pqw_tw_struct_end(&t);        // 0x00
  otap__pqw_tw_list_begin(&t, 24, PQW_T_TRUE, 2);  // 0x19 0x21
  otap__pqw_tw_elem_bool(&t, true);
  otap__pqw_tw_elem_bool(&t, false);  // 0x01 0x02
  otap__pqw_tw_stop(&t);
  assert_int_equal(t.rc, 0);
  const uint8_t want[] = {0x15, 0x0a, 0x11, 0x06, 0x28, 0x05, 0x18, 0x02, 'a',  'b',
                          0x19, 0x35, 0x02, 0x01, 0x80, 0x01, 0x1c, 0x15, 0x00, 0x00,
                          0x19, 0x21, 0x01, 0x02, 0x00};
  assert_int_equal(b.size, sizeof(want));
  assert_memory_equal(b.data, want, sizeof(want));
  // Long lists use the 0xF? form with a varint size.
  b.size = 0;
  otap__pqw_tw_init(&t, &b);
  otap__pqw_tw_list_begin(&t, 1, PQW_T_I64, 20);
  assert_int_equal(b.data[0], 0x19);
  assert_int_equal(b.data[1], 0xF6);
  assert_int_equal(b.data[2], 20);
  otap_buffer_reset(&b);
}

static void test_page_header_encoding(void** state) {
  (void)state;
  struct otap_buffer b;
  otap_buffer_init(&b);
  struct pqw_page_header h;
  memset(&h, 0, sizeof(h));
  h.type = OTAP_PARQUET_PAGE_DATA_V2;
  h.uncompressed_size = 300;
  h.compressed_size = 200;
  h.num_values = 10;
  h.num_nulls = 2;
  h.num_rows = 7;
  h.encoding = OTAP_PARQUET_ENC_RLE_DICTIONARY;
  h.def_levels_len = 3;
  h.rep_levels_len = 4;
  h.is_compressed = true;
  assert_int_equal(otap__pqw_write_page_header(&b, &h), 0);
  // Decode by hand: type(1)=3, sizes, then struct field 8 with 7 fields.
  const uint8_t* p = b.data;
  assert_int_equal(*p++, 0x15);
  assert_int_equal(zz(uvarint(&p)), 3);
  assert_int_equal(*p++, 0x15);
  assert_int_equal(zz(uvarint(&p)), 300);
  assert_int_equal(*p++, 0x15);
  assert_int_equal(zz(uvarint(&p)), 200);
  assert_int_equal(*p++, 0x5c);  // delta 5 -> field 8, struct
  const int64_t want[] = {10, 2, 7, 8, 3, 4};
  for (int i = 0; i < 6; i++) {
    assert_int_equal(*p++, 0x15);
    assert_int_equal(zz(uvarint(&p)), want[i]);
  }
  assert_int_equal(*p++, 0x11);  // field 7 true
  assert_int_equal(*p++, 0x00);
  assert_int_equal(*p++, 0x00);
  assert_int_equal(p - b.data, b.size);
  otap_buffer_reset(&b);
}

// ---------------------------------------------------------------------------------------------
// Encoders

static void test_rle_spec_vectors(void** state) {
  (void)state;
  struct otap_buffer b;
  otap_buffer_init(&b);
  // Encodings.md: values 0..7 bit-packed with width 3 -> header 0x03, 0x88 0xC6 0xFA.
  const uint32_t v[8] = {0, 1, 2, 3, 4, 5, 6, 7};
  assert_int_equal(otap__pqw_rle_encode_u32(&b, v, 8, 3), 0);
  const uint8_t want[] = {0x03, 0x88, 0xC6, 0xFA};
  assert_int_equal(b.size, 4);
  assert_memory_equal(b.data, want, 4);
  // A run of ten 4s with width 3 -> RLE header 10<<1, value byte.
  b.size = 0;
  const uint16_t r[10] = {4, 4, 4, 4, 4, 4, 4, 4, 4, 4};
  assert_int_equal(otap__pqw_rle_encode_u16(&b, r, 10, 3), 0);
  assert_int_equal(b.size, 2);
  assert_int_equal(b.data[0], 20);
  assert_int_equal(b.data[1], 4);
  otap_buffer_reset(&b);
}

static void test_rle_roundtrip(void** state) {
  (void)state;
  struct otap_buffer b;
  otap_buffer_init(&b);
  int64_t n = 5000;
  uint32_t* v = malloc(sizeof(uint32_t) * n);
  uint32_t* got = malloc(sizeof(uint32_t) * n);
  for (int width = 1; width <= 32; width++) {
    uint64_t mask = width == 32 ? 0xFFFFFFFFu : ((1u << width) - 1);
    for (int pattern = 0; pattern < 4; pattern++) {
      int64_t len = pattern == 3 ? 13 : n;
      for (int64_t i = 0; i < len; i++) {
        switch (pattern) {
          case 0: v[i] = (uint32_t)(rnd() & mask); break;                       // noise
          case 1: v[i] = (uint32_t)(((i / 37) * 7) & mask); break;             // runs
          case 2: v[i] = (uint32_t)((i % 100 < 50 ? 1 : rnd()) & mask); break;  // mixed
          default: v[i] = (uint32_t)(i & mask); break;                         // short tail
        }
      }
      b.size = 0;
      assert_int_equal(otap__pqw_rle_encode_u32(&b, v, len, width), 0);
      int64_t used = ref_rle_decode(b.data, width, len, got);
      assert_true(used <= b.size);
      assert_memory_equal(got, v, sizeof(uint32_t) * len);
    }
  }
  free(v);
  free(got);
  otap_buffer_reset(&b);
}

static void test_delta_binary_packed(void** state) {
  (void)state;
  struct otap_buffer b;
  otap_buffer_init(&b);
  // Encodings.md example 1: 1..5 -> block 128, 4 miniblocks, 5 values, first 1, min delta 1,
  // all widths 0.
  const int32_t ex[] = {1, 2, 3, 4, 5};
  assert_int_equal(otap__pqw_delta_encode_i32(&b, ex, 5), 0);
  const uint8_t want[] = {0x80, 0x01, 0x04, 0x05, 0x02, 0x02, 0, 0, 0, 0};
  assert_int_equal(b.size, sizeof(want));
  assert_memory_equal(b.data, want, sizeof(want));
  int64_t n = 1000;
  int32_t* v32 = malloc(4 * n);
  int64_t* v64 = malloc(8 * n);
  int64_t* got = malloc(8 * n);
  for (int pattern = 0; pattern < 3; pattern++) {
    for (int64_t i = 0; i < n; i++) {
      if (pattern == 0) {
        v32[i] = (int32_t)rnd();
        v64[i] = (int64_t)rnd();
      } else if (pattern == 1) {  // extremes: wrapping deltas
        v32[i] = i % 2 ? INT32_MIN : INT32_MAX;
        v64[i] = i % 3 == 0 ? INT64_MIN : i % 3 == 1 ? INT64_MAX : 0;
      } else {
        v32[i] = (int32_t)(1000 + i * 3);
        v64[i] = 1700000000000000000ll + i * 1000;
      }
    }
    for (int64_t len = 0; len <= n; len += len < 300 ? 129 : 700) {
      int64_t m;
      b.size = 0;
      assert_int_equal(otap__pqw_delta_encode_i32(&b, v32, len), 0);
      assert_int_equal(ref_delta_decode(b.data, true, got, &m), b.size);
      assert_int_equal(m, len);
      for (int64_t i = 0; i < len; i++) assert_int_equal(got[i], v32[i]);
      b.size = 0;
      assert_int_equal(otap__pqw_delta_encode_i64(&b, v64, len), 0);
      assert_int_equal(ref_delta_decode(b.data, false, got, &m), b.size);
      assert_int_equal(m, len);
      for (int64_t i = 0; i < len; i++) assert_true(got[i] == v64[i]);
    }
  }
  free(v32);
  free(v64);
  free(got);
  otap_buffer_reset(&b);
}

static void test_delta_byte_arrays(void** state) {
  (void)state;
  const char* words[] = {"apple", "applesauce", "apply", "", "banana", "band", "band", "x"};
  int n = 8;
  int32_t lens[8];
  char data[128];
  int pos = 0;
  for (int i = 0; i < n; i++) {
    lens[i] = (int32_t)strlen(words[i]);
    memcpy(data + pos, words[i], (size_t)lens[i]);
    pos += lens[i];
  }
  struct otap_buffer b;
  otap_buffer_init(&b);
  // DELTA_LENGTH_BYTE_ARRAY: lengths then bytes.
  assert_int_equal(otap__pqw_delta_length_encode(&b, lens, (const uint8_t*)data, n), 0);
  int64_t got[16], m;
  int64_t used = ref_delta_decode(b.data, true, got, &m);
  assert_int_equal(m, n);
  for (int i = 0; i < n; i++) assert_int_equal(got[i], lens[i]);
  assert_int_equal(b.size - used, pos);
  assert_memory_equal(b.data + used, data, (size_t)pos);
  // DELTA_BYTE_ARRAY: prefix lengths, suffix lengths, suffixes.
  b.size = 0;
  assert_int_equal(otap__pqw_delta_byte_array_encode(&b, lens, (const uint8_t*)data, n), 0);
  int64_t pre[16], suf[16], m2;
  const uint8_t* p = b.data;
  p += ref_delta_decode(p, true, pre, &m);
  p += ref_delta_decode(p, true, suf, &m2);
  assert_int_equal(m, n);
  assert_int_equal(m2, n);
  char prev[64] = "";
  for (int i = 0; i < n; i++) {
    char cur[64];
    memcpy(cur, prev, (size_t)pre[i]);
    memcpy(cur + pre[i], p, (size_t)suf[i]);
    p += suf[i];
    cur[pre[i] + suf[i]] = 0;
    assert_string_equal(cur, words[i]);
    strcpy(prev, cur);
  }
  assert_int_equal(p - b.data, b.size);
  assert_int_equal(pre[1], 5);  // "applesauce" shares "apple"
  otap_buffer_reset(&b);
}

static void test_byte_stream_split_and_bools(void** state) {
  (void)state;
  struct otap_buffer b;
  otap_buffer_init(&b);
  const float f[3] = {1.5f, -2.0f, 1e10f};
  assert_int_equal(otap__pqw_byte_stream_split(&b, (const uint8_t*)f, 3, 4), 0);
  assert_int_equal(b.size, 12);
  for (int k = 0; k < 4; k++) {
    for (int i = 0; i < 3; i++) assert_int_equal(b.data[k * 3 + i], ((const uint8_t*)&f[i])[k]);
  }
  b.size = 0;
  const uint8_t bools[10] = {1, 0, 1, 1, 0, 0, 0, 1, 1, 0};
  assert_int_equal(otap__pqw_plain_bool(&b, bools, 10), 0);
  assert_int_equal(b.size, 2);
  assert_int_equal(b.data[0], 0x8D);
  assert_int_equal(b.data[1], 0x01);
  otap_buffer_reset(&b);
}

// ---------------------------------------------------------------------------------------------
// Codecs

static void decompress(enum otap_parquet_codec codec, const uint8_t* c, int64_t cn, uint8_t* out,
                       int64_t n) {
  switch (codec) {
    case OTAP_PARQUET_CODEC_UNCOMPRESSED:
      assert_int_equal(cn, n);
      if (n) memcpy(out, c, (size_t)n);
      break;
    case OTAP_PARQUET_CODEC_SNAPPY: {
      size_t len = (size_t)n;
      assert_int_equal(snappy_uncompress((const char*)c, (size_t)cn, (char*)out, &len), SNAPPY_OK);
      assert_int_equal(len, n);
      break;
    }
    case OTAP_PARQUET_CODEC_GZIP: {
      z_stream zs;
      memset(&zs, 0, sizeof(zs));
      assert_int_equal(inflateInit2(&zs, 15 + 32), Z_OK);
      zs.next_in = (Bytef*)c;
      zs.avail_in = (uInt)cn;
      zs.next_out = out;
      zs.avail_out = (uInt)n;
      assert_int_equal(inflate(&zs, Z_FINISH), Z_STREAM_END);
      assert_int_equal(zs.total_out, n);
      inflateEnd(&zs);
      break;
    }
    case OTAP_PARQUET_CODEC_BROTLI: {
      size_t len = (size_t)n;
      assert_int_equal(BrotliDecoderDecompress((size_t)cn, c, &len, out), BROTLI_DECODER_RESULT_SUCCESS);
      assert_int_equal(len, n);
      break;
    }
    case OTAP_PARQUET_CODEC_ZSTD:
      assert_int_equal(ZSTD_decompress(out, (size_t)n, c, (size_t)cn), n);
      break;
    case OTAP_PARQUET_CODEC_LZ4_RAW:
      assert_int_equal(LZ4_decompress_safe((const char*)c, (char*)out, (int)cn, (int)n), n);
      break;
    case OTAP_PARQUET_CODEC_LZ4: {
      // Hadoop framing: BE uncompressed size, BE compressed size, raw block.
      uint32_t un = (uint32_t)c[0] << 24 | (uint32_t)c[1] << 16 | (uint32_t)c[2] << 8 | c[3];
      uint32_t cm = (uint32_t)c[4] << 24 | (uint32_t)c[5] << 16 | (uint32_t)c[6] << 8 | c[7];
      assert_int_equal(un, n);
      assert_int_equal(cm + 8, cn);
      assert_int_equal(LZ4_decompress_safe((const char*)c + 8, (char*)out, (int)cm, (int)n), n);
      break;
    }
    default:
      fail();
  }
}

static void test_codecs(void** state) {
  (void)state;
  const enum otap_parquet_codec codecs[] = {
      OTAP_PARQUET_CODEC_UNCOMPRESSED, OTAP_PARQUET_CODEC_SNAPPY, OTAP_PARQUET_CODEC_GZIP,
      OTAP_PARQUET_CODEC_BROTLI,       OTAP_PARQUET_CODEC_ZSTD,   OTAP_PARQUET_CODEC_LZ4_RAW,
      OTAP_PARQUET_CODEC_LZ4};
  int64_t n = 100000;
  uint8_t* in = malloc((size_t)n);
  uint8_t* out = malloc((size_t)n);
  for (int64_t i = 0; i < n; i++) in[i] = (uint8_t)(i % 251 < 100 ? (uint64_t)(i % 7) : rnd());
  struct otap_buffer b;
  otap_buffer_init(&b);
  struct otap_error err;
  for (size_t k = 0; k < sizeof(codecs) / sizeof(codecs[0]); k++) {
    for (int64_t len = 0; len <= n; len += n) {
      b.size = 0;
      assert_int_equal(otap__pqw_compress(codecs[k], INT32_MIN, in, len, &b, &err), 0);
      memset(out, 0xAA, (size_t)n);
      decompress(codecs[k], b.data, b.size, out, len);
      assert_memory_equal(out, in, (size_t)len);
      if (len && codecs[k] != OTAP_PARQUET_CODEC_UNCOMPRESSED) assert_true(b.size < len);
    }
  }
  assert_int_equal(otap__pqw_compress(OTAP_PARQUET_CODEC_LZO, 0, in, 10, &b, &err), ENOTSUP);
  enum otap_parquet_codec c;
  assert_int_equal(otap_parquet_writer_codec_from_name("lz4_raw", &c), 0);
  assert_int_equal(c, OTAP_PARQUET_CODEC_LZ4_RAW);
  assert_string_equal(otap_parquet_writer_codec_name(OTAP_PARQUET_CODEC_ZSTD), "zstd");
  assert_int_equal(otap_parquet_writer_codec_from_name("lzo", &c), ENOTSUP);
  free(in);
  free(out);
  otap_buffer_reset(&b);
}

// ---------------------------------------------------------------------------------------------
// Whole files, read back with the otap reader

static void field(struct ArrowSchema* s, const char* format, const char* name, bool nullable) {
  assert_int_equal(otap_schema_init(s, format), 0);
  assert_int_equal(otap_schema_set_name(s, name), 0);
  if (!nullable) s->flags &= ~ARROW_FLAG_NULLABLE;
}

// Writes `batches` to a memory buffer.
static int write_file(const struct ArrowSchema* schema, struct ArrowArray* batches, int n,
                      const struct otap_parquet_write_options* o, struct otap_buffer* out,
                      struct otap_error* err) {
  struct otap_sink sink;
  int rc = otap_sink_init_buffer(&sink, out, err);
  if (rc) return rc;
  struct otap_parquet_writer* w = NULL;
  rc = otap_parquet_writer_open(&w, &sink, schema, o, err);
  for (int i = 0; i < n && rc == 0; i++) rc = otap_parquet_writer_write(w, &batches[i], err);
  if (rc == 0) rc = otap_parquet_writer_close(w, err);
  otap_parquet_writer_free(w);
  otap_sink_release(&sink);
  return rc;
}

struct readback {
  struct otap_source src;
  struct otap_parquet_reader* reader;
};

static void open_reader(struct readback* rb, const struct otap_buffer* file) {
  struct otap_error err;
  assert_int_equal(otap_source_init_memory(&rb->src, file->data, (size_t)file->size, "mem", &err), 0);
  int rc = otap_parquet_reader_open(&rb->reader, &rb->src, NULL, &err);
  if (rc) fprintf(stderr, "reader: %s\n", err.message);
  assert_int_equal(rc, 0);
}

static void close_reader(struct readback* rb) {
  otap_parquet_reader_free(rb->reader);
  otap_source_release(&rb->src);
}

// Compares element i of a with element j of b, type-agnostically (widths may differ).
static void assert_same_value(const struct otap_array_view* a, int64_t i,
                              const struct otap_array_view* b, int64_t j, const char* what) {
  bool an = otap_view_is_null(a, i) || a->storage_type == OTAP_TYPE_NA;
  bool bn = otap_view_is_null(b, j) || b->storage_type == OTAP_TYPE_NA;
  if (an != bn) fprintf(stderr, "%s: null mismatch at %lld\n", what, (long long)i);
  assert_int_equal(an, bn);
  if (an) return;
  if (a->dictionary) {
    assert_same_value(a->dictionary, otap_view_get_int(a, i), b, j, what);
    return;
  }
  if (b->dictionary) {
    assert_same_value(a, i, b->dictionary, otap_view_get_int(b, j), what);
    return;
  }
  switch (a->storage_type) {
    case OTAP_TYPE_BOOL: case OTAP_TYPE_INT8: case OTAP_TYPE_INT16: case OTAP_TYPE_INT32:
    case OTAP_TYPE_INT64: case OTAP_TYPE_UINT8: case OTAP_TYPE_UINT16: case OTAP_TYPE_UINT32:
    case OTAP_TYPE_UINT64:
      if (otap_view_get_uint(a, i) != otap_view_get_uint(b, j)) {
        fprintf(stderr, "%s[%lld]: %llu != %llu\n", what, (long long)i,
                (unsigned long long)otap_view_get_uint(a, i), (unsigned long long)otap_view_get_uint(b, j));
      }
      assert_true(otap_view_get_uint(a, i) == otap_view_get_uint(b, j));
      break;
    case OTAP_TYPE_FLOAT: case OTAP_TYPE_DOUBLE: case OTAP_TYPE_HALF_FLOAT: {
      double x = otap_view_get_double(a, i), y = otap_view_get_double(b, j);
      assert_true((isnan(x) && isnan(y)) || memcmp(&x, &y, 8) == 0);
      break;
    }
    case OTAP_TYPE_STRUCT:
      assert_int_equal(a->n_children, b->n_children);
      for (int64_t k = 0; k < a->n_children; k++) {
        assert_same_value(a->children[k], a->offset + i, b->children[k], b->offset + j, what);
      }
      break;
    case OTAP_TYPE_LIST: case OTAP_TYPE_LARGE_LIST: case OTAP_TYPE_MAP: {
      int64_t s1, e1, s2, e2;
      otap_view_get_list_range(a, i, &s1, &e1);
      otap_view_get_list_range(b, j, &s2, &e2);
      assert_int_equal(e1 - s1, e2 - s2);
      for (int64_t k = 0; k < e1 - s1; k++) {
        assert_same_value(a->children[0], s1 + k, b->children[0], s2 + k, what);
      }
      break;
    }
    default: {
      const uint8_t *p1, *p2;
      int64_t l1, l2;
      otap_view_get_bytes(a, i, &p1, &l1);
      otap_view_get_bytes(b, j, &p2, &l2);
      assert_int_equal(l1, l2);
      assert_memory_equal(p1, p2, (size_t)l1);
    }
  }
}

// Reads all batches of the file and compares them, row by row, with the written batches.
static void assert_file_equals(const struct otap_buffer* file, const struct ArrowSchema* schema,
                               struct ArrowArray* batches, int n) {
  struct readback rb;
  open_reader(&rb, file);
  struct otap_error err;
  const struct ArrowSchema* rs = otap_parquet_reader_schema(rb.reader);
  assert_int_equal(rs->n_children, schema->n_children);
  struct otap_array_view wv, rv;
  assert_int_equal(otap_array_view_init(&wv, schema, &err), 0);
  assert_int_equal(otap_array_view_init(&rv, rs, &err), 0);
  int wb = 0;
  int64_t wi = 0, total = 0;
  assert_int_equal(otap_array_view_set(&wv, &batches[0], OTAP_VALIDATE_FULL, &err), 0);
  for (;;) {
    struct ArrowArray got;
    int rc = otap_parquet_reader_next(rb.reader, &got, &err);
    if (rc) fprintf(stderr, "read: %s\n", err.message);
    assert_int_equal(rc, 0);
    if (!got.release) break;
    assert_int_equal(otap_array_view_set(&rv, &got, OTAP_VALIDATE_FULL, &err), 0);
    for (int64_t r = 0; r < got.length; r++) {
      while (wi >= batches[wb].length) {
        wb++;
        wi = 0;
        assert_true(wb < n);
        assert_int_equal(otap_array_view_set(&wv, &batches[wb], OTAP_VALIDATE_FULL, &err), 0);
      }
      for (int64_t c = 0; c < schema->n_children; c++) {
        assert_same_value(wv.children[c], wv.offset + wi, rv.children[c], rv.offset + r,
                          schema->children[c]->name);
      }
      wi++;
      total++;
    }
    got.release(&got);
  }
  int64_t expected = 0;
  for (int i = 0; i < n; i++) expected += batches[i].length;
  assert_int_equal(total, expected);
  otap_array_view_reset(&wv);
  otap_array_view_reset(&rv);
  close_reader(&rb);
}

// A schema of many types plus nesting, and a batch of `rows` rows with nulls everywhere.
static void make_table(struct ArrowSchema* s, struct ArrowArray* batches, int n_batches, int rows) {
  assert_int_equal(otap_schema_init(s, "+s"), 0);
  assert_int_equal(otap_schema_allocate_children(s, 15), 0);
  field(s->children[0], "I", "u32", true);
  field(s->children[1], "C", "u8", true);
  field(s->children[2], "l", "i64", false);
  field(s->children[3], "g", "f64", true);
  field(s->children[4], "u", "s", true);
  field(s->children[5], "z", "bin", true);
  field(s->children[6], "w:16", "fsb", true);
  field(s->children[7], "b", "flag", true);
  field(s->children[8], "tsn:", "ts", true);
  field(s->children[9], "+s", "st", true);
  assert_int_equal(otap_schema_allocate_children(s->children[9], 2), 0);
  field(s->children[9]->children[0], "i", "a", true);
  field(s->children[9]->children[1], "U", "b", false);
  field(s->children[10], "+l", "lst", true);
  assert_int_equal(otap_schema_allocate_children(s->children[10], 1), 0);
  field(s->children[10]->children[0], "+s", "item", true);
  assert_int_equal(otap_schema_allocate_children(s->children[10]->children[0], 1), 0);
  field(s->children[10]->children[0]->children[0], "u", "x", true);
  field(s->children[11], "+m", "mp", true);
  assert_int_equal(otap_schema_allocate_children(s->children[11], 1), 0);
  field(s->children[11]->children[0], "+s", "entries", false);
  assert_int_equal(otap_schema_allocate_children(s->children[11]->children[0], 2), 0);
  field(s->children[11]->children[0]->children[0], "u", "key", false);
  field(s->children[11]->children[0]->children[1], "l", "value", true);
  field(s->children[12], "d:20,3", "dec", true);
  field(s->children[13], "f", "f32", true);
  field(s->children[14], "s", "dict", true);  // dictionary<int16, utf8>
  assert_int_equal(otap_schema_allocate_dictionary(s->children[14]), 0);
  field(s->children[14]->dictionary, "u", "", true);
  struct otap_error err;
  const char* words[] = {"a", "bb", "ccc", "", "dddd", "é"};
  int64_t row = 0;
  for (int bi = 0; bi < n_batches; bi++) {
    struct ArrowArray* b = &batches[bi];
    assert_int_equal(otap_array_init_from_schema(b, s, &err), 0);
    // Each batch has its own Arrow dictionary (rotated), as OTAP batches do.
    for (int k = 0; k < 6; k++) {
      const char* dw = words[(k + bi) % 6];
      assert_int_equal(otap_array_append_bytes(b->children[14]->dictionary, dw, (int64_t)strlen(dw)), 0);
    }
    for (int r = 0; r < rows; r++, row++) {
      struct ArrowArray** c = b->children;
      bool nul = row % 7 == 3;
      if (nul) {
        for (int k = 0; k < 15; k++) {
          if (k == 2) {
            assert_int_equal(otap_array_append_int(c[k], -row), 0);
          } else {
            assert_int_equal(otap_array_append_null(c[k], 1), 0);
          }
        }
        assert_int_equal(otap_array_finish_element(b), 0);
        continue;
      }
      assert_int_equal(otap_array_append_uint(c[0], (uint64_t)(row * 2654435761u) & 0xFFFFFFFF), 0);
      assert_int_equal(otap_array_append_uint(c[1], (uint64_t)(row % 256)), 0);
      assert_int_equal(otap_array_append_int(c[2], (int64_t)rnd()), 0);
      assert_int_equal(otap_array_append_double(c[3], (double)(int64_t)rnd() / 1e9), 0);
      const char* w = words[row % 6];
      assert_int_equal(otap_array_append_bytes(c[4], w, (int64_t)strlen(w)), 0);
      uint8_t bytes[16];
      for (int k = 0; k < 16; k++) bytes[k] = (uint8_t)rnd();
      assert_int_equal(otap_array_append_bytes(c[5], bytes, row % 17), 0);
      assert_int_equal(otap_array_append_bytes(c[6], bytes, 16), 0);
      assert_int_equal(otap_array_append_int(c[7], row & 1), 0);
      assert_int_equal(otap_array_append_int(c[8], 1700000000000000000ll + row), 0);
      // struct
      if (row % 5 == 1) {
        assert_int_equal(otap_array_append_null(c[9]->children[0], 1), 0);
      } else {
        assert_int_equal(otap_array_append_int(c[9]->children[0], (int32_t)row), 0);
      }
      assert_int_equal(otap_array_append_bytes(c[9]->children[1], w, (int64_t)strlen(w)), 0);
      assert_int_equal(otap_array_finish_element(c[9]), 0);
      // list<struct<x: utf8>>
      struct ArrowArray* item = c[10]->children[0];
      for (int k = 0; k < row % 4; k++) {
        if (k == 2) {
          assert_int_equal(otap_array_append_null(item, 1), 0);
          continue;
        }
        if (k == 1) {
          assert_int_equal(otap_array_append_null(item->children[0], 1), 0);
        } else {
          assert_int_equal(otap_array_append_bytes(item->children[0], w, (int64_t)strlen(w)), 0);
        }
        assert_int_equal(otap_array_finish_element(item), 0);
      }
      assert_int_equal(otap_array_finish_element(c[10]), 0);
      // map<utf8, int64>
      struct ArrowArray* ent = c[11]->children[0];
      for (int k = 0; k < row % 3; k++) {
        char key[8];
        int kl = snprintf(key, sizeof(key), "k%d", k);
        assert_int_equal(otap_array_append_bytes(ent->children[0], key, kl), 0);
        if (k == 1) {
          assert_int_equal(otap_array_append_null(ent->children[1], 1), 0);
        } else {
          assert_int_equal(otap_array_append_int(ent->children[1], row * 10 + k), 0);
        }
        assert_int_equal(otap_array_finish_element(ent), 0);
      }
      assert_int_equal(otap_array_finish_element(c[11]), 0);
      uint8_t dec[16];
      int64_t dv = (int64_t)rnd() >> 3;
      for (int k = 0; k < 16; k++) dec[k] = k < 8 ? (uint8_t)((uint64_t)dv >> (8 * k)) : (dv < 0 ? 0xFF : 0);
      assert_int_equal(otap_array_append_bytes(c[12], dec, 16), 0);
      assert_int_equal(otap_array_append_double(c[13], (double)(row % 1000) * 0.5), 0);
      assert_int_equal(otap_array_append_int(c[14], (row * 7) % 6), 0);
      assert_int_equal(otap_array_finish_element(b), 0);
    }
    assert_int_equal(otap_array_finish(b, OTAP_VALIDATE_FULL, s, &err), 0);
  }
}

static void release_table(struct ArrowSchema* s, struct ArrowArray* b, int n) {
  for (int i = 0; i < n; i++) otap_array_release(&b[i]);
  otap_schema_release(s);
}

static void test_roundtrip_all_options(void** state) {
  (void)state;
  struct ArrowSchema s;
  struct ArrowArray b[3];
  make_table(&s, b, 3, 700);
  const enum otap_parquet_codec codecs[] = {
      OTAP_PARQUET_CODEC_UNCOMPRESSED, OTAP_PARQUET_CODEC_SNAPPY, OTAP_PARQUET_CODEC_GZIP,
      OTAP_PARQUET_CODEC_BROTLI,       OTAP_PARQUET_CODEC_ZSTD,   OTAP_PARQUET_CODEC_LZ4_RAW,
      OTAP_PARQUET_CODEC_LZ4};
  for (size_t k = 0; k < sizeof(codecs) / sizeof(codecs[0]); k++) {
    for (int version = 1; version <= 2; version++) {
      for (int variant = 0; variant < 3; variant++) {
        struct otap_parquet_write_options o;
        otap_parquet_write_options_init(&o);
        o.codec = codecs[k];
        o.page_version = version;
        o.row_group_rows = 500;
        struct otap_parquet_column_options co[3] = {{"i64", -1, OTAP_PARQUET_ENC_DELTA_BINARY_PACKED},
                                                    {"f64", -1, OTAP_PARQUET_ENC_BYTE_STREAM_SPLIT},
                                                    {"fsb", -1, OTAP_PARQUET_ENC_DELTA_BYTE_ARRAY}};
        if (variant == 1) {  // no dictionary, delta strings, per-column encodings
          o.dictionary = false;
          o.default_encoding = OTAP_PARQUET_ENC_DELTA_LENGTH_BYTE_ARRAY;
          o.columns = co;
          o.n_columns = 3;
        } else if (variant == 2) {  // tiny pages, dictionary fallback
          o.data_page_size = 300;
          o.dictionary_page_size = 64;
          o.default_encoding = OTAP_PARQUET_ENC_DELTA_BYTE_ARRAY;
        }
        struct otap_buffer file;
        otap_buffer_init(&file);
        struct otap_error err;
        int rc = write_file(&s, b, 3, &o, &file, &err);
        if (rc) fprintf(stderr, "write: %s\n", err.message);
        assert_int_equal(rc, 0);
        assert_file_equals(&file, &s, b, 3);
        otap_buffer_reset(&file);
      }
    }
  }
  release_table(&s, b, 3);
}

static const struct otap_parquet_column_chunk* chunk(const struct otap_parquet_reader* r, int rg,
                                                     int col) {
  const struct otap_parquet_file_metadata* md = otap_parquet_reader_metadata(r);
  assert_true(rg < md->n_row_groups);
  assert_true(col < md->row_groups[rg].n_columns);
  return &md->row_groups[rg].columns[col];
}

static void test_metadata_and_row_groups(void** state) {
  (void)state;
  struct ArrowSchema s;
  struct ArrowArray b[7];
  make_table(&s, b, 7, 45);  // 315 rows
  struct otap_parquet_write_options o;
  otap_parquet_write_options_init(&o);
  o.row_group_rows = 100;
  o.created_by = "otap test";
  struct otap_metadata_entry kv[2] = {{"k1", 2, "v1", 2}, {"k2", 2, NULL, 0}};
  o.metadata = kv;
  o.n_metadata = 2;
  struct otap_buffer file;
  otap_buffer_init(&file);
  struct otap_error err;
  assert_int_equal(write_file(&s, b, 7, &o, &file, &err), 0);
  assert_memory_equal(file.data, "PAR1", 4);
  assert_memory_equal(file.data + file.size - 4, "PAR1", 4);
  struct readback rb;
  open_reader(&rb, &file);
  const struct otap_parquet_file_metadata* md = otap_parquet_reader_metadata(rb.reader);
  assert_int_equal(md->num_rows, 315);
  assert_int_equal(md->n_row_groups, 4);
  assert_int_equal(md->row_groups[0].num_rows, 100);
  assert_int_equal(md->row_groups[3].num_rows, 15);
  assert_string_equal(md->created_by, "otap test");
  assert_true(md->n_key_value >= 2);
  assert_string_equal(md->key_value[0].key, "k1");
  assert_string_equal(md->key_value[0].value, "v1");
  assert_string_equal(md->key_value[1].key, "k2");
  assert_null(md->key_value[1].value);
  assert_string_equal(md->schema[0].name, "arrow_schema");
  // Leaves: u32 u8 i64 f64 s bin fsb flag ts st.a st.b lst.list.element.x mp.key_value.key
  // mp.key_value.value dec f32
  assert_int_equal(md->row_groups[0].n_columns, 17);
  const struct otap_parquet_column_chunk* lx = chunk(rb.reader, 0, 11);
  assert_int_equal(lx->n_path, 4);
  assert_string_equal(lx->path[0], "lst");
  assert_string_equal(lx->path[1], "list");
  assert_string_equal(lx->path[2], "element");
  assert_string_equal(lx->path[3], "x");
  const struct otap_parquet_column_chunk* mk = chunk(rb.reader, 0, 12);
  assert_string_equal(mk->path[1], "key_value");
  assert_string_equal(mk->path[2], "key");
  // Schema annotations: u32 is INT32 with INTEGER(32, unsigned) and UINT_32.
  const struct otap_parquet_schema_element* e = &md->schema[1];
  assert_string_equal(e->name, "u32");
  assert_int_equal(e->type, OTAP_PARQUET_INT32);
  assert_int_equal(e->logical.kind, OTAP_PARQUET_LT_INTEGER);
  assert_false(e->logical.int_signed);
  assert_int_equal(e->converted_type, 13);
  assert_int_equal(md->schema[3].repetition, OTAP_PARQUET_REQUIRED);  // i64 non-nullable
  // Dictionary pages on the string column, none on FLBA.
  assert_true(chunk(rb.reader, 0, 4)->has_dictionary_page_offset);
  assert_false(chunk(rb.reader, 0, 6)->has_dictionary_page_offset);
  // Statistics of the dictionary<int16, utf8> column come from the dictionary entries used.
  for (int rg = 0; rg < 4; rg++) {
    const struct otap_parquet_statistics* st = &chunk(rb.reader, rg, 16)->statistics;
    assert_true(st->has_min && st->has_max);
    assert_int_equal(st->min.len, 0);
    assert_int_equal(st->max.len, 2);
    assert_memory_equal(st->max.data, "\xc3\xa9", 2);
    assert_true(chunk(rb.reader, rg, 16)->has_dictionary_page_offset);
  }
  close_reader(&rb);
  assert_file_equals(&file, &s, b, 7);
  otap_buffer_reset(&file);
  release_table(&s, b, 7);
}

// One column per ordering; checks chunk statistics and the column index.
static void test_statistics_orderings(void** state) {
  (void)state;
  struct ArrowSchema s;
  assert_int_equal(otap_schema_init(&s, "+s"), 0);
  assert_int_equal(otap_schema_allocate_children(&s, 6), 0);
  field(s.children[0], "I", "u32", true);
  field(s.children[1], "i", "i32", true);
  field(s.children[2], "u", "str", true);
  field(s.children[3], "g", "dbl", true);
  field(s.children[4], "d:9,0", "dec", true);
  field(s.children[5], "L", "u64", true);
  struct ArrowArray b;
  struct otap_error err;
  assert_int_equal(otap_array_init_from_schema(&b, &s, &err), 0);
  const uint32_t u32[] = {1, 0x80000000u, 0xFFFFFFFFu, 7};
  const int32_t i32[] = {-5, 3, INT32_MIN, 0};
  const char* str[] = {"b", "a\xc3\xa9", "ab", "B"};
  const double dbl[] = {NAN, 0.0, -2.5, -0.0};
  const int64_t dec[] = {-3, 2, 100, -100};
  const uint64_t u64[] = {UINT64_MAX, 1, 1ull << 63, 2};
  for (int r = 0; r < 4; r++) {
    assert_int_equal(otap_array_append_uint(b.children[0], u32[r]), 0);
    assert_int_equal(otap_array_append_int(b.children[1], i32[r]), 0);
    assert_int_equal(otap_array_append_bytes(b.children[2], str[r], (int64_t)strlen(str[r])), 0);
    assert_int_equal(otap_array_append_double(b.children[3], dbl[r]), 0);
    assert_int_equal(otap_array_append_int(b.children[4], dec[r]), 0);
    assert_int_equal(otap_array_append_uint(b.children[5], u64[r]), 0);
    assert_int_equal(otap_array_finish_element(&b), 0);
  }
  for (int k = 0; k < 6; k++) assert_int_equal(otap_array_append_null(b.children[k], 1), 0);
  assert_int_equal(otap_array_finish_element(&b), 0);
  int frc = otap_array_finish(&b, OTAP_VALIDATE_FULL, &s, &err);
  if (frc) fprintf(stderr, "finish: %s\n", err.message);
  assert_int_equal(frc, 0);
  struct otap_buffer file;
  otap_buffer_init(&file);
  assert_int_equal(write_file(&s, &b, 1, NULL, &file, &err), 0);
  struct readback rb;
  open_reader(&rb, &file);
  const struct otap_parquet_statistics* st;
  uint32_t u;
  int32_t i;
  double d;
  uint64_t u6;
  // uint32: unsigned order
  st = &chunk(rb.reader, 0, 0)->statistics;
  assert_true(st->has_min && st->has_max);
  assert_true(st->is_min_exact && st->is_max_exact);
  assert_int_equal(st->null_count, 1);
  memcpy(&u, st->min.data, 4);
  assert_int_equal(u, 1);
  memcpy(&u, st->max.data, 4);
  assert_int_equal(u, 0xFFFFFFFFu);
  // int32: signed order
  st = &chunk(rb.reader, 0, 1)->statistics;
  memcpy(&i, st->min.data, 4);
  assert_int_equal(i, INT32_MIN);
  memcpy(&i, st->max.data, 4);
  assert_int_equal(i, 3);
  // strings: byte-wise unsigned ("B" < "ab" < "a\xc3\xa9" < "b")
  st = &chunk(rb.reader, 0, 2)->statistics;
  assert_int_equal(st->min.len, 1);
  assert_memory_equal(st->min.data, "B", 1);
  assert_int_equal(st->max.len, 1);
  assert_memory_equal(st->max.data, "b", 1);
  // double: NaN excluded, max zero written as +0.0
  st = &chunk(rb.reader, 0, 3)->statistics;
  memcpy(&d, st->min.data, 8);
  assert_true(d == -2.5);
  memcpy(&d, st->max.data, 8);
  assert_true(d == 0.0 && !signbit(d));
  // decimal(9,0) in FLBA(4) big-endian: signed order
  st = &chunk(rb.reader, 0, 4)->statistics;
  assert_int_equal(st->min.len, 4);
  const uint8_t minus100[4] = {0xFF, 0xFF, 0xFF, 0x9C};
  const uint8_t plus100[4] = {0, 0, 0, 100};
  assert_memory_equal(st->min.data, minus100, 4);
  assert_memory_equal(st->max.data, plus100, 4);
  // uint64 unsigned
  st = &chunk(rb.reader, 0, 5)->statistics;
  memcpy(&u6, st->min.data, 8);
  assert_true(u6 == 1);
  memcpy(&u6, st->max.data, 8);
  assert_true(u6 == UINT64_MAX);
  // Column index and offset index of the uint32 column.
  struct otap_parquet_column_index ci;
  memset(&ci, 0, sizeof(ci));
  assert_int_equal(otap_parquet_reader_column_index(rb.reader, 0, 0, &ci, &err), 0);
  assert_int_equal(ci.n_pages, 1);
  assert_false(ci.null_pages[0]);
  assert_true(ci.has_null_counts);
  assert_int_equal(ci.null_counts[0], 1);
  memcpy(&u, ci.max_values[0].data, 4);
  assert_int_equal(u, 0xFFFFFFFFu);
  otap_parquet_column_index_reset(&ci);
  struct otap_parquet_offset_index oi;
  memset(&oi, 0, sizeof(oi));
  assert_int_equal(otap_parquet_reader_offset_index(rb.reader, 0, 0, &oi, &err), 0);
  assert_int_equal(oi.n_pages, 1);
  assert_int_equal(oi.pages[0].first_row_index, 0);
  assert_true(oi.pages[0].offset >= 4);
  otap_parquet_offset_index_reset(&oi);
  close_reader(&rb);
  assert_file_equals(&file, &s, &b, 1);
  otap_buffer_reset(&file);
  otap_array_release(&b);
  otap_schema_release(&s);
}

// Many pages: offset index rows, column index truncation and boundary order, dictionary
// fallback to PLAIN recorded in the column metadata.
static void test_page_index_and_fallback(void** state) {
  (void)state;
  struct ArrowSchema s;
  assert_int_equal(otap_schema_init(&s, "+s"), 0);
  assert_int_equal(otap_schema_allocate_children(&s, 2), 0);
  field(s.children[0], "l", "seq", false);
  field(s.children[1], "u", "long", true);
  struct ArrowArray b;
  struct otap_error err;
  assert_int_equal(otap_array_init_from_schema(&b, &s, &err), 0);
  char buf[200];
  for (int r = 0; r < 5000; r++) {
    assert_int_equal(otap_array_append_int(b.children[0], r), 0);
    memset(buf, 'a' + r % 26, 100);
    snprintf(buf + 100, 100, "%06d", r);
    assert_int_equal(otap_array_append_bytes(b.children[1], buf, 106), 0);
    assert_int_equal(otap_array_finish_element(&b), 0);
  }
  assert_int_equal(otap_array_finish(&b, OTAP_VALIDATE_FULL, &s, &err), 0);
  struct otap_parquet_write_options o;
  otap_parquet_write_options_init(&o);
  o.data_page_size = 4096;
  o.dictionary_page_size = 20000;
  struct otap_buffer file;
  otap_buffer_init(&file);
  assert_int_equal(write_file(&s, &b, 1, &o, &file, &err), 0);
  struct readback rb;
  open_reader(&rb, &file);
  struct otap_parquet_offset_index oi;
  memset(&oi, 0, sizeof(oi));
  assert_int_equal(otap_parquet_reader_offset_index(rb.reader, 0, 0, &oi, &err), 0);
  if (oi.n_pages <= 3) fprintf(stderr, "pages: %d\n", oi.n_pages);
  assert_true(oi.n_pages > 3);
  int64_t prev_row = -1;
  for (int p = 0; p < oi.n_pages; p++) {
    assert_true(oi.pages[p].first_row_index > prev_row);
    prev_row = oi.pages[p].first_row_index;
    // Every page location points at a page header: type DATA_PAGE (field 1 = 0).
    assert_int_equal(file.data[oi.pages[p].offset], 0x15);
  }
  assert_int_equal(oi.pages[0].first_row_index, 0);
  otap_parquet_offset_index_reset(&oi);
  struct otap_parquet_column_index ci;
  memset(&ci, 0, sizeof(ci));
  assert_int_equal(otap_parquet_reader_column_index(rb.reader, 0, 0, &ci, &err), 0);
  assert_int_equal(ci.boundary_order, 1);  // ascending
  otap_parquet_column_index_reset(&ci);
  assert_int_equal(otap_parquet_reader_column_index(rb.reader, 0, 1, &ci, &err), 0);
  for (int p = 0; p < ci.n_pages; p++) {
    assert_true(ci.min_values[p].len <= 64);
    assert_true(ci.max_values[p].len <= 64);
  }
  otap_parquet_column_index_reset(&ci);
  // The string column fell back: both RLE_DICTIONARY and PLAIN appear.
  const struct otap_parquet_column_chunk* c = chunk(rb.reader, 0, 1);
  bool dict = false, plain = false;
  for (int k = 0; k < c->n_encodings; k++) {
    dict |= c->encodings[k] == OTAP_PARQUET_ENC_RLE_DICTIONARY;
    plain |= c->encodings[k] == OTAP_PARQUET_ENC_PLAIN;
  }
  assert_true(dict && plain);
  assert_true(c->has_dictionary_page_offset);
  // Chunk statistics of the long strings are exact (not truncated).
  assert_int_equal(c->statistics.max.len, 106);
  close_reader(&rb);
  assert_file_equals(&file, &s, &b, 1);
  otap_buffer_reset(&file);
  otap_array_release(&b);
  otap_schema_release(&s);
}

static void test_errors(void** state) {
  (void)state;
  struct otap_error err;
  struct otap_buffer file;
  otap_buffer_init(&file);
  struct otap_sink sink;
  assert_int_equal(otap_sink_init_buffer(&sink, &file, &err), 0);
  struct otap_parquet_writer* w = NULL;
  // Not a struct.
  struct ArrowSchema s;
  field(&s, "i", "x", true);
  assert_int_equal(otap_parquet_writer_open(&w, &sink, &s, NULL, &err), EINVAL);
  otap_schema_release(&s);
  // Unsupported type (sparse union) names the column.
  assert_int_equal(otap_schema_init(&s, "+s"), 0);
  assert_int_equal(otap_schema_allocate_children(&s, 1), 0);
  field(s.children[0], "+us:0", "un", true);
  assert_int_equal(otap_schema_allocate_children(s.children[0], 1), 0);
  field(s.children[0]->children[0], "i", "a", true);
  assert_int_equal(otap_parquet_writer_open(&w, &sink, &s, NULL, &err), ENOTSUP);
  assert_non_null(strstr(err.message, "un"));
  otap_schema_release(&s);
  // LZO, bad page version, encoding that does not fit.
  assert_int_equal(otap_schema_init(&s, "+s"), 0);
  assert_int_equal(otap_schema_allocate_children(&s, 1), 0);
  field(s.children[0], "i", "req", false);
  struct otap_parquet_write_options o;
  otap_parquet_write_options_init(&o);
  o.codec = OTAP_PARQUET_CODEC_LZO;
  assert_int_equal(otap_parquet_writer_open(&w, &sink, &s, &o, &err), ENOTSUP);
  otap_parquet_write_options_init(&o);
  o.page_version = 3;
  assert_int_equal(otap_parquet_writer_open(&w, &sink, &s, &o, &err), EINVAL);
  otap_parquet_write_options_init(&o);
  struct otap_parquet_column_options co = {"req", -1, OTAP_PARQUET_ENC_DELTA_BYTE_ARRAY};
  o.columns = &co;
  o.n_columns = 1;
  assert_int_equal(otap_parquet_writer_open(&w, &sink, &s, &o, &err), ENOTSUP);
  // A null in a non-nullable column is EINVAL naming the column.
  assert_int_equal(otap_parquet_writer_open(&w, &sink, &s, NULL, &err), 0);
  struct ArrowArray b;
  struct ArrowSchema ns;
  assert_int_equal(otap_schema_deep_copy(&s, &ns, &err), 0);
  ns.children[0]->flags |= ARROW_FLAG_NULLABLE;  // build with a validity bitmap
  assert_int_equal(otap_array_init_from_schema(&b, &ns, &err), 0);
  assert_int_equal(otap_array_append_null(b.children[0], 1), 0);
  assert_int_equal(otap_array_finish_element(&b), 0);
  assert_int_equal(otap_array_finish(&b, OTAP_VALIDATE_NONE, &ns, &err), 0);
  assert_int_equal(otap_parquet_writer_write(w, &b, &err), EINVAL);
  assert_non_null(strstr(err.message, "req"));
  assert_int_equal(otap_parquet_writer_close(w, &err), EINVAL);  // failed writer
  otap_parquet_writer_free(w);
  otap_parquet_writer_free(NULL);
  otap_array_release(&b);
  otap_schema_release(&ns);
  otap_schema_release(&s);
  otap_sink_release(&sink);
  otap_buffer_reset(&file);
}

// otap_parquet_write_stream to a file path: the file appears only after a complete write.
static void test_stream_to_file(void** state) {
  (void)state;
  char dir[] = "/tmp/otap_pqw_XXXXXX";
  assert_non_null(mkdtemp(dir));
  char path[256];
  snprintf(path, sizeof(path), "%s/out.parquet", dir);
  struct ArrowSchema s;
  struct ArrowArray b[2];
  make_table(&s, b, 2, 100);
  struct otap_error err;
  struct ArrowSchema sc;
  assert_int_equal(otap_schema_deep_copy(&s, &sc, &err), 0);
  struct ArrowArray refs[2];
  for (int i = 0; i < 2; i++) assert_int_equal(otap_array_ref(&b[i], &refs[i], &err), 0);
  struct ArrowArrayStream stream;
  assert_int_equal(otap_array_stream_init(&stream, &sc, refs, 2, &err), 0);
  struct otap_sink sink;
  assert_int_equal(otap_sink_open_file(&sink, path, &err), 0);
  struct otap_parquet_write_options o;
  otap_parquet_write_options_init(&o);
  o.codec = OTAP_PARQUET_CODEC_SNAPPY;
  o.page_version = 2;
  int rc = otap_parquet_write_stream(&sink, &stream, &o, &err);
  if (rc) fprintf(stderr, "%s\n", err.message);
  assert_int_equal(rc, 0);
  otap_sink_release(&sink);
  stream.release(&stream);
  struct otap_buffer file;
  otap_buffer_init(&file);
  assert_int_equal(otap_read_file(path, &file, &err), 0);
  assert_file_equals(&file, &s, b, 2);
  otap_buffer_reset(&file);
  unlink(path);
  // A write that fails midway leaves no file behind.
  assert_int_equal(otap_sink_open_file(&sink, path, &err), 0);
  struct otap_parquet_writer* w;
  assert_int_equal(otap_parquet_writer_open(&w, &sink, &s, NULL, &err), 0);
  assert_int_equal(otap_parquet_writer_write(w, &b[0], &err), 0);
  otap_parquet_writer_free(w);  // no close
  otap_sink_release(&sink);
  assert_int_equal(access(path, F_OK), -1);
  rmdir(dir);
  release_table(&s, b, 2);
}

// Hostile arrays that pass the O(1) DEFAULT validation: decreasing string offsets and dictionary
// indices past the dictionary are EINVAL, never an out-of-bounds read.
static void test_hostile_arrays(void** state) {
  (void)state;
  struct otap_error err;
  struct ArrowSchema s;
  assert_int_equal(otap_schema_init(&s, "+s"), 0);
  assert_int_equal(otap_schema_allocate_children(&s, 1), 0);
  field(s.children[0], "u", "str", true);
  struct ArrowArray b;
  assert_int_equal(otap_array_init_from_schema(&b, &s, &err), 0);
  const char* v[3] = {"abcde", "fg", "h"};
  for (int i = 0; i < 3; i++) {
    assert_int_equal(otap_array_append_bytes(b.children[0], v[i], (int64_t)strlen(v[i])), 0);
    assert_int_equal(otap_array_finish_element(&b), 0);
  }
  assert_int_equal(otap_array_finish(&b, OTAP_VALIDATE_FULL, &s, &err), 0);
  int32_t* offsets = (int32_t*)b.children[0]->buffers[1];
  offsets[1] = 7;  // 0, 7, 7 -> 0, 7, 7, 8: first/last unchanged, element 1 fine, element 0 ok
  offsets[2] = 2;  // element 1 now runs 7..2
  struct otap_buffer file;
  otap_buffer_init(&file);
  struct otap_parquet_write_options o;
  otap_parquet_write_options_init(&o);
  o.dictionary = false;
  assert_int_equal(write_file(&s, &b, 1, &o, &file, &err), EINVAL);
  assert_non_null(strstr(err.message, "str"));
  otap_array_release(&b);
  otap_schema_release(&s);
  // list<int32> whose middle offset runs backwards.
  assert_int_equal(otap_schema_init(&s, "+s"), 0);
  assert_int_equal(otap_schema_allocate_children(&s, 1), 0);
  field(s.children[0], "+l", "lst", true);
  assert_int_equal(otap_schema_allocate_children(s.children[0], 1), 0);
  field(s.children[0]->children[0], "i", "item", true);
  assert_int_equal(otap_array_init_from_schema(&b, &s, &err), 0);
  for (int r = 0; r < 3; r++) {
    for (int k = 0; k < 2; k++) assert_int_equal(otap_array_append_int(b.children[0]->children[0], k), 0);
    assert_int_equal(otap_array_finish_element(b.children[0]), 0);
    assert_int_equal(otap_array_finish_element(&b), 0);
  }
  assert_int_equal(otap_array_finish(&b, OTAP_VALIDATE_FULL, &s, &err), 0);
  offsets = (int32_t*)b.children[0]->buffers[1];
  offsets[1] = 9;  // 0, 9, 4, 6: element 0 past the 6 child values, element 1 backwards
  file.size = 0;
  assert_int_equal(write_file(&s, &b, 1, NULL, &file, &err), EINVAL);
  assert_non_null(strstr(err.message, "lst"));
  otap_array_release(&b);
  otap_schema_release(&s);
  // dictionary<int8, utf8> with an index past its two entries.
  assert_int_equal(otap_schema_init(&s, "+s"), 0);
  assert_int_equal(otap_schema_allocate_children(&s, 1), 0);
  field(s.children[0], "c", "d", true);
  assert_int_equal(otap_schema_allocate_dictionary(s.children[0]), 0);
  field(s.children[0]->dictionary, "u", "", true);
  assert_int_equal(otap_array_init_from_schema(&b, &s, &err), 0);
  assert_int_equal(otap_array_append_bytes(b.children[0]->dictionary, "x", 1), 0);
  assert_int_equal(otap_array_append_bytes(b.children[0]->dictionary, "y", 1), 0);
  assert_int_equal(otap_array_append_int(b.children[0], 1), 0);
  assert_int_equal(otap_array_finish_element(&b), 0);
  assert_int_equal(otap_array_append_int(b.children[0], 5), 0);
  assert_int_equal(otap_array_finish_element(&b), 0);
  assert_int_equal(otap_array_finish(&b, OTAP_VALIDATE_NONE, &s, &err), 0);
  file.size = 0;
  assert_int_equal(write_file(&s, &b, 1, NULL, &file, &err), EINVAL);
  assert_non_null(strstr(err.message, "dictionary index 5"));
  // FULL validation catches it before the writer reads anything.
  otap_parquet_write_options_init(&o);
  o.validation = OTAP_VALIDATE_FULL;
  file.size = 0;
  assert_int_equal(write_file(&s, &b, 1, &o, &file, &err), EINVAL);
  otap_buffer_reset(&file);
  otap_array_release(&b);
  otap_schema_release(&s);
}

// decimal32/64 become INT32/INT64 DECIMAL; time32(s) and timestamp(s) are coerced to millis.
static void test_small_decimals_and_coercions(void** state) {
  (void)state;
  struct otap_error err;
  struct ArrowSchema s;
  assert_int_equal(otap_schema_init(&s, "+s"), 0);
  assert_int_equal(otap_schema_allocate_children(&s, 4), 0);
  field(s.children[0], "d:9,2,32", "d32", true);
  field(s.children[1], "d:18,3,64", "d64", true);
  field(s.children[2], "tts", "t", true);
  field(s.children[3], "tss:UTC", "ts", true);
  struct ArrowArray b;
  assert_int_equal(otap_array_init_from_schema(&b, &s, &err), 0);
  assert_int_equal(otap_array_append_int(b.children[0], -12345), 0);
  assert_int_equal(otap_array_append_int(b.children[1], 987654321012ll), 0);
  assert_int_equal(otap_array_append_int(b.children[2], 3600), 0);
  assert_int_equal(otap_array_append_int(b.children[3], -86400), 0);
  assert_int_equal(otap_array_finish_element(&b), 0);
  assert_int_equal(otap_array_finish(&b, OTAP_VALIDATE_FULL, &s, &err), 0);
  struct otap_buffer file;
  otap_buffer_init(&file);
  assert_int_equal(write_file(&s, &b, 1, NULL, &file, &err), 0);
  struct readback rb;
  open_reader(&rb, &file);
  const struct otap_parquet_file_metadata* md = otap_parquet_reader_metadata(rb.reader);
  assert_int_equal(md->schema[1].type, OTAP_PARQUET_INT32);
  assert_int_equal(md->schema[1].logical.kind, OTAP_PARQUET_LT_DECIMAL);
  assert_int_equal(md->schema[1].logical.decimal_precision, 9);
  assert_int_equal(md->schema[1].logical.decimal_scale, 2);
  assert_int_equal(md->schema[2].type, OTAP_PARQUET_INT64);
  assert_int_equal(md->schema[3].logical.kind, OTAP_PARQUET_LT_TIME);
  assert_int_equal(md->schema[3].logical.time_unit, 0);  // millis
  assert_false(md->schema[3].logical.is_adjusted_to_utc);
  assert_int_equal(md->schema[4].logical.kind, OTAP_PARQUET_LT_TIMESTAMP);
  assert_true(md->schema[4].logical.is_adjusted_to_utc);
  assert_int_equal(md->schema[4].converted_type, 9);  // TIMESTAMP_MILLIS
  int32_t i32;
  int64_t i64;
  memcpy(&i32, chunk(rb.reader, 0, 0)->statistics.min.data, 4);
  assert_int_equal(i32, -12345);
  memcpy(&i64, chunk(rb.reader, 0, 1)->statistics.max.data, 8);
  assert_true(i64 == 987654321012ll);
  memcpy(&i32, chunk(rb.reader, 0, 2)->statistics.min.data, 4);
  assert_int_equal(i32, 3600000);
  memcpy(&i64, chunk(rb.reader, 0, 3)->statistics.min.data, 8);
  assert_true(i64 == -86400000ll);
  close_reader(&rb);
  otap_buffer_reset(&file);
  otap_array_release(&b);
  otap_schema_release(&s);
}

// Arrow dictionary leaf across pages: each page's column-index bounds are the values in it.
static void test_dictionary_source_pages(void** state) {
  (void)state;
  struct otap_error err;
  struct ArrowSchema s;
  assert_int_equal(otap_schema_init(&s, "+s"), 0);
  assert_int_equal(otap_schema_allocate_children(&s, 1), 0);
  field(s.children[0], "S", "d", false);  // dictionary<uint16, utf8>
  assert_int_equal(otap_schema_allocate_dictionary(s.children[0]), 0);
  field(s.children[0]->dictionary, "u", "", true);
  struct ArrowArray b;
  assert_int_equal(otap_array_init_from_schema(&b, &s, &err), 0);
  const char* w[3] = {"a", "b", "c"};
  for (int k = 0; k < 3; k++) assert_int_equal(otap_array_append_bytes(b.children[0]->dictionary, w[k], 1), 0);
  for (int r = 0; r < 6000; r++) {
    assert_int_equal(otap_array_append_int(b.children[0], (r / 1000) % 3), 0);
    assert_int_equal(otap_array_finish_element(&b), 0);
  }
  assert_int_equal(otap_array_finish(&b, OTAP_VALIDATE_FULL, &s, &err), 0);
  struct otap_parquet_write_options o;
  otap_parquet_write_options_init(&o);
  o.data_page_rows = 1000;
  struct otap_buffer file;
  otap_buffer_init(&file);
  assert_int_equal(write_file(&s, &b, 1, &o, &file, &err), 0);
  struct readback rb;
  open_reader(&rb, &file);
  struct otap_parquet_column_index ci;
  memset(&ci, 0, sizeof(ci));
  assert_int_equal(otap_parquet_reader_column_index(rb.reader, 0, 0, &ci, &err), 0);
  assert_int_equal(ci.n_pages, 6);
  for (int p = 0; p < 6; p++) {
    assert_int_equal(ci.min_values[p].len, 1);
    assert_int_equal(ci.min_values[p].data[0], 'a' + p % 3);
    assert_int_equal(ci.max_values[p].data[0], 'a' + p % 3);
  }
  assert_int_equal(ci.boundary_order, 0);  // a b c a b c: unordered
  otap_parquet_column_index_reset(&ci);
  close_reader(&rb);
  assert_file_equals(&file, &s, &b, 1);
  otap_buffer_reset(&file);
  otap_array_release(&b);
  otap_schema_release(&s);
}

// The exporter's physical layout (shared/reference/parquet-exporter-layout.md §2) from the
// matching Arrow schema with default options.
static void test_exporter_layout(void** state) {
  (void)state;
  struct otap_error err;
  struct ArrowSchema s;
  assert_int_equal(otap_schema_init(&s, "+s"), 0);
  assert_int_equal(otap_schema_allocate_children(&s, 6), 0);
  field(s.children[0], "I", "id", true);
  field(s.children[1], "+s", "resource", true);
  assert_int_equal(otap_schema_allocate_children(s.children[1], 1), 0);
  field(s.children[1]->children[0], "S", "id", true);
  field(s.children[2], "tsn:", "time_unix_nano", false);
  field(s.children[3], "w:16", "trace_id", true);
  field(s.children[4], "w:8", "span_id", true);
  field(s.children[5], "u", "severity_text", true);
  struct otap_buffer md;
  otap_buffer_init(&md);
  struct otap_metadata_entry e = {"_part_id", 8, "0b7c0a6e-3d5e-4b8e-9a43-5f2c1e7d9a10", 36};
  assert_int_equal(otap_metadata_encode(&md, &e, 1), 0);
  assert_int_equal(otap_schema_set_metadata(&s, (const char*)md.data), 0);
  otap_buffer_reset(&md);
  struct ArrowArray b;
  assert_int_equal(otap_array_init_from_schema(&b, &s, &err), 0);
  for (int r = 0; r < 100; r++) {
    assert_int_equal(otap_array_append_uint(b.children[0], (uint64_t)r), 0);
    assert_int_equal(otap_array_append_uint(b.children[1]->children[0], 0), 0);
    assert_int_equal(otap_array_finish_element(b.children[1]), 0);
    assert_int_equal(otap_array_append_int(b.children[2], 1700000000000000000ll + r), 0);
    uint8_t id[16] = {(uint8_t)r};
    assert_int_equal(otap_array_append_bytes(b.children[3], id, 16), 0);
    assert_int_equal(otap_array_append_bytes(b.children[4], id, 8), 0);
    assert_int_equal(otap_array_append_bytes(b.children[5], r % 2 ? "INFO" : "WARN", 4), 0);
    assert_int_equal(otap_array_finish_element(&b), 0);
  }
  assert_int_equal(otap_array_finish(&b, OTAP_VALIDATE_FULL, &s, &err), 0);
  struct otap_parquet_write_options o;
  otap_parquet_write_options_init(&o);
  o.created_by = "parquet-rs version 58.4.0";
  struct otap_buffer file;
  otap_buffer_init(&file);
  assert_int_equal(write_file(&s, &b, 1, &o, &file, &err), 0);
  struct readback rb;
  open_reader(&rb, &file);
  const struct otap_parquet_file_metadata* m = otap_parquet_reader_metadata(rb.reader);
  assert_int_equal(m->version, 1);
  assert_string_equal(m->created_by, "parquet-rs version 58.4.0");
  assert_string_equal(m->schema[0].name, "arrow_schema");
  // id: INT32 INTEGER(32, unsigned) UINT_32 OPTIONAL
  assert_int_equal(m->schema[1].type, OTAP_PARQUET_INT32);
  assert_int_equal(m->schema[1].converted_type, 13);
  assert_int_equal(m->schema[1].repetition, OTAP_PARQUET_OPTIONAL);
  // resource.id: UINT_16
  assert_string_equal(m->schema[3].name, "id");
  assert_int_equal(m->schema[3].converted_type, 12);
  assert_int_equal(m->schema[3].logical.int_bit_width, 16);
  // time_unix_nano: INT64 TIMESTAMP(NANOS, adjustedToUTC=false) REQUIRED, no converted type
  assert_int_equal(m->schema[4].type, OTAP_PARQUET_INT64);
  assert_int_equal(m->schema[4].logical.kind, OTAP_PARQUET_LT_TIMESTAMP);
  assert_int_equal(m->schema[4].logical.time_unit, 2);
  assert_false(m->schema[4].logical.is_adjusted_to_utc);
  assert_int_equal(m->schema[4].converted_type, -1);
  assert_int_equal(m->schema[4].repetition, OTAP_PARQUET_REQUIRED);
  // trace_id / span_id: FLBA(16) / FLBA(8) without logical type, PLAIN (no dictionary)
  assert_int_equal(m->schema[5].type, OTAP_PARQUET_FIXED_LEN_BYTE_ARRAY);
  assert_int_equal(m->schema[5].type_length, 16);
  assert_int_equal(m->schema[5].logical.kind, OTAP_PARQUET_LT_NONE);
  assert_int_equal(m->schema[6].type_length, 8);
  assert_false(chunk(rb.reader, 0, 3)->has_dictionary_page_offset);
  // severity_text: STRING, RLE_DICTIONARY data pages after a PLAIN dictionary page
  assert_int_equal(m->schema[7].logical.kind, OTAP_PARQUET_LT_STRING);
  const struct otap_parquet_column_chunk* sev = chunk(rb.reader, 0, 5);
  assert_true(sev->has_dictionary_page_offset);
  bool rle_dict = false;
  for (int k = 0; k < sev->n_encodings; k++) rle_dict |= sev->encodings[k] == OTAP_PARQUET_ENC_RLE_DICTIONARY;
  assert_true(rle_dict);
  // Page indexes on every column; ARROW:schema carries the _part_id schema metadata.
  for (int c = 0; c < 6; c++) {
    assert_true(chunk(rb.reader, 0, c)->offset_index_length > 0);
    assert_true(chunk(rb.reader, 0, c)->column_index_length > 0);
  }
  assert_int_equal(m->n_key_value, 1);
  assert_string_equal(m->key_value[0].key, "ARROW:schema");
  // base64 "/////" = the 0xFFFFFFFF continuation marker.
  assert_memory_equal(m->key_value[0].value, "/////", 5);
  close_reader(&rb);
  // The IPC message decodes back to the same schema, metadata included.
  {
    static const char* tbl = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    struct readback rb2;
    open_reader(&rb2, &file);
    const struct otap_parquet_key_value* kv = &otap_parquet_reader_metadata(rb2.reader)->key_value[0];
    struct otap_buffer raw;
    otap_buffer_init(&raw);
    uint32_t acc = 0;
    int bits = 0;
    for (int32_t i = 0; i < kv->value_len && kv->value[i] != '='; i++) {
      acc = (acc << 6) | (uint32_t)(strchr(tbl, kv->value[i]) - tbl);
      bits += 6;
      if (bits >= 8) {
        uint8_t byte = (uint8_t)(acc >> (bits - 8));
        assert_int_equal(otap_buffer_append(&raw, &byte, 1), 0);
        bits -= 8;
      }
    }
    struct ArrowSchema back;
    assert_int_equal(otap_ipc_schema_decode(raw.data, (size_t)raw.size, &back, &err), 0);
    // Columns equal (names, types, nullability); the root keeps the _part_id metadata.
    assert_int_equal(back.n_children, s.n_children);
    for (int64_t i = 0; i < s.n_children; i++) {
      assert_true(otap_schema_equal(back.children[i], s.children[i], true));
    }
    const char* pv;
    int32_t pl;
    assert_int_equal(otap_metadata_find(back.metadata, "_part_id", &pv, &pl), 0);
    assert_int_equal(pl, 36);
    assert_memory_equal(pv, "0b7c0a6e", 8);
    otap_schema_release(&back);
    otap_buffer_reset(&raw);
    close_reader(&rb2);
  }
  otap_buffer_reset(&file);
  otap_array_release(&b);
  otap_schema_release(&s);
}

// Sliced batches (non-zero offsets at the root and, through them, in every child).
static void test_sliced_batches(void** state) {
  (void)state;
  struct otap_error err;
  struct ArrowSchema s;
  struct ArrowArray full;
  make_table(&s, &full, 1, 300);
  struct ArrowArray parts[3];
  assert_int_equal(otap_array_slice(&full, 37, 200, &parts[0], &err), 0);
  assert_int_equal(otap_array_slice(&full, 5, 1, &parts[1], &err), 0);
  assert_int_equal(otap_array_slice(&full, 299, 1, &parts[2], &err), 0);
  for (int version = 1; version <= 2; version++) {
    struct otap_parquet_write_options o;
    otap_parquet_write_options_init(&o);
    o.page_version = version;
    o.row_group_rows = 64;
    struct otap_buffer file;
    otap_buffer_init(&file);
    int rc = write_file(&s, parts, 3, &o, &file, &err);
    if (rc) fprintf(stderr, "%s\n", err.message);
    assert_int_equal(rc, 0);
    assert_file_equals(&file, &s, parts, 3);
    otap_buffer_reset(&file);
  }
  for (int i = 0; i < 3; i++) otap_array_release(&parts[i]);
  release_table(&s, &full, 1);
}

// utf8_view / binary_view leaves (inline and out-of-line values) become BYTE_ARRAY.
static void test_view_types(void** state) {
  (void)state;
  struct otap_error err;
  struct ArrowSchema s;
  assert_int_equal(otap_schema_init(&s, "+s"), 0);
  assert_int_equal(otap_schema_allocate_children(&s, 2), 0);
  field(s.children[0], "vu", "sv", true);
  field(s.children[1], "vz", "bv", true);
  struct ArrowArray b;
  assert_int_equal(otap_array_init_from_schema(&b, &s, &err), 0);
  const char* w[4] = {"short", "a string longer than twelve bytes", "", "twelve bytes"};
  for (int r = 0; r < 500; r++) {
    for (int c = 0; c < 2; c++) {
      if (r % 9 == c) {
        assert_int_equal(otap_array_append_null(b.children[c], 1), 0);
      } else {
        const char* x = w[(r + c) % 4];
        assert_int_equal(otap_array_append_bytes(b.children[c], x, (int64_t)strlen(x)), 0);
      }
    }
    assert_int_equal(otap_array_finish_element(&b), 0);
  }
  assert_int_equal(otap_array_finish(&b, OTAP_VALIDATE_FULL, &s, &err), 0);
  struct otap_buffer file;
  otap_buffer_init(&file);
  for (int dict = 0; dict <= 1; dict++) {
    struct otap_parquet_write_options o;
    otap_parquet_write_options_init(&o);
    o.dictionary = dict;
    file.size = 0;
    assert_int_equal(write_file(&s, &b, 1, &o, &file, &err), 0);
    assert_file_equals(&file, &s, &b, 1);
  }
  otap_buffer_reset(&file);
  otap_array_release(&b);
  otap_schema_release(&s);
}

// otap_parquet_writer_flush cuts a row group early; num_rows counts every row written.
static void test_flush_row_groups(void** state) {
  (void)state;
  struct ArrowSchema s;
  struct ArrowArray b[3];
  make_table(&s, b, 3, 40);
  struct otap_error err;
  struct otap_buffer file;
  otap_buffer_init(&file);
  struct otap_sink sink;
  assert_int_equal(otap_sink_init_buffer(&sink, &file, &err), 0);
  struct otap_parquet_writer* w;
  assert_int_equal(otap_parquet_writer_open(&w, &sink, &s, NULL, &err), 0);
  assert_int_equal(otap_parquet_writer_flush(w, &err), 0);  // nothing buffered: no row group
  assert_int_equal(otap_parquet_writer_write(w, &b[0], &err), 0);
  assert_int_equal(otap_parquet_writer_flush(w, &err), 0);
  assert_int_equal(otap_parquet_writer_write(w, &b[1], &err), 0);
  assert_int_equal(otap_parquet_writer_write(w, &b[2], &err), 0);
  assert_int_equal(otap_parquet_writer_num_rows(w), 120);
  assert_int_equal(otap_parquet_writer_close(w, &err), 0);
  assert_int_equal(otap_parquet_writer_write(w, &b[0], &err), EINVAL);  // after close
  otap_parquet_writer_free(w);
  otap_sink_release(&sink);
  struct readback rb;
  open_reader(&rb, &file);
  const struct otap_parquet_file_metadata* md = otap_parquet_reader_metadata(rb.reader);
  assert_int_equal(md->n_row_groups, 2);
  assert_int_equal(md->row_groups[0].num_rows, 40);
  assert_int_equal(md->row_groups[1].num_rows, 80);
  close_reader(&rb);
  assert_file_equals(&file, &s, b, 3);
  otap_buffer_reset(&file);
  release_table(&s, b, 3);
}

// Every allocation of a whole write fails in turn: ENOMEM (never a crash) and no leak.
static void test_allocation_failures(void** state) {
  (void)state;
  struct ArrowSchema s;
  struct ArrowArray b[2];
  make_table(&s, b, 2, 60);
  struct otap_parquet_write_options o;
  otap_parquet_write_options_init(&o);
  o.row_group_rows = 50;
  o.codec = OTAP_PARQUET_CODEC_ZSTD;
  long base = otap_test_live_allocations();
  int failures = 0;
  for (long n = 0;; n++) {
    struct otap_buffer file;
    otap_buffer_init(&file);
    struct otap_error err;
    otap_test_fail_alloc_after(n);
    int rc = write_file(&s, b, 2, &o, &file, &err);
    otap_test_fail_alloc_after(-1);
    otap_buffer_reset(&file);
    assert_int_equal(otap_test_live_allocations(), base);
    if (rc == 0) break;
    assert_int_equal(rc, ENOMEM);
    failures++;
    assert_true(n < 100000);
  }
  assert_true(failures > 50);
  release_table(&s, b, 2);
}

int main(void) {
  otap_test_install_allocator();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_thrift_vectors),
      cmocka_unit_test(test_page_header_encoding),
      cmocka_unit_test(test_rle_spec_vectors),
      cmocka_unit_test(test_rle_roundtrip),
      cmocka_unit_test(test_delta_binary_packed),
      cmocka_unit_test(test_delta_byte_arrays),
      cmocka_unit_test(test_byte_stream_split_and_bools),
      cmocka_unit_test(test_codecs),
      cmocka_unit_test(test_roundtrip_all_options),
      cmocka_unit_test(test_metadata_and_row_groups),
      cmocka_unit_test(test_statistics_orderings),
      cmocka_unit_test(test_page_index_and_fallback),
      cmocka_unit_test(test_errors),
      cmocka_unit_test(test_stream_to_file),
      cmocka_unit_test(test_hostile_arrays),
      cmocka_unit_test(test_small_decimals_and_coercions),
      cmocka_unit_test(test_dictionary_source_pages),
      cmocka_unit_test(test_exporter_layout),
      cmocka_unit_test(test_sliced_batches),
      cmocka_unit_test(test_view_types),
      cmocka_unit_test(test_flush_row_groups),
      cmocka_unit_test(test_allocation_failures),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
