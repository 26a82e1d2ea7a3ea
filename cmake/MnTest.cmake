# SPDX-License-Identifier: Apache-2.0
# mn_add_test(NAME name SOURCES a.c ... LABELS unit|vectors|sim|integration|privileged
#             [TIMEOUT s] [ARGS ...])
# One executable per test, registered in CTest as <name>. Exit code 77 means "skipped" and is
# only used for tests that need privileges the machine does not give; tests whose data is
# missing fail loudly instead.
function(mn_add_test)
  cmake_parse_arguments(T "" "NAME;TIMEOUT" "SOURCES;LABELS;ARGS" ${ARGN})
  string(REPLACE "." "_" exe "test_${T_NAME}")
  add_executable(${exe} ${T_SOURCES})
  target_link_libraries(${exe} PRIVATE metanode mn_test_harness)
  add_test(NAME ${T_NAME} COMMAND ${exe} ${T_ARGS})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  set_tests_properties(${T_NAME} PROPERTIES LABELS "${T_LABELS}" TIMEOUT ${T_TIMEOUT}
                       SKIP_RETURN_CODE 77
                       ENVIRONMENT "MN_SHARED_DIR=${MN_SHARED_DIR};MN_SOURCE_DIR=${CMAKE_SOURCE_DIR}")
endfunction()
