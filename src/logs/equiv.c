// Canonical text form of log records and the order-insensitive equivalence checker.
//
// Each log record is rendered as one line holding everything it means in OTLP terms (its own
// fields, sorted attributes, its resource and scope with their sorted attributes); ids, row
// order, dictionary encodings and transport id encodings leave no trace. Two payload sequences
// are equivalent when their multisets of lines are equal.
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logs/logs_internal.h"

// A column inside a table: view plus the index of row 0.
struct col {
  const struct otap_array_view* v;
  int64_t base;
  const struct otap_array_view* parent;  // enclosing struct (NULL for top-level)
  int64_t parent_base;
};

static struct col top_col(const struct otap_array_view* root, const struct ArrowSchema* s,
                          int64_t base, const char* name) {
  struct col c = {otap__view_child(root, s, name), base, NULL, 0};
  return c;
}

static struct col struct_col(const struct otap_array_view* root, const struct ArrowSchema* s,
                             int64_t base, const char* st, const char* name) {
  struct col c = {NULL, 0, NULL, 0};
  int64_t i = otap__logs_child_index(s, st);
  if (i < 0) return c;
  const struct otap_array_view* sv = root->children[i];
  c.v = otap__view_child(sv, s->children[i], name);
  c.base = base + sv->offset;
  c.parent = sv;
  c.parent_base = base;
  return c;
}

static bool col_null(const struct col* c, int64_t i) {
  if (!c->v) return true;
  if (c->parent && otap_view_is_null(c->parent, c->parent_base + i)) return true;
  return otap__view_is_null_any(c->v, c->base + i);
}

// ---------------------------------------------------------------------------------------------
// Rendering helpers

static int put_str(struct otap_buffer* b, const uint8_t* p, int64_t n) {
  static const char kHex[] = "0123456789abcdef";
  OTAP_RETURN_NOT_OK(otap_buffer_reserve(b, 4 * n + 2));
  uint8_t* o = b->data + b->size;
  *o++ = '"';
  for (int64_t i = 0; i < n; i++) {
    uint8_t c = p[i];
    if (c == '"' || c == '\\') {
      *o++ = '\\';
      *o++ = c;
    } else if (c < 0x20 || c == 0x7f) {
      *o++ = '\\';
      *o++ = 'x';
      *o++ = (uint8_t)kHex[c >> 4];
      *o++ = (uint8_t)kHex[c & 15];
    } else {
      *o++ = c;
    }
  }
  *o++ = '"';
  b->size = o - b->data;
  return 0;
}

// Appends a string literal / C string.
static int put_lit(struct otap_buffer* b, const char* s) {
  return otap_buffer_append(b, s, (int64_t)strlen(s));
}

// Appends a decimal integer.
static int put_i64(struct otap_buffer* b, int64_t v) {
  char tmp[24];
  int n = 0;
  uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
  do {
    tmp[n++] = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  if (v < 0) tmp[n++] = '-';
  OTAP_RETURN_NOT_OK(otap_buffer_reserve(b, n));
  for (int i = n - 1; i >= 0; i--) b->data[b->size++] = (uint8_t)tmp[i];
  return 0;
}

static int put_hex(struct otap_buffer* b, const uint8_t* p, int64_t n) {
  static const char kHex[] = "0123456789abcdef";
  OTAP_RETURN_NOT_OK(otap_buffer_reserve(b, 2 * n + 2));
  otap_buffer_append_unsafe(b, "0x", 2);
  for (int64_t i = 0; i < n; i++) {
    char h[2] = {kHex[p[i] >> 4], kHex[p[i] & 15]};
    otap_buffer_append_unsafe(b, h, 2);
  }
  return 0;
}

static int put_col_str(struct otap_buffer* b, const struct col* c, int64_t i) {
  const uint8_t* d = NULL;
  int64_t n = 0;
  bool null = true;
  if (!col_null(c, i)) otap__view_bytes(c->v, c->base + i, &d, &n, &null);
  return put_str(b, d, null ? 0 : n);
}

static int put_col_hex(struct otap_buffer* b, const struct col* c, int64_t i) {
  const uint8_t* d = NULL;
  int64_t n = 0;
  bool null = true;
  if (!col_null(c, i)) otap__view_bytes(c->v, c->base + i, &d, &n, &null);
  return put_hex(b, d, null ? 0 : n);
}

static int64_t col_int(const struct col* c, int64_t i) {
  int64_t x = 0;
  if (!col_null(c, i)) otap__view_int(c->v, c->base + i, &x);
  return x;
}

static int put_double(struct otap_buffer* b, double d) {
  return otap_buffer_appendf(b, "%.17g", d);
}

// Renders an AnyValue from its type and value columns (attributes or body).
struct anyv {
  struct col type, str, int_, dbl, boolean, bytes, ser;
};

static int put_any(struct otap_buffer* b, const struct anyv* a, int64_t i, bool type_null_empty) {
  int64_t t = col_int(&a->type, i);
  if (col_null(&a->type, i) && type_null_empty) t = 0;
  switch (t) {
    case OTAP_ANY_EMPTY:
      return put_lit(b, "Empty");
    case OTAP_ANY_STR:
      OTAP_RETURN_NOT_OK(put_lit(b, "Str("));
      OTAP_RETURN_NOT_OK(put_col_str(b, &a->str, i));
      break;
    case OTAP_ANY_INT:
      OTAP_RETURN_NOT_OK(put_lit(b, "Int("));
      OTAP_RETURN_NOT_OK(put_i64(b, col_int(&a->int_, i)));
      break;
    case OTAP_ANY_DOUBLE: {
      double d = 0;
      if (!col_null(&a->dbl, i)) d = otap_view_get_double(a->dbl.v, a->dbl.base + i);
      OTAP_RETURN_NOT_OK(otap_buffer_appendf(b, "Double("));
      OTAP_RETURN_NOT_OK(put_double(b, d));
      break;
    }
    case OTAP_ANY_BOOL:
      OTAP_RETURN_NOT_OK(otap_buffer_appendf(b, "Bool(%s", col_int(&a->boolean, i) ? "true" : "false"));
      break;
    case OTAP_ANY_MAP:
    case OTAP_ANY_SLICE:
      OTAP_RETURN_NOT_OK(otap_buffer_appendf(b, "%s(", t == OTAP_ANY_MAP ? "Map" : "Slice"));
      OTAP_RETURN_NOT_OK(put_col_hex(b, &a->ser, i));
      break;
    case OTAP_ANY_BYTES:
      OTAP_RETURN_NOT_OK(otap_buffer_appendf(b, "Bytes("));
      OTAP_RETURN_NOT_OK(put_col_hex(b, &a->bytes, i));
      break;
    default:
      return otap_buffer_appendf(b, "Invalid(%" PRId64 ")", t);
  }
  return otap_buffer_append(b, ")", 1);
}

// ---------------------------------------------------------------------------------------------
// Attributes grouped by plain parent id, each group rendered sorted: "{k=Str("v"), ...}"

struct attr_groups {
  struct otap_buffer text;  // concatenated group renderings
  int64_t* off;             // n_ids + 1 entries (offsets into text), NULL = table absent
  int64_t n_ids;            // parent ids 0 .. n_ids-1 have an entry
};

struct span_ref {
  int64_t off, len;
};

static _Thread_local const struct otap_buffer* g_cmp_buf;  // qsort context (C11 has no qsort_r)
static int cmp_span(const void* pa, const void* pb) {
  const struct span_ref* a = pa;
  const struct span_ref* b = pb;
  int64_t n = a->len < b->len ? a->len : b->len;
  int c = memcmp(g_cmp_buf->data + a->off, g_cmp_buf->data + b->off, (size_t)n);
  if (c) return c;
  return a->len < b->len ? -1 : a->len > b->len;
}

static int render_attr_groups(const struct otap_logs_payload* p, enum otap_logs_table t,
                              struct attr_groups* out, struct otap_error* err) {
  otap_buffer_init(&out->text);
  out->off = NULL;
  if (!otap_logs_payload_has_table(p, t)) return 0;
  const char* table = otap_logs_table_name(t);
  struct otap__attrs a;
  struct otap__ids ids;
  memset(&ids, 0, sizeof(ids));
  struct otap_buffer rows;
  otap_buffer_init(&rows);
  struct span_ref* spans = NULL;
  int64_t* count = NULL;
  int rc = otap__attrs_init(&a, &p->schema[t], &p->batch[t], OTAP_VALIDATE_NONE, table, err);
  if (rc) return rc;
  OTAP_GOTO_NOT_OK(rc, otap__attrs_plain_parent_ids(&a, &ids, table, err));
  spans = otap_malloc((size_t)(a.n ? a.n : 1) * sizeof(*spans));
  int64_t n_ids = 0;  // max parent id + 1: arrays sized to the ids in use
  for (int64_t i = 0; i < a.n; i++) {
    if (ids.valid[i] && ids.values[i] >= n_ids) n_ids = ids.values[i] + 1;
  }
  out->n_ids = n_ids;
  count = otap_calloc((size_t)n_ids + 1, sizeof(int64_t));
  out->off = otap_calloc((size_t)n_ids + 1, sizeof(int64_t));
  if (!spans || !count || !out->off) {
    rc = otap_error_set(err, ENOMEM, "out of memory comparing payloads");
    goto done;
  }
  struct anyv av;
  memset(&av, 0, sizeof(av));
  int64_t base = a.base;
  av.type = (struct col){a.type, base, NULL, 0};
  av.str = (struct col){a.str, base, NULL, 0};
  av.int_ = (struct col){a.int_, base, NULL, 0};
  av.dbl = (struct col){a.dbl, base, NULL, 0};
  av.boolean = (struct col){a.boolean, base, NULL, 0};
  av.bytes = (struct col){a.bytes, base, NULL, 0};
  av.ser = (struct col){a.ser, base, NULL, 0};
  struct col key = {a.key, base, NULL, 0};
  // Render each row, then bucket rows by parent id.
  for (int64_t i = 0; i < a.n; i++) {
    int64_t start = rows.size;
    rc = put_col_str(&rows, &key, i);
    if (!rc) rc = otap_buffer_append(&rows, "=", 1);
    if (!rc) rc = put_any(&rows, &av, i, true);
    if (rc) {
      rc = otap_error_set(err, ENOMEM, "out of memory comparing payloads");
      goto done;
    }
    spans[i].off = start;
    spans[i].len = rows.size - start;
    if (ids.valid[i]) count[ids.values[i] + 1]++;
  }
  for (int64_t k = 0; k < n_ids; k++) count[k + 1] += count[k];
  struct span_ref* sorted = otap_malloc((size_t)(a.n ? a.n : 1) * sizeof(*sorted));
  if (!sorted) {
    rc = otap_error_set(err, ENOMEM, "out of memory comparing payloads");
    goto done;
  }
  int64_t* fill = otap_malloc((size_t)(n_ids ? n_ids : 1) * sizeof(int64_t));
  if (!fill) {
    otap_free(sorted);
    rc = otap_error_set(err, ENOMEM, "out of memory comparing payloads");
    goto done;
  }
  if (n_ids) memcpy(fill, count, (size_t)n_ids * sizeof(int64_t));
  for (int64_t i = 0; i < a.n; i++) {
    if (ids.valid[i]) sorted[fill[ids.values[i]]++] = spans[i];
  }
  otap_free(fill);
  g_cmp_buf = &rows;
  for (int64_t k = 0; k < n_ids && !rc; k++) {
    int64_t lo = count[k], hi = count[k + 1];
    out->off[k] = out->text.size;
    if (hi == lo) continue;
    qsort(sorted + lo, (size_t)(hi - lo), sizeof(*sorted), cmp_span);
    for (int64_t j = lo; j < hi && !rc; j++) {
      if (j > lo) rc = otap_buffer_append(&out->text, ", ", 2);
      if (!rc) rc = otap_buffer_append(&out->text, rows.data + sorted[j].off, sorted[j].len);
    }
  }
  out->off[n_ids] = out->text.size;
  otap_free(sorted);
  if (rc) rc = otap_error_set(err, ENOMEM, "out of memory comparing payloads");
done:
  otap_free(spans);
  otap_free(count);
  otap_buffer_reset(&rows);
  otap__ids_reset(&ids);
  otap__attrs_reset(&a);
  if (rc) {
    otap_free(out->off);
    out->off = NULL;
    otap_buffer_reset(&out->text);
  }
  return rc;
}

static int put_group(struct otap_buffer* b, const struct attr_groups* g, bool valid, uint16_t id) {
  OTAP_RETURN_NOT_OK(otap_buffer_append(b, "{", 1));
  if (valid && g->off && id < g->n_ids) {
    int64_t lo = g->off[id], hi = g->off[id + 1];
    if (hi > lo) OTAP_RETURN_NOT_OK(otap_buffer_append(b, g->text.data + lo, hi - lo));
  }
  return otap_buffer_append(b, "}", 1);
}

// Appends one line per log record of p to lines (each line ends with '\n'); records the start
// offset of each line in *starts (appended).
static int render_payload(const struct otap_logs_payload* p, struct otap_buffer* lines,
                          struct otap_buffer* starts, struct otap_error* err) {
  if (!otap_logs_payload_has_table(p, OTAP_LOGS_LOGS) || p->batch[OTAP_LOGS_LOGS].length == 0)
    return 0;
  struct otap_logs_validate_options vo;
  otap_logs_validate_options_init(&vo);
  vo.level = OTAP_VALIDATE_DEFAULT;
  OTAP_RETURN_NOT_OK(otap_logs_validate(p, &vo, err));
  struct attr_groups groups[3];
  memset(groups, 0, sizeof(groups));
  struct otap_array_view view;
  memset(&view, 0, sizeof(view));
  struct otap__ids ids[3];
  memset(ids, 0, sizeof(ids));
  int rc = 0;
  static const enum otap_logs_table kT[3] = {OTAP_LOGS_RESOURCE_ATTRS, OTAP_LOGS_SCOPE_ATTRS,
                                             OTAP_LOGS_LOG_ATTRS};
  for (int k = 0; k < 3; k++) OTAP_GOTO_NOT_OK(rc, render_attr_groups(p, kT[k], &groups[k], err));
  const struct ArrowSchema* s = &p->schema[OTAP_LOGS_LOGS];
  const struct ArrowArray* arr = &p->batch[OTAP_LOGS_LOGS];
  OTAP_GOTO_NOT_OK(rc, otap_array_view_init(&view, s, err));
  OTAP_GOTO_NOT_OK(rc, otap_array_view_set(&view, arr, OTAP_VALIDATE_NONE, err));
  int64_t n = arr->length, base = arr->offset;
  // Plain ids: resource.id, scope.id, id.
  static const char* const kParents[3] = {"resource", "scope", NULL};
  bool have_ids[3] = {false, false, false};
  for (int k = 0; k < 3; k++) {
    struct col c = kParents[k] ? struct_col(&view, s, base, kParents[k], "id") : top_col(&view, s, base, "id");
    if (!c.v) continue;
    const struct ArrowSchema* f;
    if (kParents[k]) {
      int64_t si = otap__logs_child_index(s, kParents[k]);
      f = s->children[si]->children[otap__logs_child_index(s->children[si], "id")];
    } else {
      f = s->children[otap__logs_child_index(s, "id")];
    }
    enum otap_id_encoding enc;
    OTAP_GOTO_NOT_OK(rc, otap_logs_field_id_encoding(f, OTAP_ID_DELTA, &enc, err));
    OTAP_GOTO_NOT_OK(rc, otap__plain_ids_from_view(c.v, c.base, c.parent, c.parent_base, n, enc,
                                                   &ids[k], kParents[k] ? kParents[k] : "id", err));
    have_ids[k] = true;
  }
  struct col res_url = struct_col(&view, s, base, "resource", "schema_url");
  struct col res_drop = struct_col(&view, s, base, "resource", "dropped_attributes_count");
  struct col sc_name = struct_col(&view, s, base, "scope", "name");
  struct col sc_ver = struct_col(&view, s, base, "scope", "version");
  struct col sc_drop = struct_col(&view, s, base, "scope", "dropped_attributes_count");
  struct col url = top_col(&view, s, base, "schema_url");
  struct col time = top_col(&view, s, base, "time_unix_nano");
  struct col obs = top_col(&view, s, base, "observed_time_unix_nano");
  struct col trace = top_col(&view, s, base, "trace_id");
  struct col span = top_col(&view, s, base, "span_id");
  struct col sevnum = top_col(&view, s, base, "severity_number");
  struct col sevtext = top_col(&view, s, base, "severity_text");
  struct col event = top_col(&view, s, base, "event_name");
  struct col dropped = top_col(&view, s, base, "dropped_attributes_count");
  struct col flags = top_col(&view, s, base, "flags");
  struct anyv body;
  body.type = struct_col(&view, s, base, "body", "type");
  body.str = struct_col(&view, s, base, "body", "str");
  body.int_ = struct_col(&view, s, base, "body", "int");
  body.dbl = struct_col(&view, s, base, "body", "double");
  body.boolean = struct_col(&view, s, base, "body", "bool");
  body.bytes = struct_col(&view, s, base, "body", "bytes");
  body.ser = struct_col(&view, s, base, "body", "ser");
  for (int64_t i = 0; i < n && !rc; i++) {
    int64_t start = lines->size;
    rc = otap_buffer_append(starts, &start, sizeof(start));
    if (!rc) rc = put_lit(lines, "log{time=");
    if (!rc) rc = put_i64(lines, col_int(&time, i));
    if (!rc) rc = put_lit(lines, " observed=");
    if (!rc) rc = put_i64(lines, col_int(&obs, i));
    if (!rc) rc = put_lit(lines, " trace=");
    if (!rc) rc = put_col_hex(lines, &trace, i);
    if (!rc) rc = put_lit(lines, " span=");
    if (!rc) rc = put_col_hex(lines, &span, i);
    if (!rc) rc = put_lit(lines, " severity=");
    if (!rc) rc = put_i64(lines, col_int(&sevnum, i));
    if (!rc) rc = put_lit(lines, " severity_text=");
    if (!rc) rc = put_col_str(lines, &sevtext, i);
    if (!rc) rc = put_lit(lines, " event=");
    if (!rc) rc = put_col_str(lines, &event, i);
    if (!rc) rc = put_lit(lines, " schema_url=");
    if (!rc) rc = put_col_str(lines, &url, i);
    if (!rc) rc = put_lit(lines, " body=");
    if (!rc) rc = put_any(lines, &body, i, true);
    if (!rc) rc = put_lit(lines, " dropped=");
    if (!rc) rc = put_i64(lines, col_int(&dropped, i));
    if (!rc) rc = put_lit(lines, " flags=");
    if (!rc) rc = put_i64(lines, col_int(&flags, i));
    if (!rc) rc = put_lit(lines, " attrs=");
    if (!rc) rc = put_group(lines, &groups[2], have_ids[2] && ids[2].valid[i], have_ids[2] ? ids[2].values[i] : 0);
    if (!rc) rc = put_lit(lines, "} resource{schema_url=");
    if (!rc) rc = put_col_str(lines, &res_url, i);
    if (!rc) rc = put_lit(lines, " dropped=");
    if (!rc) rc = put_i64(lines, col_int(&res_drop, i));
    if (!rc) rc = put_lit(lines, " attrs=");
    if (!rc) rc = put_group(lines, &groups[0], have_ids[0] && ids[0].valid[i], have_ids[0] ? ids[0].values[i] : 0);
    if (!rc) rc = put_lit(lines, "} scope{name=");
    if (!rc) rc = put_col_str(lines, &sc_name, i);
    if (!rc) rc = put_lit(lines, " version=");
    if (!rc) rc = put_col_str(lines, &sc_ver, i);
    if (!rc) rc = put_lit(lines, " dropped=");
    if (!rc) rc = put_i64(lines, col_int(&sc_drop, i));
    if (!rc) rc = put_lit(lines, " attrs=");
    if (!rc) rc = put_group(lines, &groups[1], have_ids[1] && ids[1].valid[i], have_ids[1] ? ids[1].values[i] : 0);
    if (!rc) rc = put_lit(lines, "}\n");
  }
  if (rc && rc != EINVAL) rc = otap_error_set(err, ENOMEM, "out of memory rendering log records");
done:
  for (int k = 0; k < 3; k++) {
    otap_free(groups[k].off);
    otap_buffer_reset(&groups[k].text);
    otap__ids_reset(&ids[k]);
  }
  otap_array_view_reset(&view);
  return rc;
}

int otap_logs_payload_format(const struct otap_logs_payload* p, struct otap_buffer* out,
                             struct otap_error* err) {
  struct otap_buffer starts;
  otap_buffer_init(&starts);
  int rc = render_payload(p, out, &starts, err);
  otap_buffer_reset(&starts);
  return rc;
}

void otap_logs_equiv_options_init(struct otap_logs_equiv_options* o) {
  memset(o, 0, sizeof(*o));
  o->max_differences = 5;
}

struct line_set {
  struct otap_buffer text;
  struct otap_buffer starts;  // int64 offsets
  struct span_ref* lines;
  int64_t n;
};

static int render_all(const struct otap_logs_payload* p, int64_t n, struct line_set* s,
                      const char* side, struct otap_error* err) {
  for (int64_t k = 0; k < n; k++) {
    int rc = render_payload(&p[k], &s->text, &s->starts, err);
    if (rc) return otap_error_prefix(err, rc, "%s payload %lld: ", side, (long long)k);
  }
  s->n = s->starts.size / (int64_t)sizeof(int64_t);
  s->lines = otap_malloc((size_t)(s->n ? s->n : 1) * sizeof(*s->lines));
  if (!s->lines) return otap_error_set(err, ENOMEM, "out of memory comparing payloads");
  const int64_t* st = (const int64_t*)s->starts.data;
  for (int64_t i = 0; i < s->n; i++) {
    int64_t end = i + 1 < s->n ? st[i + 1] : s->text.size;
    s->lines[i].off = st[i];
    s->lines[i].len = end - st[i] - 1;  // without '\n'
  }
  g_cmp_buf = &s->text;
  qsort(s->lines, (size_t)s->n, sizeof(*s->lines), cmp_span);
  return 0;
}

static int line_cmp(const struct line_set* a, int64_t i, const struct line_set* b, int64_t j) {
  const struct span_ref* x = &a->lines[i];
  const struct span_ref* y = &b->lines[j];
  int64_t n = x->len < y->len ? x->len : y->len;
  int c = memcmp(a->text.data + x->off, b->text.data + y->off, (size_t)n);
  if (c) return c;
  return x->len < y->len ? -1 : x->len > y->len;
}

int otap_logs_equiv(const struct otap_logs_payload* a, int64_t n_a,
                    const struct otap_logs_payload* b, int64_t n_b,
                    const struct otap_logs_equiv_options* options, bool* equal,
                    struct otap_buffer* report, struct otap_error* err) {
  struct otap_logs_equiv_options defaults;
  if (!options) {
    otap_logs_equiv_options_init(&defaults);
    options = &defaults;
  }
  *equal = false;
  struct line_set sa, sb;
  memset(&sa, 0, sizeof(sa));
  memset(&sb, 0, sizeof(sb));
  int rc = 0;
  OTAP_GOTO_NOT_OK(rc, render_all(a, n_a, &sa, "A", err));
  OTAP_GOTO_NOT_OK(rc, render_all(b, n_b, &sb, "B", err));
  int64_t i = 0, j = 0, only_a = 0, only_b = 0;
  int64_t max = options->max_differences > 0 ? options->max_differences : 0;
  if (max > sa.n + sb.n) max = sa.n + sb.n;  // never more differences than records
  int64_t* ka = otap_malloc((size_t)(max ? max : 1) * sizeof(int64_t));
  int64_t* kb = otap_malloc((size_t)(max ? max : 1) * sizeof(int64_t));
  int64_t na = 0, nb = 0;
  if (!ka || !kb) {
    otap_free(ka);
    otap_free(kb);
    rc = otap_error_set(err, ENOMEM, "out of memory comparing payloads");
    goto done;
  }
  while (i < sa.n || j < sb.n) {
    int c = i >= sa.n ? 1 : j >= sb.n ? -1 : line_cmp(&sa, i, &sb, j);
    if (c == 0) {
      i++, j++;
    } else if (c < 0) {
      if (na < max) ka[na++] = i;
      only_a++, i++;
    } else {
      if (nb < max) kb[nb++] = j;
      only_b++, j++;
    }
  }
  // Records only in A, each with the nearest record only in B (longest common prefix) and
  // where they first differ; then the remaining records only in B.
  uint8_t* used_b = otap_calloc((size_t)(nb ? nb : 1), 1);
  int64_t shown = 0;
  for (int64_t x = 0; report && used_b && x < na && shown < max && !rc; x++, shown++) {
    const struct span_ref* la = &sa.lines[ka[x]];
    const char* ta = (const char*)sa.text.data + la->off;
    rc = otap_buffer_appendf(report, "only in A: %.*s\n", (int)la->len, ta);
    int64_t best = -1, best_len = -1;
    for (int64_t y = 0; y < nb; y++) {
      const struct span_ref* lb = &sb.lines[kb[y]];
      const char* tb = (const char*)sb.text.data + lb->off;
      int64_t m = la->len < lb->len ? la->len : lb->len, p = 0;
      while (p < m && ta[p] == tb[p]) p++;
      if (p > best_len) best = y, best_len = p;
    }
    if (!rc && best >= 0 && best_len >= 16) {
      const struct span_ref* lb = &sb.lines[kb[best]];
      const char* tb = (const char*)sb.text.data + lb->off;
      int64_t from = best_len > 40 ? best_len - 40 : 0;
      int64_t ea = la->len - from < 100 ? la->len - from : 100;
      int64_t eb = lb->len - from < 100 ? lb->len - from : 100;
      rc = otap_buffer_appendf(report,
                               "  nearest record only in B differs at character %lld:\n"
                               "    A: ...%.*s...\n    B: ...%.*s...\n",
                               (long long)best_len, (int)ea, ta + from, (int)eb, tb + from);
      used_b[best] = 1;
    }
  }
  for (int64_t y = 0; report && used_b && y < nb && shown < max && !rc; y++) {
    if (used_b[y]) continue;
    const struct span_ref* lb = &sb.lines[kb[y]];
    rc = otap_buffer_appendf(report, "only in B: %.*s\n", (int)lb->len,
                             (const char*)sb.text.data + lb->off);
    shown++;
  }
  if (!used_b && !rc) rc = ENOMEM;
  otap_free(used_b);
  otap_free(ka);
  otap_free(kb);
  if (rc) {
    rc = otap_error_set(err, ENOMEM, "out of memory writing the difference report");
    goto done;
  }
  *equal = only_a == 0 && only_b == 0;
  if (report && !*equal) {
    rc = otap_buffer_appendf(report,
                             "%lld log records only in A, %lld only in B (A has %lld, B has %lld)\n",
                             (long long)only_a, (long long)only_b, (long long)sa.n, (long long)sb.n);
    if (rc) rc = otap_error_set(err, ENOMEM, "out of memory writing the difference report");
  }
done:
  otap_buffer_reset(&sa.text);
  otap_buffer_reset(&sa.starts);
  otap_free(sa.lines);
  otap_buffer_reset(&sb.text);
  otap_buffer_reset(&sb.starts);
  otap_free(sb.lines);
  return rc;
}
