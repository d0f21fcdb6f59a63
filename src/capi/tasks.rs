//! Calls for application tasks (`NO_SYS` 0, e.g. FreeRTOS with lwIP's tcpip thread):
//! a blocking write, a task-side receive queue, and a close, each safe from any task.
//!
//! How they stay safe: every one takes lwIP's core lock (`LOCK_TCPIP_CORE()`) around its
//! work, the same lock the tcpip thread holds while it runs lwIP and this library's
//! callbacks, so a task never runs inside a connection at the same time as the tcpip
//! thread. Waiting happens with the lock released, on a semaphore that the connection's
//! callbacks (`writable`, a message, the end) signal. With `LWIP_TCPIP_CORE_LOCKING` 0, or
//! `NO_SYS` 1, these calls return `LWIP_WS_ERR_UNSUPPORTED` (posting the work to the tcpip
//! thread with `tcpip_callback` is not implemented).
//!
//! Task-side state (two semaphores, the receive queue) lives on the heap in a table keyed
//! by the `WSS` address, made on first use: `WSS` storage does not grow. It goes away in
//! `WSS_destructor` (or a new `WSS_constructor` on the same storage), or, when a task is
//! still waiting inside a call then, when that task leaves the call. Lifetimes: the `WSS`
//! belongs to the application and stays valid until the application calls
//! `WSS_destructor`; after `closeFp` every task call on it returns `LWIP_WS_ERR_CLOSED`
//! until then, so a task writing to a connection the peer just closed gets that code and
//! never reaches another connection that reuses the storage (that needs
//! `WSS_constructor` again, which starts fresh task-side state).
//!
//! The table, the queue and the counters are touched only with the core lock held.

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::vec::Vec;
use core::cell::UnsafeCell;
use core::ffi::{c_int, c_void};
use core::ptr;

use super::{
    wss_conn, WSS_close, WSS_pauseRead, WSS_resumeRead, WSS_write, LWIP_WS_ERR_ARG,
    LWIP_WS_ERR_BUFFER_TOO_SMALL, LWIP_WS_ERR_CLOSED, LWIP_WS_ERR_NO_MEM, LWIP_WS_ERR_STATE,
    LWIP_WS_ERR_TIMEOUT, LWIP_WS_ERR_UNSUPPORTED, LWIP_WS_ERR_WOULD_BLOCK, LWIP_WS_OK, WSS,
};
use crate::lwip::now_ms;
use crate::lwip::task::{self, assert_core_locked, CoreLock, Sem, HAS_TASKS};
use crate::proto::State;

/// Longest single wait: a waiter rechecks its connection at least this often, whatever
/// happens to the wake-ups.
const SLICE_MS: u32 = 50;

/// Most messages a receive queue may hold (`WSS_setReadQueue`).
pub const LWIP_WS_READ_QUEUE_MAX: c_int = 1024;

/// One received message waiting for `WSS_read`.
struct Message {
    data: Vec<u8>,
    text: bool,
}

/// What tasks need of one connection.
struct TaskSide {
    wss: *mut WSS,
    /// Tasks inside a call on this connection (they hold a pointer to this).
    users: u32,
    /// Out of the table (`WSS_destructor`): the last user frees it.
    released: bool,
    /// The connection ended (`closeFp` ran).
    ended: bool,
    writers: u32,
    readers: u32,
    writable: Sem,
    readable: Sem,
    /// Receive queue limit in messages; 0: messages go to `frameFp`.
    depth: usize,
    queue: VecDeque<Message>,
    /// Reading was paused because the queue was full.
    paused: bool,
}

struct Table(UnsafeCell<Vec<*mut TaskSide>>);

// SAFETY: the table is only touched with lwIP's core lock held (one task at a time).
unsafe impl Sync for Table {}

static TABLE: Table = Table(UnsafeCell::new(Vec::new()));

/// The table. Core lock held; no other borrow of it alive.
unsafe fn table() -> &'static mut Vec<*mut TaskSide> {
    // SAFETY: the caller holds the core lock and keeps no other reference.
    unsafe { &mut *TABLE.0.get() }
}

/// The task-side state of `wss`, if any. Core lock held.
unsafe fn find(wss: *mut WSS) -> Option<*mut TaskSide> {
    if !HAS_TASKS {
        return None;
    }
    // SAFETY: core lock held (caller); entries are live boxes.
    unsafe { table().iter().copied().find(|&s| (*s).wss == wss) }
}

/// The task-side state of `wss`, made when missing. Core lock held.
unsafe fn find_or_make(wss: *mut WSS) -> Result<*mut TaskSide, c_int> {
    // SAFETY: core lock held (caller).
    if let Some(s) = unsafe { find(wss) } {
        return Ok(s);
    }
    let (Some(writable), Some(readable)) = (Sem::new(), Sem::new()) else {
        return Err(LWIP_WS_ERR_NO_MEM);
    };
    let side = Box::new(TaskSide {
        wss,
        users: 0,
        released: false,
        ended: false,
        writers: 0,
        readers: 0,
        writable,
        readable,
        depth: 0,
        queue: VecDeque::new(),
        paused: false,
    });
    // SAFETY: core lock held (caller).
    let t = unsafe { table() };
    if t.try_reserve(1).is_err() {
        return Err(LWIP_WS_ERR_NO_MEM);
    }
    let raw = Box::into_raw(side);
    t.push(raw);
    Ok(raw)
}

/// Forgets the task-side state of `wss` (`WSS_destructor`, `WSS_constructor`): waiters
/// wake and return `LWIP_WS_ERR_CLOSED`; the state is freed now, or by its last user.
/// Core context.
pub(crate) unsafe fn release(wss: *mut WSS) {
    // SAFETY: core context (the caller's contract); the entry is a live box.
    unsafe {
        let Some(s) = find(wss) else { return };
        table().retain(|&e| e != s);
        (*s).released = true;
        wake_all(s);
        if (*s).users == 0 {
            drop(Box::from_raw(s));
        }
    }
}

/// Wakes one waiter of each kind; each passes the wake-up on (see `leave`).
unsafe fn wake_all(s: *mut TaskSide) {
    // SAFETY: `s` is live (caller).
    unsafe {
        if (*s).writers > 0 {
            (*s).writable.signal();
        }
        if (*s).readers > 0 {
            (*s).readable.signal();
        }
    }
}

/// The `closeFp` hook: the connection ended; waiters return `LWIP_WS_ERR_CLOSED` (readers
/// after the messages still queued). Core context.
pub(crate) unsafe fn on_closed(wss: *mut WSS) {
    // SAFETY: core context; the entry is live.
    unsafe {
        if let Some(s) = find(wss) {
            (*s).ended = true;
            (*s).paused = false;
            wake_all(s);
        }
    }
}

/// The `writableFp` hook: wakes a blocked writer. Core context.
pub(crate) unsafe fn on_writable(wss: *mut WSS) {
    // SAFETY: core context; the entry is live.
    unsafe {
        if let Some(s) = find(wss) {
            if (*s).writers > 0 {
                (*s).writable.signal();
            }
        }
    }
}

/// The message hook: true when the message went to the connection's receive queue
/// (`frameFp` is then not called). When the heap has no room for the copy, the message
/// goes to `frameFp` as without a queue. Core context, inside the connection's hook.
pub(crate) unsafe fn on_message(wss: *mut WSS, data: *const u8, len: usize, text: bool) -> bool {
    // SAFETY: core context; the entry is live; `data[..len]` is the message (hook contract).
    unsafe {
        let Some(s) = find(wss) else { return false };
        if (*s).depth == 0 {
            return false;
        }
        let mut copy = Vec::new();
        if copy.try_reserve_exact(len).is_err() || (*s).queue.try_reserve(1).is_err() {
            return false;
        }
        copy.extend_from_slice(core::slice::from_raw_parts(data, len));
        (*s).queue.push_back(Message { data: copy, text });
        if (*s).queue.len() >= (*s).depth && !(*s).paused {
            // Full: lwIP's window closes until WSS_read makes room (nothing is dropped).
            (*s).paused = WSS_pauseRead(wss) == LWIP_WS_OK;
        }
        if (*s).readers > 0 {
            (*s).readable.signal();
        }
        true
    }
}

/// Milliseconds left until `start + timeout`, 0 when over.
fn left(start: u32, timeout: u32) -> u32 {
    timeout.saturating_sub(now_ms().wrapping_sub(start))
}

/// True when `wss`'s connection is past its open state for good (closing, closed, or
/// ended), so a refused write will never succeed. Core lock held.
unsafe fn over(wss: *mut WSS, s: *mut TaskSide) -> bool {
    // SAFETY: core lock held; `s` is live; wss_conn checks the storage.
    unsafe {
        if (*s).ended || (*s).released {
            return true;
        }
        match wss_conn(wss) {
            Ok(c) => matches!((*c).state(), Some(State::Closing | State::Closed)),
            Err(_) => true,
        }
    }
}

/// Leaves a call: passes a wake-up on to the next waiter, frees a released state whose
/// last user this was. Core lock held.
unsafe fn leave(s: *mut TaskSide) {
    // SAFETY: core lock held; `s` is live until freed here.
    unsafe {
        (*s).users -= 1;
        if (*s).released || (*s).ended {
            wake_all(s);
        } else if (*s).readers > 0 && !(*s).queue.is_empty() {
            (*s).readable.signal();
        }
        if (*s).released && (*s).users == 0 {
            drop(Box::from_raw(s));
        }
    }
}

/// Send one complete message from any task, waiting while the send queue is full: the
/// reference API's blocking `write`. The data is copied before this returns. Messages a
/// task writes go out in the order it wrote them, each frame whole, however many tasks
/// write to the same connection (each call queues under lwIP's core lock). Waiters wake
/// when the queue has room (`writableFp`'s moment), when the connection ends, or at the
/// timeout. `timeoutMs` 0: never wait (a task-safe `WSS_write`).
///
/// Context: any task, with `NO_SYS` 0 and `LWIP_TCPIP_CORE_LOCKING` 1 (the call takes the
/// core lock); not an ISR. In the tcpip thread (this library's callbacks) use `WSS_write`:
/// there a wait could only end at its timeout, since the callbacks that end it run in
/// that same thread. Returns `LWIP_WS_OK`, `LWIP_WS_ERR_TIMEOUT` (still full after
/// `timeoutMs`; nothing queued), `LWIP_WS_ERR_WOULD_BLOCK` (full and `timeoutMs` 0),
/// `LWIP_WS_ERR_CLOSED` (the connection is closing or has ended, before or while waiting),
/// `LWIP_WS_ERR_STATE` (handshake not finished), `LWIP_WS_ERR_TOO_BIG`,
/// `LWIP_WS_ERR_NO_MEM`, `LWIP_WS_ERR_ARG`, `LWIP_WS_ERR_NOT_CONSTRUCTED`,
/// `LWIP_WS_ERR_UNSUPPORTED` (`NO_SYS` 1 or no core locking).
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
    let Some(mut lock) = CoreLock::take() else {
        return LWIP_WS_ERR_UNSUPPORTED;
    };
    // SAFETY: core lock held for every access below except the waits, which use only the
    // semaphore of a state kept alive by `users`.
    unsafe {
        if let Err(code) = wss_conn(o) {
            return code;
        }
        let s = match find_or_make(o) {
            Ok(s) => s,
            Err(code) => return code,
        };
        if (*s).ended {
            return LWIP_WS_ERR_CLOSED;
        }
        (*s).users += 1;
        let start = now_ms();
        let mut rc;
        // Bounded: each round waits at least one slice or ends the loop.
        loop {
            rc = WSS_write(o, data, len, isTxt);
            if rc == LWIP_WS_ERR_STATE && over(o, s) {
                rc = LWIP_WS_ERR_CLOSED;
            }
            if rc != LWIP_WS_ERR_WOULD_BLOCK || timeoutMs == 0 {
                break;
            }
            let wait = left(start, timeoutMs);
            if wait == 0 {
                rc = LWIP_WS_ERR_TIMEOUT;
                break;
            }
            lock = match wait_unlocked(lock, &(*s).writable, ptr::addr_of_mut!((*s).writers), wait)
            {
                Some(l) => l,
                None => return LWIP_WS_ERR_UNSUPPORTED, // cannot happen: it was taken before
            };
            if (*s).released || (*s).ended {
                rc = LWIP_WS_ERR_CLOSED;
                break;
            }
        }
        if rc != LWIP_WS_ERR_WOULD_BLOCK && (*s).writers > 0 && !(*s).ended {
            // Room may be left for the next writer: let it try (it waits again if not).
            (*s).writable.signal();
        }
        leave(s);
        drop(lock);
        rc
    }
}

/// Turn on the task-side receive queue of `o` (for `WSS_read`): from now on each complete
/// message is copied into a queue of at most `depth` messages (1..`LWIP_WS_READ_QUEUE_MAX`)
/// instead of going to `frameFp`. When the queue is full, reading pauses (as
/// `WSS_pauseRead`: lwIP's window closes, the peer waits) until `WSS_read` takes a
/// message, so nothing is dropped. Streaming mode's pieces still go to `chunkFp`. Call it
/// right after the connection starts (e.g. after `WSS_upgrade` in the request callback) so
/// that no message reaches `frameFp` first. `depth` 0 turns the queue off (messages still
/// queued stay readable).
///
/// Context: lwIP core (the tcpip thread, or a task holding `LOCK_TCPIP_CORE()`); needs
/// `NO_SYS` 0 and `LWIP_TCPIP_CORE_LOCKING` 1. Returns `LWIP_WS_OK`, `LWIP_WS_ERR_ARG`,
/// `LWIP_WS_ERR_NO_MEM`, `LWIP_WS_ERR_CLOSED` (the connection has ended),
/// `LWIP_WS_ERR_NOT_CONSTRUCTED`,
/// `LWIP_WS_ERR_UNSUPPORTED` (`NO_SYS` 1 or `LWIP_TCPIP_CORE_LOCKING` 0).
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn WSS_setReadQueue(o: *mut WSS, depth: c_int) -> c_int {
    if !task::supported() {
        return LWIP_WS_ERR_UNSUPPORTED;
    }
    if !(0..=LWIP_WS_READ_QUEUE_MAX).contains(&depth) {
        return LWIP_WS_ERR_ARG;
    }
    // SAFETY: core context (caller contract, checked by wss_conn's assertion).
    unsafe {
        if let Err(code) = wss_conn(o) {
            return code;
        }
        let s = match find_or_make(o) {
            Ok(s) => s,
            Err(code) => return code,
        };
        if (*s).ended {
            return LWIP_WS_ERR_CLOSED;
        }
        (*s).depth = usize::try_from(depth).unwrap_or(0);
    }
    LWIP_WS_OK
}

/// Take the next message of `o`'s receive queue (`WSS_setReadQueue`), waiting up to
/// `timeoutMs` for one: copies it into `buf` (`cap` bytes), sets `*isTxt` (1 text, 0
/// binary; `isTxt` may be NULL) and returns its length. Messages come whole, in the order
/// they arrived; a message is taken by one reader only. After the connection ends, the
/// messages still queued are returned first, then `LWIP_WS_ERR_CLOSED`.
///
/// Context: any task, with `NO_SYS` 0 and `LWIP_TCPIP_CORE_LOCKING` 1 (the call takes the
/// core lock); not an ISR, and not the tcpip thread (there use `frameFp`). Returns the
/// length (≥ 0), `LWIP_WS_ERR_TIMEOUT` (nothing arrived in `timeoutMs`; 0: do not wait),
/// `LWIP_WS_ERR_CLOSED` (ended and nothing left), `LWIP_WS_ERR_BUFFER_TOO_SMALL` (the next
/// message is longer than `cap`; it stays queued), `LWIP_WS_ERR_STATE` (no receive queue:
/// call `WSS_setReadQueue` first), `LWIP_WS_ERR_ARG`, `LWIP_WS_ERR_NOT_CONSTRUCTED`,
/// `LWIP_WS_ERR_UNSUPPORTED`.
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn WSS_read(
    o: *mut WSS,
    buf: *mut c_void,
    cap: c_int,
    isTxt: *mut c_int,
    timeoutMs: u32,
) -> c_int {
    if o.is_null() || cap < 0 || (buf.is_null() && cap > 0) {
        return LWIP_WS_ERR_ARG;
    }
    let Some(mut lock) = CoreLock::take() else {
        return LWIP_WS_ERR_UNSUPPORTED;
    };
    // SAFETY: as in WSS_writeBlocking: core lock held except around the waits.
    unsafe {
        if let Err(code) = wss_conn(o) {
            return code;
        }
        let Some(s) = find(o) else {
            return LWIP_WS_ERR_STATE;
        };
        if (*s).depth == 0 && (*s).queue.is_empty() {
            return LWIP_WS_ERR_STATE;
        }
        (*s).users += 1;
        let start = now_ms();
        let rc;
        // Bounded: each round waits at least one slice or ends the loop.
        loop {
            if (*s).released {
                // WSS_destructor (or a new WSS_constructor) ran while we waited.
                rc = LWIP_WS_ERR_CLOSED;
                break;
            }
            if let Some(front) = (*s).queue.front() {
                let n = front.data.len();
                if n > usize::try_from(cap).unwrap_or(0) {
                    rc = LWIP_WS_ERR_BUFFER_TOO_SMALL;
                    break;
                }
                let Some(msg) = (*s).queue.pop_front() else {
                    rc = LWIP_WS_ERR_STATE;
                    break;
                };
                ptr::copy_nonoverlapping(msg.data.as_ptr(), buf.cast::<u8>(), n);
                if !isTxt.is_null() {
                    *isTxt = c_int::from(msg.text);
                }
                rc = c_int::try_from(n).unwrap_or(c_int::MAX);
                if (*s).paused && !(*s).ended && (*s).queue.len() < (*s).depth.max(1) {
                    (*s).paused = false;
                    // Held data is delivered now, into the queue (or closeFp runs).
                    let _ = WSS_resumeRead(o);
                }
                break;
            }
            if (*s).ended {
                rc = LWIP_WS_ERR_CLOSED;
                break;
            }
            let wait = left(start, timeoutMs);
            if wait == 0 {
                rc = LWIP_WS_ERR_TIMEOUT;
                break;
            }
            lock = match wait_unlocked(lock, &(*s).readable, ptr::addr_of_mut!((*s).readers), wait)
            {
                Some(l) => l,
                None => return LWIP_WS_ERR_UNSUPPORTED, // cannot happen: it was taken before
            };
        }
        leave(s);
        drop(lock);
        rc
    }
}

/// `WSS_close` from any task (takes the core lock): start the close handshake with
/// `status`. Tasks blocked on the connection return `LWIP_WS_ERR_CLOSED` once it ends.
///
/// Context: any task, with `NO_SYS` 0 and `LWIP_TCPIP_CORE_LOCKING` 1; not an ISR.
/// Returns as `WSS_close`, or `LWIP_WS_ERR_CLOSED` (already ended),
/// `LWIP_WS_ERR_UNSUPPORTED`.
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn WSS_closeFromTask(o: *mut WSS, status: c_int) -> c_int {
    if o.is_null() {
        return LWIP_WS_ERR_ARG;
    }
    let Some(lock) = CoreLock::take() else {
        return LWIP_WS_ERR_UNSUPPORTED;
    };
    // SAFETY: core lock held; wss_conn checks the storage.
    let rc = unsafe {
        match find(o) {
            Some(s) if (*s).ended => LWIP_WS_ERR_CLOSED,
            _ => WSS_close(o, status),
        }
    };
    drop(lock);
    rc
}

/// Releases the core lock, waits on `sem` for at most one slice of `wait` ms (counted in
/// `*waiting` meanwhile, so the hooks know to signal), and takes the lock back. `None` only
/// when the lock cannot be taken again.
unsafe fn wait_unlocked(
    lock: CoreLock,
    sem: &Sem,
    waiting: *mut u32,
    wait: u32,
) -> Option<CoreLock> {
    // SAFETY: `waiting` is a counter of a live task-side entry, changed only under the lock.
    unsafe { *waiting += 1 };
    drop(lock);
    sem.wait(wait.min(SLICE_MS));
    let lock = CoreLock::take()?;
    // SAFETY: as above; the lock is held again.
    unsafe { *waiting -= 1 };
    Some(lock)
}

/// The core-context check of the entry points (every `WSS_*` call on a connection through
/// `wss_conn`, the `WSListener_*` calls, the global setters): `LWIP_ASSERT_CORE_LOCKED()`.
pub(crate) fn check_core() {
    if HAS_TASKS {
        assert_core_locked();
    }
}
