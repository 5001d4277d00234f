// otap/batch.h: the OTAP logs batching engine.
//
// Takes J >= 1 logs payloads and returns K payloads where K-1 hold exactly `max_items` log
// records and the last one the rest: every input row is consumed in one call. Rows can be
// reordered by a stable multi-key sort (resource, scope, trace_id, ...), resources and scopes
// are deduplicated by content, ids are reindexed densely per output, schemas are unified and
// dictionaries re-chosen per output column. Inputs are not modified (transport-encoded ids are
// decoded on private copies). Outputs own their arrays (free with otap_logs_payloads_free).
// Threading: no global state; distinct calls may run on distinct threads.
#ifndef OTAP_BATCH_H
#define OTAP_BATCH_H

#include "otap/common.h"
#include "otap/logs.h"

#ifdef __cplusplus
extern "C" {
#endif

/// Sortable dimensions of a log record.
enum otap_batch_key {
  OTAP_BATCH_KEY_RESOURCE = 0,  // resource rank (first appearance of the distinct resource)
  OTAP_BATCH_KEY_SCOPE,         // scope rank (first appearance of the distinct scope)
  OTAP_BATCH_KEY_TRACE_ID,      // 16 bytes, unsigned lexicographic; null sorts as all zeros
  OTAP_BATCH_KEY_SPAN_ID,       // 8 bytes, as trace_id
  OTAP_BATCH_KEY_EVENT_NAME,    // byte-wise lexicographic; null first
  OTAP_BATCH_KEY_SEVERITY_NUMBER,
  OTAP_BATCH_KEY_TIME_UNIX_NANO,
  OTAP_BATCH_KEY_OBSERVED_TIME_UNIX_NANO,
  OTAP_BATCH_KEY_COUNT_,
};

struct otap_batch_sort_key {
  enum otap_batch_key key;
  bool descending;  // nulls (smallest) come last when descending
};

enum otap_batch_strategy {
  /// CONCAT when there are no sort keys, SORT otherwise.
  OTAP_BATCH_STRATEGY_AUTO = 0,
  /// In-order concatenation: each output is assembled from slices of the inputs it covers;
  /// no combined table, no sort. Only valid without sort keys (EINVAL otherwise).
  OTAP_BATCH_STRATEGY_CONCAT = 1,
  /// Sort-then-split: fixed-width sort keys over all rows, stable LSD radix sort of row
  /// numbers, then each output gathered (take) from the combined table. Without sort keys the
  /// order is the input order.
  OTAP_BATCH_STRATEGY_SORT = 2,
};

#define OTAP_BATCH_MAX_SORT_KEYS 8
#define OTAP_BATCH_MAX_ITEMS 65536

struct otap_batch_options {
  /// Log records per output (1..65536). Default 8192.
  int64_t max_items;
  /// Ordered sort keys (stable); n_sort_keys = 0 keeps the input order. A key may appear once.
  int32_t n_sort_keys;
  struct otap_batch_sort_key sort_keys[OTAP_BATCH_MAX_SORT_KEYS];
  /// Merge resources (typed attribute set, schema_url, dropped count) and scopes (name,
  /// version, typed attribute set, dropped count) with equal content. Default true.
  bool dedup;
  enum otap_batch_strategy strategy;  // default AUTO
  /// Dictionary values of an output column. Default false (adaptive): values are looked up so
  /// that each is held once, until the column has more than 256 distinct values (u16 keys are
  /// then needed whatever follows) and fewer than 1 in 8 of at least 512 lookups found a value
  /// already held; the rest of that output's values are then appended without lookup, so a
  /// value may appear twice in a u16 dictionary of mostly distinct values (bodies, trace ids).
  /// true: every value is looked up and held once. The key width follows the exact distinct
  /// count either way (u8 up to 256, u16 up to 65,536, else native).
  bool exact_dictionaries;
};
OTAP_API void otap_batch_options_init(struct otap_batch_options* o);

/// What a call did; all counts are exact. Attribute rows that no log record references
/// (orphans) are not copied to any output and are counted here.
struct otap_batch_stats {
  int64_t inputs;              // payloads given
  int64_t empty_inputs;        // inputs without LOGS rows (their attribute rows are orphans)
  int64_t input_records;       // LOGS rows in
  int64_t output_records;      // LOGS rows out (== input_records)
  int64_t outputs;             // K
  int64_t input_resources;     // distinct (input, resource id) pairs referenced
  int64_t output_resources;    // resource rows summed over outputs (distinct per output)
  int64_t input_scopes;
  int64_t output_scopes;
  int64_t orphan_log_attrs;    // LOG_ATTRS rows whose parent_id matches no LOGS.id
  int64_t orphan_resource_attrs;
  int64_t orphan_scope_attrs;
  int64_t decoded_inputs;      // inputs whose ids were transport-encoded and got decoded
};

/// Parses "resource,scope,trace_id:desc" into o->sort_keys / o->n_sort_keys ("" or "none":
/// no keys). Key names: resource, scope, trace_id, span_id, event_name, severity_number,
/// time_unix_nano, observed_time_unix_nano; suffix ":asc" or ":desc". EINVAL for unknown or
/// repeated keys.
OTAP_API int otap_batch_parse_sort(const char* spec, struct otap_batch_options* o,
                                   struct otap_error* err) OTAP_WUR;
/// Writes the sort policy as text ("resource,scope,trace_id:desc", "none") into buf (n bytes,
/// NUL-terminated, truncated). This text is also stored in each output LOGS schema metadata
/// under the key "otap.batch.sort".
OTAP_API void otap_batch_format_sort(const struct otap_batch_options* o, char* buf, size_t n);
/// "resource", "trace_id", ... (borrowed, static); NULL for an unknown key.
OTAP_API const char* otap_batch_key_name(enum otap_batch_key k);

/// Batches `n_in` logs payloads. On success *out (otap_malloc'd array, free with
/// otap_logs_payloads_free) holds *n_out payloads: all but the last hold exactly max_items log
/// records, none is empty (0 inputs records -> *n_out = 0). Each output has plain, dense ids
/// (LOGS.id 0.. in row order, null kept for records without attributes; resource/scope ids
/// 0.. in order of first use), attribute rows sorted by parent_id, id fields marked
/// `encoding=plain`, and passes otap_logs_validate. stats may be NULL.
/// Errors: EINVAL for invalid options, invalid inputs (spec validation, with the input index),
/// duplicate LOGS.id values in one input, and columns whose types conflict between inputs
/// (naming table, column and input); ENOMEM. Nothing is returned on failure.
OTAP_API int otap_batch_logs(const struct otap_logs_payload* in, int64_t n_in,
                             const struct otap_batch_options* options,
                             struct otap_logs_payload** out, int64_t* n_out,
                             struct otap_batch_stats* stats, struct otap_error* err) OTAP_WUR;

#ifdef __cplusplus
}
#endif

#endif  // OTAP_BATCH_H
