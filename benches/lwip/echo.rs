//! Echo throughput: lwip-ws next to a raw lwIP TCP echo of the same payloads.

use super::*;

// ---- the benchmarks ------------------------------------------------------------------

pub(crate) const SIZES: [usize; 4] = [16, 1024, 16 * 1024, 256 * 1024];

pub(crate) struct EchoResult {
    pub(crate) size: usize,
    pub(crate) raw: Spread,
    /// Median of the paired WebSocket / raw ratios.
    pub(crate) ratio: f64,
    /// Median of the paired streaming WebSocket / raw ratios.
    pub(crate) stream_ratio: f64,
    /// TCP segments per round trip: WebSocket, raw, raw whole-message.
    pub(crate) segs: (f64, f64, f64, f64),
    pub(crate) allocs_per_msg: f64,
    /// Allocations per message when each round trip follows a 2 s pause.
    pub(crate) allocs_after_pause: f64,
    /// The same with `WSS_setIdleRelease(0)` on both ends.
    pub(crate) allocs_after_pause_kept: f64,
    pub(crate) heap_after: (c_int, c_int),
}

pub(crate) unsafe fn echo(results: &mut Vec<EchoResult>) {
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
pub(crate) unsafe fn fragmented(size: usize) -> f64 {
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
