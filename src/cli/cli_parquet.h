// Parquet input for the CLI commands (inspect, cat, convert): uses only the public API.
#ifndef OTAP_CLI_PARQUET_H
#define OTAP_CLI_PARQUET_H

#include <stdbool.h>
#include <stdio.h>

#include "otap/parquet.h"

/// True when the first bytes of a file are the Parquet magic "PAR1".
bool otap_cli_is_parquet(const void* head, size_t n);

/// Prints the schema (Parquet and Arrow), key-value metadata, row groups and column chunks
/// (type, codec, encodings, sizes, statistics) of `path`, as text or as one JSON object.
/// Returns an exit code (OTAP_EXIT_OK / OTAP_EXIT_FAILURE, with the message on stderr).
int otap_cli_parquet_inspect(const char* path, bool json, FILE* out);

/// Opens `path` as a stream of record batches (the stream owns the file). `batch_size` 0 means
/// the reader default.
int otap_cli_parquet_open_stream(const char* path, int64_t batch_size, struct ArrowArrayStream* out,
                                 struct otap_error* err);

/// Takes over `*src` (moved: *src is zeroed, also on failure) and returns a stream of its
/// batches that owns the source. For cli_input.c (content detected as Parquet).
int otap_cli_parquet_stream_from_source(struct otap_source* src, struct ArrowArrayStream* out,
                                        struct otap_error* err);

#endif
