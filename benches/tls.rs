//! wss:// next to ws:// on the same in-process lwIP stack in the same run (feature `tls`:
//! lwIP's altcp_tls over Debian's mbedTLS 2.28): echo round trips at 16 B and 16 KiB
//! (the two variants interleaved, their paired ratio), the handshake time, and the mbedTLS
//! heap a connection takes at its peak and holds while open, counted through mbedTLS's
//! calloc/free (feature `tls-count`: its archives linked with those two renamed to the
//! counting pair below). When wss reaches less than 90 % of ws at 16 KiB, the cipher's
//! cost per byte (measured alone, mbedTLS) and the loopback's cost per byte say why.
//! Prints figures (markdown); never asserts on time. Run by `scripts/bench-tls`.
//!
//! Both ends of every connection live in the same stack, so every figure includes the
//! work of both: each message is encrypted and decrypted once per direction, and each
//! handshake does the server's and the client's ECDHE and signature work.

use core::ffi::{c_int, c_void};
use std::alloc::{alloc_zeroed, dealloc, Layout};
use std::path::Path;
use std::sync::atomic::{AtomicI64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use lwip_sys::*;
use lwip_ws::capi::*;

mod support;
use support::*;

// ---- mbedTLS's heap, counted --------------------------------------------------------------

/// Bytes in front of each block: its size (keeps 16-byte alignment).
const HEADER: usize = 16;

static MB_LIVE: AtomicI64 = AtomicI64::new(0);
static MB_PEAK: AtomicI64 = AtomicI64::new(0);
static MB_BLOCKS: AtomicI64 = AtomicI64::new(0);

fn mb_track(delta: i64, blocks: i64) {
    MB_BLOCKS.fetch_add(blocks, Relaxed);
    let now = MB_LIVE.fetch_add(delta, Relaxed) + delta;
    MB_PEAK.fetch_max(now, Relaxed);
}

fn mb_live() -> i64 {
    MB_LIVE.load(Relaxed)
}

fn mb_reset_peak() -> i64 {
    let now = mb_live();
    MB_PEAK.store(now, Relaxed);
    now
}

/// mbedTLS's `calloc` (its archives call this instead; see lwip-sys feature `tls-count`).
#[no_mangle]
pub extern "C" fn lwipws_mbedtls_calloc(n: usize, size: usize) -> *mut c_void {
    let Some(bytes) = n.checked_mul(size) else {
        return std::ptr::null_mut();
    };
    let Some(layout) = bytes
        .checked_add(HEADER)
        .and_then(|total| Layout::from_size_align(total, HEADER).ok())
    else {
        return std::ptr::null_mut();
    };
    // SAFETY: the layout is at least HEADER bytes (non-zero size).
    let p = unsafe { alloc_zeroed(layout) };
    if p.is_null() {
        return std::ptr::null_mut();
    }
    // SAFETY: `p` is 16-byte aligned with HEADER bytes before the caller's block.
    unsafe { p.cast::<usize>().write(bytes) };
    mb_track(bytes as i64, 1);
    // SAFETY: within the allocation (HEADER + bytes).
    unsafe { p.add(HEADER) }.cast()
}

/// mbedTLS's `free`: blocks from [`lwipws_mbedtls_calloc`], or NULL.
///
/// # Safety
/// `p` is NULL or a live block from `lwipws_mbedtls_calloc`.
#[no_mangle]
pub unsafe extern "C" fn lwipws_mbedtls_free(p: *mut c_void) {
    if p.is_null() {
        return;
    }
    // SAFETY: `p` came from lwipws_mbedtls_calloc: its header is HEADER bytes before.
    unsafe {
        let base = p.cast::<u8>().sub(HEADER);
        let bytes = base.cast::<usize>().read();
        mb_track(-(bytes as i64), -1);
        dealloc(
            base,
            Layout::from_size_align_unchecked(bytes + HEADER, HEADER),
        );
    }
}

// ---- the ciphers alone (mbedTLS's own calls) ------------------------------------------------

extern "C" {
    fn mbedtls_chachapoly_init(ctx: *mut c_void);
    fn mbedtls_chachapoly_setkey(ctx: *mut c_void, key: *const u8) -> c_int;
    fn mbedtls_chachapoly_encrypt_and_tag(
        ctx: *mut c_void,
        length: usize,
        nonce: *const u8,
        aad: *const u8,
        aad_len: usize,
        input: *const u8,
        output: *mut u8,
        tag: *mut u8,
    ) -> c_int;
    fn mbedtls_chachapoly_free(ctx: *mut c_void);
    fn mbedtls_gcm_init(ctx: *mut c_void);
    fn mbedtls_gcm_setkey(ctx: *mut c_void, cipher: c_int, key: *const u8, bits: u32) -> c_int;
    fn mbedtls_gcm_crypt_and_tag(
        ctx: *mut c_void,
        mode: c_int,
        length: usize,
        iv: *const u8,
        iv_len: usize,
        add: *const u8,
        add_len: usize,
        input: *const u8,
        output: *mut u8,
        tag_len: usize,
        tag: *mut u8,
    ) -> c_int;
    fn mbedtls_gcm_free(ctx: *mut c_void);
}

/// Room for an mbedTLS 2.28 context (`mbedtls_gcm_context` is under 1 KiB on x86_64).
#[repr(C, align(16))]
struct Ctx([u8; 4096]);

/// Nanoseconds per byte to seal `n`-byte records (encrypt + tag; opening costs the same).
fn seal_ns_per_byte(n: usize, mut seal: impl FnMut(&[u8], &mut [u8])) -> f64 {
    let input = payload(n, 9);
    let mut output = vec![0u8; n];
    let mut rates = Vec::new();
    for _ in 0..9 {
        let t = Instant::now();
        let mut k = 0u64;
        while k < 8 || t.elapsed() < Duration::from_millis(40) {
            seal(&input, &mut output);
            k += 1;
        }
        rates.push(t.elapsed().as_nanos() as f64 / (k as f64 * n as f64));
    }
    spread(rates).median
}

/// (ChaCha20-Poly1305, AES-128-GCM) nanoseconds per byte on `n`-byte records.
fn cipher_costs(n: usize) -> (f64, f64) {
    let key = [7u8; 32];
    let nonce = [1u8; 12];
    let mut tag = [0u8; 16];
    let mut ctx = Box::new(Ctx([0; 4096]));
    let c = ctx.0.as_mut_ptr().cast::<c_void>();
    // SAFETY: `ctx` outlives the calls; buffers are as long as the lengths passed.
    let chacha = unsafe {
        mbedtls_chachapoly_init(c);
        assert_eq!(mbedtls_chachapoly_setkey(c, key.as_ptr()), 0);
        let ns = seal_ns_per_byte(n, |i, o| {
            let rc = mbedtls_chachapoly_encrypt_and_tag(
                c,
                i.len(),
                nonce.as_ptr(),
                std::ptr::null(),
                0,
                i.as_ptr(),
                o.as_mut_ptr(),
                tag.as_mut_ptr(),
            );
            assert_eq!(rc, 0);
        });
        mbedtls_chachapoly_free(c);
        ns
    };
    ctx.0.fill(0);
    const CIPHER_ID_AES: c_int = 2;
    const GCM_ENCRYPT: c_int = 1;
    // SAFETY: as above.
    let gcm = unsafe {
        mbedtls_gcm_init(c);
        assert_eq!(mbedtls_gcm_setkey(c, CIPHER_ID_AES, key.as_ptr(), 128), 0);
        let ns = seal_ns_per_byte(n, |i, o| {
            let rc = mbedtls_gcm_crypt_and_tag(
                c,
                GCM_ENCRYPT,
                i.len(),
                nonce.as_ptr(),
                12,
                std::ptr::null(),
                0,
                i.as_ptr(),
                o.as_mut_ptr(),
                16,
                tag.as_mut_ptr(),
            );
            assert_eq!(rc, 0);
        });
        mbedtls_gcm_free(c);
        ns
    };
    (chacha, gcm)
}

// ---- the two servers and a client -----------------------------------------------------------

const WS_PORT: u16 = 8080;
const WSS_PORT: u16 = 8443;
/// Server slots are used once each: enough for every connection of the run.
const SLOTS: usize = 128;
const HANDSHAKES: usize = 31;

struct Tls {
    server: *mut WSTlsConfig,
    client: *mut WSTlsConfig,
}

fn read(dir: &Path, name: &str) -> Vec<u8> {
    let mut v = std::fs::read(dir.join(name)).expect("certificate file");
    v.push(0);
    v
}

/// Test certificates made now by tests/tls/make-certs.sh (a CA, the server's for
/// localhost), a server configuration and a client one trusting the CA.
fn tls_configs(dir: &Path) -> Tls {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tls/make-certs.sh");
    let ok = std::process::Command::new(script)
        .arg(dir)
        .status()
        .expect("run make-certs.sh");
    assert!(ok.success(), "make-certs.sh failed");
    let (cert, key, ca) = (
        read(dir, "server.pem"),
        read(dir, "server.key"),
        read(dir, "ca.pem"),
    );
    let mut tls = Tls {
        server: std::ptr::null_mut(),
        client: std::ptr::null_mut(),
    };
    // SAFETY: the buffers are readable for their lengths; the configurations copy them.
    unsafe {
        let rc = WSTls_serverConfig(
            cert.as_ptr().cast(),
            cert.len() as c_int,
            key.as_ptr().cast(),
            key.len() as c_int,
            std::ptr::null(),
            &mut tls.server,
        );
        assert_eq!(rc, LWIP_WS_OK);
        let rc = WSTls_clientConfig(
            ca.as_ptr().cast(),
            ca.len() as c_int,
            std::ptr::null(),
            0,
            std::ptr::null(),
            0,
            std::ptr::null(),
            &mut tls.client,
        );
        assert_eq!(rc, LWIP_WS_OK);
    }
    tls
}

/// Starts the opening handshake of `wss` to the ws port, or with `tls` to the wss port
/// (verifying the server as "localhost"); returns without polling.
unsafe fn start_client(wss: *mut WSS, side: *mut Side, tls: Option<*mut WSTlsConfig>) {
    assert_eq!(
        WSS_constructor(wss, &mut (*side).cb, START, EXPAND),
        LWIP_WS_OK
    );
    assert_eq!(WSS_setMaxMessage(wss, MAX_MESSAGE), LWIP_WS_OK);
    assert_eq!(WSS_setSendQueue(wss, MAX_MESSAGE + 14), LWIP_WS_OK);
    let (host, path) = (c"localhost".as_ptr(), c"/echo".as_ptr());
    let rc = match tls {
        Some(cfg) => WSS_openClientTls(wss, &LOOPBACK, WSS_PORT, host, path, std::ptr::null(), cfg),
        None => WSS_openClient(wss, &LOOPBACK, WS_PORT, host, path, std::ptr::null()),
    };
    assert_eq!(rc, LWIP_WS_OK);
}

unsafe fn wait_open(side: *mut Side, before: u64) {
    poll_until("opening handshake", STEP, || (*side).opens == before + 1);
}

/// Closes `wss` (1000) and waits for both ends, then destroys it.
unsafe fn close(wss: *mut WSS, side: *mut Side, srv: *mut Server) {
    let (c0, s0) = ((*side).closes, (*(*srv).side).closes);
    assert_eq!(WSS_close(wss, 1000), LWIP_WS_OK);
    poll_until("closing handshake", STEP, || {
        (*side).closes == c0 + 1 && (*(*srv).side).closes == s0 + 1
    });
    WSS_destructor(wss);
}

/// One echo round trip of `msg` on `wss`.
unsafe fn round_trip(wss: *mut WSS, side: *mut Side, msg: &[u8]) {
    let before = (*side).messages;
    let rc = WSS_write(wss, msg.as_ptr().cast(), msg.len() as c_int, 0);
    assert_eq!(rc, LWIP_WS_OK);
    poll_until("echo", STEP, || (*side).messages == before + 1);
}

// ---- the figures ----------------------------------------------------------------------------

struct Echo {
    size: usize,
    ws: Spread,
    wss: Spread,
    ratio: f64,
}

unsafe fn echoes(ws: *mut WSS, wss: *mut WSS, side: *mut Side) -> Vec<Echo> {
    let slice = Duration::from_millis(200);
    [16, 16 * 1024]
        .into_iter()
        .map(|size| {
            let msg = payload(size, 3);
            (*side).expect = Some((msg.as_ptr(), msg.len()));
            round_trip(ws, side, &msg);
            round_trip(wss, side, &msg);
            assert_eq!((*side).mismatches, 0, "an echo came back different");
            (*side).expect = None;
            let r = interleaved(
                slice,
                &mut [&mut || round_trip(ws, side, &msg), &mut || {
                    round_trip(wss, side, &msg)
                }],
            );
            Echo {
                size,
                ratio: paired(&r[1].1, &r[0].1),
                ws: r[0].0.clone(),
                wss: r[1].0.clone(),
            }
        })
        .collect()
}

/// Median opening handshake (TCP, TLS when `tls`, WebSocket upgrade), milliseconds.
unsafe fn handshakes(
    side: *mut Side,
    plain: *mut Server,
    secure: *mut Server,
    t: &Tls,
) -> (f64, f64) {
    let mut times = [Vec::new(), Vec::new()];
    for _ in 0..HANDSHAKES {
        for (i, (srv, tls)) in [(plain, None), (secure, Some(t.client))]
            .into_iter()
            .enumerate()
        {
            let mut c = storage(1, 0);
            let before = (*side).opens;
            let t0 = Instant::now();
            start_client(&mut c[0], side, tls);
            wait_open(side, before);
            times[i].push(t0.elapsed().as_secs_f64() * 1e3);
            close(&mut c[0], side, srv);
        }
    }
    let [ws, wss] = times;
    // spread() ranks higher as better; a median is a median either way.
    (spread(ws).median, spread(wss).median)
}

struct Heap {
    setup_client: i64,
    peak: i64,
    held: i64,
    held_after_echo: i64,
    back: i64,
    blocks_back: i64,
}

/// mbedTLS heap of one wss connection (both of its ends) over its life.
unsafe fn heap(side: *mut Side, secure: *mut Server, t: &Tls) -> Heap {
    let blocks0 = MB_BLOCKS.load(Relaxed);
    let base = mb_reset_peak();
    let mut c = storage(1, 0);
    let before = (*side).opens;
    start_client(&mut c[0], side, Some(t.client));
    let setup_client = mb_live() - base;
    wait_open(side, before);
    let peak = MB_PEAK.load(Relaxed) - base;
    let held = mb_live() - base;
    round_trip(&mut c[0], side, &payload(16 * 1024, 5));
    let held_after_echo = mb_live() - base;
    close(&mut c[0], side, secure);
    settle();
    Heap {
        setup_client,
        peak,
        held,
        held_after_echo,
        back: mb_live() - base,
        blocks_back: MB_BLOCKS.load(Relaxed) - blocks0,
    }
}

fn kib(bytes: i64) -> String {
    format!("{:.1} KiB", bytes as f64 / 1024.0)
}

fn main() {
    let certs = std::env::temp_dir().join(format!("lwip-ws-bench-tls-{}", std::process::id()));
    unsafe { unixport_init() };
    settle();
    let mb_before = mb_live();
    let t = tls_configs(&certs);
    let mb_configs = mb_live() - mb_before;
    let plain = start_server(WS_PORT, SLOTS, 0);
    let server_cfg = t.server;
    let secure = start_server_on(WSS_PORT, SLOTS, 0, |l, port| unsafe {
        WSListener_listenTls(l, std::ptr::null(), port, server_cfg)
    });
    let side = side(false);

    println!("## TLS: wss:// next to ws:// (benches/tls.rs)");
    println!();
    println!(
        "Both ends in one in-process lwIP stack (loopback netif), one message in flight, the two"
    );
    println!(
        "variants interleaved ({PAIRS} alternating rounds); mbedTLS 2.28 (Debian), TLS 1.2 with"
    );
    println!(
        "its default suite for an EC P-256 certificate (ECDHE-ECDSA-CHACHA20-POLY1305: mbedTLS's"
    );
    println!(
        "server preference), the client verifying chain and name. Each round trip seals and opens"
    );
    println!("the message twice: the client seals, the server opens and seals, the client opens.");
    println!();

    let heap = unsafe { heap(side, secure, &t) };
    let (hs_ws, hs_wss) = unsafe { handshakes(side, plain, secure, &t) };
    let mut clients = storage(2, 0);
    let ws: *mut WSS = &mut clients[0];
    let wss: *mut WSS = &mut clients[1];
    let echo = unsafe {
        let before = (*side).opens;
        start_client(ws, side, None);
        wait_open(side, before);
        start_client(wss, side, Some(t.client));
        wait_open(side, before + 1);
        echoes(ws, wss, side)
    };

    println!("| payload | ws echo rt/s (median, best–worst) | wss echo rt/s | wss payload MB/s each way | wss / ws (paired) |");
    println!("| ---: | ---: | ---: | ---: | ---: |");
    for e in &echo {
        println!(
            "| {} | {:.0} ({:.0}–{:.0}) | {:.0} ({:.0}–{:.0}) | {:.1} | {:.1} % |",
            human(e.size),
            e.ws.median,
            e.ws.best,
            e.ws.worst,
            e.wss.median,
            e.wss.best,
            e.wss.worst,
            e.wss.median * e.size as f64 / 1e6,
            e.ratio * 100.0
        );
    }
    println!();
    let big = &echo[1];
    let met = big.ratio >= 0.9;
    println!(
        "TARGET\twss echo ≥ 90 % of ws echo at 16 KiB (host, both ends)\t{:.1} %\t{}",
        big.ratio * 100.0,
        yes(met)
    );
    println!();

    println!("### Handshake and memory");
    println!();
    println!("| figure | value |");
    println!("| --- | ---: |");
    println!("| opening handshake, ws (TCP + upgrade; median of {HANDSHAKES}) | {hs_ws:.3} ms |");
    println!("| opening handshake, wss (TCP + TLS 1.2 ECDHE-ECDSA P-256 + upgrade, both ends' work) | {hs_wss:.3} ms |");
    println!(
        "| mbedTLS heap of the two configurations (certificates, key, CA, random generator) | {} |",
        kib(mb_configs)
    );
    println!(
        "| mbedTLS heap, one wss connection, both ends: peak during the handshake | {} |",
        kib(heap.peak)
    );
    println!(
        "| … held while open (after the handshake) | {} |",
        kib(heap.held)
    );
    println!(
        "| … held after a 16 KiB echo | {} |",
        kib(heap.held_after_echo)
    );
    println!(
        "| … of which the client's session at its start (before any byte went out) | {} |",
        kib(heap.setup_client)
    );
    println!(
        "| … left after the close ({} blocks) | {} B |",
        heap.blocks_back, heap.back
    );
    println!();
    println!(
        "mbedTLS's default record buffers are 16 KiB + overhead in each direction per session"
    );
    println!("(`MBEDTLS_SSL_IN_CONTENT_LEN`/`MBEDTLS_SSL_OUT_CONTENT_LEN`); a firmware build lowers them.");
    println!("Not part of `lwipws_setHeapBudget` (the library's own heap).");
    println!();

    let (chacha, gcm) = cipher_costs(16 * 1024);
    let ws_rt_ns = 1e9 / big.ws.median;
    let wss_rt_ns = ws_rt_ns / big.ratio;
    // Per 16 KiB round trip: sealed twice and opened twice (same cost as sealing).
    let bytes = 4.0 * big.size as f64;
    let predicted = ws_rt_ns / (ws_rt_ns + bytes * chacha);
    println!(
        "### {}",
        if met {
            "Where the time goes at 16 KiB"
        } else {
            "Why the 16 KiB target is missed"
        }
    );
    println!();
    println!("| figure | value |");
    println!("| --- | ---: |");
    println!("| ws round trip (lwIP loopback, both ends, no crypto) | {:.0} ns = {:.2} ns per payload byte moved |", ws_rt_ns, ws_rt_ns / (2.0 * big.size as f64));
    println!("| wss round trip | {wss_rt_ns:.0} ns |");
    println!("| ChaCha20-Poly1305 (mbedTLS, 16 KiB records) | {chacha:.2} ns/B |");
    println!("| AES-128-GCM (mbedTLS, AES-NI where the CPU has it, 16 KiB records), for comparison | {gcm:.2} ns/B |");
    println!(
        "| cipher work per round trip (4 × 16 KiB at ChaCha20-Poly1305's rate) | {:.0} ns |",
        bytes * chacha
    );
    println!(
        "| … its share of the wss round trip | {:.0} % |",
        bytes * chacha / wss_rt_ns * 100.0
    );
    println!(
        "| ws rt / (ws rt + cipher work): the ratio the cipher alone allows | {:.1} % |",
        predicted * 100.0
    );
    println!();
    println!(
        "The loopback moves a byte for a few tenths of a nanosecond (a copy in memory), the cipher"
    );
    println!("costs about a nanosecond or more per byte, four times per round trip here: on the host the");
    println!(
        "ratio is bounded by the cipher, not by the library. On a device only one end encrypts and"
    );
    println!("the network, not memory, paces the bytes.");
    println!();

    unsafe {
        close(ws, side, plain);
        close(wss, side, secure);
        WSListener_destructor(&mut (*plain).l);
        WSListener_destructor(&mut (*secure).l);
        for srv in [plain, secure] {
            for slot in (*srv).slots.iter_mut() {
                WSS_destructor(slot);
            }
        }
        settle();
        WSTls_freeConfig(t.server);
        WSTls_freeConfig(t.client);
    }
    let _ = std::fs::remove_dir_all(&certs);
}
