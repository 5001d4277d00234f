// GCS JSON API benchmark against tests/interop/gcs_server.mjs (started here on 127.0.0.1
// with a bearer token):
//  - whole-object read (HEAD + 8 MiB ranges, pinned generation, 8 in flight) of an object;
//  - uploads: simple (one POST, 16 MiB) and resumable (8 MiB chunks, 308 per chunk);
//  - listing throughput (keys/s), 1,000 keys per page;
//  - our JSON listing parser alone on a 1,000-item page, next to our XML parser on the
//    equivalent S3 page.
// References in the same run: memcpy and a plain libcurl GET of the same object with the
// same token (no otap code on the path). Figures only; never pass/fail on time.
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "otap/store.h"
#include "store/store_internal.h"
#include "store_harness.h"

#define TOKEN "ya29.bench-token"

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

static void parse_pages(int reps) {
  struct otap_buffer js, xml;
  otap_buffer_init(&js);
  otap_buffer_init(&xml);
  int bad = otap_buffer_appendf(&js, "{\"kind\":\"storage#objects\",\"items\":[");
  bad |= otap_buffer_appendf(&xml, "<?xml version=\"1.0\"?><ListBucketResult><Name>b</Name>");
  for (int i = 0; i < 1000; i++) {
    bad |= otap_buffer_appendf(
        &js,
        "%s{\"kind\":\"storage#object\",\"id\":\"b/t/logs/_part_id=%d/part-%05d.parquet/"
        "1700000000000001\",\"name\":\"t/logs/_part_id=%d/part-%05d.parquet\","
        "\"bucket\":\"b\",\"generation\":\"1700000000000001\",\"metageneration\":\"1\","
        "\"contentType\":\"application/octet-stream\",\"size\":\"%d\",\"md5Hash\":"
        "\"1B2M2Y8AsgTpgAmY7PhCfg==\",\"etag\":\"CAE=\",\"updated\":"
        "\"2026-11-22T01:02:03.456Z\"}",
        i ? "," : "", i % 16, i, i % 16, i, 1000 + i);
    bad |= otap_buffer_appendf(
        &xml,
        "<Contents><Key>t/logs/_part_id=%d/part-%05d.parquet</Key><LastModified>"
        "2026-11-22T01:02:03.456Z</LastModified><ETag>&quot;d41d8cd98f00b204e9800998ecf8427e"
        "&quot;</ETag><Size>%d</Size><StorageClass>STANDARD</StorageClass></Contents>",
        i % 16, i, 1000 + i);
  }
  bad |= otap_buffer_appendf(&js, "],\"nextPageToken\":\"dG9rZW4=\"}");
  bad |= otap_buffer_appendf(&xml, "<IsTruncated>false</IsTruncated></ListBucketResult>");
  if (bad) return;
  for (int kind = 0; kind < 2; kind++) {
    double t0 = now_s();
    for (int r = 0; r < reps; r++) {
      struct otap_store_list list = {0};
      struct otap__list_page pg;
      memset(&pg, 0, sizeof(pg));
      pg.list = &list;
      pg.strip = "";
      struct otap_error err;
      int rc = kind == 0 ? otap__json_parse_gcs_list((const char*)js.data, (size_t)js.size,
                                                     &pg, &err)
                         : otap__xml_parse_s3_list((const char*)xml.data, (size_t)xml.size,
                                                   &pg, &err);
      if (rc || list.count != 1000) printf("parse failed: %s\n", err.message);
      otap_free(pg.next_token);
      otap_free(pg.cur_key);
      otap_store_list_reset(&list);
    }
    double t = now_s() - t0;
    printf("%-48s %10.0f keys/s (%lld-byte page)\n",
           kind == 0 ? "JSON page parsing only (GCS objects.list)"
                     : "reference: XML page parsing only (S3 page)",
           1000.0 * reps / t, (long long)(kind == 0 ? js.size : xml.size));
  }
  otap_buffer_reset(&js);
  otap_buffer_reset(&xml);
}

int main(int argc, char** argv) {
  size_t object = (size_t)64 << 20;
  int keys = 3000;
  if (argc > 1) object = (size_t)atol(argv[1]) << 20;
  if (argc > 2) keys = atoi(argv[2]);
  struct store_server srv;
  if (store_server_start_gcs(&srv, TOKEN) != 0) return 1;
  double load = 0;
  FILE* la = fopen("/proc/loadavg", "r");
  if (la) {
    if (fscanf(la, "%lf", &load) != 1) load = 0;
    fclose(la);
  }
  printf("bench_store_gcs: gcs_server.mjs on %s, object %zu MiB, %d keys, libcurl %s, "
         "load avg %.1f\n",
         srv.endpoint, object >> 20, keys, curl_version_info(CURLVERSION_NOW)->version,
         load);
  uint8_t* data = malloc(object);
  uint8_t* back = malloc(object);
  for (size_t i = 0; i < object; i++) data[i] = (uint8_t)((i * 2654435761u) >> 13);
  struct otap_store_options o;
  otap_store_options_init(&o);
  o.ignore_env = true;
  o.endpoint = srv.endpoint;
  o.bearer_token = TOKEN;
  struct otap_store* s = NULL;
  struct otap_error err;
  int rc = otap_store_open(&s, "gs://bench/", &o, &err);
  if (rc) {
    printf("open: %s\n", err.message);
    return 1;
  }
  // Uploads.
  size_t small = object < ((size_t)16 << 20) ? object : ((size_t)16 << 20);
  double t0 = now_s();
  rc = otap_store_put(s, "small.bin", data, small, &err);
  double t = now_s() - t0;
  if (rc) printf("put: %s\n", err.message);
  printf("%-48s %10.1f MiB/s\n", "upload, simple (one POST, 16 MiB)", mib_s(small, t));
  t0 = now_s();
  rc = otap_store_put(s, "obj.bin", data, object, &err);
  t = now_s() - t0;
  if (rc) printf("put: %s\n", err.message);
  printf("%-48s %10.1f MiB/s\n", "upload, resumable (8 MiB chunks)", mib_s(object, t));
  // Reference: memcpy.
  t0 = now_s();
  memcpy(back, data, object);
  t = now_s() - t0;
  printf("%-48s %10.1f MiB/s\n", "reference: memcpy", mib_s(object, t));
  // Reference: a plain libcurl GET with the token.
  char url[512], auth[128];
  snprintf(url, sizeof(url), "%s/download/storage/v1/b/bench/o/obj.bin?alt=media",
           srv.endpoint);
  snprintf(auth, sizeof(auth), "Authorization: Bearer %s", TOKEN);
  CURL* e = curl_easy_init();
  struct curl_slist* h = curl_slist_append(NULL, auth);
  struct sink_ctx c = {back, 0, object};
  curl_easy_setopt(e, CURLOPT_URL, url);
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, raw_write);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, &c);
  t0 = now_s();
  CURLcode cc = curl_easy_perform(e);
  t = now_s() - t0;
  curl_easy_cleanup(e);
  curl_slist_free_all(h);
  printf("%-48s %10.1f MiB/s%s\n", "reference: plain libcurl GET, one stream",
         mib_s(object, t), cc == CURLE_OK && c.n == object ? "" : " (FAILED)");
  // otap_store_get.
  struct otap_buffer buf;
  otap_buffer_init(&buf);
  t0 = now_s();
  rc = otap_store_get(s, "obj.bin", &buf, &err);
  t = now_s() - t0;
  bool same = rc == 0 && buf.size == (int64_t)object && memcmp(buf.data, data, object) == 0;
  printf("%-48s %10.1f MiB/s%s\n", "otap_store_get (HEAD + 8 MiB ranges, 8 in flight)",
         mib_s(object, t), same ? "" : " (FAILED)");
  otap_buffer_reset(&buf);
  // Listing.
  t0 = now_s();
  for (int i = 0; i < keys; i++) {
    char k[128];
    snprintf(k, sizeof(k), "t/logs/_part_id=%d/part-%05d.parquet", i % 16, i);
    if (otap_store_put(s, k, (const uint8_t*)k, strlen(k), &err)) {
      printf("put: %s\n", err.message);
      break;
    }
  }
  t = now_s() - t0;
  printf("%-48s %10.0f keys/s\n", "create the keys (sequential simple uploads)", keys / t);
  struct otap_store_list l;
  t0 = now_s();
  rc = otap_store_list(s, "t/", true, &l, &err);
  t = now_s() - t0;
  printf("%-48s %10.0f keys/s (%zu keys)\n", "list, recursive (1,000 per page)",
         l.count / t, rc ? 0 : l.count);
  otap_store_list_reset(&l);
  t0 = now_s();
  rc = otap_store_list(s, "t/logs/", false, &l, &err);
  t = now_s() - t0;
  printf("%-48s %10.3f s (%zu prefixes)\n", "list partitions (delimited)", t,
         rc ? 0 : l.count);
  otap_store_list_reset(&l);
  parse_pages(200);
  otap_store_free(s);
  store_server_stop(&srv);
  free(data);
  free(back);
  return 0;
}
