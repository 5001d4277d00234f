// Private declarations of the Parquet reader (never installed).
#ifndef OTAP_PARQUET_INTERNAL_H
#define OTAP_PARQUET_INTERNAL_H

#include <string.h>

#include "otap/parquet.h"

// ---------------------------------------------------------------------------------------------
// Caps applied to values read from files before anything is allocated.

#define PQ_MAX_THRIFT_DEPTH 64
#define PQ_MAX_FOOTER_SIZE ((int64_t)256 << 20)
#define PQ_MAX_PAGE_HEADER_SIZE ((int64_t)16 << 20)
#define PQ_MAX_SCHEMA_DEPTH 64
#define PQ_MAX_LEVEL 255

// ---------------------------------------------------------------------------------------------
// Arena: many small allocations freed together (decoded metadata).

struct pq_arena_block;
struct pq_arena {
  struct pq_arena_block* head;
};
void* otap__pq_arena_alloc(struct pq_arena* a, size_t size);  // zeroed, 16-aligned; NULL=ENOMEM
char* otap__pq_arena_strndup(struct pq_arena* a, const uint8_t* s, size_t n);
void otap__pq_arena_reset(struct pq_arena* a);

// ---------------------------------------------------------------------------------------------
// Thrift compact protocol decoder (bounded).

enum pq_ttype {
  PQ_T_STOP = 0,
  PQ_T_TRUE = 1,
  PQ_T_FALSE = 2,
  PQ_T_BYTE = 3,
  PQ_T_I16 = 4,
  PQ_T_I32 = 5,
  PQ_T_I64 = 6,
  PQ_T_DOUBLE = 7,
  PQ_T_BINARY = 8,
  PQ_T_LIST = 9,
  PQ_T_SET = 10,
  PQ_T_MAP = 11,
  PQ_T_STRUCT = 12,
};

struct pq_thrift {
  const uint8_t* start;
  const uint8_t* p;
  const uint8_t* end;
  int depth;
  int64_t base_offset;  // file offset of `start`, for messages
  const char* what;     // "footer", "page header", ...
  struct otap_error* err;
};

void otap__pq_thrift_init(struct pq_thrift* t, const uint8_t* data, size_t n, int64_t base_offset,
                          const char* what, struct otap_error* err);

/// Decodes FileMetaData from `data` (which must outlive `out`: byte fields point into it).
int otap__pq_decode_file_metadata(const uint8_t* data, size_t n, int64_t base_offset,
                                  struct pq_arena* arena, struct otap_parquet_file_metadata* out,
                                  struct otap_error* err) OTAP_WUR;

struct pq_page_header {
  int32_t type;
  int32_t uncompressed_page_size;
  int32_t compressed_page_size;
  bool has_crc;
  uint32_t crc;
  // data page v1 / v2 / dictionary
  int32_t num_values;
  int32_t encoding;
  int32_t def_encoding, rep_encoding;  // v1
  int32_t num_nulls, num_rows;         // v2
  int32_t def_length, rep_length;      // v2
  bool is_compressed;                  // v2 (default true)
  bool has_data_v1, has_data_v2, has_dict;
  bool dict_sorted;
};

/// Decodes a PageHeader at the start of [data, data+n); *header_len = bytes consumed.
int otap__pq_decode_page_header(const uint8_t* data, size_t n, int64_t base_offset,
                                struct pq_page_header* out, size_t* header_len,
                                struct otap_error* err) OTAP_WUR;

int otap__pq_decode_offset_index(const uint8_t* data, size_t n, int64_t base_offset,
                                 struct otap_parquet_offset_index* out,
                                 struct otap_error* err) OTAP_WUR;
/// `data` must stay alive (min/max point into it).
int otap__pq_decode_column_index(const uint8_t* data, size_t n, int64_t base_offset,
                                 struct otap_parquet_column_index* out,
                                 struct otap_error* err) OTAP_WUR;

// ---------------------------------------------------------------------------------------------
// Decompression: exactly dst_len bytes must come out of src (else EINVAL).

int otap__pq_decompress(int32_t codec, const uint8_t* src, size_t src_len, uint8_t* dst,
                        size_t dst_len, struct otap_error* err) OTAP_WUR;

// ---------------------------------------------------------------------------------------------
// Encodings

/// RLE / bit-packed hybrid decoder (levels, dictionary indices, RLE booleans).
struct pq_rle {
  const uint8_t* p;
  const uint8_t* end;
  int bit_width;
  uint32_t rle_left;   // values left in the current RLE run
  uint32_t rle_value;
  uint32_t bp_left;    // values left in the current bit-packed run
  const uint8_t* bp;   // bit-packed data cursor
  uint32_t bp_bit;     // bit offset inside the bit-packed run
};
void otap__pq_rle_init(struct pq_rle* r, const uint8_t* data, size_t n, int bit_width);
/// Decodes exactly n values into out; EINVAL when the data runs out or is malformed.
int otap__pq_rle_get(struct pq_rle* r, uint32_t* out, int64_t n, struct otap_error* err) OTAP_WUR;
/// Same into int16 levels; values above max_level are EINVAL. *n_max (if not NULL) = number of
/// levels equal to max_level.
int otap__pq_rle_get_levels(struct pq_rle* r, int16_t* out, int64_t n, int16_t max_level,
                            int64_t* n_max, struct otap_error* err) OTAP_WUR;

/// Deprecated BIT_PACKED levels (MSB-first packing): n levels from data.
int otap__pq_bitpacked_levels(const uint8_t* data, size_t len, int bit_width, int16_t* out,
                              int64_t n, int16_t max_level, size_t* consumed,
                              struct otap_error* err) OTAP_WUR;

/// LSB-first bit unpacking of n values of bit_width (0..64) from data (len bytes available).
int otap__pq_unpack_bits(const uint8_t* data, size_t len, int bit_width, uint64_t* out, int64_t n,
                         struct otap_error* err) OTAP_WUR;

/// DELTA_BINARY_PACKED: decodes up to `n` values (the page's count) as int64 (int32 columns
/// wrap to 32 bits by the caller). *consumed = bytes used. Writes exactly n values.
int otap__pq_delta_binary_decode(const uint8_t* data, size_t len, int64_t* out, int64_t n,
                                 bool is_int32, size_t* consumed, struct otap_error* err) OTAP_WUR;
/// Number of values a DELTA_BINARY_PACKED header announces.
int otap__pq_delta_binary_count(const uint8_t* data, size_t len, int64_t* count,
                                struct otap_error* err) OTAP_WUR;

/// Binary values: offsets (n+1 int64 entries, first is 0) and data.
struct pq_binary {
  struct otap_buffer offsets;  // int64_t
  struct otap_buffer data;
};
int otap__pq_plain_binary_decode(const uint8_t* data, size_t len, int64_t n, struct pq_binary* out,
                                 size_t* consumed, struct otap_error* err) OTAP_WUR;
int otap__pq_delta_length_decode(const uint8_t* data, size_t len, int64_t n, struct pq_binary* out,
                                 struct otap_error* err) OTAP_WUR;
int otap__pq_delta_byte_array_decode(const uint8_t* data, size_t len, int64_t n,
                                     struct pq_binary* out, struct otap_error* err) OTAP_WUR;
/// BYTE_STREAM_SPLIT of n values of `width` bytes into out (n*width bytes).
int otap__pq_byte_stream_split_decode(const uint8_t* data, size_t len, int width, int64_t n,
                                      uint8_t* out, struct otap_error* err) OTAP_WUR;
/// PLAIN booleans (LSB-first bits) into bytes 0/1.
int otap__pq_plain_bool_decode(const uint8_t* data, size_t len, int64_t n, uint8_t* out,
                               struct otap_error* err) OTAP_WUR;

uint32_t otap__pq_crc32(const uint8_t* data, size_t n);

// ---------------------------------------------------------------------------------------------
// Arrow arrays and schemas built by this module (C Data Interface, own release callbacks).

/// Creates an array node with n_buffers buffers (each moved from bufs[i], may be empty/NULL)
/// and n_children zeroed child arrays (caller fills them through out->children[i]).
int otap__pq_array_make(struct ArrowArray* out, int64_t length, int64_t null_count, int n_buffers,
                        struct otap_buffer* bufs, int64_t n_children, bool with_dictionary) OTAP_WUR;
/// New reference to an array made by otap__pq_array_make with offset/length changed
/// (children are referenced unchanged).
int otap__pq_array_slice(const struct ArrowArray* src, int64_t offset, int64_t length,
                         struct ArrowArray* out) OTAP_WUR;
/// Builds a schema node (format/name copied) with n zeroed children.
int otap__pq_schema_make(struct ArrowSchema* out, const char* format, const char* name,
                         bool nullable, int64_t n_children) OTAP_WUR;
int otap__pq_schema_set_metadata(struct ArrowSchema* s, const char* metadata, int64_t len) OTAP_WUR;
void otap__pq_schema_add_dictionary(struct ArrowSchema* s);
int otap__pq_schema_copy(const struct ArrowSchema* src, struct ArrowSchema* out) OTAP_WUR;
/// Output buffer pool (see pq_array.c). The reader sets otap__pq_current_pool around the
/// assembly of a batch; otap__pq_out_* take pooled memory for fresh output buffers and
/// otap__pq_array_make hands buffers back to the pool when the consumer releases them.
struct pq_pool;
extern _Thread_local struct pq_pool* otap__pq_current_pool;
int otap__pq_pool_new(struct pq_pool** out) OTAP_WUR;
void otap__pq_pool_close(struct pq_pool* p);
int otap__pq_out_reserve(struct otap_buffer* b, int64_t n) OTAP_WUR;
int otap__pq_out_resize(struct otap_buffer* b, int64_t n, bool zero_fill) OTAP_WUR;
int otap__pq_out_append(struct otap_buffer* b, const void* data, int64_t n) OTAP_WUR;

/// Byte size of a C Data Interface metadata blob (0 for NULL).
int64_t otap__pq_metadata_len(const char* metadata);

// ---------------------------------------------------------------------------------------------
// Schema tree: Parquet schema elements mapped to Arrow nodes.

enum pq_node_kind {
  PQ_NODE_LEAF,
  PQ_NODE_STRUCT,
  PQ_NODE_LIST,  // child[0] = element
  PQ_NODE_MAP,   // child[0] = struct{key, value}
};

/// How a leaf's physical values become Arrow values.
enum pq_conv {
  PQ_CONV_COPY,        // same bytes (int32->int32, int64->int64, float, double, flba->fsb)
  PQ_CONV_BOOL,        // bytes 0/1 -> bitmap
  PQ_CONV_I32_TO_I8,   // narrowing
  PQ_CONV_I32_TO_I16,
  PQ_CONV_I32_TO_I64,  // uint32 widen etc. (unused by default)
  PQ_CONV_INT96,       // INT96 -> timestamp
  PQ_CONV_DEC_I32,     // int32 -> decimal128/256
  PQ_CONV_DEC_I64,
  PQ_CONV_DEC_BYTES,   // big-endian bytes (FLBA or BYTE_ARRAY) -> decimal
  PQ_CONV_BINARY,      // BYTE_ARRAY -> binary/utf8 (int32 offsets)
  PQ_CONV_NULL,        // UNKNOWN logical type: Arrow null array
  PQ_CONV_TS_SCALE,    // int64 timestamp scaled (unused by default)
};

struct pq_node {
  enum pq_node_kind kind;
  const struct otap_parquet_schema_element* elem;  // NULL for synthesized nodes
  char* name;                                      // Arrow field name (arena)
  bool nullable;
  int16_t def;       // def level at which this node is non-null
  int16_t slot_def;  // def level at which a slot exists for this node
  int16_t rep;       // rep level of this node's slot context
  int16_t elem_def;  // LIST/MAP: def level at which an element slot exists
  int32_t leaf;      // LEAF: column index; else first leaf below
  int32_t n_children;
  struct pq_node** children;
  // leaf conversion
  enum pq_conv conv;
  int32_t value_width;      // Arrow value width in bytes (fixed types)
  int32_t decimal_bytes;    // 16 or 32
  bool as_dictionary;       // emit dictionary<int32, values>
  enum otap_time_unit int96_unit;
  char format[64];          // Arrow format of this node (dictionary: of the values)
  char index_format[4];     // dictionary index type ("i" unless the ARROW:schema hint says)
  const char* metadata;     // field metadata from the ARROW:schema hint (borrowed), or NULL
};

/// One leaf column's decoded chunk: levels and values (dense, non-null only).
struct pq_leaf_data {
  int64_t n_levels;
  int16_t* def;  // NULL when max_def == 0
  int16_t* rep;  // NULL when max_rep == 0
  int64_t n_values;
  struct otap_buffer fixed;  // fixed-width physical values (bool: 1 byte each)
  struct pq_binary bin;      // BYTE_ARRAY values
  // dictionary mode: indices into dict (n_values of them)
  bool dict_mode;
  struct otap_buffer indices;  // int32
  int64_t dict_len;
  struct otap_buffer dict_fixed;
  struct pq_binary dict_bin;
  struct otap_buffer def_buf, rep_buf;
  struct ArrowArray dict_array;  // dictionary output of the chunk (dict_mode), built once
  int64_t used_values;           // values the last assembled batch took (set by the assembler)
  int64_t head_levels;           // consumed levels still at the front of def_buf/rep_buf
  int64_t head_values;           // consumed values still at the front of the value buffers
};
void otap__pq_leaf_data_reset(struct pq_leaf_data* d);

/// Decoding state of one column chunk: pages are decoded on demand, batch by batch; `d` holds
/// the decoded levels and values that were not consumed yet.
struct pq_chunk {
  struct pq_leaf_data d;
  struct pq_leaf_data* out;  // == &d
  struct otap_parquet_reader* r;
  const struct otap_parquet_column_chunk* cc;
  const struct pq_column_desc* desc;
  const struct pq_node* node;
  int32_t rg, col;
  int pw;
  bool has_dict;
  bool open;
  int64_t page_offset;
  const uint8_t* data;
  int64_t start, len, pos;
  struct otap_buffer own;  // chunk bytes when the source has no view_at
  int64_t levels_total;    // levels decoded so far
  int64_t rows_total;      // row starts decoded so far
  int64_t row_starts;      // row starts among the buffered levels
  struct otap_error* err;
};

struct pq_column_desc {
  const struct otap_parquet_schema_element* elem;
  int16_t max_def, max_rep;
  char* path;  // dotted (arena)
};

#endif  // OTAP_PARQUET_INTERNAL_H

// ---------------------------------------------------------------------------------------------
// Reader state (shared by pq_schema.c, pq_column.c, pq_assemble.c, pq_reader.c)

struct otap_parquet_reader {
  struct otap_source* source;
  const char* name;  // for messages
  uint64_t file_size;
  struct otap_parquet_reader_options opts;
  struct otap_buffer footer;  // raw Thrift footer (metadata byte fields point into it)
  struct pq_arena arena;
  struct otap_parquet_file_metadata meta;
  // schema
  int32_t n_leaves;
  struct pq_column_desc* leaves;       // arena
  int32_t n_top;                       // projected top-level nodes
  struct pq_node** top;                // arena
  struct ArrowSchema schema;           // +s of the projected columns
  const struct ArrowSchema* hint;      // ARROW:schema decoded (may be NULL)
  struct ArrowSchema hint_store;
  // iteration
  int32_t n_rg_sel;
  int32_t* rg_sel;  // arena
  int32_t rg_pos;
  struct pq_rg_state* rg;       // chunks of the row group being read
  struct pq_pool* pool;         // output buffer pool
  int failed;                   // error code of a failed next(): the iteration stays failed
  int32_t cur_rg;               // -1 when none is open
  int64_t rows_left;            // rows of cur_rg not returned yet
  struct otap_buffer scratch;   // decompression
  struct otap_buffer chunk;     // column chunk bytes when the source has no view_at
};

/// Builds leaves, the Arrow node tree of the projected columns and reader->schema.
int otap__pq_schema_build(struct otap_parquet_reader* r, struct otap_error* err) OTAP_WUR;

/// Opens column `col` of row group `rg` (reads or views the chunk bytes; decodes nothing).
int otap__pq_chunk_open(struct otap_parquet_reader* r, int32_t rg, int32_t col,
                        const struct pq_node* leaf_node, struct pq_chunk* c,
                        struct otap_error* err) OTAP_WUR;
/// Decodes pages until at least `rows` complete rows are buffered (EINVAL if the chunk ends
/// before).
int otap__pq_chunk_fill(struct pq_chunk* c, int64_t rows, struct otap_error* err) OTAP_WUR;
/// Levels that make up the first `rows` buffered rows (the values they hold are counted by the
/// assembler into d.used_values).
void otap__pq_chunk_span(const struct pq_chunk* c, int64_t rows, int64_t* n_levels);
/// Drops the first `rows` rows (n_levels levels, n_values values) from the buffer.
void otap__pq_chunk_consume(struct pq_chunk* c, int64_t rows, int64_t n_levels, int64_t n_values);
/// Makes the value buffers start at the first unconsumed value (on = true) for the assembler,
/// or restores them (on = false).
void otap__pq_chunk_view(struct pq_chunk* c, bool on);
/// At the end of the row group: checks that the chunk holds exactly the rows and values the
/// footer announced.
int otap__pq_chunk_finish(struct pq_chunk* c, struct otap_error* err) OTAP_WUR;
void otap__pq_chunk_close(struct pq_chunk* c);

/// Assembles the Arrow array of node `n` from the decoded leaves (indexed by column; each
/// leaf's n_levels/n_values delimit the batch).
int otap__pq_assemble(const struct pq_node* n, struct pq_leaf_data** leaves, struct ArrowArray* out,
                      struct otap_error* err) OTAP_WUR;

/// Decodes an `ARROW:schema` value (base64 IPC Schema message) into an ArrowSchema (ENOTSUP or
/// EINVAL when it cannot be used; callers then ignore the hint).
int otap__pq_arrow_schema_hint(const char* b64, int64_t len, struct ArrowSchema* out,
                               struct otap_error* err) OTAP_WUR;
