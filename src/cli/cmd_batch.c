// otap batch: rebatches OTAP records files into payloads of exactly N log records (one
// residual), optionally sorted and with resources/scopes deduplicated.
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_otap.h"
#include "otap/batch.h"

static void help(FILE* out) {
  fprintf(out,
          "Usage: otap batch --max-items N [--sort KEYS] [--no-dedup] [--strategy S]\n"
          "                  [--exact-dicts] [--json] IN... -o OUT\n"
          "\n"
          "Reads every payload of the OTAP records files IN (in order), rebatches all their log\n"
          "records in one pass and writes OUT: every output payload holds exactly N records\n"
          "except the last one (the residual). Ids are renumbered densely per payload (records\n"
          "without attributes keep a null id), attribute rows follow their records, schemas are\n"
          "unified and dictionaries re-chosen per output column. Transport-encoded ids are\n"
          "decoded first; OUT is written with plain ids.\n"
          "\n"
          "  --max-items N   records per output payload, 1..65536 (required)\n"
          "  --sort KEYS     stable sort before splitting; KEYS is a comma list of resource,\n"
          "                  scope, trace_id, span_id, event_name, severity_number,\n"
          "                  time_unix_nano, observed_time_unix_nano, each optionally with\n"
          "                  ':desc', e.g. 'resource,scope,trace_id' or\n"
          "                  'severity_number:desc,trace_id'. Without --sort the input order is\n"
          "                  kept. The policy is recorded in each LOGS schema's metadata\n"
          "                  (otap.batch.sort).\n"
          "  --no-dedup      keep every input's resources and scopes separate (default: merge\n"
          "                  those with equal typed content within each output)\n"
          "  --strategy S    auto (default), concat (in-order slices; no --sort) or sort\n"
          "                  (sort-then-split over the combined table)\n"
          "  --exact-dicts   hold every dictionary value once per output column (default:\n"
          "                  a column with more than 256 distinct values whose values rarely\n"
          "                  repeat stops deduplicating them, which is faster; key widths\n"
          "                  follow the distinct count either way)\n"
          "  -o OUT          output OTAP records file (written atomically)\n"
          "  --json          print the summary as one JSON object on stderr\n"
          "\n"
          "The summary (stderr) gives inputs, outputs, records, resources and scopes in and out,\n"
          "and attribute rows dropped because no record references them (orphans).\n"
          "Exit status: 0 done, 1 error (unreadable or invalid input, type conflicts), 2 usage.\n");
}

static int usage_fail(const char* msg) {
  return otap_cli_fail("batch", OTAP_EXIT_USAGE, "%s (see otap batch --help)", msg);
}

static void print_summary(const struct otap_batch_stats* st, const struct otap_batch_options* o,
                          bool json) {
  char sort[256];
  otap_batch_format_sort(o, sort, sizeof(sort));
  if (json) {
    fprintf(stderr,
            "{\"inputs\":%lld,\"empty_inputs\":%lld,\"outputs\":%lld,\"max_items\":%lld,"
            "\"sort\":",
            (long long)st->inputs, (long long)st->empty_inputs, (long long)st->outputs,
            (long long)o->max_items);
    otap_cli_json_string(stderr, sort, -1);
    fprintf(stderr,
            ",\"dedup\":%s,\"exact_dictionaries\":%s,\"input_records\":%lld,"
            "\"output_records\":%lld,"
            "\"input_resources\":%lld,\"output_resources\":%lld,\"input_scopes\":%lld,"
            "\"output_scopes\":%lld,\"orphan_log_attrs\":%lld,\"orphan_resource_attrs\":%lld,"
            "\"orphan_scope_attrs\":%lld,\"decoded_inputs\":%lld}\n",
            o->dedup ? "true" : "false", o->exact_dictionaries ? "true" : "false",
            (long long)st->input_records,
            (long long)st->output_records, (long long)st->input_resources,
            (long long)st->output_resources, (long long)st->input_scopes,
            (long long)st->output_scopes, (long long)st->orphan_log_attrs,
            (long long)st->orphan_resource_attrs, (long long)st->orphan_scope_attrs,
            (long long)st->decoded_inputs);
    return;
  }
  fprintf(stderr,
          "batched %lld payloads (%lld log records) into %lld payloads of at most %lld; "
          "sort: %s; dedup: %s\n",
          (long long)st->inputs, (long long)st->input_records, (long long)st->outputs,
          (long long)o->max_items, sort, o->dedup ? "on" : "off");
  fprintf(stderr, "resources: %lld in, %lld out; scopes: %lld in, %lld out\n",
          (long long)st->input_resources, (long long)st->output_resources,
          (long long)st->input_scopes, (long long)st->output_scopes);
  fprintf(stderr,
          "dropped orphan attribute rows: %lld log, %lld resource, %lld scope; "
          "empty inputs: %lld; inputs with encoded ids: %lld\n",
          (long long)st->orphan_log_attrs, (long long)st->orphan_resource_attrs,
          (long long)st->orphan_scope_attrs, (long long)st->empty_inputs,
          (long long)st->decoded_inputs);
}

static int run(int argc, char** argv) {
  struct otap_batch_options o;
  otap_batch_options_init(&o);
  bool have_max = false, json = false;
  const char* out_path = NULL;
  const char** ins = calloc((size_t)argc, sizeof(char*));
  int n_ins = 0;
  int code = OTAP_EXIT_OK;
  struct otap_error err;
  if (!ins) return otap_cli_fail("batch", OTAP_EXIT_FAILURE, "out of memory");
  for (int i = 1; i < argc && code == OTAP_EXIT_OK; i++) {
    const char* a = argv[i];
    bool has_val = i + 1 < argc;
    if (otap_cli_is_help(a)) {
      help(stdout);
      free(ins);
      return OTAP_EXIT_OK;
    } else if (strcmp(a, "--max-items") == 0) {
      if (!has_val || !otap_cli_parse_count(argv[i + 1], &o.max_items) || o.max_items < 1 ||
          o.max_items > OTAP_BATCH_MAX_ITEMS) {
        code = usage_fail("--max-items needs a number from 1 to 65536");
      }
      have_max = true;
      i++;
    } else if (strcmp(a, "--sort") == 0) {
      if (!has_val) {
        code = usage_fail("--sort needs a key list");
      } else if (otap_batch_parse_sort(argv[i + 1], &o, &err)) {
        code = otap_cli_fail("batch", OTAP_EXIT_USAGE, "%s", err.message);
      }
      i++;
    } else if (strcmp(a, "--no-dedup") == 0) {
      o.dedup = false;
    } else if (strcmp(a, "--exact-dicts") == 0) {
      o.exact_dictionaries = true;
    } else if (strcmp(a, "--strategy") == 0) {
      const char* s = has_val ? argv[i + 1] : "";
      if (strcmp(s, "auto") == 0) {
        o.strategy = OTAP_BATCH_STRATEGY_AUTO;
      } else if (strcmp(s, "concat") == 0) {
        o.strategy = OTAP_BATCH_STRATEGY_CONCAT;
      } else if (strcmp(s, "sort") == 0) {
        o.strategy = OTAP_BATCH_STRATEGY_SORT;
      } else {
        code = usage_fail("--strategy must be auto, concat or sort");
      }
      i++;
    } else if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) {
      if (!has_val) code = usage_fail("-o needs a file");
      out_path = has_val ? argv[i + 1] : NULL;
      i++;
    } else if (strcmp(a, "--json") == 0) {
      json = true;
    } else if (a[0] == '-' && a[1]) {
      code = otap_cli_fail("batch", OTAP_EXIT_USAGE, "unknown option '%s'", a);
    } else {
      ins[n_ins++] = a;
    }
  }
  if (code == OTAP_EXIT_OK && !have_max) code = usage_fail("--max-items is required");
  if (code == OTAP_EXIT_OK && !out_path) code = usage_fail("-o OUT is required");
  if (code == OTAP_EXIT_OK && n_ins == 0) code = usage_fail("no input files");
  if (code == OTAP_EXIT_OK && o.strategy == OTAP_BATCH_STRATEGY_CONCAT && o.n_sort_keys) {
    code = usage_fail("--strategy concat keeps the input order; it cannot be used with --sort");
  }
  if (code != OTAP_EXIT_OK) {
    free(ins);
    return code;
  }
  struct otap_logs_payload* all = NULL;
  int64_t n_all = 0;
  bool progress = otap_cli_progress_enabled();
  for (int f = 0; f < n_ins && code == OTAP_EXIT_OK; f++) {
    if (progress) fprintf(stderr, "\rreading %d/%d: %s\033[K", f + 1, n_ins, ins[f]);
    struct otap_logs_payload* p = NULL;
    int64_t n = 0;
    if (otap_records_read_file(ins[f], NULL, &p, &n, &err)) {
      code = otap_cli_fail("batch", OTAP_EXIT_FAILURE, "%s", err.message);
      break;
    }
    struct otap_logs_payload* grown = realloc(all, (size_t)(n_all + n + 1) * sizeof(*all));
    if (!grown) {
      otap_logs_payloads_free(p, n);
      code = otap_cli_fail("batch", OTAP_EXIT_FAILURE, "out of memory");
      break;
    }
    all = grown;
    for (int64_t i = 0; i < n; i++) otap_logs_payload_move(&p[i], &all[n_all + i]);
    n_all += n;
    otap_logs_payloads_free(p, n);
  }
  struct otap_logs_payload* out = NULL;
  int64_t n_out = 0;
  struct otap_batch_stats st;
  if (code == OTAP_EXIT_OK) {
    if (progress) fprintf(stderr, "\rbatching %lld payloads\033[K", (long long)n_all);
    if (otap_batch_logs(all, n_all, &o, &out, &n_out, &st, &err)) {
      if (progress) fputc('\n', stderr);
      code = otap_cli_fail("batch", OTAP_EXIT_FAILURE, "%s", err.message);
    }
  }
  if (code == OTAP_EXIT_OK) {
    if (progress) fprintf(stderr, "\rwriting %lld payloads to %s\033[K", (long long)n_out, out_path);
    if (otap_records_write_file(out_path, out, n_out, NULL, &err)) {
      if (progress) fputc('\n', stderr);
      code = otap_cli_fail("batch", OTAP_EXIT_FAILURE, "%s", err.message);
    }
  }
  if (progress) fprintf(stderr, "\r\033[K");
  if (code == OTAP_EXIT_OK) print_summary(&st, &o, json);
  otap_logs_payloads_free(out, n_out);
  for (int64_t i = 0; i < n_all; i++) otap_logs_payload_reset(&all[i]);
  free(all);
  free(ins);
  return code;
}

OTAP_CLI_COMMAND(batch, "rebatch OTAP records files: N records per payload, sort, dedup", run, help)
