// Zero-copy sharing: references, slices, imports of foreign arrays, in-memory streams.
#include <inttypes.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>

#include "arrow/arrow_internal.h"

// Makes every owned, non-empty slot of `p` shared (refcounted) so other arrays can point at it.
// Runs under the node's share_state lock (state 1).
static int convert_slots(struct otap__array_private* p) {
  for (int64_t i = 0; i < p->n_slots; i++) {
    struct otap__slot* s = &p->slots[i];
    if (s->shared || s->buf.size == 0) continue;
    const uint8_t* data = s->buf.data;
    int64_t size = s->buf.size;
    struct otap_shared* sh;
    OTAP_RETURN_NOT_OK(otap_shared_from_buffer(&sh, &s->buf));
    s->shared = sh;
    s->shared_data = data;
    s->shared_size = size;
  }
  return 0;
}

static bool all_slots_shared(const struct otap__array_private* p) {
  for (int64_t i = 0; i < p->n_slots; i++) {
    if (!p->slots[i].shared && p->slots[i].buf.size != 0) return false;
  }
  return true;
}

// Thread-safe on a finished source: several threads may ref/slice the same array at once. The
// first one converts the owned slots to shared blocks while holding share_state == 1; later
// callers see 2 and only read. A builder that appended after a ref (single-threaded by
// contract) leaves a non-empty owned slot behind, which the state-2 check notices.
static int share_slots(struct otap__array_private* p) {
  for (;;) {
    int st = atomic_load_explicit(&p->share_state, memory_order_acquire);
    if (st == 2 && all_slots_shared(p)) return 0;
    if (st == 1) {
      sched_yield();
      continue;
    }
    if (!atomic_compare_exchange_weak_explicit(&p->share_state, &st, 1, memory_order_acquire,
                                               memory_order_relaxed)) {
      continue;
    }
    int rc = convert_slots(p);
    atomic_store_explicit(&p->share_state, rc ? 0 : 2, memory_order_release);
    return rc;
  }
}

static int ref_node(const struct ArrowArray* src, struct ArrowArray* out, int depth) {
  memset(out, 0, sizeof(*out));
  if (depth > 64) return EINVAL;
  if (!otap__array_is_otap(src)) return ENOTSUP;
  struct otap__array_private* sp = src->private_data;
  OTAP_RETURN_NOT_OK(share_slots(sp));
  struct otap__array_private* p = otap_calloc(1, sizeof(*p));
  if (!p) return ENOMEM;
  p->storage_type = sp->storage_type;
  p->bit_width = sp->bit_width;
  p->fixed_size = sp->fixed_size;
  p->has_validity = sp->has_validity;
  p->union_null_type_id = sp->union_null_type_id;
  atomic_init(&p->share_state, 2);  // its non-empty slots are all shared references
  out->private_data = p;
  out->release = otap__array_release;
  int rc = ENOMEM;
  p->slots = otap_calloc((size_t)(sp->n_slots ? sp->n_slots : 1), sizeof(*p->slots));
  p->ptrs = otap_calloc((size_t)sp->n_slots + 1, sizeof(*p->ptrs));
  p->children = otap_calloc((size_t)(sp->n_children ? sp->n_children : 1), sizeof(*p->children));
  if (!p->slots || !p->ptrs || !p->children) goto fail;
  if (sp->variadic_sizes) {
    int64_t nv = sp->n_slots - 2;
    p->variadic_sizes = otap_malloc((size_t)(nv > 0 ? nv : 1) * sizeof(int64_t));
    if (!p->variadic_sizes) goto fail;
    if (nv > 0) memcpy(p->variadic_sizes, sp->variadic_sizes, (size_t)nv * sizeof(int64_t));
  }
  p->n_slots = sp->n_slots;
  for (int64_t i = 0; i < sp->n_slots; i++) {
    p->slots[i] = sp->slots[i];
    if (p->slots[i].shared) {
      otap_shared_ref(p->slots[i].shared);
    } else {
      otap_buffer_init(&p->slots[i].buf);  // empty owned slot
    }
    p->ptrs[i] = otap__slot_data(&p->slots[i]);
  }
  if (sp->keepalive) {
    otap_shared_ref(sp->keepalive);
    p->keepalive = sp->keepalive;
  }
  for (int64_t i = 0; i < sp->n_children; i++) {
    p->children[i] = otap_calloc(1, sizeof(struct ArrowArray));
    if (!p->children[i]) goto fail;
    p->n_children = i + 1;
    rc = ref_node(sp->children[i], p->children[i], depth + 1);
    if (rc) goto fail;
    rc = ENOMEM;
  }
  if (sp->dictionary) {
    p->dictionary = otap_calloc(1, sizeof(struct ArrowArray));
    rc = ENOMEM;
    if (!p->dictionary) goto fail;
    rc = ref_node(sp->dictionary, p->dictionary, depth + 1);
    if (rc) goto fail;
  }
  out->length = src->length;
  out->offset = src->offset;
  out->null_count = src->null_count;
  out->n_buffers = src->n_buffers;
  if (p->variadic_sizes) p->ptrs[p->n_slots] = p->variadic_sizes;
  out->buffers = p->ptrs;
  out->n_children = p->n_children;
  out->children = p->n_children ? p->children : NULL;
  out->dictionary = p->dictionary;
  return 0;
fail:
  otap__array_release(out);
  return rc;
}

int otap_array_ref(const struct ArrowArray* src, struct ArrowArray* out, struct otap_error* err) {
  OTAP_RETURN_IF(!src || !src->release, err, EINVAL, "array ref: released array");
  OTAP_RETURN_IF(!otap__array_is_otap(src), err, ENOTSUP,
                 "array ref: foreign array (wrap it with otap_array_import first)");
  int rc = ref_node(src, out, 0);
  if (rc == ENOMEM) return otap_error_set(err, rc, "array ref: out of memory");
  OTAP_RETURN_IF(rc, err, rc, "array ref: child array is foreign, moved out or too deep");
  return 0;
}

int otap_array_slice(const struct ArrowArray* src, int64_t offset, int64_t length,
                     struct ArrowArray* out, struct otap_error* err) {
  OTAP_RETURN_IF(!src || !src->release, err, EINVAL, "array slice: released array");
  int64_t end;
  OTAP_RETURN_IF(offset < 0 || length < 0 || otap__add_ovf(offset, length, &end) ||
                     end > src->length,
                 err, EINVAL,
                 "array slice: [%" PRId64 ", +%" PRId64 ") outside array of length %" PRId64,
                 offset, length, src->length);
  OTAP_RETURN_NOT_OK(otap_array_ref(src, out, err));
  out->offset = src->offset + offset;
  out->length = length;
  struct otap__array_private* p = out->private_data;
  if (p->storage_type == OTAP_TYPE_NA) {
    out->null_count = length;
  } else if (otap__type_has_validity(p->storage_type) && p->n_slots > 0 && out->buffers[0] &&
             otap_bytes_for_bits(out->offset + length) <= otap__slot_size(&p->slots[0])) {
    out->null_count = length - otap_bitmap_count_set(out->buffers[0], out->offset, length);
  } else if (otap__type_has_validity(p->storage_type) && p->n_slots > 0 && out->buffers[0]) {
    out->null_count = -1;
  } else {
    out->null_count = 0;
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Import

struct foreign_holder {
  struct ArrowArray array;
};

static void foreign_free(void* data, void* ctx) {
  (void)ctx;
  struct foreign_holder* h = data;
  if (h->array.release) h->array.release(&h->array);
  otap_free(h);
}

// Byte size of C Data Interface buffer ci of the validated view node.
static int64_t c_buffer_size(const struct otap_array_view* v, int64_t ci) {
  switch (v->storage_type) {
    case OTAP_TYPE_SPARSE_UNION:
    case OTAP_TYPE_DENSE_UNION:
      return v->buffer_sizes[1 + ci];
    case OTAP_TYPE_STRING_VIEW:
    case OTAP_TYPE_BINARY_VIEW:
      if (ci < 2) return v->buffer_sizes[ci];
      if (ci - 2 < v->n_variadic) {
        int64_t s;
        memcpy(&s, (const uint8_t*)v->variadic_sizes + 8 * (ci - 2), 8);
        return s;
      }
      return v->n_variadic * 8;
    default:
      return ci < 3 ? v->buffer_sizes[ci] : 0;
  }
}

static int mirror(const struct otap_array_view* v, const struct ArrowArray* f,
                  struct otap_shared* keep, struct ArrowArray* out, int depth) {
  memset(out, 0, sizeof(*out));
  if (depth > 64) return EINVAL;
  bool views = v->storage_type == OTAP_TYPE_STRING_VIEW || v->storage_type == OTAP_TYPE_BINARY_VIEW;
  int64_t n_slots = views ? f->n_buffers - 1 : f->n_buffers;
  struct otap__array_private* p = otap_calloc(1, sizeof(*p));
  if (!p) return ENOMEM;
  out->private_data = p;
  out->release = otap__array_release;
  p->storage_type = v->storage_type;
  p->bit_width = v->schema.bit_width;
  p->fixed_size = v->schema.fixed_size;
  p->has_validity = otap__type_has_validity(v->storage_type);
  p->union_null_type_id = v->schema.n_union_type_ids > 0 ? v->schema.union_type_ids[0] : 0;
  otap_shared_ref(keep);
  p->keepalive = keep;
  int rc = ENOMEM;
  p->slots = otap_calloc((size_t)(n_slots ? n_slots : 1), sizeof(*p->slots));
  p->ptrs = otap_calloc((size_t)n_slots + 1, sizeof(*p->ptrs));
  p->children = otap_calloc((size_t)(f->n_children ? f->n_children : 1), sizeof(*p->children));
  if (!p->slots || !p->ptrs || !p->children) goto fail;
  if (views) {
    int64_t nv = n_slots - 2;
    p->variadic_sizes = otap_malloc((size_t)(nv > 0 ? nv : 1) * sizeof(int64_t));
    if (!p->variadic_sizes) goto fail;
    if (nv > 0) memcpy(p->variadic_sizes, v->variadic_sizes, (size_t)nv * sizeof(int64_t));
  }
  p->n_slots = n_slots;
  for (int64_t i = 0; i < n_slots; i++) {
    struct otap__slot* s = &p->slots[i];
    s->shared_data = f->buffers[i];
    s->shared_size = s->shared_data ? c_buffer_size(v, i) : 0;
    if (s->shared_size < 0) s->shared_size = 0;
    otap_shared_ref(keep);
    s->shared = keep;
    p->ptrs[i] = s->shared_data;
  }
  if (views) p->ptrs[n_slots] = p->variadic_sizes;
  for (int64_t i = 0; i < f->n_children; i++) {
    p->children[i] = otap_calloc(1, sizeof(struct ArrowArray));
    if (!p->children[i]) goto fail;
    p->n_children = i + 1;
    rc = mirror(v->children[i], f->children[i], keep, p->children[i], depth + 1);
    if (rc) goto fail;
    rc = ENOMEM;
  }
  if (f->dictionary) {
    p->dictionary = otap_calloc(1, sizeof(struct ArrowArray));
    if (!p->dictionary) goto fail;
    rc = mirror(v->dictionary, f->dictionary, keep, p->dictionary, depth + 1);
    if (rc) goto fail;
  }
  out->length = f->length;
  out->offset = f->offset;
  out->null_count = v->null_count;
  out->n_buffers = f->n_buffers;
  out->buffers = p->ptrs;
  out->n_children = p->n_children;
  out->children = p->n_children ? p->children : NULL;
  out->dictionary = p->dictionary;
  return 0;
fail:
  otap__array_release(out);
  return rc;
}

int otap_array_import(const struct ArrowSchema* schema, struct ArrowArray* in,
                      enum otap_validation level, struct ArrowArray* out,
                      struct otap_error* err) {
  OTAP_RETURN_IF(!in || !in->release, err, EINVAL, "array import: released array");
  struct otap_array_view view;
  int rc = otap_array_view_init(&view, schema, err);
  if (rc == 0) rc = otap_array_view_set(&view, in, level, err);
  if (rc) {
    otap_array_view_reset(&view);
    return otap_error_prefix(err, rc, "array import: ");
  }
  struct foreign_holder* h = otap_malloc(sizeof(*h));
  struct otap_shared* keep = NULL;
  if (!h || otap_shared_new(&keep, h, sizeof(*h), foreign_free, NULL) != 0) {
    otap_free(h);
    otap_array_view_reset(&view);
    return otap_error_set(err, ENOMEM, "array import: out of memory");
  }
  // The view points into the foreign structs, which stay put: only the base struct moves.
  memcpy(&h->array, in, sizeof(*in));
  // Re-point the view root at the holder's copy (children are the producer's and unchanged).
  view.array = &h->array;
  rc = mirror(&view, &h->array, keep, out, 0);
  otap_array_view_reset(&view);
  if (rc) {
    // Nothing was moved: hand the array back to the caller.
    h->array.release = NULL;
    otap_shared_unref(keep);
    return otap_error_set(err, rc, "array import: out of memory");
  }
  in->release = NULL;
  otap_shared_unref(keep);  // the mirror tree holds its own references
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Streams

struct stream_private {
  struct ArrowSchema schema;
  struct ArrowArray* arrays;
  int64_t n;
  int64_t next;
  struct otap_error err;
};

static int stream_get_schema(struct ArrowArrayStream* s, struct ArrowSchema* out) {
  struct stream_private* p = s->private_data;
  return otap_schema_deep_copy(&p->schema, out, &p->err);
}

static int stream_get_next(struct ArrowArrayStream* s, struct ArrowArray* out) {
  struct stream_private* p = s->private_data;
  if (p->next >= p->n) {
    memset(out, 0, sizeof(*out));
    return 0;
  }
  otap_array_move(&p->arrays[p->next++], out);
  return 0;
}

static const char* stream_last_error(struct ArrowArrayStream* s) {
  struct stream_private* p = s->private_data;
  return p->err.message[0] ? p->err.message : NULL;
}

static void stream_release(struct ArrowArrayStream* s) {
  if (!s || !s->release) return;
  struct stream_private* p = s->private_data;
  for (int64_t i = p->next; i < p->n; i++) otap_array_release(&p->arrays[i]);
  otap_free(p->arrays);
  otap_schema_release(&p->schema);
  otap_free(p);
  s->private_data = NULL;
  s->release = NULL;
}

int otap_array_stream_init(struct ArrowArrayStream* out, struct ArrowSchema* schema,
                           struct ArrowArray* arrays, int64_t n, struct otap_error* err) {
  memset(out, 0, sizeof(*out));
  OTAP_RETURN_IF(!schema || !schema->release || n < 0 || (n > 0 && !arrays), err, EINVAL,
                 "array stream: bad arguments");
  struct stream_private* p = otap_calloc(1, sizeof(*p));
  if (!p) return otap_error_set(err, ENOMEM, "array stream: out of memory");
  p->arrays = otap_calloc((size_t)(n ? n : 1), sizeof(struct ArrowArray));
  if (!p->arrays) {
    otap_free(p);
    return otap_error_set(err, ENOMEM, "array stream: out of memory");
  }
  otap_schema_move(schema, &p->schema);
  for (int64_t i = 0; i < n; i++) otap_array_move(&arrays[i], &p->arrays[i]);
  p->n = n;
  out->get_schema = stream_get_schema;
  out->get_next = stream_get_next;
  out->get_last_error = stream_last_error;
  out->release = stream_release;
  out->private_data = p;
  return 0;
}
