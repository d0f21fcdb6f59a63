//! Limits are independent settings, and constant pages cost no heap. In one in-process
//! lwIP stack (lwIP 2.1.3 from source, loopback), through the C API:
//! - `WSS_setMaxMessage` bounds what a connection receives and nothing else: it does not
//!   raise the send queue, and the order of the setters does not change the result;
//! - `HttpRequest_respondStatic` serves a page far beyond the send queue's limit, byte
//!   for byte, with no allocation from the library (counted by this binary's global
//!   allocator), where `HttpRequest_respond` copies the page onto the heap;
//! - `WSS_upgradeProtocol` refuses a subprotocol over 64 bytes or not UTF-8.
//!
//! Run with `cargo test --features host-lwip --test limits`.
#![cfg(feature = "host-lwip")]

mod support;

use core::ffi::{c_int, c_void};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use lwip_sys::*;
use lwip_ws::capi::*;
use support::*;

/// The system allocator, counting the allocations (and their bytes) made on a thread
/// while it counts ([`count_allocations`]).
struct Counting;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCS: Cell<(usize, usize)> = const { Cell::new((0, 0)) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.try_with(Cell::get).unwrap_or(false) {
            let _ = ALLOCS.try_with(|a| {
                let (n, bytes) = a.get();
                a.set((n + 1, bytes + layout.size()));
            });
        }
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Allocations (count, bytes) made on this thread while `f` runs.
fn count_allocations(f: impl FnOnce()) -> (usize, usize) {
    ALLOCS.with(|a| a.set((0, 0)));
    COUNTING.with(|c| c.set(true));
    f();
    COUNTING.with(|c| c.set(false));
    ALLOCS.with(Cell::get)
}

// ---- the send queue is not the receive limit ------------------------------------------

/// How the server side configures each accepted connection.
#[derive(Clone, Copy, PartialEq)]
enum Order {
    /// `WSS_setMaxMessage` only.
    MaxMessageOnly,
    /// `WSS_setMaxMessage`, then `WSS_setSendQueue`.
    MaxThenQueue,
    /// `WSS_setSendQueue`, then `WSS_setMaxMessage`.
    QueueThenMax,
}

/// A `websocket_accept` server whose `Side` echoes every message.
#[repr(C)]
struct Server {
    pcb: *mut lwipws_pcb,
    wss: Box<WSS>,
    side: Shared<Side>,
    order: Order,
}

const MAX_MESSAGE: u32 = 1 << 20;
const SMALL_QUEUE: u32 = 300;

unsafe extern "C" fn accept(arg: *mut c_void, newpcb: *mut lwipws_pcb, _e: err_t) -> err_t {
    let s = &mut *arg.cast::<Server>();
    let cb: *mut WSSCB = s.side.cb_ptr();
    let w: *mut WSS = &mut *s.wss;
    assert_eq!(WSS_constructor(w, cb, 128, 128), LWIP_WS_OK);
    match s.order {
        Order::MaxMessageOnly => assert_eq!(WSS_setMaxMessage(w, MAX_MESSAGE), LWIP_WS_OK),
        Order::MaxThenQueue => {
            assert_eq!(WSS_setMaxMessage(w, MAX_MESSAGE), LWIP_WS_OK);
            assert_eq!(WSS_setSendQueue(w, SMALL_QUEUE), LWIP_WS_OK);
        }
        Order::QueueThenMax => {
            assert_eq!(WSS_setSendQueue(w, SMALL_QUEUE), LWIP_WS_OK);
            assert_eq!(WSS_setMaxMessage(w, MAX_MESSAGE), LWIP_WS_OK);
        }
    }
    assert_eq!(websocket_accept(newpcb, w), LWIP_WS_OK);
    ERR_OK as err_t
}

/// Sends one `len`-byte message from a client to an echoing server configured in
/// `order`; returns what the server's echo write returned (the messages the server got,
/// and the codes of its failed writes).
fn echo_once(port: u16, order: Order, len: usize) -> (Vec<usize>, Vec<c_int>) {
    let mut srv = Shared::new(Server {
        pcb: std::ptr::null_mut(),
        wss: new_wss(),
        side: Side::new(true),
        order,
    });
    let mut client = Side::new(false);
    let mut wss = new_wss();
    let addr = loopback();
    let msg = vec![b'x'; len];
    unsafe {
        let pcb = lwipws_new(IPADDR_TYPE_ANY as u8);
        assert_eq!(lwipws_bind(pcb, std::ptr::null(), port), ERR_OK as err_t);
        srv.pcb = lwipws_listen(pcb, 1);
        let arg: *mut Server = srv.as_ptr();
        lwipws_arg(srv.pcb, arg.cast());
        lwipws_accept(srv.pcb, Some(accept));

        assert_eq!(
            WSS_constructor(&mut *wss, &mut client.cb, 256, 256),
            LWIP_WS_OK
        );
        assert_eq!(WSS_setSendQueue(&mut *wss, MAX_MESSAGE + 14), LWIP_WS_OK);
        assert_eq!(WSS_setMaxMessage(&mut *wss, MAX_MESSAGE), LWIP_WS_OK);
        let rc = WSS_openClient(
            &mut *wss,
            &addr,
            port,
            c"127.0.0.1".as_ptr(),
            c"/".as_ptr(),
            std::ptr::null(),
        );
        assert_eq!(rc, LWIP_WS_OK);
        pump(50_000, || client.events.contains(&Ev::Open(None)));
        let n = len as c_int;
        assert_eq!(WSS_write(&mut *wss, msg.as_ptr().cast(), n, 0), LWIP_WS_OK);
        pump(200_000, || !srv.side.messages().is_empty());
        // Whatever the echo did, let it play out, then close from the client.
        run_steps(200);
        assert_eq!(WSS_close(&mut *wss, 1000), LWIP_WS_OK);
        pump(50_000, || {
            !client.closes().is_empty() && !srv.side.closes().is_empty()
        });
        WSS_destructor(&mut *wss);
        WSS_destructor(&mut *srv.wss);
        lwipws_close(srv.pcb);
    }
    let got = srv.side.messages().iter().map(|(_, d)| d.len()).collect();
    if srv.side.echo_failures.is_empty() {
        let echoed = client.messages();
        assert_eq!(echoed.len(), 1, "the echo arrived");
        assert!(echoed[0].1 == msg, "the echo is byte-exact");
    }
    (got, srv.side.echo_failures.clone())
}

/// `WSS_setMaxMessage(1 MiB)` lets a 100 KiB message in, but does not let the connection
/// send one: the send queue keeps its default (65550 B), so the echo is refused as too
/// big instead of silently taking 100 KiB of queue.
#[test]
fn max_message_does_not_raise_the_send_queue() {
    let _g = lock();
    settle();
    let baseline = usage();
    let (got, failures) = echo_once(8601, Order::MaxMessageOnly, 100 * 1024);
    assert_eq!(got, vec![100 * 1024], "the large message was accepted");
    assert_eq!(
        failures,
        vec![LWIP_WS_ERR_TOO_BIG],
        "its echo was over the send queue"
    );
    // Within the default queue, the echo goes through.
    let (got, failures) = echo_once(8602, Order::MaxMessageOnly, 60 * 1024);
    assert_eq!((got, failures), (vec![60 * 1024], vec![]));
    settle();
    assert_eq!(usage(), baseline, "lwIP's memory is back");
}

/// The same two settings in either order give the same connection: 200 KiB in (max
/// message 1 MiB), at most 300 B out (an echo of 400 B is too big, one of 200 B fits).
#[test]
fn the_order_of_the_setters_does_not_matter() {
    let _g = lock();
    settle();
    let baseline = usage();
    let mut port = 8610;
    for order in [Order::MaxThenQueue, Order::QueueThenMax] {
        for (len, expect) in [
            (200 * 1024, vec![LWIP_WS_ERR_TOO_BIG]),
            (400, vec![LWIP_WS_ERR_TOO_BIG]),
            (200, vec![]),
        ] {
            port += 1;
            let (got, failures) = echo_once(port, order, len);
            assert_eq!(got, vec![len], "received whole ({len} B)");
            assert_eq!(failures, expect, "echo of {len} B");
        }
    }
    settle();
    assert_eq!(usage(), baseline, "lwIP's memory is back");
}

// ---- constant pages ----------------------------------------------------------------

const PAGE_LEN: usize = 300 * 1024;

/// A constant page, as firmware keeps it in flash (a pattern, to check every byte).
static PAGE: [u8; PAGE_LEN] = {
    let mut page = [0u8; PAGE_LEN];
    let mut i = 0;
    while i < PAGE_LEN {
        page[i] = b'a' + (i % 23) as u8;
        i += 1;
    }
    page
};

#[repr(C)]
struct PageServer {
    l: WSListener,
    /// Serve `len` bytes of PAGE with `HttpRequest_respondStatic` (else `_respond`).
    by_reference: bool,
    len: usize,
    result: Option<c_int>,
    /// Allocations made by the answering call.
    call_allocs: (usize, usize),
}

unsafe extern "C" fn on_request(l: *mut WSListener, req: *mut HttpRequest) {
    let srv = &mut *l.cast::<PageServer>();
    let n = srv.len as c_int;
    let ctype = c"text/html".as_ptr();
    let body = PAGE.as_ptr().cast();
    let mut rc = 0;
    srv.call_allocs = count_allocations(|| {
        rc = if srv.by_reference {
            HttpRequest_respondStatic(req, 200, ctype, body, n)
        } else {
            HttpRequest_respond(req, 200, ctype, body, n)
        };
    });
    srv.result = Some(rc);
}

/// Serves one page of `len` bytes and fetches it with a raw client; returns the response
/// and the allocations made by the answer and from then to the end of the connection.
fn serve_page(port: u16, by_reference: bool, len: usize) -> (c_int, Vec<u8>, (usize, usize)) {
    let mut srv = Shared::new(PageServer {
        l: WSListener {
            _opaque: [0; LWIP_WS_LISTENER_WORDS],
        },
        by_reference,
        len,
        result: None,
        call_allocs: (0, 0),
    });
    let mut client;
    unsafe {
        assert_eq!(
            WSListener_constructor(&mut srv.l, Some(on_request)),
            LWIP_WS_OK
        );
        assert_eq!(
            WSListener_listen(&mut srv.l, std::ptr::null(), port),
            LWIP_WS_OK
        );
        client = RawClient::connect(port);
        client.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n");
        // The listener allocates for the request head as it arrives; counted are the
        // answer (in the callback) and everything after it.
        pump(20_000, || srv.result.is_some() || client.fin);
    }
    let (rc, allocs) = (srv.result.unwrap_or(-1000), srv.call_allocs);
    let more = count_allocations(|| pump(400_000, || client.fin || client.err.is_some()));
    client.finish(false);
    unsafe { WSListener_destructor(&mut srv.l) };
    run_steps(100);
    (
        rc,
        client.received.clone(),
        (allocs.0 + more.0, allocs.1 + more.1),
    )
}

/// Splits a response into its head and body.
fn split(response: &[u8]) -> (String, &[u8]) {
    let at = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a response head");
    (
        String::from_utf8_lossy(&response[..at]).into_owned(),
        &response[at + 4..],
    )
}

/// `HttpRequest_respondStatic` sends a 300 KiB constant page (over four times the send
/// queue's limit) byte for byte, with no allocation at all from the answer to the close;
/// `HttpRequest_respond` of a 60 KiB page allocates at least the page (which shows the
/// counter sees the library's allocations), and refuses 300 KiB.
#[test]
fn a_constant_page_is_sent_by_reference_with_no_heap() {
    let _g = lock();
    settle();
    let baseline = usage();

    let (rc, response, allocs) = serve_page(8621, true, PAGE_LEN);
    assert_eq!(rc, LWIP_WS_OK);
    let (head, body) = split(&response);
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(
        head.contains(&format!("Content-Length: {PAGE_LEN}\r\n")),
        "{head}"
    );
    assert!(head.contains("Content-Type: text/html\r\n"), "{head}");
    assert!(
        body == &PAGE[..],
        "the page arrived byte for byte ({} B)",
        body.len()
    );
    assert_eq!(allocs, (0, 0), "no allocation from the answer to the close");

    let (rc, response, allocs) = serve_page(8622, false, 60 * 1024);
    assert_eq!(rc, LWIP_WS_OK);
    assert!(split(&response).1 == &PAGE[..60 * 1024]);
    assert!(allocs.1 >= 60 * 1024, "the copy is on the heap: {allocs:?}");

    let (rc, response, _) = serve_page(8623, false, PAGE_LEN);
    assert_eq!(
        rc, LWIP_WS_ERR_TOO_BIG,
        "respond is bounded by the send queue"
    );
    assert!(String::from_utf8_lossy(&response).starts_with("HTTP/1.1 404"));

    settle();
    assert_eq!(usage(), baseline, "lwIP's memory is back");
}

/// The request callback's arguments are checked; an answered request cannot be answered
/// again; an empty constant page is a valid answer.
#[test]
fn respond_static_checks_its_arguments() {
    unsafe extern "C" fn on_request(_l: *mut WSListener, req: *mut HttpRequest) {
        let ct = c"text/plain".as_ptr();
        let body = PAGE.as_ptr().cast();
        let null: *const c_void = std::ptr::null();
        for (status, ctype, b, n) in [(99, ct, body, 1), (600, ct, body, 1), (200, ct, body, -1)] {
            assert_eq!(
                HttpRequest_respondStatic(req, status, ctype, b, n),
                LWIP_WS_ERR_ARG
            );
        }
        assert_eq!(
            HttpRequest_respondStatic(req, 200, null.cast(), body, 1),
            LWIP_WS_ERR_ARG
        );
        assert_eq!(
            HttpRequest_respondStatic(req, 200, ct, null, 1),
            LWIP_WS_ERR_ARG
        );
        assert_eq!(
            HttpRequest_respondStatic(req, 200, c"text/\xff".as_ptr(), body, 1),
            LWIP_WS_ERR_ARG
        );
        let bad = c"text/plain\r\nX: y".as_ptr();
        assert_ne!(
            HttpRequest_respondStatic(req, 200, bad, body, 1),
            LWIP_WS_OK
        );
        assert_eq!(HttpRequest_respondStatic(req, 204, ct, null, 0), LWIP_WS_OK);
        assert_eq!(
            HttpRequest_respondStatic(req, 200, ct, body, 1),
            LWIP_WS_ERR_STATE
        );
        assert_eq!(
            HttpRequest_respondStatic(std::ptr::null_mut(), 200, ct, body, 1),
            LWIP_WS_ERR_ARG
        );
    }
    let text = answer_one(8631, on_request, b"GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    assert!(text.starts_with("HTTP/1.1 204 "), "{text}");
    assert!(text.contains("Content-Length: 0\r\n"), "{text}");
}

/// Sends `request` to a listener on `port` whose request callback is `on_request`, and
/// returns the answer; checks that lwIP's memory is back afterwards.
fn answer_one(
    port: u16,
    on_request: unsafe extern "C" fn(*mut WSListener, *mut HttpRequest),
    request: &[u8],
) -> String {
    let _g = lock();
    settle();
    let baseline = usage();
    let mut l = Box::new(WSListener {
        _opaque: [0; LWIP_WS_LISTENER_WORDS],
    });
    unsafe {
        assert_eq!(
            WSListener_constructor(&mut *l, Some(on_request)),
            LWIP_WS_OK
        );
        assert_eq!(
            WSListener_listen(&mut *l, std::ptr::null(), port),
            LWIP_WS_OK
        );
    }
    let mut client = RawClient::connect(port);
    client.send(request);
    pump(50_000, || client.fin || client.err.is_some());
    let text = client.text();
    client.finish(false);
    unsafe { WSListener_destructor(&mut *l) };
    settle();
    assert_eq!(usage(), baseline, "lwIP's memory is back");
    text
}

/// `WSS_upgradeProtocol` checks the protocol to select before anything else: longer than
/// 64 bytes or not UTF-8 is refused with `LWIP_WS_ERR_ARG`; 64 bytes of UTF-8 (or none)
/// passes, and the unconstructed `WSS` is refused next. The request is still unanswered
/// after each refusal.
#[test]
fn upgrade_protocol_checks_the_protocol_it_selects() {
    unsafe extern "C" fn on_request(_l: *mut WSListener, req: *mut HttpRequest) {
        let mut idle = WSS {
            _opaque: [0; LWIP_WS_WSS_WORDS],
        };
        let longest = std::ffi::CString::new("p".repeat(64)).unwrap();
        let too_long = std::ffi::CString::new("p".repeat(65)).unwrap();
        let not_utf8 = c"chat\xff";
        let expected = [
            (longest.as_ptr(), LWIP_WS_ERR_NOT_CONSTRUCTED),
            (std::ptr::null(), LWIP_WS_ERR_NOT_CONSTRUCTED),
            (too_long.as_ptr(), LWIP_WS_ERR_ARG),
            (not_utf8.as_ptr(), LWIP_WS_ERR_ARG),
        ];
        for (protocol, code) in expected {
            assert_eq!(WSS_upgradeProtocol(&mut idle, req, protocol), code);
        }
        assert_eq!(HttpRequest_reject(req, 400), LWIP_WS_OK);
    }
    let text = answer_one(8632, on_request, b"GET /ws HTTP/1.1\r\nHost: t\r\n\r\n");
    assert!(text.starts_with("HTTP/1.1 400 "), "{text}");
}
