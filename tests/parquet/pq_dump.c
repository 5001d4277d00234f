// pq_dump FILE [--int96-micros] [--dict] [--batch N] [--crc] [--no-hint] [--schema]: prints
// every row of a Parquet file as one JSON object per line (test tool for the interop tests; the
// CLI's `otap cat` is the user-facing equivalent). --schema prints only the Arrow types.
#include <stdlib.h>
#include <string.h>

#include "pq_json_out.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: pq_dump FILE [--int96-micros] [--dict] [--batch N] [--crc]\n");
    return 2;
  }
  struct otap_parquet_reader_options opts;
  otap_parquet_reader_options_init(&opts);
  bool schema_only = false;
  for (int i = 2; i < argc; i++) {
    if (strcmp(argv[i], "--int96-micros") == 0) opts.int96_unit = OTAP_TIME_UNIT_MICRO;
    else if (strcmp(argv[i], "--dict") == 0) opts.dictionary_as_arrow_dictionary = true;
    else if (strcmp(argv[i], "--crc") == 0) opts.verify_page_crc = true;
    else if (strcmp(argv[i], "--no-hint") == 0) opts.use_arrow_schema_hint = false;
    else if (strcmp(argv[i], "--schema") == 0) schema_only = true;
    else if (strcmp(argv[i], "--batch") == 0 && i + 1 < argc) opts.batch_size = atoll(argv[++i]);
  }
  struct otap_error err = {{0}};
  struct ArrowArrayStream st;
  if (otap_parquet_open_stream(argv[1], &opts, &st, &err)) {
    fprintf(stderr, "pq_dump: %s\n", err.message);
    return 1;
  }
  struct ArrowSchema schema;
  if (st.get_schema(&st, &schema)) {
    fprintf(stderr, "pq_dump: %s\n", st.get_last_error(&st));
    st.release(&st);
    return 1;
  }
  if (schema_only) {
    printf("{");
    for (int64_t k = 0; k < schema.n_children; k++) {
      char t[1024];
      otap_schema_format_type(schema.children[k], t, sizeof(t));
      printf("%s\"%s\":\"%s\"", k ? "," : "", schema.children[k]->name, t);
    }
    printf("}\n");
    schema.release(&schema);
    st.release(&st);
    return 0;
  }
  int rc = 0;
  struct otap_buffer line;
  otap_buffer_init(&line);
  for (;;) {
    struct ArrowArray a;
    if (st.get_next(&st, &a)) {
      fprintf(stderr, "pq_dump: %s\n", st.get_last_error(&st));
      rc = 1;
      break;
    }
    if (!a.release) break;
    for (int64_t r = 0; r < a.length; r++) {
      line.size = 0;
      pq_test_json_row(&line, &schema, &a, r);
      fwrite(line.data, 1, (size_t)line.size, stdout);
      fputc('\n', stdout);
    }
    a.release(&a);
  }
  otap_buffer_reset(&line);
  schema.release(&schema);
  st.release(&st);
  return rc;
}
