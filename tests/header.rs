//! The committed C header must equal a fresh cbindgen generation from the sources.
//! Regenerate with `scripts/gen-header` (sets LWIP_WS_BLESS=1).

use std::path::PathBuf;

#[test]
fn committed_header_matches_fresh_generation() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(root.join("cbindgen.toml")).expect("cbindgen.toml");
    let bindings = cbindgen::Builder::new()
        .with_crate(&root)
        .with_config(config)
        .generate()
        .expect("cbindgen generates the header");
    let mut fresh = Vec::new();
    bindings.write(&mut fresh);
    let path = root.join("include/lwip_ws.h");
    if std::env::var_os("LWIP_WS_BLESS").is_some() {
        std::fs::write(&path, &fresh).expect("write include/lwip_ws.h");
    }
    let committed = std::fs::read(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "include/lwip_ws.h differs from a fresh generation: run scripts/gen-header and commit it"
    );
}
