//! The send side: whole frames into one bounded, contiguous queue.

use super::{Connection, SendError, State, CLOSE_ALLOWANCE, PONG_ALLOWANCE};
use crate::proto::close::{is_valid_close_code, MAX_REASON, NO_STATUS};
use crate::proto::frame::{
    apply_mask, encode_header, MAX_CONTROL_PAYLOAD, MAX_HEADER_LEN, OP_BINARY, OP_CLOSE,
    OP_CONTINUATION, OP_PING, OP_PONG, OP_TEXT,
};
use crate::proto::http::{measure, Sink};

impl Connection {
    /// Queue a whole message as one frame (text or binary). The client masks it with
    /// `mask` (ignored by the server). Text is sent as given (not validated).
    pub fn send(&mut self, text: bool, payload: &[u8], mask: [u8; 4]) -> Result<(), SendError> {
        let (opcode, fin) = self.data_frame(text, None)?;
        self.queue_data(opcode, fin, payload, mask)
    }

    /// Queue one fragment of a message: the first call of a message gives its kind, later
    /// ones are continuations; `fin` ends the message.
    pub fn send_fragment(
        &mut self,
        text: bool,
        payload: &[u8],
        fin: bool,
        mask: [u8; 4],
    ) -> Result<(), SendError> {
        let (opcode, fin) = self.data_frame(text, Some(fin))?;
        self.queue_data(opcode, fin, payload, mask)?;
        self.data_sent(text, Some(fin));
        Ok(())
    }

    /// Opcode and FIN bit of the data frame that may go out now (RFC 6455 §5.4), for every
    /// send path: a whole message (`fragment: None`) or a fragment (`Some(fin)`; the first
    /// fragment's `text` gives the message's kind, later ones must match).
    fn data_frame(&self, text: bool, fragment: Option<bool>) -> Result<(u8, bool), SendError> {
        if self.state != State::Open {
            return Err(SendError::NotOpen);
        }
        let first = if text { OP_TEXT } else { OP_BINARY };
        match (fragment, self.tx_fragment) {
            (None, None) => Ok((first, true)),
            (Some(fin), None) => Ok((first, fin)),
            (Some(fin), Some(kind)) if kind == text => Ok((OP_CONTINUATION, fin)),
            (None, Some(_)) | (Some(_), Some(_)) => Err(SendError::FragmentState),
        }
    }

    /// A data frame from [`Connection::data_frame`] went out: a fragment leaves its
    /// message open until the final one.
    fn data_sent(&mut self, text: bool, fragment: Option<bool>) {
        if let Some(fin) = fragment {
            self.tx_fragment = (!fin).then_some(text);
        }
    }

    /// Fast path for small messages: when nothing is queued, encode `payload` as one whole
    /// frame (masked in the client role) into `out` and return its length, for a transport
    /// that hands it over at once. `Ok(None)`: the fast path does not apply (output is
    /// queued, which must go first, or `out` is too small); use [`Connection::send`]. The
    /// engine does not change: if the transport cannot take the frame, `send` it instead.
    /// Errors as for `send`.
    pub fn encode_message(
        &self,
        text: bool,
        payload: &[u8],
        mask: [u8; 4],
        out: &mut [u8],
    ) -> Result<Option<usize>, SendError> {
        let (opcode, fin) = self.data_frame(text, None)?;
        if self.queued() != 0 {
            return Ok(None);
        }
        let mask = self.client_mask(mask);
        let (header, header_len) = encode_header(fin, opcode, payload.len() as u64, mask);
        let total = header_len + payload.len();
        if total > self.cfg.max_queue_bytes {
            return Err(SendError::TooLarge);
        }
        let Some(frame) = out.get_mut(..total) else {
            return Ok(None);
        };
        let (head, body) = frame.split_at_mut(header_len);
        head.copy_from_slice(header.get(..header_len).unwrap_or_default());
        body.copy_from_slice(payload);
        if let Some(key) = mask {
            apply_mask(body, key, 0);
        }
        Ok(Some(total))
    }

    /// Zero-copy path for the server role: when nothing is queued, check a data frame of
    /// `len` payload bytes as [`Connection::send`] (`fragment: None`) or
    /// [`Connection::send_fragment`] (`Some(fin)`) would, and return its header, for a
    /// transport that hands over the header and then the caller's payload itself.
    /// `Ok(None)`: the path does not apply (output is queued, which must go first, or the
    /// client role, whose frames are masked copies); queue the frame instead. The engine
    /// does not change until [`Connection::sent_direct`]. Errors as for `send`.
    pub fn direct_header(
        &self,
        text: bool,
        fragment: Option<bool>,
        len: usize,
    ) -> Result<Option<([u8; MAX_HEADER_LEN], usize)>, SendError> {
        let (opcode, fin) = self.data_frame(text, fragment)?;
        if self.queued() != 0 || self.is_client() {
            return Ok(None);
        }
        let header = encode_header(fin, opcode, len as u64, None);
        if len
            .checked_add(header.1)
            .map_or(true, |total| total > self.cfg.max_queue_bytes)
        {
            return Err(SendError::TooLarge);
        }
        Ok(Some(header))
    }

    /// The transport handed over a frame from [`Connection::direct_header`] (same `text`
    /// and `fragment`) except its last `rest` bytes, which go into the send queue now (room
    /// for them can be set aside first with [`Connection::reserve_queue`]).
    /// `Err(OutOfMemory)`: `rest` could not be queued; the frame is cut short and the
    /// connection cannot go on. The engine records the frame as sent either way.
    pub fn sent_direct(
        &mut self,
        text: bool,
        fragment: Option<bool>,
        rest: &[u8],
    ) -> Result<(), SendError> {
        self.busy = true;
        self.data_sent(text, fragment);
        if rest.is_empty() {
            return Ok(());
        }
        self.reserve_queue(rest.len())?;
        self.out.extend_from_slice(rest);
        Ok(())
    }

    /// Set aside room for `n` more queued bytes without queuing anything.
    pub fn reserve_queue(&mut self, n: usize) -> Result<(), SendError> {
        self.make_room(n, usize::MAX, true)
    }

    pub(super) fn queue_data(
        &mut self,
        opcode: u8,
        fin: bool,
        payload: &[u8],
        mask: [u8; 4],
    ) -> Result<(), SendError> {
        let mask = self.client_mask(mask);
        let limit = self.cfg.max_queue_bytes;
        self.queue_frame(opcode, fin, [payload, &[]], mask, limit)
            .map(|_| ())
    }

    /// Queue a ping (payload at most 125 bytes).
    pub fn ping(&mut self, payload: &[u8], mask: [u8; 4]) -> Result<(), SendError> {
        if self.state != State::Open {
            return Err(SendError::NotOpen);
        }
        if payload.len() > MAX_CONTROL_PAYLOAD {
            return Err(SendError::TooLarge);
        }
        self.queue_data(OP_PING, true, payload, mask)
    }

    /// Start the close handshake: queue a close frame with `code` (must be valid to send:
    /// 1000–1003, 1007–1014, 3000–4999) and `reason` (≤ 123 bytes); state `Closing`; the
    /// close timeout starts at `now_ms`. No data frames are accepted after this.
    pub fn close(
        &mut self,
        code: u16,
        reason: &str,
        mask: [u8; 4],
        now_ms: u32,
    ) -> Result<(), SendError> {
        if self.state != State::Open {
            return Err(SendError::NotOpen);
        }
        if !is_valid_close_code(code) || reason.len() > MAX_REASON {
            return Err(SendError::InvalidClose);
        }
        let mask = self.client_mask(mask);
        self.queue_close(code, reason.as_bytes(), mask)?;
        self.state = State::Closing;
        self.since = now_ms;
        self.tx_fragment = None;
        Ok(())
    }

    /// True between a non-final fragment and the final one of a message we send
    /// ([`Connection::send_fragment`]): more of the message will be queued.
    pub fn is_sending_fragmented(&self) -> bool {
        self.tx_fragment.is_some()
    }

    /// The queued output bytes not yet handed to the transport (contiguous).
    pub fn pending(&self) -> &[u8] {
        self.out.get(self.out_pos..).unwrap_or_default()
    }

    /// The transport took the first `n` bytes of [`Connection::pending`].
    pub fn advance(&mut self, n: usize) {
        self.out_pos = self.out_pos.saturating_add(n).min(self.out.len());
        if self.out_pos == self.out.len() {
            // Drained: keep the capacity for the next frames (`poll` trims it).
            self.out.clear();
            self.out_pos = 0;
            self.pong_at = None;
        } else if self.pong_at.is_some_and(|at| at < self.out_pos) {
            self.pong_at = None;
        }
    }

    /// Bytes not yet taken by the transport: the send queue (`pending().len()`) and the
    /// rest of a constant response body ([`Connection::pending_static`]).
    pub fn queued(&self) -> usize {
        (self.out.len() - self.out_pos).saturating_add(self.out_static.len())
    }

    /// What the transport sends after [`Connection::pending`] is empty, without copying:
    /// the rest of the body given to [`Connection::respond_static`] (empty otherwise).
    pub fn pending_static(&self) -> &'static [u8] {
        if self.out_pos == self.out.len() {
            self.out_static
        } else {
            &[]
        }
    }

    /// The transport took the first `n` bytes of [`Connection::pending_static`].
    pub fn advance_static(&mut self, n: usize) {
        self.out_static = self.out_static.get(n..).unwrap_or_default();
    }

    /// Answer a ping with its own pong, after any earlier ones, while the queue stays
    /// within `max_queue_bytes` + one pong. Only when it would not fit is an unsent pong
    /// still at the end of the queue replaced (RFC 6455 §5.5.3 allows answering only the
    /// latest ping), so pongs stay bounded. Skipped if even that does not fit.
    pub(super) fn queue_pong(&mut self, payload: &[u8], mask: Option<[u8; 4]>) {
        let limit = self.cfg.max_queue_bytes.saturating_add(PONG_ALLOWANCE);
        let body = [payload, &[]];
        if let Ok(at) = self.queue_frame(OP_PONG, true, body, mask, limit) {
            self.pong_at = Some(at);
            return;
        }
        if let Some(at) = self.pong_at.take() {
            self.out.truncate(at);
            if let Ok(at) = self.queue_frame(OP_PONG, true, body, mask, limit) {
                self.pong_at = Some(at);
            }
        }
    }

    /// Queue our close frame with `code` (none for 1005, "no status") and `reason`; it
    /// may exceed `max_queue_bytes` by the close allowance.
    pub(super) fn queue_close(
        &mut self,
        code: u16,
        reason: &[u8],
        mask: Option<[u8; 4]>,
    ) -> Result<usize, SendError> {
        let code_bytes = code.to_be_bytes();
        let code: &[u8] = if code == NO_STATUS { &[] } else { &code_bytes };
        let limit = self.cfg.max_queue_bytes.saturating_add(CLOSE_ALLOWANCE);
        self.queue_frame(OP_CLOSE, true, [code, reason], mask, limit)
    }

    /// Queue one whole frame whose payload is `parts` concatenated, if the queue stays
    /// within `limit` bytes. Returns where the frame starts in `out`.
    pub(super) fn queue_frame(
        &mut self,
        opcode: u8,
        fin: bool,
        parts: [&[u8]; 2],
        mask: Option<[u8; 4]>,
        limit: usize,
    ) -> Result<usize, SendError> {
        let [first, second] = parts;
        let len = first
            .len()
            .checked_add(second.len())
            .ok_or(SendError::TooLarge)?;
        let (header, header_len) = encode_header(fin, opcode, len as u64, mask);
        let total = len.checked_add(header_len).ok_or(SendError::TooLarge)?;
        // A close frame (at most 131 bytes, once per connection) goes out even when the
        // heap limit is reached, so that a connection ended for the budget still says why
        // (1013). Pongs are budgeted: under the limit a pong that does not fit replaces
        // the unsent one before it, or is skipped.
        let budgeted = opcode != OP_CLOSE;
        self.make_room(total, limit, budgeted)?;
        let start = self.out.len();
        self.out
            .extend_from_slice(header.get(..header_len).unwrap_or_default());
        self.out.extend_from_slice(first);
        self.out.extend_from_slice(second);
        if let (Some(key), Some(body)) = (mask, self.out.get_mut(start + header_len..)) {
            apply_mask(body, key, 0);
        }
        self.pong_at = None;
        Ok(start)
    }

    /// Queue HTTP bytes produced by `write` (all or nothing).
    /// `budgeted`: the heap limit applies (the 101, pages, requests); error responses are
    /// small, end the connection, and must go out even when it is reached.
    pub(super) fn queue_http(
        &mut self,
        write: impl Fn(&mut Sink<'_>),
        limit: usize,
        budgeted: bool,
    ) -> Result<(), SendError> {
        let total = measure(&write);
        self.make_room(total, limit, budgeted)?;
        write(&mut |piece: &[u8]| self.out.extend_from_slice(piece));
        Ok(())
    }

    /// Check that `n` more bytes keep the queue within `limit` and reserve them
    /// (compacting first rather than growing when the front has been sent); with
    /// `budgeted`, growth also stays within the heap limit.
    pub(super) fn make_room(
        &mut self,
        n: usize,
        limit: usize,
        budgeted: bool,
    ) -> Result<(), SendError> {
        self.busy = true;
        if n > limit {
            return Err(SendError::TooLarge);
        }
        if self
            .queued()
            .checked_add(n)
            .map_or(true, |total| total > limit)
        {
            return Err(SendError::WouldBlock);
        }
        if self.out.capacity() - self.out.len() < n && self.out_pos > 0 {
            self.out.copy_within(self.out_pos.., 0);
            self.out.truncate(self.out.len() - self.out_pos);
            self.pong_at = self.pong_at.and_then(|at| at.checked_sub(self.out_pos));
            self.out_pos = 0;
        }
        let need = self.out.len().saturating_add(n);
        let cap = self.out.capacity();
        if cap >= need {
            return Ok(());
        }
        let room = self.heap_room(cap);
        if budgeted && need > room {
            return Err(SendError::OutOfMemory);
        }
        // Amortized doubling, as `Vec::try_reserve` would, within the heap limit; an
        // exempt reply beyond it takes exactly the bytes it needs.
        let target = need.max(cap.saturating_mul(2).min(room));
        self.out
            .try_reserve_exact(target - self.out.len())
            .map_err(|_| SendError::OutOfMemory)
    }
}
