//! lwIP failures under a live connection, on in-process lwIP: `tcp_write`/`tcp_output`
//! returning ERR_MEM (the shim's test hooks, and for real by emptying lwIP's segment pool
//! and heap), pbuf pools run dry, no free pcb, and lwIP's err callback arriving in every
//! connection state (handshaking, open, closing, draining). The library must never crash,
//! never lose or tear a frame, call `closeFp` exactly once and nothing after it, and
//! lwIP's heap and pool statistics must return to their starting values.
//!
//! Run with `cargo test --features host-lwip --test faults`.
#![cfg(feature = "host-lwip")]

mod support;

use core::ffi::c_void;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::ffi::CStr;

use lwip_sys::*;
use lwip_ws::capi::*;
use support::*;

const PORT: u16 = 8301;

/// The system allocator, except that on a thread that armed it ([`refuse`]) it refuses
/// every allocation of one size: Rust heap exhaustion for exactly one kind of block.
struct Refusing;

thread_local! {
    static REFUSED_SIZE: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Refusing {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let refused = REFUSED_SIZE.try_with(Cell::get).unwrap_or(0);
        if refused != 0 && layout.size() == refused {
            return std::ptr::null_mut();
        }
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Refusing = Refusing;

/// Refuse allocations of `size` bytes on this thread from now on (0: refuse none).
fn refuse(size: usize) {
    REFUSED_SIZE.with(|r| r.set(size));
}

/// Memory taken from lwIP's own pools and heap; given back on drop.
#[derive(Default)]
struct Hog {
    pool_items: Vec<(memp_t, *mut c_void)>,
    heap_blocks: Vec<*mut c_void>,
}

fn pool_index(name: &str) -> memp_t {
    unsafe {
        (0..lwipws_stats_memp_count())
            .find(|&i| CStr::from_ptr(lwipws_stats_memp_name(i)).to_bytes() == name.as_bytes())
            .unwrap_or_else(|| panic!("no lwIP pool {name}")) as memp_t
    }
}

impl Hog {
    /// Takes every free element of the pool `name` (e.g. "TCP_SEG").
    fn pool(&mut self, name: &str) -> usize {
        let idx = pool_index(name);
        let mut n = 0;
        for _ in 0..1_000_000 {
            let p = unsafe { memp_malloc(idx) };
            if p.is_null() {
                break;
            }
            self.pool_items.push((idx, p));
            n += 1;
        }
        n
    }

    /// Takes lwIP's heap down to nothing (every block size from 1 MiB to 8 bytes).
    fn heap(&mut self) {
        for size in [1usize << 20, 1 << 16, 4096, 256, 32, 8] {
            for _ in 0..100_000 {
                let p = unsafe { mem_malloc(size as mem_size_t) };
                if p.is_null() {
                    break;
                }
                self.heap_blocks.push(p);
            }
        }
    }

    fn release(&mut self) {
        for (idx, p) in self.pool_items.drain(..) {
            unsafe { memp_free(idx, p) };
        }
        for p in self.heap_blocks.drain(..) {
            unsafe { mem_free(p) };
        }
    }
}

impl Drop for Hog {
    fn drop(&mut self) {
        self.release();
    }
}

fn upgraded_on(port: u16) -> Shared<RawClient> {
    let mut c = RawClient::connect(port);
    c.send(UPGRADE);
    pump(20_000, || {
        c.text().starts_with("HTTP/1.1 101") && c.text().contains("\r\n\r\n")
    });
    c
}

fn upgraded() -> Shared<RawClient> {
    upgraded_on(PORT)
}

fn write(srv: &mut RawServer, text: bool, data: &[u8]) -> i32 {
    unsafe {
        WSS_write(
            &mut *srv.wss,
            data.as_ptr().cast(),
            data.len() as i32,
            text as i32,
        )
    }
}

/// The client answers the server's close and both ends finish; exactly one `closeFp`.
fn close_cleanly(srv: &mut RawServer, mut c: Shared<RawClient>) {
    unsafe { assert_eq!(WSS_close(&mut *srv.wss, 1000), LWIP_WS_OK) };
    pump(20_000, || c.close_frame().is_some());
    c.send(&frame(0x88, &close_payload(1000, b""), true));
    pump(20_000, || c.fin);
    pump(20_000, || !srv.side.closes().is_empty());
    unsafe { unixport_run_for(10_000) };
    assert_eq!(srv.side.closes(), vec![1000]);
    c.finish(false);
}

/// Closes cleanly, then checks that lwIP's heap and pools are back at `baseline` and stops
/// the server.
fn end_with_memory_back(
    mut srv: Shared<RawServer>,
    c: Shared<RawClient>,
    baseline: (i64, Vec<(String, i64)>),
) {
    close_cleanly(&mut srv, c);
    settle();
    assert_eq!(usage(), baseline);
    stop_raw_server(srv);
}

#[test]
fn tcp_write_and_tcp_output_err_mem_delay_frames_but_never_lose_or_tear_them() {
    let _g = lock();
    let mut srv = raw_server(PORT);
    settle();
    let baseline = usage();
    let c = upgraded();
    let big = payload_bytes(5000);
    unsafe { lwipws_test_fail_writes(0xFFFF) };
    assert_eq!(write(&mut srv, true, b"hello"), LWIP_WS_OK, "queued");
    assert_eq!(write(&mut srv, false, &big), LWIP_WS_OK, "queued");
    unsafe {
        assert!(
            WSS_queued(&mut *srv.wss) > 0,
            "still queued while lwIP refuses"
        )
    };
    unsafe { lwipws_test_fail_outputs(0xFF) };
    assert_eq!(write(&mut srv, true, b"third"), LWIP_WS_OK);
    pump(20_000, || c.frames().len() >= 3);
    unsafe {
        lwipws_test_fail_writes(0);
        lwipws_test_fail_outputs(0);
    }
    let frames = c.frames();
    assert_eq!(
        frames,
        vec![
            (0x81, b"hello".to_vec()),
            (0x82, big),
            (0x81, b"third".to_vec())
        ],
        "every frame once, whole and in order"
    );
    // The close frame itself meets ERR_MEM too (twice: retried from the poll callback,
    // well within the 2 s close timeout).
    unsafe { lwipws_test_fail_writes(0x3) };
    close_cleanly(&mut srv, c);
    unsafe { lwipws_test_fail_writes(0) };
    settle();
    assert_eq!(usage(), baseline);
    stop_raw_server(srv);
}

/// A server's data frame of 4 KiB or more goes from the caller's bytes straight into
/// `tcp_write` when nothing is queued; what lwIP cannot take (no room in its send buffer, or `ERR_MEM`
/// for the payload after the header went out) follows from the send queue, so every
/// frame still arrives once, whole and in order.
#[test]
fn direct_writes_queue_only_what_lwip_cannot_take() {
    let _g = lock();
    let mut srv = raw_server(PORT);
    settle();
    let baseline = usage();
    let c = upgraded();
    let queued = |srv: &mut RawServer| unsafe { WSS_queued(&mut *srv.wss) } as usize;
    let first = payload_bytes(5000);
    assert_eq!(write(&mut srv, false, &first), LWIP_WS_OK);
    assert_eq!(queued(&mut srv), 0, "lwIP took the whole frame");
    pump(20_000, || c.frames().len() == 1);
    // The header goes out, the payload meets ERR_MEM: all of it is queued.
    let second = payload_bytes(6000);
    unsafe { lwipws_test_fail_writes(0b10) };
    assert_eq!(write(&mut srv, false, &second), LWIP_WS_OK);
    unsafe { lwipws_test_fail_writes(0) };
    assert_eq!(
        queued(&mut srv),
        second.len(),
        "the payload waits in the queue"
    );
    pump(20_000, || c.frames().len() == 2);
    // The header meets ERR_MEM: nothing went out, the frame is queued whole.
    unsafe { lwipws_test_fail_writes(0b1) };
    assert_eq!(
        write(&mut srv, true, b"x".repeat(4096).as_slice()),
        LWIP_WS_OK
    );
    unsafe { lwipws_test_fail_writes(0) };
    pump(20_000, || c.frames().len() == 3);
    // More than lwIP's send buffer (TCP_SND_BUF): the rest is queued.
    let big = payload_bytes(60_000);
    assert_eq!(write(&mut srv, false, &big), LWIP_WS_OK);
    let left = queued(&mut srv);
    assert!(
        left > 0 && left < big.len(),
        "lwIP took part, the queue the rest: {left}"
    );
    pump(20_000, || c.frames().len() == 4);
    assert_eq!(
        c.frames(),
        vec![
            (0x82, first),
            (0x82, second),
            (0x81, b"x".repeat(4096)),
            (0x82, big)
        ],
        "every frame once, whole and in order"
    );
    end_with_memory_back(srv, c, baseline);
}

/// With `WSS_setIdleRelease(wss, 0)` an idle connection keeps its engine and buffers:
/// after a pause of several poll intervals it still holds them, and a message in each
/// direction then needs no new memory (the engine's allocation is refused meanwhile).
#[test]
fn with_idle_release_off_an_idle_connection_keeps_its_memory_and_never_allocates() {
    let _g = lock();
    let mut srv = raw_server(PORT);
    srv.keep_memory = true;
    settle();
    let baseline = usage();
    let mut c = upgraded();
    let msg = payload_bytes(900);
    let mut frame = vec![0x82, 0x80 | 126, (msg.len() >> 8) as u8, msg.len() as u8];
    frame.extend_from_slice(&[0; 4]); // mask key 0: the payload as is
    frame.extend_from_slice(&msg);
    // The server echoes every message (`Side::new(true)`).
    c.send(&frame);
    pump(20_000, || c.frames().len() == 1);
    let held = unsafe { WSS_heapBytes(&mut *srv.wss) };
    unsafe { unixport_run_for(3_000) };
    assert_eq!(
        unsafe { WSS_heapBytes(&mut *srv.wss) },
        held,
        "nothing given back while idle"
    );
    assert!(held >= lwip_ws::capi::engine_block_bytes() as i32);
    // A parked engine could not wake now, and buffers given back would have to grow again.
    refuse(lwip_ws::capi::engine_block_bytes());
    c.send(&frame);
    pump(20_000, || c.frames().len() == 2);
    refuse(0);
    assert_eq!(srv.side.messages()[1], (false, msg.clone()));
    assert_eq!(c.frames()[1], (0x82, msg));
    assert_eq!(
        unsafe { WSS_heapBytes(&mut *srv.wss) },
        held,
        "the same memory, nothing grown"
    );
    end_with_memory_back(srv, c, baseline);
}

fn payload_bytes(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 + i / 251) as u8).collect()
}

#[test]
fn empty_segment_pool_heap_and_pbuf_pools_delay_frames_but_never_lose_them() {
    let _g = lock();
    let mut srv = raw_server(PORT);
    settle();
    let baseline = usage();
    let c = upgraded();
    for (what, take) in [
        (
            "TCP_SEG pool",
            &(|h: &mut Hog| assert!(h.pool("TCP_SEG") > 0)) as &dyn Fn(&mut Hog),
        ),
        ("lwIP heap (PBUF_RAM)", &|h: &mut Hog| h.heap()),
        ("PBUF and PBUF_POOL pools", &|h: &mut Hog| {
            h.pool("PBUF");
            h.pool("PBUF_POOL");
        }),
    ] {
        let before = c.frames().len();
        let data = payload_bytes(3000);
        let mut hog = Hog::default();
        take(&mut hog);
        assert_eq!(write(&mut srv, false, &data), LWIP_WS_OK, "{what}: queued");
        assert_eq!(
            write(&mut srv, true, what.as_bytes()),
            LWIP_WS_OK,
            "{what}: queued"
        );
        run_steps(200);
        hog.release();
        pump(20_000, || c.frames().len() >= before + 2);
        let frames = c.frames();
        assert_eq!(
            frames[before..],
            [(0x82, data), (0x81, what.as_bytes().to_vec())],
            "{what}: both frames whole, once, in order"
        );
        assert!(
            srv.side.closes().is_empty(),
            "{what}: the connection survives"
        );
    }
    end_with_memory_back(srv, c, baseline);
}

#[test]
fn incoming_frames_survive_an_empty_heap_on_the_receiving_side() {
    let _g = lock();
    let srv = raw_server(PORT);
    settle();
    let baseline = usage();
    let mut c = upgraded();
    c.send(&frame(0x81, b"before", true));
    let mut hog = Hog::default();
    hog.heap();
    hog.pool("TCP_SEG");
    run_steps(400);
    hog.release();
    pump(20_000, || !c.frames().is_empty());
    assert_eq!(c.frames(), vec![(0x81, b"before".to_vec())], "echoed once");
    assert_eq!(srv.side.messages(), vec![(true, b"before".to_vec())]);
    end_with_memory_back(srv, c, baseline);
}

#[test]
fn no_free_pcb_gives_err_no_mem_without_callbacks_then_works_again() {
    let _g = lock();
    let srv = raw_server(PORT);
    settle();
    let baseline = usage();
    let side = Side::new(false);
    let mut wss = new_wss();
    let addr = loopback();
    let mut hog = Hog::default();
    assert!(hog.pool("TCP_PCB") > 0);
    unsafe {
        assert_eq!(
            WSS_constructor(&mut *wss, side.cb_ptr(), 64, 64),
            LWIP_WS_OK
        );
        let rc = open_client(&mut wss, &addr);
        assert_eq!(rc, LWIP_WS_ERR_NO_MEM);
        assert_eq!(WSS_isValid(&mut *wss), 0);
        let mut l = Box::new(WSListener {
            _opaque: [0; LWIP_WS_LISTENER_WORDS],
        });
        assert_eq!(
            WSListener_constructor(&mut *l, Some(ignore_request)),
            LWIP_WS_OK
        );
        assert_eq!(
            WSListener_listen(&mut *l, std::ptr::null(), PORT + 1),
            LWIP_WS_ERR_NO_MEM
        );
        WSListener_destructor(&mut *l);
    }
    run_steps(200);
    assert!(
        side.events.is_empty(),
        "no callback for a connection never made"
    );
    hog.release();
    unsafe {
        let rc = open_client(&mut wss, &addr);
        assert_eq!(rc, LWIP_WS_OK, "the same storage works once pcbs are free");
    }
    pump(20_000, || side.events.contains(&Ev::Open(None)));
    unsafe { assert_eq!(WSS_close(&mut *wss, 1000), LWIP_WS_OK) };
    pump(20_000, || {
        side.closes().len() == 1 && srv.side.closes().len() == 1
    });
    assert_eq!(side.closes(), vec![1000]);
    unsafe { WSS_destructor(&mut *wss) };
    stop_raw_server(srv);
    settle();
    let (heap, pools) = usage();
    // The raw server's listening pcb is gone too: compare everything but that pool.
    let strip = |p: &Vec<(String, i64)>| {
        p.iter()
            .filter(|(n, _)| n != "TCP_PCB_LISTEN")
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!((heap, strip(&pools)), (baseline.0, strip(&baseline.1)));
}

unsafe fn open_client(wss: &mut WSS, addr: &ip_addr_t) -> i32 {
    WSS_openClient(
        wss,
        addr,
        PORT,
        c"127.0.0.1".as_ptr(),
        c"/".as_ptr(),
        std::ptr::null(),
    )
}

unsafe extern "C" fn ignore_request(_l: *mut WSListener, _r: *mut HttpRequest) {}

/// The server's connection in a given state, then `event` makes lwIP call its err
/// callback; exactly one `closeFp` with `expected`, nothing after it, memory back.
fn err_in_state(
    port: u16,
    name: &str,
    setup: impl FnOnce(&mut RawServer) -> Shared<RawClient>,
    event: impl FnOnce(&mut RawServer, &mut RawClient),
    expected: i32,
) {
    let mut srv = raw_server(port);
    srv.timeouts = (3000, 2000);
    settle();
    let baseline = usage();
    let mut c = setup(&mut srv);
    assert!(
        srv.side.closes().is_empty(),
        "{name}: still alive before the error"
    );
    event(&mut srv, &mut c);
    pump(20_000, || !srv.side.closes().is_empty());
    unsafe { unixport_run_for(10_000) };
    assert_eq!(srv.side.closes(), vec![expected], "{name}");
    let events = srv.side.events.len();
    run_steps(500);
    assert_eq!(
        srv.side.events.len(),
        events,
        "{name}: no callback after closeFp"
    );
    c.finish(true);
    stop_raw_server(srv);
    settle();
    let (heap, pools) = usage();
    assert_eq!(heap, baseline.0, "{name}: lwIP heap back");
    let listen = |p: &Vec<(String, i64)>| {
        p.iter()
            .filter(|(n, _)| n != "TCP_PCB_LISTEN")
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(
        listen(&pools),
        listen(&baseline.1),
        "{name}: lwIP pools back"
    );
}

fn reset(_s: &mut RawServer, c: &mut RawClient) {
    c.finish(true);
}

fn abort_server_pcb(s: &mut RawServer, _c: &mut RawClient) {
    // lwIP itself aborting our pcb (as tcp_kill_prio or an out-of-memory path would).
    unsafe { lwipws_abort(s.accepted) };
}

fn handshaking(s: &mut RawServer) -> Shared<RawClient> {
    let mut c = RawClient::connect(s.port);
    c.send(&UPGRADE[..20]);
    run_steps(100);
    c
}

fn open(s: &mut RawServer) -> Shared<RawClient> {
    upgraded_on(s.port)
}

fn closing(s: &mut RawServer) -> Shared<RawClient> {
    let c = upgraded_on(s.port);
    unsafe { assert_eq!(WSS_close(&mut *s.wss, 1000), LWIP_WS_OK) };
    pump(20_000, || c.close_frame().is_some());
    c
}

/// Failed for a protocol error while the peer reads nothing: the close frame sits in the
/// queue behind a full window (state Closed, output still draining).
fn draining(s: &mut RawServer) -> Shared<RawClient> {
    let mut c = upgraded_on(s.port);
    c.hold = true;
    let msg = vec![b'q'; 1000];
    let mut blocked = false;
    for _ in 0..1000 {
        if write(s, false, &msg) == LWIP_WS_ERR_WOULD_BLOCK {
            blocked = true;
            break;
        }
        run_steps(5);
    }
    assert!(blocked, "the queue filled");
    c.send(&frame(0x81, b"unmasked", false));
    run_steps(100);
    unsafe { assert!(WSS_queued(&mut *s.wss) > 0, "output still queued") };
    c
}

#[test]
fn the_err_callback_in_every_state_ends_with_exactly_one_close_callback() {
    let _g = lock();
    err_in_state(
        8311,
        "handshaking, peer reset",
        handshaking,
        reset,
        LWIP_WS_DROP_RESET,
    );
    err_in_state(
        8312,
        "handshaking, pcb aborted",
        handshaking,
        abort_server_pcb,
        LWIP_WS_DROP_ABORTED,
    );
    err_in_state(8313, "open, peer reset", open, reset, LWIP_WS_DROP_RESET);
    err_in_state(
        8314,
        "open, pcb aborted",
        open,
        abort_server_pcb,
        LWIP_WS_DROP_ABORTED,
    );
    err_in_state(
        8315,
        "closing, peer reset",
        closing,
        reset,
        LWIP_WS_DROP_RESET,
    );
    err_in_state(
        8316,
        "closing, pcb aborted",
        closing,
        abort_server_pcb,
        LWIP_WS_DROP_ABORTED,
    );
    // Draining: the connection already ended with our 1002, which is what closeFp says.
    err_in_state(8317, "draining, peer reset", draining, reset, 1002);
    err_in_state(
        8318,
        "draining, pcb aborted",
        draining,
        abort_server_pcb,
        1002,
    );
    err_in_state(
        8319,
        "draining, peer silent",
        draining,
        |_, _| {},
        LWIP_WS_DROP_CLOSE_TIMEOUT,
    );
}

/// An open connection idle for a poll interval parks its engine (no heap); waking it
/// needs one allocation. A write that cannot wake it is refused with
/// `LWIP_WS_ERR_NO_MEM` and the connection goes on; a frame that arrives when the engine
/// cannot wake ends the connection with `LWIP_WS_DROP_NO_MEM`, once, and nothing leaks.
#[test]
fn a_parked_engine_that_cannot_wake_is_reported_not_lost() {
    let _g = lock();
    let mut srv = raw_server(PORT);
    settle();
    let baseline = usage();
    let mut c = upgraded();
    let engine = lwip_ws::capi::engine_block_bytes();
    c.send(&masked(1, b"one"));
    pump(20_000, || c.frames().len() == 1);
    unsafe { unixport_run_for(2_000) };
    assert_eq!(unsafe { WSS_heapBytes(&mut *srv.wss) }, 0, "idle: parked");

    refuse(engine);
    assert_eq!(write(&mut srv, true, b"x"), LWIP_WS_ERR_NO_MEM);
    refuse(0);
    assert_eq!(write(&mut srv, true, b"two"), LWIP_WS_OK, "woken");
    pump(20_000, || c.frames().len() == 2);
    assert!(unsafe { WSS_heapBytes(&mut *srv.wss) } >= engine as i32);
    unsafe { unixport_run_for(2_000) };
    assert_eq!(unsafe { WSS_heapBytes(&mut *srv.wss) }, 0, "parked again");

    refuse(engine);
    c.send(&masked(1, b"three"));
    pump(20_000, || !srv.side.closes().is_empty());
    refuse(0);
    assert_eq!(srv.side.closes(), vec![LWIP_WS_DROP_NO_MEM]);
    pump(20_000, || c.err.is_some() || c.fin);
    assert_eq!(
        c.frames(),
        vec![(0x81, b"one".to_vec()), (0x81, b"two".to_vec())],
        "nothing after the failure"
    );
    unsafe { unixport_run_for(10_000) };
    assert_eq!(srv.side.closes().len(), 1, "closeFp exactly once");
    c.finish(false);
    settle();
    assert_eq!(usage(), baseline);
    stop_raw_server(srv);
}
