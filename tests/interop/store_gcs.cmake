# GCS JSON API: Google's official Node client (@google-cloud/storage) against our test server
# tests/interop/gcs_server.mjs, proving the server (which test_store_gcs uses for libotap's
# backend) speaks the real API.
add_test(NAME interop_store_gcs_client
         COMMAND ${NODE_EXECUTABLE} ${OTAP_INTEROP_DIR}/store_gcs_client.mjs
         WORKING_DIRECTORY ${OTAP_INTEROP_DIR})
set_tests_properties(interop_store_gcs_client PROPERTIES TIMEOUT 120)
