//! What firmware engineers compare WebSocket libraries on, measured on lwIP itself: echo
//! throughput next to a raw lwIP TCP echo of the same payloads on the same stack in the
//! same run, broadcast fan-out to 100 and 1,000 connections (next to a raw TCP
//! broadcast), the state and heap a connection holds, heap allocations per message, and
//! the peak heap of 100 busy connections. Prints figures (markdown); never asserts on
//! time. Run through `scripts/bench`, which builds lwIP with the benchmark's own
//! `benches/lwipopts/lwipopts.h` (the host configuration with pools for the 1,000
//! connections).
//!
//! Everything runs in one process, one thing after the other: lwIP (compiled from source,
//! `NO_SYS=1`, loopback netif on 127.0.0.1) is global state. Both ends of every connection
//! live in the same stack, so every figure includes the work of both ends; the raw TCP
//! baselines carry exactly the same work minus the WebSocket library.
//!
//! Lines starting with `TARGET\t` are the targets with their measured values, for
//! `scripts/bench` to put in one table.
//!
//! For quick comparisons while working on the data path: `LWIP_WS_BENCH_ECHO_ONLY=1`
//! prints the echo table only, `LWIP_WS_BENCH_SIZE=16` only its row for that payload, and
//! `LWIP_WS_BENCH_PROFILE=ws|raw|whole|stream` runs only that echo for 3 s per size (for
//! `perf record`) and prints its rate.
#![allow(clippy::missing_safety_doc)]

use core::ffi::{c_int, c_void};
use std::alloc::{GlobalAlloc, Layout, System};
use std::ffi::CStr;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use lwip_sys::*;
use lwip_ws::capi::*;

mod support;
use support::*;

// ---- a counting allocator -----------------------------------------------------------

/// Counts allocation calls (alloc, alloc_zeroed, realloc) and live bytes, with the peak.
struct Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);
static LIVE: AtomicI64 = AtomicI64::new(0);
static PEAK: AtomicI64 = AtomicI64::new(0);

fn track(delta: i64) {
    let now = LIVE.fetch_add(delta, Relaxed) + delta;
    if now > PEAK.load(Relaxed) {
        PEAK.store(now, Relaxed);
    }
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        track(l.size() as i64);
        System.alloc(l)
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        track(l.size() as i64);
        System.alloc_zeroed(l)
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        track(-(l.size() as i64));
        System.dealloc(p, l)
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        track(new as i64 - l.size() as i64);
        System.realloc(p, l, new)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocs() -> u64 {
    ALLOCS.load(Relaxed)
}

fn live() -> i64 {
    LIVE.load(Relaxed)
}

fn reset_peak() {
    PEAK.store(LIVE.load(Relaxed), Relaxed);
}

unsafe fn open_client(wss: *mut WSS, side: *mut Side, port: u16, keep_memory: bool) {
    assert_eq!(
        WSS_constructor(wss, &mut (*side).cb, START, EXPAND),
        LWIP_WS_OK
    );
    assert_eq!(WSS_setMaxMessage(wss, MAX_MESSAGE), LWIP_WS_OK);
    assert_eq!(WSS_setSendQueue(wss, MAX_MESSAGE + 14), LWIP_WS_OK);
    if keep_memory {
        assert_eq!(WSS_setIdleRelease(wss, 0), LWIP_WS_OK);
    }
    let rc = WSS_openClient(
        wss,
        &LOOPBACK,
        port,
        c"127.0.0.1".as_ptr(),
        c"/echo".as_ptr(),
        std::ptr::null(),
    );
    assert_eq!(rc, LWIP_WS_OK);
}

/// Opens `clients.len()` clients to `srv` in batches and waits for every handshake.
/// One WebSocket server (set up by `setup` before anything connects) and one open client.
unsafe fn pair(port: u16, setup: impl FnOnce(&mut Server)) -> (*mut Server, *mut Side, Box<[WSS]>) {
    let srv = start_server(port, 1, 0);
    setup(&mut *srv);
    let side = side(false);
    let mut clients = storage(1, 0);
    open_all(srv, &mut clients, side, port);
    (srv, side, clients)
}

unsafe fn open_all(srv: *mut Server, clients: &mut [WSS], side: *mut Side, port: u16) -> Duration {
    let t0 = Instant::now();
    let start = (*side).opens;
    // Open 8 at a time: a handshake burst of 1,000 in one poll would measure lwIP's SYN
    // handling, not the opening of connections.
    for (b, batch) in clients.chunks_mut(8).enumerate() {
        for wss in batch.iter_mut() {
            open_client(wss, side, port, (*srv).keep_memory);
        }
        let want = start + (b * 8 + batch.len()) as u64;
        poll_until("client handshakes", STEP, || (*side).opens == want);
    }
    let n = clients.len();
    poll_until("server slots", STEP, || (*srv).next == n);
    t0.elapsed()
}

/// Closes every client cleanly (1000) and waits until both ends saw it; then frees all.
unsafe fn close_all(srv: *mut Server, clients: &mut [WSS], side: *mut Side) {
    let (c0, s0) = ((*side).closes, (*(*srv).side).closes);
    let n = clients.len() as u64;
    for wss in clients.iter_mut() {
        assert_eq!(WSS_close(wss, 1000), LWIP_WS_OK);
    }
    poll_until("close handshakes", STEP, || {
        (*side).closes == c0 + n && (*(*srv).side).closes == s0 + n
    });
    for wss in clients.iter_mut() {
        WSS_destructor(wss);
    }
    WSListener_destructor(&mut (*srv).l);
    for slot in (*srv).slots.iter_mut() {
        WSS_destructor(slot);
    }
}

unsafe fn free_server(srv: *mut Server) {
    let srv = Box::from_raw(srv);
    drop(Box::from_raw(srv.side));
}

// ---- raw lwIP TCP ends ---------------------------------------------------------------

/// One raw TCP end: counts what it receives, optionally echoes it; `out` is its send
/// backlog (kept capacity), written with `TCP_WRITE_FLAG_COPY` as far as `tcp_sndbuf`
/// allows and resumed from the sent callback, like the library does.
#[derive(Default)]
struct RawPeer {
    pcb: *mut lwipws_pcb,
    echo: bool,
    connected: bool,
    received: u64,
    /// Keep received bytes (handshakes only).
    keep: bool,
    inbox: Vec<u8>,
    /// Also add received byte counts here (fan-out: one counter for all clients).
    shared: Option<*mut u64>,
    /// Echo: 0 streams every piece back at once; n > 0 holds the echo until a whole
    /// n-byte message has arrived (store-and-forward, like a message-based echo).
    whole: u64,
    /// Bytes of `out` that may be sent.
    released: usize,
    /// Bytes received towards the current whole message.
    held: u64,
    out: Vec<u8>,
    out_pos: usize,
    errors: u64,
}

unsafe fn raw_flush(p: &mut RawPeer) {
    while p.out_pos < p.released {
        let room = usize::from(lwipws_sndbuf(p.pcb));
        let n = (p.released - p.out_pos).min(room).min(0xffff);
        if n == 0 {
            break;
        }
        let data = p.out.as_ptr().add(p.out_pos).cast::<c_void>();
        let err = lwipws_write(p.pcb, data, n as u16, lwipws_write_flag_copy());
        if err == ERR_MEM as err_t {
            break;
        }
        assert_eq!(err, ERR_OK as err_t, "tcp_write");
        p.out_pos += n;
    }
    if p.out_pos == p.out.len() {
        p.out.clear();
        p.out_pos = 0;
        p.released = 0;
    }
    lwipws_output(p.pcb);
}

unsafe fn raw_send(p: &mut RawPeer, bytes: &[u8]) {
    p.out.extend_from_slice(bytes);
    p.released = p.out.len();
    raw_flush(p);
}

unsafe extern "C" fn raw_recv(
    arg: *mut c_void,
    pcb: *mut lwipws_pcb,
    p: *mut pbuf,
    _e: err_t,
) -> err_t {
    let peer = &mut *arg.cast::<RawPeer>();
    if p.is_null() {
        return ERR_OK as err_t;
    }
    let mut q = p;
    while !q.is_null() {
        let chunk = std::slice::from_raw_parts((*q).payload.cast::<u8>(), usize::from((*q).len));
        if peer.echo {
            peer.out.extend_from_slice(chunk);
        }
        if peer.keep {
            peer.inbox.extend_from_slice(chunk);
        }
        q = (*q).next;
    }
    peer.received += u64::from((*p).tot_len);
    peer.held += u64::from((*p).tot_len);
    if peer.held >= peer.whole {
        peer.held = 0;
        peer.released = peer.out.len();
    }
    if let Some(total) = peer.shared {
        *total += u64::from((*p).tot_len);
    }
    lwipws_recved(pcb, (*p).tot_len);
    pbuf_free(p);
    if peer.echo {
        raw_flush(peer);
    }
    ERR_OK as err_t
}

unsafe extern "C" fn raw_sent(arg: *mut c_void, _pcb: *mut lwipws_pcb, _len: u16) -> err_t {
    raw_flush(&mut *arg.cast::<RawPeer>());
    ERR_OK as err_t
}

unsafe extern "C" fn raw_err(arg: *mut c_void, _e: err_t) {
    let peer = &mut *arg.cast::<RawPeer>();
    peer.errors += 1;
    peer.pcb = std::ptr::null_mut();
}

unsafe extern "C" fn raw_connected(arg: *mut c_void, _pcb: *mut lwipws_pcb, _e: err_t) -> err_t {
    (*arg.cast::<RawPeer>()).connected = true;
    ERR_OK as err_t
}

unsafe fn attach(peer: *mut RawPeer, pcb: *mut lwipws_pcb) {
    (*peer).pcb = pcb;
    lwipws_arg(pcb, peer.cast());
    lwipws_recv(pcb, Some(raw_recv));
    lwipws_sent(pcb, Some(raw_sent));
    lwipws_err(pcb, Some(raw_err));
    lwipws_nagle_disable(pcb); // as the library does on every pcb
}

/// A raw listener: each accepted pcb gets a new (echoing or not) peer.
struct RawServer {
    pcb: *mut lwipws_pcb,
    echo: bool,
    peers: Vec<*mut RawPeer>,
}

unsafe extern "C" fn raw_accept(arg: *mut c_void, newpcb: *mut lwipws_pcb, _e: err_t) -> err_t {
    let srv = &mut *arg.cast::<RawServer>();
    let peer = Box::into_raw(Box::new(RawPeer {
        echo: srv.echo,
        ..RawPeer::default()
    }));
    attach(peer, newpcb);
    srv.peers.push(peer);
    ERR_OK as err_t
}

unsafe fn raw_listen(port: u16, echo: bool) -> *mut RawServer {
    let srv = Box::into_raw(Box::new(RawServer {
        pcb: std::ptr::null_mut(),
        echo,
        peers: Vec::new(),
    }));
    let pcb = lwipws_new(IPADDR_TYPE_V4 as u8);
    assert_eq!(lwipws_bind(pcb, &ip_addr_any, port), ERR_OK as err_t);
    (*srv).pcb = lwipws_listen(pcb, 0xff);
    assert!(!(*srv).pcb.is_null());
    lwipws_arg((*srv).pcb, srv.cast());
    lwipws_accept((*srv).pcb, Some(raw_accept));
    srv
}

unsafe fn raw_connect(port: u16) -> *mut RawPeer {
    let peer = Box::into_raw(Box::<RawPeer>::default());
    let pcb = lwipws_new(IPADDR_TYPE_V4 as u8);
    assert!(!pcb.is_null(), "no tcp pcb left");
    attach(peer, pcb);
    assert_eq!(
        lwipws_connect(pcb, &LOOPBACK, port, Some(raw_connected)),
        ERR_OK as err_t
    );
    peer
}

unsafe fn raw_close(peer: *mut RawPeer) {
    let p = &mut *peer;
    if !p.pcb.is_null() {
        lwipws_arg(p.pcb, std::ptr::null_mut());
        lwipws_recv(p.pcb, None);
        lwipws_sent(p.pcb, None);
        lwipws_err(p.pcb, None);
        if lwipws_close(p.pcb) != ERR_OK as err_t {
            lwipws_abort(p.pcb);
        }
    }
    drop(Box::from_raw(peer));
}

unsafe fn raw_stop(srv: *mut RawServer) {
    let srv = Box::from_raw(srv);
    lwipws_close(srv.pcb);
    for &p in &srv.peers {
        raw_close(p);
    }
}

// ---- statistics --------------------------------------------------------------------------

/// lwIP heap bytes in use and its high-water mark; `reset` first sets the mark to now.
unsafe fn lwip_mem(reset: bool) -> (i64, i64) {
    let st = &mut *std::ptr::addr_of_mut!(lwip_stats);
    if reset {
        st.mem.max = st.mem.used;
        for &m in st.memp.iter() {
            if !m.is_null() {
                (*m).max = (*m).used;
            }
        }
    }
    (st.mem.used as i64, st.mem.max as i64)
}

/// Elements in lwIP pool `name` (its `MEMP_NUM_*`), or 0.
unsafe fn pool_size(name: &str) -> i64 {
    let st = &*std::ptr::addr_of!(lwip_stats);
    (0..lwipws_stats_memp_count())
        .find(|&i| CStr::from_ptr(lwipws_stats_memp_name(i)).to_bytes() == name.as_bytes())
        .and_then(|i| st.memp.get(i as usize).copied())
        .filter(|m| !m.is_null())
        .map_or(0, |m| (*m).avail as i64)
}

/// (name, used, max) of the TCP-related pools.
unsafe fn lwip_pools() -> Vec<(String, i64, i64)> {
    let st = &*std::ptr::addr_of!(lwip_stats);
    (0..lwipws_stats_memp_count())
        .filter_map(|i| {
            let m = *st.memp.get(i as usize)?;
            if m.is_null() {
                return None;
            }
            let name = CStr::from_ptr(lwipws_stats_memp_name(i))
                .to_string_lossy()
                .into_owned();
            Some((name, (*m).used as i64, (*m).max as i64))
        })
        .collect()
}

/// One past the last byte of `wss` that differs from `fill` (how much of the storage
/// the library wrote).
fn written(wss: &WSS, fill: u64) -> usize {
    let bytes: Vec<u8> = wss._opaque.iter().flat_map(|w| w.to_ne_bytes()).collect();
    let pat = fill.to_ne_bytes();
    bytes
        .iter()
        .enumerate()
        .rev()
        .find(|(i, b)| **b != pat[i % 8])
        .map_or(0, |(i, _)| i + 1)
}

// ---- the benchmarks ------------------------------------------------------------------

const SIZES: [usize; 4] = [16, 1024, 16 * 1024, 256 * 1024];

struct EchoResult {
    size: usize,
    raw: Spread,
    /// Median of the paired WebSocket / raw ratios.
    ratio: f64,
    /// Median of the paired streaming WebSocket / raw ratios.
    stream_ratio: f64,
    /// TCP segments per round trip: WebSocket, raw, raw whole-message.
    segs: (f64, f64, f64, f64),
    allocs_per_msg: f64,
    /// Allocations per message when each round trip follows a 2 s pause.
    allocs_after_pause: f64,
    /// The same with `WSS_setIdleRelease(0)` on both ends.
    allocs_after_pause_kept: f64,
    heap_after: (c_int, c_int),
}

unsafe fn echo(results: &mut Vec<EchoResult>) {
    println!("### Echo round trips on lwIP (one message in flight)");
    println!();
    println!("Client and server in one lwIP stack over its loopback netif. WebSocket: `WSS_openClient` ↔");
    println!("`WSListener` + `WSS_upgrade`, the server echoing in `frameFp` with `WSS_write` (binary, client");
    println!("frames masked). Raw TCP: `tcp_*` echo server and client on the same stack, same payloads, no");
    println!("framing, the server streaming each pbuf straight back (the limit). Whole-message raw TCP: the");
    println!(
        "same, but the server echoes only once the whole payload is in (store-and-forward, as any"
    );
    println!("message-based echo must). Streaming WebSocket: the server in streaming mode (`WSS_setStreaming`)");
    println!("forwards each piece from `chunkFp` at once with `WSS_writeFragment`, as the raw echo forwards");
    println!("each pbuf; the client receives whole messages. rt/s = round trips per second, median of {PAIRS}");
    println!("runs [worst–best]; the four run in alternation and each ratio is the median of the {PAIRS}");
    println!("paired ratios. MB/s = payload bytes echoed per second (one direction, 10^6 B).");
    println!();
    println!("| payload | WebSocket rt/s | WebSocket MB/s | raw TCP rt/s | raw TCP MB/s | WebSocket / raw | raw TCP, whole-message echo rt/s | WebSocket / whole-message raw | streaming WebSocket rt/s | streaming WebSocket / raw |");
    println!("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");

    // WebSocket pair.
    let (srv, cside, mut client) = pair(9001, |_| {});
    let cw: *mut WSS = &mut client[0];
    let sw: *mut WSS = &mut (*srv).slots[0];
    // WebSocket pair whose server streams.
    let (ssrv, sside, mut sclient) = pair(9008, |s| s.streaming = true);
    let scw: *mut WSS = &mut sclient[0];
    // WebSocket pair whose ends keep their memory when idle (`WSS_setIdleRelease(0)`).
    let (ksrv, kside, mut kclient) = pair(9009, |s| s.keep_memory = true);
    let kcw: *mut WSS = &mut kclient[0];

    // Raw pair.
    let rsrv = raw_listen(9002, true);
    let rc = raw_connect(9002);
    poll_until("raw connect", STEP, || {
        (*rc).connected && (*rsrv).peers.len() == 1
    });
    // Raw pair whose server echoes only whole messages.
    let rsrv2 = raw_listen(9007, true);
    let rc2 = raw_connect(9007);
    poll_until("raw connect", STEP, || {
        (*rc2).connected && (*rsrv2).peers.len() == 1
    });
    let whole = (&(*rsrv2).peers)[0];

    for size in SIZES {
        if std::env::var("LWIP_WS_BENCH_SIZE").is_ok_and(|only| only != size.to_string()) {
            continue;
        }
        let data = payload(size, size as u32);
        let slice = if size >= 64 * 1024 {
            Duration::from_millis(120)
        } else {
            Duration::from_millis(60)
        };

        // Correctness first: a few checked round trips.
        (*cside).expect = Some((data.as_ptr(), data.len()));
        (*(*srv).side).expect = Some((data.as_ptr(), data.len()));
        let dp = data.as_ptr();
        // One round trip: `client` writes the payload, its `side` counts the echo.
        let echo_via = move |client: *mut WSS, side: *mut Side| {
            move || {
                let want = (*side).messages + 1;
                let rcode = WSS_write(client, dp.cast(), size as c_int, 0);
                assert_eq!(rcode, LWIP_WS_OK, "WSS_write of {size} bytes");
                poll_until("WebSocket echo", STEP, || (*side).messages == want);
            }
        };
        let ws_one = echo_via(cw, cside);
        for _ in 0..3 {
            ws_one();
        }
        (*cside).expect = None;
        (*(*srv).side).expect = None;
        let stream_one = echo_via(scw, sside);
        (*sside).expect = Some((data.as_ptr(), data.len()));
        for _ in 0..3 {
            stream_one();
        }
        (*sside).expect = None;

        // Heap allocations per message in steady state (both ends: each round trip is
        // two messages, each written by one end and received by the other).
        let n = if size >= 64 * 1024 { 20 } else { 200 };
        let a0 = allocs();
        for _ in 0..n {
            ws_one();
        }
        let allocs_per_msg = (allocs() - a0) as f64 / (2 * n) as f64;
        // The same after a pause of 2 s of lwIP time before each message: both ends have
        // given back their buffers and parked their engines, and wake them again.
        // Counted during the round trip only: while lwIP's timers run, every other
        // connection in the stack trims or gives back its buffers at its polls too.
        let paused = 10;
        let after_pause = |one: &dyn Fn()| {
            let mut n = 0;
            for _ in 0..paused {
                unixport_run_for(2_000);
                let a0 = allocs();
                one();
                n += allocs() - a0;
            }
            n as f64 / (2 * paused) as f64
        };
        let allocs_after_pause = after_pause(&ws_one);
        // The same with both ends keeping their memory when idle.
        let kept_one = echo_via(kcw, kside);
        for _ in 0..3 {
            kept_one();
        }
        let allocs_after_pause_kept = after_pause(&kept_one);

        let d = &data;
        let raw_one = move || {
            let want = (*rc).received + size as u64;
            raw_send(&mut *rc, d);
            poll_until("raw echo", STEP, || (*rc).received == want);
        };
        (*whole).whole = size as u64;
        let d2 = &data;
        let whole_one = move || {
            let want = (*rc2).received + size as u64;
            raw_send(&mut *rc2, d2);
            poll_until("raw whole-message echo", STEP, || (*rc2).received == want);
        };
        if let Ok(which) = std::env::var("LWIP_WS_BENCH_PROFILE") {
            // Only one echo, over and over for 3 s, for a profiler (`perf record`).
            let mut one: Box<dyn FnMut()> = match which.as_str() {
                "ws" => Box::new(ws_one),
                "raw" => Box::new(raw_one),
                "whole" => Box::new(whole_one),
                "stream" => Box::new(stream_one),
                other => panic!("LWIP_WS_BENCH_PROFILE={other}: use ws, raw, whole or stream"),
            };
            let (t0, mut n) = (Instant::now(), 0u64);
            while t0.elapsed() < Duration::from_secs(3) {
                one();
                n += 1;
            }
            println!("{which} echo of {size} B: {:.0} rt/s", n as f64 / 3.0);
            continue;
        }
        let (mut w1, mut r1, mut h1, mut s1) = (ws_one, raw_one, whole_one, stream_one);
        let m = interleaved(slice, &mut [&mut w1, &mut r1, &mut h1, &mut s1]);
        let (ws, raw, held, streamed) = (
            m[0].0.clone(),
            m[1].0.clone(),
            m[2].0.clone(),
            m[3].0.clone(),
        );
        let ratio = paired(&m[0].1, &m[1].1);
        let held_ratio = paired(&m[0].1, &m[2].1);
        let stream_ratio = paired(&m[3].1, &m[1].1);
        let seg_n = if size >= 64 * 1024 { 20 } else { 200 };
        let segs = (
            segments(seg_n, ws_one),
            segments(seg_n, raw_one),
            segments(seg_n, whole_one),
            segments(seg_n, stream_one),
        );

        println!(
            "| {} | {:.0} [{:.0}–{:.0}] | {:.1} | {:.0} [{:.0}–{:.0}] | {:.1} | {:.0} % | {:.0} [{:.0}–{:.0}] | {:.0} % | {:.0} [{:.0}–{:.0}] | {:.0} % |",
            human(size),
            ws.median,
            ws.worst,
            ws.best,
            ws.median * size as f64 / 1e6,
            raw.median,
            raw.worst,
            raw.best,
            raw.median * size as f64 / 1e6,
            100.0 * ratio,
            held.median,
            held.worst,
            held.best,
            100.0 * held_ratio,
            streamed.median,
            streamed.worst,
            streamed.best,
            100.0 * stream_ratio
        );
        let heap_after = (WSS_heapBytes(cw), WSS_heapBytes(sw));
        results.push(EchoResult {
            size,
            raw,
            ratio,
            stream_ratio,
            segs,
            allocs_per_msg,
            allocs_after_pause,
            allocs_after_pause_kept,
            heap_after,
        });
    }
    let s = &*(*srv).side;
    let st = &*(*ssrv).side;
    if s.write_failures + st.write_failures > 0
        || (*cside).mismatches + (*sside).mismatches + s.mismatches > 0
    {
        println!();
        println!(
            "**Errors**: {} echo writes failed (last {}), {} streaming echo writes failed (last {}), {} client / {} streaming client / {} server messages differed.",
            s.write_failures,
            s.last_failure,
            st.write_failures,
            st.last_failure,
            (*cside).mismatches,
            (*sside).mismatches,
            s.mismatches
        );
    }
    println!();
    for (srv, side, mut clients) in [
        (srv, cside, client),
        (ssrv, sside, sclient),
        (ksrv, kside, kclient),
    ] {
        close_all(srv, &mut clients, side);
        free_server(srv);
        drop(Box::from_raw(side));
    }
    raw_close(rc);
    raw_stop(rsrv);
    raw_close(rc2);
    raw_stop(rsrv2);
    settle();
}

/// Fragmented messages (4 frames each) from a raw client to the WebSocket server, echoed
/// whole: heap allocations per message in steady state.
unsafe fn fragmented(size: usize) -> f64 {
    let srv = start_server(9003, 1, 0);
    let c = raw_connect(9003);
    poll_until("raw connect", STEP, || (*c).connected);
    (*c).keep = true;
    raw_send(
        &mut *c,
        b"GET /echo HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    );
    poll_until("raw handshake", STEP, || {
        (*c).inbox.windows(4).any(|w| w == b"\r\n\r\n")
    });
    assert!((*c).inbox.starts_with(b"HTTP/1.1 101"));
    (*c).keep = false;
    let head = (*c)
        .inbox
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap()
        + 4;
    let base = (*c).received - ((*c).inbox.len() - head) as u64;

    let key = [0x11u8, 0x22, 0x33, 0x44];
    let data = payload(size, 7);
    let mut wire = Vec::new();
    let parts = 4;
    for (i, part) in data.chunks(size / parts).enumerate() {
        let op = if i == 0 { 2u8 } else { 0 };
        let fin = if i == parts - 1 { 0x80 } else { 0 };
        wire.push(fin | op);
        if part.len() < 126 {
            wire.push(0x80 | part.len() as u8);
        } else {
            wire.push(0x80 | 126);
            wire.extend_from_slice(&(part.len() as u16).to_be_bytes());
        }
        wire.extend_from_slice(&key);
        wire.extend(part.iter().enumerate().map(|(j, b)| b ^ key[j % 4]));
    }
    let echo_len = size as u64
        + if size < 126 {
            2
        } else if size < 65536 {
            4
        } else {
            10
        };
    let mut got = base;
    let mut one = || {
        got += echo_len;
        raw_send(&mut *c, &wire);
        poll_until("fragmented echo", STEP, || (*c).received == got);
    };
    for _ in 0..20 {
        one();
    }
    let n = 200;
    let a0 = allocs();
    for _ in 0..n {
        one();
    }
    let per = (allocs() - a0) as f64 / n as f64;
    assert_eq!((*(*srv).side).write_failures, 0);
    raw_close(c);
    poll_until("server close", STEP, || (*(*srv).side).closes == 1);
    WSListener_destructor(&mut (*srv).l);
    WSS_destructor(&mut (*srv).slots[0]);
    free_server(srv);
    settle();
    per
}

/// Repetitions of each broadcast (after one warm-up).
const FAN_REPS: usize = 5;

struct Fan {
    n: usize,
    ws: Spread,
    raw: Spread,
    open: Duration,
}

/// Time from the first `WSS_write` until all `n` clients have the message (milliseconds,
/// lower is better), next to the same broadcast over raw TCP.
unsafe fn fanout(n: usize, size: usize) -> Fan {
    let msg = payload(size, 3);
    let srv = start_server(9004, n, 0);
    let cside = side(false);
    let mut clients = storage(n, 0);
    let open = open_all(srv, &mut clients, cside, 9004);
    let mut times = Vec::new();
    for _ in 0..=FAN_REPS {
        // Let the clients' delayed ACKs of the last round go out first, so that every
        // round starts in the same state (otherwise every second round also carries N
        // immediate ACKs: lwIP ACKs every second segment at once).
        unixport_run_for(500);
        let want = (*cside).messages + n as u64;
        let t0 = Instant::now();
        for slot in (*srv).slots.iter_mut() {
            assert_eq!(
                WSS_write(slot, msg.as_ptr().cast(), size as c_int, 0),
                LWIP_WS_OK
            );
        }
        poll_until("broadcast", STEP, || (*cside).messages == want);
        times.push(t0.elapsed().as_secs_f64() * 1e3);
    }
    times.remove(0); // warm-up
    let ws = spread(times.iter().map(|t| -t).collect());
    assert_eq!((*cside).bytes, ((FAN_REPS + 1) * n * size) as u64);
    close_all(srv, &mut clients, cside);
    assert_eq!((*cside).clean_closes, n as u64);
    free_server(srv);
    drop(Box::from_raw(cside));
    drop(clients);
    settle();

    let rsrv = raw_listen(9005, false);
    let total = Box::into_raw(Box::new(0u64));
    let peers: Vec<*mut RawPeer> = (0..n)
        .map(|i| {
            let p = raw_connect(9005);
            (*p).shared = Some(total);
            if i % 50 == 49 {
                poll_until("raw connects", STEP, || (*rsrv).peers.len() == i + 1);
            }
            p
        })
        .collect();
    poll_until("raw connects", STEP, || (*rsrv).peers.len() == n);
    let mut times = Vec::new();
    for _ in 0..=FAN_REPS {
        unixport_run_for(500);
        let want = *total + (n * size) as u64;
        let t0 = Instant::now();
        for &sp in (*rsrv).peers.iter() {
            raw_send(&mut *sp, &msg);
        }
        poll_until("raw broadcast", STEP, || *total == want);
        times.push(t0.elapsed().as_secs_f64() * 1e3);
    }
    times.remove(0);
    let raw = spread(times.iter().map(|t| -t).collect());
    assert!(peers
        .iter()
        .all(|&p| (*p).received == ((FAN_REPS + 1) * size) as u64));
    drop(Box::from_raw(total));
    for p in peers {
        raw_close(p);
    }
    raw_stop(rsrv);
    settle();
    Fan { n, ws, raw, open }
}

/// Nanoseconds per call of `f`: best of 3 runs of ~40 ms.
fn ns_per(mut f: impl FnMut()) -> f64 {
    (0..3)
        .map(|_| {
            let t0 = Instant::now();
            let mut n = 0u64;
            while n < 16 || t0.elapsed() < Duration::from_millis(40) {
                f();
                n += 1;
            }
            t0.elapsed().as_secs_f64() * 1e9 / n as f64
        })
        .fold(f64::INFINITY, f64::min)
}

/// The protocol engine alone (no lwIP) on one message of `size` bytes: (send: encode and
/// queue a server frame, then drain the queue; mask: the client's XOR pass; receive: a
/// masked frame fed in 1460-byte pieces as lwIP hands them over, unmasked and, when it
/// spans pieces, reassembled; memcpy of the payload).
fn engine_costs(size: usize) -> (f64, f64, f64, f64) {
    use lwip_ws::proto::frame::{apply_mask, encode_header, OP_BINARY};
    use lwip_ws::proto::{Config, Connection, Event};
    use std::hint::black_box;
    let cfg = Config {
        max_message: MAX_MESSAGE as u64,
        max_queue_bytes: 2 * MAX_MESSAGE as usize,
        start_size: START as usize,
        expand_size: EXPAND as usize,
        ..Config::default()
    };
    let data = payload(size, 5);
    let key = [0x37, 0xfa, 0x21, 0x3d];
    let mut conn = Connection::server_open(cfg, 0);
    let send = ns_per(|| {
        conn.send(false, black_box(&data), key).expect("queued");
        let n = conn.pending().len();
        conn.advance(black_box(n));
    });
    let mut buf = data.clone();
    let mask = ns_per(|| apply_mask(black_box(&mut buf), key, 0));
    let (header, n) = encode_header(true, OP_BINARY, size as u64, Some(key));
    let mut wire = header[..n].to_vec();
    wire.extend_from_slice(&data);
    apply_mask(&mut wire[n..], key, 0);
    let mut rx = Connection::server_open(cfg, 0);
    let receive = ns_per(|| {
        // Unmasking is an XOR in place: the bytes alternate between masked and clear,
        // which costs the same for a binary frame.
        let mut got = 0;
        for piece in wire.chunks_mut(1460) {
            let mut off = 0;
            while off < piece.len() {
                let r = rx.receive(&mut piece[off..], 0, key);
                off += r.consumed;
                if let Some(Event::Message { data, .. }) = r.event {
                    got += black_box(data).len();
                }
            }
        }
        assert_eq!(got, size);
    });
    let mut dst = vec![0u8; size];
    let memcpy = ns_per(|| {
        dst.copy_from_slice(black_box(&data));
        black_box(&mut dst);
    });
    (send, mask, receive, memcpy)
}

struct Peak {
    idle_heap: i64,
    peak_heap: i64,
    lwip_idle: i64,
    lwip_peak: i64,
    pools: Vec<(String, i64, i64)>,
    rounds: usize,
}

/// 100 client/server pairs, every client sending 4 KiB messages that its server echoes,
/// all at once, for a few rounds.
unsafe fn peak(pairs: usize, size: usize, rounds: usize) -> Peak {
    let msg = payload(size, 9);
    let cside = side(false);
    let mut clients = storage(pairs, 0);
    let srv = Box::into_raw(Box::new(Server {
        l: WSListener {
            _opaque: [0; LWIP_WS_LISTENER_WORDS],
        },
        slots: storage(pairs, 0),
        next: 0,
        side: side(true),
        streaming: false,
        keep_memory: false,
    }));
    let base_heap = live();
    reset_peak();
    let (base_lwip, _) = lwip_mem(true);
    assert_eq!(
        WSListener_constructor(&mut (*srv).l, Some(on_request)),
        LWIP_WS_OK
    );
    assert_eq!(
        WSListener_setLimits(&mut (*srv).l, pairs as c_int + 16, 4096),
        LWIP_WS_OK
    );
    assert_eq!(
        WSListener_listen(&mut (*srv).l, std::ptr::null(), 9006),
        LWIP_WS_OK
    );
    open_all(srv, &mut clients, cside, 9006);
    let idle_heap = live() - base_heap;
    let lwip_idle = lwip_mem(false).0 - base_lwip;
    for _ in 0..rounds {
        let want = (*cside).messages + pairs as u64;
        for wss in clients.iter_mut() {
            assert_eq!(
                WSS_write(wss, msg.as_ptr().cast(), size as c_int, 0),
                LWIP_WS_OK
            );
        }
        poll_until("100 echoes", STEP, || (*cside).messages == want);
    }
    let peak_heap = PEAK.load(Relaxed) - base_heap;
    let lwip_peak = lwip_mem(false).1 - base_lwip;
    let pools = lwip_pools()
        .into_iter()
        .filter(|(n, _, _)| {
            n.starts_with("TCP_PCB") || n == "TCP_SEG" || n == "PBUF" || n == "PBUF_POOL"
        })
        .collect();
    close_all(srv, &mut clients, cside);
    free_server(srv);
    drop(Box::from_raw(cside));
    settle();
    Peak {
        idle_heap,
        peak_heap,
        lwip_idle,
        lwip_peak,
        pools,
        rounds,
    }
}

/// Storage and heap of one idle connection, both ends.
/// How much of a `WSS` the library writes, and the heap of an open connection (client,
/// server) right after the handshake and after one second with no traffic.
unsafe fn idle_state() -> (usize, (c_int, c_int), (c_int, c_int)) {
    let mut used = 0;
    let mut heap = (0, 0);
    let mut idle = (0, 0);
    for (i, fill) in [0xa5a5_a5a5_a5a5_a5a5u64, 0x5a5a_5a5a_5a5a_5a5a]
        .into_iter()
        .enumerate()
    {
        let port = 9010 + i as u16;
        let srv = start_server(port, 1, fill);
        let cside = side(false);
        let mut client = storage(1, fill);
        open_all(srv, &mut client, cside, port);
        used = used
            .max(written(&client[0], fill))
            .max(written(&(*srv).slots[0], fill));
        heap = (
            WSS_heapBytes(&mut client[0]),
            WSS_heapBytes(&mut (*srv).slots[0]),
        );
        // lwIP's timers (and so the connections' poll callbacks) for 1.1 s of lwIP time.
        unixport_run_for(1100);
        idle = (
            WSS_heapBytes(&mut client[0]),
            WSS_heapBytes(&mut (*srv).slots[0]),
        );
        close_all(srv, &mut client, cside);
        free_server(srv);
        drop(Box::from_raw(cside));
    }
    settle();
    (used, heap, idle)
}

fn main() {
    let t_all = Instant::now();
    unsafe { unixport_init() };
    settle();
    println!("## lwIP: lwip-ws next to raw lwIP TCP (benches/lwip.rs)");
    println!();
    let mut echoes = Vec::new();
    unsafe { echo(&mut echoes) };
    if std::env::var_os("LWIP_WS_BENCH_ECHO_ONLY").is_some()
        || std::env::var_os("LWIP_WS_BENCH_PROFILE").is_some()
        || std::env::var_os("LWIP_WS_BENCH_SIZE").is_some()
    {
        // For quick comparisons while working on the data path: the echo table only.
        return;
    }

    println!("### Where the time goes");
    println!();
    println!("Library time per round trip = WebSocket rt − raw rt (raw rt = 1/median raw rt/s; WebSocket rt =");
    println!("raw rt / the paired ratio). The protocol engine's");
    println!(
        "share, measured alone on the same message (no lwIP): a round trip is two sends (encode +"
    );
    println!("queue + drain; over lwIP a server's frames of 4 KiB or more skip the queue, so this overstates");
    println!("the engine there), one client mask pass and two receives (in 1460-byte pieces, as lwIP delivers");
    println!("them: decode, unmask, reassemble when the frame spans pieces). The rest is the lwIP layer:");
    println!("copies between the queue and `tcp_write`, the copy that NUL-terminates a message ending at its");
    println!(
        "pbuf's end, `LWIP_RAND()` per client frame, hook dispatch, pbuf walking. Nanoseconds."
    );
    println!();
    println!("| payload | raw TCP rt | WebSocket rt | library per rt | engine: send | mask | receive | engine per rt | rest (lwIP layer) | memcpy of payload | TCP segments per rt: raw / whole-message raw / WebSocket / streaming WebSocket |");
    println!("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for e in &echoes {
        let (send, mask, receive, memcpy) = engine_costs(e.size);
        let raw_ns = 1e9 / e.raw.median;
        let ws_ns = raw_ns / e.ratio;
        let engine = 2.0 * send + mask + 2.0 * receive;
        println!(
            "| {} | {raw_ns:.0} | {ws_ns:.0} | {:.0} | {send:.0} | {mask:.0} | {receive:.0} | {engine:.0} | {:.0} | {memcpy:.0} | {:.1} / {:.1} / {:.1} / {:.1} |",
            human(e.size),
            ws_ns - raw_ns,
            ws_ns - raw_ns - engine,
            e.segs.1,
            e.segs.2,
            e.segs.0,
            e.segs.3
        );
    }
    println!();

    // Fan-out.
    let fan_size = 64;
    // Both ends of N connections live in this stack: N clients need 2N pcbs.
    let pcbs = unsafe { pool_size("TCP_PCB") };
    let fans: Vec<Fan> = [100, 1000]
        .into_iter()
        .filter(|&n| {
            let enough = pcbs >= 2 * n as i64 + 16;
            if !enough {
                eprintln!(
                    "fan-out to {n}: skipped, MEMP_NUM_TCP_PCB is {pcbs} (see benches/lwipopts/lwipopts.h)"
                );
            }
            enough
        })
        .map(|n| unsafe { fanout(n, fan_size) })
        .collect();
    println!("### Broadcast fan-out");
    println!();
    println!("The server writes one {fan_size}-byte binary message to each of N open connections (`WSS_write` in a");
    println!("loop); time until every client's `frameFp` has it. Raw TCP: the same {fan_size} bytes with `tcp_write`");
    println!("to N raw connections, until every client received them. Milliseconds, median of {FAN_REPS} [best–worst];");
    println!(
        "the ratio compares the best runs (a run of a few ms is easily cut by the scheduler here)."
    );
    println!("Before each round lwIP's timers run for 500 ms, so the clients' delayed ACKs of the previous");
    println!("round are out (a broadcast every now and then; back-to-back rounds alternate between this and");
    println!("a round in which every client also ACKs at once, about 3× slower for both).");
    println!();
    println!("| clients | WebSocket ms | raw TCP ms | raw / WebSocket | opening N WebSocket connections |");
    println!("| ---: | ---: | ---: | ---: | ---: |");
    for f in &fans {
        println!(
            "| {} | {:.2} [{:.2}–{:.2}] | {:.2} [{:.2}–{:.2}] | {:.0} % | {:.0} ms |",
            f.n,
            -f.ws.median,
            -f.ws.best,
            -f.ws.worst,
            -f.raw.median,
            -f.raw.best,
            -f.raw.worst,
            100.0 * f.raw.best / f.ws.best,
            f.open.as_secs_f64() * 1e3
        );
    }
    if fans.len() < 2 {
        println!();
        println!(
            "Some sizes skipped: this lwIP build has only {pcbs} TCP pcbs (run `scripts/bench`)."
        );
    }
    println!();

    // Memory.
    let (used, (cheap, sheap), (cidle, sidle)) = unsafe { idle_state() };
    let frag_1k = unsafe { fragmented(1024) };
    let frag_16k = unsafe { fragmented(16 * 1024) };
    let pk = if pcbs >= 216 {
        Some(unsafe { peak(100, 4096, 20) })
    } else {
        eprintln!(
            "peak heap of 100 pairs: skipped, MEMP_NUM_TCP_PCB is {pcbs} (see scripts/bench)"
        );
        None
    };

    println!("### Memory per connection");
    println!();
    println!("| what | bytes |");
    println!("| --- | ---: |");
    println!(
        "| `WSS` storage (`LWIP_WS_WSS_SIZE` = `sizeof(WSS)`) on this {}-bit host | {} |",
        usize::BITS,
        core::mem::size_of::<WSS>()
    );
    println!("| … of which the library writes (last byte changed in a filled `WSS`, open idle connection) | {used} |");
    println!(
        "| … parked engine `proto::Parked` held in it while idle (`size_of`) | {} |",
        core::mem::size_of::<lwip_ws::proto::Parked>()
    );
    println!(
        "| engine block on the heap while the connection is awake (`proto::Connection` {} B, its heap-budget charge and held-data pointer) | {} |",
        core::mem::size_of::<lwip_ws::proto::Connection>(),
        lwip_ws::capi::engine_block_bytes()
    );
    println!("| heap of an open connection right after the handshake (`WSS_heapBytes`: engine and buffers): client / server | {cheap} / {sheap} |");
    println!("| heap of an idle open connection (nothing moved for 1 s of lwIP time: its poll callback gave back the buffers and parked the engine): client / server | {cidle} / {sidle} |");
    for e in &echoes {
        println!(
            "| heap held right after echoing {} messages (before the idle release): client / server | {} / {} |",
            human(e.size),
            e.heap_after.0,
            e.heap_after.1
        );
    }
    println!(
        "| `WSListener` storage (`LWIP_WS_LISTENER_SIZE`) | {} |",
        core::mem::size_of::<WSListener>()
    );
    println!(
        "| baseline: lwIP's own `struct tcp_pcb` per connection (`size_of`) | {} |",
        core::mem::size_of::<tcp_pcb>()
    );
    println!();
    println!("### Heap allocations per message (steady state, after warm-up)");
    println!();
    println!("Counted by a counting `#[global_allocator]` in the benchmark binary (alloc, alloc_zeroed and");
    println!("realloc calls; lwIP's own heap and pools are not Rust allocations). Echo: per message, both ends");
    println!("(each message is written by one end and received by the other). On loopback with MSS 1460, a");
    println!("16 B or 1 KiB frame arrives in one pbuf and is delivered whole; 16 KiB and 256 KiB frames span");
    println!("many pbufs and are reassembled. Fragmented: 4 frames per message from a raw client, echoed whole.");
    println!();
    println!("Paused: each round trip follows 2 s of lwIP time without traffic, after which both ends have");
    println!(
        "given back their buffers and parked their engines (an idle connection holds no heap); the"
    );
    println!("message wakes the engine again (one allocation), plus its buffers. Counted during the round");
    println!("trip only. With `WSS_setIdleRelease(wss, 0)` on both ends they keep engine and buffers while");
    println!("idle.");
    println!();
    println!("| message | allocations per message | … each after a 2 s pause | … after a 2 s pause, `WSS_setIdleRelease(0)` |");
    println!("| --- | ---: | ---: | ---: |");
    for e in &echoes {
        let kind = if e.size <= 1024 {
            "one pbuf, delivered whole"
        } else {
            "split over pbufs, reassembled"
        };
        println!(
            "| {} echo ({kind}) | {:.2} | {:.2} | {:.2} |",
            human(e.size),
            e.allocs_per_msg,
            e.allocs_after_pause,
            e.allocs_after_pause_kept
        );
    }
    println!(
        "| 1 KiB in 4 fragments (server receives and reassembles, echoes 1 frame) | {frag_1k:.2} | | |"
    );
    println!("| 16 KiB in 4 fragments | {frag_16k:.2} | | |");
    println!();
    println!("### Peak heap: 100 connections exchanging 4 KiB messages");
    println!();
    if let Some(pk) = &pk {
        println!("100 WebSocket clients and their 100 server connections in one stack (200 `WSS`); each round");
        println!("every client writes a 4 KiB message and its server echoes it; {} rounds. Rust heap from the", pk.rounds);
        println!("counting allocator, lwIP heap from `lwip_stats` (above the level before the 100 connections).");
        println!();
        println!("| what | total | per connection end (÷200) |");
        println!("| --- | ---: | ---: |");
        println!(
            "| library heap, 100 idle pairs after the handshake | {} | {:.0} |",
            pk.idle_heap,
            pk.idle_heap as f64 / 200.0
        );
        println!(
            "| library heap, peak while exchanging | {} | {:.0} |",
            pk.peak_heap,
            pk.peak_heap as f64 / 200.0
        );
        println!(
            "| `WSS` storage (200 × {}) | {} | {} |",
            LWIP_WS_WSS_SIZE,
            200 * LWIP_WS_WSS_SIZE,
            LWIP_WS_WSS_SIZE
        );
        println!(
            "| lwIP heap (`MEM_SIZE` area), idle pairs | {} | {:.0} |",
            pk.lwip_idle,
            pk.lwip_idle as f64 / 200.0
        );
        println!(
            "| lwIP heap, peak while exchanging | {} | {:.0} |",
            pk.lwip_peak,
            pk.lwip_peak as f64 / 200.0
        );
        for (name, _used, max) in &pk.pools {
            println!("| lwIP pool `{name}`: peak elements in use | {max} | |");
        }
        println!();
    } else {
        println!("Skipped: this lwIP build has fewer than 216 TCP pcbs (run `scripts/bench`).");
        println!();
    }

    // Targets.
    let pct = |size: usize| {
        let e = echoes
            .iter()
            .find(|e| e.size == size)
            .expect("size measured");
        100.0 * e.ratio
    };
    let (p16k, p16) = (pct(16 * 1024), pct(16));
    let s16k = 100.0
        * echoes
            .iter()
            .find(|e| e.size == 16 * 1024)
            .expect("size measured")
            .stream_ratio;
    let verdict = if p16k >= 90.0 {
        "met"
    } else if s16k >= 90.0 {
        "met by the streaming echo; **missed** by the whole-message echo"
    } else {
        "**missed**"
    };
    println!(
        "TARGET\tWebSocket echo ≥ 90 % of raw lwIP TCP echo at 16 KiB\twhole messages {p16k:.1} %, streaming {s16k:.1} %\t{verdict}"
    );
    println!(
        "TARGET\tWebSocket echo ≥ 80 % of raw lwIP TCP echo at 16 B\t{p16:.1} %\t{}",
        yes(p16 >= 80.0)
    );
    let idle = core::mem::size_of::<WSS>() as i64 + i64::from(cidle.max(sidle));
    println!(
        "TARGET\t≤ 128 bytes of library state per idle connection\t{} B storage on this {}-bit host ({used} B written; Cortex-M: see the flash section) + {} B heap when idle\t{}",
        core::mem::size_of::<WSS>(),
        usize::BITS,
        cidle.max(sidle),
        yes(idle <= 128)
    );
    let one_pbuf = echoes
        .iter()
        .filter(|e| e.size <= 1024)
        .map(|e| e.allocs_per_msg)
        .fold(0.0, f64::max);
    let kept = echoes
        .iter()
        .filter(|e| e.size <= 1024)
        .map(|e| e.allocs_after_pause_kept)
        .fold(0.0, f64::max);
    println!(
        "TARGET\tzero heap allocations per message when a frame arrives in one pbuf and is delivered whole\t{one_pbuf:.2} in steady state; after a pause {kept:.2} with `WSS_setIdleRelease(0)` (by default an idle connection gives its memory back and the next message allocates)\t{}",
        yes(one_pbuf == 0.0 && kept == 0.0)
    );
    eprintln!(
        "benches/lwip.rs: done in {:.1} s",
        t_all.elapsed().as_secs_f64()
    );
}
