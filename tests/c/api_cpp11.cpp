/*
 * The C API compiled as C++11 (api_suite.h), then the C++ API of lwip_ws.hpp: a
 * Listener<T> whose request callback is a member, a server on lwipws::WSS objects with
 * Callbacks<T> member callbacks, a client driven through lwipws::WSS on a lwipws::WSSCB
 * made of captureless lambdas, and the destructor's close with 1001.
 */
#include "api_suite.h"
#include "lwip_ws.hpp"

#include <new>
#include <type_traits>

static_assert(!std::is_copy_constructible<lwipws::WSS>::value, "WSS is not copyable");
static_assert(!std::is_copy_assignable<lwipws::WSS>::value, "WSS is not assignable");
static_assert(std::is_standard_layout<lwipws::WSS>::value, "WSS starts with its ::WSS");
static_assert(sizeof(lwipws::WSS) == sizeof(::WSS), "WSS adds no state");
static_assert(noexcept(std::declval<lwipws::WSS &>().write("", 0, true)), "noexcept");
static_assert(noexcept(std::declval<const lwipws::WSS &>().isValid()), "const query");
static_assert(!std::is_copy_constructible<lwipws::TlsConfig>::value, "TlsConfig owns");

namespace {

/* The server side: member callbacks, echo, "bye" closes with 4001. */
struct CppEcho : lwipws::Callbacks<CppEcho> {
    int closes = 0, lastStatus = 0, writables = 0, failures = 0;
    void onFrame(lwipws::WSS &wss, void *data, int len, bool isTxt) noexcept
    {
        int rc = len == 3 && memcmp(data, "bye", 3) == 0 ? wss.close(4001)
                                                         : wss.write(data, len, isTxt);
        failures += rc != LWIP_WS_OK;
    }
    void onClose(lwipws::WSS &, int status) noexcept
    {
        closes++;
        lastStatus = status;
    }
    void onWritable(lwipws::WSS &) noexcept { writables++; }
};

/* The listener: member request callback, one server slot. */
struct CppServer : lwipws::Listener<CppServer> {
    lwipws::WSS &slot;
    int pages = 0;
    explicit CppServer(lwipws::WSS &s) noexcept : slot(s) {}
    void onRequest(lwipws::Request &req) noexcept
    {
        static const char page[] = "<p>hi</p>";
        if (!req.isWebSocket()) {
            pages += req.respondStatic(200, "text/html", page, sizeof page - 1) == LWIP_WS_OK;
        } else if (slot.upgrade(req) != LWIP_WS_OK && req.reject(503) != LWIP_WS_OK) {
            pages = -1000;
        }
    }
};

int cppCloses;
int cppStatus;

} // namespace

static void checkWrappers()
{
    CppEcho echo;
    lwipws::WSS server(echo, 256, 1024);
    CppServer listener(server);
    /* The client's state lives in a Client (api_suite.h) whose first member, a ::WSS, is
     * taken over by a wrapper (same layout) on callbacks made of captureless lambdas. */
    lwipws::WSSCB lambdas(
        [](::WSSCB *, ::WSS *w, void *d, int n, int t) { onClientFrame(nullptr, w, d, n, t); },
        [](::WSSCB *, ::WSS *w, int status) {
            onClientClose(nullptr, w, status);
            cppCloses++;
            cppStatus = status;
        });
    lambdas.openFp = [](::WSSCB *, ::WSS *w, const char *) { ((Client *)w)->open = 1; };
    Client *c = &clients[0];
    memset(c, 0, sizeof *c);
    lwipws::WSS &client = *new (&c->wss) lwipws::WSS(lambdas, 256, 1024);
    ip_addr_t addr;
    IP_ADDR4(&addr, 127, 0, 0, 1);

    lwipws::WSS unconstructed(nullptr, 1, 1);
    CHECK(!unconstructed.ok() && unconstructed.error() == LWIP_WS_ERR_NOT_CONSTRUCTED &&
              unconstructed.write("x", 1, true) == LWIP_WS_ERR_NOT_CONSTRUCTED,
          "C++: a WSS built with NULL callbacks reports !ok(), error() NOT_CONSTRUCTED");
    CHECK(server.ok() && client.ok() && listener.ok(), "C++: ok() after construction");
    CHECK(lwipws::WSS::from(client.c()) == &client, "C++: WSS::from(c()) is the wrapper");
    CHECK(!client.isValid() && client.close() == LWIP_WS_ERR_STATE && client.queued() == 0,
          "C++: idle WSS is not valid, close() is ERR_STATE, queued() 0");
    CHECK(client.connect(nullptr) == LWIP_WS_ERR_ARG, "C++: connect(nullptr) is ERR_ARG");
    CHECK(server.setMaxMessage(4096) == LWIP_WS_OK && server.setSendQueue(8192) == LWIP_WS_OK,
          "C++: settings while idle");
    CHECK(listener.setLimits(4, 2048) == LWIP_WS_OK && listener.setOrigins(nullptr) == LWIP_WS_OK &&
              listener.setHandshakeTimeout(5000) == LWIP_WS_OK &&
              listener.listen(SUITE_PORT + 1) == LWIP_WS_OK,
          "C++: Listener<T> listens on port %d", SUITE_PORT + 1);
    waitClient = c;
    CHECK(client.openClient(addr, SUITE_PORT + 1, "127.0.0.1", "/") == LWIP_WS_OK &&
              pollUntil(isOpen, 3000) && client.isValid() && server.isValid(),
          "C++: client and lwipws::WSS server open (member onRequest upgraded)");
    waitFrames = c->frames + 1;
    CHECK(client.write("hello", 5, true) == LWIP_WS_OK && pollUntil(hasFrames, 3000) &&
              c->lastLen == 5 && c->lastTxt == 1 && memcmp(c->last, "hello", 5) == 0,
          "C++: text echo through member onFrame and write()");
    waitFrames = c->frames + 1;
    CHECK(client.write("\x01\x02", 2, false) == LWIP_WS_OK && pollUntil(hasFrames, 3000) &&
              c->lastLen == 2 && c->lastTxt == 0,
          "C++: binary echo");
    ip_addr_t peer;
    uint16_t peerPort = 0;
    CHECK(server.peerAddr(peer, peerPort) == LWIP_WS_OK && peerPort != 0 &&
              server.heapBytes() >= 0 && server.heldBytes() == 0,
          "C++: const queries (peerAddr, heapBytes, heldBytes)");
    CHECK(client.write("bye", 3, true) == LWIP_WS_OK && pollUntil(isClosed, 6000) &&
              c->closeStatus == 4001 && echo.closes == 1 && echo.lastStatus == 4001,
          "C++: server close(4001) from a member callback, both sides see it");
    /* Reuse both, then let the server's destructor end an open connection. */
    free(c->last);
    memset(c, 0, sizeof *c);
    CHECK(client.reset(lambdas, 256, 1024) == LWIP_WS_OK && server.reset(echo, 256, 1024) == LWIP_WS_OK,
          "C++: reset() reuses the storage");
    CHECK(client.openClient(addr, SUITE_PORT + 1, "127.0.0.1", "/") == LWIP_WS_OK &&
              pollUntil(isOpen, 3000) && server.isValid(),
          "C++: second connection open");
    int closesBefore = echo.closes;
    server.~WSS();
    CHECK(pollUntil(isClosed, 6000) && c->closeStatus == 1001 && echo.closes == closesBefore,
          "C++: ~WSS() of an open connection: the peer gets close 1001 (got %d), no onClose",
          c->closeStatus);
    new (&server) lwipws::WSS(echo, 256, 1024); /* for the scope's destructor */
    CHECK(echo.failures == 0 && cppCloses == 2, "C++: no failed call in the callbacks");
    free(c->last);
    c->last = nullptr;
    client.~WSS();
}

int main()
{
    setvbuf(stdout, nullptr, _IOLBF, 0);
    if (runSuite()) {
        checkWrappers();
    }
    return finishSuite();
}
