// Parquet schema -> Arrow: the element tree, definition/repetition levels, LIST/MAP
// recognition (3-level, legacy 2-level, unannotated repeated fields), leaf type mapping.
#include <stdio.h>

#include "parquet/parquet_internal.h"

struct pq_einfo {
  int16_t def, rep;
  int32_t leaf;         // leaf column index, -1 for groups
  int32_t first_leaf;   // first leaf below (or self)
  int32_t n_children;
  int32_t* children;    // element indices
};

struct build_ctx {
  struct otap_parquet_reader* r;
  const struct otap_parquet_schema_element* el;
  struct pq_einfo* info;
  int32_t n;
  int32_t leaf_count;
  struct otap_error* err;
};

static int parse_tree(struct build_ctx* c, int32_t* idx, int16_t pdef, int16_t prep, int depth,
                      const char* parent_path) {
  int32_t i = *idx;
  if (i >= c->n) return otap_error_set(c->err, EINVAL, "parquet schema: children count exceeds the element list");
  if (depth > PQ_MAX_SCHEMA_DEPTH) return otap_error_set(c->err, ENOTSUP, "parquet schema nested deeper than %d", PQ_MAX_SCHEMA_DEPTH);
  const struct otap_parquet_schema_element* e = &c->el[i];
  struct pq_einfo* in = &c->info[i];
  int16_t def = pdef, rep = prep;
  if (i > 0) {
    if (!e->has_repetition) return otap_error_set(c->err, EINVAL, "parquet schema: element '%s' has no repetition", e->name);
    if (e->repetition != OTAP_PARQUET_REQUIRED) def++;
    if (e->repetition == OTAP_PARQUET_REPEATED) rep++;
  }
  if (def > PQ_MAX_LEVEL || rep > PQ_MAX_LEVEL) return otap_error_set(c->err, ENOTSUP, "parquet schema: levels too deep");
  in->def = def;
  in->rep = rep;
  in->leaf = -1;
  *idx = i + 1;
  char* path = NULL;
  if (i > 0) {
    size_t pl = parent_path ? strlen(parent_path) : 0, nl = strlen(e->name);
    path = otap__pq_arena_alloc(&c->r->arena, pl + nl + 2);
    if (!path) return otap_error_set(c->err, ENOMEM, "out of memory");
    if (pl) {
      memcpy(path, parent_path, pl);
      path[pl] = '.';
      memcpy(path + pl + 1, e->name, nl);
    } else {
      memcpy(path, e->name, nl);
    }
  }
  bool is_group = i == 0 || e->num_children > 0 || !e->has_type;
  if (!is_group) {
    if (e->type == OTAP_PARQUET_FIXED_LEN_BYTE_ARRAY && (e->type_length <= 0 || e->type_length > (1 << 20)))
      return otap_error_set(c->err, EINVAL, "parquet schema: column '%s' has FIXED_LEN_BYTE_ARRAY length %d", path, e->type_length);
    in->leaf = c->leaf_count++;
    in->first_leaf = in->leaf;
    struct pq_column_desc* d = &c->r->leaves[in->leaf];
    d->elem = e;
    d->max_def = def;
    d->max_rep = rep;
    d->path = path;
    return 0;
  }
  if (e->num_children <= 0) return otap_error_set(c->err, ENOTSUP, "parquet schema: group '%s' has no children", i ? e->name : "(root)");
  if (e->num_children > c->n) return otap_error_set(c->err, EINVAL, "parquet schema: num_children of '%s' too large", e->name);
  in->n_children = e->num_children;
  in->children = otap__pq_arena_alloc(&c->r->arena, sizeof(int32_t) * (size_t)e->num_children);
  if (!in->children) return otap_error_set(c->err, ENOMEM, "out of memory");
  for (int32_t k = 0; k < e->num_children; k++) {
    in->children[k] = *idx;
    OTAP_RETURN_NOT_OK(parse_tree(c, idx, def, rep, depth + 1, path));
  }
  in->first_leaf = c->info[in->children[0]].first_leaf;
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Leaf type mapping

static void set_decimal(struct pq_node* n, int32_t precision, int32_t scale) {
  if (precision <= 38) {
    n->decimal_bytes = 16;
    snprintf(n->format, sizeof(n->format), "d:%d,%d", precision, scale);
  } else {
    n->decimal_bytes = 32;
    snprintf(n->format, sizeof(n->format), "d:%d,%d,256", precision, scale);
  }
  n->value_width = n->decimal_bytes;
}

static int map_leaf(struct otap_parquet_reader* r, struct pq_node* n, struct otap_error* err) {
  const struct otap_parquet_schema_element* e = n->elem;
  const struct otap_parquet_logical_type* lt = &e->logical;
  int ct = e->converted_type;
  n->conv = PQ_CONV_COPY;
  bool is_decimal = lt->kind == OTAP_PARQUET_LT_DECIMAL || (lt->kind == OTAP_PARQUET_LT_NONE && ct == 5);
  int32_t prec = lt->kind == OTAP_PARQUET_LT_DECIMAL ? lt->decimal_precision : e->precision;
  int32_t scale = lt->kind == OTAP_PARQUET_LT_DECIMAL ? lt->decimal_scale : e->scale;
  if (is_decimal && (prec <= 0 || prec > 76 || scale < 0 || scale > prec)) is_decimal = false;
  if (lt->kind == OTAP_PARQUET_LT_UNKNOWN) {
    n->conv = PQ_CONV_NULL;
    strcpy(n->format, "n");
    return 0;
  }
  switch (e->type) {
    case OTAP_PARQUET_BOOLEAN:
      n->conv = PQ_CONV_BOOL;
      strcpy(n->format, "b");
      break;
    case OTAP_PARQUET_INT32: {
      n->value_width = 4;
      strcpy(n->format, "i");
      int bw = 32;
      bool sign = true;
      if (lt->kind == OTAP_PARQUET_LT_INTEGER) {
        bw = lt->int_bit_width;
        sign = lt->int_signed;
      } else if (lt->kind == OTAP_PARQUET_LT_NONE && ct >= 11 && ct <= 17 && ct != 14) {
        static const int widths[] = {8, 16, 32, 64, 8, 16, 32};
        bw = widths[ct - 11];
        sign = ct >= 15;
      }
      if (is_decimal) {
        n->conv = PQ_CONV_DEC_I32;
        set_decimal(n, prec, scale);
      } else if (lt->kind == OTAP_PARQUET_LT_DATE || (lt->kind == OTAP_PARQUET_LT_NONE && ct == 6)) {
        strcpy(n->format, "tdD");
      } else if ((lt->kind == OTAP_PARQUET_LT_TIME && lt->time_unit == 0) ||
                 (lt->kind == OTAP_PARQUET_LT_NONE && ct == 7)) {
        strcpy(n->format, "ttm");
      } else if (bw == 8) {
        n->conv = PQ_CONV_I32_TO_I8;
        n->value_width = 1;
        strcpy(n->format, sign ? "c" : "C");
      } else if (bw == 16) {
        n->conv = PQ_CONV_I32_TO_I16;
        n->value_width = 2;
        strcpy(n->format, sign ? "s" : "S");
      } else if (bw == 32 && !sign) {
        strcpy(n->format, "I");
      }
      break;
    }
    case OTAP_PARQUET_INT64:
      n->value_width = 8;
      strcpy(n->format, "l");
      if (is_decimal) {
        n->conv = PQ_CONV_DEC_I64;
        set_decimal(n, prec, scale);
      } else if (lt->kind == OTAP_PARQUET_LT_TIMESTAMP) {
        static const char units[] = {'m', 'u', 'n'};
        snprintf(n->format, sizeof(n->format), "ts%c:%s", units[lt->time_unit < 0 || lt->time_unit > 2 ? 1 : lt->time_unit],
                 lt->is_adjusted_to_utc ? "UTC" : "");
      } else if (lt->kind == OTAP_PARQUET_LT_NONE && (ct == 9 || ct == 10)) {
        strcpy(n->format, ct == 9 ? "tsm:UTC" : "tsu:UTC");
      } else if (lt->kind == OTAP_PARQUET_LT_TIME) {
        strcpy(n->format, lt->time_unit == 2 ? "ttn" : "ttu");
      } else if (lt->kind == OTAP_PARQUET_LT_NONE && ct == 8) {
        strcpy(n->format, "ttu");
      } else if ((lt->kind == OTAP_PARQUET_LT_INTEGER && !lt->int_signed) ||
                 (lt->kind == OTAP_PARQUET_LT_NONE && ct == 14)) {
        strcpy(n->format, "L");
      }
      break;
    case OTAP_PARQUET_INT96: {
      static const char* fmts[] = {"tss:", "tsm:", "tsu:", "tsn:"};
      n->conv = PQ_CONV_INT96;
      n->value_width = 8;
      n->int96_unit = r->opts.int96_unit;
      strcpy(n->format, fmts[(int)r->opts.int96_unit & 3]);
      break;
    }
    case OTAP_PARQUET_FLOAT:
      n->value_width = 4;
      strcpy(n->format, "f");
      break;
    case OTAP_PARQUET_DOUBLE:
      n->value_width = 8;
      strcpy(n->format, "g");
      break;
    case OTAP_PARQUET_BYTE_ARRAY:
      n->conv = PQ_CONV_BINARY;
      if (is_decimal) {
        n->conv = PQ_CONV_DEC_BYTES;
        set_decimal(n, prec, scale);
      } else if (lt->kind == OTAP_PARQUET_LT_STRING || lt->kind == OTAP_PARQUET_LT_ENUM ||
                 lt->kind == OTAP_PARQUET_LT_JSON ||
                 (lt->kind == OTAP_PARQUET_LT_NONE && (ct == 0 || ct == 4 || ct == 19))) {
        strcpy(n->format, "u");
      } else {
        strcpy(n->format, "z");
      }
      if (n->conv == PQ_CONV_BINARY && r->opts.dictionary_as_arrow_dictionary) n->as_dictionary = true;
      break;
    case OTAP_PARQUET_FIXED_LEN_BYTE_ARRAY:
      n->value_width = e->type_length;
      if (is_decimal) {
        n->conv = PQ_CONV_DEC_BYTES;
        set_decimal(n, prec, scale);
      } else if (lt->kind == OTAP_PARQUET_LT_FLOAT16 && e->type_length == 2) {
        strcpy(n->format, "e");
      } else {
        snprintf(n->format, sizeof(n->format), "w:%d", e->type_length);
      }
      break;
    default:
      return otap_error_set(err, EINVAL, "parquet schema: column '%s' has invalid physical type", e->name);
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Arrow node tree

static struct pq_node* new_node(struct build_ctx* c, enum pq_node_kind kind, const char* name,
                                int32_t n_children) {
  struct pq_node* n = otap__pq_arena_alloc(&c->r->arena, sizeof(*n));
  if (!n) return NULL;
  n->kind = kind;
  n->name = otap__pq_arena_strndup(&c->r->arena, (const uint8_t*)name, strlen(name));
  n->n_children = n_children;
  if (n_children) n->children = otap__pq_arena_alloc(&c->r->arena, sizeof(*n->children) * (size_t)n_children);
  if (!n->name || (n_children && !n->children)) return NULL;
  return n;
}

static bool is_list_annot(const struct otap_parquet_schema_element* e) {
  return e->logical.kind == OTAP_PARQUET_LT_LIST || (e->logical.kind == OTAP_PARQUET_LT_NONE && e->converted_type == 3);
}
static bool is_map_annot(const struct otap_parquet_schema_element* e) {
  return e->logical.kind == OTAP_PARQUET_LT_MAP ||
         (e->logical.kind == OTAP_PARQUET_LT_NONE && (e->converted_type == 1 || e->converted_type == 2));
}

static int convert_field(struct build_ctx* c, int32_t i, int16_t slot_def, int16_t rep,
                         struct pq_node** out, int depth);

/// Converts element i as a single (non-repeated) item with the given slot context; `def` is
/// the level at which it is non-null.
static int convert_item(struct build_ctx* c, int32_t i, int16_t slot_def, int16_t rep, int16_t def,
                        bool nullable, const char* name, struct pq_node** out, int depth) {
  const struct otap_parquet_schema_element* e = &c->el[i];
  const struct pq_einfo* in = &c->info[i];
  if (depth > PQ_MAX_SCHEMA_DEPTH) return otap_error_set(c->err, ENOTSUP, "schema too deep");
  struct pq_node* n;
  if (in->leaf >= 0) {
    n = new_node(c, PQ_NODE_LEAF, name, 0);
    if (!n) return otap_error_set(c->err, ENOMEM, "out of memory");
    n->elem = e;
    n->leaf = in->leaf;
    OTAP_RETURN_NOT_OK(map_leaf(c->r, n, c->err));
  } else if ((is_list_annot(e) || is_map_annot(e)) && in->n_children == 1 &&
             c->el[in->children[0]].repetition == OTAP_PARQUET_REPEATED) {
    int32_t ri = in->children[0];
    const struct otap_parquet_schema_element* re = &c->el[ri];
    const struct pq_einfo* rin = &c->info[ri];
    bool map = is_map_annot(e) && rin->leaf < 0 && rin->n_children == 2;
    n = new_node(c, map ? PQ_NODE_MAP : PQ_NODE_LIST, name, 1);
    if (!n) return otap_error_set(c->err, ENOMEM, "out of memory");
    n->elem = e;
    n->leaf = in->first_leaf;
    n->elem_def = rin->def;
    struct pq_node* child = NULL;
    if (map) {
      OTAP_RETURN_NOT_OK(convert_item(c, ri, rin->def, rin->rep, rin->def, false, "entries", &child, depth + 1));
      if (child->kind != PQ_NODE_STRUCT || child->n_children != 2)
        return otap_error_set(c->err, EINVAL, "parquet schema: map '%s' key_value is not a group of 2", e->name);
      child->children[0]->nullable = false;
    } else {
      bool two_level = rin->leaf >= 0 || rin->n_children > 1;
      if (!two_level) {
        size_t nl = strlen(e->name);
        if (strcmp(re->name, "array") == 0 ||
            (strncmp(re->name, e->name, nl) == 0 && strcmp(re->name + nl, "_tuple") == 0))
          two_level = true;
      }
      if (two_level) {
        OTAP_RETURN_NOT_OK(convert_item(c, ri, rin->def, rin->rep, rin->def, false,
                                        rin->leaf >= 0 ? "element" : re->name, &child, depth + 1));
      } else {
        OTAP_RETURN_NOT_OK(convert_field(c, rin->children[0], rin->def, rin->rep, &child, depth + 1));
      }
    }
    n->children[0] = child;
  } else {
    n = new_node(c, PQ_NODE_STRUCT, name, in->n_children);
    if (!n) return otap_error_set(c->err, ENOMEM, "out of memory");
    n->elem = e;
    n->leaf = in->first_leaf;
    strcpy(n->format, "+s");
    for (int32_t k = 0; k < in->n_children; k++)
      OTAP_RETURN_NOT_OK(convert_field(c, in->children[k], slot_def, rep, &n->children[k], depth + 1));
  }
  if (n->kind == PQ_NODE_LIST) strcpy(n->format, "+l");
  if (n->kind == PQ_NODE_MAP) strcpy(n->format, "+m");
  n->slot_def = slot_def;
  n->rep = rep;
  n->def = def;
  n->nullable = nullable;
  *out = n;
  return 0;
}

static int convert_field(struct build_ctx* c, int32_t i, int16_t slot_def, int16_t rep,
                         struct pq_node** out, int depth) {
  const struct otap_parquet_schema_element* e = &c->el[i];
  const struct pq_einfo* in = &c->info[i];
  if (e->repetition == OTAP_PARQUET_REPEATED) {
    // Unannotated repeated field: a non-null list of required items.
    struct pq_node* n = new_node(c, PQ_NODE_LIST, e->name, 1);
    if (!n) return otap_error_set(c->err, ENOMEM, "out of memory");
    n->elem = NULL;
    n->leaf = in->first_leaf;
    n->slot_def = slot_def;
    n->rep = rep;
    n->def = slot_def;
    n->elem_def = in->def;
    n->nullable = false;
    strcpy(n->format, "+l");
    OTAP_RETURN_NOT_OK(convert_item(c, i, in->def, in->rep, in->def, false, "element", &n->children[0], depth + 1));
    *out = n;
    return 0;
  }
  return convert_item(c, i, slot_def, rep, in->def, e->repetition == OTAP_PARQUET_OPTIONAL, e->name,
                      out, depth);
}

// ---------------------------------------------------------------------------------------------
// Arrow schema from nodes

// ---------------------------------------------------------------------------------------------
// ARROW:schema hint

static const struct ArrowSchema* hint_child(const struct ArrowSchema* h, const char* name) {
  for (int64_t k = 0; k < h->n_children; k++)
    if (h->children[k]->name && strcmp(h->children[k]->name, name) == 0) return h->children[k];
  return NULL;
}

static void hint_leaf(struct pq_node* n, const struct ArrowSchema* h) {
  const char* hf = h->format;
  enum otap_parquet_physical_type t = n->elem->type;
  if (h->dictionary) {
    const char* vf = h->dictionary->format;
    bool str = strcmp(vf, "u") == 0 || strcmp(vf, "U") == 0 || strcmp(vf, "z") == 0 || strcmp(vf, "Z") == 0;
    if (n->conv == PQ_CONV_BINARY && str && strlen(hf) == 1 && strchr("cCsSiIlL", hf[0])) {
      n->as_dictionary = true;
      strcpy(n->index_format, hf);
    }
    return;
  }
  bool plain_int = n->conv == PQ_CONV_COPY || n->conv == PQ_CONV_I32_TO_I8 || n->conv == PQ_CONV_I32_TO_I16;
  if (t == OTAP_PARQUET_INT32 && plain_int && strlen(hf) == 1) {
    if (hf[0] == 'c' || hf[0] == 'C') {
      n->conv = PQ_CONV_I32_TO_I8;
      n->value_width = 1;
      strcpy(n->format, hf);
    } else if (hf[0] == 's' || hf[0] == 'S') {
      n->conv = PQ_CONV_I32_TO_I16;
      n->value_width = 2;
      strcpy(n->format, hf);
    } else if (hf[0] == 'i' || hf[0] == 'I') {
      n->conv = PQ_CONV_COPY;
      n->value_width = 4;
      strcpy(n->format, hf);
    }
  } else if (t == OTAP_PARQUET_INT64 && n->conv == PQ_CONV_COPY) {
    if (strlen(hf) == 1 && (hf[0] == 'l' || hf[0] == 'L') && strlen(n->format) == 1) {
      strcpy(n->format, hf);
    } else if (strncmp(hf, "ts", 2) == 0 && strncmp(n->format, "ts", 2) == 0 && hf[2] == n->format[2] &&
               strlen(hf) < sizeof(n->format)) {
      strcpy(n->format, hf);  // restores the time zone name
    }
  } else if (t == OTAP_PARQUET_INT96 && strncmp(hf, "ts", 2) == 0 && strlen(hf) < sizeof(n->format)) {
    const char* units = "smun";
    const char* u = strchr(units, hf[2]);
    if (u && hf[2]) {
      n->int96_unit = (enum otap_time_unit)(u - units);
      strcpy(n->format, hf);
    }
  }
}

static void apply_hint(struct pq_node* n, const struct ArrowSchema* h) {
  if (!h) return;
  n->metadata = h->metadata;
  switch (n->kind) {
    case PQ_NODE_LEAF:
      hint_leaf(n, h);
      break;
    case PQ_NODE_STRUCT:
      if (strcmp(h->format, "+s") == 0)
        for (int32_t k = 0; k < n->n_children; k++) apply_hint(n->children[k], hint_child(h, n->children[k]->name));
      break;
    case PQ_NODE_LIST:
      if ((strcmp(h->format, "+l") == 0 || strcmp(h->format, "+L") == 0) && h->n_children == 1) {
        struct pq_node* e = n->children[0];
        const char* keep = e->name;
        apply_hint(e, h->children[0]);
        e->name = (char*)keep;
      }
      break;
    case PQ_NODE_MAP:
      if (strcmp(h->format, "+m") == 0 && h->n_children == 1) apply_hint(n->children[0], h->children[0]);
      break;
  }
}

static void use_hint(struct otap_parquet_reader* r) {
  if (!r->opts.use_arrow_schema_hint) return;
  for (int32_t k = 0; k < r->meta.n_key_value; k++) {
    const struct otap_parquet_key_value* kv = &r->meta.key_value[k];
    if (strcmp(kv->key, "ARROW:schema") != 0 || !kv->value) continue;
    struct otap_error ignored;
    if (otap__pq_arrow_schema_hint(kv->value, kv->value_len, &r->hint_store, &ignored) != 0) return;
    if (strcmp(r->hint_store.format, "+s") != 0) return;
    r->hint = &r->hint_store;
    for (int32_t j = 0; j < r->n_top; j++) apply_hint(r->top[j], hint_child(r->hint, r->top[j]->name));
    return;
  }
}

static int node_schema(const struct pq_node* n, struct ArrowSchema* out) {
  const char* fmt = n->as_dictionary ? (n->index_format[0] ? n->index_format : "i") : n->format;
  OTAP_RETURN_NOT_OK(otap__pq_schema_make(out, fmt, n->name, n->nullable, n->n_children));
  if (n->metadata) {
    int rc = otap__pq_schema_set_metadata(out, n->metadata, otap__pq_metadata_len(n->metadata));
    if (rc) {
      out->release(out);
      return rc;
    }
  }
  for (int32_t k = 0; k < n->n_children; k++) {
    int rc = node_schema(n->children[k], out->children[k]);
    if (rc) {
      out->release(out);
      return rc;
    }
  }
  if (n->as_dictionary) {
    otap__pq_schema_add_dictionary(out);
    int rc = otap__pq_schema_make(out->dictionary, n->format, NULL, true, 0);
    if (rc) {
      out->release(out);
      return rc;
    }
  }
  return 0;
}

// Projection: "name" selects a top-level column; "a.b.c" selects the struct path a -> b -> c
// (other children of the structs on the path are not read). Several paths into one column
// merge.

/// True when `path` selects `name` itself (*rest = NULL) or something below it (*rest = the
/// remaining components).
static bool path_match(const char* path, const char* name, const char** rest) {
  size_t n = strlen(name);
  if (strncmp(path, name, n) != 0) return false;
  if (path[n] == 0) {
    *rest = NULL;
    return true;
  }
  if (path[n] == '.') {
    *rest = path + n + 1;
    return true;
  }
  return false;
}

static bool projected(const struct otap_parquet_reader* r, const char* name) {
  if (!r->opts.columns) return true;
  for (int32_t k = 0; k < r->opts.n_columns; k++) {
    const char* rest;
    if (r->opts.columns[k] && path_match(r->opts.columns[k], name, &rest)) return true;
  }
  return false;
}

/// Keeps the children of struct `n` that the sub-paths select; every path must resolve.
/// Returns false (with the unresolved path in *bad) when one does not.
static bool prune(struct pq_node* n, const char** paths, int32_t n_paths, const char** bad) {
  for (int32_t k = 0; k < n_paths; k++)
    if (!paths[k]) return true;  // the whole node is selected
  if (n->kind != PQ_NODE_STRUCT) {
    *bad = paths[0];
    return false;
  }
  const char* sub[64];
  int32_t kept = 0;
  for (int32_t c = 0; c < n->n_children; c++) {
    int32_t ns = 0;
    for (int32_t k = 0; k < n_paths && ns < 64; k++) {
      const char* rest;
      if (path_match(paths[k], n->children[c]->name, &rest)) sub[ns++] = rest;
    }
    if (ns == 0) continue;
    if (!prune(n->children[c], sub, ns, bad)) return false;
    n->children[kept++] = n->children[c];
  }
  for (int32_t k = 0; k < n_paths; k++) {
    bool hit = false;
    for (int32_t c = 0; c < kept; c++) {
      const char* rest;
      hit |= path_match(paths[k], n->children[c]->name, &rest);
    }
    if (!hit) {
      *bad = paths[k];
      return false;
    }
  }
  n->n_children = kept;
  n->leaf = n->children[0]->leaf;  // representative leaf among the kept ones
  return true;
}

static int apply_projection(struct otap_parquet_reader* r, struct otap_error* err) {
  if (!r->opts.columns) return 0;
  for (int32_t k = 0; k < r->opts.n_columns; k++) {
    bool found = false;
    for (int32_t j = 0; j < r->n_top && !found; j++) {
      const char* rest;
      found = r->opts.columns[k] && path_match(r->opts.columns[k], r->top[j]->name, &rest);
    }
    if (!found) return otap_error_set(err, ENOENT, "%s: no column named '%s'", r->name, r->opts.columns[k]);
  }
  for (int32_t j = 0; j < r->n_top; j++) {
    const char* paths[64];
    int32_t np = 0;
    for (int32_t k = 0; k < r->opts.n_columns && np < 64; k++) {
      const char* rest;
      if (path_match(r->opts.columns[k], r->top[j]->name, &rest)) paths[np++] = rest;
    }
    const char* bad = NULL;
    if (!prune(r->top[j], paths, np, &bad))
      return otap_error_set(err, ENOENT, "%s: column '%s' has no struct field path '%s'", r->name, r->top[j]->name,
                            bad ? bad : "");
  }
  return 0;
}

int otap__pq_schema_build(struct otap_parquet_reader* r, struct otap_error* err) {
  const struct otap_parquet_file_metadata* m = &r->meta;
  struct build_ctx c = {r, m->schema, NULL, m->n_schema, 0, err};
  c.info = otap__pq_arena_alloc(&r->arena, sizeof(*c.info) * (size_t)m->n_schema);
  r->leaves = otap__pq_arena_alloc(&r->arena, sizeof(*r->leaves) * (size_t)m->n_schema);
  if (!c.info || !r->leaves) return otap_error_set(err, ENOMEM, "out of memory");
  int32_t idx = 0;
  OTAP_RETURN_NOT_OK(parse_tree(&c, &idx, 0, 0, 0, NULL));
  if (idx != m->n_schema)
    return otap_error_set(err, EINVAL, "parquet schema: %d elements, but the tree uses %d", m->n_schema, idx);
  r->n_leaves = c.leaf_count;
  // Row groups must describe every leaf with the schema's physical type.
  for (int32_t g = 0; g < m->n_row_groups; g++) {
    const struct otap_parquet_row_group* rg = &m->row_groups[g];
    if (rg->n_columns != r->n_leaves)
      return otap_error_set(err, EINVAL, "row group %d has %d column chunks, the schema has %d leaves", g,
                            rg->n_columns, r->n_leaves);
    for (int32_t k = 0; k < rg->n_columns; k++) {
      if (rg->columns[k].has_meta_data && rg->columns[k].type != r->leaves[k].elem->type)
        return otap_error_set(err, EINVAL, "row group %d column %s: chunk type differs from the schema", g,
                              r->leaves[k].path);
    }
  }
  const struct pq_einfo* root = &c.info[0];
  r->top = otap__pq_arena_alloc(&r->arena, sizeof(*r->top) * (size_t)root->n_children);
  if (!r->top) return otap_error_set(err, ENOMEM, "out of memory");
  r->n_top = 0;
  for (int32_t k = 0; k < root->n_children; k++) {
    const char* name = m->schema[root->children[k]].name;
    if (!projected(r, name)) continue;
    OTAP_RETURN_NOT_OK(convert_field(&c, root->children[k], 0, 0, &r->top[r->n_top], 0));
    r->n_top++;
  }
  OTAP_RETURN_NOT_OK(apply_projection(r, err));
  use_hint(r);
  OTAP_RETURN_NOT_OK(otap__pq_schema_make(&r->schema, "+s", "", false, r->n_top) ? otap_error_set(err, ENOMEM, "out of memory") : 0);
  if (r->hint && r->hint->metadata &&
      otap__pq_schema_set_metadata(&r->schema, r->hint->metadata, otap__pq_metadata_len(r->hint->metadata)))
    return otap_error_set(err, ENOMEM, "out of memory");
  for (int32_t k = 0; k < r->n_top; k++) {
    if (node_schema(r->top[k], r->schema.children[k])) return otap_error_set(err, ENOMEM, "out of memory");
  }
  return 0;
}
