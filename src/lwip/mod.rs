//! The lwIP layer: the only code that calls `lwip-sys`.
//!
//! It attaches a [`conn::Conn`] (engine + pcb) to lwIP's raw-API callbacks (recv, sent,
//! err, poll, connected), walks pbuf chains into the engine, moves queued output into
//! `altcp_write` no further than `altcp_sndbuf` allows, and closes TCP when the engine is
//! done. It knows nothing of the C API: events go out through a [`conn::Hooks`] table.
//!
//! Every function here runs in lwIP's core context (NO_SYS main loop, tcpip thread, or
//! under the core lock).
//!
//! Modules: `conn` (one connection: lifecycle, receive path, send path), `listener` (the
//! HTTP front end on one port), `budget` (one heap budget for every connection),
//! `origins` (the `Origin` policy of connections started by `websocket_accept`), `tls`
//! (feature `tls`: TLS listeners and verified TLS clients through lwIP's `altcp_tls`).
//! Imports go one way: `listener` uses `conn`; `conn` uses neither `listener` nor the C
//! API.

pub mod budget;
pub mod conn;
#[cfg(feature = "listener")]
pub mod listener;
pub mod origins;
pub(crate) mod task;
#[cfg(feature = "tls")]
pub mod tls;

use lwip_sys as sys;

/// lwIP's `err_t` values (lwip/err.h; fixed across lwIP 2.x).
pub(crate) mod err {
    pub const OK: i8 = 0;
    pub const MEM: i8 = -1;
    pub const VAL: i8 = -6;
    pub const USE: i8 = -8;
    pub const ABRT: i8 = -13;
    pub const RST: i8 = -14;
    pub const CLSD: i8 = -15;
}

/// `IPADDR_TYPE_ANY` (lwip/ip_addr.h): a pcb that accepts IPv4 and IPv6.
pub(crate) const IPADDR_TYPE_ANY: u8 = 46;

/// Poll callback interval in TCP coarse timer ticks (500 ms each).
pub(crate) const POLL_INTERVAL: u8 = 1;

/// What a callback handler did with its pcb: lwIP needs `ERR_ABRT` back when the pcb was
/// aborted inside its own callback.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Flow {
    Continue,
    Aborted,
}

impl Flow {
    pub(crate) fn err(self) -> sys::err_t {
        match self {
            Flow::Continue => err::OK,
            Flow::Aborted => err::ABRT,
        }
    }
}

/// lwIP's millisecond clock.
pub(crate) fn now_ms() -> u32 {
    // SAFETY: sys_now has no preconditions (it reads the port's clock).
    unsafe { sys::sys_now() }
}

/// Four random bytes from `LWIP_RAND()` (mask keys, nonces).
pub(crate) fn rand4() -> [u8; 4] {
    // SAFETY: the shim only evaluates LWIP_RAND().
    unsafe { sys::lwipws_rand() }.to_ne_bytes()
}

/// Sixteen random bytes from `LWIP_RAND()` (client handshake nonce).
#[cfg(feature = "client")]
pub(crate) fn rand16() -> [u8; 16] {
    let mut out = [0u8; 16];
    for chunk in out.chunks_exact_mut(4) {
        chunk.copy_from_slice(&rand4());
    }
    out
}
