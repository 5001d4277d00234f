// Tests of the common module: errors, allocator hook, buffers, bitmaps, sources and sinks.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "otap/common.h"
#include "testutil.h"

static void test_error_set_and_prefix(void** state) {
  (void)state;
  struct otap_error err;
  assert_int_equal(otap_error_set(&err, EINVAL, "column %s at offset %d", "id", 42), EINVAL);
  assert_string_equal(err.message, "column id at offset 42");
  assert_int_equal(otap_error_prefix(&err, EINVAL, "file %s: ", "a.arrow"), EINVAL);
  assert_string_equal(err.message, "file a.arrow: column id at offset 42");
  assert_int_equal(otap_error_set(NULL, EIO, "ignored"), EIO);
  assert_string_equal(otap_errno_name(ENOTSUP), "ENOTSUP");
}

static void test_buffer_grow_and_cap(void** state) {
  (void)state;
  struct otap_buffer b;
  otap_buffer_init(&b);
  for (int i = 0; i < 1000; i++) assert_int_equal(otap_buffer_append(&b, &i, sizeof(i)), 0);
  assert_int_equal(b.size, 4000);
  for (int i = 0; i < 1000; i++) {
    int v;
    memcpy(&v, b.data + 4 * i, 4);
    assert_int_equal(v, i);
  }
  assert_int_equal(otap_buffer_reserve(&b, OTAP_BUFFER_DEFAULT_CAP), ENOMEM);
  assert_int_equal(otap_buffer_reserve(&b, -1), ENOMEM);
  assert_int_equal(otap_buffer_appendf(&b, "%s=%d", "x", 7), 0);
  assert_memory_equal(b.data + 4000, "x=7", 3);
  assert_int_equal(otap_buffer_resize(&b, 10, true), 0);
  assert_int_equal(b.size, 10);
  struct otap_buffer moved;
  otap_buffer_move(&b, &moved);
  assert_null(b.data);
  assert_int_equal(moved.size, 10);
  otap_buffer_reset(&moved);
  otap_buffer_reset(&moved);  // reset twice is safe
}

static void test_failing_allocator(void** state) {
  (void)state;
  otap_test_fail_alloc_after(0);
  struct otap_buffer b;
  otap_buffer_init(&b);
  assert_int_equal(otap_buffer_append(&b, "abc", 3), ENOMEM);
  otap_test_fail_alloc_after(-1);
  assert_int_equal(otap_buffer_append(&b, "abc", 3), 0);
  otap_buffer_reset(&b);
}

static int freed_count;
static void count_free(void* data, void* ctx) {
  (void)ctx;
  freed_count++;
  free(data);
}

static void test_shared_refcount(void** state) {
  (void)state;
  struct otap_shared* s;
  freed_count = 0;
  assert_int_equal(otap_shared_new(&s, malloc(16), 16, count_free, NULL), 0);
  otap_shared_ref(s);
  otap_shared_unref(s);
  assert_int_equal(freed_count, 0);
  otap_shared_unref(s);
  assert_int_equal(freed_count, 1);
  otap_shared_unref(NULL);
}

static void test_bitmaps(void** state) {
  (void)state;
  uint8_t bits[32] = {0};
  for (int i = 0; i < 256; i += 3) otap_bit_set(bits, i);
  assert_int_equal(otap_bitmap_count_set(bits, 0, 256), 86);
  assert_int_equal(otap_bitmap_count_set(bits, 1, 200), 66);
  uint8_t dst[32] = {0};
  otap_bitmap_copy(dst, 5, bits, 3, 100);
  for (int i = 0; i < 100; i++) assert_int_equal(otap_bit_get(dst, 5 + i), otap_bit_get(bits, 3 + i));
  otap_bit_clear(bits, 0);
  assert_false(otap_bit_get(bits, 0));
}

// otap_bitmap_copy against a bit-by-bit copy: every (source offset, destination offset, length)
// up to 80 bits; destination bits outside the range must be untouched.
static void test_bitmap_copy_matches_bit_by_bit(void** state) {
  (void)state;
  uint8_t src[24], dst[24], want[24];
  uint64_t x = 0x243F6A8885A308D3ull;
  for (size_t i = 0; i < sizeof(src); i++) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    src[i] = (uint8_t)(x >> 56);
  }
  for (int so = 0; so < 16; so++) {
    for (int d0 = 0; d0 < 16; d0++) {
      for (int n = 0; n <= 80; n++) {
        for (size_t i = 0; i < sizeof(dst); i++) dst[i] = want[i] = (uint8_t)(0xA5 ^ i);
        for (int i = 0; i < n; i++) otap_bit_set_to(want, d0 + i, otap_bit_get(src, so + i));
        otap_bitmap_copy(dst, d0, src, so, n);
        assert_memory_equal(dst, want, sizeof(dst));
      }
    }
  }
}

static void test_bitmap_count_matches_bit_by_bit(void** state) {
  (void)state;
  uint8_t bits[512];
  uint64_t x = 0x9E3779B97F4A7C15ull;
  for (size_t i = 0; i < sizeof(bits); i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    bits[i] = (uint8_t)x;
  }
  for (int64_t offset = 0; offset < 70; offset += 3) {
    for (int64_t length = 0; offset + length <= 4096; length += 61) {
      int64_t expect = 0;
      for (int64_t i = offset; i < offset + length; i++) expect += otap_bit_get(bits, i);
      assert_int_equal(otap_bitmap_count_set(bits, offset, length), expect);
    }
  }
}

static void test_file_sink_atomic_and_source(void** state) {
  (void)state;
  char dir[] = "/tmp/otap_test_XXXXXX";
  assert_non_null(mkdtemp(dir));
  char path[256];
  snprintf(path, sizeof(path), "%s/out.bin", dir);
  struct otap_error err;
  struct otap_sink sink;
  assert_int_equal(otap_sink_open_file(&sink, path, &err), 0);
  assert_int_equal(sink.write(&sink, "hello world", 11, &err), 0);
  assert_int_equal(access(path, F_OK), -1);  // not visible before finish
  assert_int_equal(sink.finish(&sink, &err), 0);
  otap_sink_release(&sink);
  assert_int_equal(access(path, F_OK), 0);

  // A sink released without finish leaves nothing behind.
  char path2[256];
  snprintf(path2, sizeof(path2), "%s/abandoned.bin", dir);
  assert_int_equal(otap_sink_open_file(&sink, path2, &err), 0);
  assert_int_equal(sink.write(&sink, "x", 1, &err), 0);
  otap_sink_release(&sink);
  assert_int_equal(access(path2, F_OK), -1);

  struct otap_source src;
  assert_int_equal(otap_source_open_file(&src, path, &err), 0);
  uint64_t size;
  assert_int_equal(src.size(&src, &size, &err), 0);
  assert_int_equal(size, 11);
  char got[6] = {0};
  assert_int_equal(src.read_at(&src, 6, got, 5, &err), 0);
  assert_string_equal(got, "world");
  assert_int_equal(src.read_at(&src, 8, got, 5, &err), EIO);
  assert_non_null(strstr(err.message, "out.bin"));
  otap_source_release(&src);

  assert_int_equal(otap_source_open_file(&src, "/nonexistent/file", &err), ENOENT);
  unlink(path);
  rmdir(dir);
}

int main(void) {
  otap_test_install_allocator();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_error_set_and_prefix), cmocka_unit_test(test_buffer_grow_and_cap),
      cmocka_unit_test(test_failing_allocator),    cmocka_unit_test(test_shared_refcount),
      cmocka_unit_test(test_bitmaps),
      cmocka_unit_test(test_bitmap_count_matches_bit_by_bit),
      cmocka_unit_test(test_bitmap_copy_matches_bit_by_bit),
      cmocka_unit_test(test_file_sink_atomic_and_source),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
