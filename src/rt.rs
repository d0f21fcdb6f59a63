//! Bare-metal runtime (feature `firmware`, without `std`): the panic handler and the global
//! allocator. Compiled out of host builds, which use std's.

use core::alloc::{GlobalAlloc, Layout};
use core::ffi::c_void;

extern "C" {
    fn malloc(size: usize) -> *mut c_void;
    fn free(ptr: *mut c_void);
    /// Provided by the firmware: called once when the library hits a bug it cannot
    /// recover from. Must not return (reset, or loop forever).
    fn lwipws_port_panic() -> !;
}

/// Smallest alignment C `malloc` guarantees on the targets we support (8 on ARM EABI).
const MALLOC_ALIGN: usize = 8;

struct CMalloc;

// SAFETY: malloc/free are thread-safe per the C library contract; layouts with an alignment
// above what malloc guarantees are refused (null), which GlobalAlloc allows.
unsafe impl GlobalAlloc for CMalloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.align() > MALLOC_ALIGN {
            return core::ptr::null_mut();
        }
        // SAFETY: plain C allocation; null on failure is handled by the caller.
        unsafe { malloc(layout.size().max(1)) as *mut u8 }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        // SAFETY: `ptr` came from `alloc` above, i.e. from malloc.
        unsafe { free(ptr as *mut c_void) }
    }
}

#[global_allocator]
static ALLOCATOR: CMalloc = CMalloc;

#[panic_handler]
fn panic(_info: &core::panic::PanicInfo<'_>) -> ! {
    // SAFETY: the hook is a plain C function supplied by the firmware that never returns.
    unsafe { lwipws_port_panic() }
}
