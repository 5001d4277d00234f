// otap gen logs: writes a deterministic, seeded OTAP records file of synthetic logs.
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_otap.h"

static void help(FILE* out) {
  fprintf(out,
          "Usage: otap gen logs [options] -o OUT\n"
          "\n"
          "Writes an OTAP records file (varint-delimited BatchArrowRecords messages, one logs\n"
          "payload each) of synthetic but realistic logs. The same options always give the same\n"
          "bytes, so tests and benchmarks can regenerate their inputs.\n"
          "\n"
          "Shape of each payload:\n"
          "  --records N         log records per payload (default 100, at most 65536)\n"
          "  --resources N       resources per payload (default 2)\n"
          "  --scopes N          scopes per resource (default 2)\n"
          "  --log-attrs N       at most N attributes per log record, 1..N drawn per record\n"
          "                      (default 3; 0 = no LOG_ATTRS table)\n"
          "  --fixed-log-attrs   exactly N attributes per record that has attributes\n"
          "  --resource-attrs N  attributes per resource (default 4; 0 = no RESOURCE_ATTRS)\n"
          "  --scope-attrs N     attributes per scope (default 2; 0 = no SCOPE_ATTRS)\n"
          "  --body-bytes N      length of string bodies in bytes (default 64)\n"
          "  --trace-fanout N    log records sharing one trace id (default 4; 0 = no trace and\n"
          "                      span ids)\n"
          "  --no-attr-percent P percent of records without attributes (null id; default 20)\n"
          "  --body-mixed-percent P  percent of non-string bodies (default 10)\n"
          "\n"
          "Sequence and encodings:\n"
          "  --payloads J        number of payloads (messages) to write (default 1)\n"
          "  --seed S            random seed (default 1)\n"
          "  --dict auto|always|never  dictionary-encode eligible columns: a seeded mix of\n"
          "                      native/u8/u16 (auto, default), always (smallest key that fits),\n"
          "                      or never\n"
          "  --encoded-ids       write delta / quasi-delta transport-encoded ids (no encoding\n"
          "                      metadata, as Go producers do) instead of plain ids\n"
          "  --vary-schema       randomly drop optional columns and tables and mix attribute\n"
          "                      types per payload (exercises schema unification)\n"
          "  --duplicate-resources  repeat resource/scope content under several ids\n"
          "  --no-shared-pool    draw resources per payload instead of from one shared pool\n"
          "  --shuffle           shuffle row order (ids stay consistent)\n"
          "  --compression C     Arrow IPC body compression: none (default), lz4 or zstd\n"
          "  -o, --output OUT    output file ('-' = stdout)\n"
          "  --json              print a JSON summary instead of text\n");
}

static bool want_value(int argc, char** argv, int i) { return i + 1 < argc && argv[i + 1]; }

static int run_gen(int argc, char** argv) {
  if (argc < 2 || otap_cli_is_help(argv[1])) {
    help(argc < 2 ? stderr : stdout);
    return argc < 2 ? OTAP_EXIT_USAGE : OTAP_EXIT_OK;
  }
  if (strcmp(argv[1], "logs") != 0) {
    return otap_cli_fail("gen", OTAP_EXIT_USAGE, "unknown signal '%s' (only 'logs')", argv[1]);
  }
  struct otap_logs_gen_options o;
  otap_logs_gen_options_init(&o);
  int64_t payloads = 1;
  struct otap_records_writer_options wopts;
  otap_records_writer_options_init(&wopts);
  const char* out_path = NULL;
  bool json = false;
  for (int i = 2; i < argc; i++) {
    const char* a = argv[i];
    int64_t v = 0;
    struct {
      const char* name;
      int64_t* dst;
    } ints[] = {{"--records", &o.records},         {"--resources", &o.resources},
                {"--scopes", &o.scopes},           {"--log-attrs", &o.log_attrs},
                {"--resource-attrs", &o.resource_attrs}, {"--scope-attrs", &o.scope_attrs},
                {"--body-bytes", &o.body_bytes},   {"--trace-fanout", &o.trace_fanout},
                {"--payloads", &payloads}};
    bool matched = false;
    for (size_t k = 0; k < sizeof(ints) / sizeof(ints[0]); k++) {
      if (strcmp(a, ints[k].name) != 0) continue;
      if (!want_value(argc, argv, i) || !otap_cli_parse_count(argv[i + 1], &v)) {
        return otap_cli_fail("gen", OTAP_EXIT_USAGE, "%s needs a non-negative number", a);
      }
      *ints[k].dst = v;
      i++;
      matched = true;
    }
    if (matched) continue;
    if (otap_cli_is_help(a)) {
      help(stdout);
      return OTAP_EXIT_OK;
    } else if (strcmp(a, "--no-attr-percent") == 0 || strcmp(a, "--body-mixed-percent") == 0) {
      if (!want_value(argc, argv, i) || !otap_cli_parse_count(argv[i + 1], &v) || v > 100) {
        return otap_cli_fail("gen", OTAP_EXIT_USAGE, "%s needs a percentage 0..100", a);
      }
      if (a[2] == 'n') o.no_attr_percent = (int32_t)v; else o.body_mixed_percent = (int32_t)v;
      i++;
    } else if (strcmp(a, "--seed") == 0) {
      if (!want_value(argc, argv, i)) return otap_cli_fail("gen", OTAP_EXIT_USAGE, "--seed needs a value");
      char* end;
      o.seed = strtoull(argv[++i], &end, 0);
      if (*end) return otap_cli_fail("gen", OTAP_EXIT_USAGE, "--seed needs an integer");
    } else if (strcmp(a, "--dict") == 0) {
      const char* m = want_value(argc, argv, i) ? argv[++i] : "";
      if (strcmp(m, "auto") == 0) o.dict = OTAP_LOGS_GEN_DICT_AUTO;
      else if (strcmp(m, "always") == 0) o.dict = OTAP_LOGS_GEN_DICT_ALWAYS;
      else if (strcmp(m, "never") == 0) o.dict = OTAP_LOGS_GEN_DICT_NEVER;
      else return otap_cli_fail("gen", OTAP_EXIT_USAGE, "--dict takes auto, always or never");
    } else if (strcmp(a, "--encoded-ids") == 0) {
      o.encoded_ids = true;
    } else if (strcmp(a, "--vary-schema") == 0) {
      o.vary_schema = true;
    } else if (strcmp(a, "--duplicate-resources") == 0) {
      o.duplicate_resources = true;
    } else if (strcmp(a, "--no-shared-pool") == 0) {
      o.shared_pool = false;
    } else if (strcmp(a, "--fixed-log-attrs") == 0) {
      o.fixed_log_attrs = true;
    } else if (strcmp(a, "--shuffle") == 0) {
      o.shuffle_rows = true;
    } else if (strcmp(a, "--compression") == 0) {
      struct otap_error cerr;
      if (!want_value(argc, argv, i) ||
          otap_ipc_compression_parse(argv[i + 1], &wopts.compression, &cerr) != 0) {
        return otap_cli_fail("gen", OTAP_EXIT_USAGE, "--compression takes none, lz4 or zstd");
      }
      i++;
    } else if (strcmp(a, "--json") == 0) {
      json = true;
    } else if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) {
      if (!want_value(argc, argv, i)) return otap_cli_fail("gen", OTAP_EXIT_USAGE, "%s needs a path", a);
      out_path = argv[++i];
    } else {
      return otap_cli_fail("gen", OTAP_EXIT_USAGE, "unknown option '%s' (see otap gen --help)", a);
    }
  }
  if (!out_path) return otap_cli_fail("gen", OTAP_EXIT_USAGE, "missing -o OUT");
  struct otap_error err;
  struct otap_sink sink;
  memset(&sink, 0, sizeof(sink));
  if (otap_sink_open_file(&sink, out_path, &err)) return otap_cli_fail("gen", OTAP_EXIT_FAILURE, "%s", err.message);
  struct otap_records_writer* w = NULL;
  int rc = otap_records_writer_open(&w, &sink, &wopts, &err);
  int64_t records = 0;
  bool progress = otap_cli_progress_enabled() && strcmp(out_path, "-") != 0;
  for (int64_t j = 0; j < payloads && !rc; j++) {
    struct otap_logs_payload p;
    rc = otap_logs_gen(&o, j, &p, &err);
    if (!rc) {
      records += otap_logs_payload_num_records(&p);
      rc = otap_records_writer_write(w, &p, &err);
      otap_logs_payload_reset(&p);
    }
    if (progress) fprintf(stderr, "\rotap gen: %lld/%lld payloads", (long long)(j + 1), (long long)payloads);
  }
  if (progress) fputc('\n', stderr);
  if (!rc) rc = otap_records_writer_finish(w, &err);
  if (!rc) rc = sink.finish(&sink, &err);
  otap_records_writer_free(w);
  otap_sink_release(&sink);
  if (rc) return otap_cli_fail("gen", OTAP_EXIT_FAILURE, "%s", err.message);
  FILE* info = strcmp(out_path, "-") == 0 ? stderr : stdout;
  if (json) {
    fprintf(info, "{\"output\":");
    otap_cli_json_string(info, out_path, -1);
    fprintf(info, ",\"payloads\":%lld,\"records\":%lld,\"seed\":%llu}\n", (long long)payloads,
            (long long)records, (unsigned long long)o.seed);
  } else {
    fprintf(info, "wrote %lld payloads, %lld log records to %s\n", (long long)payloads,
            (long long)records, out_path);
  }
  return OTAP_EXIT_OK;
}

OTAP_CLI_COMMAND(gen, "generate a seeded OTAP records file of synthetic logs", run_gen, help)
