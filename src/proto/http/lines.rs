//! Header lines, header values and comma-separated lists of a head `httparse` accepted,
//! walked by small hand-written iterators (chains of adapters made several hundred bytes
//! more firmware code).

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
    pub(super) rest: &'a [u8],
    /// Set after the last line (the empty line, or the end of the bytes).
    pub(super) done: bool,
}

impl<'a> HeaderLines<'a> {
    /// The next line without its line end; `None` after the last one.
    pub(super) fn next_line(&mut self) -> Option<&'a [u8]> {
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
pub(super) struct HeaderValues<'a> {
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
pub(super) fn trim(mut v: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = v {
        v = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = v {
        v = rest;
    }
    v
}

/// Comma-separated list items, trimmed, empty ones skipped.
pub(super) fn split_list(v: &[u8]) -> impl Iterator<Item = &[u8]> {
    ListItems { rest: Some(v) }
}

/// The items of a comma-separated list (see [`split_list`]), hand-written like
/// [`HeaderLines`].
pub(super) struct ListItems<'a> {
    /// The bytes after the last comma seen; `None` after the last item.
    pub(super) rest: Option<&'a [u8]>,
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
pub(super) struct Subprotocols<'a> {
    pub(super) lines: HeaderLines<'a>,
    /// The rest of the header being split.
    pub(super) items: ListItems<'a>,
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
pub(super) fn list_has(v: &[u8], token: &str) -> bool {
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
