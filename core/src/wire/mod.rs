//! The wire layer: a secure envelope for gossip datagrams, and the byte reader/writer
//! that messages are encoded with.
//!
//! * [`Codec`] seals payloads into datagrams of at most [`MAX_DATAGRAM`] (1400) bytes
//!   and opens received ones: versioned header, cluster label, HMAC-SHA256
//!   authentication or XChaCha20-Poly1305 encryption with a [`Keyring`] (several
//!   accepted keys, one primary, so keys rotate without downtime), and a per-session
//!   replay window. A rejected datagram is a typed [`Reject`] and a count in
//!   [`RejectCounters`].
//! * [`Writer`] and [`Reader`] encode and decode the primitives (fixed integers,
//!   varints, length-prefixed bytes and strings) that message formats are built from;
//!   [`varint_len`] predicts sizes so callers can pack payloads up to
//!   [`Codec::max_payload`] exactly.
//!
//! This module does no I/O and reads no clock or OS random source: the sender session
//! comes from the caller's RNG. Nothing here panics on any input: decoding failures are
//! [`DecodeError`]s, rejected datagrams are [`Reject`]s.
//!
//! The header layout is documented in `header.rs` (28 bytes; 16 more for the tag in
//! authenticated and encrypted modes), the nonce construction and the modes on
//! [`Codec`]'s module (`envelope.rs`), rotation on [`Keyring`].
//!
//! # Example
//!
//! ```
//! use shoal_core::wire::{Codec, CodecConfig, Key, Keyring, Mode, Reader, Reject, Writer};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let key = Key::from_hex("8f2c6a0e9d1b47f3a5c8e2d4b6f81a3c5e7092b4d6f8a1c3e5072b4d6f8a9c1e")?;
//! let config = CodecConfig {
//!     keyring: Some(Keyring::new(key)),
//!     encrypt: true,
//!     ..CodecConfig::new("prod-eu")
//! };
//! // Sessions come from the caller's RNG, fresh for every codec.
//! let mut alice = Codec::new(config.clone(), 0x6a1f_93c2_0d4e_b785)?;
//! let mut bob = Codec::new(config, 0x0c37_e1a9_5b26_f4d0)?;
//!
//! // Encode a message into a reused buffer, then seal it into a datagram.
//! let mut message = Vec::new();
//! Writer::new(&mut message).u8(1).str("alice").varint(42);
//! assert!(message.len() <= alice.max_payload());
//! let mut datagram = Vec::new();
//! alice.seal(&message, &mut datagram)?;
//!
//! // Bob opens it into his own reused buffer and decodes it.
//! let mut payload = Vec::new();
//! let opened = bob.open(&datagram, &mut payload)?;
//! assert_eq!(opened.mode, Mode::Encrypted);
//! let mut r = Reader::new(opened.payload);
//! assert_eq!((r.u8()?, r.str()?, r.varint()?), (1, "alice", 42));
//! r.finish()?;
//!
//! // The same datagram again is a replay: rejected and counted.
//! assert_eq!(bob.open(&datagram, &mut payload), Err(Reject::Replayed));
//! assert_eq!(bob.rejects().replayed, 1);
//! # Ok(())
//! # }
//! ```

mod buf;
mod counters;
mod crypto;
mod envelope;
mod error;
mod header;
mod keyring;
mod replay;

pub use buf::{varint_len, Reader, Writer};
pub use counters::RejectCounters;
pub use envelope::{Codec, CodecConfig, Opened, MAX_DATAGRAM};
pub use error::{DecodeError, KeyringError, Reject, SealError};
pub use header::{Mode, FORMAT_VERSION, HEADER_LEN, TAG_LEN};
pub use keyring::{Key, Keyring};
pub use replay::ReplayConfig;
