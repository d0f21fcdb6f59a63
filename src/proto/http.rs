//! HTTP/1.1 upgrade handshakes (RFC 6455 §4): incremental request/response head parsing
//! with `httparse`, validation, the accept key, and response/request writers.
//!
//! Heads are checked once by `httparse` (syntax, NUL bytes, obsolete line folding, at most
//! [`MAX_HEADERS`] headers); the accessors then walk the checked bytes again, so a
//! [`Request`] is just a slice and needs no header array.

use base64::Engine as _;
use core::ops::Range;
use sha1::{Digest, Sha1};

/// Most header lines accepted in a request or response head (more → malformed).
pub const MAX_HEADERS: usize = 32;

/// The GUID of RFC 6455 §1.3, appended to the key before hashing.
const GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// Server-side handshake failures. Each maps to one HTTP status ([`HandshakeError::status`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HandshakeError {
    /// The head is larger than `max_header_bytes` → 431.
    HeaderTooLarge,
    /// Not parseable as HTTP/1.x (bad syntax, NUL bytes, obsolete line folding, too many
    /// headers) → 400.
    Malformed,
    /// Method is not GET → 405 (with `Allow: GET`).
    MethodNotAllowed,
    /// HTTP version below 1.1 → 400.
    HttpVersion,
    /// No `Host` header → 400.
    MissingHost,
    /// `Upgrade` lacks the token `websocket` → 400.
    NotUpgrade,
    /// `Connection` lacks the token `Upgrade` → 400.
    NotConnectionUpgrade,
    /// `Sec-WebSocket-Key` missing, not base64, or not 16 bytes → 400.
    BadKey,
    /// `Sec-WebSocket-Version` is not 13 → 426 with `Sec-WebSocket-Version: 13`.
    BadVersion,
    /// The chosen subprotocol was not offered by the client → 500 (application error).
    ProtocolNotOffered,
    /// `Host`, `Sec-WebSocket-Key` or `Sec-WebSocket-Version` appears more than once
    /// → 400.
    DuplicateHeader,
    /// A `Transfer-Encoding` header, or a `Content-Length` other than 0: the upgrade
    /// request may not have a body (RFC 6455 §4.2.1, RFC 9112 §6.3) → 400.
    BodyNotAllowed,
    /// The `Origin` is not allowed ([`Request::origin_allowed`]) → 403. The engine never
    /// decides this by itself: the application checks and calls `reject(403)`.
    OriginNotAllowed,
    /// The heap allowance ([`crate::proto::Connection::set_heap_limit`]) had no room for
    /// the request head → 503.
    Unavailable,
    /// The application rejected the request with this status.
    Rejected(u16),
}

impl HandshakeError {
    /// The HTTP status code sent for this failure.
    pub fn status(&self) -> u16 {
        match *self {
            HandshakeError::HeaderTooLarge => 431,
            HandshakeError::MethodNotAllowed => 405,
            HandshakeError::BadVersion => 426,
            HandshakeError::ProtocolNotOffered => 500,
            HandshakeError::Unavailable => 503,
            HandshakeError::OriginNotAllowed => 403,
            HandshakeError::Rejected(s) => s,
            _ => 400,
        }
    }
}

/// Client-side handshake failures (the server's response was not acceptable).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientHandshakeError {
    /// The response head is larger than `max_header_bytes`.
    TooLarge,
    /// Not parseable as an HTTP/1.x response.
    Malformed,
    /// The status was not 101 (the status is given).
    Status(u16),
    /// `Upgrade` lacks the token `websocket`.
    NotUpgrade,
    /// `Connection` lacks the token `Upgrade`.
    NotConnectionUpgrade,
    /// `Sec-WebSocket-Accept` missing or not the value for our key.
    BadAccept,
    /// The server selected a subprotocol we did not offer (or several).
    ProtocolNotOffered,
    /// The server selected an extension we did not ask for.
    UnexpectedExtension,
}

/// A parsed request head (borrowed from the engine's head buffer).
#[derive(Debug, PartialEq, Eq)]
pub struct Request<'a> {
    /// The head bytes (request line + headers + blank line); accessors parse from these.
    pub(crate) head: &'a [u8],
}

impl<'a> Request<'a> {
    /// Wrap a head that [`parse_request`] reported complete (for tests and tools).
    pub fn from_head(head: &'a [u8]) -> Request<'a> {
        Request { head }
    }
    /// The method, e.g. `GET`.
    pub fn method(&self) -> &'a str {
        start_word(self.head, 0)
    }
    /// The request target as sent (path and query).
    pub fn target(&self) -> &'a str {
        start_word(self.head, 1)
    }
    /// The path without the query, e.g. `/ws`.
    pub fn path(&self) -> &'a str {
        let target = self.target();
        query_start(target)
            .and_then(|q| target.get(..q))
            .unwrap_or(target)
    }
    /// The query after `?`, without the `?`, if any.
    pub fn query(&self) -> Option<&'a str> {
        let target = self.target();
        query_start(target).and_then(|q| target.get(q + 1..))
    }
    /// The value of the first header named `name` (ASCII case-insensitive).
    pub fn header(&self, name: &str) -> Option<&'a [u8]> {
        header_lines(self.head)
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }
    /// All headers in order.
    pub fn headers(&self) -> impl Iterator<Item = (&'a str, &'a [u8])> + 'a {
        header_lines(self.head)
    }
    /// Offered subprotocols from every `Sec-WebSocket-Protocol` header, comma-split and
    /// trimmed, in order.
    pub fn subprotocols(&self) -> impl Iterator<Item = &'a str> + 'a {
        Subprotocols {
            lines: header_lines(self.head),
            items: ListItems { rest: None },
        }
    }
    /// True when `Upgrade` contains the token `websocket` (for routing page vs socket).
    pub fn is_websocket(&self) -> bool {
        has_token(self.head, "upgrade", "websocket")
    }
    /// Whether a browser page from this request's `Origin` may open the socket (RFC 6455
    /// §10.2). `allowed` lists origins separated by commas and/or spaces, e.g.
    /// `b"https://app.example.com, http://192.168.1.5:8080"`; `*` allows any origin.
    /// True when: there is no `Origin` header (non-browser clients send none); the
    /// origin is this server's own, `http://` or `https://` followed by the `Host` header
    /// as sent (port included); or it equals an entry of `allowed`. Comparisons are ASCII
    /// case-insensitive and exact (no trailing-slash or default-port equivalence).
    /// `Origin: null` is allowed only by `*`; two `Origin` headers never are. The engine
    /// does not call this itself: a refused request is answered with `reject(403)`
    /// ([`HandshakeError::OriginNotAllowed`]).
    pub fn origin_allowed(&self, allowed: &[u8]) -> bool {
        // One pass: the `Origin` and `Host` values, `None` when a header comes twice.
        let mut origin = None;
        let mut host = None;
        for (name, value) in header_lines(self.head) {
            let seen = if name.eq_ignore_ascii_case("origin") {
                &mut origin
            } else if name.eq_ignore_ascii_case("host") {
                &mut host
            } else {
                continue;
            };
            *seen = Some(if seen.is_some() { None } else { Some(value) });
        }
        let origin = match origin {
            None => return true,
            Some(None) => return false,
            Some(Some(origin)) => origin,
        };
        let host = host.flatten();
        origin_permitted(origin, host.unwrap_or_default(), allowed)
    }

    /// Full RFC 6455 §4.2.1 validation; on success the `Sec-WebSocket-Accept` value.
    /// Strict: `Host`, `Sec-WebSocket-Key` and `Sec-WebSocket-Version` must appear once
    /// ([`HandshakeError::DuplicateHeader`]), and no body may be announced
    /// ([`HandshakeError::BodyNotAllowed`]: `Transfer-Encoding`, or a `Content-Length`
    /// other than 0).
    pub fn validate(&self) -> Result<[u8; 28], HandshakeError> {
        self.upgrade_key().map(accept_key)
    }

    /// [`Request::validate`] up to the accept value: the `Sec-WebSocket-Key` to derive it
    /// from.
    pub(crate) fn upgrade_key(&self) -> Result<&'a [u8], HandshakeError> {
        if self.method() != "GET" {
            return Err(HandshakeError::MethodNotAllowed);
        }
        if start_word(self.head, 2) != "HTTP/1.1" {
            return Err(HandshakeError::HttpVersion);
        }
        // One pass over the header lines gathers everything checked below (a pass per
        // header made several hundred bytes more code in firmware).
        let mut body = false;
        let mut host = false;
        let mut duplicate = false;
        let mut key = None;
        let mut version = None;
        let mut upgrade = false;
        let mut connection = false;
        for (name, value) in header_lines(self.head) {
            // A table of names, not a comparison per name: less code.
            match CHECKED.iter().position(|n| name.eq_ignore_ascii_case(n)) {
                Some(0) => body = true,
                Some(1) => body |= value != b"0",
                Some(2) => {
                    duplicate |= host;
                    host = true;
                }
                Some(3) => {
                    duplicate |= key.is_some();
                    key = key.or(Some(value));
                }
                Some(4) => {
                    duplicate |= version.is_some();
                    version = version.or(Some(value));
                }
                Some(5) => upgrade |= list_has(value, "websocket"),
                Some(_) => connection |= list_has(value, "upgrade"),
                None => {}
            }
        }
        if body {
            return Err(HandshakeError::BodyNotAllowed);
        }
        if !host {
            return Err(HandshakeError::MissingHost);
        }
        if duplicate {
            return Err(HandshakeError::DuplicateHeader);
        }
        if !upgrade {
            return Err(HandshakeError::NotUpgrade);
        }
        if !connection {
            return Err(HandshakeError::NotConnectionUpgrade);
        }
        let key = key.ok_or(HandshakeError::BadKey)?;
        if !is_key_shaped(key) {
            return Err(HandshakeError::BadKey);
        }
        if version != Some(b"13") {
            return Err(HandshakeError::BadVersion);
        }
        Ok(key)
    }
}

/// The headers [`Request::validate`] looks at.
const CHECKED: [&str; 7] = [
    "transfer-encoding",
    "content-length",
    "host",
    "sec-websocket-key",
    "sec-websocket-version",
    "upgrade",
    "connection",
];

/// The rule of [`Request::origin_allowed`] for one `Origin` value and the request's
/// `Host` (empty when it has none or several): `*` in `allowed` admits any origin; `null`
/// is refused; the same origin (`http://` or `https://` followed by `host`) and any
/// origin listed in `allowed` (comma- or space-separated) are admitted, ASCII
/// case-insensitive. For a transport whose HTTP server parsed the request itself.
pub fn origin_permitted(origin: &[u8], host: &[u8], allowed: &[u8]) -> bool {
    // One pass over the entries (one `split` instantiation, no adapters).
    let mut any = false;
    let mut listed = false;
    for entry in allowed.split(|&b| matches!(b, b',' | b' ' | b'\t')) {
        any |= entry == b"*";
        listed |= !entry.is_empty() && entry.eq_ignore_ascii_case(origin);
    }
    if any {
        return true;
    }
    if origin.eq_ignore_ascii_case(b"null") {
        return false;
    }
    // (`eq_ignore_ascii_case` compares the lengths first.)
    let same = |scheme: &[u8]| {
        origin
            .split_at_checked(scheme.len())
            .is_some_and(|(s, h)| s.eq_ignore_ascii_case(scheme) && h.eq_ignore_ascii_case(host))
    };
    if !host.is_empty() && (same(b"http://") || same(b"https://")) {
        return true;
    }
    listed
}

/// True when `key` is base64 (standard alphabet, canonical `=` padding, no trailing bits)
/// of exactly 16 bytes, i.e. what `STANDARD.decode_slice` decodes to 16 bytes: 22 alphabet
/// symbols, the last one carrying only 2 data bits (`A`, `Q`, `g` or `w`: value & 0x0F is 0),
/// then `==`. Checked by shape so that firmware need not link the base64 decoder.
fn is_key_shaped(key: &[u8]) -> bool {
    let Some((symbols, padding)) = key.split_at_checked(22) else {
        return false;
    };
    padding == b"=="
        && symbols
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
        && matches!(symbols.last(), Some(b'A' | b'Q' | b'g' | b'w'))
}

/// Word `n` (from 0) of the first line of a head, the words separated by single spaces;
/// empty when the line has fewer words or is not UTF-8.
fn start_word(head: &[u8], n: usize) -> &str {
    let line = HeaderLines {
        rest: head,
        done: false,
    }
    .next_line()
    .unwrap_or_default();
    // Cut by bytes (a `str` split on a `char` would link core's UTF-8 char searcher);
    // every piece of a UTF-8 line cut at ASCII spaces is UTF-8 again.
    if core::str::from_utf8(line).is_err() {
        return "";
    }
    let mut rest = line;
    for _ in 0..n {
        let Some(space) = rest.iter().position(|&b| b == b' ') else {
            return "";
        };
        rest = rest.get(space + 1..).unwrap_or_default();
    }
    let end = rest.iter().position(|&b| b == b' ').unwrap_or(rest.len());
    core::str::from_utf8(rest.get(..end).unwrap_or_default()).unwrap_or_default()
}

/// Where the query of a request target starts: the index of its first `?`.
fn query_start(target: &str) -> Option<usize> {
    target.bytes().position(|b| b == b'?')
}

mod heads;
mod lines;
#[cfg(test)]
mod tests;

pub use heads::*;
pub(crate) use lines::*;
