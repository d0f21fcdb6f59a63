//! One heap budget shared by every connection of the library.
//!
//! Each connection charges what it holds ([`crate::lwip::conn::Conn::heap_bytes`]) to one
//! running total, and its engine may grow its buffers only within what the budget leaves
//! ([`allowance`]): data that would go past it ends that connection (close 1013), a new
//! WebSocket upgrade while it is spent gets 503, and nothing fails somewhere else. The
//! figures live in atomics so that a task may read them; they change only in lwIP's core
//! context.

use core::sync::atomic::{AtomicUsize, Ordering::Relaxed};

/// The budget in bytes; 0: unlimited (the default).
static LIMIT: AtomicUsize = AtomicUsize::new(0);
/// Bytes charged by every connection now.
static USED: AtomicUsize = AtomicUsize::new(0);

/// Sets the budget (0: unlimited). Connections already over it are not cut: they cannot
/// grow, and give memory back as usual.
pub fn set_limit(bytes: usize) {
    LIMIT.store(bytes, Relaxed);
}

/// The budget (0: unlimited).
pub fn limit() -> usize {
    LIMIT.load(Relaxed)
}

/// Bytes every connection holds now.
pub fn used() -> usize {
    USED.load(Relaxed)
}

/// True when a budget is set and fully spent.
pub fn exhausted() -> bool {
    let limit = limit();
    limit != 0 && used() >= limit
}

/// How much a connection that has `held` bytes charged may hold in all: `usize::MAX`
/// without a budget.
pub fn allowance(held: usize) -> usize {
    match limit() {
        0 => usize::MAX,
        limit => limit.saturating_sub(used().saturating_sub(held)),
    }
}

/// A connection's holding changed from `before` to `after` bytes.
pub fn recharge(before: usize, after: usize) {
    // The atomic add wraps, so adding the wrapped difference also takes away what a
    // connection gave back: one read-modify-write either way, none when nothing changed.
    if after != before {
        USED.fetch_add(after.wrapping_sub(before), Relaxed);
    }
}
