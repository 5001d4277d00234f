// otap ls: lists objects of a store URL (local path, s3://, gs://, az://, Azure https
// URL).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "otap/store.h"

static void help(FILE* out) {
  fprintf(
      out,
      "Usage: otap ls URL [--recursive] [--json]\n\n"
      "Lists the objects under URL, sorted by key: a local directory or file://PATH,\n"
      "s3://BUCKET/PREFIX, gs://BUCKET/PREFIX, az://CONTAINER/PREFIX or\n"
      "https://ACCOUNT.blob.core.windows.net/CONTAINER/PREFIX. Without --recursive,\n"
      "objects directly under the prefix are shown together with the sub-prefixes\n"
      "(\"directories\", ending in '/'). A URL naming one object lists just that "
      "object.\n\n"
      "Options:\n"
      "  -r, --recursive  every object below the prefix\n"
      "  --json           one JSON document: {\"url\", \"objects\": [{\"key\", "
      "\"size\",\n"
      "                   \"mtime\", \"prefix\"}]} (size -1 and prefix true for "
      "directories)\n\n"
      "Credentials and endpoints come from the environment (see `otap --help`):\n"
      "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION,\n"
      "AWS_ENDPOINT_URL; AZURE_STORAGE_CONNECTION_STRING, AZURE_STORAGE_ACCOUNT,\n"
      "AZURE_STORAGE_KEY, AZURE_STORAGE_SAS_TOKEN; GCS_HMAC_ACCESS_ID, GCS_HMAC_SECRET,\n"
      "GOOGLE_OAUTH_ACCESS_TOKEN, GCS_ENDPOINT_URL. gs:// uses the GCS JSON API with\n"
      "GOOGLE_OAUTH_ACCESS_TOKEN (an OAuth access token) and the XML API with HMAC keys.\n\n"
      "Examples:\n"
      "  otap ls s3://logs/otap/ --recursive\n"
      "  AWS_ENDPOINT_URL=http://127.0.0.1:9000 otap ls s3://bucket --json\n"
      "  GOOGLE_OAUTH_ACCESS_TOKEN=$(gcloud auth print-access-token) otap ls gs://bucket/\n");
}

static void print_time(FILE* out, int64_t t) {
  if (t <= 0) {
    fprintf(out, "%-20s", "-");
    return;
  }
  time_t tt = (time_t)t;
  struct tm tm;
  gmtime_r(&tt, &tm);
  char buf[32];
  strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  fprintf(out, "%-20s", buf);
}

static void print_list(const char* url, const struct otap_store_list* l, bool json) {
  if (json) {
    printf("{\"url\":");
    otap_cli_json_string(stdout, url, -1);
    printf(",\"objects\":[");
    for (size_t i = 0; i < l->count; i++) {
      printf("%s{\"key\":", i ? "," : "");
      otap_cli_json_string(stdout, l->items[i].key, -1);
      printf(",\"size\":%lld,\"mtime\":%lld,\"prefix\":%s}", (long long)l->items[i].size,
             (long long)l->items[i].mtime, l->items[i].is_prefix ? "true" : "false");
    }
    printf("]}\n");
    return;
  }
  int64_t total = 0;
  size_t objects = 0, prefixes = 0;
  for (size_t i = 0; i < l->count; i++) {
    const struct otap_store_object* o = &l->items[i];
    if (o->is_prefix) {
      printf("%14s  %-20s  %s\n", "DIR", "", o->key);
      prefixes++;
    } else {
      printf("%14lld  ", (long long)o->size);
      print_time(stdout, o->mtime);
      printf("  %s\n", o->key);
      total += o->size;
      objects++;
    }
  }
  printf("%zu object%s, %lld bytes", objects, objects == 1 ? "" : "s", (long long)total);
  if (prefixes) printf(", %zu prefix%s", prefixes, prefixes == 1 ? "" : "es");
  printf("\n");
}

// Splits an object URL into the store URL of its parent and the last key segment.
// "s3://b/x/y" -> "s3://b/x", "y"; "dir/f" -> "dir", "f"; "f" -> ".", "f". Shared with
// cmd_cp.c.
bool otap_cli_store_split(const char* url, char* parent, size_t cap, const char** last);
bool otap_cli_store_split(const char* url, char* parent, size_t cap, const char** last) {
  const char* scheme = strstr(url, "://");
  const char* min = url;
  if (scheme) {
    min = scheme + 3;
    if (strncmp(url, "https://", 8) == 0) {  // https://host/container/...
      const char* c = strchr(min, '/');
      if (!c) return false;
      min = c + 1;
    }
    if (strncmp(url, "file://", 7) != 0) {
      const char* b = strchr(min, '/');  // bucket or container
      if (!b) return false;
      min = b + 1;
    }
  }
  size_t n = strlen(url);
  while (n > 0 && url[n - 1] == '/') n--;
  const char* slash = NULL;
  for (const char* p = url + n; p > min; p--) {
    if (p[-1] == '/') {
      slash = p - 1;
      break;
    }
  }
  if (!slash) {
    if (scheme && strncmp(url, "file://", 7) != 0) {
      if (url + n <= min) return false;
      snprintf(parent, cap, "%.*s", (int)(min - url), url);
      *last = min;
      return true;
    }
    snprintf(parent, cap, ".");
    *last = url;
    return n > 0;
  }
  snprintf(parent, cap, "%.*s", slash == url ? 1 : (int)(slash - url), url);
  *last = slash + 1;
  return **last != '\0';
}

static int run(int argc, char** argv) {
  const char* url = NULL;
  bool recursive = false, json = false;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "-r") == 0 || strcmp(argv[i], "--recursive") == 0) {
      recursive = true;
    } else if (strcmp(argv[i], "--json") == 0) {
      json = true;
    } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
      return otap_cli_fail("ls", OTAP_EXIT_USAGE, "unknown option '%s'", argv[i]);
    } else if (!url) {
      url = argv[i];
    } else {
      return otap_cli_fail("ls", OTAP_EXIT_USAGE, "takes one URL");
    }
  }
  if (!url)
    return otap_cli_fail("ls", OTAP_EXIT_USAGE, "missing URL (see otap ls --help)");
  struct otap_error err;
  struct otap_store* s = NULL;
  struct otap_store_list l = {0};
  int rc = otap_store_open(&s, url, NULL, &err);
  if (rc == 0) rc = otap_store_list(s, "", recursive, &l, &err);
  if (rc == 0 && l.count == 0) {
    // Maybe the URL names a single object.
    char parent[4096];
    const char* last;
    struct otap_store* p = NULL;
    struct otap_store_object o = {0};
    struct otap_error e2;
    if (otap_cli_store_split(url, parent, sizeof(parent), &last) &&
        otap_store_open(&p, parent, NULL, &e2) == 0 &&
        otap_store_head(p, last, &o, &e2) == 0) {
      l.items = otap_calloc(1, sizeof(*l.items));
      if (l.items) {
        l.items[0] = o;
        l.count = 1;
        o.key = NULL;
      }
    }
    otap_store_object_reset(&o);
    otap_store_free(p);
  } else if (rc == ENOENT || rc == ENOTDIR) {
    // A local file given as the URL.
    char parent[4096];
    const char* last;
    struct otap_store* p = NULL;
    struct otap_store_object o = {0};
    struct otap_error e2;
    if (otap_cli_store_split(url, parent, sizeof(parent), &last) &&
        otap_store_open(&p, parent, NULL, &e2) == 0 &&
        otap_store_head(p, last, &o, &e2) == 0) {
      l.items = otap_calloc(1, sizeof(*l.items));
      if (l.items) {
        l.items[0] = o;
        l.count = 1;
        o.key = NULL;
        rc = 0;
      }
    }
    otap_store_object_reset(&o);
    otap_store_free(p);
  }
  if (rc) {
    otap_store_free(s);
    return otap_cli_fail("ls", OTAP_EXIT_FAILURE, "%s", err.message);
  }
  print_list(url, &l, json);
  otap_store_list_reset(&l);
  otap_store_free(s);
  return OTAP_EXIT_OK;
}

OTAP_CLI_COMMAND(ls, "list objects of a local directory or an S3/GCS/Azure URL", run,
                 help)
