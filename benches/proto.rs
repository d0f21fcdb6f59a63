//! Receive-path throughput of the proto engine next to tungstenite and memcpy, measured in
//! the same run on the same bytes. Prints figures; never asserts on time.
//!
//! What is compared, per frame size (masked binary client→server frames, batched so that
//! each pass covers about 1 MiB):
//! - ours in place: `Connection::receive` on the wire bytes as they sit in memory (what
//!   the lwIP layer does with a pbuf): header decode, unmask in place, `Event::Message`
//!   pointing into the input. Unmasking is an XOR, so decoding the same buffer again
//!   costs exactly the same; only binary frames are used so content does not matter.
//! - ours + copy in: the same after copying the wire bytes into the receive slice first,
//!   i.e. with the one copy tungstenite also makes.
//! - tungstenite: `WebSocket::from_raw_socket(.., Role::Server, ..)` over an in-memory
//!   reader of the same bytes, `read()` until every message is out (it copies from the
//!   reader into its buffer, decodes, unmasks, and yields `Message::Binary`).
//! - memcpy: `copy_from_slice` of the same bytes (the physical baseline).
//!
//! Handshake: parse + validate + build the 101 for the RFC 6455 §1.3 request, ours
//! (`receive` + `accept`) against `tungstenite::accept` over an in-memory stream.

use std::hint::black_box;
use std::io::{Read, Write};
use std::time::{Duration, Instant};

use lwip_ws::proto::frame::{apply_mask, encode_header, OP_BINARY};
use lwip_ws::proto::{Config, Connection, Event};

const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];
const PASS: Duration = Duration::from_millis(400);
const REQUEST: &[u8] = b"GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n\
Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
Origin: http://example.com\r\nSec-WebSocket-Version: 13\r\n\r\n";

/// Reads from a byte slice, discards writes.
struct Wire<'a> {
    data: &'a [u8],
}

impl Read for Wire<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.data.read(buf)
    }
}

impl Write for Wire<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn cfg() -> Config {
    Config {
        max_message: 2 << 20,
        ..Config::default()
    }
}

/// `count` masked binary frames of `size` bytes each.
fn wire_bytes(size: usize, count: usize) -> Vec<u8> {
    let payload: Vec<u8> = (0..size).map(|i| (i * 31) as u8).collect();
    let (header, n) = encode_header(true, OP_BINARY, size as u64, Some(MASK));
    let mut frame = header[..n].to_vec();
    frame.extend_from_slice(&payload);
    apply_mask(&mut frame[n..], MASK, 0);
    frame.repeat(count)
}

/// An open server engine (handshake done, 101 drained).
fn open_server() -> Connection {
    let mut conn = Connection::server(cfg(), 0);
    let mut req = REQUEST.to_vec();
    let _ = conn.receive(&mut req, 0, MASK);
    conn.accept(None).expect("valid request");
    let n = conn.pending().len();
    conn.advance(n);
    conn
}

/// Feed all of `input`; returns the bytes delivered in messages.
fn ours_receive(conn: &mut Connection, input: &mut [u8]) -> usize {
    let mut off = 0;
    let mut delivered = 0;
    while off < input.len() {
        let r = conn.receive(&mut input[off..], 0, MASK);
        off += r.consumed;
        if let Some(Event::Message { data, .. }) = r.event {
            delivered += black_box(data).len();
        }
    }
    delivered
}

fn tungstenite_receive(bytes: &[u8], count: usize) -> usize {
    use tungstenite::protocol::{Role, WebSocket, WebSocketConfig};
    let config = WebSocketConfig::default().max_message_size(Some(64 << 20));
    let mut ws = WebSocket::from_raw_socket(Wire { data: bytes }, Role::Server, Some(config));
    let mut delivered = 0;
    for _ in 0..count {
        match ws.read() {
            Ok(tungstenite::Message::Binary(b)) => delivered += black_box(b).len(),
            other => panic!("tungstenite: {other:?}"),
        }
    }
    delivered
}

/// Run `pass` repeatedly for about [`PASS`]; returns wire bytes per second in MB/s.
fn rate(wire_len: usize, mut pass: impl FnMut()) -> f64 {
    pass();
    let start = Instant::now();
    let mut passes = 0u64;
    while start.elapsed() < PASS {
        pass();
        passes += 1;
    }
    (passes as f64 * wire_len as f64) / start.elapsed().as_secs_f64() / 1e6
}

fn main() {
    println!("lwip-ws proto receive path vs tungstenite 0.30 vs memcpy (same bytes, same run)");
    println!("masked binary client->server frames; MB/s of wire bytes; see benches/proto.rs");
    println!();
    println!(
        "{:>8} {:>8} {:>12} {:>12} {:>12} {:>10} {:>8} {:>8} {:>8}",
        "frame",
        "frames",
        "ours",
        "ours+copy",
        "tungstenite",
        "memcpy",
        "o/tung",
        "oc/tung",
        "o/memcpy"
    );
    for size in [16usize, 1024, 64 * 1024, 1024 * 1024] {
        let count = ((1 << 20) / size).max(1);
        let pristine = wire_bytes(size, count);
        let len = pristine.len();

        let mut conn = open_server();
        let mut in_place = pristine.clone();
        let ours = rate(len, || {
            assert_eq!(ours_receive(&mut conn, &mut in_place), size * count);
        });

        let mut conn = open_server();
        let mut slice = vec![0u8; len];
        let ours_copy = rate(len, || {
            slice.copy_from_slice(&pristine);
            assert_eq!(ours_receive(&mut conn, &mut slice), size * count);
        });

        let tung = rate(len, || {
            assert_eq!(tungstenite_receive(&pristine, count), size * count);
        });

        let mut dst = vec![0u8; len];
        let memcpy = rate(len, || {
            dst.copy_from_slice(black_box(&pristine));
            black_box(&mut dst);
        });

        println!(
            "{:>8} {:>8} {:>12.0} {:>12.0} {:>12.0} {:>10.0} {:>8.2} {:>8.2} {:>8.2}",
            size,
            count,
            ours,
            ours_copy,
            tung,
            memcpy,
            ours / tung,
            ours_copy / tung,
            ours / memcpy
        );
    }

    let ours = rate(1, || {
        let mut conn = Connection::server(cfg(), 0);
        let mut req = REQUEST.to_vec();
        let r = conn.receive(&mut req, 0, MASK);
        assert!(matches!(r.event, Some(Event::Request(_))));
        conn.accept(None).expect("valid");
        black_box(conn.pending());
    }) * 1e6;
    let tung = rate(1, || {
        let ws = tungstenite::accept(Wire { data: REQUEST }).expect("valid");
        black_box(ws);
    }) * 1e6;
    println!();
    println!("handshake (parse + validate + 101): ours {ours:.0}/s, tungstenite {tung:.0}/s, ratio {:.2}", ours / tung);
}
