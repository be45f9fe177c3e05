# Chooses the glslangValidator that compiles the shaders and finds out which kernel families it
# can build, by compiling the probe shaders in shaders/probe/ with it (a version number says less:
# distributions patch and backport). Sets:
#   VKG_GLSLANG_VALIDATOR       the compiler's path
#   VKG_GLSLANG_VERSION         its version, e.g. 15.2.0
#   VKG_GLSLANG_COOPMAT         1 when it compiles GL_KHR_cooperative_matrix, else 0
#   VKG_GLSLANG_INTEGER_DOT     1 when it compiles GL_EXT_integer_dot_product, else 0
# Candidates: VKG_GLSLANG (cache variable, else environment variable) alone when set, so a user
# can force one; otherwise the one tools/glslang.sh builds into the user's cache and the system's,
# of which the newest with the most of the two extensions wins. Probed at every configure (a few
# tens of milliseconds), so running tools/deps.sh later is picked up by the next configure.

set(VKG_GLSLANG "$ENV{VKG_GLSLANG}" CACHE FILEPATH
    "glslangValidator to compile the shaders with (empty: the newest capable one found)")

# Probes one compiler: version (empty when it does not run) and the two extensions.
function(vkg_probe_glslang exe out_version out_coopmat out_dot)
  set(${out_version} "" PARENT_SCOPE)
  execute_process(COMMAND ${exe} --version OUTPUT_VARIABLE text RESULT_VARIABLE rc ERROR_QUIET)
  if(NOT rc EQUAL 0 OR NOT text MATCHES "Glslang Version: [0-9]+:([0-9.]+)")
    return()
  endif()
  set(${out_version} ${CMAKE_MATCH_1} PARENT_SCOPE)
  foreach(probe cooperative_matrix integer_dot)
    # The same flags as the shipped shaders (shaders/compile_shader.cmake).
    execute_process(COMMAND ${exe} --target-env vulkan1.2 -S comp
                            -o ${CMAKE_BINARY_DIR}/glslang-probe.spv ${CMAKE_SOURCE_DIR}/shaders/probe/${probe}.comp
                    RESULT_VARIABLE rc OUTPUT_QUIET ERROR_QUIET)
    if(rc EQUAL 0)
      set(ok_${probe} 1)
    else()
      set(ok_${probe} 0)
    endif()
  endforeach()
  file(REMOVE ${CMAKE_BINARY_DIR}/glslang-probe.spv)
  set(${out_coopmat} ${ok_cooperative_matrix} PARENT_SCOPE)
  set(${out_dot} ${ok_integer_dot} PARENT_SCOPE)
endfunction()

if(VKG_GLSLANG)
  set(candidates ${VKG_GLSLANG})
else()
  if(DEFINED ENV{XDG_CACHE_HOME} AND NOT "$ENV{XDG_CACHE_HOME}" STREQUAL "")
    set(user_cache "$ENV{XDG_CACHE_HOME}")
  else()
    set(user_cache "$ENV{HOME}/.cache")
  endif()
  set(candidates "${user_cache}/vkgemma/glslang-15/bin/glslangValidator")
  find_program(VKG_SYSTEM_GLSLANG glslangValidator)
  foreach(exe ${Vulkan_GLSLANG_VALIDATOR_EXECUTABLE} ${VKG_SYSTEM_GLSLANG})
    list(APPEND candidates ${exe})
  endforeach()
  list(REMOVE_DUPLICATES candidates)
endif()

set(VKG_GLSLANG_VALIDATOR "")
set(best_score -1)
foreach(exe ${candidates})
  if(NOT EXISTS ${exe})
    continue()
  endif()
  vkg_probe_glslang(${exe} version coopmat dot)
  if(version STREQUAL "")
    continue()
  endif()
  math(EXPR score "${coopmat} + ${dot}")
  if(score GREATER best_score OR (score EQUAL best_score AND version VERSION_GREATER VKG_GLSLANG_VERSION))
    set(best_score ${score})
    set(VKG_GLSLANG_VALIDATOR ${exe})
    set(VKG_GLSLANG_VERSION ${version})
    set(VKG_GLSLANG_COOPMAT ${coopmat})
    set(VKG_GLSLANG_INTEGER_DOT ${dot})
  endif()
endforeach()

if(VKG_GLSLANG_VALIDATOR STREQUAL "")
  message(FATAL_ERROR "no working glslangValidator (tried: ${candidates}); install glslang-tools (tools/deps.sh)")
endif()

# Which kernel families the build leaves out, said where it is seen: test.sh and run.sh hide
# CMake's status lines, so a missing family goes to stderr (NOTICE).
set(left_out "")
if(NOT VKG_GLSLANG_COOPMAT)
  list(APPEND left_out "cooperative-matrix kernels (GL_KHR_cooperative_matrix: matrix-unit prefill products, flash attention)")
endif()
if(NOT VKG_GLSLANG_INTEGER_DOT)
  list(APPEND left_out "integer-dot kernels (GL_EXT_integer_dot_product: q8_0/q4_0 products on int8 activations; the float products run instead)")
endif()
if(left_out)
  list(JOIN left_out "; " left_out)
  message(NOTICE "glslangValidator ${VKG_GLSLANG_VERSION} (${VKG_GLSLANG_VALIDATOR}) leaves out: ${left_out}. "
                 "bash tools/glslang.sh builds glslang 15, which has them.")
else()
  message(STATUS "glslangValidator ${VKG_GLSLANG_VERSION} (${VKG_GLSLANG_VALIDATOR}): compiles cooperative-matrix and integer-dot shaders (cooperative matrix: the matrix-unit prefill products, shaders/matmul_coopmat.comp; integer dot: the q8_0/q4_0 int8-activation products)")
endif()
