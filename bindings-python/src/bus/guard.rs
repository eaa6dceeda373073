//! `Guarded<T>`: a core sender, receiver or publisher shared by Python threads.
//!
//! The core objects take `&mut self`, and a frozen pyclass can be used by several Python
//! threads at once, so each sits in a mutex (`None` once closed). The one rule that
//! keeps the mutex and the GIL from deadlocking: nobody waits for the mutex while
//! holding the GIL. Calls that never block try the lock with the GIL held and run at
//! once if it is free ([`Guarded::with`]); otherwise, and for calls that may block
//! ([`Guarded::detached`]), they take the lock and run with the GIL released.
//!
//! Waiting for the lock is done in slices with `check_signals` between them, so Ctrl-C
//! still works while another thread is busy with the object. A thread that waits in a
//! loop of slices (a `recv` without timeout) lets waiting threads go first between its
//! slices, so a `try_recv` from another thread waits at most about one slice.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, TryLockError};
use std::time::{Duration, Instant};

use pyo3::prelude::*;

use crate::errors::Kind;

/// The longest the binding waits with the GIL released before it looks at signals
/// (Ctrl-C) again.
pub(crate) const SLICE: Duration = Duration::from_millis(50);

/// How long a thread lets waiting threads take the lock first.
const YIELD_LIMIT: Duration = Duration::from_millis(5);

/// A core object behind a mutex, `None` once closed.
pub(crate) struct Guarded<T> {
    cell: Mutex<Option<T>>,
    closed: AtomicBool,
    /// Threads waiting for the lock (see [`Guarded::yield_to_waiters`]).
    waiting: AtomicUsize,
    /// What the object is called in error messages ("receiver", "sender", ...).
    what: &'static str,
}

/// Why [`Guarded::lock_within`] gave up.
enum Busy {
    /// Another thread kept the lock for the whole slice.
    Timeout,
    /// The object was closed.
    Closed,
}

impl<T: Send> Guarded<T> {
    pub fn new(value: T, what: &'static str) -> Self {
        Guarded {
            cell: Mutex::new(Some(value)),
            closed: AtomicBool::new(false),
            waiting: AtomicUsize::new(0),
            what,
        }
    }

    /// The error of a call on a closed object.
    pub fn closed_err(&self) -> PyErr {
        Kind::Bus.err(format!("this {} is closed", self.what))
    }

    /// Whether [`Guarded::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// `Ok` while open, else [`Guarded::closed_err`].
    pub fn ensure_open(&self) -> PyResult<()> {
        if self.is_closed() {
            return Err(self.closed_err());
        }
        Ok(())
    }

    /// `", closed"` once closed, for `__repr__`.
    pub fn repr_state(&self) -> &'static str {
        if self.is_closed() {
            ", closed"
        } else {
            ""
        }
    }

    fn try_lock(&self) -> Option<MutexGuard<'_, Option<T>>> {
        match self.cell.try_lock() {
            Ok(g) => Some(g),
            // A panic inside a core call (there should be none) leaves the object as
            // it was; keep using it.
            Err(TryLockError::Poisoned(p)) => Some(p.into_inner()),
            Err(TryLockError::WouldBlock) => None,
        }
    }

    /// Polls for the lock for at most `limit`; call with the GIL released.
    fn lock_within(&self, limit: Duration) -> Result<MutexGuard<'_, Option<T>>, Busy> {
        if self.is_closed() {
            return Err(Busy::Closed);
        }
        if let Some(g) = self.try_lock() {
            return Ok(g);
        }
        self.waiting.fetch_add(1, Ordering::SeqCst);
        let got = self.poll_lock(limit);
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        got
    }

    fn poll_lock(&self, limit: Duration) -> Result<MutexGuard<'_, Option<T>>, Busy> {
        let start = Instant::now();
        let mut round = 0u32;
        loop {
            if self.is_closed() {
                return Err(Busy::Closed);
            }
            if let Some(g) = self.try_lock() {
                return Ok(g);
            }
            if start.elapsed() >= limit {
                return Err(Busy::Timeout);
            }
            round = round.saturating_add(1);
            if round < 64 {
                core::hint::spin_loop();
            } else if round < 128 {
                std::thread::yield_now();
            } else {
                std::thread::sleep(Duration::from_micros(20));
            }
        }
    }

    /// Before taking the lock again, a thread that just had it lets threads waiting
    /// for it go first (for a few milliseconds at most): without this, a loop of
    /// blocking slices would take the lock back within microseconds every time and
    /// starve them. Costs one atomic load when nobody waits.
    fn yield_to_waiters(&self) {
        if self.waiting.load(Ordering::SeqCst) == 0 {
            return;
        }
        let start = Instant::now();
        while self.waiting.load(Ordering::SeqCst) > 0 && start.elapsed() < YIELD_LIMIT {
            std::thread::sleep(Duration::from_micros(20));
        }
    }

    /// Runs `f` (which must not block) on the object: at once with the GIL held if
    /// the object is free, else as [`Guarded::detached`] does.
    pub fn with<R, F>(&self, py: Python<'_>, f: F) -> PyResult<R>
    where
        R: Send,
        F: FnOnce(&mut T) -> R + Send,
    {
        if self.is_closed() {
            return Err(self.closed_err());
        }
        if let Some(mut g) = self.try_lock() {
            return match g.as_mut() {
                Some(v) => Ok(f(v)),
                None => Err(self.closed_err()),
            };
        }
        self.detached(py, f)
    }

    /// Runs `f` (which may block) on the object with the GIL released.
    pub fn detached<R, F>(&self, py: Python<'_>, f: F) -> PyResult<R>
    where
        R: Send,
        F: FnOnce(&mut T) -> R + Send,
    {
        let mut f = Some(f);
        loop {
            let out = py.detach(|| {
                self.yield_to_waiters();
                let mut g = self.lock_within(SLICE)?;
                match (g.as_mut(), f.take()) {
                    (Some(v), Some(f)) => Ok(f(v)),
                    _ => Err(Busy::Closed),
                }
            });
            match out {
                Ok(r) => return Ok(r),
                Err(Busy::Closed) => return Err(self.closed_err()),
                Err(Busy::Timeout) => py.check_signals()?,
            }
        }
    }

    /// Closes the object: later calls fail with a clear error. Waits (GIL released,
    /// Ctrl-C honoured) for a call in progress in another thread to finish its current
    /// slice; idempotent.
    pub fn close(&self, py: Python<'_>) -> PyResult<()> {
        self.closed.store(true, Ordering::Release);
        loop {
            // `lock_within` refuses once closed, so take the lock directly here.
            let taken = py.detach(|| {
                let start = Instant::now();
                loop {
                    if let Some(mut g) = self.try_lock() {
                        // Dropping a core object closes lanes: no GIL needed.
                        drop(g.take());
                        return true;
                    }
                    if start.elapsed() >= SLICE {
                        return false;
                    }
                    std::thread::sleep(Duration::from_micros(50));
                }
            });
            if taken {
                return Ok(());
            }
            py.check_signals()?;
        }
    }
}
