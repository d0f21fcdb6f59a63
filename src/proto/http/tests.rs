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
