# Helpers for the test tree.
#
# flowood_add_test_support(): library flowood_test_support, the fixture writers of tests/support
# (data_writers.hpp), linked into every unit-test executable.
#
# flowood_add_unit_tests(AREA SOURCES...): one GoogleTest executable from SOURCES, in CTest with
# label "unit" (a test with a "_CUDA" suffix needs a GPU and skips itself, with a message, without
# one). FLOWOOD_TEST_SHARDS decides how: 0 registers every GoogleTest case as a CTest test of its
# own (`ctest -R Trainer.Resume` runs one; the dev default); N > 0 registers the executable as N
# CTest tests unit.AREA.K, GoogleTest's shards K of N (the ci and asan presets). Each process
# start loads LibTorch, about 1 s (2 s under ASan), which one process per case paid ~480 times.
function(flowood_add_test_support)
  add_library(flowood_test_support STATIC ${PROJECT_SOURCE_DIR}/tests/support/data_writers.cpp)
  target_include_directories(flowood_test_support PUBLIC ${PROJECT_SOURCE_DIR}/tests/support)
  target_link_libraries(flowood_test_support PUBLIC flowood::flowood
                        PRIVATE ${OpenCV_LIBS} ZLIB::ZLIB ${FLOWOOD_MATIO_TARGET})
  target_include_directories(flowood_test_support PRIVATE ${OpenCV_INCLUDE_DIRS})
  flowood_warnings(flowood_test_support)
  if(FLOWOOD_PCH)
    target_precompile_headers(flowood_test_support REUSE_FROM flowood_lib)
  endif()
endfunction()

function(flowood_add_unit_tests area)
  set(sources ${ARGN})
  set(target flowood_${area}_tests)
  add_executable(${target} ${sources} ${PROJECT_SOURCE_DIR}/tests/support/test_main.cpp)
  target_link_libraries(${target} PRIVATE flowood::flowood flowood_test_support GTest::gtest)
  target_include_directories(${target} PRIVATE ${PROJECT_SOURCE_DIR}/tests/support ${OpenCV_INCLUDE_DIRS})
  target_link_libraries(${target} PRIVATE ${OpenCV_LIBS})
  # Paths reach the tests through a generated header, not -D flags, so the precompiled
  # LibTorch header stays valid for test sources.
  configure_file(${PROJECT_SOURCE_DIR}/cmake/test_paths.hpp.in ${CMAKE_CURRENT_BINARY_DIR}/generated/test_paths.hpp @ONLY)
  target_include_directories(${target} PRIVATE ${CMAKE_CURRENT_BINARY_DIR}/generated)
  if(FLOWOOD_PCH)
    target_precompile_headers(${target} REUSE_FROM flowood_lib)
  endif()
  flowood_warnings(${target})
  if(FLOWOOD_TEST_SHARDS GREATER 0)
    math(EXPR last "${FLOWOOD_TEST_SHARDS} - 1")
    foreach(k RANGE ${last})
      add_test(NAME unit.${area}.${k} COMMAND ${target})
      set_tests_properties(unit.${area}.${k} PROPERTIES LABELS unit
        ENVIRONMENT "GTEST_TOTAL_SHARDS=${FLOWOOD_TEST_SHARDS};GTEST_SHARD_INDEX=${k}")
    endforeach()
  else()
    gtest_discover_tests(${target}
      PROPERTIES LABELS unit
      DISCOVERY_TIMEOUT 120)
  endif()
endfunction()

# flowood_add_e2e_test(NAME COMMAND args... [PASS_REGEX re] [FAIL_REGEX re] [WILL_FAIL] [TIMEOUT s]
#                      [COST c] [LABELS ...])
# Runs the real binary (or a script) through CTest with label "e2e". COST makes `ctest -j` start a
# long test early on a fresh tree (one without CTestCostData.txt), so it does not run alone at the end.
function(flowood_add_e2e_test name)
  cmake_parse_arguments(E "WILL_FAIL" "PASS_REGEX;FAIL_REGEX;TIMEOUT;COST" "COMMAND;LABELS" ${ARGN})
  add_test(NAME e2e.${name} COMMAND ${E_COMMAND} WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
  set(labels e2e ${E_LABELS})
  set_tests_properties(e2e.${name} PROPERTIES LABELS "${labels}")
  if(E_PASS_REGEX)
    set_tests_properties(e2e.${name} PROPERTIES PASS_REGULAR_EXPRESSION "${E_PASS_REGEX}")
  endif()
  if(E_FAIL_REGEX)
    set_tests_properties(e2e.${name} PROPERTIES FAIL_REGULAR_EXPRESSION "${E_FAIL_REGEX}")
  endif()
  if(E_WILL_FAIL)
    set_tests_properties(e2e.${name} PROPERTIES WILL_FAIL TRUE)
  endif()
  if(E_TIMEOUT)
    set_tests_properties(e2e.${name} PROPERTIES TIMEOUT ${E_TIMEOUT})
  endif()
  if(E_COST)
    set_tests_properties(e2e.${name} PROPERTIES COST ${E_COST})
  endif()
endfunction()
