// Batch helpers: byte-string interner, stable LSD radix sort, sort-policy parsing.
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "batch/batch_internal.h"

// ---------------------------------------------------------------------------------------------
// Interner

void otap__bintern_init(struct otap__bintern* t) { memset(t, 0, sizeof(*t)); }

void otap__bintern_reset(struct otap__bintern* t) {
  otap_free(t->slots);
  otap_free(t->slot_hash);
  otap_free(t->offs);
  otap_free(t->lens);
  otap_buffer_reset(&t->arena);
  memset(t, 0, sizeof(*t));
}

static int grow_slots(struct otap__bintern* t, struct otap_error* err) {
  int64_t cap = t->cap ? t->cap * 2 : 64;
  int32_t* slots = otap_calloc((size_t)cap, sizeof(int32_t));
  uint64_t* hashes = otap_malloc((size_t)cap * sizeof(uint64_t));
  if (!slots || !hashes) {
    otap_free(slots);
    otap_free(hashes);
    return otap_error_set(err, ENOMEM, "batch: out of memory (hash table of %lld slots)",
                          (long long)cap);
  }
  for (int64_t i = 0; i < t->cap; i++) {
    if (!t->slots[i]) continue;
    uint64_t h = t->slot_hash[i];
    int64_t j = (int64_t)(h & (uint64_t)(cap - 1));
    while (slots[j]) j = (j + 1) & (cap - 1);
    slots[j] = t->slots[i];
    hashes[j] = h;
  }
  otap_free(t->slots);
  otap_free(t->slot_hash);
  t->slots = slots;
  t->slot_hash = hashes;
  t->cap = cap;
  return 0;
}

int otap__bintern_get(struct otap__bintern* t, const void* data, int64_t len, int32_t* id,
                      bool* added, struct otap_error* err) {
  if ((t->n + 1) * 2 > t->cap) OTAP_RETURN_NOT_OK(grow_slots(t, err));
  uint64_t h = otap__batch_hash(data, len);
  int64_t j = (int64_t)(h & (uint64_t)(t->cap - 1));
  while (t->slots[j]) {
    if (t->slot_hash[j] == h) {
      int32_t cand = t->slots[j] - 1;
      if (t->lens[cand] == len &&
          (len == 0 || memcmp(t->arena.data + t->offs[cand], data, (size_t)len) == 0)) {
        *id = cand;
        if (added) *added = false;
        return 0;
      }
    }
    j = (j + 1) & (t->cap - 1);
  }
  OTAP_RETURN_IF(t->n >= INT32_MAX - 1, err, ERANGE, "batch: too many distinct values");
  if (t->n == t->ids_cap) {
    int64_t nc = t->ids_cap ? t->ids_cap * 2 : 64;
    int64_t* offs = otap_realloc(t->offs, (size_t)nc * sizeof(int64_t));
    if (offs) t->offs = offs;
    int64_t* lens = offs ? otap_realloc(t->lens, (size_t)nc * sizeof(int64_t)) : NULL;
    if (lens) t->lens = lens;
    OTAP_RETURN_IF(!offs || !lens, err, ENOMEM, "batch: out of memory (interner)");
    t->ids_cap = nc;
  }
  int64_t off = t->arena.size;
  if (len > 0) {
    int rc = otap_buffer_append(&t->arena, data, len);
    OTAP_RETURN_IF(rc, err, rc, "batch: out of memory (interner arena)");
  }
  t->offs[t->n] = off;
  t->lens[t->n] = len;
  t->slots[j] = (int32_t)t->n + 1;
  t->slot_hash[j] = h;
  *id = (int32_t)t->n;
  t->n++;
  if (added) *added = true;
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Radix sort

// A byte position of the key: word w, bits [shift, shift + 8).
struct rdig {
  int32_t w;
  int32_t shift;
};

struct rsort {
  const uint64_t* keys;
  int32_t words;
  int32_t* perm;
  int32_t* tmp;        // row scratch, same offsets as perm
  uint64_t* pre;       // per row: its top (up to 8) digits packed, same offsets
  uint64_t* pre2;      // scratch for pre
  uint32_t (*hist)[256];  // 8 histograms per recursion level
};

static inline uint32_t rbyte(const struct rsort* rs, int32_t row, const struct rdig* d) {
  return (uint32_t)((rs->keys[(int64_t)row * rs->words + d->w] >> d->shift) & 0xff);
}

// Full-key order of two rows (unsigned words, word 0 most significant).
static inline int rcmp(const struct rsort* rs, int32_t a, int32_t b) {
  const uint64_t* ka = rs->keys + (int64_t)a * rs->words;
  const uint64_t* kb = rs->keys + (int64_t)b * rs->words;
  for (int32_t w = 0; w < rs->words; w++) {
    if (ka[w] != kb[w]) return ka[w] < kb[w] ? -1 : 1;
  }
  return 0;
}

// Sorts perm[lo, lo + n) (rows in stable order, equal in every digit before dg) by the digits
// dg (most significant first): the top 8 are packed into one word per row and sorted by LSD
// passes over (word, row) pairs, which reads sequentially; each group of rows still equal is
// then sorted by the remaining digits. Random keys are ordered after 8 passes, however long.
// Small groups use insertion sort.
static void rsort_range(const struct rsort* rs, int64_t lo, int64_t n, const struct rdig* dg,
                        int32_t nd, int32_t depth) {
  int32_t* rows = rs->perm + lo;
  if (n <= 1 || nd <= 0) return;
  if (n <= 24) {
    for (int64_t i = 1; i < n; i++) {
      int32_t r = rows[i];
      int64_t j = i;
      while (j > 0 && rcmp(rs, rows[j - 1], r) > 0) {
        rows[j] = rows[j - 1];
        j--;
      }
      rows[j] = r;
    }
    return;
  }
  int32_t top = nd < 8 ? nd : 8;
  uint32_t (*h)[256] = rs->hist + (int64_t)depth * 8;
  memset(h, 0, sizeof(uint32_t) * 256 * 8);
  uint64_t* pa = rs->pre + lo;
  uint64_t* pb = rs->pre2 + lo;
  for (int64_t i = 0; i < n; i++) {
    uint64_t v = 0;
    for (int32_t d = 0; d < top; d++) v = (v << 8) | rbyte(rs, rows[i], &dg[d]);
    pa[i] = v;
    for (int32_t b = 0; b < top; b++) h[b][(v >> (8 * b)) & 0xff]++;
  }
  int32_t* ra = rows;
  int32_t* rb = rs->tmp + lo;
  for (int32_t b = 0; b < top; b++) {  // least significant packed byte first
    uint32_t* hb = h[b];
    int sh = 8 * b;
    if (hb[(pa[0] >> sh) & 0xff] == (uint32_t)n) continue;  // constant in this range
    uint32_t sum = 0;
    for (int x = 0; x < 256; x++) {
      uint32_t c = hb[x];
      hb[x] = sum;
      sum += c;
    }
    for (int64_t i = 0; i < n; i++) {
      uint64_t v = pa[i];
      uint32_t at = hb[(v >> sh) & 0xff]++;
      pb[at] = v;
      rb[at] = ra[i];
    }
    uint64_t* tp = pa;
    pa = pb;
    pb = tp;
    int32_t* tr = ra;
    ra = rb;
    rb = tr;
  }
  if (ra != rows) memcpy(rows, ra, (size_t)n * sizeof(int32_t));
  if (top == nd) return;
  for (int64_t g = 0; g < n;) {  // groups equal in the top digits
    int64_t e = g + 1;
    while (e < n && pa[e] == pa[g]) e++;
    // The group's recursion reuses pre/pre2/tmp over [g, e) only: pa beyond e stays valid.
    if (e - g > 1) rsort_range(rs, lo + g, e - g, dg + top, nd - top, depth + 1);
    g = e;
  }
}

int otap__radix_sort(const uint64_t* keys, int64_t n, int32_t words, int32_t* perm,
                     struct otap_error* err) {
  for (int64_t i = 0; i < n; i++) perm[i] = (int32_t)i;
  if (n <= 1 || words <= 0) return 0;
  int64_t nd = (int64_t)words * 8;  // digits, 0 = most significant byte of word 0
  int64_t levels = (nd + 7) / 8;
  // Which digits vary: a first row's byte seen everywhere means constant.
  struct rdig* dg = otap_malloc((size_t)nd * sizeof(*dg));
  uint64_t* diff = otap_calloc((size_t)words, sizeof(uint64_t));
  int32_t* tmp = otap_malloc((size_t)n * sizeof(int32_t));
  uint64_t* pre = otap_malloc((size_t)n * 2 * sizeof(uint64_t));
  uint32_t (*hist)[256] = otap_malloc((size_t)levels * 8 * sizeof(*hist));
  int rc = 0;
  if (!dg || !diff || !tmp || !pre || !hist) {
    rc = otap_error_set(err, ENOMEM, "batch sort: out of memory (%lld rows)", (long long)n);
    goto done;
  }
  for (int64_t i = 1; i < n; i++) {
    for (int32_t w = 0; w < words; w++) diff[w] |= keys[i * words + w] ^ keys[w];
  }
  int32_t nv = 0;
  for (int64_t d = 0; d < nd; d++) {
    struct rdig x = {(int32_t)(d / 8), (int32_t)(7 - d % 8) * 8};
    if ((diff[x.w] >> x.shift) & 0xff) dg[nv++] = x;
  }
  struct rsort rs = {keys, words, perm, tmp, pre, pre + n, hist};
  rsort_range(&rs, 0, n, dg, nv, 0);
done:
  otap_free(dg);
  otap_free(diff);
  otap_free(tmp);
  otap_free(pre);
  otap_free(hist);
  return rc;
}

// ---------------------------------------------------------------------------------------------
// Options and sort policy text

static const char* const kKeyNames[OTAP_BATCH_KEY_COUNT_] = {
    "resource",        "scope",          "trace_id",
    "span_id",         "event_name",     "severity_number",
    "time_unix_nano",  "observed_time_unix_nano",
};

const char* otap_batch_key_name(enum otap_batch_key k) {
  if ((int)k < 0 || k >= OTAP_BATCH_KEY_COUNT_) return NULL;
  return kKeyNames[k];
}

void otap_batch_options_init(struct otap_batch_options* o) {
  memset(o, 0, sizeof(*o));
  o->max_items = 8192;
  o->dedup = true;
  o->strategy = OTAP_BATCH_STRATEGY_AUTO;
}

int otap_batch_parse_sort(const char* spec, struct otap_batch_options* o,
                          struct otap_error* err) {
  OTAP_RETURN_IF(!spec || !o, err, EINVAL, "batch: sort spec: invalid arguments");
  o->n_sort_keys = 0;
  if (spec[0] == '\0' || strcmp(spec, "none") == 0) return 0;
  const char* p = spec;
  while (*p) {
    const char* end = strchr(p, ',');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    char item[64];
    OTAP_RETURN_IF(len == 0 || len >= sizeof(item), err, EINVAL,
                   "batch: sort spec '%s': empty or over-long key at offset %lld", spec,
                   (long long)(p - spec));
    memcpy(item, p, len);
    item[len] = '\0';
    bool desc = false;
    char* colon = strchr(item, ':');
    if (colon) {
      *colon = '\0';
      if (strcmp(colon + 1, "desc") == 0) {
        desc = true;
      } else {
        OTAP_RETURN_IF(strcmp(colon + 1, "asc") != 0, err, EINVAL,
                       "batch: sort spec '%s': key '%s' has suffix ':%s' (want :asc or :desc)",
                       spec, item, colon + 1);
      }
    }
    int k = -1;
    for (int i = 0; i < OTAP_BATCH_KEY_COUNT_; i++) {
      if (strcmp(item, kKeyNames[i]) == 0) k = i;
    }
    OTAP_RETURN_IF(k < 0, err, EINVAL,
                   "batch: sort spec '%s': unknown key '%s' (known: resource, scope, trace_id, "
                   "span_id, event_name, severity_number, time_unix_nano, "
                   "observed_time_unix_nano)",
                   spec, item);
    for (int32_t i = 0; i < o->n_sort_keys; i++) {
      OTAP_RETURN_IF((int)o->sort_keys[i].key == k, err, EINVAL,
                     "batch: sort spec '%s': key '%s' repeated", spec, item);
    }
    OTAP_RETURN_IF(o->n_sort_keys >= OTAP_BATCH_MAX_SORT_KEYS, err, EINVAL,
                   "batch: sort spec '%s': more than %d keys", spec, OTAP_BATCH_MAX_SORT_KEYS);
    o->sort_keys[o->n_sort_keys].key = (enum otap_batch_key)k;
    o->sort_keys[o->n_sort_keys].descending = desc;
    o->n_sort_keys++;
    p += len;
    if (*p == ',') p++;
  }
  return 0;
}

void otap_batch_format_sort(const struct otap_batch_options* o, char* buf, size_t n) {
  if (!buf || n == 0) return;
  buf[0] = '\0';
  if (!o || o->n_sort_keys <= 0) {
    snprintf(buf, n, "none");
    return;
  }
  size_t used = 0;
  for (int32_t i = 0; i < o->n_sort_keys && i < OTAP_BATCH_MAX_SORT_KEYS; i++) {
    const char* name = otap_batch_key_name(o->sort_keys[i].key);
    int w = snprintf(buf + used, n - used, "%s%s%s", i ? "," : "", name ? name : "?",
                     o->sort_keys[i].descending ? ":desc" : "");
    if (w < 0 || (size_t)w >= n - used) return;
    used += (size_t)w;
  }
}
