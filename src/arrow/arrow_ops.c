// otap_array_take and otap_array_concat, written only against the public builder and view API
// of otap/arrow.h. Type dispatch happens once per column; the loops below are per width.
#include <limits.h>
#include <string.h>

#include "arrow/arrow_ops_internal.h"

#define VIEW_SIZE 16
#define VIEW_INLINE_MAX 12

// ---------------------------------------------------------------------------------------------
// Small helpers

static int out_buffer(struct ArrowArray* out, int64_t i, struct otap_buffer** buf,
                      struct otap_error* err) {
  *buf = otap_array_buffer(out, i);
  if (!*buf) {
    return otap_error_set(err, EINVAL, "internal: output buffer %lld is not writable", (long long)i);
  }
  return 0;
}

// Sets buffer i of out to exactly `size` bytes (contents unspecified unless zero_fill).
static int out_buffer_sized(struct ArrowArray* out, int64_t i, int64_t size, bool zero_fill,
                            uint8_t** data, struct otap_error* err) {
  struct otap_buffer* buf;
  OTAP_RETURN_NOT_OK(out_buffer(out, i, &buf, err));
  buf->size = 0;
  if (otap_buffer_resize(buf, size, zero_fill) != 0) {
    return otap_error_set(err, ENOMEM, "out of memory allocating %lld bytes", (long long)size);
  }
  *data = buf->data;
  return 0;
}

static void set_len(struct ArrowArray* out, int64_t length, int64_t null_count) {
  out->length = length;
  out->null_count = null_count;
}

static int nomem(struct otap_error* err, const char* what, int64_t n) {
  return otap_error_set(err, ENOMEM, "out of memory allocating %s (%lld elements)", what,
                        (long long)n);
}

// Sets bits [off, off+n) of dst.
static void bits_set_range(uint8_t* dst, int64_t off, int64_t n) {
  int64_t i = off, end = off + n;
  while (i < end && (i & 7)) otap_bit_set(dst, i++);
  if (i + 8 <= end) {
    int64_t whole = (end - i) >> 3;
    memset(dst + (i >> 3), 0xff, (size_t)whole);
    i += whole * 8;
  }
  while (i < end) otap_bit_set(dst, i++);
}

// True when logical rows [start, start+len) of v contain at least one null.
static bool range_has_nulls(const struct otap_array_view* v, int64_t start, int64_t len) {
  if (!v->buffers[0] || v->null_count == 0 || len == 0) return false;
  return otap_bitmap_count_set(v->buffers[0], v->offset + start, len) != len;
}

// ---------------------------------------------------------------------------------------------
// take

// Checks every index < len (negative = null) and reports whether any is negative.
static int check_indices(const struct ArrowSchema* schema, const int64_t* idx, int64_t n,
                         int64_t len, bool* any_neg, struct otap_error* err) {
  int64_t mx = -1, mn = 0;
  for (int64_t i = 0; i < n; i++) {
    int64_t x = idx[i];
    mx = x > mx ? x : mx;
    mn = x < mn ? x : mn;
  }
  *any_neg = mn < 0;
  if (OTAP_LIKELY(mx < len)) return 0;
  for (int64_t i = 0; i < n; i++) {
    if (idx[i] >= len) {
      return otap_error_set(err, EINVAL,
                            "take: column '%s': index %lld at position %lld is out of range for "
                            "an array of length %lld",
                            otap__schema_name(schema), (long long)idx[i], (long long)i,
                            (long long)len);
    }
  }
  return 0;
}

// Output validity: valid where idx >= 0 and the source row is valid. No buffer when all valid.
static int take_validity(const struct otap_array_view* v, const int64_t* idx, int64_t n,
                         bool any_neg, struct ArrowArray* out, int64_t* null_count,
                         struct otap_error* err) {
  const uint8_t* vb = v->buffers[0];
  if (!any_neg && (!vb || v->null_count == 0)) {
    *null_count = 0;
    return 0;
  }
  uint8_t* dst;
  OTAP_RETURN_NOT_OK(out_buffer_sized(out, 0, otap_bytes_for_bits(n), false, &dst, err));
  int64_t off = v->offset;
  int64_t i = 0;
  if (vb) {
    for (; i + 8 <= n; i += 8) {
      unsigned byte = 0;
      for (int b = 0; b < 8; b++) {
        int64_t j = idx[i + b];
        unsigned bit = j >= 0 ? (unsigned)otap_bit_get(vb, off + j) : 0u;
        byte |= bit << b;
      }
      dst[i >> 3] = (uint8_t)byte;
    }
  } else {
    for (; i + 8 <= n; i += 8) {
      unsigned byte = 0;
      for (int b = 0; b < 8; b++) byte |= (unsigned)(idx[i + b] >= 0) << b;
      dst[i >> 3] = (uint8_t)byte;
    }
  }
  if (i < n) {
    unsigned byte = 0;
    for (int b = 0; i + b < n; b++) {
      int64_t j = idx[i + b];
      unsigned bit = j >= 0 && (!vb || otap_bit_get(vb, off + j));
      byte |= bit << b;
    }
    dst[i >> 3] = (uint8_t)byte;
  }
  // otap_array_finish counts the nulls of the bitmap.
  *null_count = -1;
  return 0;
}

#define DEFINE_GATHER(W)                                                                  \
  static void gather_##W(uint8_t* dst, const uint8_t* src, const int64_t* idx, int64_t n, \
                         bool any_neg) {                                                  \
    if (!any_neg) {                                                                       \
      for (int64_t i = 0; i < n; i++) memcpy(dst + i * W, src + idx[i] * W, W);          \
    } else {                                                                              \
      for (int64_t i = 0; i < n; i++) {                                                   \
        int64_t j = idx[i];                                                               \
        if (j >= 0) {                                                                     \
          memcpy(dst + i * W, src + j * W, W);                                            \
        } else {                                                                          \
          memset(dst + i * W, 0, W);                                                      \
        }                                                                                 \
      }                                                                                   \
    }                                                                                     \
  }
DEFINE_GATHER(1)
DEFINE_GATHER(2)
DEFINE_GATHER(4)
DEFINE_GATHER(8)
DEFINE_GATHER(16)
DEFINE_GATHER(32)

static void gather_w(uint8_t* dst, const uint8_t* src, const int64_t* idx, int64_t n,
                     int64_t w) {
  for (int64_t i = 0; i < n; i++) {
    int64_t j = idx[i];
    if (j >= 0) {
      memcpy(dst + i * w, src + j * w, (size_t)w);
    } else {
      memset(dst + i * w, 0, (size_t)w);
    }
  }
}

static void gather_bits(uint8_t* dst, const uint8_t* src, int64_t off, const int64_t* idx,
                        int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    unsigned byte = 0;
    for (int b = 0; b < 8; b++) {
      int64_t j = idx[i + b];
      unsigned bit = j >= 0 ? (unsigned)otap_bit_get(src, off + j) : 0u;
      byte |= bit << b;
    }
    dst[i >> 3] = (uint8_t)byte;
  }
  if (i < n) {
    unsigned byte = 0;
    for (int b = 0; i + b < n; b++) {
      int64_t j = idx[i + b];
      unsigned bit = j >= 0 ? (unsigned)otap_bit_get(src, off + j) : 0u;
      byte |= bit << b;
    }
    dst[i >> 3] = (uint8_t)byte;
  }
}

// Width in bytes of a fixed-width storage type (0: not fixed width or bool).
static int64_t fixed_width(const struct otap_array_view* v) {
  switch (v->storage_type) {
    case OTAP_TYPE_FIXED_SIZE_BINARY:
      return v->schema.fixed_size;
    case OTAP_TYPE_INT8: case OTAP_TYPE_UINT8:
      return 1;
    case OTAP_TYPE_INT16: case OTAP_TYPE_UINT16: case OTAP_TYPE_HALF_FLOAT:
      return 2;
    case OTAP_TYPE_INT32: case OTAP_TYPE_UINT32: case OTAP_TYPE_FLOAT: case OTAP_TYPE_DATE32:
    case OTAP_TYPE_TIME32: case OTAP_TYPE_INTERVAL_MONTHS: case OTAP_TYPE_DECIMAL32:
      return 4;
    case OTAP_TYPE_INT64: case OTAP_TYPE_UINT64: case OTAP_TYPE_DOUBLE: case OTAP_TYPE_DATE64:
    case OTAP_TYPE_TIME64: case OTAP_TYPE_TIMESTAMP: case OTAP_TYPE_DURATION:
    case OTAP_TYPE_INTERVAL_DAY_TIME: case OTAP_TYPE_DECIMAL64:
      return 8;
    case OTAP_TYPE_DECIMAL128: case OTAP_TYPE_INTERVAL_MONTH_DAY_NANO:
      return 16;
    case OTAP_TYPE_DECIMAL256:
      return 32;
    default:
      return 0;
  }
}

static int take_fixed(const struct otap_array_view* v, int64_t w, const int64_t* idx,
                      int64_t n, bool any_neg, struct ArrowArray* out,
                      struct otap_error* err) {
  int64_t size;
  if (__builtin_mul_overflow(n, w, &size)) return nomem(err, "fixed-width values", n);
  uint8_t* dst;
  OTAP_RETURN_NOT_OK(out_buffer_sized(out, 1, size, false, &dst, err));
  const uint8_t* src = v->buffers[1] + v->offset * w;
  switch (w) {
    case 1: gather_1(dst, src, idx, n, any_neg); break;
    case 2: gather_2(dst, src, idx, n, any_neg); break;
    case 4: gather_4(dst, src, idx, n, any_neg); break;
    case 8: gather_8(dst, src, idx, n, any_neg); break;
    case 16: gather_16(dst, src, idx, n, any_neg); break;
    case 32: gather_32(dst, src, idx, n, any_neg); break;
    default: gather_w(dst, src, idx, n, w); break;
  }
  return 0;
}

static int corrupt_offsets(const struct ArrowSchema* schema, int64_t row,
                           struct otap_error* err) {
  return otap_error_set(err, EINVAL,
                        "column '%s': offsets of row %lld are decreasing or out of bounds",
                        otap__schema_name(schema), (long long)row);
}

// Offsets of a gathered variable-size layout: dst_off[0..n] (width ow), child/data ranges of
// each row in the source. Null and negative rows become empty. *total = sum of lengths.
// `limit` is the length of the data (binary) or child (lists) the offsets index.
static int take_offsets(const struct ArrowSchema* schema, const struct otap_array_view* v,
                        int ow, const int64_t* idx, int64_t n, int64_t limit, uint8_t* dst_off,
                        int64_t* total, struct otap_error* err) {
  const uint8_t* vb = v->buffers[0];
  const uint8_t* offs = v->buffers[1] + v->offset * ow;
  int64_t acc = 0;
  int64_t max_total = ow == 4 ? INT32_MAX : INT64_MAX;
  if (ow == 4) {
    otap__st_i32(dst_off, 0);
  } else {
    otap__st_i64(dst_off, 0);
  }
  for (int64_t i = 0; i < n; i++) {
    int64_t j = idx[i];
    if (j >= 0 && (!vb || otap_bit_get(vb, v->offset + j))) {
      int64_t s, e;
      if (ow == 4) {
        s = otap__ld_i32(offs + j * 4);
        e = otap__ld_i32(offs + j * 4 + 4);
      } else {
        s = otap__ld_i64(offs + j * 8);
        e = otap__ld_i64(offs + j * 8 + 8);
      }
      if (OTAP_UNLIKELY(s < 0 || e < s || e > limit)) return corrupt_offsets(schema, j, err);
      acc += e - s;
      if (OTAP_UNLIKELY(acc > max_total)) {
        return otap_error_set(err, ERANGE,
                              "take: column '%s': %lld bytes/elements overflow 32-bit offsets "
                              "(use the large_ variant)",
                              otap__schema_name(schema), (long long)acc);
      }
    }
    if (ow == 4) {
      otap__st_i32(dst_off + (i + 1) * 4, acc);
    } else {
      otap__st_i64(dst_off + (i + 1) * 8, acc);
    }
  }
  *total = acc;
  return 0;
}

// One pass: offsets and bytes together; the data buffer grows geometrically, sized first
// from the source's average value size.
#define DEFINE_TAKE_BINARY(OW, LOAD, STORE)                                                    \
  static int take_binary_##OW(const struct ArrowSchema* schema,                                \
                              const struct otap_array_view* v, const int64_t* idx, int64_t n,  \
                              uint8_t* dst_off, struct otap_buffer* data,                      \
                              struct otap_error* err) {                                        \
    const uint8_t* vb = v->buffers[0];                                                         \
    const uint8_t* offs = v->buffers[1] + v->offset * OW;                                      \
    const uint8_t* src = v->buffers[2];                                                        \
    int64_t limit = v->buffer_sizes[2];                                                        \
    int64_t max_total = OW == 4 ? INT32_MAX : INT64_MAX;                                       \
    int64_t acc = 0;                                                                           \
    int64_t room = data->capacity < max_total ? data->capacity : max_total;                    \
    STORE(dst_off, 0);                                                                         \
    for (int64_t i = 0; i < n; i++) {                                                          \
      int64_t j = idx[i];                                                                      \
      if (j >= 0 && (!vb || otap_bit_get(vb, v->offset + j))) {                                \
        int64_t s = LOAD(offs + j * OW), e = LOAD(offs + j * OW + OW);                         \
        if (OTAP_UNLIKELY(s < 0 || e < s || e > limit)) return corrupt_offsets(schema, j, err); \
        int64_t len = e - s;                                                                   \
        if (OTAP_UNLIKELY(acc + len > room)) {                                                 \
          if (OTAP_UNLIKELY(acc + len > max_total)) return offsets_overflow(schema, err);      \
          if (otap_buffer_reserve(data, len) != 0) return nomem(err, "binary data", acc + len); \
          room = data->capacity < max_total ? data->capacity : max_total;                      \
        }                                                                                      \
        if (len) memcpy(data->data + acc, src + s, (size_t)len);                               \
        acc += len;                                                                            \
        data->size = acc;                                                                      \
      }                                                                                        \
      STORE(dst_off + (i + 1) * OW, acc);                                                      \
    }                                                                                          \
    return 0;                                                                                  \
  }

static int offsets_overflow(const struct ArrowSchema* schema, struct otap_error* err) {
  return otap_error_set(err, ERANGE,
                        "take: column '%s': values overflow 32-bit offsets (use the large_ "
                        "variant)",
                        otap__schema_name(schema));
}

DEFINE_TAKE_BINARY(4, otap__ld_i32, otap__st_i32)
DEFINE_TAKE_BINARY(8, otap__ld_i64, otap__st_i64)

static int take_binary(const struct ArrowSchema* schema, const struct otap_array_view* v,
                       int ow, const int64_t* idx, int64_t n, struct ArrowArray* out,
                       struct otap_error* err) {
  uint8_t* dst_off;
  OTAP_RETURN_NOT_OK(out_buffer_sized(out, 1, (n + 1) * ow, false, &dst_off, err));
  struct otap_buffer* data;
  OTAP_RETURN_NOT_OK(out_buffer(out, 2, &data, err));
  data->size = 0;
  // First guess: the source's average bytes per row times n (+ slack), capped at 64 MiB.
  int64_t span = 0;
  if (v->length > 0) {
    const uint8_t* offs = v->buffers[1] + v->offset * ow;
    int64_t first = ow == 4 ? otap__ld_i32(offs) : otap__ld_i64(offs);
    int64_t last = ow == 4 ? otap__ld_i32(offs + v->length * 4) : otap__ld_i64(offs + v->length * 8);
    if (first >= 0 && last >= first) span = (last - first) / v->length + 1;
  }
  int64_t guess = span > 0 && n < (INT64_MAX / 2) / span ? n * span : 0;
  if (guess > ((int64_t)64 << 20)) guess = (int64_t)64 << 20;
  if (guess > 0 && otap_buffer_reserve(data, guess) != 0) return nomem(err, "binary data", guess);
  if (ow == 4) return take_binary_4(schema, v, idx, n, dst_off, data, err);
  return take_binary_8(schema, v, idx, n, dst_off, data, err);
}

static int take_node(const struct ArrowSchema* schema, const struct otap_array_view* v,
                     const int64_t* idx, int64_t n, struct ArrowArray* out,
                     struct otap_error* err);

// Variadic buffers of a view array: shared with the source when it is otap-built (each
// buffer gets a shared block holding its own reference of the source array), else copied.
static void release_heap_array(void* data, void* ctx) {
  (void)data;
  struct ArrowArray* a = ctx;
  otap_array_release(a);
  otap_free(a);
}

// Shares source buffer [data, data+size) of array `src` as buffer i of out. *unsupported when
// src is not otap-built (the caller then copies).
static int share_buffer(const struct ArrowArray* src, const uint8_t* data, int64_t size,
                        struct ArrowArray* out, int64_t i, bool* unsupported) {
  *unsupported = false;
  struct ArrowArray* ref = otap_calloc(1, sizeof(*ref));
  if (!ref) return ENOMEM;
  int rc = otap_array_ref(src, ref, NULL);
  if (rc != 0) {
    otap_free(ref);
    *unsupported = rc == ENOTSUP;
    return rc;
  }
  struct otap_shared* sh = NULL;
  if (otap_shared_new(&sh, (void*)(uintptr_t)data, size, release_heap_array, ref) != 0) {
    release_heap_array(NULL, ref);
    return ENOMEM;
  }
  rc = otap_array_set_buffer_shared(out, i, sh, data, size);
  otap_shared_unref(sh);
  return rc;
}

static int add_variadic(const struct otap_array_view* v, int64_t first, struct ArrowArray* out,
                        struct otap_error* err) {
  bool copy = false;
  for (int64_t k = 0; k < v->n_variadic; k++) {
    int rc = 0;
    if (!copy) {
      rc = share_buffer(v->array, v->variadic[k], v->variadic_sizes[k], out, 2 + first + k,
                        &copy);
      if (rc != 0 && !copy) {
        return otap_error_set(err, rc, "cannot share view data buffer %lld", (long long)k);
      }
    }
    if (copy) {
      struct otap_buffer b;
      otap_buffer_init(&b);
      if (otap_buffer_append(&b, v->variadic[k], v->variadic_sizes[k]) != 0) {
        return nomem(err, "view data buffer", v->variadic_sizes[k]);
      }
      rc = otap_array_set_buffer(out, 2 + first + k, &b);
      otap_buffer_reset(&b);
      if (rc != 0) return otap_error_set(err, rc, "cannot set view data buffer %lld", (long long)k);
    }
  }
  return 0;
}

static int take_views(const struct otap_array_view* v, const int64_t* idx, int64_t n,
                      bool any_neg, struct ArrowArray* out, struct otap_error* err) {
  uint8_t* dst;
  OTAP_RETURN_NOT_OK(out_buffer_sized(out, 1, n * VIEW_SIZE, false, &dst, err));
  const uint8_t* src = v->buffers[1] + v->offset * VIEW_SIZE;
  gather_16(dst, src, idx, n, any_neg);
  // Null source rows may hold garbage views: make them empty inline views.
  const uint8_t* vb = v->buffers[0];
  if (vb) {
    for (int64_t i = 0; i < n; i++) {
      int64_t j = idx[i];
      if (j >= 0 && !otap_bit_get(vb, v->offset + j)) memset(dst + i * VIEW_SIZE, 0, VIEW_SIZE);
    }
  }
  if (otap_array_set_variadic_count(out, v->n_variadic) != 0) {
    return nomem(err, "view data buffers", v->n_variadic);
  }
  return add_variadic(v, 0, out, err);
}

// Struct: children gather logical row (offset + idx), -1 stays -1.
static int take_struct(const struct ArrowSchema* schema, const struct otap_array_view* v,
                       const int64_t* idx, int64_t n, struct ArrowArray* out,
                       struct otap_error* err) {
  if (v->n_children == 0) return 0;
  int64_t* cidx = NULL;
  const int64_t* use = idx;
  if (v->offset != 0) {
    cidx = otap_malloc((size_t)(n > 0 ? n : 1) * sizeof(int64_t));
    if (!cidx) return nomem(err, "take indices", n);
    for (int64_t i = 0; i < n; i++) cidx[i] = idx[i] >= 0 ? idx[i] + v->offset : -1;
    use = cidx;
  }
  int rc = 0;
  for (int64_t k = 0; k < v->n_children; k++) {
    OTAP_GOTO_NOT_OK(rc, take_node(schema->children[k], v->children[k], use, n,
                                   out->children[k], err));
  }
done:
  otap_free(cidx);
  return rc;
}

static int take_list(const struct ArrowSchema* schema, const struct otap_array_view* v, int ow,
                     const int64_t* idx, int64_t n, struct ArrowArray* out,
                     struct otap_error* err) {
  const struct otap_array_view* child = v->children[0];
  uint8_t* dst_off;
  OTAP_RETURN_NOT_OK(out_buffer_sized(out, 1, (n + 1) * ow, false, &dst_off, err));
  int64_t total = 0;
  OTAP_RETURN_NOT_OK(take_offsets(schema, v, ow, idx, n, child->length, dst_off, &total, err));
  int64_t* cidx = otap_malloc((size_t)(total > 0 ? total : 1) * sizeof(int64_t));
  if (!cidx) return nomem(err, "list child indices", total);
  const uint8_t* offs = v->buffers[1] + v->offset * ow;
  int64_t p = 0;
  for (int64_t i = 0; i < n; i++) {
    int64_t d0, d1, s;
    if (ow == 4) {
      d0 = otap__ld_i32(dst_off + i * 4);
      d1 = otap__ld_i32(dst_off + i * 4 + 4);
      if (d1 == d0) continue;
      s = otap__ld_i32(offs + idx[i] * 4);
    } else {
      d0 = otap__ld_i64(dst_off + i * 8);
      d1 = otap__ld_i64(dst_off + i * 8 + 8);
      if (d1 == d0) continue;
      s = otap__ld_i64(offs + idx[i] * 8);
    }
    for (int64_t e = s + (d1 - d0); s < e; s++) cidx[p++] = s;
  }
  int rc = take_node(schema->children[0], child, cidx, total, out->children[0], err);
  otap_free(cidx);
  return rc;
}

static int take_list_view(const struct ArrowSchema* schema, const struct otap_array_view* v,
                          int ow, const int64_t* idx, int64_t n, struct ArrowArray* out,
                          struct otap_error* err) {
  const struct otap_array_view* child = v->children[0];
  uint8_t* dst_off;
  uint8_t* dst_sz;
  OTAP_RETURN_NOT_OK(out_buffer_sized(out, 1, n * ow, false, &dst_off, err));
  OTAP_RETURN_NOT_OK(out_buffer_sized(out, 2, n * ow, false, &dst_sz, err));
  const uint8_t* vb = v->buffers[0];
  const uint8_t* offs = v->buffers[1] + v->offset * ow;
  const uint8_t* sizes = v->buffers[2] + v->offset * ow;
  int64_t acc = 0;
  int64_t max_total = ow == 4 ? INT32_MAX : INT64_MAX;
  for (int64_t i = 0; i < n; i++) {
    int64_t j = idx[i], len = 0;
    if (j >= 0 && (!vb || otap_bit_get(vb, v->offset + j))) {
      int64_t s = ow == 4 ? otap__ld_i32(offs + j * 4) : otap__ld_i64(offs + j * 8);
      len = ow == 4 ? otap__ld_i32(sizes + j * 4) : otap__ld_i64(sizes + j * 8);
      if (s < 0 || len < 0 || len > child->length - s) return corrupt_offsets(schema, j, err);
    }
    if (ow == 4) {
      otap__st_i32(dst_off + i * 4, acc);
      otap__st_i32(dst_sz + i * 4, len);
    } else {
      otap__st_i64(dst_off + i * 8, acc);
      otap__st_i64(dst_sz + i * 8, len);
    }
    acc += len;
    if (acc > max_total) {
      return otap_error_set(err, ERANGE, "take: column '%s': list view child overflows",
                            otap__schema_name(schema));
    }
  }
  int64_t* cidx = otap_malloc((size_t)(acc > 0 ? acc : 1) * sizeof(int64_t));
  if (!cidx) return nomem(err, "list child indices", acc);
  int64_t p = 0;
  for (int64_t i = 0; i < n; i++) {
    int64_t len = ow == 4 ? otap__ld_i32(dst_sz + i * 4) : otap__ld_i64(dst_sz + i * 8);
    if (len == 0) continue;
    int64_t j = idx[i];
    int64_t s = ow == 4 ? otap__ld_i32(offs + j * 4) : otap__ld_i64(offs + j * 8);
    for (int64_t e = s + len; s < e; s++) cidx[p++] = s;
  }
  int rc = take_node(schema->children[0], child, cidx, acc, out->children[0], err);
  otap_free(cidx);
  return rc;
}

static int take_fixed_list(const struct ArrowSchema* schema, const struct otap_array_view* v,
                           const int64_t* idx, int64_t n, struct ArrowArray* out,
                           struct otap_error* err) {
  int64_t size = v->schema.fixed_size;
  int64_t total;
  if (size < 0 || __builtin_mul_overflow(n, size, &total)) {
    return nomem(err, "fixed-size list child indices", n);
  }
  int64_t* cidx = otap_malloc((size_t)(total > 0 ? total : 1) * sizeof(int64_t));
  if (!cidx) return nomem(err, "fixed-size list child indices", total);
  const uint8_t* vb = v->buffers[0];
  int64_t p = 0;
  for (int64_t i = 0; i < n; i++) {
    int64_t j = idx[i];
    if (j >= 0 && (!vb || otap_bit_get(vb, v->offset + j))) {
      int64_t s = (v->offset + j) * size;
      for (int64_t k = 0; k < size; k++) cidx[p++] = s + k;
    } else {
      for (int64_t k = 0; k < size; k++) cidx[p++] = -1;
    }
  }
  int rc = take_node(schema->children[0], v->children[0], cidx, total, out->children[0], err);
  otap_free(cidx);
  return rc;
}

static int take_node(const struct ArrowSchema* schema, const struct otap_array_view* v,
                     const int64_t* idx, int64_t n, struct ArrowArray* out,
                     struct otap_error* err) {
  bool any_neg = false;
  OTAP_RETURN_NOT_OK(check_indices(schema, idx, n, v->length, &any_neg, err));
  enum otap_type st = v->storage_type;
  if (st == OTAP_TYPE_NA) {
    set_len(out, n, n);
    return 0;
  }
  switch (st) {
    case OTAP_TYPE_DENSE_UNION: case OTAP_TYPE_SPARSE_UNION: case OTAP_TYPE_RUN_END_ENCODED:
      return otap_error_set(err, ENOTSUP, "take: column '%s': type %s is not supported",
                            otap__schema_name(schema), otap_type_name(st));
    default:
      break;
  }
  int64_t null_count = 0;
  OTAP_RETURN_NOT_OK(take_validity(v, idx, n, any_neg, out, &null_count, err));
  int64_t w = fixed_width(v);
  if (w > 0) {
    OTAP_RETURN_NOT_OK(take_fixed(v, w, idx, n, any_neg, out, err));
  } else {
    switch (st) {
      case OTAP_TYPE_BOOL: {
        uint8_t* dst;
        OTAP_RETURN_NOT_OK(out_buffer_sized(out, 1, otap_bytes_for_bits(n), false, &dst, err));
        gather_bits(dst, v->buffers[1], v->offset, idx, n);
        break;
      }
      case OTAP_TYPE_STRING: case OTAP_TYPE_BINARY:
        OTAP_RETURN_NOT_OK(take_binary(schema, v, 4, idx, n, out, err));
        break;
      case OTAP_TYPE_LARGE_STRING: case OTAP_TYPE_LARGE_BINARY:
        OTAP_RETURN_NOT_OK(take_binary(schema, v, 8, idx, n, out, err));
        break;
      case OTAP_TYPE_STRING_VIEW: case OTAP_TYPE_BINARY_VIEW:
        OTAP_RETURN_NOT_OK(take_views(v, idx, n, any_neg, out, err));
        break;
      case OTAP_TYPE_STRUCT:
        OTAP_RETURN_NOT_OK(take_struct(schema, v, idx, n, out, err));
        break;
      case OTAP_TYPE_LIST: case OTAP_TYPE_MAP:
        OTAP_RETURN_NOT_OK(take_list(schema, v, 4, idx, n, out, err));
        break;
      case OTAP_TYPE_LARGE_LIST:
        OTAP_RETURN_NOT_OK(take_list(schema, v, 8, idx, n, out, err));
        break;
      case OTAP_TYPE_LIST_VIEW:
        OTAP_RETURN_NOT_OK(take_list_view(schema, v, 4, idx, n, out, err));
        break;
      case OTAP_TYPE_LARGE_LIST_VIEW:
        OTAP_RETURN_NOT_OK(take_list_view(schema, v, 8, idx, n, out, err));
        break;
      case OTAP_TYPE_FIXED_SIZE_LIST:
        OTAP_RETURN_NOT_OK(take_fixed_list(schema, v, idx, n, out, err));
        break;
      default:
        return otap_error_set(err, ENOTSUP, "take: column '%s': type %s is not supported",
                              otap__schema_name(schema), otap_type_name(st));
    }
  }
  if (v->dictionary) {
    OTAP_RETURN_NOT_OK(otap__arrow_share_dictionary(out, schema->dictionary, v->dictionary, err));
  }
  set_len(out, n, null_count);
  return 0;
}

int otap__arrow_take_view(const struct ArrowSchema* schema, const struct otap_array_view* v,
                          const int64_t* idx, int64_t n, struct ArrowArray* out,
                          struct otap_error* err) {
  struct ArrowArray tmp;
  memset(&tmp, 0, sizeof(tmp));
  int rc = otap_array_init_from_schema(&tmp, schema, err);
  if (rc != 0) return rc;
  OTAP_GOTO_NOT_OK(rc, take_node(schema, v, idx, n, &tmp, err));
  OTAP_GOTO_NOT_OK(rc, otap_array_finish(&tmp, OTAP_VALIDATE_DEFAULT, schema, err));
  otap_array_move(&tmp, out);
  return 0;
done:
  otap_array_release(&tmp);
  return rc;
}

int otap_array_take(const struct ArrowSchema* schema, const struct ArrowArray* in,
                    const int64_t* indices, int64_t n, struct ArrowArray* out,
                    struct otap_error* err) {
  OTAP_RETURN_IF(!schema || !in || !out || n < 0 || (n > 0 && !indices), err, EINVAL,
                 "take: invalid arguments (n = %lld)", (long long)n);
  struct otap_array_view view;
  memset(&view, 0, sizeof(view));
  int rc = otap_array_view_init(&view, schema, err);
  if (rc != 0) {
    otap_array_view_reset(&view);
    return rc;
  }
  OTAP_GOTO_NOT_OK(rc, otap_array_view_set(&view, in, OTAP_VALIDATE_DEFAULT, err));
  OTAP_GOTO_NOT_OK(rc, otap__arrow_take_view(schema, &view, indices, n, out, err));
done:
  otap_array_view_reset(&view);
  return rc;
}

// ---------------------------------------------------------------------------------------------
// Dictionary sharing

void otap__arrow_install_dictionary(struct ArrowArray* out, struct ArrowArray* dict) {
  otap_array_release(out->dictionary);
  otap_array_move(dict, out->dictionary);
}

int otap__arrow_share_dictionary(struct ArrowArray* out, const struct ArrowSchema* dict_schema,
                                 const struct otap_array_view* dict, struct otap_error* err) {
  struct ArrowArray tmp;
  memset(&tmp, 0, sizeof(tmp));
  int rc = otap_array_ref(dict->array, &tmp, NULL);
  if (rc == ENOTSUP) {  // foreign dictionary: copy it
    const struct otap_array_view* one[1] = {dict};
    rc = otap__arrow_concat_views(dict_schema, one, 1, &tmp, err);
  } else if (rc != 0) {
    return otap_error_set(err, rc, "column '%s': cannot reference the dictionary",
                          otap__schema_name(dict_schema));
  }
  if (rc != 0) return rc;
  otap__arrow_install_dictionary(out, &tmp);
  return 0;
}

// ---------------------------------------------------------------------------------------------
// concat: each node appends k segments (view, logical start, length).

struct seg {
  const struct otap_array_view* v;
  int64_t start;
  int64_t len;
};

static int concat_node(const struct ArrowSchema* schema, const struct seg* segs, int64_t k,
                       struct ArrowArray* out, struct otap_error* err);

static int concat_validity(const struct seg* segs, int64_t k, int64_t total,
                           struct ArrowArray* out, int64_t* null_count, struct otap_error* err) {
  bool any = false;
  for (int64_t s = 0; s < k && !any; s++) any = range_has_nulls(segs[s].v, segs[s].start, segs[s].len);
  *null_count = 0;
  if (!any) return 0;
  uint8_t* dst;
  OTAP_RETURN_NOT_OK(out_buffer_sized(out, 0, otap_bytes_for_bits(total), true, &dst, err));
  int64_t pos = 0;
  for (int64_t s = 0; s < k; s++) {
    const struct otap_array_view* v = segs[s].v;
    if (segs[s].len == 0) continue;
    if (v->buffers[0]) {
      otap_bitmap_copy(dst, pos, v->buffers[0], v->offset + segs[s].start, segs[s].len);
    } else {
      bits_set_range(dst, pos, segs[s].len);
    }
    pos += segs[s].len;
  }
  *null_count = total - otap_bitmap_count_set(dst, 0, total);
  return 0;
}

static int concat_fixed(const struct seg* segs, int64_t k, int64_t w, int64_t total,
                        struct ArrowArray* out, struct otap_error* err) {
  int64_t size;
  if (__builtin_mul_overflow(total, w, &size)) return nomem(err, "fixed-width values", total);
  uint8_t* dst;
  OTAP_RETURN_NOT_OK(out_buffer_sized(out, 1, size, false, &dst, err));
  for (int64_t s = 0; s < k; s++) {
    const struct otap_array_view* v = segs[s].v;
    size_t bytes = (size_t)(segs[s].len * w);
    if (bytes) memcpy(dst, v->buffers[1] + (v->offset + segs[s].start) * w, bytes);
    dst += bytes;
  }
  return 0;
}

static int concat_bits(const struct seg* segs, int64_t k, int64_t total, struct ArrowArray* out,
                       struct otap_error* err) {
  uint8_t* dst;
  OTAP_RETURN_NOT_OK(out_buffer_sized(out, 1, otap_bytes_for_bits(total), true, &dst, err));
  int64_t pos = 0;
  for (int64_t s = 0; s < k; s++) {
    const struct otap_array_view* v = segs[s].v;
    if (segs[s].len == 0) continue;
    otap_bitmap_copy(dst, pos, v->buffers[1], v->offset + segs[s].start, segs[s].len);
    pos += segs[s].len;
  }
  return 0;
}

// Appends the rebased offsets of each segment (width ow) and records each segment's source
// range [lo, hi) in ranges (2 per segment). `limit(s)` is the data/child length.
static int concat_offsets(const struct ArrowSchema* schema, const struct seg* segs, int64_t k,
                          int ow, bool child_limit, int64_t total, struct ArrowArray* out,
                          int64_t* ranges, int64_t* grand, struct otap_error* err) {
  uint8_t* dst;
  OTAP_RETURN_NOT_OK(out_buffer_sized(out, 1, (total + 1) * ow, false, &dst, err));
  int64_t base = 0;
  int64_t max_total = ow == 4 ? INT32_MAX : INT64_MAX;
  if (ow == 4) {
    otap__st_i32(dst, 0);
  } else {
    otap__st_i64(dst, 0);
  }
  int64_t pos = 0;
  for (int64_t s = 0; s < k; s++) {
    const struct otap_array_view* v = segs[s].v;
    const uint8_t* offs = v->buffers[1] + (v->offset + segs[s].start) * ow;
    int64_t limit = child_limit ? v->children[0]->length : v->buffer_sizes[2];
    int64_t lo = ow == 4 ? otap__ld_i32(offs) : otap__ld_i64(offs);
    int64_t prev = lo;
    if (lo < 0 || lo > limit) return corrupt_offsets(schema, segs[s].start, err);
    for (int64_t i = 1; i <= segs[s].len; i++) {
      int64_t o = ow == 4 ? otap__ld_i32(offs + i * 4) : otap__ld_i64(offs + i * 8);
      if (OTAP_UNLIKELY(o < prev || o > limit)) {
        return corrupt_offsets(schema, segs[s].start + i - 1, err);
      }
      prev = o;
      int64_t rebased = base + (o - lo);
      if (OTAP_UNLIKELY(rebased > max_total)) {
        return otap_error_set(err, ERANGE,
                              "concat: column '%s': %lld bytes/elements overflow 32-bit "
                              "offsets (use the large_ variant)",
                              otap__schema_name(schema), (long long)rebased);
      }
      if (ow == 4) {
        otap__st_i32(dst + (pos + i) * 4, rebased);
      } else {
        otap__st_i64(dst + (pos + i) * 8, rebased);
      }
    }
    ranges[2 * s] = lo;
    ranges[2 * s + 1] = prev;
    base += prev - lo;
    pos += segs[s].len;
  }
  *grand = base;
  return 0;
}

static int concat_binary(const struct ArrowSchema* schema, const struct seg* segs, int64_t k,
                         int ow, int64_t total, struct ArrowArray* out, struct otap_error* err) {
  int64_t* ranges = otap_malloc((size_t)(2 * k) * sizeof(int64_t));
  if (!ranges) return nomem(err, "concat ranges", k);
  int64_t bytes = 0;
  int rc = concat_offsets(schema, segs, k, ow, false, total, out, ranges, &bytes, err);
  if (rc == 0) {
    uint8_t* data;
    rc = out_buffer_sized(out, 2, bytes, false, &data, err);
    for (int64_t s = 0; rc == 0 && s < k; s++) {
      int64_t n = ranges[2 * s + 1] - ranges[2 * s];
      if (n) memcpy(data, segs[s].v->buffers[2] + ranges[2 * s], (size_t)n);
      data += n;
    }
  }
  otap_free(ranges);
  return rc;
}

static int concat_views(const struct seg* segs, int64_t k, int64_t total, struct ArrowArray* out,
                        struct otap_error* err) {
  uint8_t* dst;
  OTAP_RETURN_NOT_OK(out_buffer_sized(out, 1, total * VIEW_SIZE, false, &dst, err));
  int64_t n_var = 0;
  for (int64_t s = 0; s < k; s++) n_var += segs[s].v->n_variadic;
  if (otap_array_set_variadic_count(out, n_var) != 0) {
    return nomem(err, "view data buffers", n_var);
  }
  struct otap_buffer* ob;
  int64_t first = 0;
  for (int64_t s = 0; s < k; s++) {
    const struct otap_array_view* v = segs[s].v;
    OTAP_RETURN_NOT_OK(add_variadic(v, first, out, err));
    // Buffers may have moved: re-fetch the views buffer.
    OTAP_RETURN_NOT_OK(out_buffer(out, 1, &ob, err));
    dst = ob->data;
    first += v->n_variadic;
  }
  int64_t pos = 0;
  first = 0;
  for (int64_t s = 0; s < k; s++) {
    const struct otap_array_view* v = segs[s].v;
    const uint8_t* src = v->buffers[1] + (v->offset + segs[s].start) * VIEW_SIZE;
    uint8_t* d = dst + pos * VIEW_SIZE;
    if (segs[s].len) memcpy(d, src, (size_t)(segs[s].len * VIEW_SIZE));
    for (int64_t i = 0; i < segs[s].len; i++) {
      uint8_t* e = d + i * VIEW_SIZE;
      int32_t len;
      memcpy(&len, e, 4);
      if (len > VIEW_INLINE_MAX) {
        int32_t bi;
        memcpy(&bi, e + 8, 4);
        bi += (int32_t)first;
        memcpy(e + 8, &bi, 4);
      }
    }
    first += v->n_variadic;
    pos += segs[s].len;
  }
  return 0;
}

static int concat_children(const struct ArrowSchema* schema, const struct seg* segs, int64_t k,
                           int64_t child, const int64_t* ranges, struct ArrowArray* out,
                           struct otap_error* err) {
  struct seg* cs = otap_malloc((size_t)k * sizeof(*cs));
  if (!cs) return nomem(err, "concat segments", k);
  for (int64_t s = 0; s < k; s++) {
    cs[s].v = segs[s].v->children[child];
    cs[s].start = ranges[2 * s];
    cs[s].len = ranges[2 * s + 1] - ranges[2 * s];
  }
  int rc = concat_node(schema->children[child], cs, k, out->children[child], err);
  otap_free(cs);
  return rc;
}

static int concat_nested(const struct ArrowSchema* schema, const struct seg* segs, int64_t k,
                         int64_t total, struct ArrowArray* out, struct otap_error* err) {
  const struct otap_array_view* v0 = segs[0].v;
  int64_t* ranges = otap_malloc((size_t)(2 * k) * sizeof(int64_t));
  if (!ranges) return nomem(err, "concat ranges", k);
  int rc = 0;
  int64_t grand = 0;
  switch (v0->storage_type) {
    case OTAP_TYPE_STRUCT:
      for (int64_t s = 0; s < k; s++) {
        ranges[2 * s] = segs[s].v->offset + segs[s].start;
        ranges[2 * s + 1] = ranges[2 * s] + segs[s].len;
      }
      for (int64_t c = 0; rc == 0 && c < v0->n_children; c++) {
        rc = concat_children(schema, segs, k, c, ranges, out, err);
      }
      break;
    case OTAP_TYPE_LIST: case OTAP_TYPE_MAP: case OTAP_TYPE_LARGE_LIST: {
      int ow = v0->storage_type == OTAP_TYPE_LARGE_LIST ? 8 : 4;
      OTAP_GOTO_NOT_OK(rc, concat_offsets(schema, segs, k, ow, true, total, out, ranges, &grand,
                                          err));
      rc = concat_children(schema, segs, k, 0, ranges, out, err);
      break;
    }
    case OTAP_TYPE_FIXED_SIZE_LIST: {
      int64_t size = v0->schema.fixed_size;
      for (int64_t s = 0; s < k; s++) {
        ranges[2 * s] = (segs[s].v->offset + segs[s].start) * size;
        ranges[2 * s + 1] = ranges[2 * s] + segs[s].len * size;
      }
      rc = concat_children(schema, segs, k, 0, ranges, out, err);
      break;
    }
    case OTAP_TYPE_LIST_VIEW: case OTAP_TYPE_LARGE_LIST_VIEW: {
      // Offsets are rebased onto the concatenation of the whole children.
      int ow = v0->storage_type == OTAP_TYPE_LARGE_LIST_VIEW ? 8 : 4;
      uint8_t* doff;
      uint8_t* dsz;
      OTAP_GOTO_NOT_OK(rc, out_buffer_sized(out, 1, total * ow, false, &doff, err));
      OTAP_GOTO_NOT_OK(rc, out_buffer_sized(out, 2, total * ow, false, &dsz, err));
      int64_t base = 0, pos = 0;
      for (int64_t s = 0; s < k; s++) {
        const struct otap_array_view* v = segs[s].v;
        int64_t clen = v->children[0]->length;
        const uint8_t* offs = v->buffers[1] + (v->offset + segs[s].start) * ow;
        const uint8_t* sz = v->buffers[2] + (v->offset + segs[s].start) * ow;
        for (int64_t i = 0; i < segs[s].len; i++) {
          int64_t o = ow == 4 ? otap__ld_i32(offs + i * 4) : otap__ld_i64(offs + i * 8);
          int64_t l = ow == 4 ? otap__ld_i32(sz + i * 4) : otap__ld_i64(sz + i * 8);
          bool valid = !v->buffers[0] || otap_bit_get(v->buffers[0], v->offset + segs[s].start + i);
          if (!valid) o = l = 0;
          if (o < 0 || l < 0 || l > clen - o) {
            rc = corrupt_offsets(schema, segs[s].start + i, err);
            goto done;
          }
          if (ow == 4 && base + o > INT32_MAX) {
            rc = otap_error_set(err, ERANGE, "concat: column '%s': list view child overflows",
                                otap__schema_name(schema));
            goto done;
          }
          if (ow == 4) {
            otap__st_i32(doff + (pos + i) * 4, base + o);
            otap__st_i32(dsz + (pos + i) * 4, l);
          } else {
            otap__st_i64(doff + (pos + i) * 8, base + o);
            otap__st_i64(dsz + (pos + i) * 8, l);
          }
        }
        ranges[2 * s] = 0;
        ranges[2 * s + 1] = clen;
        base += clen;
        pos += segs[s].len;
      }
      rc = concat_children(schema, segs, k, 0, ranges, out, err);
      break;
    }
    default:
      rc = otap_error_set(err, ENOTSUP, "concat: column '%s': type %s is not supported",
                          otap__schema_name(schema), otap_type_name(v0->storage_type));
      break;
  }
done:
  otap_free(ranges);
  return rc;
}

// True when all segments use the same dictionary memory.
static bool same_dictionary(const struct seg* segs, int64_t k) {
  const struct otap_array_view* d0 = segs[0].v->dictionary;
  for (int64_t s = 1; s < k; s++) {
    const struct otap_array_view* d = segs[s].v->dictionary;
    if (d->array == d0->array) continue;
    if (d->length != d0->length || d->offset != d0->offset || d0->n_children != 0 ||
        d->n_variadic != 0 || d0->n_variadic != 0) {
      return false;
    }
    for (int b = 0; b < 3; b++) {
      if (d->buffers[b] != d0->buffers[b]) return false;
    }
  }
  return true;
}

static int concat_dictionary(const struct ArrowSchema* schema, const struct seg* segs,
                             int64_t k, int64_t total, struct ArrowArray* out,
                             struct otap_error* err) {
  enum otap_type it = segs[0].v->storage_type;
  int w = otap__dict_index_width(it);
  int64_t imax = otap__dict_index_max(it);
  if (w == 0) {
    return otap_error_set(err, EINVAL, "concat: column '%s': bad dictionary index type",
                          otap__schema_name(schema));
  }
  if (same_dictionary(segs, k)) {
    int64_t dlen = segs[0].v->dictionary->length;
    for (int64_t s = 0; s < k; s++) {
      int64_t bad = otap__dict_first_bad_index(segs[s].v, segs[s].start, segs[s].len, dlen);
      if (bad >= 0) {
        return otap_error_set(err, EINVAL,
                              "concat: column '%s': input %lld row %lld: dictionary index out "
                              "of range (dictionary length %lld)",
                              otap__schema_name(schema), (long long)s,
                              (long long)(segs[s].start + bad), (long long)dlen);
      }
    }
    OTAP_RETURN_NOT_OK(concat_fixed(segs, k, w, total, out, err));
    return otap__arrow_share_dictionary(out, schema->dictionary, segs[0].v->dictionary, err);
  }
  int rc = 0;
  const struct otap_array_view** dicts = otap_calloc((size_t)k, sizeof(*dicts));
  int64_t** remaps = otap_calloc((size_t)k, sizeof(*remaps));
  int64_t* tmp = otap_malloc((size_t)(total > 0 ? total : 1) * sizeof(int64_t));
  struct ArrowArray merged;
  memset(&merged, 0, sizeof(merged));
  if (!dicts || !remaps || !tmp) {
    rc = nomem(err, "dictionary remap tables", k);
    goto done;
  }
  for (int64_t s = 0; s < k; s++) dicts[s] = segs[s].v->dictionary;
  OTAP_GOTO_NOT_OK(rc, otap__dict_merge_views(schema->dictionary, dicts, k, &merged, remaps, err));
  if (merged.length - 1 > imax) {
    rc = otap_error_set(err, ERANGE,
                        "concat: column '%s': merged dictionary has %lld values, more than "
                        "index type %s can address",
                        otap__schema_name(schema), (long long)merged.length,
                        otap_type_name(it));
    goto done;
  }
  int64_t pos = 0;
  for (int64_t s = 0; s < k; s++) {
    const struct otap_array_view* v = segs[s].v;
    int64_t* t = tmp + pos;
    otap__dict_read_indices(v, segs[s].start, segs[s].len, t);
    int64_t dlen = v->dictionary->length;
    for (int64_t i = 0; i < segs[s].len; i++) {
      int64_t x = t[i];
      if (x < 0) continue;
      if (x >= dlen) {
        rc = otap_error_set(err, EINVAL,
                            "concat: column '%s': input %lld row %lld: dictionary index %lld "
                            "out of range (dictionary length %lld)",
                            otap__schema_name(schema), (long long)s,
                            (long long)(segs[s].start + i), (long long)x, (long long)dlen);
        goto done;
      }
      t[i] = remaps[s][x];
    }
    pos += segs[s].len;
  }
  uint8_t* dst;
  OTAP_GOTO_NOT_OK(rc, out_buffer_sized(out, 1, total * w, false, &dst, err));
  otap__dict_write_indices(it, tmp, total, dst);
  otap__arrow_install_dictionary(out, &merged);
done:
  otap_array_release(&merged);
  if (remaps) {
    for (int64_t s = 0; s < k; s++) otap_free(remaps[s]);
  }
  otap_free(remaps);
  otap_free(dicts);
  otap_free(tmp);
  return rc;
}

static int concat_node(const struct ArrowSchema* schema, const struct seg* segs, int64_t k,
                       struct ArrowArray* out, struct otap_error* err) {
  int64_t total = 0;
  for (int64_t s = 0; s < k; s++) {
    if (__builtin_add_overflow(total, segs[s].len, &total)) {
      return otap_error_set(err, EINVAL, "concat: total length overflows");
    }
  }
  if (k == 0) {
    set_len(out, 0, 0);
    return 0;
  }
  const struct otap_array_view* v0 = segs[0].v;
  enum otap_type st = v0->storage_type;
  if (st == OTAP_TYPE_NA) {
    set_len(out, total, total);
    return 0;
  }
  switch (st) {
    case OTAP_TYPE_DENSE_UNION: case OTAP_TYPE_SPARSE_UNION: case OTAP_TYPE_RUN_END_ENCODED:
      return otap_error_set(err, ENOTSUP, "concat: column '%s': type %s is not supported",
                            otap__schema_name(schema), otap_type_name(st));
    default:
      break;
  }
  int64_t null_count = 0;
  OTAP_RETURN_NOT_OK(concat_validity(segs, k, total, out, &null_count, err));
  int64_t w = fixed_width(v0);
  if (v0->dictionary) {
    OTAP_RETURN_NOT_OK(concat_dictionary(schema, segs, k, total, out, err));
  } else if (w > 0) {
    OTAP_RETURN_NOT_OK(concat_fixed(segs, k, w, total, out, err));
  } else {
    switch (st) {
      case OTAP_TYPE_BOOL:
        OTAP_RETURN_NOT_OK(concat_bits(segs, k, total, out, err));
        break;
      case OTAP_TYPE_STRING: case OTAP_TYPE_BINARY:
        OTAP_RETURN_NOT_OK(concat_binary(schema, segs, k, 4, total, out, err));
        break;
      case OTAP_TYPE_LARGE_STRING: case OTAP_TYPE_LARGE_BINARY:
        OTAP_RETURN_NOT_OK(concat_binary(schema, segs, k, 8, total, out, err));
        break;
      case OTAP_TYPE_STRING_VIEW: case OTAP_TYPE_BINARY_VIEW:
        OTAP_RETURN_NOT_OK(concat_views(segs, k, total, out, err));
        break;
      default:
        OTAP_RETURN_NOT_OK(concat_nested(schema, segs, k, total, out, err));
        break;
    }
  }
  set_len(out, total, null_count);
  return 0;
}

int otap__arrow_concat_views(const struct ArrowSchema* schema,
                             const struct otap_array_view* const* views, int64_t n,
                             struct ArrowArray* out, struct otap_error* err) {
  struct ArrowArray tmp;
  memset(&tmp, 0, sizeof(tmp));
  struct seg* segs = otap_malloc((size_t)(n > 0 ? n : 1) * sizeof(*segs));
  if (!segs) return nomem(err, "concat segments", n);
  int rc = otap_array_init_from_schema(&tmp, schema, err);
  if (rc != 0) {
    otap_free(segs);
    return rc;
  }
  for (int64_t i = 0; i < n; i++) {
    segs[i].v = views[i];
    segs[i].start = 0;
    segs[i].len = views[i]->length;
  }
  OTAP_GOTO_NOT_OK(rc, concat_node(schema, segs, n, &tmp, err));
  OTAP_GOTO_NOT_OK(rc, otap_array_finish(&tmp, OTAP_VALIDATE_DEFAULT, schema, err));
  otap_array_move(&tmp, out);
done:
  otap_array_release(&tmp);
  otap_free(segs);
  return rc;
}

int otap_array_concat(const struct ArrowSchema* schema, const struct ArrowArray* const* in,
                      int64_t n, struct ArrowArray* out, struct otap_error* err) {
  OTAP_RETURN_IF(!schema || !out || n < 0 || (n > 0 && !in), err, EINVAL,
                 "concat: invalid arguments (n = %lld)", (long long)n);
  struct otap_array_view* views = otap_calloc((size_t)(n > 0 ? n : 1), sizeof(*views));
  const struct otap_array_view** ptrs = otap_calloc((size_t)(n > 0 ? n : 1), sizeof(*ptrs));
  int rc = 0;
  int64_t inited = 0;
  if (!views || !ptrs) {
    rc = nomem(err, "concat views", n);
    goto done;
  }
  for (int64_t i = 0; i < n; i++) {
    OTAP_GOTO_NOT_OK(rc, otap_array_view_init(&views[i], schema, err));
    inited = i + 1;
    if (!in[i]) {
      rc = otap_error_set(err, EINVAL, "concat: input %lld is NULL", (long long)i);
      goto done;
    }
    rc = otap_array_view_set(&views[i], in[i], OTAP_VALIDATE_DEFAULT, err);
    if (rc != 0) {
      otap_error_prefix(err, rc, "concat: input %lld: ", (long long)i);
      goto done;
    }
    ptrs[i] = &views[i];
  }
  rc = otap__arrow_concat_views(schema, ptrs, n, out, err);
done:
  if (views) {
    for (int64_t i = 0; i < n && i <= inited; i++) otap_array_view_reset(&views[i]);
  }
  otap_free(views);
  otap_free(ptrs);
  return rc;
}
