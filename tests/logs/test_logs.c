// Tests of the OTAP logs layer: protobuf framing, id encodings, validation, generator,
// equivalence and records files.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
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
  // Negative batch_id and enum values (10-byte varints) round trip.
  struct otap_arrow_payload_msg neg_pm = {"x", 1, -3, (const uint8_t*)"r", 1};
  struct otap_bar_msg neg = {-42, 1, &neg_pm, NULL, 0};
  b.size = 0;
  assert_int_equal(otap_bar_encode(&neg, &b), 0);
  assert_int_equal(otap_bar_decode(b.data, b.size, 0, &d, &err), 0);
  assert_int_equal(d.batch_id, -42);
  assert_int_equal(d.payloads[0].type, -3);
  otap_bar_reset(&d);
  // Too many payloads in one message.
  b.size = 0;
  for (int i = 0; i <= OTAP_BAR_MAX_PAYLOADS; i++) {
    assert_int_equal(otap_pb_append_varint(&b, (2u << 3) | 2), 0);
    assert_int_equal(otap_pb_append_varint(&b, 0), 0);
  }
  assert_int_equal(otap_bar_decode(b.data, b.size, 0, &d, &err), EINVAL);
  assert_non_null(strstr(err.message, "arrow_payloads"));
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
  // All-null and empty columns come back unchanged.
  uint8_t none = 0;
  uint16_t k[] = {7, 9, 1};
  assert_int_equal(otap_ids_delta_decode(k, &none, 0, 3, &err), 0);
  assert_int_equal(otap_ids_delta_encode(k, &none, 0, 3, &err), 0);
  assert_int_equal(otap_ids_delta_encode_remapped(k, &none, 0, 3, remap, &remap_len, &err), 0);
  assert_int_equal(remap_len, 0);
  assert_int_equal(k[0], 7);
  assert_int_equal(k[1], 9);
  assert_int_equal(k[2], 1);
  assert_int_equal(otap_ids_delta_decode(k, NULL, 0, 0, &err), 0);
  assert_int_equal(otap_ids_quasi_delta_decode(k, (const uint8_t*)"", 0, &err), 0);
  // A validity offset is honoured: bits 3.. of 0b00101000 -> rows 0 and 2 valid.
  uint8_t vb = 0x28;
  uint16_t m[] = {4, 100, 2};
  assert_int_equal(otap_ids_delta_decode(m, &vb, 3, 3, &err), 0);
  assert_int_equal(m[0], 4);
  assert_int_equal(m[1], 100);
  assert_int_equal(m[2], 6);
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


// ---------------------------------------------------------------------------------------------
// Hand-built tables

static void must(int rc) { assert_int_equal(rc, 0); }

static void field(struct ArrowSchema* f, const char* name, const char* format, bool plain) {
  must(otap_schema_init(f, format));
  must(otap_schema_set_name(f, name));
  if (plain) {
    struct otap_metadata_entry e = {"encoding", 8, "plain", 5};
    struct otap_buffer b;
    otap_buffer_init(&b);
    must(otap_metadata_encode(&b, &e, 1));
    must(otap_schema_set_metadata(f, (const char*)b.data));
    otap_buffer_reset(&b);
  }
}

static void finish_table(struct ArrowSchema* s, struct ArrowArray* a, int64_t n) {
  for (int64_t i = 0; i < n; i++) must(otap_array_finish_element(a));
  struct otap_error err;
  int rc = otap_array_finish(a, OTAP_VALIDATE_FULL, s, &err);
  if (rc) fail_msg("finish: %s", err.message);
}

struct attr_row {
  uint16_t parent;
  const char* key;
  uint8_t type;
  const char* str;  // for type 1
  int64_t i;        // for type 2
};

static void make_attrs(struct otap_logs_payload* p, enum otap_logs_table t,
                       const struct attr_row* rows, int64_t n, bool plain) {
  struct ArrowSchema s;
  struct ArrowArray a;
  must(otap_schema_init(&s, "+s"));
  must(otap_schema_allocate_children(&s, 5));
  field(s.children[0], "parent_id", "S", plain);
  field(s.children[1], "key", "u", false);
  field(s.children[2], "type", "C", false);
  field(s.children[3], "str", "u", false);
  field(s.children[4], "int", "l", false);
  struct otap_error err;
  must(otap_array_init_from_schema(&a, &s, &err));
  for (int64_t i = 0; i < n; i++) {
    must(otap_array_append_uint(a.children[0], rows[i].parent));
    must(otap_array_append_bytes(a.children[1], rows[i].key, (int64_t)strlen(rows[i].key)));
    must(otap_array_append_uint(a.children[2], rows[i].type));
    if (rows[i].type == 1 && rows[i].str) {
      must(otap_array_append_bytes(a.children[3], rows[i].str, (int64_t)strlen(rows[i].str)));
    } else {
      must(otap_array_append_null(a.children[3], 1));
    }
    if (rows[i].type == 2) {
      must(otap_array_append_int(a.children[4], rows[i].i));
    } else {
      must(otap_array_append_null(a.children[4], 1));
    }
  }
  finish_table(&s, &a, n);
  otap_logs_payload_set_table(p, t, &s, &a);
}

struct log_row {
  int32_t id;  // -1 = null
  uint16_t res;
  uint16_t scope;
  const char* scope_name;
  const char* body;
  int body_mode;  // 0: Str(body), 1: null body row, 2: type Empty
};

static void make_logs(struct otap_logs_payload* p, const struct log_row* rows, int64_t n,
                      bool plain) {
  struct ArrowSchema s;
  struct ArrowArray a;
  must(otap_schema_init(&s, "+s"));
  must(otap_schema_allocate_children(&s, 4));
  field(s.children[0], "id", "S", plain);
  field(s.children[1], "resource", "+s", false);
  must(otap_schema_allocate_children(s.children[1], 1));
  field(s.children[1]->children[0], "id", "S", plain);
  field(s.children[2], "scope", "+s", false);
  must(otap_schema_allocate_children(s.children[2], 2));
  field(s.children[2]->children[0], "id", "S", plain);
  field(s.children[2]->children[1], "name", "u", false);
  field(s.children[3], "body", "+s", false);
  must(otap_schema_allocate_children(s.children[3], 2));
  field(s.children[3]->children[0], "type", "C", false);
  field(s.children[3]->children[1], "str", "u", false);
  struct otap_error err;
  must(otap_array_init_from_schema(&a, &s, &err));
  for (int64_t i = 0; i < n; i++) {
    if (rows[i].id < 0) {
      must(otap_array_append_null(a.children[0], 1));
    } else {
      must(otap_array_append_uint(a.children[0], (uint64_t)rows[i].id));
    }
    must(otap_array_append_uint(a.children[1]->children[0], rows[i].res));
    must(otap_array_finish_element(a.children[1]));
    must(otap_array_append_uint(a.children[2]->children[0], rows[i].scope));
    must(otap_array_append_bytes(a.children[2]->children[1], rows[i].scope_name,
                                 (int64_t)strlen(rows[i].scope_name)));
    must(otap_array_finish_element(a.children[2]));
    if (rows[i].body_mode == 1) {
      must(otap_array_append_null(a.children[3], 1));
    } else if (rows[i].body_mode == 2) {
      must(otap_array_append_uint(a.children[3]->children[0], 0));
      must(otap_array_append_null(a.children[3]->children[1], 1));
      must(otap_array_finish_element(a.children[3]));
    } else {
      must(otap_array_append_uint(a.children[3]->children[0], 1));
      must(otap_array_append_bytes(a.children[3]->children[1], rows[i].body,
                                   (int64_t)strlen(rows[i].body)));
      must(otap_array_finish_element(a.children[3]));
    }
  }
  finish_table(&s, &a, n);
  otap_logs_payload_set_table(p, OTAP_LOGS_LOGS, &s, &a);
}

// A small reference payload: 3 logs, 2 resources, 2 scopes, log/resource/scope attributes.
static const struct log_row kLogs[] = {{0, 0, 0, "lib", "hello", 0},
                                        {-1, 0, 1, "lib2", "no attrs", 0},
                                        {1, 1, 0, "lib", "world", 0}};
static const struct attr_row kLogAttrs[] = {
    {0, "k", 1, "1", 0}, {0, "n", 2, NULL, 7}, {1, "k", 1, "x", 0}};
static const struct attr_row kResAttrs[] = {{0, "service.name", 1, "a", 0},
                                            {1, "service.name", 1, "b", 0}};
static const struct attr_row kScopeAttrs[] = {{0, "s", 2, NULL, 1}, {1, "s", 2, NULL, 2}};

static void make_reference(struct otap_logs_payload* p) {
  otap_logs_payload_init(p);
  make_logs(p, kLogs, 3, true);
  make_attrs(p, OTAP_LOGS_LOG_ATTRS, kLogAttrs, 3, true);
  make_attrs(p, OTAP_LOGS_RESOURCE_ATTRS, kResAttrs, 2, true);
  make_attrs(p, OTAP_LOGS_SCOPE_ATTRS, kScopeAttrs, 2, true);
}

static bool equiv(const struct otap_logs_payload* a, int64_t na, const struct otap_logs_payload* b,
                  int64_t nb, struct otap_buffer* report) {
  bool eq = false;
  struct otap_error err;
  int rc = otap_logs_equiv(a, na, b, nb, NULL, &eq, report, &err);
  if (rc) fail_msg("equiv: %s", err.message);
  return eq;
}

static void test_equiv_cases(void** state) {
  (void)state;
  struct otap_logs_payload ref, q;
  make_reference(&ref);
  struct otap_buffer report;
  otap_buffer_init(&report);
  assert_true(equiv(&ref, 1, &ref, 1, &report));
  assert_int_equal(report.size, 0);

  // Reordered rows and renumbered ids: equal.
  {
    const struct log_row logs[] = {{-1, 7, 3, "lib2", "no attrs", 0},
                                   {5, 9, 4, "lib", "world", 0},
                                   {2, 7, 4, "lib", "hello", 0}};
    const struct attr_row la[] = {{5, "k", 1, "x", 0}, {2, "n", 2, NULL, 7}, {2, "k", 1, "1", 0}};
    const struct attr_row ra[] = {{9, "service.name", 1, "b", 0}, {7, "service.name", 1, "a", 0}};
    const struct attr_row sa[] = {{3, "s", 2, NULL, 2}, {4, "s", 2, NULL, 1}};
    otap_logs_payload_init(&q);
    make_logs(&q, logs, 3, true);
    make_attrs(&q, OTAP_LOGS_LOG_ATTRS, la, 3, true);
    make_attrs(&q, OTAP_LOGS_RESOURCE_ATTRS, ra, 2, true);
    make_attrs(&q, OTAP_LOGS_SCOPE_ATTRS, sa, 2, true);
    assert_true(equiv(&ref, 1, &q, 1, NULL));
    otap_logs_payload_reset(&q);
  }
  // Split across two payloads: equal.
  {
    struct otap_logs_payload two[2];
    otap_logs_payload_init(&two[0]);
    otap_logs_payload_init(&two[1]);
    make_logs(&two[0], kLogs, 2, true);
    make_attrs(&two[0], OTAP_LOGS_LOG_ATTRS, kLogAttrs, 2, true);
    make_attrs(&two[0], OTAP_LOGS_RESOURCE_ATTRS, kResAttrs, 1, true);
    make_attrs(&two[0], OTAP_LOGS_SCOPE_ATTRS, kScopeAttrs, 2, true);
    const struct log_row l2[] = {{0, 0, 0, "lib", "world", 0}};
    const struct attr_row la2[] = {{0, "k", 1, "x", 0}};
    const struct attr_row ra2[] = {{0, "service.name", 1, "b", 0}};
    const struct attr_row sa2[] = {{0, "s", 2, NULL, 1}};
    make_logs(&two[1], l2, 1, true);
    make_attrs(&two[1], OTAP_LOGS_LOG_ATTRS, la2, 1, true);
    make_attrs(&two[1], OTAP_LOGS_RESOURCE_ATTRS, ra2, 1, true);
    make_attrs(&two[1], OTAP_LOGS_SCOPE_ATTRS, sa2, 1, true);
    assert_true(equiv(&ref, 1, two, 2, NULL));
    otap_logs_payload_reset(&two[0]);
    otap_logs_payload_reset(&two[1]);
  }
  // Each single change is detected.
  struct {
    const char* what;
    int table;  // which table to replace
    const struct attr_row* attrs;
    const struct log_row* logs;
    int64_t n;
  } cases[] = {
      {"attribute type Str \"1\" -> Int 1", OTAP_LOGS_LOG_ATTRS,
       (const struct attr_row[]){{0, "k", 2, NULL, 1}, {0, "n", 2, NULL, 7}, {1, "k", 1, "x", 0}},
       NULL, 3},
      {"attribute value", OTAP_LOGS_LOG_ATTRS,
       (const struct attr_row[]){{0, "k", 1, "1", 0}, {0, "n", 2, NULL, 8}, {1, "k", 1, "x", 0}},
       NULL, 3},
      {"attribute moved to another record", OTAP_LOGS_LOG_ATTRS,
       (const struct attr_row[]){{0, "k", 1, "1", 0}, {1, "n", 2, NULL, 7}, {1, "k", 1, "x", 0}},
       NULL, 3},
      {"missing attribute", OTAP_LOGS_LOG_ATTRS,
       (const struct attr_row[]){{0, "k", 1, "1", 0}, {1, "k", 1, "x", 0}}, NULL, 2},
      {"resource attribute", OTAP_LOGS_RESOURCE_ATTRS,
       (const struct attr_row[]){{0, "service.name", 1, "a", 0}, {1, "service.name", 1, "c", 0}},
       NULL, 2},
      {"scope attribute", OTAP_LOGS_SCOPE_ATTRS,
       (const struct attr_row[]){{0, "s", 2, NULL, 1}, {1, "s", 1, "2", 0}}, NULL, 2},
      {"scope name", OTAP_LOGS_LOGS, NULL,
       (const struct log_row[]){{0, 0, 0, "lib", "hello", 0}, {-1, 0, 1, "libX", "no attrs", 0},
                                {1, 1, 0, "lib", "world", 0}},
       3},
      {"resource of a record", OTAP_LOGS_LOGS, NULL,
       (const struct log_row[]){{0, 0, 0, "lib", "hello", 0}, {-1, 1, 1, "lib2", "no attrs", 0},
                                {1, 1, 0, "lib", "world", 0}},
       3},
      {"missing row", OTAP_LOGS_LOGS, NULL,
       (const struct log_row[]){{0, 0, 0, "lib", "hello", 0}, {1, 1, 0, "lib", "world", 0}}, 2},
      {"duplicated row", OTAP_LOGS_LOGS, NULL,
       (const struct log_row[]){{0, 0, 0, "lib", "hello", 0}, {-1, 0, 1, "lib2", "no attrs", 0},
                                {-1, 0, 1, "lib2", "no attrs", 0}, {1, 1, 0, "lib", "world", 0}},
       4},
  };
  for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
    make_reference(&q);
    if (cases[c].logs) {
      make_logs(&q, cases[c].logs, cases[c].n, true);
    } else {
      make_attrs(&q, (enum otap_logs_table)cases[c].table, cases[c].attrs, cases[c].n, true);
    }
    report.size = 0;
    if (equiv(&ref, 1, &q, 1, &report)) fail_msg("not detected: %s", cases[c].what);
    assert_true(report.size > 0);
    assert_non_null(strstr((const char*)report.data, "only in"));
    if (c == 1) {
      // A one-value change is pinpointed: A has Int(7), B has Int(8).
      const char* d = strstr((const char*)report.data, "differs at character");
      if (!d) fail_msg("no pinpointed difference in:\n%.*s", (int)report.size, report.data);
      assert_non_null(strstr(d, "Int(7)"));
      assert_non_null(strstr(d, "Int(8)"));
    }
    otap_logs_payload_reset(&q);
  }
  // A huge difference budget is bounded by the record count.
  struct otap_logs_equiv_options eo;
  otap_logs_equiv_options_init(&eo);
  eo.max_differences = INT64_MAX / 16;
  make_reference(&q);
  make_logs(&q, kLogs, 2, true);
  report.size = 0;
  bool eq = true;
  struct otap_error err;
  assert_int_equal(otap_logs_equiv(&ref, 1, &q, 1, &eo, &eq, &report, &err), 0);
  assert_false(eq);
  otap_logs_payload_reset(&q);
  otap_buffer_reset(&report);
  otap_logs_payload_reset(&ref);
}


// OTLP defaults: a null body row is an Empty body; Empty differs from Str("").
// otap_logs_validate_views over views built here (FULL); returns -1 when a view cannot be
// built (the payload is structurally invalid, so only otap_logs_validate applies).
static int validate_with_views(const struct otap_logs_payload* p, struct otap_error* err) {
  struct otap_array_view v[OTAP_LOGS_N_TABLES];
  const struct otap_array_view* vp[OTAP_LOGS_N_TABLES] = {NULL, NULL, NULL, NULL};
  memset(v, 0, sizeof(v));
  int rc = 0;
  for (int t = 0; t < OTAP_LOGS_N_TABLES && rc == 0; t++) {
    if (!otap_logs_payload_has_table(p, (enum otap_logs_table)t)) continue;
    struct otap_error e2;
    if (otap_array_view_init(&v[t], &p->schema[t], &e2) ||
        otap_array_view_set(&v[t], &p->batch[t], OTAP_VALIDATE_FULL, &e2)) {
      rc = -1;
    }
    vp[t] = &v[t];
  }
  if (rc == 0) rc = otap_logs_validate_views(p, vp, NULL, err);
  for (int t = 0; t < OTAP_LOGS_N_TABLES; t++) otap_array_view_reset(&v[t]);
  return rc;
}

static void test_equiv_null_body(void** state) {
  (void)state;
  const struct log_row null_body[] = {{-1, 0, 0, "s", "", 1}};
  const struct log_row empty_body[] = {{-1, 0, 0, "s", "", 2}};
  const struct log_row str_body[] = {{-1, 0, 0, "s", "", 0}};
  struct otap_logs_payload a, b, c;
  otap_logs_payload_init(&a);
  otap_logs_payload_init(&b);
  otap_logs_payload_init(&c);
  make_logs(&a, null_body, 1, true);
  make_logs(&b, empty_body, 1, true);
  make_logs(&c, str_body, 1, true);
  struct otap_error err;
  if (otap_logs_validate(&a, NULL, &err)) fail_msg("%s", err.message);
  if (validate_with_views(&a, &err)) fail_msg("with views: %s", err.message);
  assert_true(equiv(&a, 1, &b, 1, NULL));
  assert_false(equiv(&a, 1, &c, 1, NULL));
  otap_logs_payload_reset(&a);
  otap_logs_payload_reset(&b);
  otap_logs_payload_reset(&c);
}


static void gen_one(const struct otap_logs_gen_options* o, int64_t idx,
                    struct otap_logs_payload* p);

// Property: permuting the rows of any table keeps the payload equivalent; splitting the LOGS
// rows over two payloads (each with all attribute tables) too.
static void test_equiv_permutations(void** state) {
  (void)state;
  struct otap_error err;
  for (int round = 0; round < 6; round++) {
    struct otap_logs_gen_options o;
    otap_logs_gen_options_init(&o);
    o.seed = (uint64_t)(900 + round);
    o.records = 50 + 40 * round;
    o.vary_schema = round % 2;
    o.duplicate_resources = round % 3 == 0;
    struct otap_logs_payload p, q;
    gen_one(&o, round, &p);
    must(otap_logs_payload_copy(&p, &q, &err));
    uint64_t x = 0x9e3779b97f4a7c15ull * (uint64_t)(round + 1);
    for (int t = 0; t < OTAP_LOGS_N_TABLES; t++) {
      if (!otap_logs_payload_has_table(&q, (enum otap_logs_table)t)) continue;
      int64_t n = q.batch[t].length;
      int64_t* idx = malloc((size_t)(n ? n : 1) * sizeof(int64_t));
      for (int64_t i = 0; i < n; i++) idx[i] = i;
      for (int64_t i = n - 1; i >= 1; i--) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int64_t j = (int64_t)(x % (uint64_t)(i + 1));
        int64_t tmp = idx[i];
        idx[i] = idx[j];
        idx[j] = tmp;
      }
      struct ArrowArray perm;
      if (otap_array_take(&q.schema[t], &q.batch[t], idx, n, &perm, &err)) fail_msg("%s", err.message);
      otap_array_release(&q.batch[t]);
      otap_array_move(&perm, &q.batch[t]);
      free(idx);
    }
    struct otap_buffer report;
    otap_buffer_init(&report);
    if (!equiv(&p, 1, &q, 1, &report)) fail_msg("permuted rows differ:\n%.*s", (int)report.size, report.data);
    // Split LOGS into two slices, each payload keeping every attribute table.
    int64_t n = otap_logs_payload_num_records(&p), half = n / 2;
    struct otap_logs_payload two[2];
    for (int k = 0; k < 2; k++) {
      must(otap_logs_payload_copy(&p, &two[k], &err));
      struct ArrowArray part;
      must(otap_array_slice(&p.batch[OTAP_LOGS_LOGS], k ? half : 0, k ? n - half : half, &part, &err));
      otap_array_release(&two[k].batch[OTAP_LOGS_LOGS]);
      otap_array_move(&part, &two[k].batch[OTAP_LOGS_LOGS]);
    }
    if (!equiv(&p, 1, two, 2, &report)) fail_msg("split differs:\n%.*s", (int)report.size, report.data);
    // Dropping the second half is detected, with a count of the missing records.
    report.size = 0;
    assert_false(equiv(&p, 1, two, 1, &report));
    char want[64];
    snprintf(want, sizeof(want), "%lld log records only in A, 0 only in B", (long long)(n - half));
    if (!strstr((const char*)report.data, want)) fail_msg("'%s' not in report", want);
    otap_buffer_reset(&report);
    otap_logs_payload_reset(&two[0]);
    otap_logs_payload_reset(&two[1]);
    otap_logs_payload_reset(&p);
    otap_logs_payload_reset(&q);
  }
}

static void expect_invalid(const struct otap_logs_payload* p, const char* table,
                           const char* column) {
  struct otap_error err;
  memset(&err, 0, sizeof(err));
  assert_int_equal(otap_logs_validate(p, NULL, &err), EINVAL);
  if (!strstr(err.message, table) || !strstr(err.message, column)) {
    fail_msg("message does not name %s / %s: %s", table, column, err.message);
  }
  // The same verdict and message over caller-built views.
  char first[sizeof(err.message)];
  memcpy(first, err.message, sizeof(first));
  int rc = validate_with_views(p, &err);
  if (rc != -1) {
    assert_int_equal(rc, EINVAL);
    assert_string_equal(err.message, first);
  }
}

// Replaces the format of column `path` ("a" or "a.b") in table t of a copy of the reference.
static void mutate_schema(enum otap_logs_table t, const char* parent, const char* name,
                          const char* new_name, const char* new_format, const char* dict_format,
                          const char* table, const char* column) {
  struct otap_logs_payload p;
  make_reference(&p);
  struct ArrowSchema* s = &p.schema[t];
  for (int64_t i = 0; i < s->n_children; i++) {
    struct ArrowSchema* c = s->children[i];
    if (parent) {
      if (strcmp(c->name, parent) != 0) continue;
      for (int64_t j = 0; j < c->n_children; j++) {
        if (strcmp(c->children[j]->name, name) == 0) c = c->children[j];
      }
    } else if (strcmp(c->name, name) != 0) {
      continue;
    }
    if (new_name) must(otap_schema_set_name(c, new_name));
    if (new_format) must(otap_schema_set_format(c, new_format));
    if (dict_format) {
      must(otap_schema_allocate_dictionary(c));
      must(otap_schema_init(c->dictionary, dict_format));
    }
    break;
  }
  expect_invalid(&p, table, column);
  otap_logs_payload_reset(&p);
}

static void test_validation_rejects(void** state) {
  (void)state;
  struct otap_logs_payload p;
  make_reference(&p);
  struct otap_logs_validate_options vo;
  otap_logs_validate_options_init(&vo);
  vo.check_references = true;
  struct otap_error err;
  if (otap_logs_validate(&p, &vo, &err)) fail_msg("%s", err.message);
  otap_logs_payload_reset(&p);
  // Unknown column, wrong native type, dictionary where not allowed, u8 keys where only u16,
  // signed keys, dictionary values of the wrong type.
  mutate_schema(OTAP_LOGS_LOGS, NULL, "id", "idx", NULL, NULL, "LOGS", "idx");
  mutate_schema(OTAP_LOGS_LOGS, "scope", "name", "nome", NULL, NULL, "LOGS", "scope.nome");
  mutate_schema(OTAP_LOGS_LOG_ATTRS, NULL, "int", NULL, "i", NULL, "LOG_ATTRS", "int");
  mutate_schema(OTAP_LOGS_LOGS, NULL, "id", NULL, "C", "S", "LOGS", "id");
  mutate_schema(OTAP_LOGS_LOG_ATTRS, NULL, "parent_id", NULL, "S", "S", "LOG_ATTRS", "parent_id");
  mutate_schema(OTAP_LOGS_RESOURCE_ATTRS, NULL, "str", NULL, "C", "u", "RESOURCE_ATTRS", "str");
  mutate_schema(OTAP_LOGS_SCOPE_ATTRS, NULL, "key", NULL, "i", "u", "SCOPE_ATTRS", "key");
  mutate_schema(OTAP_LOGS_LOG_ATTRS, NULL, "key", NULL, "C", "z", "LOG_ATTRS", "key");
  mutate_schema(OTAP_LOGS_LOGS, "body", "str", NULL, "C", "u", "LOGS", "body.str");
  mutate_schema(OTAP_LOGS_LOGS, "body", "type", NULL, "S", NULL, "LOGS", "body.type");
  mutate_schema(OTAP_LOGS_LOGS, "body", "type", "kind", NULL, NULL, "LOGS", "body");
  mutate_schema(OTAP_LOGS_LOG_ATTRS, NULL, "type", "typ", NULL, NULL, "LOG_ATTRS", "typ");
  mutate_schema(OTAP_LOGS_LOG_ATTRS, NULL, "parent_id", "pid", NULL, NULL, "LOG_ATTRS", "pid");
  mutate_schema(OTAP_LOGS_LOGS, "resource", "id", NULL, "I", NULL, "LOGS", "resource.id");
  // Attribute type out of range.
  make_reference(&p);
  const struct attr_row bad[] = {{0, "k", 9, NULL, 0}};
  make_attrs(&p, OTAP_LOGS_LOG_ATTRS, bad, 1, true);
  expect_invalid(&p, "LOG_ATTRS", "type");
  assert_non_null(strstr(err.message, "") );
  otap_logs_payload_reset(&p);
  // Unknown encoding value in the metadata.
  make_reference(&p);
  {
    struct otap_metadata_entry e = {"encoding", 8, "zigzag", 6};
    struct otap_buffer b;
    otap_buffer_init(&b);
    must(otap_metadata_encode(&b, &e, 1));
    must(otap_schema_set_metadata(p.schema[OTAP_LOGS_LOGS].children[0], (const char*)b.data));
    otap_buffer_reset(&b);
  }
  expect_invalid(&p, "LOGS", "id");
  otap_logs_payload_reset(&p);
  // Orphan parent ids and duplicate log ids with check_references.
  make_reference(&p);
  const struct attr_row orphan[] = {{42, "k", 1, "v", 0}};
  make_attrs(&p, OTAP_LOGS_LOG_ATTRS, orphan, 1, true);
  assert_int_equal(otap_logs_validate(&p, NULL, &err), 0);
  assert_int_equal(otap_logs_validate(&p, &vo, &err), EINVAL);
  assert_non_null(strstr(err.message, "LOG_ATTRS"));
  otap_logs_payload_reset(&p);
  make_reference(&p);
  const struct log_row dup[] = {{0, 0, 0, "lib", "a", 0}, {0, 0, 0, "lib", "b", 0}};
  make_logs(&p, dup, 2, true);
  assert_int_equal(otap_logs_validate(&p, &vo, &err), EINVAL);
  assert_non_null(strstr(err.message, "not unique"));
  otap_logs_payload_reset(&p);
  // Transport-encoded ids are refused when plain ids are required.
  otap_logs_payload_init(&p);
  make_logs(&p, kLogs, 3, false);
  vo.check_references = false;
  vo.require_plain_ids = true;
  assert_int_equal(otap_logs_validate(&p, &vo, &err), EINVAL);
  assert_non_null(strstr(err.message, "LOGS"));
  otap_logs_payload_reset(&p);
}

// Quasi-delta decoding over a real attributes table: runs break on type/key/value change;
// Empty, Map, Slice and null values are never delta-coded.
static void test_quasi_delta_table(void** state) {
  (void)state;
  struct otap_logs_payload p;
  otap_logs_payload_init(&p);
  const struct log_row logs[] = {{0, 0, 0, "s", "a", 0}, {1, 0, 0, "s", "b", 0}, {2, 0, 0, "s", "c", 0},
                                 {3, 0, 0, "s", "d", 0}};
  make_logs(&p, logs, 4, true);
  // Encoded parent ids (metadata absent => quasi-delta).
  const struct attr_row enc[] = {
      {0, "k1", 1, "v1", 0}, {1, "k1", 1, "v1", 0}, {2, "k1", 1, "v1", 0},  // 0,1,3
      {1, "k1", 1, "v2", 0}, {1, "k1", 1, "v2", 0},                         // 1,2
      {0, "k2", 1, "v2", 0}, {3, "k2", 1, "v2", 0},                         // 0,3
      {2, "k2", 2, NULL, 5}, {1, "k2", 2, NULL, 5},                         // 2,3 (type change)
      {1, "e", 0, NULL, 0},  {1, "e", 0, NULL, 0},                          // empty: absolute
      {2, "m", 5, NULL, 0},  {2, "m", 5, NULL, 0},                          // map: absolute
      {3, "l", 6, NULL, 0},  {3, "l", 6, NULL, 0},                          // slice: absolute
      {1, "z", 1, NULL, 0},  {2, "z", 1, NULL, 0},                          // null str: absolute
  };
  make_attrs(&p, OTAP_LOGS_LOG_ATTRS, enc, 17, false);
  struct otap_error err;
  if (otap_logs_decode_ids(&p, &err)) fail_msg("%s", err.message);
  struct otap_array_view v;
  must(otap_array_view_init(&v, &p.schema[OTAP_LOGS_LOG_ATTRS], &err));
  must(otap_array_view_set(&v, &p.batch[OTAP_LOGS_LOG_ATTRS], OTAP_VALIDATE_FULL, &err));
  const uint16_t want[] = {0, 1, 3, 1, 2, 0, 3, 2, 3, 1, 1, 2, 2, 3, 3, 1, 2};
  for (int i = 0; i < 17; i++) {
    assert_int_equal(otap_view_get_uint(v.children[0], i), want[i]);
  }
  otap_array_view_reset(&v);
  struct otap_logs_validate_options vo;
  otap_logs_validate_options_init(&vo);
  vo.require_plain_ids = true;
  vo.check_references = true;
  if (otap_logs_validate(&p, &vo, &err)) fail_msg("%s", err.message);
  // Decoding again is a no-op (the column is marked plain now).
  must(otap_logs_decode_ids(&p, &err));
  otap_logs_payload_reset(&p);
}

// Delta-encoded LOGS ids with nulls decode to the plain reference.
static void test_delta_table(void** state) {
  (void)state;
  struct otap_logs_payload enc, plain;
  otap_logs_payload_init(&enc);
  otap_logs_payload_init(&plain);
  const struct log_row pl[] = {{0, 0, 0, "s", "a", 0}, {-1, 0, 1, "s", "b", 0}, {1, 1, 1, "s", "c", 0},
                               {4, 1, 2, "s", "d", 0}};
  const struct log_row en[] = {{0, 0, 0, "s", "a", 0}, {-1, 0, 1, "s", "b", 0}, {1, 1, 0, "s", "c", 0},
                               {3, 0, 1, "s", "d", 0}};
  make_logs(&plain, pl, 4, true);
  make_logs(&enc, en, 4, false);
  const struct attr_row la[] = {{0, "k", 1, "a", 0}, {4, "k", 1, "b", 0}};
  make_attrs(&plain, OTAP_LOGS_LOG_ATTRS, la, 2, true);
  make_attrs(&enc, OTAP_LOGS_LOG_ATTRS, la, 2, true);
  struct otap_buffer report;
  otap_buffer_init(&report);
  // Equivalence decodes on the fly.
  if (!equiv(&plain, 1, &enc, 1, &report)) fail_msg("%.*s", (int)report.size, report.data);
  struct otap_error err;
  if (otap_logs_decode_ids(&enc, &err)) fail_msg("%s", err.message);
  assert_true(equiv(&plain, 1, &enc, 1, NULL));
  struct otap_buffer a, b;
  otap_buffer_init(&a);
  otap_buffer_init(&b);
  must(otap_logs_payload_format(&plain, &a, &err));
  must(otap_logs_payload_format(&enc, &b, &err));
  assert_int_equal(a.size, b.size);
  assert_memory_equal(a.data, b.data, (size_t)a.size);
  otap_buffer_reset(&a);
  otap_buffer_reset(&b);
  otap_buffer_reset(&report);
  otap_logs_payload_reset(&enc);
  otap_logs_payload_reset(&plain);
}


// Sliced tables (as a batcher produces them) resolve rows through the struct offsets.
static void test_sliced_tables(void** state) {
  (void)state;
  struct otap_logs_payload ref, sliced, want;
  make_reference(&ref);
  struct otap_error err;
  must(otap_logs_payload_copy(&ref, &sliced, &err));
  struct ArrowArray part;
  if (otap_array_slice(&ref.batch[OTAP_LOGS_LOGS], 1, 2, &part, &err)) fail_msg("%s", err.message);
  otap_array_release(&sliced.batch[OTAP_LOGS_LOGS]);
  otap_array_move(&part, &sliced.batch[OTAP_LOGS_LOGS]);
  if (otap_logs_validate(&sliced, NULL, &err)) fail_msg("%s", err.message);
  otap_logs_payload_init(&want);
  make_logs(&want, kLogs + 1, 2, true);
  make_attrs(&want, OTAP_LOGS_LOG_ATTRS, kLogAttrs, 3, true);
  make_attrs(&want, OTAP_LOGS_RESOURCE_ATTRS, kResAttrs, 2, true);
  make_attrs(&want, OTAP_LOGS_SCOPE_ATTRS, kScopeAttrs, 2, true);
  struct otap_buffer report;
  otap_buffer_init(&report);
  if (!equiv(&want, 1, &sliced, 1, &report)) fail_msg("%.*s", (int)report.size, report.data);
  assert_false(equiv(&ref, 1, &sliced, 1, NULL));
  // A sliced attributes table too.
  if (otap_array_slice(&ref.batch[OTAP_LOGS_LOG_ATTRS], 2, 1, &part, &err)) fail_msg("%s", err.message);
  otap_array_release(&sliced.batch[OTAP_LOGS_LOG_ATTRS]);
  otap_array_move(&part, &sliced.batch[OTAP_LOGS_LOG_ATTRS]);
  make_attrs(&want, OTAP_LOGS_LOG_ATTRS, kLogAttrs + 2, 1, true);
  if (!equiv(&want, 1, &sliced, 1, &report)) fail_msg("%.*s", (int)report.size, report.data);
  otap_buffer_reset(&report);
  otap_logs_payload_reset(&ref);
  otap_logs_payload_reset(&sliced);
  otap_logs_payload_reset(&want);
}

static void gen_one(const struct otap_logs_gen_options* o, int64_t idx,
                    struct otap_logs_payload* p) {
  struct otap_error err;
  memset(&err, 0, sizeof(err));
  int rc = otap_logs_gen(o, idx, p, &err);
  if (rc) fail_msg("gen: %s", err.message);
  rc = otap_logs_validate(p, NULL, &err);
  if (rc) fail_msg("validate: %s", err.message);
}

static void test_gen_basic(void** state) {
  (void)state;
  struct otap_logs_gen_options o;
  otap_logs_gen_options_init(&o);
  struct otap_logs_payload p;
  gen_one(&o, 0, &p);
  assert_int_equal(otap_logs_payload_num_records(&p), 100);
  assert_true(otap_logs_payload_has_table(&p, OTAP_LOGS_LOG_ATTRS));
  assert_true(otap_logs_payload_has_table(&p, OTAP_LOGS_RESOURCE_ATTRS));
  assert_true(otap_logs_payload_has_table(&p, OTAP_LOGS_SCOPE_ATTRS));
  struct otap_buffer text;
  otap_buffer_init(&text);
  struct otap_error err;
  assert_int_equal(otap_logs_payload_format(&p, &text, &err), 0);
  assert_true(text.size > 0);
  fwrite(text.data, 1, text.size < 600 ? (size_t)text.size : 600, stdout);
  printf("\n");
  otap_buffer_reset(&text);
  otap_logs_payload_reset(&p);
}


// Generator knobs: every combination validates; encodings and dictionary choices do not change
// the meaning (equivalence), and the same options give the same payload.
static void test_gen_knobs(void** state) {
  (void)state;
  struct otap_error err;
  int combos = 0;
  for (int dict = 0; dict < 3; dict++) {
    for (int vary = 0; vary < 2; vary++) {
      for (int dup = 0; dup < 2; dup++) {
        for (int shape = 0; shape < 6; shape++) {
          struct otap_logs_gen_options o;
          otap_logs_gen_options_init(&o);
          o.seed = (uint64_t)(17 + shape * 3 + vary);
          o.dict = (enum otap_logs_gen_dict)dict;
          o.vary_schema = vary;
          o.duplicate_resources = dup;
          o.records = shape == 0 ? 0 : shape == 1 ? 1 : shape == 5 ? 300 : 60;
          o.log_attrs = shape == 2 ? 0 : shape == 5 ? 12 : 3;
          o.no_attr_percent = shape == 3 ? 100 : shape == 4 ? 0 : 20;
          o.body_bytes = shape == 3 ? 0 : 40;
          o.body_mixed_percent = shape == 4 ? 100 : 10;
          o.trace_fanout = shape == 4 ? 0 : 3;
          o.fixed_log_attrs = shape == 5;
          o.shared_pool = shape % 2 == 0;
          o.trace_fanout = shape == 2 ? 1 : o.trace_fanout;
          o.resources = shape == 5 ? 5 : 2;
          o.scopes = shape == 5 ? 3 : 1;
          o.resource_attrs = shape == 2 ? 0 : 3;
          o.scope_attrs = shape == 3 ? 0 : 2;
          struct otap_logs_payload plain, enc, again, shuffled;
          gen_one(&o, shape, &plain);
          gen_one(&o, shape, &again);
          o.encoded_ids = true;
          gen_one(&o, shape, &enc);
          o.encoded_ids = false;
          o.shuffle_rows = true;
          gen_one(&o, shape, &shuffled);
          assert_int_equal(otap_logs_payload_num_records(&plain), o.records);
          struct otap_buffer report;
          otap_buffer_init(&report);
          if (!equiv(&plain, 1, &enc, 1, &report)) {
            fail_msg("encoded ids differ (dict %d vary %d shape %d):\n%.*s", dict, vary, shape,
                     (int)report.size, report.data);
          }
          assert_true(equiv(&plain, 1, &again, 1, NULL));
          // Bit-for-bit determinism: the canonical text is identical.
          struct otap_buffer t1, t2;
          otap_buffer_init(&t1);
          otap_buffer_init(&t2);
          must(otap_logs_payload_format(&plain, &t1, &err));
          must(otap_logs_payload_format(&again, &t2, &err));
          assert_int_equal(t1.size, t2.size);
          if (t1.size) assert_memory_equal(t1.data, t2.data, (size_t)t1.size);
          // Decoding the encoded payload gives plain ids that pass the strict checks.
          if (otap_logs_decode_ids(&enc, &err)) fail_msg("decode: %s", err.message);
          struct otap_logs_validate_options vo;
          otap_logs_validate_options_init(&vo);
          vo.require_plain_ids = true;
          vo.check_references = true;
          if (otap_logs_validate(&enc, &vo, &err)) fail_msg("strict: %s", err.message);
          assert_true(equiv(&plain, 1, &enc, 1, NULL));
          if (otap_logs_validate(&shuffled, &vo, &err)) fail_msg("shuffled: %s", err.message);
          assert_int_equal(otap_logs_payload_num_records(&shuffled), o.records);
          otap_buffer_reset(&t1);
          otap_buffer_reset(&t2);
          otap_buffer_reset(&report);
          otap_logs_payload_reset(&plain);
          otap_logs_payload_reset(&again);
          otap_logs_payload_reset(&enc);
          otap_logs_payload_reset(&shuffled);
          combos++;
        }
      }
    }
  }
  assert_int_equal(combos, 72);
  // Different seeds give different content; out-of-range knobs are EINVAL.
  struct otap_logs_gen_options o;
  otap_logs_gen_options_init(&o);
  struct otap_logs_payload a, b;
  gen_one(&o, 0, &a);
  o.seed = 2;
  gen_one(&o, 0, &b);
  assert_false(equiv(&a, 1, &b, 1, NULL));
  otap_logs_payload_reset(&a);
  otap_logs_payload_reset(&b);
  // vary_schema makes some bodies null rows (equivalent to Empty); they validate and survive.
  {
    struct otap_logs_gen_options v;
    otap_logs_gen_options_init(&v);
    v.vary_schema = true;
    v.body_mixed_percent = 100;
    v.records = 400;
    int64_t null_rows = 0;
    for (int k = 0; k < 6 && null_rows == 0; k++) {
      struct otap_logs_payload q;
      gen_one(&v, k, &q);
      int64_t bi = -1;
      for (int64_t c = 0; c < q.schema[OTAP_LOGS_LOGS].n_children; c++) {
        if (strcmp(q.schema[OTAP_LOGS_LOGS].children[c]->name, "body") == 0) bi = c;
      }
      if (bi >= 0) {
        struct otap_array_view view;
        must(otap_array_view_init(&view, &q.schema[OTAP_LOGS_LOGS], &err));
        must(otap_array_view_set(&view, &q.batch[OTAP_LOGS_LOGS], OTAP_VALIDATE_FULL, &err));
        null_rows += view.children[bi]->null_count;
        otap_array_view_reset(&view);
      }
      otap_logs_payload_reset(&q);
    }
    assert_true(null_rows > 0);
  }
  // Fixed attribute count: every record with an id has exactly log_attrs attributes.
  o.seed = 3;
  o.fixed_log_attrs = true;
  o.log_attrs = 4;
  o.no_attr_percent = 0;
  gen_one(&o, 0, &a);
  assert_int_equal(a.batch[OTAP_LOGS_LOG_ATTRS].length, 4 * o.records);
  otap_logs_payload_reset(&a);
  o.records = 70000;
  assert_int_equal(otap_logs_gen(&o, 0, &a, &err), EINVAL);
  otap_logs_gen_options_init(&o);
  o.resources = 0;
  assert_int_equal(otap_logs_gen(&o, 0, &a, &err), EINVAL);
}

// Writes payloads to an in-memory records file.
static void write_records(const struct otap_logs_payload* p, int64_t n, struct otap_buffer* out) {
  struct otap_sink sink;
  struct otap_error err;
  must(otap_sink_init_buffer(&sink, out, &err));
  struct otap_records_writer* w;
  must(otap_records_writer_open(&w, &sink, NULL, &err));
  for (int64_t i = 0; i < n; i++) {
    if (otap_records_writer_write(w, &p[i], &err)) fail_msg("write: %s", err.message);
  }
  must(otap_records_writer_finish(w, &err));
  otap_records_writer_free(w);
  otap_sink_release(&sink);
}

static int read_records(const struct otap_buffer* in, struct otap_logs_payload* out, int64_t cap,
                        int64_t* n, struct otap_error* err) {
  struct otap_records_reader* r = NULL;
  *n = 0;
  int rc = otap_records_reader_open_memory(&r, in->data, in->size, "mem.otap", NULL, err);
  if (rc) return rc;
  for (;;) {
    bool eof;
    struct otap_logs_payload p;
    otap_logs_payload_init(&p);
    rc = otap_records_reader_next(r, &p, &eof, err);
    if (rc || eof) break;
    if (*n < cap) {
      otap_logs_payload_move(&p, &out[*n]);
    } else {
      otap_logs_payload_reset(&p);
    }
    (*n)++;
  }
  otap_records_reader_free(r);
  return rc;
}

// Message k's schema_id for payload type `type` ("" when absent).
static void schema_id_of(const struct otap_buffer* file, int64_t k, int type, char* out,
                         size_t cap) {
  int64_t pos = 0;
  out[0] = 0;
  struct otap_error err;
  for (int64_t m = 0; pos < file->size; m++) {
    uint64_t len;
    must(otap_pb_read_varint(file->data, file->size, &pos, &len, &err));
    if (m == k) {
      struct otap_bar_msg msg;
      must(otap_bar_decode(file->data + pos, (int64_t)len, pos, &msg, &err));
      assert_int_equal(msg.batch_id, k);
      for (int64_t i = 0; i < msg.n_payloads; i++) {
        if (msg.payloads[i].type == type) {
          snprintf(out, cap, "%.*s", (int)msg.payloads[i].schema_id_len, msg.payloads[i].schema_id);
        }
      }
      otap_bar_reset(&msg);
      return;
    }
    pos += (int64_t)len;
  }
}

static void test_records_roundtrip(void** state) {
  (void)state;
  enum { J = 6 };
  for (int mode = 0; mode < 3; mode++) {
    // 0: one schema, native columns; 1: varying schemas; 2: one schema with dictionaries whose
    // values change per message (delta / replacement dictionary batches in one stream).
    int vary = mode == 1;
    struct otap_logs_gen_options o;
    otap_logs_gen_options_init(&o);
    o.seed = 5;
    o.records = 80;
    o.vary_schema = vary;
    o.dict = mode == 1 ? OTAP_LOGS_GEN_DICT_AUTO
             : mode == 2 ? OTAP_LOGS_GEN_DICT_ALWAYS : OTAP_LOGS_GEN_DICT_NEVER;
    struct otap_logs_payload in[J], out[J];
    for (int i = 0; i < J; i++) {
      gen_one(&o, i, &in[i]);
      otap_logs_payload_init(&out[i]);
    }
    struct otap_buffer file;
    otap_buffer_init(&file);
    write_records(in, J, &file);
    assert_true(otap_records_sniff(file.data, file.size));
    // Short heads (format detection reads 16 bytes) and other formats.
    for (int64_t h = 8; h <= 64; h++) assert_true(otap_records_sniff(file.data, h));
    assert_false(otap_records_sniff((const uint8_t*)"ARROW1\0\0\xff\xff\xff\xff\x10\0\0\0", 16));
    assert_false(otap_records_sniff((const uint8_t*)"\xff\xff\xff\xff\x10\x01\0\0\x0c\0\0\0", 12));
    assert_false(otap_records_sniff((const uint8_t*)"PAR1\x15\x04\x15\x1e\x15\x22\x4c\x15", 12));
    assert_false(otap_records_sniff((const uint8_t*)"{\"a\": 1, \"b\": 2}", 16));
    int64_t n;
    struct otap_error err;
    if (read_records(&file, out, J, &n, &err)) fail_msg("read: %s", err.message);
    assert_int_equal(n, J);
    struct otap_buffer report;
    otap_buffer_init(&report);
    if (!equiv(in, J, out, J, &report)) fail_msg("%.*s", (int)report.size, report.data);
    for (int i = 0; i < J; i++) {
      assert_true(equiv(&in[i], 1, &out[i], 1, NULL));
      assert_int_equal(otap_logs_payload_num_records(&out[i]), 80);
    }
    // Same schema: the LOGS stream continues (one schema_id); varying: restarts happen.
    char first[64], id[64];
    schema_id_of(&file, 0, OTAP_PAYLOAD_LOGS, first, sizeof(first));
    assert_true(first[0] != 0);
    int restarts = 0;
    for (int k = 1; k < J; k++) {
      schema_id_of(&file, k, OTAP_PAYLOAD_LOGS, id, sizeof(id));
      if (strcmp(id, first) != 0) restarts++;
    }
    if (mode == 1) {
      assert_true(restarts > 0);
    } else if (mode == 0) {
      assert_int_equal(restarts, 0);
    }
    otap_buffer_reset(&report);
    otap_buffer_reset(&file);
    for (int i = 0; i < J; i++) {
      otap_logs_payload_reset(&in[i]);
      otap_logs_payload_reset(&out[i]);
    }
  }
}

// IPC body compression inside records files (zstd, lz4) round trips.
static void test_records_compressed(void** state) {
  (void)state;
  struct otap_logs_gen_options o;
  otap_logs_gen_options_init(&o);
  o.records = 120;
  struct otap_logs_payload in[2], out[2];
  for (int i = 0; i < 2; i++) gen_one(&o, i, &in[i]);
  const enum otap_ipc_compression kCodecs[2] = {OTAP_IPC_COMPRESSION_ZSTD,
                                                OTAP_IPC_COMPRESSION_LZ4_FRAME};
  int64_t plain_size = 0;
  for (int c = -1; c < 2; c++) {
    struct otap_buffer file;
    otap_buffer_init(&file);
    struct otap_sink sink;
    struct otap_error err;
    must(otap_sink_init_buffer(&sink, &file, &err));
    struct otap_records_writer_options wo;
    otap_records_writer_options_init(&wo);
    if (c >= 0) wo.compression = kCodecs[c];
    struct otap_records_writer* w;
    must(otap_records_writer_open(&w, &sink, &wo, &err));
    for (int i = 0; i < 2; i++) {
      if (otap_records_writer_write(w, &in[i], &err)) fail_msg("%s", err.message);
    }
    otap_records_writer_free(w);
    otap_sink_release(&sink);
    if (c < 0) {
      plain_size = file.size;
    } else {
      assert_true(file.size < plain_size);
    }
    for (int i = 0; i < 2; i++) otap_logs_payload_init(&out[i]);
    int64_t n;
    if (read_records(&file, out, 2, &n, &err)) fail_msg("%s", err.message);
    assert_int_equal(n, 2);
    assert_true(equiv(in, 2, out, 2, NULL));
    for (int i = 0; i < 2; i++) otap_logs_payload_reset(&out[i]);
    otap_buffer_reset(&file);
  }
  for (int i = 0; i < 2; i++) otap_logs_payload_reset(&in[i]);
}

// Encoded ids survive the file (decoded on read, marked plain).

// Splits a records buffer into its messages (offset of the length prefix, total length).
static int64_t split_messages(const struct otap_buffer* f, int64_t* off, int64_t* len, int64_t cap) {
  int64_t n = 0, pos = 0;
  struct otap_error err;
  while (pos < f->size && n < cap) {
    int64_t start = pos;
    uint64_t l;
    must(otap_pb_read_varint(f->data, f->size, &pos, &l, &err));
    pos += (int64_t)l;
    off[n] = start;
    len[n] = pos - start;
    n++;
  }
  return n;
}

// A producer may return to an earlier schema_id: its IPC stream continues (spec 4.4).
static void test_records_schema_id_return(void** state) {
  (void)state;
  struct otap_logs_gen_options o;
  otap_logs_gen_options_init(&o);
  o.dict = OTAP_LOGS_GEN_DICT_NEVER;
  o.records = 30;
  struct otap_logs_payload a[2], b, out[3];
  gen_one(&o, 0, &a[0]);
  gen_one(&o, 1, &a[1]);
  o.vary_schema = true;
  o.seed = 77;
  gen_one(&o, 0, &b);
  struct otap_buffer fa, fb, file;
  otap_buffer_init(&fa);
  otap_buffer_init(&fb);
  otap_buffer_init(&file);
  write_records(a, 2, &fa);
  write_records(&b, 1, &fb);
  int64_t offa[4], lena[4], offb[2], lenb[2];
  assert_int_equal(split_messages(&fa, offa, lena, 4), 2);
  assert_int_equal(split_messages(&fb, offb, lenb, 2), 1);
  // Message B with its schema ids renamed so they do not collide with A's.
  struct otap_error err;
  int64_t pos = offb[0];
  uint64_t l;
  must(otap_pb_read_varint(fb.data, fb.size, &pos, &l, &err));
  struct otap_bar_msg msg;
  must(otap_bar_decode(fb.data + pos, (int64_t)l, pos, &msg, &err));
  char ids[8][32];
  for (int64_t i = 0; i < msg.n_payloads && i < 8; i++) {
    snprintf(ids[i], sizeof(ids[i]), "other-%.*s", (int)msg.payloads[i].schema_id_len,
             msg.payloads[i].schema_id);
    msg.payloads[i].schema_id = ids[i];
    msg.payloads[i].schema_id_len = (int64_t)strlen(ids[i]);
  }
  struct otap_buffer mb;
  otap_buffer_init(&mb);
  must(otap_bar_encode(&msg, &mb));
  otap_bar_reset(&msg);
  // File: A0, B', A1 (A1 continues A0's streams: it carries no Schema message).
  must(otap_buffer_append(&file, fa.data + offa[0], lena[0]));
  must(otap_pb_append_varint(&file, (uint64_t)mb.size));
  must(otap_buffer_append(&file, mb.data, mb.size));
  must(otap_buffer_append(&file, fa.data + offa[1], lena[1]));
  for (int i = 0; i < 3; i++) otap_logs_payload_init(&out[i]);
  int64_t n;
  if (read_records(&file, out, 3, &n, &err)) fail_msg("%s", err.message);
  assert_int_equal(n, 3);
  assert_true(equiv(&a[0], 1, &out[0], 1, NULL));
  assert_true(equiv(&b, 1, &out[1], 1, NULL));
  assert_true(equiv(&a[1], 1, &out[2], 1, NULL));
  // Without A0 first, A1's streams have no schema: a clean error.
  struct otap_buffer bad = {fa.data + offa[1], lena[1], lena[1]};
  for (int i = 0; i < 3; i++) otap_logs_payload_reset(&out[i]);
  assert_int_equal(read_records(&bad, out, 3, &n, &err), EINVAL);
  for (int i = 0; i < 3; i++) otap_logs_payload_reset(&out[i]);
  otap_buffer_reset(&mb);
  otap_buffer_reset(&fa);
  otap_buffer_reset(&fb);
  otap_buffer_reset(&file);
  otap_logs_payload_reset(&a[0]);
  otap_logs_payload_reset(&a[1]);
  otap_logs_payload_reset(&b);
}

static void test_records_encoded(void** state) {
  (void)state;
  struct otap_logs_gen_options o;
  otap_logs_gen_options_init(&o);
  o.records = 50;
  o.encoded_ids = true;
  struct otap_logs_payload in[2], out[2], plain[2];
  for (int i = 0; i < 2; i++) {
    gen_one(&o, i, &in[i]);
    otap_logs_payload_init(&out[i]);
  }
  o.encoded_ids = false;
  for (int i = 0; i < 2; i++) gen_one(&o, i, &plain[i]);
  struct otap_buffer file;
  otap_buffer_init(&file);
  write_records(in, 2, &file);
  int64_t n;
  struct otap_error err;
  if (read_records(&file, out, 2, &n, &err)) fail_msg("read: %s", err.message);
  assert_int_equal(n, 2);
  struct otap_logs_validate_options vo;
  otap_logs_validate_options_init(&vo);
  vo.require_plain_ids = true;
  vo.check_references = true;
  for (int i = 0; i < 2; i++) {
    if (otap_logs_validate(&out[i], &vo, &err)) fail_msg("%s", err.message);
  }
  assert_true(equiv(plain, 2, out, 2, NULL));
  otap_buffer_reset(&file);
  for (int i = 0; i < 2; i++) {
    otap_logs_payload_reset(&in[i]);
    otap_logs_payload_reset(&out[i]);
    otap_logs_payload_reset(&plain[i]);
  }
}


// otap_logs_encode_ids: sorted, renumbered, delta / quasi-delta encoded, equivalent.
static void check_encode(const struct otap_logs_payload* src) {
  struct otap_logs_payload p;
  struct otap_error err;
  must(otap_logs_payload_copy(src, &p, &err));
  if (otap_logs_encode_ids(&p, &err)) fail_msg("encode: %s", err.message);
  if (otap_logs_validate(&p, NULL, &err)) fail_msg("validate: %s", err.message);
  struct otap_buffer report;
  otap_buffer_init(&report);
  if (!equiv(src, 1, &p, 1, &report)) fail_msg("encode changed meaning:\n%.*s", (int)report.size, report.data);
  // LOGS ids are delta-coded as 0/1 steps.
  if (otap_logs_payload_has_table(&p, OTAP_LOGS_LOGS)) {
    struct otap_array_view v;
    must(otap_array_view_init(&v, &p.schema[OTAP_LOGS_LOGS], &err));
    must(otap_array_view_set(&v, &p.batch[OTAP_LOGS_LOGS], OTAP_VALIDATE_FULL, &err));
    for (int64_t c = 0; c < p.schema[OTAP_LOGS_LOGS].n_children; c++) {
      if (strcmp(p.schema[OTAP_LOGS_LOGS].children[c]->name, "id") != 0) continue;
      for (int64_t i = 0; i < v.children[c]->length; i++) {
        if (!otap_view_is_null(v.children[c], i)) assert_true(otap_view_get_uint(v.children[c], i) <= 1);
      }
    }
    otap_array_view_reset(&v);
  }
  if (otap_logs_decode_ids(&p, &err)) fail_msg("decode: %s", err.message);
  struct otap_logs_validate_options vo;
  otap_logs_validate_options_init(&vo);
  vo.require_plain_ids = true;
  vo.check_references = true;
  if (otap_logs_validate(&p, &vo, &err)) fail_msg("strict: %s", err.message);
  assert_true(equiv(src, 1, &p, 1, NULL));
  otap_buffer_reset(&report);
  otap_logs_payload_reset(&p);
}

static void test_encode_ids(void** state) {
  (void)state;
  struct otap_logs_payload ref;
  make_reference(&ref);
  check_encode(&ref);
  otap_logs_payload_reset(&ref);
  // A scope id shared by two resources is split; its attributes are duplicated.
  otap_logs_payload_init(&ref);
  const struct log_row logs[] = {{3, 1, 0, "s", "a", 0}, {-1, 0, 0, "s", "b", 0}, {1, 1, 0, "s", "c", 0},
                                 {0, 0, 5, "t", "d", 0}};
  const struct attr_row la[] = {{3, "k", 1, "a", 0}, {1, "k", 1, "a", 0}, {0, "k", 1, "b", 0},
                                {3, "n", 2, NULL, 4}};
  const struct attr_row ra[] = {{1, "r", 1, "one", 0}, {0, "r", 1, "zero", 0}};
  const struct attr_row sa[] = {{0, "s", 1, "scope0", 0}, {5, "s", 1, "scope5", 0},
                                {9, "orphan", 1, "x", 0}};
  make_logs(&ref, logs, 4, true);
  make_attrs(&ref, OTAP_LOGS_LOG_ATTRS, la, 4, true);
  make_attrs(&ref, OTAP_LOGS_RESOURCE_ATTRS, ra, 2, true);
  make_attrs(&ref, OTAP_LOGS_SCOPE_ATTRS, sa, 3, true);
  check_encode(&ref);
  otap_logs_payload_reset(&ref);
  // Generated payloads of many shapes.
  for (int k = 0; k < 8; k++) {
    struct otap_logs_gen_options o;
    otap_logs_gen_options_init(&o);
    o.seed = (uint64_t)(100 + k);
    o.records = 40 + 30 * k;
    o.shuffle_rows = k & 1;
    o.duplicate_resources = k & 2;
    o.vary_schema = k & 4;
    o.resources = 1 + k % 3;
    gen_one(&o, k, &ref);
    check_encode(&ref);
    otap_logs_payload_reset(&ref);
  }
  // The writer's encode_ids option.
  struct otap_logs_gen_options o;
  otap_logs_gen_options_init(&o);
  o.shuffle_rows = true;
  struct otap_logs_payload in[3], out[3];
  for (int i = 0; i < 3; i++) {
    gen_one(&o, i, &in[i]);
    otap_logs_payload_init(&out[i]);
  }
  struct otap_buffer file;
  otap_buffer_init(&file);
  struct otap_sink sink;
  struct otap_error err;
  must(otap_sink_init_buffer(&sink, &file, &err));
  struct otap_records_writer_options wo;
  otap_records_writer_options_init(&wo);
  wo.encode_ids = true;
  struct otap_records_writer* w;
  must(otap_records_writer_open(&w, &sink, &wo, &err));
  for (int i = 0; i < 3; i++) {
    if (otap_records_writer_write(w, &in[i], &err)) fail_msg("%s", err.message);
  }
  otap_records_writer_free(w);
  otap_sink_release(&sink);
  int64_t n;
  if (read_records(&file, out, 3, &n, &err)) fail_msg("%s", err.message);
  assert_int_equal(n, 3);
  assert_true(equiv(in, 3, out, 3, NULL));
  for (int i = 0; i < 3; i++) {
    otap_logs_payload_reset(&in[i]);
    otap_logs_payload_reset(&out[i]);
  }
  otap_buffer_reset(&file);
}

static void expect_read_error(const uint8_t* data, int64_t size, const char* needle) {
  struct otap_buffer b = {(uint8_t*)data, size, size};
  struct otap_logs_payload out[1];
  otap_logs_payload_init(&out[0]);
  int64_t n;
  struct otap_error err;
  memset(&err, 0, sizeof(err));
  int rc = read_records(&b, out, 1, &n, &err);
  otap_logs_payload_reset(&out[0]);
  assert_int_equal(rc, EINVAL);
  if (needle && !strstr(err.message, needle)) fail_msg("'%s' not in: %s", needle, err.message);
}

static void test_records_hostile(void** state) {
  (void)state;
  // Truncated varint length prefix.
  const uint8_t t1[] = {0x80};
  expect_read_error(t1, 1, "byte offset 0");
  // Length past the end.
  const uint8_t t2[] = {0x05, 0x08, 0x01};
  expect_read_error(t2, 3, "byte offset 0");
  // Absurd size (2^40).
  const uint8_t t3[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x20, 0x00};
  expect_read_error(t3, sizeof(t3), "over the cap");
  // A non-logs payload type, and a record that is not IPC.
  const uint8_t t4[] = {0x06, 0x12, 0x04, 0x10, 0x28, 0x1a, 0x00};
  expect_read_error(t4, sizeof(t4), "not a logs table");
  const uint8_t t5[] = {0x08, 0x12, 0x06, 0x10, 0x1e, 0x1a, 0x02, 0x01, 0x02};
  expect_read_error(t5, sizeof(t5), "LOGS");
  // Inner length past the message end names the byte offset.
  const uint8_t t6[] = {0x04, 0x12, 0x09, 0x10, 0x1e};
  expect_read_error(t6, sizeof(t6), "byte offset 2");
  // Every truncation and many single-byte corruptions of a valid file fail cleanly.
  struct otap_logs_gen_options o;
  otap_logs_gen_options_init(&o);
  o.records = 10;
  o.body_bytes = 8;
  struct otap_logs_payload p[2];
  gen_one(&o, 0, &p[0]);
  gen_one(&o, 1, &p[1]);
  struct otap_buffer file;
  otap_buffer_init(&file);
  write_records(p, 2, &file);
  struct otap_logs_payload out[2];
  struct otap_error err;
  for (int64_t cut = 0; cut < file.size; cut += cut < 64 ? 1 : 97) {
    struct otap_buffer b = {file.data, cut, cut};
    int64_t n;
    otap_logs_payload_init(&out[0]);
    otap_logs_payload_init(&out[1]);
    int rc = read_records(&b, out, 2, &n, &err);
    assert_true(rc == 0 || rc == EINVAL || rc == ENOTSUP);
    otap_logs_payload_reset(&out[0]);
    otap_logs_payload_reset(&out[1]);
  }
  // Mark the bytes inside IPC record fields: every framing byte is corrupted three ways, every
  // 29th byte inside the IPC streams once (the ipc fuzz target covers those more deeply).
  size_t fsz = file.size > 0 ? (size_t)file.size : 1;
  uint8_t* in_record = calloc(fsz, 1);
  for (int64_t pos = 0; pos < file.size;) {
    uint64_t len;
    must(otap_pb_read_varint(file.data, file.size, &pos, &len, &err));
    struct otap_bar_msg msg;
    must(otap_bar_decode(file.data + pos, (int64_t)len, pos, &msg, &err));
    for (int64_t i = 0; i < msg.n_payloads; i++) {
      int64_t off = msg.payloads[i].record - file.data;
      memset(in_record + off, 1, (size_t)msg.payloads[i].record_len);
    }
    otap_bar_reset(&msg);
    pos += (int64_t)len;
  }
  uint8_t* copy = malloc(fsz);
  int flips = 0;
  for (int64_t k = 0; k < file.size; k++) {
    if (in_record[k] && k % 29 != 0) continue;
    static const uint8_t kMasks[3] = {0x01, 0x80, 0xff};
    for (int bit = 0; bit < (in_record[k] ? 1 : 3); bit++) {
      memcpy(copy, file.data, (size_t)file.size);
      copy[k] ^= in_record[k] ? (uint8_t)(0x5a + k) : kMasks[bit];
      struct otap_buffer b = {copy, file.size, file.size};
      int64_t n;
      otap_logs_payload_init(&out[0]);
      otap_logs_payload_init(&out[1]);
      int rc = read_records(&b, out, 2, &n, &err);
      assert_true(rc == 0 || rc == EINVAL || rc == ENOTSUP);
      otap_logs_payload_reset(&out[0]);
      otap_logs_payload_reset(&out[1]);
      flips++;
    }
  }
  assert_true(flips > 0);
  free(in_record);
  free(copy);
  otap_buffer_reset(&file);
  otap_logs_payload_reset(&p[0]);
  otap_logs_payload_reset(&p[1]);
}

// Every allocation failure is reported as ENOMEM (or recovered) and leaks nothing.
static void test_alloc_failures(void** state) {
  (void)state;
  otap_test_install_allocator();
  long base = otap_test_live_allocations();
  struct otap_logs_gen_options o;
  otap_logs_gen_options_init(&o);
  o.records = 6;
  o.resources = 1;
  o.scopes = 1;
  o.log_attrs = 2;
  o.resource_attrs = 1;
  o.scope_attrs = 1;
  o.body_bytes = 10;
  bool done = false;
  // Every failure point of the early allocations, then a sample of the later ones.
  for (long fail = 0; fail < 200000 && !done; fail += 1 + fail / 40) {
    struct otap_logs_payload p[2], out[2];
    otap_logs_payload_init(&p[0]);
    otap_logs_payload_init(&p[1]);
    otap_logs_payload_init(&out[0]);
    otap_logs_payload_init(&out[1]);
    struct otap_buffer file, report;
    otap_buffer_init(&file);
    otap_buffer_init(&report);
    struct otap_error err;
    otap_test_fail_alloc_after(fail);
    int rc = otap_logs_gen(&o, 0, &p[0], &err);
    if (!rc) rc = otap_logs_gen(&o, 1, &p[1], &err);
    struct otap_sink sink;
    memset(&sink, 0, sizeof(sink));
    struct otap_records_writer* w = NULL;
    if (!rc) rc = otap_sink_init_buffer(&sink, &file, &err);
    if (!rc) rc = otap_records_writer_open(&w, &sink, NULL, &err);
    for (int i = 0; i < 2 && !rc; i++) rc = otap_records_writer_write(w, &p[i], &err);
    otap_records_writer_free(w);
    otap_sink_release(&sink);
    int64_t n = 0;
    if (!rc) rc = read_records(&file, out, 2, &n, &err);
    bool eq = false;
    if (!rc) rc = otap_logs_equiv(p, 2, out, n, NULL, &eq, &report, &err);
    // Encoding ids of a copy, then comparing again.
    struct otap_logs_payload enc;
    otap_logs_payload_init(&enc);
    if (!rc) rc = otap_logs_payload_copy(&p[0], &enc, &err);
    if (!rc) rc = otap_logs_encode_ids(&enc, &err);
    bool eq2 = false;
    if (!rc) rc = otap_logs_equiv(&p[0], 1, &enc, 1, NULL, &eq2, NULL, &err);
    otap_logs_payload_reset(&enc);
    otap_test_fail_alloc_after(-1);
    if (rc == 0) {
      assert_true(eq);
      assert_true(eq2);
      done = true;
    } else {
      assert_int_equal(rc, ENOMEM);
    }
    for (int i = 0; i < 2; i++) {
      otap_logs_payload_reset(&p[i]);
      otap_logs_payload_reset(&out[i]);
    }
    otap_buffer_reset(&file);
    otap_buffer_reset(&report);
    assert_int_equal(otap_test_live_allocations(), base);
  }
  assert_true(done);
  otap_set_allocator(NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_varint),
      cmocka_unit_test(test_bar_roundtrip),
      cmocka_unit_test(test_delta_examples),
      cmocka_unit_test(test_quasi_delta_raw),
      cmocka_unit_test(test_gen_basic),
      cmocka_unit_test(test_equiv_cases),
      cmocka_unit_test(test_equiv_null_body),
      cmocka_unit_test(test_equiv_permutations),
      cmocka_unit_test(test_validation_rejects),
      cmocka_unit_test(test_quasi_delta_table),
      cmocka_unit_test(test_delta_table),
      cmocka_unit_test(test_sliced_tables),
      cmocka_unit_test(test_gen_knobs),
      cmocka_unit_test(test_records_roundtrip),
      cmocka_unit_test(test_records_schema_id_return),
      cmocka_unit_test(test_records_encoded),
      cmocka_unit_test(test_records_compressed),
      cmocka_unit_test(test_encode_ids),
      cmocka_unit_test(test_records_hostile),
      cmocka_unit_test(test_alloc_failures),
  };
  const char* filter = getenv("OTAP_TEST_FILTER");
  if (filter) cmocka_set_test_filter(filter);
  return cmocka_run_group_tests(tests, NULL, NULL);
}
