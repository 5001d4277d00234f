// ipc_tool: a small test helper driving otap's IPC reader and writer for the interop tests
// (tests/interop/ipc_*.mjs). Not installed.
//
//   ipc_tool cat IN                      rows of an IPC stream/file as JSON lines (line 1: schema)
//   ipc_tool convert IN OUT [opts]       read IN with otap, write OUT with otap
//   ipc_tool json2ipc IN.json[.gz] OUT [opts]   integration JSON -> IPC written by otap
//   ipc_tool check IN EXPECTED.json[.gz] [--by-value]   read IN, compare with the JSON
//   ipc_tool messages IN                 one JSON line per message (dictionary/batch, id,
//                                        delta flag, rows, compression) as otap decodes it
// opts: --to stream|file   --compression none|lz4|zstd   --dictionary auto|replace
//
// JSON lines values: null; bool; 8-32 bit ints, date32, time32 as numbers; 64-bit ints,
// timestamps, date64, time64, durations as decimal strings (raw, no unit conversion); floats
// as numbers (NaN/Infinity as strings); utf8 as strings; binary, fixed-size binary and
// decimals as lowercase hex of the little-endian bytes; structs as objects; lists as arrays;
// maps as arrays of [key, value]; dictionaries decoded to their values.
// Exit status: 0 success, 1 failure (message on stderr), 2 usage.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "otap/arrow.h"
#include "otap/ipc.h"
#include "support/arrow_compare.h"
#include "support/integration_json.h"

struct batches {
  struct ArrowSchema schema;
  int64_t n;
  struct ArrowArray* arrays;
};

static void batches_reset(struct batches* b) {
  for (int64_t i = 0; i < b->n; i++) otap_array_release(&b->arrays[i]);
  free(b->arrays);
  otap_schema_release(&b->schema);
  memset(b, 0, sizeof(*b));
}

// Reads a whole IPC stream or file (content-detected) with otap's memory reader. `data`
// must outlive the arrays.
static int read_ipc(const struct otap_buffer* data, struct batches* out, struct otap_error* err) {
  struct ArrowArrayStream s;
  memset(out, 0, sizeof(*out));
  int rc = otap_ipc_reader_open_memory(&s, data->data, (size_t)data->size, NULL, NULL, err);
  if (rc != 0) return rc;
  rc = s.get_schema(&s, &out->schema);
  while (rc == 0) {
    struct ArrowArray a;
    memset(&a, 0, sizeof(a));
    rc = s.get_next(&s, &a);
    if (rc != 0 || !a.release) break;
    struct ArrowArray* grown = realloc(out->arrays, (size_t)(out->n + 1) * sizeof(*grown));
    if (!grown) {
      otap_array_release(&a);
      rc = ENOMEM;
      break;
    }
    out->arrays = grown;
    otap_array_move(&a, &out->arrays[out->n++]);
  }
  if (rc != 0) {
    const char* m = s.get_last_error(&s);
    otap_error_set(err, rc, "%s", m ? m : "read failed");
  }
  s.release(&s);
  return rc;
}

// ---------------------------------------------------------------------------------------------
// JSON lines

static void put_string(FILE* out, const uint8_t* p, int64_t n) {
  fputc('"', out);
  for (int64_t i = 0; i < n; i++) {
    uint8_t c = p[i];
    if (c == '"' || c == '\\') {
      fputc('\\', out);
      fputc(c, out);
    } else if (c < 0x20) {
      fprintf(out, "\\u%04x", c);
    } else {
      fputc(c, out);
    }
  }
  fputc('"', out);
}

static void put_hex(FILE* out, const uint8_t* p, int64_t n) {
  fputc('"', out);
  for (int64_t i = 0; i < n; i++) fprintf(out, "%02x", p[i]);
  fputc('"', out);
}

static void put_double(FILE* out, double d) {
  if (isnan(d)) fputs("\"NaN\"", out);
  else if (isinf(d)) fputs(d > 0 ? "\"Infinity\"" : "\"-Infinity\"", out);
  else fprintf(out, "%.17g", d);
}

static void put_value(FILE* out, const struct otap_array_view* v, int64_t i) {
  if (otap_view_is_null(v, i) || v->storage_type == OTAP_TYPE_NA) {
    fputs("null", out);
    return;
  }
  if (v->schema.type == OTAP_TYPE_DICTIONARY) {
    put_value(out, v->dictionary, otap_view_get_int(v, i));
    return;
  }
  const uint8_t* p;
  int64_t n, start, end;
  switch (v->storage_type) {
    case OTAP_TYPE_BOOL:
      fputs(otap_view_get_int(v, i) ? "true" : "false", out);
      return;
    case OTAP_TYPE_INT8: case OTAP_TYPE_INT16: case OTAP_TYPE_INT32: case OTAP_TYPE_UINT8:
    case OTAP_TYPE_UINT16: case OTAP_TYPE_UINT32: case OTAP_TYPE_DATE32: case OTAP_TYPE_TIME32:
    case OTAP_TYPE_INTERVAL_MONTHS:
      fprintf(out, "%lld", (long long)otap_view_get_int(v, i));
      return;
    case OTAP_TYPE_INT64: case OTAP_TYPE_DATE64: case OTAP_TYPE_TIME64: case OTAP_TYPE_TIMESTAMP:
    case OTAP_TYPE_DURATION:
      fprintf(out, "\"%lld\"", (long long)otap_view_get_int(v, i));
      return;
    case OTAP_TYPE_UINT64:
      fprintf(out, "\"%llu\"", (unsigned long long)otap_view_get_uint(v, i));
      return;
    case OTAP_TYPE_HALF_FLOAT: case OTAP_TYPE_FLOAT: case OTAP_TYPE_DOUBLE:
      put_double(out, otap_view_get_double(v, i));
      return;
    case OTAP_TYPE_STRING: case OTAP_TYPE_LARGE_STRING: case OTAP_TYPE_STRING_VIEW:
      otap_view_get_bytes(v, i, &p, &n);
      put_string(out, p, n);
      return;
    case OTAP_TYPE_BINARY: case OTAP_TYPE_LARGE_BINARY: case OTAP_TYPE_BINARY_VIEW:
      otap_view_get_bytes(v, i, &p, &n);
      put_hex(out, p, n);
      return;
    case OTAP_TYPE_FIXED_SIZE_BINARY: case OTAP_TYPE_DECIMAL32: case OTAP_TYPE_DECIMAL64:
    case OTAP_TYPE_DECIMAL128: case OTAP_TYPE_DECIMAL256: case OTAP_TYPE_INTERVAL_DAY_TIME:
    case OTAP_TYPE_INTERVAL_MONTH_DAY_NANO: {
      int64_t w = v->schema.bit_width / 8;
      if (w <= 0) w = v->schema.fixed_size;
      put_hex(out, v->buffers[1] + (v->offset + i) * w, w);
      return;
    }
    case OTAP_TYPE_STRUCT:
      fputc('{', out);
      for (int64_t k = 0; k < v->n_children; k++) {
        const char* name = v->children[k]->schema.schema->name;
        if (k) fputc(',', out);
        put_string(out, (const uint8_t*)(name ? name : ""), name ? (int64_t)strlen(name) : 0);
        fputc(':', out);
        put_value(out, v->children[k], v->offset + i);
      }
      fputc('}', out);
      return;
    case OTAP_TYPE_LIST: case OTAP_TYPE_LARGE_LIST: case OTAP_TYPE_FIXED_SIZE_LIST:
    case OTAP_TYPE_LIST_VIEW: case OTAP_TYPE_LARGE_LIST_VIEW: case OTAP_TYPE_MAP: {
      otap_view_get_list_range(v, i, &start, &end);
      const struct otap_array_view* c = v->children[0];
      fputc('[', out);
      for (int64_t k = start; k < end; k++) {
        if (k > start) fputc(',', out);
        if (v->storage_type == OTAP_TYPE_MAP && c->n_children == 2) {
          fputc('[', out);
          put_value(out, c->children[0], c->offset + k);
          fputc(',', out);
          put_value(out, c->children[1], c->offset + k);
          fputc(']', out);
        } else {
          put_value(out, c, k);
        }
      }
      fputc(']', out);
      return;
    }
    default:
      fprintf(out, "\"<%s>\"", otap_type_name(v->storage_type));
      return;
  }
}

static void put_schema_field(FILE* out, const struct ArrowSchema* s) {
  fputs("{\"name\":", out);
  put_string(out, (const uint8_t*)(s->name ? s->name : ""), s->name ? (int64_t)strlen(s->name) : 0);
  fputs(",\"format\":", out);
  put_string(out, (const uint8_t*)s->format, (int64_t)strlen(s->format));
  fprintf(out, ",\"nullable\":%s", (s->flags & ARROW_FLAG_NULLABLE) ? "true" : "false");
  if (s->dictionary) {
    fputs(",\"dictionary\":", out);
    put_schema_field(out, s->dictionary);
  }
  fputs(",\"children\":[", out);
  for (int64_t i = 0; i < s->n_children; i++) {
    if (i) fputc(',', out);
    put_schema_field(out, s->children[i]);
  }
  fputs("]}", out);
}

static int cmd_cat(const char* in) {
  struct otap_buffer data;
  struct otap_error err;
  struct batches b;
  struct otap_array_view view;
  memset(&view, 0, sizeof(view));
  memset(&b, 0, sizeof(b));
  otap_buffer_init(&data);
  int rc = otap_read_file(in, &data, &err);
  if (rc == 0) rc = read_ipc(&data, &b, &err);
  if (rc == 0) rc = otap_array_view_init(&view, &b.schema, &err);
  if (rc == 0) {
    fputs("{\"schema\":[", stdout);
    for (int64_t i = 0; i < b.schema.n_children; i++) {
      if (i) fputc(',', stdout);
      put_schema_field(stdout, b.schema.children[i]);
    }
    fprintf(stdout, "],\"batches\":%lld}\n", (long long)b.n);
  }
  for (int64_t k = 0; rc == 0 && k < b.n; k++) {
    rc = otap_array_view_set(&view, &b.arrays[k], OTAP_VALIDATE_FULL, &err);
    for (int64_t r = 0; rc == 0 && r < view.length; r++) {
      put_value(stdout, &view, r);
      fputc('\n', stdout);
    }
  }
  otap_array_view_reset(&view);
  batches_reset(&b);
  otap_buffer_reset(&data);
  if (rc != 0) fprintf(stderr, "ipc_tool cat %s: %s (%s)\n", in, err.message, otap_errno_name(rc));
  return rc == 0 ? 0 : 1;
}

// ---------------------------------------------------------------------------------------------
// Writing

struct write_opts {
  enum otap_ipc_format format;
  struct otap_ipc_write_options w;
};

static int parse_write_opts(int argc, char** argv, int first, struct write_opts* o) {
  o->format = OTAP_IPC_FORMAT_STREAM;
  otap_ipc_write_options_init(&o->w);
  for (int i = first; i < argc; i++) {
    if (strcmp(argv[i], "--to") == 0 && i + 1 < argc) {
      const char* t = argv[++i];
      if (strcmp(t, "stream") == 0) o->format = OTAP_IPC_FORMAT_STREAM;
      else if (strcmp(t, "file") == 0) o->format = OTAP_IPC_FORMAT_FILE;
      else return 2;
    } else if (strcmp(argv[i], "--compression") == 0 && i + 1 < argc) {
      struct otap_error err;
      if (otap_ipc_compression_parse(argv[++i], &o->w.compression, &err) != 0) return 2;
    } else if (strcmp(argv[i], "--dictionary") == 0 && i + 1 < argc) {
      const char* d = argv[++i];
      if (strcmp(d, "auto") == 0) o->w.dictionary_mode = OTAP_IPC_DICTIONARY_AUTO;
      else if (strcmp(d, "replace") == 0) o->w.dictionary_mode = OTAP_IPC_DICTIONARY_REPLACE;
      else return 2;
    } else {
      return 2;
    }
  }
  return 0;
}

static int write_out(const char* path, const struct ArrowSchema* schema,
                     const struct ArrowArray* arrays, int64_t n, const struct write_opts* o,
                     struct otap_error* err) {
  struct otap_sink sink;
  struct otap_ipc_writer* w = NULL;
  memset(&sink, 0, sizeof(sink));
  int rc = otap_sink_open_file(&sink, path, err);
  if (rc == 0) rc = otap_ipc_writer_new(&w, &sink, o->format, schema, &o->w, err);
  for (int64_t i = 0; rc == 0 && i < n; i++) rc = otap_ipc_writer_write(w, &arrays[i], err);
  if (rc == 0) rc = otap_ipc_writer_finish(w, err);
  if (rc == 0) rc = sink.finish(&sink, err);
  otap_ipc_writer_free(w);
  otap_sink_release(&sink);
  return rc;
}

static int cmd_convert(const char* in, const char* out, const struct write_opts* o) {
  struct otap_buffer data;
  struct otap_error err;
  struct batches b;
  memset(&b, 0, sizeof(b));
  otap_buffer_init(&data);
  int rc = otap_read_file(in, &data, &err);
  if (rc == 0) rc = read_ipc(&data, &b, &err);
  if (rc == 0) rc = write_out(out, &b.schema, b.arrays, b.n, o, &err);
  batches_reset(&b);
  otap_buffer_reset(&data);
  if (rc != 0) {
    fprintf(stderr, "ipc_tool convert %s %s: %s (%s)\n", in, out, err.message, otap_errno_name(rc));
  }
  return rc == 0 ? 0 : 1;
}

static int cmd_json2ipc(const char* in, const char* out, const struct write_opts* o) {
  struct otap_test_integration it;
  struct otap_error err;
  int rc = otap_test_integration_load_file(in, &it, &err);
  if (rc == 0) rc = write_out(out, &it.schema, it.batches, it.n_batches, o, &err);
  otap_test_integration_reset(&it);
  if (rc != 0) {
    fprintf(stderr, "ipc_tool json2ipc %s %s: %s (%s)\n", in, out, err.message, otap_errno_name(rc));
  }
  return rc == 0 ? 0 : 1;
}

static int cmd_check(const char* in, const char* expected, bool by_value) {
  struct otap_buffer data;
  struct otap_error err;
  struct batches b;
  struct otap_test_integration it;
  memset(&b, 0, sizeof(b));
  memset(&it, 0, sizeof(it));
  otap_buffer_init(&data);
  int rc = otap_test_integration_load_file(expected, &it, &err);
  if (rc == 0) rc = otap_read_file(in, &data, &err);
  if (rc == 0) rc = read_ipc(&data, &b, &err);
  if (rc == 0) {
    struct otap_test_compare_options opts;
    struct otap_test_diff diff;
    otap_test_compare_options_init(&opts);
    opts.exact_dictionaries = !by_value;
    if (!otap_test_schema_equal(&it.schema, &b.schema, &opts, &diff)) {
      rc = otap_error_set(&err, EINVAL, "schema differs: %s", diff.message);
    } else if (it.n_batches != b.n) {
      rc = otap_error_set(&err, EINVAL, "%lld batches, expected %lld", (long long)b.n,
                          (long long)it.n_batches);
    }
    for (int64_t i = 0; rc == 0 && i < b.n; i++) {
      if (!otap_test_array_equal(&it.schema, &it.batches[i], &b.schema, &b.arrays[i], &opts,
                                 &diff)) {
        rc = otap_error_set(&err, EINVAL, "batch %lld: %s", (long long)i, diff.message);
      }
    }
  }
  batches_reset(&b);
  otap_test_integration_reset(&it);
  otap_buffer_reset(&data);
  if (rc != 0) {
    fprintf(stderr, "ipc_tool check %s %s: %s (%s)\n", in, expected, err.message,
            otap_errno_name(rc));
  }
  return rc == 0 ? 0 : 1;
}


// ---------------------------------------------------------------------------------------------
// Message listing

static void put_info(const char* type, const struct otap_ipc_message_info* m) {
  printf("{\"type\":\"%s\",\"offset\":%lld,\"rows\":%lld,\"compression\":\"%s\"", type,
         (long long)m->offset, (long long)m->rows, otap_ipc_compression_name(m->compression));
  if (strcmp(type, "dictionary") == 0) {
    printf(",\"id\":%lld,\"delta\":%s", (long long)m->dictionary_id, m->is_delta ? "true" : "false");
  }
  printf("}\n");
}

static int cmd_messages(const char* in) {
  struct otap_buffer data;
  struct otap_error err;
  otap_buffer_init(&data);
  int rc = otap_read_file(in, &data, &err);
  if (rc == 0 && data.size >= 8 &&
      otap_ipc_detect_format(data.data, (size_t)data.size) == OTAP_IPC_FORMAT_FILE) {
    struct otap_source src;
    struct otap_ipc_file_reader* r = NULL;
    rc = otap_source_init_memory(&src, data.data, (size_t)data.size, in, &err);
    if (rc == 0) rc = otap_ipc_file_reader_open(&r, &src, NULL, &err);
    for (int d = 1; rc == 0 && d >= 0; d--) {
      int64_t n = d ? otap_ipc_file_reader_num_dictionaries(r) : otap_ipc_file_reader_num_batches(r);
      for (int64_t i = 0; rc == 0 && i < n; i++) {
        struct otap_ipc_message_info m;
        memset(&m, 0, sizeof(m));
        rc = otap_ipc_file_reader_block_info(r, d == 1, i, &m, &err);
        if (rc == 0) put_info(d ? "dictionary" : "batch", &m);
      }
    }
    otap_ipc_file_reader_free(r);
  } else if (rc == 0) {
    struct otap_ipc_decoder* dec = NULL;
    rc = otap_ipc_decoder_new(&dec, NULL, &err);
    if (rc == 0) rc = otap_ipc_decoder_push(dec, data.data, (size_t)data.size, &err);
    while (rc == 0) {
      enum otap_ipc_event ev;
      struct ArrowArray a;
      memset(&a, 0, sizeof(a));
      rc = otap_ipc_decoder_pull(dec, &ev, &a, &err);
      otap_array_release(&a);
      if (rc != 0 || ev == OTAP_IPC_EVENT_NEED_MORE || ev == OTAP_IPC_EVENT_END) break;
      const struct otap_ipc_message_info* m = otap_ipc_decoder_last_message(dec);
      put_info(ev == OTAP_IPC_EVENT_SCHEMA ? "schema"
               : ev == OTAP_IPC_EVENT_DICTIONARY ? "dictionary" : "batch", m);
    }
    if (rc == 0) rc = otap_ipc_decoder_finish(dec, &err);
    otap_ipc_decoder_free(dec);
  }
  otap_buffer_reset(&data);
  if (rc != 0) fprintf(stderr, "ipc_tool messages %s: %s (%s)\n", in, err.message, otap_errno_name(rc));
  return rc == 0 ? 0 : 1;
}

static int usage(void) {
  fputs("usage: ipc_tool cat IN\n"
        "       ipc_tool convert IN OUT [--to stream|file] [--compression none|lz4|zstd]"
        " [--dictionary auto|replace]\n"
        "       ipc_tool json2ipc IN.json[.gz] OUT [same options]\n"
        "       ipc_tool check IN EXPECTED.json[.gz] [--by-value]\n"
        "       ipc_tool messages IN\n",
        stderr);
  return 2;
}

int main(int argc, char** argv) {
  if (argc < 3) return usage();
  const char* cmd = argv[1];
  if (strcmp(cmd, "cat") == 0 && argc == 3) return cmd_cat(argv[2]);
  if (strcmp(cmd, "messages") == 0 && argc == 3) return cmd_messages(argv[2]);
  if ((strcmp(cmd, "convert") == 0 || strcmp(cmd, "json2ipc") == 0) && argc >= 4) {
    struct write_opts o;
    if (parse_write_opts(argc, argv, 4, &o) != 0) return usage();
    return strcmp(cmd, "convert") == 0 ? cmd_convert(argv[2], argv[3], &o)
                                       : cmd_json2ipc(argv[2], argv[3], &o);
  }
  if (strcmp(cmd, "check") == 0 && (argc == 4 || argc == 5)) {
    bool by_value = argc == 5 && strcmp(argv[4], "--by-value") == 0;
    if (argc == 5 && !by_value) return usage();
    return cmd_check(argv[2], argv[3], by_value);
  }
  return usage();
}
