// Parquet read benchmark: decodes exporter-layout `logs` (>= 1 M rows) and `log_attrs`
// (>= 4 M rows) files, uncompressed with dictionaries (as the exporter writes them) and ZSTD,
// and prints rows/s and MB/s next to references measured in the same run:
//   - DuckDB scanning the same file, threads=1, every value of every column hashed
//     (tests/interop/parquet_read_duckdb_scan.mjs, needs node + npm ci in tests/interop);
//   - the codec alone: every page of the file decompressed (ZSTD) or copied (memcpy).
// The "malloc-tuned" column repeats the decode after mallopt(M_MMAP_THRESHOLD = 64 MiB,
// M_TRIM_THRESHOLD = 256 MiB): glibc then reuses the memory of released batches instead of
// unmapping and faulting it in again (an application setting, like linking jemalloc; DuckDB
// reuses memory through its own buffer manager).
// Files are generated once by tests/interop/parquet_read_gen.mjs (parquet-wasm = arrow-rs,
// the exporter's writer) into DIR (default /tmp/otap-bench-parquet).
// usage: bench_parquet_read [DIR] [--reps N] [--no-duckdb]
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <zstd.h>

#include "otap/parquet.h"
#include "parquet/parquet_internal.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

// Process CPU time (user + system): the machines are shared, so CPU time is compared next to
// wall time (the decoder and DuckDB both run on one thread).
static double cpu_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int decode_file(const char* path, bool dict, int64_t* rows, double* secs, double* cpu) {
  struct otap_error err;
  struct otap_source src;
  if (otap_source_open_file(&src, path, &err)) {
    fprintf(stderr, "%s\n", err.message);
    return 1;
  }
  struct otap_parquet_reader_options o;
  otap_parquet_reader_options_init(&o);
  o.dictionary_as_arrow_dictionary = dict;
  double t0 = now(), c0 = cpu_now();
  struct otap_parquet_reader* r;
  if (otap_parquet_reader_open(&r, &src, &o, &err)) {
    fprintf(stderr, "%s\n", err.message);
    otap_source_release(&src);
    return 1;
  }
  int64_t n = 0;
  for (;;) {
    struct ArrowArray a;
    if (otap_parquet_reader_next(r, &a, &err)) {
      fprintf(stderr, "%s\n", err.message);
      break;
    }
    if (!a.release) break;
    n += a.length;
    a.release(&a);
  }
  *secs = now() - t0;
  *cpu = cpu_now() - c0;
  *rows = n;
  otap_parquet_reader_free(r);
  otap_source_release(&src);
  return 0;
}

// The codec alone: walks every page of every chunk and decompresses (or copies) its body.
static int codec_only(const char* path, double* secs, int64_t* out_bytes, const char** codec) {
  struct otap_error err;
  struct otap_source src;
  if (otap_source_open_file(&src, path, &err)) return 1;
  struct otap_parquet_reader* r;
  if (otap_parquet_reader_open(&r, &src, NULL, &err)) {
    otap_source_release(&src);
    return 1;
  }
  const struct otap_parquet_file_metadata* m = otap_parquet_reader_metadata(r);
  struct otap_buffer out;
  otap_buffer_init(&out);
  int64_t bytes = 0;
  *codec = "UNCOMPRESSED";
  double t0 = cpu_now();
  for (int32_t g = 0; g < m->n_row_groups; g++) {
    for (int32_t c = 0; c < m->row_groups[g].n_columns; c++) {
      const struct otap_parquet_column_chunk* cc = &m->row_groups[g].columns[c];
      *codec = otap_parquet_codec_name(cc->codec);
      int64_t start = cc->data_page_offset;
      if (cc->has_dictionary_page_offset && cc->dictionary_page_offset > 0 && cc->dictionary_page_offset < start)
        start = cc->dictionary_page_offset;
      const uint8_t* data;
      if (src.view_at(&src, (uint64_t)start, (size_t)cc->total_compressed_size, &data, &err)) continue;
      int64_t pos = 0;
      while (pos < cc->total_compressed_size) {
        struct pq_page_header h;
        size_t hl;
        if (otap__pq_decode_page_header(data + pos, (size_t)(cc->total_compressed_size - pos), 0, &h, &hl, &err)) break;
        pos += (int64_t)hl;
        if (otap_buffer_resize(&out, h.uncompressed_page_size, false)) break;
        if (cc->codec == OTAP_PARQUET_CODEC_UNCOMPRESSED) {
          memcpy(out.data, data + pos, (size_t)h.compressed_page_size);
        } else if (h.type == OTAP_PARQUET_PAGE_DATA_V2) {
          size_t lv = (size_t)h.def_length + (size_t)h.rep_length;
          if (otap__pq_decompress(cc->codec, data + pos + lv, (size_t)h.compressed_page_size - lv, out.data,
                                  (size_t)h.uncompressed_page_size - lv, &err)) break;
        } else if (otap__pq_decompress(cc->codec, data + pos, (size_t)h.compressed_page_size, out.data,
                                       (size_t)h.uncompressed_page_size, &err)) {
          break;
        }
        bytes += h.uncompressed_page_size;
        pos += h.compressed_page_size;
      }
    }
  }
  *secs = cpu_now() - t0;
  *out_bytes = bytes;
  otap_buffer_reset(&out);
  otap_parquet_reader_free(r);
  otap_source_release(&src);
  return 0;
}

static int64_t uncompressed_size(const char* path) {
  struct otap_error err;
  struct otap_source src;
  struct otap_parquet_reader* r;
  if (otap_source_open_file(&src, path, &err)) return 0;
  int64_t total = 0;
  if (otap_parquet_reader_open(&r, &src, NULL, &err) == 0) {
    const struct otap_parquet_file_metadata* m = otap_parquet_reader_metadata(r);
    for (int32_t g = 0; g < m->n_row_groups; g++)
      for (int32_t c = 0; c < m->row_groups[g].n_columns; c++) total += m->row_groups[g].columns[c].total_uncompressed_size;
    otap_parquet_reader_free(r);
  }
  otap_source_release(&src);
  return total;
}

static double duckdb_ms(const char* path, int reps, double* cpu_ms) {
  char cmd[2048];
  snprintf(cmd, sizeof(cmd), "node %s/tests/interop/parquet_read_duckdb_scan.mjs '%s' %d 2>/dev/null", OTAP_SOURCE_DIR,
           path, reps);
  FILE* p = popen(cmd, "r");
  if (!p) return -1;
  char line[4096] = "";
  if (!fgets(line, sizeof(line), p)) line[0] = 0;
  pclose(p);
  const char* b = strstr(line, "\"best_ms\":");
  const char* c = strstr(line, "\"best_cpu_ms\":");
  *cpu_ms = c ? atof(c + 14) : -1;
  return b ? atof(b + 10) : -1;
}

int main(int argc, char** argv) {
  const char* dir = "/tmp/otap-bench-parquet";
  int reps = 3;
  bool duck = true;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc) reps = atoi(argv[++i]);
    else if (strcmp(argv[i], "--no-duckdb") == 0) duck = false;
    else dir = argv[i];
  }
  static const char* files[] = {"logs_uncompressed", "logs_zstd", "log_attrs_uncompressed", "log_attrs_zstd"};
  char path[1024];
  snprintf(path, sizeof(path), "%s/%s.parquet", dir, files[0]);
  struct stat st;
  if (stat(path, &st) != 0) {
    char cmd[2048];
    snprintf(cmd, sizeof(cmd), "node --max-old-space-size=6000 %s/tests/interop/parquet_read_gen.mjs '%s'", OTAP_SOURCE_DIR, dir);
    fprintf(stderr, "generating the benchmark files: %s\n", cmd);
    if (system(cmd) != 0) {
      fprintf(stderr, "bench_parquet_read: cannot generate files (needs node and npm ci in tests/interop)\n");
      return 1;
    }
  }
  printf("# Parquet read, single thread, best of %d. rows/s and MB/s from process CPU time (user+sys),\n"
         "# wall-clock rows/s in brackets; MB = 10^6 bytes of the pages' uncompressed size.\n", reps);
  printf("%-23s %8s %6s | %-22s %7s %-9s %-12s | %-22s %6s %6s | %s\n", "file", "rows", "MB", "otap rows/s [wall]",
         "MB/s", "dict-out", "malloc-tuned", "duckdb t=1 rows/s", "ratio", "tuned", "codec alone (CPU)");
  double tuned[4] = {0, 0, 0, 0};
  int64_t tuned_rows[4] = {0, 0, 0, 0};
  // Pass 1 (kept for the end): decode with malloc tuned. mallopt cannot be undone, so the
  // default-malloc figures below are measured in a child process first.
  if (getenv("OTAP_BENCH_TUNED_CHILD") == NULL) {
    char cmd[4096];
    snprintf(cmd, sizeof(cmd), "OTAP_BENCH_TUNED_CHILD=1 '%s' '%s' --reps %d", argv[0], dir, reps);
    FILE* p = popen(cmd, "r");
    char line[256];
    int k = 0;
    while (p && fgets(line, sizeof(line), p) && k < 4) {
      long long rr;
      double cc;
      if (sscanf(line, "tuned %lld %lf", &rr, &cc) == 2) {
        tuned_rows[k] = rr;
        tuned[k++] = cc;
      }
    }
    if (p) pclose(p);
  } else {
    mallopt(M_MMAP_THRESHOLD, 64 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
    for (int f = 0; f < 4; f++) {
      snprintf(path, sizeof(path), "%s/%s.parquet", dir, files[f]);
      double best_c = 1e9, t, c;
      int64_t rows = 0;
      for (int i = 0; i < reps; i++) {
        if (decode_file(path, false, &rows, &t, &c)) return 1;
        if (c < best_c) best_c = c;
      }
      printf("tuned %lld %f\n", (long long)rows, best_c);
    }
    return 0;
  }
  for (int f = 0; f < 4; f++) {
    snprintf(path, sizeof(path), "%s/%s.parquet", dir, files[f]);
    if (stat(path, &st) != 0) continue;
    double best = 1e9, best_cpu = 1e9, best_dict = 1e9, best_codec = 1e9, t, c;
    int64_t rows = 0, cbytes = 0;
    const char* codec = "";
    for (int i = 0; i < reps; i++) {
      if (decode_file(path, false, &rows, &t, &c)) return 1;
      if (t < best) best = t;
      if (c < best_cpu) best_cpu = c;
      if (decode_file(path, true, &rows, &t, &c)) return 1;
      if (c < best_dict) best_dict = c;
      if (codec_only(path, &t, &cbytes, &codec) == 0 && t < best_codec) best_codec = t;
    }
    double mb = (double)uncompressed_size(path) / 1e6;
    double dcpu = -1, dms = duck ? duckdb_ms(path, reps, &dcpu) : -1;
    char ours[64], duckbuf[64] = "n/a", ratio[32] = "n/a";
    snprintf(ours, sizeof(ours), "%.2fM [%.2fM]", (double)rows / best_cpu / 1e6, (double)rows / best / 1e6);
    if (dms > 0 && dcpu > 0) {
      snprintf(duckbuf, sizeof(duckbuf), "%.2fM [%.2fM]", (double)rows / (dcpu / 1000) / 1e6,
               (double)rows / (dms / 1000) / 1e6);
      snprintf(ratio, sizeof(ratio), "%.2fx", (dcpu / 1000) / best_cpu);
    }
    char dict[32], tun[32] = "n/a", tratio[32] = "n/a";
    snprintf(dict, sizeof(dict), "%.2fM", (double)rows / best_dict / 1e6);
    if (tuned[f] > 0 && tuned_rows[f] == rows) {
      snprintf(tun, sizeof(tun), "%.2fM", (double)rows / tuned[f] / 1e6);
      if (dcpu > 0) snprintf(tratio, sizeof(tratio), "%.2fx", (dcpu / 1000) / tuned[f]);
    }
    printf("%-23s %8lld %6.1f | %-22s %7.0f %-9s %-12s | %-22s %6s %6s | %s %.0f MB/s\n", files[f], (long long)rows,
           mb, ours, mb / best_cpu, dict, tun, duckbuf, ratio, tratio,
           strcmp(codec, "UNCOMPRESSED") == 0 ? "memcpy" : codec, (double)cbytes / 1e6 / best_codec);
  }
  return 0;
}
