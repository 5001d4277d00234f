# Round-trip fuzz target of the Parquet writer (fuzz_parquet_write.c): options and rows from the
# input, written, read back with the otap reader and compared.
otap_add_fuzz(parquet_write)
