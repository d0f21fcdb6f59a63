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
        start_line(self.head).next().unwrap_or_default()
    }
    /// The request target as sent (path and query).
    pub fn target(&self) -> &'a str {
        start_line(self.head).nth(1).unwrap_or_default()
    }
    /// The path without the query, e.g. `/ws`.
    pub fn path(&self) -> &'a str {
        let target = self.target();
        target.split_once('?').map_or(target, |(p, _)| p)
    }
    /// The query after `?`, without the `?`, if any.
    pub fn query(&self) -> Option<&'a str> {
        self.target().split_once('?').map(|(_, q)| q)
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
        header_values(self.head, "sec-websocket-protocol")
            .flat_map(split_list)
            .filter_map(|t| core::str::from_utf8(t).ok())
    }
    /// True when `Upgrade` contains the token `websocket` (for routing page vs socket).
    pub fn is_websocket(&self) -> bool {
        has_token(self.head, "upgrade", "websocket")
    }
    /// Full RFC 6455 §4.2.1 validation; on success the `Sec-WebSocket-Accept` value.
    pub fn validate(&self) -> Result<[u8; 28], HandshakeError> {
        if self.method() != "GET" {
            return Err(HandshakeError::MethodNotAllowed);
        }
        if start_line(self.head).nth(2) != Some("HTTP/1.1") {
            return Err(HandshakeError::HttpVersion);
        }
        if self.header("host").is_none() {
            return Err(HandshakeError::MissingHost);
        }
        if !self.is_websocket() {
            return Err(HandshakeError::NotUpgrade);
        }
        if !has_token(self.head, "connection", "upgrade") {
            return Err(HandshakeError::NotConnectionUpgrade);
        }
        let key = self
            .header("sec-websocket-key")
            .ok_or(HandshakeError::BadKey)?;
        let mut nonce = [0u8; 18];
        match base64::engine::general_purpose::STANDARD.decode_slice(key, &mut nonce) {
            Ok(16) => {}
            _ => return Err(HandshakeError::BadKey),
        }
        if self.header("sec-websocket-version") != Some(b"13") {
            return Err(HandshakeError::BadVersion);
        }
        Ok(accept_key(key))
    }
}

/// The space-separated words of the first line of a head.
fn start_line(head: &[u8]) -> impl Iterator<Item = &str> {
    let line = head.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    core::str::from_utf8(line).unwrap_or_default().split(' ')
}

/// Header lines of a head `httparse` accepted: (name, value trimmed of spaces and tabs).
pub(crate) fn header_lines(head: &[u8]) -> impl Iterator<Item = (&str, &[u8])> {
    head.split(|&b| b == b'\n')
        .skip(1)
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .take_while(|l| !l.is_empty())
        .filter_map(|line| {
            let colon = line.iter().position(|&b| b == b':')?;
            let (name, value) = line.split_at(colon);
            let name = core::str::from_utf8(name).ok()?;
            Some((name, trim(value.get(1..).unwrap_or_default())))
        })
}

/// Values of every header named `name` (ASCII case-insensitive), in order.
pub(crate) fn header_values<'h>(
    head: &'h [u8],
    name: &'static str,
) -> impl Iterator<Item = &'h [u8]> {
    header_lines(head)
        .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// Trim spaces and tabs on both sides.
fn trim(mut v: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = v {
        v = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = v {
        v = rest;
    }
    v
}

/// Comma-separated list items, trimmed, empty ones skipped.
fn split_list(v: &[u8]) -> impl Iterator<Item = &[u8]> {
    v.split(|&b| b == b',').map(trim).filter(|t| !t.is_empty())
}

/// True when some header `name` lists `token` (ASCII case-insensitive).
pub(crate) fn has_token(head: &[u8], name: &'static str, token: &str) -> bool {
    header_values(head, name)
        .flat_map(split_list)
        .any(|t| t.eq_ignore_ascii_case(token.as_bytes()))
}

/// What parsing a head found so far.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeadStatus {
    /// More bytes are needed.
    Partial,
    /// The head is complete and `n` bytes long (bytes after it are not part of it).
    Complete(usize),
    /// Not valid HTTP/1.x.
    Invalid,
}

/// Parse an HTTP request head from the start of `buf` (any prefix of the stream).
pub fn parse_request(buf: &[u8]) -> HeadStatus {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    match req.parse(buf) {
        Ok(httparse::Status::Complete(n)) => HeadStatus::Complete(n),
        Ok(httparse::Status::Partial) => HeadStatus::Partial,
        Err(_) => HeadStatus::Invalid,
    }
}

/// Parse an HTTP response head from the start of `buf`; with the status code once complete.
pub fn parse_response(buf: &[u8]) -> (HeadStatus, u16) {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut res = httparse::Response::new(&mut headers);
    match res.parse(buf) {
        Ok(httparse::Status::Complete(n)) => (HeadStatus::Complete(n), res.code.unwrap_or(0)),
        Ok(httparse::Status::Partial) => (HeadStatus::Partial, 0),
        Err(_) => (HeadStatus::Invalid, 0),
    }
}

/// Check a complete 101 response head (RFC 6455 §4.1, client side). `offered` is the
/// comma-separated list of subprotocols we sent. On success, where the selected
/// subprotocol lies in `head`, if any.
pub fn check_response(
    head: &[u8],
    status: u16,
    expected_accept: &[u8; 28],
    offered: &[u8],
) -> Result<Option<Range<usize>>, ClientHandshakeError> {
    if status != 101 {
        return Err(ClientHandshakeError::Status(status));
    }
    if !has_token(head, "upgrade", "websocket") {
        return Err(ClientHandshakeError::NotUpgrade);
    }
    if !has_token(head, "connection", "upgrade") {
        return Err(ClientHandshakeError::NotConnectionUpgrade);
    }
    let mut accepts = header_values(head, "sec-websocket-accept");
    if accepts.next() != Some(&expected_accept[..]) || accepts.next().is_some() {
        return Err(ClientHandshakeError::BadAccept);
    }
    if header_values(head, "sec-websocket-extensions").any(|v| !v.is_empty()) {
        return Err(ClientHandshakeError::UnexpectedExtension);
    }
    let mut protocols = header_values(head, "sec-websocket-protocol");
    let Some(selected) = protocols.next() else {
        return Ok(None);
    };
    let single = protocols.next().is_none() && !selected.contains(&b',');
    if !single || !split_list(offered).any(|p| p == selected) {
        return Err(ClientHandshakeError::ProtocolNotOffered);
    }
    let start = (selected.as_ptr() as usize).wrapping_sub(head.as_ptr() as usize);
    Ok(Some(start..start + selected.len()))
}

/// What a client sends in its upgrade request.
#[derive(Clone, Copy, Debug)]
pub struct ClientRequest<'a> {
    /// `Host` header value (e.g. `example.com:8080`).
    pub host: &'a str,
    /// Request target, e.g. `/chat?room=1` (must start with `/`).
    pub path: &'a str,
    /// Subprotocols to offer, in preference order (may be empty).
    pub protocols: &'a [&'a str],
    /// Extra header lines (name, value), e.g. `Origin`, `Authorization`. Names and values
    /// must not contain CR/LF (checked).
    pub extra_headers: &'a [(&'a str, &'a str)],
}

impl ClientRequest<'_> {
    /// True when every field can be written into a request head as is: the path starts
    /// with `/`, nothing holds CR, LF or NUL, the host and path hold no space, protocols
    /// and header names are non-empty HTTP tokens.
    pub fn is_valid(&self) -> bool {
        let clean = |s: &str| !s.bytes().any(|b| matches!(b, b'\r' | b'\n' | 0));
        let token = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_graphic() && !b"\"(),/:;<=>?@[\\]{}".contains(&b))
        };
        self.path.starts_with('/')
            && !self.host.is_empty()
            && !self.host.contains(' ')
            && !self.path.contains(' ')
            && clean(self.host)
            && clean(self.path)
            && self.protocols.iter().all(|p| token(p))
            && self.extra_headers.iter().all(|(n, v)| token(n) && clean(v))
    }
}

/// Where HTTP writers put their bytes (called once per piece, in order).
pub type Sink<'s> = dyn FnMut(&[u8]) + 's;

/// Write the client upgrade request for `req` with the base64 key `key`.
pub fn write_request(out: &mut Sink<'_>, req: &ClientRequest<'_>, key: &[u8]) {
    for piece in [
        b"GET ",
        req.path.as_bytes(),
        b" HTTP/1.1\r\nHost: ",
        req.host.as_bytes(),
    ] {
        out(piece);
    }
    out(b"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ");
    out(key);
    out(b"\r\nSec-WebSocket-Version: 13\r\n");
    for (i, p) in req.protocols.iter().enumerate() {
        out(if i == 0 {
            b"Sec-WebSocket-Protocol: "
        } else {
            b", "
        });
        out(p.as_bytes());
    }
    if !req.protocols.is_empty() {
        out(b"\r\n");
    }
    for (name, value) in req.extra_headers {
        for piece in [name.as_bytes(), b": ", value.as_bytes(), b"\r\n"] {
            out(piece);
        }
    }
    out(b"\r\n");
}

/// Write the 101 response with the accept value and the chosen subprotocol.
pub fn write_switching(out: &mut Sink<'_>, accept: &[u8; 28], protocol: Option<&str>) {
    out(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n");
    out(b"Sec-WebSocket-Accept: ");
    out(accept);
    if let Some(p) = protocol {
        out(b"\r\nSec-WebSocket-Protocol: ");
        out(p.as_bytes());
    }
    out(b"\r\n\r\n");
}

/// Write a complete response: status line, `extra` header lines (each ending in CRLF),
/// `Content-Type` when given, `Content-Length`, `Connection: close`, then `body`.
pub fn write_response(
    out: &mut Sink<'_>,
    status: u16,
    extra: &[u8],
    content_type: Option<&str>,
    body: &[u8],
) {
    let status = if (100..=999).contains(&status) {
        status
    } else {
        500
    };
    let mut digits = [0u8; 20];
    out(b"HTTP/1.1 ");
    out(decimal(u64::from(status), &mut digits));
    out(b" ");
    out(reason_phrase(status).as_bytes());
    out(b"\r\n");
    out(extra);
    if let Some(ct) = content_type {
        for piece in [b"Content-Type: ", ct.as_bytes(), b"\r\n"] {
            out(piece);
        }
    }
    out(b"Content-Length: ");
    out(decimal(body.len() as u64, &mut digits));
    out(b"\r\nConnection: close\r\n\r\n");
    out(body);
}

/// Write the error response for a failed server handshake (short text body naming the
/// status, plus `Allow: GET` for 405 and `Sec-WebSocket-Version: 13` for 426).
pub fn write_error(out: &mut Sink<'_>, status: u16) {
    let extra: &[u8] = match status {
        405 => b"Allow: GET\r\n",
        426 => b"Sec-WebSocket-Version: 13\r\n",
        _ => b"",
    };
    let body = reason_phrase(status).as_bytes();
    // Body: the reason phrase and a newline, assembled without allocating.
    let mut buf = [0u8; 64];
    let n = body.len().min(63);
    if let (Some(dst), Some(src)) = (buf.get_mut(..n), body.get(..n)) {
        dst.copy_from_slice(src);
    }
    if let Some(nl) = buf.get_mut(n) {
        *nl = b'\n';
    }
    write_response(
        out,
        status,
        extra,
        Some("text/plain"),
        buf.get(..n + 1).unwrap_or_default(),
    );
}

/// Number of bytes a writer produces.
pub fn measure(write: impl FnOnce(&mut Sink<'_>)) -> usize {
    let mut n = 0usize;
    write(&mut |piece: &[u8]| n = n.saturating_add(piece.len()));
    n
}

/// `n` in decimal, written at the end of `buf`.
fn decimal(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        if let Some(d) = buf.get_mut(i) {
            *d = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 || i == 0 {
            break;
        }
    }
    buf.get(i..).unwrap_or_default()
}

/// `Sec-WebSocket-Accept` for a `Sec-WebSocket-Key` value (RFC 6455 §4.2.2: base64 of the
/// SHA-1 of key + GUID). The key is used as given (no trimming).
pub fn accept_key(key: &[u8]) -> [u8; 28] {
    let mut sha = Sha1::new();
    sha.update(key);
    sha.update(GUID);
    let digest = sha.finalize();
    let mut out = [0u8; 28];
    let _ = base64::engine::general_purpose::STANDARD.encode_slice(digest.as_slice(), &mut out);
    out
}

/// The base64 `Sec-WebSocket-Key` for 16 nonce bytes.
pub fn client_key(nonce: &[u8; 16]) -> [u8; 24] {
    let mut out = [0u8; 24];
    let _ = base64::engine::general_purpose::STANDARD.encode_slice(nonce, &mut out);
    out
}

/// The standard reason phrase for an HTTP status (`"Unknown"` otherwise).
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        101 => "Switching Protocols",
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        413 => "Content Too Large",
        426 => "Upgrade Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}
