# Fuzz targets of the ipc module: the streaming format (push decoder + memory reader) and the
# file format (footer + random access). CTest replays the kept corpus and arrow-testing's files.
otap_add_fuzz(ipc_stream
  ${OTAP_TESTDATA_DIR}/arrow-testing/data/arrow-ipc-stream
  ${OTAP_TESTDATA_DIR}/arrow-testing/data/arrow-ipc-tensor-stream
  ${OTAP_TESTDATA_DIR}/arrow-testing/data/forward-compatibility)
otap_add_fuzz(ipc_file
  ${OTAP_TESTDATA_DIR}/arrow-testing/data/arrow-ipc-file
  ${OTAP_TESTDATA_DIR}/arrow-testing/data/arrow-ipc-stream/integration)
