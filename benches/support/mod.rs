//! Shared by the lwIP benchmarks (benches/lwip.rs, benches/tls.rs): polling the
//! in-process stack, payloads, WebSocket ends that count (and optionally echo) what they
//! receive, a `WSListener` server upgrading into slots, and the statistics of interleaved
//! rate measurements.
#![allow(dead_code)]

use core::ffi::{c_int, c_void};
use std::time::{Duration, Instant};

use lwip_sys::*;
use lwip_ws::capi::*;

// ---- lwIP helpers ---------------------------------------------------------------------

pub const LOOPBACK: ip_addr_t = ip_addr_t {
    addr: u32::from_ne_bytes([127, 0, 0, 1]),
};

/// Polls the stack (real time: lwIP's timers run on the wall clock) until `done`.
/// A round that takes longer than `limit` is a hang: report it and stop.
pub fn poll_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let t0 = Instant::now();
    let mut i = 0u32;
    while !done() {
        unsafe { unixport_poll() };
        i = i.wrapping_add(1);
        if i % 256 == 0 && t0.elapsed() > limit {
            eprintln!("HANG: {what}: not done after {limit:?}");
            std::process::exit(2);
        }
    }
}

pub const STEP: Duration = Duration::from_secs(10);

/// Lets TIME_WAIT and every timer run out (2 * TCP_MSL is 120 s of lwIP time).
pub fn settle() {
    unsafe { unixport_run_for(130_000) };
}

pub fn payload(n: usize, seed: u32) -> Vec<u8> {
    (0..n as u32)
        .map(|i| (i.wrapping_mul(2_654_435_761).wrapping_add(seed) >> 24) as u8)
        .collect()
}

// ---- WebSocket ends -------------------------------------------------------------------

/// Callbacks and counters shared by any number of connections. `WSSCB` first.
#[repr(C)]
pub struct Side {
    pub cb: WSSCB,
    pub echo: bool,
    pub opens: u64,
    pub closes: u64,
    pub clean_closes: u64,
    pub messages: u64,
    pub bytes: u64,
    pub write_failures: u64,
    pub last_failure: c_int,
    /// When set, every message is compared with these bytes (outside timed runs).
    pub expect: Option<(*const u8, usize)>,
    pub mismatches: u64,
}

pub unsafe extern "C" fn on_frame(
    o: *mut WSSCB,
    wss: *mut WSS,
    data: *mut c_void,
    len: c_int,
    txt: c_int,
) {
    let s = &mut *o.cast::<Side>();
    s.messages += 1;
    s.bytes += len as u64;
    if let Some((p, n)) = s.expect {
        let got = std::slice::from_raw_parts(data.cast::<u8>(), len as usize);
        if got != std::slice::from_raw_parts(p, n) || *data.cast::<u8>().add(len as usize) != 0 {
            s.mismatches += 1;
        }
    }
    if s.echo {
        let rc = WSS_write(wss, data, len, txt);
        if rc != LWIP_WS_OK {
            s.write_failures += 1;
            s.last_failure = rc;
        }
    }
}

/// Streaming end (`WSS_setStreaming`): forwards every piece at once as a fragment, so the
/// echo starts before the whole message is in (as the raw TCP echo does).
pub unsafe extern "C" fn on_chunk(
    o: *mut WSSCB,
    wss: *mut WSS,
    data: *mut c_void,
    len: c_int,
    txt: c_int,
    _offset: u64,
    last: c_int,
) {
    let s = &mut *o.cast::<Side>();
    s.bytes += len as u64;
    if last != 0 {
        s.messages += 1;
    }
    if s.echo {
        let rc = WSS_writeFragment(wss, data, len, txt, last);
        if rc != LWIP_WS_OK {
            s.write_failures += 1;
            s.last_failure = rc;
        }
    }
}

pub unsafe extern "C" fn on_close(o: *mut WSSCB, _wss: *mut WSS, status: c_int) {
    let s = &mut *o.cast::<Side>();
    s.closes += 1;
    if status == 1000 {
        s.clean_closes += 1;
    }
}

pub unsafe extern "C" fn on_open(
    o: *mut WSSCB,
    _wss: *mut WSS,
    _protocol: *const core::ffi::c_char,
) {
    (*o.cast::<Side>()).opens += 1;
}

pub fn side(echo: bool) -> *mut Side {
    let s = Box::into_raw(Box::new(Side {
        cb: WSSCB::default(),
        echo,
        opens: 0,
        closes: 0,
        clean_closes: 0,
        messages: 0,
        bytes: 0,
        write_failures: 0,
        last_failure: 0,
        expect: None,
        mismatches: 0,
    }));
    unsafe {
        WSSCB_constructor(&mut (*s).cb, Some(on_frame), Some(on_close), None);
        (*s).cb.openFp = Some(on_open);
        (*s).cb.chunkFp = Some(on_chunk);
    }
    s
}

pub fn storage(n: usize, fill: u64) -> Box<[WSS]> {
    (0..n)
        .map(|_| WSS {
            _opaque: [fill; LWIP_WS_WSS_WORDS],
        })
        .collect()
}

/// Buffer sizes every benchmark connection is constructed with (`startSize`,
/// `expandSize`), and the largest message.
pub const START: c_int = 1024;
pub const EXPAND: c_int = 1024;
pub const MAX_MESSAGE: u32 = 1 << 20;

/// A `WSListener` upgrading every request into the next slot. `WSListener` first.
#[repr(C)]
pub struct Server {
    pub l: WSListener,
    pub slots: Box<[WSS]>,
    pub next: usize,
    pub side: *mut Side,
    /// Upgrade into streaming connections (`WSS_setStreaming`).
    pub streaming: bool,
    /// Connections (and their clients) keep their memory when idle (`WSS_setIdleRelease`).
    pub keep_memory: bool,
}

pub unsafe extern "C" fn on_request(l: *mut WSListener, req: *mut HttpRequest) {
    let srv = &mut *l.cast::<Server>();
    let Some(slot) = srv.slots.get_mut(srv.next) else {
        assert_eq!(HttpRequest_reject(req, 503), LWIP_WS_OK);
        return;
    };
    srv.next += 1;
    assert_eq!(
        WSS_constructor(slot, &mut (*srv.side).cb, START, EXPAND),
        LWIP_WS_OK
    );
    assert_eq!(WSS_setMaxMessage(slot, MAX_MESSAGE), LWIP_WS_OK);
    assert_eq!(WSS_setSendQueue(slot, MAX_MESSAGE + 14), LWIP_WS_OK);
    if srv.streaming {
        assert_eq!(WSS_setStreaming(slot, 1), LWIP_WS_OK);
    }
    if srv.keep_memory {
        assert_eq!(WSS_setIdleRelease(slot, 0), LWIP_WS_OK);
    }
    assert_eq!(WSS_upgrade(slot, req), LWIP_WS_OK);
}

pub fn start_server(port: u16, slots: usize, fill: u64) -> *mut Server {
    start_server_on(port, slots, fill, |l, port| unsafe {
        WSListener_listen(l, std::ptr::null(), port)
    })
}

/// Like [`start_server`], listening with `listen` (e.g. `WSListener_listenTls`).
pub fn start_server_on(
    port: u16,
    slots: usize,
    fill: u64,
    listen: impl FnOnce(*mut WSListener, u16) -> c_int,
) -> *mut Server {
    let srv = Box::into_raw(Box::new(Server {
        l: WSListener {
            _opaque: [0; LWIP_WS_LISTENER_WORDS],
        },
        slots: storage(slots, fill),
        next: 0,
        side: side(true),
        streaming: false,
        keep_memory: false,
    }));
    unsafe {
        assert_eq!(
            WSListener_constructor(&mut (*srv).l, Some(on_request)),
            LWIP_WS_OK
        );
        let pending = (slots as c_int + 16).max(8);
        assert_eq!(
            WSListener_setLimits(&mut (*srv).l, pending, 4096),
            LWIP_WS_OK
        );
        assert_eq!(listen(&mut (*srv).l, port), LWIP_WS_OK);
    }
    srv
}

#[derive(Clone)]
pub struct Spread {
    pub median: f64,
    pub best: f64,
    pub worst: f64,
}

/// Median, best and worst of rates (higher is better).
pub fn spread(mut v: Vec<f64>) -> Spread {
    v.sort_by(f64::total_cmp);
    Spread {
        median: v[v.len() / 2],
        best: v[v.len() - 1],
        worst: v[0],
    }
}

/// Alternating rounds of the echo variants.
pub const PAIRS: usize = 15;

/// Round trips per second of each variant (one message in flight), calibrated to
/// ~`slice` per run; the variants run in alternation, `PAIRS` rounds, so that all see the
/// same load on a shared machine. Returns each variant's spread and its rate in every
/// round (for [`paired`]).
pub fn interleaved(slice: Duration, fns: &mut [&mut dyn FnMut()]) -> Vec<(Spread, Vec<f64>)> {
    let counts: Vec<u64> = fns
        .iter_mut()
        .map(|one| {
            let t0 = Instant::now();
            let mut n = 0u64;
            while n < 3 || t0.elapsed() < slice / 4 {
                one();
                n += 1;
            }
            let per = t0.elapsed().as_secs_f64() / n as f64;
            ((slice.as_secs_f64() / per) as u64).max(3)
        })
        .collect();
    let mut rates = vec![Vec::new(); fns.len()];
    for _ in 0..PAIRS {
        for (i, one) in fns.iter_mut().enumerate() {
            let t = Instant::now();
            for _ in 0..counts[i] {
                one();
            }
            rates[i].push(counts[i] as f64 / t.elapsed().as_secs_f64());
        }
    }
    rates.into_iter().map(|r| (spread(r.clone()), r)).collect()
}

/// The paired ratio of two variants measured by [`interleaved`]: the median over rounds
/// of (rate of `a` / rate of `b`) in the same round.
pub fn paired(a: &[f64], b: &[f64]) -> f64 {
    let mut ratios: Vec<f64> = a.iter().zip(b).map(|(x, y)| x / y).collect();
    ratios.sort_by(f64::total_cmp);
    ratios[ratios.len() / 2]
}

/// TCP segments sent by the stack (both ends) during `n` calls of `one`, per call.
pub unsafe fn segments(n: u64, mut one: impl FnMut()) -> f64 {
    let st = std::ptr::addr_of!(lwip_stats);
    let x0 = (*st).tcp.xmit;
    for _ in 0..n {
        one();
    }
    f64::from((*st).tcp.xmit.wrapping_sub(x0)) / n as f64
}

pub fn human(size: usize) -> String {
    if size >= 1024 && size % 1024 == 0 {
        format!("{} KiB", size / 1024)
    } else {
        format!("{size} B")
    }
}

pub fn yes(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "**missed**"
    }
}
