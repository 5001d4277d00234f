// Record batch and dictionary batch bodies -> Arrow arrays.
//
// Buffers point into the message body (zero-copy, one reference on the body's shared block per
// buffer) unless compressed or misaligned. The decoded tree is a plain C Data Interface array
// that otap_array_import() validates (at the configured level) and turns into an otap array.
#include <string.h>

#include "ipc/ipc_internal.h"

// Backing for zero-length buffers (never NULL, aligned, zero).
static const int64_t kZeros[8];

struct node_priv {
  int64_t n_buffers;
  const void** buffers;
  struct otap_shared** refs;
  int64_t n_children;
  struct ArrowArray** children;
  struct ArrowArray* dictionary;
};

static void node_release(struct ArrowArray* a) {
  struct node_priv* p = a->private_data;
  if (p) {
    for (int64_t i = 0; i < p->n_buffers; i++) otap_shared_unref(p->refs[i]);
    for (int64_t i = 0; i < p->n_children; i++) {
      if (p->children[i]) {
        if (p->children[i]->release) p->children[i]->release(p->children[i]);
        otap_free(p->children[i]);
      }
    }
    if (p->dictionary) {
      if (p->dictionary->release) p->dictionary->release(p->dictionary);
      otap_free(p->dictionary);
    }
    otap_free(p->buffers);
    otap_free(p->refs);
    otap_free(p->children);
    otap_free(p);
  }
  a->release = NULL;
}

static int node_alloc(struct ArrowArray* a, int64_t n_buffers, int64_t n_children) {
  memset(a, 0, sizeof(*a));
  struct node_priv* p = otap_calloc(1, sizeof(*p));
  if (!p) return ENOMEM;
  a->private_data = p;
  a->release = node_release;
  p->buffers = otap_calloc((size_t)(n_buffers ? n_buffers : 1), sizeof(void*));
  p->refs = otap_calloc((size_t)(n_buffers ? n_buffers : 1), sizeof(void*));
  p->children = otap_calloc((size_t)(n_children ? n_children : 1), sizeof(void*));
  if (!p->buffers || !p->refs || !p->children) return ENOMEM;
  p->n_buffers = n_buffers;
  for (int64_t i = 0; i < n_children; i++) {
    p->children[i] = otap_calloc(1, sizeof(struct ArrowArray));
    if (!p->children[i]) return ENOMEM;
    p->n_children = i + 1;
  }
  a->n_buffers = n_buffers;
  a->n_children = n_children;
  a->buffers = p->buffers;
  a->children = p->children;
  return 0;
}

struct body {
  const struct otap__ipc_decode_ctx* ctx;
  const struct otap__ipc_batch_meta* meta;
  struct otap_shared* owner;
  const uint8_t* data;
  int64_t len;
  uint32_t node_i, buf_i, var_i;
  int version;
};

#define BODY_ERR(b, code, ...)                                                                \
  otap_error_prefix(err, otap_error_set(err, code, __VA_ARGS__),                              \
                    "IPC message at byte offset %lld: ", (long long)(b)->ctx->msg_offset)

static void free_data(void* data, void* ctx) {
  (void)ctx;
  otap_free(data);
}

// Reads IPC buffer b->buf_i into (*ptr, *len), owned by *ref (a new reference or NULL).
static int take_buffer(struct body* b, const void** ptr, int64_t* len, struct otap_shared** ref,
                       struct otap_error* err) {
  *ptr = kZeros;
  *len = 0;
  *ref = NULL;
  if (b->buf_i >= b->meta->n_buffers)
    return BODY_ERR(b, EINVAL, "more buffers needed than the %u the message lists",
                    b->meta->n_buffers);
  const uint8_t* spec = b->meta->buffers + 16 * (size_t)b->buf_i;
  uint32_t idx = b->buf_i++;
  int64_t off = (int64_t)otap_load_u64le(spec), n = (int64_t)otap_load_u64le(spec + 8);
  if (off < 0 || n < 0 || off > b->len || n > b->len - off)
    return BODY_ERR(b, EINVAL, "buffer %u [offset %lld, length %lld] lies outside the %lld-byte body",
                    idx, (long long)off, (long long)n, (long long)b->len);
  if (n == 0) return 0;
  const uint8_t* src = b->data + off;
  if (b->meta->compression != OTAP_IPC_COMPRESSION_NONE) {
    if (n < 8)
      return BODY_ERR(b, EINVAL, "compressed buffer %u is %lld bytes, shorter than its length prefix",
                      idx, (long long)n);
    int64_t ulen = (int64_t)otap_load_u64le(src);
    src += 8;
    n -= 8;
    if (ulen != -1) {
      const struct otap_ipc_read_options* o = b->ctx->opts;
      if (ulen < 0 || ulen > o->max_decompressed_size)
        return BODY_ERR(b, EINVAL,
                        "buffer %u declares %lld uncompressed bytes (cap %lld)", idx,
                        (long long)ulen, (long long)o->max_decompressed_size);
      if (ulen / (n ? n : 1) > o->max_compression_ratio && ulen > 4096)
        return BODY_ERR(b, EINVAL,
                        "buffer %u declares %lld uncompressed bytes from %lld compressed bytes "
                        "(ratio above the cap of %lld)",
                        idx, (long long)ulen, (long long)n, (long long)o->max_compression_ratio);
      if (ulen == 0) return 0;
      uint8_t* dst = otap_malloc((size_t)ulen);
      if (!dst) return BODY_ERR(b, ENOMEM, "out of memory for %lld bytes", (long long)ulen);
      int rc = otap__ipc_decompress(b->ctx->codecs, b->meta->compression, src, n, dst, ulen, err);
      if (rc) {
        otap_free(dst);
        return otap_error_prefix(err, rc, "IPC message at byte offset %lld, buffer %u: ",
                                 (long long)b->ctx->msg_offset, idx);
      }
      if (otap_shared_new(ref, dst, ulen, free_data, NULL)) {
        otap_free(dst);
        return BODY_ERR(b, ENOMEM, "out of memory");
      }
      *ptr = dst;
      *len = ulen;
      return 0;
    }
    if (n == 0) return 0;
  }
  if (((uintptr_t)src & 7) != 0 || !b->owner) {
    uint8_t* dst = otap_malloc((size_t)n);
    if (!dst) return BODY_ERR(b, ENOMEM, "out of memory for %lld bytes", (long long)n);
    memcpy(dst, src, (size_t)n);
    if (otap_shared_new(ref, dst, n, free_data, NULL)) {
      otap_free(dst);
      return BODY_ERR(b, ENOMEM, "out of memory");
    }
    *ptr = dst;
  } else {
    otap_shared_ref(b->owner);
    *ref = b->owner;
    *ptr = src;
  }
  *len = n;
  return 0;
}

static int decode_node(struct body* b, const struct ArrowSchema* node, struct ArrowArray* out,
                       int depth, struct otap_error* err);

static int set_buf(struct body* b, struct ArrowArray* out, int64_t i, struct otap_error* err,
                   int64_t* len_out) {
  struct node_priv* p = out->private_data;
  const void* ptr;
  int64_t len;
  struct otap_shared* ref;
  OTAP_RETURN_NOT_OK(take_buffer(b, &ptr, &len, &ref, err));
  if (i >= 0) {
    p->buffers[i] = ptr;
    p->refs[i] = ref;
  } else {
    otap_shared_unref(ref);
  }
  if (len_out) *len_out = len;
  return 0;
}

// Minimum buffer sizes implied by the node length (the array validator checks contents).
static int check_sizes(struct body* b, const struct ArrowSchema* node,
                       const struct otap_schema_view* sv, int64_t length, bool validity,
                       const int64_t* lens, const void* const* bufs, struct otap_error* err) {
  int64_t need[3] = {0, 0, 0};
  bool ovf = false;
  if (validity) need[0] = otap_bytes_for_bits(length);
  switch (sv->storage_type) {
    case OTAP_TYPE_STRING: case OTAP_TYPE_BINARY: case OTAP_TYPE_LIST: case OTAP_TYPE_MAP:
      ovf = __builtin_mul_overflow(length + (length > 0), (int64_t)4, &need[1]);
      break;
    case OTAP_TYPE_LARGE_STRING: case OTAP_TYPE_LARGE_BINARY: case OTAP_TYPE_LARGE_LIST:
      ovf = __builtin_mul_overflow(length + (length > 0), (int64_t)8, &need[1]);
      break;
    case OTAP_TYPE_LIST_VIEW:
      ovf = __builtin_mul_overflow(length, (int64_t)4, &need[1]);
      need[2] = need[1];
      break;
    case OTAP_TYPE_LARGE_LIST_VIEW:
      ovf = __builtin_mul_overflow(length, (int64_t)8, &need[1]);
      need[2] = need[1];
      break;
    case OTAP_TYPE_STRING_VIEW: case OTAP_TYPE_BINARY_VIEW:
      ovf = __builtin_mul_overflow(length, (int64_t)16, &need[1]);
      break;
    case OTAP_TYPE_SPARSE_UNION: need[0] = length; break;
    case OTAP_TYPE_DENSE_UNION:
      need[0] = length;
      ovf = __builtin_mul_overflow(length, (int64_t)4, &need[1]);
      break;
    case OTAP_TYPE_NA: case OTAP_TYPE_STRUCT: case OTAP_TYPE_FIXED_SIZE_LIST:
    case OTAP_TYPE_RUN_END_ENCODED:
      break;
    default:
      if (sv->bit_width > 0) {
        int64_t bits;
        ovf = __builtin_mul_overflow(length, (int64_t)sv->bit_width, &bits);
        need[1] = (bits + 7) / 8;
      }
      break;
  }
  for (int i = 0; i < 3; i++) {
    if (ovf || lens[i] < need[i])
      return BODY_ERR(b, EINVAL, "field '%s': buffer %d holds %lld bytes, %lld rows need %lld",
                      node->name ? node->name : "", i, (long long)lens[i], (long long)length,
                      (long long)need[i]);
  }
  // The C Data Interface carries no buffer sizes, so offsets must be proven to stay inside the
  // data buffer here: monotonic, starting at >= 0, ending within it.
  enum otap_type st = sv->storage_type;
  if (length > 0 && (st == OTAP_TYPE_STRING || st == OTAP_TYPE_BINARY)) {
    const int32_t* o = bufs[1];
    int32_t prev = o[0];
    bool bad = prev < 0;
    for (int64_t i = 1; i <= length; i++) {
      bad |= o[i] < prev;
      prev = o[i];
    }
    if (bad || prev > lens[2])
      return BODY_ERR(b, EINVAL, "field '%s': offsets are not increasing within the %lld-byte data "
                      "buffer", node->name ? node->name : "", (long long)lens[2]);
  } else if (length > 0 && (st == OTAP_TYPE_LARGE_STRING || st == OTAP_TYPE_LARGE_BINARY)) {
    const int64_t* o = bufs[1];
    int64_t prev = o[0];
    bool bad = prev < 0;
    for (int64_t i = 1; i <= length; i++) {
      bad |= o[i] < prev;
      prev = o[i];
    }
    if (bad || prev > lens[2])
      return BODY_ERR(b, EINVAL, "field '%s': offsets are not increasing within the %lld-byte data "
                      "buffer", node->name ? node->name : "", (long long)lens[2]);
  }
  return 0;
}

static int decode_node(struct body* b, const struct ArrowSchema* node, struct ArrowArray* out,
                       int depth, struct otap_error* err) {
  struct otap_schema_view sv;
  OTAP_RETURN_NOT_OK(otap_schema_view_init(&sv, node, err));
  if (b->node_i >= b->meta->n_nodes)
    return BODY_ERR(b, EINVAL, "more field nodes needed than the %u the message lists",
                    b->meta->n_nodes);
  const uint8_t* fn = b->meta->nodes + 16 * (size_t)b->node_i++;
  int64_t length = (int64_t)otap_load_u64le(fn), null_count = (int64_t)otap_load_u64le(fn + 8);
  if (length < 0 || null_count < 0 || null_count > length)
    return BODY_ERR(b, EINVAL, "field '%s': invalid node length %lld / null count %lld",
                    node->name ? node->name : "", (long long)length, (long long)null_count);

  enum otap_type st = sv.storage_type;
  int64_t n_ipc = 2, n_c = 2, n_children = 0, n_var = 0;
  bool has_validity = true;
  switch (st) {
    case OTAP_TYPE_NA: n_ipc = n_c = 0; has_validity = false; break;
    case OTAP_TYPE_SPARSE_UNION:
    case OTAP_TYPE_DENSE_UNION:
      n_c = st == OTAP_TYPE_SPARSE_UNION ? 1 : 2;
      n_ipc = n_c + (b->version <= OTAP__IPC_V4 ? 1 : 0);
      has_validity = false;
      n_children = node->n_children;
      break;
    case OTAP_TYPE_RUN_END_ENCODED: n_ipc = n_c = 0; has_validity = false; n_children = 2; break;
    case OTAP_TYPE_STRUCT: n_ipc = n_c = 1; n_children = node->n_children; break;
    case OTAP_TYPE_FIXED_SIZE_LIST: n_ipc = n_c = 1; n_children = 1; break;
    case OTAP_TYPE_LIST:
    case OTAP_TYPE_LARGE_LIST:
    case OTAP_TYPE_MAP: n_children = 1; break;
    case OTAP_TYPE_LIST_VIEW:
    case OTAP_TYPE_LARGE_LIST_VIEW: n_ipc = n_c = 3; n_children = 1; break;
    case OTAP_TYPE_STRING:
    case OTAP_TYPE_BINARY:
    case OTAP_TYPE_LARGE_STRING:
    case OTAP_TYPE_LARGE_BINARY: n_ipc = n_c = 3; break;
    case OTAP_TYPE_STRING_VIEW:
    case OTAP_TYPE_BINARY_VIEW:
      if (b->var_i >= b->meta->n_variadic)
        return BODY_ERR(b, EINVAL, "field '%s': missing variadicBufferCounts entry",
                        node->name ? node->name : "");
      n_var = (int64_t)otap_load_u64le(b->meta->variadic + 8 * (size_t)b->var_i++);
      if (n_var < 0 || n_var > (int64_t)(b->meta->n_buffers - b->buf_i))
        return BODY_ERR(b, EINVAL, "field '%s': invalid variadic buffer count %lld",
                        node->name ? node->name : "", (long long)n_var);
      n_ipc = 2 + n_var;
      n_c = n_ipc + 1;
      break;
    default: break;
  }
  if (node->n_children != n_children && !node->dictionary)
    return BODY_ERR(b, EINVAL, "field '%s': %lld children in the schema, %lld expected",
                    node->name ? node->name : "", (long long)node->n_children, (long long)n_children);
  if (node->dictionary) n_children = node->n_children;
  if (node_alloc(out, n_c, n_children)) return BODY_ERR(b, ENOMEM, "out of memory");
  out->length = length;
  out->null_count = has_validity ? null_count : 0;
  struct node_priv* p = out->private_data;

  int64_t ci = 0;
  int64_t lens[3] = {0, 0, 0};
  for (int64_t i = 0; i < n_ipc; i++) {
    int64_t len;
    bool skip = (st == OTAP_TYPE_SPARSE_UNION || st == OTAP_TYPE_DENSE_UNION) && n_ipc > n_c && i == 0;
    OTAP_RETURN_NOT_OK(set_buf(b, out, skip ? -1 : ci, err, &len));
    if (skip) continue;
    if (ci == 0 && has_validity && (null_count == 0 || len == 0)) {
      if (null_count > 0)
        return BODY_ERR(b, EINVAL, "field '%s': %lld nulls but no validity buffer",
                        node->name ? node->name : "", (long long)null_count);
      otap_shared_unref(p->refs[0]);
      p->refs[0] = NULL;
      p->buffers[0] = NULL;
    }
    if (ci < 3) lens[ci] = len;
    ci++;
  }
  OTAP_RETURN_NOT_OK(check_sizes(b, node, &sv, length, has_validity && p->buffers[0], lens, p->buffers, err));
  if (n_var >= 0 && (st == OTAP_TYPE_STRING_VIEW || st == OTAP_TYPE_BINARY_VIEW)) {
    // C Data Interface: a final buffer of int64 sizes of the variadic buffers
    int64_t* sizes = otap_calloc((size_t)(n_var ? n_var : 1), sizeof(int64_t));
    if (!sizes) return BODY_ERR(b, ENOMEM, "out of memory");
    if (otap_shared_new(&p->refs[n_c - 1], sizes, n_var * 8, free_data, NULL)) {
      otap_free(sizes);
      return BODY_ERR(b, ENOMEM, "out of memory");
    }
    p->buffers[n_c - 1] = sizes;
    for (int64_t k = 0; k < n_var; k++) {
      const uint8_t* spec = b->meta->buffers + 16 * (size_t)(b->buf_i - n_var + k);
      int64_t blen = (int64_t)otap_load_u64le(spec + 8);
      if (b->meta->compression != OTAP_IPC_COMPRESSION_NONE && blen >= 8) {
        int64_t ulen = (int64_t)otap_load_u64le(b->data + otap_load_u64le(spec));
        blen = ulen == -1 ? blen - 8 : ulen;
      }
      sizes[k] = blen;
    }
  }
  const struct ArrowSchema* value_schema = node->dictionary ? node->dictionary : node;
  (void)value_schema;
  for (int64_t i = 0; i < n_children; i++) {
    if (depth > 200) return BODY_ERR(b, EINVAL, "nesting too deep");
    OTAP_RETURN_NOT_OK(decode_node(b, node->children[i], p->children[i], depth + 1, err));
  }
  if (node->dictionary) {
    const struct otap__ipc_schema* s = b->ctx->schema;
    int64_t k = -1;
    for (int64_t i = 0; i < s->n_dicts; i++)
      if (s->dict_nodes[i] == node) k = i;
    if (k < 0) return BODY_ERR(b, EINVAL, "internal: dictionary node not found");
    int64_t slot = otap__ipc_schema_find_dict(s, s->dict_ids[k]);
    struct otap__ipc_dict_state* d = b->ctx->dicts;
    if (!d || !d->seen[slot])
      return BODY_ERR(b, EINVAL, "field '%s' uses dictionary id %lld before any DictionaryBatch",
                      node->name ? node->name : "", (long long)s->dict_ids[k]);
    p->dictionary = otap_calloc(1, sizeof(struct ArrowArray));
    if (!p->dictionary) return BODY_ERR(b, ENOMEM, "out of memory");
    OTAP_RETURN_NOT_OK(otap_array_ref(&d->arrays[slot], p->dictionary, err));
    out->dictionary = p->dictionary;
  }
  return 0;
}

static void body_init(struct body* b, const struct otap__ipc_decode_ctx* ctx,
                      const struct otap__ipc_message* msg, struct otap_shared* owner,
                      const uint8_t* data, int64_t len) {
  memset(b, 0, sizeof(*b));
  b->ctx = ctx;
  b->meta = &msg->batch;
  b->owner = owner;
  b->data = data;
  b->len = len;
  b->version = msg->version;
}

int otap__ipc_decode_batch(const struct otap__ipc_decode_ctx* ctx,
                           const struct otap__ipc_message* msg, struct otap_shared* body_owner,
                           const uint8_t* body, int64_t body_len, struct ArrowArray* out,
                           struct otap_error* err) {
  struct body b;
  body_init(&b, ctx, msg, body_owner, body, body_len);
  const struct ArrowSchema* schema = &ctx->schema->schema;
  struct ArrowArray top;
  int rc = 0;
  if (node_alloc(&top, 1, schema->n_children)) {
    rc = otap_error_set(err, ENOMEM, "out of memory");
    goto done;
  }
  top.length = msg->batch.length;
  top.null_count = 0;
  enum otap_validation level = ctx->opts->validation;
  for (int64_t i = 0; i < schema->n_children; i++) {
    OTAP_GOTO_NOT_OK(rc, decode_node(&b, schema->children[i], top.children[i], 1, err));
    if (level == OTAP_VALIDATE_FULL) {
      // Full validation column by column while its buffers are still in cache; the batch as
      // a whole then needs only the O(1) checks.
      struct otap_array_view view;
      memset(&view, 0, sizeof(view));
      rc = otap_array_view_init(&view, schema->children[i], err);
      if (!rc) rc = otap_array_view_set(&view, top.children[i], OTAP_VALIDATE_FULL, err);
      otap_array_view_reset(&view);
      if (rc) {
        otap_error_prefix(err, rc, "IPC record batch at byte offset %lld, column '%s': ",
                          (long long)ctx->msg_offset,
                          schema->children[i]->name ? schema->children[i]->name : "");
        goto done;
      }
    }
  }
  rc = otap_array_import(schema, &top, level == OTAP_VALIDATE_FULL ? OTAP_VALIDATE_DEFAULT : level,
                         out, err);
  if (rc) otap_error_prefix(err, rc, "IPC record batch at byte offset %lld: ", (long long)ctx->msg_offset);
done:
  if (top.release) top.release(&top);
  return rc;
}

int otap__ipc_dict_state_init(struct otap__ipc_dict_state* d, int64_t n, struct otap_error* err) {
  d->arrays = otap_calloc((size_t)(n ? n : 1), sizeof(struct ArrowArray));
  d->seen = otap_calloc((size_t)(n ? n : 1), sizeof(bool));
  if (!d->arrays || !d->seen) {
    otap_free(d->arrays);
    otap_free(d->seen);
    d->arrays = NULL;
    d->seen = NULL;
    return otap_error_set(err, ENOMEM, "out of memory");
  }
  return 0;
}

void otap__ipc_dict_state_reset(struct otap__ipc_dict_state* d, int64_t n) {
  if (d->arrays)
    for (int64_t i = 0; i < n; i++) otap_array_release(&d->arrays[i]);
  otap_free(d->arrays);
  otap_free(d->seen);
  d->arrays = NULL;
  d->seen = NULL;
}

int otap__ipc_decode_dictionary(const struct otap__ipc_decode_ctx* ctx,
                                const struct otap__ipc_message* msg, struct otap_shared* body_owner,
                                const uint8_t* body, int64_t body_len, bool allow_replace,
                                struct otap_error* err) {
  const struct otap__ipc_schema* s = ctx->schema;
  int64_t slot = otap__ipc_schema_find_dict(s, msg->dict_id);
  if (slot < 0)
    return otap_error_set(err, EINVAL,
                          "DictionaryBatch at byte offset %lld has id %lld, which no schema field "
                          "uses",
                          (long long)ctx->msg_offset, (long long)msg->dict_id);
  struct otap__ipc_dict_state* d = ctx->dicts;
  if (d->seen[slot] && !msg->is_delta && !allow_replace)
    return otap_error_set(err, EINVAL,
                          "DictionaryBatch at byte offset %lld replaces dictionary id %lld, which "
                          "the IPC file format forbids",
                          (long long)ctx->msg_offset, (long long)msg->dict_id);
  if (!d->seen[slot] && msg->is_delta)
    return otap_error_set(err, EINVAL,
                          "delta DictionaryBatch at byte offset %lld for dictionary id %lld "
                          "before its first dictionary",
                          (long long)ctx->msg_offset, (long long)msg->dict_id);
  const struct ArrowSchema* vs = s->dict_nodes[slot]->dictionary;
  struct body b;
  body_init(&b, ctx, msg, body_owner, body, body_len);
  struct ArrowArray raw, col, merged;
  memset(&raw, 0, sizeof(raw));
  memset(&col, 0, sizeof(col));
  memset(&merged, 0, sizeof(merged));
  int rc = decode_node(&b, vs, &raw, 1, err);
  if (rc) goto done;
  if (raw.length != msg->batch.length) {
    rc = otap_error_set(err, EINVAL,
                        "DictionaryBatch at byte offset %lld: column length %lld differs from the "
                        "batch length %lld",
                        (long long)ctx->msg_offset, (long long)raw.length,
                        (long long)msg->batch.length);
    goto done;
  }
  rc = otap_array_import(vs, &raw, ctx->opts->validation, &col, err);
  if (rc) {
    otap_error_prefix(err, rc, "DictionaryBatch id %lld at byte offset %lld: ",
                      (long long)msg->dict_id, (long long)ctx->msg_offset);
    goto done;
  }
  if (msg->is_delta) {
    const struct ArrowArray* parts[2] = {&d->arrays[slot], &col};
    rc = otap_array_concat(vs, parts, 2, &merged, err);
    if (rc) goto done;
    otap_array_release(&d->arrays[slot]);
    otap_array_move(&merged, &d->arrays[slot]);
  } else {
    otap_array_release(&d->arrays[slot]);
    otap_array_move(&col, &d->arrays[slot]);
  }
  d->seen[slot] = true;
done:
  if (raw.release) raw.release(&raw);
  otap_array_release(&col);
  otap_array_release(&merged);
  return rc;
}
