# Parquet writer interop: pqw_gen writes deterministic files with otap's writer (every codec,
# v1/v2 pages, dictionary/plain/delta encodings, nested and all primitive types, nulls
# everywhere) plus the expected values; DuckDB, parquet-wasm (arrow-rs) and hyparquet read
# every file back and must return equal values.
add_executable(pqw_gen ${PROJECT_SOURCE_DIR}/tests/parquet/pqw_gen.c)
target_link_libraries(pqw_gen PRIVATE otap_parquet)
target_include_directories(pqw_gen PRIVATE ${PROJECT_SOURCE_DIR}/src)
target_compile_options(pqw_gen PRIVATE ${OTAP_WARNINGS})
target_compile_definitions(pqw_gen PRIVATE _GNU_SOURCE)

set(OTAP_PQW_DIR ${CMAKE_CURRENT_BINARY_DIR}/parquet_write)
add_test(NAME interop_parquet_write_gen
         COMMAND ${CMAKE_COMMAND} -E env sh -c
                 "mkdir -p ${OTAP_PQW_DIR} && $<TARGET_FILE:pqw_gen> ${OTAP_PQW_DIR}")
set_tests_properties(interop_parquet_write_gen PROPERTIES FIXTURES_SETUP pqw_files TIMEOUT 120)
foreach(reader duckdb wasm hyparquet)
  add_test(NAME interop_parquet_write_${reader}
           COMMAND ${NODE_EXECUTABLE} ${OTAP_INTEROP_DIR}/parquet_write_check.mjs ${OTAP_PQW_DIR}
                   ${reader})
  set_tests_properties(interop_parquet_write_${reader} PROPERTIES
    FIXTURES_REQUIRED pqw_files TIMEOUT 300)
endforeach()
