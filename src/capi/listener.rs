//! The C face of the HTTP front end: `WSListener` and `HttpRequest`, and `WSS_upgrade`.
//!
//! How the mirrored API's objects map onto lwIP: there is no `SoDisp` (lwIP's core context
//! is the dispatcher), `HttpRequest` is the request head our front end hands to your
//! callback, and `HttpConnection` is the lwIP pcb itself (see `WSS_connect`).

use core::ffi::{c_char, c_int, c_void};

use super::{boundary, op_error, result, wss_conn, LWIP_WS_ERR_ARG, LWIP_WS_OK, WSS};
use crate::lwip::conn::OpError;
use crate::lwip::listener::{self, Listener};
use lwip_sys as sys;

/// A request head received by a `WSListener`. Opaque. Valid only inside the request
/// callback; every string it returns is NUL-terminated and valid as long as the request,
/// except after `WSS_upgrade`, `HttpRequest_respond` or `HttpRequest_reject`, after which
/// it may no longer be used.
pub struct HttpRequest {
    _private: [u8; 0],
}

/// The lwIP layer's request behind a C handle.
fn req_ref<'a>(req: *const HttpRequest) -> Option<&'a listener::HttpRequest> {
    // SAFETY: every HttpRequest handle given to C is a live listener::HttpRequest for the
    // duration of the request callback (or NULL).
    unsafe { req.cast::<listener::HttpRequest>().as_ref() }
}

fn req_mut<'a>(req: *mut HttpRequest) -> Option<&'a mut listener::HttpRequest> {
    // SAFETY: as in req_ref; C holds the only handle during the callback.
    unsafe { req.cast::<listener::HttpRequest>().as_mut() }
}

/// The request callback: answer `req` with exactly one of `WSS_upgrade` (or
/// `WSS_upgradeProtocol`), `HttpRequest_respond`, `HttpRequest_reject`; if you do none,
/// the library answers 404.
pub type WSListener_Request =
    Option<unsafe extern "C" fn(l: *mut WSListener, req: *mut HttpRequest)>;

/// Bytes of storage a `WSListener` needs.
pub const LWIP_WS_LISTENER_SIZE: usize = 192;

/// `LWIP_WS_LISTENER_SIZE` in 8-byte words.
pub const LWIP_WS_LISTENER_WORDS: usize = LWIP_WS_LISTENER_SIZE / 8;

/// A listening port with a small HTTP front end, in storage you provide. Opaque. Embed it
/// as the FIRST member of your own struct to reach your context from the callback. It
/// must stay at the same address until `WSListener_destructor`.
#[repr(C)]
pub struct WSListener {
    /// Private: the library's state.
    pub _opaque: [u64; LWIP_WS_LISTENER_WORDS],
}

const LISTENER_MAGIC: u32 = 0x5753_4c31;

#[repr(C)]
struct ListenerInner {
    listener: Listener,
    callback: unsafe extern "C" fn(l: *mut WSListener, req: *mut HttpRequest),
    magic: u32,
}

const _: () = assert!(core::mem::size_of::<ListenerInner>() <= LWIP_WS_LISTENER_SIZE);
const _: () =
    assert!(core::mem::align_of::<ListenerInner>() <= core::mem::align_of::<WSListener>());

/// The lwIP layer's listener inside a constructed `WSListener` (for `WSListener_listenTls`).
#[cfg(feature = "tls")]
pub(crate) unsafe fn listener_of(l: *mut WSListener) -> Result<*mut Listener, c_int> {
    // SAFETY: `inner` checks the pointer and the magic.
    unsafe { inner(l).map(|i| core::ptr::addr_of_mut!((*i).listener)) }
}

unsafe fn inner(l: *mut WSListener) -> Result<*mut ListenerInner, c_int> {
    super::tasks::check_core();
    let magic_at = core::mem::offset_of!(ListenerInner, magic);
    // SAFETY: `l` is NULL or storage of the right size and alignment (checked at build time).
    unsafe { super::constructed(l.cast(), magic_at, LISTENER_MAGIC).map(<*mut u8>::cast) }
}

unsafe fn forward(user: *mut c_void, req: &mut listener::HttpRequest) {
    let i: *mut ListenerInner = user.cast();
    let handle: *mut HttpRequest = (req as *mut listener::HttpRequest).cast();
    // SAFETY: `user` is the ListenerInner set at construction; it outlives its pcbs.
    unsafe { ((*i).callback)(i.cast(), handle) }
}

/// Prepare `l` with its request callback.
///
/// Context: lwIP core. Returns `LWIP_WS_OK` or `LWIP_WS_ERR_ARG`.
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn WSListener_constructor(
    l: *mut WSListener,
    onRequest: WSListener_Request,
) -> c_int {
    boundary!(LWIP_WS_ERR_ARG; l => {
        let Some(callback) = onRequest else { return LWIP_WS_ERR_ARG };
        let i: *mut ListenerInner = l.cast();
        // SAFETY: `l` is writable storage of the right size and alignment.
        unsafe {
            i.write(ListenerInner { listener: Listener::new(forward, i.cast()), callback, magic: LISTENER_MAGIC });
        }
        LWIP_WS_OK
    })
}

/// Set how many connections may wait for their request at once (default 8) and the
/// largest request head (default 4096 bytes; larger gets 431). When all the slots are
/// taken, a new connection evicts the oldest waiting one that has not sent its complete
/// request yet (it is reset), so sockets that send nothing or trickle cannot lock real
/// clients out; when every waiting connection has sent its request (their answers are
/// going out), the new one is refused (reset).
///
/// Context: lwIP core. Returns `LWIP_WS_OK`, `LWIP_WS_ERR_ARG`, `LWIP_WS_ERR_NOT_CONSTRUCTED`.
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn WSListener_setLimits(
    l: *mut WSListener,
    maxPending: c_int,
    maxHeaderBytes: c_int,
) -> c_int {
    // SAFETY: `inner` checks the pointer and the magic.
    let i = match unsafe { inner(l) } {
        Ok(i) => i,
        Err(code) => return code,
    };
    let (Ok(pending), Ok(head)) = (usize::try_from(maxPending), usize::try_from(maxHeaderBytes))
    else {
        return LWIP_WS_ERR_ARG;
    };
    if pending == 0 || head < 256 {
        return LWIP_WS_ERR_ARG;
    }
    // SAFETY: `i` is a constructed listener.
    unsafe {
        (*i).listener.max_pending = pending;
        (*i).listener.cfg.max_header_bytes = head;
    }
    LWIP_WS_OK
}

/// Set the `Origin` allow-list of this listener's WebSocket upgrades. `origins` is a
/// comma- or space-separated list such as `"https://app.example.com,
/// http://192.168.1.5:8080"`, or `"*"` for any origin; NULL (the default) allows none
/// besides the safe default. An upgrade request is let through to your callback when it
/// has no `Origin` header (not a browser), when its `Origin` is the request's own
/// (`http://` or `https://` followed by its `Host`, as for the device's own page), or when
/// its `Origin` is in the list (ASCII case-insensitive); any other is answered 403 before
/// your callback sees it. Without this check any web page a user opens could drive the
/// device through the user's browser (cross-site WebSocket hijacking). Page requests
/// (not upgrades) are not checked. The string is not copied: it must stay valid and
/// unchanged while the listener uses it (a string literal is ideal).
///
/// Context: lwIP core. Returns `LWIP_WS_OK`, `LWIP_WS_ERR_ARG` (not UTF-8),
/// `LWIP_WS_ERR_NOT_CONSTRUCTED`.
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn WSListener_setOrigins(
    l: *mut WSListener,
    origins: *const c_char,
) -> c_int {
    // SAFETY: `inner` checks the pointer and the magic.
    let i = match unsafe { inner(l) } {
        Ok(i) => i,
        Err(code) => return code,
    };
    let list: &'static [u8] = if origins.is_null() {
        b""
    } else {
        // SAFETY: NUL-terminated and valid while in use (caller contract, documented).
        unsafe { core::ffi::CStr::from_ptr(origins) }.to_bytes()
    };
    if core::str::from_utf8(list).is_err() {
        return LWIP_WS_ERR_ARG;
    }
    // SAFETY: `i` is a constructed listener.
    unsafe { (*i).listener.origins = list };
    LWIP_WS_OK
}

/// Set how long a connection may take to send its complete request head (default 10000
/// ms): one that has not by then is closed (it never reaches your callback). Together
/// with eviction (see `WSListener_setLimits`) this keeps silent and trickling sockets
/// from holding the port. Checked every 500 ms (lwIP's poll).
///
/// Context: lwIP core. Returns `LWIP_WS_OK`, `LWIP_WS_ERR_ARG` (0),
/// `LWIP_WS_ERR_NOT_CONSTRUCTED`.
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn WSListener_setHandshakeTimeout(l: *mut WSListener, ms: u32) -> c_int {
    // SAFETY: `inner` checks the pointer and the magic.
    let i = match unsafe { inner(l) } {
        Ok(i) => i,
        Err(code) => return code,
    };
    if ms == 0 {
        return LWIP_WS_ERR_ARG;
    }
    // SAFETY: `i` is a constructed listener.
    unsafe { (*i).listener.cfg.handshake_timeout_ms = ms };
    LWIP_WS_OK
}

/// Listen on `addr` (NULL: any address) and `port`.
///
/// Context: lwIP core. Returns `LWIP_WS_OK`, `LWIP_WS_ERR_ARG` (also: address in use),
/// `LWIP_WS_ERR_STATE` (already listening), `LWIP_WS_ERR_NO_MEM`, `LWIP_WS_ERR_LWIP`,
/// `LWIP_WS_ERR_NOT_CONSTRUCTED`.
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn WSListener_listen(
    l: *mut WSListener,
    addr: *const sys::ip_addr_t,
    port: u16,
) -> c_int {
    // SAFETY: `inner` checks `l`; `addr` is NULL or a valid ip_addr_t.
    match unsafe { inner(l) } {
        Ok(i) => {
            result(unsafe { listener::listen(core::ptr::addr_of_mut!((*i).listener), addr, port) })
        }
        Err(code) => code,
    }
}

/// Stop listening; connections still waiting for their request are aborted. Upgraded
/// connections (`WSS`) are not affected. NULL or unconstructed storage is ignored.
///
/// Context: lwIP core.
#[no_mangle]
pub unsafe extern "C" fn WSListener_destructor(l: *mut WSListener) {
    // SAFETY: `inner` checks the pointer and the magic.
    if let Ok(i) = unsafe { inner(l) } {
        unsafe {
            listener::shutdown(core::ptr::addr_of_mut!((*i).listener));
            core::ptr::drop_in_place(core::ptr::addr_of_mut!((*i).listener));
            (*i).magic = 0;
        }
    }
}

/// Mirrors `WSS::upgrade(HttpRequest*)`: validate `req` as a WebSocket upgrade, answer
/// 101, and move the connection into `wss` (constructed, idle). On a failed validation the
/// library answers with the HTTP error (400, 405, 426) and returns `LWIP_WS_ERR_ARG`; the
/// request is answered either way. `wss` gets no callback for a failed upgrade.
///
/// Context: inside the `WSListener` request callback only. Returns `LWIP_WS_OK`,
/// `LWIP_WS_ERR_ARG`, `LWIP_WS_ERR_STATE` (`wss` busy or `req` already answered),
/// `LWIP_WS_ERR_NOT_CONSTRUCTED`.
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn WSS_upgrade(wss: *mut WSS, req: *mut HttpRequest) -> c_int {
    // SAFETY: forwarded with no protocol.
    unsafe { WSS_upgradeProtocol(wss, req, core::ptr::null()) }
}

/// `WSS_upgrade`, selecting the subprotocol `protocol` (one the client offered, see
/// `HttpRequest_getProtocol`; NULL for none). Answering with a protocol the client did not
/// offer fails with a 500 response and `LWIP_WS_ERR_ARG`.
///
/// Context and returns: as `WSS_upgrade`.
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn WSS_upgradeProtocol(
    wss: *mut WSS,
    req: *mut HttpRequest,
    protocol: *const c_char,
) -> c_int {
    boundary!(LWIP_WS_ERR_ARG; req => {
        // Copy the protocol first: it may point into the request, which the upgrade
        // releases. The copy is checked as UTF-8 (once: not the original, then the copy).
        let mut buf = [0u8; 64];
        let chosen = if protocol.is_null() {
            None
        } else {
            // SAFETY: `protocol` is NUL-terminated (caller contract).
            let p = unsafe { core::ffi::CStr::from_ptr(protocol) }.to_bytes();
            let Some(dst) = buf.get_mut(..p.len()) else { return LWIP_WS_ERR_ARG };
            dst.copy_from_slice(p);
            let Ok(p) = core::str::from_utf8(dst) else { return LWIP_WS_ERR_ARG };
            Some(p)
        };
        // SAFETY: `wss_conn` checks `wss`; `req` is the live request of this callback.
        unsafe {
            match wss_conn(wss) {
                Ok(c) => match req_mut(req) {
                    Some(r) => result(r.upgrade(c, chosen)),
                    None => LWIP_WS_ERR_ARG,
                },
                Err(code) => code,
            }
        }
    })
}

/// The common part of the page answers: checks the arguments (a status of 100..599, a
/// content type, a non-negative length, a body unless empty) and hands them to `answer`,
/// the body with the lifetime `answer` needs.
///
/// # Safety
/// `req` is the live request of this callback; `contentType` is NULL or a C string; `body`
/// holds `len` readable bytes for the lifetime `'b` (the caller's documented contract).
unsafe fn answer_page<'b>(
    req: *mut HttpRequest,
    status: c_int,
    contentType: *const c_char,
    body: *const c_void,
    len: c_int,
    answer: impl FnOnce(&mut listener::HttpRequest, u16, &str, &'b [u8]) -> Result<(), OpError>,
) -> c_int {
    let (Ok(code), Ok(n)) = (u16::try_from(status), usize::try_from(len)) else {
        return LWIP_WS_ERR_ARG;
    };
    if !(100..=599).contains(&code) || (n > 0 && body.is_null()) {
        return LWIP_WS_ERR_ARG;
    }
    // SAFETY: per this function's contract.
    unsafe {
        if contentType.is_null() {
            return LWIP_WS_ERR_ARG;
        }
        let Ok(ctype) = core::ffi::CStr::from_ptr(contentType).to_str() else {
            return LWIP_WS_ERR_ARG;
        };
        let body: &'b [u8] = if n == 0 {
            &[]
        } else {
            core::slice::from_raw_parts(body.cast(), n)
        };
        req_mut(req).map_or(LWIP_WS_ERR_ARG, |r| result(answer(r, code, ctype, body)))
    }
}

/// Answer `req` with a complete response: `status`, `Content-Type: contentType`, and
/// `len` bytes of `body`, then close the connection. For serving the device's page on the
/// WebSocket's port. The whole response is copied into the connection's send queue (on
/// the heap, counted by `lwipws_setHeapBudget`) and must fit its limit of 65550 bytes:
/// the status line and headers take about 100 bytes plus the content type's length, so a
/// body of up to about 65400 bytes fits; a larger one returns `LWIP_WS_ERR_TOO_BIG` and
/// the request stays unanswered (answer it otherwise, or the library sends 404). For a
/// constant page (in flash), `HttpRequest_respondStatic` sends it without copying and
/// without a size limit.
///
/// Context: inside the request callback. Returns `LWIP_WS_OK`, `LWIP_WS_ERR_ARG`,
/// `LWIP_WS_ERR_TOO_BIG`, `LWIP_WS_ERR_STATE` (already answered), `LWIP_WS_ERR_NO_MEM`.
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn HttpRequest_respond(
    req: *mut HttpRequest,
    status: c_int,
    contentType: *const c_char,
    body: *const c_void,
    len: c_int,
) -> c_int {
    boundary!(LWIP_WS_ERR_ARG; req => {
        // SAFETY: `req` is live; the strings and the body are read during this call only.
        unsafe { answer_page(req, status, contentType, body, len, |r, code, ct, b| r.respond(code, ct, b)) }
    })
}

/// Answer `req` like `HttpRequest_respond`, but send `body` by reference, without copying
/// it: for pages that are constant data (in flash). The body costs no heap and has no size
/// limit but `len`'s type; the head (status line and headers, about 100 bytes plus the
/// content type) goes to lwIP at once, copied into its pbufs, and only when lwIP's send
/// buffer cannot take it then is it queued on the heap. lwIP sends the body from `body`
/// itself (`tcp_write` without `TCP_WRITE_FLAG_COPY`) as its send buffer allows, then the
/// connection closes. Over TLS the body is encrypted from `body` without another copy.
///
/// Ownership: `body` must stay valid and unchanged until the connection has closed: in
/// practice, constant data (`static const` arrays, flash) that lives for the whole program.
/// Never pass a stack or heap buffer.
///
/// Context: inside the request callback. Returns `LWIP_WS_OK`, `LWIP_WS_ERR_ARG` (NULL
/// pointers, a status outside 100..599, a negative `len`, CR/LF in `contentType`),
/// `LWIP_WS_ERR_STATE` (already answered), `LWIP_WS_ERR_NO_MEM` (the head had to be queued
/// and the heap or its budget refused); on an error nothing was sent and the request stays
/// unanswered.
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn HttpRequest_respondStatic(
    req: *mut HttpRequest,
    status: c_int,
    contentType: *const c_char,
    body: *const c_void,
    len: c_int,
) -> c_int {
    boundary!(LWIP_WS_ERR_ARG; req => {
        // SAFETY: `req` is live; `body` stays valid and unchanged until the connection
        // ends (the documented contract: constant data), hence `'static`.
        unsafe {
            answer_page(req, status, contentType, body, len, |r, code, ct, b: &'static [u8]| {
                r.respond_static(code, ct, b)
            })
        }
    })
}

/// Answer `req` with an HTTP error `status` (400..599) and a short text body, then close.
///
/// Context: inside the request callback. Returns `LWIP_WS_OK`, `LWIP_WS_ERR_ARG`,
/// `LWIP_WS_ERR_STATE`.
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn HttpRequest_reject(req: *mut HttpRequest, status: c_int) -> c_int {
    boundary!(LWIP_WS_ERR_ARG; req => {
        match u16::try_from(status) {
            // SAFETY: `req` is live.
            Ok(code) if (400..=599).contains(&code) => {
                req_mut(req).map_or(LWIP_WS_ERR_ARG, |r| result(unsafe { r.reject(code) }))
            }
            _ => op_error(OpError::Arg),
        }
    })
}

/// The request method, e.g. "GET". NULL only when `req` is NULL.
///
/// Context: lwIP core, inside the listener's request callback (the request lives until it
/// returns).
#[no_mangle]
pub unsafe extern "C" fn HttpRequest_getMethod(req: *const HttpRequest) -> *const c_char {
    // SAFETY: `req` is NULL or live.
    req_ref(req).map_or(core::ptr::null(), listener::HttpRequest::method)
}

/// The request path without the query, e.g. "/ws".
///
/// Context: lwIP core, inside the listener's request callback (the request lives until it
/// returns).
#[no_mangle]
pub unsafe extern "C" fn HttpRequest_getPath(req: *const HttpRequest) -> *const c_char {
    // SAFETY: `req` is NULL or live.
    req_ref(req).map_or(core::ptr::null(), listener::HttpRequest::path)
}

/// The query string after '?', or NULL when there is none.
///
/// Context: lwIP core, inside the listener's request callback (the request lives until it
/// returns).
#[no_mangle]
pub unsafe extern "C" fn HttpRequest_getQuery(req: *const HttpRequest) -> *const c_char {
    // SAFETY: `req` is NULL or live.
    req_ref(req).map_or(core::ptr::null(), listener::HttpRequest::query)
}

/// The value of the first header called `name` (case-insensitive), e.g. "Origin",
/// "Cookie", "Authorization"; NULL when absent.
///
/// Context: lwIP core, inside the listener's request callback (the request lives until it
/// returns).
#[no_mangle]
pub unsafe extern "C" fn HttpRequest_getHeaderValue(
    req: *const HttpRequest,
    name: *const c_char,
) -> *const c_char {
    boundary!(core::ptr::null(); req, name => {
        // SAFETY: `req` is live and `name` NUL-terminated.
        req_ref(req).map_or(core::ptr::null(), |r| r.header(unsafe { core::ffi::CStr::from_ptr(name) }.to_bytes()))
    })
}

/// Number of headers in the request (0 for NULL).
///
/// Context: lwIP core, inside the listener's request callback (the request lives until it
/// returns).
#[no_mangle]
pub unsafe extern "C" fn HttpRequest_getHeaderCount(req: *const HttpRequest) -> c_int {
    // SAFETY: `req` is NULL or live.
    req_ref(req).map_or(0, |r| super::c_len(r.header_count()))
}

/// Header number `i` (0-based): writes its name and value to `*name` and `*value`.
/// Returns `LWIP_WS_OK` or `LWIP_WS_ERR_ARG` (NULL, or `i` out of range; outputs untouched).
///
/// Context: lwIP core, inside the listener's request callback (the request lives until it
/// returns).
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn HttpRequest_getHeader(
    req: *const HttpRequest,
    i: c_int,
    name: *mut *const c_char,
    value: *mut *const c_char,
) -> c_int {
    boundary!(LWIP_WS_ERR_ARG; req, name, value => {
        let Ok(i) = usize::try_from(i) else { return LWIP_WS_ERR_ARG };
        // SAFETY: `req` is live; `name`/`value` are writable.
        match req_ref(req).and_then(|r| r.header_at(i)) {
            Some((n, v)) => {
                unsafe {
                    *name = n;
                    *value = v;
                }
                LWIP_WS_OK
            }
            None => LWIP_WS_ERR_ARG,
        }
    })
}

/// Subprotocol number `i` (0-based) offered in `Sec-WebSocket-Protocol`, or NULL past the
/// end.
///
/// Context: lwIP core, inside the listener's request callback (the request lives until it
/// returns).
#[no_mangle]
pub unsafe extern "C" fn HttpRequest_getProtocol(
    req: *const HttpRequest,
    i: c_int,
) -> *const c_char {
    let Ok(i) = usize::try_from(i) else {
        return core::ptr::null();
    };
    // SAFETY: `req` is NULL or live.
    req_ref(req).map_or(core::ptr::null(), |r| r.protocol(i))
}

/// 1 when the request asks for a WebSocket upgrade (`Upgrade: websocket`), else 0.
///
/// Context: lwIP core, inside the listener's request callback (the request lives until it
/// returns).
#[no_mangle]
pub unsafe extern "C" fn HttpRequest_isWebSocket(req: *const HttpRequest) -> c_int {
    // SAFETY: `req` is NULL or live.
    req_ref(req).map_or(0, |r| c_int::from(r.is_websocket()))
}

/// The peer's IP address and TCP port of the connection that sent `req`, for logging,
/// rate limiting or an allow-list of your own (reject with `HttpRequest_reject`). Written
/// only on success.
///
/// Context: inside the request callback. Returns `LWIP_WS_OK`, `LWIP_WS_ERR_ARG` (a NULL
/// pointer), `LWIP_WS_ERR_STATE` (the connection is gone).
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn HttpRequest_peerAddr(
    req: *const HttpRequest,
    addr: *mut sys::ip_addr_t,
    port: *mut u16,
) -> c_int {
    if addr.is_null() || port.is_null() {
        return LWIP_WS_ERR_ARG;
    }
    let Some(r) = req_ref(req) else {
        return LWIP_WS_ERR_ARG;
    };
    // SAFETY: the request's connection is live during the callback; its pcb while non-NULL.
    unsafe {
        let pcb = (*r.conn).pcb;
        if pcb.is_null() {
            return crate::capi::LWIP_WS_ERR_STATE;
        }
        super::transport::peer_of(pcb, addr, port)
    }
}
