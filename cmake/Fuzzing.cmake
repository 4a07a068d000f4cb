# MAILRELAY_FUZZ=ON (clang only): everything is built with ASan+UBSan and libFuzzer coverage,
# and the libFuzzer targets of tests/fuzz/ are added. tests/fuzz/run_fuzzers.sh configures it
# in build-fuzz/.
option(MAILRELAY_FUZZ "Build the libFuzzer targets of tests/fuzz (needs clang)" OFF)
if(MAILRELAY_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "MAILRELAY_FUZZ needs clang (e.g. -DCMAKE_CXX_COMPILER=clang++-14)")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=all)
  add_link_options(-fsanitize=address,undefined)
endif()
