# `vkgemma logits` and `vkgemma info` on a tiny fixture checkpoint: the exact output interface,
# GPU and CPU paths agreeing, and one-line errors for bad input.
include(${CMAKE_CURRENT_LIST_DIR}/cli_util.cmake)
set(dense ${SOURCE_DIR}/tests/data/gemma4-tiny/dense)
set(out_dir ${BINARY_DIR}/cli-logits)
file(REMOVE_RECURSE ${out_dir})
file(MAKE_DIRECTORY ${out_dir})

# GPU: top-5 JSON line on stdout, logits file of exactly 24 x 256 float32.
vkg_run(out rc err logits --model ${dense} --tokens 2,17,5,33,100,7,9,200,3,4,5,6,77,12,44,45,46,47,48,49,250,1,0,128
        --out ${out_dir}/gpu.f32)
if(NOT rc EQUAL 0 OR NOT out MATCHES "^{\"top\":\\[\\[[0-9]+,[-0-9.e]+\\].*\\]}\n$")
  message(FATAL_ERROR "logits: rc=${rc}\nstdout=${out}\nstderr=${err}")
endif()
string(JSON n LENGTH "${out}" top)
string(JSON pair LENGTH "${out}" top 4)
if(NOT n EQUAL 5 OR NOT pair EQUAL 2)
  message(FATAL_ERROR "logits: expected 5 [id, logit] pairs: ${out}")
endif()
if(err MATCHES "vkgemma validation")
  message(FATAL_ERROR "logits: Vulkan validation messages:\n${err}")
endif()
file(SIZE ${out_dir}/gpu.f32 size)
if(NOT size EQUAL 24576)
  message(FATAL_ERROR "logits file has ${size} bytes, expected 24 * 256 * 4 = 24576")
endif()
# The fixture's argmax at the last position is 128: it must lead the top 5.
string(JSON first GET "${out}" top 0 0)
if(NOT first EQUAL 128)
  message(FATAL_ERROR "top token ${first}, expected 128 (HF argmax): ${out}")
endif()

# CPU reference path: same top token.
vkg_run(out rc err logits -m ${dense} --tokens 2,17,5,33,100,7,9,200,3,4,5,6,77,12,44,45,46,47,48,49,250,1,0,128
        --device cpu)
string(JSON first GET "${out}" top 0 0)
if(NOT rc EQUAL 0 OR NOT first EQUAL 128)
  message(FATAL_ERROR "logits --device cpu: rc=${rc} ${out} ${err}")
endif()

# Errors: one line, exit 1 (bad input) or 2 (bad usage).
function(expect_error code pattern)
  vkg_run(out rc err ${ARGN})
  string(REGEX MATCHALL "\n" newlines "${err}")
  list(LENGTH newlines lines)
  if(NOT rc EQUAL ${code} OR NOT err MATCHES "^error: ${pattern}")
    message(FATAL_ERROR "'${ARGN}': rc=${rc} (expected ${code}), stderr=${err}")
  endif()
  if(code EQUAL 1 AND NOT lines EQUAL 1)
    message(FATAL_ERROR "'${ARGN}': expected one line on stderr, got: ${err}")
  endif()
endfunction()
expect_error(1 ".*/no-such-dir: not a checkpoint directory" logits -m ${out_dir}/no-such-dir --tokens 1)
expect_error(1 "token id 999 is outside the vocabulary of 256" logits -m ${dense} --tokens 2,999)
expect_error(1 "the prompt needs 3 positions but the context holds 2" logits -m ${dense} --tokens 2,3,4 --ctx 2)
expect_error(2 "--tokens needs comma-separated token ids, got 'x'" logits -m ${dense} --tokens 2,x)
expect_error(2 "logits needs --tokens" logits -m ${dense})
expect_error(2 "unknown option '--frobnicate' for logits" logits -m ${dense} --tokens 2 --frobnicate)
expect_error(2 "--weights must be one of" logits -m ${dense} --tokens 2 --weights q3_k)

# info: reads config.json only, states memory per format and context.
vkg_run(out rc err info -m ${dense})
if(NOT rc EQUAL 0 OR NOT out MATCHES "dense \\(like 31B\\)" OR NOT out MATCHES "q4_0" OR NOT out MATCHES "chosen")
  message(FATAL_ERROR "info: rc=${rc}\n${out}\n${err}")
endif()
