# `vkgemma devices`: lists the device (lavapipe here) as a table and as JSON; bad usage exits 2.
include(${CMAKE_CURRENT_LIST_DIR}/cli_util.cmake)

vkg_run(out rc err devices)
if(NOT rc EQUAL 0 OR NOT out MATCHES "\\[0\\] .*subgroup [0-9]+.*fp16 (yes|no).*max storage range [0-9]+ MiB")
  message(FATAL_ERROR "devices table: rc=${rc}\n${out}\n${err}")
endif()

vkg_run(out rc err devices --json)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "devices --json: rc=${rc}\n${err}")
endif()
string(JSON n LENGTH "${out}" devices)
string(JSON name GET "${out}" devices 0 name)
string(JSON range GET "${out}" devices 0 max_storage_buffer_range)
string(JSON coop GET "${out}" devices 0 cooperative_matrix)
if(n LESS 1 OR name STREQUAL "" OR range LESS 134217728)
  message(FATAL_ERROR "devices --json content: ${out}")
endif()

vkg_run(out rc err devices --bogus)
if(NOT rc EQUAL 2 OR NOT err MATCHES "^error: unknown option '--bogus' for devices\n")
  message(FATAL_ERROR "bad flag: rc=${rc} stderr=${err}")
endif()

vkg_run(out rc err frobnicate)
if(NOT rc EQUAL 2 OR NOT err MATCHES "^error: unknown command 'frobnicate'\n")
  message(FATAL_ERROR "unknown command: rc=${rc} stderr=${err}")
endif()

vkg_run(out rc err devices --help)
if(NOT rc EQUAL 0 OR NOT out MATCHES "usage: vkgemma devices")
  message(FATAL_ERROR "devices --help: rc=${rc}\n${out}")
endif()
