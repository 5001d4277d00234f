// A small bounded JSON pull parser (RFC 8259) for the GCS JSON API: listings, object
// metadata and error replies. Events carry the slash-joined path of object member names,
// with "[]" appended for array elements ("items[]/name"). Depth, member names and
// string lengths are capped; nothing is allocated per value (one text buffer).
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_internal.h"

struct json_parser {
  const char* p;
  const char* begin;
  const char* end;
  otap__json_cb cb;
  void* ctx;
  struct otap_error* err;
  int depth;
  char path[OTAP_JSON_MAX_DEPTH * (OTAP_JSON_MAX_NAME + 3) + 1];
  size_t path_len;
  char* text;  // OTAP_JSON_MAX_TEXT + 1 bytes
  size_t text_len;
  bool stopped;
};

static int jerr(struct json_parser* j, const char* what) {
  return otap_error_set(j->err, EINVAL, "JSON: %s at byte %lld", what,
                        (long long)(j->p - j->begin));
}

static void skip_ws(struct json_parser* j) {
  while (j->p < j->end &&
         (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r')) {
    j->p++;
  }
}

static int put_text(struct json_parser* j, const char* s, size_t n) {
  if (j->text_len + n > OTAP_JSON_MAX_TEXT) return jerr(j, "string too long");
  memcpy(j->text + j->text_len, s, n);
  j->text_len += n;
  return 0;
}

static int hex4(struct json_parser* j, unsigned* out) {
  if (j->end - j->p < 4) return jerr(j, "truncated \\u escape");
  unsigned v = 0;
  for (int i = 0; i < 4; i++) {
    char c = j->p[i];
    v <<= 4;
    if (c >= '0' && c <= '9') {
      v |= (unsigned)(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      v |= (unsigned)(c - 'a' + 10);
    } else if (c >= 'A' && c <= 'F') {
      v |= (unsigned)(c - 'A' + 10);
    } else {
      return jerr(j, "bad \\u escape");
    }
  }
  j->p += 4;
  *out = v;
  return 0;
}

// Parses a string at j->p (on the opening quote) into j->text (NUL-terminated).
static int parse_string(struct json_parser* j) {
  j->p++;
  j->text_len = 0;
  for (;;) {
    const char* run = j->p;
    while (j->p < j->end && *j->p != '"' && *j->p != '\\' && (unsigned char)*j->p >= 0x20)
      j->p++;
    OTAP_RETURN_NOT_OK(put_text(j, run, (size_t)(j->p - run)));
    if (j->p >= j->end) return jerr(j, "unterminated string");
    char c = *j->p;
    if (c == '"') {
      j->p++;
      j->text[j->text_len] = '\0';
      return 0;
    }
    if (c != '\\') return jerr(j, "control character in string");
    j->p++;
    if (j->p >= j->end) return jerr(j, "unterminated escape");
    char e = *j->p++;
    char one;
    switch (e) {
      case '"':
      case '\\':
      case '/':
        one = e;
        break;
      case 'b':
        one = '\b';
        break;
      case 'f':
        one = '\f';
        break;
      case 'n':
        one = '\n';
        break;
      case 'r':
        one = '\r';
        break;
      case 't':
        one = '\t';
        break;
      case 'u': {
        unsigned cp;
        OTAP_RETURN_NOT_OK(hex4(j, &cp));
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          unsigned lo;
          if (j->end - j->p < 2 || j->p[0] != '\\' || j->p[1] != 'u')
            return jerr(j, "lone high surrogate");
          j->p += 2;
          OTAP_RETURN_NOT_OK(hex4(j, &lo));
          if (lo < 0xDC00 || lo > 0xDFFF) return jerr(j, "bad low surrogate");
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
          return jerr(j, "lone low surrogate");
        }
        if (cp == 0) return jerr(j, "NUL in string");
        char u[4];
        size_t n;
        if (cp < 0x80) {
          u[0] = (char)cp;
          n = 1;
        } else if (cp < 0x800) {
          u[0] = (char)(0xC0 | (cp >> 6));
          u[1] = (char)(0x80 | (cp & 0x3F));
          n = 2;
        } else if (cp < 0x10000) {
          u[0] = (char)(0xE0 | (cp >> 12));
          u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
          u[2] = (char)(0x80 | (cp & 0x3F));
          n = 3;
        } else {
          u[0] = (char)(0xF0 | (cp >> 18));
          u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
          u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
          u[3] = (char)(0x80 | (cp & 0x3F));
          n = 4;
        }
        OTAP_RETURN_NOT_OK(put_text(j, u, n));
        continue;
      }
      default:
        return jerr(j, "bad escape");
    }
    OTAP_RETURN_NOT_OK(put_text(j, &one, 1));
  }
}

static int emit(struct json_parser* j, enum otap__json_event ev, const char* text,
                size_t n) {
  if (j->cb(j->ctx, j->path, ev, text, n) != 0) {
    j->stopped = true;
    return ECANCELED;
  }
  return 0;
}

static int parse_value(struct json_parser* j);

// Appends "/name" (or "name" at the root) or "[]" to the path; returns the old length.
static int push_path(struct json_parser* j, const char* name, size_t n, bool array,
                     size_t* old) {
  *old = j->path_len;
  if (array) {
    memcpy(j->path + j->path_len, "[]", 3);
    j->path_len += 2;
    return 0;
  }
  if (n > OTAP_JSON_MAX_NAME) return jerr(j, "member name too long");
  if (memchr(name, '/', n) || memchr(name, '[', n)) {
    // Names with path syntax cannot collide with the ones we look for: mask them.
    name = "?";
    n = 1;
  }
  if (j->path_len) j->path[j->path_len++] = '/';
  memcpy(j->path + j->path_len, name, n);
  j->path_len += n;
  j->path[j->path_len] = '\0';
  return 0;
}

static void pop_path(struct json_parser* j, size_t old) {
  j->path_len = old;
  j->path[old] = '\0';
}

static int parse_container(struct json_parser* j, bool array) {
  if (++j->depth > OTAP_JSON_MAX_DEPTH) return jerr(j, "nesting too deep");
  OTAP_RETURN_NOT_OK(emit(j, array ? OTAP_JSON_ARRAY_BEGIN : OTAP_JSON_OBJECT_BEGIN, NULL, 0));
  j->p++;
  skip_ws(j);
  char close = array ? ']' : '}';
  if (j->p < j->end && *j->p == close) {
    j->p++;
  } else {
    for (;;) {
      skip_ws(j);
      size_t old;
      if (array) {
        push_path(j, NULL, 0, true, &old);
      } else {
        if (j->p >= j->end || *j->p != '"') return jerr(j, "expected member name");
        OTAP_RETURN_NOT_OK(parse_string(j));
        OTAP_RETURN_NOT_OK(push_path(j, j->text, j->text_len, false, &old));
        skip_ws(j);
        if (j->p >= j->end || *j->p != ':') return jerr(j, "expected ':'");
        j->p++;
      }
      OTAP_RETURN_NOT_OK(parse_value(j));
      pop_path(j, old);
      skip_ws(j);
      if (j->p >= j->end) return jerr(j, "unterminated container");
      if (*j->p == ',') {
        j->p++;
        continue;
      }
      if (*j->p == close) {
        j->p++;
        break;
      }
      return jerr(j, array ? "expected ',' or ']'" : "expected ',' or '}'");
    }
  }
  j->depth--;
  return emit(j, array ? OTAP_JSON_ARRAY_END : OTAP_JSON_OBJECT_END, NULL, 0);
}

static int parse_number(struct json_parser* j) {
  const char* s = j->p;
  if (j->p < j->end && *j->p == '-') j->p++;
  if (j->p >= j->end) return jerr(j, "bad number");
  if (*j->p == '0') {
    j->p++;
  } else if (*j->p >= '1' && *j->p <= '9') {
    while (j->p < j->end && *j->p >= '0' && *j->p <= '9') j->p++;
  } else {
    return jerr(j, "bad number");
  }
  if (j->p < j->end && *j->p == '.') {
    j->p++;
    if (j->p >= j->end || *j->p < '0' || *j->p > '9') return jerr(j, "bad fraction");
    while (j->p < j->end && *j->p >= '0' && *j->p <= '9') j->p++;
  }
  if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
    j->p++;
    if (j->p < j->end && (*j->p == '+' || *j->p == '-')) j->p++;
    if (j->p >= j->end || *j->p < '0' || *j->p > '9') return jerr(j, "bad exponent");
    while (j->p < j->end && *j->p >= '0' && *j->p <= '9') j->p++;
  }
  size_t n = (size_t)(j->p - s);
  if (n > 64) return jerr(j, "number too long");
  memcpy(j->text, s, n);
  j->text[n] = '\0';
  j->text_len = n;
  return emit(j, OTAP_JSON_NUMBER, j->text, n);
}

static int literal(struct json_parser* j, const char* word, enum otap__json_event ev) {
  size_t n = strlen(word);
  if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n) != 0)
    return jerr(j, "unexpected character");
  j->p += n;
  return emit(j, ev, word, n);
}

static int parse_value(struct json_parser* j) {
  skip_ws(j);
  if (j->p >= j->end) return jerr(j, "expected a value");
  switch (*j->p) {
    case '{':
      return parse_container(j, false);
    case '[':
      return parse_container(j, true);
    case '"':
      OTAP_RETURN_NOT_OK(parse_string(j));
      return emit(j, OTAP_JSON_STRING, j->text, j->text_len);
    case 't':
      return literal(j, "true", OTAP_JSON_TRUE);
    case 'f':
      return literal(j, "false", OTAP_JSON_FALSE);
    case 'n':
      return literal(j, "null", OTAP_JSON_NULL);
    default:
      return parse_number(j);
  }
}

int otap__json_parse(const char* data, size_t len, otap__json_cb cb, void* ctx,
                     struct otap_error* err) {
  struct json_parser* j = otap_calloc(1, sizeof(*j));
  if (!j) return otap_error_set(err, ENOMEM, "JSON: out of memory");
  j->text = otap_malloc(OTAP_JSON_MAX_TEXT + 1);
  if (!j->text) {
    otap_free(j);
    return otap_error_set(err, ENOMEM, "JSON: out of memory");
  }
  j->begin = j->p = data ? data : "";
  j->end = j->p + (data ? len : 0);
  j->cb = cb;
  j->ctx = ctx;
  j->err = err;
  // A UTF-8 byte order mark is tolerated.
  if (j->end - j->p >= 3 && memcmp(j->p, "\xEF\xBB\xBF", 3) == 0) j->p += 3;
  int rc = parse_value(j);
  if (rc == 0) {
    skip_ws(j);
    if (j->p != j->end) rc = jerr(j, "trailing data after the value");
  }
  if (j->stopped) rc = 0;  // the callback asked to stop (it keeps its own error)
  otap_free(j->text);
  otap_free(j);
  return rc;
}

// ---------------------------------------------------------------------------------------------
// GCS replies

static int64_t parse_i64(const char* s) {
  char* end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (errno || end == s || *end || v < 0) return -1;
  return v;
}

static bool is_scalar(enum otap__json_event ev) {
  return ev == OTAP_JSON_STRING || ev == OTAP_JSON_NUMBER;
}

static int gcs_list_cb(void* ctx, const char* path, enum otap__json_event ev,
                       const char* text, size_t n) {
  struct otap__list_page* pg = ctx;
  if (pg->rc) return 1;
  if (strcmp(path, "items[]") == 0) {
    if (ev == OTAP_JSON_OBJECT_BEGIN) {
      otap_free(pg->cur_key);
      pg->cur_key = NULL;
      pg->cur_size = -1;
      pg->cur_mtime = 0;
    } else if (ev == OTAP_JSON_OBJECT_END) {
      if (!pg->cur_key || pg->cur_size < 0) {
        pg->rc = otap_error_set(pg->err, EINVAL,
                                "listing: item without a name or a valid size");
      } else {
        pg->rc = otap__list_push(pg, pg->cur_key, pg->cur_size, pg->cur_mtime, false);
      }
    } else {
      pg->rc = otap_error_set(pg->err, EINVAL, "listing: item is not an object");
    }
  } else if (strcmp(path, "items[]/name") == 0 && ev == OTAP_JSON_STRING) {
    otap_free(pg->cur_key);
    pg->cur_key = otap_strndup(text, n);
    if (!pg->cur_key) pg->rc = otap_error_set(pg->err, ENOMEM, "listing: out of memory");
  } else if (strcmp(path, "items[]/size") == 0 && is_scalar(ev)) {
    pg->cur_size = parse_i64(text);
  } else if (strcmp(path, "items[]/updated") == 0 && ev == OTAP_JSON_STRING) {
    pg->cur_mtime = otap__parse_iso8601(text);
    if (pg->cur_mtime < 0) pg->cur_mtime = 0;
  } else if (strcmp(path, "prefixes[]") == 0 && ev != OTAP_JSON_ARRAY_END &&
             ev != OTAP_JSON_OBJECT_END) {
    if (ev != OTAP_JSON_STRING) {
      pg->rc = otap_error_set(pg->err, EINVAL, "listing: prefix is not a string");
    } else {
      pg->rc = otap__list_push(pg, text, -1, 0, true);
    }
  } else if (strcmp(path, "nextPageToken") == 0 && ev == OTAP_JSON_STRING) {
    otap_free(pg->next_token);
    pg->next_token = NULL;
    if (n) {
      pg->next_token = otap_strndup(text, n);
      if (!pg->next_token)
        pg->rc = otap_error_set(pg->err, ENOMEM, "listing: out of memory");
    }
  }
  return pg->rc ? 1 : 0;
}

int otap__json_parse_gcs_list(const char* data, size_t len, struct otap__list_page* page,
                              struct otap_error* err) {
  page->err = err;
  page->rc = 0;
  otap_free(page->next_token);
  page->next_token = NULL;
  int rc = otap__json_parse(data, len, gcs_list_cb, page, err);
  if (rc == 0) rc = page->rc;
  page->truncated = rc == 0 && page->next_token != NULL;
  return rc;
}

static int gcs_meta_cb(void* ctx, const char* path, enum otap__json_event ev,
                       const char* text, size_t n) {
  struct otap__gcs_meta* m = ctx;
  (void)n;
  if (!is_scalar(ev)) return 0;
  if (strcmp(path, "size") == 0) {
    m->size = parse_i64(text);
  } else if (strcmp(path, "generation") == 0) {
    m->generation = parse_i64(text);
  } else if (strcmp(path, "updated") == 0) {
    m->mtime = otap__parse_iso8601(text);
    if (m->mtime < 0) m->mtime = 0;
  } else if (strcmp(path, "name") == 0) {
    m->has_name = true;
  }
  return 0;
}

int otap__json_parse_gcs_object(const char* data, size_t len, struct otap__gcs_meta* out,
                                struct otap_error* err) {
  memset(out, 0, sizeof(*out));
  out->size = -1;
  out->generation = -1;
  OTAP_RETURN_NOT_OK(otap__json_parse(data, len, gcs_meta_cb, out, err));
  OTAP_RETURN_IF(!out->has_name || out->size < 0, err, EINVAL,
                 "object metadata without a name or a valid size");
  return 0;
}

struct error_ctx {
  char *code, *message;
  size_t code_cap, message_cap;
};

static int gcs_error_cb(void* ctx, const char* path, enum otap__json_event ev,
                        const char* text, size_t n) {
  struct error_ctx* e = ctx;
  (void)n;
  if (!is_scalar(ev)) return 0;
  if (strcmp(path, "error/message") == 0) {
    snprintf(e->message, e->message_cap, "%s", text);
  } else if (strcmp(path, "error/errors[]/reason") == 0 && !e->code[0]) {
    snprintf(e->code, e->code_cap, "%s", text);
  } else if (strcmp(path, "error/status") == 0 && !e->code[0]) {
    snprintf(e->code, e->code_cap, "%s", text);
  } else if (strcmp(path, "error") == 0 && ev == OTAP_JSON_STRING && !e->code[0]) {
    // OAuth-style {"error": "invalid_token", "error_description": ...}
    snprintf(e->code, e->code_cap, "%s", text);
  } else if (strcmp(path, "error_description") == 0 && !e->message[0]) {
    snprintf(e->message, e->message_cap, "%s", text);
  }
  return 0;
}

void otap__json_parse_error(const char* data, size_t len, char* code, size_t code_cap,
                            char* message, size_t message_cap) {
  code[0] = message[0] = '\0';
  struct error_ctx e = {code, message, code_cap, message_cap};
  struct otap_error ignored;
  // A malformed body keeps whatever was found before the malformed part.
  (void)otap__json_parse(data, len, gcs_error_cb, &e, &ignored);
  // Messages end up on one line.
  for (char* c = message; *c; c++) {
    if ((unsigned char)*c < 0x20) *c = ' ';
  }
  for (char* c = code; *c; c++) {
    if ((unsigned char)*c < 0x20) *c = ' ';
  }
}
