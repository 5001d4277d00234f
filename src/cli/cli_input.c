// Content detection and "open any input as an ArrowArrayStream" for the CLI commands.
#include "cli_input.h"
#include "cli_parquet.h"

#include <string.h>

#include "cli_otap.h"
#include "otap/ipc.h"

const char* otap_cli_format_name(enum otap_cli_format f) {
  switch (f) {
    case OTAP_CLI_FORMAT_IPC_STREAM: return "arrow-ipc-stream";
    case OTAP_CLI_FORMAT_IPC_FILE: return "arrow-ipc-file";
    case OTAP_CLI_FORMAT_PARQUET: return "parquet";
    case OTAP_CLI_FORMAT_OTAP_RECORDS: return "otap-records";
    default: return "unknown";
  }
}

enum otap_cli_format otap_cli_detect_bytes(const uint8_t* head, size_t head_len,
                                           const uint8_t* tail, size_t tail_len) {
  if (head_len >= 4 && memcmp(head, "PAR1", 4) == 0 && tail_len >= 4 &&
      memcmp(tail + tail_len - 4, "PAR1", 4) == 0)
    return OTAP_CLI_FORMAT_PARQUET;
  if (otap_cli_is_otap_records(head, head_len)) return OTAP_CLI_FORMAT_OTAP_RECORDS;
  switch (otap_ipc_detect_format(head, head_len)) {
    case OTAP_IPC_FORMAT_FILE: return OTAP_CLI_FORMAT_IPC_FILE;
    case OTAP_IPC_FORMAT_STREAM: return OTAP_CLI_FORMAT_IPC_STREAM;
    default: return OTAP_CLI_FORMAT_UNKNOWN;
  }
}

int otap_cli_input_open(struct otap_cli_input* in, const char* path, struct otap_error* err) {
  memset(in, 0, sizeof(*in));
  in->path = path;
  otap_buffer_init(&in->stdin_buf);
  int rc;
  if (strcmp(path, "-") == 0) {
    rc = otap_read_file("-", &in->stdin_buf, err);
    if (!rc)
      rc = otap_source_init_memory(&in->source, in->stdin_buf.data ? in->stdin_buf.data : (uint8_t*)"",
                                   (size_t)in->stdin_buf.size, "<stdin>", err);
  } else {
    rc = otap_source_open_file(&in->source, path, err);
  }
  if (rc) {
    otap_cli_input_close(in);
    return rc;
  }
  uint64_t size = 0;
  uint8_t head[16], tail[16];
  rc = in->source.size(&in->source, &size, err);
  size_t hn = size < sizeof(head) ? (size_t)size : sizeof(head);
  size_t tn = size < sizeof(tail) ? (size_t)size : sizeof(tail);
  if (!rc && hn) rc = in->source.read_at(&in->source, 0, head, hn, err);
  if (!rc && tn) rc = in->source.read_at(&in->source, size - tn, tail, tn, err);
  if (rc) {
    otap_cli_input_close(in);
    return rc;
  }
  in->format = otap_cli_detect_bytes(head, hn, tail, tn);
  return 0;
}

void otap_cli_input_close(struct otap_cli_input* in) {
  otap_source_release(&in->source);
  otap_buffer_reset(&in->stdin_buf);
}

int otap_cli_input_to_stream(struct otap_cli_input* in, struct ArrowArrayStream* out,
                             struct otap_error* err) {
  switch (in->format) {
    case OTAP_CLI_FORMAT_IPC_STREAM:
    case OTAP_CLI_FORMAT_IPC_FILE: {
      if (in->stdin_buf.data) {
        // stdin: the stream takes the memory over (arrays point into it)
        const void* data = in->stdin_buf.data;
        size_t size = (size_t)in->stdin_buf.size;
        struct otap_shared* owner;
        if (otap_shared_from_buffer(&owner, &in->stdin_buf))
          return otap_error_set(err, ENOMEM, "out of memory");
        otap_source_release(&in->source);
        int rc = otap_ipc_reader_open_memory(out, data, size, owner, NULL, err);
        otap_shared_unref(owner);
        return rc;
      }
      int rc = otap_ipc_reader_open_source(out, &in->source, NULL, err);
      memset(&in->source, 0, sizeof(in->source));
      return rc;
    }
    case OTAP_CLI_FORMAT_PARQUET:
      if (in->stdin_buf.data)
        return otap_error_set(err, ENOTSUP, "%s: Parquet from stdin is not supported (pass a file)", in->path);
      return otap_cli_parquet_stream_from_source(&in->source, out, err);
    case OTAP_CLI_FORMAT_OTAP_RECORDS:
      return otap_error_set(err, ENOTSUP, "%s: an OTAP records file (use otap cat, inspect, diff or batch)",
                            in->path);
    default:
      return otap_error_set(err, EINVAL,
                            "%s: unrecognized content (not an Arrow IPC stream or file, nor Parquet)",
                            in->path);
  }
}

int otap_cli_open_stream(const char* path, struct ArrowArrayStream* out,
                         enum otap_cli_format* format, struct otap_error* err) {
  struct otap_cli_input in;
  int rc = otap_cli_input_open(&in, path, err);
  if (rc) return rc;
  if (format) *format = in.format;
  rc = otap_cli_input_to_stream(&in, out, err);
  otap_cli_input_close(&in);
  return rc;
}
