// OTAP records files: varint-length-delimited BatchArrowRecords messages; one Arrow IPC stream
// per payload type, continued across messages and restarted on a new schema_id (spec 4.4).
#include <stdio.h>
#include <string.h>

#include "logs/logs_internal.h"
#include "otap/ipc.h"

// ---------------------------------------------------------------------------------------------
// Reader

struct type_stream {
  struct otap_ipc_decoder* dec;
  char* schema_id;  // NUL-terminated copy
  int64_t schema_id_len;
  int64_t pushed;  // bytes pushed into dec
  int64_t last_used;
};

// IPC streams kept per payload type: spec 4.4 identifies a stream by (type, schema_id), so a
// producer may come back to an earlier schema_id. The least recently used is dropped past this.
#define MAX_STREAMS_PER_TYPE 16

struct otap_records_reader {
  struct otap_records_reader_options o;
  struct otap_source file;   // mapped file when opened from a path (else unset)
  struct otap_buffer owned;  // file contents when the file could not be mapped
  const uint8_t* data;
  int64_t size, pos, index;
  int64_t batch_id;
  char* name;
  struct type_stream streams[OTAP_LOGS_N_TABLES][MAX_STREAMS_PER_TYPE];
  int64_t clock;
};

void otap_records_reader_options_init(struct otap_records_reader_options* o) {
  memset(o, 0, sizeof(*o));
  o->decode_ids = true;
  o->validate = true;
  o->max_message_size = OTAP_BAR_MAX_MESSAGE_SIZE;
}

static int reader_new(struct otap_records_reader** out, const char* name,
                      const struct otap_records_reader_options* options, struct otap_error* err) {
  struct otap_records_reader* r = otap_calloc(1, sizeof(*r));
  if (!r) return otap_error_set(err, ENOMEM, "out of memory opening %s", name);
  if (options) {
    r->o = *options;
  } else {
    otap_records_reader_options_init(&r->o);
  }
  if (r->o.max_message_size <= 0 || r->o.max_message_size > OTAP_BAR_MAX_MESSAGE_SIZE)
    r->o.max_message_size = OTAP_BAR_MAX_MESSAGE_SIZE;
  r->name = otap_strdup(name ? name : "<memory>");
  if (!r->name) {
    otap_free(r);
    return otap_error_set(err, ENOMEM, "out of memory opening %s", name);
  }
  *out = r;
  return 0;
}

int otap_records_reader_open_memory(struct otap_records_reader** out, const void* data,
                                    int64_t size, const char* name,
                                    const struct otap_records_reader_options* options,
                                    struct otap_error* err) {
  *out = NULL;
  OTAP_RETURN_NOT_OK(reader_new(out, name, options, err));
  (*out)->data = data;
  (*out)->size = size;
  return 0;
}

int otap_records_reader_open_file(struct otap_records_reader** out, const char* path,
                                  const struct otap_records_reader_options* options,
                                  struct otap_error* err) {
  *out = NULL;
  struct otap_records_reader* r = NULL;
  OTAP_RETURN_NOT_OK(reader_new(&r, path, options, err));
  // Mapped when possible: each record is copied once anyway (read_table), so reading the
  // whole file into memory first would copy every byte twice. Anything that cannot be mapped
  // (stdin as "-", a pipe, an empty file) is read instead, which also gives the error for a
  // path that cannot be opened.
  struct otap_error ignored;
  uint64_t size = 0;
  const uint8_t* mapped = NULL;
  int rc = 0;
  if (strcmp(path, "-") != 0 && otap_source_open_file(&r->file, path, &ignored) == 0 &&
      r->file.size(&r->file, &size, &ignored) == 0 && size > 0 && r->file.view_at &&
      r->file.view_at(&r->file, 0, (size_t)size, &mapped, &ignored) == 0) {
    r->data = mapped;
    r->size = (int64_t)size;
  } else {
    otap_source_release(&r->file);
    memset(&r->file, 0, sizeof(r->file));
    rc = otap_read_file(path, &r->owned, err);
    r->data = r->owned.data;
    r->size = r->owned.size;
  }
  if (rc) {
    otap_records_reader_free(r);
    return rc;
  }
  *out = r;
  return 0;
}

void otap_records_reader_free(struct otap_records_reader* r) {
  if (!r) return;
  for (int t = 0; t < OTAP_LOGS_N_TABLES; t++) {
    for (int k = 0; k < MAX_STREAMS_PER_TYPE; k++) {
      otap_ipc_decoder_free(r->streams[t][k].dec);
      otap_free(r->streams[t][k].schema_id);
    }
  }
  otap_buffer_reset(&r->owned);
  otap_source_release(&r->file);
  otap_free(r->name);
  otap_free(r);
}

int64_t otap_records_reader_batch_id(const struct otap_records_reader* r) { return r->batch_id; }
int64_t otap_records_reader_offset(const struct otap_records_reader* r) { return r->pos; }

// Feeds one ArrowPayload's record bytes into the stream of its type and collects the batch.
static int read_table(struct otap_records_reader* r, const struct otap_arrow_payload_msg* pm,
                      int t, int64_t record_offset, struct otap_logs_payload* out,
                      struct otap_error* err) {
  const char* tname = otap_logs_table_name((enum otap_logs_table)t);
  // The stream of this (type, schema_id), else a free or the least recently used slot.
  struct type_stream* st = NULL;
  for (int k = 0; k < MAX_STREAMS_PER_TYPE && !st; k++) {
    struct type_stream* c = &r->streams[t][k];
    if (c->dec && c->schema_id_len == pm->schema_id_len &&
        memcmp(c->schema_id, pm->schema_id, (size_t)pm->schema_id_len) == 0) {
      st = c;
    }
  }
  bool reset = st == NULL;
  if (!st) {
    st = &r->streams[t][0];
    for (int k = 0; k < MAX_STREAMS_PER_TYPE; k++) {
      struct type_stream* c = &r->streams[t][k];
      if (!c->dec) {
        st = c;
        break;
      }
      if (c->last_used < st->last_used) st = c;
    }
  }
  st->last_used = ++r->clock;
  if (reset) {
    otap_ipc_decoder_free(st->dec);
    st->dec = NULL;
    otap_free(st->schema_id);
    st->schema_id = otap_strndup(pm->schema_id, (size_t)pm->schema_id_len);
    st->schema_id_len = pm->schema_id_len;
    if (!st->schema_id) return otap_error_set(err, ENOMEM, "out of memory");
    struct otap_ipc_read_options ro;
    otap_ipc_read_options_init(&ro);
    OTAP_RETURN_NOT_OK(otap_ipc_decoder_new(&st->dec, &ro, err));
    st->pushed = 0;
  }
  // The record bytes are copied once into a block of their own that the decoded arrays share
  // (zero-copy from there: IPC messages start 8-byte aligned within the record, which the
  // file's protobuf framing does not give), so the file can be freed after reading.
  int rc = 0;
  if (pm->record_len > 0) {
    uint8_t* copy = otap_malloc((size_t)pm->record_len);
    struct otap_shared* sh = NULL;
    if (!copy || otap_shared_new(&sh, copy, pm->record_len, NULL, NULL) != 0) {
      otap_free(copy);
      return otap_error_set(err, ENOMEM, "out of memory reading a %s payload", tname);
    }
    memcpy(copy, pm->record, (size_t)pm->record_len);
    rc = otap_ipc_decoder_push_shared(st->dec, sh, copy, (size_t)pm->record_len, err);
    otap_shared_unref(sh);
  }
  st->pushed += pm->record_len;
  struct ArrowArray batches[2];
  int64_t n_batches = 0;
  bool ended = false;
  memset(batches, 0, sizeof(batches));
  while (!rc) {
    enum otap_ipc_event ev;
    struct ArrowArray a;
    memset(&a, 0, sizeof(a));
    rc = otap_ipc_decoder_pull(st->dec, &ev, &a, err);
    if (rc || ev == OTAP_IPC_EVENT_NEED_MORE) break;
    if (ev == OTAP_IPC_EVENT_END) {
      // The producer closed this stream: the next payload of this type must restart it.
      ended = true;
      break;
    }
    if (ev != OTAP_IPC_EVENT_BATCH) continue;
    if (n_batches == 2) {
      otap_array_release(&a);
      rc = otap_error_set(err, ENOTSUP, "%s payload holds more than two record batches", tname);
      break;
    }
    otap_array_move(&a, &batches[n_batches++]);
  }
  if (!rc && !ended && otap_ipc_decoder_offset(st->dec) != st->pushed) {
    rc = otap_error_set(err, EINVAL,
                        "%s record bytes end inside an Arrow IPC message (stream offset %lld)",
                        tname, (long long)otap_ipc_decoder_offset(st->dec));
  }
  struct ArrowSchema schema;
  memset(&schema, 0, sizeof(schema));
  if (!rc && n_batches > 0) {
    const struct ArrowSchema* s = otap_ipc_decoder_schema(st->dec);
    if (!s) {
      rc = otap_error_set(err, EINVAL, "%s payload has no schema", tname);
    } else {
      rc = otap_schema_deep_copy(s, &schema, err);
    }
  }
  if (ended || rc) {
    otap_ipc_decoder_free(st->dec);
    st->dec = NULL;
  }
  if (!rc && n_batches == 2) {
    struct ArrowArray merged;
    const struct ArrowArray* in[2] = {&batches[0], &batches[1]};
    memset(&merged, 0, sizeof(merged));
    rc = otap_array_concat(&schema, in, 2, &merged, err);
    if (!rc) {
      otap_array_release(&batches[0]);
      otap_array_release(&batches[1]);
      otap_array_move(&merged, &batches[0]);
      n_batches = 1;
    }
  }
  if (!rc && n_batches == 1) {
    otap_logs_payload_set_table(out, (enum otap_logs_table)t, &schema, &batches[0]);
  }
  otap_schema_release(&schema);
  for (int k = 0; k < 2; k++) otap_array_release(&batches[k]);
  if (rc) {
    return otap_error_prefix(err, rc, "%s payload (record bytes at offset %lld): ", tname,
                             (long long)record_offset);
  }
  return 0;
}

int otap_records_reader_next(struct otap_records_reader* r, struct otap_logs_payload* out,
                             bool* eof, struct otap_error* err) {
  *eof = false;
  if (r->pos >= r->size) {
    *eof = true;
    return 0;
  }
  int64_t msg_off = r->pos, pos = r->pos;
  uint64_t len;
  int rc = otap_pb_read_varint(r->data, r->size, &pos, &len, err);
  if (rc) {
    return otap_error_set(err, EINVAL, "%s: message %lld: truncated length prefix at byte offset %lld",
                          r->name, (long long)r->index, (long long)msg_off);
  }
  if (len > (uint64_t)r->o.max_message_size) {
    return otap_error_set(err, EINVAL,
                          "%s: message %lld at byte offset %lld declares %llu bytes, over the cap "
                          "of %lld",
                          r->name, (long long)r->index, (long long)msg_off,
                          (unsigned long long)len, (long long)r->o.max_message_size);
  }
  if (len > (uint64_t)(r->size - pos)) {
    return otap_error_set(err, EINVAL,
                          "%s: message %lld at byte offset %lld declares %llu bytes but only %lld "
                          "remain",
                          r->name, (long long)r->index, (long long)msg_off,
                          (unsigned long long)len, (long long)(r->size - pos));
  }
  struct otap_bar_msg msg;
  rc = otap_bar_decode(r->data + pos, (int64_t)len, pos, &msg, err);
  if (rc) return otap_error_prefix(err, rc, "%s: message %lld: ", r->name, (long long)r->index);
  struct otap_logs_payload p;
  otap_logs_payload_init(&p);
  bool seen[OTAP_LOGS_N_TABLES] = {false, false, false, false};
  for (int64_t k = 0; k < msg.n_payloads && !rc; k++) {
    const struct otap_arrow_payload_msg* pm = &msg.payloads[k];
    int t = otap_logs_table_from_payload_type(pm->type);
    if (t < 0) {
      if (r->o.skip_unknown_types) continue;
      rc = otap_error_set(err, EINVAL, "payload %lld has type %d (%s), not a logs table", (long long)k,
                          pm->type, otap_payload_type_name(pm->type));
      break;
    }
    if (seen[t]) {
      rc = otap_error_set(err, EINVAL, "payload type %s appears twice", otap_logs_table_name((enum otap_logs_table)t));
      break;
    }
    seen[t] = true;
    rc = read_table(r, pm, t, pm->record - r->data, &p, err);
  }
  if (!rc && r->o.validate) {
    // The IPC decoder validated every array FULL already: the OTAP checks remain.
    struct otap_logs_validate_options vo;
    otap_logs_validate_options_init(&vo);
    vo.level = OTAP_VALIDATE_DEFAULT;
    rc = otap_logs_validate(&p, &vo, err);
  }
  if (!rc && r->o.decode_ids) rc = otap_logs_decode_ids(&p, err);
  int64_t batch_id = msg.batch_id;
  otap_bar_reset(&msg);
  if (rc) {
    otap_logs_payload_reset(&p);
    return otap_error_prefix(err, rc, "%s: message %lld at byte offset %lld: ", r->name,
                             (long long)r->index, (long long)msg_off);
  }
  r->pos = pos + (int64_t)len;
  r->index++;
  r->batch_id = batch_id;
  otap_logs_payload_move(&p, out);
  return 0;
}

// Plausible schema_id bytes: printable ASCII.
static bool printable(const uint8_t* p, int64_t n) {
  for (int64_t i = 0; i < n; i++) {
    if (p[i] < 0x20 || p[i] > 0x7e) return false;
  }
  return true;
}

bool otap_records_sniff(const uint8_t* data, int64_t size) {
  if (size < 8) return false;
  int64_t pos = 0;
  uint64_t len;
  if (otap_pb_read_varint(data, size, &pos, &len, NULL)) return false;
  if (len < 2 || len > (uint64_t)OTAP_BAR_MAX_MESSAGE_SIZE) return false;
  int64_t end = size - pos < (int64_t)len ? size : pos + (int64_t)len;
  bool truncated = end < pos + (int64_t)len;
  // Top-level fields up to the first arrow_payloads; its record must start an IPC stream. When
  // the bytes end first, the prefix must parse (a short head read by format detection).
  while (pos < end) {
    uint64_t key;
    if (otap_pb_read_varint(data, end, &pos, &key, NULL)) return truncated;
    uint64_t f = key >> 3, wt = key & 7;
    if (f == 1 && wt == 0) {
      uint64_t v;
      if (otap_pb_read_varint(data, end, &pos, &v, NULL)) return truncated;
    } else if ((f == 2 || f == 3) && wt == 2) {
      uint64_t l;
      if (otap_pb_read_varint(data, end, &pos, &l, NULL)) return truncated;
      if (!truncated && l > (uint64_t)(end - pos)) return false;
      if (f == 3) {
        if (l > (uint64_t)(end - pos)) return truncated;
        pos += (int64_t)l;
        continue;
      }
      // Inside the first ArrowPayload: schema_id (1), type (2), record (3).
      int64_t pend = pos + (int64_t)l < end ? pos + (int64_t)l : end;
      while (pos < pend) {
        uint64_t k2, l2;
        if (otap_pb_read_varint(data, pend, &pos, &k2, NULL)) return truncated;
        uint64_t f2 = k2 >> 3, w2 = k2 & 7;
        if (f2 == 2 && w2 == 0) {
          if (otap_pb_read_varint(data, pend, &pos, &l2, NULL)) return truncated;
          continue;
        }
        if ((f2 != 1 && f2 != 3) || w2 != 2) return false;
        if (otap_pb_read_varint(data, pend, &pos, &l2, NULL)) return truncated;
        int64_t avail = pend - pos < (int64_t)l2 ? pend - pos : (int64_t)l2;
        if (f2 == 3) {
          if (avail < 4) return truncated && avail == pend - pos &&
                                memcmp(data + pos, "\xff\xff\xff\xff", (size_t)avail) == 0;
          return data[pos] == 0xff && data[pos + 1] == 0xff && data[pos + 2] == 0xff &&
                 data[pos + 3] == 0xff;
        }
        if (!printable(data + pos, avail)) return false;
        if (avail < (int64_t)l2) return truncated;
        pos += (int64_t)l2;
      }
      return truncated;
    } else {
      return false;
    }
  }
  return truncated;
}

// ---------------------------------------------------------------------------------------------
// Writer

struct out_stream {
  struct ArrowSchema schema;  // schema of the open stream (release NULL when none)
  struct otap_ipc_writer* w;
  struct otap_buffer buf;  // bytes the IPC writer produced since the last message
  struct otap_sink sink;
  char schema_id[32];
  int64_t generation;
};

struct otap_records_writer {
  struct otap_records_writer_options o;
  struct otap_sink* sink;
  int64_t next_batch_id;
  int64_t n_schemas;
  struct out_stream streams[OTAP_LOGS_N_TABLES];
  struct otap_buffer msg, frame;
};

void otap_records_writer_options_init(struct otap_records_writer_options* o) {
  memset(o, 0, sizeof(*o));
}

int otap_records_writer_open(struct otap_records_writer** out, struct otap_sink* sink,
                             const struct otap_records_writer_options* options,
                             struct otap_error* err) {
  *out = NULL;
  struct otap_records_writer* w = otap_calloc(1, sizeof(*w));
  if (!w) return otap_error_set(err, ENOMEM, "out of memory opening a records writer");
  if (options) {
    w->o = *options;
  } else {
    otap_records_writer_options_init(&w->o);
  }
  w->sink = sink;
  w->next_batch_id = w->o.first_batch_id;
  *out = w;
  return 0;
}

static void stream_close(struct out_stream* s) {
  otap_ipc_writer_free(s->w);
  s->w = NULL;
  otap_sink_release(&s->sink);
  memset(&s->sink, 0, sizeof(s->sink));
  otap_schema_release(&s->schema);
  memset(&s->schema, 0, sizeof(s->schema));
}

void otap_records_writer_free(struct otap_records_writer* w) {
  if (!w) return;
  for (int t = 0; t < OTAP_LOGS_N_TABLES; t++) {
    stream_close(&w->streams[t]);
    otap_buffer_reset(&w->streams[t].buf);
  }
  otap_buffer_reset(&w->msg);
  otap_buffer_reset(&w->frame);
  otap_free(w);
}

// Writes one table into the IPC stream of its type; leaves the produced bytes in s->buf.
static int write_table(struct otap_records_writer* w, int t, const struct ArrowSchema* schema,
                       const struct ArrowArray* batch, struct otap_error* err) {
  struct out_stream* s = &w->streams[t];
  s->buf.size = 0;
  if (s->w && !otap_schema_equal(&s->schema, schema, true)) stream_close(s);
  if (!s->w) {
    OTAP_RETURN_NOT_OK(otap_schema_deep_copy(schema, &s->schema, err));
    OTAP_RETURN_NOT_OK(otap_sink_init_buffer(&s->sink, &s->buf, err));
    struct otap_ipc_write_options wo;
    otap_ipc_write_options_init(&wo);
    wo.write_eos = false;
    wo.compression = w->o.compression;
    wo.compression_level = w->o.compression_level;
    int rc = otap_ipc_writer_new(&s->w, &s->sink, OTAP_IPC_FORMAT_STREAM, &s->schema, &wo, err);
    if (rc) {
      stream_close(s);
      return rc;
    }
    snprintf(s->schema_id, sizeof(s->schema_id), "%s:%lld",
             otap_logs_table_name((enum otap_logs_table)t), (long long)w->n_schemas++);
  }
  int rc = otap_ipc_writer_write(s->w, batch, err);
  if (rc) stream_close(s);
  return rc;
}

int otap_records_writer_write(struct otap_records_writer* w, const struct otap_logs_payload* p,
                              struct otap_error* err) {
  struct otap_logs_payload enc;
  otap_logs_payload_init(&enc);
  const struct otap_logs_payload* src = p;
  int rc = 0;
  if (w->o.encode_ids) {
    OTAP_GOTO_NOT_OK(rc, otap_logs_payload_copy(p, &enc, err));
    OTAP_GOTO_NOT_OK(rc, otap_logs_encode_ids(&enc, err));
    src = &enc;
  }
  struct otap_arrow_payload_msg pms[OTAP_LOGS_N_TABLES];
  struct otap_bar_msg msg;
  memset(&msg, 0, sizeof(msg));
  msg.batch_id = w->next_batch_id;
  msg.payloads = pms;
  // LOGS first (the root), then the attribute tables.
  static const int kOrder[OTAP_LOGS_N_TABLES] = {OTAP_LOGS_LOGS, OTAP_LOGS_LOG_ATTRS,
                                                 OTAP_LOGS_RESOURCE_ATTRS, OTAP_LOGS_SCOPE_ATTRS};
  for (int k = 0; k < OTAP_LOGS_N_TABLES; k++) {
    int t = kOrder[k];
    if (!otap_logs_payload_has_table(src, (enum otap_logs_table)t) || src->batch[t].length == 0)
      continue;
    rc = write_table(w, t, &src->schema[t], &src->batch[t], err);
    if (rc) {
      otap_error_prefix(err, rc, "writing %s: ", otap_logs_table_name((enum otap_logs_table)t));
      goto done;
    }
    struct otap_arrow_payload_msg* pm = &pms[msg.n_payloads++];
    pm->schema_id = w->streams[t].schema_id;
    pm->schema_id_len = (int64_t)strlen(w->streams[t].schema_id);
    pm->type = otap_logs_table_payload_type((enum otap_logs_table)t);
    pm->record = w->streams[t].buf.data;
    pm->record_len = w->streams[t].buf.size;
  }
  w->msg.size = 0;
  w->frame.size = 0;
  rc = otap_bar_encode(&msg, &w->msg);
  if (!rc) rc = otap_pb_append_varint(&w->frame, (uint64_t)w->msg.size);
  if (rc) {
    rc = otap_error_set(err, ENOMEM, "out of memory encoding a BatchArrowRecords message");
    goto done;
  }
  OTAP_GOTO_NOT_OK(rc, w->sink->write(w->sink, w->frame.data, (size_t)w->frame.size, err));
  OTAP_GOTO_NOT_OK(rc, w->sink->write(w->sink, w->msg.data, (size_t)w->msg.size, err));
  w->next_batch_id++;
done:
  otap_logs_payload_reset(&enc);
  return rc;
}

int otap_records_writer_finish(struct otap_records_writer* w, struct otap_error* err) {
  (void)w;
  (void)err;
  return 0;
}

int otap_records_read_file(const char* path, const struct otap_records_reader_options* options,
                           struct otap_logs_payload** out, int64_t* n, struct otap_error* err) {
  *out = NULL;
  *n = 0;
  struct otap_records_reader* r = NULL;
  OTAP_RETURN_NOT_OK(otap_records_reader_open_file(&r, path, options, err));
  struct otap_logs_payload* arr = NULL;
  int64_t count = 0, cap = 0;
  int rc = 0;
  for (;;) {
    if (count == cap) {
      int64_t nc = cap ? cap * 2 : 8;
      struct otap_logs_payload* na = otap_realloc(arr, (size_t)nc * sizeof(*arr));
      if (!na) {
        rc = otap_error_set(err, ENOMEM, "out of memory reading %s", path);
        break;
      }
      arr = na;
      cap = nc;
    }
    bool eof;
    otap_logs_payload_init(&arr[count]);
    rc = otap_records_reader_next(r, &arr[count], &eof, err);
    if (rc || eof) break;
    count++;
  }
  otap_records_reader_free(r);
  if (rc) {
    otap_logs_payloads_free(arr, count);
    return rc;
  }
  *out = arr;
  *n = count;
  return 0;
}

int otap_records_write_file(const char* path, const struct otap_logs_payload* p, int64_t n,
                            const struct otap_records_writer_options* options,
                            struct otap_error* err) {
  struct otap_sink sink;
  memset(&sink, 0, sizeof(sink));
  OTAP_RETURN_NOT_OK(otap_sink_open_file(&sink, path, err));
  struct otap_records_writer* w = NULL;
  int rc = otap_records_writer_open(&w, &sink, options, err);
  for (int64_t i = 0; i < n && !rc; i++) rc = otap_records_writer_write(w, &p[i], err);
  if (!rc) rc = otap_records_writer_finish(w, err);
  if (!rc) rc = sink.finish(&sink, err);
  otap_records_writer_free(w);
  otap_sink_release(&sink);
  return rc;
}
