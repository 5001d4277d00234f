#include <stdio.h>
#include <string.h>

#include "otap/common.h"

void otap_buffer_init(struct otap_buffer* buf) {
  buf->data = NULL;
  buf->size = 0;
  buf->capacity = 0;
}

void otap_buffer_reset(struct otap_buffer* buf) {
  otap_free(buf->data);
  otap_buffer_init(buf);
}

int otap_buffer_reserve(struct otap_buffer* buf, int64_t additional) {
  if (additional < 0) return ENOMEM;
  int64_t needed;
  if (__builtin_add_overflow(buf->size, additional, &needed) || needed > OTAP_BUFFER_DEFAULT_CAP) {
    return ENOMEM;
  }
  if (needed <= buf->capacity) return 0;
  int64_t cap = buf->capacity < 64 ? 64 : buf->capacity;
  while (cap < needed) cap = cap > OTAP_BUFFER_DEFAULT_CAP / 2 ? OTAP_BUFFER_DEFAULT_CAP : cap * 2;
  uint8_t* p = otap_realloc(buf->data, (size_t)cap);
  if (!p) return ENOMEM;
  buf->data = p;
  buf->capacity = cap;
  return 0;
}

int otap_buffer_resize(struct otap_buffer* buf, int64_t new_size, bool zero_fill) {
  if (new_size < 0) return EINVAL;
  if (new_size > buf->size) {
    OTAP_RETURN_NOT_OK(otap_buffer_reserve(buf, new_size - buf->size));
    if (zero_fill) memset(buf->data + buf->size, 0, (size_t)(new_size - buf->size));
  }
  buf->size = new_size;
  return 0;
}

int otap_buffer_append(struct otap_buffer* buf, const void* data, int64_t n) {
  if (n == 0) return 0;
  OTAP_RETURN_NOT_OK(otap_buffer_reserve(buf, n));
  memcpy(buf->data + buf->size, data, (size_t)n);
  buf->size += n;
  return 0;
}

int otap_buffer_append_fill(struct otap_buffer* buf, uint8_t value, int64_t n) {
  if (n == 0) return 0;
  OTAP_RETURN_NOT_OK(otap_buffer_reserve(buf, n));
  memset(buf->data + buf->size, value, (size_t)n);
  buf->size += n;
  return 0;
}

int otap_buffer_appendf(struct otap_buffer* buf, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0) return EINVAL;
  OTAP_RETURN_NOT_OK(otap_buffer_reserve(buf, (int64_t)n + 1));
  va_start(ap, fmt);
  vsnprintf((char*)buf->data + buf->size, (size_t)n + 1, fmt, ap);
  va_end(ap);
  buf->size += n;
  return 0;
}

void otap_buffer_move(struct otap_buffer* src, struct otap_buffer* dst) {
  *dst = *src;
  otap_buffer_init(src);
}
