// Test helper: Arrow arrays -> JSON text in the conventions of the shared expected files.
#ifndef PQ_JSON_OUT_H
#define PQ_JSON_OUT_H

#include <stdio.h>

#include "otap/parquet.h"

/// Appends row `row` of struct array `a` (schema `s`) as a JSON object to `o`.
void pq_test_json_row(struct otap_buffer* o, const struct ArrowSchema* s, const struct ArrowArray* a,
                      int64_t row);

#endif
