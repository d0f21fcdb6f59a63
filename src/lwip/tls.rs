//! TLS under the connections, through lwIP's `altcp_tls` (mbedTLS port): listeners whose
//! pcb is a TLS pcb, and clients that send the server's name (SNI) and verify its
//! certificate chain and name before their upgrade request goes out.
//!
//! Everything above `altcp` stays the same: a TLS pcb is a `lwipws_pcb` like a plain one,
//! lwIP's TLS layer calls `accept` at the TCP accept (so a peer stalling in the TLS
//! handshake is a connection waiting for its request, bounded by the same slots and
//! handshake timeout), and a client's `connected` callback runs once the TLS handshake is
//! done. lwIP's port sets `MBEDTLS_SSL_VERIFY_OPTIONAL`, so a handshake completes whatever
//! the certificate: the check here is what refuses an untrusted, expired or misnamed one.

#[cfg(feature = "client")]
use core::ffi::c_char;

use super::conn::OpError;
#[cfg(feature = "client")]
use super::conn::{self, Conn, TLS_VERIFY};
use super::sys;

/// lwip-sys's TLS configuration (`lwipws_tls_config`).
pub type Config = sys::lwipws_tls_config;

/// True when the TLS session on `pcb` verified the peer's chain and host name; otherwise
/// the failure's flags are remembered for [`last_verify_flags`].
pub(crate) unsafe fn peer_verified(pcb: *mut sys::lwipws_pcb) -> bool {
    // SAFETY: `pcb` is the live TLS pcb of a connection in its connected callback.
    unsafe { sys::lwipws_tls_check_peer(pcb) == 0 }
}

/// mbedTLS's verification flags of the most recent failed verification (0: none yet).
pub fn last_verify_flags() -> u32 {
    // SAFETY: reads a plain static of the shim (lwIP core context).
    unsafe { sys::lwipws_tls_last_verify_flags() }
}

/// Listen on `addr`:`port` with TLS pcbs made from `cfg` (which must outlive the listener
/// and every connection it accepts).
#[cfg(feature = "listener")]
pub unsafe fn listen(
    l: *mut super::listener::Listener,
    cfg: *mut Config,
    addr: *const sys::ip_addr_t,
    port: u16,
) -> Result<(), OpError> {
    // SAFETY: `cfg` is a live configuration; `l` a constructed listener.
    unsafe {
        let pcb = sys::lwipws_tls_new(cfg, super::IPADDR_TYPE_ANY);
        super::listener::listen_on(l, pcb, addr, port)
    }
}

/// Client over TLS: a TLS pcb from `cfg` (which must outlive the connection), `host` as
/// SNI and as the name the certificate must carry (`host_c` is its NUL-terminated copy),
/// then the usual client start. Unless `cfg` has verification turned off, the connection
/// ends with [`conn::Ending::TlsVerifyFailed`] when the certificate does not verify.
#[cfg(feature = "client")]
pub unsafe fn start_client(
    c: *mut Conn,
    cfg: *mut Config,
    addr: *const sys::ip_addr_t,
    port: u16,
    host_c: *const c_char,
    req: &crate::proto::ClientRequest<'_>,
) -> Result<(), OpError> {
    // SAFETY: `cfg` is live, `host_c` NUL-terminated; the fresh pcb is handed over (or
    // aborted here).
    unsafe {
        let pcb = sys::lwipws_tls_new(cfg, super::IPADDR_TYPE_ANY);
        if pcb.is_null() {
            return Err(OpError::NoMem);
        }
        if sys::lwipws_tls_set_hostname(pcb, host_c) != 0 {
            sys::lwipws_abort(pcb);
            return Err(OpError::NoMem);
        }
        let flags = if sys::lwipws_tls_insecure(cfg) != 0 {
            0
        } else {
            TLS_VERIFY
        };
        conn::start_client_on(c, pcb, addr, port, req, flags)
    }
}
