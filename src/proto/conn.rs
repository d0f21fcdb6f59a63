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
mod send;

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

    /// Feed received bytes. Consumes a prefix of `input` (possibly unmasking it in place)
    /// and returns at most one event. Call again with the rest of the input until it is
    /// all consumed; `consumed == 0` with no event only when `input` is empty or the state
    /// is `Closed` (input after close is ignored: then `consumed == input.len()`).
    /// `mask` is used only in the client role, for frames the engine queues by itself
    /// (pong, close reply); pass fresh random bytes each call.
    ///
    /// A server that gets [`Event::Request`] and calls `receive` again without deciding
    /// accepts the request as [`Connection::accept`]`(None)` would (reporting
    /// [`Event::HandshakeFailed`] if it is not a valid upgrade).
    ///
    /// While `Closing`, data frames are still checked (framing, sizes, UTF-8) but their
    /// payload is discarded: no message events. Pings are reported but not answered.
    pub fn receive<'a>(
        &'a mut self,
        input: &'a mut [u8],
        now_ms: u32,
        mask: [u8; 4],
    ) -> Received<'a> {
        let _ = now_ms;
        self.receive_with(input, &mut || mask)
    }

    /// [`Connection::receive`] with the client's mask key drawn from `mask` only when the
    /// engine queues a frame by itself (a pong or a close reply, client role): a server,
    /// or a client receiving data, never calls it. Input handling needs no clock.
    pub fn receive_with<'a>(
        &'a mut self,
        input: &'a mut [u8],
        mask: &mut dyn FnMut() -> [u8; 4],
    ) -> Received<'a> {
        let (consumed, pending) = self.step(input, mask);
        let this: &'a Connection = self;
        let input: &'a [u8] = input;
        Received {
            consumed,
            event: pending.map(|p| this.materialize(p, input)),
        }
    }

    fn materialize<'a>(&'a self, pending: Pending, input: &'a [u8]) -> Event<'a> {
        let bytes = |src: Src| -> &'a [u8] {
            match src {
                Src::Input(r) => input.get(r),
                Src::Buf => self.buf.split_last().map(|(_, data)| data),
                Src::Head(r) => self.head.get(r),
            }
            .unwrap_or_default()
        };
        match pending {
            Pending::Request => Event::Request(Request { head: &self.head }),
            #[cfg(feature = "client-role")]
            Pending::Open(range) => Event::Open {
                protocol: range.and_then(|r| core::str::from_utf8(bytes(Src::Head(r))).ok()),
            },
            Pending::HandshakeFailed(f) => Event::HandshakeFailed(f),
            Pending::Message { text, src } => Event::Message {
                text,
                data: bytes(src),
            },
            Pending::Chunk {
                text,
                range,
                offset,
                frame_len,
                last,
            } => Event::Chunk {
                text,
                data: bytes(Src::Input(range)),
                offset,
                frame_len,
                last,
            },
            Pending::Ping(src) => Event::Ping(bytes(src)),
            Pending::Pong(src) => Event::Pong(bytes(src)),
            Pending::Closed {
                code,
                reason,
                initiator,
            } => Event::Closed {
                code,
                reason: match reason {
                    Ok(src) => core::str::from_utf8(bytes(src)).unwrap_or_default(),
                    Err(s) => s,
                },
                initiator,
            },
        }
    }

    /// The receive path itself: consume a prefix of `input`, maybe complete an event.
    /// Kept out of line: inlined into the transport's receive loop it made the firmware
    /// hundreds of bytes larger, for one call per `receive`.
    #[inline(never)]
    fn step(
        &mut self,
        input: &mut [u8],
        mask: &mut dyn FnMut() -> [u8; 4],
    ) -> (usize, Option<Pending>) {
        self.busy = true;
        if !input.is_empty() && self.state != State::Closed {
            self.rx_seen = true;
        }
        if self.awaiting_decision {
            if let Err(e) = self.accept(None) {
                let failure = HandshakeFailure::Server(e);
                return (input.len(), Some(Pending::HandshakeFailed(failure)));
            }
        }
        match (self.state, self.role) {
            (State::Closed, _) => return (input.len(), None),
            (State::Connecting, Role::Server) => return self.read_request(input),
            #[cfg(feature = "client-role")]
            (State::Connecting, Role::Client) => return self.read_response(input),
            #[cfg(not(feature = "client-role"))]
            (State::Connecting, Role::Client) => return (input.len(), None),
            _ => {}
        }
        let in_control = self.frame.is_some_and(|f| f.is_control());
        if self.head.capacity() != 0 && !in_control {
            self.head = Vec::new();
        }
        self.release_delivered();
        if let Some(done) = self.whole_message_in(input) {
            return done;
        }
        let mut pos = 0;
        loop {
            let frame = match self.frame {
                Some(frame) => frame,
                None => {
                    let rest = input.get(pos..).unwrap_or_default();
                    if rest.is_empty() {
                        return (pos, None);
                    }
                    let (used, header) = self.header.feed(rest);
                    pos += used;
                    let Some(frame) = header else {
                        return (pos, None);
                    };
                    if let Err(code) = self.begin_frame(&frame) {
                        return (input.len(), Some(self.fail(code, mask)));
                    }
                    self.frame = Some(frame);
                    self.frame_done = 0;
                    frame
                }
            };
            let remaining = frame.len - self.frame_done;
            let avail = remaining.min(input.len().saturating_sub(pos) as u64) as usize;
            if remaining > 0 && avail == 0 {
                return (pos, None);
            }
            let range = pos..pos + avail;
            let piece = input.get_mut(range.clone()).unwrap_or_default();
            let ascii = match frame.mask {
                Some(key) => unmask_is_ascii(piece, key, self.frame_done),
                None => false,
            };
            let offset = self.frame_done;
            pos += avail;
            self.frame_done += avail as u64;
            let frame_end = self.frame_done == frame.len;
            if frame_end {
                self.frame = None;
            }
            let result = if frame.is_control() {
                self.control_piece(&frame, piece, range, offset, mask)
            } else {
                self.data_piece(&frame, piece, range, offset, ascii)
            };
            match result {
                Ok(None) => {}
                Ok(Some(event)) => return (pos, Some(event)),
                Err(code) => return (input.len(), Some(self.fail(code, mask))),
            }
        }
    }

    /// Fast path for the common case: between messages, `input` starts with one whole,
    /// unfragmented data frame that passes every rule (whole-message mode). Unmasks it in
    /// place and reports it; `None` (nothing changed) for anything else, which the
    /// general path then handles, errors included.
    fn whole_message_in(&mut self, input: &mut [u8]) -> Option<(usize, Option<Pending>)> {
        if self.frame.is_some()
            || self.incoming.is_some()
            || self.header.in_progress()
            || self.cfg.streaming
            || self.state != State::Open
        {
            return None;
        }
        let (frame, header_len) = parse_header(input)?;
        if !frame.fin
            || !matches!(frame.opcode, OP_TEXT | OP_BINARY)
            || frame.check(self.role == Role::Server).is_err()
            || frame.len > self.cfg.max_message
        {
            return None;
        }
        let len = usize::try_from(frame.len).ok()?;
        let end = header_len.checked_add(len)?;
        let piece = input.get_mut(header_len..end)?;
        // Unmasking also tells whether the payload is all ASCII: such text needs no
        // UTF-8 validation.
        let ascii = match frame.mask {
            Some(key) => unmask_is_ascii(piece, key, 0),
            None => false,
        };
        let text = frame.opcode == OP_TEXT;
        if text && !ascii {
            self.utf8.reset();
            if !self.utf8.feed(piece) || !self.utf8.is_complete() {
                // Undo the unmasking: the general path reads the frame again and fails
                // the connection with 1007 itself. Through the unmasking call above (the
                // same XOR; its answer is not needed): an inlined `apply_mask` on this
                // rare path made the server-only firmware larger.
                if let Some(key) = frame.mask {
                    let _ = unmask_is_ascii(piece, key, 0);
                }
                return None;
            }
        }
        Some((
            end,
            Some(Pending::Message {
                text,
                src: Src::Input(header_len..end),
            }),
        ))
    }

    /// Header rules that depend on the connection: role, message sequencing, size.
    fn begin_frame(&mut self, frame: &FrameHeader) -> Result<(), u16> {
        frame.check(self.role == Role::Server)?;
        if frame.is_control() {
            return Ok(());
        }
        match (frame.opcode, self.incoming) {
            (OP_CONTINUATION, None) => Err(PROTOCOL_ERROR),
            (OP_CONTINUATION, Some(msg)) => self.check_size(msg.len, frame.len),
            (_, Some(_)) => Err(PROTOCOL_ERROR),
            (opcode, None) => {
                self.check_size(0, frame.len)?;
                self.incoming = Some(Incoming {
                    text: opcode == OP_TEXT,
                    len: 0,
                });
                self.utf8.reset();
                Ok(())
            }
        }
    }

    fn check_size(&self, so_far: u64, frame_len: u64) -> Result<(), u16> {
        match so_far.checked_add(frame_len) {
            Some(total) if total <= self.cfg.max_message => Ok(()),
            _ => Err(TOO_BIG),
        }
    }

    /// A piece of a data frame's (unmasked) payload, `offset` bytes into the frame;
    /// `ascii`: the piece is known to be all ASCII (no UTF-8 look needed between code
    /// points).
    fn data_piece(
        &mut self,
        frame: &FrameHeader,
        piece: &[u8],
        range: Range<usize>,
        offset: u64,
        ascii: bool,
    ) -> Result<Option<Pending>, u16> {
        let Some(mut msg) = self.incoming else {
            return Err(PROTOCOL_ERROR);
        };
        let frame_end = self.frame.is_none();
        let last = frame_end && frame.fin;
        if msg.text
            && (!((ascii && self.utf8.is_complete()) || self.utf8.feed(piece))
                || (last && !self.utf8.is_complete()))
        {
            return Err(INVALID_DATA);
        }
        let msg_offset = msg.len;
        msg.len += piece.len() as u64;
        self.incoming = if last { None } else { Some(msg) };
        let text = msg.text;
        if self.state != State::Open {
            return Ok(None);
        }
        if self.cfg.streaming {
            if piece.is_empty() && !last {
                return Ok(None);
            }
            let frame_len = frame.len;
            return Ok(Some(Pending::Chunk {
                text,
                range,
                offset: msg_offset,
                frame_len,
                last,
            }));
        }
        if last && offset == 0 && frame.opcode != OP_CONTINUATION {
            // The whole message is in the input: hand it over in place.
            return Ok(Some(Pending::Message {
                text,
                src: Src::Input(range),
            }));
        }
        let received = (self.buf.len() as u64).saturating_add(piece.len() as u64);
        let unread = frame
            .len
            .saturating_sub(offset.saturating_add(piece.len() as u64));
        let frame_needs = received.saturating_add(unread);
        self.reserve_buf(received.saturating_add(1), frame_needs.saturating_add(1))?;
        self.buf.extend_from_slice(piece);
        if !last {
            return Ok(None);
        }
        // The 0 goes in like the payload: `Vec::push` links a growth path of its own.
        self.buf.extend_from_slice(&[0]);
        self.buf_delivered = true;
        Ok(Some(Pending::Message {
            text,
            src: Src::Buf,
        }))
    }

    /// Make the message buffer hold `need` bytes (what has arrived, plus the 0 byte): grow
    /// from `start_size` in steps of `expand_size`, or of a quarter of the current
    /// capacity when that is more (so a large message is copied a bounded number of
    /// times, not once per step), never past `limit` (what the frame being read still
    /// needs, announced but not arrived) unless `start_size` is more, nor past
    /// `max_message + 1`. Memory follows the bytes received, never the bytes claimed.
    fn reserve_buf(&mut self, need: u64, limit: u64) -> Result<(), u16> {
        let need = usize::try_from(need).map_err(|_| TOO_BIG)?;
        let cap = self.buf.capacity();
        if cap >= need {
            return Ok(());
        }
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let base = cap.max(self.cfg.start_size);
        let step = self.cfg.expand_size.max(base / 4);
        let target = if base >= need || step == 0 {
            base.max(need)
        } else {
            let steps = (need - base).div_ceil(step);
            steps
                .checked_mul(step)
                .and_then(|grow| grow.checked_add(base))
                .unwrap_or(need)
        };
        let ceiling = usize::try_from(self.cfg.max_message.saturating_add(1)).unwrap_or(usize::MAX);
        let room = self.heap_room(cap);
        if need > room {
            return Err(TRY_AGAIN_LATER);
        }
        let target = target
            .min(limit.max(self.cfg.start_size))
            .min(ceiling)
            .min(room)
            .max(need);
        self.buf
            .try_reserve_exact(target - self.buf.len())
            .map_err(|_| INTERNAL_ERROR)
    }

    /// A piece of a control frame's (unmasked) payload. Out of line: control frames are
    /// rare, and inlined into the receive step it made the firmware larger.
    #[inline(never)]
    fn control_piece(
        &mut self,
        frame: &FrameHeader,
        piece: &[u8],
        range: Range<usize>,
        offset: u64,
        mask: &mut dyn FnMut() -> [u8; 4],
    ) -> Result<Option<Pending>, u16> {
        let len = frame.len as usize;
        let src = if offset == 0 && piece.len() == len {
            Src::Input(range)
        } else {
            // In pieces (rare): collect the payload (at most 125 bytes) in `head`.
            if offset == 0 {
                self.head.clear();
                if len > self.heap_room(self.head.capacity()) {
                    return Err(TRY_AGAIN_LATER);
                }
                self.head
                    .try_reserve_exact(len)
                    .map_err(|_| INTERNAL_ERROR)?;
            }
            let room = len.saturating_sub(self.head.len());
            self.head
                .extend_from_slice(piece.get(..room.min(piece.len())).unwrap_or_default());
            if self.frame.is_some() {
                return Ok(None);
            }
            Src::Head(0..len)
        };
        let mut payload = [0u8; MAX_CONTROL_PAYLOAD];
        let payload = match &src {
            Src::Input(_) => piece,
            _ => {
                let dst = payload.get_mut(..len).unwrap_or_default();
                dst.copy_from_slice(self.head.get(..len).unwrap_or_default());
                dst
            }
        };
        match frame.opcode {
            OP_PING => {
                if self.state == State::Open {
                    let client_mask = self.draw_mask(mask);
                    self.queue_pong(payload, client_mask);
                }
                Ok(Some(Pending::Ping(src)))
            }
            OP_PONG => Ok(Some(Pending::Pong(src))),
            _ => {
                let (code, _) = parse_close_payload(payload)?;
                let reason = match &src {
                    Src::Input(r) if r.len() >= 2 => Ok(Src::Input(r.start + 2..r.end)),
                    Src::Head(r) if r.len() >= 2 => Ok(Src::Head(r.start + 2..r.end)),
                    _ => Err(""),
                };
                let initiator = if self.state == State::Open {
                    let client_mask = self.draw_mask(mask);
                    let _ = self.queue_close(code, b"", client_mask);
                    Initiator::Remote
                } else {
                    Initiator::Local
                };
                // Keep the reason, which may lie in `head`, for the event.
                let head = core::mem::take(&mut self.head);
                self.enter_closed();
                self.head = head;
                Ok(Some(Pending::Closed {
                    code,
                    reason,
                    initiator,
                }))
            }
        }
    }

    /// Fail the connection (RFC 6455 §7.1.7): queue our close frame with `code` unless one
    /// was sent already, and report it.
    fn fail(&mut self, code: u16, mask: &mut dyn FnMut() -> [u8; 4]) -> Pending {
        let reason = match code {
            INVALID_DATA => "invalid UTF-8",
            TOO_BIG => "message too big",
            INTERNAL_ERROR => "out of memory",
            TRY_AGAIN_LATER => "heap budget",
            _ => "protocol error",
        };
        let open = self.state == State::Open;
        // Receive buffers go first: their memory makes room for the close frame.
        self.enter_closed();
        if open {
            let mask = self.draw_mask(mask);
            let _ = self.queue_close(code, reason.as_bytes(), mask);
        }
        Pending::Closed {
            code,
            reason: Err(reason),
            initiator: Initiator::ProtocolError,
        }
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

    /// Report a timeout that has expired at `now_ms` ([`Timeout`]). Reported once; after
    /// it the state is `Closed`. Call it periodically (the lwIP layer does every 0.5 s):
    /// it also runs the keep-alive and manages memory. `mask` is used only in the client
    /// role, for a frame the engine queues by itself here (the keep-alive ping, the 1008
    /// close of [`Timeout::Message`]); pass fresh random bytes.
    ///
    /// Receiving takes no clock: `receive` only notes that bytes arrived, and the next
    /// `poll` takes its `now_ms` as the time of the last receive. The keep-alive and
    /// message timers therefore count from the first poll after the last byte (their
    /// resolution is the poll interval) and never fire early.
    ///
    /// Between polls the buffers keep their capacity, so a steady stream of messages of
    /// any size does not allocate per message. At a poll, a connection that received or
    /// queued something since the previous poll trims its empty buffers back to room for
    /// one `start_size` message; one that moved nothing is idle and gives back every
    /// buffer it does not need (an idle open connection holds no heap at all).
    pub fn poll(&mut self, now_ms: u32, mask: [u8; 4]) -> Option<Timeout> {
        if core::mem::take(&mut self.rx_seen) {
            self.last_rx = now_ms;
            self.pinged = false;
        }
        self.release_delivered();
        if !self.cfg.release_idle {
            self.busy = false;
        } else if core::mem::replace(&mut self.busy, false) {
            self.trim();
        } else {
            self.release_idle();
        }
        let cfg = self.cfg;
        let elapsed = now_ms.wrapping_sub(self.since);
        let idle = now_ms.wrapping_sub(self.last_rx);
        let expired = |limit: u32, time: u32| limit != 0 && time >= limit;
        let in_progress =
            self.frame.is_some() || self.incoming.is_some() || self.header.in_progress();
        let timeout = match self.state {
            State::Connecting if elapsed >= cfg.handshake_timeout_ms => Timeout::Handshake,
            State::Closing if elapsed >= cfg.close_timeout_ms => Timeout::Close,
            State::Open | State::Closing
                if in_progress && expired(cfg.message_timeout_ms, idle) =>
            {
                Timeout::Message
            }
            State::Open if self.pinged && expired(cfg.keepalive_timeout_ms, elapsed) => {
                Timeout::KeepAlive
            }
            State::Open if !self.pinged && expired(cfg.keepalive_idle_ms, idle) => {
                self.keepalive_ping(now_ms, mask);
                return None;
            }
            _ => return None,
        };
        let open = self.state == State::Open;
        self.enter_closed();
        match timeout {
            Timeout::Message if open => {
                let mask = self.client_mask(mask);
                let _ = self.queue_close(POLICY_VIOLATION, b"message timeout", mask);
            }
            Timeout::KeepAlive => {
                self.out = Vec::new();
                self.out_pos = 0;
                self.pong_at = None;
            }
            _ => {}
        }
        Some(timeout)
    }

    /// Queue the keep-alive ping (empty) and start waiting for anything to arrive. When
    /// the queue has no room (or the heap limit none), the next poll tries again.
    fn keepalive_ping(&mut self, now_ms: u32, mask: [u8; 4]) {
        let limit = self.cfg.max_queue_bytes.saturating_add(PONG_ALLOWANCE);
        let mask = self.client_mask(mask);
        if self
            .queue_frame(OP_PING, true, [&[], &[]], mask, limit)
            .is_ok()
        {
            self.pinged = true;
            self.since = now_ms;
        }
    }

    /// Give back the buffers that hold nothing needed: the drained send queue, the
    /// message buffer between messages, the head buffer once open (and between control
    /// frames).
    fn release_idle(&mut self) {
        if self.out_pos == self.out.len() {
            self.out = Vec::new();
            self.out_pos = 0;
            self.pong_at = None;
        }
        if self.state == State::Connecting {
            return;
        }
        if self.incoming.is_none() && !self.buf_delivered {
            self.buf = Vec::new();
        }
        if !self.frame.is_some_and(|f| f.is_control()) {
            self.head = Vec::new();
        }
    }

    /// Shrink the buffers that hold nothing right now to room for one `start_size`
    /// message (its 0 byte, or its frame header in the send queue): a large message's
    /// memory goes back within one poll interval even on a busy connection, while
    /// messages up to `start_size` never allocate.
    fn trim(&mut self) {
        if self.out_pos == self.out.len() {
            self.out.clear();
            self.out_pos = 0;
            self.pong_at = None;
            shrink_empty(
                &mut self.out,
                self.cfg.start_size.saturating_add(MAX_HEADER_LEN),
            );
        }
        if self.state != State::Connecting && self.incoming.is_none() && self.buf.is_empty() {
            shrink_empty(&mut self.buf, self.cfg.start_size.saturating_add(1));
        }
    }

    /// Forget the message delivered by the last `receive`, keeping the buffer's capacity
    /// for the next one (until [`Connection::poll`] trims or releases it).
    fn release_delivered(&mut self) {
        if self.buf_delivered {
            self.buf.clear();
            self.buf_delivered = false;
        }
    }

    /// The engine's buffer holding the message just reported by [`Event::Message`] when
    /// that message was reassembled there: its payload followed by the 0 byte, writable.
    /// Borrowing this, rather than reading past the event's `data` slice, keeps access to
    /// the 0 within what the borrow covers (C callers get `data[len] == 0`). `None` when
    /// the last message was delivered in place (or none is waiting). Valid until the next
    /// `receive` or `poll`.
    pub fn delivered_message_mut(&mut self) -> Option<&mut [u8]> {
        self.buf_delivered.then_some(self.buf.as_mut_slice())
    }

    /// Copies `bytes` and a 0 into the message buffer and returns them there, writable:
    /// for a transport that must hand out a terminated copy of a message that
    /// [`Event::Message`] delivered in place. The copy counts as a reassembled message
    /// (see [`Connection::delivered_message_mut`]): valid until the next `receive` or
    /// `poll`, after which the buffer keeps room for one `start_size` message only, so
    /// messages up to `start_size` never allocate. `None` when the buffer holds part of a
    /// message, or when memory runs out.
    pub fn stage_delivered(&mut self, bytes: &[u8]) -> Option<&mut [u8]> {
        if !self.buf.is_empty() && !self.buf_delivered {
            return None;
        }
        self.buf.clear();
        let need = (bytes.len() as u64).saturating_add(1);
        self.reserve_buf(need, need).ok()?;
        self.buf.extend_from_slice(bytes);
        self.buf.extend_from_slice(&[0]);
        self.buf_delivered = true;
        Some(self.buf.as_mut_slice())
    }

    /// Bytes of heap this engine holds right now (buffers' capacities), for memory
    /// accounting.
    pub fn heap_bytes(&self) -> usize {
        self.head.capacity() + self.out.capacity() + self.buf.capacity()
    }

    /// Limit the heap this engine may hold: no buffer grows so that
    /// [`Connection::heap_bytes`] would exceed `limit` (default `usize::MAX`; a lower limit
    /// does not shrink what is held already). A refused growth, unlike an allocator
    /// failure, fails an open connection's receive side with close 1013 ("heap budget"),
    /// refuses a request head with 503 ([`HandshakeError::Unavailable`]; a client's
    /// response head fails with [`ClientHandshakeError::TooLarge`]) and a send with
    /// [`SendError::OutOfMemory`]. For a budget shared by many connections: the transport
    /// gives each its share. Not kept by [`Connection::park`]: set it again after
    /// [`Parked::unpark`].
    pub fn set_heap_limit(&mut self, limit: usize) {
        self.heap_limit = limit;
    }

    /// The largest capacity a buffer now holding `cap` bytes may grow to within the heap
    /// limit. Out of line: four growth paths share it, and it runs only when a buffer
    /// grows.
    #[inline(never)]
    fn heap_room(&self, cap: usize) -> usize {
        let others = self.heap_bytes().saturating_sub(cap);
        self.heap_limit.saturating_sub(others)
    }
}

/// Give an empty buffer holding more than `cap` bytes a fresh allocation of `cap` bytes
/// (none if that fails: it grows again when needed). Like `Vec::shrink_to` for an empty
/// buffer, through the allocation path the engine links anyway.
fn shrink_empty(buf: &mut Vec<u8>, cap: usize) {
    if buf.capacity() > cap {
        *buf = Vec::new();
        let _ = buf.try_reserve_exact(cap);
    }
}

/// What an open, idle engine must remember, without its buffers and receive state: its
/// configuration, role, whether a fragmented message it sends is unfinished, and when it
/// last received something (for the keep-alive). A transport that keeps many idle
/// connections can hold this instead of the [`Connection`] ([`Connection::park`],
/// [`Parked::unpark`]); [`Parked::due`] tells it when to wake the engine for the
/// keep-alive ping. The heap limit is not kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Parked {
    cfg: Config,
    last_rx: u32,
    role: Role,
    tx_fragment: Option<bool>,
}

impl Parked {
    /// The configuration in force.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// True when the keep-alive ping is due at `now_ms` (`keepalive_idle_ms` without
    /// receiving anything): unpark and [`Connection::poll`], which queues it.
    pub fn due(&self, now_ms: u32) -> bool {
        let idle = self.cfg.keepalive_idle_ms;
        idle != 0 && now_ms.wrapping_sub(self.last_rx) >= idle
    }

    /// The engine again, as it was when parked (state `Open`, the keep-alive counting
    /// from the same last receive; the heap limit back at `usize::MAX`).
    pub fn unpark(self, now_ms: u32) -> Connection {
        let mut conn = Connection::new(self.cfg, self.role, now_ms);
        conn.state = State::Open;
        conn.tx_fragment = self.tx_fragment;
        conn.last_rx = self.last_rx;
        conn
    }
}

impl Connection {
    /// The engine reduced to [`Parked`], when nothing is in progress: open, nothing
    /// received or queued since the last [`Connection::poll`] (which then gave back every
    /// buffer), no frame or message partly received. `None` otherwise, and always with
    /// [`Config::release_idle`] off, and while the keep-alive ping waits for an answer.
    /// Unparking gives an engine that behaves exactly as this one would.
    pub fn park(&self) -> Option<Parked> {
        let idle = self.cfg.release_idle
            && self.state == State::Open
            && !self.busy
            && !self.rx_seen
            && !self.pinged
            && !self.awaiting_decision
            && !self.buf_delivered
            && self.frame.is_none()
            && self.incoming.is_none()
            && !self.header.in_progress()
            && self.queued() == 0
            && self.heap_bytes() == 0;
        idle.then_some(Parked {
            cfg: self.cfg,
            last_rx: self.last_rx,
            role: self.role,
            tx_fragment: self.tx_fragment,
        })
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
