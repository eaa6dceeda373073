//! `Guarded<T>`: a core sender, receiver or publisher shared by the JavaScript thread
//! and the libuv worker threads that run its Promise-returning calls.
//!
//! The core objects take `&mut self`, so each sits in a mutex (`None` once closed).
//! Two rules keep the event loop free: the JavaScript thread never waits for that
//! mutex (synchronous calls try it and fail with `ERR_SHOAL_BUSY`-style errors when a
//! Promise call holds it), and closing never waits either (a worker that holds the
//! object drops it when it sees the closed flag, after at most one slice).
//!
//! Promise calls run in the order they were made: each takes a ticket on the
//! JavaScript thread and waits on a worker for its turn. A synchronous call while
//! Promise calls are queued is refused, so it cannot overtake them.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError, TryLockError};
use std::time::Duration;

use crate::errors::{Failure, Kind, Outcome};

/// The longest a worker holds the object in one go before it looks at the closed
/// flag again.
pub(crate) const SLICE: Duration = Duration::from_millis(50);

/// A core object behind a mutex, `None` once closed, with ordered turns for
/// Promise calls.
pub(crate) struct Guarded<T> {
    obj: Mutex<Option<T>>,
    closed: AtomicBool,
    /// Tickets handed out (JavaScript thread).
    issued: AtomicU64,
    /// Tickets whose call has finished.
    served: AtomicU64,
    gate: Mutex<()>,
    turn: Condvar,
    /// What the object is called in error messages ("receiver", "sender", ...).
    what: &'static str,
}

impl<T: Send> Guarded<T> {
    pub fn new(value: T, what: &'static str) -> Self {
        Guarded {
            obj: Mutex::new(Some(value)),
            closed: AtomicBool::new(false),
            issued: AtomicU64::new(0),
            served: AtomicU64::new(0),
            gate: Mutex::new(()),
            turn: Condvar::new(),
            what,
        }
    }

    /// The failure of a call on a closed object.
    pub fn closed_failure(&self) -> Failure {
        Kind::Closed.fail(format!("this {} is closed", self.what))
    }

    /// Whether [`Guarded::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// `Ok` while open.
    pub fn ensure_open(&self) -> Outcome<()> {
        if self.is_closed() {
            return Err(self.closed_failure());
        }
        Ok(())
    }

    fn busy(&self) -> Failure {
        Kind::Bus.fail(format!(
            "this {} is busy with an earlier Promise call (send/recv/publish); await it \
             first, or use the Promise form for this call too",
            self.what
        ))
    }

    /// Runs `f` (which must not wait, except as documented for sync sends) on the
    /// JavaScript thread: refused if the object is closed, or if Promise calls are
    /// queued or running.
    pub fn now<R>(&self, f: impl FnOnce(&mut T) -> R) -> Outcome<R> {
        self.ensure_open()?;
        if self.issued.load(Ordering::Acquire) != self.served.load(Ordering::Acquire) {
            return Err(self.busy());
        }
        let mut g = match self.obj.try_lock() {
            Ok(g) => g,
            Err(TryLockError::Poisoned(p)) => p.into_inner(),
            Err(TryLockError::WouldBlock) => return Err(self.busy()),
        };
        match g.as_mut() {
            Some(v) => Ok(f(v)),
            None => Err(self.closed_failure()),
        }
    }

    /// Like [`Guarded::now`], but `Ok(None)` instead of the "busy" refusal.
    pub fn now_if_free<R>(&self, f: impl FnOnce(&mut T) -> R) -> Outcome<Option<R>> {
        match self.now(f) {
            Ok(r) => Ok(Some(r)),
            Err(e) if e.kind == Kind::Bus => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// A ticket for a Promise call (JavaScript thread).
    pub fn ticket(&self) -> u64 {
        self.issued.fetch_add(1, Ordering::AcqRel)
    }

    /// On a worker: waits for `ticket`'s turn, runs `f`, and passes the turn on.
    /// `f` gets the object in slices through [`Guarded::lock`].
    pub fn in_turn<R>(&self, ticket: u64, f: impl FnOnce(&Self) -> Outcome<R>) -> Outcome<R> {
        {
            let mut g = self.gate.lock().unwrap_or_else(PoisonError::into_inner);
            while self.served.load(Ordering::Acquire) != ticket {
                if self.is_closed() {
                    return Err(self.closed_failure());
                }
                g = self
                    .turn
                    .wait_timeout(g, SLICE)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0;
            }
        }
        let out = f(self);
        self.served.fetch_add(1, Ordering::AcqRel);
        let _g = self.gate.lock().unwrap_or_else(PoisonError::into_inner);
        self.turn.notify_all();
        out
    }

    /// On a worker: the object, or the closed failure (dropping the object if the
    /// JavaScript thread closed it while a worker held it).
    pub fn lock(&self) -> Outcome<MutexGuard<'_, Option<T>>> {
        let mut g = self.obj.lock().unwrap_or_else(PoisonError::into_inner);
        if self.is_closed() {
            drop(g.take());
            return Err(self.closed_failure());
        }
        if g.is_none() {
            return Err(self.closed_failure());
        }
        Ok(g)
    }

    /// Closes the object without waiting: dropped now if free, else by the worker
    /// holding it once its slice ends. Idempotent.
    pub fn close(&self) {
        self.closed.store(true, Ordering::Release);
        if let Ok(mut g) = self.obj.try_lock() {
            drop(g.take());
        }
        let _g = self.gate.lock().unwrap_or_else(PoisonError::into_inner);
        self.turn.notify_all();
    }
}
