//! The feed: forwards the observer's membership events to the page as they happen and
//! publishes a fresh snapshot every [`PERIOD`] (and shortly after each event, once the
//! observer's status has caught up).

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use shoal_core::native::net::Node;

use super::{lock, snapshot, Shared};

/// Time between snapshots (the contract asks for at least one a second).
const PERIOD: Duration = Duration::from_millis(500);
/// Delay from an event to the snapshot that shows it (the node refreshes its status
/// at least every 100 ms).
const AFTER_EVENT: Duration = Duration::from_millis(150);

/// The feed thread.
pub struct Feed {
    thread: JoinHandle<()>,
}

impl Feed {
    /// Waits for the thread; it ends once the demo is stopping.
    pub fn join(self) {
        let _ = self.thread.join();
    }
}

/// Publishes a first snapshot, then starts the feed thread.
pub fn start(shared: Arc<Shared>, observer: Arc<Node>) -> std::io::Result<Feed> {
    let events = observer.events();
    publish_snapshot(&shared, &observer);
    let thread = std::thread::Builder::new()
        .name("shoal-demo-feed".into())
        .spawn(move || {
            let mut next = Instant::now() + PERIOD;
            while !shared.stopping() {
                let wait = next
                    .saturating_duration_since(Instant::now())
                    .min(Duration::from_millis(100));
                if let Some(e) = events.recv_timeout(wait) {
                    let v = snapshot::member_event(shared.now_ms(), &e, observer.id());
                    shared.hub.publish("member", &v);
                    next = next.min(Instant::now() + AFTER_EVENT);
                }
                if Instant::now() >= next {
                    publish_snapshot(&shared, &observer);
                    next = Instant::now() + PERIOD;
                }
            }
        })?;
    Ok(Feed { thread })
}

fn publish_snapshot(shared: &Shared, observer: &Node) {
    let status = observer.status();
    let up = lock(&shared.up).clone();
    let traffic = lock(&shared.traffic).clone();
    let v = snapshot::snapshot(shared.now_ms(), &status, &up, &traffic);
    shared.hub.publish_snapshot(&v);
}
