# Warnings for every target of the project: mailrelay_set_warnings(<target>).
function(mailrelay_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow
                         -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Wunused
                         -Woverloaded-virtual -Wconversion -Wsign-conversion
                         -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough)
  if(MAILRELAY_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
