# `vkgemma compare`: bench JSON results side by side; bad files get one `error:` line and exit 1.
include(${CMAKE_CURRENT_LIST_DIR}/cli_util.cmake)

set(result ${SOURCE_DIR}/bench/results/lavapipe-bench.json)
vkg_run(out rc err compare ${result} ${result})
if(NOT rc EQUAL 0 OR NOT out MATCHES "\\| decode tok/s \\| [0-9.]+ \\| [0-9.]+ \\|\n"
   OR NOT out MATCHES "\\| decode vs the first \\| 1.00x \\| 1.00x \\|" OR out MATCHES "note:"
   OR NOT out MATCHES "\\| kernels checked \\| [a-z() ]+ \\| [a-z() ]+ \\|")
  message(FATAL_ERROR "compare: rc=${rc}\n${out}${err}")
endif()

set(dir ${BINARY_DIR}/cli-compare)
file(REMOVE_RECURSE ${dir})
file(MAKE_DIRECTORY ${dir})
file(WRITE ${dir}/other.json "{\"schema\": \"something-else/2\"}")
file(WRITE ${dir}/broken.json "{\"schema\": ")

vkg_run(out rc err compare ${dir}/missing.json)
if(NOT rc EQUAL 1 OR NOT err STREQUAL "error: cannot read '${dir}/missing.json'\n")
  message(FATAL_ERROR "missing file: rc=${rc} stderr=${err}")
endif()
vkg_run(out rc err compare ${result} ${dir}/other.json)
if(NOT rc EQUAL 1 OR NOT err STREQUAL "error: '${dir}/other.json' is not a vkgemma bench result (schema \"vkgemma-bench/2\" or \"vkgemma-bench/1\")\n")
  message(FATAL_ERROR "other schema: rc=${rc} stderr=${err}")
endif()
vkg_run(out rc err compare ${dir}/broken.json)
if(NOT rc EQUAL 1 OR NOT err STREQUAL "error: '${dir}/broken.json' is not a JSON object\n")
  message(FATAL_ERROR "broken JSON: rc=${rc} stderr=${err}")
endif()
vkg_run(out rc err compare)
if(NOT rc EQUAL 2 OR NOT err MATCHES "^error: no result files given\n")
  message(FATAL_ERROR "no files: rc=${rc} stderr=${err}")
endif()
