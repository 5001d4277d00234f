// Arrow integration JSON loader (see integration_json.h).
#include "integration_json.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "json.h"

#define MAX_FILE_SIZE ((int64_t)1 << 30)
#define MAX_COUNT ((int64_t)1 << 28)

typedef const struct otap_test_json jnode;

struct ctx {
  jnode* dictionaries;  // the "dictionaries" array or NULL
  struct otap_test_integration* out;
  struct otap_error* err;
  char path[512];
  int depth;
};

// ---------------------------------------------------------------------------------------------
// Small helpers

static int bad(struct ctx* c, jnode* at, const char* fmt, const char* detail) {
  char what[256];
  snprintf(what, sizeof(what), fmt, detail ? detail : "");
  return otap_error_set(c->err, EINVAL, "integration JSON: %s: %s (byte %lld)",
                        c->path[0] ? c->path : "<root>", what, at ? (long long)at->offset : -1LL);
}

static size_t path_push(struct ctx* c, const char* name) {
  size_t old = strlen(c->path);
  snprintf(c->path + old, sizeof(c->path) - old, "%s%s", old ? "." : "", name ? name : "?");
  return old;
}
static void path_pop(struct ctx* c, size_t old) { c->path[old] = 0; }

static const char* jstr(jnode* obj, const char* key) {
  jnode* v = otap_test_json_get(obj, key);
  return v && v->type == OTAP_TEST_JSON_STRING ? v->text : NULL;
}

static int jint(struct ctx* c, jnode* obj, const char* key, int64_t* out) {
  jnode* v = otap_test_json_get(obj, key);
  if (!v) return bad(c, obj, "missing \"%s\"", key);
  return otap_test_json_int64(v, out, c->err);
}

static bool jbool(jnode* obj, const char* key, bool dflt) {
  jnode* v = otap_test_json_get(obj, key);
  return v && v->type == OTAP_TEST_JSON_BOOL ? v->boolean : dflt;
}

static jnode* jarr(jnode* obj, const char* key) {
  jnode* v = otap_test_json_get(obj, key);
  return v && v->type == OTAP_TEST_JSON_ARRAY ? v : NULL;
}

static int hexval(char ch) {
  if (ch >= '0' && ch <= '9') return ch - '0';
  if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
  return -1;
}

// Appends the bytes of a hex string.
static int append_hex(struct ctx* c, jnode* v, struct otap_buffer* out, int64_t* n_bytes) {
  if (!v || v->type != OTAP_TEST_JSON_STRING || (v->text_len & 1)) {
    return bad(c, v, "hex string expected%s", NULL);
  }
  OTAP_RETURN_NOT_OK(otap_buffer_reserve(out, v->text_len / 2));
  for (int64_t i = 0; i < v->text_len; i += 2) {
    int hi = hexval(v->text[i]), lo = hexval(v->text[i + 1]);
    if (hi < 0 || lo < 0) return bad(c, v, "bad hex digit%s", NULL);
    uint8_t b = (uint8_t)(hi << 4 | lo);
    otap_buffer_append_unsafe(out, &b, 1);
  }
  if (n_bytes) *n_bytes = v->text_len / 2;
  return 0;
}

static struct otap_buffer* buf(struct ctx* c, struct ArrowArray* a, int64_t i) {
  struct otap_buffer* b = otap_array_buffer(a, i);
  if (!b) otap_error_set(c->err, EINVAL, "integration JSON: %s: array has no buffer %lld",
                         c->path, (long long)i);
  return b;
}

// float -> IEEE half bits, round to nearest even.
static uint16_t float_to_half(float f) {
  uint32_t x;
  memcpy(&x, &f, 4);
  uint16_t sign = (uint16_t)((x >> 16) & 0x8000);
  uint32_t exp = (x >> 23) & 0xFF;
  uint32_t mant = x & 0x7FFFFF;
  if (exp == 0xFF) return (uint16_t)(sign | 0x7C00 | (mant ? 0x200 | (mant >> 13) : 0));
  int32_t e = (int32_t)exp - 127 + 15;
  if (e >= 31) return (uint16_t)(sign | 0x7C00);
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    uint32_t shift = (uint32_t)(14 - e);
    uint32_t h = mant >> shift;
    uint32_t rem = mant & ((1u << shift) - 1), half = 1u << (shift - 1);
    if (rem > half || (rem == half && (h & 1))) h++;
    return (uint16_t)(sign | h);
  }
  uint32_t h = ((uint32_t)e << 10) | (mant >> 13);
  uint32_t rem = mant & 0x1FFF;
  if (rem > 0x1000 || (rem == 0x1000 && (h & 1))) h++;  // may carry into the exponent: fine
  return (uint16_t)(sign | h);
}

// Parses a decimal integer string into `width` bytes of little-endian two's complement.
static int parse_decimal(struct ctx* c, jnode* v, int width, uint8_t* out) {
  if (!v || (v->type != OTAP_TEST_JSON_STRING && v->type != OTAP_TEST_JSON_NUMBER)) {
    return bad(c, v, "decimal string expected%s", NULL);
  }
  const char* s = v->text;
  int64_t n = v->text_len, i = 0;
  bool neg = false;
  if (i < n && (s[i] == '-' || s[i] == '+')) neg = s[i++] == '-';
  if (i >= n) return bad(c, v, "empty decimal%s", NULL);
  uint32_t limbs[8] = {0};
  int nl = width / 4;
  for (; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return bad(c, v, "bad decimal '%s'", s);
    uint64_t carry = (uint64_t)(s[i] - '0');
    for (int k = 0; k < nl; k++) {
      uint64_t t = (uint64_t)limbs[k] * 10 + carry;
      limbs[k] = (uint32_t)t;
      carry = t >> 32;
    }
    if (carry) return bad(c, v, "decimal '%s' does not fit its width", s);
  }
  if (limbs[nl - 1] & 0x80000000u) {
    // Only -2^(bits-1) is representable with the top bit set.
    bool min = neg && limbs[nl - 1] == 0x80000000u;
    for (int k = 0; k < nl - 1 && min; k++) min = limbs[k] == 0;
    if (!min) return bad(c, v, "decimal '%s' does not fit its width", s);
  }
  if (neg) {
    uint64_t carry = 1;
    for (int k = 0; k < nl; k++) {
      uint64_t t = (uint64_t)(uint32_t)~limbs[k] + carry;
      limbs[k] = (uint32_t)t;
      carry = t >> 32;
    }
  }
  for (int k = 0; k < nl; k++) otap_store_u32le(out + 4 * k, limbs[k]);
  return 0;
}

// Appends one integer of `bytes` width (1,2,4,8) from a JSON number, string or bool.
static int append_int(struct ctx* c, jnode* v, int bytes, bool is_signed, struct otap_buffer* b) {
  uint8_t tmp[8];
  uint64_t u;
  if (v && v->type == OTAP_TEST_JSON_BOOL) {
    u = v->boolean;
  } else if (is_signed) {
    int64_t x;
    OTAP_RETURN_NOT_OK(otap_test_json_int64(v, &x, c->err));
    if (bytes < 8) {
      int64_t lim = (int64_t)1 << (8 * bytes - 1);
      if (x < -lim || x >= lim) return bad(c, v, "integer %s out of range", v->text);
    }
    u = (uint64_t)x;
  } else {
    OTAP_RETURN_NOT_OK(otap_test_json_uint64(v, &u, c->err));
    if (bytes < 8 && u >> (8 * bytes)) return bad(c, v, "integer %s out of range", v->text);
  }
  for (int i = 0; i < bytes; i++) tmp[i] = (uint8_t)(u >> (8 * i));
  return otap_buffer_append(b, tmp, bytes);
}

// Appends every element of a JSON array as integers; checks the element count.
static int append_ints(struct ctx* c, jnode* arr, int64_t expect, int bytes, bool is_signed,
                       struct otap_buffer* b, const char* what) {
  if (!arr) return bad(c, NULL, "missing %s", what);
  if (arr->n_items != expect) return bad(c, arr, "%s has the wrong number of entries", what);
  OTAP_RETURN_NOT_OK(otap_buffer_reserve(b, expect * bytes));
  for (int64_t i = 0; i < expect; i++) {
    OTAP_RETURN_NOT_OK(append_int(c, &arr->items[i], bytes, is_signed, b));
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Schema

static int metadata_from_json(struct ctx* c, jnode* md, struct ArrowSchema* s) {
  if (!md || md->type == OTAP_TEST_JSON_NULL) return 0;
  if (md->type != OTAP_TEST_JSON_ARRAY) return bad(c, md, "metadata must be an array%s", NULL);
  if (md->n_items == 0) return 0;
  struct otap_metadata_entry* entries = otap_calloc((size_t)md->n_items, sizeof(*entries));
  if (!entries) return ENOMEM;
  int rc = 0;
  struct otap_buffer b;
  otap_buffer_init(&b);
  for (int64_t i = 0; i < md->n_items; i++) {
    jnode* k = otap_test_json_get(&md->items[i], "key");
    jnode* v = otap_test_json_get(&md->items[i], "value");
    if (!k || !v || k->type != OTAP_TEST_JSON_STRING || v->type != OTAP_TEST_JSON_STRING) {
      rc = bad(c, &md->items[i], "metadata entry needs string key and value%s", NULL);
      goto done;
    }
    entries[i].key = k->text;
    entries[i].key_len = (int32_t)k->text_len;
    entries[i].value = v->text;
    entries[i].value_len = (int32_t)v->text_len;
  }
  OTAP_GOTO_NOT_OK(rc, otap_metadata_encode(&b, entries, (int32_t)md->n_items));
  OTAP_GOTO_NOT_OK(rc, otap_schema_set_metadata(s, (const char*)b.data));
done:
  otap_buffer_reset(&b);
  otap_free(entries);
  return rc;
}

static const char* unit_letter(const char* unit) {
  if (!unit) return NULL;
  if (strcmp(unit, "SECOND") == 0) return "s";
  if (strcmp(unit, "MILLISECOND") == 0) return "m";
  if (strcmp(unit, "MICROSECOND") == 0) return "u";
  if (strcmp(unit, "NANOSECOND") == 0) return "n";
  return NULL;
}

// Format string of a JSON "type" (the value type for dictionary fields).
static int format_of(struct ctx* c, jnode* type, jnode* field, char* fmt, size_t n) {
  const char* name = jstr(type, "name");
  if (!name) return bad(c, type, "type without name%s", NULL);
  int64_t bw = 0, x = 0, y = 0;
  if (strcmp(name, "null") == 0) {
    snprintf(fmt, n, "n");
  } else if (strcmp(name, "bool") == 0) {
    snprintf(fmt, n, "b");
  } else if (strcmp(name, "int") == 0) {
    OTAP_RETURN_NOT_OK(jint(c, type, "bitWidth", &bw));
    bool sgn = jbool(type, "isSigned", true);
    const char* f = NULL;
    switch (bw) {
      case 8: f = sgn ? "c" : "C"; break;
      case 16: f = sgn ? "s" : "S"; break;
      case 32: f = sgn ? "i" : "I"; break;
      case 64: f = sgn ? "l" : "L"; break;
      default: return bad(c, type, "int bitWidth %s", "unsupported");
    }
    snprintf(fmt, n, "%s", f);
  } else if (strcmp(name, "floatingpoint") == 0) {
    const char* p = jstr(type, "precision");
    if (!p) return bad(c, type, "floatingpoint without precision%s", NULL);
    if (strcmp(p, "HALF") == 0) snprintf(fmt, n, "e");
    else if (strcmp(p, "SINGLE") == 0) snprintf(fmt, n, "f");
    else if (strcmp(p, "DOUBLE") == 0) snprintf(fmt, n, "g");
    else return bad(c, type, "precision '%s'", p);
  } else if (strcmp(name, "utf8") == 0) {
    snprintf(fmt, n, "u");
  } else if (strcmp(name, "largeutf8") == 0) {
    snprintf(fmt, n, "U");
  } else if (strcmp(name, "binary") == 0) {
    snprintf(fmt, n, "z");
  } else if (strcmp(name, "largebinary") == 0) {
    snprintf(fmt, n, "Z");
  } else if (strcmp(name, "utf8view") == 0) {
    snprintf(fmt, n, "vu");
  } else if (strcmp(name, "binaryview") == 0) {
    snprintf(fmt, n, "vz");
  } else if (strcmp(name, "fixedsizebinary") == 0) {
    OTAP_RETURN_NOT_OK(jint(c, type, "byteWidth", &x));
    snprintf(fmt, n, "w:%lld", (long long)x);
  } else if (strcmp(name, "decimal") == 0) {
    OTAP_RETURN_NOT_OK(jint(c, type, "precision", &x));
    OTAP_RETURN_NOT_OK(jint(c, type, "scale", &y));
    bw = 128;
    if (otap_test_json_get(type, "bitWidth")) OTAP_RETURN_NOT_OK(jint(c, type, "bitWidth", &bw));
    if (bw == 128) snprintf(fmt, n, "d:%lld,%lld", (long long)x, (long long)y);
    else snprintf(fmt, n, "d:%lld,%lld,%lld", (long long)x, (long long)y, (long long)bw);
  } else if (strcmp(name, "date") == 0) {
    const char* u = jstr(type, "unit");
    snprintf(fmt, n, "%s", u && strcmp(u, "MILLISECOND") == 0 ? "tdm" : "tdD");
  } else if (strcmp(name, "time") == 0) {
    const char* u = unit_letter(jstr(type, "unit"));
    if (!u) return bad(c, type, "time unit%s", " unknown");
    snprintf(fmt, n, "tt%s", u);
  } else if (strcmp(name, "timestamp") == 0) {
    const char* u = unit_letter(jstr(type, "unit"));
    const char* tz = jstr(type, "timezone");
    if (!u) return bad(c, type, "timestamp unit%s", " unknown");
    snprintf(fmt, n, "ts%s:%s", u, tz ? tz : "");
  } else if (strcmp(name, "duration") == 0) {
    const char* u = unit_letter(jstr(type, "unit"));
    if (!u) return bad(c, type, "duration unit%s", " unknown");
    snprintf(fmt, n, "tD%s", u);
  } else if (strcmp(name, "interval") == 0) {
    const char* u = jstr(type, "unit");
    if (!u) return bad(c, type, "interval without unit%s", NULL);
    if (strcmp(u, "YEAR_MONTH") == 0) snprintf(fmt, n, "tiM");
    else if (strcmp(u, "DAY_TIME") == 0) snprintf(fmt, n, "tiD");
    else if (strcmp(u, "MONTH_DAY_NANO") == 0) snprintf(fmt, n, "tin");
    else return bad(c, type, "interval unit '%s'", u);
  } else if (strcmp(name, "struct") == 0) {
    snprintf(fmt, n, "+s");
  } else if (strcmp(name, "list") == 0) {
    snprintf(fmt, n, "+l");
  } else if (strcmp(name, "largelist") == 0) {
    snprintf(fmt, n, "+L");
  } else if (strcmp(name, "listview") == 0) {
    snprintf(fmt, n, "+vl");
  } else if (strcmp(name, "largelistview") == 0) {
    snprintf(fmt, n, "+vL");
  } else if (strcmp(name, "fixedsizelist") == 0) {
    OTAP_RETURN_NOT_OK(jint(c, type, "listSize", &x));
    snprintf(fmt, n, "+w:%lld", (long long)x);
  } else if (strcmp(name, "map") == 0) {
    snprintf(fmt, n, "+m");
  } else if (strcmp(name, "runendencoded") == 0) {
    snprintf(fmt, n, "+r");
  } else if (strcmp(name, "union") == 0) {
    const char* mode = jstr(type, "mode");
    jnode* ids = jarr(type, "typeIds");
    if (!mode || !ids) return bad(c, type, "union needs mode and typeIds%s", NULL);
    size_t used = (size_t)snprintf(fmt, n, "+u%c:", strcmp(mode, "DENSE") == 0 ? 'd' : 's');
    for (int64_t i = 0; i < ids->n_items && used < n; i++) {
      int64_t id;
      OTAP_RETURN_NOT_OK(otap_test_json_int64(&ids->items[i], &id, c->err));
      used += (size_t)snprintf(fmt + used, n - used, "%s%lld", i ? "," : "", (long long)id);
    }
  } else {
    (void)field;
    return otap_error_set(c->err, ENOTSUP, "integration JSON: %s: type '%s' not supported",
                          c->path, name);
  }
  return 0;
}

static int build_field(struct ctx* c, jnode* field, struct ArrowSchema* out);

// Initializes `out` with the value type of `field` (its "type" + "children").
static int build_value_type(struct ctx* c, jnode* field, struct ArrowSchema* out) {
  char fmt[1200];
  jnode* type = otap_test_json_get(field, "type");
  if (!type) return bad(c, field, "field without type%s", NULL);
  OTAP_RETURN_NOT_OK(format_of(c, type, field, fmt, sizeof(fmt)));
  OTAP_RETURN_NOT_OK(otap_schema_init(out, fmt));
  const char* tname = jstr(type, "name");
  if (tname && strcmp(tname, "map") == 0 && jbool(type, "keysSorted", false)) {
    out->flags |= ARROW_FLAG_MAP_KEYS_SORTED;
  }
  jnode* children = jarr(field, "children");
  int64_t nc = children ? children->n_items : 0;
  if (nc > 0) {
    OTAP_RETURN_NOT_OK(otap_schema_allocate_children(out, nc));
    for (int64_t i = 0; i < nc; i++) {
      OTAP_RETURN_NOT_OK(build_field(c, &children->items[i], out->children[i]));
    }
  }
  return 0;
}

static int build_field(struct ctx* c, jnode* field, struct ArrowSchema* out) {
  if (++c->depth > 64) return bad(c, field, "fields nested too deeply%s", NULL);
  const char* name = jstr(field, "name");
  size_t mark = path_push(c, name);
  int rc = 0;
  jnode* dict = otap_test_json_get(field, "dictionary");
  bool nullable = jbool(field, "nullable", true);
  if (dict && dict->type == OTAP_TEST_JSON_OBJECT) {
    char fmt[64];
    jnode* itype = otap_test_json_get(dict, "indexType");
    if (!itype) {
      rc = bad(c, dict, "dictionary without indexType%s", NULL);
      goto done;
    }
    OTAP_GOTO_NOT_OK(rc, format_of(c, itype, NULL, fmt, sizeof(fmt)));
    int64_t id;
    OTAP_GOTO_NOT_OK(rc, jint(c, dict, "id", &id));
    if (c->out) {
      int64_t* ids = otap_realloc(c->out->dictionary_ids,
                                  (size_t)(c->out->n_dictionary_ids + 1) * sizeof(int64_t));
      if (!ids) {
        rc = otap_error_set(c->err, ENOMEM, "integration JSON: out of memory");
        goto done;
      }
      c->out->dictionary_ids = ids;
      ids[c->out->n_dictionary_ids++] = id;
    }
    OTAP_GOTO_NOT_OK(rc, otap_schema_init(out, fmt));
    OTAP_GOTO_NOT_OK(rc, otap_schema_allocate_dictionary(out));
    OTAP_GOTO_NOT_OK(rc, build_value_type(c, field, out->dictionary));
    out->flags = (nullable ? ARROW_FLAG_NULLABLE : 0) |
                 (jbool(dict, "isOrdered", false) ? ARROW_FLAG_DICTIONARY_ORDERED : 0);
  } else {
    OTAP_GOTO_NOT_OK(rc, build_value_type(c, field, out));
    out->flags = (out->flags & ARROW_FLAG_MAP_KEYS_SORTED) | (nullable ? ARROW_FLAG_NULLABLE : 0);
  }
  if (name) OTAP_GOTO_NOT_OK(rc, otap_schema_set_name(out, name));
  OTAP_GOTO_NOT_OK(rc, metadata_from_json(c, otap_test_json_get(field, "metadata"), out));
done:
  path_pop(c, mark);
  c->depth--;
  return rc;
}

// ---------------------------------------------------------------------------------------------
// Arrays

static int fill(struct ctx* c, jnode* field, bool as_value, const struct ArrowSchema* schema,
                struct ArrowArray* array, jnode* col);

static jnode* find_dictionary(struct ctx* c, int64_t id) {
  if (!c->dictionaries) return NULL;
  for (int64_t i = 0; i < c->dictionaries->n_items; i++) {
    int64_t x;
    jnode* d = &c->dictionaries->items[i];
    jnode* idv = otap_test_json_get(d, "id");
    if (idv && otap_test_json_int64(idv, &x, NULL) == 0 && x == id) return d;
  }
  return NULL;
}

static int fill_validity(struct ctx* c, jnode* col, int64_t count, struct ArrowArray* array,
                         int64_t* nulls) {
  jnode* val = jarr(col, "VALIDITY");
  *nulls = 0;
  if (!val) return 0;  // all valid
  if (val->n_items != count) return bad(c, val, "VALIDITY has %s entries", "the wrong number of");
  for (int64_t i = 0; i < count; i++) {
    jnode* v = &val->items[i];
    bool set = v->type == OTAP_TEST_JSON_BOOL ? v->boolean
                                                : (v->type == OTAP_TEST_JSON_NUMBER && v->number != 0);
    if (!set) (*nulls)++;
  }
  if (*nulls == 0) return 0;
  struct otap_buffer* b = buf(c, array, 0);
  if (!b) return EINVAL;
  OTAP_RETURN_NOT_OK(otap_buffer_resize(b, 0, false));
  OTAP_RETURN_NOT_OK(otap_buffer_resize(b, otap_bytes_for_bits(count), true));
  for (int64_t i = 0; i < count; i++) {
    jnode* v = &val->items[i];
    bool set = v->type == OTAP_TEST_JSON_BOOL ? v->boolean
                                                : (v->type == OTAP_TEST_JSON_NUMBER && v->number != 0);
    if (set) otap_bit_set(b->data, i);
  }
  return 0;
}

static int fill_bool_data(struct ctx* c, jnode* data, int64_t count, struct otap_buffer* b) {
  if (!data || data->n_items != count) return bad(c, data, "DATA has %s entries", "the wrong number of");
  OTAP_RETURN_NOT_OK(otap_buffer_resize(b, 0, false));
  OTAP_RETURN_NOT_OK(otap_buffer_resize(b, otap_bytes_for_bits(count), true));
  for (int64_t i = 0; i < count; i++) {
    jnode* v = &data->items[i];
    bool set = v->type == OTAP_TEST_JSON_BOOL ? v->boolean
                                                : (v->type == OTAP_TEST_JSON_NUMBER && v->number != 0);
    if (set) otap_bit_set(b->data, i);
  }
  return 0;
}

static int fill_floats(struct ctx* c, jnode* data, int64_t count, enum otap_type t,
                       struct otap_buffer* b) {
  if (!data || data->n_items != count) return bad(c, data, "DATA has %s entries", "the wrong number of");
  for (int64_t i = 0; i < count; i++) {
    double d;
    OTAP_RETURN_NOT_OK(otap_test_json_double(&data->items[i], &d, c->err));
    if (t == OTAP_TYPE_DOUBLE) {
      OTAP_RETURN_NOT_OK(otap_buffer_append(b, &d, 8));
    } else if (t == OTAP_TYPE_FLOAT) {
      float f = (float)d;
      OTAP_RETURN_NOT_OK(otap_buffer_append(b, &f, 4));
    } else {
      uint16_t h = float_to_half((float)d);
      OTAP_RETURN_NOT_OK(otap_buffer_append(b, &h, 2));
    }
  }
  return 0;
}

// Appends the bytes of one string/binary DATA entry.
static int append_value_bytes(struct ctx* c, jnode* v, bool utf8, struct otap_buffer* b,
                              int64_t* n) {
  if (!v || v->type != OTAP_TEST_JSON_STRING) return bad(c, v, "string expected in DATA%s", NULL);
  if (utf8) {
    *n = v->text_len;
    return otap_buffer_append(b, v->text, v->text_len);
  }
  return append_hex(c, v, b, n);
}

static int fill_var_binary(struct ctx* c, jnode* col, int64_t count, bool large, bool utf8,
                           struct ArrowArray* array) {
  struct otap_buffer* ob = buf(c, array, 1);
  struct otap_buffer* db = buf(c, array, 2);
  if (!ob || !db) return EINVAL;
  jnode* offs = jarr(col, "OFFSET");
  jnode* data = jarr(col, "DATA");
  OTAP_RETURN_NOT_OK(otap_buffer_resize(ob, 0, false));
  OTAP_RETURN_NOT_OK(otap_buffer_resize(db, 0, false));
  if (count == 0 && (!offs || offs->n_items == 0)) {
    // A zero-length array may omit its offsets: write the single 0.
    return otap_buffer_append_fill(ob, 0, large ? 8 : 4);
  }
  OTAP_RETURN_NOT_OK(append_ints(c, offs, count + 1, large ? 8 : 4, true, ob, "OFFSET"));
  if (!data || data->n_items != count) return bad(c, data, "DATA has %s entries", "the wrong number of");
  int64_t first = large ? (int64_t)otap_load_u64le(ob->data)
                        : (int64_t)(int32_t)otap_load_u32le(ob->data);
  // Bytes before the first offset are not described by the JSON: zero-fill them.
  if (first < 0 || first > MAX_COUNT) return bad(c, offs, "first offset %s", "out of range");
  OTAP_RETURN_NOT_OK(otap_buffer_append_fill(db, 0, first));
  for (int64_t i = 0; i < count; i++) {
    int64_t n;
    OTAP_RETURN_NOT_OK(append_value_bytes(c, &data->items[i], utf8, db, &n));
    int64_t lo, hi;
    if (large) {
      lo = (int64_t)otap_load_u64le(ob->data + 8 * i);
      hi = (int64_t)otap_load_u64le(ob->data + 8 * (i + 1));
    } else {
      lo = (int32_t)otap_load_u32le(ob->data + 4 * i);
      hi = (int32_t)otap_load_u32le(ob->data + 4 * (i + 1));
    }
    if (hi - lo != n) return bad(c, &data->items[i], "DATA entry length disagrees with %s", "OFFSET");
  }
  return 0;
}

static int fill_fixed_binary(struct ctx* c, jnode* data, int64_t count, int32_t width,
                             struct otap_buffer* b) {
  if (!data || data->n_items != count) return bad(c, data, "DATA has %s entries", "the wrong number of");
  for (int64_t i = 0; i < count; i++) {
    int64_t n;
    OTAP_RETURN_NOT_OK(append_hex(c, &data->items[i], b, &n));
    if (n != width) return bad(c, &data->items[i], "value is not %s bytes wide", "byteWidth");
  }
  return 0;
}

static int fill_views(struct ctx* c, jnode* col, int64_t count, bool utf8,
                      struct ArrowArray* array) {
  jnode* views = jarr(col, "VIEWS");
  jnode* vbufs = jarr(col, "VARIADIC_DATA_BUFFERS");
  if (!views || views->n_items != count) return bad(c, views, "VIEWS has %s entries", "the wrong number of");
  int64_t nv = vbufs ? vbufs->n_items : 0;
  OTAP_RETURN_NOT_OK(otap_array_set_variadic_count(array, nv));
  struct otap_buffer* vb = buf(c, array, 1);
  if (!vb) return EINVAL;
  OTAP_RETURN_NOT_OK(otap_buffer_resize(vb, 0, false));
  for (int64_t k = 0; k < nv; k++) {
    struct otap_buffer* db = buf(c, array, 2 + k);
    if (!db) return EINVAL;
    OTAP_RETURN_NOT_OK(otap_buffer_resize(db, 0, false));
    OTAP_RETURN_NOT_OK(append_hex(c, &vbufs->items[k], db, NULL));
  }
  for (int64_t i = 0; i < count; i++) {
    jnode* v = &views->items[i];
    uint8_t view[16] = {0};
    int64_t size;
    OTAP_RETURN_NOT_OK(jint(c, v, "SIZE", &size));
    if (size < 0 || size > INT32_MAX) return bad(c, v, "view SIZE %s", "out of range");
    otap_store_u32le(view, (uint32_t)size);
    if (size <= 12) {
      struct otap_buffer tmp;
      otap_buffer_init(&tmp);
      int64_t n = 0;
      int rc = append_value_bytes(c, otap_test_json_get(v, "INLINED"), utf8, &tmp, &n);
      if (rc == 0 && n != size) rc = bad(c, v, "INLINED length disagrees with %s", "SIZE");
      if (rc == 0 && n > 0) memcpy(view + 4, tmp.data, (size_t)n);
      otap_buffer_reset(&tmp);
      OTAP_RETURN_NOT_OK(rc);
    } else {
      struct otap_buffer tmp;
      otap_buffer_init(&tmp);
      int64_t n = 0, bi = 0, off = 0;
      int rc = append_hex(c, otap_test_json_get(v, "PREFIX_HEX"), &tmp, &n);
      if (rc == 0 && n != 4) rc = bad(c, v, "PREFIX_HEX must be %s bytes", "4");
      if (rc == 0) memcpy(view + 4, tmp.data, 4);
      otap_buffer_reset(&tmp);
      OTAP_RETURN_NOT_OK(rc);
      OTAP_RETURN_NOT_OK(jint(c, v, "BUFFER_INDEX", &bi));
      OTAP_RETURN_NOT_OK(jint(c, v, "OFFSET", &off));
      otap_store_u32le(view + 8, (uint32_t)bi);
      otap_store_u32le(view + 12, (uint32_t)off);
    }
    OTAP_RETURN_NOT_OK(otap_buffer_append(vb, view, 16));
  }
  return 0;
}

static int fill_children(struct ctx* c, jnode* field, const struct ArrowSchema* schema,
                         struct ArrowArray* array, jnode* col) {
  jnode* fchildren = jarr(field, "children");
  jnode* cchildren = jarr(col, "children");
  int64_t n = schema->n_children;
  if (!fchildren || fchildren->n_items != n) return bad(c, field, "field children %s", "mismatch");
  if (!cchildren || cchildren->n_items != n) return bad(c, col, "column children %s", "mismatch");
  if (array->n_children != n) return bad(c, col, "array children %s", "mismatch");
  for (int64_t i = 0; i < n; i++) {
    size_t mark = path_push(c, schema->children[i]->name);
    int rc = fill(c, &fchildren->items[i], false, schema->children[i], array->children[i],
                  &cchildren->items[i]);
    path_pop(c, mark);
    OTAP_RETURN_NOT_OK(rc);
  }
  return 0;
}

static int fill(struct ctx* c, jnode* field, bool as_value, const struct ArrowSchema* schema,
                struct ArrowArray* array, jnode* col) {
  struct otap_schema_view sv;
  int64_t count;
  int rc;
  if (!col || col->type != OTAP_TEST_JSON_OBJECT) return bad(c, col, "column object %s", "expected");
  OTAP_RETURN_NOT_OK(jint(c, col, "count", &count));
  if (count < 0 || count > MAX_COUNT) return bad(c, col, "count %s", "out of range");
  OTAP_RETURN_NOT_OK(otap_schema_view_init(&sv, schema, c->err));
  int64_t nulls = 0;
  enum otap_type t = sv.type;
  jnode* data = jarr(col, "DATA");
  bool has_validity = t != OTAP_TYPE_NA && t != OTAP_TYPE_SPARSE_UNION &&
                      t != OTAP_TYPE_DENSE_UNION && t != OTAP_TYPE_RUN_END_ENCODED;
  if (has_validity) OTAP_RETURN_NOT_OK(fill_validity(c, col, count, array, &nulls));
  if (t == OTAP_TYPE_NA) nulls = count;

  if (t == OTAP_TYPE_DICTIONARY && !as_value) {
    jnode* dict = otap_test_json_get(field, "dictionary");
    int64_t id;
    OTAP_RETURN_NOT_OK(jint(c, dict, "id", &id));
    struct otap_buffer* b = buf(c, array, 1);
    if (!b) return EINVAL;
    OTAP_RETURN_NOT_OK(otap_buffer_resize(b, 0, false));
    struct otap_schema_view iv = sv;
    iv.type = sv.storage_type;
    bool sgn = iv.type == OTAP_TYPE_INT8 || iv.type == OTAP_TYPE_INT16 ||
               iv.type == OTAP_TYPE_INT32 || iv.type == OTAP_TYPE_INT64;
    OTAP_RETURN_NOT_OK(append_ints(c, data, count, sv.bit_width / 8, sgn, b, "DATA"));
    jnode* d = find_dictionary(c, id);
    jnode* dcols = d ? jarr(otap_test_json_get(d, "data"), "columns") : NULL;
    if (!dcols || dcols->n_items != 1) {
      return bad(c, col, "no dictionary batch for this field's %s", "id");
    }
    if (!array->dictionary || !schema->dictionary) return bad(c, col, "array has no %s", "dictionary");
    if (++c->depth > 64) return bad(c, col, "dictionaries nested too %s", "deeply");
    size_t mark = path_push(c, "<dictionary>");
    rc = fill(c, field, true, schema->dictionary, array->dictionary, &dcols->items[0]);
    path_pop(c, mark);
    c->depth--;
    OTAP_RETURN_NOT_OK(rc);
  } else {
    if (t == OTAP_TYPE_DICTIONARY) t = sv.storage_type;  // cannot happen for values
    switch (t) {
      case OTAP_TYPE_NA:
        break;
      case OTAP_TYPE_BOOL: {
        struct otap_buffer* b = buf(c, array, 1);
        if (!b) return EINVAL;
        OTAP_RETURN_NOT_OK(fill_bool_data(c, data, count, b));
        break;
      }
      case OTAP_TYPE_INT8: case OTAP_TYPE_INT16: case OTAP_TYPE_INT32: case OTAP_TYPE_INT64:
      case OTAP_TYPE_UINT8: case OTAP_TYPE_UINT16: case OTAP_TYPE_UINT32: case OTAP_TYPE_UINT64:
      case OTAP_TYPE_DATE32: case OTAP_TYPE_DATE64: case OTAP_TYPE_TIME32: case OTAP_TYPE_TIME64:
      case OTAP_TYPE_TIMESTAMP: case OTAP_TYPE_DURATION: case OTAP_TYPE_INTERVAL_MONTHS: {
        struct otap_buffer* b = buf(c, array, 1);
        if (!b) return EINVAL;
        OTAP_RETURN_NOT_OK(otap_buffer_resize(b, 0, false));
        bool sgn = !(t == OTAP_TYPE_UINT8 || t == OTAP_TYPE_UINT16 || t == OTAP_TYPE_UINT32 ||
                     t == OTAP_TYPE_UINT64);
        OTAP_RETURN_NOT_OK(append_ints(c, data, count, sv.bit_width / 8, sgn, b, "DATA"));
        break;
      }
      case OTAP_TYPE_HALF_FLOAT: case OTAP_TYPE_FLOAT: case OTAP_TYPE_DOUBLE: {
        struct otap_buffer* b = buf(c, array, 1);
        if (!b) return EINVAL;
        OTAP_RETURN_NOT_OK(otap_buffer_resize(b, 0, false));
        OTAP_RETURN_NOT_OK(fill_floats(c, data, count, t, b));
        break;
      }
      case OTAP_TYPE_DECIMAL32: case OTAP_TYPE_DECIMAL64: case OTAP_TYPE_DECIMAL128:
      case OTAP_TYPE_DECIMAL256: {
        struct otap_buffer* b = buf(c, array, 1);
        if (!b) return EINVAL;
        int w = sv.decimal_bitwidth / 8;
        if (!data || data->n_items != count) return bad(c, data, "DATA has %s entries", "the wrong number of");
        OTAP_RETURN_NOT_OK(otap_buffer_resize(b, 0, false));
        OTAP_RETURN_NOT_OK(otap_buffer_resize(b, count * w, true));
        for (int64_t i = 0; i < count; i++) {
          OTAP_RETURN_NOT_OK(parse_decimal(c, &data->items[i], w, b->data + i * w));
        }
        break;
      }
      case OTAP_TYPE_INTERVAL_DAY_TIME: case OTAP_TYPE_INTERVAL_MONTH_DAY_NANO: {
        struct otap_buffer* b = buf(c, array, 1);
        if (!b) return EINVAL;
        if (!data || data->n_items != count) return bad(c, data, "DATA has %s entries", "the wrong number of");
        OTAP_RETURN_NOT_OK(otap_buffer_resize(b, 0, false));
        for (int64_t i = 0; i < count; i++) {
          jnode* v = &data->items[i];
          if (t == OTAP_TYPE_INTERVAL_DAY_TIME) {
            OTAP_RETURN_NOT_OK(append_int(c, otap_test_json_get(v, "days"), 4, true, b));
            OTAP_RETURN_NOT_OK(append_int(c, otap_test_json_get(v, "milliseconds"), 4, true, b));
          } else {
            OTAP_RETURN_NOT_OK(append_int(c, otap_test_json_get(v, "months"), 4, true, b));
            OTAP_RETURN_NOT_OK(append_int(c, otap_test_json_get(v, "days"), 4, true, b));
            OTAP_RETURN_NOT_OK(append_int(c, otap_test_json_get(v, "nanoseconds"), 8, true, b));
          }
        }
        break;
      }
      case OTAP_TYPE_STRING: case OTAP_TYPE_LARGE_STRING: case OTAP_TYPE_BINARY:
      case OTAP_TYPE_LARGE_BINARY:
        OTAP_RETURN_NOT_OK(fill_var_binary(
            c, col, count, t == OTAP_TYPE_LARGE_STRING || t == OTAP_TYPE_LARGE_BINARY,
            t == OTAP_TYPE_STRING || t == OTAP_TYPE_LARGE_STRING, array));
        break;
      case OTAP_TYPE_FIXED_SIZE_BINARY: {
        struct otap_buffer* b = buf(c, array, 1);
        if (!b) return EINVAL;
        OTAP_RETURN_NOT_OK(otap_buffer_resize(b, 0, false));
        OTAP_RETURN_NOT_OK(fill_fixed_binary(c, data, count, sv.fixed_size, b));
        break;
      }
      case OTAP_TYPE_STRING_VIEW: case OTAP_TYPE_BINARY_VIEW:
        OTAP_RETURN_NOT_OK(fill_views(c, col, count, t == OTAP_TYPE_STRING_VIEW, array));
        break;
      case OTAP_TYPE_STRUCT: case OTAP_TYPE_FIXED_SIZE_LIST: case OTAP_TYPE_RUN_END_ENCODED:
        OTAP_RETURN_NOT_OK(fill_children(c, field, schema, array, col));
        break;
      case OTAP_TYPE_LIST: case OTAP_TYPE_LARGE_LIST: case OTAP_TYPE_MAP: {
        struct otap_buffer* b = buf(c, array, 1);
        if (!b) return EINVAL;
        OTAP_RETURN_NOT_OK(otap_buffer_resize(b, 0, false));
        jnode* offs = jarr(col, "OFFSET");
        int w = t == OTAP_TYPE_LARGE_LIST ? 8 : 4;
        if (count == 0 && (!offs || offs->n_items == 0)) {
          OTAP_RETURN_NOT_OK(otap_buffer_append_fill(b, 0, w));
        } else {
          OTAP_RETURN_NOT_OK(append_ints(c, offs, count + 1, w, true, b, "OFFSET"));
        }
        OTAP_RETURN_NOT_OK(fill_children(c, field, schema, array, col));
        break;
      }
      case OTAP_TYPE_LIST_VIEW: case OTAP_TYPE_LARGE_LIST_VIEW: {
        struct otap_buffer* ob = buf(c, array, 1);
        struct otap_buffer* sb = buf(c, array, 2);
        if (!ob || !sb) return EINVAL;
        OTAP_RETURN_NOT_OK(otap_buffer_resize(ob, 0, false));
        OTAP_RETURN_NOT_OK(otap_buffer_resize(sb, 0, false));
        int w = t == OTAP_TYPE_LARGE_LIST_VIEW ? 8 : 4;
        OTAP_RETURN_NOT_OK(append_ints(c, jarr(col, "OFFSET"), count, w, true, ob, "OFFSET"));
        OTAP_RETURN_NOT_OK(append_ints(c, jarr(col, "SIZE"), count, w, true, sb, "SIZE"));
        OTAP_RETURN_NOT_OK(fill_children(c, field, schema, array, col));
        break;
      }
      case OTAP_TYPE_SPARSE_UNION: case OTAP_TYPE_DENSE_UNION: {
        // C Data Interface: buffers[0] type ids, buffers[1] offsets (dense); no validity.
        struct otap_buffer* tb = buf(c, array, 0);
        if (!tb) return EINVAL;
        OTAP_RETURN_NOT_OK(otap_buffer_resize(tb, 0, false));
        OTAP_RETURN_NOT_OK(append_ints(c, jarr(col, "TYPE_ID"), count, 1, true, tb, "TYPE_ID"));
        if (t == OTAP_TYPE_DENSE_UNION) {
          struct otap_buffer* ob = buf(c, array, 1);
          if (!ob) return EINVAL;
          OTAP_RETURN_NOT_OK(otap_buffer_resize(ob, 0, false));
          OTAP_RETURN_NOT_OK(append_ints(c, jarr(col, "OFFSET"), count, 4, true, ob, "OFFSET"));
        }
        OTAP_RETURN_NOT_OK(fill_children(c, field, schema, array, col));
        break;
      }
      default:
        return otap_error_set(c->err, ENOTSUP, "integration JSON: %s: type %s not supported",
                              c->path, otap_type_name(t));
    }
  }
  array->length = count;
  array->null_count = nulls;
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Top level

int otap_test_read_gzip_file(const char* path, struct otap_buffer* out, struct otap_error* err) {
  gzFile f = gzopen(path, "rb");
  if (!f) return otap_error_set(err, errno ? errno : EIO, "cannot open %s", path);
  int rc = 0;
  for (;;) {
    if (out->size > MAX_FILE_SIZE) {
      rc = otap_error_set(err, ENOMEM, "%s: larger than %lld bytes", path,
                          (long long)MAX_FILE_SIZE);
      break;
    }
    OTAP_GOTO_NOT_OK(rc, otap_buffer_reserve(out, 65536));
    int n = gzread(f, out->data + out->size, 65536);
    if (n < 0) {
      int zerr;
      const char* msg = gzerror(f, &zerr);
      rc = otap_error_set(err, EIO, "%s: gzip read error: %s", path, msg);
      break;
    }
    if (n == 0) break;
    out->size += n;
  }
done:
  gzclose(f);
  return rc;
}

int otap_test_integration_load_file(const char* path, struct otap_test_integration* out,
                                    struct otap_error* err) {
  struct otap_buffer b;
  otap_buffer_init(&b);
  memset(out, 0, sizeof(*out));
  int rc = otap_test_read_gzip_file(path, &b, err);
  if (rc == 0) rc = otap_test_integration_load((const char*)b.data, (size_t)b.size, out, err);
  if (rc != 0) otap_error_prefix(err, rc, "%s: ", path);
  otap_buffer_reset(&b);
  return rc;
}

int otap_test_integration_load(const char* json, size_t len, struct otap_test_integration* out,
                               struct otap_error* err) {
  struct otap_test_json* root = NULL;
  struct ctx c;
  memset(&c, 0, sizeof(c));
  c.err = err;
  memset(out, 0, sizeof(*out));
  c.out = out;
  int rc = otap_test_json_parse(json, len, &root, err);
  if (rc != 0) return rc;
  jnode* schema = otap_test_json_get(root, "schema");
  jnode* fields = jarr(schema, "fields");
  jnode* batches = jarr(root, "batches");
  c.dictionaries = jarr(root, "dictionaries");
  if (!fields || !batches) {
    rc = bad(&c, root, "\"schema.fields\" and \"batches\" are %s", "required");
    goto done;
  }
  OTAP_GOTO_NOT_OK(rc, otap_schema_init(&out->schema, "+s"));
  out->schema.flags = 0;
  if (fields->n_items > 0) {
    OTAP_GOTO_NOT_OK(rc, otap_schema_allocate_children(&out->schema, fields->n_items));
    for (int64_t i = 0; i < fields->n_items; i++) {
      OTAP_GOTO_NOT_OK(rc, build_field(&c, &fields->items[i], out->schema.children[i]));
    }
  }
  OTAP_GOTO_NOT_OK(rc, metadata_from_json(&c, otap_test_json_get(schema, "metadata"),
                                          &out->schema));
  if (batches->n_items > 0) {
    out->batches = otap_calloc((size_t)batches->n_items, sizeof(struct ArrowArray));
    if (!out->batches) {
      rc = otap_error_set(err, ENOMEM, "integration JSON: out of memory");
      goto done;
    }
  }
  for (int64_t b = 0; b < batches->n_items; b++) {
    jnode* batch = &batches->items[b];
    jnode* cols = jarr(batch, "columns");
    int64_t count;
    snprintf(c.path, sizeof(c.path), "batch %lld", (long long)b);
    struct ArrowArray* arr = &out->batches[b];
    OTAP_GOTO_NOT_OK(rc, otap_array_init_from_schema(arr, &out->schema, err));
    out->n_batches = b + 1;
    OTAP_GOTO_NOT_OK(rc, jint(&c, batch, "count", &count));
    if (!cols || cols->n_items != fields->n_items) {
      rc = bad(&c, batch, "columns do not match the %s", "schema fields");
      goto done;
    }
    for (int64_t i = 0; i < cols->n_items; i++) {
      snprintf(c.path, sizeof(c.path), "batch %lld column '%s'", (long long)b,
               out->schema.children[i]->name ? out->schema.children[i]->name : "?");
      OTAP_GOTO_NOT_OK(rc, fill(&c, &fields->items[i], false, out->schema.children[i],
                                arr->children[i], &cols->items[i]));
    }
    snprintf(c.path, sizeof(c.path), "batch %lld", (long long)b);
    arr->length = count;
    arr->null_count = 0;
    rc = otap_array_finish(arr, OTAP_VALIDATE_FULL, &out->schema, err);
    if (rc != 0) {
      otap_error_prefix(err, rc, "integration JSON: %s: ", c.path);
      goto done;
    }
  }
  c.path[0] = 0;
done:
  otap_test_json_free(root);
  if (rc != 0) otap_test_integration_reset(out);
  return rc;
}

void otap_test_integration_reset(struct otap_test_integration* it) {
  for (int64_t i = 0; i < it->n_batches; i++) otap_array_release(&it->batches[i]);
  otap_free(it->batches);
  otap_free(it->dictionary_ids);
  otap_schema_release(&it->schema);
  memset(it, 0, sizeof(*it));
}
