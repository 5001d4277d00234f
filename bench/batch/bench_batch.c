// bench_batch: otap_batch_logs throughput per strategy and sort policy, next to memcpy of the
// same output bytes and DuckDB (threads=1) ordering the same log rows, all in one run.
//
// Workloads (seeded generator):
//   W1: 64 inputs x 1024 logs, 4 attributes per log, 8 resources (4 attributes) repeated in
//       every input, 2 scopes per resource (2 attributes), random trace ids, 64-byte bodies;
//       max_items 8192.
//   W0: the upstream Rust flush shape: 8 inputs x 1024 logs, 1 resource (4 attributes), 1
//       scope (2 attributes), 4 log attributes; max_items 8192.
// Usage: bench_batch [reps] [--no-duckdb] [--dict auto|always|never] [--only W0|W1]
//                    [--policy none|resource,scope|resource,scope,trace_id] [--exact-dicts]
// --dict: how the generated inputs encode their dictionary-eligible columns (auto: a random
// mix per input and column); --exact-dicts: otap_batch_options.exact_dictionaries.
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "otap/arrow.h"
#include "otap/batch.h"
#include "otap/logs.h"

static bool g_exact = false;  // --exact-dicts

// CPU time of this thread: the machine is shared, and every measured step is single-threaded.
static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_d(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return (x > y) - (x < y);
}

static double median(double* v, int n) {
  qsort(v, (size_t)n, sizeof(double), cmp_d);
  return v[n / 2];
}

static void die(const char* what, const struct otap_error* err) {
  fprintf(stderr, "bench_batch: %s: %s\n", what, err ? err->message : "");
  exit(1);
}

// Bytes of every buffer of an array tree (as the validated view sizes them).
static int64_t view_bytes(const struct otap_array_view* v) {
  int64_t b = 0;
  for (int i = 0; i < 3; i++) b += v->buffer_sizes[i];
  for (int64_t i = 0; i < v->n_variadic; i++) b += v->variadic_sizes[i];
  for (int64_t i = 0; i < v->n_children; i++) b += view_bytes(v->children[i]);
  if (v->dictionary) b += view_bytes(v->dictionary);
  return b;
}

static int64_t payload_bytes(const struct otap_logs_payload* p, int64_t n) {
  int64_t total = 0;
  for (int64_t k = 0; k < n; k++) {
    for (int t = 0; t < OTAP_LOGS_N_TABLES; t++) {
      if (!otap_logs_payload_has_table(&p[k], (enum otap_logs_table)t)) continue;
      struct otap_array_view v;
      struct otap_error err;
      if (otap_array_view_init(&v, &p[k].schema[t], &err) ||
          otap_array_view_set(&v, &p[k].batch[t], OTAP_VALIDATE_DEFAULT, &err))
        die("view", &err);
      total += view_bytes(&v);
      otap_array_view_reset(&v);
    }
  }
  return total;
}

struct workload {
  const char* name;
  int64_t inputs;
  struct otap_logs_gen_options g;
  int64_t max_items;
  struct otap_logs_payload* in;
  int64_t records;
};

static void make_workload(struct workload* w) {
  w->in = calloc((size_t)w->inputs, sizeof(*w->in));
  struct otap_error err;
  w->records = 0;
  for (int64_t i = 0; i < w->inputs; i++) {
    if (otap_logs_gen(&w->g, i, &w->in[i], &err)) die("gen", &err);
    w->records += otap_logs_payload_num_records(&w->in[i]);
  }
}

// memcpy of `bytes` (median seconds over reps), buffers touched once first.
static double memcpy_time(int64_t bytes, int reps) {
  char* a = malloc((size_t)bytes);
  char* b = malloc((size_t)bytes);
  memset(a, 1, (size_t)bytes);
  memset(b, 2, (size_t)bytes);
  double t[64];
  for (int r = 0; r < reps; r++) {
    double t0 = now();
    memcpy(b, a, (size_t)bytes);
    t[r] = now() - t0;
    a[r % bytes] ^= b[(r * 7) % bytes];  // keep the copy observable
  }
  volatile char sink = b[bytes / 2];
  (void)sink;
  free(a);
  free(b);
  return median(t, reps);
}

struct result {
  double seconds;
  int64_t out_bytes;
  int64_t outputs;
};

static struct result run_batch(const struct workload* w, const char* sort,
                               enum otap_batch_strategy s, int reps) {
  struct otap_batch_options o;
  otap_batch_options_init(&o);
  o.max_items = w->max_items;
  o.strategy = s;
  o.exact_dictionaries = g_exact;
  struct otap_error err;
  if (otap_batch_parse_sort(sort, &o, &err)) die("sort", &err);
  double t[64];
  struct result res = {0, 0, 0};
  for (int r = 0; r < reps + 1; r++) {
    struct otap_logs_payload* out = NULL;
    int64_t n_out = 0;
    double t0 = now();
    if (otap_batch_logs(w->in, w->inputs, &o, &out, &n_out, NULL, &err)) die("batch", &err);
    double dt = now() - t0;
    if (r > 0) t[r - 1] = dt;  // the first run warms caches and allocator
    if (r == reps) {
      res.out_bytes = payload_bytes(out, n_out);
      res.outputs = n_out;
    }
    otap_logs_payloads_free(out, n_out);
  }
  res.seconds = median(t, reps);
  return res;
}

// ---------------------------------------------------------------------------------------------
// Flattened CSV of the log rows for DuckDB (resource and scope as their attribute text).

struct acc {
  const struct otap_array_view* v;
  int64_t base;
  const struct otap_array_view* parent;
  int64_t pbase;
};

static int64_t fidx(const struct ArrowSchema* s, const char* n) {
  for (int64_t i = 0; s && i < s->n_children; i++) {
    if (s->children[i]->name && strcmp(s->children[i]->name, n) == 0) return i;
  }
  return -1;
}

static struct acc acc_find(const struct otap_array_view* t, const struct ArrowSchema* s,
                           const char* a, const char* b) {
  struct acc c = {NULL, 0, NULL, 0};
  int64_t j = fidx(s, a);
  if (j < 0) return c;
  if (!b) {
    c.v = t->children[j];
    c.base = t->offset;
    return c;
  }
  int64_t k = fidx(s->children[j], b);
  if (k < 0) return c;
  c.parent = t->children[j];
  c.pbase = t->offset;
  c.v = t->children[j]->children[k];
  c.base = t->offset + t->children[j]->offset;
  return c;
}

static int acc_null(const struct acc* c, int64_t i) {
  if (!c->v) return 1;
  if (c->parent && otap_view_is_null(c->parent, c->pbase + i)) return 1;
  return otap_view_is_null(c->v, c->base + i);
}

static int64_t acc_int(const struct acc* c, int64_t i) {
  if (acc_null(c, i)) return 0;
  if (c->v->dictionary) return otap_view_get_int(c->v->dictionary, otap_view_get_int(c->v, c->base + i));
  return otap_view_get_int(c->v, c->base + i);
}

static void acc_bytes(const struct acc* c, int64_t i, const uint8_t** p, int64_t* n) {
  *p = (const uint8_t*)"";
  *n = 0;
  if (acc_null(c, i)) return;
  if (c->v->dictionary) {
    otap_view_get_bytes(c->v->dictionary, otap_view_get_int(c->v, c->base + i), p, n);
  } else {
    otap_view_get_bytes(c->v, c->base + i, p, n);
  }
}

static void put_text(FILE* f, const uint8_t* p, int64_t n) {
  fputc('"', f);
  for (int64_t i = 0; i < n; i++) {
    if (p[i] == '"') fputc('"', f);
    fputc(p[i] >= 0x20 || p[i] == '\t' ? p[i] : ' ', f);
  }
  fputc('"', f);
}

static void put_hex(FILE* f, const uint8_t* p, int64_t n) {
  for (int64_t i = 0; i < n; i++) fprintf(f, "%02x", p[i]);
}

// Text of the attribute set of `pid` (key=value pairs in row order).
static void attrs_text(FILE* f, const struct otap_array_view* v, const struct ArrowSchema* s,
                       int64_t pid, bool quote) {
  if (quote) fputc('"', f);
  if (!v) {
    if (quote) fputc('"', f);
    return;
  }
  struct acc cp = acc_find(v, s, "parent_id", NULL), ck = acc_find(v, s, "key", NULL),
             cs = acc_find(v, s, "str", NULL), ci = acc_find(v, s, "int", NULL);
  for (int64_t r = 0; r < v->length; r++) {
    if (acc_int(&cp, r) != pid) continue;
    const uint8_t* p;
    int64_t n;
    acc_bytes(&ck, r, &p, &n);
    fwrite(p, 1, (size_t)n, f);
    fputc('=', f);
    if (!acc_null(&cs, r)) {
      acc_bytes(&cs, r, &p, &n);
      for (int64_t i = 0; i < n; i++) fputc(p[i] == '"' ? '\'' : p[i], f);
    } else {
      fprintf(f, "%" PRId64, acc_int(&ci, r));
    }
    fputc(';', f);
  }
  if (quote) fputc('"', f);
}

static void write_csv(const struct workload* w, const char* path) {
  FILE* f = fopen(path, "w");
  if (!f) die("csv", NULL);
  fprintf(f, "resource,scope,trace_id,span_id,time_unix_nano,severity_number,body,log_attrs\n");
  for (int64_t i = 0; i < w->inputs; i++) {
    const struct otap_logs_payload* p = &w->in[i];
    struct otap_array_view v[OTAP_LOGS_N_TABLES];
    bool has[OTAP_LOGS_N_TABLES];
    struct otap_error err;
    for (int t = 0; t < OTAP_LOGS_N_TABLES; t++) {
      has[t] = otap_logs_payload_has_table(p, (enum otap_logs_table)t);
      if (!has[t]) continue;
      if (otap_array_view_init(&v[t], &p->schema[t], &err) ||
          otap_array_view_set(&v[t], &p->batch[t], OTAP_VALIDATE_DEFAULT, &err))
        die("csv view", &err);
    }
    const struct otap_array_view* l = &v[OTAP_LOGS_LOGS];
    const struct ArrowSchema* ls = &p->schema[OTAP_LOGS_LOGS];
    struct acc rid = acc_find(l, ls, "resource", "id"), sid = acc_find(l, ls, "scope", "id"),
               sname = acc_find(l, ls, "scope", "name"), tr = acc_find(l, ls, "trace_id", NULL),
               sp = acc_find(l, ls, "span_id", NULL), tm = acc_find(l, ls, "time_unix_nano", NULL),
               sev = acc_find(l, ls, "severity_number", NULL),
               body = acc_find(l, ls, "body", "str"), id = acc_find(l, ls, "id", NULL);
    for (int64_t r = 0; r < l->length; r++) {
      const uint8_t* b;
      int64_t n;
      attrs_text(f, has[OTAP_LOGS_RESOURCE_ATTRS] ? &v[OTAP_LOGS_RESOURCE_ATTRS] : NULL,
                 &p->schema[OTAP_LOGS_RESOURCE_ATTRS], acc_int(&rid, r), true);
      fputc(',', f);
      acc_bytes(&sname, r, &b, &n);
      fputc('"', f);
      fwrite(b, 1, (size_t)n, f);
      fputc(' ', f);
      attrs_text(f, has[OTAP_LOGS_SCOPE_ATTRS] ? &v[OTAP_LOGS_SCOPE_ATTRS] : NULL,
                 &p->schema[OTAP_LOGS_SCOPE_ATTRS], acc_int(&sid, r), false);
      fputc('"', f);
      fputc(',', f);
      acc_bytes(&tr, r, &b, &n);
      put_hex(f, b, n);
      fputc(',', f);
      acc_bytes(&sp, r, &b, &n);
      put_hex(f, b, n);
      fprintf(f, ",%" PRId64 ",%" PRId64 ",", acc_int(&tm, r), acc_int(&sev, r));
      acc_bytes(&body, r, &b, &n);
      put_text(f, b, n);
      fputc(',', f);
      if (acc_null(&id, r)) {
        fputs("\"\"", f);
      } else {
        attrs_text(f, has[OTAP_LOGS_LOG_ATTRS] ? &v[OTAP_LOGS_LOG_ATTRS] : NULL,
                   &p->schema[OTAP_LOGS_LOG_ATTRS], acc_int(&id, r), true);
      }
      fputc('\n', f);
    }
    for (int t = 0; t < OTAP_LOGS_N_TABLES; t++) {
      if (has[t]) otap_array_view_reset(&v[t]);
    }
  }
  fclose(f);
}

// Runs the DuckDB script; fills ms[3] (none, resource+scope, +trace_id), -1 when unavailable.
static void run_duckdb(const char* csv, int reps, double ms[3]) {
  ms[0] = ms[1] = ms[2] = -1;
  char cmd[4096];
  snprintf(cmd, sizeof(cmd), "node %s/bench/batch/bench_batch_duckdb.mjs %s %d 2>&1",
           OTAP_SOURCE_DIR, csv, reps);
  FILE* p = popen(cmd, "r");
  if (!p) return;
  char line[1024];
  while (fgets(line, sizeof(line), p)) {
    double v;
    if (sscanf(line, "none %lf", &v) == 1) ms[0] = v;
    else if (sscanf(line, "resource,scope %lf", &v) == 1) ms[1] = v;
    else if (sscanf(line, "resource,scope,trace_id %lf", &v) == 1) ms[2] = v;
    else fprintf(stderr, "  duckdb: %s", line);
  }
  pclose(p);
}

// Profiling filters (--only W1 / --policy none|resource,scope|...): run just that case.
static const char* g_only = NULL;
static const char* g_policy = NULL;

static void bench_workload(struct workload* w, int reps, bool duckdb) {
  if (g_only && strcmp(g_only, w->name) != 0) return;
  make_workload(w);
  int64_t in_bytes = payload_bytes(w->in, w->inputs);
  printf("\n== %s: %" PRId64 " inputs x %" PRId64 " logs = %" PRId64
         " records, input %.1f MB, max_items %" PRId64 ", dedup on, %s dictionaries, median of "
         "%d runs\n",
         w->name, w->inputs, w->g.records, w->records, (double)in_bytes / 1e6, w->max_items,
         g_exact ? "exact" : "adaptive", reps);
  static const char* const kPolicies[3] = {"", "resource,scope", "resource,scope,trace_id"};
  static const char* const kNames[3] = {"none", "resource,scope", "resource,scope,trace_id"};
  double duck[3] = {-1, -1, -1};
  if (duckdb) {
    char csv[256];
    snprintf(csv, sizeof(csv), "/tmp/bench_batch_%s_%d.csv", w->name, (int)getpid());
    write_csv(w, csv);
    run_duckdb(csv, reps, duck);
    unlink(csv);
  }
  printf("%-8s %-24s %9s %12s %11s %11s %8s %11s %8s\n", "strategy", "sort", "ms",
         "in rec/s", "out MB/s", "memcpy MB/s", "share", "duckdb ms", "vs duck");
  for (int pi = 0; pi < 3; pi++) {
    if (g_policy && strcmp(g_policy, kNames[pi]) != 0) continue;
    for (int s = OTAP_BATCH_STRATEGY_CONCAT; s <= OTAP_BATCH_STRATEGY_SORT; s++) {
      if (s == OTAP_BATCH_STRATEGY_CONCAT && pi > 0) continue;
      struct result r = run_batch(w, kPolicies[pi], (enum otap_batch_strategy)s, reps);
      double mc = memcpy_time(r.out_bytes, reps);
      double out_bw = (double)r.out_bytes / r.seconds;
      double mc_bw = (double)r.out_bytes / mc;
      printf("%-8s %-24s %9.3f %12.0f %11.1f %11.1f %7.1f%% %11.3f %7.1fx\n",
             s == OTAP_BATCH_STRATEGY_CONCAT ? "concat" : "sort", kNames[pi], r.seconds * 1e3,
             (double)w->records / r.seconds, out_bw / 1e6, mc_bw / 1e6, 100.0 * out_bw / mc_bw,
             duck[pi], duck[pi] > 0 ? duck[pi] / (r.seconds * 1e3) : 0.0);
    }
  }
}

int main(int argc, char** argv) {
  int reps = 7;
  bool duckdb = true;
  enum otap_logs_gen_dict dict = OTAP_LOGS_GEN_DICT_AUTO;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--no-duckdb") == 0) {
      duckdb = false;
    } else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
      g_only = argv[++i];
    } else if (strcmp(argv[i], "--exact-dicts") == 0) {
      g_exact = true;
    } else if (strcmp(argv[i], "--policy") == 0 && i + 1 < argc) {
      g_policy = argv[++i];
    } else if (strcmp(argv[i], "--dict") == 0 && i + 1 < argc) {
      const char* d = argv[++i];
      dict = strcmp(d, "always") == 0 ? OTAP_LOGS_GEN_DICT_ALWAYS
             : strcmp(d, "never") == 0 ? OTAP_LOGS_GEN_DICT_NEVER
                                       : OTAP_LOGS_GEN_DICT_AUTO;
    } else {
      reps = atoi(argv[i]);
    }
  }
  if (reps < 1) reps = 1;
  if (reps > 63) reps = 63;
  printf("bench_batch: otap %s, single thread, CPU time (thread CPU clock; DuckDB: process CPU time); share = output bytes/s as a share of memcpy of "
         "the same bytes; duckdb = same rows ordered by DuckDB (threads=1, CREATE TABLE AS "
         "SELECT ... ORDER BY) from a flattened table\n",
         otap_version());
  struct workload w1 = {"W1", 64, {0}, 8192, NULL, 0};
  otap_logs_gen_options_init(&w1.g);
  w1.g.seed = 42;
  w1.g.records = 1024;
  w1.g.resources = 8;
  w1.g.scopes = 2;
  w1.g.log_attrs = 4;
  w1.g.fixed_log_attrs = true;
  w1.g.resource_attrs = 4;
  w1.g.scope_attrs = 2;
  w1.g.body_bytes = 64;
  w1.g.trace_fanout = 1;
  w1.g.no_attr_percent = 0;
  w1.g.body_mixed_percent = 0;
  w1.g.dict = dict;
  w1.g.shared_pool = true;
  struct workload w0 = {"W0", 8, {0}, 8192, NULL, 0};
  otap_logs_gen_options_init(&w0.g);
  w0.g.seed = 7;
  w0.g.records = 1024;
  w0.g.resources = 1;
  w0.g.scopes = 1;
  w0.g.log_attrs = 4;
  w0.g.fixed_log_attrs = true;
  w0.g.resource_attrs = 4;
  w0.g.scope_attrs = 2;
  w0.g.no_attr_percent = 0;
  w0.g.body_mixed_percent = 0;
  w0.g.shared_pool = true;
  w0.g.dict = dict;
  bench_workload(&w1, reps, duckdb);
  bench_workload(&w0, reps, duckdb);
  printf("\nW0 reference: upstream Rust flush of this shape, 66.5 us on its machine "
         "(about 123 M records/s; otel-arrow PR #3782)\n");
  otap_logs_payloads_free(w1.in, w1.inputs);
  otap_logs_payloads_free(w0.in, w0.inputs);
  return 0;
}
