// otap/parquet.h: Parquet reader (footer, page decoding, nested assembly into Arrow arrays).
//
// A reader is opened over any random-access `struct otap_source` (local file, memory, object
// store ranges). The footer is decoded once into `struct otap_parquet_file_metadata` (read-only,
// owned by the reader, exposed so callers can prune on statistics and page indexes). Batches
// come out as Arrow struct arrays (`+s`, one child per projected top-level column). Pages are
// decoded batch by batch: memory is bounded by the projected column chunks of one row group
// (none when the source maps the file) plus one batch.
// Threading: one reader is used from one thread at a time. Arrays it produced are independent
// of the reader, may outlive it and may be released from any thread (their memory goes back
// to the reader's buffer pool while the reader lives).
#ifndef OTAP_PARQUET_H
#define OTAP_PARQUET_H

#include "otap/arrow.h"
#include "otap/common.h"
#include "otap/parquet_types.h"

#ifdef __cplusplus
extern "C" {
#endif

// ---------------------------------------------------------------------------------------------
// File metadata (decoded footer). All pointers are borrowed from the reader that owns them.

/// Bytes borrowed from the decoded footer (not NUL-terminated).
struct otap_parquet_bytes {
  const uint8_t* data;
  int32_t len;
};

/// Parquet Statistics (chunk or page). `has_*` tells which optional fields were present.
struct otap_parquet_statistics {
  bool has_min, has_max;  // min_value/max_value, else the deprecated min/max fields
  bool has_null_count, has_distinct_count, has_nan_count;
  bool is_min_exact, is_max_exact;
  struct otap_parquet_bytes min, max;  // PLAIN encoded (byte arrays without length prefix)
  int64_t null_count, distinct_count, nan_count;
};

/// LogicalType union ids (parquet.thrift numbering); 0 = none, OTHER = unknown id.
enum otap_parquet_logical_kind {
  OTAP_PARQUET_LT_NONE = 0,
  OTAP_PARQUET_LT_STRING = 1,
  OTAP_PARQUET_LT_MAP = 2,
  OTAP_PARQUET_LT_LIST = 3,
  OTAP_PARQUET_LT_ENUM = 4,
  OTAP_PARQUET_LT_DECIMAL = 5,
  OTAP_PARQUET_LT_DATE = 6,
  OTAP_PARQUET_LT_TIME = 7,
  OTAP_PARQUET_LT_TIMESTAMP = 8,
  OTAP_PARQUET_LT_INTEGER = 10,
  OTAP_PARQUET_LT_UNKNOWN = 11,  // the "always null" type
  OTAP_PARQUET_LT_JSON = 12,
  OTAP_PARQUET_LT_BSON = 13,
  OTAP_PARQUET_LT_UUID = 14,
  OTAP_PARQUET_LT_FLOAT16 = 15,
  OTAP_PARQUET_LT_VARIANT = 16,
  OTAP_PARQUET_LT_GEOMETRY = 17,
  OTAP_PARQUET_LT_GEOGRAPHY = 18,
  OTAP_PARQUET_LT_OTHER = 1000,  // an id this reader does not know: physical type is used
};

struct otap_parquet_logical_type {
  enum otap_parquet_logical_kind kind;
  int32_t decimal_scale, decimal_precision;
  bool is_adjusted_to_utc;  // TIME/TIMESTAMP
  int32_t time_unit;        // TIME/TIMESTAMP: 0 millis, 1 micros, 2 nanos
  int32_t int_bit_width;    // INTEGER
  bool int_signed;
};

/// One SchemaElement (depth-first order; element 0 is the root).
struct otap_parquet_schema_element {
  const char* name;  // NUL-terminated
  bool has_type;     // false for groups
  enum otap_parquet_physical_type type;
  int32_t type_length;
  bool has_repetition;
  enum otap_parquet_repetition repetition;
  int32_t num_children;
  int32_t converted_type;  // -1 when absent
  int32_t scale, precision;
  bool has_field_id;
  int32_t field_id;
  struct otap_parquet_logical_type logical;
};

struct otap_parquet_key_value {
  const char* key;    // NUL-terminated
  const char* value;  // NUL-terminated, NULL when unset
  int32_t value_len;
};

struct otap_parquet_column_chunk {
  enum otap_parquet_physical_type type;
  int32_t n_encodings;
  const int32_t* encodings;
  int32_t n_path;
  const char* const* path;  // path_in_schema
  enum otap_parquet_codec codec;
  int64_t num_values;
  int64_t total_uncompressed_size;
  int64_t total_compressed_size;
  int64_t data_page_offset;
  bool has_dictionary_page_offset;
  int64_t dictionary_page_offset;
  bool has_statistics;
  struct otap_parquet_statistics statistics;
  int32_t n_key_value;
  const struct otap_parquet_key_value* key_value;
  // Page index locations (0 length when absent).
  int64_t offset_index_offset;
  int32_t offset_index_length;
  int64_t column_index_offset;
  int32_t column_index_length;
  bool encrypted;      // crypto_metadata or encrypted_column_metadata present
  bool has_meta_data;  // ColumnMetaData present
  const char* file_path;  // ColumnChunk.file_path (data in another file), NULL when unset
};

struct otap_parquet_row_group {
  int32_t n_columns;
  const struct otap_parquet_column_chunk* columns;
  int64_t total_byte_size;
  int64_t num_rows;
  int64_t total_compressed_size;  // 0 when absent
};

struct otap_parquet_file_metadata {
  int32_t version;
  int32_t n_schema;
  const struct otap_parquet_schema_element* schema;
  int64_t num_rows;
  int32_t n_row_groups;
  const struct otap_parquet_row_group* row_groups;
  int32_t n_key_value;
  const struct otap_parquet_key_value* key_value;
  const char* created_by;  // NULL when absent
  bool encrypted;          // encryption_algorithm present (plaintext-footer PME)
  int64_t footer_length;   // bytes of the Thrift footer
};

/// Page index of one column chunk (decoded on request).
struct otap_parquet_page_location {
  int64_t offset;
  int32_t compressed_page_size;
  int64_t first_row_index;
};
struct otap_parquet_offset_index {
  int32_t n_pages;
  struct otap_parquet_page_location* pages;  // owned
};
struct otap_parquet_column_index {
  int32_t n_pages;
  bool* null_pages;                   // owned
  struct otap_parquet_bytes* min_values;  // point into `storage`
  struct otap_parquet_bytes* max_values;
  int32_t boundary_order;  // 0 unordered, 1 ascending, 2 descending
  bool has_null_counts;
  int64_t* null_counts;  // owned, NULL when absent
  uint8_t* storage;      // owned copy of the serialized index
};

/// Frees the owned arrays of a page index struct and zeroes it (safe on zeroed structs).
OTAP_API void otap_parquet_offset_index_reset(struct otap_parquet_offset_index* idx);
OTAP_API void otap_parquet_column_index_reset(struct otap_parquet_column_index* idx);

// ---------------------------------------------------------------------------------------------
// Reader

struct otap_parquet_reader_options {
  /// Columns to read, NULL = all: a top-level name reads that column whole; a dotted path
  /// ("body.str", "resource.id") reads only that field of a struct column (the struct keeps
  /// the selected children). ENOENT at open for a name or path the file does not have.
  const char* const* columns;
  int32_t n_columns;
  /// Row group indices to read (in this order), NULL = all.
  const int32_t* row_groups;
  int32_t n_row_groups;
  /// Maximum rows per batch (default 65536). A batch never spans two row groups.
  int64_t batch_size;
  /// Verify page CRCs when present (default false); a mismatch is EIO.
  bool verify_page_crc;
  /// BYTE_ARRAY (string/binary) columns come out as Arrow dictionary<int32, values> arrays
  /// (default false): dictionary-encoded chunks share one dictionary array between their
  /// batches without materializing the values; chunks that fell back to PLAIN get per-batch
  /// dictionaries. The ARROW:schema hint can request dictionaries (and their index type) too.
  bool dictionary_as_arrow_dictionary;
  /// Use the ARROW:schema key-value hint to restore exact Arrow types (default true).
  bool use_arrow_schema_hint;
  /// Unit of INT96 timestamps (default OTAP_TIME_UNIT_NANO; values that overflow wrap).
  enum otap_time_unit int96_unit;
  /// Validation of every produced batch by the arrow module's validator (default
  /// OTAP_VALIDATE_NONE: the decoder already checks every offset and index it writes).
  enum otap_validation validation;
  /// Cap on the decompressed size of one page (default 1 GiB) and on one column chunk read
  /// into memory (default 2 GiB): larger inputs fail with ENOTSUP naming the limit.
  int64_t max_page_size;
  int64_t max_chunk_size;
};

/// Fills `opts` with the defaults.
OTAP_API void otap_parquet_reader_options_init(struct otap_parquet_reader_options* opts);

struct otap_parquet_reader;

/// Opens a reader over `source` (borrowed: must outlive the reader). Reads and decodes the
/// footer, maps the schema to Arrow. EINVAL for malformed files, ENOTSUP for encrypted footers
/// and unsupported features, EIO from the source. `opts` may be NULL (defaults).
OTAP_API int otap_parquet_reader_open(struct otap_parquet_reader** out, struct otap_source* source,
                                      const struct otap_parquet_reader_options* opts,
                                      struct otap_error* err) OTAP_WUR;
/// Frees the reader (NULL allowed). Arrays already returned stay valid.
OTAP_API void otap_parquet_reader_free(struct otap_parquet_reader* reader);

/// The decoded footer. Borrowed from the reader.
OTAP_API const struct otap_parquet_file_metadata* otap_parquet_reader_metadata(
    const struct otap_parquet_reader* reader);

/// The Arrow schema of the batches (a `+s` struct of the projected columns). Borrowed.
OTAP_API const struct ArrowSchema* otap_parquet_reader_schema(const struct otap_parquet_reader* reader);

/// Writes the next batch (a struct array) into `out`. At end of data returns 0 with
/// out->release == NULL. Errors name the file, row group, column and byte offset.
OTAP_API int otap_parquet_reader_next(struct otap_parquet_reader* reader, struct ArrowArray* out,
                                      struct otap_error* err) OTAP_WUR;

/// Reads one whole row group (projected columns) as a single struct array, independently of
/// the iteration of otap_parquet_reader_next.
OTAP_API int otap_parquet_reader_read_row_group(struct otap_parquet_reader* reader,
                                                int32_t row_group, struct ArrowArray* out,
                                                struct otap_error* err) OTAP_WUR;

/// Decodes the OffsetIndex / ColumnIndex of column `column` of row group `row_group`.
/// ENOENT (with a message) when the file has none for that chunk.
OTAP_API int otap_parquet_reader_offset_index(struct otap_parquet_reader* reader, int32_t row_group,
                                              int32_t column, struct otap_parquet_offset_index* out,
                                              struct otap_error* err) OTAP_WUR;
OTAP_API int otap_parquet_reader_column_index(struct otap_parquet_reader* reader, int32_t row_group,
                                              int32_t column, struct otap_parquet_column_index* out,
                                              struct otap_error* err) OTAP_WUR;

/// Wraps the reader in an ArrowArrayStream that takes ownership of the reader (and, when
/// `own_source` is true, of the source struct, which is released and freed with the stream;
/// the source must then have been allocated with otap_malloc).
OTAP_API int otap_parquet_reader_to_stream(struct otap_parquet_reader* reader, bool own_source,
                                           struct ArrowArrayStream* out,
                                           struct otap_error* err) OTAP_WUR;

/// Opens `path` and returns a stream of its batches (the stream owns file and reader).
OTAP_API int otap_parquet_open_stream(const char* path,
                                      const struct otap_parquet_reader_options* opts,
                                      struct ArrowArrayStream* out, struct otap_error* err) OTAP_WUR;

/// Names of enums for display ("SNAPPY", "RLE_DICTIONARY", "INT96", ...). Borrowed, static.
OTAP_API const char* otap_parquet_codec_name(int32_t codec);
OTAP_API const char* otap_parquet_encoding_name(int32_t encoding);
OTAP_API const char* otap_parquet_physical_type_name(int32_t type);
OTAP_API const char* otap_parquet_converted_type_name(int32_t converted_type);

#ifdef __cplusplus
}
#endif

#if defined(__has_include)
#if __has_include("otap/parquet_writer.h")
#include "otap/parquet_writer.h"
#endif
#endif

#endif  // OTAP_PARQUET_H
