/*
 * Compile test of LWIP_WS_MUST_USE (tests/c/run.sh): with -Werror this file must FAIL to
 * compile when IGNORE_C (WSS_write's result ignored) or IGNORE_CPP (lwipws::WSS::write's
 * result ignored, C++ only) is defined, and compile without them (the results used).
 * Compiled as C and as C++ (11 and 17), with gcc and clang; never linked.
 */
#include "lwip_ws.h"
#ifdef __cplusplus
#include "lwip_ws.hpp"
#endif

int probe(WSS *wss);

int probe(WSS *wss)
{
#if defined(IGNORE_C)
    WSS_write(wss, "x", 1, 1);
    return 0;
#elif defined(IGNORE_CPP)
    lwipws::WSS::from(wss)->write("x", 1, true);
    return 0;
#elif defined(__cplusplus)
    return WSS_write(wss, "x", 1, 1) + lwipws::WSS::from(wss)->write("x", 1, true);
#else
    return WSS_write(wss, "x", 1, 1);
#endif
}
