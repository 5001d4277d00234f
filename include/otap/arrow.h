// otap/arrow.h: Arrow columnar arrays in C, natively in the Arrow C Data Interface.
//
// The in-memory representation IS `struct ArrowSchema` / `struct ArrowArray`: every array otap
// produces can be handed to any C Data Interface consumer (and back) without conversion.
// Arrays made by otap are built through the builder calls below (`otap_array_init_*`,
// `otap_array_append_*`, `otap_array_finish`) and read through `struct otap_array_view`, a
// validated, typed view with direct buffer pointers.
// Ownership follows the C Data Interface: the producer sets `release`, each struct is released
// exactly once, a move is a memcpy plus `src->release = NULL`. Arrays made by otap may share
// buffers (reference counted): slicing and `otap_array_ref` never copy data.
// Threading: distinct arrays may be used from distinct threads; releasing shared buffers is
// thread-safe.
#ifndef OTAP_ARROW_H
#define OTAP_ARROW_H

#include "otap/common.h"

#ifdef __cplusplus
extern "C" {
#endif

// ---------------------------------------------------------------------------------------------
// The Arrow C Data Interface, exactly as the specification declares it.

#ifndef ARROW_C_DATA_INTERFACE
#define ARROW_C_DATA_INTERFACE

#define ARROW_FLAG_DICTIONARY_ORDERED 1
#define ARROW_FLAG_NULLABLE 2
#define ARROW_FLAG_MAP_KEYS_SORTED 4

struct ArrowSchema {
  // Array type description
  const char* format;
  const char* name;
  const char* metadata;
  int64_t flags;
  int64_t n_children;
  struct ArrowSchema** children;
  struct ArrowSchema* dictionary;

  // Release callback
  void (*release)(struct ArrowSchema*);
  // Opaque producer-specific data
  void* private_data;
};

struct ArrowArray {
  // Array data description
  int64_t length;
  int64_t null_count;
  int64_t offset;
  int64_t n_buffers;
  int64_t n_children;
  const void** buffers;
  struct ArrowArray** children;
  struct ArrowArray* dictionary;

  // Release callback
  void (*release)(struct ArrowArray*);
  // Opaque producer-specific data
  void* private_data;
};

#endif  // ARROW_C_DATA_INTERFACE

#ifndef ARROW_C_STREAM_INTERFACE
#define ARROW_C_STREAM_INTERFACE

struct ArrowArrayStream {
  // Callbacks providing stream functionality
  int (*get_schema)(struct ArrowArrayStream*, struct ArrowSchema* out);
  int (*get_next)(struct ArrowArrayStream*, struct ArrowArray* out);
  const char* (*get_last_error)(struct ArrowArrayStream*);

  // Release callback
  void (*release)(struct ArrowArrayStream*);

  // Opaque producer-specific data
  void* private_data;
};

#endif  // ARROW_C_STREAM_INTERFACE

// ---------------------------------------------------------------------------------------------
// Types

enum otap_type {
  OTAP_TYPE_UNINITIALIZED = 0,
  OTAP_TYPE_NA,
  OTAP_TYPE_BOOL,
  OTAP_TYPE_INT8,
  OTAP_TYPE_UINT8,
  OTAP_TYPE_INT16,
  OTAP_TYPE_UINT16,
  OTAP_TYPE_INT32,
  OTAP_TYPE_UINT32,
  OTAP_TYPE_INT64,
  OTAP_TYPE_UINT64,
  OTAP_TYPE_HALF_FLOAT,
  OTAP_TYPE_FLOAT,
  OTAP_TYPE_DOUBLE,
  OTAP_TYPE_DECIMAL32,
  OTAP_TYPE_DECIMAL64,
  OTAP_TYPE_DECIMAL128,
  OTAP_TYPE_DECIMAL256,
  OTAP_TYPE_STRING,
  OTAP_TYPE_LARGE_STRING,
  OTAP_TYPE_BINARY,
  OTAP_TYPE_LARGE_BINARY,
  OTAP_TYPE_FIXED_SIZE_BINARY,
  OTAP_TYPE_DATE32,
  OTAP_TYPE_DATE64,
  OTAP_TYPE_TIME32,
  OTAP_TYPE_TIME64,
  OTAP_TYPE_TIMESTAMP,
  OTAP_TYPE_DURATION,
  OTAP_TYPE_INTERVAL_MONTHS,
  OTAP_TYPE_INTERVAL_DAY_TIME,
  OTAP_TYPE_INTERVAL_MONTH_DAY_NANO,
  OTAP_TYPE_STRUCT,
  OTAP_TYPE_LIST,
  OTAP_TYPE_LARGE_LIST,
  OTAP_TYPE_FIXED_SIZE_LIST,
  OTAP_TYPE_MAP,
  OTAP_TYPE_DENSE_UNION,
  OTAP_TYPE_SPARSE_UNION,
  OTAP_TYPE_RUN_END_ENCODED,
  OTAP_TYPE_STRING_VIEW,
  OTAP_TYPE_BINARY_VIEW,
  OTAP_TYPE_LIST_VIEW,
  OTAP_TYPE_LARGE_LIST_VIEW,
  // Only as otap_schema_view.type: the values are in schema->dictionary, the indices' integer
  // type is otap_schema_view.storage_type.
  OTAP_TYPE_DICTIONARY,
};

enum otap_time_unit {
  OTAP_TIME_UNIT_SECOND = 0,
  OTAP_TIME_UNIT_MILLI = 1,
  OTAP_TIME_UNIT_MICRO = 2,
  OTAP_TIME_UNIT_NANO = 3,
};

/// Lower-case name of a type ("uint16", "fixed_size_binary", "dictionary"). Borrowed, static.
OTAP_API const char* otap_type_name(enum otap_type type);

/// Parsed description of one ArrowSchema node (not its children). Pointers are borrowed from
/// the schema and valid while it lives.
struct otap_schema_view {
  const struct ArrowSchema* schema;
  /// Logical type; OTAP_TYPE_DICTIONARY when schema->dictionary is set.
  enum otap_type type;
  /// Physical layout of this node's buffers: equals `type`, except the index integer type for
  /// dictionaries and the storage of extension types.
  enum otap_type storage_type;
  /// fixed_size_binary byte width, fixed_size_list list size, else 0.
  int32_t fixed_size;
  /// Decimal bit width (32/64/128/256), precision and scale.
  int32_t decimal_bitwidth;
  int32_t decimal_precision;
  int32_t decimal_scale;
  /// Time/timestamp/duration unit.
  enum otap_time_unit time_unit;
  /// Timestamp time zone: pointer into `format` and its length (0 when none).
  const char* timezone;
  int32_t timezone_len;
  /// Union type ids ("0,1,5" part of the format) and their parsed values.
  int32_t n_union_type_ids;
  int8_t union_type_ids[128];
  /// Number of buffers in this layout, the validity buffer included (views: the fixed ones).
  int32_t n_buffers;
  /// Value width in bits for fixed-width layouts (1 for bool), else 0.
  int32_t bit_width;
  /// Extension name from metadata key ARROW:extension:name (pointer into metadata, not
  /// NUL-terminated), or NULL.
  const char* extension_name;
  int32_t extension_name_len;
};

/// Parses `schema->format` (and dictionary / children counts) into `out`. EINVAL with the
/// offending format string for malformed input, ENOTSUP for formats otap does not know.
OTAP_API int otap_schema_view_init(struct otap_schema_view* out, const struct ArrowSchema* schema,
                                   struct otap_error* err) OTAP_WUR;

/// Writes a human-readable type ("dictionary<uint16, utf8>", "struct<id: uint16, ...>",
/// "timestamp[ns, tz=UTC]") into buf (NUL-terminated, truncated to n). Returns the length that
/// was needed, as snprintf.
OTAP_API int64_t otap_schema_format_type(const struct ArrowSchema* schema, char* buf, size_t n);

// ---------------------------------------------------------------------------------------------
// Building schemas (the release callback and private data are otap's)

/// Initializes a schema node with `format` (copied), no name, nullable flag set, no children.
OTAP_API int otap_schema_init(struct ArrowSchema* out, const char* format) OTAP_WUR;
/// Initializes a schema for a simple type (no parameters): bool, ints, floats, utf8, binary,
/// large variants, date32/64, interval types, struct (no children yet), list, etc.
OTAP_API int otap_schema_init_type(struct ArrowSchema* out, enum otap_type type) OTAP_WUR;
/// Replaces the format (copied). Only on schemas made by otap (ENOTSUP otherwise).
OTAP_API int otap_schema_set_format(struct ArrowSchema* schema, const char* format) OTAP_WUR;
/// Replaces the name (copied; NULL clears).
OTAP_API int otap_schema_set_name(struct ArrowSchema* schema, const char* name) OTAP_WUR;
/// Replaces the metadata with a copy of the encoded metadata blob (NULL clears).
OTAP_API int otap_schema_set_metadata(struct ArrowSchema* schema, const char* metadata) OTAP_WUR;
/// Allocates n children, each zeroed (release == NULL) for the caller to init.
OTAP_API int otap_schema_allocate_children(struct ArrowSchema* schema, int64_t n) OTAP_WUR;
/// Allocates a zeroed dictionary schema for the caller to init.
OTAP_API int otap_schema_allocate_dictionary(struct ArrowSchema* schema) OTAP_WUR;
/// Deep copy of any schema (foreign ones included); `out` gets otap's release.
OTAP_API int otap_schema_deep_copy(const struct ArrowSchema* src, struct ArrowSchema* out,
                                   struct otap_error* err) OTAP_WUR;
/// True when formats, names, flags, children and dictionaries match; metadata compared only
/// when compare_metadata.
OTAP_API bool otap_schema_equal(const struct ArrowSchema* a, const struct ArrowSchema* b,
                                bool compare_metadata);
/// Releases a schema if set (safe on a zeroed or already released struct).
OTAP_API void otap_schema_release(struct ArrowSchema* schema);
/// Moves src to dst (dst must be released/zeroed); src->release becomes NULL.
OTAP_API void otap_schema_move(struct ArrowSchema* src, struct ArrowSchema* dst);

// Key-value metadata in the C Data Interface encoding (int32 count, then int32 length + bytes
// for each key and value, native endianness).

struct otap_metadata_entry {
  const char* key;  // not NUL-terminated
  int32_t key_len;
  const char* value;  // not NUL-terminated
  int32_t value_len;
};

/// Number of entries in an encoded metadata blob (NULL blob: 0). EINVAL if malformed.
OTAP_API int otap_metadata_count(const char* metadata, int32_t* out, struct otap_error* err) OTAP_WUR;
/// The i-th entry (borrowed pointers into metadata).
OTAP_API int otap_metadata_get_entry(const char* metadata, int32_t i,
                                     struct otap_metadata_entry* out, struct otap_error* err) OTAP_WUR;
/// Looks up `key`; returns ENOENT when absent (no error message set).
OTAP_API int otap_metadata_find(const char* metadata, const char* key, const char** value,
                                int32_t* value_len) OTAP_WUR;
/// Builds an encoded blob into buf (replaces its content): n entries.
OTAP_API int otap_metadata_encode(struct otap_buffer* buf, const struct otap_metadata_entry* entries,
                                  int32_t n) OTAP_WUR;
/// Size in bytes of an encoded blob (0 for NULL).
OTAP_API int64_t otap_metadata_size(const char* metadata);

// ---------------------------------------------------------------------------------------------
// Building arrays

/// Initializes an empty, growable array with the layout of `schema` (recursively: children and
/// dictionary). The array's buffers are then filled with the append calls or directly through
/// otap_array_buffer(), and made visible by otap_array_finish().
OTAP_API int otap_array_init_from_schema(struct ArrowArray* out, const struct ArrowSchema* schema,
                                         struct otap_error* err) OTAP_WUR;

/// The growable buffer i (0 = validity) of an otap-built array that is still being built or was
/// finished (appending after finish is allowed; call finish again). NULL for foreign arrays,
/// for shared (sliced, imported or zero-copy) buffers, or i out of range.
/// `i` is the C Data Interface buffer index: unions have no validity (0 = type ids, 1 = dense
/// offsets), null and run-end-encoded arrays have no buffers, string/binary views have their
/// variadic data buffers at 2.. (see otap_array_set_variadic_count; the trailing sizes buffer is
/// synthesized by finish). Offsets buffers hold length+1 entries (appends write the leading 0).
/// When filling buffers directly, set array->length yourself before otap_array_finish.
OTAP_API struct otap_buffer* otap_array_buffer(struct ArrowArray* array, int64_t i);

/// Sets buffer i to the given shared memory range (zero-copy; takes a new reference on owner).
/// Used by decoders to point arrays into a decoded message body.
OTAP_API int otap_array_set_buffer_shared(struct ArrowArray* array, int64_t i,
                                          struct otap_shared* owner, const void* data,
                                          int64_t size) OTAP_WUR;
/// Replaces buffer i with `buf` (moved: buf becomes empty).
OTAP_API int otap_array_set_buffer(struct ArrowArray* array, int64_t i,
                                   struct otap_buffer* buf) OTAP_WUR;
/// Sets the number of variadic data buffers of a string_view/binary_view array being built
/// (their pointers follow the fixed ones, and the sizes buffer is synthesized by finish).
OTAP_API int otap_array_set_variadic_count(struct ArrowArray* array, int64_t n) OTAP_WUR;

/// Reserves room for `additional` more elements (value buffers and validity).
OTAP_API int otap_array_reserve(struct ArrowArray* array, int64_t additional) OTAP_WUR;
/// Appends n nulls (for struct: also appends n nulls/empties to each child; for list: empty
/// lists; for dictionary arrays: null indices).
OTAP_API int otap_array_append_null(struct ArrowArray* array, int64_t n) OTAP_WUR;
/// Appends n non-null "empty" values (zero, empty string, empty list).
OTAP_API int otap_array_append_empty(struct ArrowArray* array, int64_t n) OTAP_WUR;
/// Appends an integer (bool, any int width incl. dictionary indices, date/time/timestamp/
/// duration, decimal with sign extension). ERANGE if it does not fit the width.
OTAP_API int otap_array_append_int(struct ArrowArray* array, int64_t value) OTAP_WUR;
OTAP_API int otap_array_append_uint(struct ArrowArray* array, uint64_t value) OTAP_WUR;
/// Appends a float/double/half_float value.
OTAP_API int otap_array_append_double(struct ArrowArray* array, double value) OTAP_WUR;
/// Appends bytes for string/binary (all widths), fixed_size_binary and decimal (exact width),
/// views.
OTAP_API int otap_array_append_bytes(struct ArrowArray* array, const void* data,
                                     int64_t len) OTAP_WUR;
/// For struct, list, large_list, fixed_size_list, map: closes one non-null element after the
/// caller appended its child values.
OTAP_API int otap_array_finish_element(struct ArrowArray* array) OTAP_WUR;
/// Same, but the closed element is null (struct / fixed_size_list: the caller appended
/// placeholder child values; list, large_list, map, list views: usually none).
OTAP_API int otap_array_finish_element_null(struct ArrowArray* array) OTAP_WUR;

enum otap_validation {
  /// Nothing checked (trusted producers, hot paths).
  OTAP_VALIDATE_NONE = 0,
  /// Buffer sizes against lengths and offsets, first/last offsets, children lengths: O(1) per
  /// array.
  OTAP_VALIDATE_DEFAULT = 1,
  /// DEFAULT plus every offset monotonic and in bounds, dictionary indices in range, union type
  /// ids valid, run ends increasing, UTF-8 for string types: O(n). Use on untrusted data.
  OTAP_VALIDATE_FULL = 2,
};

/// Makes the built content visible through the C Data Interface fields (length, null_count,
/// buffers pointers) and validates at `level`. Call after appends; may be called repeatedly.
OTAP_API int otap_array_finish(struct ArrowArray* array, enum otap_validation level,
                               const struct ArrowSchema* schema, struct otap_error* err) OTAP_WUR;

/// Releases an array if set (safe on a zeroed or already released struct).
OTAP_API void otap_array_release(struct ArrowArray* array);
/// Moves src to dst; src->release becomes NULL.
OTAP_API void otap_array_move(struct ArrowArray* src, struct ArrowArray* dst);

// ---------------------------------------------------------------------------------------------
// Reading arrays: validated views

/// A typed, validated view of one array node and (recursively) its children and dictionary.
/// Buffer pointers already include nothing of `offset`: index element i at offset + i.
/// The otap_view_get_* accessors take i relative to the node (they add `offset`). Children keep
/// their own offset and are NOT shifted by the parent's: row i of a struct (or sparse union)
/// is child element `offset + i`; list ranges are child element indices.
struct otap_array_view {
  const struct ArrowArray* array;
  struct otap_schema_view schema;  // parsed schema of this node
  enum otap_type storage_type;     // == schema.storage_type
  int64_t length;
  int64_t offset;
  int64_t null_count;  // computed when the producer said -1
  /// Fixed buffers: [0] validity (NULL = all valid), [1] values/offsets/type ids/views,
  /// [2] data/union offsets. Sizes in bytes as implied by length + offset (validated).
  const uint8_t* buffers[3];
  int64_t buffer_sizes[3];
  /// Variadic buffers of string_view/binary_view.
  int64_t n_variadic;
  const uint8_t* const* variadic;
  const int64_t* variadic_sizes;
  int64_t n_children;
  struct otap_array_view** children;
  struct otap_array_view* dictionary;  // NULL unless dictionary-encoded
};

/// Prepares a view tree for arrays of `schema` (allocates children/dictionary views).
OTAP_API int otap_array_view_init(struct otap_array_view* view, const struct ArrowSchema* schema,
                                  struct otap_error* err) OTAP_WUR;
/// Points the view tree at `array` and validates it at `level` (FULL for untrusted input). On
/// failure the message names the child path ("resource.id") and the element index.
OTAP_API int otap_array_view_set(struct otap_array_view* view, const struct ArrowArray* array,
                                 enum otap_validation level, struct otap_error* err) OTAP_WUR;
/// Frees the view tree (not the array). Safe on a zeroed view.
OTAP_API void otap_array_view_reset(struct otap_array_view* view);

/// True when element i is null: by the validity bitmap, or always for the null type. Unions and
/// run-end-encoded arrays have no validity of their own (their children carry the nulls).
static inline bool otap_view_is_null(const struct otap_array_view* v, int64_t i) {
  if (!v->buffers[0]) return v->storage_type == OTAP_TYPE_NA;
  return !otap_bit_get(v->buffers[0], v->offset + i);
}
/// Integer value of element i of a bool/int/uint/date/time/timestamp/duration/dictionary-index
/// array (uint64 above INT64_MAX wraps).
OTAP_API int64_t otap_view_get_int(const struct otap_array_view* v, int64_t i);
OTAP_API uint64_t otap_view_get_uint(const struct otap_array_view* v, int64_t i);
OTAP_API double otap_view_get_double(const struct otap_array_view* v, int64_t i);
/// Bytes of element i of a string/binary (any width, views included) or fixed-size binary /
/// decimal array. Borrowed pointer.
OTAP_API void otap_view_get_bytes(const struct otap_array_view* v, int64_t i, const uint8_t** data,
                                  int64_t* len);
/// Start/end child index of list element i (list, large_list, map, fixed_size_list, views).
OTAP_API void otap_view_get_list_range(const struct otap_array_view* v, int64_t i, int64_t* start,
                                       int64_t* end);

// ---------------------------------------------------------------------------------------------
// Operations (outputs are otap-built arrays; inputs may be foreign)

/// New reference to an otap-built array (shares all buffers; no copy). ENOTSUP for foreign
/// arrays: wrap them first with otap_array_import.
OTAP_API int otap_array_ref(const struct ArrowArray* src, struct ArrowArray* out,
                            struct otap_error* err) OTAP_WUR;
/// Zero-copy slice [offset, offset+length) of an otap-built array.
OTAP_API int otap_array_slice(const struct ArrowArray* src, int64_t offset, int64_t length,
                              struct ArrowArray* out, struct otap_error* err) OTAP_WUR;
/// Gathers rows: out[i] = in[indices[i]], or null where indices[i] < 0. Deep for nested types;
/// dictionary arrays keep their dictionary (indices are gathered).
OTAP_API int otap_array_take(const struct ArrowSchema* schema, const struct ArrowArray* in,
                             const int64_t* indices, int64_t n, struct ArrowArray* out,
                             struct otap_error* err) OTAP_WUR;
/// Concatenates n arrays of the same schema. Dictionary arrays: dictionaries are merged and
/// indices remapped (see otap_dict_merge); ERANGE if the merged dictionary overflows the index
/// type.
OTAP_API int otap_array_concat(const struct ArrowSchema* schema, const struct ArrowArray* const* in,
                               int64_t n, struct ArrowArray* out, struct otap_error* err) OTAP_WUR;

/// Takes ownership of a foreign (or otap) array: moves `*in` into an otap-built wrapper whose
/// buffers are shared with the original, which is released exactly once when the last
/// reference goes. Validates against schema at `level` first (nothing is moved on failure).
OTAP_API int otap_array_import(const struct ArrowSchema* schema, struct ArrowArray* in,
                               enum otap_validation level, struct ArrowArray* out,
                               struct otap_error* err) OTAP_WUR;

// Dictionaries

/// Dictionary-encodes `values` (a non-dictionary array of `value_schema`): out_schema is
/// dictionary<index_type, value type>, distinct values in first-appearance order, nulls stay
/// null indices. ERANGE if distinct values overflow index_type.
OTAP_API int otap_dict_encode(const struct ArrowSchema* value_schema, const struct ArrowArray* values,
                              enum otap_type index_type, struct ArrowSchema* out_schema,
                              struct ArrowArray* out, struct otap_error* err) OTAP_WUR;
/// Materializes a dictionary array into plain values of the dictionary's value type.
OTAP_API int otap_dict_decode(const struct ArrowSchema* schema, const struct ArrowArray* in,
                              struct ArrowArray* out, struct otap_error* err) OTAP_WUR;
/// Merges the dictionaries of n arrays of the same dictionary schema: writes the unified
/// dictionary (distinct values, first-appearance order) to out_dictionary and, for each input k,
/// a remap table remaps[k] (allocated with otap_malloc, length = that input's dictionary
/// length) mapping old index -> new index.
OTAP_API int otap_dict_merge(const struct ArrowSchema* schema, const struct ArrowArray* const* in,
                             int64_t n, struct ArrowArray* out_dictionary, int64_t** remaps,
                             struct otap_error* err) OTAP_WUR;
/// Rewrites the indices of a dictionary array through remap (old -> new), with a new index type
/// and a new dictionary (moved in). ERANGE if a new index does not fit.
OTAP_API int otap_dict_remap_indices(const struct ArrowSchema* schema, const struct ArrowArray* in,
                                     const int64_t* remap, int64_t remap_len,
                                     enum otap_type new_index_type, struct ArrowArray* new_dictionary,
                                     struct ArrowSchema* out_schema, struct ArrowArray* out,
                                     struct otap_error* err) OTAP_WUR;
/// Drops dictionary values no index references and renumbers indices (order preserved).
OTAP_API int otap_dict_compact(const struct ArrowSchema* schema, const struct ArrowArray* in,
                               struct ArrowArray* out, struct otap_error* err) OTAP_WUR;

// ---------------------------------------------------------------------------------------------
// Streams

/// An ArrowArrayStream over arrays held in memory: takes schema and the n arrays (moved in; the
/// `arrays` pointer array itself stays the caller's).
OTAP_API int otap_array_stream_init(struct ArrowArrayStream* out, struct ArrowSchema* schema,
                                    struct ArrowArray* arrays, int64_t n,
                                    struct otap_error* err) OTAP_WUR;

#ifdef __cplusplus
}
#endif

#endif  // OTAP_ARROW_H
