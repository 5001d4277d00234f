// otap convert: reads any Arrow input (format from content) and writes it in another container.
// Output writers are a table (--to NAME, or OUT's extension).
#include <string.h>

#include "cli.h"
#include "cli_input.h"
#include "cli_parquet_write.h"
#include "otap/ipc.h"

struct convert_options {
  enum otap_ipc_compression compression;
  bool compression_set;
  struct otap_cli_parquet_write_args parquet;
};

typedef int (*writer_fn)(struct ArrowArrayStream* in, struct otap_sink* sink,
                         const struct convert_options* opts, struct otap_error* err);

static int write_ipc(struct ArrowArrayStream* in, struct otap_sink* sink,
                     enum otap_ipc_format format, const struct convert_options* opts,
                     struct otap_error* err) {
  struct otap_ipc_write_options wo;
  otap_ipc_write_options_init(&wo);
  wo.compression = opts->compression;
  return otap_ipc_write_array_stream(in, sink, format, &wo, err);
}

static int write_stream(struct ArrowArrayStream* in, struct otap_sink* sink,
                        const struct convert_options* opts, struct otap_error* err) {
  return write_ipc(in, sink, OTAP_IPC_FORMAT_STREAM, opts, err);
}

static int write_file(struct ArrowArrayStream* in, struct otap_sink* sink,
                      const struct convert_options* opts, struct otap_error* err) {
  return write_ipc(in, sink, OTAP_IPC_FORMAT_FILE, opts, err);
}

static int write_parquet(struct ArrowArrayStream* in, struct otap_sink* sink,
                         const struct convert_options* opts, struct otap_error* err) {
  return otap_cli_parquet_write_to_sink(in, sink, &opts->parquet, err);
}

static const struct {
  const char* name;
  const char* extension;  // OUT's extension that selects this writer when --to is absent
  const char* description;
  writer_fn write;
} kWriters[] = {
    {"stream", ".arrows", "Arrow IPC streaming format (also .stream)", write_stream},
    {"file", ".arrow", "Arrow IPC file format (footer, random access; also .feather)", write_file},
    {"parquet", ".parquet", "Apache Parquet", write_parquet},
};

static bool ends_with(const char* s, const char* suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcmp(s + n - m, suffix) == 0;
}

// Output format from OUT's extension; "stream" when nothing matches.
static const char* format_from_path(const char* path) {
  for (size_t i = 0; i < sizeof(kWriters) / sizeof(kWriters[0]); i++)
    if (ends_with(path, kWriters[i].extension)) return kWriters[i].name;
  if (ends_with(path, ".stream")) return "stream";
  if (ends_with(path, ".feather")) return "file";
  return "stream";
}

// Options that take a value, for the first pass that finds --to and OUT.
static bool takes_value(const char* opt) {
  static const char* const kWithValue[] = {"--to",          "--compression",  "--compression-level",
                                           "--row-group-rows", "--page-version", "--page-size",
                                           "--created-by"};
  for (size_t i = 0; i < sizeof(kWithValue) / sizeof(kWithValue[0]); i++)
    if (strcmp(opt, kWithValue[i]) == 0) return true;
  return false;
}

static void help(FILE* out) {
  fprintf(out,
          "Usage: otap convert [--to FORMAT] [OPTIONS] IN OUT\n\n"
          "Reads IN (Arrow IPC stream or file, or Parquet; format detected from the content;\n"
          "\"-\" reads stdin) and writes OUT (\"-\" writes stdout; a file is written to a\n"
          "temporary name and renamed when complete).\n\n"
          "  --to FORMAT          output format; without it, OUT's extension decides\n"
          "                       (.parquet, .arrows/.stream, .arrow/.feather; else stream):\n");
  for (size_t i = 0; i < sizeof(kWriters) / sizeof(kWriters[0]); i++)
    fprintf(out, "                         %-8s %s\n", kWriters[i].name, kWriters[i].description);
  fprintf(out,
          "\nArrow IPC output (stream, file):\n"
          "  --compression CODEC  IPC body compression: none (default), lz4 (LZ4 frame), zstd.\n"
          "                       Buffers that do not shrink are stored uncompressed.\n\n"
          "\n");
  otap_cli_parquet_write_help(out);
  fprintf(out,
          "\n"
          "Dictionaries are carried over; a stream whose dictionaries change between batches\n"
          "can be written as a stream (delta or replacement dictionaries) but not as a file.\n\n"
          "Exit status: 0 on success, 1 if reading or writing fails, 2 on a usage error.\n");
}

static int run(int argc, char** argv) {
  const char* to = NULL;
  const char* paths[2] = {NULL, NULL};
  int n_paths = 0;
  struct convert_options opts;
  memset(&opts, 0, sizeof(opts));
  opts.compression = OTAP_IPC_COMPRESSION_NONE;
  otap_cli_parquet_write_args_init(&opts.parquet);
  struct otap_error err;
  // Pass 1: --to and the two paths (options are interpreted per output format in pass 2).
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--to") == 0 && i + 1 < argc) {
      to = argv[++i];
    } else if (argv[i][0] == '-' && argv[i][1]) {
      if (takes_value(argv[i])) i++;
    } else if (n_paths < 2) {
      paths[n_paths++] = argv[i];
    } else {
      return otap_cli_fail("convert", OTAP_EXIT_USAGE, "too many arguments");
    }
  }
  if (n_paths != 2) return otap_cli_fail("convert", OTAP_EXIT_USAGE, "need IN and OUT (see otap convert --help)");
  if (!to) to = format_from_path(paths[1]);
  bool parquet = strcmp(to, "parquet") == 0;
  // Pass 2: options.
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--to") == 0) {
      i++;
    } else if (parquet && argv[i][0] == '-' && argv[i][1]) {
      int r = otap_cli_parquet_write_parse_arg(&opts.parquet, argc, argv, &i, "convert");
      if (r < 0) return OTAP_EXIT_USAGE;
      if (r == 0)
        return otap_cli_fail("convert", OTAP_EXIT_USAGE,
                             "unknown option '%s' for Parquet output (see otap convert --help)", argv[i]);
    } else if (strcmp(argv[i], "--compression") == 0 && i + 1 < argc) {
      if (otap_ipc_compression_parse(argv[++i], &opts.compression, &err))
        return otap_cli_fail("convert", OTAP_EXIT_USAGE, "%s", err.message);
      opts.compression_set = true;
    } else if (argv[i][0] == '-' && argv[i][1]) {
      return otap_cli_fail("convert", OTAP_EXIT_USAGE, "unknown option '%s' (see otap convert --help)",
                           argv[i]);
    }
  }
  writer_fn write = NULL;
  for (size_t i = 0; i < sizeof(kWriters) / sizeof(kWriters[0]); i++)
    if (strcmp(kWriters[i].name, to) == 0) write = kWriters[i].write;
  if (!write) return otap_cli_fail("convert", OTAP_EXIT_USAGE, "unknown output format '%s'", to);
  struct ArrowArrayStream in;
  if (otap_cli_open_stream(paths[0], &in, NULL, &err))
    return otap_cli_fail("convert", OTAP_EXIT_FAILURE, "%s", err.message);
  struct otap_sink sink;
  int rc = otap_sink_open_file(&sink, paths[1], &err);
  if (!rc) {
    rc = write(&in, &sink, &opts, &err);
    otap_sink_release(&sink);
  }
  in.release(&in);
  if (rc) return otap_cli_fail("convert", OTAP_EXIT_FAILURE, "%s -> %s: %s", paths[0], paths[1], err.message);
  return OTAP_EXIT_OK;
}

OTAP_CLI_COMMAND(convert, "convert between Arrow IPC (stream, file) and Parquet",
                 run, help)
