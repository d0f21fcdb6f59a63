//! Return codes and close statuses shared by every exported function.
//!
//! Codes are explicit numbers, grouped by kind (tens digit), and never renumbered.
//! [`WSS_errorText`] turns any of them into a static string.

use core::ffi::{c_char, c_int};

use crate::lwip::conn::Ending;

/// Success.
pub const LWIP_WS_OK: c_int = 0;

// -1 .. -9: the call itself was wrong.
/// A required pointer was NULL, a length was negative or out of range, or a value (close
/// code, size) is not allowed.
pub const LWIP_WS_ERR_ARG: c_int = -1;
/// The call is not allowed in the connection's current state (e.g. writing before the
/// handshake finished or after a close was started, configuring a connected `WSS`,
/// constructing storage twice).
pub const LWIP_WS_ERR_STATE: c_int = -2;
/// The storage passed was never constructed (or was destroyed).
pub const LWIP_WS_ERR_NOT_CONSTRUCTED: c_int = -3;

// -10 .. -19: flow control.
/// The send queue has no room for the whole frame. Nothing was queued; wait for the
/// `writableFp` callback (or any later sent/poll progress) and try again.
pub const LWIP_WS_ERR_WOULD_BLOCK: c_int = -10;
/// The frame alone is larger than the send queue limit (`WSS_setSendQueue`),
/// or a control payload is longer than 125 bytes.
pub const LWIP_WS_ERR_TOO_BIG: c_int = -11;
/// A blocking call (`WSS_writeBlocking`, `WSS_read`, `WSS_readPiece`) waited `timeoutMs` without
/// success: nothing was queued (or read).
pub const LWIP_WS_ERR_TIMEOUT: c_int = -12;
/// The connection has ended (its `closeFp` ran, or `WSS_destructor` released it) before or
/// while a task waited: nothing was queued, and no message is left to read.
pub const LWIP_WS_ERR_CLOSED: c_int = -13;
/// `WSS_read`: the next message is longer than the buffer; it stays queued (`WSS_readPiece`
/// takes it in pieces). `WSS_readPiece`: a buffer of 0 bytes for a piece that is not empty.
pub const LWIP_WS_ERR_BUFFER_TOO_SMALL: c_int = -14;

// -20 .. -29: resources.
/// Out of memory (Rust heap or an lwIP pool).
pub const LWIP_WS_ERR_NO_MEM: c_int = -20;
/// A configured limit on connections was reached.
pub const LWIP_WS_ERR_LIMIT: c_int = -21;

// -30 .. -39: lwIP refused a call (the lwIP `err_t` is mapped, never passed through).
/// lwIP refused to create, bind, listen or connect (address in use, no route, ...).
pub const LWIP_WS_ERR_LWIP: c_int = -30;
/// The address is already in use (`tcp_bind`).
pub const LWIP_WS_ERR_ADDR_IN_USE: c_int = -31;
/// The lwIP build lacks what the call needs (e.g. `LWIP_TCP_KEEPALIVE` 0).
pub const LWIP_WS_ERR_UNSUPPORTED: c_int = -32;

// -40 .. -49: TLS (feature `tls`).
/// A TLS configuration was refused: a certificate, key or CA list did not parse (wrong
/// format, wrong key password, key not matching), or mbedTLS ran out of memory.
pub const LWIP_WS_ERR_TLS: c_int = -40;

// -100 .. -119: close-callback statuses (negative: the connection was dropped, with no
// completed close handshake). Positive close statuses are RFC 6455 close codes.
/// The peer reset the TCP connection (RST).
pub const LWIP_WS_DROP_RESET: c_int = -100;
/// lwIP aborted the connection (out of memory, too many retransmissions, ...).
pub const LWIP_WS_DROP_ABORTED: c_int = -101;
/// The peer closed TCP without a WebSocket close handshake.
pub const LWIP_WS_DROP_PEER_CLOSED: c_int = -102;
/// The opening handshake did not complete in time.
pub const LWIP_WS_DROP_HANDSHAKE_TIMEOUT: c_int = -103;
/// The peer did not answer our close frame in time.
pub const LWIP_WS_DROP_CLOSE_TIMEOUT: c_int = -104;
/// Server: the upgrade request was invalid and an HTTP error was sent.
/// Client: the server's handshake response was not acceptable.
pub const LWIP_WS_DROP_HANDSHAKE_FAILED: c_int = -105;
/// Client: the TCP connection could not be established.
pub const LWIP_WS_DROP_CONNECT_FAILED: c_int = -106;
/// We ran out of memory and had to abort the connection.
pub const LWIP_WS_DROP_NO_MEM: c_int = -107;
/// `WSS_close` was called before the handshake finished; the TCP connection was closed.
pub const LWIP_WS_DROP_LOCAL: c_int = -108;
/// Keep-alive: nothing arrived from the peer within the keep-alive timeout after our
/// ping (`WSS_setKeepAlive`); the TCP connection was aborted.
pub const LWIP_WS_DROP_KEEPALIVE_TIMEOUT: c_int = -109;
/// A message had started but no byte of it arrived within the message timeout
/// (`WSS_setMessageTimeout`); a close frame with 1008 was sent and TCP closed.
pub const LWIP_WS_DROP_MESSAGE_TIMEOUT: c_int = -110;
/// Client over TLS (`WSS_openClientTls`): the server's certificate did not verify (chain
/// not trusted by the configured CA list, expired or not yet valid, or not issued for
/// the host name given). The connection was aborted after the TLS handshake, before the
/// upgrade request was sent; `WSTls_verifyError` says which check failed.
pub const LWIP_WS_DROP_TLS_VERIFY_FAILED: c_int = -111;

/// A short, static, NUL-terminated English description of a return code or close status
/// (any value is accepted; unknown values give "unknown code"). Needs no buffer.
///
/// Context: any.
#[no_mangle]
pub extern "C" fn WSS_errorText(code: c_int) -> *const c_char {
    let mut start = 0;
    for &(known, len) in TEXT_LENGTHS {
        if c_int::from(known) == code {
            break;
        }
        start += usize::from(len);
    }
    // Past the table's texts: "close code", then "unknown code".
    if start == CLOSE_CODE_TEXT && !(1..=4999).contains(&code) {
        start += b"close code\0".len();
    }
    TEXTS.get(start..).unwrap_or(TEXTS).as_ptr().cast()
}

/// The status `closeFp` receives for an ending.
pub(crate) fn close_status(ending: Ending) -> c_int {
    match ending {
        Ending::Code(code) => c_int::from(code),
        _ => c_int::from(drop_status(ending)),
    }
}

/// The drop status of an ending that is not a close code. With every arm a small
/// constant the `match` compiles to a table of a byte per variant instead of a branch
/// per arm; not inlined, since merged with the close code's arm in the caller it would
/// be branches again.
#[inline(never)]
fn drop_status(ending: Ending) -> i8 {
    match ending {
        Ending::Code(_) => 0,
        Ending::Reset => const { i8_of(LWIP_WS_DROP_RESET) },
        Ending::Aborted => const { i8_of(LWIP_WS_DROP_ABORTED) },
        Ending::PeerClosed => const { i8_of(LWIP_WS_DROP_PEER_CLOSED) },
        Ending::HandshakeTimeout => const { i8_of(LWIP_WS_DROP_HANDSHAKE_TIMEOUT) },
        Ending::CloseTimeout => const { i8_of(LWIP_WS_DROP_CLOSE_TIMEOUT) },
        Ending::HandshakeFailed => const { i8_of(LWIP_WS_DROP_HANDSHAKE_FAILED) },
        Ending::ConnectFailed => const { i8_of(LWIP_WS_DROP_CONNECT_FAILED) },
        Ending::NoMem => const { i8_of(LWIP_WS_DROP_NO_MEM) },
        Ending::Local => const { i8_of(LWIP_WS_DROP_LOCAL) },
        Ending::KeepAliveTimeout => const { i8_of(LWIP_WS_DROP_KEEPALIVE_TIMEOUT) },
        Ending::MessageTimeout => const { i8_of(LWIP_WS_DROP_MESSAGE_TIMEOUT) },
        Ending::TlsVerifyFailed => const { i8_of(LWIP_WS_DROP_TLS_VERIFY_FAILED) },
    }
}

/// A drop status as an `i8` (each fits; a build error otherwise).
const fn i8_of(status: c_int) -> i8 {
    assert!(status >= i8::MIN as c_int && status <= i8::MAX as c_int);
    status as i8
}

/// Declares `TEXTS`, the NUL-terminated texts one after another followed by the two for
/// codes not in the table ("close code", "unknown code"), `TEXT_LENGTHS`, each code with
/// the length of its text in `TEXTS` (NUL included), and `CLOSE_CODE_TEXT`. Packed like
/// this the table takes 4 bytes per code besides the text, where a `match` compiles to
/// about 10 bytes of code per code.
macro_rules! error_texts {
    ($($code:expr => $text:literal,)*) => {
        const TEXTS: &[u8] =
            concat!($($text, "\0",)* "close code\0unknown code\0").as_bytes();
        const TEXT_LENGTHS: &[(i16, u8)] = &[$((code_i16($code), text_len($text))),*];
        /// Where "close code" starts in `TEXTS`: after every text of the table.
        const CLOSE_CODE_TEXT: usize = 0 $(+ text_len($text) as usize)*;
    };
}

/// `code` as an `i16` (every code and close status fits; a build error otherwise).
const fn code_i16(code: c_int) -> i16 {
    assert!(code >= i16::MIN as c_int && code <= i16::MAX as c_int);
    code as i16
}

/// The length of `text` and its NUL (texts are short; a build error otherwise).
const fn text_len(text: &str) -> u8 {
    assert!(text.len() < u8::MAX as usize);
    text.len() as u8 + 1
}

error_texts![
    LWIP_WS_OK => "ok",
    LWIP_WS_ERR_ARG => "invalid argument",
    LWIP_WS_ERR_STATE => "not allowed in the current state",
    LWIP_WS_ERR_NOT_CONSTRUCTED => "storage not constructed",
    LWIP_WS_ERR_WOULD_BLOCK => "send queue full, try again when writable",
    LWIP_WS_ERR_TOO_BIG => "frame larger than the send queue limit",
    LWIP_WS_ERR_TIMEOUT => "timed out waiting",
    LWIP_WS_ERR_CLOSED => "the connection has ended",
    LWIP_WS_ERR_BUFFER_TOO_SMALL => "buffer too small for the next message",
    LWIP_WS_ERR_NO_MEM => "out of memory",
    LWIP_WS_ERR_LIMIT => "connection limit reached",
    LWIP_WS_ERR_LWIP => "lwIP refused the operation",
    LWIP_WS_ERR_ADDR_IN_USE => "address in use",
    LWIP_WS_ERR_UNSUPPORTED => "not supported by this lwIP build",
    LWIP_WS_ERR_TLS => "TLS configuration refused (certificate, key or CA did not parse)",
    LWIP_WS_DROP_RESET => "connection reset by peer",
    LWIP_WS_DROP_ABORTED => "connection aborted by lwIP",
    LWIP_WS_DROP_PEER_CLOSED => "peer closed TCP without a close frame",
    LWIP_WS_DROP_HANDSHAKE_TIMEOUT => "handshake timeout",
    LWIP_WS_DROP_CLOSE_TIMEOUT => "close handshake timeout",
    LWIP_WS_DROP_HANDSHAKE_FAILED => "handshake failed",
    LWIP_WS_DROP_CONNECT_FAILED => "TCP connect failed",
    LWIP_WS_DROP_NO_MEM => "connection dropped: out of memory",
    LWIP_WS_DROP_LOCAL => "closed locally before the handshake finished",
    LWIP_WS_DROP_KEEPALIVE_TIMEOUT => "keep-alive timeout: the peer stopped answering",
    LWIP_WS_DROP_MESSAGE_TIMEOUT => "message timeout: a started message stalled",
    LWIP_WS_DROP_TLS_VERIFY_FAILED => "TLS: the server's certificate did not verify",
    1000 => "1000 normal closure",
    1001 => "1001 going away",
    1002 => "1002 protocol error",
    1003 => "1003 unsupported data",
    1005 => "1005 no status received",
    1007 => "1007 invalid frame payload data",
    1008 => "1008 policy violation",
    1009 => "1009 message too big",
    1010 => "1010 mandatory extension",
    1011 => "1011 internal error",
    1013 => "1013 try again later (heap budget reached)",
];

#[cfg(test)]
mod tests {
    use super::*;
    use core::ffi::CStr;

    /// Every code gives the text the `match` it replaced gave (the packed table must keep
    /// each text with its code, NUL-terminated).
    /// Each ending gives `closeFp` its documented status (the byte table must keep the
    /// variants' order).
    #[test]
    fn close_status_of_each_ending() {
        let cases = [
            (Ending::Code(1000), 1000),
            (Ending::Code(4999), 4999),
            (Ending::Code(0), 0),
            (Ending::Code(u16::MAX), 65535),
            (Ending::Reset, LWIP_WS_DROP_RESET),
            (Ending::Aborted, LWIP_WS_DROP_ABORTED),
            (Ending::PeerClosed, LWIP_WS_DROP_PEER_CLOSED),
            (Ending::HandshakeTimeout, LWIP_WS_DROP_HANDSHAKE_TIMEOUT),
            (Ending::CloseTimeout, LWIP_WS_DROP_CLOSE_TIMEOUT),
            (Ending::HandshakeFailed, LWIP_WS_DROP_HANDSHAKE_FAILED),
            (Ending::ConnectFailed, LWIP_WS_DROP_CONNECT_FAILED),
            (Ending::NoMem, LWIP_WS_DROP_NO_MEM),
            (Ending::Local, LWIP_WS_DROP_LOCAL),
            (Ending::KeepAliveTimeout, LWIP_WS_DROP_KEEPALIVE_TIMEOUT),
            (Ending::MessageTimeout, LWIP_WS_DROP_MESSAGE_TIMEOUT),
            (Ending::TlsVerifyFailed, LWIP_WS_DROP_TLS_VERIFY_FAILED),
        ];
        for (ending, status) in cases {
            assert_eq!(close_status(ending), status, "{ending:?}");
        }
    }

    #[test]
    fn error_text_table_matches_match() {
        fn by_match(code: c_int) -> &'static [u8] {
            match code {
                LWIP_WS_OK => b"ok\0",
                LWIP_WS_ERR_ARG => b"invalid argument\0",
                LWIP_WS_ERR_STATE => b"not allowed in the current state\0",
                LWIP_WS_ERR_NOT_CONSTRUCTED => b"storage not constructed\0",
                LWIP_WS_ERR_WOULD_BLOCK => b"send queue full, try again when writable\0",
                LWIP_WS_ERR_TOO_BIG => b"frame larger than the send queue limit\0",
                LWIP_WS_ERR_TIMEOUT => b"timed out waiting\0",
                LWIP_WS_ERR_CLOSED => b"the connection has ended\0",
                LWIP_WS_ERR_BUFFER_TOO_SMALL => b"buffer too small for the next message\0",
                LWIP_WS_ERR_NO_MEM => b"out of memory\0",
                LWIP_WS_ERR_LIMIT => b"connection limit reached\0",
                LWIP_WS_ERR_LWIP => b"lwIP refused the operation\0",
                LWIP_WS_ERR_ADDR_IN_USE => b"address in use\0",
                LWIP_WS_ERR_UNSUPPORTED => b"not supported by this lwIP build\0",
                LWIP_WS_ERR_TLS => {
                    b"TLS configuration refused (certificate, key or CA did not parse)\0"
                }
                LWIP_WS_DROP_RESET => b"connection reset by peer\0",
                LWIP_WS_DROP_ABORTED => b"connection aborted by lwIP\0",
                LWIP_WS_DROP_PEER_CLOSED => b"peer closed TCP without a close frame\0",
                LWIP_WS_DROP_HANDSHAKE_TIMEOUT => b"handshake timeout\0",
                LWIP_WS_DROP_CLOSE_TIMEOUT => b"close handshake timeout\0",
                LWIP_WS_DROP_HANDSHAKE_FAILED => b"handshake failed\0",
                LWIP_WS_DROP_CONNECT_FAILED => b"TCP connect failed\0",
                LWIP_WS_DROP_NO_MEM => b"connection dropped: out of memory\0",
                LWIP_WS_DROP_LOCAL => b"closed locally before the handshake finished\0",
                LWIP_WS_DROP_KEEPALIVE_TIMEOUT => {
                    b"keep-alive timeout: the peer stopped answering\0"
                }
                LWIP_WS_DROP_MESSAGE_TIMEOUT => b"message timeout: a started message stalled\0",
                LWIP_WS_DROP_TLS_VERIFY_FAILED => b"TLS: the server's certificate did not verify\0",
                1000 => b"1000 normal closure\0",
                1001 => b"1001 going away\0",
                1002 => b"1002 protocol error\0",
                1003 => b"1003 unsupported data\0",
                1005 => b"1005 no status received\0",
                1007 => b"1007 invalid frame payload data\0",
                1008 => b"1008 policy violation\0",
                1009 => b"1009 message too big\0",
                1010 => b"1010 mandatory extension\0",
                1011 => b"1011 internal error\0",
                1013 => b"1013 try again later (heap budget reached)\0",
                1..=4999 => b"close code\0",
                _ => b"unknown code\0",
            }
        }
        let extremes = [c_int::MIN, c_int::MIN + 1, -65536, 65535, 65536, c_int::MAX];
        for code in (-70_000..=70_000).chain(extremes) {
            // SAFETY: WSS_errorText returns a pointer to a static NUL-terminated string.
            let text = unsafe { CStr::from_ptr(WSS_errorText(code)) };
            assert_eq!(text.to_bytes_with_nul(), by_match(code), "{code}");
        }
    }
}
