/*
 * lwip_ws.hpp: C++11 API over lwip_ws.h (hand-written; the C header stays the contract:
 * every rule stated there, threading included, holds here too). Every C function has a
 * wrapper here (tests/c/run.sh checks it).
 *
 * - No exceptions, no RTTI, no heap: every call is noexcept and returns the C code
 *   (LWIP_WS_OK or a negative LWIP_WS_ERR_*; lwipws::errorText names it). The calls whose
 *   result reports a failure or lost data are LWIP_WS_MUST_USE, as in C.
 * - RAII owners: lwipws::WSS (one connection), lwipws::Listener<T> (a listening port),
 *   lwipws::TlsConfig (a TLS configuration). A constructor cannot fail loudly: check ok()
 *   (or error()) after constructing.
 * - Callbacks as member functions: derive from lwipws::Callbacks<T> (connections) or
 *   lwipws::Listener<T> (requests); static trampolines call your members, with no
 *   virtual functions and no allocation. Or fill a lwipws::WSSCB with plain functions or
 *   captureless lambdas.
 * - Objects stay where they were constructed (lwIP points at them): none of them is
 *   copyable or movable. Static storage works, but construct them in lwIP's core context
 *   (e.g. as members of an object made in main() once lwIP runs), not before main().
 *
 *     struct Echo : lwipws::Callbacks<Echo> {
 *         unsigned lost = 0;
 *         void onFrame(lwipws::WSS &wss, void *data, int len, bool isTxt) noexcept
 *         {
 *             if (wss.write(data, len, isTxt) != LWIP_WS_OK) {
 *                 lost++;   // would-block: nothing queued; onWritable says when to retry
 *             }
 *         }
 *         void onClose(lwipws::WSS &, int) noexcept {}
 *     };
 *     Echo echo;                            // in lwIP's core context
 *     lwipws::WSS conn(echo, 1024, 4096);   // conn.ok(); then conn.upgrade(req) ...
 */
#ifndef LWIP_WS_HPP
#define LWIP_WS_HPP

#include "lwip_ws.h"

namespace lwipws {

class WSS;

/* WSS_errorText: a static English text for any return code or close status. */
inline const char *errorText(int code) noexcept { return ::WSS_errorText(code); }

/* WSS_acceptKey: Sec-WebSocket-Accept for a key; out gets 28 characters and a NUL. */
LWIP_WS_MUST_USE inline int acceptKey(const char *key, char (&out)[29]) noexcept
{
    return ::WSS_acceptKey(key, out);
}

/* lwipws_setHeapBudget / lwipws_heapBytes: one heap budget for all connections. */
inline int setHeapBudget(uint32_t bytes) noexcept { return ::lwipws_setHeapBudget(bytes); }
inline uint32_t heapBytes() noexcept { return ::lwipws_heapBytes(); }

/* lwipws_setAllowedOrigins: the Origin allow-list of websocket_accept (WSS::accept). */
LWIP_WS_MUST_USE inline int setAllowedOrigins(const char *origins) noexcept
{
    return ::lwipws_setAllowedOrigins(origins);
}

/* WSS_originAllowed: the library's Origin rule, for an HTTP server of your own. */
LWIP_WS_MUST_USE inline bool originAllowed(const char *origin, const char *host,
                                           const char *allowed) noexcept
{
    return ::WSS_originAllowed(origin, host, allowed) != 0;
}

/* lwipws_setDefaultTimeouts: keep-alive and message timeout of every WSS made later. */
LWIP_WS_MUST_USE inline int setDefaultTimeouts(uint32_t idleMs, uint32_t timeoutMs,
                                               uint32_t messageMs) noexcept
{
    return ::lwipws_setDefaultTimeouts(idleMs, timeoutMs, messageMs);
}

/*
 * The callbacks of a connection as plain functions: a ::WSSCB filled by
 * WSSCB_constructor. Captureless lambdas convert to these function pointers. Set the
 * optional members (pongFp, openFp, writableFp, chunkFp) after construction. Derive from
 * it to carry context (static_cast the ::WSSCB* a callback gets back to your type). It
 * must outlive every WSS that uses it.
 */
struct WSSCB : ::WSSCB {
    WSSCB(WSSCB_Frame frame, WSSCB_Close close, WSSCB_Ping ping = nullptr) noexcept
    {
        /* Only a NULL `this` fails: nothing to report. */
        if (::WSSCB_constructor(this, frame, close, ping) != LWIP_WS_OK) {
            frameFp = nullptr;
        }
    }
};

/* A request head handed to a Listener (HttpRequest_*). Valid only inside onRequest;
 * after an answer (respond, reject, WSS::upgrade) only its queries may not be used. */
class Request {
public:
    explicit Request(::HttpRequest *req) noexcept : req_(req) {}
    ::HttpRequest *c() const noexcept { return req_; }

    const char *method() const noexcept { return ::HttpRequest_getMethod(req_); }
    const char *path() const noexcept { return ::HttpRequest_getPath(req_); }
    /* NULL when there is no query. */
    const char *query() const noexcept { return ::HttpRequest_getQuery(req_); }
    /* The first header called `name` (case-insensitive), NULL when absent. */
    const char *header(const char *name) const noexcept
    {
        return ::HttpRequest_getHeaderValue(req_, name);
    }
    int headerCount() const noexcept { return ::HttpRequest_getHeaderCount(req_); }
    LWIP_WS_MUST_USE int header(int i, const char *&name, const char *&value) const noexcept
    {
        return ::HttpRequest_getHeader(req_, i, &name, &value);
    }
    /* Subprotocol number i offered by the client, NULL past the end. */
    const char *protocol(int i) const noexcept { return ::HttpRequest_getProtocol(req_, i); }
    bool isWebSocket() const noexcept { return ::HttpRequest_isWebSocket(req_) != 0; }
    LWIP_WS_MUST_USE int peerAddr(ip_addr_t &addr, uint16_t &port) const noexcept
    {
        return ::HttpRequest_peerAddr(req_, &addr, &port);
    }

    /* HttpRequest_respond: the body is copied (limit: the send queue). */
    LWIP_WS_MUST_USE int respond(int status, const char *contentType, const void *body,
                                 int len) noexcept
    {
        return ::HttpRequest_respond(req_, status, contentType, body, len);
    }
    /* HttpRequest_respondStatic: the body is sent by reference; it must be constant data
     * that outlives the connection (a static const array, flash). */
    LWIP_WS_MUST_USE int respondStatic(int status, const char *contentType, const void *body,
                                       int len) noexcept
    {
        return ::HttpRequest_respondStatic(req_, status, contentType, body, len);
    }
    LWIP_WS_MUST_USE int reject(int status) noexcept
    {
        return ::HttpRequest_reject(req_, status);
    }

private:
    ::HttpRequest *req_;
};

/* A TLS configuration (WSTls_*), released by the destructor (WSTls_freeConfig: only
 * after every listener and connection using it has ended). Empty until server() or
 * client() succeeded; ok() says whether it holds one. */
class TlsConfig {
public:
    TlsConfig() noexcept : cfg_(nullptr) {}
    ~TlsConfig() noexcept { ::WSTls_freeConfig(cfg_); }
    TlsConfig(const TlsConfig &) = delete;
    TlsConfig &operator=(const TlsConfig &) = delete;

    /* WSTls_serverConfig (only on an empty object: LWIP_WS_ERR_STATE otherwise). */
    LWIP_WS_MUST_USE int server(const void *certChain, int certLen, const void *key,
                                int keyLen, const char *keyPassword = nullptr) noexcept
    {
        return cfg_ != nullptr ? LWIP_WS_ERR_STATE
                               : ::WSTls_serverConfig(certChain, certLen, key, keyLen,
                                                      keyPassword, &cfg_);
    }
    /* WSTls_clientConfig (only on an empty object: LWIP_WS_ERR_STATE otherwise). */
    LWIP_WS_MUST_USE int client(const void *caList, int caLen, const void *cert = nullptr,
                                int certLen = 0, const void *key = nullptr, int keyLen = 0,
                                const char *keyPassword = nullptr) noexcept
    {
        return cfg_ != nullptr ? LWIP_WS_ERR_STATE
                               : ::WSTls_clientConfig(caList, caLen, cert, certLen, key,
                                                      keyLen, keyPassword, &cfg_);
    }
    /* WSTls_insecureSkipVerify: INSECURE, for tests only (see the C header). */
    LWIP_WS_MUST_USE int insecureSkipVerify() noexcept
    {
        return ::WSTls_insecureSkipVerify(cfg_);
    }
    /* WSTls_altcpConfig: lwIP's altcp_tls_config inside, for pcbs of your own. */
    void *altcp() const noexcept { return ::WSTls_altcpConfig(cfg_); }
    bool ok() const noexcept { return cfg_ != nullptr; }
    ::WSTlsConfig *c() const noexcept { return cfg_; }

    /* WSTls_closeListener: close a listening pcb of your own (plain or TLS). */
    LWIP_WS_MUST_USE static int closeListener(struct altcp_pcb *pcb) noexcept
    {
        return ::WSTls_closeListener(pcb);
    }
    /* WSTls_verifyError: why the last server certificate failed verification. */
    static int verifyError(char *buf, int bufLen) noexcept
    {
        return ::WSTls_verifyError(buf, bufLen);
    }

private:
    ::WSTlsConfig *cfg_;
};

/*
 * One WebSocket connection at a time: the ::WSS storage (its only member, so
 * sizeof(lwipws::WSS) == sizeof(::WSS) and an array of them may be used like a C array)
 * and its life cycle. A callback's ::WSS* converts back with from().
 *
 * Destructor: when the connection is still open it starts the close handshake with 1001
 * (going away): the close frame is handed to lwIP; since the storage then goes away, the
 * connection is released at once (WSS_destructor: lwIP aborts the TCP connection after
 * what it already sent, and no callback runs, not even onClose). For a complete close
 * handshake call close() and keep the object until onClose. A connection that is not
 * open (idle, handshaking, closing) is just released. It runs lwIP calls, so destroy a
 * WSS only in lwIP's core context (the NO_SYS main loop, the tcpip thread, or with
 * LOCK_TCPIP_CORE() held), including from its own callbacks; never let a static WSS be
 * destroyed after lwIP has stopped or without the core lock.
 */
class WSS {
public:
    /* Unconstructed storage (e.g. an array of connection slots): ok() is false until
     * reset() constructs it. */
    WSS() noexcept : wss_() {}
    /* WSS_constructor. cb must outlive this object. ok() is false when construction
     * failed (negative sizes); every call then returns LWIP_WS_ERR_NOT_CONSTRUCTED. */
    WSS(::WSSCB &cb, int startSize, int expandSize) noexcept : wss_()
    {
        construct(&cb, startSize, expandSize);
    }
    /* The same with a C pointer (NULL: not constructed). */
    WSS(::WSSCB *cb, int startSize, int expandSize) noexcept : wss_()
    {
        construct(cb, startSize, expandSize);
    }
    ~WSS() noexcept
    {
        if (isValid() && ::WSS_close(&wss_, 1001) != LWIP_WS_OK) {
            /* not sendable now: released below all the same */
        }
        ::WSS_destructor(&wss_);
    }
    WSS(const WSS &) = delete;
    WSS &operator=(const WSS &) = delete;

    /* LWIP_WS_OK when constructed, else LWIP_WS_ERR_NOT_CONSTRUCTED. */
    int error() const noexcept
    {
        int queued = ::WSS_queued(cm());
        return queued >= 0 ? LWIP_WS_OK : queued;
    }
    bool ok() const noexcept { return error() == LWIP_WS_OK; }
    /* WSS_destructor + WSS_constructor: reuse the storage for another connection (after
     * onClose, or to abort the current one without a callback). */
    LWIP_WS_MUST_USE int reset(::WSSCB &cb, int startSize, int expandSize) noexcept
    {
        ::WSS_destructor(&wss_);
        return ::WSS_constructor(&wss_, &cb, startSize, expandSize);
    }

    /* Starting a connection: one of these (see the C header for each). */
    LWIP_WS_MUST_USE int upgrade(Request &req) noexcept { return ::WSS_upgrade(&wss_, req.c()); }
    LWIP_WS_MUST_USE int upgrade(::HttpRequest *req) noexcept { return ::WSS_upgrade(&wss_, req); }
    LWIP_WS_MUST_USE int upgradeProtocol(Request &req, const char *protocol) noexcept
    {
        return ::WSS_upgradeProtocol(&wss_, req.c(), protocol);
    }
    LWIP_WS_MUST_USE int accept(struct altcp_pcb *pcb) noexcept
    {
        return ::websocket_accept(pcb, &wss_);
    }
    LWIP_WS_MUST_USE int connect(struct altcp_pcb *pcb, const void *data = nullptr,
                                 int len = 0) noexcept
    {
        return ::WSS_connect(&wss_, pcb, data, len);
    }
    LWIP_WS_MUST_USE int openClient(const ip_addr_t &addr, uint16_t port, const char *host,
                                    const char *path, const char *protocols = nullptr) noexcept
    {
        return ::WSS_openClient(&wss_, &addr, port, host, path, protocols);
    }
    LWIP_WS_MUST_USE int openClientTls(const ip_addr_t &addr, uint16_t port, const char *host,
                                       const char *path, const char *protocols,
                                       TlsConfig &cfg) noexcept
    {
        return ::WSS_openClientTls(&wss_, &addr, port, host, path, protocols, cfg.c());
    }

    /* Sending. LWIP_WS_ERR_WOULD_BLOCK: nothing queued; onWritable/writableFp runs once
     * the queue has drained. */
    LWIP_WS_MUST_USE int write(const void *data, int len, bool isTxt) noexcept
    {
        return ::WSS_write(&wss_, data, len, isTxt ? 1 : 0);
    }
    LWIP_WS_MUST_USE int writeFragment(const void *data, int len, bool isTxt, bool fin) noexcept
    {
        return ::WSS_writeFragment(&wss_, data, len, isTxt ? 1 : 0, fin ? 1 : 0);
    }
    LWIP_WS_MUST_USE int ping(const void *data = nullptr, int len = 0) noexcept
    {
        return ::WSS_ping(&wss_, data, len);
    }
    LWIP_WS_MUST_USE int close(int statusCode = 1000) noexcept
    {
        return ::WSS_close(&wss_, statusCode);
    }

    /* Queries (const). */
    bool isValid() const noexcept { return ::WSS_isValid(cm()) != 0; }
    int queued() const noexcept { return ::WSS_queued(cm()); }
    int heapBytes() const noexcept { return ::WSS_heapBytes(cm()); }
    int heldBytes() const noexcept { return ::WSS_heldBytes(cm()); }
    LWIP_WS_MUST_USE int peerAddr(ip_addr_t &addr, uint16_t &port) const noexcept
    {
        return ::WSS_peerAddr(cm(), &addr, &port);
    }

    /* Settings (while idle, except setTcpKeepAlive: while running). */
    LWIP_WS_MUST_USE int setMaxMessage(uint32_t maxBytes) noexcept
    {
        return ::WSS_setMaxMessage(&wss_, maxBytes);
    }
    LWIP_WS_MUST_USE int setSendQueue(uint32_t maxBytes) noexcept
    {
        return ::WSS_setSendQueue(&wss_, maxBytes);
    }
    LWIP_WS_MUST_USE int setTimeouts(uint32_t handshakeMs, uint32_t closeMs) noexcept
    {
        return ::WSS_setTimeouts(&wss_, handshakeMs, closeMs);
    }
    LWIP_WS_MUST_USE int setStreaming(bool on) noexcept
    {
        return ::WSS_setStreaming(&wss_, on ? 1 : 0);
    }
    LWIP_WS_MUST_USE int setIdleRelease(bool release) noexcept
    {
        return ::WSS_setIdleRelease(&wss_, release ? 1 : 0);
    }
    LWIP_WS_MUST_USE int setKeepAlive(uint32_t idleMs, uint32_t timeoutMs) noexcept
    {
        return ::WSS_setKeepAlive(&wss_, idleMs, timeoutMs);
    }
    LWIP_WS_MUST_USE int setMessageTimeout(uint32_t ms) noexcept
    {
        return ::WSS_setMessageTimeout(&wss_, ms);
    }
    LWIP_WS_MUST_USE int setTcpKeepAlive(uint32_t idleMs, uint32_t intervalMs,
                                         uint32_t count) noexcept
    {
        return ::WSS_setTcpKeepAlive(&wss_, idleMs, intervalMs, count);
    }

    /* Flow control. */
    LWIP_WS_MUST_USE int pauseRead() noexcept { return ::WSS_pauseRead(&wss_); }
    LWIP_WS_MUST_USE int resumeRead() noexcept { return ::WSS_resumeRead(&wss_); }

#if !defined(LWIP_WS_NO_TASKS)
    /* Application tasks (NO_SYS 0, either core-locking mode; see the C header). */
    LWIP_WS_MUST_USE int setReadQueue(int depth) noexcept
    {
        return ::WSS_setReadQueue(&wss_, depth);
    }
    LWIP_WS_MUST_USE int writeBlocking(const void *data, int len, bool isTxt,
                                       uint32_t timeoutMs) noexcept
    {
        return ::WSS_writeBlocking(&wss_, data, len, isTxt ? 1 : 0, timeoutMs);
    }
    LWIP_WS_MUST_USE int read(void *buf, int cap, bool &isTxt, uint32_t timeoutMs) noexcept
    {
        int txt = 0;
        int n = ::WSS_read(&wss_, buf, cap, &txt, timeoutMs);
        isTxt = txt != 0;
        return n;
    }
    /* The next piece (up to cap bytes) of the next message: its offset in the message
     * and whether it is the last one; returns its length or a negative code. */
    LWIP_WS_MUST_USE int readPiece(void *buf, int cap, bool &isTxt, uint64_t &offset,
                                   bool &last, uint32_t timeoutMs) noexcept
    {
        int txt = 0, fin = 0;
        uint64_t at = 0;
        int n = ::WSS_readPiece(&wss_, buf, cap, &txt, &at, &fin, timeoutMs);
        isTxt = txt != 0;
        offset = at;
        last = fin != 0;
        return n;
    }
    LWIP_WS_MUST_USE int closeFromTask(int statusCode = 1000) noexcept
    {
        return ::WSS_closeFromTask(&wss_, statusCode);
    }
#endif

    /* The C object, for C code. */
    ::WSS *c() noexcept { return &wss_; }
    /* The wrapper of a ::WSS that belongs to an lwipws::WSS (e.g. the one a callback
     * gets): WSS is standard-layout with the ::WSS as its only member. */
    static WSS *from(::WSS *w) noexcept { return reinterpret_cast<WSS *>(w); }

private:
    void construct(::WSSCB *cb, int startSize, int expandSize) noexcept
    {
        if (::WSS_constructor(&wss_, cb, startSize, expandSize) != LWIP_WS_OK) {
            /* unconstructed: error() reports it */
        }
    }
    /* The C queries take a non-const pointer but do not change the connection. */
    ::WSS *cm() const noexcept { return const_cast< ::WSS *>(&wss_); }

    ::WSS wss_;
};

/*
 * Connection callbacks as member functions of T (derive: struct App :
 * lwipws::Callbacks<App>). T must define
 *     void onFrame(WSS &wss, void *data, int len, bool isTxt) noexcept;
 *     void onClose(WSS &wss, int status) noexcept;
 * and may define any of (a member that is absent leaves the C pointer NULL)
 *     void onPing(WSS &, const void *data, int len) noexcept;
 *     void onPong(WSS &, const void *data, int len) noexcept;
 *     void onOpen(WSS &, const char *protocol) noexcept;
 *     void onWritable(WSS &) noexcept;
 *     void onChunk(WSS &, const void *data, int len, bool isTxt, uint64_t offset,
 *                  bool last) noexcept;
 * (not overloaded). The WSS& is the lwipws::WSS whose ::WSS the library called with: use
 * these callbacks only with lwipws::WSS connections. The object must outlive them.
 */
template <class T>
class Callbacks : public ::WSSCB {
protected:
    Callbacks() noexcept : ::WSSCB()
    {
        frameFp = &frame;
        closeFp = &closed;
        pingFp = pingOf<T>(nullptr);
        pongFp = pongOf<T>(nullptr);
        openFp = openOf<T>(nullptr);
        writableFp = writableOf<T>(nullptr);
        chunkFp = chunkOf<T>(nullptr);
    }
    ~Callbacks() = default;

private:
    Callbacks(const Callbacks &) = delete;
    Callbacks &operator=(const Callbacks &) = delete;

    static T &self(::WSSCB *o) noexcept { return *static_cast<T *>(static_cast<Callbacks *>(o)); }
    static void frame(::WSSCB *o, ::WSS *w, void *data, int len, int isTxt) noexcept
    {
        self(o).onFrame(*WSS::from(w), data, len, isTxt != 0);
    }
    static void closed(::WSSCB *o, ::WSS *w, int status) noexcept
    {
        self(o).onClose(*WSS::from(w), status);
    }
    static void ping(::WSSCB *o, ::WSS *w, void *data, int len) noexcept
    {
        self(o).onPing(*WSS::from(w), data, len);
    }
    static void pong(::WSSCB *o, ::WSS *w, void *data, int len) noexcept
    {
        self(o).onPong(*WSS::from(w), data, len);
    }
    static void open(::WSSCB *o, ::WSS *w, const char *protocol) noexcept
    {
        self(o).onOpen(*WSS::from(w), protocol);
    }
    static void writable(::WSSCB *o, ::WSS *w) noexcept { self(o).onWritable(*WSS::from(w)); }
    static void chunk(::WSSCB *o, ::WSS *w, void *data, int len, int isTxt, uint64_t offset,
                      int last) noexcept
    {
        self(o).onChunk(*WSS::from(w), data, len, isTxt != 0, offset, last != 0);
    }

    /* The optional callbacks: the trampoline when U has the member, else NULL. */
    template <class U> static WSSCB_Ping pingOf(decltype(&U::onPing)) noexcept { return &ping; }
    template <class U> static WSSCB_Ping pingOf(...) noexcept { return nullptr; }
    template <class U> static WSSCB_Ping pongOf(decltype(&U::onPong)) noexcept { return &pong; }
    template <class U> static WSSCB_Ping pongOf(...) noexcept { return nullptr; }
    template <class U> static WSSCB_Open openOf(decltype(&U::onOpen)) noexcept { return &open; }
    template <class U> static WSSCB_Open openOf(...) noexcept { return nullptr; }
    template <class U>
    static WSSCB_Writable writableOf(decltype(&U::onWritable)) noexcept { return &writable; }
    template <class U> static WSSCB_Writable writableOf(...) noexcept { return nullptr; }
    template <class U> static WSSCB_Chunk chunkOf(decltype(&U::onChunk)) noexcept { return &chunk; }
    template <class U> static WSSCB_Chunk chunkOf(...) noexcept { return nullptr; }
};

/*
 * A listening port with its HTTP front end (WSListener_*), the request callback a member
 * of T (derive: struct Server : lwipws::Listener<Server>):
 *     void onRequest(Request &req) noexcept;
 * answering with exactly one of WSS::upgrade, req.respond/respondStatic, req.reject (else
 * the library answers 404). ok()/error() report the construction. The destructor stops
 * listening (WSListener_destructor: requests still waiting are aborted; upgraded
 * connections are not affected); run it in lwIP's core context.
 */
template <class T>
class Listener {
public:
    int error() const noexcept { return error_; }
    bool ok() const noexcept { return error_ == LWIP_WS_OK; }

    LWIP_WS_MUST_USE int setLimits(int maxPending, int maxHeaderBytes) noexcept
    {
        return ::WSListener_setLimits(&l_, maxPending, maxHeaderBytes);
    }
    /* The string is not copied: it must stay valid (a literal is ideal). */
    LWIP_WS_MUST_USE int setOrigins(const char *origins) noexcept
    {
        return ::WSListener_setOrigins(&l_, origins);
    }
    LWIP_WS_MUST_USE int setHandshakeTimeout(uint32_t ms) noexcept
    {
        return ::WSListener_setHandshakeTimeout(&l_, ms);
    }
    /* addr NULL: any address. */
    LWIP_WS_MUST_USE int listen(uint16_t port, const ip_addr_t *addr = nullptr) noexcept
    {
        return ::WSListener_listen(&l_, addr, port);
    }
    LWIP_WS_MUST_USE int listenTls(uint16_t port, TlsConfig &cfg,
                                   const ip_addr_t *addr = nullptr) noexcept
    {
        return ::WSListener_listenTls(&l_, addr, port, cfg.c());
    }
    ::WSListener *c() noexcept { return &l_; }

protected:
    Listener() noexcept : l_(), error_(::WSListener_constructor(&l_, &request)) {}
    ~Listener() noexcept { ::WSListener_destructor(&l_); }

private:
    Listener(const Listener &) = delete;
    Listener &operator=(const Listener &) = delete;

    static void request(::WSListener *l, ::HttpRequest *req) noexcept
    {
        /* l_ is the first member of Listener, itself a base of T. */
        Request r(req);
        static_cast<T *>(reinterpret_cast<Listener *>(l))->onRequest(r);
    }

    ::WSListener l_; /* first member: request() relies on it */
    int error_;
};

} /* namespace lwipws */

#endif /* LWIP_WS_HPP */
