// Building arrays: otap-owned ArrowArray trees with growable or shared buffers, appends,
// finish (publishing the C Data Interface fields) and release.
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "arrow/arrow_internal.h"

#define MAX_DEPTH 64

// ---------------------------------------------------------------------------------------------
// Half floats

double otap__half_to_double(uint16_t h) {
  int sign = (h >> 15) & 1;
  int exp = (h >> 10) & 0x1f;
  int mant = h & 0x3ff;
  double v;
  if (exp == 0) {
    v = ldexp((double)mant, -24);
  } else if (exp == 31) {
    v = mant ? NAN : INFINITY;
  } else {
    v = ldexp((double)(mant | 0x400), exp - 25);
  }
  return sign ? -v : v;
}

uint16_t otap__double_to_half(double d) {
  uint16_t sign = signbit(d) ? 0x8000 : 0;
  if (isnan(d)) return 0x7e00;
  double a = fabs(d);
  if (a >= 65520.0) return sign | 0x7c00;  // rounds to infinity
  if (a < ldexp(1.0, -25)) return sign;
  int e;
  double m = frexp(a, &e);  // a = m * 2^e, m in [0.5, 1)
  int exp = e + 14;         // biased exponent for 1.x form
  if (exp <= 0) {
    // Subnormal: value = mant * 2^-24.
    double mant = nearbyint(ldexp(a, 24));
    return sign | (uint16_t)mant;
  }
  double mant = nearbyint(ldexp(m, 11)) - 1024.0;  // 10 bits of fraction, rounded
  if (mant >= 1024.0) {
    mant = 0;
    exp++;
    if (exp >= 31) return sign | 0x7c00;
  }
  return sign | (uint16_t)(exp << 10) | (uint16_t)mant;
}

// ---------------------------------------------------------------------------------------------
// Private data

static void slot_reset(struct otap__slot* s) {
  if (s->shared) {
    otap_shared_unref(s->shared);
  } else {
    otap_buffer_reset(&s->buf);
  }
  memset(s, 0, sizeof(*s));
}

void otap__array_release(struct ArrowArray* array) {
  if (!array || !array->release) return;
  struct otap__array_private* p = array->private_data;
  if (p) {
    for (int64_t i = 0; i < p->n_children; i++) {
      struct ArrowArray* c = p->children[i];
      if (!c) continue;
      if (c->release) c->release(c);
      otap_free(c);
    }
    otap_free(p->children);
    if (p->dictionary) {
      if (p->dictionary->release) p->dictionary->release(p->dictionary);
      otap_free(p->dictionary);
    }
    for (int64_t i = 0; i < p->n_slots; i++) slot_reset(&p->slots[i]);
    otap_free(p->slots);
    otap_free(p->ptrs);
    otap_free(p->variadic_sizes);
    otap_shared_unref(p->keepalive);
    otap_free(p);
  }
  array->private_data = NULL;
  array->release = NULL;
}

static int64_t slots_for(enum otap_type t) {
  switch (t) {
    case OTAP_TYPE_NA:
    case OTAP_TYPE_RUN_END_ENCODED:
      return 0;
    case OTAP_TYPE_STRUCT:
    case OTAP_TYPE_FIXED_SIZE_LIST:
    case OTAP_TYPE_SPARSE_UNION:
      return 1;
    case OTAP_TYPE_STRING:
    case OTAP_TYPE_LARGE_STRING:
    case OTAP_TYPE_BINARY:
    case OTAP_TYPE_LARGE_BINARY:
    case OTAP_TYPE_LIST_VIEW:
    case OTAP_TYPE_LARGE_LIST_VIEW:
      return 3;
    default:
      return 2;
  }
}

// Allocates an empty otap array node with `n_slots` slots and `n_children` zeroed children
// structs. On failure *out is untouched.
static int node_new(struct ArrowArray* out, enum otap_type storage, int64_t n_slots,
                    int64_t n_children) {
  struct otap__array_private* p = otap_calloc(1, sizeof(*p));
  if (!p) return ENOMEM;
  p->storage_type = storage;
  p->slots = otap_calloc((size_t)(n_slots ? n_slots : 1), sizeof(*p->slots));
  p->ptrs = otap_calloc((size_t)n_slots + 1, sizeof(*p->ptrs));
  p->children = otap_calloc((size_t)(n_children ? n_children : 1), sizeof(*p->children));
  if (!p->slots || !p->ptrs || !p->children) goto fail;
  p->n_slots = n_slots;
  for (int64_t i = 0; i < n_children; i++) {
    p->children[i] = otap_calloc(1, sizeof(struct ArrowArray));
    if (!p->children[i]) goto fail;
    p->n_children = i + 1;
  }
  p->n_children = n_children;
  memset(out, 0, sizeof(*out));
  out->n_buffers = n_slots;
  out->buffers = p->ptrs;
  out->n_children = n_children;
  out->children = n_children ? p->children : NULL;
  out->private_data = p;
  out->release = otap__array_release;
  return 0;
fail:
  for (int64_t i = 0; i < n_children; i++) otap_free(p->children ? p->children[i] : NULL);
  otap_free(p->children);
  otap_free(p->slots);
  otap_free(p->ptrs);
  otap_free(p);
  return ENOMEM;
}

static int init_from_schema(struct ArrowArray* out, const struct ArrowSchema* schema, int depth,
                            struct otap_error* err) {
  memset(out, 0, sizeof(*out));
  OTAP_RETURN_IF(depth > MAX_DEPTH, err, EINVAL, "array init: schema nesting deeper than %d",
                 MAX_DEPTH);
  struct otap_schema_view sv;
  OTAP_RETURN_NOT_OK(otap_schema_view_init(&sv, schema, err));
  int rc = node_new(out, sv.storage_type, slots_for(sv.storage_type), schema->n_children);
  if (rc) return otap_error_set(err, rc, "array init: out of memory");
  struct otap__array_private* p = out->private_data;
  p->bit_width = sv.bit_width;
  p->fixed_size = sv.fixed_size;
  p->has_validity = otap__type_has_validity(sv.storage_type);
  p->union_null_type_id = sv.n_union_type_ids > 0 ? sv.union_type_ids[0] : 0;
  for (int64_t i = 0; i < schema->n_children; i++) {
    rc = init_from_schema(p->children[i], schema->children[i], depth + 1, err);
    if (rc) goto fail;
  }
  if (schema->dictionary) {
    p->dictionary = otap_calloc(1, sizeof(struct ArrowArray));
    if (!p->dictionary) {
      rc = otap_error_set(err, ENOMEM, "array init: out of memory");
      goto fail;
    }
    out->dictionary = p->dictionary;
    rc = init_from_schema(p->dictionary, schema->dictionary, depth + 1, err);
    if (rc) goto fail;
  }
  return 0;
fail:
  otap__array_release(out);
  return rc;
}

int otap_array_init_from_schema(struct ArrowArray* out, const struct ArrowSchema* schema,
                                struct otap_error* err) {
  return init_from_schema(out, schema, 0, err);
}

static struct otap__array_private* priv(struct ArrowArray* a) {
  return otap__array_is_otap(a) ? a->private_data : NULL;
}

// Lengths set by callers are bounded so that index arithmetic (length + 1, length * 32) cannot
// overflow.
#define MAX_LENGTH ((int64_t)1 << 56)
static bool bad_len(const struct ArrowArray* a) { return a->length < 0 || a->length > MAX_LENGTH; }

struct otap_buffer* otap_array_buffer(struct ArrowArray* array, int64_t i) {
  struct otap__array_private* p = priv(array);
  if (!p || i < 0 || i >= p->n_slots || p->slots[i].shared) return NULL;
  return &p->slots[i].buf;
}

int otap_array_set_buffer_shared(struct ArrowArray* array, int64_t i, struct otap_shared* owner,
                                 const void* data, int64_t size) {
  struct otap__array_private* p = priv(array);
  if (!p) return ENOTSUP;
  if (bad_len(array)) return EINVAL;
  if (i < 0 || i >= p->n_slots || !owner || size < 0) return EINVAL;
  const uint8_t* base = otap_shared_data(owner);
  const uint8_t* d = data;
  if (size > 0) {
    if (!d || !base || d < base || (uint64_t)(d - base) > (uint64_t)otap_shared_size(owner) ||
        size > otap_shared_size(owner) - (d - base)) {
      return EINVAL;
    }
  }
  otap_shared_ref(owner);
  struct otap__slot* s = &p->slots[i];
  slot_reset(s);
  s->shared = owner;
  s->shared_data = size > 0 ? d : NULL;
  s->shared_size = size;
  return 0;
}

int otap_array_set_buffer(struct ArrowArray* array, int64_t i, struct otap_buffer* buf) {
  struct otap__array_private* p = priv(array);
  if (!p) return ENOTSUP;
  if (bad_len(array)) return EINVAL;
  if (i < 0 || i >= p->n_slots) return EINVAL;
  struct otap__slot* s = &p->slots[i];
  slot_reset(s);
  otap_buffer_move(buf, &s->buf);
  return 0;
}

static bool is_view_type(enum otap_type t) {
  return t == OTAP_TYPE_STRING_VIEW || t == OTAP_TYPE_BINARY_VIEW;
}

int otap_array_set_variadic_count(struct ArrowArray* array, int64_t n) {
  struct otap__array_private* p = priv(array);
  if (!p) return ENOTSUP;
  if (bad_len(array)) return EINVAL;
  if (!is_view_type(p->storage_type) || n < 0 || n > (1 << 24)) return EINVAL;
  int64_t want = 2 + n;
  if (want > p->n_slots) {
    const void** ptrs = otap_realloc(p->ptrs, (size_t)(want + 1) * sizeof(*ptrs));
    if (!ptrs) return ENOMEM;
    p->ptrs = ptrs;
    array->buffers = ptrs;
    struct otap__slot* slots = otap_realloc(p->slots, (size_t)want * sizeof(*slots));
    if (!slots) return ENOMEM;
    p->slots = slots;
    memset(slots + p->n_slots, 0, (size_t)(want - p->n_slots) * sizeof(*slots));
  } else {
    for (int64_t i = want; i < p->n_slots; i++) slot_reset(&p->slots[i]);
  }
  p->n_slots = want;
  // Keep the published pointers consistent until the next finish.
  for (int64_t i = 0; i < p->n_slots; i++) p->ptrs[i] = otap__slot_data(&p->slots[i]);
  p->ptrs[p->n_slots] = p->variadic_sizes;
  if (array->n_buffers > p->n_slots + 1) array->n_buffers = p->n_slots + 1;
  return 0;
}

int64_t otap__array_known_buffer_size(const struct ArrowArray* array, int64_t i) {
  if (!otap__array_is_otap(array)) return -1;
  const struct otap__array_private* p = array->private_data;
  if (array->buffers != p->ptrs || i < 0) return -1;
  if (i < p->n_slots) {
    if (array->buffers[i] != otap__slot_data(&p->slots[i])) return -1;
    return otap__slot_size(&p->slots[i]);
  }
  if (i == p->n_slots && is_view_type(p->storage_type) && array->buffers[i] == p->variadic_sizes) {
    return (p->n_slots - 2) * 8;
  }
  return -1;
}

// ---------------------------------------------------------------------------------------------
// Appends

static struct otap_buffer* owned(struct otap__array_private* p, int64_t i) {
  if (i >= p->n_slots || p->slots[i].shared) return NULL;
  return &p->slots[i].buf;
}

// Writes bits [from, from+n) of b to `value`, growing b (zero-filled) as needed.
static int bits_write(struct otap_buffer* b, int64_t from, bool value, int64_t n) {
  int64_t end;
  if (otap__add_ovf(from, n, &end)) return ENOMEM;
  int64_t need = otap_bytes_for_bits(end);
  if (b->size < need) OTAP_RETURN_NOT_OK(otap_buffer_resize(b, need, true));
  int64_t i = from;
  while (i < end && (i & 7)) otap_bit_set_to(b->data, i++, value);
  if (end - i >= 8) {
    memset(b->data + (i >> 3), value ? 0xff : 0, (size_t)((end - i) >> 3));
    i += ((end - i) >> 3) << 3;
  }
  while (i < end) otap_bit_set_to(b->data, i++, value);
  return 0;
}

static int validity_append(struct ArrowArray* a, struct otap__array_private* p, bool valid,
                           int64_t n) {
  if (!otap__type_has_validity(p->storage_type) || n == 0) return 0;
  struct otap_buffer* v = owned(p, 0);
  if (!v) {
    // Shared validity: only fine while nothing new is null and no bitmap exists.
    return EINVAL;
  }
  if (v->size == 0) {
    if (valid) return 0;
    OTAP_RETURN_NOT_OK(bits_write(v, 0, true, a->length));
  }
  return bits_write(v, a->length, valid, n);
}

static bool is_offsets_type(enum otap_type t, int* width) {
  switch (t) {
    case OTAP_TYPE_STRING:
    case OTAP_TYPE_BINARY:
    case OTAP_TYPE_LIST:
    case OTAP_TYPE_MAP:
      *width = 4;
      return true;
    case OTAP_TYPE_LARGE_STRING:
    case OTAP_TYPE_LARGE_BINARY:
    case OTAP_TYPE_LARGE_LIST:
      *width = 8;
      return true;
    default:
      return false;
  }
}

static int64_t load_off(const uint8_t* b, int w, int64_t i) {
  if (w == 4) {
    int32_t v;
    memcpy(&v, b + 4 * i, 4);
    return v;
  }
  int64_t v;
  memcpy(&v, b + 8 * i, 8);
  return v;
}

static void store_off(uint8_t* b, int w, int64_t i, int64_t v) {
  if (w == 4) {
    int32_t x = (int32_t)v;
    memcpy(b + 4 * i, &x, 4);
  } else {
    memcpy(b + 8 * i, &v, 8);
  }
}

// Ensures the offsets buffer holds length+1+n entries; returns the last offset in *last.
static int offsets_prepare(struct ArrowArray* a, struct otap__array_private* p, int w, int64_t n,
                           int64_t* last) {
  struct otap_buffer* o = owned(p, 1);
  if (!o) return EINVAL;
  if (o->size < w) {
    if (a->length != 0) return EINVAL;
    OTAP_RETURN_NOT_OK(otap_buffer_resize(o, w, true));
  }
  int64_t need;
  if (otap__add_ovf(a->length, 1 + n, &need) || otap__mul_ovf(need, w, &need)) return ENOMEM;
  if ((a->length + 1) * w > o->size) return EINVAL;
  if (o->size < need) OTAP_RETURN_NOT_OK(otap_buffer_resize(o, need, false));
  *last = load_off(o->data, w, a->length);
  return 0;
}

// Appends n fixed-width zero values (bytes w each) at position length.
static int fixed_zero(struct ArrowArray* a, struct otap__array_private* p, int64_t w, int64_t n) {
  struct otap_buffer* d = owned(p, 1);
  if (!d) return EINVAL;
  int64_t start, end;
  if (otap__mul_ovf(a->length, w, &start) || otap__mul_ovf(a->length + n, w, &end)) return ENOMEM;
  if (d->size < start) return EINVAL;
  OTAP_RETURN_NOT_OK(otap_buffer_resize(d, end, false));
  if (end > start) memset(d->data + start, 0, (size_t)(end - start));
  return 0;
}

static int append_nulls_or_empties(struct ArrowArray* a, bool null, int64_t n);

static int child_fill(struct ArrowArray* c, bool null, int64_t n) {
  return append_nulls_or_empties(c, null, n);
}

// Appends the data part (not validity) of n null/empty elements.
static int data_fill(struct ArrowArray* a, struct otap__array_private* p, bool null, int64_t n) {
  int w;
  if (is_offsets_type(p->storage_type, &w)) {
    int64_t last;
    OTAP_RETURN_NOT_OK(offsets_prepare(a, p, w, n, &last));
    uint8_t* o = p->slots[1].buf.data;
    for (int64_t i = 1; i <= n; i++) store_off(o, w, a->length + i, last);
    return 0;
  }
  switch (p->storage_type) {
    case OTAP_TYPE_NA:
      return 0;
    case OTAP_TYPE_BOOL: {
      struct otap_buffer* d = owned(p, 1);
      if (!d) return EINVAL;
      return bits_write(d, a->length, false, n);
    }
    case OTAP_TYPE_STRUCT:
      for (int64_t i = 0; i < p->n_children; i++) {
        OTAP_RETURN_NOT_OK(child_fill(p->children[i], null, n));
      }
      return 0;
    case OTAP_TYPE_FIXED_SIZE_LIST: {
      int64_t k;
      if (otap__mul_ovf(n, p->fixed_size, &k)) return ENOMEM;
      return child_fill(p->children[0], null, k);
    }
    case OTAP_TYPE_STRING_VIEW:
    case OTAP_TYPE_BINARY_VIEW:
      return fixed_zero(a, p, 16, n);
    case OTAP_TYPE_LIST_VIEW:
    case OTAP_TYPE_LARGE_LIST_VIEW: {
      int64_t w2 = p->storage_type == OTAP_TYPE_LIST_VIEW ? 4 : 8;
      struct otap_buffer* o = owned(p, 1);
      struct otap_buffer* s = owned(p, 2);
      if (!o || !s) return EINVAL;
      int64_t need;
      if (otap__mul_ovf(a->length + n, w2, &need)) return ENOMEM;
      if (o->size < a->length * w2 || s->size < a->length * w2) return EINVAL;
      OTAP_RETURN_NOT_OK(otap_buffer_resize(o, need, false));
      OTAP_RETURN_NOT_OK(otap_buffer_resize(s, need, false));
      int64_t start = p->children[0]->length;
      for (int64_t i = 0; i < n; i++) {
        store_off(o->data, (int)w2, a->length + i, start);
        store_off(s->data, (int)w2, a->length + i, 0);
      }
      return 0;
    }
    case OTAP_TYPE_SPARSE_UNION:
    case OTAP_TYPE_DENSE_UNION: {
      if (p->n_children == 0) return EINVAL;
      struct otap_buffer* t = owned(p, 0);
      if (!t || t->size < a->length) return EINVAL;
      OTAP_RETURN_NOT_OK(otap_buffer_resize(t, a->length + n, false));
      memset(t->data + a->length, (uint8_t)p->union_null_type_id, (size_t)n);
      if (p->storage_type == OTAP_TYPE_SPARSE_UNION) {
        for (int64_t i = 0; i < p->n_children; i++) {
          OTAP_RETURN_NOT_OK(child_fill(p->children[i], null, n));
        }
        return 0;
      }
      struct otap_buffer* o = owned(p, 1);
      if (!o || o->size < a->length * 4) return EINVAL;
      struct ArrowArray* c = p->children[0];
      if (c->length > INT32_MAX - n) return ERANGE;
      OTAP_RETURN_NOT_OK(otap_buffer_resize(o, (a->length + n) * 4, false));
      for (int64_t i = 0; i < n; i++) store_off(o->data, 4, a->length + i, c->length + i);
      return child_fill(c, null, n);
    }
    case OTAP_TYPE_RUN_END_ENCODED: {
      struct ArrowArray* re = p->children[0];
      OTAP_RETURN_NOT_OK(otap_array_append_int(re, a->length + n));
      return child_fill(p->children[1], null, 1);
    }
    default:
      if (p->storage_type == OTAP_TYPE_FIXED_SIZE_BINARY || (p->bit_width > 0 && p->bit_width % 8 == 0)) {
        return fixed_zero(a, p, p->bit_width / 8, n);
      }
      return EINVAL;
  }
}

static int append_nulls_or_empties(struct ArrowArray* a, bool null, int64_t n) {
  struct otap__array_private* p = priv(a);
  if (!p) return ENOTSUP;
  if (bad_len(a)) return EINVAL;
  if (n < 0) return EINVAL;
  if (n == 0) return 0;
  if (n > MAX_LENGTH - a->length) return ENOMEM;
  OTAP_RETURN_NOT_OK(data_fill(a, p, null, n));
  if (p->storage_type != OTAP_TYPE_NA) OTAP_RETURN_NOT_OK(validity_append(a, p, !null, n));
  a->length += n;
  return 0;
}

int otap_array_append_null(struct ArrowArray* array, int64_t n) {
  return append_nulls_or_empties(array, true, n);
}

int otap_array_append_empty(struct ArrowArray* array, int64_t n) {
  struct otap__array_private* p = priv(array);
  if (p && p->storage_type == OTAP_TYPE_NA) return append_nulls_or_empties(array, true, n);
  return append_nulls_or_empties(array, false, n);
}

int otap_array_reserve(struct ArrowArray* array, int64_t additional) {
  struct otap__array_private* p = priv(array);
  if (!p) return ENOTSUP;
  if (bad_len(array)) return EINVAL;
  if (additional < 0) return EINVAL;
  int64_t total;
  if (otap__add_ovf(array->length, additional, &total)) return ENOMEM;
  struct otap_buffer* v = otap__type_has_validity(p->storage_type) ? owned(p, 0) : NULL;
  if (v && v->size > 0) {
    int64_t need = otap_bytes_for_bits(total);
    if (need > v->size) OTAP_RETURN_NOT_OK(otap_buffer_reserve(v, need - v->size));
  }
  int64_t bytes = 0;
  int w;
  if (is_offsets_type(p->storage_type, &w)) {
    if (otap__mul_ovf(total + 1, w, &bytes)) return ENOMEM;
  } else if (p->storage_type == OTAP_TYPE_BOOL) {
    bytes = otap_bytes_for_bits(total);
  } else if (is_view_type(p->storage_type)) {
    if (otap__mul_ovf(total, 16, &bytes)) return ENOMEM;
  } else if (p->bit_width > 0 && p->storage_type != OTAP_TYPE_STRUCT) {
    if (otap__mul_ovf(total, p->bit_width / 8, &bytes)) return ENOMEM;
  } else {
    return 0;
  }
  struct otap_buffer* d = owned(p, 1);
  if (d && bytes > d->size) OTAP_RETURN_NOT_OK(otap_buffer_reserve(d, bytes - d->size));
  return 0;
}

// Writes one fixed-width value (w bytes at src) at position length.
// Two-phase validity append of one valid element: prepare (may fail, changes nothing visible),
// then commit (cannot fail). Only touched once the bitmap is materialized (the first null).
struct vprep {
  struct otap_buffer* v;
  int64_t need;
};

static int validity_prepare(const struct ArrowArray* a, struct otap__array_private* p,
                            struct vprep* out) {
  out->v = NULL;
  out->need = 0;
  if (!p->has_validity) return 0;
  if (OTAP_UNLIKELY(p->slots[0].shared)) return EINVAL;  // shared bitmaps are immutable
  if (p->slots[0].buf.size == 0) return 0;
  out->v = &p->slots[0].buf;
  out->need = (a->length >> 3) + 1;
  if (out->need > out->v->capacity) {
    return otap_buffer_reserve(out->v, out->need - out->v->size);
  }
  return 0;
}

static void validity_commit(const struct ArrowArray* a, const struct vprep* vp) {
  if (!vp->v) return;
  if (vp->need > vp->v->size) {
    vp->v->data[vp->need - 1] = 0;
    vp->v->size = vp->need;
  }
  otap_bit_set(vp->v->data, a->length);
}

static int fixed_put(struct ArrowArray* a, struct otap__array_private* p, const void* src,
                     int64_t w) {
  struct otap_buffer* d = owned(p, 1);
  if (OTAP_UNLIKELY(!d)) return EINVAL;
  int64_t start, end;
  if (otap__mul_ovf(a->length, w, &start) || otap__add_ovf(start, w, &end)) return ENOMEM;
  if (OTAP_UNLIKELY(d->size < start)) return EINVAL;
  struct vprep vp;
  OTAP_RETURN_NOT_OK(validity_prepare(a, p, &vp));
  if (end > d->capacity) OTAP_RETURN_NOT_OK(otap_buffer_reserve(d, end - d->size));
  // Nothing below can fail.
  switch (w) {  // constant sizes compile to plain stores
    case 1: memcpy(d->data + start, src, 1); break;
    case 2: memcpy(d->data + start, src, 2); break;
    case 4: memcpy(d->data + start, src, 4); break;
    case 8: memcpy(d->data + start, src, 8); break;
    case 16: memcpy(d->data + start, src, 16); break;
    case 0: break;
    default: memcpy(d->data + start, src, (size_t)w);
  }
  if (end > d->size) d->size = end;
  validity_commit(a, &vp);
  a->length++;
  return 0;
}

// Appends one string/binary value (offsets of width w).
static int put_binary(struct ArrowArray* a, struct otap__array_private* p, int w,
                      const void* data, int64_t len) {
  struct otap_buffer* o = owned(p, 1);
  struct otap_buffer* d = owned(p, 2);
  if (OTAP_UNLIKELY(!o || !d)) return EINVAL;
  int64_t n = a->length, ostart, oend;
  if (otap__mul_ovf(n + 1, w, &ostart) || otap__add_ovf(ostart, w, &oend)) return ENOMEM;
  if (OTAP_UNLIKELY(o->size < ostart)) {
    if (n != 0 || o->size != 0) return EINVAL;
    OTAP_RETURN_NOT_OK(otap_buffer_resize(o, w, true));  // the leading 0 offset
  }
  int64_t last = load_off(o->data, w, n), end;
  if (OTAP_UNLIKELY(last < 0 || d->size < last)) return EINVAL;
  if (otap__add_ovf(last, len, &end) || (w == 4 && end > INT32_MAX)) return ERANGE;
  struct vprep vp;
  OTAP_RETURN_NOT_OK(validity_prepare(a, p, &vp));
  if (oend > o->capacity) OTAP_RETURN_NOT_OK(otap_buffer_reserve(o, oend - o->size));
  if (end > d->capacity) OTAP_RETURN_NOT_OK(otap_buffer_reserve(d, end - d->size));
  // Nothing below can fail.
  if (len) memcpy(d->data + last, data, (size_t)len);
  d->size = end;
  store_off(o->data, w, n + 1, end);
  if (o->size < oend) o->size = oend;
  validity_commit(a, &vp);
  a->length++;
  return 0;
}

static int put_bool(struct ArrowArray* a, struct otap__array_private* p, bool value) {
  struct otap_buffer* d = owned(p, 1);
  if (!d) return EINVAL;
  OTAP_RETURN_NOT_OK(bits_write(d, a->length, value, 1));
  OTAP_RETURN_NOT_OK(validity_append(a, p, true, 1));
  a->length++;
  return 0;
}

// Stores value as a native signed integer of w bytes (decimals: sign-extended, little-endian
// limbs as Arrow specifies).
static int put_signed(struct ArrowArray* a, struct otap__array_private* p, int64_t value,
                      int64_t w) {
  switch (w) {
    case 1: { int8_t x = (int8_t)value; return fixed_put(a, p, &x, 1); }
    case 2: { int16_t x = (int16_t)value; return fixed_put(a, p, &x, 2); }
    case 4: { int32_t x = (int32_t)value; return fixed_put(a, p, &x, 4); }
    case 8: return fixed_put(a, p, &value, 8);
    default: {
      uint8_t tmp[32];
      memcpy(tmp, &value, 8);
      memset(tmp + 8, value < 0 ? 0xff : 0, sizeof(tmp) - 8);
      return fixed_put(a, p, tmp, w);
    }
  }
}

int otap_array_append_int(struct ArrowArray* array, int64_t value) {
  struct otap__array_private* p = priv(array);
  if (!p) return ENOTSUP;
  if (bad_len(array)) return EINVAL;
  switch (p->storage_type) {
    case OTAP_TYPE_BOOL:
      return put_bool(array, p, value != 0);
    case OTAP_TYPE_INT8:
      if (value < INT8_MIN || value > INT8_MAX) return ERANGE;
      return put_signed(array, p, value, 1);
    case OTAP_TYPE_UINT8:
      if (value < 0 || value > UINT8_MAX) return ERANGE;
      return put_signed(array, p, value, 1);
    case OTAP_TYPE_INT16:
      if (value < INT16_MIN || value > INT16_MAX) return ERANGE;
      return put_signed(array, p, value, 2);
    case OTAP_TYPE_UINT16:
      if (value < 0 || value > UINT16_MAX) return ERANGE;
      return put_signed(array, p, value, 2);
    case OTAP_TYPE_INT32:
    case OTAP_TYPE_DATE32:
    case OTAP_TYPE_TIME32:
    case OTAP_TYPE_INTERVAL_MONTHS:
    case OTAP_TYPE_DECIMAL32:
      if (value < INT32_MIN || value > INT32_MAX) return ERANGE;
      return put_signed(array, p, value, 4);
    case OTAP_TYPE_UINT32:
      if (value < 0 || value > UINT32_MAX) return ERANGE;
      return put_signed(array, p, value, 4);
    case OTAP_TYPE_INT64:
    case OTAP_TYPE_DATE64:
    case OTAP_TYPE_TIME64:
    case OTAP_TYPE_TIMESTAMP:
    case OTAP_TYPE_DURATION:
    case OTAP_TYPE_DECIMAL64:
      return put_signed(array, p, value, 8);
    case OTAP_TYPE_UINT64:
      if (value < 0) return ERANGE;
      return put_signed(array, p, value, 8);
    case OTAP_TYPE_DECIMAL128:
      return put_signed(array, p, value, 16);
    case OTAP_TYPE_DECIMAL256:
      return put_signed(array, p, value, 32);
    case OTAP_TYPE_HALF_FLOAT:
    case OTAP_TYPE_FLOAT:
    case OTAP_TYPE_DOUBLE:
      return otap_array_append_double(array, (double)value);
    default:
      return EINVAL;
  }
}

int otap_array_append_uint(struct ArrowArray* array, uint64_t value) {
  struct otap__array_private* p = priv(array);
  if (!p) return ENOTSUP;
  if (bad_len(array)) return EINVAL;
  switch (p->storage_type) {
    case OTAP_TYPE_UINT64:
      return fixed_put(array, p, &value, 8);
    case OTAP_TYPE_DECIMAL128:
    case OTAP_TYPE_DECIMAL256: {
      uint8_t tmp[32] = {0};
      memcpy(tmp, &value, 8);
      return fixed_put(array, p, tmp, p->bit_width / 8);
    }
    case OTAP_TYPE_HALF_FLOAT:
    case OTAP_TYPE_FLOAT:
    case OTAP_TYPE_DOUBLE:
      return otap_array_append_double(array, (double)value);
    default:
      if (value > INT64_MAX) return ERANGE;
      return otap_array_append_int(array, (int64_t)value);
  }
}

int otap_array_append_double(struct ArrowArray* array, double value) {
  struct otap__array_private* p = priv(array);
  if (!p) return ENOTSUP;
  if (bad_len(array)) return EINVAL;
  switch (p->storage_type) {
    case OTAP_TYPE_HALF_FLOAT: {
      uint16_t h = otap__double_to_half(value);
      return fixed_put(array, p, &h, 2);
    }
    case OTAP_TYPE_FLOAT: {
      float f = (float)value;
      return fixed_put(array, p, &f, 4);
    }
    case OTAP_TYPE_DOUBLE:
      return fixed_put(array, p, &value, 8);
    default:
      return EINVAL;
  }
}

static int append_view(struct ArrowArray* a, struct otap__array_private* p, const void* data,
                       int64_t len) {
  if (len > INT32_MAX) return ERANGE;
  uint8_t view[16] = {0};
  int32_t l32 = (int32_t)len;
  memcpy(view, &l32, 4);
  if (len <= 12) {
    if (len) memcpy(view + 4, data, (size_t)len);
    return fixed_put(a, p, view, 16);
  }
  int64_t nv = p->n_slots - 2;
  struct otap_buffer* d = nv > 0 ? owned(p, p->n_slots - 1) : NULL;
  if (!d || d->size > INT32_MAX - len) {
    OTAP_RETURN_NOT_OK(otap_array_set_variadic_count(a, nv + 1));
    nv++;
    d = owned(p, p->n_slots - 1);
  }
  int32_t idx = (int32_t)(nv - 1);
  int32_t off = (int32_t)d->size;
  memcpy(view + 4, data, 4);
  memcpy(view + 8, &idx, 4);
  memcpy(view + 12, &off, 4);
  OTAP_RETURN_NOT_OK(otap_buffer_append(d, data, len));
  int rc = fixed_put(a, p, view, 16);
  if (rc) d->size -= len;
  return rc;
}

int otap_array_append_bytes(struct ArrowArray* array, const void* data, int64_t len) {
  struct otap__array_private* p = priv(array);
  if (!p) return ENOTSUP;
  if (bad_len(array)) return EINVAL;
  if (len < 0 || (len > 0 && !data)) return EINVAL;
  int w;
  switch (p->storage_type) {
    case OTAP_TYPE_STRING:
    case OTAP_TYPE_BINARY:
    case OTAP_TYPE_LARGE_STRING:
    case OTAP_TYPE_LARGE_BINARY:
      is_offsets_type(p->storage_type, &w);
      return put_binary(array, p, w, data, len);
    case OTAP_TYPE_STRING_VIEW:
    case OTAP_TYPE_BINARY_VIEW:
      return append_view(array, p, data, len);
    default:
      if (p->storage_type == OTAP_TYPE_FIXED_SIZE_BINARY ||
          (p->storage_type != OTAP_TYPE_BOOL && p->bit_width > 0 && p->bit_width % 8 == 0)) {
        if (len != p->bit_width / 8) return EINVAL;
        return fixed_put(array, p, data, len);
      }
      return EINVAL;
  }
}

static int finish_elem(struct ArrowArray* array, bool valid) {
  struct otap__array_private* p = priv(array);
  if (!p) return ENOTSUP;
  if (bad_len(array)) return EINVAL;
  int w;
  switch (p->storage_type) {
    case OTAP_TYPE_STRUCT:
    case OTAP_TYPE_FIXED_SIZE_LIST:
      break;
    case OTAP_TYPE_LIST:
    case OTAP_TYPE_LARGE_LIST:
    case OTAP_TYPE_MAP: {
      is_offsets_type(p->storage_type, &w);
      int64_t last;
      OTAP_RETURN_NOT_OK(offsets_prepare(array, p, w, 1, &last));
      int64_t end = p->children[0]->length;
      if (end < last) return EINVAL;
      if (w == 4 && end > INT32_MAX) return ERANGE;
      store_off(p->slots[1].buf.data, w, array->length + 1, end);
      break;
    }
    case OTAP_TYPE_LIST_VIEW:
    case OTAP_TYPE_LARGE_LIST_VIEW: {
      int w2 = p->storage_type == OTAP_TYPE_LIST_VIEW ? 4 : 8;
      struct otap_buffer* o = owned(p, 1);
      struct otap_buffer* s = owned(p, 2);
      if (!o || !s) return EINVAL;
      if (o->size < array->length * w2 || s->size < array->length * w2) return EINVAL;
      int64_t start = 0;
      if (array->length > 0) {
        start = load_off(o->data, w2, array->length - 1) + load_off(s->data, w2, array->length - 1);
      }
      int64_t size = p->children[0]->length - start;
      if (size < 0) return EINVAL;
      if (w2 == 4 && (start > INT32_MAX || size > INT32_MAX)) return ERANGE;
      OTAP_RETURN_NOT_OK(otap_buffer_resize(o, (array->length + 1) * w2, false));
      OTAP_RETURN_NOT_OK(otap_buffer_resize(s, (array->length + 1) * w2, false));
      store_off(o->data, w2, array->length, start);
      store_off(s->data, w2, array->length, size);
      break;
    }
    default:
      return EINVAL;
  }
  OTAP_RETURN_NOT_OK(validity_append(array, p, valid, 1));
  array->length++;
  return 0;
}

int otap_array_finish_element(struct ArrowArray* array) { return finish_elem(array, true); }

int otap_array_finish_element_null(struct ArrowArray* array) {
  return finish_elem(array, false);
}

// ---------------------------------------------------------------------------------------------
// Finish

static int publish(struct ArrowArray* a, int depth) {
  struct otap__array_private* p = a->private_data;
  if (depth > MAX_DEPTH) return EINVAL;
  int w;
  if (is_offsets_type(p->storage_type, &w)) {
    struct otap_buffer* o = owned(p, 1);
    if (o && o->size == 0 && a->length == 0) OTAP_RETURN_NOT_OK(otap_buffer_resize(o, w, true));
  }
  int64_t n_buffers = p->n_slots;
  if (is_view_type(p->storage_type)) {
    int64_t nv = p->n_slots - 2;
    int64_t* sizes = otap_realloc(p->variadic_sizes, (size_t)(nv ? nv : 1) * sizeof(int64_t));
    if (!sizes) return ENOMEM;
    p->variadic_sizes = sizes;
    for (int64_t i = 0; i < nv; i++) sizes[i] = otap__slot_size(&p->slots[2 + i]);
    p->ptrs[p->n_slots] = sizes;
    n_buffers++;
  }
  for (int64_t i = 0; i < p->n_slots; i++) p->ptrs[i] = otap__slot_data(&p->slots[i]);
  a->buffers = p->ptrs;
  a->n_buffers = n_buffers;
  a->n_children = p->n_children;
  a->children = p->n_children ? p->children : NULL;
  a->dictionary = p->dictionary;
  if (p->storage_type == OTAP_TYPE_NA) {
    a->null_count = a->length;
  } else if (otap__type_has_validity(p->storage_type) && p->n_slots > 0 && p->ptrs[0]) {
    int64_t end;
    if (a->offset >= 0 && a->length >= 0 && !otap__add_ovf(a->offset, a->length, &end) &&
        otap_bytes_for_bits(end) <= otap__slot_size(&p->slots[0])) {
      a->null_count = a->length - otap_bitmap_count_set(p->ptrs[0], a->offset, a->length);
    } else {
      a->null_count = -1;  // validation reports the short bitmap
    }
  } else {
    a->null_count = 0;
  }
  for (int64_t i = 0; i < p->n_children; i++) {
    if (p->children[i]->release) OTAP_RETURN_NOT_OK(publish(p->children[i], depth + 1));
  }
  if (p->dictionary && p->dictionary->release) {
    OTAP_RETURN_NOT_OK(publish(p->dictionary, depth + 1));
  }
  return 0;
}

int otap_array_finish(struct ArrowArray* array, enum otap_validation level,
                      const struct ArrowSchema* schema, struct otap_error* err) {
  OTAP_RETURN_IF(!priv(array), err, ENOTSUP, "array finish: not an array built by otap");
  int rc = publish(array, 0);
  if (rc == ENOMEM) return otap_error_set(err, rc, "array finish: out of memory");
  OTAP_RETURN_IF(rc, err, rc, "array finish: child array was moved out or nesting too deep");
  if (level == OTAP_VALIDATE_NONE) return 0;
  OTAP_RETURN_IF(!schema, err, EINVAL, "array finish: validation needs the schema");
  struct otap_array_view view;
  rc = otap_array_view_init(&view, schema, err);
  if (rc == 0) rc = otap_array_view_set(&view, array, level, err);
  otap_array_view_reset(&view);
  return rc;
}

void otap_array_release(struct ArrowArray* array) {
  if (array && array->release) array->release(array);
}

void otap_array_move(struct ArrowArray* src, struct ArrowArray* dst) {
  memcpy(dst, src, sizeof(*dst));
  src->release = NULL;
}
