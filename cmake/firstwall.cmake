# Helpers: one call per library and per test target, so warnings and sanitizers are set in one place.

set(FW_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion
    -Wnon-virtual-dtor -Wold-style-cast -Woverloaded-virtual)
# Warnings stop the build in development and CI (FW_WERROR=ON, `make ... WERROR=ON`), never in a
# user's build: a newer compiler's new warning must not break `make run`.
if(FW_WERROR)
  list(APPEND FW_WARNINGS -Werror)
endif()

function(fw_target_defaults target)
  target_compile_options(${target} PRIVATE ${FW_WARNINGS})
  if(FW_SANITIZE OR FW_FUZZ)
    target_compile_options(${target} PRIVATE -fsanitize=address,undefined -fno-omit-frame-pointer
                                             -fno-sanitize-recover=all)
    target_link_options(${target} PRIVATE -fsanitize=address,undefined)
  endif()
  if(FW_FUZZ)
    # Coverage for libFuzzer in every library; the fuzz targets add the fuzzer's main.
    target_compile_options(${target} PRIVATE -fsanitize=fuzzer-no-link)
  endif()
endfunction()

# fw_library(NAME SOURCES a.cc b.cc DEPS other_lib ...)
function(fw_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(${name} PUBLIC ${ARG_DEPS})
  fw_target_defaults(${name})
endfunction()

# fw_test(NAME SOURCES a_test.cc DEPS lib ...): a GoogleTest binary registered with CTest.
function(fw_test name)
  if(NOT FW_TESTS)
    return()
  endif()
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main)
  fw_target_defaults(${name})
  # Tests run from the project root so they can find catalog/, examples/ and ../shared.
  gtest_discover_tests(${name} WORKING_DIRECTORY ${PROJECT_SOURCE_DIR} DISCOVERY_TIMEOUT 60
                       PROPERTIES LABELS unit)
endfunction()

# fw_mpi_test(NAME RANKS N COMMAND program args... [EXPECT_FAILURE regex]): a CTest that runs
# COMMAND on N local MPI ranks through scripts/mpirun-local. Labelled mpi (`ctest -L mpi`); under
# AddressSanitizer they run without leak checks (see the script). The timeout turns a hang into a
# failure.
# With EXPECT_FAILURE the test passes when the job ends with a non-zero status and its output
# matches the regex.
function(fw_mpi_test name)
  if(NOT FW_TESTS)
    return()
  endif()
  cmake_parse_arguments(ARG "" "RANKS;EXPECT_FAILURE" "COMMAND" ${ARGN})
  set(launch ${PROJECT_SOURCE_DIR}/scripts/mpirun-local ${ARG_RANKS} ${ARG_COMMAND})
  if(DEFINED ARG_EXPECT_FAILURE)
    add_test(NAME ${name} COMMAND sh -c "\"$@\"; echo \"mpirun exit status $?\"" sh ${launch}
             WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
    set_tests_properties(${name} PROPERTIES PASS_REGULAR_EXPRESSION
                                            "${ARG_EXPECT_FAILURE}.*mpirun exit status [1-9]")
  else()
    add_test(NAME ${name} COMMAND ${launch} WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
  endif()
  set_tests_properties(${name} PROPERTIES LABELS mpi TIMEOUT 120)
endfunction()

# fw_embed(OUT_CC VAR FILES...): compiles text files into the binary as {path, text} pairs, so the
# CLI works from any directory while the data stays as YAML in the source tree.
function(fw_embed out_cc)
  cmake_parse_arguments(ARG "" "" "FILES" ${ARGN})
  set(abs_files)
  foreach(f ${ARG_FILES})
    list(APPEND abs_files ${PROJECT_SOURCE_DIR}/${f})
  endforeach()
  string(REPLACE ";" "," files_csv "${ARG_FILES}")
  add_custom_command(
    OUTPUT ${out_cc}
    COMMAND ${CMAKE_COMMAND} -DOUT=${out_cc} -DROOT=${PROJECT_SOURCE_DIR} -DFILES=${files_csv}
            -P ${PROJECT_SOURCE_DIR}/cmake/embed.cmake
    DEPENDS ${abs_files} ${PROJECT_SOURCE_DIR}/cmake/embed.cmake
    COMMENT "Embedding the catalog and the default scenario"
    VERBATIM)
endfunction()

if(FW_TESTS)
  include(GoogleTest)
endif()

# fw_embed_assets(OUT_CC [NAMESPACE NS] NAME=ABSOLUTE_PATH ...): compiles files of any content into
# the binary, read back by name with NS::Asset (default firstwall::report::assets;
# cmake/embed_assets.cmake). A missing file fails the build with a message naming
# scripts/setup-deps; it is checked at configure time too, so the message comes before anything
# builds.
function(fw_embed_assets out_cc)
  cmake_parse_arguments(EMBED "" "NAMESPACE" "" ${ARGN})
  set(ns ${EMBED_NAMESPACE})
  if(NOT ns)
    set(ns firstwall::report::assets)
  endif()
  set(paths)
  foreach(pair ${EMBED_UNPARSED_ARGUMENTS})
    string(REPLACE "=" ";" parts "${pair}")
    list(GET parts 1 path)
    if(NOT EXISTS "${path}")
      message(FATAL_ERROR "firstwall: ${path} is missing (the HTML report embeds it). "
                          "Run scripts/setup-deps, which installs web/'s npm packages with npm ci.")
    endif()
    list(APPEND paths ${path})
  endforeach()
  string(REPLACE ";" "," assets_csv "${EMBED_UNPARSED_ARGUMENTS}")
  add_custom_command(
    OUTPUT ${out_cc}
    COMMAND ${CMAKE_COMMAND} -DOUT=${out_cc} -DASSETS=${assets_csv} -DNS=${ns}
            -P ${PROJECT_SOURCE_DIR}/cmake/embed_assets.cmake
    DEPENDS ${paths} ${PROJECT_SOURCE_DIR}/cmake/embed_assets.cmake
    COMMENT "Embedding ${ns}: pages and the chart library"
    VERBATIM)
endfunction()
