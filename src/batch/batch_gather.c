// Specialized take and concat over the batcher's working-form tables.
//
// The working form only holds a few layouts: structs, fixed-width values (ints, floats,
// timestamps, fixed-size binary), booleans, string/binary with 32- or 64-bit offsets, and
// dictionary<int32> columns that all share one global dictionary per column. For those, a
// column is produced in one pass into a preallocated buffer: fixed width is a typed copy loop,
// strings are two passes (sizes, then bytes), validity bitmaps are built only when a source
// has nulls, and dictionaries are shared by reference. The result is finished without
// re-validation (the sources were validated at entry). Anything else falls back to the
// generic otap_array_take / otap_array_concat.
#include <errno.h>
#include <string.h>

#include "batch/batch_internal.h"

// Bytes per value of a fixed-width format; 0 for other layouts.
static int64_t fixed_width(const char* f) {
  switch (f[0]) {
    case 'c':
    case 'C':
      return f[1] == 0 ? 1 : 0;
    case 's':
    case 'S':
    case 'e':
      return f[1] == 0 ? 2 : 0;
    case 'i':
    case 'I':
    case 'f':
      return f[1] == 0 ? 4 : 0;
    case 'l':
    case 'L':
    case 'g':
      return f[1] == 0 ? 8 : 0;
    case 'w': {
      if (f[1] != ':') return 0;
      int64_t w = 0;
      for (const char* p = f + 2; *p; p++) {
        if (*p < '0' || *p > '9' || w > 1000000) return 0;
        w = w * 10 + (*p - '0');
      }
      return w;
    }
    case 't':
      if (f[1] == 's' || f[1] == 'D') return 8;  // timestamp, duration
      if (f[1] == 'd') return f[2] == 'D' ? 4 : (f[2] == 'm' ? 8 : 0);
      if (f[1] == 't') return (f[2] == 's' || f[2] == 'm') ? 4 : ((f[2] == 'u' || f[2] == 'n') ? 8 : 0);
      return 0;
    default:
      return 0;
  }
}

enum layout { L_NONE = 0, L_STRUCT, L_FIXED, L_BOOL, L_STR32, L_STR64, L_DICT };

static enum layout layout_of(const struct ArrowSchema* s, int64_t* width) {
  *width = 0;
  if (s->dictionary) {
    *width = fixed_width(s->format);
    return *width > 0 ? L_DICT : L_NONE;
  }
  const char* f = s->format;
  if (strcmp(f, "+s") == 0) return L_STRUCT;
  if (strcmp(f, "b") == 0) return L_BOOL;
  if (strcmp(f, "u") == 0 || strcmp(f, "z") == 0) return L_STR32;
  if (strcmp(f, "U") == 0 || strcmp(f, "Z") == 0) return L_STR64;
  *width = fixed_width(f);
  return *width > 0 ? L_FIXED : L_NONE;
}

// Whether every node of the schema has a supported layout, and (for concat) every part's
// dictionaries are one shared array.
static bool supported(const struct ArrowSchema* s, const struct ArrowArray* const* parts,
                      int64_t np) {
  int64_t w;
  enum layout l = layout_of(s, &w);
  if (l == L_NONE) return false;
  for (int64_t k = 0; k < np; k++) {
    const struct ArrowArray* a = parts[k];
    if (a->n_children != s->n_children) return false;
    if (l == L_STRUCT) continue;
    if (a->n_buffers < (l == L_STR32 || l == L_STR64 ? 3 : 2)) return false;
    if (l == L_DICT) {
      const struct ArrowArray* d0 = parts[0]->dictionary;
      const struct ArrowArray* d = a->dictionary;
      if (!d || !d0 || d->length != d0->length || d->offset != d0->offset ||
          d->n_buffers != d0->n_buffers)
        return false;
      for (int64_t b = 0; b < d->n_buffers; b++) {
        if (d->buffers[b] != d0->buffers[b]) return false;
      }
    }
  }
  if (l == L_STRUCT) {
    const struct ArrowArray** sub = NULL;
    bool ok = true;
    if (np > 0) {
      sub = otap_malloc((size_t)np * sizeof(*sub));
      if (!sub) return false;
    }
    for (int64_t c = 0; ok && c < s->n_children; c++) {
      for (int64_t k = 0; k < np; k++) sub[k] = parts[k]->children[c];
      ok = supported(s->children[c], sub, np);
    }
    otap_free(sub);
    return ok;
  }
  return true;
}

static inline bool has_nulls(const struct ArrowArray* a) {
  return a->null_count != 0 && a->n_buffers > 0 && a->buffers[0] != NULL;
}

static int set_buf(struct ArrowArray* out, int64_t i, struct otap_buffer* b) {
  int rc = otap_array_set_buffer(out, i, b);
  otap_buffer_reset(b);
  return rc;
}

static int share_dict(struct ArrowArray* out, const struct ArrowArray* src,
                      struct otap_error* err) {
  struct ArrowArray ref;
  OTAP_RETURN_NOT_OK(otap_array_ref(src, &ref, err));
  otap_array_release(out->dictionary);
  otap_array_move(&ref, out->dictionary);
  return 0;
}

// dst bit i = src bit (off + rows[i]); dst holds otap_bytes_for_bits(n) bytes.
static void gather_bits(const uint8_t* src, int64_t off, const int64_t* rows, int64_t n,
                        uint8_t* dst) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    unsigned v = 0;
    for (int j = 0; j < 8; j++) {
      int64_t r = off + rows[i + j];
      v |= (unsigned)((src[r >> 3] >> (r & 7)) & 1) << j;
    }
    dst[i >> 3] = (uint8_t)v;
  }
  if (i < n) {
    unsigned v = 0;
    for (int j = 0; i + j < n; j++) {
      int64_t r = off + rows[i + j];
      v |= (unsigned)((src[r >> 3] >> (r & 7)) & 1) << j;
    }
    dst[i >> 3] = (uint8_t)v;
  }
}

// ---------------------------------------------------------------------------------------------
// Take: out[i] = in[base + rows[i]] (rows non-negative, in range: built by the batcher)

static int take_rec(const struct ArrowSchema* s, const struct ArrowArray* in, int64_t base,
                    const int64_t* rows, int64_t n, struct ArrowArray* out,
                    struct otap_error* err) {
  int64_t w;
  enum layout l = layout_of(s, &w);
  int64_t off = in->offset + base;
  struct otap_buffer b;
  otap_buffer_init(&b);
  if (has_nulls(in)) {
    OTAP_RETURN_IF(otap_buffer_resize(&b, otap_bytes_for_bits(n), true), err, ENOMEM,
                   "batch: out of memory (take)");
    gather_bits(in->buffers[0], off, rows, n, b.data);
    OTAP_RETURN_IF(set_buf(out, 0, &b), err, ENOMEM, "batch: out of memory (take)");
  }
  switch (l) {
    case L_STRUCT:
      for (int64_t c = 0; c < s->n_children; c++) {
        OTAP_RETURN_NOT_OK(
            take_rec(s->children[c], in->children[c], off, rows, n, out->children[c], err));
      }
      break;
    case L_DICT:
      OTAP_RETURN_NOT_OK(share_dict(out, in->dictionary, err));
      // fallthrough
    case L_FIXED: {
      OTAP_RETURN_IF(otap_buffer_resize(&b, n * w > 0 ? n * w : 1, false), err, ENOMEM,
                     "batch: out of memory (take)");
      const uint8_t* src = in->buffers[1];
      uint8_t* dst = b.data;
      switch (w) {
        case 1:
          for (int64_t i = 0; i < n; i++) dst[i] = src[off + rows[i]];
          break;
        case 2: {
          const uint16_t* s16 = (const uint16_t*)src;
          uint16_t* d16 = (uint16_t*)dst;
          for (int64_t i = 0; i < n; i++) d16[i] = s16[off + rows[i]];
          break;
        }
        case 4: {
          const uint32_t* s32 = (const uint32_t*)src;
          uint32_t* d32 = (uint32_t*)dst;
          for (int64_t i = 0; i < n; i++) d32[i] = s32[off + rows[i]];
          break;
        }
        case 8: {
          const uint64_t* s64 = (const uint64_t*)src;
          uint64_t* d64 = (uint64_t*)dst;
          for (int64_t i = 0; i < n; i++) d64[i] = s64[off + rows[i]];
          break;
        }
        case 16:
          for (int64_t i = 0; i < n; i++) memcpy(dst + 16 * i, src + 16 * (off + rows[i]), 16);
          break;
        default:
          for (int64_t i = 0; i < n; i++) {
            memcpy(dst + w * i, src + w * (off + rows[i]), (size_t)w);
          }
          break;
      }
      b.size = n * w;
      OTAP_RETURN_IF(set_buf(out, 1, &b), err, ENOMEM, "batch: out of memory (take)");
      break;
    }
    case L_BOOL: {
      OTAP_RETURN_IF(otap_buffer_resize(&b, otap_bytes_for_bits(n), true), err, ENOMEM,
                     "batch: out of memory (take)");
      gather_bits(in->buffers[1], off, rows, n, b.data);
      OTAP_RETURN_IF(set_buf(out, 1, &b), err, ENOMEM, "batch: out of memory (take)");
      break;
    }
    case L_STR32:
    case L_STR64: {
      bool wide = l == L_STR64;
      int64_t ow = wide ? 8 : 4;
      OTAP_RETURN_IF(otap_buffer_resize(&b, (n + 1) * ow, false), err, ENOMEM,
                     "batch: out of memory (take)");
      int64_t total = 0;
      // Offsets are checked here (inputs are validated at the DEFAULT level only: first and
      // last offsets): every range must lie inside [first, last] and not be reversed.
      bool bad = false;
      if (wide) {
        const int64_t* so = (const int64_t*)in->buffers[1];
        int64_t lo = so[in->offset], hi = so[in->offset + in->length];
        int64_t* d = (int64_t*)b.data;
        d[0] = 0;
        for (int64_t i = 0; i < n; i++) {
          int64_t r = off + rows[i];
          bad |= so[r] < lo || so[r + 1] < so[r] || so[r + 1] > hi;
          total += so[r + 1] - so[r];
          d[i + 1] = total;
        }
      } else {
        const int32_t* so = (const int32_t*)in->buffers[1];
        int64_t lo = so[in->offset], hi = so[in->offset + in->length];
        int32_t* d = (int32_t*)b.data;
        d[0] = 0;
        for (int64_t i = 0; i < n && !bad; i++) {
          int64_t r = off + rows[i];
          bad |= so[r] < lo || so[r + 1] < so[r] || so[r + 1] > hi;
          total += (int64_t)so[r + 1] - so[r];
          if (total > INT32_MAX) {
            otap_buffer_reset(&b);
            return otap_error_set(err, EINVAL, "batch: string column %s exceeds 2 GiB",
                                  s->name ? s->name : "");
          }
          d[i + 1] = (int32_t)total;
        }
      }
      if (bad) {
        otap_buffer_reset(&b);
        return otap_error_set(err, EINVAL, "batch: column %s: offsets out of order or range",
                              s->name ? s->name : "");
      }
      struct otap_buffer data;
      otap_buffer_init(&data);
      if (otap_buffer_resize(&data, total > 0 ? total : 1, false)) {
        otap_buffer_reset(&b);
        return otap_error_set(err, ENOMEM, "batch: out of memory (take)");
      }
      data.size = total;
      const uint8_t* sd = in->buffers[2];
      uint8_t* dd = data.data;
      int64_t pos = 0;
      for (int64_t i = 0; i < n; i++) {
        int64_t r = off + rows[i], a0, a1;
        if (wide) {
          a0 = ((const int64_t*)in->buffers[1])[r];
          a1 = ((const int64_t*)in->buffers[1])[r + 1];
        } else {
          a0 = ((const int32_t*)in->buffers[1])[r];
          a1 = ((const int32_t*)in->buffers[1])[r + 1];
        }
        if (a1 > a0) memcpy(dd + pos, sd + a0, (size_t)(a1 - a0));
        pos += a1 - a0;
      }
      int rc = set_buf(out, 1, &b);
      if (rc == 0) rc = set_buf(out, 2, &data);
      otap_buffer_reset(&b);
      otap_buffer_reset(&data);
      OTAP_RETURN_IF(rc, err, ENOMEM, "batch: out of memory (take)");
      break;
    }
    default:
      return otap_error_set(err, EINVAL, "batch: internal: unsupported layout");
  }
  out->length = n;
  return 0;
}

static int concat_rec(const struct ArrowSchema* s, const struct ArrowArray* const* parts,
                      const int64_t* base, int64_t np, const int64_t* lens, int64_t n,
                      struct ArrowArray* out, struct otap_error* err);

static int take_runs(const struct ArrowSchema* s, const struct ArrowArray* in,
                     const int64_t* rows, int64_t n, int64_t nruns, struct ArrowArray* out,
                     struct otap_error* err) {
  const struct ArrowArray** parts = otap_malloc((size_t)nruns * sizeof(*parts));
  int64_t* base = otap_malloc((size_t)nruns * sizeof(int64_t));
  int64_t* lens = otap_malloc((size_t)nruns * sizeof(int64_t));
  int rc = 0;
  if (!parts || !base || !lens) {
    rc = otap_error_set(err, ENOMEM, "batch: out of memory (take)");
    goto done;
  }
  int64_t k = -1;
  for (int64_t i = 0; i < n; i++) {
    if (i == 0 || rows[i] != rows[i - 1] + 1) {
      k++;
      parts[k] = in;
      base[k] = rows[i];
      lens[k] = 0;
    }
    lens[k]++;
  }
  rc = otap_array_init_from_schema(out, s, err);
  if (rc) goto done;
  rc = concat_rec(s, parts, base, nruns, lens, n, out, err);
  if (rc == 0) rc = otap_array_finish(out, OTAP_VALIDATE_NONE, s, err);
  if (rc) otap_array_release(out);
done:
  otap_free(parts);
  otap_free(base);
  otap_free(lens);
  return rc;
}

int otap__batch_take(const struct ArrowSchema* s, const struct ArrowArray* in,
                     const int64_t* rows, int64_t n, struct ArrowArray* out,
                     struct otap_error* err) {
  const struct ArrowArray* one = in;
  if (!supported(s, &one, 1)) return otap_array_take(s, in, rows, n, out, err);
  // Runs of consecutive rows (input order, attribute rows of consecutive parents): when they
  // are long enough, the take is a concatenation of slices (memcpy per run and column).
  int64_t nruns = n > 0 ? 1 : 0;
  for (int64_t i = 1; i < n; i++) nruns += rows[i] != rows[i - 1] + 1;
  if (n >= 64 && nruns * 16 <= n) return take_runs(s, in, rows, n, nruns, out, err);
  OTAP_RETURN_NOT_OK(otap_array_init_from_schema(out, s, err));
  int rc = take_rec(s, in, 0, rows, n, out, err);
  if (rc == 0) rc = otap_array_finish(out, OTAP_VALIDATE_NONE, s, err);
  if (rc) otap_array_release(out);
  return rc;
}

// ---------------------------------------------------------------------------------------------
// Concat: parts[k] rows [base[k], base[k] + parts[k]->length)

static int concat_rec(const struct ArrowSchema* s, const struct ArrowArray* const* parts,
                      const int64_t* base, int64_t np, const int64_t* lens, int64_t n,
                      struct ArrowArray* out, struct otap_error* err) {
  int64_t w;
  enum layout l = layout_of(s, &w);
  struct otap_buffer b;
  otap_buffer_init(&b);
  bool nulls = false;
  for (int64_t k = 0; k < np; k++) nulls |= has_nulls(parts[k]);
  if (nulls) {
    OTAP_RETURN_IF(otap_buffer_resize(&b, otap_bytes_for_bits(n), true), err, ENOMEM,
                   "batch: out of memory (concat)");
    int64_t at = 0;
    for (int64_t k = 0; k < np; k++) {
      const struct ArrowArray* a = parts[k];
      if (has_nulls(a)) {
        otap_bitmap_copy(b.data, at, a->buffers[0], a->offset + base[k], lens[k]);
      } else {
        for (int64_t i = 0; i < lens[k]; i++) otap_bit_set(b.data, at + i);
      }
      at += lens[k];
    }
    OTAP_RETURN_IF(set_buf(out, 0, &b), err, ENOMEM, "batch: out of memory (concat)");
  }
  switch (l) {
    case L_STRUCT: {
      int64_t* sub_base = otap_malloc((size_t)(np > 0 ? np : 1) * sizeof(int64_t));
      const struct ArrowArray** sub = otap_malloc((size_t)(np > 0 ? np : 1) * sizeof(*sub));
      int rc = 0;
      if (!sub_base || !sub) rc = otap_error_set(err, ENOMEM, "batch: out of memory (concat)");
      for (int64_t c = 0; rc == 0 && c < s->n_children; c++) {
        for (int64_t k = 0; k < np; k++) {
          sub[k] = parts[k]->children[c];
          sub_base[k] = parts[k]->offset + base[k];
        }
        rc = concat_rec(s->children[c], sub, sub_base, np, lens, n, out->children[c], err);
      }
      otap_free(sub_base);
      otap_free(sub);
      if (rc) return rc;
      break;
    }
    case L_DICT:
      if (np > 0) OTAP_RETURN_NOT_OK(share_dict(out, parts[0]->dictionary, err));
      // fallthrough
    case L_FIXED: {
      OTAP_RETURN_IF(otap_buffer_resize(&b, n * w > 0 ? n * w : 1, false), err, ENOMEM,
                     "batch: out of memory (concat)");
      int64_t at = 0;
      for (int64_t k = 0; k < np; k++) {
        const struct ArrowArray* a = parts[k];
        if (lens[k] > 0 && w > 0) {
          memcpy(b.data + at * w, (const uint8_t*)a->buffers[1] + (a->offset + base[k]) * w,
                 (size_t)(lens[k] * w));
        }
        at += lens[k];
      }
      b.size = n * w;
      OTAP_RETURN_IF(set_buf(out, 1, &b), err, ENOMEM, "batch: out of memory (concat)");
      break;
    }
    case L_BOOL: {
      OTAP_RETURN_IF(otap_buffer_resize(&b, otap_bytes_for_bits(n), true), err, ENOMEM,
                     "batch: out of memory (concat)");
      int64_t at = 0;
      for (int64_t k = 0; k < np; k++) {
        const struct ArrowArray* a = parts[k];
        otap_bitmap_copy(b.data, at, a->buffers[1], a->offset + base[k], lens[k]);
        at += lens[k];
      }
      OTAP_RETURN_IF(set_buf(out, 1, &b), err, ENOMEM, "batch: out of memory (concat)");
      break;
    }
    case L_STR32:
    case L_STR64: {
      bool wide = l == L_STR64;
      int64_t ow = wide ? 8 : 4;
      OTAP_RETURN_IF(otap_buffer_resize(&b, (n + 1) * ow, false), err, ENOMEM,
                     "batch: out of memory (concat)");
      int64_t total = 0;
      bool bad = false;
      // Every offset of a part must be monotonic inside the part's validated range (inputs
      // are validated at the DEFAULT level: first and last offsets only).
      for (int64_t k = 0; k < np && !bad; k++) {
        const struct ArrowArray* a = parts[k];
        int64_t r = a->offset + base[k];
        int64_t first = a->offset, last = a->offset + a->length;
        if (wide) {
          const int64_t* so = (const int64_t*)a->buffers[1];
          bad |= so[r] < so[first] || so[r + lens[k]] > so[last];
          for (int64_t i = 0; i < lens[k]; i++) bad |= so[r + i + 1] < so[r + i];
          total += so[r + lens[k]] - so[r];
        } else {
          const int32_t* so = (const int32_t*)a->buffers[1];
          bad |= so[r] < so[first] || so[r + lens[k]] > so[last];
          for (int64_t i = 0; i < lens[k]; i++) bad |= so[r + i + 1] < so[r + i];
          total += (int64_t)so[r + lens[k]] - so[r];
        }
      }
      if (bad) {
        otap_buffer_reset(&b);
        return otap_error_set(err, EINVAL, "batch: column %s: offsets out of order or range",
                              s->name ? s->name : "");
      }
      if (!wide && total > INT32_MAX) {
        otap_buffer_reset(&b);
        return otap_error_set(err, EINVAL, "batch: string column %s exceeds 2 GiB",
                              s->name ? s->name : "");
      }
      struct otap_buffer data;
      otap_buffer_init(&data);
      if (otap_buffer_resize(&data, total > 0 ? total : 1, false)) {
        otap_buffer_reset(&b);
        return otap_error_set(err, ENOMEM, "batch: out of memory (concat)");
      }
      data.size = total;
      int64_t at = 0, pos = 0;
      if (wide) {
        ((int64_t*)b.data)[0] = 0;
      } else {
        ((int32_t*)b.data)[0] = 0;
      }
      for (int64_t k = 0; k < np; k++) {
        const struct ArrowArray* a = parts[k];
        int64_t r = a->offset + base[k];
        int64_t a0;
        if (wide) {
          const int64_t* so = (const int64_t*)a->buffers[1] + r;
          int64_t* d = (int64_t*)b.data + at;
          a0 = so[0];
          for (int64_t i = 1; i <= lens[k]; i++) d[i] = so[i] - a0 + pos;
          if (so[lens[k]] > a0) {
            memcpy(data.data + pos, (const uint8_t*)a->buffers[2] + a0,
                   (size_t)(so[lens[k]] - a0));
          }
          pos += so[lens[k]] - a0;
        } else {
          const int32_t* so = (const int32_t*)a->buffers[1] + r;
          int32_t* d = (int32_t*)b.data + at;
          a0 = so[0];
          int64_t shift = pos - a0;
          for (int64_t i = 1; i <= lens[k]; i++) d[i] = (int32_t)(so[i] + shift);
          if (so[lens[k]] > a0) {
            memcpy(data.data + pos, (const uint8_t*)a->buffers[2] + a0,
                   (size_t)(so[lens[k]] - a0));
          }
          pos += so[lens[k]] - a0;
        }
        at += lens[k];
      }
      int rc = set_buf(out, 1, &b);
      if (rc == 0) rc = set_buf(out, 2, &data);
      otap_buffer_reset(&b);
      otap_buffer_reset(&data);
      OTAP_RETURN_IF(rc, err, ENOMEM, "batch: out of memory (concat)");
      break;
    }
    default:
      return otap_error_set(err, EINVAL, "batch: internal: unsupported layout");
  }
  out->length = n;
  return 0;
}

int otap__batch_concat(const struct ArrowSchema* s, const struct ArrowArray* const* parts,
                       int64_t np, struct ArrowArray* out, struct otap_error* err) {
  if (!supported(s, parts, np)) return otap_array_concat(s, parts, np, out, err);
  int64_t* base = otap_calloc((size_t)(np > 0 ? np : 1), sizeof(int64_t));
  int64_t* lens = otap_malloc((size_t)(np > 0 ? np : 1) * sizeof(int64_t));
  int rc = 0;
  if (!base || !lens) {
    rc = otap_error_set(err, ENOMEM, "batch: out of memory (concat)");
    goto done;
  }
  int64_t n = 0;
  for (int64_t k = 0; k < np; k++) {
    lens[k] = parts[k]->length;
    n += lens[k];
  }
  rc = otap_array_init_from_schema(out, s, err);
  if (rc) goto done;
  rc = concat_rec(s, parts, base, np, lens, n, out, err);
  if (rc == 0) rc = otap_array_finish(out, OTAP_VALIDATE_NONE, s, err);
  if (rc) otap_array_release(out);
done:
  otap_free(base);
  otap_free(lens);
  return rc;
}
