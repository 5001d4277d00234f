// Private declarations of the batch module (never installed).
#ifndef OTAP_BATCH_INTERNAL_H
#define OTAP_BATCH_INTERNAL_H

#include <string.h>

#include "otap/batch.h"

// ---------------------------------------------------------------------------------------------
// Byte-string interner (batch_util.c): distinct byte strings -> dense ids 0.. in first-seen
// order. Open addressing on a 64-bit hash, full comparison on hash match.

struct otap__bintern {
  int32_t* slots;  // id + 1, 0 = empty
  uint64_t* slot_hash;
  int64_t cap;     // power of two
  int64_t n;
  int64_t* offs;   // per id: offset in arena
  int64_t* lens;
  int64_t ids_cap;
  struct otap_buffer arena;
};

// 64-bit hash of a byte string: two 8-byte lanes over 16-byte blocks, an overlapping tail,
// then a final mix (good enough for open addressing with full compares).
static inline uint64_t otap__batch_hash(const void* data, int64_t len) {
  const uint8_t* p = (const uint8_t*)data;
  uint64_t a = 0x9e3779b97f4a7c15ULL ^ (uint64_t)len, b = 0xc2b2ae3d27d4eb4fULL;
  int64_t i = 0;
  for (; i + 16 <= len; i += 16) {
    uint64_t x, y;
    memcpy(&x, p + i, 8);
    memcpy(&y, p + i + 8, 8);
    a = (a ^ x) * 0xff51afd7ed558ccdULL;
    b = (b ^ y) * 0xc4ceb9fe1a85ec53ULL;
    a ^= a >> 29;
    b ^= b >> 31;
  }
  if (i < len) {
    uint64_t x = 0, y = 0;
    int64_t r = len - i;
    if (len >= 16) {  // the last 16 bytes, overlapping
      memcpy(&x, p + len - 16, 8);
      memcpy(&y, p + len - 8, 8);
    } else if (r >= 8) {
      memcpy(&x, p + i, 8);
      memcpy(&y, p + len - 8, 8);
    } else if (r >= 4) {
      uint32_t u, v;
      memcpy(&u, p + i, 4);
      memcpy(&v, p + len - 4, 4);
      x = u;
      y = v;
    } else {
      x = (uint64_t)p[i] | ((uint64_t)p[i + r / 2] << 8) | ((uint64_t)p[len - 1] << 16);
    }
    a = (a ^ x) * 0xff51afd7ed558ccdULL;
    b = (b ^ y) * 0xc4ceb9fe1a85ec53ULL;
  }
  uint64_t h = a ^ (b >> 32) ^ (b << 32);
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  return h;
}
// Equality of two byte strings of length len, with overlapping word loads up to 32 bytes
// (always inlined: it sits in the hash-table probes and the per-row value caches).
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline bool otap__same_bytes(const uint8_t* a, const uint8_t* b, int64_t len) {
  if (len >= 8) {
    if (len > 32) return memcmp(a, b, (size_t)len) == 0;
    uint64_t d = (otap_load_u64le(a) ^ otap_load_u64le(b)) |
                 (otap_load_u64le(a + len - 8) ^ otap_load_u64le(b + len - 8));
    if (len > 16) {
      d |= (otap_load_u64le(a + 8) ^ otap_load_u64le(b + 8)) |
           (otap_load_u64le(a + len - 16) ^ otap_load_u64le(b + len - 16));
    }
    return d == 0;
  }
  if (len >= 4) {
    uint32_t d = (otap_load_u32le(a) ^ otap_load_u32le(b)) |
                 (otap_load_u32le(a + len - 4) ^ otap_load_u32le(b + len - 4));
    return d == 0;
  }
  for (int64_t i = 0; i < len; i++) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

/// True when the int32 offsets o[0..n] of a string/binary range are bad: o[0] < 0, out of
/// order, or o[n] past the data (data_size bytes). Written to vectorize.
static inline bool otap__offsets_bad(const int32_t* o, int64_t n, int64_t data_size) {
  uint32_t bad = (uint32_t)(o[0] < 0) | (uint32_t)(o[n] > data_size);
  for (int64_t q = 0; q < n; q++) bad |= (uint32_t)(o[q + 1] < o[q]);
  return bad != 0;
}

void otap__bintern_init(struct otap__bintern* t);
void otap__bintern_reset(struct otap__bintern* t);
/// Finds or adds `data`; *id receives its id, *added whether it was new.
int otap__bintern_get(struct otap__bintern* t, const void* data, int64_t len, int32_t* id,
                      bool* added, struct otap_error* err);
static inline const uint8_t* otap__bintern_data(const struct otap__bintern* t, int32_t id,
                                                int64_t* len) {
  *len = t->lens[id];
  return t->arena.data + t->offs[id];
}

/// Stable radix sort of row numbers 0..n-1 by row-major keys (words u64 per row, compared as
/// unsigned, word 0 most significant). perm receives the sorted row numbers. Byte positions
/// equal in every row are skipped; LSD passes over at most 8 bytes, then groups still equal
/// are sorted by the remaining bytes (recursively; insertion sort for small groups).
int otap__radix_sort(const uint64_t* keys, int64_t n, int32_t words, int32_t* perm,
                     struct otap_error* err);

// ---------------------------------------------------------------------------------------------
// Output layout shared by the engine (batch.c) and the column writers (batch_cols.c).
//
// Every output table is written for all K outputs at once into one allocation per buffer:
// output k owns the *region* of element positions [pstart[k], pstart[k] + n[k]] (one spare
// element for string offsets), regions start at multiples of 8 elements, so each output's
// bitmaps start on a byte and its values are naturally aligned, and each output's arrays point
// into the shared block at offset 0 (8, not 64: a call with max_items 1 has one region per
// record). A source row goes to global position P (pstart[k] + row in output k);
// kblock[P >> OTAP__REGION_SHIFT] names its output.
#define OTAP__REGION_SHIFT 3
#define OTAP__REGION_ALIGN (1 << OTAP__REGION_SHIFT)

struct otap__region {
  int64_t k;         // outputs
  int64_t* n;        // rows per output
  int64_t* pstart;   // first position of output k (multiple of OTAP__REGION_ALIGN)
  int64_t total;     // positions in all regions (multiple of OTAP__REGION_ALIGN)
  int32_t* kblock;   // output of each 64-position block
};

/// Copy instruction: source rows [src, src + len) of one input go to positions
/// [dst, dst + len).
struct otap__run {
  int32_t src;
  int32_t len;
  int64_t dst;
};

/// Runs of one table and one input.
struct otap__runs {
  struct otap__run* r;
  int64_t n;
  int64_t cap;
};
int otap__runs_add(struct otap__runs* rs, int64_t src, int64_t dst, int32_t len,
                   struct otap_error* err);
/// Appends rows [src, src + len) -> positions [dst, dst + len), extending the last run when
/// both continue it.
static inline int otap__runs_push_n(struct otap__runs* rs, int64_t src, int64_t dst, int32_t len,
                                    struct otap_error* err) {
  if (rs->n > 0) {
    struct otap__run* l = &rs->r[rs->n - 1];
    if ((int64_t)l->src + l->len == src && l->dst + l->len == dst &&
        (int64_t)l->len + len <= INT32_MAX) {
      l->len += len;
      return 0;
    }
  }
  return otap__runs_add(rs, src, dst, len, err);
}
/// Appends row src -> position dst (see otap__runs_push_n).
static inline int otap__runs_push(struct otap__runs* rs, int64_t src, int64_t dst,
                                  struct otap_error* err) {
  return otap__runs_push_n(rs, src, dst, 1, err);
}

enum otap__col_role {
  OTAP__ROLE_NONE = 0,
  OTAP__ROLE_LOG_ID,       // LOGS.id
  OTAP__ROLE_RESOURCE_ID,  // LOGS.resource.id
  OTAP__ROLE_SCOPE_ID,     // LOGS.scope.id
  OTAP__ROLE_PARENT_ID,    // attribute parent_id
  OTAP__ROLE_BODY_TYPE,    // LOGS.body.type
  OTAP__ROLE_COUNT_,
};

struct otap__tcols;  // one table's unified columns and their output buffers (batch_cols.c)

/// Creates the unified column tree of one table. `add` merges one input's schema (EINVAL on a
/// type conflict naming table, column and input).
int otap__tcols_new(struct otap__tcols** out, enum otap_logs_table t, int64_t n_in,
                    struct otap_error* err);
void otap__tcols_free(struct otap__tcols* c);
int otap__tcols_add(struct otap__tcols* c, int64_t input, const struct ArrowSchema* s,
                    struct otap_error* err);
/// Points the columns at input `input`'s validated table view (rows 0..view->length-1).
void otap__tcols_bind(struct otap__tcols* c, int64_t input, const struct otap_array_view* view,
                      const struct ArrowSchema* schema);
/// Id buffers the engine fills (u16 per position; validity bitmap or NULL when the role has no
/// nulls) after otap__tcols_alloc; NULL when the table has no column of that role.
int otap__tcols_alloc(struct otap__tcols* c, const struct otap__region* reg,
                      struct otap_error* err);
uint16_t* otap__tcols_id_values(struct otap__tcols* c, enum otap__col_role role);
uint8_t* otap__tcols_id_bits(struct otap__tcols* c, enum otap__col_role role, bool needed);
/// Writes every non-id column from every input following runs[input] (n_in entries).
/// exact_dicts: see otap_batch_options.exact_dictionaries.
int otap__tcols_write(struct otap__tcols* c, const struct otap__runs* runs, bool exact_dicts,
                      struct otap_error* err);
/// Builds output k's table (schema + batch) from the written buffers; table_meta: encoded
/// schema metadata or NULL.
int otap__tcols_emit(struct otap__tcols* c, int64_t k, const char* table_meta,
                     struct ArrowSchema* out_schema, struct ArrowArray* out,
                     struct otap_error* err);

#endif
