// Input detection and opening for the otap CLI: any supported input (Arrow IPC stream or file
// today; Parquet and OTAP records plug in here) becomes an ArrowArrayStream. Detection looks
// at the content, never at the file name.
#ifndef OTAP_CLI_INPUT_H
#define OTAP_CLI_INPUT_H

#include <stdbool.h>
#include <stdio.h>

#include "otap/arrow.h"
#include "otap/common.h"

enum otap_cli_format {
  OTAP_CLI_FORMAT_UNKNOWN = 0,
  OTAP_CLI_FORMAT_IPC_STREAM,
  OTAP_CLI_FORMAT_IPC_FILE,
  OTAP_CLI_FORMAT_PARQUET,
  OTAP_CLI_FORMAT_OTAP_RECORDS,
};

/// Human name ("arrow-ipc-stream", "arrow-ipc-file", "parquet", ...).
const char* otap_cli_format_name(enum otap_cli_format f);

/// Detects the format from the first and last bytes of an input held in memory.
enum otap_cli_format otap_cli_detect_bytes(const uint8_t* head, size_t head_len,
                                           const uint8_t* tail, size_t tail_len);

/// An opened input: the whole content is available as a source (files are mmapped; "-" reads
/// stdin into memory).
struct otap_cli_input {
  const char* path;
  enum otap_cli_format format;
  struct otap_source source;  // zeroed once moved into a reader
  struct otap_buffer stdin_buf;  // backing memory when path is "-"
};

/// Opens `path` ("-" = stdin) and detects its format. ENOENT/EIO for I/O problems; an unknown
/// format is not an error here (format = UNKNOWN).
int otap_cli_input_open(struct otap_cli_input* in, const char* path, struct otap_error* err);
/// Releases what is left of the input.
void otap_cli_input_close(struct otap_cli_input* in);

/// Moves the input's source into an ArrowArrayStream of record batches (struct arrays).
/// ENOTSUP for formats not readable as Arrow yet, EINVAL for unknown content.
int otap_cli_input_to_stream(struct otap_cli_input* in, struct ArrowArrayStream* out,
                             struct otap_error* err);

/// Convenience: open + to_stream. *format (optional) receives the detected format.
int otap_cli_open_stream(const char* path, struct ArrowArrayStream* out,
                         enum otap_cli_format* format, struct otap_error* err);

#endif
