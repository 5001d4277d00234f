// The ARROW:schema key-value hint: base64 of an Arrow IPC Schema message written by Arrow
// writers. Decoded with the ipc module's schema decoder and applied to the Arrow node tree:
// exact integer widths, dictionary encoding (with its index type), timestamp zones and units
// of INT96, field and schema metadata. Anything the hint says that the Parquet data cannot
// represent exactly is ignored (the Parquet-derived type stays).
#include <stdio.h>
#include <stdlib.h>

#include "parquet/parquet_internal.h"
#if defined(OTAP_PARQUET_HAVE_IPC)
#include "otap/ipc.h"
#endif

static int b64_value(uint8_t c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;
  if (c == '/' || c == '_') return 63;
  return -1;
}

static int b64_decode(const char* s, int64_t n, struct otap_buffer* out, struct otap_error* err) {
  if (otap_buffer_reserve(out, n / 4 * 3 + 3)) return otap_error_set(err, ENOMEM, "out of memory");
  uint32_t acc = 0;
  int bits = 0;
  for (int64_t i = 0; i < n; i++) {
    uint8_t c = (uint8_t)s[i];
    if (c == '=' || c == '\n' || c == '\r') continue;
    int v = b64_value(c);
    if (v < 0) return otap_error_set(err, EINVAL, "ARROW:schema: invalid base64 at byte %lld", (long long)i);
    acc = (acc << 6) | (uint32_t)v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->data[out->size++] = (uint8_t)(acc >> bits);
    }
  }
  return 0;
}

int otap__pq_arrow_schema_hint(const char* b64, int64_t len, struct ArrowSchema* out, struct otap_error* err) {
#if defined(OTAP_PARQUET_HAVE_IPC)
  struct otap_buffer raw;
  otap_buffer_init(&raw);
  int rc = b64_decode(b64, len, &raw, err);
  if (rc == 0) rc = otap_ipc_schema_decode(raw.data, (size_t)raw.size, out, err);
  otap_buffer_reset(&raw);
  return rc;
#else
  (void)b64;
  (void)len;
  (void)out;
  (void)b64_decode;
  return otap_error_set(err, ENOTSUP, "ARROW:schema hint: built without the ipc module");
#endif
}
