//! The secure datagram envelope: [`Codec`] seals payloads into datagrams of at most
//! [`MAX_DATAGRAM`] bytes and opens (verifies, decrypts, replay-filters) received ones.
//!
//! This module owns the sealing and opening procedure and the order of the checks. It
//! does not own the byte layout ([`header`](super::header)), the cryptography
//! ([`crypto`](super::crypto)), keys ([`Keyring`]) or replay bookkeeping
//! ([`replay`](super::replay)). It never does I/O, never reads a clock or an OS random
//! source: the sender session comes from the caller.
//!
//! # Modes
//!
//! * **Plain** (no keyring): header and payload. Labelled and replay-filtered, so
//!   clusters sharing a network do not mix and duplicates are dropped, but anyone can
//!   read or forge datagrams. Only the label's 32-bit hash is checked.
//! * **Authenticated** (keyring, `encrypt: false`): a 16-byte tag, HMAC-SHA256
//!   truncated to 16 bytes over the label binding, the header and the payload.
//! * **Encrypted** (keyring, `encrypt: true`): XChaCha20-Poly1305 with the payload as
//!   plaintext, the label binding and the header as associated data, and the 16-byte
//!   Poly1305 tag.
//!
//! A receiver with a keyring accepts both authenticated and encrypted datagrams (each
//! needs a key from its ring, so an outsider can forge neither). Its own `encrypt`
//! setting only chooses how it seals. That lets a running cluster turn encryption on
//! (or off) one member at a time, like a key rotation. [`Opened::mode`] tells the
//! caller which mode a datagram used. A receiver without a keyring rejects protected
//! datagrams ([`Reject::UnexpectedAuth`]), and a receiver with one rejects plain
//! datagrams ([`Reject::MissingAuth`]).
//!
//! # Nonces
//!
//! The XChaCha20 nonce is `LE64(session) ‖ LE64(sequence) ‖ 8 zero bytes`. A nonce must
//! never repeat under one key, and it does not:
//!
//! * within one codec the sequence number strictly increases and never wraps
//!   ([`SealError::SequenceExhausted`] after 2^64 datagrams), and a codec cannot be
//!   cloned;
//! * different codecs (other members, or the same member after a restart) use
//!   different sessions, because the caller draws each session from its RNG when it
//!   creates the codec. Two of `n` codecs sharing a key pick the same 64-bit session
//!   with probability about `n² / 2^65` (below 10^-10 for a million restarts of a
//!   thousand members); a fixed or persisted session would break this guarantee.
//!
//! The sequence number is also what the replay window checks, and both numbers are in
//! the authenticated header, so a nonce cannot be changed without failing the tag.

use alloc::string::String;
use alloc::vec::Vec;

use super::buf::Writer;
use super::counters::RejectCounters;
use super::crypto::{label_binding, KeyState};
use super::error::{Reject, SealError};
use super::header::{label_hash, Header, Mode, HEADER_LEN, TAG_LEN};
use super::keyring::Keyring;
use super::replay::{ReplayConfig, ReplayFilter};
use crate::Error;

/// Largest datagram [`Codec::seal`] produces and [`Codec::open`] accepts, in bytes. It
/// fits a 1500-byte Ethernet MTU with room for IPv6, UDP and tunnel headers.
pub const MAX_DATAGRAM: usize = 1400;

/// How a [`Codec`] seals and which datagrams it accepts.
#[derive(Debug, Clone)]
pub struct CodecConfig {
    /// The cluster label. Datagrams of other labels are rejected; with a keyring the
    /// whole label is authenticated, not just its hash.
    pub label: String,
    /// Keys to authenticate (and optionally encrypt) with; `None` for plain mode.
    pub keyring: Option<Keyring>,
    /// Seal in encrypted mode instead of authenticated mode (needs a keyring).
    pub encrypt: bool,
    /// Replay window parameters.
    pub replay: ReplayConfig,
}

impl CodecConfig {
    /// Plain mode (no keyring) for `label`, with the default replay window.
    pub fn new(label: impl Into<String>) -> Self {
        CodecConfig {
            label: label.into(),
            keyring: None,
            encrypt: false,
            replay: ReplayConfig::default(),
        }
    }
}

/// A received datagram that passed every check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Opened<'o> {
    /// The payload (decrypted in encrypted mode), stored in the caller's buffer.
    pub payload: &'o [u8],
    /// The sender's session.
    pub session: u64,
    /// The datagram's sequence number within that session.
    pub sequence: u64,
    /// How the datagram was protected.
    pub mode: Mode,
}

/// Seals outgoing datagrams and opens incoming ones for one member.
///
/// One codec per member (and per restart): it holds the member's sender session and
/// sequence counter, the replay windows of the sessions it receives from, and the
/// rejection counters. It is deliberately not `Clone` (two copies would reuse
/// nonces).
#[derive(Debug)]
pub struct Codec {
    label_hash: u32,
    /// `"shoal/wire/v1\0" ‖ varint(len) ‖ label`, authenticated by every tag.
    binding: Vec<u8>,
    keyring: Option<Keyring>,
    /// Derived state of each keyring key, primary first; empty without a keyring.
    keys: Vec<KeyState>,
    encrypt: bool,
    session: u64,
    /// `None` once every sequence number has been used.
    next_sequence: Option<u64>,
    replay: ReplayFilter,
    rejects: RejectCounters,
    /// Scratch for `binding ‖ header` (AEAD associated data), reused.
    associated: Vec<u8>,
}

impl Codec {
    /// A codec for `config` sealing as sender `session`.
    ///
    /// `session` must be fresh for every codec a process creates, drawn from the
    /// caller's random number generator (see the module docs on nonces).
    ///
    /// Errors: [`Error::InvalidConfig`] if `encrypt` is set without a keyring or the
    /// replay parameters are out of range.
    pub fn new(config: CodecConfig, session: u64) -> Result<Self, Error> {
        config.replay.validate().map_err(Error::InvalidConfig)?;
        if config.encrypt && config.keyring.is_none() {
            return Err(Error::InvalidConfig("encryption needs a keyring"));
        }
        let binding = label_binding(&config.label);
        let mut codec = Codec {
            label_hash: label_hash(&config.label),
            associated: Vec::with_capacity(binding.len() + HEADER_LEN),
            binding,
            keyring: None,
            keys: Vec::new(),
            encrypt: config.encrypt,
            session,
            next_sequence: Some(0),
            replay: ReplayFilter::new(config.replay),
            rejects: RejectCounters::default(),
        };
        codec.install(config.keyring);
        Ok(codec)
    }

    fn install(&mut self, keyring: Option<Keyring>) {
        self.keys.clear();
        if let Some(ring) = &keyring {
            self.keys
                .extend(ring.keys().map(|k| KeyState::new(k, &self.binding)));
        }
        self.keyring = keyring;
    }

    /// Replaces the keyring (e.g. after a rotation step), keeping the session, the
    /// sequence counter, the replay windows and the counters. The payload budget
    /// ([`max_payload`](Codec::max_payload)) changes when switching to or from plain
    /// mode.
    ///
    /// Errors: [`Error::InvalidConfig`] when removing the keyring of an encrypting
    /// codec (turn encryption off first); the codec is then unchanged.
    pub fn set_keyring(&mut self, keyring: Option<Keyring>) -> Result<(), Error> {
        if self.encrypt && keyring.is_none() {
            return Err(Error::InvalidConfig("encryption needs a keyring"));
        }
        self.install(keyring);
        Ok(())
    }

    /// Switches sealing between encrypted and authenticated mode (receiving accepts
    /// both either way).
    ///
    /// Errors: [`Error::InvalidConfig`] when turning encryption on without a keyring.
    pub fn set_encrypt(&mut self, encrypt: bool) -> Result<(), Error> {
        if encrypt && self.keyring.is_none() {
            return Err(Error::InvalidConfig("encryption needs a keyring"));
        }
        self.encrypt = encrypt;
        Ok(())
    }

    /// The current keyring, if any.
    pub fn keyring(&self) -> Option<&Keyring> {
        self.keyring.as_ref()
    }

    /// The mode [`seal`](Codec::seal) uses.
    pub fn mode(&self) -> Mode {
        match (self.keys.is_empty(), self.encrypt) {
            (true, _) => Mode::Plain,
            (false, false) => Mode::Authenticated,
            (false, true) => Mode::Encrypted,
        }
    }

    /// This codec's sender session.
    pub fn session(&self) -> u64 {
        self.session
    }

    /// The sequence number the next sealed datagram will carry (`None` when exhausted).
    pub fn next_sequence(&self) -> Option<u64> {
        self.next_sequence
    }

    /// The largest payload [`seal`](Codec::seal) accepts in the current mode:
    /// [`MAX_DATAGRAM`] minus the mode's [`overhead`](Mode::overhead) (1372 bytes in
    /// plain mode, 1356 otherwise).
    pub fn max_payload(&self) -> usize {
        MAX_DATAGRAM - self.mode().overhead()
    }

    /// Rejections so far, per reason.
    pub fn rejects(&self) -> &RejectCounters {
        &self.rejects
    }

    /// Seals `payload` into `out` (whose previous contents are replaced) with the
    /// primary key, and advances the sequence number.
    ///
    /// Errors (nothing is consumed, `out` is left empty): [`SealError::TooLarge`] when
    /// `payload` exceeds [`max_payload`](Codec::max_payload),
    /// [`SealError::SequenceExhausted`] after 2^64 datagrams.
    pub fn seal(&mut self, payload: &[u8], out: &mut Vec<u8>) -> Result<(), SealError> {
        out.clear();
        let mode = self.mode();
        let max = MAX_DATAGRAM - mode.overhead();
        if payload.len() > max {
            return Err(SealError::TooLarge {
                len: payload.len(),
                max,
            });
        }
        let sequence = self.next_sequence.ok_or(SealError::SequenceExhausted)?;
        let key = self.keys.first();
        let header = Header {
            mode,
            label_hash: self.label_hash,
            fingerprint: key.map_or(0, KeyState::fingerprint),
            session: self.session,
            sequence,
        };
        out.reserve(mode.overhead() + payload.len());
        header.write(&mut Writer::new(out));
        out.extend_from_slice(payload);
        match (mode, key) {
            (Mode::Authenticated, Some(key)) => {
                let tag = key.tag(out);
                out.extend_from_slice(&tag);
            }
            (Mode::Encrypted, Some(key)) => {
                self.associated.clear();
                self.associated.extend_from_slice(&self.binding);
                self.associated.extend_from_slice(&out[..HEADER_LEN]);
                let tag = key.encrypt(
                    self.session,
                    sequence,
                    &self.associated,
                    &mut out[HEADER_LEN..],
                );
                match tag {
                    Some(tag) => out.extend_from_slice(&tag),
                    // The cipher refused the length (it only does so beyond 256 GiB,
                    // so never for a datagram); fail closed rather than send untagged.
                    None => {
                        out.clear();
                        return Err(SealError::TooLarge {
                            len: payload.len(),
                            max,
                        });
                    }
                }
            }
            _ => {}
        }
        self.next_sequence = sequence.checked_add(1);
        Ok(())
    }

    /// Opens a received datagram: checks size, header, label and mode, verifies the
    /// tag in constant time (decrypting in encrypted mode), then checks and updates the
    /// sender's replay window, and only then returns the payload, stored in `out`
    /// (whose previous contents are replaced).
    ///
    /// A rejected datagram leaves `out` empty, changes no replay state, and increments
    /// its reason's counter in [`rejects`](Codec::rejects).
    pub fn open<'o>(
        &mut self,
        datagram: &[u8],
        out: &'o mut Vec<u8>,
    ) -> Result<Opened<'o>, Reject> {
        out.clear();
        match self.check(datagram, out) {
            Ok(header) => Ok(Opened {
                payload: out.as_slice(),
                session: header.session,
                sequence: header.sequence,
                mode: header.mode,
            }),
            Err(reason) => {
                out.clear();
                self.rejects.record(&reason);
                Err(reason)
            }
        }
    }

    /// Every check of [`open`](Codec::open), in order; the payload lands in `out`.
    fn check(&mut self, datagram: &[u8], out: &mut Vec<u8>) -> Result<Header, Reject> {
        if datagram.len() > MAX_DATAGRAM {
            return Err(Reject::TooLong {
                len: datagram.len(),
            });
        }
        let header = Header::parse(datagram)?;
        if header.label_hash != self.label_hash {
            return Err(Reject::LabelMismatch);
        }
        let (head, body) = datagram.split_at(HEADER_LEN);
        if header.mode == Mode::Plain {
            if !self.keys.is_empty() {
                return Err(Reject::MissingAuth);
            }
            self.replay.accept(header.session, header.sequence)?;
            out.extend_from_slice(body);
            return Ok(header);
        }
        if self.keys.is_empty() {
            return Err(Reject::UnexpectedAuth);
        }
        if body.len() < TAG_LEN {
            return Err(Reject::TooShort {
                len: datagram.len(),
            });
        }
        let key = self
            .keys
            .iter()
            .find(|k| k.fingerprint() == header.fingerprint)
            .ok_or(Reject::UnknownKey {
                fingerprint: header.fingerprint,
            })?;
        let (payload, tag) = body.split_at(body.len() - TAG_LEN);
        if header.mode == Mode::Encrypted {
            self.associated.clear();
            self.associated.extend_from_slice(&self.binding);
            self.associated.extend_from_slice(head);
            out.resize(payload.len(), 0);
            let valid = key.decrypt(
                header.session,
                header.sequence,
                &self.associated,
                payload,
                out,
                tag,
            );
            if !valid {
                return Err(Reject::BadTag);
            }
            self.replay.accept(header.session, header.sequence)?;
        } else {
            if !key.verify(&datagram[..datagram.len() - TAG_LEN], tag) {
                return Err(Reject::BadTag);
            }
            self.replay.accept(header.session, header.sequence)?;
            out.extend_from_slice(payload);
        }
        Ok(header)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{Key, Reader};

    fn keyed(encrypt: bool, session: u64) -> Codec {
        let config = CodecConfig {
            keyring: Some(Keyring::new(Key::from_bytes([9; 32]))),
            encrypt,
            ..CodecConfig::new("unit")
        };
        Codec::new(config, session).unwrap()
    }

    #[test]
    fn config_errors() {
        let enc_without_keys = CodecConfig {
            encrypt: true,
            ..CodecConfig::new("x")
        };
        assert!(matches!(
            Codec::new(enc_without_keys, 1),
            Err(Error::InvalidConfig(_))
        ));
        let bad_window = CodecConfig {
            replay: ReplayConfig {
                window: 65,
                max_sessions: 1,
            },
            ..CodecConfig::new("x")
        };
        assert!(matches!(
            Codec::new(bad_window, 1),
            Err(Error::InvalidConfig(_))
        ));
        let mut plain = Codec::new(CodecConfig::new("x"), 1).unwrap();
        assert!(plain.set_encrypt(true).is_err());
        assert_eq!(plain.mode(), Mode::Plain);
        let mut enc = keyed(true, 1);
        assert!(enc.set_keyring(None).is_err());
        assert_eq!(enc.mode(), Mode::Encrypted);
        enc.set_encrypt(false).unwrap();
        enc.set_keyring(None).unwrap();
        assert_eq!(enc.mode(), Mode::Plain);
    }

    #[test]
    fn sealed_header_carries_session_sequence_and_fingerprint() {
        let mut c = keyed(false, 0xfeed);
        let mut out = Vec::new();
        for expect in 0..3u64 {
            c.seal(b"x", &mut out).unwrap();
            let h = Header::parse(&out).unwrap();
            assert_eq!(h.session, 0xfeed);
            assert_eq!(h.sequence, expect);
            assert_eq!(h.fingerprint, Key::from_bytes([9; 32]).fingerprint());
            assert_eq!(h.label_hash, label_hash("unit"));
            assert_eq!(h.mode, Mode::Authenticated);
            let mut r = Reader::new(&out[HEADER_LEN..]);
            assert_eq!(r.u8(), Ok(b'x'));
            assert_eq!(r.remaining(), TAG_LEN);
        }
        assert_eq!(c.next_sequence(), Some(3));
    }

    #[test]
    fn sequence_exhaustion_stops_sealing() {
        let mut c = keyed(true, 1);
        c.next_sequence = Some(u64::MAX);
        let mut out = Vec::new();
        c.seal(b"last", &mut out).unwrap();
        assert_eq!(Header::parse(&out).unwrap().sequence, u64::MAX);
        assert_eq!(c.next_sequence(), None);
        assert_eq!(
            c.seal(b"again", &mut out),
            Err(SealError::SequenceExhausted)
        );
        assert!(out.is_empty());
        // The last datagram still opens.
        let mut sealed = Vec::new();
        c.next_sequence = Some(u64::MAX);
        c.seal(b"last", &mut sealed).unwrap();
        let mut rx = keyed(true, 2);
        let mut payload = Vec::new();
        let opened = rx.open(&sealed, &mut payload).unwrap();
        assert_eq!(opened.sequence, u64::MAX);
        assert_eq!(opened.payload, b"last");
    }

    #[test]
    fn rejected_open_leaves_out_empty() {
        let mut tx = keyed(true, 1);
        let mut rx = keyed(true, 2);
        let mut datagram = Vec::new();
        tx.seal(b"payload", &mut datagram).unwrap();
        let mut out = Vec::from(&b"stale"[..]);
        let last = datagram.len() - 1;
        datagram[last] ^= 1;
        assert_eq!(rx.open(&datagram, &mut out), Err(Reject::BadTag));
        assert!(out.is_empty());
        assert_eq!(rx.rejects().bad_tag, 1);
    }
}
