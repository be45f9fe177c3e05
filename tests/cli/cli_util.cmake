# Helpers for CLI tests run with `cmake -P` (not a test itself: ctest only runs *_test.cmake).
# vkg_run(<out_var> <rc_var> <err_var> ARGS...) runs the vkgemma binary given as -DVKGEMMA=.
function(vkg_run out_var rc_var err_var)
  execute_process(COMMAND ${VKGEMMA} ${ARGN} OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc
                  TIMEOUT 120)
  set(${out_var} "${out}" PARENT_SCOPE)
  set(${rc_var} "${rc}" PARENT_SCOPE)
  set(${err_var} "${err}" PARENT_SCOPE)
endfunction()

function(vkg_expect cond message)
  if(NOT ${cond})
    message(FATAL_ERROR "${message}")
  endif()
endfunction()
