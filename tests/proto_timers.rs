//! Timers driven by `poll(now)`: the keep-alive ping and its timeout, the message
//! timeout, and the keep-alive of a parked engine.

mod proto_support;

use lwip_ws::proto::frame::{OP_BINARY, OP_CLOSE, OP_PING, OP_PONG, OP_TEXT};
use lwip_ws::proto::{Config, Connection, State, Timeout};
use proto_support::*;

/// An open end whose opening bytes were seen by a `poll` at time 0 (the keep-alive counts
/// from there).
fn open_at_0(client: bool, cfg: Config) -> Connection {
    let mut conn = open_end(client, cfg);
    assert_eq!(conn.poll(0, MASK), None);
    conn
}

/// The queued output as frames, checking that a client's are masked and a server's not.
fn sent(conn: &mut Connection, client: bool) -> Vec<(bool, u8, Vec<u8>)> {
    let bytes = drain(conn);
    if let Some(second) = bytes.get(1) {
        assert_eq!(second & 0x80 != 0, client, "masking of {bytes:?}");
    }
    frames(&bytes)
}

fn no_keepalive() -> Config {
    Config {
        keepalive_idle_ms: 0,
        ..Config::default()
    }
}

/// After `keepalive_idle_ms` without receiving anything the engine queues an empty ping
/// by itself, exactly then and not before (both roles; the client's is masked).
#[test]
fn keepalive_ping_is_sent_after_idle_time_not_before() {
    for client in [false, true] {
        let mut conn = open_at_0(client, Config::default());
        drain(&mut conn);
        assert_eq!(conn.poll(29_999, MASK), None);
        assert_eq!(conn.queued(), 0, "no ping before the idle time");
        assert_eq!(conn.poll(30_000, MASK), None);
        assert_eq!(sent(&mut conn, client), vec![(true, OP_PING, vec![])]);
        assert_eq!(conn.poll(35_000, MASK), None);
        assert_eq!(conn.queued(), 0, "one ping, not one per poll");
        assert_eq!(conn.state(), State::Open);
    }
}

/// No answer to the keep-alive ping within `keepalive_timeout_ms`: `Timeout::KeepAlive`
/// once, state `Closed`, nothing queued (the transport aborts), no event after it.
#[test]
fn keepalive_without_answer_times_out() {
    for client in [false, true] {
        let mut conn = open_at_0(client, Config::default());
        conn.send(true, b"unsent", MASK).unwrap();
        assert_eq!(conn.poll(30_000, MASK), None);
        assert_eq!(conn.poll(39_999, MASK), None);
        assert_eq!(conn.poll(40_000, MASK), Some(Timeout::KeepAlive));
        assert_eq!(conn.state(), State::Closed);
        assert_eq!(conn.queued(), 0, "nothing queued: the peer is gone");
        assert_eq!(conn.poll(50_000, MASK), None, "reported once");
        let log = feed(&mut conn, &from_peer(client, true, OP_PONG, b""));
        assert_eq!(log, vec![], "no event after the timeout");
    }
}

/// The pong cancels the keep-alive timeout, and the next ping comes an idle time after
/// the poll that saw it.
#[test]
fn keepalive_pong_cancels_the_timeout() {
    for client in [false, true] {
        let mut conn = open_at_0(client, Config::default());
        assert_eq!(conn.poll(30_000, MASK), None);
        drain(&mut conn);
        let log = feed(&mut conn, &from_peer(client, true, OP_PONG, b""));
        assert_eq!(log, vec![Ev::Pong(vec![])]);
        assert_eq!(conn.poll(35_000, MASK), None);
        assert_eq!(conn.poll(40_000, MASK), None, "answered: no timeout");
        assert_eq!(conn.poll(64_999, MASK), None);
        assert_eq!(conn.queued(), 0);
        assert_eq!(conn.poll(65_000, MASK), None);
        assert_eq!(sent(&mut conn, client), vec![(true, OP_PING, vec![])]);
        assert_eq!(conn.state(), State::Open);
    }
}

/// Any frame, not only the pong, shows the peer is alive and cancels the timeout.
#[test]
fn keepalive_any_frame_cancels_the_timeout() {
    for client in [false, true] {
        let mut conn = open_at_0(client, Config::default());
        assert_eq!(conn.poll(30_000, MASK), None);
        drain(&mut conn);
        let log = feed(&mut conn, &from_peer(client, true, OP_TEXT, b"hi"));
        assert_eq!(log.len(), 1);
        assert_eq!(conn.poll(39_000, MASK), None);
        assert_eq!(conn.poll(45_000, MASK), None, "answered: no timeout");
        assert_eq!(conn.state(), State::Open);
    }
}

/// `keepalive_idle_ms = 0` sends no ping; `keepalive_timeout_ms = 0` waits for the answer
/// forever.
#[test]
fn keepalive_zero_disables() {
    let mut conn = open_at_0(false, no_keepalive());
    for now in [30_000, 1 << 30, u32::MAX] {
        assert_eq!(conn.poll(now, MASK), None);
        assert_eq!(conn.queued(), 0);
    }
    let cfg = Config {
        keepalive_timeout_ms: 0,
        ..Config::default()
    };
    let mut conn = open_at_0(false, cfg);
    assert_eq!(conn.poll(30_000, MASK), None);
    assert_eq!(frames(&drain(&mut conn)), vec![(true, OP_PING, vec![])]);
    assert_eq!(conn.poll(1 << 30, MASK), None);
    assert_eq!(conn.state(), State::Open);
}

/// The 1008 close a message timeout queues while open.
fn message_timeout_close() -> Vec<(bool, u8, Vec<u8>)> {
    vec![(true, OP_CLOSE, close_payload(1008, "message timeout"))]
}

/// Feed `bytes` at time 0 (seen by a poll at 0), then check the message timeout fires at
/// 30000 and not before, with the 1008 close queued.
fn assert_message_timeout(client: bool, bytes: &[u8]) {
    let mut conn = open_end(client, no_keepalive());
    assert_eq!(feed(&mut conn, bytes), vec![]);
    assert_eq!(conn.poll(0, MASK), None);
    assert_eq!(conn.poll(29_999, MASK), None);
    assert_eq!(conn.poll(30_000, MASK), Some(Timeout::Message));
    assert_eq!(conn.state(), State::Closed);
    assert_eq!(sent(&mut conn, client), message_timeout_close());
    assert_eq!(conn.poll(60_000, MASK), None, "reported once");
}

/// A frame header that stops arriving half-way times out with 1008.
#[test]
fn message_timeout_for_a_stalled_header() {
    for client in [false, true] {
        let frame = from_peer(client, true, OP_BINARY, &[1; 300]);
        assert_message_timeout(client, &frame[..3]);
    }
}

/// A frame payload that stops arriving half-way times out with 1008.
#[test]
fn message_timeout_for_a_stalled_payload() {
    for client in [false, true] {
        let frame = from_peer(client, true, OP_BINARY, &[1; 300]);
        assert_message_timeout(client, &frame[..100]);
    }
}

/// A fragmented message whose final fragment never comes times out with 1008.
#[test]
fn message_timeout_for_an_unfinished_fragmented_message() {
    for client in [false, true] {
        assert_message_timeout(client, &from_peer(client, false, OP_TEXT, b"part"));
    }
}

/// Each byte that arrives restarts the message timeout.
#[test]
fn message_timeout_counts_from_the_last_byte() {
    let frame = from_peer(false, true, OP_BINARY, &[1; 300]);
    let mut conn = open_end(false, no_keepalive());
    feed(&mut conn, &frame[..50]);
    assert_eq!(conn.poll(0, MASK), None);
    feed(&mut conn, &frame[50..60]);
    assert_eq!(conn.poll(20_000, MASK), None);
    assert_eq!(conn.poll(49_999, MASK), None);
    assert_eq!(conn.poll(50_000, MASK), Some(Timeout::Message));
}

/// An idle connection between messages never gets a message timeout.
#[test]
fn no_message_timeout_between_messages() {
    for client in [false, true] {
        let mut conn = open_end(client, no_keepalive());
        let log = feed(&mut conn, &from_peer(client, true, OP_BINARY, b"whole"));
        assert_eq!(log.len(), 1);
        for now in [0, 30_000, 1 << 20, 1 << 30] {
            assert_eq!(conn.poll(now, MASK), None);
        }
        assert_eq!(conn.state(), State::Open);
        assert_eq!(conn.queued(), 0);
    }
}

/// `message_timeout_ms = 0` turns the message timeout off.
#[test]
fn message_timeout_zero_disables() {
    let cfg = Config {
        message_timeout_ms: 0,
        ..no_keepalive()
    };
    let mut conn = open_end(false, cfg);
    feed(&mut conn, &from_peer(false, false, OP_TEXT, b"part"));
    assert_eq!(conn.poll(0, MASK), None);
    assert_eq!(conn.poll(1 << 30, MASK), None);
    assert_eq!(conn.state(), State::Open);
}

/// A parked engine keeps the keep-alive: `due` turns true exactly at the idle time, and
/// the unparked engine's poll sends the ping then and not before (both roles).
#[test]
fn parked_engine_keepalive_is_due_at_idle_time() {
    for client in [false, true] {
        let mut conn = open_at_0(client, Config::default());
        drain(&mut conn);
        assert_eq!(conn.poll(500, MASK), None);
        let parked = conn.park().expect("idle engine parks");
        assert!(!parked.due(500));
        assert!(!parked.due(29_999));
        assert!(parked.due(30_000));
        let mut early = parked.unpark(10_000);
        assert_eq!(early.poll(29_999, MASK), None);
        assert_eq!(
            early.queued(),
            0,
            "unparking does not restart the idle time late"
        );
        let mut conn = parked.unpark(30_000);
        assert_eq!(conn.poll(30_000, MASK), None);
        assert_eq!(sent(&mut conn, client), vec![(true, OP_PING, vec![])]);
        assert_eq!(conn.poll(40_000, MASK), Some(Timeout::KeepAlive));
    }
}

/// An engine waiting for the keep-alive answer does not park (its timeout must run).
#[test]
fn engine_waiting_for_pong_does_not_park() {
    let mut conn = open_at_0(false, Config::default());
    assert_eq!(conn.poll(30_000, MASK), None);
    drain(&mut conn);
    assert_eq!(conn.poll(30_500, MASK), None);
    assert_eq!(conn.poll(31_000, MASK), None);
    assert!(conn.park().is_none());
    feed(&mut conn, &c2s(true, OP_PONG, b""));
    assert_eq!(conn.poll(31_500, MASK), None);
    assert_eq!(conn.poll(32_000, MASK), None);
    let parked = conn.park().expect("answered: parks again");
    assert!(!parked.due(61_499));
    assert!(parked.due(61_500));
}
