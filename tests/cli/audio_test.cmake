# Audio input on the command line (host/audio + tools/cli/audio_args): --audio for run, chat and
# logits, /audio in chat; every refusal is one `error:` line with the documented exit code, decided
# before the model loads.
include(${CMAKE_CURRENT_LIST_DIR}/cli_util.cmake)
set(dir ${BINARY_DIR}/cli-audio)
set(clips ${SOURCE_DIR}/tests/data/gemma4-audio)
vkg_tiny_chat_model(${dir})  # ${dir}/model: text only (no audio_config)
set(text_model ${dir}/model)

# A copy whose config.json declares an audio tower and its token ids (as released checkpoints do).
set(audio_model ${dir}/audio)
file(MAKE_DIRECTORY ${audio_model})
file(GLOB model_files ${text_model}/*)
file(COPY ${model_files} DESTINATION ${audio_model})
file(READ ${text_model}/config.json config)
string(JSON config SET "${config}" audio_config "{\"hidden_size\": 32}")
string(JSON config SET "${config}" boa_token_id 253)
string(JSON config SET "${config}" audio_token_id 255)
string(JSON config SET "${config}" eoa_token_index 254)
file(WRITE ${audio_model}/config.json "${config}")

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

set(wav ${clips}/hf_1s3.wav)  # 1.3 s: 33 soft tokens
# A checkpoint without an audio tower refuses, whatever the command.
expect_error(1 "${text_model} has no audio tower \\(no audio_config in its config.json\\), so it cannot take --audio"
             run -m ${text_model} -p hi --audio ${wav})
expect_error(1 "${text_model} has no audio tower" logits -m ${text_model} --tokens 2 --audio ${wav})
expect_error(1 "${text_model} has no audio tower" chat -m ${text_model} --audio ${wav})

# <__media__> markers and media (images and clips together) must agree.
expect_error(2 "the prompt places 2 image\\(s\\) or clip\\(s\\) with <__media__> but 0 --image and 1 --audio given"
             run -m ${audio_model} -p "a <__media__> b <__media__>" --audio ${wav})

# Files that are not usable audio: one line naming the file, exit 1.
file(WRITE ${dir}/empty.wav "")
expect_error(1 "${dir}/empty.wav: the file is empty" run -m ${audio_model} -p hi --audio ${dir}/empty.wav)
expect_error(1 "${clips}/make_fixtures.py: not an audio file vkgemma reads \\(WAV, FLAC or MP3\\)"
             run -m ${audio_model} -p hi --audio ${clips}/make_fixtures.py)
expect_error(1 "${dir}/missing.wav: no such file" logits -m ${audio_model} --tokens 2 --audio ${dir}/missing.wav)
expect_error(1 "${dir}: not a regular file" run -m ${audio_model} -p hi --audio ${dir})
execute_process(COMMAND head -c 3000 ${wav} OUTPUT_FILE ${dir}/cut.wav)  # a partial download
expect_error(1 "${dir}/cut.wav: truncated \\(its data chunk promises 41600 bytes, the file holds 2956\\)"
             run -m ${audio_model} -p hi --audio ${dir}/cut.wav)

# logits: the token list must hold one run of audio tokens per clip, of the clip's length (33 here).
expect_error(1 "the tokens hold 0 run\\(s\\) of audio token 255 but 1 audio clip\\(s\\) were given"
             logits -m ${audio_model} --tokens 2,5,6 --audio ${wav})
expect_error(1 "audio clip 1 has 33 soft tokens but its run of audio tokens at position 2 has 3"
             logits -m ${audio_model} --tokens 2,253,255,255,255,254 --audio ${wav})

# chat: /audio with a bad file reports one line and (stdin not a terminal) exits 1; without an
# audio tower, /audio is refused the same way.
foreach(case "${audio_model}|/audio ${dir}/empty.wav|${dir}/empty.wav: the file is empty"
             "${text_model}|/audio ${wav}|${text_model} has no audio tower"
             "${audio_model}|/audio|/audio needs a file: /audio FILE")
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

# The 12B unified model (no tower: raw 640-sample frames, one soft token per 40 ms), with a
# tokenizer: run and chat take an image and a clip through the same paths; logits counts its audio
# tokens from the samples (1.0 s: 25), not from log-mel frames. Logits against HF:
# tests/model_gpu/unified_media_test.cpp.
set(unified ${dir}/unified)
file(MAKE_DIRECTORY ${unified})
set(unified_src ${SOURCE_DIR}/tests/data/gemma4-mm/unified-media)
file(COPY ${unified_src}/config.json ${unified_src}/model.safetensors ${unified_src}/preprocessor_config.json
          ${SOURCE_DIR}/tests/generate/data/tokenizer.json DESTINATION ${unified})
set(unified_png ${SOURCE_DIR}/tests/data/gemma4-mm/ple-vision/image.png)
vkg_run(out rc err run -m ${unified} -p "Compare <__media__> with <__media__>." --image ${unified_png}
        --audio ${unified_src}/audio.wav -n 2 --device cpu)
if(NOT rc EQUAL 0 OR NOT err MATCHES "prompt: [0-9]+ tokens")
  message(FATAL_ERROR "run --image --audio on the unified model: rc=${rc} stderr=${err}")
endif()
expect_error(1 "audio clip 1 has 25 soft tokens but its run of audio tokens at position 2 has 3"
             logits -m ${unified} --tokens 2,253,255,255,255,254 --audio ${unified_src}/audio.wav)
file(WRITE ${dir}/chat_in.txt "/audio ${unified_src}/audio.wav\n/image ${unified_png}\nhello\n")
execute_process(COMMAND ${VKGEMMA} chat -m ${unified} --device cpu -n 2 INPUT_FILE ${dir}/chat_in.txt
                OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc TIMEOUT 120)
if(NOT rc EQUAL 0 OR err MATCHES "error:")
  message(FATAL_ERROR "chat /audio /image on the unified model: rc=${rc} stderr=${err}")
endif()
