# Parquet files written by DuckDB and parquet-wasm (arrow-rs), including files laid out like the
# OTAP Parquet exporter's, read by otap (tests/parquet/pq_dump) and compared value by value;
# then `otap inspect --json` and `otap cat` on Parquet input.
if(TARGET pq_dump)
  add_test(NAME interop_parquet_read
           COMMAND ${NODE_EXECUTABLE} ${OTAP_INTEROP_DIR}/parquet_read_peers.mjs $<TARGET_FILE:pq_dump>
                   ${CMAKE_BINARY_DIR}/interop_parquet_read $<TARGET_FILE:otap>)
  set_tests_properties(interop_parquet_read PROPERTIES TIMEOUT 600)
endif()
