# ctest corpus.present: the external corpus the corpus tests read is still there.
#   cmake -DDIR=<corpus dir> -P check_present.cmake
if(NOT EXISTS "${DIR}/README.md")
  message(FATAL_ERROR "the corpus is missing: ${DIR} (the corpus.* tests read it; configure "
                      "with -DMAILRELAY_CORPUS_TESTS=OFF to test without it)")
endif()
file(GLOB_RECURSE files LIST_DIRECTORIES false "${DIR}/*")
list(LENGTH files n)
if(n LESS 100)
  message(FATAL_ERROR "the corpus at ${DIR} holds only ${n} files")
endif()
message(STATUS "corpus present: ${n} files in ${DIR}")
