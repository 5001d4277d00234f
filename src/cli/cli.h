// The otap command line: shared declarations for the cmd_*.c files (uses only public headers).
#ifndef OTAP_CLI_H
#define OTAP_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "otap/common.h"

// Exit codes (documented in `otap --help` and the README).
#define OTAP_EXIT_OK 0
#define OTAP_EXIT_FAILURE 1  // the operation failed (I/O, malformed input, ...)
#define OTAP_EXIT_USAGE 2    // bad command line
#define OTAP_EXIT_DIFFERENT 3  // `otap diff`: inputs differ

struct otap_cli_command {
  const char* name;
  const char* summary;  // one line for `otap --help`
  // argv[0] is the command name. Returns an exit code.
  int (*run)(int argc, char** argv);
  // Full help text for `otap help CMD` / `otap CMD --help`.
  void (*help)(FILE* out);
};

void otap_cli_register(const struct otap_cli_command* cmd);

// Registers a command at program start: OTAP_CLI_COMMAND(inspect, "...", run_fn, help_fn).
#define OTAP_CLI_COMMAND(ident, summary_, run_, help_)                                   \
  static const struct otap_cli_command otap_cli_cmd_##ident = {#ident, summary_, run_, help_}; \
  __attribute__((constructor)) static void otap_cli_register_##ident(void) {             \
    otap_cli_register(&otap_cli_cmd_##ident);                                            \
  }

// Prints "otap CMD: message" to stderr and returns OTAP_EXIT_FAILURE (or the given code).
int otap_cli_fail(const char* cmd, int exit_code, const char* fmt, ...) OTAP_PRINTF(3, 4);
// True when stderr is a terminal (progress output allowed) and OTAP_NO_PROGRESS is unset.
bool otap_cli_progress_enabled(void);
// True if arg equals "-h" or "--help".
bool otap_cli_is_help(const char* arg);
// Writes s as a JSON string literal (quotes and escapes) to out; len < 0 means strlen.
void otap_cli_json_string(FILE* out, const char* s, long len);

#endif
