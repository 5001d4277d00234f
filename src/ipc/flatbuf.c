// Verifying flatbuffers reader and back-to-front builder. Written from the flatbuffers binary
// format description: a root uoffset, tables starting with an soffset to their vtable, vtables
// of uint16 (vtable size, table size, field offsets), uoffsets to strings/vectors/tables that
// always point forward.
#include "ipc/flatbuf.h"

#include <stdio.h>
#include <string.h>

int otap__fb_fail(struct otap_error* err, const struct otap__fb* fb, uint64_t pos,
                  const char* fmt, ...) {
  char detail[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(detail, sizeof(detail), fmt, ap);
  va_end(ap);
  return otap_error_set(err, EINVAL, "malformed %s flatbuffer at byte offset %lld: %s",
                        fb->what ? fb->what : "IPC", (long long)(fb->base + (int64_t)pos), detail);
}

#define FB_FAIL(err, fb, pos, ...) otap__fb_fail((err), (fb), (uint64_t)(pos), __VA_ARGS__)

static int table_at(const struct otap__fb* fb, uint64_t pos, struct otap__fb_table* out,
                    struct otap_error* err) {
  if (pos == 0 || pos + 4 > fb->size) return FB_FAIL(err, fb, pos, "table offset out of bounds");
  int32_t soff = (int32_t)otap_load_u32le(fb->buf + pos);
  int64_t vt = (int64_t)pos - (int64_t)soff;
  if (vt < 0 || vt + 4 > (int64_t)fb->size || (vt & 1))
    return FB_FAIL(err, fb, pos, "vtable offset out of bounds");
  uint16_t vt_size = otap_load_u16le(fb->buf + vt);
  uint16_t tbl_size = otap_load_u16le(fb->buf + vt + 2);
  if (vt_size < 4 || (vt_size & 1) || vt + vt_size > (int64_t)fb->size)
    return FB_FAIL(err, fb, vt, "vtable size %u out of bounds", (unsigned)vt_size);
  if (tbl_size < 4 || pos + tbl_size > fb->size)
    return FB_FAIL(err, fb, pos, "table size %u out of bounds", (unsigned)tbl_size);
  out->fb = fb;
  out->pos = (uint32_t)pos;
  out->vt = (uint32_t)vt;
  out->vt_size = vt_size;
  out->tbl_size = tbl_size;
  return 0;
}

int otap__fb_root(const struct otap__fb* fb, struct otap__fb_table* out, struct otap_error* err) {
  if (fb->size < 8 || fb->size > INT32_MAX)
    return FB_FAIL(err, fb, 0, "buffer of %u bytes is too small", (unsigned)fb->size);
  return table_at(fb, otap_load_u32le(fb->buf), out, err);
}

// Offset of `field` inside the table (0 when absent); verifies size bytes fit.
static int field_off(const struct otap__fb_table* t, int field, uint32_t size, uint32_t* out,
                     struct otap_error* err) {
  *out = 0;
  if (t->pos == 0) return 0;
  uint32_t slot = 4 + 2 * (uint32_t)field;
  if (slot + 2 > t->vt_size) return 0;
  uint16_t off = otap_load_u16le(t->fb->buf + t->vt + slot);
  if (off == 0) return 0;
  if (off < 4 || (uint32_t)off + size > t->tbl_size)
    return FB_FAIL(err, t->fb, t->pos, "field %d at table offset %u exceeds table size %u", field,
                   (unsigned)off, (unsigned)t->tbl_size);
  *out = t->pos + off;
  return 0;
}

bool otap__fb_present(const struct otap__fb_table* t, int field) {
  if (t->pos == 0) return false;
  uint32_t slot = 4 + 2 * (uint32_t)field;
  if (slot + 2 > t->vt_size) return false;
  return otap_load_u16le(t->fb->buf + t->vt + slot) != 0;
}

int otap__fb_bool(const struct otap__fb_table* t, int field, bool dflt, bool* out,
                  struct otap_error* err) {
  uint32_t p;
  OTAP_RETURN_NOT_OK(field_off(t, field, 1, &p, err));
  *out = p ? t->fb->buf[p] != 0 : dflt;
  return 0;
}

int otap__fb_u8(const struct otap__fb_table* t, int field, uint8_t dflt, uint8_t* out,
                struct otap_error* err) {
  uint32_t p;
  OTAP_RETURN_NOT_OK(field_off(t, field, 1, &p, err));
  *out = p ? t->fb->buf[p] : dflt;
  return 0;
}

int otap__fb_i16(const struct otap__fb_table* t, int field, int16_t dflt, int16_t* out,
                 struct otap_error* err) {
  uint32_t p;
  OTAP_RETURN_NOT_OK(field_off(t, field, 2, &p, err));
  *out = p ? (int16_t)otap_load_u16le(t->fb->buf + p) : dflt;
  return 0;
}

int otap__fb_i32(const struct otap__fb_table* t, int field, int32_t dflt, int32_t* out,
                 struct otap_error* err) {
  uint32_t p;
  OTAP_RETURN_NOT_OK(field_off(t, field, 4, &p, err));
  *out = p ? (int32_t)otap_load_u32le(t->fb->buf + p) : dflt;
  return 0;
}

int otap__fb_i64(const struct otap__fb_table* t, int field, int64_t dflt, int64_t* out,
                 struct otap_error* err) {
  uint32_t p;
  OTAP_RETURN_NOT_OK(field_off(t, field, 8, &p, err));
  *out = p ? (int64_t)otap_load_u64le(t->fb->buf + p) : dflt;
  return 0;
}

// Follows the uoffset stored in `field`; *target 0 when absent.
static int follow(const struct otap__fb_table* t, int field, uint32_t* target,
                  struct otap_error* err) {
  uint32_t p;
  *target = 0;
  OTAP_RETURN_NOT_OK(field_off(t, field, 4, &p, err));
  if (!p) return 0;
  uint64_t tgt = (uint64_t)p + otap_load_u32le(t->fb->buf + p);
  if (tgt + 4 > t->fb->size) return FB_FAIL(err, t->fb, p, "offset of field %d out of bounds", field);
  *target = (uint32_t)tgt;
  return 0;
}

int otap__fb_table(const struct otap__fb_table* t, int field, struct otap__fb_table* out,
                   struct otap_error* err) {
  uint32_t tgt;
  memset(out, 0, sizeof(*out));
  out->fb = t->fb;
  OTAP_RETURN_NOT_OK(follow(t, field, &tgt, err));
  if (!tgt) return 0;
  return table_at(t->fb, tgt, out, err);
}

int otap__fb_string(const struct otap__fb_table* t, int field, const char** s, uint32_t* len,
                    struct otap_error* err) {
  uint32_t tgt;
  *s = NULL;
  *len = 0;
  OTAP_RETURN_NOT_OK(follow(t, field, &tgt, err));
  if (!tgt) return 0;
  uint64_t n = otap_load_u32le(t->fb->buf + tgt);
  if (tgt + 4 + n + 1 > t->fb->size)
    return FB_FAIL(err, t->fb, tgt, "string of %llu bytes out of bounds", (unsigned long long)n);
  if (t->fb->buf[tgt + 4 + n] != 0) return FB_FAIL(err, t->fb, tgt, "string not NUL-terminated");
  *s = (const char*)t->fb->buf + tgt + 4;
  *len = (uint32_t)n;
  return 0;
}

int otap__fb_vector(const struct otap__fb_table* t, int field, uint32_t elem_size,
                    struct otap__fb_vec* out, struct otap_error* err) {
  uint32_t tgt;
  out->fb = t->fb;
  out->pos = 0;
  out->len = 0;
  OTAP_RETURN_NOT_OK(follow(t, field, &tgt, err));
  if (!tgt) return 0;
  uint64_t n = otap_load_u32le(t->fb->buf + tgt);
  if (tgt + 4 + n * elem_size > t->fb->size)
    return FB_FAIL(err, t->fb, tgt, "vector of %llu elements out of bounds",
                   (unsigned long long)n);
  out->pos = tgt + 4;
  out->len = (uint32_t)n;
  return 0;
}

int otap__fb_vec_table(const struct otap__fb_vec* v, uint32_t i, struct otap__fb_table* out,
                       struct otap_error* err) {
  if (i >= v->len) return FB_FAIL(err, v->fb, v->pos, "vector index %u out of range", i);
  uint32_t p = v->pos + 4 * i;
  uint64_t tgt = (uint64_t)p + otap_load_u32le(v->fb->buf + p);
  return table_at(v->fb, tgt, out, err);
}

// ---------------------------------------------------------------------------------------------
// Builder

void otap__fbb_init(struct otap__fbb* b) {
  memset(b, 0, sizeof(*b));
  b->minalign = 8;
}

void otap__fbb_reset(struct otap__fbb* b) {
  otap_free(b->buf);
  otap__fbb_init(b);
}

static bool grow(struct otap__fbb* b, uint32_t need) {
  if (b->err) return false;
  if ((uint64_t)b->used + need <= b->cap) return true;
  uint64_t ncap = b->cap ? (uint64_t)b->cap * 2 : 256;
  while (ncap < (uint64_t)b->used + need) ncap *= 2;
  if (ncap > (1u << 31)) {
    b->err = ENOMEM;
    return false;
  }
  uint8_t* nb = otap_malloc((size_t)ncap);
  if (!nb) {
    b->err = ENOMEM;
    return false;
  }
  if (b->used) memcpy(nb + ncap - b->used, b->buf + b->cap - b->used, b->used);
  otap_free(b->buf);
  b->buf = nb;
  b->cap = (uint32_t)ncap;
  return true;
}

// Pads so that after `additional` more bytes, used is a multiple of align.
static void prep(struct otap__fbb* b, uint32_t align, uint32_t additional) {
  if (align > b->minalign) b->minalign = align;
  uint32_t pad = (uint32_t)(-(b->used + additional)) & (align - 1);
  if (!grow(b, pad + additional)) return;
  for (uint32_t i = 0; i < pad; i++) b->buf[b->cap - ++b->used] = 0;
}

static void put(struct otap__fbb* b, const void* data, uint32_t n) {
  if (!grow(b, n)) return;
  b->used += n;
  memcpy(b->buf + b->cap - b->used, data, n);
}

static void put_u32(struct otap__fbb* b, uint32_t v) {
  uint8_t t[4];
  otap_store_u32le(t, v);
  put(b, t, 4);
}

static void put_uoffset(struct otap__fbb* b, uint32_t ref) {
  prep(b, 4, 4);
  if (b->err) return;
  put_u32(b, b->used + 4 - ref);
}

uint32_t otap__fbb_string(struct otap__fbb* b, const char* s, size_t len) {
  if (len > INT32_MAX) {
    b->err = ENOMEM;
    return 0;
  }
  prep(b, 4, (uint32_t)len + 1 + 4);
  uint8_t z = 0;
  put(b, &z, 1);
  if (len) put(b, s, (uint32_t)len);
  put_u32(b, (uint32_t)len);
  return b->used;
}

uint32_t otap__fbb_vector(struct otap__fbb* b, const void* data, uint32_t count,
                          uint32_t elem_size, uint32_t align) {
  uint64_t n = (uint64_t)count * elem_size;
  if (n > INT32_MAX) {
    b->err = ENOMEM;
    return 0;
  }
  prep(b, 4, (uint32_t)n);
  prep(b, align < 4 ? 4 : align, (uint32_t)n);
  if (n) put(b, data, (uint32_t)n);
  put_u32(b, count);
  return b->used;
}

uint32_t otap__fbb_offset_vector(struct otap__fbb* b, const uint32_t* refs, uint32_t count) {
  prep(b, 4, 4 * count);
  for (uint32_t i = count; i-- > 0;) put_uoffset(b, refs[i]);
  put_u32(b, count);
  return b->used;
}

void otap__fbb_start(struct otap__fbb* b) {
  b->table_start = b->used;
  b->n_fields = 0;
  memset(b->fields, 0, sizeof(b->fields));
}

static void track(struct otap__fbb* b, int field) {
  if (field < 0 || field >= (int)(sizeof(b->fields) / sizeof(b->fields[0]))) {
    b->err = EINVAL;
    return;
  }
  b->fields[field] = b->used;
  if (field + 1 > b->n_fields) b->n_fields = field + 1;
}

void otap__fbb_add_u8(struct otap__fbb* b, int field, uint8_t v) {
  prep(b, 1, 1);
  put(b, &v, 1);
  track(b, field);
}

void otap__fbb_add_i16(struct otap__fbb* b, int field, int16_t v) {
  uint8_t t[2];
  otap_store_u16le(t, (uint16_t)v);
  prep(b, 2, 2);
  put(b, t, 2);
  track(b, field);
}

void otap__fbb_add_i32(struct otap__fbb* b, int field, int32_t v) {
  prep(b, 4, 4);
  put_u32(b, (uint32_t)v);
  track(b, field);
}

void otap__fbb_add_i64(struct otap__fbb* b, int field, int64_t v) {
  uint8_t t[8];
  otap_store_u64le(t, (uint64_t)v);
  prep(b, 8, 8);
  put(b, t, 8);
  track(b, field);
}

void otap__fbb_add_offset(struct otap__fbb* b, int field, uint32_t ref) {
  if (!ref) return;
  put_uoffset(b, ref);
  track(b, field);
}

void otap__fbb_add_struct(struct otap__fbb* b, int field, const void* data, uint32_t size,
                          uint32_t align) {
  prep(b, align, size);
  put(b, data, size);
  track(b, field);
}

uint32_t otap__fbb_end(struct otap__fbb* b) {
  prep(b, 4, 4);
  put_u32(b, 0);  // soffset placeholder
  if (b->err) return 0;
  uint32_t obj = b->used;
  uint32_t tbl_size = obj - b->table_start;
  // vtable: fields in reverse, then table size and vtable size
  uint16_t vt_size = (uint16_t)(4 + 2 * b->n_fields);
  for (int i = b->n_fields; i-- > 0;) {
    uint16_t off = b->fields[i] ? (uint16_t)(obj - b->fields[i]) : 0;
    uint8_t t[2];
    otap_store_u16le(t, off);
    put(b, t, 2);
  }
  uint8_t t[4];
  otap_store_u16le(t, (uint16_t)tbl_size);
  otap_store_u16le(t + 2, vt_size);
  put(b, t, 2);      // table size
  put(b, t + 2, 2);  // vtable size (lowest address)
  if (b->err) return 0;
  uint32_t vt_ref = b->used;
  otap_store_u32le(b->buf + b->cap - obj, (uint32_t)(int32_t)(vt_ref - obj));
  return obj;
}

int otap__fbb_finish(struct otap__fbb* b, uint32_t root, const uint8_t** data, uint32_t* size) {
  prep(b, b->minalign, 4);
  put_uoffset(b, root);
  if (b->err) return b->err;
  *data = b->buf + b->cap - b->used;
  *size = b->used;
  return 0;
}
