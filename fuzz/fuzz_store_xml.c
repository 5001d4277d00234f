// Fuzz target: the store module's XML parser and its consumers (S3 ListObjectsV2 and
// Azure List Blobs pages, error pages, single-element lookups), plus store URL and Azure
// connection string parsing, all fed untrusted bytes.
#include <stddef.h>
#include <stdint.h>
#include <string.h>

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
  otap__xml_parse_error(doc, size, code, sizeof(code), msg, sizeof(msg), rid,
                        sizeof(rid));
  char* v = NULL;
  if (otap__xml_find(doc, size, "InitiateMultipartUploadResult/UploadId", &v, &err) ==
      0) {
    otap_free(v);
  }
  // Short inputs are also store URLs and Azure connection strings (no network is touched:
  // opening only parses and never connects; local paths are only resolved).
  if (size > 0 && size < 512 && !memchr(data, 0, size)) {
    char text[512];
    memcpy(text, data, size);
    text[size] = '\0';
    struct otap_store_options o;
    otap_store_options_init(&o);
    o.ignore_env = true;
    struct otap_store* s = NULL;
    if (otap_store_open(&s, text, &o, &err) == 0) otap_store_free(s);
    o.azure_connection_string = text;
    if (otap_store_open(&s, "az://container/prefix", &o, &err) == 0) otap_store_free(s);
  }
  return 0;
}
