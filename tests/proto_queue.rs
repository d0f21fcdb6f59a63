//! The bounded send queue: whole frames or nothing, pongs bounded (RFC 6455 §5.5.3).

mod proto_support;

use lwip_ws::proto::frame::OP_PING;
use lwip_ws::proto::{Config, SendError};
use proto_support::*;

fn small_queue() -> Config {
    Config {
        max_queue_bytes: 100,
        ..Config::default()
    }
}

/// Frames are queued whole or refused with nothing queued.
#[test]
fn queue_refuses_whole_frames_atomically() {
    let mut server = open_server(small_queue());
    assert_eq!(server.send(false, &[0; 99], MASK), Err(SendError::TooLarge));
    server.send(false, &[1; 60], MASK).unwrap();
    assert_eq!(server.queued(), 62);
    assert_eq!(
        server.send(false, &[2; 60], MASK),
        Err(SendError::WouldBlock)
    );
    assert_eq!(
        server.queued(),
        62,
        "nothing of the refused frame was queued"
    );
    server.advance(10);
    assert_eq!(server.pending().len(), 52);
    assert_eq!(
        server.send(false, &[2; 60], MASK),
        Err(SendError::WouldBlock)
    );
    server.advance(52);
    server.send(false, &[2; 60], MASK).unwrap();
    assert_eq!(frames(&drain(&mut server)), vec![(true, 2, vec![2; 60])]);
}

/// RFC 6455 §5.5.3: with pongs piling up only the latest ping is answered, and the queue
/// stays within `max_queue_bytes` + 131.
#[test]
fn rfc6455_5_5_3_pongs_pile_up_bounded() {
    let mut server = open_server(small_queue());
    server.send(false, &[1; 98], MASK).unwrap();
    for i in 0..50u8 {
        assert_eq!(
            feed(&mut server, &c2s(true, OP_PING, &[i; 125])),
            vec![Ev::Ping(vec![i; 125])]
        );
        assert!(server.queued() <= 100 + 131);
    }
    let sent = frames(&drain(&mut server));
    assert_eq!(sent.len(), 2);
    assert_eq!(
        sent[1],
        (true, 0xA, vec![49; 125]),
        "only the latest ping is answered"
    );
}

/// RFC 6455 §5.5.2/§5.5.3: every ping gets its own pong, in order, when the queue has
/// room: ten pings in one input are answered by ten pongs (both roles; the client masks).
#[test]
fn rfc6455_5_5_3_each_ping_gets_its_own_pong() {
    for client in [false, true] {
        let pings: Vec<u8> = (0..10u8)
            .flat_map(|i| from_peer(client, true, OP_PING, &[i; 3]))
            .collect();
        let mut conn = open_end(client, Config::default());
        let log = feed(&mut conn, &pings);
        assert_eq!(log.len(), 10);
        let sent = frames(&drain(&mut conn));
        let expected: Vec<_> = (0..10u8).map(|i| (true, 0xA, vec![i; 3])).collect();
        assert_eq!(sent, expected, "client {client}");
    }
}

/// A pong the transport already started sending is never rewritten.
#[test]
fn rfc6455_5_5_3_started_pong_is_not_replaced() {
    let mut server = open_server(Config::default());
    feed(&mut server, &c2s(true, OP_PING, b"one"));
    server.advance(1);
    feed(&mut server, &c2s(true, OP_PING, b"two"));
    let rest = drain(&mut server);
    let mut all = vec![0x8A];
    all.extend_from_slice(&rest);
    assert_eq!(
        frames(&all),
        vec![(true, 0xA, b"one".to_vec()), (true, 0xA, b"two".to_vec())]
    );
}

/// Fragment kinds are enforced on sending, and whole sends wait for the end.
#[test]
fn rfc6455_5_4_send_fragment_state() {
    let mut server = open_server(Config::default());
    server.send_fragment(true, b"a", false, MASK).unwrap();
    assert_eq!(server.send(true, b"x", MASK), Err(SendError::FragmentState));
    assert_eq!(
        server.send_fragment(false, b"b", true, MASK),
        Err(SendError::FragmentState)
    );
    server.ping(b"p", MASK).unwrap();
    server.send_fragment(true, b"b", true, MASK).unwrap();
    server.send(false, b"c", MASK).unwrap();
    let sent = frames(&drain(&mut server));
    let opcodes: Vec<_> = sent.iter().map(|(fin, op, _)| (*fin, *op)).collect();
    assert_eq!(opcodes, [(false, 1), (true, 9), (true, 0), (true, 2)]);
    assert_eq!(server.ping(&[0; 126], MASK), Err(SendError::TooLarge));
}

/// Steady state: sending and draining reuses the queue's memory.
#[test]
fn queue_steady_state_does_not_grow() {
    let mut client = open_client(Config::default());
    client.send(false, &[7; 1000], MASK).unwrap();
    drain(&mut client);
    let heap = client.heap_bytes();
    for i in 0..100 {
        client.send(i % 2 == 0, &[b'a'; 1000], MASK).unwrap();
        client.advance(500);
        client.advance(600);
        assert_eq!(client.heap_bytes(), heap);
    }
}

/// Memory per idle connection: the engine is small and holds no heap before the first
/// byte arrives.
#[test]
fn idle_connection_is_small() {
    let size = core::mem::size_of::<lwip_ws::proto::Connection>();
    println!("size_of::<Connection>() = {size}");
    println!("size_of::<Config>() = {}", core::mem::size_of::<Config>());
    // 264 bytes on x86-64 and 180 on i686 when measured (184 on thumbv7em, where u64 is
    // 8-aligned), of which 16 (8) are the constant page body `respond_static` sends by
    // reference instead of copying it to the heap; fail on growth.
    let limit = if cfg!(target_pointer_width = "64") {
        264
    } else {
        184
    };
    assert!(size <= limit, "{size} bytes");
    // What an idle connection keeps of its engine: 72 bytes on x86-64, 56 on i686 and
    // thumbv7em (the `WSS` storage on Cortex-M holds it).
    let parked = core::mem::size_of::<lwip_ws::proto::Parked>();
    println!("size_of::<Parked>() = {parked}");
    let limit = if cfg!(target_pointer_width = "64") {
        72
    } else {
        56
    };
    assert!(parked <= limit, "{parked} bytes");
    assert_eq!(
        lwip_ws::proto::Connection::server(Config::default(), 0).heap_bytes(),
        0
    );
}

/// The small-message fast path builds exactly the frame `send` would queue (masked in the
/// client role), changes nothing in the engine, and steps aside while output is queued.
#[test]
fn encode_message_matches_send_and_defers_to_the_queue() {
    for client in [false, true] {
        let cfg = Config::default();
        let mut conn = open_end(client, cfg);
        let mut out = [0u8; 64];
        let n = conn
            .encode_message(true, b"hello", MASK, &mut out)
            .unwrap()
            .expect("fast path applies with an empty queue");
        assert_eq!(conn.queued(), 0, "the fast path queues nothing");
        conn.send(true, b"hello", MASK).unwrap();
        assert_eq!(&out[..n], drain(&mut conn).as_slice(), "client {client}");

        conn.send(false, b"first", MASK).unwrap();
        assert_eq!(
            conn.encode_message(false, b"second", MASK, &mut out),
            Ok(None),
            "queued output goes first"
        );
        drain(&mut conn);
        assert_eq!(
            conn.encode_message(false, &[0; 64], MASK, &mut out),
            Ok(None),
            "a frame larger than the buffer takes the queue"
        );
        conn.send_fragment(false, b"a", false, MASK).unwrap();
        drain(&mut conn);
        assert_eq!(
            conn.encode_message(false, b"b", MASK, &mut out),
            Err(SendError::FragmentState)
        );
    }
    let small = small_queue();
    let conn = open_server(small);
    let mut big = [0u8; 256];
    assert_eq!(
        conn.encode_message(false, &[0; 99], MASK, &mut big),
        Err(SendError::TooLarge),
        "the queue limit applies as for send"
    );
}

/// The server's zero-copy path: `direct_header` gives the header `send` / `send_fragment`
/// would put before the payload and changes nothing; `sent_direct` then records the frame
/// (fragment state included) and queues the part the transport did not take. It steps
/// aside while output is queued and in the client role (masked frames are copies), and
/// refuses what `send` refuses.
#[test]
fn direct_header_matches_send_and_queues_only_the_rest() {
    let payload: Vec<u8> = (0..300u32).map(|i| i as u8).collect();
    let mut server = open_server(Config::default());
    let (header, n) = server
        .direct_header(true, None, payload.len())
        .unwrap()
        .expect("applies to a server with an empty queue");
    assert_eq!(server.queued(), 0, "nothing changes before sent_direct");
    let mut direct = header[..n].to_vec();
    direct.extend_from_slice(&payload[..100]);
    server.sent_direct(true, None, &payload[100..]).unwrap();
    assert_eq!(server.queued(), 200, "only the rest is queued");
    direct.extend_from_slice(&drain(&mut server));
    server.send(true, &payload, MASK).unwrap();
    assert_eq!(direct, drain(&mut server), "the same frame as send");

    // Fragments: kind and fin as send_fragment; the message stays open until fin.
    let (h, n) = server
        .direct_header(false, Some(false), 3)
        .unwrap()
        .unwrap();
    let mut bytes = h[..n].to_vec();
    bytes.extend_from_slice(b"abc");
    server.sent_direct(false, Some(false), &[]).unwrap();
    assert!(server.is_sending_fragmented());
    assert_eq!(
        server.direct_header(false, None, 1),
        Err(SendError::FragmentState),
        "no whole message inside a fragmented one"
    );
    assert_eq!(
        server.direct_header(true, Some(true), 1),
        Err(SendError::FragmentState),
        "the message's kind cannot change"
    );
    let (h, n) = server.direct_header(false, Some(true), 2).unwrap().unwrap();
    bytes.extend_from_slice(&h[..n]);
    bytes.extend_from_slice(b"de");
    server.sent_direct(false, Some(true), &[]).unwrap();
    assert!(!server.is_sending_fragmented());
    assert_eq!(
        frames(&bytes),
        vec![(false, 0x2, b"abc".to_vec()), (true, 0x0, b"de".to_vec())]
    );

    server.send(false, b"queued", MASK).unwrap();
    assert_eq!(
        server.direct_header(false, None, 10),
        Ok(None),
        "queued output goes first"
    );
    let mut client = open_client(Config::default());
    assert_eq!(
        client.direct_header(false, None, 10),
        Ok(None),
        "a client's frames are masked copies"
    );
    let small = open_server(small_queue());
    assert_eq!(
        small.direct_header(false, None, 99),
        Err(SendError::TooLarge),
        "the queue limit applies as for send"
    );
    client.close(1000, "", MASK, 0).unwrap();
    assert_eq!(
        client.direct_header(false, None, 1),
        Err(SendError::NotOpen)
    );
}

/// With `release_idle` off, `poll` neither trims nor releases: a large message's buffers
/// keep their capacity through any number of idle polls, the next message of that size
/// needs no allocation (the heap stays the same), and the engine never parks.
#[test]
fn with_release_idle_off_buffers_stay_and_the_engine_never_parks() {
    use lwip_ws::proto::frame::OP_BINARY;
    for client in [false, true] {
        let cfg = Config {
            release_idle: false,
            ..Config::default()
        };
        let mut conn = open_end(client, cfg);
        let msg = from_peer(client, true, OP_BINARY, &[5; 5000]);
        assert_eq!(feed_chunked(&mut conn, &msg, &[1460]).len(), 1);
        conn.send(false, &[1; 9000], MASK).unwrap();
        drain(&mut conn);
        let held = conn.heap_bytes();
        assert!(held > 5000 + 9000, "both buffers grown: {held}");
        for now in 1..10 {
            assert_eq!(conn.poll(now, MASK), None);
            assert!(conn.park().is_none(), "never parks (client {client})");
        }
        assert_eq!(conn.heap_bytes(), held, "nothing trimmed or released");
        assert_eq!(feed_chunked(&mut conn, &msg, &[1460]).len(), 1);
        conn.send(false, &[1; 9000], MASK).unwrap();
        drain(&mut conn);
        assert_eq!(conn.heap_bytes(), held, "reused, not grown");
    }
}

/// `receive_with` draws a mask key only for frames the client engine queues itself: a
/// server never asks, a client asks once for a pong and never for data.
#[test]
fn receive_with_draws_mask_keys_only_for_client_replies() {
    use lwip_ws::proto::frame::{OP_BINARY, OP_PING};
    let mut server = open_server(Config::default());
    let mut draws = 0;
    let mut bytes = c2s(true, OP_PING, b"p");
    bytes.extend(c2s(true, OP_BINARY, b"data"));
    let mut input = bytes.clone();
    let mut off = 0;
    while off < input.len() {
        let r = server.receive_with(&mut input[off..], &mut || {
            draws += 1;
            MASK
        });
        off += r.consumed;
    }
    assert_eq!(draws, 0, "a server never masks");
    assert_eq!(
        frames(&drain(&mut server)),
        vec![(true, 0xA, b"p".to_vec())]
    );

    let mut client = open_client(Config::default());
    let mut data = s2c(true, OP_BINARY, b"data");
    let mut draws = 0;
    let r = client.receive_with(&mut data, &mut || {
        draws += 1;
        MASK
    });
    assert!(r.event.is_some());
    assert_eq!(draws, 0, "data needs no key");
    let mut ping = s2c(true, OP_PING, b"p");
    let r = client.receive_with(&mut ping, &mut || {
        draws += 1;
        MASK
    });
    assert!(r.event.is_some());
    assert_eq!(draws, 1, "one key for the pong");
    assert_eq!(client.queued(), 2 + 4 + 1);
}

/// An open connection that moved nothing between two polls gives back all its heap; one
/// that keeps moving messages keeps its buffers (no allocation per message).
#[test]
fn idle_connection_gives_back_its_buffers_at_poll() {
    use lwip_ws::proto::frame::OP_BINARY;
    for client in [false, true] {
        let cfg = Config::default();
        let mut conn = open_end(client, cfg);
        // A message split in two pieces is reassembled in the message buffer.
        let msg = from_peer(client, true, OP_BINARY, &[5; 600]);
        assert_eq!(feed_chunked(&mut conn, &msg, &[300]).len(), 1);
        conn.send(false, &[1; 900], MASK).unwrap();
        drain(&mut conn);
        assert!(conn.heap_bytes() > 0);
        assert_eq!(conn.poll(1, MASK), None);
        assert!(
            conn.heap_bytes() > 0,
            "busy since the last poll: buffers kept"
        );
        let kept = conn.heap_bytes();
        assert_eq!(feed_chunked(&mut conn, &msg, &[300]).len(), 1);
        assert_eq!(conn.heap_bytes(), kept, "kept buffers are reused");
        assert_eq!(conn.poll(2, MASK), None);
        assert_eq!(conn.poll(3, MASK), None);
        assert_eq!(
            conn.heap_bytes(),
            0,
            "idle for a poll interval: no heap (client {client})"
        );
        assert_eq!(
            feed_chunked(&mut conn, &msg, &[300]).len(),
            1,
            "still works"
        );
    }
}

/// An idle open engine can be parked (only when nothing is in progress) and unparked into
/// one that behaves the same, including an unfinished fragmented message it sends.
#[test]
fn an_idle_engine_parks_and_unparks_unchanged() {
    use lwip_ws::proto::frame::{OP_BINARY, OP_TEXT};
    for client in [false, true] {
        let cfg = Config {
            start_size: 64,
            ..Config::default()
        };
        let mut conn = open_end(client, cfg);
        let incoming = |fin: bool, op: u8, p: &[u8]| from_peer(client, fin, op, p);
        assert_eq!(conn.park(), None, "busy since the handshake");
        conn.send_fragment(true, b"part one, ", false, MASK)
            .unwrap();
        drain(&mut conn);
        // Half a fragmented incoming message: not parkable while it is in progress.
        let first = incoming(false, OP_TEXT, b"hel");
        assert!(feed(&mut conn, &first).is_empty());
        assert_eq!(conn.poll(1, MASK), None);
        assert_eq!(conn.poll(2, MASK), None);
        assert_eq!(conn.park(), None, "a message is half received");
        let rest = incoming(true, 0, b"lo");
        assert_eq!(feed(&mut conn, &rest).len(), 1);
        // Half a frame header: not parkable either.
        let whole = incoming(true, OP_BINARY, b"xyz");
        assert!(feed(&mut conn, &whole[..1]).is_empty());
        assert_eq!(conn.poll(3, MASK), None);
        assert_eq!(conn.poll(4, MASK), None);
        assert_eq!(conn.park(), None, "a header is half received");
        assert_eq!(feed(&mut conn, &whole[1..]).len(), 1);
        assert_eq!(conn.poll(5, MASK), None);
        assert_eq!(conn.poll(6, MASK), None);
        let parked = conn.park().expect("idle: parkable");
        assert_eq!(parked.config(), &cfg);
        let mut woken = parked.unpark(7);
        assert_eq!(woken.heap_bytes(), 0);
        assert_eq!(
            woken.send(false, b"x", MASK),
            Err(SendError::FragmentState),
            "the unfinished fragmented message is remembered"
        );
        woken.send_fragment(true, b"part two", true, MASK).unwrap();
        let sent = frames(&drain(&mut woken));
        assert_eq!(
            sent,
            vec![(true, 0, b"part two".to_vec())],
            "client {client}"
        );
        assert_eq!(
            feed(&mut woken, &incoming(true, OP_TEXT, b"again")),
            vec![Ev::Message {
                text: true,
                data: b"again".to_vec()
            }]
        );
    }
}

/// A send that would take the engine's heap over the limit set by the transport is
/// refused with `OutOfMemory` and queues nothing; smaller sends still go.
#[test]
fn heap_limit_refuses_send_with_out_of_memory() {
    for client in [false, true] {
        let mut conn = open_end(client, Config::default());
        let limit = conn.heap_bytes().max(64) + 1000;
        conn.set_heap_limit(limit);
        assert_eq!(
            conn.send(false, &[1u8; 2000], MASK),
            Err(SendError::OutOfMemory)
        );
        assert_eq!(conn.queued(), 0, "nothing queued");
        assert!(conn.heap_bytes() <= limit);
        assert_eq!(conn.send(false, &[1u8; 500], MASK), Ok(()));
        assert!(
            conn.heap_bytes() <= limit,
            "{} > {limit}",
            conn.heap_bytes()
        );
        let sent = frames(&drain(&mut conn));
        assert_eq!(sent, vec![(true, 2, vec![1u8; 500])]);
    }
}
