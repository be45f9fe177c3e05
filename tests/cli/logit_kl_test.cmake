# tools/kl_by_format.sh and vkg_logit_kl end to end on the dense fixture: KL of q8_0 and q4_0
# logits from the bf16 model's (positive, q8_0 below q4_0), and one-line errors for bad input.
include(${CMAKE_CURRENT_LIST_DIR}/cli_util.cmake)
set(dense ${SOURCE_DIR}/tests/data/gemma4-tiny/dense)
set(KL ${BINARY_DIR}/tools/vkg_logit_kl)
set(out_dir ${BINARY_DIR}/cli-logit-kl)
file(REMOVE_RECURSE ${out_dir})
file(MAKE_DIRECTORY ${out_dir})

execute_process(COMMAND ${CMAKE_COMMAND} -E env BUILD_DIR=${BINARY_DIR} VKGEMMA_VALIDATION=1
                        bash ${SOURCE_DIR}/tools/kl_by_format.sh -m ${dense} --formats "q8_0 q4_0" --tokens 24
                OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc TIMEOUT 300)
if(NOT rc EQUAL 0 OR err MATCHES "vkgemma validation")
  message(FATAL_ERROR "kl_by_format.sh: rc=${rc}\n${out}\n${err}")
endif()
# | q8_0 | 24 | mean | median | p99 | max | agree |
foreach(f q8_0 q4_0)
  if(NOT out MATCHES "\\| ${f} \\| 24 \\| ([0-9.e+-]+) \\|")
    message(FATAL_ERROR "no row for ${f}:\n${out}")
  endif()
  set(mean_${f} ${CMAKE_MATCH_1})
  if(NOT mean_${f} GREATER 0)
    message(FATAL_ERROR "${f}: mean KL ${mean_${f}} should be positive:\n${out}")
  endif()
endforeach()
if(NOT mean_q8_0 LESS mean_q4_0)
  message(FATAL_ERROR "q8_0's KL (${mean_q8_0}) should be below q4_0's (${mean_q4_0}):\n${out}")
endif()

# A file against itself: exactly zero, every top token agreeing.
vkg_run(out rc err logits -m ${dense} --tokens 2,3,4 --out ${out_dir}/a.f32)
execute_process(COMMAND ${KL} ${out_dir}/a.f32 ${out_dir}/a.f32 --vocab 256 --json
                OUTPUT_VARIABLE out RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR NOT out MATCHES "\"max_kl\":0.0" OR NOT out MATCHES "\"top1_agreement\":1.0"
   OR NOT out MATCHES "\"positions\":3")
  message(FATAL_ERROR "self comparison: rc=${rc} ${out}")
endif()

function(expect_kl_error code pattern)
  execute_process(COMMAND ${KL} ${ARGN} OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
  if(NOT rc EQUAL ${code} OR NOT err MATCHES "^error: ${pattern}\n")
    message(FATAL_ERROR "vkg_logit_kl ${ARGN}: rc=${rc} (expected ${code}) stderr=${err}")
  endif()
endfunction()
vkg_run(out rc err logits -m ${dense} --tokens 2,3 --out ${out_dir}/b.f32)
expect_kl_error(1 "the two files hold 768 and 512 values: not the same run" ${out_dir}/a.f32 ${out_dir}/b.f32 --vocab 256)
expect_kl_error(1 "768 values are not a whole number of 500-logit positions" ${out_dir}/a.f32 ${out_dir}/a.f32 --vocab 500)
expect_kl_error(1 "cannot read ${out_dir}/missing.f32: No such file or directory" ${out_dir}/missing.f32 ${out_dir}/a.f32 --vocab 256)
expect_kl_error(2 "--vocab is required" ${out_dir}/a.f32 ${out_dir}/a.f32)
expect_kl_error(2 "unknown option '--frob'" ${out_dir}/a.f32 ${out_dir}/a.f32 --vocab 256 --frob)
