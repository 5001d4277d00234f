// Private declarations of the ipc module.
#ifndef OTAP_IPC_INTERNAL_H
#define OTAP_IPC_INTERNAL_H

#include "ipc/flatbuf.h"
#include "otap/ipc.h"

// MessageHeader union members (Message.fbs).
enum {
  OTAP__MH_NONE = 0,
  OTAP__MH_SCHEMA = 1,
  OTAP__MH_DICTIONARY = 2,
  OTAP__MH_RECORD_BATCH = 3,
  OTAP__MH_TENSOR = 4,
  OTAP__MH_SPARSE_TENSOR = 5,
};

// MetadataVersion (Schema.fbs): V1..V5 = 0..4.
#define OTAP__IPC_V4 3
#define OTAP__IPC_V5 4

#define OTAP__IPC_CONTINUATION 0xFFFFFFFFu

struct otap__ipc_batch_meta {
  int64_t length;
  const uint8_t* nodes;  // n_nodes FieldNode structs (16 bytes: length, null_count)
  uint32_t n_nodes;
  const uint8_t* buffers;  // n_buffers Buffer structs (16 bytes: offset, length)
  uint32_t n_buffers;
  const uint8_t* variadic;  // n_variadic int64
  uint32_t n_variadic;
  enum otap_ipc_compression compression;
};

struct otap__ipc_message {
  int16_t version;
  uint8_t header_type;
  int64_t body_length;
  struct otap__fb_table header;
  struct otap__ipc_batch_meta batch;  // RecordBatch or DictionaryBatch.data
  int64_t dict_id;
  bool is_delta;
};

/// Decodes a Message flatbuffer (verifying it). ENOTSUP for unsupported versions / headers.
int otap__ipc_message_decode(const struct otap__fb* fb, struct otap__ipc_message* out,
                             struct otap_error* err);

/// A decoded schema and its dictionary fields.
struct otap__ipc_schema {
  struct ArrowSchema schema;  // struct schema; release == NULL when unset
  int64_t n_dicts;
  int64_t* dict_ids;               // per dictionary-encoded node, depth-first order
  struct ArrowSchema** dict_nodes;  // borrowed pointers into schema (the index node)
};

/// Decodes a Schema table into out (zeroed first). big-endian -> ENOTSUP.
int otap__ipc_schema_decode(const struct otap__fb_table* tbl, int32_t max_depth,
                            struct otap__ipc_schema* out, struct otap_error* err);
void otap__ipc_schema_reset(struct otap__ipc_schema* s);
/// Index in s->dict_ids of dictionary id `id`, or -1.
int64_t otap__ipc_schema_find_dict(const struct otap__ipc_schema* s, int64_t id);

/// Adds a Schema table for `schema` (a struct schema) to b; dictionary ids are assigned
/// 0, 1, ... in depth-first order. *out_ref is the table reference.
int otap__ipc_schema_build(struct otap__fbb* b, const struct ArrowSchema* schema,
                           const char* extra_metadata, uint32_t* out_ref, struct otap_error* err);

/// Frames a finished Message flatbuffer: continuation, int32 length (padded to 8), flatbuffer,
/// zero padding. Appends to out.
int otap__ipc_frame(struct otap_buffer* out, const uint8_t* fb, uint32_t fb_size,
                    struct otap_error* err);

/// Body decoding context (shared by stream and file readers).
struct otap__ipc_dict_state {
  struct ArrowArray* arrays;  // one per schema dictionary (release NULL until seen)
  bool* seen;
};

struct otap__ipc_decode_ctx {
  const struct otap_ipc_read_options* opts;
  const struct otap__ipc_schema* schema;
  struct otap__ipc_dict_state* dicts;
  int64_t msg_offset;  // offset of the message in the input, for errors
  struct otap__ipc_codecs* codecs;
};

/// Decodes a RecordBatch message body into a struct array (validated per opts).
int otap__ipc_decode_batch(const struct otap__ipc_decode_ctx* ctx, const struct otap__ipc_message* msg,
                           struct otap_shared* body_owner, const uint8_t* body,
                           int64_t body_len, struct ArrowArray* out, struct otap_error* err);
/// Decodes a DictionaryBatch (delta appends, else replaces; file readers pass
/// allow_replace = false).
int otap__ipc_decode_dictionary(const struct otap__ipc_decode_ctx* ctx,
                                const struct otap__ipc_message* msg, struct otap_shared* body_owner,
                                const uint8_t* body, int64_t body_len, bool allow_replace,
                                struct otap_error* err);
int otap__ipc_dict_state_init(struct otap__ipc_dict_state* d, int64_t n, struct otap_error* err);
void otap__ipc_dict_state_reset(struct otap__ipc_dict_state* d, int64_t n);

/// Parses a message prefix at data[0..avail): sets *prefix_len (4 legacy / 8), *meta_len
/// (flatbuffer length incl. padding, 0 = end of stream) and *legacy. Returns EAGAIN when fewer
/// than 8 (or 4) bytes are available, EINVAL for a negative/oversized length.
int otap__ipc_parse_prefix(const uint8_t* data, size_t avail, int64_t offset, int64_t max_meta,
                           uint32_t* prefix_len, int64_t* meta_len, bool* legacy,
                           struct otap_error* err);

/// Codec contexts reused across buffers (one per reader/writer; not thread-safe).
struct otap__ipc_codecs {
  void* zstd_dctx;
  void* lz4_dctx;
  void* zstd_cctx;
};
void otap__ipc_codecs_reset(struct otap__ipc_codecs* c);

/// Codec helpers. `cc` may be NULL (a context is made per call).
int otap__ipc_decompress(struct otap__ipc_codecs* cc, enum otap_ipc_compression codec,
                         const uint8_t* src, int64_t src_len, uint8_t* dst, int64_t dst_len,
                         struct otap_error* err);
/// Compresses src into dst (capacity from otap__ipc_compress_bound); *out_len set.
int64_t otap__ipc_compress_bound(enum otap_ipc_compression codec, int64_t n);
int otap__ipc_compress(struct otap__ipc_codecs* cc, enum otap_ipc_compression codec, int level,
                       const uint8_t* src,
                       int64_t n, uint8_t* dst, int64_t cap, int64_t* out_len,
                       struct otap_error* err);

#endif
