# libFuzzer targets (docs/FUZZING.md).
#
#   cmake -S . -B build-fuzz -DDVS_FUZZ=ON -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++
#   cmake --build build-fuzz --target dvs_fuzz_targets     # only the fuzz targets and what they link
#   harness/scripts/run-fuzz.sh SECONDS [TARGET...]        # configures, builds and runs them
#
# dvs_add_fuzz_target(<name> SOURCES <files> LIBS <libs> CORPUS <dir> [DICT <file>]) declares a
# fuzz target beside the code it fuzzes: <name> is an executable build-fuzz/fuzz/<name> whose
# sources define LLVMFuzzerTestOneInput; CORPUS is its seed corpus in the repository (by
# convention <dir>/fuzz-corpus/<name>/), DICT an optional libFuzzer dictionary. With DVS_FUZZ OFF
# (every other build) the call only checks its arguments and defines nothing, so any directory
# may make it unconditionally.
#
# With DVS_FUZZ ON every target of the tree is compiled with -fsanitize=fuzzer-no-link,address,
# undefined (coverage instrumentation, ASan, UBSan; a UBSan report ends the run like an ASan one)
# and the fuzz targets are linked with -fsanitize=fuzzer (libFuzzer's main). Only the targets
# dvs_fuzz_targets depends on (the fuzz targets and the libraries they link) are meant to be built
# in such a tree; they must compile warning-free under clang (DVS_WERROR=ON).
# build-fuzz/fuzz/targets.tsv lists every target: name, binary, corpus, dictionary (tab-separated),
# for harness/scripts/run-fuzz.sh.

option(DVS_FUZZ "Build the libFuzzer targets (clang; build the dvs_fuzz_targets target)" OFF)

if(DVS_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang" OR NOT CMAKE_C_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "DVS_FUZZ=ON needs clang: -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ "
                        "(found ${CMAKE_CXX_COMPILER_ID} ${CMAKE_CXX_COMPILER})")
  endif()
  if(NOT DVS_SANITIZE STREQUAL "")
    message(FATAL_ERROR "DVS_FUZZ=ON brings its own sanitizers (ASan + UBSan): leave DVS_SANITIZE empty")
  endif()
  # -O1 -g: libFuzzer's recommended build (fast enough, exact stack traces), whatever the build
  # type; -UNDEBUG: asserts stay on (and toml++ never turns its assertions into __builtin_assume).
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
                      -fno-omit-frame-pointer -g -O1 -UNDEBUG)
  add_link_options(-fsanitize=address,undefined)
  add_compile_definitions(DVS_SANITIZED=1)
  # toml++ (the cluster and scenario parsers' TOML layer): header-only here, so the fuzzer sees
  # its branches and ASan checks its accesses (Debian's libtomlplusplus.so is neither). Every
  # user of PkgConfig::TOMLPP in this tree then compiles it the same way, with its assertions off
  # as in that library (core/testkit/fuzz_toml_config.hpp).
  if(TARGET PkgConfig::TOMLPP)
    set_target_properties(PkgConfig::TOMLPP PROPERTIES
                          INTERFACE_COMPILE_OPTIONS "SHELL:-include ${PROJECT_SOURCE_DIR}/core/testkit/fuzz_toml_config.hpp"
                          INTERFACE_COMPILE_DEFINITIONS "TOML_HEADER_ONLY=1" INTERFACE_LINK_LIBRARIES ""
                          INTERFACE_LINK_OPTIONS "")
  endif()
  add_custom_target(dvs_fuzz_targets)
  set_property(GLOBAL PROPERTY DVS_FUZZ_TARGET_LINES "")

  # Written once the whole tree is configured (a deferred call at the end of the top directory).
  function(_dvs_fuzz_write_manifest)
    get_property(lines GLOBAL PROPERTY DVS_FUZZ_TARGET_LINES)
    set(text "# name\tbinary\tcorpus\tdictionary (written by cmake/fuzz.cmake)\n")
    foreach(line IN LISTS lines)
      string(APPEND text "${line}\n")
    endforeach()
    file(CONFIGURE OUTPUT ${CMAKE_BINARY_DIR}/fuzz/targets.tsv CONTENT "${text}" @ONLY)
  endfunction()
  cmake_language(DEFER DIRECTORY ${CMAKE_SOURCE_DIR} CALL _dvs_fuzz_write_manifest)
endif()

function(dvs_add_fuzz_target name)
  cmake_parse_arguments(F "" "CORPUS;DICT" "SOURCES;LIBS" ${ARGN})
  if(F_UNPARSED_ARGUMENTS OR NOT F_SOURCES OR NOT F_CORPUS)
    message(FATAL_ERROR "dvs_add_fuzz_target(${name} SOURCES <files> LIBS <libs> CORPUS <dir> [DICT <file>]): "
                        "got '${ARGN}'")
  endif()
  get_filename_component(corpus "${F_CORPUS}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
  if(NOT IS_DIRECTORY "${corpus}")
    message(FATAL_ERROR "dvs_add_fuzz_target(${name}): no seed corpus directory ${corpus}")
  endif()
  set(dict "")
  if(F_DICT)
    get_filename_component(dict "${F_DICT}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    if(NOT EXISTS "${dict}")
      message(FATAL_ERROR "dvs_add_fuzz_target(${name}): no dictionary ${dict}")
    endif()
  endif()
  if(NOT DVS_FUZZ)
    return()
  endif()
  add_executable(${name} ${F_SOURCES})
  target_link_libraries(${name} PRIVATE ${F_LIBS})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR})  # core/testkit/fuzz_check.hpp
  target_compile_options(${name} PRIVATE -fsanitize=fuzzer)
  target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/fuzz)
  add_dependencies(dvs_fuzz_targets ${name})
  set_property(GLOBAL APPEND PROPERTY DVS_FUZZ_TARGET_LINES "${name}\t${CMAKE_BINARY_DIR}/fuzz/${name}\t${corpus}\t${dict}")
endfunction()
