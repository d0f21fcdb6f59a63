# lwip_ws_chat_page(TARGET): the pages of examples/chat for TARGET, whose include path gets
# <build>/gen: index.html as the constant array index_html (xxd -i) in <build>/gen/page.h,
# sent by reference from flash, and the device dashboard (dashboard.html as the constant array dashboard_html in
# <build>/gen/dashboard_page.h, sent by reference from flash) with its source dashboard.c.
function(lwip_ws_chat_page target)
    find_program(LWIP_WS_XXD xxd REQUIRED)
    set(gen ${CMAKE_CURRENT_BINARY_DIR}/gen)
    set(chat ${LWIP_WS_ROOT}/examples/chat)
    add_custom_command(
        OUTPUT ${gen}/page.h
        COMMAND ${CMAKE_COMMAND} -E make_directory ${gen}
        COMMAND sh -c "${LWIP_WS_XXD} -i index.html | sed 's/^unsigned/static const unsigned/' > '${gen}/page.h'"
        DEPENDS ${chat}/index.html
        WORKING_DIRECTORY ${chat}
        VERBATIM)
    add_custom_command(
        OUTPUT ${gen}/dashboard_page.h
        COMMAND ${CMAKE_COMMAND} -E make_directory ${gen}
        COMMAND sh -c "${LWIP_WS_XXD} -i dashboard.html | sed 's/^unsigned/static const unsigned/' > '${gen}/dashboard_page.h'"
        DEPENDS ${chat}/dashboard.html
        WORKING_DIRECTORY ${chat}
        VERBATIM)
    target_sources(${target} PRIVATE ${gen}/page.h ${gen}/dashboard_page.h ${chat}/dashboard.c)
    set_source_files_properties(${chat}/dashboard.c PROPERTIES
        COMPILE_OPTIONS "-std=c99;-Wall;-Wextra;-Werror;-pedantic")
    target_include_directories(${target} PRIVATE ${gen})
endfunction()
