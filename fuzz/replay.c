// Replays fuzz inputs without libFuzzer: every file named on the command line, or found
// (recursively) in a directory named there, is passed to LLVMFuzzerTestOneInput once.
// Used by CTest (under ASan+UBSan in CI) so crash regressions stay fixed.
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

static long g_files;

static int run_file(const char* path) {
  FILE* f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "replay: cannot open %s\n", path);
    return 1;
  }
  size_t cap = 1 << 16, n = 0;
  uint8_t* buf = malloc(cap);
  size_t r;
  while (buf && (r = fread(buf + n, 1, cap - n, f)) > 0) {
    n += r;
    if (n == cap) {
      cap *= 2;
      uint8_t* nb = realloc(buf, cap);
      if (!nb) {
        free(buf);
        buf = NULL;
      } else {
        buf = nb;
      }
    }
  }
  fclose(f);
  if (!buf) return 1;
  // Copy to an exact-size allocation so ASan catches reads past the end.
  uint8_t* exact = malloc(n ? n : 1);
  memcpy(exact, buf, n);
  free(buf);
  LLVMFuzzerTestOneInput(exact, n);
  free(exact);
  g_files++;
  return 0;
}

static int run_path(const char* path) {
  struct stat st;
  if (stat(path, &st) != 0) return 0;  // missing corpus dirs are allowed (empty corpus)
  if (!S_ISDIR(st.st_mode)) return run_file(path);
  DIR* d = opendir(path);
  if (!d) return 1;
  struct dirent* e;
  int rc = 0;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    char child[4096];
    snprintf(child, sizeof(child), "%s/%s", path, e->d_name);
    rc |= run_path(child);
  }
  closedir(d);
  return rc;
}

int main(int argc, char** argv) {
  int rc = 0;
  for (int i = 1; i < argc; i++) rc |= run_path(argv[i]);
  printf("replayed %ld inputs\n", g_files);
  return rc;
}
