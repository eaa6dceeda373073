//! Routing between hosts: keyed payloads go over TCP to the node of the key's owner,
//! which hands them to its application through a sink (typically the owner's bus
//! endpoint, [`BusTransport`](crate::native::router::BusTransport)).
//!
//! Guarantees: a payload the sender saw acknowledged ([`Acked`]) was handed to the sink
//! of the acknowledging node exactly once — resends carry the same idempotency key and
//! receivers drop repeats. A payload that is not acknowledged stays pending and is sent
//! again, to whoever owns its key by then. One case is outside any protocol's reach:
//! an owner that delivers a payload and dies before its acknowledgement leaves, so the
//! new owner gets it too; the first copy went to an application on the failed host.
//!
//! The TCP connections are not authenticated (the gossip datagrams are): run routing
//! on networks you trust.
//!
//! Files: `frame.rs` (the frames), `outbox.rs` (sending: [`TcpTransport`]),
//! `inbox.rs` (receiving: de-duplication and the sink).

pub(crate) mod frame;
pub(crate) mod inbox;
mod outbox;

pub use outbox::{Acked, MsgId, RouteConfig, RouteStats, TcpTransport};
