// Parquet output for the CLI: options of `otap convert` and the stream -> file write.
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_parquet_write.h"

void otap_cli_parquet_write_args_init(struct otap_cli_parquet_write_args* a) {
  memset(a, 0, sizeof(*a));
  a->codec = OTAP_PARQUET_CODEC_UNCOMPRESSED;
  a->compression_level = INT32_MIN;
  a->dictionary = -1;
}

static bool parse_i64(const char* s, int64_t lo, int64_t hi, int64_t* out) {
  if (!s || !*s) return false;
  char* end = NULL;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (errno || *end || v < lo || v > hi) return false;
  *out = v;
  return true;
}

int otap_cli_parquet_write_parse_arg(struct otap_cli_parquet_write_args* a, int argc, char** argv,
                                     int* i, const char* cmd) {
  const char* opt = argv[*i];
  if (strcmp(opt, "--dictionary") == 0) {
    a->dictionary = 1;
    return 1;
  }
  if (strcmp(opt, "--no-dictionary") == 0) {
    a->dictionary = 0;
    return 1;
  }
  static const char* const with_value[] = {"--compression", "--compression-level",
                                           "--row-group-rows", "--page-version", "--page-size",
                                           "--created-by"};
  int which = -1;
  for (int k = 0; k < 6; k++) {
    if (strcmp(opt, with_value[k]) == 0) which = k;
  }
  if (which < 0) return 0;
  if (*i + 1 >= argc) {
    otap_cli_fail(cmd, OTAP_EXIT_USAGE, "%s needs a value", opt);
    return -1;
  }
  const char* v = argv[++*i];
  int64_t n = 0;
  switch (which) {
    case 0:
      if (otap_parquet_writer_codec_from_name(v, &a->codec) != 0) {
        otap_cli_fail(cmd, OTAP_EXIT_USAGE,
                      "unknown compression '%s' (none, snappy, zstd, gzip, lz4_raw, lz4, brotli)", v);
        return -1;
      }
      return 1;
    case 1:
      if (!parse_i64(v, -131072, 22, &n)) break;
      a->compression_level = (int)n;
      return 1;
    case 2:
      if (!parse_i64(v, 1, INT32_MAX, &n)) break;
      a->row_group_rows = n;
      return 1;
    case 3:
      if (!parse_i64(v, 1, 2, &n)) break;
      a->page_version = (int)n;
      return 1;
    case 4:
      if (!parse_i64(v, 64, (int64_t)1 << 30, &n)) break;
      a->page_size = n;
      return 1;
    default:
      a->created_by = v;
      return 1;
  }
  otap_cli_fail(cmd, OTAP_EXIT_USAGE, "bad value '%s' for %s", v, opt);
  return -1;
}

void otap_cli_parquet_write_help(FILE* out) {
  fprintf(out,
          "Parquet output options:\n"
          "  --compression C       none (default), snappy, zstd, gzip, lz4_raw, lz4 (legacy\n"
          "                        Hadoop framing; DuckDB cannot read it), brotli\n"
          "  --compression-level N zstd/gzip/brotli level (default: zstd 1, gzip 6, brotli 1)\n"
          "  --row-group-rows N    rows per row group (default 1048576)\n"
          "  --page-version 1|2    data page header version (default 1)\n"
          "  --page-size BYTES     target encoded size of a data page (default 1048576)\n"
          "  --dictionary          dictionary-encode columns (default; not BOOLEAN/FLBA), with\n"
          "  --no-dictionary       fallback to PLAIN past 1 MiB of dictionary per chunk\n"
          "  --created-by TEXT     the file's created_by (default \"otap version X.Y.Z\")\n");
}

int otap_cli_parquet_write_to_sink(struct ArrowArrayStream* stream, struct otap_sink* sink,
                                   const struct otap_cli_parquet_write_args* a,
                                   struct otap_error* err) {
  struct otap_parquet_write_options o;
  otap_parquet_write_options_init(&o);
  o.codec = a->codec;
  o.compression_level = a->compression_level;
  if (a->row_group_rows > 0) o.row_group_rows = a->row_group_rows;
  if (a->page_version > 0) o.page_version = a->page_version;
  if (a->page_size > 0) o.data_page_size = a->page_size;
  if (a->dictionary >= 0) o.dictionary = a->dictionary != 0;
  if (a->created_by) o.created_by = a->created_by;
  return otap_parquet_write_stream(sink, stream, &o, err);
}

int otap_cli_parquet_write_stream(struct ArrowArrayStream* stream, const char* path,
                                  const struct otap_cli_parquet_write_args* a,
                                  struct otap_error* err) {
  struct otap_sink sink;
  int rc = otap_sink_open_file(&sink, path, err);
  if (rc) return rc;
  rc = otap_cli_parquet_write_to_sink(stream, &sink, a, err);
  otap_sink_release(&sink);  // without a successful finish the temporary file is discarded
  return rc;
}
