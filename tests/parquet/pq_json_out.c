// Test helper: writes Arrow C Data Interface arrays as JSON in the conventions of the shared
// expected files (binary as "0x" hex, decimals as strings with `scale` fraction digits, NaN as
// the string "NaN", lists as arrays, maps and structs as objects). Used by test_parquet and by
// the pq_dump tool of the interop tests.
#include "pq_json_out.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void app(struct otap_buffer* o, const void* d, int64_t n) {
  if (otap_buffer_append(o, d, n) != 0) abort();
}

static int64_t phys(const struct ArrowArray* a, int64_t i) { return a->offset + i; }

static bool is_null(const struct ArrowArray* a, const struct ArrowSchema* s, int64_t i) {
  if (strcmp(s->format, "n") == 0) return true;
  if (a->n_buffers == 0 || !a->buffers[0]) return false;
  int64_t p = phys(a, i);
  return !((((const uint8_t*)a->buffers[0])[p >> 3] >> (p & 7)) & 1);
}

static void put_string(struct otap_buffer* o, const uint8_t* s, int64_t n) {
  app(o, "\"", 1);
  for (int64_t i = 0; i < n; i++) {
    uint8_t c = s[i];
    if (c == '"' || c == '\\') {
      char e[2] = {'\\', (char)c};
      app(o, e, 2);
    } else if (c < 0x20) {
      (void)otap_buffer_appendf(o, "\\u%04x", c);
    } else {
      app(o, &c, 1);
    }
  }
  app(o, "\"", 1);
}

static void put_hex(struct otap_buffer* o, const uint8_t* s, int64_t n) {
  app(o, "\"0x", 3);
  for (int64_t i = 0; i < n; i++) (void)otap_buffer_appendf(o, "%02x", s[i]);
  app(o, "\"", 1);
}

static void put_double(struct otap_buffer* o, double v) {
  if (isnan(v)) {
    app(o, "\"NaN\"", 5);
  } else if (isinf(v)) {
    (void)otap_buffer_appendf(o, "\"%sInfinity\"", v < 0 ? "-" : "");
  } else {
    (void)otap_buffer_appendf(o, "%.17g", v);
  }
}

static double half_to_double(uint16_t h) {
  int e = (h >> 10) & 0x1f, m = h & 0x3ff;
  double v;
  if (e == 0) v = ldexp(m, -24);
  else if (e == 31) v = m ? NAN : INFINITY;
  else v = ldexp(m + 1024, e - 25);
  return (h & 0x8000) ? -v : v;
}

// Little-endian two's complement integer of `bytes` bytes -> decimal string with `scale`
// fraction digits.
static void put_decimal(struct otap_buffer* o, const uint8_t* le, int bytes, int scale) {
  uint8_t mag[32];
  bool neg = (le[bytes - 1] & 0x80) != 0;
  int carry = 1;
  for (int i = 0; i < bytes; i++) {
    int b = neg ? (uint8_t)~le[i] + carry : le[i];
    if (neg) carry = b > 0xff;
    mag[i] = (uint8_t)b;
  }
  char digits[100];
  int nd = 0;
  for (;;) {
    bool zero = true;
    int rem = 0;
    for (int i = bytes - 1; i >= 0; i--) {
      int cur = rem * 256 + mag[i];
      mag[i] = (uint8_t)(cur / 10);
      rem = cur % 10;
      if (mag[i]) zero = false;
    }
    digits[nd++] = (char)('0' + rem);
    if (zero) break;
  }
  while (nd <= scale) digits[nd++] = '0';
  app(o, "\"", 1);
  if (neg) app(o, "-", 1);
  for (int i = nd - 1; i >= 0; i--) {
    app(o, &digits[i], 1);
    if (i == scale && scale > 0) app(o, ".", 1);
  }
  app(o, "\"", 1);
}

static void value(struct otap_buffer* o, const struct ArrowSchema* s, const struct ArrowArray* a,
                  int64_t i);

static void bytes_at(const struct ArrowSchema* s, const struct ArrowArray* a, int64_t i,
                     const uint8_t** d, int64_t* n) {
  int64_t p = phys(a, i);
  const char* f = s->format;
  if (f[0] == 'w') {
    int w = atoi(f + 2);
    *d = (const uint8_t*)a->buffers[1] + p * w;
    *n = w;
  } else if (f[0] == 'U' || f[0] == 'Z') {
    const int64_t* off = a->buffers[1];
    *d = (const uint8_t*)a->buffers[2] + off[p];
    *n = off[p + 1] - off[p];
  } else {
    const int32_t* off = a->buffers[1];
    *d = (const uint8_t*)a->buffers[2] + off[p];
    *n = off[p + 1] - off[p];
  }
}

static void value(struct otap_buffer* o, const struct ArrowSchema* s, const struct ArrowArray* a,
                  int64_t i) {
  if (is_null(a, s, i)) {
    app(o, "null", 4);
    return;
  }
  int64_t p = phys(a, i);
  if (s->dictionary) {
    int64_t k;
    switch (s->format[0]) {
      case 'c': k = ((const int8_t*)a->buffers[1])[p]; break;
      case 'C': k = ((const uint8_t*)a->buffers[1])[p]; break;
      case 's': k = ((const int16_t*)a->buffers[1])[p]; break;
      case 'S': k = ((const uint16_t*)a->buffers[1])[p]; break;
      case 'I': k = ((const uint32_t*)a->buffers[1])[p]; break;
      case 'l': k = ((const int64_t*)a->buffers[1])[p]; break;
      default: k = ((const int32_t*)a->buffers[1])[p]; break;
    }
    value(o, s->dictionary, a->dictionary, k);
    return;
  }
  const char* f = s->format;
  const void* b1 = a->n_buffers > 1 ? a->buffers[1] : NULL;
  switch (f[0]) {
    case 'b': {
      bool v = (((const uint8_t*)b1)[p >> 3] >> (p & 7)) & 1;
      (void)otap_buffer_appendf(o, "%s", v ? "true" : "false");
      return;
    }
    case 'c': (void)otap_buffer_appendf(o, "%d", ((const int8_t*)b1)[p]); return;
    case 'C': (void)otap_buffer_appendf(o, "%u", ((const uint8_t*)b1)[p]); return;
    case 's': (void)otap_buffer_appendf(o, "%d", ((const int16_t*)b1)[p]); return;
    case 'S': (void)otap_buffer_appendf(o, "%u", ((const uint16_t*)b1)[p]); return;
    case 'i': (void)otap_buffer_appendf(o, "%d", ((const int32_t*)b1)[p]); return;
    case 'I': (void)otap_buffer_appendf(o, "%u", ((const uint32_t*)b1)[p]); return;
    case 'l': (void)otap_buffer_appendf(o, "%lld", (long long)((const int64_t*)b1)[p]); return;
    case 'L': (void)otap_buffer_appendf(o, "%llu", (unsigned long long)((const uint64_t*)b1)[p]); return;
    case 'e': put_double(o, half_to_double(((const uint16_t*)b1)[p])); return;
    case 'f': put_double(o, ((const float*)b1)[p]); return;
    case 'g': put_double(o, ((const double*)b1)[p]); return;
    case 'u':
    case 'U': {
      const uint8_t* d;
      int64_t n;
      bytes_at(s, a, i, &d, &n);
      put_string(o, d, n);
      return;
    }
    case 'z':
    case 'Z':
    case 'w': {
      const uint8_t* d;
      int64_t n;
      bytes_at(s, a, i, &d, &n);
      put_hex(o, d, n);
      return;
    }
    case 'd': {
      int prec = 0, scale = 0, bits = 128;
      sscanf(f + 2, "%d,%d,%d", &prec, &scale, &bits);
      int bytes = bits / 8;
      put_decimal(o, (const uint8_t*)b1 + p * bytes, bytes, scale);
      return;
    }
    case 't':
      if (f[1] == 'd' && f[2] == 'D') {
        (void)otap_buffer_appendf(o, "%d", ((const int32_t*)b1)[p]);
      } else if (f[1] == 't' && (f[2] == 's' || f[2] == 'm')) {
        (void)otap_buffer_appendf(o, "%d", ((const int32_t*)b1)[p]);
      } else {
        (void)otap_buffer_appendf(o, "%lld", (long long)((const int64_t*)b1)[p]);
      }
      return;
    case '+':
      if (f[1] == 's') {
        app(o, "{", 1);
        for (int64_t k = 0; k < s->n_children; k++) {
          if (k) app(o, ",", 1);
          const char* nm = s->children[k]->name ? s->children[k]->name : "";
          put_string(o, (const uint8_t*)nm, (int64_t)strlen(nm));
          app(o, ":", 1);
          value(o, s->children[k], a->children[k], p);
        }
        app(o, "}", 1);
        return;
      }
      if (f[1] == 'l' || f[1] == 'm' || f[1] == 'L') {
        int64_t st, en;
        if (f[1] == 'L') {
          st = ((const int64_t*)b1)[p];
          en = ((const int64_t*)b1)[p + 1];
        } else {
          st = ((const int32_t*)b1)[p];
          en = ((const int32_t*)b1)[p + 1];
        }
        const struct ArrowSchema* cs = s->children[0];
        const struct ArrowArray* ca = a->children[0];
        if (f[1] == 'm') {
          app(o, "{", 1);
          for (int64_t k = st; k < en; k++) {
            if (k > st) app(o, ",", 1);
            struct otap_buffer key;
            otap_buffer_init(&key);
            value(&key, cs->children[0], ca->children[0], ca->offset + k);
            if (key.size > 0 && key.data[0] == '"') {
              app(o, key.data, key.size);
            } else {
              put_string(o, key.data, key.size);
            }
            otap_buffer_reset(&key);
            app(o, ":", 1);
            value(o, cs->children[1], ca->children[1], ca->offset + k);
          }
          app(o, "}", 1);
        } else {
          app(o, "[", 1);
          for (int64_t k = st; k < en; k++) {
            if (k > st) app(o, ",", 1);
            value(o, cs, ca, k);
          }
          app(o, "]", 1);
        }
        return;
      }
      if (f[1] == 'w') {
        int w = atoi(f + 3);
        app(o, "[", 1);
        for (int64_t k = 0; k < w; k++) {
          if (k) app(o, ",", 1);
          value(o, s->children[0], a->children[0], p * w + k);
        }
        app(o, "]", 1);
        return;
      }
      break;
    default:
      break;
  }
  (void)otap_buffer_appendf(o, "\"<unsupported %s>\"", f);
}

void pq_test_json_row(struct otap_buffer* o, const struct ArrowSchema* s, const struct ArrowArray* a,
                      int64_t row) {
  value(o, s, a, row);
}
