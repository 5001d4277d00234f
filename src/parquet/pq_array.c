// Arrow C Data Interface arrays and schemas produced by the Parquet reader. Buffers are
// reference counted (otap_shared), so slicing a decoded row group into batches copies nothing.
#include <pthread.h>

#include "parquet/parquet_internal.h"

static int share_buffer(struct otap_shared** out, struct otap_buffer* b);

struct pq_arr_priv {
  struct otap_shared* bufs[3];
  const void* buf_ptrs[3];
  struct ArrowArray** child_ptrs;
  struct ArrowArray* child_store;
  struct ArrowArray dict_store;
};

static void arr_release(struct ArrowArray* a) {
  if (!a || !a->release) return;
  struct pq_arr_priv* p = a->private_data;
  for (int i = 0; i < 3; i++) otap_shared_unref(p->bufs[i]);
  for (int64_t i = 0; i < a->n_children; i++) {
    if (p->child_store[i].release) p->child_store[i].release(&p->child_store[i]);
  }
  if (p->dict_store.release) p->dict_store.release(&p->dict_store);
  otap_free(p->child_ptrs);
  otap_free(p->child_store);
  otap_free(p);
  a->release = NULL;
}

static int arr_alloc(struct ArrowArray* out, int64_t n_children, struct pq_arr_priv** pp) {
  memset(out, 0, sizeof(*out));
  struct pq_arr_priv* p = otap_calloc(1, sizeof(*p));
  if (!p) return ENOMEM;
  if (n_children > 0) {
    p->child_ptrs = otap_calloc((size_t)n_children, sizeof(*p->child_ptrs));
    p->child_store = otap_calloc((size_t)n_children, sizeof(*p->child_store));
    if (!p->child_ptrs || !p->child_store) {
      otap_free(p->child_ptrs);
      otap_free(p->child_store);
      otap_free(p);
      return ENOMEM;
    }
    for (int64_t i = 0; i < n_children; i++) p->child_ptrs[i] = &p->child_store[i];
  }
  out->n_children = n_children;
  out->children = p->child_ptrs;
  out->buffers = p->buf_ptrs;
  out->private_data = p;
  out->release = arr_release;
  *pp = p;
  return 0;
}

int otap__pq_array_make(struct ArrowArray* out, int64_t length, int64_t null_count, int n_buffers,
                        struct otap_buffer* bufs, int64_t n_children, bool with_dictionary) {
  struct pq_arr_priv* p;
  if (arr_alloc(out, n_children, &p)) {
    for (int i = 0; bufs && i < n_buffers; i++) otap_buffer_reset(&bufs[i]);
    return ENOMEM;
  }
  out->length = length;
  out->null_count = null_count;
  out->n_buffers = n_buffers;
  int rc = 0;
  for (int i = 0; i < n_buffers; i++) {
    if (!bufs || !bufs[i].data) continue;
    if (rc == 0 && share_buffer(&p->bufs[i], &bufs[i]) != 0) rc = ENOMEM;
    otap_buffer_reset(&bufs[i]);
    if (p->bufs[i]) p->buf_ptrs[i] = otap_shared_data(p->bufs[i]);
  }
  if (with_dictionary) out->dictionary = &p->dict_store;
  if (rc) arr_release(out);
  return rc;
}

static int arr_ref(const struct ArrowArray* src, int64_t offset, int64_t length,
                   struct ArrowArray* out) {
  const struct pq_arr_priv* sp = src->private_data;
  struct pq_arr_priv* p;
  if (arr_alloc(out, src->n_children, &p)) return ENOMEM;
  out->length = length;
  out->offset = offset;
  out->n_buffers = src->n_buffers;
  for (int i = 0; i < 3; i++) {
    p->bufs[i] = sp->bufs[i];
    if (p->bufs[i]) otap_shared_ref(p->bufs[i]);
    p->buf_ptrs[i] = sp->buf_ptrs[i];
  }
  for (int64_t i = 0; i < src->n_children; i++) {
    const struct ArrowArray* c = src->children[i];
    if (arr_ref(c, c->offset, c->length, &p->child_store[i])) {
      arr_release(out);
      return ENOMEM;
    }
  }
  if (src->dictionary) {
    out->dictionary = &p->dict_store;
    if (arr_ref(src->dictionary, src->dictionary->offset, src->dictionary->length,
                &p->dict_store)) {
      arr_release(out);
      return ENOMEM;
    }
  }
  // Null count of the slice.
  if (src->n_buffers == 0) {
    out->null_count = length;  // null type
  } else if (!p->buf_ptrs[0]) {
    out->null_count = 0;
  } else if (offset == src->offset && length == src->length) {
    out->null_count = src->null_count;
  } else {
    out->null_count = length - otap_bitmap_count_set(p->buf_ptrs[0], offset, length);
  }
  return 0;
}

int otap__pq_array_slice(const struct ArrowArray* src, int64_t offset, int64_t length,
                         struct ArrowArray* out) {
  return arr_ref(src, offset, length, out);
}

// ---------------------------------------------------------------------------------------------
// Schemas

struct pq_schema_priv {
  char* format;
  char* name;
  char* metadata;
  struct ArrowSchema** child_ptrs;
  struct ArrowSchema* child_store;
  struct ArrowSchema dict_store;
};

static void schema_release(struct ArrowSchema* s) {
  if (!s || !s->release) return;
  struct pq_schema_priv* p = s->private_data;
  for (int64_t i = 0; i < s->n_children; i++) {
    if (p->child_store[i].release) p->child_store[i].release(&p->child_store[i]);
  }
  if (p->dict_store.release) p->dict_store.release(&p->dict_store);
  otap_free(p->format);
  otap_free(p->name);
  otap_free(p->metadata);
  otap_free(p->child_ptrs);
  otap_free(p->child_store);
  otap_free(p);
  s->release = NULL;
}

int otap__pq_schema_make(struct ArrowSchema* out, const char* format, const char* name,
                         bool nullable, int64_t n_children) {
  memset(out, 0, sizeof(*out));
  struct pq_schema_priv* p = otap_calloc(1, sizeof(*p));
  if (!p) return ENOMEM;
  p->format = otap_strdup(format);
  p->name = name ? otap_strdup(name) : NULL;
  if (n_children > 0) {
    p->child_ptrs = otap_calloc((size_t)n_children, sizeof(*p->child_ptrs));
    p->child_store = otap_calloc((size_t)n_children, sizeof(*p->child_store));
  }
  if (!p->format || (name && !p->name) ||
      (n_children > 0 && (!p->child_ptrs || !p->child_store))) {
    otap_free(p->format);
    otap_free(p->name);
    otap_free(p->child_ptrs);
    otap_free(p->child_store);
    otap_free(p);
    return ENOMEM;
  }
  for (int64_t i = 0; i < n_children; i++) p->child_ptrs[i] = &p->child_store[i];
  out->format = p->format;
  out->name = p->name;
  out->flags = nullable ? ARROW_FLAG_NULLABLE : 0;
  out->n_children = n_children;
  out->children = p->child_ptrs;
  out->private_data = p;
  out->release = schema_release;
  return 0;
}

int otap__pq_schema_set_metadata(struct ArrowSchema* s, const char* metadata, int64_t len) {
  struct pq_schema_priv* p = s->private_data;
  char* m = otap_malloc((size_t)len + 1);
  if (!m) return ENOMEM;
  memcpy(m, metadata, (size_t)len);
  m[len] = 0;
  otap_free(p->metadata);
  p->metadata = m;
  s->metadata = m;
  return 0;
}

void otap__pq_schema_add_dictionary(struct ArrowSchema* s) {
  struct pq_schema_priv* p = s->private_data;
  s->dictionary = &p->dict_store;
}

int64_t otap__pq_metadata_len(const char* m) {
  if (!m) return 0;
  int32_t n;
  memcpy(&n, m, 4);
  int64_t pos = 4;
  for (int32_t i = 0; i < n; i++) {
    int32_t l;
    memcpy(&l, m + pos, 4);
    pos += 4 + l;
    memcpy(&l, m + pos, 4);
    pos += 4 + l;
  }
  return pos;
}

int otap__pq_schema_copy(const struct ArrowSchema* src, struct ArrowSchema* out) {
  OTAP_RETURN_NOT_OK(otap__pq_schema_make(out, src->format, src->name, false, src->n_children));
  out->flags = src->flags;
  int rc = 0;
  if (src->metadata) OTAP_GOTO_NOT_OK(rc, otap__pq_schema_set_metadata(out, src->metadata, otap__pq_metadata_len(src->metadata)));
  for (int64_t i = 0; i < src->n_children; i++)
    OTAP_GOTO_NOT_OK(rc, otap__pq_schema_copy(src->children[i], out->children[i]));
  if (src->dictionary) {
    otap__pq_schema_add_dictionary(out);
    OTAP_GOTO_NOT_OK(rc, otap__pq_schema_copy(src->dictionary, out->dictionary));
  }
done:
  if (rc) schema_release(out);
  return rc;
}

// ---------------------------------------------------------------------------------------------
// Output buffer pool: memory of released batches is kept (up to a cap) and reused for the next
// batches of the same reader instead of going back to the C library, which would unmap it and
// fault fresh pages in again. Buffers may be released from any thread, after the reader.

#define PQ_POOL_MAX_BLOCKS 64
#define PQ_POOL_MAX_BYTES ((int64_t)64 << 20)

struct pq_pool {
  pthread_mutex_t mu;
  int64_t refs;  // the reader + every outstanding pooled buffer
  bool closed;
  int n;
  void* data[PQ_POOL_MAX_BLOCKS];
  int64_t cap[PQ_POOL_MAX_BLOCKS];
  int64_t bytes;
};

struct pq_pool_ref {
  struct pq_pool* pool;
  int64_t cap;
};

_Thread_local struct pq_pool* otap__pq_current_pool;

int otap__pq_pool_new(struct pq_pool** out) {
  struct pq_pool* p = otap_calloc(1, sizeof(*p));
  if (!p) return ENOMEM;
  if (pthread_mutex_init(&p->mu, NULL) != 0) {
    otap_free(p);
    return ENOMEM;
  }
  p->refs = 1;
  *out = p;
  return 0;
}

static void pool_destroy(struct pq_pool* p) {
  for (int i = 0; i < p->n; i++) otap_free(p->data[i]);
  pthread_mutex_destroy(&p->mu);
  otap_free(p);
}

static void pool_unref(struct pq_pool* p) {
  pthread_mutex_lock(&p->mu);
  bool last = --p->refs == 0;
  pthread_mutex_unlock(&p->mu);
  if (last) pool_destroy(p);
}

void otap__pq_pool_close(struct pq_pool* p) {
  if (!p) return;
  pthread_mutex_lock(&p->mu);
  p->closed = true;
  for (int i = 0; i < p->n; i++) otap_free(p->data[i]);
  p->n = 0;
  p->bytes = 0;
  pthread_mutex_unlock(&p->mu);
  pool_unref(p);
}

static void pool_free(void* data, void* ctx) {
  struct pq_pool_ref* pr = ctx;
  struct pq_pool* p = pr->pool;
  bool keep = false;
  pthread_mutex_lock(&p->mu);
  if (!p->closed && p->n < PQ_POOL_MAX_BLOCKS && p->bytes + pr->cap <= PQ_POOL_MAX_BYTES) {
    p->data[p->n] = data;
    p->cap[p->n++] = pr->cap;
    p->bytes += pr->cap;
    keep = true;
  }
  pthread_mutex_unlock(&p->mu);
  if (!keep) otap_free(data);
  otap_free(pr);
  pool_unref(p);
}

int otap__pq_out_reserve(struct otap_buffer* b, int64_t n) {
  struct pq_pool* p = otap__pq_current_pool;
  if (p && !b->data && n >= 4096) {
    pthread_mutex_lock(&p->mu);
    int best = -1;
    for (int i = 0; i < p->n; i++)
      if (p->cap[i] >= n && (best < 0 || p->cap[i] < p->cap[best])) best = i;
    if (best >= 0 && p->cap[best] <= 4 * n + 65536) {
      b->data = p->data[best];
      b->capacity = p->cap[best];
      b->size = 0;
      p->bytes -= p->cap[best];
      p->data[best] = p->data[p->n - 1];
      p->cap[best] = p->cap[p->n - 1];
      p->n--;
    }
    pthread_mutex_unlock(&p->mu);
  }
  return otap_buffer_reserve(b, n - b->size > 0 ? n - b->size : 0);
}

int otap__pq_out_resize(struct otap_buffer* b, int64_t n, bool zero_fill) {
  OTAP_RETURN_NOT_OK(otap__pq_out_reserve(b, n));
  return otap_buffer_resize(b, n, zero_fill);
}

int otap__pq_out_append(struct otap_buffer* b, const void* data, int64_t n) {
  OTAP_RETURN_NOT_OK(otap__pq_out_reserve(b, b->size + n));
  return otap_buffer_append(b, data, n);
}

/// Wraps a finished buffer as shared memory that returns to the current pool when released.
static int share_buffer(struct otap_shared** out, struct otap_buffer* b) {
  struct pq_pool* p = otap__pq_current_pool;
  if (!p || b->capacity < 4096) return otap_shared_from_buffer(out, b);
  struct pq_pool_ref* pr = otap_malloc(sizeof(*pr));
  if (!pr) return ENOMEM;
  pr->pool = p;
  pr->cap = b->capacity;
  if (otap_shared_new(out, b->data, b->size, pool_free, pr) != 0) {
    otap_free(pr);
    return ENOMEM;
  }
  pthread_mutex_lock(&p->mu);
  p->refs++;
  pthread_mutex_unlock(&p->mu);
  otap_buffer_init(b);  // the memory now belongs to the shared block
  return 0;
}
