//! Starting and closing a node on libuv's thread pool: binding, DNS and the graceful
//! leave (up to 600 ms) never block the event loop. Each task is short and bounded.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use napi::bindgen_prelude::*;
use shoal_core::membership::Meta;
use shoal_core::native::net::Node as CoreNode;

use super::config::{Plan, StartOptions};
use super::Node;
use crate::errors::{OrThrow, Outcome};

/// `Node.start`: resolves the addresses and starts the core node. Options that fail
/// their checks reject the promise too (rather than throwing), so every failure of a
/// start arrives the same way.
pub struct Start {
    plan: Option<Outcome<Plan>>,
    meta: Meta,
}

impl Start {
    /// Checks the options (on the main thread).
    pub fn new(options: StartOptions) -> Start {
        let plan = Plan::new(options);
        Start {
            meta: plan
                .as_ref()
                .map(|p| p.cfg.meta.clone())
                .unwrap_or_default(),
            plan: Some(plan),
        }
    }
}

impl Task for Start {
    type Output = Outcome<CoreNode>;
    type JsValue = Node;

    fn compute(&mut self) -> Result<Self::Output> {
        let Some(plan) = self.plan.take() else {
            return Err(Error::from_reason("Node.start ran twice"));
        };
        Ok(plan
            .and_then(Plan::resolve)
            .and_then(|cfg| CoreNode::start(cfg).map_err(Into::into)))
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> Result<Node> {
        let core = output.or_throw(&env)?;
        Ok(Node::new(core, self.meta.clone()))
    }
}

/// `node.close()`: leaves the cluster and joins the node's threads.
pub struct Close {
    core: Option<CoreNode>,
    stopped: Arc<AtomicBool>,
}

impl Close {
    /// Closes `core`, or (`None`: closed before) waits for the earlier close to finish.
    pub fn new(core: Option<CoreNode>, stopped: Arc<AtomicBool>) -> Close {
        Close { core, stopped }
    }
}

impl Task for Close {
    type Output = ();
    type JsValue = ();

    fn compute(&mut self) -> Result<()> {
        match self.core.take() {
            Some(n) => {
                n.leave();
                self.stopped.store(true, Ordering::Release);
            }
            None => {
                // Another close is leaving (bounded by its grace period and joins).
                while !self.stopped.load(Ordering::Acquire) {
                    std::thread::sleep(Duration::from_millis(5));
                }
            }
        }
        Ok(())
    }

    fn resolve(&mut self, _env: Env, _output: ()) -> Result<()> {
        Ok(())
    }
}
