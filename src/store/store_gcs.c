// GCS JSON API backend: an OAuth bearer token (or anonymous) against
// https://storage.googleapis.com or a custom endpoint (emulators). objects.list with
// pageToken, objects.get metadata (size, generation, updated), media downloads with Range
// pinned to the generation seen by the HEAD (ifGenerationMatch), simple uploads below the
// multipart threshold and resumable uploads (308 Resume Incomplete) above it, cancelled
// with DELETE on failure. The HMAC/XML path stays in store_s3.c.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_internal.h"

int otap__store_http_get_ranges(struct otap_store* s, const char* key, const char* query,
                                struct otap_store_range* r, size_t n,
                                struct otap_error* err,
                                int (*path_fn)(struct otap_store*, const char*,
                                               struct otap_buffer*));

#define GCS_CHUNK_ALIGN ((int64_t)256 << 10)  // resumable chunks: multiples of 256 KiB
#define GCS_MAX_RESENDS 5  // short 308 acknowledgements tolerated per chunk

static int oom(struct otap_error* err) {
  return otap_error_set(err, ENOMEM, "out of memory");
}

static int set_endpoint(struct otap_store* s, const char* ep, struct otap_error* err) {
  bool https = strncmp(ep, "https://", 8) == 0;
  bool http = strncmp(ep, "http://", 7) == 0;
  OTAP_RETURN_IF(!https && !http, err, EINVAL,
                 "gs://: GCS endpoint must start with http:// or https://");
  const char* host = ep + (https ? 8 : 7);
  size_t hl = strcspn(host, "/?#");
  OTAP_RETURN_IF(hl == 0 || hl > 255, err, EINVAL, "gs://: bad GCS endpoint host");
  const char* path = host + hl;
  size_t pl = strcspn(path, "?#");
  while (pl && path[pl - 1] == '/') pl--;
  s->base_url = otap_strndup(ep, (size_t)(host - ep) + hl);
  s->host = otap_strndup(host, hl);
  s->path_base = otap_strndup(path, pl);
  if (!s->base_url || !s->host || !s->path_base) return oom(err);
  return 0;
}

int otap__store_init_gcs_json(struct otap_store* s, const struct otap_store_options* o,
                              const char* bearer, const char* endpoint,
                              struct otap_error* err) {
  (void)o;
  s->ops = &otap__store_gcs_ops;
  s->gcs_json = true;
  s->path_style = true;
  if (bearer && *bearer) {
    s->bearer = otap_strdup(bearer);
    if (!s->bearer) return oom(err);
    s->auth = OTAP_AUTH_BEARER;
  } else {
    s->auth = OTAP_AUTH_NONE;
  }
  // Resumable chunks other than the last must be multiples of 256 KiB.
  if (s->part_size % GCS_CHUNK_ALIGN)
    s->part_size += GCS_CHUNK_ALIGN - s->part_size % GCS_CHUNK_ALIGN;
  return set_endpoint(s, endpoint && *endpoint ? endpoint : "https://storage.googleapis.com",
                      err);
}

// {base}/storage/v1/b/BUCKET/o[/ENCODED-NAME] ('/' in names is %2F).
static int meta_path(struct otap_store* s, const char* key, struct otap_buffer* out) {
  OTAP_RETURN_NOT_OK(otap_buffer_appendf(out, "%s/storage/v1/b/%s/o", s->path_base,
                                         s->bucket));
  if (!key) return 0;
  OTAP_RETURN_NOT_OK(otap_buffer_append(out, "/", 1));
  return otap__uri_encode(out, key, strlen(key), false);
}

static int media_path(struct otap_store* s, const char* key, struct otap_buffer* out) {
  OTAP_RETURN_NOT_OK(otap_buffer_appendf(out, "%s/download/storage/v1/b/%s/o/",
                                         s->path_base, s->bucket));
  return otap__uri_encode(out, key, strlen(key), false);
}

static void describe(struct otap_store* s, const char* op, const char* key, char* what,
                     size_t cap) {
  char name[OTAP_STORE_MAX_KEY + 512];
  otap__store_name(s, key, name, sizeof(name));
  snprintf(what, cap, "%s %s", op, name);
}

static int gcs_list(struct otap_store* s, const char* prefix, bool recursive,
                    struct otap_store_list* out, struct otap_error* err) {
  int rc = 0;
  struct otap_buffer path, q, body;
  otap_buffer_init(&path);
  otap_buffer_init(&q);
  otap_buffer_init(&body);
  struct otap__list_page page;
  memset(&page, 0, sizeof(page));
  page.list = out;
  page.strip = s->prefix;
  struct otap__http_xfer x;
  otap__http_xfer_init(&x);
  char* prev = NULL;  // previous page token
  char what[OTAP_STORE_MAX_KEY + 600];
  describe(s, "list", prefix, what, sizeof(what));
  if (meta_path(s, NULL, &path)) OTAP_GOTO_NOT_OK(rc, oom(err));
  for (int pages = 0;; pages++) {
    struct otap__query_param p[5];
    size_t np = 0;
    if (*prefix) p[np++] = (struct otap__query_param){"prefix", prefix};
    if (!recursive) p[np++] = (struct otap__query_param){"delimiter", "/"};
    if (page.next_token) p[np++] = (struct otap__query_param){"pageToken", page.next_token};
    char mk[16];
    if (s->list_page_size > 0) {
      snprintf(mk, sizeof(mk), "%d", s->list_page_size);
      p[np++] = (struct otap__query_param){"maxResults", mk};
    }
    q.size = 0;
    body.size = 0;
    if (otap__query_build(&q, p, np) || otap_buffer_append(&q, "", 1))
      OTAP_GOTO_NOT_OK(rc, oom(err));
    q.size--;
    otap__http_xfer_reset(&x);
    otap__http_xfer_init(&x);
    x.method = "GET";
    x.path = (const char*)path.data;
    x.query = (const char*)q.data;
    x.out = &body;
    OTAP_GOTO_NOT_OK(rc, otap__http_run(s, &x, 1, what, err));
    if (!otap__http_ok(&x))
      OTAP_GOTO_NOT_OK(rc, otap__http_status_error(s, &x, what, prefix, err));
    if (body.size > OTAP_STORE_MAX_XML) {
      OTAP_GOTO_NOT_OK(rc, otap_error_set(err, EINVAL, "%s: page %d: listing too large",
                                          what, pages + 1));
    }
    rc = otap__json_parse_gcs_list((const char*)body.data, (size_t)body.size, &page, err);
    if (rc) {
      otap_error_prefix(err, rc, "%s: page %d: ", what, pages + 1);
      goto done;
    }
    if (!page.truncated) break;
    // A token that does not move would loop forever.
    if (prev && strcmp(prev, page.next_token) == 0) {
      OTAP_GOTO_NOT_OK(rc, otap_error_set(err, EIO,
                                          "%s: page %d repeats the previous page token",
                                          what, pages + 1));
    }
    otap_free(prev);
    prev = otap_strdup(page.next_token);
    if (!prev) OTAP_GOTO_NOT_OK(rc, oom(err));
  }
done:
  otap__http_xfer_reset(&x);
  otap_free(prev);
  otap_free(page.next_token);
  otap_free(page.cur_key);
  otap_buffer_reset(&path);
  otap_buffer_reset(&q);
  otap_buffer_reset(&body);
  return rc;
}

static int gcs_head(struct otap_store* s, const char* key, struct otap_store_object* out,
                    struct otap_error* err) {
  int rc = 0;
  struct otap_buffer path, body;
  otap_buffer_init(&path);
  otap_buffer_init(&body);
  struct otap__http_xfer x;
  otap__http_xfer_init(&x);
  char what[OTAP_STORE_MAX_KEY + 600];
  describe(s, "head", key, what, sizeof(what));
  if (meta_path(s, key, &path)) OTAP_GOTO_NOT_OK(rc, oom(err));
  x.method = "GET";
  x.path = (const char*)path.data;
  x.out = &body;
  OTAP_GOTO_NOT_OK(rc, otap__http_run(s, &x, 1, what, err));
  if (!otap__http_ok(&x)) OTAP_GOTO_NOT_OK(rc, otap__http_status_error(s, &x, what, key, err));
  if (body.size > OTAP_STORE_MAX_ERROR_BODY) {
    OTAP_GOTO_NOT_OK(rc, otap_error_set(err, EINVAL, "%s: metadata too large", what));
  }
  struct otap__gcs_meta m;
  rc = otap__json_parse_gcs_object((const char*)body.data, (size_t)body.size, &m, err);
  if (rc) {
    otap_error_prefix(err, rc, "%s: ", what);
    goto done;
  }
  out->size = m.size;
  out->mtime = m.mtime;
  s->last_generation = m.generation;
done:
  otap__http_xfer_reset(&x);
  otap_buffer_reset(&path);
  otap_buffer_reset(&body);
  return rc;
}

static int gcs_get(struct otap_store* s, const char* key, struct otap_buffer* out,
                   struct otap_error* err) {
  int rc = 0;
  struct otap_buffer path;
  otap_buffer_init(&path);
  struct otap__http_xfer x;
  otap__http_xfer_init(&x);
  char what[OTAP_STORE_MAX_KEY + 600];
  describe(s, "get", key, what, sizeof(what));
  if (media_path(s, key, &path)) OTAP_GOTO_NOT_OK(rc, oom(err));
  x.method = "GET";
  x.path = (const char*)path.data;
  x.query = "alt=media";
  x.out = out;
  OTAP_GOTO_NOT_OK(rc, otap__http_run(s, &x, 1, what, err));
  if (!otap__http_ok(&x)) OTAP_GOTO_NOT_OK(rc, otap__http_status_error(s, &x, what, key, err));
  if (x.content_length < 0)
    rc = otap_error_set(err, EIO, "%s: reply without Content-Length", what);
done:
  otap__http_xfer_reset(&x);
  otap_buffer_reset(&path);
  return rc;
}

static int gcs_get_ranges(struct otap_store* s, const char* key,
                          struct otap_store_range* r, size_t n, struct otap_error* err) {
  char query[64] = "alt=media";
  if (s->expect_generation >= 0) {
    // Every range must come from the generation the caller sized the read with: a
    // replaced object answers 412 (reported as "changed"), not other bytes.
    snprintf(query, sizeof(query), "alt=media&ifGenerationMatch=%lld",
             (long long)s->expect_generation);
  }
  return otap__store_http_get_ranges(s, key, query, r, n, err, media_path);
}

static int upload_query(struct otap_buffer* q, const char* type, const char* key) {
  struct otap__query_param p[2] = {{"name", key}, {"uploadType", type}};
  OTAP_RETURN_NOT_OK(otap__query_build(q, p, 2));
  OTAP_RETURN_NOT_OK(otap_buffer_append(q, "", 1));
  q->size--;
  return 0;
}

static int upload_path(struct otap_store* s, struct otap_buffer* out) {
  return otap_buffer_appendf(out, "%s/upload/storage/v1/b/%s/o", s->path_base, s->bucket);
}

static int gcs_put(struct otap_store* s, const char* key, const uint8_t* data, size_t len,
                   struct otap_error* err) {
  int rc = 0;
  struct otap_buffer path, q;
  otap_buffer_init(&path);
  otap_buffer_init(&q);
  struct otap__http_xfer x;
  otap__http_xfer_init(&x);
  char what[OTAP_STORE_MAX_KEY + 600];
  describe(s, "put", key, what, sizeof(what));
  if (upload_path(s, &path) || upload_query(&q, "media", key))
    OTAP_GOTO_NOT_OK(rc, oom(err));
  x.method = "POST";
  x.path = (const char*)path.data;
  x.query = (const char*)q.data;
  x.body = data ? data : (const uint8_t*)"";
  x.body_len = len;
  // A simple upload replaces the whole object: repeating it is harmless.
  x.idempotent = true;
  OTAP_GOTO_NOT_OK(rc, otap__http_run(s, &x, 1, what, err));
  if (!otap__http_ok(&x)) rc = otap__http_status_error(s, &x, what, key, err);
done:
  otap__http_xfer_reset(&x);
  otap_buffer_reset(&path);
  otap_buffer_reset(&q);
  return rc;
}

static int gcs_del(struct otap_store* s, const char* key, struct otap_error* err) {
  int rc = 0;
  struct otap_buffer path;
  otap_buffer_init(&path);
  struct otap__http_xfer x;
  otap__http_xfer_init(&x);
  char what[OTAP_STORE_MAX_KEY + 600];
  describe(s, "delete", key, what, sizeof(what));
  if (meta_path(s, key, &path)) OTAP_GOTO_NOT_OK(rc, oom(err));
  x.method = "DELETE";
  x.path = (const char*)path.data;
  OTAP_GOTO_NOT_OK(rc, otap__http_run(s, &x, 1, what, err));
  if (!otap__http_ok(&x) && x.status != 404)
    rc = otap__http_status_error(s, &x, what, key, err);
done:
  otap__http_xfer_reset(&x);
  otap_buffer_reset(&path);
  return rc;
}

// ---------------------------------------------------------------------------------------------
// Resumable uploads. up->upload_id holds the session's "path?query" (same origin as the
// endpoint: the bearer token is never sent anywhere else); up->etags holds the last part,
// kept back so that the final chunk can carry the total size.

static int gcs_mp_begin(struct otap_store* s, struct otap__upload* up,
                        struct otap_error* err) {
  int rc = 0;
  struct otap_buffer path, q;
  otap_buffer_init(&path);
  otap_buffer_init(&q);
  struct otap__http_xfer x;
  otap__http_xfer_init(&x);
  char what[OTAP_STORE_MAX_KEY + 600];
  describe(s, "start resumable upload of", up->key, what, sizeof(what));
  if (upload_path(s, &path) || upload_query(&q, "resumable", up->key))
    OTAP_GOTO_NOT_OK(rc, oom(err));
  x.method = "POST";
  x.path = (const char*)path.data;
  x.query = (const char*)q.data;
  x.body = (const uint8_t*)"";
  x.body_len = 0;
  x.extra[x.n_extra++] =
      (struct otap__http_header){"x-upload-content-type", "application/octet-stream"};
  // A repeated start only opens another session (unused ones expire): safe to retry.
  x.idempotent = true;
  OTAP_GOTO_NOT_OK(rc, otap__http_run(s, &x, 1, what, err));
  if (!otap__http_ok(&x))
    OTAP_GOTO_NOT_OK(rc, otap__http_status_error(s, &x, what, up->key, err));
  size_t bl = strlen(s->base_url);
  const char* loc = x.location;
  if (!loc[0] || strncmp(loc, s->base_url, bl) != 0 || loc[bl] != '/') {
    OTAP_GOTO_NOT_OK(rc, otap_error_set(err, EIO,
                                        "%s: no session URI on the endpoint's host in "
                                        "the reply (HTTP %ld)",
                                        what, x.status));
  }
  up->upload_id = otap_strdup(loc + bl);
  if (!up->upload_id) OTAP_GOTO_NOT_OK(rc, oom(err));
  up->sent = 0;
  up->etags.size = 0;
done:
  otap__http_xfer_reset(&x);
  otap_buffer_reset(&path);
  otap_buffer_reset(&q);
  return rc;
}

// Splits the session "path?query" into the two buffers (NUL-terminated).
static int session_parts(const struct otap__upload* up, struct otap_buffer* path,
                         struct otap_buffer* q) {
  const char* u = up->upload_id;
  const char* qm = strchr(u, '?');
  size_t pl = qm ? (size_t)(qm - u) : strlen(u);
  OTAP_RETURN_NOT_OK(otap_buffer_append(path, u, (int64_t)pl));
  OTAP_RETURN_NOT_OK(otap_buffer_append(path, "", 1));
  if (qm) OTAP_RETURN_NOT_OK(otap_buffer_append(q, qm + 1, (int64_t)strlen(qm + 1)));
  OTAP_RETURN_NOT_OK(otap_buffer_append(q, "", 1));
  return 0;
}

// Bytes the session has persisted according to a 308 reply's Range ("bytes=0-N").
static int64_t persisted(const struct otap__http_xfer* x) {
  long long a, b;
  if (sscanf(x->range_header, "bytes=%lld-%lld", &a, &b) == 2 && a == 0 && b >= 0)
    return b + 1;
  return 0;
}

// Sends data[0..len) at up->sent; `final` adds the total size. On success up->sent
// advances by len.
static int send_chunk(struct otap_store* s, struct otap__upload* up, const uint8_t* data,
                      size_t len, bool final, struct otap_error* err) {
  int rc = 0;
  struct otap_buffer path, q;
  otap_buffer_init(&path);
  otap_buffer_init(&q);
  struct otap__http_xfer x;
  otap__http_xfer_init(&x);
  char what[OTAP_STORE_MAX_KEY + 700];
  char name[OTAP_STORE_MAX_KEY + 512];
  otap__store_name(s, up->key, name, sizeof(name));
  if (session_parts(up, &path, &q)) OTAP_GOTO_NOT_OK(rc, oom(err));
  int64_t start = up->sent, end = up->sent + (int64_t)len;
  for (int resend = 0;; resend++) {
    int64_t off = up->sent;
    size_t n = (size_t)(end - off);
    char cr[96];
    if (n == 0) {
      snprintf(cr, sizeof(cr), "bytes */%lld", (long long)end);
    } else if (final) {
      snprintf(cr, sizeof(cr), "bytes %lld-%lld/%lld", (long long)off,
               (long long)(end - 1), (long long)end);
    } else {
      snprintf(cr, sizeof(cr), "bytes %lld-%lld/*", (long long)off, (long long)(end - 1));
    }
    snprintf(what, sizeof(what), "put %s bytes %lld-%lld (resumable%s)", name,
             (long long)off, (long long)end - 1, final ? ", final" : "");
    otap__http_xfer_reset(&x);
    otap__http_xfer_init(&x);
    x.method = "PUT";
    x.path = (const char*)path.data;
    x.query = (const char*)q.data;
    x.body = n ? data + (off - start) : (const uint8_t*)"";
    x.body_len = n;
    x.extra[x.n_extra++] = (struct otap__http_header){"content-range", cr};
    // The session ignores bytes it already has: resending the same range is safe.
    x.idempotent = true;
    OTAP_GOTO_NOT_OK(rc, otap__http_run(s, &x, 1, what, err));
    if (x.status == 308) {
      int64_t got = persisted(&x);
      if (got < start || got > end) {
        OTAP_GOTO_NOT_OK(rc, otap_error_set(err, EIO,
                                            "%s: session reports %lld bytes persisted, "
                                            "outside this chunk",
                                            what, (long long)got));
      }
      up->sent = got;
      if (!final && got == end) break;
      if (resend >= GCS_MAX_RESENDS) {
        OTAP_GOTO_NOT_OK(rc, otap_error_set(err, EIO,
                                            "%s: session persisted only %lld bytes after "
                                            "%d resends",
                                            what, (long long)got, resend));
      }
      continue;
    }
    if (!otap__http_ok(&x))
      OTAP_GOTO_NOT_OK(rc, otap__http_status_error(s, &x, what, up->key, err));
    if (!final) {
      OTAP_GOTO_NOT_OK(rc, otap_error_set(err, EIO,
                                          "%s: HTTP %ld before the final chunk (expected "
                                          "308 Resume Incomplete)",
                                          what, x.status));
    }
    up->sent = end;
    break;
  }
done:
  otap__http_xfer_reset(&x);
  otap_buffer_reset(&path);
  otap_buffer_reset(&q);
  return rc;
}

static int gcs_mp_parts(struct otap_store* s, struct otap__upload* up, int first,
                        const uint8_t* data, size_t len, size_t part_size,
                        struct otap_error* err) {
  (void)first;
  for (size_t off = 0; off < len; off += part_size) {
    size_t n = len - off < part_size ? len - off : part_size;
    if (up->etags.size > 0) {
      OTAP_RETURN_NOT_OK(send_chunk(s, up, up->etags.data, (size_t)up->etags.size, false,
                                    err));
      up->etags.size = 0;
    }
    if (otap_buffer_append(&up->etags, data + off, (int64_t)n)) return oom(err);
  }
  return 0;
}

static int gcs_mp_complete(struct otap_store* s, struct otap__upload* up,
                           struct otap_error* err) {
  int rc = send_chunk(s, up, up->etags.data, (size_t)up->etags.size, true, err);
  if (rc == 0) up->etags.size = 0;
  return rc;
}

static void gcs_mp_abort(struct otap_store* s, struct otap__upload* up) {
  if (!up->upload_id) return;
  struct otap_buffer path, q;
  otap_buffer_init(&path);
  otap_buffer_init(&q);
  struct otap__http_xfer x;
  otap__http_xfer_init(&x);
  struct otap_error ignored;
  if (session_parts(up, &path, &q) == 0) {
    // Cancels the session (GCS answers 499); nothing was made visible either way.
    x.method = "DELETE";
    x.path = (const char*)path.data;
    x.query = (const char*)q.data;
    (void)otap__http_run(s, &x, 1, "cancel resumable upload", &ignored);
  }
  otap__http_xfer_reset(&x);
  otap_buffer_reset(&path);
  otap_buffer_reset(&q);
}

const struct otap__store_ops otap__store_gcs_ops = {
    gcs_list,     gcs_head, gcs_get,      gcs_get_ranges, otap__store_http_open_sink,
    gcs_del,      gcs_put,  gcs_mp_begin, gcs_mp_parts,   gcs_mp_complete,
    gcs_mp_abort,
};
