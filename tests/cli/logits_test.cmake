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
expect_error(2 "--weights must be one of" logits -m ${dense} --tokens 2 --weights q7_k)

# info: reads config.json and the safetensors headers, states the stored format (the default
# --weights) and memory per format and context.
vkg_run(out rc err info -m ${dense})
if(NOT rc EQUAL 0 OR NOT out MATCHES "dense \\(like 31B\\)" OR NOT out MATCHES "q4_0"
   OR NOT out MATCHES "\nstored       bf16 \\(safetensors headers\\): the default --weights\n"
   OR NOT out MATCHES "\nchosen       --weights bf16 --ctx 4096: [^\n]* \\(the stored format: the default\\)\n"
   OR NOT out MATCHES "\nvision       none \\(no vision_config\\): text only\n")
  message(FATAL_ERROR "info: rc=${rc}\n${out}\n${err}")
endif()
# A checkpoint with a vision tower: its shape, parameters, device memory and image token rule.
vkg_run(out rc err info -m ${SOURCE_DIR}/tests/data/gemma4-mm/dense-vision-bidir)
if(NOT rc EQUAL 0 OR NOT out MATCHES "\nvision       tower: hidden 32, 2 layers, 2 heads of 16, MLP 64, patch 16, pooling 3, clipped linears, standardize\n  parameters 0.06 M \\(position tables 0.01 M in host memory\\); device 0.1 MiB at bf16 [^\n]*\n  image tokens: id 252 \\(BOI 250, EOI 251\\); an image's tokens see each other on sliding layers")
  message(FATAL_ERROR "info with a vision tower: rc=${rc}\n${out}\n${err}")
endif()

# The default compute format is the checkpoint's own: an f32 checkpoint computes in f32, says so
# at load and in info; --weights still overrides; info's memory follows the chosen format.
execute_process(COMMAND ${BINARY_DIR}/tools/vkg_make_checkpoint --out ${out_dir}/f32 --variant e4b --dtype f32
                RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "vkg_make_checkpoint --dtype f32: ${err}")
endif()
# The load line says how the context was chosen: without --ctx, the largest that fits the device
# (here the model's whole 4096 positions), with --ctx that.
vkg_run(out rc err logits -m ${out_dir}/f32 --tokens 2,3,4)
if(NOT rc EQUAL 0 OR NOT err MATCHES "loaded [^\n]*: weights [0-9.]+ MiB \\(f32, the checkpoint's own\\)"
   OR NOT err MATCHES "KV cache [0-9.]+ MiB \\(f32\\) for 4096 positions \\(the model's maximum; fits [0-9.]+ GiB usable, ")
  message(FATAL_ERROR "logits on an f32 checkpoint: rc=${rc}\n${err}")
endif()
vkg_run(out rc err logits -m ${out_dir}/f32 --tokens 2,3,4 --weights q8_0 --kv q8_0 --ctx 512)
if(NOT rc EQUAL 0 OR NOT err MATCHES "weights [0-9.]+ MiB \\(q8_0 from the checkpoint's f32\\)"
   OR NOT err MATCHES "KV cache [0-9.]+ MiB \\(q8_0\\) for 512 positions \\(--ctx\\)")
  message(FATAL_ERROR "logits --weights q8_0 on an f32 checkpoint: rc=${rc}\n${err}")
endif()
# A 65536-word vocabulary makes the embedding 0.03 GiB in f32 and 0.02 GiB in bf16: info's chosen
# line shows the f32 size, not the bf16 one it used to assume.
execute_process(COMMAND ${BINARY_DIR}/tools/vkg_make_checkpoint --out ${out_dir}/big --variant dense --vocab 65536
                        --hidden 128 --layers 1 --dtype f32 RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "vkg_make_checkpoint (big f32): ${err}")
endif()
vkg_run(out rc err info -m ${out_dir}/big)
if(NOT rc EQUAL 0 OR NOT out MATCHES "\nstored       f32 \\(safetensors headers\\)"
   OR NOT out MATCHES "\n  f32       0.03 GiB" OR NOT out MATCHES "\n  bf16      0.02 GiB"
   OR NOT out MATCHES "\nchosen       --weights f32 --ctx 4096: weights 0.03 GiB [^\n]*the default\\)\n")
  message(FATAL_ERROR "info on an f32 checkpoint: rc=${rc}\n${out}\n${err}")
endif()
vkg_run(out rc err info -m ${out_dir}/big --weights q4_0)
if(NOT rc EQUAL 0 OR NOT out MATCHES "\nchosen       --weights q4_0 --ctx 4096: weights 0.00 GiB [^\n]*GiB\n")
  message(FATAL_ERROR "info --weights q4_0: rc=${rc}\n${out}\n${err}")
endif()
file(REMOVE_RECURSE ${out_dir}/big)
# Before the weights are downloaded: config.json's dtype.
file(MAKE_DIRECTORY ${out_dir}/config-only)
file(COPY ${out_dir}/f32/config.json DESTINATION ${out_dir}/config-only)
vkg_run(out rc err info -m ${out_dir}/config-only)
if(NOT rc EQUAL 0 OR NOT out MATCHES "\nstored       f32 \\(config.json's dtype; no safetensors yet\\)")
  message(FATAL_ERROR "info without safetensors: rc=${rc}\n${out}\n${err}")
endif()
vkg_run(out rc err info --help)
if(NOT rc EQUAL 0 OR NOT out MATCHES "the dtype its weights are")
  message(FATAL_ERROR "info --help: rc=${rc}\n${out}")
endif()
vkg_run(out rc err logits --help)
if(NOT rc EQUAL 0 OR NOT out MATCHES "default:\n +the checkpoint's own dtype")
  message(FATAL_ERROR "logits --help does not state the default --weights:\n${out}")
endif()
