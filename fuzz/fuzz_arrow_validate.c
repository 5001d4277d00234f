// Fuzzes the arrow module's handling of untrusted input:
//  - even first byte: the rest is up to four '\n'-separated format strings (root + children)
//    fed to the schema parser, printer, deep copy and comparison;
//  - odd first byte: picks a schema from a table and builds an otap array whose buffers are
//    exact-size shared blocks cut from the input (so ASan sees any over-read), with lengths and
//    offsets from the input; when FULL validation accepts it, every element is read through the
//    view accessors and checked for consistency (an inconsistency aborts: a validator hole).
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "otap/arrow.h"

// ---------------------------------------------------------------------------------------------
// Schema mini-language: spec := format ['(' spec (';' spec)* ')'] ['[' spec ']']

static int parse_spec(const char** p, struct ArrowSchema* out, int depth) {
  char fmt[32];
  size_t n = 0;
  while (**p && !strchr("()[];", **p) && n + 1 < sizeof(fmt)) fmt[n++] = *(*p)++;
  fmt[n] = 0;
  if (otap_schema_init(out, fmt)) return 1;
  if (otap_schema_set_name(out, depth == 0 ? "root" : "c")) return 1;
  if (**p == '(') {
    (*p)++;
    struct ArrowSchema kids[4];
    int k = 0;
    while (k < 4) {
      if (parse_spec(p, &kids[k], depth + 1)) {
        for (int j = 0; j <= k; j++) otap_schema_release(&kids[j]);
        return 1;
      }
      k++;
      if (**p == ';') {
        (*p)++;
        continue;
      }
      break;
    }
    if (**p == ')') (*p)++;
    if (otap_schema_allocate_children(out, k)) {
      for (int j = 0; j < k; j++) otap_schema_release(&kids[j]);
      return 1;
    }
    for (int j = 0; j < k; j++) otap_schema_move(&kids[j], out->children[j]);
  }
  if (**p == '[') {
    (*p)++;
    if (otap_schema_allocate_dictionary(out) || parse_spec(p, out->dictionary, depth + 1)) return 1;
    if (**p == ']') (*p)++;
  }
  return 0;
}

static const char* const kSpecs[] = {
    "n", "b", "c", "S", "i", "L", "e", "g", "d:10,2", "d:40,2,256", "w:3", "u", "U", "z", "Z",
    "vu", "vz", "tdD", "tsn:UTC", "tin", "+s(i;u)", "+l(i)", "+L(u)", "+w:2(c)",
    "+m(+s(u;i))", "+us:0,3(i;u)", "+ud:1,2(i;u)", "+r(i;u)", "+r(s;l)", "+vl(i)", "+vL(u)",
    "C[u]", "l[vu]", "+s(+l(S[z]);b)",
};

// ---------------------------------------------------------------------------------------------
// Input reader

struct reader {
  const uint8_t* p;
  size_t n;
};

static uint8_t rd8(struct reader* r) {
  if (!r->n) return 0;
  r->n--;
  return *r->p++;
}

static void free_block(void* data, void* ctx) {
  (void)ctx;
  free(data);
}

static int fill_node(struct ArrowArray* a, const struct ArrowSchema* s, struct reader* r,
                     int depth) {
  if (depth > 4) return 1;
  struct otap_schema_view sv;
  if (otap_schema_view_init(&sv, s, NULL)) return 1;
  if (sv.storage_type == OTAP_TYPE_STRING_VIEW || sv.storage_type == OTAP_TYPE_BINARY_VIEW) {
    if (otap_array_set_variadic_count(a, rd8(r) & 3)) return 1;
  }
  for (int64_t i = 0; i < 8; i++) {
    if (!otap_array_buffer(a, i)) break;
    size_t size = rd8(r);
    if (size > r->n) size = r->n;
    uint8_t* block = malloc(size ? size : 1);
    if (!block) return 1;
    if (size) memcpy(block, r->p, size);
    r->p += size;
    r->n -= size;
    struct otap_shared* sh;
    if (otap_shared_new(&sh, block, (int64_t)size, free_block, NULL)) {
      free(block);
      return 1;
    }
    int rc = otap_array_set_buffer_shared(a, i, sh, size ? block : NULL, (int64_t)size);
    otap_shared_unref(sh);
    if (rc) return 1;
  }
  a->length = rd8(r);
  a->offset = rd8(r) & 7;
  for (int64_t i = 0; i < a->n_children; i++) {
    if (fill_node(a->children[i], s->children[i], r, depth + 1)) return 1;
  }
  if (a->dictionary && fill_node(a->dictionary, s->dictionary, r, depth + 1)) return 1;
  return 0;
}

static volatile uint64_t g_sink;

static void walk(const struct otap_array_view* v, int depth) {
  if (depth > 8) return;
  uint64_t acc = 0;
  for (int64_t i = 0; i < v->length; i++) {
    bool null = otap_view_is_null(v, i);
    switch (v->storage_type) {
      case OTAP_TYPE_STRING:
      case OTAP_TYPE_LARGE_STRING:
      case OTAP_TYPE_BINARY:
      case OTAP_TYPE_LARGE_BINARY:
      case OTAP_TYPE_STRING_VIEW:
      case OTAP_TYPE_BINARY_VIEW:
      case OTAP_TYPE_FIXED_SIZE_BINARY:
      case OTAP_TYPE_DECIMAL128:
      case OTAP_TYPE_DECIMAL256:
      case OTAP_TYPE_INTERVAL_MONTH_DAY_NANO: {
        const uint8_t* d;
        int64_t len;
        otap_view_get_bytes(v, i, &d, &len);
        if (len < 0) abort();
        for (int64_t k = 0; k < len; k++) acc += d[k];
        break;
      }
      case OTAP_TYPE_LIST:
      case OTAP_TYPE_LARGE_LIST:
      case OTAP_TYPE_MAP:
      case OTAP_TYPE_FIXED_SIZE_LIST:
      case OTAP_TYPE_LIST_VIEW:
      case OTAP_TYPE_LARGE_LIST_VIEW: {
        int64_t st, en;
        otap_view_get_list_range(v, i, &st, &en);
        if (st < 0 || en < st || en > v->children[0]->length) abort();
        break;
      }
      case OTAP_TYPE_SPARSE_UNION:
      case OTAP_TYPE_DENSE_UNION:
        acc += v->buffers[1][v->offset + i];
        break;
      case OTAP_TYPE_HALF_FLOAT:
      case OTAP_TYPE_FLOAT:
      case OTAP_TYPE_DOUBLE:
        acc += (uint64_t)(otap_view_get_double(v, i) != 0.0);
        break;
      case OTAP_TYPE_STRUCT:
      case OTAP_TYPE_RUN_END_ENCODED:
      case OTAP_TYPE_NA:
        break;
      default: {
        int64_t x = otap_view_get_int(v, i);
        acc += (uint64_t)x;
        if (v->dictionary && !null) {
          uint64_t idx = otap_view_get_uint(v, i);
          if (v->storage_type == OTAP_TYPE_UINT8) idx &= 0xff;
          if (v->storage_type == OTAP_TYPE_UINT16) idx &= 0xffff;
          if (v->storage_type == OTAP_TYPE_UINT32) idx &= 0xffffffffu;
          if (idx >= (uint64_t)v->dictionary->length) abort();
        }
      }
    }
  }
  g_sink += acc;
  for (int64_t i = 0; i < v->n_children; i++) walk(v->children[i], depth + 1);
  if (v->dictionary) walk(v->dictionary, depth + 1);
}

static void fuzz_schema(const uint8_t* data, size_t size) {
  char text[256];
  if (size > sizeof(text) - 1) size = sizeof(text) - 1;
  memcpy(text, data, size);
  text[size] = 0;
  char* parts[4];
  int n = 0;
  char* save = text;
  while (n < 4) {
    parts[n++] = save;
    char* nl = strchr(save, '\n');
    if (!nl) break;
    *nl = 0;
    save = nl + 1;
  }
  struct ArrowSchema s, copy;
  if (otap_schema_init(&s, parts[0])) return;
  if (n > 1 && otap_schema_allocate_children(&s, n - 1) == 0) {
    for (int i = 1; i < n; i++) {
      if (otap_schema_init(s.children[i - 1], parts[i])) {
        otap_schema_release(&s);
        return;
      }
    }
  }
  struct otap_schema_view v;
  if (otap_schema_view_init(&v, &s, NULL) == 0 && v.n_buffers < 0) abort();
  char buf[64];
  (void)otap_schema_format_type(&s, buf, sizeof(buf));
  if (otap_schema_deep_copy(&s, &copy, NULL) == 0) {
    if (!otap_schema_equal(&s, &copy, true)) abort();
    otap_schema_release(&copy);
  }
  struct ArrowArray a;
  if (otap_array_init_from_schema(&a, &s, NULL) == 0) {
    // Appends that succeed must always produce a valid array.
    if (otap_array_append_null(&a, 2) == 0 && otap_array_append_empty(&a, 1) == 0 &&
        otap_array_finish(&a, OTAP_VALIDATE_FULL, &s, NULL) != 0) {
      abort();
    }
    otap_array_release(&a);
  }
  otap_schema_release(&s);
}

// Allocations above 64 MiB fail (ENOMEM paths), so huge declared sizes cannot exhaust memory.
static void* capped_malloc(size_t size, void* ud) {
  (void)ud;
  return size > ((size_t)64 << 20) ? NULL : malloc(size);
}
static void* capped_realloc(void* p, size_t size, void* ud) {
  (void)ud;
  return size > ((size_t)64 << 20) ? NULL : realloc(p, size);
}
static void capped_free(void* p, void* ud) {
  (void)ud;
  free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static bool installed;
  if (!installed) {
    static const struct otap_allocator alloc = {capped_malloc, capped_realloc, capped_free, NULL};
    otap_set_allocator(&alloc);
    installed = true;
  }
  if (size < 2) return 0;
  if ((data[0] & 1) == 0) {
    fuzz_schema(data + 1, size - 1);
    return 0;
  }
  const char* spec = kSpecs[data[1] % (sizeof(kSpecs) / sizeof(kSpecs[0]))];
  struct ArrowSchema s;
  const char* p = spec;
  if (parse_spec(&p, &s, 0)) {
    otap_schema_release(&s);
    return 0;
  }
  struct ArrowArray a;
  struct reader r = {data + 2, size - 2};
  if (otap_array_init_from_schema(&a, &s, NULL) == 0) {
    if (fill_node(&a, &s, &r, 0) == 0 &&
        otap_array_finish(&a, OTAP_VALIDATE_FULL, &s, NULL) == 0) {
      struct otap_array_view v;
      if (otap_array_view_init(&v, &s, NULL) == 0) {
        if (otap_array_view_set(&v, &a, OTAP_VALIDATE_FULL, NULL) != 0) abort();
        walk(&v, 0);
        // Slices of a valid array stay valid.
        struct ArrowArray sl;
        if (a.length > 1 && otap_array_slice(&a, 1, a.length - 1, &sl, NULL) == 0) {
          if (otap_array_view_set(&v, &sl, OTAP_VALIDATE_FULL, NULL) != 0) abort();
          walk(&v, 0);
          otap_array_release(&sl);
        }
      }
      otap_array_view_reset(&v);
    }
    otap_array_release(&a);
  }
  otap_schema_release(&s);
  return 0;
}
