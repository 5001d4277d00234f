// OTAP records files in the CLI: detection, inspection and record listing.
#include "cli_otap.h"

#include <stdlib.h>
#include <string.h>

#include "cli.h"

bool otap_cli_is_otap_records(const void* head, size_t n) {
  return otap_records_sniff(head, (int64_t)n);
}

bool otap_cli_path_is_otap_records(const char* path) {
  if (!path || strcmp(path, "-") == 0) return false;
  FILE* f = fopen(path, "rb");
  if (!f) return false;
  uint8_t head[64];
  size_t n = fread(head, 1, sizeof(head), f);
  fclose(f);
  return otap_records_sniff(head, (int64_t)n);
}

bool otap_cli_parse_count(const char* s, int64_t* out) {
  if (!s || !*s) return false;
  char* end;
  long long v = strtoll(s, &end, 10);
  if (end == s || v < 0) return false;
  if (*end == 'k' || *end == 'K') {
    if (v > INT64_MAX / 1000) return false;
    v *= 1000;
    end++;
  } else if (*end == 'm' || *end == 'M') {
    if (v > INT64_MAX / 1000000) return false;
    v *= 1000000;
    end++;
  }
  if (*end) return false;
  *out = v;
  return true;
}

// Prints the fields of a table schema: text "name: type" lines, or a JSON array.
static void print_fields(const struct ArrowSchema* s, bool json, FILE* out) {
  char type[512];
  if (json) fputc('[', out);
  for (int64_t i = 0; i < s->n_children; i++) {
    const struct ArrowSchema* f = s->children[i];
    otap_schema_format_type(f, type, sizeof(type));
    const char* enc = NULL;
    int32_t enc_len = 0;
    bool has_enc = f->metadata && otap_metadata_find(f->metadata, "encoding", &enc, &enc_len) == 0;
    if (json) {
      fprintf(out, "%s{\"name\":", i ? "," : "");
      otap_cli_json_string(out, f->name ? f->name : "", -1);
      fprintf(out, ",\"type\":");
      otap_cli_json_string(out, type, -1);
      if (has_enc) {
        fprintf(out, ",\"encoding\":");
        otap_cli_json_string(out, enc, enc_len);
      }
      fputc('}', out);
    } else {
      fprintf(out, "      %s: %s", f->name ? f->name : "", type);
      if (has_enc) fprintf(out, " (encoding=%.*s)", (int)enc_len, enc);
      fputc('\n', out);
    }
  }
  if (json) fputc(']', out);
}

static int64_t n_rows(const struct otap_logs_payload* p, int t) {
  return otap_logs_payload_has_table(p, (enum otap_logs_table)t) ? p->batch[t].length : 0;
}

int otap_cli_otap_inspect(const char* path, bool json, FILE* out) {
  struct otap_error err;
  struct otap_buffer file;
  otap_buffer_init(&file);
  if (otap_read_file(path, &file, &err)) return otap_cli_fail("inspect", OTAP_EXIT_FAILURE, "%s", err.message);
  struct otap_records_reader* r = NULL;
  struct otap_records_reader_options ro;
  otap_records_reader_options_init(&ro);
  ro.decode_ids = false;  // show the encodings as stored
  int rc = otap_records_reader_open_memory(&r, file.data, file.size, path, &ro, &err);
  int64_t totals[OTAP_LOGS_N_TABLES] = {0, 0, 0, 0};
  int64_t messages = 0;
  // Streams already described (schema ids point into the file buffer).
  int32_t seen_type[64];
  const char* seen_id[64];
  int64_t seen_id_len[64];
  int64_t n_seen = 0;
  if (json) fprintf(out, "{\"path\":"), otap_cli_json_string(out, path, -1), fprintf(out, ",\"format\":\"otap-records\",\"messages\":[");
  if (!json && !rc) fprintf(out, "%s: OTAP records file (varint-delimited BatchArrowRecords), %lld bytes\n", path, (long long)file.size);
  while (!rc) {
    int64_t off = otap_records_reader_offset(r);
    struct otap_logs_payload p;
    otap_logs_payload_init(&p);
    bool eof;
    rc = otap_records_reader_next(r, &p, &eof, &err);
    if (rc || eof) break;
    // Re-decode the framing for schema ids and record sizes.
    int64_t pos = off;
    uint64_t len = 0;
    struct otap_bar_msg msg;
    memset(&msg, 0, sizeof(msg));
    if (otap_pb_read_varint(file.data, file.size, &pos, &len, NULL) == 0) {
      if (otap_bar_decode(file.data + pos, (int64_t)len, pos, &msg, NULL) != 0) memset(&msg, 0, sizeof(msg));
    }
    if (json) {
      fprintf(out, "%s{\"offset\":%lld,\"bytes\":%llu,\"batch_id\":%lld,\"payloads\":[", messages ? "," : "",
              (long long)off, (unsigned long long)len, (long long)msg.batch_id);
    } else {
      fprintf(out, "message %lld at byte %lld: %llu bytes, batch_id %lld, %lld log records\n",
              (long long)messages, (long long)off, (unsigned long long)len, (long long)msg.batch_id,
              (long long)otap_logs_payload_num_records(&p));
    }
    for (int64_t k = 0; k < msg.n_payloads; k++) {
      const struct otap_arrow_payload_msg* pm = &msg.payloads[k];
      int t = otap_logs_table_from_payload_type(pm->type);
      int64_t rows = t >= 0 ? n_rows(&p, t) : 0;
      if (t >= 0) totals[t] += rows;
      int64_t cols = t >= 0 && otap_logs_payload_has_table(&p, (enum otap_logs_table)t) ? p.schema[t].n_children : 0;
      bool has = t >= 0 && otap_logs_payload_has_table(&p, (enum otap_logs_table)t);
      if (json) {
        fprintf(out, "%s{\"type\":\"%s\",\"schema_id\":", k ? "," : "", otap_payload_type_name(pm->type));
        otap_cli_json_string(out, pm->schema_id, (long)pm->schema_id_len);
        fprintf(out, ",\"record_bytes\":%lld,\"rows\":%lld,\"columns\":%lld", (long long)pm->record_len,
                (long long)rows, (long long)cols);
        if (has) {
          fprintf(out, ",\"fields\":");
          print_fields(&p.schema[t], true, out);
        }
        fputc('}', out);
      } else {
        fprintf(out, "  %-15s schema_id %.*s, %lld record bytes, %lld rows, %lld columns\n",
                otap_payload_type_name(pm->type), (int)pm->schema_id_len, pm->schema_id,
                (long long)pm->record_len, (long long)rows, (long long)cols);
        // The fields of each new stream (a schema_id not seen before for this type).
        bool seen = false;
        for (int64_t q = 0; has && q < n_seen; q++) {
          if (seen_type[q] == pm->type && seen_id_len[q] == pm->schema_id_len &&
              memcmp(seen_id[q], pm->schema_id, (size_t)pm->schema_id_len) == 0)
            seen = true;
        }
        if (has && !seen) {
          print_fields(&p.schema[t], false, out);
          if (n_seen < 64) {
            seen_type[n_seen] = pm->type;
            seen_id[n_seen] = pm->schema_id;
            seen_id_len[n_seen] = pm->schema_id_len;
            n_seen++;
          }
        }
      }
    }
    if (json) fprintf(out, "]}");
    otap_bar_reset(&msg);
    otap_logs_payload_reset(&p);
    messages++;
  }
  if (!rc) {
    if (json) {
      fprintf(out, "],\"totals\":{\"messages\":%lld", (long long)messages);
      for (int t = 0; t < OTAP_LOGS_N_TABLES; t++) {
        fprintf(out, ",\"%s\":%lld", otap_logs_table_name((enum otap_logs_table)t), (long long)totals[t]);
      }
      fprintf(out, "}}\n");
    } else {
      fprintf(out, "total: %lld messages, %lld log records, %lld log attributes, %lld resource attributes, %lld scope attributes\n",
              (long long)messages, (long long)totals[OTAP_LOGS_LOGS], (long long)totals[OTAP_LOGS_LOG_ATTRS],
              (long long)totals[OTAP_LOGS_RESOURCE_ATTRS], (long long)totals[OTAP_LOGS_SCOPE_ATTRS]);
    }
  }
  otap_records_reader_free(r);
  otap_buffer_reset(&file);
  if (rc) {
    if (json) fprintf(out, "]}\n");
    return otap_cli_fail("inspect", OTAP_EXIT_FAILURE, "%s", err.message);
  }
  return OTAP_EXIT_OK;
}

int otap_cli_otap_cat(const char* path, bool json, int64_t limit, FILE* out) {
  struct otap_error err;
  struct otap_records_reader* r = NULL;
  int rc = otap_records_reader_open_file(&r, path, NULL, &err);
  int64_t shown = 0;
  struct otap_buffer text;
  otap_buffer_init(&text);
  while (!rc && (limit < 0 || shown < limit)) {
    struct otap_logs_payload p;
    otap_logs_payload_init(&p);
    bool eof;
    rc = otap_records_reader_next(r, &p, &eof, &err);
    if (rc || eof) break;
    text.size = 0;
    rc = otap_logs_payload_format(&p, &text, &err);
    otap_logs_payload_reset(&p);
    int64_t start = 0;
    for (int64_t i = 0; !rc && i < text.size && (limit < 0 || shown < limit); i++) {
      if (text.data[i] != '\n') continue;
      if (json) {
        otap_cli_json_string(out, (const char*)text.data + start, (long)(i - start));
        fputc('\n', out);
      } else {
        fwrite(text.data + start, 1, (size_t)(i - start + 1), out);
      }
      start = i + 1;
      shown++;
    }
  }
  otap_buffer_reset(&text);
  otap_records_reader_free(r);
  if (rc) return otap_cli_fail("cat", OTAP_EXIT_FAILURE, "%s", err.message);
  return OTAP_EXIT_OK;
}
