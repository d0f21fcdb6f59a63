//! Incremental UTF-8 validation that fails fast across chunks and fragments.
//!
//! [`Utf8Validator`] keeps the state of a partly seen code point between calls, so a text
//! message may arrive in any number of pieces. A byte that makes the sequence impossible
//! (0xC0, 0xC1, 0xF5..=0xFF, an overlong form, a surrogate, a code point above U+10FFFF, a
//! missing or extra continuation byte) is reported by the call that sees it; a sequence
//! cut short is only an error at the end of the message ([`Utf8Validator::is_complete`]).

/// Streaming UTF-8 validator (3 bytes of state).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Utf8Validator {
    /// Continuation bytes still expected for the current code point.
    need: u8,
    /// Smallest allowed value of the next continuation byte.
    lo: u8,
    /// Largest allowed value of the next continuation byte.
    hi: u8,
}

impl Utf8Validator {
    /// A validator at the start of a message.
    pub const fn new() -> Self {
        Utf8Validator {
            need: 0,
            lo: 0x80,
            hi: 0xBF,
        }
    }

    /// Forget any partial code point (start of a new message).
    pub fn reset(&mut self) {
        *self = Self::new();
    }

    /// True when no code point is cut short, i.e. the text seen so far may end here.
    pub fn is_complete(&self) -> bool {
        self.need == 0
    }

    /// Validate the next piece of the text. Returns `false` as soon as the text can no
    /// longer be valid UTF-8, whatever follows.
    pub fn feed(&mut self, mut bytes: &[u8]) -> bool {
        // Finish a code point left open by the previous piece, byte by byte.
        while self.need != 0 {
            let Some((&b, rest)) = bytes.split_first() else {
                return true;
            };
            if !self.step(b) {
                return false;
            }
            bytes = rest;
        }
        // The bulk goes through core's validator; only a cut-off tail needs our state.
        match core::str::from_utf8(bytes) {
            Ok(_) => true,
            Err(e) if e.error_len().is_some() => false,
            Err(e) => bytes
                .get(e.valid_up_to()..)
                .unwrap_or_default()
                .iter()
                .all(|&b| self.step(b)),
        }
    }

    /// Advance the state machine by one byte; `false` when the byte is impossible here.
    fn step(&mut self, b: u8) -> bool {
        if self.need != 0 {
            if b < self.lo || b > self.hi {
                return false;
            }
            self.need -= 1;
            self.lo = 0x80;
            self.hi = 0xBF;
            return true;
        }
        let need = match b {
            0x00..=0x7F => return true,
            0xC2..=0xDF => 1,
            0xE0..=0xEF => 2,
            0xF0..=0xF4 => 3,
            _ => return false,
        };
        // The second byte's range: narrower after these four leads (no overlong form,
        // no surrogate, nothing above U+10FFFF), any continuation byte otherwise.
        let (lo, hi) = match b {
            0xE0 => (0xA0, 0xBF),
            0xED => (0x80, 0x9F),
            0xF0 => (0x90, 0xBF),
            0xF4 => (0x80, 0x8F),
            _ => (0x80, 0xBF),
        };
        self.need = need;
        self.lo = lo;
        self.hi = hi;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::Utf8Validator;

    fn check_split(bytes: &[u8]) -> bool {
        let whole = core::str::from_utf8(bytes).is_ok();
        for cut in 0..=bytes.len() {
            let (a, b) = bytes.split_at(cut);
            let mut v = Utf8Validator::new();
            let ok = v.feed(a) && v.feed(b) && v.is_complete();
            assert_eq!(ok, whole, "{bytes:x?} split at {cut}");
        }
        whole
    }

    /// RFC 6455 §8.1: text must be valid UTF-8 however it is split.
    #[test]
    fn rfc6455_8_1_split_anywhere_agrees_with_core() {
        assert!(check_split("héllo wörld €𝄞".as_bytes()));
        for bad in [
            &[0xC0, 0x80][..],
            &[0xF5, 0x80, 0x80, 0x80],
            &[0xE0, 0x80, 0x80],
            &[0xED, 0xA0, 0x80],
            &[0xF4, 0x90, 0x80, 0x80],
            &[0x80],
            &[0xE2, 0x82],
        ] {
            assert!(!check_split(bad));
        }
    }

    /// Every lead byte with every second byte, then continuation-or-not third and fourth
    /// bytes, cut after the lead: the validator agrees with core's.
    #[test]
    fn rfc6455_8_1_every_two_byte_prefix_agrees_with_core() {
        let edges = [
            0x00u8, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xFF,
        ];
        let all: alloc::vec::Vec<u8> = (0..=255).collect();
        // Miri (scripts/test-robustness) is about 1000 times slower: the range edges
        // stand for every second byte, and one tail for all.
        let (seconds, rest) = if cfg!(miri) {
            (&edges[..], &[0x80u8][..])
        } else {
            (
                &all[..],
                &[0x80u8, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0x41, 0xC0][..],
            )
        };
        for b0 in 0..=255u8 {
            for &b1 in seconds {
                for &b2 in rest {
                    for &b3 in rest {
                        let bytes = [b0, b1, b2, b3];
                        let whole = core::str::from_utf8(&bytes).is_ok();
                        let mut v = Utf8Validator::new();
                        let ok = v.feed(&bytes[..1]) && v.feed(&bytes[1..]) && v.is_complete();
                        assert_eq!(ok, whole, "{bytes:x?}");
                    }
                }
            }
        }
    }

    /// RFC 6455 §8.1 fail fast: the impossible byte is reported by the call that sees it.
    #[test]
    fn rfc6455_8_1_fails_on_first_impossible_byte() {
        let mut v = Utf8Validator::new();
        assert!(v.feed(&[0xF4]));
        assert!(!v.feed(&[0x90]));
        let mut v = Utf8Validator::new();
        assert!(!v.feed(&[b'a', 0xC0]));
        let mut v = Utf8Validator::new();
        assert!(v.feed(&[0xE2, 0x82]));
        assert!(!v.is_complete());
        assert!(v.feed(&[0xAC]));
        assert!(v.is_complete());
    }
}
