//! `shoal agent --bus NAME`: the agent consumes its own endpoint on a shared-memory bus,
//! where routers on this host deliver the payloads of the keys it owns.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use shoal_core::native::bus::{Backpressure, Bus, BusError, EndpointConfig};

/// A thread that receives (and counts, then drops) every payload sent to the endpoint
/// named after the member's id.
pub struct Inbox {
    thread: JoinHandle<u64>,
}

impl Inbox {
    /// Opens bus `name`, becomes the consumer of endpoint `id` and starts receiving
    /// until `stop` is set. A full lane fails the sender at once (backpressure `Error`),
    /// so a router never blocks on a slow or stopped agent.
    pub fn start(name: &str, id: &str, stop: Arc<AtomicBool>) -> Result<Inbox, BusError> {
        let bus = Bus::open(name)?;
        let cfg = EndpointConfig {
            backpressure: Backpressure::Error,
            ..EndpointConfig::default()
        };
        let mut rx = bus.endpoint(id, cfg)?;
        let thread = std::thread::Builder::new()
            .name("shoal-agent-inbox".into())
            .spawn(move || {
                let mut received = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    match rx.recv_timeout(Duration::from_millis(100)) {
                        Ok(message) => {
                            drop(message);
                            received += 1;
                        }
                        Err(BusError::Timeout) => {}
                        Err(e) => {
                            eprintln!("shoal agent: bus {}: {e}", bus.name());
                            break;
                        }
                    }
                }
                received
            })
            .map_err(BusError::Io)?;
        Ok(Inbox { thread })
    }

    /// Waits for the thread (it stops once `stop` is set) and returns how many payloads
    /// it received.
    pub fn finish(self) -> u64 {
        self.thread.join().unwrap_or(0)
    }
}
