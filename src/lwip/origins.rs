//! The `Origin` policy of server connections whose request no `WSListener` routes
//! (`websocket_accept`): the request's own origin, no `Origin` at all, and the origins of
//! one allow-list set by the application (`*` for any). A listener has its own list.

use core::sync::atomic::{AtomicPtr, AtomicUsize, Ordering::Relaxed};

static LIST: AtomicPtr<u8> = AtomicPtr::new(core::ptr::null_mut());
static LEN: AtomicUsize = AtomicUsize::new(0);

/// Sets the allow-list (`None`: only the request's own origin, the default).
///
/// Called only in lwIP's core context, which is also the only place [`get`] runs, so the
/// two stores are never seen half done.
pub fn set(list: Option<&'static [u8]>) {
    let list = list.unwrap_or_default();
    LEN.store(0, Relaxed);
    LIST.store(list.as_ptr().cast_mut(), Relaxed);
    LEN.store(list.len(), Relaxed);
}

/// The allow-list in force (empty: none).
pub fn get() -> &'static [u8] {
    let (ptr, len) = (LIST.load(Relaxed), LEN.load(Relaxed));
    if ptr.is_null() || len == 0 {
        return &[];
    }
    // SAFETY: `set` stored a `'static` slice's pointer and length.
    unsafe { core::slice::from_raw_parts(ptr, len) }
}
