//! lwip-ws: RFC 6455 WebSockets on lwIP's raw TCP API, shipped as a C ABI.
//!
//! Layers (data flows one way, each layer knows only the one below):
//! - [`proto`]: the sans-IO RFC 6455 engine (handshakes, frames, messages, close).
//!   `no_std` + `alloc`, no I/O, no clock, no RNG, no `unsafe`.
//! - `lwip` (feature `lwip`): the only code that calls lwIP, through `lwip-sys`.
//! - `capi` (feature `lwip`): the exported `extern "C"` functions described by
//!   `include/lwip_ws.h`.
#![no_std]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

/// cbindgen:ignore
pub mod proto;

/// cbindgen:ignore
#[cfg(all(feature = "firmware", not(feature = "std")))]
mod rt;

// Builds without `client` or `listener` leave helpers those parts share unused.
/// cbindgen:ignore
#[cfg(feature = "lwip")]
#[cfg_attr(not(all(feature = "client", feature = "listener")), allow(dead_code))]
mod lwip;

#[cfg(feature = "lwip")]
#[cfg_attr(
    not(all(feature = "client", feature = "listener")),
    allow(dead_code, unused_imports)
)]
pub mod capi;
