//! The node's TCP listener: one thread per connection (at most [`MAX_CONNECTIONS`] at
//! once; more are closed at once), each reading frames with a read timeout so an idle
//! or hostile client cannot hold it forever. It answers status requests from this host,
//! full-state sync requests from members (`state.rs`), and takes routed payloads from
//! anywhere, acknowledging them in batches.

use core::sync::atomic::{AtomicUsize, Ordering};
use std::io::BufReader;
use std::net::{TcpListener, TcpStream};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};
use std::vec::Vec;

use super::control::{is_local, kind, read_frame_into, write_frame};
use super::node::{lock, Command, Shared};
use super::route::frame::{encode_ack, Nack, Route};
use super::route::inbox::Outcome;
use super::state;

/// Connections served at once.
const MAX_CONNECTIONS: usize = 256;
/// A connection idle this long is closed.
const IDLE: Duration = Duration::from_secs(10);
/// Most acknowledgements held back for one batch.
const ACK_BATCH: usize = 4096;

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

/// Acknowledgements not yet written: one origin's seqs.
struct Acks {
    origin: u64,
    seqs: Vec<u64>,
}

impl Acks {
    fn flush(&mut self, w: &mut &TcpStream) -> std::io::Result<()> {
        if !self.seqs.is_empty() {
            write_frame(w, kind::ACK, &encode_ack(self.origin, &self.seqs))?;
            self.seqs.clear();
        }
        Ok(())
    }
}

fn handle(s: TcpStream, shared: &Shared) -> std::io::Result<()> {
    s.set_read_timeout(Some(IDLE))?;
    s.set_write_timeout(Some(IDLE))?;
    s.set_nodelay(true)?;
    let (peer, local) = (s.peer_addr()?, s.local_addr()?);
    let mut r = BufReader::with_capacity(64 << 10, s.try_clone()?);
    let mut w = &s;
    let mut acks = Acks {
        origin: 0,
        seqs: Vec::new(),
    };
    let mut payload = Vec::new();
    loop {
        if shared.stop.load(Ordering::Acquire) {
            return Ok(());
        }
        let k = read_frame_into(&mut r, &mut payload)?;
        match k {
            kind::ROUTE => {
                let Ok(f) = Route::decode(&payload) else {
                    acks.flush(&mut w)?;
                    write_frame(&mut w, kind::ERROR, b"malformed route frame")?;
                    return Ok(());
                };
                if f.origin != acks.origin {
                    acks.flush(&mut w)?;
                    acks.origin = f.origin;
                }
                match lock(&shared.inbox).accept(&shared.id, &f, Instant::now()) {
                    Outcome::Delivered | Outcome::Duplicate => acks.seqs.push(f.seq),
                    Outcome::Refused(code, reason) => {
                        let nack = Nack {
                            origin: f.origin,
                            seq: f.seq,
                            code,
                            reason,
                        };
                        write_frame(&mut w, kind::NACK, &nack.encode())?;
                    }
                }
                // Acknowledge once the frames that arrived together are handled.
                if r.buffer().is_empty() || acks.seqs.len() >= ACK_BATCH {
                    acks.flush(&mut w)?;
                }
            }
            kind::STATE_REQUEST => {
                let Ok((from, packets)) = state::decode_request(&payload) else {
                    write_frame(&mut w, kind::ERROR, b"malformed state request")?;
                    return Ok(());
                };
                let (tx, rx) = mpsc::channel();
                lock(&shared.commands).push(Command::MergeState {
                    from,
                    packets,
                    reply: Some(tx),
                });
                match rx.recv_timeout(state::STATE_TIMEOUT) {
                    Ok(ours) => write_frame(&mut w, kind::STATE, &state::encode_reply(&ours))?,
                    Err(_) => {
                        write_frame(&mut w, kind::ERROR, b"the node is stopping")?;
                        return Ok(());
                    }
                }
            }
            kind::STATUS_REQUEST if is_local(peer, local) => {
                let status = shared.status.load();
                write_frame(&mut w, kind::STATUS, &status.encode())?;
            }
            kind::STATUS_REQUEST => {
                let why = b"status is served to clients on the node's own host only";
                write_frame(&mut w, kind::ERROR, why)?;
                return Ok(());
            }
            other => {
                let why = std::format!("unknown request kind {other}");
                write_frame(&mut w, kind::ERROR, why.as_bytes())?;
                return Ok(());
            }
        }
    }
}
