//! The client role (feature `client-role`): the upgrade request and the check of the
//! server's response. A server-only build leaves all of it out.

use alloc::vec::Vec;

use super::{Connection, HandshakeFailure, Pending, Role, SendError, State};
use crate::proto::http::{
    self, check_response, client_key, parse_response, write_request, ClientHandshakeError,
    ClientRequest, HeadStatus,
};
use crate::proto::Config;

/// Bytes of a client handshake record before the offered subprotocols: the expected
/// `Sec-WebSocket-Accept`.
const ACCEPT_LEN: usize = 28;

impl Connection {
    /// A client engine: queues the upgrade request built from `req` with the key made of
    /// `nonce` (16 caller-supplied random bytes), then waits for the 101.
    /// Errors: [`SendError::InvalidClose`] when `req` is not [`crate::proto::http::ClientRequest::is_valid`],
    /// [`SendError::TooLarge`] when the request exceeds `max_queue_bytes`,
    /// [`SendError::OutOfMemory`].
    pub fn client(
        cfg: Config,
        req: &ClientRequest<'_>,
        nonce: [u8; 16],
        now_ms: u32,
    ) -> Result<Connection, SendError> {
        if !req.is_valid() {
            return Err(SendError::InvalidClose);
        }
        let mut conn = Connection::new(cfg, Role::Client, now_ms);
        let key = client_key(&nonce);
        let offered_len: usize = req.protocols.iter().map(|p| p.len() + 1).sum();
        conn.buf
            .try_reserve_exact(ACCEPT_LEN + offered_len)
            .map_err(|_| SendError::OutOfMemory)?;
        conn.buf.extend_from_slice(&http::accept_key(&key));
        for p in req.protocols {
            conn.buf.extend_from_slice(p.as_bytes());
            conn.buf.extend_from_slice(b",");
        }
        conn.queue_http(|s| write_request(s, req, &key), cfg.max_queue_bytes, true)?;
        Ok(conn)
    }

    /// Client, connecting: accumulate and check the response head.
    pub(super) fn read_response(&mut self, input: &[u8]) -> (usize, Option<Pending>) {
        let before = self.head.len();
        let failed = |conn: &mut Connection, e: ClientHandshakeError| {
            conn.enter_closed();
            let failure = HandshakeFailure::Client(e);
            (input.len(), Some(Pending::HandshakeFailed(failure)))
        };
        let Ok((take, try_parse)) = self.take_head_bytes(input) else {
            // Out of memory (allocator or heap limit): the head cannot be held.
            return failed(self, ClientHandshakeError::TooLarge);
        };
        if !try_parse {
            return (take, None);
        }
        match parse_response(&self.head) {
            (HeadStatus::Complete(n), status) => {
                self.head.truncate(n);
                let (accept, offered) = self.buf.split_at(ACCEPT_LEN.min(self.buf.len()));
                let accept: [u8; ACCEPT_LEN] = accept.try_into().unwrap_or([0; ACCEPT_LEN]);
                match check_response(&self.head, status, &accept, offered) {
                    Ok(protocol) => {
                        self.state = State::Open;
                        self.buf = Vec::new();
                        (n.saturating_sub(before), Some(Pending::Open(protocol)))
                    }
                    Err(e) => failed(self, e),
                }
            }
            (HeadStatus::Invalid, _) => failed(self, ClientHandshakeError::Malformed),
            (HeadStatus::Partial, _) if self.head.len() >= self.cfg.max_header_bytes => {
                failed(self, ClientHandshakeError::TooLarge)
            }
            (HeadStatus::Partial, _) => (take, None),
        }
    }
}
