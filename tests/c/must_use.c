/*
 * Compile test of LWIP_WS_MUST_USE (tests/c/run.sh): with -Werror this file must FAIL to
 * compile when IGNORE_C (WSS_write's result ignored) or IGNORE_CPP (lwipws::WSS::write's
 * result ignored, C++ only) is defined, and compile without them (the results used).
 * Compiled as C and as C++ (11 and 17), with gcc and clang; never linked. As C++ it also
 * instantiates every template member of lwip_ws.hpp (all optional callbacks, the TLS
 * calls, which a build without the `tls` feature could not link).
 */
#include "lwip_ws.h"
#ifdef __cplusplus
#include "lwip_ws.hpp"
#endif

int probe(WSS *wss);

#if defined(__cplusplus) && !defined(IGNORE_C) && !defined(IGNORE_CPP)
namespace {
struct All : lwipws::Listener<All>, lwipws::Callbacks<All> {
    void onRequest(lwipws::Request &) noexcept {}
    void onFrame(lwipws::WSS &, void *, int, bool) noexcept {}
    void onClose(lwipws::WSS &, int) noexcept {}
    void onPing(lwipws::WSS &, const void *, int) noexcept {}
    void onPong(lwipws::WSS &, const void *, int) noexcept {}
    void onOpen(lwipws::WSS &, const char *) noexcept {}
    void onWritable(lwipws::WSS &) noexcept {}
    void onChunk(lwipws::WSS &, const void *, int, bool, uint64_t, bool) noexcept {}
};
}
int probeAll(lwipws::TlsConfig &cfg, lwipws::WSS &wss);
int probeAll(lwipws::TlsConfig &cfg, lwipws::WSS &wss)
{
    All all;
    ip_addr_t addr;
    IP_ADDR4(&addr, 127, 0, 0, 1);
    return all.listenTls(443, cfg) + all.setLimits(1, 1) +
           wss.openClientTls(addr, 443, "h", "/", nullptr, cfg) +
           (all.pingFp != nullptr && all.chunkFp != nullptr && all.openFp != nullptr ? 0 : 1);
}
#endif

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
