# `vkgemma chat` with piped stdin on a tiny random checkpoint: one reply per message line, no
# prompt decorations, /reset forgets the conversation (the same first message gets the same
# greedy reply again), errors and usage.
include(${CMAKE_CURRENT_LIST_DIR}/cli_util.cmake)
set(dir ${BINARY_DIR}/cli-chat)
set(model ${dir}/model)
vkg_tiny_chat_model(${dir})

function(chat_with input out_var err_var rc_var)
  file(WRITE ${dir}/input.txt "${input}")
  execute_process(COMMAND ${VKGEMMA} chat -m ${model} --temp 0 -n 5 --stats ${ARGN}
                  INPUT_FILE ${dir}/input.txt OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc TIMEOUT 120)
  set(${out_var} "${out}" PARENT_SCOPE)
  set(${err_var} "${err}" PARENT_SCOPE)
  set(${rc_var} "${rc}" PARENT_SCOPE)
endfunction()

# Two turns, /reset, the first message again, then EOF (GPU, the default device).
chat_with("hello\nhow are you?\n\n/reset\nhello\n" out err rc)
string(REGEX MATCHALL "\\[prompt: [^]]*\\]" turns "${err}")
list(LENGTH turns n_turns)
if(NOT rc EQUAL 0 OR NOT n_turns EQUAL 3 OR NOT err MATCHES "\\[reset\\]" OR err MATCHES "validation")
  message(FATAL_ERROR "chat: rc=${rc} turns=${n_turns}\nstdout=[${out}]\nstderr=${err}")
endif()
# Each reply ends with a newline; there is no "> " prompt when stdin is not a terminal. Replies may
# contain newlines themselves, so compare through the turn boundaries the stats give: turn 3
# (after /reset) evaluated the same prompt as turn 1 from scratch, and printed the same reply.
list(GET turns 0 t1)
list(GET turns 1 t2)
list(GET turns 2 t3)
string(REGEX MATCH "prompt: [0-9]+ new tokens, 0 reused" p1 "${t1}")
string(REGEX MATCH "prompt: [0-9]+ new tokens, 0 reused" p3 "${t3}")
if(NOT p1 OR NOT p1 STREQUAL p3 OR NOT t2 MATCHES "prompt: [0-9]+ new tokens, [0-9]+ reused")
  message(FATAL_ERROR "chat turns: ${t1} | ${t2} | ${t3}")
endif()
string(REGEX MATCH "prompt: ([0-9]+) new tokens, ([0-9]+) reused" m2 "${t2}")
math(EXPR conv2 "${CMAKE_MATCH_1} + ${CMAKE_MATCH_2}")
string(REGEX MATCH "prompt: ([0-9]+) new" m1 "${t1}")
if(NOT conv2 GREATER CMAKE_MATCH_1)
  message(FATAL_ERROR "turn 2 should see the whole conversation (more tokens than turn 1): ${t1} | ${t2}")
endif()
# The device memory held (--stats) is the same after every turn: nothing is allocated per turn.
string(REGEX MATCH "device memory: [0-9]+ allocations, [0-9]+ bytes" mem1 "${t1}")
string(REGEX MATCH "device memory: [0-9]+ allocations, [0-9]+ bytes" mem3 "${t3}")
if(NOT mem1 OR NOT mem1 STREQUAL mem3)
  message(FATAL_ERROR "chat device memory changed: [${mem1}] then [${mem3}]")
endif()
if(out MATCHES "^> " OR NOT out MATCHES "\n$")
  message(FATAL_ERROR "chat output decorations: [${out}]")
endif()
# The same conversation on the CPU reference: identical replies (greedy).
chat_with("hello\nhow are you?\n\n/reset\nhello\n" cpu_out cpu_err rc --device cpu)
if(NOT rc EQUAL 0 OR NOT cpu_out STREQUAL out)
  message(FATAL_ERROR "chat on cpu vs gpu:\n[${cpu_out}]\n[${out}]\n${cpu_err}")
endif()
# Turn 1 alone through `run` (same template, same greedy decoding) gives the same first reply.
vkg_run(first rc err run -m ${model} -p hello --temp 0 -n 5 --device cpu)
string(FIND "${cpu_out}" "${first}\n" at)
if(NOT rc EQUAL 0 OR NOT at EQUAL 0)
  message(FATAL_ERROR "chat's first reply is not run's reply [${first}]:\n[${cpu_out}]")
endif()

# KV-cache reuse: with a template that renders earlier turns exactly as they were prompted (no
# thinking pre-fill) and one-token replies (the reply itself is never evaluated), each prompt
# extends the previous one, so turn 2 evaluates only its new tokens.
file(MAKE_DIRECTORY ${dir}/plain)
file(COPY ${model}/config.json ${model}/model.safetensors ${model}/tokenizer.json DESTINATION ${dir}/plain)
file(WRITE ${dir}/plain/chat_template.jinja
     "{{ bos_token }}{% for m in messages %}<|turn>{{ m.role }}\n{{ m.content | trim }}<turn|>\n{% endfor %}"
     "{% if add_generation_prompt %}<|turn>model\n{% endif %}")
file(WRITE ${dir}/input.txt "hello\nhow are you?\n")
execute_process(COMMAND ${VKGEMMA} chat -m ${dir}/plain --temp 0 -n 1 --stats --device cpu
                INPUT_FILE ${dir}/input.txt OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc TIMEOUT 120)
string(REGEX MATCHALL "\\[prompt: [^]]*\\]" turns "${err}")
list(LENGTH turns n_turns)
if(NOT rc EQUAL 0 OR NOT n_turns EQUAL 2)
  message(FATAL_ERROR "chat with chat_template.jinja: rc=${rc}\n${err}")
endif()
list(GET turns 0 t1)
list(GET turns 1 t2)
string(REGEX MATCH "prompt: ([0-9]+) new tokens, 0 reused" m1 "${t1}")
set(n1 ${CMAKE_MATCH_1})
string(REGEX MATCH "prompt: ([0-9]+) new tokens, ([0-9]+) reused" m2 "${t2}")
if(NOT m1 OR NOT m2 OR NOT CMAKE_MATCH_2 EQUAL n1)
  message(FATAL_ERROR "turn 2 should reuse turn 1's ${n1} prompt tokens: ${t1} | ${t2}")
endif()

# /exit stops reading; nothing after it is answered.
chat_with("hello\n/exit\nhello again\n" out err rc --device cpu)
string(REGEX MATCHALL "\\[prompt: " turns "${err}")
list(LENGTH turns n_turns)
if(NOT rc EQUAL 0 OR NOT n_turns EQUAL 1)
  message(FATAL_ERROR "chat /exit: rc=${rc} turns=${n_turns}\n${err}")
endif()

# A conversation that outgrows --ctx: one error line, exit 1 (piped input).
chat_with("hello\n" out err rc --device cpu --ctx 8)
if(NOT rc EQUAL 1 OR NOT err MATCHES "error: the prompt has [0-9]+ tokens but the context holds 8 \\(raise --ctx\\)\n")
  message(FATAL_ERROR "chat over --ctx: rc=${rc}\n${err}")
endif()

vkg_run(out rc err chat --help)
if(NOT rc EQUAL 0 OR NOT out MATCHES "usage: vkgemma chat" OR NOT out MATCHES "/reset")
  message(FATAL_ERROR "chat --help: rc=${rc}\n${out}")
endif()
vkg_run(out rc err chat -m ${model} --bogus)
if(NOT rc EQUAL 2 OR NOT err MATCHES "^error: unknown option '--bogus' for chat\n")
  message(FATAL_ERROR "chat --bogus: rc=${rc} stderr=${err}")
endif()
vkg_run(out rc err chat -m ${dir}/nonexistent)
if(NOT rc EQUAL 1 OR NOT err MATCHES "^error: model directory '[^']*nonexistent' does not exist\n$")
  message(FATAL_ERROR "chat missing dir: rc=${rc} stderr=${err}")
endif()

file(REMOVE_RECURSE ${dir})
