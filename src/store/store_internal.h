// Private declarations of the store module (never installed).
#ifndef OTAP_STORE_INTERNAL_H
#define OTAP_STORE_INTERNAL_H

#include <curl/curl.h>

#include "otap/store.h"

// Caps on what the network can make us allocate.
#define OTAP_STORE_MAX_XML ((int64_t)16 << 20)  // one listing / error page
#define OTAP_STORE_MAX_ERROR_BODY ((int64_t)64 << 10)
#define OTAP_STORE_MAX_KEY 4096
#define OTAP_STORE_MAX_LIST ((size_t)50 << 20)  // keys in one listing

enum otap__store_kind {
  OTAP_STORE_LOCAL,
  OTAP_STORE_S3,
  OTAP_STORE_AZURE,
  OTAP_STORE_GCS
};

enum otap__store_auth {
  OTAP_AUTH_NONE,
  OTAP_AUTH_SIGV4,       // S3, GCS HMAC
  OTAP_AUTH_SHARED_KEY,  // Azure
  OTAP_AUTH_SAS,         // Azure
  OTAP_AUTH_BEARER,      // Azure AD, GCS OAuth
};

struct otap__upload;

// Backend operations; keys are full (store prefix already applied).
struct otap__store_ops {
  int (*list)(struct otap_store* s, const char* prefix, bool recursive,
              struct otap_store_list* out, struct otap_error* err);
  int (*head)(struct otap_store* s, const char* key, struct otap_store_object* out,
              struct otap_error* err);
  int (*get)(struct otap_store* s, const char* key, struct otap_buffer* out,
             struct otap_error* err);
  int (*get_ranges)(struct otap_store* s, const char* key, struct otap_store_range* r,
                    size_t n, struct otap_error* err);
  int (*open_sink)(struct otap_store* s, const char* key, struct otap_sink* out,
                   struct otap_error* err);
  int (*del)(struct otap_store* s, const char* key, struct otap_error* err);
  // HTTP backends: whole-object put and multipart (blocks) upload.
  int (*put)(struct otap_store* s, const char* key, const uint8_t* data, size_t len,
             struct otap_error* err);
  int (*mp_begin)(struct otap_store* s, struct otap__upload* up, struct otap_error* err);
  // Uploads `len` bytes as parts first_part, first_part+1, ... of part_size bytes each
  // (the last may be shorter), all in parallel.
  int (*mp_parts)(struct otap_store* s, struct otap__upload* up, int first_part,
                  const uint8_t* data, size_t len, size_t part_size,
                  struct otap_error* err);
  int (*mp_complete)(struct otap_store* s, struct otap__upload* up,
                     struct otap_error* err);
  void (*mp_abort)(struct otap_store* s, struct otap__upload* up);
};

struct otap__upload {
  char* key;
  char* upload_id;           // S3
  struct otap_buffer etags;  // S3: NUL-separated part ETags; Azure: block ids
  int parts;
  int64_t sent;  // GCS resumable: bytes accepted by the session so far
};

struct otap_store {
  const struct otap__store_ops* ops;
  enum otap__store_kind kind;
  enum otap__store_auth auth;
  char* url;     // display URL, no credentials
  char* prefix;  // key prefix inside the bucket/container/root ("" or ends with '/')
  // Local
  char* root;  // real path of the root directory
  // HTTP
  char* bucket;     // bucket or container
  char* base_url;   // scheme://host[:port][/account]  (path-style: bucket appended per
                    // request)
  char* host;       // Host header value as signed
  char* path_base;  // "" or "/account" (Azurite) prepended to request paths
  bool path_style;
  char* access_key_id;
  char* secret_access_key;
  char* session_token;
  char* region;
  char* account;  // Azure
  uint8_t azure_key[128];
  size_t azure_key_len;
  char* sas;  // Azure SAS without '?'
  char* bearer;
  char* ca_file;
  bool sign_payload;
  long connect_timeout_ms, stall_timeout_ms, request_timeout_ms;
  int max_retries;
  long retry_base_ms, retry_max_ms;
  int max_parallel;
  int64_t multipart_threshold, part_size;
  CURLM* multi;
  uint64_t rng;
  int list_page_size;    // max keys per listing request (0: service default); tests lower
                         // it
  int64_t expect_total;  // object size the next ranged reads must see (-1: unknown)
  int64_t n_requests;    // attempts made (statistics, for tests and benchmarks)
  int64_t n_connects;    // new connections opened by those attempts
  // GCS JSON API (store_gcs.c)
  bool gcs_json;
  int64_t expect_generation;  // generation the next ranged reads must see (-1: any)
  int64_t last_generation;    // generation seen by the last head (-1: unknown)
};

// ---------------------------------------------------------------------------------------------
// HTTP transfers (store_http.c)

struct otap__http_header {
  const char* name;  // lowercase
  const char* value;
};

struct otap__http_xfer {
  // Request (set by the caller; strings borrowed until the transfer ends).
  const char* method;
  const char* path;                   // encoded absolute path ("/bucket/key")
  const char* query;                  // encoded canonical query ("a=b&c=d") or NULL
  struct otap__http_header extra[4];  // extra signed headers (e.g. content-type)
  int n_extra;
  const uint8_t* body;
  size_t body_len;
  bool unsigned_payload;
  bool idempotent;
  // Destination: a fixed range (dst) or a growable buffer (out, appended).
  uint8_t* dst;
  size_t dst_len;
  bool is_range;
  uint64_t range_offset;
  struct otap_buffer* out;
  // Response.
  long status;
  char request_id[128];
  char etag[256];
  int64_t content_length;                       // -1 unknown
  int64_t range_start, range_end, range_total;  // from Content-Range, -1 unknown
  int64_t
      expect_total;   // object size the reply's Content-Range must carry (-1: unchecked)
  bool size_changed;  // it did not: the object changed (not retried)
  int64_t last_modified;
  char location[2048];    // Location header (GCS resumable session URI)
  char range_header[96];  // Range header of a reply (GCS 308 Resume Incomplete)
  int64_t generation;     // x-goog-generation (-1 if absent)
  int64_t retry_after_ms;  // from a Retry-After header (seconds), 0 if none
  int64_t received;
  struct otap_buffer err_body;
  // Internal.
  CURL* easy;
  struct curl_slist* headers;
  char* url;
  size_t body_pos;
  int64_t out_start;
  int attempt;
  int64_t not_before_ms;
  int64_t last_activity_ms;  // last byte sent or received (stall detection)
  bool started, done, overflow, oom;
  int fail_rc;  // final transport/validation failure (0 if an HTTP reply came)
  char fail_msg[256];
  char errbuf[CURL_ERROR_SIZE];
};

/// Resets a transfer to defaults (zero + content_length = -1 ...).
void otap__http_xfer_init(struct otap__http_xfer* x);
void otap__http_xfer_reset(struct otap__http_xfer* x);
/// Runs transfers, up to s->max_parallel at once, retrying retryable failures (connection
/// errors, timeouts, 5xx, 429, short bodies) of idempotent requests with backoff +
/// jitter. Returns 0 when every transfer got a final HTTP reply (check x->status), else
/// the error of the first transfer that failed for good; `what` names the operation for
/// messages.
int otap__http_run(struct otap_store* s, struct otap__http_xfer* xs, size_t n,
                   const char* what, struct otap_error* err);
/// One request on object `key`: builds its path with `build_path` into `path` (which the
/// caller resets), names the operation "OP store-name" into `what`, and runs it.
int otap__http_simple(struct otap_store* s, const char* method, const char* key, const char* query,
                      const char* op,
                      int (*build_path)(struct otap_store* s, const char* key,
                                        struct otap_buffer* out),
                      struct otap__http_xfer* x, struct otap_buffer* path, char* what,
                      size_t what_cap, struct otap_error* err);
/// Error for a non-2xx reply: parses the XML error body (Code, Message, RequestId) and
/// maps the status to an errno (404 ENOENT, 401/403 EACCES, 400/416 EINVAL, else EIO).
int otap__http_status_error(struct otap_store* s, const struct otap__http_xfer* x,
                            const char* what, const char* key, struct otap_error* err);
bool otap__http_ok(const struct otap__http_xfer* x);

// URI encoding (RFC 3986 unreserved kept); keep_slash leaves '/' as is.
int otap__uri_encode(struct otap_buffer* out, const char* s, size_t n, bool keep_slash);
int otap__uri_decode(struct otap_buffer* out, const char* s, size_t n);

// ---------------------------------------------------------------------------------------------
// Signing (store_sign.c)

struct otap__query_param {
  const char* key;    // raw (not encoded)
  const char* value;  // raw; NULL means "key" without '='
};

/// Builds the canonical (sorted, encoded) query string from raw parameters.
int otap__query_build(struct otap_buffer* out, const struct otap__query_param* p,
                      size_t n);

struct otap__sigv4_input {
  const char* method;
  const char* host;
  const char* canonical_uri;                // encoded path
  const char* canonical_query;              // from otap__query_build ("" if none)
  const struct otap__http_header* headers;  // extra headers to sign (lowercase names)
  int n_headers;
  const char* payload_hash;  // hex sha256 or "UNSIGNED-PAYLOAD"
  const char* amz_date;      // YYYYMMDDTHHMMSSZ
  const char* access_key_id;
  const char* secret_access_key;
  const char* session_token;  // NULL if none
  const char* region;
  const char* service;  // "s3"
};

/// Produces the Authorization header value (without "Authorization: ").
int otap__sigv4_authorization(const struct otap__sigv4_input* in, struct otap_buffer* out,
                              struct otap_error* err);
void otap__sha256_hex(const void* data, size_t len, char out[65]);
/// Formats t as YYYYMMDDTHHMMSSZ (amz) or RFC 1123 (http).
void otap__format_amz_date(int64_t t, char out[17]);
void otap__format_http_date(int64_t t, char out[64]);
int64_t otap__parse_http_date(const char* s);
int64_t otap__parse_iso8601(const char* s);
int otap__base64_decode(const char* s, uint8_t* out, size_t cap, size_t* out_len);
int otap__base64_encode(const uint8_t* in, size_t n, char* out, size_t cap);

/// Azure Shared Key signature over the request; returns the Authorization value.
int otap__azure_shared_key(const struct otap_store* s, const char* method,
                           const char* canonical_path, const char* query,
                           const struct otap__http_header* headers, int n_headers,
                           struct otap_buffer* out, struct otap_error* err);

// ---------------------------------------------------------------------------------------------
// XML (store_xml.c): a small bounded pull parser.

#define OTAP_XML_MAX_DEPTH 32
#define OTAP_XML_MAX_NAME 128
#define OTAP_XML_MAX_TEXT ((size_t)64 << 10)

/// Called at each element start (text == NULL) and end (text = its decoded character
/// data, NUL-terminated) with the slash-joined path of element names ("A/B/C"). Nonzero
/// stops.
typedef int (*otap__xml_cb)(void* ctx, const char* path, const char* text,
                            size_t text_len);

/// Parses `data`; EINVAL with the byte offset on malformed input, ENOTSUP for DOCTYPE.
int otap__xml_parse(const char* data, size_t len, otap__xml_cb cb, void* ctx,
                    struct otap_error* err);

/// Parsed listing page (S3 ListObjectsV2 or Azure List Blobs).
struct otap__list_page {
  struct otap_store_list* list;
  size_t cap;
  char* next_token;  // NextContinuationToken / NextMarker, NULL when done
  bool truncated;
  const char* strip;  // prefix removed from keys
  int rc;
  struct otap_error* err;
  // current entry
  char* cur_key;
  int64_t cur_size;
  int64_t cur_mtime;
};
int otap__xml_parse_s3_list(const char* data, size_t len, struct otap__list_page* page,
                            struct otap_error* err);
int otap__xml_parse_azure_list(const char* data, size_t len, struct otap__list_page* page,
                               struct otap_error* err);
/// Extracts Code / Message / RequestId from an S3/Azure/GCS error page (empty if absent).
void otap__xml_parse_error(const char* data, size_t len, char* code, size_t code_cap,
                           char* message, size_t message_cap, char* request_id,
                           size_t request_id_cap);
/// Finds the text of the first element with this path (e.g. "A/UploadId"); malloc'd copy.
int otap__xml_find(const char* data, size_t len, const char* path, char** out,
                   struct otap_error* err);
int otap__list_push(struct otap__list_page* page, const char* key, int64_t size,
                    int64_t mtime, bool is_prefix);

// ---------------------------------------------------------------------------------------------
// JSON (store_json.c): a small bounded pull parser for the GCS JSON API.

#define OTAP_JSON_MAX_DEPTH 32
#define OTAP_JSON_MAX_NAME 128
#define OTAP_JSON_MAX_TEXT ((size_t)64 << 10)

enum otap__json_event {
  OTAP_JSON_OBJECT_BEGIN,
  OTAP_JSON_OBJECT_END,
  OTAP_JSON_ARRAY_BEGIN,
  OTAP_JSON_ARRAY_END,
  OTAP_JSON_STRING,  // text: the decoded string (UTF-8, NUL-terminated)
  OTAP_JSON_NUMBER,  // text: the number as written
  OTAP_JSON_TRUE,
  OTAP_JSON_FALSE,
  OTAP_JSON_NULL,
};

/// Called for each value with the slash-joined path of member names, "[]" marking array
/// elements ("items[]/name"; "" is the root). text is NULL for begin/end events. Nonzero
/// stops the parse (which then returns 0; the callback keeps its own status).
typedef int (*otap__json_cb)(void* ctx, const char* path, enum otap__json_event ev,
                             const char* text, size_t text_len);

/// Parses one JSON value; EINVAL with the byte offset on malformed input (depth over 32,
/// strings over 64 KiB, member names over 128 bytes, trailing data).
int otap__json_parse(const char* data, size_t len, otap__json_cb cb, void* ctx,
                     struct otap_error* err);
/// GCS objects.list page: items[] (name, size, updated), prefixes[], nextPageToken.
int otap__json_parse_gcs_list(const char* data, size_t len, struct otap__list_page* page,
                              struct otap_error* err);

/// GCS object metadata (objects.get / upload replies).
struct otap__gcs_meta {
  int64_t size;        // -1 if absent
  int64_t generation;  // -1 if absent
  int64_t mtime;
  bool has_name;
};
int otap__json_parse_gcs_object(const char* data, size_t len, struct otap__gcs_meta* out,
                                struct otap_error* err);
/// Reason (error.errors[0].reason) and message of a GCS JSON error body (empty if absent).
void otap__json_parse_error(const char* data, size_t len, char* code, size_t code_cap,
                            char* message, size_t message_cap);

// ---------------------------------------------------------------------------------------------
// Backends

int otap__store_open_local(struct otap_store* s, const char* path,
                           struct otap_error* err);
/// Real path of an existing key inside the local root (EACCES if it escapes, ENOENT if
/// absent).
int otap__store_local_path(struct otap_store* s, const char* key, char* out, size_t cap,
                           struct otap_error* err);
int otap__store_init_s3(struct otap_store* s, const struct otap_store_options* o,
                        bool gcs, struct otap_error* err);
int otap__store_init_azure(struct otap_store* s, const struct otap_store_options* o,
                           const char* account_from_url, const char* endpoint_from_url,
                           struct otap_error* err);
/// Generic buffered upload sink for HTTP backends (put / multipart).
int otap__store_http_open_sink(struct otap_store* s, const char* key,
                               struct otap_sink* out, struct otap_error* err);
/// Creates the bucket/container (tests and `otap cp` to a fresh emulator).
int otap__store_create_bucket(struct otap_store* s, struct otap_error* err);
/// Shared helper: display name "URL-of-store/key" for messages.
void otap__store_name(const struct otap_store* s, const char* full_key, char* out,
                      size_t cap);
uint64_t otap__store_random(struct otap_store* s);
int64_t otap__now_ms(void);

extern const struct otap__store_ops otap__store_local_ops;
extern const struct otap__store_ops otap__store_s3_ops;
extern const struct otap__store_ops otap__store_azure_ops;
extern const struct otap__store_ops otap__store_gcs_ops;

/// GCS JSON API backend (store_gcs.c): `bearer` may be NULL (anonymous), `endpoint` NULL
/// for https://storage.googleapis.com.
int otap__store_init_gcs_json(struct otap_store* s, const struct otap_store_options* o,
                              const char* bearer, const char* endpoint,
                              struct otap_error* err);

#endif
