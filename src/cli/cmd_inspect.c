// otap inspect: describes an input (format from content): the schema with metadata and
// dictionary ids, every message (offset, kind, rows, body size, compression) and totals.
#include <inttypes.h>
#include <string.h>

#include "cli.h"
#include "cli_input.h"
#include "cli_parquet.h"
#include "cli_otap.h"
#include "otap/ipc.h"

static void help(FILE* out) {
  fprintf(out,
          "Usage: otap inspect [--json] FILE\n\n"
          "Describes FILE (\"-\" reads stdin), whose format is detected from its content:\n"
          "  Arrow IPC stream or file: container format and metadata version, the schema (field\n"
          "  names, types, nullability, custom metadata of the schema and of fields, dictionary\n"
          "  ids of dictionary-encoded fields), then one line per message: byte offset, kind\n"
          "  (schema, dictionary with its id and delta flag, record batch), rows, body bytes,\n"
          "  body compression; and totals (record batches, rows, dictionary batches).\n"
          "  Parquet: the Parquet and Arrow schemas, key-value metadata, row groups and every\n"
          "  column chunk (type, codec, encodings, sizes, statistics).\n"
          "Every batch is decoded and validated on the way, so a malformed input fails here with\n"
          "the byte offset of the bad message.\n\n"
          "  --json   the same as one JSON document\n\n"
          "Exit status: 0 on success, 1 if the input cannot be read or is malformed, 2 on a\n"
          "usage error.\n");
}

struct msg {
  struct otap_ipc_message_info info;
  int kind;  // 1 schema, 2 dictionary, 3 batch
};

struct report {
  const char* path;
  enum otap_cli_format format;
  const struct ArrowSchema* schema;
  const int64_t* dict_ids;
  int64_t n_dict_ids;
  struct msg* msgs;
  int64_t n_msgs, cap_msgs;
  int32_t version;
};

static int add_msg(struct report* r, const struct otap_ipc_message_info* info, int kind) {
  if (r->n_msgs == r->cap_msgs) {
    int64_t nc = r->cap_msgs ? r->cap_msgs * 2 : 64;
    struct msg* m = otap_realloc(r->msgs, (size_t)nc * sizeof(*m));
    if (!m) return ENOMEM;
    r->msgs = m;
    r->cap_msgs = nc;
  }
  r->msgs[r->n_msgs].info = *info;
  r->msgs[r->n_msgs].kind = kind;
  r->n_msgs++;
  if (info->version > r->version) r->version = info->version;
  return 0;
}

static void print_metadata(const char* md, bool json, int indent) {
  int32_t n = 0;
  if (!md || otap_metadata_count(md, &n, NULL) || n == 0) {
    if (json) printf("{}");
    return;
  }
  if (json) printf("{");
  for (int32_t i = 0; i < n; i++) {
    struct otap_metadata_entry e;
    if (otap_metadata_get_entry(md, i, &e, NULL)) break;
    if (json) {
      if (i) printf(", ");
      otap_cli_json_string(stdout, e.key, e.key_len);
      printf(": ");
      otap_cli_json_string(stdout, e.value, e.value_len);
    } else {
      printf("%*smetadata %.*s = %.*s\n", indent, "", (int)e.key_len, e.key, (int)e.value_len,
             e.value);
    }
  }
  if (json) printf("}");
}

// Prints fields depth-first; *dict_i walks the dictionary ids in the same order the IPC
// module assigns them.
static void print_field(const struct report* r, const struct ArrowSchema* f, int depth,
                        int64_t* dict_i, bool json, bool first) {
  char type[512];
  otap_schema_format_type(f, type, sizeof(type));
  int64_t dict_id = -1;
  if (f->dictionary && *dict_i < r->n_dict_ids) dict_id = r->dict_ids[(*dict_i)++];
  const struct ArrowSchema* kids = f->dictionary ? f->dictionary : f;
  if (json) {
    printf("%s{\"name\": ", first ? "" : ", ");
    otap_cli_json_string(stdout, f->name ? f->name : "", -1);
    printf(", \"type\": ");
    otap_cli_json_string(stdout, type, -1);
    printf(", \"nullable\": %s", (f->flags & ARROW_FLAG_NULLABLE) ? "true" : "false");
    if (f->dictionary) printf(", \"dictionary_id\": %" PRId64, dict_id);
    printf(", \"metadata\": ");
    print_metadata(f->metadata, true, 0);
    if (kids->n_children) {
      printf(", \"children\": [");
      for (int64_t i = 0; i < kids->n_children; i++)
        print_field(r, kids->children[i], depth + 1, dict_i, true, i == 0);
      printf("]");
    }
    printf("}");
    return;
  }
  printf("%*s%s: %s%s", 2 + 2 * depth, "", f->name ? f->name : "", type,
         (f->flags & ARROW_FLAG_NULLABLE) ? "" : " not null");
  if (f->dictionary) printf("  [dictionary id %" PRId64 "%s]", dict_id,
                            (f->flags & ARROW_FLAG_DICTIONARY_ORDERED) ? ", ordered" : "");
  printf("\n");
  print_metadata(f->metadata, false, 4 + 2 * depth);
  for (int64_t i = 0; i < kids->n_children; i++)
    print_field(r, kids->children[i], depth + 1, dict_i, false, false);
}

static const char* kind_name(int k) {
  return k == 1 ? "schema" : k == 2 ? "dictionary" : "record_batch";
}

static void print_report(const struct report* r, bool json) {
  int64_t batches = 0, rows = 0, dicts = 0, deltas = 0, body = 0;
  bool codec_seen[3] = {false, false, false};
  for (int64_t i = 0; i < r->n_msgs; i++) {
    const struct msg* m = &r->msgs[i];
    body += m->info.body_length;
    if (m->kind == 3) {
      batches++;
      rows += m->info.rows;
    }
    if (m->kind == 2) {
      dicts++;
      deltas += m->info.is_delta;
    }
    if (m->kind != 1) codec_seen[m->info.compression] = true;
  }
  char codecs[64] = "";
  for (int c = 0; c < 3; c++) {
    if (!codec_seen[c]) continue;
    if (codecs[0]) strcat(codecs, ",");
    strcat(codecs, otap_ipc_compression_name((enum otap_ipc_compression)c));
  }
  if (!codecs[0]) strcpy(codecs, "none");
  int64_t dict_i = 0;
  if (json) {
    printf("{\"path\": ");
    otap_cli_json_string(stdout, r->path, -1);
    printf(", \"format\": \"%s\", \"metadata_version\": \"V%d\", \"schema\": {\"fields\": [",
           otap_cli_format_name(r->format), r->version + 1);
    for (int64_t i = 0; i < r->schema->n_children; i++)
      print_field(r, r->schema->children[i], 0, &dict_i, true, i == 0);
    printf("], \"metadata\": ");
    print_metadata(r->schema->metadata, true, 0);
    printf("}, \"messages\": [");
    for (int64_t i = 0; i < r->n_msgs; i++) {
      const struct msg* m = &r->msgs[i];
      printf("%s{\"offset\": %" PRId64 ", \"type\": \"%s\", \"metadata_length\": %" PRId64
             ", \"body_length\": %" PRId64,
             i ? ", " : "", m->info.offset, kind_name(m->kind), m->info.metadata_length,
             m->info.body_length);
      if (m->kind != 1)
        printf(", \"rows\": %" PRId64 ", \"compression\": \"%s\"", m->info.rows,
               otap_ipc_compression_name(m->info.compression));
      if (m->kind == 2)
        printf(", \"dictionary_id\": %" PRId64 ", \"delta\": %s", m->info.dictionary_id,
               m->info.is_delta ? "true" : "false");
      if (m->info.legacy_framing) printf(", \"legacy_framing\": true");
      printf("}");
    }
    printf("], \"record_batches\": %" PRId64 ", \"rows\": %" PRId64
           ", \"dictionary_batches\": %" PRId64 ", \"delta_dictionary_batches\": %" PRId64
           ", \"body_bytes\": %" PRId64 ", \"compression\": \"%s\"}\n",
           batches, rows, dicts, deltas, body, codecs);
    return;
  }
  printf("%s: %s, metadata version V%d\n", r->path, otap_cli_format_name(r->format),
         r->version + 1);
  printf("schema: %" PRId64 " fields\n", r->schema->n_children);
  for (int64_t i = 0; i < r->schema->n_children; i++)
    print_field(r, r->schema->children[i], 0, &dict_i, false, false);
  print_metadata(r->schema->metadata, false, 2);
  printf("messages:\n  %10s  %-12s %10s %12s  %-11s %s\n", "offset", "type", "rows", "body bytes",
         "compression", "dictionary");
  for (int64_t i = 0; i < r->n_msgs; i++) {
    const struct msg* m = &r->msgs[i];
    printf("  %10" PRId64 "  %-12s ", m->info.offset, kind_name(m->kind));
    if (m->kind == 1) {
      printf("%10s %12" PRId64 "\n", "", m->info.body_length);
      continue;
    }
    printf("%10" PRId64 " %12" PRId64 "  %-11s", m->info.rows, m->info.body_length,
           otap_ipc_compression_name(m->info.compression));
    if (m->kind == 2) printf(" id %" PRId64 "%s", m->info.dictionary_id, m->info.is_delta ? " (delta)" : "");
    printf("%s\n", m->info.legacy_framing ? "  [legacy framing]" : "");
  }
  printf("total: %" PRId64 " record batches, %" PRId64 " rows, %" PRId64
         " dictionary batches (%" PRId64 " deltas), %" PRId64 " body bytes, compression %s\n",
         batches, rows, dicts, deltas, body, codecs);
}

static int inspect_stream(struct report* r, struct otap_ipc_decoder* d, const uint8_t* data,
                          size_t size, struct otap_error* err) {
  OTAP_RETURN_NOT_OK(otap_ipc_decoder_push(d, data, size, err));
  for (;;) {
    enum otap_ipc_event ev;
    struct ArrowArray a;
    memset(&a, 0, sizeof(a));
    OTAP_RETURN_NOT_OK(otap_ipc_decoder_pull(d, &ev, &a, err));
    if (ev == OTAP_IPC_EVENT_NEED_MORE) return otap_ipc_decoder_finish(d, err);
    if (ev == OTAP_IPC_EVENT_END) return 0;
    if (ev == OTAP_IPC_EVENT_BATCH) a.release(&a);
    if (add_msg(r, otap_ipc_decoder_last_message(d), (int)ev))
      return otap_error_set(err, ENOMEM, "out of memory");
  }
}

static int inspect_file(struct report* r, struct otap_ipc_file_reader* fr, struct otap_error* err) {
  r->schema = otap_ipc_file_reader_schema(fr);
  r->n_dict_ids = otap_ipc_file_reader_dictionary_ids(fr, &r->dict_ids);
  r->version = 0;
  for (int64_t i = 0; i < otap_ipc_file_reader_num_dictionaries(fr); i++) {
    struct otap_ipc_message_info info;
    OTAP_RETURN_NOT_OK(otap_ipc_file_reader_block_info(fr, true, i, &info, err));
    if (add_msg(r, &info, 2)) return otap_error_set(err, ENOMEM, "out of memory");
  }
  for (int64_t i = 0; i < otap_ipc_file_reader_num_batches(fr); i++) {
    struct otap_ipc_message_info info;
    struct ArrowArray a;
    OTAP_RETURN_NOT_OK(otap_ipc_file_reader_read_batch(fr, i, &a, err));
    a.release(&a);
    OTAP_RETURN_NOT_OK(otap_ipc_file_reader_block_info(fr, false, i, &info, err));
    if (add_msg(r, &info, 3)) return otap_error_set(err, ENOMEM, "out of memory");
  }
  return 0;
}

static int run(int argc, char** argv) {
  bool json = false;
  const char* path = NULL;
  for (int i = 1; i < argc; i++) {
    if (otap_cli_is_help(argv[i])) {
      help(stdout);
      return OTAP_EXIT_OK;
    } else if (strcmp(argv[i], "--json") == 0) {
      json = true;
    } else if (argv[i][0] == '-' && argv[i][1]) {
      return otap_cli_fail("inspect", OTAP_EXIT_USAGE, "unknown option '%s' (see otap inspect --help)",
                           argv[i]);
    } else if (!path) {
      path = argv[i];
    } else {
      return otap_cli_fail("inspect", OTAP_EXIT_USAGE, "more than one input");
    }
  }
  if (!path) return otap_cli_fail("inspect", OTAP_EXIT_USAGE, "missing FILE (see otap inspect --help)");
  if (otap_cli_path_is_otap_records(path)) return otap_cli_otap_inspect(path, json, stdout);
  struct otap_error err;
  struct otap_cli_input in;
  if (otap_cli_input_open(&in, path, &err))
    return otap_cli_fail("inspect", OTAP_EXIT_FAILURE, "%s", err.message);
  if (in.format == OTAP_CLI_FORMAT_PARQUET && !in.stdin_buf.data) {
    otap_cli_input_close(&in);
    return otap_cli_parquet_inspect(path, json, stdout);
  }
  struct report r;
  memset(&r, 0, sizeof(r));
  r.path = path;
  r.format = in.format;
  int rc = 0;
  struct otap_ipc_decoder* d = NULL;
  struct otap_ipc_file_reader* fr = NULL;
  if (in.format == OTAP_CLI_FORMAT_IPC_STREAM) {
    uint64_t size = 0;
    const uint8_t* data = NULL;
    struct otap_buffer copy;
    otap_buffer_init(&copy);
    rc = in.source.size(&in.source, &size, &err);
    if (!rc && (!in.source.view_at || in.source.view_at(&in.source, 0, (size_t)size, &data, &err))) {
      rc = otap_buffer_resize(&copy, (int64_t)size, false);
      if (!rc) rc = in.source.read_at(&in.source, 0, copy.data, (size_t)size, &err);
      data = copy.data;
    }
    if (!rc) rc = otap_ipc_decoder_new(&d, NULL, &err);
    if (!rc) rc = inspect_stream(&r, d, data ? data : (const uint8_t*)"", (size_t)size, &err);
    if (d) {
      r.schema = otap_ipc_decoder_schema(d);
      r.n_dict_ids = otap_ipc_decoder_dictionary_ids(d, &r.dict_ids);
    }
    otap_buffer_reset(&copy);
  } else if (in.format == OTAP_CLI_FORMAT_IPC_FILE) {
    rc = otap_ipc_file_reader_open(&fr, &in.source, NULL, &err);
    memset(&in.source, 0, sizeof(in.source));
    if (!rc) rc = inspect_file(&r, fr, &err);
    if (!rc && r.n_msgs == 0) r.version = 4;
  } else {
    struct ArrowArrayStream s;
    rc = otap_cli_input_to_stream(&in, &s, &err);  // reports what is unsupported
    if (!rc) s.release(&s);
    if (!rc) rc = otap_error_set(&err, ENOTSUP, "inspect does not describe %s input yet",
                                 otap_cli_format_name(in.format));
    if (rc && strncmp(err.message, path, strlen(path)) == 0) path = NULL;  // already named
  }
  int exit_code = OTAP_EXIT_OK;
  if (rc || !r.schema) {
    exit_code = otap_cli_fail("inspect", OTAP_EXIT_FAILURE, "%s%s%s", path ? path : "",
                              path ? ": " : "", rc ? err.message : "no schema");
  } else {
    print_report(&r, json);
  }
  otap_free(r.msgs);
  otap_ipc_decoder_free(d);
  otap_ipc_file_reader_free(fr);
  otap_cli_input_close(&in);
  return exit_code;
}

OTAP_CLI_COMMAND(inspect, "describe an Arrow IPC input: schema, metadata, messages, totals", run,
                 help)
