//! Message assembly (RFC 6455 §5.4, §5.6), UTF-8 (§8.1) and the two delivery modes.

mod proto_support;

use lwip_ws::proto::frame::{OP_BINARY, OP_CLOSE, OP_CONTINUATION, OP_PING, OP_TEXT};
use lwip_ws::proto::{Config, Event, State};
use proto_support::*;

fn msg(text: bool, data: &[u8]) -> Ev {
    Ev::Message {
        text,
        data: data.to_vec(),
    }
}

fn streaming() -> Config {
    Config {
        streaming: true,
        ..Config::default()
    }
}

/// RFC 6455 §5.4: control frames may be injected between fragments.
#[test]
fn rfc6455_5_4_control_frames_between_fragments() {
    let bytes = [
        c2s(false, OP_TEXT, b"Hel"),
        c2s(true, OP_PING, b"p"),
        c2s(false, OP_CONTINUATION, b""),
        c2s(true, OP_CONTINUATION, b"lo"),
    ]
    .concat();
    let mut server = open_server(Config::default());
    assert_eq!(
        feed(&mut server, &bytes),
        vec![Ev::Ping(b"p".to_vec()), msg(true, b"Hello")]
    );
    assert_eq!(
        frames(&drain(&mut server)),
        vec![(true, 0xA, b"p".to_vec())]
    );
}

/// RFC 6455 §5.4: a continuation frame without a message to continue fails with 1002.
#[test]
fn rfc6455_5_4_continuation_without_start_fails_1002() {
    let mut server = open_server(Config::default());
    assert_eq!(
        feed(&mut server, &c2s(true, OP_CONTINUATION, b"x")),
        vec![failed(1002)]
    );
}

/// RFC 6455 §5.4: a new data frame inside a fragmented message fails with 1002.
#[test]
fn rfc6455_5_4_new_message_inside_fragmented_fails_1002() {
    let bytes = [c2s(false, OP_TEXT, b"a"), c2s(true, OP_BINARY, b"b")].concat();
    let mut server = open_server(Config::default());
    assert_eq!(feed(&mut server, &bytes), vec![failed(1002)]);
}

/// RFC 6455 §8.1: invalid UTF-8 fails with 1007 as soon as it is seen, before the end of
/// the message.
#[test]
fn rfc6455_8_1_invalid_utf8_fails_fast_1007() {
    for bad in [
        &[0xC0, 0x80][..],
        &[0xF5],
        &[0xE0, 0x80],
        &[0xED, 0xA0],
        &[0xF4, 0x90],
    ] {
        let mut server = open_server(Config::default());
        let first = [b"ok ", bad].concat();
        assert_eq!(
            feed(&mut server, &c2s(false, OP_TEXT, &first)),
            vec![failed(1007)],
            "{bad:x?}"
        );
        let sent = frames(&drain(&mut server));
        assert_eq!(sent[0].2[..2], 1007u16.to_be_bytes());
    }
}

/// RFC 6455 §8.1: a code point may be split across fragments; a truncated one is only an
/// error at the end of the message.
#[test]
fn rfc6455_8_1_utf8_across_fragments() {
    let euro = "€".as_bytes();
    let bytes = [
        c2s(false, OP_TEXT, &euro[..1]),
        c2s(false, OP_CONTINUATION, &euro[1..2]),
        c2s(true, OP_CONTINUATION, &euro[2..]),
    ]
    .concat();
    let mut server = open_server(Config::default());
    assert_eq!(feed(&mut server, &bytes), vec![msg(true, euro)]);
    let mut server = open_server(Config::default());
    assert_eq!(feed(&mut server, &c2s(false, OP_TEXT, &euro[..2])), vec![]);
    assert_eq!(
        feed(&mut server, &c2s(true, OP_CONTINUATION, b"")),
        vec![failed(1007)]
    );
}

/// RFC 6455 §8.1: binary messages are not checked.
#[test]
fn rfc6455_8_1_binary_is_not_utf8_checked() {
    let mut server = open_server(Config::default());
    assert_eq!(
        feed(&mut server, &c2s(true, OP_BINARY, &[0xFF, 0xC0])),
        vec![msg(false, &[0xFF, 0xC0])]
    );
}

/// RFC 6455 §10.4: a fragmented message over `max_message` fails with 1009 at the header
/// of the frame that would exceed it.
#[test]
fn rfc6455_10_4_fragmented_message_over_limit_fails_1009() {
    let cfg = Config {
        max_message: 10,
        ..Config::default()
    };
    let mut server = open_server(cfg);
    assert_eq!(feed(&mut server, &c2s(false, OP_BINARY, &[1; 6])), vec![]);
    assert_eq!(
        feed(&mut server, &c2s(false, OP_CONTINUATION, &[2; 4])),
        vec![]
    );
    let next = c2s(true, OP_CONTINUATION, &[3; 1]);
    assert_eq!(
        feed(&mut server, &next[..6]),
        vec![failed(1009)],
        "refused from the header alone"
    );
}

/// RFC 6455 §10.4: a frame header may claim any length up to `max_message`; what is held
/// follows what arrives (a claimed 2^46 bytes never reaches the allocator, which would
/// fail it with 1011 on 64-bit targets, nor the address space limit on 32-bit ones).
#[test]
fn rfc6455_10_4_huge_announced_length_allocates_only_what_arrives() {
    let cfg = Config {
        max_message: u64::MAX,
        ..Config::default()
    };
    let mut server = open_server(cfg);
    let before = server.heap_bytes();
    let mut bytes = vec![0x82, 0xFF];
    bytes.extend_from_slice(&(1u64 << 46).to_be_bytes());
    bytes.extend_from_slice(&MASK);
    bytes.push(0);
    assert_eq!(feed(&mut server, &bytes), vec![]);
    assert_eq!(server.state(), State::Open);
    assert!(server.heap_bytes() - before <= 1024);
}

/// RFC 6455 §5.4 with whole-message delivery: the buffer grows from `start_size` in
/// `expand_size` steps, ends each message with a 0 byte, is reused by the next messages
/// without growing, and is trimmed back to `start_size` at the next `poll`.
#[test]
fn rfc6455_5_4_reassembly_buffer_grows_in_steps_and_is_reused() {
    let cfg = Config {
        start_size: 100,
        expand_size: 50,
        ..Config::default()
    };
    let mut server = open_server(cfg);
    let queue = server.heap_bytes();
    let bytes = [
        c2s(false, OP_TEXT, &[b'a'; 120]),
        c2s(true, OP_CONTINUATION, &[b'b'; 60]),
    ]
    .concat();
    let mut input = bytes.clone();
    let mut off = 0;
    let mut seen = false;
    while off < input.len() {
        let r = server.receive(&mut input[off..], 0, MASK);
        off += r.consumed;
        if let Some(Event::Message { text, data }) = r.event {
            assert!(text);
            assert_eq!(data.len(), 180);
            let at = data.as_ptr();
            // The 0 after the message, through a borrow that covers it (reading past
            // `data` itself would be outside its borrow: Miri reports that).
            let whole = server
                .delivered_message_mut()
                .expect("reassembled in the buffer");
            assert_eq!(whole.as_ptr(), at);
            assert_eq!(whole.len(), 181);
            assert_eq!(whole[180], 0);
            seen = true;
        }
    }
    assert!(seen);
    assert_eq!(
        server.heap_bytes() - queue,
        181,
        "100 + 50 for the first frame, capped at the 120 + 1 it needs; + 60 for the second"
    );
    for _ in 0..3 {
        assert_eq!(feed(&mut server, &bytes).len(), 1);
        assert_eq!(
            server.heap_bytes() - queue,
            181,
            "the next messages reuse the buffer"
        );
    }
    assert_eq!(server.poll(1, MASK), None);
    assert_eq!(
        server.heap_bytes(),
        101 + queue.min(100 + 14),
        "a busy connection's poll trims it to start_size + its 0 byte (and the drained queue \
         to start_size + a frame header)"
    );
}

/// RFC 6455 §5.4 streaming mode: pieces arrive in order with offsets, no buffering, and
/// the last one is marked.
#[test]
fn rfc6455_5_4_streaming_delivers_chunks() {
    let bytes = [
        c2s(false, OP_TEXT, b"Hel"),
        c2s(true, OP_CONTINUATION, b"lo"),
    ]
    .concat();
    let mut server = open_server(streaming());
    let heap = server.heap_bytes();
    let log = feed_chunked(&mut server, &bytes, &[7, 2]);
    assert_eq!(
        log,
        vec![
            Ev::Chunk {
                text: true,
                data: b"H".to_vec(),
                offset: 0,
                frame_len: 3,
                last: false
            },
            Ev::Chunk {
                text: true,
                data: b"el".to_vec(),
                offset: 1,
                frame_len: 3,
                last: false
            },
            Ev::Chunk {
                text: true,
                data: b"lo".to_vec(),
                offset: 3,
                frame_len: 2,
                last: true
            },
        ]
    );
    assert_eq!(server.heap_bytes(), heap, "streaming never buffers");
    assert_eq!(normalize(&log), vec![msg(true, b"Hello")]);
}

/// RFC 6455 §5.6: empty messages are messages too, in both modes.
#[test]
fn rfc6455_5_6_empty_messages() {
    let bytes = [
        c2s(true, OP_TEXT, b""),
        c2s(false, OP_BINARY, b""),
        c2s(true, OP_CONTINUATION, b""),
    ]
    .concat();
    let mut server = open_server(Config::default());
    assert_eq!(
        feed(&mut server, &bytes),
        vec![msg(true, b""), msg(false, b"")]
    );
    let mut server = open_server(streaming());
    assert_eq!(
        normalize(&feed(&mut server, &bytes)),
        vec![msg(true, b""), msg(false, b"")]
    );
}

/// RFC 6455 §8.1 in streaming mode: invalid UTF-8 fails before the bad piece is handed out.
#[test]
fn rfc6455_8_1_streaming_invalid_utf8_fails_1007() {
    let mut server = open_server(streaming());
    let log = feed(&mut server, &c2s(true, OP_TEXT, &[b'a', 0xFF]));
    assert_eq!(log, vec![failed(1007)]);
    assert_eq!(server.state(), State::Closed);
}

/// After a large message a connection keeps its buffers until the next `poll`, which
/// trims them to `start_size` bytes of receive buffer and of drained send queue: a large
/// message's memory goes back to the heap within a poll interval instead of sitting
/// idle (firmware heaps are small), and a second poll without traffic frees the rest.
#[test]
fn large_message_buffers_are_released_by_the_next_poll() {
    let cfg = Config {
        start_size: 256,
        expand_size: 4096,
        max_message: 1 << 20,
        max_queue_bytes: (1 << 20) + 14,
        ..Config::default()
    };
    let mut server = open_server(cfg);
    let big = [
        c2s(false, OP_BINARY, &[1; 10_000]),
        c2s(true, OP_CONTINUATION, &[2; 10_000]),
    ]
    .concat();
    assert_eq!(feed(&mut server, &big).len(), 1);
    server.send(false, &[3; 15_000], MASK).unwrap();
    drain(&mut server);
    assert_eq!(feed(&mut server, &c2s(true, OP_PING, b"x")).len(), 1);
    drain(&mut server);
    assert!(server.heap_bytes() >= 20_000, "kept until the next poll");
    assert_eq!(server.poll(1, MASK), None);
    assert!(
        server.heap_bytes() <= 256 + 1 + 256 + 14,
        "heap after a busy poll {} is more than one start_size message each way",
        server.heap_bytes()
    );
    assert_eq!(server.poll(2, MASK), None);
    assert_eq!(server.heap_bytes(), 0, "idle: nothing held");
}

/// An idle connection gives a large message's buffer back at the next `poll` (the lwIP
/// layer polls every 500 ms), not only when more input arrives.
#[test]
fn poll_releases_a_delivered_large_message() {
    let cfg = Config {
        start_size: 256,
        max_message: 1 << 20,
        ..Config::default()
    };
    let mut server = open_server(cfg);
    let big = [
        c2s(false, OP_BINARY, &[1; 5_000]),
        c2s(true, OP_CONTINUATION, &[2; 5_000]),
    ]
    .concat();
    let mut input = big.clone();
    let mut off = 0;
    let mut delivered = false;
    while off < input.len() {
        let r = server.receive(&mut input[off..], 0, MASK);
        off += r.consumed;
        delivered |= matches!(r.event, Some(Event::Message { .. }));
    }
    assert!(delivered);
    assert!(server.heap_bytes() >= 10_000, "the message is still held");
    assert_eq!(server.poll(1, MASK), None);
    assert!(
        server.heap_bytes() <= 256 + 1 + 256 + 14,
        "idle heap after poll: {}",
        server.heap_bytes()
    );
}

/// Whole frames in one input (the fast path) get exactly what the general path gives:
/// a valid message in place, and every rule's close code when a rule is broken.
#[test]
fn whole_frames_in_one_input_follow_every_rule() {
    let small = Config {
        max_message: 8,
        ..Config::default()
    };
    let mut server = open_server(small);
    let mut input = c2s(true, OP_TEXT, "héllo".as_bytes());
    let start = input.as_ptr() as usize;
    let total = input.len();
    let r = server.receive(&mut input, 0, MASK);
    assert_eq!(r.consumed, total);
    match r.event {
        Some(Event::Message { text: true, data }) => {
            assert_eq!(data, "héllo".as_bytes());
            let at = data.as_ptr() as usize;
            assert!(at > start && at < start + 32, "delivered in place");
        }
        other => panic!("{other:?}"),
    }
    let cases: [(Vec<u8>, u16); 5] = [
        (c2s(true, OP_TEXT, &[b'a', 0xC3, 0x28]), 1007),
        (c2s(true, OP_TEXT, &[b'a', 0xE2, 0x82]), 1007),
        (c2s(true, OP_BINARY, &[0; 9]), 1009),
        (s2c(true, OP_BINARY, b"unmasked"), 1002),
        (c2s(false, 0x3, b"x"), 1002),
    ];
    for (bytes, code) in cases {
        let mut server = open_server(small);
        assert_eq!(
            feed(&mut server, &bytes),
            vec![failed(code)],
            "{bytes:02x?}"
        );
    }
}

/// Memory follows the bytes received, not the bytes claimed: a 15-byte header announcing
/// 60000 bytes followed by one payload byte holds `start_size` bytes, not 60000.
#[test]
fn announced_length_does_not_reserve_memory() {
    let mut server = open_server(Config::default());
    let before = server.heap_bytes();
    let mut bytes = c2s(true, OP_BINARY, &[7u8; 60_000]);
    bytes.truncate(2 + 2 + 4 + 1);
    assert_eq!(feed(&mut server, &bytes), vec![]);
    let held = server.heap_bytes() - before;
    assert!(held <= 1024, "{held} bytes held for one received byte");
}

/// A large message fed piece by piece keeps the buffer within the bound documented on
/// `Config::expand_size` at every step, grows geometrically (few reallocations, not one
/// per `expand_size`), and is delivered whole.
#[test]
fn receive_buffer_stays_within_documented_bound() {
    let cfg = Config {
        max_message: 1 << 20,
        start_size: 256,
        expand_size: 512,
        ..Config::default()
    };
    let payload: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    for piece in [1000usize, 1460, 4093] {
        let mut server = open_server(cfg);
        let before = server.heap_bytes();
        let bytes = c2s(true, OP_BINARY, &payload);
        let header = 2 + 8 + 4;
        let mut log = feed(&mut server, &bytes[..header]);
        let mut received = 0usize;
        let mut capacities = vec![];
        for chunk in bytes[header..].chunks(piece) {
            log.extend(feed(&mut server, chunk));
            received += chunk.len();
            let cap = server.heap_bytes() - before;
            if received < payload.len() {
                let bound = 256usize.max(received + 1 + 512usize.max(received / 4));
                assert!(cap <= bound, "{cap} > {bound} after {received} bytes");
            }
            if capacities.last() != Some(&cap) {
                capacities.push(cap);
            }
        }
        assert_eq!(log, vec![msg(false, &payload)], "piece {piece}");
        assert!(
            capacities.len() <= 30,
            "{} reallocations for 300000 bytes: {capacities:?}",
            capacities.len()
        );
    }
}

/// A heap limit set by the transport is never exceeded by the receive buffer: a message
/// that needs more fails the connection with 1013 "heap budget" (try again later), and
/// the close frame still goes out (the buffer's memory is given back first).
#[test]
fn heap_limit_fails_receive_with_1013() {
    let mut server = open_server(Config::default());
    let limit = server.heap_bytes() + 3000;
    server.set_heap_limit(limit);
    let bytes = c2s(true, OP_BINARY, &[5u8; 5000]);
    let mut log = vec![];
    for chunk in bytes.chunks(500) {
        log.extend(feed(&mut server, chunk));
        assert!(
            server.heap_bytes() <= limit,
            "{} > {limit}",
            server.heap_bytes()
        );
    }
    assert_eq!(log, vec![failed(1013)]);
    assert_eq!(
        frames(&drain(&mut server)),
        vec![(true, OP_CLOSE, close_payload(1013, "heap budget"))]
    );
    // Within the limit, the same message is delivered.
    let mut server = open_server(Config::default());
    server.set_heap_limit(server.heap_bytes() + 6000);
    let log = feed_chunked(&mut server, &bytes, &[500; 20]);
    assert_eq!(log, vec![msg(false, &[5u8; 5000])]);
}

/// Under a heap limit that is already spent, a flood of pings cannot grow the send queue
/// (pongs are budgeted: they replace each other or are skipped), while the close frame of
/// a connection failed for the budget still goes out, past the limit by its own size.
#[test]
fn heap_limit_budgets_pongs_but_not_the_closing_frame() {
    let mut server = open_server(Config::default());
    let limit = server.heap_bytes() + 200;
    server.set_heap_limit(limit);
    let pings: Vec<u8> = (0..50)
        .flat_map(|i: u8| c2s(true, OP_PING, &[i; 100]))
        .collect();
    feed(&mut server, &pings);
    assert!(
        server.heap_bytes() <= limit,
        "{} > {limit}",
        server.heap_bytes()
    );
    let sent = frames(&drain(&mut server));
    assert!(
        !sent.is_empty() && sent.len() < 50,
        "some pongs, not 50: {}",
        sent.len()
    );
    // A message that does not fit ends the connection with 1013, said in a close frame.
    let big = c2s(true, OP_BINARY, &[1u8; 4000]);
    let log: Vec<_> = big.chunks(500).flat_map(|c| feed(&mut server, c)).collect();
    assert_eq!(log, vec![failed(1013)]);
    assert!(
        server.heap_bytes() <= limit + 131,
        "{}",
        server.heap_bytes()
    );
    assert_eq!(
        frames(&drain(&mut server)),
        vec![(true, OP_CLOSE, close_payload(1013, "heap budget"))]
    );
}
