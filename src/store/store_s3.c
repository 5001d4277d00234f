// S3 backend (also GCS through its S3-compatible XML API): path-style or virtual-hosted
// requests signed with SigV4 (HMAC keys), a bearer token (GCS OAuth) or anonymous;
// ListObjectsV2 with continuation tokens, ranged GETs, PutObject and multipart uploads.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_internal.h"

static const char* env(const struct otap_store_options* o, const char* name) {
  if (o->ignore_env) return NULL;
  const char* v = getenv(name);
  return v && *v ? v : NULL;
}

static const char* pick(const char* a, const char* b) { return a && *a ? a : b; }

static int oom_early(struct otap_error* err) {
  return otap_error_set(err, ENOMEM, "out of memory");
}
static int init_s3_rest(struct otap_store* s, const struct otap_store_options* o,
                        bool gcs, const char* ak, const char* sk, const char* token,
                        const char* region, const char* endpoint, struct otap_error* err);

static int sdup(char** dst, const char* v, struct otap_error* err) {
  if (!v) return 0;
  *dst = otap_strdup(v);
  return *dst ? 0 : otap_error_set(err, ENOMEM, "out of memory");
}

// Sets base_url and host from "scheme://host[:port][/...]".
static int set_endpoint(struct otap_store* s, const char* ep, struct otap_error* err) {
  bool https = strncmp(ep, "https://", 8) == 0;
  bool http = strncmp(ep, "http://", 7) == 0;
  OTAP_RETURN_IF(!https && !http, err, EINVAL,
                 "endpoint '%s' must start with http:// or https://", ep);
  const char* host = ep + (https ? 8 : 7);
  size_t hl = strcspn(host, "/?#");
  OTAP_RETURN_IF(hl == 0 || hl > 255, err, EINVAL, "endpoint '%s': bad host", ep);
  size_t n = (size_t)(host - ep) + hl;
  s->base_url = otap_strndup(ep, n);
  char hostbuf[256];
  snprintf(hostbuf, sizeof(hostbuf), "%.*s", (int)hl, host);
  // curl leaves default ports out of the Host header; the signature must match.
  size_t l = strlen(hostbuf);
  if (https && l > 4 && strcmp(hostbuf + l - 4, ":443") == 0) hostbuf[l - 4] = '\0';
  if (http && l > 3 && strcmp(hostbuf + l - 3, ":80") == 0) hostbuf[l - 3] = '\0';
  s->host = otap_strdup(hostbuf);
  const char* path = host + hl;
  size_t pl = strcspn(path, "?#");
  while (pl && path[pl - 1] == '/') pl--;
  s->path_base = otap_strndup(path, pl);
  if (!s->base_url || !s->host || !s->path_base)
    return otap_error_set(err, ENOMEM, "out of memory");
  return 0;
}

// Looks up `key` in section `section` of an AWS-style INI file (shared credentials or
// config). Lines are bounded; a missing file or key leaves out empty.
static void ini_lookup(const char* path, const char* section, const char* key, char* out,
                       size_t cap) {
  out[0] = '\0';
  FILE* f = fopen(path, "r");
  if (!f) return;
  char line[8400];
  bool in_section = false;
  int lines = 0;
  while (fgets(line, sizeof(line), f) && lines++ < 10000) {
    char* p = line;
    while (*p == ' ' || *p == '\t') p++;
    size_t n = strcspn(p, "\r\n");
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t')) n--;
    p[n] = '\0';
    if (*p == '[') {
      char* close = strchr(p, ']');
      in_section = close && (size_t)(close - p - 1) == strlen(section) &&
                   strncmp(p + 1, section, strlen(section)) == 0;
      continue;
    }
    if (!in_section || *p == '#' || *p == ';') continue;
    char* eq = strchr(p, '=');
    if (!eq) continue;
    char* k_end = eq;
    while (k_end > p && (k_end[-1] == ' ' || k_end[-1] == '\t')) k_end--;
    if ((size_t)(k_end - p) != strlen(key) || strncmp(p, key, strlen(key)) != 0) continue;
    char* v = eq + 1;
    while (*v == ' ' || *v == '\t') v++;
    if (strlen(v) < cap) snprintf(out, cap, "%s", v);
    break;
  }
  fclose(f);
}

// Credentials and region from ~/.aws/credentials and ~/.aws/config
// (AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE, AWS_PROFILE), as the SDKs read them,
// when the environment has none.
struct aws_profile {
  char ak[256], sk[256], token[8192], region[64];
};

static void load_profile(const struct otap_store_options* o, struct aws_profile* p) {
  memset(p, 0, sizeof(*p));
  const char* home = env(o, "HOME");
  const char* profile = pick(env(o, "AWS_PROFILE"), "default");
  char path[1024], section[300];
  const char* cred = env(o, "AWS_SHARED_CREDENTIALS_FILE");
  if (!cred && home) {
    snprintf(path, sizeof(path), "%s/.aws/credentials", home);
    cred = path;
  }
  if (cred) {
    ini_lookup(cred, profile, "aws_access_key_id", p->ak, sizeof(p->ak));
    ini_lookup(cred, profile, "aws_secret_access_key", p->sk, sizeof(p->sk));
    ini_lookup(cred, profile, "aws_session_token", p->token, sizeof(p->token));
  }
  const char* conf = env(o, "AWS_CONFIG_FILE");
  if (!conf && home) {
    snprintf(path, sizeof(path), "%s/.aws/config", home);
    conf = path;
  }
  if (conf) {
    if (strcmp(profile, "default") == 0) {
      snprintf(section, sizeof(section), "default");
    } else {
      snprintf(section, sizeof(section), "profile %s", profile);
    }
    ini_lookup(conf, section, "region", p->region, sizeof(p->region));
  }
}

int otap__store_init_s3(struct otap_store* s, const struct otap_store_options* o,
                        bool gcs, struct otap_error* err) {
  s->ops = &otap__store_s3_ops;
  if (gcs) {
    // The JSON API with an OAuth token (options or GOOGLE_OAUTH_ACCESS_TOKEN) unless HMAC
    // keys are configured; o->gcs_api selects one explicitly.
    const char* hmac = pick(o->access_key_id, env(o, "GCS_HMAC_ACCESS_ID"));
    const char* bearer = pick(o->bearer_token, env(o, "GOOGLE_OAUTH_ACCESS_TOKEN"));
    bool json = bearer && !hmac;
    if (o->gcs_api && strcmp(o->gcs_api, "json") == 0) {
      json = true;
    } else if (o->gcs_api && strcmp(o->gcs_api, "xml") == 0) {
      json = false;
    } else if (o->gcs_api && *o->gcs_api) {
      return otap_error_set(err, EINVAL, "gs://: gcs_api must be \"json\" or \"xml\"");
    }
    if (json) {
      return otap__store_init_gcs_json(s, o, bearer,
                                       pick(o->endpoint, env(o, "GCS_ENDPOINT_URL")), err);
    }
  }
  struct aws_profile* prof = otap_calloc(1, sizeof(*prof));
  if (!prof) return oom_early(err);
  if (!gcs && !o->ignore_env) load_profile(o, prof);
  const char* ak =
      pick(o->access_key_id, env(o, gcs ? "GCS_HMAC_ACCESS_ID" : "AWS_ACCESS_KEY_ID"));
  const char* sk = pick(o->secret_access_key,
                        env(o, gcs ? "GCS_HMAC_SECRET" : "AWS_SECRET_ACCESS_KEY"));
  const char* token =
      gcs ? o->session_token : pick(o->session_token, env(o, "AWS_SESSION_TOKEN"));
  if (!gcs && !ak && !sk && prof->ak[0] && prof->sk[0]) {
    ak = prof->ak;
    sk = prof->sk;
    if (!token && prof->token[0]) token = prof->token;
  }
  const char* region =
      pick(o->region,
           gcs ? "auto"
               : pick(env(o, "AWS_REGION"),
                      pick(env(o, "AWS_DEFAULT_REGION"),
                           pick(prof->region[0] ? prof->region : NULL, "us-east-1"))));
  const char* endpoint = pick(
      o->endpoint, gcs ? env(o, "GCS_ENDPOINT_URL")
                       : pick(env(o, "AWS_ENDPOINT_URL_S3"), env(o, "AWS_ENDPOINT_URL")));
  int rc = init_s3_rest(s, o, gcs, ak, sk, token, region, endpoint, err);
  memset(prof, 0, sizeof(*prof));
  otap_free(prof);
  return rc;
}

static int init_s3_rest(struct otap_store* s, const struct otap_store_options* o,
                        bool gcs, const char* ak, const char* sk, const char* token,
                        const char* region, const char* endpoint,
                        struct otap_error* err) {
  const char* bearer =
      gcs ? pick(o->bearer_token, env(o, "GOOGLE_OAUTH_ACCESS_TOKEN")) : NULL;
  if (gcs && !endpoint) endpoint = "https://storage.googleapis.com";
  if ((ak && !sk) || (!ak && sk)) {
    return otap_error_set(err, EINVAL,
                          "%s: access key id and secret must be given together",
                          gcs ? "gs://" : "s3://");
  }
  if (ak) {
    s->auth = OTAP_AUTH_SIGV4;
  } else if (bearer) {
    s->auth = OTAP_AUTH_BEARER;
  } else {
    s->auth = OTAP_AUTH_NONE;
  }
  OTAP_RETURN_NOT_OK(sdup(&s->access_key_id, ak, err));
  OTAP_RETURN_NOT_OK(sdup(&s->secret_access_key, sk, err));
  OTAP_RETURN_NOT_OK(sdup(&s->session_token, token, err));
  OTAP_RETURN_NOT_OK(sdup(&s->region, region, err));
  OTAP_RETURN_NOT_OK(sdup(&s->bearer, bearer, err));
  bool dotted = strchr(s->bucket, '.') != NULL;
  if (endpoint) {
    OTAP_RETURN_NOT_OK(set_endpoint(s, endpoint, err));
    s->path_style = !o->virtual_hosted || o->path_style;
    if (!s->path_style) {
      // Virtual-hosted on a custom endpoint: bucket.host.
      char ep[512];
      const char* h = strstr(endpoint, "://") + 3;
      snprintf(ep, sizeof(ep), "%.*s%s.%s", (int)(h - endpoint), endpoint, s->bucket, h);
      otap_free(s->base_url);
      otap_free(s->host);
      otap_free(s->path_base);
      s->base_url = s->host = s->path_base = NULL;
      OTAP_RETURN_NOT_OK(set_endpoint(s, ep, err));
    }
  } else {
    char ep[512];
    s->path_style = o->path_style || dotted;
    if (s->path_style) {
      snprintf(ep, sizeof(ep), "https://s3.%s.amazonaws.com", s->region);
    } else {
      snprintf(ep, sizeof(ep), "https://%s.s3.%s.amazonaws.com", s->bucket, s->region);
    }
    OTAP_RETURN_NOT_OK(set_endpoint(s, ep, err));
  }
  return 0;
}

// "/bucket/encoded-key" (path-style) or "/encoded-key".
static int object_path(struct otap_store* s, const char* key, struct otap_buffer* out) {
  OTAP_RETURN_NOT_OK(
      otap_buffer_append(out, s->path_base, (int64_t)strlen(s->path_base)));
  if (s->path_style) OTAP_RETURN_NOT_OK(otap_buffer_appendf(out, "/%s", s->bucket));
  OTAP_RETURN_NOT_OK(otap_buffer_append(out, "/", 1));
  OTAP_RETURN_NOT_OK(otap__uri_encode(out, key, strlen(key), true));
  return 0;
}

static int oom(struct otap_error* err) {
  return otap_error_set(err, ENOMEM, "out of memory");
}

static int s3_list(struct otap_store* s, const char* prefix, bool recursive,
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
  char what[OTAP_STORE_MAX_KEY + 600];
  char name[OTAP_STORE_MAX_KEY + 512];
  otap__store_name(s, prefix, name, sizeof(name));
  snprintf(what, sizeof(what), "list %s", name);
  if (object_path(s, "", &path)) OTAP_GOTO_NOT_OK(rc, oom(err));
  if (s->path_style) path.data[--path.size] = '\0';  // "/bucket"
  for (int pages = 0;; pages++) {
    struct otap__query_param p[6];
    size_t np = 0;
    p[np++] = (struct otap__query_param){"list-type", "2"};
    p[np++] = (struct otap__query_param){"prefix", prefix};
    if (!recursive) p[np++] = (struct otap__query_param){"delimiter", "/"};
    if (page.next_token)
      p[np++] = (struct otap__query_param){"continuation-token", page.next_token};
    char mk[16];
    if (s->list_page_size > 0) {
      snprintf(mk, sizeof(mk), "%d", s->list_page_size);
      p[np++] = (struct otap__query_param){"max-keys", mk};
    }
    q.size = 0;
    body.size = 0;
    if (otap__query_build(&q, p, np)) OTAP_GOTO_NOT_OK(rc, oom(err));
    otap__http_xfer_reset(&x);
    otap__http_xfer_init(&x);
    x.method = "GET";
    x.path = (const char*)path.data;
    x.query = (const char*)q.data;
    x.out = &body;
    OTAP_GOTO_NOT_OK(rc, otap__http_run(s, &x, 1, what, err));
    if (!otap__http_ok(&x))
      OTAP_GOTO_NOT_OK(rc, otap__http_status_error(s, &x, what, prefix, err));
    OTAP_RETURN_IF(body.size > OTAP_STORE_MAX_XML, err, EINVAL,
                   "%s: listing page too large", what);
    rc = otap__xml_parse_s3_list((const char*)body.data, (size_t)body.size, &page, err);
    if (rc) {
      otap_error_prefix(err, rc, "%s: page %d: ", what, pages + 1);
      goto done;
    }
    if (!page.truncated) break;
  }
done:
  otap__http_xfer_reset(&x);
  otap_free(page.next_token);
  otap_free(page.cur_key);
  otap_buffer_reset(&path);
  otap_buffer_reset(&q);
  otap_buffer_reset(&body);
  return rc;
}

static int simple(struct otap_store* s, const char* method, const char* key,
                  const char* query, const char* op, struct otap__http_xfer* x,
                  struct otap_buffer* path, char* what, size_t what_cap,
                  struct otap_error* err) {
  return otap__http_simple(s, method, key, query, op, object_path, x, path, what, what_cap, err);
}

static int s3_head(struct otap_store* s, const char* key, struct otap_store_object* out,
                   struct otap_error* err) {
  struct otap_buffer path;
  otap_buffer_init(&path);
  struct otap__http_xfer x;
  otap__http_xfer_init(&x);
  char what[OTAP_STORE_MAX_KEY + 600];
  int rc = simple(s, "HEAD", key, NULL, "head", &x, &path, what, sizeof(what), err);
  if (rc == 0 && !otap__http_ok(&x)) rc = otap__http_status_error(s, &x, what, key, err);
  if (rc == 0 && x.content_length < 0) {
    rc = otap_error_set(err, EIO, "%s: reply without Content-Length", what);
  }
  if (rc == 0) {
    out->size = x.content_length;
    out->mtime = x.last_modified;
  }
  otap__http_xfer_reset(&x);
  otap_buffer_reset(&path);
  return rc;
}

static int s3_get(struct otap_store* s, const char* key, struct otap_buffer* out,
                  struct otap_error* err) {
  struct otap_buffer path;
  otap_buffer_init(&path);
  struct otap__http_xfer x;
  otap__http_xfer_init(&x);
  x.out = out;
  char what[OTAP_STORE_MAX_KEY + 600];
  int rc = simple(s, "GET", key, NULL, "get", &x, &path, what, sizeof(what), err);
  if (rc == 0 && !otap__http_ok(&x)) rc = otap__http_status_error(s, &x, what, key, err);
  if (rc == 0 && x.content_length < 0) {
    rc = otap_error_set(err, EIO, "%s: reply without Content-Length", what);
  }
  otap__http_xfer_reset(&x);
  otap_buffer_reset(&path);
  return rc;
}

// Shared by S3 and Azure: n ranged GETs of one object, run in parallel.
int otap__store_http_get_ranges(struct otap_store* s, const char* key, const char* query,
                                struct otap_store_range* r, size_t n,
                                struct otap_error* err,
                                int (*path_fn)(struct otap_store*, const char*,
                                               struct otap_buffer*));
int otap__store_http_get_ranges(struct otap_store* s, const char* key, const char* query,
                                struct otap_store_range* r, size_t n,
                                struct otap_error* err,
                                int (*path_fn)(struct otap_store*, const char*,
                                               struct otap_buffer*)) {
  int rc = 0;
  struct otap_buffer path;
  otap_buffer_init(&path);
  char name[OTAP_STORE_MAX_KEY + 512], what[OTAP_STORE_MAX_KEY + 600];
  otap__store_name(s, key, name, sizeof(name));
  size_t m = 0;
  for (size_t i = 0; i < n; i++) m += r[i].length > 0;
  struct otap__http_xfer* xs = otap_calloc(m ? m : 1, sizeof(*xs));
  if (!xs || path_fn(s, key, &path)) {
    otap_free(xs);
    otap_buffer_reset(&path);
    return oom(err);
  }
  size_t j = 0;
  for (size_t i = 0; i < n; i++) {
    if (!r[i].length) continue;
    otap__http_xfer_init(&xs[j]);
    xs[j].method = "GET";
    xs[j].path = (const char*)path.data;
    xs[j].query = query;
    xs[j].dst = r[i].buf;
    xs[j].dst_len = r[i].length;
    xs[j].is_range = true;
    xs[j].range_offset = r[i].offset;
    xs[j].expect_total = s->expect_total;
    j++;
  }
  if (m == 1) {
    snprintf(what, sizeof(what), "get %s bytes %llu-%llu", name,
             (unsigned long long)xs[0].range_offset,
             (unsigned long long)(xs[0].range_offset + xs[0].dst_len - 1));
  } else {
    snprintf(what, sizeof(what), "get %s (%zu ranges)", name, m);
  }
  if (m) rc = otap__http_run(s, xs, m, what, err);
  for (size_t i = 0; rc == 0 && i < m; i++) {
    if (!otap__http_ok(&xs[i])) {
      char w2[OTAP_STORE_MAX_KEY + 700];
      snprintf(w2, sizeof(w2), "get %s bytes %llu-%llu", name,
               (unsigned long long)xs[i].range_offset,
               (unsigned long long)(xs[i].range_offset + xs[i].dst_len - 1));
      rc = otap__http_status_error(s, &xs[i], w2, key, err);
    }
  }
  for (size_t i = 0; i < m; i++) otap__http_xfer_reset(&xs[i]);
  otap_free(xs);
  otap_buffer_reset(&path);
  return rc;
}

static int s3_get_ranges(struct otap_store* s, const char* key,
                         struct otap_store_range* r, size_t n, struct otap_error* err) {
  return otap__store_http_get_ranges(s, key, NULL, r, n, err, object_path);
}

static int s3_put(struct otap_store* s, const char* key, const uint8_t* data, size_t len,
                  struct otap_error* err) {
  struct otap_buffer path;
  otap_buffer_init(&path);
  struct otap__http_xfer x;
  otap__http_xfer_init(&x);
  x.body = data ? data : (const uint8_t*)"";
  x.body_len = len;
  x.unsigned_payload = !s->sign_payload;
  char what[OTAP_STORE_MAX_KEY + 600];
  int rc = simple(s, "PUT", key, NULL, "put", &x, &path, what, sizeof(what), err);
  if (rc == 0 && !otap__http_ok(&x)) rc = otap__http_status_error(s, &x, what, key, err);
  otap__http_xfer_reset(&x);
  otap_buffer_reset(&path);
  return rc;
}

static int s3_del(struct otap_store* s, const char* key, struct otap_error* err) {
  struct otap_buffer path;
  otap_buffer_init(&path);
  struct otap__http_xfer x;
  otap__http_xfer_init(&x);
  char what[OTAP_STORE_MAX_KEY + 600];
  int rc = simple(s, "DELETE", key, NULL, "delete", &x, &path, what, sizeof(what), err);
  if (rc == 0 && !otap__http_ok(&x) && x.status != 404) {
    rc = otap__http_status_error(s, &x, what, key, err);
  }
  otap__http_xfer_reset(&x);
  otap_buffer_reset(&path);
  return rc;
}

static int s3_mp_begin(struct otap_store* s, struct otap__upload* up,
                       struct otap_error* err) {
  struct otap_buffer path, body;
  otap_buffer_init(&path);
  otap_buffer_init(&body);
  struct otap__http_xfer x;
  otap__http_xfer_init(&x);
  x.out = &body;
  x.body = (const uint8_t*)"";
  x.idempotent = false;  // a retry would leak an upload; fail instead
  char what[OTAP_STORE_MAX_KEY + 600];
  int rc = simple(s, "POST", up->key, "uploads=", "start multipart upload of", &x, &path,
                  what, sizeof(what), err);
  if (rc == 0 && !otap__http_ok(&x))
    rc = otap__http_status_error(s, &x, what, up->key, err);
  if (rc == 0) {
    rc = otap__xml_find((const char*)body.data, (size_t)body.size,
                        "InitiateMultipartUploadResult/UploadId", &up->upload_id, err);
    if (rc) otap_error_prefix(err, rc, "%s: ", what);
  }
  otap__http_xfer_reset(&x);
  otap_buffer_reset(&path);
  otap_buffer_reset(&body);
  return rc;
}

static int s3_mp_parts(struct otap_store* s, struct otap__upload* up, int first,
                       const uint8_t* data, size_t len, size_t part_size,
                       struct otap_error* err) {
  size_t n = len ? (len + part_size - 1) / part_size : 0;
  OTAP_RETURN_IF((size_t)first + n > 10001, err, EINVAL,
                 "multipart upload: more than 10000 parts (raise part_size)");
  if (n == 0) return 0;
  int rc = 0;
  struct otap_buffer path;
  otap_buffer_init(&path);
  struct otap_buffer* qs = otap_calloc(n, sizeof(*qs));
  struct otap__http_xfer* xs = otap_calloc(n, sizeof(*xs));
  char name[OTAP_STORE_MAX_KEY + 512], what[OTAP_STORE_MAX_KEY + 600];
  otap__store_name(s, up->key, name, sizeof(name));
  snprintf(what, sizeof(what), "upload parts %d-%d of %s", first, first + (int)n - 1,
           name);
  if (!qs || !xs || object_path(s, up->key, &path)) OTAP_GOTO_NOT_OK(rc, oom(err));
  for (size_t i = 0; i < n; i++) {
    char pn[16];
    snprintf(pn, sizeof(pn), "%d", first + (int)i);
    struct otap__query_param p[2] = {{"partNumber", pn}, {"uploadId", up->upload_id}};
    if (otap__query_build(&qs[i], p, 2)) OTAP_GOTO_NOT_OK(rc, oom(err));
    otap__http_xfer_init(&xs[i]);
    xs[i].method = "PUT";
    xs[i].path = (const char*)path.data;
    xs[i].query = (const char*)qs[i].data;
    xs[i].body = data + i * part_size;
    xs[i].body_len = len - i * part_size < part_size ? len - i * part_size : part_size;
    xs[i].unsigned_payload = !s->sign_payload;
  }
  OTAP_GOTO_NOT_OK(rc, otap__http_run(s, xs, n, what, err));
  for (size_t i = 0; i < n; i++) {
    if (!otap__http_ok(&xs[i]))
      OTAP_GOTO_NOT_OK(rc, otap__http_status_error(s, &xs[i], what, up->key, err));
    if (!xs[i].etag[0]) {
      OTAP_GOTO_NOT_OK(rc, otap_error_set(err, EIO, "%s: part %d: reply without ETag",
                                          what, first + (int)i));
    }
    if (otap_buffer_append(&up->etags, xs[i].etag, (int64_t)strlen(xs[i].etag) + 1)) {
      OTAP_GOTO_NOT_OK(rc, oom(err));
    }
  }
done:
  for (size_t i = 0; i < n; i++) {
    if (xs) otap__http_xfer_reset(&xs[i]);
    if (qs) otap_buffer_reset(&qs[i]);
  }
  otap_free(xs);
  otap_free(qs);
  otap_buffer_reset(&path);
  return rc;
}

static int s3_mp_complete(struct otap_store* s, struct otap__upload* up,
                          struct otap_error* err) {
  struct otap_buffer path, q, xml, body;
  otap_buffer_init(&path);
  otap_buffer_init(&q);
  otap_buffer_init(&xml);
  otap_buffer_init(&body);
  int rc = 0;
  struct otap__query_param p[1] = {{"uploadId", up->upload_id}};
  struct otap__http_xfer x;
  otap__http_xfer_init(&x);
  char what[OTAP_STORE_MAX_KEY + 600];
  if (otap__query_build(&q, p, 1)) OTAP_GOTO_NOT_OK(rc, oom(err));
  if (otap_buffer_appendf(&xml, "<CompleteMultipartUpload>"))
    OTAP_GOTO_NOT_OK(rc, oom(err));
  const char* e = (const char*)up->etags.data;
  for (int i = 1; i <= up->parts; i++) {
    // ETags are quoted hex digests; escape anything XML-special anyway.
    if (otap_buffer_appendf(&xml, "<Part><PartNumber>%d</PartNumber><ETag>", i))
      OTAP_GOTO_NOT_OK(rc, oom(err));
    for (const char* c = e; *c; c++) {
      const char* rep = *c == '&'   ? "&amp;"
                        : *c == '<' ? "&lt;"
                        : *c == '>' ? "&gt;"
                        : *c == '"' ? "&quot;"
                                    : NULL;
      if (rep ? otap_buffer_appendf(&xml, "%s", rep) : otap_buffer_append(&xml, c, 1)) {
        OTAP_GOTO_NOT_OK(rc, oom(err));
      }
    }
    if (otap_buffer_appendf(&xml, "</ETag></Part>")) OTAP_GOTO_NOT_OK(rc, oom(err));
    e += strlen(e) + 1;
  }
  if (otap_buffer_appendf(&xml, "</CompleteMultipartUpload>"))
    OTAP_GOTO_NOT_OK(rc, oom(err));
  x.body = xml.data;
  x.body_len = (size_t)xml.size;
  x.out = &body;
  x.extra[x.n_extra++] = (struct otap__http_header){"content-type", "application/xml"};
  OTAP_GOTO_NOT_OK(
      rc, simple(s, "POST", up->key, (const char*)q.data, "complete multipart upload of",
                 &x, &path, what, sizeof(what), err));
  if (!otap__http_ok(&x))
    OTAP_GOTO_NOT_OK(rc, otap__http_status_error(s, &x, what, up->key, err));
  // S3 may answer 200 with an <Error> body.
  if (otap_buffer_append(&body, "", 1)) OTAP_GOTO_NOT_OK(rc, oom(err));
  body.size--;
  if (body.size && strstr((const char*)body.data, "<Error>")) {
    x.status = 500;
    otap_buffer_reset(&x.err_body);
    otap_buffer_move(&body, &x.err_body);
    OTAP_GOTO_NOT_OK(rc, otap__http_status_error(s, &x, what, up->key, err));
  }
done:
  otap__http_xfer_reset(&x);
  otap_buffer_reset(&path);
  otap_buffer_reset(&q);
  otap_buffer_reset(&xml);
  otap_buffer_reset(&body);
  return rc;
}

static void s3_mp_abort(struct otap_store* s, struct otap__upload* up) {
  if (!up->upload_id) return;
  struct otap_buffer path, q;
  otap_buffer_init(&path);
  otap_buffer_init(&q);
  struct otap__query_param p[1] = {{"uploadId", up->upload_id}};
  struct otap__http_xfer x;
  otap__http_xfer_init(&x);
  struct otap_error ignored;
  char what[OTAP_STORE_MAX_KEY + 600];
  if (otap__query_build(&q, p, 1) == 0) {
    (void)simple(s, "DELETE", up->key, (const char*)q.data, "abort multipart upload of",
                 &x, &path, what, sizeof(what), &ignored);
  }
  otap__http_xfer_reset(&x);
  otap_buffer_reset(&path);
  otap_buffer_reset(&q);
}

int otap__store_create_bucket(struct otap_store* s, struct otap_error* err) {
  struct otap_buffer path;
  otap_buffer_init(&path);
  struct otap__http_xfer x;
  otap__http_xfer_init(&x);
  int rc = 0;
  char what[512];
  snprintf(what, sizeof(what), "create bucket/container %s", s->bucket);
  if (otap_buffer_appendf(&path, "%s/%s", s->path_base ? s->path_base : "", s->bucket)) {
    OTAP_GOTO_NOT_OK(rc, oom(err));
  }
  OTAP_GOTO_NOT_OK(rc, s->kind == OTAP_STORE_LOCAL
                           ? otap_error_set(err, ENOTSUP, "local store has no buckets")
                           : 0);
  if (!s->path_style && s->kind != OTAP_STORE_AZURE) {
    path.size = 0;
    if (otap_buffer_appendf(&path, "/")) OTAP_GOTO_NOT_OK(rc, oom(err));
  }
  x.method = "PUT";
  x.path = (const char*)path.data;
  x.query = s->kind == OTAP_STORE_AZURE ? "restype=container" : NULL;
  x.body = (const uint8_t*)"";
  OTAP_GOTO_NOT_OK(rc, otap__http_run(s, &x, 1, what, err));
  if (!otap__http_ok(&x) && x.status != 409) {
    OTAP_GOTO_NOT_OK(rc, otap__http_status_error(s, &x, what, "", err));
  }
done:
  otap__http_xfer_reset(&x);
  otap_buffer_reset(&path);
  return rc;
}

const struct otap__store_ops otap__store_s3_ops = {
    s3_list,     s3_head, s3_get,      s3_get_ranges, otap__store_http_open_sink,
    s3_del,      s3_put,  s3_mp_begin, s3_mp_parts,   s3_mp_complete,
    s3_mp_abort,
};
