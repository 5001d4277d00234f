// otap cp: copies one object from any store to any store (local, S3, GCS, Azure).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "otap/store.h"

bool otap_cli_store_split(const char* url, char* parent, size_t cap, const char** last);

#define CHUNK ((size_t)8 << 20)
#define BATCH 4  // chunks fetched in parallel

static void help(FILE* out) {
  fprintf(
      out,
      "Usage: otap cp SRC DST [--json]\n\n"
      "Copies one object. SRC and DST are each a local path, file://PATH, "
      "s3://BUCKET/KEY,\n"
      "gs://BUCKET/KEY, az://CONTAINER/KEY or https://ACCOUNT.blob.core.windows.net/\n"
      "CONTAINER/KEY. When DST ends with '/' (or is an existing local directory) the\n"
      "object keeps its name; DST '-' writes the object to stdout. The source is read\n"
      "with parallel ranged GETs; the destination is written as a stream (multipart /\n"
      "block upload above 16 MiB, temp file + rename locally), so a failed copy never\n"
      "leaves a partial object.\n"
      "Progress is drawn on stderr when it is a terminal.\n\n"
      "Options:\n"
      "  --json   print {\"src\", \"dst\", \"bytes\"} when done\n\n"
      "Credentials and endpoints come from the environment (see `otap --help`); for\n"
      "gs://, GOOGLE_OAUTH_ACCESS_TOKEN selects the GCS JSON API (resumable upload above\n"
      "16 MiB), GCS_HMAC_ACCESS_ID + GCS_HMAC_SECRET the XML API.\n\n"
      "Examples:\n"
      "  otap cp logs.parquet s3://bucket/otap/logs.parquet\n"
      "  otap cp az://container/part-0.parquet ./local-dir/\n"
      "  GOOGLE_OAUTH_ACCESS_TOKEN=... otap cp gs://bucket/part-0.parquet -\n");
}

static bool is_local_dir(const char* url) {
  if (strstr(url, "://") && strncmp(url, "file://", 7) != 0) return false;
  const char* p = strncmp(url, "file://", 7) == 0 ? url + 7 : url;
  struct stat st;
  return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int copy(const char* src, const char* dst, int64_t* copied,
                struct otap_error* err) {
  char sparent[4096], dparent[4096];
  const char *skey, *dkey;
  if (!otap_cli_store_split(src, sparent, sizeof(sparent), &skey)) {
    return otap_error_set(err, EINVAL,
                          "%s: not an object URL (bucket or container only?)", src);
  }
  size_t dl = strlen(dst);
  bool to_stdout = strcmp(dst, "-") == 0;
  if (to_stdout) {
    snprintf(dparent, sizeof(dparent), ".");
    dkey = "-";
  } else if ((dl && dst[dl - 1] == '/') || is_local_dir(dst)) {
    snprintf(dparent, sizeof(dparent), "%s", dst);
    dkey = skey;
  } else if (!otap_cli_store_split(dst, dparent, sizeof(dparent), &dkey)) {
    return otap_error_set(err, EINVAL, "%s: not an object URL", dst);
  }
  struct otap_store *in = NULL, *out = NULL;
  struct otap_sink sink = {0};
  struct otap_source source = {0};
  uint8_t* buf = NULL;
  int rc = 0;
  OTAP_GOTO_NOT_OK(rc, otap_store_open(&in, sparent, NULL, err));
  if (!to_stdout) OTAP_GOTO_NOT_OK(rc, otap_store_open(&out, dparent, NULL, err));
  OTAP_GOTO_NOT_OK(rc, otap_store_open_source(in, skey, &source, err));
  if (to_stdout) {
    OTAP_GOTO_NOT_OK(rc, otap_sink_open_file(&sink, "-", err));
  } else {
    OTAP_GOTO_NOT_OK(rc, otap_store_open_sink(out, dkey, &sink, err));
  }
  uint64_t size = 0;
  OTAP_GOTO_NOT_OK(rc, source.size(&source, &size, err));
  size_t bufsize = size < CHUNK * BATCH ? (size_t)size : CHUNK * BATCH;
  buf = otap_malloc(bufsize ? bufsize : 1);
  if (!buf) OTAP_GOTO_NOT_OK(rc, otap_error_set(err, ENOMEM, "out of memory"));
  bool progress = otap_cli_progress_enabled();
  for (uint64_t off = 0; off < size;) {
    struct otap_store_range r[BATCH];
    size_t n = 0, total = 0;
    while (n < BATCH && off < size) {
      size_t len = size - off < CHUNK ? (size_t)(size - off) : CHUNK;
      r[n++] = (struct otap_store_range){off, len, buf + total};
      off += len;
      total += len;
    }
    OTAP_GOTO_NOT_OK(rc, otap_store_source_read_ranges(&source, r, n, err));
    OTAP_GOTO_NOT_OK(rc, sink.write(&sink, buf, total, err));
    if (progress) {
      fprintf(stderr, "\r%s: %.1f / %.1f MiB (%3.0f%%)", skey, (double)off / 1048576.0,
              (double)size / 1048576.0, 100.0 * (double)off / (double)size);
    }
  }
  if (progress) fprintf(stderr, "\r\033[K");
  OTAP_GOTO_NOT_OK(rc, sink.finish(&sink, err));
  *copied = (int64_t)size;
done:
  otap_free(buf);
  otap_sink_release(&sink);
  otap_source_release(&source);
  otap_store_free(in);
  otap_store_free(out);
  return rc;
}

static int run(int argc, char** argv) {
  const char* src = NULL;
  const char* dst = NULL;
  bool json = false;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--json") == 0) {
      json = true;
    } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
      return otap_cli_fail("cp", OTAP_EXIT_USAGE, "unknown option '%s'", argv[i]);
    } else if (!src) {
      src = argv[i];
    } else if (!dst) {
      dst = argv[i];
    } else {
      return otap_cli_fail("cp", OTAP_EXIT_USAGE, "takes SRC and DST");
    }
  }
  if (!src || !dst)
    return otap_cli_fail("cp", OTAP_EXIT_USAGE,
                         "missing SRC or DST (see otap cp --help)");
  struct otap_error err;
  int64_t bytes = 0;
  if (copy(src, dst, &bytes, &err) != 0) {
    return otap_cli_fail("cp", OTAP_EXIT_FAILURE, "%s", err.message);
  }
  if (strcmp(dst, "-") == 0) return OTAP_EXIT_OK;  // stdout carries the data
  if (json) {
    printf("{\"src\":");
    otap_cli_json_string(stdout, src, -1);
    printf(",\"dst\":");
    otap_cli_json_string(stdout, dst, -1);
    printf(",\"bytes\":%lld}\n", (long long)bytes);
  } else {
    printf("copied %lld bytes: %s -> %s\n", (long long)bytes, src, dst);
  }
  return OTAP_EXIT_OK;
}

OTAP_CLI_COMMAND(cp, "copy an object between local, S3, GCS and Azure stores", run, help)
