// Private declarations of the batch module (never installed).
#ifndef OTAP_BATCH_INTERNAL_H
#define OTAP_BATCH_INTERNAL_H

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

uint64_t otap__batch_hash(const void* data, int64_t len);
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

/// Stable LSD radix sort of row numbers 0..n-1 by row-major keys (words u64 per row, compared
/// as unsigned, word 0 most significant). perm receives the sorted row numbers. Byte
/// positions equal in every row are skipped.
int otap__radix_sort(const uint64_t* keys, int64_t n, int32_t words, int32_t* perm,
                     struct otap_error* err);

// ---------------------------------------------------------------------------------------------
// Schema unification (batch_schema.c)

enum otap__col_role {
  OTAP__ROLE_NONE = 0,
  OTAP__ROLE_LOG_ID,       // LOGS.id
  OTAP__ROLE_RESOURCE_ID,  // LOGS.resource.id
  OTAP__ROLE_SCOPE_ID,     // LOGS.scope.id
  OTAP__ROLE_PARENT_ID,    // attribute parent_id
  OTAP__ROLE_BODY_TYPE,    // LOGS.body.type
  OTAP__ROLE_COUNT_,
};

struct otap__ucol {
  char* name;
  char* format;      // native value format (dictionary value format when dictionary-encoded)
  bool dict;         // working form dictionary<int32, value>
  bool u16_only;     // dictionary keys may not be u8
  bool is_struct;
  enum otap__col_role role;
  int64_t n_children;
  struct otap__ucol* children;
  // Dictionary columns: the global dictionary (every input's dictionary values, or native
  // values, concatenated without deduplication) and each input's first index in it.
  struct ArrowArray gdict;
  struct otap_array_view gview;
  bool gview_ready;
  int64_t* gbase;
  // Finalize scratch over the global dictionary, reused across outputs: remap[k] is valid
  // when stamp[k] == gen.
  int32_t* remap;
  int32_t* stamp;
  int32_t gen;
};

/// The union of one table's columns over all inputs, and the working schema (struct) every
/// input is conformed to.
struct otap__utable {
  enum otap_logs_table table;
  bool present;  // some input has the table
  int64_t n_cols;
  struct otap__ucol* cols;
  struct ArrowSchema working;  // "+s"; dict columns as dictionary<int32, value>
};

void otap__utable_init(struct otap__utable* u, enum otap_logs_table t);
void otap__utable_reset(struct otap__utable* u);
/// Adds the columns of one input's table (EINVAL on a type conflict, naming the column and
/// the input).
int otap__utable_add(struct otap__utable* u, const struct ArrowSchema* s, int64_t input,
                     struct otap_error* err);
/// Builds u->working after every input was added.
int otap__utable_build(struct otap__utable* u, struct otap_error* err);
/// Builds the global dictionaries of the dictionary columns from every input's table (ss/aa
/// NULL for inputs that do not contribute).
int otap__utable_build_dicts(struct otap__utable* u, const struct ArrowSchema* const* ss,
                             const struct ArrowArray* const* aa, int64_t n_in,
                             struct otap_error* err);
/// Conforms input `input`'s table (schema s / batch a, n rows) to the working schema:
/// dictionary columns become int32 indices into the global dictionaries (no hashing).
int otap__utable_conform(const struct otap__utable* u, int64_t input,
                         const struct ArrowSchema* s, const struct ArrowArray* a, int64_t n,
                         struct ArrowArray* out, struct otap_error* err);

/// Replacement id columns for finalize, indexed by role (values NULL = keep the column).
struct otap__idcols {
  const uint16_t* values[OTAP__ROLE_COUNT_];
  const uint8_t* valid[OTAP__ROLE_COUNT_];  // NULL = all valid
};

/// Turns a gathered working-form table into an output table: dictionary columns compacted to
/// the referenced values and re-keyed (u8 <= 256 distinct, u16 <= 65536, else native), id
/// columns replaced (ids), body.type nulls filled with 0, id fields marked `encoding=plain`,
/// schema metadata `table_meta` (encoded, may be NULL). `in` is consumed.
int otap__utable_finalize(struct otap__utable* u, struct ArrowArray* in,
                          const struct otap__idcols* ids, const char* table_meta,
                          struct ArrowSchema* out_schema, struct ArrowArray* out,
                          struct otap_error* err);

// ---------------------------------------------------------------------------------------------
// Working-form gathers (batch_gather.c): one pass per column into preallocated buffers for the
// layouts of the working form (struct, fixed width, bool, strings, shared dictionary<int32>);
// other layouts fall back to otap_array_take / otap_array_concat. Outputs are finished
// without validation (sources are validated at entry; rows must be in range).

int otap__batch_take(const struct ArrowSchema* s, const struct ArrowArray* in,
                     const int64_t* rows, int64_t n, struct ArrowArray* out,
                     struct otap_error* err);
int otap__batch_concat(const struct ArrowSchema* s, const struct ArrowArray* const* parts,
                       int64_t np, struct ArrowArray* out, struct otap_error* err);

#endif
