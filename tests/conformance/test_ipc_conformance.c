// IPC conformance against the Apache arrow-testing integration gold files (docs/testing.md).
// For every gold file X: X.stream is read by the memory reader, the push decoder (7-byte and
// pseudo-random pieces) and the fd reader; X.arrow_file by the random-access file reader (last
// batch first), the memory reader and the source reader over the mmap'd file. Each result is
// compared value by value with X.json.gz. What was read is re-written by otap (stream and file;
// none, LZ4_FRAME, ZSTD; writer and otap_ipc_write_array_stream), read back and compared
// again; the arrays built from the JSON alone are written and read back plain, sliced and as
// foreign (non-otap) arrays. READ-OPT files (legacy framing, big-endian) must read correctly
// or fail with ENOTSUP; union, run-end encoded and view types may fail with ENOTSUP only.
// forward-compatibility/schema_v6.arrow must be rejected cleanly; damaged gold files
// (truncated, corrupted) must never crash or misread. Prints one line per file and
// "IPC conformance: N passed, N failed"; fails if any file fails.
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "otap/arrow.h"
#include "otap/ipc.h"
#include "support/arrow_compare.h"
#include "support/integration_json.h"
#include "testutil.h"

#define GOLD_DIR "arrow-testing/data/arrow-ipc-stream/integration"

// snprintf into a path buffer; a truncated path fails the test instead of being used.
#define PATHF(buf, ...)                                                      \
  do {                                                                       \
    int n_ = snprintf((buf), sizeof(buf), __VA_ARGS__);                      \
    if (n_ < 0 || (size_t)n_ >= sizeof(buf)) fail_msg("path too long");     \
  } while (0)

// ---------------------------------------------------------------------------------------------
// Batches read from somewhere

struct batches {
  struct ArrowSchema schema;
  int64_t n;
  struct ArrowArray* arrays;
};

static void batches_reset(struct batches* b) {
  for (int64_t i = 0; i < b->n; i++) otap_array_release(&b->arrays[i]);
  free(b->arrays);
  otap_schema_release(&b->schema);
  memset(b, 0, sizeof(*b));
}

static int batches_push(struct batches* b, struct ArrowArray* a) {
  struct ArrowArray* grown = realloc(b->arrays, (size_t)(b->n + 1) * sizeof(*grown));
  if (!grown) return ENOMEM;
  b->arrays = grown;
  otap_array_move(a, &b->arrays[b->n++]);
  return 0;
}

// Outcome of one step: rc and message.
struct outcome {
  int rc;
  char msg[2300];
};

static int set_outcome(struct outcome* o, int rc, const char* fmt, ...) OTAP_PRINTF(3, 4);
static int set_outcome(struct outcome* o, int rc, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(o->msg, sizeof(o->msg), fmt, ap);
  va_end(ap);
  o->rc = rc;
  return rc;
}

// Drains an ArrowArrayStream (released here).
static int drain_stream(struct ArrowArrayStream* s, struct batches* out, struct outcome* o,
                        const char* what) {
  int rc = s->get_schema(s, &out->schema);
  if (rc != 0) {
    const char* m = s->get_last_error(s);
    set_outcome(o, rc, "%s: get_schema: %s (%s)", what, m ? m : "", otap_errno_name(rc));
    goto done;
  }
  for (;;) {
    struct ArrowArray a;
    memset(&a, 0, sizeof(a));
    rc = s->get_next(s, &a);
    if (rc != 0) {
      const char* m = s->get_last_error(s);
      set_outcome(o, rc, "%s: batch %lld: %s (%s)", what, (long long)out->n, m ? m : "",
                  otap_errno_name(rc));
      goto done;
    }
    if (!a.release) break;
    rc = batches_push(out, &a);
    if (rc != 0) {
      otap_array_release(&a);
      set_outcome(o, rc, "%s: out of memory", what);
      goto done;
    }
  }
done:
  s->release(s);
  return rc;
}

static int read_memory_reader(const uint8_t* data, size_t size, struct batches* out,
                              struct outcome* o, const char* what) {
  struct ArrowArrayStream s;
  struct otap_error err;
  memset(&s, 0, sizeof(s));
  int rc = otap_ipc_reader_open_memory(&s, data, size, NULL, NULL, &err);
  if (rc != 0) {
    return set_outcome(o, rc, "%s: open: %s (%s)", what, err.message, otap_errno_name(rc));
  }
  return drain_stream(&s, out, o, what);
}

// ArrowArrayStream over an otap_source opened on the file (mmap, zero-copy).
static int read_source_reader(const char* path, struct batches* out, struct outcome* o,
                              const char* what) {
  struct otap_source src;
  struct ArrowArrayStream s;
  struct otap_error err;
  memset(&s, 0, sizeof(s));
  int rc = otap_source_open_file(&src, path, &err);
  if (rc == 0) rc = otap_ipc_reader_open_source(&s, &src, NULL, &err);
  if (rc != 0) {
    otap_source_release(&src);
    return set_outcome(o, rc, "%s: open: %s (%s)", what, err.message, otap_errno_name(rc));
  }
  return drain_stream(&s, out, o, what);
}

// ArrowArrayStream reading sequentially from a file descriptor.
static int read_fd_reader(const char* path, struct batches* out, struct outcome* o,
                          const char* what) {
  struct ArrowArrayStream s;
  struct otap_error err;
  FILE* f = fopen(path, "rb");
  if (!f) return set_outcome(o, EIO, "%s: cannot open", what);
  int rc = otap_ipc_reader_open_fd(&s, fileno(f), false, NULL, &err);
  if (rc != 0) {
    fclose(f);
    return set_outcome(o, rc, "%s: open: %s (%s)", what, err.message, otap_errno_name(rc));
  }
  rc = drain_stream(&s, out, o, what);
  fclose(f);
  return rc;
}

// Push decoder fed `chunk` bytes at a time (chunk 0: pseudo-random pieces of 1..97 bytes).
static int read_push_decoder(const uint8_t* data, size_t size, size_t chunk, struct batches* out,
                             struct outcome* o, const char* what) {
  uint64_t rnd = 0x9E3779B97F4A7C15ull ^ size;
  struct otap_ipc_decoder* dec = NULL;
  struct otap_error err;
  int rc = otap_ipc_decoder_new(&dec, NULL, &err);
  if (rc != 0) return set_outcome(o, rc, "%s: decoder_new: %s", what, err.message);
  bool ended = false;
  size_t piece = chunk;
  for (size_t off = 0; off < size && !ended; off += piece) {
    if (chunk == 0) {
      rnd ^= rnd << 13;
      rnd ^= rnd >> 7;
      rnd ^= rnd << 17;
      piece = 1 + (size_t)(rnd % 97);
    }
    size_t n = size - off < piece ? size - off : piece;
    rc = otap_ipc_decoder_push(dec, data + off, n, &err);
    if (rc != 0) goto fail;
    for (;;) {
      enum otap_ipc_event ev;
      struct ArrowArray a;
      memset(&a, 0, sizeof(a));
      rc = otap_ipc_decoder_pull(dec, &ev, &a, &err);
      if (rc != 0) goto fail;
      if (ev == OTAP_IPC_EVENT_NEED_MORE) break;
      if (ev == OTAP_IPC_EVENT_END) {
        ended = true;
        break;
      }
      if (ev == OTAP_IPC_EVENT_BATCH) {
        rc = batches_push(out, &a);
        if (rc != 0) {
          otap_array_release(&a);
          goto fail;
        }
      }
    }
  }
  rc = otap_ipc_decoder_finish(dec, &err);
  if (rc != 0) goto fail;
  rc = otap_ipc_decoder_get_schema(dec, &out->schema, &err);
  if (rc != 0) goto fail;
  otap_ipc_decoder_free(dec);
  return 0;
fail:
  set_outcome(o, rc, "%s: push decoder (%zu-byte pieces): %s (%s)", what, chunk ? chunk : piece,
              err.message, otap_errno_name(rc));
  otap_ipc_decoder_free(dec);
  return rc;
}

// Random-access file reader; batches read last to first to exercise random access.
static int read_file_reader(const uint8_t* data, size_t size, struct batches* out,
                            struct outcome* o, const char* what) {
  struct otap_source src;
  struct otap_error err;
  struct otap_ipc_file_reader* r = NULL;
  int rc = otap_source_init_memory(&src, data, size, what, &err);
  if (rc == 0) rc = otap_ipc_file_reader_open(&r, &src, NULL, &err);
  if (rc != 0) {
    return set_outcome(o, rc, "%s: file reader open: %s (%s)", what, err.message,
                       otap_errno_name(rc));
  }
  int64_t n = otap_ipc_file_reader_num_batches(r);
  rc = otap_schema_deep_copy(otap_ipc_file_reader_schema(r), &out->schema, &err);
  if (rc != 0) goto fail;
  if (n > 0) {
    out->arrays = calloc((size_t)n, sizeof(struct ArrowArray));
    if (!out->arrays) {
      rc = ENOMEM;
      goto fail;
    }
    out->n = n;
  }
  for (int64_t i = n - 1; i >= 0; i--) {
    rc = otap_ipc_file_reader_read_batch(r, i, &out->arrays[i], &err);
    if (rc != 0) {
      otap_error_prefix(&err, rc, "batch %lld: ", (long long)i);
      goto fail;
    }
  }
  otap_ipc_file_reader_free(r);
  return 0;
fail:
  set_outcome(o, rc, "%s: file reader: %s (%s)", what, err.message, otap_errno_name(rc));
  otap_ipc_file_reader_free(r);
  return rc;
}

// Compares batches with the expected integration content.
static int compare_with(const struct otap_test_integration* exp, const struct batches* got,
                        struct outcome* o, const char* what) {
  struct otap_test_diff diff;
  if (!otap_test_schema_equal(&exp->schema, &got->schema, NULL, &diff)) {
    return set_outcome(o, EINVAL, "%s: schema differs: %s", what, diff.message);
  }
  if (exp->n_batches != got->n) {
    return set_outcome(o, EINVAL, "%s: %lld batches, expected %lld", what, (long long)got->n,
                       (long long)exp->n_batches);
  }
  for (int64_t i = 0; i < got->n; i++) {
    if (!otap_test_array_equal(&exp->schema, &exp->batches[i], &got->schema, &got->arrays[i],
                               NULL, &diff)) {
      return set_outcome(o, EINVAL, "%s: batch %lld: %s", what, (long long)i, diff.message);
    }
  }
  return 0;
}

// Writes schema + arrays with otap's writer into buf.
static int write_ipc(const struct ArrowSchema* schema, const struct ArrowArray* arrays, int64_t n,
                     enum otap_ipc_format format, enum otap_ipc_compression comp,
                     struct otap_buffer* buf, struct outcome* o, const char* what) {
  struct otap_sink sink;
  struct otap_error err;
  struct otap_ipc_writer* w = NULL;
  struct otap_ipc_write_options opts;
  otap_ipc_write_options_init(&opts);
  opts.compression = comp;
  memset(&sink, 0, sizeof(sink));
  int rc = otap_sink_init_buffer(&sink, buf, &err);
  if (rc == 0) rc = otap_ipc_writer_new(&w, &sink, format, schema, &opts, &err);
  for (int64_t i = 0; rc == 0 && i < n; i++) {
    rc = otap_ipc_writer_write(w, &arrays[i], &err);
    if (rc != 0) otap_error_prefix(&err, rc, "batch %lld: ", (long long)i);
  }
  if (rc == 0) rc = otap_ipc_writer_finish(w, &err);
  if (rc == 0 && otap_ipc_writer_bytes_written(w) != buf->size) {
    rc = otap_error_set(&err, EINVAL, "writer reports %lld bytes written, the sink got %lld",
                        (long long)otap_ipc_writer_bytes_written(w), (long long)buf->size);
  }
  otap_ipc_writer_free(w);
  otap_sink_release(&sink);
  if (rc != 0) {
    return set_outcome(o, rc, "%s: write: %s (%s)", what, err.message, otap_errno_name(rc));
  }
  return 0;
}

// The same through otap_ipc_write_array_stream over an in-memory ArrowArrayStream of new
// references to the (otap-built) arrays.
static int write_ipc_via_array_stream(const struct ArrowSchema* schema,
                                      const struct ArrowArray* arrays, int64_t n,
                                      enum otap_ipc_format format,
                                      enum otap_ipc_compression comp, struct otap_buffer* buf,
                                      struct outcome* o, const char* what) {
  struct otap_error err;
  struct ArrowSchema copy;
  struct ArrowArrayStream s;
  struct otap_sink sink;
  memset(&s, 0, sizeof(s));
  memset(&sink, 0, sizeof(sink));
  struct ArrowArray* refs = calloc((size_t)(n ? n : 1), sizeof(struct ArrowArray));
  if (!refs) return set_outcome(o, ENOMEM, "out of memory");
  int rc = otap_schema_deep_copy(schema, &copy, &err);
  for (int64_t i = 0; rc == 0 && i < n; i++) rc = otap_array_ref(&arrays[i], &refs[i], &err);
  if (rc == 0) rc = otap_array_stream_init(&s, &copy, refs, n, &err);
  if (rc == 0) rc = otap_sink_init_buffer(&sink, buf, &err);
  struct otap_ipc_write_options opts;
  otap_ipc_write_options_init(&opts);
  opts.compression = comp;
  if (rc == 0) rc = otap_ipc_write_array_stream(&s, &sink, format, &opts, &err);
  if (s.release) s.release(&s);
  otap_sink_release(&sink);
  for (int64_t i = 0; i < n; i++) otap_array_release(&refs[i]);
  free(refs);
  otap_schema_release(&copy);
  if (rc != 0) {
    return set_outcome(o, rc, "%s: write_array_stream: %s (%s)", what, err.message,
                       otap_errno_name(rc));
  }
  return 0;
}

static const enum otap_ipc_compression kCodecs[] = {
    OTAP_IPC_COMPRESSION_NONE, OTAP_IPC_COMPRESSION_LZ4_FRAME, OTAP_IPC_COMPRESSION_ZSTD};

// Writes (stream and file, every codec), reads back with the matching reader, compares.
static int roundtrip(const struct otap_test_integration* exp, const struct ArrowSchema* schema,
                     const struct ArrowArray* arrays, int64_t n, struct outcome* o,
                     const char* source, int* count) {
  for (int f = 0; f < 2; f++) {
    enum otap_ipc_format fmt = f == 0 ? OTAP_IPC_FORMAT_STREAM : OTAP_IPC_FORMAT_FILE;
    for (size_t k = 0; k < sizeof(kCodecs) / sizeof(kCodecs[0]); k++) {
      char what[200];
      snprintf(what, sizeof(what), "%s -> otap %s writer (%s)", source,
               f == 0 ? "stream" : "file", otap_ipc_compression_name(kCodecs[k]));
      struct otap_buffer buf;
      otap_buffer_init(&buf);
      struct batches back;
      memset(&back, 0, sizeof(back));
      // The LZ4 outputs go through otap_ipc_write_array_stream, the others through a writer.
      int rc = kCodecs[k] == OTAP_IPC_COMPRESSION_LZ4_FRAME
                   ? write_ipc_via_array_stream(schema, arrays, n, fmt, kCodecs[k], &buf, o, what)
                   : write_ipc(schema, arrays, n, fmt, kCodecs[k], &buf, o, what);
      if (rc == 0) {
        rc = f == 0 ? read_memory_reader(buf.data, (size_t)buf.size, &back, o, what)
                    : read_file_reader(buf.data, (size_t)buf.size, &back, o, what);
      }
      if (rc == 0) rc = compare_with(exp, &back, o, what);
      batches_reset(&back);
      otap_buffer_reset(&buf);
      if (rc != 0) return rc;
      (*count)++;
    }
  }
  return 0;
}


// Sliced batches (struct offset != 0, children untouched) written by otap and read back must
// equal the slices: the writer has to push the parent offset down to every buffer and child.
static int sliced_roundtrip(const struct otap_test_integration* exp, struct outcome* o,
                            int* count) {
  struct otap_test_integration sl;
  memset(&sl, 0, sizeof(sl));
  sl.schema = exp->schema;  // borrowed, never released here
  sl.batches = calloc((size_t)(exp->n_batches ? exp->n_batches : 1), sizeof(struct ArrowArray));
  if (!sl.batches) return set_outcome(o, ENOMEM, "out of memory");
  int rc = 0;
  for (int64_t i = 0; i < exp->n_batches && rc == 0; i++) {
    const struct ArrowArray* b = &exp->batches[i];
    struct otap_error err;
    int64_t off = b->length >= 3 ? 1 : 0, len = b->length >= 3 ? b->length - 2 : b->length;
    rc = otap_array_slice(b, off, len, &sl.batches[sl.n_batches], &err);
    if (rc != 0) {
      set_outcome(o, rc, "slice of batch %lld: %s", (long long)i, err.message);
      break;
    }
    sl.n_batches++;
  }
  for (int f = 0; f < 2 && rc == 0; f++) {
    enum otap_ipc_format fmt = f == 0 ? OTAP_IPC_FORMAT_STREAM : OTAP_IPC_FORMAT_FILE;
    enum otap_ipc_compression comp = f == 0 ? OTAP_IPC_COMPRESSION_NONE : OTAP_IPC_COMPRESSION_ZSTD;
    char what[160];
    snprintf(what, sizeof(what), "JSON sliced [1, n-1) -> otap %s writer (%s)",
             f == 0 ? "stream" : "file", otap_ipc_compression_name(comp));
    struct otap_buffer buf;
    otap_buffer_init(&buf);
    struct batches back;
    memset(&back, 0, sizeof(back));
    rc = write_ipc(&sl.schema, sl.batches, sl.n_batches, fmt, comp, &buf, o, what);
    if (rc == 0) {
      rc = f == 0 ? read_memory_reader(buf.data, (size_t)buf.size, &back, o, what)
                  : read_file_reader(buf.data, (size_t)buf.size, &back, o, what);
    }
    if (rc == 0) rc = compare_with(&sl, &back, o, what);
    if (rc == 0) (*count)++;
    batches_reset(&back);
    otap_buffer_reset(&buf);
  }
  for (int64_t i = 0; i < sl.n_batches; i++) otap_array_release(&sl.batches[i]);
  free(sl.batches);
  return rc;
}


// Foreign arrays: the same batches behind release callbacks that are not otap's (as a
// DuckDB or nanoarrow producer would hand them over; memory from the C library's malloc).
struct foreign_node {
  struct ArrowArray original;  // root only: the moved-in array that owns the buffers
  struct ArrowArray** child_ptrs;
  struct ArrowArray* children;
  struct ArrowArray* dictionary;
};

static void foreign_release(struct ArrowArray* a) {
  struct foreign_node* p = a->private_data;
  for (int64_t i = 0; p->children && i < a->n_children; i++) {
    if (p->children[i].release) p->children[i].release(&p->children[i]);
  }
  free(p->children);
  free(p->child_ptrs);
  if (p->dictionary) {
    if (p->dictionary->release) p->dictionary->release(p->dictionary);
    free(p->dictionary);
  }
  if (p->original.release) p->original.release(&p->original);
  free(p);
  a->release = NULL;
  a->private_data = NULL;
}

static int foreign_wrap(const struct ArrowArray* src, struct ArrowArray* out,
                        struct foreign_node* p) {
  *out = *src;
  out->private_data = p;
  out->release = foreign_release;
  out->children = NULL;
  out->dictionary = NULL;
  if (src->n_children > 0) {
    p->children = calloc((size_t)src->n_children, sizeof(struct ArrowArray));
    p->child_ptrs = calloc((size_t)src->n_children, sizeof(struct ArrowArray*));
    if (!p->children || !p->child_ptrs) return ENOMEM;
    for (int64_t i = 0; i < src->n_children; i++) {
      struct foreign_node* cp = calloc(1, sizeof(*cp));
      if (!cp) return ENOMEM;
      p->child_ptrs[i] = &p->children[i];
      int rc = foreign_wrap(src->children[i], &p->children[i], cp);
      if (rc != 0) return rc;
    }
    out->children = p->child_ptrs;
  }
  if (src->dictionary) {
    struct foreign_node* dp = calloc(1, sizeof(*dp));
    p->dictionary = calloc(1, sizeof(struct ArrowArray));
    if (!dp || !p->dictionary) {
      free(dp);
      return ENOMEM;
    }
    int rc = foreign_wrap(src->dictionary, p->dictionary, dp);
    if (rc != 0) return rc;
    out->dictionary = p->dictionary;
  }
  return 0;
}

// Moves `*in` into a foreign array tree `out`.
static int make_foreign(struct ArrowArray* in, struct ArrowArray* out) {
  struct foreign_node* p = calloc(1, sizeof(*p));
  if (!p) return ENOMEM;
  otap_array_move(in, &p->original);
  int rc = foreign_wrap(&p->original, out, p);
  if (rc != 0) {
    if (out->release) out->release(out);
  }
  return rc;
}

static int foreign_roundtrip(const struct otap_test_integration* exp, struct outcome* o,
                             int* count) {
  struct ArrowArray* arrays = calloc((size_t)(exp->n_batches ? exp->n_batches : 1),
                                     sizeof(struct ArrowArray));
  if (!arrays) return set_outcome(o, ENOMEM, "out of memory");
  int64_t n = 0;
  int rc = 0;
  for (int64_t i = 0; i < exp->n_batches && rc == 0; i++) {
    struct ArrowArray ref;
    struct otap_error err;
    rc = otap_array_ref(&exp->batches[i], &ref, &err);
    if (rc != 0) {
      set_outcome(o, rc, "array ref: %s", err.message);
      break;
    }
    rc = make_foreign(&ref, &arrays[n]);
    if (rc != 0) {
      set_outcome(o, rc, "foreign wrapper: out of memory");
      break;
    }
    n++;
  }
  for (int f = 0; f < 2 && rc == 0; f++) {
    enum otap_ipc_format fmt = f == 0 ? OTAP_IPC_FORMAT_STREAM : OTAP_IPC_FORMAT_FILE;
    const char* what = f == 0 ? "JSON as foreign arrays -> otap stream writer (lz4)"
                              : "JSON as foreign arrays -> otap file writer (none)";
    struct otap_buffer buf;
    otap_buffer_init(&buf);
    struct batches back;
    memset(&back, 0, sizeof(back));
    rc = write_ipc(&exp->schema, arrays, n, fmt,
                   f == 0 ? OTAP_IPC_COMPRESSION_LZ4_FRAME : OTAP_IPC_COMPRESSION_NONE, &buf, o,
                   what);
    if (rc == 0) {
      rc = f == 0 ? read_memory_reader(buf.data, (size_t)buf.size, &back, o, what)
                  : read_file_reader(buf.data, (size_t)buf.size, &back, o, what);
    }
    if (rc == 0) rc = compare_with(exp, &back, o, what);
    if (rc == 0) (*count)++;
    batches_reset(&back);
    otap_buffer_reset(&buf);
  }
  for (int64_t i = 0; i < n; i++) {
    if (arrays[i].release) arrays[i].release(&arrays[i]);
  }
  free(arrays);
  return rc;
}

// ---------------------------------------------------------------------------------------------
// One gold file

enum expectation { EXPECT_READ, EXPECT_READ_OPT };

// True when the schema uses a type the foundation allows to be unsupported (ENOTSUP): unions,
// run-end encoded and view types.
static bool uses_optional_type(const struct ArrowSchema* s) {
  const char* f = s->format ? s->format : "";
  if (strncmp(f, "+u", 2) == 0 || strcmp(f, "+r") == 0 || strcmp(f, "vu") == 0 ||
      strcmp(f, "vz") == 0 || strcmp(f, "+vl") == 0 || strcmp(f, "+vL") == 0) {
    return true;
  }
  for (int64_t i = 0; i < s->n_children; i++) {
    if (uses_optional_type(s->children[i])) return true;
  }
  return s->dictionary && uses_optional_type(s->dictionary);
}

struct tally {
  int passed, failed, enotsup;
};

static int read_whole(const char* path, struct otap_buffer* buf, struct outcome* o) {
  struct otap_error err;
  int rc = otap_read_file(path, buf, &err);
  if (rc != 0) set_outcome(o, rc, "%s", err.message);
  return rc;
}

// Reads + compares + rewrites one twin (stream or file). Returns rc; *rewrites counts checks.
static int check_twin(const struct otap_test_integration* exp, const char* path, bool is_file,
                      struct outcome* o, int* checks) {
  struct otap_buffer data;
  otap_buffer_init(&data);
  struct batches got, got2;
  memset(&got, 0, sizeof(got));
  memset(&got2, 0, sizeof(got2));
  const char* base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
  char what[300];
  int rc = read_whole(path, &data, o);
  if (rc != 0) goto done;
  if (is_file) {
    snprintf(what, sizeof(what), "%s (file reader)", base);
    rc = read_file_reader(data.data, (size_t)data.size, &got, o, what);
    if (rc == 0) rc = compare_with(exp, &got, o, what);
    if (rc != 0) goto done;
    (*checks)++;
    snprintf(what, sizeof(what), "%s (memory reader)", base);
    rc = read_memory_reader(data.data, (size_t)data.size, &got2, o, what);
    if (rc == 0) rc = compare_with(exp, &got2, o, what);
    if (rc != 0) goto done;
    (*checks)++;
    batches_reset(&got2);
    snprintf(what, sizeof(what), "%s (source reader over the file)", base);
    rc = read_source_reader(path, &got2, o, what);
    if (rc == 0) rc = compare_with(exp, &got2, o, what);
  } else {
    snprintf(what, sizeof(what), "%s (memory reader)", base);
    rc = read_memory_reader(data.data, (size_t)data.size, &got, o, what);
    if (rc == 0) rc = compare_with(exp, &got, o, what);
    if (rc != 0) goto done;
    (*checks)++;
    snprintf(what, sizeof(what), "%s (push decoder)", base);
    rc = read_push_decoder(data.data, (size_t)data.size, 7, &got2, o, what);
    if (rc == 0) rc = compare_with(exp, &got2, o, what);
    if (rc != 0) goto done;
    (*checks)++;
    batches_reset(&got2);
    snprintf(what, sizeof(what), "%s (push decoder, random pieces)", base);
    rc = read_push_decoder(data.data, (size_t)data.size, 0, &got2, o, what);
    if (rc == 0) rc = compare_with(exp, &got2, o, what);
    if (rc != 0) goto done;
    (*checks)++;
    batches_reset(&got2);
    snprintf(what, sizeof(what), "%s (fd reader)", base);
    rc = read_fd_reader(path, &got2, o, what);
    if (rc == 0) rc = compare_with(exp, &got2, o, what);
  }
  if (rc != 0) goto done;
  (*checks)++;
  rc = roundtrip(exp, &got.schema, got.arrays, got.n, o, base, checks);
done:
  batches_reset(&got);
  batches_reset(&got2);
  otap_buffer_reset(&data);
  return rc;
}

static void check_gold(const char* dir, const char* name, enum expectation expect,
                       struct tally* t) {
  char json_path[1024], stream_path[1024], file_path[1024], label[300];
  PATHF(json_path, "%s/%s.json.gz", dir, name);
  PATHF(stream_path, "%s/%s.stream", dir, name);
  PATHF(file_path, "%s/%s.arrow_file", dir, name);
  const char* version = strrchr(dir, '/') ? strrchr(dir, '/') + 1 : dir;
  PATHF(label, "%s/%s", version, name);

  struct otap_test_integration exp;
  struct otap_error err;
  int checks = 0;
  int rc = otap_test_integration_load_file(json_path, &exp, &err);
  if (rc != 0) {
    printf("FAIL  %-48s cannot load expected JSON: %s\n", label, err.message);
    t->failed++;
    return;
  }
  bool optional_type = uses_optional_type(&exp.schema);
  bool allowed = expect == EXPECT_READ_OPT || optional_type;
  // Five independent steps; each passes, or fails with ENOTSUP where that is allowed.
  struct outcome outs[5];
  const char* steps[5] = {"stream", "file", "JSON->IPC", "sliced JSON->IPC", "foreign JSON->IPC"};
  int rcs[5];
  for (int k = 0; k < 5; k++) {
    outs[k].rc = 0;
    outs[k].msg[0] = 0;
  }
  rcs[0] = check_twin(&exp, stream_path, false, &outs[0], &checks);
  rcs[1] = check_twin(&exp, file_path, true, &outs[1], &checks);
  rcs[2] = roundtrip(&exp, &exp.schema, exp.batches, exp.n_batches, &outs[2], "JSON", &checks);
  rcs[3] = rcs[2] == 0 ? sliced_roundtrip(&exp, &outs[3], &checks) : 0;
  rcs[4] = rcs[2] == 0 ? foreign_roundtrip(&exp, &outs[4], &checks) : 0;
  const char* kind = expect == EXPECT_READ_OPT ? "READ-OPT" : "READ";
  int failed_step = -1, enotsup_step = -1;
  for (int k = 0; k < 5; k++) {
    if (rcs[k] == 0) continue;
    if (rcs[k] == ENOTSUP && allowed) {
      if (enotsup_step < 0) enotsup_step = k;
    } else if (failed_step < 0) {
      failed_step = k;
    }
  }
  if (failed_step >= 0) {
    printf("FAIL  %-48s %s: %s: %s\n", label, kind, steps[failed_step], outs[failed_step].msg);
    t->failed++;
  } else if (enotsup_step < 0) {
    printf("PASS  %-48s %s: stream+file read equal to JSON; %d checks incl. rewrites "
           "(stream/file x none/lz4/zstd), JSON->IPC (plain, sliced, foreign arrays) round trips\n",
           label, kind, checks);
    t->passed++;
  } else {
    printf("PASS  %-48s %s: %d checks passed; unsupported (ENOTSUP, allowed for this %s):",
           label, kind, checks, expect == EXPECT_READ_OPT ? "file" : "type");
    for (int k = 0; k < 5; k++) {
      if (rcs[k] == ENOTSUP) printf(" [%s] %s", steps[k], outs[k].msg);
    }
    printf("\n");
    t->passed++;
    t->enotsup++;
  }
  fflush(stdout);
  otap_test_integration_reset(&exp);
}

static int cmp_str(const void* a, const void* b) {
  return strcmp(*(const char* const*)a, *(const char* const*)b);
}

static void test_gold_files(void** state) {
  (void)state;
  struct tally t = {0, 0, 0};
  char root[1024];
  PATHF(root, "%s", otap_test_data_path(GOLD_DIR));
  DIR* d = opendir(root);
  if (!d) fail_msg("cannot open %s", root);
  char* versions[64];
  int nv = 0;
  struct dirent* e;
  while ((e = readdir(d)) != NULL && nv < 64) {
    if (e->d_name[0] == '.') continue;
    versions[nv++] = strdup(e->d_name);
  }
  closedir(d);
  qsort(versions, (size_t)nv, sizeof(char*), cmp_str);
  int files = 0;
  for (int v = 0; v < nv; v++) {
    char dir[1200];
    PATHF(dir, "%s/%s", root, versions[v]);
    enum expectation expect = (strcmp(versions[v], "0.14.1") == 0 ||
                               strcmp(versions[v], "1.0.0-bigendian") == 0)
                                  ? EXPECT_READ_OPT
                                  : EXPECT_READ;
    DIR* vd = opendir(dir);
    if (!vd) continue;
    char* names[256];
    int nn = 0;
    while ((e = readdir(vd)) != NULL && nn < 256) {
      size_t len = strlen(e->d_name);
      if (len > 8 && strcmp(e->d_name + len - 8, ".json.gz") == 0) {
        names[nn++] = strndup(e->d_name, len - 8);
      }
    }
    closedir(vd);
    qsort(names, (size_t)nn, sizeof(char*), cmp_str);
    for (int k = 0; k < nn; k++) {
      check_gold(dir, names[k], expect, &t);
      files++;
      free(names[k]);
    }
    free(versions[v]);
  }
  printf("IPC conformance: %d passed, %d failed (%d of the passes are clean ENOTSUP for "
         "optional features)\n",
         t.passed, t.failed, t.enotsup);
  fflush(stdout);
  assert_true(files >= 38);  // the corpus has 38 gold files
  assert_int_equal(t.failed, 0);
}

// forward-compatibility/schema_v6.arrow: a Schema message with MetadataVersion V6 must be
// rejected cleanly by every reader entry point.
static void test_reject_future_version(void** state) {
  (void)state;
  struct otap_buffer data;
  otap_buffer_init(&data);
  struct outcome o = {0, ""};
  const char* path = otap_test_data_path("arrow-testing/data/forward-compatibility/schema_v6.arrow");
  assert_int_equal(read_whole(path, &data, &o), 0);
  struct batches b;
  memset(&b, 0, sizeof(b));
  int rc = read_memory_reader(data.data, (size_t)data.size, &b, &o, "schema_v6.arrow");
  batches_reset(&b);
  printf("REJECT schema_v6.arrow (memory reader): %s\n", o.msg);
  assert_true(rc == EINVAL || rc == ENOTSUP);
  assert_true(strlen(o.msg) > 0);
  rc = read_push_decoder(data.data, (size_t)data.size, 1, &b, &o, "schema_v6.arrow");
  batches_reset(&b);
  printf("REJECT schema_v6.arrow (push decoder): %s\n", o.msg);
  assert_true(rc == EINVAL || rc == ENOTSUP);
  struct ArrowSchema s;
  struct otap_error err;
  rc = otap_ipc_schema_decode(data.data, (size_t)data.size, &s, &err);
  if (rc == 0) otap_schema_release(&s);
  assert_true(rc == EINVAL || rc == ENOTSUP);
  otap_buffer_reset(&data);
}

// A gold stream read through an fd-backed reader (pipe-like sequential path) equals its JSON.
static void test_fd_reader(void** state) {
  (void)state;
  char json_path[1024], stream_path[1024];
  PATHF(json_path, "%s",
           otap_test_data_path(GOLD_DIR "/cpp-21.0.0/generated_dictionary.json.gz"));
  PATHF(stream_path, "%s",
           otap_test_data_path(GOLD_DIR "/cpp-21.0.0/generated_dictionary.stream"));
  struct otap_test_integration exp;
  struct otap_error err;
  if (otap_test_integration_load_file(json_path, &exp, &err) != 0) fail_msg("%s", err.message);
  FILE* f = fopen(stream_path, "rb");
  assert_non_null(f);
  struct ArrowArrayStream s;
  int rc = otap_ipc_reader_open_fd(&s, fileno(f), false, NULL, &err);
  if (rc != 0) fail_msg("open_fd: %s", err.message);
  struct batches b;
  memset(&b, 0, sizeof(b));
  struct outcome o = {0, ""};
  rc = drain_stream(&s, &b, &o, "fd reader");
  if (rc == 0) rc = compare_with(&exp, &b, &o, "fd reader");
  fclose(f);
  batches_reset(&b);
  otap_test_integration_reset(&exp);
  if (rc != 0) fail_msg("%s", o.msg);
}

// Damaged gold files: truncations and single-byte corruptions never crash, leak or misread.
// A truncated input either fails cleanly or (a stream cut at a message boundary) yields a
// prefix of the expected batches, each equal to its JSON; a corrupted one fails with a message
// or yields arrays that pass validation (they are walked by the comparison).
static int g_prefix_reads, g_clean_errors, g_corrupt_reads;

static int damaged_twin(const struct otap_test_integration* exp, const char* path,
                        uint64_t* seed) {
  struct otap_buffer data, copy;
  otap_buffer_init(&data);
  otap_buffer_init(&copy);
  struct outcome o = {0, ""};
  int bad = 0;
  if (read_whole(path, &data, &o) != 0) return 1;
  if (otap_buffer_resize(&copy, data.size, false) != 0) return 1;
  const char* base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
  // Cut points: 18 spread over the input, plus every message boundary of a stream (where a
  // stream without its end-of-stream marker is still valid).
  size_t cuts[18 + 64];
  int n_cuts = 0;
  for (int k = 1; k <= 18; k++) {
    cuts[n_cuts++] = k == 18 ? (size_t)data.size - 1 : (size_t)(data.size * k / 18);
  }
  if (data.size >= 6 && memcmp(data.data, "ARROW1", 6) != 0) {
    struct otap_ipc_decoder* dec = NULL;
    struct otap_error err;
    if (otap_ipc_decoder_new(&dec, NULL, &err) == 0 &&
        otap_ipc_decoder_push(dec, data.data, (size_t)data.size, &err) == 0) {
      for (;;) {
        enum otap_ipc_event ev;
        struct ArrowArray a;
        memset(&a, 0, sizeof(a));
        if (otap_ipc_decoder_pull(dec, &ev, &a, &err) != 0) break;
        otap_array_release(&a);
        if (ev == OTAP_IPC_EVENT_NEED_MORE || ev == OTAP_IPC_EVENT_END) break;
        if (ev != OTAP_IPC_EVENT_SCHEMA && n_cuts < 18 + 64) {
          cuts[n_cuts++] = (size_t)otap_ipc_decoder_offset(dec);
        }
      }
    }
    otap_ipc_decoder_free(dec);
  }
  for (int k = 0; k < n_cuts; k++) {
    size_t cut = cuts[k];
    struct batches b;
    memset(&b, 0, sizeof(b));
    int rc = read_memory_reader(data.data, cut, &b, &o, base);
    if (rc == 0) {
      struct otap_test_diff diff;
      bool ok = b.n <= exp->n_batches &&
                otap_test_schema_equal(&exp->schema, &b.schema, NULL, &diff);
      for (int64_t i = 0; ok && i < b.n; i++) {
        ok = otap_test_array_equal(&exp->schema, &exp->batches[i], &b.schema, &b.arrays[i], NULL,
                                   &diff);
      }
      if (!ok) {
        printf("MISREAD %s truncated to %zu bytes: %s\n", base, cut, diff.message);
        bad++;
      }
      g_prefix_reads++;
    } else if (strlen(o.msg) == 0) {
      printf("NO MESSAGE %s truncated to %zu bytes (rc %d)\n", base, cut, rc);
      bad++;
    } else {
      g_clean_errors++;
    }
    batches_reset(&b);
  }
  for (int k = 0; k < 24; k++) {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    memcpy(copy.data, data.data, (size_t)data.size);
    size_t at = (size_t)(*seed % (uint64_t)data.size);
    copy.data[at] ^= (uint8_t)(1u << ((*seed >> 32) % 8)) | (uint8_t)((*seed >> 40) & 0xF0);
    struct batches b;
    memset(&b, 0, sizeof(b));
    int rc = read_memory_reader(copy.data, (size_t)copy.size, &b, &o, base);
    if (rc == 0) {
      struct otap_test_diff diff;
      for (int64_t i = 0; i < b.n && i < exp->n_batches; i++) {
        (void)otap_test_array_equal(&exp->schema, &exp->batches[i], &b.schema, &b.arrays[i],
                                    NULL, &diff);
      }
      g_corrupt_reads++;
    } else if (strlen(o.msg) == 0) {
      printf("NO MESSAGE %s with byte %zu corrupted (rc %d)\n", base, at, rc);
      bad++;
    } else {
      g_clean_errors++;
    }
    batches_reset(&b);
  }
  otap_buffer_reset(&copy);
  otap_buffer_reset(&data);
  return bad;
}

static void test_damaged_gold_files(void** state) {
  (void)state;
  static const char* kFiles[] = {
      "cpp-21.0.0/generated_primitive", "cpp-21.0.0/generated_dictionary",
      "cpp-21.0.0/generated_nested", "cpp-21.0.0/generated_map",
      "cpp-21.0.0/generated_binary_view", "cpp-21.0.0/generated_union",
      "cpp-21.0.0/generated_run_end_encoded", "cpp-21.0.0/generated_nested_dictionary",
      "cpp-21.0.0/generated_decimal256", "cpp-21.0.0/generated_list_view",
      "2.0.0-compression/generated_lz4", "2.0.0-compression/generated_uncompressible_zstd",
      "4.0.0-shareddict/generated_shared_dict", "0.14.1/generated_primitive",
  };
  uint64_t seed = 0x2545F4914F6CDD1Dull;
  int bad = 0;
  for (size_t i = 0; i < sizeof(kFiles) / sizeof(kFiles[0]); i++) {
    char rel[512], path[1024];
    struct otap_test_integration exp;
    struct otap_error err;
    PATHF(rel, GOLD_DIR "/%s.json.gz", kFiles[i]);
    if (otap_test_integration_load_file(otap_test_data_path(rel), &exp, &err) != 0) {
      fail_msg("%s", err.message);
    }
    PATHF(rel, GOLD_DIR "/%s.stream", kFiles[i]);
    PATHF(path, "%s", otap_test_data_path(rel));
    bad += damaged_twin(&exp, path, &seed);
    PATHF(rel, GOLD_DIR "/%s.arrow_file", kFiles[i]);
    PATHF(path, "%s", otap_test_data_path(rel));
    bad += damaged_twin(&exp, path, &seed);
    otap_test_integration_reset(&exp);
  }
  printf("damaged gold files: %d problems; %d truncations read as a correct prefix, %d "
         "corruptions read (data bytes), %d clean errors\n",
         bad, g_prefix_reads, g_corrupt_reads, g_clean_errors);
  assert_int_equal(bad, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_gold_files),
      cmocka_unit_test(test_reject_future_version),
      cmocka_unit_test(test_fd_reader),
      cmocka_unit_test(test_damaged_gold_files),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
