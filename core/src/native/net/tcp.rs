//! The node's TCP listener: one short-lived thread per connection (at most
//! [`MAX_CONNECTIONS`] at once; more are closed at once), each reading frames with a
//! read timeout so an idle or hostile client cannot hold it forever.

use core::sync::atomic::{AtomicUsize, Ordering};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use super::control::{is_local, kind, read_frame, write_frame};
use super::node::Shared;

/// Connections served at once.
const MAX_CONNECTIONS: usize = 64;
/// A connection idle this long is closed.
const IDLE: Duration = Duration::from_secs(10);

/// Accepts connections until `shared.stop` is set (the handle then connects once to
/// wake `accept`).
pub(crate) fn serve(listener: TcpListener, shared: &Arc<Shared>) {
    let active = Arc::new(AtomicUsize::new(0));
    for conn in listener.incoming() {
        if shared.stop.load(Ordering::Acquire) {
            break;
        }
        let Ok(stream) = conn else {
            // Out of descriptors or a connection reset before accept: keep serving.
            std::thread::sleep(Duration::from_millis(5));
            continue;
        };
        if active.load(Ordering::Relaxed) >= MAX_CONNECTIONS {
            continue; // dropped: closed at once
        }
        active.fetch_add(1, Ordering::Relaxed);
        let (shared, done) = (shared.clone(), active.clone());
        let spawned = std::thread::Builder::new()
            .name("shoal-node-conn".into())
            .spawn(move || {
                let _ = handle(stream, &shared);
                done.fetch_sub(1, Ordering::Relaxed);
            });
        if spawned.is_err() {
            active.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

fn handle(mut s: TcpStream, shared: &Shared) -> std::io::Result<()> {
    s.set_read_timeout(Some(IDLE))?;
    s.set_write_timeout(Some(IDLE))?;
    let (peer, local) = (s.peer_addr()?, s.local_addr()?);
    loop {
        if shared.stop.load(Ordering::Acquire) {
            return Ok(());
        }
        let (k, _payload) = read_frame(&mut s)?;
        match k {
            kind::STATUS_REQUEST if is_local(peer, local) => {
                let status = shared.status.load();
                write_frame(&mut s, kind::STATUS, &status.encode())?;
            }
            kind::STATUS_REQUEST => {
                let why = b"status is served to clients on the node's own host only";
                write_frame(&mut s, kind::ERROR, why)?;
                return Ok(());
            }
            other => {
                let why = std::format!("unknown request kind {other}");
                write_frame(&mut s, kind::ERROR, why.as_bytes())?;
                return Ok(());
            }
        }
    }
}
