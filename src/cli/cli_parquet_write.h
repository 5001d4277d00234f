// Parquet output for the CLI (`otap convert ... --to parquet`): option parsing, help text and
// writing an ArrowArrayStream to a file. Uses only the public API (otap/parquet_writer.h).
#ifndef OTAP_CLI_PARQUET_WRITE_H
#define OTAP_CLI_PARQUET_WRITE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "otap/parquet_writer.h"

struct otap_cli_parquet_write_args {
  enum otap_parquet_codec codec;  // --compression (default none)
  int compression_level;          // --compression-level (INT32_MIN: codec default)
  int64_t row_group_rows;         // --row-group-rows (0: writer default)
  int page_version;               // --page-version 1|2 (0: writer default)
  int64_t page_size;              // --page-size BYTES (0: writer default)
  int dictionary;                 // --dictionary / --no-dictionary (-1: writer default)
  const char* created_by;         // --created-by TEXT (NULL: writer default); borrowed
};

void otap_cli_parquet_write_args_init(struct otap_cli_parquet_write_args* a);

/// Tries to consume the Parquet output option at argv[*i] (advancing *i past its value).
/// Returns 1 when consumed, 0 when argv[*i] is not a Parquet output option, -1 for a bad or
/// missing value (a message naming `cmd` is printed on stderr).
int otap_cli_parquet_write_parse_arg(struct otap_cli_parquet_write_args* a, int argc, char** argv,
                                     int* i, const char* cmd);

/// Prints the help lines of the options above (for the command's --help).
void otap_cli_parquet_write_help(FILE* out);

/// Writes every batch of `stream` (borrowed, not released) to `sink` (borrowed; finished on
/// success, not released) as Parquet. For `otap convert`'s writer table.
int otap_cli_parquet_write_to_sink(struct ArrowArrayStream* stream, struct otap_sink* sink,
                                   const struct otap_cli_parquet_write_args* a,
                                   struct otap_error* err);

/// Writes every batch of `stream` (borrowed, not released) to `path` ("-" = stdout); the file
/// appears atomically (temporary name, then rename) only when everything was written. Returns
/// 0 or an errno value with the message in err.
int otap_cli_parquet_write_stream(struct ArrowArrayStream* stream, const char* path,
                                  const struct otap_cli_parquet_write_args* a,
                                  struct otap_error* err);

#endif
