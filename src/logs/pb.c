// Hand-written protobuf wire codec for BatchArrowRecords / ArrowPayload (arrow_service.proto).
// Every length is checked against what remains; unknown fields are skipped by wire type.
#include <string.h>

#include "logs/logs_internal.h"

enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_SGROUP = 3, WT_EGROUP = 4, WT_I32 = 5 };

int otap_pb_read_varint(const uint8_t* data, int64_t size, int64_t* pos, uint64_t* out,
                        struct otap_error* err) {
  uint64_t v = 0;
  int64_t p = *pos;
  for (int shift = 0; shift < 70; shift += 7) {
    if (p >= size) {
      return otap_error_set(err, EINVAL, "truncated varint at byte offset %lld",
                            (long long)*pos);
    }
    uint8_t b = data[p++];
    if (shift == 63 && (b & 0x7e)) {
      return otap_error_set(err, EINVAL, "varint overflows 64 bits at byte offset %lld",
                            (long long)*pos);
    }
    v |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) {
      *pos = p;
      *out = v;
      return 0;
    }
  }
  return otap_error_set(err, EINVAL, "varint longer than 10 bytes at byte offset %lld",
                        (long long)*pos);
}

int otap_pb_append_varint(struct otap_buffer* out, uint64_t v) {
  uint8_t tmp[10];
  int n = 0;
  do {
    uint8_t b = (uint8_t)(v & 0x7f);
    v >>= 7;
    if (v) b |= 0x80;
    tmp[n++] = b;
  } while (v);
  return otap_buffer_append(out, tmp, n);
}

// Reads a field key; checks field number and wire type.
static int read_key(const uint8_t* d, int64_t size, int64_t* pos, int64_t base, uint32_t* field,
                    int* wt, struct otap_error* err) {
  int64_t at = *pos;
  uint64_t key;
  int rc = otap_pb_read_varint(d, size, pos, &key, err);
  if (rc) return otap_error_set(err, EINVAL, "truncated field key at byte offset %lld",
                                (long long)(base + at));
  *wt = (int)(key & 7);
  uint64_t f = key >> 3;
  if (f == 0 || f > 536870911u) {
    return otap_error_set(err, EINVAL, "invalid protobuf field number %llu at byte offset %lld",
                          (unsigned long long)f, (long long)(base + at));
  }
  *field = (uint32_t)f;
  return 0;
}

// Reads the length of a LEN field and checks it against what remains.
static int read_len(const uint8_t* d, int64_t size, int64_t* pos, int64_t base, const char* what,
                    int64_t* len, struct otap_error* err) {
  int64_t at = *pos;
  uint64_t v;
  if (otap_pb_read_varint(d, size, pos, &v, err)) {
    return otap_error_set(err, EINVAL, "truncated length of %s at byte offset %lld", what,
                          (long long)(base + at));
  }
  if (v > (uint64_t)(size - *pos)) {
    return otap_error_set(err, EINVAL,
                          "%s length %llu at byte offset %lld runs past the end of the message "
                          "(%lld bytes remain)",
                          what, (unsigned long long)v, (long long)(base + at),
                          (long long)(size - *pos));
  }
  *len = (int64_t)v;
  return 0;
}

static int skip_field(const uint8_t* d, int64_t size, int64_t* pos, int64_t base, int wt,
                      uint32_t field, struct otap_error* err) {
  int64_t at = *pos;
  switch (wt) {
    case WT_VARINT: {
      uint64_t v;
      if (otap_pb_read_varint(d, size, pos, &v, err)) {
        return otap_error_set(err, EINVAL, "truncated varint of field %u at byte offset %lld",
                              field, (long long)(base + at));
      }
      return 0;
    }
    case WT_I64:
    case WT_I32: {
      int64_t n = wt == WT_I64 ? 8 : 4;
      if (size - *pos < n) {
        return otap_error_set(err, EINVAL, "truncated fixed-width field %u at byte offset %lld",
                              field, (long long)(base + at));
      }
      *pos += n;
      return 0;
    }
    case WT_LEN: {
      int64_t len = 0;
      OTAP_RETURN_NOT_OK(read_len(d, size, pos, base, "unknown field", &len, err));
      *pos += len;
      return 0;
    }
    default:
      return otap_error_set(err, EINVAL,
                            "unsupported protobuf wire type %d (field %u) at byte offset %lld", wt,
                            field, (long long)(base + at));
  }
}

static int wrong_type(struct otap_error* err, const char* what, int wt, int64_t off) {
  return otap_error_set(err, EINVAL, "%s has wire type %d at byte offset %lld", what, wt,
                        (long long)off);
}

static int decode_payload(const uint8_t* d, int64_t size, int64_t base,
                          struct otap_arrow_payload_msg* out, struct otap_error* err) {
  memset(out, 0, sizeof(*out));
  out->schema_id = "";
  out->record = d;  // empty
  int64_t pos = 0;
  while (pos < size) {
    int64_t at = pos;
    uint32_t field = 0;
    int wt = 0;
    OTAP_RETURN_NOT_OK(read_key(d, size, &pos, base, &field, &wt, err));
    if (field == 1 || field == 3) {
      const char* what = field == 1 ? "ArrowPayload.schema_id" : "ArrowPayload.record";
      if (wt != WT_LEN) return wrong_type(err, what, wt, base + at);
      int64_t len = 0;
      OTAP_RETURN_NOT_OK(read_len(d, size, &pos, base, what, &len, err));
      if (field == 1) {
        out->schema_id = (const char*)d + pos;
        out->schema_id_len = len;
      } else {
        out->record = d + pos;
        out->record_len = len;
      }
      pos += len;
    } else if (field == 2) {
      if (wt != WT_VARINT) return wrong_type(err, "ArrowPayload.type", wt, base + at);
      uint64_t v;
      int64_t vat = pos;
      if (otap_pb_read_varint(d, size, &pos, &v, err)) {
        return otap_error_set(err, EINVAL, "truncated ArrowPayload.type at byte offset %lld",
                              (long long)(base + vat));
      }
      out->type = (int32_t)(uint32_t)v;
    } else {
      OTAP_RETURN_NOT_OK(skip_field(d, size, &pos, base, wt, field, err));
    }
  }
  return 0;
}

int otap_bar_decode(const uint8_t* data, int64_t size, int64_t base_offset,
                    struct otap_bar_msg* out, struct otap_error* err) {
  memset(out, 0, sizeof(*out));
  if (size < 0 || size > OTAP_BAR_MAX_MESSAGE_SIZE) {
    return otap_error_set(err, EINVAL, "BatchArrowRecords of %lld bytes exceeds the cap",
                          (long long)size);
  }
  int rc = 0;
  int64_t pos = 0, cap = 0;
  while (pos < size) {
    int64_t at = pos;
    uint32_t field = 0;
    int wt = 0;
    OTAP_GOTO_NOT_OK(rc, read_key(data, size, &pos, base_offset, &field, &wt, err));
    if (field == 1) {
      if (wt != WT_VARINT) {
        rc = wrong_type(err, "BatchArrowRecords.batch_id", wt, base_offset + at);
        goto done;
      }
      uint64_t v;
      int64_t vat = pos;
      if (otap_pb_read_varint(data, size, &pos, &v, err)) {
        rc = otap_error_set(err, EINVAL, "truncated batch_id at byte offset %lld",
                            (long long)(base_offset + vat));
        goto done;
      }
      out->batch_id = (int64_t)v;
    } else if (field == 2 || field == 3) {
      const char* what =
          field == 2 ? "BatchArrowRecords.arrow_payloads" : "BatchArrowRecords.headers";
      if (wt != WT_LEN) {
        rc = wrong_type(err, what, wt, base_offset + at);
        goto done;
      }
      int64_t len = 0;
      OTAP_GOTO_NOT_OK(rc, read_len(data, size, &pos, base_offset, what, &len, err));
      if (field == 3) {
        out->headers = data + pos;
        out->headers_len = len;
      } else {
        if (out->n_payloads >= OTAP_BAR_MAX_PAYLOADS) {
          rc = otap_error_set(err, EINVAL,
                              "more than %d arrow_payloads in one message (byte offset %lld)",
                              OTAP_BAR_MAX_PAYLOADS, (long long)(base_offset + at));
          goto done;
        }
        if (out->n_payloads == cap) {
          int64_t ncap = cap ? cap * 2 : 4;
          void* np = otap_realloc(out->payloads, (size_t)ncap * sizeof(*out->payloads));
          if (!np) {
            rc = otap_error_set(err, ENOMEM, "out of memory decoding BatchArrowRecords");
            goto done;
          }
          out->payloads = np;
          cap = ncap;
        }
        OTAP_GOTO_NOT_OK(rc, decode_payload(data + pos, len, base_offset + pos,
                                            &out->payloads[out->n_payloads], err));
        out->n_payloads++;
      }
      pos += len;
    } else {
      OTAP_GOTO_NOT_OK(rc, skip_field(data, size, &pos, base_offset, wt, field, err));
    }
  }
done:
  if (rc) otap_bar_reset(out);
  return rc;
}

void otap_bar_reset(struct otap_bar_msg* msg) {
  if (!msg) return;
  otap_free(msg->payloads);
  memset(msg, 0, sizeof(*msg));
}

static int append_len_field(struct otap_buffer* out, uint32_t field, const void* data,
                            int64_t len) {
  OTAP_RETURN_NOT_OK(otap_pb_append_varint(out, ((uint64_t)field << 3) | WT_LEN));
  OTAP_RETURN_NOT_OK(otap_pb_append_varint(out, (uint64_t)len));
  return len ? otap_buffer_append(out, data, len) : 0;
}

static uint64_t varint_size(uint64_t v) {
  uint64_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    n++;
  }
  return n;
}

int otap_bar_encode(const struct otap_bar_msg* msg, struct otap_buffer* out) {
  if (msg->batch_id != 0) {
    OTAP_RETURN_NOT_OK(otap_pb_append_varint(out, (1u << 3) | WT_VARINT));
    OTAP_RETURN_NOT_OK(otap_pb_append_varint(out, (uint64_t)msg->batch_id));
  }
  for (int64_t i = 0; i < msg->n_payloads; i++) {
    const struct otap_arrow_payload_msg* p = &msg->payloads[i];
    uint64_t inner = 0;
    if (p->schema_id_len) inner += 1 + varint_size((uint64_t)p->schema_id_len) + (uint64_t)p->schema_id_len;
    if (p->type) inner += 1 + varint_size((uint64_t)(int64_t)p->type);
    if (p->record_len) inner += 1 + varint_size((uint64_t)p->record_len) + (uint64_t)p->record_len;
    OTAP_RETURN_NOT_OK(otap_pb_append_varint(out, (2u << 3) | WT_LEN));
    OTAP_RETURN_NOT_OK(otap_pb_append_varint(out, inner));
    if (p->schema_id_len) OTAP_RETURN_NOT_OK(append_len_field(out, 1, p->schema_id, p->schema_id_len));
    if (p->type) {
      OTAP_RETURN_NOT_OK(otap_pb_append_varint(out, (2u << 3) | WT_VARINT));
      OTAP_RETURN_NOT_OK(otap_pb_append_varint(out, (uint64_t)(int64_t)p->type));
    }
    if (p->record_len) OTAP_RETURN_NOT_OK(append_len_field(out, 3, p->record, p->record_len));
  }
  if (msg->headers_len) OTAP_RETURN_NOT_OK(append_len_field(out, 3, msg->headers, msg->headers_len));
  return 0;
}
