//! The frame header decoder: fed in arbitrary pieces it gives the same headers as one
//! parse of the whole input; the encoder round-trips; masking resumes at any offset.
#![no_main]
use libfuzzer_sys::fuzz_target;
use lwip_ws::proto::frame::{apply_mask, encode_header, parse_header, HeaderDecoder};

fuzz_target!(|data: &[u8]| {
    let (cuts, bytes) = data.split_at(data.len().min(4));
    // Whole-input parse: headers back to back (payloads skipped as far as present).
    let mut expected = Vec::new();
    let mut rest = bytes;
    while let Some((h, n)) = parse_header(rest) {
        assert!(n <= 14 && n <= rest.len());
        expected.push(h);
        let skip = usize::try_from(h.len)
            .unwrap_or(usize::MAX)
            .min(rest.len() - n);
        rest = &rest[n + skip..];
        if skip < h.len as usize {
            break;
        }
    }
    // Incremental decode with the piece sizes from `cuts`.
    let mut got = Vec::new();
    let mut dec = HeaderDecoder::default();
    let mut pos = 0;
    let mut i = 0;
    let mut skip: u64 = 0;
    while pos < bytes.len() {
        let size = usize::from(cuts.get(i % cuts.len().max(1)).copied().unwrap_or(0) % 16) + 1;
        i += 1;
        let end = (pos + size).min(bytes.len());
        let mut piece = &bytes[pos..end];
        pos = end;
        while !piece.is_empty() {
            if skip > 0 {
                let n = skip.min(piece.len() as u64) as usize;
                skip -= n as u64;
                piece = &piece[n..];
                continue;
            }
            let (used, h) = dec.feed(piece);
            assert!(used <= piece.len());
            piece = &piece[used..];
            match h {
                Some(h) => {
                    got.push(h);
                    skip = h.len;
                }
                None => assert!(piece.is_empty(), "decoder stopped early"),
            }
        }
        if skip > (bytes.len() - pos) as u64 {
            break;
        }
    }
    let n = got.len().min(expected.len());
    assert_eq!(got[..n], expected[..n]);
    for h in &expected {
        let _ = h.check(true);
        let _ = h.check(false);
        let (enc, len) = encode_header(h.fin, h.opcode, h.len, h.mask);
        let (back, n) = parse_header(&enc[..len]).expect("encoded header parses");
        assert_eq!(n, len);
        assert_eq!(
            (back.fin, back.opcode, back.len, back.mask),
            (h.fin, h.opcode, h.len, h.mask)
        );
    }
    // Masking in two pieces equals masking at once.
    let key = [cuts.first().copied().unwrap_or(1), 0x5a, 0xc3, 0x17];
    let mut whole = bytes.to_vec();
    apply_mask(&mut whole, key, 0);
    let cut = usize::from(cuts.get(1).copied().unwrap_or(0)).min(bytes.len());
    let mut split = bytes.to_vec();
    let (a, b) = split.split_at_mut(cut);
    apply_mask(a, key, 0);
    apply_mask(b, key, cut as u64);
    assert_eq!(whole, split);
});
