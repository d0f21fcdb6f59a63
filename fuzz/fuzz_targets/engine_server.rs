//! The whole server engine: handshake then frames, arbitrary bytes in arbitrary chunks,
//! interleaved with application sends, output draining and time (see `src/lib.rs`).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| lwip_ws_fuzz::run_server(data));
