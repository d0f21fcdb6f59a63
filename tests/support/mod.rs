//! Shared helpers for the in-process lwIP tests (lwIP 2.1.3 compiled from source,
//! loopback netif): the global lock, stats, the main-loop pump, recording callbacks, a raw
//! lwIP TCP client and a `websocket_accept` server.
#![allow(dead_code)]

use core::ffi::{c_char, c_int, c_void};
use std::ffi::CStr;
use std::ops::{Deref, DerefMut};
use std::ptr::NonNull;
use std::sync::{Mutex, MutexGuard};

use lwip_sys::*;
use lwip_ws::capi::*;

/// A heap value that lwIP callbacks write through a raw pointer (their `arg`, from
/// [`Shared::as_ptr`]) while the test reads it between calls into lwIP. Unlike a `Box`,
/// which promises that nothing changes what a shared borrow of it sees (so an optimized
/// build may keep a value read before `unixport_poll` and wait for a change forever),
/// every access borrows the value anew through the raw pointer.
pub struct Shared<T>(NonNull<T>);

impl<T> Shared<T> {
    pub fn new(value: T) -> Self {
        Shared(NonNull::from(Box::leak(Box::new(value))))
    }

    /// The pointer to hand to lwIP or the library as a callback argument.
    pub fn as_ptr(&self) -> *mut T {
        self.0.as_ptr()
    }
}

impl<T> Deref for Shared<T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the value lives until drop; callbacks write it only inside calls into
        // lwIP, never while this borrow (which ends with the expression using it) exists.
        unsafe { self.0.as_ref() }
    }
}

impl<T> DerefMut for Shared<T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as for `deref`.
        unsafe { self.0.as_mut() }
    }
}

impl<T> Drop for Shared<T> {
    fn drop(&mut self) {
        // SAFETY: made by Box::leak in `new`, freed once here.
        drop(unsafe { Box::from_raw(self.0.as_ptr()) });
    }
}

impl Shared<Side> {
    /// The callbacks to hand to the library (they find the `Side` from it).
    pub fn cb_ptr(&self) -> *mut WSSCB {
        // SAFETY: a field address of the live value, no borrow made.
        unsafe { std::ptr::addr_of_mut!((*self.as_ptr()).cb) }
    }
}

/// lwIP is single-threaded; the test harness is not.
pub static LWIP: Mutex<()> = Mutex::new(());

pub fn lock() -> MutexGuard<'static, ()> {
    let guard = LWIP.lock().unwrap_or_else(|e| e.into_inner());
    unsafe { unixport_init() };
    guard
}

pub fn loopback() -> ip_addr_t {
    ip_addr_t {
        addr: u32::from_ne_bytes([127, 0, 0, 1]),
    }
}

/// lwIP heap bytes and per-pool elements in use.
pub fn usage() -> (i64, Vec<(String, i64)>) {
    unsafe {
        let pools = (0..lwipws_stats_memp_count())
            .map(|i| {
                let name = CStr::from_ptr(lwipws_stats_memp_name(i))
                    .to_string_lossy()
                    .into_owned();
                (name, lwipws_stats_memp_used(i) as i64)
            })
            .collect();
        (lwipws_stats_mem_used() as i64, pools)
    }
}

/// Lets TIME_WAIT and every timer run out (2 * TCP_MSL is 120 s).
pub fn settle() {
    unsafe { unixport_run_for(130_000) };
}

/// Runs the stack until `done` holds; fails the test after `max_steps` polls. Every 50
/// idle polls, lwIP's clock moves 250 ms so its timers (delayed ACK, retransmit) run.
pub fn pump(max_steps: usize, mut done: impl FnMut() -> bool) {
    for i in 0..max_steps {
        unsafe { unixport_poll() };
        if done() {
            return;
        }
        if i % 50 == 49 {
            unsafe { unixport_run_for(250) };
        }
    }
    panic!("condition not reached within {max_steps} polls");
}

/// Runs `steps` main-loop steps (lwIP's clock moves 250 ms every 50), whatever happens.
pub fn run_steps(steps: usize) {
    for i in 0..steps {
        unsafe { unixport_poll() };
        if i % 50 == 49 {
            unsafe { unixport_run_for(250) };
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Ev {
    Open(Option<String>),
    Msg(bool, Vec<u8>),
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    Close(i32),
    Writable,
}

/// Callbacks plus what they saw. `WSSCB` first: the library hands us `&side.cb`.
#[repr(C)]
pub struct Side {
    pub cb: WSSCB,
    pub events: Vec<Ev>,
    pub echo: bool,
    /// Every frame's data was followed by a 0 byte.
    pub nul_terminated: bool,
    /// Echo writes that did not return LWIP_WS_OK.
    pub echo_failures: Vec<c_int>,
}

impl Side {
    pub fn new(echo: bool) -> Shared<Side> {
        let mut s = Shared::new(Side {
            cb: WSSCB::default(),
            events: Vec::new(),
            echo,
            nul_terminated: true,
            echo_failures: Vec::new(),
        });
        unsafe {
            assert_eq!(
                WSSCB_constructor(&mut s.cb, Some(on_frame), Some(on_close), Some(on_ping)),
                LWIP_WS_OK
            );
        }
        s.cb.pongFp = Some(on_pong);
        s.cb.openFp = Some(on_open);
        s.cb.writableFp = Some(on_writable);
        s
    }

    pub fn closes(&self) -> Vec<i32> {
        self.events
            .iter()
            .filter_map(|e| if let Ev::Close(s) = e { Some(*s) } else { None })
            .collect()
    }

    pub fn messages(&self) -> Vec<(bool, Vec<u8>)> {
        self.events
            .iter()
            .filter_map(|e| {
                if let Ev::Msg(t, d) = e {
                    Some((*t, d.clone()))
                } else {
                    None
                }
            })
            .collect()
    }
}

pub unsafe fn side<'a>(o: *mut WSSCB) -> &'a mut Side {
    &mut *o.cast::<Side>()
}

pub unsafe extern "C" fn on_frame(
    o: *mut WSSCB,
    wss: *mut WSS,
    data: *mut c_void,
    len: c_int,
    txt: c_int,
) {
    let s = side(o);
    let bytes = std::slice::from_raw_parts(data.cast::<u8>(), len as usize).to_vec();
    if *data.cast::<u8>().add(len as usize) != 0 {
        s.nul_terminated = false;
    }
    s.events.push(Ev::Msg(txt != 0, bytes));
    if s.echo {
        let rc = WSS_write(wss, data, len, txt);
        if rc != LWIP_WS_OK {
            s.echo_failures.push(rc);
        }
    }
}

pub unsafe extern "C" fn on_close(o: *mut WSSCB, _wss: *mut WSS, status: c_int) {
    side(o).events.push(Ev::Close(status));
}

pub unsafe extern "C" fn on_ping(o: *mut WSSCB, _wss: *mut WSS, data: *mut c_void, len: c_int) {
    let bytes = std::slice::from_raw_parts(data.cast::<u8>(), len as usize).to_vec();
    side(o).events.push(Ev::Ping(bytes));
}

pub unsafe extern "C" fn on_pong(o: *mut WSSCB, _wss: *mut WSS, data: *mut c_void, len: c_int) {
    let bytes = std::slice::from_raw_parts(data.cast::<u8>(), len as usize).to_vec();
    side(o).events.push(Ev::Pong(bytes));
}

pub unsafe extern "C" fn on_open(o: *mut WSSCB, _wss: *mut WSS, protocol: *const c_char) {
    let p = (!protocol.is_null()).then(|| CStr::from_ptr(protocol).to_string_lossy().into_owned());
    side(o).events.push(Ev::Open(p));
}

pub unsafe extern "C" fn on_writable(o: *mut WSSCB, _wss: *mut WSS) {
    side(o).events.push(Ev::Writable);
}

pub fn new_wss() -> Box<WSS> {
    Box::new(WSS {
        _opaque: [0; LWIP_WS_WSS_WORDS],
    })
}

/// A bare lwIP TCP client, to send exact bytes and see exact answers.
#[derive(Default)]
pub struct RawClient {
    pub pcb: *mut lwipws_pcb,
    pub received: Vec<u8>,
    pub fin: bool,
    pub err: Option<err_t>,
    pub connected: bool,
    /// A peer that never reads: received bytes are recorded but never acknowledged to
    /// lwIP (`tcp_recved` is not called), so its receive window closes.
    pub hold: bool,
}

pub unsafe extern "C" fn raw_recv(
    arg: *mut c_void,
    pcb: *mut lwipws_pcb,
    p: *mut pbuf,
    _e: err_t,
) -> err_t {
    let c = &mut *arg.cast::<RawClient>();
    if p.is_null() {
        c.fin = true;
        return ERR_OK as err_t;
    }
    let mut q = p;
    while !q.is_null() {
        c.received.extend_from_slice(std::slice::from_raw_parts(
            (*q).payload.cast::<u8>(),
            usize::from((*q).len),
        ));
        q = (*q).next;
    }
    if !c.hold {
        lwipws_recved(pcb, (*p).tot_len);
    }
    pbuf_free(p);
    ERR_OK as err_t
}

pub unsafe extern "C" fn raw_err(arg: *mut c_void, e: err_t) {
    let c = &mut *arg.cast::<RawClient>();
    c.err = Some(e);
    c.pcb = std::ptr::null_mut();
}

pub unsafe extern "C" fn raw_connected(
    arg: *mut c_void,
    _pcb: *mut lwipws_pcb,
    _e: err_t,
) -> err_t {
    (*arg.cast::<RawClient>()).connected = true;
    ERR_OK as err_t
}

impl RawClient {
    pub fn connect(port: u16) -> Shared<RawClient> {
        let mut c = Shared::new(RawClient::default());
        let addr = loopback();
        unsafe {
            c.pcb = lwipws_new(IPADDR_TYPE_ANY as u8);
            let arg: *mut RawClient = c.as_ptr();
            lwipws_arg(c.pcb, arg.cast());
            lwipws_recv(c.pcb, Some(raw_recv));
            lwipws_err(c.pcb, Some(raw_err));
            assert_eq!(
                lwipws_connect(c.pcb, &addr, port, Some(raw_connected)),
                ERR_OK as err_t
            );
        }
        pump(20_000, || c.connected);
        c
    }

    pub fn send(&mut self, bytes: &[u8]) {
        unsafe {
            assert_eq!(
                lwipws_write(
                    self.pcb,
                    bytes.as_ptr().cast(),
                    bytes.len() as u16,
                    lwipws_write_flag_copy()
                ),
                ERR_OK as err_t
            );
            lwipws_output(self.pcb);
        }
    }

    /// Close (or, with `reset`, abort) our side and forget the pcb.
    pub fn finish(&mut self, reset: bool) {
        if self.pcb.is_null() {
            return;
        }
        unsafe {
            lwipws_arg(self.pcb, std::ptr::null_mut());
            lwipws_recv(self.pcb, None);
            lwipws_err(self.pcb, None);
            if reset || lwipws_close(self.pcb) != ERR_OK as err_t {
                lwipws_abort(self.pcb);
            }
        }
        self.pcb = std::ptr::null_mut();
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.received).into_owned()
    }
}

pub const UPGRADE: &[u8] =
    b"GET /echo HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

/// A raw listener whose accept callback hands each pcb to `websocket_accept`.
pub struct RawServer {
    pub pcb: *mut lwipws_pcb,
    pub wss: Box<WSS>,
    pub side: Shared<Side>,
    /// Applied to each accepted connection before `websocket_accept` (0: library default).
    pub max_message: u32,
    /// Send queue limit for accepted connections (0: library default).
    pub send_queue: u32,
    /// Handshake and close timeouts in ms.
    pub timeouts: (u32, u32),
    /// `WSS_setIdleRelease(wss, 0)` for accepted connections (false: library default).
    pub keep_memory: bool,
    /// The server-side pcb of the last accepted connection.
    pub accepted: *mut lwipws_pcb,
    /// The port it listens on.
    pub port: u16,
}

pub unsafe extern "C" fn raw_accept(arg: *mut c_void, newpcb: *mut lwipws_pcb, _e: err_t) -> err_t {
    let s = &mut *arg.cast::<RawServer>();
    let cb: *mut WSSCB = s.side.cb_ptr();
    assert_eq!(WSS_constructor(&mut *s.wss, cb, 128, 128), LWIP_WS_OK);
    assert_eq!(
        WSS_setTimeouts(&mut *s.wss, s.timeouts.0, s.timeouts.1),
        LWIP_WS_OK
    );
    if s.max_message != 0 {
        assert_eq!(WSS_setMaxMessage(&mut *s.wss, s.max_message), LWIP_WS_OK);
    }
    if s.send_queue != 0 {
        assert_eq!(WSS_setSendQueue(&mut *s.wss, s.send_queue), LWIP_WS_OK);
    }
    if s.keep_memory {
        assert_eq!(WSS_setIdleRelease(&mut *s.wss, 0), LWIP_WS_OK);
    }
    s.accepted = newpcb;
    assert_eq!(websocket_accept(newpcb, &mut *s.wss), LWIP_WS_OK);
    ERR_OK as err_t
}

pub fn raw_server(port: u16) -> Shared<RawServer> {
    let mut s = Shared::new(RawServer {
        pcb: std::ptr::null_mut(),
        wss: new_wss(),
        side: Side::new(true),
        max_message: 0,
        send_queue: 0,
        timeouts: (3000, 2000),
        keep_memory: false,
        accepted: std::ptr::null_mut(),
        port,
    });
    unsafe {
        let pcb = lwipws_new(IPADDR_TYPE_ANY as u8);
        assert_eq!(lwipws_bind(pcb, std::ptr::null(), port), ERR_OK as err_t);
        s.pcb = lwipws_listen(pcb, 1);
        let arg: *mut RawServer = s.as_ptr();
        lwipws_arg(s.pcb, arg.cast());
        lwipws_accept(s.pcb, Some(raw_accept));
    }
    s
}

pub fn stop_raw_server(mut s: Shared<RawServer>) {
    unsafe {
        lwipws_close(s.pcb);
        WSS_destructor(&mut *s.wss);
    }
}

/// A masked client frame (fixed key) for raw clients.
pub fn masked(opcode: u8, payload: &[u8]) -> Vec<u8> {
    assert!(payload.len() < 126);
    let key = [1u8, 2, 3, 4];
    let mut f = vec![0x80 | opcode, 0x80 | payload.len() as u8];
    f.extend_from_slice(&key);
    f.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    f
}

impl RawClient {
    /// Writes as much of `bytes` as lwIP's send buffer takes now; returns how many bytes.
    pub fn send_some(&mut self, bytes: &[u8]) -> usize {
        if self.pcb.is_null() {
            return 0;
        }
        unsafe {
            let room = usize::from(lwipws_sndbuf(self.pcb));
            let n = bytes.len().min(room).min(0xFFFF);
            if n == 0 {
                return 0;
            }
            let e = lwipws_write(
                self.pcb,
                bytes.as_ptr().cast(),
                n as u16,
                lwipws_write_flag_copy(),
            );
            if e != ERR_OK as err_t {
                return 0;
            }
            lwipws_output(self.pcb);
            n
        }
    }

    /// The frames the server sent after its HTTP head (the head itself skipped).
    pub fn frames(&self) -> Vec<(u8, Vec<u8>)> {
        let start = self
            .received
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .map_or(0, |i| i + 4);
        parse_frames(&self.received[start..])
    }

    /// The code and reason of the server's close frame, if one arrived.
    pub fn close_frame(&self) -> Option<(u16, String)> {
        self.frames()
            .into_iter()
            .find(|(op, _)| op & 0x0F == 8)
            .map(|(_, p)| {
                let code = if p.len() >= 2 {
                    u16::from_be_bytes([p[0], p[1]])
                } else {
                    1005
                };
                let reason = String::from_utf8_lossy(p.get(2..).unwrap_or_default()).into_owned();
                (code, reason)
            })
    }
}

/// Splits unmasked server frames: (first byte, payload). Stops at a partial frame.
pub fn parse_frames(mut bytes: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut out = Vec::new();
    while bytes.len() >= 2 {
        let (len, hdr) = match bytes[1] & 0x7F {
            126 if bytes.len() >= 4 => (u16::from_be_bytes([bytes[2], bytes[3]]) as usize, 4),
            127 if bytes.len() >= 10 => (
                u64::from_be_bytes(bytes[2..10].try_into().unwrap()) as usize,
                10,
            ),
            126 | 127 => break,
            n => (usize::from(n), 2),
        };
        if bytes.len() < hdr + len {
            break;
        }
        out.push((bytes[0], bytes[hdr..hdr + len].to_vec()));
        bytes = &bytes[hdr + len..];
    }
    out
}

/// A client frame with first byte `b0` (FIN, RSV, opcode), masked with a fixed key when
/// `mask`, with the shortest length encoding.
pub fn frame(b0: u8, payload: &[u8], mask: bool) -> Vec<u8> {
    let key = [0x11u8, 0x22, 0x33, 0x44];
    let m = if mask { 0x80 } else { 0 };
    let mut f = vec![b0];
    match payload.len() {
        n @ 0..=125 => f.push(m | n as u8),
        n @ 126..=0xFFFF => {
            f.push(m | 126);
            f.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            f.push(m | 127);
            f.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    if mask {
        f.extend_from_slice(&key);
        f.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    } else {
        f.extend_from_slice(payload);
    }
    f
}

/// A masked frame header announcing `len` bytes with the 64-bit length form.
pub fn header64(b0: u8, len: u64) -> Vec<u8> {
    let mut f = vec![b0, 0x80 | 127];
    f.extend_from_slice(&len.to_be_bytes());
    f.extend_from_slice(&[0x11, 0x22, 0x33, 0x44]);
    f
}

/// A close payload: code then reason bytes.
pub fn close_payload(code: u16, reason: &[u8]) -> Vec<u8> {
    let mut p = code.to_be_bytes().to_vec();
    p.extend_from_slice(reason);
    p
}
