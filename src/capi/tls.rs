//! The C face of TLS (feature `tls`): configurations from PEM or DER in memory, a TLS
//! `WSListener`, and a client that verifies the server (`WSS_openClientTls`).
//!
//! Every call here runs in lwIP's core context. A configuration is the application's:
//! it must outlive every listener and connection made with it, and `WSTls_freeConfig`
//! releases it.

use core::ffi::{c_char, c_int, c_void};
use core::ptr;

use super::{boundary, result, LWIP_WS_ERR_ARG, LWIP_WS_ERR_TLS, LWIP_WS_OK, WSS};
use crate::lwip::tls;
use lwip_sys as sys;

/// A TLS configuration (certificates, keys, CA list, mbedTLS settings). Opaque; made by
/// `WSTls_serverConfig` or `WSTls_clientConfig`, released by `WSTls_freeConfig`.
pub struct WSTlsConfig {
    _private: [u8; 0],
}

fn lwip_config(cfg: *mut WSTlsConfig) -> *mut tls::Config {
    cfg.cast()
}

/// A buffer argument: `(NULL, 0)` allowed when `optional`, else a pointer and a positive
/// length.
fn buffer(data: *const c_void, len: c_int, optional: bool) -> Result<(*const u8, usize), c_int> {
    match (data.is_null(), usize::try_from(len)) {
        (true, Ok(0)) if optional => Ok((ptr::null(), 0)),
        (false, Ok(n)) if n > 0 => Ok((data.cast(), n)),
        _ => Err(LWIP_WS_ERR_ARG),
    }
}

/// The password of a key (NULL: none) as a buffer without its NUL.
unsafe fn password(p: *const c_char) -> (*const u8, usize) {
    if p.is_null() {
        return (ptr::null(), 0);
    }
    // SAFETY: a NUL-terminated string (caller contract).
    let n = unsafe { core::ffi::CStr::from_ptr(p) }.to_bytes().len();
    (p.cast(), n)
}

/// Make a server configuration: `certChain`/`certLen`, the server's certificate followed
/// by its intermediates (PEM, several certificates one after the other; or one DER
/// certificate), and `key`/`keyLen` its private key (PEM or DER; `keyPassword`: the
/// password of an encrypted key, or NULL). PEM may be passed with or without its
/// terminating NUL. The data is parsed and copied: the buffers are yours again when this
/// returns. On success `*out` receives the configuration (written only on success); it
/// must outlive every listener using it (`WSListener_listenTls`) and every connection
/// they accepted; release it with `WSTls_freeConfig`.
///
/// Clients are not asked for a certificate they must have (lwIP's port requests one
/// optionally and does not reject a client without one).
///
/// Randomness: lwIP's port seeds one mbedTLS CTR-DRBG, shared by every configuration,
/// from `mbedtls_entropy_func` when the first configuration is made. On Linux mbedTLS's
/// platform source (getrandom) feeds it. Firmware must give mbedTLS a real entropy source:
/// `MBEDTLS_ENTROPY_HARDWARE_ALT` in its mbedTLS configuration and an
/// `int mbedtls_hardware_poll(void *data, unsigned char *out, size_t len, size_t *olen)`
/// on the chip's TRNG (with `MBEDTLS_NO_PLATFORM_ENTROPY`), or `mbedtls_entropy_add_source`
/// before the first configuration. Certificate dates are checked with `mbedtls_time`
/// (`MBEDTLS_HAVE_TIME_DATE`; firmware sets its clock with `mbedtls_platform_set_time`).
///
/// Context: lwIP core. Returns `LWIP_WS_OK`, `LWIP_WS_ERR_ARG` (NULL, or a length ≤ 0),
/// `LWIP_WS_ERR_TLS` (did not parse, key does not match, wrong password, or out of
/// memory).
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn WSTls_serverConfig(
    certChain: *const c_void,
    certLen: c_int,
    key: *const c_void,
    keyLen: c_int,
    keyPassword: *const c_char,
    out: *mut *mut WSTlsConfig,
) -> c_int {
    boundary!(LWIP_WS_ERR_ARG; out => {
        let (Ok((cert, cert_len)), Ok((key, key_len))) =
            (buffer(certChain, certLen, false), buffer(key, keyLen, false))
        else {
            return LWIP_WS_ERR_ARG;
        };
        // SAFETY: the buffers are readable for their lengths (caller contract); the shim
        // copies what it keeps.
        unsafe {
            let (pass, pass_len) = password(keyPassword);
            let cfg = sys::lwipws_tls_server(cert, cert_len, key, key_len, pass, pass_len);
            if cfg.is_null() {
                return LWIP_WS_ERR_TLS;
            }
            *out = cfg.cast();
        }
        LWIP_WS_OK
    })
}

/// Make a client configuration: `caList`/`caLen`, the certificates the client trusts
/// (PEM, several one after the other; or one DER certificate). Without a CA list
/// (NULL, 0) no server verifies: every connection ends with
/// `LWIP_WS_DROP_TLS_VERIFY_FAILED` unless `WSTls_insecureSkipVerify` was called.
/// `cert`/`certLen` and `key`/`keyLen` (both or neither; `keyPassword` or NULL): a client
/// certificate for servers that ask for one. PEM with or without its NUL; the data is
/// copied. On success `*out` receives the configuration (only on success); it must
/// outlive every connection opened with it; release it with `WSTls_freeConfig`. By
/// default every connection verifies the server's chain against the CA list, its dates,
/// and that it was issued for the host name given to `WSS_openClientTls`. Randomness and
/// time: see `WSTls_serverConfig`.
///
/// Context: lwIP core. Returns `LWIP_WS_OK`, `LWIP_WS_ERR_ARG` (NULL `out`, a negative
/// length, a pointer without length or the reverse, only one of `cert` and `key`),
/// `LWIP_WS_ERR_TLS` (did not parse, or out of memory).
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn WSTls_clientConfig(
    caList: *const c_void,
    caLen: c_int,
    cert: *const c_void,
    certLen: c_int,
    key: *const c_void,
    keyLen: c_int,
    keyPassword: *const c_char,
    out: *mut *mut WSTlsConfig,
) -> c_int {
    boundary!(LWIP_WS_ERR_ARG; out => {
        let (Ok((ca, ca_len)), Ok((cert, cert_len)), Ok((key, key_len))) = (
            buffer(caList, caLen, true),
            buffer(cert, certLen, true),
            buffer(key, keyLen, true),
        ) else {
            return LWIP_WS_ERR_ARG;
        };
        if cert.is_null() != key.is_null() {
            return LWIP_WS_ERR_ARG;
        }
        // SAFETY: as in WSTls_serverConfig.
        unsafe {
            let (pass, pass_len) = password(keyPassword);
            let cfg =
                sys::lwipws_tls_client(ca, ca_len, cert, cert_len, key, key_len, pass, pass_len);
            if cfg.is_null() {
                return LWIP_WS_ERR_TLS;
            }
            *out = cfg.cast();
        }
        LWIP_WS_OK
    })
}

/// INSECURE: connections opened with `cfg` from now on accept ANY server certificate
/// (self-signed, expired, issued for another name): anyone on the path can read and
/// change the traffic. For tests against a device with a throw-away certificate only.
/// There is no way back for this configuration: make a new one to verify again.
///
/// Context: lwIP core. Returns `LWIP_WS_OK` or `LWIP_WS_ERR_ARG` (NULL).
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn WSTls_insecureSkipVerify(cfg: *mut WSTlsConfig) -> c_int {
    boundary!(LWIP_WS_ERR_ARG; cfg => {
        // SAFETY: a live configuration (caller contract).
        unsafe { sys::lwipws_tls_set_insecure(lwip_config(cfg)) };
        LWIP_WS_OK
    })
}

/// lwIP's `struct altcp_tls_config` inside `cfg`, for pcbs of your own
/// (`altcp_tls_new(WSTls_altcpConfig(cfg), IPADDR_TYPE_ANY)`, then `altcp_listen` and
/// `websocket_accept` from your accept callback); NULL for NULL. It belongs to `cfg`.
///
/// Context: any.
#[no_mangle]
pub unsafe extern "C" fn WSTls_altcpConfig(cfg: *mut WSTlsConfig) -> *mut c_void {
    if cfg.is_null() {
        return ptr::null_mut();
    }
    // SAFETY: a live configuration (caller contract).
    unsafe { sys::lwipws_tls_altcp_config(lwip_config(cfg)) }
}

/// Close a listening pcb of your own, plain or TLS (`altcp_tls_new` + `altcp_listen`).
/// Use it instead of `altcp_close` for a TLS listener: lwIP 2.1.3's `altcp_close` on one
/// sets a poll callback on the inner LISTEN pcb (an lwIP assertion, or without asserts a
/// write past the end of `struct tcp_pcb_listen`). `WSListener` does this itself.
///
/// Context: lwIP core. Returns `LWIP_WS_OK`, `LWIP_WS_ERR_ARG` (NULL), `LWIP_WS_ERR_LWIP`
/// (lwIP refused; the pcb is still yours).
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn WSTls_closeListener(pcb: *mut sys::lwipws_pcb) -> c_int {
    boundary!(LWIP_WS_ERR_ARG; pcb => {
        // SAFETY: a live listening pcb of the caller's.
        if unsafe { sys::lwipws_tls_close_listener(pcb) } == 0 {
            LWIP_WS_OK
        } else {
            super::LWIP_WS_ERR_LWIP
        }
    })
}

/// Release a configuration (NULL is ignored). Only after every listener using it was
/// destroyed and every connection made with it has ended (`closeFp`). The shared
/// random generator goes with the last configuration.
///
/// Context: lwIP core.
#[no_mangle]
pub unsafe extern "C" fn WSTls_freeConfig(cfg: *mut WSTlsConfig) {
    if !cfg.is_null() {
        // SAFETY: a live configuration no connection uses any more (caller contract).
        unsafe { sys::lwipws_tls_free(lwip_config(cfg)) };
    }
}

/// Why the most recent server certificate failed verification (the one behind the last
/// `LWIP_WS_DROP_TLS_VERIFY_FAILED`), as mbedTLS's text, one line per failed check
/// ("The certificate validity has expired", "The certificate is not correctly signed by
/// the trusted CA", "The certificate Common Name (CN) does not match with the expected
/// CN", ...), written to `buf` (NUL-terminated, cut to `bufLen`). Call it from `closeFp`
/// (a later failure replaces it).
///
/// Context: lwIP core. Returns mbedTLS's verification flags (`MBEDTLS_X509_BADCERT_*`,
/// positive), 0 when no verification failed yet (`buf` gets ""), or `LWIP_WS_ERR_ARG`
/// (NULL `buf`, `bufLen` ≤ 0).
#[no_mangle]
pub unsafe extern "C" fn WSTls_verifyError(buf: *mut c_char, bufLen: c_int) -> c_int {
    boundary!(LWIP_WS_ERR_ARG; buf => {
        let Ok(len) = usize::try_from(bufLen) else { return LWIP_WS_ERR_ARG };
        if len == 0 {
            return LWIP_WS_ERR_ARG;
        }
        let flags = tls::last_verify_flags();
        // SAFETY: `buf` has `len` writable bytes (caller contract).
        unsafe {
            *buf = 0;
            if flags != 0 {
                sys::lwipws_tls_verify_info(buf, len, flags);
            }
        }
        c_int::try_from(flags & 0x7fff_ffff).unwrap_or(c_int::MAX)
    })
}

/// Like `WSListener_listen`, over TLS with `cfg` (from `WSTls_serverConfig`; it must
/// outlive the listener and its connections): the page and the WebSocket are served as
/// `https://` and `wss://` on one port. The same rules apply as on a plain port: the TLS
/// handshake counts against the handshake timeout (`WSListener_setHandshakeTimeout`: a
/// peer that stops mid-handshake is dropped then) and the waiting slots
/// (`WSListener_setLimits`). Plain and TLS listeners run side by side (one `WSListener`
/// each). Each TLS connection costs mbedTLS's session memory besides the library's
/// (about 34–45 KiB with mbedTLS's default 16 KiB record buffers: lower
/// `MBEDTLS_SSL_IN_CONTENT_LEN`/`MBEDTLS_SSL_OUT_CONTENT_LEN` in firmware; 23 KiB at the
/// peak with `ports/mps2-an386/tls/mbedtls_config_fw.h`, see README), from lwIP's
/// heap when mbedTLS is built with `MBEDTLS_PLATFORM_MEMORY` (lwIP's
/// `altcp_tls_mbedtls_mem.c`), else from the C library; it is not part of
/// `lwipws_setHeapBudget`.
///
/// Context: lwIP core. Returns as `WSListener_listen`; `LWIP_WS_ERR_ARG` also for a NULL
/// `cfg`.
#[cfg(feature = "listener")]
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn WSListener_listenTls(
    l: *mut super::WSListener,
    addr: *const sys::ip_addr_t,
    port: u16,
    cfg: *mut WSTlsConfig,
) -> c_int {
    boundary!(LWIP_WS_ERR_ARG; cfg => {
        // SAFETY: listener_of checks `l`; `addr` is NULL or valid; `cfg` is live.
        match unsafe { super::listener::listener_of(l) } {
            Ok(lst) => result(unsafe { tls::listen(lst, lwip_config(cfg), addr, port) }),
            Err(code) => code,
        }
    })
}

/// Like `WSS_openClient`, over TLS with `cfg` (from `WSTls_clientConfig`; it must outlive
/// the connection). `host` goes out as SNI and in the `Host` header, and the server's
/// certificate must be issued for it (DNS name or IP address in its subject alternative
/// names or common name), chain to the configured CA list, and be within its dates.
/// The check runs when the TLS handshake is done, before the upgrade request is sent: a
/// failure ends the connection with `closeFp(LWIP_WS_DROP_TLS_VERIFY_FAILED)`
/// (`WSTls_verifyError` says why). A failed TLS handshake (e.g. the port speaks plain
/// HTTP, or no common cipher) ends with `closeFp(LWIP_WS_DROP_CONNECT_FAILED)`. The
/// handshake timeout (`WSS_setTimeouts`) covers TCP, TLS and WebSocket handshakes.
///
/// Context: lwIP core. Returns as `WSS_openClient`; `LWIP_WS_ERR_ARG` also for a NULL
/// `cfg`.
#[cfg(feature = "client")]
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn WSS_openClientTls(
    wss: *mut WSS,
    addr: *const sys::ip_addr_t,
    port: u16,
    host: *const c_char,
    path: *const c_char,
    protocols: *const c_char,
    cfg: *mut WSTlsConfig,
) -> c_int {
    boundary!(LWIP_WS_ERR_ARG; cfg => {
        // SAFETY: open_client checks the rest; `host` is NUL-terminated once checked.
        unsafe {
            super::open_client(wss, addr, host, path, protocols, |c, req| {
                tls::start_client(c, lwip_config(cfg), addr, port, host, req)
            })
        }
    })
}
