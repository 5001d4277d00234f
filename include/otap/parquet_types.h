// otap/parquet_types.h: Parquet enumerations shared by the reader (parquet.h) and the writer
// (parquet_writer.h). Values equal the Thrift enum values of parquet.thrift.
#ifndef OTAP_PARQUET_TYPES_H
#define OTAP_PARQUET_TYPES_H

#ifdef __cplusplus
extern "C" {
#endif

enum otap_parquet_physical_type {
  OTAP_PARQUET_BOOLEAN = 0,
  OTAP_PARQUET_INT32 = 1,
  OTAP_PARQUET_INT64 = 2,
  OTAP_PARQUET_INT96 = 3,
  OTAP_PARQUET_FLOAT = 4,
  OTAP_PARQUET_DOUBLE = 5,
  OTAP_PARQUET_BYTE_ARRAY = 6,
  OTAP_PARQUET_FIXED_LEN_BYTE_ARRAY = 7,
};

enum otap_parquet_encoding {
  OTAP_PARQUET_ENC_PLAIN = 0,
  OTAP_PARQUET_ENC_PLAIN_DICTIONARY = 2,
  OTAP_PARQUET_ENC_RLE = 3,
  OTAP_PARQUET_ENC_BIT_PACKED = 4,
  OTAP_PARQUET_ENC_DELTA_BINARY_PACKED = 5,
  OTAP_PARQUET_ENC_DELTA_LENGTH_BYTE_ARRAY = 6,
  OTAP_PARQUET_ENC_DELTA_BYTE_ARRAY = 7,
  OTAP_PARQUET_ENC_RLE_DICTIONARY = 8,
  OTAP_PARQUET_ENC_BYTE_STREAM_SPLIT = 9,
};

enum otap_parquet_codec {
  OTAP_PARQUET_CODEC_UNCOMPRESSED = 0,
  OTAP_PARQUET_CODEC_SNAPPY = 1,
  OTAP_PARQUET_CODEC_GZIP = 2,
  OTAP_PARQUET_CODEC_LZO = 3,
  OTAP_PARQUET_CODEC_BROTLI = 4,
  OTAP_PARQUET_CODEC_LZ4 = 5,  // legacy Hadoop framing (with raw-block fallback on read)
  OTAP_PARQUET_CODEC_ZSTD = 6,
  OTAP_PARQUET_CODEC_LZ4_RAW = 7,
};

enum otap_parquet_page_type {
  OTAP_PARQUET_PAGE_DATA = 0,
  OTAP_PARQUET_PAGE_INDEX = 1,
  OTAP_PARQUET_PAGE_DICTIONARY = 2,
  OTAP_PARQUET_PAGE_DATA_V2 = 3,
};

enum otap_parquet_repetition {
  OTAP_PARQUET_REQUIRED = 0,
  OTAP_PARQUET_OPTIONAL = 1,
  OTAP_PARQUET_REPEATED = 2,
};

#ifdef __cplusplus
}
#endif

#endif  // OTAP_PARQUET_TYPES_H
