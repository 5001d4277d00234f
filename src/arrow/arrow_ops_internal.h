// Private helpers shared by arrow_ops.c (take, concat) and arrow_dict.c (dictionaries).
// Built only on the public API of otap/arrow.h (never on the builder's internals).
#ifndef OTAP_ARROW_OPS_INTERNAL_H
#define OTAP_ARROW_OPS_INTERNAL_H

#include <string.h>

#include "otap/arrow.h"

// Unaligned-safe native-endian loads and stores (compile to plain moves).
static inline int64_t otap__ld_i32(const uint8_t* p) {
  int32_t x;
  memcpy(&x, p, 4);
  return x;
}
static inline int64_t otap__ld_i64(const uint8_t* p) {
  int64_t x;
  memcpy(&x, p, 8);
  return x;
}
static inline void otap__st_i32(uint8_t* p, int64_t v) {
  int32_t x = (int32_t)v;
  memcpy(p, &x, 4);
}
static inline void otap__st_i64(uint8_t* p, int64_t v) { memcpy(p, &v, 8); }

static inline const char* otap__schema_name(const struct ArrowSchema* s) {
  return (s && s->name && s->name[0]) ? s->name : "(unnamed)";
}

/// Gathers rows of a validated view into a new otap-built array of `schema` (the schema of
/// `v`): out[i] = v[idx[i]], null where idx[i] < 0. Indices are bounds-checked (EINVAL).
int otap__arrow_take_view(const struct ArrowSchema* schema, const struct otap_array_view* v,
                          const int64_t* idx, int64_t n, struct ArrowArray* out,
                          struct otap_error* err);

/// Concatenates n validated views of `schema` into a new otap-built array.
int otap__arrow_concat_views(const struct ArrowSchema* schema,
                             const struct otap_array_view* const* views, int64_t n,
                             struct ArrowArray* out, struct otap_error* err);

/// Replaces the (empty, freshly initialized) dictionary of `out` by `dict` (moved in).
void otap__arrow_install_dictionary(struct ArrowArray* out, struct ArrowArray* dict);

/// Makes out->dictionary share `dict` (a reference when dict is otap-built, else a copy).
int otap__arrow_share_dictionary(struct ArrowArray* out, const struct ArrowSchema* dict_schema,
                                 const struct otap_array_view* dict, struct otap_error* err);

/// Merges the dictionaries `dicts[0..n)` (views of dict_schema): unified dictionary into
/// out_dict, remaps[k] (otap_malloc'ed, length dicts[k]->length) old -> new index.
int otap__dict_merge_views(const struct ArrowSchema* dict_schema,
                           const struct otap_array_view* const* dicts, int64_t n,
                           struct ArrowArray* out_dict, int64_t** remaps,
                           struct otap_error* err);

/// Largest index an index type can hold (-1 when the type is not an integer index type).
int64_t otap__dict_index_max(enum otap_type t);
/// C Data Interface format of an integer index type ("c", "C", "s", ...), NULL otherwise.
const char* otap__dict_index_format(enum otap_type t);

/// Reads `len` dictionary indices of v starting at logical `start` into dst as int64, nulls
/// (validity) as -1. Unsigned 64-bit indices above INT64_MAX become INT64_MAX.
void otap__dict_read_indices(const struct otap_array_view* v, int64_t start, int64_t len,
                             int64_t* dst);
/// First row in [start, start+len) of dictionary view v whose (non-null) index is outside
/// [0, dict_len), relative to start; -1 when all are in range.
int64_t otap__dict_first_bad_index(const struct otap_array_view* v, int64_t start, int64_t len,
                                   int64_t dict_len);
/// Writes n int64 indices (all in range of the type; negative ones are written as 0) with the
/// width of index type t into dst.
void otap__dict_write_indices(enum otap_type t, const int64_t* src, int64_t n, uint8_t* dst);
/// Byte width of an integer index type (0 if not one).
int otap__dict_index_width(enum otap_type t);

#endif
