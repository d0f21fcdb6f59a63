//! HTTP/1.1 upgrade handshakes (RFC 6455 §4): incremental request/response head parsing
//! with `httparse`, validation, the accept key, and response/request writers.

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
    /// The method, e.g. `GET`.
    pub fn method(&self) -> &'a str {
        todo!()
    }
    /// The path without the query, e.g. `/ws`.
    pub fn path(&self) -> &'a str {
        todo!()
    }
    /// The query after `?`, without the `?`, if any.
    pub fn query(&self) -> Option<&'a str> {
        todo!()
    }
    /// The value of the first header named `name` (ASCII case-insensitive).
    pub fn header(&self, name: &str) -> Option<&'a [u8]> {
        let _ = name;
        todo!()
    }
    /// All headers in order.
    pub fn headers(&self) -> impl Iterator<Item = (&'a str, &'a [u8])> + 'a {
        core::iter::empty()
    }
    /// Offered subprotocols from every `Sec-WebSocket-Protocol` header, comma-split and
    /// trimmed, in order.
    pub fn subprotocols(&self) -> impl Iterator<Item = &'a str> + 'a {
        core::iter::empty()
    }
    /// True when `Upgrade` contains the token `websocket` (for routing page vs socket).
    pub fn is_websocket(&self) -> bool {
        todo!()
    }
    /// Full RFC 6455 §4.2.1 validation; on success the `Sec-WebSocket-Accept` value.
    pub fn validate(&self) -> Result<[u8; 28], HandshakeError> {
        todo!()
    }
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

/// `Sec-WebSocket-Accept` for a `Sec-WebSocket-Key` value (RFC 6455 §4.2.2: base64 of the
/// SHA-1 of key + GUID). The key is used as given (no trimming).
pub fn accept_key(key: &[u8]) -> [u8; 28] {
    let _ = key;
    todo!()
}

/// The standard reason phrase for an HTTP status (`"Unknown"` otherwise).
pub fn reason_phrase(status: u16) -> &'static str {
    let _ = status;
    todo!()
}
