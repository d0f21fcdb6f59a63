//! The send path: whole frames only. Small messages go to lwIP at once as a frame built
//! on the stack, large server frames straight from the caller's buffer, everything else
//! through the engine's bounded send queue, which [`flush`] moves into lwIP no further
//! than its send buffer allows.

use super::{Conn, OpError, DIRECT_MAX, FATAL, NAGLE, WANT_WRITABLE};
use crate::lwip::{err, rand4, sys};
use crate::proto::frame::MAX_HEADER_LEN;
use crate::proto::{Connection, Role, SendError};

/// Queue a frame with `queue_frame` and push what fits into lwIP. A full queue arms the
/// writable notification.
unsafe fn queue(
    conn: *mut Conn,
    queue_frame: impl FnOnce(&mut Connection) -> Result<(), SendError>,
) -> Result<(), OpError> {
    // SAFETY: caller passes a live Conn; no reference is held across the flush below.
    unsafe {
        let engine = (*conn).wake()?;
        match queue_frame(engine) {
            Ok(()) => {}
            Err(SendError::WouldBlock) => {
                (*conn).flags |= WANT_WRITABLE;
                return Err(OpError::WouldBlock);
            }
            Err(e) => return Err(e.into()),
        }
        flush(conn);
        (*conn).settle();
    }
    Ok(())
}

/// A mask key for a frame this engine sends: fresh random bytes in the client role, none
/// needed (and `LWIP_RAND()` not called) in the server role.
pub(super) fn mask_for(engine: &Connection) -> [u8; 4] {
    if engine.role() == Role::Client {
        rand4()
    } else {
        [0; 4]
    }
}

/// Smallest payload that [`write_direct`] hands to `altcp_write` straight from the
/// caller's bytes. Below it, one copy into the send queue and one `altcp_write` cost less
/// than a second `altcp_write` call (measured with `benches/lwip.rs` on x86-64), and the
/// queue memory it needs is small. On microcontrollers (`target_os = "none"`) a copy costs
/// more against a call: from 512 bytes the direct path takes fewer instructions
/// (scripts/bench-mcu, Cortex-M4: -640 instructions per 1 KiB echo).
const DIRECT_MIN: usize = if cfg!(target_os = "none") { 512 } else { 4096 };

/// Queue a whole message. A small message with nothing queued before it goes to
/// `altcp_write` at once as one frame built on the stack, without the send queue.
pub unsafe fn write(conn: *mut Conn, text: bool, data: &[u8]) -> Result<(), OpError> {
    // SAFETY: conn is live (caller contract); the pcb is live while non-null; no engine
    // borrow is held across the lwIP calls.
    unsafe {
        let engine = (*conn).wake()?;
        let mask = mask_for(engine);
        let pcb = (*conn).pcb;
        if data.len() <= DIRECT_MAX && !pcb.is_null() {
            let mut frame = [0u8; DIRECT_MAX + MAX_HEADER_LEN];
            if let Some(n) = engine.encode_message(text, data, mask, &mut frame)? {
                if n <= usize::from(sys::lwipws_sndbuf(pcb)) {
                    let e = write_copy(pcb, frame.get(..n).unwrap_or_default());
                    if e == err::OK {
                        sys::lwipws_output(pcb);
                        return Ok(());
                    }
                    if e != err::MEM {
                        return Err((*conn).lwip_failed());
                    }
                }
            }
        } else if let Some(done) = write_direct(conn, text, None, data) {
            return done;
        }
        queue(conn, |e| e.send(text, data, mask))
    }
}

/// A server's data frame of at least [`DIRECT_MIN`] bytes straight from the caller's
/// bytes into `altcp_write`, when nothing is queued: the payload is copied once (by lwIP)
/// instead of into the send queue first, and the queue needs no room for it. Only what
/// lwIP cannot take now is queued (room for it is set aside before anything goes out).
/// `None`: this path does not apply (client role, output queued, a smaller payload, or no
/// room even for the header); queue the frame instead.
unsafe fn write_direct(
    conn: *mut Conn,
    text: bool,
    fragment: Option<bool>,
    data: &[u8],
) -> Option<Result<(), OpError>> {
    // SAFETY: conn is live (caller contract); the pcb is live while non-null; no engine
    // borrow is held across a change of `flags` or an lwIP call.
    unsafe {
        let pcb = (*conn).pcb;
        if pcb.is_null() || data.len() < DIRECT_MIN {
            return None;
        }
        let engine = match (*conn).wake() {
            Ok(engine) => engine,
            Err(e) => return Some(Err(e)),
        };
        let (header, header_len) = match engine.direct_header(text, fragment, data.len()) {
            Ok(Some(header)) => header,
            Ok(None) => return None,
            Err(e) => return Some(Err(e.into())),
        };
        let header = header.get(..header_len).unwrap_or_default();
        let room = usize::from(sys::lwipws_sndbuf(pcb)).checked_sub(header_len)?;
        let mut take = data.len().min(room).min(usize::from(u16::MAX));
        if take < data.len() && engine.reserve_queue(data.len() - take).is_err() {
            return Some(Err(OpError::NoMem));
        }
        set_nagle(conn, pcb, fragment == Some(false));
        let e = write_flags(pcb, header, WRITE_FLAG_MORE);
        if e == err::MEM {
            return None;
        }
        if e != err::OK {
            return Some(Err((*conn).lwip_failed()));
        }
        if take > 0 {
            let e = write_copy(pcb, data.get(..take).unwrap_or_default());
            if e == err::MEM {
                // The header is out: the whole payload follows from the queue.
                take = 0;
            } else if e != err::OK {
                return Some(Err((*conn).lwip_failed()));
            }
        }
        let rest = data.get(take..).unwrap_or_default();
        let queued = (*conn)
            .engine_mut()
            .map(|engine| engine.sent_direct(text, fragment, rest));
        if !matches!(queued, Some(Ok(()))) {
            // Half a frame is out and the rest cannot follow.
            (*conn).out_of_memory();
            return Some(Err(OpError::NoMem));
        }
        sys::lwipws_output(pcb);
        (*conn).settle();
        Some(Ok(()))
    }
}

/// Turns lwIP's Nagle algorithm on in the middle of a fragmented message and off
/// otherwise. While more of a message follows and earlier data is unacknowledged, lwIP
/// then sends only whole segments and holds a partial last one until the next fragment
/// fills it or everything in flight is acknowledged, so forwarding pieces as fragments
/// (each a few header bytes over its piece) does not send a tiny segment per piece.
unsafe fn set_nagle(conn: *mut Conn, pcb: *mut sys::lwipws_pcb, fragmented: bool) {
    // SAFETY: conn and pcb are live (caller contract).
    unsafe {
        if ((*conn).flags & NAGLE != 0) == fragmented {
            return;
        }
        if fragmented {
            sys::lwipws_nagle_enable(pcb);
            (*conn).flags |= NAGLE;
        } else {
            sys::lwipws_nagle_disable(pcb);
            (*conn).flags &= !NAGLE;
        }
    }
}

/// Queue one fragment of a message (`fin` ends it).
pub unsafe fn write_fragment(
    conn: *mut Conn,
    text: bool,
    data: &[u8],
    fin: bool,
) -> Result<(), OpError> {
    // SAFETY: forwarded caller contract.
    unsafe {
        if let Some(done) = write_direct(conn, text, Some(fin), data) {
            return done;
        }
        queue(conn, |e| e.send_fragment(text, data, fin, mask_for(e)))
    }
}

/// Queue a ping.
pub unsafe fn ping(conn: *mut Conn, data: &[u8]) -> Result<(), OpError> {
    // SAFETY: forwarded caller contract.
    unsafe { queue(conn, |e| e.ping(data, mask_for(e))) }
}

/// lwIP's `TCP_WRITE_FLAG_COPY` and `TCP_WRITE_FLAG_MORE` (lwip/tcp.h, from the bindings:
/// constants, not a call into the shim per write).
const WRITE_FLAG_COPY: u8 = sys::TCP_WRITE_FLAG_COPY as u8;
const WRITE_FLAG_MORE: u8 = sys::TCP_WRITE_FLAG_MORE as u8;

/// `altcp_write` with `TCP_WRITE_FLAG_COPY` of `bytes` (callers keep it within
/// `altcp_sndbuf`, so within `u16`).
unsafe fn write_copy(pcb: *mut sys::lwipws_pcb, bytes: &[u8]) -> sys::err_t {
    // SAFETY: forwarded caller contract.
    unsafe { write_flags(pcb, bytes, 0) }
}

/// [`write_copy`] with `more` flags besides `TCP_WRITE_FLAG_COPY`.
unsafe fn write_flags(pcb: *mut sys::lwipws_pcb, bytes: &[u8], more: u8) -> sys::err_t {
    let len = u16::try_from(bytes.len()).unwrap_or(u16::MAX);
    // SAFETY: `pcb` is live (caller contract); lwIP copies `len` readable bytes.
    unsafe { sys::lwipws_write(pcb, bytes.as_ptr().cast(), len, WRITE_FLAG_COPY | more) }
}

#[cfg(feature = "listener")]
/// Answer the HTTP request waiting on `conn` with a constant `body` (see
/// `Connection::respond_static`): the head goes to lwIP at once (copied) when its send
/// buffer has room, the body by reference from [`flush`].
pub unsafe fn respond_static(
    conn: *mut Conn,
    status: u16,
    ctype: &str,
    body: &'static [u8],
) -> Result<(), OpError> {
    // SAFETY: conn is live (caller contract); the pcb is live while non-null.
    unsafe {
        let pcb = (*conn).pcb;
        let writable = !pcb.is_null() && (*conn).flags & super::CONNECTED != 0;
        let mut failed = false;
        let engine = (*conn).engine_mut().ok_or(OpError::State)?;
        engine.respond_static(status, ctype, body, |head| {
            if !writable || head.len() > usize::from(sys::lwipws_sndbuf(pcb)) {
                return false;
            }
            let e = write_copy(pcb, head);
            failed = e != err::OK && e != err::MEM;
            e == err::OK
        })?;
        if failed {
            (*conn).flags |= FATAL;
        }
        Ok(())
    }
}

/// Moves queued output into lwIP as far as its send buffer allows.
pub(super) unsafe fn flush(conn: *mut Conn) {
    // SAFETY: conn is live; pcb is live while non-null.
    unsafe {
        let pcb = (*conn).pcb;
        // A client's request waits for the connect (over TLS, lwIP refuses writes before
        // the TLS handshake is done).
        if pcb.is_null() || (*conn).is_failing() || (*conn).flags & super::CONNECTED == 0 {
            return;
        }
        let Some(fragmented) = (*conn).engine().map(Connection::is_sending_fragmented) else {
            return;
        };
        // Nagle's algorithm in the middle of a fragmented message, see `set_nagle`. When
        // it turns off, a partial segment lwIP held back may go now.
        let nagle_off = !fragmented && (*conn).flags & NAGLE != 0;
        set_nagle(conn, pcb, fragmented);
        let Some(engine) = (*conn).engine_mut() else {
            return;
        };
        let mut wrote = nagle_off;
        loop {
            // The send queue, then a constant response body by reference
            // (`HttpRequest_respondStatic`), which the engine gives only once the queue is
            // empty.
            let queued = engine.pending();
            let copy = !queued.is_empty();
            let bytes = if copy {
                queued
            } else {
                engine.pending_static()
            };
            let room = usize::from(sys::lwipws_sndbuf(pcb));
            let n = bytes.len().min(room).min(usize::from(u16::MAX));
            if n == 0 {
                break;
            }
            let e = if copy {
                write_copy(pcb, bytes.get(..n).unwrap_or_default())
            } else {
                // SAFETY: `pcb` is live; `bytes` is constant data that stays valid until
                // the connection ends (the caller's contract), so lwIP may reference it.
                sys::lwipws_write(pcb, bytes.as_ptr().cast(), n as u16, 0)
            };
            if e == err::MEM {
                break;
            }
            if e != err::OK {
                (*conn).flags |= FATAL;
                break;
            }
            if copy {
                engine.advance(n);
            } else {
                engine.advance_static(n);
            }
            wrote = true;
        }
        if wrote {
            sys::lwipws_output(pcb);
        }
    }
}
