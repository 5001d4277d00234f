# apache-arrow JS <-> otap Arrow IPC interop (see docs/testing.md). The C side is the
# ipc_tool helper built by tests/conformance (otap's IPC reader and writer); the scripts
# import apache-arrow, lz4js, fzstd and zstd-codec from ${OTAP_INTEROP_DIR}/node_modules.
# ipc_otap_to_js also drives the otap CLI (`otap convert`, `otap cat --json`) at ${OTAP_CLI}.
if(TARGET ipc_tool)
  add_test(NAME interop_ipc_js_to_otap
           COMMAND ${NODE_EXECUTABLE} ${OTAP_INTEROP_DIR}/ipc_js_to_otap.mjs $<TARGET_FILE:ipc_tool>
                   ${OTAP_TESTDATA_DIR})
  add_test(NAME interop_ipc_otap_to_js
           COMMAND ${NODE_EXECUTABLE} ${OTAP_INTEROP_DIR}/ipc_otap_to_js.mjs $<TARGET_FILE:ipc_tool>
                   ${OTAP_TESTDATA_DIR} ${OTAP_CLI})
  set_tests_properties(interop_ipc_js_to_otap interop_ipc_otap_to_js PROPERTIES TIMEOUT 300)
endif()
