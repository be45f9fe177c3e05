# `vkgemma selftest`: usage errors; both kernel families on lavapipe at E2B's real shapes (--quick
# samples: about 20 s of CPU each with the validation layers), the GPU family with the integer-dot
# products forced (lavapipe has the feature unaccelerated) beside bf16's float ones; and proof that
# it catches a wrong kernel: the hidden VKGEMMA_SELFTEST_PERTURB hook corrupts one output value of
# the cases that ran the named shader, and selftest must fail exactly those, naming the kernel.
include(${CMAKE_CURRENT_LIST_DIR}/cli_util.cmake)

vkg_run(out rc err selftest --bogus)
if(NOT rc EQUAL 2 OR NOT err MATCHES "^error: unknown option '--bogus' for selftest\n")
  message(FATAL_ERROR "bad flag: rc=${rc} stderr=${err}")
endif()
vkg_run(out rc err selftest --shape 7b)
if(NOT rc EQUAL 2 OR NOT err MATCHES "^error: unknown shape '7b' \\(valid: e2b, e4b, 12b, 26b-a4b, 31b\\)\n")
  message(FATAL_ERROR "unknown shape: rc=${rc} stderr=${err}")
endif()
vkg_run(out rc err selftest --device cpu)
if(NOT rc EQUAL 1 OR NOT err MATCHES "^error: selftest checks a Vulkan device's kernels")
  message(FATAL_ERROR "--device cpu: rc=${rc} stderr=${err}")
endif()

set(ENV{LP_NUM_THREADS} 0)  # lavapipe dispatches on the queue thread (docs/lavapipe.md)

# Every case of the JSON in `out` passes unless its kernels contain `perturbed`; returns the count.
function(check_cases out perturbed n_var failed_var)
  string(JSON n LENGTH "${out}" cases)
  math(EXPR last "${n} - 1")
  set(failed 0)
  foreach(i RANGE ${last})
    string(JSON pass GET "${out}" cases ${i} pass)
    string(JSON kernels GET "${out}" cases ${i} kernels)
    string(JSON op GET "${out}" cases ${i} op)
    if(perturbed AND kernels MATCHES "${perturbed}")
      if(pass)
        message(FATAL_ERROR "selftest: the perturbed case ${op} [${kernels}] passed\n${out}")
      endif()
      math(EXPR failed "${failed} + 1")
    elseif(NOT pass)
      message(FATAL_ERROR "selftest: ${op} [${kernels}] failed\n${out}")
    endif()
  endforeach()
  set(${n_var} ${n} PARENT_SCOPE)
  set(${failed_var} ${failed} PARENT_SCOPE)
endfunction()

# GPU family: products on int8 activations (q4_0) and float ones (bf16), the fused decode products,
# decode attention as replayed (splits planned for the context's end) and prefill attention.
vkg_run(out rc err selftest --shape e2b --quick --kernels gpu --int-dot force --weights q4_0,bf16 --kv f16 --json)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "selftest --kernels gpu: rc=${rc}\n${err}\n${out}")
endif()
check_cases("${out}" "" n failed)
string(JSON family GET "${out}" kernels)
string(JSON schema GET "${out}" schema)
if(NOT family STREQUAL "gpu" OR NOT schema STREQUAL "vkgemma-selftest/1" OR n LESS 80)
  message(FATAL_ERROR "selftest --kernels gpu: family ${family}, schema ${schema}, ${n} cases\n${out}")
endif()
foreach(kernel "QuantizeActivations\\+MatVecInt8Q4_0" MatMulInt8TiledQ4_0 MatVecInt8GeluPairsQ4_0 MatVecBF16
               MatMulTiledBF16 MatVecGeluPairsBF16 MatVecGeluMulBF16 "AttentionDecodeGpuF16\\+AttentionDecodeGpuCombine"
               AttentionPrefillGpuF16 ResidualNormRows)
  if(NOT out MATCHES "\"kernels\": \"[^\"]*${kernel}")
    message(FATAL_ERROR "selftest --kernels gpu: no case ran ${kernel}\n${out}")
  endif()
endforeach()
foreach(shape "D=256 window=512 ring=" "D=512 full" "head N=262144" "f16 cache T=1 pos=[0-9]+ \\(3 sequences")
  if(NOT out MATCHES "${shape}")
    message(FATAL_ERROR "selftest --kernels gpu: no case of shape '${shape}'\n${out}")
  endif()
endforeach()

# CPU family, with the f16 decode attention kernel "wrong": exit 1, its four cases (sliding and
# full layer, one sequence and a batched step) named on stderr, every other case (the q4_0
# cache's own decode and prefill kernels among them) passing.
set(ENV{VKGEMMA_SELFTEST_PERTURB} AttentionDecodeF16)
vkg_run(out rc err selftest --shape e2b --quick --kernels cpu --kv f16,q4_0 --json)
unset(ENV{VKGEMMA_SELFTEST_PERTURB})
if(NOT rc EQUAL 1)
  message(FATAL_ERROR "selftest with a perturbed kernel: rc=${rc} (expected 1)\n${err}")
endif()
check_cases("${out}" "AttentionDecodeF16" n failed)
string(JSON passed GET "${out}" passed)
string(JSON family GET "${out}" kernels)
string(REGEX MATCHALL "selftest: FAILED (batched )?decode attention \\[AttentionDecodeF16\\+AttentionDecodeCombine\\]" named "${err}")
string(REGEX MATCHALL "selftest: FAILED" all_named "${err}")
list(LENGTH named n_named)
list(LENGTH all_named n_all)
if(passed OR NOT family STREQUAL "cpu" OR NOT failed EQUAL 4 OR NOT n_named EQUAL 4 OR NOT n_all EQUAL 4)
  message(FATAL_ERROR "selftest perturbed: passed=${passed} family=${family} failed=${failed} named=${n_named}/${n_all}\n${err}")
endif()
foreach(kernel MatVecRowsQ4_0 MatMulQ4_0 AttentionPrefillF16 AttentionPrefillQ4
               "AttentionDecodeQ4\\+AttentionDecodeCombine" RmsNorm)
  if(NOT out MATCHES "\"kernels\": \"[^\"]*${kernel}")
    message(FATAL_ERROR "selftest --kernels cpu: no case ran ${kernel}\n${out}")
  endif()
endforeach()

# The GPU family's attention on a q8_0 cache: flash decode and a batched decode step (splits),
# prefill on the matrix-unit kernel (emulated fragments: lavapipe has no units) where it has a
# tile (heads of 256) and the tiled flash kernel where not (512), all passing; only the attention
# cases run (--ops). Together with the q4_0 cases above and tests/ops/attention_kv_quant_test.cpp
# (both formats on every kernel) the quantized caches' kernels are all checked.
vkg_run(out rc err selftest --shape e2b --quick --kernels gpu --coopmat emulate --kv q8_0 --ops attention --json)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "selftest --coopmat emulate --kv q8_0: rc=${rc}\n${err}\n${out}")
endif()
check_cases("${out}" "" n failed)
if(NOT n EQUAL 6)
  message(FATAL_ERROR "selftest --ops attention --kv q8_0: ${n} cases, expected 6 (decode, batched decode, prefill; 2 layer types)\n${out}")
endif()
foreach(kernel AttentionPrefillCoopmatEmulatedQ8 "AttentionDecodeGpuQ8\\+AttentionDecodeGpuCombine")
  if(NOT out MATCHES "\"kernels\": \"[^\"]*${kernel}")
    message(FATAL_ERROR "selftest --coopmat emulate --kv q8_0: no case ran ${kernel}\n${out}")
  endif()
endforeach()
if(NOT out MATCHES "\"op\": \"batched decode attention\"")
  message(FATAL_ERROR "selftest --kv q8_0: no batched decode attention case\n${out}")
endif()
vkg_run(out rc err selftest --kv q5_0)
if(NOT rc EQUAL 2 OR NOT err MATCHES "^error: --kv must be f16, q8_0, q4_0 or f32, not 'q5_0'\n")
  message(FATAL_ERROR "selftest --kv q5_0: rc=${rc} stderr=${err}")
endif()
