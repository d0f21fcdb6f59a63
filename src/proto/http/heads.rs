//! Whole heads: parsing request and response heads with `httparse`, checking a
//! server's 101, writing requests and responses, the accept and client keys, reason
//! phrases.

use super::*;

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
    let single = protocols.next().is_none() && !has_byte(selected, b',');
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
                    .all(|b| b.is_ascii_graphic() && !has_byte(b"\"(),/:;<=>?@[\\]{}", b))
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
    write_response_head(out, status, extra, content_type, body.len());
    out(body);
}

/// The head [`write_response`] writes for a body of `body_len` bytes.
pub(crate) fn write_response_head(
    out: &mut Sink<'_>,
    status: u16,
    extra: &[u8],
    content_type: Option<&str>,
    body_len: usize,
) {
    let status = if matches!(status, 100..=999) {
        status
    } else {
        500
    };
    let mut digits = [0u8; 20];
    out(b"HTTP/1.1 ");
    out(decimal(usize::from(status), &mut digits));
    out(b" ");
    out(reason_phrase(status).as_bytes());
    out(b"\r\n");
    out(extra);
    if let Some(ct) = content_type {
        out(b"Content-Type: ");
        out(ct.as_bytes());
        out(b"\r\n");
    }
    out(b"Content-Length: ");
    out(decimal(body_len, &mut digits));
    out(b"\r\nConnection: close\r\n\r\n");
}

/// Write the error response for a failed server handshake (short text body naming the
/// status, plus `Allow: GET` for 405 and `Sec-WebSocket-Version: 13` for 426).
pub fn write_error(out: &mut Sink<'_>, status: u16) {
    let extra: &[u8] = match status {
        405 => b"Allow: GET\r\n",
        426 => b"Sec-WebSocket-Version: 13\r\n",
        _ => b"",
    };
    // Body: the reason phrase of `status` as given (even when the status line says 500)
    // and a newline.
    let reason = reason_phrase(status).as_bytes();
    write_response_head(out, status, extra, Some("text/plain"), reason.len() + 1);
    out(reason);
    out(b"\n");
}

/// Number of bytes a writer produces.
pub fn measure(write: impl FnOnce(&mut Sink<'_>)) -> usize {
    let mut n = 0usize;
    write(&mut |piece: &[u8]| n = n.saturating_add(piece.len()));
    n
}

/// `n` in decimal, written at the end of `buf` (a `usize`: no 64-bit division on 32-bit
/// targets).
pub(super) fn decimal(mut n: usize, buf: &mut [u8; 20]) -> &[u8] {
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
    let mut start = 0;
    for &(code, len) in REASONS {
        let end = start + usize::from(len);
        if code == status {
            return PHRASES.get(start..end).unwrap_or("Unknown");
        }
        start = end;
    }
    "Unknown"
}

/// Declares `PHRASES`, the phrases one after another, and `REASONS`, each status with the
/// length of its phrase in `PHRASES`. Packed like this the table takes 4 bytes per status
/// besides the text, where a `match` compiles to about 14 bytes of code per status (and a
/// table of `&str` takes 12 bytes per status).
macro_rules! reason_phrases {
    ($($code:literal => $phrase:literal,)*) => {
        pub(super) const PHRASES: &str = concat!($($phrase),*);
        pub(super) const REASONS: &[(u16, u8)] = &[$(($code, phrase_len($phrase))),*];
    };
}

/// The length of `phrase` (phrases are short; a build error otherwise).
pub(super) const fn phrase_len(phrase: &str) -> u8 {
    assert!(phrase.len() <= u8::MAX as usize);
    phrase.len() as u8
}

reason_phrases![
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
];
