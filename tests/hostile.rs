//! A hostile network against the real server on in-process lwIP (lwIP's clock driven by
//! the test): every connection bounded in time (keep-alive, message progress, the
//! listener's handshake timeout) and in memory (one heap budget), no lockout by silent
//! sockets (eviction), the `Origin` policy, the peer's address, one pong per ping,
//! writable empty messages, and receive flow control (`WSS_pauseRead`/`WSS_resumeRead`)
//! with lwIP's window closing. After each test lwIP's heap and pools are back at their
//! baseline and the library's budget total is 0.
//!
//! Run with `cargo test --features host-lwip --test hostile`.
#![cfg(feature = "host-lwip")]

mod support;

use core::ffi::{c_int, c_void};
use std::ffi::CStr;

use lwip_sys::*;
use lwip_ws::capi::*;
use support::*;

/// What one test server does with each connection; `WSSCB` first so callbacks can cast.
#[repr(C)]
struct App {
    cb: WSSCB,
    l: WSListener,
    slots: Vec<WSS>,
    /// Applied to every `WSS` before its upgrade.
    setup: fn(*mut WSS),
    /// Messages (whole) or pieces (streaming) received, in order, with their kind.
    got: Vec<u8>,
    closes: Vec<c_int>,
    /// Streaming: bytes taken in the current window; `pause_after`: pause once this many
    /// were taken (0: never).
    taken: usize,
    pause_after: usize,
    paused: usize,
    /// frameFp writes a 0 at data[len] and at data[0] when len is 0 (a C habit).
    scribble: bool,
}

unsafe fn app<'a>(o: *mut WSSCB) -> &'a mut App {
    &mut *o.cast::<App>()
}

unsafe extern "C" fn on_frame(
    o: *mut WSSCB,
    _w: *mut WSS,
    data: *mut c_void,
    len: c_int,
    _t: c_int,
) {
    let a = app(o);
    if a.scribble {
        *data.cast::<u8>().add(len as usize) = 0;
    }
    a.got
        .extend_from_slice(std::slice::from_raw_parts(data.cast::<u8>(), len as usize));
}

unsafe extern "C" fn on_chunk(
    o: *mut WSSCB,
    wss: *mut WSS,
    data: *mut c_void,
    len: c_int,
    _t: c_int,
    _off: u64,
    _last: c_int,
) {
    let a = app(o);
    a.got
        .extend_from_slice(std::slice::from_raw_parts(data.cast::<u8>(), len as usize));
    a.taken += len as usize;
    if a.pause_after != 0 && a.taken >= a.pause_after {
        assert_eq!(WSS_pauseRead(wss), LWIP_WS_OK);
        a.paused += 1;
    }
}

unsafe extern "C" fn on_close(o: *mut WSSCB, _w: *mut WSS, status: c_int) {
    app(o).closes.push(status);
}

unsafe extern "C" fn on_request(l: *mut WSListener, req: *mut HttpRequest) {
    // `l` is the listener inside App: find the App around it.
    let a = &mut *(l as *mut u8)
        .sub(core::mem::offset_of!(App, l))
        .cast::<App>();
    if HttpRequest_isWebSocket(req) == 0 {
        let rc = HttpRequest_respond(req, 200, c"text/plain".as_ptr(), b"hi".as_ptr().cast(), 2);
        assert_eq!(rc, LWIP_WS_OK);
        return;
    }
    let cb: *mut WSSCB = &mut a.cb;
    for slot in a.slots.iter_mut() {
        if WSS_constructor(slot, cb, 256, 1024) == LWIP_WS_OK {
            (a.setup)(slot);
            // A refused upgrade was answered by the library (the tests send bad ones).
            let _ = WSS_upgrade(slot, req);
            return;
        }
    }
    assert_eq!(HttpRequest_reject(req, 503), LWIP_WS_OK);
}

fn no_setup(_: *mut WSS) {}

fn start(port: u16, setup: fn(*mut WSS)) -> Shared<App> {
    let mut a = Shared::new(App {
        cb: WSSCB::default(),
        l: WSListener {
            _opaque: [0; LWIP_WS_LISTENER_WORDS],
        },
        slots: (0..4).map(|_| *new_wss()).collect(),
        setup,
        got: Vec::new(),
        closes: Vec::new(),
        taken: 0,
        pause_after: 0,
        paused: 0,
        scribble: false,
    });
    unsafe {
        assert_eq!(
            WSSCB_constructor(&mut a.cb, Some(on_frame), Some(on_close), None),
            LWIP_WS_OK
        );
        a.cb.chunkFp = Some(on_chunk);
        assert_eq!(
            WSListener_constructor(&mut a.l, Some(on_request)),
            LWIP_WS_OK
        );
        assert_eq!(
            WSListener_listen(&mut a.l, std::ptr::null(), port),
            LWIP_WS_OK
        );
    }
    a
}

fn stop(mut a: Shared<App>) {
    unsafe {
        WSListener_destructor(&mut a.l);
        for s in a.slots.iter_mut() {
            WSS_destructor(s);
        }
    }
}

fn upgrade_request(extra: &str) -> Vec<u8> {
    format!(
        "GET /ws HTTP/1.1\r\nHost: dev.local\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n"
    )
    .into_bytes()
}

fn upgraded(port: u16) -> Shared<RawClient> {
    let mut c = RawClient::connect(port);
    c.send(&upgrade_request(""));
    pump(20_000, || c.text().contains("\r\n\r\n"));
    assert!(c.text().starts_with("HTTP/1.1 101"), "{}", c.text());
    c
}

/// The frames the client received after the 101's head.
fn frames_after_head(c: &RawClient) -> Vec<(u8, Vec<u8>)> {
    let head = c.text().find("\r\n\r\n").map_or(0, |i| i + 4);
    parse_frames(&c.received[head..])
}

/// The client resets its connection; the server's `closeFp` runs; the server stops and
/// everything is back at the baseline.
fn reset_and_end(mut a: Shared<App>, c: &mut RawClient, baseline: &(i64, Vec<(String, i64)>)) {
    c.finish(true);
    pump(20_000, || !a.closes.is_empty());
    a.closes.clear();
    stop(a);
    assert_baseline(baseline);
}

/// lwIP's memory and the library's budget total are back where they started.
fn assert_baseline(baseline: &(i64, Vec<(String, i64)>)) {
    settle();
    assert_eq!(&usage(), baseline, "lwIP heap and pools back at baseline");
    assert_eq!(lwipws_heapBytes(), 0, "library heap total back at 0");
}

fn keepalive_2s_1s(w: *mut WSS) {
    unsafe { assert_eq!(WSS_setKeepAlive(w, 2_000, 1_000), LWIP_WS_OK) };
}

/// A peer that stops answering: the keep-alive ping goes out after the idle time (not
/// before), and with no answer the connection is aborted at idle + timeout with
/// `LWIP_WS_DROP_KEEPALIVE_TIMEOUT`; the idle connection held no heap while waiting.
#[test]
fn keepalive_pings_an_idle_peer_and_drops_it_when_it_stays_silent() {
    let _g = lock();
    let port = 8401;
    let baseline = usage();
    let mut a = start(port, keepalive_2s_1s);
    let mut c = upgraded(port);
    unsafe { unixport_run_for(1_500) };
    assert!(
        frames_after_head(&c).is_empty(),
        "no ping before the idle time"
    );
    assert_eq!(unsafe { WSS_heapBytes(&mut a.slots[0]) }, 0, "idle: parked");
    unsafe { unixport_run_for(1_000) };
    pump(2_000, || !frames_after_head(&c).is_empty());
    assert_eq!(frames_after_head(&c)[0].0, 0x89, "a ping");
    assert!(a.closes.is_empty());
    unsafe { unixport_run_for(1_500) };
    pump(2_000, || !a.closes.is_empty());
    assert_eq!(a.closes, vec![LWIP_WS_DROP_KEEPALIVE_TIMEOUT]);
    pump(2_000, || c.err.is_some());
    c.finish(true);
    stop(a);
    assert_baseline(&baseline);
}

/// A peer that answers the keep-alive ping stays connected, ping after ping.
#[test]
fn keepalive_answered_keeps_the_connection() {
    let _g = lock();
    let port = 8402;
    let baseline = usage();
    let mut a = start(port, keepalive_2s_1s);
    let mut c = upgraded(port);
    let mut answered = 0;
    for _ in 0..40 {
        unsafe { unixport_run_for(250) };
        run_steps(10);
        let pings = frames_after_head(&c).iter().filter(|f| f.0 == 0x89).count();
        while answered < pings {
            c.send(&masked(0xA, b""));
            answered += 1;
        }
    }
    assert!(answered >= 3, "pings every ~2 s over 10 s: {answered}");
    assert!(a.closes.is_empty(), "{:?}", a.closes);
    unsafe { assert_eq!(WSS_close(&mut a.slots[0], 1000), LWIP_WS_OK) };
    c.send(&frame(0x88, &close_payload(1000, b""), true));
    pump(20_000, || !a.closes.is_empty());
    assert_eq!(a.closes, vec![1000]);
    c.finish(false);
    stop(a);
    assert_baseline(&baseline);
}

fn message_timeout_1s(w: *mut WSS) {
    unsafe { assert_eq!(WSS_setMessageTimeout(w, 1_000), LWIP_WS_OK) };
}

/// A message that starts and stalls (header and part of the payload, then nothing) ends
/// the connection after the message timeout: a close frame with 1008, TCP closed, and
/// `closeFp(LWIP_WS_DROP_MESSAGE_TIMEOUT)`. The partial message held only what arrived.
#[test]
fn a_stalled_message_ends_with_1008_after_the_message_timeout() {
    let _g = lock();
    let port = 8403;
    let baseline = usage();
    let mut a = start(port, message_timeout_1s);
    let mut c = upgraded(port);
    let mut f = header64(0x82, 60_000);
    f[1] |= 0x80;
    f.extend_from_slice(&[1, 2, 3, 4, 9, 9]);
    c.send(&f);
    run_steps(200);
    let held = unsafe { WSS_heapBytes(&mut a.slots[0]) };
    assert!(
        held < 8_192,
        "a claim of 60000 bytes holds what arrived: {held}"
    );
    assert!(a.closes.is_empty());
    unsafe { unixport_run_for(1_500) };
    pump(4_000, || !a.closes.is_empty());
    assert_eq!(a.closes, vec![LWIP_WS_DROP_MESSAGE_TIMEOUT]);
    pump(4_000, || c.close_frame().is_some());
    assert_eq!(c.close_frame().map(|f| f.0), Some(1008));
    c.finish(true);
    stop(a);
    assert_baseline(&baseline);
}

/// The listener's handshake timeout is settable: a socket that sends nothing is closed
/// after it, without reaching the application.
#[test]
fn the_listeners_handshake_timeout_closes_silent_sockets() {
    let _g = lock();
    let port = 8404;
    let baseline = usage();
    let mut a = start(port, no_setup);
    unsafe {
        assert_eq!(WSListener_setHandshakeTimeout(&mut a.l, 1_000), LWIP_WS_OK);
        assert_eq!(WSListener_setHandshakeTimeout(&mut a.l, 0), LWIP_WS_ERR_ARG);
    }
    let mut c = RawClient::connect(port);
    unsafe { unixport_run_for(500) };
    assert!(!c.fin && c.err.is_none(), "still waiting at 0.5 s");
    unsafe { unixport_run_for(1_000) };
    pump(4_000, || c.fin || c.err.is_some());
    c.finish(true);
    stop(a);
    assert_baseline(&baseline);
}

/// When every pending slot is taken by sockets that send nothing, a new connection evicts
/// the oldest of them: a real client still upgrades and echoes.
#[test]
fn silent_sockets_cannot_lock_out_a_real_client() {
    let _g = lock();
    let port = 8405;
    let baseline = usage();
    let mut a = start(port, no_setup);
    unsafe { assert_eq!(WSListener_setLimits(&mut a.l, 2, 4096), LWIP_WS_OK) };
    let mut silent: Vec<_> = (0..6).map(|_| RawClient::connect(port)).collect();
    run_steps(100);
    let reset = silent.iter().filter(|s| s.err.is_some()).count();
    assert_eq!(reset, 4, "all but the 2 newest silent sockets were evicted");
    let mut c = upgraded(port);
    c.send(&masked(1, b"hello"));
    pump(20_000, || a.got == b"hello");
    assert!(
        silent[0].err.is_some(),
        "the oldest silent socket was evicted"
    );
    for s in silent.iter_mut() {
        s.finish(true);
    }
    reset_and_end(a, &mut c, &baseline);
}

/// A WebSocket upgrade from a foreign origin gets 403 before the application sees it;
/// the request's own origin, no origin, and an allow-listed one are upgraded.
#[test]
fn foreign_origins_get_403_and_the_own_origin_is_upgraded() {
    let _g = lock();
    let port = 8406;
    let baseline = usage();
    let mut a = start(port, no_setup);
    let status = |extra: &str| -> String {
        let mut c = RawClient::connect(port);
        c.send(&upgrade_request(extra));
        pump(20_000, || c.text().contains("\r\n\r\n"));
        let line = c.text().lines().next().unwrap_or("").to_string();
        c.finish(true);
        run_steps(50);
        line
    };
    assert!(status("Origin: http://evil.example\r\n").starts_with("HTTP/1.1 403"));
    assert!(status("Origin: null\r\n").starts_with("HTTP/1.1 403"));
    assert!(status("Origin: http://dev.local\r\n").starts_with("HTTP/1.1 101"));
    assert!(status("").starts_with("HTTP/1.1 101"));
    assert!(status("Origin: https://app.example\r\n").starts_with("HTTP/1.1 403"));
    static LIST: &CStr = c"https://app.example, http://other.example:8080";
    unsafe { assert_eq!(WSListener_setOrigins(&mut a.l, LIST.as_ptr()), LWIP_WS_OK) };
    assert!(status("Origin: https://app.example\r\n").starts_with("HTTP/1.1 101"));
    assert!(status("Origin: http://evil.example\r\n").starts_with("HTTP/1.1 403"));
    pump(20_000, || a.closes.len() == 3);
    stop(a);
    assert_baseline(&baseline);
}

/// Duplicate `Host` / `Sec-WebSocket-Key` and a body on the upgrade get 400 through the
/// listener too.
#[test]
fn strict_upgrades_through_the_listener() {
    let _g = lock();
    let port = 8407;
    let baseline = usage();
    let a = start(port, no_setup);
    for extra in [
        "Host: other\r\n",
        "Sec-WebSocket-Key: AQIDBAUGBwgJCgsMDQ4PEA==\r\n",
        "Transfer-Encoding: chunked\r\n",
        "Content-Length: 5\r\n",
    ] {
        let mut c = RawClient::connect(port);
        c.send(&upgrade_request(extra));
        pump(20_000, || c.fin);
        assert!(
            c.text().starts_with("HTTP/1.1 400"),
            "{extra}: {}",
            c.text()
        );
        assert!(c.text().contains("Connection: close"));
        c.finish(false);
    }
    stop(a);
    assert_baseline(&baseline);
}

/// The peer's address and port are visible on the connection.
#[test]
fn the_peer_address_is_exposed() {
    let _g = lock();
    let port = 8408;
    let baseline = usage();
    let mut a = start(port, no_setup);
    let mut c = upgraded(port);
    let mut addr = ip_addr_t { addr: 0 };
    let mut peer_port = 0u16;
    unsafe {
        assert_eq!(
            WSS_peerAddr(&mut a.slots[0], &mut addr, &mut peer_port),
            LWIP_WS_OK
        );
        assert_eq!(addr.addr, loopback().addr);
        assert_eq!(peer_port, (*c.pcb.cast::<tcp_pcb>()).local_port);
        assert_eq!(
            WSS_peerAddr(&mut a.slots[1], &mut addr, &mut peer_port),
            LWIP_WS_ERR_NOT_CONSTRUCTED
        );
    }
    reset_and_end(a, &mut c, &baseline);
}

/// Ten pings in one segment get ten pongs, in order, with their payloads.
#[test]
fn ten_pings_in_one_write_get_ten_pongs_in_order() {
    let _g = lock();
    let port = 8409;
    let baseline = usage();
    let a = start(port, no_setup);
    let mut c = upgraded(port);
    let pings: Vec<u8> = (0..10u8)
        .flat_map(|i| masked(0x9, &[b'p', b'0' + i]))
        .collect();
    c.send(&pings);
    pump(20_000, || frames_after_head(&c).len() == 10);
    let pongs = frames_after_head(&c);
    for (i, f) in pongs.iter().enumerate() {
        assert_eq!(f, &(0x8A, vec![b'p', b'0' + i as u8]));
    }
    reset_and_end(a, &mut c, &baseline);
}

/// An empty message's `data` is writable like every other message's: the common
/// `((char *)data)[len] = 0` does not fault.
#[test]
fn an_empty_message_has_writable_data() {
    let _g = lock();
    let port = 8410;
    let baseline = usage();
    let mut a = start(port, no_setup);
    a.scribble = true;
    let mut c = upgraded(port);
    c.send(&masked(1, b""));
    c.send(&masked(1, b"x"));
    pump(20_000, || a.got == b"x");
    reset_and_end(a, &mut c, &baseline);
}

fn streaming_big(w: *mut WSS) {
    unsafe {
        assert_eq!(WSS_setStreaming(w, 1), LWIP_WS_OK);
        assert_eq!(WSS_setMaxMessage(w, 8 << 20), LWIP_WS_OK);
    }
}

/// Receive flow control: a 4 MiB upload into a consumer that takes 64 KiB per 100 ms.
/// While the consumer is paused, lwIP's window closes and the sender stalls; what the
/// library holds stays within one window; nothing is lost or reordered.
#[test]
fn a_slow_consumer_pauses_the_sender_through_the_tcp_window() {
    let _g = lock();
    let port = 8411;
    let baseline = usage();
    let mut a = start(port, streaming_big);
    a.pause_after = 64 * 1024;
    let mut c = upgraded(port);
    let body: Vec<u8> = (0..4u32 << 20)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let wire = frame(0x82, &body, true);
    let mut sent = 0;
    let mut zero_window_seen = false;
    let mut peak_pool = 0;
    let mut peak_held = 0;
    let start_pool = pool_used("PBUF_POOL");
    // 10 ms of lwIP time per round; every 100 ms the consumer takes another 64 KiB.
    for round in 1..=20_000 {
        if sent < wire.len() {
            sent += c.send_some(&wire[sent..]);
        }
        run_steps(5);
        unsafe { unixport_run_for(10) };
        peak_pool = peak_pool.max(pool_used("PBUF_POOL") - start_pool);
        let held = unsafe { WSS_heldBytes(&mut a.slots[0]) };
        peak_held = peak_held.max(held);
        if a.paused > 0 && !c.pcb.is_null() {
            // SAFETY: the client's pcb is live while non-null (LWIP_ALTCP is 0 here).
            zero_window_seen |= unsafe { (*c.pcb.cast::<tcp_pcb>()).snd_wnd } == 0;
        }
        if a.got.len() == body.len() {
            break;
        }
        if round % 10 == 0 {
            a.taken = 0;
            if a.paused > 0 {
                a.paused = 0;
                unsafe { assert_eq!(WSS_resumeRead(&mut a.slots[0]), LWIP_WS_OK) };
            }
        }
    }
    assert_eq!(a.got.len(), body.len(), "all delivered");
    assert!(a.got == body, "in order, byte-exact");
    assert!(zero_window_seen, "the sender waited on a closed window");
    let window = unsafe { lwipws_tcp_wnd() } as i32;
    assert!(
        peak_held > 0 && peak_held <= window,
        "held {peak_held} B, within one window ({window} B)"
    );
    assert_eq!(
        unsafe { WSS_heldBytes(&mut a.slots[0]) },
        0,
        "all delivered"
    );
    let window_pbufs = (unsafe { lwipws_tcp_wnd() } as i64 / 512) + 8;
    assert!(
        peak_pool <= window_pbufs,
        "held pbufs within one window: {peak_pool} > {window_pbufs}"
    );
    reset_and_end(a, &mut c, &baseline);
}

fn pool_used(name: &str) -> i64 {
    usage()
        .1
        .into_iter()
        .find(|(n, _)| n == name)
        .map_or(0, |(_, v)| v)
}

fn max_1mib(w: *mut WSS) {
    unsafe { assert_eq!(WSS_setMaxMessage(w, 1 << 20), LWIP_WS_OK) };
}

/// One heap budget for all connections: a message that would take the library past it
/// ends that connection with 1013 (the others go on), a new upgrade while the budget is
/// spent gets 503, and the total goes back to 0.
#[test]
fn the_heap_budget_ends_the_connection_that_would_exceed_it() {
    let _g = lock();
    let port = 8412;
    let baseline = usage();
    let a = start(port, max_1mib);
    lwipws_setHeapBudget(32 * 1024);
    let mut small = upgraded(port);
    let mut big = upgraded(port);
    assert!(lwipws_heapBytes() > 0, "awake connections are charged");
    let body = vec![7u8; 100_000];
    let wire = frame(0x82, &body, true);
    let mut sent = 0;
    for _ in 0..2_000 {
        if big.pcb.is_null() || !a.closes.is_empty() {
            break;
        }
        sent += big.send_some(&wire[sent..]);
        run_steps(10);
    }
    pump(20_000, || !a.closes.is_empty());
    assert_eq!(a.closes, vec![1013]);
    assert!(lwipws_heapBytes() <= 32 * 1024, "{}", lwipws_heapBytes());
    pump(20_000, || big.close_frame().is_some());
    assert_eq!(
        big.close_frame().map(|f| f.0),
        Some(1013),
        "the peer is told why"
    );
    small.send(&masked(1, b"still here"));
    pump(20_000, || a.got.ends_with(b"still here"));
    // Spent: a budget below what the open connection already holds; a new upgrade.
    lwipws_setHeapBudget(1);
    let mut late = RawClient::connect(port);
    late.send(&upgrade_request(""));
    pump(20_000, || late.text().contains("\r\n\r\n"));
    assert!(late.text().starts_with("HTTP/1.1 503"), "{}", late.text());
    lwipws_setHeapBudget(0);
    for c in [&mut small, &mut big, &mut late] {
        c.finish(true);
    }
    pump(20_000, || a.closes.len() == 2);
    stop(a);
    assert_baseline(&baseline);
}

/// The same rule for an HTTP server of the application's own (`WSS_connect` users).
#[test]
fn the_origin_rule_is_available_to_other_http_servers() {
    let allowed = |o: Option<&CStr>, h: Option<&CStr>, l: Option<&CStr>| unsafe {
        let p = |s: Option<&CStr>| s.map_or(std::ptr::null(), CStr::as_ptr);
        WSS_originAllowed(p(o), p(h), p(l))
    };
    assert_eq!(
        allowed(None, Some(c"dev"), None),
        1,
        "no Origin: not a browser"
    );
    assert_eq!(
        allowed(Some(c"http://dev"), Some(c"dev"), None),
        1,
        "same origin"
    );
    assert_eq!(allowed(Some(c"HTTPS://DEV"), Some(c"dev"), None), 1);
    assert_eq!(allowed(Some(c"http://evil"), Some(c"dev"), None), 0);
    assert_eq!(
        allowed(Some(c"http://dev:81"), Some(c"dev"), None),
        0,
        "port differs"
    );
    assert_eq!(
        allowed(Some(c"http://evil"), Some(c"dev"), Some(c"a, http://evil")),
        1
    );
    assert_eq!(allowed(Some(c"null"), Some(c"dev"), Some(c"null")), 0);
    assert_eq!(allowed(Some(c"null"), None, Some(c"*")), 1);
    assert_eq!(
        allowed(Some(c"http://dev"), None, None),
        0,
        "no Host: no same origin"
    );
}

/// Library-wide default timers: every `WSS` constructed afterwards gets them (here a
/// keep-alive ping after 2 s), and the per-connection setters still override them.
#[test]
fn default_timeouts_apply_to_new_connections() {
    let _g = lock();
    let port = 8413;
    let baseline = usage();
    assert_eq!(lwipws_setDefaultTimeouts(2_000, 0, 0), LWIP_WS_ERR_ARG);
    assert_eq!(lwipws_setDefaultTimeouts(2_000, 1_000, 0), LWIP_WS_OK);
    let a = start(port, no_setup);
    let mut c = upgraded(port);
    unsafe { unixport_run_for(2_500) };
    pump(2_000, || !frames_after_head(&c).is_empty());
    assert_eq!(
        frames_after_head(&c)[0].0,
        0x89,
        "the default keep-alive pinged"
    );
    assert_eq!(
        lwipws_setDefaultTimeouts(30_000, 10_000, 30_000),
        LWIP_WS_OK
    );
    reset_and_end(a, &mut c, &baseline);
}

/// A paused connection still ends: after `WSS_close` the close timeout runs (the peer's
/// reply would be held), so pausing cannot keep a connection alive for ever.
#[test]
fn a_paused_connection_still_times_out_its_close() {
    let _g = lock();
    let port = 8414;
    let baseline = usage();
    let mut a = start(port, no_setup);
    let mut c = upgraded(port);
    unsafe {
        assert_eq!(WSS_pauseRead(&mut a.slots[0]), LWIP_WS_OK);
        assert_eq!(WSS_close(&mut a.slots[0], 1000), LWIP_WS_OK);
        unixport_run_for(6_000);
    }
    pump(4_000, || !a.closes.is_empty());
    assert_eq!(a.closes, vec![LWIP_WS_DROP_CLOSE_TIMEOUT]);
    a.closes.clear();
    c.finish(true);
    stop(a);
    assert_baseline(&baseline);
}
