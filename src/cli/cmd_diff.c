// otap diff: order-insensitive comparison of the log records of two OTAP records files.
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_otap.h"

static void help(FILE* out) {
  fprintf(out,
          "Usage: otap diff A B [--json] [--max N]\n"
          "\n"
          "Compares the log records of two OTAP records files as multisets of fully resolved\n"
          "records: each record with its own fields, its attributes, its resource (schema URL,\n"
          "dropped count, attributes) and its scope (name, version, dropped count, attributes).\n"
          "Row and payload order, ids, dictionary vs native columns and transport id encodings\n"
          "do not matter; value types do (Str \"1\" differs from Int 1). OTLP defaults apply: a\n"
          "null string equals \"\", a null number 0, a null body Empty.\n"
          "\n"
          "  --max N   show at most N differing records (default 5)\n"
          "  --json    print one JSON object: equal, record counts, differences\n"
          "\n"
          "Exit status: 0 equal, 3 different, 1 error (unreadable or invalid input).\n");
}

static int read_all(const char* path, struct otap_logs_payload** p, int64_t* n, int64_t* records) {
  struct otap_error err;
  if (otap_records_read_file(path, NULL, p, n, &err)) {
    return otap_cli_fail("diff", OTAP_EXIT_FAILURE, "%s", err.message);
  }
  *records = 0;
  for (int64_t i = 0; i < *n; i++) *records += otap_logs_payload_num_records(&(*p)[i]);
  return OTAP_EXIT_OK;
}

static int run(int argc, char** argv) {
  const char* paths[2] = {NULL, NULL};
  int n_paths = 0;
  bool json = false;
  int64_t max = 5;
  for (int i = 1; i < argc; i++) {
    if (otap_cli_is_help(argv[i])) {
      help(stdout);
      return OTAP_EXIT_OK;
    } else if (strcmp(argv[i], "--json") == 0) {
      json = true;
    } else if (strcmp(argv[i], "--max") == 0) {
      if (i + 1 >= argc || !otap_cli_parse_count(argv[i + 1], &max)) {
        return otap_cli_fail("diff", OTAP_EXIT_USAGE, "--max needs a number");
      }
      i++;
    } else if (argv[i][0] == '-' && argv[i][1]) {
      return otap_cli_fail("diff", OTAP_EXIT_USAGE, "unknown option '%s'", argv[i]);
    } else if (n_paths < 2) {
      paths[n_paths++] = argv[i];
    } else {
      return otap_cli_fail("diff", OTAP_EXIT_USAGE, "takes exactly two files");
    }
  }
  if (n_paths != 2) {
    help(stderr);
    return OTAP_EXIT_USAGE;
  }
  struct otap_logs_payload *a = NULL, *b = NULL;
  int64_t na = 0, nb = 0, ra = 0, rb = 0;
  int code = read_all(paths[0], &a, &na, &ra);
  if (code == OTAP_EXIT_OK) code = read_all(paths[1], &b, &nb, &rb);
  if (code != OTAP_EXIT_OK) {
    otap_logs_payloads_free(a, na);
    return code;
  }
  struct otap_logs_equiv_options eo;
  otap_logs_equiv_options_init(&eo);
  eo.max_differences = max;
  struct otap_buffer report;
  otap_buffer_init(&report);
  struct otap_error err;
  bool equal = false;
  int rc = otap_logs_equiv(a, na, b, nb, &eo, &equal, &report, &err);
  otap_logs_payloads_free(a, na);
  otap_logs_payloads_free(b, nb);
  if (rc) {
    otap_buffer_reset(&report);
    return otap_cli_fail("diff", OTAP_EXIT_FAILURE, "%s", err.message);
  }
  long long only_a = 0, only_b = 0;
  // The report's last line is the summary; the lines before it are the differences.
  const char* text = report.size ? (const char*)report.data : "";
  int64_t last = report.size - 1;
  while (last > 0 && text[last - 1] != '\n') last--;
  if (!equal) sscanf(text + (last > 0 ? last : 0), "%lld log records only in A, %lld only in B", &only_a, &only_b);
  if (json) {
    printf("{\"equal\":%s,\"records_a\":%lld,\"records_b\":%lld,\"only_in_a\":%lld,\"only_in_b\":%lld,\"differences\":[",
           equal ? "true" : "false", (long long)ra, (long long)rb, only_a, only_b);
    int64_t start = 0, k = 0;
    for (int64_t i = 0; i < (equal ? 0 : last); i++) {
      if (text[i] != '\n') continue;
      if (k++) putchar(',');
      otap_cli_json_string(stdout, text + start, (long)(i - start));
      start = i + 1;
    }
    printf("]}\n");
  } else if (equal) {
    printf("equal: %lld log records in A and in B\n", (long long)ra);
  } else {
    fwrite(text, 1, (size_t)report.size, stdout);
  }
  otap_buffer_reset(&report);
  return equal ? OTAP_EXIT_OK : OTAP_EXIT_DIFFERENT;
}

OTAP_CLI_COMMAND(diff, "compare the log records of two OTAP records files (order-insensitive)", run, help)
