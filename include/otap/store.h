// otap/store.h: object stores (local directory, S3, Azure Blob, GCS) behind one
// interface.
//
// A store is opened from a URL and addresses objects by key relative to the URL's prefix.
// Operations: list (sorted, pagination inside), head, get, get_range, parallel ranged
// reads, put (streaming through a sink, multipart above a threshold), delete, and a
// random-access `struct otap_source` adapter for the Parquet reader. A store handle is
// used from one thread at a time; distinct handles are independent. Credentials never
// appear in error messages.
#ifndef OTAP_STORE_H
#define OTAP_STORE_H

#include "otap/common.h"

#ifdef __cplusplus
extern "C" {
#endif

struct otap_store;

/// Options for otap_store_open. Strings are borrowed for the duration of the call
/// (copied). NULL / 0 fields fall back to the environment (unless ignore_env) and then to
/// defaults.
struct otap_store_options {
  // S3 and GCS (XML API, HMAC keys). Environment: AWS_ACCESS_KEY_ID,
  // AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION (or AWS_DEFAULT_REGION),
  // AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL, else the AWS_PROFILE section of
  // ~/.aws/credentials and ~/.aws/config (AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE);
  // for gs://: GCS_HMAC_ACCESS_ID, GCS_HMAC_SECRET, GCS_ENDPOINT_URL.
  const char* access_key_id;
  const char* secret_access_key;
  const char* session_token;
  const char* region;    // default "us-east-1" (S3), "auto" (GCS)
  const char* endpoint;  // e.g. "http://127.0.0.1:9000"; implies path-style requests
  bool virtual_hosted;   // with a custom endpoint: BUCKET.HOST instead of path-style
  bool path_style;       // on AWS: s3.REGION.amazonaws.com/BUCKET instead of the default
                    // BUCKET.s3.REGION.amazonaws.com (always for dotted bucket names)
  bool sign_payload;  // hash upload bodies instead of UNSIGNED-PAYLOAD
  // Azure. Environment: AZURE_STORAGE_CONNECTION_STRING, AZURE_STORAGE_ACCOUNT,
  // AZURE_STORAGE_KEY, AZURE_STORAGE_SAS_TOKEN, AZURE_STORAGE_BEARER_TOKEN.
  const char* azure_connection_string;
  const char* azure_account;
  const char* azure_key;        // base64 account key (Shared Key)
  const char* azure_sas_token;  // query string, with or without leading '?'
  // Azure AD token (env AZURE_STORAGE_BEARER_TOKEN) or GCS OAuth access token (env
  // GOOGLE_OAUTH_ACCESS_TOKEN; for gs:// without HMAC keys it selects the JSON API).
  const char* bearer_token;
  // HTTP behaviour. Default endpoints are https; an http:// endpoint (options,
  // environment or connection string) is used as written: the URL says so.
  const char* ca_file;      // custom CA bundle; TLS verification is always on
  long connect_timeout_ms;  // default 10000
  long
      stall_timeout_ms;  // abort an attempt after this long without a byte; default 30000
  long request_timeout_ms;  // whole request; default 0 (none beyond the stall timeout)
  int max_retries;          // retries of idempotent requests; default 5 (negative: none)
  long retry_base_ms;       // first backoff (doubles each try, with jitter); default 100
  long retry_max_ms;        // backoff cap; default 5000
  int max_parallel;         // ranged GETs in flight; default 8
  int64_t multipart_threshold;  // uploads above this use multipart/blocks; default 16 MiB
  int64_t part_size;            // part / block size; default 8 MiB (S3 minimum 5 MiB)
  bool ignore_env;              // do not read any environment variable
  // GCS API: "json" (JSON API, OAuth bearer token) or "xml" (S3-compatible XML API). NULL:
  // the JSON API when a bearer token is configured and HMAC keys are not, else XML.
  const char* gcs_api;
};

/// Fills `opts` with defaults (zeroes plus the documented defaults).
OTAP_API void otap_store_options_init(struct otap_store_options* opts);

/// Opens a store from a URL: a plain path or file:///path (local directory),
/// s3://bucket/prefix, az://container/prefix,
/// https://ACCOUNT.blob.core.windows.net/container/prefix, gs://bucket/prefix. `opts` may
/// be NULL (defaults + environment). The handle is freed with otap_store_free. EINVAL bad
/// URL, ENOTSUP unknown scheme, ENOENT missing local root.
OTAP_API int otap_store_open(struct otap_store** out, const char* url,
                             const struct otap_store_options* opts,
                             struct otap_error* err) OTAP_WUR;
/// Frees the store; NULL is allowed.
OTAP_API void otap_store_free(struct otap_store* store);
/// The store's URL (credentials never included). Borrowed.
OTAP_API const char* otap_store_url(const struct otap_store* store);

/// One object (or, from a non-recursive list, a common prefix ending in '/').
struct otap_store_object {
  char* key;       // relative to the store's prefix; owned
  int64_t size;    // bytes; -1 for prefixes
  int64_t mtime;   // seconds since the epoch, 0 if unknown
  bool is_prefix;  // a "directory" from a non-recursive listing
};

struct otap_store_list {
  struct otap_store_object* items;  // owned, sorted by key (byte order)
  size_t count;
};

/// Lists keys starting with `prefix` (may be "" or NULL). Recursive: every object below;
/// otherwise objects directly under the prefix plus common prefixes ("dir/", is_prefix
/// set). Pagination is followed inside. `out` must be zeroed or reset; free with
/// otap_store_list_reset.
OTAP_API int otap_store_list(struct otap_store* store, const char* prefix, bool recursive,
                             struct otap_store_list* out,
                             struct otap_error* err) OTAP_WUR;
OTAP_API void otap_store_list_reset(struct otap_store_list* list);

/// Size and mtime of one object (out->key is set to a copy of key; free with
/// otap_store_object_reset). ENOENT when it does not exist.
OTAP_API int otap_store_head(struct otap_store* store, const char* key,
                             struct otap_store_object* out,
                             struct otap_error* err) OTAP_WUR;
OTAP_API void otap_store_object_reset(struct otap_store_object* obj);

/// Appends the whole object to `out`. ENOENT when missing. Over HTTP: a HEAD, then ranged GETs
/// whose Content-Range must carry that size (8 MiB pieces in parallel above 16 MiB).
OTAP_API int otap_store_get(struct otap_store* store, const char* key,
                            struct otap_buffer* out, struct otap_error* err) OTAP_WUR;

/// Reads exactly `length` bytes at `offset` into `buf` (EIO on a short or inconsistent
/// reply, EINVAL when the range is past the end).
OTAP_API int otap_store_get_range(struct otap_store* store, const char* key,
                                  uint64_t offset, size_t length, void* buf,
                                  struct otap_error* err) OTAP_WUR;

/// One range of a parallel read.
struct otap_store_range {
  uint64_t offset;
  size_t length;
  void* buf;  // caller-owned destination of `length` bytes
};

/// Reads `n` ranges of one object, up to opts.max_parallel in flight over reused
/// connections. Either every range is filled or the call fails.
OTAP_API int otap_store_get_ranges(struct otap_store* store, const char* key,
                                   struct otap_store_range* ranges, size_t n,
                                   struct otap_error* err) OTAP_WUR;

/// Writes `data` as the whole object `key` (multipart/blocks above the threshold).
OTAP_API int otap_store_put(struct otap_store* store, const char* key, const void* data,
                            size_t len, struct otap_error* err) OTAP_WUR;

/// Opens a streaming upload of `key` as a sink: bytes are buffered up to the multipart
/// threshold, then sent part by part. finish() completes the object (atomically visible);
/// release() without a successful finish aborts it (multipart uploads are aborted). The
/// store must outlive the sink.
OTAP_API int otap_store_open_sink(struct otap_store* store, const char* key,
                                  struct otap_sink* out, struct otap_error* err) OTAP_WUR;

/// Deletes `key`. Deleting a missing key succeeds (as S3 and the local store do).
OTAP_API int otap_store_delete(struct otap_store* store, const char* key,
                               struct otap_error* err) OTAP_WUR;

/// Opens `key` as a random-access source (one HEAD for the size; read_at issues ranged
/// GETs, with a small read-ahead buffer for sequential footers). The store must outlive
/// the source.
OTAP_API int otap_store_open_source(struct otap_store* store, const char* key,
                                    struct otap_source* out,
                                    struct otap_error* err) OTAP_WUR;

/// As otap_store_open_source, with the size already known (e.g. from otap_store_list), so
/// no HEAD request is made. A wrong size makes reads past the real end fail with
/// EIO/EINVAL.
OTAP_API int otap_store_open_source_sized(struct otap_store* store, const char* key,
                                          uint64_t size, struct otap_source* out,
                                          struct otap_error* err) OTAP_WUR;

/// Reads several ranges from any source: in parallel when `src` came from
/// otap_store_open_source, else one read_at after another.
OTAP_API int otap_store_source_read_ranges(struct otap_source* src,
                                           struct otap_store_range* ranges, size_t n,
                                           struct otap_error* err) OTAP_WUR;

#ifdef __cplusplus
}
#endif

#endif  // OTAP_STORE_H
