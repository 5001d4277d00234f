// HTTP transfers for the S3, Azure and GCS backends: libcurl multi with a bounded number
// of requests in flight over the store's connection pool, per-attempt signing, retries
// with exponential backoff and jitter, and strict checks that a body is complete and
// matches the requested range before it counts as success.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "store/store_internal.h"

int64_t otap__now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t otap__store_random(struct otap_store* s) {
  // xorshift64*: jitter only, not security.
  uint64_t x = s->rng ? s->rng : 0x9E3779B97F4A7C15ull;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  s->rng = x;
  return x * 0x2545F4914F6CDD1Dull;
}

void otap__http_xfer_init(struct otap__http_xfer* x) {
  memset(x, 0, sizeof(*x));
  x->content_length = -1;
  x->range_start = x->range_end = x->range_total = -1;
  x->expect_total = -1;
  x->generation = -1;
  x->idempotent = true;
}

static void xfer_cleanup_attempt(struct otap__http_xfer* x) {
  if (x->easy) curl_easy_cleanup(x->easy);
  x->easy = NULL;
  curl_slist_free_all(x->headers);
  x->headers = NULL;
  otap_free(x->url);
  x->url = NULL;
}

void otap__http_xfer_reset(struct otap__http_xfer* x) {
  xfer_cleanup_attempt(x);
  otap_buffer_reset(&x->err_body);
}

bool otap__http_ok(const struct otap__http_xfer* x) {
  return x->status >= 200 && x->status < 300;
}

static bool status_retryable(long st) {
  return st == 408 || st == 429 || st == 500 || st == 502 || st == 503 || st == 504;
}

static size_t on_write(char* ptr, size_t size, size_t nmemb, void* ud) {
  struct otap__http_xfer* x = ud;
  size_t n = size * nmemb;
  x->last_activity_ms = otap__now_ms();
  long st = 0;
  curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &st);
  if (st < 200 || st >= 300) {
    if (x->err_body.size + (int64_t)n > OTAP_STORE_MAX_ERROR_BODY)
      return n;  // keep the head
    if (otap_buffer_append(&x->err_body, ptr, (int64_t)n) == 0) return n;
    x->oom = true;
    return 0;
  }
  if (x->dst) {
    if ((uint64_t)x->received + n > x->dst_len) {
      x->overflow = true;
      return 0;
    }
    memcpy(x->dst + x->received, ptr, n);
  } else if (x->out) {
    if (otap_buffer_append(x->out, ptr, (int64_t)n) != 0) {
      x->oom = true;
      return 0;
    }
  }
  x->received += (int64_t)n;
  return n;
}

static bool header_is(const char* line, size_t n, const char* name, const char** value) {
  size_t k = strlen(name);
  if (n <= k || line[k] != ':' || strncasecmp(line, name, k) != 0) return false;
  *value = line + k + 1;
  while (**value == ' ' || **value == '\t') (*value)++;
  return true;
}

static void copy_value(char* dst, size_t cap, const char* v, const char* end) {
  size_t n = 0;
  while (v < end && *v != '\r' && *v != '\n' && n + 1 < cap) dst[n++] = *v++;
  dst[n] = '\0';
}

static size_t on_header(char* buf, size_t size, size_t nmemb, void* ud) {
  struct otap__http_xfer* x = ud;
  size_t n = size * nmemb;
  x->last_activity_ms = otap__now_ms();
  const char* end = buf + n;
  const char* v;
  char tmp[128];
  if (n >= 5 && strncmp(buf, "HTTP/", 5) == 0) {  // a new response (e.g. after 100)
    x->content_length = -1;
    x->range_start = x->range_end = x->range_total = -1;
    x->request_id[0] = x->etag[0] = x->location[0] = x->range_header[0] = '\0';
    x->generation = -1;
  } else if (header_is(buf, n, "content-length", &v)) {
    copy_value(tmp, sizeof(tmp), v, end);
    char* e;
    long long cl = strtoll(tmp, &e, 10);
    x->content_length = (e != tmp && cl >= 0) ? cl : -1;
  } else if (header_is(buf, n, "content-range", &v)) {
    copy_value(tmp, sizeof(tmp), v, end);
    long long a, b, t;
    if (sscanf(tmp, "bytes %lld-%lld/%lld", &a, &b, &t) == 3 && a >= 0 && b >= a &&
        t > b) {
      x->range_start = a;
      x->range_end = b;
      x->range_total = t;
    }
  } else if (header_is(buf, n, "x-amz-request-id", &v) ||
             header_is(buf, n, "x-ms-request-id", &v) ||
             header_is(buf, n, "x-guploader-uploadid", &v)) {
    copy_value(x->request_id, sizeof(x->request_id), v, end);
  } else if (header_is(buf, n, "etag", &v)) {
    copy_value(x->etag, sizeof(x->etag), v, end);
  } else if (header_is(buf, n, "retry-after", &v)) {
    copy_value(tmp, sizeof(tmp), v, end);
    char* e;
    long long secs = strtoll(tmp, &e, 10);
    if (e != tmp && secs > 0 && secs < 3600) x->retry_after_ms = secs * 1000;
  } else if (header_is(buf, n, "location", &v)) {
    copy_value(x->location, sizeof(x->location), v, end);
  } else if (header_is(buf, n, "range", &v)) {
    copy_value(x->range_header, sizeof(x->range_header), v, end);
  } else if (header_is(buf, n, "x-goog-generation", &v)) {
    copy_value(tmp, sizeof(tmp), v, end);
    char* e;
    long long g = strtoll(tmp, &e, 10);
    x->generation = (e != tmp && g >= 0) ? g : -1;
  } else if (header_is(buf, n, "last-modified", &v)) {
    copy_value(tmp, sizeof(tmp), v, end);
    x->last_modified = otap__parse_http_date(tmp);
  }
  return n;
}

static size_t on_read(char* buf, size_t size, size_t nmemb, void* ud) {
  struct otap__http_xfer* x = ud;
  size_t n = size * nmemb;
  size_t left = x->body_len - x->body_pos;
  x->last_activity_ms = otap__now_ms();
  if (n > left) n = left;
  if (n) memcpy(buf, x->body + x->body_pos, n);
  x->body_pos += n;
  return n;
}

static int add_header(struct curl_slist** list, const char* name, const char* value) {
  char line[8192];
  int n = snprintf(line, sizeof(line), "%s: %s", name, value);
  if (n < 0 || (size_t)n >= sizeof(line)) return EINVAL;
  struct curl_slist* l = curl_slist_append(*list, line);
  if (!l) return ENOMEM;
  *list = l;
  return 0;
}

// The easy handle of one attempt: timeouts, TLS verification, callbacks, method and body.
static int make_easy(struct otap_store* s, struct otap__http_xfer* x) {
  CURL* e = curl_easy_init();
  if (!e) return ENOMEM;
  x->easy = e;
  curl_easy_setopt(e, CURLOPT_URL, x->url);
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, s->connect_timeout_ms);
  curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, (s->stall_timeout_ms + 999) / 1000);
  if (s->request_timeout_ms > 0)
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, s->request_timeout_ms);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
  if (s->ca_file) curl_easy_setopt(e, CURLOPT_CAINFO, s->ca_file);
  curl_easy_setopt(e, CURLOPT_USERAGENT, "otap/" OTAP_VERSION_STRING);
  curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
  if (strcmp(x->method, "HEAD") == 0) {
    curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
  } else if (x->body || strcmp(x->method, "PUT") == 0 || strcmp(x->method, "POST") == 0) {
    curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(e, CURLOPT_READDATA, x);
    curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE,
                     (curl_off_t)(x->body ? x->body_len : 0));
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, x->method);
  } else if (strcmp(x->method, "GET") != 0) {
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, x->method);
  }
  return 0;
}

// Adds the request headers and, for signed schemes, computes the Authorization value for
// this attempt (Azure Shared Key or SigV4; the date is part of the signature). `hs` has
// room for 8 headers.
static int add_signed_headers(struct otap_store* s, struct otap__http_xfer* x,
                              struct otap__http_header* hs, int nh, const char* query,
                              struct otap_buffer* auth, struct otap_error* err) {
  int rc = 0;
  char clen[32];
  struct curl_slist* h = x->headers;
  if (s->kind == OTAP_STORE_AZURE) {
    char date[64];
    otap__format_http_date(time(NULL), date);
    hs[nh++] = (struct otap__http_header){"x-ms-date", date};
    hs[nh++] = (struct otap__http_header){"x-ms-version", "2021-12-02"};
    if (x->body) {
      snprintf(clen, sizeof(clen), "%zu", x->body_len);
      hs[nh++] = (struct otap__http_header){"content-length", clen};
    }
    for (int i = 0; i < nh; i++) {
      if (strcmp(hs[i].name, "content-length") == 0) continue;  // curl sends it
      OTAP_GOTO_NOT_OK(rc, add_header(&h, hs[i].name, hs[i].value));
      x->headers = h;
    }
    if (s->auth == OTAP_AUTH_SHARED_KEY) {
      OTAP_GOTO_NOT_OK(
          rc, otap__azure_shared_key(s, x->method, x->path, query, hs, nh, auth, err));
    }
  } else {
    for (int i = 0; i < nh; i++) {
      OTAP_GOTO_NOT_OK(rc, add_header(&h, hs[i].name, hs[i].value));
      x->headers = h;
    }
    if (s->auth == OTAP_AUTH_SIGV4) {
      char amz_date[17], hash[65];
      otap__format_amz_date(time(NULL), amz_date);
      if (x->unsigned_payload) {
        snprintf(hash, sizeof(hash), "UNSIGNED-PAYLOAD");
      } else {
        otap__sha256_hex(x->body ? (const void*)x->body : "", x->body ? x->body_len : 0,
                         hash);
      }
      struct otap__sigv4_input in = {x->method,
                                     s->host,
                                     x->path,
                                     query,
                                     hs,
                                     nh,
                                     hash,
                                     amz_date,
                                     s->access_key_id,
                                     s->secret_access_key,
                                     s->session_token,
                                     s->region,
                                     "s3"};
      OTAP_GOTO_NOT_OK(rc, otap__sigv4_authorization(&in, auth, err));
      OTAP_GOTO_NOT_OK(rc, add_header(&h, "x-amz-date", amz_date));
      x->headers = h;
      OTAP_GOTO_NOT_OK(rc, add_header(&h, "x-amz-content-sha256", hash));
      x->headers = h;
      if (s->session_token && *s->session_token) {
        OTAP_GOTO_NOT_OK(rc, add_header(&h, "x-amz-security-token", s->session_token));
        x->headers = h;
      }
    } else if (s->kind == OTAP_STORE_S3 || (s->kind == OTAP_STORE_GCS && !s->gcs_json)) {
      // Anonymous or bearer: s3rver and friends still want a payload hash header.
      OTAP_GOTO_NOT_OK(rc, add_header(&h, "x-amz-content-sha256", "UNSIGNED-PAYLOAD"));
      x->headers = h;
    }
  }
done:
  return rc;
}

// Builds URL and headers (signed for this attempt) and the easy handle.
static int prepare(struct otap_store* s, struct otap__http_xfer* x,
                   struct otap_error* err) {
  int rc = 0;
  struct otap_buffer url, auth, q;
  otap_buffer_init(&url);
  otap_buffer_init(&auth);
  otap_buffer_init(&q);
  struct otap__http_header hs[8];
  int nh = 0;
  char range[96];
  for (int i = 0; i < x->n_extra && nh < 4; i++) hs[nh++] = x->extra[i];
  if (x->is_range) {
    snprintf(range, sizeof(range), "bytes=%llu-%llu", (unsigned long long)x->range_offset,
             (unsigned long long)(x->range_offset + x->dst_len - 1));
    hs[nh++] = (struct otap__http_header){
        s->kind == OTAP_STORE_AZURE ? "x-ms-range" : "range", range};
  }
  const char* query = x->query && *x->query ? x->query : "";
  OTAP_GOTO_NOT_OK(rc, otap_buffer_append(&q, query, (int64_t)strlen(query)));
  if (s->auth == OTAP_AUTH_SAS) {
    OTAP_GOTO_NOT_OK(rc, otap_buffer_appendf(&q, "%s%s", q.size ? "&" : "", s->sas));
  }
  OTAP_GOTO_NOT_OK(rc, otap_buffer_append(&q, "", 1));  // NUL-terminate
  q.size--;
  OTAP_GOTO_NOT_OK(
      rc, otap_buffer_appendf(&url, "%s%s%s%s", s->base_url, x->path, q.size ? "?" : "",
                              q.size ? (const char*)q.data : ""));
  x->url = otap_strdup((const char*)url.data);
  if (!x->url) OTAP_GOTO_NOT_OK(rc, ENOMEM);

  OTAP_GOTO_NOT_OK(rc, add_signed_headers(s, x, hs, nh, query, &auth, err));
  struct curl_slist* h = x->headers;
  if (s->auth == OTAP_AUTH_BEARER) {
    OTAP_GOTO_NOT_OK(rc, otap_buffer_appendf(&auth, "Bearer %s", s->bearer));
  }
  if (auth.size) {
    OTAP_GOTO_NOT_OK(rc, add_header(&h, "Authorization", (const char*)auth.data));
    x->headers = h;
  }
  OTAP_GOTO_NOT_OK(rc, add_header(&h, "Expect", ""));
  x->headers = h;
  if (x->body && !x->n_extra && s->kind != OTAP_STORE_AZURE) {
    OTAP_GOTO_NOT_OK(rc, add_header(&h, "Content-Type", "application/octet-stream"));
    x->headers = h;
  }

  OTAP_GOTO_NOT_OK(rc, make_easy(s, x));
done:
  if (rc == ENOMEM) otap_error_set(err, ENOMEM, "%s: out of memory", s->url);
  if (rc == EINVAL) otap_error_set(err, EINVAL, "%s: request header too long", s->url);
  otap_buffer_reset(&url);
  otap_buffer_reset(&auth);
  otap_buffer_reset(&q);
  return rc;
}

static void reset_response(struct otap__http_xfer* x) {
  x->status = 0;
  x->received = 0;
  x->overflow = false;
  x->oom = false;
  x->size_changed = false;
  x->retry_after_ms = 0;
  x->body_pos = 0;
  x->content_length = -1;
  x->range_start = x->range_end = x->range_total = -1;
  x->request_id[0] = x->etag[0] = x->errbuf[0] = '\0';
  x->location[0] = x->range_header[0] = '\0';
  x->generation = -1;
  x->err_body.size = 0;
  if (x->out) x->out->size = x->out_start;
}

static bool curl_retryable(CURLcode c) {
  switch (c) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_GOT_NOTHING:
    case CURLE_WRITE_ERROR:  // our own overflow check
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
      return true;
    default:
      return false;
  }
}

// Checks a completed 2xx transfer: length and range consistency. Returns 0 or EIO with a
// message in x->fail_msg.
static int validate(struct otap__http_xfer* x) {
  if (x->overflow) {
    snprintf(x->fail_msg, sizeof(x->fail_msg),
             "reply longer than expected (over %lld bytes)", (long long)x->received);
    return EIO;
  }
  if (strcmp(x->method, "HEAD") == 0) return 0;
  if (x->content_length >= 0 && x->received != x->content_length) {
    snprintf(x->fail_msg, sizeof(x->fail_msg),
             "short body: %lld of %lld bytes (Content-Length)", (long long)x->received,
             (long long)x->content_length);
    return EIO;
  }
  if (!x->is_range) return 0;
  if (x->status == 206) {
    if (x->expect_total >= 0 && x->range_total != x->expect_total) {
      snprintf(x->fail_msg, sizeof(x->fail_msg),
               "object is %lld bytes now, %lld when opened (changed during the read?)",
               (long long)x->range_total, (long long)x->expect_total);
      x->size_changed = true;
      return EIO;
    }
    if (x->range_start != (int64_t)x->range_offset ||
        x->range_end != (int64_t)(x->range_offset + x->dst_len - 1)) {
      snprintf(x->fail_msg, sizeof(x->fail_msg),
               "Content-Range %lld-%lld does not match the requested bytes %llu-%llu",
               (long long)x->range_start, (long long)x->range_end,
               (unsigned long long)x->range_offset,
               (unsigned long long)(x->range_offset + x->dst_len - 1));
      return EIO;
    }
  } else if (x->range_offset != 0 || x->content_length != (int64_t)x->dst_len) {
    snprintf(x->fail_msg, sizeof(x->fail_msg),
             "HTTP %ld without Content-Range for a range request", x->status);
    return EIO;
  }
  if (x->received != (int64_t)x->dst_len) {
    snprintf(x->fail_msg, sizeof(x->fail_msg), "short range: %lld of %zu bytes",
             (long long)x->received, x->dst_len);
    return EIO;
  }
  return 0;
}

static int64_t backoff_ms(struct otap_store* s, int attempt) {
  int64_t d = s->retry_base_ms;
  for (int i = 1; i < attempt && d < s->retry_max_ms; i++) d *= 2;
  if (d > s->retry_max_ms) d = s->retry_max_ms;
  // Full jitter on the upper half: [d/2, d].
  if (d > 1) d = d / 2 + (int64_t)(otap__store_random(s) % (uint64_t)(d / 2 + 1));
  return d;
}

// Handles the end of one attempt. Returns true when the transfer is finished for good.
static bool finish_attempt(struct otap_store* s, struct otap__http_xfer* x, CURLcode cc) {
  long st = 0, connects = 0;
  curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &st);
  curl_easy_getinfo(x->easy, CURLINFO_NUM_CONNECTS, &connects);
  s->n_requests++;
  s->n_connects += connects;
  x->status = st;
  bool retry = false;
  x->fail_rc = 0;
  x->fail_msg[0] = '\0';
  if (x->oom) {
    x->fail_rc = ENOMEM;
    snprintf(x->fail_msg, sizeof(x->fail_msg), "out of memory receiving the reply");
  } else if (cc != CURLE_OK) {
    x->fail_rc = cc == CURLE_OPERATION_TIMEDOUT ? ETIMEDOUT : EIO;
    if (x->overflow) {
      validate(x);
    } else {
      int k = snprintf(x->fail_msg, sizeof(x->fail_msg), "%.200s (curl %d)",
                       x->errbuf[0] ? x->errbuf : curl_easy_strerror(cc), (int)cc);
      (void)k;
    }
    retry = curl_retryable(cc);
  } else if (otap__http_ok(x)) {
    x->fail_rc = validate(x);
    retry = x->fail_rc != 0 && !x->size_changed;
  } else {
    retry = status_retryable(st);
  }
  xfer_cleanup_attempt(x);
  if (retry && x->idempotent && x->attempt <= s->max_retries) {
    int64_t delay = backoff_ms(s, x->attempt);
    // Honour a server's Retry-After (throttling), within the configured cap.
    if (x->retry_after_ms > delay) {
      delay = x->retry_after_ms < s->retry_max_ms ? x->retry_after_ms : s->retry_max_ms;
    }
    x->not_before_ms = otap__now_ms() + delay;
    x->started = false;
    return false;
  }
  x->done = true;
  return true;
}

int otap__http_run(struct otap_store* s, struct otap__http_xfer* xs, size_t n,
                   const char* what, struct otap_error* err) {
  int rc = 0;
  size_t remaining = n;
  int in_flight = 0;
  for (size_t i = 0; i < n; i++) {
    xs[i].attempt = 0;
    xs[i].done = xs[i].started = false;
    xs[i].not_before_ms = 0;
    if (xs[i].out) xs[i].out_start = xs[i].out->size;
  }
  while (remaining > 0) {
    int64_t now = otap__now_ms();
    int64_t next_wake = -1;
    for (size_t i = 0; i < n && in_flight < s->max_parallel; i++) {
      struct otap__http_xfer* x = &xs[i];
      if (x->done || x->started) continue;
      if (x->not_before_ms > now) {
        if (next_wake < 0 || x->not_before_ms < next_wake) next_wake = x->not_before_ms;
        continue;
      }
      reset_response(x);
      x->attempt++;
      OTAP_GOTO_NOT_OK(rc, prepare(s, x, err));
      if (curl_multi_add_handle(s->multi, x->easy) != CURLM_OK) {
        rc = otap_error_set(err, EIO, "%s: curl_multi_add_handle failed", what);
        goto done;
      }
      x->started = true;
      x->last_activity_ms = otap__now_ms();
      in_flight++;
    }
    int running = 0;
    if (curl_multi_perform(s->multi, &running) != CURLM_OK) {
      rc = otap_error_set(err, EIO, "%s: curl_multi_perform failed", what);
      goto done;
    }
    CURLMsg* m;
    int left;
    while ((m = curl_multi_info_read(s->multi, &left)) != NULL) {
      if (m->msg != CURLMSG_DONE) continue;
      CURL* e = m->easy_handle;
      CURLcode cc = m->data.result;
      struct otap__http_xfer* x = NULL;
      for (size_t i = 0; i < n; i++) {
        if (xs[i].easy == e) x = &xs[i];
      }
      curl_multi_remove_handle(s->multi, e);
      in_flight--;
      if (!x) continue;
      if (finish_attempt(s, x, cc)) remaining--;
    }
    if (remaining == 0) break;
    // Stall detection: no byte in either direction for stall_timeout_ms (curl's own
    // low-speed check averages over several seconds, so it is only a backstop).
    now = otap__now_ms();
    for (size_t i = 0; i < n; i++) {
      struct otap__http_xfer* x = &xs[i];
      if (x->started && x->easy && now - x->last_activity_ms > s->stall_timeout_ms) {
        curl_multi_remove_handle(s->multi, x->easy);
        in_flight--;
        snprintf(x->errbuf, sizeof(x->errbuf), "no data for %ld ms (stalled)",
                 s->stall_timeout_ms);
        if (finish_attempt(s, x, CURLE_OPERATION_TIMEDOUT)) remaining--;
      }
    }
    if (remaining == 0) break;
    next_wake = -1;
    for (size_t i = 0; i < n; i++) {
      struct otap__http_xfer* x = &xs[i];
      if (!x->done && !x->started && (next_wake < 0 || x->not_before_ms < next_wake)) {
        next_wake = x->not_before_ms;
      }
    }
    int timeout = 100;
    if (next_wake >= 0 && in_flight < s->max_parallel) {
      int64_t d = next_wake - otap__now_ms();
      if (d < timeout) timeout = d < 0 ? 0 : (int)d;
    }
    if (in_flight > 0) {
      curl_multi_poll(s->multi, NULL, 0, timeout, NULL);
    } else if (timeout > 0) {
      struct timespec ts = {timeout / 1000, (long)(timeout % 1000) * 1000000L};
      nanosleep(&ts, NULL);
    }
  }
  for (size_t i = 0; i < n; i++) {
    if (xs[i].fail_rc) {
      return otap_error_set(err, xs[i].fail_rc, "%s: %s after %d %s", what,
                            xs[i].fail_msg, xs[i].attempt,
                            xs[i].attempt == 1 ? "try" : "tries");
    }
  }
  return 0;
done:
  for (size_t i = 0; i < n; i++) {
    if (xs[i].easy && xs[i].started) curl_multi_remove_handle(s->multi, xs[i].easy);
    xfer_cleanup_attempt(&xs[i]);
  }
  return rc;
}

int otap__http_status_error(struct otap_store* s, const struct otap__http_xfer* x,
                            const char* what, const char* key, struct otap_error* err) {
  char code[128], msg[512], rid[128];
  const char* body = (const char*)x->err_body.data;
  size_t blen = (size_t)x->err_body.size;
  size_t lead = 0;
  while (lead < blen && (body[lead] == ' ' || body[lead] == '\n' || body[lead] == '\r'))
    lead++;
  if ((s->gcs_json && blen) || (lead < blen && body[lead] == '{')) {
    otap__json_parse_error(body, blen, code, sizeof(code), msg, sizeof(msg));
    rid[0] = '\0';
  } else {
    otap__xml_parse_error(body, blen, code, sizeof(code), msg, sizeof(msg), rid,
                          sizeof(rid));
  }
  if (!rid[0]) snprintf(rid, sizeof(rid), "%s", x->request_id);
  int e;
  switch (x->status) {
    case 404:
      e = ENOENT;
      break;
    case 401:
    case 403:
      e = EACCES;
      break;
    case 400:
    case 409:
    case 412:
    case 416:
      e = EINVAL;
      break;
    default:
      e = EIO;
  }
  (void)key;
  // A pinned generation (GCS ifGenerationMatch) no longer current: the object was
  // replaced during the read.
  const char* changed = "";
  if (x->status == 412 && x->is_range && s->gcs_json) {
    e = EIO;
    changed = " (object changed during the read)";
  }
  return otap_error_set(err, e, "%s: HTTP %ld%s%s%s%s%s%s%s after %d %s", what, x->status,
                        changed, code[0] ? " " : "", code, msg[0] ? ": " : "", msg,
                        rid[0] ? ", request id " : "", rid, x->attempt,
                        x->attempt == 1 ? "try" : "tries");
}

int otap__http_simple(struct otap_store* s, const char* method, const char* key, const char* query,
                      const char* op,
                      int (*build_path)(struct otap_store* s, const char* key,
                                        struct otap_buffer* out),
                      struct otap__http_xfer* x, struct otap_buffer* path, char* what,
                      size_t what_cap, struct otap_error* err) {
  char name[OTAP_STORE_MAX_KEY + 512];
  otap__store_name(s, key, name, sizeof(name));
  snprintf(what, what_cap, "%s %s", op, name);
  if (build_path(s, key, path)) return otap_error_set(err, ENOMEM, "out of memory");
  x->method = method;
  x->path = (const char*)path->data;
  x->query = query;
  return otap__http_run(s, x, 1, what, err);
}
