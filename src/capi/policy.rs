//! Library-wide policies: one heap budget for every connection, and the `Origin`
//! allow-list of connections started by `websocket_accept`.

use core::ffi::{c_char, c_int, CStr};

use super::{LWIP_WS_ERR_ARG, LWIP_WS_OK};
use crate::lwip::{budget, origins};

/// Set one heap budget, in bytes, for all of the library's connections together (default
/// 0: no budget). Every connection charges what it holds on the heap (its engine while
/// awake, receive buffer, send queue, request head: see `WSS_heapBytes`) to one total,
/// `lwipws_heapBytes()`. Data that would take the total past the budget ends *that*
/// connection with close code 1013 (`closeFp(1013)`; a request head: HTTP 503), a write
/// that would returns `LWIP_WS_ERR_NO_MEM`, and a new WebSocket upgrade on a `WSListener`
/// while the budget is spent is answered 503; nothing fails anywhere else. Connections
/// over a newly lowered budget are not cut; they cannot grow. lwIP's own memory (pbufs,
/// pcbs, its heap) is bounded by lwIP's options, not by this budget.
///
/// Context: lwIP core. Returns `LWIP_WS_OK`.
#[no_mangle]
pub extern "C" fn lwipws_setHeapBudget(bytes: u32) -> c_int {
    super::tasks::check_core();
    budget::set_limit(bytes as usize);
    LWIP_WS_OK
}

/// The bytes of heap all of the library's connections hold now (the figure the budget of
/// `lwipws_setHeapBudget` is checked against), saturated at `UINT32_MAX`.
///
/// Context: any (a snapshot).
#[no_mangle]
pub extern "C" fn lwipws_heapBytes() -> u32 {
    u32::try_from(budget::used()).unwrap_or(u32::MAX)
}

/// Set the `Origin` allow-list of server connections started with `websocket_accept`
/// (a `WSListener` has its own: `WSListener_setOrigins`). `origins` is a comma- or
/// space-separated list such as `"https://app.example.com, http://192.168.1.5:8080"`, or
/// `"*"` for any origin; NULL (the default) allows none besides the safe default. An
/// upgrade request is accepted when it has no `Origin` header (not a browser), when its
/// `Origin` is the request's own (`http://` or `https://` followed by its `Host`), or when
/// its `Origin` is in the list (ASCII case-insensitive); any other is answered 403 and
/// ends with `closeFp(LWIP_WS_DROP_HANDSHAKE_FAILED)`. Without this check any web page a
/// user opens could drive the device through the user's browser (cross-site WebSocket
/// hijacking). The string is not copied: it must stay valid and unchanged while it is in
/// force (a string literal is ideal).
///
/// Context: lwIP core. Returns `LWIP_WS_OK`, `LWIP_WS_ERR_ARG` (not NUL-terminated UTF-8).
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn lwipws_setAllowedOrigins(origins: *const c_char) -> c_int {
    super::tasks::check_core();
    if origins.is_null() {
        origins::set(None);
        return LWIP_WS_OK;
    }
    // SAFETY: NUL-terminated and valid while in force (caller contract, documented).
    let list: &'static [u8] = unsafe { CStr::from_ptr(origins) }.to_bytes();
    if core::str::from_utf8(list).is_err() {
        return LWIP_WS_ERR_ARG;
    }
    origins::set(Some(list));
    LWIP_WS_OK
}

/// The `Origin` rule of the library, for an HTTP server of your own that answers the
/// upgrade itself before `WSS_connect`: 1 when a request whose `Origin` header is
/// `origin` (NULL: the request has none) and whose `Host` header is `host` (NULL: none)
/// may be upgraded under the allow-list `allowed` (as for `WSListener_setOrigins`; NULL:
/// only the request's own origin), else 0. Answer 403 when it returns 0.
///
/// Context: any.
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn WSS_originAllowed(
    origin: *const c_char,
    host: *const c_char,
    allowed: *const c_char,
) -> c_int {
    if origin.is_null() {
        return 1;
    }
    // SAFETY: each non-NULL argument is NUL-terminated (caller contract).
    let bytes = |s: *const c_char| -> &[u8] {
        if s.is_null() {
            b""
        } else {
            unsafe { CStr::from_ptr(s) }.to_bytes()
        }
    };
    c_int::from(crate::proto::origin_permitted(
        bytes(origin),
        bytes(host),
        bytes(allowed),
    ))
}
