# MAILRELAY_SANITIZE="address;undefined" builds everything with those sanitizers.
if(MAILRELAY_SANITIZE)
  string(REPLACE ";" "," _sanitizers "${MAILRELAY_SANITIZE}")
  add_compile_options(-fsanitize=${_sanitizers} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${_sanitizers})
endif()
