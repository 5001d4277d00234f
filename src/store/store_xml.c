// A small, bounded XML pull parser for object store listings and error pages, and the
// consumers that turn S3 / Azure replies into listings and error fields.
//
// Supported: prolog, comments, processing instructions, CDATA, attributes (skipped), the
// five predefined entities and numeric character references. Refused: DOCTYPE (no entity
// expansion, ever), mismatched tags, depth > OTAP_XML_MAX_DEPTH, names or text past the
// caps.
#include <stdlib.h>
#include <string.h>

#include "store/store_internal.h"

struct xml_state {
  const char* p;
  const char* end;
  const char* start;
  char path[OTAP_XML_MAX_DEPTH * (OTAP_XML_MAX_NAME + 1) + 1];
  size_t path_len;
  size_t seg_start[OTAP_XML_MAX_DEPTH];
  int depth;
  struct otap_buffer text;
  struct otap_error* err;
};

static int xml_fail(struct xml_state* st, int code, const char* what) {
  return otap_error_set(st->err, code, "XML: %s at byte %lld", what,
                        (long long)(st->p - st->start));
}

static bool starts(struct xml_state* st, const char* lit) {
  size_t n = strlen(lit);
  return (size_t)(st->end - st->p) >= n && memcmp(st->p, lit, n) == 0;
}

static bool skip_past(struct xml_state* st, const char* lit) {
  size_t n = strlen(lit);
  while ((size_t)(st->end - st->p) >= n) {
    if (memcmp(st->p, lit, n) == 0) {
      st->p += n;
      return true;
    }
    st->p++;
  }
  st->p = st->end;
  return false;
}

static bool is_name_char(unsigned char c) {
  return c == ':' || c == '_' || c == '-' || c == '.' || (c >= 'a' && c <= 'z') ||
         (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
}

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

static int append_utf8(struct otap_buffer* b, uint32_t cp) {
  uint8_t u[4];
  int n;
  if (cp < 0x80) {
    u[0] = (uint8_t)cp;
    n = 1;
  } else if (cp < 0x800) {
    u[0] = (uint8_t)(0xC0 | (cp >> 6));
    u[1] = (uint8_t)(0x80 | (cp & 0x3F));
    n = 2;
  } else if (cp < 0x10000) {
    u[0] = (uint8_t)(0xE0 | (cp >> 12));
    u[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
    u[2] = (uint8_t)(0x80 | (cp & 0x3F));
    n = 3;
  } else {
    u[0] = (uint8_t)(0xF0 | (cp >> 18));
    u[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
    u[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
    u[3] = (uint8_t)(0x80 | (cp & 0x3F));
    n = 4;
  }
  return otap_buffer_append(b, u, n);
}

static int text_append(struct xml_state* st, const char* s, size_t n) {
  if ((size_t)st->text.size + n > OTAP_XML_MAX_TEXT)
    return xml_fail(st, EINVAL, "text too long");
  if (otap_buffer_append(&st->text, s, (int64_t)n) != 0)
    return xml_fail(st, ENOMEM, "out of memory");
  return 0;
}

// Decodes one entity at st->p ('&') into the text buffer.
static int parse_entity(struct xml_state* st) {
  const char* semi =
      memchr(st->p, ';', (size_t)(st->end - st->p) < 12 ? (size_t)(st->end - st->p) : 12);
  if (!semi) return xml_fail(st, EINVAL, "unterminated entity");
  const char* e = st->p + 1;
  size_t n = (size_t)(semi - e);
  static const struct {
    const char* name;
    char c;
  } named[] = {{"lt", '<'}, {"gt", '>'}, {"amp", '&'}, {"quot", '"'}, {"apos", '\''}};
  for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
    if (strlen(named[i].name) == n && memcmp(named[i].name, e, n) == 0) {
      st->p = semi + 1;
      return text_append(st, &named[i].c, 1);
    }
  }
  if (n >= 2 && e[0] == '#') {
    uint32_t cp = 0;
    bool hex = e[1] == 'x';
    size_t i = hex ? 2 : 1;
    if (i >= n) return xml_fail(st, EINVAL, "bad character reference");
    for (; i < n; i++) {
      char c = e[i];
      uint32_t d;
      if (c >= '0' && c <= '9') {
        d = (uint32_t)(c - '0');
      } else if (hex && c >= 'a' && c <= 'f') {
        d = (uint32_t)(c - 'a' + 10);
      } else if (hex && c >= 'A' && c <= 'F') {
        d = (uint32_t)(c - 'A' + 10);
      } else {
        return xml_fail(st, EINVAL, "bad character reference");
      }
      cp = cp * (hex ? 16 : 10) + d;
      if (cp > 0x10FFFF) return xml_fail(st, EINVAL, "character reference out of range");
    }
    if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return xml_fail(st, EINVAL, "invalid character reference");
    }
    if ((size_t)st->text.size + 4 > OTAP_XML_MAX_TEXT)
      return xml_fail(st, EINVAL, "text too long");
    if (append_utf8(&st->text, cp) != 0) return xml_fail(st, ENOMEM, "out of memory");
    st->p = semi + 1;
    return 0;
  }
  return xml_fail(st, EINVAL, "unknown entity");
}

static int parse_name(struct xml_state* st, const char** name, size_t* n) {
  *name = st->p;
  while (st->p < st->end && is_name_char((unsigned char)*st->p)) st->p++;
  *n = (size_t)(st->p - *name);
  if (*n == 0) return xml_fail(st, EINVAL, "expected a name");
  if (*n > OTAP_XML_MAX_NAME) return xml_fail(st, EINVAL, "name too long");
  return 0;
}

// Skips attributes up to '>' or '/>'; sets *self_closing.
static int skip_attributes(struct xml_state* st, bool* self_closing) {
  *self_closing = false;
  for (;;) {
    while (st->p < st->end && is_space(*st->p)) st->p++;
    if (st->p >= st->end) return xml_fail(st, EINVAL, "unterminated tag");
    if (*st->p == '>') {
      st->p++;
      return 0;
    }
    if (*st->p == '/') {
      if (st->p + 1 < st->end && st->p[1] == '>') {
        st->p += 2;
        *self_closing = true;
        return 0;
      }
      return xml_fail(st, EINVAL, "bad '/' in tag");
    }
    const char* name;
    size_t n;
    OTAP_RETURN_NOT_OK(parse_name(st, &name, &n));
    while (st->p < st->end && is_space(*st->p)) st->p++;
    if (st->p >= st->end || *st->p != '=') return xml_fail(st, EINVAL, "expected '='");
    st->p++;
    while (st->p < st->end && is_space(*st->p)) st->p++;
    if (st->p >= st->end || (*st->p != '"' && *st->p != '\'')) {
      return xml_fail(st, EINVAL, "expected a quoted attribute value");
    }
    char q = *st->p++;
    const char* close = memchr(st->p, q, (size_t)(st->end - st->p));
    if (!close) return xml_fail(st, EINVAL, "unterminated attribute value");
    if (memchr(st->p, '<', (size_t)(close - st->p)))
      return xml_fail(st, EINVAL, "'<' in attribute");
    st->p = close + 1;
  }
}

static int push(struct xml_state* st, const char* name, size_t n, otap__xml_cb cb,
                void* ctx) {
  if (st->depth >= OTAP_XML_MAX_DEPTH) return xml_fail(st, EINVAL, "nesting too deep");
  st->seg_start[st->depth++] = st->path_len;
  if (st->path_len) st->path[st->path_len++] = '/';
  memcpy(st->path + st->path_len, name, n);
  st->path_len += n;
  st->path[st->path_len] = '\0';
  st->text.size = 0;
  if (cb(ctx, st->path, NULL, 0) != 0)
    return xml_fail(st, ECANCELED, "stopped by consumer");
  return 0;
}

static int pop(struct xml_state* st, const char* name, size_t n, otap__xml_cb cb,
               void* ctx) {
  if (st->depth == 0) return xml_fail(st, EINVAL, "unexpected closing tag");
  size_t s = st->seg_start[st->depth - 1];
  size_t off = s ? s + 1 : 0;
  if (st->path_len - off != n || memcmp(st->path + off, name, n) != 0) {
    return xml_fail(st, EINVAL, "mismatched closing tag");
  }
  if (otap_buffer_append(&st->text, "", 1) != 0)
    return xml_fail(st, ENOMEM, "out of memory");
  st->text.size--;
  if (cb(ctx, st->path, (const char*)st->text.data, (size_t)st->text.size) != 0) {
    return xml_fail(st, ECANCELED, "stopped by consumer");
  }
  st->text.size = 0;
  st->depth--;
  st->path_len = s;
  st->path[s] = '\0';
  return 0;
}

static int parse_doc(struct xml_state* st, otap__xml_cb cb, void* ctx) {
  bool seen_root = false;
  // Skip a UTF-8 byte order mark.
  if (starts(st, "\xEF\xBB\xBF")) st->p += 3;
  while (st->p < st->end) {
    if (*st->p != '<') {
      const char* lt = memchr(st->p, '<', (size_t)(st->end - st->p));
      const char* stop = lt ? lt : st->end;
      if (st->depth == 0) {
        for (const char* q = st->p; q < stop; q++) {
          if (!is_space(*q)) return xml_fail(st, EINVAL, "text outside the root element");
        }
        st->p = stop;
        continue;
      }
      while (st->p < stop) {
        const char* amp = memchr(st->p, '&', (size_t)(stop - st->p));
        const char* run_end = amp ? amp : stop;
        OTAP_RETURN_NOT_OK(text_append(st, st->p, (size_t)(run_end - st->p)));
        st->p = run_end;
        if (amp) OTAP_RETURN_NOT_OK(parse_entity(st));
        if (st->p > stop) return xml_fail(st, EINVAL, "entity crosses markup");
      }
      continue;
    }
    if (starts(st, "<!--")) {
      if (!skip_past(st, "-->")) return xml_fail(st, EINVAL, "unterminated comment");
    } else if (starts(st, "<![CDATA[")) {
      if (st->depth == 0) return xml_fail(st, EINVAL, "CDATA outside the root element");
      st->p += 9;
      const char* b = st->p;
      if (!skip_past(st, "]]>")) return xml_fail(st, EINVAL, "unterminated CDATA");
      OTAP_RETURN_NOT_OK(text_append(st, b, (size_t)(st->p - 3 - b)));
    } else if (starts(st, "<!")) {
      return xml_fail(st, ENOTSUP, "DOCTYPE and declarations are not accepted");
    } else if (starts(st, "<?")) {
      if (!skip_past(st, "?>"))
        return xml_fail(st, EINVAL, "unterminated processing instruction");
    } else if (starts(st, "</")) {
      st->p += 2;
      const char* name;
      size_t n;
      OTAP_RETURN_NOT_OK(parse_name(st, &name, &n));
      while (st->p < st->end && is_space(*st->p)) st->p++;
      if (st->p >= st->end || *st->p != '>') return xml_fail(st, EINVAL, "expected '>'");
      st->p++;
      OTAP_RETURN_NOT_OK(pop(st, name, n, cb, ctx));
    } else {
      st->p++;
      if (st->depth == 0 && seen_root) return xml_fail(st, EINVAL, "second root element");
      const char* name;
      size_t n;
      OTAP_RETURN_NOT_OK(parse_name(st, &name, &n));
      bool self_closing;
      OTAP_RETURN_NOT_OK(skip_attributes(st, &self_closing));
      seen_root = true;
      OTAP_RETURN_NOT_OK(push(st, name, n, cb, ctx));
      if (self_closing) OTAP_RETURN_NOT_OK(pop(st, name, n, cb, ctx));
    }
  }
  if (st->depth != 0) return xml_fail(st, EINVAL, "unexpected end of document");
  if (!seen_root) return xml_fail(st, EINVAL, "no root element");
  return 0;
}

int otap__xml_parse(const char* data, size_t len, otap__xml_cb cb, void* ctx,
                    struct otap_error* err) {
  if (len > (size_t)OTAP_STORE_MAX_XML) {
    return otap_error_set(err, EINVAL, "XML: document of %zu bytes is over the cap", len);
  }
  struct xml_state* st = otap_calloc(1, sizeof(*st));
  if (!st) return otap_error_set(err, ENOMEM, "XML: out of memory");
  st->p = st->start = data ? data : "";
  st->end = st->p + len;
  st->err = err;
  otap_buffer_init(&st->text);
  int rc = parse_doc(st, cb, ctx);
  otap_buffer_reset(&st->text);
  otap_free(st);
  return rc;
}

// ---------------------------------------------------------------------------------------------
// Listings

int otap__list_push(struct otap__list_page* page, const char* key, int64_t size,
                    int64_t mtime, bool is_prefix) {
  struct otap_store_list* l = page->list;
  size_t strip = page->strip ? strlen(page->strip) : 0;
  if (strlen(key) < strip || memcmp(key, page->strip, strip) != 0) {
    return otap_error_set(page->err, EINVAL, "listing returned key outside the prefix");
  }
  if (strlen(key) > OTAP_STORE_MAX_KEY)
    return otap_error_set(page->err, EINVAL, "listing: key too long");
  if (l->count >= OTAP_STORE_MAX_LIST)
    return otap_error_set(page->err, ENOMEM, "listing: too many keys");
  if (l->count == page->cap) {
    size_t cap = page->cap ? page->cap * 2 : 64;
    void* p = otap_realloc(l->items, cap * sizeof(*l->items));
    if (!p) return otap_error_set(page->err, ENOMEM, "listing: out of memory");
    l->items = p;
    page->cap = cap;
  }
  char* k = otap_strdup(key + strip);
  if (!k) return otap_error_set(page->err, ENOMEM, "listing: out of memory");
  l->items[l->count++] =
      (struct otap_store_object){k, is_prefix ? -1 : size, mtime, is_prefix};
  return 0;
}

static int64_t parse_i64(const char* s) {
  char* end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (errno || end == s || *end || v < 0) return -1;
  return v;
}

static int s3_list_cb(void* ctx, const char* path, const char* text, size_t n) {
  struct otap__list_page* pg = ctx;
  if (pg->rc) return 1;
  if (!text) {
    if (strcmp(path, "ListBucketResult/Contents") == 0) {
      otap_free(pg->cur_key);
      pg->cur_key = NULL;
      pg->cur_size = -1;
      pg->cur_mtime = 0;
    }
    return 0;
  }
  bool is_prefix = strcmp(path, "ListBucketResult/CommonPrefixes/Prefix") == 0;
  if (is_prefix || strcmp(path, "ListBucketResult/Contents/Key") == 0) {
    otap_free(pg->cur_key);
    pg->cur_key = otap_strndup(text, n);
    if (!pg->cur_key) pg->rc = otap_error_set(pg->err, ENOMEM, "listing: out of memory");
    if (!pg->rc && is_prefix) pg->rc = otap__list_push(pg, pg->cur_key, -1, 0, true);
  } else if (strcmp(path, "ListBucketResult/Contents/Size") == 0) {
    pg->cur_size = parse_i64(text);
  } else if (strcmp(path, "ListBucketResult/Contents/LastModified") == 0) {
    pg->cur_mtime = otap__parse_iso8601(text);
  } else if (strcmp(path, "ListBucketResult/Contents") == 0) {
    if (!pg->cur_key || pg->cur_size < 0) {
      pg->rc =
          otap_error_set(pg->err, EINVAL, "listing: entry without Key or valid Size");
    } else {
      pg->rc = otap__list_push(pg, pg->cur_key, pg->cur_size, pg->cur_mtime, false);
    }
  } else if (strcmp(path, "ListBucketResult/IsTruncated") == 0) {
    pg->truncated = strcmp(text, "true") == 0;
  } else if (strcmp(path, "ListBucketResult/NextContinuationToken") == 0 ||
             strcmp(path, "EnumerationResults/NextMarker") == 0) {
    otap_free(pg->next_token);
    pg->next_token = n ? otap_strndup(text, n) : NULL;
    if (n && !pg->next_token)
      pg->rc = otap_error_set(pg->err, ENOMEM, "listing: out of memory");
  }
  return pg->rc ? 1 : 0;
}

static int finish_page(struct otap__list_page* page, int rc) {
  otap_free(page->cur_key);
  page->cur_key = NULL;
  if (page->rc) return page->rc;
  return rc;
}

int otap__xml_parse_s3_list(const char* data, size_t len, struct otap__list_page* page,
                            struct otap_error* err) {
  page->err = err;
  page->rc = 0;
  page->truncated = false;
  otap_free(page->next_token);
  page->next_token = NULL;
  int rc = otap__xml_parse(data, len, s3_list_cb, page, err);
  rc = finish_page(page, rc);
  if (rc == 0 && page->truncated && !page->next_token) {
    rc = otap_error_set(err, EINVAL, "listing: truncated without NextContinuationToken");
  }
  if (!page->truncated) {
    otap_free(page->next_token);
    page->next_token = NULL;
  }
  return rc;
}

static int az_list_cb(void* ctx, const char* path, const char* text, size_t n) {
  struct otap__list_page* pg = ctx;
  if (pg->rc) return 1;
  if (!text) {
    if (strcmp(path, "EnumerationResults/Blobs/Blob") == 0) {
      otap_free(pg->cur_key);
      pg->cur_key = NULL;
      pg->cur_size = -1;
      pg->cur_mtime = 0;
    }
    return 0;
  }
  if (strcmp(path, "EnumerationResults/Blobs/Blob/Name") == 0) {
    otap_free(pg->cur_key);
    pg->cur_key = otap_strndup(text, n);
    if (!pg->cur_key) pg->rc = otap_error_set(pg->err, ENOMEM, "listing: out of memory");
  } else if (strcmp(path, "EnumerationResults/Blobs/BlobPrefix/Name") == 0) {
    char* k = otap_strndup(text, n);
    if (!k) {
      pg->rc = otap_error_set(pg->err, ENOMEM, "listing: out of memory");
    } else {
      pg->rc = otap__list_push(pg, k, -1, 0, true);
      otap_free(k);
    }
  } else if (strcmp(path, "EnumerationResults/Blobs/Blob/Properties/Content-Length") ==
             0) {
    pg->cur_size = parse_i64(text);
  } else if (strcmp(path, "EnumerationResults/Blobs/Blob/Properties/Last-Modified") ==
             0) {
    pg->cur_mtime = otap__parse_http_date(text);
  } else if (strcmp(path, "EnumerationResults/Blobs/Blob") == 0) {
    if (!pg->cur_key || pg->cur_size < 0) {
      pg->rc =
          otap_error_set(pg->err, EINVAL, "listing: blob without Name or Content-Length");
    } else {
      pg->rc = otap__list_push(pg, pg->cur_key, pg->cur_size, pg->cur_mtime, false);
    }
  } else if (strcmp(path, "EnumerationResults/NextMarker") == 0) {
    otap_free(pg->next_token);
    pg->next_token = n ? otap_strndup(text, n) : NULL;
    if (n && !pg->next_token)
      pg->rc = otap_error_set(pg->err, ENOMEM, "listing: out of memory");
  }
  return pg->rc ? 1 : 0;
}

int otap__xml_parse_azure_list(const char* data, size_t len, struct otap__list_page* page,
                               struct otap_error* err) {
  page->err = err;
  page->rc = 0;
  otap_free(page->next_token);
  page->next_token = NULL;
  int rc = otap__xml_parse(data, len, az_list_cb, page, err);
  rc = finish_page(page, rc);
  page->truncated = page->next_token != NULL;
  return rc;
}

// ---------------------------------------------------------------------------------------------
// Error pages and single values

struct err_fields {
  char *code, *message, *request_id;
  size_t code_cap, message_cap, request_id_cap;
};

static void copy_field(char* dst, size_t cap, const char* s, size_t n) {
  if (!cap) return;
  size_t k = n < cap - 1 ? n : cap - 1;
  // Keep messages printable: control bytes become spaces.
  for (size_t i = 0; i < k; i++) dst[i] = (s[i] >= 0 && s[i] < 0x20) ? ' ' : s[i];
  dst[k] = '\0';
}

static int error_cb(void* ctx, const char* path, const char* text, size_t n) {
  struct err_fields* f = ctx;
  if (!text) return 0;
  const char* last = strrchr(path, '/');
  if (!last || strncmp(path, "Error/", 6) != 0 || strchr(path + 6, '/')) return 0;
  last++;
  if (strcmp(last, "Code") == 0) copy_field(f->code, f->code_cap, text, n);
  if (strcmp(last, "Message") == 0) copy_field(f->message, f->message_cap, text, n);
  if (strcmp(last, "RequestId") == 0)
    copy_field(f->request_id, f->request_id_cap, text, n);
  return 0;
}

void otap__xml_parse_error(const char* data, size_t len, char* code, size_t code_cap,
                           char* message, size_t message_cap, char* request_id,
                           size_t request_id_cap) {
  if (code_cap) code[0] = '\0';
  if (message_cap) message[0] = '\0';
  if (request_id_cap) request_id[0] = '\0';
  struct err_fields f = {code,     message,     request_id,
                         code_cap, message_cap, request_id_cap};
  struct otap_error ignored;
  (void)otap__xml_parse(data, len, error_cb, &f, &ignored);
}

struct find_ctx {
  const char* path;
  char* found;
  bool oom;
};

static int find_cb(void* ctx, const char* path, const char* text, size_t n) {
  struct find_ctx* f = ctx;
  if (text && !f->found && strcmp(path, f->path) == 0) {
    f->found = otap_strndup(text, n);
    if (!f->found) f->oom = true;
    return 1;
  }
  return 0;
}

int otap__xml_find(const char* data, size_t len, const char* path, char** out,
                   struct otap_error* err) {
  struct find_ctx f = {path, NULL, false};
  int rc = otap__xml_parse(data, len, find_cb, &f, err);
  if (f.oom) return otap_error_set(err, ENOMEM, "XML: out of memory");
  if (f.found) {
    *out = f.found;
    return 0;
  }
  if (rc) return rc;
  return otap_error_set(err, EINVAL, "XML: element %s not found", path);
}
