// Deep comparison of Arrow schemas and arrays (see arrow_compare.h). Reads the C Data
// Interface buffers directly (independent of otap's array views).
#include "arrow_compare.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void otap_test_compare_options_init(struct otap_test_compare_options* opts) {
  opts->compare_metadata = true;
  opts->exact_dictionaries = true;
  opts->compare_names = true;
  opts->compare_nullability = true;
}

// ---------------------------------------------------------------------------------------------
// Format strings

enum kind {
  K_UNKNOWN = 0,
  K_NULL,
  K_BOOL,
  K_FIXED,   // any fixed-width value compared bytewise (ints, dates, decimals, fixed binary...)
  K_FLOAT,   // half/float/double (NaN == NaN)
  K_BINARY,  // utf8/binary with 32- or 64-bit offsets
  K_VIEW,
  K_STRUCT,
  K_LIST,    // list/large list/map
  K_FSL,
  K_LISTVIEW,
  K_SPARSE,
  K_DENSE,
  K_REE,
};

struct finfo {
  enum kind kind;
  int width;       // value bytes (K_FIXED/K_FLOAT), offset bytes (K_BINARY/K_LIST/K_LISTVIEW)
  int64_t fixed;   // fixed_size_list size
  bool is_signed;  // integers
  bool text;       // utf8 (diagnostics only)
  int n_type_ids;
  int8_t type_ids[128];
};

static bool parse_format(const char* f, struct finfo* o) {
  memset(o, 0, sizeof(*o));
  if (!f) return false;
  size_t n = strlen(f);
  if (n == 1) {
    o->kind = K_FIXED;
    switch (f[0]) {
      case 'n': o->kind = K_NULL; return true;
      case 'b': o->kind = K_BOOL; return true;
      case 'c': o->width = 1; o->is_signed = true; return true;
      case 'C': o->width = 1; return true;
      case 's': o->width = 2; o->is_signed = true; return true;
      case 'S': o->width = 2; return true;
      case 'i': o->width = 4; o->is_signed = true; return true;
      case 'I': o->width = 4; return true;
      case 'l': o->width = 8; o->is_signed = true; return true;
      case 'L': o->width = 8; return true;
      case 'e': o->kind = K_FLOAT; o->width = 2; return true;
      case 'f': o->kind = K_FLOAT; o->width = 4; return true;
      case 'g': o->kind = K_FLOAT; o->width = 8; return true;
      case 'u': o->kind = K_BINARY; o->width = 4; o->text = true; return true;
      case 'z': o->kind = K_BINARY; o->width = 4; return true;
      case 'U': o->kind = K_BINARY; o->width = 8; o->text = true; return true;
      case 'Z': o->kind = K_BINARY; o->width = 8; return true;
      default: return false;
    }
  }
  if (strcmp(f, "vu") == 0 || strcmp(f, "vz") == 0) {
    o->kind = K_VIEW;
    o->text = f[1] == 'u';
    return true;
  }
  if (strncmp(f, "w:", 2) == 0) {
    o->kind = K_FIXED;
    o->width = atoi(f + 2);
    return o->width > 0;
  }
  if (strncmp(f, "d:", 2) == 0) {
    o->kind = K_FIXED;
    o->is_signed = true;
    const char* c1 = strchr(f + 2, ',');
    const char* c2 = c1 ? strchr(c1 + 1, ',') : NULL;
    int bits = c2 ? atoi(c2 + 1) : 128;
    o->width = bits / 8;
    return c1 && (bits == 32 || bits == 64 || bits == 128 || bits == 256);
  }
  if (f[0] == 't') {
    o->kind = K_FIXED;
    o->is_signed = true;
    if (strcmp(f, "tdD") == 0 || strcmp(f, "tts") == 0 || strcmp(f, "ttm") == 0 ||
        strcmp(f, "tiM") == 0) {
      o->width = 4;
    } else if (strcmp(f, "tdm") == 0 || strcmp(f, "ttu") == 0 || strcmp(f, "ttn") == 0 ||
               strcmp(f, "tiD") == 0 || (strncmp(f, "ts", 2) == 0 && n >= 4 && f[3] == ':') ||
               (strncmp(f, "tD", 2) == 0 && n == 3)) {
      o->width = 8;
    } else if (strcmp(f, "tin") == 0) {
      o->width = 16;
    } else {
      return false;
    }
    return true;
  }
  if (f[0] != '+') return false;
  if (strcmp(f, "+s") == 0) o->kind = K_STRUCT;
  else if (strcmp(f, "+l") == 0 || strcmp(f, "+m") == 0) { o->kind = K_LIST; o->width = 4; }
  else if (strcmp(f, "+L") == 0) { o->kind = K_LIST; o->width = 8; }
  else if (strcmp(f, "+vl") == 0) { o->kind = K_LISTVIEW; o->width = 4; }
  else if (strcmp(f, "+vL") == 0) { o->kind = K_LISTVIEW; o->width = 8; }
  else if (strcmp(f, "+r") == 0) o->kind = K_REE;
  else if (strncmp(f, "+w:", 3) == 0) {
    o->kind = K_FSL;
    o->fixed = atoll(f + 3);
    return o->fixed >= 0;
  } else if (strncmp(f, "+ud:", 4) == 0 || strncmp(f, "+us:", 4) == 0) {
    o->kind = f[2] == 'd' ? K_DENSE : K_SPARSE;
    const char* p = f + 4;
    while (*p && o->n_type_ids < 128) {
      o->type_ids[o->n_type_ids++] = (int8_t)atoi(p);
      p = strchr(p, ',');
      if (!p) break;
      p++;
    }
  } else {
    return false;
  }
  return true;
}

// Canonical format for comparison: decimal128's explicit ",128" dropped.
static void canonical_format(const char* f, char* out, size_t n) {
  snprintf(out, n, "%s", f ? f : "(null)");
  if (strncmp(out, "d:", 2) == 0) {
    size_t len = strlen(out);
    if (len > 4 && strcmp(out + len - 4, ",128") == 0) {
      const char* c1 = strchr(out + 2, ',');
      if (c1 && strchr(c1 + 1, ',')) out[len - 4] = 0;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Diagnostics

struct cmp {
  const struct otap_test_compare_options* opts;
  struct otap_test_diff* diff;
  char path[1024];
  bool failed;
};

static void report(struct cmp* c, const char* fmt, ...) OTAP_PRINTF(2, 3);
static void report(struct cmp* c, const char* fmt, ...) {
  if (c->failed) return;
  c->failed = true;
  if (!c->diff) return;
  char what[900];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof(what), fmt, ap);
  va_end(ap);
  snprintf(c->diff->message, sizeof(c->diff->message), "%s: %s",
           c->path[0] ? c->path : "<root>", what);
}

static size_t push(struct cmp* c, const char* fmt, ...) OTAP_PRINTF(2, 3);
static size_t push(struct cmp* c, const char* fmt, ...) {
  size_t old = strlen(c->path);
  va_list ap;
  va_start(ap, fmt);
  if (old < sizeof(c->path)) vsnprintf(c->path + old, sizeof(c->path) - old, fmt, ap);
  va_end(ap);
  return old;
}
static void pop(struct cmp* c, size_t old) { c->path[old] = 0; }

// ---------------------------------------------------------------------------------------------
// Schemas

// Metadata is a key-value map: entries are compared as a multiset (order-insensitive, as
// Arrow's own integration checks do); NULL equals an empty map.
static bool metadata_equal(struct cmp* c, const char* a, const char* b) {
  int32_t na = 0, nb = 0;
  if (otap_metadata_count(a, &na, NULL) != 0 || otap_metadata_count(b, &nb, NULL) != 0) {
    report(c, "malformed metadata");
    return false;
  }
  if (na != nb) {
    report(c, "metadata has %d entries, expected %d", nb, na);
    return false;
  }
  bool* used = calloc((size_t)(nb ? nb : 1), sizeof(bool));
  if (!used) return false;
  bool ok = true;
  for (int32_t i = 0; i < na && ok; i++) {
    struct otap_metadata_entry ea;
    if (otap_metadata_get_entry(a, i, &ea, NULL) != 0) {
      report(c, "malformed metadata entry %d", i);
      ok = false;
      break;
    }
    bool found = false;
    for (int32_t j = 0; j < nb && !found; j++) {
      struct otap_metadata_entry eb;
      if (used[j] || otap_metadata_get_entry(b, j, &eb, NULL) != 0) continue;
      if (ea.key_len == eb.key_len && memcmp(ea.key, eb.key, (size_t)ea.key_len) == 0 &&
          ea.value_len == eb.value_len &&
          memcmp(ea.value, eb.value, (size_t)ea.value_len) == 0) {
        used[j] = true;
        found = true;
      }
    }
    if (!found) {
      report(c, "metadata entry '%.*s'='%.*s' missing or different", (int)ea.key_len, ea.key,
             (int)ea.value_len, ea.value);
      ok = false;
    }
  }
  free(used);
  return ok;
}

// `map_names`: this node is a map's entries struct or one of its key/value fields, whose
// names are not significant (Schema.fbs: "not enforced"; Arrow C++ normalizes them).
static bool schema_eq(struct cmp* c, const struct ArrowSchema* e, const struct ArrowSchema* a,
                      bool root, bool dict_value, int map_names) {
  char fe[256], fa[256];
  canonical_format(e->format, fe, sizeof(fe));
  canonical_format(a->format, fa, sizeof(fa));
  if (strcmp(fe, fa) != 0) {
    report(c, "format '%s', expected '%s'", fa, fe);
    return false;
  }
  if (!root && !dict_value && !map_names && c->opts->compare_names) {
    const char* ne = e->name ? e->name : "";
    const char* na = a->name ? a->name : "";
    if (strcmp(ne, na) != 0) {
      report(c, "name '%s', expected '%s'", na, ne);
      return false;
    }
  }
  if (!root && !dict_value) {
    int64_t mask = ARROW_FLAG_DICTIONARY_ORDERED | ARROW_FLAG_MAP_KEYS_SORTED |
                   (c->opts->compare_nullability ? ARROW_FLAG_NULLABLE : 0);
    if ((e->flags & mask) != (a->flags & mask)) {
      report(c, "flags %lld, expected %lld", (long long)(a->flags & mask),
             (long long)(e->flags & mask));
      return false;
    }
  } else if (dict_value && strcmp(fe, "+m") == 0 &&
             (e->flags & ARROW_FLAG_MAP_KEYS_SORTED) != (a->flags & ARROW_FLAG_MAP_KEYS_SORTED)) {
    report(c, "keys_sorted flag differs");
    return false;
  }
  if (c->opts->compare_metadata && !metadata_equal(c, e->metadata, a->metadata)) return false;
  if (e->n_children != a->n_children) {
    report(c, "%lld children, expected %lld", (long long)a->n_children,
           (long long)e->n_children);
    return false;
  }
  if ((e->dictionary == NULL) != (a->dictionary == NULL)) {
    report(c, a->dictionary ? "dictionary-encoded, expected plain" : "plain, expected dictionary-encoded");
    return false;
  }
  for (int64_t i = 0; i < e->n_children; i++) {
    size_t m = push(c, "%s%s", c->path[0] ? " > " : "",
                    e->children[i]->name ? e->children[i]->name : "?");
    int child_map_names = strcmp(fe, "+m") == 0 ? 2 : (map_names == 2 ? 1 : 0);
    bool ok = schema_eq(c, e->children[i], a->children[i], false, false, child_map_names);
    pop(c, m);
    if (!ok) return false;
  }
  if (e->dictionary) {
    size_t m = push(c, " <dictionary>");
    bool ok = schema_eq(c, e->dictionary, a->dictionary, false, true, 0);
    pop(c, m);
    if (!ok) return false;
  }
  return true;
}

bool otap_test_schema_equal(const struct ArrowSchema* expected, const struct ArrowSchema* actual,
                            const struct otap_test_compare_options* opts,
                            struct otap_test_diff* diff) {
  struct otap_test_compare_options dflt;
  otap_test_compare_options_init(&dflt);
  struct cmp c = {opts ? opts : &dflt, diff, {0}, false};
  if (diff) diff->message[0] = 0;
  if (!expected || !actual || !expected->release || !actual->release) {
    report(&c, "schema missing or released");
    return false;
  }
  return schema_eq(&c, expected, actual, true, false, 0) && !c.failed;
}

// ---------------------------------------------------------------------------------------------
// Arrays

struct node {
  const struct ArrowSchema* schema;
  const struct ArrowArray* array;
  struct finfo f;
  bool dict;       // dictionary-encoded: f describes the indices
  struct finfo vf; // value format of a dictionary (unused otherwise)
  int64_t n_children;
  struct node* children;
  struct node* dictionary;
};

static void node_free(struct node* n) {
  if (!n) return;
  for (int64_t i = 0; i < n->n_children; i++) node_free(&n->children[i]);
  free(n->children);
  if (n->dictionary) {
    node_free(n->dictionary);
    free(n->dictionary);
  }
}

static int64_t expected_buffers(const struct node* n) {
  if (n->dict) return 2;
  switch (n->f.kind) {
    case K_NULL: case K_REE: return 0;
    case K_SPARSE: return 1;
    case K_DENSE: return 2;
    case K_STRUCT: case K_FSL: return 1;
    case K_LIST: case K_BOOL: case K_FIXED: case K_FLOAT: return 2;
    case K_BINARY: case K_LISTVIEW: return 3;
    case K_VIEW: return -1;  // variable
    default: return -1;
  }
}

static bool node_init(struct cmp* c, struct node* n, const struct ArrowSchema* s,
                      const struct ArrowArray* a, int depth) {
  memset(n, 0, sizeof(*n));
  n->schema = s;
  n->array = a;
  if (depth > 64) {
    report(c, "nesting too deep");
    return false;
  }
  if (!a || !a->release) {
    report(c, "array missing or released");
    return false;
  }
  if (!parse_format(s->format, &n->f)) {
    report(c, "unknown format '%s'", s->format ? s->format : "(null)");
    return false;
  }
  n->dict = s->dictionary != NULL;
  int64_t nb = expected_buffers(n);
  if ((nb >= 0 && a->n_buffers != nb) || (nb < 0 && a->n_buffers < 3) || a->length < 0 ||
      a->offset < 0 || (a->n_buffers > 0 && !a->buffers)) {
    report(c, "array layout: %lld buffers, length %lld, offset %lld for format '%s'",
           (long long)a->n_buffers, (long long)a->length, (long long)a->offset, s->format);
    return false;
  }
  if (a->n_children != s->n_children) {
    report(c, "array has %lld children, schema %lld", (long long)a->n_children,
           (long long)s->n_children);
    return false;
  }
  if (s->n_children > 0) {
    n->children = calloc((size_t)s->n_children, sizeof(struct node));
    if (!n->children) return false;
    n->n_children = s->n_children;
    for (int64_t i = 0; i < s->n_children; i++) {
      if (!node_init(c, &n->children[i], s->children[i], a->children[i], depth + 1)) return false;
    }
  }
  if (n->dict) {
    if (!a->dictionary) {
      report(c, "dictionary-encoded array without dictionary");
      return false;
    }
    n->dictionary = calloc(1, sizeof(struct node));
    if (!n->dictionary) return false;
    if (!node_init(c, n->dictionary, s->dictionary, a->dictionary, depth + 1)) return false;
  }
  return true;
}

static const uint8_t* bufp(const struct node* n, int64_t i) {
  return (const uint8_t*)n->array->buffers[i];
}

static bool is_null(const struct node* n, int64_t i) {
  if (n->f.kind == K_NULL && !n->dict) return true;
  if (!n->dict && (n->f.kind == K_SPARSE || n->f.kind == K_DENSE || n->f.kind == K_REE)) {
    return false;
  }
  const uint8_t* v = bufp(n, 0);
  if (!v || n->array->null_count == 0) return false;
  return !otap_bit_get(v, n->array->offset + i);
}

static int64_t load_int(const uint8_t* p, int w, bool sgn) {
  uint64_t u = 0;
  for (int i = 0; i < w; i++) u |= (uint64_t)p[i] << (8 * i);
  if (sgn && w < 8 && (u >> (8 * w - 1)) & 1) u |= ~(uint64_t)0 << (8 * w);
  return (int64_t)u;
}

static int64_t offset_at(const struct node* n, int64_t bufi, int64_t slot) {
  return load_int(bufp(n, bufi) + slot * n->f.width, n->f.width, true);
}

// Bytes of element i of a binary / view array.
static void get_bytes(const struct node* n, int64_t i, const uint8_t** p, int64_t* len) {
  int64_t slot = n->array->offset + i;
  if (n->f.kind == K_BINARY) {
    int64_t lo = offset_at(n, 1, slot), hi = offset_at(n, 1, slot + 1);
    *p = bufp(n, 2) + lo;
    *len = hi - lo;
    return;
  }
  const uint8_t* v = bufp(n, 1) + 16 * slot;
  int32_t size = (int32_t)otap_load_u32le(v);
  *len = size;
  if (size <= 12) {
    *p = v + 4;
  } else {
    int32_t bi = (int32_t)otap_load_u32le(v + 8);
    int32_t off = (int32_t)otap_load_u32le(v + 12);
    *p = bufp(n, 2 + bi) + off;
  }
}

static void describe(const struct node* n, int64_t i, char* out, size_t cap) {
  if (is_null(n, i)) {
    snprintf(out, cap, "null");
    return;
  }
  int64_t slot = n->array->offset + i;
  const struct finfo* f = &n->f;
  if (n->dict || (f->kind == K_FIXED && f->width <= 8 && n->schema->format[0] != 'w')) {
    const uint8_t* p = bufp(n, 1) + slot * f->width;
    if (f->is_signed || n->dict) snprintf(out, cap, "%lld", (long long)load_int(p, f->width, true));
    else snprintf(out, cap, "%llu", (unsigned long long)load_int(p, f->width, false));
    return;
  }
  if (f->kind == K_BOOL) {
    snprintf(out, cap, "%s", otap_bit_get(bufp(n, 1), slot) ? "true" : "false");
    return;
  }
  if (f->kind == K_FLOAT) {
    const uint8_t* p = bufp(n, 1) + slot * f->width;
    if (f->width == 4) {
      float x;
      memcpy(&x, p, 4);
      snprintf(out, cap, "%.9g", (double)x);
    } else if (f->width == 8) {
      double x;
      memcpy(&x, p, 8);
      snprintf(out, cap, "%.17g", x);
    } else {
      snprintf(out, cap, "half 0x%04x", (unsigned)otap_load_u16le(p));
    }
    return;
  }
  const uint8_t* p = NULL;
  int64_t len = 0;
  if (f->kind == K_BINARY || f->kind == K_VIEW) {
    get_bytes(n, i, &p, &len);
  } else if (f->kind == K_FIXED) {
    p = bufp(n, 1) + slot * f->width;
    len = f->width;
  } else {
    snprintf(out, cap, "(%s element)", n->schema->format);
    return;
  }
  size_t used = 0;
  if (f->text) {
    used += (size_t)snprintf(out, cap, "\"%.*s\"%s", (int)(len > 48 ? 48 : len), (const char*)p,
                             len > 48 ? "..." : "");
  } else {
    used += (size_t)snprintf(out, cap, "%lld bytes 0x", (long long)len);
    for (int64_t k = 0; k < len && k < 32 && used + 3 < cap; k++) {
      used += (size_t)snprintf(out + used, cap - used, "%02x", p[k]);
    }
    if (len > 32 && used + 4 < cap) snprintf(out + used, cap - used, "...");
  }
}

static bool elem_eq(struct cmp* c, const struct node* e, int64_t ei, const struct node* a,
                    int64_t ai);

static void mismatch(struct cmp* c, const struct node* e, int64_t ei, const struct node* a,
                     int64_t ai) {
  char de[160], da[160];
  describe(e, ei, de, sizeof(de));
  describe(a, ai, da, sizeof(da));
  report(c, "value %s, expected %s", da, de);
}

static bool range_eq(struct cmp* c, const struct node* e, int64_t e0, const struct node* a,
                     int64_t a0, int64_t n, const char* what) {
  for (int64_t k = 0; k < n; k++) {
    size_t m = push(c, " > %s[%lld]", what, (long long)k);
    bool ok = elem_eq(c, e, e0 + k, a, a0 + k);
    pop(c, m);
    if (!ok) return false;
  }
  return true;
}

static int64_t child_index_for_type(const struct finfo* f, int8_t type_id) {
  for (int i = 0; i < f->n_type_ids; i++) {
    if (f->type_ids[i] == type_id) return i;
  }
  return -1;
}

// Physical index of logical position pos in a run-end encoded array's run_ends child.
static int64_t ree_physical(const struct node* n, int64_t pos) {
  const struct node* re = &n->children[0];
  int64_t lo = 0, hi = re->array->length;  // first run whose end > pos
  while (lo < hi) {
    int64_t mid = lo + (hi - lo) / 2;
    int64_t end = load_int(bufp(re, 1) + (re->array->offset + mid) * re->f.width, re->f.width, true);
    if (end > pos) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

static bool elem_eq(struct cmp* c, const struct node* e, int64_t ei, const struct node* a,
                    int64_t ai) {
  if (c->failed) return false;
  bool en = is_null(e, ei), an = is_null(a, ai);
  if (en != an) {
    mismatch(c, e, ei, a, ai);
    return false;
  }
  if (en) return true;
  int64_t es = e->array->offset + ei, as = a->array->offset + ai;
  if (e->dict) {
    int64_t ie = load_int(bufp(e, 1) + es * e->f.width, e->f.width, e->f.is_signed);
    int64_t ia = load_int(bufp(a, 1) + as * a->f.width, a->f.width, a->f.is_signed);
    if (c->opts->exact_dictionaries && ie != ia) {
      report(c, "dictionary index %lld, expected %lld", (long long)ia, (long long)ie);
      return false;
    }
    if (ie < 0 || ie >= e->dictionary->array->length || ia < 0 ||
        ia >= a->dictionary->array->length) {
      report(c, "dictionary index out of range (%lld / %lld)", (long long)ia, (long long)ie);
      return false;
    }
    size_t m = push(c, " > dictionary[%lld]", (long long)ie);
    bool ok = elem_eq(c, e->dictionary, ie, a->dictionary, ia);
    pop(c, m);
    return ok;
  }
  const struct finfo* f = &e->f;
  switch (f->kind) {
    case K_NULL:
      return true;
    case K_BOOL:
      if (otap_bit_get(bufp(e, 1), es) != otap_bit_get(bufp(a, 1), as)) {
        mismatch(c, e, ei, a, ai);
        return false;
      }
      return true;
    case K_FIXED:
      if (memcmp(bufp(e, 1) + es * f->width, bufp(a, 1) + as * f->width, (size_t)f->width) != 0) {
        mismatch(c, e, ei, a, ai);
        return false;
      }
      return true;
    case K_FLOAT: {
      const uint8_t* pe = bufp(e, 1) + es * f->width;
      const uint8_t* pa = bufp(a, 1) + as * f->width;
      if (memcmp(pe, pa, (size_t)f->width) == 0) return true;
      bool nan_e, nan_a;
      if (f->width == 8) {
        double x, y;
        memcpy(&x, pe, 8);
        memcpy(&y, pa, 8);
        nan_e = isnan(x);
        nan_a = isnan(y);
      } else if (f->width == 4) {
        float x, y;
        memcpy(&x, pe, 4);
        memcpy(&y, pa, 4);
        nan_e = isnan(x);
        nan_a = isnan(y);
      } else {
        uint16_t x = otap_load_u16le(pe), y = otap_load_u16le(pa);
        nan_e = (x & 0x7C00) == 0x7C00 && (x & 0x3FF);
        nan_a = (y & 0x7C00) == 0x7C00 && (y & 0x3FF);
      }
      if (nan_e && nan_a) return true;
      mismatch(c, e, ei, a, ai);
      return false;
    }
    case K_BINARY:
    case K_VIEW: {
      const uint8_t *pe, *pa;
      int64_t le, la;
      get_bytes(e, ei, &pe, &le);
      get_bytes(a, ai, &pa, &la);
      if (le != la || (le > 0 && memcmp(pe, pa, (size_t)le) != 0)) {
        mismatch(c, e, ei, a, ai);
        return false;
      }
      return true;
    }
    case K_STRUCT:
      for (int64_t k = 0; k < e->n_children; k++) {
        size_t m = push(c, " > %s", e->schema->children[k]->name ? e->schema->children[k]->name : "?");
        bool ok = elem_eq(c, &e->children[k], es, &a->children[k], as);
        pop(c, m);
        if (!ok) return false;
      }
      return true;
    case K_LIST:
    case K_LISTVIEW:
    case K_FSL: {
      int64_t e0, e1, a0, a1;
      if (f->kind == K_LIST) {
        e0 = offset_at(e, 1, es);
        e1 = offset_at(e, 1, es + 1);
        a0 = offset_at(a, 1, as);
        a1 = offset_at(a, 1, as + 1);
      } else if (f->kind == K_LISTVIEW) {
        e0 = offset_at(e, 1, es);
        e1 = e0 + offset_at(e, 2, es);
        a0 = offset_at(a, 1, as);
        a1 = a0 + offset_at(a, 2, as);
      } else {
        e0 = es * f->fixed;
        e1 = e0 + f->fixed;
        a0 = as * a->f.fixed;
        a1 = a0 + a->f.fixed;
      }
      if (e1 - e0 != a1 - a0) {
        report(c, "list of %lld elements, expected %lld", (long long)(a1 - a0),
               (long long)(e1 - e0));
        return false;
      }
      const char* item = e->schema->children[0]->name ? e->schema->children[0]->name : "item";
      return range_eq(c, &e->children[0], e0, &a->children[0], a0, e1 - e0, item);
    }
    case K_SPARSE:
    case K_DENSE: {
      int8_t te = (int8_t)bufp(e, 0)[es], ta = (int8_t)bufp(a, 0)[as];
      if (te != ta) {
        report(c, "union type id %d, expected %d", ta, te);
        return false;
      }
      int64_t ke = child_index_for_type(&e->f, te), ka = child_index_for_type(&a->f, ta);
      if (ke < 0 || ka < 0) {
        report(c, "union type id %d not declared", te);
        return false;
      }
      int64_t ce = es, ca = as;
      if (f->kind == K_DENSE) {
        ce = load_int(bufp(e, 1) + 4 * es, 4, true);
        ca = load_int(bufp(a, 1) + 4 * as, 4, true);
      }
      size_t m = push(c, " > %s", e->schema->children[ke]->name ? e->schema->children[ke]->name : "?");
      bool ok = elem_eq(c, &e->children[ke], ce, &a->children[ka], ca);
      pop(c, m);
      return ok;
    }
    case K_REE: {
      int64_t pe = ree_physical(e, es), pa = ree_physical(a, as);
      if (pe >= e->children[1].array->length || pa >= a->children[1].array->length) {
        report(c, "run-end encoded position beyond the last run");
        return false;
      }
      size_t m = push(c, " > values");
      bool ok = elem_eq(c, &e->children[1], pe, &a->children[1], pa);
      pop(c, m);
      return ok;
    }
    default:
      report(c, "cannot compare format '%s'", e->schema->format);
      return false;
  }
}

// Whole-dictionary comparison for exact mode, recursively over the node trees.
static bool dictionaries_eq(struct cmp* c, const struct node* e, const struct node* a) {
  if (e->dict && c->opts->exact_dictionaries) {
    const struct node* de = e->dictionary;
    const struct node* da = a->dictionary;
    if (de->array->length != da->array->length) {
      report(c, "dictionary of %lld values, expected %lld", (long long)da->array->length,
             (long long)de->array->length);
      return false;
    }
    if (!range_eq(c, de, 0, da, 0, de->array->length, "dictionary")) return false;
    if (!dictionaries_eq(c, de, da)) return false;
  }
  for (int64_t k = 0; k < e->n_children && k < a->n_children; k++) {
    if (!dictionaries_eq(c, &e->children[k], &a->children[k])) return false;
  }
  return true;
}

bool otap_test_array_equal(const struct ArrowSchema* expected_schema,
                           const struct ArrowArray* expected,
                           const struct ArrowSchema* actual_schema,
                           const struct ArrowArray* actual,
                           const struct otap_test_compare_options* opts,
                           struct otap_test_diff* diff) {
  struct otap_test_compare_options dflt;
  otap_test_compare_options_init(&dflt);
  struct cmp c = {opts ? opts : &dflt, diff, {0}, false};
  if (diff) diff->message[0] = 0;
  struct node ne, na;
  memset(&ne, 0, sizeof(ne));
  memset(&na, 0, sizeof(na));
  bool ok = false;
  {
    struct otap_test_compare_options types_only = *c.opts;
    types_only.compare_metadata = false;
    types_only.compare_names = false;
    types_only.compare_nullability = false;
    const struct otap_test_compare_options* saved = c.opts;
    c.opts = &types_only;
    bool same = schema_eq(&c, expected_schema, actual_schema, true, false, 0);
    c.opts = saved;
    if (!same) goto done;
  }
  if (!node_init(&c, &ne, expected_schema, expected, 0)) goto done;
  {
    size_t m = push(&c, "actual");
    bool good = node_init(&c, &na, actual_schema, actual, 0);
    pop(&c, m);
    if (!good) goto done;
  }
  if (expected->length != actual->length) {
    report(&c, "length %lld, expected %lld", (long long)actual->length,
           (long long)expected->length);
    goto done;
  }
  if (ne.f.kind == K_STRUCT && !ne.dict) {
    // Record-batch shape: report per column and row.
    if (expected->null_count != 0 || actual->null_count != 0) {
      for (int64_t r = 0; r < expected->length; r++) {
        if (is_null(&ne, r) != is_null(&na, r)) {
          size_t m = push(&c, "row %lld", (long long)r);
          report(&c, "struct validity differs");
          pop(&c, m);
          goto done;
        }
      }
    }
    for (int64_t k = 0; k < ne.n_children; k++) {
      const char* name = expected_schema->children[k]->name;
      size_t m = push(&c, "column '%s'", name ? name : "?");
      if (!dictionaries_eq(&c, &ne.children[k], &na.children[k])) goto done;
      for (int64_t r = 0; r < expected->length; r++) {
        if (is_null(&ne, r)) continue;
        size_t m2 = push(&c, " row %lld", (long long)r);
        bool good = elem_eq(&c, &ne.children[k], expected->offset + r, &na.children[k],
                            actual->offset + r);
        pop(&c, m2);
        if (!good) goto done;
      }
      pop(&c, m);
    }
  } else {
    if (!dictionaries_eq(&c, &ne, &na)) goto done;
    for (int64_t r = 0; r < expected->length; r++) {
      size_t m = push(&c, "row %lld", (long long)r);
      bool good = elem_eq(&c, &ne, r, &na, r);
      pop(&c, m);
      if (!good) goto done;
    }
  }
  ok = !c.failed;
done:
  node_free(&ne);
  node_free(&na);
  return ok;
}
