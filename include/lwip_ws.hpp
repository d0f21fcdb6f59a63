/*
 * lwip_ws.hpp: C++11 wrappers over lwip_ws.h (hand-written; the C header stays the
 * contract: every rule stated there, threading included, holds here too).
 *
 * The wrappers add no state and no allocation: lwipws::WSSCB *is* a ::WSSCB, and an
 * lwipws::WSS starts with its ::WSS, so a callback's ::WSS* converts back with
 * lwipws::WSS::from(). Return codes are the C ones (LWIP_WS_OK or LWIP_WS_ERR_*).
 *
 *     struct Echo : lwipws::WSSCB {
 *         Echo() : lwipws::WSSCB(onFrame, onClose) {}
 *         static void onFrame(::WSSCB *, ::WSS *w, void *d, int n, int txt)
 *         { lwipws::WSS::from(w)->write(d, n, txt != 0); }
 *         static void onClose(::WSSCB *, ::WSS *, int) {}
 *     };
 *     static Echo echo;
 *     static lwipws::WSS conn(&echo, 1024, 4096);   // then conn.upgrade(req) ...
 */
#ifndef LWIP_WS_HPP
#define LWIP_WS_HPP

#include "lwip_ws.h"

namespace lwipws {

/*
 * The callbacks of a connection: a ::WSSCB filled by WSSCB_constructor. Derive your
 * own struct from it to carry context (the callbacks receive a ::WSSCB* that you may
 * static_cast to your type). The optional members (pongFp, openFp, writableFp) can be
 * set directly after construction. It must outlive every WSS that uses it.
 */
struct WSSCB : ::WSSCB {
    /* frame and close are required, ping is optional (the pong is sent anyway). */
    WSSCB(WSSCB_Frame frame, WSSCB_Close close, WSSCB_Ping ping = nullptr)
    {
        ::WSSCB_constructor(this, frame, close, ping);
    }
};

/*
 * One WebSocket connection at a time (::WSS storage plus its life cycle). The ::WSS is
 * the first member, so the object may live in a static array and from() recovers it
 * inside callbacks. It must not move while constructed: it is neither copyable nor
 * movable.
 */
class WSS {
public:
    /* WSS_constructor(cb, startSize, expandSize): cb must outlive this object. A failed
     * construction (NULL cb, negative sizes) leaves the storage unconstructed: every
     * call then returns LWIP_WS_ERR_NOT_CONSTRUCTED (or LWIP_WS_ERR_ARG) and isValid()
     * is false. */
    WSS(::WSSCB *cb, int startSize, int expandSize) : wss_()
    {
        ::WSS_constructor(&wss_, cb, startSize, expandSize);
    }

    /* WSS_destructor: a live connection is aborted (TCP RST) without any callback;
     * close() first and wait for closeFp for a clean end. */
    ~WSS() { ::WSS_destructor(&wss_); }

    WSS(const WSS &) = delete;
    WSS &operator=(const WSS &) = delete;

    /* WSS_upgrade: inside a WSListener request callback, answer 101 and take the
     * connection over (LWIP_WS_ERR_ARG when the request is not a valid upgrade; the
     * library has then answered with the HTTP error). */
    int upgrade(HttpRequest *req) { return ::WSS_upgrade(&wss_, req); }

    /* WSS_connect: take over a pcb whose upgrade another HTTP server answered, with
     * the bytes it already received after the request head (data/len, may be none). */
    int connect(struct altcp_pcb *pcb, const void *data = nullptr, int len = 0)
    {
        return ::WSS_connect(&wss_, pcb, data, len);
    }

    /* WSS_write: queue one whole message (text when isTxt; it must be UTF-8). The data
     * is copied. LWIP_WS_ERR_WOULD_BLOCK: nothing queued, wait for writableFp. */
    int write(const void *data, int len, bool isTxt)
    {
        return ::WSS_write(&wss_, data, len, isTxt ? 1 : 0);
    }

    /* WSS_close: start the closing handshake with statusCode; closeFp follows. */
    int close(int statusCode = 1000) { return ::WSS_close(&wss_, statusCode); }

    /* WSS_isValid: true while open (handshake done, no close started). */
    bool isValid() { return ::WSS_isValid(&wss_) != 0; }

    /* The C object, for every other WSS_* function (WSS_ping, WSS_setMaxMessage,
     * WSS_openClient, ...). */
    ::WSS *c() { return &wss_; }

    /* The wrapper around a ::WSS that came from c() (e.g. the one a callback gets).
     * Only for ::WSS objects that belong to an lwipws::WSS. */
    static WSS *from(::WSS *w) { return reinterpret_cast<WSS *>(w); }

private:
    ::WSS wss_; /* first and only member: from() relies on it */
};

} /* namespace lwipws */

#endif /* LWIP_WS_HPP */
