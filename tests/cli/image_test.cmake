# Image input on the command line (host/image + tools/cli/image_args): --image and --image-tokens for
# run, chat and logits, /image in chat; every refusal is one `error:` line with the documented exit
# code, decided before the model loads where it can be.
include(${CMAKE_CURRENT_LIST_DIR}/cli_util.cmake)
set(dir ${BINARY_DIR}/cli-image)
set(images ${SOURCE_DIR}/tests/data/gemma4-image)
vkg_tiny_chat_model(${dir})  # ${dir}/model: text only (no vision_config)
set(text_model ${dir}/model)

# A copy whose config.json declares a vision tower and its token ids (as released checkpoints do).
set(vision_model ${dir}/vision)
file(MAKE_DIRECTORY ${vision_model})
file(GLOB model_files ${text_model}/*)
file(COPY ${model_files} DESTINATION ${vision_model})
file(READ ${text_model}/config.json config)
string(JSON config SET "${config}" vision_config "{\"hidden_size\": 32, \"patch_size\": 16}")
string(JSON config SET "${config}" boi_token_id 250)
string(JSON config SET "${config}" image_token_id 252)
string(JSON config SET "${config}" eoi_token_id 251)
file(WRITE ${vision_model}/config.json "${config}")

function(expect_error rc_want pattern)
  vkg_run(out rc err ${ARGN})
  string(REGEX MATCHALL "\n" newlines "${err}")
  list(LENGTH newlines n)
  if(rc_want EQUAL 2)
    set(n_want 2)  # usage errors add "run 'vkgemma CMD --help' for usage"
  else()
    set(n_want 1)
  endif()
  if(NOT rc EQUAL rc_want OR NOT err MATCHES "^error: ${pattern}" OR NOT n EQUAL n_want)
    message(FATAL_ERROR "vkgemma ${ARGN}\nexpected rc ${rc_want} and one line 'error: ${pattern}'\ngot rc=${rc} stderr=${err}")
  endif()
endfunction()

set(png ${images}/ple_vision.png)
# A checkpoint without a vision tower refuses, whatever the command.
foreach(cmd run logits)
  if(cmd STREQUAL run)
    set(rest -p hi)
  else()
    set(rest --tokens 2,250,252,251)
  endif()
  expect_error(1 "${text_model} has no vision tower \\(no vision_config in its config.json\\), so it cannot take --image"
               ${cmd} -m ${text_model} ${rest} --image ${png})
endforeach()
expect_error(1 "${text_model} has no vision tower" chat -m ${text_model} --image ${png})

# Budgets: one of five; --image-tokens alone is a usage error.
expect_error(2 "--image-tokens must be one of 70, 140, 280, 560, 1120; got '300'"
             run -m ${vision_model} -p hi --image ${png} --image-tokens 300)
expect_error(2 "--image-tokens needs --image FILE" run -m ${vision_model} -p hi --image-tokens 70)
# <__media__> markers and images must agree.
expect_error(2 "the prompt places 2 image\\(s\\) with <__media__> but 1 --image given"
             run -m ${vision_model} -p "a <__media__> b <__media__>" --image ${png})

# Files that are not usable images: one line naming the file, exit 1.
file(WRITE ${dir}/empty.png "")
expect_error(1 "${dir}/empty.png: the image file is empty" run -m ${vision_model} -p hi --image ${dir}/empty.png)
expect_error(1 "${images}/make_fixtures.py: not an image vkgemma reads \\(PNG, JPEG, WebP, GIF or BMP\\)"
             run -m ${vision_model} -p hi --image ${images}/make_fixtures.py)
expect_error(1 "${images}/truncated.jpg: broken JPEG file \\(the file is truncated\\)"
             run -m ${vision_model} -p hi --image ${images}/truncated.jpg)
expect_error(1 "${images}/huge_12000x12000.png: the image is 12000 x 12000 pixels, over the limit of 100000000"
             logits -m ${vision_model} --tokens 2 --image ${images}/huge_12000x12000.png)
expect_error(1 "cannot read image '${dir}/missing.png': No such file or directory"
             run -m ${vision_model} -p hi --image ${dir}/missing.png)
expect_error(1 "${dir}: is a directory, not an image file" run -m ${vision_model} -p hi --image ${dir})

# logits: the token list must hold one run of image tokens per image, of the image's length (the
# checkpoint's default budget is 280 here: no processor config; 200 x 150 -> 252 soft tokens).
expect_error(1 "the tokens hold 0 run\\(s\\) of image token 252 but 1 image\\(s\\) were given"
             logits -m ${vision_model} --tokens 2,5,6 --image ${png})
expect_error(1 "image 1 has 63 soft tokens but its run of image tokens at position 2 has 3"
             logits -m ${vision_model} --tokens 2,250,252,252,252,251 --image ${png} --image-tokens 70)
# The processor config's budget is the default: 70 gives 63 soft tokens, so a run of 3 is refused.
file(WRITE ${vision_model}/processor_config.json "{\"image_processor\": {\"max_soft_tokens\": 70}}")
expect_error(1 "image 1 has 63 soft tokens but its run of image tokens at position 2 has 3"
             logits -m ${vision_model} --tokens 2,250,252,252,252,251 --image ${png})

# chat: /image with a bad file reports one line and (stdin not a terminal) exits 1; without a vision
# tower, /image is refused the same way.
foreach(case "${vision_model}|/image ${dir}/empty.png|${dir}/empty.png: the image file is empty"
             "${text_model}|/image ${png}|${text_model} has no vision tower"
             "${vision_model}|/image|/image needs a file: /image FILE")
  string(REPLACE "|" ";" parts "${case}")
  list(GET parts 0 model)
  list(GET parts 1 line)
  list(GET parts 2 pattern)
  file(WRITE ${dir}/chat_in.txt "${line}\nhello\n")
  execute_process(COMMAND ${VKGEMMA} chat -m ${model} --device cpu INPUT_FILE ${dir}/chat_in.txt
                  OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc TIMEOUT 120)
  if(NOT rc EQUAL 1 OR NOT err MATCHES "\nerror: ${pattern}")
    message(FATAL_ERROR "chat '${line}' on ${model}: rc=${rc} stderr=${err}")
  endif()
endforeach()
