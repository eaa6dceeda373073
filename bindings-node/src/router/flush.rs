//! `router.flush(timeoutMs)`: waits on libuv's thread pool until every remote payload
//! is acknowledged (bounded by the timeout), so the event loop never blocks.

use std::sync::Arc;
use std::time::Duration;

use napi::bindgen_prelude::*;
use shoal_core::native::net::{NetError, TcpTransport};

use crate::errors::{Failure, Kind, OrThrow, Outcome};

/// Waits for the acknowledgements of one TCP transport.
pub struct Flush {
    tcp: Option<Arc<TcpTransport>>,
    timeout: Duration,
}

impl Flush {
    /// A flush of `tcp` (none: resolves at once) for at most `timeout`.
    pub fn new(tcp: Option<Arc<TcpTransport>>, timeout: Duration) -> Flush {
        Flush { tcp, timeout }
    }
}

impl Task for Flush {
    type Output = Outcome<()>;
    type JsValue = ();

    fn compute(&mut self) -> Result<Outcome<()>> {
        let Some(tcp) = &self.tcp else {
            return Ok(Ok(()));
        };
        Ok(match tcp.flush(self.timeout) {
            Ok(()) => Ok(()),
            Err(NetError::Timeout(_)) => Err(Kind::Timeout.fail(format!(
                "flush: {} routed payloads still unacknowledged after {} ms",
                tcp.stats().pending,
                self.timeout.as_millis()
            ))),
            Err(e) => Err(Failure::from(e)),
        })
    }

    fn resolve(&mut self, env: Env, output: Outcome<()>) -> Result<()> {
        output.or_throw(&env)
    }
}
