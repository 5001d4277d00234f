// Object store benchmark against the local S3 emulator (s3rver on 127.0.0.1, started
// here):
//  - ranged-read throughput of a 256 MiB object: one whole-object GET, sequential 8 MiB
//  ranges
//    (one in flight), and N parallel 8 MiB ranges (libcurl multi, reused connections);
//  - listing throughput (keys/s) over 10,000 keys, paginated by 1,000.
// References measured in the same run: memcpy bandwidth, a plain libcurl GET of the same
// object (no otap code on the path), and our XML listing parser alone on a 1,000-key
// page. Figures only; never pass/fail on time.
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "otap/store.h"
#include "store/store_internal.h"
#include "store_harness.h"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double mib_s(size_t bytes, double secs) {
  return (double)bytes / 1048576.0 / secs;
}

struct sink_ctx {
  uint8_t* dst;
  size_t n, cap;
};

static size_t raw_write(char* p, size_t sz, size_t nm, void* ud) {
  struct sink_ctx* c = ud;
  size_t k = sz * nm;
  if (c->n + k > c->cap) return 0;
  memcpy(c->dst + c->n, p, k);
  c->n += k;
  return k;
}

int main(int argc, char** argv) {
  size_t object = (size_t)256 << 20;
  int keys = 10000;
  if (argc > 1) object = (size_t)atol(argv[1]) << 20;
  if (argc > 2) keys = atoi(argv[2]);
  const size_t chunk = (size_t)8 << 20;
  struct store_server srv;
  if (store_server_start_s3(&srv, "bench") != 0) return 1;
  double load[1] = {0};
  FILE* la = fopen("/proc/loadavg", "r");
  if (la) {
    if (fscanf(la, "%lf", &load[0]) != 1) load[0] = 0;
    fclose(la);
  }
  printf(
      "bench_store: s3rver 3.7.1 on %s, object %zu MiB, %d keys, libcurl %s, load avg "
      "%.1f\n",
      srv.endpoint, object >> 20, keys, curl_version_info(CURLVERSION_NOW)->version,
      load[0]);

  uint8_t* data = malloc(object);
  uint8_t* got = malloc(object);
  for (size_t i = 0; i < object; i++) data[i] = (uint8_t)(i * 2654435761u >> 13);

  struct otap_store_options o;
  otap_store_options_init(&o);
  o.ignore_env = true;
  o.endpoint = srv.endpoint;
  o.access_key_id = o.secret_access_key = "S3RVER";
  o.max_parallel = 16;
  struct otap_store* s = NULL;
  struct otap_error err;
  int rc = otap_store_open(&s, "s3://bench", &o, &err);
  double t0 = now_s();
  if (!rc) rc = otap_store_put(s, "big.bin", data, object, &err);
  double t_put = now_s() - t0;
  if (rc) {
    fprintf(stderr, "setup: %s\n", err.message);
    store_server_stop(&srv);
    return 1;
  }
  printf("\n%-44s %10s %12s\n", "ranged reads of one object", "MiB/s", "seconds");
  printf("%-44s %10.0f %12.3f\n", "upload (multipart, 8 MiB parts)", mib_s(object, t_put),
         t_put);

  // Reference: memcpy (destination pre-faulted, as it is for the reads below).
  memset(got, 0, object);
  t0 = now_s();
  memcpy(got, data, object);
  double t = now_s() - t0;
  printf("%-44s %10.0f %12.3f\n", "reference: memcpy", mib_s(object, t), t);

  // Reference: plain libcurl GET, no signing (s3rver serves it), no otap code.
  CURL* e = curl_easy_init();
  char url[256];
  snprintf(url, sizeof(url), "%s/bench/big.bin", srv.endpoint);
  struct sink_ctx sc = {got, 0, object};
  curl_easy_setopt(e, CURLOPT_URL, url);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, raw_write);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, &sc);
  t0 = now_s();
  CURLcode cc = curl_easy_perform(e);
  t = now_s() - t0;
  long status = 0;
  curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(e);
  if (cc == CURLE_OK && status == 200 && sc.n == object) {
    printf("%-44s %10.0f %12.3f\n", "reference: plain libcurl GET (one stream)",
           mib_s(object, t), t);
  } else {
    printf("%-44s %10s\n", "reference: plain libcurl GET", "n/a");
  }

  // Whole-object GET through the store.
  struct otap_buffer buf;
  otap_buffer_init(&buf);
  t0 = now_s();
  rc = otap_store_get(s, "big.bin", &buf, &err);
  t = now_s() - t0;
  if (rc || buf.size != (int64_t)object || memcmp(buf.data, data, object) != 0) {
    fprintf(stderr, "get: %s\n", rc ? err.message : "wrong bytes");
    return 1;
  }
  otap_buffer_reset(&buf);
  printf("%-44s %10.0f %12.3f\n", "otap_store_get (HEAD + parallel 8 MiB pieces)", mib_s(object, t), t);

  // Sequential 8 MiB ranges, one in flight.
  t0 = now_s();
  for (size_t off = 0; off < object && !rc; off += chunk) {
    size_t len = object - off < chunk ? object - off : chunk;
    rc = otap_store_get_range(s, "big.bin", off, len, got + off, &err);
  }
  t = now_s() - t0;
  if (rc || memcmp(got, data, object) != 0) {
    fprintf(stderr, "sequential: %s\n", rc ? err.message : "wrong bytes");
    return 1;
  }
  printf("%-44s %10.0f %12.3f\n", "sequential 8 MiB ranges (1 in flight)",
         mib_s(object, t), t);

  // N parallel ranges.
  size_t nr = (object + chunk - 1) / chunk;
  struct otap_store_range* rs = calloc(nr, sizeof(*rs));
  for (int par = 2; par <= 16; par *= 2) {
    s->max_parallel = par;
    for (size_t i = 0; i < nr; i++) {
      size_t off = i * chunk;
      rs[i] = (struct otap_store_range){off, object - off < chunk ? object - off : chunk,
                                        got + off};
    }
    memset(got, 0, object);
    t0 = now_s();
    rc = otap_store_get_ranges(s, "big.bin", rs, nr, &err);
    t = now_s() - t0;
    if (rc || memcmp(got, data, object) != 0) {
      fprintf(stderr, "parallel: %s\n", rc ? err.message : "wrong bytes");
      return 1;
    }
    char label[64];
    snprintf(label, sizeof(label), "parallel 8 MiB ranges (%d in flight)", par);
    printf("%-44s %10.0f %12.3f\n", label, mib_s(object, t), t);
  }
  free(rs);

  // Listing: 10,000 keys like a partitioned table.
  s->max_parallel = 16;
  t0 = now_s();
  for (int i = 0; i < keys && !rc; i++) {
    char key[128];
    snprintf(key, sizeof(key), "t/logs/_part_id=%d/part-%05d.parquet", i % 16, i);
    rc = otap_store_put(s, key, "x", 1, &err);
  }
  double t_fill = now_s() - t0;
  if (rc) {
    fprintf(stderr, "fill: %s\n", err.message);
    return 1;
  }
  struct otap_store_list l;
  t0 = now_s();
  rc = otap_store_list(s, "t/logs/", true, &l, &err);
  t = now_s() - t0;
  if (rc || l.count != (size_t)keys) {
    fprintf(stderr, "list: %s (%zu keys)\n", rc ? err.message : "wrong count", l.count);
    return 1;
  }
  otap_store_list_reset(&l);
  printf("\n%-44s %10s %12s\n", "listing", "keys/s", "seconds");
  printf("%-44s %10.0f %12.3f\n", "create keys (sequential PUTs)", keys / t_fill, t_fill);
  printf("%-44s %10.0f %12.3f\n", "otap_store_list recursive (1,000 per page)", keys / t,
         t);
  rc = otap_store_list(s, "t/logs/_part_id=3/", true, &l, &err);
  otap_store_list_reset(&l);
  t0 = now_s();
  rc = otap_store_list(s, "t/logs/", false, &l, &err);
  t = now_s() - t0;
  printf("%-44s %10s %12.3f  (%zu prefixes)\n", "otap_store_list delimited (partitions)",
         "-", t, l.count);
  otap_store_list_reset(&l);

  // Reference: parser alone on a synthetic 1,000-key page.
  struct otap_buffer page;
  otap_buffer_init(&page);
  rc = otap_buffer_appendf(&page,
                           "<?xml version=\"1.0\"?><ListBucketResult><Name>bench</Name>");
  for (int i = 0; i < 1000 && !rc; i++) {
    rc = otap_buffer_appendf(
        &page,
        "<Contents><Key>t/logs/_part_id=%d/part-%05d.parquet</Key>"
        "<LastModified>2026-01-01T00:00:00.000Z</LastModified><ETag>&quot;"
        "9dd4e461268c8034f5c8564e155c67a6&quot;</ETag><Size>1</Size>"
        "<StorageClass>STANDARD</StorageClass></Contents>",
        i % 16, i);
  }
  if (!rc)
    rc =
        otap_buffer_appendf(&page, "<IsTruncated>false</IsTruncated></ListBucketResult>");
  int reps = 50;
  t0 = now_s();
  for (int r = 0; r < reps && !rc; r++) {
    struct otap_store_list pl = {0};
    struct otap__list_page pg;
    memset(&pg, 0, sizeof(pg));
    pg.list = &pl;
    pg.strip = "";
    rc = otap__xml_parse_s3_list((const char*)page.data, (size_t)page.size, &pg, &err);
    otap_free(pg.next_token);
    otap_store_list_reset(&pl);
  }
  t = now_s() - t0;
  printf("%-44s %10.0f %12.3f\n", "reference: XML page parsing only", 1000.0 * reps / t,
         t);
  otap_buffer_reset(&page);

  otap_store_free(s);
  store_server_stop(&srv);
  free(data);
  free(got);
  return rc ? 1 : 0;
}
