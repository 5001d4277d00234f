// Tests of the OTAP logs batcher: the upstream test-plan facts (reference section 5) ported as
// our own cases, property tests over the seeded generator, bad inputs and allocation failures.
// OTAP_BATCH_LONG=1 runs the long property sweep (J up to 64, up to 65,536 logs per input).
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "otap/batch.h"
#include "otap/logs.h"
#include "testutil.h"

// ---------------------------------------------------------------------------------------------
// Reading helpers (test side, independent of the batcher's code)

struct tcol {
  struct otap_array_view* v;
  struct otap_array_view* parent;
  int64_t base, pbase;
};

static int64_t fidx(const struct ArrowSchema* s, const char* name) {
  for (int64_t i = 0; s && i < s->n_children; i++) {
    if (s->children[i]->name && strcmp(s->children[i]->name, name) == 0) return i;
  }
  return -1;
}

static struct tcol tfind(struct otap_array_view* t, const struct ArrowSchema* s, const char* a,
                         const char* b) {
  struct tcol c;
  memset(&c, 0, sizeof(c));
  int64_t j = fidx(s, a);
  if (j < 0) return c;
  if (!b) {
    c.v = t->children[j];
    c.base = t->offset;
    return c;
  }
  int64_t k = fidx(s->children[j], b);
  if (k < 0) return c;
  c.parent = t->children[j];
  c.pbase = t->offset;
  c.v = t->children[j]->children[k];
  c.base = t->offset + t->children[j]->offset;
  return c;
}

static bool tnull(const struct tcol* c, int64_t i) {
  if (!c->v) return true;
  if (c->parent && otap_view_is_null(c->parent, c->pbase + i)) return true;
  if (otap_view_is_null(c->v, c->base + i)) return true;
  if (c->v->dictionary) return otap_view_is_null(c->v->dictionary, otap_view_get_int(c->v, c->base + i));
  return false;
}

static int64_t tint(const struct tcol* c, int64_t i) {
  if (tnull(c, i)) return INT64_MIN;
  if (c->v->dictionary) return otap_view_get_int(c->v->dictionary, otap_view_get_int(c->v, c->base + i));
  return otap_view_get_int(c->v, c->base + i);
}

// Bytes as a printable token into buf ("<null>" for null).
static void tbytes(const struct tcol* c, int64_t i, char* buf, size_t n) {
  if (tnull(c, i)) {
    snprintf(buf, n, "<null>");
    return;
  }
  const uint8_t* p;
  int64_t len;
  if (c->v->dictionary) {
    otap_view_get_bytes(c->v->dictionary, otap_view_get_int(c->v, c->base + i), &p, &len);
  } else {
    otap_view_get_bytes(c->v, c->base + i, &p, &len);
  }
  size_t o = 0;
  for (int64_t k = 0; k < len && o + 3 < n; k++) o += (size_t)snprintf(buf + o, n - o, "%02x", p[k]);
  buf[o] = '\0';
}

struct tview {
  struct otap_array_view v[OTAP_LOGS_N_TABLES];
  bool has[OTAP_LOGS_N_TABLES];
};

static void tview_open(struct tview* tv, const struct otap_logs_payload* p) {
  memset(tv, 0, sizeof(*tv));
  for (int t = 0; t < OTAP_LOGS_N_TABLES; t++) {
    if (!otap_logs_payload_has_table(p, (enum otap_logs_table)t)) continue;
    struct otap_error err;
    assert_int_equal(otap_array_view_init(&tv->v[t], &p->schema[t], &err), 0);
    assert_int_equal(otap_array_view_set(&tv->v[t], &p->batch[t], OTAP_VALIDATE_FULL, &err), 0);
    tv->has[t] = true;
  }
}

static void tview_close(struct tview* tv) {
  for (int t = 0; t < OTAP_LOGS_N_TABLES; t++) otap_array_view_reset(&tv->v[t]);
}

// Canonical text of the attribute set of parent `pid` in an attribute table (sorted lines).
static int cmp_str(const void* a, const void* b) {
  return strcmp(*(char* const*)a, *(char* const*)b);
}

static void attr_set_text(struct tview* tv, const struct otap_logs_payload* p,
                          enum otap_logs_table t, int64_t pid, char* out, size_t n) {
  out[0] = '\0';
  if (!tv->has[t] || pid < 0) return;
  struct otap_array_view* v = &tv->v[t];
  const struct ArrowSchema* s = &p->schema[t];
  struct tcol cp = tfind(v, s, "parent_id", NULL), ck = tfind(v, s, "key", NULL),
              ct = tfind(v, s, "type", NULL);
  static const char* const kVal[8] = {NULL, "str", "int", "double", "bool", "ser", "ser", "bytes"};
  char* lines[512];
  int nl = 0;
  for (int64_t r = 0; r < v->length && nl < 512; r++) {
    if (tint(&cp, r) != pid) continue;
    char key[256], val[512] = "";
    tbytes(&ck, r, key, sizeof(key));
    int64_t type = tint(&ct, r);
    if (type > 0 && type < 8) {
      struct tcol cv = tfind(v, s, kVal[type], NULL);
      if (type == 2 || type == 4) {
        if (!tnull(&cv, r)) snprintf(val, sizeof(val), "%lld", (long long)tint(&cv, r));
      } else if (type == 3) {
        if (!tnull(&cv, r)) snprintf(val, sizeof(val), "%.17g", otap_view_get_double(cv.v, cv.base + r));
      } else {
        tbytes(&cv, r, val, sizeof(val));
      }
    }
    char* line = malloc(900);
    snprintf(line, 900, "%s|%lld|%s", key, (long long)type, val);
    lines[nl++] = line;
  }
  qsort(lines, (size_t)nl, sizeof(char*), cmp_str);
  size_t o = 0;
  for (int i = 0; i < nl; i++) {
    o += (size_t)snprintf(out + o, o < n ? n - o : 0, "%s;", lines[i]);
    free(lines[i]);
  }
}

// ---------------------------------------------------------------------------------------------
// The output checker

struct check {
  int64_t max_items;
  const struct otap_batch_options* o;
  bool dedup;
};

static int cmp_memhex(const char* a, const char* b) { return strcmp(a, b); }

// Every dictionary of an output is fully referenced (no unreferenced values) and holds
// distinct values (deduplicated across inputs), except that adaptive dictionaries (the
// default) may hold a value twice once the column has more than 256 distinct values: the key
// width always follows the distinct count (u8 keys only up to 256).
struct dval {
  const uint8_t* p;
  int64_t len;
  bool null;
};

static int cmp_dval(const void* a, const void* b) {
  const struct dval* x = a;
  const struct dval* y = b;
  if (x->null != y->null) return x->null ? -1 : 1;
  int64_t m = x->len < y->len ? x->len : y->len;
  int c = m > 0 ? memcmp(x->p, y->p, (size_t)m) : 0;
  if (c) return c;
  return (x->len > y->len) - (x->len < y->len);
}

static void check_dicts(const struct otap_array_view* v, int64_t rows, int64_t base, bool exact) {
  for (int64_t c = 0; c < v->n_children; c++) {
    const struct otap_array_view* col = v->children[c];
    if (col->storage_type == OTAP_TYPE_STRUCT) {
      check_dicts(col, rows, base + col->offset, exact);
      continue;
    }
    const struct otap_array_view* d = col->dictionary;
    if (!d) continue;
    int64_t n = d->length;
    struct dval* vals = calloc((size_t)(n > 0 ? n : 1), sizeof(*vals));
    bool* used = calloc((size_t)(n > 0 ? n : 1), 1);
    for (int64_t i = 0; i < n; i++) {
      vals[i].null = otap_view_is_null(d, i);
      if (!vals[i].null) otap_view_get_bytes(d, i, &vals[i].p, &vals[i].len);
      if (d->storage_type != OTAP_TYPE_STRING && d->storage_type != OTAP_TYPE_BINARY &&
          !vals[i].null) {
        // fixed width: bytes of the value
        int w = d->storage_type == OTAP_TYPE_INT32 ? 4 : d->storage_type == OTAP_TYPE_INT64 ? 8 : 0;
        if (w) {
          vals[i].p = d->buffers[1] + (d->offset + i) * w;
          vals[i].len = w;
        }
      }
    }
    for (int64_t r = 0; r < rows; r++) {
      if (otap_view_is_null(col, base + r)) continue;
      int64_t k = otap_view_get_int(col, base + r);
      assert_true(k >= 0 && k < n);
      used[k] = true;
    }
    for (int64_t i = 0; i < n; i++) assert_true(used[i]);
    qsort(vals, (size_t)n, sizeof(*vals), cmp_dval);
    int64_t distinct = n > 0 ? 1 : 0;
    for (int64_t i = 1; i < n; i++) distinct += cmp_dval(&vals[i - 1], &vals[i]) != 0;
    if (exact || distinct <= 256) assert_int_equal(distinct, n);
    if (col->storage_type == OTAP_TYPE_UINT8) assert_true(n <= 256);
    free(vals);
    free(used);
  }
}

static void check_outputs(const struct otap_logs_payload* in, int64_t n_in,
                          const struct otap_logs_payload* out, int64_t n_out,
                          const struct otap_batch_options* o) {
  struct otap_error err;
  // Record counts: K-1 full, last non-empty.
  int64_t total_in = 0, total_out = 0;
  for (int64_t i = 0; i < n_in; i++) total_in += otap_logs_payload_num_records(&in[i]);
  for (int64_t k = 0; k < n_out; k++) {
    int64_t r = otap_logs_payload_num_records(&out[k]);
    total_out += r;
    if (k + 1 < n_out) {
      assert_int_equal(r, o->max_items);
    } else {
      assert_true(r >= 1 && r <= o->max_items);
    }
  }
  assert_int_equal(total_in, total_out);
  assert_int_equal(n_out, (total_in + o->max_items - 1) / o->max_items);
  // Equivalence.
  bool equal = false;
  struct otap_buffer report;
  otap_buffer_init(&report);
  assert_int_equal(otap_logs_equiv(in, n_in, out, n_out, NULL, &equal, &report, &err), 0);
  if (!equal) fprintf(stderr, "not equivalent:\n%.*s\n", (int)report.size, (const char*)report.data);
  assert_true(equal);
  otap_buffer_reset(&report);
  for (int64_t k = 0; k < n_out; k++) {
    const struct otap_logs_payload* p = &out[k];
    // Spec validity with plain ids and resolving references.
    struct otap_logs_validate_options vo;
    otap_logs_validate_options_init(&vo);
    vo.require_plain_ids = true;
    vo.check_references = true;
    int rc = otap_logs_validate(p, &vo, &err);
    if (rc) fprintf(stderr, "output %lld invalid: %s\n", (long long)k, err.message);
    assert_int_equal(rc, 0);
    struct tview tv;
    tview_open(&tv, p);
    for (int t = 0; t < OTAP_LOGS_N_TABLES; t++) {
      if (tv.has[t]) check_dicts(&tv.v[t], tv.v[t].length, tv.v[t].offset,
                                 o->exact_dictionaries);
    }
    const struct ArrowSchema* ls = &p->schema[OTAP_LOGS_LOGS];
    struct otap_array_view* lv = &tv.v[OTAP_LOGS_LOGS];
    int64_t n = lv->length;
    // Sort metadata recorded.
    const char* val;
    int32_t vlen;
    assert_int_equal(otap_metadata_find(ls->metadata, "otap.batch.sort", &val, &vlen), 0);
    char want[256];
    otap_batch_format_sort(o, want, sizeof(want));
    assert_int_equal(vlen, (int32_t)strlen(want));
    assert_memory_equal(val, want, (size_t)vlen);
    // LOGS.id dense from 0 in row order; null kept for records without attributes.
    struct tcol id = tfind(lv, ls, "id", NULL);
    int64_t next = 0;
    for (int64_t r = 0; r < n; r++) {
      if (tnull(&id, r)) continue;
      assert_int_equal(tint(&id, r), next);
      next++;
    }
    // resource.id / scope.id dense by first use; per output every resource/scope content once.
    static const char* const kS[2] = {"resource", "scope"};
    static const enum otap_logs_table kT[2] = {OTAP_LOGS_RESOURCE_ATTRS, OTAP_LOGS_SCOPE_ATTRS};
    for (int q = 0; q < 2; q++) {
      struct tcol sid = tfind(lv, ls, kS[q], "id");
      int64_t nxt = 0;
      char** content = calloc((size_t)n + 1, sizeof(char*));
      for (int64_t r = 0; r < n; r++) {
        if (tnull(&sid, r)) continue;
        int64_t x = tint(&sid, r);
        assert_true(x <= nxt);
        if (x < nxt) continue;
        nxt++;
        // content of resource/scope x
        char* buf = malloc(65536);
        attr_set_text(&tv, p, kT[q], x, buf, 60000);
        size_t o2 = strlen(buf);
        char tmp[512];
        if (q == 0) {
          struct tcol u = tfind(lv, ls, "resource", "schema_url");
          tbytes(&u, r, tmp, sizeof(tmp));
          o2 += (size_t)snprintf(buf + o2, 65536 - o2, "#%s", strcmp(tmp, "<null>") ? tmp : "");
        } else {
          struct tcol nm = tfind(lv, ls, "scope", "name"), vs = tfind(lv, ls, "scope", "version");
          tbytes(&nm, r, tmp, sizeof(tmp));
          o2 += (size_t)snprintf(buf + o2, 65536 - o2, "#%s", strcmp(tmp, "<null>") ? tmp : "");
          tbytes(&vs, r, tmp, sizeof(tmp));
          o2 += (size_t)snprintf(buf + o2, 65536 - o2, "#%s", strcmp(tmp, "<null>") ? tmp : "");
        }
        struct tcol dc = tfind(lv, ls, kS[q], "dropped_attributes_count");
        int64_t d = tint(&dc, r);
        snprintf(buf + o2, 65536 - o2, "#%lld", (long long)(d == INT64_MIN ? 0 : d));
        content[x] = buf;
      }
      if (o->dedup) {
        for (int64_t a = 0; a < nxt; a++) {
          for (int64_t b = a + 1; b < nxt; b++) assert_true(cmp_memhex(content[a], content[b]) != 0);
        }
      }
      for (int64_t a = 0; a < nxt; a++) free(content[a]);
      free(content);
    }
    // Attribute tables sorted by parent_id.
    for (int t = 0; t < OTAP_LOGS_N_TABLES; t++) {
      if (t == OTAP_LOGS_LOGS || !tv.has[t]) continue;
      struct tcol pc = tfind(&tv.v[t], &p->schema[t], "parent_id", NULL);
      for (int64_t r = 1; r < tv.v[t].length; r++) assert_true(tint(&pc, r - 1) <= tint(&pc, r));
    }
    // Sort order: within runs of equal earlier keys, resource/scope values are contiguous and
    // value keys are ordered.
    if (o->n_sort_keys > 0 && n > 1) {
      int64_t gstart = 0;  // start of the group of rows equal on the keys before m
      (void)gstart;
      for (int32_t m = 0; m < o->n_sort_keys; m++) {
        enum otap_batch_key key = o->sort_keys[m].key;
        bool desc = o->sort_keys[m].descending;
        static const char* const kCol[] = {NULL, NULL, "trace_id", "span_id", "event_name",
                                           "severity_number", "time_unix_nano",
                                           "observed_time_unix_nano"};
        for (int64_t r = 1; r < n; r++) {
          // rows r-1 and r in the same group for keys < m?
          bool same_group = true;
          for (int32_t q = 0; q < m && same_group; q++) {
            enum otap_batch_key kq = o->sort_keys[q].key;
            char a[128], b[128];
            struct tcol cq = kq <= OTAP_BATCH_KEY_SCOPE ? tfind(lv, ls, kS[kq], "id")
                                                        : tfind(lv, ls, kCol[kq], NULL);
            if (kq == OTAP_BATCH_KEY_TRACE_ID || kq == OTAP_BATCH_KEY_SPAN_ID ||
                kq == OTAP_BATCH_KEY_EVENT_NAME) {
              tbytes(&cq, r - 1, a, sizeof(a));
              tbytes(&cq, r, b, sizeof(b));
              same_group = strcmp(a, b) == 0;
            } else {
              same_group = tint(&cq, r - 1) == tint(&cq, r);
            }
          }
          if (!same_group) continue;
          if (key <= OTAP_BATCH_KEY_SCOPE) {
            struct tcol cq = tfind(lv, ls, kS[key], "id");
            int64_t x = tint(&cq, r);
            if (x == tint(&cq, r - 1)) continue;
            // x must not occur earlier in this group.
            for (int64_t z = r - 1; z >= 0; z--) {
              bool zs = true;
              for (int32_t q = 0; q < m && zs; q++) {
                enum otap_batch_key kq = o->sort_keys[q].key;
                struct tcol cz = kq <= OTAP_BATCH_KEY_SCOPE ? tfind(lv, ls, kS[kq], "id")
                                                            : tfind(lv, ls, kCol[kq], NULL);
                if (kq == OTAP_BATCH_KEY_TRACE_ID || kq == OTAP_BATCH_KEY_SPAN_ID ||
                    kq == OTAP_BATCH_KEY_EVENT_NAME) {
                  char a[128], b[128];
                  tbytes(&cz, z, a, sizeof(a));
                  tbytes(&cz, r, b, sizeof(b));
                  zs = strcmp(a, b) == 0;
                } else {
                  zs = tint(&cz, z) == tint(&cz, r);
                }
              }
              if (!zs) break;
              assert_true(tint(&cq, z) != x);
            }
          } else {
            struct tcol cq = tfind(lv, ls, kCol[key], NULL);
            int c;
            if (key == OTAP_BATCH_KEY_TRACE_ID || key == OTAP_BATCH_KEY_SPAN_ID ||
                key == OTAP_BATCH_KEY_EVENT_NAME) {
              char a[256], b[256];
              bool na = tnull(&cq, r - 1), nb = tnull(&cq, r);
              tbytes(&cq, r - 1, a, sizeof(a));
              tbytes(&cq, r, b, sizeof(b));
              if (key == OTAP_BATCH_KEY_EVENT_NAME) {
                // Compare raw bytes: hex of bytes orders like the bytes.
                c = na && nb ? 0 : na ? -1 : nb ? 1 : strcmp(a, b);
              } else {
                const char* za = "00000000000000000000000000000000";
                c = strcmp(na ? za : a, nb ? za : b);
              }
            } else {
              int64_t x = tint(&cq, r - 1), y = tint(&cq, r);
              c = (x > y) - (x < y);
            }
            if (desc) c = -c;
            assert_true(c <= 0);
          }
        }
      }
    }
    tview_close(&tv);
  }
}

static int run_batch(const struct otap_logs_payload* in, int64_t n_in,
                     const struct otap_batch_options* o, struct otap_batch_stats* st,
                     bool check) {
  struct otap_logs_payload* out = NULL;
  int64_t n_out = 0;
  struct otap_error err;
  int rc = otap_batch_logs(in, n_in, o, &out, &n_out, st, &err);
  if (rc) {
    if (check) fprintf(stderr, "batch failed: %s\n", err.message);
    return rc;
  }
  if (check) check_outputs(in, n_in, out, n_out, o);
  otap_logs_payloads_free(out, n_out);
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Hand-built payloads

struct tb {  // table builder
  struct ArrowSchema s;
  struct ArrowArray a;
};

static void set_plain_meta(struct ArrowSchema* f) {
  struct otap_buffer b;
  otap_buffer_init(&b);
  struct otap_metadata_entry e = {"encoding", 8, "plain", 5};
  assert_int_equal(otap_metadata_encode(&b, &e, 1), 0);
  assert_int_equal(otap_schema_set_metadata(f, (const char*)b.data), 0);
  otap_buffer_reset(&b);
}

static void field(struct ArrowSchema* f, const char* format, const char* name) {
  assert_int_equal(otap_schema_init(f, format), 0);
  assert_int_equal(otap_schema_set_name(f, name), 0);
}

// LOGS with id, resource{id}, scope{id,name}, severity_number. -1 = null id.
static void make_logs(struct otap_logs_payload* p, int n, const int* ids, const int* res,
                      const int* scopes, const char* id_format) {
  struct ArrowSchema s;
  assert_int_equal(otap_schema_init(&s, "+s"), 0);
  assert_int_equal(otap_schema_allocate_children(&s, 4), 0);
  field(s.children[0], id_format, "id");
  set_plain_meta(s.children[0]);
  field(s.children[1], "+s", "resource");
  assert_int_equal(otap_schema_allocate_children(s.children[1], 1), 0);
  field(s.children[1]->children[0], "S", "id");
  set_plain_meta(s.children[1]->children[0]);
  field(s.children[2], "+s", "scope");
  assert_int_equal(otap_schema_allocate_children(s.children[2], 2), 0);
  field(s.children[2]->children[0], "S", "id");
  set_plain_meta(s.children[2]->children[0]);
  field(s.children[2]->children[1], "u", "name");
  field(s.children[3], "i", "severity_number");
  struct ArrowArray a;
  struct otap_error err;
  assert_int_equal(otap_array_init_from_schema(&a, &s, &err), 0);
  for (int i = 0; i < n; i++) {
    if (ids[i] < 0) {
      assert_int_equal(otap_array_append_null(a.children[0], 1), 0);
    } else {
      assert_int_equal(otap_array_append_int(a.children[0], ids[i]), 0);
    }
    assert_int_equal(otap_array_append_int(a.children[1]->children[0], res[i]), 0);
    assert_int_equal(otap_array_finish_element(a.children[1]), 0);
    assert_int_equal(otap_array_append_int(a.children[2]->children[0], scopes[i]), 0);
    char name[32];
    snprintf(name, sizeof(name), "scope%d", scopes[i]);
    assert_int_equal(otap_array_append_bytes(a.children[2]->children[1], name, (int64_t)strlen(name)), 0);
    assert_int_equal(otap_array_finish_element(a.children[2]), 0);
    assert_int_equal(otap_array_append_int(a.children[3], i % 5), 0);
    assert_int_equal(otap_array_finish_element(&a), 0);
  }
  assert_int_equal(otap_array_finish(&a, OTAP_VALIDATE_FULL, &s, &err), 0);
  otap_logs_payload_set_table(p, OTAP_LOGS_LOGS, &s, &a);
}

// Attribute table: parent ids, key "k<j%3>", Str value "v<parent>" (or Int when int_values).
static void make_attrs(struct otap_logs_payload* p, enum otap_logs_table t, int n,
                       const int* pids, bool int_values) {
  struct ArrowSchema s;
  assert_int_equal(otap_schema_init(&s, "+s"), 0);
  assert_int_equal(otap_schema_allocate_children(&s, 4), 0);
  field(s.children[0], "S", "parent_id");
  set_plain_meta(s.children[0]);
  field(s.children[1], "u", "key");
  field(s.children[2], "C", "type");
  field(s.children[3], int_values ? "l" : "u", int_values ? "int" : "str");
  struct ArrowArray a;
  struct otap_error err;
  assert_int_equal(otap_array_init_from_schema(&a, &s, &err), 0);
  for (int i = 0; i < n; i++) {
    assert_int_equal(otap_array_append_int(a.children[0], pids[i]), 0);
    char k[16], v[16];
    snprintf(k, sizeof(k), "k%d", i % 3);
    snprintf(v, sizeof(v), "%d", pids[i]);
    assert_int_equal(otap_array_append_bytes(a.children[1], k, (int64_t)strlen(k)), 0);
    assert_int_equal(otap_array_append_int(a.children[2], int_values ? 2 : 1), 0);
    if (int_values) {
      assert_int_equal(otap_array_append_int(a.children[3], pids[i]), 0);
    } else {
      assert_int_equal(otap_array_append_bytes(a.children[3], v, (int64_t)strlen(v)), 0);
    }
    assert_int_equal(otap_array_finish_element(&a), 0);
  }
  assert_int_equal(otap_array_finish(&a, OTAP_VALIDATE_FULL, &s, &err), 0);
  otap_logs_payload_set_table(p, t, &s, &a);
}

static void opts(struct otap_batch_options* o, int64_t max, const char* sort) {
  otap_batch_options_init(o);
  o->max_items = max;
  struct otap_error err;
  assert_int_equal(otap_batch_parse_sort(sort, o, &err), 0);
}

// ---------------------------------------------------------------------------------------------
// Upstream test-plan facts

// test_simple_batch_logs: 1..20 inputs of 3 records x max 3..5.
static void test_simple_batch_logs(void** state) {
  (void)state;
  for (int count = 1; count <= 20; count++) {
    struct otap_logs_payload in[20];
    for (int i = 0; i < count; i++) {
      otap_logs_payload_init(&in[i]);
      const int ids[3] = {-1, -1, -1}, res[3] = {0, 0, 1}, sc[3] = {0, 1, 0};
      make_logs(&in[i], 3, ids, res, sc, "S");
      const int rp[4] = {0, 0, 1, 1};
      make_attrs(&in[i], OTAP_LOGS_RESOURCE_ATTRS, 4, rp, false);
    }
    for (int max = 3; max <= 5; max++) {
      struct otap_batch_options o;
      opts(&o, max, count % 2 ? "" : "resource,scope");
      struct otap_batch_stats st;
      assert_int_equal(run_batch(in, count, &o, &st, true), 0);
      assert_int_equal(st.outputs, (3 * count + max - 1) / max);
      assert_int_equal(st.input_records, 3 * count);
    }
    for (int i = 0; i < count; i++) otap_logs_payload_reset(&in[i]);
  }
}

// test_split_logs: 6 logs, every max in 1..7, both strategies, with and without dedup.
static void test_split_logs(void** state) {
  (void)state;
  struct otap_logs_payload p;
  otap_logs_payload_init(&p);
  const int ids[6] = {0, 1, 2, 3, 4, 5}, sc[6] = {0, 0, 0, 1, 1, 2}, res[6] = {0, 0, 0, 1, 2, 3};
  make_logs(&p, 6, ids, res, sc, "S");
  const int la[6] = {0, 0, 1, 2, 3, 3}, sa[6] = {0, 0, 1, 2, 2, 2}, ra[6] = {0, 0, 1, 2, 3, 3};
  make_attrs(&p, OTAP_LOGS_LOG_ATTRS, 6, la, false);
  make_attrs(&p, OTAP_LOGS_SCOPE_ATTRS, 6, sa, false);
  make_attrs(&p, OTAP_LOGS_RESOURCE_ATTRS, 6, ra, true);
  for (int max = 1; max <= 7; max++) {
    for (int v = 0; v < 4; v++) {
      struct otap_batch_options o;
      opts(&o, max, v >= 2 ? "resource,scope" : "");
      o.dedup = v % 2 == 0;
      if (v == 1) o.strategy = OTAP_BATCH_STRATEGY_SORT;
      assert_int_equal(run_batch(&p, 1, &o, NULL, true), 0);
    }
  }
  // Singleton and empty input lists.
  struct otap_logs_payload q;
  otap_logs_payload_init(&q);
  const int one[1] = {0};
  make_logs(&q, 1, one, one, one, "S");
  struct otap_batch_options o;
  opts(&o, 1, "");
  struct otap_batch_stats st;
  assert_int_equal(run_batch(&q, 1, &o, &st, true), 0);
  assert_int_equal(st.outputs, 1);
  struct otap_logs_payload* out = NULL;
  int64_t n_out = 7;
  assert_int_equal(otap_batch_logs(NULL, 0, &o, &out, &n_out, NULL, NULL), 0);
  assert_int_equal(n_out, 0);
  assert_null(out);
  otap_logs_payload_reset(&q);
  otap_logs_payload_reset(&p);
}

// test_split_logs_multi_batch: two inputs, 7 items, every max.
static void test_split_multi_batch(void** state) {
  (void)state;
  struct otap_logs_payload in[2];
  otap_logs_payload_init(&in[0]);
  otap_logs_payload_init(&in[1]);
  {
    const int ids[3] = {0, 1, 2}, sc[3] = {0, 0, 1}, res[3] = {0, 0, 1};
    make_logs(&in[0], 3, ids, res, sc, "S");
    const int la[3] = {0, 1, 2}, sa[2] = {0, 1}, ra[2] = {0, 1};
    make_attrs(&in[0], OTAP_LOGS_LOG_ATTRS, 3, la, false);
    make_attrs(&in[0], OTAP_LOGS_SCOPE_ATTRS, 2, sa, false);
    make_attrs(&in[0], OTAP_LOGS_RESOURCE_ATTRS, 2, ra, false);
  }
  {
    const int ids[4] = {0, 1, 2, 3}, sc[4] = {0, 0, 1, 1}, res[4] = {0, 0, 0, 1};
    make_logs(&in[1], 4, ids, res, sc, "S");
    const int la[4] = {0, 1, 2, 3}, sa[2] = {0, 1}, ra[3] = {0, 0, 1};
    make_attrs(&in[1], OTAP_LOGS_LOG_ATTRS, 4, la, false);
    make_attrs(&in[1], OTAP_LOGS_SCOPE_ATTRS, 2, sa, false);
    make_attrs(&in[1], OTAP_LOGS_RESOURCE_ATTRS, 3, ra, false);
  }
  for (int max = 1; max <= 8; max++) {
    for (int v = 0; v < 3; v++) {
      struct otap_batch_options o;
      opts(&o, max, v == 2 ? "scope:desc,resource" : "");
      o.dedup = v != 1;
      assert_int_equal(run_batch(in, 2, &o, NULL, true), 0);
    }
  }
  otap_logs_payload_reset(&in[0]);
  otap_logs_payload_reset(&in[1]);
}

// Reindex bounds: 32768 + 32767 ids -> one output; + 1 more (65536) -> still one output of
// 65536 (dense 0..65535); max_items 65537 -> EINVAL.
static void test_reindex_bounds(void** state) {
  (void)state;
  static int ids[32768], zeros[32768];
  for (int i = 0; i < 32768; i++) ids[i] = i, zeros[i] = 0;
  struct otap_logs_payload in[2];
  otap_logs_payload_init(&in[0]);
  otap_logs_payload_init(&in[1]);
  make_logs(&in[0], 32768, ids, zeros, zeros, "S");
  make_logs(&in[1], 32767, ids, zeros, zeros, "S");
  struct otap_batch_options o;
  opts(&o, 65536, "");
  struct otap_batch_stats st;
  assert_int_equal(run_batch(in, 2, &o, &st, true), 0);
  assert_int_equal(st.outputs, 1);
  assert_int_equal(st.output_resources, 1);  // dedup: one resource
  otap_logs_payload_reset(&in[1]);
  make_logs(&in[1], 32768, ids, zeros, zeros, "S");
  assert_int_equal(run_batch(in, 2, &o, &st, true), 0);
  assert_int_equal(st.outputs, 1);
  assert_int_equal(st.output_records, 65536);
  o.max_items = 65535;
  assert_int_equal(run_batch(in, 2, &o, &st, true), 0);
  assert_int_equal(st.outputs, 2);
  o.max_items = 65537;
  struct otap_logs_payload* out = NULL;
  int64_t n_out = 0;
  struct otap_error err;
  assert_int_equal(otap_batch_logs(in, 2, &o, &out, &n_out, NULL, &err), EINVAL);
  assert_non_null(strstr(err.message, "max_items"));
  o.max_items = 0;
  assert_int_equal(otap_batch_logs(in, 2, &o, &out, &n_out, NULL, &err), EINVAL);
  otap_logs_payload_reset(&in[0]);
  otap_logs_payload_reset(&in[1]);
}

// Wrong id type (UInt32 LOGS.id) is rejected by validation: EINVAL naming the column.
static void test_wrong_id_type(void** state) {
  (void)state;
  struct otap_logs_payload p;
  otap_logs_payload_init(&p);
  const int ids[2] = {0, 1}, z[2] = {0, 0};
  make_logs(&p, 2, ids, z, z, "I");
  struct otap_batch_options o;
  opts(&o, 10, "");
  struct otap_logs_payload* out = NULL;
  int64_t n_out = 0;
  struct otap_error err;
  assert_int_equal(otap_batch_logs(&p, 1, &o, &out, &n_out, NULL, &err), EINVAL);
  assert_non_null(strstr(err.message, "input 0"));
  assert_non_null(strstr(err.message, "id"));
  otap_logs_payload_reset(&p);
}

// Orphans: parent ids [1,2,4], child pids [1,0,2,2,3,3,4,5,4] in two inputs: each keeps the
// 5 rows of parents 1,2,4; the 4 others per input are counted as dropped.
static void test_orphans(void** state) {
  (void)state;
  struct otap_logs_payload in[2];
  for (int i = 0; i < 2; i++) {
    otap_logs_payload_init(&in[i]);
    const int ids[3] = {1, 2, 4}, z[3] = {0, 0, 0};
    make_logs(&in[i], 3, ids, z, z, "S");
    const int pids[9] = {1, 0, 2, 2, 3, 3, 4, 5, 4};
    make_attrs(&in[i], OTAP_LOGS_LOG_ATTRS, 9, pids, false);
    const int rp[3] = {0, 7, 9};
    make_attrs(&in[i], OTAP_LOGS_RESOURCE_ATTRS, 3, rp, false);
  }
  struct otap_batch_options o;
  opts(&o, 100, "");
  struct otap_logs_payload* out = NULL;
  int64_t n_out = 0;
  struct otap_batch_stats st;
  struct otap_error err;
  assert_int_equal(otap_batch_logs(in, 2, &o, &out, &n_out, &st, &err), 0);
  assert_int_equal(n_out, 1);
  assert_int_equal(out[0].batch[OTAP_LOGS_LOG_ATTRS].length, 10);
  assert_int_equal(st.orphan_log_attrs, 8);
  assert_int_equal(st.orphan_resource_attrs, 4);
  assert_int_equal(out[0].batch[OTAP_LOGS_RESOURCE_ATTRS].length, 1);
  check_outputs(in, 2, out, n_out, &o);
  otap_logs_payloads_free(out, n_out);
  for (int i = 0; i < 2; i++) otap_logs_payload_reset(&in[i]);
}

// Overlapping / out-of-order, gapped, identical and disjoint ids across inputs, for LOGS.id,
// resource.id and scope.id.
static void test_id_overlaps(void** state) {
  (void)state;
  static const int cases[4][2][6] = {
      {{0, 5, 3, 10, 7, 11}, {2, 8, 5, 9, 11, 0}},
      {{0, 1, 10, 11, 15, 16}, {5, 6, 12, 13, 20, 21}},
      {{1, 0, 1, 0, 1, 0}, {1, 0, 1, 0, 1, 0}},
      {{0, 2, 1, 3, 2, 0}, {4, 6, 5, 7, 6, 4}},
  };
  static const int children[2][12] = {{0, 10, 10, 10, 7, 7, 3, 11, 3, 11, 3, 11},
                                      {2, 8, 8, 5, 9, 9, 0, 11, 11, 2, 5, 0}};
  for (int c = 0; c < 4; c++) {
    for (int which = 0; which < 3; which++) {
      struct otap_logs_payload in[2];
      for (int i = 0; i < 2; i++) {
        otap_logs_payload_init(&in[i]);
        int ids[6], res[6], sc[6];
        for (int r = 0; r < 6; r++) {
          ids[r] = which == 0 ? (c == 2 ? (r < 2 ? r : -1) : cases[c][i][r]) : r;
          res[r] = which == 1 ? cases[c][i][r] : 0;
          sc[r] = which == 2 ? cases[c][i][r] : 0;
        }
        if (which == 0 && c == 3) {  // unique ids needed for LOGS.id
          for (int r = 0; r < 6; r++) ids[r] = r * 2 + i * 13;
        }
        make_logs(&in[i], 6, ids, res, sc, "S");
        enum otap_logs_table t = which == 0   ? OTAP_LOGS_LOG_ATTRS
                                 : which == 1 ? OTAP_LOGS_RESOURCE_ATTRS
                                              : OTAP_LOGS_SCOPE_ATTRS;
        make_attrs(&in[i], t, 12, children[i], i == 1);
      }
      for (int max = 1; max <= 13; max += 3) {
        struct otap_batch_options o;
        opts(&o, max, max % 2 ? "resource,scope" : "");
        o.dedup = (max / 3) % 2 == 0;
        assert_int_equal(run_batch(in, 2, &o, NULL, true), 0);
      }
      for (int i = 0; i < 2; i++) otap_logs_payload_reset(&in[i]);
    }
  }
}

// Many-to-many: resource.id [0,1,1,4,4] + ResAttrs [0,1,4]; second input [0,1] + [0,1].
static void test_many_to_many(void** state) {
  (void)state;
  struct otap_logs_payload in[2];
  otap_logs_payload_init(&in[0]);
  otap_logs_payload_init(&in[1]);
  const int ids[5] = {-1, -1, -1, -1, -1}, res[5] = {0, 1, 1, 4, 4}, sc[5] = {0, 0, 0, 0, 0};
  make_logs(&in[0], 5, ids, res, sc, "S");
  const int ra[3] = {0, 1, 4};
  make_attrs(&in[0], OTAP_LOGS_RESOURCE_ATTRS, 3, ra, false);
  const int res2[2] = {0, 1};
  make_logs(&in[1], 2, ids, res2, sc, "S");
  make_attrs(&in[1], OTAP_LOGS_RESOURCE_ATTRS, 2, res2, false);
  for (int d = 0; d < 2; d++) {
    struct otap_batch_options o;
    opts(&o, 7, "resource");
    o.dedup = d;
    struct otap_batch_stats st;
    assert_int_equal(run_batch(in, 2, &o, &st, true), 0);
    // Same content (attribute "k<j>" = "<pid>" differs per pid, keys differ per row): with
    // dedup resources 0 and 1 of both inputs merge.
    assert_int_equal(st.input_resources, 5);
    assert_int_equal(st.output_resources, d ? 3 : 5);
  }
  otap_logs_payload_reset(&in[0]);
  otap_logs_payload_reset(&in[1]);
}

// Typed dedup: Str "1" and Int 1 are different resources; equal sets in another order merge.
static void test_dedup_typed(void** state) {
  (void)state;
  struct otap_logs_payload in[3];
  const int ids[1] = {-1}, z[1] = {0};
  const int pid1[1] = {1}, pid12[2] = {0, 0};
  (void)pid1;
  for (int i = 0; i < 3; i++) {
    otap_logs_payload_init(&in[i]);
    make_logs(&in[i], 1, ids, z, z, "S");
  }
  // Input 0: Str "0" under k0; input 1: Int 0 under k0; input 2: Str "0" under k0 and k1, in
  // input 2 listed twice, so its set differs from input 0.
  make_attrs(&in[0], OTAP_LOGS_RESOURCE_ATTRS, 1, z, false);
  make_attrs(&in[1], OTAP_LOGS_RESOURCE_ATTRS, 1, z, true);
  make_attrs(&in[2], OTAP_LOGS_RESOURCE_ATTRS, 2, pid12, false);
  struct otap_batch_options o;
  opts(&o, 10, "resource");
  struct otap_batch_stats st;
  assert_int_equal(run_batch(in, 3, &o, &st, true), 0);
  assert_int_equal(st.output_resources, 3);
  // Two copies of input 0 merge into one resource.
  struct otap_logs_payload two[2];
  assert_int_equal(otap_logs_payload_copy(&in[0], &two[0], NULL), 0);
  assert_int_equal(otap_logs_payload_copy(&in[0], &two[1], NULL), 0);
  assert_int_equal(run_batch(two, 2, &o, &st, true), 0);
  assert_int_equal(st.output_resources, 1);
  o.dedup = false;
  assert_int_equal(run_batch(two, 2, &o, &st, true), 0);
  assert_int_equal(st.output_resources, 2);
  for (int i = 0; i < 2; i++) otap_logs_payload_reset(&two[i]);
  for (int i = 0; i < 3; i++) otap_logs_payload_reset(&in[i]);
}

// Bad inputs: duplicate LOGS.id -> EINVAL naming input, row and id; conflicting column types
// -> EINVAL naming table, column and input; concat with sort keys -> EINVAL.
static void test_bad_inputs(void** state) {
  (void)state;
  struct otap_logs_payload in[2];
  otap_logs_payload_init(&in[0]);
  otap_logs_payload_init(&in[1]);
  const int ids[3] = {0, 1, 1}, z[3] = {0, 0, 0};
  make_logs(&in[0], 3, ids, z, z, "S");
  struct otap_batch_options o;
  opts(&o, 10, "");
  struct otap_logs_payload* out = NULL;
  int64_t n_out = 0;
  struct otap_error err;
  assert_int_equal(otap_batch_logs(in, 1, &o, &out, &n_out, NULL, &err), EINVAL);
  assert_non_null(strstr(err.message, "duplicate id 1"));
  assert_non_null(strstr(err.message, "row 2"));
  otap_logs_payload_reset(&in[0]);
  // More than 65,536 LOGS rows with ids in one input: u16 ids must repeat -> EINVAL.
  {
    enum { BIG = 65537 };
    static int bid[BIG], bz[BIG];
    for (int i = 0; i < BIG; i++) bid[i] = i % 65536, bz[i] = 0;
    make_logs(&in[0], BIG, bid, bz, bz, "S");
    assert_int_equal(otap_batch_logs(in, 1, &o, &out, &n_out, NULL, &err), EINVAL);
    assert_non_null(strstr(err.message, "duplicate id 0"));
    assert_non_null(strstr(err.message, "row 65536"));
    otap_logs_payload_reset(&in[0]);
  }
  const int ok[3] = {0, 1, 2};
  make_logs(&in[0], 3, ok, z, z, "S");
  make_logs(&in[1], 3, ok, z, z, "S");
  make_attrs(&in[0], OTAP_LOGS_LOG_ATTRS, 3, ok, false);
  // Input 1: attribute `str` column typed as binary conflicts with utf8.
  {
    struct otap_logs_payload tmp;
    otap_logs_payload_init(&tmp);
    make_attrs(&tmp, OTAP_LOGS_LOG_ATTRS, 3, ok, true);  // int column: compatible
    otap_logs_payload_set_table(&in[1], OTAP_LOGS_LOG_ATTRS, &tmp.schema[OTAP_LOGS_LOG_ATTRS],
                                &tmp.batch[OTAP_LOGS_LOG_ATTRS]);
  }
  assert_int_equal(run_batch(in, 2, &o, NULL, true), 0);
  // severity_number as int64 in input 1: conflict.
  assert_int_equal(otap_schema_set_format(in[1].schema[OTAP_LOGS_LOGS].children[3], "l"), 0);
  otap_array_release(&in[1].batch[OTAP_LOGS_LOGS]);
  {
    struct ArrowArray a;
    assert_int_equal(otap_array_init_from_schema(&a, &in[1].schema[OTAP_LOGS_LOGS], &err), 0);
    assert_int_equal(otap_array_finish(&a, OTAP_VALIDATE_NONE, NULL, &err), 0);
    otap_array_move(&a, &in[1].batch[OTAP_LOGS_LOGS]);
  }
  int rc = otap_batch_logs(in, 2, &o, &out, &n_out, NULL, &err);
  assert_int_equal(rc, EINVAL);
  assert_non_null(strstr(err.message, "input 1"));
  assert_non_null(strstr(err.message, "severity_number"));
  opts(&o, 10, "trace_id");
  o.strategy = OTAP_BATCH_STRATEGY_CONCAT;
  assert_int_equal(otap_batch_logs(in, 1, &o, &out, &n_out, NULL, &err), EINVAL);
  assert_int_equal(otap_batch_parse_sort("trace_id,bogus", &o, &err), EINVAL);
  assert_non_null(strstr(err.message, "bogus"));
  assert_int_equal(otap_batch_parse_sort("trace_id,trace_id:desc", &o, &err), EINVAL);
  assert_int_equal(otap_batch_parse_sort("trace_id:up", &o, &err), EINVAL);
  otap_logs_payload_reset(&in[0]);
  otap_logs_payload_reset(&in[1]);
}

// Batches the single input `in` and expects EINVAL with no outputs; err receives the error.
static void expect_einval(struct otap_logs_payload* in, int64_t max, const char* sort,
                          struct otap_error* err) {
  struct otap_batch_options o;
  opts(&o, max, sort);
  struct otap_logs_payload* out = NULL;
  int64_t n_out = 0;
  assert_int_equal(otap_batch_logs(in, 1, &o, &out, &n_out, NULL, err), EINVAL);
  assert_null(out);
}

// String offsets that are out of order inside a column (first and last offsets valid, so
// DEFAULT-level validation passes) are rejected with EINVAL, never read out of bounds.
static void test_bad_string_offsets(void** state) {
  (void)state;
  static const char* const kSort[2] = {"", "trace_id"};
  for (int v = 0; v < 2; v++) {
    struct otap_logs_payload in[1];
    otap_logs_payload_init(&in[0]);
    const int ok[3] = {0, 1, 2}, z[3] = {0, 0, 0};
    make_logs(&in[0], 3, ok, z, z, "S");
    make_attrs(&in[0], OTAP_LOGS_LOG_ATTRS, 3, ok, false);
    struct ArrowArray* key = in[0].batch[OTAP_LOGS_LOG_ATTRS].children[1];
    int32_t* offs = (int32_t*)(uintptr_t)key->buffers[1];
    offs[key->offset + 1] = 6;  // [0, 6, 4, 6]: first and last unchanged
    struct otap_error err;
    expect_einval(in, 2, kSort[v], &err);
    otap_logs_payload_reset(&in[0]);
  }
}

// Corrupt offsets in the columns read value by value (LOGS scope.name behind scope classes,
// resource attribute keys behind resource classes, event_name as a sort key): EINVAL, never a
// read out of bounds. The first and last offsets stay valid (what view validation checks).
static void test_bad_class_offsets(void** state) {
  (void)state;
  for (int v = 0; v < 3; v++) {
    struct otap_logs_payload in[1];
    otap_logs_payload_init(&in[0]);
    const int ok[3] = {0, 1, 2}, z[3] = {0, 0, 0};
    make_logs(&in[0], 3, ok, z, z, "S");
    make_attrs(&in[0], OTAP_LOGS_RESOURCE_ATTRS, 3, z, false);
    struct ArrowArray* col;
    if (v == 0) {  // scope.name: [0, 1000000, 12, 18], first and last unchanged
      col = in[0].batch[OTAP_LOGS_LOGS].children[2]->children[1];
      ((int32_t*)(uintptr_t)col->buffers[1])[col->offset + 1] = 1000000;
    } else if (v == 1) {  // resource attribute key: [0, 6, 4, 6]
      col = in[0].batch[OTAP_LOGS_RESOURCE_ATTRS].children[1];
      ((int32_t*)(uintptr_t)col->buffers[1])[col->offset + 1] = 6;
    } else {  // event_name of a generated input, as a sort key: a negative offset
      otap_logs_payload_reset(&in[0]);
      struct otap_logs_gen_options g;
      otap_logs_gen_options_init(&g);
      g.records = 3;
      g.dict = OTAP_LOGS_GEN_DICT_NEVER;
      struct otap_error gerr;
      assert_int_equal(otap_logs_gen(&g, 0, &in[0], &gerr), 0);
      int64_t j = fidx(&in[0].schema[OTAP_LOGS_LOGS], "event_name");
      assert_true(j >= 0);
      col = in[0].batch[OTAP_LOGS_LOGS].children[j];
      ((int32_t*)(uintptr_t)col->buffers[1])[col->offset + 1] = -5;
    }
    struct otap_error err;
    expect_einval(in, 3, v == 2 ? "event_name" : "", &err);
    otap_logs_payload_reset(&in[0]);
  }
}

// Attribute table schema (parent_id plain u16, key, type, str of format str_format).
static void attrs_schema(struct ArrowSchema* s, const char* str_format) {
  assert_int_equal(otap_schema_init(s, "+s"), 0);
  assert_int_equal(otap_schema_allocate_children(s, 4), 0);
  field(s->children[0], "S", "parent_id");
  set_plain_meta(s->children[0]);
  field(s->children[1], "u", "key");
  field(s->children[2], "C", "type");
  field(s->children[3], str_format, "str");
}

// A dictionary-encoded attribute column whose index is past its dictionary is EINVAL naming
// the input, with and without nulls in the column.
static void test_bad_dictionary_index(void** state) {
  (void)state;
  for (int with_null = 0; with_null < 2; with_null++) {
    struct otap_logs_payload in[1];
    otap_logs_payload_init(&in[0]);
    const int ok[3] = {0, 1, 2}, z[3] = {0, 0, 0};
    make_logs(&in[0], 3, ok, z, z, "S");
    struct ArrowSchema s;
    attrs_schema(&s, "S");
    assert_int_equal(otap_schema_allocate_dictionary(s.children[3]), 0);
    assert_int_equal(otap_schema_init(s.children[3]->dictionary, "u"), 0);
    struct ArrowArray a;
    struct otap_error err;
    assert_int_equal(otap_array_init_from_schema(&a, &s, &err), 0);
    struct ArrowArray* str = a.children[3];
    assert_int_equal(otap_array_append_bytes(str->dictionary, "v0", 2), 0);
    assert_int_equal(otap_array_append_bytes(str->dictionary, "v1", 2), 0);
    for (int i = 0; i < 3; i++) {
      assert_int_equal(otap_array_append_int(a.children[0], i), 0);
      assert_int_equal(otap_array_append_bytes(a.children[1], "k", 1), 0);
      assert_int_equal(otap_array_append_int(a.children[2], 1), 0);
      if (i == 0 && with_null) {
        assert_int_equal(otap_array_append_null(str, 1), 0);
      } else {
        assert_int_equal(otap_array_append_int(str, i == 2 ? 7 : 1), 0);  // 7: past the end
      }
      assert_int_equal(otap_array_finish_element(&a), 0);
    }
    assert_int_equal(otap_array_finish(&a, OTAP_VALIDATE_DEFAULT, &s, &err), 0);
    otap_logs_payload_set_table(&in[0], OTAP_LOGS_LOG_ATTRS, &s, &a);
    expect_einval(in, 2, with_null ? "trace_id" : "", &err);
    assert_non_null(strstr(err.message, "input 0"));
    assert_non_null(strstr(err.message, "row 2"));
    otap_logs_payload_reset(&in[0]);
  }
}

static void test_parse_sort(void** state) {
  (void)state;
  struct otap_batch_options o;
  otap_batch_options_init(&o);
  assert_int_equal(otap_batch_parse_sort("severity_number:desc,trace_id", &o, NULL), 0);
  assert_int_equal(o.n_sort_keys, 2);
  assert_int_equal(o.sort_keys[0].key, OTAP_BATCH_KEY_SEVERITY_NUMBER);
  assert_true(o.sort_keys[0].descending);
  assert_int_equal(o.sort_keys[1].key, OTAP_BATCH_KEY_TRACE_ID);
  assert_false(o.sort_keys[1].descending);
  char buf[128];
  otap_batch_format_sort(&o, buf, sizeof(buf));
  assert_string_equal(buf, "severity_number:desc,trace_id");
  assert_int_equal(otap_batch_parse_sort("none", &o, NULL), 0);
  assert_int_equal(o.n_sort_keys, 0);
  otap_batch_format_sort(&o, buf, sizeof(buf));
  assert_string_equal(buf, "none");
}

// ---------------------------------------------------------------------------------------------
// Dictionary key choice per output column

static const char* field_format(const struct ArrowSchema* s, const char* a, const char* b) {
  int64_t j = fidx(s, a);
  if (j < 0) return NULL;
  const struct ArrowSchema* f = s->children[j];
  if (b) {
    int64_t k = fidx(f, b);
    if (k < 0) return NULL;
    f = f->children[k];
  }
  return f->format;
}

static void test_dictionary_choice(void** state) {
  (void)state;
  struct otap_logs_gen_options g;
  otap_logs_gen_options_init(&g);
  g.dict = OTAP_LOGS_GEN_DICT_ALWAYS;
  g.records = 1000;
  g.log_attrs = 3;
  g.no_attr_percent = 0;
  struct otap_logs_payload in[4];
  struct otap_error err;
  for (int i = 0; i < 4; i++) assert_int_equal(otap_logs_gen(&g, i, &in[i], &err), 0);
  struct otap_batch_options o;
  opts(&o, 1000, "");
  struct otap_logs_payload* out = NULL;
  int64_t n_out = 0;
  assert_int_equal(otap_batch_logs(in, 4, &o, &out, &n_out, NULL, &err), 0);
  check_outputs(in, 4, out, n_out, &o);
  for (int64_t k = 0; k < n_out; k++) {
    const struct ArrowSchema* ls = &out[k].schema[OTAP_LOGS_LOGS];
    // severity_text: few distinct values -> u8 keys.
    const char* f = field_format(ls, "severity_text", NULL);
    if (f) assert_string_equal(f, "C");
    // body.str: u16-only column -> u16 keys even when small.
    f = field_format(ls, "body", "str");
    if (f) assert_string_equal(f, "S");
    // ids are plain u16, never dictionaries.
    assert_string_equal(field_format(ls, "resource", "id"), "S");
    const struct ArrowSchema* as = &out[k].schema[OTAP_LOGS_LOG_ATTRS];
    assert_string_equal(field_format(as, "key", NULL), "C");
    f = field_format(as, "str", NULL);
    if (f) assert_string_equal(f, "S");
    // Unreferenced dictionary values dropped: dictionary length <= distinct referenced.
    int64_t j = fidx(ls, "severity_text");
    if (j >= 0) assert_true(out[k].batch[OTAP_LOGS_LOGS].children[j]->dictionary->length <= 4);
  }
  otap_logs_payloads_free(out, n_out);
  for (int i = 0; i < 4; i++) otap_logs_payload_reset(&in[i]);
}

// Replaces child `idx` of s/a by its u16 dictionary encoding named `name`.
static void dict_encode_child(struct ArrowSchema* s, struct ArrowArray* a, int idx,
                              const char* name) {
  struct ArrowSchema ds;
  struct ArrowArray da;
  struct otap_error err;
  assert_int_equal(otap_dict_encode(s->children[idx], a->children[idx], OTAP_TYPE_UINT16, &ds,
                                    &da, &err), 0);
  assert_int_equal(otap_schema_set_name(&ds, name), 0);
  otap_schema_release(s->children[idx]);
  otap_schema_move(&ds, s->children[idx]);
  otap_array_release(a->children[idx]);
  otap_array_move(&da, a->children[idx]);
}

// LOG_ATTRS of `rows` string attributes (parent_id pids[r], key "key<r % key_mod>", value
// "value-<r % val_mod>", or "v<input>-<r>" when val_mod is 0), the str column u16
// dictionary-encoded, the key column too when dict_keys.
static void str_attrs(struct otap_logs_payload* p, int rows, const int* pids, int key_mod,
                      int val_mod, int input, bool dict_keys) {
  struct ArrowSchema s;
  struct ArrowArray a;
  struct otap_error err;
  attrs_schema(&s, "u");
  assert_int_equal(otap_array_init_from_schema(&a, &s, &err), 0);
  for (int r = 0; r < rows; r++) {
    char k[16], v[32];
    snprintf(k, sizeof(k), "key%d", r % key_mod);
    if (val_mod > 0) {
      snprintf(v, sizeof(v), "value-%d", r % val_mod);
    } else {
      snprintf(v, sizeof(v), "v%d-%d", input, r);
    }
    assert_int_equal(otap_array_append_int(a.children[0], pids[r]), 0);
    assert_int_equal(otap_array_append_bytes(a.children[1], k, (int64_t)strlen(k)), 0);
    assert_int_equal(otap_array_append_int(a.children[2], 1), 0);
    assert_int_equal(otap_array_append_bytes(a.children[3], v, (int64_t)strlen(v)), 0);
    assert_int_equal(otap_array_finish_element(&a), 0);
  }
  assert_int_equal(otap_array_finish(&a, OTAP_VALIDATE_FULL, &s, &err), 0);
  dict_encode_child(&s, &a, 3, "str");
  if (dict_keys) dict_encode_child(&s, &a, 1, "key");
  otap_logs_payload_set_table(p, OTAP_LOGS_LOG_ATTRS, &s, &a);
}

// More than 65,536 distinct attribute values in one output -> native column; 300 distinct
// keys -> u16 keys.
static void test_dictionary_native_fallback(void** state) {
  (void)state;
  struct otap_logs_payload in[2];
  enum { N = 32000 };
  static int ids[N], z[N], pids[2 * N];
  for (int i = 0; i < N; i++) ids[i] = i, z[i] = 0;
  for (int i = 0; i < 2 * N; i++) pids[i] = i / 2;
  struct otap_error err;
  for (int i = 0; i < 2; i++) {
    otap_logs_payload_init(&in[i]);
    make_logs(&in[i], N, ids, z, z, "S");
    // Dictionary-encoded attribute str column, a unique value per row ("v<input>-<row>"),
    // and key column (300 distinct keys).
    str_attrs(&in[i], 2 * N, pids, 300, 0, i, true);
  }
  struct otap_batch_options o;
  opts(&o, 60000, "");
  struct otap_logs_payload* out = NULL;
  int64_t n_out = 0;
  assert_int_equal(otap_batch_logs(in, 2, &o, &out, &n_out, NULL, &err), 0);
  assert_int_equal(n_out, 2);
  assert_string_equal(field_format(&out[0].schema[OTAP_LOGS_LOG_ATTRS], "str", NULL), "u");
  assert_string_equal(field_format(&out[1].schema[OTAP_LOGS_LOG_ATTRS], "str", NULL), "S");
  // 300 distinct keys need u16 keys; the residual (4000 logs) still references all 300.
  assert_string_equal(field_format(&out[0].schema[OTAP_LOGS_LOG_ATTRS], "key", NULL), "S");
  assert_string_equal(field_format(&out[1].schema[OTAP_LOGS_LOG_ATTRS], "key", NULL), "S");
  // The type column (one value) was native in the inputs: it stays native.
  assert_string_equal(field_format(&out[0].schema[OTAP_LOGS_LOG_ATTRS], "type", NULL), "C");
  check_outputs(in, 2, out, n_out, &o);
  otap_logs_payloads_free(out, n_out);
  for (int i = 0; i < 2; i++) otap_logs_payload_reset(&in[i]);
}

// Adaptive dictionaries: a column whose values mostly differ stops deduplicating after its
// first 512 lookups (u16 keys are settled), so values seen again later are held twice; exact
// dictionaries hold each once; a repetitive column stays deduplicated either way.
static void adaptive_input(struct otap_logs_payload* p, int n, int distinct) {
  static int ids[2048], z[2048];
  assert_true(n <= 2048);
  for (int i = 0; i < n; i++) ids[i] = i, z[i] = 0;
  otap_logs_payload_init(p);
  make_logs(p, n, ids, z, z, "S");
  str_attrs(p, n, ids, 1, distinct, 0, false);
}

static int64_t adaptive_str_dict(struct otap_logs_payload* in, int n_in, bool exact) {
  struct otap_batch_options o;
  opts(&o, 65536, "");
  o.exact_dictionaries = exact;
  struct otap_logs_payload* out = NULL;
  int64_t n_out = 0;
  struct otap_error err;
  assert_int_equal(otap_batch_logs(in, n_in, &o, &out, &n_out, NULL, &err), 0);
  assert_int_equal(n_out, 1);
  check_outputs(in, n_in, out, n_out, &o);
  const struct ArrowSchema* as = &out[0].schema[OTAP_LOGS_LOG_ATTRS];
  assert_string_equal(field_format(as, "str", NULL), "S");
  int64_t j = fidx(as, "str");
  assert_true(j >= 0);
  int64_t len = out[0].batch[OTAP_LOGS_LOG_ATTRS].children[j]->dictionary->length;
  otap_logs_payloads_free(out, n_out);
  return len;
}

static void test_dictionary_adaptive(void** state) {
  (void)state;
  struct otap_logs_payload in[4];
  // Two inputs with the same 600 distinct values: the first input's lookups find nothing, so
  // after 512 of them the rest (88 + 600) are appended.
  for (int i = 0; i < 2; i++) adaptive_input(&in[i], 600, 600);
  assert_int_equal(adaptive_str_dict(in, 2, false), 1200);
  assert_int_equal(adaptive_str_dict(in, 2, true), 600);
  for (int i = 0; i < 2; i++) otap_logs_payload_reset(&in[i]);
  // 300 distinct values repeated over four inputs: lookups keep finding them.
  for (int i = 0; i < 4; i++) adaptive_input(&in[i], 1200, 300);
  assert_int_equal(adaptive_str_dict(in, 4, false), 300);
  assert_int_equal(adaptive_str_dict(in, 4, true), 300);
  for (int i = 0; i < 4; i++) otap_logs_payload_reset(&in[i]);
}

// ---------------------------------------------------------------------------------------------
// Property tests over the seeded generator

static uint64_t rnd(uint64_t* s) {
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

static void property_case(uint64_t seed, int64_t max_j, int64_t max_records) {
  uint64_t r = seed * 0x9e3779b97f4a7c15ULL + 1;
  int64_t j = 1 + (int64_t)(rnd(&r) % (uint64_t)max_j);
  struct otap_logs_gen_options g;
  otap_logs_gen_options_init(&g);
  g.seed = seed;
  g.records = (int64_t)(rnd(&r) % (uint64_t)(max_records + 1));
  g.resources = 1 + (int64_t)(rnd(&r) % 4);
  g.scopes = 1 + (int64_t)(rnd(&r) % 3);
  g.log_attrs = (int64_t)(rnd(&r) % 4);
  g.resource_attrs = (int64_t)(rnd(&r) % 5);
  g.scope_attrs = (int64_t)(rnd(&r) % 3);
  g.body_bytes = (int64_t)(rnd(&r) % 3) * 20;
  g.trace_fanout = (int64_t)(rnd(&r) % 5);
  g.no_attr_percent = (int32_t)(rnd(&r) % 60);
  g.dict = (enum otap_logs_gen_dict)(rnd(&r) % 3);
  g.encoded_ids = rnd(&r) % 2;
  g.vary_schema = rnd(&r) % 2;
  g.duplicate_resources = rnd(&r) % 2;
  g.shuffle_rows = rnd(&r) % 2;
  struct otap_logs_payload* in = calloc((size_t)j, sizeof(*in));
  struct otap_error err;
  for (int64_t i = 0; i < j; i++) {
    int rc = otap_logs_gen(&g, i, &in[i], &err);
    if (rc) fprintf(stderr, "gen: %s\n", err.message);
    assert_int_equal(rc, 0);
  }
  static const char* const kSorts[] = {"",
                                       "resource,scope",
                                       "resource,scope,trace_id",
                                       "severity_number:desc,trace_id",
                                       "event_name,time_unix_nano:desc",
                                       "scope,span_id,observed_time_unix_nano"};
  int64_t total = 0;
  for (int64_t i = 0; i < j; i++) total += otap_logs_payload_num_records(&in[i]);
  for (int v = 0; v < 2; v++) {
    struct otap_batch_options o;
    opts(&o, 1 + (int64_t)(rnd(&r) % (uint64_t)(total + 2 < 65536 ? total + 2 : 65536)),
         kSorts[rnd(&r) % 6]);
    o.dedup = rnd(&r) % 4 != 0;
    if (o.n_sort_keys == 0 && rnd(&r) % 2) o.strategy = OTAP_BATCH_STRATEGY_SORT;
    o.exact_dictionaries = ((seed >> 1) + (uint64_t)v) % 3 == 0;
    struct otap_batch_stats st;
    if (getenv("OTAP_BATCH_VERBOSE")) {
      char sort[128];
      otap_batch_format_sort(&o, sort, sizeof(sort));
      fprintf(stderr, "seed %llu: J=%lld records=%lld dict=%d encoded=%d vary=%d dup=%d "
              "shuffle=%d max=%lld sort=%s dedup=%d strategy=%d\n",
              (unsigned long long)seed, (long long)j, (long long)g.records, (int)g.dict,
              g.encoded_ids, g.vary_schema, g.duplicate_resources, g.shuffle_rows,
              (long long)o.max_items, sort, o.dedup, (int)o.strategy);
    }
    int rc = run_batch(in, j, &o, &st, true);
    if (rc) fprintf(stderr, "seed %llu failed\n", (unsigned long long)seed);
    assert_int_equal(rc, 0);
    assert_int_equal(st.input_records, total);
    assert_int_equal(st.output_records, total);
  }
  otap_logs_payloads_free(in, j);
}

static void test_property(void** state) {
  (void)state;
  const char* longrun = getenv("OTAP_BATCH_LONG");
  if (longrun && *longrun && strcmp(longrun, "0") != 0) {
    // Large inputs (up to 65,536 logs each) with few of them; many inputs (up to 64) smaller.
    for (uint64_t seed = 1; seed <= 40; seed++) {
      if (seed % 4 == 0) {
        property_case(seed, 4, 65536);
      } else {
        property_case(seed, 64, 3000);
      }
    }
  } else {
    for (uint64_t seed = 1; seed <= 12; seed++) property_case(seed, 8, 400);
  }
}

// Transport-encoded inputs (delta / quasi-delta, no metadata) are decoded first.
static void test_encoded_inputs(void** state) {
  (void)state;
  struct otap_logs_gen_options g;
  otap_logs_gen_options_init(&g);
  g.records = 300;
  g.encoded_ids = true;
  g.shuffle_rows = true;
  struct otap_logs_payload in[3];
  struct otap_error err;
  for (int i = 0; i < 3; i++) assert_int_equal(otap_logs_gen(&g, i, &in[i], &err), 0);
  struct otap_batch_options o;
  opts(&o, 128, "resource,scope,trace_id");
  struct otap_batch_stats st;
  assert_int_equal(run_batch(in, 3, &o, &st, true), 0);
  assert_int_equal(st.decoded_inputs, 3);
  for (int i = 0; i < 3; i++) otap_logs_payload_reset(&in[i]);
}

// Logs without attributes keep a null id; body union fills body.type.
static void test_null_ids_and_body(void** state) {
  (void)state;
  struct otap_logs_gen_options g;
  otap_logs_gen_options_init(&g);
  g.records = 200;
  g.no_attr_percent = 50;
  struct otap_logs_payload in[2];
  struct otap_error err;
  assert_int_equal(otap_logs_gen(&g, 0, &in[0], &err), 0);
  g.body_bytes = 0;  // no body column in the second input
  assert_int_equal(otap_logs_gen(&g, 1, &in[1], &err), 0);
  struct otap_batch_options o;
  opts(&o, 400, "trace_id");
  struct otap_logs_payload* out = NULL;
  int64_t n_out = 0;
  assert_int_equal(otap_batch_logs(in, 2, &o, &out, &n_out, NULL, &err), 0);
  assert_int_equal(n_out, 1);
  const struct ArrowArray* ida = out[0].batch[OTAP_LOGS_LOGS].children[fidx(&out[0].schema[OTAP_LOGS_LOGS], "id")];
  assert_true(ida->null_count > 0);
  check_outputs(in, 2, out, n_out, &o);
  otap_logs_payloads_free(out, n_out);
  for (int i = 0; i < 2; i++) otap_logs_payload_reset(&in[i]);
}

// Allocation failures: every failure point returns ENOMEM, leaves nothing allocated.
// Sliced inputs (non-zero offsets on every table, as a reader that slices record batches
// produces): every column is read at its offset, through struct children and dictionaries.
static void test_sliced_inputs(void** state) {
  (void)state;
  for (int dict = 0; dict < 3; dict++) {
    struct otap_logs_gen_options g;
    otap_logs_gen_options_init(&g);
    g.seed = 11 + (uint64_t)dict;
    g.records = 300;
    g.log_attrs = 3;
    g.dict = (enum otap_logs_gen_dict)dict;
    g.vary_schema = dict == 0;
    struct otap_logs_payload full[3], in[3];
    struct otap_error err;
    for (int i = 0; i < 3; i++) {
      assert_int_equal(otap_logs_gen(&g, i, &full[i], &err), 0);
      otap_logs_payload_init(&in[i]);
      for (int t = 0; t < OTAP_LOGS_N_TABLES; t++) {
        if (!otap_logs_payload_has_table(&full[i], (enum otap_logs_table)t)) continue;
        int64_t n = full[i].batch[t].length;
        int64_t off = n > 10 ? 3 + i : 0, len = n > 10 ? n - 7 - i : n;
        struct ArrowSchema sc;
        struct ArrowArray sl;
        assert_int_equal(otap_schema_deep_copy(&full[i].schema[t], &sc, &err), 0);
        assert_int_equal(otap_array_slice(&full[i].batch[t], off, len, &sl, &err), 0);
        otap_logs_payload_set_table(&in[i], (enum otap_logs_table)t, &sc, &sl);
      }
    }
    static const char* const kSorts[3] = {"", "resource,scope", "trace_id:desc"};
    for (int v = 0; v < 3; v++) {
      struct otap_batch_options o;
      opts(&o, 128, kSorts[v]);
      assert_int_equal(run_batch(in, 3, &o, NULL, true), 0);
    }
    for (int i = 0; i < 3; i++) {
      otap_logs_payload_reset(&in[i]);
      otap_logs_payload_reset(&full[i]);
    }
  }
}

// Inputs that share dictionary buffers (slices of one payload, as consecutive record batches
// of one IPC stream share its dictionaries): the per-dictionary memo is carried from input to
// input. Attribute tables are kept whole in each input, so the rows of other slices' records
// are orphans there.
static void test_shared_dictionaries(void** state) {
  (void)state;
  struct otap_logs_gen_options g;
  otap_logs_gen_options_init(&g);
  g.seed = 5;
  g.records = 2000;
  g.log_attrs = 3;
  g.dict = OTAP_LOGS_GEN_DICT_ALWAYS;
  struct otap_logs_payload full, in[4];
  struct otap_error err;
  assert_int_equal(otap_logs_gen(&g, 0, &full, &err), 0);
  int64_t n = full.batch[OTAP_LOGS_LOGS].length;
  for (int i = 0; i < 4; i++) {
    otap_logs_payload_init(&in[i]);
    for (int t = 0; t < OTAP_LOGS_N_TABLES; t++) {
      if (!otap_logs_payload_has_table(&full, (enum otap_logs_table)t)) continue;
      int64_t off = 0, len = full.batch[t].length;
      if (t == OTAP_LOGS_LOGS) {
        off = n * i / 4;
        len = n * (i + 1) / 4 - off;
      }
      struct ArrowSchema sc;
      struct ArrowArray sl;
      assert_int_equal(otap_schema_deep_copy(&full.schema[t], &sc, &err), 0);
      assert_int_equal(otap_array_slice(&full.batch[t], off, len, &sl, &err), 0);
      otap_logs_payload_set_table(&in[i], (enum otap_logs_table)t, &sc, &sl);
    }
  }
  static const char* const kSorts[2] = {"", "resource,scope"};
  static const int64_t kMax[3] = {2000, 700, 500};
  for (int v = 0; v < 2; v++) {
    for (int m = 0; m < 3; m++) {
      struct otap_batch_options o;
      opts(&o, kMax[m], kSorts[v]);
      struct otap_batch_stats st;
      assert_int_equal(run_batch(in, 4, &o, &st, true), 0);
      assert_int_equal(st.output_records, n);
    }
  }
  for (int i = 0; i < 4; i++) otap_logs_payload_reset(&in[i]);
  otap_logs_payload_reset(&full);
}

static void test_alloc_failures(void** state) {
  (void)state;
  struct otap_logs_gen_options g;
  otap_logs_gen_options_init(&g);
  g.records = 8;
  g.dict = OTAP_LOGS_GEN_DICT_AUTO;
  g.resource_attrs = 2;
  g.log_attrs = 2;
  struct otap_logs_payload in[2];
  struct otap_error err;
  for (int i = 0; i < 2; i++) assert_int_equal(otap_logs_gen(&g, i, &in[i], &err), 0);
  for (int s = 0; s < 2; s++) {
    struct otap_batch_options o;
    opts(&o, 6, s ? "resource,trace_id" : "");
    // A first call makes the inputs' buffers shareable (reference counted): that allocation
    // belongs to the inputs, so it is done before measuring.
    assert_int_equal(run_batch(in, 2, &o, NULL, true), 0);
    long base = otap_test_live_allocations();
    // Count the allocations of a successful call, then fail at ~300 points spread over them
    // (every point is too slow for a default run; OTAP_BATCH_LONG=1 tries every point).
    otap_test_fail_alloc_after(100000000);
    assert_int_equal(run_batch(in, 2, &o, NULL, false), 0);
    long used = 100000000 - otap_test_alloc_budget_;
    otap_test_fail_alloc_after(-1);
    const char* longrun = getenv("OTAP_BATCH_LONG");
    long step = (longrun && *longrun && strcmp(longrun, "0") != 0) ? 1 : 1 + used / 300;
    for (long n = 0;; n += step) {
      otap_test_fail_alloc_after(n);
      struct otap_logs_payload* out = NULL;
      int64_t n_out = 0;
      int rc = otap_batch_logs(in, 2, &o, &out, &n_out, NULL, &err);
      otap_test_fail_alloc_after(-1);
      if (rc == 0) {
        otap_logs_payloads_free(out, n_out);
        assert_int_equal(otap_test_live_allocations(), base);
        break;
      }
      assert_true(rc == ENOMEM || rc == ERANGE || rc == EINVAL);
      assert_int_equal(otap_test_live_allocations(), base);
      assert_true(n <= used + step);
    }
  }
  for (int i = 0; i < 2; i++) otap_logs_payload_reset(&in[i]);
}

int main(void) {
  otap_test_install_allocator();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parse_sort),
      cmocka_unit_test(test_simple_batch_logs),
      cmocka_unit_test(test_split_logs),
      cmocka_unit_test(test_split_multi_batch),
      cmocka_unit_test(test_reindex_bounds),
      cmocka_unit_test(test_wrong_id_type),
      cmocka_unit_test(test_orphans),
      cmocka_unit_test(test_id_overlaps),
      cmocka_unit_test(test_many_to_many),
      cmocka_unit_test(test_dedup_typed),
      cmocka_unit_test(test_bad_inputs),
      cmocka_unit_test(test_bad_string_offsets),
      cmocka_unit_test(test_bad_class_offsets),
      cmocka_unit_test(test_bad_dictionary_index),
      cmocka_unit_test(test_dictionary_choice),
      cmocka_unit_test(test_dictionary_native_fallback),
      cmocka_unit_test(test_dictionary_adaptive),
      cmocka_unit_test(test_encoded_inputs),
      cmocka_unit_test(test_null_ids_and_body),
      cmocka_unit_test(test_property),
      cmocka_unit_test(test_sliced_inputs),
      cmocka_unit_test(test_shared_dictionaries),
      cmocka_unit_test(test_alloc_failures),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
