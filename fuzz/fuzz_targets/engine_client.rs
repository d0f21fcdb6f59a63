//! The whole client engine: response head then frames, arbitrary bytes in arbitrary
//! chunks, interleaved with application sends, output draining and time.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| lwip_ws_fuzz::run_client(data));
