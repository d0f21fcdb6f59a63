//! Both ends of the measured connections: lwip-ws clients and servers, raw lwIP TCP
//! peers, the counting allocator and lwIP's statistics.

use super::*;

// ---- a counting allocator -----------------------------------------------------------

/// Counts allocation calls (alloc, alloc_zeroed, realloc) and live bytes, with the peak.
pub(crate) struct Counting;

pub(crate) static ALLOCS: AtomicU64 = AtomicU64::new(0);
pub(crate) static LIVE: AtomicI64 = AtomicI64::new(0);
pub(crate) static PEAK: AtomicI64 = AtomicI64::new(0);

pub(crate) fn track(delta: i64) {
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
pub(crate) static GLOBAL: Counting = Counting;

pub(crate) fn allocs() -> u64 {
    ALLOCS.load(Relaxed)
}

pub(crate) fn live() -> i64 {
    LIVE.load(Relaxed)
}

pub(crate) fn reset_peak() {
    PEAK.store(LIVE.load(Relaxed), Relaxed);
}

pub(crate) unsafe fn open_client(wss: *mut WSS, side: *mut Side, port: u16, keep_memory: bool) {
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
pub(crate) unsafe fn pair(
    port: u16,
    setup: impl FnOnce(&mut Server),
) -> (*mut Server, *mut Side, Box<[WSS]>) {
    let srv = start_server(port, 1, 0);
    setup(&mut *srv);
    let side = side(false);
    let mut clients = storage(1, 0);
    open_all(srv, &mut clients, side, port);
    (srv, side, clients)
}

pub(crate) unsafe fn open_all(
    srv: *mut Server,
    clients: &mut [WSS],
    side: *mut Side,
    port: u16,
) -> Duration {
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
pub(crate) unsafe fn close_all(srv: *mut Server, clients: &mut [WSS], side: *mut Side) {
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

pub(crate) unsafe fn free_server(srv: *mut Server) {
    let srv = Box::from_raw(srv);
    drop(Box::from_raw(srv.side));
}

// ---- raw lwIP TCP ends ---------------------------------------------------------------

/// One raw TCP end: counts what it receives, optionally echoes it; `out` is its send
/// backlog (kept capacity), written with `TCP_WRITE_FLAG_COPY` as far as `tcp_sndbuf`
/// allows and resumed from the sent callback, like the library does.
#[derive(Default)]
pub(crate) struct RawPeer {
    pub(crate) pcb: *mut lwipws_pcb,
    pub(crate) echo: bool,
    pub(crate) connected: bool,
    pub(crate) received: u64,
    /// Keep received bytes (handshakes only).
    pub(crate) keep: bool,
    pub(crate) inbox: Vec<u8>,
    /// Also add received byte counts here (fan-out: one counter for all clients).
    pub(crate) shared: Option<*mut u64>,
    /// Echo: 0 streams every piece back at once; n > 0 holds the echo until a whole
    /// n-byte message has arrived (store-and-forward, like a message-based echo).
    pub(crate) whole: u64,
    /// Bytes of `out` that may be sent.
    pub(crate) released: usize,
    /// Bytes received towards the current whole message.
    pub(crate) held: u64,
    pub(crate) out: Vec<u8>,
    pub(crate) out_pos: usize,
    pub(crate) errors: u64,
}

pub(crate) unsafe fn raw_flush(p: &mut RawPeer) {
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

pub(crate) unsafe fn raw_send(p: &mut RawPeer, bytes: &[u8]) {
    p.out.extend_from_slice(bytes);
    p.released = p.out.len();
    raw_flush(p);
}

pub(crate) unsafe extern "C" fn raw_recv(
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

pub(crate) unsafe extern "C" fn raw_sent(
    arg: *mut c_void,
    _pcb: *mut lwipws_pcb,
    _len: u16,
) -> err_t {
    raw_flush(&mut *arg.cast::<RawPeer>());
    ERR_OK as err_t
}

pub(crate) unsafe extern "C" fn raw_err(arg: *mut c_void, _e: err_t) {
    let peer = &mut *arg.cast::<RawPeer>();
    peer.errors += 1;
    peer.pcb = std::ptr::null_mut();
}

pub(crate) unsafe extern "C" fn raw_connected(
    arg: *mut c_void,
    _pcb: *mut lwipws_pcb,
    _e: err_t,
) -> err_t {
    (*arg.cast::<RawPeer>()).connected = true;
    ERR_OK as err_t
}

pub(crate) unsafe fn attach(peer: *mut RawPeer, pcb: *mut lwipws_pcb) {
    (*peer).pcb = pcb;
    lwipws_arg(pcb, peer.cast());
    lwipws_recv(pcb, Some(raw_recv));
    lwipws_sent(pcb, Some(raw_sent));
    lwipws_err(pcb, Some(raw_err));
    lwipws_nagle_disable(pcb); // as the library does on every pcb
}

/// A raw listener: each accepted pcb gets a new (echoing or not) peer.
pub(crate) struct RawServer {
    pub(crate) pcb: *mut lwipws_pcb,
    pub(crate) echo: bool,
    pub(crate) peers: Vec<*mut RawPeer>,
}

pub(crate) unsafe extern "C" fn raw_accept(
    arg: *mut c_void,
    newpcb: *mut lwipws_pcb,
    _e: err_t,
) -> err_t {
    let srv = &mut *arg.cast::<RawServer>();
    let peer = Box::into_raw(Box::new(RawPeer {
        echo: srv.echo,
        ..RawPeer::default()
    }));
    attach(peer, newpcb);
    srv.peers.push(peer);
    ERR_OK as err_t
}

pub(crate) unsafe fn raw_listen(port: u16, echo: bool) -> *mut RawServer {
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

pub(crate) unsafe fn raw_connect(port: u16) -> *mut RawPeer {
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

pub(crate) unsafe fn raw_close(peer: *mut RawPeer) {
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

pub(crate) unsafe fn raw_stop(srv: *mut RawServer) {
    let srv = Box::from_raw(srv);
    lwipws_close(srv.pcb);
    for &p in &srv.peers {
        raw_close(p);
    }
}

// ---- statistics --------------------------------------------------------------------------

/// lwIP heap bytes in use and its high-water mark; `reset` first sets the mark to now.
pub(crate) unsafe fn lwip_mem(reset: bool) -> (i64, i64) {
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
pub(crate) unsafe fn pool_size(name: &str) -> i64 {
    let st = &*std::ptr::addr_of!(lwip_stats);
    (0..lwipws_stats_memp_count())
        .find(|&i| CStr::from_ptr(lwipws_stats_memp_name(i)).to_bytes() == name.as_bytes())
        .and_then(|i| st.memp.get(i as usize).copied())
        .filter(|m| !m.is_null())
        .map_or(0, |m| (*m).avail as i64)
}

/// (name, used, max) of the TCP-related pools.
pub(crate) unsafe fn lwip_pools() -> Vec<(String, i64, i64)> {
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
pub(crate) fn written(wss: &WSS, fill: u64) -> usize {
    let bytes: Vec<u8> = wss._opaque.iter().flat_map(|w| w.to_ne_bytes()).collect();
    let pat = fill.to_ne_bytes();
    bytes
        .iter()
        .enumerate()
        .rev()
        .find(|(i, b)| **b != pat[i % 8])
        .map_or(0, |(i, _)| i + 1)
}
