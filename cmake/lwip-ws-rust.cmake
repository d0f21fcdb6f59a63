# Helpers of the top-level CMakeLists.txt: the Rust target triple for a Cortex-M toolchain,
# and the Cargo build of liblwip_ws.a as the imported library target `lwip_ws`.

# lwip_ws_rust_target(VAR): the triple for CMAKE_SYSTEM_PROCESSOR and the -mcpu /
# -mfloat-abi flags of CMAKE_C_FLAGS (what an arm-none-eabi toolchain file sets).
function(lwip_ws_rust_target var)
    string(TOLOWER "${CMAKE_SYSTEM_PROCESSOR} ${CMAKE_C_FLAGS}" what)
    set(hard FALSE)
    if(what MATCHES "-mfloat-abi=(hard|softfp)")
        set(hard TRUE)
    endif()
    if(what MATCHES "cortex-m(0|0plus|1)([^0-9]|$)")
        set(triple thumbv6m-none-eabi)
    elseif(what MATCHES "cortex-m3([^0-9]|$)")
        set(triple thumbv7m-none-eabi)
    elseif(what MATCHES "cortex-m(4|7)([^0-9]|$)")
        set(triple thumbv7em-none-eabi)
    elseif(what MATCHES "cortex-m23([^0-9]|$)")
        set(triple thumbv8m.base-none-eabi)
    elseif(what MATCHES "cortex-m(33|35p|55)([^0-9]|$)")
        set(triple thumbv8m.main-none-eabi)
    else()
        message(FATAL_ERROR "lwip-ws: no Rust target known for CMAKE_SYSTEM_PROCESSOR "
            "'${CMAKE_SYSTEM_PROCESSOR}': set LWIP_WS_RUST_TARGET (e.g. thumbv7em-none-eabihf)")
    endif()
    if(hard AND triple MATCHES "^thumbv(7em|8m.main)")
        set(triple ${triple}hf)
    endif()
    set(${var} ${triple} PARENT_SCOPE)
endfunction()

# lwip_ws_add_cargo_library(NAME n TARGET triple PROFILE p FEATURES ... CFLAGS ...
#   DEFINES ... INCLUDE_DIRS ... LWIP_DIR dir CARGO_TARGET_DIR dir)
function(lwip_ws_add_cargo_library)
    cmake_parse_arguments(A "" "NAME;TARGET;PROFILE;LWIP_DIR;CARGO_TARGET_DIR"
        "FEATURES;CFLAGS;DEFINES;INCLUDE_DIRS" ${ARGN})
    find_program(LWIP_WS_CARGO cargo HINTS $ENV{HOME}/.cargo/bin)
    if(NOT LWIP_WS_CARGO)
        message(FATAL_ERROR "lwip-ws: cargo not found (install Rust with rustup)")
    endif()

    set(profile_dir ${A_PROFILE})
    if(A_PROFILE STREQUAL "dev")
        set(profile_dir debug)
    endif()
    set(env
        "LWIP_DIR=${A_LWIP_DIR}"
        "LWIP_COMPILE=0"
        "CARGO_TARGET_DIR=${A_CARGO_TARGET_DIR}")
    string(REPLACE ";" ":" dirs "${A_INCLUDE_DIRS}")
    string(REPLACE ";" " " cflags "${A_CFLAGS}")
    string(REPLACE ";" " " defines "${A_DEFINES}")
    list(APPEND env "LWIP_INCLUDE_DIRS=${dirs}" "LWIP_CFLAGS=${cflags}"
        "LWIP_DEFINES=${defines}")
    set(target_args "")
    if(A_TARGET)
        # The cc crate's per-target compiler: the firmware's own C compiler and archiver.
        string(REPLACE "-" "_" suffix "${A_TARGET}")
        string(REPLACE "." "_" suffix "${suffix}")
        list(APPEND env "CC_${suffix}=${CMAKE_C_COMPILER}" "AR_${suffix}=${CMAKE_AR}")
        set(target_args --target ${A_TARGET})
        find_program(LWIP_WS_RUSTUP rustup HINTS $ENV{HOME}/.cargo/bin)
        if(LWIP_WS_RUSTUP)
            execute_process(COMMAND ${LWIP_WS_RUSTUP} target list --installed
                OUTPUT_VARIABLE installed ERROR_QUIET)
            if(NOT installed MATCHES "(^|\n)${A_TARGET}(\n|$)")
                message(FATAL_ERROR "lwip-ws: the Rust target ${A_TARGET} is not installed: "
                    "run `rustup target add ${A_TARGET}`")
            endif()
        endif()
        set(built ${A_CARGO_TARGET_DIR}/${A_TARGET}/${profile_dir}/liblwip_ws.a)
        set(LWIP_WS_RUST_TARGET_SHOWN ${A_TARGET} PARENT_SCOPE)
    else()
        set(built ${A_CARGO_TARGET_DIR}/${profile_dir}/liblwip_ws.a)
        set(LWIP_WS_RUST_TARGET_SHOWN "(host)" PARENT_SCOPE)
    endif()
    string(REPLACE ";" "," features "${A_FEATURES}")

    # Everything Cargo reads, so that the build re-runs Cargo when one of them changes.
    file(GLOB_RECURSE sources CONFIGURE_DEPENDS
        ${LWIP_WS_ROOT}/src/*.rs
        ${LWIP_WS_ROOT}/lwip-sys/src/*.rs
        ${LWIP_WS_ROOT}/lwip-sys/shim/*)
    set(headers "")
    foreach(dir IN LISTS A_INCLUDE_DIRS)
        file(GLOB_RECURSE found CONFIGURE_DEPENDS ${dir}/*.h)
        list(APPEND headers ${found})
    endforeach()

    set(lib ${CMAKE_CURRENT_BINARY_DIR}/liblwip_ws.a)
    add_custom_command(
        OUTPUT ${lib}
        COMMAND ${CMAKE_COMMAND} -E env ${env}
            ${LWIP_WS_CARGO} rustc --lib --crate-type staticlib --profile ${A_PROFILE}
            ${target_args}
            --no-default-features --features ${features}
        # Each build folder keeps its own copy: one Cargo target folder may serve several
        # feature sets, which all land on the same path there.
        COMMAND ${CMAKE_COMMAND} -E copy ${built} ${lib}
        DEPENDS ${sources} ${headers}
            ${LWIP_WS_ROOT}/Cargo.toml ${LWIP_WS_ROOT}/Cargo.lock
            ${LWIP_WS_ROOT}/lwip-sys/Cargo.toml ${LWIP_WS_ROOT}/lwip-sys/build.rs
            ${LWIP_WS_ROOT}/lwip-sys/wrapper.h
        WORKING_DIRECTORY ${LWIP_WS_ROOT}
        COMMENT "cargo rustc liblwip_ws.a (${features})"
        USES_TERMINAL
        VERBATIM)
    # Built by default when lwip-ws is the top-level project; as a subdirectory, when a
    # target linking lwip_ws needs it.
    set(all "")
    if(CMAKE_SOURCE_DIR STREQUAL LWIP_WS_ROOT)
        set(all ALL)
    endif()
    add_custom_target(${A_NAME}_cargo ${all} DEPENDS ${lib})

    add_library(${A_NAME} STATIC IMPORTED GLOBAL)
    set_target_properties(${A_NAME} PROPERTIES IMPORTED_LOCATION ${lib})
    target_include_directories(${A_NAME} INTERFACE
        ${LWIP_WS_ROOT}/include ${A_INCLUDE_DIRS} ${A_LWIP_DIR}/src/include)
    add_dependencies(${A_NAME} ${A_NAME}_cargo)
    if("std" IN_LIST A_FEATURES)
        find_package(Threads REQUIRED)
        target_link_libraries(${A_NAME} INTERFACE Threads::Threads ${CMAKE_DL_LIBS} m)
    endif()
endfunction()
