//! Networked agents: a [`Node`] runs gossip membership over UDP on a thread of its own,
//! keeps placement in step with the live members, and answers control requests (such
//! as `shoal status`) and routed payloads over TCP on the same port.
//!
//! Files: `config.rs` ([`NodeConfig`]), `node.rs` (the handle), `driver.rs` (the UDP
//! loop around the sans-IO core), `tcp.rs` (the listener), `control.rs` (framing and
//! [`query_status`]), `status.rs` ([`NodeStatus`] and its encoding), `state.rs` (full-state sync over TCP), `route/` (routing between hosts:
//! [`TcpTransport`] and the receiving inbox), `impair.rs` (injected loss and
//! delay, [`Impairment`]), `error.rs`.
//!
//! # Example
//!
//! ```
//! use shoal_core::native::net::{Node, NodeConfig};
//! use std::time::{Duration, Instant};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let a = Node::start(NodeConfig::new("127.0.0.1:0".parse()?))?;
//! let mut cfg = NodeConfig::new("127.0.0.1:0".parse()?);
//! cfg.seeds = vec![a.local_addr()];
//! let b = Node::start(cfg)?;
//! let deadline = Instant::now() + Duration::from_secs(10);
//! while a.members().len() < 2 || b.members().len() < 2 {
//!     assert!(Instant::now() < deadline, "no convergence");
//!     std::thread::sleep(Duration::from_millis(20));
//! }
//! // Both place keys alike.
//! assert_eq!(a.locate("user:42"), b.locate("user:42"));
//! # Ok(())
//! # }
//! ```

mod config;
mod control;
mod driver;
mod error;
mod impair;
mod node;
mod random;
mod route;
mod state;
mod status;
mod tcp;

pub use config::NodeConfig;
pub use control::{query_status, MAX_FRAME};
pub use error::NetError;
pub use impair::Impairment;
pub use node::{Events, Node};
pub use route::{Acked, MsgId, RouteConfig, RouteStats, TcpTransport};
pub use status::NodeStatus;
