// Fuzz target: the batcher on whatever the OTAP records reader accepts. The input is a records
// file; the batch options are derived from its size (so the records corpus is a valid seed
// set). Every accepted call must give outputs that pass spec validation with plain ids and
// resolving references and are equivalent to the inputs.
#include <stdint.h>
#include <string.h>

#include "otap/batch.h"
#include "otap/logs.h"

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  struct otap_error err;
  struct otap_records_reader* r = NULL;
  if (otap_records_reader_open_memory(&r, data, (int64_t)size, "fuzz", NULL, &err) != 0) return 0;
  struct otap_logs_payload in[8];
  int n = 0;
  for (; n < 8; n++) {
    otap_logs_payload_init(&in[n]);
    bool eof = false;
    if (otap_records_reader_next(r, &in[n], &eof, &err) != 0 || eof) break;
  }
  otap_records_reader_free(r);
  static const char* const kSorts[6] = {"",
                                        "resource,scope",
                                        "resource,scope,trace_id",
                                        "severity_number:desc,trace_id",
                                        "event_name,time_unix_nano:desc",
                                        "scope,span_id,observed_time_unix_nano"};
  struct otap_batch_options o;
  otap_batch_options_init(&o);
  o.max_items = 1 + (int64_t)(size % 97) * 7;
  o.dedup = (size & 1) == 0;
  o.exact_dictionaries = (size / 582) % 2 == 1;
  if (otap_batch_parse_sort(kSorts[(size / 97) % 6], &o, &err) != 0) __builtin_trap();
  struct otap_logs_payload* out = NULL;
  int64_t n_out = 0;
  if (otap_batch_logs(in, n, &o, &out, &n_out, NULL, &err) == 0) {
    struct otap_logs_validate_options vo;
    otap_logs_validate_options_init(&vo);
    vo.require_plain_ids = true;
    vo.check_references = true;
    for (int64_t k = 0; k < n_out; k++) {
      if (otap_logs_validate(&out[k], &vo, &err) != 0) __builtin_trap();
    }
    bool equal = false;
    if (otap_logs_equiv(in, n, out, n_out, NULL, &equal, NULL, &err) == 0 && !equal) {
      __builtin_trap();
    }
    otap_logs_payloads_free(out, n_out);
  }
  for (int i = 0; i <= n && i < 8; i++) otap_logs_payload_reset(&in[i]);
  return 0;
}
