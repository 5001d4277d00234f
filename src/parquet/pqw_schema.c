// Arrow schema -> Parquet schema tree for the writer, and SchemaElement serialization.
#include <stdio.h>

#include "parquet/pqw_writer_internal.h"

static int map_leaf(struct pqw_node* n, const struct ArrowSchema* s, const char* path,
                    struct otap_error* err) {
  struct otap_schema_view sv;
  OTAP_RETURN_NOT_OK(otap_schema_view_init(&sv, s, err));
  enum otap_type t = sv.type;
  const struct ArrowSchema* vs = s;
  if (t == OTAP_TYPE_DICTIONARY) {
    n->dict_src = true;
    vs = s->dictionary;
    OTAP_RETURN_NOT_OK(otap_schema_view_init(&sv, vs, err));
    t = sv.type;
    if (t == OTAP_TYPE_DICTIONARY || t == OTAP_TYPE_STRUCT || t == OTAP_TYPE_LIST ||
        t == OTAP_TYPE_LARGE_LIST || t == OTAP_TYPE_MAP || t == OTAP_TYPE_NA) {
      return otap_error_set(err, ENOTSUP,
                            "parquet writer: column %s: dictionary of %s is not supported", path,
                            otap_type_name(t));
    }
  }
  n->kind = PQW_LEAF;
  n->logical = PQW_LT_NONE;
  n->unit = OTAP_TIME_UNIT_MILLI;
  switch (t) {
    case OTAP_TYPE_NA:
      n->ptype = OTAP_PARQUET_INT32;
      n->logical = PQW_LT_NULL;
      n->src = PQW_SRC_NULL;
      n->order = PQW_ORD_NONE;
      n->nullable = true;
      break;
    case OTAP_TYPE_BOOL:
      n->ptype = OTAP_PARQUET_BOOLEAN;
      n->src = PQW_SRC_BOOL;
      n->order = PQW_ORD_BOOL;
      break;
    case OTAP_TYPE_INT8:
    case OTAP_TYPE_UINT8:
    case OTAP_TYPE_INT16:
    case OTAP_TYPE_UINT16:
    case OTAP_TYPE_INT32:
    case OTAP_TYPE_UINT32: {
      bool is_signed = t == OTAP_TYPE_INT8 || t == OTAP_TYPE_INT16 || t == OTAP_TYPE_INT32;
      n->ptype = OTAP_PARQUET_INT32;
      n->int_signed = is_signed;
      n->int_bits = sv.bit_width;
      n->logical = t == OTAP_TYPE_INT32 ? PQW_LT_NONE : PQW_LT_INT;
      n->src = t == OTAP_TYPE_INT8    ? PQW_SRC_I8
               : t == OTAP_TYPE_UINT8 ? PQW_SRC_U8
               : t == OTAP_TYPE_INT16 ? PQW_SRC_I16
               : t == OTAP_TYPE_UINT16 ? PQW_SRC_U16
                                       : PQW_SRC_I32;
      n->order = is_signed ? PQW_ORD_I32 : PQW_ORD_U32;
      break;
    }
    case OTAP_TYPE_INT64:
    case OTAP_TYPE_UINT64:
      n->ptype = OTAP_PARQUET_INT64;
      n->int_signed = t == OTAP_TYPE_INT64;
      n->int_bits = 64;
      n->logical = t == OTAP_TYPE_INT64 ? PQW_LT_NONE : PQW_LT_INT;
      n->src = PQW_SRC_I64;
      n->order = n->int_signed ? PQW_ORD_I64 : PQW_ORD_U64;
      break;
    case OTAP_TYPE_HALF_FLOAT:
      n->ptype = OTAP_PARQUET_FIXED_LEN_BYTE_ARRAY;
      n->type_length = 2;
      n->logical = PQW_LT_FLOAT16;
      n->src = PQW_SRC_F16;
      n->order = PQW_ORD_F16;
      break;
    case OTAP_TYPE_FLOAT:
      n->ptype = OTAP_PARQUET_FLOAT;
      n->src = PQW_SRC_I32;
      n->order = PQW_ORD_F32;
      break;
    case OTAP_TYPE_DOUBLE:
      n->ptype = OTAP_PARQUET_DOUBLE;
      n->src = PQW_SRC_I64;
      n->order = PQW_ORD_F64;
      break;
    case OTAP_TYPE_DECIMAL32:
    case OTAP_TYPE_DECIMAL64:
      n->ptype = t == OTAP_TYPE_DECIMAL32 ? OTAP_PARQUET_INT32 : OTAP_PARQUET_INT64;
      n->logical = PQW_LT_DECIMAL;
      n->precision = sv.decimal_precision;
      n->scale = sv.decimal_scale;
      n->src = t == OTAP_TYPE_DECIMAL32 ? PQW_SRC_I32 : PQW_SRC_I64;
      n->order = t == OTAP_TYPE_DECIMAL32 ? PQW_ORD_I32 : PQW_ORD_I64;
      break;
    case OTAP_TYPE_DECIMAL128:
    case OTAP_TYPE_DECIMAL256: {
      n->ptype = OTAP_PARQUET_FIXED_LEN_BYTE_ARRAY;
      n->logical = PQW_LT_DECIMAL;
      n->precision = sv.decimal_precision;
      n->scale = sv.decimal_scale;
      n->src = PQW_SRC_DECIMAL;
      n->src_width = sv.decimal_bitwidth / 8;
      // Smallest byte count holding 10^precision - 1 as signed two's complement.
      int bytes = 1;
      double limit = 1;
      for (int i = 0; i < n->precision; i++) limit *= 10;
      double cap = 128;  // 2^(8*bytes-1)
      while (cap < limit && bytes < n->src_width) {
        bytes++;
        cap *= 256;
      }
      n->type_length = bytes;
      n->order = PQW_ORD_DEC_BE;
      break;
    }
    case OTAP_TYPE_STRING:
    case OTAP_TYPE_LARGE_STRING:
    case OTAP_TYPE_STRING_VIEW:
      n->ptype = OTAP_PARQUET_BYTE_ARRAY;
      n->logical = PQW_LT_STRING;
      n->src = PQW_SRC_BYTES;
      n->order = PQW_ORD_BYTES;
      break;
    case OTAP_TYPE_BINARY:
    case OTAP_TYPE_LARGE_BINARY:
    case OTAP_TYPE_BINARY_VIEW:
      n->ptype = OTAP_PARQUET_BYTE_ARRAY;
      n->src = PQW_SRC_BYTES;
      n->order = PQW_ORD_BYTES;
      break;
    case OTAP_TYPE_FIXED_SIZE_BINARY:
      n->ptype = OTAP_PARQUET_FIXED_LEN_BYTE_ARRAY;
      n->type_length = sv.fixed_size;
      n->src = PQW_SRC_FSB;
      n->src_width = sv.fixed_size;
      n->order = PQW_ORD_BYTES;
      if (sv.fixed_size == 16 && sv.extension_name && sv.extension_name_len == 10 &&
          memcmp(sv.extension_name, "arrow.uuid", 10) == 0) {
        n->logical = PQW_LT_UUID;
      }
      if (sv.fixed_size <= 0) {
        return otap_error_set(err, ENOTSUP, "parquet writer: column %s: fixed_size_binary(%d)",
                              path, (int)sv.fixed_size);
      }
      break;
    case OTAP_TYPE_DATE32:
    case OTAP_TYPE_DATE64:
      n->ptype = OTAP_PARQUET_INT32;
      n->logical = PQW_LT_DATE;
      n->src = t == OTAP_TYPE_DATE32 ? PQW_SRC_I32 : PQW_SRC_DATE64;
      n->order = PQW_ORD_I32;
      break;
    case OTAP_TYPE_TIME32:
      n->ptype = OTAP_PARQUET_INT32;
      n->logical = PQW_LT_TIME;
      n->ts_utc = false;  // Arrow times carry no zone: local semantics
      n->unit = OTAP_TIME_UNIT_MILLI;
      n->src = sv.time_unit == OTAP_TIME_UNIT_SECOND ? PQW_SRC_I32_X1000 : PQW_SRC_I32;
      n->order = PQW_ORD_I32;
      break;
    case OTAP_TYPE_TIME64:
      n->ptype = OTAP_PARQUET_INT64;
      n->logical = PQW_LT_TIME;
      n->ts_utc = false;
      n->unit = sv.time_unit;
      n->src = PQW_SRC_I64;
      n->order = PQW_ORD_I64;
      break;
    case OTAP_TYPE_TIMESTAMP:
      n->ptype = OTAP_PARQUET_INT64;
      n->logical = PQW_LT_TIMESTAMP;
      n->ts_utc = sv.timezone_len > 0;
      n->unit = sv.time_unit == OTAP_TIME_UNIT_SECOND ? OTAP_TIME_UNIT_MILLI : sv.time_unit;
      n->src = sv.time_unit == OTAP_TIME_UNIT_SECOND ? PQW_SRC_I64_X1000 : PQW_SRC_I64;
      n->order = PQW_ORD_I64;
      break;
    case OTAP_TYPE_DURATION:
      n->ptype = OTAP_PARQUET_INT64;
      n->src = PQW_SRC_I64;
      n->order = PQW_ORD_I64;
      break;
    default:
      return otap_error_set(err, ENOTSUP,
                            "parquet writer: column %s: Arrow type %s has no Parquet mapping", path,
                            otap_type_name(t));
  }
  if (n->ptype == OTAP_PARQUET_FIXED_LEN_BYTE_ARRAY && n->src == PQW_SRC_FSB) {
    n->src_width = n->type_length;
  }
  return 0;
}

static int build_node(struct pqw_node* n, const struct ArrowSchema* s, const char* parent_path,
                      int depth, struct otap_error* err);

static int build_children(struct pqw_node* n, const struct ArrowSchema* s, const char* path,
                          int depth, struct otap_error* err) {
  n->children = otap_calloc((size_t)(s->n_children ? s->n_children : 1), sizeof(struct pqw_node));
  if (!n->children) return otap_error_set(err, ENOMEM, "parquet writer: out of memory");
  n->n_children = (int)s->n_children;
  for (int64_t i = 0; i < s->n_children; i++) {
    OTAP_RETURN_NOT_OK(build_node(&n->children[i], s->children[i], path, depth + 1, err));
  }
  return 0;
}

static int build_node(struct pqw_node* n, const struct ArrowSchema* s, const char* parent_path,
                      int depth, struct otap_error* err) {
  char path[512];
  snprintf(path, sizeof(path), "%s%s%s", parent_path, parent_path[0] ? "." : "",
           s->name ? s->name : "");
  if (depth >= PQW_MAX_DEPTH - 2) {
    return otap_error_set(err, ENOTSUP, "parquet writer: column %s nests too deeply", path);
  }
  n->name = s->name ? s->name : "";
  n->nullable = (s->flags & ARROW_FLAG_NULLABLE) != 0;
  struct otap_schema_view sv;
  OTAP_RETURN_NOT_OK(otap_schema_view_init(&sv, s, err));
  switch (sv.type) {
    case OTAP_TYPE_STRUCT:
      n->kind = PQW_STRUCT;
      if (s->n_children == 0) {
        return otap_error_set(err, ENOTSUP, "parquet writer: column %s: empty struct", path);
      }
      return build_children(n, s, path, depth, err);
    case OTAP_TYPE_LIST:
    case OTAP_TYPE_LARGE_LIST:
    case OTAP_TYPE_FIXED_SIZE_LIST:
      n->kind = PQW_LIST;
      OTAP_RETURN_NOT_OK(build_children(n, s, path, depth, err));
      n->children[0].name = "element";
      return 0;
    case OTAP_TYPE_MAP: {
      n->kind = PQW_MAP;
      OTAP_RETURN_NOT_OK(build_children(n, s, path, depth, err));
      struct pqw_node* entries = &n->children[0];
      if (entries->kind != PQW_STRUCT || entries->n_children != 2) {
        return otap_error_set(err, EINVAL, "parquet writer: column %s: malformed map", path);
      }
      entries->nullable = false;
      entries->name = "key_value";
      entries->children[0].nullable = false;
      entries->children[0].name = "key";
      entries->children[1].name = "value";
      return 0;
    }
    default:
      return map_leaf(n, s, path, err);
  }
}

void otap__pqw_node_free(struct pqw_node* n) {
  for (int i = 0; i < n->n_children; i++) otap__pqw_node_free(&n->children[i]);
  otap_free(n->children);
  n->children = NULL;
  n->n_children = 0;
}

int otap__pqw_build_tree(struct pqw_node* root, const struct ArrowSchema* schema,
                         struct otap_error* err) {
  memset(root, 0, sizeof(*root));
  struct otap_schema_view sv;
  OTAP_RETURN_NOT_OK(otap_schema_view_init(&sv, schema, err));
  if (sv.type != OTAP_TYPE_STRUCT) {
    return otap_error_set(err, EINVAL, "parquet writer: the schema must be a struct (record batch), got %s",
                          otap_type_name(sv.type));
  }
  root->kind = PQW_STRUCT;
  root->name = "";
  return build_children(root, schema, "", 0, err);
}

// ---------------------------------------------------------------------------------------------
// SchemaElement serialization

static void write_unit(struct pqw_thrift* t, int16_t id, enum otap_time_unit unit) {
  otap__pqw_tw_struct_begin(t, id);
  int16_t u = unit == OTAP_TIME_UNIT_MILLI ? 1 : unit == OTAP_TIME_UNIT_MICRO ? 2 : 3;
  otap__pqw_tw_struct_begin(t, u);
  otap__pqw_tw_struct_end(t);
  otap__pqw_tw_struct_end(t);
}

static void write_logical(struct pqw_thrift* t, const struct pqw_node* n) {
  if (n->logical == PQW_LT_NONE) return;
  otap__pqw_tw_struct_begin(t, 10);
  switch (n->logical) {
    case PQW_LT_STRING:
      otap__pqw_tw_struct_begin(t, 1);
      otap__pqw_tw_struct_end(t);
      break;
    case PQW_LT_MAP:
      otap__pqw_tw_struct_begin(t, 2);
      otap__pqw_tw_struct_end(t);
      break;
    case PQW_LT_LIST:
      otap__pqw_tw_struct_begin(t, 3);
      otap__pqw_tw_struct_end(t);
      break;
    case PQW_LT_DECIMAL:
      otap__pqw_tw_struct_begin(t, 5);
      otap__pqw_tw_i32(t, 1, n->scale);
      otap__pqw_tw_i32(t, 2, n->precision);
      otap__pqw_tw_struct_end(t);
      break;
    case PQW_LT_DATE:
      otap__pqw_tw_struct_begin(t, 6);
      otap__pqw_tw_struct_end(t);
      break;
    case PQW_LT_TIME:
    case PQW_LT_TIMESTAMP:
      otap__pqw_tw_struct_begin(t, n->logical == PQW_LT_TIME ? 7 : 8);
      otap__pqw_tw_bool(t, 1, n->ts_utc);
      write_unit(t, 2, n->unit);
      otap__pqw_tw_struct_end(t);
      break;
    case PQW_LT_INT:
      otap__pqw_tw_struct_begin(t, 10);
      otap__pqw_tw_i8(t, 1, (int8_t)n->int_bits);
      otap__pqw_tw_bool(t, 2, n->int_signed);
      otap__pqw_tw_struct_end(t);
      break;
    case PQW_LT_NULL:
      otap__pqw_tw_struct_begin(t, 11);
      otap__pqw_tw_struct_end(t);
      break;
    case PQW_LT_UUID:
      otap__pqw_tw_struct_begin(t, 14);
      otap__pqw_tw_struct_end(t);
      break;
    case PQW_LT_FLOAT16:
      otap__pqw_tw_struct_begin(t, 15);
      otap__pqw_tw_struct_end(t);
      break;
    default:
      break;
  }
  otap__pqw_tw_struct_end(t);
}

// Converted type for backward compatibility, or -1.
static int converted_type(const struct pqw_node* n) {
  switch (n->logical) {
    case PQW_LT_STRING:
      return 0;
    case PQW_LT_MAP:
      return 1;
    case PQW_LT_LIST:
      return 3;
    case PQW_LT_DECIMAL:
      return 5;
    case PQW_LT_DATE:
      return 6;
    case PQW_LT_TIME:
      if (!n->ts_utc) return -1;
      return n->unit == OTAP_TIME_UNIT_MILLI ? 7 : n->unit == OTAP_TIME_UNIT_MICRO ? 8 : -1;
    case PQW_LT_TIMESTAMP:
      if (!n->ts_utc) return -1;
      return n->unit == OTAP_TIME_UNIT_MILLI ? 9 : n->unit == OTAP_TIME_UNIT_MICRO ? 10 : -1;
    case PQW_LT_INT:
      switch (n->int_bits) {
        case 8:
          return n->int_signed ? 15 : 11;
        case 16:
          return n->int_signed ? 16 : 12;
        case 32:
          return n->int_signed ? 17 : 13;
        default:
          return n->int_signed ? 18 : 14;
      }
    default:
      return -1;
  }
}

static void element(struct pqw_thrift* t, const struct pqw_node* n, const char* name, int rep,
                    int num_children, enum pqw_logical group_logical) {
  otap__pqw_tw_struct_begin(t, 0);
  if (n && n->kind == PQW_LEAF) {
    otap__pqw_tw_i32(t, 1, n->ptype);
    if (n->ptype == OTAP_PARQUET_FIXED_LEN_BYTE_ARRAY) otap__pqw_tw_i32(t, 2, n->type_length);
  }
  if (rep >= 0) otap__pqw_tw_i32(t, 3, rep);
  otap__pqw_tw_string(t, 4, name);
  if (num_children >= 0) otap__pqw_tw_i32(t, 5, num_children);
  if (n && n->kind == PQW_LEAF) {
    int ct = converted_type(n);
    if (ct >= 0) otap__pqw_tw_i32(t, 6, ct);
    if (n->logical == PQW_LT_DECIMAL) {
      otap__pqw_tw_i32(t, 7, n->scale);
      otap__pqw_tw_i32(t, 8, n->precision);
    }
    write_logical(t, n);
  } else if (group_logical != PQW_LT_NONE) {
    struct pqw_node tmp;
    memset(&tmp, 0, sizeof(tmp));
    tmp.logical = group_logical;
    otap__pqw_tw_i32(t, 6, converted_type(&tmp));
    write_logical(t, &tmp);
  }
  otap__pqw_tw_struct_end(t);
}

static int64_t count_elements(const struct pqw_node* n) {
  switch (n->kind) {
    case PQW_LEAF:
      return 1;
    case PQW_STRUCT: {
      int64_t c = 1;
      for (int i = 0; i < n->n_children; i++) c += count_elements(&n->children[i]);
      return c;
    }
    case PQW_LIST:
      return 2 + count_elements(&n->children[0]);
    case PQW_MAP: {
      const struct pqw_node* kv = &n->children[0];
      return 2 + count_elements(&kv->children[0]) + count_elements(&kv->children[1]);
    }
  }
  return 1;
}

static void write_node(struct pqw_thrift* t, const struct pqw_node* n) {
  int rep = n->nullable ? OTAP_PARQUET_OPTIONAL : OTAP_PARQUET_REQUIRED;
  switch (n->kind) {
    case PQW_LEAF:
      element(t, n, n->name, rep, -1, PQW_LT_NONE);
      break;
    case PQW_STRUCT:
      element(t, n, n->name, rep, n->n_children, PQW_LT_NONE);
      for (int i = 0; i < n->n_children; i++) write_node(t, &n->children[i]);
      break;
    case PQW_LIST:
      element(t, n, n->name, rep, 1, PQW_LT_LIST);
      element(t, NULL, "list", OTAP_PARQUET_REPEATED, 1, PQW_LT_NONE);
      write_node(t, &n->children[0]);
      break;
    case PQW_MAP: {
      const struct pqw_node* kv = &n->children[0];
      element(t, n, n->name, rep, 1, PQW_LT_MAP);
      element(t, NULL, "key_value", OTAP_PARQUET_REPEATED, 2, PQW_LT_NONE);
      write_node(t, &kv->children[0]);
      write_node(t, &kv->children[1]);
      break;
    }
  }
}

void otap__pqw_write_schema(struct pqw_thrift* t, int16_t id, const struct pqw_node* root,
                            const char* root_name) {
  int64_t n = count_elements(root);
  otap__pqw_tw_list_begin(t, id, PQW_T_STRUCT, n);
  element(t, NULL, root_name, -1, root->n_children, PQW_LT_NONE);
  for (int i = 0; i < root->n_children; i++) write_node(t, &root->children[i]);
}
