//! Shared helpers for the proto integration tests: frame builders, a driver that feeds
//! bytes in chosen chunks, and an owned, normalized event log.
#![allow(dead_code)]

use lwip_ws::proto::conn::{Event, HandshakeFailure, Received};
use lwip_ws::proto::frame::{apply_mask, encode_header};
use lwip_ws::proto::{ClientRequest, Config, Connection, Initiator, State};

pub const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];
pub const NONCE: [u8; 16] = *b"the sample nonce";

/// The RFC 6455 §1.3 opening handshake request.
pub const REQUEST: &[u8] = b"GET /chat?room=1 HTTP/1.1\r\n\
Host: server.example.com\r\n\
Upgrade: websocket\r\n\
Connection: Upgrade\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
Origin: http://example.com\r\n\
Sec-WebSocket-Protocol: chat, superchat\r\n\
Sec-WebSocket-Version: 13\r\n\r\n";

/// The server's answer to [`REQUEST`] when it selects `chat`.
pub const RESPONSE: &[u8] = b"HTTP/1.1 101 Switching Protocols\r\n\
Upgrade: websocket\r\n\
Connection: Upgrade\r\n\
Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\
Sec-WebSocket-Protocol: chat\r\n\r\n";

/// An owned event, for comparing logs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ev {
    Request(Vec<u8>),
    Open(Option<String>),
    HandshakeFailed(HandshakeFailure),
    Message {
        text: bool,
        data: Vec<u8>,
    },
    Chunk {
        text: bool,
        data: Vec<u8>,
        offset: u64,
        frame_len: u64,
        last: bool,
    },
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    Closed {
        code: u16,
        reason: String,
        initiator: Initiator,
    },
}

impl From<&Event<'_>> for Ev {
    fn from(e: &Event<'_>) -> Ev {
        match e {
            Event::Request(r) => Ev::Request(
                r.headers()
                    .flat_map(|(n, v)| [n.as_bytes(), v].concat())
                    .collect(),
            ),
            Event::Open { protocol } => Ev::Open(protocol.map(str::to_owned)),
            Event::HandshakeFailed(f) => Ev::HandshakeFailed(*f),
            Event::Message { text, data } => Ev::Message {
                text: *text,
                data: data.to_vec(),
            },
            Event::Chunk {
                text,
                data,
                offset,
                frame_len,
                last,
            } => Ev::Chunk {
                text: *text,
                data: data.to_vec(),
                offset: *offset,
                frame_len: *frame_len,
                last: *last,
            },
            Event::Ping(p) => Ev::Ping(p.to_vec()),
            Event::Pong(p) => Ev::Pong(p.to_vec()),
            Event::Closed {
                code,
                reason,
                initiator,
            } => Ev::Closed {
                code: *code,
                reason: (*reason).to_owned(),
                initiator: *initiator,
            },
        }
    }
}

/// A frame as a peer would send it (masked when `mask` is given).
pub fn frame(fin: bool, opcode: u8, payload: &[u8], mask: Option<[u8; 4]>) -> Vec<u8> {
    let (header, n) = encode_header(fin, opcode, payload.len() as u64, mask);
    let mut out = header[..n].to_vec();
    let start = out.len();
    out.extend_from_slice(payload);
    if let Some(key) = mask {
        apply_mask(&mut out[start..], key, 0);
    }
    out
}

/// A frame a client sends to the server (masked with [`MASK`]).
pub fn c2s(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
    frame(fin, opcode, payload, Some(MASK))
}

/// A frame a server sends to the client (unmasked).
pub fn s2c(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
    frame(fin, opcode, payload, None)
}

/// Feed one input completely (calling `receive` until it is consumed); server requests
/// are accepted with the first offered subprotocol.
pub fn feed_one(conn: &mut Connection, input: &mut [u8], log: &mut Vec<Ev>) {
    let mut off = 0;
    loop {
        let Received { consumed, event } = conn.receive(&mut input[off..], 0, MASK);
        off += consumed;
        let Some(event) = event else {
            assert!(
                off == input.len() || conn.state() == State::Closed,
                "stalled at {off}"
            );
            return;
        };
        let accept = matches!(event, Event::Request(_));
        let protocol = match &event {
            Event::Request(r) => r.subprotocols().next().map(str::to_owned),
            _ => None,
        };
        log.push(Ev::from(&event));
        if accept {
            let _ = conn.accept(protocol.as_deref());
        }
        if off == input.len() && conn.state() == State::Closed {
            return;
        }
    }
}

/// Feed `bytes` cut into pieces of the given sizes (the last piece takes the rest).
pub fn feed_chunked(conn: &mut Connection, bytes: &[u8], sizes: &[usize]) -> Vec<Ev> {
    let mut log = Vec::new();
    let mut rest = bytes;
    let mut sizes = sizes.iter().copied();
    while !rest.is_empty() {
        let n = sizes.next().unwrap_or(rest.len()).clamp(1, rest.len());
        let mut piece = rest[..n].to_vec();
        feed_one(conn, &mut piece, &mut log);
        rest = &rest[n..];
    }
    log
}

/// Feed everything as one input.
pub fn feed(conn: &mut Connection, bytes: &[u8]) -> Vec<Ev> {
    feed_chunked(conn, bytes, &[bytes.len()])
}

/// Streaming chunks merged into whole messages (so logs from any chunking, and from both
/// delivery modes, compare equal).
pub fn normalize(log: &[Ev]) -> Vec<Ev> {
    let mut out = Vec::new();
    let mut partial: Option<(bool, Vec<u8>)> = None;
    for e in log {
        match e {
            Ev::Chunk {
                text, data, last, ..
            } => {
                let entry = partial.get_or_insert_with(|| (*text, Vec::new()));
                entry.1.extend_from_slice(data);
                if *last {
                    let (text, data) = partial.take().unwrap_or_default();
                    out.push(Ev::Message { text, data });
                }
            }
            other => out.push(other.clone()),
        }
    }
    out
}

/// Take and return everything the engine queued.
pub fn drain(conn: &mut Connection) -> Vec<u8> {
    let out = conn.pending().to_vec();
    conn.advance(out.len());
    out
}

/// A server that completed the §1.3 handshake (its 101 drained).
pub fn open_server(cfg: Config) -> Connection {
    let mut conn = Connection::server(cfg, 0);
    let log = feed(&mut conn, REQUEST);
    assert!(matches!(log.as_slice(), [Ev::Request(_)]), "{log:?}");
    assert_eq!(conn.state(), State::Open);
    drain(&mut conn);
    conn
}

/// The client request matching [`REQUEST`]'s key and protocols.
pub fn client_request() -> ClientRequest<'static> {
    ClientRequest {
        host: "server.example.com",
        path: "/chat",
        protocols: &["chat", "superchat"],
        extra_headers: &[("Origin", "http://example.com")],
    }
}

/// A client that got [`RESPONSE`] (its request drained).
pub fn open_client(cfg: Config) -> Connection {
    let mut conn = Connection::client(cfg, &client_request(), NONCE, 0).expect("client");
    drain(&mut conn);
    let log = feed(&mut conn, RESPONSE);
    assert_eq!(log, vec![Ev::Open(Some("chat".into()))]);
    conn
}

/// An open client (`client`) or server, as [`open_client`] / [`open_server`] make them.
pub fn open_end(client: bool, cfg: Config) -> Connection {
    if client {
        open_client(cfg)
    } else {
        open_server(cfg)
    }
}

/// A frame as the peer of a client (`client`) or of a server sends it: unmasked from a
/// server, masked from a client.
pub fn from_peer(client: bool, fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
    if client {
        s2c(fin, opcode, payload)
    } else {
        c2s(fin, opcode, payload)
    }
}

/// The single close event expected from a protocol failure.
pub fn failed(code: u16) -> Ev {
    let reason = match code {
        1007 => "invalid UTF-8",
        1009 => "message too big",
        1011 => "out of memory",
        1013 => "heap budget",
        _ => "protocol error",
    };
    Ev::Closed {
        code,
        reason: reason.into(),
        initiator: Initiator::ProtocolError,
    }
}

/// Parse the frames in `bytes` (as sent by either side) into (fin, opcode, payload).
pub fn frames(bytes: &[u8]) -> Vec<(bool, u8, Vec<u8>)> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let (h, n) = lwip_ws::proto::frame::parse_header(rest).expect("whole header");
        let len = h.len as usize;
        let mut payload = rest[n..n + len].to_vec();
        if let Some(key) = h.mask {
            apply_mask(&mut payload, key, 0);
        }
        out.push((h.fin, h.opcode, payload));
        rest = &rest[n + len..];
    }
    out
}

/// The close frame payload for `code` and `reason`.
pub fn close_payload(code: u16, reason: &str) -> Vec<u8> {
    [&code.to_be_bytes()[..], reason.as_bytes()].concat()
}
