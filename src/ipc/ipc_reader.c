// IPC readers: the push decoder, ArrowArrayStream readers over memory / fd / source, and the
// file-format reader with random access.
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ipc/ipc_internal.h"

static const uint8_t kMagic[6] = {'A', 'R', 'R', 'O', 'W', '1'};

const char* otap_ipc_compression_name(enum otap_ipc_compression c) {
  switch (c) {
    case OTAP_IPC_COMPRESSION_NONE: return "none";
    case OTAP_IPC_COMPRESSION_LZ4_FRAME: return "lz4";
    case OTAP_IPC_COMPRESSION_ZSTD: return "zstd";
  }
  return "unknown";
}

int otap_ipc_compression_parse(const char* name, enum otap_ipc_compression* out,
                               struct otap_error* err) {
  if (!name) return otap_error_set(err, EINVAL, "missing compression name");
  if (!strcasecmp(name, "none") || !strcasecmp(name, "uncompressed")) {
    *out = OTAP_IPC_COMPRESSION_NONE;
  } else if (!strcasecmp(name, "lz4") || !strcasecmp(name, "lz4_frame")) {
    *out = OTAP_IPC_COMPRESSION_LZ4_FRAME;
  } else if (!strcasecmp(name, "zstd")) {
    *out = OTAP_IPC_COMPRESSION_ZSTD;
  } else {
    return otap_error_set(err, EINVAL, "unknown IPC compression '%s' (use none, lz4 or zstd)", name);
  }
  return 0;
}

enum otap_ipc_format otap_ipc_detect_format(const void* data, size_t size) {
  const uint8_t* p = data;
  if (size >= 6 && memcmp(p, kMagic, 6) == 0) return OTAP_IPC_FORMAT_FILE;
  if (size < 8) return OTAP_IPC_FORMAT_UNKNOWN;
  uint32_t first = otap_load_u32le(p);
  if (first == OTAP__IPC_CONTINUATION) {
    int32_t len = (int32_t)otap_load_u32le(p + 4);
    return len >= 0 ? OTAP_IPC_FORMAT_STREAM : OTAP_IPC_FORMAT_UNKNOWN;
  }
  // legacy: int32 length, then a flatbuffer whose root offset points inside it
  int32_t len = (int32_t)first;
  if (len >= 8 && len < (1 << 26) && (len % 8 == 0 || len % 4 == 0)) {
    uint32_t root = otap_load_u32le(p + 4);
    if (root >= 4 && root < (uint32_t)len) return OTAP_IPC_FORMAT_STREAM;
  }
  return OTAP_IPC_FORMAT_UNKNOWN;
}

void otap_ipc_read_options_init(struct otap_ipc_read_options* opts) {
  memset(opts, 0, sizeof(*opts));
  opts->validation = OTAP_VALIDATE_FULL;
  opts->max_metadata_size = (int64_t)64 << 20;
  opts->max_body_size = (int64_t)8 << 30;
  opts->max_decompressed_size = (int64_t)4 << 30;
  opts->max_compression_ratio = 4096;
  opts->max_depth = 64;
}

static void opts_copy(struct otap_ipc_read_options* dst, const struct otap_ipc_read_options* src) {
  otap_ipc_read_options_init(dst);
  if (src) *dst = *src;
  if (dst->max_metadata_size <= 0) dst->max_metadata_size = (int64_t)64 << 20;
  if (dst->max_body_size <= 0) dst->max_body_size = (int64_t)8 << 30;
  if (dst->max_decompressed_size <= 0) dst->max_decompressed_size = (int64_t)4 << 30;
  if (dst->max_compression_ratio <= 0) dst->max_compression_ratio = 4096;
  if (dst->max_depth <= 0) dst->max_depth = 64;
}

static void noop_free(void* data, void* ctx) {
  (void)data;
  (void)ctx;
}

static void free_data(void* data, void* ctx) {
  (void)ctx;
  otap_free(data);
}

// ---------------------------------------------------------------------------------------------
// Push decoder

struct otap_ipc_decoder {
  struct otap_ipc_read_options opts;
  struct otap_buffer pending;  // unconsumed bytes start at pending_pos
  int64_t pending_pos;
  struct otap_shared* piece;  // zero-copy input (only while pending is empty)
  const uint8_t* piece_data;
  size_t piece_len;
  int64_t offset;  // input offset of the next unconsumed byte
  struct otap__ipc_schema schema;
  bool have_schema;
  bool ended;
  struct otap__ipc_dict_state dicts;
  struct otap_ipc_message_info info;
  struct otap__ipc_codecs codecs;
  int error;
  struct otap_error saved;
};

int otap_ipc_decoder_new(struct otap_ipc_decoder** out, const struct otap_ipc_read_options* opts,
                         struct otap_error* err) {
  struct otap_ipc_decoder* d = otap_calloc(1, sizeof(*d));
  if (!d) return otap_error_set(err, ENOMEM, "out of memory");
  opts_copy(&d->opts, opts);
  otap_buffer_init(&d->pending);
  *out = d;
  return 0;
}

void otap_ipc_decoder_free(struct otap_ipc_decoder* d) {
  if (!d) return;
  otap_buffer_reset(&d->pending);
  otap_shared_unref(d->piece);
  otap__ipc_dict_state_reset(&d->dicts, d->schema.n_dicts);
  otap__ipc_schema_reset(&d->schema);
  otap__ipc_codecs_reset(&d->codecs);
  otap_free(d);
}

static int fail(struct otap_ipc_decoder* d, int rc, struct otap_error* err) {
  d->error = rc;
  if (err)
    memcpy(d->saved.message, err->message, sizeof(d->saved.message));
  else
    snprintf(d->saved.message, sizeof(d->saved.message), "IPC decoding failed (%s)",
             otap_errno_name(rc));
  return rc;
}

static int replay_error(struct otap_ipc_decoder* d, struct otap_error* err) {
  if (err) memcpy(err->message, d->saved.message, sizeof(err->message));
  return d->error;
}

// Moves any unconsumed zero-copy piece into the pending buffer.
static int spill_piece(struct otap_ipc_decoder* d, struct otap_error* err) {
  if (!d->piece) return 0;
  int rc = otap_buffer_append(&d->pending, d->piece_data, (int64_t)d->piece_len);
  otap_shared_unref(d->piece);
  d->piece = NULL;
  d->piece_data = NULL;
  d->piece_len = 0;
  if (rc) return otap_error_set(err, rc, "out of memory buffering IPC input");
  return 0;
}

int otap_ipc_decoder_push(struct otap_ipc_decoder* d, const void* data, size_t size,
                          struct otap_error* err) {
  if (d->error) return replay_error(d, err);
  OTAP_RETURN_NOT_OK(spill_piece(d, err));
  if (d->pending_pos > 0 && d->pending_pos * 2 >= d->pending.size) {
    int64_t rest = d->pending.size - d->pending_pos;
    memmove(d->pending.data, d->pending.data + d->pending_pos, (size_t)rest);
    d->pending.size = rest;
    d->pending_pos = 0;
  }
  int rc = otap_buffer_append(&d->pending, data, (int64_t)size);
  if (rc) return otap_error_set(err, rc, "out of memory buffering IPC input");
  return 0;
}

int otap_ipc_decoder_push_shared(struct otap_ipc_decoder* d, struct otap_shared* owner,
                                 const void* data, size_t size, struct otap_error* err) {
  if (d->error) return replay_error(d, err);
  if (d->piece || d->pending.size > d->pending_pos) return otap_ipc_decoder_push(d, data, size, err);
  d->pending.size = 0;
  d->pending_pos = 0;
  otap_shared_ref(owner);
  d->piece = owner;
  d->piece_data = data;
  d->piece_len = size;
  return 0;
}

static void set_info(struct otap_ipc_message_info* info, const struct otap__ipc_message* msg,
                     int64_t offset, int64_t meta_len, bool legacy) {
  memset(info, 0, sizeof(*info));
  info->offset = offset;
  info->metadata_length = meta_len;
  info->body_length = msg->body_length;
  info->version = msg->version;
  info->rows = msg->batch.length;
  info->compression = msg->batch.compression;
  info->dictionary_id = msg->header_type == OTAP__MH_DICTIONARY ? msg->dict_id : -1;
  info->is_delta = msg->is_delta;
  info->legacy_framing = legacy;
}

// Handles one complete message (metadata flatbuffer + body).
static int handle_message(struct otap_ipc_decoder* d, const uint8_t* meta, int64_t meta_len,
                          int64_t meta_offset, struct otap__ipc_message* msg,
                          struct otap_shared* owner, const uint8_t* body,
                          enum otap_ipc_event* event, struct ArrowArray* out,
                          struct otap_error* err) {
  (void)meta;
  (void)meta_len;
  if (msg->header_type == OTAP__MH_SCHEMA) {
    if (d->have_schema)
      return otap_error_set(err, EINVAL, "second Schema message at byte offset %lld",
                            (long long)meta_offset);
    OTAP_RETURN_NOT_OK(otap__ipc_schema_decode(&msg->header, d->opts.max_depth, &d->schema, err));
    d->have_schema = true;
    OTAP_RETURN_NOT_OK(otap__ipc_dict_state_init(&d->dicts, d->schema.n_dicts, err));
    *event = OTAP_IPC_EVENT_SCHEMA;
    return 0;
  }
  if (!d->have_schema)
    return otap_error_set(err, EINVAL,
                          "IPC stream: message at byte offset %lld comes before the Schema message",
                          (long long)meta_offset);
  struct otap__ipc_decode_ctx ctx = {&d->opts, &d->schema, &d->dicts, meta_offset, &d->codecs};
  if (msg->header_type == OTAP__MH_DICTIONARY) {
    OTAP_RETURN_NOT_OK(otap__ipc_decode_dictionary(&ctx, msg, owner, body, msg->body_length, true, err));
    *event = OTAP_IPC_EVENT_DICTIONARY;
    return 0;
  }
  OTAP_RETURN_NOT_OK(otap__ipc_decode_batch(&ctx, msg, owner, body, msg->body_length, out, err));
  *event = OTAP_IPC_EVENT_BATCH;
  return 0;
}

int otap_ipc_decoder_pull(struct otap_ipc_decoder* d, enum otap_ipc_event* event,
                          struct ArrowArray* out, struct otap_error* err) {
  *event = OTAP_IPC_EVENT_NEED_MORE;
  if (d->error) return replay_error(d, err);
  if (d->ended) {
    *event = OTAP_IPC_EVENT_END;
    return 0;
  }
  for (;;) {
    const uint8_t* data;
    size_t avail;
    bool from_piece = d->piece != NULL;
    if (from_piece) {
      data = d->piece_data;
      avail = d->piece_len;
    } else if (d->pending.data) {
      data = d->pending.data + d->pending_pos;
      avail = (size_t)(d->pending.size - d->pending_pos);
    } else {
      return 0;  // nothing buffered yet
    }
    uint32_t prefix;
    int64_t meta_len;
    bool legacy;
    int rc = otap__ipc_parse_prefix(data, avail, d->offset, d->opts.max_metadata_size, &prefix,
                                    &meta_len, &legacy, err);
    if (rc == EAGAIN) return 0;
    if (rc) return fail(d, rc, err);
    if (meta_len == 0) {
      d->ended = true;
      d->offset += prefix;
      *event = OTAP_IPC_EVENT_END;
      return 0;
    }
    if (avail < prefix + (uint64_t)meta_len) return 0;
    struct otap__fb fb = {data + prefix, (uint32_t)meta_len, d->offset + prefix, "Message"};
    struct otap__ipc_message msg;
    rc = otap__ipc_message_decode(&fb, &msg, err);
    if (rc) return fail(d, rc, err);
    if (msg.body_length > d->opts.max_body_size) {
      otap_error_set(err, EINVAL, "IPC message at byte offset %lld: body of %lld bytes exceeds the cap",
                     (long long)d->offset, (long long)msg.body_length);
      return fail(d, EINVAL, err);
    }
    uint64_t total = prefix + (uint64_t)meta_len + (uint64_t)msg.body_length;
    if (avail < total) return 0;
    const uint8_t* body = data + prefix + meta_len;
    struct otap_shared* owner = NULL;
    // A body at an address that is not 8-byte aligned would have each buffer copied on its
    // own: one copy of the whole body is cheaper.
    bool aligned = ((uintptr_t)body & 7) == 0;
    if (from_piece && aligned) {
      owner = d->piece;
      otap_shared_ref(owner);
    } else if (msg.body_length > 0) {
      uint8_t* copy = otap_malloc((size_t)msg.body_length);
      if (!copy) {
        otap_error_set(err, ENOMEM, "out of memory for a %lld-byte message body",
                       (long long)msg.body_length);
        return fail(d, ENOMEM, err);
      }
      memcpy(copy, body, (size_t)msg.body_length);
      if (otap_shared_new(&owner, copy, msg.body_length, free_data, NULL)) {
        otap_free(copy);
        otap_error_set(err, ENOMEM, "out of memory");
        return fail(d, ENOMEM, err);
      }
      body = copy;
    }
    int64_t msg_offset = d->offset;
    enum otap_ipc_event ev = OTAP_IPC_EVENT_NEED_MORE;
    rc = handle_message(d, data + prefix, meta_len, msg_offset, &msg, owner, body, &ev, out, err);
    otap_shared_unref(owner);
    if (rc) return fail(d, rc, err);
    set_info(&d->info, &msg, msg_offset, meta_len, legacy);
    // consume
    d->offset += (int64_t)total;
    if (from_piece) {
      d->piece_data += total;
      d->piece_len -= total;
      if (d->piece_len == 0) {
        otap_shared_unref(d->piece);
        d->piece = NULL;
      }
    } else {
      d->pending_pos += (int64_t)total;
      if (d->pending_pos == d->pending.size) d->pending.size = d->pending_pos = 0;
    }
    *event = ev;
    return 0;
  }
}

int otap_ipc_decoder_finish(struct otap_ipc_decoder* d, struct otap_error* err) {
  if (d->error) return replay_error(d, err);
  if (!d->have_schema) {
    otap_error_set(err, EINVAL, "IPC stream ended at byte offset %lld without a Schema message",
                   (long long)d->offset);
    return fail(d, EINVAL, err);
  }
  if (d->ended) return 0;
  size_t left = d->piece ? d->piece_len : (size_t)(d->pending.size - d->pending_pos);
  if (left > 0) {
    otap_error_set(err, EINVAL, "IPC stream truncated: %zu bytes of an incomplete message at byte "
                   "offset %lld", left, (long long)d->offset);
    return fail(d, EINVAL, err);
  }
  return 0;
}

int otap_ipc_decoder_get_schema(const struct otap_ipc_decoder* d, struct ArrowSchema* out,
                                struct otap_error* err) {
  if (!d->have_schema) return otap_error_set(err, EINVAL, "no Schema message decoded yet");
  return otap_schema_deep_copy(&d->schema.schema, out, err);
}

const struct ArrowSchema* otap_ipc_decoder_schema(const struct otap_ipc_decoder* d) {
  return d->have_schema ? &d->schema.schema : NULL;
}

const struct otap_ipc_message_info* otap_ipc_decoder_last_message(const struct otap_ipc_decoder* d) {
  return &d->info;
}

int64_t otap_ipc_decoder_dictionary_ids(const struct otap_ipc_decoder* d, const int64_t** ids) {
  *ids = d->schema.dict_ids;
  return d->schema.n_dicts;
}

int64_t otap_ipc_decoder_offset(const struct otap_ipc_decoder* d) { return d->offset; }

// ---------------------------------------------------------------------------------------------
// ArrowArrayStream over a decoder

struct stream_priv {
  struct otap_ipc_decoder* dec;
  int fd;
  bool close_fd;
  bool eof;
  uint8_t* chunk;
  struct otap_error err;
};

static int stream_fill(struct stream_priv* p) {
  if (p->fd < 0 || p->eof) {
    p->eof = true;
    return 0;
  }
  ssize_t n;
  do {
    n = read(p->fd, p->chunk, 1 << 20);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return otap_error_set(&p->err, EIO, "read failed: %s", strerror(errno));
  if (n == 0) {
    p->eof = true;
    return 0;
  }
  return otap_ipc_decoder_push(p->dec, p->chunk, (size_t)n, &p->err);
}

// Pulls until schema or a batch / end. want_batch: return on BATCH/END.
static int stream_advance(struct stream_priv* p, bool want_batch, struct ArrowArray* out) {
  for (;;) {
    enum otap_ipc_event ev;
    OTAP_RETURN_NOT_OK(otap_ipc_decoder_pull(p->dec, &ev, out, &p->err));
    if (ev == OTAP_IPC_EVENT_SCHEMA && !want_batch) return 0;
    if (ev == OTAP_IPC_EVENT_BATCH || ev == OTAP_IPC_EVENT_END) {
      if (ev == OTAP_IPC_EVENT_END) out->release = NULL;
      if (!want_batch && ev == OTAP_IPC_EVENT_BATCH) {
        // cannot happen: batches come after the schema
        otap_array_release(out);
      }
      if (!want_batch && !otap_ipc_decoder_schema(p->dec))
        return otap_error_set(&p->err, EINVAL, "IPC stream ended before its Schema message");
      return 0;
    }
    if (ev == OTAP_IPC_EVENT_NEED_MORE) {
      if (p->eof) {
        OTAP_RETURN_NOT_OK(otap_ipc_decoder_finish(p->dec, &p->err));
        out->release = NULL;
        return 0;
      }
      OTAP_RETURN_NOT_OK(stream_fill(p));
    }
  }
}

static int stream_get_schema(struct ArrowArrayStream* s, struct ArrowSchema* out) {
  struct stream_priv* p = s->private_data;
  if (!otap_ipc_decoder_schema(p->dec)) {
    struct ArrowArray tmp;
    memset(&tmp, 0, sizeof(tmp));
    OTAP_RETURN_NOT_OK(stream_advance(p, false, &tmp));
  }
  return otap_ipc_decoder_get_schema(p->dec, out, &p->err);
}

static int stream_get_next(struct ArrowArrayStream* s, struct ArrowArray* out) {
  struct stream_priv* p = s->private_data;
  out->release = NULL;
  return stream_advance(p, true, out);
}

static const char* stream_last_error(struct ArrowArrayStream* s) {
  struct stream_priv* p = s->private_data;
  return p->err.message;
}

static void stream_release(struct ArrowArrayStream* s) {
  struct stream_priv* p = s->private_data;
  if (p) {
    otap_ipc_decoder_free(p->dec);
    if (p->close_fd && p->fd >= 0) close(p->fd);
    otap_free(p->chunk);
    otap_free(p);
  }
  s->release = NULL;
}

static int stream_new(struct ArrowArrayStream* out, const struct otap_ipc_read_options* opts,
                      int fd, bool close_fd, struct stream_priv** pp, struct otap_error* err) {
  struct stream_priv* p = otap_calloc(1, sizeof(*p));
  if (!p) return otap_error_set(err, ENOMEM, "out of memory");
  p->fd = fd;
  p->close_fd = close_fd;
  int rc = otap_ipc_decoder_new(&p->dec, opts, err);
  if (!rc && fd >= 0) {
    p->chunk = otap_malloc(1 << 20);
    if (!p->chunk) rc = otap_error_set(err, ENOMEM, "out of memory");
  }
  if (rc) {
    otap_ipc_decoder_free(p->dec);
    otap_free(p);
    return rc;
  }
  memset(out, 0, sizeof(*out));
  out->get_schema = stream_get_schema;
  out->get_next = stream_get_next;
  out->get_last_error = stream_last_error;
  out->release = stream_release;
  out->private_data = p;
  *pp = p;
  return 0;
}

static int open_file_memory(struct ArrowArrayStream* out, const void* data, size_t size,
                            struct otap_shared* owner, const struct otap_ipc_read_options* opts,
                            struct otap_error* err);

int otap_ipc_reader_open_memory(struct ArrowArrayStream* out, const void* data, size_t size,
                                struct otap_shared* owner, const struct otap_ipc_read_options* opts,
                                struct otap_error* err) {
  if (otap_ipc_detect_format(data, size) == OTAP_IPC_FORMAT_FILE)
    return open_file_memory(out, data, size, owner, opts, err);
  struct stream_priv* p;
  OTAP_RETURN_NOT_OK(stream_new(out, opts, -1, false, &p, err));
  struct otap_shared* tmp = NULL;
  int rc = 0;
  if (!owner) {
    if (otap_shared_new(&tmp, (void*)data, (int64_t)size, noop_free, NULL)) {
      rc = otap_error_set(err, ENOMEM, "out of memory");
      goto done;
    }
    owner = tmp;
  }
  rc = otap_ipc_decoder_push_shared(p->dec, owner, data, size, err);
  p->eof = true;
done:
  otap_shared_unref(tmp);
  if (rc) out->release(out);
  return rc;
}

static int read_all_fd(int fd, struct otap_buffer* buf, struct otap_error* err) {
  for (;;) {
    OTAP_RETURN_NOT_OK(otap_buffer_reserve(buf, 1 << 20) ? otap_error_set(err, ENOMEM, "out of memory") : 0);
    ssize_t n = read(fd, buf->data + buf->size, (size_t)(buf->capacity - buf->size));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return otap_error_set(err, EIO, "read failed: %s", strerror(errno));
    if (n == 0) return 0;
    buf->size += n;
  }
}

int otap_ipc_reader_open_fd(struct ArrowArrayStream* out, int fd, bool close_fd,
                            const struct otap_ipc_read_options* opts, struct otap_error* err) {
  // Peek 8 bytes to tell a file from a stream.
  uint8_t head[8];
  size_t got = 0;
  while (got < sizeof(head)) {
    ssize_t n = read(fd, head + got, sizeof(head) - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      if (close_fd) close(fd);
      return otap_error_set(err, EIO, "read failed: %s", strerror(e));
    }
    if (n == 0) break;
    got += (size_t)n;
  }
  int rc = 0;
  if (got >= 6 && memcmp(head, kMagic, 6) == 0) {
    struct otap_buffer buf;
    otap_buffer_init(&buf);
    rc = otap_buffer_append(&buf, head, (int64_t)got);
    if (rc) rc = otap_error_set(err, rc, "out of memory");
    if (!rc) rc = read_all_fd(fd, &buf, err);
    if (close_fd) close(fd);
    if (rc) {
      otap_buffer_reset(&buf);
      return rc;
    }
    const void* data = buf.data;
    size_t size = (size_t)buf.size;
    struct otap_shared* owner;
    if (otap_shared_from_buffer(&owner, &buf)) {
      otap_buffer_reset(&buf);
      return otap_error_set(err, ENOMEM, "out of memory");
    }
    rc = otap_ipc_reader_open_memory(out, data, size, owner, opts, err);
    otap_shared_unref(owner);
    return rc;
  }
  struct stream_priv* p;
  rc = stream_new(out, opts, fd, close_fd, &p, err);
  if (rc) {
    if (close_fd) close(fd);
    return rc;
  }
  if (got > 0) rc = otap_ipc_decoder_push(p->dec, head, got, err);
  if (got < sizeof(head)) p->eof = true;
  if (rc) out->release(out);
  return rc;
}

static void release_heap_source(void* data, void* ctx) {
  (void)ctx;
  struct otap_source* s = data;
  otap_source_release(s);
  otap_free(s);
}

// Moves *source to the heap inside a shared block (released when the last user goes).
static int source_to_shared(struct otap_source* source, struct otap_shared** out,
                            struct otap_source** heap, struct otap_error* err) {
  struct otap_source* h = otap_malloc(sizeof(*h));
  if (!h) {
    otap_source_release(source);
    return otap_error_set(err, ENOMEM, "out of memory");
  }
  *h = *source;
  memset(source, 0, sizeof(*source));
  if (otap_shared_new(out, h, (int64_t)sizeof(*h), release_heap_source, NULL)) {
    release_heap_source(h, NULL);
    return otap_error_set(err, ENOMEM, "out of memory");
  }
  *heap = h;
  return 0;
}

int otap_ipc_reader_open_source(struct ArrowArrayStream* out, struct otap_source* source,
                                const struct otap_ipc_read_options* opts, struct otap_error* err) {
  uint64_t size;
  int rc = source->size(source, &size, err);
  if (rc) {
    otap_source_release(source);
    return rc;
  }
  if (size > (uint64_t)OTAP_BUFFER_DEFAULT_CAP) {
    otap_source_release(source);
    return otap_error_set(err, EINVAL, "IPC input of %llu bytes is too large",
                          (unsigned long long)size);
  }
  const uint8_t* view = NULL;
  if (source->view_at && size > 0 && source->view_at(source, 0, (size_t)size, &view, NULL) == 0 &&
      view) {
    struct otap_shared* owner;
    struct otap_source* heap;
    OTAP_RETURN_NOT_OK(source_to_shared(source, &owner, &heap, err));
    rc = otap_ipc_reader_open_memory(out, view, (size_t)size, owner, opts, err);
    otap_shared_unref(owner);
    return rc;
  }
  struct otap_buffer buf;
  otap_buffer_init(&buf);
  if (otap_buffer_resize(&buf, (int64_t)size, false)) {
    otap_source_release(source);
    return otap_error_set(err, ENOMEM, "out of memory for %llu bytes", (unsigned long long)size);
  }
  rc = size ? source->read_at(source, 0, buf.data, (size_t)size, err) : 0;
  otap_source_release(source);
  if (rc) {
    otap_buffer_reset(&buf);
    return rc;
  }
  const void* data = buf.data ? (const void*)buf.data : (const void*)"";
  struct otap_shared* owner;
  if (otap_shared_from_buffer(&owner, &buf)) {
    otap_buffer_reset(&buf);
    return otap_error_set(err, ENOMEM, "out of memory");
  }
  rc = otap_ipc_reader_open_memory(out, data, (size_t)size, owner, opts, err);
  otap_shared_unref(owner);
  return rc;
}

// ---------------------------------------------------------------------------------------------
// File format

struct block {
  int64_t offset;
  int32_t meta_len;
  int64_t body_len;
};

struct otap_ipc_file_reader {
  struct otap_ipc_read_options opts;
  struct otap_source* src;  // owned through src_owner
  struct otap_shared* src_owner;
  const uint8_t* view;  // whole file when the source supports view_at
  uint64_t size;
  struct otap__ipc_schema schema;
  struct otap__ipc_dict_state dicts;
  struct block* dict_blocks;
  int64_t n_dict_blocks;
  struct block* batch_blocks;
  int64_t n_batch_blocks;
  int64_t next;  // for the stream adapter
  struct otap__ipc_codecs codecs;
  struct otap_error err;
};

// Bytes [off, off+len) of the file: a view (owner: source) or a fresh copy.
static int file_range(struct otap_ipc_file_reader* r, uint64_t off, uint64_t len,
                      const uint8_t** ptr, struct otap_shared** owner, struct otap_error* err) {
  if (off > r->size || len > r->size - off)
    return otap_error_set(err, EINVAL, "IPC file: range [%llu, +%llu) lies past the end (%llu bytes)",
                          (unsigned long long)off, (unsigned long long)len,
                          (unsigned long long)r->size);
  if (r->view) {
    *ptr = r->view + off;
    otap_shared_ref(r->src_owner);
    *owner = r->src_owner;
    return 0;
  }
  uint8_t* buf = otap_malloc((size_t)(len ? len : 1));
  if (!buf) return otap_error_set(err, ENOMEM, "out of memory for %llu bytes", (unsigned long long)len);
  int rc = len ? r->src->read_at(r->src, off, buf, (size_t)len, err) : 0;
  if (rc || otap_shared_new(owner, buf, (int64_t)len, free_data, NULL)) {
    otap_free(buf);
    return rc ? rc : otap_error_set(err, ENOMEM, "out of memory");
  }
  *ptr = buf;
  return 0;
}

static int read_blocks(const struct otap__fb_table* footer, int field, struct block** out,
                       int64_t* n, uint64_t file_size, struct otap_error* err) {
  struct otap__fb_vec v;
  OTAP_RETURN_NOT_OK(otap__fb_vector(footer, field, 24, &v, err));
  *n = v.len;
  *out = otap_calloc(v.len ? v.len : 1, sizeof(struct block));
  if (!*out) return otap_error_set(err, ENOMEM, "out of memory");
  for (uint32_t i = 0; i < v.len; i++) {
    const uint8_t* e = otap__fb_vec_elem(&v, i, 24);
    struct block* b = &(*out)[i];
    b->offset = (int64_t)otap_load_u64le(e);
    b->meta_len = (int32_t)otap_load_u32le(e + 8);
    b->body_len = (int64_t)otap_load_u64le(e + 16);
    if (b->offset < 8 || b->meta_len <= 0 || b->body_len < 0 || (uint64_t)b->offset > file_size ||
        (uint64_t)b->meta_len > file_size - (uint64_t)b->offset ||
        (uint64_t)b->body_len > file_size - (uint64_t)b->offset - (uint64_t)b->meta_len)
      return otap_error_set(err, EINVAL,
                            "IPC file footer: block %u (offset %lld, metadata %d, body %lld) lies "
                            "outside the %llu-byte file",
                            i, (long long)b->offset, (int)b->meta_len, (long long)b->body_len,
                            (unsigned long long)file_size);
  }
  return 0;
}

// Reads the message of a block: decodes metadata into msg (pointing into *meta_owner's
// memory, which the caller releases after use); body pointer + owner.
static int read_block(struct otap_ipc_file_reader* r, const struct block* blk,
                      struct otap__ipc_message* msg, struct otap_shared** meta_owner,
                      const uint8_t** body, struct otap_shared** body_owner,
                      struct otap_ipc_message_info* info, struct otap_error* err) {
  const uint8_t* meta;
  *meta_owner = NULL;
  *body_owner = NULL;
  OTAP_RETURN_NOT_OK(file_range(r, (uint64_t)blk->offset, (uint64_t)blk->meta_len, &meta,
                                meta_owner, err));
  uint32_t prefix;
  int64_t meta_len;
  bool legacy;
  int rc = otap__ipc_parse_prefix(meta, (size_t)blk->meta_len, blk->offset,
                                  r->opts.max_metadata_size, &prefix, &meta_len, &legacy, err);
  if (rc == EAGAIN || (!rc && (meta_len == 0 || prefix + meta_len > blk->meta_len)))
    rc = otap_error_set(err, EINVAL, "IPC file: block at byte offset %lld has a bad message prefix",
                        (long long)blk->offset);
  if (rc) goto done;
  struct otap__fb fb = {meta + prefix, (uint32_t)meta_len, blk->offset + prefix, "Message"};
  OTAP_GOTO_NOT_OK(rc, otap__ipc_message_decode(&fb, msg, err));
  if (msg->body_length > blk->body_len) {
    rc = otap_error_set(err, EINVAL,
                        "IPC file: message at byte offset %lld declares a %lld-byte body but its "
                        "block has %lld",
                        (long long)blk->offset, (long long)msg->body_length,
                        (long long)blk->body_len);
    goto done;
  }
  if (info) set_info(info, msg, blk->offset, blk->meta_len, legacy);
  OTAP_GOTO_NOT_OK(rc, file_range(r, (uint64_t)blk->offset + (uint64_t)blk->meta_len,
                                  (uint64_t)msg->body_length, body, body_owner, err));
done:
  if (rc) {
    otap_shared_unref(*meta_owner);
    *meta_owner = NULL;
  }
  return rc;
}

void otap_ipc_file_reader_free(struct otap_ipc_file_reader* r) {
  if (!r) return;
  otap__ipc_dict_state_reset(&r->dicts, r->schema.n_dicts);
  otap__ipc_schema_reset(&r->schema);
  otap_free(r->dict_blocks);
  otap_free(r->batch_blocks);
  otap_shared_unref(r->src_owner);
  otap__ipc_codecs_reset(&r->codecs);
  otap_free(r);
}

static int file_open(struct otap_ipc_file_reader* r, struct otap_error* err) {
  if (r->size < 6 + 2 + 4 + 6)
    return otap_error_set(err, EINVAL, "IPC file of %llu bytes is too short",
                          (unsigned long long)r->size);
  const uint8_t* p;
  struct otap_shared* o = NULL;
  uint8_t head[8], tail[10];
  OTAP_RETURN_NOT_OK(file_range(r, 0, 8, &p, &o, err));
  memcpy(head, p, 8);
  otap_shared_unref(o);
  OTAP_RETURN_NOT_OK(file_range(r, r->size - 10, 10, &p, &o, err));
  memcpy(tail, p, 10);
  otap_shared_unref(o);
  if (memcmp(head, kMagic, 6) != 0)
    return otap_error_set(err, EINVAL, "IPC file does not start with the ARROW1 magic");
  if (memcmp(tail + 4, kMagic, 6) != 0)
    return otap_error_set(err, EINVAL, "IPC file does not end with the ARROW1 magic (truncated?)");
  int32_t flen = (int32_t)otap_load_u32le(tail);
  if (flen <= 0 || (uint64_t)flen > r->size - 18 || flen > r->opts.max_metadata_size)
    return otap_error_set(err, EINVAL, "IPC file: footer length %d at byte offset %llu is invalid",
                          (int)flen, (unsigned long long)(r->size - 10));
  uint64_t foff = r->size - 10 - (uint64_t)flen;
  struct otap_shared* fowner = NULL;
  int rc = file_range(r, foff, (uint64_t)flen, &p, &fowner, err);
  if (rc) return rc;
  struct otap__fb fb = {p, (uint32_t)flen, (int64_t)foff, "Footer"};
  struct otap__fb_table footer, schema;
  int16_t version;
  OTAP_GOTO_NOT_OK(rc, otap__fb_root(&fb, &footer, err));
  OTAP_GOTO_NOT_OK(rc, otap__fb_i16(&footer, 0, 0, &version, err));
  if (version > OTAP__IPC_V5) {
    rc = otap_error_set(err, ENOTSUP, "IPC file footer has metadata version V%d, newer than V5",
                        version + 1);
    goto done;
  }
  OTAP_GOTO_NOT_OK(rc, otap__fb_table(&footer, 1, &schema, err));
  if (!schema.pos) {
    rc = otap_error_set(err, EINVAL, "IPC file footer at byte offset %llu has no schema",
                        (unsigned long long)foff);
    goto done;
  }
  OTAP_GOTO_NOT_OK(rc, otap__ipc_schema_decode(&schema, r->opts.max_depth, &r->schema, err));
  OTAP_GOTO_NOT_OK(rc, read_blocks(&footer, 2, &r->dict_blocks, &r->n_dict_blocks, foff, err));
  OTAP_GOTO_NOT_OK(rc, read_blocks(&footer, 3, &r->batch_blocks, &r->n_batch_blocks, foff, err));
  OTAP_GOTO_NOT_OK(rc, otap__ipc_dict_state_init(&r->dicts, r->schema.n_dicts, err));
  for (int64_t i = 0; i < r->n_dict_blocks; i++) {
    struct otap__ipc_message msg;
    struct otap_shared *mo, *bo;
    const uint8_t* body;
    OTAP_GOTO_NOT_OK(rc, read_block(r, &r->dict_blocks[i], &msg, &mo, &body, &bo, NULL, err));
    if (msg.header_type != OTAP__MH_DICTIONARY) {
      rc = otap_error_set(err, EINVAL, "IPC file: dictionary block %lld at byte offset %lld is not "
                          "a DictionaryBatch", (long long)i, (long long)r->dict_blocks[i].offset);
    } else {
      struct otap__ipc_decode_ctx ctx = {&r->opts, &r->schema, &r->dicts, r->dict_blocks[i].offset,
                                         &r->codecs};
      rc = otap__ipc_decode_dictionary(&ctx, &msg, bo, body, msg.body_length, false, err);
    }
    otap_shared_unref(mo);
    otap_shared_unref(bo);
    if (rc) goto done;
  }
done:
  otap_shared_unref(fowner);
  return rc;
}

int otap_ipc_file_reader_open(struct otap_ipc_file_reader** out, struct otap_source* source,
                              const struct otap_ipc_read_options* opts, struct otap_error* err) {
  struct otap_ipc_file_reader* r = otap_calloc(1, sizeof(*r));
  if (!r) {
    otap_source_release(source);
    return otap_error_set(err, ENOMEM, "out of memory");
  }
  opts_copy(&r->opts, opts);
  int rc = source_to_shared(source, &r->src_owner, &r->src, err);
  if (rc) {
    otap_free(r);
    return rc;
  }
  rc = r->src->size(r->src, &r->size, err);
  if (!rc && r->src->view_at && r->size > 0) {
    const uint8_t* v = NULL;
    if (r->src->view_at(r->src, 0, (size_t)r->size, &v, NULL) == 0) r->view = v;
  }
  if (!rc) rc = file_open(r, err);
  if (rc) {
    if (r->src->name) otap_error_prefix(err, rc, "%s: ", r->src->name);
    otap_ipc_file_reader_free(r);
    return rc;
  }
  *out = r;
  return 0;
}

const struct ArrowSchema* otap_ipc_file_reader_schema(const struct otap_ipc_file_reader* r) {
  return &r->schema.schema;
}

int64_t otap_ipc_file_reader_num_batches(const struct otap_ipc_file_reader* r) {
  return r->n_batch_blocks;
}

int64_t otap_ipc_file_reader_num_dictionaries(const struct otap_ipc_file_reader* r) {
  return r->n_dict_blocks;
}

int64_t otap_ipc_file_reader_dictionary_ids(const struct otap_ipc_file_reader* r,
                                            const int64_t** ids) {
  *ids = r->schema.dict_ids;
  return r->schema.n_dicts;
}

int otap_ipc_file_reader_block_info(struct otap_ipc_file_reader* r, bool dictionary, int64_t i,
                                    struct otap_ipc_message_info* out, struct otap_error* err) {
  int64_t n = dictionary ? r->n_dict_blocks : r->n_batch_blocks;
  if (i < 0 || i >= n)
    return otap_error_set(err, EINVAL, "IPC file: %s block %lld out of range (%lld blocks)",
                          dictionary ? "dictionary" : "record batch", (long long)i, (long long)n);
  struct otap__ipc_message msg;
  struct otap_shared *mo, *bo;
  const uint8_t* body;
  const struct block* blk = dictionary ? &r->dict_blocks[i] : &r->batch_blocks[i];
  OTAP_RETURN_NOT_OK(read_block(r, blk, &msg, &mo, &body, &bo, out, err));
  otap_shared_unref(mo);
  otap_shared_unref(bo);
  return 0;
}

int otap_ipc_file_reader_read_batch(struct otap_ipc_file_reader* r, int64_t i,
                                    struct ArrowArray* out, struct otap_error* err) {
  if (i < 0 || i >= r->n_batch_blocks)
    return otap_error_set(err, EINVAL, "IPC file: record batch %lld out of range (%lld batches)",
                          (long long)i, (long long)r->n_batch_blocks);
  struct otap__ipc_message msg;
  struct otap_shared *mo, *bo;
  const uint8_t* body;
  const struct block* blk = &r->batch_blocks[i];
  OTAP_RETURN_NOT_OK(read_block(r, blk, &msg, &mo, &body, &bo, NULL, err));
  int rc;
  if (msg.header_type != OTAP__MH_RECORD_BATCH) {
    rc = otap_error_set(err, EINVAL, "IPC file: block of record batch %lld at byte offset %lld is "
                        "not a RecordBatch", (long long)i, (long long)blk->offset);
  } else {
    struct otap__ipc_decode_ctx ctx = {&r->opts, &r->schema, &r->dicts, blk->offset, &r->codecs};
    rc = otap__ipc_decode_batch(&ctx, &msg, bo, body, msg.body_length, out, err);
  }
  otap_shared_unref(mo);
  otap_shared_unref(bo);
  return rc;
}

static int file_stream_get_schema(struct ArrowArrayStream* s, struct ArrowSchema* out) {
  struct otap_ipc_file_reader* r = s->private_data;
  return otap_schema_deep_copy(&r->schema.schema, out, &r->err);
}

static int file_stream_get_next(struct ArrowArrayStream* s, struct ArrowArray* out) {
  struct otap_ipc_file_reader* r = s->private_data;
  out->release = NULL;
  if (r->next >= r->n_batch_blocks) return 0;
  OTAP_RETURN_NOT_OK(otap_ipc_file_reader_read_batch(r, r->next, out, &r->err));
  r->next++;
  return 0;
}

static const char* file_stream_last_error(struct ArrowArrayStream* s) {
  struct otap_ipc_file_reader* r = s->private_data;
  return r->err.message;
}

static void file_stream_release(struct ArrowArrayStream* s) {
  otap_ipc_file_reader_free(s->private_data);
  s->release = NULL;
}

int otap_ipc_file_reader_to_stream(struct otap_ipc_file_reader* r, struct ArrowArrayStream* out,
                                   struct otap_error* err) {
  (void)err;
  memset(out, 0, sizeof(*out));
  r->next = 0;
  out->get_schema = file_stream_get_schema;
  out->get_next = file_stream_get_next;
  out->get_last_error = file_stream_last_error;
  out->release = file_stream_release;
  out->private_data = r;
  return 0;
}

// A memory source that keeps a shared block alive.
struct memsrc {
  const uint8_t* data;
  size_t size;
  struct otap_shared* owner;
};

static int memsrc_read_at(struct otap_source* s, uint64_t off, void* buf, size_t len,
                          struct otap_error* err) {
  struct memsrc* m = s->private_data;
  if (off > m->size || len > m->size - off)
    return otap_error_set(err, EIO, "read of %zu bytes at offset %llu past the end", len,
                          (unsigned long long)off);
  memcpy(buf, m->data + off, len);
  return 0;
}

static int memsrc_size(struct otap_source* s, uint64_t* out, struct otap_error* err) {
  (void)err;
  *out = ((struct memsrc*)s->private_data)->size;
  return 0;
}

static int memsrc_view_at(struct otap_source* s, uint64_t off, size_t len, const uint8_t** out,
                          struct otap_error* err) {
  struct memsrc* m = s->private_data;
  if (off > m->size || len > m->size - off)
    return otap_error_set(err, EIO, "view past the end");
  *out = m->data + off;
  return 0;
}

static void memsrc_release(struct otap_source* s) {
  struct memsrc* m = s->private_data;
  if (m) {
    otap_shared_unref(m->owner);
    otap_free(m);
  }
  s->private_data = NULL;
  s->release = NULL;
}

static int open_file_memory(struct ArrowArrayStream* out, const void* data, size_t size,
                            struct otap_shared* owner, const struct otap_ipc_read_options* opts,
                            struct otap_error* err) {
  struct memsrc* m = otap_calloc(1, sizeof(*m));
  if (!m) return otap_error_set(err, ENOMEM, "out of memory");
  m->data = data;
  m->size = size;
  if (owner) otap_shared_ref(owner);
  m->owner = owner;
  struct otap_source src;
  memset(&src, 0, sizeof(src));
  src.read_at = memsrc_read_at;
  src.size = memsrc_size;
  src.view_at = memsrc_view_at;
  src.release = memsrc_release;
  src.name = "IPC file in memory";
  src.private_data = m;
  struct otap_ipc_file_reader* r;
  OTAP_RETURN_NOT_OK(otap_ipc_file_reader_open(&r, &src, opts, err));
  return otap_ipc_file_reader_to_stream(r, out, err);
}

// ---------------------------------------------------------------------------------------------
// Schema messages alone

int otap_ipc_schema_decode(const void* data, size_t size, struct ArrowSchema* out,
                           struct otap_error* err) {
  const uint8_t* p = data;
  size_t n = size;
  uint32_t prefix;
  int64_t meta_len;
  bool legacy;
  if (n >= 8 && otap_load_u32le(p) == OTAP__IPC_CONTINUATION) {
    OTAP_RETURN_NOT_OK(otap__ipc_parse_prefix(p, n, 0, INT32_MAX, &prefix, &meta_len, &legacy, err));
    if ((uint64_t)meta_len > n - prefix)
      return otap_error_set(err, EINVAL, "Schema message of %lld bytes truncated to %zu",
                            (long long)meta_len, n - prefix);
    p += prefix;
    n = (size_t)meta_len;
  } else if (n >= 8 && otap_load_u32le(p) <= n - 4 && otap_load_u32le(p) >= 8 &&
             otap_load_u32le(p + 4) < otap_load_u32le(p)) {
    // legacy length prefix
    meta_len = otap_load_u32le(p);
    p += 4;
    n = (size_t)meta_len;
  }
  if (n > INT32_MAX) return otap_error_set(err, EINVAL, "Schema message too large");
  struct otap__fb fb = {p, (uint32_t)n, (int64_t)(p - (const uint8_t*)data), "Message"};
  struct otap__ipc_message msg;
  OTAP_RETURN_NOT_OK(otap__ipc_message_decode(&fb, &msg, err));
  if (msg.header_type != OTAP__MH_SCHEMA)
    return otap_error_set(err, EINVAL, "IPC message is not a Schema message");
  struct otap__ipc_schema s;
  OTAP_RETURN_NOT_OK(otap__ipc_schema_decode(&msg.header, 64, &s, err));
  otap_schema_move(&s.schema, out);
  otap__ipc_schema_reset(&s);
  return 0;
}
