//! A connection's life: attaching to a pcb, the three ways to start (server, taken over
//! after someone else's handshake, client), closing, finishing with the owner's `closed`
//! hook, and lwIP's sent, poll (timers), err and connected callbacks.

use alloc::vec::Vec;
use core::ffi::c_void;
use core::ptr;

use super::recv::{deliver_held, feed, on_recv};
use super::send::{flush, mask_for};
use super::{
    call_hook, kill_guard, Conn, Ending, OpError, CONNECTED, DRAINING, FATAL, FIN_HELD, NAGLE,
    PAUSED, WANT_WRITABLE,
};
use crate::lwip::{err, now_ms, sys, Flow, POLL_INTERVAL};
use crate::proto::{Connection, State, Timeout};

/// Attaches our callbacks to `pcb` with `conn` as the argument.
pub(crate) unsafe fn attach(conn: *mut Conn, pcb: *mut sys::lwipws_pcb) {
    // SAFETY: `pcb` is a live pcb owned by this connection from now on; `conn` outlives the
    // attachment (it is detached in `finish`/`destroy` before the storage is released).
    unsafe {
        (*conn).pcb = pcb;
        sys::lwipws_arg(pcb, conn.cast());
        sys::lwipws_recv(pcb, Some(on_recv));
        sys::lwipws_sent(pcb, Some(on_sent));
        sys::lwipws_err(pcb, Some(on_err));
        sys::lwipws_poll(pcb, Some(on_poll), POLL_INTERVAL);
        sys::lwipws_nagle_disable(pcb);
        (*conn).flags &= !NAGLE;
    }
}

/// Removes our callbacks from `pcb` so lwIP calls nothing of ours again.
unsafe fn detach(pcb: *mut sys::lwipws_pcb) {
    // SAFETY: `pcb` is live (callers only pass the attached, not yet freed pcb).
    unsafe {
        sys::lwipws_arg(pcb, ptr::null_mut());
        sys::lwipws_recv(pcb, None);
        sys::lwipws_sent(pcb, None);
        sys::lwipws_err(pcb, None);
        sys::lwipws_poll(pcb, None, 0);
    }
}

/// Attach an already running engine (moved in by an upgrade) to `pcb`.
#[cfg(feature = "listener")]
pub(crate) unsafe fn adopt(conn: *mut Conn, pcb: *mut sys::lwipws_pcb) {
    // SAFETY: caller passes a Conn holding the moved engine and the live pcb.
    unsafe {
        (*conn).flags = CONNECTED;
        (*conn).ending = None;
        attach(conn, pcb);
    }
}

/// Server: take over a freshly accepted pcb and wait for the upgrade request. `NoMem`:
/// no heap for the engine; the pcb is untouched.
pub unsafe fn start_server(conn: *mut Conn, pcb: *mut sys::lwipws_pcb) -> Result<(), OpError> {
    // SAFETY: caller passes a constructed, idle Conn and a live pcb.
    unsafe {
        (*conn).activate(Connection::server((*conn).config(), now_ms()))?;
        (*conn).flags = CONNECTED;
        (*conn).ending = None;
        attach(conn, pcb);
    }
    Ok(())
}

/// Server: take over a pcb whose handshake someone else answered; `initial` holds bytes
/// already received after the request. Returns false when the connection ended inside;
/// `NoMem` (pcb untouched) when there is no heap for the engine.
pub unsafe fn start_open(
    conn: *mut Conn,
    pcb: *mut sys::lwipws_pcb,
    initial: &[u8],
) -> Result<bool, OpError> {
    // SAFETY: as in start_server.
    unsafe {
        (*conn).activate(Connection::server_open((*conn).config(), now_ms()))?;
        (*conn).flags = CONNECTED;
        (*conn).ending = None;
        attach(conn, pcb);
    }
    if initial.is_empty() {
        return Ok(true);
    }
    let mut copy = Vec::new();
    if copy.try_reserve_exact(initial.len()).is_err() {
        // SAFETY: conn is live; finishing outside any callback of the pcb.
        unsafe { finish(conn, Ending::NoMem, false) };
        return Ok(false);
    }
    copy.extend_from_slice(initial);
    // These bytes were received (and acknowledged) by the previous owner: they are
    // delivered before a pause takes effect, since nothing could hold them.
    // SAFETY: conn is live; `copy` is our own buffer.
    let len = copy.len();
    let (Some(conn), _) = (unsafe { feed(conn, &mut copy, len, false) }) else {
        return Ok(false);
    };
    // SAFETY: conn is still live (feed returned it).
    Ok((unsafe { after_activity(conn) }) == Flow::Continue)
}

/// Client: queue the upgrade request and start the TCP connect.
#[cfg(feature = "client")]
pub unsafe fn start_client(
    conn: *mut Conn,
    addr: *const sys::ip_addr_t,
    port: u16,
    req: &crate::proto::ClientRequest<'_>,
) -> Result<(), OpError> {
    // SAFETY: lwipws_new only allocates.
    let pcb = unsafe { sys::lwipws_new(crate::lwip::IPADDR_TYPE_ANY) };
    if pcb.is_null() {
        return Err(OpError::NoMem);
    }
    // SAFETY: forwarded caller contract; the fresh pcb is handed over.
    unsafe { start_client_on(conn, pcb, addr, port, req, 0) }
}

/// Client on a pcb the caller created (plain or TLS; it is ours from now on, aborted on
/// an error): queue the upgrade request and start the connect. `flags` are added to the
/// connection's ([`TLS_VERIFY`](super::TLS_VERIFY)).
#[cfg(feature = "client")]
pub(crate) unsafe fn start_client_on(
    conn: *mut Conn,
    pcb: *mut sys::lwipws_pcb,
    addr: *const sys::ip_addr_t,
    port: u16,
    req: &crate::proto::ClientRequest<'_>,
    flags: u8,
) -> Result<(), OpError> {
    // SAFETY: caller passes a constructed, idle Conn, a fresh pcb and a valid address.
    unsafe {
        let engine = Connection::client((*conn).config(), req, crate::lwip::rand16(), now_ms())
            .map_err(OpError::from);
        if let Err(e) = engine.and_then(|engine| (*conn).activate(engine)) {
            sys::lwipws_abort(pcb);
            return Err(e);
        }
        (*conn).flags = flags;
        (*conn).ending = None;
        attach(conn, pcb);
        let e = sys::lwipws_connect(pcb, addr, port, Some(on_connected));
        if e != err::OK {
            teardown(conn, false);
            return Err(if e == err::MEM {
                OpError::NoMem
            } else {
                OpError::Lwip
            });
        }
    }
    Ok(())
}

/// Start the close handshake (open connection), or close TCP at once (handshake not
/// finished: the `closed` hook runs with [`Ending::Local`] before this returns).
pub unsafe fn close(conn: *mut Conn, code: u16, reason: &str) -> Result<(), OpError> {
    // SAFETY: as in write.
    unsafe {
        if (*conn).is_failing() {
            return Err(OpError::State);
        }
        let engine = (*conn).wake()?;
        match engine.state() {
            State::Connecting => {
                // Abort rather than close: this may run inside a hook of another
                // connection's callback, and an aborted pcb needs no further care.
                finish(conn, Ending::Local, false);
                Ok(())
            }
            State::Open => {
                let mask = mask_for(engine);
                engine.close(code, reason, mask, now_ms())?;
                (*conn).since_ms = now_ms();
                flush(conn);
                (*conn).settle();
                Ok(())
            }
            State::Closing | State::Closed => Err(OpError::State),
        }
    }
}

/// Drop the connection at once without any hook (pcb aborted). Safe inside this
/// connection's own hooks: the caller up the stack notices through the guard.
pub unsafe fn destroy(conn: *mut Conn) {
    // SAFETY: forwarded caller contract.
    unsafe { teardown(conn, false) };
}

/// Ends the connection: detach, close (or abort) the pcb, drop the engine, then the
/// `closed` hook as the very last step. Returns `Aborted` when the pcb was aborted.
pub(crate) unsafe fn finish(conn: *mut Conn, ending: Ending, graceful: bool) -> Flow {
    // SAFETY: conn is live; nothing touches it after the `closed` hook.
    unsafe {
        let flow = teardown(conn, graceful);
        let closed = (*conn).hooks.closed;
        closed(conn, ending);
        flow
    }
}

/// Tells hook callers up the stack that the connection is gone, detaches and closes (or
/// aborts) its pcb, and drops its engine. Returns `Aborted` when the pcb was aborted.
unsafe fn teardown(conn: *mut Conn, graceful: bool) -> Flow {
    let mut flow = Flow::Continue;
    // SAFETY: caller passes a constructed Conn; the pcb is live while non-null.
    unsafe {
        kill_guard(conn);
        let pcb = (*conn).pcb;
        if !pcb.is_null() {
            detach(pcb);
            if !graceful || sys::lwipws_close(pcb) != err::OK {
                sys::lwipws_abort(pcb);
                flow = Flow::Aborted;
            }
            (*conn).pcb = ptr::null_mut();
        }
        (*conn).take_engine();
        (*conn).flags = 0;
    }
    flow
}

/// After input, output progress or a timer: flush, notify writability, and finish the
/// connection once the engine is closed and its output is out.
pub(crate) unsafe fn after_activity(conn: *mut Conn) -> Flow {
    // SAFETY: conn is live on entry; every hook call is guarded.
    unsafe {
        if !(*conn).is_active() {
            return Flow::Continue;
        }
        if (*conn).flags & FATAL == 0
            && (*conn).flags & PAUSED == 0
            && ((*conn).holds_data() || (*conn).flags & FIN_HELD != 0)
        {
            // Reading resumed (inside a hook, or with nothing else to wake it).
            let Some(next) = deliver_held(conn) else {
                return Flow::Aborted;
            };
            if next != conn {
                return after_activity(next);
            }
        }
        if (*conn).flags & FATAL != 0 {
            let ending = match (*conn).ending {
                Some(Ending::NoMem) => Ending::NoMem,
                _ => Ending::Aborted,
            };
            return finish(conn, ending, false);
        }
        flush(conn);
        (*conn).settle();
        let Some(engine) = (*conn).engine() else {
            return Flow::Continue;
        };
        let state = engine.state();
        if state == State::Closed {
            let ending = (*conn).ending.unwrap_or(Ending::Aborted);
            if engine.queued() == 0 {
                return finish(conn, ending, true);
            }
            if (*conn).flags & DRAINING == 0 {
                (*conn).flags |= DRAINING;
                (*conn).since_ms = now_ms();
            }
            return Flow::Continue;
        }
        if (*conn).flags & WANT_WRITABLE != 0
            && state == State::Open
            && engine.queued() <= engine.config().max_queue_bytes / 2
        {
            (*conn).flags &= !WANT_WRITABLE;
            let hook = (*conn).hooks.writable;
            if !call_hook(conn, || hook(conn)) {
                return Flow::Aborted;
            }
            flush(conn);
        }
    }
    Flow::Continue
}

unsafe extern "C" fn on_sent(
    arg: *mut c_void,
    _pcb: *mut sys::lwipws_pcb,
    _len: u16,
) -> sys::err_t {
    let conn: *mut Conn = arg.cast();
    if conn.is_null() {
        return err::OK;
    }
    // SAFETY: lwIP passes the arg we attached.
    unsafe { after_activity(conn).err() }
}

unsafe extern "C" fn on_poll(arg: *mut c_void, _pcb: *mut sys::lwipws_pcb) -> sys::err_t {
    let conn: *mut Conn = arg.cast();
    if conn.is_null() {
        return err::OK;
    }
    // SAFETY: lwIP passes the arg we attached.
    unsafe {
        let now = now_ms();
        if (*conn).flags & DRAINING != 0
            && now.wrapping_sub((*conn).since_ms) > (*conn).config().close_timeout_ms
        {
            return finish(conn, Ending::CloseTimeout, false).err();
        }
        // While reading is paused the peer's silence is the application's doing: the
        // receive timers (keep-alive, message progress) and buffer trims wait. Once a
        // close has started, its timeout runs as usual.
        if (*conn).flags & PAUSED != 0 && (*conn).is_open() {
            return after_activity(conn).err();
        }
        if (*conn).keepalive_due(now) && (*conn).wake().is_err() {
            (*conn).out_of_memory();
            return after_activity(conn).err();
        }
        let timeout = (*conn).engine_mut().and_then(|e| {
            let mask = mask_for(e);
            e.poll(now, mask)
        });
        match timeout {
            Some(Timeout::Handshake) => finish(conn, Ending::HandshakeTimeout, true).err(),
            Some(Timeout::Close) => finish(conn, Ending::CloseTimeout, false).err(),
            // The peer is gone: free its pcb at once rather than retransmit a FIN to it.
            Some(Timeout::KeepAlive) => finish(conn, Ending::KeepAliveTimeout, false).err(),
            Some(Timeout::Message) => {
                // The engine queued a close frame with 1008: flush it and close (or abort
                // after the close timeout if the peer does not read it either).
                (*conn).ending = Some(Ending::MessageTimeout);
                after_activity(conn).err()
            }
            None => {
                // Park before anything that may end the connection: after its `closed`
                // hook the storage may already be reused or freed.
                (*conn).park_if_idle();
                after_activity(conn).err()
            }
        }
    }
}

unsafe extern "C" fn on_err(arg: *mut c_void, e: sys::err_t) {
    let conn: *mut Conn = arg.cast();
    if conn.is_null() {
        return;
    }
    // SAFETY: the pcb is already freed by lwIP: forget it before anything else.
    unsafe {
        (*conn).pcb = ptr::null_mut();
        let ending = match (*conn).ending {
            Some(Ending::Code(c)) => Ending::Code(c),
            Some(Ending::MessageTimeout) => Ending::MessageTimeout,
            _ if (*conn).flags & CONNECTED == 0 => Ending::ConnectFailed,
            _ if e == err::RST => Ending::Reset,
            _ if e == err::CLSD => Ending::PeerClosed,
            _ => Ending::Aborted,
        };
        if (*conn).is_active() {
            finish(conn, ending, false);
        }
    }
}

#[cfg(feature = "client")]
unsafe extern "C" fn on_connected(
    arg: *mut c_void,
    _pcb: *mut sys::lwipws_pcb,
    e: sys::err_t,
) -> sys::err_t {
    let conn: *mut Conn = arg.cast();
    if conn.is_null() {
        return err::OK;
    }
    // SAFETY: lwIP passes the arg we attached.
    unsafe {
        if e != err::OK {
            return finish(conn, Ending::ConnectFailed, false).err();
        }
        // Over TLS this runs once the TLS handshake is done: before the upgrade request
        // goes out, the server's certificate must have verified.
        #[cfg(feature = "tls")]
        if (*conn).flags & super::TLS_VERIFY != 0 && !crate::lwip::tls::peer_verified((*conn).pcb) {
            return finish(conn, Ending::TlsVerifyFailed, false).err();
        }
        (*conn).flags |= CONNECTED;
        after_activity(conn).err()
    }
}
