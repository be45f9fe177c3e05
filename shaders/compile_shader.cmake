# vkg_add_shader(ID <Name> SOURCE <file.comp> [DEFINES A=1 ...]) compiles one shader variant with
# the glslangValidator cmake/glslang.cmake chose into ${binary}/spirv/<Name>.spv.h (a uint32_t array k<Name>Spirv) and records
# <Name> for the generated ShaderId enum. Includes are tracked through a depfile, so editing a
# shared .glsl or params header rebuilds its users.
set(VKG_SPIRV_DIR ${CMAKE_CURRENT_BINARY_DIR}/spirv)
file(MAKE_DIRECTORY ${VKG_SPIRV_DIR})
set_property(GLOBAL PROPERTY VKG_SHADER_IDS "")
set_property(GLOBAL PROPERTY VKG_SHADER_HEADERS "")

function(vkg_add_shader)
  cmake_parse_arguments(ARG "" "ID;SOURCE" "DEFINES" ${ARGN})
  set(out ${VKG_SPIRV_DIR}/${ARG_ID}.spv.h)
  set(defs "")
  foreach(d ${ARG_DEFINES})
    list(APPEND defs -D${d})
  endforeach()
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${VKG_GLSLANG_VALIDATOR} --target-env vulkan1.2 -S comp
            -I${CMAKE_CURRENT_SOURCE_DIR} -I${CMAKE_CURRENT_SOURCE_DIR}/common ${defs}
            --vn k${ARG_ID}Spirv --depfile ${VKG_SPIRV_DIR}/${ARG_ID}.d -o ${out}
            ${CMAKE_CURRENT_SOURCE_DIR}/${ARG_SOURCE}
    # The compiler too: a newer one (tools/glslang.sh) rebuilds every shader with it.
    DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/${ARG_SOURCE} ${VKG_GLSLANG_VALIDATOR}
    DEPFILE ${VKG_SPIRV_DIR}/${ARG_ID}.d
    COMMENT "glslang ${ARG_SOURCE} -> ${ARG_ID}"
    VERBATIM)
  set_property(GLOBAL APPEND PROPERTY VKG_SHADER_IDS ${ARG_ID})
  set_property(GLOBAL APPEND PROPERTY VKG_SHADER_HEADERS ${out})
endfunction()

# vkg_check_shader(NAME <name> SOURCE <x.comp>) compiles a shader at build time with the shipped
# shaders' flags, without embedding it: a check that the compiler builds a kernel family's
# building blocks where no device here can run them. The SPIR-V lands in ${binary}/spirv/check/.
function(vkg_check_shader)
  cmake_parse_arguments(ARG "" "NAME;SOURCE" "" ${ARGN})
  file(MAKE_DIRECTORY ${VKG_SPIRV_DIR}/check)
  set(out ${VKG_SPIRV_DIR}/check/${ARG_NAME}.spv)
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${VKG_GLSLANG_VALIDATOR} --target-env vulkan1.2 -S comp
            -I${CMAKE_CURRENT_SOURCE_DIR} -I${CMAKE_CURRENT_SOURCE_DIR}/common
            -o ${out} ${CMAKE_CURRENT_SOURCE_DIR}/${ARG_SOURCE}
    DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/${ARG_SOURCE} ${VKG_GLSLANG_VALIDATOR}
    COMMENT "glslang ${ARG_SOURCE} -> check/${ARG_NAME}.spv (compile-only)"
    VERBATIM)
  add_custom_target(vkg_check_${ARG_NAME} ALL DEPENDS ${out})
endfunction()

# Writes shader_id.inc, weight_shader.inc (weight_formats.cmake) and shader_table.cpp (the one translation unit holding every SPIR-V array)
# and defines the vkg_shaders library. Call once, after every vkg_add_shader.
function(vkg_finalize_shaders)
  get_property(ids GLOBAL PROPERTY VKG_SHADER_IDS)
  get_property(headers GLOBAL PROPERTY VKG_SHADER_HEADERS)
  set(enum_lines "")
  set(include_lines "")
  set(table_lines "")
  set(name_lines "")
  foreach(id ${ids})
    string(APPEND enum_lines "${id},\n")
    string(APPEND include_lines "#include \"spirv/${id}.spv.h\"\n")
    string(APPEND table_lines "    std::span<const uint32_t>(k${id}Spirv),\n")
    string(APPEND name_lines "    \"${id}\",\n")
  endforeach()
  file(CONFIGURE OUTPUT ${CMAKE_CURRENT_BINARY_DIR}/shader_id.inc CONTENT "${enum_lines}")
  vkg_write_weight_shader_table(${CMAKE_CURRENT_BINARY_DIR}/weight_shader.inc)
  configure_file(${CMAKE_CURRENT_SOURCE_DIR}/shader_table.cpp.in ${CMAKE_CURRENT_BINARY_DIR}/shader_table.cpp @ONLY)
  configure_file(${CMAKE_CURRENT_SOURCE_DIR}/shader_compiler.cpp.in ${CMAKE_CURRENT_BINARY_DIR}/shader_compiler.cpp @ONLY)
  add_library(vkg_shaders STATIC ${CMAKE_CURRENT_BINARY_DIR}/shader_table.cpp
              ${CMAKE_CURRENT_BINARY_DIR}/shader_compiler.cpp ${headers})
  target_include_directories(vkg_shaders PUBLIC ${CMAKE_SOURCE_DIR} ${CMAKE_SOURCE_DIR}/shaders ${CMAKE_CURRENT_BINARY_DIR})
  # For code that can only name a family's ShaderIds where the compiler built them (#if).
  target_compile_definitions(vkg_shaders PUBLIC VKG_SHADERS_COOPMAT=${VKG_GLSLANG_COOPMAT}
                             VKG_SHADERS_INTEGER_DOT=${VKG_GLSLANG_INTEGER_DOT})
endfunction()
