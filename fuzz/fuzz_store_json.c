// Fuzz target: the store module's bounded JSON parser and its GCS consumers (objects.list
// pages, object metadata, error bodies), fed untrusted bytes.
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "store/store_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

static int count_cb(void* ctx, const char* path, enum otap__json_event ev,
                    const char* text, size_t n) {
  size_t* c = ctx;
  // Touch everything the parser hands out (ASan checks the bounds).
  *c += strlen(path) + (size_t)ev + (text ? n + (size_t)(unsigned char)text[n] : 0);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const char* doc = (const char*)data;
  struct otap_error err;
  size_t c = 0;
  (void)otap__json_parse(doc, size, count_cb, &c, &err);
  for (int strip = 0; strip < 2; strip++) {
    struct otap_store_list list = {0};
    struct otap__list_page page = {0};
    page.list = &list;
    page.strip = strip ? "p/" : "";
    (void)otap__json_parse_gcs_list(doc, size, &page, &err);
    otap_free(page.next_token);
    otap_free(page.cur_key);
    otap_store_list_reset(&list);
  }
  struct otap__gcs_meta m;
  (void)otap__json_parse_gcs_object(doc, size, &m, &err);
  char code[64], msg[256];
  otap__json_parse_error(doc, size, code, sizeof(code), msg, sizeof(msg));
  return 0;
}
