//! The connection state machine: handshake (both roles), message assembly, control
//! frames, the close handshake, the bounded send queue and timeouts.

use alloc::vec::Vec;
use core::ops::Range;

use crate::proto::close::{
    parse_close_payload, INTERNAL_ERROR, INVALID_DATA, POLICY_VIOLATION, PROTOCOL_ERROR, TOO_BIG,
    TRY_AGAIN_LATER,
};
use crate::proto::frame::{
    parse_header, unmask_is_ascii, FrameHeader, HeaderDecoder, MAX_CONTROL_PAYLOAD, MAX_HEADER_LEN,
    OP_BINARY, OP_CONTINUATION, OP_PING, OP_PONG, OP_TEXT,
};
use crate::proto::http::{ClientHandshakeError, HandshakeError, Request};
use crate::proto::utf8::Utf8Validator;

#[cfg(feature = "client-role")]
mod client;
mod handshake;
mod idle;
mod receive;
mod send;

pub use idle::Parked;

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
    /// Initial size of the whole-message receive buffer. The receive buffer and the send
    /// queue keep their capacity from message to message; each [`Connection::poll`]
    /// trims them back to room for one message of this size (plus its 0 byte / frame
    /// header) while the connection is busy, and releases them when it is idle. Default
    /// 1024.
    pub start_size: usize,
    /// The receive buffer grows in steps of this many bytes, or of a quarter of its
    /// current size when that is more (0: only the quarter). Default 1024.
    ///
    /// The receive buffer grows with the bytes that have arrived, never with the length a
    /// frame header announces (which is only checked against `max_message`): while a
    /// message of which `received` bytes have arrived is reassembled, its capacity is at
    /// most `max(start_size, received + 1 + max(expand_size, received / 4))`, and never
    /// more than `max_message + 1` nor (beyond `start_size`) more than the frame being read
    /// still needs. Growth by at least a quarter keeps the copying of a large message
    /// linear in its size.
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
    /// Keep-alive: when an open connection has received nothing for this long, the
    /// engine queues a ping (empty payload) by itself at the next [`Connection::poll`].
    /// 0: off. Default 30000 ms.
    pub keepalive_idle_ms: u32,
    /// After the keep-alive ping, time allowed for anything at all (its pong or any frame)
    /// to arrive; then [`Timeout::KeepAlive`]. 0: wait forever. Default 10000 ms.
    pub keepalive_timeout_ms: u32,
    /// Time allowed between two received bytes while a frame or message is in progress
    /// (a frame header partly read, a frame payload partly read, or a fragmented message
    /// unfinished); then [`Timeout::Message`]. An idle connection between messages is
    /// not affected. 0: off. Default 30000 ms.
    pub message_timeout_ms: u32,
    /// `true` (default): each [`Connection::poll`] trims a busy connection's buffers back
    /// to room for one `start_size` message and releases an idle one's, and an idle engine
    /// may [`Connection::park`]. `false`: the buffers keep their capacity for the
    /// connection's life and the engine never parks: once messages of each size have been
    /// seen nothing is allocated again, at the price of holding that memory while idle.
    pub release_idle: bool,
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
            keepalive_idle_ms: 30_000,
            keepalive_timeout_ms: 10_000,
            message_timeout_ms: 30_000,
            release_idle: true,
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

/// What a timeout means; the transport should abort/close TCP and report it. After any of
/// them the state is `Closed`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timeout {
    /// The handshake did not complete in `handshake_timeout_ms`.
    Handshake,
    /// The peer did not answer our close frame in `close_timeout_ms`.
    Close,
    /// Nothing arrived within `keepalive_timeout_ms` of the keep-alive ping: the peer is
    /// gone. Nothing is queued (the send queue is dropped); abort TCP.
    KeepAlive,
    /// A frame or message stalled for `message_timeout_ms`. A close frame with 1008
    /// ("message timeout") is queued if the connection was open: flush what can be
    /// flushed, then close TCP.
    Message,
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
    /// longer than 123 bytes. Also returned by [`Connection::client`] for a request field
    /// that cannot be written into a request head ([`crate::proto::http::ClientRequest::is_valid`]).
    InvalidClose,
    /// `send` while a fragmented message is in progress, or `send_fragment` with a
    /// different kind than the message started with.
    FragmentState,
    /// The allocator refused memory, or the queue would take the engine's heap over the
    /// limit set with [`Connection::set_heap_limit`].
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

/// Extra queue room a pong may use beyond `max_queue_bytes` (largest client pong frame).
const PONG_ALLOWANCE: usize = 2 + 4 + MAX_CONTROL_PAYLOAD;
/// Extra queue room a close frame may use (a pong and a close on top of a full queue).
const CLOSE_ALLOWANCE: usize = 2 * PONG_ALLOWANCE;

/// A data message being received.
#[derive(Clone, Copy, Debug)]
struct Incoming {
    text: bool,
    /// Payload bytes of the message received so far (offset of the next byte).
    len: u64,
}

/// Where an event's bytes are, recorded without borrowing so that `receive` can build the
/// event once it is done mutating.
#[derive(Clone, Debug)]
enum Src {
    /// In the caller's input.
    Input(Range<usize>),
    /// The whole-message buffer, minus its trailing 0.
    Buf,
    /// In the head buffer: the handshake head, or (open) a control frame's payload that
    /// arrived in pieces.
    Head(Range<usize>),
}

/// An event before its borrowed parts are attached.
#[derive(Debug)]
enum Pending {
    Request,
    #[cfg(feature = "client-role")]
    Open(Option<Range<usize>>),
    HandshakeFailed(HandshakeFailure),
    Message {
        text: bool,
        src: Src,
    },
    Chunk {
        text: bool,
        range: Range<usize>,
        offset: u64,
        frame_len: u64,
        last: bool,
    },
    Ping(Src),
    Pong(Src),
    Closed {
        code: u16,
        reason: Result<Src, &'static str>,
        initiator: Initiator,
    },
}

/// A WebSocket connection engine (either role).
///
/// Idle (open, no message in progress, queue drained) it holds no heap except the
/// capacities kept for reuse: the send queue and, once a message had to be reassembled,
/// the message buffer.
#[derive(Debug)]
pub struct Connection {
    cfg: Config,
    role: Role,
    state: State,
    /// Start of the running timeout: creation (handshake) or our close frame.
    since: u32,
    /// Server: a complete request head waits for accept/reject/respond.
    awaiting_decision: bool,
    /// HTTP head bytes while connecting; freed when the handshake ends. Once open: a
    /// control frame's payload arriving in pieces (allocated only then).
    head: Vec<u8>,
    /// Send queue: bytes `out[out_pos..]` are pending.
    out: Vec<u8>,
    out_pos: usize,
    /// Where the last queued frame starts when it is a pong nothing of which has been
    /// taken yet (it may be replaced by a newer pong).
    pong_at: Option<usize>,
    /// After the send queue: the rest of a constant response body the transport sends
    /// without copying ([`Connection::respond_static`]).
    out_static: &'static [u8],
    /// Kind of the fragmented message we are sending, if any.
    tx_fragment: Option<bool>,
    header: HeaderDecoder,
    /// The frame whose payload is being read, and how much of it has been read.
    frame: Option<FrameHeader>,
    frame_done: u64,
    incoming: Option<Incoming>,
    utf8: Utf8Validator,
    /// Whole-message buffer (allocated on first need, then kept). Client while
    /// connecting: the expected accept value, then the offered subprotocols.
    buf: Vec<u8>,
    /// The buffer holds a delivered message: clear it on the next call.
    buf_delivered: bool,
    /// Bytes were received or queued since the last [`Connection::poll`].
    busy: bool,
    /// Most bytes [`Connection::heap_bytes`] may reach by growing a buffer.
    heap_limit: usize,
    /// When something was last received, as seen by [`Connection::poll`] (whose interval
    /// is the resolution: receiving takes no clock).
    last_rx: u32,
    /// Bytes were received since the last [`Connection::poll`].
    rx_seen: bool,
    /// The keep-alive ping is queued and nothing arrived since (its time is in `since`).
    pinged: bool,
}

impl Connection {
    /// The engine in its first state. Out of line: every constructor (and
    /// [`Parked::unpark`]) shares this one copy.
    #[inline(never)]
    fn new(cfg: Config, role: Role, now_ms: u32) -> Connection {
        Connection {
            cfg,
            role,
            state: State::Connecting,
            since: now_ms,
            awaiting_decision: false,
            head: Vec::new(),
            out: Vec::new(),
            out_pos: 0,
            pong_at: None,
            out_static: &[],
            tx_fragment: None,
            header: HeaderDecoder::default(),
            frame: None,
            frame_done: 0,
            incoming: None,
            utf8: Utf8Validator::new(),
            buf: Vec::new(),
            buf_delivered: false,
            busy: false,
            heap_limit: usize::MAX,
            last_rx: now_ms,
            rx_seen: false,
            pinged: false,
        }
    }

    /// A server engine waiting for the upgrade request. `now_ms` starts the handshake
    /// timeout.
    pub fn server(cfg: Config, now_ms: u32) -> Connection {
        Connection::new(cfg, Role::Server, now_ms)
    }

    /// This engine's role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// Current state.
    pub fn state(&self) -> State {
        self.state
    }

    /// State `Closed`: drop every receive-side buffer (the send queue stays to be flushed).
    fn enter_closed(&mut self) {
        self.state = State::Closed;
        self.awaiting_decision = false;
        self.head = Vec::new();
        self.buf = Vec::new();
        self.buf_delivered = false;
        self.frame = None;
        self.incoming = None;
        self.tx_fragment = None;
    }

    fn client_mask(&self, mask: [u8; 4]) -> Option<[u8; 4]> {
        self.is_client().then_some(mask)
    }

    /// The client role (only with feature `client-role`, which alone can create one).
    fn is_client(&self) -> bool {
        cfg!(feature = "client-role") && self.role == Role::Client
    }

    /// A fresh key from `mask` for a frame we queue, in the client role only.
    fn draw_mask(&self, mask: &mut dyn FnMut() -> [u8; 4]) -> Option<[u8; 4]> {
        self.is_client().then(mask)
    }
}

impl Connection {
    /// A server engine for a connection whose handshake another HTTP server already
    /// answered: state `Open` at once.
    pub fn server_open(cfg: Config, now_ms: u32) -> Connection {
        let mut conn = Connection::new(cfg, Role::Server, now_ms);
        conn.state = State::Open;
        conn
    }

    /// The configuration in force.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// Replace the configuration; the new limits apply from the next frame on. Used when a
    /// connection moves from an HTTP front end to its final owner.
    pub fn set_config(&mut self, cfg: Config) {
        self.cfg = cfg;
    }
}
