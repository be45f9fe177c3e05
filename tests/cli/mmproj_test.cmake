# --mmproj (llama.cpp's Gemma 4 vision projector GGUF) on the command line: a fixture converted by
# vkg_make_checkpoint --from; `info` shows the projector's tower; every refusal is one `error:`
# line. (Logits against Hugging Face's: tests/model_gpu/vision_gguf_test.cpp.)
include(${CMAKE_CURRENT_LIST_DIR}/cli_util.cmake)
set(fixture ${SOURCE_DIR}/tests/data/gemma4-mm/dense-vision-bidir)
set(dir ${BINARY_DIR}/cli-mmproj)
file(REMOVE_RECURSE ${dir})
file(MAKE_DIRECTORY ${dir})
execute_process(COMMAND ${BINARY_DIR}/tools/vkg_make_checkpoint --from ${fixture} --gguf ${dir}/m.gguf
                        --mmproj ${dir}/mmproj.gguf --gguf-type bf16 RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "vkg_make_checkpoint --from: ${err}")
endif()

vkg_run(out rc err info -m ${dir}/m.gguf --mmproj ${dir}/mmproj.gguf)
if(NOT rc EQUAL 0 OR NOT out MATCHES "\nvision       tower: hidden 32, 2 layers, 2 heads of 16, MLP 64, patch 16, pooling 3, clipped linears, standardize\n  parameters 0.06 M [^\n]*\n  image tokens: id 252 \\(BOI 250, EOI 251\\); an image's tokens see each other on sliding layers")
  message(FATAL_ERROR "info --mmproj: rc=${rc}\n${out}\n${err}")
endif()

function(expect_error pattern)
  vkg_run(out rc err ${ARGN})
  string(REGEX MATCHALL "\n" newlines "${err}")
  list(LENGTH newlines n)
  if(NOT rc EQUAL 1 OR NOT err MATCHES "^error: ${pattern}" OR NOT n EQUAL 1)
    message(FATAL_ERROR "vkgemma ${ARGN}\nexpected rc 1 and one line 'error: ${pattern}'\ngot rc=${rc} stderr=${err}")
  endif()
endfunction()
set(tokens 2,250,252,251)
expect_error("${dir}/m.gguf is a GGUF text model: give its vision projector with --mmproj FILE to take --image"
             logits -m ${dir}/m.gguf --tokens ${tokens} --image ${fixture}/image.png)
expect_error("--mmproj ${dir}/mmproj.gguf: a projector file goes with a GGUF text model; ${fixture} is a Hugging Face checkpoint"
             logits -m ${fixture} --mmproj ${dir}/mmproj.gguf --tokens ${tokens})
expect_error("m.gguf: general.architecture is \"gemma4\", expected \"clip\" \\(an mmproj file\\)"
             logits -m ${dir}/m.gguf --mmproj ${dir}/m.gguf --tokens ${tokens} --image ${fixture}/image.png)
expect_error(".*${dir}/none.gguf" info -m ${dir}/m.gguf --mmproj ${dir}/none.gguf)
file(WRITE ${dir}/empty.gguf "")
expect_error("empty.gguf: " run -m ${dir}/m.gguf --mmproj ${dir}/empty.gguf -p hi --image ${fixture}/image.png)
