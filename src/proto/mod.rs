//! The sans-IO RFC 6455 engine.
//!
//! Bytes in, events and bytes out. No lwIP, no I/O, no clock (`now_ms` is passed in), no
//! RNG (mask keys and client nonces are passed in), no `unsafe`, and no input can reach a
//! panic (clippy denies `unwrap`, `expect`, indexing and `panic!` here).
//!
//! CONTRACT (the lwIP layer is written against exactly these items; extend, don't change):
//! - [`Connection::server`] / [`Connection::client`] create an engine.
//! - [`Connection::receive`] consumes received bytes (any chunking) and returns at most one
//!   [`Event`] per call plus how many bytes it consumed; call again with the rest.
//! - [`Connection::pending`] / [`Connection::advance`] hand queued output bytes to the
//!   transport; whole frames are queued atomically, never torn.
//! - [`Connection::send`], [`Connection::send_fragment`], [`Connection::ping`],
//!   [`Connection::close`] queue frames; [`Connection::poll`]`(now_ms, mask)` reports
//!   timeouts and runs the keep-alive (`mask`: the client's key for a frame the engine
//!   queues by itself there; `poll` gained it with the keep-alive, the one signature
//!   change to this contract).
//!
//! [`Connection::server`]: crate::proto::Connection::server
//! [`Connection::client`]: crate::proto::Connection::client
//! [`Connection::receive`]: crate::proto::Connection::receive
//! [`Event`]: crate::proto::Event
//! [`Connection::pending`]: crate::proto::Connection::pending
//! [`Connection::advance`]: crate::proto::Connection::advance
//! [`Connection::send`]: crate::proto::Connection::send
//! [`Connection::send_fragment`]: crate::proto::Connection::send_fragment
//! [`Connection::ping`]: crate::proto::Connection::ping
//! [`Connection::close`]: crate::proto::Connection::close
//! [`Connection::poll`]: crate::proto::Connection::poll
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::unreachable,
    clippy::todo,
    clippy::unimplemented
)]
#![forbid(unsafe_code)]

pub mod close;
pub mod conn;
pub mod frame;
pub mod http;
pub mod utf8;

pub use close::is_valid_close_code;
pub use conn::{
    Config, Connection, Event, HandshakeFailure, Initiator, Parked, Received, Role, SendError,
    State, Timeout,
};
pub use http::{
    accept_key, origin_permitted, ClientHandshakeError, ClientRequest, HandshakeError, Request,
};
