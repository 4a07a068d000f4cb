# Build variants for the portable release (scripts/release.sh). Included before any
# find_package() of the top-level CMakeLists.txt.
#
# MAILRELAY_STATIC=ON: one fully static executable (glibc, libstdc++, OpenSSL, ...), so the same
# binary runs on any x86-64 Linux (EL8/EL9, Debian, Ubuntu) without the host's libraries. It
# implies:
#   - MAILRELAY_WITH_LIBSYSTEMD=OFF: there is no static libsystemd; --postfix.journal reads the
#     host's `journalctl -o export` instead (exporter/source/journal_export_reader.h);
#   - MAILRELAY_OPENSSL3_SHIM=OFF: CivetWeb is built from Debian's source with OpenSSL linked in
#     (no dlopen), so the OpenSSL 3 shims of exporter/http/openssl3_shim are not needed;
#   - libraries are looked up as .a only: prometheus-cpp and CivetWeb come from
#     CMAKE_PREFIX_PATH (built by release.sh), everything else from Debian's -dev packages;
#   - MAILRELAY_STATIC_BUILD is defined for the code: no NSS (uid names come from /etc/passwd,
#     listen addresses must be numeric), and --help says so.
option(MAILRELAY_STATIC "Link mailrelay_exporter fully statically (release tarball and RPM)" OFF)
option(MAILRELAY_WITH_LIBSYSTEMD
       "Read the journal with libsystemd's sd-journal (OFF: through the host's journalctl)" ON)
option(MAILRELAY_OPENSSL3_SHIM
       "Embed the OpenSSL 3 shims that Debian's dlopen()ing CivetWeb 1.15 needs" ON)

if(MAILRELAY_STATIC)
  set(MAILRELAY_WITH_LIBSYSTEMD OFF CACHE BOOL "" FORCE)
  set(MAILRELAY_OPENSSL3_SHIM OFF CACHE BOOL "" FORCE)
  set(CMAKE_FIND_LIBRARY_SUFFIXES .a)  # also for pkg_check_modules(... IMPORTED_TARGET)
  set(OPENSSL_USE_STATIC_LIBS TRUE)
  set(ZLIB_USE_STATIC_LIBS ON)
  # -static: no PIE (a static-pie binary is not "statically linked" for file(1) and needs
  # every object built as PIC).
  set(CMAKE_POSITION_INDEPENDENT_CODE OFF)
  add_link_options(-static -no-pie)
  add_compile_definitions(MAILRELAY_STATIC_BUILD=1)
  # Debian ships libyaml-cpp.a, but its CMake package only describes the shared library. An
  # imported target of that name defined first makes find_package(yaml-cpp) in exporter/ keep
  # it (a generated targets file returns early when all of its targets already exist).
  find_library(MAILRELAY_YAML_CPP_STATIC NAMES libyaml-cpp.a REQUIRED)
  find_path(MAILRELAY_YAML_CPP_INCLUDE yaml-cpp/yaml.h REQUIRED)
  add_library(yaml-cpp STATIC IMPORTED)
  set_target_properties(yaml-cpp PROPERTIES
    IMPORTED_LOCATION ${MAILRELAY_YAML_CPP_STATIC}
    INTERFACE_INCLUDE_DIRECTORIES ${MAILRELAY_YAML_CPP_INCLUDE})
  add_feature_info(static MAILRELAY_STATIC "fully static executable (release tarball and RPM)")
endif()
