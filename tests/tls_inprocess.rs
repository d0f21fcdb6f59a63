//! TLS on in-process lwIP (feature `tls`: lwIP's altcp_tls over Debian's mbedTLS 2.28,
//! loopback netif), through the C API: TLS and plain listeners side by side, the verified
//! client (good, wrong name, untrusted, expired, no CA, explicitly insecure),
//! `websocket_accept` on an application's own TLS pcb, and bad input on the TLS port
//! (plain HTTP, random bytes, a peer that stops mid-handshake). Certificates are made at
//! test time by tests/tls/make-certs.sh. Afterwards lwIP's heap and pools are back where
//! they started (Debian's mbedTLS allocates from the C library, not from lwIP's heap:
//! tests/tls counts its blocks in the C programs).
//!
//! Run with `cargo test --features host-lwip,tls --test tls_inprocess`.
#![cfg(all(feature = "host-lwip", feature = "tls"))]

mod support;

use core::ffi::{c_char, c_int, c_void};
use std::ffi::CStr;
use std::path::{Path, PathBuf};

use lwip_sys::*;
use lwip_ws::capi::*;
use support::*;

extern "C" {
    // lwIP's own (lwip/altcp_tls.h), as an application calls it.
    fn altcp_tls_new(config: *mut c_void, ip_type: u8) -> *mut lwipws_pcb;
}

/// A WSListener that upgrades every WebSocket request into a pool slot (echo) and answers
/// "/" with a page.
#[repr(C)]
struct Server {
    l: WSListener,
    slots: Vec<WSS>,
    side: Shared<Side>,
}

unsafe extern "C" fn on_request(l: *mut WSListener, req: *mut HttpRequest) {
    let srv = &mut *l.cast::<Server>();
    if HttpRequest_isWebSocket(req) == 0 {
        let body = b"<html>tls</html>";
        let rc = HttpRequest_respond(req, 200, c"text/html".as_ptr(), body.as_ptr().cast(), 16);
        assert_eq!(rc, LWIP_WS_OK);
        return;
    }
    let cb: *mut WSSCB = srv.side.cb_ptr();
    for slot in srv.slots.iter_mut() {
        if WSS_constructor(slot, cb, 256, 256) == LWIP_WS_OK {
            assert_eq!(WSS_setMaxMessage(slot, 1 << 20), LWIP_WS_OK);
            assert_eq!(WSS_setSendQueue(slot, (1 << 20) + 14), LWIP_WS_OK);
            // A refused upgrade was answered by the library.
            let _ = WSS_upgrade(slot, req);
            return;
        }
    }
    assert_eq!(HttpRequest_reject(req, 503), LWIP_WS_OK);
}

fn server(port: u16, tls: Option<*mut WSTlsConfig>) -> Shared<Server> {
    let mut srv = Shared::new(Server {
        l: WSListener {
            _opaque: [0; LWIP_WS_LISTENER_WORDS],
        },
        slots: (0..8)
            .map(|_| WSS {
                _opaque: [0; LWIP_WS_WSS_WORDS],
            })
            .collect(),
        side: Side::new(true),
    });
    unsafe {
        assert_eq!(
            WSListener_constructor(&mut srv.l, Some(on_request)),
            LWIP_WS_OK
        );
        assert_eq!(WSListener_setHandshakeTimeout(&mut srv.l, 3000), LWIP_WS_OK);
        let rc = match tls {
            Some(cfg) => WSListener_listenTls(&mut srv.l, std::ptr::null(), port, cfg),
            None => WSListener_listen(&mut srv.l, std::ptr::null(), port),
        };
        assert_eq!(rc, LWIP_WS_OK);
    }
    srv
}

fn stop(mut srv: Shared<Server>) {
    unsafe {
        WSListener_destructor(&mut srv.l);
        for slot in srv.slots.iter_mut() {
            WSS_destructor(slot);
        }
    }
}

fn certs() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lwip-ws-tls-{}", std::process::id()));
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tls/make-certs.sh");
    let ok = std::process::Command::new(script)
        .arg(&dir)
        .status()
        .expect("run make-certs.sh");
    assert!(ok.success(), "make-certs.sh failed");
    dir
}

fn read(dir: &Path, name: &str) -> Vec<u8> {
    std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn server_config(dir: &Path, cert: &str, key: &str) -> *mut WSTlsConfig {
    let (cert, key) = (read(dir, cert), read(dir, key));
    let mut cfg = std::ptr::null_mut();
    let rc = unsafe {
        WSTls_serverConfig(
            cert.as_ptr().cast(),
            cert.len() as c_int,
            key.as_ptr().cast(),
            key.len() as c_int,
            std::ptr::null(),
            &mut cfg,
        )
    };
    assert_eq!(rc, LWIP_WS_OK);
    cfg
}

fn client_config(ca: Option<&[u8]>) -> *mut WSTlsConfig {
    let mut cfg = std::ptr::null_mut();
    let (p, n) = ca.map_or((std::ptr::null(), 0), |c| (c.as_ptr(), c.len() as c_int));
    let rc = unsafe {
        WSTls_clientConfig(
            p.cast(),
            n,
            std::ptr::null(),
            0,
            std::ptr::null(),
            0,
            std::ptr::null(),
            &mut cfg,
        )
    };
    assert_eq!(rc, LWIP_WS_OK);
    cfg
}

/// Opens a TLS client to `port` as `host` and runs until it opened or closed.
fn client(port: u16, host: &CStr, cfg: *mut WSTlsConfig) -> (Box<WSS>, Shared<Side>) {
    let side = Side::new(false);
    let mut wss = new_wss();
    let addr = loopback();
    unsafe {
        assert_eq!(
            WSS_constructor(&mut *wss, side.cb_ptr(), 256, 256),
            LWIP_WS_OK
        );
        assert_eq!(WSS_setMaxMessage(&mut *wss, 1 << 20), LWIP_WS_OK);
        assert_eq!(WSS_setSendQueue(&mut *wss, (1 << 20) + 14), LWIP_WS_OK);
        let rc = WSS_openClientTls(
            &mut *wss,
            &addr,
            port,
            host.as_ptr(),
            c"/echo".as_ptr(),
            std::ptr::null(),
            cfg,
        );
        assert_eq!(rc, LWIP_WS_OK);
    }
    let s: *const Side = &*side;
    pump(50_000, || unsafe { !(*s).events.is_empty() });
    (wss, side)
}

fn verify_error() -> (c_int, String) {
    let mut buf = [0 as c_char; 512];
    let flags = unsafe { WSTls_verifyError(buf.as_mut_ptr(), buf.len() as c_int) };
    let text = unsafe { CStr::from_ptr(buf.as_ptr()) }
        .to_string_lossy()
        .into_owned();
    (flags, text)
}

/// Echo of text, 60 KiB binary, a ping, and a close with 4001 the server sees.
fn exchange(wss: &mut WSS, side: &Side, srv: &Server) {
    let big: Vec<u8> = (0..60 * 1024u32).map(|i| (i * 7 + 3) as u8).collect();
    unsafe {
        assert_eq!(
            WSS_write(wss, b"hello tls".as_ptr().cast(), 9, 1),
            LWIP_WS_OK
        );
        assert_eq!(
            WSS_write(wss, big.as_ptr().cast(), big.len() as c_int, 0),
            LWIP_WS_OK
        );
        assert_eq!(WSS_ping(wss, b"p".as_ptr().cast(), 1), LWIP_WS_OK);
    }
    let s: *const Side = side;
    pump(200_000, || unsafe {
        (*s).messages().len() == 2 && (*s).events.contains(&Ev::Pong(b"p".to_vec()))
    });
    assert_eq!(
        side.messages(),
        vec![(true, b"hello tls".to_vec()), (false, big)]
    );
    unsafe { assert_eq!(WSS_close(wss, 4001), LWIP_WS_OK) };
    let srv_side: *const Side = &*srv.side;
    pump(50_000, || unsafe {
        !(*s).closes().is_empty() && (*srv_side).closes().contains(&4001)
    });
    assert_eq!(side.closes(), vec![4001]);
}

#[test]
fn tls_listener_verified_client_bad_certificates_and_bad_input() {
    let _g = lock();
    settle();
    let baseline = usage();
    let dir = certs();
    let ca = read(&dir, "ca.pem");

    let good = server_config(&dir, "server.pem", "server.key");
    let expired = server_config(&dir, "expired.pem", "server.key");
    let selfsigned = server_config(&dir, "self.pem", "self.key");
    let trusting = client_config(Some(&ca));

    let tls = server(4431, Some(good));
    let plain = server(8081, None);
    let old = server(4432, Some(expired));
    let untrusted = server(4433, Some(selfsigned));

    // Verified: the chain, the dates and the name all check out.
    let (mut wss, side) = client(4431, c"localhost", trusting);
    assert_eq!(
        side.events.first(),
        Some(&Ev::Open(None)),
        "{:?}",
        verify_error()
    );
    exchange(&mut wss, &side, &tls);

    // Plain next to TLS.
    let pside = Side::new(false);
    let mut pwss = new_wss();
    unsafe {
        assert_eq!(
            WSS_constructor(&mut *pwss, pside.cb_ptr(), 256, 256),
            LWIP_WS_OK
        );
        let addr = loopback();
        let rc = WSS_openClient(
            &mut *pwss,
            &addr,
            8081,
            c"127.0.0.1".as_ptr(),
            c"/".as_ptr(),
            std::ptr::null(),
        );
        assert_eq!(rc, LWIP_WS_OK);
    }
    let ps: *const Side = &*pside;
    pump(20_000, || unsafe { !(*ps).events.is_empty() });
    assert_eq!(pside.events.first(), Some(&Ev::Open(None)));
    exchange(&mut pwss, &pside, &plain);

    // Refused, each with the status and the reason.
    for (port, host, cfg, reason) in [
        (4431, c"wrong.example", trusting, "CN"),
        (4433, c"localhost", trusting, "not correctly signed"),
        (4432, c"localhost", trusting, "expired"),
    ] {
        let (_w, side) = client(port, host, cfg);
        assert_eq!(
            side.events,
            vec![Ev::Close(LWIP_WS_DROP_TLS_VERIFY_FAILED)],
            "{host:?} {port}"
        );
        let (flags, text) = verify_error();
        assert!(
            flags > 0 && text.contains(reason),
            "{port} {host:?}: {flags:#x} {text}"
        );
    }
    // No CA list: nothing verifies, until verification is turned off explicitly.
    let no_ca = client_config(None);
    let (_w, side) = client(4431, c"localhost", no_ca);
    assert_eq!(side.events, vec![Ev::Close(LWIP_WS_DROP_TLS_VERIFY_FAILED)]);
    unsafe { assert_eq!(WSTls_insecureSkipVerify(no_ca), LWIP_WS_OK) };
    let (mut w, side) = client(4433, c"anything", no_ca);
    assert_eq!(side.events.first(), Some(&Ev::Open(None)));
    exchange(&mut w, &side, &untrusted);

    // websocket_accept on the application's own TLS listener pcb.
    let mut app = Shared::new(AppTls {
        wss: WSS {
            _opaque: [0; LWIP_WS_WSS_WORDS],
        },
        side: Side::new(true),
    });
    let lpcb = unsafe {
        let pcb = altcp_tls_new(WSTls_altcpConfig(good), IPADDR_TYPE_ANY as u8);
        assert!(!pcb.is_null());
        assert_eq!(lwipws_bind(pcb, std::ptr::null(), 4434), ERR_OK as err_t);
        let lpcb = lwipws_listen(pcb, 4);
        let arg: *mut AppTls = app.as_ptr();
        lwipws_arg(lpcb, arg.cast());
        lwipws_accept(lpcb, Some(app_accept));
        lpcb
    };
    let (mut w, side) = client(4434, c"localhost", trusting);
    assert_eq!(side.events.first(), Some(&Ev::Open(None)));
    let srv = Server {
        l: WSListener {
            _opaque: [0; LWIP_WS_LISTENER_WORDS],
        },
        slots: Vec::new(),
        side: Side::new(true),
    };
    let app_side: *const Side = &*app.side;
    let side_ptr: *const Side = &*side;
    unsafe { assert_eq!(WSS_write(&mut *w, b"app".as_ptr().cast(), 3, 1), LWIP_WS_OK) };
    pump(20_000, || unsafe { !(*side_ptr).messages().is_empty() });
    assert_eq!(side.messages(), vec![(true, b"app".to_vec())]);
    unsafe { assert_eq!(WSS_close(&mut *w, 1000), LWIP_WS_OK) };
    pump(20_000, || unsafe {
        (*app_side).closes() == vec![1000] && !(*side_ptr).closes().is_empty()
    });
    drop(srv);
    unsafe { assert_eq!(WSTls_closeListener(lpcb), LWIP_WS_OK) };

    // Bad input on the TLS port: each ends, and the listener's slot is free again.
    let mut http = RawClient::connect(4431);
    http.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    let mut junk = RawClient::connect(4431);
    let bytes: Vec<u8> = (0..600u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    junk.send(&bytes);
    let silent = RawClient::connect(4431);
    let (h, j): (*const RawClient, *const RawClient) = (&*http, &*junk);
    pump(20_000, || unsafe {
        ((*h).fin || (*h).err.is_some()) && ((*j).fin || (*j).err.is_some())
    });
    assert!(
        !http.text().contains("HTTP/1.1 200"),
        "plain HTTP got an answer: {}",
        http.text()
    );
    // The silent peer: dropped at the listener's handshake timeout (3 s), not before.
    unsafe { unixport_run_for(2000) };
    assert!(
        !silent.fin && silent.err.is_none(),
        "dropped before the handshake timeout"
    );
    let s: *const RawClient = &*silent;
    for _ in 0..40 {
        unsafe { unixport_run_for(250) };
        if unsafe { (*s).fin || (*s).err.is_some() } {
            break;
        }
    }
    assert!(
        silent.fin || silent.err.is_some(),
        "stalled TLS handshake not dropped"
    );
    for mut c in [http, junk, silent] {
        c.finish(true);
    }

    for srv in [tls, plain, old, untrusted] {
        stop(srv);
    }
    unsafe { WSS_destructor(&mut app.wss) };
    run_steps(200);
    for cfg in [good, expired, selfsigned, trusting, no_ca] {
        unsafe { WSTls_freeConfig(cfg) };
    }
    settle();
    assert_eq!(usage(), baseline);
    let _ = std::fs::remove_dir_all(dir);
}

#[repr(C)]
struct AppTls {
    wss: WSS,
    side: Shared<Side>,
}

unsafe extern "C" fn app_accept(arg: *mut c_void, newpcb: *mut lwipws_pcb, e: err_t) -> err_t {
    let app = &mut *arg.cast::<AppTls>();
    if e != ERR_OK as err_t || newpcb.is_null() {
        return ERR_VAL as err_t;
    }
    assert_eq!(
        WSS_constructor(&mut app.wss, app.side.cb_ptr(), 256, 256),
        LWIP_WS_OK
    );
    assert_eq!(websocket_accept(newpcb, &mut app.wss), LWIP_WS_OK);
    ERR_OK as err_t
}

#[test]
fn config_arguments_are_checked() {
    let _g = lock();
    let mut cfg: *mut WSTlsConfig = std::ptr::null_mut();
    let junk = b"-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n";
    unsafe {
        let p = junk.as_ptr().cast();
        let n = junk.len() as c_int;
        let null: *const c_void = std::ptr::null();
        let nulls: *const c_char = std::ptr::null();
        assert_eq!(
            WSTls_serverConfig(null, 0, p, n, nulls, &mut cfg),
            LWIP_WS_ERR_ARG
        );
        assert_eq!(
            WSTls_serverConfig(p, n, p, n, nulls, std::ptr::null_mut()),
            LWIP_WS_ERR_ARG
        );
        assert_eq!(
            WSTls_serverConfig(p, n, p, n, nulls, &mut cfg),
            LWIP_WS_ERR_TLS
        );
        assert_eq!(
            WSTls_clientConfig(p, n, null, 0, null, 0, nulls, &mut cfg),
            LWIP_WS_ERR_TLS
        );
        assert_eq!(
            WSTls_clientConfig(p, -1, null, 0, null, 0, nulls, &mut cfg),
            LWIP_WS_ERR_ARG
        );
        assert_eq!(
            WSTls_clientConfig(null, 0, p, n, null, 0, nulls, &mut cfg),
            LWIP_WS_ERR_ARG
        );
        assert!(cfg.is_null(), "written on failure");
        assert_eq!(
            WSTls_insecureSkipVerify(std::ptr::null_mut()),
            LWIP_WS_ERR_ARG
        );
        assert_eq!(WSTls_verifyError(std::ptr::null_mut(), 10), LWIP_WS_ERR_ARG);
        WSTls_freeConfig(std::ptr::null_mut());
        let mut wss = new_wss();
        let addr = loopback();
        assert_eq!(
            WSS_openClientTls(
                &mut *wss,
                &addr,
                1,
                c"h".as_ptr(),
                c"/".as_ptr(),
                nulls,
                std::ptr::null_mut()
            ),
            LWIP_WS_ERR_ARG
        );
        let mut l = WSListener {
            _opaque: [0; LWIP_WS_LISTENER_WORDS],
        };
        assert_eq!(
            WSListener_listenTls(&mut l, std::ptr::null(), 1, std::ptr::null_mut()),
            LWIP_WS_ERR_ARG
        );
    }
}
