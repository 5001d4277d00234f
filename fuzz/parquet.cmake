# Parquet reader fuzz targets; CTest replays the kept corpora plus the shared Parquet files
# (valid files, bad_data and the Arrow C++ clusterfuzz regressions).
otap_add_fuzz(parquet_footer ${OTAP_TESTDATA_DIR}/parquet-testing ${OTAP_TESTDATA_DIR}/arrow-testing/data/parquet)
otap_add_fuzz(parquet_page)
