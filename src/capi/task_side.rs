//! Calls for application tasks (`NO_SYS` 0, e.g. FreeRTOS with lwIP's tcpip thread): a
//! blocking write, reads from the connection's receive queue (whole messages or pieces),
//! and a close, each safe from any task.
//!
//! How they stay safe: each call works in rounds, and every round runs in lwIP's core
//! context through `task::in_core`: with `LWIP_TCPIP_CORE_LOCKING` 1 the calling task
//! takes the core lock (`LOCK_TCPIP_CORE()`), the lock the tcpip thread holds while it runs
//! lwIP and this library's callbacks; with 0 the round is posted to the tcpip thread
//! (`tcpip_send_msg_wait_sem`) and the task waits until it ran, so the task's buffer is
//! read in place and copied into the connection's send queue there, exactly as under the
//! lock. Either way a task never runs inside a connection at the same time as the tcpip
//! thread, and the core-context functions themselves pay nothing for it. Between rounds
//! the task waits outside the core, on a semaphore of the connection's task-side state
//! (`tasks.rs`) that its hooks signal.

// `--cfg lwipws_no_tasks` leaves the exported task calls out; their helpers stay.
#![cfg_attr(lwipws_no_tasks, allow(dead_code, unused_imports))]

use core::ffi::{c_int, c_void};
use core::ptr;

use super::tasks::{find, find_or_make, leave, over, TaskSide};
use super::{
    wss_conn, WSS_close, WSS_resumeRead, WSS_write, LWIP_WS_ERR_ARG, LWIP_WS_ERR_BUFFER_TOO_SMALL,
    LWIP_WS_ERR_CLOSED, LWIP_WS_ERR_STATE, LWIP_WS_ERR_TIMEOUT, LWIP_WS_ERR_UNSUPPORTED,
    LWIP_WS_ERR_WOULD_BLOCK, WSS,
};
use crate::lwip::now_ms;
use crate::lwip::task::{in_core, Sem};

/// Longest single wait: a waiter rechecks its connection at least this often, whatever
/// happens to the wake-ups.
const SLICE_MS: u32 = 50;

/// What a round (in core context) decided.
enum Round {
    /// The call returns this.
    Done(c_int),
    /// Wait on this semaphore (of a state kept alive by `users`) up to this many ms.
    Wait(*const Sem, u32),
}

/// A call in progress: its connection's state (once entered) and its start time.
struct Call {
    side: *mut TaskSide,
    start: u32,
}

/// Runs `round` in core context until it is done, waiting outside the core in between.
fn run_rounds(mut round: impl FnMut() -> Round) -> c_int {
    // Bounded: every round but the last waits at least 1 ms, and the rounds end the call
    // once its timeout is over.
    loop {
        match in_core(&mut round) {
            None => return LWIP_WS_ERR_UNSUPPORTED,
            Some(Round::Done(rc)) => return rc,
            // SAFETY: the semaphore belongs to a task-side state this call still uses
            // (`users`), which is freed only after its last user left.
            Some(Round::Wait(sem, ms)) => unsafe {
                (*sem).wait(ms);
            },
        }
    }
}

/// Milliseconds left until `start + timeout`, 0 when over.
fn left(start: u32, timeout: u32) -> u32 {
    timeout.saturating_sub(now_ms().wrapping_sub(start))
}

/// The first round's entry: checks the storage, finds (or, for writers, makes) the
/// connection's state and counts this call as a user. Core context.
unsafe fn enter(o: *mut WSS, make: bool) -> Result<*mut TaskSide, c_int> {
    // SAFETY: core context (caller); wss_conn checks the storage.
    unsafe {
        wss_conn(o)?;
        let s = if make {
            find_or_make(o)?
        } else {
            find(o).ok_or(LWIP_WS_ERR_STATE)?
        };
        if (*s).ended && make {
            return Err(LWIP_WS_ERR_CLOSED);
        }
        if !make && (*s).depth == 0 && (*s).queue.is_empty() {
            return Err(LWIP_WS_ERR_STATE);
        }
        (*s).users += 1;
        Ok(s)
    }
}

/// The state of this call's connection: entered on the first round; on later rounds the
/// call stops counting among the waiting writers (readers). Core context.
unsafe fn side_of(
    o: *mut WSS,
    call: &mut Option<Call>,
    writer: bool,
) -> Result<*mut TaskSide, c_int> {
    // SAFETY: core context (caller); `c.side` is live while this call counts in `users`.
    unsafe {
        if let Some(c) = call {
            if writer {
                (*c.side).writers -= 1;
            } else {
                (*c.side).readers -= 1;
            }
            return Ok(c.side);
        }
        let side = enter(o, writer)?;
        Ok(call
            .insert(Call {
                side,
                start: now_ms(),
            })
            .side)
    }
}

/// Send one complete message from any task, waiting while the send queue is full: the
/// reference API's blocking `write`. The data is copied into the connection's send queue
/// before this returns. Messages a task writes go out in the order it wrote them, each
/// frame whole, however many tasks write to the same connection. Waiters wake when the
/// queue has room (`writableFp`'s moment), when the connection ends, or at the timeout.
/// `timeoutMs` 0: never wait (a task-safe `WSS_write`).
///
/// Context: any task; not an ISR. With `LWIP_TCPIP_CORE_LOCKING` 1 each attempt runs
/// under the core lock taken by this call; with 0 it runs in the tcpip thread while this
/// task waits (one message through the tcpip mailbox per attempt). In the tcpip thread
/// (this library's callbacks) use `WSS_write`: there a wait could only end at its timeout,
/// since the callbacks that end it run in that same thread; with
/// `LWIP_TCPIP_CORE_LOCKING` 0 a call from the tcpip thread deadlocks unless the port
/// defines `LWIP_WS_IN_TCPIP_THREAD()`. Returns `LWIP_WS_OK`, `LWIP_WS_ERR_TIMEOUT` (still
/// full after `timeoutMs`; nothing queued), `LWIP_WS_ERR_WOULD_BLOCK` (full and
/// `timeoutMs` 0), `LWIP_WS_ERR_CLOSED` (the connection is closing or has ended, before or
/// while waiting, or `WSS_destructor` ran meanwhile), `LWIP_WS_ERR_STATE` (handshake not
/// finished), `LWIP_WS_ERR_TOO_BIG`, `LWIP_WS_ERR_NO_MEM`, `LWIP_WS_ERR_ARG`,
/// `LWIP_WS_ERR_NOT_CONSTRUCTED`, `LWIP_WS_ERR_UNSUPPORTED` (`NO_SYS` 1).
#[cfg(not(lwipws_no_tasks))]
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn WSS_writeBlocking(
    o: *mut WSS,
    data: *const c_void,
    len: c_int,
    isTxt: c_int,
    timeoutMs: u32,
) -> c_int {
    if o.is_null() || len < 0 || (data.is_null() && len > 0) {
        return LWIP_WS_ERR_ARG;
    }
    let mut call: Option<Call> = None;
    // SAFETY: each round runs in core context; `data[..len]` stays readable, as this task
    // waits for every round.
    run_rounds(|| unsafe { write_round(o, data, len, isTxt, timeoutMs, &mut call) })
}

/// One attempt of `WSS_writeBlocking`. Core context.
unsafe fn write_round(
    o: *mut WSS,
    data: *const c_void,
    len: c_int,
    is_txt: c_int,
    timeout: u32,
    call: &mut Option<Call>,
) -> Round {
    // SAFETY: core context (run_rounds); `s` is live while this call counts in `users`.
    unsafe {
        let s = match side_of(o, call, true) {
            Ok(s) => s,
            Err(code) => return Round::Done(code),
        };
        if (*s).released || (*s).ended {
            // Ended (or WSS_destructor ran) while this call waited.
            return finish_write(s, LWIP_WS_ERR_CLOSED);
        }
        let mut rc = WSS_write(o, data, len, is_txt);
        if rc == LWIP_WS_ERR_STATE && over(o, s) {
            rc = LWIP_WS_ERR_CLOSED;
        }
        if rc == LWIP_WS_ERR_WOULD_BLOCK && timeout != 0 {
            let wait = call.as_ref().map_or(0, |c| left(c.start, timeout));
            if wait == 0 {
                rc = LWIP_WS_ERR_TIMEOUT;
            } else {
                (*s).writers += 1;
                return Round::Wait(ptr::addr_of!((*s).writable), wait.min(SLICE_MS));
            }
        }
        finish_write(s, rc)
    }
}

/// Ends a `WSS_writeBlocking` call. Core context.
unsafe fn finish_write(s: *mut TaskSide, rc: c_int) -> Round {
    // SAFETY: core context; `s` is live (this call is one of its users).
    unsafe {
        if rc != LWIP_WS_ERR_WOULD_BLOCK && (*s).writers > 0 && !(*s).ended {
            // Room may be left for the next writer: let it try (it waits again if not).
            (*s).writable.signal();
        }
        leave(s);
    }
    Round::Done(rc)
}

/// Where a read puts what it takes.
struct ReadOut {
    buf: *mut u8,
    cap: usize,
    is_txt: *mut c_int,
    /// `Some` for `WSS_readPiece` (offset and last flag out), `None` for `WSS_read`.
    piece: Option<(*mut u64, *mut c_int)>,
}

/// Take the next whole message of `o`'s receive queue (`WSS_setReadQueue`), waiting up to
/// `timeoutMs` for one: copies it into `buf` (`cap` bytes), sets `*isTxt` (1 text, 0
/// binary; `isTxt` may be NULL) and returns its length. Messages come whole, in the order
/// they arrived; a message is taken by one reader only. After the connection ends, the
/// messages still queued are returned first, then `LWIP_WS_ERR_CLOSED`. For messages
/// larger than your buffer, and in streaming mode, use `WSS_readPiece`.
///
/// Context: any task; not an ISR, and not the tcpip thread (there use `frameFp`). With
/// `LWIP_TCPIP_CORE_LOCKING` 1 the queue is read under the core lock taken by this call;
/// with 0 in the tcpip thread while this task waits (the copy into `buf` happens there).
/// Returns the length (≥ 0), `LWIP_WS_ERR_TIMEOUT` (nothing arrived in `timeoutMs`; 0: do
/// not wait), `LWIP_WS_ERR_CLOSED` (ended and nothing left, or `WSS_destructor` ran
/// meanwhile), `LWIP_WS_ERR_BUFFER_TOO_SMALL` (the next message is longer than `cap`; it
/// stays queued), `LWIP_WS_ERR_STATE` (no receive queue: call `WSS_setReadQueue` first; or
/// the next entry is a piece: use `WSS_readPiece`), `LWIP_WS_ERR_ARG`,
/// `LWIP_WS_ERR_NOT_CONSTRUCTED`, `LWIP_WS_ERR_UNSUPPORTED` (`NO_SYS` 1).
#[cfg(not(lwipws_no_tasks))]
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn WSS_read(
    o: *mut WSS,
    buf: *mut c_void,
    cap: c_int,
    isTxt: *mut c_int,
    timeoutMs: u32,
) -> c_int {
    // SAFETY: the caller's contract (`buf[..cap]` writable, `isTxt` NULL or writable).
    unsafe { read_call(o, buf, cap, isTxt, None, timeoutMs) }
}

/// Take the next piece of `o`'s receive queue (`WSS_setReadQueue`), waiting up to
/// `timeoutMs` for one: copies up to `cap` bytes of the message at the front into `buf`
/// and returns how many, with their offset within the message in `*offset` and
/// `*last` 1 when they end it (`isTxt`, `offset`, `last` may each be NULL). A message
/// longer than `cap` comes in several calls; in streaming mode (`WSS_setStreaming`) the
/// queue holds pieces as they arrived, so a message of any size (up to
/// `WSS_setMaxMessage`) passes through a queue of `depth` pieces and a buffer of `cap`.
/// Pieces come in order, the next message only after the last piece of the one before;
/// with several readers, each piece goes to one of them (one reader per connection keeps
/// a message together). An empty message is one piece of 0 bytes with `*last` 1.
///
/// Context: any task; not an ISR, not the tcpip thread; each locking mode as `WSS_read`.
/// Returns the piece's length (≥ 0), `LWIP_WS_ERR_TIMEOUT`, `LWIP_WS_ERR_CLOSED` (ended
/// and nothing left, or `WSS_destructor` ran meanwhile), `LWIP_WS_ERR_BUFFER_TOO_SMALL`
/// (`cap` 0 and the front piece is not empty), `LWIP_WS_ERR_STATE` (no receive queue),
/// `LWIP_WS_ERR_ARG`, `LWIP_WS_ERR_NOT_CONSTRUCTED`, `LWIP_WS_ERR_UNSUPPORTED` (`NO_SYS` 1).
#[cfg(not(lwipws_no_tasks))]
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn WSS_readPiece(
    o: *mut WSS,
    buf: *mut c_void,
    cap: c_int,
    isTxt: *mut c_int,
    offset: *mut u64,
    last: *mut c_int,
    timeoutMs: u32,
) -> c_int {
    // SAFETY: the caller's contract (each out pointer NULL or writable).
    unsafe { read_call(o, buf, cap, isTxt, Some((offset, last)), timeoutMs) }
}

/// `WSS_read` (`piece` None) and `WSS_readPiece`: checks the arguments and runs the rounds.
unsafe fn read_call(
    o: *mut WSS,
    buf: *mut c_void,
    cap: c_int,
    is_txt: *mut c_int,
    piece: Option<(*mut u64, *mut c_int)>,
    timeout: u32,
) -> c_int {
    let Ok(cap) = usize::try_from(cap) else {
        return LWIP_WS_ERR_ARG;
    };
    if o.is_null() || (buf.is_null() && cap > 0) {
        return LWIP_WS_ERR_ARG;
    }
    let out = ReadOut {
        buf: buf.cast(),
        cap,
        is_txt,
        piece,
    };
    let mut call: Option<Call> = None;
    // SAFETY: each round runs in core context; `buf` stays writable, as this task waits
    // for every round.
    run_rounds(|| unsafe { read_round(o, &out, timeout, &mut call) })
}

/// One attempt of `WSS_read`/`WSS_readPiece`. Core context.
unsafe fn read_round(o: *mut WSS, out: &ReadOut, timeout: u32, call: &mut Option<Call>) -> Round {
    // SAFETY: core context (run_rounds); `s` is live while this call counts in `users`.
    unsafe {
        let s = match side_of(o, call, false) {
            Ok(s) => s,
            Err(code) => return Round::Done(code),
        };
        let rc = if (*s).released {
            // WSS_destructor (or a new WSS_constructor) ran while we waited.
            LWIP_WS_ERR_CLOSED
        } else if !(*s).queue.is_empty() {
            take(o, s, out)
        } else if (*s).ended {
            LWIP_WS_ERR_CLOSED
        } else {
            let wait = call.as_ref().map_or(0, |c| left(c.start, timeout));
            if wait > 0 {
                (*s).readers += 1;
                return Round::Wait(ptr::addr_of!((*s).readable), wait.min(SLICE_MS));
            }
            LWIP_WS_ERR_TIMEOUT
        };
        leave(s);
        Round::Done(rc)
    }
}

/// Copies the front of the queue out (a whole message, or a piece of at most `cap`) and
/// resumes a paused connection once there is room. Core context, queue not empty.
unsafe fn take(o: *mut WSS, s: *mut TaskSide, out: &ReadOut) -> c_int {
    // SAFETY: core context; `s` is live; `out.buf[..out.cap]` is writable (caller).
    unsafe {
        let Some(front) = (*s).queue.front_mut() else {
            return LWIP_WS_ERR_STATE;
        };
        let rest = front.data.len() - front.taken;
        let n = match out.piece {
            None if !front.whole() => return LWIP_WS_ERR_STATE,
            None if rest > out.cap => return LWIP_WS_ERR_BUFFER_TOO_SMALL,
            None => rest,
            Some(_) if out.cap == 0 && rest > 0 => return LWIP_WS_ERR_BUFFER_TOO_SMALL,
            Some(_) => rest.min(out.cap),
        };
        if n > 0 {
            ptr::copy_nonoverlapping(front.data.as_ptr().add(front.taken), out.buf, n);
        }
        if !out.is_txt.is_null() {
            *out.is_txt = c_int::from(front.text);
        }
        let done = n == rest;
        if let Some((offset, last)) = out.piece {
            if !offset.is_null() {
                *offset = front.offset + front.taken as u64;
            }
            if !last.is_null() {
                *last = c_int::from(done && front.last);
            }
        }
        front.taken += n;
        if done {
            (*s).queue.pop_front();
            if (*s).paused && !(*s).ended && (*s).queue.len() < (*s).depth.max(1) {
                (*s).paused = false;
                // Held data is delivered now, into the queue (or closeFp runs).
                let _ = WSS_resumeRead(o);
            }
        }
        c_int::try_from(n).unwrap_or(c_int::MAX)
    }
}

/// `WSS_close` from any task: start the close handshake with `status`. Tasks blocked on
/// the connection return `LWIP_WS_ERR_CLOSED` once it ends.
///
/// Context: any task; not an ISR. With `LWIP_TCPIP_CORE_LOCKING` 1 under the core lock
/// taken by this call; with 0 in the tcpip thread while this task waits. Returns as
/// `WSS_close`, or `LWIP_WS_ERR_CLOSED` (already ended), `LWIP_WS_ERR_UNSUPPORTED`
/// (`NO_SYS` 1).
#[cfg(not(lwipws_no_tasks))]
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn WSS_closeFromTask(o: *mut WSS, status: c_int) -> c_int {
    if o.is_null() {
        return LWIP_WS_ERR_ARG;
    }
    // SAFETY: core context inside in_core; wss_conn (in WSS_close) checks the storage.
    in_core(|| unsafe {
        match find(o) {
            Some(s) if (*s).ended => LWIP_WS_ERR_CLOSED,
            _ => WSS_close(o, status),
        }
    })
    .unwrap_or(LWIP_WS_ERR_UNSUPPORTED)
}
