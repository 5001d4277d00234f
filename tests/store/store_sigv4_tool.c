// Prints the SigV4 Authorization header our signer produces for one request described on
// the command line, for byte-for-byte comparison with the AWS SDK signer (tests/interop).
//
// Usage: store_sigv4_tool METHOD HOST RAW_PATH AMZ_DATE REGION ACCESS_KEY SECRET TOKEN|-
//                         PAYLOAD_HASH|- [q:KEY=VALUE ...] [h:NAME=VALUE ...]
// RAW_PATH is the unencoded object path ("/bucket/key with spaces"); query values are
// raw.
#include <stdio.h>
#include <string.h>

#include "store/store_internal.h"

int main(int argc, char** argv) {
  if (argc < 10) {
    fprintf(stderr, "usage: see source\n");
    return 2;
  }
  struct otap__query_param q[32];
  struct otap__http_header h[12];
  size_t nq = 0;
  int nh = 0;
  for (int i = 10; i < argc; i++) {
    char* eq = strchr(argv[i] + 2, '=');
    if (!eq || argv[i][1] != ':') return 2;
    *eq = '\0';
    if (argv[i][0] == 'q' && nq < 32)
      q[nq++] = (struct otap__query_param){argv[i] + 2, eq + 1};
    if (argv[i][0] == 'h' && nh < 12)
      h[nh++] = (struct otap__http_header){argv[i] + 2, eq + 1};
  }
  struct otap_buffer path, query, out;
  otap_buffer_init(&path);
  otap_buffer_init(&query);
  otap_buffer_init(&out);
  if (otap__uri_encode(&path, argv[3], strlen(argv[3]), true) ||
      otap__query_build(&query, q, nq)) {
    return 1;
  }
  char hash[65];
  const char* payload = argv[9];
  if (strcmp(payload, "-") == 0) {
    otap__sha256_hex("", 0, hash);
    payload = hash;
  }
  struct otap__sigv4_input in = {argv[1],
                                 argv[2],
                                 (const char*)path.data,
                                 (const char*)query.data,
                                 h,
                                 nh,
                                 payload,
                                 argv[4],
                                 argv[6],
                                 argv[7],
                                 strcmp(argv[8], "-") ? argv[8] : NULL,
                                 argv[5],
                                 "s3"};
  struct otap_error err;
  if (otap__sigv4_authorization(&in, &out, &err)) {
    fprintf(stderr, "%s\n", err.message);
    return 1;
  }
  printf("%s\n", (const char*)out.data);
  otap_buffer_reset(&path);
  otap_buffer_reset(&query);
  otap_buffer_reset(&out);
  return 0;
}
