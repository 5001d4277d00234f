// Parquet input for the CLI: `inspect` output and streams for `cat` / `convert`.
#include <inttypes.h>
#include <string.h>

#include "cli.h"
#include "cli_parquet.h"

bool otap_cli_is_parquet(const void* head, size_t n) { return n >= 4 && memcmp(head, "PAR1", 4) == 0; }

int otap_cli_parquet_open_stream(const char* path, int64_t batch_size, struct ArrowArrayStream* out,
                                 struct otap_error* err) {
  struct otap_parquet_reader_options o;
  otap_parquet_reader_options_init(&o);
  if (batch_size > 0) o.batch_size = batch_size;
  return otap_parquet_open_stream(path, &o, out, err);
}

int otap_cli_parquet_stream_from_source(struct otap_source* src, struct ArrowArrayStream* out,
                                        struct otap_error* err) {
  memset(out, 0, sizeof(*out));
  struct otap_source* owned = otap_malloc(sizeof(*owned));
  if (!owned) {
    otap_source_release(src);
    memset(src, 0, sizeof(*src));
    return otap_error_set(err, ENOMEM, "out of memory");
  }
  *owned = *src;
  memset(src, 0, sizeof(*src));
  struct otap_parquet_reader* r = NULL;
  int rc = otap_parquet_reader_open(&r, owned, NULL, err);
  if (rc == 0) {
    rc = otap_parquet_reader_to_stream(r, true, out, err);
    if (rc) otap_parquet_reader_free(r);
  }
  if (rc) {
    otap_source_release(owned);
    otap_free(owned);
  }
  return rc;
}

static const char* repetition_name(const struct otap_parquet_schema_element* e) {
  if (!e->has_repetition) return "";
  static const char* n[] = {"REQUIRED", "OPTIONAL", "REPEATED"};
  return e->repetition <= 2 ? n[e->repetition] : "?";
}

static const char* logical_name(int kind) {
  switch (kind) {
    case OTAP_PARQUET_LT_STRING: return "STRING";
    case OTAP_PARQUET_LT_MAP: return "MAP";
    case OTAP_PARQUET_LT_LIST: return "LIST";
    case OTAP_PARQUET_LT_ENUM: return "ENUM";
    case OTAP_PARQUET_LT_DECIMAL: return "DECIMAL";
    case OTAP_PARQUET_LT_DATE: return "DATE";
    case OTAP_PARQUET_LT_TIME: return "TIME";
    case OTAP_PARQUET_LT_TIMESTAMP: return "TIMESTAMP";
    case OTAP_PARQUET_LT_INTEGER: return "INTEGER";
    case OTAP_PARQUET_LT_UNKNOWN: return "UNKNOWN";
    case OTAP_PARQUET_LT_JSON: return "JSON";
    case OTAP_PARQUET_LT_BSON: return "BSON";
    case OTAP_PARQUET_LT_UUID: return "UUID";
    case OTAP_PARQUET_LT_FLOAT16: return "FLOAT16";
    case OTAP_PARQUET_LT_VARIANT: return "VARIANT";
    case OTAP_PARQUET_LT_GEOMETRY: return "GEOMETRY";
    case OTAP_PARQUET_LT_GEOGRAPHY: return "GEOGRAPHY";
    case OTAP_PARQUET_LT_OTHER: return "(unknown id)";
    default: return NULL;
  }
}

static void logical_text(const struct otap_parquet_logical_type* lt, char* buf, size_t n) {
  const char* name = logical_name(lt->kind);
  static const char* units[] = {"MILLIS", "MICROS", "NANOS"};
  if (!name) {
    buf[0] = 0;
  } else if (lt->kind == OTAP_PARQUET_LT_DECIMAL) {
    snprintf(buf, n, "DECIMAL(%d,%d)", lt->decimal_precision, lt->decimal_scale);
  } else if (lt->kind == OTAP_PARQUET_LT_TIME || lt->kind == OTAP_PARQUET_LT_TIMESTAMP) {
    snprintf(buf, n, "%s(%s,%s)", name, lt->time_unit >= 0 && lt->time_unit <= 2 ? units[lt->time_unit] : "?",
             lt->is_adjusted_to_utc ? "UTC" : "local");
  } else if (lt->kind == OTAP_PARQUET_LT_INTEGER) {
    snprintf(buf, n, "INTEGER(%d,%s)", lt->int_bit_width, lt->int_signed ? "signed" : "unsigned");
  } else {
    snprintf(buf, n, "%s", name);
  }
}

/// Finds the schema element of a column chunk's leaf (depth-first order of leaves).
static const struct otap_parquet_schema_element* leaf_element(const struct otap_parquet_file_metadata* m,
                                                              int32_t leaf) {
  int32_t k = 0;
  for (int32_t i = 1; i < m->n_schema; i++) {
    if (m->schema[i].num_children > 0) continue;
    if (k++ == leaf) return &m->schema[i];
  }
  return NULL;
}

/// Formats a statistics value (PLAIN bytes) for display as JSON-compatible text.
static void stat_value(FILE* out, const struct otap_parquet_schema_element* e, enum otap_parquet_physical_type t,
                       struct otap_parquet_bytes b, bool json) {
  bool is_unsigned = (e && e->logical.kind == OTAP_PARQUET_LT_INTEGER && !e->logical.int_signed) ||
                     (e && e->logical.kind == OTAP_PARQUET_LT_NONE && e->converted_type >= 11 && e->converted_type <= 14);
  bool is_string = e && (e->logical.kind == OTAP_PARQUET_LT_STRING || e->logical.kind == OTAP_PARQUET_LT_ENUM ||
                         e->logical.kind == OTAP_PARQUET_LT_JSON ||
                         (e->logical.kind == OTAP_PARQUET_LT_NONE && e->converted_type == 0));
  if (t == OTAP_PARQUET_BOOLEAN && b.len >= 1) {
    fprintf(out, "%s", b.data[0] ? "true" : "false");
  } else if (t == OTAP_PARQUET_INT32 && b.len == 4) {
    uint32_t u = otap_load_u32le(b.data);
    if (is_unsigned) fprintf(out, "%" PRIu32, u);
    else fprintf(out, "%" PRId32, (int32_t)u);
  } else if (t == OTAP_PARQUET_INT64 && b.len == 8) {
    uint64_t u = otap_load_u64le(b.data);
    if (is_unsigned) fprintf(out, "%" PRIu64, u);
    else fprintf(out, "%" PRId64, (int64_t)u);
  } else if (t == OTAP_PARQUET_FLOAT && b.len == 4) {
    uint32_t u = otap_load_u32le(b.data);
    float f;
    memcpy(&f, &u, 4);
    if (f != f) fprintf(out, json ? "\"NaN\"" : "NaN");
    else fprintf(out, "%.9g", (double)f);
  } else if (t == OTAP_PARQUET_DOUBLE && b.len == 8) {
    uint64_t u = otap_load_u64le(b.data);
    double d;
    memcpy(&d, &u, 8);
    if (d != d) fprintf(out, json ? "\"NaN\"" : "NaN");
    else fprintf(out, "%.17g", d);
  } else if (is_string) {
    if (json) {
      otap_cli_json_string(out, (const char*)b.data, b.len);
    } else {
      fprintf(out, "\"%.*s\"", b.len > 64 ? 64 : (int)b.len, (const char*)b.data);
    }
  } else {
    if (json) fputc('"', out);
    fprintf(out, "0x");
    for (int32_t i = 0; i < b.len && i < 64; i++) fprintf(out, "%02x", b.data[i]);
    if (json) fputc('"', out);
  }
}

static void print_stats(FILE* out, const struct otap_parquet_column_chunk* c,
                        const struct otap_parquet_schema_element* e, bool json) {
  const struct otap_parquet_statistics* s = &c->statistics;
  if (json) {
    fprintf(out, "{");
    bool first = true;
#define SEP() (first ? (first = false, "") : ",")
    if (s->has_min) {
      fprintf(out, "%s\"min\":", SEP());
      stat_value(out, e, c->type, s->min, true);
    }
    if (s->has_max) {
      fprintf(out, "%s\"max\":", SEP());
      stat_value(out, e, c->type, s->max, true);
    }
    if (s->has_null_count) fprintf(out, "%s\"null_count\":%" PRId64, SEP(), s->null_count);
    if (s->has_distinct_count) fprintf(out, "%s\"distinct_count\":%" PRId64, SEP(), s->distinct_count);
    if (s->has_nan_count) fprintf(out, "%s\"nan_count\":%" PRId64, SEP(), s->nan_count);
#undef SEP
    fprintf(out, "}");
    return;
  }
  if (s->has_min) {
    fprintf(out, " min=");
    stat_value(out, e, c->type, s->min, false);
  }
  if (s->has_max) {
    fprintf(out, " max=");
    stat_value(out, e, c->type, s->max, false);
  }
  if (s->has_null_count) fprintf(out, " nulls=%" PRId64, s->null_count);
  if (s->has_distinct_count) fprintf(out, " distinct=%" PRId64, s->distinct_count);
}

static void print_path(FILE* out, const struct otap_parquet_column_chunk* c, bool json) {
  char buf[1024];
  size_t n = 0;
  buf[0] = 0;
  for (int32_t i = 0; i < c->n_path && n < sizeof(buf) - 2; i++) {
    int w = snprintf(buf + n, sizeof(buf) - n, "%s%s", i ? "." : "", c->path[i]);
    if (w < 0) break;
    n += (size_t)w;
    if (n >= sizeof(buf)) n = sizeof(buf) - 1;
  }
  if (json) otap_cli_json_string(out, buf, -1);
  else fputs(buf, out);
}

static void print_text(FILE* out, const char* path, uint64_t size, const struct otap_parquet_file_metadata* m,
                       const struct ArrowSchema* arrow) {
  fprintf(out, "file: %s (%" PRIu64 " bytes, footer %" PRId64 " bytes)\n", path, size, m->footer_length);
  fprintf(out, "created_by: %s\nversion: %d\nrows: %" PRId64 "\nrow groups: %d\n",
          m->created_by ? m->created_by : "(none)", m->version, m->num_rows, m->n_row_groups);
  fprintf(out, "schema (Parquet):\n");
  // Depth-first walk with a stack of remaining children counts.
  int32_t remaining[256];
  int depth = 0;
  remaining[0] = m->schema[0].num_children;
  fprintf(out, "  %s\n", m->schema[0].name);
  for (int32_t i = 1; i < m->n_schema; i++) {
    while (depth > 0 && remaining[depth] == 0) depth--;
    remaining[depth]--;
    const struct otap_parquet_schema_element* e = &m->schema[i];
    char lt[96];
    logical_text(&e->logical, lt, sizeof(lt));
    fprintf(out, "  %*s%s %s", 2 * (depth + 1), "", repetition_name(e), e->name);
    if (e->num_children > 0) {
      fprintf(out, " (group)");
    } else {
      fprintf(out, ": %s", otap_parquet_physical_type_name(e->type));
      if (e->type == OTAP_PARQUET_FIXED_LEN_BYTE_ARRAY) fprintf(out, "(%d)", e->type_length);
    }
    if (lt[0]) fprintf(out, " logical=%s", lt);
    if (e->converted_type >= 0) fprintf(out, " converted=%s", otap_parquet_converted_type_name(e->converted_type));
    fputc('\n', out);
    if (e->num_children > 0 && depth < 255) remaining[++depth] = e->num_children;
  }
  fprintf(out, "schema (Arrow):\n");
  for (int64_t k = 0; k < arrow->n_children; k++) {
    char t[512];
    otap_schema_format_type(arrow->children[k], t, sizeof(t));
    fprintf(out, "  %s: %s%s\n", arrow->children[k]->name, t,
            (arrow->children[k]->flags & ARROW_FLAG_NULLABLE) ? "" : " not null");
  }
  if (m->n_key_value) fprintf(out, "key-value metadata:\n");
  for (int32_t k = 0; k < m->n_key_value; k++) {
    const struct otap_parquet_key_value* kv = &m->key_value[k];
    if (!kv->value) fprintf(out, "  %s (no value)\n", kv->key);
    else if (kv->value_len > 80) fprintf(out, "  %s = %.60s... (%d bytes)\n", kv->key, kv->value, kv->value_len);
    else fprintf(out, "  %s = %s\n", kv->key, kv->value);
  }
  for (int32_t g = 0; g < m->n_row_groups; g++) {
    const struct otap_parquet_row_group* rg = &m->row_groups[g];
    fprintf(out, "row group %d: %" PRId64 " rows, %" PRId64 " bytes uncompressed", g, rg->num_rows, rg->total_byte_size);
    if (rg->total_compressed_size) fprintf(out, ", %" PRId64 " compressed", rg->total_compressed_size);
    fputc('\n', out);
    for (int32_t c = 0; c < rg->n_columns; c++) {
      const struct otap_parquet_column_chunk* cc = &rg->columns[c];
      fprintf(out, "  ");
      print_path(out, cc, false);
      fprintf(out, ": %s %s values=%" PRId64 " compressed=%" PRId64 " uncompressed=%" PRId64 " encodings=",
              otap_parquet_physical_type_name(cc->type), otap_parquet_codec_name(cc->codec), cc->num_values,
              cc->total_compressed_size, cc->total_uncompressed_size);
      for (int32_t k = 0; k < cc->n_encodings; k++)
        fprintf(out, "%s%s", k ? "," : "", otap_parquet_encoding_name(cc->encodings[k]));
      if (cc->has_dictionary_page_offset && cc->dictionary_page_offset > 0) fprintf(out, " dictionary-page");
      if (cc->column_index_length > 0) fprintf(out, " column-index");
      if (cc->offset_index_length > 0) fprintf(out, " offset-index");
      if (cc->encrypted) fprintf(out, " ENCRYPTED");
      if (cc->has_statistics) print_stats(out, cc, leaf_element(m, c), false);
      fputc('\n', out);
    }
  }
}

static void print_json(FILE* out, const char* path, uint64_t size, const struct otap_parquet_file_metadata* m,
                       const struct ArrowSchema* arrow) {
  fprintf(out, "{\"file\":");
  otap_cli_json_string(out, path, -1);
  fprintf(out, ",\"size\":%" PRIu64 ",\"footer_length\":%" PRId64 ",\"created_by\":", size, m->footer_length);
  if (m->created_by) otap_cli_json_string(out, m->created_by, -1);
  else fprintf(out, "null");
  fprintf(out, ",\"version\":%d,\"num_rows\":%" PRId64 ",\"schema\":[", m->version, m->num_rows);
  for (int32_t i = 0; i < m->n_schema; i++) {
    const struct otap_parquet_schema_element* e = &m->schema[i];
    char lt[96];
    logical_text(&e->logical, lt, sizeof(lt));
    fprintf(out, "%s{\"name\":", i ? "," : "");
    otap_cli_json_string(out, e->name, -1);
    fprintf(out, ",\"repetition\":\"%s\",\"num_children\":%d", repetition_name(e), e->num_children);
    if (e->num_children == 0 && e->has_type) {
      fprintf(out, ",\"type\":\"%s\"", otap_parquet_physical_type_name(e->type));
      if (e->type == OTAP_PARQUET_FIXED_LEN_BYTE_ARRAY) fprintf(out, ",\"type_length\":%d", e->type_length);
    }
    if (lt[0]) fprintf(out, ",\"logical_type\":\"%s\"", lt);
    if (e->converted_type >= 0) fprintf(out, ",\"converted_type\":\"%s\"", otap_parquet_converted_type_name(e->converted_type));
    fputc('}', out);
  }
  fprintf(out, "],\"arrow_schema\":[");
  for (int64_t k = 0; k < arrow->n_children; k++) {
    char t[512];
    otap_schema_format_type(arrow->children[k], t, sizeof(t));
    fprintf(out, "%s{\"name\":", k ? "," : "");
    otap_cli_json_string(out, arrow->children[k]->name, -1);
    fprintf(out, ",\"type\":");
    otap_cli_json_string(out, t, -1);
    fprintf(out, ",\"nullable\":%s}", (arrow->children[k]->flags & ARROW_FLAG_NULLABLE) ? "true" : "false");
  }
  fprintf(out, "],\"key_value_metadata\":{");
  for (int32_t k = 0; k < m->n_key_value; k++) {
    if (k) fputc(',', out);
    otap_cli_json_string(out, m->key_value[k].key, -1);
    fputc(':', out);
    if (m->key_value[k].value) otap_cli_json_string(out, m->key_value[k].value, m->key_value[k].value_len);
    else fprintf(out, "null");
  }
  fprintf(out, "},\"row_groups\":[");
  for (int32_t g = 0; g < m->n_row_groups; g++) {
    const struct otap_parquet_row_group* rg = &m->row_groups[g];
    fprintf(out, "%s{\"num_rows\":%" PRId64 ",\"total_byte_size\":%" PRId64 ",\"total_compressed_size\":%" PRId64
                 ",\"columns\":[",
            g ? "," : "", rg->num_rows, rg->total_byte_size, rg->total_compressed_size);
    for (int32_t c = 0; c < rg->n_columns; c++) {
      const struct otap_parquet_column_chunk* cc = &rg->columns[c];
      fprintf(out, "%s{\"path\":", c ? "," : "");
      print_path(out, cc, true);
      fprintf(out, ",\"type\":\"%s\",\"codec\":\"%s\",\"num_values\":%" PRId64 ",\"total_compressed_size\":%" PRId64
                   ",\"total_uncompressed_size\":%" PRId64 ",\"data_page_offset\":%" PRId64 ",\"encodings\":[",
              otap_parquet_physical_type_name(cc->type), otap_parquet_codec_name(cc->codec), cc->num_values,
              cc->total_compressed_size, cc->total_uncompressed_size, cc->data_page_offset);
      for (int32_t k = 0; k < cc->n_encodings; k++)
        fprintf(out, "%s\"%s\"", k ? "," : "", otap_parquet_encoding_name(cc->encodings[k]));
      fprintf(out, "]");
      if (cc->has_dictionary_page_offset) fprintf(out, ",\"dictionary_page_offset\":%" PRId64, cc->dictionary_page_offset);
      fprintf(out, ",\"column_index\":%s,\"offset_index\":%s,\"encrypted\":%s",
              cc->column_index_length > 0 ? "true" : "false", cc->offset_index_length > 0 ? "true" : "false",
              cc->encrypted ? "true" : "false");
      if (cc->has_statistics) {
        fprintf(out, ",\"statistics\":");
        print_stats(out, cc, leaf_element(m, c), true);
      }
      fputc('}', out);
    }
    fprintf(out, "]}");
  }
  fprintf(out, "]}\n");
}

int otap_cli_parquet_inspect(const char* path, bool json, FILE* out) {
  struct otap_error err = {{0}};
  struct otap_source src;
  memset(&src, 0, sizeof(src));
  if (otap_source_open_file(&src, path, &err) != 0) return otap_cli_fail("inspect", OTAP_EXIT_FAILURE, "%s", err.message);
  struct otap_parquet_reader* r = NULL;
  int rc = otap_parquet_reader_open(&r, &src, NULL, &err);
  if (rc) {
    otap_source_release(&src);
    return otap_cli_fail("inspect", OTAP_EXIT_FAILURE, "%s", err.message);
  }
  uint64_t size = 0;
  if (src.size(&src, &size, &err) != 0) size = 0;
  const struct otap_parquet_file_metadata* m = otap_parquet_reader_metadata(r);
  if (json) print_json(out, path, size, m, otap_parquet_reader_schema(r));
  else print_text(out, path, size, m, otap_parquet_reader_schema(r));
  otap_parquet_reader_free(r);
  otap_source_release(&src);
  return OTAP_EXIT_OK;
}
