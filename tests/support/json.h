// tests/support/json.h: a small, strict JSON (RFC 8259) parser for test harnesses.
//
// Parses a whole document into a tree of `struct otap_test_json` nodes owned by the root
// (free with otap_test_json_free). Strict: no comments, no trailing commas, no leading zeros,
// no lone surrogates, no control characters in strings, valid UTF-8 only, nesting capped,
// nothing but whitespace after the value. Numbers keep their literal text so 64-bit integers
// written as numbers can be read exactly. Test-only code: not part of libotap.
#ifndef OTAP_TEST_JSON_H
#define OTAP_TEST_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "otap/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/// Maximum nesting depth of arrays/objects accepted by the parser.
#define OTAP_TEST_JSON_MAX_DEPTH 512

enum otap_test_json_type {
  OTAP_TEST_JSON_NULL = 0,
  OTAP_TEST_JSON_BOOL,
  OTAP_TEST_JSON_NUMBER,
  OTAP_TEST_JSON_STRING,
  OTAP_TEST_JSON_ARRAY,
  OTAP_TEST_JSON_OBJECT,
};

/// One JSON value. Object members are the items, each with its key.
struct otap_test_json {
  enum otap_test_json_type type;
  bool boolean;    // BOOL
  double number;   // NUMBER (strtod of the literal)
  /// STRING: the decoded UTF-8 value (NUL-terminated, may contain NUL: use text_len).
  /// NUMBER: the literal as written (NUL-terminated).
  char* text;
  int64_t text_len;
  /// Member key when this value sits in an object (decoded, NUL-terminated), else NULL.
  char* key;
  int64_t key_len;
  /// ARRAY / OBJECT elements, in document order.
  int64_t n_items;
  struct otap_test_json* items;
  /// Byte offset of the value in the document (for error messages).
  int64_t offset;
};

/// Parses `len` bytes. On success *out owns the tree. EINVAL with the byte offset on any
/// syntax error, ENOMEM on allocation failure (nothing leaks either way).
int otap_test_json_parse(const char* data, size_t len, struct otap_test_json** out,
                         struct otap_error* err) OTAP_WUR;
/// Frees a tree returned by otap_test_json_parse (NULL is allowed).
void otap_test_json_free(struct otap_test_json* root);

/// Member `key` of an object (first match), or NULL when absent or `obj` is not an object.
const struct otap_test_json* otap_test_json_get(const struct otap_test_json* obj,
                                                const char* key);
/// Name of a type ("null", "object", ...). Static.
const char* otap_test_json_type_name(enum otap_test_json_type type);

/// Exact integer value of a NUMBER without fraction/exponent, or of a STRING holding a decimal
/// integer (as the integration format writes 64-bit values). EINVAL if not integral, ERANGE
/// if out of range.
int otap_test_json_int64(const struct otap_test_json* v, int64_t* out,
                         struct otap_error* err) OTAP_WUR;
int otap_test_json_uint64(const struct otap_test_json* v, uint64_t* out,
                          struct otap_error* err) OTAP_WUR;
/// Numeric value of a NUMBER or of a STRING holding a number ("NaN", "Infinity",
/// "-Infinity" accepted in strings).
int otap_test_json_double(const struct otap_test_json* v, double* out,
                          struct otap_error* err) OTAP_WUR;

#ifdef __cplusplus
}
#endif

#endif  // OTAP_TEST_JSON_H
