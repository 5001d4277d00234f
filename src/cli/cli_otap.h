// OTAP records files in the CLI (inspect, cat, gen, diff, batch): uses only the public API.
#ifndef OTAP_CLI_OTAP_H
#define OTAP_CLI_OTAP_H

#include <stdbool.h>
#include <stdio.h>

#include "otap/logs.h"

/// True when the first bytes of a file look like an OTAP records file (varint-delimited
/// BatchArrowRecords whose first payload starts an Arrow IPC stream).
bool otap_cli_is_otap_records(const void* head, size_t n);

/// True when the file at `path` (not "-") starts like an OTAP records file.
bool otap_cli_path_is_otap_records(const char* path);

/// Prints each BatchArrowRecords message of `path` (batch_id, payloads: type, schema_id, record
/// bytes, rows, columns) and totals, as text or one JSON object. Returns an exit code.
int otap_cli_otap_inspect(const char* path, bool json, FILE* out);

/// Prints every log record of `path` fully resolved (resource, scope, attributes), one line per
/// record in the canonical form `otap diff` compares; with json, one JSON string per line.
/// `limit` < 0: all records. Returns an exit code.
int otap_cli_otap_cat(const char* path, bool json, int64_t limit, FILE* out);

/// Parses a non-negative integer with an optional k/m suffix (x1000 / x1000000). False if
/// malformed.
bool otap_cli_parse_count(const char* s, int64_t* out);

#endif
