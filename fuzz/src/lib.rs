//! Shared drivers for the fuzz targets: the first input bytes choose a configuration, the
//! rest is a script of engine calls (feed a chunk of the stream, drain some output, send,
//! ping, close, let time pass). Every call is checked against the engine's contract; a
//! broken invariant panics, which libFuzzer reports as a crash.
//!
//! Invariants checked after every call:
//! - `receive` consumes a prefix of its input and returns an event or makes progress;
//! - `Closed`/`HandshakeFailed`/a timeout is reported at most once, and nothing at all
//!   is reported after it (no data after close);
//! - messages are within `max_message`, text messages are valid UTF-8;
//! - a ping is answered by a pong with exactly its payload (when the queue has room);
//! - `heap_bytes()` stays within a bound derived from the configuration, and within the
//!   heap limit when the script sets one (`set_heap_limit`, set again after unparking as
//!   a transport would);
//! - a keep-alive ping queued by `poll` is one empty ping frame (masked by a client);
//!   `Timeout::KeepAlive` leaves nothing queued, `Timeout::Message` a 1008 close when the
//!   connection was open; a timeout is reported at most once, with no event after it.

use lwip_ws::proto::http::{accept_key, client_key};
use lwip_ws::proto::{ClientRequest, Config, Connection, Event, Role, SendError, State, Timeout};

/// Reads the fuzz input front to back; past the end every read is 0.
pub struct Reader<'a> {
    data: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Reader { data }
    }
    pub fn byte(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }
    pub fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.byte(), self.byte()])
    }
    pub fn take(&mut self, n: usize) -> &'a [u8] {
        let n = n.min(self.data.len());
        let (head, rest) = self.data.split_at(n);
        self.data = rest;
        head
    }
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
    pub fn rest(&mut self) -> &'a [u8] {
        self.take(self.data.len())
    }
}

/// A configuration with small limits (so that the limits are reached), from 8 bytes.
pub fn config(r: &mut Reader<'_>) -> Config {
    let max_message = [0u64, 1, 125, 126, 1000, 4096, 65536, 70_000][usize::from(r.byte() % 8)];
    let start_size = usize::from(r.byte()) * 8;
    let expand_size = usize::from(r.byte()) * 5;
    let flags = r.byte();
    Config {
        max_message,
        start_size,
        expand_size,
        streaming: flags & 1 == 1,
        release_idle: flags & 2 == 0,
        max_header_bytes: 16 + usize::from(r.byte()) * 24,
        max_queue_bytes: 64 + usize::from(r.u16() % 20_000),
        handshake_timeout_ms: 1000,
        close_timeout_ms: 500,
        // Bits 2..=7 of the flags byte: 0 keeps a timer off (as before the timers).
        keepalive_idle_ms: [0, 40, 200, 1000][usize::from(flags >> 2 & 3)],
        keepalive_timeout_ms: [0, 40, 120, 600][usize::from(flags >> 4 & 3)],
        message_timeout_ms: [0, 40, 160, 800][usize::from(flags >> 6 & 3)],
    }
}

/// Most heap one engine may hold under `cfg`: the head buffer, the client's handshake
/// record, the send queue (amortized growth may double its largest need) and the message
/// buffer (never past `max_message + 1`).
pub fn heap_bound(cfg: &Config) -> usize {
    let queue = cfg.max_queue_bytes + 262 + 512;
    cfg.max_header_bytes + 256 + 2 * queue + cfg.max_message as usize + 1
}

pub const NONCE: [u8; 16] = *b"fuzz-nonce-16-by";

pub const REQUEST: &[u8] = b"GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\
Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: chat, echo\r\n\r\n";

/// The 101 a server would send for [`NONCE`] (so client runs reach the frame layer).
pub fn response() -> Vec<u8> {
    let key = client_key(&NONCE);
    let accept = accept_key(&key);
    let mut r = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ".to_vec();
    r.extend_from_slice(&accept);
    r.extend_from_slice(b"\r\n\r\n");
    r
}

pub fn client_request() -> ClientRequest<'static> {
    ClientRequest {
        host: "h",
        path: "/ws",
        protocols: &["chat", "echo"],
        extra_headers: &[("Origin", "http://h")],
    }
}

/// Checks bytes an engine sent: an optional HTTP head, then whole, valid frames (masked
/// exactly when a client sent them; RSV 0; known opcodes; control frames FIN and at most
/// 125 bytes; close payloads empty or a sendable code with a UTF-8 reason; nothing after
/// a close frame). `complete`: the stream must not end inside a frame. Frames are never
/// torn, so a prefix of the stream stops only between frames or inside the last one.
pub fn check_wire(bytes: &[u8], from_client: bool, http_first: bool, complete: bool) {
    let mut rest = bytes;
    if http_first {
        let Some(i) = rest.windows(4).position(|w| w == b"\r\n\r\n") else {
            assert!(!complete || rest.is_empty(), "cut-off HTTP head");
            return;
        };
        if !rest.starts_with(b"HTTP/1.1 101 ") {
            // An error or page response: its body follows, no frames.
            return;
        }
        rest = &rest[i + 4..];
    }
    let mut closed = false;
    while !rest.is_empty() {
        let Some((h, n)) = lwip_ws::proto::frame::parse_header(rest) else {
            assert!(!complete, "stream ends inside a frame header");
            return;
        };
        assert!(!closed, "a frame after our close frame");
        assert_eq!(h.rsv, 0, "RSV bits sent");
        assert_eq!(h.mask.is_some(), from_client, "masking of a sent frame");
        assert!(
            matches!(h.opcode, 0 | 1 | 2 | 8 | 9 | 10),
            "opcode {}",
            h.opcode
        );
        if h.opcode >= 8 {
            assert!(h.fin && h.len <= 125, "control frame {h:?}");
        }
        let len = usize::try_from(h.len).expect("frame length");
        if rest.len() < n + len {
            assert!(!complete, "stream ends inside a frame");
            return;
        }
        let mut payload = rest[n..n + len].to_vec();
        if let Some(key) = h.mask {
            lwip_ws::proto::frame::apply_mask(&mut payload, key, 0);
        }
        if h.opcode == 8 {
            closed = true;
            if !payload.is_empty() {
                let parsed = lwip_ws::proto::close::parse_close_payload(&payload);
                assert!(parsed.is_ok(), "invalid close payload sent: {payload:?}");
            }
        }
        rest = &rest[n + len..];
    }
}

/// Bytes the engine may hold beyond its heap limit for a reply that is exempt from it: a
/// close frame (at most 2 + 4 + 125) or an HTTP error response (under 256).
const EXEMPT_REPLY: usize = 256;

/// A heap limit chosen by bits 1..=2 of a role's flags byte (0: none, as before).
pub fn heap_limit(flags: u8) -> usize {
    [usize::MAX, 300, 1500, 6000][usize::from(flags >> 1 & 3)]
}

/// Drives one engine through the script in `r`, prefixed (when `prefix` is given) with
/// bytes that complete the handshake. `limit`: the heap limit set on the engine.
pub fn drive(mut conn: Connection, cfg: Config, prefix: &[u8], r: &mut Reader<'_>, limit: usize) {
    let bound = heap_bound(&cfg);
    conn.set_heap_limit(limit);
    // What the engine held before the limit was set (a client's request) may stay, and
    // the replies exempt from the limit (one close frame, or one HTTP error response) may
    // go past it by their own size.
    let held_bound = limit.max(conn.heap_bytes()).saturating_add(EXEMPT_REPLY);
    let role = conn.role();
    let mut stream: Vec<u8> = prefix.to_vec();
    let mut now: u32 = 0;
    let mut ended = false;
    let mut mask_seed: u8 = 1;
    let mut message: Vec<u8> = Vec::new();
    let mut wire: Vec<u8> = Vec::new();
    let mut aborted = false;
    // At most one step per input byte, and at most 4096 steps.
    for _ in 0..4096 {
        if r.is_empty() && stream.is_empty() {
            break;
        }
        let op = r.byte();
        match op >> 5 {
            // Feed a chunk of 1..=32 bytes (of the handshake prefix first, then of the
            // input), or the whole rest when the input is spent.
            0..=3 => {
                let n = usize::from(op & 0x1F) + 1;
                let mut chunk: Vec<u8> = if !stream.is_empty() {
                    let n = n.min(stream.len());
                    stream.drain(..n).collect()
                } else if r.is_empty() {
                    Vec::new()
                } else {
                    r.take(n).to_vec()
                };
                let mask = [mask_seed, 2, 3, 4];
                mask_seed = mask_seed.wrapping_add(1);
                feed(
                    &mut conn,
                    &cfg,
                    &mut chunk,
                    now,
                    mask,
                    &mut ended,
                    &mut message,
                    limit,
                );
            }
            // The transport takes some output.
            4 => {
                let n = usize::from(op & 0x1F) * 37;
                let before = conn.queued();
                wire.extend_from_slice(&conn.pending()[..n.min(before)]);
                conn.advance(n);
                assert_eq!(conn.queued(), before.saturating_sub(n));
            }
            // The application sends.
            5 => {
                let len = usize::from(r.byte());
                let payload = r.take(len).to_vec();
                let mask = [9, 8, 7, mask_seed];
                let was_open = !ended && conn.state() == State::Open;
                let res = match op & 3 {
                    0 => conn.send(op & 4 != 0, &payload, mask),
                    1 => conn.send_fragment(op & 4 != 0, &payload, op & 8 != 0, mask),
                    2 => conn.ping(&payload, mask),
                    _ => conn.close(1000 + u16::from(op & 0x1C), "bye", mask, now),
                };
                if !was_open {
                    assert!(res.is_err(), "a send while not open was accepted");
                }
                if let Err(SendError::OutOfMemory) = res {
                    assert!(limit != usize::MAX, "out of memory on a small send");
                }
            }
            // Time passes.
            6 => {
                now = now.wrapping_add(u32::from(op & 0x1F) * 40);
                let mask = [mask_seed, 5, 5, 5];
                let queued = conn.queued();
                let was_open = conn.state() == State::Open;
                match conn.poll(now, mask) {
                    Some(timeout) => {
                        assert!(!ended, "a timeout after the close was reported");
                        ended = true;
                        assert_eq!(conn.state(), State::Closed);
                        match timeout {
                            Timeout::KeepAlive => {
                                // The transport aborts: what was queued is cut off.
                                assert_eq!(conn.queued(), 0);
                                aborted = true;
                            }
                            // (The close is skipped only when the heap limit has no
                            // room for it.)
                            Timeout::Message if was_open && limit == usize::MAX => {
                                let close = [&[0x03, 0xF0][..], b"message timeout"].concat();
                                let frame = expected_frame(role, 0x88, &close, mask);
                                assert!(conn.pending().ends_with(&frame), "no 1008 close");
                            }
                            _ => {}
                        }
                    }
                    None if conn.queued() != queued => {
                        // The keep-alive ping, nothing else.
                        assert!(was_open && conn.queued() > queued);
                        let ping = expected_frame(role, 0x89, b"", mask);
                        assert_eq!(&conn.pending()[queued..], &ping[..], "keep-alive ping");
                    }
                    None => {}
                }
                // What the lwIP layer does with an idle engine: park it and wake it
                // later; the woken engine must carry on as the parked one would.
                if let Some(parked) = conn.park() {
                    assert_eq!(conn.heap_bytes(), 0, "parked with heap");
                    // The poll just now would have queued a due ping (and not parked).
                    assert!(!parked.due(now), "parked with the keep-alive ping due");
                    let idle = cfg.keepalive_idle_ms;
                    if idle != 0 {
                        assert!(parked.due(now.wrapping_add(idle)), "keep-alive lost");
                    }
                    conn = parked.unpark(now);
                    conn.set_heap_limit(limit);
                }
            }
            // Whole rest of the input at once (zero-copy paths).
            _ => {
                let mut chunk = r.rest().to_vec();
                let mask = [mask_seed, 7, 7, 7];
                feed(
                    &mut conn,
                    &cfg,
                    &mut chunk,
                    now,
                    mask,
                    &mut ended,
                    &mut message,
                    limit,
                );
            }
        }
        assert!(
            conn.heap_bytes() <= bound,
            "heap {} over bound {bound} for {cfg:?}",
            conn.heap_bytes()
        );
        assert!(
            conn.heap_bytes() <= held_bound,
            "heap {} over the limit {limit}",
            conn.heap_bytes()
        );
        if role == Role::Server && conn.state() == State::Open {
            assert!(conn.queued() <= cfg.max_queue_bytes + 262 + 200);
        }
    }
    wire.extend_from_slice(conn.pending());
    check_wire(&wire, role == Role::Client, role == Role::Server, !aborted);
}

/// Feeds `chunk` until consumed, checking each event.
fn feed(
    conn: &mut Connection,
    cfg: &Config,
    chunk: &mut [u8],
    now: u32,
    mask: [u8; 4],
    ended: &mut bool,
    message: &mut Vec<u8>,
    limit: usize,
) {
    let mut off = 0;
    let mut calls = 0;
    while off < chunk.len() {
        calls += 1;
        assert!(calls <= 2 * chunk.len() + 8, "receive makes no progress");
        let queued_before = conn.queued();
        let role = conn.role();
        let input_len = chunk.len() - off;
        let r = conn.receive(&mut chunk[off..], now, mask);
        assert!(r.consumed <= input_len);
        off += r.consumed;
        let Some(event) = r.event else {
            assert!(r.consumed > 0, "no event and no progress");
            continue;
        };
        assert!(!*ended, "an event after the close: {event:?}");
        match event {
            Event::Request(req) => {
                let _ = (req.method(), req.path(), req.query(), req.is_websocket());
                let _ = req.headers().count() + req.subprotocols().count();
                match mask[0] % 4 {
                    0 => {
                        let _ = conn.accept(None);
                    }
                    1 => {
                        let _ = conn.accept(Some("chat"));
                    }
                    2 => conn.reject(403),
                    _ => {
                        let _ = conn.respond(200, "text/plain", b"hi");
                    }
                }
                if conn.state() == State::Closed {
                    *ended = true;
                }
            }
            Event::Open { protocol } => {
                assert_eq!(role, Role::Client);
                assert!(matches!(protocol, None | Some("chat") | Some("echo")));
            }
            Event::HandshakeFailed(_) => {
                *ended = true;
            }
            Event::Message { text, data } => {
                assert!(data.len() as u64 <= cfg.max_message);
                assert!(!cfg.streaming);
                if text {
                    assert!(
                        core::str::from_utf8(data).is_ok(),
                        "invalid UTF-8 delivered"
                    );
                }
            }
            Event::Chunk {
                text,
                data,
                offset,
                last,
                ..
            } => {
                assert!(cfg.streaming);
                assert_eq!(offset, message.len() as u64, "chunks out of order");
                message.extend_from_slice(data);
                assert!(message.len() as u64 <= cfg.max_message);
                if last {
                    if text {
                        assert!(core::str::from_utf8(message).is_ok(), "invalid UTF-8");
                    }
                    message.clear();
                }
            }
            Event::Ping(payload) => {
                assert!(payload.len() <= 125);
                let payload = payload.to_vec();
                check_pong(conn, cfg, role, &payload, mask, queued_before, limit);
            }
            Event::Pong(payload) => assert!(payload.len() <= 125),
            Event::Closed { code, reason, .. } => {
                assert!(reason.len() <= 123);
                assert!(
                    lwip_ws::proto::is_valid_close_code(code) || code == 1005,
                    "close code {code}"
                );
                *ended = true;
                message.clear();
            }
        }
        if *ended {
            assert_eq!(conn.state(), State::Closed);
        }
    }
}

/// After a ping in state Open, the queue ends with a pong carrying exactly its payload,
/// unless that pong could not fit.
fn check_pong(
    conn: &Connection,
    cfg: &Config,
    role: Role,
    payload: &[u8],
    mask: [u8; 4],
    queued_before: usize,
    limit: usize,
) {
    if conn.state() != State::Open || limit != usize::MAX {
        return;
    }
    let frame = expected_frame(role, 0x8A, payload, mask);
    let fits = queued_before + frame.len() <= cfg.max_queue_bytes;
    if fits {
        assert!(
            conn.pending().ends_with(&frame),
            "pong payload differs from the ping's"
        );
    }
}

/// A control frame as `role` sends it (masked with `mask` by a client); payload ≤ 125.
fn expected_frame(role: Role, first: u8, payload: &[u8], mask: [u8; 4]) -> Vec<u8> {
    let mut frame = vec![first, payload.len() as u8];
    if role == Role::Client {
        frame[1] |= 0x80;
        frame.extend_from_slice(&mask);
        frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    } else {
        frame.extend_from_slice(payload);
    }
    frame
}

/// A server engine, with the first input byte choosing whether the valid request leads.
pub fn run_server(data: &[u8]) {
    let mut r = Reader::new(data);
    let cfg = config(&mut r);
    let flags = r.byte();
    let conn = Connection::server(cfg, 0);
    let prefix: &[u8] = if flags & 1 == 1 { REQUEST } else { b"" };
    drive(conn, cfg, prefix, &mut r, heap_limit(flags));
}

/// A client engine, with the first input byte choosing whether a valid 101 leads.
pub fn run_client(data: &[u8]) {
    let mut r = Reader::new(data);
    let cfg = config(&mut r);
    let flags = r.byte();
    let Ok(mut conn) = Connection::client(cfg, &client_request(), NONCE, 0) else {
        return;
    };
    let n = conn.queued();
    conn.advance(n);
    let prefix = if flags & 1 == 1 {
        response()
    } else {
        Vec::new()
    };
    drive(conn, cfg, &prefix, &mut r, heap_limit(flags));
}
