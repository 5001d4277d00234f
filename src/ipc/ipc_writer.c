// IPC writers (stream and file format): Schema, DictionaryBatch and RecordBatch messages with
// optional LZ4_FRAME / ZSTD body compression. Sliced arrays (offset != 0) are written by
// slicing buffers (bitmaps shifted and offsets rebased when needed).
#include <string.h>

#include "ipc/ipc_internal.h"

struct seg {
  const uint8_t* data;
  int64_t len;
  bool has_prefix;
  int64_t prefix;
  uint8_t* owned;
};

struct dyn {
  uint8_t* data;
  int64_t size, cap;
};

static int dyn_push(struct dyn* d, const void* v, int64_t n) {
  if (d->size + n > d->cap) {
    int64_t nc = d->cap ? d->cap * 2 : 256;
    while (nc < d->size + n) nc *= 2;
    uint8_t* p = otap_realloc(d->data, (size_t)nc);
    if (!p) return ENOMEM;
    d->data = p;
    d->cap = nc;
  }
  memcpy(d->data + d->size, v, (size_t)n);
  d->size += n;
  return 0;
}

struct enc {
  struct otap_ipc_writer* w;
  struct dyn nodes, buffers, variadic, segs;
  int64_t body_len;
};

struct dict_slot {
  const struct ArrowSchema* node;  // index node in the writer's schema copy
  int64_t id;
  struct ArrowArray last;  // last dictionary written (release NULL: none)
};

struct otap_ipc_writer {
  struct otap_sink* sink;
  enum otap_ipc_format format;
  struct otap_ipc_write_options opts;
  struct ArrowSchema schema;
  struct dict_slot* dicts;
  int64_t n_dicts;
  int64_t written;
  struct dyn dict_blocks, batch_blocks;
  bool finished;
  struct otap_buffer scratch;
  struct otap__ipc_codecs codecs;
};

static const uint8_t kZeroPad[8];

static int sink_write(struct otap_ipc_writer* w, const void* data, int64_t n, struct otap_error* err) {
  if (n <= 0) return 0;
  OTAP_RETURN_NOT_OK(w->sink->write(w->sink, data, (size_t)n, err));
  w->written += n;
  return 0;
}

void otap_ipc_write_options_init(struct otap_ipc_write_options* opts) {
  memset(opts, 0, sizeof(*opts));
  opts->write_eos = true;
}

static void enc_reset(struct enc* e) {
  struct seg* s = (struct seg*)e->segs.data;
  for (int64_t i = 0; i < e->segs.size / (int64_t)sizeof(struct seg); i++) otap_free(s[i].owned);
  otap_free(e->nodes.data);
  otap_free(e->buffers.data);
  otap_free(e->variadic.data);
  otap_free(e->segs.data);
  memset(e, 0, sizeof(*e));
}

// Adds a body buffer. `owned` (may be NULL) is freed with the encoder.
static int add_buffer(struct enc* e, const uint8_t* data, int64_t len, uint8_t* owned,
                      struct otap_error* err) {
  struct otap_ipc_writer* w = e->w;
  struct seg s = {data, len, false, 0, owned};
  int64_t total = len;
  if (len > 0 && w->opts.compression != OTAP_IPC_COMPRESSION_NONE) {
    s.has_prefix = true;
    s.prefix = -1;
    total = len + 8;
    if (len >= w->opts.min_compress_size) {
      int64_t bound = otap__ipc_compress_bound(w->opts.compression, len);
      uint8_t* c = otap_malloc((size_t)bound);
      if (!c) {
        otap_free(owned);
        return otap_error_set(err, ENOMEM, "out of memory compressing %lld bytes", (long long)len);
      }
      int64_t clen;
      int rc = otap__ipc_compress(&w->codecs, w->opts.compression, w->opts.compression_level,
                                  data, len, c, bound, &clen, err);
      if (rc) {
        otap_free(c);
        otap_free(owned);
        return rc;
      }
      if (clen < len) {
        otap_free(owned);
        s.data = c;
        s.len = clen;
        s.owned = c;
        s.prefix = len;
        total = clen + 8;
      } else {
        otap_free(c);
      }
    }
  }
  int64_t spec[2] = {e->body_len, total};
  if (dyn_push(&e->buffers, spec, 16) || dyn_push(&e->segs, &s, sizeof(s))) {
    otap_free(s.owned);
    return otap_error_set(err, ENOMEM, "out of memory");
  }
  e->body_len += (total + 7) & ~(int64_t)7;
  return 0;
}

static int add_bitmap(struct enc* e, const uint8_t* bits, int64_t abs, int64_t len,
                      struct otap_error* err) {
  int64_t nbytes = otap_bytes_for_bits(len);
  if (!bits) {
    if (len != 0) return otap_error_set(err, EINVAL, "bitmap buffer missing");
    return add_buffer(e, NULL, 0, NULL, err);
  }
  if ((abs & 7) == 0) return add_buffer(e, bits + (abs >> 3), nbytes, NULL, err);
  uint8_t* c = otap_calloc(1, (size_t)(nbytes ? nbytes : 1));
  if (!c) return otap_error_set(err, ENOMEM, "out of memory");
  otap_bitmap_copy(c, 0, bits, abs, len);
  return add_buffer(e, c, nbytes, c, err);
}

static inline const uint8_t* at(const uint8_t* p, int64_t off) { return p ? p + off : NULL; }

static int add_offsets(struct enc* e, const uint8_t* offs, int width, int64_t abs, int64_t len,
                       int64_t* start, int64_t* end, struct otap_error* err) {
  int64_t first, last;
  static const int64_t zero = 0;
  if (!offs) {  // producers may leave the offsets of an empty array NULL
    if (len != 0) return otap_error_set(err, EINVAL, "offsets buffer missing");
    *start = *end = 0;
    return add_buffer(e, (const uint8_t*)&zero, width, NULL, err);
  }
  if (width == 4) {
    const int32_t* o = (const int32_t*)(const void*)offs;
    first = o[abs];
    last = o[abs + len];
  } else {
    const int64_t* o = (const int64_t*)(const void*)offs;
    first = o[abs];
    last = o[abs + len];
  }
  *start = first;
  *end = last;
  if (first == 0) return add_buffer(e, offs + abs * width, (len + 1) * width, NULL, err);
  uint8_t* c = otap_malloc((size_t)((len + 1) * width));
  if (!c) return otap_error_set(err, ENOMEM, "out of memory");
  if (width == 4) {
    const int32_t* o = (const int32_t*)(const void*)offs + abs;
    int32_t* d = (int32_t*)(void*)c;
    for (int64_t i = 0; i <= len; i++) d[i] = (int32_t)(o[i] - first);
  } else {
    const int64_t* o = (const int64_t*)(const void*)offs + abs;
    int64_t* d = (int64_t*)(void*)c;
    for (int64_t i = 0; i <= len; i++) d[i] = o[i] - first;
  }
  return add_buffer(e, c, (len + 1) * width, c, err);
}

static int fixed_width_bytes(enum otap_type t, const struct otap_schema_view* sv) {
  switch (t) {
    case OTAP_TYPE_INT8: case OTAP_TYPE_UINT8: return 1;
    case OTAP_TYPE_INT16: case OTAP_TYPE_UINT16: case OTAP_TYPE_HALF_FLOAT: return 2;
    case OTAP_TYPE_INT32: case OTAP_TYPE_UINT32: case OTAP_TYPE_FLOAT: case OTAP_TYPE_DATE32:
    case OTAP_TYPE_TIME32: case OTAP_TYPE_INTERVAL_MONTHS: case OTAP_TYPE_DECIMAL32: return 4;
    case OTAP_TYPE_INT64: case OTAP_TYPE_UINT64: case OTAP_TYPE_DOUBLE: case OTAP_TYPE_DATE64:
    case OTAP_TYPE_TIME64: case OTAP_TYPE_TIMESTAMP: case OTAP_TYPE_DURATION:
    case OTAP_TYPE_INTERVAL_DAY_TIME: case OTAP_TYPE_DECIMAL64: return 8;
    case OTAP_TYPE_DECIMAL128: case OTAP_TYPE_INTERVAL_MONTH_DAY_NANO: return 16;
    case OTAP_TYPE_DECIMAL256: return 32;
    case OTAP_TYPE_FIXED_SIZE_BINARY: return sv->fixed_size;
    default: return -1;
  }
}

static int emit_node(struct enc* e, const struct ArrowSchema* node, const struct ArrowArray* a,
                     int64_t off, int64_t len, int depth, struct otap_error* err) {
  struct otap_schema_view sv;
  OTAP_RETURN_NOT_OK(otap_schema_view_init(&sv, node, err));
  if (depth > 64) return otap_error_set(err, EINVAL, "array nested too deeply");
  enum otap_type st = sv.storage_type;
  int64_t abs = a->offset + off;
  const uint8_t* const* bufs = (const uint8_t* const*)a->buffers;
  bool has_validity = !(st == OTAP_TYPE_NA || st == OTAP_TYPE_SPARSE_UNION ||
                        st == OTAP_TYPE_DENSE_UNION || st == OTAP_TYPE_RUN_END_ENCODED);
  int64_t nc = 0;
  if (st == OTAP_TYPE_NA) nc = len;
  if (has_validity && a->n_buffers > 0 && bufs[0] && a->null_count != 0)
    nc = len - otap_bitmap_count_set(bufs[0], abs, len);
  int64_t fn[2] = {len, nc};
  if (dyn_push(&e->nodes, fn, 16)) return otap_error_set(err, ENOMEM, "out of memory");
  if (has_validity) {
    if (nc > 0) {
      OTAP_RETURN_NOT_OK(add_bitmap(e, bufs[0], abs, len, err));
    } else {
      OTAP_RETURN_NOT_OK(add_buffer(e, NULL, 0, NULL, err));
    }
  }
  int w = fixed_width_bytes(st, &sv);
  if (w >= 0) return add_buffer(e, at(bufs[1], abs * w), bufs[1] ? len * w : 0, NULL, err);
  int64_t start, end;
  switch (st) {
    case OTAP_TYPE_NA: return 0;
    case OTAP_TYPE_BOOL: return add_bitmap(e, bufs[1], abs, len, err);
    case OTAP_TYPE_STRING:
    case OTAP_TYPE_BINARY:
    case OTAP_TYPE_LARGE_STRING:
    case OTAP_TYPE_LARGE_BINARY: {
      int ow = (st == OTAP_TYPE_STRING || st == OTAP_TYPE_BINARY) ? 4 : 8;
      OTAP_RETURN_NOT_OK(add_offsets(e, bufs[1], ow, abs, len, &start, &end, err));
      return add_buffer(e, at(bufs[2], start), end - start, NULL, err);
    }
    case OTAP_TYPE_LIST:
    case OTAP_TYPE_LARGE_LIST:
    case OTAP_TYPE_MAP: {
      int ow = st == OTAP_TYPE_LARGE_LIST ? 8 : 4;
      OTAP_RETURN_NOT_OK(add_offsets(e, bufs[1], ow, abs, len, &start, &end, err));
      return emit_node(e, node->children[0], a->children[0], start, end - start, depth + 1, err);
    }
    case OTAP_TYPE_FIXED_SIZE_LIST:
      return emit_node(e, node->children[0], a->children[0], abs * sv.fixed_size,
                       len * sv.fixed_size, depth + 1, err);
    case OTAP_TYPE_STRUCT:
      for (int64_t i = 0; i < node->n_children; i++)
        OTAP_RETURN_NOT_OK(emit_node(e, node->children[i], a->children[i], abs, len, depth + 1, err));
      return 0;
    case OTAP_TYPE_SPARSE_UNION:
      OTAP_RETURN_NOT_OK(add_buffer(e, at(bufs[0], abs), len, NULL, err));
      for (int64_t i = 0; i < node->n_children; i++)
        OTAP_RETURN_NOT_OK(emit_node(e, node->children[i], a->children[i], abs, len, depth + 1, err));
      return 0;
    case OTAP_TYPE_DENSE_UNION:
      OTAP_RETURN_NOT_OK(add_buffer(e, at(bufs[0], abs), len, NULL, err));
      OTAP_RETURN_NOT_OK(add_buffer(e, at(bufs[1], abs * 4), len * 4, NULL, err));
      for (int64_t i = 0; i < node->n_children; i++)
        OTAP_RETURN_NOT_OK(emit_node(e, node->children[i], a->children[i], 0,
                                     a->children[i]->length, depth + 1, err));
      return 0;
    case OTAP_TYPE_RUN_END_ENCODED:
      if (abs != 0 || len != a->length)
        return otap_error_set(err, ENOTSUP, "writing a slice of a run-end encoded array");
      for (int i = 0; i < 2; i++)
        OTAP_RETURN_NOT_OK(emit_node(e, node->children[i], a->children[i], 0,
                                     a->children[i]->length, depth + 1, err));
      return 0;
    case OTAP_TYPE_LIST_VIEW:
    case OTAP_TYPE_LARGE_LIST_VIEW: {
      int ow = st == OTAP_TYPE_LIST_VIEW ? 4 : 8;
      OTAP_RETURN_NOT_OK(add_buffer(e, at(bufs[1], abs * ow), len * ow, NULL, err));
      OTAP_RETURN_NOT_OK(add_buffer(e, at(bufs[2], abs * ow), len * ow, NULL, err));
      return emit_node(e, node->children[0], a->children[0], 0, a->children[0]->length, depth + 1,
                       err);
    }
    case OTAP_TYPE_STRING_VIEW:
    case OTAP_TYPE_BINARY_VIEW: {
      int64_t nv = a->n_buffers - 3;
      if (nv < 0) return otap_error_set(err, EINVAL, "view array with %lld buffers", (long long)a->n_buffers);
      const int64_t* sizes = (const int64_t*)a->buffers[a->n_buffers - 1];
      OTAP_RETURN_NOT_OK(add_buffer(e, at(bufs[1], abs * 16), len * 16, NULL, err));
      for (int64_t i = 0; i < nv; i++)
        OTAP_RETURN_NOT_OK(add_buffer(e, bufs[2 + i], sizes ? sizes[i] : 0, NULL, err));
      if (dyn_push(&e->variadic, &nv, 8)) return otap_error_set(err, ENOMEM, "out of memory");
      return 0;
    }
    default:
      return otap_error_set(err, ENOTSUP, "cannot write arrays of type %s to IPC",
                            otap_type_name(st));
  }
}

// Message flatbuffer for a RecordBatch (dict_id >= 0: wrapped in a DictionaryBatch).
static int write_batch_message(struct otap_ipc_writer* w, struct enc* e, int64_t length,
                               int64_t dict_id, bool is_delta, struct dyn* blocks,
                               struct otap_error* err) {
  struct otap__fbb b;
  otap__fbb_init(&b);
  int rc = 0;
  uint32_t nodes = otap__fbb_vector(&b, e->nodes.data, (uint32_t)(e->nodes.size / 16), 16, 8);
  uint32_t bufs = otap__fbb_vector(&b, e->buffers.data, (uint32_t)(e->buffers.size / 16), 16, 8);
  uint32_t var = 0;
  if (e->variadic.size) var = otap__fbb_vector(&b, e->variadic.data, (uint32_t)(e->variadic.size / 8), 8, 8);
  uint32_t comp = 0;
  if (w->opts.compression != OTAP_IPC_COMPRESSION_NONE) {
    otap__fbb_start(&b);
    otap__fbb_add_u8(&b, 0, w->opts.compression == OTAP_IPC_COMPRESSION_ZSTD ? 1 : 0);
    otap__fbb_add_u8(&b, 1, 0);
    comp = otap__fbb_end(&b);
  }
  otap__fbb_start(&b);
  otap__fbb_add_i64(&b, 0, length);
  otap__fbb_add_offset(&b, 1, nodes);
  otap__fbb_add_offset(&b, 2, bufs);
  otap__fbb_add_offset(&b, 3, comp);
  otap__fbb_add_offset(&b, 4, var);
  uint32_t header = otap__fbb_end(&b);
  uint8_t type = OTAP__MH_RECORD_BATCH;
  if (dict_id >= 0) {
    otap__fbb_start(&b);
    otap__fbb_add_i64(&b, 0, dict_id);
    otap__fbb_add_offset(&b, 1, header);
    otap__fbb_add_u8(&b, 2, is_delta);
    header = otap__fbb_end(&b);
    type = OTAP__MH_DICTIONARY;
  }
  otap__fbb_start(&b);
  otap__fbb_add_i16(&b, 0, OTAP__IPC_V5);
  otap__fbb_add_u8(&b, 1, type);
  otap__fbb_add_offset(&b, 2, header);
  otap__fbb_add_i64(&b, 3, e->body_len);
  uint32_t root = otap__fbb_end(&b);
  const uint8_t* fb;
  uint32_t fb_size;
  if (otap__fbb_finish(&b, root, &fb, &fb_size)) {
    otap__fbb_reset(&b);
    return otap_error_set(err, ENOMEM, "out of memory building an IPC message");
  }
  w->scratch.size = 0;
  rc = otap__ipc_frame(&w->scratch, fb, fb_size, err);
  otap__fbb_reset(&b);
  if (rc) return rc;
  int64_t block[3] = {w->written, 0, e->body_len};
  uint8_t blk[24];
  otap_store_u64le(blk, (uint64_t)block[0]);
  otap_store_u32le(blk + 8, (uint32_t)w->scratch.size);
  otap_store_u32le(blk + 12, 0);
  otap_store_u64le(blk + 16, (uint64_t)block[2]);
  if (blocks && dyn_push(blocks, blk, 24)) return otap_error_set(err, ENOMEM, "out of memory");
  OTAP_RETURN_NOT_OK(sink_write(w, w->scratch.data, w->scratch.size, err));
  struct seg* s = (struct seg*)e->segs.data;
  int64_t n = e->segs.size / (int64_t)sizeof(struct seg);
  for (int64_t i = 0; i < n; i++) {
    int64_t total = s[i].len;
    if (s[i].has_prefix) {
      uint8_t p[8];
      otap_store_u64le(p, (uint64_t)s[i].prefix);
      OTAP_RETURN_NOT_OK(sink_write(w, p, 8, err));
      total += 8;
    }
    OTAP_RETURN_NOT_OK(sink_write(w, s[i].data, s[i].len, err));
    OTAP_RETURN_NOT_OK(sink_write(w, kZeroPad, ((total + 7) & ~(int64_t)7) - total, err));
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Dictionaries

static void collect_dicts(struct otap_ipc_writer* w, const struct ArrowSchema* node, int64_t* n,
                          bool fill) {
  if (node->dictionary) {
    if (fill) {
      w->dicts[*n].node = node;
      w->dicts[*n].id = *n;
    }
    (*n)++;
    for (int64_t i = 0; i < node->dictionary->n_children; i++)
      collect_dicts(w, node->dictionary->children[i], n, fill);
    return;
  }
  for (int64_t i = 0; i < node->n_children; i++) collect_dicts(w, node->children[i], n, fill);
}

// Finds the array of each dictionary slot in a batch (same pre-order walk).
static void find_dict_arrays(const struct ArrowSchema* node, const struct ArrowArray* a,
                             const struct ArrowArray** out, int64_t* n) {
  if (node->dictionary) {
    out[(*n)++] = a ? a->dictionary : NULL;
    for (int64_t i = 0; i < node->dictionary->n_children; i++)
      find_dict_arrays(node->dictionary->children[i],
                       a && a->dictionary && i < a->dictionary->n_children ? a->dictionary->children[i] : NULL,
                       out, n);
    return;
  }
  for (int64_t i = 0; i < node->n_children; i++)
    find_dict_arrays(node->children[i], a && i < a->n_children ? a->children[i] : NULL, out, n);
}

// Element-wise equality of a[i] and b[j] for primitive and binary types. -1: cannot tell.
static int elem_equal_d(const struct otap_array_view* a, int64_t i,
                        const struct otap_array_view* b, int64_t j, int depth) {
  bool na = otap_view_is_null(a, i), nb = otap_view_is_null(b, j);
  if (na || nb) return na == nb;
  if (depth > 64) return -1;
  if (a->dictionary || b->dictionary) {
    if (!a->dictionary || !b->dictionary) return -1;
    return elem_equal_d(a->dictionary, otap_view_get_int(a, i), b->dictionary,
                        otap_view_get_int(b, j), depth + 1);
  }
  enum otap_type t = a->storage_type;
  switch (t) {
    case OTAP_TYPE_STRUCT:
      for (int64_t k = 0; k < a->n_children; k++) {
        int r = elem_equal_d(a->children[k], a->offset + i, b->children[k], b->offset + j, depth + 1);
        if (r != 1) return r;
      }
      return 1;
    case OTAP_TYPE_LIST: case OTAP_TYPE_LARGE_LIST: case OTAP_TYPE_MAP:
    case OTAP_TYPE_FIXED_SIZE_LIST: {
      int64_t s1, e1, s2, e2;
      otap_view_get_list_range(a, i, &s1, &e1);
      otap_view_get_list_range(b, j, &s2, &e2);
      if (e1 - s1 != e2 - s2) return 0;
      for (int64_t k = 0; k < e1 - s1; k++) {
        int r = elem_equal_d(a->children[0], s1 + k, b->children[0], s2 + k, depth + 1);
        if (r != 1) return r;
      }
      return 1;
    }
    default: break;
  }
  switch (t) {
    case OTAP_TYPE_STRING: case OTAP_TYPE_LARGE_STRING: case OTAP_TYPE_BINARY:
    case OTAP_TYPE_LARGE_BINARY: case OTAP_TYPE_STRING_VIEW: case OTAP_TYPE_BINARY_VIEW:
    case OTAP_TYPE_FIXED_SIZE_BINARY: case OTAP_TYPE_DECIMAL128: case OTAP_TYPE_DECIMAL256: {
      const uint8_t *pa, *pb;
      int64_t la, lb;
      otap_view_get_bytes(a, i, &pa, &la);
      otap_view_get_bytes(b, j, &pb, &lb);
      return la == lb && (la == 0 || memcmp(pa, pb, (size_t)la) == 0);
    }
    case OTAP_TYPE_FLOAT: case OTAP_TYPE_DOUBLE: case OTAP_TYPE_HALF_FLOAT: {
      int wb = a->schema.bit_width / 8;
      return memcmp(a->buffers[1] + (a->offset + i) * wb, b->buffers[1] + (b->offset + j) * wb,
                    (size_t)wb) == 0;
    }
    case OTAP_TYPE_BOOL: case OTAP_TYPE_INT8: case OTAP_TYPE_UINT8: case OTAP_TYPE_INT16:
    case OTAP_TYPE_UINT16: case OTAP_TYPE_INT32: case OTAP_TYPE_UINT32: case OTAP_TYPE_INT64:
    case OTAP_TYPE_UINT64: case OTAP_TYPE_DATE32: case OTAP_TYPE_DATE64: case OTAP_TYPE_TIME32:
    case OTAP_TYPE_TIME64: case OTAP_TYPE_TIMESTAMP: case OTAP_TYPE_DURATION:
      return otap_view_get_int(a, i) == otap_view_get_int(b, j);
    default: return -1;
  }
}

// True when both arrays are the same memory (shared buffers, same shape), recursively.
static bool identical(const struct ArrowArray* a, const struct ArrowArray* b, int depth) {
  if (a == b) return true;
  if (!a || !b || depth > 64) return false;
  if (a->length != b->length || a->offset != b->offset || a->n_buffers != b->n_buffers ||
      a->n_children != b->n_children || (a->dictionary == NULL) != (b->dictionary == NULL))
    return false;
  for (int64_t i = 0; i < a->n_buffers; i++)
    if (a->buffers[i] != b->buffers[i]) return false;
  for (int64_t i = 0; i < a->n_children; i++)
    if (!identical(a->children[i], b->children[i], depth + 1)) return false;
  return !a->dictionary || identical(a->dictionary, b->dictionary, depth + 1);
}

// 0 = equal, 1 = cur extends prev (delta), 2 = differs.
static int dict_relation(const struct ArrowSchema* vs, const struct ArrowArray* prev,
                         const struct ArrowArray* cur, struct otap_error* err, int* out) {
  *out = 2;
  if (identical(prev, cur, 0)) {
    *out = 0;
    return 0;
  }
  if (prev->length > cur->length) return 0;
  struct otap_array_view va, vb;
  memset(&va, 0, sizeof(va));
  memset(&vb, 0, sizeof(vb));
  int rc = otap_array_view_init(&va, vs, err);
  if (!rc) rc = otap_array_view_init(&vb, vs, err);
  if (!rc) rc = otap_array_view_set(&va, prev, OTAP_VALIDATE_DEFAULT, err);
  if (!rc) rc = otap_array_view_set(&vb, cur, OTAP_VALIDATE_DEFAULT, err);
  if (!rc) {
    bool same = true;
    for (int64_t i = 0; i < prev->length && same; i++) same = elem_equal_d(&va, i, &vb, i, 0) == 1;
    if (same) *out = prev->length == cur->length ? 0 : 1;
  }
  otap_array_view_reset(&va);
  otap_array_view_reset(&vb);
  return rc;
}

static int keep_dict(const struct ArrowSchema* vs, const struct ArrowArray* cur,
                     struct ArrowArray* out, struct otap_error* err) {
  struct otap_error tmp;
  if (otap_array_ref(cur, out, &tmp) == 0) return 0;
  const struct ArrowArray* one[1] = {cur};
  return otap_array_concat(vs, one, 1, out, err);
}

static int write_dictionaries(struct otap_ipc_writer* w, const struct ArrowArray* batch,
                              struct otap_error* err) {
  if (w->n_dicts == 0) return 0;
  const struct ArrowArray** arrs = otap_calloc((size_t)w->n_dicts, sizeof(*arrs));
  if (!arrs) return otap_error_set(err, ENOMEM, "out of memory");
  int64_t n = 0;
  find_dict_arrays(&w->schema, batch, arrs, &n);
  int rc = 0;
  // Reverse pre-order: dictionaries nested in another dictionary's values come first, so the
  // reader knows them when it decodes the outer dictionary.
  for (int64_t k = w->n_dicts - 1; k >= 0; k--) {
    struct dict_slot* s = &w->dicts[k];
    const struct ArrowArray* cur = arrs[k];
    const struct ArrowSchema* vs = s->node->dictionary;
    if (!cur) {
      rc = otap_error_set(err, EINVAL, "dictionary-encoded field '%s' has no dictionary array",
                          s->node->name ? s->node->name : "");
      break;
    }
    int rel = 2;
    if (s->last.release) {
      rc = dict_relation(vs, &s->last, cur, err, &rel);
      if (rc) break;
      if (rel == 0) continue;
      if (rel == 1 && w->opts.dictionary_mode == OTAP_IPC_DICTIONARY_REPLACE) rel = 2;
      if (rel == 2 && w->format == OTAP_IPC_FORMAT_FILE) {
        rc = otap_error_set(err, EINVAL,
                            "field '%s': the dictionary changed between batches and the IPC file "
                            "format cannot replace dictionaries (use the stream format, or unify "
                            "the dictionaries first)",
                            s->node->name ? s->node->name : "");
        break;
      }
    }
    struct enc e;
    memset(&e, 0, sizeof(e));
    e.w = w;
    int64_t start = rel == 1 ? s->last.length : 0;
    rc = emit_node(&e, vs, cur, start, cur->length - start, 1, err);
    if (!rc)
      rc = write_batch_message(w, &e, cur->length - start, s->id, rel == 1,
                               w->format == OTAP_IPC_FORMAT_FILE ? &w->dict_blocks : NULL, err);
    enc_reset(&e);
    if (rc) break;
    otap_array_release(&s->last);
    rc = keep_dict(vs, cur, &s->last, err);
    if (rc) break;
  }
  otap_free(arrs);
  return rc;
}

// ---------------------------------------------------------------------------------------------
// Writer

static int schema_message(const struct ArrowSchema* schema, const char* extra,
                          struct otap_buffer* out, uint32_t* schema_ref_unused,
                          struct otap_error* err) {
  (void)schema_ref_unused;
  struct otap__fbb b;
  otap__fbb_init(&b);
  uint32_t sref;
  int rc = otap__ipc_schema_build(&b, schema, extra, &sref, err);
  if (rc) goto done;
  otap__fbb_start(&b);
  otap__fbb_add_i16(&b, 0, OTAP__IPC_V5);
  otap__fbb_add_u8(&b, 1, OTAP__MH_SCHEMA);
  otap__fbb_add_offset(&b, 2, sref);
  otap__fbb_add_i64(&b, 3, 0);
  uint32_t root = otap__fbb_end(&b);
  const uint8_t* fb;
  uint32_t n;
  if (otap__fbb_finish(&b, root, &fb, &n)) {
    rc = otap_error_set(err, ENOMEM, "out of memory building the Schema message");
    goto done;
  }
  rc = otap__ipc_frame(out, fb, n, err);
done:
  otap__fbb_reset(&b);
  return rc;
}

int otap_ipc_schema_encode(const struct ArrowSchema* schema, struct otap_buffer* out,
                           struct otap_error* err) {
  return schema_message(schema, NULL, out, NULL, err);
}

void otap_ipc_writer_free(struct otap_ipc_writer* w) {
  if (!w) return;
  for (int64_t i = 0; i < w->n_dicts; i++) otap_array_release(&w->dicts[i].last);
  otap_free(w->dicts);
  otap_schema_release(&w->schema);
  otap_free(w->dict_blocks.data);
  otap_free(w->batch_blocks.data);
  otap_buffer_reset(&w->scratch);
  otap__ipc_codecs_reset(&w->codecs);
  otap_free(w);
}

int otap_ipc_writer_new(struct otap_ipc_writer** out, struct otap_sink* sink,
                        enum otap_ipc_format format, const struct ArrowSchema* schema,
                        const struct otap_ipc_write_options* opts, struct otap_error* err) {
  if (format != OTAP_IPC_FORMAT_STREAM && format != OTAP_IPC_FORMAT_FILE)
    return otap_error_set(err, EINVAL, "IPC writer: format must be stream or file");
  struct otap_ipc_writer* w = otap_calloc(1, sizeof(*w));
  if (!w) return otap_error_set(err, ENOMEM, "out of memory");
  w->sink = sink;
  w->format = format;
  if (opts)
    w->opts = *opts;
  else
    otap_ipc_write_options_init(&w->opts);
  otap_buffer_init(&w->scratch);
  int rc = otap_schema_deep_copy(schema, &w->schema, err);
  if (rc) goto fail;
  int64_t n = 0;
  collect_dicts(w, &w->schema, &n, false);
  if (n) {
    w->dicts = otap_calloc((size_t)n, sizeof(*w->dicts));
    if (!w->dicts) {
      rc = otap_error_set(err, ENOMEM, "out of memory");
      goto fail;
    }
    w->n_dicts = 0;
    collect_dicts(w, &w->schema, &w->n_dicts, true);
  }
  if (format == OTAP_IPC_FORMAT_FILE) {
    static const uint8_t magic[8] = {'A', 'R', 'R', 'O', 'W', '1', 0, 0};
    rc = sink_write(w, magic, 8, err);
    if (rc) goto fail;
  }
  rc = schema_message(&w->schema, w->opts.metadata, &w->scratch, NULL, err);
  if (!rc) rc = sink_write(w, w->scratch.data, w->scratch.size, err);
  if (rc) goto fail;
  *out = w;
  return 0;
fail:
  otap_ipc_writer_free(w);
  return rc;
}

int otap_ipc_writer_write(struct otap_ipc_writer* w, const struct ArrowArray* batch,
                          struct otap_error* err) {
  if (w->finished) return otap_error_set(err, EINVAL, "IPC writer already finished");
  if (!batch || !batch->release || batch->n_children != w->schema.n_children)
    return otap_error_set(err, EINVAL,
                          "IPC writer: batch has %lld columns, the schema %lld",
                          batch ? (long long)batch->n_children : -1LL,
                          (long long)w->schema.n_children);
  OTAP_RETURN_NOT_OK(write_dictionaries(w, batch, err));
  struct enc e;
  memset(&e, 0, sizeof(e));
  e.w = w;
  int rc = 0;
  for (int64_t i = 0; i < w->schema.n_children && !rc; i++) {
    const struct ArrowArray* col = batch->children[i];
    if (col->length < batch->offset + batch->length) {
      rc = otap_error_set(err, EINVAL, "IPC writer: column %lld is shorter than the batch",
                          (long long)i);
      break;
    }
    rc = emit_node(&e, w->schema.children[i], col, batch->offset, batch->length, 1, err);
    if (rc) otap_error_prefix(err, rc, "column '%s': ",
                              w->schema.children[i]->name ? w->schema.children[i]->name : "");
  }
  if (!rc) rc = write_batch_message(w, &e, batch->length, -1, false,
                                    w->format == OTAP_IPC_FORMAT_FILE ? &w->batch_blocks : NULL, err);
  enc_reset(&e);
  return rc;
}

int otap_ipc_writer_finish(struct otap_ipc_writer* w, struct otap_error* err) {
  if (w->finished) return 0;
  w->finished = true;
  static const uint8_t eos[8] = {0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0};
  if (w->format == OTAP_IPC_FORMAT_STREAM) {
    if (w->opts.write_eos) OTAP_RETURN_NOT_OK(sink_write(w, eos, 8, err));
    return 0;
  }
  OTAP_RETURN_NOT_OK(sink_write(w, eos, 8, err));
  struct otap__fbb b;
  otap__fbb_init(&b);
  uint32_t sref;
  int rc = otap__ipc_schema_build(&b, &w->schema, w->opts.metadata, &sref, err);
  if (rc) goto done;
  uint32_t dicts = otap__fbb_vector(&b, w->dict_blocks.data, (uint32_t)(w->dict_blocks.size / 24), 24, 8);
  uint32_t batches = otap__fbb_vector(&b, w->batch_blocks.data, (uint32_t)(w->batch_blocks.size / 24), 24, 8);
  otap__fbb_start(&b);
  otap__fbb_add_i16(&b, 0, OTAP__IPC_V5);
  otap__fbb_add_offset(&b, 1, sref);
  otap__fbb_add_offset(&b, 2, dicts);
  otap__fbb_add_offset(&b, 3, batches);
  uint32_t root = otap__fbb_end(&b);
  const uint8_t* fb;
  uint32_t n;
  if (otap__fbb_finish(&b, root, &fb, &n)) {
    rc = otap_error_set(err, ENOMEM, "out of memory building the footer");
    goto done;
  }
  OTAP_GOTO_NOT_OK(rc, sink_write(w, fb, n, err));
  uint8_t tail[10];
  otap_store_u32le(tail, n);
  memcpy(tail + 4, "ARROW1", 6);
  rc = sink_write(w, tail, 10, err);
done:
  otap__fbb_reset(&b);
  return rc;
}

int64_t otap_ipc_writer_bytes_written(const struct otap_ipc_writer* w) { return w->written; }

int otap_ipc_write_array_stream(struct ArrowArrayStream* in, struct otap_sink* sink,
                                enum otap_ipc_format format,
                                const struct otap_ipc_write_options* opts, struct otap_error* err) {
  struct ArrowSchema schema;
  memset(&schema, 0, sizeof(schema));
  struct otap_ipc_writer* w = NULL;
  int rc = in->get_schema(in, &schema);
  if (rc) {
    const char* m = in->get_last_error ? in->get_last_error(in) : NULL;
    return otap_error_set(err, rc, "reading the input schema: %s", m ? m : otap_errno_name(rc));
  }
  OTAP_GOTO_NOT_OK(rc, otap_ipc_writer_new(&w, sink, format, &schema, opts, err));
  for (;;) {
    struct ArrowArray batch;
    memset(&batch, 0, sizeof(batch));
    rc = in->get_next(in, &batch);
    if (rc) {
      const char* m = in->get_last_error ? in->get_last_error(in) : NULL;
      otap_error_set(err, rc, "reading the input: %s", m ? m : otap_errno_name(rc));
      goto done;
    }
    if (!batch.release) break;
    rc = otap_ipc_writer_write(w, &batch, err);
    batch.release(&batch);
    if (rc) goto done;
  }
  OTAP_GOTO_NOT_OK(rc, otap_ipc_writer_finish(w, err));
  if (sink->finish) rc = sink->finish(sink, err);
done:
  otap_ipc_writer_free(w);
  otap_schema_release(&schema);
  return rc;
}
