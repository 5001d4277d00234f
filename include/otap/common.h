// otap/common.h: errors, allocation, growable buffers, bitmaps and I/O vtables.
//
// Every other module builds on this one. Functions return 0 or an errno value and take a
// caller-owned `struct otap_error*` (may be NULL) as their last parameter. All allocation goes
// through one hook (otap_set_allocator) so tests can make the Nth allocation fail.
// Nothing here is thread-safe unless stated; distinct objects may be used from distinct threads.
#ifndef OTAP_COMMON_H
#define OTAP_COMMON_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(OTAP_STATIC_DEFINE)
#define OTAP_API
#elif defined(__GNUC__)
#define OTAP_API __attribute__((visibility("default")))
#else
#define OTAP_API
#endif

#if defined(__GNUC__)
#define OTAP_WUR __attribute__((warn_unused_result))
#define OTAP_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#define OTAP_LIKELY(x) __builtin_expect(!!(x), 1)
#define OTAP_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define OTAP_WUR
#define OTAP_PRINTF(fmt, args)
#define OTAP_LIKELY(x) (x)
#define OTAP_UNLIKELY(x) (x)
#endif

#define OTAP_VERSION_MAJOR 0
#define OTAP_VERSION_MINOR 1
#define OTAP_VERSION_PATCH 0
#define OTAP_VERSION_STRING "0.1.0"

/// Library version string ("MAJOR.MINOR.PATCH"). Borrowed, static.
OTAP_API const char* otap_version(void);

// ---------------------------------------------------------------------------------------------
// Errors

#define OTAP_ERROR_MESSAGE_MAX 1024

/// Caller-owned error holder. `message` is always NUL-terminated after any otap call that
/// failed with it; on success its content is unspecified.
struct otap_error {
  char message[OTAP_ERROR_MESSAGE_MAX];
};

/// Writes a formatted message into `err` (if not NULL) and returns `code`.
OTAP_API int otap_error_set(struct otap_error* err, int code, const char* fmt, ...)
    OTAP_PRINTF(3, 4);

/// Prepends a formatted context ("file x.parquet: ") to the message already in `err` and
/// returns `code`. Use when propagating an error upward with more context.
OTAP_API int otap_error_prefix(struct otap_error* err, int code, const char* fmt, ...)
    OTAP_PRINTF(3, 4);

/// Short name of an errno value used by otap ("EINVAL", "ENOTSUP", ...). Borrowed, static.
OTAP_API const char* otap_errno_name(int code);

#define OTAP_RETURN_NOT_OK(expr)            \
  do {                                      \
    int otap_rc_ = (expr);                  \
    if (OTAP_UNLIKELY(otap_rc_ != 0)) return otap_rc_; \
  } while (0)

/// Returns `code` with a formatted message when `cond` holds.
#define OTAP_RETURN_IF(cond, err, code, ...)                       \
  do {                                                             \
    if (OTAP_UNLIKELY(cond)) return otap_error_set((err), (code), __VA_ARGS__); \
  } while (0)

/// Jumps to `done` with rc set when expr fails (use with one `done:` cleanup label).
#define OTAP_GOTO_NOT_OK(rc, expr)           \
  do {                                       \
    (rc) = (expr);                           \
    if (OTAP_UNLIKELY((rc) != 0)) goto done; \
  } while (0)

// ---------------------------------------------------------------------------------------------
// Allocation hook

struct otap_allocator {
  void* (*malloc)(size_t size, void* user_data);
  void* (*realloc)(void* ptr, size_t size, void* user_data);
  void (*free)(void* ptr, void* user_data);
  void* user_data;
};

/// Installs the process-wide allocator (NULL restores the C library's). Not thread-safe: call
/// before any other otap function. Memory is always freed by the allocator that made it, so the
/// hook may only be changed while no otap allocation is alive.
OTAP_API void otap_set_allocator(const struct otap_allocator* allocator);

/// Allocation through the hook. malloc(0) returns a unique non-NULL pointer. Returned memory is
/// aligned to at least 16 bytes.
OTAP_API void* otap_malloc(size_t size);
OTAP_API void* otap_calloc(size_t n, size_t size);  // overflow-checked
OTAP_API void* otap_realloc(void* ptr, size_t size);
OTAP_API void otap_free(void* ptr);
OTAP_API char* otap_strdup(const char* s);
OTAP_API char* otap_strndup(const char* s, size_t n);

// ---------------------------------------------------------------------------------------------
// Growable, size-capped byte buffers

/// Upper bound on any single buffer (bytes) unless raised: 16 GiB. Requests past the cap fail
/// with ENOMEM and a message, never an abort.
#define OTAP_BUFFER_DEFAULT_CAP ((int64_t)16 << 30)

struct otap_buffer {
  uint8_t* data;     // owned, allocated with otap_malloc; NULL when capacity == 0
  int64_t size;      // bytes in use
  int64_t capacity;  // bytes allocated
};

/// Zeroes the struct (no allocation).
OTAP_API void otap_buffer_init(struct otap_buffer* buf);
/// Frees the memory and zeroes the struct. Safe on an initialized or zeroed buffer.
OTAP_API void otap_buffer_reset(struct otap_buffer* buf);
/// Ensures capacity >= size + additional (grows geometrically). ENOMEM on failure or cap.
OTAP_API int otap_buffer_reserve(struct otap_buffer* buf, int64_t additional) OTAP_WUR;
/// Sets size, growing if needed; new bytes are zeroed when zero_fill.
OTAP_API int otap_buffer_resize(struct otap_buffer* buf, int64_t new_size, bool zero_fill) OTAP_WUR;
/// Appends n bytes.
OTAP_API int otap_buffer_append(struct otap_buffer* buf, const void* data, int64_t n) OTAP_WUR;
/// Appends n copies of byte `value`.
OTAP_API int otap_buffer_append_fill(struct otap_buffer* buf, uint8_t value, int64_t n) OTAP_WUR;
/// Appends a printf-formatted string (without the terminating NUL; data stays NUL-terminated
/// past `size` when room allows).
OTAP_API int otap_buffer_appendf(struct otap_buffer* buf, const char* fmt, ...) OTAP_PRINTF(2, 3);
/// Moves src into dst (dst must be reset/empty); src becomes empty.
OTAP_API void otap_buffer_move(struct otap_buffer* src, struct otap_buffer* dst);

static inline void otap_buffer_append_unsafe(struct otap_buffer* buf, const void* data,
                                             int64_t n) {
  for (int64_t i = 0; i < n; i++) buf->data[buf->size + i] = ((const uint8_t*)data)[i];
  buf->size += n;
}

// ---------------------------------------------------------------------------------------------
// Reference-counted immutable memory (zero-copy sharing of decoded blocks between arrays)

struct otap_shared;

/// Wraps `data` (size bytes) with refcount 1. `free_fn(data, ctx)` runs when the count drops to
/// zero (NULL free_fn: data is released with otap_free). On failure data is NOT freed.
OTAP_API int otap_shared_new(struct otap_shared** out, void* data, int64_t size,
                             void (*free_fn)(void* data, void* ctx), void* ctx) OTAP_WUR;
/// Takes the memory of `buf` (buf becomes empty) into a new shared block.
OTAP_API int otap_shared_from_buffer(struct otap_shared** out, struct otap_buffer* buf) OTAP_WUR;
OTAP_API void otap_shared_ref(struct otap_shared* s);
/// Drops one reference; NULL is allowed. Thread-safe (atomic count).
OTAP_API void otap_shared_unref(struct otap_shared* s);
OTAP_API const uint8_t* otap_shared_data(const struct otap_shared* s);
OTAP_API int64_t otap_shared_size(const struct otap_shared* s);

// ---------------------------------------------------------------------------------------------
// Bitmaps (LSB-first, as Arrow)

static inline bool otap_bit_get(const uint8_t* bits, int64_t i) {
  return (bits[i >> 3] >> (i & 7)) & 1;
}
static inline void otap_bit_set(uint8_t* bits, int64_t i) { bits[i >> 3] |= (uint8_t)(1u << (i & 7)); }
static inline void otap_bit_clear(uint8_t* bits, int64_t i) {
  bits[i >> 3] &= (uint8_t)~(1u << (i & 7));
}
static inline void otap_bit_set_to(uint8_t* bits, int64_t i, bool v) {
  bits[i >> 3] = (uint8_t)((bits[i >> 3] & ~(1u << (i & 7))) | ((unsigned)v << (i & 7)));
}
static inline int64_t otap_bytes_for_bits(int64_t n) { return (n + 7) >> 3; }

static inline uint64_t otap__bits_load(const uint8_t* p, int64_t extra) {
  uint64_t v = p[0];
  switch (extra) {
    case 4: v |= (uint64_t)p[4] << 32; /* fall through */
    case 3: v |= (uint64_t)p[3] << 24; /* fall through */
    case 2: v |= (uint64_t)p[2] << 16; /* fall through */
    case 1: v |= (uint64_t)p[1] << 8; /* fall through */
    default: break;
  }
  return v;
}
static inline void otap__bits_store(uint8_t* p, int64_t extra, uint64_t v) {
  switch (extra) {
    case 4: p[4] = (uint8_t)(v >> 32); /* fall through */
    case 3: p[3] = (uint8_t)(v >> 24); /* fall through */
    case 2: p[2] = (uint8_t)(v >> 16); /* fall through */
    case 1: p[1] = (uint8_t)(v >> 8); /* fall through */
    default: break;
  }
  p[0] = (uint8_t)v;
}
/// Copies 1..32 bits (inline: short runs are common when rows are gathered one or a few at a
/// time). Reads only the source bytes the bits occupy and read-modify-writes only the
/// destination bytes they go to.
static inline void otap_bitmap_copy_short(uint8_t* dst, int64_t dst_offset, const uint8_t* src,
                                          int64_t src_offset, int64_t length) {
  int64_t sb = src_offset >> 3, db = dst_offset >> 3;
  uint64_t mask = (1ULL << length) - 1;
  uint64_t v = (otap__bits_load(src + sb, ((src_offset + length - 1) >> 3) - sb) >>
                (src_offset & 7)) & mask;
  int64_t dx = ((dst_offset + length - 1) >> 3) - db;
  int sh = (int)(dst_offset & 7);
  uint64_t w = otap__bits_load(dst + db, dx);
  otap__bits_store(dst + db, dx, (w & ~(mask << sh)) | (v << sh));
}

/// Number of set bits in bits[offset, offset+length).
OTAP_API int64_t otap_bitmap_count_set(const uint8_t* bits, int64_t offset, int64_t length);
/// Copies length bits from src at src_offset to dst at dst_offset.
OTAP_API void otap_bitmap_copy(uint8_t* dst, int64_t dst_offset, const uint8_t* src,
                               int64_t src_offset, int64_t length);

// ---------------------------------------------------------------------------------------------
// I/O vtables

/// Random-access byte source (local file, memory, object store range reader).
/// read_at reads exactly `len` bytes or fails (a short read is EIO with the offset, never a
/// silent success). Implementations may be called from one thread at a time.
struct otap_source {
  int (*read_at)(struct otap_source* self, uint64_t offset, void* buf, size_t len,
                 struct otap_error* err);
  /// Total size in bytes.
  int (*size)(struct otap_source* self, uint64_t* out, struct otap_error* err);
  /// Optional zero-copy access: points *out at [offset, offset+len) valid until release;
  /// NULL when unsupported (callers then use read_at).
  int (*view_at)(struct otap_source* self, uint64_t offset, size_t len, const uint8_t** out,
                 struct otap_error* err);
  /// Frees the source's resources; NULL after release. Safe to call once.
  void (*release)(struct otap_source* self);
  /// Name for error messages (path or URL); borrowed from the source.
  const char* name;
  void* private_data;
};

/// Opens a local file as a source (uses mmap when possible, so view_at works).
OTAP_API int otap_source_open_file(struct otap_source* out, const char* path,
                                   struct otap_error* err) OTAP_WUR;
/// A source over caller-owned memory (borrowed: must outlive the source).
OTAP_API int otap_source_init_memory(struct otap_source* out, const void* data, size_t size,
                                     const char* name, struct otap_error* err) OTAP_WUR;
/// Releases a source if it is set; safe on a zeroed struct.
OTAP_API void otap_source_release(struct otap_source* src);

/// Sequential byte sink (file, memory buffer, object store upload).
struct otap_sink {
  int (*write)(struct otap_sink* self, const void* data, size_t len, struct otap_error* err);
  /// Completes the output (for files: fsync-free flush, then atomic rename into place).
  int (*finish)(struct otap_sink* self, struct otap_error* err);
  /// Frees resources; if finish was not called successfully the output is discarded.
  void (*release)(struct otap_sink* self);
  const char* name;
  void* private_data;
};

/// A sink writing to `path`: the data goes to a temporary file in the same directory that is
/// renamed onto `path` by finish (readers never see half files). "-" writes to stdout.
OTAP_API int otap_sink_open_file(struct otap_sink* out, const char* path,
                                 struct otap_error* err) OTAP_WUR;
/// A sink appending to a caller-owned buffer (borrowed).
OTAP_API int otap_sink_init_buffer(struct otap_sink* out, struct otap_buffer* buf,
                                   struct otap_error* err) OTAP_WUR;
OTAP_API void otap_sink_release(struct otap_sink* sink);

/// Reads a whole file into buf (appends). "-" reads stdin. Capped by OTAP_BUFFER_DEFAULT_CAP.
OTAP_API int otap_read_file(const char* path, struct otap_buffer* buf,
                            struct otap_error* err) OTAP_WUR;

// ---------------------------------------------------------------------------------------------
// Little-endian loads/stores (unaligned-safe)

static inline uint16_t otap_load_u16le(const uint8_t* p) {
  return (uint16_t)(p[0] | (p[1] << 8));
}
static inline uint32_t otap_load_u32le(const uint8_t* p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline uint64_t otap_load_u64le(const uint8_t* p) {
  return (uint64_t)otap_load_u32le(p) | ((uint64_t)otap_load_u32le(p + 4) << 32);
}
static inline void otap_store_u16le(uint8_t* p, uint16_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}
static inline void otap_store_u32le(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static inline void otap_store_u64le(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

#ifdef __cplusplus
}
#endif

#endif  // OTAP_COMMON_H
