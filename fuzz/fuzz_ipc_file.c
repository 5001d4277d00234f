// libFuzzer target: the IPC file reader (footer, blocks, random access) over memory.
// Any input must be read or rejected with an error: never crash, hang, leak or overrun.
#include <stdint.h>
#include <string.h>

#include "otap/ipc.h"

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  struct otap_error err;
  struct otap_ipc_read_options opts;
  otap_ipc_read_options_init(&opts);
  opts.max_decompressed_size = 64 << 20;
  opts.max_body_size = 64 << 20;
  struct otap_source src;
  if (otap_source_init_memory(&src, data, size, "fuzz", &err) != 0) return 0;
  struct otap_ipc_file_reader* r = NULL;
  if (otap_ipc_file_reader_open(&r, &src, &opts, &err) != 0) return 0;
  int64_t n = otap_ipc_file_reader_num_batches(r);
  for (int64_t i = n - 1; i >= 0 && i >= n - 100; i--) {
    struct ArrowArray a;
    memset(&a, 0, sizeof(a));
    struct otap_ipc_message_info info;
    if (otap_ipc_file_reader_block_info(r, false, i, &info, &err) != 0) continue;
    if (otap_ipc_file_reader_read_batch(r, i, &a, &err) == 0) a.release(&a);
  }
  otap_ipc_file_reader_free(r);
  return 0;
}
