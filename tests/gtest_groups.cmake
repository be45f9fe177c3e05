# vkg_gtest_groups(TARGET [FILTER gtest-filter] [SUFFIX s] [BY_PARAM suite-regex]
#                  [LONG group-regex] [PROPERTIES prop value ...])
#
# Registers a GoogleTest binary's cases with ctest as GROUPS, one process per group, instead of
# gtest_discover_tests' one process per case: every GPU test process pays for a Vulkan instance
# with the validation layers, a lavapipe device and the compile of every pipeline it uses (seconds),
# and every model test for generating or loading its checkpoint, which the cases of a group share.
# The cases and their assertions are unchanged; gtest reports each case by name inside its group.
#   - the instances of one TEST_P (Prefix/Suite.Name/Param...) form the group "Prefix/Suite.Name";
#   - the plain TEST / TEST_F cases of one suite form the group "Suite";
#   - BY_PARAM: for suites matching the regex, the cases of every TEST_P with one parameter form
#     the group "Prefix/Suite/Param" instead, so that they share what the fixture builds for that
#     parameter (a generated checkpoint, its reference logits) in a per-process cache.
# LONG: groups whose name matches get the label "long" besides their own: slow sweeps, which run a
# sample of their cases unless VKG_SWEEP=full (tests/sweep.h); `VKG_SWEEP=full ctest -L long`
# runs them whole.
# Each group runs `TARGET --gtest_filter=<its cases, listed by name>`, so FILTER (applied when the
# cases are listed, as gtest_discover_tests' TEST_FILTER) holds exactly. A group whose every case
# skipped exits 77 (tests/test_main.cpp) and ctest reports it as not run, as it did a skipped case;
# a group with a skipped case and a failed one fails. SUFFIX is appended to the group names (two calls on one binary with disjoint filters
# may otherwise name a suite twice). COST of each group: tests/test_costs.txt (seconds measured on
# 2 cores, a group per line) so ctest -j starts the long groups first; 1 for a group not listed.
# The cases are listed at build time, after the binary is built (as gtest_discover_tests does).
set(VKG_GTEST_GROUPS_SCRIPT "${CMAKE_CURRENT_LIST_DIR}/gtest_groups_add.cmake")

function(vkg_gtest_groups target)
  cmake_parse_arguments(A "" "FILTER;SUFFIX;BY_PARAM;LONG" "PROPERTIES" ${ARGN})
  get_property(n TARGET ${target} PROPERTY VKG_GTEST_GROUP_CALLS)
  if("${n}" STREQUAL "")
    set(n 0)
  endif()
  math(EXPR next "${n} + 1")
  set_property(TARGET ${target} PROPERTY VKG_GTEST_GROUP_CALLS ${next})
  set(base "${CMAKE_CURRENT_BINARY_DIR}/${target}_groups_${n}")
  get_property(emulator TARGET ${target} PROPERTY CROSSCOMPILING_EMULATOR)
  # The settings go through a generated file: lists (the launcher, the properties) survive intact.
  set(props "")
  foreach(p IN LISTS A_PROPERTIES)
    string(APPEND props " [==[${p}]==]")
  endforeach()
  set(launcher "")
  foreach(p IN LISTS emulator)
    string(APPEND launcher " [==[${p}]==]")
  endforeach()
  file(GENERATE OUTPUT "${base}_args.cmake" CONTENT
"set(EXE [==[$<TARGET_FILE:${target}>]==])
set(LAUNCHER ${launcher})
set(FILTER [==[${A_FILTER}]==])
set(SUFFIX [==[${A_SUFFIX}]==])
set(BY_PARAM [==[${A_BY_PARAM}]==])
set(LONG [==[${A_LONG}]==])
set(PROPS ${props})
set(WORKDIR [==[${CMAKE_CURRENT_BINARY_DIR}]==])
set(COSTS [==[${CMAKE_CURRENT_SOURCE_DIR}/test_costs.txt]==])
set(CTEST_FILE [==[${base}_tests.cmake]==])
")
  # Listed again whenever the binary, these settings, the script or the costs change.
  add_custom_command(OUTPUT "${base}_tests.cmake"
    COMMAND "${CMAKE_COMMAND}" -D "ARGS_FILE=${base}_args.cmake" -P "${VKG_GTEST_GROUPS_SCRIPT}"
    DEPENDS ${target} "${base}_args.cmake" "${VKG_GTEST_GROUPS_SCRIPT}" "${CMAKE_CURRENT_SOURCE_DIR}/test_costs.txt"
    VERBATIM)
  add_custom_target(${target}_groups_${n} ALL DEPENDS "${base}_tests.cmake")
  file(WRITE "${base}_include.cmake"
"if(EXISTS [==[${base}_tests.cmake]==])
  include([==[${base}_tests.cmake]==])
else()
  add_test([==[${target}_NOT_BUILT${A_SUFFIX}]==] [==[${target}_NOT_BUILT]==])
endif()
")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${base}_include.cmake")
endfunction()
