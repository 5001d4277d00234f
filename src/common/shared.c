#include <stdatomic.h>

#include "otap/common.h"

struct otap_shared {
  atomic_long refs;
  void* data;
  int64_t size;
  void (*free_fn)(void* data, void* ctx);
  void* ctx;
};

int otap_shared_new(struct otap_shared** out, void* data, int64_t size,
                    void (*free_fn)(void* data, void* ctx), void* ctx) {
  struct otap_shared* s = otap_malloc(sizeof(*s));
  if (!s) return ENOMEM;
  atomic_init(&s->refs, 1);
  s->data = data;
  s->size = size;
  s->free_fn = free_fn;
  s->ctx = ctx;
  *out = s;
  return 0;
}

int otap_shared_from_buffer(struct otap_shared** out, struct otap_buffer* buf) {
  OTAP_RETURN_NOT_OK(otap_shared_new(out, buf->data, buf->size, NULL, NULL));
  otap_buffer_init(buf);
  return 0;
}

void otap_shared_ref(struct otap_shared* s) { atomic_fetch_add(&s->refs, 1); }

void otap_shared_unref(struct otap_shared* s) {
  if (!s) return;
  if (atomic_fetch_sub(&s->refs, 1) == 1) {
    if (s->free_fn) {
      s->free_fn(s->data, s->ctx);
    } else {
      otap_free(s->data);
    }
    otap_free(s);
  }
}

const uint8_t* otap_shared_data(const struct otap_shared* s) { return s->data; }
int64_t otap_shared_size(const struct otap_shared* s) { return s->size; }
