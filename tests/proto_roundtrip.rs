//! Client ↔ server round trips in memory: two engines pumping `pending()` into each
//! other's `receive`, with property tests over payloads, kinds, fragmentation and
//! chunking.

mod proto_support;

use lwip_ws::proto::{Config, Connection, Initiator, State};
use proptest::prelude::*;
use proto_support::*;

fn pump(from: &mut Connection, to: &mut Connection, sizes: &[usize]) -> Vec<Ev> {
    let bytes = drain(from);
    feed_chunked(to, &bytes, sizes)
}

fn connect(client_cfg: Config, server_cfg: Config) -> (Connection, Connection) {
    let mut client = Connection::client(client_cfg, &client_request(), NONCE, 0).unwrap();
    let mut server = Connection::server(server_cfg, 0);
    let log = pump(&mut client, &mut server, &[7]);
    assert!(matches!(log.as_slice(), [Ev::Request(_)]));
    assert_eq!(
        pump(&mut server, &mut client, &[5]),
        vec![Ev::Open(Some("chat".into()))]
    );
    (client, server)
}

#[derive(Clone, Debug)]
struct Msg {
    text: bool,
    data: Vec<u8>,
    /// Fragment lengths (the rest goes in the last fragment).
    cuts: Vec<usize>,
}

fn message() -> impl Strategy<Value = Msg> {
    let text = ".{0,300}".prop_map(|s: String| (true, s.into_bytes()));
    let binary = prop::collection::vec(any::<u8>(), 0..3000).prop_map(|d| (false, d));
    (
        prop_oneof![text, binary],
        prop::collection::vec(0usize..400, 0..4),
    )
        .prop_map(|((text, data), cuts)| Msg { text, data, cuts })
}

fn send(conn: &mut Connection, m: &Msg, mask: [u8; 4]) {
    if m.cuts.is_empty() {
        conn.send(m.text, &m.data, mask).unwrap();
        return;
    }
    let mut rest = &m.data[..];
    for &cut in &m.cuts {
        let n = cut.min(rest.len());
        conn.send_fragment(m.text, &rest[..n], false, mask).unwrap();
        rest = &rest[n..];
    }
    conn.send_fragment(m.text, rest, true, mask).unwrap();
}

/// The full life of a connection: handshake, messages both ways, ping, close.
#[test]
fn rfc6455_round_trip_with_close_handshake() {
    let (mut client, mut server) = connect(Config::default(), Config::default());
    client.send(true, "grüße".as_bytes(), [1, 2, 3, 4]).unwrap();
    client.ping(b"are you there", [5, 6, 7, 8]).unwrap();
    let log = pump(&mut client, &mut server, &[3]);
    assert_eq!(
        log,
        vec![
            Ev::Message {
                text: true,
                data: "grüße".as_bytes().to_vec()
            },
            Ev::Ping(b"are you there".to_vec())
        ]
    );
    server.send(false, &[0, 1, 2], [0; 4]).unwrap();
    assert_eq!(
        pump(&mut server, &mut client, &[]),
        vec![
            Ev::Pong(b"are you there".to_vec()),
            Ev::Message {
                text: false,
                data: vec![0, 1, 2]
            }
        ]
    );
    client.close(4001, "see you", [9; 4], 0).unwrap();
    assert_eq!(
        pump(&mut client, &mut server, &[]),
        vec![Ev::Closed {
            code: 4001,
            reason: "see you".into(),
            initiator: Initiator::Remote
        }]
    );
    assert_eq!(
        pump(&mut server, &mut client, &[]),
        vec![Ev::Closed {
            code: 4001,
            reason: String::new(),
            initiator: Initiator::Local
        }]
    );
    assert_eq!(
        (client.state(), server.state()),
        (State::Closed, State::Closed)
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// RFC 6455 §5.4/§5.6: whatever the messages, fragmentation, masks and chunking, both
    /// sides receive exactly what the other sent, in either delivery mode.
    #[test]
    fn rfc6455_messages_round_trip(
        msgs in prop::collection::vec(message(), 1..8),
        sizes in prop::collection::vec(1usize..500, 0..50),
        mask: [u8; 4],
        streaming: bool,
    ) {
        let cfg = Config { streaming, ..Config::default() };
        let (mut client, mut server) = connect(cfg, cfg);
        let expected: Vec<Ev> = msgs.iter().map(|m| Ev::Message { text: m.text, data: m.data.clone() }).collect();
        for m in &msgs {
            send(&mut client, m, mask);
            send(&mut server, m, mask);
        }
        prop_assert_eq!(normalize(&pump(&mut client, &mut server, &sizes)), expected.clone());
        prop_assert_eq!(normalize(&pump(&mut server, &mut client, &sizes)), expected);
    }
}
