# Object stores: our SigV4 signatures compared byte for byte with the AWS SDK signer.
# (The s3rver / Azurite tests run inside test_store, which starts the servers itself.)
add_test(NAME interop_store_sigv4
         COMMAND ${NODE_EXECUTABLE} ${OTAP_INTEROP_DIR}/store_sigv4.mjs
                 $<TARGET_FILE:store_sigv4_tool>
         WORKING_DIRECTORY ${OTAP_INTEROP_DIR})
set_tests_properties(interop_store_sigv4 PROPERTIES TIMEOUT 300)
