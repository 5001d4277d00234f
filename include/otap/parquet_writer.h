// otap/parquet_writer.h: writes Arrow record batches (struct arrays) as a Parquet file.
//
// Data flow: otap_parquet_writer_open (schema -> Parquet schema) -> otap_parquet_writer_write
// per batch (levels + values encoded into the current row group's pages, in memory) -> row
// group flushed to the sink when it reaches `row_group_rows` -> otap_parquet_writer_close
// (last row group, column/offset indexes, footer, sink finish). Memory is bounded by the current
// row group's encoded pages. A writer is used from one thread at a time.
// Ownership: the sink is borrowed (the caller releases it after close/free); batches are
// borrowed for the duration of the write call only.
#ifndef OTAP_PARQUET_WRITER_H
#define OTAP_PARQUET_WRITER_H

#include "otap/arrow.h"
#include "otap/common.h"
#include "otap/parquet_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/// Per-column override, matched against the dotted column path ("body.str", "attrs.list.element"
/// as in the Parquet schema) or the top-level column name (applies to all its leaves).
struct otap_parquet_column_options {
  const char* path;
  /// -1: writer default. 0/1: dictionary off/on for this column.
  int dictionary;
  /// Encoding of non-dictionary data pages (and after dictionary fallback): PLAIN (default),
  /// DELTA_BINARY_PACKED (INT32/INT64), DELTA_LENGTH_BYTE_ARRAY / DELTA_BYTE_ARRAY
  /// (BYTE_ARRAY; DELTA_BYTE_ARRAY also FLBA), BYTE_STREAM_SPLIT (FLOAT, DOUBLE, INT32, INT64,
  /// FLBA). -1: writer default. An encoding that does not fit the column's type is ENOTSUP.
  int encoding;
};

struct otap_parquet_write_options {
  enum otap_parquet_codec codec;  /// default UNCOMPRESSED; LZO is ENOTSUP
  int compression_level;          /// zstd/gzip/brotli level; INT32_MIN = codec default
  int64_t row_group_rows;         /// rows per row group (default 1,048,576)
  int64_t data_page_size;         /// target encoded bytes per data page (default 1 MiB)
  int64_t data_page_rows;         /// max rows per data page (default 20,000)
  int page_version;               /// 1 (default) or 2 (DATA_PAGE_V2)
  bool dictionary;                /// dictionary encoding on by default (not BOOLEAN / FLBA)
  int64_t dictionary_page_size;   /// dictionary bytes past which the chunk falls back to PLAIN
                                  /// (default 1 MiB)
  double dictionary_max_ratio;    /// once 16,384 values of a chunk were seen, fall back to
                                  /// PLAIN when distinct/values exceeds this (default 0.75;
                                  /// 0 disables: only the size limit applies)
  int default_encoding;           /// encoding of non-dictionary pages (default PLAIN)
  bool write_statistics;          /// chunk min/max/null_count (default true)
  bool write_page_index;          /// ColumnIndex + OffsetIndex (default true)
  bool write_arrow_schema;        /// the ARROW:schema key-value (default true)
  int64_t statistics_truncate;    /// page-index min/max truncated to this many bytes (64)
  const char* created_by;         /// default "otap version X.Y.Z"
  const char* root_name;          /// root schema name (default "arrow_schema")
  /// Extra key-value metadata (keys must differ from "ARROW:schema"), borrowed.
  const struct otap_metadata_entry* metadata;
  int32_t n_metadata;
  const struct otap_parquet_column_options* columns;  /// borrowed, n_columns entries
  int32_t n_columns;
  /// Validation of each batch before it is read (default OTAP_VALIDATE_DEFAULT: buffer sizes,
  /// O(1) per array; the writer also rejects negative string lengths and out-of-range
  /// dictionary indices as it reads). Use OTAP_VALIDATE_FULL for untrusted producers.
  enum otap_validation validation;
};

/// Fills `options` with the defaults above.
OTAP_API void otap_parquet_write_options_init(struct otap_parquet_write_options* options);

struct otap_parquet_writer;

/// Creates a writer for batches of `schema` (a struct schema whose children are the columns).
/// `sink` and `options` (and what they point to) are borrowed; the sink must outlive the writer.
/// Nothing is written before the first row group is flushed except the leading magic.
/// ENOTSUP names a column whose type has no Parquet mapping (unions, views of lists, ...);
/// EINVAL for a schema that is not a struct; ENOMEM.
OTAP_API int otap_parquet_writer_open(struct otap_parquet_writer** out, struct otap_sink* sink,
                                      const struct ArrowSchema* schema,
                                      const struct otap_parquet_write_options* options,
                                      struct otap_error* err) OTAP_WUR;

/// Appends the rows of `batch` (a struct array of the writer's schema, borrowed for the call).
/// Row groups are cut at `row_group_rows` (a batch may span row groups). EINVAL when the batch
/// does not match the schema or a non-nullable field holds a null; EIO from the sink.
OTAP_API int otap_parquet_writer_write(struct otap_parquet_writer* writer,
                                       const struct ArrowArray* batch,
                                       struct otap_error* err) OTAP_WUR;

/// Flushes buffered rows as a row group now (no-op when none are buffered).
OTAP_API int otap_parquet_writer_flush(struct otap_parquet_writer* writer,
                                       struct otap_error* err) OTAP_WUR;

/// Writes the last row group, the page indexes and the footer, then calls sink->finish (for a
/// file sink: atomic rename into place). After close only free is allowed.
OTAP_API int otap_parquet_writer_close(struct otap_parquet_writer* writer,
                                       struct otap_error* err) OTAP_WUR;

/// Rows written so far (all row groups, buffered ones included).
OTAP_API int64_t otap_parquet_writer_num_rows(const struct otap_parquet_writer* writer);

/// Frees the writer (NULL is allowed). Without a successful close the output is incomplete; the
/// sink is not released (the caller does that, which discards an unfinished file).
OTAP_API void otap_parquet_writer_free(struct otap_parquet_writer* writer);

/// Convenience: writes every batch of `stream` (borrowed; not released) to `sink` and closes.
OTAP_API int otap_parquet_write_stream(struct otap_sink* sink, struct ArrowArrayStream* stream,
                                       const struct otap_parquet_write_options* options,
                                       struct otap_error* err) OTAP_WUR;

/// Name of a codec ("zstd", "lz4_raw", ...) and the reverse (ENOTSUP for unknown names).
OTAP_API const char* otap_parquet_writer_codec_name(enum otap_parquet_codec codec);
OTAP_API int otap_parquet_writer_codec_from_name(const char* name, enum otap_parquet_codec* out);

#ifdef __cplusplus
}
#endif

#endif  // OTAP_PARQUET_WRITER_H
