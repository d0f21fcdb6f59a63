//! One connection (a WebSocket, or an HTTP request before its upgrade) on an lwIP pcb:
//! the [`Conn`] state that lives in caller storage, and the rules every part keeps.
//!
//! The parts, each in its own file:
//! - `lifecycle`: attaching to a pcb, starting (server, taken-over, client), closing,
//!   finishing, and lwIP's poll/err/sent/connected callbacks with the timers;
//! - `recv`: lwIP's recv callback, pbuf chains into the engine, events out to the hooks,
//!   receive flow control;
//! - `send`: writes (queued, small at once, large straight from the caller) and moving
//!   queued output into lwIP.
//!
//! Guarantees kept here:
//! - each pbuf is freed exactly once, and `altcp_recved` is called for the bytes the engine
//!   consumed (received data held while reading is paused is acknowledged when it is
//!   delivered);
//! - output moves into `altcp_write` no further than `altcp_sndbuf`; `ERR_MEM` keeps it
//!   queued for the sent and poll callbacks;
//! - after the err callback the pcb is never touched;
//! - the owner's `closed` hook is the last hook of a connection, called exactly once, and
//!   nothing here touches the `Conn` after it (the owner may reuse the storage);
//! - a hook may destroy or close its own connection: every hook call is fenced by a guard
//!   on the caller's stack, so nothing touches a `Conn` that went away inside a hook.

use alloc::boxed::Box;
use core::ffi::{c_char, c_void};
use core::ptr;

use super::{budget, now_ms, sys};
use crate::proto::{Config, Connection, Parked, SendError, State};

mod lifecycle;
mod recv;
mod send;

#[cfg(feature = "listener")]
pub(crate) use lifecycle::adopt;
#[cfg(feature = "client")]
pub use lifecycle::start_client;
#[cfg(all(feature = "client", feature = "tls"))]
pub(crate) use lifecycle::start_client_on;
pub(crate) use lifecycle::{after_activity, finish};
pub use lifecycle::{close, destroy, start_open, start_server};
pub use recv::{pause_read, resume_read};
use send::flush;
#[cfg(feature = "listener")]
pub use send::respond_static;
pub use send::{ping, write, write_fragment};

/// How a connection ended, as given to the owner's `closed` hook.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// The close handshake finished with this code (the peer's; or ours when we failed the
    /// connection for a protocol error).
    Code(u16),
    /// TCP reset by the peer.
    Reset,
    /// lwIP aborted the pcb.
    Aborted,
    /// The peer closed TCP without a close handshake.
    PeerClosed,
    /// The opening handshake timed out.
    HandshakeTimeout,
    /// The peer never answered our close frame (or never read it).
    CloseTimeout,
    /// The opening handshake failed (bad request or bad response).
    HandshakeFailed,
    /// A client's TCP connect failed.
    ConnectFailed,
    /// Out of memory.
    NoMem,
    /// Closed locally before the handshake finished.
    Local,
    /// Keep-alive: the peer did not answer our ping (nor send anything) in time.
    KeepAliveTimeout,
    /// A started message received no byte within the message timeout.
    MessageTimeout,
    /// Client over TLS: the server's certificate chain or host name did not verify.
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    TlsVerifyFailed,
}

/// What the owner of a connection is told. Every hook may call back into this module
/// (write, close, destroy) for the same or another connection.
pub struct Hooks {
    /// Client: the handshake finished; `protocol` is the selected subprotocol or NULL.
    pub open: unsafe fn(conn: *mut Conn, protocol: *const c_char),
    /// A whole message; `data[len]` is a readable 0 byte.
    pub message: unsafe fn(conn: *mut Conn, data: *mut u8, len: usize, text: bool),
    /// Streaming mode: a piece of a message at `offset`; `last` ends the message.
    pub chunk: unsafe fn(conn: *mut Conn, piece: Piece),
    /// A ping arrived (the pong is already queued).
    pub ping: unsafe fn(conn: *mut Conn, data: *mut u8, len: usize),
    /// A pong arrived.
    pub pong: unsafe fn(conn: *mut Conn, data: *mut u8, len: usize),
    /// The send queue has room again after a refused write.
    pub writable: unsafe fn(conn: *mut Conn),
    /// A server connection received a request head (read it with
    /// [`Conn::request`]); the hook must answer it (the engine's `accept`, `reject` or
    /// `respond`, or move the connection elsewhere). Returns the connection that goes on
    /// receiving: `conn` itself, another one the connection moved into, or null when
    /// nothing goes on. `None`: accept any valid upgrade whose origin is allowed.
    pub request: Option<unsafe fn(conn: *mut Conn) -> *mut Conn>,
    /// The last hook: the connection is over; the storage may be reused.
    pub closed: unsafe fn(conn: *mut Conn, ending: Ending),
}

/// A piece of a message in streaming mode (not NUL-terminated).
#[derive(Clone, Copy, Debug)]
pub struct Piece {
    /// The unmasked bytes.
    pub data: *mut u8,
    /// How many.
    pub len: usize,
    /// Text (or binary) message.
    pub text: bool,
    /// Offset of `data` within the message.
    pub offset: u64,
    /// The message's last piece.
    pub last: bool,
}

/// Why a call on a connection was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpError {
    /// Not allowed in the current state.
    State,
    /// Bad argument (close code, string).
    Arg,
    /// Queue full; try again when writable.
    WouldBlock,
    /// Larger than the queue limit / control payload limit.
    TooBig,
    /// Out of memory (heap or lwIP pool).
    NoMem,
    /// lwIP refused.
    Lwip,
}

impl From<SendError> for OpError {
    fn from(e: SendError) -> Self {
        match e {
            SendError::WouldBlock => OpError::WouldBlock,
            SendError::TooLarge => OpError::TooBig,
            SendError::NotOpen | SendError::FragmentState => OpError::State,
            SendError::InvalidClose => OpError::Arg,
            SendError::OutOfMemory => OpError::NoMem,
        }
    }
}

/// Largest payload sent by [`write`]'s fast path (the frame is built on the stack), and
/// largest message NUL-terminated on the stack when it ends where its pbuf does.
const DIRECT_MAX: usize = 128;

const WANT_WRITABLE: u8 = 1;
const FATAL: u8 = 2;
const CONNECTED: u8 = 4;
const DRAINING: u8 = 8;
/// lwIP's Nagle algorithm is on for this pcb (only in the middle of a fragmented message).
const NAGLE: u8 = 16;
/// The application paused reading (`WSS_pauseRead`): received data is held, unacknowledged.
const PAUSED: u8 = 32;
/// The peer's FIN arrived while data was held: it takes effect once that is delivered.
const FIN_HELD: u8 = 64;
/// TLS client: check the server's certificate when the TLS handshake is done (see
/// `lwip::tls`).
#[cfg_attr(not(feature = "tls"), allow(dead_code))]
pub(crate) const TLS_VERIFY: u8 = 128;

/// A connection's engine (on the heap while awake), or what a parked engine remembers,
/// or just the configuration while no connection runs: `WSS` storage stays small, and an
/// idle open connection holds no heap.
enum Slot {
    Idle(Config),
    Active(EngineBox),
    Parked(Parked),
}

/// What an awake connection keeps on the heap: the engine, what it charged to the heap
/// budget, and received data held while reading is paused. Only an awake connection can
/// hold data or be paused with data pending (it never parks then), so none of this costs
/// `WSS` storage.
pub(crate) struct Awake {
    pub(crate) engine: Connection,
    /// Bytes this connection charged to [`budget`] at its last [`Conn::settle`].
    charged: usize,
    /// Received pbufs not yet fed to the engine (a chain; null: none), and not yet
    /// acknowledged to lwIP with `altcp_recved`.
    held: *mut sys::pbuf,
}

impl Awake {
    /// The heap this holds: its own block and the engine's buffers.
    fn heap_bytes(&self) -> usize {
        core::mem::size_of::<Awake>() + self.engine.heap_bytes()
    }
}

impl Drop for Awake {
    fn drop(&mut self) {
        budget::recharge(self.charged, 0);
        if !self.held.is_null() {
            // SAFETY: the chain is ours (taken from lwIP's recv callback) and freed once.
            unsafe { sys::pbuf_free(self.held) };
        }
    }
}

/// Engine + pcb + bookkeeping. Lives in caller storage (`WSS`) or in a heap box (an HTTP
/// connection owned by a listener).
pub struct Conn {
    pub(crate) hooks: &'static Hooks,
    /// The owner's pointer (the `WSSCB*` or the listener).
    pub(crate) user: *mut c_void,
    /// The configuration while idle; the engine (which holds it) while active.
    slot: Slot,
    pub(crate) pcb: *mut sys::lwipws_pcb,
    /// While a hook runs: the caller's "still alive" flag (see [`call_hook`]).
    guard: *mut bool,
    /// Set when the engine reached `Closed`: what the `closed` hook will be told.
    ending: Option<Ending>,
    /// When draining (or closing) started, for the close timeout.
    since_ms: u32,
    flags: u8,
}

impl Conn {
    /// An idle connection with this owner.
    pub fn new(hooks: &'static Hooks, user: *mut c_void, cfg: Config) -> Conn {
        Conn {
            hooks,
            user,
            slot: Slot::Idle(cfg),
            pcb: ptr::null_mut(),
            guard: ptr::null_mut(),
            ending: None,
            since_ms: 0,
            flags: 0,
        }
    }

    /// True while a pcb is attached (from start until the `closed` hook).
    pub fn is_active(&self) -> bool {
        !matches!(self.slot, Slot::Idle(_))
    }

    /// The engine, while active and awake.
    pub(crate) fn engine(&self) -> Option<&Connection> {
        match &self.slot {
            Slot::Active(awake) => Some(&awake[0].engine),
            Slot::Idle(_) | Slot::Parked(_) => None,
        }
    }

    /// The awake part (engine, budget charge, held data), while active and awake.
    pub(crate) fn awake_mut(&mut self) -> Option<&mut Awake> {
        match &mut self.slot {
            Slot::Active(awake) => Some(&mut awake[0]),
            Slot::Idle(_) | Slot::Parked(_) => None,
        }
    }

    /// The engine, while active and awake (a parked engine stays parked: see [`Conn::wake`]).
    pub(crate) fn engine_mut(&mut self) -> Option<&mut Connection> {
        self.awake_mut().map(|awake| &mut awake.engine)
    }

    /// The engine, woken first if it is parked (one allocation). `State` when no
    /// connection runs, `NoMem` when the heap has no room for the engine.
    pub(crate) fn wake(&mut self) -> Result<&mut Connection, OpError> {
        if let Slot::Parked(parked) = self.slot {
            let engine = boxed(parked.unpark(now_ms())).ok_or(OpError::NoMem)?;
            self.slot = Slot::Active(engine);
        }
        // Under a budget: charge what changed since the last call, and let the engine grow
        // only within what the budget leaves now (other connections may have grown
        // meanwhile). Without one the engine has no limit and the charge is brought up to
        // date after the operation (`after_activity`, the send paths), which keeps this
        // per-message path as cheap as it was.
        if budget::limit() != 0 {
            self.settle();
        }
        self.engine_mut().ok_or(OpError::State)
    }

    /// Charges what the connection holds now to the heap budget, and lets its engine grow
    /// only within what the budget leaves.
    pub(crate) fn settle(&mut self) {
        if let Some(awake) = self.awake_mut() {
            let held = awake.heap_bytes();
            budget::recharge(awake.charged, held);
            awake.charged = held;
            let room = budget::allowance(held).saturating_sub(core::mem::size_of::<Awake>());
            awake.engine.set_heap_limit(room);
        }
    }

    /// True when the connection is parked and its keep-alive ping is due (it must wake
    /// for its engine to send it).
    pub(crate) fn keepalive_due(&self, now_ms: u32) -> bool {
        matches!(&self.slot, Slot::Parked(parked) if parked.due(now_ms))
    }

    /// Bytes of received data held unacknowledged while reading is paused (lwIP's pbufs,
    /// at most one receive window).
    pub fn held_bytes(&self) -> usize {
        match &self.slot {
            // SAFETY: a non-null held chain is ours and valid until freed.
            Slot::Active(awake) if !awake[0].held.is_null() => {
                usize::from(unsafe { (*awake[0].held).tot_len })
            }
            _ => 0,
        }
    }

    /// True while received data waits in the connection (reading paused, or a FIN behind
    /// held data).
    pub(crate) fn holds_data(&self) -> bool {
        match &self.slot {
            Slot::Active(awake) => !awake[0].held.is_null(),
            Slot::Idle(_) | Slot::Parked(_) => false,
        }
    }

    /// lwIP refused a write with an error other than `ERR_MEM`: the connection is aborted
    /// at the next callback.
    fn lwip_failed(&mut self) -> OpError {
        self.flags |= FATAL;
        OpError::Lwip
    }

    /// The heap ran out where the connection cannot go on: it ends with
    /// [`Ending::NoMem`] at the next callback.
    fn out_of_memory(&mut self) {
        self.flags |= FATAL;
        self.ending = Some(Ending::NoMem);
    }

    /// Parks the engine when it has nothing in progress (see `Connection::park`): its
    /// heap goes back, the connection keeps only what it must remember.
    fn park_if_idle(&mut self) {
        if self.flags & (WANT_WRITABLE | FATAL | FIN_HELD) != 0 || self.holds_data() {
            return;
        }
        if let Some(parked) = self.engine().and_then(Connection::park) {
            // Dropping the awake part gives its budget charge back.
            self.slot = Slot::Parked(parked);
        }
    }

    /// The configuration (the engine's while active).
    pub(crate) fn config(&self) -> Config {
        match &self.slot {
            Slot::Active(awake) => *awake[0].engine.config(),
            Slot::Parked(parked) => *parked.config(),
            Slot::Idle(cfg) => *cfg,
        }
    }

    /// The configuration, changeable while idle only.
    pub(crate) fn idle_config_mut(&mut self) -> Option<&mut Config> {
        match &mut self.slot {
            Slot::Idle(cfg) => Some(cfg),
            Slot::Active(_) | Slot::Parked(_) => None,
        }
    }

    /// Runs `engine` from now on. `NoMem` (and nothing changes) when the heap has no room
    /// for it.
    pub(crate) fn activate(&mut self, engine: Connection) -> Result<(), OpError> {
        self.slot = Slot::Active(boxed(engine).ok_or(OpError::NoMem)?);
        self.settle();
        Ok(())
    }

    /// Runs an engine taken from another connection ([`Conn::take_engine`]).
    pub(crate) fn adopt_engine(&mut self, engine: EngineBox) {
        self.slot = Slot::Active(engine);
    }

    /// Takes the engine out, leaving the connection idle with the engine's configuration.
    /// `None` when no engine is awake (a parked one is dropped).
    pub(crate) fn take_engine(&mut self) -> Option<EngineBox> {
        let idle = Slot::Idle(self.config());
        match core::mem::replace(&mut self.slot, idle) {
            Slot::Active(engine) => Some(engine),
            Slot::Idle(_) | Slot::Parked(_) => None,
        }
    }

    /// True when messages may be sent (handshake done, no close started, not failing).
    pub fn is_open(&self) -> bool {
        self.state() == Some(State::Open) && !self.is_failing()
    }

    /// True once the connection cannot go on (a frame may be cut short on the wire): it
    /// ends at the next callback, and until then nothing more is written or delivered.
    pub(crate) fn is_failing(&self) -> bool {
        self.flags & FATAL != 0
    }

    /// The engine's state, if active.
    pub fn state(&self) -> Option<State> {
        match &self.slot {
            Slot::Active(awake) => Some(awake[0].engine.state()),
            Slot::Parked(_) => Some(State::Open),
            Slot::Idle(_) => None,
        }
    }

    /// Bytes waiting in the send queue.
    pub fn queued(&self) -> usize {
        self.engine().map_or(0, Connection::queued)
    }

    /// Heap held by this connection: the awake engine and its buffers (nothing while
    /// parked or idle). Held pbufs are lwIP's memory, bounded by its receive window, and
    /// not counted here.
    pub fn heap_bytes(&self) -> usize {
        match &self.slot {
            Slot::Active(awake) => awake[0].heap_bytes(),
            Slot::Idle(_) | Slot::Parked(_) => 0,
        }
    }
}

/// The size of the heap block an awake connection's engine lives in.
pub const ENGINE_BLOCK_BYTES: usize = core::mem::size_of::<Awake>();

/// An engine on the heap (a one-element array: a thin pointer; made by [`boxed`], which
/// returns `None` rather than abort when the heap is full).
pub(crate) type EngineBox = Box<[Awake; 1]>;

/// Moves `engine` to the heap; `None` when the allocator refuses.
fn boxed(engine: Connection) -> Option<EngineBox> {
    let layout = core::alloc::Layout::new::<[Awake; 1]>();
    let awake = Awake {
        engine,
        charged: 0,
        held: ptr::null_mut(),
    };
    // SAFETY: the layout is the box's own (not zero-sized); a null block is refused (the
    // engine is dropped with `awake`), else it is initialised before the box takes it, and
    // the global allocator made it, as `Box` requires.
    unsafe {
        let block = alloc::alloc::alloc(layout).cast::<[Awake; 1]>();
        if block.is_null() {
            return None;
        }
        block.write([awake]);
        Some(Box::from_raw(block))
    }
}

/// Calls `f` (which runs a hook) with a guard: returns false when the connection was
/// finished or destroyed inside, so the caller must not touch `conn` again.
pub(crate) unsafe fn call_hook(conn: *mut Conn, f: impl FnOnce()) -> bool {
    let mut alive = true;
    // SAFETY: `conn` is live on entry (callers check); the guard points at our stack frame
    // and is removed before we return, or cleared by `kill_guard` when the Conn goes away.
    let prev = unsafe { (*conn).guard };
    unsafe { (*conn).guard = &mut alive };
    f();
    if alive {
        // SAFETY: still alive, so `conn` is still valid.
        unsafe { (*conn).guard = prev };
    } else if !prev.is_null() {
        // SAFETY: an outer call_hook frame for the same Conn is still on the stack.
        unsafe { *prev = false };
    }
    alive
}

/// Tells any hook caller up the stack that `conn` is gone.
pub(crate) unsafe fn kill_guard(conn: *mut Conn) {
    // SAFETY: `conn` is valid; its guard, if set, points at a live stack flag.
    unsafe {
        let g = (*conn).guard;
        if !g.is_null() {
            *g = false;
            (*conn).guard = ptr::null_mut();
        }
    }
}
