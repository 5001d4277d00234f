// otap/logs.h: the OTAP logs data model, spec validation, transport id encodings, a seeded
// payload generator, an equivalence checker and OTAP records files (BatchArrowRecords framing).
//
// A payload (`struct otap_logs_payload`) holds up to four optional record batches (LOGS,
// LOG_ATTRS, RESOURCE_ATTRS, SCOPE_ATTRS), each a struct array with its struct schema, in the
// Arrow C Data Interface. The payload owns them; absent tables have release == NULL.
// Downstream code (batching, merge) works on plain ids: readers decode the transport encodings
// (delta / quasi-delta) unless told not to, and mark the fields `encoding=plain`.
// Threading: no global state; distinct payloads, readers and writers may be used from distinct
// threads.
#ifndef OTAP_LOGS_H
#define OTAP_LOGS_H

#include "otap/arrow.h"
#include "otap/common.h"
#include "otap/ipc.h"

#ifdef __cplusplus
extern "C" {
#endif

// ---------------------------------------------------------------------------------------------
// Data model

/// ArrowPayloadType values of the OTAP protocol that belong to the logs signal.
enum otap_payload_type {
  OTAP_PAYLOAD_UNKNOWN = 0,
  OTAP_PAYLOAD_RESOURCE_ATTRS = 1,
  OTAP_PAYLOAD_SCOPE_ATTRS = 2,
  OTAP_PAYLOAD_LOGS = 30,
  OTAP_PAYLOAD_LOG_ATTRS = 31,
};

/// Slot of each table in a payload (the upstream Rust store order).
enum otap_logs_table {
  OTAP_LOGS_RESOURCE_ATTRS = 0,
  OTAP_LOGS_SCOPE_ATTRS = 1,
  OTAP_LOGS_LOGS = 2,
  OTAP_LOGS_LOG_ATTRS = 3,
  OTAP_LOGS_N_TABLES = 4,
};

/// One OTAP logs payload: up to four optional tables, each a record batch (struct array) with
/// its schema; absent table: release == NULL (both schema and batch). A table with 0 rows is
/// equivalent to an absent one.
struct otap_logs_payload {
  struct ArrowSchema schema[OTAP_LOGS_N_TABLES];
  struct ArrowArray batch[OTAP_LOGS_N_TABLES];
};

/// Zeroes the payload (all tables absent). No allocation.
OTAP_API void otap_logs_payload_init(struct otap_logs_payload* p);
/// Releases every present table and zeroes the payload. Safe on a zeroed payload.
OTAP_API void otap_logs_payload_reset(struct otap_logs_payload* p);
/// Moves src into dst (dst must be reset/zeroed); src becomes empty.
OTAP_API void otap_logs_payload_move(struct otap_logs_payload* src, struct otap_logs_payload* dst);
/// Moves a table (schema + batch) into slot `t` of `p`, releasing what was there.
OTAP_API void otap_logs_payload_set_table(struct otap_logs_payload* p, enum otap_logs_table t,
                                          struct ArrowSchema* schema, struct ArrowArray* batch);
/// True when slot t holds a table (schema and batch set).
OTAP_API bool otap_logs_payload_has_table(const struct otap_logs_payload* p,
                                          enum otap_logs_table t);
/// Number of log records (rows of the LOGS table; 0 when absent).
OTAP_API int64_t otap_logs_payload_num_records(const struct otap_logs_payload* p);
/// Deep-enough copy: new references to every table's buffers (otap-built arrays are shared, not
/// copied; schemas are deep-copied). ENOTSUP for foreign arrays (wrap them with
/// otap_array_import first), ENOMEM.
OTAP_API int otap_logs_payload_copy(const struct otap_logs_payload* src,
                                    struct otap_logs_payload* dst, struct otap_error* err) OTAP_WUR;
/// Frees an array of n payloads allocated with otap_malloc (as returned by the readers); NULL ok.
OTAP_API void otap_logs_payloads_free(struct otap_logs_payload* p, int64_t n);

/// Payload type of a table slot, and back (-1 for a type that is not a logs table).
OTAP_API enum otap_payload_type otap_logs_table_payload_type(enum otap_logs_table t);
OTAP_API int otap_logs_table_from_payload_type(int payload_type);
/// "LOGS", "LOG_ATTRS", "RESOURCE_ATTRS", "SCOPE_ATTRS" (borrowed, static); "UNKNOWN" otherwise.
OTAP_API const char* otap_logs_table_name(enum otap_logs_table t);
OTAP_API const char* otap_payload_type_name(int payload_type);

/// AnyValue discriminant of attribute `type` and `body.type` columns (as the implementations use
/// it; spec section 5.5.1).
enum otap_any_type {
  OTAP_ANY_EMPTY = 0,
  OTAP_ANY_STR = 1,
  OTAP_ANY_INT = 2,
  OTAP_ANY_DOUBLE = 3,
  OTAP_ANY_BOOL = 4,
  OTAP_ANY_MAP = 5,    // value in `ser` (CBOR)
  OTAP_ANY_SLICE = 6,  // value in `ser` (CBOR)
  OTAP_ANY_BYTES = 7,  // value in `bytes`
};

// ---------------------------------------------------------------------------------------------
// Validation against the OTAP specification (section 5.1.1 and 5.4.2)

struct otap_logs_validate_options {
  /// Array-level validation of each table before the OTAP checks (default FULL: untrusted).
  enum otap_validation level;
  /// Reject transport-encoded id columns (metadata absent, `delta` or `quasidelta`); default
  /// false.
  bool require_plain_ids;
  /// With plain ids: every attribute parent_id must match an id of its parent column, and
  /// LOGS.id values must be unique (default false: OTAP does not forbid orphan attributes).
  bool check_references;
};
OTAP_API void otap_logs_validate_options_init(struct otap_logs_validate_options* o);

/// Checks a payload against the OTAP logs schemas: known column names only (unknown columns are
/// rejected), native types, which columns may be dictionary-encoded and with which key widths
/// (u8/u16; u16 only for attribute str/int/bytes/ser and body str/int/bytes/ser; never for ids),
/// required columns (attribute parent_id/key/type; body.type inside body), no nulls in required
/// columns, attribute and body type values 0..7, `encoding` metadata values. EINVAL with a
/// message naming table, column and row. options may be NULL (defaults).
OTAP_API int otap_logs_validate(const struct otap_logs_payload* p,
                                const struct otap_logs_validate_options* options,
                                struct otap_error* err) OTAP_WUR;
/// The same checks over views the caller already built: views (OTAP_LOGS_N_TABLES entries)
/// holds for each present table t a view set with otap_array_view_set at options->level or
/// stricter (NULL entries, or views == NULL: the views are built here). Saves a second view
/// tree when the caller keeps its views (the batcher does).
OTAP_API int otap_logs_validate_views(const struct otap_logs_payload* p,
                                      const struct otap_array_view* const* views,
                                      const struct otap_logs_validate_options* options,
                                      struct otap_error* err) OTAP_WUR;

// ---------------------------------------------------------------------------------------------
// Transport-optimized id encodings (spec section 6.4)

enum otap_id_encoding {
  OTAP_ID_PLAIN = 0,
  OTAP_ID_DELTA = 1,        // LOGS id, resource.id, scope.id
  OTAP_ID_QUASI_DELTA = 2,  // attribute parent_id
};

/// Decodes a delta-encoded u16 column in place: value = previous decoded + encoded; null
/// slots (validity bit 0; validity NULL = all valid, bit index validity_offset + i) are skipped
/// and left untouched. EINVAL (naming the row) when a decoded value exceeds 65535.
OTAP_API int otap_ids_delta_decode(uint16_t* ids, const uint8_t* validity, int64_t validity_offset,
                                   int64_t n, struct otap_error* err) OTAP_WUR;
/// Delta-encodes in place a u16 column whose non-null values are non-decreasing (EINVAL naming
/// the row otherwise).
OTAP_API int otap_ids_delta_encode(uint16_t* ids, const uint8_t* validity, int64_t validity_offset,
                                   int64_t n, struct otap_error* err) OTAP_WUR;
/// Renumbers a u16 column in order of first appearance (0, 1, 2, ...) and then delta-encodes it
/// (the upstream "delta remapped" encoding): [3,1,0,2] -> [0,1,1,1] with remap [2,1,3,0].
/// remap (65536 entries, caller-provided) receives old id -> new id for every id that occurs;
/// *remap_len = max old id + 1 (0 when all null). Every id must occur in one contiguous run of
/// non-null rows (sort first), EINVAL otherwise.
OTAP_API int otap_ids_delta_encode_remapped(uint16_t* ids, const uint8_t* validity,
                                            int64_t validity_offset, int64_t n, uint16_t* remap,
                                            int64_t* remap_len, struct otap_error* err) OTAP_WUR;
/// Quasi-delta on raw buffers. same_as_prev[i] != 0 says row i has the same (type, key, value)
/// as row i-1 and is delta-eligible (not Empty/Map/Slice, value not null); such rows are
/// deltas from the previous decoded parent_id, others are absolute. Decode: EINVAL when a sum
/// exceeds 65535. Encode: EINVAL when a run is not non-decreasing.
OTAP_API int otap_ids_quasi_delta_decode(uint16_t* parent_ids, const uint8_t* same_as_prev,
                                         int64_t n, struct otap_error* err) OTAP_WUR;
OTAP_API int otap_ids_quasi_delta_encode(uint16_t* parent_ids, const uint8_t* same_as_prev,
                                         int64_t n, struct otap_error* err) OTAP_WUR;

/// Encoding of an id field as stated by its field metadata key `encoding` ("plain", "delta",
/// "quasidelta"); absent metadata means the column's transport encoding (delta for LOGS id,
/// resource.id, scope.id; quasi-delta for attribute parent_id). EINVAL for an unknown value.
OTAP_API int otap_logs_field_id_encoding(const struct ArrowSchema* field,
                                         enum otap_id_encoding transport_default,
                                         enum otap_id_encoding* out,
                                         struct otap_error* err) OTAP_WUR;

/// Decodes every transport-encoded id column of the payload in place (new arrays replace the
/// encoded ones; the fields get `encoding=plain`). Idempotent: plain columns are left alone.
/// Validates the payload first (EINVAL as otap_logs_validate).
OTAP_API int otap_logs_decode_ids(struct otap_logs_payload* p, struct otap_error* err) OTAP_WUR;
/// Applies the transport encodings to a payload with plain ids: LOGS rows sorted (stable) by
/// resource.id, scope.id; LOGS id, resource.id and scope.id renumbered by first appearance and
/// delta-encoded (children's parent_id remapped; a scope id used under several resources is
/// split and its attributes duplicated); attribute tables sorted by (type, key, value,
/// parent_id) and quasi-delta encoded. Fields get `encoding=delta` / `quasidelta`. Orphan
/// attribute rows (no record refers to them) are dropped. The result is equivalent
/// (otap_logs_equiv) to the input. EINVAL for invalid payloads, ENOMEM.
OTAP_API int otap_logs_encode_ids(struct otap_logs_payload* p, struct otap_error* err) OTAP_WUR;

// ---------------------------------------------------------------------------------------------
// Deterministic seeded generator (for tests, benchmarks and `otap gen logs`)

enum otap_logs_gen_dict {
  /// Mix: per column and payload, a seeded choice between native, Dict(u8) (where allowed and
  /// the values fit) and Dict(u16).
  OTAP_LOGS_GEN_DICT_AUTO = 0,
  /// Every column that may be dictionary-encoded is (smallest allowed key width that fits).
  OTAP_LOGS_GEN_DICT_ALWAYS = 1,
  /// Native types only.
  OTAP_LOGS_GEN_DICT_NEVER = 2,
};

struct otap_logs_gen_options {
  uint64_t seed;              // default 1
  int64_t records;            // log records per payload (default 100; 0..65536)
  int64_t resources;          // distinct resources per payload (default 2, >= 1)
  int64_t scopes;             // scopes per resource (default 2, >= 1)
  int64_t log_attrs;          // max attributes per log record (default 3; 0 = no LOG_ATTRS)
  int64_t resource_attrs;     // attributes per resource (default 4; 0 = no RESOURCE_ATTRS)
  int64_t scope_attrs;        // attributes per scope (default 2; 0 = no SCOPE_ATTRS)
  int64_t body_bytes;         // approx. body string length (default 64; 0 = no body column)
  int64_t trace_fanout;       // log records per trace id (default 4; 0 = no trace/span ids)
  /// Percentage (0..100) of log records without attributes (null id). Default 20.
  int32_t no_attr_percent;
  /// Percentage (0..100) of bodies that are not strings (int, double, bool, bytes, map, slice,
  /// empty). Default 10.
  int32_t body_mixed_percent;
  enum otap_logs_gen_dict dict;  // default AUTO
  /// Write transport-encoded ids (delta / quasi-delta, metadata absent like Go producers) instead
  /// of plain ids marked `encoding=plain`. Default false.
  bool encoded_ids;
  /// Vary the schema per payload (seeded): randomly drop optional LOGS columns and whole optional
  /// tables, mix attribute value types per key, make some Empty bodies null body rows, so
  /// consumers must unify schemas. Default false.
  bool vary_schema;
  /// Resources and scopes come from a pool shared by every payload of one seed (the same
  /// content repeats across payloads, as from one long-running service). Default true. When
  /// duplicate_resources is also set, a payload may carry the same resource content under two
  /// resource ids (and the same for scopes). Default false.
  bool shared_pool;
  bool duplicate_resources;
  /// Shuffle LOGS rows and attribute rows (ids stay consistent). Default false: rows come in
  /// (resource, scope) order. With encoded_ids the rows keep the order the encodings need.
  bool shuffle_rows;
  /// Every record with attributes gets exactly log_attrs attributes (default false: 1..N).
  bool fixed_log_attrs;
};
OTAP_API void otap_logs_gen_options_init(struct otap_logs_gen_options* o);

/// Generates payload number `index` (0, 1, ...) of the sequence defined by options (the same
/// options and index always give the same payload, bit for bit). The result passes
/// otap_logs_validate. EINVAL for out-of-range knobs.
OTAP_API int otap_logs_gen(const struct otap_logs_gen_options* options, int64_t index,
                           struct otap_logs_payload* out, struct otap_error* err) OTAP_WUR;

// ---------------------------------------------------------------------------------------------
// Equivalence (the batching design's assert.Equiv)

struct otap_logs_equiv_options {
  /// Differences written to the report (default 5; 0 = none).
  int64_t max_differences;
};
OTAP_API void otap_logs_equiv_options_init(struct otap_logs_equiv_options* o);

/// Compares two payload sequences as multisets of fully resolved log records: each record with
/// its own fields, its attributes (order-insensitive), its resource (schema_url, dropped count,
/// attributes) and scope (name, version, dropped count, attributes). Type-aware (Str "1" != Int
/// 1). Order of rows, payloads, ids, dictionary vs native encodings and transport id encodings
/// do not matter; OTLP defaults apply (null string == "", null number == 0, null body ==
/// Empty). Orphan attribute rows are not part of any record and are ignored.
/// *equal receives the verdict; when `report` is not NULL, the first differences are appended
/// readably ("only in A: ...", "only in B: ..."). Returns EINVAL for invalid payloads.
OTAP_API int otap_logs_equiv(const struct otap_logs_payload* a, int64_t n_a,
                             const struct otap_logs_payload* b, int64_t n_b,
                             const struct otap_logs_equiv_options* options, bool* equal,
                             struct otap_buffer* report, struct otap_error* err) OTAP_WUR;

/// Appends one canonical text line per log record of p (the form otap_logs_equiv compares; used
/// by `otap cat`). Attributes are sorted; ids are not printed.
OTAP_API int otap_logs_payload_format(const struct otap_logs_payload* p, struct otap_buffer* out,
                                      struct otap_error* err) OTAP_WUR;

// ---------------------------------------------------------------------------------------------
// BatchArrowRecords protobuf messages (hand-written wire codec)

/// One ArrowPayload. Pointers borrow from the decoded message bytes.
struct otap_arrow_payload_msg {
  const char* schema_id;  // not NUL-terminated
  int64_t schema_id_len;
  int32_t type;  // ArrowPayloadType (any value; unknown ones are kept)
  const uint8_t* record;
  int64_t record_len;
};

/// One BatchArrowRecords message. `payloads` is owned (otap_malloc); the rest borrows.
struct otap_bar_msg {
  int64_t batch_id;
  int64_t n_payloads;
  struct otap_arrow_payload_msg* payloads;
  const uint8_t* headers;
  int64_t headers_len;
};

/// Caps on untrusted input. Defaults: 1 GiB per message, 4096 payloads per message.
#define OTAP_BAR_MAX_MESSAGE_SIZE ((int64_t)1 << 30)
#define OTAP_BAR_MAX_PAYLOADS 4096

/// Decodes one BatchArrowRecords message of exactly `size` bytes (unknown fields are skipped;
/// wire types checked; every length checked against what remains). `base_offset` is added to
/// byte offsets in error messages. EINVAL for malformed input, ENOMEM.
OTAP_API int otap_bar_decode(const uint8_t* data, int64_t size, int64_t base_offset,
                             struct otap_bar_msg* out, struct otap_error* err) OTAP_WUR;
/// Frees `payloads`; safe on a zeroed struct.
OTAP_API void otap_bar_reset(struct otap_bar_msg* msg);
/// Appends the encoded message (without a length prefix) to out.
OTAP_API int otap_bar_encode(const struct otap_bar_msg* msg, struct otap_buffer* out) OTAP_WUR;
/// Appends a protobuf varint.
OTAP_API int otap_pb_append_varint(struct otap_buffer* out, uint64_t v) OTAP_WUR;
/// Reads a varint at data[*pos] (size bytes total), advancing *pos. EINVAL for truncated or
/// over-long (> 10 bytes) varints.
OTAP_API int otap_pb_read_varint(const uint8_t* data, int64_t size, int64_t* pos, uint64_t* out,
                                 struct otap_error* err) OTAP_WUR;

// ---------------------------------------------------------------------------------------------
// OTAP records files: a sequence of varint-length-delimited BatchArrowRecords messages. Each
// payload type's Arrow IPC stream continues across messages and restarts on a new schema_id
// (spec section 4.4). One message = one logs payload.

struct otap_records_reader;

struct otap_records_reader_options {
  /// Decode transport-encoded ids to plain (default true).
  bool decode_ids;
  /// Validate each payload with otap_logs_validate (default true; array level FULL).
  bool validate;
  /// Skip payload types that are not logs tables instead of failing (default false: EINVAL).
  bool skip_unknown_types;
  int64_t max_message_size;  // default OTAP_BAR_MAX_MESSAGE_SIZE
};
OTAP_API void otap_records_reader_options_init(struct otap_records_reader_options* o);

/// Opens a reader over a whole file ("-" = stdin): mapped when it is a regular file (so it
/// must not be truncated while being read), else read into memory. Each payload's record
/// bytes are copied once into blocks the decoded arrays share. options may be NULL.
OTAP_API int otap_records_reader_open_file(struct otap_records_reader** out, const char* path,
                                           const struct otap_records_reader_options* options,
                                           struct otap_error* err) OTAP_WUR;
/// Opens a reader over caller memory (borrowed: must outlive the reader). `name` (borrowed)
/// prefixes error messages.
OTAP_API int otap_records_reader_open_memory(struct otap_records_reader** out, const void* data,
                                             int64_t size, const char* name,
                                             const struct otap_records_reader_options* options,
                                             struct otap_error* err) OTAP_WUR;
/// Reads the next message into *out (must be reset/zeroed). At end of file returns 0 with
/// *eof = true and out untouched. EINVAL names the file, message index and byte offset.
OTAP_API int otap_records_reader_next(struct otap_records_reader* r, struct otap_logs_payload* out,
                                      bool* eof, struct otap_error* err) OTAP_WUR;
/// batch_id of the message last returned by next.
OTAP_API int64_t otap_records_reader_batch_id(const struct otap_records_reader* r);
/// Byte offset of the next message in the file.
OTAP_API int64_t otap_records_reader_offset(const struct otap_records_reader* r);
/// Frees the reader (NULL ok).
OTAP_API void otap_records_reader_free(struct otap_records_reader* r);

/// True when the bytes look like the start of an OTAP records file (a length varint followed
/// by a BatchArrowRecords whose first payload record starts an Arrow IPC stream). When `data`
/// is a short head of the file (format detection), an error-free parse of that prefix (at
/// least 8 bytes) is enough.
OTAP_API bool otap_records_sniff(const uint8_t* data, int64_t size);

struct otap_records_writer;

struct otap_records_writer_options {
  /// Write delta / quasi-delta encoded ids (otap_logs_encode_ids on a copy). Default false:
  /// ids are written plain and marked `encoding=plain`.
  bool encode_ids;
  /// batch_id of the first message (then +1 per message). Default 0.
  int64_t first_batch_id;
  /// Arrow IPC body compression of record and dictionary batches (default NONE) and its level
  /// (0: codec default).
  enum otap_ipc_compression compression;
  int32_t compression_level;
};
OTAP_API void otap_records_writer_options_init(struct otap_records_writer_options* o);

/// Opens a writer onto `sink` (borrowed; the caller finishes and releases it after
/// otap_records_writer_finish). options may be NULL.
OTAP_API int otap_records_writer_open(struct otap_records_writer** out, struct otap_sink* sink,
                                      const struct otap_records_writer_options* options,
                                      struct otap_error* err) OTAP_WUR;
/// Writes one payload as one BatchArrowRecords message (absent and empty tables are omitted;
/// a table whose schema differs from the previous one of its type gets a new schema_id and a
/// new IPC stream). The payload is not modified.
OTAP_API int otap_records_writer_write(struct otap_records_writer* w,
                                       const struct otap_logs_payload* p,
                                       struct otap_error* err) OTAP_WUR;
/// Flushes buffered bytes to the sink (does not call sink->finish).
OTAP_API int otap_records_writer_finish(struct otap_records_writer* w,
                                        struct otap_error* err) OTAP_WUR;
OTAP_API void otap_records_writer_free(struct otap_records_writer* w);

/// Convenience: reads every payload of a file into a new array (*out, otap_malloc'd; free with
/// otap_logs_payloads_free).
OTAP_API int otap_records_read_file(const char* path,
                                    const struct otap_records_reader_options* options,
                                    struct otap_logs_payload** out, int64_t* n,
                                    struct otap_error* err) OTAP_WUR;
/// Convenience: writes n payloads to `path` (atomically, via otap_sink_open_file).
OTAP_API int otap_records_write_file(const char* path, const struct otap_logs_payload* p, int64_t n,
                                     const struct otap_records_writer_options* options,
                                     struct otap_error* err) OTAP_WUR;

#ifdef __cplusplus
}
#endif

#endif  // OTAP_LOGS_H
