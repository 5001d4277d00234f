// OTAP logs schemas (spec 5.1.1 and 5.4.2, as the implementations apply them) and validation.
#include <stdio.h>
#include <string.h>

#include "logs/logs_internal.h"

#define COL(n, f, d, r, e) {n, f, d, r, e, NULL}
#define END {NULL, NULL, OTAP__DICT_NO, false, OTAP_ID_PLAIN, NULL}

static const struct otap__logs_column_spec kResource[] = {
    COL("id", "S", OTAP__DICT_NO, false, OTAP_ID_DELTA),
    COL("schema_url", "u", OTAP__DICT_U8, false, OTAP_ID_PLAIN),
    COL("dropped_attributes_count", "I", OTAP__DICT_NO, false, OTAP_ID_PLAIN),
    END};

static const struct otap__logs_column_spec kScope[] = {
    COL("id", "S", OTAP__DICT_NO, false, OTAP_ID_DELTA),
    COL("name", "u", OTAP__DICT_U8, false, OTAP_ID_PLAIN),
    COL("version", "u", OTAP__DICT_U8, false, OTAP_ID_PLAIN),
    COL("dropped_attributes_count", "I", OTAP__DICT_NO, false, OTAP_ID_PLAIN),
    END};

static const struct otap__logs_column_spec kBody[] = {
    COL("type", "C", OTAP__DICT_NO, true, OTAP_ID_PLAIN),
    COL("str", "u", OTAP__DICT_U16, false, OTAP_ID_PLAIN),
    COL("int", "l", OTAP__DICT_U16, false, OTAP_ID_PLAIN),
    COL("double", "g", OTAP__DICT_NO, false, OTAP_ID_PLAIN),
    COL("bool", "b", OTAP__DICT_NO, false, OTAP_ID_PLAIN),
    COL("bytes", "z", OTAP__DICT_U16, false, OTAP_ID_PLAIN),
    COL("ser", "z", OTAP__DICT_U16, false, OTAP_ID_PLAIN),
    END};

static const struct otap__logs_column_spec kLogs[] = {
    COL("id", "S", OTAP__DICT_NO, false, OTAP_ID_DELTA),
    {"resource", "+s", OTAP__DICT_NO, false, OTAP_ID_PLAIN, kResource},
    {"scope", "+s", OTAP__DICT_NO, false, OTAP_ID_PLAIN, kScope},
    COL("schema_url", "u", OTAP__DICT_U8, false, OTAP_ID_PLAIN),
    COL("time_unix_nano", "tsn:", OTAP__DICT_NO, false, OTAP_ID_PLAIN),
    COL("observed_time_unix_nano", "tsn:", OTAP__DICT_NO, false, OTAP_ID_PLAIN),
    COL("trace_id", "w:16", OTAP__DICT_U8, false, OTAP_ID_PLAIN),
    COL("span_id", "w:8", OTAP__DICT_U8, false, OTAP_ID_PLAIN),
    COL("severity_number", "i", OTAP__DICT_U8, false, OTAP_ID_PLAIN),
    COL("severity_text", "u", OTAP__DICT_U8, false, OTAP_ID_PLAIN),
    {"body", "+s", OTAP__DICT_NO, false, OTAP_ID_PLAIN, kBody},
    COL("dropped_attributes_count", "I", OTAP__DICT_NO, false, OTAP_ID_PLAIN),
    COL("flags", "I", OTAP__DICT_NO, false, OTAP_ID_PLAIN),
    COL("event_name", "u", OTAP__DICT_U8, false, OTAP_ID_PLAIN),
    END};

static const struct otap__logs_column_spec kAttrs[] = {
    COL("parent_id", "S", OTAP__DICT_NO, true, OTAP_ID_QUASI_DELTA),
    COL("key", "u", OTAP__DICT_U8, true, OTAP_ID_PLAIN),
    COL("type", "C", OTAP__DICT_NO, true, OTAP_ID_PLAIN),
    COL("str", "u", OTAP__DICT_U16, false, OTAP_ID_PLAIN),
    COL("int", "l", OTAP__DICT_U16, false, OTAP_ID_PLAIN),
    COL("double", "g", OTAP__DICT_NO, false, OTAP_ID_PLAIN),
    COL("bool", "b", OTAP__DICT_NO, false, OTAP_ID_PLAIN),
    COL("bytes", "z", OTAP__DICT_U16, false, OTAP_ID_PLAIN),
    COL("ser", "z", OTAP__DICT_U16, false, OTAP_ID_PLAIN),
    END};

const struct otap__logs_column_spec* otap__logs_table_spec(enum otap_logs_table t) {
  return t == OTAP_LOGS_LOGS ? kLogs : kAttrs;
}

const struct otap__logs_column_spec* otap__logs_find_spec(const struct otap__logs_column_spec* s,
                                                          const char* name) {
  if (!name) return NULL;
  for (; s->name; s++) {
    if (strcmp(s->name, name) == 0) return s;
  }
  return NULL;
}

int64_t otap__logs_child_index(const struct ArrowSchema* schema, const char* name) {
  for (int64_t i = 0; i < schema->n_children; i++) {
    const char* n = schema->children[i]->name;
    if (n && strcmp(n, name) == 0) return i;
  }
  return -1;
}

const struct otap_array_view* otap__view_child(const struct otap_array_view* v,
                                               const struct ArrowSchema* schema,
                                               const char* name) {
  if (!v || !schema) return NULL;
  int64_t i = otap__logs_child_index(schema, name);
  if (i < 0 || i >= v->n_children) return NULL;
  return v->children[i];
}

bool otap__view_is_null_any(const struct otap_array_view* v, int64_t i) {
  if (otap_view_is_null(v, i)) return true;
  if (v->dictionary) {
    int64_t k = otap_view_get_int(v, i);
    if (k < 0 || k >= v->dictionary->length) return true;
    return otap_view_is_null(v->dictionary, k);
  }
  return false;
}

void otap__view_bytes(const struct otap_array_view* v, int64_t i, const uint8_t** data,
                      int64_t* len, bool* null) {
  *data = NULL;
  *len = 0;
  *null = true;
  if (!v || otap_view_is_null(v, i)) return;
  if (v->dictionary) {
    int64_t k = otap_view_get_int(v, i);
    if (k < 0 || k >= v->dictionary->length || otap_view_is_null(v->dictionary, k)) return;
    otap_view_get_bytes(v->dictionary, k, data, len);
  } else {
    otap_view_get_bytes(v, i, data, len);
  }
  *null = false;
}

bool otap__view_int(const struct otap_array_view* v, int64_t i, int64_t* out) {
  *out = 0;
  if (!v || otap_view_is_null(v, i)) return false;
  if (v->dictionary) {
    int64_t k = otap_view_get_int(v, i);
    if (k < 0 || k >= v->dictionary->length || otap_view_is_null(v->dictionary, k)) return false;
    *out = otap_view_get_int(v->dictionary, k);
  } else {
    *out = otap_view_get_int(v, i);
  }
  return true;
}

int otap_logs_field_id_encoding(const struct ArrowSchema* field,
                                enum otap_id_encoding transport_default,
                                enum otap_id_encoding* out, struct otap_error* err) {
  *out = transport_default;
  const char* v;
  int32_t n;
  if (!field->metadata || otap_metadata_find(field->metadata, "encoding", &v, &n) != 0) return 0;
  if (n == 5 && memcmp(v, "plain", 5) == 0) {
    *out = OTAP_ID_PLAIN;
  } else if (n == 5 && memcmp(v, "delta", 5) == 0) {
    *out = OTAP_ID_DELTA;
  } else if (n == 10 && memcmp(v, "quasidelta", 10) == 0) {
    *out = OTAP_ID_QUASI_DELTA;
  } else {
    return otap_error_set(err, EINVAL,
                          "field '%s': unknown id encoding '%.*s' in metadata (expected plain, "
                          "delta or quasidelta)",
                          field->name ? field->name : "", (int)(n > 64 ? 64 : n), v);
  }
  return 0;
}

int otap__set_encoding_metadata(struct ArrowSchema* field, const char* value) {
  struct otap_metadata_entry entries[32];
  int32_t n = 0, count = 0;
  if (field->metadata && otap_metadata_count(field->metadata, &count, NULL) != 0) count = 0;
  for (int32_t i = 0; i < count && n < 31; i++) {
    struct otap_metadata_entry e;
    if (otap_metadata_get_entry(field->metadata, i, &e, NULL) != 0) break;
    if (e.key_len == 8 && memcmp(e.key, "encoding", 8) == 0) continue;
    entries[n++] = e;
  }
  entries[n].key = "encoding";
  entries[n].key_len = 8;
  entries[n].value = value;
  entries[n].value_len = (int32_t)strlen(value);
  n++;
  struct otap_buffer buf;
  otap_buffer_init(&buf);
  int rc = otap_metadata_encode(&buf, entries, n);
  if (rc == 0) rc = otap_schema_set_metadata(field, (const char*)buf.data);
  otap_buffer_reset(&buf);
  return rc;
}

// ---------------------------------------------------------------------------------------------
// Schema checks

// True when format `f` matches the spec format `want` ("tsn:" matches any time zone).
static bool format_matches(const char* f, const char* want) {
  if (strcmp(want, "tsn:") == 0) return strncmp(f, "tsn:", 4) == 0;
  return strcmp(f, want) == 0;
}

static const char* type_label(const char* format) {
  if (strcmp(format, "S") == 0) return "uint16";
  if (strcmp(format, "C") == 0) return "uint8";
  if (strcmp(format, "I") == 0) return "uint32";
  if (strcmp(format, "i") == 0) return "int32";
  if (strcmp(format, "l") == 0) return "int64";
  if (strcmp(format, "g") == 0) return "float64";
  if (strcmp(format, "b") == 0) return "bool";
  if (strcmp(format, "u") == 0) return "utf8";
  if (strcmp(format, "z") == 0) return "binary";
  if (strcmp(format, "w:16") == 0) return "fixed_size_binary(16)";
  if (strcmp(format, "w:8") == 0) return "fixed_size_binary(8)";
  if (strcmp(format, "tsn:") == 0) return "timestamp[ns]";
  if (strcmp(format, "+s") == 0) return "struct";
  return format;
}

static int check_field(const char* table, const char* path, const struct ArrowSchema* f,
                       const struct otap__logs_column_spec* spec, struct otap_error* err);

// "prefix.name" (or "name") into out, truncated; plain copies (this runs for every column of
// every validated payload).
static void join_path(char* out, size_t n, const char* prefix, const char* name) {
  size_t o = 0;
  const char* parts[3] = {prefix ? prefix : "", prefix ? "." : "", name ? name : ""};
  for (int k = 0; k < 3; k++) {
    size_t l = strlen(parts[k]);
    if (l > n - 1 - o) l = n - 1 - o;
    memcpy(out + o, parts[k], l);
    o += l;
  }
  out[o] = '\0';
}

static int check_struct_children(const char* table, const char* prefix,
                                 const struct ArrowSchema* s,
                                 const struct otap__logs_column_spec* specs,
                                 struct otap_error* err) {
  for (int64_t i = 0; i < s->n_children; i++) {
    const struct ArrowSchema* c = s->children[i];
    if (!c || !c->format) {
      return otap_error_set(err, EINVAL, "%s: column %lld of '%s' has no schema", table,
                            (long long)i, prefix ? prefix : "");
    }
    char path[256];
    join_path(path, sizeof(path), prefix, c->name);
    const struct otap__logs_column_spec* spec = otap__logs_find_spec(specs, c->name);
    if (!spec) {
      return otap_error_set(err, EINVAL,
                            "%s: unknown column '%s' (not in the OTAP logs specification)", table,
                            path);
    }
    for (int64_t j = 0; j < i; j++) {
      const char* n2 = s->children[j]->name;
      if (n2 && strcmp(n2, c->name) == 0) {
        return otap_error_set(err, EINVAL, "%s: duplicate column '%s'", table, path);
      }
    }
    OTAP_RETURN_NOT_OK(check_field(table, path, c, spec, err));
  }
  for (const struct otap__logs_column_spec* sp = specs; sp->name; sp++) {
    if (sp->required && otap__logs_child_index(s, sp->name) < 0) {
      return otap_error_set(err, EINVAL, "%s: required column '%s%s%s' is missing", table,
                            prefix ? prefix : "", prefix ? "." : "", sp->name);
    }
  }
  return 0;
}

static int check_field(const char* table, const char* path, const struct ArrowSchema* f,
                       const struct otap__logs_column_spec* spec, struct otap_error* err) {
  if (spec->children) {
    if (strcmp(f->format, "+s") != 0 || f->dictionary) {
      return otap_error_set(err, EINVAL, "%s: column '%s' must be a struct, found format '%s'",
                            table, path, f->format);
    }
    return check_struct_children(table, path, f, spec->children, err);
  }
  if (f->dictionary) {
    if (spec->dict == OTAP__DICT_NO) {
      return otap_error_set(err, EINVAL, "%s: column '%s' must not be dictionary-encoded", table,
                            path);
    }
    bool u8 = strcmp(f->format, "C") == 0, u16 = strcmp(f->format, "S") == 0;
    if (!u8 && !u16) {
      return otap_error_set(err, EINVAL,
                            "%s: column '%s' has dictionary key type '%s' (only uint8 or uint16 "
                            "keys are allowed)",
                            table, path, f->format);
    }
    if (u8 && spec->dict == OTAP__DICT_U16) {
      return otap_error_set(err, EINVAL,
                            "%s: column '%s' must use uint16 dictionary keys (uint8 keys are not "
                            "allowed for this column)",
                            table, path);
    }
    const struct ArrowSchema* d = f->dictionary;
    if (!d->format || d->dictionary || !format_matches(d->format, spec->format)) {
      return otap_error_set(err, EINVAL,
                            "%s: column '%s' has dictionary values of format '%s', expected %s",
                            table, path, d->format ? d->format : "?", type_label(spec->format));
    }
    return 0;
  }
  if (!format_matches(f->format, spec->format)) {
    return otap_error_set(err, EINVAL, "%s: column '%s' has format '%s', expected %s%s", table,
                          path, f->format, type_label(spec->format),
                          spec->dict == OTAP__DICT_U8    ? " or a dictionary of it (uint8/uint16 keys)"
                          : spec->dict == OTAP__DICT_U16 ? " or a dictionary of it (uint16 keys)"
                                                         : "");
  }
  if (spec->id_encoding != OTAP_ID_PLAIN) {
    enum otap_id_encoding enc;
    int rc = otap_logs_field_id_encoding(f, spec->id_encoding, &enc, err);
    if (rc) return otap_error_prefix(err, rc, "%s: column '%s': ", table, path);
    if (enc != OTAP_ID_PLAIN && enc != spec->id_encoding) {
      return otap_error_set(err, EINVAL, "%s: column '%s' declares encoding %s, expected %s or plain",
                            table, path, enc == OTAP_ID_DELTA ? "delta" : "quasidelta",
                            spec->id_encoding == OTAP_ID_DELTA ? "delta" : "quasidelta");
    }
  }
  return 0;
}

static int check_table_schema(enum otap_logs_table t, const struct ArrowSchema* s,
                              struct otap_error* err) {
  const char* table = otap_logs_table_name(t);
  if (!s->format || strcmp(s->format, "+s") != 0 || s->dictionary) {
    return otap_error_set(err, EINVAL, "%s: the record batch schema must be a struct (format '%s')",
                          table, s->format ? s->format : "?");
  }
  return check_struct_children(table, NULL, s, otap__logs_table_spec(t), err);
}

// ---------------------------------------------------------------------------------------------
// Data checks

static int check_type_column(const char* table, const char* path, int64_t n,
                             const struct otap_array_view* v, int64_t base,
                             const struct otap_array_view* parent, int64_t parent_base,
                             struct otap_error* err) {
  // Fast path: plain uint8 without nulls: one scan for the largest value.
  if (!v->dictionary && v->storage_type == OTAP_TYPE_UINT8 && v->null_count == 0) {
    const uint8_t* p = v->buffers[1] + v->offset + base;
    uint8_t mx = 0;
    for (int64_t i = 0; i < n; i++) mx = p[i] > mx ? p[i] : mx;
    if (mx <= 7) return 0;
  }
  for (int64_t i = 0; i < n; i++) {
    if (parent && otap_view_is_null(parent, parent_base + i)) continue;
    if (otap_view_is_null(v, base + i)) {
      return otap_error_set(err, EINVAL, "%s: required column '%s' is null at row %lld", table,
                            path, (long long)i);
    }
    uint64_t ty = otap_view_get_uint(v, base + i);
    if (ty > 7) {
      return otap_error_set(err, EINVAL,
                            "%s: column '%s' has value type %llu at row %lld (valid: 0..7)", table,
                            path, (unsigned long long)ty, (long long)i);
    }
  }
  return 0;
}

static int check_not_null(const char* table, const char* path, int64_t n,
                          const struct otap_array_view* v, int64_t base, struct otap_error* err) {
  if (v->null_count == 0 && !v->dictionary) return 0;
  // Fast path: dictionary without nulls in keys or values: every key must be in range.
  if (v->dictionary && v->null_count == 0 && v->dictionary->null_count == 0 &&
      (v->storage_type == OTAP_TYPE_UINT8 || v->storage_type == OTAP_TYPE_UINT16)) {
    int64_t mx = -1;
    if (v->storage_type == OTAP_TYPE_UINT8) {
      const uint8_t* p = v->buffers[1] + v->offset + base;
      uint8_t m = 0;
      for (int64_t i = 0; i < n; i++) m = p[i] > m ? p[i] : m;
      mx = n > 0 ? m : -1;
    } else {
      const uint16_t* p = (const uint16_t*)(const void*)v->buffers[1] + v->offset + base;
      uint16_t m = 0;
      for (int64_t i = 0; i < n; i++) m = p[i] > m ? p[i] : m;
      mx = n > 0 ? m : -1;
    }
    if (mx < v->dictionary->length) return 0;
  }
  for (int64_t i = 0; i < n; i++) {
    if (otap__view_is_null_any(v, base + i)) {
      return otap_error_set(err, EINVAL, "%s: required column '%s' is null at row %lld", table,
                            path, (long long)i);
    }
  }
  return 0;
}

void otap_logs_validate_options_init(struct otap_logs_validate_options* o) {
  memset(o, 0, sizeof(*o));
  o->level = OTAP_VALIDATE_FULL;
}

static int check_plain(const char* table, const char* path, const struct ArrowSchema* f,
                       enum otap_id_encoding def, struct otap_error* err) {
  enum otap_id_encoding enc;
  OTAP_RETURN_NOT_OK(otap_logs_field_id_encoding(f, def, &enc, err));
  if (enc != OTAP_ID_PLAIN) {
    return otap_error_set(err, EINVAL,
                          "%s: column '%s' is transport-encoded (%s); plain ids are required here",
                          table, path, enc == OTAP_ID_DELTA ? "delta" : "quasidelta");
  }
  return 0;
}

// Checks parent ids of an attribute table against a set of parent ids.
static int check_refs(const char* table, const struct otap__attrs* attrs, const uint8_t* present,
                      struct otap_error* err) {
  for (int64_t i = 0; i < attrs->n; i++) {
    uint16_t pid = (uint16_t)otap_view_get_uint(attrs->parent_id, attrs->base + i);
    if (!present[pid]) {
      return otap_error_set(err, EINVAL, "%s: parent_id %u at row %lld matches no parent id",
                            table, pid, (long long)i);
    }
  }
  return 0;
}

static int validate_logs_table(const struct otap_logs_payload* p,
                               const struct otap_logs_validate_options* o,
                               uint8_t* present[3], const struct otap_array_view* given,
                               struct otap_error* err) {
  const struct ArrowSchema* s = &p->schema[OTAP_LOGS_LOGS];
  struct otap_array_view own;
  memset(&own, 0, sizeof(own));
  int rc = 0;
  const char* table = "LOGS";
  if (!given) {
    OTAP_GOTO_NOT_OK(rc, otap_array_view_init(&own, s, err));
    rc = otap_array_view_set(&own, &p->batch[OTAP_LOGS_LOGS], o->level, err);
    if (rc) {
      otap_error_prefix(err, rc, "LOGS: ");
      goto done;
    }
  }
  const struct otap_array_view* vw = given ? given : &own;
#define view (*vw)
  int64_t n = p->batch[OTAP_LOGS_LOGS].length, base = p->batch[OTAP_LOGS_LOGS].offset;
  int64_t bi = otap__logs_child_index(s, "body");
  if (bi >= 0) {
    const struct otap_array_view* body = view.children[bi];
    const struct otap_array_view* ty = otap__view_child(body, s->children[bi], "type");
    OTAP_GOTO_NOT_OK(rc, check_type_column(table, "body.type", n, ty, base + body->offset, body,
                                           base, err));
  }
  // Id columns: LOGS.id, resource.id, scope.id.
  static const char* const kParents[3] = {"resource", "scope", NULL};
  for (int k = 0; k < 3; k++) {
    const struct ArrowSchema* f;
    const struct otap_array_view *v, *parent = NULL;
    int64_t vbase = base;
    char path[32];
    if (kParents[k]) {
      int64_t si = otap__logs_child_index(s, kParents[k]);
      if (si < 0) continue;
      int64_t ci = otap__logs_child_index(s->children[si], "id");
      if (ci < 0) continue;
      f = s->children[si]->children[ci];
      parent = view.children[si];
      v = parent->children[ci];
      vbase = base + parent->offset;
      snprintf(path, sizeof(path), "%s.id", kParents[k]);
    } else {
      int64_t ci = otap__logs_child_index(s, "id");
      if (ci < 0) continue;
      f = s->children[ci];
      v = view.children[ci];
      snprintf(path, sizeof(path), "id");
    }
    if (o->require_plain_ids || o->check_references) {
      OTAP_GOTO_NOT_OK(rc, check_plain(table, path, f, OTAP_ID_DELTA, err));
    }
    if (o->check_references) {
      uint8_t* set = present[k];
      for (int64_t i = 0; i < n; i++) {
        if (otap_view_is_null(v, vbase + i)) continue;
        if (parent && otap_view_is_null(parent, base + i)) continue;
        uint16_t id = (uint16_t)otap_view_get_uint(v, vbase + i);
        if (!kParents[k] && set[id]) {
          rc = otap_error_set(err, EINVAL, "LOGS: id %u is not unique (row %lld)", id,
                              (long long)i);
          goto done;
        }
        set[id] = 1;
      }
    }
  }
#undef view
done:
  otap_array_view_reset(&own);
  return rc;
}

int otap_logs_validate(const struct otap_logs_payload* p,
                       const struct otap_logs_validate_options* options, struct otap_error* err) {
  return otap_logs_validate_views(p, NULL, options, err);
}

int otap_logs_validate_views(const struct otap_logs_payload* p,
                              const struct otap_array_view* const* views,
                              const struct otap_logs_validate_options* options,
                              struct otap_error* err) {
  struct otap_logs_validate_options defaults;
  if (!options) {
    otap_logs_validate_options_init(&defaults);
    options = &defaults;
  }
  int rc = 0;
  uint8_t* present[3] = {NULL, NULL, NULL};  // resource ids, scope ids, log ids
  for (int t = 0; t < OTAP_LOGS_N_TABLES; t++) {
    bool hs = p->schema[t].release != NULL, hb = p->batch[t].release != NULL;
    const char* table = otap_logs_table_name((enum otap_logs_table)t);
    if (hs != hb) {
      return otap_error_set(err, EINVAL, "%s: the table has a %s but no %s", table,
                            hs ? "schema" : "batch", hs ? "batch" : "schema");
    }
    if (!hs) continue;
    OTAP_RETURN_NOT_OK(check_table_schema((enum otap_logs_table)t, &p->schema[t], err));
  }
  if (options->check_references) {
    for (int k = 0; k < 3; k++) {
      present[k] = otap_calloc(65536, 1);
      if (!present[k]) {
        rc = otap_error_set(err, ENOMEM, "out of memory validating a logs payload");
        goto done;
      }
    }
  }
  if (otap_logs_payload_has_table(p, OTAP_LOGS_LOGS)) {
    OTAP_GOTO_NOT_OK(rc, validate_logs_table(p, options, present,
                                             views ? views[OTAP_LOGS_LOGS] : NULL, err));
  }
  static const enum otap_logs_table kAttrTables[3] = {
      OTAP_LOGS_RESOURCE_ATTRS, OTAP_LOGS_SCOPE_ATTRS, OTAP_LOGS_LOG_ATTRS};
  for (int k = 0; k < 3; k++) {
    enum otap_logs_table t = kAttrTables[k];
    if (!otap_logs_payload_has_table(p, t)) continue;
    const char* table = otap_logs_table_name(t);
    struct otap__attrs a;
    if (views && views[t]) {
      rc = otap__attrs_bind(&a, &p->schema[t], &p->batch[t], views[t], table, err);
    } else {
      rc = otap__attrs_init(&a, &p->schema[t], &p->batch[t], options->level, table, err);
    }
    if (rc) goto done;
    rc = check_type_column(table, "type", a.n, a.type, a.base, NULL, 0, err);
    if (!rc) rc = check_not_null(table, "parent_id", a.n, a.parent_id, a.base, err);
    if (!rc) rc = check_not_null(table, "key", a.n, a.key, a.base, err);
    if (!rc && (options->require_plain_ids || options->check_references)) {
      int64_t ci = otap__logs_child_index(&p->schema[t], "parent_id");
      rc = check_plain(table, "parent_id", p->schema[t].children[ci], OTAP_ID_QUASI_DELTA, err);
    }
    if (!rc && options->check_references) rc = check_refs(table, &a, present[k], err);
    otap__attrs_reset(&a);
    if (rc) goto done;
  }
done:
  for (int k = 0; k < 3; k++) otap_free(present[k]);
  return rc;
}
