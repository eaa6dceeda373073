//! The hub: the latest snapshot (for `GET /api/state` and for every new event-stream
//! client) and the fan-out of events to the connected `GET /api/events` clients.
//!
//! Each client has a bounded queue of ready-to-write SSE messages; a client that falls
//! that far behind is dropped (its connection closes; `EventSource` reconnects and
//! starts again from a snapshot).

use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};

use serde_json::Value;

/// Messages a client may have queued before it is dropped.
const CLIENT_QUEUE: usize = 256;

/// The latest snapshot and the event-stream clients.
pub struct Hub {
    inner: Mutex<Inner>,
}

struct Inner {
    /// The latest snapshot's JSON (`{}` until the first one).
    latest: Arc<str>,
    clients: Vec<SyncSender<Arc<str>>>,
}

/// One SSE message: `event: NAME`, one `data:` line, a blank line.
fn sse(event: &str, data: &str) -> Arc<str> {
    format!("event: {event}\ndata: {data}\n\n").into()
}

impl Default for Hub {
    /// No snapshot yet, no clients.
    fn default() -> Hub {
        Hub {
            inner: Mutex::new(Inner {
                latest: "{}".into(),
                clients: Vec::new(),
            }),
        }
    }
}

impl Hub {
    /// Stores `snapshot` as the latest and sends it to every client.
    pub fn publish_snapshot(&self, snapshot: &Value) {
        let json: Arc<str> = snapshot.to_string().into();
        let message = sse("snapshot", &json);
        let mut inner = super::lock(&self.inner);
        inner.latest = json;
        broadcast(&mut inner.clients, &message);
    }

    /// Sends event `event` (`member`, `action`) with `data` to every client.
    pub fn publish(&self, event: &str, data: &Value) {
        let message = sse(event, &data.to_string());
        broadcast(&mut super::lock(&self.inner).clients, &message);
    }

    /// The latest snapshot's JSON.
    pub fn latest(&self) -> Arc<str> {
        super::lock(&self.inner).latest.clone()
    }

    /// A new client: the latest snapshot as an SSE message (to write first), then
    /// every later message through the receiver, in order and without a gap.
    pub fn subscribe(&self) -> (Arc<str>, Receiver<Arc<str>>) {
        let (tx, rx) = mpsc::sync_channel(CLIENT_QUEUE);
        let mut inner = super::lock(&self.inner);
        inner.clients.push(tx);
        (sse("snapshot", &inner.latest), rx)
    }
}

/// Queues `message` for every client; drops clients that are gone or too far behind.
fn broadcast(clients: &mut Vec<SyncSender<Arc<str>>>, message: &Arc<str>) {
    clients.retain(|c| match c.try_send(message.clone()) {
        Ok(()) => true,
        Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => false,
    });
}
