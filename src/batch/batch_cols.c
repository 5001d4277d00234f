// Batch column writers: the unified column tree of one table, and for every column one pass
// per input that copies the input's rows straight into the output buffers of all outputs.
//
// Each column's output buffers cover every output (see struct otap__region): a source run
// (rows [src, src+len) of input i -> positions [dst, dst+len)) becomes one memcpy / bit copy
// per column, whatever the output. Dictionary columns are written as global value ids (one
// interned id per distinct value, computed lazily once per input dictionary entry), then each
// output's keys are assigned in one pass over its positions (first use order) and its
// dictionary values gathered from the interned store. Strings take two passes: lengths into
// the offsets, then bytes once each output's data start is known. Outputs point into the
// shared blocks; nothing is copied twice.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch/batch_internal.h"

// ---------------------------------------------------------------------------------------------
// Column tree

struct bsrc {
  const struct otap_array_view* v;  // NULL: the input lacks the column (rows are null)
  int64_t base;                     // physical element of table row r: base + r
  bool nulls;                       // v has a validity bitmap with nulls
  int64_t n_rows;                   // rows of the input's table
};

enum bkind { BK_STRUCT, BK_FIXED, BK_BOOL, BK_VAR };

struct bcol {
  char* name;
  char* format;  // value format (dictionary value format when dictionary-encoded)
  enum bkind kind;
  int width;     // BK_FIXED: bytes per value
  bool dict;     // output dictionary-encoded (some input is)
  bool u16_only;
  enum otap__col_role role;
  int64_t n_children;
  struct bcol* children;
  struct bsrc* src;  // per input
  // Output buffers over all regions.
  bool need_bits;
  uint8_t* bits;
  uint8_t* vals;    // fixed values / bool bits / int32 offsets / u16 ids / u16 dictionary keys
  uint8_t* data;    // BK_VAR native: bytes
  int64_t* dstart;  // BK_VAR native: data start of each output
  int64_t data_size;
  int32_t* gid;     // dictionary: entry id per position (-1 null)
  int64_t* ebase;   // dictionary: first dictionary-entry id of each input (n_in + 1)
  int64_t* nbase;   // dictionary: first native-row entry of each input (n_in + 1)
  struct otap_buffer* dv;  // dictionary: per output, values (fixed) or offsets (var)
  struct otap_buffer* dd;  // dictionary: per output, bytes (var)
  int32_t* dcount;  // dictionary: distinct values per output
  int32_t* used;    // dictionary: an entry of each value of output k, at used[pstart[k] ...]
  int64_t nbytes[3];  // allocated bytes of bits, vals, data
  int64_t nk;         // outputs (dv / dd entries)
  struct otap_shared* sh_bits;
  struct otap_shared* sh_vals;
  struct otap_shared* sh_data;
};

struct otab {
  uint64_t* slots;  // (hash high 32 bits << 32) | (index + 1); 0 = empty
  int64_t cap;      // slots in use (power of two; 0 = unused)
  int64_t pcap;     // slots allocated; all zero beyond the occupied ones
  int32_t cnt;
  int32_t vcap;
  // Adaptive lookups (may_append): once more than 256 values are held and fewer than 1 in 8
  // of at least 512 lookups found one, values are appended without lookup (append).
  bool may_append;
  bool append;
  int32_t nhashed;  // values placed in slots (the first nhashed)
  int32_t probes;   // lookups
  int32_t hits;     // lookups that found a value
  const uint8_t** vp;
  int64_t* vl;
  uint64_t* vh;
};

struct otap__tcols {
  enum otap_logs_table table;
  int64_t n_in;
  int64_t n_cols;
  struct bcol* cols;
  const struct otap__region* reg;
  bool* bound;  // per input: the input has rows of this table
  // Dictionary columns resolve keys run by run through a per-input key memo (write_dict_runs)
  // unless an output exceeds 65,536 rows (it may need the native fallback, which needs entry
  // ids), there are more than 256 outputs, or a memo would be too large (write_dict_entries).
  bool run_mode;
  bool exact_dicts;   // otap_batch_options.exact_dictionaries
  struct otab* tabs;  // run mode: one table of distinct values per output, reused by columns
  int64_t ntabs;
  int32_t* memo;      // run mode: per-input key memo, reused
  int64_t memo_cap;
};

static enum otap__col_role role_of(enum otap_logs_table t, const char* parent, const char* name) {
  if (t == OTAP_LOGS_LOGS) {
    if (!parent && strcmp(name, "id") == 0) return OTAP__ROLE_LOG_ID;
    if (parent && strcmp(parent, "resource") == 0 && strcmp(name, "id") == 0)
      return OTAP__ROLE_RESOURCE_ID;
    if (parent && strcmp(parent, "scope") == 0 && strcmp(name, "id") == 0)
      return OTAP__ROLE_SCOPE_ID;
    if (parent && strcmp(parent, "body") == 0 && strcmp(name, "type") == 0)
      return OTAP__ROLE_BODY_TYPE;
    return OTAP__ROLE_NONE;
  }
  if (!parent && strcmp(name, "parent_id") == 0) return OTAP__ROLE_PARENT_ID;
  return OTAP__ROLE_NONE;
}

static bool is_u16_only(enum otap_logs_table t, const char* parent, const char* name) {
  static const char* const kU16[] = {"str", "int", "bytes", "ser"};
  bool scope_ok = t == OTAP_LOGS_LOGS ? (parent && strcmp(parent, "body") == 0) : !parent;
  if (!scope_ok) return false;
  for (size_t i = 0; i < sizeof(kU16) / sizeof(kU16[0]); i++) {
    if (strcmp(name, kU16[i]) == 0) return true;
  }
  return false;
}

static bool formats_compatible(const char* a, const char* b) {
  if (strncmp(a, "tsn:", 4) == 0 && strncmp(b, "tsn:", 4) == 0) return true;
  return strcmp(a, b) == 0;
}

// Layout of a value format; false for formats the OTAP schemas do not use.
static bool layout_of(const char* f, enum bkind* kind, int* width) {
  *width = 0;
  if (strcmp(f, "+s") == 0) return *kind = BK_STRUCT, true;
  if (strcmp(f, "b") == 0) return *kind = BK_BOOL, true;
  if (strcmp(f, "u") == 0 || strcmp(f, "z") == 0) return *kind = BK_VAR, true;
  *kind = BK_FIXED;
  if (strcmp(f, "c") == 0 || strcmp(f, "C") == 0) return *width = 1, true;
  if (strcmp(f, "s") == 0 || strcmp(f, "S") == 0) return *width = 2, true;
  if (strcmp(f, "i") == 0 || strcmp(f, "I") == 0 || strcmp(f, "f") == 0) return *width = 4, true;
  if (strcmp(f, "l") == 0 || strcmp(f, "L") == 0 || strcmp(f, "g") == 0 ||
      strncmp(f, "ts", 2) == 0)
    return *width = 8, true;
  if (strncmp(f, "w:", 2) == 0) {
    int w = atoi(f + 2);
    if (w < 1 || w > 64) return false;
    *width = w;
    return true;
  }
  return false;
}

static void cols_free(struct bcol* cols, int64_t n, int64_t n_in) {
  for (int64_t i = 0; i < n; i++) {
    struct bcol* c = &cols[i];
    otap_free(c->name);
    otap_free(c->format);
    cols_free(c->children, c->n_children, n_in);
    otap_free(c->src);
    if (c->sh_bits) otap_shared_unref(c->sh_bits); else otap_free(c->bits);
    if (c->sh_vals) otap_shared_unref(c->sh_vals); else otap_free(c->vals);
    if (c->sh_data) otap_shared_unref(c->sh_data); else otap_free(c->data);
    otap_free(c->dstart);
    otap_free(c->gid);
    otap_free(c->ebase);
    otap_free(c->nbase);
    for (int64_t k = 0; c->dv && c->dd && k < c->nk; k++) {
      otap_buffer_reset(&c->dv[k]);
      otap_buffer_reset(&c->dd[k]);
    }
    otap_free(c->dv);
    otap_free(c->dd);
    otap_free(c->dcount);
    otap_free(c->used);
  }
  otap_free(cols);
}

int otap__tcols_new(struct otap__tcols** out, enum otap_logs_table t, int64_t n_in,
                    struct otap_error* err) {
  struct otap__tcols* c = otap_calloc(1, sizeof(*c));
  OTAP_RETURN_IF(!c, err, ENOMEM, "batch: out of memory (columns)");
  c->table = t;
  c->n_in = n_in;
  c->bound = otap_calloc((size_t)(n_in > 0 ? n_in : 1), sizeof(bool));
  if (!c->bound) {
    otap_free(c);
    return otap_error_set(err, ENOMEM, "batch: out of memory (columns)");
  }
  *out = c;
  return 0;
}

static void otab_free(struct otab* t);

void otap__tcols_free(struct otap__tcols* c) {
  if (!c) return;
  cols_free(c->cols, c->n_cols, c->n_in);
  for (int64_t k = 0; c->tabs && k < c->ntabs; k++) otab_free(&c->tabs[k]);
  otap_free(c->tabs);
  otap_free(c->memo);
  otap_free(c->bound);
  otap_free(c);
}

static int add_cols(struct otap__tcols* tc, struct bcol** cols, int64_t* n, const char* parent,
                    const struct ArrowSchema* s, int64_t input, struct otap_error* err) {
  enum otap_logs_table t = tc->table;
  for (int64_t i = 0; i < s->n_children; i++) {
    const struct ArrowSchema* f = s->children[i];
    const char* name = f->name ? f->name : "";
    const char* vf = f->dictionary ? f->dictionary->format : f->format;
    enum bkind kind;
    int width;
    OTAP_RETURN_IF(!layout_of(vf, &kind, &width) || (kind == BK_STRUCT && f->dictionary), err,
                   EINVAL, "batch: input %lld, table %s, column %s%s%s: unsupported type '%s'",
                   (long long)input, otap_logs_table_name(t), parent ? parent : "",
                   parent ? "." : "", name, vf);
    // Names are unique (spec validation); inputs mostly share a column order, so the same
    // position is tried first.
    struct bcol* u = NULL;
    if (i < *n && strcmp((*cols)[i].name, name) == 0) u = &(*cols)[i];
    for (int64_t j = 0; !u && j < *n; j++) {
      if (strcmp((*cols)[j].name, name) == 0) u = &(*cols)[j];
    }
    if (u) {
      if ((u->kind == BK_STRUCT) != (kind == BK_STRUCT) ||
          (kind != BK_STRUCT && !formats_compatible(u->format, vf))) {
        return otap_error_set(err, EINVAL,
                              "batch: input %lld, table %s, column %s%s%s: type '%s' conflicts "
                              "with '%s' of an earlier input",
                              (long long)input, otap_logs_table_name(t), parent ? parent : "",
                              parent ? "." : "", name, vf, u->format);
      }
      if (f->dictionary) u->dict = true;
    } else {
      struct bcol* grown = otap_realloc(*cols, (size_t)(*n + 1) * sizeof(**cols));
      OTAP_RETURN_IF(!grown, err, ENOMEM, "batch: out of memory (schema union)");
      *cols = grown;
      u = &grown[*n];
      memset(u, 0, sizeof(*u));
      (*n)++;
      u->name = otap_strdup(name);
      u->format = otap_strdup(vf);
      u->src = otap_calloc((size_t)(tc->n_in > 0 ? tc->n_in : 1), sizeof(struct bsrc));
      OTAP_RETURN_IF(!u->name || !u->format || !u->src, err, ENOMEM,
                     "batch: out of memory (schema union)");
      u->kind = kind;
      u->width = width;
      u->dict = f->dictionary != NULL;
      u->role = role_of(t, parent, name);
      u->u16_only = is_u16_only(t, parent, name);
    }
    if (kind == BK_STRUCT) {
      OTAP_RETURN_IF(parent != NULL, err, ENOTSUP,
                     "batch: input %lld, table %s, column %s.%s: nested structs are not OTAP",
                     (long long)input, otap_logs_table_name(t), parent, name);
      OTAP_RETURN_NOT_OK(add_cols(tc, &u->children, &u->n_children, name, f, input, err));
    }
  }
  return 0;
}

int otap__tcols_add(struct otap__tcols* c, int64_t input, const struct ArrowSchema* s,
                    struct otap_error* err) {
  OTAP_RETURN_IF(strcmp(s->format, "+s") != 0, err, EINVAL,
                 "batch: input %lld, table %s: not a struct record batch (format '%s')",
                 (long long)input, otap_logs_table_name(c->table), s->format);
  return add_cols(c, &c->cols, &c->n_cols, NULL, s, input, err);
}

static void bind_cols(struct bcol* cols, int64_t n, int64_t input,
                      const struct otap_array_view* parent, const struct ArrowSchema* ps,
                      int64_t pbase, int64_t n_rows) {
  for (int64_t i = 0; i < n; i++) {
    struct bcol* c = &cols[i];
    int64_t j = -1;  // the same position first (see add_cols)
    if (i < ps->n_children && ps->children[i]->name && strcmp(ps->children[i]->name, c->name) == 0)
      j = i;
    for (int64_t q = 0; j < 0 && q < ps->n_children; q++) {
      if (ps->children[q]->name && strcmp(ps->children[q]->name, c->name) == 0) j = q;
    }
    struct bsrc* s = &c->src[input];
    if (j < 0) {
      memset(s, 0, sizeof(*s));
      // Children of a missing struct are missing too.
      for (int64_t q = 0; q < c->n_children; q++) memset(&c->children[q].src[input], 0,
                                                         sizeof(struct bsrc));
      continue;
    }
    const struct otap_array_view* v = parent->children[j];
    s->v = v;
    s->n_rows = n_rows;
    s->base = v->offset + pbase;
    s->nulls = v->buffers[0] && v->null_count > 0;
    if (c->kind == BK_STRUCT) bind_cols(c->children, c->n_children, input, v, ps->children[j],
                                        pbase + v->offset, n_rows);
  }
}

void otap__tcols_bind(struct otap__tcols* c, int64_t input, const struct otap_array_view* view,
                      const struct ArrowSchema* schema) {
  c->bound[input] = true;
  bind_cols(c->cols, c->n_cols, input, view, schema, view->offset, view->length);
}

// ---------------------------------------------------------------------------------------------
// Bits

// Copies n >= 1 bits from src (bit spos) to dst (bit dpos); other dst bits unchanged. Runs
// of one row (sorted outputs) and short runs stay inline.
static inline void copy_bits(uint8_t* dst, int64_t dpos, const uint8_t* src, int64_t spos,
                             int64_t n) {
  if (n == 1) {
    otap_bit_set_to(dst, dpos, otap_bit_get(src, spos));
  } else if (n <= 32) {
    otap_bitmap_copy_short(dst, dpos, src, spos, n);
  } else {
    otap_bitmap_copy(dst, dpos, src, spos, n);
  }
}

static void fill_bits(uint8_t* dst, int64_t pos, int64_t n, bool v) {
  int64_t i = 0;
  for (; i < n && ((pos + i) & 7); i++) otap_bit_set_to(dst, pos + i, v);
  int64_t nb = (n - i) >> 3;
  if (nb > 0) memset(dst + ((pos + i) >> 3), v ? 0xff : 0, (size_t)nb);
  i += nb * 8;
  for (; i < n; i++) otap_bit_set_to(dst, pos + i, v);
}

// ---------------------------------------------------------------------------------------------
// Allocation

static int alloc_cols(struct otap__tcols* tc, struct bcol* cols, int64_t n,
                      struct otap_error* err) {
  const struct otap__region* reg = tc->reg;
  int64_t total = reg->total;
  for (int64_t i = 0; i < n; i++) {
    struct bcol* c = &cols[i];
    bool missing = false, nulls = false, dnulls = false;
    for (int64_t j = 0; j < tc->n_in; j++) {
      const struct bsrc* s = &c->src[j];
      if (!tc->bound[j]) continue;
      if (!s->v) {
        missing = true;
        continue;
      }
      nulls |= s->nulls;
      if (s->v->dictionary && s->v->dictionary->buffers[0] && s->v->dictionary->null_count > 0)
        dnulls = true;
    }
    c->need_bits = missing || nulls || dnulls;
    if (c->role == OTAP__ROLE_BODY_TYPE) c->need_bits = false;  // filled with 0 (Empty)
    if (c->role == OTAP__ROLE_PARENT_ID) c->need_bits = false;
    if (c->role == OTAP__ROLE_LOG_ID || c->role == OTAP__ROLE_RESOURCE_ID ||
        c->role == OTAP__ROLE_SCOPE_ID)
      c->need_bits = false;  // decided by the engine (otap__tcols_id_bits)
    if (c->need_bits) {
      c->bits = otap_malloc((size_t)(total / 8 + 8));
      OTAP_RETURN_IF(!c->bits, err, ENOMEM, "batch: out of memory (validity)");
      c->nbytes[0] = total / 8 + 8;
      memset(c->bits, 0xff, (size_t)(total / 8 + 8));
    }
    int64_t vb = 0;
    if (c->kind == BK_STRUCT) {
      OTAP_RETURN_NOT_OK(alloc_cols(tc, c->children, c->n_children, err));
      continue;
    }
    if (c->role != OTAP__ROLE_NONE && c->role != OTAP__ROLE_BODY_TYPE) {
      vb = total * 2;
    } else if (c->dict) {
      vb = total * 2;
      c->ebase = otap_malloc((size_t)(tc->n_in + 1) * sizeof(int64_t));
      OTAP_RETURN_IF(!c->ebase, err, ENOMEM, "batch: out of memory (dictionary column %s)",
                     c->name);
      c->nbase = otap_malloc((size_t)(tc->n_in + 1) * sizeof(int64_t));
      c->nk = reg->k;
      c->dv = otap_calloc((size_t)reg->k + 1, sizeof(struct otap_buffer));
      c->dd = otap_calloc((size_t)reg->k + 1, sizeof(struct otap_buffer));
      OTAP_RETURN_IF(!c->nbase || !c->dv || !c->dd, err, ENOMEM,
                     "batch: out of memory (dictionary column %s)", c->name);
      c->ebase[0] = c->nbase[0] = 0;
      for (int64_t j = 0; j < tc->n_in; j++) {
        const struct bsrc* s = &c->src[j];
        int64_t ne = 0, nn = 0;
        if (tc->bound[j] && s->v) {
          if (s->v->dictionary) ne = s->v->dictionary->length; else nn = s->n_rows;
        }
        c->ebase[j + 1] = c->ebase[j] + ne;
        c->nbase[j + 1] = c->nbase[j] + nn;
      }
      OTAP_RETURN_IF(c->ebase[tc->n_in] > INT32_MAX || c->nbase[tc->n_in] > INT32_MAX - 2, err,
                     EINVAL, "batch: column %s: more than %d values in one call", c->name,
                     INT32_MAX - 2);
      c->dcount = otap_calloc((size_t)reg->k + 1, sizeof(int32_t));
      OTAP_RETURN_IF(!c->dcount, err, ENOMEM, "batch: out of memory (dictionary column %s)",
                     c->name);
    } else if (c->kind == BK_FIXED) {
      vb = total * c->width;
    } else if (c->kind == BK_BOOL) {
      vb = total / 8 + 8;
    } else {
      vb = total * 4 + 4;
      c->dstart = otap_calloc((size_t)reg->k + 1, sizeof(int64_t));
      OTAP_RETURN_IF(!c->dstart, err, ENOMEM, "batch: out of memory (string column %s)",
                     c->name);
    }
    c->vals = otap_malloc((size_t)vb + 8);
    c->nbytes[1] = vb + 8;
    OTAP_RETURN_IF(!c->vals, err, ENOMEM, "batch: out of memory (column %s, %lld bytes)",
                   c->name, (long long)vb);
  }
  return 0;
}

int otap__tcols_alloc(struct otap__tcols* c, const struct otap__region* reg,
                      struct otap_error* err) {
  c->reg = reg;
  return alloc_cols(c, c->cols, c->n_cols, err);
}

static struct bcol* find_role(struct bcol* cols, int64_t n, enum otap__col_role role) {
  for (int64_t i = 0; i < n; i++) {
    if (cols[i].role == role) return &cols[i];
    struct bcol* r = find_role(cols[i].children, cols[i].n_children, role);
    if (r) return r;
  }
  return NULL;
}

uint16_t* otap__tcols_id_values(struct otap__tcols* c, enum otap__col_role role) {
  struct bcol* b = find_role(c->cols, c->n_cols, role);
  return b ? (uint16_t*)b->vals : NULL;
}

uint8_t* otap__tcols_id_bits(struct otap__tcols* c, enum otap__col_role role, bool needed) {
  struct bcol* b = find_role(c->cols, c->n_cols, role);
  if (!b || !needed) return NULL;
  if (!b->bits) {
    b->bits = otap_malloc((size_t)(c->reg->total / 8 + 8));
    if (!b->bits) return NULL;
    b->nbytes[0] = c->reg->total / 8 + 8;
    memset(b->bits, 0xff, (size_t)(c->reg->total / 8 + 8));
    b->need_bits = true;
  }
  return b->bits;
}

// ---------------------------------------------------------------------------------------------
// Writers

static inline int32_t rd_key(const struct otap_array_view* v, int64_t e) {
  return v->storage_type == OTAP_TYPE_UINT8 ? v->buffers[1][e]
                                            : ((const uint16_t*)(const void*)v->buffers[1])[e];
}

// Bytes of value element e of a (native) view of layout c.
static inline void value_bytes(const struct bcol* c, const struct otap_array_view* v, int64_t e,
                               const uint8_t** p, int64_t* len) {
  if (c->kind == BK_VAR) {
    const int32_t* o = (const int32_t*)(const void*)v->buffers[1];
    *p = v->buffers[2] ? v->buffers[2] + o[e] : (const uint8_t*)"";
    *len = (int64_t)o[e + 1] - o[e];
  } else if (c->kind == BK_BOOL) {
    static const uint8_t kB[2] = {0, 1};
    *p = &kB[otap_bit_get(v->buffers[1], e)];
    *len = 1;
  } else {
    *p = v->buffers[1] + e * c->width;
    *len = c->width;
  }
}

static int bad_offsets(const struct bcol* c, int64_t input, int64_t e0,
                       struct otap_error* err) {
  return otap_error_set(err, EINVAL, "batch: input %lld, column %s: string offsets out of order "
                        "or out of bounds near element %lld", (long long)input, c->name,
                        (long long)e0);
}

// Checks string offsets of elements [e0, e0 + n) of a native var view.
static inline int check_offsets(const struct bcol* c, const struct otap_array_view* v,
                                int64_t e0, int64_t n, int64_t input, struct otap_error* err) {
  const int32_t* o = (const int32_t*)(const void*)v->buffers[1] + e0;
  if (OTAP_UNLIKELY(otap__offsets_bad(o, n, v->buffer_sizes[2]))) {
    return bad_offsets(c, input, e0, err);
  }
  return 0;
}

// Dictionary columns. Phase 1 (per input, scatter): every position gets an *entry* id, the
// input's entry base plus the dictionary key (dictionary sources) or the row (native sources);
// no hashing. Phase 2 (per output, in position order): the first time an output meets an entry,
// its value is hashed into that output's small table (distinct values of one output, so the
// table stays in cache); the entry's output key is remembered for the output's other rows.

// memcpy of n >= 0 bytes, inline for short strings (overlapping word moves inside both ranges).
static inline void copy_bytes(uint8_t* d, const uint8_t* s, int64_t n) {
  if (n > 16) {
    memcpy(d, s, (size_t)n);
  } else if (n >= 8) {
    uint64_t a, b;
    memcpy(&a, s, 8);
    memcpy(&b, s + n - 8, 8);
    memcpy(d, &a, 8);
    memcpy(d + n - 8, &b, 8);
  } else if (n >= 4) {
    uint32_t a, b;
    memcpy(&a, s, 4);
    memcpy(&b, s + n - 4, 4);
    memcpy(d, &a, 4);
    memcpy(d + n - 4, &b, 4);
  } else {
    for (int64_t i = 0; i < n; i++) d[i] = s[i];
  }
}

// Run mode. One table of distinct values per output (adaptive size); per input a key ->
// output key memo tagged with the output, valid while the input's runs stay in one output.

static void otab_free(struct otab* t) {
  otap_free(t->slots);
  otap_free(t->vp);
  otap_free(t->vl);
  otap_free(t->vh);
  memset(t, 0, sizeof(*t));
}

static void otab_place(struct otab* t, uint64_t h, int32_t x) {
  uint64_t mask = (uint64_t)t->cap - 1, at = h & mask;
  while (t->slots[at]) at = (at + 1) & mask;
  t->slots[at] = ((h >> 32) << 32) | (uint64_t)(x + 1);
}

// Makes room for `nc` slots in use, all empty (the occupied ones are cleared first).
static int otab_resize(struct otab* t, int64_t nc) {
  if (nc > t->pcap) {
    uint64_t* ns = otap_calloc((size_t)nc, sizeof(uint64_t));
    if (!ns) return ENOMEM;
    otap_free(t->slots);
    t->slots = ns;
    t->pcap = nc;
  } else if (t->cap > 0) {
    memset(t->slots, 0, (size_t)t->cap * sizeof(uint64_t));
  }
  t->cap = nc;
  return 0;
}

static int otab_grow(struct otab* t) {
  OTAP_RETURN_NOT_OK(otab_resize(t, t->cap ? t->cap * 2 : 64));
  for (int32_t q = 0; q < t->nhashed; q++) otab_place(t, t->vh[q], q);
  return 0;
}

static int otab_reserve_values(struct otab* t, int32_t nv) {
  if (nv <= t->vcap) return 0;
  const uint8_t** vp = otap_realloc(t->vp, (size_t)nv * sizeof(*vp));
  if (vp) t->vp = vp;
  int64_t* vl = vp ? otap_realloc(t->vl, (size_t)nv * sizeof(*vl)) : NULL;
  if (vl) t->vl = vl;
  uint64_t* vh = vl ? otap_realloc(t->vh, (size_t)nv * sizeof(*vh)) : NULL;
  if (vh) t->vh = vh;
  if (!vh) return ENOMEM;
  t->vcap = nv;
  return 0;
}

// Sizes an unused table for about n values (the size it would grow to holding them).
static int otab_presize_values(struct otab* t, int64_t n) {
  int64_t cap = 64;
  while (cap < 2 * n) cap *= 2;
  OTAP_RETURN_NOT_OK(otab_resize(t, cap));
  return otab_reserve_values(t, (int32_t)n);
}

// Sizes an unused table like a previous output's (outputs of one call are alike).
static int otab_presize(struct otab* t, const struct otab* like) {
  if (like->cap == 0) return 0;
  OTAP_RETURN_NOT_OK(otab_resize(t, like->cap));
  return otab_reserve_values(t, like->vcap);
}

// Empties a table for the next column, keeping its memory. A sparse table clears just its
// occupied slots (each value's probe from its home slot finds it, whatever was cleared before).
static void otab_reset(struct otab* t) {
  if (t->nhashed > 0 && (int64_t)t->nhashed * 16 < t->cap) {
    uint64_t mask = (uint64_t)t->cap - 1;
    for (int32_t x = 0; x < t->nhashed; x++) {
      uint64_t want = ((t->vh[x] >> 32) << 32) | (uint64_t)(x + 1), at = t->vh[x] & mask;
      while (t->slots[at] != want) at = (at + 1) & mask;
      t->slots[at] = 0;
    }
  } else if (t->nhashed > 0) {
    memset(t->slots, 0, (size_t)t->cap * sizeof(uint64_t));
  }
  t->cap = 0;
  t->cnt = 0;
  t->nhashed = 0;
  t->append = false;
  t->probes = 0;
  t->hits = 0;
}

// Index of value p/len in t (added when new, or appended unlooked in append mode); -1 with
// *nomem set when out of memory.
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline int32_t otab_find(struct otab* t, const uint8_t* p, int64_t len, int* nomem) {
  if (OTAP_UNLIKELY(t->cnt == t->vcap)) {
    if (otab_reserve_values(t, t->vcap ? t->vcap * 2 : 64) != 0) {
      *nomem = 1;
      return -1;
    }
  }
  if (t->append) {
    int32_t x = t->cnt++;
    t->vp[x] = p;
    t->vl[x] = len;
    return x;
  }
  if (OTAP_UNLIKELY((int64_t)(t->cnt + 1) * 2 > t->cap)) {
    if (otab_grow(t) != 0) {
      *nomem = 1;
      return -1;
    }
  }
  t->probes++;
  uint64_t h = otap__batch_hash(p, len);
  uint64_t tagh = (h >> 32) << 32, mask = (uint64_t)t->cap - 1, at = h & mask;
  for (;;) {
    uint64_t sl = t->slots[at];
    if (!sl) break;
    if ((sl & ~0xffffffffULL) == tagh) {
      int32_t cand = (int32_t)(sl & 0xffffffffULL) - 1;
      if (t->vl[cand] == len && otap__same_bytes(t->vp[cand], p, len)) {
        t->hits++;
        return cand;
      }
    }
    at = (at + 1) & mask;
  }
  int32_t x = t->cnt++;
  t->slots[at] = tagh | (uint64_t)(x + 1);
  t->vp[x] = p;
  t->vl[x] = len;
  t->vh[x] = h;
  t->nhashed = t->cnt;
  // More than 256 distinct values settle u16 keys; when lookups rarely find a value, the
  // rest are appended.
  if (OTAP_UNLIKELY(x >= 256) && t->may_append && t->probes >= 512 && t->hits < t->probes / 8) {
    t->append = true;
  }
  return x;
}

// Value of entry e; false when null. *hint caches the input found last.
static inline int entry_value(const struct bcol* c, int64_t n_in, int64_t e, int64_t* hint,
                              const uint8_t** p, int64_t* len, bool* valid,
                              struct otap_error* err) {
  *p = (const uint8_t*)"";
  *len = 0;
  *valid = false;
  const int64_t* eb = c->ebase;
  if (e < 0) {  // native row entry -(2 + index)
    eb = c->nbase;
    e = -e - 2;
  }
  int64_t i = *hint;
  if (!(e >= eb[i] && e < eb[i + 1])) {
    int64_t lo = 0, hi = n_in - 1;
    while (lo < hi) {  // last input with eb[i] <= e
      int64_t mid = (lo + hi + 1) / 2;
      if (eb[mid] <= e) lo = mid; else hi = mid - 1;
    }
    i = lo;
    while (i + 1 < n_in && eb[i + 1] <= e) i++;  // skip inputs without entries
    *hint = i;
  }
  const struct bsrc* s = &c->src[i];
  int64_t local = e - eb[i];
  const struct otap_array_view* v = s->v;
  int64_t el;
  if (eb == c->ebase) {
    v = v->dictionary;
    el = v->offset + local;
    if (v->buffers[0] && !otap_bit_get(v->buffers[0], el)) {
      *valid = false;
      return 0;
    }
    if (c->kind == BK_VAR) {
      const int32_t* o = (const int32_t*)(const void*)v->buffers[1];
      OTAP_RETURN_IF(o[el] < 0 || o[el + 1] < o[el] || o[el + 1] > v->buffer_sizes[2], err, EINVAL,
                     "batch: input %lld, column %s: dictionary offsets out of bounds at value "
                     "%lld", (long long)i, c->name, (long long)local);
    }
  } else {
    el = s->base + local;
  }
  *valid = true;
  value_bytes(c, v, el, p, len);
  return 0;
}

// Dictionary output column, input i: entry ids per position.
static int write_dict_entries(struct bcol* c, int64_t i, const struct otap__runs* rs,
                              struct otap_error* err) {
  struct bsrc* s = &c->src[i];
  int32_t* eid = c->gid;
  int32_t eb = (int32_t)c->ebase[i];
  if (!s->v) {
    for (int64_t q = 0; q < rs->n; q++) {
      const struct otap__run* r = &rs->r[q];
      for (int32_t x = 0; x < r->len; x++) eid[r->dst + x] = -1;
    }
    return 0;
  }
  const struct otap_array_view* v = s->v;
  const uint8_t* vb = s->nulls ? v->buffers[0] : NULL;
  if (v->dictionary) {
    bool k8 = v->storage_type == OTAP_TYPE_UINT8;
    OTAP_RETURN_IF(!k8 && v->storage_type != OTAP_TYPE_UINT16, err, EINVAL,
                   "batch: input %lld, column %s: dictionary keys must be uint8 or uint16",
                   (long long)i, c->name);
    int32_t dl = (int32_t)v->dictionary->length;
    for (int64_t q = 0; q < rs->n; q++) {
      const struct otap__run* r = &rs->r[q];
      int64_t e0 = s->base + r->src;
      int32_t* out = eid + r->dst;
      int32_t bad = -1;
      if (k8) {
        const uint8_t* kp = v->buffers[1] + e0;
        for (int32_t x = 0; x < r->len; x++) {
          int32_t key = kp[x];
          if (key >= dl) bad = x;
          out[x] = eb + key;
        }
      } else {
        const uint16_t* kp = (const uint16_t*)(const void*)v->buffers[1] + e0;
        for (int32_t x = 0; x < r->len; x++) {
          int32_t key = kp[x];
          if (key >= dl) bad = x;
          out[x] = eb + key;
        }
      }
      if (vb) {
        for (int32_t x = 0; x < r->len; x++) {
          if (!otap_bit_get(vb, e0 + x)) out[x] = -1;
        }
      }
      if (bad >= 0) {
        for (int32_t x = 0; x < r->len; x++) {
          if (out[x] >= 0 && out[x] - eb >= dl) {
            return otap_error_set(err, EINVAL, "batch: input %lld, column %s, row %lld: "
                                  "dictionary index %lld out of range (dictionary has %lld "
                                  "values)", (long long)i, c->name, (long long)(r->src + x),
                                  (long long)(out[x] - eb), (long long)dl);
          }
        }
      }
    }
    return 0;
  }
  // Native source of a dictionary output: the row is the entry.
  for (int64_t q = 0; q < rs->n; q++) {
    const struct otap__run* r = &rs->r[q];
    int64_t e0 = s->base + r->src;
    if (c->kind == BK_VAR) OTAP_RETURN_NOT_OK(check_offsets(c, v, e0, r->len, i, err));
    int32_t* out = eid + r->dst;
    int32_t nb = -2 - (int32_t)c->nbase[i] - r->src;
    for (int32_t x = 0; x < r->len; x++) out[x] = nb - x;
    if (vb) {
      for (int32_t x = 0; x < r->len; x++) {
        if (!otap_bit_get(vb, e0 + x)) out[x] = -1;
      }
    }
  }
  return 0;
}

// Dictionary values of output k (cnt distinct values at vp/vl) into c->dv[k] / c->dd[k].
static int dict_values(struct bcol* c, int64_t k, int32_t cnt, const uint8_t* const* vp,
                       const int64_t* vl) {
  struct otap_buffer* vb = &c->dv[k];
  if (c->kind == BK_VAR) {
    struct otap_buffer* db = &c->dd[k];
    int64_t bytes = 0;
    for (int32_t j = 0; j < cnt; j++) bytes += vl[j];
    if (bytes > INT32_MAX) return EOVERFLOW;
    OTAP_RETURN_NOT_OK(otap_buffer_resize(vb, ((int64_t)cnt + 1) * 4, false));
    OTAP_RETURN_NOT_OK(otap_buffer_resize(db, bytes, false));
    int32_t* o = (int32_t*)(void*)vb->data;
    int64_t pos = 0;
    o[0] = 0;
    for (int32_t j = 0; j < cnt; j++) {
      copy_bytes(db->data + pos, vp[j], vl[j]);
      pos += vl[j];
      o[j + 1] = (int32_t)pos;
    }
  } else if (c->kind == BK_BOOL) {
    OTAP_RETURN_NOT_OK(otap_buffer_resize(vb, otap_bytes_for_bits(cnt), true));
    for (int32_t j = 0; j < cnt; j++) {
      if (vp[j][0]) otap_bit_set(vb->data, j);
    }
  } else {
    int w = c->width;
    OTAP_RETURN_NOT_OK(otap_buffer_resize(vb, (int64_t)cnt * w, false));
    uint8_t* d = vb->data;
    switch (w) {  // constant widths become plain moves
      case 4: for (int32_t j = 0; j < cnt; j++) memcpy(d + (int64_t)j * 4, vp[j], 4); break;
      case 8: for (int32_t j = 0; j < cnt; j++) memcpy(d + (int64_t)j * 8, vp[j], 8); break;
      case 16: for (int32_t j = 0; j < cnt; j++) memcpy(d + (int64_t)j * 16, vp[j], 16); break;
      default: for (int32_t j = 0; j < cnt; j++) memcpy(d + (int64_t)j * w, vp[j], (size_t)w);
    }
  }
  return 0;
}

// Output keys of every output (first-use order), distinct values per output.
static int finish_dict(struct otap__tcols* tc, struct bcol* c, struct otap_error* err) {
  const struct otap__region* reg = tc->reg;
  int64_t ne = c->ebase[tc->n_in] > 0 ? c->ebase[tc->n_in] : 1;  // dictionary entries
  int32_t* estamp = otap_calloc((size_t)ne, sizeof(int32_t));
  int32_t* eidx = otap_malloc((size_t)ne * sizeof(int32_t));
  struct otab t;  // this output's distinct values, emptied between outputs
  memset(&t, 0, sizeof(t));
  int rc = 0, nomem = 0;
  if (!estamp || !eidx) {
    rc = otap_error_set(err, ENOMEM, "batch: out of memory (dictionary column %s)", c->name);
    goto done;
  }
  uint16_t* keys = (uint16_t*)(void*)c->vals;
  bool wide = false;
  int64_t hint = 0;
  for (int64_t k = 0; k < reg->k; k++) {
    int64_t p0 = reg->pstart[k], n = reg->n[k];
    int32_t* used = c->used + p0;
    const int32_t* eid = c->gid + p0;
    uint16_t* kk = keys + p0;
    int32_t tag = (int32_t)k + 1;
    for (int64_t j = 0; j < n; j++) {
      int32_t e = eid[j];
      int32_t x = -1;
      if (e != -1) {
        if (e >= 0 && estamp[e] == tag) {
          x = eidx[e];
        } else {
          const uint8_t* p;
          int64_t len;
          bool valid;
          rc = entry_value(c, tc->n_in, e, &hint, &p, &len, &valid, err);
          if (rc) goto done;
          if (valid) {
            int32_t before = t.cnt;
            x = otab_find(&t, p, len, &nomem);
            if (nomem) {
              rc = otap_error_set(err, ENOMEM, "batch: out of memory (dictionary column %s)",
                                  c->name);
              goto done;
            }
            if (t.cnt > before) used[x] = e;
          }
          if (e >= 0) {
            estamp[e] = tag;
            eidx[e] = x;
          }
        }
      }
      if (x < 0) {
        kk[j] = 0;
        otap_bit_clear(c->bits, p0 + j);
      } else {
        kk[j] = (uint16_t)x;
      }
    }
    int32_t cnt = t.cnt;
    c->dcount[k] = cnt;
    if (cnt <= 65536) {
      rc = dict_values(c, k, cnt, t.vp, t.vl);
      if (rc) {
        rc = otap_error_set(err, rc, "batch: out of memory (dictionary column %s)", c->name);
        goto done;
      }
    } else {
      wide = true;
    }
    otab_reset(&t);
  }
  if (!wide) {  // outputs with more than 65,536 distinct values are emitted native from entries
    otap_free(c->gid);
    c->gid = NULL;
  }
done:
  otap_free(estamp);
  otap_free(eidx);
  otab_free(&t);
  return rc;
}

struct dmiss {
  struct bcol* c;
  const struct otap_array_view* d;  // the input's dictionary
  const uint8_t* dvb;               // its validity when it has nulls
  struct otab* t;                   // the output's table
  int64_t k;                        // the output
  int64_t nk;                       // outputs the input reaches (memo stride)
  int32_t* memo;
  int64_t input;
  struct otap_error* err;
  int* nomem;
};

// First use of dictionary key `key` in the current output (or a bad key): looks the value up
// in the output's table and remembers it in the memo; *out receives the output key.
#if defined(__GNUC__)
#define BATCH_NOINLINE __attribute__((noinline))
#else
#define BATCH_NOINLINE
#endif
static BATCH_NOINLINE int dict_miss(struct dmiss* m, int64_t key, int64_t row, int64_t pos,
                                   uint16_t* out) {
  struct bcol* c = m->c;
  const struct otap_array_view* d = m->d;
  if (key >= d->length) {
    return otap_error_set(m->err, EINVAL, "batch: input %lld, column %s, row %lld: dictionary "
                          "index %lld out of range (dictionary has %lld values)",
                          (long long)m->input, c->name, (long long)row, (long long)key,
                          (long long)d->length);
  }
  int64_t el = d->offset + key;
  int32_t o = -1;
  if (!m->dvb || otap_bit_get(m->dvb, el)) {
    if (c->kind == BK_VAR) {
      const int32_t* of = (const int32_t*)(const void*)d->buffers[1];
      if (of[el] < 0 || of[el + 1] < of[el] || of[el + 1] > d->buffer_sizes[2]) {
        return otap_error_set(m->err, EINVAL, "batch: input %lld, column %s: dictionary "
                              "offsets out of bounds at value %lld", (long long)m->input,
                              c->name, (long long)key);
      }
    }
    const uint8_t* p;
    int64_t len;
    value_bytes(c, d, el, &p, &len);
    o = otab_find(m->t, p, len, m->nomem);
    if (*m->nomem) return 0;
  }
  m->memo[key * m->nk + m->k] = o;
  if (o < 0) {
    *out = 0;
    otap_bit_clear(c->bits, pos);
  } else {
    *out = (uint16_t)o;
  }
  return 0;
}

static int write_dict_runs(struct otap__tcols* tc, struct bcol* c, const struct otap__runs* runs,
                           struct otap_error* err) {
  const struct otap__region* reg = tc->reg;
  int64_t K = reg->k;
  if (!tc->tabs) {
    tc->tabs = otap_calloc((size_t)K + 1, sizeof(struct otab));
    tc->ntabs = tc->tabs ? K : 0;
  }
  struct otab* tabs = tc->tabs;  // kept across columns (emptied after each)
  int32_t* memo = tc->memo;      // [key * span + k]: output key, -1 null value, -2 not yet
  int64_t memo_cap = tc->memo_cap;
  const struct otap_array_view* prev_d = NULL;  // dictionary the memo was filled from
  int64_t prev_kmin = -1, prev_span = 0;
  uint16_t* keys = (uint16_t*)(void*)c->vals;
  int rc = 0, nomem = 0;
  if (!tabs) return otap_error_set(err, ENOMEM, "batch: out of memory (dictionary column %s)",
                                   c->name);
  for (int64_t k = 0; k < K; k++) tabs[k].may_append = !tc->exact_dicts;
  // Output 0 has no previous output to size its table like: its dictionary sources bound its
  // distinct values (up to its row count), which spares the table's doublings.
  if (K > 0 && tabs[0].cap == 0) {
    int64_t hint = 0;
    for (int64_t i = 0; i < tc->n_in && hint < reg->n[0]; i++) {
      const struct otap_array_view* v = c->src[i].v;
      if (v && v->dictionary && runs[i].n > 0 &&  // runs go in position order
          reg->kblock[runs[i].r[0].dst >> OTAP__REGION_SHIFT] == 0) {
        hint += v->dictionary->length;
      }
    }
    hint = hint < reg->n[0] ? hint : reg->n[0];
    // Adaptive tables of mostly distinct values stop growing after about 512 lookups.
    if (!tc->exact_dicts && hint > 1024) hint = 1024;
    if (hint > 32 && otab_presize_values(&tabs[0], hint) != 0) nomem = 1;
  }
  for (int64_t i = 0; i < tc->n_in && rc == 0 && !nomem; i++) {
    struct bsrc* s = &c->src[i];
    const struct otap__runs* rs = &runs[i];
    if (rs->n == 0) continue;
    if (!s->v) {
      for (int64_t q = 0; q < rs->n; q++) {
        memset(keys + rs->r[q].dst, 0, (size_t)rs->r[q].len * 2);  // validity already cleared
      }
      continue;
    }
    const struct otap_array_view* v = s->v;
    const uint8_t* vb = s->nulls ? v->buffers[0] : NULL;
    const struct otap_array_view* d = v->dictionary;
    if (d) {
      bool k8 = v->storage_type == OTAP_TYPE_UINT8;
      if (!k8 && v->storage_type != OTAP_TYPE_UINT16) {
        rc = otap_error_set(err, EINVAL, "batch: input %lld, column %s: dictionary keys must "
                            "be uint8 or uint16", (long long)i, c->name);
        break;
      }
      int64_t dl = d->length;
      // The memo covers the outputs this input's runs reach: [kmin, kmin + span).
      int64_t kmin = K, kmax = -1;
      for (int64_t q = 0; q < rs->n; q++) {
        int64_t kq = reg->kblock[rs->r[q].dst >> OTAP__REGION_SHIFT];
        kmin = kq < kmin ? kq : kmin;
        kmax = kq > kmax ? kq : kmax;
      }
      int64_t span = kmax - kmin + 1;
      // Inputs of one IPC stream share their dictionaries: when this input's dictionary is the
      // previous input's (same buffers, offset and length) and its rows reach the same outputs,
      // the memo is still right and nothing is looked up again.
      bool same = memo && prev_d && prev_d->buffers[0] == d->buffers[0] &&
                  prev_d->buffers[1] == d->buffers[1] && prev_d->buffers[2] == d->buffers[2] &&
                  prev_d->offset == d->offset && prev_d->length == d->length &&
                  prev_kmin == kmin && prev_span == span;
      int64_t msize = dl * span;
      if (!same && msize > memo_cap) {
        otap_free(memo);
        memo_cap = msize > 64 ? msize : 64;
        memo = otap_malloc((size_t)memo_cap * sizeof(int32_t));
        if (!memo) {
          rc = otap_error_set(err, ENOMEM, "batch: out of memory (dictionary column %s)",
                              c->name);
          break;
        }
      }
      if (!same) {
        for (int64_t q = 0; q < msize; q++) memo[q] = -2;
      }
      prev_d = d;
      prev_kmin = kmin;
      prev_span = span;
      const uint8_t* dvb = d->buffers[0] && d->null_count > 0 ? d->buffers[0] : NULL;
      struct dmiss dm = {c, d, dvb, NULL, 0, span, memo, i, err, &nomem};
      int64_t last_k = -1;
      for (int64_t q = 0; q < rs->n && rc == 0 && !nomem; q++) {
        const struct otap__run* r = &rs->r[q];
        int64_t k = reg->kblock[r->dst >> OTAP__REGION_SHIFT];
        if (k != last_k) {  // runs of one input mostly stay in one output
          struct otab* t = &tabs[k];
          if (t->cap == 0 && k > 0 && otab_presize(t, &tabs[k - 1])) nomem = 1;
          dm.t = t;
          dm.k = k - kmin;
          last_k = k;
        }
        int64_t e0 = s->base + r->src;
        uint16_t* restrict out = keys + r->dst;
        // Hot loop: memo hits only; a miss (first use of the key in this output, a key out of
        // range, a null) goes to dict_miss.
#define DICT_LOOP(KT)                                                                   \
  {                                                                                     \
    const KT* restrict kp = (const KT*)(const void*)v->buffers[1] + e0;                 \
    const int32_t* mm = memo + (k - kmin);                                              \
    int32_t x = 0;                                                                      \
    while (x < r->len) {                                                                \
      if (!vb) {                                                                        \
        for (; x < r->len; x++) {                                                       \
          int64_t key = kp[x];                                                          \
          int32_t mv;                                                                   \
          if (OTAP_UNLIKELY(key >= dl || (mv = mm[key * span]) < 0)) break;             \
          out[x] = (uint16_t)mv;                                                        \
        }                                                                               \
      } else {                                                                          \
        for (; x < r->len; x++) {                                                       \
          if (!otap_bit_get(vb, e0 + x)) {                                              \
            out[x] = 0;                                                                 \
            continue;                                                                   \
          }                                                                             \
          int64_t key = kp[x];                                                          \
          int32_t mv;                                                                   \
          if (OTAP_UNLIKELY(key >= dl || (mv = mm[key * span]) < 0)) break;             \
          out[x] = (uint16_t)mv;                                                        \
        }                                                                               \
      }                                                                                 \
      if (x == r->len) break;                                                           \
      if ((rc = dict_miss(&dm, kp[x], r->src + x, r->dst + x, &out[x])) != 0 || nomem)  \
        break;                                                                          \
      x++;                                                                              \
    }                                                                                   \
  }
        if (k8) DICT_LOOP(uint8_t) else DICT_LOOP(uint16_t)
#undef DICT_LOOP
      }
      continue;
    }
    // Native source: every row's value is looked up in its output's table, through a small
    // direct-mapped cache of recent values (by length and first bytes) that spares the hash
    // for repeated low-cardinality values. When the cache keeps missing (distinct values such
    // as bodies or trace ids), it is switched off for the rest of the input.
    struct vcache {
      const uint8_t* p;
      int64_t len;
      int32_t tag;
      int32_t key;
    } cache[64];
    memset(cache, 0, sizeof(cache));
    int64_t probes = 0, hits = 0;
    bool use_cache = true;
    for (int64_t q = 0; q < rs->n && rc == 0 && !nomem; q++) {
      const struct otap__run* r = &rs->r[q];
      int64_t k = reg->kblock[r->dst >> OTAP__REGION_SHIFT];
      int32_t tag = (int32_t)k + 1;
      struct otab* t = &tabs[k];
      if (t->cap == 0 && k > 0 && otab_presize(t, &tabs[k - 1])) nomem = 1;
      int64_t e0 = s->base + r->src;
      if (c->kind == BK_VAR && (rc = check_offsets(c, v, e0, r->len, i, err)) != 0) break;
      uint16_t* out = keys + r->dst;
      for (int32_t x = 0; x < r->len && !nomem; x++) {
        if (vb && !otap_bit_get(vb, e0 + x)) {
          out[x] = 0;
          continue;
        }
        const uint8_t* p;
        int64_t len;
        value_bytes(c, v, e0 + x, &p, &len);
        if (!use_cache) {
          out[x] = (uint16_t)otab_find(t, p, len, &nomem);
          continue;
        }
        if (++probes == 256) use_cache = hits * 4 >= probes;  // keep it at 25% hits or more
        uint64_t pre;
        if (len >= 8) {
          pre = otap_load_u64le(p);
        } else if (len >= 4) {
          pre = otap_load_u32le(p) | ((uint64_t)otap_load_u32le(p + len - 4) << 32);
        } else {
          pre = len ? (uint64_t)p[0] | ((uint64_t)p[len / 2] << 8) | ((uint64_t)p[len - 1] << 16)
                    : 0;
        }
        struct vcache* ce = &cache[((pre ^ (uint64_t)len) * 0x9e3779b97f4a7c15ULL) >> 58];
        if (ce->tag == tag && ce->len == len && otap__same_bytes(ce->p, p, len)) {
          out[x] = (uint16_t)ce->key;
          hits++;
          continue;
        }
        int32_t o = otab_find(t, p, len, &nomem);
        ce->p = p;
        ce->len = len;
        ce->tag = tag;
        ce->key = o;
        out[x] = (uint16_t)o;
      }
    }
  }
  if (nomem) rc = otap_error_set(err, ENOMEM, "batch: out of memory (dictionary column %s)",
                                 c->name);
  for (int64_t k = 0; k < K && rc == 0; k++) {
    c->dcount[k] = tabs[k].cnt;
    rc = dict_values(c, k, tabs[k].cnt, tabs[k].vp, tabs[k].vl);
    if (rc) rc = otap_error_set(err, rc, "batch: out of memory (dictionary column %s)", c->name);
  }
  for (int64_t k = 0; k < K; k++) otab_reset(&tabs[k]);
  tc->memo = memo;
  tc->memo_cap = memo_cap;
  return rc;
}

static int write_var_lengths(struct bcol* c, int64_t i, const struct otap__runs* rs,
                             struct otap_error* err) {
  struct bsrc* s = &c->src[i];
  int32_t* off = (int32_t*)(void*)c->vals;
  for (int64_t q = 0; q < rs->n; q++) {
    const struct otap__run* r = &rs->r[q];
    int32_t* o = off + r->dst + 1;
    if (!s->v) {
      memset(o, 0, (size_t)r->len * sizeof(int32_t));
      continue;
    }
    int64_t e0 = s->base + r->src;
    const int32_t* restrict so = (const int32_t*)(const void*)s->v->buffers[1] + e0;
    int32_t* restrict ol = o;
    // Lengths, and a check that every offset is in order (then every difference fits an
    // int32) and inside the data buffer. Written to vectorize.
    uint32_t bad = 0;
    const int32_t len = r->len;
    if (len == 1) {  // sorted rows come one at a time
      bad = (uint32_t)(so[1] < so[0]);
      ol[0] = (int32_t)((uint32_t)so[1] - (uint32_t)so[0]);
    } else {
      for (int32_t x = 0; x < len; x++) {
        bad |= (uint32_t)(so[x + 1] < so[x]);
        ol[x] = (int32_t)((uint32_t)so[x + 1] - (uint32_t)so[x]);
      }
    }
    OTAP_RETURN_IF(bad || so[0] < 0 || so[r->len] > s->v->buffer_sizes[2], err, EINVAL,
                   "batch: input %lld, column %s: string offsets out of order or out of bounds "
                   "in rows %lld..%lld", (long long)i, c->name, (long long)r->src,
                   (long long)(r->src + r->len));
  }
  return 0;
}

static int finish_var_offsets(struct otap__tcols* tc, struct bcol* c, struct otap_error* err) {
  const struct otap__region* reg = tc->reg;
  int32_t* off = (int32_t*)(void*)c->vals;
  int64_t total = 0;
  for (int64_t k = 0; k < reg->k; k++) {
    int32_t* o = off + reg->pstart[k];
    int64_t n = reg->n[k];
    int64_t sum = 0;
    o[0] = 0;
    int64_t j = 1;
    for (; j + 4 <= n + 1; j += 4) {  // lengths are >= 0 (checked), so sum only grows
      int64_t a = sum + o[j], b = a + o[j + 1], d = b + o[j + 2], e = d + o[j + 3];
      o[j] = (int32_t)(uint32_t)a;
      o[j + 1] = (int32_t)(uint32_t)b;
      o[j + 2] = (int32_t)(uint32_t)d;
      o[j + 3] = (int32_t)(uint32_t)e;
      sum = e;
    }
    for (; j <= n; j++) {
      sum += o[j];
      o[j] = (int32_t)(uint32_t)sum;
    }
    OTAP_RETURN_IF(sum > INT32_MAX, err, EINVAL,
                   "batch: output %lld, column %s: more than 2 GiB of string data (use a smaller "
                   "max_items)", (long long)k, c->name);
    c->dstart[k] = total;
    total += (sum + 7) & ~(int64_t)7;
  }
  c->data_size = total;
  c->data = otap_malloc((size_t)(total > 0 ? total : 1));
  c->nbytes[2] = total > 0 ? total : 1;
  OTAP_RETURN_IF(!c->data, err, ENOMEM, "batch: out of memory (column %s, %lld bytes)", c->name,
                 (long long)total);
  return 0;
}

static void write_var_bytes(struct otap__tcols* tc, struct bcol* c, int64_t i,
                            const struct otap__runs* rs) {
  const struct otap__region* reg = tc->reg;
  struct bsrc* s = &c->src[i];
  if (!s->v) return;
  const int32_t* off = (const int32_t*)(const void*)c->vals;
  const int32_t* so = (const int32_t*)(const void*)s->v->buffers[1];
  const uint8_t* sd = s->v->buffers[2];
  for (int64_t q = 0; q < rs->n; q++) {
    const struct otap__run* r = &rs->r[q];
    int64_t e0 = s->base + r->src;
    int64_t k = reg->kblock[r->dst >> OTAP__REGION_SHIFT];
    int64_t len = (int64_t)so[e0 + r->len] - so[e0];
    copy_bytes(c->data + c->dstart[k] + off[r->dst], sd + so[e0], len);
  }
}

static void write_validity(struct bcol* c, int64_t i, const struct otap__runs* rs) {
  if (!c->bits) return;
  struct bsrc* s = &c->src[i];
  if (s->v && !s->nulls) return;
  for (int64_t q = 0; q < rs->n; q++) {
    const struct otap__run* r = &rs->r[q];
    if (!s->v) {
      fill_bits(c->bits, r->dst, r->len, false);
    } else {
      copy_bits(c->bits, r->dst, s->v->buffers[0], s->base + r->src, r->len);
    }
  }
}

static void write_fixed(struct bcol* c, int64_t i, const struct otap__runs* rs) {
  struct bsrc* s = &c->src[i];
  int w = c->width;
  uint8_t* out = c->vals;
  if (!s->v) {
    for (int64_t q = 0; q < rs->n; q++) {
      const struct otap__run* r = &rs->r[q];
      memset(out + r->dst * w, 0, (size_t)r->len * (size_t)w);
    }
    return;
  }
  const uint8_t* in = s->v->buffers[1] + s->base * w;
#define FIXED_LOOP(W, T)                                                         \
  for (int64_t q = 0; q < rs->n; q++) {                                          \
    const struct otap__run* r = &rs->r[q];                                       \
    if (r->len == 1) {                                                           \
      T x;                                                                       \
      memcpy(&x, in + (int64_t)r->src * (W), sizeof(T));                         \
      memcpy(out + r->dst * (W), &x, sizeof(T));                                 \
    } else {                                                                     \
      memcpy(out + r->dst * (W), in + (int64_t)r->src * (W), (size_t)r->len * (W)); \
    }                                                                            \
  }
  switch (w) {
    case 1: FIXED_LOOP(1, uint8_t) break;
    case 2: FIXED_LOOP(2, uint16_t) break;
    case 4: FIXED_LOOP(4, uint32_t) break;
    case 8: FIXED_LOOP(8, uint64_t) break;
    default:
      for (int64_t q = 0; q < rs->n; q++) {
        const struct otap__run* r = &rs->r[q];
        memcpy(out + r->dst * w, in + (int64_t)r->src * w, (size_t)r->len * (size_t)w);
      }
  }
#undef FIXED_LOOP
  if (c->role == OTAP__ROLE_BODY_TYPE && s->nulls) {  // null type -> 0 (Empty)
    for (int64_t q = 0; q < rs->n; q++) {
      const struct otap__run* r = &rs->r[q];
      for (int32_t x = 0; x < r->len; x++) {
        if (!otap_bit_get(s->v->buffers[0], s->base + r->src + x)) out[r->dst + x] = 0;
      }
    }
  }
}

static void write_bool(struct bcol* c, int64_t i, const struct otap__runs* rs) {
  struct bsrc* s = &c->src[i];
  for (int64_t q = 0; q < rs->n; q++) {
    const struct otap__run* r = &rs->r[q];
    if (!s->v) {
      fill_bits(c->vals, r->dst, r->len, false);
    } else {
      copy_bits(c->vals, r->dst, s->v->buffers[1], s->base + r->src, r->len);
    }
  }
}

static int write_cols(struct otap__tcols* tc, struct bcol* cols, int64_t n,
                      const struct otap__runs* runs, struct otap_error* err);

static int write_col(struct otap__tcols* tc, struct bcol* c, const struct otap__runs* runs,
                     struct otap_error* err) {
  for (int64_t i = 0; i < tc->n_in; i++) write_validity(c, i, &runs[i]);
  if (c->kind == BK_STRUCT) return write_cols(tc, c->children, c->n_children, runs, err);
  if (c->role != OTAP__ROLE_NONE && c->role != OTAP__ROLE_BODY_TYPE) return 0;
  if (c->dict) {
    bool memo_ok = tc->run_mode;
    for (int64_t i = 0; memo_ok && i < tc->n_in; i++) {
      const struct bsrc* sr = &c->src[i];
      if (!tc->bound[i] || !sr->v || !sr->v->dictionary) continue;
      int64_t dl = sr->v->dictionary->length;
      // The per-input memo holds dictionary length x outputs entries.
      memo_ok = dl * tc->reg->k <= 16 * (sr->n_rows > 4096 ? sr->n_rows : 4096);
    }
    if (memo_ok) return write_dict_runs(tc, c, runs, err);
    int64_t total = tc->reg->total;
    c->gid = otap_malloc((size_t)total * sizeof(int32_t) + 4);
    c->used = otap_malloc((size_t)total * sizeof(int32_t) + 4);
    OTAP_RETURN_IF(!c->gid || !c->used, err, ENOMEM,
                   "batch: out of memory (dictionary column %s)", c->name);
    for (int64_t i = 0; i < tc->n_in; i++) {
      OTAP_RETURN_NOT_OK(write_dict_entries(c, i, &runs[i], err));
    }
    return finish_dict(tc, c, err);
  }
  if (c->kind == BK_FIXED) {
    for (int64_t i = 0; i < tc->n_in; i++) write_fixed(c, i, &runs[i]);
  } else if (c->kind == BK_BOOL) {
    for (int64_t i = 0; i < tc->n_in; i++) write_bool(c, i, &runs[i]);
  } else {
    for (int64_t i = 0; i < tc->n_in; i++) {
      OTAP_RETURN_NOT_OK(write_var_lengths(c, i, &runs[i], err));
    }
    OTAP_RETURN_NOT_OK(finish_var_offsets(tc, c, err));
    for (int64_t i = 0; i < tc->n_in; i++) write_var_bytes(tc, c, i, &runs[i]);
  }
  return 0;
}

static int write_cols(struct otap__tcols* tc, struct bcol* cols, int64_t n,
                      const struct otap__runs* runs, struct otap_error* err) {
  for (int64_t ci = 0; ci < n; ci++) {
    OTAP_RETURN_NOT_OK(write_col(tc, &cols[ci], runs, err));
  }
  return 0;
}

static int share_cols(struct bcol* cols, int64_t n, struct otap_error* err) {
  for (int64_t i = 0; i < n; i++) {
    struct bcol* c = &cols[i];
    uint8_t** bufs[3] = {&c->bits, &c->vals, &c->data};
    struct otap_shared** sh[3] = {&c->sh_bits, &c->sh_vals, &c->sh_data};
    for (int b = 0; b < 3; b++) {
      if (!*bufs[b] || *sh[b]) continue;
      int rc = otap_shared_new(sh[b], *bufs[b], c->nbytes[b], NULL, NULL);
      OTAP_RETURN_IF(rc, err, rc, "batch: out of memory (shared buffer)");
    }
    OTAP_RETURN_NOT_OK(share_cols(c->children, c->n_children, err));
  }
  return 0;
}

int otap__tcols_write(struct otap__tcols* c, const struct otap__runs* runs, bool exact_dicts,
                      struct otap_error* err) {
  c->exact_dicts = exact_dicts;
  int64_t maxn = 0;
  for (int64_t k = 0; k < c->reg->k; k++) maxn = c->reg->n[k] > maxn ? c->reg->n[k] : maxn;
  // Run mode keeps one table per output and a memo of dictionary length x outputs reached.
  c->run_mode = maxn <= 65536 && c->reg->k <= 256;
  OTAP_RETURN_NOT_OK(write_cols(c, c->cols, c->n_cols, runs, err));
  return share_cols(c->cols, c->n_cols, err);
}

// ---------------------------------------------------------------------------------------------
// Emission

static int set_plain(struct ArrowSchema* f) {
  struct otap_buffer buf;
  otap_buffer_init(&buf);
  struct otap_metadata_entry e = {"encoding", 8, "plain", 5};
  int rc = otap_metadata_encode(&buf, &e, 1);
  if (rc == 0) rc = otap_schema_set_metadata(f, (const char*)buf.data);
  otap_buffer_reset(&buf);
  return rc;
}

static bool narrow_keys(const struct bcol* c, int64_t k) {
  return !c->u16_only && c->dcount[k] <= 256;
}

// Dictionary column emitted native in output k (more distinct values than u16 keys index).
static bool native_out(const struct bcol* c, int64_t k) { return c->dict && c->dcount[k] > 65536; }

// Native values of a dictionary column for output k, from the entry ids.
static int emit_native_from_gids(const struct otap__tcols* tc, const struct bcol* c, int64_t p0,
                                 int64_t n, struct ArrowArray* a) {
  const int32_t* gid = c->gid + p0;
  struct otap_error err;
  int64_t hint = 0;
  struct otap_buffer* vb = otap_array_buffer(a, 1);
  if (!vb) return EINVAL;
  const uint8_t* p;
  int64_t len;
  bool valid;
  if (c->kind == BK_VAR) {
    struct otap_buffer* db = otap_array_buffer(a, 2);
    if (!db) return EINVAL;
    OTAP_RETURN_NOT_OK(otap_buffer_resize(vb, (n + 1) * 4, false));
    int32_t* o = (int32_t*)(void*)vb->data;
    o[0] = 0;
    for (int64_t j = 0; j < n; j++) {
      if (gid[j] >= 0) {
        OTAP_RETURN_NOT_OK(entry_value(c, tc->n_in, gid[j], &hint, &p, &len, &valid, &err));
        if (valid && len) OTAP_RETURN_NOT_OK(otap_buffer_append(db, p, len));
        if (db->size > INT32_MAX) return EOVERFLOW;
      }
      o = (int32_t*)(void*)vb->data;
      o[j + 1] = (int32_t)db->size;
    }
  } else {
    int w = c->width;
    OTAP_RETURN_NOT_OK(otap_buffer_resize(vb, n * w, true));
    for (int64_t j = 0; j < n; j++) {
      if (gid[j] < 0) continue;
      OTAP_RETURN_NOT_OK(entry_value(c, tc->n_in, gid[j], &hint, &p, &len, &valid, &err));
      if (valid) memcpy(vb->data + j * w, p, (size_t)w);
    }
  }
  return 0;
}

static int build_schema(const struct bcol* cols, int64_t n, int64_t k, struct ArrowSchema* out) {
  OTAP_RETURN_NOT_OK(otap_schema_init(out, "+s"));
  OTAP_RETURN_NOT_OK(otap_schema_allocate_children(out, n));
  for (int64_t i = 0; i < n; i++) {
    const struct bcol* c = &cols[i];
    struct ArrowSchema* f = out->children[i];
    if (c->kind == BK_STRUCT) {
      OTAP_RETURN_NOT_OK(build_schema(c->children, c->n_children, k, f));
    } else if (c->dict && !native_out(c, k)) {
      OTAP_RETURN_NOT_OK(otap_schema_init(f, narrow_keys(c, k) ? "C" : "S"));
      OTAP_RETURN_NOT_OK(otap_schema_allocate_dictionary(f));
      OTAP_RETURN_NOT_OK(otap_schema_init(f->dictionary, c->format));
    } else {
      OTAP_RETURN_NOT_OK(otap_schema_init(f, c->format));
    }
    OTAP_RETURN_NOT_OK(otap_schema_set_name(f, c->name));
    if (c->role != OTAP__ROLE_NONE && c->role != OTAP__ROLE_BODY_TYPE) {
      OTAP_RETURN_NOT_OK(set_plain(f));
    }
  }
  return 0;
}

static int share(struct ArrowArray* a, int64_t slot, struct otap_shared* sh, const uint8_t* p,
                 int64_t size) {
  return otap_array_set_buffer_shared(a, slot, sh, p, size);
}

static int emit_dict_values(struct bcol* c, int64_t k, struct ArrowArray* d) {
  OTAP_RETURN_NOT_OK(otap_array_set_buffer(d, 1, &c->dv[k]));
  if (c->kind == BK_VAR) OTAP_RETURN_NOT_OK(otap_array_set_buffer(d, 2, &c->dd[k]));
  d->length = c->dcount[k];
  return 0;
}

static int emit_cols(const struct otap__tcols* tc, struct bcol* cols, int64_t n, int64_t k,
                     struct ArrowArray* parent) {
  const struct otap__region* reg = tc->reg;
  int64_t p0 = reg->pstart[k], len = reg->n[k];
  for (int64_t i = 0; i < n; i++) {
    struct bcol* c = &cols[i];
    struct ArrowArray* a = parent->children[i];
    a->length = len;
    if (c->bits) OTAP_RETURN_NOT_OK(share(a, 0, c->sh_bits, c->bits + p0 / 8,
                                          otap_bytes_for_bits(len)));
    if (c->kind == BK_STRUCT) {
      OTAP_RETURN_NOT_OK(emit_cols(tc, c->children, c->n_children, k, a));
      continue;
    }
    if (c->role != OTAP__ROLE_NONE && c->role != OTAP__ROLE_BODY_TYPE) {
      OTAP_RETURN_NOT_OK(share(a, 1, c->sh_vals, c->vals + p0 * 2, len * 2));
    } else if (native_out(c, k)) {
      OTAP_RETURN_NOT_OK(emit_native_from_gids(tc, c, p0, len, a));
    } else if (c->dict) {
      const uint16_t* keys = (const uint16_t*)(const void*)c->vals + p0;
      if (narrow_keys(c, k)) {
        struct otap_buffer* kb = otap_array_buffer(a, 1);
        if (!kb) return EINVAL;
        OTAP_RETURN_NOT_OK(otap_buffer_resize(kb, len, false));
        uint8_t* restrict kd = kb->data;
        for (int64_t j = 0; j < len; j++) kd[j] = (uint8_t)keys[j];
      } else {
        OTAP_RETURN_NOT_OK(share(a, 1, c->sh_vals, (const uint8_t*)keys, len * 2));
      }
      OTAP_RETURN_NOT_OK(emit_dict_values(c, k, a->dictionary));
    } else if (c->kind == BK_FIXED) {
      OTAP_RETURN_NOT_OK(share(a, 1, c->sh_vals, c->vals + p0 * c->width, len * c->width));
    } else if (c->kind == BK_BOOL) {
      OTAP_RETURN_NOT_OK(share(a, 1, c->sh_vals, c->vals + p0 / 8, otap_bytes_for_bits(len)));
    } else {
      const int32_t* o = (const int32_t*)(const void*)c->vals + p0;
      OTAP_RETURN_NOT_OK(share(a, 1, c->sh_vals, (const uint8_t*)o, (len + 1) * 4));
      if (o[len] > 0) {
        OTAP_RETURN_NOT_OK(share(a, 2, c->sh_data, c->data + c->dstart[k], o[len]));
      }
    }
  }
  return 0;
}

int otap__tcols_emit(struct otap__tcols* c, int64_t k, const char* table_meta,
                     struct ArrowSchema* out_schema, struct ArrowArray* out,
                     struct otap_error* err) {
  memset(out_schema, 0, sizeof(*out_schema));
  memset(out, 0, sizeof(*out));
  int rc = build_schema(c->cols, c->n_cols, k, out_schema);
  if (rc == 0 && table_meta) rc = otap_schema_set_metadata(out_schema, table_meta);
  if (rc) {
    otap_schema_release(out_schema);
    return otap_error_set(err, rc, "batch: out of memory (output schema)");
  }
  out_schema->flags = 0;
  rc = otap_array_init_from_schema(out, out_schema, err);
  if (rc == 0) {
    out->length = c->reg->n[k];
    rc = emit_cols(c, c->cols, c->n_cols, k, out);
    if (rc) rc = otap_error_set(err, rc, "batch: output %lld, table %s: cannot assemble arrays",
                                (long long)k, otap_logs_table_name(c->table));
  }
  if (rc == 0) rc = otap_array_finish(out, OTAP_VALIDATE_NONE, out_schema, err);
  if (rc) {
    otap_array_release(out);
    otap_schema_release(out_schema);
  }
  return rc;
}
