//! What application tasks need from lwIP's OS layer (`NO_SYS` 0): the core lock, a binary
//! semaphore to wait on, and the core-lock check. Thin wrappers over the shim; with
//! `NO_SYS` 1 or `LWIP_TCPIP_CORE_LOCKING` 0 the lock is refused and no semaphore exists,
//! so callers report "unsupported" instead of running unlocked.

// `--cfg lwipws_no_tasks` leaves the exported task calls out; their helpers stay.
#![cfg_attr(lwipws_no_tasks, allow(dead_code, unused_imports))]

use core::ffi::c_void;

use super::sys;

/// True when this lwIP build has a tcpip thread (`NO_SYS` 0).
pub(crate) const HAS_TASKS: bool = sys::NO_SYS == 0;

/// How a task call reaches lwIP's core context in this build.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Mode {
    /// `NO_SYS` 1: no tasks.
    None,
    /// `LWIP_TCPIP_CORE_LOCKING` 1: the calling task takes the core lock.
    Lock,
    /// `LWIP_TCPIP_CORE_LOCKING` 0: the work runs in the tcpip thread while the task waits.
    Post,
}

/// This build's mode (asked from the shim: bindgen's constant would be the first
/// definition of a macro the configuration may redefine).
pub(crate) fn mode() -> Mode {
    if !HAS_TASKS {
        return Mode::None;
    }
    // SAFETY: the shim only evaluates configuration macros.
    match unsafe { sys::lwipws_task_support() } {
        1 => Mode::Lock,
        2 => Mode::Post,
        _ => Mode::None,
    }
}

/// True when tasks can use the library's task calls (`NO_SYS` 0, either locking mode).
pub(crate) fn supported() -> bool {
    mode() != Mode::None
}

/// One closure handed to the tcpip thread, and its result.
struct Job<F, R> {
    f: Option<F>,
    out: Option<R>,
}

/// Runs a posted job (tcpip thread).
extern "C" fn run_job<F: FnOnce() -> R, R>(ctx: *mut c_void) {
    // SAFETY: `ctx` is the `Job` of the posting task, which waits in `lwipws_task_post`
    // until this returns, so it is live and nobody else touches it meanwhile.
    let job = unsafe { &mut *ctx.cast::<Job<F, R>>() };
    if let Some(f) = job.f.take() {
        job.out = Some(f());
    }
}

/// Runs `f` in lwIP's core context from a task: under the core lock (`Mode::Lock`), or
/// in the tcpip thread while this task waits (`Mode::Post`; `f` may use this task's
/// stack and buffers, since the call returns only once `f` ran). `None` when the build
/// has no tasks (or the post found no semaphore). Not from an ISR.
pub(crate) fn in_core<R>(f: impl FnOnce() -> R) -> Option<R> {
    match mode() {
        Mode::Lock => {
            let lock = CoreLock::take()?;
            let out = f();
            drop(lock);
            Some(out)
        }
        Mode::Post => post(f),
        Mode::None => None,
    }
}

fn post<F: FnOnce() -> R, R>(f: F) -> Option<R> {
    let mut job = Job {
        f: Some(f),
        out: None,
    };
    let ctx = core::ptr::addr_of_mut!(job).cast::<c_void>();
    // SAFETY: `run_job::<F, R>` matches `job`'s type; the shim returns only after the tcpip
    // thread ran it (or did not post it at all), so `job` outlives its use.
    let rc = unsafe {
        sys::lwipws_task_post(
            Some(run_job::<F, R> as unsafe extern "C" fn(*mut c_void)),
            ctx,
        )
    };
    if rc != 0 {
        return None;
    }
    job.out
}

/// The lwIP core lock (`LOCK_TCPIP_CORE()`), released when dropped.
pub(crate) struct CoreLock(());

impl CoreLock {
    /// Takes the core lock; `None` when the build has no core locking.
    pub(crate) fn take() -> Option<CoreLock> {
        if !HAS_TASKS {
            return None;
        }
        // SAFETY: LOCK_TCPIP_CORE() may be called from any task (not from an ISR, which
        // the callers' contracts exclude); the shim returns -1 when it does not exist.
        (unsafe { sys::lwipws_task_lock() } == 0).then_some(CoreLock(()))
    }
}

impl Drop for CoreLock {
    fn drop(&mut self) {
        // SAFETY: this task took the lock in `take` and releases it once.
        unsafe { sys::lwipws_task_unlock() }
    }
}

/// A binary semaphore (lwIP's `sys_sem_t`): one waiter at a time wakes per signal.
pub(crate) struct Sem(*mut c_void);

impl Sem {
    /// A new semaphore, not signalled; `None` without an OS layer or memory.
    pub(crate) fn new() -> Option<Sem> {
        if !HAS_TASKS {
            return None;
        }
        // SAFETY: no preconditions; NULL means none was made.
        let raw = unsafe { sys::lwipws_sem_new() };
        (!raw.is_null()).then_some(Sem(raw))
    }

    /// Wakes one waiter (or the next one to wait).
    pub(crate) fn signal(&self) {
        // SAFETY: the semaphore is live until drop.
        unsafe { sys::lwipws_sem_signal(self.0) }
    }

    /// Waits up to `ms` (at least 1) milliseconds; true when signalled.
    pub(crate) fn wait(&self, ms: u32) -> bool {
        // SAFETY: the semaphore is live until drop; the caller holds no core lock.
        unsafe { sys::lwipws_sem_wait(self.0, ms.max(1)) == 0 }
    }
}

impl Drop for Sem {
    fn drop(&mut self) {
        // SAFETY: made by lwipws_sem_new, freed once; nobody waits on it any more (its
        // owner is freed only when no task uses it).
        unsafe { sys::lwipws_sem_free(self.0) }
    }
}

/// `LWIP_ASSERT_CORE_LOCKED()`: the port's check that the caller holds the core lock (or
/// is the tcpip thread); nothing when the port defines no check (`NO_SYS` builds).
pub(crate) fn assert_core_locked() {
    // SAFETY: evaluates the port's check macro; no preconditions.
    unsafe { sys::lwipws_assert_core_locked() }
}
