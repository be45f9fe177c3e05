# Real speech through the whole path: espeak-ng speaks a sentence (22050 Hz WAV), `vkgemma logits
# --audio` on the tiny E2B-like checkpoint with an audio tower (tests/data/gemma4-mm/ple-audio, HF's
# fixture) on the CPU reference: the clip's soft-token count is one per 40 ms, and the logits move
# with the audio: positions before the clip are bit-identical to those of the same prompt with a
# silent clip of the same length, and every position from the clip's first soft token on differs.
# Reports "not run" (ctest: skipped) without espeak-ng, the fixture, or an engine with an audio tower.
include(${CMAKE_CURRENT_LIST_DIR}/cli_util.cmake)
set(model ${SOURCE_DIR}/tests/data/gemma4-mm/ple-audio)
find_program(ESPEAK espeak-ng)
if(NOT ESPEAK)
  message(STATUS "not run: espeak-ng missing (apt-get install espeak-ng)")
  return()
endif()
if(NOT EXISTS ${model}/model.safetensors)
  message(STATUS "not run: ${model} (the audio tower's HF fixture) is missing")
  return()
endif()
set(dir ${BINARY_DIR}/cli-audio-speech)
file(REMOVE_RECURSE ${dir})
file(MAKE_DIRECTORY ${dir})
execute_process(COMMAND ${ESPEAK} -w ${dir}/talk.wav "Transcribe this sentence, please." RESULT_VARIABLE rc)
vkg_expect("rc EQUAL 0" "espeak-ng failed: ${rc}")
# The same WAV header (44 bytes, 16-bit mono 22050 Hz) over zeros: silence of the same length.
file(SIZE ${dir}/talk.wav size)
math(EXPR data "${size} - 44")
execute_process(COMMAND head -c 44 ${dir}/talk.wav OUTPUT_FILE ${dir}/header.bin)
execute_process(COMMAND head -c ${data} /dev/zero OUTPUT_FILE ${dir}/zeros.bin)
execute_process(COMMAND cat ${dir}/header.bin ${dir}/zeros.bin OUTPUT_FILE ${dir}/silence.wav)

# The soft-token count, from the one-line refusal of a run of the wrong length (decided before the load).
vkg_run(out rc err logits -m ${model} --device cpu --tokens 2,253,255,254 --audio ${dir}/talk.wav)
if(NOT err MATCHES "audio clip 1 has ([0-9]+) soft tokens")
  if(err MATCHES "cannot run an audio tower yet")
    message(STATUS "not run: this build's engine has no audio tower (Engine::AttachAudio)")
    return()
  endif()
  message(FATAL_ERROR "expected the soft-token count in: ${err}")
endif()
set(n ${CMAKE_MATCH_1})
math(EXPR samples "${data} / 2")
math(EXPR ms "${samples} * 1000 / 22050")
math(EXPR expect_lo "${ms} / 40 - 1")
math(EXPR expect_hi "${ms} / 40 + 1")
vkg_expect("n GREATER_EQUAL expect_lo AND n LESS_EQUAL expect_hi"
           "${n} soft tokens for ${ms} ms of speech: not one per 40 ms")

# Prompt: <bos> 17 33 5 <boa> n x <audio> <eoa> 60 7 9 (as the HF fixture's).
set(tokens "2,17,33,5,253")
foreach(i RANGE 1 ${n})
  string(APPEND tokens ",255")
endforeach()
string(APPEND tokens ",254,60,7,9")
foreach(clip talk silence)
  vkg_run(out rc err logits -m ${model} --device cpu --tokens ${tokens} --audio ${dir}/${clip}.wav
          --out ${dir}/${clip}.f32)
  vkg_expect("rc EQUAL 0" "logits --audio ${clip}.wav: rc=${rc} ${err}")
endforeach()
file(READ ${dir}/talk.f32 talk HEX)
file(READ ${dir}/silence.f32 silence HEX)
math(EXPR positions "${n} + 9")
string(LENGTH "${talk}" len)
math(EXPR row "${len} / ${positions}")  # hex characters per position (vocab x 4 bytes x 2)
math(EXPR last "${positions} - 1")
foreach(p RANGE 0 ${last})
  math(EXPR at "${p} * ${row}")
  string(SUBSTRING "${talk}" ${at} ${row} a)
  string(SUBSTRING "${silence}" ${at} ${row} b)
  if(p LESS 5)  # <bos> ... <boa>: causal, before the clip
    vkg_expect("a STREQUAL b" "position ${p} (before the clip) differs between speech and silence")
  else()
    vkg_expect("NOT a STREQUAL b" "position ${p} (the clip and after) does not move with the audio")
  endif()
endforeach()
message(STATUS "speech: ${ms} ms, ${n} soft tokens; logits move with the audio at positions 5-${last}")
