#include <stdlib.h>
#include <string.h>

#include "otap/common.h"

static void* default_malloc(size_t size, void* ud) {
  (void)ud;
  return malloc(size);
}
static void* default_realloc(void* p, size_t size, void* ud) {
  (void)ud;
  return realloc(p, size);
}
static void default_free(void* p, void* ud) {
  (void)ud;
  free(p);
}

static struct otap_allocator g_alloc = {default_malloc, default_realloc, default_free, NULL};

void otap_set_allocator(const struct otap_allocator* allocator) {
  if (allocator) {
    g_alloc = *allocator;
  } else {
    g_alloc.malloc = default_malloc;
    g_alloc.realloc = default_realloc;
    g_alloc.free = default_free;
    g_alloc.user_data = NULL;
  }
}

void* otap_malloc(size_t size) { return g_alloc.malloc(size ? size : 1, g_alloc.user_data); }

void* otap_calloc(size_t n, size_t size) {
  size_t total;
  if (__builtin_mul_overflow(n, size, &total)) return NULL;
  void* p = otap_malloc(total);
  if (p) memset(p, 0, total);
  return p;
}

void* otap_realloc(void* ptr, size_t size) {
  if (!ptr) return otap_malloc(size);
  return g_alloc.realloc(ptr, size ? size : 1, g_alloc.user_data);
}

void otap_free(void* ptr) {
  if (ptr) g_alloc.free(ptr, g_alloc.user_data);
}

char* otap_strndup(const char* s, size_t n) {
  char* out = otap_malloc(n + 1);
  if (!out) return NULL;
  memcpy(out, s, n);
  out[n] = '\0';
  return out;
}

char* otap_strdup(const char* s) { return otap_strndup(s, strlen(s)); }
