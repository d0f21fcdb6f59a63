//! Per-connection settings of a `WSS`: limits, timeouts, delivery mode, memory
//! behaviour. Each is its own setting; each is changed while the `WSS` is idle (before a
//! connection starts on it) and applies to every connection it runs until changed.

use core::ffi::c_int;
use core::sync::atomic::{AtomicU32, Ordering::Relaxed};

use super::{wss_conn, LWIP_WS_ERR_ARG, LWIP_WS_ERR_STATE, LWIP_WS_OK, WSS};
use crate::proto::Config;

/// Change a setting of an idle `WSS` (before any connection starts).
pub(crate) unsafe fn configure(o: *mut WSS, f: impl FnOnce(&mut Config) -> bool) -> c_int {
    // SAFETY: forwarded caller contract.
    match unsafe { idle_config(o) } {
        Ok(cfg) => {
            if f(cfg) {
                LWIP_WS_OK
            } else {
                LWIP_WS_ERR_ARG
            }
        }
        Err(code) => code,
    }
}

/// The configuration of an idle `WSS`, or the code to return: one function for every
/// setter (only the setting itself is in each).
#[inline(never)]
unsafe fn idle_config<'a>(o: *mut WSS) -> Result<&'a mut Config, c_int> {
    // SAFETY: wss_conn checks the pointer and the magic; `c` is a live Conn and no other
    // reference to it exists during a setter.
    let conn = unsafe { &mut *wss_conn(o)? };
    conn.idle_config_mut().ok_or(LWIP_WS_ERR_STATE)
}

/// Set the largest message accepted, in bytes (default 65536, at most 0x7FFFFFFF). A
/// larger incoming message fails the connection with close code 1009 before its payload
/// is read. Only incoming messages: what this connection may send is the send queue's
/// limit (`WSS_setSendQueue`), which this call leaves alone, so the order of the two calls
/// does not matter (an echo of messages up to N bytes needs both: `WSS_setMaxMessage(N)`
/// and `WSS_setSendQueue(N + 14)`, or `WSS_setStreaming` + `WSS_writeFragment`).
///
/// Context: lwIP core, while idle. Returns `LWIP_WS_OK`, `LWIP_WS_ERR_ARG` (0 or too big),
/// `LWIP_WS_ERR_STATE` (connected), `LWIP_WS_ERR_NOT_CONSTRUCTED`.
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn WSS_setMaxMessage(o: *mut WSS, maxBytes: u32) -> c_int {
    // SAFETY: configure checks the pointer.
    unsafe {
        configure(o, |cfg| {
            if maxBytes == 0 || maxBytes > 0x7FFF_FFFF {
                return false;
            }
            cfg.max_message = u64::from(maxBytes);
            true
        })
    }
}

/// Set the send queue limit in bytes (default 65550). `WSS_write` of a frame that does not
/// fit returns `LWIP_WS_ERR_WOULD_BLOCK` (queue busy) or `LWIP_WS_ERR_TOO_BIG` (the frame
/// alone is larger than the limit); nothing is ever half-queued. The queue drains into
/// lwIP as `tcp_sndbuf` allows, from the sent and poll callbacks.
///
/// Context: lwIP core, while idle. Returns `LWIP_WS_OK`, `LWIP_WS_ERR_ARG` (below 256),
/// `LWIP_WS_ERR_STATE`, `LWIP_WS_ERR_NOT_CONSTRUCTED`.
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn WSS_setSendQueue(o: *mut WSS, maxBytes: u32) -> c_int {
    // SAFETY: configure checks the pointer.
    unsafe {
        configure(o, |cfg| {
            if maxBytes < 256 {
                return false;
            }
            cfg.max_queue_bytes = maxBytes as usize;
            true
        })
    }
}

/// Set the opening-handshake timeout (default 10000 ms: a peer that has not completed the
/// handshake by then is disconnected, `LWIP_WS_DROP_HANDSHAKE_TIMEOUT`) and the close
/// timeout (default 5000 ms: a peer that does not answer our close frame, or does not read
/// it, is aborted, `LWIP_WS_DROP_CLOSE_TIMEOUT`). Timeouts are checked from lwIP's poll
/// callback, every 500 ms.
///
/// Context: lwIP core, while idle. Returns `LWIP_WS_OK`, `LWIP_WS_ERR_ARG` (0),
/// `LWIP_WS_ERR_STATE`, `LWIP_WS_ERR_NOT_CONSTRUCTED`.
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn WSS_setTimeouts(o: *mut WSS, handshakeMs: u32, closeMs: u32) -> c_int {
    // SAFETY: configure checks the pointer.
    unsafe {
        configure(o, |cfg| {
            if handshakeMs == 0 || closeMs == 0 {
                return false;
            }
            cfg.handshake_timeout_ms = handshakeMs;
            cfg.close_timeout_ms = closeMs;
            true
        })
    }
}

/// Deliver incoming messages in pieces as they arrive (`on` non-zero) through `chunkFp`,
/// with no reassembly buffer, instead of whole through `frameFp` (default). The maximum
/// message size (`WSS_setMaxMessage`) still applies to the whole message.
///
/// Context: lwIP core, while idle. Returns `LWIP_WS_OK`, `LWIP_WS_ERR_ARG`,
/// `LWIP_WS_ERR_STATE`, `LWIP_WS_ERR_NOT_CONSTRUCTED`.
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn WSS_setStreaming(o: *mut WSS, on: c_int) -> c_int {
    // SAFETY: configure checks the pointer.
    unsafe {
        configure(o, |cfg| {
            cfg.streaming = on != 0;
            true
        })
    }
}

/// Choose what an idle connection does with its memory. `release` non-zero (default):
/// every poll interval (0.5 s) a busy connection trims its buffers back to room for one
/// `startSize` message, and a connection that moved nothing for a poll interval gives
/// back all its heap, its engine parked inside the `WSS` (`WSS_heapBytes` 0); the first
/// message after such a pause allocates again. Zero: the connection keeps its engine and
/// buffers for its whole life, at their largest size so far: once messages of each size
/// have passed, nothing is allocated again, at the price of holding that memory while
/// idle (for firmware that must not allocate after start-up, or that keeps its heap for
/// other uses only).
///
/// Context: lwIP core, while idle. Returns `LWIP_WS_OK`, `LWIP_WS_ERR_STATE`,
/// `LWIP_WS_ERR_NOT_CONSTRUCTED`, `LWIP_WS_ERR_ARG` (NULL).
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn WSS_setIdleRelease(o: *mut WSS, release: c_int) -> c_int {
    // SAFETY: configure checks the pointer.
    unsafe {
        configure(o, |cfg| {
            cfg.release_idle = release != 0;
            true
        })
    }
}

/// Set the keep-alive: after `idleMs` without anything received from the peer (default
/// 30000 ms; 0 turns keep-alive off), the library sends a ping; if nothing at all arrives
/// within `timeoutMs` after it (default 10000 ms; the pong or any frame counts), the TCP
/// connection is aborted and `closeFp(LWIP_WS_DROP_KEEPALIVE_TIMEOUT)` runs. Both roles.
/// Checked from lwIP's poll callback (every 500 ms), so the times are kept to within
/// about 0.5 s; an idle connection keeps them without holding any heap (it wakes for the
/// ping). While reading is paused (`WSS_pauseRead`) the keep-alive waits.
///
/// Context: lwIP core, while idle. Returns `LWIP_WS_OK`, `LWIP_WS_ERR_ARG` (`timeoutMs`
/// 0 while `idleMs` is not), `LWIP_WS_ERR_STATE`, `LWIP_WS_ERR_NOT_CONSTRUCTED`.
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn WSS_setKeepAlive(o: *mut WSS, idleMs: u32, timeoutMs: u32) -> c_int {
    // SAFETY: configure checks the pointer.
    unsafe {
        configure(o, |cfg| {
            if idleMs != 0 && timeoutMs == 0 {
                return false;
            }
            cfg.keepalive_idle_ms = idleMs;
            cfg.keepalive_timeout_ms = timeoutMs;
            true
        })
    }
}

/// Set the message timeout (default 30000 ms; 0 turns it off): once a message (or a
/// frame, or a frame header) has started to arrive, a pause of this long with no byte of
/// it ends the connection: a close frame with code 1008 is sent, TCP is closed (aborted
/// if the peer does not take the close frame within the close timeout), and `closeFp`
/// gets `LWIP_WS_DROP_MESSAGE_TIMEOUT`. An idle connection between messages is not
/// affected (see `WSS_setKeepAlive`). Kept to within about 0.5 s (lwIP's poll).
///
/// Context: lwIP core, while idle. Returns `LWIP_WS_OK`, `LWIP_WS_ERR_STATE`,
/// `LWIP_WS_ERR_NOT_CONSTRUCTED`, `LWIP_WS_ERR_ARG` (NULL).
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn WSS_setMessageTimeout(o: *mut WSS, ms: u32) -> c_int {
    // SAFETY: configure checks the pointer.
    unsafe {
        configure(o, |cfg| {
            cfg.message_timeout_ms = ms;
            true
        })
    }
}

/// The keep-alive idle and timeout and the message timeout that `WSS_constructor` gives
/// every new `WSS` (`lwipws_setDefaultTimeouts`).
static DEFAULT_TIMERS: [AtomicU32; 3] = [
    AtomicU32::new(30_000),
    AtomicU32::new(10_000),
    AtomicU32::new(30_000),
];

/// `cfg` with the library-wide default timers.
pub(crate) fn defaults(mut cfg: Config) -> Config {
    cfg.keepalive_idle_ms = DEFAULT_TIMERS[0].load(Relaxed);
    cfg.keepalive_timeout_ms = DEFAULT_TIMERS[1].load(Relaxed);
    cfg.message_timeout_ms = DEFAULT_TIMERS[2].load(Relaxed);
    cfg
}

/// Set the keep-alive (`idleMs`, `timeoutMs`: see `WSS_setKeepAlive`; idle 0 turns it
/// off) and the message timeout (`messageMs`: see `WSS_setMessageTimeout`; 0 turns it off)
/// that every `WSS` gets from `WSS_constructor` from now on: one place for a device's
/// policy, with `WSS_setKeepAlive` / `WSS_setMessageTimeout` still changing a single
/// connection. `WSS` already constructed keep their values. Library defaults: 30000,
/// 10000, 30000.
///
/// Context: lwIP core (before constructing the `WSS` it should apply to). Returns
/// `LWIP_WS_OK`, `LWIP_WS_ERR_ARG` (`timeoutMs` 0 while `idleMs` is not).
#[must_use]
#[no_mangle]
pub extern "C" fn lwipws_setDefaultTimeouts(idleMs: u32, timeoutMs: u32, messageMs: u32) -> c_int {
    if idleMs != 0 && timeoutMs == 0 {
        return LWIP_WS_ERR_ARG;
    }
    DEFAULT_TIMERS[0].store(idleMs, Relaxed);
    DEFAULT_TIMERS[1].store(timeoutMs, Relaxed);
    DEFAULT_TIMERS[2].store(messageMs, Relaxed);
    LWIP_WS_OK
}
