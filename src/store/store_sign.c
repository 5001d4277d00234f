// Request signing: AWS Signature Version 4 (S3, GCS HMAC) and Azure Shared Key, plus the
// URI encoding, dates and base64 they need. Written from the AWS SigV4 and Azure Storage
// REST documentation; keys and signatures never leave these functions except as the
// header value.
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "store/store_internal.h"

static const char kHex[] = "0123456789abcdef";

static void to_hex(const uint8_t* in, size_t n, char* out) {
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = kHex[in[i] >> 4];
    out[2 * i + 1] = kHex[in[i] & 15];
  }
  out[2 * n] = '\0';
}

void otap__sha256_hex(const void* data, size_t len, char out[65]) {
  uint8_t md[SHA256_DIGEST_LENGTH];
  SHA256(data, len, md);
  to_hex(md, sizeof(md), out);
}

static int hmac(const void* key, size_t key_len, const void* msg, size_t msg_len,
                uint8_t out[32]) {
  unsigned int n = 32;
  return HMAC(EVP_sha256(), key, (int)key_len, msg, msg_len, out, &n) ? 0 : EIO;
}

static bool unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         c == '-' || c == '_' || c == '.' || c == '~';
}

int otap__uri_encode(struct otap_buffer* out, const char* s, size_t n, bool keep_slash) {
  OTAP_RETURN_NOT_OK(otap_buffer_reserve(out, (int64_t)n * 3 + 1));
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (unreserved(c) || (keep_slash && c == '/')) {
      out->data[out->size++] = c;
    } else {
      out->data[out->size++] = '%';
      out->data[out->size++] = (uint8_t) "0123456789ABCDEF"[c >> 4];
      out->data[out->size++] = (uint8_t) "0123456789ABCDEF"[c & 15];
    }
  }
  out->data[out->size] = '\0';
  return 0;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

int otap__uri_decode(struct otap_buffer* out, const char* s, size_t n) {
  OTAP_RETURN_NOT_OK(otap_buffer_reserve(out, (int64_t)n + 1));
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '%' && i + 2 < n + 0 && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
      out->data[out->size++] = (uint8_t)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
      i += 2;
    } else if (s[i] == '+') {
      out->data[out->size++] = ' ';
    } else {
      out->data[out->size++] = (uint8_t)s[i];
    }
  }
  out->data[out->size] = '\0';
  return 0;
}

struct enc_param {
  struct otap_buffer k, v;
  bool has_value;
};

static int cmp_param(const void* a, const void* b) {
  const struct enc_param* x = a;
  const struct enc_param* y = b;
  int c = strcmp((const char*)x->k.data, (const char*)y->k.data);
  if (c) return c;
  return strcmp(x->has_value ? (const char*)x->v.data : "",
                y->has_value ? (const char*)y->v.data : "");
}

int otap__query_build(struct otap_buffer* out, const struct otap__query_param* p,
                      size_t n) {
  int rc = 0;
  struct enc_param* e = otap_calloc(n ? n : 1, sizeof(*e));
  if (!e) return ENOMEM;
  for (size_t i = 0; i < n; i++) {
    OTAP_GOTO_NOT_OK(rc, otap__uri_encode(&e[i].k, p[i].key, strlen(p[i].key), false));
    const char* v = p[i].value ? p[i].value : "";
    e[i].has_value = true;
    OTAP_GOTO_NOT_OK(rc, otap__uri_encode(&e[i].v, v, strlen(v), false));
  }
  qsort(e, n, sizeof(*e), cmp_param);
  OTAP_GOTO_NOT_OK(rc, otap_buffer_reserve(out, 1));
  out->data[out->size] = '\0';
  for (size_t i = 0; i < n; i++) {
    OTAP_GOTO_NOT_OK(
        rc, otap_buffer_appendf(out, "%s%s=%s", i ? "&" : "", (const char*)e[i].k.data,
                                (const char*)e[i].v.data));
  }
done:
  for (size_t i = 0; i < n; i++) {
    otap_buffer_reset(&e[i].k);
    otap_buffer_reset(&e[i].v);
  }
  otap_free(e);
  return rc;
}

// ---------------------------------------------------------------------------------------------
// SigV4

static int cmp_header(const void* a, const void* b) {
  return strcmp(((const struct otap__http_header*)a)->name,
                ((const struct otap__http_header*)b)->name);
}

// Trims leading/trailing spaces and collapses inner runs (SigV4 canonical header values).
static int append_trimmed(struct otap_buffer* b, const char* v) {
  while (*v == ' ' || *v == '\t') v++;
  size_t n = strlen(v);
  while (n && (v[n - 1] == ' ' || v[n - 1] == '\t')) n--;
  bool space = false;
  for (size_t i = 0; i < n; i++) {
    if (v[i] == ' ' || v[i] == '\t') {
      space = true;
      continue;
    }
    if (space) OTAP_RETURN_NOT_OK(otap_buffer_append(b, " ", 1));
    space = false;
    OTAP_RETURN_NOT_OK(otap_buffer_append(b, &v[i], 1));
  }
  return 0;
}

int otap__sigv4_authorization(const struct otap__sigv4_input* in, struct otap_buffer* out,
                              struct otap_error* err) {
  int rc = 0;
  struct otap_buffer creq, sts;
  otap_buffer_init(&creq);
  otap_buffer_init(&sts);
  struct otap__http_header hs[16];
  int nh = 0;
  if (in->n_headers > 12) return otap_error_set(err, EINVAL, "SigV4: too many headers");
  hs[nh++] = (struct otap__http_header){"host", in->host};
  hs[nh++] = (struct otap__http_header){"x-amz-content-sha256", in->payload_hash};
  hs[nh++] = (struct otap__http_header){"x-amz-date", in->amz_date};
  if (in->session_token && *in->session_token) {
    hs[nh++] = (struct otap__http_header){"x-amz-security-token", in->session_token};
  }
  for (int i = 0; i < in->n_headers; i++) hs[nh++] = in->headers[i];
  qsort(hs, (size_t)nh, sizeof(hs[0]), cmp_header);

  char date[9];
  memcpy(date, in->amz_date, 8);
  date[8] = '\0';
  OTAP_GOTO_NOT_OK(
      rc, otap_buffer_appendf(&creq, "%s\n%s\n%s\n", in->method, in->canonical_uri,
                              in->canonical_query ? in->canonical_query : ""));
  for (int i = 0; i < nh; i++) {
    OTAP_GOTO_NOT_OK(rc, otap_buffer_appendf(&creq, "%s:", hs[i].name));
    OTAP_GOTO_NOT_OK(rc, append_trimmed(&creq, hs[i].value));
    OTAP_GOTO_NOT_OK(rc, otap_buffer_append(&creq, "\n", 1));
  }
  OTAP_GOTO_NOT_OK(rc, otap_buffer_append(&creq, "\n", 1));
  for (int i = 0; i < nh; i++) {
    OTAP_GOTO_NOT_OK(rc, otap_buffer_appendf(&creq, "%s%s", i ? ";" : "", hs[i].name));
  }
  OTAP_GOTO_NOT_OK(rc, otap_buffer_appendf(&creq, "\n%s", in->payload_hash));

  char creq_hash[65];
  otap__sha256_hex(creq.data, (size_t)creq.size, creq_hash);
  OTAP_GOTO_NOT_OK(
      rc, otap_buffer_appendf(&sts, "AWS4-HMAC-SHA256\n%s\n%s/%s/%s/aws4_request\n%s",
                              in->amz_date, date, in->region, in->service, creq_hash));
  uint8_t k[32];
  char secret[256];
  int sn = snprintf(secret, sizeof(secret), "AWS4%s", in->secret_access_key);
  if (sn < 0 || (size_t)sn >= sizeof(secret)) {
    rc = otap_error_set(err, EINVAL, "SigV4: secret access key too long");
    goto done;
  }
  rc = hmac(secret, (size_t)sn, date, 8, k);
  if (!rc) rc = hmac(k, 32, in->region, strlen(in->region), k);
  if (!rc) rc = hmac(k, 32, in->service, strlen(in->service), k);
  if (!rc) rc = hmac(k, 32, "aws4_request", 12, k);
  if (!rc) rc = hmac(k, 32, sts.data, (size_t)sts.size, k);
  memset(secret, 0, sizeof(secret));
  if (rc) {
    rc = otap_error_set(err, EIO, "SigV4: HMAC failed");
    goto done;
  }
  char sig[65];
  to_hex(k, 32, sig);
  OTAP_GOTO_NOT_OK(
      rc, otap_buffer_appendf(
              out, "AWS4-HMAC-SHA256 Credential=%s/%s/%s/%s/aws4_request, SignedHeaders=",
              in->access_key_id, date, in->region, in->service));
  for (int i = 0; i < nh; i++) {
    OTAP_GOTO_NOT_OK(rc, otap_buffer_appendf(out, "%s%s", i ? ";" : "", hs[i].name));
  }
  OTAP_GOTO_NOT_OK(rc, otap_buffer_appendf(out, ", Signature=%s", sig));
done:
  if (rc == ENOMEM) otap_error_set(err, ENOMEM, "SigV4: out of memory");
  otap_buffer_reset(&creq);
  otap_buffer_reset(&sts);
  return rc;
}

// ---------------------------------------------------------------------------------------------
// Dates

void otap__format_amz_date(int64_t t, char out[17]) {
  time_t tt = (time_t)t;
  struct tm tm;
  gmtime_r(&tt, &tm);
  strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

static const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

void otap__format_http_date(int64_t t, char out[64]) {
  time_t tt = (time_t)t;
  struct tm tm;
  gmtime_r(&tt, &tm);
  snprintf(out, 64, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday % 7],
           tm.tm_mday, kMonths[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
           tm.tm_sec);
}

static int64_t days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

static int64_t to_epoch(int y, int mo, int d, int h, int mi, int s) {
  if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
      s > 60 || h < 0 || mi < 0 || s < 0) {
    return 0;
  }
  return days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
}

int64_t otap__parse_iso8601(const char* s) {
  int y, mo, d, h, mi, sec;
  if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &sec) != 6) return 0;
  return to_epoch(y, mo, d, h, mi, sec);
}

int64_t otap__parse_http_date(const char* s) {
  char mon[4] = {0};
  int y, d, h, mi, sec;
  const char* comma = strchr(s, ',');
  if (comma) s = comma + 1;
  if (sscanf(s, " %2d %3s %4d %2d:%2d:%2d", &d, mon, &y, &h, &mi, &sec) != 6) return 0;
  for (int m = 0; m < 12; m++) {
    if (strcasecmp(mon, kMonths[m]) == 0) return to_epoch(y, m + 1, d, h, mi, sec);
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Base64

int otap__base64_decode(const char* s, uint8_t* out, size_t cap, size_t* out_len) {
  size_t n = strlen(s);
  if (n % 4 || n / 4 * 3 > cap + 2) return EINVAL;
  int len = EVP_DecodeBlock(out, (const unsigned char*)s, (int)n);
  if (len < 0) return EINVAL;
  size_t l = (size_t)len;
  if (n >= 1 && s[n - 1] == '=') l--;
  if (n >= 2 && s[n - 2] == '=') l--;
  if (l > cap) return EINVAL;
  *out_len = l;
  return 0;
}

int otap__base64_encode(const uint8_t* in, size_t n, char* out, size_t cap) {
  if ((n + 2) / 3 * 4 + 1 > cap) return EINVAL;
  EVP_EncodeBlock((unsigned char*)out, in, (int)n);
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Azure Shared Key

static const char* header_value(const struct otap__http_header* h, int n,
                                const char* name) {
  for (int i = 0; i < n; i++) {
    if (strcmp(h[i].name, name) == 0) return h[i].value;
  }
  return "";
}

struct az_q {
  char* k;
  char* v;
};

static int cmp_azq(const void* a, const void* b) {
  return strcmp(((const struct az_q*)a)->k, ((const struct az_q*)b)->k);
}

int otap__azure_shared_key(const struct otap_store* s, const char* method,
                           const char* canonical_path, const char* query,
                           const struct otap__http_header* headers, int n_headers,
                           struct otap_buffer* out, struct otap_error* err) {
  int rc = 0;
  struct otap_buffer sts, tmp;
  otap_buffer_init(&sts);
  otap_buffer_init(&tmp);
  struct az_q q[16];
  size_t nq = 0;
  struct otap__http_header xms[16];
  int nx = 0;
  const char* clen = header_value(headers, n_headers, "content-length");
  if (strcmp(clen, "0") == 0) clen = "";
  OTAP_GOTO_NOT_OK(
      rc, otap_buffer_appendf(&sts, "%s\n\n\n%s\n\n%s\n\n\n\n\n\n%s\n", method, clen,
                              header_value(headers, n_headers, "content-type"),
                              header_value(headers, n_headers, "range")));
  for (int i = 0; i < n_headers && nx < 16; i++) {
    if (strncmp(headers[i].name, "x-ms-", 5) == 0) xms[nx++] = headers[i];
  }
  qsort(xms, (size_t)nx, sizeof(xms[0]), cmp_header);
  for (int i = 0; i < nx; i++) {
    OTAP_GOTO_NOT_OK(rc, otap_buffer_appendf(&sts, "%s:%s\n", xms[i].name, xms[i].value));
  }
  OTAP_GOTO_NOT_OK(rc, otap_buffer_appendf(&sts, "/%s%s", s->account, canonical_path));
  // Query parameters: decoded, names lowercased, sorted.
  const char* p = query ? query : "";
  while (*p && nq < 16) {
    const char* amp = strchr(p, '&');
    size_t len = amp ? (size_t)(amp - p) : strlen(p);
    const char* eq = memchr(p, '=', len);
    size_t kl = eq ? (size_t)(eq - p) : len;
    tmp.size = 0;
    OTAP_GOTO_NOT_OK(rc, otap__uri_decode(&tmp, p, kl));
    q[nq].k = otap_strdup((const char*)tmp.data);
    tmp.size = 0;
    OTAP_GOTO_NOT_OK(rc, otap__uri_decode(&tmp, eq ? eq + 1 : "", eq ? len - kl - 1 : 0));
    q[nq].v = otap_strdup((const char*)tmp.data);
    nq++;
    if (!q[nq - 1].k || !q[nq - 1].v) {
      rc = ENOMEM;
      goto done;
    }
    for (char* c = q[nq - 1].k; *c; c++) {
      if (*c >= 'A' && *c <= 'Z') *c = (char)(*c - 'A' + 'a');
    }
    p += len;
    if (*p == '&') p++;
  }
  qsort(q, nq, sizeof(q[0]), cmp_azq);
  for (size_t i = 0; i < nq; i++) {
    OTAP_GOTO_NOT_OK(rc, otap_buffer_appendf(&sts, "\n%s:%s", q[i].k, q[i].v));
  }
  uint8_t mac[32];
  if (hmac(s->azure_key, s->azure_key_len, sts.data, (size_t)sts.size, mac) != 0) {
    rc = otap_error_set(err, EIO, "Azure Shared Key: HMAC failed");
    goto done;
  }
  char b64[64];
  OTAP_GOTO_NOT_OK(rc, otap__base64_encode(mac, 32, b64, sizeof(b64)));
  OTAP_GOTO_NOT_OK(rc, otap_buffer_appendf(out, "SharedKey %s:%s", s->account, b64));
done:
  if (rc == ENOMEM) otap_error_set(err, ENOMEM, "Azure Shared Key: out of memory");
  for (size_t i = 0; i < nq; i++) {
    otap_free(q[i].k);
    otap_free(q[i].v);
  }
  otap_buffer_reset(&sts);
  otap_buffer_reset(&tmp);
  return rc;
}
