//! Opening handshake, both roles (RFC 6455 §4).

mod proto_support;

use lwip_ws::proto::http::reason_phrase;
use lwip_ws::proto::{
    accept_key, ClientHandshakeError, ClientRequest, Config, Connection, Event, HandshakeError,
    HandshakeFailure, SendError, State, Timeout,
};
use proto_support::*;

fn server_response_to(request: &[u8]) -> (Vec<Ev>, String, State) {
    let mut conn = Connection::server(Config::default(), 0);
    let log = feed(&mut conn, request);
    let out = String::from_utf8(drain(&mut conn)).expect("ascii response");
    (log, out, conn.state())
}

fn replace(request: &[u8], from: &str, to: &str) -> Vec<u8> {
    String::from_utf8_lossy(request)
        .replace(from, to)
        .into_bytes()
}

/// Feed a request, let the test code decide, and return the validation result.
fn validate(request: &[u8]) -> Result<[u8; 28], HandshakeError> {
    let mut conn = Connection::server(Config::default(), 0);
    let mut input = request.to_vec();
    let r = conn.receive(&mut input, 0, MASK);
    match r.event {
        Some(Event::Request(req)) => req.validate(),
        other => panic!("no request: {other:?}"),
    }
}

fn assert_refused(request: &[u8], error: HandshakeError, status_line: &str) -> String {
    let (log, out, state) = server_response_to(request);
    assert_eq!(
        log.last(),
        Some(&Ev::HandshakeFailed(HandshakeFailure::Server(error))),
        "{log:?}"
    );
    assert!(out.starts_with(status_line), "{out}");
    assert!(out.contains("\r\nConnection: close\r\n"), "{out}");
    let (head, body) = out.split_once("\r\n\r\n").expect("blank line");
    assert!(
        head.contains(&format!("Content-Length: {}", body.len())),
        "{out}"
    );
    assert!(!body.is_empty());
    assert_eq!(state, State::Closed);
    out
}

/// RFC 6455 §1.3: the worked example of the accept key.
#[test]
fn rfc6455_1_3_accept_key_example() {
    assert_eq!(
        &accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
        b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    );
}

/// RFC 6455 §4.2.2: a valid request gets the 101 with the accept value and the
/// subprotocol chosen from the offered ones; the request's fields are readable.
#[test]
fn rfc6455_4_2_2_valid_request_gets_101() {
    let mut conn = Connection::server(Config::default(), 0);
    let mut input = REQUEST.to_vec();
    let r = conn.receive(&mut input, 0, MASK);
    assert_eq!(r.consumed, REQUEST.len());
    let Some(Event::Request(req)) = r.event else {
        panic!("no request")
    };
    assert_eq!(req.method(), "GET");
    assert_eq!(req.path(), "/chat");
    assert_eq!(req.query(), Some("room=1"));
    assert_eq!(req.header("origin"), Some(&b"http://example.com"[..]));
    assert_eq!(req.header("authorization"), None);
    assert!(req.is_websocket());
    assert_eq!(
        req.subprotocols().collect::<Vec<_>>(),
        ["chat", "superchat"]
    );
    assert_eq!(req.headers().count(), 7);
    assert_eq!(conn.accept(Some("chat")), Ok(()));
    assert_eq!(conn.state(), State::Open);
    assert_eq!(drain(&mut conn), RESPONSE);
    // The head buffer is freed; only the send queue keeps its capacity for reuse.
    assert_eq!(conn.heap_bytes(), RESPONSE.len());
}

/// RFC 6455 §4.2.1: `Upgrade` and `Connection` are comma lists compared without case.
#[test]
fn rfc6455_4_2_1_tokens_are_case_insensitive_lists() {
    let req = replace(REQUEST, "Upgrade: websocket", "upgrade: h2c, WebSocket");
    let req = replace(
        &req,
        "Connection: Upgrade",
        "connection: keep-alive,  upgrade ",
    );
    assert!(validate(&req).is_ok());
}

/// RFC 6455 §4.2.1 item 1: a method other than GET gets 405 with `Allow: GET`.
#[test]
fn rfc6455_4_2_1_post_is_405_with_allow() {
    let req = replace(REQUEST, "GET ", "POST ");
    assert_eq!(validate(&req), Err(HandshakeError::MethodNotAllowed));
    let mut conn = Connection::server(Config::default(), 0);
    let _ = feed_chunked(&mut conn, &[], &[]);
    let mut input = req.clone();
    let _ = conn.receive(&mut input, 0, MASK);
    assert_eq!(conn.accept(None), Err(HandshakeError::MethodNotAllowed));
    let out = String::from_utf8(drain(&mut conn)).unwrap();
    assert!(
        out.starts_with("HTTP/1.1 405 Method Not Allowed\r\n"),
        "{out}"
    );
    assert!(out.contains("\r\nAllow: GET\r\n"));
    assert_eq!(conn.state(), State::Closed);
}

/// RFC 6455 §4.2.1 item 1: HTTP/1.1 or higher; HTTP/1.0 gets 400.
#[test]
fn rfc6455_4_2_1_http10_is_400() {
    let req = replace(REQUEST, "HTTP/1.1", "HTTP/1.0");
    assert_eq!(validate(&req), Err(HandshakeError::HttpVersion));
    assert_eq!(HandshakeError::HttpVersion.status(), 400);
}

/// RFC 6455 §4.2.1 item 2: a Host header is required.
#[test]
fn rfc6455_4_2_1_missing_host_is_400() {
    let req = replace(REQUEST, "Host: server.example.com\r\n", "");
    assert_eq!(validate(&req), Err(HandshakeError::MissingHost));
}

/// RFC 6455 §4.2.1 items 3 and 4: Upgrade websocket and Connection Upgrade are required.
#[test]
fn rfc6455_4_2_1_missing_upgrade_tokens_are_400() {
    let req = replace(REQUEST, "Upgrade: websocket", "Upgrade: h2c");
    assert_eq!(validate(&req), Err(HandshakeError::NotUpgrade));
    let req = replace(REQUEST, "Connection: Upgrade", "Connection: keep-alive");
    assert_eq!(validate(&req), Err(HandshakeError::NotConnectionUpgrade));
    let mut conn = Connection::server(Config::default(), 0);
    let mut input = req;
    let _ = conn.receive(&mut input, 0, MASK);
    assert_eq!(conn.accept(None), Err(HandshakeError::NotConnectionUpgrade));
    assert!(drain(&mut conn).starts_with(b"HTTP/1.1 400 Bad Request\r\n"));
}

/// RFC 6455 §4.2.1 item 5: the key must decode to exactly 16 bytes.
#[test]
fn rfc6455_4_2_1_bad_key_is_400() {
    for key in [
        "",
        "not base64!!",
        "dGhlIHNhbXBsZSBub25jZQ",
        "dGhlIHNhbXBsZSBub25jZXg=",
        "AAAAAAAAAAAAAAAAAAAAAAAAAA==",
    ] {
        let req = replace(REQUEST, "dGhlIHNhbXBsZSBub25jZQ==", key);
        assert_eq!(validate(&req), Err(HandshakeError::BadKey), "{key}");
    }
    let req = replace(
        REQUEST,
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n",
        "",
    );
    assert_eq!(validate(&req), Err(HandshakeError::BadKey));
}

/// RFC 6455 §4.2.1 item 6 and §4.4: another version gets 426 naming version 13.
#[test]
fn rfc6455_4_4_wrong_version_is_426_with_version_header() {
    let req = replace(REQUEST, "Version: 13", "Version: 8");
    assert_eq!(validate(&req), Err(HandshakeError::BadVersion));
    let mut conn = Connection::server(Config::default(), 0);
    let mut input = req;
    let _ = conn.receive(&mut input, 0, MASK);
    let _ = conn.accept(None);
    let out = String::from_utf8(drain(&mut conn)).unwrap();
    assert!(
        out.starts_with("HTTP/1.1 426 Upgrade Required\r\n"),
        "{out}"
    );
    assert!(out.contains("\r\nSec-WebSocket-Version: 13\r\n"));
}

/// RFC 6455 §4.2.1 (HTTP syntax, RFC 7230 §3): NUL bytes, obsolete line folding and
/// garbage are refused with 400 before any event.
#[test]
fn rfc6455_4_2_1_malformed_heads_are_400() {
    let nul = replace(REQUEST, "Origin: http", "Origin: ht\0tp");
    let folded = replace(
        REQUEST,
        "Origin: http://example.com\r\n",
        "Origin: http://\r\n example.com\r\n",
    );
    for bad in [
        &nul[..],
        &folded[..],
        b"\x16\x03\x01 hello\r\n\r\n",
        b"GET /\r\n\r\n",
    ] {
        assert_refused(
            bad,
            HandshakeError::Malformed,
            "HTTP/1.1 400 Bad Request\r\n",
        );
    }
}

/// RFC 6455 §4.2.1 with RFC 6585 §5: a head over `max_header_bytes` gets 431.
#[test]
fn rfc6455_4_2_1_oversized_head_is_431() {
    let big = replace(
        REQUEST,
        "Origin:",
        &format!("X-Pad: {}\r\nOrigin:", "a".repeat(5000)),
    );
    let out = assert_refused(
        &big,
        HandshakeError::HeaderTooLarge,
        "HTTP/1.1 431 Request Header Fields Too Large\r\n",
    );
    assert!(out.ends_with("Request Header Fields Too Large\n"));
    // The limit is the configured one, whatever the chunking.
    let mut conn = Connection::server(
        Config {
            max_header_bytes: 64,
            ..Config::default()
        },
        0,
    );
    let log = feed_chunked(&mut conn, REQUEST, &[1; 200]);
    assert_eq!(
        log,
        vec![Ev::HandshakeFailed(HandshakeFailure::Server(
            HandshakeError::HeaderTooLarge
        ))]
    );
}

/// RFC 6455 §4.2.2: bytes after the request head are frames, left for the decoder.
#[test]
fn rfc6455_4_2_2_bytes_after_head_are_not_consumed() {
    let mut conn = Connection::server(Config::default(), 0);
    let mut input = [REQUEST, &c2s(true, 1, b"early")].concat();
    let r = conn.receive(&mut input, 0, MASK);
    assert_eq!(r.consumed, REQUEST.len());
    conn.accept(None).unwrap();
    let r = conn.receive(&mut input[REQUEST.len()..], 0, MASK);
    assert_eq!(
        r.event,
        Some(Event::Message {
            text: true,
            data: b"early"
        })
    );
}

/// RFC 6455 §4.2.2 item 5.4: the selected subprotocol must be one the client offered.
#[test]
fn rfc6455_4_2_2_unoffered_subprotocol_is_refused() {
    let mut conn = Connection::server(Config::default(), 0);
    let mut input = REQUEST.to_vec();
    let _ = conn.receive(&mut input, 0, MASK);
    assert_eq!(
        conn.accept(Some("mqtt")),
        Err(HandshakeError::ProtocolNotOffered)
    );
    assert!(drain(&mut conn).starts_with(b"HTTP/1.1 500 Internal Server Error\r\n"));
    assert_eq!(conn.state(), State::Closed);
}

/// RFC 6455 §4.2.2: the server may refuse with any HTTP status or serve a page instead.
#[test]
fn rfc6455_4_2_2_reject_and_respond() {
    let mut conn = Connection::server(Config::default(), 0);
    let mut input = REQUEST.to_vec();
    let _ = conn.receive(&mut input, 0, MASK);
    conn.reject(403);
    let out = String::from_utf8(drain(&mut conn)).unwrap();
    assert!(out.starts_with("HTTP/1.1 403 Forbidden\r\n"), "{out}");
    assert_eq!(conn.state(), State::Closed);

    let mut conn = Connection::server(Config::default(), 0);
    let mut input = b"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n".to_vec();
    match conn.receive(&mut input, 0, MASK).event {
        Some(Event::Request(req)) => assert!(!req.is_websocket()),
        other => panic!("{other:?}"),
    }
    conn.respond(200, "text/html", b"<h1>hi</h1>").unwrap();
    let out = String::from_utf8(drain(&mut conn)).unwrap();
    assert_eq!(
        out,
        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 11\r\nConnection: close\r\n\r\n<h1>hi</h1>"
    );
    assert_eq!(reason_phrase(799), "Unknown");
}

/// A constant page goes by reference: the head is offered to the transport at once (and
/// queued only when it is refused), the body follows from `pending_static` after the
/// queue, and `queued` counts both until they are taken.
#[test]
fn respond_static_offers_the_head_and_keeps_the_body_by_reference() {
    static BODY: [u8; 100_000] = [b'z'; 100_000];
    let page_request = || {
        let mut conn = Connection::server(Config::default(), 0);
        let mut input = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".to_vec();
        assert!(matches!(
            conn.receive(&mut input, 0, MASK).event,
            Some(Event::Request(_))
        ));
        conn
    };
    let head = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100000\r\n\
                Connection: close\r\n\r\n";

    // Taken at once: nothing is queued, the body is all that is pending.
    let mut conn = page_request();
    let mut offered = Vec::new();
    conn.respond_static(200, "text/html", &BODY, |h| {
        offered.extend_from_slice(h);
        true
    })
    .unwrap();
    assert_eq!(String::from_utf8(offered).unwrap(), head);
    assert_eq!(conn.state(), State::Closed);
    assert!(conn.pending().is_empty());
    assert_eq!(conn.queued(), BODY.len());
    assert_eq!(
        conn.pending_static().as_ptr(),
        BODY.as_ptr(),
        "by reference"
    );
    conn.advance_static(60_000);
    assert_eq!(conn.pending_static().len(), 40_000);
    conn.advance_static(40_000);
    assert_eq!(conn.queued(), 0);

    // Refused: the head is queued and goes first; the body waits behind it.
    let mut conn = page_request();
    conn.respond_static(200, "text/html", &BODY, |_| false)
        .unwrap();
    assert_eq!(String::from_utf8(conn.pending().to_vec()).unwrap(), head);
    assert!(conn.pending_static().is_empty(), "not before the head");
    assert_eq!(conn.queued(), head.len() + BODY.len());
    let n = conn.pending().len();
    conn.advance(n);
    assert_eq!(conn.pending_static().len(), BODY.len());

    // Only once, only for a waiting request, never with CR/LF in the content type.
    assert_eq!(
        conn.respond_static(200, "text/html", &BODY, |_| true),
        Err(SendError::NotOpen)
    );
    let mut conn = page_request();
    assert_eq!(
        conn.respond_static(200, "a\r\nb: c", &BODY, |_| true),
        Err(SendError::InvalidClose)
    );
}

/// RFC 6455 §4.1: a server that does not finish the handshake in time is dropped.
#[test]
fn rfc6455_4_1_handshake_timeout() {
    let cfg = Config {
        handshake_timeout_ms: 100,
        ..Config::default()
    };
    let mut conn = Connection::server(cfg, u32::MAX - 10);
    assert_eq!(conn.poll(u32::MAX, MASK), None);
    assert_eq!(conn.poll(88, MASK), None);
    assert_eq!(conn.poll(89, MASK), Some(Timeout::Handshake));
    assert_eq!(conn.state(), State::Closed);
    assert_eq!(conn.poll(1000, MASK), None, "reported once");
}

/// RFC 6455 §4.1: the client request carries the key, the version and the offer.
#[test]
fn rfc6455_4_1_client_request_is_well_formed() {
    let conn = Connection::client(Config::default(), &client_request(), NONCE, 0).unwrap();
    let req = String::from_utf8(conn.pending().to_vec()).unwrap();
    assert_eq!(
        req,
        "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: chat, superchat\r\n\
         Origin: http://example.com\r\n\r\n"
    );
    assert_eq!(conn.state(), State::Connecting);
}

/// RFC 6455 §4.1: header injection through request fields is refused.
#[test]
fn rfc6455_4_1_client_refuses_crlf_in_fields() {
    let base = client_request();
    let bad = [
        ClientRequest {
            extra_headers: &[("Origin", "x\r\nEvil: 1")],
            ..base
        },
        ClientRequest {
            extra_headers: &[("Bad Name", "x")],
            ..base
        },
        ClientRequest {
            host: "a\nb",
            ..base
        },
        ClientRequest {
            path: "chat",
            ..base
        },
        ClientRequest {
            protocols: &["a, b"],
            ..base
        },
    ];
    for req in bad {
        assert_eq!(
            Connection::client(Config::default(), &req, NONCE, 0).err(),
            Some(SendError::InvalidClose),
            "{req:?}"
        );
    }
}

fn client_result(response: &[u8]) -> Vec<Ev> {
    let mut conn = Connection::client(Config::default(), &client_request(), NONCE, 0).unwrap();
    drain(&mut conn);
    let log = feed(&mut conn, response);
    if !matches!(log.as_slice(), [Ev::Open(_)]) {
        assert_eq!(conn.state(), State::Closed);
        assert!(
            conn.pending().is_empty(),
            "nothing queued on a failed client handshake"
        );
    }
    log
}

fn client_fails(response: &[u8], e: ClientHandshakeError) {
    assert_eq!(
        client_result(response),
        vec![Ev::HandshakeFailed(HandshakeFailure::Client(e))]
    );
}

/// RFC 6455 §4.1 (client validation of the server's handshake): each rule is its own
/// failure.
#[test]
fn rfc6455_4_1_client_validates_response() {
    use ClientHandshakeError::*;
    assert_eq!(client_result(RESPONSE), vec![Ev::Open(Some("chat".into()))]);
    let without_protocol = replace(RESPONSE, "Sec-WebSocket-Protocol: chat\r\n", "");
    assert_eq!(client_result(&without_protocol), vec![Ev::Open(None)]);
    client_fails(
        &replace(RESPONSE, "101 Switching Protocols", "200 OK"),
        Status(200),
    );
    client_fails(
        &replace(RESPONSE, "Upgrade: websocket", "Upgrade: h2c"),
        NotUpgrade,
    );
    client_fails(
        &replace(RESPONSE, "Connection: Upgrade", "Connection: close"),
        NotConnectionUpgrade,
    );
    client_fails(
        &replace(
            RESPONSE,
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOA=",
        ),
        BadAccept,
    );
    client_fails(
        &replace(
            RESPONSE,
            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n",
            "",
        ),
        BadAccept,
    );
    client_fails(
        &replace(RESPONSE, "Protocol: chat", "Protocol: mqtt"),
        ProtocolNotOffered,
    );
    client_fails(
        &replace(RESPONSE, "Protocol: chat", "Protocol: chat, superchat"),
        ProtocolNotOffered,
    );
    client_fails(
        &replace(
            RESPONSE,
            "Protocol: chat\r\n",
            "Protocol: chat\r\nSec-WebSocket-Extensions: permessage-deflate\r\n",
        ),
        UnexpectedExtension,
    );
    client_fails(b"HTTP/1.1 101 \0\r\n\r\n", Malformed);
    client_fails(
        &replace(
            RESPONSE,
            "Upgrade: websocket",
            &format!("X: {}\r\nUpgrade: websocket", "a".repeat(5000)),
        ),
        TooLarge,
    );
}

/// RFC 6455 §4.1: frames right after the 101 are left for the decoder.
#[test]
fn rfc6455_4_1_client_leaves_frames_after_101() {
    let mut conn = Connection::client(Config::default(), &client_request(), NONCE, 0).unwrap();
    drain(&mut conn);
    let log = feed(&mut conn, &[RESPONSE, &s2c(true, 2, b"\x01\x02")].concat());
    assert_eq!(
        log,
        vec![
            Ev::Open(Some("chat".into())),
            Ev::Message {
                text: false,
                data: vec![1, 2]
            }
        ]
    );
}

/// With a heap limit too small for the request head, the server refuses with 503 Service
/// Unavailable (not 500: the budget, not the allocator, said no) and stays within it.
#[test]
fn heap_limit_refuses_request_head_with_503() {
    let mut conn = Connection::server(Config::default(), 0);
    conn.set_heap_limit(200);
    let log = feed(&mut conn, REQUEST);
    assert_eq!(
        log,
        vec![Ev::HandshakeFailed(HandshakeFailure::Server(
            HandshakeError::Unavailable
        ))]
    );
    assert!(conn.heap_bytes() <= 200, "{}", conn.heap_bytes());
    let out = String::from_utf8(drain(&mut conn)).expect("ascii");
    assert!(
        out.starts_with("HTTP/1.1 503 Service Unavailable\r\n"),
        "{out}"
    );
    assert_eq!(conn.state(), State::Closed);
    assert_eq!(HandshakeError::Unavailable.status(), 503);
}

/// RFC 6455 §4.2.1/§11.3.1: a header the handshake depends on may appear only once; a
/// second `Host`, `Sec-WebSocket-Key` or `Sec-WebSocket-Version` is refused with 400.
#[test]
fn rfc6455_4_2_1_duplicate_headers_are_400() {
    for line in [
        "Host: evil.example.com\r\n",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n",
        "sec-websocket-key: AAAAAAAAAAAAAAAAAAAAAA==\r\n",
        "Sec-WebSocket-Version: 13\r\n",
    ] {
        let req = replace(
            REQUEST,
            "Upgrade: websocket\r\n",
            &format!("Upgrade: websocket\r\n{line}"),
        );
        assert_eq!(
            validate(&req),
            Err(HandshakeError::DuplicateHeader),
            "{line}"
        );
        let (_, out, state) = server_response_to(&req);
        assert!(out.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{out}");
        assert_eq!(state, State::Closed);
    }
}

/// RFC 9112 §6.3: the upgrade request carries no body; `Transfer-Encoding` or a
/// `Content-Length` other than 0 is refused with 400.
#[test]
fn rfc9112_6_3_upgrade_request_with_body_is_400() {
    for line in [
        "Transfer-Encoding: chunked\r\n",
        "transfer-encoding: identity\r\n",
        "Content-Length: 5\r\n",
        "Content-Length: 00\r\n",
        "Content-Length: 0\r\nContent-Length: 7\r\n",
    ] {
        let req = replace(
            REQUEST,
            "Upgrade: websocket\r\n",
            &format!("Upgrade: websocket\r\n{line}"),
        );
        assert_eq!(
            validate(&req),
            Err(HandshakeError::BodyNotAllowed),
            "{line}"
        );
        let (_, out, state) = server_response_to(&req);
        assert!(out.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{out}");
        assert_eq!(state, State::Closed);
    }
}

/// A single `Content-Length: 0` announces no body and is accepted.
#[test]
fn upgrade_request_with_content_length_0_is_accepted() {
    let req = replace(
        REQUEST,
        "Upgrade: websocket\r\n",
        "Upgrade: websocket\r\nContent-Length: 0\r\n",
    );
    assert!(validate(&req).is_ok());
    let (log, out, state) = server_response_to(&req);
    assert!(matches!(log.as_slice(), [Ev::Request(_)]), "{log:?}");
    assert!(out.starts_with("HTTP/1.1 101 "), "{out}");
    assert_eq!(state, State::Open);
}

/// A request head with the given extra header lines (after `Host: device.local:8080`).
fn with_headers(lines: &str) -> Vec<u8> {
    format!(
        "GET /ws HTTP/1.1\r\nHost: device.local:8080\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Version: 13\r\n{lines}\r\n"
    )
    .into_bytes()
}

fn origin_ok(lines: &str, allowed: &str) -> bool {
    let head = with_headers(lines);
    lwip_ws::proto::Request::from_head(&head).origin_allowed(allowed.as_bytes())
}

/// RFC 6455 §10.2: no `Origin` (a non-browser client) is allowed; the server's own
/// origin (`http://` or `https://` + `Host` as sent, port included, any case) is allowed.
#[test]
fn rfc6455_10_2_origin_absent_or_same_origin_is_allowed() {
    assert!(origin_ok("", ""));
    assert!(origin_ok("Origin: http://device.local:8080\r\n", ""));
    assert!(origin_ok("Origin: https://device.local:8080\r\n", ""));
    assert!(origin_ok("origin: HTTP://Device.Local:8080\r\n", ""));
    assert!(
        !origin_ok("Origin: http://device.local\r\n", ""),
        "port differs"
    );
    assert!(
        !origin_ok("Origin: http://device.local:80\r\n", ""),
        "port differs"
    );
    assert!(
        !origin_ok("Origin: http://device.local:8080/\r\n", ""),
        "no slash games"
    );
    assert!(
        !origin_ok("Origin: ws://device.local:8080\r\n", ""),
        "scheme"
    );
    assert!(!origin_ok("Origin: http://evil.device.local:8080\r\n", ""));
    assert!(!origin_ok("Origin: http://device.local:80800\r\n", ""));
}

/// RFC 6455 §10.2: other origins are allowed only when listed (comma- and/or
/// space-separated, exact, any case); `*` allows any.
#[test]
fn rfc6455_10_2_origin_allow_list() {
    let list = "https://app.example.com, http://192.168.1.5:8080  http://x.test,";
    assert!(origin_ok("Origin: https://app.example.com\r\n", list));
    assert!(origin_ok("Origin: HTTPS://APP.example.com\r\n", list));
    assert!(origin_ok("Origin: http://192.168.1.5:8080\r\n", list));
    assert!(origin_ok("Origin: http://x.test\r\n", list));
    assert!(!origin_ok("Origin: http://192.168.1.5\r\n", list));
    assert!(!origin_ok("Origin: https://app.example.com/\r\n", list));
    assert!(!origin_ok("Origin: http://app.example.com\r\n", list));
    assert!(!origin_ok("Origin: https://app.example.com.evil\r\n", list));
    assert!(!origin_ok("Origin: https://evil.test\r\n", ""));
    assert!(origin_ok("Origin: https://evil.test\r\n", "*"));
    assert!(origin_ok(
        "Origin: https://evil.test\r\n",
        "https://a.test,*"
    ));
}

/// `Origin: null` (sandboxed pages, files) is allowed only by `*`; two `Origin` headers
/// are never allowed, even when both would be.
#[test]
fn rfc6455_10_2_origin_null_and_duplicates_are_refused() {
    assert!(!origin_ok("Origin: null\r\n", ""));
    assert!(!origin_ok("Origin: null\r\n", "null"));
    assert!(origin_ok("Origin: null\r\n", "*"));
    let two = "Origin: http://device.local:8080\r\nOrigin: http://device.local:8080\r\n";
    assert!(!origin_ok(two, ""));
    assert!(!origin_ok(two, "*"));
    assert_eq!(HandshakeError::OriginNotAllowed.status(), 403);
}

/// The application refuses a cross-origin request with 403 Forbidden.
#[test]
fn origin_not_allowed_is_rejected_with_403() {
    let mut conn = Connection::server(Config::default(), 0);
    let mut input = with_headers("Origin: https://evil.test\r\n");
    let r = conn.receive(&mut input, 0, MASK);
    let Some(Event::Request(req)) = r.event else {
        panic!("no request");
    };
    assert!(!req.origin_allowed(b"https://app.example.com"));
    conn.reject(HandshakeError::OriginNotAllowed.status());
    let out = String::from_utf8(drain(&mut conn)).expect("ascii");
    assert!(out.starts_with("HTTP/1.1 403 Forbidden\r\n"), "{out}");
    assert_eq!(conn.state(), State::Closed);
}
