// tests/support/integration_json.h: loads Arrow "integration JSON" files (the format of the
// apache/arrow-testing gold files, see apache/arrow docs/source/format/Integration.rst) into
// ArrowSchema / ArrowArray built with otap's arrow.h builders.
//
// The schema becomes a struct schema ("+s") with one child per field (names, nullability,
// custom metadata, dictionary encoding with index type and ordering); each record batch
// becomes a struct array whose children are the columns, buffers filled exactly as the JSON
// lists them (offsets, views, type ids, run ends), dictionaries attached to every
// dictionary-encoded node from the file's "dictionaries" section. Values in null slots are
// whatever the JSON says. Test-only code: not part of libotap.
#ifndef OTAP_TEST_INTEGRATION_JSON_H
#define OTAP_TEST_INTEGRATION_JSON_H

#include "otap/arrow.h"

#ifdef __cplusplus
extern "C" {
#endif

/// A loaded integration file. Owns everything; release with otap_test_integration_reset.
struct otap_test_integration {
  struct ArrowSchema schema;     // struct schema, one child per field
  int64_t n_batches;
  struct ArrowArray* batches;    // n_batches struct arrays
  /// Dictionary ids of the dictionary-encoded fields in depth-first pre-order (a field before
  /// the fields inside it, children first to last), as the JSON declares them. IPC writers
  /// may number dictionaries differently (Arrow C++ gives every field its own id), so these
  /// are not expected to match the ids inside a gold file.
  int64_t n_dictionary_ids;
  int64_t* dictionary_ids;
};

/// Loads `path` (plain JSON, or gzip when the name ends in ".gz"). ENOENT/EIO for file
/// problems, EINVAL for malformed JSON or content that contradicts the schema, ENOTSUP for a
/// type the loader does not know; the message names the field path and the byte offset.
int otap_test_integration_load_file(const char* path, struct otap_test_integration* out,
                                    struct otap_error* err) OTAP_WUR;
/// Same, from an in-memory JSON document.
int otap_test_integration_load(const char* json, size_t len, struct otap_test_integration* out,
                               struct otap_error* err) OTAP_WUR;
/// Releases everything and zeroes `it` (safe on a zeroed struct).
void otap_test_integration_reset(struct otap_test_integration* it);

/// Reads a whole gzip file (or plain file) into buf with zlib. Capped at 1 GiB.
int otap_test_read_gzip_file(const char* path, struct otap_buffer* buf,
                             struct otap_error* err) OTAP_WUR;

#ifdef __cplusplus
}
#endif

#endif  // OTAP_TEST_INTEGRATION_JSON_H
