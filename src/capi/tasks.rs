//! The connection side of the task calls (`NO_SYS` 0): the per-connection state that
//! tasks wait on, the receive queue, and the hooks through which the connection's events
//! (room in the send queue, a message or a piece, the end) reach it. The task entry points
//! are in `task_side.rs`.
//!
//! Everything here runs in lwIP's core context: the tcpip thread (the hooks, and the
//! task calls' work posted there with `LWIP_TCPIP_CORE_LOCKING` 0) or a task holding the
//! core lock (the task calls with `LWIP_TCPIP_CORE_LOCKING` 1). Waiting happens outside
//! it, on a semaphore that the hooks signal.
//!
//! Task-side state (two semaphores, the receive queue) lives on the heap in a table keyed
//! by the `WSS` address, made on first use: `WSS` storage does not grow. It goes away in
//! `WSS_destructor` (or a new `WSS_constructor` on the same storage), or, when a task is
//! still inside a call then, when that task leaves the call (`users`). Lifetimes: the
//! `WSS` belongs to the application and stays valid until the application calls
//! `WSS_destructor`; after `closeFp` every task call on it returns `LWIP_WS_ERR_CLOSED`
//! until then, so a task writing to a connection the peer just closed gets that code and
//! never reaches another connection that reuses the storage (that needs
//! `WSS_constructor` again, which starts fresh task-side state; a task still waiting
//! then sees `released` and returns `LWIP_WS_ERR_CLOSED` without touching the `WSS`).

// `--cfg lwipws_no_tasks` leaves the exported task calls out; their helpers stay.
#![cfg_attr(lwipws_no_tasks, allow(dead_code, unused_imports))]

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::vec::Vec;
use core::cell::UnsafeCell;
use core::ffi::c_int;

use super::{
    wss_conn, WSS_pauseRead, LWIP_WS_ERR_ARG, LWIP_WS_ERR_CLOSED, LWIP_WS_ERR_NO_MEM,
    LWIP_WS_ERR_UNSUPPORTED, LWIP_WS_OK, WSS,
};
use crate::lwip::conn::Piece;
use crate::lwip::task::{self, assert_core_locked, Sem, HAS_TASKS};
use crate::proto::State;

/// Most entries a receive queue may hold (`WSS_setReadQueue`).
pub const LWIP_WS_READ_QUEUE_MAX: c_int = 1024;

/// One received message, or one piece of a message in streaming mode, waiting for
/// `WSS_read`/`WSS_readPiece`.
pub(super) struct Entry {
    pub(super) data: Vec<u8>,
    /// Bytes of `data` already handed out by `WSS_readPiece`.
    pub(super) taken: usize,
    /// Offset of `data[0]` within its message.
    pub(super) offset: u64,
    pub(super) text: bool,
    /// `data` ends its message.
    pub(super) last: bool,
}

impl Entry {
    /// A whole message, untouched: what `WSS_read` takes.
    pub(super) fn whole(&self) -> bool {
        self.offset == 0 && self.last && self.taken == 0
    }
}

/// What tasks need of one connection.
pub(super) struct TaskSide {
    pub(super) wss: *mut WSS,
    /// Tasks inside a call on this connection (they hold a pointer to this).
    pub(super) users: u32,
    /// Out of the table (`WSS_destructor`): the last user frees it.
    pub(super) released: bool,
    /// The connection ended (`closeFp` ran).
    pub(super) ended: bool,
    pub(super) writers: u32,
    pub(super) readers: u32,
    pub(super) writable: Sem,
    pub(super) readable: Sem,
    /// Receive queue limit in entries; 0: messages go to `frameFp`/`chunkFp`.
    pub(super) depth: usize,
    pub(super) queue: VecDeque<Entry>,
    /// Reading was paused because the queue was full.
    pub(super) paused: bool,
}

struct Table(UnsafeCell<Vec<*mut TaskSide>>);

// SAFETY: the table is only touched in lwIP's core context (one task at a time).
unsafe impl Sync for Table {}

static TABLE: Table = Table(UnsafeCell::new(Vec::new()));

/// The table. Core context; no other borrow of it alive.
unsafe fn table() -> &'static mut Vec<*mut TaskSide> {
    // SAFETY: the caller is in core context and keeps no other reference.
    unsafe { &mut *TABLE.0.get() }
}

/// The task-side state of `wss`, if any. Core context.
pub(super) unsafe fn find(wss: *mut WSS) -> Option<*mut TaskSide> {
    if !HAS_TASKS {
        return None;
    }
    // SAFETY: core context (caller); entries are live boxes.
    unsafe { table().iter().copied().find(|&s| (*s).wss == wss) }
}

/// The task-side state of `wss`, made when missing. Core context.
pub(super) unsafe fn find_or_make(wss: *mut WSS) -> Result<*mut TaskSide, c_int> {
    // SAFETY: core context (caller).
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
    // SAFETY: core context (caller).
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
/// after the entries still queued). Core context.
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
    // SAFETY: core context; `data[..len]` is the message (hook contract).
    unsafe { enqueue(wss, data, len, text, 0, true) }
}

/// The streaming-mode piece hook: true when the piece went to the receive queue
/// (`chunkFp` is then not called); as `on_message` otherwise.
pub(crate) unsafe fn on_piece(wss: *mut WSS, piece: &Piece) -> bool {
    // SAFETY: core context; `piece.data[..piece.len]` is the piece (hook contract).
    unsafe {
        enqueue(
            wss,
            piece.data,
            piece.len,
            piece.text,
            piece.offset,
            piece.last,
        )
    }
}

/// Copies received bytes into `wss`'s receive queue, pausing reading once it holds
/// `depth` entries. False when there is no queue or no memory for the copy.
unsafe fn enqueue(
    wss: *mut WSS,
    data: *const u8,
    len: usize,
    text: bool,
    offset: u64,
    last: bool,
) -> bool {
    // SAFETY: core context; the entry is live; `data[..len]` is readable (callers).
    unsafe {
        let Some(s) = find(wss) else { return false };
        if (*s).depth == 0 {
            return false;
        }
        let mut copy = Vec::new();
        if copy.try_reserve_exact(len).is_err() || (*s).queue.try_reserve(1).is_err() {
            return false;
        }
        if len > 0 {
            copy.extend_from_slice(core::slice::from_raw_parts(data, len));
        }
        (*s).queue.push_back(Entry {
            data: copy,
            taken: 0,
            offset,
            text,
            last,
        });
        if (*s).queue.len() >= (*s).depth && !(*s).paused {
            // Full: lwIP's window closes until a read makes room (nothing is dropped).
            (*s).paused = WSS_pauseRead(wss) == LWIP_WS_OK;
        }
        if (*s).readers > 0 {
            (*s).readable.signal();
        }
        true
    }
}

/// True when `wss`'s connection is past its open state for good (closing, closed, or
/// ended), so a refused write will never succeed. Core context.
pub(super) unsafe fn over(wss: *mut WSS, s: *mut TaskSide) -> bool {
    // SAFETY: core context; `s` is live; wss_conn checks the storage.
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
/// last user this was. Core context.
pub(super) unsafe fn leave(s: *mut TaskSide) {
    // SAFETY: core context; `s` is live until freed here.
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

/// Turn on the task-side receive queue of `o` (for `WSS_read` and `WSS_readPiece`): from
/// now on each complete message (in streaming mode, `WSS_setStreaming`, each piece as it
/// arrives) is copied into a queue of at most `depth` entries
/// (1..`LWIP_WS_READ_QUEUE_MAX`) instead of going to `frameFp` (`chunkFp`). When the
/// queue is full, reading pauses (as `WSS_pauseRead`: lwIP's window closes, the peer
/// waits) until a read takes an entry, so nothing is dropped. The queue holds at most
/// `depth` messages of up to `WSS_setMaxMessage` bytes each, or in streaming mode
/// `depth` pieces of at most one received pbuf each: a 1 MiB message then needs no
/// 1 MiB buffer anywhere. When the heap has no room for a copy, that message (piece) goes
/// to `frameFp` (`chunkFp`) instead. Call it right after the connection starts (e.g.
/// after `WSS_upgrade` in the request callback) so that no message reaches `frameFp`
/// first. `depth` 0 turns the queue off (entries still queued stay readable).
///
/// Context: lwIP core only (the tcpip thread, e.g. the request callback, or a task holding
/// `LOCK_TCPIP_CORE()`); `NO_SYS` 0, either value of `LWIP_TCPIP_CORE_LOCKING`. Returns
/// `LWIP_WS_OK`, `LWIP_WS_ERR_ARG`, `LWIP_WS_ERR_NO_MEM`, `LWIP_WS_ERR_CLOSED` (the
/// connection has ended), `LWIP_WS_ERR_NOT_CONSTRUCTED`, `LWIP_WS_ERR_UNSUPPORTED`
/// (`NO_SYS` 1).
#[cfg(not(lwipws_no_tasks))]
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

/// The core-context check of the entry points (every `WSS_*` call on a connection through
/// `wss_conn`, the `WSListener_*` calls, the global setters): `LWIP_ASSERT_CORE_LOCKED()`.
pub(crate) fn check_core() {
    if HAS_TASKS {
        assert_core_locked();
    }
}
