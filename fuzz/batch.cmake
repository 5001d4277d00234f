otap_add_fuzz(batch ${CMAKE_CURRENT_SOURCE_DIR}/corpus/otap_records)
