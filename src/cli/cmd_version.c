// otap version: prints the library version.
#include "cli.h"

static void help(FILE* out) {
  fprintf(out, "Usage: otap version\n\nPrints the otap library version.\n");
}

static int run(int argc, char** argv) {
  (void)argv;
  if (argc > 1) return otap_cli_fail("version", OTAP_EXIT_USAGE, "takes no arguments");
  printf("otap %s\n", otap_version());
  return OTAP_EXIT_OK;
}

OTAP_CLI_COMMAND(version, "print the library version", run, help)
