// otap convert: reads any Arrow input (format from content) and writes it in another container.
// Output writers are a table (--to NAME): later formats (e.g. parquet) add one entry.
#include <string.h>

#include "cli.h"
#include "cli_input.h"
#include "otap/ipc.h"

struct convert_options {
  enum otap_ipc_compression compression;
  bool compression_set;
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

static const struct {
  const char* name;
  const char* description;
  writer_fn write;
} kWriters[] = {
    {"stream", "Arrow IPC streaming format", write_stream},
    {"file", "Arrow IPC file format (footer, random access)", write_file},
};

static void help(FILE* out) {
  fprintf(out,
          "Usage: otap convert [--to FORMAT] [--compression none|lz4|zstd] IN OUT\n\n"
          "Reads IN (format detected from the content; \"-\" reads stdin) and writes OUT (\"-\"\n"
          "writes stdout; a file is written to a temporary name and renamed when complete).\n\n"
          "  --to FORMAT          output format (default: stream). FORMAT is one of:\n");
  for (size_t i = 0; i < sizeof(kWriters) / sizeof(kWriters[0]); i++)
    fprintf(out, "                         %-8s %s\n", kWriters[i].name, kWriters[i].description);
  fprintf(out,
          "  --compression CODEC  IPC body compression: none (default), lz4 (LZ4 frame), zstd.\n"
          "                       Buffers that do not shrink are stored uncompressed.\n\n"
          "Dictionaries are carried over; a stream whose dictionaries change between batches\n"
          "can be written as a stream (delta or replacement dictionaries) but not as a file.\n\n"
          "Exit status: 0 on success, 1 if reading or writing fails, 2 on a usage error.\n");
}

static int run(int argc, char** argv) {
  const char* to = "stream";
  const char* paths[2] = {NULL, NULL};
  int n_paths = 0;
  struct convert_options opts = {OTAP_IPC_COMPRESSION_NONE, false};
  struct otap_error err;
  for (int i = 1; i < argc; i++) {
    if (otap_cli_is_help(argv[i])) {
      help(stdout);
      return OTAP_EXIT_OK;
    } else if (strcmp(argv[i], "--to") == 0 && i + 1 < argc) {
      to = argv[++i];
    } else if (strcmp(argv[i], "--compression") == 0 && i + 1 < argc) {
      if (otap_ipc_compression_parse(argv[++i], &opts.compression, &err))
        return otap_cli_fail("convert", OTAP_EXIT_USAGE, "%s", err.message);
      opts.compression_set = true;
    } else if (argv[i][0] == '-' && argv[i][1]) {
      return otap_cli_fail("convert", OTAP_EXIT_USAGE, "unknown option '%s' (see otap convert --help)",
                           argv[i]);
    } else if (n_paths < 2) {
      paths[n_paths++] = argv[i];
    } else {
      return otap_cli_fail("convert", OTAP_EXIT_USAGE, "too many arguments");
    }
  }
  if (n_paths != 2) return otap_cli_fail("convert", OTAP_EXIT_USAGE, "need IN and OUT (see otap convert --help)");
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

OTAP_CLI_COMMAND(convert, "convert an Arrow input to an IPC stream or file (optionally compressed)",
                 run, help)
