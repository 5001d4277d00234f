// Body compression codecs of the IPC format (LZ4 frame format, Zstandard), via liblz4/libzstd.
#include <lz4frame.h>
#include <string.h>
#include <zstd.h>

#include "ipc/ipc_internal.h"

void otap__ipc_codecs_reset(struct otap__ipc_codecs* c) {
  if (c->zstd_dctx) ZSTD_freeDCtx(c->zstd_dctx);
  if (c->lz4_dctx) LZ4F_freeDecompressionContext(c->lz4_dctx);
  if (c->zstd_cctx) ZSTD_freeCCtx(c->zstd_cctx);
  memset(c, 0, sizeof(*c));
}

static int lz4_decompress(struct otap__ipc_codecs* cc, const uint8_t* src, int64_t src_len,
                          uint8_t* dst, int64_t dst_len, struct otap_error* err) {
  LZ4F_dctx* dctx = cc ? cc->lz4_dctx : NULL;
  if (dctx) {
    LZ4F_resetDecompressionContext(dctx);
  } else if (LZ4F_isError(LZ4F_createDecompressionContext(&dctx, LZ4F_VERSION))) {
    return otap_error_set(err, ENOMEM, "cannot create an LZ4 decompression context");
  }
  int rc = 0;
  size_t in_pos = 0, out_pos = 0;
  while (in_pos < (size_t)src_len) {
    size_t in_n = (size_t)src_len - in_pos, out_n = (size_t)dst_len - out_pos;
    size_t r = LZ4F_decompress(dctx, dst + out_pos, &out_n, src + in_pos, &in_n, NULL);
    if (LZ4F_isError(r)) {
      rc = otap_error_set(err, EINVAL, "corrupt LZ4 frame: %s", LZ4F_getErrorName(r));
      goto done;
    }
    in_pos += in_n;
    out_pos += out_n;
    if (r == 0) {
      // end of a frame; more frames may follow
      if (in_pos < (size_t)src_len) LZ4F_resetDecompressionContext(dctx);
      continue;
    }
    if (in_n == 0 && out_n == 0) {
      if (out_pos == (size_t)dst_len) {
        rc = otap_error_set(err, EINVAL, "LZ4 data decompresses to more than the %lld bytes declared",
                            (long long)dst_len);
      } else {
        rc = otap_error_set(err, EINVAL, "truncated LZ4 frame");
      }
      goto done;
    }
  }
  if (out_pos != (size_t)dst_len)
    rc = otap_error_set(err, EINVAL, "LZ4 data decompressed to %zu bytes, %lld declared", out_pos,
                        (long long)dst_len);
done:
  if (cc)
    cc->lz4_dctx = dctx;
  else
    LZ4F_freeDecompressionContext(dctx);
  return rc;
}

int otap__ipc_decompress(struct otap__ipc_codecs* cc, enum otap_ipc_compression codec,
                         const uint8_t* src, int64_t src_len, uint8_t* dst, int64_t dst_len,
                         struct otap_error* err) {
  if (codec == OTAP_IPC_COMPRESSION_LZ4_FRAME)
    return lz4_decompress(cc, src, src_len, dst, dst_len, err);
  if (codec == OTAP_IPC_COMPRESSION_ZSTD) {
    size_t r;
    if (cc && !cc->zstd_dctx) cc->zstd_dctx = ZSTD_createDCtx();
    if (cc && cc->zstd_dctx)
      r = ZSTD_decompressDCtx(cc->zstd_dctx, dst, (size_t)dst_len, src, (size_t)src_len);
    else
      r = ZSTD_decompress(dst, (size_t)dst_len, src, (size_t)src_len);
    if (ZSTD_isError(r))
      return otap_error_set(err, EINVAL, "corrupt ZSTD data: %s", ZSTD_getErrorName(r));
    if (r != (size_t)dst_len)
      return otap_error_set(err, EINVAL, "ZSTD data decompressed to %zu bytes, %lld declared", r,
                            (long long)dst_len);
    return 0;
  }
  return otap_error_set(err, ENOTSUP, "unknown compression codec %d", (int)codec);
}

int64_t otap__ipc_compress_bound(enum otap_ipc_compression codec, int64_t n) {
  if (codec == OTAP_IPC_COMPRESSION_LZ4_FRAME) return (int64_t)LZ4F_compressFrameBound((size_t)n, NULL);
  if (codec == OTAP_IPC_COMPRESSION_ZSTD) return (int64_t)ZSTD_compressBound((size_t)n);
  return n;
}

int otap__ipc_compress(struct otap__ipc_codecs* cc, enum otap_ipc_compression codec, int level,
                       const uint8_t* src, int64_t n, uint8_t* dst, int64_t cap, int64_t* out_len,
                       struct otap_error* err) {
  if (codec == OTAP_IPC_COMPRESSION_LZ4_FRAME) {
    LZ4F_preferences_t prefs;
    memset(&prefs, 0, sizeof(prefs));
    prefs.compressionLevel = level;
    prefs.frameInfo.contentSize = (unsigned long long)n;
    size_t r = LZ4F_compressFrame(dst, (size_t)cap, src, (size_t)n, &prefs);
    if (LZ4F_isError(r))
      return otap_error_set(err, EIO, "LZ4 compression failed: %s", LZ4F_getErrorName(r));
    *out_len = (int64_t)r;
    return 0;
  }
  if (codec == OTAP_IPC_COMPRESSION_ZSTD) {
    size_t r;
    if (cc && !cc->zstd_cctx) cc->zstd_cctx = ZSTD_createCCtx();
    if (cc && cc->zstd_cctx)
      r = ZSTD_compressCCtx(cc->zstd_cctx, dst, (size_t)cap, src, (size_t)n, level ? level : 1);
    else
      r = ZSTD_compress(dst, (size_t)cap, src, (size_t)n, level ? level : 1);
    if (ZSTD_isError(r))
      return otap_error_set(err, EIO, "ZSTD compression failed: %s", ZSTD_getErrorName(r));
    *out_len = (int64_t)r;
    return 0;
  }
  return otap_error_set(err, ENOTSUP, "unknown compression codec %d", (int)codec);
}
