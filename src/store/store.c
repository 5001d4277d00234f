// Store front end: URL parsing, options and environment, key checks, dispatch to the
// backend vtable, the random-access source adapter and the buffered upload sink used by
// HTTP backends.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_internal.h"

void otap_store_options_init(struct otap_store_options* o) {
  memset(o, 0, sizeof(*o));
  o->connect_timeout_ms = 10000;
  o->stall_timeout_ms = 30000;
  o->max_retries = 5;
  o->retry_base_ms = 100;
  o->retry_max_ms = 5000;
  o->max_parallel = 8;
  o->multipart_threshold = (int64_t)16 << 20;
  o->part_size = (int64_t)8 << 20;
}

void otap__store_name(const struct otap_store* s, const char* full_key, char* out,
                      size_t cap) {
  const char* k = full_key;
  size_t pl = strlen(s->prefix);
  if (strncmp(k, s->prefix, pl) == 0) k += pl;
  const char* u = s->url;
  size_t ul = strlen(u);
  snprintf(out, cap, "%s%s%s", u, (ul && u[ul - 1] == '/') || !*k ? "" : "/", k);
}

const char* otap_store_url(const struct otap_store* store) { return store->url; }

void otap_store_free(struct otap_store* s) {
  if (!s) return;
  if (s->multi) curl_multi_cleanup(s->multi);
  char** strs[] = {&s->url,           &s->prefix,        &s->root,
                   &s->bucket,        &s->base_url,      &s->host,
                   &s->path_base,     &s->access_key_id, &s->secret_access_key,
                   &s->session_token, &s->region,        &s->account,
                   &s->sas,           &s->bearer,        &s->ca_file};
  for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
    if (*strs[i]) {
      // Secrets are wiped before they go back to the allocator.
      if (strs[i] == &s->secret_access_key || strs[i] == &s->session_token ||
          strs[i] == &s->sas || strs[i] == &s->bearer) {
        memset(*strs[i], 0, strlen(*strs[i]));
      }
      otap_free(*strs[i]);
    }
  }
  memset(s->azure_key, 0, sizeof(s->azure_key));
  otap_free(s);
}

static int dup_into(char** dst, const char* src, size_t n) {
  *dst = otap_strndup(src, n);
  return *dst ? 0 : ENOMEM;
}

static bool has_prefix(const char* s, const char* p) {
  return strncmp(s, p, strlen(p)) == 0;
}

// Splits "bucket/prefix..." into bucket and a normalized prefix ("" or "a/b/").
static int split_bucket(struct otap_store* s, const char* rest, const char* url,
                        struct otap_error* err) {
  const char* slash = strchr(rest, '/');
  size_t bl = slash ? (size_t)(slash - rest) : strlen(rest);
  OTAP_RETURN_IF(bl == 0 || bl > 255, err, EINVAL,
                 "%s: missing or bad bucket/container name", url);
  for (size_t i = 0; i < bl; i++) {
    char c = rest[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
              c == '_' || (c >= 'A' && c <= 'Z');
    OTAP_RETURN_IF(!ok, err, EINVAL, "%s: bad character in bucket/container name", url);
  }
  if (dup_into(&s->bucket, rest, bl)) return otap_error_set(err, ENOMEM, "out of memory");
  const char* p = slash ? slash + 1 : "";
  while (*p == '/') p++;
  size_t pl = strlen(p);
  OTAP_RETURN_IF(pl > OTAP_STORE_MAX_KEY, err, EINVAL, "%s: prefix too long", url);
  s->prefix = otap_malloc(pl + 2);
  if (!s->prefix) return otap_error_set(err, ENOMEM, "out of memory");
  memcpy(s->prefix, p, pl);
  if (pl && p[pl - 1] != '/') s->prefix[pl++] = '/';
  s->prefix[pl] = '\0';
  return 0;
}

static void copy_http_options(struct otap_store* s, const struct otap_store_options* o) {
  s->connect_timeout_ms = o->connect_timeout_ms > 0 ? o->connect_timeout_ms : 10000;
  s->stall_timeout_ms = o->stall_timeout_ms > 0 ? o->stall_timeout_ms : 30000;
  s->request_timeout_ms = o->request_timeout_ms > 0 ? o->request_timeout_ms : 0;
  s->max_retries = o->max_retries < 0 ? 0 : o->max_retries;
  s->retry_base_ms = o->retry_base_ms > 0 ? o->retry_base_ms : 100;
  s->retry_max_ms = o->retry_max_ms > 0 ? o->retry_max_ms : 5000;
  if (s->retry_max_ms < s->retry_base_ms) s->retry_max_ms = s->retry_base_ms;
  s->max_parallel = o->max_parallel > 0 ? o->max_parallel : 8;
  if (s->max_parallel > 64) s->max_parallel = 64;
  s->multipart_threshold =
      o->multipart_threshold > 0 ? o->multipart_threshold : (int64_t)16 << 20;
  s->part_size = o->part_size > 0 ? o->part_size : (int64_t)8 << 20;
  s->sign_payload = o->sign_payload;
  s->rng = (uint64_t)otap__now_ms() ^ (uint64_t)(uintptr_t)s;
}

static pthread_once_t g_curl_once = PTHREAD_ONCE_INIT;
static CURLcode g_curl_init_rc = CURLE_OK;
static void curl_init_once(void) {
  g_curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int otap_store_open(struct otap_store** out, const char* url,
                    const struct otap_store_options* opts, struct otap_error* err) {
  *out = NULL;
  pthread_once(&g_curl_once, curl_init_once);
  OTAP_RETURN_IF(g_curl_init_rc != CURLE_OK, err, EIO, "libcurl initialization failed");
  OTAP_RETURN_IF(!url || !*url, err, EINVAL, "empty store URL");
  struct otap_store_options defaults;
  if (!opts) {
    otap_store_options_init(&defaults);
    opts = &defaults;
  }
  struct otap_store* s = otap_calloc(1, sizeof(*s));
  if (!s) return otap_error_set(err, ENOMEM, "out of memory");
  s->expect_total = -1;
  s->expect_generation = s->last_generation = -1;
  int rc = 0;
  copy_http_options(s, opts);
  if (opts->ca_file && dup_into(&s->ca_file, opts->ca_file, strlen(opts->ca_file))) {
    rc = otap_error_set(err, ENOMEM, "out of memory");
    goto done;
  }
  if (has_prefix(url, "s3://") || has_prefix(url, "gs://")) {
    bool gcs = url[0] == 'g';
    s->kind = gcs ? OTAP_STORE_GCS : OTAP_STORE_S3;
    OTAP_GOTO_NOT_OK(rc, split_bucket(s, url + 5, url, err));
    OTAP_GOTO_NOT_OK(rc, otap__store_init_s3(s, opts, gcs, err));
  } else if (has_prefix(url, "az://") || has_prefix(url, "azure://")) {
    s->kind = OTAP_STORE_AZURE;
    OTAP_GOTO_NOT_OK(rc, split_bucket(s, strstr(url, "://") + 3, url, err));
    OTAP_GOTO_NOT_OK(rc, otap__store_init_azure(s, opts, NULL, NULL, err));
  } else if (has_prefix(url, "https://") && strstr(url, ".blob.core.windows.net/")) {
    const char* host = url + 8;
    const char* dot = strchr(host, '.');
    const char* slash = strchr(host, '/');
    char account[64], endpoint[160];
    OTAP_GOTO_NOT_OK(rc, (dot && dot - host > 0 && dot - host < 64 && slash - host < 120)
                             ? 0
                             : otap_error_set(err, EINVAL, "%s: bad Azure URL", url));
    snprintf(account, sizeof(account), "%.*s", (int)(dot - host), host);
    snprintf(endpoint, sizeof(endpoint), "https://%.*s", (int)(slash - host), host);
    s->kind = OTAP_STORE_AZURE;
    OTAP_GOTO_NOT_OK(rc, split_bucket(s, slash + 1, url, err));
    OTAP_GOTO_NOT_OK(rc, otap__store_init_azure(s, opts, account, endpoint, err));
  } else if (has_prefix(url, "file://")) {
    s->kind = OTAP_STORE_LOCAL;
    OTAP_GOTO_NOT_OK(rc, otap__store_open_local(s, url + 7, err));
  } else if (strstr(url, "://")) {
    rc = otap_error_set(
        err, ENOTSUP,
        "%.*s: unsupported store URL scheme (use a path, file://, s3://, gs://, "
        "az:// or https://ACCOUNT.blob.core.windows.net/)",
        (int)(strstr(url, "://") - url + 3), url);
    goto done;
  } else {
    s->kind = OTAP_STORE_LOCAL;
    OTAP_GOTO_NOT_OK(rc, otap__store_open_local(s, url, err));
  }
  if (s->kind != OTAP_STORE_LOCAL) {
    // Display URL: scheme://bucket/prefix (never credentials or SAS tokens).
    const char* scheme = s->kind == OTAP_STORE_S3    ? "s3"
                         : s->kind == OTAP_STORE_GCS ? "gs"
                                                     : "az";
    size_t n = strlen(s->bucket) + strlen(s->prefix) + 8;
    s->url = otap_malloc(n);
    if (!s->url) OTAP_GOTO_NOT_OK(rc, otap_error_set(err, ENOMEM, "out of memory"));
    snprintf(s->url, n, "%s://%s/%s", scheme, s->bucket, s->prefix);
    s->multi = curl_multi_init();
    if (!s->multi)
      OTAP_GOTO_NOT_OK(rc, otap_error_set(err, ENOMEM, "curl_multi_init failed"));
    curl_multi_setopt(s->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)s->max_parallel);
    curl_multi_setopt(s->multi, CURLMOPT_MAXCONNECTS, (long)s->max_parallel * 2);
  }
  *out = s;
  s = NULL;
done:
  otap_store_free(s);
  return rc;
}

// ---------------------------------------------------------------------------------------------
// Keys

static int full_key(struct otap_store* s, const char* key, char** out,
                    struct otap_error* err) {
  OTAP_RETURN_IF(!key, err, EINVAL, "%s: NULL key", s->url);
  size_t kl = strlen(key), pl = strlen(s->prefix);
  OTAP_RETURN_IF(kl > OTAP_STORE_MAX_KEY, err, EINVAL, "%s: key of %zu bytes is too long",
                 s->url, kl);
  *out = otap_malloc(kl + pl + 1);
  if (!*out) return otap_error_set(err, ENOMEM, "out of memory");
  memcpy(*out, s->prefix, pl);
  memcpy(*out + pl, key, kl + 1);
  return 0;
}

static int object_key(struct otap_store* s, const char* key, char** out,
                      struct otap_error* err) {
  OTAP_RETURN_IF(!key || !*key || key[strlen(key) - 1] == '/', err, EINVAL,
                 "%s: bad object key '%s' (empty or ends with '/')", s->url,
                 key ? key : "");
  return full_key(s, key, out, err);
}

static int cmp_obj(const void* a, const void* b) {
  return strcmp(((const struct otap_store_object*)a)->key,
                ((const struct otap_store_object*)b)->key);
}

void otap_store_object_reset(struct otap_store_object* obj) {
  if (!obj) return;
  otap_free(obj->key);
  memset(obj, 0, sizeof(*obj));
}

void otap_store_list_reset(struct otap_store_list* list) {
  if (!list) return;
  for (size_t i = 0; i < list->count; i++) otap_free(list->items[i].key);
  otap_free(list->items);
  memset(list, 0, sizeof(*list));
}

int otap_store_list(struct otap_store* s, const char* prefix, bool recursive,
                    struct otap_store_list* out, struct otap_error* err) {
  memset(out, 0, sizeof(*out));
  char* full = NULL;
  OTAP_RETURN_NOT_OK(full_key(s, prefix ? prefix : "", &full, err));
  int rc = s->ops->list(s, full, recursive, out, err);
  otap_free(full);
  if (rc) {
    otap_store_list_reset(out);
    return rc;
  }
  if (out->count > 1) qsort(out->items, out->count, sizeof(out->items[0]), cmp_obj);
  return 0;
}

int otap_store_head(struct otap_store* s, const char* key, struct otap_store_object* out,
                    struct otap_error* err) {
  memset(out, 0, sizeof(*out));
  char* full = NULL;
  OTAP_RETURN_NOT_OK(object_key(s, key, &full, err));
  int rc = s->ops->head(s, full, out, err);
  otap_free(full);
  if (rc == 0) {
    out->key = otap_strdup(key);
    if (!out->key) rc = otap_error_set(err, ENOMEM, "out of memory");
  }
  return rc;
}

static int coalesced_get(struct otap_store* s, const char* full,
                         struct otap_store_range* r, size_t n, struct otap_error* err);

int otap_store_get(struct otap_store* s, const char* key, struct otap_buffer* out,
                   struct otap_error* err) {
  char* full = NULL;
  OTAP_RETURN_NOT_OK(object_key(s, key, &full, err));
  if (s->kind == OTAP_STORE_LOCAL) {
    int rc = s->ops->get(s, full, out, err);
    otap_free(full);
    return rc;
  }
  // HEAD, then ranged GETs: every reply's Content-Range must match the size (so a reply
  // with a consistently shortened Content-Length is caught), and large objects come in
  // parallel.
  struct otap_store_object obj = {0};
  s->last_generation = -1;
  int rc = s->ops->head(s, full, &obj, err);
  if (rc != 0 && rc != ENOMEM && !s->gcs_json) {
    // (GCS JSON metadata requests are GETs: their error already carries the body.)
    // A HEAD reply has no body; a plain GET brings the service's error code, message and
    // request id (or, should only HEAD have failed, the object).
    rc = s->ops->get(s, full, out, err);
    otap_free(full);
    return rc;
  }
  if (rc == 0 && obj.size > 0) {
    if (otap_buffer_reserve(out, obj.size) != 0) {
      rc = otap_error_set(err, ENOMEM, "%s: %lld bytes do not fit in memory", s->url,
                          (long long)obj.size);
    } else {
      struct otap_store_range r = {0, (size_t)obj.size, out->data + out->size};
      s->expect_total = obj.size;
      s->expect_generation = s->last_generation;  // GCS JSON: pinned generation
      rc = coalesced_get(s, full, &r, 1, err);
      s->expect_total = -1;
      s->expect_generation = -1;
      if (rc == 0) out->size += obj.size;
    }
  }
  otap_store_object_reset(&obj);
  otap_free(full);
  return rc;
}

// Ranged reads over HTTP: ranges closer than COALESCE_GAP are fetched as one request into
// a temporary buffer (Parquet column chunks of one row group are usually adjacent), and
// large requests are split into SPLIT_PIECE parts so they run in parallel. Either every
// range is filled or the call fails.
#define COALESCE_GAP ((uint64_t)256 << 10)
#define MAX_MERGED ((uint64_t)8 << 20)  // merged groups never need splitting
#define SPLIT_ABOVE ((uint64_t)16 << 20)
#define SPLIT_PIECE ((uint64_t)8 << 20)

struct range_group {
  size_t first, count;  // members: order[first .. first+count)
  uint64_t off, end;
  uint8_t* temp;  // NULL when the single member is read in place
};

struct range_ref {
  uint64_t offset;
  size_t idx;
};

static int cmp_range_ref(const void* a, const void* b) {
  uint64_t x = ((const struct range_ref*)a)->offset;
  uint64_t y = ((const struct range_ref*)b)->offset;
  return x < y ? -1 : x > y;
}

static int coalesced_get(struct otap_store* s, const char* full,
                         struct otap_store_range* r, size_t n, struct otap_error* err) {
  int rc = 0;
  size_t m = 0, ng = 0, nf = 0;
  struct range_ref* order = otap_calloc(n ? n : 1, sizeof(*order));
  struct range_group* g = otap_calloc(n ? n : 1, sizeof(*g));
  struct otap_store_range* f = NULL;
  if (!order || !g) OTAP_GOTO_NOT_OK(rc, otap_error_set(err, ENOMEM, "out of memory"));
  for (size_t i = 0; i < n; i++) {
    if (r[i].length) order[m++] = (struct range_ref){r[i].offset, i};
  }
  qsort(order, m, sizeof(*order), cmp_range_ref);
  for (size_t k = 0; k < m; k++) {
    const struct otap_store_range* x = &r[order[k].idx];
    uint64_t end = x->offset + x->length;
    if (ng > 0) {
      struct range_group* last = &g[ng - 1];
      uint64_t new_end = end > last->end ? end : last->end;
      if (x->offset <= last->end + COALESCE_GAP && new_end - last->off <= MAX_MERGED) {
        last->end = new_end;
        last->count++;
        continue;
      }
    }
    g[ng++] = (struct range_group){k, 1, x->offset, end, NULL};
  }
  // Fetch list: one or more pieces per group.
  size_t cap = 0;
  for (size_t i = 0; i < ng; i++)
    cap += (size_t)((g[i].end - g[i].off + SPLIT_PIECE - 1) / SPLIT_PIECE);
  f = otap_calloc(cap ? cap : 1, sizeof(*f));
  if (!f) OTAP_GOTO_NOT_OK(rc, otap_error_set(err, ENOMEM, "out of memory"));
  for (size_t i = 0; i < ng; i++) {
    uint64_t len = g[i].end - g[i].off;
    uint8_t* dst;
    if (g[i].count == 1) {
      dst = r[order[g[i].first].idx].buf;
    } else {
      g[i].temp = otap_malloc((size_t)len);
      if (!g[i].temp) {
        OTAP_GOTO_NOT_OK(
            rc, otap_error_set(err, ENOMEM, "%s: out of memory coalescing %llu bytes",
                               s->url, (unsigned long long)len));
      }
      dst = g[i].temp;
    }
    uint64_t piece = len > SPLIT_ABOVE ? SPLIT_PIECE : len;
    for (uint64_t o = 0; o < len; o += piece) {
      uint64_t l = len - o < piece ? len - o : piece;
      f[nf++] = (struct otap_store_range){g[i].off + o, (size_t)l, dst + o};
    }
  }
  OTAP_GOTO_NOT_OK(rc, s->ops->get_ranges(s, full, f, nf, err));
  for (size_t i = 0; i < ng; i++) {
    if (!g[i].temp) continue;
    for (size_t k = g[i].first; k < g[i].first + g[i].count; k++) {
      struct otap_store_range* x = &r[order[k].idx];
      memcpy(x->buf, g[i].temp + (x->offset - g[i].off), x->length);
    }
  }
done:
  for (size_t i = 0; g && i < ng; i++) otap_free(g[i].temp);
  otap_free(order);
  otap_free(g);
  otap_free(f);
  return rc;
}

int otap_store_get_ranges(struct otap_store* s, const char* key,
                          struct otap_store_range* r, size_t n, struct otap_error* err) {
  for (size_t i = 0; i < n; i++) {
    OTAP_RETURN_IF(r[i].length > 0 && !r[i].buf, err, EINVAL,
                   "%s: range %zu has no buffer", s->url, i);
    OTAP_RETURN_IF(r[i].offset > UINT64_MAX - r[i].length, err, EINVAL,
                   "%s: range overflows", s->url);
  }
  char* full = NULL;
  OTAP_RETURN_NOT_OK(object_key(s, key, &full, err));
  int rc = s->kind == OTAP_STORE_LOCAL ? s->ops->get_ranges(s, full, r, n, err)
                                       : coalesced_get(s, full, r, n, err);
  otap_free(full);
  return rc;
}

int otap_store_get_range(struct otap_store* s, const char* key, uint64_t offset,
                         size_t length, void* buf, struct otap_error* err) {
  struct otap_store_range r = {offset, length, buf};
  return otap_store_get_ranges(s, key, &r, 1, err);
}

int otap_store_open_sink(struct otap_store* s, const char* key, struct otap_sink* out,
                         struct otap_error* err) {
  memset(out, 0, sizeof(*out));
  char* full = NULL;
  OTAP_RETURN_NOT_OK(object_key(s, key, &full, err));
  int rc = s->ops->open_sink(s, full, out, err);
  otap_free(full);
  return rc;
}

int otap_store_put(struct otap_store* s, const char* key, const void* data, size_t len,
                   struct otap_error* err) {
  if (s->kind != OTAP_STORE_LOCAL && (int64_t)len <= s->multipart_threshold) {
    // One request straight from the caller's memory (no copy into a sink buffer).
    char* full = NULL;
    OTAP_RETURN_NOT_OK(object_key(s, key, &full, err));
    int rc = s->ops->put(s, full, data, len, err);
    otap_free(full);
    return rc;
  }
  struct otap_sink sink;
  OTAP_RETURN_NOT_OK(otap_store_open_sink(s, key, &sink, err));
  int rc = len ? sink.write(&sink, data, len, err) : 0;
  if (rc == 0) rc = sink.finish(&sink, err);
  sink.release(&sink);
  return rc;
}

int otap_store_delete(struct otap_store* s, const char* key, struct otap_error* err) {
  char* full = NULL;
  OTAP_RETURN_NOT_OK(object_key(s, key, &full, err));
  int rc = s->ops->del(s, full, err);
  otap_free(full);
  return rc;
}

// ---------------------------------------------------------------------------------------------
// Random-access source

#define SOURCE_WINDOW ((size_t)64 << 10)

struct store_source {
  struct otap_store* store;
  char* key;  // relative key
  char* name;
  uint64_t size;
  int64_t generation;  // GCS JSON: generation seen by the HEAD (-1: not pinned)
  uint8_t* window;  // cached bytes [win_off, win_off + win_len)
  uint64_t win_off;
  size_t win_len;
};

static int source_size(struct otap_source* self, uint64_t* out, struct otap_error* err) {
  (void)err;
  *out = ((struct store_source*)self->private_data)->size;
  return 0;
}

static int source_read_at(struct otap_source* self, uint64_t offset, void* buf,
                          size_t len, struct otap_error* err) {
  struct store_source* ss = self->private_data;
  if (offset > ss->size || len > ss->size - offset) {
    return otap_error_set(
        err, EINVAL, "%s: read of %zu bytes at offset %llu is past the end (%llu bytes)",
        ss->name, len, (unsigned long long)offset, (unsigned long long)ss->size);
  }
  if (len == 0) return 0;
  if (ss->window && offset >= ss->win_off && offset + len <= ss->win_off + ss->win_len) {
    memcpy(buf, ss->window + (offset - ss->win_off), len);
    return 0;
  }
  if (len >= SOURCE_WINDOW / 2) {
    ss->store->expect_total = (int64_t)ss->size;
    ss->store->expect_generation = ss->generation;
    int rc = otap_store_get_range(ss->store, ss->key, offset, len, buf, err);
    ss->store->expect_total = -1;
    ss->store->expect_generation = -1;
    if (rc) otap_error_prefix(err, rc, "%s: ", ss->name);
    return rc;
  }
  // Small read: fetch a window. Near the end, take the whole tail (Parquet footers).
  uint64_t start = offset;
  uint64_t end = offset + SOURCE_WINDOW < ss->size ? offset + SOURCE_WINDOW : ss->size;
  if (ss->size - offset <= SOURCE_WINDOW) {
    start = ss->size > SOURCE_WINDOW ? ss->size - SOURCE_WINDOW : 0;
    end = ss->size;
  }
  if (!ss->window) {
    ss->window = otap_malloc(SOURCE_WINDOW);
    if (!ss->window) return otap_error_set(err, ENOMEM, "%s: out of memory", ss->name);
  }
  ss->win_len = 0;
  ss->store->expect_total = (int64_t)ss->size;
  ss->store->expect_generation = ss->generation;
  int rc = otap_store_get_range(ss->store, ss->key, start, (size_t)(end - start),
                                ss->window, err);
  ss->store->expect_total = -1;
  ss->store->expect_generation = -1;
  if (rc) return otap_error_prefix(err, rc, "%s: ", ss->name);
  ss->win_off = start;
  ss->win_len = (size_t)(end - start);
  memcpy(buf, ss->window + (offset - start), len);
  return 0;
}

static void source_release(struct otap_source* self) {
  struct store_source* ss = self->private_data;
  if (ss) {
    otap_free(ss->key);
    otap_free(ss->name);
    otap_free(ss->window);
    otap_free(ss);
  }
  self->private_data = NULL;
  self->release = NULL;
}

int otap_store_open_source(struct otap_store* s, const char* key, struct otap_source* out,
                           struct otap_error* err) {
  memset(out, 0, sizeof(*out));
  struct otap_store_object obj;
  s->last_generation = -1;
  OTAP_RETURN_NOT_OK(otap_store_head(s, key, &obj, err));
  int64_t generation = s->last_generation;
  int rc = otap_store_open_source_sized(s, key, (uint64_t)obj.size, out, err);
  if (rc == 0 && s->kind != OTAP_STORE_LOCAL)
    ((struct store_source*)out->private_data)->generation = generation;
  otap_store_object_reset(&obj);
  return rc;
}

int otap_store_open_source_sized(struct otap_store* s, const char* key, uint64_t size,
                                 struct otap_source* out, struct otap_error* err) {
  memset(out, 0, sizeof(*out));
  OTAP_RETURN_IF(!key || !*key, err, EINVAL, "%s: empty key", s->url);
  if (s->kind == OTAP_STORE_LOCAL) {
    // Local files: the common module's mmap source (zero-copy view_at), after the root
    // checks.
    char path[4096];
    OTAP_RETURN_NOT_OK(otap__store_local_path(s, key, path, sizeof(path), err));
    return otap_source_open_file(out, path, err);
  }
  struct store_source* ss = otap_calloc(1, sizeof(*ss));
  char name[OTAP_STORE_MAX_KEY + 512];
  char* full = NULL;
  int rc = full_key(s, key, &full, err);
  if (rc) goto done;
  otap__store_name(s, full, name, sizeof(name));
  if (!ss) OTAP_GOTO_NOT_OK(rc, otap_error_set(err, ENOMEM, "out of memory"));
  ss->store = s;
  ss->size = size;
  ss->generation = -1;
  ss->key = otap_strdup(key);
  ss->name = otap_strdup(name);
  if (!ss->key || !ss->name)
    OTAP_GOTO_NOT_OK(rc, otap_error_set(err, ENOMEM, "out of memory"));
  out->read_at = source_read_at;
  out->size = source_size;
  out->view_at = NULL;
  out->release = source_release;
  out->name = ss->name;
  out->private_data = ss;
  ss = NULL;
done:
  if (ss) {
    otap_free(ss->key);
    otap_free(ss->name);
    otap_free(ss);
  }
  otap_free(full);
  return rc;
}

int otap_store_source_read_ranges(struct otap_source* src, struct otap_store_range* r,
                                  size_t n, struct otap_error* err) {
  if (src->read_at == source_read_at) {
    struct store_source* ss = src->private_data;
    for (size_t i = 0; i < n; i++) {
      if (r[i].offset > ss->size || r[i].length > ss->size - r[i].offset) {
        return otap_error_set(err, EINVAL,
                              "%s: range %zu (%zu bytes at %llu) is past the end",
                              ss->name, i, r[i].length, (unsigned long long)r[i].offset);
      }
    }
    ss->store->expect_total = (int64_t)ss->size;
    ss->store->expect_generation = ss->generation;
    int rc = otap_store_get_ranges(ss->store, ss->key, r, n, err);
    ss->store->expect_total = -1;
    ss->store->expect_generation = -1;
    if (rc) otap_error_prefix(err, rc, "%s: ", ss->name);
    return rc;
  }
  for (size_t i = 0; i < n; i++) {
    OTAP_RETURN_NOT_OK(src->read_at(src, r[i].offset, r[i].buf, r[i].length, err));
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Buffered upload sink for HTTP backends

struct http_sink {
  struct otap_store* store;
  struct otap__upload up;
  struct otap_buffer buf;
  char* name;
  bool multipart, finished, failed;
};

// Sends the first `len` bytes of the buffer as consecutive parts, in parallel.
static int sink_send_parts(struct http_sink* hs, size_t len, struct otap_error* err) {
  struct otap_store* s = hs->store;
  size_t ps = (size_t)s->part_size;
  int rc = s->ops->mp_parts(s, &hs->up, hs->up.parts + 1, hs->buf.data, len, ps, err);
  if (rc) return rc;
  hs->up.parts += (int)((len + ps - 1) / ps);
  memmove(hs->buf.data, hs->buf.data + len, (size_t)hs->buf.size - len);
  hs->buf.size -= (int64_t)len;
  return 0;
}

// Parts uploaded at once: bounded by max_parallel and by memory (4 parts buffered).
static int64_t parts_in_flight(const struct otap_store* s) {
  return s->max_parallel < 4 ? s->max_parallel : 4;
}

static int sink_write(struct otap_sink* self, const void* data, size_t len,
                      struct otap_error* err) {
  struct http_sink* hs = self->private_data;
  struct otap_store* s = hs->store;
  if (hs->failed || hs->finished) {
    return otap_error_set(err, EINVAL, "%s: write after failure or finish", hs->name);
  }
  int rc = otap_buffer_append(&hs->buf, data, (int64_t)len);
  if (rc)
    return otap_error_set(err, ENOMEM, "%s: out of memory buffering the upload",
                          hs->name);
  if (!hs->multipart && hs->buf.size > s->multipart_threshold) {
    rc = s->ops->mp_begin(s, &hs->up, err);
    if (rc) goto fail;
    hs->multipart = true;
  }
  int64_t batch = s->part_size * parts_in_flight(s);
  while (hs->multipart && hs->buf.size >= batch) {
    rc = sink_send_parts(hs, (size_t)batch, err);
    if (rc) goto fail;
  }
  return 0;
fail:
  hs->failed = true;
  return rc;
}

static int sink_finish(struct otap_sink* self, struct otap_error* err) {
  struct http_sink* hs = self->private_data;
  struct otap_store* s = hs->store;
  OTAP_RETURN_IF(hs->failed || hs->finished, err, EINVAL,
                 "%s: finish after failure or finish", hs->name);
  int rc;
  if (!hs->multipart) {
    rc = s->ops->put(s, hs->up.key, hs->buf.data, (size_t)hs->buf.size, err);
  } else {
    rc = 0;
    if (hs->buf.size > 0) rc = sink_send_parts(hs, (size_t)hs->buf.size, err);
    if (!rc) rc = s->ops->mp_complete(s, &hs->up, err);
  }
  if (rc) {
    hs->failed = true;
    return rc;
  }
  hs->finished = true;
  return 0;
}

static void sink_release(struct otap_sink* self) {
  struct http_sink* hs = self->private_data;
  if (hs) {
    if (hs->multipart && !hs->finished) hs->store->ops->mp_abort(hs->store, &hs->up);
    otap_buffer_reset(&hs->buf);
    otap_buffer_reset(&hs->up.etags);
    otap_free(hs->up.key);
    otap_free(hs->up.upload_id);
    otap_free(hs->name);
    otap_free(hs);
  }
  self->private_data = NULL;
  self->release = NULL;
}

int otap__store_http_open_sink(struct otap_store* s, const char* key,
                               struct otap_sink* out, struct otap_error* err) {
  struct http_sink* hs = otap_calloc(1, sizeof(*hs));
  if (!hs) return otap_error_set(err, ENOMEM, "out of memory");
  char name[OTAP_STORE_MAX_KEY + 512];
  otap__store_name(s, key, name, sizeof(name));
  hs->store = s;
  hs->up.key = otap_strdup(key);
  hs->name = otap_strdup(name);
  if (!hs->up.key || !hs->name) {
    otap_free(hs->up.key);
    otap_free(hs->name);
    otap_free(hs);
    return otap_error_set(err, ENOMEM, "out of memory");
  }
  out->write = sink_write;
  out->finish = sink_finish;
  out->release = sink_release;
  out->name = hs->name;
  out->private_data = hs;
  return 0;
}
