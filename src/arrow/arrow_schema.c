// Schemas: type names, format string parsing (every C Data Interface format), building,
// copying, comparing and printing ArrowSchema trees, and key-value metadata.
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "arrow/arrow_internal.h"

const char* otap_type_name(enum otap_type type) {
  switch (type) {
    case OTAP_TYPE_UNINITIALIZED: return "uninitialized";
    case OTAP_TYPE_NA: return "na";
    case OTAP_TYPE_BOOL: return "bool";
    case OTAP_TYPE_INT8: return "int8";
    case OTAP_TYPE_UINT8: return "uint8";
    case OTAP_TYPE_INT16: return "int16";
    case OTAP_TYPE_UINT16: return "uint16";
    case OTAP_TYPE_INT32: return "int32";
    case OTAP_TYPE_UINT32: return "uint32";
    case OTAP_TYPE_INT64: return "int64";
    case OTAP_TYPE_UINT64: return "uint64";
    case OTAP_TYPE_HALF_FLOAT: return "half_float";
    case OTAP_TYPE_FLOAT: return "float";
    case OTAP_TYPE_DOUBLE: return "double";
    case OTAP_TYPE_DECIMAL32: return "decimal32";
    case OTAP_TYPE_DECIMAL64: return "decimal64";
    case OTAP_TYPE_DECIMAL128: return "decimal128";
    case OTAP_TYPE_DECIMAL256: return "decimal256";
    case OTAP_TYPE_STRING: return "utf8";
    case OTAP_TYPE_LARGE_STRING: return "large_utf8";
    case OTAP_TYPE_BINARY: return "binary";
    case OTAP_TYPE_LARGE_BINARY: return "large_binary";
    case OTAP_TYPE_FIXED_SIZE_BINARY: return "fixed_size_binary";
    case OTAP_TYPE_DATE32: return "date32";
    case OTAP_TYPE_DATE64: return "date64";
    case OTAP_TYPE_TIME32: return "time32";
    case OTAP_TYPE_TIME64: return "time64";
    case OTAP_TYPE_TIMESTAMP: return "timestamp";
    case OTAP_TYPE_DURATION: return "duration";
    case OTAP_TYPE_INTERVAL_MONTHS: return "interval_months";
    case OTAP_TYPE_INTERVAL_DAY_TIME: return "interval_day_time";
    case OTAP_TYPE_INTERVAL_MONTH_DAY_NANO: return "interval_month_day_nano";
    case OTAP_TYPE_STRUCT: return "struct";
    case OTAP_TYPE_LIST: return "list";
    case OTAP_TYPE_LARGE_LIST: return "large_list";
    case OTAP_TYPE_FIXED_SIZE_LIST: return "fixed_size_list";
    case OTAP_TYPE_MAP: return "map";
    case OTAP_TYPE_DENSE_UNION: return "dense_union";
    case OTAP_TYPE_SPARSE_UNION: return "sparse_union";
    case OTAP_TYPE_RUN_END_ENCODED: return "run_end_encoded";
    case OTAP_TYPE_STRING_VIEW: return "utf8_view";
    case OTAP_TYPE_BINARY_VIEW: return "binary_view";
    case OTAP_TYPE_LIST_VIEW: return "list_view";
    case OTAP_TYPE_LARGE_LIST_VIEW: return "large_list_view";
    case OTAP_TYPE_DICTIONARY: return "dictionary";
  }
  return "unknown";
}

bool otap__type_has_validity(enum otap_type t) {
  switch (t) {
    case OTAP_TYPE_UNINITIALIZED:
    case OTAP_TYPE_NA:
    case OTAP_TYPE_DENSE_UNION:
    case OTAP_TYPE_SPARSE_UNION:
    case OTAP_TYPE_RUN_END_ENCODED:
      return false;
    default:
      return true;
  }
}

// ---------------------------------------------------------------------------------------------
// Metadata

static int32_t load_i32(const char* p) {
  int32_t v;
  memcpy(&v, p, 4);
  return v;
}

// Walks the blob up to entry `stop` (or all when stop < 0); fills *entry for entry `stop`.
static int metadata_walk(const char* metadata, int32_t stop, int32_t* count_out,
                         struct otap_metadata_entry* entry, int64_t* size_out,
                         struct otap_error* err) {
  if (!metadata) {
    if (count_out) *count_out = 0;
    if (size_out) *size_out = 0;
    return 0;
  }
  int32_t n = load_i32(metadata);
  OTAP_RETURN_IF(n < 0, err, EINVAL, "schema metadata: negative entry count %" PRId32, n);
  if (count_out) *count_out = n;
  OTAP_RETURN_IF(stop >= n, err, EINVAL, "schema metadata: entry %" PRId32 " of %" PRId32, stop,
                 n);
  int64_t pos = 4;
  for (int32_t i = 0; i < n; i++) {
    int32_t klen = load_i32(metadata + pos);
    OTAP_RETURN_IF(klen < 0, err, EINVAL,
                   "schema metadata: entry %" PRId32 ": negative key length at byte %" PRId64, i,
                   pos);
    const char* key = metadata + pos + 4;
    pos += 4 + (int64_t)klen;
    int32_t vlen = load_i32(metadata + pos);
    OTAP_RETURN_IF(vlen < 0, err, EINVAL,
                   "schema metadata: entry %" PRId32 ": negative value length at byte %" PRId64,
                   i, pos);
    const char* value = metadata + pos + 4;
    pos += 4 + (int64_t)vlen;
    if (i == stop && entry) {
      entry->key = key;
      entry->key_len = klen;
      entry->value = value;
      entry->value_len = vlen;
      return 0;
    }
  }
  if (size_out) *size_out = pos;
  return 0;
}

int otap_metadata_count(const char* metadata, int32_t* out, struct otap_error* err) {
  int32_t n = 0;
  OTAP_RETURN_NOT_OK(metadata_walk(metadata, -1, &n, NULL, NULL, err));
  *out = n;
  return 0;
}

int otap_metadata_get_entry(const char* metadata, int32_t i, struct otap_metadata_entry* out,
                            struct otap_error* err) {
  OTAP_RETURN_IF(i < 0 || !metadata, err, EINVAL, "schema metadata: no entry %" PRId32, i);
  return metadata_walk(metadata, i, NULL, out, NULL, err);
}

int otap_metadata_find(const char* metadata, const char* key, const char** value,
                       int32_t* value_len) {
  if (!metadata) return ENOENT;
  int32_t n = load_i32(metadata);
  if (n < 0) return EINVAL;
  size_t key_len = strlen(key);
  int64_t pos = 4;
  for (int32_t i = 0; i < n; i++) {
    int32_t klen = load_i32(metadata + pos);
    if (klen < 0) return EINVAL;
    const char* k = metadata + pos + 4;
    pos += 4 + (int64_t)klen;
    int32_t vlen = load_i32(metadata + pos);
    if (vlen < 0) return EINVAL;
    if ((size_t)klen == key_len && memcmp(k, key, key_len) == 0) {
      if (value) *value = metadata + pos + 4;
      if (value_len) *value_len = vlen;
      return 0;
    }
    pos += 4 + (int64_t)vlen;
  }
  return ENOENT;
}

int otap_metadata_encode(struct otap_buffer* buf, const struct otap_metadata_entry* entries,
                         int32_t n) {
  if (n < 0) return EINVAL;
  buf->size = 0;
  OTAP_RETURN_NOT_OK(otap_buffer_append(buf, &n, 4));
  for (int32_t i = 0; i < n; i++) {
    const struct otap_metadata_entry* e = &entries[i];
    if (e->key_len < 0 || e->value_len < 0) return EINVAL;
    OTAP_RETURN_NOT_OK(otap_buffer_append(buf, &e->key_len, 4));
    OTAP_RETURN_NOT_OK(otap_buffer_append(buf, e->key, e->key_len));
    OTAP_RETURN_NOT_OK(otap_buffer_append(buf, &e->value_len, 4));
    OTAP_RETURN_NOT_OK(otap_buffer_append(buf, e->value, e->value_len));
  }
  return 0;
}

int64_t otap_metadata_size(const char* metadata) {
  int64_t size = 0;
  if (metadata_walk(metadata, -1, NULL, NULL, &size, NULL) != 0) return 0;
  return size;
}

// ---------------------------------------------------------------------------------------------
// Format parsing

static int parse_int(const char** p, int64_t min, int64_t max, int64_t* out) {
  const char* s = *p;
  bool neg = false;
  if (*s == '-') {
    neg = true;
    s++;
  }
  if (*s < '0' || *s > '9') return EINVAL;
  int64_t v = 0;
  while (*s >= '0' && *s <= '9') {
    v = v * 10 + (*s - '0');
    if (v > (int64_t)1 << 40) return EINVAL;
    s++;
  }
  if (neg) v = -v;
  if (v < min || v > max) return EINVAL;
  *out = v;
  *p = s;
  return 0;
}

static void set_fixed(struct otap_schema_view* v, enum otap_type t, int32_t bits) {
  v->type = t;
  v->storage_type = t;
  v->bit_width = bits;
  v->n_buffers = 2;
}

static int parse_format(struct otap_schema_view* v, const char* f, struct otap_error* err) {
#define BAD() return otap_error_set(err, EINVAL, "schema: malformed format string '%s'", f)
#define UNSUP() return otap_error_set(err, ENOTSUP, "schema: unsupported format string '%s'", f)
  if (f[0] == '\0') BAD();
  // Single-character primitives.
  if (f[1] == '\0') {
    switch (f[0]) {
      case 'n': v->type = v->storage_type = OTAP_TYPE_NA; v->n_buffers = 0; return 0;
      case 'b': set_fixed(v, OTAP_TYPE_BOOL, 1); return 0;
      case 'c': set_fixed(v, OTAP_TYPE_INT8, 8); return 0;
      case 'C': set_fixed(v, OTAP_TYPE_UINT8, 8); return 0;
      case 's': set_fixed(v, OTAP_TYPE_INT16, 16); return 0;
      case 'S': set_fixed(v, OTAP_TYPE_UINT16, 16); return 0;
      case 'i': set_fixed(v, OTAP_TYPE_INT32, 32); return 0;
      case 'I': set_fixed(v, OTAP_TYPE_UINT32, 32); return 0;
      case 'l': set_fixed(v, OTAP_TYPE_INT64, 64); return 0;
      case 'L': set_fixed(v, OTAP_TYPE_UINT64, 64); return 0;
      case 'e': set_fixed(v, OTAP_TYPE_HALF_FLOAT, 16); return 0;
      case 'f': set_fixed(v, OTAP_TYPE_FLOAT, 32); return 0;
      case 'g': set_fixed(v, OTAP_TYPE_DOUBLE, 64); return 0;
      case 'u': v->type = v->storage_type = OTAP_TYPE_STRING; v->n_buffers = 3; return 0;
      case 'U': v->type = v->storage_type = OTAP_TYPE_LARGE_STRING; v->n_buffers = 3; return 0;
      case 'z': v->type = v->storage_type = OTAP_TYPE_BINARY; v->n_buffers = 3; return 0;
      case 'Z': v->type = v->storage_type = OTAP_TYPE_LARGE_BINARY; v->n_buffers = 3; return 0;
      default: UNSUP();
    }
  }
  const char* p;
  int64_t a, b;
  switch (f[0]) {
    case 'v':
      if (strcmp(f, "vu") == 0) {
        v->type = v->storage_type = OTAP_TYPE_STRING_VIEW;
      } else if (strcmp(f, "vz") == 0) {
        v->type = v->storage_type = OTAP_TYPE_BINARY_VIEW;
      } else {
        UNSUP();
      }
      v->n_buffers = 2;
      return 0;
    case 'w':
      if (f[1] != ':') BAD();
      p = f + 2;
      if (parse_int(&p, 0, INT32_MAX / 8, &a) != 0 || *p) BAD();
      set_fixed(v, OTAP_TYPE_FIXED_SIZE_BINARY, (int32_t)(a * 8));
      v->fixed_size = (int32_t)a;
      return 0;
    case 'd': {
      if (f[1] != ':') BAD();
      p = f + 2;
      if (parse_int(&p, 1, 1000, &a) != 0 || *p != ',') BAD();
      p++;
      if (parse_int(&p, -1000, 1000, &b) != 0) BAD();
      int64_t bits = 128;
      if (*p == ',') {
        p++;
        if (parse_int(&p, 0, 1024, &bits) != 0) BAD();
      }
      if (*p) BAD();
      int64_t maxp;
      enum otap_type t;
      switch (bits) {
        case 32: t = OTAP_TYPE_DECIMAL32; maxp = 9; break;
        case 64: t = OTAP_TYPE_DECIMAL64; maxp = 18; break;
        case 128: t = OTAP_TYPE_DECIMAL128; maxp = 38; break;
        case 256: t = OTAP_TYPE_DECIMAL256; maxp = 76; break;
        default: UNSUP();
      }
      if (a > maxp) BAD();
      set_fixed(v, t, (int32_t)bits);
      v->decimal_bitwidth = (int32_t)bits;
      v->decimal_precision = (int32_t)a;
      v->decimal_scale = (int32_t)b;
      return 0;
    }
    case 't': {
      char unit_c = f[2];
      enum otap_time_unit unit;
      switch (unit_c) {
        case 's': unit = OTAP_TIME_UNIT_SECOND; break;
        case 'm': unit = OTAP_TIME_UNIT_MILLI; break;
        case 'u': unit = OTAP_TIME_UNIT_MICRO; break;
        case 'n': unit = OTAP_TIME_UNIT_NANO; break;
        default: unit = OTAP_TIME_UNIT_SECOND; break;
      }
      bool unit_ok = unit_c == 's' || unit_c == 'm' || unit_c == 'u' || unit_c == 'n';
      switch (f[1]) {
        case 'd':
          if (strcmp(f, "tdD") == 0) set_fixed(v, OTAP_TYPE_DATE32, 32);
          else if (strcmp(f, "tdm") == 0) set_fixed(v, OTAP_TYPE_DATE64, 64);
          else BAD();
          if (f[2] == 'm') v->time_unit = OTAP_TIME_UNIT_MILLI;
          return 0;
        case 't':
          if (!unit_ok || f[3]) BAD();
          if (unit <= OTAP_TIME_UNIT_MILLI) set_fixed(v, OTAP_TYPE_TIME32, 32);
          else set_fixed(v, OTAP_TYPE_TIME64, 64);
          v->time_unit = unit;
          return 0;
        case 's':
          if (!unit_ok || (f[3] != ':' && f[3] != '\0')) BAD();
          set_fixed(v, OTAP_TYPE_TIMESTAMP, 64);
          v->time_unit = unit;
          if (f[3] == ':') {
            v->timezone = f + 4;
            size_t n = strlen(f + 4);
            if (n > INT32_MAX) BAD();
            v->timezone_len = (int32_t)n;
          }
          return 0;
        case 'D':
          if (!unit_ok || f[3]) BAD();
          set_fixed(v, OTAP_TYPE_DURATION, 64);
          v->time_unit = unit;
          return 0;
        case 'i':
          if (strcmp(f, "tiM") == 0) set_fixed(v, OTAP_TYPE_INTERVAL_MONTHS, 32);
          else if (strcmp(f, "tiD") == 0) set_fixed(v, OTAP_TYPE_INTERVAL_DAY_TIME, 64);
          else if (strcmp(f, "tin") == 0) set_fixed(v, OTAP_TYPE_INTERVAL_MONTH_DAY_NANO, 128);
          else BAD();
          return 0;
        default:
          UNSUP();
      }
    }
    case '+':
      switch (f[1]) {
        case 's':
          if (f[2]) BAD();
          v->type = v->storage_type = OTAP_TYPE_STRUCT;
          v->n_buffers = 1;
          return 0;
        case 'l':
        case 'L':
          if (f[2]) BAD();
          v->type = v->storage_type = f[1] == 'l' ? OTAP_TYPE_LIST : OTAP_TYPE_LARGE_LIST;
          v->n_buffers = 2;
          return 0;
        case 'm':
          if (f[2]) BAD();
          v->type = v->storage_type = OTAP_TYPE_MAP;
          v->n_buffers = 2;
          return 0;
        case 'r':
          if (f[2]) BAD();
          v->type = v->storage_type = OTAP_TYPE_RUN_END_ENCODED;
          v->n_buffers = 0;
          return 0;
        case 'w':
          if (f[2] != ':') BAD();
          p = f + 3;
          if (parse_int(&p, 0, INT32_MAX, &a) != 0 || *p) BAD();
          v->type = v->storage_type = OTAP_TYPE_FIXED_SIZE_LIST;
          v->fixed_size = (int32_t)a;
          v->n_buffers = 1;
          return 0;
        case 'v':
          if (strcmp(f, "+vl") == 0) v->type = v->storage_type = OTAP_TYPE_LIST_VIEW;
          else if (strcmp(f, "+vL") == 0) v->type = v->storage_type = OTAP_TYPE_LARGE_LIST_VIEW;
          else UNSUP();
          v->n_buffers = 3;
          return 0;
        case 'u': {
          if (f[2] == 'd') {
            v->type = v->storage_type = OTAP_TYPE_DENSE_UNION;
            v->n_buffers = 2;
          } else if (f[2] == 's') {
            v->type = v->storage_type = OTAP_TYPE_SPARSE_UNION;
            v->n_buffers = 1;
          } else {
            UNSUP();
          }
          if (f[3] != ':') BAD();
          p = f + 4;
          v->n_union_type_ids = 0;
          while (*p) {
            if (v->n_union_type_ids >= 128) BAD();
            if (parse_int(&p, 0, 127, &a) != 0) BAD();
            for (int32_t k = 0; k < v->n_union_type_ids; k++) {
              if (v->union_type_ids[k] == a) BAD();
            }
            v->union_type_ids[v->n_union_type_ids++] = (int8_t)a;
            if (*p == ',') {
              p++;
              if (!*p) BAD();
            } else if (*p) {
              BAD();
            }
          }
          return 0;
        }
        default:
          UNSUP();
      }
    default:
      UNSUP();
  }
#undef BAD
#undef UNSUP
}

static bool is_integer_type(enum otap_type t) {
  return t >= OTAP_TYPE_INT8 && t <= OTAP_TYPE_UINT64;
}

int otap_schema_view_init(struct otap_schema_view* out, const struct ArrowSchema* schema,
                          struct otap_error* err) {
  memset(out, 0, sizeof(*out));
  OTAP_RETURN_IF(!schema || !schema->release, err, EINVAL, "schema: released or NULL schema");
  OTAP_RETURN_IF(!schema->format, err, EINVAL, "schema: NULL format string");
  out->schema = schema;
  OTAP_RETURN_NOT_OK(parse_format(out, schema->format, err));
  const char* f = schema->format;
  OTAP_RETURN_IF(schema->n_children < 0 || (schema->n_children > 0 && !schema->children), err,
                 EINVAL, "schema '%s': bad children (n_children %" PRId64 ")", f,
                 schema->n_children);
  for (int64_t i = 0; i < schema->n_children; i++) {
    OTAP_RETURN_IF(!schema->children[i], err, EINVAL, "schema '%s': child %" PRId64 " is NULL",
                   f, i);
  }
  int64_t want = -1;
  switch (out->storage_type) {
    case OTAP_TYPE_STRUCT:
      break;
    case OTAP_TYPE_LIST:
    case OTAP_TYPE_LARGE_LIST:
    case OTAP_TYPE_FIXED_SIZE_LIST:
    case OTAP_TYPE_LIST_VIEW:
    case OTAP_TYPE_LARGE_LIST_VIEW:
    case OTAP_TYPE_MAP:
      want = 1;
      break;
    case OTAP_TYPE_RUN_END_ENCODED:
      want = 2;
      break;
    case OTAP_TYPE_DENSE_UNION:
    case OTAP_TYPE_SPARSE_UNION:
      want = out->n_union_type_ids;
      break;
    default:
      want = 0;
  }
  OTAP_RETURN_IF(want >= 0 && schema->n_children != want, err, EINVAL,
                 "schema '%s': expected %" PRId64 " children, found %" PRId64, f, want,
                 schema->n_children);
  if (out->storage_type == OTAP_TYPE_MAP) {
    const struct ArrowSchema* e = schema->children[0];
    OTAP_RETURN_IF(!e->format || strcmp(e->format, "+s") != 0 || e->n_children != 2, err, EINVAL,
                   "schema '+m': the entries child must be a struct of 2 fields (key, value)");
  }
  if (out->storage_type == OTAP_TYPE_RUN_END_ENCODED) {
    const struct ArrowSchema* r = schema->children[0];
    OTAP_RETURN_IF(!r->format || !(strcmp(r->format, "s") == 0 || strcmp(r->format, "i") == 0 ||
                                   strcmp(r->format, "l") == 0),
                   err, EINVAL, "schema '+r': run_ends child must be int16, int32 or int64");
  }
  if (schema->dictionary) {
    OTAP_RETURN_IF(!is_integer_type(out->storage_type), err, EINVAL,
                   "schema '%s': dictionary index type must be an integer", f);
    OTAP_RETURN_IF(!schema->dictionary->release, err, EINVAL,
                   "schema '%s': dictionary schema is released", f);
    out->type = OTAP_TYPE_DICTIONARY;
  }
  if (schema->metadata) {
    const char* name = NULL;
    int32_t len = 0;
    int rc = otap_metadata_find(schema->metadata, "ARROW:extension:name", &name, &len);
    OTAP_RETURN_IF(rc == EINVAL, err, EINVAL, "schema '%s': malformed metadata", f);
    if (rc == 0) {
      out->extension_name = name;
      out->extension_name_len = len;
    }
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Building schemas

static void schema_release(struct ArrowSchema* s) {
  if (!s || !s->release) return;
  for (int64_t i = 0; i < s->n_children; i++) {
    struct ArrowSchema* c = s->children ? s->children[i] : NULL;
    if (!c) continue;
    if (c->release) c->release(c);
    otap_free(c);
  }
  otap_free(s->children);
  if (s->dictionary) {
    if (s->dictionary->release) s->dictionary->release(s->dictionary);
    otap_free(s->dictionary);
  }
  otap_free((void*)s->format);
  otap_free((void*)s->name);
  otap_free((void*)s->metadata);
  memset(s, 0, sizeof(*s));
}

int otap_schema_init(struct ArrowSchema* out, const char* format) {
  memset(out, 0, sizeof(*out));
  if (!format) return EINVAL;
  char* f = otap_strdup(format);
  if (!f) return ENOMEM;
  out->format = f;
  out->flags = ARROW_FLAG_NULLABLE;
  out->release = schema_release;
  return 0;
}

static const char* simple_format(enum otap_type type) {
  switch (type) {
    case OTAP_TYPE_NA: return "n";
    case OTAP_TYPE_BOOL: return "b";
    case OTAP_TYPE_INT8: return "c";
    case OTAP_TYPE_UINT8: return "C";
    case OTAP_TYPE_INT16: return "s";
    case OTAP_TYPE_UINT16: return "S";
    case OTAP_TYPE_INT32: return "i";
    case OTAP_TYPE_UINT32: return "I";
    case OTAP_TYPE_INT64: return "l";
    case OTAP_TYPE_UINT64: return "L";
    case OTAP_TYPE_HALF_FLOAT: return "e";
    case OTAP_TYPE_FLOAT: return "f";
    case OTAP_TYPE_DOUBLE: return "g";
    case OTAP_TYPE_STRING: return "u";
    case OTAP_TYPE_LARGE_STRING: return "U";
    case OTAP_TYPE_BINARY: return "z";
    case OTAP_TYPE_LARGE_BINARY: return "Z";
    case OTAP_TYPE_DATE32: return "tdD";
    case OTAP_TYPE_DATE64: return "tdm";
    case OTAP_TYPE_INTERVAL_MONTHS: return "tiM";
    case OTAP_TYPE_INTERVAL_DAY_TIME: return "tiD";
    case OTAP_TYPE_INTERVAL_MONTH_DAY_NANO: return "tin";
    case OTAP_TYPE_STRUCT: return "+s";
    case OTAP_TYPE_LIST: return "+l";
    case OTAP_TYPE_LARGE_LIST: return "+L";
    case OTAP_TYPE_MAP: return "+m";
    case OTAP_TYPE_RUN_END_ENCODED: return "+r";
    case OTAP_TYPE_STRING_VIEW: return "vu";
    case OTAP_TYPE_BINARY_VIEW: return "vz";
    case OTAP_TYPE_LIST_VIEW: return "+vl";
    case OTAP_TYPE_LARGE_LIST_VIEW: return "+vL";
    default: return NULL;
  }
}

int otap_schema_init_type(struct ArrowSchema* out, enum otap_type type) {
  const char* f = simple_format(type);
  if (!f) {
    memset(out, 0, sizeof(*out));
    return EINVAL;
  }
  return otap_schema_init(out, f);
}

int otap_schema_set_format(struct ArrowSchema* schema, const char* format) {
  if (schema->release != schema_release) return ENOTSUP;
  if (!format) return EINVAL;
  char* f = otap_strdup(format);
  if (!f) return ENOMEM;
  otap_free((void*)schema->format);
  schema->format = f;
  return 0;
}

int otap_schema_set_name(struct ArrowSchema* schema, const char* name) {
  if (schema->release != schema_release) return ENOTSUP;
  char* n = NULL;
  if (name) {
    n = otap_strdup(name);
    if (!n) return ENOMEM;
  }
  otap_free((void*)schema->name);
  schema->name = n;
  return 0;
}

int otap_schema_set_metadata(struct ArrowSchema* schema, const char* metadata) {
  if (schema->release != schema_release) return ENOTSUP;
  char* m = NULL;
  if (metadata) {
    int32_t n;
    OTAP_RETURN_NOT_OK(otap_metadata_count(metadata, &n, NULL));
    int64_t size = otap_metadata_size(metadata);
    m = otap_malloc((size_t)size);
    if (!m) return ENOMEM;
    memcpy(m, metadata, (size_t)size);
  }
  otap_free((void*)schema->metadata);
  schema->metadata = m;
  return 0;
}

int otap_schema_allocate_children(struct ArrowSchema* schema, int64_t n) {
  if (schema->release != schema_release) return ENOTSUP;
  if (n < 0 || n > (1 << 20)) return EINVAL;
  struct ArrowSchema** kids = otap_calloc((size_t)(n ? n : 1), sizeof(*kids));
  if (!kids) return ENOMEM;
  for (int64_t i = 0; i < n; i++) {
    kids[i] = otap_calloc(1, sizeof(struct ArrowSchema));
    if (!kids[i]) {
      for (int64_t j = 0; j < i; j++) otap_free(kids[j]);
      otap_free(kids);
      return ENOMEM;
    }
  }
  for (int64_t i = 0; i < schema->n_children; i++) {
    struct ArrowSchema* c = schema->children[i];
    if (c && c->release) c->release(c);
    otap_free(c);
  }
  otap_free(schema->children);
  schema->children = kids;
  schema->n_children = n;
  return 0;
}

int otap_schema_allocate_dictionary(struct ArrowSchema* schema) {
  if (schema->release != schema_release) return ENOTSUP;
  struct ArrowSchema* d = otap_calloc(1, sizeof(*d));
  if (!d) return ENOMEM;
  if (schema->dictionary) {
    if (schema->dictionary->release) schema->dictionary->release(schema->dictionary);
    otap_free(schema->dictionary);
  }
  schema->dictionary = d;
  return 0;
}

static int deep_copy(const struct ArrowSchema* src, struct ArrowSchema* out, int depth,
                     struct otap_error* err) {
  OTAP_RETURN_IF(depth > 64, err, EINVAL, "schema copy: nesting deeper than 64");
  OTAP_RETURN_IF(!src->release || !src->format, err, EINVAL, "schema copy: released schema");
  int rc = otap_schema_init(out, src->format);
  if (rc) return otap_error_set(err, rc, "schema copy: out of memory");
  out->flags = src->flags;
  OTAP_GOTO_NOT_OK(rc, otap_schema_set_name(out, src->name));
  if (src->metadata) {
    rc = otap_schema_set_metadata(out, src->metadata);
    if (rc == EINVAL) {
      otap_error_set(err, rc, "schema copy: malformed metadata");
      goto done;
    }
    if (rc) goto done;
  }
  if (src->n_children < 0 || (src->n_children > 0 && !src->children)) {
    rc = otap_error_set(err, EINVAL, "schema copy: bad children");
    goto done;
  }
  OTAP_GOTO_NOT_OK(rc, otap_schema_allocate_children(out, src->n_children));
  for (int64_t i = 0; i < src->n_children; i++) {
    if (!src->children[i]) {
      rc = otap_error_set(err, EINVAL, "schema copy: child %" PRId64 " is NULL", i);
      goto done;
    }
    rc = deep_copy(src->children[i], out->children[i], depth + 1, err);
    if (rc) goto done;
  }
  if (src->dictionary) {
    OTAP_GOTO_NOT_OK(rc, otap_schema_allocate_dictionary(out));
    rc = deep_copy(src->dictionary, out->dictionary, depth + 1, err);
    if (rc) goto done;
  }
  return 0;
done:
  if (rc == ENOMEM) otap_error_set(err, rc, "schema copy: out of memory");
  otap_schema_release(out);
  return rc;
}

int otap_schema_deep_copy(const struct ArrowSchema* src, struct ArrowSchema* out,
                          struct otap_error* err) {
  return deep_copy(src, out, 0, err);
}

static bool str_eq(const char* a, const char* b) {
  if (!a) a = "";
  if (!b) b = "";
  return strcmp(a, b) == 0;
}

bool otap_schema_equal(const struct ArrowSchema* a, const struct ArrowSchema* b,
                       bool compare_metadata) {
  if (a == b) return true;
  if (!a || !b) return false;
  if (!a->format || !b->format || strcmp(a->format, b->format) != 0) return false;
  if (!str_eq(a->name, b->name) || a->flags != b->flags) return false;
  if (a->n_children != b->n_children) return false;
  if (compare_metadata) {
    int64_t sa = otap_metadata_size(a->metadata), sb = otap_metadata_size(b->metadata);
    int32_t na = 0, nb = 0;
    if (sa && otap_metadata_count(a->metadata, &na, NULL) != 0) return false;
    if (sb && otap_metadata_count(b->metadata, &nb, NULL) != 0) return false;
    if (na != nb) return false;
    if (na && (sa != sb || memcmp(a->metadata, b->metadata, (size_t)sa) != 0)) return false;
  }
  for (int64_t i = 0; i < a->n_children; i++) {
    if (!otap_schema_equal(a->children[i], b->children[i], compare_metadata)) return false;
  }
  if (!a->dictionary != !b->dictionary) return false;
  if (a->dictionary && !otap_schema_equal(a->dictionary, b->dictionary, compare_metadata)) {
    return false;
  }
  return true;
}

void otap_schema_release(struct ArrowSchema* schema) {
  if (schema && schema->release) schema->release(schema);
}

void otap_schema_move(struct ArrowSchema* src, struct ArrowSchema* dst) {
  memcpy(dst, src, sizeof(*dst));
  src->release = NULL;
}

// ---------------------------------------------------------------------------------------------
// Printing

struct out_str {
  char* buf;
  size_t n;
  int64_t len;
};

OTAP_PRINTF(2, 3) static void outf(struct out_str* o, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  size_t room = (int64_t)o->n > o->len ? o->n - (size_t)o->len : 0;
  int k = vsnprintf(room ? o->buf + o->len : NULL, room, fmt, ap);
  va_end(ap);
  if (k > 0) o->len += k;
}

static const char* unit_name(enum otap_time_unit u) {
  switch (u) {
    case OTAP_TIME_UNIT_SECOND: return "s";
    case OTAP_TIME_UNIT_MILLI: return "ms";
    case OTAP_TIME_UNIT_MICRO: return "us";
    default: return "ns";
  }
}

static void format_type(const struct ArrowSchema* s, struct out_str* o, int depth) {
  struct otap_schema_view v;
  if (depth > 64 || otap_schema_view_init(&v, s, NULL) != 0) {
    outf(o, "invalid<%s>", s && s->format ? s->format : "NULL");
    return;
  }
  if (v.type == OTAP_TYPE_DICTIONARY) {
    outf(o, "dictionary<%s, ", otap_type_name(v.storage_type));
    format_type(s->dictionary, o, depth + 1);
    outf(o, ">");
    return;
  }
  if (v.extension_name) outf(o, "extension<%.*s, ", v.extension_name_len, v.extension_name);
  switch (v.type) {
    case OTAP_TYPE_FIXED_SIZE_BINARY:
      outf(o, "fixed_size_binary[%" PRId32 "]", v.fixed_size);
      break;
    case OTAP_TYPE_DECIMAL32:
    case OTAP_TYPE_DECIMAL64:
    case OTAP_TYPE_DECIMAL128:
    case OTAP_TYPE_DECIMAL256:
      outf(o, "%s(%" PRId32 ", %" PRId32 ")", otap_type_name(v.type), v.decimal_precision,
           v.decimal_scale);
      break;
    case OTAP_TYPE_TIME32:
    case OTAP_TYPE_TIME64:
    case OTAP_TYPE_DURATION:
      outf(o, "%s[%s]", otap_type_name(v.type), unit_name(v.time_unit));
      break;
    case OTAP_TYPE_TIMESTAMP:
      if (v.timezone_len) {
        outf(o, "timestamp[%s, tz=%.*s]", unit_name(v.time_unit), v.timezone_len, v.timezone);
      } else {
        outf(o, "timestamp[%s]", unit_name(v.time_unit));
      }
      break;
    case OTAP_TYPE_STRUCT:
    case OTAP_TYPE_DENSE_UNION:
    case OTAP_TYPE_SPARSE_UNION:
    case OTAP_TYPE_RUN_END_ENCODED:
    case OTAP_TYPE_LIST:
    case OTAP_TYPE_LARGE_LIST:
    case OTAP_TYPE_LIST_VIEW:
    case OTAP_TYPE_LARGE_LIST_VIEW:
    case OTAP_TYPE_MAP:
    case OTAP_TYPE_FIXED_SIZE_LIST:
      outf(o, "%s", otap_type_name(v.type));
      if (v.type == OTAP_TYPE_FIXED_SIZE_LIST) outf(o, "[%" PRId32 "]", v.fixed_size);
      outf(o, "<");
      for (int64_t i = 0; i < s->n_children; i++) {
        if (i) outf(o, ", ");
        if (v.type == OTAP_TYPE_STRUCT || v.type == OTAP_TYPE_DENSE_UNION ||
            v.type == OTAP_TYPE_SPARSE_UNION) {
          outf(o, "%s: ", s->children[i]->name ? s->children[i]->name : "");
        }
        format_type(s->children[i], o, depth + 1);
      }
      outf(o, ">");
      break;
    default:
      outf(o, "%s", otap_type_name(v.type));
  }
  if (v.extension_name) outf(o, ">");
}

int64_t otap_schema_format_type(const struct ArrowSchema* schema, char* buf, size_t n) {
  struct out_str o = {buf, n, 0};
  if (buf && n) buf[0] = '\0';
  format_type(schema, &o, 0);
  return o.len;
}
