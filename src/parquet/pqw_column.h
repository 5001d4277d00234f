// Private: the writer's schema tree, leaf column state and shared helpers (pqw_*.c only).
#ifndef OTAP_PQW_COLUMN_H
#define OTAP_PQW_COLUMN_H

#include "parquet/pqw_internal.h"

#define PQW_MAX_DEPTH 32
#define PQW_GATHER 1024

enum pqw_kind { PQW_LEAF, PQW_STRUCT, PQW_LIST, PQW_MAP };

// How a leaf's Arrow values become Parquet physical values.
enum pqw_src {
  PQW_SRC_NULL,
  PQW_SRC_BOOL,
  PQW_SRC_I8,
  PQW_SRC_U8,
  PQW_SRC_I16,
  PQW_SRC_U16,
  PQW_SRC_I32,  // also u32, float, date32, time32(ms)
  PQW_SRC_I64,  // also u64, double, time64, timestamp(ms/us/ns), duration, date? no
  PQW_SRC_F16,
  PQW_SRC_DATE64,     // ms -> days (int32)
  PQW_SRC_I32_X1000,  // time32(s) -> ms
  PQW_SRC_I64_X1000,  // timestamp(s) -> ms
  PQW_SRC_DECIMAL,    // little-endian 16/32 bytes -> big-endian type_length bytes
  PQW_SRC_FSB,
  PQW_SRC_BYTES,
};

// Ordering used for statistics.
enum pqw_order {
  PQW_ORD_NONE,
  PQW_ORD_BOOL,
  PQW_ORD_I32,
  PQW_ORD_U32,
  PQW_ORD_I64,
  PQW_ORD_U64,
  PQW_ORD_F32,
  PQW_ORD_F64,
  PQW_ORD_F16,
  PQW_ORD_BYTES,   // unsigned lexicographic (strings, binary, plain FLBA)
  PQW_ORD_DEC_BE,  // signed big-endian two's complement (decimal FLBA)
};

enum pqw_logical {
  PQW_LT_NONE,
  PQW_LT_INT,
  PQW_LT_STRING,
  PQW_LT_DATE,
  PQW_LT_TIME,
  PQW_LT_TIMESTAMP,
  PQW_LT_DECIMAL,
  PQW_LT_FLOAT16,
  PQW_LT_UUID,
  PQW_LT_NULL,
  PQW_LT_LIST,
  PQW_LT_MAP,
};

struct pqw_node {
  enum pqw_kind kind;
  const char* name;  // borrowed from the writer's schema copy ("element"/"key_value" synthesized)
  bool nullable;
  int n_children;
  struct pqw_node* children;
  // Leaves
  enum otap_parquet_physical_type ptype;
  int32_t type_length;
  enum pqw_logical logical;
  int int_bits;
  bool int_signed;
  bool ts_utc;
  enum otap_time_unit unit;  // TIME/TIMESTAMP unit after coercion (MILLI/MICRO/NANO)
  int32_t precision, scale;
  enum pqw_src src;
  int src_width;  // DECIMAL: source bytes (16/32); FSB: width
  bool dict_src;  // Arrow dictionary-encoded leaf
  enum pqw_order order;
  int leaf_index;
};

struct pqw_chunk_meta;

// One leaf column with its page and chunk state.
struct pqw_column {
  char* path;  // dotted
  char** parts;
  int n_parts;
  const struct pqw_node* nodes[PQW_MAX_DEPTH];
  int child_pos[PQW_MAX_DEPTH];  // index of nodes[k] among its Arrow parent's children
  int n_nodes;
  int16_t max_def, max_rep;
  const struct pqw_node* leaf;
  int width;  // physical bytes per value (bool: 1), 0 for BYTE_ARRAY
  int64_t step;  // levels appended between page-size checks
  bool dict_enabled;
  enum otap_parquet_encoding plain_encoding;  // non-dictionary pages

  // Dictionary (one per column chunk)
  bool dict_mode;  // current pages are dictionary-encoded
  uint64_t* slots;  // (hash >> 32) << 32 | (entry + 1); 0 = empty
  int64_t slot_cap;
  uint64_t* entry_hash;
  int64_t n_dict, entry_cap;
  struct otap_buffer dict_values;   // PLAIN encoding of the entries
  struct otap_buffer dict_offsets;  // int64 start of each entry in dict_values (BYTE_ARRAY)
  int64_t dict_data_pages;
  int64_t dict_seen;  // values looked up in the dictionary in this chunk
  // Arrow dictionary leaves: Arrow index -> Parquet dictionary index for the current slice,
  // and the page generation in which the value last entered the page statistics.
  struct otap_buffer remap;      // int64 per Arrow dictionary entry, -1 = unseen
  struct otap_buffer remap_gen;  // int64 per Arrow dictionary entry
  int64_t page_gen;

  // Current page
  struct otap_buffer def, rep;  // uint16 levels
  struct otap_buffer idx;       // uint32 dictionary indices
  struct otap_buffer vals;      // raw / PLAIN values
  struct otap_buffer lens;      // int32 lengths (DELTA byte-array encodings)
  int64_t page_levels, page_values, page_rows;
  bool page_has_mm;
  struct otap_buffer page_min, page_max;

  // Current chunk
  struct otap_buffer chunk;  // page headers + bodies
  int64_t chunk_uncompressed, chunk_levels, chunk_nulls, chunk_rows;
  bool chunk_has_mm;
  struct otap_buffer chunk_min, chunk_max;
  int64_t plain_data_pages;
  int64_t empty_plain_pages;  // valueless PLAIN pages in dictionary mode (plain_encoding != PLAIN)
  // Page index of the chunk
  struct otap_buffer pi_locs;     // struct pqw_page_location
  struct otap_buffer pi_null;     // bool
  struct otap_buffer pi_nulls;    // int64 null counts
  struct otap_buffer pi_bounds;   // concatenated min,max bytes
  struct otap_buffer pi_offsets;  // int64 per page: min start, min len, max start, max len
  bool pi_valid;
};

#endif  // OTAP_PQW_COLUMN_H
