//! Frame header codec and masking (RFC 6455 §5.2, §5.3).
//!
//! [`HeaderDecoder`] reads a header from any number of pieces (it may stop and resume at
//! every byte) and parses straight from the input when the header is in one piece.
//! [`FrameHeader::check`] applies the rules that do not depend on connection state.
//! [`apply_mask`] unmasks (or masks) in place, eight bytes at a time, from any offset.

use crate::proto::close::PROTOCOL_ERROR;

/// Continuation frame.
pub const OP_CONTINUATION: u8 = 0x0;
/// Text frame.
pub const OP_TEXT: u8 = 0x1;
/// Binary frame.
pub const OP_BINARY: u8 = 0x2;
/// Close frame.
pub const OP_CLOSE: u8 = 0x8;
/// Ping frame.
pub const OP_PING: u8 = 0x9;
/// Pong frame.
pub const OP_PONG: u8 = 0xA;

/// Largest control frame payload (§5.5).
pub const MAX_CONTROL_PAYLOAD: usize = 125;
/// Longest frame header: 2 + 8 (64-bit length) + 4 (mask key).
pub const MAX_HEADER_LEN: usize = 14;

/// A decoded frame header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameHeader {
    /// Final fragment of a message.
    pub fin: bool,
    /// The three RSV bits (0 unless an extension was negotiated; we negotiate none).
    pub rsv: u8,
    /// The 4-bit opcode.
    pub opcode: u8,
    /// The masking key, when the MASK bit is set.
    pub mask: Option<[u8; 4]>,
    /// Payload length as sent (may have its top bit set: [`FrameHeader::check`] refuses it).
    pub len: u64,
}

impl FrameHeader {
    /// True for close, ping and pong (opcodes 0x8–0xF).
    pub fn is_control(&self) -> bool {
        self.opcode & 0x8 != 0
    }

    /// The §5.2/§5.5 rules for a frame received by `server` (true) or a client, with no
    /// extension negotiated. `Err` is the close code to fail with (always 1002).
    pub fn check(&self, server: bool) -> Result<(), u16> {
        if self.rsv != 0 {
            return Err(PROTOCOL_ERROR);
        }
        if !matches!(
            self.opcode,
            OP_CONTINUATION | OP_TEXT | OP_BINARY | OP_CLOSE | OP_PING | OP_PONG
        ) {
            return Err(PROTOCOL_ERROR);
        }
        if self.is_control() && (!self.fin || self.len > MAX_CONTROL_PAYLOAD as u64) {
            return Err(PROTOCOL_ERROR);
        }
        if self.mask.is_some() != server {
            return Err(PROTOCOL_ERROR);
        }
        if self.len >> 63 != 0 {
            return Err(PROTOCOL_ERROR);
        }
        Ok(())
    }
}

/// Header length announced by the first two bytes.
fn header_len(b1: u8) -> usize {
    let ext = match b1 & 0x7F {
        126 => 2,
        127 => 8,
        _ => 0,
    };
    2 + ext + if b1 & 0x80 != 0 { 4 } else { 0 }
}

/// Parse a header from the start of `bytes`; `None` when `bytes` holds only part of it.
/// Returns the header and its length in bytes.
pub fn parse_header(bytes: &[u8]) -> Option<(FrameHeader, usize)> {
    let (&b0, rest) = bytes.split_first()?;
    let (&b1, rest) = rest.split_first()?;
    let total = header_len(b1);
    let (len, rest) = match b1 & 0x7F {
        126 => {
            let (ext, rest) = rest.split_first_chunk::<2>()?;
            (u64::from(u16::from_be_bytes(*ext)), rest)
        }
        127 => {
            let (ext, rest) = rest.split_first_chunk::<8>()?;
            (u64::from_be_bytes(*ext), rest)
        }
        n => (u64::from(n), rest),
    };
    let mask = if b1 & 0x80 != 0 {
        Some(*rest.first_chunk::<4>()?)
    } else {
        None
    };
    let header = FrameHeader {
        fin: b0 & 0x80 != 0,
        rsv: (b0 >> 4) & 0x7,
        opcode: b0 & 0x0F,
        mask,
        len,
    };
    Some((header, total))
}

/// Incremental header decoder: holds the bytes of a header split across inputs.
#[derive(Clone, Copy, Debug, Default)]
pub struct HeaderDecoder {
    buf: [u8; MAX_HEADER_LEN],
    have: u8,
}

impl HeaderDecoder {
    /// Take header bytes from `input`. Returns how many bytes were used and the header
    /// once complete (then the decoder is ready for the next one).
    pub fn feed(&mut self, input: &[u8]) -> (usize, Option<FrameHeader>) {
        if self.have == 0 {
            if let Some((header, n)) = parse_header(input) {
                return (n, Some(header));
            }
        }
        // Split across inputs (rare): a byte at a time until the header is complete.
        for (i, &b) in input.iter().enumerate() {
            let have = usize::from(self.have);
            if let Some(slot) = self.buf.get_mut(have) {
                *slot = b;
            }
            let have = have + 1;
            self.have = have as u8;
            let need = match self.buf.get(1) {
                Some(&b1) if have >= 2 => header_len(b1),
                _ => 2,
            };
            if have >= need {
                self.have = 0;
                let header = self.buf.get(..need).and_then(parse_header).map(|(h, _)| h);
                return (i + 1, header);
            }
        }
        (input.len(), None)
    }

    /// True when part of a header has been read.
    pub fn in_progress(&self) -> bool {
        self.have != 0
    }
}

/// Encode a frame header for a payload of `len` bytes, masked with `mask` if given
/// (shortest length form). Returns the bytes and how many of them are used.
pub fn encode_header(
    fin: bool,
    opcode: u8,
    len: u64,
    mask: Option<[u8; 4]>,
) -> ([u8; MAX_HEADER_LEN], usize) {
    let mut out = [0u8; MAX_HEADER_LEN];
    let mut n = 2;
    let mask_bit = if mask.is_some() { 0x80 } else { 0 };
    let b0 = if fin { 0x80 } else { 0 } | (opcode & 0x0F);
    let b1 = match len {
        0..=125 => len as u8,
        126..=0xFFFF => {
            put(&mut out, 2, &(len as u16).to_be_bytes());
            n += 2;
            126
        }
        _ => {
            put(&mut out, 2, &len.to_be_bytes());
            n += 8;
            127
        }
    };
    put(&mut out, 0, &[b0, b1 | mask_bit]);
    if let Some(key) = mask {
        put(&mut out, n, &key);
        n += 4;
    }
    (out, n)
}

fn put(out: &mut [u8], at: usize, bytes: &[u8]) {
    if let Some(dst) = out.get_mut(at..at + bytes.len()) {
        dst.copy_from_slice(bytes);
    }
}

/// XOR `data` with the masking key (§5.3), where `data` starts `offset` bytes into the
/// payload (so the key phase is `offset % 4`). Masking and unmasking are the same.
pub fn apply_mask(data: &mut [u8], key: [u8; 4], offset: u64) {
    xor_words(data, phased(key, offset));
}

/// [`apply_mask`] that also tells whether the unmasked bytes are all ASCII (then they
/// need no UTF-8 look), at the cost of one OR per word.
pub fn unmask_is_ascii(data: &mut [u8], key: [u8; 4], offset: u64) -> bool {
    xor_words(data, phased(key, offset)) & Word::from_ne_bytes([0x80; WORD]) == 0
}

/// The machine word masking works in: a 32-bit target has no 8-byte loads (thumb at
/// opt-level "z" turns them into calls to memcpy).
#[cfg(target_pointer_width = "64")]
type Word = u64;
#[cfg(not(target_pointer_width = "64"))]
type Word = u32;
const WORD: usize = core::mem::size_of::<Word>();

/// The key repeated over a word, its byte 0 lined up with key byte `offset % 4` (byte
/// order aware).
fn phased(key: [u8; 4], offset: u64) -> Word {
    let phase = (offset % 4) as u32;
    let key = u32::from_ne_bytes(key);
    let rotated = if cfg!(target_endian = "little") {
        key.rotate_right(8 * phase)
    } else {
        key.rotate_left(8 * phase)
    };
    #[cfg(target_pointer_width = "64")]
    let rotated = {
        let k = rotated.to_ne_bytes();
        u64::from_ne_bytes([k[0], k[1], k[2], k[3], k[0], k[1], k[2], k[3]])
    };
    rotated
}

/// XORs `data` with the repeated key word and returns the OR of every result word (the
/// tail's bytes included). A word at a time through `split_first_chunk_mut`, four per
/// turn: a plain load, XOR and store per word (unaligned word access is allowed on
/// Cortex-M3/M4/M7 and x86), with no iterator adapters and no fixed-size copies, which
/// thumb at opt-level "z" leaves as calls to memcpy (scripts/bench-mcu, Cortex-M4: about
/// 9 instructions per byte with 8-byte copies, 1.5 now).
#[inline(always)]
fn xor_words(data: &mut [u8], key: Word) -> Word {
    // One word off the front of `bytes` (at least a word long); returns the rest.
    #[inline(always)]
    fn word<'a>(bytes: &'a mut [u8], key: Word, seen: &mut Word) -> &'a mut [u8] {
        match bytes.split_first_chunk_mut::<WORD>() {
            Some((w, rest)) => {
                let v = Word::from_ne_bytes(*w) ^ key;
                *w = v.to_ne_bytes();
                *seen |= v;
                rest
            }
            None => &mut [],
        }
    }
    let mut seen: Word = 0;
    let (mut words, rest) = data.split_at_mut(data.len() - data.len() % WORD);
    while words.len() >= 4 * WORD {
        let w = word(core::mem::take(&mut words), key, &mut seen);
        let w = word(w, key, &mut seen);
        let w = word(w, key, &mut seen);
        words = word(w, key, &mut seen);
    }
    while !words.is_empty() {
        words = word(core::mem::take(&mut words), key, &mut seen);
    }
    for (b, m) in rest.iter_mut().zip(key.to_ne_bytes()) {
        *b ^= m;
        seen |= Word::from(*b);
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    #[test]
    fn unmask_reports_ascii_at_every_length_and_position() {
        let key = [0x37, 0xfa, 0x21, 0x3d];
        for len in 0..40usize {
            let plain: Vec<u8> = (0..len).map(|i| b' ' + (i % 95) as u8).collect();
            let mut data = plain.clone();
            apply_mask(&mut data, key, 0);
            assert!(unmask_is_ascii(&mut data, key, 0), "len {len}");
            assert_eq!(data, plain);
            for at in 0..len {
                let mut high = plain.clone();
                if let Some(b) = high.get_mut(at) {
                    *b = 0xC3;
                }
                let mut data = high.clone();
                apply_mask(&mut data, key, 0);
                assert!(!unmask_is_ascii(&mut data, key, 0), "len {len} at {at}");
                assert_eq!(data, high);
            }
        }
    }

    #[test]
    fn mask_resumes_at_any_offset() {
        let key = [0x37, 0xfa, 0x21, 0x3d];
        let plain: [u8; 77] = core::array::from_fn(|i| i as u8);
        let mut whole = plain;
        apply_mask(&mut whole, key, 0);
        for (i, (w, p)) in whole.iter().zip(plain.iter()).enumerate() {
            assert_eq!(*w, p ^ key[i % 4]);
        }
        for cut in 0..plain.len() {
            let mut split = plain;
            let (a, b) = split.split_at_mut(cut);
            apply_mask(a, key, 0);
            apply_mask(b, key, cut as u64);
            assert_eq!(split, whole, "cut at {cut}");
        }
    }

    #[test]
    fn header_decoder_resumes_at_every_byte() {
        let (bytes, n) = encode_header(true, OP_BINARY, 70_000, Some([1, 2, 3, 4]));
        let mut dec = HeaderDecoder::default();
        for (i, b) in bytes.iter().take(n).enumerate() {
            let (used, h) = dec.feed(core::slice::from_ref(b));
            assert_eq!(used, 1);
            assert_eq!(h.is_some(), i == n - 1);
            if let Some(h) = h {
                assert_eq!(h.len, 70_000);
                assert_eq!(h.mask, Some([1, 2, 3, 4]));
            }
        }
    }
}
