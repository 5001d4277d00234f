// Parquet write benchmark: writes exporter-layout `logs` (1,048,576 rows) and `log_attrs`
// (4,194,304 rows) tables held in memory as Arrow batches of 65,536 rows (shared/reference/
// parquet-exporter-layout.md §2) to files, (a) uncompressed with dictionaries (as the exporter
// writes) and (b) ZSTD level 3, and prints rows/s and MB/s next to the reference measured in
// the same run: DuckDB COPY of the same rows from an in-memory table to Parquet, threads=1,
// same codec and level (bench/parquet/bench_parquet_write_duckdb.mjs, needs node and
// `npm ci` in tests/interop).
// usage: bench_parquet_write [DIR] [--reps N] [--no-duckdb] [--scale F]
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "otap/parquet_writer.h"

#define BATCH 65536

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint64_t next(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

static struct otap_error err;
#define CHECK(x)                                                                        \
  do {                                                                                  \
    int rc_ = (x);                                                                      \
    if (rc_) {                                                                          \
      fprintf(stderr, "bench_parquet_write: %s failed (%d): %s\n", #x, rc_, err.message); \
      exit(1);                                                                          \
    }                                                                                   \
  } while (0)

static void field(struct ArrowSchema* s, const char* format, const char* name, bool nullable) {
  CHECK(otap_schema_init(s, format));
  CHECK(otap_schema_set_name(s, name));
  if (!nullable) s->flags &= ~ARROW_FLAG_NULLABLE;
}

static void str(struct ArrowArray* a, const char* s) {
  CHECK(otap_array_append_bytes(a, s, (int64_t)strlen(s)));
}

// ---------------------------------------------------------------------------------------------
// logs

static void logs_schema(struct ArrowSchema* s) {
  CHECK(otap_schema_init(s, "+s"));
  CHECK(otap_schema_allocate_children(s, 14));
  struct ArrowSchema** c = s->children;
  field(c[0], "I", "id", true);
  field(c[1], "+s", "resource", true);
  CHECK(otap_schema_allocate_children(c[1], 3));
  field(c[1]->children[0], "S", "id", true);
  field(c[1]->children[1], "u", "schema_url", true);
  field(c[1]->children[2], "I", "dropped_attributes_count", true);
  field(c[2], "+s", "scope", true);
  CHECK(otap_schema_allocate_children(c[2], 4));
  field(c[2]->children[0], "S", "id", true);
  field(c[2]->children[1], "u", "name", true);
  field(c[2]->children[2], "u", "version", true);
  field(c[2]->children[3], "I", "dropped_attributes_count", true);
  field(c[3], "u", "schema_url", true);
  field(c[4], "tsn:", "time_unix_nano", false);
  field(c[5], "tsn:", "observed_time_unix_nano", false);
  field(c[6], "w:16", "trace_id", true);
  field(c[7], "w:8", "span_id", true);
  field(c[8], "i", "severity_number", true);
  field(c[9], "u", "severity_text", true);
  field(c[10], "+s", "body", true);
  CHECK(otap_schema_allocate_children(c[10], 7));
  field(c[10]->children[0], "C", "type", true);
  field(c[10]->children[1], "u", "str", true);
  field(c[10]->children[2], "l", "int", true);
  field(c[10]->children[3], "g", "double", true);
  field(c[10]->children[4], "b", "bool", true);
  field(c[10]->children[5], "z", "bytes", true);
  field(c[10]->children[6], "z", "ser", true);
  field(c[11], "I", "dropped_attributes_count", false);
  field(c[12], "u", "event_name", true);
  field(c[13], "I", "flags", true);
}

static const char* sev_text[] = {"DEBUG", "INFO", "WARN", "ERROR"};
static const int sev_num[] = {5, 9, 13, 17};
static const char* paths[] = {"/api/v1/users", "/api/v1/orders", "/healthz", "/api/v2/cart",
                              "/static/app.js", "/login", "/api/v1/search", "/metrics"};

static void logs_batch(struct ArrowArray* b, int64_t first, int64_t n, int64_t* t) {
  struct ArrowArray** c = b->children;
  char buf[128];
  uint8_t id[16];
  for (int64_t r = 0; r < n; r++) {
    int64_t row = first + r;
    if (next() % 10 == 0) {
      CHECK(otap_array_append_null(c[0], 1));
    } else {
      CHECK(otap_array_append_uint(c[0], (uint64_t)row));
    }
    int res = (int)(row / 16384) % 4;
    CHECK(otap_array_append_uint(c[1]->children[0], (uint64_t)res));
    str(c[1]->children[1], "https://opentelemetry.io/schemas/1.21.0");
    CHECK(otap_array_append_uint(c[1]->children[2], 0));
    CHECK(otap_array_finish_element(c[1]));
    int sc = (int)(row / 2048) % 8;
    CHECK(otap_array_append_uint(c[2]->children[0], (uint64_t)sc));
    snprintf(buf, sizeof(buf), "io.opentelemetry.instrumentation.lib%d", sc);
    str(c[2]->children[1], buf);
    str(c[2]->children[2], "1.32.0");
    CHECK(otap_array_append_uint(c[2]->children[3], 0));
    CHECK(otap_array_finish_element(c[2]));
    str(c[3], "");
    *t += 1000 + (int64_t)(next() % 100000);
    CHECK(otap_array_append_int(c[4], *t));
    CHECK(otap_array_append_int(c[5], *t + (int64_t)(next() % 5000000)));
    if (next() % 5 == 0) {
      CHECK(otap_array_append_null(c[6], 1));
      CHECK(otap_array_append_null(c[7], 1));
    } else {
      for (int k = 0; k < 16; k++) id[k] = (uint8_t)next();
      CHECK(otap_array_append_bytes(c[6], id, 16));
      CHECK(otap_array_append_bytes(c[7], id + 4, 8));
    }
    int sv = (int)(next() % 100);
    sv = sv < 20 ? 0 : sv < 85 ? 1 : sv < 97 ? 2 : 3;
    CHECK(otap_array_append_int(c[8], sev_num[sv]));
    str(c[9], sev_text[sv]);
    struct ArrowArray** bc = c[10]->children;
    CHECK(otap_array_append_uint(bc[0], 1));
    snprintf(buf, sizeof(buf), "%s %s/%" PRIu64 " %d in %" PRIu64 "ms", next() % 3 ? "GET" : "POST",
             paths[next() % 8], next() % 100000, next() % 20 ? 200 : 500, next() % 2000);
    str(bc[1], buf);
    for (int k = 2; k < 7; k++) CHECK(otap_array_append_null(bc[k], 1));
    CHECK(otap_array_finish_element(c[10]));
    CHECK(otap_array_append_uint(c[11], 0));
    CHECK(otap_array_append_null(c[12], 1));
    CHECK(otap_array_append_uint(c[13], next() % 2));
    CHECK(otap_array_finish_element(b));
  }
}

// ---------------------------------------------------------------------------------------------
// log_attrs

static void attrs_schema(struct ArrowSchema* s) {
  CHECK(otap_schema_init(s, "+s"));
  CHECK(otap_schema_allocate_children(s, 9));
  struct ArrowSchema** c = s->children;
  field(c[0], "I", "parent_id", true);
  field(c[1], "u", "key", false);
  field(c[2], "C", "type", false);
  field(c[3], "u", "str", true);
  field(c[4], "l", "int", true);
  field(c[5], "g", "double", true);
  field(c[6], "b", "bool", true);
  field(c[7], "z", "bytes", true);
  field(c[8], "z", "ser", true);
}

static const char* keys[] = {"http.method", "http.route", "http.status_code", "user.id",
                             "net.peer.ip", "thread.id", "duration_ms", "cache.hit",
                             "server.address", "app.widget.id", "code.function", "retry"};

static void attrs_batch(struct ArrowArray* b, int64_t first, int64_t n) {
  struct ArrowArray** c = b->children;
  char buf[64];
  for (int64_t r = 0; r < n; r++) {
    int64_t row = first + r;
    CHECK(otap_array_append_uint(c[0], (uint64_t)(row / 4)));
    int k = (int)((row % 4) * 3 + (int)(next() % 3));
    str(c[1], keys[k]);
    int type = k == 2 || k == 5 ? 2 : k == 6 ? 3 : k == 7 || k == 11 ? 4 : 1;
    CHECK(otap_array_append_uint(c[2], (uint64_t)type));
    if (type == 1) {
      switch (k) {
        case 0: str(c[3], next() % 3 ? "GET" : "POST"); break;
        case 1: str(c[3], paths[next() % 8]); break;
        case 3: snprintf(buf, sizeof(buf), "user-%" PRIu64, next() % 50000); str(c[3], buf); break;
        case 4:
          snprintf(buf, sizeof(buf), "10.%d.%d.%d", (int)(next() % 4), (int)(next() % 256),
                   (int)(next() % 256));
          str(c[3], buf);
          break;
        case 8: str(c[3], next() % 2 ? "example.com" : "api.example.com"); break;
        case 9: snprintf(buf, sizeof(buf), "widget-%" PRIu64, next() % 300); str(c[3], buf); break;
        default: snprintf(buf, sizeof(buf), "handler_%" PRIu64, next() % 40); str(c[3], buf);
      }
    } else {
      CHECK(otap_array_append_null(c[3], 1));
    }
    if (type == 2) {
      CHECK(otap_array_append_int(c[4], k == 2 ? (next() % 20 ? 200 : 500) : (int64_t)(next() % 64)));
    } else {
      CHECK(otap_array_append_null(c[4], 1));
    }
    if (type == 3) {
      CHECK(otap_array_append_double(c[5], (double)(next() % 100000) / 100.0));
    } else {
      CHECK(otap_array_append_null(c[5], 1));
    }
    if (type == 4) {
      CHECK(otap_array_append_int(c[6], (int64_t)(next() & 1)));
    } else {
      CHECK(otap_array_append_null(c[6], 1));
    }
    CHECK(otap_array_append_null(c[7], 1));
    CHECK(otap_array_append_null(c[8], 1));
    CHECK(otap_array_finish_element(b));
  }
}

// ---------------------------------------------------------------------------------------------

struct table {
  const char* name;
  struct ArrowSchema schema;
  struct ArrowArray* batches;
  int n;
  int64_t rows;
};

static void build(struct table* t, const char* name, int64_t rows, bool attrs) {
  t->name = name;
  t->rows = rows;
  if (attrs) {
    attrs_schema(&t->schema);
  } else {
    logs_schema(&t->schema);
  }
  t->n = (int)((rows + BATCH - 1) / BATCH);
  t->batches = calloc((size_t)t->n, sizeof(struct ArrowArray));
  int64_t ts = 1700000000000000000ll;
  for (int i = 0; i < t->n; i++) {
    int64_t n = rows - (int64_t)i * BATCH < BATCH ? rows - (int64_t)i * BATCH : BATCH;
    CHECK(otap_array_init_from_schema(&t->batches[i], &t->schema, &err));
    if (attrs) {
      attrs_batch(&t->batches[i], (int64_t)i * BATCH, n);
    } else {
      logs_batch(&t->batches[i], (int64_t)i * BATCH, n, &ts);
    }
    CHECK(otap_array_finish(&t->batches[i], OTAP_VALIDATE_DEFAULT, &t->schema, &err));
  }
}

static int64_t file_size(const char* path) {
  struct stat st;
  return stat(path, &st) == 0 ? (int64_t)st.st_size : -1;
}

// Best time of `reps` writes of the table to path.
static double write_table(const struct table* t, const char* path, enum otap_parquet_codec codec,
                          int level, int reps) {
  double best = 1e30;
  for (int r = 0; r < reps; r++) {
    struct otap_parquet_write_options o;
    otap_parquet_write_options_init(&o);
    o.codec = codec;
    o.compression_level = level;
    double t0 = now();
    struct otap_sink sink;
    CHECK(otap_sink_open_file(&sink, path, &err));
    struct otap_parquet_writer* w;
    CHECK(otap_parquet_writer_open(&w, &sink, &t->schema, &o, &err));
    for (int i = 0; i < t->n; i++) CHECK(otap_parquet_writer_write(w, &t->batches[i], &err));
    CHECK(otap_parquet_writer_close(w, &err));
    otap_parquet_writer_free(w);
    otap_sink_release(&sink);
    double dt = now() - t0;
    if (dt < best) best = dt;
  }
  return best;
}

// Runs the DuckDB script; fills secs[2] (uncompressed, zstd) and sizes, or returns false.
static bool duckdb_copy(const char* src, const char* dir, const char* name, int reps, double* secs,
                        int64_t* sizes) {
  char cmd[16384];
  snprintf(cmd, sizeof(cmd),
           "node %s/bench/parquet/bench_parquet_write_duckdb.mjs %s %s %s %d",
           OTAP_SOURCE_DIR, src, dir, name, reps);
  FILE* p = popen(cmd, "r");
  if (!p) return false;
  char line[512];
  bool ok = false;
  while (fgets(line, sizeof(line), p)) {
    long long s0, s1;
    if (sscanf(line, "duckdb %lf %lf %lld %lld", &secs[0], &secs[1], &s0, &s1) == 4) {
      sizes[0] = s0;
      sizes[1] = s1;
      ok = true;
    } else {
      fputs(line, stderr);
    }
  }
  return pclose(p) == 0 && ok;
}

int main(int argc, char** argv) {
  const char* dir = "/tmp/otap-bench-parquet-write";
  int reps = 3;
  bool duck = true;
  double scale = 1.0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc) {
      reps = atoi(argv[++i]);
    } else if (strcmp(argv[i], "--no-duckdb") == 0) {
      duck = false;
    } else if (strcmp(argv[i], "--scale") == 0 && i + 1 < argc) {
      scale = atof(argv[++i]);
    } else {
      dir = argv[i];
    }
  }
  mkdir(dir, 0755);
  printf("bench_parquet_write: otap %s, single thread, best of %d; dir %s\n", otap_version(), reps,
         dir);
  struct table tables[2];
  double t0 = now();
  build(&tables[0], "logs", (int64_t)(1048576 * scale), false);
  build(&tables[1], "log_attrs", (int64_t)(4194304 * scale), true);
  printf("generated %" PRId64 " logs + %" PRId64 " log_attrs rows in %.1f s\n", tables[0].rows,
         tables[1].rows, now() - t0);
  printf("\n%-10s %-14s %9s %9s %9s | %9s %9s %9s | %s\n", "table", "config", "otap s",
         "Mrows/s", "MiB", "duckdb s", "Mrows/s", "MiB", "otap/duckdb speed");
  for (int ti = 0; ti < 2; ti++) {
    const struct table* t = &tables[ti];
    char path[2][4096];
    const char* cfg[2] = {"none+dict", "zstd(3)+dict"};
    double secs[2];
    int64_t sizes[2];
    for (int k = 0; k < 2; k++) {
      snprintf(path[k], sizeof(path[k]), "%s/otap_%s_%s.parquet", dir, t->name, k ? "zstd" : "none");
      secs[k] = write_table(t, path[k], k ? OTAP_PARQUET_CODEC_ZSTD : OTAP_PARQUET_CODEC_UNCOMPRESSED,
                            k ? 3 : INT32_MIN, reps);
      sizes[k] = file_size(path[k]);
    }
    double dsecs[2] = {0, 0};
    int64_t dsizes[2] = {0, 0};
    bool have = duck && duckdb_copy(path[0], dir, t->name, reps, dsecs, dsizes);
    for (int k = 0; k < 2; k++) {
      printf("%-10s %-14s %9.3f %9.2f %9.1f | ", t->name, cfg[k], secs[k],
             (double)t->rows / secs[k] / 1e6, (double)sizes[k] / 1048576.0);
      if (have) {
        printf("%9.3f %9.2f %9.1f | %.2fx\n", dsecs[k], (double)t->rows / dsecs[k] / 1e6,
               (double)dsizes[k] / 1048576.0, dsecs[k] / secs[k]);
      } else {
        printf("%9s %9s %9s | n/a\n", "-", "-", "-");
      }
    }
  }
  for (int ti = 0; ti < 2; ti++) {
    for (int i = 0; i < tables[ti].n; i++) otap_array_release(&tables[ti].batches[i]);
    free(tables[ti].batches);
    otap_schema_release(&tables[ti].schema);
  }
  return 0;
}
