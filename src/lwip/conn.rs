//! One connection (a WebSocket, or an HTTP request before its upgrade) on an lwIP pcb.
//!
//! Guarantees kept here:
//! - each pbuf is freed exactly once, and `altcp_recved` is called for the bytes the engine
//!   consumed (all of them: the engine buffers at most `max_message`);
//! - output moves into `altcp_write` no further than `altcp_sndbuf`; `ERR_MEM` keeps it
//!   queued for the sent and poll callbacks;
//! - after the err callback the pcb is never touched;
//! - the owner's `closed` hook is the last hook of a connection, called exactly once, and
//!   nothing here touches the `Conn` after it (the owner may reuse the storage);
//! - a hook may destroy or close its own connection: every hook call is fenced by a guard
//!   on the caller's stack, so nothing touches a `Conn` that went away inside a hook.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::ffi::{c_char, c_void};
use core::ptr;

use super::listener::HttpRequest;
use super::{err, now_ms, rand4, sys, Flow, POLL_INTERVAL};
use crate::proto::frame::MAX_HEADER_LEN;
use crate::proto::{Config, Connection, Event, Parked, Role, SendError, State, Timeout};

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
    /// A server connection received a request head. `None`: accept any valid upgrade.
    pub request: Option<unsafe fn(conn: *mut Conn, req: &mut HttpRequest)>,
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

const WANT_WRITABLE: u8 = 1;
const FATAL: u8 = 2;
const CONNECTED: u8 = 4;
const DRAINING: u8 = 8;
/// lwIP's Nagle algorithm is on for this pcb (only in the middle of a fragmented message).
const NAGLE: u8 = 16;

/// A connection's engine (on the heap while awake), or what a parked engine remembers,
/// or just the configuration while no connection runs: `WSS` storage stays small, and an
/// idle open connection holds no heap.
enum Slot {
    Idle(Config),
    Active(EngineBox),
    Parked(Parked),
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
            Slot::Active(engine) => Some(&engine[0]),
            Slot::Idle(_) | Slot::Parked(_) => None,
        }
    }

    /// The engine, while active and awake (a parked engine stays parked: see [`Conn::wake`]).
    pub(crate) fn engine_mut(&mut self) -> Option<&mut Connection> {
        match &mut self.slot {
            Slot::Active(engine) => Some(&mut engine[0]),
            Slot::Idle(_) | Slot::Parked(_) => None,
        }
    }

    /// The engine, woken first if it is parked (one allocation). `State` when no
    /// connection runs, `NoMem` when the heap has no room for the engine.
    pub(crate) fn wake(&mut self) -> Result<&mut Connection, OpError> {
        if let Slot::Parked(parked) = self.slot {
            let engine = boxed(parked.unpark(now_ms())).ok_or(OpError::NoMem)?;
            self.slot = Slot::Active(engine);
        }
        self.engine_mut().ok_or(OpError::State)
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
        if self.flags & (WANT_WRITABLE | FATAL) != 0 {
            return;
        }
        if let Some(parked) = self.engine().and_then(Connection::park) {
            self.slot = Slot::Parked(parked);
        }
    }

    /// The configuration (the engine's while active).
    pub(crate) fn config(&self) -> Config {
        match &self.slot {
            Slot::Active(engine) => *engine[0].config(),
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

    /// True when messages may be sent (handshake done, no close started).
    pub fn is_open(&self) -> bool {
        self.state() == Some(State::Open)
    }

    /// The engine's state, if active.
    pub fn state(&self) -> Option<State> {
        match &self.slot {
            Slot::Active(engine) => Some(engine[0].state()),
            Slot::Parked(_) => Some(State::Open),
            Slot::Idle(_) => None,
        }
    }

    /// Bytes waiting in the send queue.
    pub fn queued(&self) -> usize {
        self.engine().map_or(0, Connection::queued)
    }

    /// Heap held by this connection: the awake engine and its buffers (nothing while
    /// parked or idle).
    pub fn heap_bytes(&self) -> usize {
        self.engine()
            .map_or(0, |e| core::mem::size_of::<Connection>() + e.heap_bytes())
    }
}

/// An engine on the heap (a one-element array: a thin pointer, made without an
/// infallible allocation).
pub(crate) type EngineBox = Box<[Connection; 1]>;

/// Moves `engine` to the heap; `None` when the allocator refuses.
fn boxed(engine: Connection) -> Option<EngineBox> {
    let mut one = Vec::new();
    one.try_reserve_exact(1).ok()?;
    one.push(engine);
    EngineBox::try_from(one.into_boxed_slice()).ok()
}

/// Calls `f` (which runs a hook) with a guard: returns false when the connection was
/// finished or destroyed inside, so the caller must not touch `conn` again.
unsafe fn call_hook(conn: *mut Conn, f: impl FnOnce()) -> bool {
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

/// Attaches our callbacks to `pcb` with `conn` as the argument.
pub(crate) unsafe fn attach(conn: *mut Conn, pcb: *mut sys::lwipws_pcb) {
    // SAFETY: `pcb` is a live pcb owned by this connection from now on; `conn` outlives the
    // attachment (it is detached in `finish`/`destroy` before the storage is released).
    unsafe {
        (*conn).pcb = pcb;
        sys::lwipws_arg(pcb, conn.cast());
        sys::lwipws_recv(pcb, Some(on_recv));
        sys::lwipws_sent(pcb, Some(on_sent));
        sys::lwipws_err(pcb, Some(on_err));
        sys::lwipws_poll(pcb, Some(on_poll), POLL_INTERVAL);
        sys::lwipws_nagle_disable(pcb);
        (*conn).flags &= !NAGLE;
    }
}

/// Removes our callbacks from `pcb` so lwIP calls nothing of ours again.
unsafe fn detach(pcb: *mut sys::lwipws_pcb) {
    // SAFETY: `pcb` is live (callers only pass the attached, not yet freed pcb).
    unsafe {
        sys::lwipws_arg(pcb, ptr::null_mut());
        sys::lwipws_recv(pcb, None);
        sys::lwipws_sent(pcb, None);
        sys::lwipws_err(pcb, None);
        sys::lwipws_poll(pcb, None, 0);
    }
}

/// Attach an already running engine (moved in by an upgrade) to `pcb`.
pub(crate) unsafe fn adopt(conn: *mut Conn, pcb: *mut sys::lwipws_pcb) {
    // SAFETY: caller passes a Conn holding the moved engine and the live pcb.
    unsafe {
        (*conn).flags = CONNECTED;
        (*conn).ending = None;
        attach(conn, pcb);
    }
}

/// Server: take over a freshly accepted pcb and wait for the upgrade request. `NoMem`:
/// no heap for the engine; the pcb is untouched.
pub unsafe fn start_server(conn: *mut Conn, pcb: *mut sys::lwipws_pcb) -> Result<(), OpError> {
    // SAFETY: caller passes a constructed, idle Conn and a live pcb.
    unsafe {
        (*conn).activate(Connection::server((*conn).config(), now_ms()))?;
        (*conn).flags = CONNECTED;
        (*conn).ending = None;
        attach(conn, pcb);
    }
    Ok(())
}

/// Server: take over a pcb whose handshake someone else answered; `initial` holds bytes
/// already received after the request. Returns false when the connection ended inside;
/// `NoMem` (pcb untouched) when there is no heap for the engine.
pub unsafe fn start_open(
    conn: *mut Conn,
    pcb: *mut sys::lwipws_pcb,
    initial: &[u8],
) -> Result<bool, OpError> {
    // SAFETY: as in start_server.
    unsafe {
        (*conn).activate(Connection::server_open((*conn).config(), now_ms()))?;
        (*conn).flags = CONNECTED;
        (*conn).ending = None;
        attach(conn, pcb);
    }
    if initial.is_empty() {
        return Ok(true);
    }
    let mut copy = Vec::new();
    if copy.try_reserve_exact(initial.len()).is_err() {
        // SAFETY: conn is live; finishing outside any callback of the pcb.
        unsafe { finish(conn, Ending::NoMem, false) };
        return Ok(false);
    }
    copy.extend_from_slice(initial);
    // SAFETY: conn is live; `copy` is our own buffer.
    let Some(conn) = (unsafe { feed(conn, &mut copy) }) else {
        return Ok(false);
    };
    // SAFETY: conn is still live (feed returned it).
    Ok((unsafe { after_activity(conn) }) == Flow::Continue)
}

/// Client: queue the upgrade request and start the TCP connect.
#[cfg(feature = "client")]
pub unsafe fn start_client(
    conn: *mut Conn,
    addr: *const sys::ip_addr_t,
    port: u16,
    req: &crate::proto::ClientRequest<'_>,
) -> Result<(), OpError> {
    // SAFETY: caller passes a constructed, idle Conn and a valid address.
    unsafe {
        let engine = Connection::client((*conn).config(), req, super::rand16(), now_ms())
            .map_err(OpError::from)?;
        (*conn).activate(engine)?;
        let pcb = sys::lwipws_new(super::IPADDR_TYPE_ANY);
        if pcb.is_null() {
            (*conn).take_engine();
            return Err(OpError::NoMem);
        }
        (*conn).flags = 0;
        (*conn).ending = None;
        attach(conn, pcb);
        let e = sys::lwipws_connect(pcb, addr, port, Some(on_connected));
        if e != err::OK {
            detach(pcb);
            sys::lwipws_abort(pcb);
            (*conn).pcb = ptr::null_mut();
            (*conn).take_engine();
            return Err(if e == err::MEM {
                OpError::NoMem
            } else {
                OpError::Lwip
            });
        }
    }
    Ok(())
}

/// Queue a frame with `queue_frame` and push what fits into lwIP. A full queue arms the
/// writable notification.
unsafe fn queue(
    conn: *mut Conn,
    queue_frame: impl FnOnce(&mut Connection) -> Result<(), SendError>,
) -> Result<(), OpError> {
    // SAFETY: caller passes a live Conn; no reference is held across the flush below.
    unsafe {
        let engine = (*conn).wake()?;
        match queue_frame(engine) {
            Ok(()) => {}
            Err(SendError::WouldBlock) => {
                (*conn).flags |= WANT_WRITABLE;
                return Err(OpError::WouldBlock);
            }
            Err(e) => return Err(e.into()),
        }
        flush(conn);
    }
    Ok(())
}

/// A mask key for a frame this engine sends: fresh random bytes in the client role, none
/// needed (and `LWIP_RAND()` not called) in the server role.
fn mask_for(engine: &Connection) -> [u8; 4] {
    if engine.role() == Role::Client {
        rand4()
    } else {
        [0; 4]
    }
}

/// Largest payload sent by [`write`]'s fast path (the frame is built on the stack), and
/// largest message NUL-terminated on the stack when it ends where its pbuf does.
const DIRECT_MAX: usize = 128;

/// Smallest payload that [`write_direct`] hands to `altcp_write` straight from the
/// caller's bytes. Below it, one copy into the send queue and one `altcp_write` cost less
/// than a second `altcp_write` call (measured with `benches/lwip.rs`), and the queue
/// memory it needs is small.
const DIRECT_MIN: usize = 4096;

/// Queue a whole message. A small message with nothing queued before it goes to
/// `altcp_write` at once as one frame built on the stack, without the send queue.
pub unsafe fn write(conn: *mut Conn, text: bool, data: &[u8]) -> Result<(), OpError> {
    // SAFETY: conn is live (caller contract); the pcb is live while non-null; no engine
    // borrow is held across the lwIP calls.
    unsafe {
        let engine = (*conn).wake()?;
        let mask = mask_for(engine);
        let pcb = (*conn).pcb;
        if data.len() <= DIRECT_MAX && !pcb.is_null() {
            let mut frame = [0u8; DIRECT_MAX + MAX_HEADER_LEN];
            if let Some(n) = engine.encode_message(text, data, mask, &mut frame)? {
                if n <= usize::from(sys::lwipws_sndbuf(pcb)) {
                    let e = write_copy(pcb, frame.get(..n).unwrap_or_default());
                    if e == err::OK {
                        sys::lwipws_output(pcb);
                        return Ok(());
                    }
                    if e != err::MEM {
                        return Err((*conn).lwip_failed());
                    }
                }
            }
        } else if let Some(done) = write_direct(conn, text, None, data) {
            return done;
        }
        queue(conn, |e| e.send(text, data, mask))
    }
}

/// A server's data frame of at least [`DIRECT_MIN`] bytes straight from the caller's
/// bytes into `altcp_write`, when nothing is queued: the payload is copied once (by lwIP)
/// instead of into the send queue first, and the queue needs no room for it. Only what
/// lwIP cannot take now is queued (room for it is set aside before anything goes out).
/// `None`: this path does not apply (client role, output queued, a smaller payload, or no
/// room even for the header); queue the frame instead.
unsafe fn write_direct(
    conn: *mut Conn,
    text: bool,
    fragment: Option<bool>,
    data: &[u8],
) -> Option<Result<(), OpError>> {
    // SAFETY: conn is live (caller contract); the pcb is live while non-null; no engine
    // borrow is held across a change of `flags` or an lwIP call.
    unsafe {
        let pcb = (*conn).pcb;
        if pcb.is_null() || data.len() < DIRECT_MIN {
            return None;
        }
        let engine = match (*conn).wake() {
            Ok(engine) => engine,
            Err(e) => return Some(Err(e)),
        };
        let (header, header_len) = match engine.direct_header(text, fragment, data.len()) {
            Ok(Some(header)) => header,
            Ok(None) => return None,
            Err(e) => return Some(Err(e.into())),
        };
        let header = header.get(..header_len).unwrap_or_default();
        let room = usize::from(sys::lwipws_sndbuf(pcb)).checked_sub(header_len)?;
        let mut take = data.len().min(room).min(usize::from(u16::MAX));
        if take < data.len() && engine.reserve_queue(data.len() - take).is_err() {
            return Some(Err(OpError::NoMem));
        }
        set_nagle(conn, pcb, fragment == Some(false));
        let e = write_flags(pcb, header, sys::lwipws_write_flag_more());
        if e == err::MEM {
            return None;
        }
        if e != err::OK {
            return Some(Err((*conn).lwip_failed()));
        }
        if take > 0 {
            let e = write_copy(pcb, data.get(..take).unwrap_or_default());
            if e == err::MEM {
                // The header is out: the whole payload follows from the queue.
                take = 0;
            } else if e != err::OK {
                return Some(Err((*conn).lwip_failed()));
            }
        }
        let rest = data.get(take..).unwrap_or_default();
        let queued = (*conn)
            .engine_mut()
            .map(|engine| engine.sent_direct(text, fragment, rest));
        if !matches!(queued, Some(Ok(()))) {
            // Half a frame is out and the rest cannot follow.
            (*conn).out_of_memory();
            return Some(Err(OpError::NoMem));
        }
        sys::lwipws_output(pcb);
        Some(Ok(()))
    }
}

/// Turns lwIP's Nagle algorithm on in the middle of a fragmented message and off
/// otherwise. While more of a message follows and earlier data is unacknowledged, lwIP
/// then sends only whole segments and holds a partial last one until the next fragment
/// fills it or everything in flight is acknowledged, so forwarding pieces as fragments
/// (each a few header bytes over its piece) does not send a tiny segment per piece.
unsafe fn set_nagle(conn: *mut Conn, pcb: *mut sys::lwipws_pcb, fragmented: bool) {
    // SAFETY: conn and pcb are live (caller contract).
    unsafe {
        if ((*conn).flags & NAGLE != 0) == fragmented {
            return;
        }
        if fragmented {
            sys::lwipws_nagle_enable(pcb);
            (*conn).flags |= NAGLE;
        } else {
            sys::lwipws_nagle_disable(pcb);
            (*conn).flags &= !NAGLE;
        }
    }
}

/// Queue one fragment of a message (`fin` ends it).
pub unsafe fn write_fragment(
    conn: *mut Conn,
    text: bool,
    data: &[u8],
    fin: bool,
) -> Result<(), OpError> {
    // SAFETY: forwarded caller contract.
    unsafe {
        if let Some(done) = write_direct(conn, text, Some(fin), data) {
            return done;
        }
        queue(conn, |e| e.send_fragment(text, data, fin, mask_for(e)))
    }
}

/// Queue a ping.
pub unsafe fn ping(conn: *mut Conn, data: &[u8]) -> Result<(), OpError> {
    // SAFETY: forwarded caller contract.
    unsafe { queue(conn, |e| e.ping(data, mask_for(e))) }
}

/// Start the close handshake (open connection), or close TCP at once (handshake not
/// finished: the `closed` hook runs with [`Ending::Local`] before this returns).
pub unsafe fn close(conn: *mut Conn, code: u16, reason: &str) -> Result<(), OpError> {
    // SAFETY: as in write.
    unsafe {
        let engine = (*conn).wake()?;
        match engine.state() {
            State::Connecting => {
                // Abort rather than close: this may run inside a hook of another
                // connection's callback, and an aborted pcb needs no further care.
                finish(conn, Ending::Local, false);
                Ok(())
            }
            State::Open => {
                let mask = mask_for(engine);
                engine.close(code, reason, mask, now_ms())?;
                (*conn).since_ms = now_ms();
                flush(conn);
                Ok(())
            }
            State::Closing | State::Closed => Err(OpError::State),
        }
    }
}

/// Drop the connection at once without any hook (pcb aborted). Safe inside this
/// connection's own hooks: the caller up the stack notices through the guard.
pub unsafe fn destroy(conn: *mut Conn) {
    // SAFETY: caller passes a constructed Conn; the pcb, if any, is live.
    unsafe {
        kill_guard(conn);
        let pcb = (*conn).pcb;
        if !pcb.is_null() {
            detach(pcb);
            sys::lwipws_abort(pcb);
            (*conn).pcb = ptr::null_mut();
        }
        (*conn).take_engine();
        (*conn).flags = 0;
    }
}

/// `altcp_write` with `TCP_WRITE_FLAG_COPY` of `bytes` (callers keep it within
/// `altcp_sndbuf`, so within `u16`).
unsafe fn write_copy(pcb: *mut sys::lwipws_pcb, bytes: &[u8]) -> sys::err_t {
    // SAFETY: forwarded caller contract.
    unsafe { write_flags(pcb, bytes, 0) }
}

/// [`write_copy`] with `more` flags besides `TCP_WRITE_FLAG_COPY`.
unsafe fn write_flags(pcb: *mut sys::lwipws_pcb, bytes: &[u8], more: u8) -> sys::err_t {
    let len = u16::try_from(bytes.len()).unwrap_or(u16::MAX);
    // SAFETY: `pcb` is live (caller contract); lwIP copies `len` readable bytes.
    unsafe {
        sys::lwipws_write(
            pcb,
            bytes.as_ptr().cast(),
            len,
            sys::lwipws_write_flag_copy() | more,
        )
    }
}

/// Moves queued output into lwIP as far as its send buffer allows.
pub(crate) unsafe fn flush(conn: *mut Conn) {
    // SAFETY: conn is live; pcb is live while non-null.
    unsafe {
        let pcb = (*conn).pcb;
        if pcb.is_null() {
            return;
        }
        let Some(fragmented) = (*conn).engine().map(Connection::is_sending_fragmented) else {
            return;
        };
        // Nagle's algorithm in the middle of a fragmented message, see `set_nagle`. When
        // it turns off, a partial segment lwIP held back may go now.
        let nagle_off = !fragmented && (*conn).flags & NAGLE != 0;
        set_nagle(conn, pcb, fragmented);
        let Some(engine) = (*conn).engine_mut() else {
            return;
        };
        let mut wrote = nagle_off;
        loop {
            let pending = engine.pending();
            if pending.is_empty() {
                break;
            }
            let room = usize::from(sys::lwipws_sndbuf(pcb));
            let n = pending.len().min(room).min(usize::from(u16::MAX));
            if n == 0 {
                break;
            }
            let e = write_copy(pcb, pending.get(..n).unwrap_or_default());
            if e == err::MEM {
                break;
            }
            if e != err::OK {
                (*conn).flags |= FATAL;
                break;
            }
            engine.advance(n);
            wrote = true;
        }
        if wrote {
            sys::lwipws_output(pcb);
        }
    }
}

/// Ends the connection: detach, close (or abort) the pcb, drop the engine, then the
/// `closed` hook as the very last step. Returns `Aborted` when the pcb was aborted.
pub(crate) unsafe fn finish(conn: *mut Conn, ending: Ending, graceful: bool) -> Flow {
    let mut flow = Flow::Continue;
    // SAFETY: conn is live; the pcb is live while non-null.
    unsafe {
        kill_guard(conn);
        let pcb = (*conn).pcb;
        if !pcb.is_null() {
            detach(pcb);
            if !graceful || sys::lwipws_close(pcb) != err::OK {
                sys::lwipws_abort(pcb);
                flow = Flow::Aborted;
            }
            (*conn).pcb = ptr::null_mut();
        }
        (*conn).take_engine();
        (*conn).flags = 0;
        let closed = (*conn).hooks.closed;
        closed(conn, ending);
    }
    flow
}

/// After input, output progress or a timer: flush, notify writability, and finish the
/// connection once the engine is closed and its output is out.
pub(crate) unsafe fn after_activity(conn: *mut Conn) -> Flow {
    // SAFETY: conn is live on entry; every hook call is guarded.
    unsafe {
        if !(*conn).is_active() {
            return Flow::Continue;
        }
        if (*conn).flags & FATAL != 0 {
            let ending = match (*conn).ending {
                Some(Ending::NoMem) => Ending::NoMem,
                _ => Ending::Aborted,
            };
            return finish(conn, ending, false);
        }
        flush(conn);
        let Some(engine) = (*conn).engine() else {
            return Flow::Continue;
        };
        let state = engine.state();
        if state == State::Closed {
            let ending = (*conn).ending.unwrap_or(Ending::Aborted);
            if engine.queued() == 0 {
                return finish(conn, ending, true);
            }
            if (*conn).flags & DRAINING == 0 {
                (*conn).flags |= DRAINING;
                (*conn).since_ms = now_ms();
            }
            return Flow::Continue;
        }
        if (*conn).flags & WANT_WRITABLE != 0
            && state == State::Open
            && engine.queued() <= engine.config().max_queue_bytes / 2
        {
            (*conn).flags &= !WANT_WRITABLE;
            let hook = (*conn).hooks.writable;
            if !call_hook(conn, || hook(conn)) {
                return Flow::Aborted;
            }
            flush(conn);
        }
    }
    Flow::Continue
}

/// A received event with its borrows turned into raw pointers, so that hooks may call
/// back into the connection.
enum Raw {
    Request(HttpRequest),
    Open(Option<(*const u8, usize)>),
    Message {
        text: bool,
        data: *mut u8,
        len: usize,
        nul: Nul,
    },
    Chunk(Piece),
    Ping(*mut u8, usize),
    Pong(*mut u8, usize),
    Ended(Ending),
}

/// A terminated empty string for empty messages.
static EMPTY: [u8; 1] = [0];

/// Where the 0 byte after a message comes from.
enum Nul {
    /// The engine's buffer already has it.
    Present,
    /// The input has a byte after the payload: swap a 0 in for the hook's duration.
    Swap,
    /// The payload ends where the input does: copy it to the stack (up to `DIRECT_MAX`
    /// bytes) or into the engine's message buffer (which keeps room for a `startSize`
    /// message while the connection is busy).
    Copy,
}

/// Feeds one received piece to the engine and dispatches its events. Returns the
/// connection to go on with (it changes when an HTTP connection is upgraded), or `None`
/// when it went away inside a hook.
pub(crate) unsafe fn feed(mut conn: *mut Conn, piece: &mut [u8]) -> Option<*mut Conn> {
    let mut off = 0usize;
    while off < piece.len() {
        // SAFETY: conn is live (checked after every hook); the engine borrow ends before
        // any hook runs (Raw holds only raw pointers).
        let raw = unsafe {
            let engine = match (*conn).wake() {
                Ok(engine) => engine,
                Err(OpError::NoMem) => {
                    // A parked engine could not wake: the connection cannot go on.
                    (*conn).out_of_memory();
                    return Some(conn);
                }
                Err(_) => return Some(conn),
            };
            let input = piece.get_mut(off..).unwrap_or_default();
            let start = input.as_mut_ptr() as usize;
            let input_len = input.len();
            let mut mask = rand4;
            let r = engine.receive_with(input, &mut mask);
            off += r.consumed;
            match r.event {
                None if r.consumed == 0 => return Some(conn),
                None => continue,
                Some(ev) => to_raw(conn, ev, start, input_len),
            }
        };
        // SAFETY: conn is live here and the engine borrow has ended.
        let raw = unsafe { rebase(conn, raw, piece) };
        // SAFETY: conn is live here.
        conn = unsafe { dispatch(conn, raw)? };
    }
    Some(conn)
}

/// Re-derives a message's pointer from a mutable borrow of the whole memory it lies in:
/// the input piece, or the engine's buffer with its 0 byte. The event's `data` is a shared
/// borrow of the payload alone, so reading the byte after it (hooks read `data[len]`) or
/// writing the swapped-in 0 through it would go outside that borrow (undefined behaviour
/// under Rust's aliasing rules, reported by Miri).
unsafe fn rebase(conn: *mut Conn, raw: Raw, piece: &mut [u8]) -> Raw {
    let Raw::Message {
        text,
        data,
        len,
        nul,
    } = raw
    else {
        return raw;
    };
    let whole = match nul {
        Nul::Swap | Nul::Copy => {
            let at = (data as usize).wrapping_sub(piece.as_ptr() as usize);
            piece.get_mut(at..).map(<[u8]>::as_mut_ptr)
        }
        // SAFETY: conn is live; no other borrow of its engine exists here.
        Nul::Present if len > 0 => unsafe { (*conn).engine_mut() }
            .and_then(Connection::delivered_message_mut)
            .map(<[u8]>::as_mut_ptr),
        Nul::Present => None,
    };
    Raw::Message {
        text,
        data: whole.filter(|&p| p == data).unwrap_or(data),
        len,
        nul,
    }
}

unsafe fn to_raw(conn: *mut Conn, ev: Event<'_>, start: usize, len: usize) -> Raw {
    match ev {
        Event::Request(req) => Raw::Request(HttpRequest::new(conn, &req)),
        Event::Open { protocol } => Raw::Open(protocol.map(|p| (p.as_ptr(), p.len()))),
        Event::HandshakeFailed(_) => Raw::Ended(Ending::HandshakeFailed),
        Event::Message { text, data: [] } => {
            // An empty slice may point anywhere: hand out a real, terminated empty string.
            Raw::Message {
                text,
                data: EMPTY.as_ptr().cast_mut(),
                len: 0,
                nul: Nul::Present,
            }
        }
        Event::Message { text, data } => {
            let at = data.as_ptr() as usize;
            let nul = if at >= start && at < start + len.max(1) {
                if at + data.len() < start + len {
                    Nul::Swap
                } else {
                    Nul::Copy
                }
            } else {
                Nul::Present
            };
            Raw::Message {
                text,
                data: data.as_ptr().cast_mut(),
                len: data.len(),
                nul,
            }
        }
        Event::Chunk {
            text,
            data,
            offset,
            last,
            ..
        } => Raw::Chunk(Piece {
            data: data.as_ptr().cast_mut(),
            len: data.len(),
            text,
            offset,
            last,
        }),
        Event::Ping(d) => Raw::Ping(d.as_ptr().cast_mut(), d.len()),
        Event::Pong(d) => Raw::Pong(d.as_ptr().cast_mut(), d.len()),
        Event::Closed { code, .. } => Raw::Ended(Ending::Code(code)),
    }
}

/// Runs the hook for one event. `None`: the connection went away inside the hook.
unsafe fn dispatch(conn: *mut Conn, raw: Raw) -> Option<*mut Conn> {
    // SAFETY: conn is live on entry; pointers in `raw` point into the engine's buffer or
    // the current input piece, both untouched by the calls a hook may make (writes touch
    // only the send queue).
    unsafe {
        let hooks = (*conn).hooks;
        match raw {
            Raw::Request(mut req) => {
                match hooks.request {
                    Some(hook) => {
                        let alive = call_hook(conn, || hook(conn, &mut req));
                        if !req.upgraded.is_null() {
                            return Some(req.upgraded);
                        }
                        if !alive {
                            return None;
                        }
                        if !req.answered {
                            if let Some(engine) = (*conn).engine_mut() {
                                engine.reject(404);
                            }
                        }
                    }
                    None => {
                        if let Some(engine) = (*conn).engine_mut() {
                            if engine.accept(None).is_err() {
                                (*conn).ending = Some(Ending::HandshakeFailed);
                            }
                        }
                    }
                }
                if (*conn).state() == Some(State::Closed) && (*conn).ending.is_none() {
                    (*conn).ending = Some(Ending::HandshakeFailed);
                }
                Some(conn)
            }
            Raw::Open(protocol) => {
                (*conn).flags |= CONNECTED;
                // Once per connection: a terminated copy of the subprotocol's name.
                let mut name = Vec::new();
                let p = match protocol {
                    Some((p, n)) if nul_copy(&mut name, p, n) => name.as_ptr().cast(),
                    _ => ptr::null(),
                };
                call_hook(conn, || (hooks.open)(conn, p)).then_some(conn)
            }
            Raw::Message {
                text,
                data,
                len,
                nul,
            } => {
                let alive = match nul {
                    Nul::Present => call_hook(conn, || (hooks.message)(conn, data, len, text)),
                    Nul::Swap => {
                        let end = data.add(len);
                        let saved = *end;
                        *end = 0;
                        let alive = call_hook(conn, || (hooks.message)(conn, data, len, text));
                        *end = saved;
                        alive
                    }
                    Nul::Copy if len <= DIRECT_MAX => {
                        // Small: a terminated copy on the stack, no heap at all (also
                        // right after the connection gave its buffers back).
                        let mut copy = core::mem::MaybeUninit::<[u8; DIRECT_MAX + 1]>::uninit();
                        let p = copy.as_mut_ptr().cast::<u8>();
                        // SAFETY: `data` has `len` <= DIRECT_MAX readable bytes (the
                        // input piece); `p` has DIRECT_MAX + 1 writable bytes on our stack,
                        // of which the hook reads only the `len` + 1 written here.
                        ptr::copy_nonoverlapping(data, p, len);
                        *p.add(len) = 0;
                        call_hook(conn, || (hooks.message)(conn, p, len, text))
                    }
                    Nul::Copy => {
                        let payload = core::slice::from_raw_parts(data, len);
                        let staged = (*conn)
                            .engine_mut()
                            .and_then(|e| e.stage_delivered(payload))
                            .map(<[u8]>::as_mut_ptr);
                        let Some(p) = staged else {
                            (*conn).out_of_memory();
                            return Some(conn);
                        };
                        call_hook(conn, || (hooks.message)(conn, p, len, text))
                    }
                };
                alive.then_some(conn)
            }
            Raw::Chunk(piece) => call_hook(conn, || (hooks.chunk)(conn, piece)).then_some(conn),
            Raw::Ping(d, n) => call_hook(conn, || (hooks.ping)(conn, d, n)).then_some(conn),
            Raw::Pong(d, n) => call_hook(conn, || (hooks.pong)(conn, d, n)).then_some(conn),
            Raw::Ended(ending) => {
                (*conn).ending = Some(ending);
                Some(conn)
            }
        }
    }
}

/// Copies `len` bytes at `data` plus a 0 into `buf` (reusing its capacity).
unsafe fn nul_copy(buf: &mut Vec<u8>, data: *const u8, len: usize) -> bool {
    buf.clear();
    if buf.try_reserve(len + 1).is_err() {
        return false;
    }
    // SAFETY: `data` points at `len` readable bytes (an event payload).
    buf.extend_from_slice(unsafe { core::slice::from_raw_parts(data, len) });
    buf.push(0);
    true
}

unsafe extern "C" fn on_recv(
    arg: *mut c_void,
    pcb: *mut sys::lwipws_pcb,
    p: *mut sys::pbuf,
    e: sys::err_t,
) -> sys::err_t {
    let conn: *mut Conn = arg.cast();
    // SAFETY: lwIP passes the arg we attached (a live Conn) and a live pcb; `p` is ours to
    // free exactly once.
    unsafe {
        if conn.is_null() {
            if !p.is_null() {
                sys::lwipws_recved(pcb, (*p).tot_len);
                sys::pbuf_free(p);
            }
            return err::OK;
        }
        if p.is_null() {
            return on_fin(conn).err();
        }
        if e != err::OK {
            sys::pbuf_free(p);
            return err::OK;
        }
        let total = (*p).tot_len;
        let mut cur = Some(conn);
        let mut q = p;
        while let (false, Some(c)) = (q.is_null(), cur) {
            let piece =
                core::slice::from_raw_parts_mut((*q).payload.cast::<u8>(), usize::from((*q).len));
            cur = feed(c, piece);
            q = (*q).next;
        }
        match cur {
            Some(c) if (*c).pcb == pcb => {
                sys::lwipws_recved(pcb, total);
                sys::pbuf_free(p);
                after_activity(c).err()
            }
            _ => {
                // The connection went away inside a hook: its pcb was closed or aborted.
                sys::pbuf_free(p);
                err::ABRT
            }
        }
    }
}

/// The peer closed its side (FIN).
unsafe fn on_fin(conn: *mut Conn) -> Flow {
    // SAFETY: conn is live.
    unsafe {
        flush(conn);
        match (*conn).state() {
            Some(State::Closed) => {
                let ending = (*conn).ending.unwrap_or(Ending::PeerClosed);
                finish(conn, ending, true)
            }
            Some(_) => finish(conn, Ending::PeerClosed, true),
            None => Flow::Continue,
        }
    }
}

unsafe extern "C" fn on_sent(
    arg: *mut c_void,
    _pcb: *mut sys::lwipws_pcb,
    _len: u16,
) -> sys::err_t {
    let conn: *mut Conn = arg.cast();
    if conn.is_null() {
        return err::OK;
    }
    // SAFETY: lwIP passes the arg we attached.
    unsafe { after_activity(conn).err() }
}

unsafe extern "C" fn on_poll(arg: *mut c_void, _pcb: *mut sys::lwipws_pcb) -> sys::err_t {
    let conn: *mut Conn = arg.cast();
    if conn.is_null() {
        return err::OK;
    }
    // SAFETY: lwIP passes the arg we attached.
    unsafe {
        let now = now_ms();
        if (*conn).flags & DRAINING != 0
            && now.wrapping_sub((*conn).since_ms) > (*conn).config().close_timeout_ms
        {
            return finish(conn, Ending::CloseTimeout, false).err();
        }
        let timeout = (*conn).engine_mut().and_then(|e| e.poll(now, [0; 4]));
        match timeout {
            Some(Timeout::Handshake | Timeout::KeepAlive) => {
                finish(conn, Ending::HandshakeTimeout, true).err()
            }
            Some(Timeout::Close | Timeout::Message) => {
                finish(conn, Ending::CloseTimeout, false).err()
            }
            None => {
                // Park before anything that may end the connection: after its `closed`
                // hook the storage may already be reused or freed.
                (*conn).park_if_idle();
                after_activity(conn).err()
            }
        }
    }
}

unsafe extern "C" fn on_err(arg: *mut c_void, e: sys::err_t) {
    let conn: *mut Conn = arg.cast();
    if conn.is_null() {
        return;
    }
    // SAFETY: the pcb is already freed by lwIP: forget it before anything else.
    unsafe {
        (*conn).pcb = ptr::null_mut();
        let ending = match (*conn).ending {
            Some(Ending::Code(c)) => Ending::Code(c),
            _ if (*conn).flags & CONNECTED == 0 => Ending::ConnectFailed,
            _ if e == err::RST => Ending::Reset,
            _ if e == err::CLSD => Ending::PeerClosed,
            _ => Ending::Aborted,
        };
        if (*conn).is_active() {
            finish(conn, ending, false);
        }
    }
}

#[cfg(feature = "client")]
unsafe extern "C" fn on_connected(
    arg: *mut c_void,
    _pcb: *mut sys::lwipws_pcb,
    e: sys::err_t,
) -> sys::err_t {
    let conn: *mut Conn = arg.cast();
    if conn.is_null() {
        return err::OK;
    }
    // SAFETY: lwIP passes the arg we attached.
    unsafe {
        if e != err::OK {
            return finish(conn, Ending::ConnectFailed, false).err();
        }
        (*conn).flags |= CONNECTED;
        after_activity(conn).err()
    }
}
