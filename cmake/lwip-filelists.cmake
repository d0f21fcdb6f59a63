# lwip_ws_add_lwip(NAME INCLUDE_DIRS dir... [SOURCES extra.c...] [OPTIONS flag...]): a static
# library of lwIP's core, IPv4 and Ethernet (plus SOURCES: the port's own files), from the
# lists in lwIP's own src/Filelists.cmake, compiled with INCLUDE_DIRS (lwipopts.h, arch/cc.h)
# in front of lwIP's headers. Include this file once, with LWIP_DIR set to the lwIP tree.
if(NOT EXISTS ${LWIP_DIR}/src/Filelists.cmake)
    message(FATAL_ERROR "no lwIP tree at '${LWIP_DIR}': set LWIP_DIR or run scripts/fetch-lwip")
endif()
# Sets lwIP's *_SRCS lists (and declares its own targets, excluded from the build).
include(${LWIP_DIR}/src/Filelists.cmake)

function(lwip_ws_add_lwip name)
    cmake_parse_arguments(A "" "" "INCLUDE_DIRS;SOURCES;OPTIONS" ${ARGN})
    add_library(${name} STATIC
        ${lwipcore_SRCS} ${lwipcore4_SRCS} ${LWIP_DIR}/src/netif/ethernet.c ${A_SOURCES})
    target_include_directories(${name} PUBLIC ${A_INCLUDE_DIRS} ${LWIP_DIR}/src/include)
    target_compile_options(${name} PRIVATE ${A_OPTIONS})
endfunction()
