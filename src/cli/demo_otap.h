// The OTAP stage of `otap demo` (generate -> records file -> batch -> Parquet -> read back,
// each step proven equivalent).
#ifndef OTAP_CLI_DEMO_OTAP_H
#define OTAP_CLI_DEMO_OTAP_H

#include <stdint.h>
#include <stdio.h>

#include "otap/common.h"

/// Runs the pipeline over `payloads` generated payloads of `records` log records each and
/// prints a summary to out. 0 or an errno value with the message in err.
int otap_cli_demo_otap(FILE* out, int64_t payloads, int64_t records, struct otap_error* err);

#endif
