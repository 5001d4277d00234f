// Page decompression through the system codec libraries, plus the page CRC (zlib's crc32).
// Each call must produce exactly the uncompressed size the page header announced.
#include <brotli/decode.h>
#include <lz4.h>
#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

#include "parquet/parquet_internal.h"

uint32_t otap__pq_crc32(const uint8_t* data, size_t n) {
  uLong c = crc32(0L, Z_NULL, 0);
  while (n > 0) {
    uInt chunk = n > (1u << 30) ? (1u << 30) : (uInt)n;
    c = crc32(c, data, chunk);
    data += chunk;
    n -= chunk;
  }
  return (uint32_t)c;
}

static int size_mismatch(struct otap_error* err, const char* codec, size_t got, size_t want) {
  return otap_error_set(err, EINVAL,
                        "%s page decompressed to %zu bytes, the page header says %zu", codec, got,
                        want);
}

static int gzip_decompress(const uint8_t* src, size_t src_len, uint8_t* dst, size_t dst_len,
                           struct otap_error* err) {
  z_stream z;
  memset(&z, 0, sizeof(z));
  if (inflateInit2(&z, 15 + 32) != Z_OK) return otap_error_set(err, ENOMEM, "zlib init failed");
  int rc = 0;
  size_t in_used = 0, out_used = 0;
  for (;;) {
    size_t in_left = src_len - in_used, out_left = dst_len - out_used;
    z.next_in = (Bytef*)(src + in_used);
    z.avail_in = in_left > UINT32_MAX ? UINT32_MAX : (uInt)in_left;
    z.next_out = dst + out_used;
    z.avail_out = out_left > UINT32_MAX ? UINT32_MAX : (uInt)out_left;
    uInt ai = z.avail_in, ao = z.avail_out;
    int zr = inflate(&z, Z_NO_FLUSH);
    in_used += ai - z.avail_in;
    out_used += ao - z.avail_out;
    if (zr == Z_STREAM_END) {
      // Concatenated gzip members: continue while input remains.
      while (in_used < src_len && src[in_used] == 0) in_used++;  // tolerate zero padding
      if (in_used >= src_len) break;
      if (inflateReset(&z) != Z_OK) {
        rc = otap_error_set(err, EINVAL, "GZIP: cannot reset for the next member");
        break;
      }
      continue;
    }
    if (zr == Z_BUF_ERROR && out_used == dst_len) {
      rc = otap_error_set(err, EINVAL, "GZIP page decompresses to more than %zu bytes", dst_len);
      break;
    }
    if (zr != Z_OK) {
      rc = otap_error_set(err, EINVAL, "GZIP page is corrupt (zlib error %d%s%s)", zr,
                          z.msg ? ": " : "", z.msg ? z.msg : "");
      break;
    }
    if (ai == z.avail_in && ao == z.avail_out) {
      rc = otap_error_set(err, EINVAL, "GZIP page is truncated");
      break;
    }
  }
  inflateEnd(&z);
  if (rc == 0 && out_used != dst_len) rc = size_mismatch(err, "GZIP", out_used, dst_len);
  return rc;
}

// Hadoop LZ4 framing: blocks of [u32 BE uncompressed size][u32 BE compressed size][data].
static bool lz4_hadoop(const uint8_t* src, size_t src_len, uint8_t* dst, size_t dst_len) {
  size_t in = 0, out = 0;
  while (in < src_len) {
    if (src_len - in < 8) return false;
    uint32_t usize = (uint32_t)src[in] << 24 | (uint32_t)src[in + 1] << 16 |
                     (uint32_t)src[in + 2] << 8 | src[in + 3];
    uint32_t csize = (uint32_t)src[in + 4] << 24 | (uint32_t)src[in + 5] << 16 |
                     (uint32_t)src[in + 6] << 8 | src[in + 7];
    in += 8;
    if (csize > src_len - in || usize > dst_len - out) return false;
    if (csize > INT32_MAX || usize > INT32_MAX) return false;
    int r = LZ4_decompress_safe((const char*)src + in, (char*)dst + out, (int)csize, (int)usize);
    if (r < 0 || (uint32_t)r != usize) return false;
    in += csize;
    out += usize;
  }
  return out == dst_len;
}

static int lz4_raw(const uint8_t* src, size_t src_len, uint8_t* dst, size_t dst_len,
                   const char* name, struct otap_error* err) {
  if (src_len > INT32_MAX || dst_len > INT32_MAX)
    return otap_error_set(err, ENOTSUP, "%s page larger than 2 GiB", name);
  int r = LZ4_decompress_safe((const char*)src, (char*)dst, (int)src_len, (int)dst_len);
  if (r < 0) return otap_error_set(err, EINVAL, "%s page is corrupt", name);
  if ((size_t)r != dst_len) return size_mismatch(err, name, (size_t)r, dst_len);
  return 0;
}

int otap__pq_decompress(int32_t codec, const uint8_t* src, size_t src_len, uint8_t* dst,
                        size_t dst_len, struct otap_error* err) {
  switch (codec) {
    case OTAP_PARQUET_CODEC_UNCOMPRESSED:
      if (src_len != dst_len) return size_mismatch(err, "UNCOMPRESSED", src_len, dst_len);
      if (dst_len) memcpy(dst, src, dst_len);
      return 0;
    case OTAP_PARQUET_CODEC_SNAPPY: {
      size_t n = 0;
      if (snappy_uncompressed_length((const char*)src, src_len, &n) != SNAPPY_OK)
        return otap_error_set(err, EINVAL, "SNAPPY page has a corrupt header");
      if (n != dst_len) return size_mismatch(err, "SNAPPY", n, dst_len);
      size_t out = dst_len;
      if (snappy_uncompress((const char*)src, src_len, (char*)dst, &out) != SNAPPY_OK)
        return otap_error_set(err, EINVAL, "SNAPPY page is corrupt");
      if (out != dst_len) return size_mismatch(err, "SNAPPY", out, dst_len);
      return 0;
    }
    case OTAP_PARQUET_CODEC_GZIP:
      return gzip_decompress(src, src_len, dst, dst_len, err);
    case OTAP_PARQUET_CODEC_ZSTD: {
      size_t r = ZSTD_decompress(dst, dst_len, src, src_len);
      if (ZSTD_isError(r))
        return otap_error_set(err, EINVAL, "ZSTD page is corrupt: %s", ZSTD_getErrorName(r));
      if (r != dst_len) return size_mismatch(err, "ZSTD", r, dst_len);
      return 0;
    }
    case OTAP_PARQUET_CODEC_LZ4:
      if (lz4_hadoop(src, src_len, dst, dst_len)) return 0;
      return lz4_raw(src, src_len, dst, dst_len, "LZ4", err);
    case OTAP_PARQUET_CODEC_LZ4_RAW:
      return lz4_raw(src, src_len, dst, dst_len, "LZ4_RAW", err);
    case OTAP_PARQUET_CODEC_BROTLI: {
      size_t out = dst_len;
      if (BrotliDecoderDecompress(src_len, src, &out, dst) != BROTLI_DECODER_RESULT_SUCCESS)
        return otap_error_set(err, EINVAL, "BROTLI page is corrupt or larger than announced");
      if (out != dst_len) return size_mismatch(err, "BROTLI", out, dst_len);
      return 0;
    }
    case OTAP_PARQUET_CODEC_LZO:
      return otap_error_set(err, ENOTSUP, "LZO compression is not supported");
    default:
      return otap_error_set(err, ENOTSUP, "unknown compression codec %d", (int)codec);
  }
}
