//! Build script for `lwip-sys`: bindgen over the firmware's own lwIP headers, the C shim
//! for lwIP macros, and (feature `compile`) lwIP itself with `ports/unix`.
//!
//! Environment variables (each one re-runs the build when it changes):
//!
//! - `LWIP_DIR`: the lwIP source tree (the folder holding `src/include/lwip/init.h`).
//!   Default: `<workspace>/.deps/lwip-2.1.3` when it exists (`scripts/fetch-lwip`).
//! - `LWIP_INCLUDE_DIRS`: folders with the configuration headers `lwipopts.h` and
//!   `arch/cc.h` (and any headers they include), separated like `PATH` (`:` on Unix,
//!   `;` on Windows). Default: `<workspace>/ports/unix/include`.
//! - `LWIP_DEFINES`: extra preprocessor definitions, space-separated `NAME` or
//!   `NAME=VALUE` (e.g. `MEM_SIZE=65536 LWIP_NOASSERT`).
//! - `LWIP_CFLAGS`: extra compiler flags, space-separated (e.g. `-mcpu=cortex-m4
//!   -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16`). They reach both the C compiler and
//!   bindgen's clang, so pass flags that change type layout here (`-fshort-enums`).
//! - `LWIP_COMPILE`: `1` or `0`; overrides the `compile` feature (compile lwIP core, IPv4,
//!   Ethernet and `ports/unix/port.c` into this crate).
//!
//! Feature `tls`: `LWIP_ALTCP`, `LWIP_ALTCP_TLS` and `LWIP_ALTCP_TLS_MBEDTLS` are defined
//! to 1 for the C build and bindgen, `shim/lwipws_tls.c` is compiled, and with `compile`
//! lwIP's `altcp_tls_mbedtls` port too, linked with the system's mbedTLS 2.28
//! (`-lmbedtls -lmbedx509 -lmbedcrypto`; Debian's `libmbedtls-dev`). Firmware passes its
//! mbedTLS include folder in `LWIP_CFLAGS` and links mbedTLS itself.
//!
//! Cargo's `TARGET` selects the target: the C compiler comes from the `cc` crate's usual
//! variables (`CC_<target>`, `CC`, `CFLAGS`, ...), and bindgen's clang gets
//! `--target=<TARGET>` plus the same `-I`/`-D` flags, so the bound struct layouts match
//! the C build. With a cross gcc (e.g. `CC_thumbv7em_none_eabihf=arm-none-eabi-gcc`),
//! clang also gets that gcc's C library headers (its sysroot, or its `#include <...>`
//! search list) and its enum size (`-fshort-enums` for arm-none-eabi-gcc). The C shim
//! (`shim/lwipws_shim.c`) is always compiled: it turns lwIP macros and configuration
//! values into functions, with the firmware's configuration.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const ENV_VARS: &[&str] = &[
    "LWIP_DIR",
    "LWIP_INCLUDE_DIRS",
    "LWIP_DEFINES",
    "LWIP_CFLAGS",
    "LWIP_COMPILE",
];

const MISSING_TREE: &str = "set LWIP_DIR=<path to lwIP source> or run scripts/fetch-lwip";

fn main() {
    for var in ENV_VARS {
        println!("cargo:rerun-if-env-changed={var}");
    }
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let workspace = manifest.parent().expect("workspace root").to_path_buf();
    let target = env::var("TARGET").expect("TARGET");
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));

    let lwip_dir = lwip_dir(&workspace);
    let lwip_include = lwip_dir.join("src/include");
    let config_dirs: Vec<PathBuf> = match env::var_os("LWIP_INCLUDE_DIRS") {
        Some(v) if !v.is_empty() => env::split_paths(&v).collect(),
        _ => vec![workspace.join("ports/unix/include")],
    };
    let defines = split_words("LWIP_DEFINES");
    let cflags = split_words("LWIP_CFLAGS");
    let compile = match env::var("LWIP_COMPILE").ok().as_deref().map(str::trim) {
        Some("1") => true,
        Some("0") => false,
        Some("") | None => env::var_os("CARGO_FEATURE_COMPILE").is_some(),
        Some(other) => panic!("LWIP_COMPILE must be 1 or 0, not {other:?}"),
    };
    let tls = env::var_os("CARGO_FEATURE_TLS").is_some();
    let shim_dir = manifest.join("shim");
    let unix_port = workspace.join("ports/unix");

    // One configuration for the C compile and for bindgen.
    let mut build = cc::Build::new();
    build.include(&shim_dir);
    for dir in &config_dirs {
        build.include(dir);
    }
    build.include(&lwip_include);
    for def in &defines {
        match def.split_once('=') {
            Some((name, value)) => build.define(name, value),
            None => build.define(def, None),
        };
    }
    for flag in &cflags {
        build.flag(flag);
    }
    if tls {
        for name in ["LWIP_ALTCP", "LWIP_ALTCP_TLS", "LWIP_ALTCP_TLS_MBEDTLS"] {
            build.define(name, "1");
        }
    }
    build.warnings(false);

    // The C library: the shim always; lwIP and the unix port with `compile`.
    let mut lib = build.clone();
    if compile {
        // Test-only fault hooks in the shim (host builds only; see lwipws_shim.h).
        lib.define("LWIPWS_TEST_HOOKS", None);
    }
    lib.file(shim_dir.join("lwipws_shim.c"));
    if tls {
        lib.file(shim_dir.join("lwipws_tls.c"));
    }
    if compile {
        for file in lwip_sources(&lwip_dir) {
            lib.file(file);
        }
        if tls {
            let port = lwip_dir.join("src/apps/altcp_tls");
            lib.file(port.join("altcp_tls_mbedtls.c"));
            lib.file(port.join("altcp_tls_mbedtls_mem.c"));
        }
        lib.file(unix_port.join("port.c"));
    }
    lib.compile(if compile { "lwip" } else { "lwipws_shim" });
    if compile && tls && env::var_os("CARGO_FEATURE_TLS_COUNT").is_some() {
        link_counted_mbedtls(&build);
    } else if compile && tls {
        for name in ["mbedtls", "mbedx509", "mbedcrypto"] {
            println!("cargo:rustc-link-lib={name}");
        }
    }

    // Bindings.
    let mut clang_args = vec![format!("--target={target}")];
    clang_args.extend(layout_args(&build));
    clang_args.extend(sysroot_args(&build, &target));
    clang_args.extend(abi_args(&build, &target));
    if compile {
        clang_args.push(format!("-I{}", unix_port.join("include").display()));
        clang_args.push("-DLWIPWS_BIND_UNIXPORT".into());
        clang_args.push("-DLWIPWS_TEST_HOOKS".into());
    }
    if tls {
        clang_args.push("-DLWIPWS_BIND_TLS".into());
    }
    const PREFIXES: &str = "(tcp|altcp|pbuf|netif|ip_addr|ip4_addr|ip4addr|ipaddr|mem|memp|\
                            err|lwipws|unixport|stats)_.*";
    let bindings = bindgen::Builder::default()
        .header(manifest.join("wrapper.h").to_string_lossy())
        .clang_args(&clang_args)
        .use_core()
        .ctypes_prefix("core::ffi")
        .allowlist_function(PREFIXES)
        .allowlist_function("lwip_init|sys_now|sys_check_timeouts|sys_timeouts_sleeptime")
        .allowlist_type(PREFIXES)
        .allowlist_type("(err_t|err_enum_t|u8_t|u16_t|u32_t|s8_t|s16_t|s32_t|mem_size_t)")
        .allowlist_type("(lwip_ip_addr_type|tcp_state|pbuf_layer|pbuf_type|memp_t)")
        .allowlist_var("lwip_stats|netif_default|netif_list|ip_addr_any|ip_addr_broadcast")
        .allowlist_var("(ERR_|TCP_|LWIP_|IPADDR_|PBUF_|MEMP_|NETIF_FLAG_|NO_SYS|MEM_).*")
        .prepend_enum_name(false)
        .derive_default(true)
        .layout_tests(true)
        .generate_comments(true)
        .parse_callbacks(Box::new(bindgen::CargoCallbacks::new()))
        .generate()
        .unwrap_or_else(|e| {
            panic!(
                "bindgen failed on lwIP headers ({}): {e}",
                lwip_dir.display()
            )
        });
    bindings
        .write_to_file(out_dir.join("bindings.rs"))
        .expect("write bindings.rs");

    println!(
        "cargo:rerun-if-changed={}",
        manifest.join("wrapper.h").display()
    );
    println!("cargo:rerun-if-changed={}", shim_dir.display());
    println!("cargo:rerun-if-changed={}", lwip_include.display());
    for dir in &config_dirs {
        println!("cargo:rerun-if-changed={}", dir.display());
    }
    if compile {
        println!(
            "cargo:rerun-if-changed={}",
            unix_port.join("port.c").display()
        );
        println!(
            "cargo:rerun-if-changed={}",
            unix_port.join("include").display()
        );
    }
    // For dependents' build scripts: DEP_LWIP_INCLUDE and DEP_LWIP_ROOT.
    let include: Vec<PathBuf> = std::iter::once(shim_dir.clone())
        .chain(config_dirs.iter().cloned())
        .chain(std::iter::once(lwip_include.clone()))
        .collect();
    let joined = env::join_paths(&include).expect("include dirs contain the path separator");
    println!("cargo:include={}", joined.to_string_lossy());
    println!("cargo:root={}", lwip_dir.display());
}

/// The lwIP tree from `LWIP_DIR` or the default; panics with the fix when missing.
fn lwip_dir(workspace: &Path) -> PathBuf {
    let dir = match env::var_os("LWIP_DIR") {
        Some(v) if !v.is_empty() => PathBuf::from(v),
        _ => workspace.join(".deps/lwip-2.1.3"),
    };
    if !dir.join("src/include/lwip/init.h").is_file() {
        panic!("no lwIP source tree at {}: {MISSING_TREE}", dir.display());
    }
    dir
}

/// Space-separated words of an environment variable.
fn split_words(var: &str) -> Vec<String> {
    env::var(var)
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

/// lwIP core, IPv4 and Ethernet sources, from the tree's own `src/Filelists.mk`.
fn lwip_sources(lwip_dir: &Path) -> Vec<PathBuf> {
    let src = lwip_dir.join("src");
    let filelists = src.join("Filelists.mk");
    let text = fs::read_to_string(&filelists)
        .unwrap_or_else(|e| panic!("{}: {e}: {MISSING_TREE}", filelists.display()));
    let joined = text.replace("\\\r\n", " ").replace("\\\n", " ");
    let mut files = Vec::new();
    for line in joined.lines() {
        let Some((name, value)) = line.split_once('=') else {
            continue;
        };
        if matches!(name.trim(), "COREFILES" | "CORE4FILES") {
            files.extend(
                value
                    .split_whitespace()
                    .map(|f| f.replace("$(LWIPDIR)", "")),
            );
        }
    }
    if files.is_empty() {
        panic!("{} lists no COREFILES: {MISSING_TREE}", filelists.display());
    }
    files.push("/netif/ethernet.c".into());
    files
        .iter()
        .map(|f| src.join(f.trim_start_matches('/')))
        .collect()
}

/// The compiler arguments that decide type layout and header selection, for clang.
fn layout_args(build: &cc::Build) -> Vec<String> {
    let compiler = build.get_compiler();
    let mut out = Vec::new();
    let mut args = compiler
        .args()
        .iter()
        .map(|a| a.to_string_lossy().into_owned());
    while let Some(arg) = args.next() {
        let takes_value = matches!(arg.as_str(), "-I" | "-D" | "-U" | "-isystem" | "-include");
        let keep = takes_value
            || ["-I", "-D", "-U", "-isystem", "--sysroot", "-std=", "-m"]
                .iter()
                .any(|p| arg.starts_with(p))
            || matches!(
                arg.as_str(),
                "-fshort-enums"
                    | "-fno-short-enums"
                    | "-fshort-wchar"
                    | "-funsigned-char"
                    | "-fsigned-char"
                    | "-fpack-struct"
            );
        if keep {
            out.push(arg);
            if takes_value {
                out.extend(args.next());
            }
        }
    }
    out
}

/// For cross gcc toolchains: the C library headers bindgen's clang cannot find alone.
///
/// Uses the gcc's sysroot when it reports one; otherwise (e.g. Debian's
/// `arm-none-eabi-gcc`, which prints an empty sysroot) the `#include <...>` search list
/// from `gcc -E -v`, minus gcc's own internal folders (clang brings its own `stddef.h`,
/// `stdint.h`, ... and must not read gcc's builtins-specific copies).
fn sysroot_args(build: &cc::Build, target: &str) -> Vec<String> {
    let host = env::var("HOST").unwrap_or_default();
    let compiler = build.get_compiler();
    if target == host || compiler.is_like_clang() || !compiler.is_like_gnu() {
        return Vec::new();
    }
    let sysroot = Command::new(compiler.path())
        .arg("-print-sysroot")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    if !sysroot.is_empty() {
        return vec![
            format!("--sysroot={sysroot}"),
            format!("-isystem{}", Path::new(&sysroot).join("include").display()),
        ];
    }
    let text = preprocess_empty(&compiler, "-v").1;
    let mut args = Vec::new();
    let mut inside = false;
    for line in text.lines() {
        if line.starts_with("#include <...> search starts here") {
            inside = true;
        } else if line.starts_with("End of search list") {
            break;
        } else if inside {
            let dir = PathBuf::from(line.trim());
            let dir = dir.canonicalize().unwrap_or(dir);
            // gcc's internal folders: <prefix>/lib/gcc/<triple>/<version>/include[-fixed].
            let internal = dir.components().any(|c| c.as_os_str() == "gcc")
                && matches!(
                    dir.file_name().and_then(|n| n.to_str()),
                    Some("include" | "include-fixed")
                );
            if !internal {
                args.push(format!("-isystem{}", dir.display()));
            }
        }
    }
    args
}

/// Preprocesses an empty C file with the compiler and its flags plus `flag`: (stdout, stderr).
fn preprocess_empty(compiler: &cc::Tool, flag: &str) -> (String, String) {
    Command::new(compiler.path())
        .args(compiler.args())
        .args(["-xc", "-E", flag, "-"])
        .stdin(std::process::Stdio::null())
        .output()
        .map(|o| {
            (
                String::from_utf8_lossy(&o.stdout).into_owned(),
                String::from_utf8_lossy(&o.stderr).into_owned(),
            )
        })
        .unwrap_or_default()
}

/// For cross gcc toolchains: ABI choices gcc makes differently from clang for the same
/// triple. arm-none-eabi-gcc uses short enums (an enum takes the smallest integer type
/// that holds its values, `__ARM_SIZEOF_MINIMAL_ENUM == 1`); clang's default for
/// `thumbv7em-none-eabihf` is 4 bytes, which would give every lwIP struct with an enum
/// member (e.g. `tcp_pcb.state`) a different layout in the bindings than in the C build.
fn abi_args(build: &cc::Build, target: &str) -> Vec<String> {
    let host = env::var("HOST").unwrap_or_default();
    let compiler = build.get_compiler();
    if target == host || compiler.is_like_clang() || !compiler.is_like_gnu() {
        return Vec::new();
    }
    let macros = preprocess_empty(&compiler, "-dM").0;
    let value = |name: &str| {
        macros.lines().find_map(|l| {
            let rest = l.strip_prefix("#define ")?.strip_prefix(name)?;
            rest.strip_prefix(' ').map(str::trim)
        })
    };
    let mut args = Vec::new();
    match value("__ARM_SIZEOF_MINIMAL_ENUM") {
        Some("1") => args.push("-fshort-enums".to_owned()),
        Some("4") => args.push("-fno-short-enums".to_owned()),
        _ => {}
    }
    if value("__SIZEOF_WCHAR_T__") == Some("2") {
        args.push("-fshort-wchar".to_owned());
    }
    args
}

/// Feature `tls-count`: copies of the system's static mbedTLS archives whose calloc/free
/// references are renamed to `lwipws_mbedtls_calloc`/`lwipws_mbedtls_free` (the program
/// defines them), linked statically.
fn link_counted_mbedtls(build: &cc::Build) {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));
    let compiler = build.get_compiler();
    for name in ["mbedtls", "mbedx509", "mbedcrypto"] {
        let file = format!("lib{name}.a");
        let found = Command::new(compiler.path())
            .arg(format!("-print-file-name={file}"))
            .output()
            .expect("run the C compiler");
        let src = PathBuf::from(String::from_utf8_lossy(&found.stdout).trim());
        assert!(
            src.is_absolute() && src.exists(),
            "tls-count: {file} not found (install libmbedtls-dev)"
        );
        println!("cargo:rerun-if-changed={}", src.display());
        let dst = out.join(format!("lib{name}_counted.a"));
        let status = Command::new("objcopy")
            .args(["--redefine-sym", "calloc=lwipws_mbedtls_calloc"])
            .args(["--redefine-sym", "free=lwipws_mbedtls_free"])
            .arg(&src)
            .arg(&dst)
            .status()
            .expect("run objcopy");
        assert!(status.success(), "objcopy {} failed", src.display());
        println!("cargo:rustc-link-lib=static={name}_counted");
    }
    println!("cargo:rustc-link-search=native={}", out.display());
}
