# The interface target vkg_httplib: cpp-httplib 0.18.7 from Debian 13's source (tools/httplib.sh
# puts the one header in the user's cache; run here when it is missing). Included by
# host/serve/CMakeLists.txt and by tests/fuzz (whose CPU-only build has no host/serve).
include_guard(GLOBAL)
find_package(Threads REQUIRED)
set(VKG_HTTPLIB_CACHE "$ENV{XDG_CACHE_HOME}")
if(NOT VKG_HTTPLIB_CACHE)
  set(VKG_HTTPLIB_CACHE "$ENV{HOME}/.cache")
endif()
set(VKG_HTTPLIB_DIR "${VKG_HTTPLIB_CACHE}/vkgemma/cpp-httplib/include")
if(NOT EXISTS "${VKG_HTTPLIB_DIR}/httplib.h")
  message(STATUS "cpp-httplib 0.18.7 is not in ${VKG_HTTPLIB_DIR}: running tools/httplib.sh")
  execute_process(COMMAND bash ${CMAKE_SOURCE_DIR}/tools/httplib.sh RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0 OR NOT EXISTS "${VKG_HTTPLIB_DIR}/httplib.h")
    message(FATAL_ERROR "vkgemma serve needs cpp-httplib from Debian 13's source: tools/httplib.sh failed")
  endif()
endif()
file(STRINGS "${VKG_HTTPLIB_DIR}/httplib.h" vkg_httplib_version REGEX "define CPPHTTPLIB_VERSION ")
message(STATUS "cpp-httplib: ${vkg_httplib_version} in ${VKG_HTTPLIB_DIR}")
add_library(vkg_httplib INTERFACE)
# SYSTEM: its warnings are not ours; and it comes before /usr/include, where Debian 12's 0.11.4
# header may also be installed.
target_include_directories(vkg_httplib SYSTEM INTERFACE "${VKG_HTTPLIB_DIR}")
target_link_libraries(vkg_httplib INTERFACE Threads::Threads)
# Its listen backlog is 5: a burst of connections past it has its SYNs dropped and retried a second
# later (measured: 500 loopback connections took 75 s). Every file including httplib.h sees the
# same value (one definition of its inline functions).
target_compile_definitions(vkg_httplib INTERFACE CPPHTTPLIB_LISTEN_BACKLOG=1024)
