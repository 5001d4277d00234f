// tests/support/arrow_compare.h: deep comparison of Arrow schemas and arrays for tests.
//
// Arrays are compared by logical value, element by element, through the raw C Data Interface
// buffers (offsets, slices, views, unions, run-end encoding, dictionaries all resolved), so any
// producer's arrays (otap-built or foreign) can be compared. Values in null slots are ignored.
// The first difference is reported with its path ("column 'm' row 4 > entries[2] > key") and
// both values. Test-only code: not part of libotap.
#ifndef OTAP_TEST_ARROW_COMPARE_H
#define OTAP_TEST_ARROW_COMPARE_H

#include <stdbool.h>

#include "otap/arrow.h"

#ifdef __cplusplus
extern "C" {
#endif

struct otap_test_compare_options {
  /// Compare custom metadata of the schema and of every field (default true).
  bool compare_metadata;
  /// Compare dictionary indices and whole dictionaries exactly (default true). When false,
  /// dictionary-encoded elements are compared by their decoded values only, so producers may
  /// re-encode dictionaries.
  bool exact_dictionaries;
  /// Compare field names (default true). The root struct's name is never compared, nor the
  /// name and flags of dictionary value nodes (the IPC format has no place for them).
  bool compare_names;
  /// Compare the nullable flag of fields (default true).
  bool compare_nullability;
};

/// Defaults as documented above.
void otap_test_compare_options_init(struct otap_test_compare_options* opts);

/// The first difference found (empty string when equal).
struct otap_test_diff {
  char message[2048];
};

/// True when both schemas describe the same types (formats, with decimal128's optional
/// ",128" normalized), names, flags, metadata and dictionary encoding. `opts` may be NULL.
bool otap_test_schema_equal(const struct ArrowSchema* expected, const struct ArrowSchema* actual,
                            const struct otap_test_compare_options* opts,
                            struct otap_test_diff* diff);

/// True when the two arrays (of the given schemas, whose types must match) hold the same
/// logical values: same length, same nulls, same values in valid slots. For a struct array
/// of record-batch shape the path names the column. `opts` may be NULL.
bool otap_test_array_equal(const struct ArrowSchema* expected_schema,
                           const struct ArrowArray* expected,
                           const struct ArrowSchema* actual_schema,
                           const struct ArrowArray* actual,
                           const struct otap_test_compare_options* opts,
                           struct otap_test_diff* diff);

#ifdef __cplusplus
}
#endif

#endif  // OTAP_TEST_ARROW_COMPARE_H
