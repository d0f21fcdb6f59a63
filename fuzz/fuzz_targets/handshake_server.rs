//! The server's request head parser and RFC 6455 §4.2.1 validation on arbitrary bytes,
//! and the engine's handshake fed the same bytes in two pieces split at the first byte.
#![no_main]
use libfuzzer_sys::fuzz_target;
use lwip_ws::proto::http::{parse_request, HeadStatus};
use lwip_ws::proto::{Config, Connection, Event, Request, State};

fuzz_target!(|data: &[u8]| {
    let (split, head) = match data.split_first() {
        Some((&b, rest)) => (usize::from(b), rest),
        None => return,
    };
    match parse_request(head) {
        HeadStatus::Complete(n) => {
            assert!(n <= head.len());
            let req = Request::from_head(&head[..n]);
            let _ = (req.method(), req.target(), req.path(), req.query());
            let _ = req.headers().count() + req.subprotocols().count();
            if let Ok(accept) = req.validate() {
                assert_eq!(req.method(), "GET");
                assert!(req.header("host").is_some());
                assert!(accept.iter().all(|b| b.is_ascii_graphic()));
            }
        }
        HeadStatus::Partial | HeadStatus::Invalid => {}
    }
    // The engine: the same bytes in two pieces give one decision, and the head buffer
    // never grows past the limit.
    let cfg = Config {
        max_header_bytes: 512,
        ..Config::default()
    };
    let mut conn = Connection::server(cfg, 0);
    let mut bytes = head.to_vec();
    let split = split.min(bytes.len());
    let (a, b) = bytes.split_at_mut(split);
    let mut decisions = 0;
    'pieces: for piece in [a, b] {
        let mut off = 0;
        while off < piece.len() && conn.state() != State::Closed {
            let r = conn.receive(&mut piece[off..], 0, [0; 4]);
            assert!(r.consumed > 0 || r.event.is_some());
            off += r.consumed;
            match r.event {
                Some(Event::Request(_)) => {
                    decisions += 1;
                    let _ = conn.accept(None);
                }
                Some(Event::HandshakeFailed(_)) => decisions += 1,
                _ => {}
            }
            assert!(conn.heap_bytes() <= 512 + 2048);
            if conn.state() == State::Open {
                // The rest would be frames: not this target's concern.
                break 'pieces;
            }
        }
    }
    assert!(decisions <= 1);
});
