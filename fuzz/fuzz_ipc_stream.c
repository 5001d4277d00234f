// libFuzzer target: the IPC push decoder (streaming format) and the memory reader.
// Any input must decode or fail with an error: never crash, hang, leak or read out of bounds.
#include <stdint.h>
#include <string.h>

#include "otap/ipc.h"

static void drain(struct ArrowArrayStream* s) {
  struct ArrowSchema schema;
  memset(&schema, 0, sizeof(schema));
  if (s->get_schema(s, &schema) == 0) {
    for (int i = 0; i < 1000; i++) {
      struct ArrowArray a;
      memset(&a, 0, sizeof(a));
      if (s->get_next(s, &a) != 0 || !a.release) break;
      a.release(&a);
    }
    otap_schema_release(&schema);
  }
  s->release(s);
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  struct otap_error err;
  struct otap_ipc_read_options opts;
  otap_ipc_read_options_init(&opts);
  opts.max_decompressed_size = 64 << 20;
  opts.max_body_size = 64 << 20;
  // 1. push decoder, input split in two pieces
  struct otap_ipc_decoder* d = NULL;
  if (otap_ipc_decoder_new(&d, &opts, &err) == 0) {
    size_t half = size / 2;
    int rc = otap_ipc_decoder_push(d, data, half, &err);
    for (int round = 0; round < 2 && rc == 0; round++) {
      for (int i = 0; i < 1000 && rc == 0; i++) {
        enum otap_ipc_event ev;
        struct ArrowArray a;
        memset(&a, 0, sizeof(a));
        rc = otap_ipc_decoder_pull(d, &ev, &a, &err);
        if (rc || ev == OTAP_IPC_EVENT_NEED_MORE || ev == OTAP_IPC_EVENT_END) break;
        if (ev == OTAP_IPC_EVENT_BATCH) a.release(&a);
      }
      if (rc == 0 && round == 0) rc = otap_ipc_decoder_push(d, data + half, size - half, &err);
    }
    if (rc == 0 && otap_ipc_decoder_finish(d, &err) != 0) rc = -1;
    otap_ipc_decoder_free(d);
  }
  // 2. the memory reader (zero-copy path; also detects the file format)
  struct ArrowArrayStream s;
  if (otap_ipc_reader_open_memory(&s, data, size, NULL, &opts, &err) == 0) drain(&s);
  return 0;
}
