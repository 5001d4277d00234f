// Strict JSON parser for tests (see json.h).
#include "json.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct parser {
  const char* p;
  const char* end;
  const char* begin;
  struct otap_error* err;
};

static int64_t pos(const struct parser* ps) { return (int64_t)(ps->p - ps->begin); }

static int fail(struct parser* ps, const char* what) {
  return otap_error_set(ps->err, EINVAL, "JSON: %s at byte %lld", what, (long long)pos(ps));
}

static void node_clear(struct otap_test_json* v) {
  if (!v) return;
  for (int64_t i = 0; i < v->n_items; i++) node_clear(&v->items[i]);
  otap_free(v->items);
  otap_free(v->text);
  otap_free(v->key);
  memset(v, 0, sizeof(*v));
}

static void skip_ws(struct parser* ps) {
  while (ps->p < ps->end &&
         (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')) {
    ps->p++;
  }
}

static int parse_value(struct parser* ps, struct otap_test_json* out, int depth);

static int hex4(struct parser* ps, uint32_t* out) {
  if (ps->end - ps->p < 4) return fail(ps, "truncated \\u escape");
  uint32_t v = 0;
  for (int i = 0; i < 4; i++) {
    char c = ps->p[i];
    v <<= 4;
    if (c >= '0' && c <= '9') v |= (uint32_t)(c - '0');
    else if (c >= 'a' && c <= 'f') v |= (uint32_t)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') v |= (uint32_t)(c - 'A' + 10);
    else return fail(ps, "bad hex digit in \\u escape");
  }
  ps->p += 4;
  *out = v;
  return 0;
}

static int put_utf8(struct otap_buffer* b, uint32_t cp) {
  uint8_t tmp[4];
  int n;
  if (cp < 0x80) {
    tmp[0] = (uint8_t)cp;
    n = 1;
  } else if (cp < 0x800) {
    tmp[0] = (uint8_t)(0xC0 | (cp >> 6));
    tmp[1] = (uint8_t)(0x80 | (cp & 0x3F));
    n = 2;
  } else if (cp < 0x10000) {
    tmp[0] = (uint8_t)(0xE0 | (cp >> 12));
    tmp[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
    tmp[2] = (uint8_t)(0x80 | (cp & 0x3F));
    n = 3;
  } else {
    tmp[0] = (uint8_t)(0xF0 | (cp >> 18));
    tmp[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
    tmp[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
    tmp[3] = (uint8_t)(0x80 | (cp & 0x3F));
    n = 4;
  }
  return otap_buffer_append(b, tmp, n);
}

// Length of the valid UTF-8 sequence starting at p (0 if invalid).
static int utf8_seq(const uint8_t* p, const uint8_t* end) {
  uint8_t c = p[0];
  int n;
  uint32_t cp;
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
    cp = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    cp = c & 0x0F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (end - p < n) return 0;
  for (int i = 1; i < n; i++) {
    if ((p[i] & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (p[i] & 0x3F);
  }
  if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF))) return 0;
  if (cp >= 0xD800 && cp <= 0xDFFF) return 0;
  return n;
}

// Parses a string literal (ps->p at the opening quote) into a new NUL-terminated allocation.
static int parse_string(struct parser* ps, char** out, int64_t* out_len) {
  struct otap_buffer b;
  otap_buffer_init(&b);
  int rc = 0;
  ps->p++;  // opening quote
  for (;;) {
    if (ps->p >= ps->end) {
      rc = fail(ps, "unterminated string");
      goto done;
    }
    uint8_t c = (uint8_t)*ps->p;
    if (c == '"') {
      ps->p++;
      break;
    }
    if (c < 0x20) {
      rc = fail(ps, "control character in string");
      goto done;
    }
    if (c == '\\') {
      ps->p++;
      if (ps->p >= ps->end) {
        rc = fail(ps, "truncated escape");
        goto done;
      }
      char e = *ps->p++;
      char lit = 0;
      switch (e) {
        case '"': lit = '"'; break;
        case '\\': lit = '\\'; break;
        case '/': lit = '/'; break;
        case 'b': lit = '\b'; break;
        case 'f': lit = '\f'; break;
        case 'n': lit = '\n'; break;
        case 'r': lit = '\r'; break;
        case 't': lit = '\t'; break;
        case 'u': {
          uint32_t cp;
          OTAP_GOTO_NOT_OK(rc, hex4(ps, &cp));
          if (cp >= 0xDC00 && cp <= 0xDFFF) {
            rc = fail(ps, "lone low surrogate");
            goto done;
          }
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            uint32_t lo;
            if (ps->end - ps->p < 2 || ps->p[0] != '\\' || ps->p[1] != 'u') {
              rc = fail(ps, "high surrogate without low surrogate");
              goto done;
            }
            ps->p += 2;
            OTAP_GOTO_NOT_OK(rc, hex4(ps, &lo));
            if (lo < 0xDC00 || lo > 0xDFFF) {
              rc = fail(ps, "high surrogate without low surrogate");
              goto done;
            }
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          }
          OTAP_GOTO_NOT_OK(rc, put_utf8(&b, cp));
          continue;
        }
        default:
          ps->p--;
          rc = fail(ps, "invalid escape");
          goto done;
      }
      OTAP_GOTO_NOT_OK(rc, otap_buffer_append(&b, &lit, 1));
      continue;
    }
    int n = utf8_seq((const uint8_t*)ps->p, (const uint8_t*)ps->end);
    if (n == 0) {
      rc = fail(ps, "invalid UTF-8 in string");
      goto done;
    }
    OTAP_GOTO_NOT_OK(rc, otap_buffer_append(&b, ps->p, n));
    ps->p += n;
  }
  *out_len = b.size;
  OTAP_GOTO_NOT_OK(rc, otap_buffer_append_fill(&b, 0, 1));
  *out = (char*)b.data;
  b.data = NULL;
done:
  otap_buffer_reset(&b);
  if (rc == ENOMEM) otap_error_set(ps->err, ENOMEM, "JSON: out of memory at byte %lld",
                                   (long long)pos(ps));
  return rc;
}

static int parse_number(struct parser* ps, struct otap_test_json* out) {
  const char* s = ps->p;
  const char* p = s;
  if (p < ps->end && *p == '-') p++;
  if (p >= ps->end) return fail(ps, "truncated number");
  if (*p == '0') {
    p++;
  } else if (*p >= '1' && *p <= '9') {
    while (p < ps->end && *p >= '0' && *p <= '9') p++;
  } else {
    ps->p = p;
    return fail(ps, "invalid number");
  }
  if (p < ps->end && *p == '.') {
    p++;
    if (p >= ps->end || !(*p >= '0' && *p <= '9')) {
      ps->p = p;
      return fail(ps, "digit expected after decimal point");
    }
    while (p < ps->end && *p >= '0' && *p <= '9') p++;
  }
  if (p < ps->end && (*p == 'e' || *p == 'E')) {
    p++;
    if (p < ps->end && (*p == '+' || *p == '-')) p++;
    if (p >= ps->end || !(*p >= '0' && *p <= '9')) {
      ps->p = p;
      return fail(ps, "digit expected in exponent");
    }
    while (p < ps->end && *p >= '0' && *p <= '9') p++;
  }
  out->type = OTAP_TEST_JSON_NUMBER;
  out->text = otap_strndup(s, (size_t)(p - s));
  if (!out->text) return otap_error_set(ps->err, ENOMEM, "JSON: out of memory");
  out->text_len = p - s;
  out->number = strtod(out->text, NULL);
  ps->p = p;
  return 0;
}

static int literal(struct parser* ps, const char* word) {
  size_t n = strlen(word);
  if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0) {
    return fail(ps, "invalid literal");
  }
  ps->p += n;
  return 0;
}

// Parses the elements of an array or the members of an object (ps->p after the opener).
static int parse_container(struct parser* ps, struct otap_test_json* out, int depth,
                           bool object) {
  char close = object ? '}' : ']';
  int64_t n = 0, cap = 0;
  struct otap_test_json* items = NULL;
  int rc = 0;
  skip_ws(ps);
  if (ps->p < ps->end && *ps->p == close) {
    ps->p++;
    goto done;
  }
  for (;;) {
    if (n == cap) {
      int64_t ncap = cap ? cap * 2 : 8;
      struct otap_test_json* grown =
          otap_realloc(items, (size_t)ncap * sizeof(struct otap_test_json));
      if (!grown) {
        rc = otap_error_set(ps->err, ENOMEM, "JSON: out of memory");
        goto done;
      }
      items = grown;
      cap = ncap;
    }
    struct otap_test_json* item = &items[n];
    memset(item, 0, sizeof(*item));
    n++;
    skip_ws(ps);
    if (object) {
      if (ps->p >= ps->end || *ps->p != '"') {
        rc = fail(ps, "member name expected");
        goto done;
      }
      OTAP_GOTO_NOT_OK(rc, parse_string(ps, &item->key, &item->key_len));
      skip_ws(ps);
      if (ps->p >= ps->end || *ps->p != ':') {
        rc = fail(ps, "':' expected");
        goto done;
      }
      ps->p++;
      skip_ws(ps);
    }
    OTAP_GOTO_NOT_OK(rc, parse_value(ps, item, depth + 1));
    skip_ws(ps);
    if (ps->p >= ps->end) {
      rc = fail(ps, object ? "unterminated object" : "unterminated array");
      goto done;
    }
    if (*ps->p == ',') {
      ps->p++;
      continue;
    }
    if (*ps->p == close) {
      ps->p++;
      break;
    }
    rc = fail(ps, object ? "',' or '}' expected" : "',' or ']' expected");
    goto done;
  }
done:
  if (rc != 0) {
    for (int64_t i = 0; i < n; i++) node_clear(&items[i]);
    otap_free(items);
    return rc;
  }
  out->items = items;
  out->n_items = n;
  return 0;
}

static int parse_value(struct parser* ps, struct otap_test_json* out, int depth) {
  if (depth > OTAP_TEST_JSON_MAX_DEPTH) return fail(ps, "nesting too deep");
  skip_ws(ps);
  if (ps->p >= ps->end) return fail(ps, "value expected");
  out->offset = pos(ps);
  switch (*ps->p) {
    case '{':
      ps->p++;
      out->type = OTAP_TEST_JSON_OBJECT;
      return parse_container(ps, out, depth, true);
    case '[':
      ps->p++;
      out->type = OTAP_TEST_JSON_ARRAY;
      return parse_container(ps, out, depth, false);
    case '"':
      out->type = OTAP_TEST_JSON_STRING;
      return parse_string(ps, &out->text, &out->text_len);
    case 't':
      out->type = OTAP_TEST_JSON_BOOL;
      out->boolean = true;
      return literal(ps, "true");
    case 'f':
      out->type = OTAP_TEST_JSON_BOOL;
      return literal(ps, "false");
    case 'n':
      out->type = OTAP_TEST_JSON_NULL;
      return literal(ps, "null");
    default:
      return parse_number(ps, out);
  }
}

int otap_test_json_parse(const char* data, size_t len, struct otap_test_json** out,
                         struct otap_error* err) {
  *out = NULL;
  struct parser ps = {data, data + len, data, err};
  struct otap_test_json* root = otap_calloc(1, sizeof(*root));
  if (!root) return otap_error_set(err, ENOMEM, "JSON: out of memory");
  int rc = parse_value(&ps, root, 0);
  if (rc == 0) {
    skip_ws(&ps);
    if (ps.p != ps.end) rc = fail(&ps, "trailing characters after the value");
  }
  if (rc != 0) {
    otap_test_json_free(root);
    return rc;
  }
  *out = root;
  return 0;
}

void otap_test_json_free(struct otap_test_json* root) {
  if (!root) return;
  node_clear(root);
  otap_free(root);
}

const struct otap_test_json* otap_test_json_get(const struct otap_test_json* obj,
                                                const char* key) {
  if (!obj || obj->type != OTAP_TEST_JSON_OBJECT) return NULL;
  size_t n = strlen(key);
  for (int64_t i = 0; i < obj->n_items; i++) {
    const struct otap_test_json* m = &obj->items[i];
    if ((size_t)m->key_len == n && memcmp(m->key, key, n) == 0) return m;
  }
  return NULL;
}

const char* otap_test_json_type_name(enum otap_test_json_type type) {
  switch (type) {
    case OTAP_TEST_JSON_NULL: return "null";
    case OTAP_TEST_JSON_BOOL: return "bool";
    case OTAP_TEST_JSON_NUMBER: return "number";
    case OTAP_TEST_JSON_STRING: return "string";
    case OTAP_TEST_JSON_ARRAY: return "array";
    case OTAP_TEST_JSON_OBJECT: return "object";
  }
  return "?";
}

// Parses an optional '-' then decimal digits (the whole text) into magnitude + sign.
static int parse_integer_text(const struct otap_test_json* v, bool* neg, uint64_t* mag,
                              struct otap_error* err) {
  const char* s;
  int64_t n;
  if (v && (v->type == OTAP_TEST_JSON_NUMBER || v->type == OTAP_TEST_JSON_STRING)) {
    s = v->text;
    n = v->text_len;
  } else {
    return otap_error_set(err, EINVAL, "JSON: integer expected at byte %lld, got %s",
                          v ? (long long)v->offset : -1LL,
                          v ? otap_test_json_type_name(v->type) : "nothing");
  }
  int64_t i = 0;
  *neg = false;
  if (i < n && s[i] == '-') {
    *neg = true;
    i++;
  }
  if (i >= n) return otap_error_set(err, EINVAL, "JSON: empty integer at byte %lld",
                                    (long long)v->offset);
  uint64_t m = 0;
  for (; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') {
      return otap_error_set(err, EINVAL, "JSON: '%s' at byte %lld is not an integer", s,
                            (long long)v->offset);
    }
    unsigned d = (unsigned)(s[i] - '0');
    if (m > (UINT64_MAX - d) / 10) {
      return otap_error_set(err, ERANGE, "JSON: integer '%s' at byte %lld out of range", s,
                            (long long)v->offset);
    }
    m = m * 10 + d;
  }
  *mag = m;
  return 0;
}

int otap_test_json_int64(const struct otap_test_json* v, int64_t* out, struct otap_error* err) {
  bool neg = false;
  uint64_t mag = 0;
  OTAP_RETURN_NOT_OK(parse_integer_text(v, &neg, &mag, err));
  if (neg) {
    if (mag > (uint64_t)INT64_MAX + 1) goto range;
    *out = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
  } else {
    if (mag > (uint64_t)INT64_MAX) goto range;
    *out = (int64_t)mag;
  }
  return 0;
range:
  return otap_error_set(err, ERANGE, "JSON: integer '%s' at byte %lld out of int64 range",
                        v->text, (long long)v->offset);
}

int otap_test_json_uint64(const struct otap_test_json* v, uint64_t* out,
                          struct otap_error* err) {
  bool neg = false;
  uint64_t mag = 0;
  OTAP_RETURN_NOT_OK(parse_integer_text(v, &neg, &mag, err));
  if (neg && mag != 0) {
    return otap_error_set(err, ERANGE, "JSON: negative value '%s' at byte %lld for uint64",
                          v->text, (long long)v->offset);
  }
  *out = mag;
  return 0;
}

int otap_test_json_double(const struct otap_test_json* v, double* out, struct otap_error* err) {
  if (v && v->type == OTAP_TEST_JSON_NUMBER) {
    *out = v->number;
    return 0;
  }
  if (v && v->type == OTAP_TEST_JSON_STRING) {
    if (strcmp(v->text, "NaN") == 0) {
      *out = NAN;
      return 0;
    }
    if (strcmp(v->text, "Infinity") == 0 || strcmp(v->text, "inf") == 0) {
      *out = INFINITY;
      return 0;
    }
    if (strcmp(v->text, "-Infinity") == 0 || strcmp(v->text, "-inf") == 0) {
      *out = -INFINITY;
      return 0;
    }
    char* end = NULL;
    double d = strtod(v->text, &end);
    if (v->text_len > 0 && end == v->text + v->text_len) {
      *out = d;
      return 0;
    }
  }
  return otap_error_set(err, EINVAL, "JSON: number expected at byte %lld",
                        v ? (long long)v->offset : -1LL);
}
