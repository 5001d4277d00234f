// Minimal verifying flatbuffers reader and back-to-front builder (private to the ipc module).
//
// Reader: every access checks the offset it follows against the buffer, so a malformed buffer
// yields EINVAL naming the byte offset (relative to `base`, the buffer's position in the input).
// Builder: emits standard flatbuffers (vtables before tables, scalars aligned to their size).
#ifndef OTAP_IPC_FLATBUF_H
#define OTAP_IPC_FLATBUF_H

#include <stdbool.h>
#include <stdint.h>

#include "otap/common.h"

struct otap__fb {
  const uint8_t* buf;
  uint32_t size;
  int64_t base;  // offset of buf[0] in the whole input (for messages)
  const char* what;  // e.g. "Message", "Footer"
};

struct otap__fb_table {
  const struct otap__fb* fb;
  uint32_t pos;  // table position (0 = absent)
  uint32_t vt;
  uint16_t vt_size;
  uint16_t tbl_size;
};

struct otap__fb_vec {
  const struct otap__fb* fb;
  uint32_t pos;  // position of the first element
  uint32_t len;  // number of elements
};

/// Sets an EINVAL "malformed <what> flatbuffer at byte offset N: detail" message.
int otap__fb_fail(struct otap_error* err, const struct otap__fb* fb, uint64_t pos,
                  const char* fmt, ...) OTAP_PRINTF(4, 5);
int otap__fb_root(const struct otap__fb* fb, struct otap__fb_table* out, struct otap_error* err);
bool otap__fb_present(const struct otap__fb_table* t, int field);
int otap__fb_bool(const struct otap__fb_table* t, int field, bool dflt, bool* out,
                  struct otap_error* err);
int otap__fb_u8(const struct otap__fb_table* t, int field, uint8_t dflt, uint8_t* out,
                struct otap_error* err);
int otap__fb_i16(const struct otap__fb_table* t, int field, int16_t dflt, int16_t* out,
                 struct otap_error* err);
int otap__fb_i32(const struct otap__fb_table* t, int field, int32_t dflt, int32_t* out,
                 struct otap_error* err);
int otap__fb_i64(const struct otap__fb_table* t, int field, int64_t dflt, int64_t* out,
                 struct otap_error* err);
/// Sub-table; out->pos == 0 when absent.
int otap__fb_table(const struct otap__fb_table* t, int field, struct otap__fb_table* out,
                   struct otap_error* err);
/// String; *s == NULL when absent. Verified NUL-terminated.
int otap__fb_string(const struct otap__fb_table* t, int field, const char** s, uint32_t* len,
                    struct otap_error* err);
/// Vector of elements of elem_size bytes (structs, scalars or offsets); len 0 when absent.
int otap__fb_vector(const struct otap__fb_table* t, int field, uint32_t elem_size,
                    struct otap__fb_vec* out, struct otap_error* err);
/// Element i of a vector of tables.
int otap__fb_vec_table(const struct otap__fb_vec* v, uint32_t i, struct otap__fb_table* out,
                       struct otap_error* err);
static inline const uint8_t* otap__fb_vec_elem(const struct otap__fb_vec* v, uint32_t i,
                                               uint32_t elem_size) {
  return v->fb->buf + v->pos + (uint64_t)i * elem_size;
}

// Builder (back to front).
struct otap__fbb {
  uint8_t* buf;  // data occupies buf[cap - used, cap)
  uint32_t cap;
  uint32_t used;
  uint32_t minalign;
  int err;  // sticky ENOMEM
  // current table
  uint32_t table_start;
  int n_fields;
  uint32_t fields[24];
};

void otap__fbb_init(struct otap__fbb* b);
void otap__fbb_reset(struct otap__fbb* b);
uint32_t otap__fbb_string(struct otap__fbb* b, const char* s, size_t len);
/// Vector of count elements of elem_size bytes, aligned to align.
uint32_t otap__fbb_vector(struct otap__fbb* b, const void* data, uint32_t count,
                          uint32_t elem_size, uint32_t align);
uint32_t otap__fbb_offset_vector(struct otap__fbb* b, const uint32_t* refs, uint32_t count);
void otap__fbb_start(struct otap__fbb* b);
void otap__fbb_add_u8(struct otap__fbb* b, int field, uint8_t v);
void otap__fbb_add_i16(struct otap__fbb* b, int field, int16_t v);
void otap__fbb_add_i32(struct otap__fbb* b, int field, int32_t v);
void otap__fbb_add_i64(struct otap__fbb* b, int field, int64_t v);
void otap__fbb_add_offset(struct otap__fbb* b, int field, uint32_t ref);
void otap__fbb_add_struct(struct otap__fbb* b, int field, const void* data, uint32_t size,
                          uint32_t align);
uint32_t otap__fbb_end(struct otap__fbb* b);
/// Finishes with `root`; *data/*size point at the finished buffer (owned by b). Size is a
/// multiple of 8. ENOMEM if any step failed.
int otap__fbb_finish(struct otap__fbb* b, uint32_t root, const uint8_t** data, uint32_t* size);

#endif
