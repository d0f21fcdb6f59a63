//! Close codes (RFC 6455 §7.4) and close frame payloads (§5.5.1).

/// True for codes an endpoint may send or accept in a close frame: 1000–1003, 1007–1014
/// and 3000–4999.
pub fn is_valid_close_code(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}
