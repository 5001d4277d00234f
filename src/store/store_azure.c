// Azure Blob backend: Shared Key (incl. the Azurite development account), SAS token or
// bearer token; List Blobs with prefix/delimiter/marker, ranged GETs (x-ms-range), Put
// Blob, and Put Block + Put Block List above the multipart threshold.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "store/store_internal.h"

int otap__store_http_get_ranges(struct otap_store* s, const char* key, const char* query,
                                struct otap_store_range* r, size_t n,
                                struct otap_error* err,
                                int (*path_fn)(struct otap_store*, const char*,
                                               struct otap_buffer*));

static const char kAzuriteKey[] =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/"
    "KBHBeksoGMGw==";

static const char* env(const struct otap_store_options* o, const char* name) {
  if (o->ignore_env) return NULL;
  const char* v = getenv(name);
  return v && *v ? v : NULL;
}

static int oom(struct otap_error* err) {
  return otap_error_set(err, ENOMEM, "out of memory");
}

// Looks up `name` in a "k=v;k=v" connection string; copies the value into out.
static bool conn_get(const char* cs, const char* name, char* out, size_t cap) {
  size_t nl = strlen(name);
  const char* p = cs;
  while (p && *p) {
    while (*p == ';' || *p == ' ') p++;
    const char* semi = strchr(p, ';');
    size_t len = semi ? (size_t)(semi - p) : strlen(p);
    if (len > nl && p[nl] == '=' && strncasecmp(p, name, nl) == 0) {
      size_t vl = len - nl - 1;
      if (vl >= cap) return false;
      memcpy(out, p + nl + 1, vl);
      out[vl] = '\0';
      return true;
    }
    p = semi;
  }
  return false;
}

static int set_endpoint(struct otap_store* s, const char* ep, struct otap_error* err) {
  bool https = strncmp(ep, "https://", 8) == 0;
  bool http = strncmp(ep, "http://", 7) == 0;
  OTAP_RETURN_IF(!https && !http, err, EINVAL,
                 "Azure endpoint must start with http(s)://");
  const char* host = ep + (https ? 8 : 7);
  size_t hl = strcspn(host, "/?#");
  OTAP_RETURN_IF(hl == 0 || hl > 255, err, EINVAL, "Azure endpoint: bad host");
  s->base_url = otap_strndup(ep, (size_t)(host - ep) + hl);
  const char* path = host + hl;
  size_t pl = strcspn(path, "?#");
  while (pl && path[pl - 1] == '/') pl--;
  s->path_base = otap_strndup(path, pl);
  s->host = otap_strndup(host, hl);
  if (!s->base_url || !s->path_base || !s->host) return oom(err);
  return 0;
}

int otap__store_init_azure(struct otap_store* s, const struct otap_store_options* o,
                           const char* account_from_url, const char* endpoint_from_url,
                           struct otap_error* err) {
  s->ops = &otap__store_azure_ops;
  s->path_style = true;
  char account[128] = "", key[256] = "", endpoint[512] = "", sas[2048] = "";
  const char* cs = o->azure_connection_string ? o->azure_connection_string
                                              : env(o, "AZURE_STORAGE_CONNECTION_STRING");
  if (cs) {
    char dev[16];
    if (conn_get(cs, "UseDevelopmentStorage", dev, sizeof(dev)) &&
        strcasecmp(dev, "true") == 0) {
      snprintf(account, sizeof(account), "devstoreaccount1");
      snprintf(key, sizeof(key), "%s", kAzuriteKey);
      snprintf(endpoint, sizeof(endpoint), "http://127.0.0.1:10000/devstoreaccount1");
    }
    conn_get(cs, "AccountName", account, sizeof(account));
    conn_get(cs, "AccountKey", key, sizeof(key));
    conn_get(cs, "BlobEndpoint", endpoint, sizeof(endpoint));
    conn_get(cs, "SharedAccessSignature", sas, sizeof(sas));
    if (!endpoint[0] && account[0]) {
      char proto[16] = "https", suffix[128] = "core.windows.net";
      conn_get(cs, "DefaultEndpointsProtocol", proto, sizeof(proto));
      conn_get(cs, "EndpointSuffix", suffix, sizeof(suffix));
      snprintf(endpoint, sizeof(endpoint), "%s://%s.blob.%s", proto, account, suffix);
    }
  }
  const char* v;
  if (account_from_url) snprintf(account, sizeof(account), "%s", account_from_url);
  if ((v = o->azure_account ? o->azure_account
                            : (!account[0] ? env(o, "AZURE_STORAGE_ACCOUNT") : NULL))) {
    snprintf(account, sizeof(account), "%s", v);
  }
  if ((v = o->azure_key ? o->azure_key
                        : (!key[0] ? env(o, "AZURE_STORAGE_KEY") : NULL))) {
    snprintf(key, sizeof(key), "%s", v);
  }
  if ((v = o->azure_sas_token ? o->azure_sas_token
                              : (!sas[0] ? env(o, "AZURE_STORAGE_SAS_TOKEN") : NULL))) {
    snprintf(sas, sizeof(sas), "%s", v[0] == '?' ? v + 1 : v);
  }
  if (o->endpoint) snprintf(endpoint, sizeof(endpoint), "%s", o->endpoint);
  if (endpoint_from_url && !o->endpoint)
    snprintf(endpoint, sizeof(endpoint), "%s", endpoint_from_url);
  OTAP_RETURN_IF(!account[0], err, EINVAL,
                 "az://%s: no storage account (set AZURE_STORAGE_ACCOUNT or "
                 "AZURE_STORAGE_CONNECTION_STRING)",
                 s->bucket);
  for (const char* c = account; *c; c++) {
    OTAP_RETURN_IF(!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9')), err, EINVAL,
                   "bad Azure storage account name");
  }
  if (!endpoint[0])
    snprintf(endpoint, sizeof(endpoint), "https://%s.blob.core.windows.net", account);
  s->account = otap_strdup(account);
  if (!s->account) return oom(err);
  OTAP_RETURN_NOT_OK(set_endpoint(s, endpoint, err));
  const char* bearer =
      o->bearer_token ? o->bearer_token : env(o, "AZURE_STORAGE_BEARER_TOKEN");
  if (key[0]) {
    int rc =
        otap__base64_decode(key, s->azure_key, sizeof(s->azure_key), &s->azure_key_len);
    memset(key, 0, sizeof(key));
    OTAP_RETURN_IF(rc || s->azure_key_len == 0, err, EINVAL,
                   "Azure account key is not valid base64");
    s->auth = OTAP_AUTH_SHARED_KEY;
  } else if (sas[0]) {
    s->sas = otap_strdup(sas);
    memset(sas, 0, sizeof(sas));
    if (!s->sas) return oom(err);
    s->auth = OTAP_AUTH_SAS;
  } else if (bearer) {
    s->bearer = otap_strdup(bearer);
    if (!s->bearer) return oom(err);
    s->auth = OTAP_AUTH_BEARER;
  } else {
    s->auth = OTAP_AUTH_NONE;
  }
  return 0;
}

static int blob_path(struct otap_store* s, const char* key, struct otap_buffer* out) {
  OTAP_RETURN_NOT_OK(otap_buffer_appendf(out, "%s/%s/", s->path_base, s->bucket));
  return otap__uri_encode(out, key, strlen(key), true);
}

static int az_list(struct otap_store* s, const char* prefix, bool recursive,
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
  char name[OTAP_STORE_MAX_KEY + 512], what[OTAP_STORE_MAX_KEY + 600];
  otap__store_name(s, prefix, name, sizeof(name));
  snprintf(what, sizeof(what), "list %s", name);
  if (otap_buffer_appendf(&path, "%s/%s", s->path_base, s->bucket))
    OTAP_GOTO_NOT_OK(rc, oom(err));
  for (int pages = 0;; pages++) {
    struct otap__query_param p[6];
    size_t np = 0;
    p[np++] = (struct otap__query_param){"restype", "container"};
    p[np++] = (struct otap__query_param){"comp", "list"};
    if (*prefix) p[np++] = (struct otap__query_param){"prefix", prefix};
    if (!recursive) p[np++] = (struct otap__query_param){"delimiter", "/"};
    if (page.next_token) p[np++] = (struct otap__query_param){"marker", page.next_token};
    char mk[16];
    if (s->list_page_size > 0) {
      snprintf(mk, sizeof(mk), "%d", s->list_page_size);
      p[np++] = (struct otap__query_param){"maxresults", mk};
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
    rc =
        otap__xml_parse_azure_list((const char*)body.data, (size_t)body.size, &page, err);
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
  return otap__http_simple(s, method, key, query, op, blob_path, x, path, what, what_cap, err);
}

static int az_head(struct otap_store* s, const char* key, struct otap_store_object* out,
                   struct otap_error* err) {
  struct otap_buffer path;
  otap_buffer_init(&path);
  struct otap__http_xfer x;
  otap__http_xfer_init(&x);
  char what[OTAP_STORE_MAX_KEY + 600];
  int rc = simple(s, "HEAD", key, NULL, "head", &x, &path, what, sizeof(what), err);
  if (rc == 0 && !otap__http_ok(&x)) rc = otap__http_status_error(s, &x, what, key, err);
  if (rc == 0 && x.content_length < 0)
    rc = otap_error_set(err, EIO, "%s: no Content-Length", what);
  if (rc == 0) {
    out->size = x.content_length;
    out->mtime = x.last_modified;
  }
  otap__http_xfer_reset(&x);
  otap_buffer_reset(&path);
  return rc;
}

static int az_get(struct otap_store* s, const char* key, struct otap_buffer* out,
                  struct otap_error* err) {
  struct otap_buffer path;
  otap_buffer_init(&path);
  struct otap__http_xfer x;
  otap__http_xfer_init(&x);
  x.out = out;
  char what[OTAP_STORE_MAX_KEY + 600];
  int rc = simple(s, "GET", key, NULL, "get", &x, &path, what, sizeof(what), err);
  if (rc == 0 && !otap__http_ok(&x)) rc = otap__http_status_error(s, &x, what, key, err);
  if (rc == 0 && x.content_length < 0)
    rc = otap_error_set(err, EIO, "%s: no Content-Length", what);
  otap__http_xfer_reset(&x);
  otap_buffer_reset(&path);
  return rc;
}

static int az_get_ranges(struct otap_store* s, const char* key,
                         struct otap_store_range* r, size_t n, struct otap_error* err) {
  return otap__store_http_get_ranges(s, key, NULL, r, n, err, blob_path);
}

static int az_put_common(struct otap_store* s, const char* key, const char* query,
                         const uint8_t* data, size_t len, const char* op, bool blob_type,
                         struct otap_error* err) {
  struct otap_buffer path;
  otap_buffer_init(&path);
  struct otap__http_xfer x;
  otap__http_xfer_init(&x);
  x.body = data ? data : (const uint8_t*)"";
  x.body_len = len;
  if (blob_type) {
    x.extra[x.n_extra++] = (struct otap__http_header){"x-ms-blob-type", "BlockBlob"};
    x.extra[x.n_extra++] =
        (struct otap__http_header){"content-type", "application/octet-stream"};
  } else if (strstr(query, "blocklist")) {
    x.extra[x.n_extra++] = (struct otap__http_header){"content-type", "application/xml"};
  } else {
    x.extra[x.n_extra++] =
        (struct otap__http_header){"content-type", "application/octet-stream"};
  }
  char what[OTAP_STORE_MAX_KEY + 600];
  int rc = simple(s, "PUT", key, query, op, &x, &path, what, sizeof(what), err);
  if (rc == 0 && !otap__http_ok(&x)) rc = otap__http_status_error(s, &x, what, key, err);
  otap__http_xfer_reset(&x);
  otap_buffer_reset(&path);
  return rc;
}

static int az_put(struct otap_store* s, const char* key, const uint8_t* data, size_t len,
                  struct otap_error* err) {
  return az_put_common(s, key, NULL, data, len, "put", true, err);
}

static int az_del(struct otap_store* s, const char* key, struct otap_error* err) {
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

static int az_mp_begin(struct otap_store* s, struct otap__upload* up,
                       struct otap_error* err) {
  (void)s;
  (void)up;
  (void)err;
  return 0;  // blocks are staged by id; nothing to start
}

static void block_id(const struct otap__upload* up, int part, char out[64]) {
  char raw[32];
  // Fixed-width ids (Azure requires equal lengths within one blob).
  snprintf(raw, sizeof(raw), "otap-block-%08d", part);
  otap__base64_encode((const uint8_t*)raw, strlen(raw), out, 64);
  (void)up;
}

static int az_mp_parts(struct otap_store* s, struct otap__upload* up, int first,
                       const uint8_t* data, size_t len, size_t part_size,
                       struct otap_error* err) {
  size_t n = len ? (len + part_size - 1) / part_size : 0;
  OTAP_RETURN_IF((size_t)first + n > 50001, err, EINVAL,
                 "block upload: more than 50000 blocks");
  if (n == 0) return 0;
  int rc = 0;
  struct otap_buffer path;
  otap_buffer_init(&path);
  struct otap_buffer* qs = otap_calloc(n, sizeof(*qs));
  struct otap__http_xfer* xs = otap_calloc(n, sizeof(*xs));
  char name[OTAP_STORE_MAX_KEY + 512], what[OTAP_STORE_MAX_KEY + 600];
  otap__store_name(s, up->key, name, sizeof(name));
  snprintf(what, sizeof(what), "put blocks %d-%d of %s", first, first + (int)n - 1, name);
  if (!qs || !xs || blob_path(s, up->key, &path)) OTAP_GOTO_NOT_OK(rc, oom(err));
  for (size_t i = 0; i < n; i++) {
    char id[64];
    block_id(up, first + (int)i, id);
    struct otap__query_param p[2] = {{"comp", "block"}, {"blockid", id}};
    if (otap__query_build(&qs[i], p, 2)) OTAP_GOTO_NOT_OK(rc, oom(err));
    otap__http_xfer_init(&xs[i]);
    xs[i].method = "PUT";
    xs[i].path = (const char*)path.data;
    xs[i].query = (const char*)qs[i].data;
    xs[i].body = data + i * part_size;
    xs[i].body_len = len - i * part_size < part_size ? len - i * part_size : part_size;
    xs[i].extra[xs[i].n_extra++] =
        (struct otap__http_header){"content-type", "application/octet-stream"};
  }
  OTAP_GOTO_NOT_OK(rc, otap__http_run(s, xs, n, what, err));
  for (size_t i = 0; i < n; i++) {
    if (!otap__http_ok(&xs[i]))
      OTAP_GOTO_NOT_OK(rc, otap__http_status_error(s, &xs[i], what, up->key, err));
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

static int az_mp_complete(struct otap_store* s, struct otap__upload* up,
                          struct otap_error* err) {
  struct otap_buffer xml;
  otap_buffer_init(&xml);
  int rc = 0;
  if (otap_buffer_appendf(&xml,
                          "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>")) {
    OTAP_GOTO_NOT_OK(rc, oom(err));
  }
  for (int i = 1; i <= up->parts; i++) {
    char id[64];
    block_id(up, i, id);
    if (otap_buffer_appendf(&xml, "<Latest>%s</Latest>", id))
      OTAP_GOTO_NOT_OK(rc, oom(err));
  }
  if (otap_buffer_appendf(&xml, "</BlockList>")) OTAP_GOTO_NOT_OK(rc, oom(err));
  rc = az_put_common(s, up->key, "comp=blocklist", xml.data, (size_t)xml.size,
                     "put block list of", false, err);
done:
  otap_buffer_reset(&xml);
  return rc;
}

static void az_mp_abort(struct otap_store* s, struct otap__upload* up) {
  // Uncommitted blocks are garbage-collected by the service after a week; nothing was
  // made visible, so there is nothing to undo.
  (void)s;
  (void)up;
}

const struct otap__store_ops otap__store_azure_ops = {
    az_list,     az_head, az_get,      az_get_ranges, otap__store_http_open_sink,
    az_del,      az_put,  az_mp_begin, az_mp_parts,   az_mp_complete,
    az_mp_abort,
};
