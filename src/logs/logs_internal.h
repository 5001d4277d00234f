// Private declarations of the logs module (never installed).
#ifndef OTAP_LOGS_INTERNAL_H
#define OTAP_LOGS_INTERNAL_H

#include "otap/logs.h"

// ---------------------------------------------------------------------------------------------
// Column specification tables (schema.c)

enum otap__logs_dict {
  OTAP__DICT_NO = 0,   // never dictionary-encoded
  OTAP__DICT_U8 = 1,   // native, Dict(u8) or Dict(u16)
  OTAP__DICT_U16 = 2,  // native or Dict(u16)
};

struct otap__logs_column_spec {
  const char* name;
  const char* format;  // native C Data Interface format ("S", "u", "tsn:" = any tz, "+s")
  enum otap__logs_dict dict;
  bool required;
  enum otap_id_encoding id_encoding;  // transport encoding of id columns, else PLAIN
  const struct otap__logs_column_spec* children;  // struct columns: NULL-name terminated
};

/// Columns of a table (NULL-name terminated).
const struct otap__logs_column_spec* otap__logs_table_spec(enum otap_logs_table t);
/// Looks `name` up in a NULL-terminated spec list; NULL when unknown.
const struct otap__logs_column_spec* otap__logs_find_spec(const struct otap__logs_column_spec* s,
                                                          const char* name);

/// Index of child `name` in a struct schema, or -1.
int64_t otap__logs_child_index(const struct ArrowSchema* schema, const char* name);

// ---------------------------------------------------------------------------------------------
// Plain id extraction (ids.c): copies of id columns decoded to plain values.

/// A u16 id column copied and decoded: values[i] valid when valid[i] != 0.
struct otap__ids {
  int64_t n;
  uint16_t* values;
  uint8_t* valid;
};
void otap__ids_reset(struct otap__ids* ids);

/// A read-only accessor over an attributes table (parent_id, key, type and value columns).
struct otap__attrs {
  struct otap_array_view view;
  bool view_ready;
  int64_t n;
  int64_t base;  // row i of the table is element base + i of each column view
  const struct otap_array_view* parent_id;
  const struct otap_array_view* key;
  const struct otap_array_view* type;
  const struct otap_array_view* str;
  const struct otap_array_view* int_;
  const struct otap_array_view* dbl;
  const struct otap_array_view* boolean;
  const struct otap_array_view* bytes;
  const struct otap_array_view* ser;
  enum otap_id_encoding parent_encoding;
};
int otap__attrs_init(struct otap__attrs* a, const struct ArrowSchema* schema,
                     const struct ArrowArray* batch, enum otap_validation level,
                     const char* table, struct otap_error* err);
void otap__attrs_reset(struct otap__attrs* a);
/// Same over an already validated view of the table (borrowed; reset does not free it).
int otap__attrs_bind(struct otap__attrs* a, const struct ArrowSchema* schema,
                     const struct ArrowArray* batch, const struct otap_array_view* view,
                     const char* table, struct otap_error* err);
/// Type of row i (0 when null).
uint8_t otap__attrs_type(const struct otap__attrs* a, int64_t i);
/// True when row i has a non-null value in its active column (type 1..7).
bool otap__attrs_value_present(const struct otap__attrs* a, int64_t i);
/// True when rows i and j have equal type, key and (non-null) value and are delta-eligible.
bool otap__attrs_same_run(const struct otap__attrs* a, int64_t i, int64_t j);
/// Plain parent ids of the table.
int otap__attrs_plain_parent_ids(const struct otap__attrs* a, struct otap__ids* out,
                                 const char* table, struct otap_error* err);

/// Reads element i of a string/binary column that may be dictionary-encoded; *null set when
/// null (data NULL, len 0).
void otap__view_bytes(const struct otap_array_view* v, int64_t i, const uint8_t** data,
                      int64_t* len, bool* null);
/// Integer of element i of a column that may be dictionary-encoded; false when null.
bool otap__view_int(const struct otap_array_view* v, int64_t i, int64_t* out);
bool otap__view_is_null_any(const struct otap_array_view* v, int64_t i);

/// Copies an id column (u16, rows base..base+n of view v; rows where the optional parent struct
/// view is null count as null) and decodes it (enc DELTA) into plain values.
int otap__plain_ids_from_view(const struct otap_array_view* v, int64_t base,
                              const struct otap_array_view* parent, int64_t parent_base,
                              int64_t n, enum otap_id_encoding enc, struct otap__ids* out,
                              const char* what, struct otap_error* err);

/// Finds a child view by name in a struct view (NULL when absent).
const struct otap_array_view* otap__view_child(const struct otap_array_view* v,
                                               const struct ArrowSchema* schema, const char* name);

/// Sets field metadata `encoding` to value (replacing other keys named `encoding`).
int otap__set_encoding_metadata(struct ArrowSchema* field, const char* value);

/// Builds a new u16 array (validity copied from valid[]) from plain values.
int otap__make_u16_array(const uint16_t* values, const uint8_t* valid, int64_t n,
                         struct ArrowArray* out, struct otap_error* err);

#endif
