//! `Events`: a subscription to a node's membership events as an async iterator
//! (`for await (const ev of node.events())`), plus `nextEvent(timeoutMs)` and
//! `tryNext()`.
//!
//! How events reach JavaScript without blocking the event loop: each subscription has
//! a forwarding thread of its own that waits on the core's channel (in slices of at
//! most 100 ms, so it notices a cancelled subscription or a stopped node) and settles
//! waiting promises through napi `JsDeferred`s (thread-safe functions). Nothing runs
//! on libuv's thread pool, so any number of subscriptions can wait at once.
//!
//! Lifetime: a pending `next()` / `nextEvent()` promise keeps the process alive (like
//! a pending socket read) until it settles — with an event, with `done` / `null` once
//! the node is closed or the subscription is ended with `return()`, or (for
//! `nextEvent`) at its timeout. With nothing pending, a subscription keeps nothing
//! alive. The forwarding thread ends within 100 ms of the subscription ending.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use napi::bindgen_prelude::*;
use napi::JsDeferred;
use napi_derive::napi;
use shoal_core::native::net::Events as CoreEvents;

use super::member::MembershipEvent;
use crate::errors::{invalid, OrThrow};

/// Longest wait of the forwarding thread between checks of the stop flags.
const SLICE: Duration = Duration::from_millis(100);

/// One step of the async iterator protocol.
#[napi(object)]
pub struct IteratorStep {
    /// The event (absent when `done`).
    pub value: Option<MembershipEvent>,
    /// True once the subscription has ended.
    pub done: bool,
}

/// What a promise settles with: an iterator step (`next`) or an event or `null`
/// (`nextEvent`).
type Reply = Either<IteratorStep, Option<MembershipEvent>>;
type Resolve = Box<dyn FnOnce(Env) -> Result<Reply>>;
type Deferred = JsDeferred<Reply, Resolve>;

/// Which shape a waiter's promise settles with.
#[derive(Clone, Copy)]
enum Shape {
    Step,
    Plain,
}

fn reply(shape: Shape, event: Option<MembershipEvent>) -> Reply {
    match shape {
        Shape::Step => Either::A(IteratorStep {
            done: event.is_none(),
            value: event,
        }),
        Shape::Plain => Either::B(event),
    }
}

fn settle(deferred: Deferred, shape: Shape, event: Option<MembershipEvent>) {
    let r = reply(shape, event);
    deferred.resolve(Box::new(move |_| Ok(r)));
}

struct Waiter {
    deferred: Deferred,
    shape: Shape,
    deadline: Option<Instant>,
}

#[derive(Default)]
struct State {
    /// Events not yet asked for.
    queue: VecDeque<MembershipEvent>,
    /// Promises waiting for an event, oldest first.
    waiters: VecDeque<Waiter>,
    /// No more events will come (the node stopped or the subscription was ended);
    /// queued ones may still be read.
    ended: bool,
    /// `return()` was called or the object was collected: drop what is queued too.
    cancelled: bool,
}

/// What a subscription shares with its forwarding thread.
struct Feed {
    state: Mutex<State>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Feed {
    /// Hands `event` to the oldest waiter, or queues it.
    fn push(&self, event: MembershipEvent) {
        let mut s = lock(&self.state);
        if s.cancelled {
            return;
        }
        match s.waiters.pop_front() {
            Some(w) => settle(w.deferred, w.shape, Some(event)),
            None => s.queue.push_back(event),
        }
    }

    /// Settles waiters whose deadline passed (with `null`); returns how long until
    /// the next deadline, at most [`SLICE`].
    fn expire(&self) -> Duration {
        let mut s = lock(&self.state);
        let now = Instant::now();
        let mut next = SLICE;
        let mut keep = VecDeque::with_capacity(s.waiters.len());
        for w in s.waiters.drain(..) {
            match w.deadline {
                Some(d) if d <= now => settle(w.deferred, w.shape, None),
                Some(d) => {
                    next = next.min(d - now);
                    keep.push_back(w);
                }
                None => keep.push_back(w),
            }
        }
        s.waiters = keep;
        next.max(Duration::from_millis(1))
    }

    /// No more events: settles every waiter with the end.
    fn end(&self) {
        let mut s = lock(&self.state);
        s.ended = true;
        for w in s.waiters.drain(..) {
            settle(w.deferred, w.shape, None);
        }
    }

    fn cancelled(&self) -> bool {
        lock(&self.state).cancelled
    }
}

/// The forwarding thread: core channel → waiting promises.
fn forward(feed: Arc<Feed>, rx: CoreEvents, stopped: Arc<AtomicBool>) {
    loop {
        if feed.cancelled() {
            break;
        }
        let wait = feed.expire();
        // Read the flag before waiting: once it is set, every event is already queued.
        if stopped.load(Ordering::Acquire) {
            while let Some(e) = rx.try_recv() {
                feed.push(MembershipEvent::from(&e));
            }
            break;
        }
        let started = Instant::now();
        match rx.recv_timeout(wait) {
            Some(e) => feed.push(MembershipEvent::from(&e)),
            None if started.elapsed() < wait / 2 => {
                // The driver dropped the channel and the node is finishing its stop:
                // do not spin until the flag is set.
                std::thread::sleep(Duration::from_millis(5));
            }
            None => {}
        }
    }
    feed.end();
}

/// Membership events of one node (joined, updated, suspected, refuted, failed,
/// left), from the moment of `node.events()` on.
///
/// `for await (const ev of node.events())` reads them one by one; the loop ends once
/// the node is closed (after the events it queued before stopping), and `break`
/// ends the subscription. `nextEvent(timeoutMs)` waits at most `timeoutMs`
/// milliseconds and gives `null` when the time is up or the subscription has ended.
/// Waiting never blocks the event loop; a pending wait keeps the process alive until
/// it settles.
#[napi]
pub struct Events {
    feed: Arc<Feed>,
}

impl Events {
    /// A subscription fed from `rx` until the node sets `stopped`.
    pub fn start(rx: CoreEvents, stopped: Arc<AtomicBool>) -> Result<Events> {
        let feed = Arc::new(Feed {
            state: Mutex::new(State::default()),
        });
        let f = feed.clone();
        std::thread::Builder::new()
            .name("shoal-node-events".into())
            .spawn(move || forward(f, rx, stopped))
            .map_err(|e| Error::from_reason(format!("cannot start the event thread: {e}")))?;
        Ok(Events { feed })
    }

    /// A promise for the next event, in `shape`, waiting at most `timeout`.
    fn wait<'e>(
        &self,
        env: &'e Env,
        shape: Shape,
        timeout: Option<Duration>,
    ) -> Result<Object<'e>> {
        let (deferred, promise) = env.create_deferred::<Reply, Resolve>()?;
        let mut s = lock(&self.feed.state);
        if let Some(e) = s.queue.pop_front() {
            settle(deferred, shape, Some(e));
        } else if s.ended || s.cancelled || timeout == Some(Duration::ZERO) {
            settle(deferred, shape, None);
        } else {
            s.waiters.push_back(Waiter {
                deferred,
                shape,
                deadline: timeout.map(|t| Instant::now() + t),
            });
        }
        Ok(promise)
    }
}

#[napi]
impl Events {
    /// The async iterator protocol: the next event as `{ value, done: false }`, or
    /// `{ done: true }` once the node is closed (and every queued event was read) or
    /// the subscription was ended.
    #[napi(ts_return_type = "Promise<IteratorResult<MembershipEvent, undefined>>")]
    pub fn next<'e>(&self, env: &'e Env) -> Result<Object<'e>> {
        self.wait(env, Shape::Step, None)
    }

    /// The next event, waiting at most `timeoutMs` milliseconds (omitted: until one
    /// comes); `null` when the time is up or the subscription has ended. Timeouts are
    /// honoured to within about 100 ms.
    #[napi(ts_return_type = "Promise<MembershipEvent | null>")]
    pub fn next_event<'e>(&self, env: &'e Env, timeout_ms: Option<f64>) -> Result<Object<'e>> {
        let timeout = match timeout_ms {
            None => None,
            Some(t) if t.is_finite() && t >= 0.0 => {
                Some(Duration::from_secs_f64(t.min(1e12) / 1e3))
            }
            Some(t) => {
                return Err(invalid(format!(
                    "timeoutMs must be a number of milliseconds >= 0, not {t}"
                )))
                .or_throw(env)
            }
        };
        self.wait(env, Shape::Plain, timeout)
    }

    /// The next event if one is already waiting, else `null` (never waits).
    #[napi]
    pub fn try_next(&self) -> Option<MembershipEvent> {
        lock(&self.feed.state).queue.pop_front()
    }

    /// Ends the subscription (what `break` in a `for await` loop calls): pending waits
    /// settle with the end, queued events are dropped.
    #[napi(
        js_name = "return",
        ts_return_type = "Promise<IteratorResult<MembershipEvent, undefined>>"
    )]
    pub fn finish<'e>(&self, env: &'e Env) -> Result<Object<'e>> {
        {
            let mut s = lock(&self.feed.state);
            s.cancelled = true;
            s.queue.clear();
        }
        self.feed.end();
        self.wait(env, Shape::Step, None)
    }

    /// True once no more events will come (node closed or subscription ended) and
    /// every queued one was read.
    #[napi(getter)]
    pub fn closed(&self) -> bool {
        let s = lock(&self.feed.state);
        s.ended && s.queue.is_empty()
    }
}

impl Drop for Events {
    /// A collected subscription stops its forwarding thread.
    fn drop(&mut self) {
        lock(&self.feed.state).cancelled = true;
    }
}
