//! Frame codec rules (RFC 6455 §5.2, §5.3, §5.5) and the §5.7 examples byte for byte.

mod proto_support;

use lwip_ws::proto::frame::{encode_header, parse_header, OP_BINARY, OP_PING, OP_PONG, OP_TEXT};
use lwip_ws::proto::{Config, Event, State};
use proto_support::*;

const HELLO_UNMASKED: [u8; 7] = [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
const HELLO_MASKED: [u8; 11] = [
    0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
];
const HEL: [u8; 5] = [0x01, 0x03, 0x48, 0x65, 0x6c];
const LO: [u8; 4] = [0x80, 0x02, 0x6c, 0x6f];
const PING_HELLO: [u8; 7] = [0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
const PONG_HELLO_MASKED: [u8; 11] = [
    0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
];

fn hello() -> Ev {
    Ev::Message {
        text: true,
        data: b"Hello".to_vec(),
    }
}

/// RFC 6455 §5.7: a single-frame unmasked text message, sent by a server and read by a
/// client.
#[test]
fn rfc6455_5_7_single_frame_unmasked_hello() {
    let mut server = open_server(Config::default());
    server.send(true, b"Hello", MASK).unwrap();
    assert_eq!(drain(&mut server), HELLO_UNMASKED);
    let mut client = open_client(Config::default());
    assert_eq!(feed(&mut client, &HELLO_UNMASKED), vec![hello()]);
}

/// RFC 6455 §5.7: a single-frame masked text message (key 37 fa 21 3d), sent by a client
/// and read by a server.
#[test]
fn rfc6455_5_7_single_frame_masked_hello() {
    let mut client = open_client(Config::default());
    client
        .send(true, b"Hello", [0x37, 0xfa, 0x21, 0x3d])
        .unwrap();
    assert_eq!(drain(&mut client), HELLO_MASKED);
    let mut server = open_server(Config::default());
    assert_eq!(feed(&mut server, &HELLO_MASKED), vec![hello()]);
}

/// RFC 6455 §5.7: a fragmented unmasked text message "Hel" + "lo".
#[test]
fn rfc6455_5_7_fragmented_hello() {
    let mut server = open_server(Config::default());
    server.send_fragment(true, b"Hel", false, MASK).unwrap();
    server.send_fragment(true, b"lo", true, MASK).unwrap();
    assert_eq!(drain(&mut server), [&HEL[..], &LO[..]].concat());
    let mut client = open_client(Config::default());
    assert_eq!(
        feed(&mut client, &[&HEL[..], &LO[..]].concat()),
        vec![hello()]
    );
}

/// RFC 6455 §5.7: an unmasked ping "Hello" and its masked pong "Hello" (§5.5.3: same
/// payload).
#[test]
fn rfc6455_5_7_ping_and_masked_pong() {
    let mut client = open_client(Config::default());
    assert_eq!(
        feed(&mut client, &PING_HELLO),
        vec![Ev::Ping(b"Hello".to_vec())]
    );
    assert_eq!(
        drain(&mut client),
        PONG_HELLO_MASKED,
        "the pong is queued, masked with MASK"
    );
    let mut server = open_server(Config::default());
    server.ping(b"Hello", MASK).unwrap();
    assert_eq!(drain(&mut server), PING_HELLO);
    assert_eq!(
        feed(&mut server, &PONG_HELLO_MASKED),
        vec![Ev::Pong(b"Hello".to_vec())]
    );
    assert!(server.pending().is_empty(), "pongs are not answered");
}

/// RFC 6455 §5.7: 256 bytes binary (16-bit length) and 64 KiB binary (64-bit length).
#[test]
fn rfc6455_5_7_extended_length_headers() {
    let (h, n) = encode_header(true, OP_BINARY, 256, None);
    assert_eq!(&h[..n], [0x82, 0x7E, 0x01, 0x00]);
    let (h, n) = encode_header(true, OP_BINARY, 65536, None);
    assert_eq!(
        &h[..n],
        [0x82, 0x7F, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00]
    );
    let cfg = Config {
        max_message: 1 << 20,
        ..Config::default()
    };
    let mut server = open_server(cfg);
    for len in [256usize, 65536] {
        let payload: Vec<u8> = (0..len).map(|i| i as u8).collect();
        server.send(false, &payload, MASK).unwrap();
        let bytes = drain(&mut server);
        assert_eq!(bytes.len(), len + if len < 65536 { 4 } else { 10 });
        let mut client = open_client(cfg);
        assert_eq!(
            feed(&mut client, &bytes),
            vec![Ev::Message {
                text: false,
                data: payload
            }]
        );
    }
}

/// RFC 6455 §5.2: lengths need not use the minimal encoding on input.
#[test]
fn rfc6455_5_2_non_minimal_length_is_accepted() {
    let mut bytes = vec![0x81, 0xFE, 0x00, 0x05];
    bytes.extend_from_slice(&MASK);
    bytes.extend_from_slice(&HELLO_MASKED[6..]);
    let mut server = open_server(Config::default());
    assert_eq!(feed(&mut server, &bytes), vec![hello()]);
}

fn server_fails(bytes: &[u8], code: u16) {
    let mut server = open_server(Config::default());
    assert_eq!(feed(&mut server, bytes), vec![failed(code)]);
    assert_eq!(server.state(), State::Closed);
    let sent = frames(&drain(&mut server));
    assert_eq!(sent.len(), 1, "exactly our close frame is queued");
    let (fin, opcode, payload) = &sent[0];
    assert!(fin);
    assert_eq!(*opcode, 0x8);
    assert_eq!(payload[..2], code.to_be_bytes());
}

/// RFC 6455 §5.1: a server must close on an unmasked frame (1002).
#[test]
fn rfc6455_5_1_server_rejects_unmasked_frame_1002() {
    server_fails(&HELLO_UNMASKED, 1002);
}

/// RFC 6455 §5.1: a client must close on a masked frame (1002).
#[test]
fn rfc6455_5_1_client_rejects_masked_frame_1002() {
    let mut client = open_client(Config::default());
    assert_eq!(feed(&mut client, &HELLO_MASKED), vec![failed(1002)]);
    let sent = drain(&mut client);
    assert_eq!(sent[1] & 0x80, 0x80, "the client's close frame is masked");
}

/// RFC 6455 §5.2: RSV bits without a negotiated extension fail with 1002.
#[test]
fn rfc6455_5_2_rsv_bits_fail_1002() {
    for rsv in [0x40u8, 0x20, 0x10] {
        let mut bytes = HELLO_MASKED;
        bytes[0] |= rsv;
        server_fails(&bytes, 1002);
    }
}

/// RFC 6455 §5.2: reserved opcodes 3–7 and 0xB–0xF fail with 1002.
#[test]
fn rfc6455_5_2_reserved_opcode_fails_1002() {
    for opcode in (3u8..=7).chain(0xB..=0xF) {
        server_fails(&c2s(true, opcode, b""), 1002);
    }
}

/// RFC 6455 §5.5: control frames longer than 125 bytes fail with 1002.
#[test]
fn rfc6455_5_5_long_control_frame_fails_1002() {
    server_fails(&c2s(true, OP_PING, &[0; 126]), 1002);
    server_fails(&c2s(true, 0x8, &[0; 126]), 1002);
}

/// RFC 6455 §5.5: fragmented control frames fail with 1002.
#[test]
fn rfc6455_5_5_fragmented_control_frame_fails_1002() {
    server_fails(&c2s(false, OP_PING, b"x"), 1002);
    server_fails(&c2s(false, OP_PONG, b""), 1002);
}

/// RFC 6455 §5.2: a 64-bit length must have its most significant bit clear (1002).
#[test]
fn rfc6455_5_2_64bit_length_top_bit_fails_1002() {
    let mut bytes = vec![0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 1];
    bytes.extend_from_slice(&MASK);
    server_fails(&bytes, 1002);
}

/// RFC 6455 §10.4: a frame whose length exceeds the message limit fails with 1009 as soon
/// as its header is read, before any payload.
#[test]
fn rfc6455_10_4_oversized_frame_fails_1009_from_header() {
    let cfg = Config {
        max_message: 1000,
        ..Config::default()
    };
    let mut server = open_server(cfg);
    let header = &c2s(true, OP_BINARY, &[0; 1001])[..8];
    assert_eq!(feed(&mut server, header), vec![failed(1009)]);
    let mut bytes = vec![0x82, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF];
    bytes.extend_from_slice(&MASK);
    let mut server = open_server(cfg);
    assert_eq!(feed(&mut server, &bytes), vec![failed(1009)]);
}

/// RFC 6455 §5.2: the header parser reports every field.
#[test]
fn rfc6455_5_2_header_fields_are_decoded() {
    let (h, n) = parse_header(&HELLO_MASKED).unwrap();
    assert_eq!(n, 6);
    assert!(h.fin);
    assert_eq!(
        (h.rsv, h.opcode, h.len, h.mask),
        (0, OP_TEXT, 5, Some(MASK))
    );
    let (h, _) = parse_header(&HEL).unwrap();
    assert!(!h.fin);
    assert_eq!(parse_header(&HELLO_MASKED[..5]), None, "incomplete");
}

/// RFC 6455 §5.3: the server receives a masked payload unmasked, split at any byte.
#[test]
fn rfc6455_5_3_unmasking_resumes_at_every_offset() {
    let payload: Vec<u8> = (0..300u32).map(|i| (i * 7) as u8).collect();
    let bytes = c2s(true, OP_BINARY, &payload);
    for cut in 0..bytes.len() {
        let mut server = open_server(Config::default());
        let log = feed_chunked(&mut server, &bytes, &[cut]);
        assert_eq!(
            log,
            vec![Ev::Message {
                text: false,
                data: payload.clone()
            }],
            "cut {cut}"
        );
    }
}

/// RFC 6455 §5.6: a frame that sits in one input is delivered in place (zero copy).
#[test]
fn rfc6455_5_6_whole_frame_is_delivered_without_copy() {
    let mut server = open_server(Config::default());
    let mut input = c2s(true, OP_BINARY, &[9; 100]);
    let range = input.as_ptr_range();
    let heap_before = server.heap_bytes();
    let r = server.receive(&mut input, 0, MASK);
    match r.event {
        Some(Event::Message { data, .. }) => {
            assert!(range.contains(&data.as_ptr()), "data points into the input");
            assert_eq!(data, [9; 100]);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        server.heap_bytes(),
        heap_before,
        "no message buffer was allocated"
    );
}
