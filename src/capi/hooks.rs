//! The lwIP layer's hooks of a connection living in a `WSS`: each calls the matching
//! member of the application's `WSSCB` (after the task-side calls had their turn).

use core::ffi::{c_char, c_int};

use super::{c_len, close_status, tasks, WSS, WSSCB};
use crate::lwip::conn::{self, Conn, Ending, Hooks};

pub(super) static WSS_HOOKS: Hooks = Hooks {
    open: hook_open,
    message: hook_message,
    ping: hook_ping,
    pong: hook_pong,
    chunk: hook_chunk,
    writable: hook_writable,
    request: None,
    closed: hook_closed,
};

/// The callbacks and the `WSS*` for a connection living in a `WSS`.
unsafe fn parts(c: *mut Conn) -> (*mut WSSCB, *mut WSS) {
    // SAFETY: WSS hooks only fire for Conns inside WSS storage, whose user is the WSSCB.
    unsafe { ((*c).user.cast(), c.cast()) }
}

unsafe fn hook_open(c: *mut Conn, protocol: *const c_char) {
    // SAFETY: see `parts`; the WSSCB outlives its connections (documented).
    unsafe {
        let (cb, wss) = parts(c);
        if let Some(f) = (*cb).openFp {
            f(cb, wss, protocol);
        }
    }
}

unsafe fn hook_message(c: *mut Conn, data: *mut u8, len: usize, text: bool) {
    // SAFETY: as in hook_open.
    unsafe {
        let (cb, wss) = parts(c);
        if tasks::on_message(wss, data, len, text) {
            return;
        }
        if let Some(f) = (*cb).frameFp {
            f(cb, wss, data.cast(), c_len(len), c_int::from(text));
        }
    }
}

unsafe fn hook_ping(c: *mut Conn, data: *mut u8, len: usize) {
    // SAFETY: forwarded.
    unsafe { control_frame(c, data, len, false) }
}

unsafe fn hook_pong(c: *mut Conn, data: *mut u8, len: usize) {
    // SAFETY: forwarded.
    unsafe { control_frame(c, data, len, true) }
}

/// `pingFp` or `pongFp` (one body for both hooks, which differ only in the member).
#[inline(never)]
unsafe fn control_frame(c: *mut Conn, data: *mut u8, len: usize, pong: bool) {
    // SAFETY: as in hook_open.
    unsafe {
        let (cb, wss) = parts(c);
        let f = if pong { (*cb).pongFp } else { (*cb).pingFp };
        if let Some(f) = f {
            f(cb, wss, data.cast(), c_len(len));
        }
    }
}

unsafe fn hook_chunk(c: *mut Conn, piece: conn::Piece) {
    // SAFETY: as in hook_open.
    unsafe {
        let (cb, wss) = parts(c);
        if tasks::on_piece(wss, &piece) {
            return;
        }
        if let Some(f) = (*cb).chunkFp {
            let text = c_int::from(piece.text);
            let last = c_int::from(piece.last);
            f(
                cb,
                wss,
                piece.data.cast(),
                c_len(piece.len),
                text,
                piece.offset,
                last,
            );
        }
    }
}

unsafe fn hook_writable(c: *mut Conn) {
    // SAFETY: as in hook_open.
    unsafe {
        let (cb, wss) = parts(c);
        tasks::on_writable(wss);
        if let Some(f) = (*cb).writableFp {
            f(cb, wss);
        }
    }
}

unsafe fn hook_closed(c: *mut Conn, ending: Ending) {
    // SAFETY: as in hook_open; this is the last thing done with the storage.
    unsafe {
        let (cb, wss) = parts(c);
        tasks::on_closed(wss);
        if let Some(f) = (*cb).closeFp {
            f(cb, wss, close_status(ending));
        }
    }
}
