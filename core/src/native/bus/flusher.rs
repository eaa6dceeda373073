//! The batch flusher: one background thread per process that sends the batches their
//! senders left pending for longer than the batch delay, so a sender that goes quiet
//! does not keep its last messages to itself.
//!
//! The thread starts with the first batched send of the process and then lives as long
//! as the process, parked whenever no batch is pending. Senders register on their first
//! batch and unregister when dropped; the thread touches a sender only while holding
//! the list's lock, so once [`Flusher::unregister`] returns it holds no reference to it.
//!
//! Waking: a sender that opens a batch stores its deadline in [`Producer::due`], then
//! reads [`Flusher::next`] (when the thread will look next) and unparks the thread if
//! its deadline is earlier. The thread stores `u64::MAX` in `next` before a scan and the
//! true next deadline after it (all `SeqCst`), so a deadline stored during a scan is
//! either seen by the scan or followed by an unpark, which makes the next park return
//! at once.

use core::num::NonZeroU64;
use core::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::thread::Thread;
use std::time::{Duration, Instant};
use std::vec::Vec;

use super::sender::Producer;

/// How long a batch whose push failed (lane full, consumer gone) waits before the thread
/// tries again; the sender's own next call reports the error.
const RETRY: Duration = Duration::from_millis(1);

/// Timer slack asked for the thread (ns): the kernel's default of 50 µs would add a
/// quarter to the default 200 µs batch delay.
const TIMER_SLACK_NS: u64 = 1_000;

/// Nanoseconds since a process-wide epoch; the clock of every deadline here.
pub(crate) fn now_ns() -> u64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    let epoch = *EPOCH.get_or_init(Instant::now);
    u64::try_from(epoch.elapsed().as_nanos()).unwrap_or(u64::MAX - 1)
}

/// `now + delay_ns`, saturating at `u64::MAX` (never).
pub(crate) fn deadline(now: u64, delay_ns: u64) -> u64 {
    now.saturating_add(delay_ns)
}

/// A duration in nanoseconds, `u64::MAX` when it does not fit.
pub(crate) fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// The process's flusher thread and the senders it watches.
pub(crate) struct Flusher {
    producers: Mutex<Vec<Arc<Producer>>>,
    /// When the thread looks next (`now_ns` clock); `u64::MAX` while it scans or is
    /// parked with nothing pending.
    next: AtomicU64,
    thread: Thread,
    /// The process that started the thread (a forked child has no such thread).
    pid: u32,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Flusher {
    /// The process's flusher, started on first use (and again in a forked child).
    pub(crate) fn get() -> std::io::Result<Arc<Flusher>> {
        static CURRENT: Mutex<Option<Arc<Flusher>>> = Mutex::new(None);
        let mut current = lock(&CURRENT);
        let pid = std::process::id();
        if let Some(f) = current.as_ref().filter(|f| f.pid == pid) {
            return Ok(f.clone());
        }
        let (tx, rx) = std::sync::mpsc::channel::<Arc<Flusher>>();
        let handle = std::thread::Builder::new()
            .name("shoal-flusher".into())
            .spawn(move || {
                if let Ok(me) = rx.recv() {
                    me.run();
                }
            })?;
        let flusher = Arc::new(Flusher {
            producers: Mutex::new(Vec::new()),
            next: AtomicU64::new(u64::MAX),
            thread: handle.thread().clone(),
            pid,
        });
        // The thread cannot fail to receive: it waits on `rx` and nothing else.
        let _ = tx.send(flusher.clone());
        *current = Some(flusher.clone());
        Ok(flusher)
    }

    /// Starts watching `p`.
    pub(crate) fn register(&self, p: Arc<Producer>) {
        lock(&self.producers).push(p);
    }

    /// Stops watching `p`; afterwards the thread holds no reference to it.
    pub(crate) fn unregister(&self, p: &Arc<Producer>) {
        lock(&self.producers).retain(|q| !Arc::ptr_eq(q, p));
    }

    /// Tells the thread a batch is due at `due` (call after storing it in the
    /// producer's `due`).
    pub(crate) fn wake_by(&self, due: u64) {
        if due < self.next.load(Ordering::SeqCst) {
            self.thread.unpark();
        }
    }

    fn run(&self) {
        let _ = rustix::thread::set_current_timer_slack(NonZeroU64::new(TIMER_SLACK_NS));
        loop {
            self.next.store(u64::MAX, Ordering::SeqCst);
            let next = self.scan();
            self.next.store(next, Ordering::SeqCst);
            if next == u64::MAX {
                std::thread::park();
            } else {
                let now = now_ns();
                if next > now {
                    std::thread::park_timeout(Duration::from_nanos(next - now));
                }
            }
        }
    }

    /// Flushes every due batch; returns the earliest deadline still pending.
    fn scan(&self) -> u64 {
        let producers = lock(&self.producers);
        let now = now_ns();
        let mut next = u64::MAX;
        for p in producers.iter() {
            let due = p.due.load(Ordering::SeqCst);
            let pending = if due <= now {
                p.flush_from_timer(now, deadline(now, nanos(RETRY)))
            } else {
                due
            };
            next = next.min(pending);
        }
        next
    }
}
