# lwip_ws_chat_page(TARGET): examples/chat/index.html as the C array index_html (xxd -i) in
# <build>/gen/page.h, a dependency of TARGET, whose include path gets <build>/gen.
function(lwip_ws_chat_page target)
    find_program(LWIP_WS_XXD xxd REQUIRED)
    set(gen ${CMAKE_CURRENT_BINARY_DIR}/gen)
    set(page ${LWIP_WS_ROOT}/examples/chat/index.html)
    add_custom_command(
        OUTPUT ${gen}/page.h
        COMMAND ${CMAKE_COMMAND} -E make_directory ${gen}
        COMMAND ${LWIP_WS_XXD} -i index.html ${gen}/page.h
        DEPENDS ${page}
        WORKING_DIRECTORY ${LWIP_WS_ROOT}/examples/chat
        VERBATIM)
    target_sources(${target} PRIVATE ${gen}/page.h)
    target_include_directories(${target} PRIVATE ${gen})
endfunction()
