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

/// Header lines of a head `httparse` accepted: (name, value trimmed of spaces and tabs).
pub(crate) fn header_lines(head: &[u8]) -> HeaderLines<'_> {
    let mut lines = HeaderLines {
        rest: head,
        done: false,
    };
    lines.next_line(); // the start line
    lines
}

/// The header lines after the start line, up to the first empty line (CRLF or LF line
/// ends). Lines without a colon, or whose name is not UTF-8, are skipped. Hand-written
/// rather than a chain of iterator adapters, whose many monomorphised `try_fold`s made
/// about 600 bytes more code in the server-only firmware.
pub(crate) struct HeaderLines<'a> {
    /// The bytes after the last line returned.
    rest: &'a [u8],
    /// Set after the last line (the empty line, or the end of the bytes).
    done: bool,
}

impl<'a> HeaderLines<'a> {
    /// The next line without its line end; `None` after the last one.
    fn next_line(&mut self) -> Option<&'a [u8]> {
        if self.done {
            return None;
        }
        let line = match self.rest.iter().position(|&b| b == b'\n') {
            Some(end) => {
                let (line, rest) = self.rest.split_at(end);
                self.rest = rest.get(1..).unwrap_or_default();
                line
            }
            None => {
                self.done = true;
                self.rest
            }
        };
        // A pattern, not `strip_suffix` (which links a slice comparison).
        match line {
            [line @ .., b'\r'] => Some(line),
            line => Some(line),
        }
    }
}

impl<'a> Iterator for HeaderLines<'a> {
    type Item = (&'a str, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let line = self.next_line()?;
            if line.is_empty() {
                self.done = true;
                return None;
            }
            let Some(colon) = line.iter().position(|&b| b == b':') else {
                continue;
            };
            let (name, value) = line.split_at(colon);
            if let Ok(name) = core::str::from_utf8(name) {
                return Some((name, trim(value.get(1..).unwrap_or_default())));
            }
        }
    }
}

/// Values of every header named `name` (ASCII case-insensitive), in order.
pub(crate) fn header_values<'h>(
    head: &'h [u8],
    name: &'static str,
) -> impl Iterator<Item = &'h [u8]> {
    HeaderValues {
        lines: header_lines(head),
        name,
    }
}

/// The values of the headers named `name` ([`header_values`]), hand-written like
/// [`HeaderLines`].
struct HeaderValues<'a> {
    lines: HeaderLines<'a>,
    name: &'static str,
}

impl<'a> Iterator for HeaderValues<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        loop {
            let (name, value) = self.lines.next()?;
            if name.eq_ignore_ascii_case(self.name) {
                return Some(value);
            }
        }
    }
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
    ListItems { rest: Some(v) }
}

/// The items of a comma-separated list (see [`split_list`]), hand-written like
/// [`HeaderLines`].
struct ListItems<'a> {
    /// The bytes after the last comma seen; `None` after the last item.
    rest: Option<&'a [u8]>,
}

impl<'a> Iterator for ListItems<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        loop {
            let rest = self.rest?;
            let item = match rest.iter().position(|&b| b == b',') {
                Some(comma) => {
                    let (item, after) = rest.split_at(comma);
                    self.rest = after.get(1..);
                    item
                }
                None => {
                    self.rest = None;
                    rest
                }
            };
            let item = trim(item);
            if !item.is_empty() {
                return Some(item);
            }
        }
    }
}

/// The items of every `Sec-WebSocket-Protocol` header that are UTF-8, in order
/// ([`Request::subprotocols`]); hand-written like [`HeaderLines`], one `next` for every
/// way the items are used.
struct Subprotocols<'a> {
    lines: HeaderLines<'a>,
    /// The rest of the header being split.
    items: ListItems<'a>,
}

impl<'a> Iterator for Subprotocols<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        loop {
            match self.items.next() {
                Some(item) => {
                    if let Ok(item) = core::str::from_utf8(item) {
                        return Some(item);
                    }
                }
                None => {
                    let (name, value) = self.lines.next()?;
                    if name.eq_ignore_ascii_case("sec-websocket-protocol") {
                        self.items = ListItems { rest: Some(value) };
                    }
                }
            }
        }
    }
}

/// True when some header `name` lists `token` (ASCII case-insensitive).
pub(crate) fn has_token(head: &[u8], name: &'static str, token: &str) -> bool {
    header_values(head, name).any(|v| list_has(v, token))
}

/// True when the comma-separated list `v` holds `token` (ASCII case-insensitive).
fn list_has(v: &[u8], token: &str) -> bool {
    split_list(v).any(|t| t.eq_ignore_ascii_case(token.as_bytes()))
}

/// True when `bytes` holds `byte`. A plain loop: `<[u8]>::contains` links core's
/// word-at-a-time `memchr` (about 170 bytes of firmware) for heads of a few hundred bytes.
pub(crate) fn has_byte(bytes: &[u8], byte: u8) -> bool {
    for &b in bytes {
        if b == byte {
            return true;
        }
    }
    false
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
fn decimal(mut n: usize, buf: &mut [u8; 20]) -> &[u8] {
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
        const PHRASES: &str = concat!($($phrase),*);
        const REASONS: &[(u16, u8)] = &[$(($code, phrase_len($phrase))),*];
    };
}

/// The length of `phrase` (phrases are short; a build error otherwise).
const fn phrase_len(phrase: &str) -> u8 {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// What `validate` accepted before the shape check: base64 (standard engine) that
    /// decodes to exactly 16 bytes.
    fn decodes_to_16(key: &[u8]) -> bool {
        let mut out = [0u8; 18];
        matches!(
            base64::engine::general_purpose::STANDARD.decode_slice(key, &mut out),
            Ok(16)
        )
    }

    fn check(key: &[u8]) {
        assert_eq!(is_key_shaped(key), decodes_to_16(key), "{key:x?}");
    }

    /// RFC 6455 §4.2.1 item 5: the shape check accepts exactly the keys the base64 decoder
    /// decodes to 16 bytes: every byte value at every position of a valid key, every
    /// length, and pseudo-random keys of near-valid shape.
    #[test]
    fn key_shape_agrees_with_base64_decoder() {
        let valid = *b"dGhlIHNhbXBsZSBub25jZQ==";
        check(&valid);
        // Under Miri (about 1000 times slower) the alphabet's edges and the symbols
        // around the four allowed last symbols stand for all 256 byte values.
        let bytes: alloc::vec::Vec<u8> = if cfg!(miri) {
            b"\0+,-./09:=@ABPQRZ[`afghvwxz{\x7f\x80\xff".to_vec()
        } else {
            (0..=255).collect()
        };
        for pos in 0..valid.len() {
            for &b in &bytes {
                let mut key = valid;
                key[pos] = b;
                check(&key);
            }
        }
        for len in 0..40 {
            check(&b"QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB="[..len]);
            check(&[b'A'; 40][..len]);
            check(&[b'='; 40][..len]);
            let mut key = [b'A'; 40];
            if len >= 2 {
                key[len - 2..len].copy_from_slice(b"==");
            }
            check(&key[..len]);
        }
        let symbols = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_ \t";
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        // Miri (scripts/test-robustness) is about 1000 times slower: fewer random keys.
        let rounds = if cfg!(miri) { 500 } else { 200_000 };
        for _ in 0..rounds {
            let len = 20 + (next() % 8) as usize;
            let mut key = [0u8; 28];
            for b in key.iter_mut().take(len) {
                *b = symbols[(next() % symbols.len() as u64) as usize];
            }
            if next() % 2 == 0 {
                key[len - 2..len].copy_from_slice(b"==");
            }
            check(&key[..len]);
        }
    }

    /// The iterator chains `header_lines` and `split_list` were written as before they
    /// became hand-written scanners; the scanners must give the same items.
    fn header_lines_chain(head: &[u8]) -> impl Iterator<Item = (&str, &[u8])> {
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

    fn split_list_chain(v: &[u8]) -> impl Iterator<Item = &[u8]> {
        v.split(|&b| b == b',').map(trim).filter(|t| !t.is_empty())
    }

    /// Header scanning and list splitting agree with the iterator chains on every cut of
    /// heads with odd line ends, lines without a colon, non-UTF-8 names, repeated and empty
    /// headers, and lists with empty items and spaces.
    #[test]
    fn header_scanner_matches_iterator_chains() {
        let heads: [&[u8]; 6] = [
            b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket , , h2c,\r\n\
              Connection: keep-alive,\tUpgrade\r\nX:\r\nno colon\r\n\
              \xff\xfe: v\r\nupgrade:  x ,y\r\n\r\nAfter: body\r\n",
            b"GET / HTTP/1.1\nA: 1\nB:2\n\nC: 3",
            b"GET / HTTP/1.1\r\nA: 1\r\nB: ,,\r\n",
            b"GET / HTTP/1.1",
            b"",
            b"\r\n\r\n: empty name\r\n",
        ];
        // Every cut, or under Miri (about 1000 times slower) every 16th and the whole head.
        let step = if cfg!(miri) { 16 } else { 1 };
        for head in heads {
            for cut in (0..head.len()).step_by(step).chain([head.len()]) {
                let head = &head[..cut];
                assert!(header_lines(head).eq(header_lines_chain(head)), "{head:x?}");
                for (_, value) in header_lines_chain(head) {
                    assert!(split_list(value).eq(split_list_chain(value)), "{value:x?}");
                }
                let v = &head[head.len().min(15)..];
                assert!(split_list(v).eq(split_list_chain(v)), "{v:x?}");
                for name in ["upgrade", "connection", "host", "b"] {
                    for token in ["websocket", "upgrade", "x", "h2c", ""] {
                        let chain = header_lines_chain(head)
                            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
                            .flat_map(|(_, v)| split_list_chain(v))
                            .any(|t| t.eq_ignore_ascii_case(token.as_bytes()));
                        assert_eq!(has_token(head, name, token), chain);
                    }
                }
            }
        }
    }

    /// The packed phrase table: spot checks (first, last and the statuses the engine
    /// sends itself), every listed status has its own non-empty phrase, and every other
    /// status is "Unknown".
    #[test]
    fn reason_phrase_table_gives_each_status_its_phrase() {
        for (status, phrase) in [
            (100, "Continue"),
            (101, "Switching Protocols"),
            (400, "Bad Request"),
            (404, "Not Found"),
            (426, "Upgrade Required"),
            (431, "Request Header Fields Too Large"),
            (500, "Internal Server Error"),
            (503, "Service Unavailable"),
        ] {
            assert_eq!(reason_phrase(status), phrase);
        }
        let listed: alloc::vec::Vec<u16> = REASONS.iter().map(|&(code, _)| code).collect();
        let mut joined = alloc::string::String::new();
        for status in statuses() {
            let phrase = reason_phrase(status);
            if listed.contains(&status) {
                assert!(!phrase.is_empty() && phrase != "Unknown", "{status}");
            } else {
                assert_eq!(phrase, "Unknown", "{status}");
            }
        }
        for &code in &listed {
            joined.push_str(reason_phrase(code));
        }
        assert_eq!(
            joined, PHRASES,
            "the phrases tile the packed string in order"
        );
    }

    /// Every status, or under Miri (about 1000 times slower) the known ones and their
    /// neighbours, the range ends and a few others.
    fn statuses() -> alloc::vec::Vec<u16> {
        if cfg!(miri) {
            let mut some: alloc::vec::Vec<u16> = REASONS
                .iter()
                .flat_map(|&(code, _)| [code - 1, code, code + 1])
                .collect();
            some.extend([0, 1, 99, 999, 1000, 1005, u16::MAX - 1, u16::MAX]);
            some
        } else {
            (0..=u16::MAX).collect()
        }
    }

    fn collect(write: impl FnOnce(&mut Sink<'_>)) -> alloc::vec::Vec<u8> {
        let mut bytes = alloc::vec::Vec::new();
        write(&mut |piece: &[u8]| bytes.extend_from_slice(piece));
        bytes
    }

    /// The error and page responses are byte for byte what the writers gave before they
    /// shared one head writer: every status, with and without a content type and body.
    #[test]
    fn responses_match_previous_writers() {
        fn decimal_u64(mut n: u64) -> alloc::vec::Vec<u8> {
            let mut digits = alloc::vec::Vec::new();
            loop {
                digits.insert(0, b'0' + (n % 10) as u8);
                n /= 10;
                if n == 0 {
                    return digits;
                }
            }
        }
        fn previous_response(
            status: u16,
            extra: &[u8],
            content_type: Option<&str>,
            body: &[u8],
        ) -> alloc::vec::Vec<u8> {
            let status = if (100..=999).contains(&status) {
                status
            } else {
                500
            };
            let mut out = b"HTTP/1.1 ".to_vec();
            out.extend(decimal_u64(u64::from(status)));
            out.extend(b" ");
            out.extend(reason_phrase(status).as_bytes());
            out.extend(b"\r\n");
            out.extend(extra);
            if let Some(ct) = content_type {
                out.extend([b"Content-Type: ", ct.as_bytes(), b"\r\n"].concat());
            }
            out.extend(b"Content-Length: ");
            out.extend(decimal_u64(body.len() as u64));
            out.extend(b"\r\nConnection: close\r\n\r\n");
            out.extend(body);
            out
        }
        fn previous_error(status: u16) -> alloc::vec::Vec<u8> {
            let extra: &[u8] = match status {
                405 => b"Allow: GET\r\n",
                426 => b"Sec-WebSocket-Version: 13\r\n",
                _ => b"",
            };
            let body = reason_phrase(status).as_bytes();
            let body = [&body[..body.len().min(63)], b"\n"].concat();
            previous_response(status, extra, Some("text/plain"), &body)
        }
        let page = [b'x'; 1234];
        for status in statuses() {
            assert_eq!(
                collect(|s| write_error(s, status)),
                previous_error(status),
                "{status}"
            );
            assert_eq!(
                measure(|s| write_error(s, status)),
                previous_error(status).len()
            );
            for (ct, body) in [(None, &b""[..]), (Some("text/html"), &page[..])] {
                assert_eq!(
                    collect(|s| write_response(s, status, b"X: y\r\n", ct, body)),
                    previous_response(status, b"X: y\r\n", ct, body),
                    "{status}"
                );
            }
        }
        for len in [0usize, 9, 10, 99, 100, 65535, 1_000_000, u32::MAX as usize] {
            let mut digits = [0u8; 20];
            assert_eq!(decimal(len, &mut digits), decimal_u64(len as u64));
        }
    }

    /// The request line accessors split on spaces and `?` exactly as `str::split(' ')` and
    /// `str::split_once('?')` did.
    #[test]
    fn start_line_words_match_str_split() {
        for line in [
            &b"GET /ws?room=1&x=?y HTTP/1.1"[..],
            b"GET  /a HTTP/1.1",
            b"GET /\xc3\xa9t\xc3\xa9?q=\xe2\x82\xac HTTP/1.1",
            b"GET /\xff HTTP/1.1",
            b"",
            b" ",
            b"GET",
            b"GET /?",
            b"GET ? HTTP/1.1 extra",
        ] {
            let head = [line, b"\r\nHost: h\r\n\r\n"].concat();
            let req = Request::from_head(&head);
            let text = core::str::from_utf8(line).unwrap_or_default();
            let mut words = text.split(' ');
            let method = words.next().unwrap_or_default();
            let target = words.next().unwrap_or_default();
            assert_eq!(req.method(), method);
            assert_eq!(req.target(), target);
            for (n, word) in text.split(' ').enumerate() {
                assert_eq!(start_word(&head, n), word);
            }
            assert_eq!(start_word(&head, text.split(' ').count()), "");
            assert_eq!(
                req.path(),
                target.split_once('?').map_or(target, |(p, _)| p)
            );
            assert_eq!(req.query(), target.split_once('?').map(|(_, q)| q));
        }
    }
}
