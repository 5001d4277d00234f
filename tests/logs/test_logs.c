// Tests of the OTAP logs layer: protobuf framing, id encodings, validation, generator,
// equivalence and records files.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "otap/logs.h"
#include "testutil.h"

static void test_varint(void** state) {
  (void)state;
  struct otap_buffer b;
  otap_buffer_init(&b);
  uint64_t vals[] = {0, 1, 127, 128, 300, 65535, UINT32_MAX, UINT64_MAX};
  for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
    assert_int_equal(otap_pb_append_varint(&b, vals[i]), 0);
  }
  int64_t pos = 0;
  for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
    uint64_t v;
    assert_int_equal(otap_pb_read_varint(b.data, b.size, &pos, &v, NULL), 0);
    assert_true(v == vals[i]);
  }
  assert_int_equal(pos, b.size);
  // Truncated and over-long varints.
  struct otap_error err;
  const uint8_t trunc[] = {0x80, 0x80};
  pos = 0;
  uint64_t v;
  assert_int_equal(otap_pb_read_varint(trunc, 2, &pos, &v, &err), EINVAL);
  assert_non_null(strstr(err.message, "byte offset 0"));
  const uint8_t longv[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
  pos = 0;
  assert_int_equal(otap_pb_read_varint(longv, sizeof(longv), &pos, &v, &err), EINVAL);
  otap_buffer_reset(&b);
}

static void test_bar_roundtrip(void** state) {
  (void)state;
  struct otap_arrow_payload_msg pm[2] = {
      {"s1", 2, OTAP_PAYLOAD_LOGS, (const uint8_t*)"\xff\xff\xff\xff", 4},
      {"", 0, OTAP_PAYLOAD_LOG_ATTRS, (const uint8_t*)"abc", 3}};
  struct otap_bar_msg m = {42, 2, pm, (const uint8_t*)"hh", 2};
  struct otap_buffer b;
  otap_buffer_init(&b);
  assert_int_equal(otap_bar_encode(&m, &b), 0);
  // An unknown varint field and an unknown LEN field are skipped.
  assert_int_equal(otap_pb_append_varint(&b, (9u << 3) | 0), 0);
  assert_int_equal(otap_pb_append_varint(&b, 12345), 0);
  assert_int_equal(otap_pb_append_varint(&b, (10u << 3) | 2), 0);
  assert_int_equal(otap_pb_append_varint(&b, 1), 0);
  assert_int_equal(otap_buffer_append(&b, "z", 1), 0);
  struct otap_bar_msg d;
  struct otap_error err;
  assert_int_equal(otap_bar_decode(b.data, b.size, 0, &d, &err), 0);
  assert_int_equal(d.batch_id, 42);
  assert_int_equal(d.n_payloads, 2);
  assert_int_equal(d.payloads[0].type, OTAP_PAYLOAD_LOGS);
  assert_int_equal(d.payloads[0].schema_id_len, 2);
  assert_memory_equal(d.payloads[0].schema_id, "s1", 2);
  assert_int_equal(d.payloads[0].record_len, 4);
  assert_int_equal(d.payloads[1].type, OTAP_PAYLOAD_LOG_ATTRS);
  assert_int_equal(d.payloads[1].record_len, 3);
  assert_int_equal(d.headers_len, 2);
  otap_bar_reset(&d);
  // Every truncation fails cleanly (or decodes a valid prefix message).
  for (int64_t n = 0; n < b.size; n++) {
    int rc = otap_bar_decode(b.data, n, 100, &d, &err);
    assert_true(rc == 0 || rc == EINVAL);
    otap_bar_reset(&d);
  }
  // A length past the end names the byte offset.
  const uint8_t bad[] = {0x08, 0x01, 0x12, 0x7f, 0x0a};
  assert_int_equal(otap_bar_decode(bad, sizeof(bad), 1000, &d, &err), EINVAL);
  assert_non_null(strstr(err.message, "byte offset 1003"));
  // Wrong wire type for a known field.
  const uint8_t badwt[] = {0x0a, 0x00};
  assert_int_equal(otap_bar_decode(badwt, sizeof(badwt), 0, &d, &err), EINVAL);
  // Group wire types are rejected.
  const uint8_t grp[] = {0x0b};
  assert_int_equal(otap_bar_decode(grp, sizeof(grp), 0, &d, &err), EINVAL);
  otap_buffer_reset(&b);
}

static void test_delta_examples(void** state) {
  (void)state;
  struct otap_error err;
  uint16_t ids[] = {0, 0, 1, 0, 0, 1, 1};
  assert_int_equal(otap_ids_delta_decode(ids, NULL, 0, 7, &err), 0);
  const uint16_t dec[] = {0, 0, 1, 1, 1, 2, 3};
  assert_memory_equal(ids, dec, sizeof(dec));
  assert_int_equal(otap_ids_delta_encode(ids, NULL, 0, 7, &err), 0);
  const uint16_t enc[] = {0, 0, 1, 0, 0, 1, 1};
  assert_memory_equal(ids, enc, sizeof(enc));
  // Remapped: [3,1,0,2] -> [0,1,1,1], remap [2,1,3,0].
  static uint16_t remap[65536];
  int64_t remap_len;
  uint16_t a[] = {3, 1, 0, 2};
  assert_int_equal(otap_ids_delta_encode_remapped(a, NULL, 0, 4, remap, &remap_len, &err), 0);
  const uint16_t ea[] = {0, 1, 1, 1}, ra[] = {2, 1, 3, 0};
  assert_memory_equal(a, ea, sizeof(ea));
  assert_int_equal(remap_len, 4);
  assert_memory_equal(remap, ra, sizeof(ra));
  uint16_t b[] = {0, 1, 2, 3};
  assert_int_equal(otap_ids_delta_encode_remapped(b, NULL, 0, 4, remap, &remap_len, &err), 0);
  assert_memory_equal(b, ea, sizeof(ea));
  uint16_t c[] = {1};
  assert_int_equal(otap_ids_delta_encode_remapped(c, NULL, 0, 1, remap, &remap_len, &err), 0);
  assert_int_equal(c[0], 0);
  assert_int_equal(remap_len, 2);
  assert_int_equal(remap[0], 0);
  assert_int_equal(remap[1], 0);
  uint16_t d[] = {0, 65535};
  assert_int_equal(otap_ids_delta_encode_remapped(d, NULL, 0, 2, remap, &remap_len, &err), 0);
  assert_int_equal(d[0], 0);
  assert_int_equal(d[1], 1);
  assert_int_equal(remap_len, 65536);
  assert_int_equal(remap[65535], 1);
  // Non-contiguous ids are rejected.
  uint16_t e[] = {5, 7, 5};
  assert_int_equal(otap_ids_delta_encode_remapped(e, NULL, 0, 3, remap, &remap_len, &err), EINVAL);
  // Nulls are skipped: validity 0b1011 (row 2 null).
  uint8_t validity = 0x0b;
  uint16_t f[] = {2, 1, 999, 3};
  assert_int_equal(otap_ids_delta_decode(f, &validity, 0, 4, &err), 0);
  assert_int_equal(f[0], 2);
  assert_int_equal(f[1], 3);
  assert_int_equal(f[2], 999);
  assert_int_equal(f[3], 6);
  assert_int_equal(otap_ids_delta_encode(f, &validity, 0, 4, &err), 0);
  assert_int_equal(f[0], 2);
  assert_int_equal(f[1], 1);
  assert_int_equal(f[3], 3);
  // Overflow past 65535 is EINVAL naming the row; decreasing input cannot be delta-encoded.
  uint16_t g[] = {65535, 1};
  assert_int_equal(otap_ids_delta_decode(g, NULL, 0, 2, &err), EINVAL);
  assert_non_null(strstr(err.message, "row 1"));
  uint16_t h[] = {3, 2};
  assert_int_equal(otap_ids_delta_encode(h, NULL, 0, 2, &err), EINVAL);
}

static void test_quasi_delta_raw(void** state) {
  (void)state;
  struct otap_error err;
  // The spec's example: runs (k1,v1) x3, (k1,v2) x2, (k2,v2) x3, int x2, empty, map, slice.
  uint16_t p[] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
  const uint8_t same[] = {0, 1, 1, 0, 1, 0, 1, 1, 0, 1, 0, 0, 0};
  assert_int_equal(otap_ids_quasi_delta_decode(p, same, 13, &err), 0);
  const uint16_t want[] = {1, 2, 3, 1, 2, 1, 2, 3, 1, 2, 1, 1, 1};
  assert_memory_equal(p, want, sizeof(want));
  assert_int_equal(otap_ids_quasi_delta_encode(p, same, 13, &err), 0);
  const uint16_t back[] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
  assert_memory_equal(p, back, sizeof(back));
  uint16_t q[] = {5, 3};
  const uint8_t s2[] = {0, 1};
  assert_int_equal(otap_ids_quasi_delta_encode(q, s2, 2, &err), EINVAL);
  uint16_t r[] = {65000, 1000};
  assert_int_equal(otap_ids_quasi_delta_decode(r, s2, 2, &err), EINVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_varint),
      cmocka_unit_test(test_bar_roundtrip),
      cmocka_unit_test(test_delta_examples),
      cmocka_unit_test(test_quasi_delta_raw),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
