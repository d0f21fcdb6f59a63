//! Close codes (RFC 6455 §7.4) and close frame payloads (§5.5.1).

/// Normal closure.
pub const NORMAL: u16 = 1000;
/// Protocol error (RFC 6455 §7.4.1).
pub const PROTOCOL_ERROR: u16 = 1002;
/// Reserved: "no status code was present" (never sent on the wire).
pub const NO_STATUS: u16 = 1005;
/// Text that is not valid UTF-8.
pub const INVALID_DATA: u16 = 1007;
/// Message too big.
pub const TOO_BIG: u16 = 1009;
/// Policy violation (here: a message or frame stalled past `message_timeout_ms`).
pub const POLICY_VIOLATION: u16 = 1008;
/// Internal error (here: out of memory).
pub const INTERNAL_ERROR: u16 = 1011;
/// Try again later (here: the heap allowance set with `set_heap_limit` is used up).
pub const TRY_AGAIN_LATER: u16 = 1013;

/// Longest close reason that fits a control frame (125 − 2 bytes of code).
pub const MAX_REASON: usize = 123;

/// True for codes an endpoint may send or accept in a close frame: 1000–1003, 1007–1014
/// and 3000–4999.
pub fn is_valid_close_code(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

/// Parse a received close payload (§5.5.1): empty → `(1005, "")`; otherwise a valid code
/// and a UTF-8 reason. `Err` carries the close code to fail the connection with: 1002 for a
/// 1-byte payload or a code that may not be used, 1007 for a reason that is not UTF-8.
pub fn parse_close_payload(payload: &[u8]) -> Result<(u16, &str), u16> {
    match payload {
        [] => Ok((NO_STATUS, "")),
        [hi, lo, reason @ ..] => {
            let code = u16::from_be_bytes([*hi, *lo]);
            if !is_valid_close_code(code) {
                return Err(PROTOCOL_ERROR);
            }
            let reason = core::str::from_utf8(reason).map_err(|_| INVALID_DATA)?;
            Ok((code, reason))
        }
        [_] => Err(PROTOCOL_ERROR),
    }
}
