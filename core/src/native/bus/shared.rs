//! One process's attachment to a bus segment: creating, opening and leaving it, and the
//! rule that the segment's name is unlinked only by its last user.
//!
//! `Header::users` counts attached processes. A process that leaves decrements it; the
//! last one swaps 1 for [`CLOSED`] and unlinks the name, and an opener that sees 0 or
//! `CLOSED` treats the bus as gone. Processes that died without leaving are counted out
//! by crash repair, so a crash never keeps a segment alive forever, and `create` over a
//! segment whose users are all dead replaces it.

use core::sync::atomic::{AtomicU64, Ordering};
use std::io;
use std::string::{String, ToString};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::config::BusConfig;
use super::error::BusError;
use super::held::HeldRow;
use super::layout::{Layout, View, CLOSED, LIVE, READY};
use super::procs::{self, record_alive, Me};
use crate::native::shm::{ProcessId, Segment};
use crate::pool::Pool;

/// A process's attachment to one bus; shared by its `Bus`, senders, receivers, loans
/// and messages through an `Arc`, so the mapping outlives every view into it.
pub(crate) struct Shared {
    pub name: String,
    pub view: View,
    pub pool: Pool,
    pub me: Me,
    pub held: HeldRow,
    /// Milliseconds since `epoch` of the last liveness scan (rate limit).
    last_scan: AtomicU64,
    epoch: Instant,
    /// Keeps the mapping alive (unmapped when the last `Arc` goes).
    _segment: Segment,
}

fn map_open_error(name: &str, e: io::Error) -> BusError {
    match e.kind() {
        io::ErrorKind::NotFound => BusError::NotFound(name.into()),
        io::ErrorKind::InvalidInput => BusError::InvalidName(e.to_string()),
        io::ErrorKind::AlreadyExists => BusError::AlreadyExists(name.into()),
        _ => BusError::Io(e),
    }
}

/// Waits for the creator to finish formatting (it sets `ready` last).
fn wait_ready(view: &View) -> bool {
    let start = Instant::now();
    while view.header().ready.load(Ordering::Acquire) != READY {
        if start.elapsed() > Duration::from_secs(1) {
            return false;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    true
}

/// Reads the header of a mapped segment, waiting for it to be ready.
fn view_of(segment: &Segment) -> Result<View, BusError> {
    if segment.len() < 4096 {
        return Err(BusError::Incompatible(
            "segment is too small to be a bus".into(),
        ));
    }
    // A provisional view: only the header is accessed until the layout is read.
    let probe = Layout::provisional(segment.len());
    // SAFETY: the segment mapping is live and page-aligned; the header fits.
    let view = unsafe { View::new(segment.as_ptr(), probe) };
    if !wait_ready(&view) {
        return Err(BusError::Incompatible(
            "segment is not (yet) a formatted bus".into(),
        ));
    }
    let layout = Layout::read(view.header(), segment.len())?;
    // SAFETY: `Layout::read` checked that the layout fits in the mapping.
    Ok(unsafe { View::new(segment.as_ptr(), layout) })
}

impl Shared {
    /// Creates the bus `name`, replacing a stale one whose users all died.
    pub fn create(name: &str, cfg: &BusConfig) -> Result<Arc<Shared>, BusError> {
        let layout = Layout::for_config(cfg)?;
        let id = ProcessId::current()?;
        for _ in 0..3 {
            match Segment::create(name, layout.total_len) {
                Ok(segment) => return Self::format(name, segment, layout, cfg, id),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    if Self::is_stale(name) {
                        let _ = Segment::unlink(name);
                        continue;
                    }
                    return Err(BusError::AlreadyExists(name.into()));
                }
                Err(e) => return Err(map_open_error(name, e)),
            }
        }
        Err(BusError::AlreadyExists(name.into()))
    }

    /// Whether an existing segment is unusable or has no live user.
    fn is_stale(name: &str) -> bool {
        let Ok(segment) = Segment::open(name) else {
            return true;
        };
        let Ok(view) = view_of(&segment) else {
            return true;
        };
        if view.header().users.load(Ordering::Acquire) & CLOSED != 0 {
            return true;
        }
        !(0..view.layout.max_processes).any(|i| {
            view.proc(i)
                .is_some_and(|r| r.state.load(Ordering::Acquire) == LIVE && record_alive(r))
        })
    }

    fn format(
        name: &str,
        segment: Segment,
        layout: Layout,
        cfg: &BusConfig,
        id: ProcessId,
    ) -> Result<Arc<Shared>, BusError> {
        let result = (|| {
            // SAFETY: the fresh mapping is page-aligned and `total_len` long.
            let view = unsafe { View::new(segment.as_ptr(), layout) };
            layout.write(view.header());
            let (base, len) = view.pool_region();
            // SAFETY: the pool region lies inside the mapping; nobody else can use the
            // segment before `ready` is set.
            let pool = unsafe { Pool::init(base, len, &cfg.pool) }?;
            view.header().users.store(1, Ordering::Relaxed);
            let me = procs::register(&view, id)?;
            view.header().ready.store(READY, Ordering::Release);
            Ok((view, pool, me))
        })();
        match result {
            Ok((view, pool, me)) => Ok(Self::assemble(name, segment, view, pool, me)),
            Err(e) => {
                let _ = Segment::unlink(name);
                Err(e)
            }
        }
    }

    fn assemble(name: &str, segment: Segment, view: View, pool: Pool, me: Me) -> Arc<Shared> {
        Arc::new(Shared {
            name: name.into(),
            held: HeldRow::new(&view, me.index),
            view,
            pool,
            me,
            last_scan: AtomicU64::new(0),
            epoch: Instant::now(),
            _segment: segment,
        })
    }

    /// Opens the existing bus `name` and repairs what dead processes left behind.
    pub fn open(name: &str) -> Result<Arc<Shared>, BusError> {
        let segment = Segment::open(name).map_err(|e| map_open_error(name, e))?;
        let view = view_of(&segment)?;
        let users = &view.header().users;
        let mut cur = users.load(Ordering::Acquire);
        loop {
            if cur == 0 || cur & CLOSED != 0 {
                return Err(BusError::NotFound(name.into()));
            }
            match users.compare_exchange(cur, cur + 1, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => break,
                Err(actual) => cur = actual,
            }
        }
        let attached = (|| {
            let (base, len) = view.pool_region();
            // SAFETY: the pool region lies inside the live mapping.
            let pool = unsafe { Pool::attach(base, len) }?;
            let me = procs::register(&view, ProcessId::current()?)?;
            Ok((pool, me))
        })();
        let (pool, me) = match attached {
            Ok(x) => x,
            Err(e) => {
                users.fetch_sub(1, Ordering::AcqRel);
                return Err(e);
            }
        };
        let shared = Self::assemble(name, segment, view, pool, me);
        // Repair on attach; a stalled peer only postpones it.
        match shared.repair() {
            Ok(_) | Err(BusError::PeerStalled) => {}
            Err(e) => return Err(e),
        }
        Ok(shared)
    }

    /// Enters a bus operation (see `procs.rs`).
    pub fn enter(&self) -> procs::OpGuard<'_> {
        procs::enter(&self.view, self.me)
    }

    /// Runs crash repair if any attached process has died; at most every 100 ms unless
    /// `force`.
    pub fn check_peers(&self, force: bool) -> Result<(), BusError> {
        let now = self.epoch.elapsed().as_millis() as u64;
        let last = self.last_scan.load(Ordering::Relaxed);
        if !force && now.saturating_sub(last) < 100 {
            return Ok(());
        }
        self.last_scan.store(now, Ordering::Relaxed);
        self.repair().map(|_| ())
    }

    /// Bumps a shared counter of rejected descriptors.
    pub fn count_corrupt(&self) {
        self.view.header().corrupt.fetch_add(1, Ordering::Relaxed);
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        // Senders, receivers, loans and messages hold this Arc, so they are all gone:
        // this process holds nothing. Count out dead peers first so the last live user
        // really is the last.
        let _ = self.repair();
        let view = &self.view;
        if let Some(rec) = view.proc(self.me.index) {
            rec.state.store(super::layout::FREE, Ordering::Release);
        }
        let users = &view.header().users;
        let mut cur = users.load(Ordering::Acquire);
        loop {
            if cur & CLOSED != 0 {
                return;
            }
            let (next, last) = if cur <= 1 {
                (CLOSED, true)
            } else {
                (cur - 1, false)
            };
            match users.compare_exchange(cur, next, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => {
                    if last {
                        super::large::remove_all(self);
                        let _ = Segment::unlink(&self.name);
                    }
                    return;
                }
                Err(actual) => cur = actual,
            }
        }
    }
}
