//! lwIP compiled from source, driven over its own 127.0.0.1 loopback netif.
//! Run with `cargo test -p lwip-sys --features compile`.
#![cfg(feature = "compile")]

use core::ffi::c_void;
use std::ffi::CStr;
use std::sync::Mutex;

use lwip_sys::*;

/// lwIP is single-threaded; the test harness is not.
static LWIP: Mutex<()> = Mutex::new(());

fn lock() -> std::sync::MutexGuard<'static, ()> {
    let guard = LWIP.lock().unwrap_or_else(|e| e.into_inner());
    unsafe { unixport_init() };
    guard
}

fn loopback_addr() -> ip_addr_t {
    ip_addr_t {
        addr: u32::from_ne_bytes([127, 0, 0, 1]),
    }
}

/// Heap bytes and per-pool elements in use.
#[derive(Debug, PartialEq)]
struct Usage {
    mem: i64,
    pools: Vec<(String, i64)>,
}

fn usage() -> Usage {
    unsafe {
        let pools = (0..lwipws_stats_memp_count())
            .map(|i| {
                let name = CStr::from_ptr(lwipws_stats_memp_name(i))
                    .to_string_lossy()
                    .into_owned();
                (name, lwipws_stats_memp_used(i) as i64)
            })
            .collect();
        Usage {
            mem: lwipws_stats_mem_used() as i64,
            pools,
        }
    }
}

#[test]
fn init_and_configuration() {
    let _g = lock();
    unsafe {
        unixport_init(); // a second call does nothing
        assert_eq!(lwipws_no_sys(), 1);
        assert_eq!(lwipws_tcp_snd_buf(), TCP_SND_BUF);
        assert_eq!(lwipws_tcp_wnd(), TCP_WND);
        assert_eq!(u32::from(lwipws_write_flag_copy()), TCP_WRITE_FLAG_COPY);
        assert_eq!(u32::from(lwipws_write_flag_more()), TCP_WRITE_FLAG_MORE);
        assert!(lwipws_stats_mem_used() >= 0);
        assert_eq!(lwipws_stats_mem_err(), 0);
        let names: Vec<String> = (0..lwipws_stats_memp_count())
            .map(|i| {
                CStr::from_ptr(lwipws_stats_memp_name(i))
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        assert!(names.iter().any(|n| n == "TCP_PCB"), "{names:?}");
        assert!(lwipws_stats_memp_name(lwipws_stats_memp_count()).is_null());
        assert!(lwipws_stats_memp_name(-1).is_null());
        let t0 = sys_now();
        unixport_advance_time(5000);
        assert!(sys_now().wrapping_sub(t0) >= 5000);
    }
}

/// One side of a connection: bytes received, bytes still to send.
#[derive(Default)]
struct Peer {
    pcb: *mut lwipws_pcb,
    received: Vec<u8>,
    to_send: Vec<u8>,
    sent: usize,
    echo: bool,
    peer_closed: bool,
    closed: bool,
    errors: Vec<err_t>,
}

unsafe fn flush(peer: &mut Peer) {
    while peer.sent < peer.to_send.len() {
        let room = usize::from(lwipws_sndbuf(peer.pcb));
        let n = (peer.to_send.len() - peer.sent)
            .min(room)
            .min(u16::MAX as usize);
        if n == 0 {
            break;
        }
        let data = peer.to_send[peer.sent..].as_ptr().cast::<c_void>();
        let err = lwipws_write(peer.pcb, data, n as u16, lwipws_write_flag_copy());
        if err == ERR_MEM as err_t {
            break;
        }
        assert_eq!(err, ERR_OK as err_t);
        peer.sent += n;
    }
    lwipws_output(peer.pcb);
    if peer.echo && peer.peer_closed && peer.sent == peer.to_send.len() && !peer.closed {
        close(peer);
    }
}

unsafe fn close(peer: &mut Peer) {
    peer.closed = true;
    lwipws_arg(peer.pcb, core::ptr::null_mut());
    lwipws_recv(peer.pcb, None);
    lwipws_sent(peer.pcb, None);
    lwipws_err(peer.pcb, None);
    assert_eq!(lwipws_close(peer.pcb), ERR_OK as err_t);
}

unsafe extern "C" fn on_recv(
    arg: *mut c_void,
    pcb: *mut lwipws_pcb,
    p: *mut pbuf,
    err: err_t,
) -> err_t {
    let peer = &mut *arg.cast::<Peer>();
    assert_eq!(err, ERR_OK as err_t);
    if p.is_null() {
        peer.peer_closed = true;
        flush(peer);
        return ERR_OK as err_t;
    }
    let mut q = p;
    let mut total = 0u16;
    while !q.is_null() {
        let chunk = core::slice::from_raw_parts((*q).payload.cast::<u8>(), usize::from((*q).len));
        peer.received.extend_from_slice(chunk);
        if peer.echo {
            peer.to_send.extend_from_slice(chunk);
        }
        total += (*q).len;
        q = (*q).next;
    }
    assert_eq!(total, (*p).tot_len);
    lwipws_recved(pcb, total);
    pbuf_free(p);
    flush(peer);
    ERR_OK as err_t
}

unsafe extern "C" fn on_sent(arg: *mut c_void, _pcb: *mut lwipws_pcb, _len: u16) -> err_t {
    flush(&mut *arg.cast::<Peer>());
    ERR_OK as err_t
}

unsafe extern "C" fn on_err(arg: *mut c_void, err: err_t) {
    if !arg.is_null() {
        (*arg.cast::<Peer>()).errors.push(err);
    }
}

unsafe fn attach(peer: &mut Peer, pcb: *mut lwipws_pcb) {
    peer.pcb = pcb;
    lwipws_arg(pcb, (peer as *mut Peer).cast());
    lwipws_recv(pcb, Some(on_recv));
    lwipws_sent(pcb, Some(on_sent));
    lwipws_err(pcb, Some(on_err));
    lwipws_nagle_disable(pcb);
}

unsafe extern "C" fn on_accept(arg: *mut c_void, newpcb: *mut lwipws_pcb, err: err_t) -> err_t {
    assert_eq!(err, ERR_OK as err_t);
    let server = &mut *arg.cast::<Peer>();
    attach(server, newpcb);
    ERR_OK as err_t
}

unsafe extern "C" fn on_connected(arg: *mut c_void, _pcb: *mut lwipws_pcb, err: err_t) -> err_t {
    assert_eq!(err, ERR_OK as err_t);
    flush(&mut *arg.cast::<Peer>());
    ERR_OK as err_t
}

#[test]
fn tcp_echo_over_loopback_returns_memory() {
    let _g = lock();
    // Let earlier connections (other tests) finish TIME_WAIT before the baseline.
    unsafe { unixport_run_for(130_000) };
    let baseline = usage();
    const PORT: u16 = 7001;
    let payload: Vec<u8> = (0..200_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();

    let mut server = Box::new(Peer {
        echo: true,
        ..Peer::default()
    });
    let mut client = Box::new(Peer {
        to_send: payload.clone(),
        ..Peer::default()
    });
    unsafe {
        let listener = lwipws_new(IPADDR_TYPE_V4 as u8);
        assert!(!listener.is_null());
        assert_eq!(lwipws_bind(listener, &ip_addr_any, PORT), ERR_OK as err_t);
        let listener = lwipws_listen(listener, 4);
        assert!(!listener.is_null());
        lwipws_arg(listener, (&mut *server as *mut Peer).cast());
        lwipws_accept(listener, Some(on_accept));

        let pcb = lwipws_new(IPADDR_TYPE_V4 as u8);
        assert!(!pcb.is_null());
        attach(&mut client, pcb);
        let addr = loopback_addr();
        assert_eq!(
            lwipws_connect(pcb, &addr, PORT, Some(on_connected)),
            ERR_OK as err_t
        );

        let mut rounds = 0;
        while client.received.len() < payload.len() {
            unixport_poll();
            rounds += 1;
            assert!(
                rounds < 100_000,
                "stalled at {} bytes",
                client.received.len()
            );
        }
        assert_eq!(client.received, payload);
        assert_eq!(server.received, payload);
        assert!(lwipws_mss(client.pcb) > 0);
        assert_ne!(usage(), baseline, "connections should show in the stats");

        let mut remote = ip_addr_t::default();
        let mut port = 0u16;
        assert_eq!(lwipws_remote(client.pcb, &mut remote, &mut port), 0);
        assert_eq!((remote.addr, port), (addr.addr, PORT));

        // The client closes; the echo server closes when it sees the FIN.
        close(&mut client);
        for _ in 0..1000 {
            unixport_poll();
            if server.closed {
                break;
            }
        }
        assert!(server.closed, "server did not see the FIN");
        lwipws_close(listener);
        // Both pcbs pass TIME_WAIT / LAST_ACK; TCP timers count 250 ms ticks.
        unixport_run_for(130_000);
    }
    assert!(client.errors.is_empty() && server.errors.is_empty());
    assert_eq!(usage(), baseline, "lwIP heap or pools not back to baseline");
    assert_eq!(unsafe { lwipws_stats_mem_err() }, 0);
}

/// The host port's `LWIP_RAND()` (what lwip-ws masks client frames with, RFC 6455 §5.3) gives
/// all 32 bits and does not repeat, within a thread or across threads (each has its own pool).
/// glibc's `rand()`, the port's former source, never sets bit 31 and fails the first check.
#[test]
fn lwip_rand_gives_32_bits_and_never_repeats() {
    fn draw(n: usize) -> Vec<u64> {
        // Pairs of words: 64-bit values, so a repeat among 2,400 by chance is ~10^-13.
        (0..n)
            .map(|_| unsafe { (u64::from(lwipws_rand()) << 32) | u64::from(lwipws_rand()) })
            .collect()
    }
    // More than two pool refills (4 KiB = 512 pairs) per thread.
    let here = draw(1200);
    let there = std::thread::spawn(|| draw(1200)).join().unwrap();
    let high = here
        .iter()
        .filter(|v| *v >> 63 == 1 || (*v >> 31) & 1 == 1)
        .count();
    assert!(high > 300, "bit 31 set in only {high} of 1200 pairs");
    let mut all: Vec<u64> = here.iter().chain(&there).copied().collect();
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), 2400, "repeated random words");
}

/// lwipws_pbuf_tailroom: the unused end of a PBUF_POOL buffer of its own, nothing for
/// any other pbuf (heap, reference, shared), so lwip-ws never writes outside a buffer.
#[test]
fn pbuf_tailroom_is_the_unused_end_of_an_own_pool_buffer() {
    let _g = lock();
    unsafe {
        let a = pbuf_alloc(PBUF_RAW, 100, PBUF_POOL);
        let b = pbuf_alloc(PBUF_RAW, 300, PBUF_POOL);
        assert!(!a.is_null() && !b.is_null());
        let (ta, tb) = (lwipws_pbuf_tailroom(a), lwipws_pbuf_tailroom(b));
        assert!(ta > 0, "room after 100 bytes of a pool buffer");
        let capacity = usize::from(ta) + 100;
        assert_eq!(usize::from(tb) + 300, capacity, "the same buffer size");
        // Moving the start (lwIP strips headers) leaves the end where it was.
        assert_eq!(pbuf_remove_header(a, 20), 0);
        assert_eq!(lwipws_pbuf_tailroom(a), ta);
        // Shared: another holder may read the buffer.
        pbuf_ref(b);
        assert_eq!(lwipws_pbuf_tailroom(b), 0, "ref 2");
        pbuf_free(b);
        assert_eq!(lwipws_pbuf_tailroom(b), tb, "ref 1 again");
        pbuf_free(a);
        pbuf_free(b);

        // A full buffer has no room; one byte more chains a second pool buffer.
        let len = u16::try_from(capacity).unwrap();
        let full = pbuf_alloc(PBUF_RAW, len, PBUF_POOL);
        assert!(!full.is_null() && (*full).next.is_null());
        assert_eq!(lwipws_pbuf_tailroom(full), 0, "full");
        pbuf_free(full);
        let two = pbuf_alloc(PBUF_RAW, len + 1, PBUF_POOL);
        assert!(!two.is_null() && !(*two).next.is_null());
        assert_eq!(lwipws_pbuf_tailroom(two), 0);
        assert_eq!(usize::from(lwipws_pbuf_tailroom((*two).next)), capacity - 1);
        pbuf_free(two);

        // Heap and reference pbufs: their size past the data is not known.
        let ram = pbuf_alloc(PBUF_RAW, 100, PBUF_RAM);
        assert!(!ram.is_null());
        assert_eq!(lwipws_pbuf_tailroom(ram), 0, "PBUF_RAM");
        pbuf_free(ram);
        let mut backing = [0u8; 200];
        let reference = pbuf_alloc(PBUF_RAW, 100, PBUF_REF);
        assert!(!reference.is_null());
        (*reference).payload = backing.as_mut_ptr().cast();
        assert_eq!(lwipws_pbuf_tailroom(reference), 0, "PBUF_REF");
        pbuf_free(reference);
    }
}
