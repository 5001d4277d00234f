// Reading arrays: validated views over any ArrowArray (otap-built or foreign) and the typed
// element accessors. Validation is written for hostile input: every length and offset is an
// untrusted int64 and all arithmetic is overflow-checked before any buffer is touched.
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "arrow/arrow_internal.h"

#define MAX_DEPTH 64

// ---------------------------------------------------------------------------------------------
// View tree allocation

static void view_free_tree(struct otap_array_view* v) {
  if (!v) return;
  for (int64_t i = 0; i < v->n_children; i++) {
    if (v->children[i]) {
      view_free_tree(v->children[i]);
      otap_free(v->children[i]);
    }
  }
  otap_free(v->children);
  if (v->dictionary) {
    view_free_tree(v->dictionary);
    otap_free(v->dictionary);
  }
  memset(v, 0, sizeof(*v));
}

static int view_init(struct otap_array_view* v, const struct ArrowSchema* schema, int depth,
                     struct otap_error* err) {
  memset(v, 0, sizeof(*v));
  OTAP_RETURN_IF(depth > MAX_DEPTH, err, EINVAL, "array view: schema nesting deeper than %d",
                 MAX_DEPTH);
  OTAP_RETURN_NOT_OK(otap_schema_view_init(&v->schema, schema, err));
  v->storage_type = v->schema.storage_type;
  int rc = 0;
  if (schema->n_children > 0) {
    v->children = otap_calloc((size_t)schema->n_children, sizeof(*v->children));
    if (!v->children) return otap_error_set(err, ENOMEM, "array view: out of memory");
    v->n_children = schema->n_children;
    for (int64_t i = 0; i < schema->n_children; i++) {
      v->children[i] = otap_calloc(1, sizeof(struct otap_array_view));
      if (!v->children[i]) {
        rc = otap_error_set(err, ENOMEM, "array view: out of memory");
        goto fail;
      }
      rc = view_init(v->children[i], schema->children[i], depth + 1, err);
      if (rc) goto fail;
    }
  }
  if (schema->dictionary) {
    v->dictionary = otap_calloc(1, sizeof(struct otap_array_view));
    if (!v->dictionary) {
      rc = otap_error_set(err, ENOMEM, "array view: out of memory");
      goto fail;
    }
    rc = view_init(v->dictionary, schema->dictionary, depth + 1, err);
    if (rc) goto fail;
  }
  return 0;
fail:
  view_free_tree(v);
  return rc;
}

int otap_array_view_init(struct otap_array_view* view, const struct ArrowSchema* schema,
                         struct otap_error* err) {
  return view_init(view, schema, 0, err);
}

void otap_array_view_reset(struct otap_array_view* view) { view_free_tree(view); }

// ---------------------------------------------------------------------------------------------
// Validation

struct vctx {
  enum otap_validation level;
  struct otap_error* err;
  char path[384];
  size_t path_len;
};

OTAP_PRINTF(3, 4) static int fail(struct vctx* c, int code, const char* fmt, ...) {
  if (!c->err) return code;
  char msg[640];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  if (c->path_len) {
    otap_error_set(c->err, code, "array column '%s': %s", c->path, msg);
  } else {
    otap_error_set(c->err, code, "array: %s", msg);
  }
  return code;
}

static size_t path_push(struct vctx* c, const char* name, int64_t index) {
  size_t saved = c->path_len;
  size_t room = sizeof(c->path) - c->path_len;
  int k;
  const char* sep = c->path_len ? "." : "";
  if (name && name[0]) {
    // Plain appends (this runs for every node of every view; snprintf was most of its cost).
    size_t sl = c->path_len ? 1 : 0, nl = strlen(name);
    if (sl + nl < room) {
      char* d = c->path + c->path_len;
      if (sl) *d++ = '.';
      memcpy(d, name, nl);
      d[nl] = '\0';
      c->path_len += sl + nl;
      return saved;
    }
    k = snprintf(c->path + c->path_len, room, "%s%s", sep, name);
  } else {
    k = snprintf(c->path + c->path_len, room, "%s[%" PRId64 "]", sep, index);
  }
  if (k > 0) c->path_len = (size_t)k >= room ? sizeof(c->path) - 1 : c->path_len + (size_t)k;
  return saved;
}

static void path_pop(struct vctx* c, size_t saved) {
  c->path_len = saved;
  c->path[saved] = '\0';
}

static int64_t load_off(const uint8_t* b, int w, int64_t i) {
  if (w == 4) {
    int32_t v;
    memcpy(&v, b + 4 * i, 4);
    return v;
  }
  int64_t v;
  memcpy(&v, b + 8 * i, 8);
  return v;
}

static int64_t load_int(const uint8_t* b, int bytes, int64_t i) {
  switch (bytes) {
    case 1: return (int8_t)b[i];
    case 2: { int16_t v; memcpy(&v, b + 2 * i, 2); return v; }
    case 4: { int32_t v; memcpy(&v, b + 4 * i, 4); return v; }
    default: { int64_t v; memcpy(&v, b + 8 * i, 8); return v; }
  }
}

static bool is_unsigned(enum otap_type t) {
  return t == OTAP_TYPE_UINT8 || t == OTAP_TYPE_UINT16 || t == OTAP_TYPE_UINT32 ||
         t == OTAP_TYPE_UINT64;
}

// Index of the first byte >= 0x80 in s[i, n), or n. 32 (SSE2) or 16 bytes per step.
static int64_t ascii_run_end(const uint8_t* s, int64_t i, int64_t n) {
#if defined(__SSE2__)
  while (i + 32 <= n) {
    __m128i x = _mm_loadu_si128((const __m128i*)(const void*)(s + i));
    __m128i y = _mm_loadu_si128((const __m128i*)(const void*)(s + i + 16));
    if (_mm_movemask_epi8(_mm_or_si128(x, y))) break;
    i += 32;
  }
  while (i + 16 <= n) {
    __m128i x = _mm_loadu_si128((const __m128i*)(const void*)(s + i));
    int m = _mm_movemask_epi8(x);
    if (m) return i + __builtin_ctz((unsigned)m);
    i += 16;
  }
#else
  while (i + 16 <= n) {
    uint64_t w0, w1;
    memcpy(&w0, s + i, 8);
    memcpy(&w1, s + i + 8, 8);
    if ((w0 | w1) & 0x8080808080808080ull) break;
    i += 16;
  }
#endif
  while (i + 8 <= n) {
    uint64_t w;
    memcpy(&w, s + i, 8);
    if (w & 0x8080808080808080ull) break;  // the byte loop finds it (any byte order)
    i += 8;
  }
  while (i < n && s[i] < 0x80) i++;
  return i;
}

// True when every index in b[from, to) (bytes wide, signed or not) lies in [0, dlen). One
// branch-free min/max reduction per width.
static bool indices_in_range(const uint8_t* b, int bytes, bool uns, int64_t from, int64_t to,
                             int64_t dlen) {
  if (from >= to) return true;
  if (dlen <= 0) return false;
#define OTAP__MINMAX(T, LIM_LO, LIM_HI)                   \
  do {                                                    \
    T lo = LIM_HI, hi = LIM_LO;                           \
    for (int64_t i = from; i < to; i++) {                 \
      T x;                                                \
      memcpy(&x, b + sizeof(T) * (size_t)i, sizeof(T));   \
      lo = x < lo ? x : lo;                               \
      hi = x > hi ? x : hi;                               \
    }                                                     \
    mn = (int64_t)lo;                                     \
    mx = (int64_t)hi;                                     \
    umx = (uint64_t)hi;                                   \
  } while (0)
  int64_t mn = 0, mx = 0;
  uint64_t umx = 0;
#if defined(__SSE2__)
  if (bytes == 1 && uns) {
    __m128i acc = _mm_setzero_si128();
    int64_t i = from;
    for (; i + 16 <= to; i += 16) {
      acc = _mm_max_epu8(acc, _mm_loadu_si128((const __m128i*)(const void*)(b + i)));
    }
    uint8_t lanes[16];
    _mm_storeu_si128((__m128i*)(void*)lanes, acc);
    unsigned hi = 0;
    for (int k = 0; k < 16; k++) hi = lanes[k] > hi ? lanes[k] : hi;
    for (; i < to; i++) hi = b[i] > hi ? b[i] : hi;
    return (int64_t)hi < dlen;
  }
#endif
  switch (bytes * (uns ? -1 : 1)) {
    case -1: OTAP__MINMAX(uint8_t, 0, UINT8_MAX); break;
    case -2: OTAP__MINMAX(uint16_t, 0, UINT16_MAX); break;
    case -4: OTAP__MINMAX(uint32_t, 0, UINT32_MAX); break;
    case -8: OTAP__MINMAX(uint64_t, 0, UINT64_MAX); break;
    case 1: OTAP__MINMAX(int8_t, INT8_MIN, INT8_MAX); break;
    case 2: OTAP__MINMAX(int16_t, INT16_MIN, INT16_MAX); break;
    case 4: OTAP__MINMAX(int32_t, INT32_MIN, INT32_MAX); break;
    case 8: OTAP__MINMAX(int64_t, INT64_MIN, INT64_MAX); break;
    default: return false;
  }
#undef OTAP__MINMAX
  if (uns) return umx < (uint64_t)dlen;
  return mn >= 0 && mx < dlen;
}

// Exact check from position i (a character start): returns the byte length of the valid
// prefix (== n when all valid). Used to locate an error the DFA found. ASCII runs go through
// ascii_run_end; multi-byte sequences are checked with the Unicode table 3-7 ranges
// (no overlongs, no surrogates, nothing above U+10FFFF) without building the code point.
static int64_t utf8_slow_prefix(const uint8_t* s, int64_t i, int64_t n) {
  while (i < n) {
    if (s[i] < 0x80) {
      i = ascii_run_end(s, i, n);
      if (i >= n) break;
    }
    // Multi-byte run: stay in this loop while non-ASCII bytes follow each other.
    do {
      uint8_t b = s[i];
      if (b < 0x80) {
        i++;
        continue;
      }
      if (b < 0xc2 || b > 0xf4) return i;
      if (b < 0xe0) {
        if (n - i < 2 || (s[i + 1] & 0xc0) != 0x80) return i;
        i += 2;
        continue;
      }
      if (b < 0xf0) {
        if (n - i < 3) return i;
        uint8_t c1 = s[i + 1];
        uint8_t lo = b == 0xe0 ? 0xa0 : 0x80;
        uint8_t hi = b == 0xed ? 0x9f : 0xbf;
        if (c1 < lo || c1 > hi || (s[i + 2] & 0xc0) != 0x80) return i;
        i += 3;
        continue;
      }
      if (n - i < 4) return i;
      uint8_t c1 = s[i + 1];
      uint8_t lo = b == 0xf0 ? 0x90 : 0x80;
      uint8_t hi = b == 0xf4 ? 0x8f : 0xbf;
      if (c1 < lo || c1 > hi || (s[i + 2] & 0xc0) != 0x80 || (s[i + 3] & 0xc0) != 0x80) return i;
      i += 4;
    } while (i < n && (s[i] >= 0x80 || (i + 1 < n && s[i + 1] >= 0x80)));
  }
  return n;
}

// Shift-based UTF-8 DFA (Unicode table 3-7): 9 states encoded as multiples of 6 (0 = between
// characters, 48 = error, a sink); kUtf8Dfa[b] holds, for each state s, the next state at bits
// [s, s + 6). One table load per byte, independent of the state, and a shift+mask on the
// dependency chain.
static const uint64_t kUtf8Dfa[256] = {
    0x30c30c30c30c00ull, 0x30c30c30c30c00ull, 0x30c30c30c30c00ull, 0x30c30c30c30c00ull,
    0x30c30c30c30c00ull, 0x30c30c30c30c00ull, 0x30c30c30c30c00ull, 0x30c30c30c30c00ull,
    0x30c30c30c30c00ull, 0x30c30c30c30c00ull, 0x30c30c30c30c00ull, 0x30c30c30c30c00ull,
    0x30c30c30c30c00ull, 0x30c30c30c30c00ull, 0x30c30c30c30c00ull, 0x30c30c30c30c00ull,
    0x30c30c30c30c00ull, 0x30c30c30c30c00ull, 0x30c30c30c30c00ull, 0x30c30c30c30c00ull,
    0x30c30c30c30c00ull, 0x30c30c30c30c00ull, 0x30c30c30c30c00ull, 0x30c30c30c30c00ull,
    0x30c30c30c30c00ull, 0x30c30c30c30c00ull, 0x30c30c30c30c00ull, 0x30c30c30c30c00ull,
    0x30c30c30c30c00ull, 0x30c30c30c30c00ull, 0x30c30c30c30c00ull, 0x30c30c30c30c00ull,
    0x30c30c30c30c00ull, 0x30c30c30c30c00ull, 0x30c30c30c30c00ull, 0x30c30c30c30c00ull,
    0x30c30c30c30c00ull, 0x30c30c30c30c00ull, 0x30c30c30c30c00ull, 0x30c30c30c30c00ull,
    0x30c30c30c30c00ull, 0x30c30c30c30c00ull, 0x30c30c30c30c00ull, 0x30c30c30c30c00ull,
    0x30c30c30c30c00ull, 0x30c30c30c30c00ull, 0x30c30c30c30c00ull, 0x30c30c30c30c00ull,
    0x30c30c30c30c00ull, 0x30c30c30c30c00ull, 0x30c30c30c30c00ull, 0x30c30c30c30c00ull,
    0x30c30c30c30c00ull, 0x30c30c30c30c00ull, 0x30c30c30c30c00ull, 0x30c30c30c30c00ull,
    0x30c30c30c30c00ull, 0x30c30c30c30c00ull, 0x30c30c30c30c00ull, 0x30c30c30c30c00ull,
    0x30c30c30c30c00ull, 0x30c30c30c30c00ull, 0x30c30c30c30c00ull, 0x30c30c30c30c00ull,
    0x30c30c30c30c00ull, 0x30c30c30c30c00ull, 0x30c30c30c30c00ull, 0x30c30c30c30c00ull,
    0x30c30c30c30c00ull, 0x30c30c30c30c00ull, 0x30c30c30c30c00ull, 0x30c30c30c30c00ull,
    0x30c30c30c30c00ull, 0x30c30c30c30c00ull, 0x30c30c30c30c00ull, 0x30c30c30c30c00ull,
    0x30c30c30c30c00ull, 0x30c30c30c30c00ull, 0x30c30c30c30c00ull, 0x30c30c30c30c00ull,
    0x30c30c30c30c00ull, 0x30c30c30c30c00ull, 0x30c30c30c30c00ull, 0x30c30c30c30c00ull,
    0x30c30c30c30c00ull, 0x30c30c30c30c00ull, 0x30c30c30c30c00ull, 0x30c30c30c30c00ull,
    0x30c30c30c30c00ull, 0x30c30c30c30c00ull, 0x30c30c30c30c00ull, 0x30c30c30c30c00ull,
    0x30c30c30c30c00ull, 0x30c30c30c30c00ull, 0x30c30c30c30c00ull, 0x30c30c30c30c00ull,
    0x30c30c30c30c00ull, 0x30c30c30c30c00ull, 0x30c30c30c30c00ull, 0x30c30c30c30c00ull,
    0x30c30c30c30c00ull, 0x30c30c30c30c00ull, 0x30c30c30c30c00ull, 0x30c30c30c30c00ull,
    0x30c30c30c30c00ull, 0x30c30c30c30c00ull, 0x30c30c30c30c00ull, 0x30c30c30c30c00ull,
    0x30c30c30c30c00ull, 0x30c30c30c30c00ull, 0x30c30c30c30c00ull, 0x30c30c30c30c00ull,
    0x30c30c30c30c00ull, 0x30c30c30c30c00ull, 0x30c30c30c30c00ull, 0x30c30c30c30c00ull,
    0x30c30c30c30c00ull, 0x30c30c30c30c00ull, 0x30c30c30c30c00ull, 0x30c30c30c30c00ull,
    0x30c30c30c30c00ull, 0x30c30c30c30c00ull, 0x30c30c30c30c00ull, 0x30c30c30c30c00ull,
    0x30c30c30c30c00ull, 0x30c30c30c30c00ull, 0x30c30c30c30c00ull, 0x30c30c30c30c00ull,
    0x3030cc06c06030ull, 0x3030cc06c06030ull, 0x3030cc06c06030ull, 0x3030cc06c06030ull,
    0x3030cc06c06030ull, 0x3030cc06c06030ull, 0x3030cc06c06030ull, 0x3030cc06c06030ull,
    0x3030cc06c06030ull, 0x3030cc06c06030ull, 0x3030cc06c06030ull, 0x3030cc06c06030ull,
    0x3030cc06c06030ull, 0x3030cc06c06030ull, 0x3030cc06c06030ull, 0x3030cc06c06030ull,
    0x30c0c306c06030ull, 0x30c0c306c06030ull, 0x30c0c306c06030ull, 0x30c0c306c06030ull,
    0x30c0c306c06030ull, 0x30c0c306c06030ull, 0x30c0c306c06030ull, 0x30c0c306c06030ull,
    0x30c0c306c06030ull, 0x30c0c306c06030ull, 0x30c0c306c06030ull, 0x30c0c306c06030ull,
    0x30c0c306c06030ull, 0x30c0c306c06030ull, 0x30c0c306c06030ull, 0x30c0c306c06030ull,
    0x30c0c330186030ull, 0x30c0c330186030ull, 0x30c0c330186030ull, 0x30c0c330186030ull,
    0x30c0c330186030ull, 0x30c0c330186030ull, 0x30c0c330186030ull, 0x30c0c330186030ull,
    0x30c0c330186030ull, 0x30c0c330186030ull, 0x30c0c330186030ull, 0x30c0c330186030ull,
    0x30c0c330186030ull, 0x30c0c330186030ull, 0x30c0c330186030ull, 0x30c0c330186030ull,
    0x30c0c330186030ull, 0x30c0c330186030ull, 0x30c0c330186030ull, 0x30c0c330186030ull,
    0x30c0c330186030ull, 0x30c0c330186030ull, 0x30c0c330186030ull, 0x30c0c330186030ull,
    0x30c0c330186030ull, 0x30c0c330186030ull, 0x30c0c330186030ull, 0x30c0c330186030ull,
    0x30c0c330186030ull, 0x30c0c330186030ull, 0x30c0c330186030ull, 0x30c0c330186030ull,
    0x30c30c30c30c30ull, 0x30c30c30c30c30ull, 0x30c30c30c30c06ull, 0x30c30c30c30c06ull,
    0x30c30c30c30c06ull, 0x30c30c30c30c06ull, 0x30c30c30c30c06ull, 0x30c30c30c30c06ull,
    0x30c30c30c30c06ull, 0x30c30c30c30c06ull, 0x30c30c30c30c06ull, 0x30c30c30c30c06ull,
    0x30c30c30c30c06ull, 0x30c30c30c30c06ull, 0x30c30c30c30c06ull, 0x30c30c30c30c06ull,
    0x30c30c30c30c06ull, 0x30c30c30c30c06ull, 0x30c30c30c30c06ull, 0x30c30c30c30c06ull,
    0x30c30c30c30c06ull, 0x30c30c30c30c06ull, 0x30c30c30c30c06ull, 0x30c30c30c30c06ull,
    0x30c30c30c30c06ull, 0x30c30c30c30c06ull, 0x30c30c30c30c06ull, 0x30c30c30c30c06ull,
    0x30c30c30c30c06ull, 0x30c30c30c30c06ull, 0x30c30c30c30c06ull, 0x30c30c30c30c06ull,
    0x30c30c30c30c12ull, 0x30c30c30c30c0cull, 0x30c30c30c30c0cull, 0x30c30c30c30c0cull,
    0x30c30c30c30c0cull, 0x30c30c30c30c0cull, 0x30c30c30c30c0cull, 0x30c30c30c30c0cull,
    0x30c30c30c30c0cull, 0x30c30c30c30c0cull, 0x30c30c30c30c0cull, 0x30c30c30c30c0cull,
    0x30c30c30c30c0cull, 0x30c30c30c30c18ull, 0x30c30c30c30c0cull, 0x30c30c30c30c0cull,
    0x30c30c30c30c1eull, 0x30c30c30c30c24ull, 0x30c30c30c30c24ull, 0x30c30c30c30c24ull,
    0x30c30c30c30c2aull, 0x30c30c30c30c30ull, 0x30c30c30c30c30ull, 0x30c30c30c30c30ull,
    0x30c30c30c30c30ull, 0x30c30c30c30c30ull, 0x30c30c30c30c30ull, 0x30c30c30c30c30ull,
    0x30c30c30c30c30ull, 0x30c30c30c30c30ull, 0x30c30c30c30c30ull, 0x30c30c30c30c30ull,
};

// Returns the byte length of the valid UTF-8 prefix (== n when all valid); *all_ascii tells
// whether no byte >= 0x80 was seen (then no byte is a continuation byte). ASCII runs are skipped
// by ascii_run_end; around non-ASCII bytes the DFA runs over at least 16 bytes, until it is
// between characters again. Errors are located exactly by utf8_slow_prefix.
static int64_t utf8_valid_prefix(const uint8_t* s, int64_t n, bool* all_ascii) {
  int64_t i = 0;
  bool ascii = true;
  while (i < n) {
    i = ascii_run_end(s, i, n);
    if (i >= n) break;
    ascii = false;
    int64_t start = i;  // a character start
    uint64_t st = 0;
    int64_t stop = n - i > 16 ? i + 16 : n;
    for (;;) {
      for (; i < stop; i++) st = (kUtf8Dfa[s[i]] >> st) & 63;
      if (st == 0 || st == 48 || i >= n) break;
      stop = n - i > 4 ? i + 4 : n;  // finish the character in progress
    }
    if (st != 0) {
      if (all_ascii) *all_ascii = false;
      return utf8_slow_prefix(s, start, n);
    }
  }
  if (all_ascii) *all_ascii = ascii;
  return n;
}

// Checks the known size (if any) of C buffer `ci` against `need` bytes.
static int check_size(struct vctx* c, const struct ArrowArray* a, int64_t ci, const char* what,
                      int64_t need) {
  if (need <= 0) return 0;
  if (!a->buffers[ci]) {
    return fail(c, EINVAL, "%s buffer (buffer %" PRId64 ") is NULL but %" PRId64
                " bytes are needed", what, ci, need);
  }
  int64_t known = otap__array_known_buffer_size(a, ci);
  if (known >= 0 && known < need) {
    return fail(c, EINVAL, "%s buffer (buffer %" PRId64 ") has %" PRId64 " bytes, %" PRId64
                " needed for offset %" PRId64 " + length %" PRId64, what, ci, known, need,
                a->offset, a->length);
  }
  return 0;
}

static int set_node(struct otap_array_view* v, const struct ArrowArray* a, struct vctx* c,
                    int depth);

// True when offsets o[from..to] (width w) never decrease. Branch-free inner loop over blocks
// so the compiler can vectorize it; stops after the first failing block.
static bool offsets_monotonic(const uint8_t* o, int w, int64_t from, int64_t to) {
  const int64_t block = 4096;
  for (int64_t s = from; s < to; s += block) {
    int64_t e = to - s > block ? s + block : to;
    unsigned bad = 0;
    if (w == 4) {
      int64_t i = s + 1;
#if defined(__SSE2__)
      __m128i acc = _mm_setzero_si128();
      for (; i + 4 <= e + 1; i += 4) {  // compares o[i-1..i+2] with o[i..i+3]
        __m128i p4 = _mm_loadu_si128((const __m128i*)(const void*)(o + 4 * (i - 1)));
        __m128i c4 = _mm_loadu_si128((const __m128i*)(const void*)(o + 4 * i));
        acc = _mm_or_si128(acc, _mm_cmpgt_epi32(p4, c4));
      }
      bad |= _mm_movemask_epi8(acc) != 0;
#endif
      int32_t prev;
      memcpy(&prev, o + 4 * (i - 1), 4);
      for (; i <= e; i++) {
        int32_t cur;
        memcpy(&cur, o + 4 * i, 4);
        bad |= cur < prev;
        prev = cur;
      }
    } else {
      int64_t prev;
      memcpy(&prev, o + 8 * s, 8);
      for (int64_t i = s + 1; i <= e; i++) {
        int64_t cur;
        memcpy(&cur, o + 8 * i, 8);
        bad |= cur < prev;
        prev = cur;
      }
    }
    if (bad) return false;
  }
  return true;
}

static int validate_offsets(struct otap_array_view* v, const struct ArrowArray* a, struct vctx* c,
                            int w, int64_t end, int64_t ci_offsets, int64_t* first_out,
                            int64_t* last_out) {
  *first_out = 0;
  *last_out = 0;
  if (end == 0 && !a->buffers[ci_offsets]) return 0;
  int64_t need;
  if (otap__add_ovf(end, 1, &need) || otap__mul_ovf(need, w, &need)) {
    return fail(c, EINVAL, "length overflows");
  }
  OTAP_RETURN_NOT_OK(check_size(c, a, ci_offsets, "offsets", need));
  const uint8_t* o = a->buffers[ci_offsets];
  v->buffers[1] = o;
  v->buffer_sizes[1] = need;
  int64_t first = load_off(o, w, a->offset);
  int64_t last = load_off(o, w, end);
  if (first < 0 || last < first) {
    return fail(c, EINVAL, "offsets: first offset %" PRId64 " (element 0) and last offset %" PRId64
                " (element %" PRId64 ") are out of order or negative", first, last, a->length);
  }
  // Monotonic everywhere plus o[end] == last implies every offset lies in [first, last]: one
  // branch-free pass accumulating a flag; the exact element is searched only after a failure.
  if (c->level >= OTAP_VALIDATE_FULL && !offsets_monotonic(o, w, a->offset, end)) {
    int64_t prev = first;
    for (int64_t i = a->offset + 1; i <= end; i++) {
      int64_t cur = load_off(o, w, i);
      if (cur < prev || cur > last) {
        return fail(c, EINVAL, "element %" PRId64 ": offset %" PRId64 " after %" PRId64
                    " is not monotonic or exceeds the last offset %" PRId64,
                    i - a->offset - 1, cur, prev, last);
      }
      prev = cur;
    }
  }
  *first_out = first;
  *last_out = last;
  return 0;
}

static int validate_binary_views(struct otap_array_view* v, const struct ArrowArray* a,
                                 struct vctx* c, int64_t end) {
  bool utf8 = v->storage_type == OTAP_TYPE_STRING_VIEW;
  const uint8_t* views = v->buffers[1];
  for (int64_t i = a->offset; i < end; i++) {
    const uint8_t* e = views + 16 * i;
    int32_t len;
    memcpy(&len, e, 4);
    int64_t el = i - a->offset;
    if (len < 0) return fail(c, EINVAL, "element %" PRId64 ": negative view length %d", el, len);
    const uint8_t* data;
    if (len <= 12) {
      data = e + 4;
    } else {
      int32_t idx, off;
      memcpy(&idx, e + 8, 4);
      memcpy(&off, e + 12, 4);
      if (idx < 0 || idx >= v->n_variadic) {
        return fail(c, EINVAL, "element %" PRId64 ": view buffer index %d out of range (%" PRId64
                    " variadic buffers)", el, idx, v->n_variadic);
      }
      int64_t size;
      memcpy(&size, (const uint8_t*)v->variadic_sizes + 8 * idx, 8);
      if (off < 0 || (int64_t)off + len > size) {
        return fail(c, EINVAL, "element %" PRId64 ": view range [%d, %" PRId64
                    ") exceeds variadic buffer %d of %" PRId64 " bytes", el, off,
                    (int64_t)off + len, idx, size);
      }
      data = v->variadic[idx] + off;
      if (memcmp(data, e + 4, 4) != 0) {
        return fail(c, EINVAL, "element %" PRId64 ": view prefix does not match its data", el);
      }
    }
    if (utf8 && utf8_valid_prefix(data, len, NULL) != len) {
      return fail(c, EINVAL, "element %" PRId64 ": invalid UTF-8", el);
    }
  }
  return 0;
}

static int validate_utf8_offsets(const struct ArrowArray* a, struct vctx* c, int w,
                                 const uint8_t* offsets, const uint8_t* data, int64_t first,
                                 int64_t last) {
  int64_t n = last - first;
  if (n == 0) return 0;
  bool ascii;
  int64_t ok = utf8_valid_prefix(data + first, n, &ascii);
  int64_t end = a->offset + a->length;
  if (ok != n) {
    // Locate the element holding the bad byte.
    int64_t bad = first + ok;
    for (int64_t i = a->offset; i < end; i++) {
      if (load_off(offsets, w, i + 1) > bad) {
        return fail(c, EINVAL, "element %" PRId64 ": invalid UTF-8 at byte %" PRId64
                    " of the data buffer", i - a->offset, bad);
      }
    }
    return fail(c, EINVAL, "invalid UTF-8 at byte %" PRId64 " of the data buffer", bad);
  }
  // Whole range valid and pure ASCII: no byte is a continuation byte, so no boundary splits one.
  if (ascii) return 0;
  // Whole range valid: each element boundary must not split a character. First a branch-free
  // pass (an offset equal to `last` reads data[first], a character start), then the exact
  // element on failure.
  unsigned cont = 0;
  if (w == 4) {
    for (int64_t i = a->offset + 1; i < end; i++) {
      int32_t o;
      memcpy(&o, offsets + 4 * i, 4);
      int64_t at = o < last ? o : first;
      cont |= (data[at] & 0xc0u) == 0x80u;
    }
  } else {
    for (int64_t i = a->offset + 1; i < end; i++) {
      int64_t o;
      memcpy(&o, offsets + 8 * i, 8);
      int64_t at = o < last ? o : first;
      cont |= (data[at] & 0xc0u) == 0x80u;
    }
  }
  if (!cont) return 0;
  for (int64_t i = a->offset + 1; i < end; i++) {
    int64_t o = load_off(offsets, w, i);
    if (o < last && (data[o] & 0xc0) == 0x80) {
      return fail(c, EINVAL, "element %" PRId64 ": invalid UTF-8 (starts inside a character)",
                  i - a->offset);
    }
  }
  return 0;
}

static int child(struct otap_array_view* v, const struct ArrowArray* a, struct vctx* c,
                 int64_t i, int depth) {
  const struct ArrowSchema* cs = v->schema.schema->children[i];
  size_t saved = path_push(c, cs->name, i);
  int rc = set_node(v->children[i], a->children[i], c, depth + 1);
  path_pop(c, saved);
  return rc;
}

static int set_node(struct otap_array_view* v, const struct ArrowArray* a, struct vctx* c,
                    int depth) {
  const struct otap_schema_view* sv = &v->schema;
  enum otap_type t = v->storage_type;
  v->array = a;
  memset(v->buffers, 0, sizeof(v->buffers));
  memset(v->buffer_sizes, 0, sizeof(v->buffer_sizes));
  v->n_variadic = 0;
  v->variadic = NULL;
  v->variadic_sizes = NULL;
  if (depth > MAX_DEPTH) return fail(c, EINVAL, "nesting deeper than %d", MAX_DEPTH);
  if (!a || !a->release) return fail(c, EINVAL, "array is NULL or released");
  v->length = a->length;
  v->offset = a->offset;
  v->null_count = a->null_count;
  int64_t end;
  if (a->length < 0 || a->offset < 0 || otap__add_ovf(a->offset, a->length, &end)) {
    return fail(c, EINVAL, "bad length %" PRId64 " / offset %" PRId64, a->length, a->offset);
  }
  if (a->null_count < -1 || a->null_count > a->length) {
    return fail(c, EINVAL, "null_count %" PRId64 " outside [-1, length %" PRId64 "]",
                a->null_count, a->length);
  }
  // Buffer and child counts.
  bool is_views = t == OTAP_TYPE_STRING_VIEW || t == OTAP_TYPE_BINARY_VIEW;
  if (is_views) {
    if (a->n_buffers < 3) {
      return fail(c, EINVAL, "%s array has %" PRId64 " buffers, at least 3 expected",
                  otap_type_name(t), a->n_buffers);
    }
    v->n_variadic = a->n_buffers - 3;
  } else if (a->n_buffers != sv->n_buffers) {
    return fail(c, EINVAL, "%s array has %" PRId64 " buffers, %" PRId32 " expected",
                otap_type_name(t), a->n_buffers, sv->n_buffers);
  }
  if (a->n_buffers > 0 && !a->buffers) return fail(c, EINVAL, "buffers pointer is NULL");
  if (a->n_children != v->n_children) {
    return fail(c, EINVAL, "array has %" PRId64 " children, schema has %" PRId64, a->n_children,
                v->n_children);
  }
  if (a->n_children > 0 && !a->children) return fail(c, EINVAL, "children pointer is NULL");
  for (int64_t i = 0; i < a->n_children; i++) {
    if (!a->children[i] || !a->children[i]->release) {
      return fail(c, EINVAL, "child %" PRId64 " is NULL or released", i);
    }
  }
  if (!a->dictionary != !v->dictionary) {
    return fail(c, EINVAL, a->dictionary ? "array has a dictionary but the schema has none"
                                         : "dictionary array is missing its dictionary");
  }
  // Validity.
  bool validity = otap__type_has_validity(t);
  if (validity && a->buffers[0]) {
    int64_t need = otap_bytes_for_bits(end);
    OTAP_RETURN_NOT_OK(check_size(c, a, 0, "validity", need));
    v->buffers[0] = a->buffers[0];
    v->buffer_sizes[0] = need;
    int64_t nulls = -1;
    if (a->null_count == -1 || c->level >= OTAP_VALIDATE_FULL) {
      nulls = a->length - otap_bitmap_count_set(v->buffers[0], a->offset, a->length);
    }
    if (a->null_count != -1 && nulls != -1 && nulls != a->null_count) {
      return fail(c, EINVAL, "null_count %" PRId64 " but the validity bitmap has %" PRId64
                  " nulls", a->null_count, nulls);
    }
    if (a->null_count == -1) v->null_count = nulls;
  } else if (t == OTAP_TYPE_NA) {
    v->null_count = a->length;
  } else {
    if (validity && a->null_count > 0) {
      return fail(c, EINVAL, "null_count %" PRId64 " but no validity bitmap", a->null_count);
    }
    v->null_count = 0;
  }
  // Layout-specific checks.
  int rc = 0;
  int w = 0;
  switch (t) {
    case OTAP_TYPE_NA:
      break;
    case OTAP_TYPE_STRING:
    case OTAP_TYPE_BINARY:
    case OTAP_TYPE_LARGE_STRING:
    case OTAP_TYPE_LARGE_BINARY: {
      w = (t == OTAP_TYPE_STRING || t == OTAP_TYPE_BINARY) ? 4 : 8;
      int64_t first, last;
      OTAP_RETURN_NOT_OK(validate_offsets(v, a, c, w, end, 1, &first, &last));
      OTAP_RETURN_NOT_OK(check_size(c, a, 2, "data", last));
      v->buffers[2] = a->buffers[2];
      v->buffer_sizes[2] = last;
      if (c->level >= OTAP_VALIDATE_FULL && (t == OTAP_TYPE_STRING || t == OTAP_TYPE_LARGE_STRING) &&
          a->length > 0) {
        OTAP_RETURN_NOT_OK(validate_utf8_offsets(a, c, w, v->buffers[1], v->buffers[2], first, last));
      }
      break;
    }
    case OTAP_TYPE_STRUCT:
      for (int64_t i = 0; i < a->n_children; i++) {
        OTAP_RETURN_NOT_OK(child(v, a, c, i, depth));
        if (a->children[i]->length < end) {
          return fail(c, EINVAL, "child %" PRId64 " ('%s') has length %" PRId64 ", struct needs %"
                      PRId64, i, v->schema.schema->children[i]->name ? v->schema.schema->children[i]->name : "",
                      a->children[i]->length, end);
        }
      }
      break;
    case OTAP_TYPE_LIST:
    case OTAP_TYPE_LARGE_LIST:
    case OTAP_TYPE_MAP: {
      w = t == OTAP_TYPE_LARGE_LIST ? 8 : 4;
      int64_t first, last;
      OTAP_RETURN_NOT_OK(validate_offsets(v, a, c, w, end, 1, &first, &last));
      OTAP_RETURN_NOT_OK(child(v, a, c, 0, depth));
      if (a->children[0]->length < last) {
        return fail(c, EINVAL, "last offset %" PRId64 " exceeds child length %" PRId64, last,
                    a->children[0]->length);
      }
      if (t == OTAP_TYPE_MAP && v->children[0]->children[0]->null_count > 0) {
        return fail(c, EINVAL, "map keys contain nulls");
      }
      break;
    }
    case OTAP_TYPE_FIXED_SIZE_LIST: {
      OTAP_RETURN_NOT_OK(child(v, a, c, 0, depth));
      int64_t need;
      if (otap__mul_ovf(end, sv->fixed_size, &need)) return fail(c, EINVAL, "length overflows");
      if (a->children[0]->length < need) {
        return fail(c, EINVAL, "child length %" PRId64 " < %" PRId64 " needed by %" PRId64
                    " lists of size %" PRId32, a->children[0]->length, need, end, sv->fixed_size);
      }
      break;
    }
    case OTAP_TYPE_SPARSE_UNION:
    case OTAP_TYPE_DENSE_UNION: {
      OTAP_RETURN_NOT_OK(check_size(c, a, 0, "type ids", end));
      v->buffers[1] = a->buffers[0];
      v->buffer_sizes[1] = end;
      bool dense = t == OTAP_TYPE_DENSE_UNION;
      if (dense) {
        int64_t need;
        if (otap__mul_ovf(end, 4, &need)) return fail(c, EINVAL, "length overflows");
        OTAP_RETURN_NOT_OK(check_size(c, a, 1, "union offsets", need));
        v->buffers[2] = a->buffers[1];
        v->buffer_sizes[2] = need;
      }
      for (int64_t i = 0; i < a->n_children; i++) {
        OTAP_RETURN_NOT_OK(child(v, a, c, i, depth));
        if (!dense && a->children[i]->length < end) {
          return fail(c, EINVAL, "sparse union child %" PRId64 " has length %" PRId64
                      ", needs %" PRId64, i, a->children[i]->length, end);
        }
      }
      if (c->level >= OTAP_VALIDATE_FULL && a->length > 0) {
        int8_t map[128];
        memset(map, -1, sizeof(map));
        for (int32_t k = 0; k < sv->n_union_type_ids; k++) map[sv->union_type_ids[k]] = (int8_t)k;
        for (int64_t i = a->offset; i < end; i++) {
          int8_t id = (int8_t)v->buffers[1][i];
          if (id < 0 || map[id] < 0) {
            return fail(c, EINVAL, "element %" PRId64 ": undeclared union type id %d",
                        i - a->offset, id);
          }
          if (dense) {
            int32_t off;
            memcpy(&off, v->buffers[2] + 4 * i, 4);
            int64_t clen = a->children[map[id]]->length;
            if (off < 0 || off >= clen) {
              return fail(c, EINVAL, "element %" PRId64 ": dense union offset %d outside child "
                          "%d of length %" PRId64, i - a->offset, off, map[id], clen);
            }
          }
        }
      }
      break;
    }
    case OTAP_TYPE_RUN_END_ENCODED: {
      OTAP_RETURN_NOT_OK(child(v, a, c, 0, depth));
      OTAP_RETURN_NOT_OK(child(v, a, c, 1, depth));
      const struct otap_array_view* re = v->children[0];
      if (re->null_count != 0) return fail(c, EINVAL, "run_ends contain nulls");
      if (re->length > v->children[1]->length) {
        return fail(c, EINVAL, "run_ends length %" PRId64 " exceeds values length %" PRId64,
                    re->length, v->children[1]->length);
      }
      int bytes = re->schema.bit_width / 8;
      if (a->length > 0) {
        if (re->length == 0) return fail(c, EINVAL, "no run ends for %" PRId64 " values", end);
        int64_t lastrun = load_int(re->buffers[1], bytes, re->offset + re->length - 1);
        if (lastrun < end) {
          return fail(c, EINVAL, "last run end %" PRId64 " < offset + length %" PRId64, lastrun,
                      end);
        }
      }
      if (c->level >= OTAP_VALIDATE_FULL) {
        int64_t prev = 0;
        for (int64_t i = 0; i < re->length; i++) {
          int64_t cur = load_int(re->buffers[1], bytes, re->offset + i);
          if (cur <= prev) {
            return fail(c, EINVAL, "run %" PRId64 ": run end %" PRId64
                        " is not positive and strictly increasing (previous %" PRId64 ")", i, cur,
                        prev);
          }
          prev = cur;
        }
      }
      break;
    }
    case OTAP_TYPE_STRING_VIEW:
    case OTAP_TYPE_BINARY_VIEW: {
      int64_t need;
      if (otap__mul_ovf(end, 16, &need)) return fail(c, EINVAL, "length overflows");
      OTAP_RETURN_NOT_OK(check_size(c, a, 1, "views", need));
      v->buffers[1] = a->buffers[1];
      v->buffer_sizes[1] = need;
      int64_t si = a->n_buffers - 1;
      OTAP_RETURN_NOT_OK(check_size(c, a, si, "variadic sizes", v->n_variadic * 8));
      v->variadic = (const uint8_t* const*)(a->buffers + 2);
      v->variadic_sizes = a->buffers[si];
      if (v->n_variadic > 0 && ((uintptr_t)a->buffers[si] & 7) != 0) {
        return fail(c, EINVAL, "variadic sizes buffer is not 8-byte aligned");
      }
      for (int64_t k = 0; k < v->n_variadic; k++) {
        int64_t size;
        memcpy(&size, (const uint8_t*)a->buffers[si] + 8 * k, 8);
        if (size < 0) return fail(c, EINVAL, "variadic buffer %" PRId64 " has negative size", k);
        OTAP_RETURN_NOT_OK(check_size(c, a, 2 + k, "variadic data", size));
      }
      if (c->level >= OTAP_VALIDATE_FULL) OTAP_RETURN_NOT_OK(validate_binary_views(v, a, c, end));
      break;
    }
    case OTAP_TYPE_LIST_VIEW:
    case OTAP_TYPE_LARGE_LIST_VIEW: {
      w = t == OTAP_TYPE_LIST_VIEW ? 4 : 8;
      int64_t need;
      if (otap__mul_ovf(end, w, &need)) return fail(c, EINVAL, "length overflows");
      OTAP_RETURN_NOT_OK(check_size(c, a, 1, "list view offsets", need));
      OTAP_RETURN_NOT_OK(check_size(c, a, 2, "list view sizes", need));
      v->buffers[1] = a->buffers[1];
      v->buffers[2] = a->buffers[2];
      v->buffer_sizes[1] = v->buffer_sizes[2] = need;
      OTAP_RETURN_NOT_OK(child(v, a, c, 0, depth));
      if (c->level >= OTAP_VALIDATE_FULL) {
        int64_t clen = a->children[0]->length;
        for (int64_t i = a->offset; i < end; i++) {
          int64_t off = load_off(v->buffers[1], w, i), size = load_off(v->buffers[2], w, i);
          int64_t stop;
          if (off < 0 || size < 0 || otap__add_ovf(off, size, &stop) || stop > clen) {
            return fail(c, EINVAL, "element %" PRId64 ": list view [%" PRId64 ", +%" PRId64
                        ") outside child of length %" PRId64, i - a->offset, off, size, clen);
          }
        }
      }
      break;
    }
    default: {
      // Fixed width (and dictionary indices).
      int64_t need;
      if (t == OTAP_TYPE_BOOL) {
        need = otap_bytes_for_bits(end);
      } else if (otap__mul_ovf(end, sv->bit_width / 8, &need)) {
        return fail(c, EINVAL, "length overflows");
      }
      OTAP_RETURN_NOT_OK(check_size(c, a, 1, "values", need));
      v->buffers[1] = a->buffers[1];
      v->buffer_sizes[1] = need;
      break;
    }
  }
  if (v->dictionary) {
    size_t saved = path_push(c, "<dictionary>", 0);
    rc = set_node(v->dictionary, a->dictionary, c, depth + 1);
    path_pop(c, saved);
    if (rc) return rc;
    if (c->level >= OTAP_VALIDATE_FULL && a->length > 0) {
      int bytes = sv->bit_width / 8;
      bool uns = is_unsigned(t);
      int64_t dlen = a->dictionary->length;
      // Fast path: min/max reduction over all indices (nulls included). In range means done;
      // otherwise the exact loop below decides (an out-of-range index may sit under a null).
      if (!indices_in_range(v->buffers[1], bytes, uns, a->offset, end, dlen)) {
      for (int64_t i = a->offset; i < end; i++) {
        if (v->buffers[0] && !otap_bit_get(v->buffers[0], i)) continue;
        int64_t idx = load_int(v->buffers[1], bytes, i);
        if (uns && bytes < 8) idx &= (int64_t)((1ull << (8 * bytes)) - 1);
        if (idx < 0 || idx >= dlen) {
          if (uns && bytes == 8 && idx < 0) {
            return fail(c, EINVAL, "element %" PRId64 ": dictionary index %" PRIu64
                        " out of range (dictionary length %" PRId64 ")", i - a->offset,
                        (uint64_t)idx, dlen);
          }
          return fail(c, EINVAL, "element %" PRId64 ": dictionary index %" PRId64
                      " out of range (dictionary length %" PRId64 ")", i - a->offset, idx, dlen);
        }
      }
      }
    }
  }
  return 0;
}

int otap_array_view_set(struct otap_array_view* view, const struct ArrowArray* array,
                        enum otap_validation level, struct otap_error* err) {
  struct vctx c;
  c.level = level;
  c.err = err;
  c.path[0] = '\0';
  c.path_len = 0;
  const char* root = view->schema.schema ? view->schema.schema->name : NULL;
  if (root && root[0]) path_push(&c, root, 0);
  if (!view->schema.schema) return otap_error_set(err, EINVAL, "array view: not initialized");
  if (level == OTAP_VALIDATE_NONE) {
    // Still map the buffers (pointer bookkeeping only), trusting the producer.
    c.level = OTAP_VALIDATE_NONE;
  }
  return set_node(view, array, &c, 0);
}

// ---------------------------------------------------------------------------------------------
// Accessors

int64_t otap_view_get_int(const struct otap_array_view* v, int64_t i) {
  int64_t j = v->offset + i;
  const uint8_t* b = v->buffers[1];
  switch (v->storage_type) {
    case OTAP_TYPE_BOOL: return otap_bit_get(b, j);
    case OTAP_TYPE_INT8: return (int8_t)b[j];
    case OTAP_TYPE_UINT8: return b[j];
    case OTAP_TYPE_INT16: return load_int(b, 2, j);
    case OTAP_TYPE_UINT16: return (uint16_t)load_int(b, 2, j);
    case OTAP_TYPE_INT32:
    case OTAP_TYPE_DATE32:
    case OTAP_TYPE_TIME32:
    case OTAP_TYPE_INTERVAL_MONTHS:
    case OTAP_TYPE_DECIMAL32:
      return load_int(b, 4, j);
    case OTAP_TYPE_UINT32: return (uint32_t)load_int(b, 4, j);
    case OTAP_TYPE_INT64:
    case OTAP_TYPE_UINT64:
    case OTAP_TYPE_DATE64:
    case OTAP_TYPE_TIME64:
    case OTAP_TYPE_TIMESTAMP:
    case OTAP_TYPE_DURATION:
    case OTAP_TYPE_DECIMAL64:
      return load_int(b, 8, j);
    case OTAP_TYPE_DECIMAL128: return load_int(b + 16 * j, 8, 0);
    case OTAP_TYPE_DECIMAL256: return load_int(b + 32 * j, 8, 0);
    case OTAP_TYPE_HALF_FLOAT:
    case OTAP_TYPE_FLOAT:
    case OTAP_TYPE_DOUBLE:
      return (int64_t)otap_view_get_double(v, i);
    default:
      return 0;
  }
}

uint64_t otap_view_get_uint(const struct otap_array_view* v, int64_t i) {
  return (uint64_t)otap_view_get_int(v, i);
}

double otap_view_get_double(const struct otap_array_view* v, int64_t i) {
  int64_t j = v->offset + i;
  const uint8_t* b = v->buffers[1];
  switch (v->storage_type) {
    case OTAP_TYPE_HALF_FLOAT: {
      uint16_t h;
      memcpy(&h, b + 2 * j, 2);
      return otap__half_to_double(h);
    }
    case OTAP_TYPE_FLOAT: {
      float f;
      memcpy(&f, b + 4 * j, 4);
      return f;
    }
    case OTAP_TYPE_DOUBLE: {
      double d;
      memcpy(&d, b + 8 * j, 8);
      return d;
    }
    case OTAP_TYPE_UINT64:
      return (double)otap_view_get_uint(v, i);
    default:
      return (double)otap_view_get_int(v, i);
  }
}

void otap_view_get_bytes(const struct otap_array_view* v, int64_t i, const uint8_t** data,
                         int64_t* len) {
  int64_t j = v->offset + i;
  switch (v->storage_type) {
    case OTAP_TYPE_STRING:
    case OTAP_TYPE_BINARY:
    case OTAP_TYPE_LARGE_STRING:
    case OTAP_TYPE_LARGE_BINARY: {
      int w = (v->storage_type == OTAP_TYPE_STRING || v->storage_type == OTAP_TYPE_BINARY) ? 4 : 8;
      int64_t s = load_off(v->buffers[1], w, j), e = load_off(v->buffers[1], w, j + 1);
      *data = v->buffers[2] ? v->buffers[2] + s : (const uint8_t*)"";
      *len = e - s;
      return;
    }
    case OTAP_TYPE_STRING_VIEW:
    case OTAP_TYPE_BINARY_VIEW: {
      const uint8_t* e = v->buffers[1] + 16 * j;
      int32_t l;
      memcpy(&l, e, 4);
      *len = l;
      if (l <= 12) {
        *data = e + 4;
      } else {
        int32_t idx, off;
        memcpy(&idx, e + 8, 4);
        memcpy(&off, e + 12, 4);
        *data = v->variadic[idx] + off;
      }
      return;
    }
    default: {
      int64_t w = v->schema.bit_width / 8;
      if (w > 0 && v->storage_type != OTAP_TYPE_BOOL) {
        *data = v->buffers[1] + w * j;
        *len = w;
      } else {
        *data = NULL;
        *len = 0;
      }
    }
  }
}

void otap_view_get_list_range(const struct otap_array_view* v, int64_t i, int64_t* start,
                              int64_t* end) {
  int64_t j = v->offset + i;
  switch (v->storage_type) {
    case OTAP_TYPE_LIST:
    case OTAP_TYPE_MAP:
      *start = load_off(v->buffers[1], 4, j);
      *end = load_off(v->buffers[1], 4, j + 1);
      return;
    case OTAP_TYPE_LARGE_LIST:
      *start = load_off(v->buffers[1], 8, j);
      *end = load_off(v->buffers[1], 8, j + 1);
      return;
    case OTAP_TYPE_FIXED_SIZE_LIST:
      *start = j * v->schema.fixed_size;
      *end = *start + v->schema.fixed_size;
      return;
    case OTAP_TYPE_LIST_VIEW:
    case OTAP_TYPE_LARGE_LIST_VIEW: {
      int w = v->storage_type == OTAP_TYPE_LIST_VIEW ? 4 : 8;
      *start = load_off(v->buffers[1], w, j);
      *end = *start + load_off(v->buffers[2], w, j);
      return;
    }
    default:
      *start = *end = 0;
  }
}
