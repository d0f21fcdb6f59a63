//! The client's response head parser and RFC 6455 §4.1 checks on arbitrary bytes; the
//! first byte picks whether the expected accept value and offered protocols are real.
#![no_main]
use libfuzzer_sys::fuzz_target;
use lwip_ws::proto::http::{accept_key, check_response, client_key, parse_response, HeadStatus};

fuzz_target!(|data: &[u8]| {
    let (flags, head) = match data.split_first() {
        Some((&b, rest)) => (b, rest),
        None => return,
    };
    let accept = accept_key(&client_key(&lwip_ws_fuzz::NONCE));
    let offered: &[u8] = if flags & 1 == 1 { b"chat,echo," } else { b"" };
    if let (HeadStatus::Complete(n), status) = parse_response(head) {
        assert!(n <= head.len());
        let head = &head[..n];
        if let Ok(selected) = check_response(head, status, &accept, offered) {
            assert_eq!(status, 101);
            if let Some(range) = selected {
                let p = &head[range];
                assert!(p == b"chat" || p == b"echo", "selected {p:?}");
            }
        }
    }
    // And the whole client engine on the same bytes.
    lwip_ws_fuzz::run_client(data);
});
