// Page compression for the Parquet writer: snappy, gzip, brotli, zstd, lz4_raw and the legacy
// Hadoop-framed lz4 (Compression.md).
#include <brotli/encode.h>
#include <limits.h>
#include <lz4.h>
#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

#include "parquet/pqw_internal.h"

static int too_big(struct otap_error* err, const char* codec, int64_t n) {
  return otap_error_set(err, EINVAL, "parquet writer: %s cannot compress a %lld-byte page", codec,
                        (long long)n);
}

static int gzip_compress(int level, const uint8_t* data, int64_t n, struct otap_buffer* out,
                         struct otap_error* err) {
  if (n > (int64_t)UINT_MAX / 2) return too_big(err, "gzip", n);
  z_stream zs;
  memset(&zs, 0, sizeof(zs));
  if (level == INT32_MIN) level = Z_DEFAULT_COMPRESSION;
  if (level < -1 || level > 9) level = Z_DEFAULT_COMPRESSION;
  if (deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return otap_error_set(err, ENOMEM, "parquet writer: gzip deflateInit2 failed");
  }
  uLong bound = deflateBound(&zs, (uLong)n) + 32;
  int rc = otap_buffer_reserve(out, (int64_t)bound);
  if (rc) {
    deflateEnd(&zs);
    return otap_error_set(err, rc, "parquet writer: out of memory compressing a page (gzip)");
  }
  zs.next_in = (Bytef*)data;
  zs.avail_in = (uInt)n;
  zs.next_out = out->data + out->size;
  zs.avail_out = (uInt)bound;
  int zr = deflate(&zs, Z_FINISH);
  if (zr != Z_STREAM_END) {
    deflateEnd(&zs);
    return otap_error_set(err, EIO, "parquet writer: gzip deflate failed (%d)", zr);
  }
  out->size += (int64_t)zs.total_out;
  deflateEnd(&zs);
  return 0;
}

void otap__pqw_codec_ctx_reset(struct pqw_codec_ctx* ctx) {
  if (!ctx) return;
  ZSTD_freeCCtx((ZSTD_CCtx*)ctx->zstd);
  ctx->zstd = NULL;
}

int otap__pqw_compress(enum otap_parquet_codec codec, int level, const uint8_t* data, int64_t n,
                       struct otap_buffer* out, struct otap_error* err) {
  return otap__pqw_compress_ctx(NULL, codec, level, data, n, out, err);
}

int otap__pqw_compress_ctx(struct pqw_codec_ctx* ctx, enum otap_parquet_codec codec, int level,
                           const uint8_t* data, int64_t n, struct otap_buffer* out,
                           struct otap_error* err) {
  static const uint8_t empty = 0;
  if (!data) data = &empty;
  switch (codec) {
    case OTAP_PARQUET_CODEC_UNCOMPRESSED:
      if (otap_buffer_append(out, data, n)) {
        return otap_error_set(err, ENOMEM, "parquet writer: out of memory for a page");
      }
      return 0;
    case OTAP_PARQUET_CODEC_SNAPPY: {
      size_t bound = snappy_max_compressed_length((size_t)n);
      if (otap_buffer_reserve(out, (int64_t)bound)) {
        return otap_error_set(err, ENOMEM, "parquet writer: out of memory compressing (snappy)");
      }
      size_t len = bound;
      if (snappy_compress((const char*)data, (size_t)n, (char*)out->data + out->size, &len) !=
          SNAPPY_OK) {
        return otap_error_set(err, EIO, "parquet writer: snappy compression failed");
      }
      out->size += (int64_t)len;
      return 0;
    }
    case OTAP_PARQUET_CODEC_GZIP:
      return gzip_compress(level, data, n, out, err);
    case OTAP_PARQUET_CODEC_BROTLI: {
      size_t bound = BrotliEncoderMaxCompressedSize((size_t)n);
      if (bound == 0) bound = (size_t)n + 1024;
      if (otap_buffer_reserve(out, (int64_t)bound)) {
        return otap_error_set(err, ENOMEM, "parquet writer: out of memory compressing (brotli)");
      }
      int q = level == INT32_MIN ? 1 : level;
      if (q < BROTLI_MIN_QUALITY) q = BROTLI_MIN_QUALITY;
      if (q > BROTLI_MAX_QUALITY) q = BROTLI_MAX_QUALITY;
      size_t len = bound;
      if (!BrotliEncoderCompress(q, BROTLI_DEFAULT_WINDOW, BROTLI_MODE_GENERIC, (size_t)n, data,
                                 &len, out->data + out->size)) {
        return otap_error_set(err, EIO, "parquet writer: brotli compression failed");
      }
      out->size += (int64_t)len;
      return 0;
    }
    case OTAP_PARQUET_CODEC_ZSTD: {
      size_t bound = ZSTD_compressBound((size_t)n);
      if (otap_buffer_reserve(out, (int64_t)bound)) {
        return otap_error_set(err, ENOMEM, "parquet writer: out of memory compressing (zstd)");
      }
      int lvl = level == INT32_MIN ? 1 : level;
      size_t len;
      if (ctx) {
        if (!ctx->zstd) ctx->zstd = ZSTD_createCCtx();
        if (!ctx->zstd) return otap_error_set(err, ENOMEM, "parquet writer: out of memory (zstd context)");
        len = ZSTD_compressCCtx((ZSTD_CCtx*)ctx->zstd, out->data + out->size, bound, data, (size_t)n, lvl);
      } else {
        len = ZSTD_compress(out->data + out->size, bound, data, (size_t)n, lvl);
      }
      if (ZSTD_isError(len)) {
        return otap_error_set(err, EIO, "parquet writer: zstd compression failed: %s",
                              ZSTD_getErrorName(len));
      }
      out->size += (int64_t)len;
      return 0;
    }
    case OTAP_PARQUET_CODEC_LZ4_RAW:
    case OTAP_PARQUET_CODEC_LZ4: {
      if (n > LZ4_MAX_INPUT_SIZE) return too_big(err, "lz4", n);
      int bound = LZ4_compressBound((int)n);
      int hadoop = codec == OTAP_PARQUET_CODEC_LZ4;
      if (otap_buffer_reserve(out, (int64_t)bound + 8)) {
        return otap_error_set(err, ENOMEM, "parquet writer: out of memory compressing (lz4)");
      }
      uint8_t* dst = out->data + out->size + (hadoop ? 8 : 0);
      int len = LZ4_compress_default((const char*)data, (char*)dst, (int)n, bound);
      if (len <= 0 && n > 0) return otap_error_set(err, EIO, "parquet writer: lz4 compression failed");
      if (hadoop) {
        // Hadoop framing: big-endian uncompressed size, big-endian compressed size, block.
        uint8_t* h = out->data + out->size;
        uint32_t un = (uint32_t)n, cn = (uint32_t)len;
        for (int i = 0; i < 4; i++) {
          h[i] = (uint8_t)(un >> (24 - 8 * i));
          h[4 + i] = (uint8_t)(cn >> (24 - 8 * i));
        }
        out->size += 8;
      }
      out->size += len;
      return 0;
    }
    default:
      return otap_error_set(err, ENOTSUP, "parquet writer: codec %d is not supported for writing",
                            (int)codec);
  }
}
