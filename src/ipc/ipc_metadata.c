// IPC metadata: Message / Schema / Field flatbuffers to and from C structs and ArrowSchema.
// Table layouts follow format/Message.fbs and format/Schema.fbs of the Arrow specification.
#include <stdio.h>
#include <string.h>

#include "ipc/ipc_internal.h"

// Type union members (Schema.fbs).
enum {
  T_NULL = 1, T_INT, T_FLOAT, T_BINARY, T_UTF8, T_BOOL, T_DECIMAL, T_DATE, T_TIME, T_TIMESTAMP,
  T_INTERVAL, T_LIST, T_STRUCT, T_UNION, T_FSB, T_FSL, T_MAP, T_DURATION, T_LARGE_BINARY,
  T_LARGE_UTF8, T_LARGE_LIST, T_REE, T_BINARY_VIEW, T_UTF8_VIEW, T_LIST_VIEW, T_LARGE_LIST_VIEW,
};

#define FB_ERR(err, tbl, ...) otap__fb_fail((err), (tbl)->fb, (tbl)->pos, __VA_ARGS__)

static const char kUnitChar[4] = {'s', 'm', 'u', 'n'};

int otap__ipc_parse_prefix(const uint8_t* data, size_t avail, int64_t offset, int64_t max_meta,
                           uint32_t* prefix_len, int64_t* meta_len, bool* legacy,
                           struct otap_error* err) {
  if (avail < 4) return EAGAIN;
  uint32_t first = otap_load_u32le(data);
  int32_t len;
  if (first == OTAP__IPC_CONTINUATION) {
    if (avail < 8) return EAGAIN;
    len = (int32_t)otap_load_u32le(data + 4);
    *prefix_len = 8;
    *legacy = false;
  } else {
    len = (int32_t)first;
    *prefix_len = 4;
    *legacy = true;
  }
  if (len < 0)
    return otap_error_set(err, EINVAL, "negative IPC message metadata length %d at byte offset %lld",
                          (int)len, (long long)offset);
  if (len > max_meta)
    return otap_error_set(err, EINVAL,
                          "IPC message metadata length %d at byte offset %lld exceeds the cap of "
                          "%lld bytes",
                          (int)len, (long long)offset, (long long)max_meta);
  *meta_len = len;
  return 0;
}

int otap__ipc_frame(struct otap_buffer* out, const uint8_t* fb, uint32_t fb_size,
                    struct otap_error* err) {
  uint32_t padded = (fb_size + 7u) & ~7u;
  uint8_t hdr[8];
  otap_store_u32le(hdr, OTAP__IPC_CONTINUATION);
  otap_store_u32le(hdr + 4, padded);
  int rc = otap_buffer_append(out, hdr, 8);
  if (!rc) rc = otap_buffer_append(out, fb, fb_size);
  if (!rc) rc = otap_buffer_append_fill(out, 0, padded - fb_size);
  if (rc) return otap_error_set(err, rc, "out of memory framing an IPC message");
  return 0;
}

static int decode_batch_meta(const struct otap__fb_table* rb, struct otap__ipc_batch_meta* out,
                             struct otap_error* err) {
  memset(out, 0, sizeof(*out));
  if (rb->pos == 0) return FB_ERR(err, rb, "batch message without RecordBatch table");
  struct otap__fb_vec v;
  OTAP_RETURN_NOT_OK(otap__fb_i64(rb, 0, 0, &out->length, err));
  if (out->length < 0) return FB_ERR(err, rb, "negative record batch length");
  OTAP_RETURN_NOT_OK(otap__fb_vector(rb, 1, 16, &v, err));
  out->nodes = v.len ? otap__fb_vec_elem(&v, 0, 16) : NULL;
  out->n_nodes = v.len;
  OTAP_RETURN_NOT_OK(otap__fb_vector(rb, 2, 16, &v, err));
  out->buffers = v.len ? otap__fb_vec_elem(&v, 0, 16) : NULL;
  out->n_buffers = v.len;
  OTAP_RETURN_NOT_OK(otap__fb_vector(rb, 4, 8, &v, err));
  out->variadic = v.len ? otap__fb_vec_elem(&v, 0, 8) : NULL;
  out->n_variadic = v.len;
  struct otap__fb_table comp;
  OTAP_RETURN_NOT_OK(otap__fb_table(rb, 3, &comp, err));
  out->compression = OTAP_IPC_COMPRESSION_NONE;
  if (comp.pos) {
    uint8_t codec, method;
    OTAP_RETURN_NOT_OK(otap__fb_u8(&comp, 0, 0, &codec, err));
    OTAP_RETURN_NOT_OK(otap__fb_u8(&comp, 1, 0, &method, err));
    if (method != 0)
      return otap_error_set(err, ENOTSUP, "unsupported body compression method %u", method);
    if (codec == 0)
      out->compression = OTAP_IPC_COMPRESSION_LZ4_FRAME;
    else if (codec == 1)
      out->compression = OTAP_IPC_COMPRESSION_ZSTD;
    else
      return otap_error_set(err, ENOTSUP, "unsupported body compression codec %u", codec);
  }
  return 0;
}

int otap__ipc_message_decode(const struct otap__fb* fb, struct otap__ipc_message* out,
                             struct otap_error* err) {
  memset(out, 0, sizeof(*out));
  struct otap__fb_table msg;
  OTAP_RETURN_NOT_OK(otap__fb_root(fb, &msg, err));
  OTAP_RETURN_NOT_OK(otap__fb_i16(&msg, 0, 0, &out->version, err));
  OTAP_RETURN_NOT_OK(otap__fb_u8(&msg, 1, 0, &out->header_type, err));
  OTAP_RETURN_NOT_OK(otap__fb_table(&msg, 2, &out->header, err));
  OTAP_RETURN_NOT_OK(otap__fb_i64(&msg, 3, 0, &out->body_length, err));
  if (out->version > OTAP__IPC_V5)
    return otap_error_set(err, ENOTSUP,
                          "IPC message at byte offset %lld has metadata version V%d, newer than "
                          "the V5 otap supports",
                          (long long)fb->base, out->version + 1);
  if (out->version < OTAP__IPC_V4)
    return otap_error_set(err, ENOTSUP,
                          "IPC message at byte offset %lld has metadata version V%d; only V4 and "
                          "V5 are supported",
                          (long long)fb->base, out->version + 1);
  if (out->body_length < 0)
    return otap_error_set(err, EINVAL, "negative IPC body length at byte offset %lld",
                          (long long)fb->base);
  switch (out->header_type) {
    case OTAP__MH_SCHEMA:
      if (!out->header.pos) return FB_ERR(err, &msg, "Schema message without header");
      return 0;
    case OTAP__MH_RECORD_BATCH:
      return decode_batch_meta(&out->header, &out->batch, err);
    case OTAP__MH_DICTIONARY: {
      if (!out->header.pos) return FB_ERR(err, &msg, "DictionaryBatch message without header");
      struct otap__fb_table data;
      OTAP_RETURN_NOT_OK(otap__fb_i64(&out->header, 0, 0, &out->dict_id, err));
      OTAP_RETURN_NOT_OK(otap__fb_bool(&out->header, 2, false, &out->is_delta, err));
      OTAP_RETURN_NOT_OK(otap__fb_table(&out->header, 1, &data, err));
      return decode_batch_meta(&data, &out->batch, err);
    }
    case OTAP__MH_TENSOR:
    case OTAP__MH_SPARSE_TENSOR:
      return otap_error_set(err, ENOTSUP,
                            "IPC message at byte offset %lld is a %s message; otap reads record "
                            "batches only",
                            (long long)fb->base,
                            out->header_type == OTAP__MH_TENSOR ? "Tensor" : "SparseTensor");
    default:
      return otap_error_set(err, EINVAL, "IPC message at byte offset %lld has unknown header type %u",
                            (long long)fb->base, out->header_type);
  }
}

// ---------------------------------------------------------------------------------------------
// Schema decoding

struct sdec {
  int32_t max_depth;
  struct otap__ipc_schema* out;
  struct otap_buffer fmt;
  struct otap_buffer md;
  int64_t cap_dicts;
};

static int decode_metadata(struct sdec* d, const struct otap__fb_table* t, int field,
                           struct ArrowSchema* node, struct otap_error* err) {
  struct otap__fb_vec v;
  OTAP_RETURN_NOT_OK(otap__fb_vector(t, field, 4, &v, err));
  if (v.len == 0) return 0;
  struct otap_metadata_entry* e = otap_calloc(v.len, sizeof(*e));
  if (!e) return otap_error_set(err, ENOMEM, "out of memory decoding custom_metadata");
  int rc = 0;
  for (uint32_t i = 0; i < v.len; i++) {
    struct otap__fb_table kv;
    const char* s;
    uint32_t n;
    OTAP_GOTO_NOT_OK(rc, otap__fb_vec_table(&v, i, &kv, err));
    OTAP_GOTO_NOT_OK(rc, otap__fb_string(&kv, 0, &s, &n, err));
    e[i].key = s ? s : "";
    e[i].key_len = (int32_t)n;
    OTAP_GOTO_NOT_OK(rc, otap__fb_string(&kv, 1, &s, &n, err));
    e[i].value = s ? s : "";
    e[i].value_len = (int32_t)n;
  }
  rc = otap_metadata_encode(&d->md, e, (int32_t)v.len);
  if (rc) {
    otap_error_set(err, rc, "cannot encode custom_metadata");
    goto done;
  }
  rc = otap_schema_set_metadata(node, (const char*)d->md.data);
  if (rc) otap_error_set(err, rc, "cannot set custom_metadata");
done:
  otap_free(e);
  return rc;
}

static int fmt_set(struct otap_buffer* b, const char* fmt, ...) OTAP_PRINTF(2, 3);
static int fmt_set(struct otap_buffer* b, const char* fmt, ...) {
  char tmp[64];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
  va_end(ap);
  b->size = 0;
  if (n < 0 || n >= (int)sizeof(tmp)) return EINVAL;
  int rc = otap_buffer_append(b, tmp, n + 1);
  return rc;
}

static int int_format(const struct otap__fb_table* t, struct otap_buffer* fmt,
                      struct otap_error* err) {
  int32_t bw;
  bool sign;
  OTAP_RETURN_NOT_OK(otap__fb_i32(t, 0, 0, &bw, err));
  OTAP_RETURN_NOT_OK(otap__fb_bool(t, 1, false, &sign, err));
  const char* f = NULL;
  switch (bw) {
    case 8: f = sign ? "c" : "C"; break;
    case 16: f = sign ? "s" : "S"; break;
    case 32: f = sign ? "i" : "I"; break;
    case 64: f = sign ? "l" : "L"; break;
    default:
      return FB_ERR(err, t, "Int bitWidth %d is not 8, 16, 32 or 64", (int)bw);
  }
  return fmt_set(fmt, "%s", f);
}

// Writes the C Data Interface format of the Field's type into d->fmt.
static int type_format(struct sdec* d, const struct otap__fb_table* field, uint8_t tt,
                       const struct otap__fb_table* t, uint32_t n_children, int16_t* map_sorted,
                       struct otap_error* err) {
  struct otap_buffer* f = &d->fmt;
  int16_t unit;
  int32_t i32;
  int rc = 0;
  if (tt != T_NULL && tt != 0 && t->pos == 0)
    return FB_ERR(err, field, "field type %u without its type table", tt);
  switch (tt) {
    case T_NULL: rc = fmt_set(f, "n"); break;
    case T_INT: return int_format(t, f, err);
    case T_FLOAT:
      OTAP_RETURN_NOT_OK(otap__fb_i16(t, 0, 0, &unit, err));
      if (unit < 0 || unit > 2) return FB_ERR(err, t, "FloatingPoint precision %d", unit);
      rc = fmt_set(f, "%c", "efg"[unit]);
      break;
    case T_BINARY: rc = fmt_set(f, "z"); break;
    case T_UTF8: rc = fmt_set(f, "u"); break;
    case T_BOOL: rc = fmt_set(f, "b"); break;
    case T_DECIMAL: {
      int32_t p, s, bw;
      OTAP_RETURN_NOT_OK(otap__fb_i32(t, 0, 0, &p, err));
      OTAP_RETURN_NOT_OK(otap__fb_i32(t, 1, 0, &s, err));
      OTAP_RETURN_NOT_OK(otap__fb_i32(t, 2, 128, &bw, err));
      if (bw != 32 && bw != 64 && bw != 128 && bw != 256)
        return FB_ERR(err, t, "Decimal bitWidth %d", (int)bw);
      if (p <= 0 || p > 76) return FB_ERR(err, t, "Decimal precision %d", (int)p);
      rc = bw == 128 ? fmt_set(f, "d:%d,%d", (int)p, (int)s)
                     : fmt_set(f, "d:%d,%d,%d", (int)p, (int)s, (int)bw);
      break;
    }
    case T_DATE:
      OTAP_RETURN_NOT_OK(otap__fb_i16(t, 0, 1, &unit, err));
      if (unit < 0 || unit > 1) return FB_ERR(err, t, "Date unit %d", unit);
      rc = fmt_set(f, "td%c", unit == 0 ? 'D' : 'm');
      break;
    case T_TIME:
      OTAP_RETURN_NOT_OK(otap__fb_i16(t, 0, 1, &unit, err));
      OTAP_RETURN_NOT_OK(otap__fb_i32(t, 1, 32, &i32, err));
      if (unit < 0 || unit > 3) return FB_ERR(err, t, "Time unit %d", unit);
      if ((unit <= 1 && i32 != 32) || (unit >= 2 && i32 != 64))
        return FB_ERR(err, t, "Time bitWidth %d does not match its unit", (int)i32);
      rc = fmt_set(f, "tt%c", kUnitChar[unit]);
      break;
    case T_TIMESTAMP: {
      const char* tz;
      uint32_t tzlen;
      OTAP_RETURN_NOT_OK(otap__fb_i16(t, 0, 0, &unit, err));
      OTAP_RETURN_NOT_OK(otap__fb_string(t, 1, &tz, &tzlen, err));
      if (unit < 0 || unit > 3) return FB_ERR(err, t, "Timestamp unit %d", unit);
      f->size = 0;
      rc = otap_buffer_appendf(f, "ts%c:", kUnitChar[unit]);
      if (!rc && tz) rc = otap_buffer_append(f, tz, tzlen);
      if (!rc) rc = otap_buffer_append(f, "", 1);
      break;
    }
    case T_INTERVAL:
      OTAP_RETURN_NOT_OK(otap__fb_i16(t, 0, 0, &unit, err));
      if (unit < 0 || unit > 2) return FB_ERR(err, t, "Interval unit %d", unit);
      rc = fmt_set(f, "ti%c", "MDn"[unit]);
      break;
    case T_LIST: rc = fmt_set(f, "+l"); break;
    case T_STRUCT: rc = fmt_set(f, "+s"); break;
    case T_UNION: {
      int16_t mode;
      struct otap__fb_vec ids;
      OTAP_RETURN_NOT_OK(otap__fb_i16(t, 0, 0, &mode, err));
      OTAP_RETURN_NOT_OK(otap__fb_vector(t, 1, 4, &ids, err));
      if (mode != 0 && mode != 1) return FB_ERR(err, t, "Union mode %d", mode);
      if (ids.len && ids.len != n_children)
        return FB_ERR(err, t, "Union has %u typeIds for %u children", ids.len, n_children);
      if (n_children > 127) return FB_ERR(err, t, "Union has %u children", n_children);
      f->size = 0;
      rc = otap_buffer_appendf(f, "+u%c:", mode ? 'd' : 's');
      for (uint32_t i = 0; !rc && i < n_children; i++) {
        int32_t id = ids.len ? (int32_t)otap_load_u32le(otap__fb_vec_elem(&ids, i, 4)) : (int32_t)i;
        if (id < 0 || id > 127) return FB_ERR(err, t, "Union type id %d out of range", (int)id);
        rc = otap_buffer_appendf(f, i ? ",%d" : "%d", (int)id);
      }
      if (!rc) rc = otap_buffer_append(f, "", 1);
      break;
    }
    case T_FSB:
      OTAP_RETURN_NOT_OK(otap__fb_i32(t, 0, 0, &i32, err));
      if (i32 < 0) return FB_ERR(err, t, "FixedSizeBinary byteWidth %d", (int)i32);
      rc = fmt_set(f, "w:%d", (int)i32);
      break;
    case T_FSL:
      OTAP_RETURN_NOT_OK(otap__fb_i32(t, 0, 0, &i32, err));
      if (i32 < 0) return FB_ERR(err, t, "FixedSizeList listSize %d", (int)i32);
      rc = fmt_set(f, "+w:%d", (int)i32);
      break;
    case T_MAP: {
      bool sorted;
      OTAP_RETURN_NOT_OK(otap__fb_bool(t, 0, false, &sorted, err));
      *map_sorted = sorted;
      rc = fmt_set(f, "+m");
      break;
    }
    case T_DURATION:
      OTAP_RETURN_NOT_OK(otap__fb_i16(t, 0, 1, &unit, err));
      if (unit < 0 || unit > 3) return FB_ERR(err, t, "Duration unit %d", unit);
      rc = fmt_set(f, "tD%c", kUnitChar[unit]);
      break;
    case T_LARGE_BINARY: rc = fmt_set(f, "Z"); break;
    case T_LARGE_UTF8: rc = fmt_set(f, "U"); break;
    case T_LARGE_LIST: rc = fmt_set(f, "+L"); break;
    case T_REE: rc = fmt_set(f, "+r"); break;
    case T_BINARY_VIEW: rc = fmt_set(f, "vz"); break;
    case T_UTF8_VIEW: rc = fmt_set(f, "vu"); break;
    case T_LIST_VIEW: rc = fmt_set(f, "+vl"); break;
    case T_LARGE_LIST_VIEW: rc = fmt_set(f, "+vL"); break;
    default:
      return otap_error_set(err, ENOTSUP, "field at byte offset %lld has unknown type %u",
                            (long long)(field->fb->base + field->pos), tt);
  }
  if (rc) return otap_error_set(err, rc, "cannot format type");
  return 0;
}

static int decode_field(struct sdec* d, const struct otap__fb_table* ft, struct ArrowSchema* node,
                        int depth, struct otap_error* err) {
  if (depth > d->max_depth)
    return FB_ERR(err, ft, "fields nested deeper than %d levels", (int)d->max_depth);
  const char* name;
  uint32_t name_len;
  bool nullable;
  uint8_t tt;
  struct otap__fb_table type, dict;
  struct otap__fb_vec children;
  int16_t map_sorted = 0;
  OTAP_RETURN_NOT_OK(otap__fb_string(ft, 0, &name, &name_len, err));
  OTAP_RETURN_NOT_OK(otap__fb_bool(ft, 1, false, &nullable, err));
  OTAP_RETURN_NOT_OK(otap__fb_u8(ft, 2, 0, &tt, err));
  OTAP_RETURN_NOT_OK(otap__fb_table(ft, 3, &type, err));
  OTAP_RETURN_NOT_OK(otap__fb_table(ft, 4, &dict, err));
  OTAP_RETURN_NOT_OK(otap__fb_vector(ft, 5, 4, &children, err));
  OTAP_RETURN_NOT_OK(type_format(d, ft, tt, &type, children.len, &map_sorted, err));

  int rc;
  struct ArrowSchema* value_node = node;  // where the type and children go
  if (dict.pos) {
    struct otap__fb_table index;
    bool ordered;
    int64_t id;
    OTAP_RETURN_NOT_OK(otap__fb_i64(&dict, 0, 0, &id, err));
    OTAP_RETURN_NOT_OK(otap__fb_table(&dict, 1, &index, err));
    OTAP_RETURN_NOT_OK(otap__fb_bool(&dict, 2, false, &ordered, err));
    struct otap_buffer ifmt;
    otap_buffer_init(&ifmt);
    if (index.pos) {
      rc = int_format(&index, &ifmt, err);
    } else {
      rc = fmt_set(&ifmt, "i");
    }
    if (!rc) rc = otap_schema_init(node, (const char*)ifmt.data);
    otap_buffer_reset(&ifmt);
    if (rc) return otap_error_set(err, rc, "cannot create dictionary index schema");
    if (ordered) node->flags |= ARROW_FLAG_DICTIONARY_ORDERED;
    OTAP_RETURN_NOT_OK(otap_schema_allocate_dictionary(node) ? otap_error_set(err, ENOMEM, "oom")
                                                              : 0);
    rc = otap_schema_init(node->dictionary, (const char*)d->fmt.data);
    if (rc) return otap_error_set(err, rc, "cannot create schema");
    value_node = node->dictionary;
    // record the dictionary id
    struct otap__ipc_schema* s = d->out;
    if (s->n_dicts == d->cap_dicts) {
      int64_t nc = d->cap_dicts ? d->cap_dicts * 2 : 8;
      int64_t* ids = otap_realloc(s->dict_ids, (size_t)nc * sizeof(int64_t));
      if (!ids) return otap_error_set(err, ENOMEM, "out of memory");
      s->dict_ids = ids;
      struct ArrowSchema** ns = otap_realloc(s->dict_nodes, (size_t)nc * sizeof(*ns));
      if (!ns) return otap_error_set(err, ENOMEM, "out of memory");
      s->dict_nodes = ns;
      d->cap_dicts = nc;
    }
    s->dict_ids[s->n_dicts] = id;
    s->dict_nodes[s->n_dicts] = node;
    s->n_dicts++;
  } else {
    rc = otap_schema_init(node, (const char*)d->fmt.data);
    if (rc) return otap_error_set(err, rc, "cannot create schema");
  }
  node->flags = (node->flags & ~(int64_t)ARROW_FLAG_NULLABLE) | (nullable ? ARROW_FLAG_NULLABLE : 0);
  if (map_sorted) value_node->flags |= ARROW_FLAG_MAP_KEYS_SORTED;
  if (name) {
    char* nm = otap_strndup(name, name_len);
    if (!nm) return otap_error_set(err, ENOMEM, "out of memory");
    rc = otap_schema_set_name(node, nm);
    otap_free(nm);
    if (rc) return otap_error_set(err, rc, "cannot set field name");
  }
  OTAP_RETURN_NOT_OK(decode_metadata(d, ft, 6, node, err));
  if (children.len) {
    if (otap_schema_allocate_children(value_node, children.len))
      return otap_error_set(err, ENOMEM, "out of memory allocating %u children", children.len);
    for (uint32_t i = 0; i < children.len; i++) {
      struct otap__fb_table ct;
      OTAP_RETURN_NOT_OK(otap__fb_vec_table(&children, i, &ct, err));
      OTAP_RETURN_NOT_OK(decode_field(d, &ct, value_node->children[i], depth + 1, err));
    }
  }
  return 0;
}

int otap__ipc_schema_decode(const struct otap__fb_table* tbl, int32_t max_depth,
                            struct otap__ipc_schema* out, struct otap_error* err) {
  memset(out, 0, sizeof(*out));
  struct sdec d = {.max_depth = max_depth > 0 ? max_depth : 64, .out = out};
  otap_buffer_init(&d.fmt);
  otap_buffer_init(&d.md);
  int16_t endianness;
  struct otap__fb_vec fields;
  int rc = 0;
  OTAP_GOTO_NOT_OK(rc, otap__fb_i16(tbl, 0, 0, &endianness, err));
  if (endianness != 0) {
    rc = otap_error_set(err, ENOTSUP,
                        "IPC schema at byte offset %lld is big-endian; otap reads little-endian "
                        "data only",
                        (long long)(tbl->fb->base + tbl->pos));
    goto done;
  }
  OTAP_GOTO_NOT_OK(rc, otap__fb_vector(tbl, 1, 4, &fields, err));
  if (otap_schema_init(&out->schema, "+s")) {
    rc = otap_error_set(err, ENOMEM, "out of memory");
    goto done;
  }
  out->schema.flags = 0;
  OTAP_GOTO_NOT_OK(rc, decode_metadata(&d, tbl, 2, &out->schema, err));
  if (fields.len) {
    if (otap_schema_allocate_children(&out->schema, fields.len)) {
      rc = otap_error_set(err, ENOMEM, "out of memory allocating %u fields", fields.len);
      goto done;
    }
    for (uint32_t i = 0; i < fields.len; i++) {
      struct otap__fb_table ft;
      OTAP_GOTO_NOT_OK(rc, otap__fb_vec_table(&fields, i, &ft, err));
      OTAP_GOTO_NOT_OK(rc, decode_field(&d, &ft, out->schema.children[i], 1, err));
    }
  }
  // ids must be unique unless shared by fields with equal value types
  for (int64_t i = 0; i < out->n_dicts; i++) {
    for (int64_t j = 0; j < i; j++) {
      if (out->dict_ids[i] == out->dict_ids[j] &&
          !otap_schema_equal(out->dict_nodes[i]->dictionary, out->dict_nodes[j]->dictionary,
                             false)) {
        rc = otap_error_set(err, EINVAL,
                            "IPC schema: dictionary id %lld is used by fields of different types",
                            (long long)out->dict_ids[i]);
        goto done;
      }
    }
  }
done:
  otap_buffer_reset(&d.fmt);
  otap_buffer_reset(&d.md);
  if (rc) otap__ipc_schema_reset(out);
  return rc;
}

void otap__ipc_schema_reset(struct otap__ipc_schema* s) {
  otap_schema_release(&s->schema);
  otap_free(s->dict_ids);
  otap_free(s->dict_nodes);
  memset(s, 0, sizeof(*s));
}

int64_t otap__ipc_schema_find_dict(const struct otap__ipc_schema* s, int64_t id) {
  for (int64_t i = 0; i < s->n_dicts; i++)
    if (s->dict_ids[i] == id) return i;
  return -1;
}

// ---------------------------------------------------------------------------------------------
// Schema building

struct sbuild {
  struct otap__fbb* b;
  int64_t next_dict_id;
};

static uint32_t build_metadata(struct otap__fbb* b, const char* metadata, const char* extra,
                               struct otap_error* err, int* rc) {
  int32_t n1 = 0, n2 = 0;
  if ((*rc = otap_metadata_count(metadata, &n1, err))) return 0;
  if ((*rc = otap_metadata_count(extra, &n2, err))) return 0;
  if (n1 + n2 == 0) return 0;
  uint32_t* refs = otap_calloc((size_t)(n1 + n2), sizeof(uint32_t));
  if (!refs) {
    *rc = otap_error_set(err, ENOMEM, "out of memory");
    return 0;
  }
  for (int32_t i = 0; i < n1 + n2; i++) {
    struct otap_metadata_entry e;
    if ((*rc = otap_metadata_get_entry(i < n1 ? metadata : extra, i < n1 ? i : i - n1, &e, err))) {
      otap_free(refs);
      return 0;
    }
    uint32_t k = otap__fbb_string(b, e.key, (size_t)e.key_len);
    uint32_t v = otap__fbb_string(b, e.value, (size_t)e.value_len);
    otap__fbb_start(b);
    otap__fbb_add_offset(b, 0, k);
    otap__fbb_add_offset(b, 1, v);
    refs[i] = otap__fbb_end(b);
  }
  uint32_t r = otap__fbb_offset_vector(b, refs, (uint32_t)(n1 + n2));
  otap_free(refs);
  return r;
}

static uint32_t int_table(struct otap__fbb* b, int bw, bool sign) {
  otap__fbb_start(b);
  otap__fbb_add_i32(b, 0, bw);
  otap__fbb_add_u8(b, 1, sign);
  return otap__fbb_end(b);
}

static bool int_info(enum otap_type t, int* bw, bool* sign) {
  switch (t) {
    case OTAP_TYPE_INT8: *bw = 8; *sign = true; return true;
    case OTAP_TYPE_UINT8: *bw = 8; *sign = false; return true;
    case OTAP_TYPE_INT16: *bw = 16; *sign = true; return true;
    case OTAP_TYPE_UINT16: *bw = 16; *sign = false; return true;
    case OTAP_TYPE_INT32: *bw = 32; *sign = true; return true;
    case OTAP_TYPE_UINT32: *bw = 32; *sign = false; return true;
    case OTAP_TYPE_INT64: *bw = 64; *sign = true; return true;
    case OTAP_TYPE_UINT64: *bw = 64; *sign = false; return true;
    default: return false;
  }
}

// Builds the Type table of a (non-dictionary) node. *tt receives the union member.
static int build_type(struct otap__fbb* b, const struct otap_schema_view* sv, uint8_t* tt,
                      uint32_t* ref, struct otap_error* err) {
  int bw;
  bool sign;
  uint32_t extra = 0;
  if (int_info(sv->type, &bw, &sign)) {
    *tt = T_INT;
    *ref = int_table(b, bw, sign);
    return 0;
  }
  if (sv->type == OTAP_TYPE_TIMESTAMP && sv->timezone_len > 0)
    extra = otap__fbb_string(b, sv->timezone, (size_t)sv->timezone_len);
  if (sv->type == OTAP_TYPE_DENSE_UNION || sv->type == OTAP_TYPE_SPARSE_UNION) {
    int32_t ids[128];
    for (int i = 0; i < sv->n_union_type_ids; i++) ids[i] = sv->union_type_ids[i];
    extra = otap__fbb_vector(b, ids, (uint32_t)sv->n_union_type_ids, 4, 4);
  }
  otap__fbb_start(b);
  switch (sv->type) {
    case OTAP_TYPE_NA: *tt = T_NULL; break;
    case OTAP_TYPE_BOOL: *tt = T_BOOL; break;
    case OTAP_TYPE_HALF_FLOAT: *tt = T_FLOAT; otap__fbb_add_i16(b, 0, 0); break;
    case OTAP_TYPE_FLOAT: *tt = T_FLOAT; otap__fbb_add_i16(b, 0, 1); break;
    case OTAP_TYPE_DOUBLE: *tt = T_FLOAT; otap__fbb_add_i16(b, 0, 2); break;
    case OTAP_TYPE_DECIMAL32:
    case OTAP_TYPE_DECIMAL64:
    case OTAP_TYPE_DECIMAL128:
    case OTAP_TYPE_DECIMAL256:
      *tt = T_DECIMAL;
      otap__fbb_add_i32(b, 0, sv->decimal_precision);
      otap__fbb_add_i32(b, 1, sv->decimal_scale);
      otap__fbb_add_i32(b, 2, sv->decimal_bitwidth);
      break;
    case OTAP_TYPE_STRING: *tt = T_UTF8; break;
    case OTAP_TYPE_LARGE_STRING: *tt = T_LARGE_UTF8; break;
    case OTAP_TYPE_BINARY: *tt = T_BINARY; break;
    case OTAP_TYPE_LARGE_BINARY: *tt = T_LARGE_BINARY; break;
    case OTAP_TYPE_FIXED_SIZE_BINARY: *tt = T_FSB; otap__fbb_add_i32(b, 0, sv->fixed_size); break;
    case OTAP_TYPE_DATE32: *tt = T_DATE; otap__fbb_add_i16(b, 0, 0); break;
    case OTAP_TYPE_DATE64: *tt = T_DATE; otap__fbb_add_i16(b, 0, 1); break;
    case OTAP_TYPE_TIME32:
    case OTAP_TYPE_TIME64:
      *tt = T_TIME;
      otap__fbb_add_i16(b, 0, (int16_t)sv->time_unit);
      otap__fbb_add_i32(b, 1, sv->type == OTAP_TYPE_TIME32 ? 32 : 64);
      break;
    case OTAP_TYPE_TIMESTAMP:
      *tt = T_TIMESTAMP;
      otap__fbb_add_i16(b, 0, (int16_t)sv->time_unit);
      otap__fbb_add_offset(b, 1, extra);
      break;
    case OTAP_TYPE_DURATION: *tt = T_DURATION; otap__fbb_add_i16(b, 0, (int16_t)sv->time_unit); break;
    case OTAP_TYPE_INTERVAL_MONTHS: *tt = T_INTERVAL; otap__fbb_add_i16(b, 0, 0); break;
    case OTAP_TYPE_INTERVAL_DAY_TIME: *tt = T_INTERVAL; otap__fbb_add_i16(b, 0, 1); break;
    case OTAP_TYPE_INTERVAL_MONTH_DAY_NANO: *tt = T_INTERVAL; otap__fbb_add_i16(b, 0, 2); break;
    case OTAP_TYPE_STRUCT: *tt = T_STRUCT; break;
    case OTAP_TYPE_LIST: *tt = T_LIST; break;
    case OTAP_TYPE_LARGE_LIST: *tt = T_LARGE_LIST; break;
    case OTAP_TYPE_FIXED_SIZE_LIST: *tt = T_FSL; otap__fbb_add_i32(b, 0, sv->fixed_size); break;
    case OTAP_TYPE_MAP:
      *tt = T_MAP;
      otap__fbb_add_u8(b, 0, (sv->schema->flags & ARROW_FLAG_MAP_KEYS_SORTED) != 0);
      break;
    case OTAP_TYPE_DENSE_UNION:
    case OTAP_TYPE_SPARSE_UNION:
      *tt = T_UNION;
      otap__fbb_add_i16(b, 0, sv->type == OTAP_TYPE_DENSE_UNION ? 1 : 0);
      otap__fbb_add_offset(b, 1, extra);
      break;
    case OTAP_TYPE_RUN_END_ENCODED: *tt = T_REE; break;
    case OTAP_TYPE_STRING_VIEW: *tt = T_UTF8_VIEW; break;
    case OTAP_TYPE_BINARY_VIEW: *tt = T_BINARY_VIEW; break;
    case OTAP_TYPE_LIST_VIEW: *tt = T_LIST_VIEW; break;
    case OTAP_TYPE_LARGE_LIST_VIEW: *tt = T_LARGE_LIST_VIEW; break;
    default:
      otap__fbb_end(b);
      return otap_error_set(err, ENOTSUP, "cannot write type %s to IPC", otap_type_name(sv->type));
  }
  *ref = otap__fbb_end(b);
  return 0;
}

static int build_field(struct sbuild* s, const struct ArrowSchema* node, int depth, uint32_t* out,
                       struct otap_error* err) {
  struct otap__fbb* b = s->b;
  if (depth > 64) return otap_error_set(err, EINVAL, "schema nested deeper than 64 levels");
  struct otap_schema_view sv, vsv;
  OTAP_RETURN_NOT_OK(otap_schema_view_init(&sv, node, err));
  const struct ArrowSchema* value = node;
  uint32_t dict_ref = 0;
  if (node->dictionary) {
    int bw;
    bool sign;
    if (!int_info(sv.storage_type, &bw, &sign))
      return otap_error_set(err, EINVAL, "dictionary index type of field '%s' is not an integer",
                            node->name ? node->name : "");
    uint32_t it = int_table(b, bw, sign);
    otap__fbb_start(b);
    otap__fbb_add_i64(b, 0, s->next_dict_id++);
    otap__fbb_add_offset(b, 1, it);
    if (node->flags & ARROW_FLAG_DICTIONARY_ORDERED) otap__fbb_add_u8(b, 2, 1);
    dict_ref = otap__fbb_end(b);
    value = node->dictionary;
    OTAP_RETURN_NOT_OK(otap_schema_view_init(&vsv, value, err));
  } else {
    vsv = sv;
  }
  uint32_t* kids = NULL;
  uint32_t kids_ref = 0;
  int rc = 0;
  if (value->n_children > 0) {
    kids = otap_calloc((size_t)value->n_children, sizeof(uint32_t));
    if (!kids) return otap_error_set(err, ENOMEM, "out of memory");
    for (int64_t i = 0; i < value->n_children; i++) {
      rc = build_field(s, value->children[i], depth + 1, &kids[i], err);
      if (rc) {
        otap_free(kids);
        return rc;
      }
    }
    kids_ref = otap__fbb_offset_vector(b, kids, (uint32_t)value->n_children);
    otap_free(kids);
  } else {
    kids_ref = otap__fbb_offset_vector(b, NULL, 0);
  }
  uint8_t tt = 0;
  uint32_t type_ref = 0;
  OTAP_RETURN_NOT_OK(build_type(b, &vsv, &tt, &type_ref, err));
  uint32_t name_ref = otap__fbb_string(b, node->name ? node->name : "",
                                       node->name ? strlen(node->name) : 0);
  uint32_t md_ref = build_metadata(b, node->metadata, NULL, err, &rc);
  if (rc) return rc;
  otap__fbb_start(b);
  otap__fbb_add_offset(b, 0, name_ref);
  otap__fbb_add_u8(b, 1, (node->flags & ARROW_FLAG_NULLABLE) != 0);
  otap__fbb_add_u8(b, 2, tt);
  otap__fbb_add_offset(b, 3, type_ref);
  otap__fbb_add_offset(b, 4, dict_ref);
  otap__fbb_add_offset(b, 5, kids_ref);
  otap__fbb_add_offset(b, 6, md_ref);
  *out = otap__fbb_end(b);
  return b->err ? otap_error_set(err, b->err, "out of memory building schema") : 0;
}

int otap__ipc_schema_build(struct otap__fbb* b, const struct ArrowSchema* schema,
                           const char* extra_metadata, uint32_t* out_ref, struct otap_error* err) {
  if (!schema || !schema->format || strcmp(schema->format, "+s") != 0)
    return otap_error_set(err, EINVAL, "IPC schema must be a struct schema (format \"+s\")");
  struct sbuild s = {.b = b, .next_dict_id = 0};
  uint32_t* refs = NULL;
  int rc = 0;
  if (schema->n_children > 0) {
    refs = otap_calloc((size_t)schema->n_children, sizeof(uint32_t));
    if (!refs) return otap_error_set(err, ENOMEM, "out of memory");
    for (int64_t i = 0; i < schema->n_children; i++) {
      OTAP_GOTO_NOT_OK(rc, build_field(&s, schema->children[i], 1, &refs[i], err));
    }
  }
  uint32_t fields = otap__fbb_offset_vector(b, refs, (uint32_t)schema->n_children);
  uint32_t md = build_metadata(b, schema->metadata, extra_metadata, err, &rc);
  if (rc) goto done;
  otap__fbb_start(b);
  otap__fbb_add_i16(b, 0, 0);
  otap__fbb_add_offset(b, 1, fields);
  otap__fbb_add_offset(b, 2, md);
  *out_ref = otap__fbb_end(b);
  if (b->err) rc = otap_error_set(err, b->err, "out of memory building schema");
done:
  otap_free(refs);
  return rc;
}
