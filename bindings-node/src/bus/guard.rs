//! `Guarded<T>`: a core sender, receiver or publisher shared by the JavaScript thread
//! and the thread that runs its Promise-returning calls.
//!
//! The core objects take `&mut self`, so each sits in a mutex (`None` once closed).
//! Two rules keep the event loop free: the JavaScript thread never waits for that
//! mutex (synchronous calls try it and are refused while a Promise call is queued or
//! running), and closing never waits either (the worker that holds the object drops
//! it when it sees the closed flag, after at most one slice).
//!
//! Promise calls run one at a time, in call order, on a thread of the object's own,
//! started when the first call is queued and ended when the queue is empty. Not on
//! libuv's pool: calls that wait there (a `recv`, a send into a full lane) would take
//! its few threads, and a `recv` that would make room could then never run.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, TryLockError};
use std::time::Duration;

use crate::errors::{Failure, Kind, Outcome};

/// The longest a worker holds the object in one go before it looks at the closed
/// flag again.
pub(crate) const SLICE: Duration = Duration::from_millis(50);

/// A queued Promise call: does its work on the object's thread and returns how to
/// settle its Promise.
pub(crate) type Job<T> = Box<dyn FnOnce(&Guarded<T>) -> Settle + Send>;

/// Settles a Promise. It runs only once its call no longer counts as pending, so
/// JavaScript that sees the Promise settled can call the object synchronously at once
/// (`tryRecv` right after an awaited `recv`, `sendSync` after an awaited `send`).
pub(crate) type Settle = Box<dyn FnOnce() + Send>;

struct Jobs<T> {
    queue: VecDeque<Job<T>>,
    /// Whether the object's thread is running.
    running: bool,
}

/// A core object behind a mutex, `None` once closed, with a queue of Promise calls.
pub(crate) struct Guarded<T> {
    obj: Mutex<Option<T>>,
    closed: AtomicBool,
    /// Promise calls queued or running.
    pending: AtomicU64,
    jobs: Mutex<Jobs<T>>,
    /// What the object is called in error messages ("receiver", "sender", ...).
    what: &'static str,
}

impl<T: Send + 'static> Guarded<T> {
    pub fn new(value: T, what: &'static str) -> Self {
        Guarded {
            obj: Mutex::new(Some(value)),
            closed: AtomicBool::new(false),
            pending: AtomicU64::new(0),
            jobs: Mutex::new(Jobs {
                queue: VecDeque::new(),
                running: false,
            }),
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
        if self.pending.load(Ordering::Acquire) != 0 {
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

    /// Queues a Promise call; it runs after every call queued before it, on the
    /// object's thread (started if needed).
    pub fn submit(self: &Arc<Self>, job: Job<T>) -> Outcome<()> {
        self.pending.fetch_add(1, Ordering::AcqRel);
        let mut jobs = self.jobs.lock().unwrap_or_else(PoisonError::into_inner);
        jobs.queue.push_back(job);
        if jobs.running {
            return Ok(());
        }
        let me = self.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("shoal-{}", self.what))
            .spawn(move || me.drain());
        match spawned {
            Ok(_) => {
                jobs.running = true;
                Ok(())
            }
            Err(e) => {
                jobs.queue.pop_back();
                self.pending.fetch_sub(1, Ordering::AcqRel);
                Err(Kind::Bus.fail(format!("cannot start a thread: {e}")))
            }
        }
    }

    fn drain(&self) {
        loop {
            let job = {
                let mut jobs = self.jobs.lock().unwrap_or_else(PoisonError::into_inner);
                match jobs.queue.pop_front() {
                    Some(j) => j,
                    None => {
                        jobs.running = false;
                        return;
                    }
                }
            };
            let settle = job(self);
            self.pending.fetch_sub(1, Ordering::AcqRel);
            settle();
        }
    }

    /// On the object's thread: the object, or the closed failure (dropping the object if the
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
    }
}
