//! The closing handshake (RFC 6455 §5.5.1, §7) and close codes (§7.4).

mod proto_support;

use lwip_ws::proto::frame::{OP_BINARY, OP_CLOSE, OP_PING, OP_TEXT};
use lwip_ws::proto::{is_valid_close_code, Config, Initiator, SendError, State, Timeout};
use proto_support::*;

fn closed(code: u16, reason: &str, initiator: Initiator) -> Ev {
    Ev::Closed {
        code,
        reason: reason.into(),
        initiator,
    }
}

/// RFC 6455 §7.4.1/§7.4.2: codes that may not appear on the wire fail with 1002.
#[test]
fn rfc6455_7_4_invalid_close_codes_fail_1002() {
    for code in [0u16, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535] {
        let mut server = open_server(Config::default());
        let log = feed(&mut server, &c2s(true, OP_CLOSE, &close_payload(code, "")));
        assert_eq!(log, vec![failed(1002)], "code {code}");
        assert!(!is_valid_close_code(code));
    }
}

/// RFC 6455 §7.4: valid codes are reported and echoed back.
#[test]
fn rfc6455_7_4_valid_close_codes_are_echoed() {
    for code in [1000u16, 1001, 1003, 1007, 1011, 1014, 3000, 4999] {
        let mut server = open_server(Config::default());
        let log = feed(
            &mut server,
            &c2s(true, OP_CLOSE, &close_payload(code, "bye")),
        );
        assert_eq!(
            log,
            vec![closed(code, "bye", Initiator::Remote)],
            "code {code}"
        );
        assert_eq!(
            frames(&drain(&mut server)),
            vec![(true, OP_CLOSE, code.to_be_bytes().to_vec())]
        );
        assert_eq!(server.state(), State::Closed);
    }
}

/// RFC 6455 §5.5.1: a 1-byte close payload cannot hold a code (1002).
#[test]
fn rfc6455_5_5_1_one_byte_close_payload_fails_1002() {
    let mut server = open_server(Config::default());
    assert_eq!(
        feed(&mut server, &c2s(true, OP_CLOSE, &[3])),
        vec![failed(1002)]
    );
}

/// RFC 6455 §5.5.1: the close reason must be UTF-8 (1007).
#[test]
fn rfc6455_5_5_1_invalid_utf8_reason_fails_1007() {
    let mut server = open_server(Config::default());
    let payload = [&1000u16.to_be_bytes()[..], &[0xC3, 0x28]].concat();
    assert_eq!(
        feed(&mut server, &c2s(true, OP_CLOSE, &payload)),
        vec![failed(1007)]
    );
}

/// RFC 6455 §7.1.5: an empty close is reported as 1005 and answered with an empty close.
#[test]
fn rfc6455_7_1_5_empty_close_reports_1005() {
    let mut client = open_client(Config::default());
    assert_eq!(
        feed(&mut client, &s2c(true, OP_CLOSE, b"")),
        vec![closed(1005, "", Initiator::Remote)]
    );
    assert_eq!(frames(&drain(&mut client)), vec![(true, OP_CLOSE, vec![])]);
}

/// RFC 6455 §5.5.1: a close split across inputs (control payload buffered) still works.
#[test]
fn rfc6455_5_5_1_close_split_across_inputs() {
    let mut server = open_server(Config::default());
    let bytes = c2s(true, OP_CLOSE, &close_payload(4000, "going away now"));
    let log = feed_chunked(&mut server, &bytes, &[8, 3]);
    assert_eq!(log, vec![closed(4000, "going away now", Initiator::Remote)]);
}

/// RFC 6455 §7.1.2: after our close, data is refused, the peer's answer completes the
/// close, and it is reported as locally initiated.
#[test]
fn rfc6455_7_1_2_local_close_handshake() {
    let mut server = open_server(Config::default());
    server.close(1000, "done", MASK, 0).unwrap();
    assert_eq!(server.state(), State::Closing);
    assert_eq!(
        frames(&drain(&mut server)),
        vec![(true, OP_CLOSE, close_payload(1000, "done"))]
    );
    assert_eq!(server.send(true, b"late", MASK), Err(SendError::NotOpen));
    assert_eq!(server.ping(b"", MASK), Err(SendError::NotOpen));
    assert_eq!(server.close(1000, "", MASK, 0), Err(SendError::NotOpen));
    let log = feed(&mut server, &c2s(true, OP_CLOSE, &close_payload(1000, "")));
    assert_eq!(log, vec![closed(1000, "", Initiator::Local)]);
    assert!(server.pending().is_empty(), "no second close frame");
    assert_eq!(server.state(), State::Closed);
}

/// RFC 6455 §5.5.1: data received while closing is checked but discarded (documented), and
/// pings are not answered after our close frame.
#[test]
fn rfc6455_5_5_1_data_while_closing_is_discarded() {
    let mut server = open_server(Config::default());
    server.close(1001, "", MASK, 0).unwrap();
    drain(&mut server);
    let bytes = [c2s(true, OP_TEXT, b"late"), c2s(true, OP_PING, b"?")].concat();
    assert_eq!(feed(&mut server, &bytes), vec![Ev::Ping(b"?".to_vec())]);
    assert!(server.pending().is_empty());
    assert_eq!(
        feed(&mut server, &c2s(true, OP_TEXT, &[0xFF])),
        vec![failed(1007)]
    );
    assert!(server.pending().is_empty(), "our close was already sent");
}

/// RFC 6455 §7.1.1: the peer has `close_timeout_ms` to answer (u32 ms wrap around).
#[test]
fn rfc6455_7_1_1_close_timeout() {
    let cfg = Config {
        close_timeout_ms: 50,
        ..Config::default()
    };
    let mut server = open_server(cfg);
    assert_eq!(server.poll(u32::MAX, MASK), None, "no timeout while open");
    server.close(1000, "", MASK, u32::MAX - 20).unwrap();
    assert_eq!(server.poll(28, MASK), None);
    assert_eq!(server.poll(29, MASK), Some(Timeout::Close));
    assert_eq!(server.state(), State::Closed);
}

/// RFC 6455 §7.1.4: once closed, nothing more is read.
#[test]
fn rfc6455_7_1_4_input_after_close_is_ignored() {
    let mut server = open_server(Config::default());
    feed(&mut server, &c2s(true, OP_CLOSE, &close_payload(1000, "")));
    drain(&mut server);
    let mut more = c2s(true, OP_BINARY, b"after");
    let len = more.len();
    let r = server.receive(&mut more, 0, MASK);
    assert_eq!((r.consumed, r.event), (len, None));
    assert!(server.pending().is_empty());
}

/// RFC 6455 §7.4: we only send codes an endpoint may send, and reasons that fit.
#[test]
fn rfc6455_7_4_close_refuses_unsendable_codes() {
    let mut server = open_server(Config::default());
    for code in [999u16, 1004, 1005, 1006, 1015, 2000, 5000] {
        assert_eq!(
            server.close(code, "", MASK, 0),
            Err(SendError::InvalidClose)
        );
    }
    assert_eq!(
        server.close(1000, &"x".repeat(124), MASK, 0),
        Err(SendError::InvalidClose)
    );
    assert_eq!(server.state(), State::Open);
    assert!(server.pending().is_empty());
    assert_eq!(server.close(4000, &"x".repeat(123), MASK, 0), Ok(()));
}

/// RFC 6455 §7.1.7: after failing the connection, a client's close frame is masked and
/// carries the code and a reason.
#[test]
fn rfc6455_7_1_7_failure_close_frame_carries_code_and_reason() {
    let mut client = open_client(Config::default());
    assert_eq!(feed(&mut client, &s2c(true, 0x3, b"")), vec![failed(1002)]);
    assert_eq!(
        frames(&drain(&mut client)),
        vec![(true, OP_CLOSE, close_payload(1002, "protocol error"))]
    );
}
