//! The lwIP layer in-process (lwIP 2.1.3 compiled in, loopback netif): a server connection
//! made by `websocket_accept` on a really accepted pcb receives the input as pbuf chains
//! split at input-chosen points, handed straight to its recv callback, while
//! `lwipws_write`/`lwipws_output` fail with ERR_MEM at input-chosen calls (the shim's
//! test hooks) and time jumps fire its poll timers. The server echoes every message, as
//! is or (input-chosen) grown past 4 KiB, whole or in two fragments, so that large frames
//! take the path that hands the caller's bytes straight to `tcp_write`. Input-chosen:
//! the server pauses reading after a message and resumes at chosen points (held pbufs,
//! unacknowledged), a small library-wide heap budget, short keep-alive and message
//! timeouts that the time jumps reach.
//!
//! Invariants: no crash; the recv callback returns ERR_OK or ERR_ABRT (anything else
//! would leave the pbuf with lwIP); `closeFp` exactly once per connection and no callback
//! after it; `WSS_heapBytes` within a bound from the configuration and equal to what the
//! connection charged to the budget (`lwipws_heapBytes`); lwIP's heap and every pool back
//! to the starting values, and the budget total to 0, after each input.
#![no_main]

use core::ffi::{c_int, c_void};
use std::ffi::CStr;

use libfuzzer_sys::fuzz_target;
use lwip_sys::*;
use lwip_ws::capi::*;
use lwip_ws_fuzz::{Reader, REQUEST};

const PORT: u16 = 9301;

#[repr(C)]
struct App {
    cb: WSSCB,
    closes: u32,
    after_close: u32,
    max_message: u32,
    send_queue: u32,
    /// 0: echo as is; 1–3: echo a binary message of 4 KiB or more built from it (3: in
    /// two fragments).
    grow: u8,
    /// Pause reading after each message.
    pause: bool,
    /// Short keep-alive and message timeouts.
    timers: bool,
    wss: WSS,
    accepted: *mut lwipws_pcb,
}

struct Client {
    pcb: *mut lwipws_pcb,
    gone: bool,
    received: Vec<u8>,
}

static mut APP: *mut App = std::ptr::null_mut();
static mut LISTENER: *mut lwipws_pcb = std::ptr::null_mut();
static mut CLIENT: Client = Client {
    pcb: std::ptr::null_mut(),
    gone: false,
    received: Vec::new(),
};

unsafe fn app<'a>(o: *mut WSSCB) -> &'a mut App {
    &mut *o.cast::<App>()
}

unsafe extern "C" fn on_frame(o: *mut WSSCB, wss: *mut WSS, d: *mut c_void, n: c_int, t: c_int) {
    let a = app(o);
    if a.closes > 0 {
        a.after_close += 1;
    }
    assert_eq!(
        *d.cast::<u8>().add(n as usize),
        0,
        "message not NUL-terminated"
    );
    if a.pause {
        assert_eq!(WSS_pauseRead(wss), LWIP_WS_OK);
    }
    if a.grow == 0 {
        let _ = WSS_write(wss, d, n, t);
        return;
    }
    let msg = std::slice::from_raw_parts(d.cast::<u8>(), n as usize);
    let len = 4096 + usize::from(a.grow) * 1500;
    let big: Vec<u8> = msg.iter().chain(b"x").cycle().take(len).copied().collect();
    if a.grow == 3 {
        let (first, second) = big.split_at(len / 2);
        if WSS_writeFragment(wss, first.as_ptr().cast(), first.len() as c_int, 0, 0) == LWIP_WS_OK {
            // Refused (e.g. the queue is full): the message stays open, which the
            // connection must survive too.
            let _ = WSS_writeFragment(wss, second.as_ptr().cast(), second.len() as c_int, 0, 1);
        }
    } else {
        let _ = WSS_write(wss, big.as_ptr().cast(), len as c_int, 0);
    }
}

unsafe extern "C" fn on_ping(o: *mut WSSCB, _w: *mut WSS, _d: *mut c_void, _n: c_int) {
    let a = app(o);
    if a.closes > 0 {
        a.after_close += 1;
    }
}

unsafe extern "C" fn on_close(o: *mut WSSCB, _w: *mut WSS, _status: c_int) {
    app(o).closes += 1;
}

unsafe extern "C" fn on_accept(arg: *mut c_void, newpcb: *mut lwipws_pcb, _e: err_t) -> err_t {
    let a = &mut *arg.cast::<App>();
    let cb: *mut WSSCB = &mut a.cb;
    assert_eq!(WSS_constructor(&mut a.wss, cb, 64, 96), LWIP_WS_OK);
    assert_eq!(WSS_setMaxMessage(&mut a.wss, a.max_message), LWIP_WS_OK);
    assert_eq!(WSS_setSendQueue(&mut a.wss, a.send_queue), LWIP_WS_OK);
    assert_eq!(WSS_setTimeouts(&mut a.wss, 2000, 1000), LWIP_WS_OK);
    if a.timers {
        assert_eq!(WSS_setKeepAlive(&mut a.wss, 1000, 500), LWIP_WS_OK);
        assert_eq!(WSS_setMessageTimeout(&mut a.wss, 1000), LWIP_WS_OK);
    }
    a.accepted = newpcb;
    assert_eq!(websocket_accept(newpcb, &mut a.wss), LWIP_WS_OK);
    ERR_OK as err_t
}

unsafe extern "C" fn client_recv(
    _a: *mut c_void,
    pcb: *mut lwipws_pcb,
    p: *mut pbuf,
    _e: err_t,
) -> err_t {
    if p.is_null() {
        return ERR_OK as err_t;
    }
    let c = &mut *std::ptr::addr_of_mut!(CLIENT);
    let mut q = p;
    while !q.is_null() {
        let piece = std::slice::from_raw_parts((*q).payload.cast::<u8>(), usize::from((*q).len));
        c.received.extend_from_slice(piece);
        q = (*q).next;
    }
    lwipws_recved(pcb, (*p).tot_len);
    pbuf_free(p);
    ERR_OK as err_t
}

unsafe extern "C" fn client_err(_a: *mut c_void, _e: err_t) {
    let c = &mut *std::ptr::addr_of_mut!(CLIENT);
    c.pcb = std::ptr::null_mut();
    c.gone = true;
}

fn usage() -> (i64, Vec<i64>) {
    unsafe {
        let pools = (0..lwipws_stats_memp_count())
            .map(|i| lwipws_stats_memp_used(i) as i64)
            .collect();
        (lwipws_stats_mem_used() as i64, pools)
    }
}

fn pool_names() -> Vec<String> {
    unsafe {
        (0..lwipws_stats_memp_count())
            .map(|i| {
                CStr::from_ptr(lwipws_stats_memp_name(i))
                    .to_string_lossy()
                    .into_owned()
            })
            .collect()
    }
}

unsafe fn setup() {
    if !APP.is_null() {
        return;
    }
    unixport_init();
    let a = Box::into_raw(Box::new(App {
        cb: WSSCB::default(),
        closes: 0,
        after_close: 0,
        max_message: 1000,
        send_queue: 4096,
        grow: 0,
        pause: false,
        timers: false,
        wss: WSS {
            _opaque: [0; LWIP_WS_WSS_WORDS],
        },
        accepted: std::ptr::null_mut(),
    }));
    assert_eq!(
        WSSCB_constructor(&mut (*a).cb, Some(on_frame), Some(on_close), Some(on_ping)),
        LWIP_WS_OK
    );
    APP = a;
    let pcb = lwipws_new(IPADDR_TYPE_ANY as u8);
    assert_eq!(lwipws_bind(pcb, std::ptr::null(), PORT), ERR_OK as err_t);
    LISTENER = lwipws_listen(pcb, 4);
    lwipws_arg(LISTENER, a.cast());
    lwipws_accept(LISTENER, Some(on_accept));
    unixport_run_for(130_000);
}

unsafe fn connect() -> bool {
    let c = &mut *std::ptr::addr_of_mut!(CLIENT);
    let addr = ip_addr_t {
        addr: u32::from_ne_bytes([127, 0, 0, 1]),
    };
    c.gone = false;
    c.received.clear();
    c.pcb = lwipws_new(IPADDR_TYPE_ANY as u8);
    lwipws_arg(c.pcb, std::ptr::null_mut());
    lwipws_recv(c.pcb, Some(client_recv));
    lwipws_err(c.pcb, Some(client_err));
    assert_eq!(lwipws_connect(c.pcb, &addr, PORT, None), ERR_OK as err_t);
    for _ in 0..100 {
        unixport_poll();
        if !(*APP).accepted.is_null() {
            return true;
        }
    }
    false
}

/// The server pcb's recv callback, while the connection is alive.
unsafe fn deliver(chain: *mut pbuf) {
    let a = &mut *APP;
    let pcb = a.accepted;
    let recv = (*pcb).recv.expect("recv callback attached while open");
    let e = recv((*pcb).callback_arg, pcb, chain, ERR_OK as err_t);
    assert!(
        e == ERR_OK as err_t || e == ERR_ABRT as err_t,
        "recv callback returned {e}"
    );
}

fn bound(max_message: u32, send_queue: u32) -> usize {
    // Head buffer (4 KiB), the queue (amortized growth may double it), the reassembly
    // buffer (never past max_message + 1) and the engine itself while it is awake.
    4096 + 2 * (send_queue as usize + 1024)
        + 2 * (max_message as usize + 1)
        + lwip_ws::capi::engine_block_bytes()
}

fuzz_target!(|data: &[u8]| unsafe {
    setup();
    let _ = pool_names;
    let mut r = Reader::new(data);
    let a = &mut *APP;
    a.closes = 0;
    a.after_close = 0;
    a.accepted = std::ptr::null_mut();
    a.max_message = [1u32, 125, 1000, 70_000][usize::from(r.byte() % 4)];
    a.send_queue = 256 + u32::from(r.u16() % 8192);
    let fail_writes = u32::from(r.u16()) | (u32::from(r.byte()) << 16);
    let fail_outputs = u32::from(r.byte());
    let flags = r.byte();
    let valid_request = flags & 1 == 1;
    a.grow = (flags >> 1) & 3;
    a.pause = flags & 8 != 0;
    a.timers = flags & 16 != 0;
    let budget = if flags & 32 != 0 {
        1024 + u32::from(r.u16() % 8192)
    } else {
        0
    };
    lwipws_setHeapBudget(budget);
    let baseline = usage();
    if !connect() {
        panic!("no connection accepted");
    }
    lwipws_test_fail_writes(fail_writes);
    lwipws_test_fail_outputs(fail_outputs);
    let mut stream: Vec<u8> = if valid_request {
        REQUEST.to_vec()
    } else {
        Vec::new()
    };
    stream.extend_from_slice(r.rest());
    let mut pos = 0;
    let mut cuts = stream.iter().rev().copied().cycle();
    let limit = bound(a.max_message, a.send_queue);
    for _ in 0..256 {
        if pos >= stream.len() || a.closes > 0 {
            break;
        }
        // A chain of 1-4 pbufs of 1-64 bytes each.
        let pieces = 1 + usize::from(cuts.next().unwrap_or(0) % 4);
        let mut chain: *mut pbuf = std::ptr::null_mut();
        for _ in 0..pieces {
            if pos >= stream.len() {
                break;
            }
            let n = (1 + usize::from(cuts.next().unwrap_or(0) % 64)).min(stream.len() - pos);
            let p = pbuf_alloc(PBUF_RAW, n as u16, PBUF_RAM);
            assert!(!p.is_null());
            assert_eq!(
                pbuf_take(p, stream[pos..].as_ptr().cast(), n as u16),
                ERR_OK as err_t
            );
            pos += n;
            if chain.is_null() {
                chain = p;
            } else {
                pbuf_cat(chain, p);
            }
        }
        deliver(chain);
        let heap = WSS_heapBytes(&mut a.wss) as usize;
        assert!(heap <= limit, "heap {heap} over {limit}");
        if a.closes == 0 {
            assert_eq!(lwipws_heapBytes() as usize, heap, "charged what it holds");
        }
        unixport_poll();
        let cut = cuts.next().unwrap_or(0);
        if a.closes == 0 && cut % 3 == 0 {
            // Resume after a pause (held data is delivered now); a no-op otherwise.
            assert_eq!(WSS_resumeRead(&mut a.wss), LWIP_WS_OK);
        }
        if cut % 8 == 0 {
            // Sometimes long enough (three poll intervals) for the connection to go idle,
            // give its buffers back and park its engine; the next piece wakes it.
            unixport_run_for(if cut % 16 == 0 { 1500 } else { 500 });
        }
    }
    lwipws_test_fail_writes(0);
    lwipws_test_fail_outputs(0);
    // The peer goes away; the server's connection must end exactly once.
    let c = &mut *std::ptr::addr_of_mut!(CLIENT);
    if !c.pcb.is_null() {
        lwipws_arg(c.pcb, std::ptr::null_mut());
        lwipws_recv(c.pcb, None);
        lwipws_err(c.pcb, None);
        lwipws_abort(c.pcb);
        c.pcb = std::ptr::null_mut();
    }
    for _ in 0..40 {
        if a.closes > 0 {
            break;
        }
        unixport_run_for(250);
    }
    assert_eq!(a.closes, 1, "closeFp once");
    // What reached the peer: the HTTP answer, then whole valid frames (never torn by a
    // refused write), possibly cut where the connection was aborted.
    lwip_ws_fuzz::check_wire(&c.received, false, true, false);
    assert_eq!(a.after_close, 0, "no callback after closeFp");
    unixport_run_for(2000);
    if usage() != baseline {
        unixport_run_for(130_000);
    }
    assert_eq!(usage(), baseline, "lwIP memory back to baseline");
    assert_eq!(lwipws_heapBytes(), 0, "the budget total back at 0");
    lwipws_setHeapBudget(0);
    WSS_destructor(&mut a.wss);
});
