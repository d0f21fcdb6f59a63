//! The TCP side of a connection: who the peer is, TCP keepalive, and receive flow control
//! (withholding `tcp_recved`, so lwIP's window closes and the sender waits).

use core::ffi::c_int;

use super::{
    result, wss_conn, LWIP_WS_ERR_ARG, LWIP_WS_ERR_STATE, LWIP_WS_ERR_UNSUPPORTED, LWIP_WS_OK, WSS,
};
use crate::lwip::conn;
use lwip_sys as sys;

/// Writes the peer's IP address and TCP port of the pcb `pcb` (non-NULL) to `addr` and
/// `port` (written only on success).
pub(crate) unsafe fn peer_of(
    pcb: *mut sys::lwipws_pcb,
    addr: *mut sys::ip_addr_t,
    port: *mut u16,
) -> c_int {
    // SAFETY: `pcb` is live; `addr`/`port` are writable (caller contract); the shim writes
    // them only when it succeeds.
    match unsafe { sys::lwipws_remote(pcb, addr, port) } {
        0 => LWIP_WS_OK,
        _ => LWIP_WS_ERR_STATE,
    }
}

/// The peer's IP address and TCP port, for logging, rate limiting or an allow-list of
/// your own. Written only on success.
///
/// Context: lwIP core (also inside this connection's callbacks). Returns `LWIP_WS_OK`,
/// `LWIP_WS_ERR_ARG` (a NULL pointer), `LWIP_WS_ERR_STATE` (no TCP connection: idle, or
/// ended), `LWIP_WS_ERR_NOT_CONSTRUCTED`.
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn WSS_peerAddr(
    o: *mut WSS,
    addr: *mut sys::ip_addr_t,
    port: *mut u16,
) -> c_int {
    if addr.is_null() || port.is_null() {
        return LWIP_WS_ERR_ARG;
    }
    // SAFETY: wss_conn checks `o`; the pcb is live while attached (non-NULL).
    unsafe {
        match wss_conn(o) {
            Ok(c) if !(*c).pcb.is_null() => peer_of((*c).pcb, addr, port),
            Ok(_) => LWIP_WS_ERR_STATE,
            Err(code) => code,
        }
    }
}

/// Turn on lwIP's TCP keepalive for the running connection (`idleMs` > 0: after `idleMs`
/// without traffic lwIP sends a keepalive probe every `intervalMs`, and aborts the
/// connection after `count` unanswered probes: `closeFp(LWIP_WS_DROP_ABORTED)`), or off
/// (`idleMs` 0; the default). This finds a dead peer below the WebSocket layer, also
/// while reading is paused; the WebSocket keep-alive (`WSS_setKeepAlive`) is on by
/// default and needs no lwIP option. Call it once the connection runs (e.g. right after
/// `WSS_upgrade` or in `openFp`).
///
/// Context: lwIP core. Returns `LWIP_WS_OK`, `LWIP_WS_ERR_UNSUPPORTED` (lwIP built with
/// `LWIP_TCP_KEEPALIVE` 0), `LWIP_WS_ERR_ARG` (`idleMs` > 0 with `intervalMs` or `count`
/// 0), `LWIP_WS_ERR_STATE` (no TCP connection), `LWIP_WS_ERR_NOT_CONSTRUCTED`.
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn WSS_setTcpKeepAlive(
    o: *mut WSS,
    idleMs: u32,
    intervalMs: u32,
    count: u32,
) -> c_int {
    if idleMs != 0 && (intervalMs == 0 || count == 0) {
        return LWIP_WS_ERR_ARG;
    }
    // SAFETY: wss_conn checks `o`; the pcb is live while attached (non-NULL).
    unsafe {
        match wss_conn(o) {
            Ok(c) if !(*c).pcb.is_null() => {
                match sys::lwipws_keepalive((*c).pcb, idleMs, intervalMs, count) {
                    0 => LWIP_WS_OK,
                    _ => LWIP_WS_ERR_UNSUPPORTED,
                }
            }
            Ok(_) => LWIP_WS_ERR_STATE,
            Err(code) => code,
        }
    }
}

/// Pause reading: once the callback running now (if any) returns, no more `frameFp` /
/// `chunkFp` calls come for this connection, and received data is no longer acknowledged
/// to lwIP (`tcp_recved`), so lwIP's receive window closes and the peer has to wait. What
/// the peer had already sent is held as lwIP pbufs: at most one receive window
/// (`TCP_WND`) per connection. For a consumer slower than the network, e.g. a `chunkFp`
/// that writes a firmware image to flash, or an echo whose send queue is full. While
/// paused, the keep-alive and message timeouts wait (the silence is yours), the peer's
/// close frame is not seen either (after `WSS_close` the close timeout still runs), and
/// the connection does not give its memory back when idle. Writing is not affected.
///
/// Context: lwIP core (also inside this connection's callbacks). Returns `LWIP_WS_OK`,
/// `LWIP_WS_ERR_STATE` (the connection is not open: handshake not finished, closing, or
/// none), `LWIP_WS_ERR_ARG`, `LWIP_WS_ERR_NOT_CONSTRUCTED`.
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn WSS_pauseRead(o: *mut WSS) -> c_int {
    // SAFETY: wss_conn checks `o`.
    unsafe {
        match wss_conn(o) {
            Ok(c) => result(conn::pause_read(c)),
            Err(code) => code,
        }
    }
}

/// Resume reading after `WSS_pauseRead`: the held data is delivered (at once when called
/// outside this connection's callbacks; when the current callback returns if called
/// inside one) and acknowledged, so the window opens again. Calling it while not paused
/// does nothing. Called outside the callbacks, it may run any of the connection's
/// callbacks before it returns, `closeFp` included (the held data may end the
/// connection).
///
/// Context: lwIP core (also inside this connection's callbacks). Returns `LWIP_WS_OK`,
/// `LWIP_WS_ERR_STATE` (no connection running), `LWIP_WS_ERR_ARG`,
/// `LWIP_WS_ERR_NOT_CONSTRUCTED`.
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn WSS_resumeRead(o: *mut WSS) -> c_int {
    // SAFETY: wss_conn checks `o`.
    unsafe {
        match wss_conn(o) {
            Ok(c) => result(conn::resume_read(c)),
            Err(code) => code,
        }
    }
}

/// Bytes received but not yet delivered nor acknowledged to lwIP because reading is
/// paused (`WSS_pauseRead`): lwIP pbufs, at most one receive window (`TCP_WND`). 0 when
/// nothing is held; or a negative code.
///
/// Context: lwIP core (also inside this connection's callbacks).
#[no_mangle]
pub unsafe extern "C" fn WSS_heldBytes(o: *mut WSS) -> c_int {
    // SAFETY: wss_conn checks the pointer and the magic.
    match unsafe { wss_conn(o) } {
        Ok(c) => c_int::try_from(unsafe { (*c).held_bytes() }).unwrap_or(c_int::MAX),
        Err(code) => code,
    }
}
