//! Broadcast fan-out to 100 and 1,000 connections, the engine's own costs, and the
//! peak heap of busy connections.

use super::*;

/// Repetitions of each broadcast (after one warm-up).
pub(crate) const FAN_REPS: usize = 5;

pub(crate) struct Fan {
    pub(crate) n: usize,
    pub(crate) ws: Spread,
    pub(crate) raw: Spread,
    pub(crate) open: Duration,
}

/// Time from the first `WSS_write` until all `n` clients have the message (milliseconds,
/// lower is better), next to the same broadcast over raw TCP.
pub(crate) unsafe fn fanout(n: usize, size: usize) -> Fan {
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
pub(crate) fn ns_per(mut f: impl FnMut()) -> f64 {
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
pub(crate) fn engine_costs(size: usize) -> (f64, f64, f64, f64) {
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

pub(crate) struct Peak {
    pub(crate) idle_heap: i64,
    pub(crate) peak_heap: i64,
    pub(crate) lwip_idle: i64,
    pub(crate) lwip_peak: i64,
    pub(crate) pools: Vec<(String, i64, i64)>,
    pub(crate) rounds: usize,
}

/// 100 client/server pairs, every client sending 4 KiB messages that its server echoes,
/// all at once, for a few rounds.
pub(crate) unsafe fn peak(pairs: usize, size: usize, rounds: usize) -> Peak {
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
pub(crate) unsafe fn idle_state() -> (usize, (c_int, c_int), (c_int, c_int)) {
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
