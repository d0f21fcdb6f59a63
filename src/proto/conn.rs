//! The connection state machine: handshake (both roles), message assembly, control
//! frames, the close handshake, the bounded send queue and timeouts.

use crate::proto::http::{ClientHandshakeError, ClientRequest, HandshakeError, Request};

/// Which end of the connection this engine is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Accepts an HTTP upgrade; expects masked frames, sends unmasked ones.
    Server,
    /// Sends the upgrade request; masks every frame it sends.
    Client,
}

/// Engine configuration. Every limit is a field; nothing grows beyond these.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// Largest message (sum of its frames' payloads) accepted, in bytes. Over it: close 1009,
    /// detected from the frame header before any payload is read. Default 65536.
    pub max_message: u64,
    /// Initial size of the whole-message receive buffer. Default 1024.
    pub start_size: usize,
    /// The buffer grows in steps of this many bytes (0: grow to exactly what is needed).
    /// Default 1024.
    pub expand_size: usize,
    /// `false`: whole messages ([`Event::Message`]); `true`: streaming ([`Event::Chunk`]),
    /// no buffering. Default false.
    pub streaming: bool,
    /// Largest HTTP head (request or response, up to and including the blank line).
    /// Over it: 431 (server) / [`ClientHandshakeError::TooLarge`] (client). Default 4096.
    pub max_header_bytes: usize,
    /// Largest number of bytes waiting in the send queue. A data frame that would go over
    /// it is refused with [`SendError::WouldBlock`]; control frames (pong, close) may exceed
    /// it by at most 2 × 131 bytes. Default 65536 + 14.
    pub max_queue_bytes: usize,
    /// Time allowed from creation until the handshake completes. Default 10000 ms.
    pub handshake_timeout_ms: u32,
    /// Time allowed from sending our close frame until the peer's close arrives.
    /// Default 5000 ms.
    pub close_timeout_ms: u32,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_message: 65536,
            start_size: 1024,
            expand_size: 1024,
            streaming: false,
            max_header_bytes: 4096,
            max_queue_bytes: 65536 + 14,
            handshake_timeout_ms: 10_000,
            close_timeout_ms: 5_000,
        }
    }
}

/// Connection state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// Handshake in progress.
    Connecting,
    /// Data may flow both ways.
    Open,
    /// We sent a close frame and wait for the peer's.
    Closing,
    /// Nothing more will be received or queued; flush [`Connection::pending`], then close TCP.
    Closed,
}

/// Who ended the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Initiator {
    /// The peer sent the first close frame; we answered it.
    Remote,
    /// We sent the first close frame ([`Connection::close`]) and the peer answered.
    Local,
    /// We failed the connection because the peer broke the protocol: the close frame with
    /// the code (1002, 1007, 1009, …) is queued.
    ProtocolError,
}

/// What a timeout means; the transport should abort/close TCP and report it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timeout {
    /// The handshake did not complete in `handshake_timeout_ms`.
    Handshake,
    /// The peer did not answer our close frame in `close_timeout_ms`.
    Close,
}

/// One thing that happened on the connection. Borrowed data is valid until the next call
/// on the engine.
#[derive(Debug, PartialEq, Eq)]
pub enum Event<'a> {
    /// Server: a complete, syntactically valid HTTP request head. Before the next
    /// `receive`, call exactly one of [`Connection::accept`], [`Connection::reject`] or
    /// [`Connection::respond`].
    Request(Request<'a>),
    /// Client: the server's 101 was valid; the connection is open.
    Open {
        /// The subprotocol the server selected (one we offered), if any.
        protocol: Option<&'a str>,
    },
    /// Server: the request was invalid; an HTTP error response with `Connection: close`
    /// is queued and the state is `Closed`.
    /// Client: the response was invalid; the state is `Closed` (nothing queued).
    HandshakeFailed(HandshakeFailure),
    /// Whole-message mode: a complete message. Text messages are valid UTF-8.
    /// When `data` lies in the engine's own receive buffer, the byte right after it in
    /// memory is 0 (the buffer keeps one spare byte): C callers get a terminated string.
    /// When it lies in the caller's input slice (zero-copy), nothing is promised after it.
    Message {
        /// Text (opcode 1) or binary (opcode 2).
        text: bool,
        /// The unmasked payload.
        data: &'a [u8],
    },
    /// Streaming mode: a piece of a message, in order, no buffering.
    Chunk {
        /// Text or binary (from the message's first frame).
        text: bool,
        /// The unmasked bytes.
        data: &'a [u8],
        /// Offset of `data` within the message.
        offset: u64,
        /// Payload length of the frame this piece belongs to.
        frame_len: u64,
        /// True on the message's last piece (FIN frame, all of its payload).
        last: bool,
    },
    /// A ping arrived; a pong with exactly this payload is already queued.
    Ping(&'a [u8]),
    /// A pong arrived (reported only, never answered).
    Pong(&'a [u8]),
    /// The WebSocket connection is closed (state `Closed`). Flush `pending()`, then close
    /// TCP. Reported exactly once.
    Closed {
        /// The close code: the peer's (Remote/Local; 1005 when its close had no code) or
        /// the one we sent (ProtocolError).
        code: u16,
        /// The close reason (valid UTF-8, at most 123 bytes).
        reason: &'a str,
        /// Who started the close.
        initiator: Initiator,
    },
}

/// Why a handshake failed, for either role.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HandshakeFailure {
    /// Server side: the request was refused with this error (its HTTP status is queued).
    Server(HandshakeError),
    /// Client side: the server's response was not acceptable.
    Client(ClientHandshakeError),
}

/// Why a frame could not be queued. Nothing was queued when one of these is returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendError {
    /// The send queue has no room for the whole frame; try again after `advance`.
    WouldBlock,
    /// The frame alone is larger than `max_queue_bytes` (or a control payload > 125).
    TooLarge,
    /// The connection is not open (handshake not done, or closing/closed).
    NotOpen,
    /// A close code that may not be sent (see [`crate::proto::close`]), or a reason
    /// longer than 123 bytes.
    InvalidClose,
    /// `send` while a fragmented message is in progress, or `send_fragment` with a
    /// different kind than the message started with.
    FragmentState,
    /// The allocator refused memory.
    OutOfMemory,
}

/// Result of one [`Connection::receive`] call.
#[derive(Debug, PartialEq, Eq)]
pub struct Received<'a> {
    /// How many bytes of the input were consumed. Call again with `input[consumed..]`.
    pub consumed: usize,
    /// The event, if one completed.
    pub event: Option<Event<'a>>,
}

/// A WebSocket connection engine (either role).
#[derive(Debug)]
pub struct Connection {
    // private fields: implementation detail
}

impl Connection {
    /// A server engine waiting for the upgrade request. `now_ms` starts the handshake
    /// timeout.
    pub fn server(cfg: Config, now_ms: u32) -> Connection {
        let _ = (cfg, now_ms);
        todo!()
    }

    /// A client engine: queues the upgrade request built from `req` with the key made of
    /// `nonce` (16 caller-supplied random bytes), then waits for the 101.
    pub fn client(
        cfg: Config,
        req: &ClientRequest<'_>,
        nonce: [u8; 16],
        now_ms: u32,
    ) -> Result<Connection, SendError> {
        let _ = (cfg, req, nonce, now_ms);
        todo!()
    }

    /// This engine's role.
    pub fn role(&self) -> Role {
        todo!()
    }

    /// Current state.
    pub fn state(&self) -> State {
        todo!()
    }

    /// Feed received bytes. Consumes a prefix of `input` (possibly unmasking it in place)
    /// and returns at most one event. Call again with the rest of the input until it is
    /// all consumed; `consumed == 0` with no event only when `input` is empty or the state
    /// is `Closed` (input after close is ignored: then `consumed == input.len()`).
    /// `mask` is used only in the client role, for frames the engine queues by itself
    /// (pong, close reply); pass fresh random bytes each call.
    pub fn receive<'a>(
        &'a mut self,
        input: &'a mut [u8],
        now_ms: u32,
        mask: [u8; 4],
    ) -> Received<'a> {
        let _ = (input, now_ms, mask);
        todo!()
    }

    /// Server, after [`Event::Request`]: validate the request as a WebSocket upgrade
    /// (RFC 6455 §4.2.1) and, if valid, queue the 101 with `Sec-WebSocket-Accept` and the
    /// chosen subprotocol (must be one the client offered), then state `Open`. On a failed
    /// validation the HTTP error response is queued, the state becomes `Closed`, and the
    /// error is returned. Frees the request head buffer.
    pub fn accept(&mut self, protocol: Option<&str>) -> Result<(), HandshakeError> {
        let _ = protocol;
        todo!()
    }

    /// Server, after [`Event::Request`]: queue an HTTP error response with `status` (and
    /// `Connection: close`); state `Closed`.
    pub fn reject(&mut self, status: u16) {
        let _ = status;
        todo!()
    }

    /// Server, after [`Event::Request`]: queue a complete HTTP response with `status`,
    /// `Content-Type: content_type`, `Content-Length` and `Connection: close`, then `body`;
    /// state `Closed`. For serving a small page on the same port.
    pub fn respond(
        &mut self,
        status: u16,
        content_type: &str,
        body: &[u8],
    ) -> Result<(), SendError> {
        let _ = (status, content_type, body);
        todo!()
    }

    /// Queue a whole message as one frame (text or binary). The client masks it with
    /// `mask` (ignored by the server). Text is sent as given (not validated).
    pub fn send(&mut self, text: bool, payload: &[u8], mask: [u8; 4]) -> Result<(), SendError> {
        let _ = (text, payload, mask);
        todo!()
    }

    /// Queue one fragment of a message: the first call of a message gives its kind, later
    /// ones are continuations; `fin` ends the message.
    pub fn send_fragment(
        &mut self,
        text: bool,
        payload: &[u8],
        fin: bool,
        mask: [u8; 4],
    ) -> Result<(), SendError> {
        let _ = (text, payload, fin, mask);
        todo!()
    }

    /// Queue a ping (payload at most 125 bytes).
    pub fn ping(&mut self, payload: &[u8], mask: [u8; 4]) -> Result<(), SendError> {
        let _ = (payload, mask);
        todo!()
    }

    /// Start the close handshake: queue a close frame with `code` (must be valid to send:
    /// 1000–1003, 1007–1014, 3000–4999) and `reason` (≤ 123 bytes); state `Closing`; the
    /// close timeout starts at `now_ms`. No data frames are accepted after this.
    pub fn close(
        &mut self,
        code: u16,
        reason: &str,
        mask: [u8; 4],
        now_ms: u32,
    ) -> Result<(), SendError> {
        let _ = (code, reason, mask, now_ms);
        todo!()
    }

    /// Report a timeout that has expired at `now_ms` (handshake or close). Reported once;
    /// after it the state is `Closed`.
    pub fn poll(&mut self, now_ms: u32) -> Option<Timeout> {
        let _ = now_ms;
        todo!()
    }

    /// The queued output bytes not yet handed to the transport (contiguous).
    pub fn pending(&self) -> &[u8] {
        todo!()
    }

    /// The transport took the first `n` bytes of [`Connection::pending`].
    pub fn advance(&mut self, n: usize) {
        let _ = n;
        todo!()
    }

    /// Bytes in the send queue (same as `pending().len()`).
    pub fn queued(&self) -> usize {
        todo!()
    }

    /// Bytes of heap this engine holds right now (buffers' capacities), for memory
    /// accounting.
    pub fn heap_bytes(&self) -> usize {
        todo!()
    }
}
