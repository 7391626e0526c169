# Embeds files into a C++ source at build time so the binary needs no data
# folder at run time (shaders, the viewer page). Each file becomes an entry
# of a generated table: { "relative/name", bytes, size }.
function(cs_embed_files target namespace base_dir)
  set(files ${ARGN})
  set(out_cpp "${CMAKE_CURRENT_BINARY_DIR}/${target}_embedded.cpp")
  set(abs_files "")
  foreach(f IN LISTS files)
    list(APPEND abs_files "${base_dir}/${f}")
  endforeach()
  add_custom_command(
    OUTPUT "${out_cpp}"
    COMMAND ${CMAKE_COMMAND} -DOUT=${out_cpp} -DNAMESPACE=${namespace}
            -DBASE=${base_dir} "-DFILES=${files}"
            -P "${PROJECT_SOURCE_DIR}/cmake/EmbedFilesScript.cmake"
    DEPENDS ${abs_files} "${PROJECT_SOURCE_DIR}/cmake/EmbedFilesScript.cmake"
    COMMENT "Embedding ${namespace} files"
    VERBATIM)
  add_library(${target} STATIC "${out_cpp}")
  target_include_directories(${target} PUBLIC "${PROJECT_SOURCE_DIR}/common/include")
endfunction()
