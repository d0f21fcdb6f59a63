//! Bare-metal runtime (feature `firmware`, without `std`): the panic handler and the global
//! allocator. Compiled out of host builds, which use std's.
//!
//! The allocator is C `malloc`/`free` by default; with feature `lwip-alloc` it is lwIP's
//! heap (`mem_malloc`/`mem_free`, sized by `MEM_SIZE` in lwipopts.h), so the library's
//! buffers and lwIP's pbufs share one fixed region and no C heap is needed.

use core::alloc::{GlobalAlloc, Layout};

extern "C" {
    /// Provided by the firmware: called once when the library hits a bug it cannot
    /// recover from. Must not return (reset, or loop forever).
    fn lwipws_port_panic() -> !;
}

#[cfg(not(feature = "lwip-alloc"))]
mod heap {
    use super::{GlobalAlloc, Layout};
    use core::ffi::c_void;

    extern "C" {
        fn malloc(size: usize) -> *mut c_void;
        fn free(ptr: *mut c_void);
    }

    /// Smallest alignment C `malloc` guarantees on the targets we support (8 on ARM EABI).
    const MALLOC_ALIGN: usize = 8;

    pub struct Heap;

    // SAFETY: malloc/free are thread-safe per the C library contract; layouts with an
    // alignment above what malloc guarantees are refused (null), which GlobalAlloc allows.
    unsafe impl GlobalAlloc for Heap {
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
}

#[cfg(feature = "lwip-alloc")]
mod heap {
    use super::{GlobalAlloc, Layout};
    use lwip_sys as sys;

    /// lwIP's heap. `mem_malloc` returns `MEM_ALIGNMENT`-aligned blocks; a layout that
    /// needs more (the protocol engine needs 8 on Cortex-M) gets a block with room to
    /// align it and, just below the aligned address, a note of where the block starts.
    /// Sizes beyond `mem_size_t` are refused with null. lwIP's heap is only safe from its
    /// core context (or with `LWIP_ALLOW_MEM_FREE_FROM_OTHER_CONTEXT`), which is where
    /// every lwip-ws call runs.
    pub struct Heap;

    /// Bytes of the note kept below an over-aligned block: the block's start.
    const NOTE: usize = core::mem::size_of::<*mut u8>();

    fn over_aligned(layout: &Layout) -> bool {
        layout.align() > sys::MEM_ALIGNMENT as usize
    }

    // SAFETY: every allocation happens in lwIP's core context (the library's threading
    // rule); refused layouts return null, which GlobalAlloc allows; an over-aligned block
    // is aligned inside a larger lwIP block that stays allocated until `dealloc`.
    unsafe impl GlobalAlloc for Heap {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            let extra = if over_aligned(&layout) {
                layout.align() + NOTE
            } else {
                0
            };
            let Some(Ok(size)) = layout
                .size()
                .max(1)
                .checked_add(extra)
                .map(sys::mem_size_t::try_from)
            else {
                return core::ptr::null_mut();
            };
            // SAFETY: plain lwIP heap allocation; null on failure is handled below.
            let block = unsafe { sys::mem_malloc(size) as *mut u8 };
            if block.is_null() || extra == 0 {
                return block;
            }
            let align = layout.align();
            let aligned = (block as usize + NOTE).next_multiple_of(align);
            let ptr = block.wrapping_add(aligned - block as usize);
            // SAFETY: `aligned - NOTE >= block` and `aligned + size <= block + size +
            // extra`: the note and the returned bytes lie inside the block.
            unsafe { ptr.sub(NOTE).cast::<*mut u8>().write_unaligned(block) };
            ptr
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            let block = if over_aligned(&layout) {
                // SAFETY: `alloc` wrote the block's start just below `ptr`.
                unsafe { ptr.sub(NOTE).cast::<*mut u8>().read_unaligned() }
            } else {
                ptr
            };
            // SAFETY: `block` came from mem_malloc in `alloc` above.
            unsafe { sys::mem_free(block.cast()) }
        }
    }
}

#[global_allocator]
static ALLOCATOR: heap::Heap = heap::Heap;

#[panic_handler]
fn panic(_info: &core::panic::PanicInfo<'_>) -> ! {
    // SAFETY: the hook is a plain C function supplied by the firmware that never returns.
    unsafe { lwipws_port_panic() }
}
