// libFuzzer target: a whole Parquet file (footer, schema, pages, assembly) read from memory,
// plus the raw bytes decoded directly as each Thrift structure the reader parses.
#include <stdint.h>
#include <string.h>

#include "parquet/parquet_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

#define IGNORE(x) \
  do {            \
    if (x) {      \
    }             \
  } while (0)

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  struct otap_error err;
  // Thrift structures on their own.
  struct pq_arena arena = {0};
  struct otap_parquet_file_metadata meta;
  IGNORE(otap__pq_decode_file_metadata(data, size, 0, &arena, &meta, &err));
  otap__pq_arena_reset(&arena);
  struct pq_page_header h;
  size_t hl;
  IGNORE(otap__pq_decode_page_header(data, size, 0, &h, &hl, &err));
  struct otap_parquet_offset_index oi;
  if (otap__pq_decode_offset_index(data, size, 0, &oi, &err) == 0) otap_parquet_offset_index_reset(&oi);
  struct otap_parquet_column_index ci;
  if (otap__pq_decode_column_index(data, size, 0, &ci, &err) == 0) otap_parquet_column_index_reset(&ci);

  // The whole file, with small resource caps.
  struct otap_source src;
  if (otap_source_init_memory(&src, data, size, "fuzz", &err) != 0) return 0;
  struct otap_parquet_reader_options opts;
  otap_parquet_reader_options_init(&opts);
  opts.max_page_size = 16 << 20;
  opts.max_chunk_size = 64 << 20;
  opts.batch_size = 100;
  opts.verify_page_crc = size & 1;
  opts.dictionary_as_arrow_dictionary = (size >> 1) & 1;
  struct otap_parquet_reader* r;
  if (otap_parquet_reader_open(&r, &src, &opts, &err) == 0) {
    const struct otap_parquet_file_metadata* m = otap_parquet_reader_metadata(r);
    for (int32_t g = 0; g < m->n_row_groups && g < 4; g++) {
      for (int32_t c = 0; c < m->row_groups[g].n_columns && c < 4; c++) {
        if (otap_parquet_reader_offset_index(r, g, c, &oi, &err) == 0) otap_parquet_offset_index_reset(&oi);
        if (otap_parquet_reader_column_index(r, g, c, &ci, &err) == 0) otap_parquet_column_index_reset(&ci);
      }
    }
    for (int i = 0; i < 1000; i++) {
      struct ArrowArray a;
      if (otap_parquet_reader_next(r, &a, &err) != 0 || !a.release) break;
      a.release(&a);
    }
    otap_parquet_reader_free(r);
  }
  otap_source_release(&src);
  return 0;
}
