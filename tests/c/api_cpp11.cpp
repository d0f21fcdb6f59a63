/*
 * The C API compiled as C++11 (api_suite.h), then the C++ wrappers of lwip_ws.hpp: a
 * server endpoint on lwipws::WSS objects and a client driven through lwipws::WSS.
 */
#include "api_suite.h"
#include "lwip_ws.hpp"

#include <new>
#include <type_traits>

static_assert(!std::is_copy_constructible<lwipws::WSS>::value, "WSS is not copyable");
static_assert(!std::is_copy_assignable<lwipws::WSS>::value, "WSS is not assignable");
static_assert(std::is_standard_layout<lwipws::WSS>::value, "WSS starts with its ::WSS");
static_assert(sizeof(lwipws::WSS) == sizeof(::WSS), "WSS adds no state");

namespace {

/* The server endpoint: echoes through lwipws::WSS::from(). */
struct CppEcho : lwipws::WSSCB {
    int closes = 0, lastStatus = 0;
    CppEcho() : lwipws::WSSCB(onFrame, onClose) {}
    static void onFrame(::WSSCB *, ::WSS *w, void *data, int len, int isTxt)
    {
        lwipws::WSS::from(w)->write(data, len, isTxt != 0);
    }
    static void onClose(::WSSCB *o, ::WSS *, int status)
    {
        CppEcho *self = static_cast<CppEcho *>(o);
        self->closes++;
        self->lastStatus = status;
    }
};

CppEcho cppEcho;
lwipws::WSS cppServer(&cppEcho, 256, 1024);
WSListener cppListener;
int cppClosed() { return cppEcho.closes > 0; }

void onCppRequest(WSListener *, HttpRequest *req)
{
    if (cppServer.upgrade(req) != LWIP_WS_OK) {
        HttpRequest_reject(req, 503);
    }
}

} // namespace

static void checkWrappers()
{
    /* The client's state lives in a Client (api_suite.h) whose first member, a ::WSS,
     * is taken over by a wrapper (same layout) built on the suite's client callbacks. */
    Client *c = &clients[0];
    memset(c, 0, sizeof *c);
    lwipws::WSS &client = *new (&c->wss) lwipws::WSS(&clientCb, 256, 1024);
    ip_addr_t addr;
    IP_ADDR4(&addr, 127, 0, 0, 1);

    lwipws::WSS unconstructed(nullptr, 1, 1);
    CHECK(unconstructed.write("x", 1, true) == LWIP_WS_ERR_NOT_CONSTRUCTED,
          "C++: a WSS built with a NULL callback set is not constructed");
    CHECK(lwipws::WSS::from(client.c()) == &client, "C++: WSS::from(c()) is the wrapper");
    CHECK(!client.isValid() && client.close() == LWIP_WS_ERR_STATE,
          "C++: idle WSS is not valid, close() is ERR_STATE");
    CHECK(client.connect(nullptr) == LWIP_WS_ERR_ARG, "C++: connect(nullptr) is ERR_ARG");
    CHECK(WSListener_constructor(&cppListener, onCppRequest) == LWIP_WS_OK &&
              WSListener_listen(&cppListener, nullptr, SUITE_PORT + 1) == LWIP_WS_OK,
          "C++: second listener on port %d", SUITE_PORT + 1);
    waitClient = c;
    CHECK(WSS_openClient(client.c(), &addr, SUITE_PORT + 1, "127.0.0.1", "/", nullptr) ==
                  LWIP_WS_OK &&
              pollUntil(isOpen, 3000) && client.isValid() && cppServer.isValid(),
          "C++: client and lwipws::WSS server open");
    waitFrames = c->frames + 1;
    CHECK(client.write("hello", 5, true) == LWIP_WS_OK && pollUntil(hasFrames, 3000) &&
              c->lastLen == 5 && c->lastTxt == 1 && memcmp(c->last, "hello", 5) == 0,
          "C++: text echo through write()");
    waitFrames = c->frames + 1;
    CHECK(client.write("\x01\x02", 2, false) == LWIP_WS_OK && pollUntil(hasFrames, 3000) &&
              c->lastLen == 2 && c->lastTxt == 0,
          "C++: binary echo through write()");
    CHECK(client.close() == LWIP_WS_OK && pollUntil(isClosed, 6000) && c->closeStatus == 1000 &&
              pollUntil(cppClosed, 6000) && cppEcho.lastStatus == 1000,
          "C++: close() defaults to 1000, both sides see it");
    free(c->last);
    c->last = nullptr;
    WSListener_destructor(&cppListener);
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
