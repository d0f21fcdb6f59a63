//! Figures for a hostile network, on in-process lwIP with lwIP's clock driven by the
//! benchmark (so times are lwIP time, the same on every machine): the library's peak heap
//! under each attack next to its budget (and next to what the attackers' claims would
//! have pinned), the time from a peer's death to `closeFp` with the default timeouts, and
//! what the keep-alive costs an idle connection. Prints markdown; asserts only that each
//! attack really happened (the connections upgraded, the closes arrived).
//!
//! `cargo bench --features host-lwip --bench hostile` (scripts/bench runs it).

use core::ffi::{c_int, c_void};

use lwip_sys::*;
use lwip_ws::capi::*;

const PORT: u16 = 9401;
const SLOTS: usize = 700;
const BUDGET: u32 = 1 << 20;

/// The device under attack: a listener whose upgrades go to a pool of `WSS`.
#[repr(C)]
struct Device {
    cb: WSSCB,
    l: WSListener,
    slots: Vec<WSS>,
    busy: Vec<bool>,
    /// Status of every closeFp, and the lwIP time it arrived at.
    closes: Vec<(c_int, u32)>,
    upgrades: usize,
}

static mut DEVICE: *mut Device = std::ptr::null_mut();

unsafe fn device<'a>() -> &'a mut Device {
    &mut *DEVICE
}

unsafe extern "C" fn on_frame(_o: *mut WSSCB, w: *mut WSS, d: *mut c_void, n: c_int, t: c_int) {
    let _ = WSS_write(w, d, n, t);
}

unsafe extern "C" fn on_close(_o: *mut WSSCB, w: *mut WSS, status: c_int) {
    let d = device();
    let i = (w as usize - d.slots.as_ptr() as usize) / core::mem::size_of::<WSS>();
    d.busy[i] = false;
    d.closes.push((status, sys_now()));
}

unsafe extern "C" fn on_request(_l: *mut WSListener, req: *mut HttpRequest) {
    let d = device();
    let cb: *mut WSSCB = &mut d.cb;
    let Some(i) = d.busy.iter().position(|b| !b) else {
        assert_eq!(HttpRequest_reject(req, 503), LWIP_WS_OK);
        return;
    };
    let w: *mut WSS = &mut d.slots[i];
    WSS_destructor(w);
    assert_eq!(WSS_constructor(w, cb, 1024, 4096), LWIP_WS_OK);
    assert_eq!(WSS_setMaxMessage(w, 64 * 1024), LWIP_WS_OK);
    if WSS_upgrade(w, req) == LWIP_WS_OK {
        d.busy[i] = true;
        d.upgrades += 1;
    }
}

unsafe fn start_device() {
    let d = Box::into_raw(Box::new(Device {
        cb: WSSCB::default(),
        l: WSListener {
            _opaque: [0; LWIP_WS_LISTENER_WORDS],
        },
        slots: (0..SLOTS)
            .map(|_| WSS {
                _opaque: [0; LWIP_WS_WSS_WORDS],
            })
            .collect(),
        busy: vec![false; SLOTS],
        closes: Vec::new(),
        upgrades: 0,
    }));
    DEVICE = d;
    assert_eq!(
        WSSCB_constructor(&mut (*d).cb, Some(on_frame), Some(on_close), None),
        LWIP_WS_OK
    );
    assert_eq!(
        WSListener_constructor(&mut (*d).l, Some(on_request)),
        LWIP_WS_OK
    );
    assert_eq!(
        WSListener_listen(&mut (*d).l, std::ptr::null(), PORT),
        LWIP_WS_OK
    );
}

/// An attacker's socket: sends what it is told, reads nothing back (its window stays open
/// but it never answers anything).
#[derive(Default)]
struct Peer {
    pcb: *mut lwipws_pcb,
    connected: bool,
    head_seen: bool,
    gone: bool,
}

unsafe extern "C" fn peer_recv(
    arg: *mut c_void,
    pcb: *mut lwipws_pcb,
    p: *mut pbuf,
    _e: err_t,
) -> err_t {
    let peer = &mut *arg.cast::<Peer>();
    if p.is_null() {
        peer.gone = true;
        return ERR_OK as err_t;
    }
    peer.head_seen = true;
    lwipws_recved(pcb, (*p).tot_len);
    pbuf_free(p);
    ERR_OK as err_t
}

unsafe extern "C" fn peer_err(arg: *mut c_void, _e: err_t) {
    let peer = &mut *arg.cast::<Peer>();
    peer.pcb = std::ptr::null_mut();
    peer.gone = true;
}

unsafe extern "C" fn peer_connected(arg: *mut c_void, _pcb: *mut lwipws_pcb, _e: err_t) -> err_t {
    (*arg.cast::<Peer>()).connected = true;
    ERR_OK as err_t
}

unsafe fn connect() -> Box<Peer> {
    let mut p = Box::<Peer>::default();
    let addr = ip_addr_t {
        addr: u32::from_ne_bytes([127, 0, 0, 1]),
    };
    p.pcb = lwipws_new(IPADDR_TYPE_V4 as u8);
    assert!(!p.pcb.is_null(), "no tcp pcb left");
    let arg: *mut Peer = &mut *p;
    lwipws_arg(p.pcb, arg.cast());
    lwipws_recv(p.pcb, Some(peer_recv));
    lwipws_err(p.pcb, Some(peer_err));
    assert_eq!(
        lwipws_connect(p.pcb, &addr, PORT, Some(peer_connected)),
        ERR_OK as err_t
    );
    p
}

unsafe fn send(p: &Peer, bytes: &[u8]) {
    if p.pcb.is_null() {
        return;
    }
    let e = lwipws_write(
        p.pcb,
        bytes.as_ptr().cast(),
        bytes.len() as u16,
        lwipws_write_flag_copy(),
    );
    assert_eq!(e, ERR_OK as err_t, "tcp_write");
    lwipws_output(p.pcb);
}

#[allow(clippy::boxed_local)] // the box is what lwIP's callback argument points at
unsafe fn drop_peer(p: Box<Peer>) {
    if !p.pcb.is_null() {
        lwipws_arg(p.pcb, std::ptr::null_mut());
        lwipws_recv(p.pcb, None);
        lwipws_err(p.pcb, None);
        lwipws_abort(p.pcb);
    }
}

const UPGRADE: &[u8] =
    b"GET /ws HTTP/1.1\r\nHost: dev\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

/// Runs lwIP for `ms` of its time, recording the library's peak heap.
unsafe fn run(ms: u32, peak: &mut u32) {
    let mut left = ms;
    while left > 0 {
        let step = left.min(50);
        unixport_run_for(step);
        for _ in 0..4 {
            unixport_poll();
        }
        *peak = (*peak).max(lwipws_heapBytes());
        left -= step;
    }
}

/// `n` attackers that upgrade, each sending its request as soon as it is connected (in
/// groups of 8, the listener's pending slots).
#[allow(clippy::vec_box)] // each peer's address is lwIP's callback argument: it must not move
unsafe fn upgraded(n: usize, peak: &mut u32) -> Vec<Box<Peer>> {
    let before = device().upgrades;
    let mut peers = Vec::new();
    while peers.len() < n {
        let batch: Vec<_> = (0..8.min(n - peers.len())).map(|_| connect()).collect();
        for _ in 0..100 {
            unixport_poll();
            if batch.iter().all(|p| p.connected) {
                break;
            }
        }
        for p in &batch {
            send(p, UPGRADE);
        }
        run(50, peak);
        peers.extend(batch);
    }
    assert_eq!(device().upgrades - before, n, "every attacker upgraded");
    peers
}

fn kib(n: u32) -> String {
    format!("{:.1} KiB", f64::from(n) / 1024.0)
}

fn header(len: u16) -> Vec<u8> {
    // Binary, FIN, masked, 16-bit length, key 1 2 3 4.
    let [hi, lo] = len.to_be_bytes();
    vec![0x82, 0x80 | 126, hi, lo, 1, 2, 3, 4]
}

fn main() {
    unsafe {
        unixport_init();
        start_device();
        lwipws_setHeapBudget(BUDGET);
        unixport_run_for(1_000);

        println!("## Hostile network (`benches/hostile.rs`)");
        println!();
        println!(
            "In-process lwIP, lwIP's clock driven by the benchmark (times are lwIP time). The device: a \
             `WSListener` (8 pending slots) upgrading into `WSS` with `startSize` 1024, \
             `WSS_setMaxMessage` 64 KiB, default timeouts, and `lwipws_setHeapBudget({})`.",
            kib(BUDGET)
        );
        println!();
        println!("| attack | what the attackers claim or hold | library heap, peak | budget |");
        println!("| --- | ---: | ---: | ---: |");

        // 200 connections each announcing a 60,000-byte message and sending one byte.
        let mut peak = lwipws_heapBytes();
        let peers = upgraded(200, &mut peak);
        let mut f = header(60_000);
        f.push(0);
        for p in &peers {
            send(p, &f);
        }
        let stalled_at = sys_now();
        run(2_000, &mut peak);
        println!(
            "| 200 upgraded connections announce 60,000-byte messages, send 1 byte | {} announced | {} | {} |",
            kib(200 * 60_000),
            kib(peak),
            kib(BUDGET)
        );
        // They stall: the message timeout ends them.
        let closes_before = device().closes.len();
        run(35_000, &mut peak);
        let ended: Vec<_> = device().closes[closes_before..].to_vec();
        assert_eq!(ended.len(), 200, "the stalled connections all ended");
        let last = ended.iter().map(|c| c.1).max().unwrap_or(0) - stalled_at;
        let all_timeouts = ended.iter().all(|c| c.0 == LWIP_WS_DROP_MESSAGE_TIMEOUT);
        for p in peers {
            drop_peer(p);
        }
        run(1_000, &mut peak);

        // 100 connections each sending a 16 KiB message at once: more than the budget.
        let mut peak2 = lwipws_heapBytes();
        let peers = upgraded(100, &mut peak2);
        let body = vec![0x55u8; 16 * 1024];
        let mut msg = header(body.len() as u16);
        msg.extend(
            body.iter()
                .enumerate()
                .map(|(i, b)| b ^ [1, 2, 3, 4][i % 4]),
        );
        let closes_before = device().closes.len();
        for p in &peers {
            for part in msg.chunks(4096) {
                send(p, part);
            }
        }
        run(3_000, &mut peak2);
        let over_budget = device().closes[closes_before..]
            .iter()
            .filter(|c| c.0 == 1013)
            .count();
        println!(
            "| 100 connections send a 16 KiB message at once ({over_budget} ended with 1013) | {} in flight | {} | {} |",
            kib(100 * 16 * 1024),
            kib(peak2),
            kib(BUDGET)
        );
        for p in peers {
            drop_peer(p);
        }
        run(2_000, &mut peak2);

        // 600 silent sockets against 8 pending slots.
        let mut peak3 = lwipws_heapBytes();
        let mut silent = Vec::new();
        for _ in 0..12 {
            for _ in 0..50 {
                silent.push(connect());
            }
            run(100, &mut peak3);
        }
        let evicted = silent.iter().filter(|p| p.gone).count();
        let mut real = connect();
        run(100, &mut peak3);
        send(&real, UPGRADE);
        run(200, &mut peak3);
        let real_in = real.head_seen;
        println!(
            "| 600 silent sockets (8 pending slots: {evicted} evicted); a real client {} | {} sockets | {} | {} |",
            if real_in { "upgrades" } else { "**is locked out**" },
            silent.len(),
            kib(peak3),
            kib(BUDGET)
        );
        for p in silent {
            drop_peer(p);
        }
        real.gone = false;
        drop_peer(real);
        run(12_000, &mut peak3);
        println!();

        // A peer dies (stops answering, sends nothing): the keep-alive finds it.
        let mut idle_peak = 0;
        let mut dead = upgraded(1, &mut idle_peak);
        let died = sys_now();
        run(1_000, &mut idle_peak);
        let idle_heap = WSS_heapBytes(device().slots.as_mut_ptr().add(slot_of_last()));
        let closes_before = device().closes.len();
        run(45_000, &mut idle_peak);
        let keepalive = device().closes[closes_before..].to_vec();
        assert_eq!(keepalive.len(), 1, "the dead peer was found");
        for p in dead.drain(..) {
            drop_peer(p);
        }
        run(1_000, &mut idle_peak);
        println!(
            "| from a peer's death to `closeFp` (default timeouts, lwIP time) | status | time |"
        );
        println!("| --- | --- | ---: |");
        println!(
            "| an idle connection's peer falls silent (keep-alive ping after 30 s, 10 s to answer); from its last byte | {} | {:.1} s |",
            if keepalive[0].0 == LWIP_WS_DROP_KEEPALIVE_TIMEOUT {
                "`LWIP_WS_DROP_KEEPALIVE_TIMEOUT`".to_string()
            } else {
                status_name(keepalive[0].0)
            },
            f64::from(keepalive[0].1 - died) / 1000.0
        );
        println!(
            "| 200 peers stalled in the middle of a message (message timeout 30 s); from their last byte | {} | {:.1} s (last of 200) |",
            if all_timeouts { "`LWIP_WS_DROP_MESSAGE_TIMEOUT`" } else { "mixed" },
            f64::from(last) / 1000.0
        );
        println!();
        println!("| cost of the keep-alive timers per idle connection | |");
        println!("| --- | ---: |");
        println!(
            "| `WSS` storage (this host; 96 B on Cortex-M) | {} B |",
            LWIP_WS_WSS_SIZE
        );
        println!(
            "| parked engine `proto::Parked` inside it (config with the three timers, last-receive time) | {} B |",
            core::mem::size_of::<lwip_ws::proto::Parked>()
        );
        println!(
            "| heap of an idle connection with the keep-alive on, between pings | {idle_heap} B |"
        );
        println!(
            "| heap while it wakes for the ping (engine block, for about one poll interval) | {} B |",
            engine_block_bytes()
        );
        println!();
        lwipws_setHeapBudget(0);
    }
}

unsafe fn slot_of_last() -> usize {
    device().busy.iter().rposition(|b| *b).unwrap_or(0)
}

fn status_name(s: c_int) -> String {
    // SAFETY: WSS_errorText returns a static NUL-terminated string.
    unsafe { std::ffi::CStr::from_ptr(WSS_errorText(s)) }
        .to_string_lossy()
        .into_owned()
}
