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

# vkg_tiny_chat_model(<dir>): a fresh directory <dir> with <dir>/model holding a tiny random
# checkpoint (vkg_make_checkpoint, vocab 256, seed 6) and the byte-level tokenizer of
# tests/generate/data, for the run/chat tests.
function(vkg_tiny_chat_model dir)
  file(REMOVE_RECURSE ${dir})
  file(MAKE_DIRECTORY ${dir})
  execute_process(COMMAND ${BINARY_DIR}/tools/vkg_make_checkpoint --out ${dir}/model --vocab 256 --seed 6
                  RESULT_VARIABLE rc OUTPUT_QUIET ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "vkg_make_checkpoint: rc=${rc} ${err}")
  endif()
  file(COPY ${SOURCE_DIR}/tests/generate/data/tokenizer.json DESTINATION ${dir}/model)
endfunction()
