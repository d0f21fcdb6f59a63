//! No input reaches a panic (RFC 6455 §10.7: handle invalid data safely): arbitrary bytes,
//! and valid streams with bytes flipped, fed in arbitrary chunks to both roles.

mod proto_support;

use lwip_ws::proto::{Config, Connection, State};
use proptest::prelude::*;
use proto_support::*;

fn config(streaming: bool) -> Config {
    Config {
        max_message: 4096,
        start_size: 16,
        expand_size: 100,
        streaming,
        ..Config::default()
    }
}

/// Feed bytes in chunks, checking the receive contract on every call.
fn run(conn: &mut Connection, bytes: &[u8], sizes: &[usize]) {
    let log = feed_chunked(conn, bytes, sizes);
    let closes = log
        .iter()
        .filter(|e| matches!(e, Ev::Closed { .. } | Ev::HandshakeFailed(_)))
        .count();
    assert!(closes <= 1, "closed at most once: {log:?}");
    if closes == 1 {
        assert_eq!(conn.state(), State::Closed);
    }
    assert!(conn.queued() <= 65536 + 14 + 262);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    /// Arbitrary bytes after a valid handshake, either role, either delivery mode.
    #[test]
    fn rfc6455_10_7_arbitrary_frames_never_panic(
        bytes in prop::collection::vec(any::<u8>(), 0..600),
        sizes in prop::collection::vec(1usize..64, 0..20),
        streaming: bool,
    ) {
        run(&mut open_server(config(streaming)), &bytes, &sizes);
        run(&mut open_client(config(streaming)), &bytes, &sizes);
    }

    /// Arbitrary bytes as the handshake itself.
    #[test]
    fn rfc6455_10_7_arbitrary_heads_never_panic(
        bytes in prop::collection::vec(any::<u8>(), 0..600),
        sizes in prop::collection::vec(1usize..64, 0..20),
    ) {
        run(&mut Connection::server(config(false), 0), &bytes, &sizes);
        let mut client = Connection::client(config(false), &client_request(), NONCE, 0).unwrap();
        drain(&mut client);
        run(&mut client, &bytes, &sizes);
    }

    /// Valid traffic with some bytes flipped: close to real, so it reaches deep states.
    #[test]
    fn rfc6455_10_7_mutated_streams_never_panic(
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        sizes in prop::collection::vec(1usize..64, 0..20),
        streaming: bool,
    ) {
        let mut bytes = [
            REQUEST.to_vec(),
            c2s(false, 1, "żółw".as_bytes()),
            c2s(true, 9, b"ping"),
            c2s(true, 0, b" ok"),
            c2s(true, 2, &[7; 200]),
            c2s(true, 8, &close_payload(1000, "x")),
        ]
        .concat();
        for (at, x) in flips {
            let i = at.index(bytes.len());
            bytes[i] ^= x;
        }
        run(&mut Connection::server(config(streaming), 0), &bytes, &sizes);
    }
}
