# Third-party libraries, all from Debian packages (see the Makefile's deps target).
find_package(PkgConfig REQUIRED)
set(OTAP_DEP_LIBS "")
set(OTAP_DEP_PC_MODULES "")
set(OTAP_DEP_PC_LIBS "")

# otap_require_pkg(<var> <pkg-config module>): imported target PkgConfig::<var>.
macro(otap_require_pkg var module)
  pkg_check_modules(${var} REQUIRED IMPORTED_TARGET ${module})
  list(APPEND OTAP_DEP_LIBS PkgConfig::${var})
  list(APPEND OTAP_DEP_PC_MODULES ${module})
endmacro()

otap_require_pkg(ZSTD libzstd)
otap_require_pkg(LZ4 liblz4)
otap_require_pkg(ZLIB zlib)

# snappy ships no pkg-config file on Debian 12: plain library + C header.
find_library(SNAPPY_LIB snappy REQUIRED)
find_path(SNAPPY_INCLUDE snappy-c.h REQUIRED)
list(APPEND OTAP_DEP_LIBS ${SNAPPY_LIB})
list(APPEND OTAP_DEP_PC_LIBS -lsnappy)

otap_require_pkg(BROTLIDEC libbrotlidec)
otap_require_pkg(BROTLIENC libbrotlienc)
otap_require_pkg(CURL libcurl)
otap_require_pkg(OPENSSL libcrypto)

find_package(Threads REQUIRED)
list(APPEND OTAP_DEP_LIBS Threads::Threads m)
list(APPEND OTAP_DEP_PC_LIBS -lpthread -lm)
