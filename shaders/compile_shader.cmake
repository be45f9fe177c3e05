# vkg_add_shader(ID <Name> SOURCE <file.comp> [DEFINES A=1 ...]) compiles one shader variant with
# glslangValidator into ${binary}/spirv/<Name>.spv.h (a uint32_t array k<Name>Spirv) and records
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
    COMMAND Vulkan::glslangValidator --target-env vulkan1.2 -S comp
            -I${CMAKE_CURRENT_SOURCE_DIR} -I${CMAKE_CURRENT_SOURCE_DIR}/common ${defs}
            --vn k${ARG_ID}Spirv --depfile ${VKG_SPIRV_DIR}/${ARG_ID}.d -o ${out}
            ${CMAKE_CURRENT_SOURCE_DIR}/${ARG_SOURCE}
    DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/${ARG_SOURCE}
    DEPFILE ${VKG_SPIRV_DIR}/${ARG_ID}.d
    COMMENT "glslang ${ARG_SOURCE} -> ${ARG_ID}"
    VERBATIM)
  set_property(GLOBAL APPEND PROPERTY VKG_SHADER_IDS ${ARG_ID})
  set_property(GLOBAL APPEND PROPERTY VKG_SHADER_HEADERS ${out})
endfunction()

# Writes shader_id.inc and shader_table.cpp (the one translation unit holding every SPIR-V array)
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
  configure_file(${CMAKE_CURRENT_SOURCE_DIR}/shader_table.cpp.in ${CMAKE_CURRENT_BINARY_DIR}/shader_table.cpp @ONLY)
  add_library(vkg_shaders STATIC ${CMAKE_CURRENT_BINARY_DIR}/shader_table.cpp ${headers})
  target_include_directories(vkg_shaders PUBLIC ${CMAKE_SOURCE_DIR} ${CMAKE_SOURCE_DIR}/shaders ${CMAKE_CURRENT_BINARY_DIR})
endfunction()
