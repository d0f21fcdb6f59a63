//! A small HTTP front end on one listening pcb: each request head goes to the
//! application, which upgrades it to a WebSocket, answers it with a small body, or lets it
//! fall through to 404. So one port serves the device's page and its WebSocket.
//!
//! Pre-upgrade connections live in heap boxes owned by the listener (at most
//! `max_pending` at once; when they are all taken, a new connection evicts the oldest one
//! that has not completed its request, so silent or trickling sockets cannot lock real
//! clients out); an upgrade moves the connection into the application's `WSS` storage.
//! One request per TCP connection (`Connection: close`). Before the application sees a
//! WebSocket upgrade, its `Origin` is checked against the listener's policy (403) and the
//! library's heap budget (503).

use alloc::vec::Vec;
use core::alloc::Layout;
use core::ffi::{c_char, c_void};
use core::ptr;

use super::conn::{self, Conn, Ending, Hooks, OpError};
use super::{budget, err, sys};
use crate::proto::{Config, Request, State};

/// A request head with NUL-terminated copies of its parts, valid during the request
/// callback only.
///
/// The copies follow each other in one arena: method, path, query (if any), each header's
/// name and value, then the offered subprotocols. The head passed `httparse`, which
/// refuses NUL bytes, so each part is found by walking the arena from the start of its
/// group (heads are small; the accessors run a few times per request).
pub struct HttpRequest {
    pub(crate) conn: *mut Conn,
    arena: Vec<u8>,
    path: usize,
    query: Option<usize>,
    /// Where the first header name starts, and how many headers follow.
    headers: usize,
    header_count: usize,
    /// Where the first subprotocol starts, and how many follow.
    protocols: usize,
    protocol_count: usize,
    websocket: bool,
    /// Set by [`HttpRequest::upgrade`]: the connection now lives there.
    pub(crate) upgraded: *mut Conn,
    /// Set once the request was upgraded, answered or rejected.
    pub(crate) answered: bool,
}

fn push_str(arena: &mut Vec<u8>, s: &[u8]) -> usize {
    let at = arena.len();
    arena.extend_from_slice(s);
    arena.push(0);
    at
}

impl HttpRequest {
    /// `websocket`: the request asks for an upgrade (`Request::is_websocket`).
    pub(crate) fn new(conn: *mut Conn, req: &Request<'_>, websocket: bool) -> HttpRequest {
        let mut r = HttpRequest {
            conn,
            arena: Vec::new(),
            path: 0,
            query: None,
            headers: 0,
            header_count: 0,
            protocols: 0,
            protocol_count: 0,
            websocket,
            upgraded: ptr::null_mut(),
            answered: false,
        };
        let (method, path, query) = (req.method(), req.path(), req.query());
        // The head is at most max_header_bytes; its parts plus one NUL each fit in twice.
        let need = 2 * req
            .headers()
            .map(|(n, v)| n.len() + v.len() + 2)
            .sum::<usize>()
            + method.len()
            + path.len()
            + query.map_or(0, str::len)
            + 3;
        if r.arena.try_reserve(need).is_err() {
            // Out of memory: an empty request (see `at`); the application sees no path
            // and no headers, and the default answer (404) goes out.
            return r;
        }
        push_str(&mut r.arena, method.as_bytes());
        r.path = push_str(&mut r.arena, path.as_bytes());
        r.query = query.map(|q| push_str(&mut r.arena, q.as_bytes()));
        r.headers = r.arena.len();
        for (name, value) in req.headers() {
            push_str(&mut r.arena, name.as_bytes());
            push_str(&mut r.arena, value);
            r.header_count += 1;
        }
        r.protocols = r.arena.len();
        for p in req.subprotocols() {
            push_str(&mut r.arena, p.as_bytes());
            r.protocol_count += 1;
        }
        r
    }

    /// The string at `off`; an empty one past the arena (all of an empty request).
    fn at(&self, off: usize) -> *const c_char {
        match self.arena.get(off..) {
            Some(s) if !s.is_empty() => s.as_ptr().cast(),
            _ => c"".as_ptr(),
        }
    }

    /// The offset of the string `n` strings after the one at `off`.
    fn skip(&self, mut off: usize, n: usize) -> usize {
        for _ in 0..n {
            let tail = self.arena.get(off..).unwrap_or_default();
            off += tail
                .iter()
                .position(|&b| b == 0)
                .map_or(tail.len(), |end| end + 1);
        }
        off
    }

    fn bytes_at(&self, off: usize) -> &[u8] {
        let tail = self.arena.get(off..).unwrap_or_default();
        let end = tail.iter().position(|&b| b == 0).unwrap_or(tail.len());
        tail.get(..end).unwrap_or_default()
    }

    /// The method (e.g. "GET").
    pub fn method(&self) -> *const c_char {
        self.at(0)
    }

    /// The path without the query.
    pub fn path(&self) -> *const c_char {
        self.at(self.path)
    }

    /// The query (without '?'), or NULL.
    pub fn query(&self) -> *const c_char {
        self.query.map_or(ptr::null(), |q| self.at(q))
    }

    /// The first header with this name (ASCII case-insensitive), or NULL.
    pub fn header(&self, name: &[u8]) -> *const c_char {
        let mut off = self.headers;
        for _ in 0..self.header_count {
            let value = self.skip(off, 1);
            if self.bytes_at(off).eq_ignore_ascii_case(name) {
                return self.at(value);
            }
            off = self.skip(value, 1);
        }
        ptr::null()
    }

    /// Number of headers.
    pub fn header_count(&self) -> usize {
        self.header_count
    }

    /// Header `i` as (name, value).
    pub fn header_at(&self, i: usize) -> Option<(*const c_char, *const c_char)> {
        if i >= self.header_count {
            return None;
        }
        let name = self.skip(self.headers, 2 * i);
        Some((self.at(name), self.at(self.skip(name, 1))))
    }

    /// Offered subprotocol `i`, or NULL.
    pub fn protocol(&self, i: usize) -> *const c_char {
        if i >= self.protocol_count {
            return ptr::null();
        }
        self.at(self.skip(self.protocols, i))
    }

    /// True when the request asks for a WebSocket upgrade.
    pub fn is_websocket(&self) -> bool {
        self.websocket
    }

    /// Answer with a complete response; the connection closes after it.
    pub unsafe fn respond(&mut self, status: u16, ctype: &str, body: &[u8]) -> Result<(), OpError> {
        if self.answered {
            return Err(OpError::State);
        }
        // SAFETY: `conn` is the live HTTP connection during the request callback.
        let engine = unsafe { (*self.conn).engine_mut() }.ok_or(OpError::State)?;
        engine.respond(status, ctype, body)?;
        self.answered = true;
        Ok(())
    }

    /// Answer with a constant body sent by reference; the connection closes after it.
    pub unsafe fn respond_static(
        &mut self,
        status: u16,
        ctype: &str,
        body: &'static [u8],
    ) -> Result<(), OpError> {
        if self.answered {
            return Err(OpError::State);
        }
        // SAFETY: `conn` is the live HTTP connection during the request callback.
        unsafe { conn::respond_static(self.conn, status, ctype, body)? };
        self.answered = true;
        Ok(())
    }

    /// Answer with an error status; the connection closes after it.
    pub unsafe fn reject(&mut self, status: u16) -> Result<(), OpError> {
        if self.answered {
            return Err(OpError::State);
        }
        // SAFETY: as in respond.
        let engine = unsafe { (*self.conn).engine_mut() }.ok_or(OpError::State)?;
        engine.reject(status);
        self.answered = true;
        Ok(())
    }

    /// Validate the upgrade, queue the 101, and move the connection into `target` (an
    /// idle connection whose configuration then applies). On a failed validation the HTTP
    /// error is queued instead and `Err(Arg)` returned.
    pub unsafe fn upgrade(
        &mut self,
        target: *mut Conn,
        protocol: Option<&str>,
    ) -> Result<(), OpError> {
        // SAFETY: `conn` is the live HTTP connection; `target` is a constructed Conn.
        unsafe {
            if self.answered || (*target).is_active() {
                return Err(OpError::State);
            }
            let src = self.conn;
            let engine = (*src).engine_mut().ok_or(OpError::State)?;
            self.answered = true;
            if engine.accept(protocol).is_err() {
                return Err(OpError::Arg);
            }
            let mut engine = (*src).take_engine().ok_or(OpError::State)?;
            engine[0].engine.set_config((*target).config());
            let pcb = (*src).pcb;
            (*src).pcb = ptr::null_mut();
            (*target).adopt_engine(engine);
            conn::adopt(target, pcb);
            release(src);
            self.upgraded = target;
        }
        Ok(())
    }
}

/// The listener's state (lives in caller storage).
pub struct Listener {
    pcb: *mut sys::lwipws_pcb,
    /// The application's request callback.
    pub on_request: unsafe fn(user: *mut c_void, req: &mut HttpRequest),
    /// Passed to `on_request`.
    pub user: *mut c_void,
    /// Configuration of pre-upgrade connections (head limit, handshake timeout, response
    /// size).
    pub cfg: Config,
    /// Most pre-upgrade connections at once; a new one beyond it evicts the oldest that
    /// has not completed its request (or, when every one has, is refused).
    pub max_pending: usize,
    /// Origins allowed besides the request's own (see `Request::origin_allowed`):
    /// caller-owned, valid while the listener is.
    pub origins: &'static [u8],
    pending: Vec<*mut Conn>,
}

static HTTP_HOOKS: Hooks = Hooks {
    open: |_, _| {},
    message: |_, _, _, _| {},
    chunk: |_, _| {},
    ping: |_, _, _| {},
    pong: |_, _, _| {},
    writable: |_| {},
    request: Some(http_request),
    closed: http_closed,
};

/// A request head arrived on one of the listener's connections: refuse a WebSocket
/// upgrade from a foreign origin (403) or while the heap budget is spent (503), else hand
/// the request to the application; answer 404 if it did not answer. Returns the
/// connection the request was upgraded into, if any.
unsafe fn http_request(conn: *mut Conn) -> *mut Conn {
    // SAFETY: an HTTP connection's user is its live Listener; `conn` is live on entry and
    // checked through the guard after the application's callback.
    unsafe {
        let l: *mut Listener = (*conn).user.cast();
        let Some(engine) = (*conn).engine_mut() else {
            return ptr::null_mut();
        };
        let Some(head) = engine.request() else {
            return ptr::null_mut();
        };
        let websocket = head.is_websocket();
        let status = if websocket && !head.origin_allowed((*l).origins) {
            403
        } else if websocket && budget::exhausted() {
            503
        } else {
            let mut req = HttpRequest::new(conn, &head, websocket);
            let alive = conn::call_hook(conn, || ((*l).on_request)((*l).user, &mut req));
            if !req.upgraded.is_null() {
                return req.upgraded;
            }
            if !alive || req.answered {
                return ptr::null_mut();
            }
            404
        };
        if let Some(engine) = (*conn).engine_mut() {
            engine.reject(status);
        }
        ptr::null_mut()
    }
}

unsafe fn http_closed(conn: *mut Conn, _ending: Ending) {
    // SAFETY: the connection is over; nothing touches it after this.
    unsafe { release(conn) }
}

/// Forget an HTTP connection (its pcb is already detached or moved) and free its box.
unsafe fn release(conn: *mut Conn) {
    // SAFETY: `conn` is a box made by `on_accept`, still in its listener's list.
    unsafe {
        conn::kill_guard(conn);
        let l: *mut Listener = (*conn).user.cast();
        (*l).pending.retain(|&c| c != conn);
        ptr::drop_in_place(conn);
        alloc::alloc::dealloc(conn.cast(), Layout::new::<Conn>());
    }
}

impl Listener {
    /// An idle listener.
    pub fn new(
        on_request: unsafe fn(*mut c_void, &mut HttpRequest),
        user: *mut c_void,
    ) -> Listener {
        Listener {
            pcb: ptr::null_mut(),
            on_request,
            user,
            cfg: Config::default(),
            max_pending: 8,
            origins: b"",
            pending: Vec::new(),
        }
    }
}

/// Start listening on `addr` (NULL: any) and `port`.
pub unsafe fn listen(
    l: *mut Listener,
    addr: *const sys::ip_addr_t,
    port: u16,
) -> Result<(), OpError> {
    // SAFETY: `l` is a constructed listener at a stable address.
    unsafe {
        if !(*l).pcb.is_null() {
            return Err(OpError::State);
        }
        listen_on(l, sys::lwipws_new(super::IPADDR_TYPE_ANY), addr, port)
    }
}

/// Listen with `pcb`, a fresh pcb of the caller's (plain or TLS; null: out of memory),
/// which is ours from now on (closed on an error).
pub(crate) unsafe fn listen_on(
    l: *mut Listener,
    pcb: *mut sys::lwipws_pcb,
    addr: *const sys::ip_addr_t,
    port: u16,
) -> Result<(), OpError> {
    // SAFETY: `l` is a constructed, idle listener at a stable address; `pcb` is fresh.
    unsafe {
        if !(*l).pcb.is_null() {
            if !pcb.is_null() {
                sys::lwipws_close(pcb);
            }
            return Err(OpError::State);
        }
        if pcb.is_null() {
            return Err(OpError::NoMem);
        }
        let e = sys::lwipws_bind(pcb, addr, port);
        if e != err::OK {
            sys::lwipws_close(pcb);
            return Err(if e == err::USE {
                OpError::Arg
            } else {
                OpError::Lwip
            });
        }
        // The largest backlog lwIP takes: half-open connections are bounded by
        // MEMP_NUM_TCP_PCB, and `max_pending` bounds the accepted ones.
        let lpcb = sys::lwipws_listen(pcb, u8::MAX);
        if lpcb.is_null() {
            sys::lwipws_close(pcb);
            return Err(OpError::NoMem);
        }
        (*l).pcb = lpcb;
        sys::lwipws_arg(lpcb, l.cast());
        sys::lwipws_accept(lpcb, Some(on_accept));
    }
    Ok(())
}

/// Stop listening and drop every pre-upgrade connection (aborted, no callbacks).
pub unsafe fn shutdown(l: *mut Listener) {
    // SAFETY: `l` is a constructed listener.
    unsafe {
        if !(*l).pcb.is_null() {
            sys::lwipws_arg((*l).pcb, ptr::null_mut());
            sys::lwipws_accept((*l).pcb, None);
            // A TLS listener needs lwIP 2.1.3's close bug worked around (lwipws_tls.h).
            #[cfg(feature = "tls")]
            let e = sys::lwipws_tls_close_listener((*l).pcb);
            #[cfg(not(feature = "tls"))]
            let e = sys::lwipws_close((*l).pcb);
            if e != err::OK {
                sys::lwipws_abort((*l).pcb);
            }
            (*l).pcb = ptr::null_mut();
        }
        while let Some(&c) = (*l).pending.last() {
            conn::destroy(c);
            release(c);
        }
        (*l).pending = Vec::new();
    }
}

/// Drops the oldest pending connection that is still reading its request (a silent or
/// trickling socket, or a slow real client: it sees a reset and may retry), to make room
/// for a new one. False when every pending connection has completed its request (their
/// answers are going out; they end within the close timeout).
unsafe fn evict_oldest(l: *mut Listener) -> bool {
    // SAFETY: `l` is a live listener; its pending boxes are live.
    unsafe {
        let victim = (*l)
            .pending
            .iter()
            .copied()
            .find(|&c| (*c).state() == Some(State::Connecting));
        let Some(c) = victim else {
            return false;
        };
        conn::destroy(c);
        release(c);
        true
    }
}

unsafe extern "C" fn on_accept(
    arg: *mut c_void,
    newpcb: *mut sys::lwipws_pcb,
    e: sys::err_t,
) -> sys::err_t {
    let l: *mut Listener = arg.cast();
    if l.is_null() || newpcb.is_null() || e != err::OK {
        return err::VAL;
    }
    // SAFETY: lwIP passes the listener we attached and a fresh pcb we now own.
    unsafe {
        if (*l).pending.len() >= (*l).max_pending && !evict_oldest(l) {
            sys::lwipws_abort(newpcb);
            return err::ABRT;
        }
        if (*l).pending.try_reserve(1).is_err() {
            sys::lwipws_abort(newpcb);
            return err::ABRT;
        }
        let layout = Layout::new::<Conn>();
        let c: *mut Conn = alloc::alloc::alloc(layout).cast();
        if c.is_null() {
            sys::lwipws_abort(newpcb);
            return err::ABRT;
        }
        c.write(Conn::new(&HTTP_HOOKS, l.cast(), (*l).cfg));
        if conn::start_server(c, newpcb).is_err() {
            // No heap for the engine: refuse the connection like a full listener.
            ptr::drop_in_place(c);
            alloc::alloc::dealloc(c.cast(), layout);
            sys::lwipws_abort(newpcb);
            return err::ABRT;
        }
        (*l).pending.push(c);
    }
    err::OK
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::ffi::CStr;

    fn text(p: *const c_char) -> Option<&'static str> {
        // SAFETY: the accessors give null or a NUL-terminated string in the arena, which
        // the test keeps alive while it reads.
        (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_str().unwrap_or("?"))
    }

    #[test]
    fn parts_of_a_head() {
        let head = b"GET /ws?room=1 HTTP/1.1\r\nHost: dev\r\nX-Empty:\r\n\
            Sec-WebSocket-Protocol: chat, , v2\r\nsec-websocket-protocol: v3\r\n\r\n";
        let r = HttpRequest::new(ptr::null_mut(), &Request::from_head(head), false);
        assert_eq!(text(r.method()), Some("GET"));
        assert_eq!(text(r.path()), Some("/ws"));
        assert_eq!(text(r.query()), Some("room=1"));
        assert_eq!(r.header_count(), 4);
        let at = |i| r.header_at(i).map(|(n, v)| (text(n), text(v)));
        assert_eq!(at(0), Some((Some("Host"), Some("dev"))));
        assert_eq!(at(1), Some((Some("X-Empty"), Some(""))));
        assert_eq!(at(3), Some((Some("sec-websocket-protocol"), Some("v3"))));
        assert_eq!(at(4), None);
        assert_eq!(text(r.header(b"x-empty")), Some(""));
        assert_eq!(
            text(r.header(b"SEC-WEBSOCKET-PROTOCOL")),
            Some("chat, , v2")
        );
        assert_eq!(text(r.header(b"origin")), None);
        let protocols: Vec<_> = (0..4).map(|i| text(r.protocol(i))).collect();
        assert_eq!(protocols, [Some("chat"), Some("v2"), Some("v3"), None]);

        let r = HttpRequest::new(
            ptr::null_mut(),
            &Request::from_head(b"GET / HTTP/1.1\r\n\r\n"),
            false,
        );
        assert_eq!(text(r.query()), None);
        assert_eq!((r.header_count(), text(r.protocol(0))), (0, None));

        // What the arena holds when it could not be reserved: nothing.
        let mut r = r;
        r.arena = Vec::new();
        assert_eq!((text(r.method()), text(r.path())), (Some(""), Some("")));
    }
}
