//! Opening handshakes of both roles: building and parsing the HTTP heads, and the
//! server's decision (accept, reject, respond).

use alloc::vec::Vec;

use super::{Connection, HandshakeFailure, Pending, SendError, State};
use crate::proto::http::{
    accept_key, has_byte, measure, parse_request, write_error, write_response, write_response_head,
    write_switching, HandshakeError, HeadStatus, Request, Sink,
};

/// Longest response head [`Connection::respond_static`] builds on the stack (a longer
/// content type goes through the send queue).
const STATIC_HEAD_MAX: usize = 256;

impl Connection {
    /// Append up to the head limit from `input` to the head buffer. Returns how many bytes
    /// were taken and whether a parse is worth trying (a line may have ended, or the
    /// buffer is full). `Err` with the HTTP status to refuse with when memory runs out:
    /// 503 when the heap limit has no room, 500 when the allocator failed.
    pub(super) fn take_head_bytes(&mut self, input: &[u8]) -> Result<(usize, bool), u16> {
        let max = self.cfg.max_header_bytes;
        let have = self.head.len();
        let take = max.saturating_sub(have).min(input.len());
        let chunk = input.get(..take).unwrap_or_default();
        if self.head.capacity() < have + take {
            let room = self.heap_room(self.head.capacity());
            if have + take > room {
                return Err(503);
            }
            // At least `have + take`: neither `max` nor `room` is less.
            let target = (self.head.capacity() * 2)
                .max(have + take)
                .max(256)
                .min(max)
                .min(room);
            self.head
                .try_reserve_exact(target - have)
                .map_err(|_| 500u16)?;
        }
        self.head.extend_from_slice(chunk);
        Ok((take, has_byte(chunk, b'\n') || self.head.len() >= max))
    }

    /// Server, connecting: accumulate and parse the request head.
    pub(super) fn read_request(&mut self, input: &[u8]) -> (usize, Option<Pending>) {
        let before = self.head.len();
        let (take, try_parse) = match self.take_head_bytes(input) {
            Ok(taken) => taken,
            Err(503) => return self.refuse(input.len(), HandshakeError::Unavailable),
            Err(_) => return self.refuse(input.len(), HandshakeError::Rejected(500)),
        };
        if !try_parse {
            return (take, None);
        }
        match parse_request(&self.head) {
            HeadStatus::Complete(n) => {
                self.head.truncate(n);
                self.awaiting_decision = true;
                (n.saturating_sub(before), Some(Pending::Request))
            }
            HeadStatus::Invalid => self.refuse(input.len(), HandshakeError::Malformed),
            HeadStatus::Partial if self.head.len() >= self.cfg.max_header_bytes => {
                self.refuse(input.len(), HandshakeError::HeaderTooLarge)
            }
            HeadStatus::Partial => (take, None),
        }
    }

    /// Server: queue the error response for `error` and close.
    fn refuse(&mut self, consumed: usize, error: HandshakeError) -> (usize, Option<Pending>) {
        self.queue_error(error.status());
        let failure = HandshakeFailure::Server(error);
        (consumed, Some(Pending::HandshakeFailed(failure)))
    }

    pub(super) fn queue_error(&mut self, status: u16) {
        // The head buffer goes first: its memory makes room for the response.
        self.enter_closed();
        let _ = self.queue_http(|s| write_error(s, status), usize::MAX, false);
    }

    /// Server, after [`Event::Request`](super::Event::Request): validate the request as a WebSocket upgrade
    /// (RFC 6455 §4.2.1) and, if valid, queue the 101 with `Sec-WebSocket-Accept` and the
    /// chosen subprotocol (must be one the client offered), then state `Open`. On a failed
    /// validation the HTTP error response is queued, the state becomes `Closed`, and the
    /// error is returned. Frees the request head buffer.
    /// Without a request waiting: `Err(HandshakeError::Malformed)` and nothing changes.
    pub fn accept(&mut self, protocol: Option<&str>) -> Result<(), HandshakeError> {
        if !self.awaiting_decision {
            return Err(HandshakeError::Malformed);
        }
        self.awaiting_decision = false;
        let request = Request { head: &self.head };
        let checked = request.upgrade_key().and_then(|key| match protocol {
            Some(p) if !request.subprotocols().any(|offered| offered == p) => {
                Err(HandshakeError::ProtocolNotOffered)
            }
            _ => Ok(key),
        });
        // The accept value is derived here rather than returned through a `Result`,
        // which cost copies of it.
        let accept = match checked {
            Ok(key) => accept_key(key),
            Err(e) => {
                self.queue_error(e.status());
                return Err(e);
            }
        };
        self.head = Vec::new();
        let written = self.queue_http(|s| write_switching(s, &accept, protocol), usize::MAX, true);
        if written.is_err() {
            // No memory (or no room in the heap limit) for the answer.
            self.queue_error(503);
            return Err(HandshakeError::Unavailable);
        }
        self.state = State::Open;
        Ok(())
    }

    /// Server: the request head waiting for [`Connection::accept`],
    /// [`Connection::reject`] or [`Connection::respond`] (after
    /// [`Event::Request`](super::Event::Request)), if one is waiting.
    pub fn request(&self) -> Option<Request<'_>> {
        self.awaiting_decision
            .then_some(Request { head: &self.head })
    }

    /// Server, after [`Event::Request`](super::Event::Request): queue an HTTP error response with `status` (and
    /// `Connection: close`); state `Closed`. A status outside 100–999 is sent as 500.
    /// Without a request waiting, nothing happens.
    pub fn reject(&mut self, status: u16) {
        if self.awaiting_decision {
            self.queue_error(status);
        }
    }

    /// Server, after [`Event::Request`](super::Event::Request): queue a complete HTTP response with `status`,
    /// `Content-Type: content_type`, `Content-Length` and `Connection: close`, then `body`;
    /// state `Closed`. For serving a small page on the same port.
    /// Errors (nothing queued, request still waiting): [`SendError::NotOpen`] without a
    /// request waiting, [`SendError::TooLarge`] over `max_queue_bytes`, [`SendError::InvalidClose`]
    /// when `content_type` holds CR/LF, [`SendError::OutOfMemory`].
    pub fn respond(
        &mut self,
        status: u16,
        content_type: &str,
        body: &[u8],
    ) -> Result<(), SendError> {
        if !self.awaiting_decision {
            return Err(SendError::NotOpen);
        }
        if content_type.bytes().any(|b| matches!(b, b'\r' | b'\n' | 0)) {
            return Err(SendError::InvalidClose);
        }
        let write = |s: &mut Sink<'_>| write_response(s, status, b"", Some(content_type), body);
        self.queue_http(write, self.cfg.max_queue_bytes, true)?;
        self.enter_closed();
        Ok(())
    }

    /// Server, after [`Event::Request`](super::Event::Request): like
    /// [`Connection::respond`], but `body` is constant data the transport sends without
    /// copying, from [`Connection::pending_static`] once [`Connection::pending`] is empty;
    /// no send-queue limit applies to it. The head is built on the stack and offered whole
    /// to `send_now`, which returns true when the transport took all of it at once
    /// (normally); otherwise it is queued, so a response usually needs no heap at all.
    /// Errors as for [`Connection::respond`] (for the head alone; nothing was sent).
    pub fn respond_static(
        &mut self,
        status: u16,
        content_type: &str,
        body: &'static [u8],
        send_now: impl FnOnce(&[u8]) -> bool,
    ) -> Result<(), SendError> {
        if !self.awaiting_decision {
            return Err(SendError::NotOpen);
        }
        if content_type.bytes().any(|b| matches!(b, b'\r' | b'\n' | 0)) {
            return Err(SendError::InvalidClose);
        }
        let write =
            |s: &mut Sink<'_>| write_response_head(s, status, b"", Some(content_type), body.len());
        let mut head = [0u8; STATIC_HEAD_MAX];
        let sent = match head.get_mut(..measure(write)) {
            Some(dst) => {
                let mut at = 0;
                write(&mut |piece: &[u8]| {
                    if let Some(d) = dst.get_mut(at..at + piece.len()) {
                        d.copy_from_slice(piece);
                    }
                    at += piece.len();
                });
                send_now(dst)
            }
            None => false,
        };
        if !sent {
            self.queue_http(write, usize::MAX, true)?;
        }
        self.out_static = body;
        self.enter_closed();
        Ok(())
    }
}
