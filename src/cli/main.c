// otap: command-line entry point. Commands live in cmd_*.c and register themselves.
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define MAX_COMMANDS 64
static const struct otap_cli_command* g_commands[MAX_COMMANDS];
static int g_n_commands;

void otap_cli_register(const struct otap_cli_command* cmd) {
  if (g_n_commands < MAX_COMMANDS) g_commands[g_n_commands++] = cmd;
}

int otap_cli_fail(const char* cmd, int exit_code, const char* fmt, ...) {
  va_list ap;
  fprintf(stderr, "otap %s: ", cmd);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  return exit_code;
}

bool otap_cli_progress_enabled(void) {
  const char* no = getenv("OTAP_NO_PROGRESS");
  return isatty(STDERR_FILENO) && !(no && *no);
}

bool otap_cli_is_help(const char* arg) {
  return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0;
}

void otap_cli_json_string(FILE* out, const char* s, long len) {
  size_t n = len < 0 ? strlen(s) : (size_t)len;
  fputc('"', out);
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    switch (c) {
      case '"': fputs("\\\"", out); break;
      case '\\': fputs("\\\\", out); break;
      case '\n': fputs("\\n", out); break;
      case '\r': fputs("\\r", out); break;
      case '\t': fputs("\\t", out); break;
      default:
        if (c < 0x20) {
          fprintf(out, "\\u%04x", c);
        } else {
          fputc(c, out);
        }
    }
  }
  fputc('"', out);
}

static int cmp_cmd(const void* a, const void* b) {
  return strcmp((*(const struct otap_cli_command* const*)a)->name,
                (*(const struct otap_cli_command* const*)b)->name);
}

static const struct otap_cli_command* find(const char* name) {
  for (int i = 0; i < g_n_commands; i++) {
    if (strcmp(g_commands[i]->name, name) == 0) return g_commands[i];
  }
  return NULL;
}

static void usage(FILE* out) {
  fprintf(out,
          "otap %s: OpenTelemetry Arrow (OTAP) logs toolkit: Arrow IPC, Parquet, object stores,\n"
          "batching.\n\n"
          "Usage: otap COMMAND [OPTIONS] [ARGS]\n"
          "       otap help COMMAND     full help of one command\n\n"
          "Commands:\n",
          otap_version());
  for (int i = 0; i < g_n_commands; i++) {
    fprintf(out, "  %-10s %s\n", g_commands[i]->name, g_commands[i]->summary);
  }
  fprintf(out,
          "\nFile formats are detected from content (Arrow IPC stream, Arrow IPC file, Parquet,\n"
          "OTAP records), never from the file name.\n\n"
          "Exit codes:\n"
          "  0  success\n"
          "  1  the operation failed (I/O error, malformed or unsupported input); a message on\n"
          "     stderr names the file and, where known, the column and byte offset\n"
          "  2  bad command line (unknown command or option, missing argument)\n"
          "  3  otap diff: the inputs differ\n\n"
          "Environment:\n"
          "  OTAP_NO_PROGRESS=1   never draw progress on the terminal\n"
          "  Object stores (otap ls, otap cp; URLs s3://, gs://, az://, https://ACCOUNT.blob...):\n"
          "  AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN   S3 credentials\n"
          "  AWS_REGION (or AWS_DEFAULT_REGION)   S3 region (default us-east-1)\n"
          "  AWS_ENDPOINT_URL     custom S3 endpoint, e.g. http://127.0.0.1:9000 (path-style)\n"
          "  AWS_PROFILE, AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE   ~/.aws files fallback\n"
          "  AZURE_STORAGE_CONNECTION_STRING   incl. Azurite's BlobEndpoint=... form\n"
          "  AZURE_STORAGE_ACCOUNT, AZURE_STORAGE_KEY, AZURE_STORAGE_SAS_TOKEN,\n"
          "  AZURE_STORAGE_BEARER_TOKEN         Azure account, Shared Key, SAS, AD token\n"
          "  GCS_HMAC_ACCESS_ID, GCS_HMAC_SECRET   GCS HMAC keys (XML API)\n"
          "  GOOGLE_OAUTH_ACCESS_TOKEN          GCS OAuth bearer token\n"
          "  GCS_ENDPOINT_URL     custom GCS endpoint (default https://storage.googleapis.com)\n");
}

int main(int argc, char** argv) {
  qsort(g_commands, (size_t)g_n_commands, sizeof(g_commands[0]), cmp_cmd);
  if (argc < 2 || otap_cli_is_help(argv[1])) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? OTAP_EXIT_USAGE : OTAP_EXIT_OK;
  }
  if (strcmp(argv[1], "--version") == 0) {
    printf("otap %s\n", otap_version());
    return OTAP_EXIT_OK;
  }
  if (strcmp(argv[1], "help") == 0) {
    if (argc < 3) {
      usage(stdout);
      return OTAP_EXIT_OK;
    }
    const struct otap_cli_command* cmd = find(argv[2]);
    if (!cmd) return otap_cli_fail("help", OTAP_EXIT_USAGE, "unknown command '%s'", argv[2]);
    cmd->help(stdout);
    return OTAP_EXIT_OK;
  }
  const struct otap_cli_command* cmd = find(argv[1]);
  if (!cmd) {
    fprintf(stderr, "otap: unknown command '%s' (see otap --help)\n", argv[1]);
    return OTAP_EXIT_USAGE;
  }
  for (int i = 2; i < argc; i++) {
    if (strcmp(argv[i], "--") == 0) break;
    if (otap_cli_is_help(argv[i])) {
      cmd->help(stdout);
      return OTAP_EXIT_OK;
    }
  }
  return cmd->run(argc - 1, argv + 1);
}
