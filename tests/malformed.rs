//! Malformed input against the real server on in-process lwIP (`websocket_accept` on a
//! raw listener), each case named after the RFC 6455 (or RFC 7230/6585) section it breaks
//! and checked for the exact reaction: the HTTP status or the close code on the wire, the
//! TCP connection closed afterwards, the status given to `closeFp`, and lwIP's heap and
//! pool statistics back to their starting values after every case.
//!
//! Run with `cargo test --features host-lwip --test malformed`.
#![cfg(feature = "host-lwip")]

mod support;

use lwip_sys::*;
use lwip_ws::capi::*;
use support::*;

const PORT: u16 = 8201;
/// The server's largest message in these tests.
const MAX: usize = 1000;

const OK: &str = "GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

fn server() -> Shared<RawServer> {
    let mut srv = raw_server(PORT);
    srv.max_message = MAX as u32;
    srv
}

/// Connects and completes the opening handshake.
fn upgraded() -> Shared<RawClient> {
    let mut c = RawClient::connect(PORT);
    c.send(OK.as_bytes());
    pump(20_000, || {
        c.text().starts_with("HTTP/1.1 101") && c.text().contains("\r\n\r\n")
    });
    c
}

fn handshake_cases() -> Vec<(&'static str, String, u16)> {
    let key = "dGhlIHNhbXBsZSBub25jZQ==";
    vec![
        (
            "RFC 6455 4.2.1 (1) method POST",
            OK.replacen("GET", "POST", 1),
            405,
        ),
        (
            "RFC 6455 4.2.1 (1) HTTP/1.0",
            OK.replacen("HTTP/1.1", "HTTP/1.0", 1),
            400,
        ),
        (
            "RFC 6455 4.2.1 (2) no Host",
            OK.replacen("Host: t\r\n", "", 1),
            400,
        ),
        (
            "RFC 6455 4.2.1 (3) no Upgrade",
            OK.replacen("Upgrade: websocket\r\n", "", 1),
            400,
        ),
        (
            "RFC 6455 4.2.1 (3) Upgrade: h2c",
            OK.replacen("websocket", "h2c", 1),
            400,
        ),
        (
            "RFC 6455 4.2.1 (4) no Connection",
            OK.replacen("Connection: Upgrade\r\n", "", 1),
            400,
        ),
        (
            "RFC 6455 4.2.1 (4) Connection: keep-alive",
            OK.replacen("Connection: Upgrade", "Connection: keep-alive", 1),
            400,
        ),
        (
            "RFC 6455 4.2.1 (5) no Sec-WebSocket-Key",
            OK.replacen(&format!("Sec-WebSocket-Key: {key}\r\n"), "", 1),
            400,
        ),
        // 15 bytes encode to 20 characters, 17 bytes to 24 (one '=').
        (
            "RFC 6455 4.2.1 (5) 15-byte key",
            OK.replacen(key, "AAECAwQFBgcICQoLDA0O", 1),
            400,
        ),
        (
            "RFC 6455 4.2.1 (5) 17-byte key",
            OK.replacen(key, "AAECAwQFBgcICQoLDA0ODxA=", 1),
            400,
        ),
        (
            "RFC 6455 4.2.1 (5) key not base64",
            OK.replacen(key, "!!!!!!!!!!!!!!!!!!!!!!==", 1),
            400,
        ),
        (
            "RFC 6455 4.2.1 (6) version 8",
            OK.replacen("Version: 13", "Version: 8", 1),
            426,
        ),
        (
            "RFC 6455 4.2.1 (6) no version",
            OK.replacen("Sec-WebSocket-Version: 13\r\n", "", 1),
            426,
        ),
        (
            "RFC 6585 5 header block over 4 KiB",
            OK.replacen(
                "Host: t\r\n",
                &format!("Host: t\r\nX-Pad: {}\r\n", "a".repeat(5000)),
                1,
            ),
            431,
        ),
        (
            "RFC 7230 3.2.6 NUL byte in a header value",
            OK.replacen("Host: t", "Host: t\0x", 1),
            400,
        ),
        (
            "RFC 7230 3.2.4 obsolete line folding",
            OK.replacen("Host: t\r\n", "Host: t\r\nX-Folded: a\r\n b\r\n", 1),
            400,
        ),
        (
            "RFC 7230 3.1.1 request line garbage",
            "\x16\x03\x01\x02\x00\r\n\r\n".into(),
            400,
        ),
        (
            "RFC 9112 3.2 two Host headers",
            OK.replacen("Host: t\r\n", "Host: t\r\nHost: u\r\n", 1),
            400,
        ),
        (
            "RFC 6455 11.3.1 two Sec-WebSocket-Key headers",
            OK.replacen(
                &format!("Sec-WebSocket-Key: {key}\r\n"),
                &format!(
                    "Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Key: AQIDBAUGBwgJCgsMDQ4PEA==\r\n"
                ),
                1,
            ),
            400,
        ),
        (
            "RFC 6455 11.3.5 two Sec-WebSocket-Version headers",
            OK.replacen(
                "Sec-WebSocket-Version: 13\r\n",
                "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Version: 13\r\n",
                1,
            ),
            400,
        ),
        (
            "RFC 9112 6.1 Transfer-Encoding on the upgrade",
            OK.replacen(
                "Host: t\r\n",
                "Host: t\r\nTransfer-Encoding: chunked\r\n",
                1,
            ),
            400,
        ),
        (
            "RFC 9112 6.3 Content-Length 5 on the upgrade",
            OK.replacen("Host: t\r\n", "Host: t\r\nContent-Length: 5\r\n", 1),
            400,
        ),
        (
            "RFC 9112 6.3 Content-Length and Transfer-Encoding together",
            OK.replacen(
                "Host: t\r\n",
                "Host: t\r\nContent-Length: 0\r\nTransfer-Encoding: chunked\r\n",
                1,
            ),
            400,
        ),
    ]
}

#[test]
fn each_bad_handshake_gets_its_exact_status_and_a_closed_connection() {
    let _g = lock();
    let mut srv = server();
    settle();
    let baseline = usage();
    let cases = handshake_cases();
    for (name, request, status) in &cases {
        srv.side.events.clear();
        let mut c = RawClient::connect(PORT);
        for chunk in request.as_bytes().chunks(1400) {
            c.send(chunk);
            pump(1000, || true);
        }
        pump(20_000, || c.fin || c.err.is_some());
        let text = c.text();
        assert!(
            text.starts_with(&format!("HTTP/1.1 {status} ")),
            "{name}: got {:?}",
            text.lines().next()
        );
        assert!(
            text.to_ascii_lowercase().contains("connection: close"),
            "{name}"
        );
        if *status == 426 {
            assert!(text.contains("Sec-WebSocket-Version: 13"), "{name}");
        }
        if *status == 405 {
            assert!(text.contains("Allow: GET"), "{name}");
        }
        assert!(c.fin, "{name}: the server closed TCP (FIN)");
        pump(20_000, || !srv.side.closes().is_empty());
        assert_eq!(
            srv.side.closes(),
            vec![LWIP_WS_DROP_HANDSHAKE_FAILED],
            "{name}"
        );
        c.finish(false);
        settle();
        assert_eq!(usage(), baseline, "{name}: lwIP memory back to baseline");
    }
    assert!(cases.len() >= 17);
    stop_raw_server(srv);
}

#[test]
fn rfc6585_5_a_10_mb_header_flood_is_cut_at_4_kib_with_431_and_bounded_memory() {
    let _g = lock();
    let mut srv = server();
    settle();
    let baseline = usage();
    let snd_buf = unsafe { lwipws_tcp_snd_buf() } as i64;
    let wnd = unsafe { lwipws_tcp_wnd() } as i64;
    let mut c = RawClient::connect(PORT);
    let mut flood = b"GET /ws HTTP/1.1\r\nHost: t\r\nX-Flood: ".to_vec();
    flood.resize(10 << 20, b'a');
    let mut sent = 0;
    let mut max_lwip = 0i64;
    let mut max_heap = 0;
    for _ in 0..200_000 {
        if sent >= flood.len() || c.pcb.is_null() || c.fin || c.err.is_some() {
            break;
        }
        sent += c.send_some(&flood[sent..]);
        unsafe { unixport_poll() };
        max_lwip = max_lwip.max(usage().0 - baseline.0);
        max_heap = max_heap.max(unsafe { WSS_heapBytes(&mut *srv.wss) });
    }
    pump(20_000, || c.fin || c.err.is_some());
    assert!(
        c.text().starts_with("HTTP/1.1 431 "),
        "got {:?}",
        c.text().lines().next()
    );
    assert!(
        sent < flood.len(),
        "the server stopped the flood long before 10 MB"
    );
    assert!(max_heap <= 4096 + 1024, "server heap {max_heap} B");
    assert!(
        max_lwip <= 2 * (snd_buf + wnd) + 64 * 1024,
        "lwIP heap grew by {max_lwip} B"
    );
    pump(20_000, || !srv.side.closes().is_empty());
    assert_eq!(srv.side.closes(), vec![LWIP_WS_DROP_HANDSHAKE_FAILED]);
    c.finish(true);
    settle();
    assert_eq!(usage(), baseline);
    stop_raw_server(srv);
}

/// Frames sent after a valid handshake → the close code the server must send.
fn frame_cases() -> Vec<(String, Vec<u8>, u16)> {
    let mut cases: Vec<(String, Vec<u8>, u16)> = vec![
        (
            "RFC 6455 5.2 RSV1 set".into(),
            frame(0xC1, b"hi", true),
            1002,
        ),
        (
            "RFC 6455 5.2 RSV2 set".into(),
            frame(0xA1, b"hi", true),
            1002,
        ),
        (
            "RFC 6455 5.2 RSV3 set".into(),
            frame(0x91, b"hi", true),
            1002,
        ),
    ];
    for op in (3..=7).chain(0xB..=0xF) {
        cases.push((
            format!("RFC 6455 5.2 reserved opcode {op:#x}"),
            frame(0x80 | op, b"x", true),
            1002,
        ));
    }
    cases.extend([
        (
            "RFC 6455 5.1 unmasked client frame".into(),
            frame(0x81, b"hi", false),
            1002,
        ),
        (
            "RFC 6455 5.5 control frame of 126 bytes".into(),
            frame(0x89, &[b'p'; 126], true),
            1002,
        ),
        (
            "RFC 6455 5.5 fragmented ping".into(),
            frame(0x09, b"p", true),
            1002,
        ),
        (
            "RFC 6455 5.4 continuation with nothing to continue".into(),
            frame(0x80, b"x", true),
            1002,
        ),
        (
            "RFC 6455 5.4 new text frame inside a fragmented message".into(),
            [frame(0x01, b"ab", true), frame(0x81, b"cd", true)].concat(),
            1002,
        ),
        (
            "RFC 6455 8.1 invalid UTF-8 at the start of a message".into(),
            frame(0x81, b"\xffabc", true),
            1007,
        ),
        (
            "RFC 6455 8.1 invalid UTF-8 in the middle of a message".into(),
            frame(0x81, b"ab\xc0\xafcd", true),
            1007,
        ),
        (
            "RFC 6455 8.1 cut-off code point at the end of a message".into(),
            frame(0x81, b"abc\xe2\x82", true),
            1007,
        ),
        (
            "RFC 6455 8.1 invalid UTF-8 across fragments".into(),
            [frame(0x01, b"a\xe2\x82", true), frame(0x80, b"(b", true)].concat(),
            1007,
        ),
        (
            "RFC 6455 5.5.1 close reason not UTF-8".into(),
            frame(0x88, &close_payload(1000, b"\xff\xfe"), true),
            1007,
        ),
        (
            "RFC 6455 5.5.1 1-byte close payload".into(),
            frame(0x88, &[3], true),
            1002,
        ),
    ]);
    for code in [0u16, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000] {
        cases.push((
            format!("RFC 6455 7.4.1/7.4.2 close code {code}"),
            frame(0x88, &close_payload(code, b""), true),
            1002,
        ));
    }
    cases.extend([
        (
            "RFC 6455 5.2 64-bit length with its top bit set".into(),
            header64(0x82, 1 << 63),
            1002,
        ),
        (
            "RFC 6455 7.4.1 (1009) a message one byte over the maximum".into(),
            frame(0x82, &vec![7u8; MAX + 1], true),
            1009,
        ),
        (
            "RFC 6455 7.4.1 (1009) fragments adding up to one byte over the maximum".into(),
            [frame(0x02, &vec![7u8; MAX], true), frame(0x80, b"x", true)].concat(),
            1009,
        ),
    ]);
    cases
}

#[test]
fn each_bad_frame_gets_its_exact_close_code_then_a_closed_connection() {
    let _g = lock();
    let mut srv = server();
    settle();
    let baseline = usage();
    let cases = frame_cases();
    for (name, bytes, code) in &cases {
        srv.side.events.clear();
        let mut c = upgraded();
        for chunk in bytes.chunks(1400) {
            c.send(chunk);
            pump(200, || true);
        }
        pump(20_000, || c.fin || c.err.is_some());
        let close = c.close_frame();
        assert_eq!(
            close.as_ref().map(|(c, _)| *c),
            Some(*code),
            "{name}: {close:?}"
        );
        assert!(c.fin, "{name}: the server closed TCP after its close frame");
        assert_eq!(c.err, None, "{name}: closed, not reset");
        pump(20_000, || !srv.side.closes().is_empty());
        assert_eq!(
            srv.side.closes(),
            vec![i32::from(*code)],
            "{name}: closeFp status"
        );
        assert!(
            srv.side.messages().is_empty(),
            "{name}: no message delivered"
        );
        let frames = c.frames();
        assert_eq!(frames.len(), 1, "{name}: only the close frame: {frames:?}");
        c.finish(false);
        settle();
        assert_eq!(usage(), baseline, "{name}: lwIP memory back to baseline");
    }
    assert!(cases.len() >= 36, "{}", cases.len());
    stop_raw_server(srv);
}

#[test]
fn rfc6455_4_1_a_handshake_at_one_byte_per_second_is_cut_off_by_the_timeout() {
    let _g = lock();
    let mut srv = server();
    srv.timeouts = (3000, 2000);
    settle();
    let baseline = usage();
    let mut slow = RawClient::connect(PORT);
    let mut sent = 0;
    for b in OK.as_bytes().iter().take(10) {
        if slow.fin || slow.pcb.is_null() {
            break;
        }
        slow.send(&[*b]);
        sent += 1;
        unsafe { unixport_run_for(1000) };
    }
    pump(20_000, || slow.fin || slow.err.is_some());
    assert!(sent <= 5, "cut off after about 3 s ({sent} bytes sent)");
    assert!(slow.received.is_empty(), "no HTTP response on a timeout");
    assert_eq!(srv.side.closes(), vec![LWIP_WS_DROP_HANDSHAKE_TIMEOUT]);
    slow.finish(true);
    settle();
    assert_eq!(usage(), baseline);
    stop_raw_server(srv);
}

#[test]
fn rfc6455_10_4_a_peer_that_never_reads_gets_would_block_and_bounded_memory() {
    let _g = lock();
    let mut srv = server();
    srv.send_queue = 8192;
    settle();
    let baseline = usage();
    let snd_buf = unsafe { lwipws_tcp_snd_buf() } as i64;
    let wnd = unsafe { lwipws_tcp_wnd() } as i64;
    let mut c = upgraded();
    c.hold = true;
    let msg = vec![b'z'; 1000];
    let mut accepted = 0usize;
    let mut would_block = 0;
    for _ in 0..10_000 {
        let rc = unsafe { WSS_write(&mut *srv.wss, msg.as_ptr().cast(), msg.len() as i32, 0) };
        match rc {
            LWIP_WS_OK => accepted += 1,
            LWIP_WS_ERR_WOULD_BLOCK => {
                would_block += 1;
                if would_block > 20 {
                    break;
                }
            }
            other => panic!("unexpected write result {other}"),
        }
        run_steps(20);
        let heap = unsafe { WSS_heapBytes(&mut *srv.wss) };
        assert!(heap <= 2 * (8192 + 1024), "server heap {heap} B");
        assert!(usage().0 - baseline.0 <= 2 * (snd_buf + wnd) + 64 * 1024);
    }
    assert!(
        would_block > 0,
        "the queue filled ({accepted} messages accepted)"
    );
    assert!(accepted * 1000 < 8192 + (snd_buf + 2 * wnd) as usize + 8192);
    assert!(srv.side.closes().is_empty());
    // The peer goes away: one close callback with a negative status.
    c.finish(true);
    pump(20_000, || !srv.side.closes().is_empty());
    assert_eq!(srv.side.closes(), vec![LWIP_WS_DROP_RESET]);
    unsafe { unixport_run_for(10_000) };
    assert_eq!(srv.side.closes().len(), 1);
    settle();
    assert_eq!(usage(), baseline);
    stop_raw_server(srv);
}

#[test]
fn rfc6455_7_1_7_a_reset_in_the_middle_of_a_frame_gives_one_negative_close() {
    let _g = lock();
    let srv = server();
    settle();
    let baseline = usage();
    let mut c = upgraded();
    let f = frame(0x82, &[7u8; 100], true);
    c.send(&f[..40]);
    pump(1000, || true);
    c.finish(true);
    pump(20_000, || !srv.side.closes().is_empty());
    unsafe { unixport_run_for(10_000) };
    assert_eq!(srv.side.closes(), vec![LWIP_WS_DROP_RESET]);
    assert!(srv.side.messages().is_empty());
    settle();
    assert_eq!(usage(), baseline);
    stop_raw_server(srv);
}

#[test]
fn rfc6455_7_1_1_a_peer_that_never_answers_our_close_is_cut_off() {
    let _g = lock();
    let mut srv = server();
    srv.timeouts = (3000, 2000);
    settle();
    let baseline = usage();
    let mut c = upgraded();
    unsafe { assert_eq!(WSS_close(&mut *srv.wss, 1001), LWIP_WS_OK) };
    pump(20_000, || c.close_frame().is_some());
    assert_eq!(c.close_frame().map(|(code, _)| code), Some(1001));
    unsafe { unixport_run_for(1000) };
    assert!(srv.side.closes().is_empty(), "still waiting after 1 s");
    unsafe { unixport_run_for(2500) };
    pump(20_000, || !srv.side.closes().is_empty());
    assert_eq!(srv.side.closes(), vec![LWIP_WS_DROP_CLOSE_TIMEOUT]);
    pump(20_000, || c.err.is_some() || c.fin);
    unsafe { unixport_run_for(10_000) };
    assert_eq!(srv.side.closes().len(), 1);
    c.finish(true);
    settle();
    assert_eq!(usage(), baseline);
    stop_raw_server(srv);
}
