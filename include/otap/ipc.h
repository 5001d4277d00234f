// otap/ipc.h: Arrow IPC streaming and file formats, read and written by otap's own code.
//
// Reading: a push decoder (bytes in arbitrary pieces in, schema and record batches out), readers
// over memory, a file descriptor (pipes and stdin included) and an otap_source, each exposable
// as an ArrowArrayStream, and a file reader with random access to record batch i. Uncompressed
// buffers read from memory or mmap are zero-copy (shared with the message body). Every
// flatbuffer offset and buffer range is verified: malformed input yields EINVAL naming the byte
// offset, never an out-of-bounds read. Writing: stream and file writers to an otap_sink, with
// LZ4_FRAME / ZSTD body compression, dictionary batches (delta and replacement), metadata V5.
// Threading: one object per thread; arrays produced may be moved to other threads.
#ifndef OTAP_IPC_H
#define OTAP_IPC_H

#include "otap/arrow.h"
#include "otap/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/// Body compression codec of record batch and dictionary batch messages.
enum otap_ipc_compression {
  OTAP_IPC_COMPRESSION_NONE = 0,
  OTAP_IPC_COMPRESSION_LZ4_FRAME = 1,
  OTAP_IPC_COMPRESSION_ZSTD = 2,
};

/// The two IPC container formats.
enum otap_ipc_format {
  OTAP_IPC_FORMAT_UNKNOWN = 0,
  /// Streaming format: messages, optional end-of-stream marker.
  OTAP_IPC_FORMAT_STREAM = 1,
  /// File format: "ARROW1" magic, messages, Footer, footer length, "ARROW1".
  OTAP_IPC_FORMAT_FILE = 2,
};

/// Name of a codec ("none", "lz4", "zstd"). Borrowed, static.
OTAP_API const char* otap_ipc_compression_name(enum otap_ipc_compression c);
/// Parses "none" / "lz4" / "lz4_frame" / "zstd" (case-insensitive). EINVAL otherwise.
OTAP_API int otap_ipc_compression_parse(const char* name, enum otap_ipc_compression* out,
                                        struct otap_error* err) OTAP_WUR;

/// Guesses the container from the first bytes: FILE when they start with "ARROW1", STREAM
/// when they start with a continuation marker 0xFFFFFFFF or a plausible legacy (pre-0.15)
/// int32 metadata length followed by a flatbuffer, else UNKNOWN. Needs at least 8 bytes.
OTAP_API enum otap_ipc_format otap_ipc_detect_format(const void* data, size_t size);

// ---------------------------------------------------------------------------------------------
// Reading

struct otap_ipc_read_options {
  /// Validation of every decoded batch (OTAP_VALIDATE_FULL by default: input is untrusted).
  enum otap_validation validation;
  /// Largest accepted message metadata (flatbuffer) in bytes. Default 64 MiB.
  int64_t max_metadata_size;
  /// Largest accepted message body in bytes. Default 8 GiB.
  int64_t max_body_size;
  /// Largest decompressed size of one buffer. Default 4 GiB.
  int64_t max_decompressed_size;
  /// Largest accepted decompressed/compressed ratio of one buffer. Default 4096.
  int64_t max_compression_ratio;
  /// Largest nesting depth of fields. Default 64.
  int32_t max_depth;
};

/// Fills `opts` with the defaults above.
OTAP_API void otap_ipc_read_options_init(struct otap_ipc_read_options* opts);

/// What otap_ipc_decoder_pull produced.
enum otap_ipc_event {
  /// More bytes are needed (push them, or call otap_ipc_decoder_finish at end of input).
  OTAP_IPC_EVENT_NEED_MORE = 0,
  /// The Schema message was decoded (otap_ipc_decoder_get_schema now works).
  OTAP_IPC_EVENT_SCHEMA = 1,
  /// A DictionaryBatch was decoded and stored (no array is returned).
  OTAP_IPC_EVENT_DICTIONARY = 2,
  /// A RecordBatch was decoded into the output array (a struct array, one child per field).
  OTAP_IPC_EVENT_BATCH = 3,
  /// The end-of-stream marker (or a zero length) was read; later bytes are not decoded.
  OTAP_IPC_EVENT_END = 4,
};

/// Facts about the last message pulled, for inspection tools.
struct otap_ipc_message_info {
  /// Byte offset of the message (its continuation marker or length prefix) in the input.
  int64_t offset;
  /// Metadata (flatbuffer) length and body length in bytes.
  int64_t metadata_length;
  int64_t body_length;
  /// MetadataVersion as in Schema.fbs (3 = V4, 4 = V5).
  int32_t version;
  /// Rows of a record batch or dictionary batch.
  int64_t rows;
  /// Body compression of the batch.
  enum otap_ipc_compression compression;
  /// Dictionary batches: id and delta flag.
  int64_t dictionary_id;
  bool is_delta;
  /// True when the message used the pre-0.15 framing (no continuation marker).
  bool legacy_framing;
};

struct otap_ipc_decoder;

/// New push decoder for one IPC stream. `opts` may be NULL (defaults). Free with
/// otap_ipc_decoder_free. ENOMEM.
OTAP_API int otap_ipc_decoder_new(struct otap_ipc_decoder** out,
                                  const struct otap_ipc_read_options* opts,
                                  struct otap_error* err) OTAP_WUR;
/// Frees the decoder (NULL allowed). Arrays already pulled stay valid.
OTAP_API void otap_ipc_decoder_free(struct otap_ipc_decoder* dec);

/// Appends input bytes (copied into the decoder; use push_shared to avoid the copy). ENOMEM;
/// after an earlier error returns that error again.
OTAP_API int otap_ipc_decoder_push(struct otap_ipc_decoder* dec, const void* data, size_t size,
                                   struct otap_error* err) OTAP_WUR;
/// Appends input bytes held by a shared block (zero-copy: arrays point into `owner`, which
/// gets a new reference). `data` must lie inside owner.
OTAP_API int otap_ipc_decoder_push_shared(struct otap_ipc_decoder* dec, struct otap_shared* owner,
                                          const void* data, size_t size,
                                          struct otap_error* err) OTAP_WUR;
/// Decodes the next complete message, if any. Sets *event; for OTAP_IPC_EVENT_BATCH moves the
/// decoded record batch into *out (the caller releases it); `out` is untouched otherwise.
/// EINVAL (with the byte offset) on malformed input, ENOTSUP for big-endian data, Tensor
/// messages, unknown metadata versions; after an error the decoder only returns that error.
OTAP_API int otap_ipc_decoder_pull(struct otap_ipc_decoder* dec, enum otap_ipc_event* event,
                                   struct ArrowArray* out, struct otap_error* err) OTAP_WUR;
/// Declares end of input: EINVAL if bytes of an incomplete message remain or no schema was
/// seen. A stream may end without the end-of-stream marker.
OTAP_API int otap_ipc_decoder_finish(struct otap_ipc_decoder* dec, struct otap_error* err) OTAP_WUR;
/// Deep copy of the stream's schema (a struct schema, one child per field). EINVAL before the
/// schema message was decoded.
OTAP_API int otap_ipc_decoder_get_schema(const struct otap_ipc_decoder* dec, struct ArrowSchema* out,
                                         struct otap_error* err) OTAP_WUR;
/// The schema, borrowed (valid while the decoder lives), or NULL before the schema message.
OTAP_API const struct ArrowSchema* otap_ipc_decoder_schema(const struct otap_ipc_decoder* dec);
/// Information about the last message pulled. Borrowed.
OTAP_API const struct otap_ipc_message_info* otap_ipc_decoder_last_message(
    const struct otap_ipc_decoder* dec);
/// Dictionary ids of the dictionary-encoded fields, in depth-first field order (the order in
/// which schema nodes with a `dictionary` appear when walking children first-to-last). *ids is
/// borrowed. Returns the count.
OTAP_API int64_t otap_ipc_decoder_dictionary_ids(const struct otap_ipc_decoder* dec,
                                                 const int64_t** ids);
/// Total bytes consumed so far (offset of the next message).
OTAP_API int64_t otap_ipc_decoder_offset(const struct otap_ipc_decoder* dec);

/// ArrowArrayStream over the IPC stream in `data` (borrowed: must outlive the stream and every
/// array it produces unless `owner` is given, which is referenced instead). Zero-copy. Both
/// the streaming and the file format are accepted (detected from content). `opts` may be NULL.
OTAP_API int otap_ipc_reader_open_memory(struct ArrowArrayStream* out, const void* data,
                                         size_t size, struct otap_shared* owner,
                                         const struct otap_ipc_read_options* opts,
                                         struct otap_error* err) OTAP_WUR;
/// ArrowArrayStream reading an IPC stream sequentially from `fd` (file, pipe, stdin; not
/// closed by otap unless close_fd) in 1 MiB reads. File-format input (detected from its first
/// bytes) is read whole into memory first, since it needs the footer.
OTAP_API int otap_ipc_reader_open_fd(struct ArrowArrayStream* out, int fd, bool close_fd,
                                     const struct otap_ipc_read_options* opts,
                                     struct otap_error* err) OTAP_WUR;
/// ArrowArrayStream over an otap_source (moved in: *source is zeroed; released with the
/// stream). Zero-copy when the source supports view_at. Stream or file format.
OTAP_API int otap_ipc_reader_open_source(struct ArrowArrayStream* out, struct otap_source* source,
                                         const struct otap_ipc_read_options* opts,
                                         struct otap_error* err) OTAP_WUR;

// File format: random access.

struct otap_ipc_file_reader;

/// Opens an IPC file: reads and verifies the magic, footer, schema and dictionary blocks.
/// `source` is moved in (released by otap_ipc_file_reader_free, or at once on failure).
/// Files without a Schema message after the magic (as Arrow JS writes) are accepted.
/// EINVAL with the byte offset if malformed; ENOTSUP for big-endian or unknown versions.
OTAP_API int otap_ipc_file_reader_open(struct otap_ipc_file_reader** out,
                                       struct otap_source* source,
                                       const struct otap_ipc_read_options* opts,
                                       struct otap_error* err) OTAP_WUR;
/// Frees the reader (NULL allowed). Arrays already read stay valid.
OTAP_API void otap_ipc_file_reader_free(struct otap_ipc_file_reader* reader);
/// Schema from the footer (borrowed, valid while the reader lives).
OTAP_API const struct ArrowSchema* otap_ipc_file_reader_schema(
    const struct otap_ipc_file_reader* reader);
/// Number of record batches in the footer.
OTAP_API int64_t otap_ipc_file_reader_num_batches(const struct otap_ipc_file_reader* reader);
/// Number of dictionary blocks in the footer.
OTAP_API int64_t otap_ipc_file_reader_num_dictionaries(const struct otap_ipc_file_reader* reader);
/// Reads record batch i (0-based) into *out. EINVAL if i is out of range or the block is
/// malformed.
OTAP_API int otap_ipc_file_reader_read_batch(struct otap_ipc_file_reader* reader, int64_t i,
                                             struct ArrowArray* out,
                                             struct otap_error* err) OTAP_WUR;
/// Information on record batch i's message (after read_batch) or, when dictionary is true,
/// dictionary block i (rows, compression, id) without decoding arrays. Borrowed until the next
/// call.
OTAP_API int otap_ipc_file_reader_block_info(struct otap_ipc_file_reader* reader, bool dictionary,
                                             int64_t i, struct otap_ipc_message_info* out,
                                             struct otap_error* err) OTAP_WUR;
/// Dictionary ids of the dictionary-encoded fields (depth-first order). *ids borrowed.
OTAP_API int64_t otap_ipc_file_reader_dictionary_ids(const struct otap_ipc_file_reader* reader,
                                                     const int64_t** ids);
/// Moves the reader into an ArrowArrayStream yielding every batch in order (*reader becomes
/// owned by the stream; do not free it).
OTAP_API int otap_ipc_file_reader_to_stream(struct otap_ipc_file_reader* reader,
                                            struct ArrowArrayStream* out,
                                            struct otap_error* err) OTAP_WUR;

// Schema messages alone (used e.g. by Parquet's ARROW:schema hint).

/// Decodes one encapsulated Schema message (with or without continuation marker / length
/// prefix, or a bare Message flatbuffer) into a struct schema. Dictionary ids are dropped.
OTAP_API int otap_ipc_schema_decode(const void* data, size_t size, struct ArrowSchema* out,
                                    struct otap_error* err) OTAP_WUR;
/// Encodes `schema` (a struct schema) as an encapsulated Schema message (continuation marker,
/// length, flatbuffer, padding to 8) appended to `out`.
OTAP_API int otap_ipc_schema_encode(const struct ArrowSchema* schema, struct otap_buffer* out,
                                    struct otap_error* err) OTAP_WUR;

// ---------------------------------------------------------------------------------------------
// Writing

/// What a writer does when a later batch carries a dictionary different from the one already
/// written for the same field.
enum otap_ipc_dictionary_mode {
  /// Stream: a delta batch when the new dictionary extends the old one, else a replacement.
  /// File: a delta when it extends, else EINVAL (the file format forbids replacement).
  OTAP_IPC_DICTIONARY_AUTO = 0,
  /// Always a full replacement dictionary (stream only; EINVAL in files for a change).
  OTAP_IPC_DICTIONARY_REPLACE = 1,
};

struct otap_ipc_write_options {
  enum otap_ipc_compression compression;
  /// Codec level (0: codec default; zstd 1, lz4 default acceleration).
  int32_t compression_level;
  /// Buffers smaller than this are stored uncompressed (-1 length prefix). Default 0.
  int64_t min_compress_size;
  /// Extra schema-level custom metadata (C Data Interface encoding) merged after the
  /// schema's own; may be NULL. Borrowed.
  const char* metadata;
  enum otap_ipc_dictionary_mode dictionary_mode;
  /// Write the end-of-stream marker (streams) when finishing. Default true.
  bool write_eos;
};

/// Defaults: no compression, level 0, AUTO dictionaries, EOS marker written.
OTAP_API void otap_ipc_write_options_init(struct otap_ipc_write_options* opts);

struct otap_ipc_writer;

/// New writer of `format` (STREAM or FILE) to `sink` (borrowed: must outlive the writer; the
/// writer does not call sink->finish). `schema` (a struct schema, one child per column) is
/// copied; its Schema message is written at once. `opts` may be NULL. ENOTSUP for types
/// otap cannot write.
OTAP_API int otap_ipc_writer_new(struct otap_ipc_writer** out, struct otap_sink* sink,
                                 enum otap_ipc_format format, const struct ArrowSchema* schema,
                                 const struct otap_ipc_write_options* opts,
                                 struct otap_error* err) OTAP_WUR;
/// Writes one record batch (a struct array matching the schema; foreign arrays accepted;
/// borrowed) preceded by any needed dictionary batches.
OTAP_API int otap_ipc_writer_write(struct otap_ipc_writer* w, const struct ArrowArray* batch,
                                   struct otap_error* err) OTAP_WUR;
/// Ends the output: the end-of-stream marker for streams, the footer for files. The writer
/// accepts nothing afterwards.
OTAP_API int otap_ipc_writer_finish(struct otap_ipc_writer* w, struct otap_error* err) OTAP_WUR;
/// Bytes written so far.
OTAP_API int64_t otap_ipc_writer_bytes_written(const struct otap_ipc_writer* w);
/// Frees the writer (NULL allowed).
OTAP_API void otap_ipc_writer_free(struct otap_ipc_writer* w);

/// Drains `in` (not released) into `sink` as one IPC stream or file, then calls sink->finish.
OTAP_API int otap_ipc_write_array_stream(struct ArrowArrayStream* in, struct otap_sink* sink,
                                         enum otap_ipc_format format,
                                         const struct otap_ipc_write_options* opts,
                                         struct otap_error* err) OTAP_WUR;

#ifdef __cplusplus
}
#endif

#endif  // OTAP_IPC_H
