//! Any chunking of the same bytes gives the same events (RFC 6455 §5.4: intermediaries
//! may re-chunk; TCP certainly does).

mod proto_support;

use lwip_ws::proto::frame::{OP_BINARY, OP_CLOSE, OP_CONTINUATION, OP_PING, OP_PONG, OP_TEXT};
use lwip_ws::proto::{Config, Connection};
use proptest::prelude::*;
use proto_support::*;

/// The request and a conversation covering every frame kind, masked, as a client sends it.
fn client_stream() -> Vec<u8> {
    let big: Vec<u8> = (0..300u32).map(|i| (i * 13) as u8).collect();
    [
        REQUEST.to_vec(),
        c2s(true, OP_TEXT, "héllo €".as_bytes()),
        c2s(false, OP_TEXT, &"𝄞 clef".as_bytes()[..2]),
        c2s(true, OP_PING, b"mid"),
        c2s(false, OP_CONTINUATION, &"𝄞 clef".as_bytes()[2..5]),
        c2s(true, OP_CONTINUATION, &"𝄞 clef".as_bytes()[5..]),
        c2s(true, OP_BINARY, &big),
        c2s(true, OP_PONG, b""),
        c2s(true, OP_TEXT, b""),
        c2s(true, OP_CLOSE, &close_payload(1000, "bye")),
    ]
    .concat()
}

/// The 101 and frames as a server sends them (unmasked), ending in a bad frame.
fn server_stream() -> Vec<u8> {
    [
        RESPONSE.to_vec(),
        s2c(false, OP_BINARY, &[1; 130]),
        s2c(true, OP_CONTINUATION, &[2; 70_000]),
        s2c(true, OP_PING, &[3; 125]),
        s2c(true, OP_TEXT, &[b'o', b'k', 0xED, 0xA0, 0x80]),
    ]
    .concat()
}

fn server_run(cfg: Config, sizes: &[usize]) -> (Vec<Ev>, Vec<u8>) {
    let mut conn = Connection::server(cfg, 0);
    let log = feed_chunked(&mut conn, &client_stream(), sizes);
    (normalize(&log), drain(&mut conn))
}

fn client_run(cfg: Config, sizes: &[usize]) -> (Vec<Ev>, Vec<u8>) {
    let cfg = Config {
        max_message: 1 << 20,
        ..cfg
    };
    let mut conn = Connection::client(cfg, &client_request(), NONCE, 0).unwrap();
    drain(&mut conn);
    let log = feed_chunked(&mut conn, &server_stream(), sizes);
    (normalize(&log), drain(&mut conn))
}

fn modes() -> [Config; 2] {
    [
        Config::default(),
        Config {
            streaming: true,
            ..Config::default()
        },
    ]
}

/// The reference runs are what we expect a user to see.
#[test]
fn reference_runs_show_every_event() {
    let (log, out) = server_run(Config::default(), &[]);
    assert_eq!(log.len(), 8, "{log:?}");
    assert_eq!(
        log.last(),
        Some(&Ev::Closed {
            code: 1000,
            reason: "bye".into(),
            initiator: lwip_ws::proto::Initiator::Remote
        })
    );
    assert!(out.starts_with(b"HTTP/1.1 101 "));
    let (log, _) = client_run(Config::default(), &[]);
    assert_eq!(log.last(), Some(&failed(1007)));
    assert_eq!(log.len(), 4, "{log:?}");
}

/// RFC 6455 §5.4: one byte at a time gives the same events and output, in both modes.
#[test]
fn rfc6455_5_4_one_byte_chunks_match() {
    let whole_server = server_run(Config::default(), &[]);
    let whole_client = client_run(Config::default(), &[]);
    for cfg in modes() {
        assert_eq!(server_run(cfg, &[1; 100_000]), whole_server);
        assert_eq!(client_run(cfg, &[1; 100_000]), whole_client);
    }
}

/// RFC 6455 §5.4: splitting the stream in two at every offset gives the same events.
#[test]
fn rfc6455_5_4_split_at_every_offset_matches() {
    let whole = server_run(Config::default(), &[]);
    let len = client_stream().len();
    for cfg in modes() {
        for cut in 1..len {
            assert_eq!(server_run(cfg, &[cut]), whole, "cut at {cut}");
        }
    }
    let whole = client_run(Config::default(), &[]);
    let len = server_stream().len();
    for cut in (1..len)
        .step_by(97)
        .chain(RESPONSE.len() - 3..RESPONSE.len() + 300)
    {
        assert_eq!(client_run(Config::default(), &[cut]), whole, "cut at {cut}");
    }
}

proptest! {
    /// RFC 6455 §5.4: random chunkings give the same events, in both modes.
    #[test]
    fn rfc6455_5_4_random_chunks_match(sizes in prop::collection::vec(1usize..700, 1..200), streaming: bool) {
        let cfg = Config { streaming, ..Config::default() };
        prop_assert_eq!(server_run(cfg, &sizes), server_run(Config::default(), &[]));
        prop_assert_eq!(client_run(cfg, &sizes), client_run(Config::default(), &[]));
    }
}
