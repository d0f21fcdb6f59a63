//! Timers and memory: timeouts and the keep-alive at each poll, trimming and giving back
//! buffers, the heap limit, and parking an idle engine.

use super::*;

impl Connection {
    /// Report a timeout that has expired at `now_ms` ([`Timeout`]). Reported once; after
    /// it the state is `Closed`. Call it periodically (the lwIP layer does every 0.5 s):
    /// it also runs the keep-alive and manages memory. `mask` is used only in the client
    /// role, for a frame the engine queues by itself here (the keep-alive ping, the 1008
    /// close of [`Timeout::Message`]); pass fresh random bytes.
    ///
    /// Receiving takes no clock: `receive` only notes that bytes arrived, and the next
    /// `poll` takes its `now_ms` as the time of the last receive. The keep-alive and
    /// message timers therefore count from the first poll after the last byte (their
    /// resolution is the poll interval) and never fire early.
    ///
    /// Between polls the buffers keep their capacity, so a steady stream of messages of
    /// any size does not allocate per message. At a poll, a connection that received or
    /// queued something since the previous poll trims its empty buffers back to room for
    /// one `start_size` message; one that moved nothing is idle and gives back every
    /// buffer it does not need (an idle open connection holds no heap at all).
    pub fn poll(&mut self, now_ms: u32, mask: [u8; 4]) -> Option<Timeout> {
        if core::mem::take(&mut self.rx_seen) {
            self.last_rx = now_ms;
            self.pinged = false;
        }
        self.release_delivered();
        if !self.cfg.release_idle {
            self.busy = false;
        } else if core::mem::replace(&mut self.busy, false) {
            self.trim();
        } else {
            self.release_idle();
        }
        let cfg = self.cfg;
        let elapsed = now_ms.wrapping_sub(self.since);
        let idle = now_ms.wrapping_sub(self.last_rx);
        let expired = |limit: u32, time: u32| limit != 0 && time >= limit;
        let in_progress =
            self.frame.is_some() || self.incoming.is_some() || self.header.in_progress();
        let timeout = match self.state {
            State::Connecting if elapsed >= cfg.handshake_timeout_ms => Timeout::Handshake,
            State::Closing if elapsed >= cfg.close_timeout_ms => Timeout::Close,
            State::Open | State::Closing
                if in_progress && expired(cfg.message_timeout_ms, idle) =>
            {
                Timeout::Message
            }
            State::Open if self.pinged && expired(cfg.keepalive_timeout_ms, elapsed) => {
                Timeout::KeepAlive
            }
            State::Open if !self.pinged && expired(cfg.keepalive_idle_ms, idle) => {
                self.keepalive_ping(now_ms, mask);
                return None;
            }
            _ => return None,
        };
        let open = self.state == State::Open;
        self.enter_closed();
        match timeout {
            Timeout::Message if open => {
                let mask = self.client_mask(mask);
                let _ = self.queue_close(POLICY_VIOLATION, b"message timeout", mask);
            }
            Timeout::KeepAlive => {
                self.out = Vec::new();
                self.out_pos = 0;
                self.pong_at = None;
            }
            _ => {}
        }
        Some(timeout)
    }

    /// Queue the keep-alive ping (empty) and start waiting for anything to arrive. When
    /// the queue has no room (or the heap limit none), the next poll tries again.
    pub(super) fn keepalive_ping(&mut self, now_ms: u32, mask: [u8; 4]) {
        let limit = self.cfg.max_queue_bytes.saturating_add(PONG_ALLOWANCE);
        let mask = self.client_mask(mask);
        if self
            .queue_frame(OP_PING, true, [&[], &[]], mask, limit)
            .is_ok()
        {
            self.pinged = true;
            self.since = now_ms;
        }
    }

    /// Give back the buffers that hold nothing needed: the drained send queue, the
    /// message buffer between messages, the head buffer once open (and between control
    /// frames).
    pub(super) fn release_idle(&mut self) {
        if self.out_pos == self.out.len() {
            self.out = Vec::new();
            self.out_pos = 0;
            self.pong_at = None;
        }
        if self.state == State::Connecting {
            return;
        }
        if self.incoming.is_none() && !self.buf_delivered {
            self.buf = Vec::new();
        }
        if !self.frame.is_some_and(|f| f.is_control()) {
            self.head = Vec::new();
        }
    }

    /// Shrink the buffers that hold nothing right now to room for one `start_size`
    /// message (its 0 byte, or its frame header in the send queue): a large message's
    /// memory goes back within one poll interval even on a busy connection, while
    /// messages up to `start_size` never allocate.
    pub(super) fn trim(&mut self) {
        if self.out_pos == self.out.len() {
            self.out.clear();
            self.out_pos = 0;
            self.pong_at = None;
            shrink_empty(
                &mut self.out,
                self.cfg.start_size.saturating_add(MAX_HEADER_LEN),
            );
        }
        if self.state != State::Connecting && self.incoming.is_none() && self.buf.is_empty() {
            shrink_empty(&mut self.buf, self.cfg.start_size.saturating_add(1));
        }
    }

    /// Forget the message delivered by the last `receive`, keeping the buffer's capacity
    /// for the next one (until [`Connection::poll`] trims or releases it).
    pub(super) fn release_delivered(&mut self) {
        if self.buf_delivered {
            self.buf.clear();
            self.buf_delivered = false;
        }
    }

    /// The engine's buffer holding the message just reported by [`Event::Message`] when
    /// that message was reassembled there: its payload followed by the 0 byte, writable.
    /// Borrowing this, rather than reading past the event's `data` slice, keeps access to
    /// the 0 within what the borrow covers (C callers get `data[len] == 0`). `None` when
    /// the last message was delivered in place (or none is waiting). Valid until the next
    /// `receive` or `poll`.
    pub fn delivered_message_mut(&mut self) -> Option<&mut [u8]> {
        self.buf_delivered.then_some(self.buf.as_mut_slice())
    }

    /// Copies `bytes` and a 0 into the message buffer and returns them there, writable:
    /// for a transport that must hand out a terminated copy of a message that
    /// [`Event::Message`] delivered in place. The copy counts as a reassembled message
    /// (see [`Connection::delivered_message_mut`]): valid until the next `receive` or
    /// `poll`, after which the buffer keeps room for one `start_size` message only, so
    /// messages up to `start_size` never allocate. `None` when the buffer holds part of a
    /// message, or when memory runs out.
    pub fn stage_delivered(&mut self, bytes: &[u8]) -> Option<&mut [u8]> {
        if !self.buf.is_empty() && !self.buf_delivered {
            return None;
        }
        self.buf.clear();
        let need = (bytes.len() as u64).saturating_add(1);
        self.reserve_buf(need, need).ok()?;
        self.buf.extend_from_slice(bytes);
        self.buf.extend_from_slice(&[0]);
        self.buf_delivered = true;
        Some(self.buf.as_mut_slice())
    }

    /// Bytes of heap this engine holds right now (buffers' capacities), for memory
    /// accounting.
    pub fn heap_bytes(&self) -> usize {
        self.head.capacity() + self.out.capacity() + self.buf.capacity()
    }

    /// Limit the heap this engine may hold: no buffer grows so that
    /// [`Connection::heap_bytes`] would exceed `limit` (default `usize::MAX`; a lower limit
    /// does not shrink what is held already). A refused growth, unlike an allocator
    /// failure, fails an open connection's receive side with close 1013 ("heap budget"),
    /// refuses a request head with 503 ([`HandshakeError::Unavailable`]; a client's
    /// response head fails with [`ClientHandshakeError::TooLarge`]) and a send with
    /// [`SendError::OutOfMemory`]. For a budget shared by many connections: the transport
    /// gives each its share. Not kept by [`Connection::park`]: set it again after
    /// [`Parked::unpark`].
    pub fn set_heap_limit(&mut self, limit: usize) {
        self.heap_limit = limit;
    }

    /// The largest capacity a buffer now holding `cap` bytes may grow to within the heap
    /// limit. Out of line: four growth paths share it, and it runs only when a buffer
    /// grows.
    #[inline(never)]
    pub(super) fn heap_room(&self, cap: usize) -> usize {
        let others = self.heap_bytes().saturating_sub(cap);
        self.heap_limit.saturating_sub(others)
    }
}

/// Give an empty buffer holding more than `cap` bytes a fresh allocation of `cap` bytes
/// (none if that fails: it grows again when needed). Like `Vec::shrink_to` for an empty
/// buffer, through the allocation path the engine links anyway.
pub(super) fn shrink_empty(buf: &mut Vec<u8>, cap: usize) {
    if buf.capacity() > cap {
        *buf = Vec::new();
        let _ = buf.try_reserve_exact(cap);
    }
}

/// What an open, idle engine must remember, without its buffers and receive state: its
/// configuration, role, whether a fragmented message it sends is unfinished, and when it
/// last received something (for the keep-alive). A transport that keeps many idle
/// connections can hold this instead of the [`Connection`] ([`Connection::park`],
/// [`Parked::unpark`]); [`Parked::due`] tells it when to wake the engine for the
/// keep-alive ping. The heap limit is not kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Parked {
    cfg: Config,
    last_rx: u32,
    role: Role,
    tx_fragment: Option<bool>,
}

impl Parked {
    /// The configuration in force.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// True when the keep-alive ping is due at `now_ms` (`keepalive_idle_ms` without
    /// receiving anything): unpark and [`Connection::poll`], which queues it.
    pub fn due(&self, now_ms: u32) -> bool {
        let idle = self.cfg.keepalive_idle_ms;
        idle != 0 && now_ms.wrapping_sub(self.last_rx) >= idle
    }

    /// The engine again, as it was when parked (state `Open`, the keep-alive counting
    /// from the same last receive; the heap limit back at `usize::MAX`).
    pub fn unpark(self, now_ms: u32) -> Connection {
        let mut conn = Connection::new(self.cfg, self.role, now_ms);
        conn.state = State::Open;
        conn.tx_fragment = self.tx_fragment;
        conn.last_rx = self.last_rx;
        conn
    }
}

impl Connection {
    /// The engine reduced to [`Parked`], when nothing is in progress: open, nothing
    /// received or queued since the last [`Connection::poll`] (which then gave back every
    /// buffer), no frame or message partly received. `None` otherwise, and always with
    /// [`Config::release_idle`] off, and while the keep-alive ping waits for an answer.
    /// Unparking gives an engine that behaves exactly as this one would.
    pub fn park(&self) -> Option<Parked> {
        let idle = self.cfg.release_idle
            && self.state == State::Open
            && !self.busy
            && !self.rx_seen
            && !self.pinged
            && !self.awaiting_decision
            && !self.buf_delivered
            && self.frame.is_none()
            && self.incoming.is_none()
            && !self.header.in_progress()
            && self.queued() == 0
            && self.heap_bytes() == 0;
        idle.then_some(Parked {
            cfg: self.cfg,
            last_rx: self.last_rx,
            role: self.role,
            tx_fragment: self.tx_fragment,
        })
    }
}
