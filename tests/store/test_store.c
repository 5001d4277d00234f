// Tests of the store module: XML parser, signing, URL/options handling, the local
// backend, and every operation against real S3 (s3rver) and Azure (Azurite) emulators on
// 127.0.0.1, plus retries and failure reporting through a fault-injection proxy.
// cmocka.h needs these first.
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "otap/store.h"
#include "store/store_internal.h"
#include "store_harness.h"
#include "testutil.h"

static uint8_t pattern_byte(uint64_t i) {
  return (uint8_t)((i * 131u) ^ (i >> 9) ^ (i >> 17));
}

static uint8_t* make_data(size_t n) {
  uint8_t* d = malloc(n ? n : 1);
  for (size_t i = 0; i < n; i++) d[i] = pattern_byte(i);
  return d;
}

// ---------------------------------------------------------------------------------------------
// XML

static const char kS3List[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
    "<Name>b</Name><Prefix>base/</Prefix><KeyCount>3</KeyCount>"
    "<!-- a comment -->"
    "<Contents><Key>base/a&amp;b.parquet</Key><LastModified>2024-01-02T03:04:05.000Z</"
    "LastModified>"
    "<ETag>&quot;x&quot;</ETag><Size>123</Size></Contents>"
    "<Contents><Key><![CDATA[base/<c>.parquet]]></Key><Size>0</Size></Contents>"
    "<CommonPrefixes><Prefix>base/dir&#x2F;</Prefix></CommonPrefixes>"
    "<IsTruncated>true</IsTruncated><NextContinuationToken>tok+/=</NextContinuationToken>"
    "<Empty/></ListBucketResult>";

static void test_xml_s3_list(void** state) {
  (void)state;
  struct otap_store_list list = {0};
  struct otap__list_page page;
  memset(&page, 0, sizeof(page));
  page.list = &list;
  page.strip = "base/";
  struct otap_error err;
  assert_int_equal(otap__xml_parse_s3_list(kS3List, strlen(kS3List), &page, &err), 0);
  assert_int_equal(list.count, 3);
  assert_string_equal(list.items[0].key, "a&b.parquet");
  assert_int_equal(list.items[0].size, 123);
  assert_int_equal(list.items[0].mtime, 1704164645);
  assert_string_equal(list.items[1].key, "<c>.parquet");
  assert_int_equal(list.items[1].size, 0);
  assert_string_equal(list.items[2].key, "dir/");
  assert_true(list.items[2].is_prefix);
  assert_true(page.truncated);
  assert_string_equal(page.next_token, "tok+/=");
  otap_free(page.next_token);
  otap_store_list_reset(&list);
}

static void test_xml_azure_list(void** state) {
  (void)state;
  const char* xml =
      "\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults "
      "ServiceEndpoint=\"http://x/\" ContainerName=\"c\"><Prefix>p/</Prefix><Blobs>"
      "<Blob><Name>p/one</Name><Properties><Last-Modified>Tue, 02 Jan 2024 03:04:05 GMT"
      "</Last-Modified><Content-Length>77</Content-Length></Properties></Blob>"
      "<BlobPrefix><Name>p/sub/</Name></BlobPrefix></Blobs><NextMarker>m1</NextMarker>"
      "</EnumerationResults>";
  struct otap_store_list list = {0};
  struct otap__list_page page;
  memset(&page, 0, sizeof(page));
  page.list = &list;
  page.strip = "p/";
  struct otap_error err;
  assert_int_equal(otap__xml_parse_azure_list(xml, strlen(xml), &page, &err), 0);
  assert_int_equal(list.count, 2);
  assert_string_equal(list.items[0].key, "one");
  assert_int_equal(list.items[0].size, 77);
  assert_int_equal(list.items[0].mtime, 1704164645);
  assert_string_equal(list.items[1].key, "sub/");
  assert_true(page.truncated);
  assert_string_equal(page.next_token, "m1");
  otap_free(page.next_token);
  otap_store_list_reset(&list);
}

static int count_cb(void* ctx, const char* path, const char* text, size_t n) {
  (void)path;
  (void)text;
  (void)n;
  (*(int*)ctx)++;
  return 0;
}

static void test_xml_malformed(void** state) {
  (void)state;
  static const struct {
    const char* doc;
    int rc;
  } cases[] = {
      {"", EINVAL},
      {"<a>", EINVAL},
      {"<a></b>", EINVAL},
      {"<a><b></a></b>", EINVAL},
      {"</a>", EINVAL},
      {"<a>&bogus;</a>", EINVAL},
      {"<a>&#0;</a>", EINVAL},
      {"<a>&#x110000;</a>", EINVAL},
      {"<a>&#xD800;</a>", EINVAL},
      {"<a>&amp</a>", EINVAL},
      {"<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>", ENOTSUP},
      {"<a><![CDATA[x</a>", EINVAL},
      {"<a><!-- x</a>", EINVAL},
      {"<a b=c></a>", EINVAL},
      {"<a b=\"c></a>", EINVAL},
      {"<a/><b/>", EINVAL},
      {"text<a/>", EINVAL},
      {"<a x='1' y=\"2\"/>", 0},
      {"<a>&#65;&#x42;&lt;&gt;&apos;</a>", 0},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    struct otap_error err;
    int n = 0;
    int rc = otap__xml_parse(cases[i].doc, strlen(cases[i].doc), count_cb, &n, &err);
    if (rc != cases[i].rc)
      fail_msg("case %zu (%s): rc %d, want %d", i, cases[i].doc, rc, cases[i].rc);
    if (rc) assert_non_null(strstr(err.message, "byte"));
  }
  // Depth cap.
  char deep[40 * 3 + 40 * 4 + 1] = "";
  for (int i = 0; i < 40; i++) strcat(deep, "<a>");
  for (int i = 0; i < 40; i++) strcat(deep, "</a>");
  struct otap_error err;
  int n = 0;
  assert_int_equal(otap__xml_parse(deep, strlen(deep), count_cb, &n, &err), EINVAL);
  assert_non_null(strstr(err.message, "deep"));
  // Text cap.
  size_t big = OTAP_XML_MAX_TEXT + 16;
  char* doc = malloc(big + 8);
  memcpy(doc, "<a>", 3);
  memset(doc + 3, 'x', big);
  memcpy(doc + 3 + big, "</a>", 4);
  assert_int_equal(otap__xml_parse(doc, big + 7, count_cb, &n, &err), EINVAL);
  assert_non_null(strstr(err.message, "too long"));
  free(doc);
  // Every prefix of a valid document is rejected cleanly (no crash, no leak).
  for (size_t k = 0; k < strlen(kS3List); k++) {
    struct otap_store_list list = {0};
    struct otap__list_page page;
    memset(&page, 0, sizeof(page));
    page.list = &list;
    page.strip = "base/";
    assert_int_not_equal(otap__xml_parse_s3_list(kS3List, k, &page, &err), 0);
    otap_free(page.next_token);
    otap_store_list_reset(&list);
  }
}

static void test_xml_error_page(void** state) {
  (void)state;
  const char* xml =
      "<?xml version=\"1.0\"?><Error><Code>NoSuchKey</Code><Message>The key\ndoes not "
      "exist</Message><Key>k</Key><RequestId>ABC123</RequestId></Error>";
  char code[32], msg[64], rid[32];
  otap__xml_parse_error(xml, strlen(xml), code, sizeof(code), msg, sizeof(msg), rid,
                        sizeof(rid));
  assert_string_equal(code, "NoSuchKey");
  assert_string_equal(msg, "The key does not exist");
  assert_string_equal(rid, "ABC123");
  otap__xml_parse_error("garbage", 7, code, sizeof(code), msg, sizeof(msg), rid,
                        sizeof(rid));
  assert_string_equal(code, "");
  char* v = NULL;
  struct otap_error err;
  assert_int_equal(
      otap__xml_find("<R><UploadId>u-1</UploadId></R>", 31, "R/UploadId", &v, &err), 0);
  assert_string_equal(v, "u-1");
  otap_free(v);
  assert_int_equal(otap__xml_find("<R></R>", 7, "R/UploadId", &v, &err), EINVAL);
}

// ---------------------------------------------------------------------------------------------
// Signing

static void test_sigv4_aws_example(void** state) {
  (void)state;
  // The "GET Object" example of the AWS S3 SigV4 documentation.
  struct otap__http_header range = {"range", "bytes=0-9"};
  char hash[65];
  otap__sha256_hex("", 0, hash);
  assert_string_equal(hash,
                      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  struct otap__sigv4_input in = {"GET",
                                 "examplebucket.s3.amazonaws.com",
                                 "/test.txt",
                                 "",
                                 &range,
                                 1,
                                 hash,
                                 "20130524T000000Z",
                                 "AKIAIOSFODNN7EXAMPLE",
                                 "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                                 NULL,
                                 "us-east-1",
                                 "s3"};
  struct otap_buffer out;
  otap_buffer_init(&out);
  struct otap_error err;
  assert_int_equal(otap__sigv4_authorization(&in, &out, &err), 0);
  assert_string_equal(
      (const char*)out.data,
      "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/"
      "aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
      "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  otap_buffer_reset(&out);
}

static void test_uri_and_query(void** state) {
  (void)state;
  struct otap_buffer b;
  otap_buffer_init(&b);
  assert_int_equal(otap__uri_encode(&b, "a b/c~d=é+", strlen("a b/c~d=é+"), true), 0);
  assert_string_equal((const char*)b.data, "a%20b/c~d%3D%C3%A9%2B");
  b.size = 0;
  struct otap__query_param p[] = {{"prefix", "x/y z"},
                                  {"list-type", "2"},
                                  {"a", NULL},
                                  {"continuation-token", "t+=/"}};
  assert_int_equal(otap__query_build(&b, p, 4), 0);
  assert_string_equal((const char*)b.data,
                      "a=&continuation-token=t%2B%3D%2F&list-type=2&prefix=x%2Fy%20z");
  b.size = 0;
  assert_int_equal(otap__uri_decode(&b, "a%2Fb%zz+", 9), 0);
  assert_string_equal((const char*)b.data, "a/b%zz ");
  otap_buffer_reset(&b);
  uint8_t raw[8];
  size_t n;
  assert_int_equal(otap__base64_decode("aGVsbG8=", raw, sizeof(raw), &n), 0);
  assert_int_equal(n, 5);
  assert_memory_equal(raw, "hello", 5);
  assert_int_not_equal(otap__base64_decode("aGVsbG8", raw, sizeof(raw), &n), 0);
  char date[64];
  otap__format_http_date(1704164645, date);
  assert_string_equal(date, "Tue, 02 Jan 2024 03:04:05 GMT");
  assert_int_equal(otap__parse_http_date(date), 1704164645);
  otap__format_amz_date(1704164645, date);
  assert_string_equal(date, "20240102T030405Z");
}

static char g_tmp[256];

static void make_tmpdir(void) {
  snprintf(g_tmp, sizeof(g_tmp), "/tmp/otap-store-test-XXXXXX");
  assert_non_null(mkdtemp(g_tmp));
}

static void rm_tmpdir(void) {
  char cmd[400];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g_tmp);
  assert_int_equal(system(cmd), 0);
}

// ---------------------------------------------------------------------------------------------
// URLs and options

static void test_open_urls(void** state) {
  (void)state;
  struct otap_store_options o;
  otap_store_options_init(&o);
  o.ignore_env = true;
  o.access_key_id = "AKID";
  o.secret_access_key = "SECRETSECRET";
  struct otap_store* s = NULL;
  struct otap_error err;
  assert_int_equal(otap_store_open(&s, "s3://my-bucket/some/prefix", &o, &err), 0);
  assert_string_equal(otap_store_url(s), "s3://my-bucket/some/prefix/");
  assert_string_equal(s->base_url, "https://my-bucket.s3.us-east-1.amazonaws.com");
  assert_false(s->path_style);
  assert_string_equal(s->prefix, "some/prefix/");
  otap_store_free(s);

  o.endpoint = "http://127.0.0.1:9000/";
  o.region = "eu-west-1";
  assert_int_equal(otap_store_open(&s, "s3://b", &o, &err), 0);
  assert_true(s->path_style);
  assert_string_equal(s->base_url, "http://127.0.0.1:9000");
  assert_string_equal(s->host, "127.0.0.1:9000");
  assert_string_equal(s->region, "eu-west-1");
  assert_string_equal(s->prefix, "");
  assert_null(strstr(otap_store_url(s), "SECRET"));
  otap_store_free(s);

  // Environment variables (as the AWS SDKs use them).
  setenv("AWS_ACCESS_KEY_ID", "ENVKEY", 1);
  setenv("AWS_SECRET_ACCESS_KEY", "ENVSECRET", 1);
  setenv("AWS_SESSION_TOKEN", "ENVTOKEN", 1);
  setenv("AWS_REGION", "ap-south-1", 1);
  setenv("AWS_ENDPOINT_URL", "https://minio.example:443", 1);
  assert_int_equal(otap_store_open(&s, "s3://bkt/p", NULL, &err), 0);
  assert_string_equal(s->access_key_id, "ENVKEY");
  assert_string_equal(s->session_token, "ENVTOKEN");
  assert_string_equal(s->region, "ap-south-1");
  assert_string_equal(s->host, "minio.example");
  assert_true(s->path_style);
  otap_store_free(s);
  unsetenv("AWS_ACCESS_KEY_ID");
  unsetenv("AWS_SECRET_ACCESS_KEY");
  unsetenv("AWS_SESSION_TOKEN");
  unsetenv("AWS_REGION");
  unsetenv("AWS_ENDPOINT_URL");

  // Shared credentials and config files, as the SDKs read them (profile from
  // AWS_PROFILE).
  make_tmpdir();
  char cred[400], conf[400];
  snprintf(cred, sizeof(cred), "%s/credentials", g_tmp);
  snprintf(conf, sizeof(conf), "%s/config", g_tmp);
  FILE* f = fopen(cred, "w");
  fputs(
      "[default]\naws_access_key_id = DEFKEY\naws_secret_access_key = DEFSECRET\n\n"
      "# comment\n[work]\naws_access_key_id=WORKKEY\n  aws_secret_access_key =  "
      "WORKSECRET  \n"
      "aws_session_token = WORKTOKEN\n",
      f);
  fclose(f);
  f = fopen(conf, "w");
  fputs("[default]\nregion = eu-north-1\n[profile work]\nregion=sa-east-1\n", f);
  fclose(f);
  setenv("AWS_SHARED_CREDENTIALS_FILE", cred, 1);
  setenv("AWS_CONFIG_FILE", conf, 1);
  assert_int_equal(otap_store_open(&s, "s3://bkt", NULL, &err), 0);
  assert_string_equal(s->access_key_id, "DEFKEY");
  assert_string_equal(s->secret_access_key, "DEFSECRET");
  assert_null(s->session_token);
  assert_string_equal(s->region, "eu-north-1");
  otap_store_free(s);
  setenv("AWS_PROFILE", "work", 1);
  assert_int_equal(otap_store_open(&s, "s3://bkt", NULL, &err), 0);
  assert_string_equal(s->access_key_id, "WORKKEY");
  assert_string_equal(s->secret_access_key, "WORKSECRET");
  assert_string_equal(s->session_token, "WORKTOKEN");
  assert_string_equal(s->region, "sa-east-1");
  assert_string_equal(s->base_url, "https://bkt.s3.sa-east-1.amazonaws.com");
  otap_store_free(s);
  // The environment's keys win over the file; AWS_ENDPOINT_URL_S3 over AWS_ENDPOINT_URL.
  setenv("AWS_ACCESS_KEY_ID", "ENVKEY", 1);
  setenv("AWS_SECRET_ACCESS_KEY", "ENVSECRET", 1);
  setenv("AWS_ENDPOINT_URL", "http://a.example:1", 1);
  setenv("AWS_ENDPOINT_URL_S3", "http://s3.example:2", 1);
  assert_int_equal(otap_store_open(&s, "s3://bkt", NULL, &err), 0);
  assert_string_equal(s->access_key_id, "ENVKEY");
  assert_string_equal(s->host, "s3.example:2");
  otap_store_free(s);
  unsetenv("AWS_ACCESS_KEY_ID");
  unsetenv("AWS_SECRET_ACCESS_KEY");
  unsetenv("AWS_ENDPOINT_URL");
  unsetenv("AWS_ENDPOINT_URL_S3");
  unsetenv("AWS_PROFILE");
  unsetenv("AWS_SHARED_CREDENTIALS_FILE");
  unsetenv("AWS_CONFIG_FILE");
  rm_tmpdir();

  // GCS: HMAC keys or an OAuth token; default endpoint storage.googleapis.com.
  struct otap_store_options g;
  otap_store_options_init(&g);
  g.ignore_env = true;
  g.bearer_token = "ya29.token";
  assert_int_equal(otap_store_open(&s, "gs://gbucket/x", &g, &err), 0);
  assert_int_equal(s->auth, OTAP_AUTH_BEARER);
  assert_string_equal(s->base_url, "https://storage.googleapis.com");
  assert_string_equal(otap_store_url(s), "gs://gbucket/x/");
  otap_store_free(s);

  // Azure: connection string (Azurite form), https account URL, SAS.
  struct otap_store_options a;
  otap_store_options_init(&a);
  a.ignore_env = true;
  a.azure_connection_string =
      "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey="
      "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/"
      "KBHBeksoGMGw==;"
      "BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;";
  assert_int_equal(otap_store_open(&s, "az://cont/pre", &a, &err), 0);
  assert_int_equal(s->auth, OTAP_AUTH_SHARED_KEY);
  assert_string_equal(s->account, "devstoreaccount1");
  assert_string_equal(s->base_url, "http://127.0.0.1:10000");
  assert_string_equal(s->path_base, "/devstoreaccount1");
  assert_string_equal(otap_store_url(s), "az://cont/pre/");
  otap_store_free(s);
  a.azure_connection_string = NULL;
  a.azure_sas_token = "?sv=2021&sig=SIGSECRET";
  assert_int_equal(
      otap_store_open(&s, "https://acct1.blob.core.windows.net/c/p/q", &a, &err), 0);
  assert_string_equal(s->account, "acct1");
  assert_string_equal(s->base_url, "https://acct1.blob.core.windows.net");
  assert_int_equal(s->auth, OTAP_AUTH_SAS);
  assert_string_equal(s->prefix, "p/q/");
  assert_null(strstr(otap_store_url(s), "SIGSECRET"));
  otap_store_free(s);

  // Errors.
  assert_int_equal(otap_store_open(&s, "ftp://x/y", &o, &err), ENOTSUP);
  assert_null(s);
  assert_int_equal(otap_store_open(&s, "s3://", &o, &err), EINVAL);
  assert_int_equal(otap_store_open(&s, "s3://bad bucket/x", &o, &err), EINVAL);
  a.azure_sas_token = NULL;
  assert_int_equal(otap_store_open(&s, "az://c/p", &a, &err), EINVAL);
  assert_non_null(strstr(err.message, "AZURE_STORAGE_ACCOUNT"));
  assert_int_equal(otap_store_open(&s, "/nonexistent/otap/dir", NULL, &err), ENOENT);
  o.endpoint = "ftp://x";
  assert_int_equal(otap_store_open(&s, "s3://b", &o, &err), EINVAL);
}

// ---------------------------------------------------------------------------------------------
// Local backend

static void test_local_roundtrip(void** state) {
  (void)state;
  make_tmpdir();
  struct otap_store* s = NULL;
  struct otap_error err;
  char url[300];
  snprintf(url, sizeof(url), "file://%s", g_tmp);
  assert_int_equal(otap_store_open(&s, url, NULL, &err), 0);
  size_t n = 300000;
  uint8_t* data = make_data(n);
  assert_int_equal(otap_store_put(s, "t/_part_id=1/b.parquet", data, n, &err), 0);
  assert_int_equal(otap_store_put(s, "t/_part_id=1/a.parquet", data, 10, &err), 0);
  assert_int_equal(otap_store_put(s, "t/_part_id=2/c.parquet", data, 0, &err), 0);
  assert_int_equal(otap_store_put(s, "top.txt", "x", 1, &err), 0);

  struct otap_store_list l;
  assert_int_equal(otap_store_list(s, "t/", true, &l, &err), 0);
  assert_int_equal(l.count, 3);
  assert_string_equal(l.items[0].key, "t/_part_id=1/a.parquet");
  assert_string_equal(l.items[1].key, "t/_part_id=1/b.parquet");
  assert_int_equal(l.items[1].size, (int64_t)n);
  assert_string_equal(l.items[2].key, "t/_part_id=2/c.parquet");
  otap_store_list_reset(&l);
  assert_int_equal(otap_store_list(s, "", false, &l, &err), 0);
  assert_int_equal(l.count, 2);
  assert_string_equal(l.items[0].key, "t/");
  assert_true(l.items[0].is_prefix);
  assert_string_equal(l.items[1].key, "top.txt");
  otap_store_list_reset(&l);
  assert_int_equal(otap_store_list(s, "t/_part_id=", false, &l, &err), 0);
  assert_int_equal(l.count, 2);
  assert_string_equal(l.items[1].key, "t/_part_id=2/");
  otap_store_list_reset(&l);
  assert_int_equal(otap_store_list(s, "nothing/here", true, &l, &err), 0);
  assert_int_equal(l.count, 0);
  otap_store_list_reset(&l);

  struct otap_store_object o;
  assert_int_equal(otap_store_head(s, "t/_part_id=1/b.parquet", &o, &err), 0);
  assert_int_equal(o.size, (int64_t)n);
  otap_store_object_reset(&o);
  assert_int_equal(otap_store_head(s, "missing", &o, &err), ENOENT);

  struct otap_buffer buf;
  otap_buffer_init(&buf);
  assert_int_equal(otap_store_get(s, "t/_part_id=1/b.parquet", &buf, &err), 0);
  assert_int_equal(buf.size, (int64_t)n);
  assert_memory_equal(buf.data, data, n);
  otap_buffer_reset(&buf);

  uint8_t r1[100], r2[5000];
  struct otap_store_range rs[2] = {{12345, sizeof(r1), r1},
                                   {n - sizeof(r2), sizeof(r2), r2}};
  assert_int_equal(otap_store_get_ranges(s, "t/_part_id=1/b.parquet", rs, 2, &err), 0);
  assert_memory_equal(r1, data + 12345, sizeof(r1));
  assert_memory_equal(r2, data + n - sizeof(r2), sizeof(r2));
  assert_int_equal(
      otap_store_get_range(s, "t/_part_id=1/b.parquet", n - 10, 11, r1, &err), EINVAL);

  struct otap_source src;
  assert_int_equal(otap_store_open_source(s, "t/_part_id=1/b.parquet", &src, &err), 0);
  uint64_t size;
  assert_int_equal(src.size(&src, &size, &err), 0);
  assert_int_equal(size, n);
  assert_int_equal(src.read_at(&src, n - 8, r1, 8, &err), 0);
  assert_memory_equal(r1, data + n - 8, 8);
  assert_int_not_equal(src.read_at(&src, n - 8, r1, 9, &err), 0);
  const uint8_t* view = NULL;
  assert_non_null(src.view_at);  // local sources are mmap'ed: zero-copy
  assert_int_equal(src.view_at(&src, 100, 50, &view, &err), 0);
  assert_memory_equal(view, data + 100, 50);
  otap_source_release(&src);
  assert_int_equal(otap_store_open_source(s, "../etc/passwd", &src, &err), EACCES);

  // A sink that is released without finish leaves nothing behind.
  struct otap_sink sink;
  assert_int_equal(otap_store_open_sink(s, "half/file", &sink, &err), 0);
  assert_int_equal(sink.write(&sink, data, 1000, &err), 0);
  assert_int_equal(otap_store_list(s, "half/", true, &l, &err), 0);
  assert_int_equal(l.count, 0);  // the temp file is invisible
  otap_store_list_reset(&l);
  otap_sink_release(&sink);
  assert_int_equal(otap_store_head(s, "half/file", &o, &err), ENOENT);

  assert_int_equal(otap_store_delete(s, "top.txt", &err), 0);
  assert_int_equal(otap_store_delete(s, "top.txt", &err), 0);
  assert_int_equal(otap_store_head(s, "top.txt", &o, &err), ENOENT);
  free(data);
  otap_store_free(s);
  rm_tmpdir();
}

static void test_local_escapes(void** state) {
  (void)state;
  make_tmpdir();
  char root[300], outside[300], link[400];
  snprintf(root, sizeof(root), "%s/root", g_tmp);
  snprintf(outside, sizeof(outside), "%s/outside", g_tmp);
  assert_int_equal(mkdir(root, 0755), 0);
  assert_int_equal(mkdir(outside, 0755), 0);
  char secret[400];
  snprintf(secret, sizeof(secret), "%s/secret.txt", outside);
  FILE* f = fopen(secret, "w");
  fputs("secret", f);
  fclose(f);
  snprintf(link, sizeof(link), "%s/link", root);
  assert_int_equal(symlink(outside, link), 0);
  snprintf(link, sizeof(link), "%s/filelink", root);
  assert_int_equal(symlink(secret, link), 0);

  struct otap_store* s = NULL;
  struct otap_error err;
  assert_int_equal(otap_store_open(&s, root, NULL, &err), 0);
  struct otap_buffer buf;
  otap_buffer_init(&buf);
  const char* bad[] = {
      "../outside/secret.txt", "/etc/passwd", "a/../../outside/secret.txt", "./x", "a//b",
      "link/secret.txt",       "filelink"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    int rc = otap_store_get(s, bad[i], &buf, &err);
    if (rc != EACCES) fail_msg("get %s: rc %d (%s)", bad[i], rc, err.message);
    rc = otap_store_put(s, bad[i], "x", 1, &err);
    if (rc != EACCES) fail_msg("put %s: rc %d (%s)", bad[i], rc, err.message);
  }
  assert_int_equal(otap_store_delete(s, "link/secret.txt", &err), EACCES);
  assert_int_equal(access(secret, R_OK), 0);
  struct otap_store_list l;
  assert_int_equal(otap_store_list(s, "", true, &l, &err), 0);
  assert_int_equal(l.count, 0);  // links out of the root are not listed
  otap_store_list_reset(&l);
  assert_int_equal(otap_store_list(s, "../", true, &l, &err), EACCES);
  assert_int_equal(buf.size, 0);
  otap_store_free(s);
  rm_tmpdir();
}

static void test_local_alloc_failures(void** state) {
  (void)state;
  make_tmpdir();
  uint8_t* data = make_data(1000);
  otap_test_install_allocator();
  for (long k = 0; k < 200; k++) {
    long live = otap_test_live_allocations();
    otap_test_fail_alloc_after(k);
    struct otap_store* s = NULL;
    struct otap_error err;
    int rc = otap_store_open(&s, g_tmp, NULL, &err);
    if (rc == 0) rc = otap_store_put(s, "d/x.bin", data, 1000, &err);
    struct otap_store_list l = {0};
    if (rc == 0) rc = otap_store_list(s, "", true, &l, &err);
    otap_store_list_reset(&l);
    struct otap_source src = {0};
    if (rc == 0) rc = otap_store_open_source(s, "d/x.bin", &src, &err);
    uint8_t b[16];
    if (rc == 0) rc = src.read_at(&src, 10, b, 16, &err);
    otap_source_release(&src);
    otap_store_free(s);
    otap_test_fail_alloc_after(-1);
    assert_int_equal(otap_test_live_allocations(), live);
    if (rc == 0) break;
    assert_int_equal(rc, ENOMEM);
  }
  otap_set_allocator(NULL);
  free(data);
  rm_tmpdir();
}

// ---------------------------------------------------------------------------------------------
// S3 (s3rver)

static struct store_server g_s3;
static struct fault_proxy g_proxy;

static int s3_setup(void** state) {
  (void)state;
  if (store_server_start_s3(&g_s3, "otap-test") != 0) return -1;
  if (fault_proxy_start(&g_proxy, g_s3.port) != 0) return -1;
  return 0;
}

static int s3_teardown(void** state) {
  (void)state;
  fault_proxy_stop(&g_proxy);
  store_server_stop(&g_s3);
  return 0;
}

static struct otap_store* open_s3(const char* url, const char* endpoint,
                                  void (*tweak)(struct otap_store_options*)) {
  struct otap_store_options o;
  otap_store_options_init(&o);
  o.ignore_env = true;
  o.endpoint = endpoint;
  o.access_key_id = "S3RVER";
  o.secret_access_key = "S3RVER";
  o.retry_base_ms = 10;
  o.retry_max_ms = 50;
  if (tweak) tweak(&o);
  struct otap_store* s = NULL;
  struct otap_error err;
  int rc = otap_store_open(&s, url, &o, &err);
  if (rc) fail_msg("open %s: %s", url, err.message);
  return s;
}

// Runs the backend-independent checks against an opened HTTP store.
static void exercise_store(struct otap_store* s) {
  struct otap_error err;
  size_t n = 1 << 20;
  uint8_t* data = make_data(n);
  int rc = otap_store_put(s, "t/_part_id=1/a b+c.parquet", data, n, &err);
  if (rc) fail_msg("put: %s", err.message);
  assert_int_equal(otap_store_put(s, "t/_part_id=1/empty", "", 0, &err), 0);
  assert_int_equal(otap_store_put(s, "t/_part_id=2/x.parquet", data, 1000, &err), 0);
  assert_int_equal(otap_store_put(s, "t/other=é&?", data, 3, &err), 0);

  struct otap_store_object o;
  rc = otap_store_head(s, "t/_part_id=1/a b+c.parquet", &o, &err);
  if (rc) fail_msg("head: %s", err.message);
  assert_int_equal(o.size, (int64_t)n);
  assert_true(o.mtime > 1600000000);
  otap_store_object_reset(&o);
  assert_int_equal(otap_store_head(s, "t/missing", &o, &err), ENOENT);
  assert_non_null(strstr(err.message, "404"));

  struct otap_buffer buf;
  otap_buffer_init(&buf);
  assert_int_equal(otap_store_get(s, "t/_part_id=1/a b+c.parquet", &buf, &err), 0);
  assert_int_equal(buf.size, (int64_t)n);
  assert_memory_equal(buf.data, data, n);
  buf.size = 0;
  assert_int_equal(otap_store_get(s, "t/_part_id=1/empty", &buf, &err), 0);
  assert_int_equal(buf.size, 0);
  assert_int_equal(otap_store_get(s, "t/other=é&?", &buf, &err), 0);
  assert_int_equal(buf.size, 3);
  assert_int_equal(otap_store_get(s, "nope", &buf, &err), ENOENT);
  otap_buffer_reset(&buf);

  // Parallel ranges, more ranges than connections.
  enum { R = 20 };
  struct otap_store_range rs[R];
  uint8_t* bufs[R];
  for (int i = 0; i < R; i++) {
    size_t len = 1000 + (size_t)i * 3001;
    bufs[i] = malloc(len);
    rs[i] = (struct otap_store_range){(uint64_t)i * 50021, len, bufs[i]};
  }
  rc = otap_store_get_ranges(s, "t/_part_id=1/a b+c.parquet", rs, R, &err);
  if (rc) fail_msg("get_ranges: %s", err.message);
  for (int i = 0; i < R; i++) {
    assert_memory_equal(bufs[i], data + rs[i].offset, rs[i].length);
    free(bufs[i]);
  }
  uint8_t one[1];
  assert_int_equal(
      otap_store_get_range(s, "t/_part_id=1/a b+c.parquet", n - 1, 1, one, &err), 0);
  assert_int_equal(one[0], data[n - 1]);
  assert_int_not_equal(
      otap_store_get_range(s, "t/_part_id=1/a b+c.parquet", n, 1, one, &err), 0);

  // Source adapter: footer-style reads, then a parallel column-chunk read.
  struct otap_source src;
  rc = otap_store_open_source(s, "t/_part_id=1/a b+c.parquet", &src, &err);
  if (rc) fail_msg("open_source: %s", err.message);
  uint64_t size = 0;
  assert_int_equal(src.size(&src, &size, &err), 0);
  assert_int_equal(size, n);
  uint8_t tail[8], foot[4000];
  assert_int_equal(src.read_at(&src, n - 8, tail, 8, &err), 0);
  assert_memory_equal(tail, data + n - 8, 8);
  assert_int_equal(src.read_at(&src, n - 8 - sizeof(foot), foot, sizeof(foot), &err), 0);
  assert_memory_equal(foot, data + n - 8 - sizeof(foot), sizeof(foot));
  uint8_t* c1 = malloc(200000);
  uint8_t* c2 = malloc(300000);
  struct otap_store_range cr[2] = {{4, 200000, c1}, {500000, 300000, c2}};
  assert_int_equal(otap_store_source_read_ranges(&src, cr, 2, &err), 0);
  assert_memory_equal(c1, data + 4, 200000);
  assert_memory_equal(c2, data + 500000, 300000);
  cr[1].offset = n - 10;
  assert_int_equal(otap_store_source_read_ranges(&src, cr, 2, &err), EINVAL);
  free(c1);
  free(c2);
  otap_source_release(&src);

  // An object replaced by one of another size under an open source: refused, not mixed.
  assert_int_equal(otap_store_put(s, "chg", data, 1000, &err), 0);
  assert_int_equal(otap_store_open_source(s, "chg", &src, &err), 0);
  assert_int_equal(otap_store_put(s, "chg", data, 2000, &err), 0);
  assert_int_equal(src.read_at(&src, 0, tail, 8, &err), EIO);
  assert_non_null(strstr(err.message, "changed"));
  assert_non_null(strstr(err.message, "after 1 try"));
  otap_source_release(&src);
  assert_int_equal(otap_store_delete(s, "chg", &err), 0);

  // Listing: recursive, delimited, paginated.
  s->list_page_size = 2;
  struct otap_store_list l;
  rc = otap_store_list(s, "t/", true, &l, &err);
  if (rc) fail_msg("list: %s", err.message);
  assert_int_equal(l.count, 4);
  // Opening a listed object with its listed size needs no HEAD.
  assert_int_equal(otap_store_open_source_sized(s, l.items[2].key,
                                                (uint64_t)l.items[2].size, &src, &err),
                   0);
  assert_int_equal(src.read_at(&src, 990, tail, 8, &err), 0);
  assert_memory_equal(tail, data + 990, 8);
  otap_source_release(&src);
  assert_string_equal(l.items[0].key, "t/_part_id=1/a b+c.parquet");
  assert_int_equal(l.items[0].size, (int64_t)n);
  assert_string_equal(l.items[1].key, "t/_part_id=1/empty");
  assert_string_equal(l.items[2].key, "t/_part_id=2/x.parquet");
  assert_int_equal(l.items[2].size, 1000);
  assert_string_equal(l.items[3].key, "t/other=é&?");
  otap_store_list_reset(&l);
  rc = otap_store_list(s, "t/", false, &l, &err);
  if (rc) fail_msg("list: %s", err.message);
  assert_int_equal(l.count, 3);
  assert_string_equal(l.items[0].key, "t/_part_id=1/");
  assert_true(l.items[0].is_prefix);
  assert_string_equal(l.items[1].key, "t/_part_id=2/");
  assert_string_equal(l.items[2].key, "t/other=é&?");
  otap_store_list_reset(&l);
  s->list_page_size = 0;

  // Delete.
  assert_int_equal(otap_store_delete(s, "t/other=é&?", &err), 0);
  assert_int_equal(otap_store_head(s, "t/other=é&?", &o, &err), ENOENT);
  assert_int_equal(otap_store_delete(s, "t/other=é&?", &err), 0);
  free(data);
}

static void test_s3_operations(void** state) {
  (void)state;
  struct otap_store* s = open_s3("s3://otap-test/base", g_s3.endpoint, NULL);
  exercise_store(s);
  // Connections are reused across requests (one pool per store).
  s->n_requests = s->n_connects = 0;
  uint8_t b[64];
  struct otap_error e;
  for (int i = 0; i < 20; i++) {
    assert_int_equal(
        otap_store_get_range(s, "t/_part_id=2/x.parquet", (uint64_t)i * 10, 64, b, &e),
        0);
  }
  assert_int_equal(s->n_requests, 20);
  if (s->n_connects > 1)
    fail_msg("%lld connections for 20 sequential requests", (long long)s->n_connects);
  // Keys are relative to the URL prefix.
  struct otap_store* root = open_s3("s3://otap-test", g_s3.endpoint, NULL);
  struct otap_store_object o;
  struct otap_error err;
  assert_int_equal(otap_store_head(root, "base/t/_part_id=2/x.parquet", &o, &err), 0);
  otap_store_object_reset(&o);
  otap_store_free(root);
  otap_store_free(s);
}

static void small_parts(struct otap_store_options* o) {
  o->multipart_threshold = (5 << 20) + 1;
  o->part_size = 5 << 20;
}

static void test_s3_multipart(void** state) {
  (void)state;
  struct otap_store* s = open_s3("s3://otap-test/mp", g_s3.endpoint, small_parts);
  struct otap_error err;
  size_t n = (27 << 20) + 12345;  // one batch of 4 parallel parts mid-stream, 2 at finish
  uint8_t* data = make_data(n);
  struct otap_sink sink;
  assert_int_equal(otap_store_open_sink(s, "big.bin", &sink, &err), 0);
  for (size_t off = 0; off < n; off += 1000003) {
    size_t len = n - off < 1000003 ? n - off : 1000003;
    int rc = sink.write(&sink, data + off, len, &err);
    if (rc) fail_msg("write: %s", err.message);
  }
  int rc = sink.finish(&sink, &err);
  if (rc) fail_msg("finish: %s", err.message);
  otap_sink_release(&sink);
  struct otap_buffer buf;
  otap_buffer_init(&buf);
  assert_int_equal(otap_store_get(s, "big.bin", &buf, &err), 0);
  assert_int_equal(buf.size, (int64_t)n);
  assert_memory_equal(buf.data, data, n);
  otap_buffer_reset(&buf);
  // An abandoned multipart upload is aborted and leaves no object.
  assert_int_equal(otap_store_open_sink(s, "abandoned.bin", &sink, &err), 0);
  assert_int_equal(sink.write(&sink, data, (6 << 20), &err), 0);
  otap_sink_release(&sink);
  struct otap_store_object o;
  assert_int_equal(otap_store_head(s, "abandoned.bin", &o, &err), ENOENT);
  free(data);
  otap_store_free(s);
}

static void test_gcs_hmac_via_s3_server(void** state) {
  (void)state;
  // gs:// with HMAC keys speaks the S3-compatible XML API; point it at the S3 emulator.
  struct otap_store_options o;
  otap_store_options_init(&o);
  o.ignore_env = true;
  o.endpoint = g_s3.endpoint;
  o.access_key_id = "S3RVER";
  o.secret_access_key = "S3RVER";
  struct otap_store* s = NULL;
  struct otap_error err;
  assert_int_equal(otap_store_open(&s, "gs://otap-test/gcs", &o, &err), 0);
  assert_string_equal(s->region, "auto");
  exercise_store(s);
  otap_store_free(s);
  // The same through environment variables.
  setenv("GCS_HMAC_ACCESS_ID", "S3RVER", 1);
  setenv("GCS_HMAC_SECRET", "S3RVER", 1);
  setenv("GCS_ENDPOINT_URL", g_s3.endpoint, 1);
  assert_int_equal(otap_store_open(&s, "gs://otap-test/gcs", NULL, &err), 0);
  struct otap_store_object obj;
  assert_int_equal(otap_store_head(s, "t/_part_id=2/x.parquet", &obj, &err), 0);
  otap_store_object_reset(&obj);
  otap_store_free(s);
  unsetenv("GCS_HMAC_ACCESS_ID");
  unsetenv("GCS_HMAC_SECRET");
  unsetenv("GCS_ENDPOINT_URL");
}

static void bad_key(struct otap_store_options* o) {
  o->access_key_id = "WRONGKEY";
  o->secret_access_key = "TOPSECRET-S3-VALUE";
  o->session_token = "TOPSECRET-TOKEN";
}

static void test_s3_errors_hide_credentials(void** state) {
  (void)state;
  struct otap_store* s = open_s3("s3://otap-test/base", g_s3.endpoint, bad_key);
  struct otap_error err;
  struct otap_buffer buf;
  otap_buffer_init(&buf);
  int rc = otap_store_get(s, "t/_part_id=2/x.parquet", &buf, &err);
  assert_int_equal(rc, EACCES);
  assert_non_null(strstr(err.message, "403"));
  assert_non_null(strstr(err.message, "InvalidAccessKeyId"));
  assert_non_null(strstr(err.message, "s3://otap-test/base/t/_part_id=2/x.parquet"));
  assert_null(strstr(err.message, "TOPSECRET"));
  assert_null(strstr(err.message, "WRONGKEY"));
  assert_int_equal(buf.size, 0);
  otap_buffer_reset(&buf);
  otap_store_free(s);
  // Unknown bucket.
  s = open_s3("s3://no-such-bucket", g_s3.endpoint, NULL);
  struct otap_store_list l;
  assert_int_equal(otap_store_list(s, "", true, &l, &err), ENOENT);
  assert_non_null(strstr(err.message, "NoSuchBucket"));
  otap_store_free(s);
  // Nothing listening: connection refused, retried, then a clear error.
  char dead[64];
  snprintf(dead, sizeof(dead), "http://127.0.0.1:%d", g_proxy.port == 1 ? 2 : 1);
  s = open_s3("s3://otap-test", dead, NULL);
  struct otap_store_object o;
  rc = otap_store_head(s, "x", &o, &err);
  assert_int_equal(rc, EIO);
  assert_non_null(strstr(err.message, "after 6 tries"));
  otap_store_free(s);
}

// Ranged reads: nearby ranges are coalesced into one request, large ones split in
// parallel pieces; counted at the proxy.
static void test_s3_range_coalescing(void** state) {
  (void)state;
  struct otap_store* s = open_s3("s3://otap-test/coalesce", g_proxy.endpoint, NULL);
  struct otap_error err;
  size_t n = (20 << 20) + 5;
  uint8_t* data = make_data(n);
  assert_int_equal(otap_store_put(s, "obj", data, n, &err), 0);
  fault_proxy_set(&g_proxy, PROXY_PASS, 0);
  // Ten 10 KB "column chunks" with 1 KB gaps, given out of order, plus one overlapping.
  enum { K = 11 };
  struct otap_store_range rs[K];
  uint8_t* bufs[K];
  for (int i = 0; i < K; i++) {
    int j = (i * 7) % 10;
    bufs[i] = malloc(10000);
    rs[i] = (struct otap_store_range){1000000 + (uint64_t)j * 11000, 10000, bufs[i]};
  }
  rs[K - 1].offset = 1000000 + 5000;  // overlaps the first two
  int before = g_proxy.requests;
  assert_int_equal(otap_store_get_ranges(s, "obj", rs, K, &err), 0);
  assert_int_equal(g_proxy.requests - before, 1);
  for (int i = 0; i < K; i++) {
    assert_memory_equal(bufs[i], data + rs[i].offset, 10000);
    free(bufs[i]);
  }
  // Far apart: one request each.
  uint8_t a[100], b[100];
  struct otap_store_range far[2] = {{0, 100, a}, {n - 100, 100, b}};
  before = g_proxy.requests;
  assert_int_equal(otap_store_get_ranges(s, "obj", far, 2, &err), 0);
  assert_int_equal(g_proxy.requests - before, 2);
  assert_memory_equal(a, data, 100);
  assert_memory_equal(b, data + n - 100, 100);
  // One large range: split into 8 MiB pieces fetched in parallel.
  uint8_t* got = malloc(n);
  before = g_proxy.requests;
  assert_int_equal(otap_store_get_range(s, "obj", 0, n, got, &err), 0);
  assert_int_equal(g_proxy.requests - before, 3);
  assert_memory_equal(got, data, n);
  free(got);
  free(data);
  otap_store_free(s);
}

// Every allocation failure on the HTTP paths is reported as ENOMEM and leaks nothing.
static void test_s3_alloc_failures(void** state) {
  (void)state;
  uint8_t* data = make_data(70000);
  otap_test_install_allocator();
  int completed = 0;
  for (long k = 0; k < 3000 && !completed; k += (k < 200 ? 1 : 7)) {
    long live = otap_test_live_allocations();
    otap_test_fail_alloc_after(k);
    struct otap_store_options o;
    otap_store_options_init(&o);
    o.ignore_env = true;
    o.endpoint = g_s3.endpoint;
    o.access_key_id = o.secret_access_key = "S3RVER";
    o.max_retries = 0;
    o.multipart_threshold = 30000;  // multipart path too (s3rver accepts small parts)
    o.part_size = 30000;
    struct otap_store* s = NULL;
    struct otap_error err;
    int rc = otap_store_open(&s, "s3://otap-test/alloc", &o, &err);
    if (rc == 0) rc = otap_store_put(s, "a/x.bin", data, 20000, &err);
    struct otap_sink sink = {0};
    if (rc == 0) rc = otap_store_open_sink(s, "a/big.bin", &sink, &err);
    if (rc == 0) rc = sink.write(&sink, data, 70000, &err);
    if (rc == 0) rc = sink.finish(&sink, &err);
    otap_sink_release(&sink);
    struct otap_store_list l = {0};
    if (rc == 0) rc = otap_store_list(s, "", true, &l, &err);
    otap_store_list_reset(&l);
    struct otap_source src = {0};
    if (rc == 0) rc = otap_store_open_source(s, "a/x.bin", &src, &err);
    uint8_t b[3][100];
    struct otap_store_range rs[3] = {
        {10, 100, b[0]}, {200, 100, b[1]}, {19000, 100, b[2]}};
    if (rc == 0) rc = src.read_at(&src, 19990, b[0], 10, &err);
    if (rc == 0) rc = otap_store_source_read_ranges(&src, rs, 3, &err);
    otap_source_release(&src);
    struct otap_buffer buf;
    otap_buffer_init(&buf);
    if (rc == 0) rc = otap_store_get(s, "a/big.bin", &buf, &err);
    otap_buffer_reset(&buf);
    if (rc == 0) rc = otap_store_delete(s, "a/x.bin", &err);
    otap_store_free(s);
    otap_test_fail_alloc_after(-1);
    if (otap_test_live_allocations() != live)
      fail_msg("leak after failing allocation %ld", k);
    if (rc == 0) {
      completed = 1;
      printf(
          "alloc failures: every earlier failing allocation gave ENOMEM, no leaks; ok at "
          "budget %ld\n",
          k);
    } else if (rc != ENOMEM) {
      fail_msg("allocation %ld: rc %d: %s", k, rc, err.message);
    }
  }
  otap_set_allocator(NULL);
  assert_true(completed);
  free(data);
}

// Writes a self-signed EC certificate for IP 127.0.0.1 (key and cert PEM files).
static void make_self_signed(const char* key_path, const char* cert_path) {
  EVP_PKEY* pkey = EVP_EC_gen("P-256");
  assert_non_null(pkey);
  X509* x = X509_new();
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 3600L * 24);
  X509_set_pubkey(x, pkey);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char*)"127.0.0.1",
                             -1, -1, 0);
  X509_set_issuer_name(x, name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
  X509_EXTENSION* san =
      X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name, "IP:127.0.0.1");
  assert_non_null(san);
  X509_add_ext(x, san, -1);
  X509_EXTENSION_free(san);
  X509_EXTENSION* bc =
      X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints, "critical,CA:TRUE");
  X509_add_ext(x, bc, -1);
  X509_EXTENSION_free(bc);
  assert_true(X509_sign(x, pkey, EVP_sha256()) > 0);
  FILE* f = fopen(key_path, "w");
  PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL);
  fclose(f);
  f = fopen(cert_path, "w");
  PEM_write_X509(f, x);
  fclose(f);
  X509_free(x);
  EVP_PKEY_free(pkey);
}

// TLS: verification is on by default (a self-signed server is refused with a clear error
// and no retry storm), and a custom CA bundle makes it work.
static void test_s3_tls(void** state) {
  (void)state;
  make_tmpdir();
  char key[400], cert[400];
  snprintf(key, sizeof(key), "%s/key.pem", g_tmp);
  snprintf(cert, sizeof(cert), "%s/cert.pem", g_tmp);
  make_self_signed(key, cert);
  struct store_server tls;
  assert_int_equal(store_server_start_s3_tls(&tls, "otap-tls", key, cert), 0);
  struct otap_store* s = open_s3("s3://otap-tls/p", tls.endpoint, NULL);
  struct otap_error err;
  int rc = otap_store_put(s, "x", "hello", 5, &err);
  assert_int_equal(rc, EIO);
  assert_non_null(
      strstr(err.message, "after 1 try"));  // certificate errors are not retried
  if (!strstr(err.message, "certificate") && !strstr(err.message, "SSL")) {
    fail_msg("unexpected TLS error: %s", err.message);
  }
  otap_store_free(s);
  struct otap_store_options o;
  otap_store_options_init(&o);
  o.ignore_env = true;
  o.endpoint = tls.endpoint;
  o.access_key_id = o.secret_access_key = "S3RVER";
  o.ca_file = cert;
  assert_int_equal(otap_store_open(&s, "s3://otap-tls/p", &o, &err), 0);
  rc = otap_store_put(s, "x", "hello", 5, &err);
  if (rc) fail_msg("put over TLS with ca_file: %s", err.message);
  uint8_t b[5];
  assert_int_equal(otap_store_get_range(s, "x", 0, 5, b, &err), 0);
  assert_memory_equal(b, "hello", 5);
  otap_store_free(s);
  store_server_stop(&tls);
  rm_tmpdir();
}

// Runs the otap CLI with a shell command line; captures stdout+stderr; returns exit
// status.
static int run_cli(const char* args, char* out, size_t cap) {
  char cmd[4096];
  snprintf(cmd, sizeof(cmd), "%s/otap %s 2>&1", OTAP_BINARY_DIR, args);
  FILE* f = popen(cmd, "r");
  assert_non_null(f);
  size_t n = fread(out, 1, cap - 1, f);
  out[n] = '\0';
  int st = pclose(f);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_cli_ls_cp(void** state) {
  (void)state;
  make_tmpdir();
  char path[400], back[400], args[2048], out[8192];
  snprintf(path, sizeof(path), "%s/in.bin", g_tmp);
  snprintf(back, sizeof(back), "%s/back.bin", g_tmp);
  size_t n = (9 << 20) + 77;
  uint8_t* data = make_data(n);
  FILE* f = fopen(path, "wb");
  assert_int_equal(fwrite(data, 1, n, f), n);
  fclose(f);
  setenv("AWS_ENDPOINT_URL", g_s3.endpoint, 1);
  setenv("AWS_ACCESS_KEY_ID", "S3RVER", 1);
  setenv("AWS_SECRET_ACCESS_KEY", "S3RVER", 1);
  setenv("OTAP_NO_PROGRESS", "1", 1);
  snprintf(args, sizeof(args), "cp '%s' s3://otap-test/cli/dir/in.bin", path);
  assert_int_equal(run_cli(args, out, sizeof(out)), 0);
  assert_int_equal(run_cli("ls s3://otap-test/cli --json", out, sizeof(out)), 0);
  assert_non_null(strstr(out, "\"key\":\"dir/\",\"size\":-1"));
  assert_int_equal(run_cli("ls s3://otap-test/cli --recursive --json", out, sizeof(out)),
                   0);
  char want[128];
  snprintf(want, sizeof(want), "\"key\":\"dir/in.bin\",\"size\":%zu", n);
  assert_non_null(strstr(out, want));
  assert_int_equal(run_cli("ls s3://otap-test/cli/dir/in.bin", out, sizeof(out)), 0);
  assert_non_null(strstr(out, "1 object"));
  snprintf(args, sizeof(args), "cp s3://otap-test/cli/dir/in.bin '%s' --json", back);
  assert_int_equal(run_cli(args, out, sizeof(out)), 0);
  snprintf(want, sizeof(want), "\"bytes\":%zu}", n);
  assert_non_null(strstr(out, want));
  struct otap_buffer buf;
  otap_buffer_init(&buf);
  struct otap_error err;
  assert_int_equal(otap_read_file(back, &buf, &err), 0);
  assert_int_equal(buf.size, (int64_t)n);
  assert_memory_equal(buf.data, data, n);
  otap_buffer_reset(&buf);
  // Failures: exit 1, a message naming the URL, never the secret.
  setenv("AWS_SECRET_ACCESS_KEY", "CLI-TOPSECRET", 1);
  setenv("AWS_ACCESS_KEY_ID", "CLI-BADKEY", 1);
  assert_int_equal(run_cli("ls s3://otap-test/cli", out, sizeof(out)), 1);
  assert_non_null(strstr(out, "403"));
  assert_null(strstr(out, "CLI-TOPSECRET"));
  setenv("AWS_ACCESS_KEY_ID", "S3RVER", 1);
  assert_int_equal(run_cli("cp s3://otap-test/cli/missing /tmp/x", out, sizeof(out)), 1);
  assert_non_null(strstr(out, "s3://otap-test/cli/missing"));
  // To stdout: exactly the object's bytes.
  char cmd[1024];
  snprintf(cmd, sizeof(cmd), "%s/otap cp s3://otap-test/cli/dir/in.bin - | cmp - '%s'",
           OTAP_BINARY_DIR, path);
  assert_int_equal(system(cmd), 0);
  assert_int_equal(run_cli("ls", out, sizeof(out)), 2);
  assert_int_equal(run_cli("cp onlyone", out, sizeof(out)), 2);
  unsetenv("AWS_ENDPOINT_URL");
  unsetenv("AWS_ACCESS_KEY_ID");
  unsetenv("AWS_SECRET_ACCESS_KEY");
  free(data);
  rm_tmpdir();
}

// Fault injection: transient faults are retried to success; persistent ones fail clearly
// and never return partial data as success.
static void fast_stall(struct otap_store_options* o) {
  o->stall_timeout_ms = 800;
  o->max_retries = 3;
}

static void test_s3_faults(void** state) {
  (void)state;
  struct otap_store* s = open_s3("s3://otap-test/faults", g_proxy.endpoint, fast_stall);
  struct otap_error err;
  size_t n = 400000;
  uint8_t* data = make_data(n);
  assert_int_equal(otap_store_put(s, "obj", data, n, &err), 0);
  uint8_t* got = malloc(n);
  static const struct {
    enum proxy_fault fault;
    const char* expect;
  } faults[] = {
      {PROXY_STATUS_500, "HTTP 500 InternalError: injected failure, request id PROXY500"},
      {PROXY_STATUS_503, "HTTP 503 SlowDown"},
      {PROXY_RESET_MIDBODY, "curl"},
      {PROXY_TRUNCATE, "curl"},
      {PROXY_STALL, "curl"},
      {PROXY_SHORT_LIE, "short"},
  };
  for (size_t i = 0; i < sizeof(faults) / sizeof(faults[0]); i++) {
    // A short stall timeout only where the stall is the fault, so a slow but healthy
    // reply on a loaded machine is never taken for one.
    s->stall_timeout_ms = faults[i].fault == PROXY_STALL ? 800 : 30000;
    // Transient: two faults, then success.
    fault_proxy_set(&g_proxy, faults[i].fault, 2);
    memset(got, 0, n);
    int rc = otap_store_get_range(s, "obj", 1000, n - 2000, got, &err);
    if (rc) fail_msg("fault %zu transient: %s", i, err.message);
    assert_memory_equal(got, data + 1000, n - 2000);
    assert_int_equal(g_proxy.fault_count, 0);
    // Persistent: fails after 1 + max_retries tries with a clear message.
    fault_proxy_set(&g_proxy, faults[i].fault, 1000);
    rc = otap_store_get_range(s, "obj", 1000, n - 2000, got, &err);
    assert_int_not_equal(rc, 0);
    if (!strstr(err.message, faults[i].expect) || !strstr(err.message, "after 4 tries") ||
        !strstr(err.message, "s3://otap-test/faults/obj")) {
      fail_msg("fault %zu persistent: unexpected message: %s", i, err.message);
    }
    // Whole-object GET under the same persistent fault.
    struct otap_buffer buf;
    otap_buffer_init(&buf);
    rc = otap_store_get(s, "obj", &buf, &err);
    // Never a short or corrupt body as success, whatever the fault: whole-object reads
    // are ranged too, so a consistently shortened Content-Length is caught by
    // Content-Range.
    if (rc == 0)
      fail_msg("fault %zu: whole-object GET succeeded under a persistent fault", i);
    assert_int_equal(buf.size, 0);
    otap_buffer_reset(&buf);
    fault_proxy_set(&g_proxy, PROXY_PASS, 0);
  }
  // Parallel ranges with a transient fault on some of them.
  fault_proxy_set(&g_proxy, PROXY_RESET_MIDBODY, 3);
  uint8_t *a = malloc(100000), *b = malloc(100000), *c = malloc(100000);
  struct otap_store_range rs[3] = {
      {0, 100000, a}, {150000, 100000, b}, {300000, 100000, c}};
  int rc = otap_store_get_ranges(s, "obj", rs, 3, &err);
  if (rc) fail_msg("parallel with faults: %s", err.message);
  assert_memory_equal(a, data, 100000);
  assert_memory_equal(b, data + 150000, 100000);
  assert_memory_equal(c, data + 300000, 100000);
  fault_proxy_set(&g_proxy, PROXY_PASS, 0);
  free(a);
  free(b);
  free(c);
  free(got);
  free(data);
  otap_store_free(s);
}

// ---------------------------------------------------------------------------------------------
// Azure (Azurite)

static struct store_server g_az;
static const char kAzKey[] =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/"
    "KBHBeksoGMGw==";

static struct fault_proxy g_az_proxy;

static int az_setup(void** state) {
  (void)state;
  if (store_server_start_azurite(&g_az) != 0) return -1;
  return fault_proxy_start(&g_az_proxy, g_az.port) == 0 ? 0 : -1;
}

static int az_teardown(void** state) {
  (void)state;
  fault_proxy_stop(&g_az_proxy);
  store_server_stop(&g_az);
  return 0;
}

static const char* g_az_endpoint;  // NULL: Azurite directly; else through a proxy

static struct otap_store* open_az(const char* url, const char* key, const char* sas) {
  char cs[512];
  snprintf(cs, sizeof(cs),
           "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;%s%s%s"
           "BlobEndpoint=%s/devstoreaccount1;",
           key ? "AccountKey=" : "", key ? key : "", key ? ";" : "",
           g_az_endpoint ? g_az_endpoint : g_az.endpoint);
  struct otap_store_options o;
  otap_store_options_init(&o);
  o.ignore_env = true;
  o.azure_connection_string = cs;
  o.azure_sas_token = sas;
  o.retry_base_ms = 10;
  o.retry_max_ms = 200;
  struct otap_store* s = NULL;
  struct otap_error err;
  int rc = otap_store_open(&s, url, &o, &err);
  if (rc) fail_msg("open %s: %s", url, err.message);
  return s;
}

static void test_azure_operations(void** state) {
  (void)state;
  struct otap_store* s = open_az("az://otap/base", kAzKey, NULL);
  struct otap_error err;
  int rc = otap__store_create_bucket(s, &err);
  if (rc) fail_msg("create container: %s", err.message);
  exercise_store(s);
  otap_store_free(s);
}

static void test_azure_blocks(void** state) {
  (void)state;
  struct otap_store* s = open_az("az://otap/blocks", kAzKey, NULL);
  s->multipart_threshold = 300000;
  s->part_size = 256 << 10;
  struct otap_error err;
  size_t n = (2 << 20) + 17;
  uint8_t* data = make_data(n);
  int rc = otap_store_put(s, "big.bin", data, n, &err);
  if (rc) fail_msg("put blocks: %s", err.message);
  struct otap_buffer buf;
  otap_buffer_init(&buf);
  assert_int_equal(otap_store_get(s, "big.bin", &buf, &err), 0);
  assert_int_equal(buf.size, (int64_t)n);
  assert_memory_equal(buf.data, data, n);
  otap_buffer_reset(&buf);
  free(data);
  otap_store_free(s);
}

// Account SAS (service b, all resource types) signed with the account key, as the SDKs
// do.
static void make_account_sas(char* out, size_t cap, bool corrupt) {
  const char* sv = "2021-06-08";
  const char* sp = "rwdlac";
  const char* se = "2099-01-01T00:00:00Z";
  char sts[512];
  snprintf(sts, sizeof(sts), "devstoreaccount1\n%s\nb\nsco\n\n%s\n\nhttps,http\n%s\n\n",
           sp, se, sv);
  uint8_t key[128];
  size_t kl;
  assert_int_equal(otap__base64_decode(kAzKey, key, sizeof(key), &kl), 0);
  uint8_t mac[32];
  unsigned int ml = 32;
  HMAC(EVP_sha256(), key, (int)kl, (const uint8_t*)sts, strlen(sts), mac, &ml);
  if (corrupt) mac[0] ^= 1;
  char b64[64];
  assert_int_equal(otap__base64_encode(mac, 32, b64, sizeof(b64)), 0);
  struct otap_buffer enc;
  otap_buffer_init(&enc);
  assert_int_equal(otap__uri_encode(&enc, b64, strlen(b64), false), 0);
  snprintf(out, cap, "sv=%s&ss=b&srt=sco&sp=%s&se=%s&spr=https,http&sig=%s", sv, sp,
           "2099-01-01T00%3A00%3A00Z", (const char*)enc.data);
  otap_buffer_reset(&enc);
}

static void test_azure_sas_and_errors(void** state) {
  (void)state;
  char sas[512];
  make_account_sas(sas, sizeof(sas), false);
  struct otap_store* s = open_az("az://otap/sas", NULL, sas);
  assert_int_equal(s->auth, OTAP_AUTH_SAS);
  struct otap_error err;
  int rc = otap_store_put(s, "k/one", "hello", 5, &err);
  if (rc) fail_msg("put with SAS: %s", err.message);
  struct otap_buffer buf;
  otap_buffer_init(&buf);
  assert_int_equal(otap_store_get(s, "k/one", &buf, &err), 0);
  assert_int_equal(buf.size, 5);
  struct otap_store_list l;
  assert_int_equal(otap_store_list(s, "", true, &l, &err), 0);
  assert_int_equal(l.count, 1);
  otap_store_list_reset(&l);
  otap_store_free(s);

  // A corrupted SAS: 403, and the signature is not in the message.
  make_account_sas(sas, sizeof(sas), true);
  s = open_az("az://otap/sas", NULL, sas);
  buf.size = 0;
  rc = otap_store_get(s, "k/one", &buf, &err);
  assert_int_equal(rc, EACCES);
  assert_non_null(strstr(err.message, "403"));
  assert_null(strstr(err.message, "sig="));
  assert_null(strstr(err.message, strstr(sas, "sig=") + 4));
  assert_int_equal(buf.size, 0);
  otap_store_free(s);

  // A wrong Shared Key: 403 AuthorizationFailure, the key never printed.
  const char* wrong =
      "AAAAvdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/"
      "KBHBeksoGMGw==";
  s = open_az("az://otap/sas", wrong, NULL);
  rc = otap_store_get(s, "k/one", &buf, &err);
  assert_int_equal(rc, EACCES);
  assert_non_null(strstr(err.message, "az://otap/sas/k/one"));
  assert_null(strstr(err.message, "AAAAvdM02"));
  otap_store_free(s);

  // Missing blob and container.
  s = open_az("az://otap/sas", kAzKey, NULL);
  assert_int_equal(otap_store_get(s, "none", &buf, &err), ENOENT);
  assert_non_null(strstr(err.message, "BlobNotFound"));
  otap_store_free(s);
  s = open_az("az://nocontainer", kAzKey, NULL);
  assert_int_equal(otap_store_list(s, "", true, &l, &err), ENOENT);
  otap_store_free(s);
  otap_buffer_reset(&buf);
}

// Retries and error reports on the Azure path (Shared Key signed per attempt).
static void test_azure_faults(void** state) {
  (void)state;
  g_az_endpoint = g_az_proxy.endpoint;
  struct otap_store* s = open_az("az://otap/faults", kAzKey, NULL);
  g_az_endpoint = NULL;
  s->max_retries = 2;
  struct otap_error err;
  size_t n = 300000;
  uint8_t* data = make_data(n);
  assert_int_equal(otap_store_put(s, "obj", data, n, &err), 0);
  uint8_t* got = malloc(n);
  fault_proxy_set(&g_az_proxy, PROXY_STATUS_503, 2);
  int rc = otap_store_get_range(s, "obj", 10, n - 10, got, &err);
  if (rc) fail_msg("transient 503: %s", err.message);
  assert_memory_equal(got, data + 10, n - 10);
  fault_proxy_set(&g_az_proxy, PROXY_TRUNCATE, 1);
  struct otap_buffer buf;
  otap_buffer_init(&buf);
  rc = otap_store_get(s, "obj", &buf, &err);
  if (rc) fail_msg("transient truncation: %s", err.message);
  assert_int_equal(buf.size, (int64_t)n);
  assert_memory_equal(buf.data, data, n);
  fault_proxy_set(&g_az_proxy, PROXY_STATUS_500, 100);
  rc = otap_store_get_range(s, "obj", 0, 100, got, &err);
  assert_int_equal(rc, EIO);
  assert_non_null(strstr(err.message, "az://otap/faults/obj"));
  assert_non_null(strstr(err.message, "HTTP 500"));
  assert_non_null(strstr(err.message, "after 3 tries"));
  assert_null(strstr(err.message, "Eby8vdM02"));
  fault_proxy_set(&g_az_proxy, PROXY_PASS, 0);
  otap_buffer_reset(&buf);
  free(got);
  free(data);
  otap_store_free(s);
}

// otap cp between a local file and Azure, configured from
// AZURE_STORAGE_CONNECTION_STRING.
static void test_azure_cli(void** state) {
  (void)state;
  make_tmpdir();
  char cs[512], path[400], back[400], args[2048], out[8192];
  snprintf(cs, sizeof(cs),
           "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
           "AccountKey=%s;BlobEndpoint=%s/devstoreaccount1;",
           kAzKey, g_az.endpoint);
  setenv("AZURE_STORAGE_CONNECTION_STRING", cs, 1);
  setenv("OTAP_NO_PROGRESS", "1", 1);
  snprintf(path, sizeof(path), "%s/in.bin", g_tmp);
  snprintf(back, sizeof(back), "%s/back.bin", g_tmp);
  size_t n = 100000;
  uint8_t* data = make_data(n);
  FILE* f = fopen(path, "wb");
  assert_int_equal(fwrite(data, 1, n, f), n);
  fclose(f);
  snprintf(args, sizeof(args), "cp '%s' az://otap/cli/", path);
  assert_int_equal(run_cli(args, out, sizeof(out)), 0);
  assert_int_equal(run_cli("ls az://otap/cli --json", out, sizeof(out)), 0);
  assert_non_null(strstr(out, "\"key\":\"in.bin\",\"size\":100000"));
  snprintf(args, sizeof(args), "cp az://otap/cli/in.bin '%s'", back);
  assert_int_equal(run_cli(args, out, sizeof(out)), 0);
  struct otap_buffer buf;
  otap_buffer_init(&buf);
  struct otap_error err;
  assert_int_equal(otap_read_file(back, &buf, &err), 0);
  assert_int_equal(buf.size, (int64_t)n);
  assert_memory_equal(buf.data, data, n);
  otap_buffer_reset(&buf);
  assert_int_equal(run_cli("ls az://nocontainer/x", out, sizeof(out)), 1);
  assert_null(strstr(out, "Eby8vdM02"));
  unsetenv("AZURE_STORAGE_CONNECTION_STRING");
  free(data);
  rm_tmpdir();
}

static void base64url(const char* in, char* out, size_t cap) {
  assert_int_equal(otap__base64_encode((const uint8_t*)in, strlen(in), out, cap), 0);
  size_t j = 0;
  for (size_t i = 0; out[i]; i++) {
    if (out[i] == '=') continue;
    out[j++] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
  }
  out[j] = '\0';
}

// A JWT of the shape Azure AD issues (Azurite's basic OAuth checks issuer, audience,
// lifetime).
static void make_jwt(char* out, size_t cap, const char* aud) {
  long now = (long)time(NULL);
  char payload[512], h64[128], p64[1024];
  snprintf(payload, sizeof(payload),
           "{\"aud\":\"%s\",\"iss\":\"https://sts.windows.net/"
           "ab1f708d-50f6-404c-a006-d71b2ac7a606/\","
           "\"iat\":%ld,\"nbf\":%ld,\"exp\":%ld,\"oid\":\"otap-test\"}",
           aud, now - 60, now - 60, now + 3600);
  base64url("{\"alg\":\"RS256\",\"typ\":\"JWT\"}", h64, sizeof(h64));
  base64url(payload, p64, sizeof(p64));
  snprintf(out, cap, "%s.%s.c2lnbmF0dXJl", h64, p64);
}

// Bearer tokens against Azurite (https + --oauth basic).
static void test_azure_bearer(void** state) {
  (void)state;
  make_tmpdir();
  char key[400], cert[400], ep[128], jwt[2048];
  snprintf(key, sizeof(key), "%s/key.pem", g_tmp);
  snprintf(cert, sizeof(cert), "%s/cert.pem", g_tmp);
  make_self_signed(key, cert);
  struct store_server srv;
  assert_int_equal(store_server_start_azurite_oauth(&srv, key, cert), 0);
  snprintf(ep, sizeof(ep), "%s/devstoreaccount1", srv.endpoint);
  make_jwt(jwt, sizeof(jwt), "https://storage.azure.com");
  struct otap_store_options o;
  otap_store_options_init(&o);
  o.ignore_env = true;
  o.azure_account = "devstoreaccount1";
  o.endpoint = ep;
  o.bearer_token = jwt;
  o.ca_file = cert;
  struct otap_store* s = NULL;
  struct otap_error err;
  assert_int_equal(otap_store_open(&s, "az://bearer/p", &o, &err), 0);
  assert_int_equal(s->auth, OTAP_AUTH_BEARER);
  int rc = otap__store_create_bucket(s, &err);
  if (rc) fail_msg("create container with bearer: %s", err.message);
  rc = otap_store_put(s, "k", "bearer!", 7, &err);
  if (rc) fail_msg("put with bearer: %s", err.message);
  struct otap_buffer buf;
  otap_buffer_init(&buf);
  assert_int_equal(otap_store_get(s, "k", &buf, &err), 0);
  assert_int_equal(buf.size, 7);
  assert_memory_equal(buf.data, "bearer!", 7);
  struct otap_store_list l;
  assert_int_equal(otap_store_list(s, "", true, &l, &err), 0);
  assert_int_equal(l.count, 1);
  otap_store_list_reset(&l);
  otap_store_free(s);
  // A token for another audience is refused; the token is not in the message.
  make_jwt(jwt, sizeof(jwt), "https://example.com");
  assert_int_equal(otap_store_open(&s, "az://bearer/p", &o, &err), 0);
  buf.size = 0;
  assert_int_equal(otap_store_get(s, "k", &buf, &err), EACCES);
  assert_null(strstr(err.message, jwt));
  assert_null(strstr(err.message, "eyJ"));
  otap_store_free(s);
  otap_buffer_reset(&buf);
  store_server_stop(&srv);
  rm_tmpdir();
}

int main(void) {
  const struct CMUnitTest offline[] = {
      cmocka_unit_test(test_xml_s3_list),
      cmocka_unit_test(test_xml_azure_list),
      cmocka_unit_test(test_xml_malformed),
      cmocka_unit_test(test_xml_error_page),
      cmocka_unit_test(test_sigv4_aws_example),
      cmocka_unit_test(test_uri_and_query),
      cmocka_unit_test(test_open_urls),
      cmocka_unit_test(test_local_roundtrip),
      cmocka_unit_test(test_local_escapes),
      cmocka_unit_test(test_local_alloc_failures),
  };
  const struct CMUnitTest s3[] = {
      cmocka_unit_test(test_s3_operations),
      cmocka_unit_test(test_s3_multipart),
      cmocka_unit_test(test_gcs_hmac_via_s3_server),
      cmocka_unit_test(test_s3_errors_hide_credentials),
      cmocka_unit_test(test_cli_ls_cp),
      cmocka_unit_test(test_s3_range_coalescing),
      cmocka_unit_test(test_s3_alloc_failures),
      cmocka_unit_test(test_s3_tls),
      cmocka_unit_test(test_s3_faults),
  };
  const struct CMUnitTest az[] = {
      cmocka_unit_test(test_azure_operations),
      cmocka_unit_test(test_azure_blocks),
      cmocka_unit_test(test_azure_sas_and_errors),
      cmocka_unit_test(test_azure_faults),
      cmocka_unit_test(test_azure_cli),
      cmocka_unit_test(test_azure_bearer),
  };
  int failed = cmocka_run_group_tests_name("store offline", offline, NULL, NULL);
  failed += cmocka_run_group_tests_name("store s3rver", s3, s3_setup, s3_teardown);
  failed += cmocka_run_group_tests_name("store azurite", az, az_setup, az_teardown);
  return failed ? 1 : 0;
}
