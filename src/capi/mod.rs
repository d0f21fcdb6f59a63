//! The exported C API. Thin: pointer and argument checks, return-code mapping, and the
//! translation between C callbacks and the lwIP layer's hooks. No protocol logic here.
//!
//! Every function checks its pointers (NULL gives [`LWIP_WS_ERR_ARG`] or does nothing for
//! functions without a return code) and nothing unwinds into C (the library is built with
//! `panic = "abort"`).

#![allow(non_snake_case, non_camel_case_types)]
// The safety contract of every export is its C contract, stated in its doc comment (which
// pointers must be valid, for how long); a separate `# Safety` section would repeat it.
#![allow(clippy::missing_safety_doc)]

pub mod errors;
mod hooks;
#[cfg(feature = "listener")]
mod listener;
mod policy;
mod settings;
mod task_side;
mod tasks;
#[cfg(feature = "tls")]
mod tls;
mod transport;

pub use errors::*;
#[cfg(feature = "listener")]
pub use listener::*;
pub use policy::*;
pub use settings::*;
#[cfg_attr(lwipws_no_tasks, allow(unused_imports))]
pub use task_side::*;
pub use tasks::*;
#[cfg(feature = "tls")]
pub use tls::*;
pub use transport::*;

use core::ffi::{c_char, c_int, c_void, CStr};

use crate::lwip::conn::{self, Conn, OpError};
use crate::proto::{self, Config};
use hooks::WSS_HOOKS;
use lwip_sys as sys;

/// Marks an exported function's boundary: every named pointer must be non-NULL, or the
/// function returns `$fallback` at once. The body then runs; it may not unwind (the
/// library is built with `panic = "abort"`).
macro_rules! boundary {
    ($fallback:expr; $($p:ident),* => $body:block) => {{
        $( if $p.is_null() { return $fallback; } )*
        $body
    }};
}
pub(crate) use boundary;

/// Called with each complete message. `data` is followed by a 0 byte (so text can be used
/// as a C string; for an empty message `data` points at that 0 byte), and is valid only
/// until the callback returns. The bytes may be changed in place (e.g. `data[len] = 0`);
/// they are not used again. `len` is the payload length; `isTxt` is 1 for text (valid
/// UTF-8), 0 for binary.
pub type WSSCB_Frame = Option<
    unsafe extern "C" fn(o: *mut WSSCB, wss: *mut WSS, data: *mut c_void, len: c_int, isTxt: c_int),
>;

/// Called exactly once when a connection ends; it is the connection's last callback, and
/// after it the `WSS` storage may be reused or freed. `status` > 0: the close code of the
/// close handshake (the peer's code, 1005 if it sent none; or the code we sent when the
/// peer broke the protocol: 1002, 1007, 1009, 1011). `status` < 0: the connection was
/// dropped, one of the `LWIP_WS_DROP_*` values.
pub type WSSCB_Close = Option<unsafe extern "C" fn(o: *mut WSSCB, wss: *mut WSS, status: c_int)>;

/// Called with a ping's payload (0..125 bytes, not NUL-terminated). The pong with the same
/// payload is already queued: every ping gets its own pong, in order (only when the send
/// queue is full is an unsent pong replaced by the newer one, as RFC 6455 §5.5.3 allows).
pub type WSSCB_Ping =
    Option<unsafe extern "C" fn(o: *mut WSSCB, wss: *mut WSS, data: *mut c_void, len: c_int)>;

/// Called when a client connection's handshake finished; `protocol` is the subprotocol
/// the server selected, or NULL.
pub type WSSCB_Open =
    Option<unsafe extern "C" fn(o: *mut WSSCB, wss: *mut WSS, protocol: *const c_char)>;

/// Called after a `WSS_write` returned `LWIP_WS_ERR_WOULD_BLOCK`, once the send queue has
/// drained to half its limit: writing may resume.
pub type WSSCB_Writable = Option<unsafe extern "C" fn(o: *mut WSSCB, wss: *mut WSS)>;

/// Streaming mode (`WSS_setStreaming`): called with each piece of a message as it arrives,
/// instead of `frameFp`, so messages far larger than RAM can be received (firmware
/// images). `data`/`len`: the piece (read-only, NOT NUL-terminated, valid until the
/// callback returns; `len` may be 0); `isTxt`: the message's kind (text is checked as
/// UTF-8 as it arrives: an invalid sequence fails the connection with 1007); `offset`:
/// where the piece starts within the message; `last`: 1 on the message's final piece.
pub type WSSCB_Chunk = Option<
    unsafe extern "C" fn(
        o: *mut WSSCB,
        wss: *mut WSS,
        data: *mut c_void,
        len: c_int,
        isTxt: c_int,
        offset: u64,
        last: c_int,
    ),
>;

/// The callbacks of a connection. Embed it as the FIRST member of your own struct to carry
/// context, and cast the `WSSCB*` each callback receives back to your struct:
///
/// ```c
/// typedef struct { WSSCB cb; int clients; } App;
/// static void onFrame(WSSCB *o, WSS *wss, void *data, int len, int isTxt) {
///     App *app = (App *)o;   // o is &app->cb
/// }
/// ```
///
/// Fill it with `WSSCB_constructor`, then set the optional members directly. One `WSSCB`
/// may serve many connections; it must outlive them.
#[repr(C)]
#[derive(Default)]
pub struct WSSCB {
    /// Required: each complete message.
    pub frameFp: WSSCB_Frame,
    /// Required: the end of the connection (exactly once, last).
    pub closeFp: WSSCB_Close,
    /// Optional: a ping arrived (the pong goes out automatically).
    pub pingFp: WSSCB_Ping,
    /// Optional: a pong arrived (for pings sent with `WSS_ping`).
    pub pongFp: WSSCB_Ping,
    /// Optional: a client connection is open.
    pub openFp: WSSCB_Open,
    /// Optional: the send queue has room again after a would-block.
    pub writableFp: WSSCB_Writable,
    /// Optional: streaming mode's pieces (see `WSS_setStreaming`).
    pub chunkFp: WSSCB_Chunk,
}

/// Fill `o` with the three callbacks of the mirrored API (`pingFp` may be NULL); the other
/// members are set to NULL.
///
/// Context: any. Returns `LWIP_WS_OK`, or `LWIP_WS_ERR_ARG` when `o` is NULL.
#[no_mangle]
pub unsafe extern "C" fn WSSCB_constructor(
    o: *mut WSSCB,
    frame: WSSCB_Frame,
    close: WSSCB_Close,
    ping: WSSCB_Ping,
) -> c_int {
    boundary!(LWIP_WS_ERR_ARG; o => {
        // SAFETY: `o` is non-NULL and points at writable WSSCB storage (caller contract).
        unsafe {
            o.write(WSSCB {
                frameFp: frame,
                closeFp: close,
                pingFp: ping,
                ..WSSCB::default()
            })
        };
        LWIP_WS_OK
    })
}

/// The size of the one heap block an awake connection's engine lives in (for tests that
/// refuse exactly that allocation). Not part of the C API.
#[doc(hidden)]
pub const fn engine_block_bytes() -> usize {
    conn::ENGINE_BLOCK_BYTES
}

/// Bytes of storage a `WSS` needs: 96 on targets with 32-bit pointers (Cortex-M), 128
/// with 64-bit pointers. The library checks at compile time that its state fits. While
/// a connection is active its protocol engine lives on the heap (see `WSS_heapBytes`);
/// an open connection that has been idle for a poll interval gives it back.
#[cfg(target_pointer_width = "64")]
pub const LWIP_WS_WSS_SIZE: usize = 128;

/// Bytes of storage a `WSS` needs: 96 on targets with 32-bit pointers (Cortex-M), 128
/// with 64-bit pointers. The library checks at compile time that its state fits. While
/// a connection is active its protocol engine lives on the heap (see `WSS_heapBytes`);
/// an open connection that has been idle for a poll interval gives it back.
#[cfg(not(target_pointer_width = "64"))]
pub const LWIP_WS_WSS_SIZE: usize = 96;

/// `LWIP_WS_WSS_SIZE` in 8-byte words (the storage is `uint64_t`-aligned).
pub const LWIP_WS_WSS_WORDS: usize = LWIP_WS_WSS_SIZE / 8;

/// One WebSocket connection, in storage you provide (a static array of `WSS` works).
/// Opaque: use only the `WSS_*` functions. It must stay at the same address from
/// `WSS_constructor` to `WSS_destructor` (lwIP's callbacks point at it).
///
/// Life cycle: `WSS_constructor` → (optional setters) → one of `websocket_accept`,
/// `WSS_upgrade`, `WSS_connect`, `WSS_openClient` → callbacks, `WSS_write`, `WSS_close` →
/// `closeFp` → (reuse: start again with one of the four) → `WSS_destructor`.
#[repr(C)]
pub struct WSS {
    /// Private: the library's state.
    pub _opaque: [u64; LWIP_WS_WSS_WORDS],
}

const WSS_MAGIC: u32 = 0x5753_5331;

/// What lives inside a `WSS`. `conn` first, so a `*mut Conn` is a `*mut WSS`.
#[repr(C)]
struct WssInner {
    conn: Conn,
    magic: u32,
}

const _: () = assert!(core::mem::size_of::<WssInner>() <= LWIP_WS_WSS_SIZE);
const _: () = assert!(core::mem::align_of::<WssInner>() <= core::mem::align_of::<WSS>());

fn c_len(len: usize) -> c_int {
    c_int::try_from(len).unwrap_or(c_int::MAX)
}

pub(crate) fn op_error(e: OpError) -> c_int {
    match e {
        OpError::State => LWIP_WS_ERR_STATE,
        OpError::Arg => LWIP_WS_ERR_ARG,
        OpError::WouldBlock => LWIP_WS_ERR_WOULD_BLOCK,
        OpError::TooBig => LWIP_WS_ERR_TOO_BIG,
        OpError::NoMem => LWIP_WS_ERR_NO_MEM,
        OpError::Lwip => LWIP_WS_ERR_LWIP,
    }
}

pub(crate) fn result(r: Result<(), OpError>) -> c_int {
    r.map_or_else(op_error, |()| LWIP_WS_OK)
}

/// The connection inside a constructed `WSS`.
pub(crate) unsafe fn wss_conn(o: *mut WSS) -> Result<*mut Conn, c_int> {
    // SAFETY: `o` is NULL or WSS storage (size and alignment checked at build time); `conn` is
    // the first field of the inner state, at the start of the storage.
    unsafe {
        constructed(o.cast(), core::mem::offset_of!(WssInner, magic), WSS_MAGIC)
            .map(<*mut u8>::cast)
    }
}

/// `p` when it is non-NULL and the `u32` at byte `magic_at` is `magic`: the check of
/// constructed storage (`WSS`, `WSListener`), in one function for both.
///
/// # Safety
/// `p` is NULL or points at storage holding an aligned `u32` at `magic_at`.
#[inline(never)]
pub(crate) unsafe fn constructed(
    p: *mut u8,
    magic_at: usize,
    magic: u32,
) -> Result<*mut u8, c_int> {
    if p.is_null() {
        return Err(LWIP_WS_ERR_ARG);
    }
    tasks::check_core();
    // SAFETY: per this function's contract.
    if unsafe { p.add(magic_at).cast::<u32>().read() } != magic {
        return Err(LWIP_WS_ERR_NOT_CONSTRUCTED);
    }
    Ok(p)
}

/// Runs `f` on the connection of a constructed `WSS`, mapping its result to a code.
unsafe fn with_conn(o: *mut WSS, f: impl FnOnce(*mut Conn) -> Result<(), OpError>) -> c_int {
    // SAFETY: wss_conn checks the pointer and the magic.
    match unsafe { wss_conn(o) } {
        Ok(c) => result(f(c)),
        Err(code) => code,
    }
}

/// Prepare `o` for one connection at a time. `cb` must outlive it. `startSize` is the
/// initial size of the receive buffer for messages that must be reassembled (fragmented,
/// or split across pbufs), `expandSize` its growth step; it never grows beyond the maximum
/// message size (`WSS_setMaxMessage`, default 65536). The receive buffer and the send
/// queue keep their capacity from message to message; every 0.5 s (lwIP's poll) a busy
/// connection trims them back to room for one `startSize` message and an idle one (nothing
/// moved since the last poll) frees them. Choose `startSize` to cover your usual
/// messages, which then cost no allocation. Messages that arrive whole in one pbuf are
/// delivered without a reassembly buffer.
///
/// Context: lwIP core. Returns `LWIP_WS_OK`, `LWIP_WS_ERR_ARG` (NULL, or a negative size),
/// or `LWIP_WS_ERR_STATE` (already constructed and still connected: destroy it first).
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn WSS_constructor(
    o: *mut WSS,
    cb: *mut WSSCB,
    startSize: c_int,
    expandSize: c_int,
) -> c_int {
    boundary!(LWIP_WS_ERR_ARG; o, cb => {
        let (Ok(start), Ok(expand)) = (usize::try_from(startSize), usize::try_from(expandSize)) else {
            return LWIP_WS_ERR_ARG;
        };
        // SAFETY: wss_conn checks the magic; a live connection must not be overwritten.
        if let Ok(c) = unsafe { wss_conn(o) } {
            if unsafe { (*c).is_active() } {
                return LWIP_WS_ERR_STATE;
            }
            // SAFETY: constructed and idle: drop its old state before overwriting.
            unsafe { core::ptr::drop_in_place(c) };
        }
        // SAFETY: core context (contract); a new connection starts without task-side state.
        unsafe { tasks::release(o) };
        let cfg = settings::defaults(Config { start_size: start, expand_size: expand, ..Config::default() });
        let inner: *mut WssInner = o.cast();
        // SAFETY: `o` is writable storage of LWIP_WS_WSS_SIZE bytes, aligned to 8.
        unsafe { inner.write(WssInner { conn: Conn::new(&WSS_HOOKS, cb.cast(), cfg), magic: WSS_MAGIC }) };
        LWIP_WS_OK
    })
}

/// Mirrors `websocket_accept(<tcp connection>)`: take over `pcb`, freshly accepted in your
/// `tcp_accept` callback (call it from there and return `ERR_OK`), read the HTTP upgrade
/// request, validate it (RFC 6455 §4.2.1), and answer `101 Switching Protocols` or an HTTP
/// error (400, 405, 426, 431) with `Connection: close`. Any path and no subprotocol are
/// accepted; use `WSListener` to choose. From then on lwIP's callbacks for `pcb` belong to
/// the library: do not call `tcp_arg`/`tcp_recv`/... on it again.
///
/// A rejected or timed-out handshake ends with `closeFp(LWIP_WS_DROP_HANDSHAKE_FAILED)`
/// or `closeFp(LWIP_WS_DROP_HANDSHAKE_TIMEOUT)`.
///
/// Context: lwIP core. Returns `LWIP_WS_OK`, `LWIP_WS_ERR_ARG`, `LWIP_WS_ERR_STATE` (the
/// `WSS` already has a connection), `LWIP_WS_ERR_NO_MEM` (no heap for the connection's
/// engine), `LWIP_WS_ERR_NOT_CONSTRUCTED`. On an error the pcb is untouched and still
/// yours.
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn websocket_accept(pcb: *mut sys::lwipws_pcb, wss: *mut WSS) -> c_int {
    boundary!(LWIP_WS_ERR_ARG; pcb => {
        // SAFETY: with_conn checks `wss`; `pcb` is a live pcb handed over by the caller.
        unsafe {
            with_conn(wss, |c| {
                if (*c).is_active() {
                    return Err(OpError::State);
                }
                conn::start_server(c, pcb)
            })
        }
    })
}

/// Mirrors `WSS::connect(HttpConnection*)`: take over `pcb`, whose upgrade request another
/// HTTP server already answered with a 101 (compute its `Sec-WebSocket-Accept` with
/// `WSS_acceptKey`). `data`/`len` are bytes that server already received after the
/// request head (the client's first frames), or NULL/0. The connection is open at once.
/// The previous owner must not touch `pcb`'s callbacks afterwards.
///
/// Context: lwIP core. Returns `LWIP_WS_OK`, `LWIP_WS_ERR_ARG`, `LWIP_WS_ERR_STATE`,
/// `LWIP_WS_ERR_NO_MEM` (no heap for the connection's engine; the pcb is untouched),
/// `LWIP_WS_ERR_NOT_CONSTRUCTED`. If `data` already holds a close or a protocol error,
/// `closeFp` may run before this returns.
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn WSS_connect(
    wss: *mut WSS,
    pcb: *mut sys::lwipws_pcb,
    data: *const c_void,
    len: c_int,
) -> c_int {
    boundary!(LWIP_WS_ERR_ARG; pcb => {
        let Ok(n) = usize::try_from(len) else { return LWIP_WS_ERR_ARG };
        if n > 0 && data.is_null() {
            return LWIP_WS_ERR_ARG;
        }
        // SAFETY: with_conn checks `wss`; `data` has `n` readable bytes (caller contract).
        unsafe {
            with_conn(wss, |c| {
                if (*c).is_active() {
                    return Err(OpError::State);
                }
                let initial: &[u8] = if n == 0 { &[] } else { core::slice::from_raw_parts(data.cast(), n) };
                conn::start_open(c, pcb, initial).map(|_| ())
            })
        }
    })
}

/// Parses a C string argument as UTF-8 (NULL allowed when `optional`).
pub(crate) unsafe fn c_str<'a>(s: *const c_char, optional: bool) -> Result<Option<&'a str>, c_int> {
    if s.is_null() {
        return if optional {
            Ok(None)
        } else {
            Err(LWIP_WS_ERR_ARG)
        };
    }
    // SAFETY: non-NULL, NUL-terminated (caller contract).
    unsafe { CStr::from_ptr(s) }
        .to_str()
        .map(Some)
        .map_err(|_| LWIP_WS_ERR_ARG)
}

/// Most subprotocols `WSS_openClient` offers.
pub const LWIP_WS_MAX_PROTOCOLS: usize = 8;

/// Open a client connection: TCP connect to `addr`:`port`, then send the upgrade request
/// for `path` (e.g. "/chat?room=1") with `Host: host` and, if `protocols` is not NULL, a
/// comma-separated list of subprotocols to offer (at most `LWIP_WS_MAX_PROTOCOLS`). When
/// the server's 101 is valid, `openFp` runs; a bad response ends with
/// `closeFp(LWIP_WS_DROP_HANDSHAKE_FAILED)`, a failed TCP connect with
/// `closeFp(LWIP_WS_DROP_CONNECT_FAILED)`. Frames we send are masked with `LWIP_RAND()`.
///
/// Context: lwIP core. Returns `LWIP_WS_OK`, `LWIP_WS_ERR_ARG` (NULL or invalid strings,
/// CR/LF in them), `LWIP_WS_ERR_STATE`, `LWIP_WS_ERR_NO_MEM`, `LWIP_WS_ERR_LWIP`,
/// `LWIP_WS_ERR_NOT_CONSTRUCTED`.
#[cfg(feature = "client")]
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn WSS_openClient(
    wss: *mut WSS,
    addr: *const sys::ip_addr_t,
    port: u16,
    host: *const c_char,
    path: *const c_char,
    protocols: *const c_char,
) -> c_int {
    // SAFETY: forwarded caller contract.
    unsafe {
        open_client(wss, addr, host, path, protocols, |c, req| {
            conn::start_client(c, addr, port, req)
        })
    }
}

/// `WSS_openClient`'s checks and request, then `start` on the idle connection.
#[cfg(feature = "client")]
pub(crate) unsafe fn open_client(
    wss: *mut WSS,
    addr: *const sys::ip_addr_t,
    host: *const c_char,
    path: *const c_char,
    protocols: *const c_char,
    start: impl FnOnce(*mut Conn, &proto::ClientRequest<'_>) -> Result<(), OpError>,
) -> c_int {
    boundary!(LWIP_WS_ERR_ARG; addr, host, path => {
        // SAFETY: the strings are NUL-terminated (caller contract).
        let (host, path, protos) = unsafe {
            match (c_str(host, false), c_str(path, false), c_str(protocols, true)) {
                (Ok(Some(h)), Ok(Some(p)), Ok(list)) => (h, p, list),
                _ => return LWIP_WS_ERR_ARG,
            }
        };
        let mut offered: [&str; LWIP_WS_MAX_PROTOCOLS] = [""; LWIP_WS_MAX_PROTOCOLS];
        let mut count = 0;
        for p in protos.unwrap_or("").split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let Some(slot) = offered.get_mut(count) else { return LWIP_WS_ERR_ARG };
            *slot = p;
            count += 1;
        }
        let req = proto::ClientRequest {
            host,
            path,
            protocols: offered.get(..count).unwrap_or_default(),
            extra_headers: &[],
        };
        // SAFETY: with_conn checks `wss`.
        unsafe {
            with_conn(wss, |c| {
                if (*c).is_active() {
                    return Err(OpError::State);
                }
                start(c, &req)
            })
        }
    })
}

/// Mirrors `WSS::write(data, len, isTxt)`: queue one complete message (`isTxt` non-zero:
/// text, which you must supply as valid UTF-8; zero: binary) as one frame and push what
/// fits into lwIP. The data is copied: the buffer is yours again when this returns.
/// Frames are never torn: a frame is queued whole or not at all. Messages larger than
/// lwIP's send buffer stream out from the sent callbacks. A server's message of 4 KiB or
/// more, written while nothing is queued, goes from your buffer straight into lwIP's send
/// buffer (one copy, by `tcp_write`); only what lwIP cannot take now is copied into the
/// send queue, so a server pushing large messages needs no queue memory while lwIP keeps
/// up. (A client's frames are masked copies and always pass through the queue.)
///
/// Context: lwIP core (also from inside this library's callbacks). Returns `LWIP_WS_OK`,
/// `LWIP_WS_ERR_WOULD_BLOCK` (queue full: nothing queued; `writableFp` will run when it
/// has drained), `LWIP_WS_ERR_TOO_BIG` (larger than the queue limit), `LWIP_WS_ERR_STATE`
/// (not open: handshake not finished or close started), `LWIP_WS_ERR_NO_MEM`,
/// `LWIP_WS_ERR_ARG`, `LWIP_WS_ERR_NOT_CONSTRUCTED`.
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn WSS_write(
    o: *mut WSS,
    data: *const c_void,
    len: c_int,
    isTxt: c_int,
) -> c_int {
    // SAFETY: forwarded caller contract.
    unsafe {
        send_on_open(o, data, len, |c, payload| {
            conn::write(c, isTxt != 0, payload)
        })
    }
}

/// Queue one fragment of a message, for sending a message in pieces (e.g. a large file
/// read in chunks): the first fragment's `isTxt` gives the message's kind, `fin`
/// non-zero ends the message. Control frames (pings, pongs) may go out between fragments;
/// `WSS_write` is refused (`LWIP_WS_ERR_STATE`) until the message is finished. Each
/// fragment is queued whole or not at all, like `WSS_write`, and large fragments skip the
/// queue as large messages do. Until the final fragment, lwIP's Nagle algorithm is on for
/// the connection (it is off otherwise): while earlier data is unacknowledged only whole
/// TCP segments go out, so forwarding small pieces does not send a tiny segment per
/// piece; the rest goes with the next fragment or once the data in flight is
/// acknowledged.
///
/// Context: lwIP core. Returns as `WSS_write`; also `LWIP_WS_ERR_STATE` when `isTxt`
/// differs from the message's kind.
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn WSS_writeFragment(
    o: *mut WSS,
    data: *const c_void,
    len: c_int,
    isTxt: c_int,
    fin: c_int,
) -> c_int {
    // SAFETY: forwarded caller contract.
    unsafe {
        send_on_open(o, data, len, |c, payload| {
            conn::write_fragment(c, isTxt != 0, payload, fin != 0)
        })
    }
}

/// A C buffer as a slice: `len` ≥ 0, and `data` may be NULL only when `len` is 0.
unsafe fn c_bytes<'a>(data: *const c_void, len: c_int) -> Result<&'a [u8], c_int> {
    let Ok(n) = usize::try_from(len) else {
        return Err(LWIP_WS_ERR_ARG);
    };
    if n == 0 {
        return Ok(&[]);
    }
    if data.is_null() {
        return Err(LWIP_WS_ERR_ARG);
    }
    // SAFETY: `data` has `n` readable bytes (caller contract).
    Ok(unsafe { core::slice::from_raw_parts(data.cast(), n) })
}

/// Checks the buffer and that the connection is open, then queues with `send`.
unsafe fn send_on_open(
    o: *mut WSS,
    data: *const c_void,
    len: c_int,
    send: impl FnOnce(*mut Conn, &[u8]) -> Result<(), OpError>,
) -> c_int {
    // SAFETY: the caller's buffer is read only for the call.
    let payload = match unsafe { c_bytes(data, len) } {
        Ok(p) => p,
        Err(code) => return code,
    };
    // SAFETY: with_conn checks `o`; `c` is live inside it.
    unsafe {
        with_conn(o, |c| {
            if !(*c).is_open() {
                return Err(OpError::State);
            }
            send(c, payload)
        })
    }
}

/// Send a ping with `len` (0..125) bytes of payload; the peer's pong arrives at `pongFp`.
///
/// Context: lwIP core. Returns `LWIP_WS_OK`, `LWIP_WS_ERR_TOO_BIG` (len > 125),
/// `LWIP_WS_ERR_WOULD_BLOCK`, `LWIP_WS_ERR_STATE`, `LWIP_WS_ERR_ARG`,
/// `LWIP_WS_ERR_NOT_CONSTRUCTED`.
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn WSS_ping(o: *mut WSS, data: *const c_void, len: c_int) -> c_int {
    if len > 125 {
        return LWIP_WS_ERR_TOO_BIG;
    }
    // SAFETY: forwarded caller contract.
    unsafe { send_on_open(o, data, len, |c, payload| conn::ping(c, payload)) }
}

/// Mirrors `WSS::close(int statusCode = 1000)` (C has no default: pass 1000). Open
/// connection: send a close frame with `status` (1000–1003, 1007–1014, 3000–4999) and
/// wait for the peer's; `closeFp` gets the peer's code, or `LWIP_WS_DROP_CLOSE_TIMEOUT`
/// after the close timeout. No data can be written after this. Handshake not finished:
/// the TCP connection is aborted and `closeFp(LWIP_WS_DROP_LOCAL)` runs before this
/// returns.
///
/// Context: lwIP core. Returns `LWIP_WS_OK`, `LWIP_WS_ERR_ARG` (status not sendable),
/// `LWIP_WS_ERR_STATE` (no connection, or closing already), `LWIP_WS_ERR_NOT_CONSTRUCTED`.
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn WSS_close(o: *mut WSS, status: c_int) -> c_int {
    let code = match u16::try_from(status) {
        Ok(c) if proto::is_valid_close_code(c) => c,
        _ => return LWIP_WS_ERR_ARG,
    };
    // SAFETY: with_conn checks `o`.
    unsafe { with_conn(o, |c| conn::close(c, code, "")) }
}

/// Mirrors `WSS::isValid()`: 1 while the connection is open (handshake done, no close
/// started), else 0 (also for NULL or unconstructed storage).
///
/// Context: lwIP core.
#[no_mangle]
pub unsafe extern "C" fn WSS_isValid(o: *mut WSS) -> c_int {
    // SAFETY: wss_conn checks the pointer and the magic.
    match unsafe { wss_conn(o) } {
        Ok(c) => c_int::from(unsafe { (*c).is_open() }),
        Err(_) => 0,
    }
}

/// Bytes waiting in the send queue (not yet handed to lwIP), or a negative code.
///
/// Context: lwIP core.
#[no_mangle]
pub unsafe extern "C" fn WSS_queued(o: *mut WSS) -> c_int {
    // SAFETY: wss_conn checks the pointer and the magic.
    match unsafe { wss_conn(o) } {
        Ok(c) => c_len(unsafe { (*c).queued() }),
        Err(code) => code,
    }
}

/// Bytes of heap the connection holds right now (its protocol engine while awake, the
/// receive buffer, the send queue, the request head while handshaking), not counting the
/// `WSS` storage itself; 0 for an open connection idle for a poll interval (its engine
/// is parked in the `WSS`); or a negative code.
///
/// Context: lwIP core.
#[no_mangle]
pub unsafe extern "C" fn WSS_heapBytes(o: *mut WSS) -> c_int {
    // SAFETY: wss_conn checks the pointer and the magic.
    match unsafe { wss_conn(o) } {
        Ok(c) => c_len(unsafe { (*c).heap_bytes() }),
        Err(code) => code,
    }
}

/// Release `o`. A live connection is aborted (TCP RST) without any further callback, not
/// even `closeFp`; use `WSS_close` first for a clean end. May be called from inside this
/// connection's own callbacks. NULL or unconstructed storage is ignored. The storage may
/// be reused (`WSS_constructor`) or freed afterwards.
///
/// Context: lwIP core.
#[no_mangle]
pub unsafe extern "C" fn WSS_destructor(o: *mut WSS) {
    // SAFETY: wss_conn checks the pointer and the magic; after destroy the state is
    // dropped and the magic cleared so later calls see unconstructed storage.
    if let Ok(c) = unsafe { wss_conn(o) } {
        unsafe {
            tasks::release(o);
            conn::destroy(c);
            core::ptr::drop_in_place(c);
            (*o.cast::<WssInner>()).magic = 0;
        }
    }
}

/// Compute `Sec-WebSocket-Accept` for a `Sec-WebSocket-Key` value (for `WSS_connect`
/// users whose HTTP server writes the 101 itself). `out` receives 28 characters and a NUL
/// (29 bytes).
///
/// Context: any. Returns `LWIP_WS_OK` or `LWIP_WS_ERR_ARG`.
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn WSS_acceptKey(key: *const c_char, out: *mut c_char) -> c_int {
    boundary!(LWIP_WS_ERR_ARG; key, out => {
        // SAFETY: `key` is NUL-terminated and `out` has 29 writable bytes (caller contract).
        unsafe {
            let accept = proto::accept_key(CStr::from_ptr(key).to_bytes());
            core::ptr::copy_nonoverlapping(accept.as_ptr(), out.cast::<u8>(), accept.len());
            *out.add(accept.len()) = 0;
        }
        LWIP_WS_OK
    })
}
