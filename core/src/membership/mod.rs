//! Gossip membership: who is alive, without a coordinator.
//!
//! A sans-IO SWIM protocol with the Lifeguard extensions, anti-entropy by hashed
//! summaries, and the source article's merge rule kept as the order within one
//! incarnation. See [`Membership`] for the driving loop and the files of this folder
//! for each part:
//!
//! * `member.rs` — the record and its merge order ([`Member::precedence`]);
//! * `table.rs` — [`MemberTable`], the shared, summarised member trie;
//! * `probe.rs` — probes, indirect probes, suspicion, local health;
//! * `apply.rs` — merging records, events, refutation;
//! * `broadcast.rs`, `sync.rs` — dissemination, push-pull anti-entropy, reconnects;
//! * `message.rs` — the packet encoding inside the [`wire`](crate::wire) envelope;
//! * `placement.rs` — [`PlacementFollower`], a ring or partition table that follows
//!   the live members.

mod apply;
mod broadcast;
mod config;
mod engine;
mod event;
mod member;
pub(crate) mod message;
mod placement;
mod probe;
mod sync;
mod table;

pub use config::Config;
pub use engine::{DatagramError, Membership};
pub use event::{Event, Stats, Transmit};
pub use member::{merge, Member, Meta, Status};
pub use message::MAX_NAME_LEN;
pub use placement::{Layout, PlacementFollower, PlacementSpec};
pub use table::{Agg, MemberTable};
