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

#[path = "lwip/echo.rs"]
mod echo;
#[path = "lwip/ends.rs"]
mod ends;
#[path = "lwip/fanout.rs"]
mod fanout;
use echo::*;
use ends::*;
use fanout::*;

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
