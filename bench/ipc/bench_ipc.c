// bench_ipc: Arrow IPC read and write throughput on an OTAP-like logs table (u16 ids,
// timestamps, 16-byte trace ids, dictionary strings, string bodies), uncompressed, LZ4 and
// ZSTD, printed next to references measured in the same run: memcpy bandwidth and the codecs'
// own compression / decompression speed on the very same buffers (liblz4 / libzstd called
// directly, contexts reused). Prints figures only; never fails on time.
//
// Usage: bench_ipc [--mib N] [--reps N]   (default 1024 MiB of column data, best of 3 runs)
#include <inttypes.h>
#include <lz4frame.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zstd.h>

#include "otap/ipc.h"

#define ROWS_PER_BATCH 65536

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t rng(uint64_t* s) {
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

// ---------------------------------------------------------------------------------------------
// The table: hand-built C Data Interface arrays (the writer accepts foreign arrays).

#define NCOL 7
struct batch {
  struct ArrowArray top;
  struct ArrowArray col[NCOL];
  struct ArrowArray* kids[NCOL];
  const void* top_bufs[1];
  const void* bufs[NCOL][3];
  void* allocs[16];
  int n_allocs;
};

struct dict {
  struct ArrowArray arr;
  const void* bufs[3];
  int32_t offsets[16];
  char data[256];
};

static struct dict g_dicts[2];

static void noop_release(struct ArrowArray* a) { a->release = NULL; }

static void batch_release(struct ArrowArray* a) {
  struct batch* b = a->private_data;
  for (int i = 0; i < b->n_allocs; i++) free(b->allocs[i]);
  free(b);
  a->release = NULL;
}

static void* balloc(struct batch* b, size_t n) {
  void* p = aligned_alloc(64, (n + 63) / 64 * 64);
  if (!p) abort();
  b->allocs[b->n_allocs++] = p;
  return p;
}

static void init_dict(struct dict* d, const char* const* words, int n) {
  memset(d, 0, sizeof(*d));
  int pos = 0;
  d->offsets[0] = 0;
  for (int i = 0; i < n; i++) {
    int l = (int)strlen(words[i]);
    memcpy(d->data + pos, words[i], (size_t)l);
    pos += l;
    d->offsets[i + 1] = pos;
  }
  d->bufs[0] = NULL;
  d->bufs[1] = d->offsets;
  d->bufs[2] = d->data;
  d->arr.length = n;
  d->arr.n_buffers = 3;
  d->arr.buffers = d->bufs;
  d->arr.release = noop_release;
}

static const char* kWords[16] = {"request", "completed", "user", "order", "failed", "retry",
                                 "cache", "miss", "latency", "ms", "db", "query", "timeout",
                                 "connection", "reset", "ok"};

static int64_t make_batch(int64_t first_row, int64_t rows, uint64_t* seed, struct ArrowArray* out) {
  struct batch* b = calloc(1, sizeof(*b));
  if (!b) abort();
  uint16_t* id = balloc(b, (size_t)rows * 2);
  uint16_t* parent = balloc(b, (size_t)rows * 2);
  uint8_t* parent_valid = balloc(b, (size_t)(rows + 7) / 8);
  int64_t* ts = balloc(b, (size_t)rows * 8);
  uint8_t* trace = balloc(b, (size_t)rows * 16);
  uint8_t* sev = balloc(b, (size_t)rows);
  uint8_t* svc = balloc(b, (size_t)rows);
  int32_t* boff = balloc(b, (size_t)(rows + 1) * 4);
  size_t cap = (size_t)rows * 96;
  char* body = balloc(b, cap);
  memset(parent_valid, 0, (size_t)(rows + 7) / 8);
  int64_t nulls = 0, pos = 0;
  boff[0] = 0;
  for (int64_t r = 0; r < rows; r++) {
    uint64_t x = rng(seed);
    id[r] = (uint16_t)r;
    if ((x & 7) == 0) {
      parent[r] = 0;
      nulls++;
    } else {
      parent[r] = (uint16_t)(r / 4);
      parent_valid[r >> 3] |= (uint8_t)(1u << (r & 7));
    }
    ts[r] = 1700000000000000000LL + (first_row + r) * 1000003LL;
    uint64_t t1 = (uint64_t)((first_row + r) / 8) * 0x9E3779B97F4A7C15ull, t2 = ~t1;
    memcpy(trace + 16 * r, &t1, 8);
    memcpy(trace + 16 * r + 8, &t2, 8);
    sev[r] = (uint8_t)((x >> 8) % 6);
    svc[r] = (uint8_t)((x >> 16) % 8);
    int words = 4 + (int)((x >> 24) % 12);
    for (int w = 0; w < words; w++) {
      const char* word = kWords[(x >> (w * 4)) % 16];
      size_t l = strlen(word);
      if (w) body[pos++] = ' ';
      memcpy(body + pos, word, l);
      pos += (int64_t)l;
    }
    pos += snprintf(body + pos, 24, " id=%" PRId64, first_row + r);
    boff[r + 1] = (int32_t)pos;
  }
  const void* bufs[NCOL][3] = {{NULL, id, NULL},    {parent_valid, parent, NULL}, {NULL, ts, NULL},
                               {NULL, trace, NULL}, {NULL, sev, NULL},            {NULL, svc, NULL},
                               {NULL, boff, body}};
  int nbuf[NCOL] = {2, 2, 2, 2, 2, 2, 3};
  for (int c = 0; c < NCOL; c++) {
    memcpy(b->bufs[c], bufs[c], sizeof(bufs[c]));
    struct ArrowArray* a = &b->col[c];
    a->length = rows;
    a->null_count = c == 1 ? nulls : 0;
    a->n_buffers = nbuf[c];
    a->buffers = b->bufs[c];
    a->release = noop_release;
    if (c == 4) a->dictionary = &g_dicts[0].arr;
    if (c == 5) a->dictionary = &g_dicts[1].arr;
    b->kids[c] = a;
  }
  memset(out, 0, sizeof(*out));
  out->length = rows;
  out->n_buffers = 1;
  out->buffers = b->top_bufs;
  out->n_children = NCOL;
  out->children = b->kids;
  out->release = batch_release;
  out->private_data = b;
  return rows * (2 + 2 + 8 + 16 + 1 + 1 + 4) + (rows + 7) / 8 + pos;
}

static int make_schema(struct ArrowSchema* s) {
  static const char* fmts[NCOL] = {"S", "S", "tsn:", "w:16", "C", "C", "u"};
  static const char* names[NCOL] = {"id", "parent_id", "time_unix_nano", "trace_id",
                                    "severity_text", "service_name", "body"};
  int rc = otap_schema_init(s, "+s");
  if (!rc) rc = otap_schema_allocate_children(s, NCOL);
  for (int i = 0; !rc && i < NCOL; i++) {
    rc = otap_schema_init(s->children[i], fmts[i]);
    if (!rc) rc = otap_schema_set_name(s->children[i], names[i]);
    if (!rc && (i == 4 || i == 5)) {
      rc = otap_schema_allocate_dictionary(s->children[i]);
      if (!rc) rc = otap_schema_init(s->children[i]->dictionary, "u");
    }
  }
  return rc;
}

// ---------------------------------------------------------------------------------------------

static void die(const char* what, const struct otap_error* err) {
  fprintf(stderr, "bench_ipc: %s: %s\n", what, err->message);
  exit(1);
}

static double write_ipc(const struct ArrowSchema* s, struct ArrowArray* batches, int64_t n,
                        enum otap_ipc_compression codec, struct otap_buffer* out) {
  struct otap_error err;
  struct otap_sink sink;
  out->size = 0;
  if (otap_sink_init_buffer(&sink, out, &err)) die("sink", &err);
  struct otap_ipc_write_options o;
  otap_ipc_write_options_init(&o);
  o.compression = codec;
  struct otap_ipc_writer* w;
  double t0 = now_s();
  if (otap_ipc_writer_new(&w, &sink, OTAP_IPC_FORMAT_STREAM, s, &o, &err)) die("writer", &err);
  for (int64_t i = 0; i < n; i++)
    if (otap_ipc_writer_write(w, &batches[i], &err)) die("write", &err);
  if (otap_ipc_writer_finish(w, &err)) die("finish", &err);
  double t = now_s() - t0;
  otap_ipc_writer_free(w);
  otap_sink_release(&sink);
  return t;
}

static double read_ipc(const struct otap_buffer* in, enum otap_validation level, int64_t* rows) {
  struct otap_error err;
  struct otap_ipc_read_options o;
  otap_ipc_read_options_init(&o);
  o.validation = level;
  double t0 = now_s();
  struct ArrowArrayStream s;
  if (otap_ipc_reader_open_memory(&s, in->data, (size_t)in->size, NULL, &o, &err)) die("open", &err);
  struct ArrowSchema schema;
  if (s.get_schema(&s, &schema)) {
    fprintf(stderr, "bench_ipc: %s\n", s.get_last_error(&s));
    exit(1);
  }
  *rows = 0;
  for (;;) {
    struct ArrowArray a;
    if (s.get_next(&s, &a)) {
      fprintf(stderr, "bench_ipc: %s\n", s.get_last_error(&s));
      exit(1);
    }
    if (!a.release) break;
    *rows += a.length;
    a.release(&a);
  }
  s.release(&s);
  double t = now_s() - t0;
  otap_schema_release(&schema);
  return t;
}

struct span {
  const uint8_t* p;
  size_t n;
};

// Collects every column buffer of the table (the buffers the IPC writer compresses).
static struct span* table_buffers(struct ArrowArray* batches, int64_t n, int64_t* count) {
  struct span* sp = calloc((size_t)n * 16, sizeof(*sp));
  int64_t k = 0;
  for (int64_t i = 0; i < n; i++) {
    struct batch* b = batches[i].private_data;
    int64_t rows = batches[i].length;
    size_t sizes[NCOL][3] = {{0, 2, 0}, {1, 2, 0}, {0, 8, 0}, {0, 16, 0},
                             {0, 1, 0}, {0, 1, 0}, {0, 4, 0}};
    for (int c = 0; c < NCOL; c++) {
      for (int j = 0; j < 3; j++) {
        if (!b->bufs[c][j]) continue;
        size_t len;
        if (j == 0) {
          len = (size_t)(rows + 7) / 8;
        } else if (c == 6 && j == 2) {
          len = (size_t)((const int32_t*)b->bufs[6][1])[rows];
        } else {
          len = sizes[c][j == 1 ? 1 : 2] * (size_t)(rows + (c == 6 ? 1 : 0));
        }
        sp[k].p = b->bufs[c][j];
        sp[k].n = len;
        k++;
      }
    }
  }
  *count = k;
  return sp;
}

static void codec_speed(int codec, const struct span* sp, int64_t n, int reps, double* comp_gbs,
                        double* decomp_gbs, double* ratio) {
  size_t total = 0, maxn = 0;
  for (int64_t i = 0; i < n; i++) {
    total += sp[i].n;
    if (sp[i].n > maxn) maxn = sp[i].n;
  }
  uint8_t** c = calloc((size_t)n, sizeof(uint8_t*));
  size_t* cn = calloc((size_t)n, sizeof(size_t));
  uint8_t* dst = malloc(maxn + 64);
  memset(dst, 0, maxn + 64);
  ZSTD_CCtx* zc = ZSTD_createCCtx();
  ZSTD_DCtx* zd = ZSTD_createDCtx();
  LZ4F_dctx* ld;
  LZ4F_createDecompressionContext(&ld, LZ4F_VERSION);
  double best_c = 1e30, best_d = 1e30;
  size_t ctotal = 0;
  for (int r = 0; r < reps; r++) {
    ctotal = 0;
    double t0 = now_s();
    for (int64_t i = 0; i < n; i++) {
      size_t bound = codec == 1 ? LZ4F_compressFrameBound(sp[i].n, NULL) : ZSTD_compressBound(sp[i].n);
      if (!c[i]) c[i] = malloc(bound);
      if (codec == 1) {
        LZ4F_preferences_t prefs;
        memset(&prefs, 0, sizeof(prefs));
        prefs.frameInfo.contentSize = sp[i].n;
        cn[i] = LZ4F_compressFrame(c[i], bound, sp[i].p, sp[i].n, &prefs);
      } else {
        cn[i] = ZSTD_compressCCtx(zc, c[i], bound, sp[i].p, sp[i].n, 1);
      }
      ctotal += cn[i];
    }
    double t1 = now_s();
    for (int64_t i = 0; i < n; i++) {
      if (codec == 1) {
        LZ4F_resetDecompressionContext(ld);
        size_t dn = maxn + 64, sn = cn[i];
        LZ4F_decompress(ld, dst, &dn, c[i], &sn, NULL);
      } else {
        ZSTD_decompressDCtx(zd, dst, maxn + 64, c[i], cn[i]);
      }
    }
    double t2 = now_s();
    if (t1 - t0 < best_c) best_c = t1 - t0;
    if (t2 - t1 < best_d) best_d = t2 - t1;
  }
  *comp_gbs = (double)total / best_c / 1e9;
  *decomp_gbs = (double)total / best_d / 1e9;
  *ratio = (double)total / (double)ctotal;
  for (int64_t i = 0; i < n; i++) free(c[i]);
  free(c);
  free(cn);
  free(dst);
  ZSTD_freeCCtx(zc);
  ZSTD_freeDCtx(zd);
  LZ4F_freeDecompressionContext(ld);
}

// A codec reference kept ready so it can be re-measured right next to each IPC read (the
// machine is shared: measuring both back to back keeps the comparison fair).
struct ref {
  int codec;
  const struct span* sp;
  int64_t n;
  uint8_t** c;
  size_t* cn;
  uint8_t* dst;
  size_t maxn;
  ZSTD_DCtx* zd;
  LZ4F_dctx* ld;
};

static void ref_prepare(struct ref* r, int codec, const struct span* sp, int64_t n) {
  memset(r, 0, sizeof(*r));
  r->codec = codec;
  r->sp = sp;
  r->n = n;
  r->c = calloc((size_t)n, sizeof(uint8_t*));
  r->cn = calloc((size_t)n, sizeof(size_t));
  for (int64_t i = 0; i < n; i++)
    if (sp[i].n > r->maxn) r->maxn = sp[i].n;
  r->dst = malloc(r->maxn + 64);
  memset(r->dst, 0, r->maxn + 64);
  r->zd = ZSTD_createDCtx();
  LZ4F_createDecompressionContext(&r->ld, LZ4F_VERSION);
  for (int64_t i = 0; i < n; i++) {
    size_t bound = codec == 1 ? LZ4F_compressFrameBound(sp[i].n, NULL) : ZSTD_compressBound(sp[i].n);
    r->c[i] = malloc(bound);
    if (codec == 1) {
      LZ4F_preferences_t prefs;
      memset(&prefs, 0, sizeof(prefs));
      prefs.frameInfo.contentSize = sp[i].n;
      r->cn[i] = LZ4F_compressFrame(r->c[i], bound, sp[i].p, sp[i].n, &prefs);
    } else {
      r->cn[i] = ZSTD_compress(r->c[i], bound, sp[i].p, sp[i].n, 1);
    }
  }
}

static double ref_decompress(struct ref* r) {
  double t0 = now_s();
  for (int64_t i = 0; i < r->n; i++) {
    if (r->codec == 1) {
      LZ4F_resetDecompressionContext(r->ld);
      size_t dn = r->maxn + 64, sn = r->cn[i];
      LZ4F_decompress(r->ld, r->dst, &dn, r->c[i], &sn, NULL);
    } else {
      ZSTD_decompressDCtx(r->zd, r->dst, r->maxn + 64, r->c[i], r->cn[i]);
    }
  }
  return now_s() - t0;
}

static void ref_free(struct ref* r) {
  for (int64_t i = 0; i < r->n; i++) free(r->c[i]);
  free(r->c);
  free(r->cn);
  free(r->dst);
  ZSTD_freeDCtx(r->zd);
  LZ4F_freeDecompressionContext(r->ld);
}

int main(int argc, char** argv) {
  int64_t mib = 1024;
  int reps = 3;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--mib") == 0 && i + 1 < argc) {
      mib = strtoll(argv[++i], NULL, 10);
    } else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc) {
      reps = atoi(argv[++i]);
    } else {
      fprintf(stderr, "usage: bench_ipc [--mib N] [--reps N]\n");
      return 2;
    }
  }
  if (mib <= 0 || reps <= 0) return 2;
  static const char* sev[6] = {"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"};
  static const char* svc[8] = {"checkout", "payment", "frontend", "cart", "shipping",
                               "email", "ad", "recommendation"};
  init_dict(&g_dicts[0], sev, 6);
  init_dict(&g_dicts[1], svc, 8);
  struct ArrowSchema schema;
  if (make_schema(&schema)) return 1;
  int64_t target = mib << 20, bytes = 0, rows = 0, n = 0, cap = 64;
  struct ArrowArray* batches = malloc((size_t)cap * sizeof(*batches));
  uint64_t seed = 0x9E3779B97F4A7C15ull;
  double g0 = now_s();
  while (bytes < target) {
    if (n == cap) batches = realloc(batches, (size_t)(cap *= 2) * sizeof(*batches));
    bytes += make_batch(rows, ROWS_PER_BATCH, &seed, &batches[n++]);
    rows += ROWS_PER_BATCH;
  }
  double gen = now_s() - g0;
  FILE* cpu = fopen("/proc/cpuinfo", "r");
  char line[256], model[256] = "unknown";
  while (cpu && fgets(line, sizeof(line), cpu)) {
    if (strncmp(line, "model name", 10) == 0) {
      char* c = strchr(line, ':');
      if (c) snprintf(model, sizeof(model), "%s", c + 2);
      model[strcspn(model, "\n")] = 0;
      break;
    }
  }
  if (cpu) fclose(cpu);
  printf("bench_ipc (otap %s): CPU %s, single thread, best of %d\n", otap_version(), model, reps);
  printf("table: %" PRId64 " rows in %" PRId64 " batches of %d (u16 id, u16 parent_id with nulls, "
         "timestamp[ns],\n       fixed_size_binary[16] trace_id, dictionary<u8,utf8> x2, utf8 body)"
         ", %.1f MiB of column data, generated in %.1f s\n\n",
         rows, n, ROWS_PER_BATCH, (double)bytes / 1048576.0, gen);

  // references
  struct otap_buffer plain;
  otap_buffer_init(&plain);
  if (otap_buffer_reserve(&plain, bytes + bytes / 8 + (1 << 20))) return 1;
  double wt_none = write_ipc(&schema, batches, n, OTAP_IPC_COMPRESSION_NONE, &plain);
  uint8_t* copy = malloc((size_t)plain.size);
  memset(copy, 1, (size_t)plain.size);
  double best_memcpy = 1e30;
  for (int r = 0; r < reps; r++) {
    double t0 = now_s();
    memcpy(copy, plain.data, (size_t)plain.size);
    __asm__ volatile("" : : "r"(copy) : "memory");  // keep the copy
    double t = now_s() - t0;
    if (t < best_memcpy) best_memcpy = t;
  }
  double memcpy_gbs = (double)plain.size / best_memcpy / 1e9;
  int64_t nspans;
  struct span* sp = table_buffers(batches, n, &nspans);
  double lz4_c, lz4_d, lz4_r, zstd_c, zstd_d, zstd_r;
  codec_speed(1, sp, nspans, reps, &lz4_c, &lz4_d, &lz4_r);
  codec_speed(2, sp, nspans, reps, &zstd_c, &zstd_d, &zstd_r);
  size_t lz4_total = 0;
  for (int64_t i = 0; i < nspans; i++) lz4_total += sp[i].n;
  size_t zstd_total = lz4_total;
  double stream_gb = (double)plain.size / 1e9;
  printf("reference: memcpy of the %.2f GB uncompressed stream: %.2f GB/s\n", stream_gb, memcpy_gbs);
  printf("reference: liblz4 frame on the same column buffers: compress %.2f GB/s, decompress %.2f "
         "GB/s (ratio %.2f)\n", lz4_c, lz4_d, lz4_r);
  printf("reference: libzstd level 1 on the same column buffers: compress %.2f GB/s, decompress "
         "%.2f GB/s (ratio %.2f)\n\n", zstd_c, zstd_d, zstd_r);
  printf("GB/s are uncompressed IPC stream bytes (%.2f GB) per second.\n", stream_gb);
  printf("%-6s %10s %10s %12s %12s %12s  %s\n", "codec", "size MB", "write", "read FULL",
         "read DEFAULT", "read NONE", "read FULL vs reference re-measured alongside");
  enum otap_ipc_compression codecs[3] = {OTAP_IPC_COMPRESSION_NONE, OTAP_IPC_COMPRESSION_LZ4_FRAME,
                                         OTAP_IPC_COMPRESSION_ZSTD};
  for (int c = 0; c < 3; c++) {
    struct otap_buffer out;
    otap_buffer_init(&out);
    if (otap_buffer_reserve(&out, plain.size + (1 << 20))) return 1;
    double wbest = c == 0 ? wt_none : 1e30;
    for (int r = 0; r < reps; r++) {
      double t = write_ipc(&schema, batches, n, codecs[c], &out);
      if (t < wbest) wbest = t;
    }
    double rbest[3] = {1e30, 1e30, 1e30}, ref_best = 1e30;
    enum otap_validation levels[3] = {OTAP_VALIDATE_FULL, OTAP_VALIDATE_DEFAULT, OTAP_VALIDATE_NONE};
    struct ref cref;
    if (c > 0) ref_prepare(&cref, c, sp, nspans);
    for (int l = 0; l < 3; l++) {
      for (int r = 0; r < reps; r++) {
        // the reference again, right before this read
        double tr;
        if (c == 0) {
          double t0 = now_s();
          memcpy(copy, plain.data, (size_t)plain.size);
          __asm__ volatile("" : : "r"(copy) : "memory");
          tr = now_s() - t0;
        } else {
          tr = ref_decompress(&cref);
        }
        if (tr < ref_best) ref_best = tr;
        int64_t got;
        double t = read_ipc(&out, levels[l], &got);
        if (got != rows) {
          fprintf(stderr, "bench_ipc: read %" PRId64 " rows, wrote %" PRId64 "\n", got, rows);
          return 1;
        }
        if (t < rbest[l]) rbest[l] = t;
      }
    }
    if (c > 0) ref_free(&cref);
    // reference re-measured next to the reads: memcpy of the stream, or the codec
    // decompressing the same column buffers (GB/s of uncompressed bytes)
    double ref = c == 0 ? (double)plain.size / ref_best / 1e9
                        : (double)(c == 1 ? lz4_total : zstd_total) / ref_best / 1e9;
    (void)memcpy_gbs;
    (void)lz4_d;
    (void)zstd_d;
    printf("%-6s %10.1f %10.2f %12.2f %12.2f %12.2f  %5.0f%% of %s %.2f GB/s (DEFAULT %.0f%%)\n",
           otap_ipc_compression_name(codecs[c]), (double)out.size / 1e6, stream_gb / wbest,
           stream_gb / rbest[0], stream_gb / rbest[1], stream_gb / rbest[2],
           100.0 * stream_gb / rbest[0] / ref, c == 0 ? "memcpy" : "codec decompress", ref,
           100.0 * stream_gb / rbest[1] / ref);
    otap_buffer_reset(&out);
  }
  printf("\nwrite/read ratio is write GB/s over read FULL GB/s; targets: uncompressed read >= 50%% "
         "of memcpy,\ncompressed read >= 85%% of the codec's decompression, write within 2x of "
         "read.\n");
  free(sp);
  free(copy);
  for (int64_t i = 0; i < n; i++) batches[i].release(&batches[i]);
  free(batches);
  otap_buffer_reset(&plain);
  otap_schema_release(&schema);
  return 0;
}
