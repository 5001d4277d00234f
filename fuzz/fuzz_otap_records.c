// Fuzz target: OTAP records files (varint-delimited BatchArrowRecords, the Arrow IPC streams
// inside them, logs validation, id decoding, canonical rendering and equivalence).
#include <stdint.h>
#include <string.h>

#include "otap/logs.h"

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  struct otap_error err;
  // The protobuf message codec alone.
  struct otap_bar_msg msg;
  if (otap_bar_decode(data, (int64_t)size, 0, &msg, &err) == 0) {
    struct otap_buffer b;
    otap_buffer_init(&b);
    if (otap_bar_encode(&msg, &b) == 0) {
      struct otap_bar_msg again;
      if (otap_bar_decode(b.data, b.size, 0, &again, &err) == 0) otap_bar_reset(&again);
    }
    otap_buffer_reset(&b);
    otap_bar_reset(&msg);
  }
  (void)otap_records_sniff(data, (int64_t)size);
  // The whole file reader, then everything downstream on what it accepted.
  struct otap_records_reader* r = NULL;
  if (otap_records_reader_open_memory(&r, data, (int64_t)size, "fuzz", NULL, &err) != 0) return 0;
  for (int k = 0; k < 64; k++) {
    struct otap_logs_payload p;
    otap_logs_payload_init(&p);
    bool eof = false;
    if (otap_records_reader_next(r, &p, &eof, &err) != 0 || eof) break;
    struct otap_buffer text;
    otap_buffer_init(&text);
    int rc = otap_logs_payload_format(&p, &text, &err);
    otap_buffer_reset(&text);
    bool equal = false;
    // A payload the reader accepted is equivalent to itself.
    if (otap_logs_equiv(&p, 1, &p, 1, NULL, &equal, NULL, &err) == 0 && !equal) __builtin_trap();
    struct otap_logs_validate_options vo;
    otap_logs_validate_options_init(&vo);
    vo.check_references = true;
    rc |= otap_logs_validate(&p, &vo, &err);
    (void)rc;
    otap_logs_payload_reset(&p);
  }
  otap_records_reader_free(r);
  return 0;
}
