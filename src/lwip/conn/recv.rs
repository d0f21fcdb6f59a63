//! The receive path: lwIP's recv callback, pbuf chains fed piece by piece into the
//! engine, and each event handed to the owner's hooks with its borrows turned into raw
//! pointers (so that hooks may call back into the connection).

use alloc::vec::Vec;
use core::ffi::c_void;
use core::ptr;

use super::{
    after_activity, call_hook, finish, flush, Conn, Ending, OpError, Piece, CONNECTED, DIRECT_MAX,
    FATAL, FIN_HELD, PAUSED,
};
use crate::lwip::{err, origins, rand4, sys, Flow};
use crate::proto::{Connection, Event, State};

/// A received event with its borrows turned into raw pointers, so that hooks may call
/// back into the connection.
enum Raw {
    Request,
    Open(Option<(*const u8, usize)>),
    Message {
        text: bool,
        data: *mut u8,
        len: usize,
        nul: Nul,
    },
    Chunk(Piece),
    /// A ping (false) or a pong (true) with its payload.
    Control(bool, *mut u8, usize),
    Ended(Ending),
}

/// Where the 0 byte after a message comes from.
enum Nul {
    /// An empty message: a 0 byte of the hook call's own (writable, like every message).
    Empty,
    /// The engine's buffer already has it.
    Present,
    /// The input has a byte after the payload (or its pbuf has room for one): swap a 0
    /// in for the hook's duration.
    Swap,
    /// The payload ends where the input does: copy it to the stack (up to `DIRECT_MAX`
    /// bytes) or into the engine's message buffer (which keeps room for a `startSize`
    /// message while the connection is busy).
    Copy,
}

/// Feeds one received piece, `piece[..len]`, to the engine and dispatches its events,
/// until the piece is consumed, the connection goes away inside a hook, or (with
/// `pausable`) the application pauses reading. A longer `piece` has a writable byte after
/// the data (room in its pbuf): a message ending with the data is then terminated there
/// instead of copied. Returns the connection to go on with (it changes when an HTTP
/// connection is upgraded; `None` when it went away) and how many bytes were consumed.
pub(super) unsafe fn feed(
    mut conn: *mut Conn,
    piece: &mut [u8],
    len: usize,
    pausable: bool,
) -> (Option<*mut Conn>, usize) {
    let spare = piece.len() > len;
    let mut off = 0usize;
    while off < len {
        // SAFETY: conn is live (checked after every hook).
        let flags = unsafe { (*conn).flags };
        if (pausable && flags & PAUSED != 0) || flags & FATAL != 0 {
            break;
        }
        // SAFETY: conn is live (checked after every hook); the engine borrow ends before
        // any hook runs (Raw holds only raw pointers).
        let raw = unsafe {
            let engine = match (*conn).wake() {
                Ok(engine) => engine,
                Err(OpError::NoMem) => {
                    // A parked engine could not wake: the connection cannot go on.
                    (*conn).out_of_memory();
                    return (Some(conn), off);
                }
                Err(_) => return (Some(conn), off),
            };
            let input = piece.get_mut(off..len).unwrap_or_default();
            let start = input.as_mut_ptr() as usize;
            let input_len = input.len();
            let mut mask = rand4;
            let r = engine.receive_with(input, &mut mask);
            off += r.consumed;
            match r.event {
                None if r.consumed == 0 => return (Some(conn), off),
                None => continue,
                Some(ev) => to_raw(ev, start, input_len, spare),
            }
        };
        // SAFETY: conn is live here and the engine borrow has ended.
        let raw = unsafe { rebase(conn, raw, piece) };
        // SAFETY: conn is live here.
        match unsafe { dispatch(conn, raw) } {
            Some(next) => conn = next,
            None => return (None, off),
        }
    }
    (Some(conn), off)
}

/// Feeds the pbuf chain `p` (ours) to the connection, pbuf by pbuf, until it is consumed,
/// the connection goes away, or the application pauses reading. Returns the connection to
/// go on with (`None`: it went away; the chain is freed), the unconsumed rest of the chain
/// (ours; null when all was consumed) and how many bytes were consumed.
unsafe fn feed_chain(
    conn: *mut Conn,
    p: *mut sys::pbuf,
) -> (Option<*mut Conn>, *mut sys::pbuf, u16) {
    // SAFETY: `p` is a valid chain we own; its payloads are writable (the engine unmasks
    // in place), and so is the room lwipws_pbuf_tailroom reports after a pbuf's data (its
    // own pool buffer); conn is live on entry and tracked through `feed`.
    unsafe {
        let total = (*p).tot_len;
        let mut consumed: u16 = 0;
        let mut cur = Some(conn);
        let mut q = p;
        while let (false, Some(c)) = (q.is_null(), cur) {
            let len = (*q).len;
            // One byte of the pbuf's room after the data, when it has some.
            let spare = usize::from(sys::lwipws_pbuf_tailroom(q) > 0);
            let piece = core::slice::from_raw_parts_mut(
                (*q).payload.cast::<u8>(),
                usize::from(len) + spare,
            );
            let (next, used) = feed(c, piece, usize::from(len), true);
            cur = next;
            // `used` <= `len`, and the pbufs' lengths add up to `total`, a u16.
            consumed = consumed.saturating_add(u16::try_from(used).unwrap_or(len));
            if used < usize::from(len) {
                break;
            }
            q = (*q).next;
        }
        if cur.is_none() || consumed >= total {
            sys::pbuf_free(p);
            return (cur, ptr::null_mut(), consumed);
        }
        // Frees the consumed pbufs and moves the first one's payload past what was used.
        (cur, sys::pbuf_free_header(p, consumed), consumed)
    }
}

/// Feeds received data held while reading was paused, as far as the application lets it
/// (it may pause again), and acknowledges what was consumed; then a FIN that arrived
/// behind the data takes effect. `None`: the connection went away.
pub(super) unsafe fn deliver_held(mut conn: *mut Conn) -> Option<*mut Conn> {
    // SAFETY: conn is live on entry and tracked through `feed_chain`; the held chain is
    // taken out of the connection while it is fed, so nothing frees it twice.
    unsafe {
        while (*conn).flags & PAUSED == 0 {
            let Some(awake) = (*conn).awake_mut() else {
                break;
            };
            let held = core::mem::replace(&mut awake.held, ptr::null_mut());
            if held.is_null() {
                break;
            }
            let (cur, rest, consumed) = feed_chain(conn, held);
            conn = cur?;
            let pcb = (*conn).pcb;
            if !pcb.is_null() && consumed > 0 {
                sys::lwipws_recved(pcb, consumed);
            }
            if rest.is_null() {
                continue;
            }
            match (*conn).awake_mut() {
                Some(awake) => awake.held = rest,
                None => {
                    sys::pbuf_free(rest);
                }
            }
            if (*conn).flags & FATAL != 0 {
                break;
            }
        }
        if (*conn).flags & FIN_HELD != 0 && !(*conn).holds_data() && (*conn).flags & PAUSED == 0 {
            (*conn).flags &= !FIN_HELD;
            on_fin(conn);
            return None;
        }
        Some(conn)
    }
}

/// Stops delivering received data (after the hook running now, if any, returns) and stops
/// acknowledging it to lwIP, so the TCP window closes and the peer waits. What arrives
/// meanwhile is held, at most one receive window of pbufs.
pub unsafe fn pause_read(conn: *mut Conn) -> Result<(), OpError> {
    // SAFETY: conn is live (caller contract).
    unsafe {
        // Open connections only: a handshake must finish within its timeout.
        if !(*conn).is_open() {
            return Err(OpError::State);
        }
        (*conn).flags |= PAUSED;
    }
    Ok(())
}

/// Delivers again: held data goes to the hooks (at once when called outside this
/// connection's hooks, else when the running hook has returned) and is acknowledged, so
/// the window reopens. `closed` may run before this returns.
pub unsafe fn resume_read(conn: *mut Conn) -> Result<(), OpError> {
    // SAFETY: conn is live (caller contract); outside its hooks nothing up the stack holds
    // it, so finishing it here is safe.
    unsafe {
        if !(*conn).is_active() {
            return Err(OpError::State);
        }
        (*conn).flags &= !PAUSED;
        if (*conn).guard.is_null() {
            after_activity(conn);
        }
    }
    Ok(())
}

/// Re-derives a message's pointer from a mutable borrow of the whole memory it lies in:
/// the input piece, or the engine's buffer with its 0 byte. The event's `data` is a shared
/// borrow of the payload alone, so reading the byte after it (hooks read `data[len]`) or
/// writing the swapped-in 0 through it would go outside that borrow (undefined behaviour
/// under Rust's aliasing rules, reported by Miri).
unsafe fn rebase(conn: *mut Conn, raw: Raw, piece: &mut [u8]) -> Raw {
    let Raw::Message {
        text,
        data,
        len,
        nul,
    } = raw
    else {
        return raw;
    };
    let whole = match nul {
        Nul::Swap | Nul::Copy => {
            let at = (data as usize).wrapping_sub(piece.as_ptr() as usize);
            piece.get_mut(at..).map(<[u8]>::as_mut_ptr)
        }
        // SAFETY: conn is live; no other borrow of its engine exists here.
        Nul::Present if len > 0 => unsafe { (*conn).engine_mut() }
            .and_then(Connection::delivered_message_mut)
            .map(<[u8]>::as_mut_ptr),
        Nul::Present | Nul::Empty => None,
    };
    Raw::Message {
        text,
        data: whole.filter(|&p| p == data).unwrap_or(data),
        len,
        nul,
    }
}

/// `start` and `len`: where the input piece is; `spare`: a writable byte follows it.
fn to_raw(ev: Event<'_>, start: usize, len: usize, spare: bool) -> Raw {
    match ev {
        Event::Request(_) => Raw::Request,
        Event::Open { protocol } => Raw::Open(protocol.map(|p| (p.as_ptr(), p.len()))),
        Event::HandshakeFailed(_) => Raw::Ended(Ending::HandshakeFailed),
        Event::Message { text, data: [] } => {
            // An empty slice may point anywhere: the hook gets a real, writable 0 byte.
            Raw::Message {
                text,
                data: ptr::null_mut(),
                len: 0,
                nul: Nul::Empty,
            }
        }
        Event::Message { text, data } => {
            let at = data.as_ptr() as usize;
            let nul = if at >= start && at < start + len.max(1) {
                if at + data.len() < start + len + usize::from(spare) {
                    Nul::Swap
                } else {
                    Nul::Copy
                }
            } else {
                Nul::Present
            };
            Raw::Message {
                text,
                data: data.as_ptr().cast_mut(),
                len: data.len(),
                nul,
            }
        }
        Event::Chunk {
            text,
            data,
            offset,
            last,
            ..
        } => Raw::Chunk(Piece {
            data: data.as_ptr().cast_mut(),
            len: data.len(),
            text,
            offset,
            last,
        }),
        Event::Ping(d) => Raw::Control(false, d.as_ptr().cast_mut(), d.len()),
        Event::Pong(d) => Raw::Control(true, d.as_ptr().cast_mut(), d.len()),
        Event::Closed { code, .. } => Raw::Ended(Ending::Code(code)),
    }
}

/// Runs the hook for one event. `None`: the connection went away inside the hook.
unsafe fn dispatch(conn: *mut Conn, raw: Raw) -> Option<*mut Conn> {
    // SAFETY: conn is live on entry; pointers in `raw` point into the engine's buffer or
    // the current input piece, both untouched by the calls a hook may make (writes touch
    // only the send queue).
    unsafe {
        let hooks = (*conn).hooks;
        match raw {
            Raw::Request => {
                match hooks.request {
                    Some(hook) => {
                        let mut next = ptr::null_mut();
                        let alive = call_hook(conn, || next = hook(conn));
                        if !next.is_null() && next != conn {
                            return Some(next);
                        }
                        if !alive {
                            return None;
                        }
                    }
                    None => accept_upgrade(conn, origins::get()),
                }
                if (*conn).state() == Some(State::Closed) && (*conn).ending.is_none() {
                    (*conn).ending = Some(Ending::HandshakeFailed);
                }
                Some(conn)
            }
            Raw::Open(protocol) => {
                (*conn).flags |= CONNECTED;
                // Once per connection: a terminated copy of the subprotocol's name.
                let mut name = Vec::new();
                let p = match protocol {
                    Some((p, n)) if nul_copy(&mut name, p, n) => name.as_ptr().cast(),
                    _ => ptr::null(),
                };
                call_hook(conn, || (hooks.open)(conn, p)).then_some(conn)
            }
            Raw::Message {
                text,
                data,
                len,
                nul,
            } => {
                // A writable 0 byte of our own (one raw pointer, used for both roles).
                let mut own = 0u8;
                let zero = ptr::addr_of_mut!(own);
                let mut copy = core::mem::MaybeUninit::<[u8; DIRECT_MAX + 1]>::uninit();
                // Where the 0 after the payload goes, and the byte to put back there after
                // the hook (only `Swap` borrows a byte of the input).
                let (p, end, saved): (*mut u8, *mut u8, u8) = match nul {
                    Nul::Empty => (zero, zero, 0),
                    Nul::Present => (data, zero, 0),
                    Nul::Swap => (data, data.add(len), *data.add(len)),
                    Nul::Copy if len <= DIRECT_MAX => {
                        // Small: a terminated copy on the stack, no heap at all (also
                        // right after the connection gave its buffers back).
                        let p = copy.as_mut_ptr().cast::<u8>();
                        // SAFETY: `data` has `len` <= DIRECT_MAX readable bytes (the
                        // input piece); `p` has DIRECT_MAX + 1 writable bytes on our stack,
                        // of which the hook reads only the `len` + 1 written here.
                        ptr::copy_nonoverlapping(data, p, len);
                        (p, p.add(len), 0)
                    }
                    Nul::Copy => {
                        let payload = core::slice::from_raw_parts(data, len);
                        let staged = (*conn)
                            .engine_mut()
                            .and_then(|e| e.stage_delivered(payload))
                            .map(<[u8]>::as_mut_ptr);
                        let Some(p) = staged else {
                            (*conn).out_of_memory();
                            return Some(conn);
                        };
                        (p, zero, 0)
                    }
                };
                *end = 0;
                let alive = call_hook(conn, || (hooks.message)(conn, p, len, text));
                *end = saved;
                alive.then_some(conn)
            }
            Raw::Chunk(piece) => call_hook(conn, || (hooks.chunk)(conn, piece)).then_some(conn),
            Raw::Control(pong, d, n) => {
                let hook = if pong { hooks.pong } else { hooks.ping };
                call_hook(conn, || hook(conn, d, n)).then_some(conn)
            }
            Raw::Ended(ending) => {
                (*conn).ending = Some(ending);
                Some(conn)
            }
        }
    }
}

/// Answers the request waiting on a server connection: the upgrade (101) when it is valid
/// and its `Origin` is allowed by `origins` (see `Request::origin_allowed`), else the HTTP
/// error (403 for a refused origin). The connection ends with
/// [`Ending::HandshakeFailed`] unless it was upgraded.
pub(crate) unsafe fn accept_upgrade(conn: *mut Conn, origins: &[u8]) {
    // SAFETY: conn is live (caller contract); no other borrow of its engine exists.
    let Some(engine) = (unsafe { (*conn).engine_mut() }) else {
        return;
    };
    let allowed = engine.request().is_some_and(|r| r.origin_allowed(origins));
    let upgraded = if allowed {
        engine.accept(None).is_ok()
    } else {
        engine.reject(403);
        false
    };
    if !upgraded {
        // SAFETY: as above.
        unsafe { (*conn).ending = Some(Ending::HandshakeFailed) };
    }
}

/// Copies `len` bytes at `data` plus a 0 into `buf` (reusing its capacity).
unsafe fn nul_copy(buf: &mut Vec<u8>, data: *const u8, len: usize) -> bool {
    buf.clear();
    if buf.try_reserve(len + 1).is_err() {
        return false;
    }
    // SAFETY: `data` points at `len` readable bytes (an event payload).
    buf.extend_from_slice(unsafe { core::slice::from_raw_parts(data, len) });
    buf.push(0);
    true
}

pub(super) unsafe extern "C" fn on_recv(
    arg: *mut c_void,
    pcb: *mut sys::lwipws_pcb,
    p: *mut sys::pbuf,
    e: sys::err_t,
) -> sys::err_t {
    let conn: *mut Conn = arg.cast();
    // SAFETY: lwIP passes the arg we attached (a live Conn) and a live pcb; `p` is ours to
    // free exactly once (or to hold, unacknowledged, until it is delivered).
    unsafe {
        if conn.is_null() {
            if !p.is_null() {
                sys::lwipws_recved(pcb, (*p).tot_len);
                sys::pbuf_free(p);
            }
            return err::OK;
        }
        if p.is_null() {
            if (*conn).holds_data() {
                (*conn).flags |= FIN_HELD;
                return err::OK;
            }
            return on_fin(conn).err();
        }
        if e != err::OK {
            sys::pbuf_free(p);
            return err::OK;
        }
        if (*conn).flags & PAUSED != 0 || (*conn).holds_data() {
            hold(conn, p);
            return after_activity(conn).err();
        }
        let (cur, rest, consumed) = feed_chain(conn, p);
        match cur {
            Some(c) if (*c).pcb == pcb => {
                if consumed > 0 {
                    sys::lwipws_recved(pcb, consumed);
                }
                if !rest.is_null() {
                    hold(c, rest);
                }
                after_activity(c).err()
            }
            _ => {
                // The connection went away inside a hook: its pcb was closed or aborted.
                if !rest.is_null() {
                    sys::pbuf_free(rest);
                }
                err::ABRT
            }
        }
    }
}

/// Appends the chain `p` (ours, unacknowledged) to the data the connection holds. A
/// parked engine wakes for it; when it cannot, the connection ends (out of memory).
unsafe fn hold(conn: *mut Conn, p: *mut sys::pbuf) {
    // SAFETY: conn is live; `p` is ours and ends up either in the held chain (freed by
    // delivery or by dropping the engine) or freed here.
    unsafe {
        if (*conn).wake().is_err() {
            (*conn).out_of_memory();
        }
        match (*conn).awake_mut() {
            Some(awake) if awake.held.is_null() => awake.held = p,
            Some(awake) => sys::pbuf_cat(awake.held, p),
            None => {
                sys::pbuf_free(p);
            }
        }
    }
}

/// The peer closed its side (FIN).
unsafe fn on_fin(conn: *mut Conn) -> Flow {
    // SAFETY: conn is live.
    unsafe {
        flush(conn);
        match (*conn).state() {
            Some(State::Closed) => {
                let ending = (*conn).ending.unwrap_or(Ending::PeerClosed);
                finish(conn, ending, true)
            }
            Some(_) => finish(conn, Ending::PeerClosed, true),
            None => Flow::Continue,
        }
    }
}
