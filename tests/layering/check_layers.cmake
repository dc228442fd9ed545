# Fails when a library file includes a header from a higher tier (docs/architecture.md, "Layout").
# Run as: cmake -DSOURCE_DIR=<repo> -P check_layers.cmake
#
# Tiers, lowest first. A file under lib/{include/flowood,src}/<folder>/ may include
# "flowood/<other>/..." only when <other> is its own folder or a lower tier.
set(FLOWOOD_TIERS core io data viz config flows ood train embedding experiment)

if(NOT SOURCE_DIR)
  message(FATAL_ERROR "check_layers.cmake: pass -DSOURCE_DIR=<repository root>")
endif()

file(GLOB_RECURSE files
  "${SOURCE_DIR}/lib/include/flowood/*.hpp"
  "${SOURCE_DIR}/lib/src/*.cpp" "${SOURCE_DIR}/lib/src/*.hpp")

set(violations "")
set(checked 0)
foreach(file IN LISTS files)
  file(RELATIVE_PATH rel "${SOURCE_DIR}" "${file}")
  # (two ifs: CMake evaluates both sides of an OR, and the second match resets CMAKE_MATCH_1)
  set(folder "")
  if(rel MATCHES "^lib/include/flowood/([a-z_]+)/")
    set(folder "${CMAKE_MATCH_1}")
  elseif(rel MATCHES "^lib/src/([a-z_]+)/")
    set(folder "${CMAKE_MATCH_1}")
  endif()
  if(folder STREQUAL "")
    continue()  # files outside a tier folder (none today) are not checked
  endif()
  list(FIND FLOWOOD_TIERS "${folder}" own_rank)
  if(own_rank EQUAL -1)
    list(APPEND violations "${rel}: folder '${folder}' is not in the tier list of tests/layering/check_layers.cmake")
    continue()
  endif()
  math(EXPR checked "${checked} + 1")
  file(STRINGS "${file}" includes REGEX "^[ \t]*#[ \t]*include[ \t]*\"flowood/[a-z_]+/")
  foreach(line IN LISTS includes)
    string(REGEX MATCH "\"flowood/([a-z_]+)/[^\"]*\"" header "${line}")
    set(target "${CMAKE_MATCH_1}")
    list(FIND FLOWOOD_TIERS "${target}" target_rank)
    if(target_rank GREATER own_rank OR target_rank EQUAL -1)
      list(APPEND violations "${rel} (tier ${folder}) includes ${header} (tier ${target})")
    endif()
  endforeach()
endforeach()

if(checked EQUAL 0)
  message(FATAL_ERROR "check_layers.cmake: no library files found under ${SOURCE_DIR}/lib")
endif()
if(violations)
  list(LENGTH violations n)
  string(REPLACE ";" "\n  " text "${violations}")
  message(FATAL_ERROR "${n} include(s) from a lower tier to a higher one (tiers: ${FLOWOOD_TIERS}):\n  ${text}")
endif()
message(STATUS "layering: ${checked} library files, no include goes up a tier")
