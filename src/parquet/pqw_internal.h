// Private declarations of the Parquet writer (never installed): Thrift compact encoder,
// metadata serializers, value/level encoders and compression wrappers.
#ifndef OTAP_PQW_INTERNAL_H
#define OTAP_PQW_INTERNAL_H

#include <string.h>

#include "otap/parquet_writer.h"

// ---------------------------------------------------------------------------------------------
// Thrift compact protocol encoder. Errors (ENOMEM) are sticky in `rc`; check it at the end.

enum pqw_ttype {
  PQW_T_STOP = 0,
  PQW_T_TRUE = 1,
  PQW_T_FALSE = 2,
  PQW_T_BYTE = 3,
  PQW_T_I16 = 4,
  PQW_T_I32 = 5,
  PQW_T_I64 = 6,
  PQW_T_DOUBLE = 7,
  PQW_T_BINARY = 8,
  PQW_T_LIST = 9,
  PQW_T_SET = 10,
  PQW_T_MAP = 11,
  PQW_T_STRUCT = 12,
};

#define PQW_THRIFT_MAX_DEPTH 32

struct pqw_thrift {
  struct otap_buffer* out;
  int16_t last_id[PQW_THRIFT_MAX_DEPTH];
  int depth;
  int rc;
};

void otap__pqw_tw_init(struct pqw_thrift* t, struct otap_buffer* out);
void otap__pqw_tw_varint(struct pqw_thrift* t, uint64_t v);
void otap__pqw_tw_field(struct pqw_thrift* t, int16_t id, enum pqw_ttype type);
void otap__pqw_tw_i32(struct pqw_thrift* t, int16_t id, int32_t v);
void otap__pqw_tw_i64(struct pqw_thrift* t, int16_t id, int64_t v);
void otap__pqw_tw_i8(struct pqw_thrift* t, int16_t id, int8_t v);
void otap__pqw_tw_bool(struct pqw_thrift* t, int16_t id, bool v);
void otap__pqw_tw_binary(struct pqw_thrift* t, int16_t id, const void* data, int64_t n);
void otap__pqw_tw_string(struct pqw_thrift* t, int16_t id, const char* s);
/// Begins a struct field (id > 0) or a struct list element (id == 0).
void otap__pqw_tw_struct_begin(struct pqw_thrift* t, int16_t id);
void otap__pqw_tw_struct_end(struct pqw_thrift* t);
/// Begins a list field; write `n` elements with the elem_* calls (structs: struct_begin(t, 0)).
void otap__pqw_tw_list_begin(struct pqw_thrift* t, int16_t id, enum pqw_ttype elem, int64_t n);
void otap__pqw_tw_elem_i32(struct pqw_thrift* t, int32_t v);
void otap__pqw_tw_elem_i64(struct pqw_thrift* t, int64_t v);
void otap__pqw_tw_elem_bool(struct pqw_thrift* t, bool v);
void otap__pqw_tw_elem_binary(struct pqw_thrift* t, const void* data, int64_t n);
/// Writes the STOP byte that ends a top-level struct (message).
void otap__pqw_tw_stop(struct pqw_thrift* t);

// ---------------------------------------------------------------------------------------------
// Metadata models serialized by pqw_meta.c (all pointers borrowed).

struct pqw_statistics {
  bool has_null_count;
  int64_t null_count;
  bool has_min_max;
  const uint8_t* min;
  int32_t min_len;
  const uint8_t* max;
  int32_t max_len;
};

struct pqw_page_header {
  enum otap_parquet_page_type type;
  int32_t uncompressed_size;
  int32_t compressed_size;
  int32_t num_values;
  enum otap_parquet_encoding encoding;
  // DATA_PAGE_V2 only
  int32_t num_nulls;
  int32_t num_rows;
  int32_t def_levels_len;
  int32_t rep_levels_len;
  bool is_compressed;
};

/// Writes a Statistics struct as field `id` of the current struct.
void otap__pqw_write_statistics(struct pqw_thrift* t, int16_t id, const struct pqw_statistics* s);

/// Appends a serialized PageHeader to out.
int otap__pqw_write_page_header(struct otap_buffer* out, const struct pqw_page_header* h) OTAP_WUR;

struct pqw_page_location {
  int64_t offset;
  int32_t compressed_size;
  int64_t first_row_index;
};

int otap__pqw_write_offset_index(struct otap_buffer* out, const struct pqw_page_location* locs,
                                 int64_t n) OTAP_WUR;

enum pqw_boundary_order { PQW_UNORDERED = 0, PQW_ASCENDING = 1, PQW_DESCENDING = 2 };

/// mins/maxs: n entries each (ignored for null pages: an empty binary is written).
int otap__pqw_write_column_index(struct otap_buffer* out, const bool* null_pages,
                                 const uint8_t* const* mins, const int32_t* min_lens,
                                 const uint8_t* const* maxs, const int32_t* max_lens,
                                 const int64_t* null_counts, int64_t n,
                                 enum pqw_boundary_order order) OTAP_WUR;

// ---------------------------------------------------------------------------------------------
// Encoders (raw C buffers in, encoded bytes appended to an otap_buffer).

/// Number of bits needed for v (0 for 0).
static inline int otap__pqw_bit_width(uint64_t v) { return v ? 64 - __builtin_clzll(v) : 0; }

/// RLE / bit-packed hybrid of n values of bit_width bits (no length prefix).
int otap__pqw_rle_encode_u16(struct otap_buffer* out, const uint16_t* v, int64_t n,
                             int bit_width) OTAP_WUR;
int otap__pqw_rle_encode_u32(struct otap_buffer* out, const uint32_t* v, int64_t n,
                             int bit_width) OTAP_WUR;
/// PLAIN booleans (bit-packed LSB first) from one byte (0/1) per value.
int otap__pqw_plain_bool(struct otap_buffer* out, const uint8_t* v, int64_t n) OTAP_WUR;
/// DELTA_BINARY_PACKED of int32 (32-bit wrapping arithmetic) or int64 values.
int otap__pqw_delta_encode_i32(struct otap_buffer* out, const int32_t* v, int64_t n) OTAP_WUR;
int otap__pqw_delta_encode_i64(struct otap_buffer* out, const int64_t* v, int64_t n) OTAP_WUR;
/// DELTA_LENGTH_BYTE_ARRAY of n values given as lengths + concatenated bytes.
int otap__pqw_delta_length_encode(struct otap_buffer* out, const int32_t* lens, const uint8_t* data,
                                  int64_t n) OTAP_WUR;
/// DELTA_BYTE_ARRAY (incremental / front coding) of n values given as lengths + bytes.
int otap__pqw_delta_byte_array_encode(struct otap_buffer* out, const int32_t* lens,
                                      const uint8_t* data, int64_t n) OTAP_WUR;
/// BYTE_STREAM_SPLIT of n values of `width` bytes.
int otap__pqw_byte_stream_split(struct otap_buffer* out, const uint8_t* v, int64_t n,
                                int width) OTAP_WUR;

// ---------------------------------------------------------------------------------------------
// Compression (pqw_compress.c). Appends the compressed form of data to out.

int otap__pqw_compress(enum otap_parquet_codec codec, int level, const uint8_t* data, int64_t n,
                       struct otap_buffer* out, struct otap_error* err) OTAP_WUR;

/// Reusable codec state of one writer (a ZSTD compression context, created on first use).
struct pqw_codec_ctx {
  void* zstd;
};
/// As otap__pqw_compress, reusing `ctx` (may be NULL) across pages.
int otap__pqw_compress_ctx(struct pqw_codec_ctx* ctx, enum otap_parquet_codec codec, int level,
                           const uint8_t* data, int64_t n, struct otap_buffer* out,
                           struct otap_error* err) OTAP_WUR;
void otap__pqw_codec_ctx_reset(struct pqw_codec_ctx* ctx);

#endif  // OTAP_PQW_INTERNAL_H
