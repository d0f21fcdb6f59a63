//! Both ends in one in-process lwIP stack (lwIP 2.1.3 compiled from source, loopback
//! netif), driven through the exported C API exactly as C firmware would. After every test
//! lwIP's heap and pool statistics are back to where they started.
//!
//! Run with `cargo test --features host-lwip --test lwip_inprocess`.
#![cfg(feature = "host-lwip")]

mod support;

use core::ffi::{c_char, c_int, c_void};
use std::ffi::{CStr, CString};

use lwip_sys::*;
use lwip_ws::capi::*;
use support::*;

/// A WSListener that serves "/" with a small page and upgrades "/echo" into a pool slot.
#[repr(C)]
struct Server {
    l: WSListener,
    slots: Vec<WSS>,
    side: Shared<Side>,
    max_message: u32,
    protocol: Option<CString>,
    requests: Vec<String>,
}

unsafe extern "C" fn on_request(l: *mut WSListener, req: *mut HttpRequest) {
    let srv = &mut *l.cast::<Server>();
    let path = CStr::from_ptr(HttpRequest_getPath(req))
        .to_string_lossy()
        .into_owned();
    srv.requests.push(path.clone());
    if path == "/" {
        let body = b"<html>hello</html>";
        let ctype = c"text/html";
        assert_eq!(
            HttpRequest_respond(
                req,
                200,
                ctype.as_ptr(),
                body.as_ptr().cast(),
                body.len() as c_int
            ),
            LWIP_WS_OK
        );
        return;
    }
    if path != "/echo" {
        return; // the library answers 404
    }
    let cb: *mut WSSCB = srv.side.cb_ptr();
    for slot in srv.slots.iter_mut() {
        if WSS_constructor(slot, cb, 256, 256) == LWIP_WS_OK {
            assert_eq!(WSS_setMaxMessage(slot, srv.max_message), LWIP_WS_OK);
            // The echo sends what it receives: room for one whole message.
            assert_eq!(WSS_setSendQueue(slot, srv.max_message + 14), LWIP_WS_OK);
            let proto = srv
                .protocol
                .as_ref()
                .map_or(std::ptr::null(), |p| p.as_ptr());
            // A refused upgrade was answered by the library (some tests offer bad ones).
            let _ = WSS_upgradeProtocol(slot, req, proto);
            return;
        }
    }
    assert_eq!(HttpRequest_reject(req, 503), LWIP_WS_OK);
}

fn start_server(port: u16, max_message: u32) -> Shared<Server> {
    let mut srv = Shared::new(Server {
        l: WSListener {
            _opaque: [0; LWIP_WS_LISTENER_WORDS],
        },
        slots: (0..8)
            .map(|_| WSS {
                _opaque: [0; LWIP_WS_WSS_WORDS],
            })
            .collect(),
        side: Side::new(true),
        max_message,
        protocol: None,
        requests: Vec::new(),
    });
    unsafe {
        assert_eq!(
            WSListener_constructor(&mut srv.l, Some(on_request)),
            LWIP_WS_OK
        );
        assert_eq!(
            WSListener_listen(&mut srv.l, std::ptr::null(), port),
            LWIP_WS_OK
        );
    }
    srv
}

fn stop_server(mut srv: Shared<Server>) {
    unsafe {
        WSListener_destructor(&mut srv.l);
        for slot in srv.slots.iter_mut() {
            WSS_destructor(slot);
        }
    }
}

fn open_client(port: u16, max_message: u32, protocols: Option<&CStr>) -> (Box<WSS>, Shared<Side>) {
    let side = Side::new(false);
    let mut wss = new_wss();
    let addr = loopback();
    unsafe {
        assert_eq!(
            WSS_constructor(&mut *wss, side.cb_ptr(), 256, 256),
            LWIP_WS_OK
        );
        assert_eq!(WSS_setMaxMessage(&mut *wss, max_message), LWIP_WS_OK);
        assert_eq!(WSS_setSendQueue(&mut *wss, max_message + 14), LWIP_WS_OK);
        let rc = WSS_openClient(
            &mut *wss,
            &addr,
            port,
            c"127.0.0.1".as_ptr(),
            c"/echo".as_ptr(),
            protocols.map_or(std::ptr::null(), CStr::as_ptr),
        );
        assert_eq!(rc, LWIP_WS_OK);
    }
    (wss, side)
}

fn payload(n: usize, seed: u32) -> Vec<u8> {
    (0..n as u32)
        .map(|i| (i.wrapping_mul(2_654_435_761).wrapping_add(seed) >> 24) as u8)
        .collect()
}

#[test]
fn echo_every_size_both_kinds_through_the_listener() {
    let _g = lock();
    settle();
    let baseline = usage();
    let max = 1 << 21;
    let srv = start_server(8101, max);
    let (mut wss, client) = open_client(8101, max, None);
    pump(20_000, || client.events.contains(&Ev::Open(None)));

    let mut sent = Vec::new();
    for (i, n) in [0usize, 1, 125, 126, 65535, 65536, 1 << 20]
        .into_iter()
        .enumerate()
    {
        for text in [true, false] {
            let data = if text {
                vec![b'a' + (i as u8 % 26); n]
            } else {
                payload(n, i as u32)
            };
            let rc = unsafe {
                WSS_write(
                    &mut *wss,
                    data.as_ptr().cast(),
                    n as c_int,
                    c_int::from(text),
                )
            };
            assert_eq!(rc, LWIP_WS_OK, "write of {n} bytes");
            sent.push((text, data));
            let want = sent.len();
            pump(200_000, || client.messages().len() == want);
        }
    }
    assert_eq!(client.messages(), sent, "echoed messages differ");
    assert_eq!(srv.side.messages(), sent, "server saw different messages");
    assert!(
        client.nul_terminated && srv.side.nul_terminated,
        "frame data must be NUL-terminated"
    );
    assert!(
        srv.side.echo_failures.is_empty(),
        "{:?}",
        srv.side.echo_failures
    );

    unsafe { assert_eq!(WSS_close(&mut *wss, 1000), LWIP_WS_OK) };
    unsafe {
        assert_eq!(
            WSS_write(&mut *wss, b"x".as_ptr().cast(), 1, 1),
            LWIP_WS_ERR_STATE
        )
    };
    pump(20_000, || {
        client.closes().len() == 1 && srv.side.closes().len() == 1
    });
    assert_eq!(client.closes(), vec![1000]);
    assert_eq!(srv.side.closes(), vec![1000]);
    unsafe { WSS_destructor(&mut *wss) };
    stop_server(srv);
    settle();
    assert_eq!(
        usage(),
        baseline,
        "lwIP memory or pools not back to baseline"
    );
}

#[test]
fn subprotocol_ping_pong_and_server_initiated_close() {
    let _g = lock();
    settle();
    let baseline = usage();
    let mut srv = start_server(8102, 65536);
    srv.protocol = Some(CString::new("chat.v2").unwrap());
    let (mut wss, client) = open_client(8102, 65536, Some(c"chat.v1, chat.v2"));
    pump(20_000, || !client.events.is_empty());
    assert_eq!(client.events[0], Ev::Open(Some("chat.v2".into())));

    let ping = b"are you there?";
    unsafe {
        assert_eq!(
            WSS_ping(&mut *wss, ping.as_ptr().cast(), ping.len() as c_int),
            LWIP_WS_OK
        )
    };
    pump(20_000, || client.events.contains(&Ev::Pong(ping.to_vec())));
    assert!(srv.side.events.contains(&Ev::Ping(ping.to_vec())));
    let long = [0u8; 126];
    unsafe {
        assert_eq!(
            WSS_ping(&mut *wss, long.as_ptr().cast(), 126),
            LWIP_WS_ERR_TOO_BIG
        )
    };

    // The server closes with an application code; the client sees that code.
    let slot: *mut WSS = srv
        .slots
        .iter_mut()
        .map(|s| s as *mut WSS)
        .find(|&s| unsafe { WSS_isValid(s) } == 1)
        .expect("an open slot");
    unsafe { assert_eq!(WSS_close(slot, 4000), LWIP_WS_OK) };
    unsafe { assert_eq!(WSS_close(slot, 4000), LWIP_WS_ERR_STATE) };
    pump(20_000, || {
        client.closes().len() == 1 && srv.side.closes().len() == 1
    });
    assert_eq!(client.closes(), vec![4000]);
    assert_eq!(srv.side.closes(), vec![4000]);
    unsafe { WSS_destructor(&mut *wss) };
    stop_server(srv);
    settle();
    assert_eq!(usage(), baseline);
}

#[test]
fn a_full_queue_refuses_whole_frames_then_reports_writable() {
    let _g = lock();
    settle();
    let baseline = usage();
    let mut srv = start_server(8103, 65536);
    srv.side.echo = false;
    let (mut wss, client) = open_client(8103, 65536, None);
    pump(20_000, || client.events.contains(&Ev::Open(None)));

    // Without polling, lwIP's send buffer and then our queue fill up.
    let mut accepted = Vec::new();
    let mut refused = 0;
    for i in 0..64u32 {
        let data = payload(30_000, i);
        let rc = unsafe { WSS_write(&mut *wss, data.as_ptr().cast(), data.len() as c_int, 0) };
        match rc {
            LWIP_WS_OK => accepted.push((false, data)),
            LWIP_WS_ERR_WOULD_BLOCK => refused += 1,
            other => panic!("unexpected write result {other}"),
        }
    }
    assert!(refused > 0, "the bounded queue never filled");
    assert!(unsafe { WSS_queued(&mut *wss) } as usize <= 65_550);
    let too_big = payload(70_000, 0);
    let rc = unsafe {
        WSS_write(
            &mut *wss,
            too_big.as_ptr().cast(),
            too_big.len() as c_int,
            0,
        )
    };
    assert!(
        rc == LWIP_WS_ERR_TOO_BIG || rc == LWIP_WS_ERR_WOULD_BLOCK,
        "{rc}"
    );

    let want = accepted.len();
    pump(200_000, || {
        srv.side.messages().len() == want && client.events.contains(&Ev::Writable)
    });
    assert_eq!(
        srv.side.messages(),
        accepted,
        "accepted frames must arrive whole and in order"
    );

    unsafe { assert_eq!(WSS_close(&mut *wss, 1000), LWIP_WS_OK) };
    pump(20_000, || {
        client.closes().len() == 1 && srv.side.closes().len() == 1
    });
    unsafe { WSS_destructor(&mut *wss) };
    stop_server(srv);
    settle();
    assert_eq!(usage(), baseline);
}

#[test]
fn page_404_and_each_bad_handshake_get_their_status_and_a_closed_connection() {
    let _g = lock();
    settle();
    let baseline = usage();
    let srv = start_server(8104, 65536);
    let ok = "GET /echo HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "page",
            "GET / HTTP/1.1\r\nHost: t\r\n\r\n".into(),
            "HTTP/1.1 200",
        ),
        (
            "unknown path",
            "GET /nope HTTP/1.1\r\nHost: t\r\n\r\n".into(),
            "HTTP/1.1 404",
        ),
        (
            "RFC 6455 4.2.1 (1) method POST",
            ok.replacen("GET", "POST", 1),
            "HTTP/1.1 405",
        ),
        (
            "RFC 6455 4.2.1 (1) HTTP/1.0",
            ok.replacen("HTTP/1.1", "HTTP/1.0", 1),
            "HTTP/1.1 400",
        ),
        (
            "RFC 6455 4.2.1 (2) no Host",
            ok.replacen("Host: t\r\n", "", 1),
            "HTTP/1.1 400",
        ),
        (
            "RFC 6455 4.2.1 (3) no Upgrade",
            ok.replacen("Upgrade: websocket\r\n", "", 1),
            "HTTP/1.1 400",
        ),
        (
            "RFC 6455 4.2.1 (4) no Connection",
            ok.replacen("Connection: Upgrade\r\n", "", 1),
            "HTTP/1.1 400",
        ),
        (
            "RFC 6455 4.2.1 (5) 15-byte key",
            ok.replacen("dGhlIHNhbXBsZSBub25jZQ==", "dGhlIHNhbXBsZSBub25j", 1),
            "HTTP/1.1 400",
        ),
        (
            "RFC 6455 4.2.1 (5) key not base64",
            ok.replacen("dGhlIHNhbXBsZSBub25jZQ==", "!!!!!!!!!!!!!!!!!!!!!!==", 1),
            "HTTP/1.1 400",
        ),
        (
            "RFC 6455 4.2.1 (6) version 8",
            ok.replacen("Version: 13", "Version: 8", 1),
            "HTTP/1.1 426",
        ),
        (
            "RFC 6455 4.2.1 header block over 4 KiB",
            ok.replacen(
                "Host: t\r\n",
                &format!("Host: t\r\nX-Pad: {}\r\n", "a".repeat(5000)),
                1,
            ),
            "HTTP/1.1 431",
        ),
    ];
    for (name, request, status) in &cases {
        let mut c = RawClient::connect(8104);
        for chunk in request.as_bytes().chunks(1400) {
            c.send(chunk);
            pump(1000, || true);
        }
        pump(20_000, || c.fin || c.err.is_some());
        assert!(
            c.text().starts_with(status),
            "{name}: got {:?}",
            c.text().lines().next()
        );
        assert!(
            c.text().to_ascii_lowercase().contains("connection: close"),
            "{name}"
        );
        if *status == "HTTP/1.1 426" {
            assert!(c.text().contains("Sec-WebSocket-Version: 13"), "{name}");
        }
        c.finish(false);
    }
    // Nothing was upgraded, so no WebSocket callback ran.
    assert!(srv.side.events.is_empty(), "{:?}", srv.side.events);
    stop_server(srv);
    settle();
    assert_eq!(usage(), baseline);
}

#[test]
fn websocket_accept_echoes_and_honours_frames_sent_right_behind_the_request() {
    let _g = lock();
    settle();
    let baseline = usage();
    let srv = raw_server(8105);
    let mut c = RawClient::connect(8105);
    let mut bytes = UPGRADE.to_vec();
    bytes.extend(masked(1, b"first"));
    c.send(&bytes);
    pump(20_000, || {
        c.received.windows(7).any(|w| w == b"\x81\x05first")
    });
    assert!(c.text().starts_with("HTTP/1.1 101"), "{}", c.text());
    assert!(c
        .text()
        .contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
    c.send(&masked(8, &[0x03, 0xe8]));
    pump(20_000, || c.fin);
    assert!(
        c.received.ends_with(&[0x88, 0x02, 0x03, 0xe8]),
        "close echoed with 1000"
    );
    assert_eq!(srv.side.closes(), vec![1000]);
    c.finish(false);
    stop_raw_server(srv);
    settle();
    assert_eq!(usage(), baseline);
}

#[test]
fn slow_handshake_unanswered_close_and_reset_each_end_with_one_negative_status() {
    let _g = lock();
    settle();
    let baseline = usage();
    let srv = raw_server(8106);

    // A client that sends its request one byte per second is cut off (timeout 3 s).
    let mut slow = RawClient::connect(8106);
    for b in UPGRADE.iter().take(8) {
        if slow.fin || slow.pcb.is_null() {
            break;
        }
        slow.send(&[*b]);
        unsafe { unixport_run_for(1000) };
    }
    pump(20_000, || srv.side.closes().len() == 1);
    assert_eq!(srv.side.closes(), vec![LWIP_WS_DROP_HANDSHAKE_TIMEOUT]);
    pump(20_000, || slow.fin || slow.err.is_some());
    slow.finish(true);

    // A peer that never answers our close is aborted after the close timeout (2 s).
    let mut mute = RawClient::connect(8106);
    mute.send(UPGRADE);
    pump(20_000, || mute.text().starts_with("HTTP/1.1 101"));
    let mut srv = srv;
    unsafe { assert_eq!(WSS_close(&mut *srv.wss, 1001), LWIP_WS_OK) };
    pump(20_000, || {
        mute.received.ends_with(&[0x88, 0x02, 0x03, 0xe9])
    });
    unsafe { unixport_run_for(3000) };
    pump(20_000, || srv.side.closes().len() == 2);
    assert_eq!(srv.side.closes()[1], LWIP_WS_DROP_CLOSE_TIMEOUT);
    pump(20_000, || mute.err.is_some() || mute.fin);
    mute.finish(true);

    // A peer that resets in the middle of a frame: exactly one close callback, negative.
    let mut rude = RawClient::connect(8106);
    rude.send(UPGRADE);
    pump(20_000, || rude.text().starts_with("HTTP/1.1 101"));
    let frame = masked(2, &[7u8; 100]);
    rude.send(&frame[..40]);
    pump(1000, || true);
    rude.finish(true);
    pump(20_000, || srv.side.closes().len() == 3);
    assert_eq!(srv.side.closes()[2], LWIP_WS_DROP_RESET);
    unsafe { unixport_run_for(10_000) };
    assert_eq!(
        srv.side.closes().len(),
        3,
        "no callback after the close callback"
    );

    stop_raw_server(srv);
    settle();
    assert_eq!(usage(), baseline);
}

#[test]
fn null_and_unconstructed_storage_get_documented_codes() {
    let _g = lock();
    let mut raw = new_wss();
    let null: *mut WSS = std::ptr::null_mut();
    unsafe {
        assert_eq!(WSS_write(null, b"x".as_ptr().cast(), 1, 1), LWIP_WS_ERR_ARG);
        assert_eq!(
            WSS_write(&mut *raw, b"x".as_ptr().cast(), 1, 1),
            LWIP_WS_ERR_NOT_CONSTRUCTED
        );
        assert_eq!(WSS_close(&mut *raw, 1000), LWIP_WS_ERR_NOT_CONSTRUCTED);
        assert_eq!(WSS_isValid(null), 0);
        assert_eq!(
            WSS_constructor(null, std::ptr::null_mut(), 1, 1),
            LWIP_WS_ERR_ARG
        );
        let side = Side::new(false);
        assert_eq!(
            WSS_constructor(&mut *raw, side.cb_ptr(), -1, 1),
            LWIP_WS_ERR_ARG
        );
        assert_eq!(
            WSS_constructor(&mut *raw, side.cb_ptr(), 64, 64),
            LWIP_WS_OK
        );
        assert_eq!(
            WSS_write(&mut *raw, b"x".as_ptr().cast(), 1, 1),
            LWIP_WS_ERR_STATE
        );
        assert_eq!(
            WSS_close(&mut *raw, 1005),
            LWIP_WS_ERR_ARG,
            "1005 may not be sent"
        );
        assert_eq!(WSS_close(&mut *raw, 1000), LWIP_WS_ERR_STATE);
        assert_eq!(WSS_setMaxMessage(&mut *raw, 0), LWIP_WS_ERR_ARG);
        assert_eq!(WSS_setMaxMessage(&mut *raw, 10 << 20), LWIP_WS_OK);
        assert_eq!(
            websocket_accept(std::ptr::null_mut(), &mut *raw),
            LWIP_WS_ERR_ARG
        );
        WSS_destructor(&mut *raw);
        WSS_destructor(null);
        assert_eq!(WSS_isValid(&mut *raw), 0);
        for code in [
            0, -1, -2, -3, -10, -11, -20, -21, -30, -31, -100, -101, -102, -103, -104, -105, -106,
            -107, -108, 1000, 4000, 77,
        ] {
            assert!(!WSS_errorText(code).is_null());
        }
        let mut out = [0 as c_char; 29];
        assert_eq!(
            WSS_acceptKey(c"dGhlIHNhbXBsZSBub25jZQ==".as_ptr(), out.as_mut_ptr()),
            LWIP_WS_OK
        );
        assert_eq!(
            CStr::from_ptr(out.as_ptr()).to_str().unwrap(),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }
}

/// A listener whose accept callback plays "another HTTP server that already answered the
/// handshake": it hands the pcb to `WSS_connect` with the bytes it "already received".
struct TakeoverServer {
    pcb: *mut lwipws_pcb,
    wss: Box<WSS>,
    side: Shared<Side>,
    initial: Vec<u8>,
}

unsafe extern "C" fn takeover_accept(
    arg: *mut c_void,
    newpcb: *mut lwipws_pcb,
    _e: err_t,
) -> err_t {
    let s = &mut *arg.cast::<TakeoverServer>();
    let cb: *mut WSSCB = s.side.cb_ptr();
    assert_eq!(WSS_constructor(&mut *s.wss, cb, 64, 64), LWIP_WS_OK);
    let rc = WSS_connect(
        &mut *s.wss,
        newpcb,
        s.initial.as_ptr().cast(),
        s.initial.len() as c_int,
    );
    assert_eq!(rc, LWIP_WS_OK);
    ERR_OK as err_t
}

#[test]
fn wss_connect_takes_over_an_answered_connection_with_its_early_bytes() {
    let _g = lock();
    settle();
    let baseline = usage();
    let mut srv = Shared::new(TakeoverServer {
        pcb: std::ptr::null_mut(),
        wss: new_wss(),
        side: Side::new(true),
        initial: masked(1, b"early"),
    });
    unsafe {
        let pcb = lwipws_new(IPADDR_TYPE_ANY as u8);
        assert_eq!(lwipws_bind(pcb, std::ptr::null(), 8107), ERR_OK as err_t);
        srv.pcb = lwipws_listen(pcb, 1);
        let arg: *mut TakeoverServer = srv.as_ptr();
        lwipws_arg(srv.pcb, arg.cast());
        lwipws_accept(srv.pcb, Some(takeover_accept));
    }
    let mut c = RawClient::connect(8107);
    pump(20_000, || c.received.ends_with(b"\x81\x05early"));
    c.send(&masked(2, b"later"));
    pump(20_000, || c.received.ends_with(b"\x82\x05later"));
    assert_eq!(
        srv.side.messages(),
        vec![(true, b"early".to_vec()), (false, b"later".to_vec())]
    );
    c.send(&masked(8, &[0x0f, 0xa0])); // 4000
    pump(20_000, || c.fin);
    assert_eq!(srv.side.closes(), vec![4000]);
    c.finish(false);
    unsafe {
        lwipws_close(srv.pcb);
        WSS_destructor(&mut *srv.wss);
    }
    settle();
    assert_eq!(usage(), baseline);
}

/// A streaming receiver: `WSSCB` first, then what its chunk callback saw.
#[repr(C)]
struct Sink {
    cb: WSSCB,
    wss: Box<WSS>,
    pcb: *mut lwipws_pcb,
    /// (text, offset, len, last) of every piece.
    pieces: Vec<(bool, u64, usize, bool)>,
    bytes: Vec<u8>,
    closes: Vec<c_int>,
    max_heap: c_int,
}

unsafe extern "C" fn sink_chunk(
    o: *mut WSSCB,
    wss: *mut WSS,
    data: *mut c_void,
    len: c_int,
    txt: c_int,
    offset: u64,
    last: c_int,
) {
    let s = &mut *o.cast::<Sink>();
    s.pieces.push((txt != 0, offset, len as usize, last != 0));
    s.bytes
        .extend_from_slice(std::slice::from_raw_parts(data.cast::<u8>(), len as usize));
    s.max_heap = s.max_heap.max(WSS_heapBytes(wss));
}

unsafe extern "C" fn sink_close(o: *mut WSSCB, _wss: *mut WSS, status: c_int) {
    (*o.cast::<Sink>()).closes.push(status);
}

unsafe extern "C" fn sink_accept(arg: *mut c_void, newpcb: *mut lwipws_pcb, _e: err_t) -> err_t {
    let s = &mut *arg.cast::<Sink>();
    let cb: *mut WSSCB = &mut s.cb;
    assert_eq!(WSS_constructor(&mut *s.wss, cb, 256, 256), LWIP_WS_OK);
    assert_eq!(WSS_setMaxMessage(&mut *s.wss, 4 << 20), LWIP_WS_OK);
    assert_eq!(WSS_setStreaming(&mut *s.wss, 1), LWIP_WS_OK);
    assert_eq!(websocket_accept(newpcb, &mut *s.wss), LWIP_WS_OK);
    ERR_OK as err_t
}

#[test]
fn a_megabyte_sent_in_fragments_streams_through_the_chunk_callback_unbuffered() {
    let _g = lock();
    settle();
    let baseline = usage();
    let mut sink = Shared::new(Sink {
        cb: WSSCB {
            closeFp: Some(sink_close),
            chunkFp: Some(sink_chunk),
            ..WSSCB::default()
        },
        wss: new_wss(),
        pcb: std::ptr::null_mut(),
        pieces: Vec::new(),
        bytes: Vec::new(),
        closes: Vec::new(),
        max_heap: 0,
    });
    unsafe {
        let pcb = lwipws_new(IPADDR_TYPE_ANY as u8);
        assert_eq!(lwipws_bind(pcb, std::ptr::null(), 8108), ERR_OK as err_t);
        sink.pcb = lwipws_listen(pcb, 1);
        let arg: *mut Sink = sink.as_ptr();
        lwipws_arg(sink.pcb, arg.cast());
        lwipws_accept(sink.pcb, Some(sink_accept));
    }
    let (mut wss, client) = open_client(8108, 65536, None);
    pump(20_000, || client.events.contains(&Ev::Open(None)));

    let mut sent = Vec::new();
    for i in 0..16u32 {
        let part = payload(65536, i);
        let fin = c_int::from(i == 15);
        let mut tries = 0;
        loop {
            let rc = unsafe { WSS_writeFragment(&mut *wss, part.as_ptr().cast(), 65536, 0, fin) };
            if rc == LWIP_WS_OK {
                break;
            }
            assert_eq!(rc, LWIP_WS_ERR_WOULD_BLOCK, "fragment {i}");
            tries += 1;
            assert!(tries < 1000, "the queue never drained");
            run_steps(200);
        }
        if i == 0 {
            let rc = unsafe { WSS_write(&mut *wss, b"x".as_ptr().cast(), 1, 1) };
            assert_eq!(
                rc, LWIP_WS_ERR_STATE,
                "no whole message inside a fragmented one"
            );
        }
        sent.extend_from_slice(&part);
    }
    pump(200_000, || sink.pieces.last().is_some_and(|p| p.3));

    assert_eq!(sink.bytes, sent, "the pieces make up the message");
    let mut expected_offset = 0u64;
    for &(text, offset, len, _) in &sink.pieces {
        assert!(!text);
        assert_eq!(offset, expected_offset, "pieces are in order, without gaps");
        expected_offset += len as u64;
    }
    assert_eq!(
        sink.pieces.iter().filter(|p| p.3).count(),
        1,
        "one last piece"
    );
    assert!(
        sink.max_heap < 16 * 1024,
        "streaming buffered {} bytes",
        sink.max_heap
    );

    unsafe { assert_eq!(WSS_close(&mut *wss, 1000), LWIP_WS_OK) };
    pump(20_000, || {
        client.closes().len() == 1 && sink.closes.len() == 1
    });
    assert_eq!(sink.closes, vec![1000]);
    unsafe {
        WSS_destructor(&mut *wss);
        lwipws_close(sink.pcb);
        WSS_destructor(&mut *sink.wss);
    }
    settle();
    assert_eq!(usage(), baseline);
}

/// In the middle of a fragmented message the layer hands lwIP whole segments only while
/// data is in flight; the held-back tail of a fragment still goes out by itself once
/// the data in flight is acknowledged, even when the application writes nothing more
/// for a while, and the fragments arrive whole and in order.
#[test]
fn a_fragment_tail_held_back_mid_message_goes_out_when_acknowledged() {
    let _g = lock();
    settle();
    let baseline = usage();
    let mut srv = raw_server(8112);
    let mut c = RawClient::connect(8112);
    c.send(UPGRADE);
    pump(20_000, || c.text().contains("\r\n\r\n"));
    assert!(c.text().starts_with("HTTP/1.1 101"), "{}", c.text());
    let parts: Vec<Vec<u8>> = (0..3u32).map(|i| payload(3000 + i as usize, i)).collect();
    let write = |srv: &mut RawServer, i: usize| {
        let fin = c_int::from(i == parts.len() - 1);
        let part = &parts[i];
        let rc = unsafe {
            WSS_writeFragment(
                &mut *srv.wss,
                part.as_ptr().cast(),
                part.len() as c_int,
                0,
                fin,
            )
        };
        assert_eq!(rc, LWIP_WS_OK);
    };
    // The second fragment follows the first while that one is still in flight, so only
    // whole segments of it go to lwIP at first; then nothing more is written until both
    // fragments have arrived whole.
    write(&mut srv, 0);
    write(&mut srv, 1);
    pump(20_000, || c.frames().len() == 2);
    write(&mut srv, 2);
    pump(20_000, || c.frames().len() == 3);
    let got = c.frames();
    let want: Vec<(u8, Vec<u8>)> = vec![
        (0x02, parts[0].clone()),
        (0x00, parts[1].clone()),
        (0x80, parts[2].clone()),
    ];
    assert_eq!(got, want, "fragments whole and in order");
    unsafe { assert_eq!(WSS_close(&mut *srv.wss, 1000), LWIP_WS_OK) };
    pump(20_000, || c.close_frame().is_some());
    c.send(&masked(8, &[0x03, 0xe8]));
    pump(20_000, || c.fin);
    c.finish(false);
    stop_raw_server(srv);
    settle();
    assert_eq!(usage(), baseline);
}
