//! The receive side: input split into frames, messages assembled and checked (sizes,
//! UTF-8), control frames answered, failures turned into close frames.

use super::*;

impl Connection {
    /// Feed received bytes. Consumes a prefix of `input` (possibly unmasking it in place)
    /// and returns at most one event. Call again with the rest of the input until it is
    /// all consumed; `consumed == 0` with no event only when `input` is empty or the state
    /// is `Closed` (input after close is ignored: then `consumed == input.len()`).
    /// `mask` is used only in the client role, for frames the engine queues by itself
    /// (pong, close reply); pass fresh random bytes each call.
    ///
    /// A server that gets [`Event::Request`] and calls `receive` again without deciding
    /// accepts the request as [`Connection::accept`]`(None)` would (reporting
    /// [`Event::HandshakeFailed`] if it is not a valid upgrade).
    ///
    /// While `Closing`, data frames are still checked (framing, sizes, UTF-8) but their
    /// payload is discarded: no message events. Pings are reported but not answered.
    pub fn receive<'a>(
        &'a mut self,
        input: &'a mut [u8],
        now_ms: u32,
        mask: [u8; 4],
    ) -> Received<'a> {
        let _ = now_ms;
        self.receive_with(input, &mut || mask)
    }

    /// [`Connection::receive`] with the client's mask key drawn from `mask` only when the
    /// engine queues a frame by itself (a pong or a close reply, client role): a server,
    /// or a client receiving data, never calls it. Input handling needs no clock.
    pub fn receive_with<'a>(
        &'a mut self,
        input: &'a mut [u8],
        mask: &mut dyn FnMut() -> [u8; 4],
    ) -> Received<'a> {
        let (consumed, pending) = self.step(input, mask);
        let this: &'a Connection = self;
        let input: &'a [u8] = input;
        Received {
            consumed,
            event: pending.map(|p| this.materialize(p, input)),
        }
    }

    pub(super) fn materialize<'a>(&'a self, pending: Pending, input: &'a [u8]) -> Event<'a> {
        let bytes = |src: Src| -> &'a [u8] {
            match src {
                Src::Input(r) => input.get(r),
                Src::Buf => self.buf.split_last().map(|(_, data)| data),
                Src::Head(r) => self.head.get(r),
            }
            .unwrap_or_default()
        };
        match pending {
            Pending::Request => Event::Request(Request { head: &self.head }),
            #[cfg(feature = "client-role")]
            Pending::Open(range) => Event::Open {
                protocol: range.and_then(|r| core::str::from_utf8(bytes(Src::Head(r))).ok()),
            },
            Pending::HandshakeFailed(f) => Event::HandshakeFailed(f),
            Pending::Message { text, src } => Event::Message {
                text,
                data: bytes(src),
            },
            Pending::Chunk {
                text,
                range,
                offset,
                frame_len,
                last,
            } => Event::Chunk {
                text,
                data: bytes(Src::Input(range)),
                offset,
                frame_len,
                last,
            },
            Pending::Ping(src) => Event::Ping(bytes(src)),
            Pending::Pong(src) => Event::Pong(bytes(src)),
            Pending::Closed {
                code,
                reason,
                initiator,
            } => Event::Closed {
                code,
                reason: match reason {
                    Ok(src) => core::str::from_utf8(bytes(src)).unwrap_or_default(),
                    Err(s) => s,
                },
                initiator,
            },
        }
    }

    /// The receive path itself: consume a prefix of `input`, maybe complete an event.
    /// Kept out of line: inlined into the transport's receive loop it made the firmware
    /// hundreds of bytes larger, for one call per `receive`.
    #[inline(never)]
    pub(super) fn step(
        &mut self,
        input: &mut [u8],
        mask: &mut dyn FnMut() -> [u8; 4],
    ) -> (usize, Option<Pending>) {
        self.busy = true;
        if !input.is_empty() && self.state != State::Closed {
            self.rx_seen = true;
        }
        if self.awaiting_decision {
            if let Err(e) = self.accept(None) {
                let failure = HandshakeFailure::Server(e);
                return (input.len(), Some(Pending::HandshakeFailed(failure)));
            }
        }
        match (self.state, self.role) {
            (State::Closed, _) => return (input.len(), None),
            (State::Connecting, Role::Server) => return self.read_request(input),
            #[cfg(feature = "client-role")]
            (State::Connecting, Role::Client) => return self.read_response(input),
            #[cfg(not(feature = "client-role"))]
            (State::Connecting, Role::Client) => return (input.len(), None),
            _ => {}
        }
        let in_control = self.frame.is_some_and(|f| f.is_control());
        if self.head.capacity() != 0 && !in_control {
            self.head = Vec::new();
        }
        self.release_delivered();
        if let Some(done) = self.whole_message_in(input) {
            return done;
        }
        let mut pos = 0;
        loop {
            let frame = match self.frame {
                Some(frame) => frame,
                None => {
                    let rest = input.get(pos..).unwrap_or_default();
                    if rest.is_empty() {
                        return (pos, None);
                    }
                    let (used, header) = self.header.feed(rest);
                    pos += used;
                    let Some(frame) = header else {
                        return (pos, None);
                    };
                    if let Err(code) = self.begin_frame(&frame) {
                        return (input.len(), Some(self.fail(code, mask)));
                    }
                    self.frame = Some(frame);
                    self.frame_done = 0;
                    frame
                }
            };
            let remaining = frame.len - self.frame_done;
            let avail = remaining.min(input.len().saturating_sub(pos) as u64) as usize;
            if remaining > 0 && avail == 0 {
                return (pos, None);
            }
            let range = pos..pos + avail;
            let piece = input.get_mut(range.clone()).unwrap_or_default();
            let ascii = match frame.mask {
                Some(key) => unmask_is_ascii(piece, key, self.frame_done),
                None => false,
            };
            let offset = self.frame_done;
            pos += avail;
            self.frame_done += avail as u64;
            let frame_end = self.frame_done == frame.len;
            if frame_end {
                self.frame = None;
            }
            let result = if frame.is_control() {
                self.control_piece(&frame, piece, range, offset, mask)
            } else {
                self.data_piece(&frame, piece, range, offset, ascii)
            };
            match result {
                Ok(None) => {}
                Ok(Some(event)) => return (pos, Some(event)),
                Err(code) => return (input.len(), Some(self.fail(code, mask))),
            }
        }
    }

    /// Fast path for the common case: between messages, `input` starts with one whole,
    /// unfragmented data frame that passes every rule (whole-message mode). Unmasks it in
    /// place and reports it; `None` (nothing changed) for anything else, which the
    /// general path then handles, errors included.
    pub(super) fn whole_message_in(
        &mut self,
        input: &mut [u8],
    ) -> Option<(usize, Option<Pending>)> {
        if self.frame.is_some()
            || self.incoming.is_some()
            || self.header.in_progress()
            || self.cfg.streaming
            || self.state != State::Open
        {
            return None;
        }
        let (frame, header_len) = parse_header(input)?;
        if !frame.fin
            || !matches!(frame.opcode, OP_TEXT | OP_BINARY)
            || frame.check(self.role == Role::Server).is_err()
            || frame.len > self.cfg.max_message
        {
            return None;
        }
        let len = usize::try_from(frame.len).ok()?;
        let end = header_len.checked_add(len)?;
        let piece = input.get_mut(header_len..end)?;
        // Unmasking also tells whether the payload is all ASCII: such text needs no
        // UTF-8 validation.
        let ascii = match frame.mask {
            Some(key) => unmask_is_ascii(piece, key, 0),
            None => false,
        };
        let text = frame.opcode == OP_TEXT;
        if text && !ascii {
            self.utf8.reset();
            if !self.utf8.feed(piece) || !self.utf8.is_complete() {
                // Undo the unmasking: the general path reads the frame again and fails
                // the connection with 1007 itself. Through the unmasking call above (the
                // same XOR; its answer is not needed): an inlined `apply_mask` on this
                // rare path made the server-only firmware larger.
                if let Some(key) = frame.mask {
                    let _ = unmask_is_ascii(piece, key, 0);
                }
                return None;
            }
        }
        Some((
            end,
            Some(Pending::Message {
                text,
                src: Src::Input(header_len..end),
            }),
        ))
    }

    /// Header rules that depend on the connection: role, message sequencing, size.
    pub(super) fn begin_frame(&mut self, frame: &FrameHeader) -> Result<(), u16> {
        frame.check(self.role == Role::Server)?;
        if frame.is_control() {
            return Ok(());
        }
        match (frame.opcode, self.incoming) {
            (OP_CONTINUATION, None) => Err(PROTOCOL_ERROR),
            (OP_CONTINUATION, Some(msg)) => self.check_size(msg.len, frame.len),
            (_, Some(_)) => Err(PROTOCOL_ERROR),
            (opcode, None) => {
                self.check_size(0, frame.len)?;
                self.incoming = Some(Incoming {
                    text: opcode == OP_TEXT,
                    len: 0,
                });
                self.utf8.reset();
                Ok(())
            }
        }
    }

    pub(super) fn check_size(&self, so_far: u64, frame_len: u64) -> Result<(), u16> {
        match so_far.checked_add(frame_len) {
            Some(total) if total <= self.cfg.max_message => Ok(()),
            _ => Err(TOO_BIG),
        }
    }

    /// A piece of a data frame's (unmasked) payload, `offset` bytes into the frame;
    /// `ascii`: the piece is known to be all ASCII (no UTF-8 look needed between code
    /// points).
    pub(super) fn data_piece(
        &mut self,
        frame: &FrameHeader,
        piece: &[u8],
        range: Range<usize>,
        offset: u64,
        ascii: bool,
    ) -> Result<Option<Pending>, u16> {
        let Some(mut msg) = self.incoming else {
            return Err(PROTOCOL_ERROR);
        };
        let frame_end = self.frame.is_none();
        let last = frame_end && frame.fin;
        if msg.text
            && (!((ascii && self.utf8.is_complete()) || self.utf8.feed(piece))
                || (last && !self.utf8.is_complete()))
        {
            return Err(INVALID_DATA);
        }
        let msg_offset = msg.len;
        msg.len += piece.len() as u64;
        self.incoming = if last { None } else { Some(msg) };
        let text = msg.text;
        if self.state != State::Open {
            return Ok(None);
        }
        if self.cfg.streaming {
            if piece.is_empty() && !last {
                return Ok(None);
            }
            let frame_len = frame.len;
            return Ok(Some(Pending::Chunk {
                text,
                range,
                offset: msg_offset,
                frame_len,
                last,
            }));
        }
        if last && offset == 0 && frame.opcode != OP_CONTINUATION {
            // The whole message is in the input: hand it over in place.
            return Ok(Some(Pending::Message {
                text,
                src: Src::Input(range),
            }));
        }
        let received = (self.buf.len() as u64).saturating_add(piece.len() as u64);
        let unread = frame
            .len
            .saturating_sub(offset.saturating_add(piece.len() as u64));
        let frame_needs = received.saturating_add(unread);
        self.reserve_buf(received.saturating_add(1), frame_needs.saturating_add(1))?;
        self.buf.extend_from_slice(piece);
        if !last {
            return Ok(None);
        }
        // The 0 goes in like the payload: `Vec::push` links a growth path of its own.
        self.buf.extend_from_slice(&[0]);
        self.buf_delivered = true;
        Ok(Some(Pending::Message {
            text,
            src: Src::Buf,
        }))
    }

    /// Make the message buffer hold `need` bytes (what has arrived, plus the 0 byte): grow
    /// from `start_size` in steps of `expand_size`, or of a quarter of the current
    /// capacity when that is more (so a large message is copied a bounded number of
    /// times, not once per step), never past `limit` (what the frame being read still
    /// needs, announced but not arrived) unless `start_size` is more, nor past
    /// `max_message + 1`. Memory follows the bytes received, never the bytes claimed.
    pub(super) fn reserve_buf(&mut self, need: u64, limit: u64) -> Result<(), u16> {
        let need = usize::try_from(need).map_err(|_| TOO_BIG)?;
        let cap = self.buf.capacity();
        if cap >= need {
            return Ok(());
        }
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let base = cap.max(self.cfg.start_size);
        let step = self.cfg.expand_size.max(base / 4);
        let target = if base >= need || step == 0 {
            base.max(need)
        } else {
            let steps = (need - base).div_ceil(step);
            steps
                .checked_mul(step)
                .and_then(|grow| grow.checked_add(base))
                .unwrap_or(need)
        };
        let ceiling = usize::try_from(self.cfg.max_message.saturating_add(1)).unwrap_or(usize::MAX);
        let room = self.heap_room(cap);
        if need > room {
            return Err(TRY_AGAIN_LATER);
        }
        let target = target
            .min(limit.max(self.cfg.start_size))
            .min(ceiling)
            .min(room)
            .max(need);
        self.buf
            .try_reserve_exact(target - self.buf.len())
            .map_err(|_| INTERNAL_ERROR)
    }

    /// A piece of a control frame's (unmasked) payload. Out of line: control frames are
    /// rare, and inlined into the receive step it made the firmware larger.
    #[inline(never)]
    pub(super) fn control_piece(
        &mut self,
        frame: &FrameHeader,
        piece: &[u8],
        range: Range<usize>,
        offset: u64,
        mask: &mut dyn FnMut() -> [u8; 4],
    ) -> Result<Option<Pending>, u16> {
        let len = frame.len as usize;
        let src = if offset == 0 && piece.len() == len {
            Src::Input(range)
        } else {
            // In pieces (rare): collect the payload (at most 125 bytes) in `head`.
            if offset == 0 {
                self.head.clear();
                if len > self.heap_room(self.head.capacity()) {
                    return Err(TRY_AGAIN_LATER);
                }
                self.head
                    .try_reserve_exact(len)
                    .map_err(|_| INTERNAL_ERROR)?;
            }
            let room = len.saturating_sub(self.head.len());
            self.head
                .extend_from_slice(piece.get(..room.min(piece.len())).unwrap_or_default());
            if self.frame.is_some() {
                return Ok(None);
            }
            Src::Head(0..len)
        };
        let mut payload = [0u8; MAX_CONTROL_PAYLOAD];
        let payload = match &src {
            Src::Input(_) => piece,
            _ => {
                let dst = payload.get_mut(..len).unwrap_or_default();
                dst.copy_from_slice(self.head.get(..len).unwrap_or_default());
                dst
            }
        };
        match frame.opcode {
            OP_PING => {
                if self.state == State::Open {
                    let client_mask = self.draw_mask(mask);
                    self.queue_pong(payload, client_mask);
                }
                Ok(Some(Pending::Ping(src)))
            }
            OP_PONG => Ok(Some(Pending::Pong(src))),
            _ => {
                let (code, _) = parse_close_payload(payload)?;
                let reason = match &src {
                    Src::Input(r) if r.len() >= 2 => Ok(Src::Input(r.start + 2..r.end)),
                    Src::Head(r) if r.len() >= 2 => Ok(Src::Head(r.start + 2..r.end)),
                    _ => Err(""),
                };
                let initiator = if self.state == State::Open {
                    let client_mask = self.draw_mask(mask);
                    let _ = self.queue_close(code, b"", client_mask);
                    Initiator::Remote
                } else {
                    Initiator::Local
                };
                // Keep the reason, which may lie in `head`, for the event.
                let head = core::mem::take(&mut self.head);
                self.enter_closed();
                self.head = head;
                Ok(Some(Pending::Closed {
                    code,
                    reason,
                    initiator,
                }))
            }
        }
    }

    /// Fail the connection (RFC 6455 §7.1.7): queue our close frame with `code` unless one
    /// was sent already, and report it.
    pub(super) fn fail(&mut self, code: u16, mask: &mut dyn FnMut() -> [u8; 4]) -> Pending {
        let reason = match code {
            INVALID_DATA => "invalid UTF-8",
            TOO_BIG => "message too big",
            INTERNAL_ERROR => "out of memory",
            TRY_AGAIN_LATER => "heap budget",
            _ => "protocol error",
        };
        let open = self.state == State::Open;
        // Receive buffers go first: their memory makes room for the close frame.
        self.enter_closed();
        if open {
            let mask = self.draw_mask(mask);
            let _ = self.queue_close(code, reason.as_bytes(), mask);
        }
        Pending::Closed {
            code,
            reason: Err(reason),
            initiator: Initiator::ProtocolError,
        }
    }
}
