// Fuzz target: the store module's XML parser and its consumers (S3 ListObjectsV2 and Azure
// List Blobs pages, error pages, single-element lookups), all fed untrusted bytes.
#include <stddef.h>
#include <stdint.h>

#include "store/store_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const char* doc = (const char*)data;
  struct otap_error err;
  for (int kind = 0; kind < 2; kind++) {
    struct otap_store_list list = {0};
    struct otap__list_page page = {0};
    page.list = &list;
    page.strip = kind ? "" : "p/";
    if (kind == 0) {
      (void)otap__xml_parse_s3_list(doc, size, &page, &err);
    } else {
      (void)otap__xml_parse_azure_list(doc, size, &page, &err);
    }
    otap_free(page.next_token);
    otap_store_list_reset(&list);
  }
  char code[64], msg[256], rid[64];
  otap__xml_parse_error(doc, size, code, sizeof(code), msg, sizeof(msg), rid, sizeof(rid));
  char* v = NULL;
  if (otap__xml_find(doc, size, "InitiateMultipartUploadResult/UploadId", &v, &err) == 0) {
    otap_free(v);
  }
  return 0;
}
